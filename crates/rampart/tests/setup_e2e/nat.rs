//! Two clients of a setup server behind one NAT router at once: the client namespace of the
//! world becomes the router (it MASQUERADEs out of c-wan, so the server sees both as
//! 203.0.113.2 on different ports), two namespaces behind it run a charon each, as the banner's
//! user and as a second EAP user from `rampart client add bob --password`. Each gets its own
//! virtual IP and reaches the lan host.

use testbed::{ping, Netns};

use super::world::*;

/// A client namespace behind the router on its own link (198.51.100.64/28, .80/28: outside
/// the lan /26 and the pool /25).
fn behind(w: &World, name: &str, r_if: &str, net: u8) -> Netns {
    let ns = Netns::new(&format!("{}-{name}", w.prefix));
    Netns::veth(&w.cli, r_if, &ns, "eth0");
    w.cli.add_addr(r_if, &format!("198.51.100.{}/28", net + 1));
    ns.add_addr("eth0", &format!("198.51.100.{}/28", net + 2));
    ns.ip(&[
        "route",
        "add",
        "default",
        "via",
        &format!("198.51.100.{}", net + 1),
    ]);
    ns
}

#[test]
fn two_clients_behind_one_nat() {
    if !ready() {
        return;
    }
    let w = World::new("snt", &[]);
    let add = w.client_cmd(&["add", "bob", "--password"]);
    let bob = field(&add, "User:");
    let bob_pw = field(&add, "Password:");
    w.cli.enable_forwarding();
    w.cli.run_ok(&[
        "iptables",
        "-t",
        "nat",
        "-A",
        "POSTROUTING",
        "-o",
        "c-wan",
        "-j",
        "MASQUERADE",
    ]);
    let a = behind(&w, "a", "r-a", 64);
    let b = behind(&w, "b", "r-b", 80);
    let ca = testbed::Charon::start(&a, &w.dir.subdir("a"));
    let cb = testbed::Charon::start(&b, &w.dir.subdir("b"));
    ca.load_config(&swan_conf(
        "eap",
        &eap_local(&w.user),
        &w.ca(),
        &eap_secret(&w.user, &w.password),
    ));
    cb.load_config(&swan_conf(
        "eap",
        &eap_local(&bob),
        &w.ca(),
        &eap_secret(&bob, &bob_pw),
    ));
    let out = ca.initiate("eap");
    assert!(out.ok(), "first client: {out}\n{}", w.server.log());
    let out = cb.initiate("eap");
    assert!(out.ok(), "second client: {out}\n{}", w.server.log());
    // Both from the router's address, on different ports, with their own virtual IPs.
    let sas = w.server.ike_sas();
    assert_eq!(sas.len(), 2, "{sas:?}");
    let log = w.server.log();
    assert!(
        log.contains(&format!("assigning virtual IP {FIRST_VIP} to '{}'", w.user)),
        "{log}"
    );
    assert!(
        log.contains(&format!("assigning virtual IP 198.51.100.130 to '{bob}'")),
        "{log}"
    );
    assert!(ping(&a, LAN_HOST, 3), "first client: lan host unreachable");
    assert!(ping(&b, LAN_HOST, 3), "second client: lan host unreachable");
    assert!(ping(&a, LAN_HOST, 1), "first client lost its tunnel");
}
