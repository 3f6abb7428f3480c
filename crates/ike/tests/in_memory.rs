//! Two engines in one process: full exchanges, failures, loss, corruption, duplicates, deletes.
//! Deterministic: randomness is seeded and the clock is simulated.

mod sim;

use std::time::Duration;

use ike::{Event, IkeSaStatus};
use sim::*;

const GCM: &str = "aes256gcm16-prfsha256-x25519";
const CBC: &str = "aes128-sha256-ecp256";

fn established(s: &[IkeSaStatus]) -> &IkeSaStatus {
    assert_eq!(s.len(), 1, "expected one IKE SA, got {s:#?}");
    assert_eq!(s[0].state, "ESTABLISHED");
    &s[0]
}

fn child_up(events: &[Event]) -> &ike::ChildSaInstall {
    events
        .iter()
        .find_map(|e| match e {
            Event::ChildSaUp(c) => Some(c.as_ref()),
            _ => None,
        })
        .expect("no ChildSaUp event")
}

/// Both sides up with crosswise SPIs and keys; returns the children for more checks.
fn assert_tunnel(sim: &Sim) {
    let now = sim.now;
    let a = sim.a.status(now);
    let b = sim.b.status(now);
    let (a, b) = (established(&a), established(&b));
    assert!(a.initiator && !b.initiator);
    assert_eq!((a.spi_i, a.spi_r), (b.spi_i, b.spi_r));
    assert_eq!(a.suite, b.suite);
    assert_eq!(a.children.len(), 1);
    assert_eq!(b.children.len(), 1);
    assert_eq!(a.children[0].spi_in, b.children[0].spi_out);
    assert_eq!(a.children[0].spi_out, b.children[0].spi_in);
    let ca = child_up(&sim.events_a);
    let cb = child_up(&sim.events_b);
    assert_eq!(ca.outbound.encr_key, cb.inbound.encr_key);
    assert_eq!(ca.inbound.encr_key, cb.outbound.encr_key);
    assert_eq!(ca.outbound.integ_key, cb.inbound.integ_key);
    assert_ne!(ca.outbound.encr_key, ca.inbound.encr_key);
    assert_eq!(ca.local_ts, cb.remote_ts);
    assert_eq!(ca.remote_ts, cb.local_ts);
    assert_eq!(ca.suite, cb.suite);
}

fn setup(ike_p: &[&str], esp_p: &[&str]) -> Sim {
    let (a, b) = default_pair(ike_p, esp_p);
    Sim::new(a, b, creds("secret-psk-1"), creds("secret-psk-1"))
}

#[test]
fn establishes_aes_gcm_x25519() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let st = sim.a.status(sim.now);
    assert_eq!(st[0].suite.unwrap().to_string(), GCM);
    assert_eq!(st[0].children[0].suite.to_string(), "aes256gcm16");
    assert!(!st[0].nat_local && !st[0].nat_remote);
    // 4 messages: IKE_SA_INIT and IKE_AUTH, request and response, all on port 500.
    assert_eq!(sim.sent.len(), 4);
    assert!(sim.sent.iter().all(|(_, t)| t.local.port() == 500));
    let ca = child_up(&sim.events_a);
    assert_eq!(
        ca.outbound.encr_key.len(),
        36,
        "AES-256 key plus 4-byte salt"
    );
    assert!(!ca.encap);
}

#[test]
fn establishes_aes_cbc_sha256_ecp256() {
    let mut sim = setup(&[CBC], &["aes128-sha256"]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let ca = child_up(&sim.events_a);
    assert_eq!(ca.suite.to_string(), "aes128-sha256");
    assert_eq!(ca.outbound.encr_key.len(), 16);
    assert_eq!(ca.outbound.integ_key.len(), 32);
}

/// ESN (RFC 4304) is negotiated like any transform: both offer it → on; the responder does not
/// accept it → the initiator's `noesn` alternative is chosen; nobody asks → off.
#[test]
fn esn_is_negotiated() {
    let child_esn = |a_esp: &str, b_esp: &str| {
        let (a, mut b) = default_pair(&[GCM], &[a_esp]);
        b.children[0].esp_proposals = vec![esp(b_esp)];
        let mut sim = Sim::new(a, b, creds("k"), creds("k"));
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        assert_tunnel(&sim);
        let (ca, cb) = (child_up(&sim.events_a), child_up(&sim.events_b));
        assert_eq!(ca.esn(), cb.esn(), "both ends agree");
        ca.esn()
    };
    assert!(child_esn("aes256gcm16-esn", "aes256gcm16-esn"));
    assert!(!child_esn("aes256gcm16-esn-noesn", "aes256gcm16"));
    // The responder picks by its own order among what the initiator offers.
    assert!(child_esn("aes256gcm16-noesn-esn", "aes256gcm16-esn-noesn"));
    assert!(!child_esn("aes256gcm16-esn-noesn", "aes256gcm16-noesn-esn"));
    assert!(!child_esn("aes256gcm16", "aes256gcm16"));
}

#[test]
fn responder_picks_its_own_preference() {
    let (a, mut b) = default_pair(&[CBC, GCM], &["aes128-sha256", "aes256gcm16"]);
    b.proposals = vec![ike(GCM), ike(CBC)];
    b.children[0].esp_proposals = vec![esp("aes256gcm16"), esp("aes128-sha256")];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    // B prefers GCM, but A's KE guess (ecp256, first of its first proposal) does not fit the
    // GCM proposal: B asks for x25519 (INVALID_KE_PAYLOAD), A retries.
    assert_tunnel(&sim);
    assert_eq!(sim.a.status(sim.now)[0].suite.unwrap().to_string(), GCM);
    assert_eq!(child_up(&sim.events_a).suite.to_string(), "aes256gcm16");
    assert_eq!(sim.sent.len(), 6, "INIT, INVALID_KE, INIT again, AUTH pair");
}

#[test]
fn invalid_ke_payload_retry() {
    let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.proposals = vec![ike("aes256gcm16-prfsha256-ecp256-x25519")];
    b.proposals = vec![ike("aes256gcm16-prfsha256-x25519")];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    assert_eq!(
        sim.a.status(sim.now)[0].suite.unwrap().ke,
        Some(crypto::KeId::Curve25519)
    );
}

#[test]
fn no_proposal_chosen_fails_cleanly() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.proposals = vec![ike(CBC)];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(60));
    assert!(sim.a.status(sim.now).is_empty());
    assert!(sim.b.status(sim.now).is_empty());
    assert!(sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "NO_PROPOSAL_CHOSEN")));
    // Exactly one request and one error answer: no retransmissions after the answer.
    assert_eq!(sim.sent.len(), 2);
}

