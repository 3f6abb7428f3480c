//! NAT traversal (RFC 7296 §2.23, RFC 3948) and forced UDP encapsulation, in network namespaces.
//!
//! - A road warrior behind a MASQUERADE router (`testbed::NatTopology`, also with
//!   `--random-fully`), Rampart behind the NAT with strongSwan as gateway and the reverse: NAT
//!   detected by the right side, NAT-keepalives (a single 0xFF octet to port 4500, RFC 3948
//!   §2.3) sent only by the side behind the NAT, and a NAT mapping change (new MASQUERADE ports,
//!   conntrack flushed) followed, with MOBIKE (RFC 4555 §3.5, §3.8: UPDATE_SA_ADDRESSES) and
//!   without it (RFC 7296 §2.23: the gateway follows an authenticated message from the new
//!   address).
//! - Rampart <-> Rampart with `encap = true` on one side and no NAT: the wire carries IKE on
//!   4500 after IKE_SA_INIT and ESP only inside UDP.
//!
//! Needs root; under CI=true a missing tool fails the test.

use std::time::{Duration, Instant};

use testbed::interop::{
    assert_up, keepalives, ping_from, start_charon, start_rampart, wait_no_sas, wait_ping,
};
use testbed::nat::{addr, NAT_TOOLS};
use testbed::{Capture, CharonOptions, Masquerade, NatTopology, Peer, Side};

use super::rampart;

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const ESP: &str = "aes256gcm16";
/// Rampart's NAT-keepalive interval (ike::EngineConfig::keepalive_interval) plus slack.
const KEEPALIVE_WAIT: Duration = Duration::from_secs(27);
/// The ports the router uses after the mapping change.
const NEW_PORTS: (u16, u16) = (20000, 20099);

fn tools() -> bool {
    let mut t = testbed::STRONGSWAN_TOOLS.to_vec();
    t.extend_from_slice(NAT_TOOLS);
    testbed::require_root_and_tools(&t)
}

/// The road warrior's view: any local address, the gateway's address, its inner /32 <-> the LAN.
fn rw_side() -> Side {
    Side::psk(
        &[],
        &[addr::GW_V4],
        ("rw.example.org", "gw.example.org"),
        (&[addr::RW_INNER_NET], &[addr::LAN_V4]),
        IKE,
        ESP,
    )
}

/// The gateway's view: its address, any peer address (`%any`).
fn gw_side() -> Side {
    let mut s = rw_side().mirror();
    s.local_addrs = vec![addr::GW_V4.into()];
    s.remote_addrs = vec!["%any".into()];
    s
}

/// Pings both ways through the tunnel (rw's inner address <-> h).
#[track_caller]
fn ping_both_ways(topo: &NatTopology, rw: &Peer, gw: &Peer, what: &str) {
    for (ns, src, dst) in [
        (&topo.rw, Some(addr::RW_INNER_V4), addr::H_V4),
        (&topo.h, None, addr::RW_INNER_V4),
    ] {
        let out = ping_from(ns, src, dst, 2);
        assert!(
            out.ok(),
            "{what}: ping {} -> {dst} failed: {out}\n{}\n{}\nNAT mappings: {}",
            ns.name(),
            rw.describe(),
            gw.describe(),
            topo.mappings()
        );
    }
}

/// The peer address:port the gateway's IKE SA uses (`192.0.2.254:4500`).
fn gw_view_of_rw(gw: &Peer) -> String {
    match gw {
        Peer::Charon(c) => c
            .list_sas()
            .first()
            .map(|s| format!("{}:{}", s.remote_host, s.remote_port))
            .unwrap_or_default(),
        Peer::Rampart(d) => d
            .ike_sas()
            .first()
            .map(|s| s.remote.clone())
            .unwrap_or_default(),
    }
}

/// The IKE SA's initiator SPI as the peer lists it (hex, lower case, no leading zeros).
fn ike_spi_i(p: &Peer) -> String {
    let spi = match p {
        Peer::Charon(c) => c
            .list_sas()
            .first()
            .map(|s| s.initiator_spi.clone())
            .unwrap_or_default(),
        Peer::Rampart(d) => d
            .ike_sas()
            .first()
            .map(|s| s.spi_i.clone())
            .unwrap_or_default(),
    };
    spi.trim_start_matches('0').to_ascii_lowercase()
}

