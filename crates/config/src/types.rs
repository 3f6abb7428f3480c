//! The typed configuration, owned (nothing borrows from the file), and its defaults.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crypto::{ProposalSpec, SecretBytes};
use wire::{Identity, TrafficSelector};

/// Default `daemon.control_socket`.
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/rampart/rampart.sock";
/// Default `daemon.tun_name`.
pub const DEFAULT_TUN_NAME: &str = "rampart0";
/// Default `daemon.ike_port` (RFC 7296 §2: UDP 500).
pub const DEFAULT_IKE_PORT: u16 = 500;
/// Default `daemon.natt_port` (RFC 3948 / RFC 7296 §2.23: UDP 4500).
pub const DEFAULT_NATT_PORT: u16 = 4500;
/// Default IKE proposals of a connection, in preference order (strongSwan syntax).
pub const DEFAULT_IKE_PROPOSALS: &[&str] = &[
    "aes256gcm16-prfsha256-x25519",
    "aes128gcm16-prfsha256-ecp256",
    "aes128-sha256-ecp256",
];
/// Default ESP proposals of a child, in preference order (strongSwan syntax, no PFS).
pub const DEFAULT_ESP_PROPOSALS: &[&str] = &["aes256gcm16", "aes128gcm16", "aes128-sha256"];
/// Default `dpd_delay`.
pub const DEFAULT_DPD_DELAY: Duration = Duration::from_secs(30);
/// Default `keyingtries`.
pub const DEFAULT_KEYINGTRIES: u32 = 1;
/// Default connection `rekey_time` (IKE SA rekeying, RFC 7296 §2.8).
pub const DEFAULT_IKE_REKEY_TIME: Duration = Duration::from_secs(4 * 3600);
/// Default child `rekey_time` (Child SA rekeying, RFC 7296 §2.8).
pub const DEFAULT_CHILD_REKEY_TIME: Duration = Duration::from_secs(3600);
/// Default `daemon.fragment_size` (RFC 7383 §2.5.1: 1280 fits every IPv6 path).
pub const DEFAULT_FRAGMENT_SIZE: u16 = 1280;
/// Default `daemon.state_dir` (virtual-IP leases).
pub const DEFAULT_STATE_DIR: &str = "/var/lib/rampart";

/// A whole configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from (as given to the loader).
    pub path: PathBuf,
    /// `[daemon]`.
    pub daemon: DaemonConfig,
    /// `[connections.NAME]`, in the order their tables appear in the file.
    pub connections: Vec<Connection>,
    /// `[secrets.ike.NAME]`, in file order.
    pub ike_secrets: Vec<IkeSecret>,
    /// `[authorities.NAME]`: trusted CAs and their CRLs, in file order.
    pub authorities: Vec<Authority>,
    /// `[pools.NAME]`: virtual-IP address pools, in file order.
    pub pools: Vec<Pool>,
    /// `[secrets.eap.NAME]`: EAP users, in file order.
    pub eap_secrets: Vec<EapSecret>,
}

/// `[daemon]`: process-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// Path of the control socket (absolute).
    pub control_socket: PathBuf,
    /// Name of the TUN device (1..=15 bytes).
    pub tun_name: String,
    /// UDP port for IKE.
    pub ike_port: u16,
    /// UDP port for NAT-T (IKE with the non-ESP marker, and ESP-in-UDP).
    pub natt_port: u16,
    /// Log verbosity of every subsystem not named in `log_subsystems`.
    pub log_level: LogLevel,
    /// Per-subsystem levels (`log_level = "info,ike=debug"`), in file order.
    pub log_subsystems: Vec<(Subsystem, LogLevel)>,
    /// Addresses to bind.
    pub listen: Vec<IpAddr>,
    /// A group whose members may use the control socket besides root (`None` = root only).
    pub control_group: Option<String>,
    /// Where the Prometheus endpoint listens (`None` = off, the default).
    pub metrics_listen: Option<SocketAddr>,
    /// THE compatibility setting for legacy crypto (docs/config.md "Legacy crypto"): when
    /// false (the default) proposals for which [`ProposalSpec::is_legacy`] is true (MODP-1024,
    /// or SHA-1 as the only PRF/integrity algorithm: Windows' built-in defaults) are refused.
    pub legacy_crypto: bool,
    /// Largest IP datagram of an IKE message once fragmentation is negotiated (RFC 7383 §2.5.1).
    pub fragment_size: u16,
    /// Where the daemon keeps state across restarts (virtual-IP leases); absolute.
    pub state_dir: PathBuf,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            control_socket: PathBuf::from(DEFAULT_CONTROL_SOCKET),
            tun_name: DEFAULT_TUN_NAME.to_string(),
            ike_port: DEFAULT_IKE_PORT,
            natt_port: DEFAULT_NATT_PORT,
            log_level: LogLevel::Info,
            log_subsystems: Vec::new(),
            control_group: None,
            metrics_listen: None,
            legacy_crypto: false,
            fragment_size: DEFAULT_FRAGMENT_SIZE,
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            listen: vec![
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            ],
        }
    }
}

