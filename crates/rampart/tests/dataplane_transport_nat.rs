//! Transport mode across a NAT (RFC 7296 §2.23.1, RFC 3948 §3.1.2) between two Rampart daemons:
//! rw behind a MASQUERADE router initiates, gw outside responds; both configure
//! `mode = "transport"` with `dynamic` selectors. NAT detection switches both to ESP in UDP
//! (port 4500). Each side sees the other at a different address than the other thinks it has:
//! rw proposes its private address (198.51.100.100) as TSi, gw sees it as the router's public
//! address (192.0.2.254) and uses that for its selectors (§2.23.1), its capture route (the
//! host's packets to 192.0.2.254 go into the TUN) and the header it rebuilds after decryption.
//! rw's TCP and UDP checksums cover its private address; gw recomputes them for the rebuilt
//! header (RFC 3948 §3.1.2), which a TCP connection and a UDP exchange carrying data both ways
//! prove (ping has no pseudo-header and would not).
//!
//! Proof that ESP carried it: on gw, nftables counts UDP to 4500 arriving on the outer
//! interface (grows), plain ICMP/TCP/test-UDP arriving there (stays 0), and the test's TCP
//! segments coming out of the TUN (grows); the TCP peer gw's server sees is 192.0.2.254.
//!
//! strongSwan is not a peer here: charon with kernel-libipsec (the only ESP this kernel has)
//! cannot do transport mode, so Rampart ⇄ Rampart is the honest maximum on this machine
//! (transport mode against strongSwan on kernel XFRM runs in the qemu guest, vm_xfrm.rs).
//!
//! Needs root; under CI=true a missing tool fails the test.

use std::path::Path;
use std::time::Duration;

use control::Client;
use testbed::nat::{addr, ETH0, NAT_TOOLS};
use testbed::{Masquerade, NatTopology, Netns, RampartDaemon};

const TCP_PORT: u16 = 5201;
const UDP_PORT: u16 = 5202;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// rw: initiator from its private address to gw; gw: responder for any peer address. With
/// `rekey` the child is rekeyed every 3 s from this side (CREATE_CHILD_SA across the NAT).
fn conf(rw: bool, dir: &Path, tun: &str, rekey: bool) -> String {
    let rekey = if rekey { "rekey_time = \"3s\"\n" } else { "" };
    let (me, peer, me_id, peer_id, start) = if rw {
        (
            addr::RW_V4,
            addr::GW_V4,
            "rw.example.org",
            "gw.example.org",
            "start",
        )
    } else {
        (
            addr::GW_V4,
            "%any",
            "gw.example.org",
            "rw.example.org",
            "none",
        )
    };
    format!(
        r#"[daemon]
control_socket = "{sock}"
tun_name = "{tun}"
log_level = "info"

[connections.host]
local_addrs = ["{me}"]
remote_addrs = ["{peer}"]
[connections.host.local]
auth = "psk"
id = "{me_id}"
[connections.host.remote]
auth = "psk"
id = "{peer_id}"
[connections.host.children.tra]
mode = "transport"
local_ts = ["dynamic"]
remote_ts = ["dynamic"]
esp_proposals = ["aes128gcm16"]
start_action = "{start}"
{rekey}
[secrets.ike.hosts]
ids = ["rw.example.org", "gw.example.org"]
secret = "dataplane-transport-nat-psk-0123456789"
"#,
        sock = RampartDaemon::socket_in(dir).display()
    )
}

fn counter(ns: &Netns, name: &str) -> u64 {
    let out = ns.run(&["nft", "list", "counter", "inet", "tnat", name]);
    assert!(out.ok(), "{out}");
    out.stdout
        .split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count: {out}"))
}

/// The installed transport child of the daemon behind `c`: (UDP-encapsulated, local
/// selectors, remote selectors, inbound SPI).
fn child(c: &mut Client) -> Option<(bool, String, String, u32)> {
    c.list_sas(None).ok()?.ike_sas.iter().find_map(|s| {
        s.children
            .iter()
            .find(|ch| {
                ch.state == control::ChildSaState::Installed
                    && ch.mode == control::ChildMode::Transport
            })
            .map(|ch| {
                (
                    ch.encap,
                    ch.local_ts.join(" "),
                    ch.remote_ts.join(" "),
                    ch.spi_in,
                )
            })
    })
}

