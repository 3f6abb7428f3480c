//! A decoded certificate (RFC 5280 §4.1) and the identity rules of RFC 4945 §3.
//!
//! Decoding is not verification: [`Certificate`] reads fields; [`crate::TrustStore::verify`]
//! decides whether to believe them.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::SystemTime;

use der::{Decode, Encode};
use wire::Identity;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, SubjectAltName, SubjectKeyIdentifier,
};

use crate::dn::Dn;
use crate::error::colon_hex;
use crate::PkiError;

/// The fields of an X.509 certificate that IKE needs.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    subject: Dn,
    issuer: Dn,
    serial: Vec<u8>,
    not_before: SystemTime,
    not_after: SystemTime,
    spki: Vec<u8>,
    public_key: Vec<u8>,
    sans: Vec<Identity>,
    ekus: Option<Vec<Vec<u8>>>,
    is_ca: bool,
    subject_key_id: Option<Vec<u8>>,
}

impl Certificate {
    /// Decodes a DER certificate (RFC 5280 §4.1). Nothing is verified.
    pub fn from_der(der: &[u8]) -> Result<Certificate, PkiError> {
        let bad = |what: &str, e: der::Error| PkiError::BadCertificate(format!("{what}: {e}"));
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| bad("DER", e))?;
        let tbs = cert.tbs_certificate();
        let subject = Dn::from_der(&tbs.subject().to_der().map_err(|e| bad("subject", e))?)?;
        let issuer = Dn::from_der(&tbs.issuer().to_der().map_err(|e| bad("issuer", e))?)?;
        let spki_info = tbs.subject_public_key_info();
        let spki = spki_info
            .to_der()
            .map_err(|e| bad("subjectPublicKeyInfo", e))?;
        let public_key = spki_info.subject_public_key.raw_bytes().to_vec();

        let mut sans = Vec::new();
        for ext in tbs.filter_extensions::<SubjectAltName>() {
            let (_, san) = ext.map_err(|e| bad("subjectAltName", e))?;
            for name in san.0 {
                match name {
                    GeneralName::DnsName(s) => sans.push(Identity::Fqdn(s.to_string())),
                    GeneralName::Rfc822Name(s) => sans.push(Identity::Rfc822(s.to_string())),
                    GeneralName::IpAddress(o) => {
                        let b = o.as_bytes();
                        if let Ok(a) = <[u8; 4]>::try_from(b) {
                            sans.push(Identity::Ipv4(Ipv4Addr::from(a)));
                        } else if let Ok(a) = <[u8; 16]>::try_from(b) {
                            sans.push(Identity::Ipv6(Ipv6Addr::from(a)));
                        }
                    }
                    _ => {}
                }
            }
        }
        let ekus = match tbs
            .get_extension::<ExtendedKeyUsage>()
            .map_err(|e| bad("extendedKeyUsage", e))?
        {
            Some((_, eku)) => Some(eku.0.iter().map(|o| o.as_bytes().to_vec()).collect()),
            None => None,
        };
        let is_ca = tbs
            .get_extension::<BasicConstraints>()
            .map_err(|e| bad("basicConstraints", e))?
            .is_some_and(|(_, bc)| bc.ca);
        let subject_key_id = tbs
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(|e| bad("subjectKeyIdentifier", e))?
            .map(|(_, k)| k.0.as_bytes().to_vec());