#[test]
fn wrong_psk_gives_authentication_failed() {
    let (a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    let mut sim = Sim::new(a, b, creds("right"), creds("wrong"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(60));
    assert!(sim.a.status(sim.now).is_empty());
    assert!(sim.b.status(sim.now).is_empty());
    assert!(sim.events_a.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "AUTHENTICATION_FAILED")
    ));
    assert!(!sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::IkeSaUp { .. })));
    assert!(!sim
        .events_b
        .iter()
        .any(|e| matches!(e, Event::IkeSaUp { .. })));
    assert_eq!(sim.sent.len(), 4);
}

#[test]
fn esp_proposal_mismatch_keeps_ike_sa() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.children[0].esp_proposals = vec![esp("aes128-sha256")];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    let st = sim.a.status(sim.now);
    assert_eq!(established(&st).children.len(), 0);
    assert!(!sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::ChildSaUp(_))));
    assert!(!sim
        .events_b
        .iter()
        .any(|e| matches!(e, Event::ChildSaUp(_))));
}

#[test]
fn traffic_selectors_are_narrowed() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.children[0].local_ts = vec![ts("198.51.100.0/25")];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let ca = child_up(&sim.events_a);
    assert_eq!(ca.remote_ts, vec!["198.51.100.0/25".parse().unwrap()]);
    // Disjoint selectors: TS_UNACCEPTABLE, IKE SA stays, no child.
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.children[0].local_ts = vec![ts("192.0.2.128/25")];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert!(established(&sim.a.status(sim.now)).children.is_empty());
}

#[test]
fn forced_encapsulation_moves_to_natt_port() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.encap = true;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let a_st = sim.a.status(sim.now);
    assert!(a_st[0].nat_remote && !a_st[0].nat_local);
    assert_eq!(a_st[0].local.port(), 4500);
    let b_st = sim.b.status(sim.now);
    assert!(!b_st[0].nat_remote, "B sees A's real address");
    // IKE_SA_INIT on 500, IKE_AUTH on 4500 with the non-ESP marker.
    assert_eq!(sim.sent[0].1.local.port(), 500);
    assert_eq!(sim.sent[2].1.local.port(), 4500);
    assert_eq!(&sim.sent[2].1.payload[..4], &[0, 0, 0, 0]);
    assert!(child_up(&sim.events_a).encap && child_up(&sim.events_b).encap);
}

#[test]
fn lost_auth_request_is_retransmitted() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.impair = Box::new(|n, _| {
        if n == 2 {
            Action::Drop
        } else {
            Action::Deliver
        }
    });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(3));
    assert_eq!(sim.a.status(sim.now)[0].state, "CONNECTING");
    sim.run_for(Duration::from_secs(5));
    assert_tunnel(&sim);
    assert_eq!(
        sim.sent[2].1.payload, sim.sent[3].1.payload,
        "retransmission is byte-identical"
    );
}

#[test]
fn lost_auth_response_is_answered_from_cache() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.impair = Box::new(|n, _| {
        if n == 3 {
            Action::Drop
        } else {
            Action::Deliver
        }
    });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(10));
    assert_tunnel(&sim);
    // B answered the retransmitted request with the same bytes, without a second child.
    assert_eq!(sim.sent[3].1.payload, sim.sent[5].1.payload);
    assert_eq!(
        sim.events_b
            .iter()
            .filter(|e| matches!(e, Event::ChildSaUp(_)))
            .count(),
        1
    );
}

#[test]
fn duplicated_messages_are_harmless() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.impair = Box::new(|_, _| Action::Duplicate);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    assert_eq!(
        sim.events_a
            .iter()
            .filter(|e| matches!(e, Event::ChildSaUp(_)))
            .count(),
        1
    );
    assert_eq!(
        sim.events_b
            .iter()
            .filter(|e| matches!(e, Event::ChildSaUp(_)))
            .count(),
        1
    );
}

