//! Certificate authentication in memory (RFC 7296 §2.15, RFC 7427): chains with an intermediate
//! CA for every key type, identities of every kind, revocation, a wrong CA, and a chain big
//! enough to need IKEv2 fragmentation.

mod sim;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crypto::sign::SigningKey;
use crypto::SecretBytes;
use ike::{AuthKind, CertUsage, Credentials, Event, LocalCert, PeerCert};
use pki::{
    CaSpec, CertSpec, CertificateAuthority, CrlSpec, Eku, KeyKind, PrivateKey, RevokedEntry,
    TrustStore, Validity,
};
use sim::*;
use wire::Identity;

const GCM: &str = "aes256gcm16-prfsha256-x25519";

struct PkiCreds {
    local: Option<LocalCert>,
    trust: TrustStore,
}

impl Credentials for PkiCreds {
    fn psk(&self, _: &Identity, _: Option<&Identity>) -> Option<SecretBytes> {
        None
    }
    fn local_cert(&self, _: Option<&Identity>) -> Option<LocalCert> {
        self.local.clone()
    }
    fn ca_hashes(&self) -> Vec<[u8; 20]> {
        self.trust.ca_hashes()
    }
    fn verify_peer(
        &self,
        id: &Identity,
        certs: &[Vec<u8>],
        _: CertUsage,
    ) -> Result<PeerCert, String> {
        let (ee, rest) = certs.split_first().ok_or("no certificate")?;
        let rest: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
        let v = self
            .trust
            .verify(ee, &rest, SystemTime::now(), pki::Usage::Any)
            .map_err(|e| e.to_string())?;
        if !v.matches_identity(id) {
            return Err(format!(
                "certificate \"{}\" does not prove '{id}'",
                v.subject_string()
            ));
        }
        Ok(PeerCert {
            spki: v.spki_der().to_vec(),
            subject: v.subject_string(),
        })
    }
}

fn validity() -> Validity {
    Validity::days_from(SystemTime::now() - Duration::from_secs(3600), 30)
}

struct Pki {
    root: CertificateAuthority,
    inter: CertificateAuthority,
}

fn pki(kind: KeyKind) -> Pki {
    let root = CertificateAuthority::self_signed(
        &CaSpec {
            subject: "C=CH, O=Rampart Test, CN=Root CA".into(),
            validity: validity(),
            path_len: None,
            serial: None,
        },
        PrivateKey::generate(kind).unwrap(),
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
            PrivateKey::generate(kind).unwrap(),
        )
        .unwrap();
    Pki { root, inter }
}

/// A certificate for `fqdn` issued by the intermediate, as our credentials.
fn leaf(p: &Pki, kind: KeyKind, cn: &str, sans: Vec<Identity>) -> (LocalCert, Vec<u8>) {
    let key = PrivateKey::generate(kind).unwrap();
    let cert = p
        .inter
        .issue(
            &CertSpec {
                subject: format!("C=CH, O=Rampart Test, CN={cn}"),
                sans,
                ekus: vec![Eku::IpsecIke],
                validity: validity(),
                serial: None,
            },
            &key,
        )
        .unwrap();
    let dn = pki::parse_dn(&format!("C=CH, O=Rampart Test, CN={cn}")).unwrap();
    let signing = SigningKey::from_pkcs8_der(key.pkcs8_der().as_slice()).unwrap();
    (
        LocalCert {
            chain: vec![cert.clone(), p.inter.cert_der().to_vec()],
            key: Arc::new(signing),
            identity: Identity::DerAsn1Dn(dn),
        },
        cert,
    )
}

fn trust(p: &Pki) -> TrustStore {
    let mut t = TrustStore::new();
    t.add_ca(p.root.cert_der()).unwrap();
    t
}

fn cert_pair(kind: KeyKind, ids: Option<(&str, &str)>) -> (Sim, Pki) {
    let p = pki(kind);
    let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    for c in [&mut a, &mut b] {
        c.local_auth = AuthKind::Pubkey;
        c.remote_auth = AuthKind::Pubkey;
        c.local_id = None;
        c.remote_id = None;
    }
    let (la, _) = leaf(
        &p,
        kind,
        "a.example.org",
        vec!["a.example.org".parse().unwrap()],
    );
    let (lb, _) = leaf(
        &p,
        kind,
        "b.example.org",
        vec!["b.example.org".parse().unwrap()],
    );
    if let Some((ia, ib)) = ids {
        a.local_id = Some(ia.parse().unwrap());
        a.remote_id = Some(ib.parse().unwrap());
        b.local_id = Some(ib.parse().unwrap());
        b.remote_id = Some(ia.parse().unwrap());
    }
    let ca = Box::new(PkiCreds {
        local: Some(la),
        trust: trust(&p),
    });
    let cb = Box::new(PkiCreds {
        local: Some(lb),
        trust: trust(&p),
    });
    let sim = Sim::with_dyn_creds(engine_cfg(), engine_cfg(), a, b, ca, cb);
    (sim, p)
}

fn up(sim: &Sim) -> bool {
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    a.len() == 1
        && b.len() == 1
        && a[0].state == "ESTABLISHED"
        && b[0].state == "ESTABLISHED"
        && a[0].children.len() == 1
}

#[test]
fn every_key_type_with_an_intermediate_ca() {
    for kind in [
        KeyKind::Ed25519,
        KeyKind::EcdsaP256,
        KeyKind::EcdsaP384,
        KeyKind::EcdsaP521,
        KeyKind::Rsa2048,
    ] {
        let (mut sim, _) = cert_pair(kind, None);
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        assert!(up(&sim), "{kind:?}: not up: {:#?}", sim.events_a);
        // The identities are the certificates' subject DNs.
        let st = sim.b.status(sim.now);
        assert!(
            matches!(st[0].remote_id, Some(Identity::DerAsn1Dn(_))),
            "{kind:?}"
        );
    }
}

