//! CREATE_CHILD_SA (RFC 7296 §1.3): more Child SAs (§1.3.1), Child SA rekeying (§1.3.3, with
//! or without PFS), IKE SA rekeying (§1.3.2, §2.18), and the collisions of §2.8.1/§2.8.2
//! (both peers rekey the same SA at once: the SA created with the lowest of the four nonces is
//! deleted by the peer that created it; the other exchange's initiator deletes the old SA).

use std::time::Instant;

use crypto::proposal::Protocol;
use crypto::{KeId, KeyExchange, SecretBytes};
use wire::ike::{ExchangeType, KePayload, Notify, NotifyType, Payload, ProtocolId, TsPayload};

use super::child::{
    accepted_list, child_offer, child_specs, no_ah_reason, only, spi_bytes, spi_from, ts_list,
    ChildPayloads, NewChild,
};
use super::{describe_proposals, error_notify, notifies};
use crate::engine::Engine;
use crate::event::{ChildSaId, Event, IkeSaId};
use crate::keys::IkeKeys;
use crate::sa::{ChildState, Collision, CreateCtx, CreateKind, IkeSa, IkeState, RequestKind};
use crate::{proposal, ts};

/// Nonce length for CREATE_CHILD_SA (RFC 7296 §2.10).
const NONCE_LEN: usize = 32;

/// `a < b` for nonces read as big-endian numbers (RFC 7296 §2.8.1 "lowest of the four").
fn nonce_lt(a: &[u8], b: &[u8]) -> bool {
    let strip = |x: &[u8]| -> Vec<u8> { x.iter().copied().skip_while(|b| *b == 0).collect() };
    let (a, b) = (strip(a), strip(b));
    (a.len(), a) < (b.len(), b)
}

/// The lower nonce of an exchange.
fn min_nonce<'a>(x: &'a [u8], y: &'a [u8]) -> &'a [u8] {
    if nonce_lt(x, y) {
        x
    } else {
        y
    }
}

/// Our exchange lost the collision: its lowest nonce is below the other exchange's lowest.
fn we_lose(our_ni: &[u8], peer_nr: &[u8], coll: &Collision) -> bool {
    nonce_lt(min_nonce(our_ni, peer_nr), min_nonce(&coll.ni, &coll.nr))
}

impl Engine {
    /// Queues a CREATE_CHILD_SA; it starts when no other request is outstanding.
    pub(crate) fn queue_create(&mut self, sa: &mut IkeSa, now: Instant, kind: CreateKind) {
        if !sa.queued_creates.contains(&kind) {
            sa.queued_creates.push_back(kind);
        }
        self.pump(sa, now);
    }

