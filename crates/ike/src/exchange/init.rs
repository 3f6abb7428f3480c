//! IKE_SA_INIT (RFC 7296 §1.2): proposals, key exchange, nonces, NAT detection; the
//! INVALID_KE_PAYLOAD retry (§1.2) and COOKIE (§2.6) on the initiator side.

use std::net::SocketAddr;
use std::time::Instant;

use crypto::proposal::Protocol;
use crypto::{KeId, KeyExchange};
use wire::ike::{ExchangeType, Header, KePayload, Message, Notify, NotifyType, Payload};

use super::{describe_proposals, error_notify, notifies, notify_data};
use crate::engine::Engine;
use crate::keys::IkeKeys;
use crate::nat::{nat_hash, NatState};
use crate::proposal;
use crate::retransmit::Outstanding;
use crate::sa::{IkeSa, IkeState, RequestKind};

/// Nonce length we send (RFC 7296 §2.10: at least half the PRF key size, 16..=256).
const NONCE_LEN: usize = 32;

impl Engine {
    /// NAT_DETECTION_SOURCE_IP and _DESTINATION_IP for a message from `local` to `remote`.
    /// With `encap` forced, the source hash is random so the peer sees a NAT (RFC 7296 §2.23
    /// permits this to force UDP encapsulation).
    fn nat_notifies(
        &mut self,
        spi_i: u64,
        spi_r: u64,
        local: SocketAddr,
        remote: SocketAddr,
        force: bool,
    ) -> [Payload; 2] {
        let src = if force {
            self.random_bytes(20)
        } else {
            nat_hash(spi_i, spi_r, local).to_vec()
        };
        let dst = nat_hash(spi_i, spi_r, remote).to_vec();
        [
            Payload::Notify(Notify::new(NotifyType::NAT_DETECTION_SOURCE_IP, src)),
            Payload::Notify(Notify::new(NotifyType::NAT_DETECTION_DESTINATION_IP, dst)),
        ]
    }

