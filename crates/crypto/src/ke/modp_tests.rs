//! MODP key exchange: known answers computed by Python's `pow` (`tests/modp/modp_vectors.py`),
//! zero padding, RFC 6989 §2.1 checks of the peer's value, generation.

use super::*;
use crate::DeterministicRandom;

mod vectors;

const MODP: [KeId; 5] = [
    KeId::Modp1024,
    KeId::Modp1536,
    KeId::Modp2048,
    KeId::Modp3072,
    KeId::Modp4096,
];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

fn check_exchange(id: KeId, xi: &str, xr: &str, gi: &str, gr: &str, gir: &str) {
    let ki = KeyExchange::from_private_bytes(id, &unhex(xi)).unwrap();
    let kr = KeyExchange::from_private_bytes(id, &unhex(xr)).unwrap();
    assert_eq!(hex::encode(ki.public_value()), gi, "{id} g^i");
    assert_eq!(hex::encode(kr.public_value()), gr, "{id} g^r");
    let s_i = ki.complete(&unhex(gr)).unwrap();
    let s_r = kr.complete(&unhex(gi)).unwrap();
    assert_eq!(hex::encode(s_i.as_slice()), gir, "{id} g^ir");
    assert_eq!(s_i, s_r);
    assert_eq!(s_i.len(), KeyExchange::public_len(id).unwrap());
}

#[test]
fn known_answers_every_group() {
    assert_eq!(vectors::VECTORS.len(), MODP.len());
    for (id, xi, xr, gi, gr, gir) in vectors::VECTORS {
        check_exchange(*id, xi, xr, gi, gr, gir);
    }
}

#[test]
fn shared_secret_is_zero_padded() {
    let (xi, xr, gi, gr, gir) = vectors::PADDED;
    assert!(gir.starts_with("00"), "the vector must exercise padding");
    check_exchange(KeId::Modp2048, xi, xr, gi, gr, gir);
}

#[test]
fn prime_tails_match_the_rfcs() {
    // The last printed line of each prime in RFC 2409 §6.2 and RFC 3526 §2-§5, as a check on the
    // generated constants independent of the script that checks them against the formula.
    let tails = [
        (KeId::Modp1024, "49286651ece65381ffffffffffffffff"),
        (KeId::Modp2048, "15728e5a8aacaa68ffffffffffffffff"),
    ];
    for (id, tail) in tails {
        let p = modp::group(id).unwrap().prime();
        assert!(hex::encode(p).ends_with(tail), "{id}");
        assert!(hex::encode(p).starts_with("ffffffffffffffffc90fdaa22168c234"));
    }
}

/// Big-endian p + delta (delta small, may be negative), at the modulus length (wrapping).
fn p_plus(p: &[u8], delta: i32) -> Vec<u8> {
    let mut v = p.to_vec();
    let mut carry = delta;
    for b in v.iter_mut().rev() {
        let x = i32::from(*b) + carry;
        *b = x.rem_euclid(256) as u8;
        carry = x.div_euclid(256);
        if carry == 0 {
            break;
        }
    }
    v
}

#[test]
fn rfc6989_peer_value_checks() {
    for id in MODP {
        let group = modp::group(id).unwrap();
        let p = group.prime();
        let len = p.len();
        let fresh = || KeyExchange::generate(id, &mut DeterministicRandom::new(5)).unwrap();
        let mut one = vec![0u8; len];
        one[len - 1] = 1;
        let mut two = vec![0u8; len];
        two[len - 1] = 2;
        let bad = [
            vec![0u8; len],   // 0
            one,              // 1
            p_plus(p, -1),    // p - 1 (order 2)
            p.to_vec(),       // p
            p_plus(p, 1),     // p + 1
            vec![0xff; len],  // 2^n - 1 > p
            vec![2; len - 1], // short
            vec![2; len + 1], // long
            Vec::new(),
        ];
        for (i, v) in bad.iter().enumerate() {
            assert_eq!(
                fresh().complete(v).err(),
                Some(CryptoError::InvalidPublicValue),
                "{id} case {i}"
            );
        }
        // The extremes of the accepted range.
        assert!(fresh().complete(&two).is_ok(), "{id} 2");
        assert!(fresh().complete(&p_plus(p, -2)).is_ok(), "{id} p - 2");
    }
}

#[test]
fn generate_agrees_and_is_deterministic() {
    for id in MODP {
        assert!(KeyExchange::is_supported(id));
        let a1 = KeyExchange::generate(id, &mut DeterministicRandom::new(1)).unwrap();
        let a2 = KeyExchange::generate(id, &mut DeterministicRandom::new(1)).unwrap();
        let b = KeyExchange::generate(id, &mut DeterministicRandom::new(2)).unwrap();
        assert_eq!(a1.public_value(), a2.public_value());
        assert_ne!(a1.public_value(), b.public_value());
        assert_eq!(
            a1.public_value().len(),
            KeyExchange::public_len(id).unwrap()
        );
        let b_pub = b.public_value().to_vec();
        let s1 = a1.complete(&b_pub).unwrap();
        let s2 = b.complete(a2.public_value()).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(s1.len(), b_pub.len());
    }
}

#[test]
fn trivial_and_misfit_exponents_refused() {
    let len = modp::group(KeId::Modp2048).unwrap().exp_len();
    let mut one = vec![0u8; len];
    one[len - 1] = 1;
    for x in [vec![0u8; len], one] {
        assert_eq!(
            KeyExchange::from_private_bytes(KeId::Modp2048, &x).err(),
            Some(CryptoError::InvalidPublicValue)
        );
    }
    assert_eq!(
        KeyExchange::from_private_bytes(KeId::Modp2048, &[7; 41]).err(),
        Some(CryptoError::BadLength("private key"))
    );
    // `generate` draws again after a zero exponent.
    struct ZeroFirst(bool, DeterministicRandom);
    impl Random for ZeroFirst {
        fn fill(&mut self, buf: &mut [u8]) {
            if std::mem::take(&mut self.0) {
                buf.fill(0);
            } else {
                self.1.fill(buf);
            }
        }
    }
    let want = KeyExchange::generate(KeId::Modp2048, &mut DeterministicRandom::new(3)).unwrap();
    let got = KeyExchange::generate(
        KeId::Modp2048,
        &mut ZeroFirst(true, DeterministicRandom::new(3)),
    )
    .unwrap();
    assert_eq!(got.public_value(), want.public_value());
}

#[test]
fn debug_hides_the_exponent() {
    let ke = KeyExchange::generate(KeId::Modp2048, &mut DeterministicRandom::new(9)).unwrap();
    let shown = format!("{ke:?}");
    assert!(shown.contains("Modp2048"), "{shown}");
    assert!(shown.len() < 64, "{shown}");
}
