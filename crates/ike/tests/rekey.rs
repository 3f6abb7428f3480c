//! CREATE_CHILD_SA in memory: more Child SAs, Child and IKE SA rekeys by time and on demand,
//! with and without PFS, under loss, and the collisions of RFC 7296 §2.8.1/§2.8.2 — the cases
//! strongSwan's own exchange tests cover for rekeying.

mod sim;

use std::time::Duration;

use ike::{ChildSaInstall, EngineConfig, Event, IkeSaStatus};
use sim::*;

const GCM: &str = "aes256gcm16-prfsha256-x25519";

fn cfg(child_rekey: u64, ike_rekey: u64) -> EngineConfig {
    EngineConfig {
        child_rekey_time: Duration::from_secs(child_rekey),
        ike_rekey_time: Duration::from_secs(ike_rekey),
        ..EngineConfig::default()
    }
}

fn one(s: &[IkeSaStatus]) -> &IkeSaStatus {
    assert_eq!(s.len(), 1, "expected one IKE SA: {s:#?}");
    assert_eq!(s[0].state, "ESTABLISHED");
    &s[0]
}

fn ups(ev: &[Event]) -> Vec<&ChildSaInstall> {
    ev.iter()
        .filter_map(|e| match e {
            Event::ChildSaUp(c) => Some(c.as_ref()),
            _ => None,
        })
        .collect()
}

fn downs(ev: &[Event]) -> usize {
    ev.iter()
        .filter(|e| matches!(e, Event::ChildSaDown { .. }))
        .count()
}

/// Both sides hold exactly one IKE SA with `children` installed children, SPIs crosswise, and
/// the keys each side installed for the current children agree.
fn consistent(sim: &Sim, children: usize) {
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    let (a, b) = (one(&a), one(&b));
    assert_eq!((a.spi_i, a.spi_r), (b.spi_i, b.spi_r), "IKE SPIs differ");
    assert_eq!(a.children.len(), children, "A children: {:#?}", a.children);
    assert_eq!(b.children.len(), children, "B children: {:#?}", b.children);
    for ca in &a.children {
        let cb = b
            .children
            .iter()
            .find(|c| c.spi_in == ca.spi_out)
            .unwrap_or_else(|| panic!("B has no child matching A's {:08x}", ca.spi_out));
        assert_eq!(cb.spi_out, ca.spi_in);
        let ia = ups(&sim.events_a)
            .into_iter()
            .find(|i| i.child == ca.id)
            .unwrap();
        let ib = ups(&sim.events_b)
            .into_iter()
            .find(|i| i.child == cb.id)
            .unwrap();
        assert_eq!(ia.outbound.encr_key, ib.inbound.encr_key);
        assert_eq!(ia.inbound.encr_key, ib.outbound.encr_key);
        assert_eq!(ia.outbound.integ_key, ib.inbound.integ_key);
    }
}

fn up(sim: &mut Sim) {
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    consistent(sim, 1);
}

fn setup_with(cfg_a: EngineConfig, cfg_b: EngineConfig, esp_p: &[&str]) -> Sim {
    let (a, b) = default_pair(&[GCM], esp_p);
    Sim::with_cfg(cfg_a, cfg_b, a, b, creds("k"), creds("k"))
}

