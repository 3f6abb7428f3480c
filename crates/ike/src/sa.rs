//! IKE SA and Child SA state.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crypto::{KeyExchange, Suite};
use wire::{Identity, TrafficSelector};

use crate::config::{ChildConfig, IkeConfig};
use crate::event::{ChildSaId, IkeSaId, Transmit};
use crate::keys::IkeKeys;
use crate::nat::NatState;
use crate::retransmit::Outstanding;

/// Where an IKE SA is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IkeState {
    /// Initiator: IKE_SA_INIT request sent.
    InitSent,
    /// Initiator: IKE_AUTH request sent.
    AuthSent,
    /// Responder: IKE_SA_INIT answered, waiting for IKE_AUTH (half-open).
    InitDone,
    /// Authenticated.
    Established,
    /// Delete sent, waiting for the answer.
    Deleting,
}

impl IkeState {
    /// The name `status` shows.
    pub fn label(self) -> &'static str {
        match self {
            IkeState::InitSent | IkeState::AuthSent | IkeState::InitDone => "CONNECTING",
            IkeState::Established => "ESTABLISHED",
            IkeState::Deleting => "DELETING",
        }
    }
}

/// What our outstanding request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// IKE_SA_INIT.
    Init,
    /// IKE_AUTH.
    Auth,
    /// INFORMATIONAL deleting the IKE SA.
    DeleteIke,
    /// INFORMATIONAL deleting a Child SA.
    DeleteChild(ChildSaId),
    /// Empty INFORMATIONAL (liveness check, RFC 7296 §1.4).
    Liveness,
    /// INFORMATIONAL carrying AUTHENTICATION_FAILED after the responder failed our check.
    AuthFailedNotice,
    /// CREATE_CHILD_SA (the context is in `IkeSa::creating`).
    CreateChildSa,
    /// INFORMATIONAL with UPDATE_SA_ADDRESSES: we moved (RFC 4555 §3.5).
    UpdateAddresses,
    /// INFORMATIONAL with COOKIE2 to the peer's new address (return routability, RFC 4555 §3.6).
    RoutabilityCheck,
}

/// What our outstanding CREATE_CHILD_SA does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CreateKind {
    /// An additional Child SA (RFC 7296 §1.3.1) of the named child configuration.
    NewChild(String),
    /// Rekey of this Child SA (§1.3.3), of the named child configuration.
    RekeyChild(ChildSaId, String),
    /// Rekey of the IKE SA (§1.3.2).
    RekeyIke,
}

/// Our CREATE_CHILD_SA in flight.
#[derive(Debug)]
pub(crate) struct CreateCtx {
    pub kind: CreateKind,
    /// The child's configuration (child exchanges).
    pub cfg: Option<ChildConfig>,
    /// Our nonce.
    pub ni: Vec<u8>,
    /// Our key exchange (PFS / IKE rekey).
    pub ke: Option<KeyExchange>,
    /// Our new SPI: ESP or AH (4 octets) or IKE (8 octets).
    pub spi: u64,
    /// The protocols of the proposals we offered (IKE; for children AH and/or ESP): the only
    /// ones the answer may choose.
    pub protocols: &'static [crypto::proposal::Protocol],
    /// Proposed selectors (child exchanges).
    pub tsi: Vec<TrafficSelector>,
    pub tsr: Vec<TrafficSelector>,
    /// The peer rekeyed the same SA at the same time (RFC 7296 §2.8.1/§2.8.2): the SA its
    /// exchange created and that exchange's nonces.
    pub collision: Option<Collision>,
}

/// The peer's half of a rekey collision.
#[derive(Debug, Clone)]
pub(crate) struct Collision {
    /// The Child SA (or IKE SA id) the peer's exchange created.
    pub created: u64,
    /// That exchange's nonces (peer's Ni, our Nr).
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
}

/// Where an EAP authentication inside IKE_AUTH stands (RFC 7296 §2.16).
pub(crate) enum EapPhase {
    /// Server: the conversation runs; `req1` is the client's first IKE_AUTH request (its child
    /// and configuration payloads are answered in the last response).
    Server {
        server: eap::EapServer,
        req1: Vec<wire::ike::Payload>,
        idi: Identity,
        our_id: Identity,
    },
    /// Server: EAP succeeded; waiting for the client's AUTH computed with the MSK.
    ServerDone {
        msk: crypto::SecretBytes,
        req1: Vec<wire::ike::Payload>,
        idi: Identity,
        our_id: Identity,
        user: String,
    },
    /// Client: the conversation runs.
    Client { client: eap::EapClient },
    /// Client: EAP succeeded; our AUTH with the MSK is sent.
    ClientDone { msk: crypto::SecretBytes },
}