fn port_of(addr_port: &str) -> u16 {
    addr_port
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(0)
}

/// Rampart's NAT view of its only IKE SA: (we are behind a NAT, the peer is).
#[track_caller]
fn rampart_nat(p: &Peer) -> (bool, bool) {
    let Peer::Rampart(d) = p else {
        panic!("not Rampart")
    };
    let sas = d.ike_sas();
    let s = sas.first().cloned().unwrap_or_default();
    (s.nat_local, s.nat_remote)
}

/// Changes the NAT mapping (MASQUERADE to ports 20000-20099, conntrack flushed) and waits until
/// the gateway's IKE SA uses the new port and traffic passes both ways again.
#[track_caller]
fn change_mapping_and_follow(topo: &NatTopology, rw: &Peer, gw: &Peer) {
    let before = gw_view_of_rw(gw);
    let spis = |p: &Peer| p.sas().iter().map(|s| s.spi_in.clone()).collect::<Vec<_>>();
    let spis_before = (spis(rw), spis(gw));
    let ike_before = (ike_spi_i(rw), ike_spi_i(gw));
    topo.set_masquerade(Masquerade::ToPorts(NEW_PORTS.0, NEW_PORTS.1));
    topo.flush_conntrack();
    let started = Instant::now();
    let mut now = String::new();
    let moved = testbed::wait_until(Duration::from_secs(20), || {
        // Traffic from rw creates the new mapping; the rw's liveness checks carry IKE through it.
        let _ = ping_from(&topo.rw, Some(addr::RW_INNER_V4), addr::H_V4, 1);
        now = gw_view_of_rw(gw);
        (NEW_PORTS.0..=NEW_PORTS.1).contains(&port_of(&now))
    });
    assert!(
        moved,
        "the gateway ({}) did not follow the NAT mapping change within 20 s: it uses {now} \
         (before: {before}), the router maps to {}-{}\n{}\n{}\nNAT mappings: {}",
        gw.label(),
        NEW_PORTS.0,
        NEW_PORTS.1,
        rw.describe(),
        gw.describe(),
        topo.mappings()
    );
    eprintln!(
        "[{}] mapping {before} -> {now} followed after {:?}",
        topo.prefix(),
        started.elapsed()
    );
    assert!(
        wait_ping(&topo.h, None, addr::RW_INNER_V4, Duration::from_secs(10)),
        "no traffic from h to rw after the gateway followed the mapping change\n{}\n{}",
        rw.describe(),
        gw.describe()
    );
    ping_both_ways(topo, rw, gw, "after the NAT mapping change");
    assert_eq!(
        (ike_spi_i(rw), ike_spi_i(gw)),
        ike_before,
        "following the mapping change must keep the IKE SA (initiator SPIs on rw, gw)"
    );
    let (a, b) = assert_up(rw, gw, Duration::from_secs(10));
    // Rampart moves the Child SAs in place; strongSwan without MOBIKE rekeys them instead
    // ("remote endpoint changed" -> CHILD_REKEY), which is its choice.
    if matches!(gw, Peer::Rampart(_)) {
        assert_eq!(
            (spis(rw), spis(gw)),
            spis_before,
            "Rampart as gateway must keep the Child SAs (inbound SPIs rw, gw): {a:?} / {b:?}"
        );
    }
}

/// Waits a full keepalive interval and checks who sent NAT-keepalives on the gateway's outer
/// link: `expect_rw` for the side behind the NAT (seen as the router's address), never the
/// gateway.
#[track_caller]
fn check_keepalives(cap: &Capture, established: Instant, rw: &Peer, gw: &Peer) {
    let rw_sent = testbed::wait_until(KEEPALIVE_WAIT.saturating_sub(established.elapsed()), || {
        !keepalives(cap, addr::NAT_OUT_V4).is_empty()
    });
    // Wait out the rest of the interval so that the gateway had its chance to (wrongly) send.
    let rest = KEEPALIVE_WAIT.saturating_sub(established.elapsed());
    std::thread::sleep(rest);
    let from_gw = keepalives(cap, addr::GW_V4);
    let from_rw = keepalives(cap, addr::NAT_OUT_V4);
    assert!(
        rw_sent && !from_rw.is_empty(),
        "the side behind the NAT ({}) sent no NAT-keepalive within {KEEPALIVE_WAIT:?}",
        rw.label()
    );
    assert!(
        from_gw.is_empty(),
        "the gateway ({}), not behind a NAT, sent NAT-keepalives: {from_gw:#?}",
        gw.label()
    );
    eprintln!(
        "keepalives in {:?}: {} from {} behind the NAT, none from {}",
        established.elapsed(),
        from_rw.len(),
        rw.label(),
        gw.label()
    );
}