#[test]
fn child_rekey_by_time() {
    let mut sim = setup_with(cfg(100, 0), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    let before = sim.a.status(sim.now)[0].children[0].spi_in;
    sim.run_for(Duration::from_secs(100));
    consistent(&sim, 1);
    let after = sim.a.status(sim.now)[0].children[0].spi_in;
    assert_ne!(before, after, "no rekey happened");
    // Each side: the new SA came up replacing the old one, the old one went down once.
    for ev in [&sim.events_a, &sim.events_b] {
        let u = ups(ev);
        assert_eq!(u.len(), 2);
        assert_eq!(u[1].replaces, Some(u[0].child));
        assert_eq!(downs(ev), 1);
        assert!(
            ev.iter()
                .any(|e| matches!(e, Event::ChildSaDown { reason, .. } if reason == "rekeyed")),
            "the old child went down as rekeyed"
        );
    }
    // The initiator sends on the new SA at once; the responder only after the old is deleted.
    assert!(ups(&sim.events_a)[1].outbound_now);
    assert!(!ups(&sim.events_b)[1].outbound_now);
    let outbound_at = sim
        .events_b
        .iter()
        .position(|e| matches!(e, Event::ChildSaOutbound { .. }));
    let down_at = sim
        .events_b
        .iter()
        .position(|e| matches!(e, Event::ChildSaDown { .. }));
    assert!(
        outbound_at.unwrap() < down_at.unwrap(),
        "switch sending before removing the old SA"
    );
}

#[test]
fn child_rekey_repeats_and_keeps_one_child() {
    let mut sim = setup_with(cfg(60, 0), cfg(60, 0), &["aes256gcm16"]);
    up(&mut sim);
    sim.run_for(Duration::from_secs(600));
    consistent(&sim, 1);
    assert!(ups(&sim.events_a).len() >= 9, "about one rekey a minute");
}

#[test]
fn child_rekey_with_pfs() {
    let mut sim = setup_with(cfg(100, 0), cfg(0, 0), &["aes256gcm16-x25519"]);
    up(&mut sim);
    sim.run_for(Duration::from_secs(100));
    consistent(&sim, 1);
    let u = ups(&sim.events_a);
    assert_eq!(u.len(), 2);
    // PFS: the rekeyed SA's keys are not derivable without the new exchange; at least they
    // differ from the first SA's.
    assert_ne!(u[0].outbound.encr_key, u[1].outbound.encr_key);
}

#[test]
fn ike_rekey_moves_children() {
    let mut sim = setup_with(cfg(0, 100), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    let old = sim.a.status(sim.now)[0].clone();
    sim.run_for(Duration::from_secs(100));
    consistent(&sim, 1);
    let new = sim.a.status(sim.now)[0].clone();
    assert_ne!(new.spi_i, old.spi_i);
    assert_ne!(new.id, old.id);
    assert_eq!(
        new.children[0].spi_in, old.children[0].spi_in,
        "children survive an IKE rekey"
    );
    for ev in [&sim.events_a, &sim.events_b] {
        assert!(ev.iter().any(|e| matches!(e, Event::IkeSaRekeyed { .. })));
        assert_eq!(downs(ev), 0, "no Child SA went down");
        assert!(ev
            .iter()
            .any(|e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "rekeyed")));
    }
    // The new IKE SA works: delete it from the responder side.
    let now = sim.now;
    sim.b.terminate_connection(now, "net");
    sim.run_for(Duration::from_secs(1));
    assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
}

#[test]
fn ike_rekey_then_child_rekey() {
    let mut sim = setup_with(cfg(0, 50), cfg(80, 0), &["aes256gcm16"]);
    up(&mut sim);
    sim.run_for(Duration::from_secs(200));
    consistent(&sim, 1);
}

#[test]
fn rekey_survives_lost_messages() {
    let mut sim = setup_with(cfg(100, 0), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    // Lose the first CREATE_CHILD_SA response and the first delete request.
    let mut lost_resp = false;
    let mut lost_del = false;
    sim.impair = Box::new(move |_, t| {
        let ex = exchange_of(t);
        if ex == Some(36) && is_response(t) && !lost_resp {
            lost_resp = true;
            return Action::Drop;
        }
        if ex == Some(37) && !is_response(t) && !lost_del {
            lost_del = true;
            return Action::Drop;
        }
        Action::Deliver
    });
    sim.run_for(Duration::from_secs(150));
    consistent(&sim, 1);
    for (who, ev) in [("A", &sim.events_a), ("B", &sim.events_b)] {
        assert_eq!(
            ups(ev).len(),
            2,
            "{who}: the retransmitted request did not create a second SA: {ev:#?}"
        );
    }
}

#[test]
fn simultaneous_child_rekey() {
    let mut sim = setup_with(cfg(0, 0), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    let now = sim.now;
    let ca = sim.a.status(now)[0].children[0].id;
    let cb = sim.b.status(now)[0].children[0].id;
    assert!(sim.a.rekey_child(now, ca));
    assert!(sim.b.rekey_child(now, cb));
    sim.run_for(Duration::from_secs(60));
    consistent(&sim, 1);
    // Each side created two new SAs (its own and the peer's), one of which was redundant.
    for ev in [&sim.events_a, &sim.events_b] {
        assert_eq!(ups(ev).len(), 3);
        assert_eq!(downs(ev), 2, "the old SA and the redundant one went down");
    }
}

#[test]
fn simultaneous_ike_rekey() {
    let mut sim = setup_with(cfg(0, 0), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    let now = sim.now;
    let ia = sim.a.status(now)[0].id;
    let ib = sim.b.status(now)[0].id;
    let child = sim.a.status(now)[0].children[0].spi_in;
    assert!(sim.a.rekey_ike(now, ia));
    assert!(sim.b.rekey_ike(now, ib));
    sim.run_for(Duration::from_secs(60));
    consistent(&sim, 1);
    assert_eq!(sim.a.status(sim.now)[0].children[0].spi_in, child);
    for ev in [&sim.events_a, &sim.events_b] {
        assert_eq!(downs(ev), 0);
    }
}

#[test]
fn child_rekey_during_ike_rekey_is_retried() {
    let mut sim = setup_with(cfg(0, 0), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    let now = sim.now;
    let ia = sim.a.status(now)[0].id;
    let cb = sim.b.status(now)[0].children[0].id;
    let old_child = sim.b.status(now)[0].children[0].spi_in;
    assert!(sim.a.rekey_ike(now, ia));
    assert!(sim.b.rekey_child(now, cb));
    sim.run_for(Duration::from_secs(60));
    consistent(&sim, 1);
    assert_ne!(
        sim.b.status(sim.now)[0].children[0].spi_in,
        old_child,
        "the Child SA rekey went through in the end"
    );
}

#[test]
fn more_child_sas() {
    let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    let mut second = a.children[0].clone();
    second.name = "second".into();
    second.local_ts = vec![ts("203.0.113.0/24[udp]")];
    second.remote_ts = vec![ts("198.51.100.0/24[udp]")];
    a.children.push(second);
    let mut second_b = b.children[0].clone();
    second_b.name = "second".into();
    b.children.push(second_b);
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    up(&mut sim);
    let now = sim.now;
    sim.a.initiate(now, "net", Some("second"), None).unwrap();
    sim.run_for(Duration::from_secs(1));
    consistent(&sim, 2);
    let st = sim.a.status(sim.now);
    assert_eq!(st.len(), 1, "the second child used the existing IKE SA");
    let udp = st[0].children.iter().find(|c| c.name == "second").unwrap();
    assert_eq!(udp.local_ts[0].ip_proto(), 17);
}

#[test]
fn rekey_of_a_child_the_peer_lost() {
    let mut sim = setup_with(cfg(0, 0), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    let now = sim.now;
    let cb = sim.b.status(now)[0].children[0].id;
    sim.b.forget_child_for_testing(cb);
    let ca = sim.a.status(now)[0].children[0].id;
    assert!(sim.a.rekey_child(now, ca));
    sim.run_for(Duration::from_secs(10));
    // CHILD_SA_NOT_FOUND: A drops its child and creates a fresh one.
    consistent(&sim, 1);
}

#[test]
fn responder_soft_expire_is_moot_after_the_peer_rekeyed() {
    // Both sides would rekey, A a little earlier: B's pending rekey of the replaced SA is dropped
    // and only one rekey happens.
    let mut sim = setup_with(cfg(100, 0), cfg(130, 0), &["aes256gcm16"]);
    up(&mut sim);
    sim.run_for(Duration::from_secs(150));
    consistent(&sim, 1);
    for ev in [&sim.events_a, &sim.events_b] {
        assert_eq!(ups(ev).len(), 2, "exactly one rekey");
    }
}

#[test]
fn child_delete_while_rekeying() {
    let mut sim = setup_with(cfg(0, 0), cfg(0, 0), &["aes256gcm16"]);
    up(&mut sim);
    let now = sim.now;
    let ca = sim.a.status(now)[0].children[0].id;
    let cb = sim.b.status(now)[0].children[0].id;
    assert!(sim.a.rekey_child(now, ca));
    assert!(sim.b.terminate_child(now, cb));
    sim.run_for(Duration::from_secs(60));
    // Whatever the order, both sides agree and nothing is left half-installed.
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    assert_eq!(a[0].children.len(), b[0].children.len(), "{a:#?}\n{b:#?}");
    for c in &a[0].children {
        assert!(b[0]
            .children
            .iter()
            .any(|x| x.spi_in == c.spi_out && x.spi_out == c.spi_in));
    }
}