impl core::fmt::Debug for EapPhase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            EapPhase::Server { .. } => "EapPhase::Server",
            EapPhase::ServerDone { .. } => "EapPhase::ServerDone",
            EapPhase::Client { .. } => "EapPhase::Client",
            EapPhase::ClientDone { .. } => "EapPhase::ClientDone",
        })
    }
}

/// The child an initiator negotiates inside IKE_AUTH.
#[derive(Debug, Clone)]
pub(crate) struct PendingChild {
    /// Its configuration.
    pub cfg: ChildConfig,
    /// Our inbound SPI.
    pub spi: u32,
    /// The protocols we offered (AH and/or ESP).
    pub protocols: &'static [crypto::proposal::Protocol],
    /// Proposed TSi.
    pub tsi: Vec<TrafficSelector>,
    /// Proposed TSr.
    pub tsr: Vec<TrafficSelector>,
}

/// Child SA state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildState {
    /// Installed in the data plane.
    Installed,
    /// Delete sent.
    Deleting,
}

/// An established Child SA.
#[derive(Debug, Clone)]
pub(crate) struct ChildSa {
    pub id: ChildSaId,
    pub cfg: ChildConfig,
    pub inbound_spi: u32,
    pub outbound_spi: u32,
    pub suite: Suite,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
    pub state: ChildState,
    /// Sending on this SA (false for a rekey responder's new SA until the old one goes).
    pub outbound_active: bool,
    /// The SA that rekeyed this one (this one is going away).
    pub successor: Option<ChildSaId>,
    /// When to rekey, when to delete (RFC 7296 §2.8 lifetimes).
    pub rekey_at: Option<Instant>,
    pub expire_at: Option<Instant>,
    /// ChildSaDown was already emitted (an operator delete stops traffic at once).
    pub down_reported: bool,
}

/// An IKE SA.
#[derive(Debug)]
pub(crate) struct IkeSa {
    pub id: IkeSaId,
    pub cfg: Arc<IkeConfig>,
    pub initiator: bool,
    pub state: IkeState,
    pub spi_i: u64,
    pub spi_r: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub nat: NatState,
    pub suite: Option<Suite>,
    pub keys: Option<IkeKeys>,
    pub ke: Option<KeyExchange>,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    /// RealMessage1 / RealMessage2 (RFC 7296 §2.15), without the non-ESP marker.
    pub init_request: Vec<u8>,
    pub init_response: Vec<u8>,
    pub local_id: Option<Identity>,
    pub remote_id: Option<Identity>,
    pub cookie: Option<Vec<u8>>,
    /// Boxed, as `eap`: set only while IKE_AUTH runs, and an `IkeSa` lives long after.
    pub pending_child: Option<Box<PendingChild>>,
    pub children: Vec<ChildSa>,
    /// Message ID of our next request.
    pub next_request_id: u32,
    pub outstanding: Option<(RequestKind, Outstanding)>,
    pub queued: std::collections::VecDeque<RequestKind>,
    /// Message ID we expect on the peer's next request.
    pub expected_peer_id: u32,
    /// Our answer to the peer's last request, for retransmissions (RFC 7296 §2.1).
    pub last_response: Option<(u32, Vec<Transmit>)>,
    pub established_at: Option<Instant>,
    pub last_received: Instant,
    pub half_open_deadline: Option<Instant>,
    /// Responder: where the IKE_SA_INIT came from, the key of our half-open entry (the SA's
    /// `remote` moves to port 4500 on a NAT-T float, so it cannot be used to remove it).
    pub half_open_from: Option<SocketAddr>,
    pub keepalive_deadline: Option<Instant>,
    /// The child to create when initiating (None = first configured).
    pub wanted_child: Option<String>,
    /// Which attempt this is (initiator, counted from 1; see `keyingtries`).
    pub attempt: u32,
    /// Our CREATE_CHILD_SA in flight.
    pub creating: Option<CreateCtx>,
    /// When to rekey the IKE SA.
    pub rekey_at: Option<Instant>,
    /// This SA was rekeyed into that one (it is being deleted; its children moved).
    pub rekeyed_to: Option<IkeSaId>,
    /// Virtual IPs: assigned to the peer from our pools (responder; pool name kept for the
    /// release), or assigned to us by the peer (initiator).
    pub remote_vips: Vec<(String, std::net::IpAddr)>,
    pub local_vips: Vec<std::net::IpAddr>,
    /// EAP in progress or done (IKE_AUTH with EAP).
    pub eap: Option<Box<EapPhase>>,
    /// Both sides announced MOBIKE_SUPPORTED (RFC 4555 §3.2).
    pub mobike: bool,
    /// COOKIE2 of our outstanding UPDATE_SA_ADDRESSES or return routability check (RFC 4555 §3.5).
    pub cookie2: Option<Vec<u8>>,
    /// The hashes the peer announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4).
    pub peer_sig_hashes: Vec<crypto::sign::SignatureHash>,
    /// Both sides announced IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 §2.3).
    pub frag_ok: bool,
    /// Messages being reassembled from fragments.
    pub reassembly: Vec<crate::fragment::Reassembly>,
    /// CREATE_CHILD_SA exchanges waiting for their turn (window size 1, RFC 7296 §2.3).
    pub queued_creates: std::collections::VecDeque<CreateKind>,
}

