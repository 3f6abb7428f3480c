//! RFC 7427 AlgorithmIdentifiers, SIGNATURE_HASH_ALGORITHMS values, scheme choice.

use super::algid::PssParams;
use super::*;
use crate::CryptoError;
use der::asn1::{AnyRef, ObjectIdentifier};
use der::Encode;
use spki::AlgorithmIdentifierRef;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

#[test]
fn algorithm_identifiers_are_rfc7427_appendix_a_bytes() {
    use SignatureScheme::*;
    // RFC 7427 Appendix A.1.2, A.3.1, A.4.3; RFC 8420 §2.
    let printed = [
        (RsaPkcs1Sha256, "300d06092a864886f70d01010b0500"),
        (EcdsaSha256, "300a06082a8648ce3d040302"),
        (
            RsaPssSha256,
            "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120a303020101",
        ),
        (Ed25519, "300506032b6570"),
    ];
    for (scheme, hex) in printed {
        assert_eq!(
            hex::encode(scheme.algorithm_identifier().unwrap()),
            hex,
            "{scheme:?}"
        );
    }
}

/// The hand-written constants, re-encoded with the `der` crate from OIDs alone.
#[test]
fn algorithm_identifiers_match_der_encoder() {
    use SignatureScheme::*;
    let oid = ObjectIdentifier::new_unwrap;
    let with_null = |o: &str| {
        AlgorithmIdentifierRef {
            oid: oid(o),
            parameters: Some(AnyRef::NULL),
        }
        .to_der()
        .unwrap()
    };
    let bare = |o: &str| {
        AlgorithmIdentifierRef {
            oid: oid(o),
            parameters: None,
        }
        .to_der()
        .unwrap()
    };
    let pss = |hash: &str, salt: u32| {
        let hash_ai = with_null(hash);
        let hash_ref = AlgorithmIdentifierRef::from_der_ref(&hash_ai);
        let mgf = AlgorithmIdentifierRef {
            oid: oid("1.2.840.113549.1.1.8"),
            parameters: Some(AnyRef::try_from(hash_ai.as_slice()).unwrap()),
        };
        let params = PssParams {
            hash: Some(hash_ref),
            mask_gen: Some(mgf),
            salt_len: Some(salt),
            trailer: Some(1),
        }
        .to_der()
        .unwrap();
        AlgorithmIdentifierRef {
            oid: oid("1.2.840.113549.1.1.10"),
            parameters: Some(AnyRef::try_from(params.as_slice()).unwrap()),
        }
        .to_der()
        .unwrap()
    };
    let expected = [
        (RsaPkcs1Sha1, with_null("1.2.840.113549.1.1.5")),
        (RsaPkcs1Sha256, with_null("1.2.840.113549.1.1.11")),
        (RsaPkcs1Sha384, with_null("1.2.840.113549.1.1.12")),
        (RsaPkcs1Sha512, with_null("1.2.840.113549.1.1.13")),
        (RsaPssSha256, pss("2.16.840.1.101.3.4.2.1", 32)),
        (RsaPssSha384, pss("2.16.840.1.101.3.4.2.2", 48)),
        (RsaPssSha512, pss("2.16.840.1.101.3.4.2.3", 64)),
        (EcdsaSha256, bare("1.2.840.10045.4.3.2")),
        (EcdsaSha384, bare("1.2.840.10045.4.3.3")),
        (EcdsaSha512, bare("1.2.840.10045.4.3.4")),
        (Ed25519, bare("1.3.101.112")),
    ];
    for (scheme, der) in &expected {
        assert_eq!(
            scheme.algorithm_identifier().unwrap(),
            der.as_slice(),
            "{scheme:?}"
        );
    }
    assert_eq!(expected.len() + 3, SignatureScheme::ALL.len());
}

