//! MOBIKE (RFC 4555): an IKE SA and its Child SAs follow an address change of the initiator
//! (laptops and phones switching networks) without a new handshake. The initiator announces its
//! new address with UPDATE_SA_ADDRESSES and fresh NAT detection (§3.5); the responder moves the
//! SAs, answers, and checks return routability to the new address with COOKIE2 (§3.6).
//! An initiator behind a NAT puts NAT detection into its liveness checks; the responder answers
//! with its view of the initiator's address, and a changed view (a new NAT mapping) makes the
//! initiator send UPDATE_SA_ADDRESSES (§3.8), since a MOBIKE responder never moves the SAs on an
//! ordinary message (§3.5). AH Child SAs cannot follow a move behind a NAT (RFC 3948 is
//! ESP-only): they are deleted.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crypto::proposal::Protocol;
use wire::ike::{ExchangeType, Notify, NotifyType, Payload};

use super::{has_notify, notifies, notify_data};
use crate::engine::Engine;
use crate::event::IkeSaId;
use crate::nat::{nat_hash, NatState};
use crate::sa::{IkeSa, IkeState, RequestKind};

impl Engine {
    /// NAT detection notifies for a message from our `local` to the peer's `remote` on `sa`.
    fn mobike_nat_notifies(&mut self, sa: &IkeSa) -> [Payload; 2] {
        let src = if sa.cfg.encap {
            self.random_bytes(20)
        } else {
            nat_hash(sa.spi_i, sa.spi_r, sa.local).to_vec()
        };
        [
            Payload::Notify(Notify::new(NotifyType::NAT_DETECTION_SOURCE_IP, src)),
            Payload::Notify(Notify::new(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                nat_hash(sa.spi_i, sa.spi_r, sa.remote).to_vec(),
            )),
        ]
    }

    /// The payloads of a liveness check on `sa`: NAT detection when we are the MOBIKE initiator
    /// behind a NAT (RFC 4555 §3.8), else none (RFC 7296 §1.4).
    pub(crate) fn liveness_payloads(&mut self, sa: &IkeSa) -> Vec<Payload> {
        if sa.mobike && sa.initiator && sa.nat.local {
            self.mobike_nat_notifies(sa).to_vec()
        } else {
            Vec::new()
        }
    }

    /// The answer to our liveness check (RFC 4555 §3.8): when the peer's view of our address
    /// (its NAT_DETECTION_DESTINATION_IP) changed, our NAT mapping moved: announce it with
    /// UPDATE_SA_ADDRESSES, or the peer keeps sending ESP to the old mapping.
    pub(crate) fn liveness_response(&mut self, sa: &mut IkeSa, inner: &[Payload]) {
        if !(sa.mobike && sa.initiator) {
            return;
        }
        let srcs: Vec<&[u8]> = notifies(inner, NotifyType::NAT_DETECTION_SOURCE_IP).collect();
        let dst = notify_data(inner, NotifyType::NAT_DETECTION_DESTINATION_IP);
        let Some(seen) = NatState::evaluate(sa.spi_i, sa.spi_r, &srcs, dst, sa.remote, sa.local)
            .and_then(|n| n.peer_view)
        else {
            return;
        };
        // Views over other SPIs (before an IKE rekey) or from another port of ours (IKE_SA_INIT
        // on port 500) are not comparable: just remember this one.
        let changed = sa.nat.peer_view.is_some_and(|old| old.moved(&seen));
        sa.nat.peer_view = Some(seen);
        if changed && !sa.queued.contains(&RequestKind::UpdateAddresses) {
            tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: the peer sees us at a new NAT mapping; updating the SA addresses (MOBIKE)", sa.cfg.name, sa.id);
            sa.queued.push_back(RequestKind::UpdateAddresses);
        }
    }

    /// NAT detection for our answer to a liveness check that carried it (we are the MOBIKE
    /// responder, RFC 4555 §3.8): our address, and the initiator's as this request came from
    /// (`local`, `remote`), which is what it compares. `None` when the request had none.
    pub(crate) fn liveness_nat_reply(
        &self,
        sa: &IkeSa,
        local: SocketAddr,
        remote: SocketAddr,
        inner: &[Payload],
    ) -> Option<[Payload; 2]> {
        if !sa.mobike || !has_notify(inner, NotifyType::NAT_DETECTION_SOURCE_IP) {
            return None;
        }
        Some([
            Payload::Notify(Notify::new(
                NotifyType::NAT_DETECTION_SOURCE_IP,
                nat_hash(sa.spi_i, sa.spi_r, local).to_vec(),
            )),
            Payload::Notify(Notify::new(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                nat_hash(sa.spi_i, sa.spi_r, remote).to_vec(),
            )),
        ])
    }

    /// We (the original initiator) moved to `new_local` (RFC 4555 §3.5). False when the SA does
    /// not exist, is not established, or MOBIKE was not negotiated.
    pub fn roam(&mut self, now: Instant, ike_sa: IkeSaId, new_local: IpAddr) -> bool {
        let Some(mut sa) = self.sas.remove(&ike_sa) else {
            return false;
        };
        let ok = sa.mobike
            && sa.initiator
            && sa.state == IkeState::Established
            && new_local.is_ipv4() == sa.remote.is_ipv4();
        if ok {
            tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: moving from {} to {new_local} (MOBIKE)", sa.cfg.name, sa.id, sa.local.ip());
            sa.local = SocketAddr::new(new_local, sa.local.port());
            if !sa.queued.contains(&RequestKind::UpdateAddresses) {
                sa.queued.push_back(RequestKind::UpdateAddresses);
            }
            self.pump(&mut sa, now);
        }
        self.sas.insert(ike_sa, sa);
        ok
    }

