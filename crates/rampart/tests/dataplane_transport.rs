//! Transport mode (RFC 4301 §4.1, RFC 4303 §3.1.1) between two Rampart daemons (issue 4):
//! gw1 and gw2 protect their own traffic to each other, host to host. The host stack's packets
//! to the peer are captured by policy routing (the peer's address routed into the TUN in
//! Rampart's table, consulted for packets without Rampart's own socket mark) and come back
//! through the TUN after decryption.
//!
//! Topology: testbed's net2net, only gw1 and gw2 take part. Proof that the ping went through
//! ESP: on gw2, an nftables counter of ESP (raw) or UDP to 4500 (encap) arriving on the outer
//! interface grows, and no plain ICMP arrives there (the echo requests come out of the TUN).
//! Needs root; under CI=true a missing tool fails the test.

use std::path::Path;
use std::time::Duration;

use control::Client;
use testbed::topology::{addr, OUTER_IF};
use testbed::{GwPair, Netns, RampartDaemon, Topology};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// The pair host to host; `rekey`: the child rekeys every 3 s.
fn gw_pair(v6: bool, encap: bool, rekey: bool) -> GwPair<'static> {
    GwPair {
        conn: "host",
        outer_v6: v6,
        encap,
        transport: true,
        child: if rekey {
            "esp_proposals = [\"aes128gcm16\"]\nrekey_time = \"3s\""
        } else {
            "esp_proposals = [\"aes128gcm16\"]"
        },
        ..GwPair::ESP_IN_UDP
    }
}

fn counter(ns: &Netns, name: &str) -> u64 {
    testbed::nft_counter(ns, "trat", name)
}

/// The inbound SPI of gw1's installed transport child, once there is one.
fn child_spi(c: &mut Client) -> Option<u32> {
    c.list_sas(None).ok()?.ike_sas.iter().find_map(|s| {
        s.children
            .iter()
            .find(|ch| {
                ch.state == control::ChildSaState::Installed
                    && ch.mode == control::ChildMode::Transport
            })
            .map(|ch| ch.spi_in)
    })
}

fn run(prefix: &str, v6: bool, encap: bool) {
    run_with(prefix, v6, encap, false);
}

fn run_with(prefix: &str, v6: bool, encap: bool, rekey: bool) {
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS) {
        return;
    }
    let topo = Topology::net2net(prefix);
    let rules = format!(
        "table inet trat {{\n counter sealed {{}}\n counter plain {{}}\n\
         chain input {{ type filter hook input priority 0;\n\
           iifname \"{OUTER_IF}\" meta l4proto esp counter name sealed\n\
           iifname \"{OUTER_IF}\" udp dport 4500 counter name sealed\n\
           iifname \"{OUTER_IF}\" icmp type echo-request counter name plain\n\
           iifname \"{OUTER_IF}\" icmpv6 type echo-request counter name plain\n }}\n}}\n"
    );
    let out = topo.gw2.run(&["nft", &rules]);
    assert!(out.ok(), "{out}");
    let (d1, d2) = (topo.subdir("gw1"), topo.subdir("gw2"));
    // Only gw1 rekeys (by time), so that the rekeys do not collide.
    let conf = |gw: u8, dir: &Path, rekey: bool| {
        gw_pair(v6, encap, rekey).conf(gw, dir, &format!("{prefix}{gw}"))
    };
    let mut gw2 = RampartDaemon::start(bin(), &topo.gw2, &d2, &conf(2, &d2, false));
    let mut gw1 = RampartDaemon::start(bin(), &topo.gw1, &d1, &conf(1, &d1, rekey));
    let mut c = Client::connect(gw1.socket()).unwrap();
    let mut first = None;
    let up = testbed::wait_until(Duration::from_secs(10), || {
        first = child_spi(&mut c);
        first.is_some()
    });
    assert!(up, "no transport Child SA on gw1:\n{}", gw1.log());
    if rekey {
        // The child is rekeyed (in transport mode too); the capture stays in place.
        let rekeyed = testbed::wait_until(Duration::from_secs(10), || {
            child_spi(&mut c).is_some_and(|s| Some(s) != first)
        });
        assert!(rekeyed, "no rekey:\n{}", gw1.log());
        std::thread::sleep(Duration::from_millis(500));
    }
    let peer = if v6 { addr::GW2_V6 } else { addr::GW2_V4 };
    let before = counter(&topo.gw2, "sealed");
    assert!(
        testbed::ping(&topo.gw1, peer, 3),
        "no ping in transport mode\ngw1:\n{}\ngw2:\n{}",
        gw1.log(),
        gw2.log()
    );
    assert!(counter(&topo.gw2, "sealed") >= before + 3);
    assert_eq!(
        counter(&topo.gw2, "plain"),
        0,
        "plain echo requests on the wire"
    );
    gw1.stop();
    gw2.stop();
}

#[test]
fn transport_ipv4_raw() {
    run("dtr4", false, false);
}

#[test]
fn transport_ipv6_raw() {
    run("dtr6", true, false);
}

#[test]
fn transport_ipv4_udp() {
    run("dtu4", false, true);
}

#[test]
fn transport_ipv4_after_rekey() {
    run_with("dtk4", false, false, true);
}
