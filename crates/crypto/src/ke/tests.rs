//! Known-answer tests: RFC 7748 §5.2 and §6.1 (X25519), RFC 5903 §8.1-8.3 (ECP), Wycheproof
//! x25519 and ECDH (uncompressed point) sets; plus peer-value validation and determinism.

use super::*;
use crate::DeterministicRandom;
use wycheproof::TestResult;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

fn x25519(scalar: &[u8], u: &[u8]) -> Result<SecretBytes, CryptoError> {
    KeyExchange::from_private_bytes(KeId::Curve25519, scalar)?.complete(u)
}

#[test]
fn rfc7748_5_2_scalar_multiplication() {
    let cases = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            // The u-coordinate has its top bit set, which X25519 must ignore.
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (k, u, out) in cases {
        let got = x25519(&unhex(k), &unhex(u)).unwrap();
        assert_eq!(hex::encode(got.as_slice()), out);
    }
}

#[test]
fn rfc7748_5_2_iterated() {
    let mut k = [0u8; 32];
    k[0] = 9;
    let mut u = k;
    for i in 1..=1000 {
        let r = x25519(&k, &u).unwrap();
        u = k;
        k.copy_from_slice(r.as_slice());
        if i == 1 {
            assert_eq!(
                hex::encode(k),
                "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"
            );
        }
    }
    assert_eq!(
        hex::encode(k),
        "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"
    );
}

#[test]
fn rfc7748_6_1_diffie_hellman() {
    let alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    let alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    let bob = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    let bob_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    let a = KeyExchange::from_private_bytes(KeId::Curve25519, &unhex(alice)).unwrap();
    let b = KeyExchange::from_private_bytes(KeId::Curve25519, &unhex(bob)).unwrap();
    assert_eq!(hex::encode(a.public_value()), alice_pub);
    assert_eq!(hex::encode(b.public_value()), bob_pub);
    assert_eq!(
        hex::encode(a.complete(&unhex(bob_pub)).unwrap().as_slice()),
        shared
    );
    assert_eq!(
        hex::encode(b.complete(&unhex(alice_pub)).unwrap().as_slice()),
        shared
    );
}

/// RFC 5903 §8: (group, i, g^i x|y, r, g^r x|y, g^ir x).
const RFC5903: [(KeId, &str, &str, &str, &str, &str); 3] = [
    (
        KeId::Ecp256,
        "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
        "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180\
         5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
        "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
        "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63\
         56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
        "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de",
    ),
    (
        KeId::Ecp384,
        "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655\
         e35b538041e649ee3faef896783ab194",
        "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6\
         de3ac808acb4bdb4c88732aee95f41aa\
         9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e\
         eb9fcff3c2c947dae69b4c634573a81c",
        "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942\
         e0308312916b8ed2960e4bd55a7448fc",
        "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d\
         0d1ac43a0336def96fda41d0774a3571\
         dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff\
         f83fa40142209dff5eaad96db9e6386c",
        "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4\
         d603135569b9e9d09cf5d4a270f59746",
    ),
    (
        KeId::Ecp521,
        "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a0\
         95aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d\
         4a52",
        "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbe\
         e1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176c\
         ed3e\
         017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10a\
         d8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f\
         9582",
        "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e\
         9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb15168\
         5eb9",
        "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a21\
         9b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9\
         460f\
         015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87\
         220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0f\
         c56a",
        "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04\
         d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3\
         ddea",
    ),
];

#[test]
fn rfc5903_ecp_vectors() {
    for (id, i, gi, r, gr, gir) in RFC5903 {
        let ki = KeyExchange::from_private_bytes(id, &unhex(i)).unwrap();
        let kr = KeyExchange::from_private_bytes(id, &unhex(r)).unwrap();
        assert_eq!(hex::encode(ki.public_value()), gi, "{id} g^i");
        assert_eq!(hex::encode(kr.public_value()), gr, "{id} g^r");
        assert_eq!(
            ki.public_value().len(),
            KeyExchange::public_len(id).unwrap()
        );
        assert_eq!(
            hex::encode(ki.complete(&unhex(gr)).unwrap().as_slice()),
            gir,
            "{id}"
        );
        assert_eq!(
            hex::encode(kr.complete(&unhex(gi)).unwrap().as_slice()),
            gir,
            "{id}"
        );
    }
}

