//! Rekeying started by Rampart (`rampart rekey`, CREATE_CHILD_SA, RFC 7296 §1.3.2, §1.3.3) and by
//! both sides at once (the collisions of §2.8.1 and §2.8.2), against strongSwan, under a
//! continuous ping that must lose nothing. strongSwan-started rekeys are covered by
//! interop_strongswan.rs.

use std::time::Duration;

use testbed::interop::{assert_up, start_charon, start_rampart, Pinger};
use testbed::topology::addr;
use testbed::{CharonOptions, Peer, SaState, Side, Topology};

use super::rampart;

/// (IKE SA id, Child SA id) of Rampart's only IKE SA and its child.
fn ids(p: &Peer) -> (String, String) {
    let Peer::Rampart(d) = p else {
        panic!("not Rampart")
    };
    let sa = d.ike_sas().first().cloned().unwrap_or_default();
    let child = sa.children.first().map(|c| c.id).unwrap_or_default();
    (sa.id.to_string(), child.to_string())
}

/// The IKE SA's SPIs as Rampart lists them.
fn ike_spis(p: &Peer) -> (String, String) {
    let Peer::Rampart(d) = p else {
        panic!("not Rampart")
    };
    let sa = d.ike_sas().first().cloned().unwrap_or_default();
    (sa.spi_i, sa.spi_r)
}

/// Who starts the rekeys.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Rampart,
    Both,
}

/// IKE messages on port 4500 (behind the non-ESP marker, RFC 3948 §2.2: four zero octets after
/// the UDP header), for iptables' u32 match.
const IKE_ON_4500: &str = "0>>22&0x3C@8=0";

/// Drops (`on`) or lets through again every outgoing IKE message of both gateways, so that
/// both sides' rekey requests are outstanding at once and their retransmissions cross: a
/// collision every time (RFC 7296 §2.8.1), without touching ESP.
fn hold_ike(topo: &Topology, on: bool) {
    for ns in [&topo.gw1, &topo.gw2] {
        ns.run_ok(&[
            "iptables",
            "-w",
            if on { "-A" } else { "-D" },
            "OUTPUT",
            "-p",
            "udp",
            "--dport",
            "4500",
            "-m",
            "u32",
            "--u32",
            IKE_ON_4500,
            "-j",
            "DROP",
        ]);
    }
}

fn rekey_child(r: &Peer, s: &Peer, who: Who) {
    let (_, child) = ids(r);
    let Peer::Charon(c) = s else { unreachable!() };
    std::thread::scope(|sc| {
        if who == Who::Both {
            sc.spawn(|| c.swanctl("--rekey", &["--child", testbed::side::CHILD]));
        }
        let Peer::Rampart(d) = r else { unreachable!() };
        let out = d.cli(&["rekey", "--child-sa", &child]);
        assert!(out.ok(), "rampart rekey --child-sa {child}: {out}");
    });
}

fn rekey_ike(r: &Peer, s: &Peer, who: Who) {
    let (ike, _) = ids(r);
    let Peer::Charon(c) = s else { unreachable!() };
    std::thread::scope(|sc| {
        if who == Who::Both {
            sc.spawn(|| c.swanctl("--rekey", &["--ike", testbed::side::CONN]));
        }
        let Peer::Rampart(d) = r else { unreachable!() };
        let out = d.cli(&["rekey", "--ike-sa", &ike]);
        assert!(out.ok(), "rampart rekey --ike-sa {ike}: {out}");
    });
}

/// Waits until exactly one tunnel is up again with SPIs different from `before`'s.
#[track_caller]
fn wait_rekeyed(r: &Peer, s: &Peer, before: &SaState, what: &str) -> SaState {
    let ok = testbed::wait_until(Duration::from_secs(15), || {
        let (a, b) = (r.sas(), s.sas());
        a.len() == 1 && b.len() == 1 && a[0].is_up() && b[0].is_up() && a[0].spi_in != before.spi_in
    });
    assert!(
        ok,
        "{what}: no single rekeyed tunnel within 15 s\nRampart {:?}\nstrongSwan {:?}\n--- Rampart log ---\n{}\n--- strongSwan log ---\n{}",
        r.sas(),
        s.sas(),
        r.log(),
        s.log()
    );
    assert_up(r, s, Duration::from_secs(5)).0
}