/// Rampart on rw behind the NAT initiates to strongSwan on gw.
fn rampart_behind_nat(
    prefix: &str,
    masq: Masquerade,
    mobike: bool,
    keepalive_check: bool,
    mapping_change: bool,
) {
    if !tools() {
        return;
    }
    let topo = NatTopology::new(prefix, masq);
    let cap = Capture::start(&topo.gw, "eth0", &topo.dir().path().join("outer.pcap"));
    let mut gw_conf = gw_side();
    gw_conf.mobike = Some(mobike);
    let gw = start_charon(
        &topo.gw,
        &topo.subdir("gw"),
        &gw_conf,
        &CharonOptions::default(),
    );
    let mut rw_conf = rw_side();
    rw_conf.start = true;
    // Liveness checks carry IKE through a changed mapping (and, with MOBIKE, the NAT detection
    // that reveals it, RFC 4555 §3.8).
    rw_conf.dpd_delay = Duration::from_secs(2);
    let rw = start_rampart(
        rampart(),
        &topo.rw,
        &topo.subdir("rw"),
        &rw_conf,
        &format!("{prefix}t"),
    );
    let (a, b) = assert_up(&rw, &gw, Duration::from_secs(20));
    let established = Instant::now();
    assert!(a.initiator && a.encap && b.encap, "{a:?} / {b:?}");
    // strongSwan with kernel-libipsec always fakes its NAT_DETECTION_SOURCE_IP (it needs UDP
    // encapsulation), so Rampart also sees "the peer is behind a NAT".
    assert_eq!(
        rampart_nat(&rw),
        (true, true),
        "Rampart behind the NAT must detect itself behind it (nat_local; nat_remote: strongSwan fakes)"
    );
    let Peer::Charon(c) = &gw else { unreachable!() };
    let s = c.list_sas().first().cloned().unwrap_or_default();
    assert_eq!(s.remote_host, addr::NAT_OUT_V4, "strongSwan's view of rw");
    assert_eq!(
        s.raw.get("nat-remote").map(String::as_str),
        Some("yes"),
        "strongSwan must see the peer behind a NAT: {:?}",
        s.raw
    );
    let port = port_of(&gw_view_of_rw(&gw));
    match masq {
        Masquerade::Plain => assert_eq!(port, 4500, "plain MASQUERADE keeps port 4500"),
        _ => assert!(
            port != 4500 && port != 500 && port != 0,
            "--random-fully must hide the source port, strongSwan sees {port}"
        ),
    }
    ping_both_ways(&topo, &rw, &gw, "through the NAT");
    if keepalive_check {
        check_keepalives(&cap, established, &rw, &gw);
    }
    if mapping_change {
        change_mapping_and_follow(&topo, &rw, &gw);
    }
    let out = rw.terminate();
    assert!(out.ok(), "{out}");
    for p in [&rw, &gw] {
        assert!(wait_no_sas(p, Duration::from_secs(10)), "{}", p.describe());
    }
}

