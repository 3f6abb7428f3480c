//! Wycheproof AEAD (AES-GCM, ChaCha20-Poly1305) and HMAC test sets through our API. Every case
//! our layout can express (12-byte nonce, 16-byte tag, a key size we implement) is run; invalid
//! cases must be rejected by `open` / `verify`.

use crypto::{Cipher, CryptoError, EncrAlg, EncrId, Integ, IntegId, Prf, PrfId};
use wycheproof::{aead, mac, TestResult};

fn run_aead(set: aead::TestName, id: EncrId) -> (usize, usize) {
    let set = aead::TestSet::load(set).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        if group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        let key_bits = match id {
            EncrId::ChaCha20Poly1305 => None,
            _ => Some(u16::try_from(group.key_size).unwrap()),
        };
        let encr = EncrAlg::new(id, key_bits);
        for t in &group.tests {
            let (salt, iv) = t.nonce.split_at(4);
            let mut keymat = t.key.to_vec();
            keymat.extend_from_slice(salt);
            let cipher = Cipher::new(encr, None, &keymat, &[]).unwrap();
            let mut buf = t.ct.to_vec();
            let opened = cipher.open(&t.aad, iv, &mut buf, &t.tag);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    opened.unwrap_or_else(|e| panic!("tc {}: {e}", t.tc_id));
                    assert_eq!(&buf[..], &t.pt[..], "tc {}", t.tc_id);
                    let mut icv = [0u8; 16];
                    cipher.seal(&t.aad, iv, &mut buf, &mut icv).unwrap();
                    assert_eq!(&buf[..], &t.ct[..], "tc {}", t.tc_id);
                    assert_eq!(&icv[..], &t.tag[..], "tc {}", t.tc_id);
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert_eq!(
                        opened,
                        Err(CryptoError::IntegrityCheckFailed),
                        "tc {}",
                        t.tc_id
                    );
                    invalid += 1;
                }
            }
        }
    }
    (valid, invalid)
}

#[test]
fn wycheproof_aes_gcm() {
    let (valid, invalid) = run_aead(aead::TestName::AesGcm, EncrId::AesGcm16);
    assert!(
        valid > 100 && invalid > 50,
        "ran {valid} valid, {invalid} invalid"
    );
}

#[test]
fn wycheproof_chacha20_poly1305() {
    let (valid, invalid) = run_aead(aead::TestName::ChaCha20Poly1305, EncrId::ChaCha20Poly1305);
    assert!(
        valid > 100 && invalid > 50,
        "ran {valid} valid, {invalid} invalid"
    );
}

/// HMAC: every case through `Prf::compute` (any key length, output truncated to the test's tag
/// size), and through `Integ` where the key size is the IPsec one and the tag is as long as
/// our ICV (or longer and valid, then its prefix must verify).
fn run_mac(set: mac::TestName, prf_id: PrfId, integ_id: IntegId) -> (usize, usize) {
    let set = mac::TestSet::load(set).unwrap();
    let prf = Prf::new(prf_id).unwrap();
    let key_len = Integ::key_len(integ_id).unwrap();
    let icv_len = Integ::icv_len_of(integ_id).unwrap();
    let (mut all, mut integ_cases) = (0, 0);
    for group in &set.test_groups {
        let tag_len = group.tag_size / 8;
        for t in &group.tests {
            let out = prf.compute(&t.key, &[&t.msg]);
            let same = out.as_slice().get(..tag_len) == Some(&t.tag[..]);
            let ok = !matches!(t.result, TestResult::Invalid);
            assert_eq!(same, ok, "tc {}", t.tc_id);
            all += 1;
            if t.key.len() == key_len && tag_len == icv_len {
                let integ = Integ::new(integ_id, &t.key).unwrap();
                assert_eq!(
                    integ.verify(&[&t.msg], &t.tag).is_ok(),
                    ok,
                    "tc {}",
                    t.tc_id
                );
                if ok {
                    let mut icv = vec![0u8; icv_len];
                    integ.sign(&[&t.msg], &mut icv).unwrap();
                    assert_eq!(&icv[..], &t.tag[..], "tc {}", t.tc_id);
                }
                integ_cases += 1;
            } else if t.key.len() == key_len && tag_len > icv_len && ok {
                // A longer valid tag: its left-most `icv_len` bytes are our ICV.
                let integ = Integ::new(integ_id, &t.key).unwrap();
                assert!(
                    integ.verify(&[&t.msg], &t.tag[..icv_len]).is_ok(),
                    "tc {}",
                    t.tc_id
                );
                integ_cases += 1;
            }
        }
    }
    (all, integ_cases)
}

#[test]
fn wycheproof_hmac_sha1() {
    let (all, integ) = run_mac(
        mac::TestName::HmacSha1,
        PrfId::HmacSha1,
        IntegId::HmacSha1_96,
    );
    assert!(all > 100 && integ > 0, "ran {all}, {integ} through Integ");
}

#[test]
fn wycheproof_hmac_sha256() {
    let (all, integ) = run_mac(
        mac::TestName::HmacSha256,
        PrfId::HmacSha2_256,
        IntegId::HmacSha2_256_128,
    );
    assert!(all > 100 && integ > 0, "ran {all}, {integ} through Integ");
}

#[test]
fn wycheproof_hmac_sha384() {
    let (all, integ) = run_mac(
        mac::TestName::HmacSha384,
        PrfId::HmacSha2_384,
        IntegId::HmacSha2_384_192,
    );
    assert!(all > 100 && integ > 0, "ran {all}, {integ} through Integ");
}

#[test]
fn wycheproof_hmac_sha512() {
    let (all, integ) = run_mac(
        mac::TestName::HmacSha512,
        PrfId::HmacSha2_512,
        IntegId::HmacSha2_512_256,
    );
    assert!(all > 100 && integ > 0, "ran {all}, {integ} through Integ");
}
