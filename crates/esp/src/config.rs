//! What the IKE engine hands the data plane for one Child SA (RFC 4301 §4.4.2 SAD fields,
//! §4.4.1 SPD selectors).

use std::net::SocketAddr;

use crypto::{EncrAlg, IntegId, SecretBytes};
use wire::TrafficSelector;

/// IPsec mode (RFC 4301 §4.1). Only tunnel mode is implemented; `Transport` is refused by
/// `install_child` for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The whole IP packet is protected and carried (Next Header 4 or 41).
    Tunnel,
    /// Only the upper-layer payload is protected (not implemented yet).
    Transport,
}

/// Keys and algorithms of one SA in one direction (RFC 4301 §4.4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaKeys {
    /// The SPI the receiver of this SA chose (RFC 4303 §2.1). For `inbound` it is ours.
    pub spi: u32,
    /// Encryption (or AEAD) algorithm and key length.
    pub encr: EncrAlg,
    /// Integrity algorithm; `None` (or `IntegId::None`) for AEAD.
    pub integ: Option<IntegId>,
    /// Encryption key material, as taken from KEYMAT: key | salt for AEAD
    /// (`crypto::Cipher::encr_keymat_len`).
    pub encr_key: SecretBytes,
    /// Integrity key (empty for AEAD).
    pub integ_key: SecretBytes,
}

/// One Child SA as negotiated by IKE: policy (selectors), outer addresses and both SAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSaConfig {
    /// The IKE engine's id for this Child SA; every other call names the child by it.
    pub id: u64,
    /// Tunnel (transport later).
    pub mode: Mode,
    /// Our side's selectors: outbound packets' source, inbound inner packets' destination.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's selectors: outbound packets' destination, inbound inner packets' source.
    pub remote_ts: Vec<TrafficSelector>,
    /// Our outer address (and port 4500 when `encap`).
    pub local: SocketAddr,
    /// The peer's outer address (and its NAT-T port when `encap`).
    pub remote: SocketAddr,
    /// ESP-in-UDP (RFC 3948) when true, raw IP protocol 50 otherwise.
    pub encap: bool,
    /// The SA we receive on (our SPI).
    pub inbound: SaKeys,
    /// The SA we send on (the peer's SPI).
    pub outbound: SaKeys,
    /// Anti-replay window size in packets (RFC 4303 §3.4.3); 0 disables the check.
    pub replay_window: u32,
}

impl ChildSaConfig {
    /// The default anti-replay window (RFC 4303 §3.4.3: 32 minimum, 64 recommended).
    pub const DEFAULT_REPLAY_WINDOW: u32 = 64;
    /// The largest window accepted.
    pub const MAX_REPLAY_WINDOW: u32 = 4096;
}
