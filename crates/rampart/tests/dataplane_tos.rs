//! The outer TOS / Traffic Class of ESP in UDP between two Rampart daemons (issue 4): the
//! tunnel's ECN follows RFC 6040 §4 (normal mode) and its DSCP is copied per `copy_dscp`
//! (RFC 2983 §3), on the wire in both directions of the UDP sockets.
//!
//! - Sending: an inner packet's DSCP (with `copy_dscp`, the default) and ECN field are on the
//!   outer IP header of its ESP-in-UDP datagram as gw1 sends it (captured on gw1's outer
//!   interface); IKE keeps TOS 0.
//! - Receiving: gw2's nftables marks CE on the ECT(0) ESP-in-UDP datagrams that arrive (an
//!   ECN-capable router in transit, RFC 3168 §5), and the inner packet reaching h2 carries CE
//!   (RFC 6040 §4.2), its DSCP untouched.
//!
//! Topology: testbed's net2net (h1 - gw1 - gw2 - h2), IPv4 inner networks, IPv4 outer with
//! `copy_dscp = true` or IPv6 outer with `copy_dscp = false`, `encap = true`.
//! Needs root; under CI=true a missing tool fails the test.

use std::path::Path;
use std::time::Duration;

use control::Client;
use testbed::capture::ESP_IN_UDP;
use testbed::topology::{addr, HOST_IF, OUTER_IF};
use testbed::{Capture, GwPair, Netns, RampartDaemon, Topology};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// DSCP EF (RFC 3246) in the TOS octet.
const EF: u8 = 0xb8;
/// ECN field values (RFC 3168 §5).
const ECT0: u8 = 0b10;
const CE: u8 = 0b11;

/// The pair: ESP in UDP, the given outer family and DSCP copy.
fn gw_pair(v6: bool, copy_dscp: bool) -> GwPair<'static> {
    GwPair {
        conn: "tos",
        outer_v6: v6,
        child: if copy_dscp {
            "esp_proposals = [\"aes256gcm16\"]\ncopy_dscp = true"
        } else {
            "esp_proposals = [\"aes256gcm16\"]\ncopy_dscp = false"
        },
        ..GwPair::ESP_IN_UDP
    }
}

/// The pair, its captures, and the order they are torn down in.
struct Pair {
    /// ESP in UDP as gw1 sends it (gw1's outer interface).
    outer: Capture,
    /// The inner packets as h2 receives them.
    inner: Capture,
    gw2: RampartDaemon,
    gw1: RampartDaemon,
    // Declared last: the namespaces go after the daemons and captures in them.
    topo: Topology,
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.gw1.stop();
        self.gw2.stop();
    }
}

/// Builds the topology, gw2's CE marking, the captures and both daemons; waits for the Child
/// SA and one plain ping through it. `None` when skipped (not root, a tool missing).
fn pair(prefix: &str, v6: bool, copy_dscp: bool) -> Option<Pair> {
    if !testbed::require_root_and_tools(&["ip", "tcpdump", "ping", "nft"]) {
        return None;
    }
    let topo = Topology::net2net(prefix);
    // On arrival at gw2, before its socket: ECT(0) on the outer header of ESP in UDP becomes
    // CE, as a congested ECN router would mark it.
    let family = if v6 { "ip6" } else { "ip" };
    let rules = format!(
        "table inet tost {{\n counter ce {{}}\n\
         chain pre {{ type filter hook prerouting priority mangle;\n\
         udp dport 4500 {family} ecn ect0 counter name ce {family} ecn set ce\n }}\n}}\n"
    );
    let out = topo.gw2.run(&["nft", &rules]);
    assert!(out.ok(), "{out}");
    let outer = Capture::start(&topo.gw1, OUTER_IF, &topo.subdir("cap").join("outer.pcap"));
    let inner = Capture::start(&topo.h2, HOST_IF, &topo.subdir("cap").join("inner.pcap"));
    let (gw1, gw2) = gw_pair(v6, copy_dscp).start(bin(), &topo, prefix);
    let p = Pair {
        outer,
        inner,
        gw2,
        gw1,
        topo,
    };
    let mut c = Client::connect(p.gw1.socket()).unwrap();
    let up = testbed::wait_until(Duration::from_secs(10), || {
        c.list_sas(None).unwrap().ike_sas.iter().any(|s| {
            s.children
                .iter()
                .any(|ch| ch.state == control::ChildSaState::Installed)
        })
    });
    assert!(up, "no Child SA on gw1:\n{}", p.gw1.log());
    assert!(
        testbed::ping(&p.topo.h1, addr::H2_V4, 2),
        "no ping through the tunnel\ngw1:\n{}\ngw2:\n{}",
        p.gw1.log(),
        p.gw2.log()
    );
    Some(p)
}

