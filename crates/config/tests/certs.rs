//! Certificates, authorities, DN identities, the legacy-crypto switch and the rekey/DPD/unique
//! keys: valid files load to the expected values, broken ones give exact messages. Certificates
//! are issued here with `pki` into a fresh directory.

use std::path::Path;
use std::time::{Duration, SystemTime};

mod common;

use common::{write, TempDir};
use config::*;
use pki::{
    CaSpec, CertSpec, CertificateAuthority, CrlSpec, Eku, KeyKind, PrivateKey, RevokedEntry,
    Validity,
};
use wire::Identity;

fn validity() -> Validity {
    Validity::days_from(SystemTime::now() - Duration::from_secs(3600), 30)
}

/// A root CA, an intermediate, a leaf "moon" (SANs moon.example.org, 192.0.2.1) with its key,
/// another key, a CRL of the root, written to `dir`: ca.crt, moon.crt (leaf + intermediate),
/// moon.key (0600), moon.der (leaf DER), moon-key.der (PKCS#8 DER, 0600), other.key (0600),
/// ca.crl, leaf-only.crt.
fn files(dir: &Path) {
    let root = CertificateAuthority::self_signed(
        &CaSpec {
            subject: "C=CH, O=Rampart Test, CN=Root CA".into(),
            validity: validity(),
            path_len: None,
            serial: None,
        },
        PrivateKey::generate(KeyKind::EcdsaP256).unwrap(),
    )
    .unwrap();
    let inter = root
        .issue_intermediate(
            &CaSpec {
                subject: "C=CH, O=Rampart Test, CN=Intermediate CA".into(),
                validity: validity(),
                path_len: Some(0),
                serial: None,
            },
            PrivateKey::generate(KeyKind::EcdsaP256).unwrap(),
        )
        .unwrap();
    let key = PrivateKey::generate(KeyKind::EcdsaP256).unwrap();
    let leaf = inter
        .issue(
            &CertSpec {
                subject: "C=CH, O=Rampart Test, CN=moon".into(),
                sans: vec![
                    Identity::Fqdn("moon.example.org".into()),
                    Identity::Ipv4("192.0.2.1".parse().unwrap()),
                ],
                ekus: vec![Eku::IpsecIke],
                validity: validity(),
                serial: Some(vec![0x42]),
            },
            &key,
        )
        .unwrap();
    let crl = root
        .crl(&CrlSpec {
            this_update: SystemTime::now() - Duration::from_secs(60),
            next_update: SystemTime::now() + Duration::from_secs(86_400),
            number: 1,
            revoked: vec![RevokedEntry {
                serial: vec![0x77],
                revoked_at: SystemTime::now() - Duration::from_secs(60),
            }],
        })
        .unwrap();
    write(&dir.join("ca.crt"), root.cert_pem().as_bytes(), 0o644);
    let chain = format!(
        "{}{}",
        pki::cert_to_pem(&leaf),
        pki::cert_to_pem(inter.cert_der())
    );
    write(&dir.join("moon.crt"), chain.as_bytes(), 0o644);
    write(
        &dir.join("leaf-only.crt"),
        pki::cert_to_pem(&leaf).as_bytes(),
        0o644,
    );
    write(&dir.join("moon.der"), &leaf, 0o644);
    write(&dir.join("moon.key"), key.pkcs8_pem().as_bytes(), 0o600);
    write(&dir.join("moon-key.der"), key.pkcs8_der().as_slice(), 0o600);
    let other = PrivateKey::generate(KeyKind::Ed25519).unwrap();
    write(&dir.join("other.key"), other.pkcs8_pem().as_bytes(), 0o600);
    write(&dir.join("ca.crl"), pki::crl_to_pem(&crl).as_bytes(), 0o644);
    write(&dir.join("garbage.crt"), b"not a certificate\n", 0o644);
}

/// A pubkey connection (lines 1-12) with `local_extra` inserted as line 7 (moving the rest
/// down) and `authority` after it (from line 13).
fn conf(local_extra: &str, authority: &str) -> String {
    format!(
        r#"[connections.gw]
remote_addrs = ["192.0.2.2"]
[connections.gw.local]
auth = "pubkey"
cert = "moon.crt"
key = "moon.key"
{local_extra}[connections.gw.remote]
auth = "pubkey"
id = "C=CH, O=Rampart Test, CN=sun"
[connections.gw.children.net]
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/24"]
{authority}"#
    )
}

