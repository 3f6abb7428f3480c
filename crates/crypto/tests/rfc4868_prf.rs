//! RFC 4868 §2.7.1 PRF test vectors (PRF-HMAC-SHA-256/384/512) through `Prf::compute`, and
//! prf+ edge cases (RFC 7296 §2.13).

use crypto::{CryptoError, Prf, PrfId};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).expect("test hex")
}

/// (key, data) of the six RFC 4868 §2.7.1 PRF test cases.
fn prf_cases() -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (vec![0x0b; 20], b"Hi There".to_vec()),
        (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec()),
        (vec![0xaa; 20], vec![0xdd; 50]),
        (unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), vec![0xcd; 50]),
        (
            vec![0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
        ),
        (
            vec![0xaa; 131],
            b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
        ),
    ]
}

fn check(id: PrfId, expected: [&str; 6]) {
    let prf = Prf::new(id).unwrap();
    for (i, ((key, data), want)) in prf_cases().into_iter().zip(expected).enumerate() {
        let got = prf.compute(&key, &[&data]);
        assert_eq!(hex::encode(got.as_slice()), want, "{id} case {}", i + 1);
        // The same input split into several parts gives the same output.
        let (a, b) = data.split_at(data.len() / 2);
        assert_eq!(prf.compute(&key, &[a, b]).as_slice(), got.as_slice());
    }
}

#[test]
fn prf_hmac_sha2_256() {
    check(
        PrfId::HmacSha2_256,
        [
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ],
    );
}

#[test]
fn prf_hmac_sha2_384() {
    check(
        PrfId::HmacSha2_384,
        [
            "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
            "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
            "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
            "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
            "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
        ],
    );
}

#[test]
fn prf_hmac_sha2_512() {
    check(
        PrfId::HmacSha2_512,
        [
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
            "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
        ],
    );
}

#[test]
fn output_lengths() {
    assert_eq!(Prf::new(PrfId::HmacSha1).unwrap().output_len(), 20);
    assert_eq!(Prf::new(PrfId::HmacSha2_256).unwrap().output_len(), 32);
    assert_eq!(Prf::new(PrfId::HmacSha2_384).unwrap().output_len(), 48);
    assert_eq!(Prf::new(PrfId::HmacSha2_512).unwrap().output_len(), 64);
    assert!(matches!(
        Prf::new(PrfId::HmacMd5),
        Err(CryptoError::Unsupported(_))
    ));
    assert!(matches!(
        Prf::new(PrfId::Aes128Xcbc),
        Err(CryptoError::Unsupported(_))
    ));
}

#[test]
fn prf_plus_len_zero_is_empty() {
    let prf = Prf::new(PrfId::HmacSha2_256).unwrap();
    assert!(prf.prf_plus(b"key", &[b"seed"], 0).unwrap().is_empty());
}

#[test]
fn prf_plus_length_limit() {
    for id in [PrfId::HmacSha1, PrfId::HmacSha2_256, PrfId::HmacSha2_512] {
        let prf = Prf::new(id).unwrap();
        let max = 255 * prf.output_len();
        assert_eq!(prf.prf_plus(b"k", &[b"s"], max).unwrap().len(), max);
        assert!(matches!(
            prf.prf_plus(b"k", &[b"s"], max + 1),
            Err(CryptoError::BadLength(_))
        ));
    }
}

/// prf+ from its definition (RFC 7296 §2.13), composed from `compute`: T1 = prf(K, S | 0x01),
/// Tn = prf(K, Tn-1 | S | n). Checks chaining, counter and truncation on a non-block length.
#[test]
fn prf_plus_matches_definition() {
    let prf = Prf::new(PrfId::HmacSha2_256).unwrap();
    let (key, s1, s2) = (
        b"a key".as_slice(),
        b"seed one|".as_slice(),
        b"two".as_slice(),
    );
    let t1 = prf.compute(key, &[s1, s2, &[1]]);
    let t2 = prf.compute(key, &[t1.as_slice(), s1, s2, &[2]]);
    let t3 = prf.compute(key, &[t2.as_slice(), s1, s2, &[3]]);
    let mut want = Vec::new();
    for t in [&t1, &t2, &t3] {
        want.extend_from_slice(t.as_slice());
    }
    let got = prf.prf_plus(key, &[s1, s2], 70).unwrap();
    assert_eq!(got.as_slice(), &want[..70]);
    // A prefix of a longer output is the shorter output.
    assert_eq!(
        prf.prf_plus(key, &[s1, s2], 10).unwrap().as_slice(),
        &want[..10]
    );
}

/// The 255th block uses counter 0xff; check the last block of a maximal output.
#[test]
fn prf_plus_last_block() {
    let prf = Prf::new(PrfId::HmacSha1).unwrap();
    let out = prf.prf_plus(b"K", &[b"S"], 255 * 20).unwrap();
    let t254 = &out.as_slice()[253 * 20..254 * 20];
    let t255 = prf.compute(b"K", &[t254, b"S", &[255]]);
    assert_eq!(&out.as_slice()[254 * 20..], t255.as_slice());
}