    /// Builds and sends the IKE_SA_INIT request with a fresh key exchange in `group`.
    pub(crate) fn send_init_request(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        group: KeId,
    ) -> Result<(), crypto::CryptoError> {
        // A retry with a cookie keeps every other payload unchanged (RFC 7296 §2.6); a retry
        // after INVALID_KE_PAYLOAD needs a key exchange in the new group.
        let ke = match sa.ke.take() {
            Some(k) if k.id() == group => k,
            _ => KeyExchange::generate(group, self.rng.as_mut())?,
        };
        if sa.ni.is_empty() {
            sa.ni = self.random_bytes(NONCE_LEN);
        }
        let mut payloads = Vec::new();
        if let Some(c) = &sa.cookie {
            // RFC 7296 §2.6: the cookie comes first.
            payloads.push(Payload::Notify(Notify::new(NotifyType::COOKIE, c.clone())));
        }
        let props = sa
            .cfg
            .proposals
            .iter()
            .enumerate()
            .map(|(i, p)| proposal::spec_to_wire(p, (i + 1) as u8, Vec::new(), true))
            .collect();
        payloads.push(Payload::Sa(props));
        payloads.push(Payload::Ke(KePayload {
            group: group as u16,
            data: ke.public_value().to_vec(),
        }));
        payloads.push(Payload::Nonce(sa.ni.clone()));
        let force = sa.cfg.encap;
        payloads.extend(self.nat_notifies(sa.spi_i, 0, sa.local, sa.remote, force));
        payloads.push(signature_hashes());
        if sa.cfg.fragmentation {
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                vec![],
            )));
        }
        let mut h = Engine::header(sa, ExchangeType::IkeSaInit, false, 0);
        h.spi_r = 0;
        h.version = self.version();
        let payloads = self.impaired(&payloads);
        let msg = Message::emit(&h, &payloads)
            .map_err(|_| crypto::CryptoError::BadLength("IKE_SA_INIT"))?;
        sa.ke = Some(ke);
        sa.init_request = msg.clone();
        sa.state = IkeState::InitSent;
        sa.next_request_id = 1;
        let t = self.transmit(sa.local, sa.remote, &msg);
        sa.outstanding = Some((
            RequestKind::Init,
            Outstanding::new(0, vec![t.payload], now, &self.cfg),
        ));
        Ok(())
    }

    /// Initiator: the IKE_SA_INIT response. Returns whether to keep the SA.
    pub(crate) fn initiator_init_response(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &[u8],
        header: &Header,
    ) -> bool {
        let m = match Message::parse(msg) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(ike_sa = %sa.id, "dropping malformed IKE_SA_INIT response: {e}");
                return true;
            }
        };
        let name = sa.cfg.name.clone();
        let id = sa.id;
        // COOKIE: resend with it (RFC 7296 §2.6).
        if let Some(c) = notify_data(&m.payloads, NotifyType::COOKIE) {
            if sa.cookie.is_none() && !c.is_empty() && c.len() <= 64 {
                tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: peer asks for a cookie, retrying");
                sa.cookie = Some(c.to_vec());
                let group = sa.ke.as_ref().map_or(KeId::Curve25519, KeyExchange::id);
                return self.send_init_request(sa, now, group).is_ok();
            }
        }
        if let Some(d) = notify_data(&m.payloads, NotifyType::INVALID_KE_PAYLOAD) {
            let wanted = <[u8; 2]>::try_from(d)
                .ok()
                .map(u16::from_be_bytes)
                .and_then(KeId::from_u16);
            let current = sa.ke.as_ref().map(KeyExchange::id);
            let ours = proposal::our_groups(&sa.cfg.proposals);
            match wanted {
                Some(g)
                    if Some(g) != current && ours.contains(&g) && KeyExchange::is_supported(g) =>
                {
                    tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: peer wants key exchange {g}, retrying (INVALID_KE_PAYLOAD)");
                    return self.send_init_request(sa, now, g).is_ok();
                }
                _ => {
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer answered INVALID_KE_PAYLOAD asking for a group we do not offer");
                    self.fail(sa, "INVALID_KE_PAYLOAD");
                    return false;
                }
            }
        }
        if let Some(n) = error_notify(&m.payloads) {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer answered {n} to IKE_SA_INIT; we offered {}",
                sa.cfg.proposals.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
            self.fail(sa, &n.to_string());
            return false;
        }
        let (Some(sa_p), Some(ke_p), Some(nr)) = init_payloads(&m) else {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: IKE_SA_INIT response lacks SA, KE or Nonce");
            self.fail(sa, "malformed IKE_SA_INIT response");
            return false;
        };
        if header.spi_r == 0 || !(16..=256).contains(&nr.len()) {
            self.fail(sa, "malformed IKE_SA_INIT response");
            return false;
        }
        let Some((suite, _)) =
            proposal::check_reply(&sa.cfg.proposals, sa_p, &[Protocol::Ike], false)
        else {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer chose a proposal we did not offer: {}", describe_proposals(sa_p));
            self.fail(sa, "invalid proposal in response");
            return false;
        };
        let Some(ke) = sa.ke.take() else {
            return false;
        };
        if suite.ke != Some(ke.id()) || ke_p.group != ke.id() as u16 {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer's key exchange does not match the chosen proposal");
            self.fail(sa, "key exchange mismatch");
            return false;
        }
        let g_ir = match ke.complete(&ke_p.data) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: invalid key exchange value from peer: {e}");
                self.fail(sa, "invalid KE");
                return false;
            }
        };
        sa.spi_r = header.spi_r;
        sa.nr = nr.clone();
        sa.init_response = msg.to_vec();
        let keys = match IkeKeys::derive(
            &suite,
            g_ir.as_slice(),
            &sa.ni,
            &sa.nr,
            sa.spi_i,
            sa.spi_r,
            true,
        ) {
            Ok(k) => k,
            Err(e) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: key derivation failed: {e}");
                self.fail(sa, "key derivation failed");
                return false;
            }
        };
        sa.keys = Some(keys);
        sa.suite = Some(suite);
        sa.frag_ok = sa.cfg.fragmentation
            && super::has_notify(&m.payloads, NotifyType::IKEV2_FRAGMENTATION_SUPPORTED);
        sa.peer_sig_hashes = peer_hashes(&m.payloads);
        // NAT detection (RFC 7296 §2.23), with the SPIs as they appear in this response.
        let (srcs, dst) = nat_data(&m.payloads);
        if let Some(nat) = NatState::evaluate(sa.spi_i, sa.spi_r, &srcs, dst, remote, local) {
            sa.nat = nat;
        }
        if sa.nat.any() || sa.cfg.encap {
            if sa.nat.any() {
                tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: NAT detected (local: {}, remote: {}), moving to port {}", sa.nat.local, sa.nat.remote, self.cfg.natt_port);
            }
            sa.local.set_port(self.cfg.natt_port);
            sa.remote.set_port(self.cfg.natt_port);
        }
        sa.outstanding = None;
        self.send_auth_request(sa, now)
    }

    /// Responder: an IKE_SA_INIT request (SPIr zero).
    pub(crate) fn responder_init(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &[u8],
        header: &Header,
    ) {
        // A retransmission of a request we answered: resend the answer (RFC 7296 §2.1).
        if let Some(id) = self.half_open.get(&(remote, header.spi_i)).copied() {
            if let Some(sa) = self.sas.get(&id) {
                if sa.init_request == msg {
                    let resp = sa.init_response.clone();
                    let l = sa.local;
                    self.transmit(l, remote, &resp);
                }
            }
            return;
        }
        if header.message_id != 0 {
            return;
        }
        let m = match Message::parse(msg) {
            Ok(m) => m,
            Err(wire::WireError::UnsupportedCriticalPayload(t)) => {
                self.send_init_error(
                    local,
                    remote,
                    header,
                    NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD,
                    vec![t],
                );
                return;
            }
            Err(e) => {
                tracing::debug!("dropping malformed IKE_SA_INIT from {remote}: {e}");
                return;
            }
        };
        if !self.admit_init(now, local, remote, header, &m) {
            return;
        }
        let Some(cfg) = self
            .conns
            .iter()
            .find(|c| c.matches_addrs(local.ip(), remote.ip()))
            .cloned()
        else {
            tracing::info!("no connection for {local} <- {remote}; sending NO_PROPOSAL_CHOSEN");
            self.send_init_error(
                local,
                remote,
                header,
                NotifyType::NO_PROPOSAL_CHOSEN,
                vec![],
            );
            return;
        };
        let (Some(sa_p), Some(ke_p), Some(ni)) = init_payloads(&m) else {
            tracing::info!(
                "IKE_SA_INIT from {remote} lacks SA, KE or Nonce; sending INVALID_SYNTAX"
            );
            self.send_init_error(local, remote, header, NotifyType::INVALID_SYNTAX, vec![]);
            return;
        };
        if !(16..=256).contains(&ni.len()) {
            self.send_init_error(local, remote, header, NotifyType::INVALID_SYNTAX, vec![]);
            return;
        }
        let hint = KeId::from_u16(ke_p.group);
        let Some((suite, chosen)) =
            proposal::select(&cfg.proposals, sa_p, &[Protocol::Ike], hint, false)
        else {
            tracing::warn!(
                "connection {}: no acceptable IKE proposal from {remote}: it offered {}, we accept {}; sending NO_PROPOSAL_CHOSEN",
                cfg.name,
                describe_proposals(sa_p),
                cfg.proposals.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            );
            self.send_init_error(
                local,
                remote,
                header,
                NotifyType::NO_PROPOSAL_CHOSEN,
                vec![],
            );
            return;
        };
        let Some(group) = suite.ke else {
            return;
        };
        if Some(group) != hint {
            tracing::info!("connection {}: {remote} sent key exchange {} but we chose {group}; sending INVALID_KE_PAYLOAD", cfg.name, ke_p.group);
            self.send_init_error(
                local,
                remote,
                header,
                NotifyType::INVALID_KE_PAYLOAD,
                (group as u16).to_be_bytes().to_vec(),
            );
            return;
        }
        let ke = match KeyExchange::generate(group, self.rng.as_mut()) {
            Ok(k) => k,
            Err(e) => {
                tracing::error!("key exchange {group} failed: {e}");
                return;
            }
        };
        let our_public = ke.public_value().to_vec();
        let g_ir = match ke.complete(&ke_p.data) {
            Ok(s) => s,
            Err(_) => {
                tracing::info!("invalid key exchange value from {remote}; sending INVALID_SYNTAX");
                self.send_init_error(local, remote, header, NotifyType::INVALID_SYNTAX, vec![]);
                return;
            }
        };
        let spi_r = self.alloc_ike_spi();
        let nr = self.random_bytes(NONCE_LEN);
        let keys =
            match IkeKeys::derive(&suite, g_ir.as_slice(), ni, &nr, header.spi_i, spi_r, false) {
                Ok(k) => k,
                Err(e) => {
                    tracing::error!("key derivation failed: {e}");
                    return;
                }
            };
        let (srcs, dst) = nat_data(&m.payloads);
        let nat =
            NatState::evaluate(header.spi_i, 0, &srcs, dst, remote, local).unwrap_or_default();
        let id = self.alloc_sa_id();
        let mut sa = IkeSa::new(
            id,
            cfg.clone(),
            false,
            header.spi_i,
            spi_r,
            local,
            remote,
            now,
        );
        sa.nat = nat;
        sa.suite = Some(suite);
        sa.keys = Some(keys);
        sa.ni = ni.clone();
        sa.nr = nr.clone();
        sa.init_request = msg.to_vec();
        sa.expected_peer_id = 1;
        sa.half_open_deadline = Some(now + self.cfg.half_open_timeout);
        let mut payloads = vec![
            Payload::Sa(vec![proposal::suite_to_wire(
                &suite,
                chosen.num,
                Vec::new(),
            )]),
            Payload::Ke(KePayload {
                group: group as u16,
                data: our_public,
            }),
            Payload::Nonce(nr),
        ];
        sa.peer_sig_hashes = peer_hashes(&m.payloads);
        // RFC 7427 §4: announce the hashes we verify when the initiator did.
        if !sa.peer_sig_hashes.is_empty() {
            payloads.push(signature_hashes());
        }
        // CERTREQ for the CAs we trust, when the peer may have to use a certificate (RFC 7296
        // §3.7): the connection is only chosen in IKE_AUTH, so any connection for these
        // addresses with certificate clients counts (clients that send their certificate only
        // when asked, e.g. Windows, charon-cmd, would otherwise never send it).
        if let Some(req) = self.init_certreq(&sa) {
            payloads.push(req);
        }
        // RFC 7383 §2.3: announce fragmentation only when the initiator did.
        if cfg.fragmentation
            && super::has_notify(&m.payloads, NotifyType::IKEV2_FRAGMENTATION_SUPPORTED)
        {
            sa.frag_ok = true;
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                vec![],
            )));
        }
        if dst.is_some() {
            // Only answer NAT detection when the initiator asked (RFC 7296 §2.23).
            payloads.extend(self.nat_notifies(sa.spi_i, spi_r, local, remote, cfg.encap));
        }
        let h = Engine::header(&sa, ExchangeType::IkeSaInit, true, 0);
        let payloads = self.impaired(&payloads);
        let Ok(resp) = Message::emit(&h, &payloads) else {
            return;
        };
        sa.init_response = resp.clone();
        self.transmit(local, remote, &resp);
        tracing::info!(ike_sa = %id, "IKE_SA {}[{id}]: {remote} initiating, chose {suite}{}", cfg.name,
            if nat.any() { format!(" (NAT detected: local {}, remote {})", nat.local, nat.remote) } else { String::new() });
        self.by_spi.insert(spi_r, id);
        self.half_open.insert((remote, header.spi_i), id);
        sa.half_open_from = Some(remote);
        self.sas.insert(id, Box::new(sa));
    }
}

