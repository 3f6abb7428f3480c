//! EAP-MSCHAPv2 inside IKE_AUTH (RFC 7296 §2.16): a road-warrior client with a user name and
//! password against a server with a certificate and an address pool.

mod sim;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crypto::sign::SigningKey;
use crypto::SecretBytes;
use ike::{AuthKind, CertUsage, Credentials, Event, LocalCert, PeerCert};
use pki::{CaSpec, CertSpec, CertificateAuthority, Eku, KeyKind, PrivateKey, TrustStore, Validity};
use sim::*;
use wire::Identity;
use zeroize::Zeroizing;

const GCM: &str = "aes256gcm16-prfsha256-x25519";

struct Creds {
    local: Option<LocalCert>,
    trust: Option<TrustStore>,
    users: Vec<(&'static str, &'static str)>,
    psk: Option<&'static str>,
}

impl Credentials for Creds {
    fn psk(&self, _: &Identity, _: Option<&Identity>) -> Option<SecretBytes> {
        self.psk.map(|k| SecretBytes::from_slice(k.as_bytes()))
    }
    fn local_cert(&self, _: Option<&Identity>) -> Option<LocalCert> {
        self.local.clone()
    }
    fn verify_peer(
        &self,
        id: &Identity,
        certs: &[Vec<u8>],
        _: CertUsage,
    ) -> Result<PeerCert, String> {
        let trust = self.trust.as_ref().ok_or("no CA")?;
        let (ee, rest) = certs.split_first().ok_or("no certificate")?;
        let rest: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
        let v = trust
            .verify(ee, &rest, SystemTime::now(), pki::Usage::Server)
            .map_err(|e| e.to_string())?;
        if !v.matches_identity(id) {
            return Err("identity not in certificate".into());
        }
        Ok(PeerCert {
            spki: v.spki_der().to_vec(),
            subject: v.subject_string(),
        })
    }
    fn eap_password(&self, user: &str) -> Option<Zeroizing<String>> {
        self.users
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, p)| Zeroizing::new(p.to_string()))
    }
}

struct Pool(Vec<std::net::IpAddr>);

impl ike::Pools for Pool {
    fn acquire(
        &mut self,
        _: &str,
        _: &Identity,
        wish: std::net::IpAddr,
    ) -> Option<std::net::IpAddr> {
        let i = self.0.iter().position(|a| a.is_ipv4() == wish.is_ipv4())?;
        Some(self.0.remove(i))
    }
    fn release(&mut self, _: &str, _: &Identity, addr: std::net::IpAddr) {
        self.0.push(addr);
    }
}

fn server_cert() -> (LocalCert, TrustStore) {
    let v = Validity::days_from(SystemTime::now() - Duration::from_secs(3600), 30);
    let ca = CertificateAuthority::self_signed(
        &CaSpec {
            subject: "C=CH, O=Rampart Test, CN=VPN CA".into(),
            validity: v,
            path_len: None,
            serial: None,
        },
        PrivateKey::generate(KeyKind::EcdsaP256).unwrap(),
    )
    .unwrap();
    let key = PrivateKey::generate(KeyKind::EcdsaP256).unwrap();
    let cert = ca
        .issue(
            &CertSpec {
                subject: "C=CH, O=Rampart Test, CN=vpn.example.org".into(),
                sans: vec!["vpn.example.org".parse().unwrap()],
                ekus: vec![Eku::ServerAuth, Eku::IpsecIke],
                validity: v,
                serial: None,
            },
            &key,
        )
        .unwrap();
    let signing = SigningKey::from_pkcs8_der(key.pkcs8_der().as_slice()).unwrap();
    let mut t = TrustStore::new();
    t.add_ca(ca.cert_der()).unwrap();
    (
        LocalCert {
            chain: vec![cert],
            key: Arc::new(signing),
            identity: "vpn.example.org".parse().unwrap(),
        },
        t,
    )
}

/// Client (A) and server (B) configurations and credentials.
fn parts(client_pw: &'static str) -> (ike::IkeConfig, ike::IkeConfig, Box<Creds>, Box<Creds>) {
    let (cert, trust) = server_cert();
    let (mut a, mut b) = default_pair(&[GCM], &["aes256gcm16"]);
    a.local_auth = AuthKind::Eap;
    a.remote_auth = AuthKind::Pubkey;
    a.local_id = Some("192.0.2.1".parse().unwrap());
    a.eap_id = Some("alice".into());
    a.remote_id = Some("vpn.example.org".parse().unwrap());
    a.vips = vec!["0.0.0.0".parse().unwrap()];
    a.children[0].local_ts = vec![ike::TsConfig::Dynamic];
    b.local_auth = AuthKind::Pubkey;
    b.remote_auth = AuthKind::Eap;
    b.local_id = Some("vpn.example.org".parse().unwrap());
    b.remote_id = None;
    b.remote_addrs = vec![ike::PeerAddr::Any];
    b.pools = vec!["rw".into()];
    b.children[0].remote_ts = vec![ike::TsConfig::Dynamic];
    let ca = Box::new(Creds {
        local: None,
        trust: Some(trust),
        users: vec![("alice", client_pw)],
        psk: None,
    });
    let cb = Box::new(Creds {
        local: Some(cert),
        trust: None,
        users: vec![("alice", "s3cret-Pw")],
        psk: Some("carol-only-psk-0123456789"),
    });
    (a, b, ca, cb)
}