/// strongSwan on rw behind the NAT initiates to Rampart on gw (`remote_addrs = ["%any"]`).
fn strongswan_behind_nat(prefix: &str, masq: Masquerade, mobike: bool, keepalive_check: bool) {
    if !tools() {
        return;
    }
    let topo = NatTopology::new(prefix, masq);
    let cap = Capture::start(&topo.gw, "eth0", &topo.dir().path().join("outer.pcap"));
    let gw = start_rampart(
        rampart(),
        &topo.gw,
        &topo.subdir("gw"),
        &gw_side(),
        &format!("{prefix}t"),
    );
    let mut rw_conf = rw_side();
    // Liveness checks carry IKE (and with MOBIKE the NAT detection, RFC 4555 §3.8) through a
    // changed mapping. charon sends a keepalive only after `keep_alive` without sending
    // anything, so it must be shorter than the liveness interval to be seen.
    rw_conf.dpd_delay = Duration::from_secs(4);
    rw_conf.mobike = Some(mobike);
    let opts = CharonOptions {
        extra: "  keep_alive = 1s\n".into(),
        ..CharonOptions::default()
    };
    let rw = start_charon(&topo.rw, &topo.subdir("rw"), &rw_conf, &opts);
    let out = rw.initiate();
    assert!(
        out.ok(),
        "strongSwan could not initiate: {out}\n{}",
        gw.log()
    );
    let (a, b) = assert_up(&rw, &gw, Duration::from_secs(20));
    let established = Instant::now();
    assert!(!b.initiator && a.encap && b.encap, "{a:?} / {b:?}");
    assert_eq!(
        rampart_nat(&gw),
        (false, true),
        "Rampart as gateway must see the peer behind a NAT and itself not (nat_local, nat_remote)"
    );
    let seen = gw_view_of_rw(&gw);
    assert!(
        seen.starts_with(&format!("{}:", addr::NAT_OUT_V4)),
        "Rampart's view of rw: {seen}"
    );
    match masq {
        Masquerade::Plain => assert_eq!(port_of(&seen), 4500, "plain MASQUERADE keeps 4500"),
        _ => assert!(
            ![0, 500, 4500].contains(&port_of(&seen)),
            "--random-fully must hide the source port, Rampart sees {seen}"
        ),
    }
    ping_both_ways(&topo, &rw, &gw, "through the NAT");
    if keepalive_check {
        check_keepalives(&cap, established, &rw, &gw);
    }
    change_mapping_and_follow(&topo, &rw, &gw);
    let out = gw.terminate();
    assert!(out.ok(), "{out}");
    for p in [&rw, &gw] {
        assert!(wait_no_sas(p, Duration::from_secs(10)), "{}", p.describe());
    }
}

/// Rampart behind plain MASQUERADE, MOBIKE negotiated: NAT detected on the right side, traffic
/// both ways, and only Rampart (behind the NAT) sends NAT-keepalives.
#[test]
fn rampart_behind_nat_keepalives() {
    rampart_behind_nat("nrk", Masquerade::Plain, true, true, false);
}

/// Rampart behind `MASQUERADE --random-fully`, no MOBIKE: the source port is randomised, and
/// strongSwan follows a mapping change from Rampart's next authenticated message (RFC 7296
/// §2.23).
#[test]
fn rampart_behind_nat_random_fully_mapping_change_without_mobike() {
    rampart_behind_nat("nrr", Masquerade::RandomFully, false, false, true);
}

/// Rampart behind plain MASQUERADE with MOBIKE: after a mapping change Rampart, the MOBIKE
/// initiator, must notice it (NAT detection in its liveness checks, RFC 4555 §3.8) and send
/// UPDATE_SA_ADDRESSES; strongSwan, the MOBIKE responder, rightly does not move the SAs on an
/// ordinary message (RFC 4555 §3.5).
#[test]
fn rampart_behind_nat_mapping_change_with_mobike() {
    rampart_behind_nat("nrm", Masquerade::Plain, true, false, true);
}

/// strongSwan behind plain MASQUERADE, MOBIKE negotiated: Rampart as gateway sends no keepalive,
/// strongSwan does; after a mapping change strongSwan sends UPDATE_SA_ADDRESSES and Rampart, as
/// MOBIKE responder, moves the SAs.
#[test]
fn strongswan_behind_nat_keepalives_and_mapping_change() {
    strongswan_behind_nat("nsk", Masquerade::Plain, true, true);
}

/// strongSwan behind `MASQUERADE --random-fully`, no MOBIKE: Rampart as gateway follows the
/// mapping change from strongSwan's next authenticated message (RFC 7296 §2.23).
#[test]
fn strongswan_behind_nat_random_fully_without_mobike() {
    strongswan_behind_nat("nsr", Masquerade::RandomFully, false, false);
}