impl Engine {
    /// Flood protection for IKE_SA_INIT (RFC 7296 §2.6): a per-source cap on half-open SAs, and
    /// above the global threshold a stateless cookie round trip. Returns whether to go on.
    fn admit_init(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        header: &Header,
        m: &Message,
    ) -> bool {
        let from_source = self
            .half_open
            .keys()
            .filter(|(a, _)| a.ip() == remote.ip())
            .count();
        if from_source >= self.cfg.half_open_per_source {
            tracing::debug!(
                "dropping IKE_SA_INIT from {remote}: {from_source} half-open SAs from that address"
            );
            return false;
        }
        if self.half_open.len() < self.cfg.cookie_threshold {
            return true;
        }
        self.cookies.rotate(now, self.rng.as_mut());
        let ni = init_payloads(m).2.map(Vec::as_slice).unwrap_or_default();
        // RFC 7296 §2.6: the COOKIE notify comes first in the retried request.
        let sent = match m.payloads.first() {
            Some(Payload::Notify(n)) if n.notify_type == NotifyType::COOKIE.0 => {
                Some(n.data.as_slice())
            }
            _ => None,
        };
        if sent.is_some_and(|c| self.cookies.verify(c, ni, remote.ip(), header.spi_i)) {
            return true;
        }
        let cookie = self.cookies.make(ni, remote.ip(), header.spi_i);
        tracing::debug!(
            "{} half-open IKE SAs: asking {remote} for a cookie",
            self.half_open.len()
        );
        self.send_init_error(local, remote, header, NotifyType::COOKIE, cookie);
        false
    }
}

