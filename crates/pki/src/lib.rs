//! X.509 for Rampart: trusted CAs and CRLs, chain verification for IKEv2 peers, identities
//! matched against certificates, distinguished names in text and DER, CERTREQ hashes, and
//! issuance of CAs, certificates and CRLs.
//!
//! - [`TrustStore`]: CA certificates + CRLs; [`TrustStore::verify`] builds and checks a path
//!   (RFC 5280 §6) with the IKE EKU rules ([`Usage`], RFC 4945 §5.1.3.12) and returns a
//!   [`VerifiedCert`].
//! - [`Certificate`] / [`VerifiedCert`]: subject DN, subjectAltNames as `wire::Identity`, the
//!   SubjectPublicKeyInfo DER that verifies the peer's AUTH payload, and
//!   [`Certificate::matches_identity`] (RFC 4945 §3.1).
//! - [`Dn`], [`parse_dn`], [`dn_to_string`], [`identity_from_str`]: strongSwan-style DN text
//!   (`C=CH, O=Rampart, CN=moon`) ⇄ DER.
//! - [`ca_key_hash`], [`TrustStore::ca_hashes`], [`TrustStore::ca_for_hashes`]: CERTREQ
//!   (RFC 7296 §3.7).
//! - [`load_certs`], [`load_crls`], [`load_private_key`] and `*_from_bytes`: PEM or DER.
//! - [`CertificateAuthority`], [`PrivateKey`]: issuance (RFC 5280 §4, §5).
//!
//! Built on rustls-webpki (path building and signatures, with aws-lc-rs), x509-cert/der
//! (reading fields, encoding names) and rcgen (issuance, with aws-lc-rs). No ASN.1 or
//! cryptography is written here.

mod cert;
mod certreq;
mod dn;
mod eku;
mod error;
mod identity;
mod issue;
mod load;
mod trust;
mod verified;

pub use cert::Certificate;
pub use certreq::{ca_key_hash, split_ca_hashes};
pub use dn::{dn_to_string, parse_dn, Dn};
pub use eku::{eku_name, Usage, OID_ANY_EKU, OID_CLIENT_AUTH, OID_IPSEC_IKE, OID_SERVER_AUTH};
pub use error::{fmt_time, PkiError};
pub use identity::{identity_from_str, identity_to_string};
pub use issue::{
    cert_to_pem, crl_to_pem, CaSpec, CertSpec, CertificateAuthority, CrlSpec, Eku, KeyKind,
    PrivateKey, RevokedEntry, Validity,
};
pub use load::{certs_from_bytes, crls_from_bytes, load_certs, load_crls, load_private_key};
pub use trust::TrustStore;
pub use verified::VerifiedCert;