#[test]
fn corrupted_message_is_dropped_without_reply() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.impair = Box::new(|n, t| {
        if n == 2 {
            let last = t.payload.len() - 1;
            t.payload[last] ^= 1; // flip an ICV bit
        }
        Action::Deliver
    });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    // B said nothing to the corrupted IKE_AUTH.
    assert_eq!(sim.sent.len(), 3);
    sim.run_for(Duration::from_secs(10));
    assert_tunnel(&sim);
}

#[test]
fn peer_not_responding_gives_up() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.impair = Box::new(|_, _| Action::Drop);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(600));
    assert!(sim.a.status(sim.now).is_empty());
    // 1 + 5 retransmissions.
    assert_eq!(sim.sent.len(), 6);
    assert!(sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "peer not responding")));
}

#[test]
fn delete_from_initiator_and_responder() {
    for who in ['a', 'b'] {
        let mut sim = setup(&[GCM], &["aes256gcm16"]);
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        assert_tunnel(&sim);
        let now = sim.now;
        let n = if who == 'a' {
            sim.a.terminate_connection(now, "net")
        } else {
            sim.b.terminate_connection(now, "net")
        };
        assert_eq!(n, 1);
        sim.run_for(Duration::from_secs(1));
        assert!(sim.a.status(sim.now).is_empty(), "{who}: A still has SAs");
        assert!(sim.b.status(sim.now).is_empty(), "{who}: B still has SAs");
        for ev in [&sim.events_a, &sim.events_b] {
            assert!(ev.iter().any(|e| matches!(e, Event::ChildSaDown { .. })));
            assert!(ev.iter().any(|e| matches!(e, Event::IkeSaDown { .. })));
        }
    }
}

