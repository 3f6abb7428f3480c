//! What the engine is told: connections and their children, and engine-wide settings.
//! The daemon maps its TOML configuration onto these types.

use std::net::IpAddr;
use std::time::Duration;

use crypto::ProposalSpec;
use wire::{Identity, TrafficSelector};

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// UDP port for IKE (500).
    pub ike_port: u16,
    /// UDP port for NAT traversal (4500, RFC 3948).
    pub natt_port: u16,
    /// First retransmission timeout (RFC 7296 §2.4; strongSwan's default is 4 s).
    pub retransmit_timeout: Duration,
    /// Growth factor of the timeout per try.
    pub retransmit_base: f64,
    /// Retransmissions before giving up.
    pub retransmit_tries: u32,
    /// How long a responder keeps a half-open IKE SA.
    pub half_open_timeout: Duration,
    /// Interval of NAT keepalives sent when we are behind a NAT (RFC 3948 §2.3).
    pub keepalive_interval: Duration,
    /// Rekey IKE SAs after this long (minus up to 10% jitter); zero = never (RFC 7296 §2.8).
    pub ike_rekey_time: Duration,
    /// Rekey Child SAs after this long (minus up to 10% jitter); zero = never.
    pub child_rekey_time: Duration,
    /// Delete Child SAs not rekeyed after this long (default: rekey time + 10%).
    pub child_life_time: Option<Duration>,
    /// With this many half-open IKE SAs, new initiators must return a cookie (RFC 7296 §2.6).
    pub cookie_threshold: usize,
    /// At most this many half-open IKE SAs per source address; more are dropped.
    pub half_open_per_source: usize,
    /// Largest IP datagram for IKE messages once fragmentation is negotiated (RFC 7383 §2.5.1).
    pub fragment_size: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ike_port: 500,
            natt_port: 4500,
            retransmit_timeout: Duration::from_secs(4),
            retransmit_base: 1.8,
            retransmit_tries: 5,
            half_open_timeout: Duration::from_secs(30),
            keepalive_interval: Duration::from_secs(20),
            ike_rekey_time: Duration::from_secs(4 * 3600),
            child_rekey_time: Duration::from_secs(3600),
            child_life_time: None,
            cookie_threshold: 10,
            half_open_per_source: 5,
            fragment_size: 1280,
        }
    }
}

/// A peer address in a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerAddr {
    /// A specific address.
    Addr(IpAddr),
    /// Any address (responder only).
    Any,
}

/// When a child is brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartAction {
    /// Only when the peer initiates or an operator asks.
    #[default]
    None,
    /// When the daemon starts.
    Start,
}

/// IPsec mode of a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Tunnel mode (RFC 4301 §4.1).
    #[default]
    Tunnel,
    /// Transport mode (RFC 4301 §4.1), host to host: asked for with the USE_TRANSPORT_MODE
    /// notify (RFC 7296 §1.3.1) and only installed when the peer agrees.
    Transport,
}

/// A configured traffic selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsConfig {
    /// A fixed selector.
    Ts(TrafficSelector),
    /// The host's own outer address (ours for local_ts, the peer's for remote_ts).
    Dynamic,
}

/// What to do when a peer stops answering liveness checks (RFC 7296 §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpdAction {
    /// Remove the SAs.
    #[default]
    Clear,
    /// Remove the SAs and initiate the connection again.
    Restart,
}

/// IKE SA uniqueness per peer identity (checked when a new IKE SA is authenticated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unique {
    /// Several IKE SAs per identity are fine (unless the peer sends INITIAL_CONTACT).
    Never,
    /// Keep the existing IKE SA and refuse the new one.
    Keep,
    /// The new IKE SA replaces the old ones (also what INITIAL_CONTACT asks for).
    #[default]
    Replace,
}

/// How one side authenticates (RFC 7296 §2.15, RFC 7427).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthKind {
    /// Pre-shared key.
    #[default]
    Psk,
    /// Public-key signature with a certificate.
    Pubkey,
    /// EAP inside IKE_AUTH (RFC 7296 §2.16): EAP-MSCHAPv2 with a user name and password. The
    /// server side also authenticates itself with a certificate (`local_auth = Pubkey`).
    Eap,
}

impl std::fmt::Display for AuthKind {
    /// How logs name the method: "a pre-shared key", "a certificate", "EAP".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthKind::Psk => "a pre-shared key",
            AuthKind::Pubkey => "a certificate",
            AuthKind::Eap => "EAP",
        })
    }
}

