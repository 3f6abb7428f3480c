//! Certificate clients of a setup server: `rampart client add laptop`, the exported .p12
//! imported as is by swanctl (swanctl/pkcs12) and by `charon-cmd --profile ikev2-pub --p12`;
//! `rampart client revoke laptop` while it is connected tears its SAs down and refuses it from
//! then on with one server line naming the certificate.

use testbed::{ping, wait_until, CharonCmd};

use super::world::*;

/// `rampart client add laptop`; the .p12 password it prints.
fn add_laptop(w: &World) -> String {
    let add = w.client_cmd(&["add", "laptop"]);
    field(&add, "P12 password:")
}

#[test]
fn exported_p12_with_swanctl_then_live_revocation() {
    if !ready() {
        return;
    }
    let w = World::new("sup", &[]);
    let p12_pw = add_laptop(&w);
    let charon = w.charon();
    // The exported .p12 as is, in the pkcs12 folder beside swanctl.conf; charon finds key and
    // certificate by the identity.
    std::fs::copy(
        w.etc.join("export/laptop/laptop.p12"),
        charon.dir().join("pkcs12/laptop.p12"),
    )
    .unwrap();
    // charon's default send_cert = ifasked: it sends the certificate because the server asks
    // (CERTREQ in IKE_SA_INIT).
    let conf = swan_conf(
        "crt",
        "auth = pubkey\n      id = laptop",
        &w.ca(),
        &format!("  pkcs12-laptop {{\n    file = laptop.p12\n    secret = \"{p12_pw}\"\n  }}"),
    );
    charon.load_config(&conf);
    let out = charon.initiate("crt");
    assert!(
        out.ok(),
        "certificate initiate failed: {out}\n{}",
        w.server.log()
    );
    assert!(
        ping(&w.cli, LAN_HOST, 3),
        "lan host unreachable with the p12"
    );
    assert!(
        ping(&w.cli, INET_HOST, 3),
        "internet host unreachable (NAT)"
    );

    // Revoke while connected: the SA goes, a retry is refused with one log line.
    let rev = w.client_cmd(&["revoke", "laptop"]);
    assert!(rev.contains("Daemon reloaded."), "{rev}");
    assert!(rev.contains("Terminated IKE SA"), "{rev}");
    assert!(
        wait_until(WAIT, || charon.list_sas().is_empty()),
        "{}",
        charon.list_sas_text()
    );
    assert!(w.server.ike_sas().is_empty());
    let out = charon.initiate("crt");
    assert!(!out.ok(), "revoked client got in: {out}");
    let refused = w.server_lines(&["revoked", "laptop"]);
    assert_eq!(refused.len(), 1, "{}", w.server.log());
    assert!(refused[0].contains("refused"), "{}", refused[0]);
    assert!(w.server.ike_sas().is_empty());
}

/// `charon-cmd --profile ikev2-pub --p12 laptop.p12`, the .p12 password on stdin.
#[test]
fn exported_p12_with_charon_cmd() {
    if !ready() || !charon_cmd_ready() {
        return;
    }
    charon_cmd_p12(World::new("spc", &[]));
}

/// The same against setup's configuration with rw-eap before rw-cert, as an operator might
/// write it by hand: the responder's IKE_SA_INIT must carry the CERTREQ although the
/// connection it matched first takes EAP.
#[test]
fn exported_p12_with_charon_cmd_eap_connection_first() {
    if !ready() || !charon_cmd_ready() {
        return;
    }
    charon_cmd_p12(World::with_edit("spe", &[], eap_before_cert));
}

/// Moves `[connections.rw-cert]` and its subtables after those of rw-eap.
fn eap_before_cert(conf: String) -> String {
    let cert = conf.find("[connections.rw-cert]").expect("rw-cert");
    let eap = conf.find("[connections.rw-eap]").expect("rw-eap");
    let psk = conf.find("[connections.rw-psk]").expect("rw-psk");
    assert!(cert < eap && eap < psk, "{conf}");
    format!(
        "{}{}{}{}",
        &conf[..cert],
        &conf[eap..psk],
        &conf[cert..eap],
        &conf[psk..]
    )
}

fn charon_cmd_p12(w: World) {
    let p12_pw = add_laptop(&w);
    let p12 = w.etc.join("export/laptop/laptop.p12").display().to_string();
    let ca = w.ca().display().to_string();
    let mut cmd = CharonCmd::start(
        &w.cli,
        &w.dir.subdir("cmd"),
        &[
            "--host",
            SERVER,
            "--identity",
            "laptop",
            "--remote-identity",
            SERVER_ID,
            "--profile",
            "ikev2-pub",
            "--p12",
            &p12,
            "--cert",
            &ca,
            "--remote-ts",
            "198.51.100.0/26",
            "--remote-ts",
            "192.0.2.0/24",
        ],
        &[&p12_pw],
    );
    assert!(
        cmd.wait_log("CHILD_SA cmd{1} established", WAIT),
        "no CHILD_SA:\n{}\n{}",
        cmd.log(),
        w.server.log()
    );
    assert!(
        cmd.log()
            .contains(&format!("installing new virtual IP {FIRST_VIP}")),
        "{}",
        cmd.log()
    );
    assert!(ping(&w.cli, LAN_HOST, 3), "lan host unreachable");
    assert!(
        ping(&w.cli, INET_HOST, 3),
        "internet host unreachable (NAT)"
    );
    assert!(cmd.stop(), "charon-cmd did not exit on SIGTERM");
    assert!(
        wait_until(WAIT, || w.server.ike_sas().is_empty()),
        "{}",
        w.server.log()
    );
}