/// ESP from the peer counts as hearing from it (RFC 7296 §2.4): while the driver reports inbound
/// traffic on the child, no liveness check goes out; once it stops, they resume.
#[test]
fn no_liveness_check_while_esp_arrives() {
    let (mut a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.dpd_delay = Duration::from_secs(10);
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let child = child_up(&sim.events_a).child;
    let informational = |sim: &Sim| {
        sim.sent
            .iter()
            .filter(|(w, t)| *w == 'a' && exchange_of(t) == Some(37))
            .count()
    };
    for _ in 0..60 {
        let now = sim.now;
        sim.a.note_inbound_traffic(now, &[child]);
        sim.run_for(Duration::from_secs(1));
    }
    assert_eq!(informational(&sim), 0, "ESP arrived every second for 60 s");
    sim.run_for(Duration::from_secs(60));
    assert!(
        informational(&sim) >= 4,
        "without ESP, liveness checks every 10 s: {}",
        informational(&sim)
    );
}

#[test]
fn liveness_check_is_answered() {
    let (mut a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.dpd_delay = Duration::from_secs(30);
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    sim.run_for(Duration::from_secs(100));
    // Liveness checks went out and were answered; the SA is still up.
    let informational = sim
        .sent
        .iter()
        .filter(|(_, t)| exchange_of(t) == Some(37))
        .count();
    assert!(
        informational >= 6,
        "expected several DPD exchanges, saw {informational}"
    );
    assert_tunnel(&sim);
    // The peer stops answering: the SA dies after the retransmissions.
    sim.impair = Box::new(|_, _| Action::Drop);
    sim.run_for(Duration::from_secs(600));
    assert!(sim.a.status(sim.now).is_empty());
}

#[test]
fn runs_are_deterministic() {
    let run = || {
        let mut sim = setup(&[CBC], &["aes128-sha256"]);
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        sim.sent
            .into_iter()
            .map(|(_, t)| t.payload)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn keyingtries_retry_until_the_peer_answers() {
    let (mut a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.keyingtries = 3;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    // The peer is unreachable for the whole first attempt (6 datagrams), then answers.
    sim.impair = Box::new(|n, _| if n < 6 { Action::Drop } else { Action::Deliver });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(600));
    assert_tunnel(&sim);
    assert!(sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "peer not responding")));
}

#[test]
fn keyingtries_are_bounded() {
    let (mut a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.keyingtries = 2;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.impair = Box::new(|_, _| Action::Drop);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(3600));
    assert!(sim.a.status(sim.now).is_empty());
    assert_eq!(sim.sent.len(), 12, "two attempts of 1 + 5 retransmissions");
}

#[test]
fn close_action_start_reinitiates_after_peer_delete() {
    let (mut a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.children[0].close_action_start = true;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let old = sim.a.status(sim.now)[0].spi_i;
    let now = sim.now;
    sim.b.terminate_connection(now, "net");
    sim.run_for(Duration::from_secs(1));
    let st = sim.a.status(sim.now);
    assert_eq!(established(&st).children.len(), 1);
    assert_ne!(st[0].spi_i, old, "a new IKE SA");
}

/// Feeds A's IKE_SA_INIT request to a hand-made responder that answers with `payloads`.
fn answer_init_with(payloads: Vec<wire::ike::Payload>) -> Sim {
    use wire::ike::{ExchangeType, Flags, Header, Message, IKE_VERSION_2};
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.initiate_a();
    let req = sim.a.poll_transmit().unwrap();
    let h = Header::parse(&req.payload).unwrap();
    let resp = Header {
        spi_i: h.spi_i,
        spi_r: 0,
        next_payload: 0,
        version: IKE_VERSION_2,
        exchange: ExchangeType::IkeSaInit,
        flags: Flags::new(false, true),
        message_id: 0,
        length: 0,
    };
    let bytes = Message::emit(&resp, &payloads).unwrap();
    let now = sim.now;
    sim.a.handle_datagram(now, req.local, req.remote, &bytes);
    while let Some(e) = sim.a.poll_event() {
        sim.events_a.push(e);
    }
    sim
}

#[test]
fn unknown_error_notify_fails_the_request() {
    use wire::ike::{Notify, NotifyType, Payload};
    let sim = answer_init_with(vec![Payload::Notify(Notify::new(NotifyType(8000), vec![]))]);
    assert!(sim.a.status(sim.now).is_empty());
    assert!(sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "NOTIFY(8000)")));
}

#[test]
fn unsupported_critical_payload_in_init_is_answered() {
    use wire::ike::{ExchangeType, Flags, Header, Message, Payload, IKE_VERSION_2};
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    let h = Header {
        spi_i: 0x1122334455667788,
        spi_r: 0,
        next_payload: 0,
        version: IKE_VERSION_2,
        exchange: ExchangeType::IkeSaInit,
        flags: Flags::new(true, false),
        message_id: 0,
        length: 0,
    };
    let msg = Message::emit(
        &h,
        &[Payload::Raw {
            payload_type: 222,
            critical: true,
            body: vec![1, 2, 3],
        }],
    )
    .unwrap();
    let now = sim.now;
    let b: std::net::SocketAddr = "192.0.2.2:500".parse().unwrap();
    let a: std::net::SocketAddr = "192.0.2.1:500".parse().unwrap();
    sim.b.handle_datagram(now, b, a, &msg);
    let t = sim.b.poll_transmit().expect("an answer");
    let m = Message::parse(&t.payload).unwrap();
    assert!(m.header.flags.response());
    assert_eq!(m.header.spi_i, 0x1122334455667788);
    match &m.payloads[..] {
        [Payload::Notify(n)] => {
            assert_eq!(n.notify_type, 1, "UNSUPPORTED_CRITICAL_PAYLOAD");
            assert_eq!(n.data, vec![222]);
        }
        other => panic!("unexpected answer {other:?}"),
    }
    assert!(sim.b.status(now).is_empty(), "no state kept");
}

#[test]
fn child_delete_from_either_side_keeps_the_ike_sa() {
    for who in ['a', 'b'] {
        let mut sim = setup(&[GCM], &["aes256gcm16"]);
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        assert_tunnel(&sim);
        let now = sim.now;
        let engine = if who == 'a' { &mut sim.a } else { &mut sim.b };
        let child = engine.status(now)[0].children[0].id;
        assert!(engine.terminate_child(now, child));
        assert!(!engine.terminate_child(now, child), "already being deleted");
        sim.run_for(Duration::from_secs(1));
        for (side, st, ev) in [
            ('a', sim.a.status(sim.now), &sim.events_a),
            ('b', sim.b.status(sim.now), &sim.events_b),
        ] {
            let want = if side == who {
                "deleted"
            } else {
                "deleted by peer"
            };
            assert!(
                ev.iter()
                    .any(|e| matches!(e, Event::ChildSaDown { reason, .. } if reason == want)),
                "{who} deletes: {side} reports '{want}'"
            );
            assert!(established(&st).children.is_empty(), "{who}: child left");
            assert_eq!(
                ev.iter()
                    .filter(|e| matches!(e, Event::ChildSaDown { .. }))
                    .count(),
                1,
                "{who}: one ChildSaDown"
            );
        }
        // Deleting the IKE SA afterwards reports no child twice.
        let now = sim.now;
        sim.a.terminate_connection(now, "net");
        sim.run_for(Duration::from_secs(1));
        assert_eq!(
            sim.events_a
                .iter()
                .filter(|e| matches!(e, Event::ChildSaDown { .. }))
                .count(),
            1
        );
        assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
    }
}

#[test]
fn child_delete_collision() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    let now = sim.now;
    let ca = sim.a.status(now)[0].children[0].id;
    let cb = sim.b.status(now)[0].children[0].id;
    // Both sides delete the same Child SA at once (RFC 7296 §1.4.1).
    assert!(sim.a.terminate_child(now, ca));
    assert!(sim.b.terminate_child(now, cb));
    sim.run_for(Duration::from_secs(30));
    for st in [sim.a.status(sim.now), sim.b.status(sim.now)] {
        assert!(established(&st).children.is_empty());
    }
    for ev in [&sim.events_a, &sim.events_b] {
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, Event::ChildSaDown { .. }))
                .count(),
            1
        );
    }
}

