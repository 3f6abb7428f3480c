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
    /// The security protocol: `ESP` (RFC 4303) or `AH` (RFC 4302). Absent from daemons
    /// older than AH support: `ESP`.
    #[serde(default = "esp")]
    pub protocol: String,
    /// Our inbound SPI, 8 hex digits.
    #[serde(with = "crate::hex::u32_hex")]
    pub spi_in: u32,
    /// The peer's inbound SPI (our outbound), 8 hex digits.
    #[serde(with = "crate::hex::u32_hex")]
    pub spi_out: u32,
    /// The negotiated ESP or AH proposal in strongSwan syntax, e.g. `aes256gcm16`, `sha256`.
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

/// Result of `list_sas`: the IKE SAs (each with its Child SAs), optionally of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListSasResult {
    /// The IKE SAs, by id.
    pub ike_sas: Vec<IkeSaInfo>,
}

/// Result of `list_conns`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListConnsResult {
    /// The configured connections, in file order.
    pub connections: Vec<ConnInfo>,
}

/// One configured connection (a summary of its `[connections.NAME]` table, docs/config.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnInfo {
    /// Its name.
    pub name: String,
    /// IKE version (2).
    pub version: u8,
    /// Our addresses (`[]` = any).
    pub local_addrs: Vec<String>,
    /// The peer's addresses (`%any` allowed).
    pub remote_addrs: Vec<String>,
    /// IKE proposals, strongSwan syntax.
    pub proposals: Vec<String>,
    /// Our authentication method (`psk`).
    pub local_auth: String,
    /// Our identity (`""` = our IP address).
    pub local_id: String,
    /// The peer's authentication method.
    pub remote_auth: String,
    /// The peer's identity (`%any` = any).
    pub remote_id: String,
    /// UDP encapsulation forced.
    pub encap: bool,
    /// DPD interval in seconds (0 = off).
    pub dpd_delay_secs: u64,
    /// Initiation attempts (0 = forever).
    pub keyingtries: u32,
    /// Its children, in file order.
    pub children: Vec<ChildConnInfo>,
    /// How many IKE SAs of this connection exist now.
    pub ike_sas: u64,
}

/// One configured child of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildConnInfo {
    /// Its name.
    pub name: String,
    /// Our selectors (`dynamic` allowed).
    pub local_ts: Vec<String>,
    /// The peer's selectors.
    pub remote_ts: Vec<String>,
    /// ESP proposals, strongSwan syntax (empty for an AH-only child).
    pub esp_proposals: Vec<String>,
    /// AH proposals, strongSwan syntax, offered before the ESP ones (absent: none).
    #[serde(default)]
    pub ah_proposals: Vec<String>,
    /// Tunnel or transport.
    pub mode: ChildMode,
    /// `none` or `start`.
    pub start_action: String,
    /// `none` or `start`.
    pub close_action: String,
}

/// Result of `list_certs`. Rampart has no certificates yet: the list is empty, the shape fixed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListCertsResult {
    /// Loaded certificates.
    pub certificates: Vec<CertInfo>,
}

/// One loaded X.509 certificate (RFC 5280).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// `end_entity` or `ca`.
    pub kind: String,
    /// Subject DN (RFC 4514 string form).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Subject alternative names (identities).
    pub subject_alt_names: Vec<String>,
    /// The daemon holds the matching private key.
    pub has_private_key: bool,
}

/// Result of `list_pools`: every configured pool with its leases (docs/control.md).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListPoolsResult {
    /// Address pools.
    pub pools: Vec<PoolInfo>,
}

/// One virtual-IP pool (RFC 7296 §3.15 configuration payloads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolInfo {
    /// Its name.
    pub name: String,
    /// The range, e.g. `10.3.0.0/24`.
    pub base: String,
    /// Number of addresses.
    pub size: u64,
    /// Leases in use.
    pub online: u64,
    /// Leases kept for clients that left.
    pub offline: u64,
    /// Every lease.
    pub leases: Vec<LeaseInfo>,
}

