//! Raw ESP (IP protocol 50, RFC 4303 §2) and AH (IP protocol 51, RFC 4302) between two
//! Rampart daemons (issue 4): without NAT and without `encap`, the Child SA is not
//! UDP-encapsulated (RFC 7296 §2.23) and the data plane sends and receives ESP or AH on raw
//! sockets. This machine's kernel has no ESP or AH handler; a raw socket still gets protocols
//! 50 and 51, so two userspace data planes meet here (the VM test proves the same against a
//! kernel's ESP and AH).
//!
//! Topology: testbed's net2net (h1 - gw1 - gw2 - h2), IPv4 inner networks, IPv4 or IPv6
//! outer. Proof that the packets are raw ESP (or AH) and not ESP-in-UDP: an nftables counter
//! on gw2 for IP protocol 50 (51) in, and one for UDP to 4500 that must stay at zero.
//! Needs root; under CI=true a missing tool fails the test.

use std::path::Path;
use std::time::Duration;

use control::Client;
use testbed::topology::addr;
use testbed::{GwPair, Netns, Topology};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// The Child SA's security protocol.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Esp,
    Ah,
}

/// The pair: no `encap`, so raw ESP (or AH).
fn gw_pair(v6: bool, proto: Proto) -> GwPair<'static> {
    GwPair {
        conn: "raw",
        outer_v6: v6,
        encap: false,
        child: match proto {
            Proto::Esp => r#"esp_proposals = ["aes256gcm16"]"#,
            Proto::Ah => r#"ah_proposals = ["sha256"]"#,
        },
        ..GwPair::ESP_IN_UDP
    }
}

/// Packets counted by the nftables counter `name` in `ns`.
fn counter(ns: &Netns, name: &str) -> u64 {
    testbed::nft_counter(ns, "rawt", name)
}

fn run(prefix: &str, v6: bool, proto: Proto) {
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS) {
        return;
    }
    let topo = Topology::net2net(prefix);
    // (`ip6 nexthdr`: the IPv6 header's own Next Header; `meta l4proto` would look past AH,
    // an extension header to the kernel.)
    let rules = "table inet rawt {\n\
        counter esp_in {}\n counter ah_in {}\n counter natt_in {}\n counter ef_in {}\n\
        chain input { type filter hook input priority 0;\n\
          meta l4proto esp counter name esp_in\n\
          ip protocol ah counter name ah_in\n ip6 nexthdr ah counter name ah_in\n\
          udp dport 4500 counter name natt_in\n\
          ip dscp ef counter name ef_in\n ip6 dscp ef counter name ef_in\n }\n}\n";
    let out = topo.gw2.run(&["nft", rules]);
    assert!(out.ok(), "{out}");
    let (mut gw1, mut gw2) = gw_pair(v6, proto).start(bin(), &topo, prefix);
    let mut c = Client::connect(gw1.socket()).unwrap();
    let up = testbed::wait_until(Duration::from_secs(10), || {
        c.list_sas(None).unwrap().ike_sas.iter().any(|s| {
            s.children
                .iter()
                .any(|ch| ch.state == control::ChildSaState::Installed)
        })
    });
    assert!(up, "no Child SA on gw1:\n{}", gw1.log());
    // The status says which protocol carries the child, and it is never UDP-encapsulated.
    let sas = c.list_sas(None).unwrap();
    let child = &sas.ike_sas[0].children[0];
    let want = match proto {
        Proto::Esp => ("ESP", "aes256gcm16"),
        Proto::Ah => ("AH", "sha256"),
    };
    assert_eq!((child.protocol.as_str(), child.proposal.as_str()), want);
    assert!(!child.encap);
    assert!(
        testbed::ping(&topo.h1, addr::H2_V4, 3),
        "no ping through raw ESP/AH\ngw1:\n{}\ngw2:\n{}",
        gw1.log(),
        gw2.log()
    );
    // Each echo request reached gw2 as protocol 50 (51); nothing came as UDP to 4500.
    let (used, unused) = match proto {
        Proto::Esp => ("esp_in", "ah_in"),
        Proto::Ah => ("ah_in", "esp_in"),
    };
    assert!(counter(&topo.gw2, used) >= 3, "{used}");
    assert_eq!(counter(&topo.gw2, unused), 0, "{unused}");
    assert_eq!(counter(&topo.gw2, "natt_in"), 0);
    // The outer header carries the inner DSCP (RFC 4301 §5.1.2.1, `copy_dscp` by default):
    // set on the raw socket per packet (AH over IPv4: in the header the data plane writes).
    assert_eq!(counter(&topo.gw2, "ef_in"), 0);
    let out = topo.h1.run(&[
        "ping",
        "-n",
        "-c",
        "2",
        "-W",
        "2",
        "-Q",
        "0xb8",
        addr::H2_V4,
    ]);
    assert!(out.ok(), "{out}");
    assert!(counter(&topo.gw2, "ef_in") >= 2, "outer DSCP EF");
    gw1.stop();
    gw2.stop();
}

#[test]
fn raw_esp_ipv4_outer() {
    run("dre4", false, Proto::Esp);
}

#[test]
fn raw_esp_ipv6_outer() {
    run("dre6", true, Proto::Esp);
}

#[test]
fn ah_ipv4_outer() {
    run("dra4", false, Proto::Ah);
}

#[test]
fn ah_ipv6_outer() {
    run("dra6", true, Proto::Ah);
}