/// `daemon.log_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `error`
    Error,
    /// `warn`
    Warn,
    /// `info` (default)
    Info,
    /// `debug`
    Debug,
    /// `trace`
    Trace,
}

impl LogLevel {
    /// The keyword used in the file (also what `tracing` filters accept).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// A part of the daemon whose log level can be set on its own (`log_level = "info,ike=debug"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subsystem {
    /// `ike`: the IKEv2 engine.
    Ike,
    /// `esp`: the ESP data plane (packets).
    Esp,
    /// `os`: TUN, sockets, routes (netlink).
    Os,
    /// `dataplane`: the daemon's packet loops.
    Dataplane,
    /// `control`: the control socket and the metrics endpoint.
    Control,
    /// `daemon`: the rest of the daemon (start, reload, shutdown).
    Daemon,
}

impl Subsystem {
    /// Every subsystem with its keyword.
    pub const ALL: &'static [(&'static str, Subsystem)] = &[
        ("ike", Subsystem::Ike),
        ("esp", Subsystem::Esp),
        ("os", Subsystem::Os),
        ("dataplane", Subsystem::Dataplane),
        ("control", Subsystem::Control),
        ("daemon", Subsystem::Daemon),
    ];

    /// The keyword used in `log_level`.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("daemon", |(k, _)| k)
    }
}

/// One IKE connection: `[connections.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The table's name.
    pub name: String,
    /// IKE major version; only 2.
    pub version: u8,
    /// Our addresses; empty = any.
    pub local_addrs: Vec<IpAddr>,
    /// The peer's addresses (never empty).
    pub remote_addrs: Vec<RemoteAddr>,
    /// IKE proposals, in preference order (RFC 7296 §3.3).
    pub proposals: Vec<ProposalSpec>,
    /// Force UDP encapsulation even without NAT (RFC 7296 §2.23, RFC 3948).
    pub encap: bool,
    /// Liveness check interval when idle (RFC 7296 §2.4); zero = off.
    pub dpd_delay: Duration,
    /// Initiation attempts; 0 = forever.
    pub keyingtries: u32,
    /// Rekey the IKE SA after this long (RFC 7296 §2.8); zero = never.
    pub rekey_time: Duration,
    /// What a failed liveness check does (RFC 7296 §2.4).
    pub dpd_action: DpdAction,
    /// IKE SA uniqueness per peer identity.
    pub unique: Unique,
    /// Offer and accept IKEv2 fragmentation (RFC 7383).
    pub fragmentation: bool,
    /// Offer and accept MOBIKE (RFC 4555).
    pub mobike: bool,
    /// Our side's authentication.
    pub local: AuthConfig,
    /// The peer's authentication; `id: None` = `%any`.
    pub remote: AuthConfig,
    /// Child SAs (at least one), in file order.
    pub children: Vec<Child>,
    /// Responder: names of `[pools.NAME]` to assign virtual IPs from (RFC 7296 §2.19), in
    /// order; empty = none.
    pub pools: Vec<String>,
    /// Responder: DNS servers pushed with the virtual IPs (INTERNAL_IP4_DNS / INTERNAL_IP6_DNS,
    /// RFC 7296 §3.15.1).
    pub dns: Vec<IpAddr>,
    /// Initiator: virtual IPs to request (CFG_REQUEST, RFC 7296 §3.15.4): `0.0.0.0` / `::`
    /// for any address of that family, or a specific one. At most one per family.
    pub vips: Vec<IpAddr>,
}