        Ok(Certificate {
            der: der.to_vec(),
            subject,
            issuer,
            serial: tbs.serial_number().as_bytes().to_vec(),
            not_before: tbs.validity().not_before.to_system_time(),
            not_after: tbs.validity().not_after.to_system_time(),
            spki,
            public_key,
            sans,
            ekus,
            is_ca,
            subject_key_id,
        })
    }

    /// The certificate's DER encoding (what goes into a CERT payload, RFC 7296 §3.6).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Subject DN (RFC 5280 §4.1.2.6). `subject().as_der()` is the ID_DER_ASN1_DN to send
    /// for this certificate; `subject().to_string()` is `C=CH, O=Rampart, CN=moon`.
    pub fn subject(&self) -> &Dn {
        &self.subject
    }

    /// Issuer DN (RFC 5280 §4.1.2.4).
    pub fn issuer(&self) -> &Dn {
        &self.issuer
    }

    /// Serial number: the INTEGER's content octets (RFC 5280 §4.1.2.2).
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// Serial number as strongSwan prints it (`5a:2f:db:c8`).
    pub fn serial_hex(&self) -> String {
        colon_hex(&self.serial)
    }

    /// notBefore (RFC 5280 §4.1.2.5).
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// notAfter (RFC 5280 §4.1.2.5).
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// The DER of the SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), algorithm included: what a
    /// signature verifier takes (e.g. `crypto`'s `VerifyingKey::from_spki`).
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The subjectPublicKey BIT STRING's octets (the bare key, no algorithm).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// dNSName, rfc822Name and iPAddress entries of subjectAltName (RFC 5280 §4.2.1.6) as
    /// identities: Fqdn, Rfc822, Ipv4/Ipv6. Other name forms are not listed.
    pub fn subject_alt_names(&self) -> &[Identity] {
        &self.sans
    }

    /// The extended key usage OIDs (DER contents), or `None` without the extension.
    pub fn extended_key_usages(&self) -> Option<&[Vec<u8>]> {
        self.ekus.as_deref()
    }

    /// True when basicConstraints says cA (RFC 5280 §4.2.1.9).
    pub fn is_ca(&self) -> bool {
        self.is_ca
    }

    /// subjectKeyIdentifier (RFC 5280 §4.2.1.2), if present.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.subject_key_id.as_deref()
    }

    /// SHA-1 of the SubjectPublicKeyInfo DER: the CERTREQ "Certification Authority" entry for
    /// this certificate as a CA (RFC 7296 §3.7; see [`crate::ca_key_hash`]).
    pub fn key_hash(&self) -> [u8; 20] {
        crypto::digest::sha1(&[&self.spki])
    }

    /// Is `now` within notBefore..=notAfter?
    pub fn valid_at(&self, now: SystemTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// Does this certificate carry `id` (RFC 4945 §3.1, as strongSwan decides)?
    ///
    /// - ID_DER_ASN1_DN: equals the subject DN, compared canonically ([`Dn::matches`]: string
    ///   type, case and repeated spaces ignored), never the subjectAltName.
    /// - ID_FQDN / ID_RFC822_ADDR: a dNSName / rfc822Name of subjectAltName equal to it, ASCII
    ///   case ignored. **An FQDN equal only to the subject's CN is not accepted** (RFC 4945
    ///   §3.1.2 and RFC 6125 leave CN matching behind; a certificate for IKE must carry the
    ///   name in subjectAltName). No wildcards.
    /// - ID_IPV4_ADDR / ID_IPV6_ADDR: an iPAddress of subjectAltName with the same octets.
    /// - ID_KEY_ID: equal to the subjectKeyIdentifier extension, to the SHA-1 of the
    ///   subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1), or to the SHA-1 of the whole
    ///   SubjectPublicKeyInfo — the key identifiers strongSwan's `pki --keyid` prints.
    /// - Any other type (ID_DER_ASN1_GN, unknown): never.
    pub fn matches_identity(&self, id: &Identity) -> bool {
        match id {
            Identity::DerAsn1Dn(der) => Dn::from_der(der).is_ok_and(|dn| dn.matches(&self.subject)),
            Identity::Fqdn(_) | Identity::Rfc822(_) | Identity::Ipv4(_) | Identity::Ipv6(_) => {
                self.sans.iter().any(|san| san.matches(id))
            }
            Identity::KeyId(k) => {
                self.subject_key_id.as_deref() == Some(k.as_slice())
                    || crypto::digest::sha1(&[&self.public_key]).as_slice() == k.as_slice()
                    || self.key_hash().as_slice() == k.as_slice()
            }
            Identity::Other { .. } => false,
        }
    }
}
