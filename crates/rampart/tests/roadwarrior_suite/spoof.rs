//! Anti-spoofing (docs/config.md "Road warriors", RFC 4301 §5.2 step 4): the server narrows a
//! client's selectors to its virtual IP, and its data plane drops a packet that arrives through
//! the client's Child SA with another inner source address.
//!
//! A sender refuses to encrypt such a packet (its own SPD has only the virtual IP), so the test
//! plays the client's data plane itself: charon (strongSwan's own debug output, level 4 of its
//! `chd` subsystem) logs the Child SA's keys, and the test seals packets with them through
//! Rampart's `esp::DataPlane` with selectors that allow any source, then sends them to the
//! server's NAT-T port. A packet from the virtual IP (the control: it reaches the lan host,
//! which proves the crafted packets right) and one from another pool address (it must not, and
//! `selector_mismatch` counts it).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use testbed::swan_keys::last_key;
use testbed::{Capture, Charon, CharonOptions, Netns, RampartDaemon, TestDir};

use crate::common::*;

/// ICMP echo id of the crafted packets (the lan host's capture looks for it).
const ECHO_ID: u16 = 0x5a5a;

#[test]
fn spoofed_inner_source_is_dropped() {
    if !ready() {
        return;
    }
    let dir = TestDir::new("rws");
    let net = Net::new("rws");
    let c = certs(&dir.subdir("pki"), &[]);
    let srv_dir = dir.subdir("srv");
    let conf = format!(
        "{}{}{}",
        server_head(&srv_dir, false),
        server_conn("rw", ClientAuth::Eap, &c[0], false),
        eap_user("alice", "alice-password-0123"),
    );
    let server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    let opts = CharonOptions {
        other_level: 4,
        ..CharonOptions::default()
    };
    let charon = Charon::start_with(net.cli(), &dir.subdir("cli"), &opts);
    let local = "auth = eap-mschapv2\n      eap_id = alice";
    let secrets = "  eap-alice {\n    id = alice\n    secret = alice-password-0123\n  }";
    charon.load_config(&swan_client_conf(&c[0].ca, local, secrets));
    let out = charon.initiate("rw");
    assert!(out.ok(), "initiate failed: {out}\n{}", charon.log());
    let vip: Ipv4Addr = swan_vip(&charon, "rw")
        .expect("a virtual IP")
        .parse()
        .unwrap();

    // The server narrowed the client's selectors to its virtual IP.
    let sas = server.ike_sas();
    let child = sas
        .iter()
        .flat_map(|s| s.children.iter())
        .next()
        .expect("a Child SA on the server");
    assert_eq!(child.remote_ts, [format!("{vip}/32")], "{sas:?}");
    assert!(testbed::ping(net.cli(), LAN_HOST, 2));

    // The client's outbound SA: the peer's SPI and the initiator's key (charon initiated the
    // Child SA with IKE_AUTH, RFC 7296 §2.17).
    let swan_child = charon
        .list_sas()
        .into_iter()
        .flat_map(|s| s.children)
        .next()
        .expect("charon's Child SA");
    assert_eq!(swan_child.encr_alg, "AES_GCM_16");
    let spi = u32::from_str_radix(&swan_child.spi_out, 16).expect("hex SPI");
    let key = last_key(&charon.log(), "encryption initiator key").expect("key in charon's log");
    let sent = swan_child.packets_out;

    let mut cap = Capture::start(&net.lan, "l-eth", &dir.path().join("lan.pcap"));
    let before = drops(&server, "selector_mismatch");
    let spoofed = Ipv4Addr::new(198, 51, 100, 200);
    let packets = seal(
        spi,
        &key,
        sent,
        &[
            echo(vip, LAN_HOST.parse().unwrap(), 1),
            echo(spoofed, LAN_HOST.parse().unwrap(), 2),
        ],
    );
    send_udp(net.cli(), dir.path(), SERVER, &packets);
    let counted = testbed::wait_until(WAIT, || drops(&server, "selector_mismatch") == before + 1);
    let seen_ok = testbed::wait_until(WAIT, || cap.count(&echo_filter(1)) == 1);
    cap.stop();
    assert!(
        seen_ok,
        "the control packet from the virtual IP did not reach the lan host: {:?}\n{}",
        cap.lines("icmp"),
        serde_json::to_string(&counters(&server)).unwrap_or_default()
    );
    assert!(
        counted,
        "selector_mismatch not counted once: {}",
        counters(&server)["drops"]
    );
    assert_eq!(
        cap.count(&echo_filter(2)),
        0,
        "the spoofed packet reached the lan host: {:?}",
        cap.lines("icmp")
    );
    // The tunnel still works for the client itself.
    assert!(testbed::ping(net.cli(), LAN_HOST, 2));
}