#[test]
fn fqdn_identities_from_subject_alt_names() {
    let (mut sim, _) = cert_pair(KeyKind::EcdsaP256, Some(("a.example.org", "b.example.org")));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert!(up(&sim));
}

#[test]
fn identity_not_in_the_certificate_is_refused() {
    let (mut sim, _) = cert_pair(KeyKind::EcdsaP256, Some(("c.example.org", "b.example.org")));
    sim.initiate_a();
    sim.run_for(Duration::from_secs(30));
    assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
    assert!(sim.events_a.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "AUTHENTICATION_FAILED")
    ));
}

#[test]
fn unknown_ca_is_refused_on_both_sides() {
    // B trusts another root only.
    let other = pki(KeyKind::Ed25519);
    let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    for c in [&mut a, &mut b] {
        c.local_auth = AuthKind::Pubkey;
        c.remote_auth = AuthKind::Pubkey;
        c.local_id = None;
        c.remote_id = None;
    }
    let p = pki(KeyKind::Ed25519);
    let (la, _) = leaf(&p, KeyKind::Ed25519, "a", vec![]);
    let (lb, _) = leaf(&p, KeyKind::Ed25519, "b", vec![]);
    let mut sim = Sim::with_dyn_creds(
        engine_cfg(),
        engine_cfg(),
        a,
        b,
        Box::new(PkiCreds {
            local: Some(la),
            trust: trust(&p),
        }),
        Box::new(PkiCreds {
            local: Some(lb),
            trust: trust(&other),
        }),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(30));
    assert!(sim.a.status(sim.now).is_empty() && sim.b.status(sim.now).is_empty());
}

#[test]
fn revoked_certificate_is_refused() {
    let p = pki(KeyKind::EcdsaP256);
    let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    for c in [&mut a, &mut b] {
        c.local_auth = AuthKind::Pubkey;
        c.remote_auth = AuthKind::Pubkey;
        c.local_id = None;
        c.remote_id = None;
    }
    let (la, cert_a) = leaf(&p, KeyKind::EcdsaP256, "a", vec![]);
    let (lb, _) = leaf(&p, KeyKind::EcdsaP256, "b", vec![]);
    let serial = pki::Certificate::from_der(&cert_a)
        .unwrap()
        .serial()
        .to_vec();
    let crl = p
        .inter
        .crl(&CrlSpec {
            this_update: SystemTime::now() - Duration::from_secs(60),
            next_update: SystemTime::now() + Duration::from_secs(86400),
            number: 1,
            revoked: vec![RevokedEntry {
                serial,
                revoked_at: SystemTime::now() - Duration::from_secs(60),
            }],
        })
        .unwrap();
    let mut tb = trust(&p);
    tb.add_crl(&crl).unwrap();
    let mut sim = Sim::with_dyn_creds(
        engine_cfg(),
        engine_cfg(),
        a,
        b,
        Box::new(PkiCreds {
            local: Some(la),
            trust: trust(&p),
        }),
        Box::new(PkiCreds {
            local: Some(lb),
            trust: tb,
        }),
    );
    sim.initiate_a();
    sim.run_for(Duration::from_secs(30));
    assert!(sim.b.status(sim.now).is_empty());
    assert!(sim.events_a.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "AUTHENTICATION_FAILED")
    ));
}

#[test]
fn big_chain_goes_in_fragments() {
    let (mut sim, _) = cert_pair(KeyKind::Rsa3072, None);
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    assert!(up(&sim));
    let frags = sim
        .sent
        .iter()
        .filter(|(_, t)| ike_bytes(t).and_then(|m| m.get(16)).copied() == Some(53))
        .count();
    assert!(
        frags >= 4,
        "an RSA-3072 chain does not fit 1280 bytes: fragments expected ({frags})"
    );
    assert!(sim.sent.iter().all(|(_, t)| t.payload.len() <= 1280 - 28));
}

/// The responder chooses the connection only in IKE_AUTH, so its IKE_SA_INIT answer carries
/// CERTREQ whenever any connection for those addresses takes certificate clients — also when
/// another (PSK) connection comes first. Clients that send their certificate only when asked
/// depend on it (RFC 7296 §3.7).
#[test]
fn certreq_in_init_when_any_connection_takes_certificates() {
    let init_response_has_certreq = |psk_first: bool| {
        let (mut sim, _) = cert_pair(KeyKind::EcdsaP256, None);
        if psk_first {
            let now = sim.now;
            let (_, mut psk) = default_pair(&[GCM], &["aes256gcm16"]);
            psk.name = "psk-first".into();
            let (_, mut certs) = default_pair(&[GCM], &["aes256gcm16"]);
            certs.local_auth = AuthKind::Pubkey;
            certs.remote_auth = AuthKind::Pubkey;
            certs.local_id = None;
            certs.remote_id = None;
            sim.b.update_connections(now, vec![psk, certs]);
        }
        sim.initiate_a();
        sim.run_for(Duration::from_secs(1));
        assert!(up(&sim), "psk_first {psk_first}: not up");
        let (_, t) = sim
            .sent
            .iter()
            .find(|(w, t)| *w == 'b' && exchange_of(t) == Some(34))
            .expect("an IKE_SA_INIT response");
        let m = wire::ike::Message::parse(ike_bytes(t).unwrap()).unwrap();
        m.payloads
            .iter()
            .any(|p| matches!(p, wire::ike::Payload::CertReq { .. }))
    };
    assert!(init_response_has_certreq(false));
    assert!(init_response_has_certreq(true), "PSK connection first");
}
