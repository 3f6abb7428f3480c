//! The engine: owns the IKE SAs, dispatches datagrams to exchanges, runs timers, answers
//! commands. Exchange logic lives in `exchange/`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use crypto::Random;
use wire::ike::{ExchangeType, Flags, Header, Message, Notify, NotifyType, Payload, IKE_VERSION_2};
use wire::natt::NON_ESP_MARKER;

use crate::config::{EngineConfig, IkeConfig};
use crate::credentials::Credentials;
use crate::event::{ChildSaId, Event, IkeSaId, Transmit};
use crate::retransmit::Outstanding;
use crate::sa::{ChildState, IkeSa, IkeState, RequestKind};

/// Why `initiate` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitiateError {
    /// No connection of that name.
    #[error("no connection named '{0}'")]
    UnknownConnection(String),
    /// No child of that name.
    #[error("connection '{0}' has no child named '{1}'")]
    UnknownChild(String, String),
    /// The connection names no specific peer address.
    #[error("connection '{0}' has no specific remote address to initiate to")]
    NoRemoteAddress(String),
    /// Our source address is unknown.
    #[error("connection '{0}': no local address to send from")]
    NoLocalAddress(String),
    /// The connection has no IKE proposal with a supported key exchange.
    #[error("connection '{0}': no usable IKE proposal")]
    NoProposal(String),
}

/// An initiation to (re)start: connection, child, our address, attempt number.
#[derive(Debug, Clone)]
pub(crate) struct Retry {
    pub conn: String,
    pub child: Option<String>,
    pub local: IpAddr,
    pub attempt: u32,
}

/// What `update_connections` did, by connection name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// New connections.
    pub added: Vec<String>,
    /// Connections that are gone; their SAs are being deleted.
    pub removed: Vec<String>,
    /// Connections whose settings changed; their SAs are being deleted (new ones use the new
    /// settings).
    pub changed: Vec<String>,
    /// Connections left exactly as they were, SAs included.
    pub unchanged: Vec<String>,
}

/// Counters since the engine started (for metrics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// IKE SAs established.
    pub ike_established: u64,
    /// Child SAs established.
    pub child_established: u64,
    /// IKE SAs that went down, by reason (`deleted`, `AUTHENTICATION_FAILED`, ...).
    pub ike_down: BTreeMap<String, u64>,
    /// IKE SAs that failed before or while being established, by reason (a subset of
    /// `ike_down`).
    pub ike_failed: BTreeMap<String, u64>,
}