fn scenario(prefix: &str, rampart_initiator: bool, who: Who) {
    let mut tools = testbed::STRONGSWAN_TOOLS.to_vec();
    tools.push("iptables");
    if !testbed::require_root_and_tools(&tools) {
        return;
    }
    let topo = Topology::net2net(prefix);
    let mut ours = Side::psk(
        &[addr::GW1_V4],
        &[addr::GW2_V4],
        ("gw1.example.org", "gw2.example.org"),
        (&[addr::LAN1_V4], &[addr::LAN2_V4]),
        "aes256gcm16-prfsha256-x25519",
        // With PFS: the child rekey runs its own key exchange (RFC 7296 §1.3.3).
        "aes256gcm16-x25519",
    );
    let theirs = ours.mirror();
    ours.start = rampart_initiator;
    let (r, s) = if rampart_initiator {
        let s = start_charon(
            &topo.gw2,
            &topo.subdir("gw2"),
            &theirs,
            &CharonOptions::default(),
        );
        let r = start_rampart(
            rampart(),
            &topo.gw1,
            &topo.subdir("gw1"),
            &ours,
            &format!("{prefix}t"),
        );
        (r, s)
    } else {
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
        assert!(out.ok(), "strongSwan could not initiate: {out}");
        (r, s)
    };
    let (a, _) = assert_up(&r, &s, Duration::from_secs(20));
    assert_eq!(a.initiator, rampart_initiator);
    // Pings 50 ms apart across both rekeys (the colliding ones wait for retransmissions).
    let count = if who == Who::Both { 300 } else { 160 };
    let pinger = Pinger::start(
        &topo.h1,
        None,
        addr::H2_V4,
        count,
        Duration::from_millis(50),
    );
    std::thread::sleep(Duration::from_millis(1500));

    let both = who == Who::Both;
    if both {
        hold_ike(&topo, true);
    }
    rekey_child(&r, &s, who);
    if both {
        std::thread::sleep(Duration::from_millis(500));
        hold_ike(&topo, false);
    }
    let a = wait_rekeyed(&r, &s, &a, "Child SA rekey");
    std::thread::sleep(Duration::from_millis(1500));

    let ike_before = ike_spis(&r);
    if both {
        hold_ike(&topo, true);
    }
    rekey_ike(&r, &s, who);
    if both {
        std::thread::sleep(Duration::from_millis(500));
        hold_ike(&topo, false);
    }
    let ok = testbed::wait_until(Duration::from_secs(15), || {
        let (x, y) = (r.sas(), s.sas());
        x.len() == 1 && y.len() == 1 && x[0].is_up() && y[0].is_up() && ike_spis(&r) != ike_before
    });
    assert!(
        ok,
        "IKE SA rekey: no single rekeyed IKE SA within 15 s\n{}\n{}\n--- Rampart log ---\n{}",
        r.describe(),
        s.describe(),
        r.log()
    );
    let (a2, _) = assert_up(&r, &s, Duration::from_secs(5));
    assert_eq!(a2.spi_in, a.spi_in, "the IKE rekey must keep the Child SA");

    let res = pinger.finish();
    assert!(
        res.transmitted == count && res.received == count,
        "pings lost during the rekeys ({who:?}):\n{}\n--- Rampart log ---\n{}",
        res.text,
        r.log()
    );
    if both {
        // The requests crossed: at least one side saw each collision (RFC 7296 §2.8.1,
        // §2.8.2). Which one depends on which retransmission is processed first; the outcome
        // checked above (one SA pair, no loss) must be the same either way.
        let (ours, theirs) = (r.log(), s.log());
        let child = ours.contains("CHILD_SA rekey collision")
            || theirs.contains("detected CHILD_REKEY collision");
        let ike =
            ours.contains("]: rekey collision") || theirs.contains("detected IKE_REKEY collision");
        assert!(
            child && ike,
            "the rekeys did not collide (child: {child}, IKE: {ike})\n--- Rampart ---\n{ours}\n--- strongSwan ---\n{theirs}"
        );
    }
    drop((r, s));
}

#[test]
fn rampart_initiator_rekeys_child_and_ike_without_loss() {
    scenario("rki", true, Who::Rampart);
}

#[test]
fn rampart_responder_rekeys_child_and_ike_without_loss() {
    scenario("rkr", false, Who::Rampart);
}

/// Both sides rekey the Child SA at once, then the IKE SA: collisions resolved, one SA each.
#[test]
fn simultaneous_rekeys_collide_without_loss() {
    scenario("rkb", true, Who::Both);
}

/// A packet limit (RFC 4301 §4.4.2.1 soft lifetime, `rekey_packets`): the data plane reports it
/// crossed and the engine rekeys the Child SA with strongSwan, under a ping that loses nothing.
#[test]
fn rampart_rekeys_child_by_packet_count_without_loss() {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net("rkp");
    let mut ours = Side::psk(
        &[addr::GW1_V4],
        &[addr::GW2_V4],
        ("gw1.example.org", "gw2.example.org"),
        (&[addr::LAN1_V4], &[addr::LAN2_V4]),
        "aes256gcm16-prfsha256-x25519",
        "aes256gcm16",
    );
    let theirs = ours.mirror();
    ours.start = true;
    ours.rampart_child_extra = "rekey_packets = 40\nlife_packets = 1000\n".into();
    let s = start_charon(
        &topo.gw2,
        &topo.subdir("gw2"),
        &theirs,
        &CharonOptions::default(),
    );
    let r = start_rampart(rampart(), &topo.gw1, &topo.subdir("gw1"), &ours, "rkpt");
    let (a, _) = assert_up(&r, &s, Duration::from_secs(20));
    let count = 100;
    let pinger = Pinger::start(
        &topo.h1,
        None,
        addr::H2_V4,
        count,
        Duration::from_millis(50),
    );
    let res = pinger.finish();
    let (b, _) = assert_up(&r, &s, Duration::from_secs(10));
    assert_ne!(
        a.spi_in,
        b.spi_in,
        "no rekey after {count} pings with rekey_packets = 40\n--- Rampart log ---\n{}",
        r.log()
    );
    assert!(
        s.log().contains("parsed CREATE_CHILD_SA request") && s.log().contains("N(REKEY_SA)"),
        "strongSwan saw no Child SA rekey:\n{}",
        s.log()
    );
    assert!(
        res.transmitted == count && res.received == count,
        "pings lost across the packet-count rekeys:\n{}\n--- Rampart log ---\n{}",
        res.text,
        r.log()
    );
    drop((r, s));
}

