//! `crypto::sign` keys and signatures: every scheme signs and verifies, tampering and wrong keys
//! are refused, key files in every supported form load (made by OpenSSL, see tests/keys/README.md),
//! OpenSSL's signatures verify, RFC 8032 §7.1 Ed25519 vectors.

use crypto::sign::{KeyType, SignatureScheme, SigningKey, VerifyingKey};
use crypto::{CryptoError, DeterministicRandom};

const MSG: &[u8] = b"rampart test message";

fn file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

/// One key of every type: RSA from OpenSSL's file, the others generated from a seed.
fn keys() -> Vec<SigningKey> {
    let mut rng = DeterministicRandom::new(42);
    let mut out = vec![SigningKey::from_pem(&file("rsa2048-pkcs8.pem")).unwrap()];
    for t in [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Ed25519,
    ] {
        out.push(SigningKey::generate(t, &mut rng).unwrap());
    }
    out
}

#[test]
fn every_signable_scheme_round_trips_and_rejects_tampering() {
    let keys = keys();
    let mut signed = 0;
    for (i, key) in keys.iter().enumerate() {
        let vk = key.verifying_key().unwrap();
        assert_eq!(vk.key_type(), key.key_type());
        // Another key of the same type, for the wrong-key check.
        let other = match key.key_type() {
            KeyType::Rsa { .. } => SigningKey::from_pem(&file("rsa2048-pkcs1.pem")).unwrap(),
            t => SigningKey::generate(t, &mut DeterministicRandom::new(7)).unwrap(),
        };
        let other_vk = other.verifying_key().unwrap();
        let same_rsa = key.key_type() == KeyType::Rsa { bits: 2048 };
        for scheme in SignatureScheme::ALL.iter().copied() {
            if !key.can_sign(scheme) {
                assert!(
                    matches!(key.sign(scheme, MSG), Err(CryptoError::Unsupported(_))),
                    "{scheme:?} with key {i}"
                );
                continue;
            }
            let sig = key.sign(scheme, MSG).unwrap();
            vk.verify(scheme, MSG, &sig)
                .unwrap_or_else(|e| panic!("{scheme:?} with key {i}: {e}"));
            // Tampered signature, tampered data.
            let mut bad = sig.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 0x01;
            assert_eq!(
                vk.verify(scheme, MSG, &bad),
                Err(CryptoError::InvalidSignature),
                "{scheme:?} tampered signature"
            );
            assert_eq!(
                vk.verify(scheme, b"rampart test messagE", &sig),
                Err(CryptoError::InvalidSignature),
                "{scheme:?} tampered data"
            );
            assert!(vk.verify(scheme, MSG, &sig[..sig.len() - 1]).is_err());
            // The wrong key (the two RSA files are one key: skip that pair).
            if !same_rsa {
                assert_eq!(
                    other_vk.verify(scheme, MSG, &sig),
                    Err(CryptoError::InvalidSignature),
                    "{scheme:?} wrong key"
                );
            }
            signed += 1;
        }
    }
    // RSA: 6 (no SHA-1), P-256: 2, P-384: 2, P-521: 4, Ed25519: 1.
    assert_eq!(signed, 15);
}

