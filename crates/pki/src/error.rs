//! Errors of the PKI crate: each names the certificate, file or text it is about.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::eku::Usage;

/// Everything that can go wrong loading, verifying or issuing certificates.
///
/// Verification errors (RFC 5280 §6.1.3) name the certificate by its subject DN in
/// strongSwan's text form, and carry the dates, serials and issuer names a log reader needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    /// A file could not be read or did not hold what was expected.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong, including the inner error.
        reason: String,
    },
    /// Bytes that should be a certificate are not one (RFC 5280 §4.1).
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// Bytes that should be a CRL are not one (RFC 5280 §5.1).
    #[error("bad CRL: {0}")]
    BadCrl(String),
    /// A private key could not be read or used.
    #[error("bad private key: {0}")]
    BadKey(String),
    /// A distinguished name in text or DER form could not be read (RFC 4514, RFC 5280 §4.1.2.4).
    #[error("bad distinguished name {text:?}: {reason}")]
    BadDn {
        /// The text (or a hex rendering of the DER) that was refused.
        text: String,
        /// Why.
        reason: String,
    },
    /// An identity string could not be read.
    #[error("bad identity {text:?}: {reason}")]
    BadIdentity {
        /// The text.
        text: String,
        /// Why.
        reason: String,
    },
    /// A certificate of the chain is past its notAfter (RFC 5280 §4.1.2.5).
    #[error("certificate \"{subject}\" expired on {} (now {})", fmt_time(*not_after), fmt_time(*now))]
    Expired {
        /// Subject of the expired certificate.
        subject: String,
        /// Its notAfter.
        not_after: SystemTime,
        /// The time of the check.
        now: SystemTime,
    },
    /// A certificate of the chain is before its notBefore (RFC 5280 §4.1.2.5).
    #[error("certificate \"{subject}\" is not valid before {} (now {})", fmt_time(*not_before), fmt_time(*now))]
    NotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Its notBefore.
        not_before: SystemTime,
        /// The time of the check.
        now: SystemTime,
    },
    /// No path to a configured CA: the issuer is neither a trusted CA nor among the given
    /// intermediates (RFC 5280 §6.1).
    #[error("unknown issuer \"{issuer}\" of certificate \"{subject}\": not a trusted CA and not among the {intermediates} intermediate(s) given")]
    UnknownIssuer {
        /// The certificate whose issuer is missing.
        subject: String,
        /// The missing issuer's DN.
        issuer: String,
        /// How many intermediates were offered.
        intermediates: usize,
    },
    /// A signature in the chain does not verify (RFC 5280 §6.1.3 (a)(1)).
    #[error("bad signature in the chain of \"{subject}\" (issuer \"{issuer}\")")]
    BadSignature {
        /// The end entity.
        subject: String,
        /// Its issuer.
        issuer: String,
    },
    /// The signature or key algorithm is not accepted (SHA-1 signatures, RSA below 2048 bits,
    /// DSA and others are refused).
    #[error("unsupported signature algorithm in the chain of \"{subject}\": {detail}")]
    UnsupportedAlgorithm {
        /// The end entity.
        subject: String,
        /// What the verifier reported.
        detail: String,
    },
    /// A certificate of the chain is listed in a loaded CRL (RFC 5280 §6.3).
    #[error("certificate \"{subject}\" (serial {serial}) is revoked by the CRL of \"{issuer}\"")]
    Revoked {
        /// Subject of the revoked certificate.
        subject: String,
        /// Its serial number in colon-separated hex, as strongSwan prints it.
        serial: String,
        /// The CRL issuer.
        issuer: String,
    },
    /// A loaded CRL could not be used: bad signature, issuer not allowed to sign CRLs, or
    /// unsupported (RFC 5280 §6.3.3).
    #[error("CRL of \"{issuer}\" cannot be used: {detail}")]
    BadCrlForChain {
        /// The CRL issuer (the issuer of the certificate being checked).
        issuer: String,
        /// What the verifier reported.
        detail: String,
    },
    /// The extended key usage does not allow the use asked for (RFC 5280 §4.2.1.12,
    /// RFC 4945 §5.1.3.12).
    #[error("certificate \"{subject}\" may not be used as an IKE {usage}: its extended key usages are {}", present.join(", "))]
    WrongUsage {
        /// Subject of the certificate.
        subject: String,
        /// The use asked for.
        usage: Usage,
        /// The EKU OIDs it carries (names where known).
        present: Vec<String>,
    },
    /// Basic constraints violated: an end entity used as a CA, a CA used as an end entity,
    /// or a path length exceeded (RFC 5280 §4.2.1.9).
    #[error("basic constraints violated in the chain of \"{subject}\": {detail}")]
    BasicConstraints {
        /// The end entity.
        subject: String,
        /// Which constraint.
        detail: String,
    },
    /// Any other verification failure, with the verifier's words.
    #[error("certificate \"{subject}\" not accepted: {detail}")]
    Invalid {
        /// The end entity.
        subject: String,
        /// What the verifier reported.
        detail: String,
    },
    /// Issuance failed.
    #[error("cannot issue: {0}")]
    Issue(String),
}

/// A UTC date as `2026-11-27 05:58:46 UTC`.
pub fn fmt_time(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Hex with colons (`5a:2f:db`), as strongSwan prints serial numbers.
pub(crate) fn colon_hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