#[test]
fn ecp_rejects_bad_peer_values() {
    for (id, i, gi, ..) in RFC5903 {
        let fresh = || KeyExchange::from_private_bytes(id, &unhex(i)).unwrap();
        let mut point = unhex(gi);
        // Wrong lengths: short, long, with the SEC 1 prefix the wire does not carry.
        assert_eq!(
            fresh().complete(&point[1..]).err(),
            Some(CryptoError::InvalidPublicValue)
        );
        let mut long = point.clone();
        long.push(0);
        assert_eq!(
            fresh().complete(&long).err(),
            Some(CryptoError::InvalidPublicValue)
        );
        let mut prefixed = vec![4];
        prefixed.extend_from_slice(&point);
        assert_eq!(
            fresh().complete(&prefixed).err(),
            Some(CryptoError::InvalidPublicValue)
        );
        // Not on the curve: y changed by one bit.
        *point.last_mut().unwrap() ^= 1;
        assert_eq!(
            fresh().complete(&point).err(),
            Some(CryptoError::InvalidPublicValue)
        );
        // All zeros (the point at infinity has no x | y encoding; (0, 0) is not on the curve).
        let zeros = vec![0u8; point.len()];
        assert_eq!(
            fresh().complete(&zeros).err(),
            Some(CryptoError::InvalidPublicValue)
        );
    }
}

#[test]
fn ecp_rejects_out_of_range_private_scalars() {
    assert_eq!(
        KeyExchange::from_private_bytes(KeId::Ecp256, &[0; 32]).err(),
        Some(CryptoError::InvalidPublicValue)
    );
    assert_eq!(
        KeyExchange::from_private_bytes(KeId::Ecp256, &[0xff; 32]).err(),
        Some(CryptoError::InvalidPublicValue)
    );
}

#[test]
fn x25519_rejects_low_order_and_bad_length() {
    let k = unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    // u = 0 and u = 1 are of low order: the output is all zero and must be refused.
    let mut one = [0u8; 32];
    one[0] = 1;
    for u in [[0u8; 32], one] {
        assert_eq!(x25519(&k, &u).err(), Some(CryptoError::InvalidPublicValue));
    }
    assert_eq!(
        x25519(&k, &[9; 31]).err(),
        Some(CryptoError::InvalidPublicValue)
    );
    assert_eq!(
        x25519(&k, &[9; 33]).err(),
        Some(CryptoError::InvalidPublicValue)
    );
}

#[test]
fn generate_is_deterministic_and_agrees() {
    for id in [KeId::Curve25519, KeId::Ecp256, KeId::Ecp384, KeId::Ecp521] {
        let a1 = KeyExchange::generate(id, &mut DeterministicRandom::new(1)).unwrap();
        let a2 = KeyExchange::generate(id, &mut DeterministicRandom::new(1)).unwrap();
        let b = KeyExchange::generate(id, &mut DeterministicRandom::new(2)).unwrap();
        assert_eq!(a1.public_value(), a2.public_value());
        assert_ne!(a1.public_value(), b.public_value());
        assert_eq!(
            a1.public_value().len(),
            KeyExchange::public_len(id).unwrap()
        );
        assert_eq!(a1.id(), id);
        let b_pub = b.public_value().to_vec();
        let s1 = a1.complete(&b_pub).unwrap();
        let s2 = b.complete(a2.public_value()).unwrap();
        assert_eq!(s1, s2);
        let field = if id == KeId::Curve25519 {
            32
        } else {
            b_pub.len() / 2
        };
        assert_eq!(s1.len(), field);
    }
}

/// An RNG that first yields out-of-range scalars: `generate` must draw again.
struct FirstDrawsBad(usize, DeterministicRandom);

impl Random for FirstDrawsBad {
    fn fill(&mut self, buf: &mut [u8]) {
        if self.0 > 0 {
            self.0 -= 1;
            buf.fill(0xff);
        } else {
            self.1.fill(buf);
        }
    }
}

#[test]
fn generate_redraws_out_of_range_scalars() {
    for id in [KeId::Ecp256, KeId::Ecp384, KeId::Ecp521] {
        let want = KeyExchange::generate(id, &mut DeterministicRandom::new(7)).unwrap();
        let mut rng = FirstDrawsBad(3, DeterministicRandom::new(7));
        let got = KeyExchange::generate(id, &mut rng).unwrap();
        assert_eq!(got.public_value(), want.public_value(), "{id}");
    }
    let mut stuck = FirstDrawsBad(usize::MAX, DeterministicRandom::new(0));
    assert!(KeyExchange::generate(KeId::Ecp256, &mut stuck).is_err());
}