/// One child (CHILD_SA template) of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChildConfig {
    /// Name, unique in its connection.
    pub name: String,
    /// Our side's selectors.
    pub local_ts: Vec<TsConfig>,
    /// The peer side's selectors.
    pub remote_ts: Vec<TsConfig>,
    /// ESP proposals in preference order.
    pub esp_proposals: Vec<ProposalSpec>,
    /// AH proposals (RFC 4302) in preference order, offered and preferred before the ESP ones
    /// (IKEv2 gives a Child SA one protocol, RFC 7296 §3.3.1). Never offered nor accepted when
    /// the IKE SA uses UDP encapsulation (NAT detected or `encap`): RFC 3948 is ESP-only.
    pub ah_proposals: Vec<ProposalSpec>,
    /// Mode.
    pub mode: Mode,
    /// Start action.
    pub start_action: StartAction,
    /// Re-initiate when the peer closes the SA.
    pub close_action_start: bool,
    /// Rekey after this long (`None`: the engine default; zero: never).
    pub rekey_time: Option<std::time::Duration>,
    /// Delete when not rekeyed after this long (`None`: rekey time + 10%).
    pub life_time: Option<std::time::Duration>,
}

impl ChildConfig {
    /// Our proposals for this child in preference (and offer) order: AH first, then ESP.
    pub fn proposals(&self) -> impl Iterator<Item = &ProposalSpec> + Clone {
        self.ah_proposals.iter().chain(self.esp_proposals.iter())
    }
}

/// One connection (an IKE SA template).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IkeConfig {
    /// Name, unique.
    pub name: String,
    /// Our addresses (empty = any).
    pub local_addrs: Vec<IpAddr>,
    /// The peer's addresses.
    pub remote_addrs: Vec<PeerAddr>,
    /// IKE proposals in preference order.
    pub proposals: Vec<ProposalSpec>,
    /// Our identity (default: our IP address).
    pub local_id: Option<Identity>,
    /// The identity we require of the peer (`None` = any that authenticates).
    pub remote_id: Option<Identity>,
    /// Force UDP encapsulation by faking NAT detection (RFC 7296 §2.23 allows it).
    pub encap: bool,
    /// Liveness check when nothing was received for this long (zero = off).
    pub dpd_delay: std::time::Duration,
    /// Attempts to establish the SA as initiator before giving up (0 = forever).
    pub keyingtries: u32,
    /// What a failed liveness check does.
    pub dpd_action: DpdAction,
    /// Rekey the IKE SA after this long (`None`: the engine default; zero: never).
    pub rekey_time: Option<std::time::Duration>,
    /// IKE SA uniqueness per peer identity.
    pub unique: Unique,
    /// How we authenticate.
    pub local_auth: AuthKind,
    /// How the peer must authenticate.
    pub remote_auth: AuthKind,
    /// Offer and accept IKEv2 fragmentation (RFC 7383).
    pub fragmentation: bool,
    /// Offer and accept MOBIKE (RFC 4555).
    pub mobike: bool,
    /// Responder: address pools to hand out virtual IPs from (RFC 7296 §3.15, §2.19).
    pub pools: Vec<String>,
    /// Responder: DNS servers to push (INTERNAL_IP4_DNS / INTERNAL_IP6_DNS).
    pub dns: Vec<IpAddr>,
    /// Initiator: virtual IPs to request: `0.0.0.0` / `::` for any of that family, or a
    /// specific address.
    pub vips: Vec<IpAddr>,
    /// Initiator with EAP: the EAP identity (user name); default: our IKE identity as text.
    pub eap_id: Option<String>,
    /// The children.
    pub children: Vec<ChildConfig>,
}

impl IkeConfig {
    /// True when this connection accepts a peer at `remote` arriving on our `local`.
    pub fn matches_addrs(&self, local: IpAddr, remote: IpAddr) -> bool {
        let local_ok = self.local_addrs.is_empty() || self.local_addrs.contains(&local);
        let remote_ok = self.remote_addrs.is_empty()
            || self.remote_addrs.iter().any(|r| match r {
                PeerAddr::Any => true,
                PeerAddr::Addr(a) => *a == remote,
            });
        local_ok && remote_ok
    }

    /// Our identity on an SA from `local`: the configured one, else our address.
    pub fn our_identity(&self, local: IpAddr) -> Identity {
        self.local_id.clone().unwrap_or(match local {
            IpAddr::V4(a) => Identity::Ipv4(a),
            IpAddr::V6(a) => Identity::Ipv6(a),
        })
    }
}
