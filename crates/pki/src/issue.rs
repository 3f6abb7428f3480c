//! Issuing certificates and CRLs (RFC 5280 §4, §5) over rcgen, for tests now and for
//! `rampart setup` / `rampart client` later.
//!
//! Profiles (RFC 5280 §4.2, RFC 4945 §5.1.3):
//! - CA: basicConstraints cA (critical, optional pathLenConstraint), keyUsage keyCertSign and
//!   cRLSign (critical), subjectKeyIdentifier; intermediates also authorityKeyIdentifier.
//! - End entity: keyUsage digitalSignature (critical), subjectAltName as asked (DNS, IP, email),
//!   extendedKeyUsage as asked (none when the list is empty), authorityKeyIdentifier.
//! - Key identifiers are SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1), the
//!   form strongSwan matches an authorityKeyIdentifier against.
//! - Serial numbers: 16 random octets unless given; validity exactly as given (whole seconds),
//!   so tests with fixed dates are reproducible apart from keys, serials and signatures.

mod key;

use std::net::IpAddr;
use std::time::SystemTime;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose,
    RevokedCertParams, SanType, SerialNumber,
};
use time::OffsetDateTime;
use wire::Identity;

pub use key::{KeyKind, PrivateKey};

use crate::cert::Certificate;
use crate::dn::Dn;
use crate::PkiError;

/// Extended key usages to put in an end-entity certificate (RFC 5280 §4.2.1.12,
/// RFC 4945 §5.1.3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Eku {
    /// id-kp-serverAuth: Windows clients require it on the VPN server.
    ServerAuth,
    /// id-kp-clientAuth.
    ClientAuth,
    /// id-kp-ipsecIKE (1.3.6.1.5.5.7.3.17).
    IpsecIke,
    /// anyExtendedKeyUsage.
    Any,
}

/// A validity period (RFC 5280 §4.1.2.5), whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
}

impl Validity {
    /// From `start` for `days` days.
    pub fn days_from(start: SystemTime, days: u64) -> Validity {
        Validity {
            not_before: start,
            not_after: start + std::time::Duration::from_secs(days.saturating_mul(86_400)),
        }
    }
}

/// What to put in a CA certificate.
#[derive(Debug, Clone)]
pub struct CaSpec {
    /// Subject DN, strongSwan text form (`C=CH, O=Rampart, CN=Rampart CA`).
    pub subject: String,
    /// Validity.
    pub validity: Validity,
    /// pathLenConstraint, if any.
    pub path_len: Option<u8>,
    /// Serial number octets (positive, at most 20); `None` for 16 random octets.
    pub serial: Option<Vec<u8>>,
}

/// What to put in an end-entity certificate.
#[derive(Debug, Clone)]
pub struct CertSpec {
    /// Subject DN, strongSwan text form.
    pub subject: String,
    /// subjectAltName entries: `Fqdn` → dNSName, `Rfc822` → rfc822Name, `Ipv4`/`Ipv6` →
    /// iPAddress. Other identity types are refused.
    pub sans: Vec<Identity>,
    /// extendedKeyUsage purposes; empty for no extension.
    pub ekus: Vec<Eku>,
    /// Validity.
    pub validity: Validity,
    /// Serial number octets; `None` for 16 random octets.
    pub serial: Option<Vec<u8>>,
}

/// One revoked certificate in a CRL (RFC 5280 §5.1.2.6).
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    /// Its serial number octets (as [`Certificate::serial`] gives them).
    pub serial: Vec<u8>,
    /// revocationDate.
    pub revoked_at: SystemTime,
}

/// What to put in a CRL (RFC 5280 §5.1).
#[derive(Debug, Clone)]
pub struct CrlSpec {
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate (must be after thisUpdate).
    pub next_update: SystemTime,
    /// cRLNumber (RFC 5280 §5.2.3), increasing with each CRL.
    pub number: u64,
    /// The revoked certificates.
    pub revoked: Vec<RevokedEntry>,
}

