//! Against strongSwan as an independent party: certificates its `pki` tool issued (files under
//! tests/data/strongswan, made by make.sh there) verify here; certificates we issue pass its
//! `pki --verify`; the CERTREQ hash equals what a charon sent on the wire.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pki::{
    cert_to_pem, crl_to_pem, CaSpec, CertSpec, CertificateAuthority, CrlSpec, Eku, KeyKind,
    PkiError, PrivateKey, RevokedEntry, TrustStore, Usage, Validity,
};
use wire::Identity;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/strongswan")
        .join(name)
}

fn cert(name: &str) -> Vec<u8> {
    let mut v = pki::load_certs(&data(name)).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn trust(cas: &[&str]) -> TrustStore {
    let mut s = TrustStore::new();
    for c in cas {
        s.load_ca_file(&data(c)).unwrap();
    }
    s
}

/// 2027-06-01, inside the fixtures' 2026-01-01 .. 2036-01-01.
fn fixture_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_811_808_000)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The CERTREQ that charon 5.9.8 sent in its IKE_SA_INIT response while trusting
/// certreq-ca.pem (captured with tests/data/capture-certreq.sh: tcpdump in the responder's
/// namespace, decoded by tshark: "Certificate Authority Data: b65b0b92…").
#[test]
fn certreq_hash_matches_strongswan() {
    let ca = cert("certreq-ca.pem");
    assert_eq!(
        hex(&pki::ca_key_hash(&ca).unwrap()),
        "b65b0b9259eba6a1c1009ee0e46978d73f9d2509"
    );
    let s = trust(&["certreq-ca.pem"]);
    assert_eq!(
        s.ca_hashes().iter().map(|h| hex(h)).collect::<Vec<_>>(),
        ["b65b0b9259eba6a1c1009ee0e46978d73f9d2509"]
    );
    // strongSwan's subjectKeyIdentifier for the same CA is the other hash (`pki --keyid`:
    // "subjkey (SHA-1 of subjectPublicKey)"), which is not what CERTREQ carries.
    let c = pki::Certificate::from_der(&ca).unwrap();
    assert_eq!(
        hex(c.subject_key_id().unwrap()),
        "2117fe65d0082d602b4321f694aa6d844473f6b4"
    );
    assert!(c.matches_identity(&Identity::KeyId(c.subject_key_id().unwrap().to_vec())));
    // The end entity charon authenticated with verifies here too.
    let v = s
        .verify(&cert("certreq-moon.pem"), &[], fixture_now(), Usage::Server)
        .unwrap();
    assert_eq!(
        v.subject_string(),
        "C=CH, O=Rampart Test, CN=moon.example.org"
    );
    assert!(v.matches_identity(&Identity::Fqdn("moon.example.org".into())));
}

#[test]
fn rsa_pss_chain_from_strongswan() {
    let s = trust(&["pss-root.pem"]);
    let int = cert("pss-int.pem");
    let v = s
        .verify(&cert("pss-leaf.pem"), &[&int], fixture_now(), Usage::Server)
        .unwrap();
    assert_eq!(
        v.subject_string(),
        "C=CH, O=strongSwan PSS, CN=pss.example.org"
    );
    assert_eq!(v.intermediates().len(), 1);
    assert!(matches!(
        s.verify(&cert("pss-leaf.pem"), &[&int], fixture_now(), Usage::Client),
        Err(PkiError::WrongUsage { .. })
    ));
}

#[test]
fn ed25519_chain_from_strongswan() {
    let s = trust(&["ed-root.pem"]);
    let v = s
        .verify(&cert("ed-leaf.pem"), &[], fixture_now(), Usage::Client)
        .unwrap();
    assert_eq!(
        v.subject_alt_names(),
        &[Identity::Rfc822("carol@example.org".into())]
    );
    assert!(v.matches_identity(&pki::identity_from_str("carol@example.org").unwrap()));
    assert!(v.matches_identity(
        &pki::identity_from_str("C=CH, O=strongSwan Ed25519, CN=carol").unwrap()
    ));
    assert!(matches!(
        s.verify(&cert("ed-leaf.pem"), &[], fixture_now(), Usage::Server),
        Err(PkiError::WrongUsage { .. })
    ));
}

