//! `Debug` of anything holding keys must not print them.

use crypto::cipher::AesCbc;
use crypto::kdf::ike_keys;
use crypto::{
    Cipher, DeterministicRandom, EncrAlg, EncrId, Integ, IntegId, KeId, KeyExchange, Prf, PrfId,
    SecretBytes,
};

/// A key whose hex and byte-list renderings are easy to spot.
const KEY: [u8; 32] = [0xab; 32];

fn assert_redacted(what: &str, debug: String) {
    for needle in ["abab", "171, 171", "AB AB", "ABAB"] {
        assert!(!debug.contains(needle), "{what} leaks its key: {debug}");
    }
}

#[test]
fn key_holders_redact() {
    assert_redacted(
        "SecretBytes",
        format!("{:?}", SecretBytes::from_slice(&KEY)),
    );
    let gcm = EncrAlg::new(EncrId::AesGcm16, Some(256));
    let keymat = [KEY.as_slice(), &[0xab; 4]].concat();
    assert_redacted(
        "Cipher",
        format!("{:?}", Cipher::new(gcm, None, &keymat, &[]).unwrap()),
    );
    let cbc = EncrAlg::new(EncrId::AesCbc, Some(256));
    let c = Cipher::new(cbc, Some(IntegId::HmacSha2_256_128), &KEY, &KEY).unwrap();
    assert_redacted("Cipher", format!("{c:?}"));
    assert_redacted("AesCbc", format!("{:?}", AesCbc::new(cbc, &KEY).unwrap()));
    assert_redacted(
        "Integ",
        format!("{:?}", Integ::new(IntegId::HmacSha2_256_128, &KEY).unwrap()),
    );
    let prf = Prf::new(PrfId::HmacSha2_256).unwrap();
    let keys = ike_keys(prf, &KEY, &KEY, &KEY, 1, 2, 36, 32).unwrap();
    let debug = format!("{keys:?}");
    assert_redacted("IkeKeys", debug.clone());
    assert!(
        !debug.contains(&hex::encode(keys.sk_d.as_slice())[..8]),
        "{debug}"
    );
    let ke = KeyExchange::generate(KeId::Ecp256, &mut DeterministicRandom::new(5)).unwrap();
    assert!(format!("{ke:?}").starts_with("KeyExchange { id: Ecp256"));
}
