//! ENCR_NULL with integrity (RFC 2410, RFC 8221 §5) through `Cipher`: layout, known answers
//! computed with Python's `hmac` (an implementation independent of aws-lc), tamper detection,
//! and the rules (integrity required, no key, no IV).

use crypto::{Cipher, CryptoError, EncrAlg, EncrId, IntegId};

const NULL: EncrAlg = EncrAlg::new(EncrId::Null, None);
const AAD: [u8; 8] = [0, 0, 0xab, 0xcd, 0, 0, 0, 1];
const PT: &[u8] = b"ENCR_NULL payload\x01\x02\x02\x04";

fn key(len: usize) -> Vec<u8> {
    (0..len as u8).collect()
}

#[test]
fn known_answers() {
    // hmac.new(bytes(range(n)), AAD + PT, sha).hexdigest() truncated (RFC 4868 §2.3, RFC 2404).
    for (integ, key_len, icv_hex) in [
        (
            IntegId::HmacSha2_256_128,
            32,
            "391e026792cd18bca91b5228e69d39f1",
        ),
        (IntegId::HmacSha1_96, 20, "2522e65da2dbed04a016942e"),
    ] {
        let c = Cipher::new(NULL, Some(integ), &[], &key(key_len)).unwrap();
        assert_eq!((c.iv_len(), c.block_len()), (0, 1));
        assert_eq!(c.icv_len(), icv_hex.len() / 2);
        let mut buf = PT.to_vec();
        let mut icv = vec![0u8; c.icv_len()];
        c.seal(&AAD, &[], &mut buf, &mut icv).unwrap();
        assert_eq!(buf, PT, "NULL encryption is the identity");
        assert_eq!(hex::encode(&icv), icv_hex, "{integ}");
        c.open(&AAD, &[], &mut buf, &icv).unwrap();
        assert_eq!(buf, PT);
    }
}

#[test]
fn tampering_is_detected() {
    let c = Cipher::new(NULL, Some(IntegId::HmacSha2_256_128), &[], &key(32)).unwrap();
    let mut icv = [0u8; 16];
    let mut buf = PT.to_vec();
    c.seal(&AAD, &[], &mut buf, &mut icv).unwrap();
    let mut bad = buf.clone();
    bad[3] ^= 0x80;
    assert_eq!(
        c.open(&AAD, &[], &mut bad, &icv),
        Err(CryptoError::IntegrityCheckFailed)
    );
    let mut aad = AAD;
    aad[7] = 2;
    assert_eq!(
        c.open(&aad, &[], &mut buf.clone(), &icv),
        Err(CryptoError::IntegrityCheckFailed)
    );
    let mut bad_icv = icv;
    bad_icv[15] ^= 1;
    assert_eq!(
        c.open(&AAD, &[], &mut buf.clone(), &bad_icv),
        Err(CryptoError::IntegrityCheckFailed)
    );
    // Wrong ICV length, an IV where there is none.
    assert!(c.open(&AAD, &[], &mut buf.clone(), &icv[..12]).is_err());
    assert!(c.seal(&AAD, &[0; 8], &mut buf.clone(), &mut icv).is_err());
    assert!(c.open(&AAD, &[0; 8], &mut buf, &icv).is_err());
}

#[test]
fn rules() {
    assert!(Cipher::is_supported(NULL));
    assert!(!Cipher::is_aead(NULL));
    assert!(!Cipher::is_supported(EncrAlg::new(EncrId::Null, Some(128))));
    assert_eq!(Cipher::encr_keymat_len(NULL), Ok(0));
    // RFC 4303 §3.2: never NULL encryption without integrity.
    for integ in [None, Some(IntegId::None)] {
        assert!(matches!(
            Cipher::new(NULL, integ, &[], &[]),
            Err(CryptoError::Unsupported(_))
        ));
    }
    assert!(Cipher::new(NULL, Some(IntegId::HmacSha2_256_128), &[1], &key(32)).is_err());
    assert!(Cipher::new(NULL, Some(IntegId::HmacSha2_256_128), &[], &key(31)).is_err());
    // Empty payloads are fine (ESP pads to 4 itself).
    let c = Cipher::new(NULL, Some(IntegId::HmacSha2_512_256), &[], &key(64)).unwrap();
    let mut icv = [0u8; 32];
    c.seal(&AAD, &[], &mut [], &mut icv).unwrap();
    c.open(&AAD, &[], &mut [], &icv).unwrap();
}