/// The crafted echo request number `seq` at the lan host. Its source is not matched: the
/// server masquerades the pool out of every interface but the TUN (lan included).
fn echo_filter(seq: u16) -> String {
    format!("icmp[0] = 8 and icmp[4:2] = {ECHO_ID} and icmp[6:2] = {seq}")
}

/// An IPv4 ICMP echo request `src` → `dst` with id [`ECHO_ID`] (RFC 792, RFC 791).
fn echo(src: Ipv4Addr, dst: Ipv4Addr, seq: u16) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0];
    icmp.extend_from_slice(&ECHO_ID.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(b"rampart spoof test");
    let sum = checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let total = (20 + icmp.len()) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 1, 0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&icmp);
    ip
}

/// The Internet checksum (RFC 1071).
fn checksum(b: &[u8]) -> u16 {
    let mut s: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Seals `inner` packets as ESP (AES-GCM-16 with `key` = key | salt, SPI `spi`), numbered after
/// the `sent` packets the client already sent plus a margin (fresh for the server's replay
/// window, RFC 4303 §3.4.3). The selectors allow any IPv4 source: that is the point.
fn seal(spi: u32, key: &[u8], sent: u64, inner: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let keys = |spi: u32, k: &[u8]| esp::SaKeys {
        spi,
        encr: crypto::EncrAlg::new(crypto::EncrId::AesGcm16, Some(256)),
        integ: None,
        encr_key: crypto::SecretBytes::from_slice(k),
        integ_key: crypto::SecretBytes::new(Vec::new()),
    };
    let any = wire::TrafficSelector::any_v4();
    let local: SocketAddr = "203.0.113.2:4500".parse().unwrap();
    let remote: SocketAddr = format!("{SERVER}:4500").parse().unwrap();
    let dp = esp::DataPlane::new();
    dp.install_child(esp::ChildSaConfig {
        id: 1,
        mode: esp::Mode::Tunnel,
        protocol: esp::SecurityProtocol::Esp,
        local_ts: vec![any],
        remote_ts: vec![any],
        local,
        remote,
        encap: true,
        inbound: keys(0x1000, &[0u8; 36]),
        outbound: keys(spi, key),
        replay_window: esp::ChildSaConfig::DEFAULT_REPLAY_WINDOW,
        esn: false,
        lifetime: esp::Lifetime::default(),
        options: esp::TunnelOptions::default(),
    })
    .expect("install the client's SA");
    let filler = echo(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 0);
    let mut out = Vec::new();
    for _ in 0..sent + 8 {
        dp.encapsulate(&filler, &mut out).expect("seal");
    }
    inner
        .iter()
        .map(|p| {
            dp.encapsulate(p, &mut out).expect("seal");
            out.clone()
        })
        .collect()
}

/// Sends each payload as one UDP datagram from `ns` to `dst`:4500 (bash's /dev/udp; the server
/// does not tie ESP-in-UDP to the peer's source port). Each payload goes through a file and one
/// `dd` write: bash's own `printf` flushes at every newline byte, which would split a datagram.
fn send_udp(ns: &Netns, dir: &Path, dst: &str, payloads: &[Vec<u8>]) {
    let mut script = String::new();
    for (i, p) in payloads.iter().enumerate() {
        let f = dir.join(format!("esp-{i}.bin"));
        std::fs::write(&f, p).unwrap();
        script.push_str(&format!(
            "dd if='{}' bs=65536 count=1 status=none > /dev/udp/{dst}/4500\n",
            f.display()
        ));
    }
    let out = ns.run(&["bash", "-c", &script]);
    assert!(out.ok(), "{out}");
}