const AUTHORITY: &str = "[authorities.test]\ncacert = \"ca.crt\"\ncrls = [\"ca.crl\"]\n";

fn load(dir: &Path, text: &str) -> Result<Config, ConfigErrors> {
    let f = dir.join("rampart.toml");
    std::fs::write(&f, text).unwrap();
    Config::load(&f)
}

#[track_caller]
fn check(dir: &Path, text: &str, expected: &[String]) {
    match load(dir, text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => assert_eq!(e.messages(), expected, "\n--- config ---\n{text}"),
    }
}

fn dn(s: &str) -> Identity {
    pki::identity_from_str(s).unwrap()
}

#[test]
fn pubkey_connection_loads_chain_key_and_authority() {
    let d = TempDir::new("ok");
    files(&d.0);
    let c = load(&d.0, &conf("", AUTHORITY)).unwrap();
    let gw = &c.connections[0];
    assert_eq!(gw.local.auth, AuthMethod::Pubkey);
    assert_eq!(gw.local.id, None);
    let lc = gw.local.cert.as_ref().unwrap();
    assert_eq!(lc.cert_path, d.0.join("moon.crt"));
    assert_eq!(lc.key_path, d.0.join("moon.key"));
    assert_eq!(lc.chain.len(), 2, "leaf and intermediate");
    assert_eq!(lc.subject, dn("C=CH, O=Rampart Test, CN=moon"));
    // The key is kept as PKCS#8 and signs; Debug never shows it.
    let k = crypto::sign::SigningKey::from_pkcs8_der(lc.key.as_slice()).unwrap();
    let ee = pki::Certificate::from_der(&lc.chain[0]).unwrap();
    assert_eq!(k.public_key_spki(), ee.spki_der());
    assert!(!format!("{c:?}").contains(&format!("{:?}", lc.key.as_slice())));
    assert_eq!(gw.remote.auth, AuthMethod::Pubkey);
    assert_eq!(gw.remote.id, Some(dn("C=CH, O=Rampart Test, CN=sun")));
    assert_eq!(gw.remote.cert, None);
    let a = &c.authorities[0];
    assert_eq!(a.name, "test");
    assert_eq!(a.cacert_path, d.0.join("ca.crt"));
    assert_eq!((a.cacerts.len(), a.crls.len()), (1, 1));
    assert_eq!(a.crl_paths, vec![d.0.join("ca.crl")]);

    // local.id proven by a subjectAltName, by the subject DN, or by the IP SAN; DER files.
    for id in [
        "moon.example.org",
        "C=CH, O=Rampart Test, CN=moon",
        "192.0.2.1",
    ] {
        let text = conf(&format!("id = \"{id}\"\n"), AUTHORITY)
            .replace("moon.crt", "moon.der")
            .replace("moon.key", "moon-key.der");
        let c = load(&d.0, &text).unwrap();
        assert_eq!(c.connections[0].local.id, Some(dn(id)));
        assert_eq!(c.connections[0].local.cert.as_ref().unwrap().chain.len(), 1);
    }
}