/// One lease of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The address.
    pub address: String,
    /// The client's identity.
    pub identity: String,
    /// True while the client is connected.
    pub online: bool,
}

/// Result of `list_algs`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListAlgsResult {
    /// Every algorithm keyword the proposal syntax knows.
    pub algorithms: Vec<AlgInfo>,
}

/// One algorithm keyword.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlgInfo {
    /// `encryption`, `integrity`, `prf`, `key_exchange` or `esn` (RFC 7296 §3.3.2).
    pub kind: String,
    /// strongSwan keyword, e.g. `aes256gcm16`.
    pub keyword: String,
    /// The transform's name, e.g. `AES_GCM_16_256`.
    pub name: String,
    /// Whether Rampart implements it (only these can be negotiated).
    pub implemented: bool,
}

/// Result of `stats`: the daemon at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatsResult {
    /// The daemon's version.
    pub daemon: String,
    /// Seconds since it started.
    pub uptime_secs: u64,
    /// Configured connections.
    pub connections: u64,
    /// IKE SAs now, by state.
    pub ike_sas: SaCounts,
    /// Child SAs now.
    pub child_sas: u64,
    /// IKE SAs established since start.
    pub ike_established_total: u64,
    /// Child SAs established since start.
    pub child_established_total: u64,
    /// Control clients connected now (this one included).
    pub control_clients: u64,
    /// Configuration reloads applied since start.
    pub reloads: u64,
}

/// IKE SAs by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SaCounts {
    /// All of them.
    pub total: u64,
    /// Being set up.
    pub connecting: u64,
    /// Established.
    pub established: u64,
    /// Being deleted.
    pub deleting: u64,
}

/// Result of `counters`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CountersResult {
    /// Handshake counters since start.
    pub ike: IkeCounters,
    /// Traffic of every Child SA now.
    pub children: Vec<ChildCounters>,
    /// Packets the data plane dropped, by reason; `null` when the data plane does not report
    /// them.
    pub drops: Option<std::collections::BTreeMap<String, u64>>,
}

/// Handshake counters since start.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IkeCounters {
    /// IKE SAs established.
    pub established: u64,
    /// Child SAs established.
    pub child_established: u64,
    /// IKE SAs gone, by reason (`deleted`, `AUTHENTICATION_FAILED`, `timeout`, ...).
    pub down: std::collections::BTreeMap<String, u64>,
}

/// Traffic of one Child SA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildCounters {
    /// Its IKE SA.
    pub ike_sa: u64,
    /// The Child SA.
    pub child_sa: u64,
    /// Connection name.
    pub connection: String,
    /// Child name.
    pub name: String,
    /// The peer's identity (the "client").
    pub remote_id: String,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
}

/// Result of `rekey`: how many SAs are being rekeyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekeyResult {
    /// Number of rekeyings started.
    pub rekeying: u64,
}

/// Result of `reload`: what changed, by connection name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReloadResult {
    /// New connections.
    pub added: Vec<String>,
    /// Connections gone; their SAs are being deleted.
    pub removed: Vec<String>,
    /// Connections whose settings changed; their SAs are being deleted.
    pub changed: Vec<String>,
    /// Connections left as they were, SAs included.
    pub unchanged: Vec<String>,
    /// Added or changed connections initiated because of `start_action = "start"`.
    pub initiated: Vec<String>,
    /// `[daemon]` keys whose new value needs a restart (the old value stays in force).
    pub restart_needed: Vec<String>,
}

/// Result of `subscribe`: what the stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeResult {
    /// SA events.
    pub sa: bool,
    /// Log lines at this level or more severe (`null` = none).
    pub log: Option<crate::LogLevel>,
}

/// `ChildSaInfo::protocol` when a daemon does not say.
fn esp() -> String {
    "ESP".to_string()
}