#[test]
fn signature_encodings_and_lengths() {
    let mut rng = DeterministicRandom::new(1);
    for (t, fixed, field) in [
        (KeyType::EcdsaP256, SignatureScheme::EcdsaSha256Fixed, 32),
        (KeyType::EcdsaP384, SignatureScheme::EcdsaSha384Fixed, 48),
        (KeyType::EcdsaP521, SignatureScheme::EcdsaSha512Fixed, 66),
    ] {
        let key = SigningKey::generate(t, &mut rng).unwrap();
        assert_eq!(key.sign(fixed, MSG).unwrap().len(), 2 * field, "{t:?}");
        let der_scheme = match fixed {
            SignatureScheme::EcdsaSha256Fixed => SignatureScheme::EcdsaSha256,
            SignatureScheme::EcdsaSha384Fixed => SignatureScheme::EcdsaSha384,
            _ => SignatureScheme::EcdsaSha512,
        };
        let der = key.sign(der_scheme, MSG).unwrap();
        assert_eq!(der[0], 0x30, "{t:?} DER SEQUENCE");
        // A DER signature is not accepted as fixed-size and vice versa.
        let vk = key.verifying_key().unwrap();
        assert!(vk.verify(fixed, MSG, &der).is_err());
        let fixed_sig = key.sign(fixed, MSG).unwrap();
        assert!(vk.verify(der_scheme, MSG, &fixed_sig).is_err());
    }
    let rsa = SigningKey::from_pem(&file("rsa2048-pkcs8.pem")).unwrap();
    assert_eq!(rsa.key_type(), KeyType::Rsa { bits: 2048 });
    assert_eq!(
        rsa.sign(SignatureScheme::RsaPssSha512, MSG).unwrap().len(),
        256
    );
    let ed = SigningKey::generate(KeyType::Ed25519, &mut rng).unwrap();
    assert_eq!(ed.sign(SignatureScheme::Ed25519, MSG).unwrap().len(), 64);
}

#[test]
fn schemes_that_do_not_fit_the_key_are_refused() {
    let keys = keys();
    for key in &keys {
        let vk = key.verifying_key().unwrap();
        for scheme in SignatureScheme::ALL.iter().copied() {
            if scheme.fits(key.key_type()) {
                continue;
            }
            assert!(!key.can_sign(scheme), "{scheme:?}");
            assert!(
                matches!(
                    vk.verify(scheme, MSG, &[0x30; 64]),
                    Err(CryptoError::Unsupported(_))
                ),
                "{scheme:?} on {:?}",
                key.key_type()
            );
        }
    }
    // aws-lc-rs signing limits: no RSA SHA-1, P-256 signs with SHA-256 only.
    assert!(!keys[0].can_sign(SignatureScheme::RsaPkcs1Sha1));
    assert!(!keys[1].can_sign(SignatureScheme::EcdsaSha384));
    assert!(keys[3].can_sign(SignatureScheme::EcdsaSha256));
}

#[test]
fn generation_is_deterministic_where_randomness_is_injected() {
    for t in [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Ed25519,
    ] {
        let a = SigningKey::generate(t, &mut DeterministicRandom::new(5)).unwrap();
        let b = SigningKey::generate(t, &mut DeterministicRandom::new(5)).unwrap();
        let c = SigningKey::generate(t, &mut DeterministicRandom::new(6)).unwrap();
        assert_eq!(a.public_key_spki(), b.public_key_spki(), "{t:?}");
        assert_ne!(a.public_key_spki(), c.public_key_spki(), "{t:?}");
        assert_eq!(a.key_type(), t);
    }
    assert!(matches!(
        SigningKey::generate(
            KeyType::Rsa { bits: 1024 },
            &mut DeterministicRandom::new(0)
        ),
        Err(CryptoError::Unsupported(_))
    ));
}

#[test]
fn rsa_generation() {
    let key = SigningKey::generate(
        KeyType::Rsa { bits: 2048 },
        &mut DeterministicRandom::new(0),
    )
    .unwrap();
    assert_eq!(key.key_type(), KeyType::Rsa { bits: 2048 });
    let sig = key.sign(SignatureScheme::RsaPkcs1Sha256, MSG).unwrap();
    key.verifying_key()
        .unwrap()
        .verify(SignatureScheme::RsaPkcs1Sha256, MSG, &sig)
        .unwrap();
}