/// The IKEv2 engine. See the crate documentation.
pub struct Engine {
    pub(crate) cfg: EngineConfig,
    pub(crate) conns: Vec<Arc<IkeConfig>>,
    pub(crate) creds: Box<dyn Credentials>,
    pub(crate) rng: Box<dyn Random>,
    /// Boxed: an `IkeSa` is ~1.7 KiB, and B-tree nodes hold values inline with up to half of
    /// their 11 slots empty.
    pub(crate) sas: crate::sa_table::SaTable,
    /// Our IKE SPI → SA.
    pub(crate) by_spi: HashMap<u64, IkeSaId>,
    /// (peer, SPIi) → SA, for retransmitted IKE_SA_INIT requests (responder).
    pub(crate) half_open: HashMap<(SocketAddr, u64), IkeSaId>,
    /// Our inbound Child SA SPIs (ESP and AH share one space, so the data plane can key its
    /// SAs by SPI alone).
    pub(crate) esp_spis: HashSet<u32>,
    /// (hash of the peer's identity, SA) for every SA with a known peer identity: finds the
    /// SAs of one peer for uniqueness and INITIAL_CONTACT (RFC 7296 §2.4) without a scan of
    /// every SA. Entries are candidates: a hash collision is filtered by comparing identities.
    pub(crate) by_peer: BTreeSet<(u64, IkeSaId)>,
    peer_hasher: std::hash::RandomState,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    /// Initiations to start once the current handler is done (keyingtries, close_action).
    pub(crate) retries: Vec<Retry>,
    pub(crate) stats: EngineStats,
    pub(crate) cookies: crate::cookie::Cookies,
    pub(crate) impair: crate::impair::Impairment,
    pub(crate) pools: Option<Box<dyn crate::credentials::Pools>>,
    sent_count: usize,
    next_sa: u64,
    next_child: u64,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("ike_sas", &self.sas.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with these connections, credentials and randomness.
    pub fn new(
        cfg: EngineConfig,
        conns: Vec<IkeConfig>,
        creds: Box<dyn Credentials>,
        mut rng: Box<dyn Random>,
    ) -> Self {
        let cookies = crate::cookie::Cookies::new(rng.as_mut());
        Self {
            cookies,
            impair: crate::impair::Impairment::default(),
            pools: None,
            sent_count: 0,
            cfg,
            conns: conns.into_iter().map(Arc::new).collect(),
            creds,
            rng,
            sas: crate::sa_table::SaTable::default(),
            by_spi: HashMap::new(),
            half_open: HashMap::new(),
            esp_spis: HashSet::new(),
            by_peer: BTreeSet::new(),
            peer_hasher: std::hash::RandomState::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            retries: Vec::new(),
            stats: EngineStats::default(),
            next_sa: 1,
            next_child: 1,
        }
    }

    /// The engine settings.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Counters since start.
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Replaces the connections (a configuration reload). SAs of unchanged connections are
    /// kept; those of removed or changed ones are deleted (DELETE sent). The driver starts what
    /// should start.
    pub fn update_connections(&mut self, now: Instant, conns: Vec<IkeConfig>) -> ReloadReport {
        let mut report = ReloadReport::default();
        for old in &self.conns {
            match conns.iter().find(|c| c.name == old.name) {
                None => report.removed.push(old.name.clone()),
                Some(new) if new != old.as_ref() => report.changed.push(old.name.clone()),
                Some(_) => report.unchanged.push(old.name.clone()),
            }
        }
        for c in &conns {
            if !self.conns.iter().any(|o| o.name == c.name) {
                report.added.push(c.name.clone());
            }
        }
        let mut kept: Vec<Arc<IkeConfig>> = Vec::new();
        for c in conns {
            match self
                .conns
                .iter()
                .find(|o| o.name == c.name && o.as_ref() == &c)
            {
                Some(old) => kept.push(old.clone()),
                None => kept.push(Arc::new(c)),
            }
        }
        self.conns = kept;
        for name in report.removed.iter().chain(report.changed.iter()) {
            self.terminate_connection(now, name);
        }
        report
    }

    /// Names of the configured connections, in order.
    pub fn connection_names(&self) -> Vec<String> {
        self.conns.iter().map(|c| c.name.clone()).collect()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Test support: whether the deadline index agrees with every SA's own deadlines (a
    /// stale index would delay a retransmission or a rekey). Not for production use.
    #[doc(hidden)]
    pub fn deadline_index_is_consistent_for_testing(&self) -> bool {
        self.sas.index_is_consistent()
    }

    /// When `handle_timeout` should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sas.next_deadline()
    }

    pub(crate) fn dpd_due(&self, sa: &IkeSa) -> Option<Instant> {
        crate::sa_table::dpd_due(sa)
    }

    pub(crate) fn alloc_sa_id(&mut self) -> IkeSaId {
        let id = IkeSaId(self.next_sa);
        self.next_sa += 1;
        id
    }

    pub(crate) fn alloc_child_id(&mut self) -> ChildSaId {
        let id = ChildSaId(self.next_child);
        self.next_child += 1;
        id
    }

    /// A fresh, unused, non-zero IKE SPI.
    pub(crate) fn alloc_ike_spi(&mut self) -> u64 {
        loop {
            let mut b = [0u8; 8];
            self.rng.fill(&mut b);
            let spi = u64::from_be_bytes(b);
            if spi != 0 && !self.by_spi.contains_key(&spi) {
                return spi;
            }
        }
    }

    /// A fresh, unused ESP or AH SPI (values below 256 are reserved, RFC 4303 §2.1, RFC 4302
    /// §2.4).
    pub(crate) fn alloc_esp_spi(&mut self) -> u32 {
        loop {
            let mut b = [0u8; 4];
            self.rng.fill(&mut b);
            let spi = u32::from_be_bytes(b);
            if spi >= 256 && self.esp_spis.insert(spi) {
                return spi;
            }
        }
    }

    pub(crate) fn random_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.rng.fill(&mut v);
        v
    }