#[test]
fn certificate_errors() {
    let d = TempDir::new("err");
    files(&d.0);
    let p = |f: &str| d.0.join(f).display().to_string();
    let ids = "subject \"C=CH, O=Rampart Test, CN=moon\", subjectAltNames: moon.example.org, \
               192.0.2.1; allowed: the subject DN, or one of the subjectAltNames";
    // The id is not in the certificate: CN alone does not count for an FQDN.
    check(
        &d.0,
        &conf("id = \"moon\"\n", AUTHORITY),
        &[format!(
            "{}:7:6: connections.gw.local.id: identity 'moon' is not proven by certificate {} \
             ({ids})",
            p("rampart.toml"),
            p("moon.crt")
        )],
    );
    check(
        &d.0,
        &conf("id = \"C=CH, O=Rampart Test, CN=sun\"\n", AUTHORITY),
        &[format!(
            "{}:7:6: connections.gw.local.id: identity 'C=CH, O=Rampart Test, CN=sun' is not \
             proven by certificate {} ({ids})",
            p("rampart.toml"),
            p("moon.crt")
        )],
    );
    // A key of another certificate.
    check(
        &d.0,
        &conf("", AUTHORITY).replace("moon.key", "other.key"),
        &[format!(
            "{}:6:7: connections.gw.local.key: key file {} does not belong to certificate {} \
             (subject \"C=CH, O=Rampart Test, CN=moon\"): their public keys differ",
            p("rampart.toml"),
            p("other.key"),
            p("moon.crt")
        )],
    );
    // Key file readable by others: the secret_file rule.
    write(
        &d.0.join("open.key"),
        &std::fs::read(d.0.join("moon.key")).unwrap(),
        0o644,
    );
    check(
        &d.0,
        &conf("", AUTHORITY).replace("moon.key", "open.key"),
        &[format!(
            "{}:6:7: connections.gw.local.key: key file {} has mode 0644, allowed: 0600 or \
             stricter (run: chmod 600 {})",
            p("rampart.toml"),
            p("open.key"),
            p("open.key")
        )],
    );
    // Not a key / not a certificate / missing file.
    write(&d.0.join("notkey.key"), b"hello\n", 0o600);
    check(
        &d.0,
        &conf("", AUTHORITY)
            .replace("moon.key", "notkey.key")
            .replace("moon.crt", "garbage.crt"),
        &[
            format!(
                "{}:5:8: connections.gw.local.cert: cannot load certificate: {}: bad \
                 certificate: no \"CERTIFICATE\" PEM block and not DER (allowed: a PEM or DER \
                 X.509 certificate file, the end entity first, then intermediates)",
                p("rampart.toml"),
                p("garbage.crt")
            ),
            format!(
                "{}:6:7: connections.gw.local.key: key file {} holds no usable private key: \
                 invalid key: no PEM block labelled PRIVATE KEY or RSA PRIVATE KEY or EC PRIVATE \
                 KEY (found: none) (allowed: an unencrypted PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) private key, PEM or \
                 DER, mode 0600)",
                p("rampart.toml"),
                p("notkey.key")
            ),
        ],
    );
    check(
        &d.0,
        &conf("", AUTHORITY).replace("moon.crt", "missing.crt"),
        &[format!(
            "{}:5:8: connections.gw.local.cert: cannot load certificate: {}: No such file or \
             directory (os error 2) (allowed: a PEM or DER X.509 certificate file, the end \
             entity first, then intermediates)",
            p("rampart.toml"),
            p("missing.crt")
        )],
    );
}

#[test]
fn pubkey_needs_cert_key_and_authority() {
    let d = TempDir::new("need");
    files(&d.0);
    let f = d.0.join("rampart.toml").display().to_string();
    let text = conf("", "")
        .replace("cert = \"moon.crt\"\n", "")
        .replace("key = \"moon.key\"\n", "");
    check(
        &d.0,
        &text,
        &[
            format!(
                "{f}:3:1: connections.gw.local: missing required key 'cert' (with auth = \
                 \"pubkey\": our certificate, a PEM or DER X.509 certificate file, the end \
                 entity first, then intermediates, relative to this file's folder)"
            ),
            format!(
                "{f}:3:1: connections.gw.local: missing required key 'key' (with auth = \
                 \"pubkey\": the certificate's private key, an unencrypted PKCS#8, PKCS#1 (RSA) \
                 or SEC 1 (EC) private key, PEM or DER, mode 0600)"
            ),
            format!(
                "{f}:6:8: connections.gw.remote.auth: auth = \"pubkey\" needs a certificate \
                 authority to verify the peer's certificate, but none is configured (add an \
                 [authorities.NAME] table with cacert = \"ca.crt\")"
            ),
        ],
    );
    // cert/key with psk; cert on the remote side.
    let text = conf("", AUTHORITY)
        .replacen("auth = \"pubkey\"", "auth = \"psk\"", 1)
        .replace("id = \"C=CH", "cert = \"x.crt\"\nid = \"C=CH");
    check(
        &d.0,
        &text,
        &[
            format!(
                "{f}:5:8: connections.gw.local.cert: 'cert' is only used with auth = \"pubkey\" \
                 (this side uses auth = \"psk\")"
            ),
            format!(
                "{f}:6:7: connections.gw.local.key: 'key' is only used with auth = \"pubkey\" \
                 (this side uses auth = \"psk\")"
            ),
            format!(
                "{f}:9:1: connections.gw.remote: unknown key 'cert' in connections.gw.remote \
                 (allowed: auth, id)"
            ),
        ],
    );
}

