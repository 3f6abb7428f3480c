//! Certificates arrive in CERT payloads from unauthenticated peers: no input may panic, and no
//! altered byte may pass verification.

mod common;

use common::*;
use pki::{Certificate, Dn, KeyKind, TrustStore, Usage};

#[test]
fn every_single_byte_change_and_truncation_fails_cleanly() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let int = intermediate(&root, KeyKind::EcdsaP256, "Intermediate");
    let (leaf, _) = leaf(&int, KeyKind::EcdsaP256, &leaf_spec("a.example.org", &[]));
    let store = store(&[&root]);
    store
        .verify(&leaf, &[int.cert_der()], now(), Usage::Any)
        .unwrap();
    for i in 0..leaf.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut m = leaf.clone();
            m[i] ^= x;
            let _ = Certificate::from_der(&m);
            assert!(
                store
                    .verify(&m, &[int.cert_der()], now(), Usage::Any)
                    .is_err(),
                "byte {i} ^ {x:#x} accepted"
            );
            // The altered certificate as an intermediate does not break a good chain... or
            // make a bad one pass.
            let mut mi = int.cert_der().to_vec();
            if let Some(b) = mi.get_mut(i) {
                *b ^= x;
                assert!(store.verify(&leaf, &[&mi], now(), Usage::Any).is_err());
            }
        }
    }
    for n in 0..leaf.len() {
        assert!(store.verify(&leaf[..n], &[], now(), Usage::Any).is_err());
        let _ = Dn::from_der(&leaf[..n]);
    }
}

#[test]
fn arbitrary_bytes_as_names_and_crls() {
    // A simple deterministic byte generator (xorshift): inputs for the decoders.
    let mut s: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut store = TrustStore::new();
    for round in 0..2000 {
        let len = (next() % 64) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 && !b.is_empty() {
            b[0] = 0x30; // look like a SEQUENCE more often
        }
        if let Ok(dn) = Dn::from_der(&b) {
            // Whatever decodes prints, and prints to something that parses or is refused
            // cleanly.
            let _ = Dn::parse(&dn.to_string());
        }
        let _ = store.add_crl(&b);
        let _ = store.add_ca(&b);
        let _ = pki::identity_from_str(&String::from_utf8_lossy(&b));
        let _ = pki::certs_from_bytes(&b);
    }
    assert_eq!(store.crl_count(), 0);
    assert_eq!(store.cas().count(), 0);
}
