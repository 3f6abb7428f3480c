//! The engine's credentials (`ike::Credentials`) over the configuration: pre-shared keys from
//! `[secrets.ike.*]`, our certificates and keys from `local.cert`/`local.key`, and a trust store
//! of every `[authorities.*]` CA with its CRLs (RFC 5280 §6, via the `pki` crate). Clones share
//! one store behind a lock, so that `reload` swaps everything (new CRLs included) while the
//! engine holds its clone.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crypto::sign::SigningKey;
use crypto::SecretBytes;
use ike::{CertUsage, LocalCert, PeerCert};
use wire::Identity;

/// One of our certificates.
struct Local {
    /// The `local.id` of the connection it came from (`None`: the subject DN).
    configured_id: Option<Identity>,
    /// The end entity, to match identities against (RFC 4945 §3.1).
    cert: pki::Certificate,
    /// What the engine gets.
    local: LocalCert,
}

/// Everything the credentials answer from.
struct Store {
    /// The configuration (for the PSK lookup).
    cfg: config::Config,
    /// Our certificates, in connection order, one per distinct certificate.
    locals: Vec<Local>,
    /// Every configured CA and CRL.
    trust: pki::TrustStore,
}

impl Store {
    fn build(cfg: &config::Config) -> Result<Store, String> {
        let mut trust = pki::TrustStore::new();
        for a in &cfg.authorities {
            for der in &a.cacerts {
                trust
                    .add_ca(der)
                    .map_err(|e| format!("authorities.{}: {e}", a.name))?;
            }
            for der in &a.crls {
                trust
                    .add_crl(der)
                    .map_err(|e| format!("authorities.{}: {e}", a.name))?;
            }
        }
        let mut locals: Vec<Local> = Vec::new();
        for c in &cfg.connections {
            let Some(lc) = &c.local.cert else { continue };
            if locals
                .iter()
                .any(|l| l.local.chain == lc.chain && l.configured_id == c.local.id)
            {
                continue;
            }
            let what = || format!("connections.{}.local", c.name);
            let ee = lc
                .chain
                .first()
                .ok_or_else(|| format!("{}: empty certificate file", what()))
                .and_then(|d| {
                    pki::Certificate::from_der(d).map_err(|e| format!("{}: {e}", what()))
                })?;
            let key = SigningKey::from_pkcs8_der(lc.key.as_slice())
                .map_err(|e| format!("{}: {e}", what()))?;
            locals.push(Local {
                configured_id: c.local.id.clone(),
                cert: ee,
                local: LocalCert {
                    chain: lc.chain.clone(),
                    key: Arc::new(key),
                    identity: lc.subject.clone(),
                },
            });
        }
        Ok(Store {
            cfg: cfg.clone(),
            locals,
            trust,
        })
    }

    /// Our certificate for `id`: one whose connection names `id`, else one that proves it;
    /// with no id, the first certificate of a connection without `local.id`, else the first.
    fn local_cert(&self, id: Option<&Identity>) -> Option<&Local> {
        match id {
            Some(id) => self
                .locals
                .iter()
                .find(|l| l.configured_id.as_ref().is_some_and(|c| c.matches(id)))
                .or_else(|| self.locals.iter().find(|l| l.cert.matches_identity(id))),
            None => self
                .locals
                .iter()
                .find(|l| l.configured_id.is_none())
                .or_else(|| self.locals.first()),
        }
    }

    fn verify_peer(
        &self,
        id: &Identity,
        certs: &[Vec<u8>],
        usage: CertUsage,
    ) -> Result<PeerCert, String> {
        let (ee, rest) = certs
            .split_first()
            .ok_or_else(|| "no certificate".to_string())?;
        let intermediates: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
        let usage = match usage {
            CertUsage::Server => pki::Usage::Server,
            CertUsage::Client => pki::Usage::Client,
            CertUsage::Any => pki::Usage::Any,
        };
        let v = self
            .trust
            .verify(ee, &intermediates, SystemTime::now(), usage)
            .map_err(|e| e.to_string())?;
        if !v.matches_identity(id) {
            let sans: Vec<String> = v
                .subject_alt_names()
                .iter()
                .map(pki::identity_to_string)
                .collect();
            return Err(format!(
                "certificate \"{}\" does not prove identity '{}' (subjectAltNames: {})",
                v.subject_string(),
                pki::identity_to_string(id),
                if sans.is_empty() {
                    "none".to_string()
                } else {
                    sans.join(", ")
                }
            ));
        }
        Ok(PeerCert {
            spki: v.spki_der().to_vec(),
            subject: v.subject_string(),
        })
    }
}