/// gw's server: answers UDP datagrams (with the sender's address and the data reversed) up to
/// one starting with "last", then one TCP connection (the peer's address, then everything it sent, reversed).
const SERVER: &str = r#"
import socket, sys
host, tport, uport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((host, tport)); t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((host, uport))
u.settimeout(15); t.settimeout(15)
print("ready", flush=True)
while True:
    d, a = u.recvfrom(65535)
    u.sendto(a[0].encode() + b"|" + d[::-1], a)
    if d.startswith(b"last"):
        break
c, a = t.accept(); c.settimeout(10)
data = b""
while True:
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
c.sendall(a[0].encode() + b"|" + data[::-1]); c.close()
print("served", a[0], len(data), flush=True)
"#;

/// rw's client: a UDP exchange (retried: the first datagram may meet a cold path), then
/// 40 KiB over TCP both ways; prints what the server saw as the peer address.
const CLIENT: &str = r#"
import socket, sys
host, tport, uport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1)
msg = bytes(range(200)) * 6
for i in range(5):
    u.sendto(b"try" + msg, (host, uport))
    try:
        r = u.recv(65535); break
    except socket.timeout:
        continue
else:
    sys.exit("no UDP answer")
peer, _, body = r.partition(b"|")
assert body == (b"try" + msg)[::-1], "UDP data changed"
u.sendto(b"last", (host, uport)); u.recv(100)
print("udp", peer.decode(), len(body))
payload = bytes(range(256)) * 160
t = socket.create_connection((host, tport), timeout=10)
t.sendall(payload); t.shutdown(socket.SHUT_WR)
r = b""
while True:
    c = t.recv(65536)
    if not c:
        break
    r += c
peer, _, body = r.partition(b"|")
assert body == payload[::-1], "TCP data changed"
print("tcp", peer.decode(), len(body))
"#;

/// Which side rekeys the child before the traffic is sent.
#[derive(Clone, Copy, PartialEq)]
enum Rekey {
    No,
    Rw,
    Gw,
}

#[test]
fn transport_rw_behind_nat_rampart_both_sides() {
    run("dtn4", Rekey::No);
}

/// rw (behind the NAT) rekeys: gw narrows the CREATE_CHILD_SA's TSi as in IKE_AUTH.
#[test]
fn transport_nat_rekeyed_by_rw() {
    run("dtn4r", Rekey::Rw);
}

/// gw rekeys: it proposes rw's public address, rw (responder) narrows it to its own.
#[test]
fn transport_nat_rekeyed_by_gw() {
    run("dtn4g", Rekey::Gw);
}

