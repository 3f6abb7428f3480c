//! MOBIKE (RFC 4555) with strongSwan 5.9 as the roaming initiator and Rampart as responder, in
//! network namespaces: strongSwan's gateway gets a new outer address and loses the old one,
//! strongSwan sends UPDATE_SA_ADDRESSES from the new address (§3.5), Rampart moves the IKE SA and
//! the Child SAs there (checking return routability, §3.7) without a new handshake, and traffic
//! flows from the new address. And the other way round: Rampart initiates, its gateway's address
//! changes, its daemon notices (rtnetlink address/route watch), moves the IKE SA with
//! UPDATE_SA_ADDRESSES and strongSwan follows.
//!
//! Needs root; under CI=true a missing tool fails the test.

use std::time::Duration;

use testbed::interop::{assert_up, ping_from, start_charon, start_rampart, wait_no_sas};
use testbed::topology::{addr, OUTER_IF};
use testbed::{Capture, CharonOptions, Family, Peer, Side, Topology};

use super::rampart;

/// Where strongSwan's gateway moves to.
struct Move {
    family: Family,
    old: &'static str,
    new: &'static str,
    prefix_len: u8,
}

/// The hosts behind gw1 and gw2 (h1, h2) in `family`.
fn hosts(family: Family) -> (&'static str, &'static str) {
    match family {
        Family::V4 => (addr::H1_V4, addr::H2_V4),
        Family::V6 => (addr::H1_V6, addr::H2_V6),
    }
}

/// gw1's side: its fixed address, any peer address, PSK, lan1 <-> lan2.
fn gw1_side(family: Family) -> Side {
    let (gw1, lan1, lan2) = match family {
        Family::V4 => (addr::GW1_V4, addr::LAN1_V4, addr::LAN2_V4),
        Family::V6 => (addr::GW1_V6, addr::LAN1_V6, addr::LAN2_V6),
    };
    Side::psk(
        &[gw1],
        &["%any"],
        ("gw1.example.org", "gw2.example.org"),
        (&[lan1], &[lan2]),
        "aes256gcm16-prfsha256-x25519",
        "aes256gcm16",
    )
}

/// gw2 moves: the new address first (so the route to gw1 stays), then the old one goes;
/// promote_secondaries keeps the new address of the same subnet when the old one is deleted.
fn move_gw2(topo: &Topology, m: &Move) {
    topo.gw2
        .sysctl("net.ipv4.conf.all.promote_secondaries", "1");
    topo.gw2.sysctl(
        &format!("net.ipv4.conf.{OUTER_IF}.promote_secondaries"),
        "1",
    );
    topo.gw2
        .add_addr(OUTER_IF, &format!("{}/{}", m.new, m.prefix_len));
    topo.gw2.ip(&[
        "addr",
        "del",
        &format!("{}/{}", m.old, m.prefix_len),
        "dev",
        OUTER_IF,
    ]);
}

