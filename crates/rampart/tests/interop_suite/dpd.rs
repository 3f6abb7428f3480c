//! Dead peer detection (RFC 7296 §2.4) against strongSwan: liveness checks answered while the
//! peer lives, and after the peer is killed with SIGKILL (no DELETE) the survivor gives up after
//! its retransmissions and removes the SAs; with `dpd_action = "restart"` Rampart initiates again
//! and the tunnel comes back once the peer is back.
//!
//! Rampart retransmits a request 5 times, 4 s x 1.8^n apart (ike::EngineConfig defaults; the
//! daemon has no setting for them yet): it declares a peer dead 165 s after its first
//! unanswered liveness check. The two Rampart-survivor scenarios therefore run in one test, in
//! parallel.

use std::time::{Duration, Instant};

use testbed::interop::{assert_up, ping_from, start_charon, start_rampart, wait_no_sas};
use testbed::topology::addr;
use testbed::{CharonOptions, Peer, Side, Topology};

use super::rampart;

/// Rampart's give-up time for an unanswered request: 4 s * (1 + 1.8 + ... + 1.8^5).
const RAMPART_GIVE_UP: Duration = Duration::from_millis(165_060);

fn side() -> Side {
    Side::psk(
        &[addr::GW1_V4],
        &[addr::GW2_V4],
        ("gw1.example.org", "gw2.example.org"),
        (&[addr::LAN1_V4], &[addr::LAN2_V4]),
        "aes256gcm16-prfsha256-x25519",
        "aes256gcm16",
    )
}

fn kill(pid: u32) {
    assert!(testbed::cmd::signal(pid, "KILL"), "cannot SIGKILL {pid}");
}

fn pings(topo: &Topology, what: &str, a: &Peer, b: &Peer) {
    for (ns, dst) in [(&topo.h1, addr::H2_V4), (&topo.h2, addr::H1_V4)] {
        let out = ping_from(ns, None, dst, 2);
        assert!(
            out.ok(),
            "{what}: {out}\n{}\n{}",
            a.describe(),
            b.describe()
        );
    }
}

/// Rampart survivor: initiator, `dpd_action = "clear"`. Liveness checks every 2 s are
/// answered; after charon is killed the SAs go after the retransmissions, and nothing is
/// initiated again.
fn rampart_survives_clear() {
    let topo = Topology::net2net("dpc");
    let mut ours = side();
    let theirs = ours.mirror();
    ours.start = true;
    ours.dpd_delay = Duration::from_secs(2);
    ours.dpd_action = Some("clear".into());
    let s = start_charon(
        &topo.gw2,
        &topo.subdir("gw2"),
        &theirs,
        &CharonOptions::default(),
    );
    let r = start_rampart(
        super::rampart(),
        &topo.gw1,
        &topo.subdir("gw1"),
        &ours,
        "dpct",
    );
    let (a, _) = assert_up(&r, &s, Duration::from_secs(20));
    pings(&topo, "before", &r, &s);
    // Idle for three and a half liveness intervals: the checks are answered and change
    // nothing. (The pings' ESP counts as hearing from the peer, RFC 7296 §2.4, and Rampart
    // looks at the ESP counters once a second: the first check comes 2-3 s after the pings.)
    std::thread::sleep(Duration::from_secs(7));
    let checks = s.log().matches("parsed INFORMATIONAL request").count();
    assert!(
        checks >= 2,
        "Rampart sent {checks} liveness checks in 7 s with dpd_delay = 2s\n{}",
        s.log()
    );
    let (a2, _) = assert_up(&r, &s, Duration::from_secs(1));
    assert_eq!(
        a2.spi_in, a.spi_in,
        "answered liveness checks must change nothing"
    );

    let Peer::Charon(c) = &s else { unreachable!() };
    kill(c.pid());
    let killed = Instant::now();
    assert!(
        wait_no_sas(&r, RAMPART_GIVE_UP + Duration::from_secs(25)),
        "Rampart kept its SAs {:?} after the peer died\n{}",
        killed.elapsed(),
        r.describe()
    );
    let took = killed.elapsed();
    eprintln!("[dpc] Rampart removed the SAs {took:?} after the peer was killed");
    assert!(
        took >= RAMPART_GIVE_UP - Duration::from_secs(3),
        "Rampart removed the SAs after only {took:?}, before its retransmissions could end"
    );
    let log = r.log();
    assert!(
        log.contains("giving up after 5 retransmits of INFORMATIONAL"),
        "Rampart's log does not say why the SAs went:\n{log}"
    );
    // clear: no new attempt.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        r.sas().is_empty(),
        "dpd_action=clear re-created an SA: {}",
        r.describe()
    );
    assert!(!log.contains("dpd_action=restart"), "{log}");
    drop((r, s));
}

