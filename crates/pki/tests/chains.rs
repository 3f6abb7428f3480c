//! Chain verification (RFC 5280 §6) with certificates from our own issuance: every key kind,
//! depth 1 and 2, and each way a chain can fail.

mod common;

use common::*;
use pki::{
    CaSpec, CertificateAuthority, CrlSpec, Eku, KeyKind, PkiError, PrivateKey, RevokedEntry,
    TrustStore, Usage, Validity,
};

#[test]
fn depth_one_and_two_for_every_key_kind() {
    for kind in KeyKind::ALL {
        let root = root(kind, &format!("Root {kind:?}"));
        let store = store(&[&root]);
        let (leaf1, key1) = leaf(&root, kind, &leaf_spec("one.example.org", &[]));
        let v = store.verify(&leaf1, &[], now(), Usage::Any).unwrap();
        assert_eq!(v.spki_der(), key1.spki_der().as_slice(), "{kind:?}");
        assert!(v.intermediates().is_empty());
        assert_eq!(v.ca().der(), root.cert_der());
        assert_eq!(
            v.subject_string(),
            "C=CH, O=Rampart Test, CN=one.example.org"
        );

        let int = intermediate(&root, kind, &format!("Intermediate {kind:?}"));
        let (leaf2, key2) = leaf(&int, kind, &leaf_spec("two.example.org", &[]));
        let v = store
            .verify(&leaf2, &[int.cert_der()], now(), Usage::Any)
            .unwrap();
        assert_eq!(v.spki_der(), key2.spki_der().as_slice(), "{kind:?}");
        assert_eq!(v.intermediates().len(), 1);
        assert_eq!(v.intermediates()[0].der(), int.cert_der());
        assert_eq!(v.ca().der(), root.cert_der());
    }
}

#[test]
fn mixed_key_kinds_along_one_chain() {
    let root = root(KeyKind::Rsa3072, "RSA Root");
    let int = intermediate(&root, KeyKind::EcdsaP384, "ECDSA Intermediate");
    let (leaf, _) = leaf(&int, KeyKind::Ed25519, &leaf_spec("ed.example.org", &[]));
    store(&[&root])
        .verify(&leaf, &[int.cert_der()], now(), Usage::Client)
        .unwrap();
}