    /// Sends UPDATE_SA_ADDRESSES from our (new) address.
    pub(crate) fn send_update_addresses(&mut self, sa: &mut IkeSa, now: Instant) {
        let cookie = self.random_bytes(16);
        let mut p = vec![Payload::Notify(Notify::new(
            NotifyType::UPDATE_SA_ADDRESSES,
            vec![],
        ))];
        p.extend(self.mobike_nat_notifies(sa));
        p.push(Payload::Notify(Notify::new(
            NotifyType::COOKIE2,
            cookie.clone(),
        )));
        sa.cookie2 = Some(cookie);
        self.send_request(
            sa,
            now,
            RequestKind::UpdateAddresses,
            ExchangeType::Informational,
            &p,
        );
    }

    /// Sends a return routability check (COOKIE2) to the peer's current address.
    pub(crate) fn send_routability_check(&mut self, sa: &mut IkeSa, now: Instant) {
        let cookie = self.random_bytes(16);
        let p = [Payload::Notify(Notify::new(
            NotifyType::COOKIE2,
            cookie.clone(),
        ))];
        sa.cookie2 = Some(cookie);
        self.send_request(
            sa,
            now,
            RequestKind::RoutabilityCheck,
            ExchangeType::Informational,
            &p,
        );
    }

    /// The peer's INFORMATIONAL with UPDATE_SA_ADDRESSES (we are the responder of the IKE SA):
    /// move the SAs to the addresses the message came from and to, re-evaluate NAT, and return
    /// the payloads for our answer (NAT detection, COOKIE2 echo). `None` when this is not a
    /// MOBIKE address update.
    pub(crate) fn update_addresses_request(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        inner: &[Payload],
    ) -> Option<Vec<Payload>> {
        if !sa.mobike || !has_notify(inner, NotifyType::UPDATE_SA_ADDRESSES) {
            return None;
        }
        let moved = sa.remote != remote || sa.local != local;
        if moved {
            tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: peer moved from {} to {remote} (MOBIKE)", sa.cfg.name, sa.id, sa.remote);
        }
        sa.remote = remote;
        sa.local = local;
        let srcs: Vec<&[u8]> = notifies(inner, NotifyType::NAT_DETECTION_SOURCE_IP).collect();
        let dst = notify_data(inner, NotifyType::NAT_DETECTION_DESTINATION_IP);
        if let Some(nat) = NatState::evaluate(sa.spi_i, sa.spi_r, &srcs, dst, remote, local) {
            if nat.any() != sa.nat.any() {
                tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: NAT situation changed (local {}, remote {}); UDP encapsulation stays as negotiated", sa.cfg.name, sa.id, nat.local, nat.remote);
            }
            sa.nat = nat;
        }
        self.drop_ah_behind_nat(sa, now);
        self.addresses_changed(sa);
        let mut resp = Vec::new();
        if dst.is_some() {
            resp.extend(self.mobike_nat_notifies(sa));
        }
        if let Some(c) = notify_data(inner, NotifyType::COOKIE2) {
            resp.push(Payload::Notify(Notify::new(
                NotifyType::COOKIE2,
                c.to_vec(),
            )));
        }
        if moved && !sa.queued.contains(&RequestKind::RoutabilityCheck) {
            sa.queued.push_back(RequestKind::RoutabilityCheck);
        }
        Some(resp)
    }

    /// The answer to our UPDATE_SA_ADDRESSES or return routability check.
    pub(crate) fn mobike_response(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        kind: RequestKind,
        inner: &[Payload],
    ) {
        let sent = sa.cookie2.take();
        let echoed = notify_data(inner, NotifyType::COOKIE2);
        if sent.as_deref() != echoed {
            tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: COOKIE2 not echoed correctly (RFC 4555 §3.6)", sa.cfg.name, sa.id);
            return;
        }
        match kind {
            RequestKind::UpdateAddresses => {
                let srcs: Vec<&[u8]> =
                    notifies(inner, NotifyType::NAT_DETECTION_SOURCE_IP).collect();
                let dst = notify_data(inner, NotifyType::NAT_DETECTION_DESTINATION_IP);
                if let Some(nat) =
                    NatState::evaluate(sa.spi_i, sa.spi_r, &srcs, dst, sa.remote, sa.local)
                {
                    sa.nat = nat;
                }
                tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: addresses updated to {}...{}", sa.cfg.name, sa.id, sa.local, sa.remote);
                self.drop_ah_behind_nat(sa, now);
                self.addresses_changed(sa);
            }
            _ => {
                tracing::debug!(ike_sa = %sa.id, "IKE_SA {}[{}]: return routability to {} verified", sa.cfg.name, sa.id, sa.remote);
            }
        }
    }

    /// After a move that found a NAT (or onto forced UDP encapsulation): AH Child SAs cannot
    /// follow, AH authenticating the outer addresses a NAT rewrites and RFC 3948 encapsulating
    /// ESP only. They are deleted (ChildSaDown now, then a Delete to the peer).
    fn drop_ah_behind_nat(&mut self, sa: &mut IkeSa, now: Instant) {
        if !sa.udp_encap() {
            return;
        }
        let ah: Vec<_> = sa
            .children
            .iter()
            .filter(|c| c.suite.protocol == Protocol::Ah && !c.down_reported)
            .map(|c| (c.id, c.cfg.name.clone()))
            .collect();
        for (cid, child) in ah {
            tracing::warn!(ike_sa = %sa.id, child_sa = %cid, "IKE_SA {}[{}]: CHILD_SA {child}{{{cid}}} uses AH, which cannot cross the NAT found after the move (RFC 3948 encapsulates ESP only); deleting it", sa.cfg.name, sa.id);
            self.delete_child_now(sa, now, cid, "AH cannot cross a NAT");
        }
    }
}