#[test]
fn unsupported_and_lengths() {
    for id in [KeId::Curve448, KeId::None] {
        assert!(!KeyExchange::is_supported(id));
        assert!(matches!(
            KeyExchange::generate(id, &mut DeterministicRandom::new(0)),
            Err(CryptoError::Unsupported(_))
        ));
    }
    assert_eq!(KeyExchange::public_len(KeId::Modp2048).unwrap(), 256);
    assert_eq!(KeyExchange::public_len(KeId::Modp1024).unwrap(), 128);
    assert_eq!(KeyExchange::public_len(KeId::Ecp521).unwrap(), 132);
    let ke = KeyExchange::generate(KeId::Curve25519, &mut DeterministicRandom::new(0)).unwrap();
    assert!(!format!("{ke:?}").contains(&hex::encode(ke.public_value())[..8]));
}

#[test]
fn wycheproof_x25519() {
    let set = wycheproof::xdh::TestSet::load(wycheproof::xdh::TestName::X25519).unwrap();
    let mut n = 0;
    for group in &set.test_groups {
        for t in &group.tests {
            let got = x25519(&t.private_key, &t.public_key);
            let zero = t.shared_secret.iter().all(|b| *b == 0);
            match (&t.result, got) {
                // An all-zero shared secret is refused by policy (RFC 8031 §2.3).
                (_, Err(CryptoError::InvalidPublicValue)) if zero || t.public_key.len() != 32 => {}
                (TestResult::Invalid, Err(_)) => {}
                (TestResult::Valid | TestResult::Acceptable, Ok(s)) => {
                    assert_eq!(s.as_slice(), &t.shared_secret[..], "tc {}", t.tc_id);
                }
                (r, g) => panic!("tc {}: expected {r:?}, got {g:?}", t.tc_id),
            }
            n += 1;
        }
    }
    assert!(n > 400, "ran {n}");
}

/// A Wycheproof private key is a big-endian integer, possibly with a leading 00 (ASN.1) or
/// shorter than the field: fit it to `len` bytes.
fn fit_scalar(raw: &[u8], len: usize) -> Option<Vec<u8>> {
    let first = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    let digits = &raw[first..];
    (digits.len() <= len).then(|| {
        let mut v = vec![0u8; len - digits.len()];
        v.extend_from_slice(digits);
        v
    })
}

fn run_wycheproof_ecdh(name: wycheproof::ecdh::TestName, id: KeId) {
    let set = wycheproof::ecdh::TestSet::load(name).unwrap();
    let (_, scalar_len, public_len) = params(id).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            let private = fit_scalar(&t.private_key, scalar_len).expect("scalar fits");
            let ours = KeyExchange::from_private_bytes(id, &private)
                .unwrap_or_else(|e| panic!("tc {} {}: {e}", t.tc_id, hex::encode(&private)));
            // Only the uncompressed form maps onto the wire's x | y.
            let uncompressed = t.public_key.len() == public_len + 1 && t.public_key[0] == 4;
            match t.result {
                TestResult::Valid | TestResult::Acceptable if uncompressed => {
                    let s = ours
                        .complete(&t.public_key[1..])
                        .unwrap_or_else(|e| panic!("tc {} {}: {e}", t.tc_id, t.comment));
                    assert_eq!(s.as_slice(), &t.shared_secret[..], "tc {}", t.tc_id);
                    valid += 1;
                }
                TestResult::Invalid => {
                    let peer = if uncompressed {
                        &t.public_key[1..]
                    } else {
                        &t.public_key[..]
                    };
                    assert!(ours.complete(peer).is_err(), "tc {}", t.tc_id);
                    invalid += 1;
                }
                _ => {}
            }
        }
    }
    assert!(
        valid > 10 && invalid > 10,
        "{id}: {valid} valid, {invalid} invalid"
    );
}

#[test]
fn wycheproof_ecdh_p256() {
    run_wycheproof_ecdh(
        wycheproof::ecdh::TestName::EcdhSecp256r1Ecpoint,
        KeId::Ecp256,
    );
}

#[test]
fn wycheproof_ecdh_p384() {
    run_wycheproof_ecdh(
        wycheproof::ecdh::TestName::EcdhSecp384r1Ecpoint,
        KeId::Ecp384,
    );
}

#[test]
fn wycheproof_ecdh_p521() {
    run_wycheproof_ecdh(
        wycheproof::ecdh::TestName::EcdhSecp521r1Ecpoint,
        KeId::Ecp521,
    );
}