fn build(a: ike::IkeConfig, b: ike::IkeConfig, ca: Box<Creds>, cb: Box<Creds>) -> Sim {
    let mut sim = Sim::with_dyn_creds(engine_cfg(), engine_cfg(), a, b, ca, cb);
    sim.b
        .set_pools(Box::new(Pool(vec!["198.51.100.200".parse().unwrap()])));
    sim
}

fn setup(client_pw: &'static str) -> Sim {
    let (a, b, ca, cb) = parts(client_pw);
    build(a, b, ca, cb)
}

#[test]
fn eap_mschapv2_road_warrior() {
    let mut sim = setup("s3cret-Pw");
    sim.initiate_a();
    sim.run_for(Duration::from_secs(1));
    let (a, b) = (sim.a.status(sim.now), sim.b.status(sim.now));
    assert_eq!(a.len(), 1, "{:#?}", sim.events_a);
    assert_eq!(a[0].state, "ESTABLISHED");
    assert_eq!(b[0].state, "ESTABLISHED");
    assert_eq!(a[0].children.len(), 1);
    assert_eq!(b[0].children.len(), 1);
    assert_eq!(
        b[0].remote_id,
        Some("alice".parse().unwrap()),
        "the server knows the EAP user"
    );
    assert_eq!(
        a[0].virtual_ips,
        vec!["198.51.100.200".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(a[0].children[0].spi_in, b[0].children[0].spi_out);
    // IKE_SA_INIT, then IKE_AUTH: first (no AUTH), EAP-Identity, MS-CHAPv2 response, success
    // ack, final AUTH: 6 requests and 6 responses in all.
    assert_eq!(sim.sent.len(), 12);
}

#[test]
fn eap_wrong_password_is_refused() {
    let mut sim = setup("wrong");
    sim.initiate_a();
    sim.run_for(Duration::from_secs(60));
    assert!(sim.a.status(sim.now).is_empty());
    assert!(sim.b.status(sim.now).is_empty());
    assert!(sim.events_a.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "AUTHENTICATION_FAILED")
    ));
    assert!(sim.events_b.iter().any(
        |e| matches!(e, Event::IkeSaDown { reason, .. } if reason == "AUTHENTICATION_FAILED")
    ));
}

/// One server, two `%any` connections with the same pool: PSK clients and EAP clients. The
/// connection is chosen by the client's authentication method too (no AUTH payload in the
/// first IKE_AUTH = EAP, RFC 7296 §2.16), whichever comes first in the configuration.
#[test]
fn psk_and_eap_clients_share_a_server() {
    for eap_first in [true, false] {
        for eap_client in [true, false] {
            let (mut a, eap, mut ca, cb) = parts("s3cret-Pw");
            let mut psk = eap.clone();
            psk.name = "rw-psk".into();
            psk.local_auth = AuthKind::Psk;
            psk.remote_auth = AuthKind::Psk;
            let mut eap = eap;
            eap.name = "rw-eap".into();
            if !eap_client {
                a.local_auth = AuthKind::Psk;
                a.remote_auth = AuthKind::Psk;
                a.eap_id = None;
                a.local_id = Some("carol@example.org".parse().unwrap());
                ca.psk = Some("carol-only-psk-0123456789");
            }
            let mut sim = build(a, eap.clone(), ca, cb);
            let now = sim.now;
            let conns = if eap_first {
                vec![eap, psk]
            } else {
                vec![psk, eap]
            };
            sim.b.update_connections(now, conns);
            sim.initiate_a();
            sim.run_for(Duration::from_secs(1));
            let b = sim.b.status(sim.now);
            let want = if eap_client { "rw-eap" } else { "rw-psk" };
            assert_eq!(b.len(), 1, "eap_first {eap_first}, eap_client {eap_client}");
            assert_eq!(b[0].state, "ESTABLISHED");
            assert_eq!(b[0].connection, want, "eap_first {eap_first}");
            assert_eq!(
                sim.a.status(sim.now)[0].virtual_ips,
                vec!["198.51.100.200".parse::<std::net::IpAddr>().unwrap()]
            );
        }
    }
}