impl Connection {
    /// True when some child has `start_action = "start"`: initiate when the daemon starts.
    pub fn starts_on_load(&self) -> bool {
        self.children
            .iter()
            .any(|c| c.start_action == StartAction::Start)
    }

    /// Responder matching of an IKE_SA_INIT (docs/config.md "Semantics"): our address must be
    /// one of `local_addrs` (empty = any) and the peer's one of `remote_addrs` (`%any` = any).
    pub fn matches_addrs(&self, local: IpAddr, remote: IpAddr) -> bool {
        (self.local_addrs.is_empty() || self.local_addrs.contains(&local))
            && self.remote_addrs.iter().any(|r| r.matches(remote))
    }

    /// The child named `name`.
    pub fn child(&self, name: &str) -> Option<&Child> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// One entry of `remote_addrs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteAddr {
    /// A concrete peer address.
    Addr(IpAddr),
    /// `%any`: accept any peer (responder only).
    Any,
}

impl RemoteAddr {
    /// True when `addr` is acceptable as this peer address.
    pub fn matches(&self, addr: IpAddr) -> bool {
        match self {
            RemoteAddr::Addr(a) => *a == addr,
            RemoteAddr::Any => true,
        }
    }
}

/// `dpd_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DpdAction {
    /// Remove the SAs (default).
    Clear,
    /// Remove the SAs and initiate the connection again.
    Restart,
}

/// `unique`: IKE SA uniqueness per peer identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unique {
    /// A new IKE SA replaces the older ones of the same peer identity (default).
    Replace,
    /// Keep the existing IKE SA and refuse the new one.
    Keep,
    /// Several IKE SAs per peer identity are fine (unless it sends INITIAL_CONTACT).
    Never,
}

/// `[connections.NAME.local]` / `[connections.NAME.remote]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// How this side authenticates (RFC 7296 §2.15).
    pub auth: AuthMethod,
    /// The identity (RFC 7296 §3.5). Local: `None` = our IP address (psk) or the certificate's
    /// subject DN (pubkey). Remote: `None` = `%any`.
    pub id: Option<Identity>,
    /// Local side with `auth = "pubkey"`: our certificate and key. Always `None` remotely.
    pub cert: Option<LocalCertConfig>,
    /// Local side with `auth = "eap-mschapv2"`: our EAP user name (its password is the
    /// `[secrets.eap.*]` entry with this `user`). `None` = our IKE identity as text.
    pub eap_id: Option<String>,
}

/// `auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// Pre-shared key (RFC 7296 §2.15, Shared Key Message Integrity Code).
    Psk,
    /// A signature with a certificate's key (RFC 7296 §2.15, RFC 7427).
    Pubkey,
    /// EAP-MSCHAPv2 inside IKE_AUTH (RFC 7296 §2.16; draft-kamath-pppext-eap-mschapv2): a
    /// user name and password; the server side authenticates itself with a certificate.
    EapMschapv2,
}

impl AuthMethod {
    /// The keyword used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Psk => "psk",
            AuthMethod::Pubkey => "pubkey",
            AuthMethod::EapMschapv2 => "eap-mschapv2",
        }
    }
}

/// `local.cert` and `local.key`, loaded and checked (the key belongs to the certificate, and
/// `local.id`, if set, is proven by it). `Debug` does not show the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCertConfig {
    /// The certificate file as resolved (relative to the configuration's folder).
    pub cert_path: PathBuf,
    /// The key file as resolved.
    pub key_path: PathBuf,
    /// DER certificates: the end entity first, then the intermediates to send with it.
    pub chain: Vec<Vec<u8>>,
    /// The private key as unencrypted PKCS #8 DER (RFC 5208).
    pub key: SecretBytes,
    /// The end entity's subject DN as an identity (ID_DER_ASN1_DN): our identity when
    /// `local.id` is not set.
    pub subject: Identity,
}

