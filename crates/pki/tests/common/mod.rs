//! Shared fixtures: a fixed clock and small PKIs made with our own issuance.
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pki::{CaSpec, CertSpec, CertificateAuthority, Eku, KeyKind, PrivateKey, Validity};
use wire::Identity;

/// 2029-01-01 00:00:00 UTC.
pub const Y2029: u64 = 1_861_920_000;
/// One day.
pub const DAY: u64 = 86_400;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// "Now" in these tests: 2030-01-01 (a year into every default validity).
pub fn now() -> SystemTime {
    at(Y2029 + 365 * DAY)
}

/// 2029-01-01 .. 2039-01-01.
pub fn ten_years() -> Validity {
    Validity::days_from(at(Y2029), 3652)
}

pub fn root(kind: KeyKind, cn: &str) -> CertificateAuthority {
    CertificateAuthority::self_signed(
        &CaSpec {
            subject: format!("C=CH, O=Rampart Test, CN={cn}"),
            validity: ten_years(),
            path_len: None,
            serial: None,
        },
        PrivateKey::generate(kind).unwrap(),
    )
    .unwrap()
}

pub fn intermediate(ca: &CertificateAuthority, kind: KeyKind, cn: &str) -> CertificateAuthority {
    ca.issue_intermediate(
        &CaSpec {
            subject: format!("C=CH, O=Rampart Test, CN={cn}"),
            validity: ten_years(),
            path_len: Some(0),
            serial: None,
        },
        PrivateKey::generate(kind).unwrap(),
    )
    .unwrap()
}

pub fn leaf_spec(cn: &str, ekus: &[Eku]) -> CertSpec {
    CertSpec {
        subject: format!("C=CH, O=Rampart Test, CN={cn}"),
        sans: vec![Identity::Fqdn(cn.to_string())],
        ekus: ekus.to_vec(),
        validity: ten_years(),
        serial: None,
    }
}

/// A leaf issued by `ca` with a fresh key of `kind`; returns (cert DER, key).
pub fn leaf(ca: &CertificateAuthority, kind: KeyKind, spec: &CertSpec) -> (Vec<u8>, PrivateKey) {
    let key = PrivateKey::generate(kind).unwrap();
    let der = ca.issue(spec, &key).unwrap();
    (der, key)
}

pub fn store(cas: &[&CertificateAuthority]) -> pki::TrustStore {
    let mut s = pki::TrustStore::new();
    for ca in cas {
        s.add_ca(ca.cert_der()).unwrap();
    }
    s
}