    /// Queues `msg` (an IKE message) for sending, adding the non-ESP marker on the NAT-T port.
    pub(crate) fn transmit(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &[u8],
    ) -> Transmit {
        let mut payload = Vec::with_capacity(msg.len() + 4);
        if local.port() == self.cfg.natt_port {
            payload.extend_from_slice(&NON_ESP_MARKER);
        }
        payload.extend_from_slice(msg);
        let n = self.sent_count;
        self.sent_count += 1;
        let t = Transmit {
            local,
            remote,
            payload,
        };
        // The impairment hits this datagram only, not the copy kept for retransmission.
        if self.impair.drop_nth != Some(n) {
            let mut out = t.clone();
            if self.impair.corrupt_nth == Some(n) {
                if let Some(last) = out.payload.last_mut() {
                    *last ^= 1;
                }
            }
            self.transmits.push_back(out);
        }
        t
    }

    /// Address pools for virtual IPs handed to clients (responder side).
    pub fn set_pools(&mut self, pools: Box<dyn crate::credentials::Pools>) {
        self.pools = Some(pools);
    }

    /// Test-only: makes this engine a broken peer (see [`crate::Impairment`]).
    #[doc(hidden)]
    pub fn set_impairment(&mut self, impairment: crate::impair::Impairment) {
        self.impair = impairment;
    }

    /// The payloads to send after the impairment switch had its way.
    pub(crate) fn impaired(&self, payloads: &[Payload]) -> Vec<Payload> {
        match self.impair.omit_payload {
            Some(t) => payloads
                .iter()
                .filter(|p| p.payload_type() != t)
                .cloned()
                .collect(),
            None => payloads.to_vec(),
        }
    }

    /// The version octet to send (2.0 unless impaired).
    pub(crate) fn version(&self) -> u8 {
        if self.impair.bump_version {
            0x30
        } else {
            IKE_VERSION_2
        }
    }

    /// The header of a message on `sa`.
    pub(crate) fn header(
        sa: &IkeSa,
        exchange: ExchangeType,
        response: bool,
        message_id: u32,
    ) -> Header {
        Header {
            spi_i: sa.spi_i,
            spi_r: sa.spi_r,
            next_payload: 0,
            version: IKE_VERSION_2,
            exchange,
            flags: Flags::new(sa.initiator, response),
            message_id,
            length: 0,
        }
    }

    /// Sends a request on an SA with keys: encrypts, transmits, and arms retransmission.
    pub(crate) fn send_request(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        kind: RequestKind,
        exchange: ExchangeType,
        inner: &[Payload],
    ) {
        let mid = sa.next_request_id;
        let header = Self::header(sa, exchange, false, mid);
        let Some(msgs) = self.seal_for(sa, &header, inner) else {
            return;
        };
        sa.next_request_id = sa.next_request_id.wrapping_add(1);
        let payloads = msgs
            .iter()
            .map(|m| self.transmit(sa.local, sa.remote, m).payload)
            .collect();
        sa.outstanding = Some((kind, Outstanding::new(mid, payloads, now, &self.cfg)));
    }