/// A certificate for `list_certs`.
fn cert_info(c: &pki::Certificate, has_private_key: bool) -> control::CertInfo {
    control::CertInfo {
        kind: if c.is_ca() { "ca" } else { "end_entity" }.into(),
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        serial: c.serial().iter().map(|b| format!("{b:02x}")).collect(),
        not_before: rfc3339(c.not_before()),
        not_after: rfc3339(c.not_after()),
        subject_alt_names: c
            .subject_alt_names()
            .iter()
            .map(pki::identity_to_string)
            .collect(),
        has_private_key,
    }
}

/// RFC 3339 UTC (`2026-11-27T05:58:46Z`) from pki's `2026-11-27 05:58:46 UTC`.
fn rfc3339(t: SystemTime) -> String {
    let s = pki::fmt_time(t);
    let s = s.strip_suffix(" UTC").unwrap_or(&s);
    format!("{}Z", s.replacen(' ', "T", 1))
}

/// The daemon's credentials. Clones share the store.
#[derive(Clone)]
pub struct ConfigCredentials {
    store: Arc<RwLock<Store>>,
}

impl std::fmt::Debug for ConfigCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigCredentials").finish_non_exhaustive()
    }
}

/// A store built from a configuration, ready to be swapped in (see
/// [`ConfigCredentials::replace`]).
pub struct Prepared(Store);

impl ConfigCredentials {
    /// Credentials over a configuration. Fails only on what `config` could not check (a key
    /// that aws-lc refuses after all).
    pub fn new(cfg: &config::Config) -> Result<Self, String> {
        Ok(Self {
            store: Arc::new(RwLock::new(Store::build(cfg)?)),
        })
    }

    /// Builds the credentials of `cfg` without using them yet (reload checks this before it
    /// changes anything).
    pub fn prepare(cfg: &config::Config) -> Result<Prepared, String> {
        Store::build(cfg).map(Prepared)
    }

    /// Uses `p` from now on (reload): PSKs, certificates, CAs and CRLs.
    pub fn replace(&self, p: Prepared) {
        match self.store.write() {
            Ok(mut g) => *g = p.0,
            Err(poisoned) => *poisoned.into_inner() = p.0,
        }
    }

