//! Libreswan 4.10 (Debian 12's, unpacked by `testbed::libreswan`) <-> Rampart, net to net over
//! the `testbed::Topology` addresses: the IKE SA with a PSK and with certificates, Libreswan as
//! initiator and as responder.
//!
//! The kernel here has no ESP, so Libreswan cannot install a Child SA: as initiator it logs the
//! XFRM error and deletes its IKE SA without notifying (then schedules a revival); as responder
//! it answers IKE_AUTH with TS_UNACCEPTABLE, keeping the IKE SA (RFC 7296 §1.2). The tests
//! assert what this kernel allows: the IKE SA established and authenticated on both sides with
//! the configured algorithms, and, where Libreswan keeps it, a working INFORMATIONAL exchange
//! (Rampart's DELETE is processed).

use std::time::Duration;

use testbed::interop::{start_rampart, wait_no_sas};
use testbed::libreswan::{ensure_unpacked, Pluto, LIBRESWAN_TOOLS};
use testbed::privilege::in_ci;
use testbed::swan_pki::{issue, KeyKind, PKI_TOOLS};
use testbed::topology::addr;
use testbed::{Auth, Peer, Side, Topology};

use super::rampart;

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const ESP: &str = "aes256gcm16";

/// Root, tools and the unpacked package; `None` (after saying why) when the test cannot run.
fn prerequisites() -> Option<std::path::PathBuf> {
    let mut tools = LIBRESWAN_TOOLS.to_vec();
    tools.extend_from_slice(PKI_TOOLS);
    tools.push("ip");
    if !testbed::require_root_and_tools(&tools) {
        return None;
    }
    match ensure_unpacked() {
        Ok(root) => Some(root),
        Err(e) if in_ci() => panic!("CI=true and Libreswan is not available: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            None
        }
    }
}

/// Auth::Cert for gw1 and gw2 from one CA.
fn certs(topo: &Topology, kind: KeyKind) -> (Auth, Auth) {
    let files = issue(
        &topo.subdir("pki"),
        kind,
        &["gw1.example.org", "gw2.example.org"],
    );
    (Auth::Cert(files[0].clone()), Auth::Cert(files[1].clone()))
}

/// Rampart on gw1, pluto on gw2; `libreswan_initiates` picks the roles.
fn case(prefix: &str, libreswan_initiates: bool, certs_of: Option<KeyKind>) {
    let Some(root) = prerequisites() else { return };
    let topo = Topology::net2net(prefix);
    let mut ours = Side::psk(
        &[addr::GW1_V4],
        &[addr::GW2_V4],
        ("gw1.example.org", "gw2.example.org"),
        (&[addr::LAN1_V4], &[addr::LAN2_V4]),
        IKE,
        ESP,
    );
    let mut theirs = ours.mirror();
    if let Some(kind) = certs_of {
        let (a1, a2) = certs(&topo, kind);
        ours.auth = a1;
        theirs.auth = a2;
    }
    ours.start = !libreswan_initiates;
    let (r, mut p) = if libreswan_initiates {
        let r = start_rampart(
            rampart(),
            &topo.gw1,
            &topo.subdir("gw1"),
            &ours,
            &format!("{prefix}t"),
        );
        let p = Pluto::start(&root, &topo.gw2, &topo.subdir("gw2"), &theirs);
        let out = p.initiate();
        assert!(out.ok(), "whack --initiate failed: {out}");
        (r, p)
    } else {
        let p = Pluto::start(&root, &topo.gw2, &topo.subdir("gw2"), &theirs);
        let r = start_rampart(
            rampart(),
            &topo.gw1,
            &topo.subdir("gw1"),
            &ours,
            &format!("{prefix}t"),
        );
        (r, p)
    };
    let Peer::Rampart(d) = &r else { unreachable!() };

    // Rampart: an established IKE SA with Libreswan's identity and the configured proposal.
    let mut last = Vec::new();
    let up = testbed::wait_until(Duration::from_secs(20), || {
        last = d.ike_sas();
        last.iter().any(|s| s.state == "ESTABLISHED")
    });
    assert!(
        up,
        "Rampart has no established IKE SA with Libreswan: {last:?}\n--- Rampart log ---\n{}\n--- pluto log ---\n{}",
        r.log(),
        p.log_summary()
    );
    let sa = last
        .iter()
        .find(|s| s.state == "ESTABLISHED")
        .cloned()
        .unwrap_or_default();
    assert_eq!(sa.remote_id, "gw2.example.org", "{sa:?}");
    assert_eq!(sa.proposal, IKE, "{sa:?}");
    assert_eq!(sa.initiator, !libreswan_initiates, "{sa:?}");

    // Libreswan: established and authenticated Rampart.
    let role = if libreswan_initiates {
        "initiator"
    } else {
        "responder"
    };
    let want = format!("{role} established IKE SA");
    let established = testbed::wait_until(Duration::from_secs(10), || p.log().contains(&want));
    let summary = p.log_summary();
    assert!(
        established,
        "pluto did not log `{want}`:\n{summary}\n--- Rampart log ---\n{}",
        r.log()
    );
    let auth_line = summary
        .lines()
        .find(|l| l.contains(&want))
        .unwrap_or_default()
        .to_string();
    match certs_of {
        None => assert!(auth_line.contains("authby=secret"), "{auth_line}"),
        Some(_) => assert!(
            auth_line.contains("gw1.example.org") && auth_line.contains("Testbed CA"),
            "pluto must have checked Rampart's certificate against the CA: {auth_line}"
        ),
    }
    eprintln!("[{prefix}] pluto: {}", auth_line.trim());

    if libreswan_initiates {
        // Libreswan cannot install the child it negotiated (no ESP in this kernel).
        let xfrm_failed = testbed::wait_until(Duration::from_secs(10), || {
            p.log().contains("Function not implemented")
        });
        assert!(
            xfrm_failed,
            "expected Libreswan's XFRM failure:\n{}",
            p.log_summary()
        );
    } else {
        // Libreswan refused the child (it cannot install it) but keeps the IKE SA.
        let log = r.log();
        assert!(
            log.contains("TS_UNACCEPTABLE"),
            "expected Libreswan's TS_UNACCEPTABLE:\n{log}"
        );
        assert!(
            testbed::wait_until(Duration::from_secs(5), || p.ike_established_now()),
            "pluto lists no established IKE SA:\n{}",
            p.states()
        );
        // An INFORMATIONAL exchange on that IKE SA: Rampart's DELETE, processed by Libreswan.
        let out = r.terminate();
        assert!(out.ok(), "{out}");
        assert!(
            testbed::wait_until(Duration::from_secs(10), || !p.ike_established_now()),
            "pluto kept its IKE SA after Rampart's DELETE:\n{}\n{}",
            p.states(),
            p.log_summary()
        );
        assert!(wait_no_sas(&r, Duration::from_secs(10)), "{}", r.describe());
    }
    p.stop();
    drop(r);
}

#[test]
fn libreswan_initiator_psk() {
    case("lsip", true, None);
}

#[test]
fn libreswan_responder_psk() {
    case("lsrp", false, None);
}

#[test]
fn libreswan_initiator_rsa_certificates() {
    case("lsic", true, Some(KeyKind::Rsa));
}

#[test]
fn libreswan_responder_ecdsa_certificates() {
    case("lsrc", false, Some(KeyKind::Ecdsa));
}