fn roam(prefix: &str, m: Move) {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net(prefix);
    let mut cap = Capture::start(&topo.gw1, OUTER_IF, &topo.dir().path().join("outer.pcap"));
    let (h1, h2) = hosts(m.family);
    // Rampart on gw1 accepts the road warrior from any address.
    let ours = gw1_side(m.family);
    // strongSwan on gw2: any local address, MOBIKE on (its default, said explicitly).
    let mut theirs = ours.mirror();
    theirs.mobike = Some(true);
    let r = start_rampart(
        rampart(),
        &topo.gw1,
        &topo.subdir("gw1"),
        &ours,
        &format!("{prefix}t"),
    );
    let s = start_charon(
        &topo.gw2,
        &topo.subdir("gw2"),
        &theirs,
        &CharonOptions::default(),
    );
    let out = s.initiate();
    assert!(
        out.ok(),
        "strongSwan could not initiate: {out}\n{}",
        r.log()
    );
    let (a, b) = assert_up(&r, &s, Duration::from_secs(20));
    let Peer::Rampart(d) = &r else { unreachable!() };
    let Peer::Charon(c) = &s else { unreachable!() };
    let before = d.ike_sas().first().cloned().unwrap_or_default();
    let old_remote = host_of(&before.remote);
    assert_eq!(
        old_remote, m.old,
        "Rampart's peer before the move: {before:?}"
    );
    for (ns, dst) in [(&topo.h1, h2), (&topo.h2, h1)] {
        let out = ping_from(ns, None, dst, 2);
        assert!(
            out.ok(),
            "before the move: {out}\n{}\n{}",
            r.describe(),
            s.describe()
        );
    }

    move_gw2(&topo, &m);

    let mut now = before.clone();
    let moved = testbed::wait_until(Duration::from_secs(20), || {
        now = d.ike_sas().first().cloned().unwrap_or_default();
        host_of(&now.remote) == m.new
    });
    assert!(
        moved,
        "Rampart did not move the IKE SA to {} within 20 s: {now:?}\n--- Rampart log ---\n{}\n--- strongSwan log ---\n{}",
        m.new,
        r.log(),
        s.log()
    );
    assert!(
        s.log().contains("N(UPD_SA_ADDR)"),
        "strongSwan did not send UPDATE_SA_ADDRESSES:\n{}",
        s.log()
    );
    // The same IKE SA and the same Child SAs, updated in place.
    assert_eq!(
        (now.spi_i.as_str(), now.spi_r.as_str()),
        (before.spi_i.as_str(), before.spi_r.as_str()),
        "MOBIKE must keep the IKE SA"
    );
    // strongSwan's kernel-libipsec cannot update SAs in place: after the update it rekeys the
    // Child SA (CREATE_CHILD_SA on this IKE SA). Either way exactly one pair must be up with
    // SPIs matching crosswise.
    let (a2, _) = assert_up(&r, &s, Duration::from_secs(10));
    if a2.spi_in != a.spi_in {
        assert!(
            s.log().contains("CHILD_REKEY"),
            "the Child SA changed without a rekey by strongSwan: {a:?} -> {a2:?} ({b:?})"
        );
    }
    let swan_local = c
        .list_sas()
        .first()
        .map(|x| x.local_host.clone())
        .unwrap_or_default();
    assert_eq!(swan_local, m.new, "strongSwan's own view after the move");

    for (ns, dst) in [(&topo.h1, h2), (&topo.h2, h1)] {
        let out = ping_from(ns, None, dst, 3);
        assert!(
            out.ok(),
            "after the move: {out}\n{}\n{}\n--- Rampart log ---\n{}",
            r.describe(),
            s.describe(),
            r.log()
        );
    }
    let out = r.terminate();
    assert!(out.ok(), "{out}");
    assert!(wait_no_sas(&s, Duration::from_secs(10)), "{}", s.describe());
    cap.stop();
    // On the wire: ESP in UDP from and to the new address, after the move.
    let ip = if m.family == Family::V4 { "ip" } else { "ip6" };
    let esp_new = cap.count(&format!(
        "{ip} src host {} and {}",
        m.new,
        testbed::capture::ESP_IN_UDP
    ));
    let esp_to_new = cap.count(&format!(
        "{ip} dst host {} and {}",
        m.new,
        testbed::capture::ESP_IN_UDP
    ));
    assert!(
        esp_new >= 3 && esp_to_new >= 3,
        "ESP-in-UDP with the new address: {esp_new} from it, {esp_to_new} to it"
    );
    drop((r, s));
}

