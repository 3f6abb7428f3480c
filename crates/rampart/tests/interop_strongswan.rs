//! Rampart <-> strongSwan 5.9 (kernel-libipsec) net to net in network namespaces: Rampart runs on
//! gw1, charon on gw2. Each case brings the tunnel up, checks both sides' SAs (states, SPIs
//! crosswise, selectors, UDP encapsulation, port 4500), pings h1 <-> h2 through it, tears it down
//! from one side and checks the wire carried only IKE and ESP-in-UDP (see `testbed::run_tunnel`).
//! Needs root; under CI=true a missing tool fails the test instead of skipping it.

use std::path::Path;

use testbed::{
    run_failure, run_tunnel, Failure, FailureCase, Family, Gw, Impl, Net2Net, Teardown, TunnelCase,
};

const GCM_IKE: &str = "aes256gcm16-prfsha256-x25519";
const GCM_ESP: &str = "aes256gcm16";
const CBC_IKE: &str = "aes128-sha256-ecp256";
const CBC_ESP: &str = "aes128-sha256";

fn rampart() -> Option<&'static Path> {
    Some(Path::new(env!("CARGO_BIN_EXE_rampart")))
}

fn net(outer: Family, ike: &str, esp: &str) -> Net2Net {
    let n = Net2Net::new(outer, ike, esp);
    // IPv6 outer cases also carry IPv6 inside: mixed IPv4 + IPv6 selectors.
    if outer == Family::V6 {
        n.with_inner_v6()
    } else {
        n
    }
}

/// One tunnel case: Rampart on gw1, strongSwan on gw2.
macro_rules! tunnel {
    ($name:ident, $prefix:literal, initiator = $init:expr, $outer:expr, $ike:expr, $esp:expr, $teardown:expr) => {
        #[test]
        fn $name() {
            run_tunnel(&TunnelCase {
                prefix: $prefix,
                gw1: Impl::Rampart,
                gw2: Impl::Strongswan,
                initiator: $init,
                net: net($outer, $ike, $esp),
                teardown: $teardown,
                rampart_bin: rampart(),
            });
        }
    };
}

// Rampart initiates (start_action = "start"); teardown alternates: rampart terminate, swanctl
// --terminate, stopping the daemon, stopping charon.
tunnel!(
    rampart_initiator_ipv4_gcm,
    "ri4g",
    initiator = Gw::Gw1,
    Family::V4,
    GCM_IKE,
    GCM_ESP,
    Teardown::Terminate(Gw::Gw1)
);
tunnel!(
    rampart_initiator_ipv4_cbc,
    "ri4c",
    initiator = Gw::Gw1,
    Family::V4,
    CBC_IKE,
    CBC_ESP,
    Teardown::Terminate(Gw::Gw2)
);
tunnel!(
    rampart_initiator_ipv6_gcm,
    "ri6g",
    initiator = Gw::Gw1,
    Family::V6,
    GCM_IKE,
    GCM_ESP,
    Teardown::Stop(Gw::Gw1)
);
tunnel!(
    rampart_initiator_ipv6_cbc,
    "ri6c",
    initiator = Gw::Gw1,
    Family::V6,
    CBC_IKE,
    CBC_ESP,
    Teardown::Stop(Gw::Gw2)
);

// strongSwan initiates (swanctl --initiate); Rampart responds.
tunnel!(
    rampart_responder_ipv4_gcm,
    "rr4g",
    initiator = Gw::Gw2,
    Family::V4,
    GCM_IKE,
    GCM_ESP,
    Teardown::Terminate(Gw::Gw2)
);
tunnel!(
    rampart_responder_ipv4_cbc,
    "rr4c",
    initiator = Gw::Gw2,
    Family::V4,
    CBC_IKE,
    CBC_ESP,
    Teardown::Terminate(Gw::Gw1)
);
tunnel!(
    rampart_responder_ipv6_gcm,
    "rr6g",
    initiator = Gw::Gw2,
    Family::V6,
    GCM_IKE,
    GCM_ESP,
    Teardown::Stop(Gw::Gw1)
);
tunnel!(
    rampart_responder_ipv6_cbc,
    "rr6c",
    initiator = Gw::Gw2,
    Family::V6,
    CBC_IKE,
    CBC_ESP,
    Teardown::Terminate(Gw::Gw1)
);

/// One failure case: Rampart on gw1 with `gw1`'s view, strongSwan on gw2 with `gw2`'s.
fn failure(prefix: &str, initiator: Gw, gw1: Net2Net, gw2: Net2Net, expect: Failure) {
    run_failure(&FailureCase {
        prefix,
        gw1: Impl::Rampart,
        gw2: Impl::Strongswan,
        initiator,
        gw1_net: gw1,
        gw2_net: gw2,
        expect,
        rampart_bin: rampart(),
    });
}