#[test]
fn identities_of_every_type() {
    for (ida, idb) in [
        ("192.0.2.1", "192.0.2.2"),
        ("carol@example.org", "moon@example.org"),
        ("2001:db8::1", "2001:db8::2"),
        ("@#0102030405", "moon.example.org"),
    ] {
        let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
        a.local_id = Some(ida.parse().unwrap());
        a.remote_id = Some(idb.parse().unwrap());
        b.local_id = Some(idb.parse().unwrap());
        b.remote_id = Some(ida.parse().unwrap());
        let psk = || {
            Box::new(MapCreds(vec![(
                vec![ida.parse().unwrap(), idb.parse().unwrap()],
                crypto::SecretBytes::from_slice(b"k"),
            )]))
        };
        let mut sim = Sim::new(a, b, psk(), psk());
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        assert_tunnel(&sim);
        let st = sim.b.status(sim.now);
        assert_eq!(
            st[0]
                .remote_id
                .as_ref()
                .unwrap()
                .to_string()
                .trim_start_matches('@'),
            ida.trim_start_matches('@')
        );
    }
}

#[test]
fn wrong_peer_identity_is_refused() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.remote_id = Some("someone.else.example".parse().unwrap());
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(30));
    assert!(sim.a.status(sim.now).is_empty());
    assert!(sim.b.status(sim.now).is_empty());
    assert!(sim.events_a.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "AUTHENTICATION_FAILED")
    ));
}

#[test]
fn reload_keeps_unchanged_and_deletes_changed() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    assert_eq!(sim.a.stats().ike_established, 1);
    // Same connections: nothing happens.
    let (same, _) = default_pair(&[GCM], &["aes256gcm16"]);
    let now = sim.now;
    let r = sim.a.update_connections(now, vec![same.clone()]);
    assert_eq!(r.unchanged, vec!["net".to_string()]);
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    // A changed child: the SA is deleted on both sides.
    let mut changed = same;
    changed.children[0].esp_proposals = vec![esp("aes128gcm16")];
    let now = sim.now;
    let r = sim.a.update_connections(now, vec![changed]);
    assert_eq!(r.changed, vec!["net".to_string()]);
    sim.run_for(Duration::from_secs(1));
    assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
    assert_eq!(sim.a.stats().ike_down.get("deleted"), Some(&1));
    // Removed: gone from the list.
    let now = sim.now;
    let r = sim.a.update_connections(now, vec![]);
    assert_eq!(r.removed, vec!["net".to_string()]);
    assert!(sim.a.connection_names().is_empty());
}

fn second_sa(unique: ike::Unique) -> Sim {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.unique = unique;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    // A second IKE SA for the same identities (no INITIAL_CONTACT: A already has one).
    sim.initiate_a();
    sim.run_for(Duration::from_secs(5));
    sim
}

#[test]
fn uniqueness_replace_deletes_the_old_sa() {
    let sim = second_sa(ike::Unique::Replace);
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].spi_i, b[0].spi_i);
    assert_eq!(a[0].id, ike::IkeSaId(2), "the newer SA survives");
}

#[test]
fn uniqueness_keep_refuses_the_new_sa() {
    let sim = second_sa(ike::Unique::Keep);
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].id, ike::IkeSaId(1), "the older SA survives");
    assert!(sim.events_a.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "AUTHENTICATION_FAILED")
    ));
}

#[test]
fn uniqueness_never_allows_both() {
    let sim = second_sa(ike::Unique::Never);
    assert_eq!(sim.a.status(sim.now).len(), 2);
    assert_eq!(sim.b.status(sim.now).len(), 2);
}

#[test]
fn dpd_restart_brings_the_connection_back() {
    let (mut a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.dpd_delay = Duration::from_secs(30);
    a.dpd_action = ike::DpdAction::Restart;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    // B vanishes (and forgets everything), then comes back.
    let first = sim.sent.len();
    sim.impair = Box::new(move |n, _| {
        if n < first + 6 {
            Action::Drop
        } else {
            Action::Deliver
        }
    });
    sim.run_for(Duration::from_secs(400));
    let st = sim.a.status(sim.now);
    assert_eq!(st.len(), 1, "{st:#?}");
    assert_eq!(st[0].state, "ESTABLISHED");
    assert_ne!(st[0].id, ike::IkeSaId(1), "a new IKE SA");
    assert!(sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "peer not responding")));
}

