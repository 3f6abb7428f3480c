//! Identities against certificates (RFC 4945 §3.1), for every ID type, matches and mismatches.

mod common;

use common::*;
use pki::{identity_from_str, CertSpec, Certificate, KeyKind, Usage};
use wire::Identity;

fn moon() -> (pki::VerifiedCert, pki::PrivateKey) {
    let root = root(KeyKind::EcdsaP256, "Root");
    let spec = CertSpec {
        subject: "C=CH, O=Rampart, CN=moon.example.org".into(),
        sans: vec![
            Identity::Fqdn("moon.example.org".into()),
            Identity::Fqdn("vpn.example.org".into()),
            Identity::Rfc822("moon@example.org".into()),
            Identity::Ipv4("192.0.2.1".parse().unwrap()),
            Identity::Ipv6("2001:db8::1".parse().unwrap()),
        ],
        ekus: vec![pki::Eku::ServerAuth, pki::Eku::IpsecIke],
        validity: ten_years(),
        serial: None,
    };
    let (der, key) = leaf(&root, KeyKind::EcdsaP256, &spec);
    let v = store(&[&root])
        .verify(&der, &[], now(), Usage::Server)
        .unwrap();
    (v, key)
}

fn id(s: &str) -> Identity {
    identity_from_str(s).unwrap()
}

#[test]
fn fields() {
    let (v, key) = moon();
    assert_eq!(v.subject_string(), "C=CH, O=Rampart, CN=moon.example.org");
    assert_eq!(
        v.subject_der(),
        pki::parse_dn("C=CH, O=Rampart, CN=moon.example.org")
            .unwrap()
            .as_slice()
    );
    assert_eq!(
        v.subject_alt_names(),
        &[
            Identity::Fqdn("moon.example.org".into()),
            Identity::Fqdn("vpn.example.org".into()),
            Identity::Rfc822("moon@example.org".into()),
            Identity::Ipv4("192.0.2.1".parse().unwrap()),
            Identity::Ipv6("2001:db8::1".parse().unwrap()),
        ]
    );
    assert_eq!(v.spki_der(), key.spki_der().as_slice());
    assert_eq!(
        v.extended_key_usages().unwrap().len(),
        2,
        "serverAuth and ipsecIKE"
    );
}

#[test]
fn every_id_type_matches() {
    let (v, key) = moon();
    for s in [
        "moon.example.org",
        "MOON.Example.ORG",
        "vpn.example.org",
        "moon@example.org",
        "192.0.2.1",
        "2001:db8::1",
        "C=CH, O=Rampart, CN=moon.example.org",
        "c=ch,o=rampart,cn=MOON.example.org",
    ] {
        assert!(v.matches_identity(&id(s)), "{s}");
    }
    // The same DN encoded as UTF8String throughout (another CA's choice) still matches.
    let utf8 = id(
        "dn:#303a310b30090603550406130243483110300e060355040a0c0752616d7061727431\
                   19301706035504030c106d6f6f6e2e6578616d706c652e6f7267",
    );
    assert!(v.matches_identity(&utf8));
    // ID_KEY_ID: SHA-1 of the SubjectPublicKeyInfo, or of the subjectPublicKey bits.
    let spki = key.spki_der();
    let spki_hash = crypto::digest::sha1(&[&spki]);
    assert!(v.matches_identity(&Identity::KeyId(spki_hash.to_vec())));
    let bits_hash = crypto::digest::sha1(&[v.public_key()]);
    assert!(v.matches_identity(&Identity::KeyId(bits_hash.to_vec())));
}

#[test]
fn mismatches() {
    let (v, _) = moon();
    for s in [
        "sun.example.org",
        "moon.example.org.evil",
        "example.org",
        "sun@example.org",
        "192.0.2.2",
        "2001:db8::2",
        "C=CH, O=Rampart, CN=sun.example.org",
        "C=CH, O=Rampart",
        "C=CH, O=Rampart, CN=moon.example.org, OU=extra",
        "O=Rampart, C=CH, CN=moon.example.org",
        "@#0102030405",
    ] {
        assert!(!v.matches_identity(&id(s)), "{s}");
    }
    // An IPv4 address is not an FQDN, nor the reverse.
    assert!(!v.matches_identity(&Identity::Fqdn("192.0.2.1".into())));
    // Types that never match a certificate.
    assert!(!v.matches_identity(&Identity::Other {
        id_type: 10,
        data: vec![0x30, 0x00]
    }));
    assert!(!v.matches_identity(&Identity::DerAsn1Dn(vec![0xff, 0x00])));
}

#[test]
fn fqdn_equal_to_the_cn_only_is_not_accepted() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let spec = CertSpec {
        subject: "C=CH, O=Rampart, CN=cn-only.example.org".into(),
        sans: vec![],
        ekus: vec![],
        validity: ten_years(),
        serial: None,
    };
    let (der, _) = leaf(&root, KeyKind::EcdsaP256, &spec);
    let c = Certificate::from_der(&der).unwrap();
    assert!(c.subject_alt_names().is_empty());
    assert!(!c.matches_identity(&id("cn-only.example.org")));
    assert!(c.matches_identity(&id("C=CH, O=Rampart, CN=cn-only.example.org")));
    assert_eq!(c.subject().common_names(), ["cn-only.example.org"]);
}

/// The glue the daemon needs: our issued key signs through `crypto::sign`, and the verified
/// certificate's SubjectPublicKeyInfo verifies that signature (RFC 7296 §2.15 AUTH).
#[test]
fn verified_spki_checks_signatures_made_with_the_issued_key() {
    use crypto::sign::{SignatureScheme, SigningKey, VerifyingKey};
    for (kind, scheme) in [
        (KeyKind::Ed25519, SignatureScheme::Ed25519),
        (KeyKind::EcdsaP256, SignatureScheme::EcdsaSha256),
        (KeyKind::EcdsaP384, SignatureScheme::EcdsaSha384),
        (KeyKind::EcdsaP521, SignatureScheme::EcdsaSha512),
        (KeyKind::Rsa2048, SignatureScheme::RsaPkcs1Sha256),
        (KeyKind::Rsa2048, SignatureScheme::RsaPssSha256),
    ] {
        let root = root(kind, "Root");
        let (der, key) = leaf(&root, kind, &common::leaf_spec("s.example.org", &[]));
        let v = store(&[&root])
            .verify(&der, &[], now(), Usage::Any)
            .unwrap();
        let signer = SigningKey::from_pkcs8_der(key.pkcs8_der().as_slice()).unwrap();
        let pem_signer = SigningKey::from_pem(key.pkcs8_pem().as_bytes()).unwrap();
        let sig = signer.sign(scheme, b"IKE_SA_INIT octets").unwrap();
        let vk = VerifyingKey::from_spki(v.spki_der()).unwrap();
        assert!(
            vk.verify(scheme, b"IKE_SA_INIT octets", &sig).is_ok(),
            "{kind:?}"
        );
        assert!(
            vk.verify(scheme, b"other octets", &sig).is_err(),
            "{kind:?}"
        );
        let sig2 = pem_signer.sign(scheme, b"x").unwrap();
        assert!(vk.verify(scheme, b"x", &sig2).is_ok(), "{kind:?}");
    }
}