    /// Encrypts a message for `sa`, in fragments when negotiated and needed (RFC 7383 §2.5).
    fn seal_for(
        &mut self,
        sa: &mut IkeSa,
        header: &Header,
        inner: &[Payload],
    ) -> Option<Vec<Vec<u8>>> {
        let max = sa.frag_ok.then(|| {
            let ip = if sa.remote.is_ipv4() { 20 } else { 40 };
            let marker = if sa.local.port() == self.cfg.natt_port {
                4
            } else {
                0
            };
            self.cfg.fragment_size.saturating_sub(ip + 8 + marker)
        });
        let mut header = *header;
        header.version = self.version();
        let inner = self.impaired(inner);
        let keys = sa.keys.as_mut()?;
        match keys.seal_message(&header, &inner, max, self.rng.as_mut()) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::error!(ike_sa = %sa.id, "IKE_SA {}[{}]: cannot encrypt {} message: {e}", sa.cfg.name, sa.id, header.exchange.name());
                None
            }
        }
    }

    /// Sends an encrypted response to the peer's request `mid` and caches it.
    pub(crate) fn send_response(
        &mut self,
        sa: &mut IkeSa,
        exchange: ExchangeType,
        mid: u32,
        inner: &[Payload],
    ) {
        let header = Self::header(sa, exchange, true, mid);
        let Some(msgs) = self.seal_for(sa, &header, inner) else {
            return;
        };
        let sent = msgs
            .iter()
            .map(|m| self.transmit(sa.local, sa.remote, m))
            .collect();
        sa.last_response = Some((mid, sent));
        sa.expected_peer_id = mid.wrapping_add(1);
    }

    /// Feeds one received UDP datagram carrying IKE. `local` is the address and port it arrived
    /// on, `remote` its source. On the NAT-T port the payload starts with the non-ESP marker
    /// (datagrams without it are ESP and must go to the data plane, not here).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        payload: &[u8],
    ) {
        let msg = if local.port() == self.cfg.natt_port {
            match payload.strip_prefix(&NON_ESP_MARKER[..]) {
                Some(m) => m,
                None => return, // ESP or a keepalive: not ours.
            }
        } else {
            payload
        };
        let header = match Header::parse(msg) {
            Ok(h) => h,
            Err(wire::WireError::UnsupportedVersion) => {
                self.answer_major_version(local, remote, msg);
                return;
            }
            Err(e) => {
                tracing::debug!("dropping malformed IKE datagram from {remote}: {e}");
                return;
            }
        };
        if header.exchange == ExchangeType::IkeSaInit
            && !header.flags.response()
            && header.flags.initiator()
            && header.spi_r == 0
        {
            self.responder_init(now, local, remote, msg, &header);
            return;
        }
        // The Initiator flag names the sender's role; our SPI is the other one.
        let our_spi = if header.flags.initiator() {
            header.spi_r
        } else {
            header.spi_i
        };
        let Some(id) = self.by_spi.get(&our_spi).copied() else {
            tracing::debug!("dropping IKE message from {remote} for unknown SPI {our_spi:016x}");
            return;
        };
        let Some(mut sa) = self.sas.remove(&id) else {
            return;
        };
        let keep = if header.flags.response() {
            self.handle_response(&mut sa, now, local, remote, msg, &header)
        } else {
            self.handle_request(&mut sa, now, local, remote, msg, &header)
        };
        self.finish(sa, keep);
        self.run_retries(now);
    }

    /// A request with a higher major version is dropped and answered with an unauthenticated
    /// INVALID_MAJOR_VERSION naming 2.0 (RFC 7296 §2.5).
    fn answer_major_version(&mut self, local: SocketAddr, remote: SocketAddr, msg: &[u8]) {
        let Some(fixed) = msg
            .get(..wire::ike::HEADER_LEN)
            .and_then(|b| <&[u8; 28]>::try_from(b).ok())
        else {
            return;
        };
        let h = Header::parse_fixed(fixed);
        if h.flags.response() || h.version >> 4 <= 2 {
            return;
        }
        tracing::info!(
            "{remote} speaks IKE version {}.{}; sending INVALID_MAJOR_VERSION",
            h.version >> 4,
            h.version & 0xf
        );
        let resp = Header {
            spi_i: h.spi_i,
            spi_r: h.spi_r,
            next_payload: 0,
            version: IKE_VERSION_2,
            exchange: h.exchange,
            flags: Flags::new(false, true),
            message_id: h.message_id,
            length: 0,
        };
        let n = Notify::new(NotifyType::INVALID_MAJOR_VERSION, vec![]);
        if let Ok(m) = Message::emit(&resp, &[Payload::Notify(n)]) {
            self.transmit(local, remote, &m);
        }
    }

    /// Puts an SA back after handling, or removes it for good.
    pub(crate) fn finish(&mut self, mut sa: Box<IkeSa>, keep: bool) {
        if keep {
            sa.release_setup_state();
            self.index_peer(&sa);
            self.sas.insert(sa.id, sa);
        } else {
            self.forget(sa);
        }
    }

    /// The hash `by_peer` files an identity under: equal for identities that
    /// [`Identity::matches`](wire::Identity::matches) (FQDN and RFC 822 names without regard to
    /// ASCII case).
    pub(crate) fn peer_hash(&self, id: &wire::Identity) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = self.peer_hasher.build_hasher();
        match id {
            wire::Identity::Fqdn(n) | wire::Identity::Rfc822(n) => {
                // The variant, then the name folded to lower case (no allocation).
                h.write_u8(u8::from(matches!(id, wire::Identity::Rfc822(_))));
                for b in n.bytes() {
                    h.write_u8(b.to_ascii_lowercase());
                }
            }
            other => {
                h.write_u8(2);
                other.hash(&mut h);
            }
        }
        h.finish()
    }

    /// Files `sa` under its peer's identity, once that is known.
    pub(crate) fn index_peer(&mut self, sa: &IkeSa) {
        if let Some(h) = sa.remote_id.as_ref().map(|r| self.peer_hash(r)) {
            self.by_peer.insert((h, sa.id));
        }
    }

    /// The SAs filed under `peer`'s identity (candidates: compare the identity).
    pub(crate) fn sas_of_peer(&self, peer: &wire::Identity) -> impl Iterator<Item = &IkeSa> {
        let h = self.peer_hash(peer);
        self.by_peer
            .range((h, IkeSaId(0))..=(h, IkeSaId(u64::MAX)))
            .filter_map(|(_, id)| self.sas.get(id))
    }

    /// Removes an SA and its index entries (no events: callers report).
    pub(crate) fn forget(&mut self, sa: Box<IkeSa>) {
        if let Some(h) = sa.remote_id.as_ref().map(|r| self.peer_hash(r)) {
            self.by_peer.remove(&(h, sa.id));
        }
        self.by_spi.remove(&sa.our_spi());
        if let Some(from) = sa.half_open_from {
            self.half_open.remove(&(from, sa.spi_i));
        }
        for c in &sa.children {
            self.esp_spis.remove(&c.inbound_spi);
        }
        if let Some(p) = &sa.pending_child {
            self.esp_spis.remove(&p.spi);
        }
    }

    fn handle_response(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &[u8],
        header: &Header,
    ) -> bool {
        let Some((kind, out)) = &sa.outstanding else {
            return true;
        };
        if out.message_id != header.message_id {
            tracing::debug!(ike_sa = %sa.id, "dropping response with unexpected message ID {}", header.message_id);
            return true;
        }
        let kind = *kind;
        match kind {
            RequestKind::Init => {
                if header.exchange != ExchangeType::IkeSaInit {
                    return true;
                }
                self.initiator_init_response(sa, now, local, remote, msg, header)
            }
            _ => {
                let Some(inner) = self.open(sa, msg, now) else {
                    return true; // integrity failure or garbage: drop, keep waiting
                };
                sa.last_received = now;
                let inner = match inner {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: malformed {} response: {e}", sa.cfg.name, sa.id, header.exchange.name());
                        sa.outstanding = None;
                        sa.creating = None;
                        if kind == RequestKind::Auth {
                            self.fail(sa, "malformed IKE_AUTH response");
                            return false;
                        }
                        return self.pump(sa, now);
                    }
                };
                self.authenticated_from(sa, local, remote);
                sa.outstanding = None;
                let keep = match kind {
                    RequestKind::Auth => self.initiator_auth_response(sa, now, &inner),
                    RequestKind::CreateChildSa => self.create_child_response(sa, now, &inner),
                    _ => self.informational_response(sa, now, kind, &inner),
                };
                if keep {
                    self.pump(sa, now)
                } else {
                    false
                }
            }
        }
    }

    fn handle_request(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &[u8],
        header: &Header,
    ) -> bool {
        let mid = header.message_id;
        if mid != sa.expected_peer_id {
            if let Some((last, t)) = &sa.last_response {
                // A retransmitted request: answer from the cache (RFC 7296 §2.1); for a
                // fragmented request only on its first fragment (RFC 7383 §2.6.3).
                let first = Message::parse(msg)
                    .ok()
                    .and_then(|m| m.sk)
                    .is_some_and(|sk| sk.fragment.is_none_or(|(n, _)| n == 1));
                if *last == mid && first {
                    self.transmits.extend(t.iter().cloned());
                }
            }
            return true;
        }
        if sa.keys.is_none() {
            return true;
        }
        let Some(inner) = self.open(sa, msg, now) else {
            return true;
        };
        sa.last_received = now;
        let inner = match inner {
            Ok(p) => p,
            Err(wire::WireError::UnsupportedCriticalPayload(t)) => {
                self.authenticated_from(sa, local, remote);
                let n = Notify::new(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![t]);
                self.send_response(sa, header.exchange, mid, &[Payload::Notify(n)]);
                return sa.state != IkeState::InitDone;
            }
            Err(e) => {
                self.authenticated_from(sa, local, remote);
                tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: malformed {} request: {e}; sending INVALID_SYNTAX", sa.cfg.name, sa.id, header.exchange.name());
                let n = Notify::new(NotifyType::INVALID_SYNTAX, vec![]);
                self.send_response(sa, header.exchange, mid, &[Payload::Notify(n)]);
                return sa.state != IkeState::InitDone;
            }
        };
        self.authenticated_from(sa, local, remote);
        match header.exchange {
            ExchangeType::IkeAuth if sa.state == IkeState::InitDone && !sa.initiator => {
                self.responder_auth(sa, now, mid, &inner)
            }
            ExchangeType::Informational if sa.state != IkeState::InitDone => {
                self.informational_request(sa, now, local, remote, mid, &inner)
            }
            ExchangeType::CreateChildSa if sa.state != IkeState::InitDone => {
                self.create_child_request(sa, now, mid, &inner)
            }
            other => {
                tracing::debug!(ike_sa = %sa.id, "ignoring {} request in state {:?}", other.name(), sa.state);
                true
            }
        }
    }

    /// Decrypts a message's SK payload. `None`: drop silently (integrity failure, no keys, no
    /// SK); `Some(Err)`: authentic but unparsable.
    /// Fragments (RFC 7383) are authenticated one by one and held until the message is whole:
    /// `None` until then.
    fn open(
        &self,
        sa: &mut IkeSa,
        msg: &[u8],
        now: Instant,
    ) -> Option<Result<Vec<Payload>, wire::WireError>> {
        let keys = sa.keys.as_ref()?;
        let m = match Message::parse(msg) {
            Ok(m) => m,
            Err(_) => {
                // The outer chain is unparsable: we cannot authenticate it; drop.
                return None;
            }
        };
        let sk = m.sk.as_ref()?;
        let plain = match keys.open(msg, sk) {
            Ok(p) => p,
            Err(_) => {
                tracing::debug!(ike_sa = %sa.id, "dropping message failing its integrity check");
                return None;
            }
        };
        let Some((num, total)) = sk.fragment else {
            return Some(wire::ike::parse_payload_chain(sk.first_inner, &plain));
        };
        if !sa.frag_ok {
            tracing::debug!(ike_sa = %sa.id, "dropping an IKE fragment: fragmentation was not negotiated");
            return None;
        }
        let response = m.header.flags.response();
        let mid = m.header.message_id;
        sa.reassembly
            .retain(|r| !r.expired(now) && (r.response != response || r.message_id == mid));
        let pos = match sa
            .reassembly
            .iter()
            .position(|r| r.response == response && r.message_id == mid)
        {
            Some(p) => p,
            None => {
                sa.reassembly
                    .push(crate::fragment::Reassembly::new(response, mid, total, now)?);
                sa.reassembly.len() - 1
            }
        };
        match sa.reassembly[pos].add(num, total, sk.first_inner, plain) {
            crate::fragment::Added::Pending => None,
            crate::fragment::Added::Refused => {
                tracing::debug!(ike_sa = %sa.id, "dropping a fragmented message over the reassembly limits");
                sa.reassembly.remove(pos);
                None
            }
            crate::fragment::Added::Complete(first, all) => {
                sa.reassembly.remove(pos);
                Some(wire::ike::parse_payload_chain(first, &all))
            }
        }
    }

    /// An authenticated message came from `remote` to our `local`. Replies go back the way it
    /// came: while the SA is being set up the initiator may float to the NAT-T port
    /// (RFC 7296 §2.23); once established, the peer's address changes only behind a NAT.
    pub(crate) fn authenticated_from(
        &mut self,
        sa: &mut IkeSa,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        if sa.local != local && !local.ip().is_unspecified() {
            sa.local = local;
        }
        if sa.remote == remote {
            return;
        }
        let setting_up = sa.state != IkeState::Established && sa.state != IkeState::Deleting;
        if setting_up {
            tracing::debug!(ike_sa = %sa.id, "IKE_SA {}[{}]: peer now at {remote}", sa.cfg.name, sa.id);
        } else if sa.nat.remote {
            tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: peer moved from {} to {remote}", sa.cfg.name, sa.id, sa.remote);
        } else {
            return;
        }
        sa.remote = remote;
        self.addresses_changed(sa);
    }

    /// Tells the driver the SA's children now use the SA's current addresses.
    /// Children already reported down (gone from the data plane) are left out.
    pub(crate) fn addresses_changed(&mut self, sa: &IkeSa) {
        let children: Vec<ChildSaId> = sa
            .children
            .iter()
            .filter(|c| !c.down_reported)
            .map(|c| c.id)
            .collect();
        if !children.is_empty() {
            self.events.push_back(Event::PeerAddressChanged {
                ike_sa: sa.id,
                children,
                local: sa.local,
                remote: sa.remote,
            });
        }
    }

    /// Sends the next queued request when none is outstanding. Returns whether to keep the SA.
    pub(crate) fn pump(&mut self, sa: &mut IkeSa, now: Instant) -> bool {
        if sa.outstanding.is_some() {
            return true;
        }
        let Some(kind) = sa.queued.pop_front() else {
            // Then CREATE_CHILD_SA exchanges, one at a time.
            while sa.state == IkeState::Established && sa.rekeyed_to.is_none() {
                let Some(c) = sa.queued_creates.pop_front() else {
                    break;
                };
                if self.start_create(sa, now, c, None) {
                    break;
                }
            }
            return true;
        };
        match kind {
            RequestKind::DeleteIke => self.send_delete_ike(sa, now),
            RequestKind::DeleteChild(c) => self.send_delete_child(sa, now, c),
            RequestKind::Liveness => {
                let payloads = self.liveness_payloads(sa);
                self.send_request(
                    sa,
                    now,
                    RequestKind::Liveness,
                    ExchangeType::Informational,
                    &payloads,
                )
            }
            RequestKind::AuthFailedNotice => {
                let n = Notify::new(NotifyType::AUTHENTICATION_FAILED, vec![]);
                self.send_request(
                    sa,
                    now,
                    RequestKind::AuthFailedNotice,
                    ExchangeType::Informational,
                    &[Payload::Notify(n)],
                );
            }
            RequestKind::UpdateAddresses => self.send_update_addresses(sa, now),
            RequestKind::RoutabilityCheck => self.send_routability_check(sa, now),
            RequestKind::Init | RequestKind::Auth | RequestKind::CreateChildSa => {}
        }
        true
    }

    /// Reports an SA that failed before or during establishment and forgets its children.
    pub(crate) fn fail(&mut self, sa: &mut IkeSa, reason: &str) {
        *self.stats.ike_failed.entry(reason.to_string()).or_insert(0) += 1;
        self.down(sa, reason);
    }

    /// Emits ChildSaDown for every child and IkeSaDown for the SA.
    pub(crate) fn down(&mut self, sa: &mut IkeSa, reason: &str) {
        for c in sa.children.drain(..) {
            self.esp_spis.remove(&c.inbound_spi);
            if c.state == ChildState::Deleting {
                continue; // reported when its delete started
            }
            self.events.push_back(Event::ChildSaDown {
                ike_sa: sa.id,
                child: c.id,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason: reason.into(),
            });
        }
        self.release_vips(sa);
        // A rekeyed SA's end is not an outage: its children live on in the new SA.
        let reason = if sa.rekeyed_to.is_some() {
            "rekeyed"
        } else {
            reason
        };
        *self.stats.ike_down.entry(reason.to_string()).or_insert(0) += 1;
        self.events.push_back(Event::IkeSaDown {
            ike_sa: sa.id,
            connection: sa.cfg.name.clone(),
            reason: reason.to_string(),
        });
    }

    /// Sends an unencrypted IKE_SA_INIT error response (no state is kept: RFC 7296 §2.6/§2.7).
    pub(crate) fn send_init_error(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        req: &Header,
        notify: NotifyType,
        data: Vec<u8>,
    ) {
        let h = Header {
            spi_i: req.spi_i,
            spi_r: 0,
            next_payload: 0,
            version: IKE_VERSION_2,
            exchange: ExchangeType::IkeSaInit,
            flags: Flags::new(false, true),
            message_id: req.message_id,
            length: 0,
        };
        if let Ok(m) = Message::emit(&h, &[Payload::Notify(Notify::new(notify, data))]) {
            self.transmit(local, remote, &m);
        }
    }
}