#[test]
fn cookies_when_busy() {
    let (a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    let cfg_b = ike::EngineConfig {
        cookie_threshold: 0,
        ..ike::EngineConfig::default()
    };
    let mut sim = Sim::with_cfg(
        ike::EngineConfig::default(),
        cfg_b,
        a,
        b,
        creds("k"),
        creds("k"),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    // INIT, COOKIE, INIT with cookie, answer, AUTH pair.
    assert_eq!(sim.sent.len(), 6);
    let cookie_answer = wire::ike::Message::parse(&sim.sent[1].1.payload).unwrap();
    assert!(
        matches!(&cookie_answer.payloads[..], [wire::ike::Payload::Notify(n)] if n.notify_type == 16390)
    );
    assert_eq!(
        cookie_answer.header.spi_r, 0,
        "no state kept for the first request"
    );
}

#[test]
fn half_open_cap_per_source() {
    let (a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    let cfg_b = ike::EngineConfig {
        half_open_per_source: 1,
        ..ike::EngineConfig::default()
    };
    let mut sim = Sim::with_cfg(
        ike::EngineConfig::default(),
        cfg_b,
        a,
        b,
        creds("k"),
        creds("k"),
    );
    // Two IKE_SA_INIT from A before either finishes: the second is dropped at first, and its
    // retransmission gets through once the first SA is no longer half-open.
    let now = sim.now;
    sim.a.initiate(now, "net", None, None).unwrap();
    sim.a.initiate(now, "net", None, None).unwrap();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.b.status(sim.now).len(), 1);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.b.status(sim.now).len(), 1, "unique=replace leaves one");
    assert!(
        sim.sent.len() > 8,
        "the second initiation needed a retransmission"
    );
}

fn small_fragments() -> ike::EngineConfig {
    ike::EngineConfig {
        fragment_size: 200,
        ..ike::EngineConfig::default()
    }
}

fn is_fragment(t: &ike::Transmit) -> bool {
    ike_bytes(t).and_then(|m| m.get(16)).copied() == Some(53)
}

#[test]
fn fragmentation_when_negotiated() {
    let (a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    let mut sim = Sim::with_cfg(
        small_fragments(),
        small_fragments(),
        a,
        b,
        creds("k"),
        creds("k"),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let frags = sim.sent.iter().filter(|(_, t)| is_fragment(t)).count();
    assert!(
        frags >= 4,
        "IKE_AUTH request and response went in fragments ({frags})"
    );
    assert!(
        sim.sent
            .iter()
            .filter(|(_, t)| exchange_of(t) != Some(34))
            .all(|(_, t)| t.payload.len() <= 200 - 28),
        "every encrypted datagram fits (IKE_SA_INIT cannot be fragmented)"
    );
    // Later exchanges fragment too (a rekey is large enough with these limits).
    let now = sim.now;
    let id = sim.a.status(now)[0].id;
    assert!(sim.a.rekey_ike(now, id));
    sim.run_for(Duration::from_secs(1));
    assert_tunnel_after_rekey(&sim);
}

fn assert_tunnel_after_rekey(sim: &Sim) {
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].spi_i, b[0].spi_i);
    assert_eq!(a[0].children.len(), 1);
}

#[test]
fn no_fragmentation_unless_both_support_it() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.fragmentation = false;
    let mut sim = Sim::with_cfg(
        small_fragments(),
        small_fragments(),
        a,
        b,
        creds("k"),
        creds("k"),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    assert!(!sim.sent.iter().any(|(_, t)| is_fragment(t)));
}

#[test]
fn lost_fragment_is_retransmitted_with_the_others() {
    let (a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    let mut sim = Sim::with_cfg(
        small_fragments(),
        small_fragments(),
        a,
        b,
        creds("k"),
        creds("k"),
    );
    let mut dropped = false;
    sim.impair = Box::new(move |_, t| {
        if is_fragment(t) && !dropped {
            dropped = true;
            return Action::Drop;
        }
        Action::Deliver
    });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(10));
    assert_tunnel(&sim);
    assert_eq!(
        sim.events_b
            .iter()
            .filter(|e| matches!(e, Event::ChildSaUp(_)))
            .count(),
        1
    );
}

#[test]
fn duplicated_fragments_are_harmless() {
    let (a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    let mut sim = Sim::with_cfg(
        small_fragments(),
        small_fragments(),
        a,
        b,
        creds("k"),
        creds("k"),
    );
    sim.impair = Box::new(|_, _| Action::Duplicate);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
}

#[test]
fn mobike_initiator_moves() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let now = sim.now;
    let id = sim.a.status(now)[0].id;
    let new: std::net::IpAddr = "192.0.2.3".parse().unwrap();
    sim.a_addr = new;
    assert!(sim.a.roam(now, id, new));
    sim.run_for(Duration::from_secs(1));
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    assert_eq!(a[0].local.ip(), new);
    assert_eq!(b[0].remote.ip(), new, "the responder followed");
    for ev in [&sim.events_a, &sim.events_b] {
        assert!(
            ev.iter().any(|e| matches!(e, Event::PeerAddressChanged { local, remote, .. } if local.ip() == new || remote.ip() == new)),
            "children told about the move"
        );
    }
    // The SA still works from the new address: delete it from B.
    let now = sim.now;
    sim.b.terminate_connection(now, "net");
    sim.run_for(Duration::from_secs(1));
    assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
}

#[test]
fn mobike_needs_negotiation() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.mobike = false;
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    let now = sim.now;
    let id = sim.a.status(now)[0].id;
    assert!(!sim.a.roam(now, id, "192.0.2.3".parse().unwrap()));
}

#[test]
fn nat_mapping_change_is_followed() {
    // B accepts A from anywhere: A's address is hidden behind the NAT.
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.remote_addrs = vec![ike::PeerAddr::Any];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.a_nat = Some(("198.51.100.1".parse().unwrap(), 1000));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let b = sim.b.status(sim.now);
    assert!(b[0].nat_remote && b[0].remote.port() == 5500);
    let a = sim.a.status(sim.now);
    assert!(a[0].nat_local, "A knows it is behind a NAT");
    // The NAT forgets the mapping and picks another port; A's next message comes from there.
    sim.a_nat = Some(("198.51.100.1".parse().unwrap(), 2000));
    sim.run_for(Duration::from_secs(25)); // A's NAT keepalives and nothing else
    let now = sim.now;
    sim.a.terminate_connection(now, "net");
    sim.run_for(Duration::from_secs(1));
    assert!(sim
        .events_b
        .iter()
        .any(|e| matches!(e, Event::PeerAddressChanged { remote, .. } if remote.port() == 6500)));
    assert!(
        sim.b.status(sim.now).is_empty(),
        "B answered the delete at the new mapping"
    );
    // A sent NAT keepalives (it is behind the NAT).
    assert!(sim
        .sent
        .iter()
        .any(|(w, t)| *w == 'a' && t.payload == [0xff]));
}

