//! Extended Sequence Numbers end to end (RFC 4304; RFC 4303 §2.2.1, §3.3.3, §3.4.3,
//! Appendix A; RFC 4106 §5): two data planes across the 2^32 boundary, and the ICV layout
//! checked against aws-lc-rs directly.

use std::net::SocketAddr;

use crypto::{Cipher, EncrAlg, EncrId, IntegId, SecretBytes};

use crate::{ChildSaConfig, DataPlane, DropReason, Lifetime, Mode, SaKeys, TunnelOptions};

pub(crate) const A_IN: u32 = 0xa000_0001;
pub(crate) const B_IN: u32 = 0xb000_0001;

pub(crate) fn keys(suite: &str, spi: u32, seed: u8) -> SaKeys {
    let (encr, integ) = match suite {
        "aes128gcm16" => (
            EncrAlg {
                id: EncrId::AesGcm16,
                key_bits: Some(128),
            },
            None,
        ),
        "aes256gcm16" => (
            EncrAlg {
                id: EncrId::AesGcm16,
                key_bits: Some(256),
            },
            None,
        ),
        "chacha20poly1305" => (
            EncrAlg {
                id: EncrId::ChaCha20Poly1305,
                key_bits: None,
            },
            None,
        ),
        "aes128-sha256" => (
            EncrAlg {
                id: EncrId::AesCbc,
                key_bits: Some(128),
            },
            Some(IntegId::HmacSha2_256_128),
        ),
        "null-sha256" => (
            EncrAlg {
                id: EncrId::Null,
                key_bits: None,
            },
            Some(IntegId::HmacSha2_256_128),
        ),
        other => panic!("{other}"),
    };
    let el = Cipher::encr_keymat_len(encr).unwrap();
    let il = integ.map_or(0, |i| Cipher::integ_key_len(i).unwrap());
    SaKeys {
        spi,
        encr,
        integ,
        encr_key: SecretBytes::new((0..el).map(|i| seed ^ i as u8).collect()),
        integ_key: SecretBytes::new((0..il).map(|i| seed.wrapping_add(i as u8)).collect()),
    }
}

pub(crate) fn cfg(suite: &str, a_side: bool, esn: bool) -> ChildSaConfig {
    let (a, b): (SocketAddr, SocketAddr) = (
        "192.0.2.1:4500".parse().unwrap(),
        "192.0.2.2:4500".parse().unwrap(),
    );
    let (l, r) = if a_side { (a, b) } else { (b, a) };
    let (lts, rts) = if a_side {
        ("203.0.113.0/24", "198.51.100.0/24")
    } else {
        ("198.51.100.0/24", "203.0.113.0/24")
    };
    let (inb, outb) = if a_side {
        (keys(suite, A_IN, 0x40), keys(suite, B_IN, 0x90))
    } else {
        (keys(suite, B_IN, 0x90), keys(suite, A_IN, 0x40))
    };
    ChildSaConfig {
        id: if a_side { 1 } else { 2 },
        mode: Mode::Tunnel,
        protocol: crate::SecurityProtocol::Esp,
        local_ts: vec![lts.parse().unwrap()],
        remote_ts: vec![rts.parse().unwrap()],
        local: l,
        remote: r,
        encap: true,
        inbound: inb,
        outbound: outb,
        replay_window: 64,
        esn,
        lifetime: Lifetime::default(),
        options: TunnelOptions::default(),
    }
}

pub(crate) fn packet(tag: u8) -> Vec<u8> {
    let mut p = vec![tag; 20 + 64];
    wire::ip::Ipv4Repr {
        src_addr: [203, 0, 113, 5].into(),
        dst_addr: [198, 51, 100, 5].into(),
        protocol: 59,
        ttl: 64,
        dscp_ecn: 0,
        identification: u16::from(tag),
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        payload_len: 64,
    }
    .emit(&mut p)
    .unwrap();
    p
}

pub(crate) fn pair(suite: &str, a_esn: bool, b_esn: bool) -> (DataPlane, DataPlane) {
    let a = DataPlane::new();
    let b = DataPlane::new();
    a.install_child(cfg(suite, true, a_esn)).unwrap();
    b.install_child(cfg(suite, false, b_esn)).unwrap();
    (a, b)
}

pub(crate) fn set_seq(d: &DataPlane, id: u64, seq: u64) {
    d.tables().children.get(&id).unwrap().outbound.set_seq(seq);
}

const SUITES: [&str; 5] = [
    "aes128gcm16",
    "aes256gcm16",
    "chacha20poly1305",
    "aes128-sha256",
    "null-sha256",
];

/// Packets sent across 2^32 arrive reordered; each opens once with its full 64-bit number.
#[test]
fn esn_crosses_the_32_bit_boundary_with_reordering() {
    for suite in SUITES {
        let (a, b) = pair(suite, true, true);
        let first = (1u64 << 32) - 3;
        let from: SocketAddr = "192.0.2.1:4500".parse().unwrap();
        let mut out = Vec::new();
        // B's window first learns where A is (a fresh window cannot place 2^32 − 1).
        // It moves at most 2^32 − W forward per packet.
        for s in [1u64 << 31, first - 10] {
            set_seq(&a, 1, s - 1);
            a.encapsulate(&packet(9), &mut out).unwrap();
            let esp = out.clone();
            assert_eq!(b.decapsulate(&esp, from, &mut out).unwrap().seq, s);
        }
        set_seq(&a, 1, first - 1);
        let sealed: Vec<Vec<u8>> = (0..6u8)
            .map(|i| {
                let mut out = Vec::new();
                a.encapsulate(&packet(i), &mut out).unwrap();
                out
            })
            .collect();
        for (i, p) in sealed.iter().enumerate() {
            let seq = first + i as u64;
            assert_eq!(
                &p[4..8],
                &(seq as u32).to_be_bytes(),
                "{suite}: low half only"
            );
        }
        for i in [2usize, 0, 1, 4, 3, 5] {
            let inb = b.decapsulate(&sealed[i], from, &mut out).unwrap();
            assert_eq!(inb.seq, first + i as u64, "{suite}");
            assert_eq!(out, packet(i as u8), "{suite}");
        }
        for i in [0usize, 3, 5] {
            assert_eq!(
                b.decapsulate(&sealed[i], from, &mut out),
                Err(DropReason::Replay),
                "{suite}"
            );
        }
        let st = b.inbound_sa_stats(B_IN).unwrap();
        assert_eq!((st.packets, st.highest_seq), (8, first + 5), "{suite}");
        assert_eq!(a.outbound_sa_stats(1).unwrap().highest_seq, first + 5);
    }
}