/// SIGNATURE_HASH_ALGORITHMS with the hashes we verify (RFC 7427 §4, RFC 8420).
fn signature_hashes() -> Payload {
    let data = crypto::sign::SignatureHash::ANNOUNCED
        .iter()
        .flat_map(|h| h.value().to_be_bytes())
        .collect();
    Payload::Notify(Notify::new(NotifyType::SIGNATURE_HASH_ALGORITHMS, data))
}

/// The hashes a peer announced (unknown values skipped).
fn peer_hashes(payloads: &[Payload]) -> Vec<crypto::sign::SignatureHash> {
    super::notify_data(payloads, NotifyType::SIGNATURE_HASH_ALGORITHMS)
        .map(|d| {
            d.chunks_exact(2)
                .filter_map(|c| {
                    crypto::sign::SignatureHash::from_u16(u16::from_be_bytes([c[0], c[1]]))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The SA, KE and Nonce payloads of an IKE_SA_INIT message.
fn init_payloads(
    m: &Message,
) -> (
    Option<&Vec<wire::ike::Proposal>>,
    Option<&KePayload>,
    Option<&Vec<u8>>,
) {
    let mut out = (None, None, None);
    for p in &m.payloads {
        match p {
            Payload::Sa(s) => out.0 = out.0.or(Some(s)),
            Payload::Ke(k) => out.1 = out.1.or(Some(k)),
            Payload::Nonce(n) => out.2 = out.2.or(Some(n)),
            _ => {}
        }
    }
    out
}

/// The NAT detection data of a message: all source hashes, the destination hash.
fn nat_data(payloads: &[Payload]) -> (Vec<&[u8]>, Option<&[u8]>) {
    let srcs: Vec<&[u8]> = notifies(payloads, NotifyType::NAT_DETECTION_SOURCE_IP).collect();
    let dst = notify_data(payloads, NotifyType::NAT_DETECTION_DESTINATION_IP);
    (srcs, dst)
}