/// A MOBIKE initiator behind a NAT learns how the peer sees it (NAT detection in a liveness
/// check right after IKE_AUTH and in every later one) and, when its mapping changes, announces
/// it with UPDATE_SA_ADDRESSES (RFC 4555 §3.8) — the only way a MOBIKE responder that keeps the
/// SA's addresses on ordinary messages (§3.5) learns it. Without a change, no update is sent.
#[test]
fn mobike_initiator_behind_nat_announces_a_mapping_change() {
    let run = |change: bool| {
        let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
        b.remote_addrs = vec![ike::PeerAddr::Any];
        a.dpd_delay = Duration::from_secs(10);
        let mut sim = Sim::new(a, b, creds("k"), creds("k"));
        sim.a_nat = Some(("198.51.100.1".parse().unwrap(), 1000));
        sim.initiate_a();
        sim.run_for(Duration::from_secs(2));
        assert_tunnel(&sim);
        assert!(sim.a.status(sim.now)[0].nat_local);
        if change {
            sim.a_nat = Some(("198.51.100.1".parse().unwrap(), 2000));
        }
        sim.run_for(Duration::from_secs(25)); // two liveness checks of A
        let a_moved = sim
            .events_a
            .iter()
            .any(|e| matches!(e, Event::PeerAddressChanged { .. }));
        let b_at = sim.b.status(sim.now)[0].remote.port();
        (a_moved, b_at)
    };
    assert_eq!(
        run(true),
        (true, 6500),
        "A sent UPDATE_SA_ADDRESSES after the mapping change; B sends to the new mapping"
    );
    assert_eq!(run(false), (false, 5500), "no mapping change, no update");
}

/// A client behind a NAT connects and disconnects more often than the per-source half-open
/// limit: each IKE SA completes, so none stays counted as half-open (the entry is keyed by the
/// IKE_SA_INIT source, port 500, while the SA moved to port 4500).
#[test]
fn completed_sas_leave_no_half_open_entry_after_the_natt_float() {
    let (a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    b.remote_addrs = vec![ike::PeerAddr::Any];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.a_nat = Some(("198.51.100.1".parse().unwrap(), 1000));
    let limit = engine_cfg().half_open_per_source;
    for round in 0..limit + 3 {
        sim.initiate_a();
        sim.run_for(Duration::from_secs(2));
        let st = sim.b.status(sim.now);
        assert!(
            st.len() == 1 && st[0].state == "ESTABLISHED",
            "round {round}: {st:?}"
        );
        assert!(st[0].nat_remote);
        let now = sim.now;
        sim.a.terminate_connection(now, "net");
        sim.run_for(Duration::from_secs(2));
        assert!(sim.b.status(sim.now).is_empty(), "round {round}");
    }
}

#[test]
fn impaired_peer_omitting_the_nonce_gets_invalid_syntax() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.a.set_impairment(ike::Impairment {
        omit_payload: Some(40),
        ..Default::default()
    });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(60));
    assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
    assert!(sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "INVALID_SYNTAX")));
}

#[test]
fn higher_major_version_is_answered() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.a.set_impairment(ike::Impairment {
        bump_version: true,
        ..Default::default()
    });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(60));
    assert!(sim.b.status(sim.now).is_empty());
    assert!(sim.events_a.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "INVALID_MAJOR_VERSION")
    ));
    assert_eq!(
        sim.a.stats().ike_failed.get("INVALID_MAJOR_VERSION"),
        Some(&1)
    );
}

#[test]
fn impairment_drop_and_corrupt_are_survived() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.a.set_impairment(ike::Impairment {
        drop_nth: Some(1),
        ..Default::default()
    });
    sim.b.set_impairment(ike::Impairment {
        corrupt_nth: Some(1),
        ..Default::default()
    });
    sim.initiate_a();
    sim.run_for(Duration::from_secs(30));
    assert_tunnel(&sim);
}

#[test]
fn replayed_requests_and_responses_are_ignored() {
    let (mut a, b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.dpd_delay = Duration::from_secs(10);
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(25)); // two liveness checks
    assert_tunnel(&sim);
    let informational: Vec<_> = sim
        .sent
        .iter()
        .filter(|(_, t)| exchange_of(t) == Some(37))
        .map(|(w, t)| (*w, t.clone()))
        .collect();
    assert!(informational.len() >= 4);
    let (old_req, old_resp) = (&informational[0], &informational[1]);
    assert_eq!((old_req.0, old_resp.0), ('a', 'b'));
    let now = sim.now;
    let before = sim.sent.len();
    // An old request (not the last one) replayed to B: silently dropped.
    sim.b
        .handle_datagram(now, old_req.1.remote, old_req.1.local, &old_req.1.payload);
    // An old response replayed to A: no outstanding request with that ID, dropped.
    sim.a.handle_datagram(
        now,
        old_resp.1.remote,
        old_resp.1.local,
        &old_resp.1.payload,
    );
    assert!(
        sim.b.poll_transmit().is_none(),
        "no answer to a replayed old request"
    );
    assert!(sim.a.poll_transmit().is_none());
    assert_eq!(sim.sent.len(), before);
    assert_tunnel(&sim);
}

