//! What the engine tells its driver: datagrams to send, SAs to install and remove, status.

use std::net::SocketAddr;
use std::time::Duration;

use crypto::{SecretBytes, Suite};
use wire::{Identity, TrafficSelector};

use crate::config::Mode;

/// Identifies an IKE SA inside one engine (unique for the engine's lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IkeSaId(pub u64);

/// Identifies a Child SA inside one engine (unique for the engine's lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildSaId(pub u64);

impl core::fmt::Display for IkeSaId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl core::fmt::Display for ChildSaId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A datagram to send. `payload` is the whole UDP payload: on the NAT-T port it starts with the
/// non-ESP marker (RFC 3948 §2.2), a NAT keepalive is the single octet 0xFF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Source address and port (the IP may be unspecified: let the OS choose).
    pub local: SocketAddr,
    /// Destination.
    pub remote: SocketAddr,
    /// UDP payload.
    pub payload: Vec<u8>,
}

/// Keys of one direction of a Child SA.
#[derive(Debug, Clone)]
pub struct SaKeys {
    /// The SPI carried in ESP (or AH) packets of this direction.
    pub spi: u32,
    /// Encryption key material (key | salt for AEAD; empty for AH and ENCR_NULL).
    pub encr_key: SecretBytes,
    /// Integrity key (empty for AEAD; for AH the only key, RFC 7296 §2.17).
    pub integ_key: SecretBytes,
}

/// A Child SA to install in the data plane.
#[derive(Debug, Clone)]
pub struct ChildSaInstall {
    /// The IKE SA it belongs to.
    pub ike_sa: IkeSaId,
    /// The Child SA.
    pub child: ChildSaId,
    /// The child's configured name.
    pub name: String,
    /// The connection's name.
    pub connection: String,
    /// Mode.
    pub mode: Mode,
    /// ESP in UDP (RFC 3948). Always false for AH, which is never negotiated under UDP
    /// encapsulation.
    pub encap: bool,
    /// Our outer address (for ESP or AH).
    pub local: SocketAddr,
    /// The peer's outer address.
    pub remote: SocketAddr,
    /// Negotiated selectors, our side.
    pub local_ts: Vec<TrafficSelector>,
    /// Negotiated selectors, peer side.
    pub remote_ts: Vec<TrafficSelector>,
    /// The algorithms, and the protocol: `suite.protocol()` is `Esp`, or `Ah` (RFC 4302: IP
    /// protocol 51, integrity only; `encr` is a placeholder, the keys' `encr_key` empty).
    pub suite: Suite,
    /// Packets we receive.
    pub inbound: SaKeys,
    /// Packets we send.
    pub outbound: SaKeys,
    /// This Child SA rekeys that one (RFC 7296 §1.3.3): same policy, the old SA's inbound stays
    /// valid until it is reported down.
    pub replaces: Option<ChildSaId>,
    /// Send on this SA now. False for the responder of a rekey: it keeps sending on the old SA
    /// until `ChildSaOutbound` (when the initiator deletes the old one), so nothing is sent on an
    /// SA the peer may not have installed yet.
    pub outbound_now: bool,
}

impl ChildSaInstall {
    /// Extended Sequence Numbers were negotiated (the ESN transform, RFC 7296 §3.3.2 type 5,
    /// RFC 4304): the data plane keeps 64-bit sequence numbers.
    pub fn esn(&self) -> bool {
        self.suite.esn == Some(crypto::EsnId::Esn)
    }
}

