//! Known-answer tests: packets whose bytes were computed outside Rampart
//! (`vectors/independent_kat.py`, Python `cryptography`, following RFC 4303 §2, RFC 4106 §3–5,
//! RFC 3602 and RFC 4868) must be what `encapsulate` produces and what `decapsulate` opens.

use crypto::{EncrAlg, EncrId, IntegId, Random, SecretBytes};
use esp::{ChildSaConfig, DataPlane, Lifetime, Mode, SaKeys, TunnelOptions};

/// ICMP echo 203.0.113.10 -> 198.51.100.10, 16 data bytes.
const INNER: &str =
    "4500002cbeef400040011599cb00710ac633640a0800ad8a12340001000102030405060708090a0b0c0d0e0f";
/// SPI 0x11223344, seq 1, AES-GCM-16-128 key 00..0f salt a0a1a2a3, IV = seq.
const GCM: &str = "1122334400000001000000000000000103711cded26b3750c76d538e1004e56cd7c17d899ef52d287fc58b111ca75d11effec8ac2d389adc3c07eab7ce2ebd10295faf9d403c2f1a0e3ca0ddf81f9a95";
/// SPI 0x11223344, seq 1, AES-CBC-128 key 10..1f, IV f0..ff, HMAC-SHA2-256-128 key 20..3f.
const CBC: &str = "1122334400000001f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff44e7ea0f485253d6d1d43f76011f546fd6d16f7d026fa824119436ba5ea0fa058e44ad6f367aa1dfa0eba783823d570b3c5e689f907719deec4533e037d76775";

/// Hands out f0, f1, ..., ff as the CBC IV.
struct FixedIv;
impl Random for FixedIv {
    fn fill(&mut self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = 0xf0u8.wrapping_add(i as u8);
        }
    }
}

fn gcm_keys(spi: u32) -> SaKeys {
    let mut k: Vec<u8> = (0u8..16).collect();
    k.extend_from_slice(&[0xa0, 0xa1, 0xa2, 0xa3]);
    SaKeys {
        spi,
        encr: EncrAlg {
            id: EncrId::AesGcm16,
            key_bits: Some(128),
        },
        integ: None,
        encr_key: SecretBytes::new(k),
        integ_key: SecretBytes::default(),
    }
}

fn cbc_keys(spi: u32) -> SaKeys {
    SaKeys {
        spi,
        encr: EncrAlg {
            id: EncrId::AesCbc,
            key_bits: Some(128),
        },
        integ: Some(IntegId::HmacSha2_256_128),
        encr_key: SecretBytes::new((0x10u8..0x20).collect()),
        integ_key: SecretBytes::new((0x20u8..0x40).collect()),
    }
}

fn config(keys: fn(u32) -> SaKeys, sender: bool) -> ChildSaConfig {
    let (local_ts, remote_ts) = if sender {
        ("203.0.113.0/24", "198.51.100.0/25")
    } else {
        ("198.51.100.0/25", "203.0.113.0/24")
    };
    ChildSaConfig {
        id: 1,
        mode: Mode::Tunnel,
        protocol: esp::SecurityProtocol::Esp,
        local_ts: vec![local_ts.parse().unwrap()],
        remote_ts: vec![remote_ts.parse().unwrap()],
        local: "192.0.2.1:4500".parse().unwrap(),
        remote: "192.0.2.100:4500".parse().unwrap(),
        encap: true,
        // The sender sends on 0x11223344; the receiver receives on it.
        inbound: keys(if sender { 0x5000 } else { 0x1122_3344 }),
        outbound: keys(if sender { 0x1122_3344 } else { 0x5000 }),
        replay_window: 64,
        esn: false,
        lifetime: Lifetime::default(),
        options: TunnelOptions::default(),
    }
}

fn check(keys: fn(u32) -> SaKeys, expected_hex: &str) {
    let inner = hex::decode(INNER).unwrap();
    let expected = hex::decode(expected_hex).unwrap();

    let tx = DataPlane::with_rng(Box::new(FixedIv));
    tx.install_child(config(keys, true)).unwrap();
    let mut out = Vec::new();
    tx.encapsulate(&inner, &mut out).unwrap();
    assert_eq!(hex::encode(&out), expected_hex);

    let rx = DataPlane::new();
    rx.install_child(config(keys, false)).unwrap();
    let mut plain = Vec::new();
    let inb = rx
        .decapsulate(&expected, "192.0.2.100:4500".parse().unwrap(), &mut plain)
        .unwrap();
    assert_eq!(plain, inner);
    assert_eq!(inb.seq, 1);
}

#[test]
fn aes128gcm16_matches_independent_construction() {
    check(gcm_keys, GCM);
}

#[test]
fn aes128_sha256_matches_independent_construction() {
    check(cbc_keys, CBC);
}