#[test]
fn pkcs8_export_round_trips() {
    for key in keys() {
        let der = key.to_pkcs8_der().unwrap();
        let back = SigningKey::from_pkcs8_der(der.as_slice()).unwrap();
        assert_eq!(back.public_key_spki(), key.public_key_spki());
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let back = SigningKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(back.key_type(), key.key_type());
        assert_eq!(back.public_key_spki(), key.public_key_spki());
        assert_eq!(
            SigningKey::from_der(der.as_slice())
                .unwrap()
                .public_key_spki(),
            key.public_key_spki()
        );
    }
}

#[test]
fn openssl_key_files_load() {
    let pkcs1 = SigningKey::from_pem(&file("rsa2048-pkcs1.pem")).unwrap();
    let pkcs8 = SigningKey::from_pem(&file("rsa2048-pkcs8.pem")).unwrap();
    let der = SigningKey::from_pkcs8_der(&file("rsa2048-pkcs8.der")).unwrap();
    let pubkey = VerifyingKey::from_pem(&file("rsa2048-pub.pem")).unwrap();
    assert_eq!(pkcs1.public_key_spki(), pubkey.spki());
    assert_eq!(pkcs8.public_key_spki(), pubkey.spki());
    assert_eq!(der.public_key_spki(), pubkey.spki());
    assert_eq!(pubkey.key_type(), KeyType::Rsa { bits: 2048 });
    // PKCS#1 DER, directly and through the generic entry point (which tries PKCS#8 first).
    let pkcs1_der = file("rsa2048-pkcs1.der");
    assert_eq!(
        SigningKey::from_pkcs1_der(&pkcs1_der)
            .unwrap()
            .public_key_spki(),
        pubkey.spki()
    );
    assert_eq!(
        SigningKey::from_der(&pkcs1_der).unwrap().public_key_spki(),
        pubkey.spki()
    );
    assert!(SigningKey::from_pkcs8_der(&pkcs1_der).is_err());

    // SEC 1 after an EC PARAMETERS block; SEC 1 alone; PKCS#8.
    let p256 = SigningKey::from_pem(&file("p256-sec1.pem")).unwrap();
    assert_eq!(p256.key_type(), KeyType::EcdsaP256);
    assert_eq!(
        p256.public_key_spki(),
        VerifyingKey::from_pem(&file("p256-pub.pem"))
            .unwrap()
            .spki()
    );
    let p384 = SigningKey::from_pem(&file("p384-sec1.pem")).unwrap();
    assert_eq!(p384.key_type(), KeyType::EcdsaP384);
    assert_eq!(p384.public_key_spki(), file("p384-pub.der"));
    let p521 = SigningKey::from_pem(&file("p521-pkcs8.pem")).unwrap();
    assert_eq!(p521.key_type(), KeyType::EcdsaP521);
    assert_eq!(
        p521.public_key_spki(),
        VerifyingKey::from_pem(&file("p521-pub.pem"))
            .unwrap()
            .spki()
    );
    let ed = SigningKey::from_pem(&file("ed25519-pkcs8.pem")).unwrap();
    assert_eq!(ed.key_type(), KeyType::Ed25519);
    assert_eq!(
        ed.public_key_spki(),
        VerifyingKey::from_pem(&file("ed25519-pub.pem"))
            .unwrap()
            .spki()
    );
}