/// `AlgorithmIdentifierRef::from_der` borrowing a slice that outlives the call.
trait FromDerRef<'a> {
    fn from_der_ref(der: &'a [u8]) -> Self;
}
impl<'a> FromDerRef<'a> for AlgorithmIdentifierRef<'a> {
    fn from_der_ref(der: &'a [u8]) -> Self {
        use der::Decode;
        AlgorithmIdentifierRef::from_der(der).unwrap()
    }
}

#[test]
fn every_identifier_parses_back() {
    for scheme in SignatureScheme::ALL.iter().copied() {
        match scheme.algorithm_identifier() {
            Some(ai) => assert_eq!(
                SignatureScheme::from_algorithm_identifier(ai),
                Ok(scheme),
                "{scheme:?}"
            ),
            None => assert!(scheme.classic_auth_method().is_some(), "{scheme:?}"),
        }
    }
}

#[test]
fn identifier_variants_other_implementations_send() {
    use SignatureScheme::*;
    let parse = |h: &str| SignatureScheme::from_algorithm_identifier(&unhex(h));
    // sha256WithRSAEncryption without the NULL (RFC 4055 §5: accept both).
    assert_eq!(parse("300b06092a864886f70d01010b"), Ok(RsaPkcs1Sha256));
    // ecdsa-with-SHA384 with a NULL.
    assert_eq!(parse("300c06082a8648ce3d0403030500"), Ok(EcdsaSha384));
    // PSS SHA-256 without the trailerField and with absent hash parameters (OpenSSL's form).
    assert_eq!(
        parse("303d06092a864886f70d01010a3030a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040201a203020120"),
        Ok(RsaPssSha256)
    );
}

#[test]
fn bad_identifiers_are_refused() {
    let parse = |h: &str| SignatureScheme::from_algorithm_identifier(&unhex(h));
    let malformed = |r: Result<SignatureScheme, CryptoError>| {
        assert!(matches!(r, Err(CryptoError::Malformed(_))), "{r:?}")
    };
    let unsupported = |r: Result<SignatureScheme, CryptoError>| {
        assert!(matches!(r, Err(CryptoError::Unsupported(_))), "{r:?}")
    };
    malformed(parse(""));
    malformed(parse("300d06092a864886f70d01010b05")); // truncated
    malformed(parse("300d06092a864886f70d01010b050000")); // trailing byte
    malformed(parse("300e06092a864886f70d01010b020100")); // INTEGER parameters
    malformed(parse("300706032b65700500")); // Ed25519 with NULL
    malformed(parse("ff")); // not a SEQUENCE
    unsupported(parse("300906072a8648ce3d0401")); // ecdsa-with-SHA1
    unsupported(parse("300b06092a864886f70d01010a")); // PSS with default (SHA-1) parameters
    unsupported(parse("300506032b6571")); // Ed448
                                          // PSS SHA-256 with a 20-byte salt; with MGF1-SHA-1; with trailer 2.
    let pss = |salt: &str, mgf_hash: &str, trailer: &str| {
        parse(&format!(
            "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d0609608648016503040{mgf_hash}0500a2030201{salt}a3030201{trailer}"
        ))
    };
    assert_eq!(pss("20", "201", "01"), Ok(SignatureScheme::RsaPssSha256));
    unsupported(pss("14", "201", "01"));
    unsupported(pss("20", "203", "01"));
    unsupported(pss("20", "201", "02"));
}

