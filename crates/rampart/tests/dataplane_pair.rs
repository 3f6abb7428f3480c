//! The userspace data plane through two running Rampart daemons in network namespaces
//! (issue 4): drop counters per reason in `counters` and on the metrics endpoint, and the
//! packet rewriting done at the tunnel's edge.
//!
//! Topology: testbed's net2net (h1 - gw1 - gw2 - h2), one connection `v4` (IPv4 outer,
//! 203.0.113.0/24 <-> 198.51.100.0/24, ESP in UDP: the kernel here has no ESP), started by gw1.
//! Needs root; under CI=true a missing tool fails the test.

use std::path::Path;
use std::time::Duration;

use control::Client;
use serde_json::Value;
use testbed::topology::addr;
use testbed::{cmd, Netns, RampartDaemon, Topology};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// gw1's or gw2's configuration (`metrics` is gw1's metrics endpoint, if any).
fn conf(gw: u8, dir: &Path, tun: &str, metrics: Option<&str>) -> String {
    let (me, peer, lan, peer_lan, me_id, peer_id, start) = if gw == 1 {
        (
            addr::GW1_V4,
            addr::GW2_V4,
            addr::LAN1_V4,
            addr::LAN2_V4,
            "gw1.example.org",
            "gw2.example.org",
            "start",
        )
    } else {
        (
            addr::GW2_V4,
            addr::GW1_V4,
            addr::LAN2_V4,
            addr::LAN1_V4,
            "gw2.example.org",
            "gw1.example.org",
            "none",
        )
    };
    let metrics = metrics
        .map(|m| format!("metrics_listen = \"{m}\""))
        .unwrap_or_default();
    format!(
        r#"[daemon]
control_socket = "{sock}"
tun_name = "{tun}"
log_level = "info"
{metrics}

[connections.v4]
local_addrs = ["{me}"]
remote_addrs = ["{peer}"]
encap = true
[connections.v4.local]
auth = "psk"
id = "{me_id}"
[connections.v4.remote]
auth = "psk"
id = "{peer_id}"
[connections.v4.children.net]
local_ts = ["{lan}"]
remote_ts = ["{peer_lan}"]
esp_proposals = ["aes256gcm16"]
start_action = "{start}"

[secrets.ike.gws]
ids = ["gw1.example.org", "gw2.example.org"]
secret = "dataplane-pair-psk-0123456789"
"#,
        sock = RampartDaemon::socket_in(dir).display()
    )
}

struct Pair {
    topo: Topology,
    gw2: RampartDaemon,
    gw1: RampartDaemon,
}

impl Drop for Pair {
    fn drop(&mut self) {
        // Daemons before the namespaces they run in.
        self.gw1.stop();
        self.gw2.stop();
    }
}

fn pair(prefix: &str, metrics: Option<&str>) -> Option<Pair> {
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS) {
        return None;
    }
    let topo = Topology::net2net(prefix);
    let d2 = topo.subdir("gw2");
    let d1 = topo.subdir("gw1");
    let gw2 = RampartDaemon::start(
        bin(),
        &topo.gw2,
        &d2,
        &conf(2, &d2, &format!("{prefix}2"), None),
    );
    let gw1 = RampartDaemon::start(
        bin(),
        &topo.gw1,
        &d1,
        &conf(1, &d1, &format!("{prefix}1"), metrics),
    );
    Some(Pair { topo, gw2, gw1 })
}

fn json(out: &cmd::Output) -> Value {
    assert!(out.ok(), "{out}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {out}"))
}

/// Waits until gw1 has an installed Child SA; returns its inbound SPI.
#[track_caller]
fn wait_child(p: &Pair) -> u32 {
    let mut c = Client::connect(p.gw1.socket()).unwrap();
    let mut spi = None;
    let ok = testbed::wait_until(Duration::from_secs(10), || {
        spi = c.list_sas(None).unwrap().ike_sas.iter().find_map(|s| {
            s.children
                .iter()
                .find(|ch| ch.state == control::ChildSaState::Installed)
                .map(|ch| ch.spi_in)
        });
        spi.is_some()
    });
    assert!(ok, "no Child SA on gw1:\n{}", p.gw1.log());
    spi.unwrap_or_default()
}

