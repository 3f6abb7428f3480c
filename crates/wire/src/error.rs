//! Parse errors.

/// Why bytes could not be parsed. Never carries the bytes themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Input ended before the structure did.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A length field is inconsistent with the data or the structure's minimum.
    #[error("bad length in {0}")]
    BadLength(&'static str),
    /// A field holds a value that is invalid here.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// The version is not one we speak (IKE major version other than 2, IP version ...).
    #[error("unsupported version")]
    UnsupportedVersion,
    /// A payload type we do not know has the critical bit set (RFC 7296 §2.5).
    #[error("unsupported critical payload {0}")]
    UnsupportedCriticalPayload(u8),
    /// Output buffer too small for `emit`.
    #[error("buffer too small")]
    BufferTooSmall,
}