/// Rampart <-> Rampart without NAT, `encap = true` on gw1 only (RFC 7296 §2.23: it fakes its
/// NAT_DETECTION_SOURCE_IP): both sides see a NAT at gw1, IKE moves to port 4500 after
/// IKE_SA_INIT, and ESP crosses the wire only inside UDP 4500 (RFC 3948), never as IP protocol 50.
#[test]
fn forced_encap_rampart_pair_without_nat() {
    use testbed::topology::{addr as a, OUTER_IF};
    if !testbed::require_root_and_tools(testbed::NETNS_TOOLS) {
        return;
    }
    let topo = testbed::Topology::net2net("nfe");
    let mut cap = Capture::start(&topo.gw1, OUTER_IF, &topo.dir().path().join("outer.pcap"));
    let mut gw1 = Side::psk(
        &[a::GW1_V4],
        &[a::GW2_V4],
        ("gw1.example.org", "gw2.example.org"),
        (&[a::LAN1_V4], &[a::LAN2_V4]),
        IKE,
        ESP,
    );
    let gw2 = gw1.mirror();
    gw1.encap = true;
    gw1.start = true;
    let r2 = start_rampart(rampart(), &topo.gw2, &topo.subdir("gw2"), &gw2, "nfet2");
    let r1 = start_rampart(rampart(), &topo.gw1, &topo.subdir("gw1"), &gw1, "nfet1");
    let (s1, s2) = assert_up(&r1, &r2, Duration::from_secs(20));
    assert!(
        s1.encap && s2.encap,
        "ESP must be UDP-encapsulated: {s1:?} / {s2:?}"
    );
    assert_eq!(
        (s1.remote_port.as_str(), s2.remote_port.as_str()),
        ("4500", "4500")
    );
    // The side that fakes looks, to its peer, as if behind a NAT.
    let (_, gw2_sees_nat_at_gw1) = rampart_nat(&r2);
    assert!(gw2_sees_nat_at_gw1, "gw2 must see gw1 behind a NAT");
    for (ns, dst) in [(&topo.h1, a::H2_V4), (&topo.h2, a::H1_V4)] {
        let out = ping_from(ns, None, dst, 3);
        assert!(out.ok(), "{out}\n{}\n{}", r1.describe(), r2.describe());
    }
    let out = r1.terminate();
    assert!(out.ok(), "{out}");
    assert!(
        wait_no_sas(&r2, Duration::from_secs(10)),
        "{}",
        r2.describe()
    );
    cap.stop();

    let plain_esp = cap.lines("ip proto 50 or ip6 proto 50");
    assert!(
        plain_esp.is_empty(),
        "plain ESP on the wire: {plain_esp:#?}"
    );
    let esp_in_udp = cap.esp_in_udp_count();
    assert!(
        esp_in_udp >= 12,
        "6 pings both ways need 12 ESP-in-UDP packets, saw {esp_in_udp}"
    );
    // IKE_SA_INIT (both NAT detection notifies in each direction) on 500, everything after on
    // 4500 behind the non-ESP marker.
    let on_500 = cap.lines("udp port 500");
    assert_eq!(
        on_500.len(),
        2,
        "only IKE_SA_INIT request and response on port 500: {on_500:#?}"
    );
    let file = cap.file().display().to_string();
    let verbose = testbed::cmd::run_args("tcpdump", &["-r", &file, "-n", "-v", "udp port 500"]);
    assert!(
        verbose.stdout.matches("nat_detection_source_ip").count() >= 2
            && verbose
                .stdout
                .matches("nat_detection_destination_ip")
                .count()
                >= 2,
        "IKE_SA_INIT must carry NAT detection notifies both ways: {verbose}"
    );
    let ike_4500 = cap.ike_count() - on_500.len();
    assert!(
        ike_4500 >= 4,
        "IKE_AUTH and INFORMATIONAL on 4500, saw {ike_4500} IKE messages there"
    );
    let foreign = cap.foreign_packets();
    assert!(
        foreign.is_empty(),
        "packets other than IKE/NAT-T between the gateways: {foreign:#?}"
    );
    drop((r1, r2));
}