#[test]
fn authority_errors() {
    let d = TempDir::new("ca");
    files(&d.0);
    let p = |f: &str| d.0.join(f).display().to_string();
    let f = p("rampart.toml");
    let base = conf("", "");
    // Lines 14-: the authority.
    check(
        &d.0,
        &format!("{base}[authorities.a]\ncrls = [\"ca.crl\", \"ca.crt\"]\nfoo = 1\n"),
        &[
            format!(
                "{f}:13:1: authorities.a: missing required key 'cacert' (the CA certificate \
                 file, PEM or DER, relative to this file's folder)"
            ),
            format!(
                "{f}:14:19: authorities.a.crls[1]: cannot load CRL: {}: bad CRL: no \"X509 CRL\" \
                 PEM block and not DER (allowed: a PEM or DER X.509 CRL file)",
                p("ca.crt")
            ),
            format!(
                "{f}:15:1: authorities.a: unknown key 'foo' in authorities.a (allowed: cacert, \
                 crls)"
            ),
        ],
    );
    check(
        &d.0,
        &format!("{base}[authorities.leaf]\ncacert = \"leaf-only.crt\"\n"),
        &[format!(
            "{f}:14:10: authorities.leaf.cacert: {} cannot be a trusted CA: bad certificate: \
             \"C=CH, O=Rampart Test, CN=moon\" is not a CA certificate (basicConstraints cA is \
             not set)",
            p("leaf-only.crt")
        )],
    );
    check(
        &d.0,
        &format!("{base}[authorities.\"a b\"]\ncacert = \"nope.crt\"\n"),
        &[
            format!("{f}:13:14: authorities.\"a b\": invalid name 'a b' (allowed: 1 to 64 letters, digits, '_' or '-')"),
            format!(
                "{f}:14:10: authorities.\"a b\".cacert: cannot load CA certificate: {}: No such \
                 file or directory (os error 2) (allowed: a PEM or DER X.509 CA certificate file)",
                p("nope.crt")
            ),
        ],
    );
}

#[test]
fn dn_identities_everywhere() {
    let text = r#"[connections.a]
remote_addrs = ["192.0.2.2"]
[connections.a.local]
auth = "psk"
id = "dn:CN=moon, O=Rampart"
[connections.a.remote]
auth = "psk"
id = "C=CH, O=Rampart, CN=carol"
[connections.a.children.c]
[secrets.ike.s]
ids = ["CN=moon, O=Rampart", "C=CH, O=Rampart, CN=carol"]
secret = "k"
"#;
    let c = Config::parse("r.toml", text).unwrap();
    let (moon, carol) = (dn("CN=moon, O=Rampart"), dn("C=CH, O=Rampart, CN=carol"));
    assert!(matches!(moon, Identity::DerAsn1Dn(_)));
    assert_eq!(c.connections[0].local.id, Some(moon.clone()));
    assert_eq!(c.connections[0].remote.id, Some(carol.clone()));
    assert_eq!(
        c.find_psk(&moon, &carol).map(|k| k.as_slice()),
        Some(&b"k"[..])
    );

    let bad = text.replace(
        "C=CH, O=Rampart, CN=carol\"\n[connections",
        "XX=carol\"\n[connections",
    );
    let errs = Config::parse("r.toml", &bad).unwrap_err().messages();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with(
            "r.toml:8:6: connections.a.remote.id: invalid identity 'XX=carol': bad \
             distinguished name: "
        ) && errs[0].ends_with(", or \"%any\")"),
        "{errs:?}"
    );
}

const BASE: &str = r#"[connections.a]
remote_addrs = ["192.0.2.2"]
[connections.a.local]
auth = "psk"
[connections.a.remote]
auth = "psk"
[connections.a.children.c]
"#;