#[test]
fn bad_key_input_is_refused() {
    let enc = SigningKey::from_pem(&file("p256-encrypted.pem")).unwrap_err();
    assert!(enc.to_string().contains("encrypted"), "{enc}");
    for bad in [
        &b""[..],
        b"not a key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\n",
    ] {
        assert!(
            matches!(SigningKey::from_pem(bad), Err(CryptoError::InvalidKey(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let der = file("rsa2048-pkcs8.der");
    for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
        assert!(SigningKey::from_der(&der[..cut]).is_err(), "cut {cut}");
    }
    // Public keys: truncated, trailing garbage, a private key, an unknown algorithm.
    let spki = file("p384-pub.der");
    assert!(VerifyingKey::from_spki(&spki[..spki.len() - 1]).is_err());
    let mut long = spki.clone();
    long.push(0);
    assert!(VerifyingKey::from_spki(&long).is_err());
    assert!(VerifyingKey::from_spki(&der).is_err());
    // A point not on the curve.
    let mut off_curve = spki.clone();
    let last = off_curve.len() - 1;
    off_curve[last] ^= 1;
    assert!(VerifyingKey::from_spki(&off_curve).is_err());
    // X25519 SPKI (1.3.101.110): a key type we do not sign with.
    let x25519 = unhex(
        "302a300506032b656e032100e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
    );
    assert!(matches!(
        VerifyingKey::from_spki(&x25519),
        Err(CryptoError::InvalidKey(_))
    ));
}

#[test]
fn openssl_signatures_verify() {
    let msg = file("msg.bin");
    assert_eq!(msg, MSG);
    let rsa = VerifyingKey::from_pem(&file("rsa2048-pub.pem")).unwrap();
    for (scheme, sig) in [
        (SignatureScheme::RsaPkcs1Sha256, "rsa2048-pkcs1-sha256.sig"),
        (SignatureScheme::RsaPkcs1Sha1, "rsa2048-pkcs1-sha1.sig"),
        (SignatureScheme::RsaPssSha384, "rsa2048-pss-sha384.sig"),
    ] {
        rsa.verify(scheme, &msg, &file(sig))
            .unwrap_or_else(|e| panic!("{sig}: {e}"));
    }
    // The PKCS#1 v1.5 signature is not a PSS one and the hash matters.
    assert!(rsa
        .verify(
            SignatureScheme::RsaPssSha256,
            &msg,
            &file("rsa2048-pkcs1-sha256.sig")
        )
        .is_err());
    assert!(rsa
        .verify(
            SignatureScheme::RsaPkcs1Sha384,
            &msg,
            &file("rsa2048-pkcs1-sha256.sig")
        )
        .is_err());
    let p256 = VerifyingKey::from_pem(&file("p256-pub.pem")).unwrap();
    p256.verify(SignatureScheme::EcdsaSha256, &msg, &file("p256-sha256.sig"))
        .unwrap();
    let p521 = VerifyingKey::from_pem(&file("p521-pub.pem")).unwrap();
    p521.verify(SignatureScheme::EcdsaSha512, &msg, &file("p521-sha512.sig"))
        .unwrap();
    let ed = VerifyingKey::from_pem(&file("ed25519-pub.pem")).unwrap();
    ed.verify(SignatureScheme::Ed25519, &msg, &file("ed25519.sig"))
        .unwrap();
}

/// RFC 8032 §7.1 TEST 1, 2, 3: (secret key, public key, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn rfc8032_ed25519_vectors() {
    for (secret, public, msg, sig) in RFC8032 {
        // PKCS#8 v1 for Ed25519 (RFC 8410 §7): the seed in an OCTET STRING in an OCTET STRING.
        let pkcs8 = unhex(&format!("302e020100300506032b657004220420{secret}"));
        let key = SigningKey::from_pkcs8_der(&pkcs8).unwrap();
        let spki = unhex(&format!("302a300506032b6570032100{public}"));
        assert_eq!(key.public_key_spki(), spki);
        let got = key.sign(SignatureScheme::Ed25519, &unhex(msg)).unwrap();
        assert_eq!(hex::encode(&got), sig, "Ed25519 is deterministic");
        let vk = VerifyingKey::from_spki(&spki).unwrap();
        vk.verify(SignatureScheme::Ed25519, &unhex(msg), &unhex(sig))
            .unwrap();
    }
}

#[test]
fn debug_shows_no_key_material() {
    for key in keys() {
        let shown = format!("{key:?}");
        assert!(shown.starts_with("SigningKey"), "{shown}");
        assert!(shown.len() < 80, "{shown}");
        let vk = key.verifying_key().unwrap();
        assert!(format!("{vk:?}").len() < 80);
    }
}