#[test]
fn validity_periods() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let store = store(&[&root]);
    let mut spec = leaf_spec("short.example.org", &[]);
    spec.validity = Validity::days_from(at(Y2029), 30);
    let (der, _) = leaf(&root, KeyKind::EcdsaP256, &spec);
    match store.verify(&der, &[], now(), Usage::Any) {
        Err(PkiError::Expired {
            subject, not_after, ..
        }) => {
            assert_eq!(subject, "C=CH, O=Rampart Test, CN=short.example.org");
            assert_eq!(not_after, at(Y2029 + 30 * DAY));
        }
        other => panic!("{other:?}"),
    }
    let msg = store
        .verify(&der, &[], now(), Usage::Any)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("expired on 2029-01-31 00:00:00 UTC"), "{msg}");
    // Inside its period it verifies.
    store
        .verify(&der, &[], at(Y2029 + 10 * DAY), Usage::Any)
        .unwrap();
    // Before it starts.
    match store.verify(&der, &[], at(Y2029 - DAY), Usage::Any) {
        Err(PkiError::NotYetValid {
            subject,
            not_before,
            ..
        }) => {
            assert!(subject.ends_with("CN=short.example.org"));
            assert_eq!(not_before, at(Y2029));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn expired_intermediate_and_expired_ca_are_named() {
    let short = Validity::days_from(at(Y2029), 100);
    let root_key = PrivateKey::generate(KeyKind::EcdsaP256).unwrap();
    let old_root = CertificateAuthority::self_signed(
        &CaSpec {
            subject: "C=CH, O=Rampart Test, CN=Old Root".into(),
            validity: short,
            path_len: None,
            serial: None,
        },
        root_key,
    )
    .unwrap();
    let (der, _) = leaf(
        &old_root,
        KeyKind::EcdsaP256,
        &leaf_spec("a.example.org", &[]),
    );
    match store(&[&old_root]).verify(&der, &[], now(), Usage::Any) {
        Err(PkiError::Expired { subject, .. }) => {
            assert_eq!(subject, "C=CH, O=Rampart Test, CN=Old Root")
        }
        other => panic!("{other:?}"),
    }

    let root = root(KeyKind::EcdsaP256, "Root");
    let int = root
        .issue_intermediate(
            &CaSpec {
                subject: "C=CH, O=Rampart Test, CN=Old Intermediate".into(),
                validity: short,
                path_len: None,
                serial: None,
            },
            PrivateKey::generate(KeyKind::EcdsaP256).unwrap(),
        )
        .unwrap();
    let (der, _) = leaf(&int, KeyKind::EcdsaP256, &leaf_spec("b.example.org", &[]));
    match store(&[&root]).verify(&der, &[int.cert_der()], now(), Usage::Any) {
        Err(PkiError::Expired { subject, .. }) => {
            assert_eq!(subject, "C=CH, O=Rampart Test, CN=Old Intermediate")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_issuer_and_missing_intermediate() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let other = common::root(KeyKind::EcdsaP256, "Other Root");
    let (der, _) = leaf(&root, KeyKind::EcdsaP256, &leaf_spec("a.example.org", &[]));
    match store(&[&other]).verify(&der, &[], now(), Usage::Any) {
        Err(PkiError::UnknownIssuer {
            subject, issuer, ..
        }) => {
            assert_eq!(subject, "C=CH, O=Rampart Test, CN=a.example.org");
            assert_eq!(issuer, "C=CH, O=Rampart Test, CN=Root");
        }
        other => panic!("{other:?}"),
    }
    // An empty store trusts nothing.
    assert!(matches!(
        TrustStore::new().verify(&der, &[], now(), Usage::Any),
        Err(PkiError::UnknownIssuer { .. })
    ));

    let int = intermediate(&root, KeyKind::EcdsaP256, "Intermediate");
    let (der, _) = leaf(&int, KeyKind::EcdsaP256, &leaf_spec("b.example.org", &[]));
    match store(&[&root]).verify(&der, &[], now(), Usage::Any) {
        Err(PkiError::UnknownIssuer {
            subject,
            issuer,
            intermediates,
        }) => {
            assert_eq!(subject, "C=CH, O=Rampart Test, CN=b.example.org");
            assert_eq!(issuer, "C=CH, O=Rampart Test, CN=Intermediate");
            assert_eq!(intermediates, 0);
        }
        other => panic!("{other:?}"),
    }
    // Same-named CA with another key: the signature cannot verify.
    let impostor = common::root(KeyKind::EcdsaP256, "Root");
    let err = store(&[&impostor])
        .verify(&der, &[int.cert_der()], now(), Usage::Any)
        .unwrap_err();
    assert!(matches!(err, PkiError::BadSignature { .. }), "{err:?}");
}

#[test]
fn extra_irrelevant_certificates_are_ignored() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let int = intermediate(&root, KeyKind::EcdsaP256, "Intermediate");
    let other = common::root(KeyKind::Ed25519, "Other Root");
    let other_int = intermediate(&other, KeyKind::Ed25519, "Other Intermediate");
    let (unrelated, _) = leaf(&other, KeyKind::Ed25519, &leaf_spec("x.example.org", &[]));
    let (der, _) = leaf(&int, KeyKind::EcdsaP256, &leaf_spec("a.example.org", &[]));
    let garbage: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x00];
    let v = store(&[&root, &other])
        .verify(
            &der,
            &[
                other.cert_der(),
                &unrelated,
                garbage,
                other_int.cert_der(),
                root.cert_der(),
                int.cert_der(),
            ],
            now(),
            Usage::Any,
        )
        .unwrap();
    assert_eq!(v.intermediates().len(), 1);
    assert_eq!(v.ca().der(), root.cert_der());
}

/// Flips one bit at `pos` bytes from the end (inside the signature) or inside the TBS.
fn mutated(der: &[u8], from_end: usize) -> Vec<u8> {
    let mut d = der.to_vec();
    let i = d.len() - from_end;
    d[i] ^= 0x01;
    d
}

#[test]
fn bad_signatures() {
    for kind in [KeyKind::EcdsaP256, KeyKind::Ed25519, KeyKind::Rsa2048] {
        let root = root(kind, "Root");
        let store = store(&[&root]);
        let (der, _) = leaf(&root, kind, &leaf_spec("a.example.org", &[]));
        // A flipped bit in the signature value.
        let err = store
            .verify(&mutated(&der, 5), &[], now(), Usage::Any)
            .unwrap_err();
        assert!(
            matches!(err, PkiError::BadSignature { .. }),
            "{kind:?}: {err:?}"
        );
        // A changed letter in the subject (the signed part): still DER, signature now wrong.
        let cn = b"a.example.org";
        let pos = der
            .windows(cn.len())
            .rposition(|w| w == cn)
            .expect("CN in DER");
        let mut tampered = der.clone();
        tampered[pos] = b'b';
        match store.verify(&tampered, &[], now(), Usage::Any) {
            Err(PkiError::BadSignature { subject, issuer }) => {
                assert!(
                    subject.contains("CN=b.example.org") || subject.contains("CN=a.example.org")
                );
                assert_eq!(issuer, "C=CH, O=Rampart Test, CN=Root");
            }
            other => panic!("{kind:?}: {other:?}"),
        }
        // Not a certificate at all.
        assert!(matches!(
            store.verify(&der[..der.len() / 2], &[], now(), Usage::Any),
            Err(PkiError::BadCertificate(_))
        ));
    }
}

fn crl(ca: &CertificateAuthority, serials: &[&[u8]]) -> Vec<u8> {
    ca.crl(&CrlSpec {
        this_update: at(Y2029 + 200 * DAY),
        next_update: at(Y2029 + 230 * DAY),
        number: 1,
        revoked: serials
            .iter()
            .map(|s| RevokedEntry {
                serial: s.to_vec(),
                revoked_at: at(Y2029 + 199 * DAY),
            })
            .collect(),
    })
    .unwrap()
}

#[test]
fn revoked_leaf_and_revoked_intermediate() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let int = intermediate(&root, KeyKind::EcdsaP384, "Intermediate");
    let (good, _) = leaf(
        &int,
        KeyKind::EcdsaP256,
        &leaf_spec("good.example.org", &[]),
    );
    let mut spec = leaf_spec("bad.example.org", &[]);
    spec.serial = Some(vec![0x12, 0x34, 0x56]);
    let (bad, _) = leaf(&int, KeyKind::EcdsaP256, &spec);

    // The intermediate's CRL revokes the bad leaf only.
    let mut s = store(&[&root]);
    s.add_crl(&crl(&int, &[&[0x12, 0x34, 0x56]])).unwrap();
    s.verify(&good, &[int.cert_der()], now(), Usage::Any)
        .unwrap();
    match s.verify(&bad, &[int.cert_der()], now(), Usage::Any) {
        Err(PkiError::Revoked {
            subject,
            serial,
            issuer,
        }) => {
            assert_eq!(subject, "C=CH, O=Rampart Test, CN=bad.example.org");
            assert_eq!(serial, "12:34:56");
            assert_eq!(issuer, "C=CH, O=Rampart Test, CN=Intermediate");
        }
        other => panic!("{other:?}"),
    }
    let msg = s
        .verify(&bad, &[int.cert_der()], now(), Usage::Any)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("serial 12:34:56") && msg.contains("revoked"),
        "{msg}"
    );

    // The root's CRL revokes the intermediate: every leaf under it fails, naming it.
    let int_serial = int.certificate().serial().to_vec();
    s.add_crl(&crl(&root, &[&int_serial])).unwrap();
    assert_eq!(s.crl_count(), 2);
    match s.verify(&good, &[int.cert_der()], now(), Usage::Any) {
        Err(PkiError::Revoked {
            subject, serial, ..
        }) => {
            assert_eq!(subject, "C=CH, O=Rampart Test, CN=Intermediate");
            assert_eq!(serial, int.certificate().serial_hex());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn crl_signed_by_a_stranger_is_not_trusted() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let (der, _) = leaf(&root, KeyKind::EcdsaP256, &leaf_spec("a.example.org", &[]));
    // Another CA with the same name signs a CRL revoking nothing: it must not be accepted as
    // the root's CRL.
    let impostor = common::root(KeyKind::EcdsaP256, "Root");
    let mut s = store(&[&root]);
    s.add_crl(&crl(&impostor, &[])).unwrap();
    let err = s.verify(&der, &[], now(), Usage::Any).unwrap_err();
    assert!(matches!(err, PkiError::BadCrlForChain { .. }), "{err:?}");
    // A newer genuine CRL of the same issuer replaces it.
    let genuine = root
        .crl(&CrlSpec {
            this_update: at(Y2029 + 300 * DAY),
            next_update: at(Y2029 + 330 * DAY),
            number: 2,
            revoked: vec![],
        })
        .unwrap();
    s.add_crl(&genuine).unwrap();
    assert_eq!(s.crl_count(), 1);
    s.verify(&der, &[], now(), Usage::Any).unwrap();
}

#[test]
fn eku_rules_for_each_usage() {
    let root = root(KeyKind::EcdsaP256, "Root");
    let store = store(&[&root]);
    use Usage::*;
    let cases: &[(&[Eku], [bool; 3])] = &[
        // [Server, Client, Any]
        (&[], [true, true, true]),
        (&[Eku::ServerAuth], [true, false, true]),
        (&[Eku::ClientAuth], [false, true, true]),
        (&[Eku::IpsecIke], [true, true, true]),
        (&[Eku::Any], [true, true, true]),
        (&[Eku::ServerAuth, Eku::ClientAuth], [true, true, true]),
    ];
    for (ekus, expect) in cases {
        let (der, _) = leaf(&root, KeyKind::EcdsaP256, &leaf_spec("e.example.org", ekus));
        for (usage, ok) in [Server, Client, Any].into_iter().zip(expect) {
            let r = store.verify(&der, &[], now(), usage);
            assert_eq!(r.is_ok(), *ok, "{ekus:?} as {usage:?}: {r:?}");
            if let Err(e) = r {
                match e {
                    PkiError::WrongUsage {
                        subject,
                        usage: u,
                        present,
                    } => {
                        assert!(subject.ends_with("CN=e.example.org"));
                        assert_eq!(u, usage);
                        assert_eq!(present.len(), ekus.len());
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }
    let (server_only, _) = leaf(
        &root,
        KeyKind::EcdsaP256,
        &leaf_spec("s.example.org", &[Eku::ServerAuth]),
    );
    let msg = store
        .verify(&server_only, &[], now(), Client)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("IKE client") && msg.contains("serverAuth"),
        "{msg}"
    );
}

#[test]
fn basic_constraints() {
    let root = root(KeyKind::EcdsaP256, "Root");
    // A leaf (no cA) cannot issue.
    let (leaf_der, leaf_key) = leaf(&root, KeyKind::EcdsaP256, &leaf_spec("a.example.org", &[]));
    let fake_ca = CertificateAuthority::load(&leaf_der, leaf_key).unwrap();
    let (under, _) = leaf(
        &fake_ca,
        KeyKind::EcdsaP256,
        &leaf_spec("b.example.org", &[]),
    );
    let err = store(&[&root])
        .verify(&under, &[&leaf_der], now(), Usage::Any)
        .unwrap_err();
    assert!(matches!(err, PkiError::BasicConstraints { .. }), "{err:?}");
    // A CA certificate presented as the end entity.
    let int = intermediate(&root, KeyKind::EcdsaP256, "Intermediate");
    let err = store(&[&root])
        .verify(int.cert_der(), &[], now(), Usage::Any)
        .unwrap_err();
    assert!(matches!(err, PkiError::BasicConstraints { .. }), "{err:?}");
    // pathLenConstraint 0 on the intermediate forbids a CA below it.
    let sub = intermediate(&int, KeyKind::EcdsaP256, "Sub");
    let (deep, _) = leaf(&sub, KeyKind::EcdsaP256, &leaf_spec("c.example.org", &[]));
    let err = store(&[&root])
        .verify(&deep, &[sub.cert_der(), int.cert_der()], now(), Usage::Any)
        .unwrap_err();
    assert!(matches!(err, PkiError::BasicConstraints { .. }), "{err:?}");
    // A non-CA certificate cannot be a trust anchor.
    assert!(TrustStore::new().add_ca(&leaf_der).is_err());
}

#[test]
fn certreq_hashes_select_cas() {
    let a = root(KeyKind::EcdsaP256, "A");
    let b = root(KeyKind::Ed25519, "B");
    let s = store(&[&a, &b]);
    let hashes = s.ca_hashes();
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes[0], pki::ca_key_hash(a.cert_der()).unwrap());
    let picked = s.ca_for_hashes(&[hashes[1], [7; 20]]);
    assert_eq!(picked.len(), 1);
    assert_eq!(picked[0].der(), b.cert_der());
    assert!(s.ca_for_hashes(&[[0; 20]]).is_empty());
    let joined: Vec<u8> = hashes.concat();
    assert_eq!(pki::split_ca_hashes(&joined), hashes);
}