fn run(prefix: &str, rekey: Rekey) {
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS)
        || !testbed::require_root_and_tools(NAT_TOOLS)
        || !testbed::require_root_and_tools(&["python3"])
    {
        return;
    }
    let topo = NatTopology::new(prefix, Masquerade::Plain);
    let gw_tun = format!("{prefix}g");
    let rules = format!(
        "table inet tnat {{\n counter sealed {{}}\n counter plain {{}}\n counter tun_tcp {{}}\n\
         chain input {{ type filter hook input priority 0;\n\
           iifname \"{ETH0}\" udp dport 4500 counter name sealed\n\
           iifname \"{ETH0}\" meta l4proto {{ icmp, tcp }} counter name plain\n\
           iifname \"{ETH0}\" udp dport {UDP_PORT} counter name plain\n\
           iifname \"{gw_tun}\" ip saddr {nat} tcp dport {TCP_PORT} counter name tun_tcp\n }}\n}}\n",
        nat = addr::NAT_OUT_V4,
    );
    let out = topo.gw.run(&["nft", &rules]);
    assert!(out.ok(), "{out}");

    let dg = topo.subdir("gw");
    let dr = topo.subdir("rw");
    let mut gw = RampartDaemon::start(
        bin(),
        &topo.gw,
        &dg,
        &conf(false, &dg, &gw_tun, rekey == Rekey::Gw),
    );
    let mut rw = RampartDaemon::start(
        bin(),
        &topo.rw,
        &dr,
        &conf(true, &dr, &format!("{prefix}r"), rekey == Rekey::Rw),
    );
    let mut cr = Client::connect(rw.socket()).unwrap();
    let mut cg = Client::connect(gw.socket()).unwrap();
    let (mut rw_child, mut gw_child) = (None, None);
    let up = testbed::wait_until(Duration::from_secs(10), || {
        rw_child = child(&mut cr);
        gw_child = child(&mut cg);
        rw_child.is_some() && gw_child.is_some()
    });
    assert!(
        up,
        "no transport Child SA on both sides\nrw:\n{}\ngw:\n{}",
        rw.log(),
        gw.log()
    );
    // Both sides use the addresses they see (RFC 7296 §2.23.1), over UDP encapsulation.
    if rekey != Rekey::No {
        // A new child on both sides (new inbound SPIs), with the same selectors.
        let (old_rw, old_gw) = (
            rw_child.as_ref().map(|c| c.3),
            gw_child.as_ref().map(|c| c.3),
        );
        let rekeyed = testbed::wait_until(Duration::from_secs(10), || {
            rw_child = child(&mut cr);
            gw_child = child(&mut cg);
            rw_child.as_ref().is_some_and(|c| Some(c.3) != old_rw)
                && gw_child.as_ref().is_some_and(|c| Some(c.3) != old_gw)
        });
        assert!(
            rekeyed,
            "no rekey across the NAT\nrw:\n{}\ngw:\n{}",
            rw.log(),
            gw.log()
        );
    }
    let (rw_encap, rw_l, rw_r, _) = rw_child.unwrap();
    let (gw_encap, gw_l, gw_r, _) = gw_child.unwrap();
    assert!(rw_encap && gw_encap, "NAT seen, yet no UDP encapsulation");
    assert!(
        rw_l.contains(addr::RW_V4) && rw_r.contains(addr::GW_V4),
        "rw's selectors {rw_l} === {rw_r}"
    );
    assert!(
        gw_l.contains(addr::GW_V4) && gw_r.contains(addr::NAT_OUT_V4),
        "gw's selectors {gw_l} === {gw_r}"
    );

    let before = counter(&topo.gw, "sealed");
    assert!(
        testbed::ping(&topo.rw, addr::GW_V4, 3),
        "no ping rw -> gw in transport mode across the NAT\nrw:\n{}\ngw:\n{}",
        rw.log(),
        gw.log()
    );
    assert!(counter(&topo.gw, "sealed") >= before + 3);

    // TCP and UDP carry data both ways: gw recomputes the checksums rw computed over its
    // private address (RFC 3948 §3.1.2), and rw's over gw's answers still hold.
    let mut server = topo.gw.command("python3");
    server
        .args([
            "-c",
            SERVER,
            addr::GW_V4,
            &TCP_PORT.to_string(),
            &UDP_PORT.to_string(),
        ])
        .stdout(std::fs::File::create(topo.subdir("srv").join("out")).unwrap())
        .stderr(std::fs::File::create(topo.subdir("srv").join("err")).unwrap());
    let mut server = testbed::process::Process::new("python3 server", server.spawn().unwrap());
    let listening = testbed::wait_until(Duration::from_secs(5), || {
        let out = topo
            .gw
            .run(&["ss", "-Hltn", &format!("sport = :{TCP_PORT}")]);
        out.ok() && !out.stdout.trim().is_empty()
    });
    assert!(listening, "the test server did not start");
    let tcp_before = counter(&topo.gw, "tun_tcp");
    let out = topo.rw.run(&[
        "timeout",
        "20",
        "python3",
        "-c",
        CLIENT,
        addr::GW_V4,
        &TCP_PORT.to_string(),
        &UDP_PORT.to_string(),
    ]);
    assert!(
        out.ok(),
        "TCP/UDP across the NAT in transport mode failed: {out}\nrw:\n{}\ngw:\n{}",
        rw.log(),
        gw.log()
    );
    let nat = addr::NAT_OUT_V4;
    assert!(
        out.stdout.contains(&format!("udp {nat} 1203")),
        "UDP: {out}"
    );
    assert!(
        out.stdout.contains(&format!("tcp {nat} 40960")),
        "TCP: {out}"
    );
    assert!(
        counter(&topo.gw, "tun_tcp") > tcp_before + 10,
        "the TCP segments did not come out of gw's TUN"
    );
    assert_eq!(
        counter(&topo.gw, "plain"),
        0,
        "plain ICMP, TCP or test UDP on gw's outer interface"
    );
    assert!(server.wait_exit(Duration::from_secs(5)).is_some());
    rw.stop();
    gw.stop();
}
