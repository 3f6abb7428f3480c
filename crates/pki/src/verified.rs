//! The result of a successful chain verification.

use core::ops::Deref;

use wire::Identity;

use crate::cert::Certificate;
use crate::dn::Dn;

/// An end-entity certificate whose chain to a trusted CA verified (RFC 5280 §6.1), with the
/// path that was found. Derefs to [`Certificate`] for the end entity's fields.
///
/// For IKE: authenticate the AUTH payload with the key in [`VerifiedCert::spki_der`]
/// (RFC 7296 §2.15), after checking the peer's IDi/IDr with
/// [`VerifiedCert::matches_identity`] (RFC 4945 §3.1).
#[derive(Clone, Debug)]
pub struct VerifiedCert {
    cert: Certificate,
    intermediates: Vec<Certificate>,
    ca: Certificate,
}

impl VerifiedCert {
    pub(crate) fn new(cert: Certificate, intermediates: Vec<Certificate>, ca: Certificate) -> Self {
        VerifiedCert {
            cert,
            intermediates,
            ca,
        }
    }

    /// The end-entity certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// Subject DN of the end entity.
    pub fn subject(&self) -> &Dn {
        self.cert.subject()
    }

    /// Subject DN, DER (a Name SEQUENCE).
    pub fn subject_der(&self) -> &[u8] {
        self.cert.subject().as_der()
    }

    /// Subject DN as strongSwan prints it, DER order: `C=CH, O=Rampart, CN=moon.example.org`.
    pub fn subject_string(&self) -> String {
        self.cert.subject().to_string()
    }

    /// subjectAltName dNSName / rfc822Name / iPAddress entries as identities.
    pub fn subject_alt_names(&self) -> &[Identity] {
        self.cert.subject_alt_names()
    }

    /// The end entity's SubjectPublicKeyInfo DER, for verifying the peer's AUTH signature.
    pub fn spki_der(&self) -> &[u8] {
        self.cert.spki_der()
    }

    /// See [`Certificate::matches_identity`].
    pub fn matches_identity(&self, id: &Identity) -> bool {
        self.cert.matches_identity(id)
    }

    /// The intermediates of the path, from the end entity's issuer upwards.
    pub fn intermediates(&self) -> &[Certificate] {
        &self.intermediates
    }

    /// The trusted CA the path ends at.
    pub fn ca(&self) -> &Certificate {
        &self.ca
    }
}

impl Deref for VerifiedCert {
    type Target = Certificate;
    fn deref(&self) -> &Certificate {
        &self.cert
    }
}