/// Rampart survivor: responder with `dpd_action = "restart"`. charon is killed and a fresh one
/// (configured, not initiating) started at once; when Rampart declares the old peer dead it
/// initiates, and the new tunnel carries traffic.
fn rampart_survives_restart() {
    let topo = Topology::net2net("dpr");
    let mut ours = side();
    let theirs = ours.mirror();
    ours.dpd_delay = Duration::from_secs(2);
    ours.dpd_action = Some("restart".into());
    let r = start_rampart(rampart(), &topo.gw1, &topo.subdir("gw1"), &ours, "dprt");
    let s = start_charon(
        &topo.gw2,
        &topo.subdir("gw2"),
        &theirs,
        &CharonOptions::default(),
    );
    let out = s.initiate();
    assert!(out.ok(), "strongSwan could not initiate: {out}");
    let (a, _) = assert_up(&r, &s, Duration::from_secs(20));
    assert!(!a.initiator, "{a:?}");
    pings(&topo, "before", &r, &s);

    let Peer::Charon(c) = &s else { unreachable!() };
    kill(c.pid());
    let killed = Instant::now();
    drop(s);
    // The peer comes back (its old SAs forgotten), ready to respond.
    let s2 = start_charon(
        &topo.gw2,
        &topo.subdir("gw2-new"),
        &theirs,
        &CharonOptions::default(),
    );
    let (a2, _) = assert_up(&r, &s2, RAMPART_GIVE_UP + Duration::from_secs(30));
    let took = killed.elapsed();
    eprintln!("[dpr] Rampart re-established the tunnel {took:?} after the peer was killed");
    assert!(
        a2.initiator && a2.spi_in != a.spi_in,
        "after dpd_action=restart Rampart must be the initiator of a new SA: {a2:?}"
    );
    assert!(
        r.log().contains("dpd_action=restart, initiating again"),
        "{}",
        r.log()
    );
    pings(&topo, "after the restart", &r, &s2);
    drop((r, s2));
}

/// Both Rampart-survivor scenarios, in parallel (each waits out Rampart's 165 s).
#[test]
fn rampart_detects_killed_strongswan_clear_and_restart() {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    std::thread::scope(|sc| {
        let clear = sc.spawn(rampart_survives_clear);
        let restart = sc.spawn(rampart_survives_restart);
        let (c, r) = (clear.join(), restart.join());
        assert!(
            c.is_ok() && r.is_ok(),
            "dpd_action=clear scenario {}, dpd_action=restart scenario {} (see above)",
            if c.is_ok() { "passed" } else { "FAILED" },
            if r.is_ok() { "passed" } else { "FAILED" }
        );
    });
}

/// strongSwan survivor (dpd_delay = 1s, retransmissions shortened to 1 s, 1.5 s, 2.25 s):
/// Rampart answers its liveness checks; after the Rampart daemon is killed strongSwan removes
/// the SAs within its schedule.
#[test]
fn strongswan_detects_killed_rampart() {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net("dps");
    let ours = side();
    let mut theirs = ours.mirror();
    theirs.dpd_delay = Duration::from_secs(1);
    theirs.dpd_action = Some("clear".into());
    let opts = CharonOptions {
        extra: "  retransmit_timeout = 1\n  retransmit_base = 1.5\n  retransmit_tries = 2\n".into(),
        ..CharonOptions::default()
    };
    let r = start_rampart(rampart(), &topo.gw1, &topo.subdir("gw1"), &ours, "dpst");
    let s = start_charon(&topo.gw2, &topo.subdir("gw2"), &theirs, &opts);
    let out = s.initiate();
    assert!(out.ok(), "strongSwan could not initiate: {out}");
    let (_, b) = assert_up(&r, &s, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(4));
    let answered = s.log().matches("parsed INFORMATIONAL response").count();
    assert!(
        answered >= 2,
        "Rampart answered {answered} of strongSwan's liveness checks in 4 s\n{}",
        s.log()
    );
    let (_, b2) = assert_up(&r, &s, Duration::from_secs(1));
    assert_eq!(b2.spi_in, b.spi_in);
    pings(&topo, "before", &r, &s);

    let Peer::Rampart(d) = &r else { unreachable!() };
    kill(d.pid());
    let killed = Instant::now();
    assert!(
        wait_no_sas(&s, Duration::from_secs(15)),
        "strongSwan kept its SAs 15 s after Rampart died\n{}",
        s.describe()
    );
    eprintln!(
        "[dps] strongSwan removed the SAs {:?} after Rampart was killed",
        killed.elapsed()
    );
    drop((r, s));
}

/// RFC 7296 §2.4: a liveness check is only needed when nothing protected came in from the peer
/// for `dpd_delay`. With ESP from strongSwan arriving every 100 ms, Rampart (dpd_delay = 2s)
/// must not send INFORMATIONAL requests.
#[test]
fn rampart_skips_liveness_checks_while_esp_arrives() {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net("dpe");
    let mut ours = side();
    let theirs = ours.mirror();
    ours.start = true;
    ours.dpd_delay = Duration::from_secs(2);
    let s = start_charon(
        &topo.gw2,
        &topo.subdir("gw2"),
        &theirs,
        &CharonOptions::default(),
    );
    let r = start_rampart(rampart(), &topo.gw1, &topo.subdir("gw1"), &ours, "dpet");
    assert_up(&r, &s, Duration::from_secs(20));
    let checks = || s.log().matches("parsed INFORMATIONAL request").count();
    let before = checks();
    // h2 -> h1: ESP from strongSwan to Rampart every 100 ms for 8 s.
    let res = testbed::interop::Pinger::start(
        &topo.h2,
        None,
        addr::H1_V4,
        80,
        Duration::from_millis(100),
    )
    .finish();
    assert_eq!(res.received, 80, "{}", res.text);
    let sent = checks() - before;
    assert_eq!(
        sent, 0,
        "Rampart sent {sent} liveness checks in 8 s while ESP from the peer arrived every 100 ms"
    );
    drop((r, s));
}