#[test]
fn legacy_crypto_is_one_named_switch() {
    let text = BASE.replace(
        "remote_addrs = [\"192.0.2.2\"]\n",
        "remote_addrs = [\"192.0.2.2\"]\nproposals = [\"aes256-sha1-modp1024\", \"aes128-sha256-modp2048\"]\n",
    ) + "esp_proposals = [\"aes256-sha1\", \"aes128gcm16-modp1024\", \"aes128-sha1-sha256\"]\n";
    let errs = Config::parse("r.toml", &text).unwrap_err().messages();
    let why = "is legacy crypto (MODP-1024, or SHA-1 as its only PRF or integrity algorithm), \
               refused unless daemon.legacy_crypto = true (see docs/config.md, \"Legacy crypto\")";
    assert_eq!(
        errs,
        [
            format!("r.toml:3:14: connections.a.proposals[0]: proposal 'aes256-sha1-modp1024' {why}"),
            format!("r.toml:9:18: connections.a.children.c.esp_proposals[0]: proposal 'aes256-sha1' {why}"),
            format!("r.toml:9:33: connections.a.children.c.esp_proposals[1]: proposal 'aes128gcm16-modp1024' {why}"),
        ]
    );
    // The same file with the switch on loads; SHA-1 offered next to SHA-2 never needed it.
    let on = format!("[daemon]\nlegacy_crypto = true\n{text}");
    let c = Config::parse("r.toml", &on).unwrap();
    assert!(c.daemon.legacy_crypto);
    assert!(c.connections[0].proposals[0].is_legacy());
    assert_eq!(c.connections[0].children[0].esp_proposals.len(), 3);
    let errs = Config::parse("r.toml", "[daemon]\nlegacy_crypto = \"yes\"\n")
        .unwrap_err()
        .messages();
    assert_eq!(
        errs,
        ["r.toml:2:17: daemon.legacy_crypto: expected true or false, found string"]
    );
}

#[test]
fn rekey_dpd_unique_fragmentation_mobike() {
    let text = BASE.replace(
        "remote_addrs = [\"192.0.2.2\"]\n",
        "remote_addrs = [\"192.0.2.2\"]\nrekey_time = 0\ndpd_action = \"restart\"\n\
         unique = \"keep\"\nfragmentation = false\nmobike = false\n",
    )
        + "rekey_time = \"20m\"\nlife_time = \"30m\"\n[connections.a.children.d]\nrekey_time = 0\n\
          [connections.a.children.e]\nrekey_time = 0\nlife_time = \"2h\"\n\
          [daemon]\nfragment_size = 576\n";
    let c = Config::parse("r.toml", &text).unwrap();
    let a = &c.connections[0];
    assert_eq!(a.rekey_time, Duration::ZERO);
    assert_eq!(a.dpd_action, DpdAction::Restart);
    assert_eq!(a.unique, Unique::Keep);
    assert!(!a.fragmentation && !a.mobike);
    let l = |i: usize| (a.children[i].rekey_time, a.children[i].life_time);
    assert_eq!(l(0), (Duration::from_secs(1200), Duration::from_secs(1800)));
    assert_eq!(l(1), (Duration::ZERO, Duration::ZERO));
    assert_eq!(l(2), (Duration::ZERO, Duration::from_secs(7200)));
    assert_eq!(c.daemon.fragment_size, 576);
    let never = BASE.replace(
        "[connections.a.local]",
        "unique = \"never\"\n[connections.a.local]",
    );
    assert_eq!(
        Config::parse("r.toml", &never).unwrap().connections[0].unique,
        Unique::Never
    );

    let bad = BASE.replace(
        "remote_addrs = [\"192.0.2.2\"]\n",
        "remote_addrs = [\"192.0.2.2\"]\nrekey_time = \"4x\"\ndpd_action = \"hold\"\n\
         unique = \"no\"\nmobike = 1\n",
    ) + "rekey_time = \"1h\"\nlife_time = \"1h\"\n[daemon]\nfragment_size = 100\n";
    assert_eq!(
        Config::parse("r.toml", &bad).unwrap_err().messages(),
        [
            "r.toml:3:14: connections.a.rekey_time: invalid duration '4x' (allowed: a number \
             of seconds, or a string like \"30s\", \"5m\", \"1h\", \"2d\")",
            "r.toml:4:14: connections.a.dpd_action: unknown value 'hold' (allowed: clear, \
             restart)",
            "r.toml:5:10: connections.a.unique: unknown value 'no' (allowed: replace, keep, \
             never)",
            "r.toml:6:10: connections.a.mobike: expected true or false, found integer",
            "r.toml:13:13: connections.a.children.c.life_time: life_time 1h must be longer \
             than rekey_time 1h (a Child SA is rekeyed before it expires; allowed: more than \
             1h, default rekey_time + 10% = 66m)",
            "r.toml:15:17: daemon.fragment_size: 100 is out of range (allowed: 576 to 65535)",
        ]
    );
}