impl IkeSa {
    /// A new SA between `local` and `remote`, with no keys, children or exchanges yet.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: IkeSaId,
        cfg: Arc<IkeConfig>,
        initiator: bool,
        spi_i: u64,
        spi_r: u64,
        local: SocketAddr,
        remote: SocketAddr,
        now: Instant,
    ) -> Self {
        Self {
            id,
            cfg,
            initiator,
            state: if initiator {
                IkeState::InitSent
            } else {
                IkeState::InitDone
            },
            spi_i,
            spi_r,
            local,
            remote,
            nat: NatState::default(),
            suite: None,
            keys: None,
            ke: None,
            ni: Vec::new(),
            nr: Vec::new(),
            init_request: Vec::new(),
            init_response: Vec::new(),
            local_id: None,
            remote_id: None,
            cookie: None,
            pending_child: None,
            children: Vec::new(),
            next_request_id: 0,
            outstanding: None,
            queued: std::collections::VecDeque::new(),
            expected_peer_id: 0,
            last_response: None,
            established_at: None,
            last_received: now,
            half_open_deadline: None,
            half_open_from: None,
            keepalive_deadline: None,
            wanted_child: None,
            attempt: 1,
            creating: None,
            rekey_at: None,
            rekeyed_to: None,
            queued_creates: std::collections::VecDeque::new(),
            frag_ok: false,
            peer_sig_hashes: Vec::new(),
            mobike: false,
            eap: None,
            remote_vips: Vec::new(),
            local_vips: Vec::new(),
            cookie2: None,
            reassembly: Vec::new(),
        }
    }

    /// Once established, frees what only IKE_SA_INIT and IKE_AUTH needed: the two IKE_SA_INIT
    /// messages and the nonces, signed over in AUTH (RFC 7296 §2.15) and used for the first
    /// Child SA's keys (§2.17). Nothing later reads them (rekeys bring fresh nonces, §2.18),
    /// and an idle SA should hold only what it uses. The children's vector, grown to room for
    /// four by its first push, is fitted to the one Child SA most SAs keep.
    pub fn release_setup_state(&mut self) {
        if self.state == IkeState::Established && !self.init_request.is_empty() {
            self.init_request = Vec::new();
            self.init_response = Vec::new();
            self.ni = Vec::new();
            self.nr = Vec::new();
            self.children.shrink_to_fit();
        }
    }

    /// UDP encapsulation applies: NAT detected on either side (RFC 7296 §2.23), or forced by
    /// `encap`. Its Child SAs are then ESP in UDP (RFC 3948), and AH cannot be used.
    pub fn udp_encap(&self) -> bool {
        self.nat.any() || self.cfg.encap
    }

    /// The Child SA protocols this SA may negotiate now: ESP and AH, or only ESP under UDP
    /// encapsulation (AH authenticates the outer addresses a NAT rewrites, and RFC 3948
    /// encapsulates ESP only).
    pub fn child_protocols(&self) -> &'static [crypto::proposal::Protocol] {
        use crypto::proposal::Protocol;
        if self.udp_encap() {
            &[Protocol::Esp]
        } else {
            &[Protocol::Ah, Protocol::Esp]
        }
    }

    /// Our SPI: the one that names this SA in our table.
    pub fn our_spi(&self) -> u64 {
        if self.initiator {
            self.spi_i
        } else {
            self.spi_r
        }
    }
}
