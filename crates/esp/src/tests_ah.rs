//! AH with the data plane's internals at hand: Extended Sequence Numbers across 2^32 (the high
//! half in the ICV, RFC 4302 §2.5.1, checked against aws-lc-rs's HMAC directly), sequence
//! exhaustion without ESN, and lifetimes (RFC 4301 §4.4.2.1), as for ESP.

use crate::tests_esn::{cfg, keys, packet, set_seq, B_IN};
use crate::{
    ChildSaConfig, DataPlane, Direction, DropReason, ExpiryCause, ExpiryKind, Lifetime,
    SecurityProtocol,
};

/// The ESN test pair's child as AH (HMAC-SHA2-256-128, no encapsulation).
fn ah_cfg(a_side: bool, esn: bool) -> ChildSaConfig {
    let mut c = cfg("null-sha256", a_side, esn);
    c.protocol = SecurityProtocol::Ah;
    c.encap = false;
    c
}

fn ah_pair(esn: bool) -> (DataPlane, DataPlane) {
    let (a, b) = (DataPlane::new(), DataPlane::new());
    a.install_child(ah_cfg(true, esn)).unwrap();
    b.install_child(ah_cfg(false, esn)).unwrap();
    (a, b)
}

#[test]
fn esn_crosses_the_32_bit_boundary() {
    let (a, b) = ah_pair(true);
    let mut out = Vec::new();
    // B's window learns where A is first (it moves less than 2^31 per packet).
    let first = (1u64 << 32) - 2;
    for s in [1u64 << 31, first - 10] {
        set_seq(&a, 1, s - 1);
        a.encapsulate(&packet(1), &mut out).unwrap();
        let w = out.clone();
        assert_eq!(b.decapsulate_ah(&w, &mut out).unwrap().seq, s);
    }
    set_seq(&a, 1, first - 1);
    let sealed: Vec<Vec<u8>> = (0..4u8)
        .map(|i| {
            let mut w = Vec::new();
            a.encapsulate(&packet(i), &mut w).unwrap();
            w
        })
        .collect();
    for (i, w) in sealed.iter().enumerate() {
        // Outer IPv4 header (20), then AH: the low half only at offset 8 of AH.
        let seq = first + i as u64;
        assert_eq!(&w[28..32], &(seq as u32).to_be_bytes());
    }
    for i in [3usize, 0, 2, 1] {
        let r = b.decapsulate_ah(&sealed[i], &mut out).unwrap();
        assert_eq!(r.seq, first + i as u64);
        assert_eq!(out, packet(i as u8));
    }
    assert_eq!(
        b.decapsulate_ah(&sealed[2], &mut out),
        Err(DropReason::Replay)
    );
}

/// The ICV past 2^32 is HMAC(header with mutable fields zeroed | AH with ICV zeroed | inner
/// | high half), computed here with aws-lc-rs from the packet's bytes.
#[test]
fn esn_icv_layout_matches_hmac_directly() {
    use aws_lc_rs::hmac;
    let seq = (5u64 << 32) | 7;
    let (a, _) = ah_pair(true);
    set_seq(&a, 1, seq - 1);
    let mut w = Vec::new();
    a.encapsulate(&packet(3), &mut w).unwrap();
    let mut z = w.clone();
    // IPv4 TOS, flags + offset, TTL, checksum; then the ICV field (AH at 20, ICV at 32).
    for at in [1, 6, 7, 8, 10, 11] {
        z[at] = 0;
    }
    z[32..48].fill(0);
    let k = keys("null-sha256", B_IN, 0x90);
    let mac = hmac::Key::new(hmac::HMAC_SHA256, k.integ_key.as_slice());
    let mut ctx = hmac::Context::with_key(&mac);
    ctx.update(&z);
    ctx.update(&5u32.to_be_bytes());
    assert_eq!(&ctx.sign().as_ref()[..16], &w[32..48]);
}

#[test]
fn exhaustion_only_without_esn() {
    let (a, _) = ah_pair(false);
    set_seq(&a, 1, u64::from(u32::MAX));
    let mut out = Vec::new();
    assert_eq!(
        a.encapsulate(&packet(0), &mut out),
        Err(DropReason::SeqExhausted)
    );
    assert!(out.is_empty());
    let (a, _) = ah_pair(true);
    set_seq(&a, 1, u64::from(u32::MAX));
    a.encapsulate(&packet(0), &mut out).unwrap();
    assert_eq!(a.outbound_sa_stats(1).unwrap().highest_seq, 1 << 32);
}

#[test]
fn packet_lifetimes_both_directions() {
    let life = Lifetime {
        soft_packets: Some(2),
        hard_packets: Some(3),
        ..Lifetime::default()
    };
    let (a, b) = (DataPlane::new(), DataPlane::new());
    let mut ca = ah_cfg(true, false);
    ca.lifetime = life;
    let mut cb = ah_cfg(false, false);
    cb.lifetime = life;
    a.install_child(ca).unwrap();
    b.install_child(cb).unwrap();
    let mut w = Vec::new();
    let mut out = Vec::new();
    let mut sent = Vec::new();
    for i in 0..4u8 {
        sent.push(a.encapsulate(&packet(i), &mut w).map(|_| w.clone()));
    }
    assert_eq!(sent[3], Err(DropReason::LifetimeExpired));
    let kinds: Vec<_> = a
        .take_events()
        .into_iter()
        .map(|e| (e.spi, e.direction, e.kind, e.cause))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                B_IN,
                Direction::Outbound,
                ExpiryKind::Soft,
                ExpiryCause::Packets
            ),
            (
                B_IN,
                Direction::Outbound,
                ExpiryKind::Hard,
                ExpiryCause::Packets
            ),
        ]
    );
    for p in sent.iter().flatten() {
        b.decapsulate_ah(p, &mut out).unwrap();
    }
    let kinds: Vec<_> = b.take_events().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [ExpiryKind::Soft, ExpiryKind::Hard]);
    assert_eq!(b.inbound_sa_stats(B_IN).unwrap().packets, 3);
}