    /// Starts a CREATE_CHILD_SA of `kind` (our request). `group` forces the key exchange
    /// (after INVALID_KE_PAYLOAD). Returns false when nothing was sent.
    pub(crate) fn start_create(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        kind: CreateKind,
        group: Option<KeId>,
    ) -> bool {
        let ni = self.random_bytes(NONCE_LEN);
        let mut inner = Vec::new();
        let (cfg, spi, tsi, tsr, group, protocols) = match &kind {
            CreateKind::RekeyIke => {
                let spi = self.alloc_ike_spi();
                let g = group
                    .or_else(|| sa.suite.and_then(|s| s.ke))
                    .or_else(|| proposal::our_groups(&sa.cfg.proposals).first().copied());
                let props = sa
                    .cfg
                    .proposals
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        proposal::spec_to_wire(p, (i + 1) as u8, spi.to_be_bytes().to_vec(), true)
                    })
                    .collect();
                inner.push(Payload::Sa(props));
                (None, spi, Vec::new(), Vec::new(), g, only(Protocol::Ike))
            }
            CreateKind::NewChild(name) | CreateKind::RekeyChild(_, name) => {
                let Some(cfg) = sa.cfg.children.iter().find(|c| &c.name == name).cloned() else {
                    return false;
                };
                // AH only without UDP encapsulation (RFC 3948 is ESP-only).
                let allowed = sa.child_protocols();
                let (tsi, tsr, protocols) = match kind {
                    CreateKind::RekeyChild(old, _) => {
                        let Some(o) = sa.children.iter().find(|c| {
                            c.id == old && c.state == ChildState::Installed && c.successor.is_none()
                        }) else {
                            return false;
                        };
                        // RFC 7296 §1.3.3: REKEY_SA names the SA being rekeyed by the SPI we
                        // receive on, and its protocol; the new SA is of the same protocol.
                        let p = o.suite.protocol;
                        let mut n = Notify::new(NotifyType::REKEY_SA, vec![]);
                        n.protocol = proposal::protocol_id(p);
                        n.spi = spi_bytes(o.inbound_spi);
                        inner.push(Payload::Notify(n));
                        let protocols = if allowed.contains(&p) { only(p) } else { &[] };
                        (o.local_ts.clone(), o.remote_ts.clone(), protocols)
                    }
                    _ => (
                        super::child::local_ts(sa, &cfg.local_ts),
                        super::child::remote_ts(sa, &cfg.remote_ts),
                        allowed,
                    ),
                };
                if child_specs(&cfg, protocols).next().is_none() {
                    let why =
                        no_ah_reason(sa, &cfg).unwrap_or_else(|| "it has no proposals".to_string());
                    tracing::error!(ike_sa = %sa.id, "IKE_SA {}[{}]: CHILD_SA {} not {}: {why}", sa.cfg.name, sa.id, cfg.name,
                        if matches!(kind, CreateKind::RekeyChild(..)) { "rekeyed" } else { "established" });
                    return false;
                }
                let spi = self.alloc_esp_spi();
                // PFS: the first key exchange named in the child's proposals we offer.
                let g = group.or_else(|| {
                    child_specs(&cfg, protocols)
                        .flat_map(|p| p.ke.iter())
                        .copied()
                        .find(|k| *k != KeId::None)
                });
                let props = child_offer(&cfg, protocols, spi, true);
                inner.extend(super::child::mode_request(&cfg));
                inner.push(Payload::Sa(props));
                (Some(cfg), u64::from(spi), tsi, tsr, g, protocols)
            }
        };
        inner.push(Payload::Nonce(ni.clone()));
        let ke = match group {
            Some(g) => match KeyExchange::generate(g, self.rng.as_mut()) {
                Ok(k) => {
                    inner.push(Payload::Ke(KePayload {
                        group: g as u16,
                        data: k.public_value().to_vec(),
                    }));
                    Some(k)
                }
                Err(e) => {
                    tracing::error!(ike_sa = %sa.id, "IKE_SA {}[{}]: key exchange {g} unavailable: {e}", sa.cfg.name, sa.id);
                    return false;
                }
            },
            None if kind == CreateKind::RekeyIke => return false,
            None => None,
        };
        if !tsi.is_empty() {
            inner.push(Payload::TsI(TsPayload {
                selectors: tsi.clone(),
            }));
            inner.push(Payload::TsR(TsPayload {
                selectors: tsr.clone(),
            }));
        }
        let what = match &kind {
            CreateKind::RekeyIke => "rekeying IKE_SA".to_string(),
            CreateKind::RekeyChild(c, n) => format!("rekeying CHILD_SA {n}{{{c}}}"),
            CreateKind::NewChild(n) => format!("establishing CHILD_SA {n}"),
        };
        tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: {what}", sa.cfg.name, sa.id);
        sa.creating = Some(CreateCtx {
            kind,
            cfg,
            ni,
            ke,
            spi,
            protocols,
            tsi,
            tsr,
            collision: None,
        });
        self.send_request(
            sa,
            now,
            RequestKind::CreateChildSa,
            ExchangeType::CreateChildSa,
            &inner,
        );
        true
    }

    /// The answer to our CREATE_CHILD_SA. Returns whether to keep the SA.
    pub(crate) fn create_child_response(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        inner: &[Payload],
    ) -> bool {
        let Some(ctx) = sa.creating.take() else {
            return true;
        };
        let id = sa.id;
        let name = sa.cfg.name.clone();
        if let Some(n) = error_notify(inner) {
            self.release_spi(&ctx);
            return self.create_failed(sa, now, ctx, n, inner);
        }
        let m = ChildPayloads::read(inner);
        let (Some(props), Some(nr)) = (m.sa, m.nonce) else {
            tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: CREATE_CHILD_SA response lacks SA or Nonce");
            self.release_spi(&ctx);
            return true;
        };
        if !(16..=256).contains(&nr.len()) {
            self.release_spi(&ctx);
            return true;
        }
        let peer_ke = match (&ctx.ke, m.ke) {
            (None, None) => None,
            (Some(our), Some(ke)) if ke.group == our.id() as u16 => Some(ke.data.clone()),
            _ => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: the key exchange of the CREATE_CHILD_SA response does not match ours");
                self.release_spi(&ctx);
                return true;
            }
        };
        let CreateCtx {
            kind,
            cfg,
            ni,
            ke,
            spi,
            protocols,
            tsi,
            tsr,
            collision,
        } = ctx;
        let secret = match (ke, peer_ke) {
            (Some(k), Some(peer)) => match k.complete(&peer) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: invalid key exchange value: {e}");
                    self.release_spi_raw(&kind, spi);
                    return true;
                }
            },
            _ => None,
        };
        match kind {
            CreateKind::RekeyIke => {
                let Some((suite, peer_spi)) =
                    proposal::check_reply(&sa.cfg.proposals, props, &[Protocol::Ike], false)
                else {
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer chose an IKE proposal we did not offer ({})", describe_proposals(props));
                    self.by_spi.remove(&spi);
                    return true;
                };
                let (Some(secret), Ok(spi_r)) = (
                    secret,
                    <[u8; 8]>::try_from(peer_spi.as_slice()).map(u64::from_be_bytes),
                ) else {
                    self.by_spi.remove(&spi);
                    return true;
                };
                if suite.ke.map(|k| k as u16) != m.ke.map(|k| k.group) {
                    self.by_spi.remove(&spi);
                    return true;
                }
                let Some(keys) = sa.keys.as_ref().and_then(|k| {
                    k.derive_rekey(&suite, secret.as_slice(), &ni, nr, spi, spi_r, true)
                        .ok()
                }) else {
                    self.by_spi.remove(&spi);
                    return true;
                };
                let new_id = self.rekeyed_ike_sa(sa, now, suite, keys, spi, spi_r, true, &ni, nr);
                match collision {
                    Some(coll) if we_lose(&ni, nr, &coll) => {
                        // Ours is redundant: delete it; the peer deletes the old SA and the
                        // children stay with the SA its exchange created.
                        tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: rekey collision lost, deleting the redundant IKE_SA [{new_id}]");
                        if let Some(mut ours) = self.sas.remove(&new_id) {
                            ours.state = IkeState::Established;
                            ours.queued.push_back(RequestKind::DeleteIke);
                            ours.rekeyed_to = Some(IkeSaId(coll.created));
                            self.pump(&mut ours, now);
                            self.sas.insert(new_id, ours);
                        }
                        true
                    }
                    other => {
                        if let Some(coll) = other {
                            // We won: the children move from the peer's new SA to ours.
                            tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: rekey collision won");
                            let taken =
                                self.sas.get_mut(&IkeSaId(coll.created)).map(|mut theirs| {
                                    let moved: Vec<_> = theirs.children.drain(..).collect();
                                    let vips = std::mem::take(&mut theirs.remote_vips);
                                    theirs.rekeyed_to = Some(new_id);
                                    (moved, vips)
                                });
                            if let Some((moved, vips)) = taken {
                                if let Some(mut ours) = self.sas.get_mut(&new_id) {
                                    ours.children.extend(moved);
                                    ours.remote_vips = vips;
                                }
                            }
                        } else {
                            let moved: Vec<_> = sa.children.drain(..).collect();
                            let vips = std::mem::take(&mut sa.remote_vips);
                            if let Some(mut ours) = self.sas.get_mut(&new_id) {
                                ours.children.extend(moved);
                                ours.remote_vips = vips;
                            }
                        }
                        // The rekey's initiator deletes the old IKE SA (RFC 7296 §1.3.2).
                        sa.rekeyed_to = Some(new_id);
                        sa.state = IkeState::Deleting;
                        sa.queued.clear();
                        sa.queued_creates.clear();
                        sa.queued.push_back(RequestKind::DeleteIke);
                        true
                    }
                }
            }
            CreateKind::NewChild(_) | CreateKind::RekeyChild(..) => {
                let our_spi = spi as u32;
                let Some(cfg) = cfg else { return true };
                let reply =
                    proposal::check_reply(child_specs(&cfg, protocols), props, protocols, false)
                        .and_then(|(s, spi)| spi_from(&spi).map(|spi| (s, spi)));
                let Some((suite, peer_spi)) = reply else {
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer chose a CHILD_SA proposal we did not offer ({})", describe_proposals(props));
                    self.esp_spis.remove(&our_spi);
                    return true;
                };
                let (Some(rtsi), Some(rtsr)) = (m.tsi, m.tsr) else {
                    self.esp_spis.remove(&our_spi);
                    return true;
                };
                // Transport mode across a NAT: the addresses as we see them (RFC 7296 §2.23.1).
                let (rtsr, rtsi) = super::child::seen_ts(sa, &cfg, rtsr, rtsi);
                if !ts::is_subset(&rtsi, &tsi) || !ts::is_subset(&rtsr, &tsr) {
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer's traffic selectors {} === {} are not inside ours (TS_UNACCEPTABLE); deleting the CHILD_SA", ts_list(&rtsi), ts_list(&rtsr));
                    self.send_delete_spis(sa, now, suite.protocol, vec![our_spi]);
                    self.esp_spis.remove(&our_spi);
                    return true;
                }
                if cfg.mode == crate::config::Mode::Transport
                    && !super::has_notify(inner, NotifyType::USE_TRANSPORT_MODE)
                {
                    // RFC 7296 §1.3.1: the peer answered with a tunnel.
                    tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer declined transport mode for CHILD_SA {}; deleting it", cfg.name);
                    self.send_delete_spis(sa, now, suite.protocol, vec![our_spi]);
                    self.esp_spis.remove(&our_spi);
                    return true;
                }
                let Some((inbound, outbound)) = Self::child_keys(
                    sa,
                    &suite,
                    secret.as_ref().map(SecretBytes::as_slice),
                    &ni,
                    nr,
                    true,
                    our_spi,
                    peer_spi,
                ) else {
                    self.esp_spis.remove(&our_spi);
                    return true;
                };
                let replaces = match kind {
                    CreateKind::RekeyChild(old, _) => Some(old),
                    _ => None,
                };
                let lost = collision.as_ref().is_some_and(|c| we_lose(&ni, nr, c));
                let new = self.install_child(
                    sa,
                    now,
                    NewChild {
                        cfg,
                        suite,
                        local_ts: rtsi,
                        remote_ts: rtsr,
                        inbound,
                        outbound,
                        replaces,
                        outbound_now: !lost,
                    },
                );
                if let Some(old) = replaces {
                    if lost {
                        // RFC 7296 §2.8.1: our new SA is redundant; the peer's survives and
                        // the peer deletes the old one.
                        tracing::info!(ike_sa = %id, child_sa = %old, "IKE_SA {name}[{id}]: CHILD_SA rekey collision lost, deleting {{{new}}}");
                        if let (Some(coll), Some(o)) =
                            (&collision, sa.children.iter_mut().find(|c| c.id == old))
                        {
                            o.successor = Some(ChildSaId(coll.created));
                        }
                        self.delete_child_quietly(sa, now, new);
                    } else {
                        self.delete_child_quietly(sa, now, old);
                    }
                }
                true
            }
        }
    }

    /// Starts deleting a Child SA without reporting it down yet: it keeps receiving until the
    /// peer confirms (no packet in flight is lost).
    pub(crate) fn delete_child_quietly(&mut self, sa: &mut IkeSa, now: Instant, child: ChildSaId) {
        if let Some(c) = sa.children.iter_mut().find(|c| c.id == child) {
            if c.state == ChildState::Deleting {
                return;
            }
            c.state = ChildState::Deleting;
            c.rekey_at = None;
            c.expire_at = None;
        }
        sa.queued.push_back(RequestKind::DeleteChild(child));
        self.pump(sa, now);
    }

    fn release_spi(&mut self, ctx: &CreateCtx) {
        self.release_spi_raw(&ctx.kind, ctx.spi);
    }

    fn release_spi_raw(&mut self, kind: &CreateKind, spi: u64) {
        match kind {
            CreateKind::RekeyIke => {
                self.by_spi.remove(&spi);
            }
            _ => {
                self.esp_spis.remove(&(spi as u32));
            }
        }
    }

    /// Our CREATE_CHILD_SA was refused (RFC 7296 §2.21, §2.25).
    fn create_failed(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        ctx: CreateCtx,
        n: NotifyType,
        inner: &[Payload],
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        let what = match &ctx.kind {
            CreateKind::RekeyIke => "IKE_SA rekey".to_string(),
            CreateKind::RekeyChild(c, n) => format!("rekey of CHILD_SA {n}{{{c}}}"),
            CreateKind::NewChild(n) => format!("CHILD_SA {n}"),
        };
        if n == NotifyType::INVALID_KE_PAYLOAD {
            let wanted = notifies(inner, NotifyType::INVALID_KE_PAYLOAD)
                .next()
                .and_then(|d| <[u8; 2]>::try_from(d).ok())
                .map(u16::from_be_bytes)
                .and_then(KeId::from_u16);
            let acceptable = |g: KeId| match &ctx.kind {
                CreateKind::RekeyIke => proposal::our_groups(&sa.cfg.proposals).contains(&g),
                _ => ctx
                    .cfg
                    .as_ref()
                    .is_some_and(|c| child_specs(c, ctx.protocols).any(|p| p.ke.contains(&g))),
            };
            if let Some(g) = wanted
                .filter(|g| acceptable(*g) && Some(*g) != ctx.ke.as_ref().map(KeyExchange::id))
            {
                tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: peer wants key exchange {g} for the {what}, retrying");
                return {
                    self.start_create(sa, now, ctx.kind, Some(g));
                    true
                };
            }
        }
        match (&ctx.kind, n) {
            (_, NotifyType::TEMPORARY_FAILURE) => {
                // RFC 7296 §2.25: the peer is busy with this SA; try again a little later.
                let later = now
                    + self.cfg.retransmit_timeout
                    + self.jitter(self.cfg.retransmit_timeout * 2);
                tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: peer answered TEMPORARY_FAILURE to the {what}; retrying later");
                match &ctx.kind {
                    CreateKind::RekeyIke => sa.rekey_at = Some(later),
                    CreateKind::RekeyChild(c, _) => {
                        if let Some(ch) = sa.children.iter_mut().find(|x| x.id == *c) {
                            ch.rekey_at = Some(later);
                        }
                    }
                    CreateKind::NewChild(_) => {}
                }
            }
            (CreateKind::RekeyChild(c, child_name), NotifyType::CHILD_SA_NOT_FOUND) => {
                // The peer no longer has it: drop ours and create a fresh one.
                tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}]: peer does not know CHILD_SA {{{c}}}; creating a new one");
                let c = *c;
                let child_name = child_name.clone();
                self.child_gone(sa, c, "lost by peer");
                self.queue_create(sa, now, CreateKind::NewChild(child_name));
            }
            (CreateKind::RekeyChild(c, _), _) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer answered {n} to the {what}; the SA stays until it expires");
                let c = *c;
                if let Some(ch) = sa.children.iter_mut().find(|x| x.id == c) {
                    ch.rekey_at = None;
                }
            }
            (CreateKind::RekeyIke, _) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer answered {n} to the {what}");
                sa.rekey_at = None;
            }
            (CreateKind::NewChild(_), _) => {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: {what} not established: peer answered {n}");
            }
        }
        true
    }

    /// Builds the IKE SA that replaces `old` after a rekey (RFC 7296 §2.18) and registers it.
    /// The rekey's initiator is the new SA's original initiator.
    #[allow(clippy::too_many_arguments)]
    fn rekeyed_ike_sa(
        &mut self,
        old: &IkeSa,
        now: Instant,
        suite: crypto::Suite,
        keys: IkeKeys,
        spi_i: u64,
        spi_r: u64,
        we_initiated: bool,
        ni: &[u8],
        nr: &[u8],
    ) -> IkeSaId {
        let id = self.alloc_sa_id();
        let mut n = IkeSa::new(
            id,
            old.cfg.clone(),
            we_initiated,
            spi_i,
            spi_r,
            old.local,
            old.remote,
            now,
        );
        n.state = IkeState::Established;
        n.nat = old.nat;
        n.frag_ok = old.frag_ok;
        n.mobike = old.mobike;
        n.local_vips = old.local_vips.clone();
        n.suite = Some(suite);
        n.keys = Some(keys);
        n.ni = ni.to_vec();
        n.nr = nr.to_vec();
        n.local_id = old.local_id.clone();
        n.remote_id = old.remote_id.clone();
        n.established_at = Some(now);
        n.keepalive_deadline = old.keepalive_deadline;
        n.rekey_at = self.ike_rekey_at(&n, now);
        let our_spi = if we_initiated { spi_i } else { spi_r };
        self.by_spi.insert(our_spi, id);
        tracing::info!(ike_sa = %id, "IKE_SA {}[{}] rekeyed into {}[{id}] ({suite})", old.cfg.name, old.id, old.cfg.name);
        self.events.push_back(Event::IkeSaRekeyed {
            old: old.id,
            new: id,
            connection: old.cfg.name.clone(),
        });
        self.index_peer(&n);
        self.sas.insert(id, Box::new(n));
        id
    }

    /// When a new IKE SA should be rekeyed (jittered).
    pub(crate) fn ike_rekey_at(&mut self, sa: &IkeSa, now: Instant) -> Option<Instant> {
        let t = sa.cfg.rekey_time.unwrap_or(self.cfg.ike_rekey_time);
        if t.is_zero() {
            return None;
        }
        let j = self.jitter(t / 10);
        Some(now + t - j)
    }

    /// The peer's CREATE_CHILD_SA request. Returns whether to keep the SA.
    pub(crate) fn create_child_request(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        mid: u32,
        inner: &[Payload],
    ) -> bool {
        let refuse = |e: &mut Engine, sa: &mut IkeSa, n: Notify| {
            e.send_response(sa, ExchangeType::CreateChildSa, mid, &[Payload::Notify(n)]);
            true
        };
        if sa.state != IkeState::Established || sa.rekeyed_to.is_some() {
            return refuse(self, sa, Notify::new(NotifyType::TEMPORARY_FAILURE, vec![]));
        }
        let m = ChildPayloads::read(inner);
        let (Some(props), Some(ni)) = (m.sa, m.nonce) else {
            return refuse(self, sa, Notify::new(NotifyType::INVALID_SYNTAX, vec![]));
        };
        if !(16..=256).contains(&ni.len()) {
            return refuse(self, sa, Notify::new(NotifyType::INVALID_SYNTAX, vec![]));
        }
        let rekey_ike = props.iter().any(|p| p.protocol == ProtocolId::IKE);
        if rekey_ike {
            return self.respond_rekey_ike(sa, now, mid, props, ni, m.ke);
        }
        let our_ike_rekey = matches!(
            sa.creating.as_ref().map(|c| &c.kind),
            Some(CreateKind::RekeyIke)
        );
        if our_ike_rekey {
            // RFC 7296 §2.25.2: no new Child SAs while the IKE SA is being rekeyed.
            return refuse(self, sa, Notify::new(NotifyType::TEMPORARY_FAILURE, vec![]));
        }
        let rekey = inner.iter().find_map(|p| match p {
            Payload::Notify(n) if n.notify_type == NotifyType::REKEY_SA.0 => Some(n),
            _ => None,
        });
        let (Some(tsi), Some(tsr)) = (m.tsi, m.tsr) else {
            return refuse(self, sa, Notify::new(NotifyType::INVALID_SYNTAX, vec![]));
        };
        let (cfg, remote_ts, local_ts, replaces, protocols) = match rekey {
            Some(n) => {
                // The peer names the SA by its inbound SPI (our outbound one) and protocol.
                let spi = spi_from(&n.spi);
                let old = sa.children.iter().find(|c| {
                    Some(c.outbound_spi) == spi
                        && proposal::protocol_id(c.suite.protocol) == n.protocol
                });
                let Some(old) = old else {
                    let mut r = Notify::new(NotifyType::CHILD_SA_NOT_FOUND, vec![]);
                    r.protocol = n.protocol;
                    r.spi = n.spi.clone();
                    tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: peer rekeys an unknown CHILD_SA; sending CHILD_SA_NOT_FOUND", sa.cfg.name, sa.id);
                    return refuse(self, sa, r);
                };
                if old.state != ChildState::Installed || old.successor.is_some() {
                    return refuse(self, sa, Notify::new(NotifyType::TEMPORARY_FAILURE, vec![]));
                }
                let Some((ni_ts, nr_ts)) = Self::narrow_for(sa, &old.cfg, tsi, tsr) else {
                    return refuse(self, sa, Notify::new(NotifyType::TS_UNACCEPTABLE, vec![]));
                };
                // RFC 7296 §1.3.3: the new SA replaces the old one, so it is of its protocol.
                let p = old.suite.protocol;
                let protocols = if sa.child_protocols().contains(&p) {
                    only(p)
                } else {
                    &[]
                };
                (old.cfg.clone(), ni_ts, nr_ts, Some(old.id), protocols)
            }
            None => {
                let Some((c, i, r)) = Self::child_for_selectors(sa, tsi, tsr) else {
                    tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: traffic selectors {} === {} unacceptable; sending TS_UNACCEPTABLE", sa.cfg.name, sa.id, ts_list(tsi), ts_list(tsr));
                    return refuse(self, sa, Notify::new(NotifyType::TS_UNACCEPTABLE, vec![]));
                };
                (c, i, r, None, sa.child_protocols())
            }
        };
        // RFC 7296 §1.3.1 (a rekey keeps the mode: the request asks for it again).
        let requested = super::has_notify(inner, NotifyType::USE_TRANSPORT_MODE);
        let Ok(transport) = super::child::mode_answer(&cfg, requested) else {
            tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: CHILD_SA {} is transport mode but the peer asked for a tunnel; sending NO_PROPOSAL_CHOSEN", sa.cfg.name, sa.id, cfg.name);
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
            );
        };
        let hint = m.ke.and_then(|k| KeId::from_u16(k.group));
        let Some((suite, chosen)) =
            proposal::select(child_specs(&cfg, protocols), props, protocols, hint, false)
        else {
            tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: no acceptable proposal for CHILD_SA {}: peer offered {}, we accept {}{}; sending NO_PROPOSAL_CHOSEN",
                sa.cfg.name, sa.id, cfg.name, describe_proposals(props), accepted_list(&cfg, protocols),
                no_ah_reason(sa, &cfg).map_or(String::new(), |r| format!(" ({r})")));
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
            );
        };
        if suite.ke.is_some() && suite.ke != hint {
            let g = suite.ke.map_or(0, |k| k as u16);
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::INVALID_KE_PAYLOAD, g.to_be_bytes().to_vec()),
            );
        }
        let Some(peer_spi) = spi_from(&chosen.spi) else {
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
            );
        };
        let num = chosen.num;
        let nr = self.random_bytes(NONCE_LEN);
        let mut resp = Vec::new();
        let secret = match (suite.ke, m.ke) {
            (Some(g), Some(peer)) => {
                let Ok(k) = KeyExchange::generate(g, self.rng.as_mut()) else {
                    return refuse(
                        self,
                        sa,
                        Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
                    );
                };
                let public = k.public_value().to_vec();
                let Ok(s) = k.complete(&peer.data) else {
                    return refuse(self, sa, Notify::new(NotifyType::INVALID_SYNTAX, vec![]));
                };
                resp.push(Payload::Ke(KePayload {
                    group: g as u16,
                    data: public,
                }));
                Some(s)
            }
            _ => None,
        };
        let our_spi = self.alloc_esp_spi();
        let Some((inbound, outbound)) = Self::child_keys(
            sa,
            &suite,
            secret.as_ref().map(SecretBytes::as_slice),
            ni,
            &nr,
            false,
            our_spi,
            peer_spi,
        ) else {
            self.esp_spis.remove(&our_spi);
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
            );
        };
        let mut out = Vec::new();
        if transport {
            out.push(Payload::Notify(Notify::new(
                NotifyType::USE_TRANSPORT_MODE,
                vec![],
            )));
        }
        out.push(Payload::Sa(vec![proposal::suite_to_wire(
            &suite,
            num,
            spi_bytes(our_spi),
        )]));
        out.push(Payload::Nonce(nr.clone()));
        out.append(&mut resp);
        out.push(Payload::TsI(TsPayload {
            selectors: remote_ts.clone(),
        }));
        out.push(Payload::TsR(TsPayload {
            selectors: local_ts.clone(),
        }));
        let new = self.install_child(
            sa,
            now,
            NewChild {
                cfg,
                suite,
                local_ts,
                remote_ts,
                inbound,
                outbound,
                replaces,
                // A rekey responder keeps sending on the old SA until the initiator deletes it.
                outbound_now: replaces.is_none(),
            },
        );
        if let (Some(old), Some(ctx)) = (replaces, sa.creating.as_mut()) {
            if ctx.kind.rekeys_child(old) {
                // Both of us rekey this Child SA (RFC 7296 §2.8.1): settled when our answer comes.
                ctx.collision = Some(Collision {
                    created: new.0,
                    ni: ni.to_vec(),
                    nr,
                });
            }
        }
        self.send_response(sa, ExchangeType::CreateChildSa, mid, &out);
        true
    }

    /// The peer rekeys the IKE SA (RFC 7296 §1.3.2, §2.18).
    fn respond_rekey_ike(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        mid: u32,
        props: &[wire::ike::Proposal],
        ni: &[u8],
        ke: Option<&KePayload>,
    ) -> bool {
        let refuse = |e: &mut Engine, sa: &mut IkeSa, n: Notify| {
            e.send_response(sa, ExchangeType::CreateChildSa, mid, &[Payload::Notify(n)]);
            true
        };
        // A Child SA exchange of ours is in flight: the peer should retry (RFC 7296 §2.25.2).
        if matches!(
            sa.creating.as_ref().map(|c| &c.kind),
            Some(CreateKind::NewChild(_) | CreateKind::RekeyChild(..))
        ) {
            return refuse(self, sa, Notify::new(NotifyType::TEMPORARY_FAILURE, vec![]));
        }
        let Some(ke) = ke else {
            return refuse(self, sa, Notify::new(NotifyType::INVALID_SYNTAX, vec![]));
        };
        let hint = KeId::from_u16(ke.group);
        let Some((suite, chosen)) =
            proposal::select(&sa.cfg.proposals, props, &[Protocol::Ike], hint, false)
        else {
            tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: no acceptable proposal to rekey the IKE_SA: peer offered {}; sending NO_PROPOSAL_CHOSEN", sa.cfg.name, sa.id, describe_proposals(props));
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
            );
        };
        if suite.ke != hint {
            let g = suite.ke.map_or(0, |k| k as u16);
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::INVALID_KE_PAYLOAD, g.to_be_bytes().to_vec()),
            );
        }
        let (Some(g), Ok(spi_i)) = (
            suite.ke,
            <[u8; 8]>::try_from(chosen.spi.as_slice()).map(u64::from_be_bytes),
        ) else {
            return refuse(self, sa, Notify::new(NotifyType::INVALID_SYNTAX, vec![]));
        };
        let Ok(k) = KeyExchange::generate(g, self.rng.as_mut()) else {
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
            );
        };
        let public = k.public_value().to_vec();
        let Ok(secret) = k.complete(&ke.data) else {
            return refuse(self, sa, Notify::new(NotifyType::INVALID_SYNTAX, vec![]));
        };
        let spi_r = self.alloc_ike_spi();
        let nr = self.random_bytes(NONCE_LEN);
        let Some(keys) = sa.keys.as_ref().and_then(|k| {
            k.derive_rekey(&suite, secret.as_slice(), ni, &nr, spi_i, spi_r, false)
                .ok()
        }) else {
            return refuse(
                self,
                sa,
                Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]),
            );
        };
        let out = vec![
            Payload::Sa(vec![proposal::suite_to_wire(
                &suite,
                chosen.num,
                spi_r.to_be_bytes().to_vec(),
            )]),
            Payload::Nonce(nr.clone()),
            Payload::Ke(KePayload {
                group: g as u16,
                data: public,
            }),
        ];
        let new_id = self.rekeyed_ike_sa(sa, now, suite, keys, spi_i, spi_r, false, ni, &nr);
        let collision = matches!(
            sa.creating.as_ref().map(|c| &c.kind),
            Some(CreateKind::RekeyIke)
        );
        // The children move to the new SA now; the peer deletes the old one.
        let moved: Vec<_> = sa.children.drain(..).collect();
        let vips = std::mem::take(&mut sa.remote_vips);
        if let Some(mut n) = self.sas.get_mut(&new_id) {
            n.children.extend(moved);
            n.remote_vips = vips;
        }
        if collision {
            if let Some(ctx) = sa.creating.as_mut() {
                ctx.collision = Some(Collision {
                    created: new_id.0,
                    ni: ni.to_vec(),
                    nr,
                });
            }
        } else {
            sa.rekeyed_to = Some(new_id);
            sa.rekey_at = None;
            // If the peer never deletes the old SA, drop it after a while.
            sa.half_open_deadline = Some(now + self.cfg.half_open_timeout);
        }
        self.send_response(sa, ExchangeType::CreateChildSa, mid, &out);
        true
    }
}

impl CreateKind {
    /// True when this exchange rekeys Child SA `c`.
    pub(crate) fn rekeys_child(&self, c: ChildSaId) -> bool {
        matches!(self, CreateKind::RekeyChild(x, _) if *x == c)
    }
}