#[test]
fn auth_data_layout() {
    let sig = [0xabu8; 64];
    let data = rfc7427_auth_data(SignatureScheme::Ed25519, &sig).unwrap();
    assert_eq!(hex::encode(&data[..8]), "07300506032b6570");
    assert_eq!(&data[8..], &sig);
    let (scheme, got) = parse_rfc7427_auth_data(&data).unwrap();
    assert_eq!((scheme, got), (SignatureScheme::Ed25519, &sig[..]));
    for scheme in SignatureScheme::ALL.iter().copied() {
        match rfc7427_auth_data(scheme, &sig) {
            Ok(d) => assert_eq!(parse_rfc7427_auth_data(&d).unwrap().0, scheme),
            Err(e) => assert!(matches!(e, CryptoError::Unsupported(_)), "{scheme:?}"),
        }
    }
    // The length octet is never trusted: too long, zero, nothing after it, no signature.
    for bad in [
        &[][..],
        &[0x08, 0x30, 0x05],
        &[0x00, 0x01],
        &data[..8],
        &[0xff; 4],
    ] {
        assert!(parse_rfc7427_auth_data(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn signature_hash_values() {
    for h in SignatureHash::ALL {
        assert_eq!(SignatureHash::from_u16(h.value()), Some(*h));
    }
    assert_eq!(SignatureHash::from_u16(2), Some(SignatureHash::Sha256));
    assert_eq!(SignatureHash::from_u16(5), Some(SignatureHash::Identity));
    assert_eq!(SignatureHash::from_u16(0), None);
    assert_eq!(SignatureHash::from_u16(6), None);
    assert!(!SignatureHash::ANNOUNCED.contains(&SignatureHash::Sha1));
    assert_eq!(SignatureScheme::RsaPssSha384.hash(), SignatureHash::Sha384);
    assert_eq!(
        SignatureScheme::EcdsaSha512Fixed.hash(),
        SignatureHash::Sha512
    );
    assert_eq!(SignatureScheme::Ed25519.hash(), SignatureHash::Identity);
    assert!(SignatureScheme::RsaPkcs1Sha1.is_legacy());
    assert!(!SignatureScheme::RsaPkcs1Sha256.is_legacy());
}

#[test]
fn classic_methods() {
    for m in [1u8, 9, 10, 11] {
        let s = SignatureScheme::from_classic_auth_method(m).unwrap();
        assert_eq!(s.classic_auth_method(), Some(m));
    }
    assert_eq!(SignatureScheme::from_classic_auth_method(14), None);
    assert_eq!(SignatureScheme::from_classic_auth_method(2), None);
    assert!(SignatureScheme::EcdsaSha384Fixed.fits(KeyType::EcdsaP384));
    assert!(!SignatureScheme::EcdsaSha384Fixed.fits(KeyType::EcdsaP256));
}

#[test]
fn scheme_choice() {
    use SignatureHash::*;
    let rsa = KeyType::Rsa { bits: 3072 };
    let default = SchemeOptions::default();
    let pss = SchemeOptions { rsa_pss: true };
    let all = SignatureHash::ALL;
    assert_eq!(
        choose_scheme(rsa, all, default),
        Some(SignatureScheme::RsaPkcs1Sha256)
    );
    assert_eq!(
        choose_scheme(rsa, all, pss),
        Some(SignatureScheme::RsaPssSha256)
    );
    assert_eq!(
        choose_scheme(rsa, &[Sha512, Sha384], default),
        Some(SignatureScheme::RsaPkcs1Sha384)
    );
    assert_eq!(choose_scheme(rsa, &[Sha1], default), None);
    assert_eq!(choose_scheme(rsa, &[], default), None);
    assert_eq!(
        choose_scheme(KeyType::EcdsaP256, all, default),
        Some(SignatureScheme::EcdsaSha256)
    );
    assert_eq!(choose_scheme(KeyType::EcdsaP256, &[Sha384], default), None);
    assert_eq!(
        choose_scheme(KeyType::EcdsaP384, all, default),
        Some(SignatureScheme::EcdsaSha384)
    );
    assert_eq!(
        choose_scheme(KeyType::EcdsaP521, all, default),
        Some(SignatureScheme::EcdsaSha512)
    );
    assert_eq!(
        choose_scheme(KeyType::EcdsaP521, &[Sha256], default),
        Some(SignatureScheme::EcdsaSha256)
    );
    assert_eq!(
        choose_scheme(KeyType::Ed25519, &[Identity], default),
        Some(SignatureScheme::Ed25519)
    );
    assert_eq!(
        choose_scheme(KeyType::Ed25519, &[Sha256, Sha512], default),
        None
    );
}
