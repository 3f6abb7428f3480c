//! The VPN's own small PKI (RFC 5280), issued with the `pki` crate: a root CA, the server's
//! certificate, client certificates and the CRL.
//!
//! Keys are RSA-2048 (PKCS #1 v1.5 signatures with SHA-256): the one kind every built-in
//! client takes (Android's "IKEv2/IPsec RSA", Windows machine certificates, Apple). Profiles
//! (RFC 4945 §5.1.3): the server certificate carries EKU serverAuth (Windows and macOS
//! require it) and ipsecIKE, subjectAltNames = its address and DNS name (the identities clients
//! check, RFC 4945 §3.1); client certificates carry EKU clientAuth and a dNSName with the
//! client's identity.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use pki::{
    CaSpec, CertSpec, CertificateAuthority, CrlSpec, Eku, KeyKind, PrivateKey, RevokedEntry,
    Validity,
};
use wire::Identity;

use crate::ProfileError;

/// Key type of everything issued here.
pub const KEY_KIND: KeyKind = KeyKind::Rsa2048;
/// CA lifetime.
pub const CA_DAYS: u64 = 3650;
/// Server and client certificate lifetime.
pub const CERT_DAYS: u64 = 1825;
/// How long a CRL stays current (nextUpdate, RFC 5280 §5.1.2.5); a new one is written at
/// every revocation.
pub const CRL_DAYS: u64 = 1825;

/// A certificate with its freshly made key.
#[derive(Debug)]
pub struct Issued {
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// Its private key.
    pub key: PrivateKey,
}

/// Back-dates notBefore an hour so clocks a little behind accept a new certificate.
fn start(now: SystemTime) -> SystemTime {
    now.checked_sub(Duration::from_secs(3600)).unwrap_or(now)
}

/// Characters safe in a DN value written in strongSwan's text form.
fn dn_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_@:".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A new root CA, `O=Rampart, CN=Rampart CA <label>`.
pub fn new_ca(label: &str, now: SystemTime) -> Result<CertificateAuthority, ProfileError> {
    let spec = CaSpec {
        subject: format!("O=Rampart, CN=Rampart CA {}", dn_value(label)),
        validity: Validity::days_from(start(now), CA_DAYS),
        path_len: Some(0),
        serial: None,
    };
    Ok(CertificateAuthority::self_signed(
        &spec,
        PrivateKey::generate(KEY_KIND)?,
    )?)
}

/// The server's certificate: `CN=<dns name or address>`, SANs = `addresses` and
/// `dns_names`, EKU serverAuth + ipsecIKE.
pub fn server_cert(
    ca: &CertificateAuthority,
    addresses: &[IpAddr],
    dns_names: &[String],
    now: SystemTime,
) -> Result<Issued, ProfileError> {
    let cn = dns_names
        .first()
        .cloned()
        .or_else(|| addresses.first().map(IpAddr::to_string))
        .ok_or_else(|| ProfileError::Invalid("the server needs an address or a name".into()))?;
    let mut sans: Vec<Identity> = dns_names
        .iter()
        .map(|n| Identity::Fqdn(n.clone()))
        .collect();
    sans.extend(addresses.iter().map(|a| match a {
        IpAddr::V4(a) => Identity::Ipv4(*a),
        IpAddr::V6(a) => Identity::Ipv6(*a),
    }));
    let spec = CertSpec {
        subject: format!("O=Rampart, CN={}", dn_value(&cn)),
        sans,
        ekus: vec![Eku::ServerAuth, Eku::IpsecIke],
        validity: Validity::days_from(start(now), CERT_DAYS),
        serial: None,
    };
    let key = PrivateKey::generate(KEY_KIND)?;
    let cert_der = ca.issue(&spec, &key)?;
    Ok(Issued { cert_der, key })
}

/// A client certificate: `O=Rampart, CN=<id>`, dNSName `<id>` (the IKE identity a client
/// sends, ID_FQDN), EKU clientAuth.
pub fn client_cert(
    ca: &CertificateAuthority,
    id: &str,
    now: SystemTime,
) -> Result<Issued, ProfileError> {
    let spec = CertSpec {
        subject: format!("O=Rampart, CN={}", dn_value(id)),
        sans: vec![Identity::Fqdn(id.to_string())],
        ekus: vec![Eku::ClientAuth],
        validity: Validity::days_from(start(now), CERT_DAYS),
        serial: None,
    };
    let key = PrivateKey::generate(KEY_KIND)?;
    let cert_der = ca.issue(&spec, &key)?;
    Ok(Issued { cert_der, key })
}

/// A CRL (RFC 5280 §5) listing `revoked` (serial octets, revocation time). `number` must
/// grow with each CRL (cRLNumber, §5.2.3).
pub fn crl(
    ca: &CertificateAuthority,
    revoked: &[(Vec<u8>, SystemTime)],
    number: u64,
    now: SystemTime,
) -> Result<Vec<u8>, ProfileError> {
    let this_update = start(now);
    let spec = CrlSpec {
        this_update,
        next_update: this_update + Duration::from_secs(CRL_DAYS * 86_400),
        number,
        revoked: revoked
            .iter()
            .map(|(serial, at)| RevokedEntry {
                serial: serial.clone(),
                revoked_at: *at,
            })
            .collect(),
    };
    Ok(ca.crl(&spec)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ekus_and_sans() {
        let now = SystemTime::now();
        let ca = new_ca("test", now).unwrap();
        let addr: IpAddr = "203.0.113.1".parse().unwrap();
        let srv = server_cert(&ca, &[addr], &["vpn.example.org".into()], now).unwrap();
        let cert = pki::Certificate::from_der(&srv.cert_der).unwrap();
        assert!(cert.matches_identity(&Identity::Fqdn("vpn.example.org".into())));
        assert!(cert.matches_identity(&Identity::Ipv4("203.0.113.1".parse().unwrap())));
        let cli = client_cert(&ca, "alice", now).unwrap();
        let c = pki::Certificate::from_der(&cli.cert_der).unwrap();
        assert!(c.matches_identity(&Identity::Fqdn("alice".into())));
        assert!(!c.matches_identity(&Identity::Fqdn("bob".into())));
        let crl = crl(&ca, &[(c.serial().to_vec(), now)], 2, now).unwrap();
        assert_eq!(crl.first(), Some(&0x30));
    }
}