/// Sends each payload as one UDP datagram from `ns` to `dst`:4500 (bash's /dev/udp).
fn send_udp(ns: &Netns, dst: &str, payloads: &[Vec<u8>]) {
    let mut script = String::new();
    for p in payloads {
        let hex: String = p.iter().map(|b| format!("\\x{b:02x}")).collect();
        script.push_str(&format!("printf '{hex}' > /dev/udp/{dst}/4500\n"));
    }
    let out = ns.run(&["bash", "-c", &script]);
    assert!(out.ok(), "{out}");
}

/// gw1's drop counters, by reason.
fn drops(p: &Pair) -> Value {
    json(&p.gw1.cli(&["counters", "--json"]))["drops"].clone()
}

/// The metrics page from inside `ns` (bash's /dev/tcp: no HTTP client needed).
fn scrape(ns: &Netns, addr: &str) -> String {
    let (host, port) = addr.split_once(':').unwrap();
    let out = ns.run(&[
        "bash",
        "-c",
        &format!(
            "exec 3<>/dev/tcp/{host}/{port}; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
        ),
    ]);
    assert!(out.ok(), "{out}");
    out.stdout
}

/// Crafted ESP-in-UDP datagrams reach gw1 from gw2's address; each is dropped and counted under
/// its reason in `counters --json` and in `rampart_esp_drops_total`.
#[test]
fn dataplane_drops_counted_per_reason() {
    const METRICS: &str = "127.0.0.1:9782";
    let Some(p) = pair("dpd", Some(METRICS)) else {
        return;
    };
    let spi = wait_child(&p);
    assert!(testbed::ping(&p.topo.h1, addr::H2_V4, 2));
    let before = drops(&p);
    assert!(before.is_object(), "drops reported: {before}");
    for r in ["unknown_spi", "truncated", "icv_failure", "replay"] {
        assert_eq!(before[r], 0, "{r} before: {before}");
    }
    let esp = |spi: u32, seq: u32, body: usize| {
        let mut v = spi.to_be_bytes().to_vec();
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend(std::iter::repeat_n(0xa5u8, body));
        v
    };
    // GCM-16: IV 8 + ciphertext 16 + ICV 16 is a well-formed length.
    send_udp(
        &p.topo.gw2,
        addr::GW1_V4,
        &[
            esp(0xdead_beef, 1, 40),   // no such SA
            esp(0xdead_beef, 2, 40),   // no such SA
            esp(spi, 0x7fff_0000, 1),  // shorter than IV + ICV
            esp(spi, 0x7fff_0001, 40), // fresh number, forged ICV
            esp(spi, 0, 40),           // sequence number 0 is never sent
        ],
    );
    let mut after = Value::Null;
    let ok = testbed::wait_until(Duration::from_secs(5), || {
        after = drops(&p);
        after["unknown_spi"] == 2
            && after["truncated"] == 1
            && after["icv_failure"] == 1
            && after["replay"] == 1
    });
    assert!(ok, "drops after the crafted packets: {after}");
    // Traffic still flows: nothing was accepted from the forgeries.
    assert!(testbed::ping(&p.topo.h1, addr::H2_V4, 2));

    let page = scrape(&p.topo.gw1, METRICS);
    for (reason, n) in [("unknown_spi", 2), ("truncated", 1), ("icv_failure", 1)] {
        let line = format!("rampart_esp_drops_total{{reason=\"{reason}\"}} {n}\n");
        assert!(page.contains(&line), "{line}: {page}");
    }
    assert!(
        page.contains("# TYPE rampart_esp_drops_total counter\n"),
        "{page}"
    );
}