/// The unspecified address of the family of `a`.
#[allow(dead_code)]
pub(crate) fn unspecified_like(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoCreds;
    impl Credentials for NoCreds {
        fn psk(
            &self,
            _: &wire::Identity,
            _: Option<&wire::Identity>,
        ) -> Option<crypto::SecretBytes> {
            None
        }
    }

    /// `by_peer` files identities that `Identity::matches` equates under one hash.
    #[test]
    fn peer_hash_follows_identity_matching() {
        let e = Engine::new(
            EngineConfig::default(),
            vec![],
            Box::new(NoCreds),
            Box::new(crypto::DeterministicRandom::new(7)),
        );
        let id = |s: &str| s.parse::<wire::Identity>().unwrap();
        let h = |s: &str| e.peer_hash(&id(s));
        assert!(id("Carol.Example.ORG").matches(&id("carol.example.org")));
        assert_eq!(h("Carol.Example.ORG"), h("carol.example.org"));
        assert_eq!(h("Carol@Example.org"), h("carol@example.org"));
        assert_ne!(h("carol.example.org"), h("dave.example.org"));
        assert_ne!(h("fqdn:a@b"), h("email:a@b"));
        assert_eq!(h("192.0.2.1"), h("192.0.2.1"));
        assert_ne!(h("192.0.2.1"), h("192.0.2.2"));
    }
}