    /// `list_certs` (docs/control.md): our end entities (with their keys), the intermediates
    /// we send, and the trusted CAs, each once.
    pub fn list_certs(&self) -> control::ListCertsResult {
        let g = self.read();
        let mut out: Vec<control::CertInfo> = Vec::new();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut push = |der: &[u8], has_key: bool| {
            if seen.iter().any(|d| d == der) {
                return;
            }
            seen.push(der.to_vec());
            if let Ok(c) = pki::Certificate::from_der(der) {
                out.push(cert_info(&c, has_key));
            }
        };
        for l in &g.locals {
            for (i, der) in l.local.chain.iter().enumerate() {
                push(der, i == 0);
            }
        }
        for ca in g.trust.cas() {
            push(ca.der(), false);
        }
        control::ListCertsResult { certificates: out }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        match self.store.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

impl ike::Credentials for ConfigCredentials {
    fn describe(&self, id: &Identity) -> String {
        pki::identity_to_string(id)
    }

    /// `Config::find_psk_opt`: strict for road-warrior PSK connections (only a key naming the
    /// client applies; docs/config.md "Identities and keys of road warriors").
    fn psk(&self, local: &Identity, remote: Option<&Identity>) -> Option<SecretBytes> {
        self.read().cfg.find_psk_opt(local, remote).cloned()
    }

    fn local_cert(&self, local: Option<&Identity>) -> Option<LocalCert> {
        self.read().local_cert(local).map(|l| l.local.clone())
    }

    fn ca_hashes(&self) -> Vec<[u8; 20]> {
        self.read().trust.ca_hashes()
    }

    /// `[secrets.eap.*]` (config checked the password is UTF-8).
    fn eap_password(&self, user: &str) -> Option<zeroize::Zeroizing<String>> {
        let g = self.read();
        let secret = g.cfg.eap_password(user)?;
        std::str::from_utf8(secret.as_slice())
            .ok()
            .map(|p| zeroize::Zeroizing::new(p.to_string()))
    }

    fn verify_peer(
        &self,
        id: &Identity,
        certs: &[Vec<u8>],
        usage: CertUsage,
    ) -> Result<PeerCert, String> {
        self.read().verify_peer(id, certs, usage)
    }
}

#[cfg(test)]
mod tests {
    //! The glue in process: certificates chosen by identity, chains verified against the
    //! configured CAs, identities and CRLs enforced, and a reload that brings a new CRL.

    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use pki::{
        CaSpec, CertSpec, CertificateAuthority, CrlSpec, Eku, KeyKind, PrivateKey, RevokedEntry,
        Validity,
    };

    use super::*;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn validity() -> Validity {
        Validity::days_from(SystemTime::now() - Duration::from_secs(3600), 30)
    }

    fn ca(subject: &str) -> CertificateAuthority {
        CertificateAuthority::self_signed(
            &CaSpec {
                subject: subject.into(),
                validity: validity(),
                path_len: None,
                serial: None,
            },
            PrivateKey::generate(KeyKind::EcdsaP256).unwrap(),
        )
        .unwrap()
    }

    fn leaf(
        ca: &CertificateAuthority,
        cn: &str,
        san: &str,
        serial: u8,
        kind: KeyKind,
    ) -> (Vec<u8>, PrivateKey) {
        let key = PrivateKey::generate(kind).unwrap();
        let cert = ca
            .issue(
                &CertSpec {
                    subject: format!("C=CH, O=Rampart Test, CN={cn}"),
                    sans: vec![Identity::Fqdn(san.into())],
                    ekus: vec![Eku::IpsecIke],
                    validity: validity(),
                    serial: Some(vec![serial]),
                },
                &key,
            )
            .unwrap();
        (cert, key)
    }

    fn write(path: &Path, bytes: &[u8], mode: u32) {
        std::fs::write(path, bytes).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn crl(ca: &CertificateAuthority, number: u64, revoked: &[u8]) -> String {
        pki::crl_to_pem(
            &ca.crl(&CrlSpec {
                this_update: SystemTime::now() - Duration::from_secs(number * 10),
                next_update: SystemTime::now() + Duration::from_secs(86_400),
                number,
                revoked: revoked
                    .iter()
                    .map(|s| RevokedEntry {
                        serial: vec![*s],
                        revoked_at: SystemTime::now() - Duration::from_secs(5),
                    })
                    .collect(),
            })
            .unwrap(),
        )
    }

    const CONF: &str = r#"
[connections.a]
remote_addrs = ["192.0.2.2"]
[connections.a.local]
auth = "pubkey"
cert = "a.crt"
key = "a.key"
[connections.a.remote]
auth = "pubkey"
[connections.a.children.ca]
[connections.b]
remote_addrs = ["192.0.2.3"]
[connections.b.local]
auth = "pubkey"
cert = "b.crt"
key = "b.key"
id = "b.example.org"
[connections.b.remote]
auth = "psk"
id = "peer.example.org"
[connections.b.children.cb]
[secrets.ike.b]
ids = ["b.example.org", "peer.example.org"]
secret = "psk-of-b"
[authorities.test]
cacert = "ca.crt"
crls = ["ca.crl"]
"#;

    #[test]
    fn certificates_identities_crls_and_reload() {
        let dir = Dir(std::env::temp_dir().join(format!("rampart-creds-{}", std::process::id())));
        std::fs::create_dir_all(&dir.0).unwrap();
        let d = &dir.0;
        let root = ca("C=CH, O=Rampart Test, CN=Root CA");
        let (a, a_key) = leaf(&root, "a", "a.example.org", 1, KeyKind::Ed25519);
        let (b, b_key) = leaf(&root, "b", "b.example.org", 2, KeyKind::Rsa2048);
        let (peer, _) = leaf(&root, "peer", "peer.example.org", 3, KeyKind::EcdsaP256);
        write(&d.join("ca.crt"), root.cert_pem().as_bytes(), 0o644);
        write(&d.join("ca.crl"), crl(&root, 1, &[]).as_bytes(), 0o644);
        write(&d.join("a.crt"), pki::cert_to_pem(&a).as_bytes(), 0o644);
        write(&d.join("b.crt"), pki::cert_to_pem(&b).as_bytes(), 0o644);
        write(&d.join("a.key"), a_key.pkcs8_pem().as_bytes(), 0o600);
        write(&d.join("b.key"), b_key.pkcs8_pem().as_bytes(), 0o600);
        let file = d.join("rampart.toml");
        std::fs::write(&file, CONF).unwrap();
        let cfg = config::Config::load(&file).unwrap();
        let creds = ConfigCredentials::new(&cfg).unwrap();
        let engine_copy: Box<dyn ike::Credentials> = Box::new(creds.clone());

        // Our certificates: by the connection's id, by what a certificate proves, default.
        let a_dn = pki::identity_from_str("C=CH, O=Rampart Test, CN=a").unwrap();
        let b_id = Identity::Fqdn("b.example.org".into());
        let pick = |id: Option<&Identity>| engine_copy.local_cert(id).map(|c| c.chain);
        assert_eq!(pick(None), Some(vec![a.clone()]));
        assert_eq!(pick(Some(&b_id)), Some(vec![b.clone()]));
        assert_eq!(pick(Some(&a_dn)), Some(vec![a.clone()]));
        assert_eq!(pick(Some(&Identity::Fqdn("x.example.org".into()))), None);
        let la = engine_copy.local_cert(None).unwrap();
        assert_eq!(la.identity, a_dn);
        // The key signs, and the certificate's key verifies it.
        let scheme = crypto::sign::SignatureScheme::Ed25519;
        let sig = la.key.sign(scheme, b"octets").unwrap();
        let ee = pki::Certificate::from_der(&a).unwrap();
        let vk = crypto::sign::VerifyingKey::from_spki(ee.spki_der()).unwrap();
        assert!(vk.verify(scheme, b"octets", &sig).is_ok());
        assert_eq!(engine_copy.ca_hashes(), vec![root.certificate().key_hash()]);
        let listed = creds.list_certs().certificates;
        let kinds: Vec<(&str, &str, bool)> = listed
            .iter()
            .map(|c| (c.kind.as_str(), c.subject.as_str(), c.has_private_key))
            .collect();
        assert_eq!(
            kinds,
            [
                ("end_entity", "C=CH, O=Rampart Test, CN=a", true),
                ("end_entity", "C=CH, O=Rampart Test, CN=b", true),
                ("ca", "C=CH, O=Rampart Test, CN=Root CA", false),
            ]
        );
        assert_eq!(listed[0].serial, "01");
        assert_eq!(listed[0].subject_alt_names, ["a.example.org"]);
        assert!(
            listed[0].not_after.ends_with('Z') && listed[0].not_after.as_bytes()[10] == b'T',
            "{}",
            listed[0].not_after
        );

        // The peer: verified, identity checked.
        let peer_id = Identity::Fqdn("peer.example.org".into());
        let ok = engine_copy
            .verify_peer(&peer_id, std::slice::from_ref(&peer), CertUsage::Any)
            .unwrap();
        assert_eq!(ok.subject, "C=CH, O=Rampart Test, CN=peer");
        let e = engine_copy
            .verify_peer(&b_id, std::slice::from_ref(&peer), CertUsage::Any)
            .unwrap_err();
        assert_eq!(
            e,
            "certificate \"C=CH, O=Rampart Test, CN=peer\" does not prove identity \
             'b.example.org' (subjectAltNames: peer.example.org)"
        );
        assert_eq!(
            engine_copy
                .verify_peer(&peer_id, &[], CertUsage::Any)
                .unwrap_err(),
            "no certificate"
        );
        // A chain from another CA.
        let other = ca("C=CH, O=Elsewhere, CN=Other CA");
        let (stranger, _) = leaf(&other, "peer", "peer.example.org", 3, KeyKind::EcdsaP256);
        let e = engine_copy
            .verify_peer(&peer_id, &[stranger], CertUsage::Any)
            .unwrap_err();
        assert!(e.contains("unknown issuer"), "{e}");
        // PSKs still answer.
        assert_eq!(
            engine_copy
                .psk(&b_id, Some(&peer_id))
                .map(|k| k.as_slice().to_vec()),
            Some(b"psk-of-b".to_vec())
        );

        // Reload with a CRL that revokes the peer: the engine's copy refuses it at once.
        write(&d.join("ca.crl"), crl(&root, 2, &[3]).as_bytes(), 0o644);
        let cfg2 = config::Config::load(&file).unwrap();
        creds.replace(ConfigCredentials::prepare(&cfg2).unwrap());
        let e = engine_copy
            .verify_peer(&peer_id, std::slice::from_ref(&peer), CertUsage::Any)
            .unwrap_err();
        assert!(
            e.contains("is revoked by the CRL of \"C=CH, O=Rampart Test, CN=Root CA\""),
            "{e}"
        );
    }
}