/// A CA that can issue: its certificate and its key.
pub struct CertificateAuthority {
    cert: Certificate,
    key: PrivateKey,
    /// The issuer data rcgen needs: subject DN, key identifier, key usages.
    params: CertificateParams,
}

impl core::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CertificateAuthority({})", self.cert.subject())
    }
}

fn err(e: impl core::fmt::Display) -> PkiError {
    PkiError::Issue(e.to_string())
}

fn odt(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}

fn serial(given: &Option<Vec<u8>>) -> Result<SerialNumber, PkiError> {
    let bytes = match given {
        Some(s) if s.is_empty() || s.len() > 20 => {
            return Err(err("a serial number has 1 to 20 octets"))
        }
        Some(s) => s.clone(),
        None => {
            let mut b = vec![0u8; 16];
            crypto::Random::fill(&mut crypto::SystemRandom, &mut b);
            // Positive, and 16 octets long once encoded.
            if let Some(first) = b.first_mut() {
                *first = (*first & 0x7f) | 0x40;
            }
            b
        }
    };
    Ok(SerialNumber::from_slice(&bytes))
}

/// Our DN (text) as rcgen's ordered name: one attribute per RDN, each type once.
fn rcgen_dn(dn: &Dn) -> Result<DistinguishedName, PkiError> {
    let mut out = DistinguishedName::new();
    let mut seen: Vec<der::asn1::ObjectIdentifier> = Vec::new();
    for rdn in dn.attributes() {
        let [(oid, value)] = rdn.as_slice() else {
            return Err(err(format!("\"{dn}\": multi-valued RDNs cannot be issued")));
        };
        if seen.contains(oid) {
            return Err(err(format!(
                "\"{dn}\": an attribute type may appear only once for issuance"
            )));
        }
        seen.push(*oid);
        let arcs: Vec<u64> = oid.arcs().map(u64::from).collect();
        let text = || {
            String::from_utf8(value.value().to_vec())
                .map_err(|_| err(format!("\"{dn}\": value is not UTF-8")))
        };
        let v = match der::Tagged::tag(*value) {
            der::Tag::PrintableString => DnValue::PrintableString(text()?.try_into().map_err(err)?),
            der::Tag::Utf8String => DnValue::Utf8String(text()?),
            der::Tag::Ia5String => DnValue::Ia5String(text()?.try_into().map_err(err)?),
            der::Tag::TeletexString => DnValue::TeletexString(text()?.try_into().map_err(err)?),
            t => return Err(err(format!("\"{dn}\": cannot issue a {t} value"))),
        };
        out.push(DnType::from_oid(&arcs), v);
    }
    Ok(out)
}

fn sans(ids: &[Identity]) -> Result<Vec<SanType>, PkiError> {
    ids.iter()
        .map(|id| {
            Ok(match id {
                Identity::Fqdn(s) => SanType::DnsName(s.clone().try_into().map_err(err)?),
                Identity::Rfc822(s) => SanType::Rfc822Name(s.clone().try_into().map_err(err)?),
                Identity::Ipv4(a) => SanType::IpAddress(IpAddr::V4(*a)),
                Identity::Ipv6(a) => SanType::IpAddress(IpAddr::V6(*a)),
                other => return Err(err(format!("{other} cannot be a subjectAltName"))),
            })
        })
        .collect()
}

fn eku(e: Eku) -> ExtendedKeyUsagePurpose {
    match e {
        Eku::ServerAuth => ExtendedKeyUsagePurpose::ServerAuth,
        Eku::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
        Eku::IpsecIke => ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 17]),
        Eku::Any => ExtendedKeyUsagePurpose::Any,
    }
}

fn ca_params(spec: &CaSpec, key: &PrivateKey) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen_dn(&Dn::parse(&spec.subject)?)?;
    p.not_before = odt(spec.validity.not_before);
    p.not_after = odt(spec.validity.not_after);
    p.serial_number = Some(serial(&spec.serial)?);
    p.is_ca = IsCa::Ca(match spec.path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.key_identifier_method = KeyIdMethod::PreSpecified(key.key_id());
    Ok(p)
}

