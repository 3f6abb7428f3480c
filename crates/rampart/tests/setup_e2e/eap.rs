//! EAP-MSCHAPv2 users of a setup server: the banner's user with swanctl and with `charon-cmd
//! --profile ikev2-eap`; a wrong password refused with one server log line.

use testbed::{ping, wait_until, CharonCmd};

use super::world::*;

/// swanctl as the banner's user: VIP from the pool, DNS, lan and internet host.
#[test]
fn banners_user_with_swanctl() {
    if !ready() {
        return;
    }
    let w = World::new("sue", &[]);
    let charon = w.charon();
    let conf = swan_conf(
        "eap",
        &eap_local(&w.user),
        &w.ca(),
        &eap_secret(&w.user, &w.password),
    );
    charon.load_config(&conf);
    let out = charon.initiate("eap");
    assert!(out.ok(), "EAP initiate failed: {out}\n{}", w.server.log());
    assert!(
        charon
            .log()
            .contains(&format!("installing new virtual IP {FIRST_VIP}")),
        "{}",
        charon.log()
    );
    let resolv = std::fs::read_to_string(charon.dir().join("resolv.conf")).unwrap_or_default();
    assert!(resolv.contains(&format!("nameserver {DNS}")), "{resolv}");
    assert!(ping(&w.cli, LAN_HOST, 3), "lan host unreachable over EAP");
    assert!(
        ping(&w.cli, INET_HOST, 3),
        "internet host unreachable (NAT)"
    );
    assert!(charon.terminate_ike("eap").ok());
    assert!(wait_until(WAIT, || w.server.ike_sas().is_empty()));
}

/// `charon-cmd --profile ikev2-eap` with the banner's user; the password it asks for on stdin.
#[test]
fn banners_user_with_charon_cmd() {
    if !ready() || !charon_cmd_ready() {
        return;
    }
    let w = World::new("suc", &[]);
    let ca = w.ca().display().to_string();
    let mut cmd = CharonCmd::start(
        &w.cli,
        &w.dir.subdir("cmd"),
        &[
            "--host",
            SERVER,
            "--identity",
            &w.user,
            "--remote-identity",
            SERVER_ID,
            "--profile",
            "ikev2-eap",
            "--cert",
            &ca,
            "--remote-ts",
            "198.51.100.0/26",
            "--remote-ts",
            "192.0.2.0/24",
        ],
        &[&w.password],
    );
    assert!(
        cmd.wait_log(&format!("installing new virtual IP {FIRST_VIP}"), WAIT),
        "no VIP:\n{}\n{}",
        cmd.log(),
        w.server.log()
    );
    assert!(
        cmd.wait_log("CHILD_SA cmd{1} established", WAIT),
        "no CHILD_SA:\n{}",
        cmd.log()
    );
    assert!(
        cmd.resolv_conf().contains(&format!("nameserver {DNS}")),
        "{}",
        cmd.resolv_conf()
    );
    assert!(ping(&w.cli, LAN_HOST, 3), "lan host unreachable");
    assert!(
        ping(&w.cli, INET_HOST, 3),
        "internet host unreachable (NAT)"
    );
    // Ctrl-C: it deletes the IKE SA.
    assert!(cmd.stop(), "charon-cmd did not exit on SIGTERM");
    assert!(
        wait_until(WAIT, || w.server.ike_sas().is_empty()),
        "{}",
        w.server.log()
    );
}

/// A wrong password: refused, one server line naming the user.
#[test]
fn wrong_password_refused_with_one_line() {
    if !ready() {
        return;
    }
    let w = World::new("suw", &[]);
    let charon = w.charon();
    let wrong = format!("not-{}", w.password);
    let conf = swan_conf(
        "eap",
        &eap_local(&w.user),
        &w.ca(),
        &eap_secret(&w.user, &wrong),
    );
    charon.load_config(&conf);
    let out = charon.initiate("eap");
    assert!(!out.ok(), "a wrong password got in: {out}");
    assert!(w.server.ike_sas().is_empty());
    let lines = w.server_lines(&[&w.user]);
    let refusals: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    assert_eq!(refusals.len(), 1, "{}", w.server.log());
    assert!(
        refusals[0].contains("EAP-MSCHAPv2") || refusals[0].contains("password"),
        "{}",
        refusals[0]
    );
}

/// One client connecting and disconnecting six times in a row (a phone on a flaky network, or
/// six devices behind one NAT): each IKE SA is established, so none is half-open (the
/// responder once kept the half-open entry of every NAT-T client and locked the address out
/// after five).
#[test]
fn reconnects_from_one_address() {
    if !ready() {
        return;
    }
    let w = World::new("sur", &[]);
    let charon = w.charon();
    charon.load_config(&swan_conf(
        "eap",
        &eap_local(&w.user),
        &w.ca(),
        &eap_secret(&w.user, &w.password),
    ));
    for round in 1..=6 {
        let out = charon.initiate("eap");
        assert!(
            out.ok(),
            "connection {round} refused: {out}\n{}",
            w.server.log()
        );
        assert!(charon.terminate_ike("eap").ok());
        assert!(wait_until(WAIT, || w.server.ike_sas().is_empty()));
    }
}
