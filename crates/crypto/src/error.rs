//! Errors of this crate.

/// What can go wrong in a cryptographic operation. Messages never contain key material.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// The transform is known but not implemented here.
    #[error("unsupported transform: {0}")]
    Unsupported(String),
    /// A key, IV, nonce or buffer has the wrong length.
    #[error("bad length: {0}")]
    BadLength(&'static str),
    /// Integrity check (ICV / AEAD tag) failed.
    #[error("integrity check failed")]
    IntegrityCheckFailed,
    /// The peer's key-exchange value is invalid (RFC 6989 checks, wrong length, not on curve).
    #[error("invalid peer key-exchange value")]
    InvalidPublicValue,
    /// A proposal string is malformed; the message names the bad keyword or rule and what is
    /// allowed.
    #[error("{0}")]
    InvalidProposal(String),
    /// A signature did not verify.
    #[error("signature verification failed")]
    InvalidSignature,
    /// A key (file, DER, PEM) is malformed or of an unsupported type; the message says which.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A received encoding (e.g. an RFC 7427 AlgorithmIdentifier) is malformed.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The underlying library reported an unspecified failure.
    #[error("crypto backend failure")]
    Backend,
}
