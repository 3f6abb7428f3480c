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
use testbed::{Netns, RampartDaemon, Topology};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

fn conf(gw: u8, dir: &Path, tun: &str, v6: bool, encap: bool, rekey: bool) -> String {
    let (me, peer) = match (gw, v6) {
        (1, false) => (addr::GW1_V4, addr::GW2_V4),
        (_, false) => (addr::GW2_V4, addr::GW1_V4),
        (1, true) => (addr::GW1_V6, addr::GW2_V6),
        (_, true) => (addr::GW2_V6, addr::GW1_V6),
    };
    let (me_id, peer_id, start) = if gw == 1 {
        ("gw1.example.org", "gw2.example.org", "start")
    } else {
        ("gw2.example.org", "gw1.example.org", "none")
    };
    let len = if v6 { 128 } else { 32 };
    let encap = if encap { "encap = true\n" } else { "" };
    let rekey = if rekey { "rekey_time = \"3s\"\n" } else { "" };
    format!(
        r#"[daemon]
control_socket = "{sock}"
tun_name = "{tun}"
log_level = "info"

[connections.host]
local_addrs = ["{me}"]
remote_addrs = ["{peer}"]
{encap}[connections.host.local]
auth = "psk"
id = "{me_id}"
[connections.host.remote]
auth = "psk"
id = "{peer_id}"
[connections.host.children.tra]
mode = "transport"
local_ts = ["{me}/{len}"]
remote_ts = ["{peer}/{len}"]
esp_proposals = ["aes128gcm16"]
start_action = "{start}"
{rekey}
[secrets.ike.gws]
ids = ["gw1.example.org", "gw2.example.org"]
secret = "dataplane-transport-psk-0123456789"
"#,
        sock = RampartDaemon::socket_in(dir).display()
    )
}

fn counter(ns: &Netns, name: &str) -> u64 {
    let out = ns.run(&["nft", "list", "counter", "inet", "trat", name]);
    assert!(out.ok(), "{out}");
    out.stdout
        .split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count: {out}"))
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
    let d2 = topo.subdir("gw2");
    let d1 = topo.subdir("gw1");
    let mut gw2 = RampartDaemon::start(
        bin(),
        &topo.gw2,
        &d2,
        &conf(2, &d2, &format!("{prefix}2"), v6, encap, false),
    );
    let mut gw1 = RampartDaemon::start(
        bin(),
        &topo.gw1,
        &d1,
        &conf(1, &d1, &format!("{prefix}1"), v6, encap, rekey),
    );
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