/// Three echo requests h1 → h2 with `tos` as their TOS octet (`ping -Q`); all answered.
fn ping_tos(p: &Pair, tos: u8) {
    let q = format!("{tos:#04x}");
    let out = p.topo.h1.run(&[
        "ping",
        "-4",
        "-n",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "-Q",
        &q,
        addr::H2_V4,
    ]);
    assert!(
        out.ok() && out.stdout.contains(" 0% packet loss"),
        "ping -Q {q}: {out}\ngw1:\n{}\ngw2:\n{}",
        p.gw1.log(),
        p.gw2.log()
    );
}

/// A pcap filter for IPv4 / IPv6 packets whose TOS / Traffic Class octet is `tos`.
fn tos_is(v6: bool, tos: u8) -> String {
    if v6 {
        format!("(ip6 and ((ip6[0:2] >> 4) & 0xff) == {tos:#04x})")
    } else {
        format!("(ip and ip[1] == {tos:#04x})")
    }
}

/// ESP in UDP leaving gw1 with outer TOS `tos`.
fn outer_esp(p: &Pair, v6: bool, tos: u8) -> usize {
    let gw1 = if v6 { addr::GW1_V6 } else { addr::GW1_V4 };
    p.outer.count(&format!(
        "{ESP_IN_UDP} and src host {gw1} and {}",
        tos_is(v6, tos)
    ))
}

/// Echo requests reaching h2 with TOS `tos`.
fn inner_echo(p: &Pair, tos: u8) -> usize {
    p.inner.count(&format!(
        "icmp[icmptype] == icmp-echo and {}",
        tos_is(false, tos)
    ))
}

/// Packets counted by gw2's CE-marking rule.
fn ce_marked(ns: &Netns) -> u64 {
    let out = ns.run(&["nft", "list", "counter", "inet", "tost", "ce"]);
    assert!(out.ok(), "{out}");
    out.stdout
        .split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count: {out}"))
}

/// Waits (the captures write as they go) until `f` reaches `n`; returns the last value.
fn wait_count(n: usize, mut f: impl FnMut() -> usize) -> usize {
    let mut got = 0;
    testbed::wait_until(Duration::from_secs(3), || {
        got = f();
        got >= n
    });
    got
}

/// IPv4 outer, `copy_dscp = true`: DSCP EF and ECT(0) reach the outer header; CE marked in
/// transit reaches the inner packet; IKE stays at TOS 0.
#[test]
fn tos_ipv4_outer_dscp_and_ecn() {
    let Some(p) = pair("tos4", false, true) else {
        return;
    };
    // Before any ECN-capable packet: nothing was eligible for marking.
    assert_eq!(ce_marked(&p.topo.gw2), 0);

    ping_tos(&p, EF);
    let n = wait_count(3, || outer_esp(&p, false, EF));
    assert!(n >= 3, "ESP with outer DSCP EF: {n}");

    ping_tos(&p, ECT0);
    let n = wait_count(3, || outer_esp(&p, false, ECT0));
    assert!(n >= 3, "ESP with outer ECT(0): {n}");
    assert!(ce_marked(&p.topo.gw2) >= 3);
    let n = wait_count(3, || inner_echo(&p, CE));
    assert!(n >= 3, "echo requests with CE at h2: {n}");
    // The EF requests were not ECN-capable: not marked, delivered as sent.
    assert!(inner_echo(&p, EF) >= 3);

    // IKE on either port keeps TOS 0; the plain pings' ESP carried 0 too.
    let ike_not_zero = p.outer.count(&format!(
        "src host {} and (udp port 500 or (udp port 4500 and udp[8:4] == 0)) and not {}",
        addr::GW1_V4,
        tos_is(false, 0)
    ));
    assert_eq!(ike_not_zero, 0);
    assert!(p.outer.ike_count() >= 2);
    assert!(outer_esp(&p, false, 0) >= 2);
}

/// IPv6 outer, `copy_dscp = false`: the outer Traffic Class carries only the ECN field; CE
/// marked in transit reaches the inner packet, whose DSCP stays EF.
#[test]
fn tos_ipv6_outer_without_dscp_copy() {
    let Some(p) = pair("tos6", true, false) else {
        return;
    };
    ping_tos(&p, EF | ECT0);
    let n = wait_count(3, || outer_esp(&p, true, ECT0));
    assert!(n >= 3, "ESP with outer Traffic Class ECT(0) alone: {n}");
    assert_eq!(outer_esp(&p, true, EF | ECT0), 0, "DSCP copied");
    assert!(ce_marked(&p.topo.gw2) >= 3);
    let n = wait_count(3, || inner_echo(&p, EF | CE));
    assert!(n >= 3, "echo requests with EF and CE at h2: {n}");
}
