//! Signature verification against Project Wycheproof (RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA in
//! ASN.1 DER and IEEE P1363 (= RFC 4754 r | s) encodings, Ed25519), through `VerifyingKey`:
//! every public key comes in as SubjectPublicKeyInfo DER, as from a certificate.
//!
//! Valid signatures must verify, invalid ones must not. "Acceptable" cases (legal but dubious
//! encodings) may go either way. Every group's public key must load.

use crypto::sign::{SignatureScheme, VerifyingKey};
use wycheproof::TestResult;

/// Runs one group: returns (checked, key refused).
fn run(
    set: &str,
    der: &[u8],
    scheme: SignatureScheme,
    tests: impl Iterator<Item = (usize, TestResult, Vec<u8>, Vec<u8>)>,
) -> (usize, bool) {
    let Ok(key) = VerifyingKey::from_spki(der) else {
        return (0, true);
    };
    let mut n = 0;
    for (tc, result, msg, sig) in tests {
        let got = key.verify(scheme, &msg, &sig);
        match result {
            TestResult::Valid => assert!(got.is_ok(), "{set} tc {tc}: {got:?}"),
            TestResult::Invalid => assert!(got.is_err(), "{set} tc {tc} verified"),
            TestResult::Acceptable => {}
        }
        n += 1;
    }
    (n, false)
}

#[test]
fn rsa_pkcs1_v15() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    use wycheproof::HashFunction;
    let mut total = 0;
    for name in [
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
        TestName::Rsa3072Sha256,
        TestName::Rsa3072Sha384,
        TestName::Rsa3072Sha512,
        TestName::Rsa4096Sha256,
        TestName::Rsa4096Sha384,
        TestName::Rsa4096Sha512,
    ] {
        let set = TestSet::load(name).unwrap();
        for g in &set.test_groups {
            let scheme = match g.hash {
                HashFunction::Sha2_256 => SignatureScheme::RsaPkcs1Sha256,
                HashFunction::Sha2_384 => SignatureScheme::RsaPkcs1Sha384,
                HashFunction::Sha2_512 => SignatureScheme::RsaPkcs1Sha512,
                h => panic!("{name:?}: hash {h:?}"),
            };
            let tests = g
                .tests
                .iter()
                .map(|t| (t.tc_id, t.result, t.msg.to_vec(), t.sig.to_vec()));
            let (n, refused) = run(&format!("{name:?}"), &g.der, scheme, tests);
            assert!(!refused, "{name:?}: key refused");
            total += n;
        }
    }
    assert!(total > 1500, "ran {total}");
}

#[test]
fn rsa_pss() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    use wycheproof::HashFunction;
    let mut total = 0;
    for name in [
        TestName::RsaPss2048Sha256Mgf1SaltLen32,
        TestName::RsaPss2048Sha384Mgf1SaltLen48,
        TestName::RsaPss3072Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha384Mgf1SaltLen48,
        TestName::RsaPss4096Sha512Mgf1SaltLen64,
    ] {
        let set = TestSet::load(name).unwrap();
        for g in &set.test_groups {
            let (scheme, salt) = match g.hash {
                HashFunction::Sha2_256 => (SignatureScheme::RsaPssSha256, 32),
                HashFunction::Sha2_384 => (SignatureScheme::RsaPssSha384, 48),
                HashFunction::Sha2_512 => (SignatureScheme::RsaPssSha512, 64),
                h => panic!("{name:?}: hash {h:?}"),
            };
            assert_eq!(g.mgf_hash, Some(g.hash), "{name:?}");
            assert_eq!(g.salt_size, salt, "{name:?}");
            let tests = g
                .tests
                .iter()
                .map(|t| (t.tc_id, t.result, t.msg.to_vec(), t.sig.to_vec()));
            let (n, refused) = run(&format!("{name:?}"), &g.der, scheme, tests);
            assert!(!refused, "{name:?}: key refused");
            total += n;
        }
    }
    assert!(total > 300, "ran {total}");
}

#[test]
fn ecdsa_der_and_fixed() {
    use wycheproof::ecdsa::{TestName, TestSet};
    use wycheproof::HashFunction;
    let mut total = 0;
    for (name, fixed) in [
        (TestName::EcdsaSecp256r1Sha256, false),
        (TestName::EcdsaSecp256r1Sha512, false),
        (TestName::EcdsaSecp384r1Sha256, false),
        (TestName::EcdsaSecp384r1Sha384, false),
        (TestName::EcdsaSecp384r1Sha512, false),
        (TestName::EcdsaSecp521r1Sha512, false),
        (TestName::EcdsaSecp256r1Sha256P1363, true),
        (TestName::EcdsaSecp384r1Sha384P1363, true),
        (TestName::EcdsaSecp521r1Sha512P1363, true),
    ] {
        let set = TestSet::load(name).unwrap();
        for g in &set.test_groups {
            let scheme = match (g.hash, fixed) {
                (HashFunction::Sha2_256, false) => SignatureScheme::EcdsaSha256,
                (HashFunction::Sha2_384, false) => SignatureScheme::EcdsaSha384,
                (HashFunction::Sha2_512, false) => SignatureScheme::EcdsaSha512,
                (HashFunction::Sha2_256, true) => SignatureScheme::EcdsaSha256Fixed,
                (HashFunction::Sha2_384, true) => SignatureScheme::EcdsaSha384Fixed,
                (HashFunction::Sha2_512, true) => SignatureScheme::EcdsaSha512Fixed,
                (h, _) => panic!("{name:?}: hash {h:?}"),
            };
            let tests = g
                .tests
                .iter()
                .map(|t| (t.tc_id, t.result, t.msg.to_vec(), t.sig.to_vec()));
            let (n, refused) = run(&format!("{name:?}"), &g.der, scheme, tests);
            assert!(!refused, "{name:?}: key refused");
            total += n;
        }
    }
    assert!(total > 2500, "ran {total}");
}

#[test]
fn ed25519() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut total = 0;
    for g in &set.test_groups {
        let tests = g
            .tests
            .iter()
            .map(|t| (t.tc_id, t.result, t.msg.to_vec(), t.sig.to_vec()));
        let (n, refused) = run("Ed25519", &g.der, SignatureScheme::Ed25519, tests);
        assert!(!refused, "Ed25519 key refused");
        total += n;
    }
    assert!(total > 100, "ran {total}");
}
