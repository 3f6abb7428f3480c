//! Byte and packet lifetimes (RFC 4301 §4.4.2.1) and sequence-number exhaustion events
//! (RFC 4303 §3.3.3): each raised once per SA, soft before hard, nothing carried after hard.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::tests_esn::{cfg, packet, set_seq, B_IN};
use crate::{
    DataPlane, Direction, DropReason, ExpiryCause, ExpiryKind, Lifetime, SaEvent, SEQ_SOFT_MARGIN,
};

fn counting(d: &DataPlane) -> Arc<AtomicUsize> {
    let n = Arc::new(AtomicUsize::new(0));
    let m = n.clone();
    d.set_event_notifier(Arc::new(move || {
        m.fetch_add(1, Ordering::Relaxed);
    }));
    n
}

fn ev(
    child_id: u64,
    spi: u32,
    direction: Direction,
    kind: ExpiryKind,
    cause: ExpiryCause,
) -> SaEvent {
    SaEvent {
        child_id,
        spi,
        direction,
        kind,
        cause,
    }
}

#[test]
fn outbound_packet_limits() {
    let a = DataPlane::new();
    let mut c = cfg("aes128gcm16", true, false);
    c.lifetime = Lifetime {
        soft_packets: Some(3),
        hard_packets: Some(5),
        ..Lifetime::default()
    };
    a.install_child(c).unwrap();
    let calls = counting(&a);
    let mut out = Vec::new();
    let mut results = Vec::new();
    for i in 0..7u8 {
        results.push(a.encapsulate(&packet(i), &mut out).map(|_| ()));
        if i == 2 {
            assert_eq!(
                a.take_events(),
                [ev(
                    1,
                    B_IN,
                    Direction::Outbound,
                    ExpiryKind::Soft,
                    ExpiryCause::Packets
                )],
                "soft event on the third packet"
            );
        }
    }
    assert_eq!(
        results,
        [
            Ok(()),
            Ok(()),
            Ok(()),
            Ok(()),
            Ok(()),
            Err(DropReason::LifetimeExpired),
            Err(DropReason::LifetimeExpired)
        ]
    );
    assert_eq!(
        a.take_events(),
        [ev(
            1,
            B_IN,
            Direction::Outbound,
            ExpiryKind::Hard,
            ExpiryCause::Packets
        )]
    );
    assert!(a.take_events().is_empty());
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    assert_eq!(a.drop_counters().get(DropReason::LifetimeExpired), 2);
    assert_eq!(a.child_stats(1).unwrap().packets_out, 5);
}

#[test]
fn inbound_byte_limits() {
    let a = DataPlane::new();
    let b = DataPlane::new();
    a.install_child(cfg("aes128-sha256", true, false)).unwrap();
    let mut cb = cfg("aes128-sha256", false, false);
    // Each inner packet is 84 bytes: soft at the 3rd (252 ≥ 200), hard at the 4th (336 ≥ 300).
    cb.lifetime = Lifetime {
        soft_bytes: Some(200),
        hard_bytes: Some(300),
        ..Lifetime::default()
    };
    b.install_child(cb).unwrap();
    let calls = counting(&b);
    let from: SocketAddr = "192.0.2.1:4500".parse().unwrap();
    let (mut esp, mut out) = (Vec::new(), Vec::new());
    let mut results = Vec::new();
    for i in 0..6u8 {
        a.encapsulate(&packet(i), &mut esp).unwrap();
        results.push(b.decapsulate(&esp, from, &mut out).map(|_| ()));
    }
    assert_eq!(
        results,
        [
            Ok(()),
            Ok(()),
            Ok(()),
            Ok(()),
            Err(DropReason::LifetimeExpired),
            Err(DropReason::LifetimeExpired)
        ]
    );
    assert_eq!(
        b.take_events(),
        [
            ev(
                2,
                B_IN,
                Direction::Inbound,
                ExpiryKind::Soft,
                ExpiryCause::Bytes
            ),
            ev(
                2,
                B_IN,
                Direction::Inbound,
                ExpiryKind::Hard,
                ExpiryCause::Bytes
            ),
        ]
    );
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    assert_eq!(b.inbound_sa_stats(B_IN).unwrap().bytes, 4 * 84);
    assert!(out.is_empty(), "nothing handed out after the hard limit");
}

/// Without ESN a soft event comes `SEQ_SOFT_MARGIN` numbers before the end, a hard one when
/// the first packet is refused; with ESN neither.
#[test]
fn sequence_number_exhaustion_events() {
    let a = DataPlane::new();
    a.install_child(cfg("aes128gcm16", true, false)).unwrap();
    let mut out = Vec::new();
    let soft = u64::from(u32::MAX) - SEQ_SOFT_MARGIN;
    set_seq(&a, 1, soft - 2);
    a.encapsulate(&packet(0), &mut out).unwrap();
    assert!(a.take_events().is_empty());
    a.encapsulate(&packet(0), &mut out).unwrap();
    assert_eq!(
        a.take_events(),
        [ev(
            1,
            B_IN,
            Direction::Outbound,
            ExpiryKind::Soft,
            ExpiryCause::SequenceNumbers
        )]
    );
    set_seq(&a, 1, u64::from(u32::MAX) - 1);
    a.encapsulate(&packet(0), &mut out).unwrap();
    for _ in 0..3 {
        assert_eq!(
            a.encapsulate(&packet(0), &mut out),
            Err(DropReason::SeqExhausted)
        );
    }
    assert_eq!(
        a.take_events(),
        [ev(
            1,
            B_IN,
            Direction::Outbound,
            ExpiryKind::Hard,
            ExpiryCause::SequenceNumbers
        )]
    );

    let e = DataPlane::new();
    e.install_child(cfg("aes128gcm16", true, true)).unwrap();
    set_seq(&e, 1, soft - 2);
    for _ in 0..3 {
        e.encapsulate(&packet(0), &mut out).unwrap();
    }
    set_seq(&e, 1, u64::from(u32::MAX) - 1);
    for _ in 0..3 {
        e.encapsulate(&packet(0), &mut out).unwrap();
    }
    assert!(e.take_events().is_empty(), "ESN: no exhaustion at 2^32");
}

/// Four workers sending on one SA raise the soft event once.
#[test]
fn one_event_under_concurrency() {
    let a = Arc::new(DataPlane::new());
    let mut c = cfg("aes128gcm16", true, false);
    c.lifetime = Lifetime {
        soft_packets: Some(1000),
        soft_bytes: Some(u64::MAX - 1),
        ..Lifetime::default()
    };
    a.install_child(c).unwrap();
    let calls = counting(&a);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let a = a.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                for i in 0..500u16 {
                    a.encapsulate(&packet(i as u8), &mut out).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(
        a.take_events(),
        [ev(
            1,
            B_IN,
            Direction::Outbound,
            ExpiryKind::Soft,
            ExpiryCause::Packets
        )]
    );
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}
