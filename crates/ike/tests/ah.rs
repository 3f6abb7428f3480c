//! AH Child SAs in memory (RFC 4302 negotiated by IKEv2, RFC 7296 §3.3.3): established in both
//! roles with integrity-only keys, mixed AH/ESP offers, transport mode, rekeys (with PFS and
//! in collision), deletes, and the NAT rules (RFC 3948 encapsulates ESP only: no AH behind a
//! NAT or with forced UDP encapsulation, and an AH child is deleted when MOBIKE finds one).

mod sim;

use std::time::Duration;

use crypto::proposal::Protocol;
use crypto::{IntegId, KeId};
use ike::{ChildSaInstall, EngineConfig, Event, IkeConfig, IkeSaStatus, Mode};
use sim::*;

const GCM: &str = "aes256gcm16-prfsha256-x25519";

/// Sets the children's AH and ESP proposals.
fn protos(mut c: IkeConfig, ah_p: &[&str], esp_p: &[&str]) -> IkeConfig {
    for ch in &mut c.children {
        ch.ah_proposals = ah_p.iter().map(|p| ah(p)).collect();
        ch.esp_proposals = esp_p.iter().map(|p| esp(p)).collect();
    }
    c
}

/// A child's (AH, ESP) proposal strings.
type Protos<'a> = (&'a [&'a str], &'a [&'a str]);

/// A and B with these AH / ESP proposals.
fn pair(a: Protos<'_>, b: Protos<'_>) -> (IkeConfig, IkeConfig) {
    let (ca, cb) = default_pair(&[GCM], &[]);
    (protos(ca, a.0, a.1), protos(cb, b.0, b.1))
}

fn sim_of(a: Protos<'_>, b: Protos<'_>, cfg: EngineConfig) -> Sim {
    let (ca, cb) = pair(a, b);
    Sim::with_cfg(cfg.clone(), cfg, ca, cb, creds("k"), creds("k"))
}

fn ups(ev: &[Event]) -> Vec<&ChildSaInstall> {
    ev.iter()
        .filter_map(|e| match e {
            Event::ChildSaUp(c) => Some(c.as_ref()),
            _ => None,
        })
        .collect()
}

fn down_reasons(ev: &[Event]) -> Vec<&str> {
    ev.iter()
        .filter_map(|e| match e {
            Event::ChildSaDown { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect()
}

fn one(s: &[IkeSaStatus]) -> &IkeSaStatus {
    assert_eq!(s.len(), 1, "expected one IKE SA: {s:#?}");
    assert_eq!(s[0].state, "ESTABLISHED");
    &s[0]
}

/// The last Child SA each side installed is AH with `integ` and `key_len`-byte integrity keys,
/// crosswise between the sides, no encryption keys and no UDP encapsulation; status agrees.
fn assert_ah_child(sim: &Sim, integ: IntegId, key_len: usize) {
    let ca = *ups(&sim.events_a).last().expect("A installed no child");
    let cb = *ups(&sim.events_b).last().expect("B installed no child");
    for c in [ca, cb] {
        assert_eq!(c.suite.protocol(), Protocol::Ah);
        assert_eq!(c.suite.integ, Some(integ));
        assert!(c.inbound.encr_key.is_empty() && c.outbound.encr_key.is_empty());
        assert_eq!(c.inbound.integ_key.len(), key_len);
        assert_eq!(c.outbound.integ_key.len(), key_len);
        assert_ne!(c.inbound.integ_key, c.outbound.integ_key);
        assert!(!c.encap, "AH is never UDP-encapsulated");
    }
    assert_eq!(ca.outbound.integ_key, cb.inbound.integ_key);
    assert_eq!(ca.inbound.integ_key, cb.outbound.integ_key);
    assert_eq!(ca.outbound.spi, cb.inbound.spi);
    assert_eq!(ca.inbound.spi, cb.outbound.spi);
    assert_eq!(ca.suite, cb.suite);
    for st in [sim.a.status(sim.now), sim.b.status(sim.now)] {
        let c = one(&st).children.last().expect("no child in status");
        assert_eq!(c.suite.protocol(), Protocol::Ah);
    }
}

#[test]
fn ah_child_established_with_either_side_initiating() {
    for who in ['a', 'b'] {
        let mut sim = sim_of(
            (&["sha256"], &[]),
            (&["sha512", "sha256"], &[]),
            EngineConfig::default(),
        );
        let now = sim.now;
        if who == 'a' {
            sim.a.initiate(now, "net", None, None).unwrap();
        } else {
            sim.b.initiate(now, "net", None, None).unwrap();
        }
        sim.run_for(Duration::from_secs(1));
        assert_ah_child(&sim, IntegId::HmacSha2_256_128, 32);
        assert_eq!(ups(&sim.events_a)[0].suite.to_string(), "sha256");
    }
}

#[test]
fn ah_with_sha512_and_esn() {
    let mut sim = sim_of(
        (&["sha512-esn"], &[]),
        (&["sha512-esn-noesn"], &[]),
        EngineConfig::default(),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_ah_child(&sim, IntegId::HmacSha2_512_256, 64);
    assert!(ups(&sim.events_a)[0].esn() && ups(&sim.events_b)[0].esn());
}

#[test]
fn mixed_offers() {
    // (A's AH, A's ESP), (B's AH, B's ESP), expected protocol.
    let cases: [(Protos<'_>, Protos<'_>, Protocol); 4] = [
        // A offers AH then ESP; B only has ESP: ESP.
        (
            (&["sha256"], &["aes256gcm16"]),
            (&[], &["aes256gcm16"]),
            Protocol::Esp,
        ),
        // B has both: AH, its first preference.
        (
            (&["sha256"], &["aes256gcm16"]),
            (&["sha256"], &["aes256gcm16"]),
            Protocol::Ah,
        ),
        // A offers only ESP: ESP even though B prefers AH.
        (
            (&[], &["aes256gcm16"]),
            (&["sha256"], &["aes256gcm16"]),
            Protocol::Esp,
        ),
        // B's AH algorithm differs: ESP.
        (
            (&["sha384"], &["aes256gcm16"]),
            (&["sha256"], &["aes256gcm16"]),
            Protocol::Esp,
        ),
    ];
    for (a, b, want) in cases {
        let mut sim = sim_of(a, b, EngineConfig::default());
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        for ev in [&sim.events_a, &sim.events_b] {
            let u = ups(ev);
            assert_eq!(u.len(), 1, "{a:?} {b:?}");
            assert_eq!(u[0].suite.protocol(), want, "{a:?} {b:?}");
        }
    }
}

#[test]
fn ah_only_against_esp_only_gives_no_child() {
    let mut sim = sim_of(
        (&["sha256"], &[]),
        (&[], &["aes256gcm16"]),
        EngineConfig::default(),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert!(ups(&sim.events_a).is_empty() && ups(&sim.events_b).is_empty());
    assert!(
        one(&sim.a.status(sim.now)).children.is_empty(),
        "the IKE SA stays"
    );
}

#[test]
fn ah_in_transport_mode() {
    let (mut a, mut b) = pair((&["sha256"], &[]), (&["sha256"], &[]));
    for c in [&mut a, &mut b] {
        c.children[0].mode = Mode::Transport;
    }
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_ah_child(&sim, IntegId::HmacSha2_256_128, 32);
    for ev in [&sim.events_a, &sim.events_b] {
        assert_eq!(ups(ev)[0].mode, Mode::Transport);
    }
}

#[test]
fn ah_rekey_by_time_with_pfs() {
    let cfg = EngineConfig {
        child_rekey_time: Duration::from_secs(100),
        ..EngineConfig::default()
    };
    let mut sim = sim_of(
        (&["sha256-ecp256"], &["aes256gcm16"]),
        (&["sha256-ecp256"], &[]),
        cfg,
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_ah_child(&sim, IntegId::HmacSha2_256_128, 32);
    assert_eq!(ups(&sim.events_a)[0].suite.ke, None, "no KE in IKE_AUTH");
    sim.run_for(Duration::from_secs(100));
    for ev in [&sim.events_a, &sim.events_b] {
        let u = ups(ev);
        assert!(u.len() >= 2, "no rekey happened");
        assert_eq!(u[1].replaces, Some(u[0].child));
        assert_eq!(
            u[1].suite.protocol(),
            Protocol::Ah,
            "a rekey keeps the protocol"
        );
        assert_eq!(u[1].suite.ke, Some(KeId::Ecp256), "PFS in the rekey");
        assert_eq!(down_reasons(ev)[0], "rekeyed");
    }
    assert_ah_child(&sim, IntegId::HmacSha2_256_128, 32);
    let a = sim.a.status(sim.now);
    assert_eq!(one(&a).children.len(), 1);
}

#[test]
fn simultaneous_ah_rekey() {
    let mut sim = sim_of(
        (&["sha256"], &[]),
        (&["sha256"], &[]),
        EngineConfig::default(),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    let now = sim.now;
    let ca = sim.a.status(now)[0].children[0].id;
    let cb = sim.b.status(now)[0].children[0].id;
    assert!(sim.a.rekey_child(now, ca));
    assert!(sim.b.rekey_child(now, cb));
    sim.run_for(Duration::from_secs(60));
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    let (a, b) = (one(&a), one(&b));
    assert_eq!((a.children.len(), b.children.len()), (1, 1));
    assert_eq!(a.children[0].spi_in, b.children[0].spi_out);
    assert_eq!(a.children[0].suite.protocol(), Protocol::Ah);
    for ev in [&sim.events_a, &sim.events_b] {
        assert_eq!(ups(ev).len(), 3, "own SA, the peer's, the first");
        assert_eq!(
            down_reasons(ev).len(),
            2,
            "the old SA and the redundant one"
        );
    }
}

#[test]
fn ah_child_delete_from_either_side() {
    for who in ['a', 'b'] {
        let mut sim = sim_of(
            (&["sha256"], &[]),
            (&["sha256"], &[]),
            EngineConfig::default(),
        );
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        let now = sim.now;
        let engine = if who == 'a' { &mut sim.a } else { &mut sim.b };
        let child = engine.status(now)[0].children[0].id;
        assert!(engine.terminate_child(now, child));
        sim.run_for(Duration::from_secs(1));
        for (side, st, ev) in [
            ('a', sim.a.status(sim.now), &sim.events_a),
            ('b', sim.b.status(sim.now), &sim.events_b),
        ] {
            // The peer finds the child by SPI *and* protocol AH in the Delete payload.
            let want = if side == who {
                "deleted"
            } else {
                "deleted by peer"
            };
            assert_eq!(down_reasons(ev), [want], "{who} deletes, {side} reports");
            assert!(one(&st).children.is_empty());
        }
    }
}

/// A behind a NAT: AH is neither offered nor accepted (RFC 3948 is ESP-only).
fn behind_nat(a: Protos<'_>, b: Protos<'_>) -> Sim {
    let (ca, mut cb) = pair(a, b);
    cb.remote_addrs = vec![ike::PeerAddr::Any];
    let mut sim = Sim::new(ca, cb, creds("k"), creds("k"));
    sim.a_nat = Some(("198.51.100.1".parse().unwrap(), 1000));
    sim
}

#[test]
fn nat_detected_ah_only_child_is_not_established() {
    let mut sim = behind_nat((&["sha256"], &[]), (&["sha256"], &[]));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert!(one(&sim.a.status(sim.now)).nat_local);
    assert!(ups(&sim.events_a).is_empty() && ups(&sim.events_b).is_empty());
    assert!(one(&sim.b.status(sim.now)).children.is_empty());
    // Nor with CREATE_CHILD_SA later.
    let now = sim.now;
    sim.a.initiate(now, "net", Some("child"), None).unwrap();
    sim.run_for(Duration::from_secs(1));
    assert!(ups(&sim.events_a).is_empty() && ups(&sim.events_b).is_empty());
}

#[test]
fn nat_detected_falls_back_to_esp() {
    let mut sim = behind_nat(
        (&["sha256"], &["aes256gcm16"]),
        (&["sha256"], &["aes256gcm16"]),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    for ev in [&sim.events_a, &sim.events_b] {
        let u = ups(ev);
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].suite.protocol(), Protocol::Esp);
        assert!(u[0].encap);
    }
}

#[test]
fn responder_behind_a_nat_refuses_ah() {
    // B hides its NAT detection from A (a peer without NAT-T), so A sees no NAT and offers
    // AH; B sees A behind the NAT and must not accept AH.
    for (a_esp, want) in [(&[][..], None), (&["aes256gcm16"][..], Some(Protocol::Esp))] {
        let mut sim = behind_nat((&["sha256"], a_esp), (&["sha256"], &["aes256gcm16"]));
        sim.b.set_impairment(ike::Impairment {
            omit_payload: Some(41), // Notify
            ..Default::default()
        });
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        assert!(!one(&sim.a.status(sim.now)).nat_local, "A saw no NAT");
        assert!(one(&sim.b.status(sim.now)).nat_remote, "B did");
        let b_ups = ups(&sim.events_b);
        assert_eq!(b_ups.first().map(|c| c.suite.protocol()), want);
        assert_eq!(b_ups.len(), usize::from(want.is_some()));
    }
}

#[test]
fn forced_encapsulation_refuses_ah() {
    let (mut a, b) = pair((&["sha256"], &[]), (&["sha256"], &[]));
    a.encap = true;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert!(ups(&sim.events_a).is_empty() && ups(&sim.events_b).is_empty());
    assert!(one(&sim.b.status(sim.now)).children.is_empty());
}

#[test]
fn mobike_move_behind_a_nat_deletes_ah_children() {
    let (a, mut b) = pair((&["sha256"], &[]), (&["sha256"], &[]));
    b.remote_addrs = vec![ike::PeerAddr::Any];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_ah_child(&sim, IntegId::HmacSha2_256_128, 32);
    // A moves to a network behind a NAT.
    let now = sim.now;
    let id = sim.a.status(now)[0].id;
    let new: std::net::IpAddr = "192.0.2.3".parse().unwrap();
    sim.a_addr = new;
    sim.a_nat = Some(("198.51.100.1".parse().unwrap(), 1000));
    assert!(sim.a.roam(now, id, new));
    sim.run_for(Duration::from_secs(2));
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    let (a, b) = (one(&a), one(&b));
    assert!(b.nat_remote, "B found the NAT");
    assert!(
        a.children.is_empty() && b.children.is_empty(),
        "AH child left: {a:#?}"
    );
    assert_eq!(down_reasons(&sim.events_b), ["AH cannot cross a NAT"]);
    assert_eq!(down_reasons(&sim.events_a).len(), 1);
    // The down AH child is not among the children to move.
    assert!(!sim
        .events_b
        .iter()
        .any(|e| matches!(e, Event::PeerAddressChanged { children, .. } if !children.is_empty())));
}