fn host_of(addr_port: &str) -> String {
    let host = addr_port.rsplit_once(':').map_or(addr_port, |(h, _)| h);
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// strongSwan on gw2 moves from 192.0.2.2 to 192.0.2.3.
#[test]
fn strongswan_roams_ipv4_rampart_follows() {
    roam(
        "mb4",
        Move {
            family: Family::V4,
            old: addr::GW2_V4,
            new: "192.0.2.3",
            prefix_len: 24,
        },
    );
}

/// strongSwan on gw2 moves from 2001:db8:1::2 to 2001:db8:1::3.
#[test]
fn strongswan_roams_ipv6_rampart_follows() {
    roam(
        "mb6",
        Move {
            family: Family::V6,
            old: addr::GW2_V6,
            new: "2001:db8:1::3",
            prefix_len: 64,
        },
    );
}

/// Rampart on gw2 initiates (any local address) to strongSwan on gw1; then gw2's address moves
/// from `m.old` to `m.new`: Rampart's daemon sees the change, sends UPDATE_SA_ADDRESSES from
/// the new address (RFC 4555 §3.5), strongSwan moves its SA, traffic flows again.
fn rampart_roams(prefix: &str, m: Move) {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net(prefix);
    let mut cap = Capture::start(&topo.gw1, OUTER_IF, &topo.dir().path().join("outer.pcap"));
    let (h1, h2) = hosts(m.family);
    // strongSwan on gw1 accepts the initiator from any address (MOBIKE is its default).
    let theirs = gw1_side(m.family);
    // Rampart on gw2: no fixed local address, MOBIKE on.
    let mut ours = theirs.mirror();
    ours.mobike = Some(true);
    let s = start_charon(
        &topo.gw1,
        &topo.subdir("gw1"),
        &theirs,
        &CharonOptions::default(),
    );
    let r = start_rampart(
        rampart(),
        &topo.gw2,
        &topo.subdir("gw2"),
        &ours,
        &format!("{prefix}t"),
    );
    let out = r.initiate();
    assert!(out.ok(), "Rampart could not initiate: {out}\n{}", r.log());
    let (a, _) = assert_up(&r, &s, Duration::from_secs(20));
    let Peer::Rampart(d) = &r else { unreachable!() };
    let Peer::Charon(c) = &s else { unreachable!() };
    let before = d.ike_sas().first().cloned().unwrap_or_default();
    assert_eq!(
        host_of(&before.local),
        m.old,
        "Rampart's address before: {before:?}"
    );
    for (ns, dst) in [(&topo.h1, h2), (&topo.h2, h1)] {
        let out = ping_from(ns, None, dst, 2);
        assert!(
            out.ok(),
            "before the move: {out}\n{}\n{}",
            r.describe(),
            s.describe()
        );
    }

    move_gw2(&topo, &m);

    let mut swan = Vec::new();
    let moved = testbed::wait_until(Duration::from_secs(20), || {
        swan = c.list_sas();
        swan.first().is_some_and(|x| x.remote_host == m.new)
    });
    assert!(
        moved,
        "strongSwan did not see Rampart move to {} within 20 s: {swan:?}\n--- Rampart log ---\n{}\n--- strongSwan log ---\n{}",
        m.new,
        r.log(),
        s.log()
    );
    assert!(
        r.log().contains("(MOBIKE)"),
        "Rampart did not log its move:\n{}",
        r.log()
    );
    let now = d.ike_sas().first().cloned().unwrap_or_default();
    assert_eq!(
        host_of(&now.local),
        m.new,
        "Rampart's own view after the move"
    );
    assert_eq!(
        (now.spi_i.as_str(), now.spi_r.as_str()),
        (before.spi_i.as_str(), before.spi_r.as_str()),
        "MOBIKE must keep the IKE SA"
    );
    // strongSwan's libipsec may rekey the Child SA after an address update; one pair must be up.
    let (a2, _) = assert_up(&r, &s, Duration::from_secs(10));
    if a2.spi_in != a.spi_in {
        assert!(
            s.log().contains("CHILD_REKEY") || r.log().contains("rekey"),
            "the Child SA changed without a rekey: {a:?} -> {a2:?}"
        );
    }
    for (ns, dst) in [(&topo.h1, h2), (&topo.h2, h1)] {
        let out = ping_from(ns, None, dst, 3);
        assert!(
            out.ok(),
            "after the move: {out}\n{}\n{}\n--- Rampart log ---\n{}",
            r.describe(),
            s.describe(),
            r.log()
        );
    }
    let out = r.terminate();
    assert!(out.ok(), "{out}");
    assert!(wait_no_sas(&s, Duration::from_secs(10)), "{}", s.describe());
    cap.stop();
    let ip = if m.family == Family::V4 { "ip" } else { "ip6" };
    let from_new = cap.count(&format!(
        "{ip} src host {} and {}",
        m.new,
        testbed::capture::ESP_IN_UDP
    ));
    assert!(
        from_new >= 3,
        "ESP-in-UDP from Rampart's new address: {from_new}"
    );
    drop((r, s));
}

/// Rampart on gw2 moves from 192.0.2.2 to 192.0.2.3.
#[test]
fn rampart_roams_ipv4_strongswan_follows() {
    rampart_roams(
        "mr4",
        Move {
            family: Family::V4,
            old: addr::GW2_V4,
            new: "192.0.2.3",
            prefix_len: 24,
        },
    );
}

/// Rampart on gw2 moves from 2001:db8:1::2 to 2001:db8:1::3.
#[test]
fn rampart_roams_ipv6_strongswan_follows() {
    rampart_roams(
        "mr6",
        Move {
            family: Family::V6,
            old: addr::GW2_V6,
            new: "2001:db8:1::3",
            prefix_len: 64,
        },
    );
}