/// Events for the driver, in the order they happened. New kinds may be added: drivers ignore
/// what they do not know.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// An IKE SA was established.
    IkeSaUp {
        /// Which.
        ike_sa: IkeSaId,
        /// Connection name.
        connection: String,
    },
    /// An IKE SA is gone (deleted, failed, timed out). Its children were reported down before.
    IkeSaDown {
        /// Which.
        ike_sa: IkeSaId,
        /// Connection name.
        connection: String,
        /// Why, for the log.
        reason: String,
    },
    /// Install this Child SA.
    ChildSaUp(Box<ChildSaInstall>),
    /// The peer assigned us virtual IPs and network settings (RFC 7296 §3.15): put the addresses
    /// on the TUN device before the Child SAs that use them come up.
    VirtualIp {
        /// The IKE SA.
        ike_sa: IkeSaId,
        /// Our virtual addresses.
        addresses: Vec<std::net::IpAddr>,
        /// DNS servers to use.
        dns: Vec<std::net::IpAddr>,
        /// Networks reachable through the tunnel (INTERNAL_IP4/6_SUBNET, split tunnels).
        subnets: Vec<TrafficSelector>,
    },
    /// Start sending on this (rekeyed) Child SA instead of the one it replaces.
    ChildSaOutbound {
        /// The IKE SA.
        ike_sa: IkeSaId,
        /// The new Child SA.
        child: ChildSaId,
    },
    /// The IKE SA was rekeyed (RFC 7296 §2.18): its Child SAs now belong to `new`.
    IkeSaRekeyed {
        /// The old IKE SA (being deleted; not reported down separately).
        old: IkeSaId,
        /// The new IKE SA.
        new: IkeSaId,
        /// Connection name.
        connection: String,
    },
    /// Remove this Child SA.
    ChildSaDown {
        /// The IKE SA.
        ike_sa: IkeSaId,
        /// The child.
        child: ChildSaId,
        /// Its inbound SPI.
        inbound_spi: u32,
        /// Its outbound SPI.
        outbound_spi: u32,
        /// Why, for logs and the control API: "rekeyed", "deleted", "deleted by peer",
        /// "expired", "IKE_SA deleted", or the IKE SA's own reason when it went down.
        reason: String,
    },
    /// The outer addresses changed (the peer moved behind a NAT, or MOBIKE, RFC 4555): update
    /// the outer source and destination of this IKE SA's children.
    PeerAddressChanged {
        /// The IKE SA.
        ike_sa: IkeSaId,
        /// Children to update.
        children: Vec<ChildSaId>,
        /// Our address now.
        local: SocketAddr,
        /// The peer's address now.
        remote: SocketAddr,
    },
}

/// A Child SA as `status` shows it.
#[derive(Debug, Clone)]
pub struct ChildStatus {
    /// Id.
    pub id: ChildSaId,
    /// Name.
    pub name: String,
    /// "INSTALLED" or "DELETING".
    pub state: &'static str,
    /// Mode.
    pub mode: Mode,
    /// ESP in UDP.
    pub encap: bool,
    /// Inbound SPI.
    pub spi_in: u32,
    /// Outbound SPI.
    pub spi_out: u32,
    /// The algorithms; `suite.protocol()` says ESP or AH.
    pub suite: Suite,
    /// Selectors, our side.
    pub local_ts: Vec<TrafficSelector>,
    /// Selectors, peer side.
    pub remote_ts: Vec<TrafficSelector>,
}

/// An IKE SA as `status` shows it.
#[derive(Debug, Clone)]
pub struct IkeSaStatus {
    /// Id.
    pub id: IkeSaId,
    /// Connection name.
    pub connection: String,
    /// "CONNECTING", "ESTABLISHED" or "DELETING".
    pub state: &'static str,
    /// True when we initiated it.
    pub initiator: bool,
    /// Our address.
    pub local: SocketAddr,
    /// The peer's address.
    pub remote: SocketAddr,
    /// Our identity.
    pub local_id: Option<Identity>,
    /// The peer's identity (once authenticated).
    pub remote_id: Option<Identity>,
    /// Initiator's SPI.
    pub spi_i: u64,
    /// Responder's SPI.
    pub spi_r: u64,
    /// IKE algorithms (once negotiated).
    pub suite: Option<Suite>,
    /// We are behind a NAT.
    pub nat_local: bool,
    /// The peer is behind a NAT.
    pub nat_remote: bool,
    /// Time since establishment.
    pub established_for: Option<Duration>,
    /// Virtual IPs: ours (when the peer assigned them) or the peer's (from our pools).
    pub virtual_ips: Vec<std::net::IpAddr>,
    /// Children.
    pub children: Vec<ChildStatus>,
}