/// `[authorities.NAME]`: a trusted CA and its CRLs (RFC 5280 §6.1 trust anchor, §5 CRLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// The table's name.
    pub name: String,
    /// `cacert` as resolved.
    pub cacert_path: PathBuf,
    /// The CA certificate(s) of `cacert` (DER); each is a CA.
    pub cacerts: Vec<Vec<u8>>,
    /// `crls` as resolved, in file order.
    pub crl_paths: Vec<PathBuf>,
    /// Every CRL of those files (DER).
    pub crls: Vec<Vec<u8>>,
}

/// `[connections.NAME.children.CHILD]`: one Child SA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// The table's name.
    pub name: String,
    /// Our traffic selectors (RFC 7296 §2.9), never empty.
    pub local_ts: Vec<TsSpec>,
    /// The peer's traffic selectors, never empty.
    pub remote_ts: Vec<TsSpec>,
    /// ESP proposals, in preference order. Empty when `ah_proposals` is set and
    /// `esp_proposals` is not (the child is then AH only).
    pub esp_proposals: Vec<ProposalSpec>,
    /// AH proposals (RFC 4302), in preference order; empty unless `ah_proposals` is set. When
    /// both lists are set, AH is offered and preferred first, then ESP (one SA payload,
    /// RFC 7296 §3.3: IKEv2 negotiates AH or ESP for a Child SA, never both).
    pub ah_proposals: Vec<ProposalSpec>,
    /// IPsec mode.
    pub mode: Mode,
    /// What to do when the daemon loads the configuration.
    pub start_action: StartAction,
    /// What to do when the peer deletes the Child SA.
    pub close_action: CloseAction,
    /// Rekey the Child SA after this long (RFC 7296 §2.8); zero = never.
    pub rekey_time: Duration,
    /// Delete the Child SA when it was not rekeyed after this long; zero = never (only with
    /// `rekey_time` zero). Longer than `rekey_time` otherwise.
    pub life_time: Duration,
    /// Data-plane settings of its Child SAs.
    pub dataplane: ChildDataplane,
}

/// A child's data-plane settings (keys `replay_window`, `rekey_bytes`, `life_bytes`,
/// `rekey_packets`, `life_packets`, `copy_dscp`, `mss_clamp`, `tfc_padding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildDataplane {
    /// Anti-replay window in packets (RFC 4303 §3.4.3), 0 = off, at most 4096.
    pub replay_window: u32,
    /// Rekey after this many bytes through an SA (RFC 4301 §4.4.2.1 soft limit); 0 = no limit.
    pub rekey_bytes: u64,
    /// Delete the SA after this many bytes (hard limit); 0 = no limit.
    pub life_bytes: u64,
    /// Rekey after this many packets; 0 = no limit.
    pub rekey_packets: u64,
    /// Delete after this many packets; 0 = no limit.
    pub life_packets: u64,
    /// Copy the inner DSCP to the outer header (RFC 4301 §5.1.2.1); ECN always per RFC 6040.
    pub copy_dscp: bool,
    /// Clamp the MSS of TCP SYNs to what fits the tunnel, both directions.
    pub mss_clamp: bool,
    /// Traffic Flow Confidentiality padding (RFC 4303 §2.7).
    pub tfc_padding: TfcPadding,
}

impl Default for ChildDataplane {
    fn default() -> Self {
        Self {
            replay_window: 64,
            rekey_bytes: 0,
            life_bytes: 0,
            rekey_packets: 0,
            life_packets: 0,
            copy_dscp: true,
            mss_clamp: true,
            tfc_padding: TfcPadding::Off,
        }
    }
}

/// `tfc_padding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TfcPadding {
    /// No padding (0).
    Off,
    /// Pad every inner packet to this many bytes (capped by the path MTU).
    Bytes(u16),
    /// Pad every inner packet to the path MTU (`"mtu"`).
    Mtu,
}