#[test]
fn ecdsa_chain_and_crl_from_strongswan() {
    let mut s = trust(&["ec-root.pem"]);
    s.load_crl_file(&data("ec-int.crl")).unwrap();
    let int = cert("ec-int.pem");
    let v = s
        .verify(&cert("ec-leaf.pem"), &[&int], fixture_now(), Usage::Server)
        .unwrap();
    assert_eq!(
        v.subject_alt_names(),
        &[
            Identity::Fqdn("moon.example.org".into()),
            Identity::Ipv4("192.0.2.1".parse().unwrap())
        ]
    );
    assert_eq!(
        v.ca().subject().to_string(),
        "C=CH, O=strongSwan ECDSA, CN=P-521 Root"
    );
    let revoked = cert("ec-leaf2.pem");
    let serial = pki::Certificate::from_der(&revoked).unwrap().serial_hex();
    match s.verify(&revoked, &[&int], fixture_now(), Usage::Any) {
        Err(PkiError::Revoked {
            subject,
            serial: got,
            issuer,
        }) => {
            assert_eq!(subject, "C=CH, O=strongSwan ECDSA, CN=revoked.example.org");
            assert_eq!(got, serial);
            assert_eq!(issuer, "C=CH, O=strongSwan ECDSA, CN=P-384 Intermediate");
        }
        other => panic!("{other:?}"),
    }
    // Without the CRL it is fine.
    trust(&["ec-root.pem"])
        .verify(&revoked, &[&int], fixture_now(), Usage::Any)
        .unwrap();
    // RSA PKCS#1 root, ECDSA leaf.
    trust(&["rsa-root.pem"])
        .verify(&cert("rsa-leaf.pem"), &[], fixture_now(), Usage::Client)
        .unwrap();
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("rampart-pki-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// strongSwan's `pki` (package strongswan-pki), or None when it is not installed.
fn pki_tool() -> Option<&'static str> {
    let ok = Command::new("pki")
        .arg("--help")
        .output()
        .map(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
        .unwrap_or(false);
    if ok {
        Some("pki")
    } else {
        eprintln!(
            "SKIPPED: strongSwan's `pki` tool is not installed (apt-get install strongswan-pki)"
        );
        None
    }
}

fn run(tool: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool).args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Our issuance checked by strongSwan: every key kind at depth 1, a depth-2 chain of mixed
/// kinds, a revocation through our CRL, and strongSwan's rendering of our subject DNs.
#[test]
fn strongswan_accepts_our_certificates() {
    let Some(tool) = pki_tool() else { return };
    let dir = Scratch::new("ss");
    let start = SystemTime::now() - Duration::from_secs(86_400);
    let validity = Validity::days_from(start, 30);
    let ca_spec = |cn: &str| CaSpec {
        subject: format!("C=CH, O=Rampart Interop, CN={cn}"),
        validity,
        path_len: None,
        serial: None,
    };
    let leaf_spec = |cn: &str| CertSpec {
        subject: format!("C=CH, O=Rampart Interop, OU=a\\, b, CN={cn}"),
        sans: vec![
            Identity::Fqdn(cn.into()),
            Identity::Ipv4("192.0.2.7".parse().unwrap()),
            Identity::Rfc822("vpn@example.org".into()),
        ],
        ekus: vec![Eku::ServerAuth, Eku::IpsecIke],
        validity,
        serial: None,
    };
    for kind in KeyKind::ALL {
        let ca = CertificateAuthority::self_signed(
            &ca_spec(&format!("CA {kind:?}")),
            PrivateKey::generate(kind).unwrap(),
        )
        .unwrap();
        let key = PrivateKey::generate(kind).unwrap();
        let leaf = ca.issue(&leaf_spec("leaf.example.org"), &key).unwrap();
        let ca_path = dir.write("ca.pem", &cert_to_pem(ca.cert_der()));
        let leaf_path = dir.write("leaf.pem", &cert_to_pem(&leaf));
        let (ok, out) = run(
            tool,
            &[
                "--verify",
                "--in",
                leaf_path.to_str().unwrap(),
                "--cacert",
                ca_path.to_str().unwrap(),
            ],
        );
        assert!(ok && out.contains("certificate trusted"), "{kind:?}: {out}");
        let (_, printed) = run(tool, &["--print", "--in", leaf_path.to_str().unwrap()]);
        let ours = pki::Certificate::from_der(&leaf)
            .unwrap()
            .subject()
            .to_string();
        // strongSwan prints values unescaped; we escape ',' as RFC 4514 asks.
        assert_eq!(
            ours,
            "C=CH, O=Rampart Interop, OU=a\\, b, CN=leaf.example.org"
        );
        assert!(
            printed.contains(&format!("subject:  \"{}\"", ours.replace("\\,", ","))),
            "{kind:?}: we say {ours:?}, strongSwan printed {printed}"
        );
        // The key as PKCS#8 PEM is readable by strongSwan too.
        let key_path = dir.write("leaf.key", &key.pkcs8_pem());
        let (ok, out) = run(
            tool,
            &[
                "--keyid",
                "--in",
                key_path.to_str().unwrap(),
                "--type",
                "priv",
            ],
        );
        assert!(ok, "{kind:?}: strongSwan cannot read our key: {out}");
    }

    // Root (P-384) -> intermediate (RSA 2048) -> leaf (Ed25519), then the leaf revoked.
    let root = CertificateAuthority::self_signed(
        &ca_spec("Root"),
        PrivateKey::generate(KeyKind::EcdsaP384).unwrap(),
    )
    .unwrap();
    let int = root
        .issue_intermediate(
            &ca_spec("Intermediate"),
            PrivateKey::generate(KeyKind::Rsa2048).unwrap(),
        )
        .unwrap();
    let key = PrivateKey::generate(KeyKind::Ed25519).unwrap();
    let leaf = int.issue(&leaf_spec("deep.example.org"), &key).unwrap();
    let root_path = dir.write("root.pem", &cert_to_pem(root.cert_der()));
    let int_path = dir.write("int.pem", &cert_to_pem(int.cert_der()));
    let leaf_path = dir.write("deep.pem", &cert_to_pem(&leaf));
    let args = [
        "--verify",
        "--in",
        leaf_path.to_str().unwrap(),
        "--cacert",
        root_path.to_str().unwrap(),
        "--cacert",
        int_path.to_str().unwrap(),
    ];
    let (ok, out) = run(tool, &args);
    assert!(ok && out.contains("certificate trusted"), "{out}");
    let crl = int
        .crl(&CrlSpec {
            this_update: start,
            next_update: start + Duration::from_secs(7 * 86_400),
            number: 1,
            revoked: vec![RevokedEntry {
                serial: pki::Certificate::from_der(&leaf).unwrap().serial().to_vec(),
                revoked_at: start,
            }],
        })
        .unwrap();
    let crl_path = dir.write("int.crl", &crl_to_pem(&crl));
    let mut with_crl = args.to_vec();
    with_crl.extend(["--crl", crl_path.to_str().unwrap()]);
    let (ok, out) = run(tool, &with_crl);
    assert!(
        !ok && out.contains("untrusted"),
        "revoked leaf accepted: {out}"
    );
    let (_, debug) = {
        let mut a = with_crl.clone();
        a.extend(["--debug", "2"]);
        run(tool, &a)
    };
    assert!(debug.contains("crl correctly signed"), "{debug}");
    assert!(debug.contains("certificate was revoked"), "{debug}");
    // And we agree with strongSwan on both.
    let mut s = TrustStore::new();
    s.add_ca(root.cert_der()).unwrap();
    s.verify(&leaf, &[int.cert_der()], SystemTime::now(), Usage::Server)
        .unwrap();
    s.add_crl(&crl).unwrap();
    assert!(matches!(
        s.verify(&leaf, &[int.cert_der()], SystemTime::now(), Usage::Server),
        Err(PkiError::Revoked { .. })
    ));
}

#[test]
fn loading_files() {
    // PEM with several blocks, DER, errors naming the file.
    let dir = Scratch::new("load");
    let a = cert("ec-root.pem");
    let b = cert("ec-int.pem");
    let both = format!("junk before\n{}{}", cert_to_pem(&a), cert_to_pem(&b));
    let p = dir.write("both.pem", &both);
    assert_eq!(pki::load_certs(&p).unwrap(), vec![a.clone(), b]);
    let der_path = dir.0.join("a.der");
    std::fs::write(&der_path, &a).unwrap();
    assert_eq!(pki::load_certs(&der_path).unwrap(), vec![a]);
    let crls = pki::load_crls(&data("ec-int.crl")).unwrap();
    assert_eq!(crls.len(), 1);
    let bad = dir.write(
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    let e = pki::load_certs(&bad).unwrap_err();
    assert!(matches!(e, PkiError::File { .. }));
    assert!(e.to_string().contains("bad.pem"), "{e}");
    let e = pki::load_certs(&dir.0.join("missing.pem")).unwrap_err();
    assert!(e.to_string().contains("missing.pem"), "{e}");
    // A CRL file is not a certificate file.
    let e = pki::load_certs(&data("ec-int.crl")).unwrap_err();
    assert!(e.to_string().contains("ec-int.crl"), "{e}");
    // Keys: our PKCS#8 PEM reads back to the same public key.
    let key = PrivateKey::generate(KeyKind::EcdsaP256).unwrap();
    let kp = dir.write("k.pem", &key.pkcs8_pem());
    assert_eq!(
        pki::load_private_key(&kp).unwrap().spki_der(),
        key.spki_der()
    );
    assert!(pki::load_private_key(&p).is_err());
    // A loaded CA issues certificates that chain to it.
    let ca = common::root(KeyKind::Ed25519, "Loaded");
    let ca_key = pki::load_private_key(&dir.write("ca.key", &ca.key().pkcs8_pem())).unwrap();
    let again = CertificateAuthority::load(ca.cert_der(), ca_key).unwrap();
    let (leaf, _) = common::leaf(
        &again,
        KeyKind::EcdsaP256,
        &common::leaf_spec("l.example.org", &[]),
    );
    common::store(&[&ca])
        .verify(&leaf, &[], common::now(), Usage::Any)
        .unwrap();
    let wrong_key = PrivateKey::generate(KeyKind::Ed25519).unwrap();
    assert!(CertificateAuthority::load(ca.cert_der(), wrong_key).is_err());
}

#[test]
fn eku_of_an_intermediate_restricts_the_chain() {
    let s = trust(&["ec-root.pem"]);
    let int = cert("eku-int.pem");
    let leaf = cert("eku-leaf.pem");
    s.verify(&leaf, &[&int], fixture_now(), Usage::Server)
        .unwrap();
    match s.verify(&leaf, &[&int], fixture_now(), Usage::Client) {
        Err(PkiError::WrongUsage {
            subject, present, ..
        }) => {
            assert_eq!(
                subject,
                "C=CH, O=strongSwan ECDSA, CN=Server-only Intermediate"
            );
            assert_eq!(present, ["serverAuth"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn sha1_signatures_are_refused() {
    let err = trust(&["rsa-root.pem"])
        .verify(&cert("sha1-leaf.pem"), &[], fixture_now(), Usage::Any)
        .unwrap_err();
    assert!(
        matches!(err, PkiError::UnsupportedAlgorithm { .. }),
        "{err:?}"
    );
}
