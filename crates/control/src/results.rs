//! Typed results of the commands (docs/control.md "Commands"). Unknown fields are ignored when
//! decoding, so a newer daemon may add fields within a version.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Result of `version`: `{"daemon": "0.1.0", "protocol": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionResult {
    /// The daemon's version.
    pub daemon: String,
    /// The control protocol version.
    pub protocol: u32,
}

/// Result of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusResult {
    /// Every IKE SA.
    pub ike_sas: Vec<IkeSaInfo>,
    /// Names of the configured connections.
    pub connections: Vec<String>,
}

/// State of an IKE SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IkeSaState {
    /// IKE_SA_INIT / IKE_AUTH in progress.
    Connecting,
    /// Authenticated.
    Established,
    /// Being deleted (INFORMATIONAL with DELETE in flight).
    Deleting,
}

/// State of a Child SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChildSaState {
    /// Keys installed in the data plane.
    Installed,
    /// Being deleted.
    Deleting,
}

/// IPsec mode of a Child SA (RFC 4301 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildMode {
    /// Tunnel mode.
    Tunnel,
    /// Transport mode.
    Transport,
}

/// One IKE SA in `status` (docs/control.md `IkeSa`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IkeSaInfo {
    /// The daemon's id for this IKE SA (what `terminate {"ike_sa": id}` takes).
    pub id: u64,
    /// The connection it belongs to.
    pub connection: String,
    /// Its state.
    pub state: IkeSaState,
    /// True when we initiated it.
    pub initiator: bool,
    /// Our address and port, e.g. `"192.0.2.1:4500"` (`"[2001:db8::1]:500"` for IPv6).
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// Our identity (text form).
    pub local_id: String,
    /// The peer's identity (text form).
    pub remote_id: String,
    /// Initiator's SPI (RFC 7296 §3.1), 16 hex digits.
    #[serde(with = "crate::hex::u64_hex")]
    pub spi_i: u64,
    /// Responder's SPI, 16 hex digits (0 while unknown).
    #[serde(with = "crate::hex::u64_hex")]
    pub spi_r: u64,
    /// The negotiated proposal in strongSwan syntax, e.g. `aes256gcm16-prfsha256-x25519`.
    pub proposal: String,
    /// We are behind a NAT (RFC 7296 §2.23).
    pub nat_local: bool,
    /// The peer is behind a NAT.
    pub nat_remote: bool,
    /// Seconds since the IKE SA was established (0 while connecting).
    pub established_secs: u64,
    /// Its Child SAs.
    pub children: Vec<ChildSaInfo>,
}

/// One Child SA in `status` (docs/control.md, `children` of `IkeSa`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildSaInfo {
    /// The daemon's id for this Child SA.
    pub id: u64,
    /// The configured child's name.
    pub name: String,
    /// Its state.
    pub state: ChildSaState,
    /// Tunnel or transport.
    pub mode: ChildMode,
    /// ESP in UDP (RFC 3948).
    pub encap: bool,
    /// Our inbound SPI, 8 hex digits.
    #[serde(with = "crate::hex::u32_hex")]
    pub spi_in: u32,
    /// The peer's inbound SPI (our outbound), 8 hex digits.
    #[serde(with = "crate::hex::u32_hex")]
    pub spi_out: u32,
    /// The negotiated ESP proposal in strongSwan syntax, e.g. `aes256gcm16`.
    pub proposal: String,
    /// Our traffic selectors (text form), e.g. `203.0.113.0/24`.
    pub local_ts: Vec<String>,
    /// The peer's traffic selectors.
    pub remote_ts: Vec<String>,
    /// Bytes received (decrypted payload).
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
}

/// Result of `initiate`: `{"ike_sa": 3}`, the id of the IKE SA started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitiateResult {
    /// The new IKE SA's id.
    pub ike_sa: u64,
}

/// Result of `terminate`: `{"terminated": 1}`, how many IKE SAs are being deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminateResult {
    /// Number of IKE SAs for which a DELETE was sent.
    pub terminated: u64,
}