/// The high half is authenticated: a receiver without ESN (same keys) fails the ICV of a
/// packet sent with ESN past 2^32, and vice versa, though the wire bytes are alike.
#[test]
fn esn_high_half_is_in_the_icv() {
    for suite in SUITES {
        let from: SocketAddr = "192.0.2.1:4500".parse().unwrap();
        let mut out = Vec::new();
        let (a, b) = pair(suite, true, false);
        set_seq(&a, 1, 1 << 32);
        a.encapsulate(&packet(1), &mut out).unwrap();
        assert_eq!(&out[4..8], &1u32.to_be_bytes());
        let esp = out.clone();
        assert_eq!(
            b.decapsulate(&esp, from, &mut out),
            Err(DropReason::IcvFailure),
            "{suite}"
        );
        let (a, b) = pair(suite, false, true);
        a.encapsulate(&packet(1), &mut out).unwrap();
        let esp = out.clone();
        // The ESN receiver infers high half 0 for seq 1 too, but for AEAD its AAD is 12 bytes
        // and for HMAC 4 more bytes are covered: the ICV cannot match.
        assert_eq!(
            b.decapsulate(&esp, from, &mut out),
            Err(DropReason::IcvFailure),
            "{suite}"
        );
    }
}

/// A packet whose inferred number would lie before 0 (a fresh window, a low half just under
/// 2^32) was never sent: dropped as a replay before the ICV, and the window is unchanged.
#[test]
fn esn_inference_before_zero_is_a_replay() {
    let (a, b) = pair("aes128gcm16", true, true);
    set_seq(&a, 1, u64::from(u32::MAX) - 5);
    let mut esp = Vec::new();
    a.encapsulate(&packet(1), &mut esp).unwrap();
    let mut out = Vec::new();
    let from: SocketAddr = "192.0.2.1:4500".parse().unwrap();
    assert_eq!(b.decapsulate(&esp, from, &mut out), Err(DropReason::Replay));
    assert_eq!(b.inbound_sa_stats(B_IN).unwrap().highest_seq, 0);
}

/// Without ESN the counter stops at 2^32 − 1 (RFC 4303 §3.3.3); with ESN it goes on.
#[test]
fn exhaustion_only_without_esn() {
    let (a, _) = pair("aes128gcm16", false, false);
    set_seq(&a, 1, u64::from(u32::MAX));
    let mut out = Vec::new();
    assert_eq!(
        a.encapsulate(&packet(0), &mut out),
        Err(DropReason::SeqExhausted)
    );
    let (a, _) = pair("aes128gcm16", true, true);
    set_seq(&a, 1, u64::from(u32::MAX));
    a.encapsulate(&packet(0), &mut out).unwrap();
    assert_eq!(a.outbound_sa_stats(1).unwrap().highest_seq, 1 << 32);
}

/// The AEAD AAD with ESN is SPI | Seq high | Seq low (RFC 4106 §5), checked by opening with
/// aws-lc-rs directly; the HMAC ICV covers `SPI | Seq low | IV | ciphertext | Seq high`
/// (RFC 4303 §3.3.2.1), checked with aws-lc-rs's HMAC.
#[test]
fn esn_icv_layout_matches_an_independent_implementation() {
    use aws_lc_rs::{aead, hmac};
    let seq = (5u64 << 32) | 7;
    let (a, _) = pair("aes128gcm16", true, true);
    set_seq(&a, 1, seq - 1);
    let mut esp = Vec::new();
    a.encapsulate(&packet(3), &mut esp).unwrap();
    let k = keys("aes128gcm16", B_IN, 0x90);
    let km = k.encr_key.as_slice();
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &km[..16]).unwrap());
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&km[16..20]);
    nonce[4..].copy_from_slice(&esp[8..16]);
    assert_eq!(
        &esp[8..16],
        &seq.to_be_bytes(),
        "IV = the 64-bit sequence number"
    );
    let mut aad = Vec::from(&esp[..4]);
    aad.extend_from_slice(&seq.to_be_bytes());
    let mut body = esp[16..].to_vec();
    let plain = key
        .open_in_place(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&aad),
            &mut body,
        )
        .expect("aws-lc-rs opens it with AAD = SPI | high | low");
    assert_eq!(&plain[..84], &packet(3)[..]);

    let (a, _) = pair("aes128-sha256", true, true);
    set_seq(&a, 1, seq - 1);
    a.encapsulate(&packet(3), &mut esp).unwrap();
    let k = keys("aes128-sha256", B_IN, 0x90);
    let mac = hmac::Key::new(hmac::HMAC_SHA256, k.integ_key.as_slice());
    let (signed, icv) = esp.split_at(esp.len() - 16);
    let mut ctx = hmac::Context::with_key(&mac);
    ctx.update(signed);
    ctx.update(&5u32.to_be_bytes());
    assert_eq!(&ctx.sign().as_ref()[..16], icv);
}