#[test]
fn rampart_initiator_wrong_psk() {
    let n = net(Family::V4, GCM_IKE, GCM_ESP);
    failure(
        "rip",
        Gw::Gw1,
        n.clone(),
        n.with_psk("not-the-same-psk-0123456789"),
        Failure::AuthenticationFailed,
    );
}

#[test]
fn rampart_responder_wrong_psk() {
    let n = net(Family::V4, GCM_IKE, GCM_ESP);
    failure(
        "rrp",
        Gw::Gw2,
        n.clone(),
        n.with_psk("not-the-same-psk-0123456789"),
        Failure::AuthenticationFailed,
    );
}

#[test]
fn rampart_initiator_proposal_mismatch() {
    let n = net(Family::V4, GCM_IKE, GCM_ESP);
    failure(
        "rim",
        Gw::Gw1,
        n.clone(),
        n.with_proposals(CBC_IKE, CBC_ESP),
        Failure::NoProposalChosen,
    );
}

#[test]
fn rampart_responder_proposal_mismatch() {
    let n = net(Family::V4, GCM_IKE, GCM_ESP);
    failure(
        "rrm",
        Gw::Gw2,
        n.clone(),
        n.with_proposals(CBC_IKE, CBC_ESP),
        Failure::NoProposalChosen,
    );
}

/// strongSwan rekeys the Child SA and then the IKE SA (CREATE_CHILD_SA, RFC 7296 §1.3.2/§1.3.3)
/// while h1 pings h2 continuously: new SPIs on both sides, exactly one tunnel left, and no ping
/// lost.
#[test]
fn strongswan_rekeys_child_and_ike_sa_without_loss() {
    use std::time::Duration;
    use testbed::topology::addr;
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = testbed::Topology::net2net("rrk");
    let net = net(Family::V4, GCM_IKE, GCM_ESP);
    let ours = testbed::Peer::start(Impl::Rampart, &topo, Gw::Gw1, &net, false, rampart());
    let swan = testbed::Peer::start(Impl::Strongswan, &topo, Gw::Gw2, &net, false, None);
    assert!(swan.initiate().ok(), "strongSwan could not initiate");
    let one_up = || {
        let (a, b) = (ours.sas(), swan.sas());
        a.len() == 1 && b.len() == 1 && a[0].is_up() && b[0].is_up()
    };
    assert!(
        testbed::wait_until(Duration::from_secs(10), one_up),
        "tunnel not up\n{}\n{}",
        ours.log(),
        swan.log()
    );
    let child_before = swan.sas()[0].spi_in.clone();
    let testbed::Peer::Charon(charon) = &swan else {
        unreachable!()
    };
    let ike_spi = |c: &testbed::Charon| {
        c.list_sas()
            .first()
            .map(|s| s.initiator_spi.clone())
            .unwrap_or_default()
    };
    let ike_before = ike_spi(charon);
    // 120 pings, 50 ms apart, across both rekeys.
    let pinger = topo
        .h1
        .command("ping")
        .args(["-c", "120", "-i", "0.05", "-W", "1", addr::H2_V4])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ping");
    std::thread::sleep(Duration::from_millis(800));
    let out = charon.swanctl("--rekey", &["--child", "net"]);
    assert!(out.ok(), "swanctl --rekey --child failed: {out}");
    assert!(
        testbed::wait_until(Duration::from_secs(10), || one_up()
            && swan.sas()[0].spi_in != child_before),
        "Child SA not rekeyed: {:?} / {:?}\n{}\n{}",
        ours.sas(),
        swan.sas(),
        ours.log(),
        swan.log()
    );
    let (a, b) = (ours.sas(), swan.sas());
    assert!(
        testbed::status::spi_eq(&a[0].spi_in, &b[0].spi_out)
            && testbed::status::spi_eq(&b[0].spi_in, &a[0].spi_out),
        "SPIs after the rekey: {a:?} / {b:?}"
    );
    std::thread::sleep(Duration::from_millis(800));
    let out = charon.swanctl("--rekey", &["--ike", "net2net"]);
    assert!(out.ok(), "swanctl --rekey --ike failed: {out}");
    assert!(
        testbed::wait_until(Duration::from_secs(10), || one_up()
            && ike_spi(charon) != ike_before),
        "IKE SA not rekeyed\n{}\n{}",
        ours.log(),
        swan.log()
    );
    let out = pinger.wait_with_output().expect("ping");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("120 packets transmitted, 120 received"),
        "pings lost during the rekeys:\n{text}\n{}",
        ours.log()
    );
    assert!(ours.log().contains("rekeyed"), "{}", ours.log());
}
