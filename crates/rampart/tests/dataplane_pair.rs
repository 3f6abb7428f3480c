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
use testbed::{cmd, GwPair, Netns, RampartDaemon, Topology};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// How the pair's tunnel is set up.
#[derive(Clone, Copy)]
struct Tunnel {
    /// IPv6 outer addresses (the inner networks stay IPv4).
    outer_v6: bool,
    /// The ESP proposal.
    esp: &'static str,
    /// gw1's metrics endpoint.
    metrics: Option<&'static str>,
    /// An `mtu` on gw1's route to gw2 (set before the daemons start).
    route_mtu: Option<u16>,
}

const GCM_V4: Tunnel = Tunnel {
    outer_v6: false,
    esp: "aes256gcm16",
    metrics: None,
    route_mtu: None,
};

/// The pair's configuration (a metrics endpoint on both gateways when asked for: each in its
/// own namespace).
fn gw_pair<'a>(t: &Tunnel, child: &'a str, daemon: &'a str) -> GwPair<'a> {
    GwPair {
        conn: "v4",
        outer_v6: t.outer_v6,
        child,
        daemon,
        ..GwPair::ESP_IN_UDP
    }
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

fn pair(prefix: &str, t: Tunnel) -> Option<Pair> {
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS) {
        return None;
    }
    let topo = Topology::net2net(prefix);
    if let Some(mtu) = t.route_mtu {
        let peer = if t.outer_v6 {
            addr::GW2_V6
        } else {
            addr::GW2_V4
        };
        let mtu = mtu.to_string();
        let out = topo.gw1.run(&[
            "ip",
            "route",
            "add",
            peer,
            "dev",
            testbed::topology::OUTER_IF,
            "mtu",
            &mtu,
        ]);
        assert!(out.ok(), "{out}");
    }
    let child = format!("esp_proposals = [\"{}\"]", t.esp);
    let daemon = t
        .metrics
        .map(|m| format!("metrics_listen = \"{m}\""))
        .unwrap_or_default();
    let (gw1, gw2) = gw_pair(&t, &child, &daemon).start(bin(), &topo, prefix);
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

/// Sends each payload as one UDP datagram from `ns` to `dst`:4500 (python3: one `sendto` per
/// payload, whatever bytes it holds; bash's printf would split a datagram at a 0x0a byte).
fn send_udp(ns: &Netns, dst: &str, payloads: &[Vec<u8>]) {
    let script = "import socket, sys\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        for h in sys.argv[2:]:\n    s.sendto(bytes.fromhex(h), (sys.argv[1], 4500))\n";
    let hex: Vec<String> = payloads
        .iter()
        .map(|p| p.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    let mut args = vec!["python3", "-c", script, dst];
    args.extend(hex.iter().map(String::as_str));
    let out = ns.run(&args);
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
    let t = Tunnel {
        metrics: Some(METRICS),
        ..GCM_V4
    };
    let Some(p) = pair("dpd", t) else {
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

/// The tunnel follows the outer path's MTU (RFC 4301 §8.2): gw1's route to gw2 says 1300, so
/// with AES-GCM over IPv4 and UDP (65 bytes of overhead at worst) the tunnel carries inner
/// packets up to 1235 bytes, and a larger one with DF gets "fragmentation needed" for 1235;
/// when the route's MTU changes later, the running child follows.
#[test]
fn dataplane_path_mtu_from_the_route() {
    let t = Tunnel {
        route_mtu: Some(1300),
        ..GCM_V4
    };
    let Some(p) = pair("dpq", t) else {
        return;
    };
    wait_child(&p);
    let df_ping = |size: &str| {
        p.topo.h1.run(&[
            "ping",
            "-4",
            "-n",
            "-c",
            "1",
            "-W",
            "2",
            "-M",
            "do",
            "-s",
            size,
            addr::H2_V4,
        ])
    };
    let out = df_ping("1250");
    assert!(
        out.stdout.contains("mtu = 1235") || out.stderr.contains("mtu=1235"),
        "{out}"
    );
    // 1207 bytes of ICMP payload make a 1235-byte packet: it fits.
    let out = df_ping("1207");
    assert!(out.ok(), "{out}");

    // The route changes under the running child (as when the kernel learns a smaller PMTU):
    // within the daemon's refresh (5 s) the tunnel carries 1250 − 65 = 1185 bytes, and a
    // 1208-byte packet that fitted before gets "fragmentation needed" for 1185.
    let out = p.topo.gw1.run(&[
        "ip",
        "route",
        "replace",
        addr::GW2_V4,
        "dev",
        testbed::topology::OUTER_IF,
        "mtu",
        "1250",
    ]);
    assert!(out.ok(), "{out}");
    let mut last = String::new();
    let followed = testbed::wait_until(Duration::from_secs(12), || {
        let out = df_ping("1180");
        last = out.to_string();
        out.stdout.contains("mtu = 1185") || out.stderr.contains("mtu=1185")
    });
    assert!(
        followed,
        "the tunnel did not follow the route's new MTU: {last}\n{}",
        p.gw1.log()
    );
}

/// IPv6 outer + AES-CBC/HMAC-SHA2-512-256: 121 bytes of overhead at worst, so the tunnel is
/// sure to carry inner packets up to 1379 bytes while the TUN MTU is 1400 (a 1400-byte packet
/// needs 1512 bytes on the wire). A 1400-byte ping with DF from h1 gets gw1's "fragmentation
/// needed" (MTU 1379, from the address it was sent to); a TCP connection h1 → h2 ends up with
/// an MSS that fits (1379 − 40 = 1339, the SYNs clamped by gw1 and gw2) instead of the 1460
/// both hosts' links allow.
#[test]
fn dataplane_icmp_too_big_and_mss_clamp() {
    let t = Tunnel {
        outer_v6: true,
        esp: "aes128-sha512",
        metrics: None,
        route_mtu: None,
    };
    let Some(p) = pair("dpm", t) else {
        return;
    };
    wait_child(&p);
    assert!(testbed::ping(&p.topo.h1, addr::H2_V4, 2));
    let df_ping = |size: &str| {
        let args = [
            "ping", "-4", "-n", "-c", "1", "-W", "2", "-M", "do", "-s", size,
        ];
        let mut args = args.to_vec();
        args.push(addr::H2_V4);
        p.topo.h1.run(&args)
    };
    let out = df_ping("1372");
    assert!(
        out.stdout.contains("mtu = 1379") || out.stderr.contains("mtu=1379"),
        "{out}"
    );
    assert!(json(&p.gw1.cli(&["counters", "--json"]))["drops"]["path_mtu"] == 1);
    // After the error the host's path MTU is 1379: a 1351-byte payload (1379 in all) goes
    // through.
    let out = df_ping("1351");
    assert!(out.ok(), "{out}");

    // MSS: h2 accepts one connection and prints the MSS its socket settled on.
    let server = r#"
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1); s.settimeout(10)
c, _ = s.accept()
print(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG), flush=True)
c.recv(1)
"#;
    let srv = p
        .topo
        .h2
        .command("python3")
        .args(["-c", server])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = format!(
        r#"
import socket, time
for _ in range(50):
    try:
        c = socket.create_connection(("{h2}", 5201), timeout=2); break
    except OSError:
        time.sleep(0.1)
print(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG), flush=True)
c.send(b"x"); c.close()
"#,
        h2 = addr::H2_V4
    );
    let cl = p.topo.h1.run(&["python3", "-c", &client]);
    let srv = srv.wait_with_output().unwrap();
    let srv_out = String::from_utf8_lossy(&srv.stdout);
    assert!(
        cl.ok(),
        "{cl}\nserver: {srv_out} {}",
        String::from_utf8_lossy(&srv.stderr)
    );
    for (who, s) in [("client", cl.stdout.trim()), ("server", srv_out.trim())] {
        let mss: u32 = s.parse().unwrap_or_else(|_| panic!("{who}: {s:?}"));
        // 1339, less 12 when TCP timestamps are on.
        assert!((1300..=1339).contains(&mss), "{who} MSS {mss}");
    }
}