/// A background process in a namespace, killed (and reaped) by PID if the test ends first.
struct Bg(Option<std::process::Child>);

impl Bg {
    #[track_caller]
    fn spawn(ns: &testbed::Netns, args: &[&str]) -> Bg {
        let mut c = ns.command(args[0]);
        c.args(&args[1..])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        match c.spawn() {
            Ok(child) => Bg(Some(child)),
            Err(e) => panic!("cannot start {args:?} in {}: {e}", ns.name()),
        }
    }

    /// Waits for it to exit; its stdout and stderr.
    fn finish(mut self) -> (String, String) {
        let Some(child) = self.0.take() else {
            return Default::default();
        };
        match child.wait_with_output() {
            Ok(o) => (
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            ),
            Err(e) => panic!("waiting: {e}"),
        }
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Rekeys under load: a UDP stream of 1200-byte datagrams at 20 Mbit/s (about 2,000 a second,
/// iperf3) from h1 to h2 through Rampart ⇄ strongSwan while Rampart rekeys the Child SA twice
/// (with PFS) and the IKE SA once. The old inbound SA stays until the rekey's delete
/// (RFC 7296 §1.3.3 / §2.8), so no datagram may be lost: iperf3's receiver counts every gap in
/// its sequence numbers.
#[test]
fn rampart_rekeys_under_udp_load_without_loss() {
    let mut tools = testbed::STRONGSWAN_TOOLS.to_vec();
    tools.push("iperf3");
    if !testbed::require_root_and_tools(&tools) {
        return;
    }
    let topo = Topology::net2net("rku");
    let mut ours = Side::psk(
        &[addr::GW1_V4],
        &[addr::GW2_V4],
        ("gw1.example.org", "gw2.example.org"),
        (&[addr::LAN1_V4], &[addr::LAN2_V4]),
        "aes256gcm16-prfsha256-x25519",
        "aes256gcm16-x25519",
    );
    let theirs = ours.mirror();
    ours.start = true;
    let s = start_charon(
        &topo.gw2,
        &topo.subdir("gw2"),
        &theirs,
        &CharonOptions::default(),
    );
    let r = start_rampart(rampart(), &topo.gw1, &topo.subdir("gw1"), &ours, "rkut");
    let (a, _) = assert_up(&r, &s, Duration::from_secs(20));
    let server = Bg::spawn(&topo.h2, &["iperf3", "-s", "-1", "-J", "-p", "5299"]);
    assert!(
        testbed::wait_until(Duration::from_secs(5), || {
            topo.h2
                .run(&["ss", "-Hltn", "sport = :5299"])
                .stdout
                .contains("5299")
        }),
        "iperf3 server not listening"
    );
    let secs = 8;
    let client = Bg::spawn(
        &topo.h1,
        &[
            "iperf3",
            "-c",
            addr::H2_V4,
            "-p",
            "5299",
            "-u",
            "-b",
            "20M",
            "-l",
            "1200",
            "-t",
            &secs.to_string(),
            "-J",
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));
    rekey_child(&r, &s, Who::Rampart);
    let a = wait_rekeyed(&r, &s, &a, "first Child SA rekey under load");
    rekey_ike(&r, &s, Who::Rampart);
    std::thread::sleep(Duration::from_millis(1000));
    rekey_child(&r, &s, Who::Rampart);
    wait_rekeyed(&r, &s, &a, "second Child SA rekey under load");
    let (c_out, c_err) = client.finish();
    let (s_out, s_err) = server.finish();
    let report: serde_json::Value = serde_json::from_str(&s_out).unwrap_or_else(|e| {
        panic!("no JSON from the iperf3 server ({e}):\n{s_out}\n{s_err}\nclient:\n{c_out}\n{c_err}")
    });
    let sum = &report["end"]["sum"];
    let (packets, lost) = (sum["packets"].as_u64(), sum["lost_packets"].as_u64());
    assert!(
        packets.is_some_and(|p| p > 1000 * secs),
        "too few datagrams arrived for a load test: {sum}\nclient:\n{c_out}"
    );
    assert_eq!(
        lost,
        Some(0),
        "datagrams lost across the rekeys: {sum}\n--- Rampart log ---\n{}\n--- strongSwan log ---\n{}",
        r.log(),
        s.log()
    );
    drop((r, s));
}
