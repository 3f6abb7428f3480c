//! What the IKE engine hands the data plane for one Child SA (RFC 4301 §4.4.2 SAD fields,
//! §4.4.1 SPD selectors).

use std::net::SocketAddr;

use crypto::{EncrAlg, IntegId, SecretBytes};
use wire::TrafficSelector;

/// IPsec mode (RFC 4301 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The whole IP packet is protected and carried (Next Header 4 or 41).
    Tunnel,
    /// Only the upper-layer payload is protected (RFC 4303 §3.1.1): host to host.
    Transport,
}

/// The security protocol of a Child SA (RFC 4301 §4.4.2.1 "security protocol"): ESP
/// (RFC 4303) or AH (RFC 4302).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SecurityProtocol {
    /// Encapsulating Security Payload, IP protocol 50 (or ESP-in-UDP, RFC 3948).
    #[default]
    Esp,
    /// Authentication Header, IP protocol 51: integrity only, covering the immutable parts of
    /// the outer IP header too (RFC 4302 §3.3.3). Never UDP-encapsulated.
    Ah,
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
    /// Tunnel or transport.
    pub mode: Mode,
    /// ESP or AH. For AH, `encr` of both SAs is ENCR_NULL with an empty key, `integ` is
    /// required and `encap` must be false.
    pub protocol: SecurityProtocol,
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
    /// Extended Sequence Numbers (RFC 4304), as negotiated by IKE (the ESN transform): 64-bit
    /// sequence numbers, the low half on the wire and the high half in the ICV / AAD
    /// (RFC 4303 §2.2.1, RFC 4106 §5). Without ESN an SA sends at most 2^32 − 1 packets.
    pub esn: bool,
    /// Byte and packet limits of each SA (RFC 4301 §4.4.2.1); time limits are the IKE
    /// engine's.
    pub lifetime: Lifetime,
    /// How tunnelled packets are rewritten at the tunnel's edge (DSCP, MSS, MTU, TFC).
    pub options: TunnelOptions,
}

/// SA lifetimes counted by the data plane (RFC 4301 §4.4.2.1 "Lifetime of this SA"): each
/// limit applies to each SA of the child on its own (bytes = inner bytes, as counted in
/// [`crate::SaStats`]). Reaching a soft limit raises one [`crate::SaEvent`] so that IKE rekeys;
/// reaching a hard limit raises one more, and the SA carries nothing after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifetime {
    /// Soft limit in bytes.
    pub soft_bytes: Option<u64>,
    /// Hard limit in bytes.
    pub hard_bytes: Option<u64>,
    /// Soft limit in packets.
    pub soft_packets: Option<u64>,
    /// Hard limit in packets.
    pub hard_packets: Option<u64>,
}

/// Per-child rewriting of tunnelled packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelOptions {
    /// Copy the inner packet's DSCP to the outer header (RFC 2983 §3, RFC 4301 §5.1.2.1);
    /// otherwise the outer DSCP is 0. ECN is always handled per RFC 6040 (normal mode).
    pub copy_dscp: bool,
    /// Lower the MSS option of TCP SYNs, both directions, so that segments fit the tunnel
    /// (`path_mtu` − overhead − IP and TCP headers).
    pub clamp_mss: bool,
    /// The outer path MTU towards the peer. Inner packets that would not fit in it are refused
    /// with an ICMP "fragmentation needed" / ICMPv6 "packet too big" (RFC 4301 §8).
    pub path_mtu: u16,
    /// Traffic Flow Confidentiality padding (RFC 4303 §2.7): pad every inner packet with
    /// zeros up to this many bytes (never beyond what `path_mtu` allows). `None`: no padding.
    pub tfc_pad_to: Option<u16>,
}

impl Default for TunnelOptions {
    fn default() -> Self {
        Self {
            copy_dscp: true,
            clamp_mss: true,
            path_mtu: Self::DEFAULT_PATH_MTU,
            tfc_pad_to: None,
        }
    }
}

impl TunnelOptions {
    /// Ethernet's MTU.
    pub const DEFAULT_PATH_MTU: u16 = 1500;
}

impl ChildSaConfig {
    /// The default anti-replay window (RFC 4303 §3.4.3: 32 minimum, 64 recommended).
    pub const DEFAULT_REPLAY_WINDOW: u32 = 64;
    /// The largest window accepted.
    pub const MAX_REPLAY_WINDOW: u32 = 4096;
}
