//! Errors of the control path ([`EspError`]) and reasons a packet is dropped ([`DropReason`]).

use crypto::CryptoError;

/// Why a control-path call (installing, changing or removing SAs) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EspError {
    /// The cipher could not be keyed (unsupported transform, wrong key length).
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// A child with this id is already installed.
    #[error("child SA {0} already installed")]
    DuplicateChild(u64),
    /// No child with this id.
    #[error("no child SA {0}")]
    UnknownChild(u64),
    /// An inbound SA with this SPI already exists.
    #[error("inbound SPI {0:#010x} already in use")]
    DuplicateSpi(u32),
    /// No inbound SA with this SPI.
    #[error("no inbound SA with SPI {0:#010x}")]
    UnknownSpi(u32),
    /// SPIs 0..=255 never appear on the wire (RFC 4303 §2.1).
    #[error("reserved SPI {0}")]
    ReservedSpi(u32),
    /// The configuration is inconsistent.
    #[error("invalid child SA configuration: {0}")]
    InvalidConfig(&'static str),
    /// Valid, but not implemented yet (transport mode ...).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

/// Why a packet was dropped. Each reason has a counter ([`crate::DropCounters`]); the data
/// plane never logs per packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// Inbound: shorter than header + IV + minimal ciphertext + ICV.
    Truncated,
    /// Inbound: ciphertext not a multiple of the cipher block / 4 bytes (RFC 4303 §2.4).
    BadLength,
    /// Inbound: no SA for the SPI (RFC 4303 §3.4.2).
    UnknownSpi,
    /// Inbound: duplicate, older than the window, or sequence number 0 (RFC 4303 §3.4.3).
    Replay,
    /// Inbound: integrity check failed (RFC 4303 §3.4.4).
    IcvFailure,
    /// Inbound: padding or Pad Length inconsistent (RFC 4303 §2.4).
    BadPadding,
    /// Inbound: Next Header neither 4 (IPv4) nor 41 (IPv6) in tunnel mode, or not matching the
    /// inner packet's version.
    BadNextHeader,
    /// Inbound: a dummy packet, Next Header 59 (RFC 4303 §2.6); dropped by design.
    Dummy,
    /// Inbound: the inner packet does not match the SA's selectors (RFC 4301 §5.2 step 4).
    SelectorMismatch,
    /// Outbound packet, or decrypted inner packet, is not a well-formed IP packet.
    Malformed,
    /// Outbound: no policy covers the packet (RFC 4301 §5.1: DISCARD).
    NoPolicy,
    /// Outbound: the 32-bit sequence number would cycle (RFC 4303 §3.3.3); rekey needed.
    SeqExhausted,
    /// Outbound: the ESP packet would not fit in one UDP datagram.
    TooBig,
    /// The cipher failed for a reason other than integrity (should not happen).
    CryptoFailure,
    /// The SA reached its hard byte or packet lifetime (RFC 4301 §4.4.2.1); IKE deletes it.
    LifetimeExpired,
    /// Outbound: larger than the path carries and not to be fragmented (IPv4 DF, IPv6 over
    /// 1280 bytes); answered with an ICMP "fragmentation needed" / "packet too big"
    /// (`Snapshot::icmp_too_big`, RFC 4301 §8).
    PathMtu,
    /// Inbound: outer CE over an inner Not-ECT packet (RFC 6040 §4.2).
    EcnDrop,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 17] = [
        DropReason::Truncated,
        DropReason::BadLength,
        DropReason::UnknownSpi,
        DropReason::Replay,
        DropReason::IcvFailure,
        DropReason::BadPadding,
        DropReason::BadNextHeader,
        DropReason::Dummy,
        DropReason::SelectorMismatch,
        DropReason::Malformed,
        DropReason::NoPolicy,
        DropReason::SeqExhausted,
        DropReason::TooBig,
        DropReason::CryptoFailure,
        DropReason::LifetimeExpired,
        DropReason::PathMtu,
        DropReason::EcnDrop,
    ];

    /// A stable snake_case name (for statistics output).
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::BadLength => "bad_length",
            DropReason::UnknownSpi => "unknown_spi",
            DropReason::Replay => "replay",
            DropReason::IcvFailure => "icv_failure",
            DropReason::BadPadding => "bad_padding",
            DropReason::BadNextHeader => "bad_next_header",
            DropReason::Dummy => "dummy",
            DropReason::SelectorMismatch => "selector_mismatch",
            DropReason::Malformed => "malformed",
            DropReason::NoPolicy => "no_policy",
            DropReason::SeqExhausted => "seq_exhausted",
            DropReason::TooBig => "too_big",
            DropReason::CryptoFailure => "crypto_failure",
            DropReason::LifetimeExpired => "lifetime_expired",
            DropReason::PathMtu => "path_mtu",
            DropReason::EcnDrop => "ecn_ce_not_ect",
        }
    }
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for DropReason {}