impl CertificateAuthority {
    /// A self-signed root CA (RFC 5280 §6.1.1 trust anchor) with `key`.
    pub fn self_signed(spec: &CaSpec, key: PrivateKey) -> Result<CertificateAuthority, PkiError> {
        let params = ca_params(spec, &key)?;
        let cert = params.self_signed(key.pair()).map_err(err)?;
        Ok(CertificateAuthority {
            cert: Certificate::from_der(cert.der())?,
            key,
            params,
        })
    }

    /// An intermediate CA signed by this one.
    pub fn issue_intermediate(
        &self,
        spec: &CaSpec,
        key: PrivateKey,
    ) -> Result<CertificateAuthority, PkiError> {
        let mut params = ca_params(spec, &key)?;
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(key.pair(), &self.issuer()).map_err(err)?;
        Ok(CertificateAuthority {
            cert: Certificate::from_der(cert.der())?,
            key,
            params,
        })
    }

    /// An existing CA from its certificate (DER) and key, to issue more (e.g. `rampart client
    /// add` with the CA `rampart setup` made). The key must belong to the certificate.
    pub fn load(cert_der: &[u8], key: PrivateKey) -> Result<CertificateAuthority, PkiError> {
        let cert = Certificate::from_der(cert_der)?;
        if cert.spki_der() != key.spki_der().as_slice() {
            return Err(err(format!(
                "the key does not belong to \"{}\"",
                cert.subject()
            )));
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen_dn(cert.subject())?;
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.key_identifier_method = KeyIdMethod::PreSpecified(
            cert.subject_key_id()
                .map(<[u8]>::to_vec)
                .unwrap_or_else(|| key.key_id()),
        );
        Ok(CertificateAuthority { cert, key, params })
    }

    fn issuer(&self) -> Issuer<'_, &rcgen::KeyPair> {
        Issuer::from_params(&self.params, self.key.pair())
    }

    /// Issues an end-entity certificate for `subject_key`'s public key.
    pub fn issue(&self, spec: &CertSpec, subject_key: &PrivateKey) -> Result<Vec<u8>, PkiError> {
        self.issue_for(spec, subject_key.pair())
    }

    fn issue_for(
        &self,
        spec: &CertSpec,
        public_key: &impl rcgen::PublicKeyData,
    ) -> Result<Vec<u8>, PkiError> {
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen_dn(&Dn::parse(&spec.subject)?)?;
        p.not_before = odt(spec.validity.not_before);
        p.not_after = odt(spec.validity.not_after);
        p.serial_number = Some(serial(&spec.serial)?);
        p.subject_alt_names = sans(&spec.sans)?;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = spec.ekus.iter().copied().map(eku).collect();
        p.use_authority_key_identifier_extension = true;
        let cert = p.signed_by(public_key, &self.issuer()).map_err(err)?;
        Ok(cert.der().to_vec())
    }

    /// A CRL signed by this CA (RFC 5280 §5), with authorityKeyIdentifier and cRLNumber.
    pub fn crl(&self, spec: &CrlSpec) -> Result<Vec<u8>, PkiError> {
        let params = CertificateRevocationListParams {
            this_update: odt(spec.this_update),
            next_update: odt(spec.next_update),
            crl_number: SerialNumber::from_slice(&spec.number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: spec
                .revoked
                .iter()
                .map(|r| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&r.serial),
                    revocation_time: odt(r.revoked_at),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: self.params.key_identifier_method.clone(),
        };
        let crl = params.signed_by(&self.issuer()).map_err(err)?;
        Ok(crl.der().to_vec())
    }

    /// The CA's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The CA's certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        self.cert.der()
    }

    /// The CA's certificate, PEM.
    pub fn cert_pem(&self) -> String {
        cert_to_pem(self.cert.der())
    }

    /// The CA's key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}

/// PEM "CERTIFICATE" block (RFC 7468 §5) for a DER certificate.
pub fn cert_to_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

/// PEM "X509 CRL" block (RFC 7468 §6) for a DER CRL.
pub fn crl_to_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("X509 CRL", der.to_vec()))
}