#[test]
fn simultaneous_ike_delete() {
    let mut sim = setup(&[GCM], &["aes256gcm16"]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    let now = sim.now;
    sim.a.terminate_connection(now, "net");
    sim.b.terminate_connection(now, "net");
    sim.run_for(Duration::from_secs(60));
    assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
    for ev in [&sim.events_a, &sim.events_b] {
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, Event::IkeSaDown { .. }))
                .count(),
            1
        );
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, Event::ChildSaDown { .. }))
                .count(),
            1
        );
    }
}

/// A pool of consecutive addresses with leases per identity.
struct TestPools {
    free: Vec<std::net::IpAddr>,
    leases: Vec<(wire::Identity, std::net::IpAddr, bool)>,
}

impl ike::Pools for TestPools {
    fn acquire(
        &mut self,
        _pool: &str,
        peer: &wire::Identity,
        wish: std::net::IpAddr,
    ) -> Option<std::net::IpAddr> {
        if let Some(l) = self
            .leases
            .iter_mut()
            .find(|(p, a, _)| p == peer && a.is_ipv4() == wish.is_ipv4())
        {
            l.2 = true;
            return Some(l.1);
        }
        let pos = self
            .free
            .iter()
            .position(|a| a.is_ipv4() == wish.is_ipv4())?;
        let a = self.free.remove(pos);
        self.leases.push((peer.clone(), a, true));
        Some(a)
    }
    fn release(&mut self, _pool: &str, peer: &wire::Identity, addr: std::net::IpAddr) {
        for l in self
            .leases
            .iter_mut()
            .filter(|(p, a, _)| p == peer && *a == addr)
        {
            l.2 = false;
        }
    }
}

fn road_warrior(pool: Vec<std::net::IpAddr>) -> Sim {
    let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.vips = vec!["0.0.0.0".parse().unwrap()];
    a.children[0].local_ts = vec![ike::TsConfig::Dynamic];
    b.remote_addrs = vec![ike::PeerAddr::Any];
    b.pools = vec!["rw".into()];
    b.dns = vec!["198.51.100.53".parse().unwrap()];
    b.children[0].remote_ts = vec![ike::TsConfig::Dynamic];
    let mut sim = Sim::new(a, b, creds("k"), creds("k"));
    sim.b.set_pools(Box::new(TestPools {
        free: pool,
        leases: vec![],
    }));
    sim
}

#[test]
fn virtual_ip_from_a_pool() {
    let mut sim = road_warrior(vec![
        "198.51.100.200".parse().unwrap(),
        "198.51.100.201".parse().unwrap(),
    ]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_tunnel(&sim);
    let vip: std::net::IpAddr = "198.51.100.200".parse().unwrap();
    let (addresses, dns, subnets) = sim
        .events_a
        .iter()
        .find_map(|e| match e {
            Event::VirtualIp {
                addresses,
                dns,
                subnets,
                ..
            } => Some((addresses.clone(), dns.clone(), subnets.clone())),
            _ => None,
        })
        .expect("VirtualIp event");
    assert_eq!(addresses, vec![vip]);
    assert_eq!(
        dns,
        vec!["198.51.100.53".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(subnets, vec!["198.51.100.0/24".parse().unwrap()]);
    // The VirtualIp event comes before the Child SA that uses the address.
    let vi = sim
        .events_a
        .iter()
        .position(|e| matches!(e, Event::VirtualIp { .. }))
        .unwrap();
    let cu = sim
        .events_a
        .iter()
        .position(|e| matches!(e, Event::ChildSaUp(_)))
        .unwrap();
    assert!(vi < cu);
    let a = sim.a.status(sim.now);
    assert_eq!(a[0].virtual_ips, vec![vip]);
    assert_eq!(
        a[0].children[0].local_ts,
        vec![wire::TrafficSelector::host(vip)]
    );
    let b = sim.b.status(sim.now);
    assert_eq!(b[0].virtual_ips, vec![vip]);
    assert_eq!(
        b[0].children[0].remote_ts,
        vec![wire::TrafficSelector::host(vip)],
        "narrowed to the virtual IP (anti-spoofing)"
    );
    // Reconnecting gets the same address back.
    let now = sim.now;
    sim.a.terminate_connection(now, "net");
    sim.run_for(Duration::from_secs(1));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.b.status(sim.now)[0].virtual_ips, vec![vip]);
}

#[test]
fn exhausted_pool_gives_internal_address_failure() {
    let mut sim = road_warrior(vec![]);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    let a = sim.a.status(sim.now);
    assert_eq!(a[0].state, "ESTABLISHED");
    assert!(a[0].children.is_empty());
    assert!(!sim
        .events_a
        .iter()
        .any(|e| matches!(e, Event::VirtualIp { .. })));
}