/// One entry of `local_ts` / `remote_ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsSpec {
    /// `dynamic`: the outer address of that side, known once the IKE SA is up.
    Dynamic,
    /// A fixed selector.
    Ts(TrafficSelector),
}

/// `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Tunnel mode (RFC 4301 §4.1).
    Tunnel,
    /// Transport mode (RFC 4301 §4.1, RFC 7296 §1.3.1): host to host, the peers' own
    /// addresses as selectors.
    Transport,
}

/// `start_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartAction {
    /// Wait for the peer or a control command (default).
    None,
    /// Initiate when the daemon starts.
    Start,
}

/// `close_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseAction {
    /// Do nothing (default).
    None,
    /// Initiate again when the peer deletes the Child SA.
    Start,
}

/// `[secrets.ike.NAME]`: a pre-shared key. `Debug` shows only its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeSecret {
    /// The table's name.
    pub name: String,
    /// The identities this key is for; empty = any (lowest priority).
    pub ids: Vec<Identity>,
    /// The key.
    pub secret: SecretBytes,
}

/// `[secrets.eap.NAME]`: an EAP-MSCHAPv2 user. `Debug` shows only the secret's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapSecret {
    /// The table's name.
    pub name: String,
    /// The EAP identity (user name), 1-255 bytes of UTF-8; compared exactly.
    pub user: String,
    /// The password: valid UTF-8 (MSCHAPv2 hashes its UTF-16 form, RFC 2759 §8.3).
    pub secret: SecretBytes,
}

/// `[pools.NAME]`: an address pool for virtual IPs (RFC 7296 §2.19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// The table's name.
    pub name: String,
    /// The addresses handed out.
    pub addrs: PoolRange,
    /// Forward and masquerade (source NAT) traffic from these addresses.
    pub masquerade: bool,
}

/// The addresses of a pool: an inclusive range of one family, as written (`text`). A CIDR
/// has its network address (and for IPv4 its broadcast address) left out when it has more
/// than two addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolRange {
    /// What the file said, e.g. `198.51.100.128/25` or `192.0.2.10-192.0.2.20`.
    pub text: String,
    /// The first address handed out.
    pub first: IpAddr,
    /// The last address handed out (same family, not below `first`).
    pub last: IpAddr,
    /// The CIDR prefix when `text` is one (address, length), for routes and NAT rules.
    pub prefix: Option<(IpAddr, u8)>,
}

fn ip_to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

impl PoolRange {
    /// IPv4 (else IPv6).
    pub fn is_ipv4(&self) -> bool {
        self.first.is_ipv4()
    }

    /// Number of addresses handed out (at least 1).
    pub fn size(&self) -> u128 {
        ip_to_u128(self.last)
            .saturating_sub(ip_to_u128(self.first))
            .saturating_add(1)
    }

    /// True when `a` is one of the addresses handed out.
    pub fn contains(&self, a: IpAddr) -> bool {
        a.is_ipv4() == self.is_ipv4()
            && ip_to_u128(a) >= ip_to_u128(self.first)
            && ip_to_u128(a) <= ip_to_u128(self.last)
    }

    /// The `i`-th address (0 = `first`), if `i < size()`.
    pub fn nth(&self, i: u128) -> Option<IpAddr> {
        if i >= self.size() {
            return None;
        }
        let n = ip_to_u128(self.first).checked_add(i)?;
        Some(match self.first {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(n).ok()?)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
        })
    }

    /// The index of `a` (inverse of [`PoolRange::nth`]).
    pub fn index_of(&self, a: IpAddr) -> Option<u128> {
        self.contains(a)
            .then(|| ip_to_u128(a).saturating_sub(ip_to_u128(self.first)))
    }

    /// True when the two ranges share an address.
    pub fn overlaps(&self, o: &PoolRange) -> bool {
        self.is_ipv4() == o.is_ipv4()
            && ip_to_u128(self.first) <= ip_to_u128(o.last)
            && ip_to_u128(o.first) <= ip_to_u128(self.last)
    }
}

impl core::fmt::Display for PoolRange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text)
    }
}
