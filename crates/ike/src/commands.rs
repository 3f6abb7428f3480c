//! Commands from the driver: initiate, terminate, rekey, status.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::config::PeerAddr;
use crate::engine::{Engine, InitiateError};
use crate::event::{ChildSaId, ChildStatus, Event, IkeSaId, IkeSaStatus};
use crate::sa::{ChildState, CreateKind, IkeSa, IkeState, RequestKind};

impl Engine {
    /// Starts an IKE SA for connection `conn` with its child `child` (default: the first).
    /// `source` is our address to use when the connection names none (the driver asks the
    /// routing table).
    pub fn initiate(
        &mut self,
        now: Instant,
        conn: &str,
        child: Option<&str>,
        source: Option<IpAddr>,
    ) -> Result<IkeSaId, InitiateError> {
        // A named child of a connection that is already up rides on the existing IKE SA
        // (CREATE_CHILD_SA, RFC 7296 §1.3.1).
        if let Some(name) = child {
            let existing = self
                .sas
                .values()
                .find(|s| {
                    s.cfg.name == conn && s.state == IkeState::Established && s.rekeyed_to.is_none()
                })
                .map(|s| s.id);
            if let Some(id) = existing {
                if let Some(mut sa) = self.sas.remove(&id) {
                    let known = sa.cfg.children.iter().any(|c| c.name == name);
                    let up = sa
                        .children
                        .iter()
                        .any(|c| c.cfg.name == name && c.state == ChildState::Installed);
                    if known && !up {
                        self.queue_create(&mut sa, now, CreateKind::NewChild(name.to_string()));
                    }
                    self.sas.insert(id, sa);
                    if !known {
                        return Err(InitiateError::UnknownChild(conn.into(), name.into()));
                    }
                    return Ok(id);
                }
            }
        }
        self.initiate_attempt(now, conn, child, source, 1)
    }

    pub(crate) fn initiate_attempt(
        &mut self,
        now: Instant,
        conn: &str,
        child: Option<&str>,
        source: Option<IpAddr>,
        attempt: u32,
    ) -> Result<IkeSaId, InitiateError> {
        let cfg = self
            .conns
            .iter()
            .find(|c| c.name == conn)
            .cloned()
            .ok_or_else(|| InitiateError::UnknownConnection(conn.to_string()))?;
        if let Some(ch) = child {
            if !cfg.children.iter().any(|c| c.name == ch) {
                return Err(InitiateError::UnknownChild(conn.into(), ch.into()));
            }
        }
        let remote_ip = cfg
            .remote_addrs
            .iter()
            .find_map(|a| match a {
                PeerAddr::Addr(a) => Some(*a),
                PeerAddr::Any => None,
            })
            .ok_or_else(|| InitiateError::NoRemoteAddress(conn.to_string()))?;
        let local_ip = cfg
            .local_addrs
            .iter()
            .copied()
            .find(|a| a.is_ipv4() == remote_ip.is_ipv4())
            .or(source)
            .ok_or_else(|| InitiateError::NoLocalAddress(conn.to_string()))?;
        let group = cfg
            .proposals
            .iter()
            .flat_map(|p| p.ke.iter())
            .copied()
            .find(|k| crypto::KeyExchange::is_supported(*k))
            .ok_or_else(|| InitiateError::NoProposal(conn.to_string()))?;
        let id = self.alloc_sa_id();
        let spi_i = self.alloc_ike_spi();
        let mut sa = IkeSa::new(
            id,
            cfg.clone(),
            true,
            spi_i,
            0,
            SocketAddr::new(local_ip, self.cfg.ike_port),
            SocketAddr::new(remote_ip, self.cfg.ike_port),
            now,
        );
        sa.local_id = Some(cfg.our_identity(local_ip));
        sa.wanted_child = child.map(str::to_string);
        sa.attempt = attempt;
        self.by_spi.insert(spi_i, id);
        tracing::info!(ike_sa = %id, "initiating IKE_SA {}[{id}] to {}", cfg.name, sa.remote);
        if let Err(e) = self.send_init_request(&mut sa, now, group) {
            tracing::error!(ike_sa = %id, "IKE_SA {}[{id}]: {e}", cfg.name);
            self.by_spi.remove(&spi_i);
            return Err(InitiateError::NoProposal(conn.to_string()));
        }
        self.sas.insert(id, Box::new(sa));
        Ok(id)
    }

    /// Deletes the IKE SAs of connection `conn` (RFC 7296 §1.4.1). Returns how many.
    pub fn terminate_connection(&mut self, now: Instant, conn: &str) -> usize {
        let ids: Vec<IkeSaId> = self
            .sas
            .values()
            .filter(|s| s.cfg.name == conn)
            .map(|s| s.id)
            .collect();
        ids.into_iter()
            .filter(|id| self.terminate(now, *id))
            .count()
    }

    /// Deletes every IKE SA (on shutdown).
    pub fn terminate_all(&mut self, now: Instant) -> usize {
        let ids: Vec<IkeSaId> = self.sas.keys().copied().collect();
        ids.into_iter()
            .filter(|id| self.terminate(now, *id))
            .count()
    }

    /// Deletes one IKE SA: established ones get a Delete request, half-made ones are dropped.
    pub fn terminate(&mut self, now: Instant, id: IkeSaId) -> bool {
        let Some(mut sa) = self.sas.remove(&id) else {
            return false;
        };
        match sa.state {
            IkeState::Established => {
                tracing::info!(ike_sa = %id, "deleting IKE_SA {}[{id}] with {}", sa.cfg.name, sa.remote);
                // Children stop carrying traffic now.
                let children: Vec<_> = sa.children.drain(..).collect();
                for c in children {
                    self.esp_spis.remove(&c.inbound_spi);
                    if c.state == ChildState::Deleting {
                        continue; // reported when its delete started
                    }
                    self.events.push_back(Event::ChildSaDown {
                        ike_sa: id,
                        child: c.id,
                        inbound_spi: c.inbound_spi,
                        outbound_spi: c.outbound_spi,
                        reason: "IKE_SA deleted".into(),
                    });
                }
                sa.state = IkeState::Deleting;
                if let Some((RequestKind::Liveness, _)) = sa.outstanding {
                    sa.outstanding = None;
                }
                sa.queued.clear();
                sa.queued.push_back(RequestKind::DeleteIke);
                self.pump(&mut sa, now);
                self.sas.insert(id, sa);
            }
            IkeState::Deleting => {
                self.sas.insert(id, sa);
            }
            _ => {
                tracing::info!(ike_sa = %id, "aborting IKE_SA {}[{id}] (not established)", sa.cfg.name);
                self.down(&mut sa, "aborted");
                self.forget(sa);
            }
        }
        true
    }

    /// Deletes one Child SA (RFC 7296 §1.4.1): it stops carrying traffic at once (ChildSaDown
    /// now), the Delete request follows.
    pub fn terminate_child(&mut self, now: Instant, child: ChildSaId) -> bool {
        let Some(id) = self
            .sas
            .values()
            .find(|s| {
                s.state == IkeState::Established
                    && s.children
                        .iter()
                        .any(|c| c.id == child && c.state == ChildState::Installed)
            })
            .map(|s| s.id)
        else {
            return false;
        };
        let Some(mut sa) = self.sas.remove(&id) else {
            return false;
        };
        self.delete_child_now(&mut sa, now, child, "deleted");
        self.sas.insert(id, sa);
        true
    }

    /// Stops a Child SA at once (ChildSaDown now) and sends its Delete.
    pub(crate) fn delete_child_now(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        child: ChildSaId,
        reason: &str,
    ) {
        let id = sa.id;
        if let Some(c) = sa.children.iter_mut().find(|c| c.id == child) {
            if c.state == ChildState::Deleting && c.down_reported {
                return;
            }
            c.state = ChildState::Deleting;
            c.down_reported = true;
            c.rekey_at = None;
            c.expire_at = None;
            tracing::info!(ike_sa = %id, child_sa = %child, "deleting CHILD_SA {}{{{child}}}", c.cfg.name);
            self.events.push_back(Event::ChildSaDown {
                ike_sa: id,
                child,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason: reason.into(),
            });
        }
        if !sa.queued.contains(&RequestKind::DeleteChild(child)) {
            sa.queued.push_back(RequestKind::DeleteChild(child));
        }
        self.pump(sa, now);
    }

    /// Rekeys an IKE SA now (RFC 7296 §1.3.2). False when there is no such established SA.
    pub fn rekey_ike(&mut self, now: Instant, id: IkeSaId) -> bool {
        let Some(mut sa) = self.sas.remove(&id) else {
            return false;
        };
        let ok = sa.state == IkeState::Established && sa.rekeyed_to.is_none();
        if ok {
            self.queue_create(&mut sa, now, CreateKind::RekeyIke);
        }
        self.sas.insert(id, sa);
        ok
    }

    /// Rekeys a Child SA now (RFC 7296 §1.3.3). False when there is no such installed SA.
    pub fn rekey_child(&mut self, now: Instant, child: ChildSaId) -> bool {
        let Some(id) = self.sa_of_child(child) else {
            return false;
        };
        let Some(mut sa) = self.sas.remove(&id) else {
            return false;
        };
        let name = sa
            .children
            .iter()
            .find(|c| c.id == child && c.state == ChildState::Installed && c.successor.is_none())
            .map(|c| c.cfg.name.clone());
        let ok = name.is_some() && sa.state == IkeState::Established;
        if let (true, Some(n)) = (ok, name) {
            self.queue_create(&mut sa, now, CreateKind::RekeyChild(child, n));
        }
        self.sas.insert(id, sa);
        ok
    }

    /// The data plane says a Child SA reached its soft lifetime (bytes/packets): rekey it.
    pub fn child_soft_expired(&mut self, now: Instant, child: ChildSaId) -> bool {
        self.rekey_child(now, child)
    }

    /// The data plane says a Child SA reached its hard lifetime: delete it.
    pub fn child_hard_expired(&mut self, now: Instant, child: ChildSaId) -> bool {
        self.terminate_child(now, child)
    }

    /// The data plane received ESP on these Child SAs since the last call (e.g. counted before
    /// each [`Engine::handle_timeout`]): their IKE SAs heard from the peer, so no liveness check
    /// is due yet (RFC 7296 §2.4: only when nothing cryptographically protected, IKE or ESP,
    /// came in). One pass over the SAs whatever the number of children.
    pub fn note_inbound_traffic(&mut self, now: Instant, children: &[ChildSaId]) {
        if children.is_empty() {
            return;
        }
        let children: std::collections::HashSet<ChildSaId> = children.iter().copied().collect();
        self.sas.for_each_mut(|sa| {
            if sa.children.iter().any(|c| children.contains(&c.id)) && sa.last_received < now {
                sa.last_received = now;
            }
        });
    }

    fn sa_of_child(&self, child: ChildSaId) -> Option<IkeSaId> {
        self.sas
            .values()
            .find(|s| s.children.iter().any(|c| c.id == child))
            .map(|s| s.id)
    }

    /// Test-only impairment: forget a Child SA without telling the peer (a peer that lost
    /// state). Not for production use.
    #[doc(hidden)]
    pub fn forget_child_for_testing(&mut self, child: ChildSaId) {
        if let Some(id) = self.sa_of_child(child) {
            if let Some(mut sa) = self.sas.get_mut(&id) {
                sa.children.retain(|c| c.id != child);
            }
        }
    }

    /// True when no IKE SA is left (the driver waits for this on shutdown).
    pub fn is_idle(&self) -> bool {
        self.sas.is_empty()
    }

    /// Status of every IKE SA.
    pub fn status(&self, now: Instant) -> Vec<IkeSaStatus> {
        self.sas
            .values()
            .map(|sa| IkeSaStatus {
                id: sa.id,
                connection: sa.cfg.name.clone(),
                state: sa.state.label(),
                initiator: sa.initiator,
                local: sa.local,
                remote: sa.remote,
                local_id: sa.local_id.clone(),
                remote_id: sa.remote_id.clone(),
                spi_i: sa.spi_i,
                spi_r: sa.spi_r,
                suite: sa.suite,
                nat_local: sa.nat.local,
                nat_remote: sa.nat.remote,
                established_for: sa.established_at.map(|t| now.saturating_duration_since(t)),
                virtual_ips: if sa.initiator {
                    sa.local_vips.clone()
                } else {
                    sa.remote_vips.iter().map(|(_, a)| *a).collect()
                },
                children: sa
                    .children
                    .iter()
                    .map(|c| ChildStatus {
                        id: c.id,
                        name: c.cfg.name.clone(),
                        state: match c.state {
                            ChildState::Installed => "INSTALLED",
                            ChildState::Deleting => "DELETING",
                        },
                        mode: c.cfg.mode,
                        encap: sa.udp_encap(),
                        spi_in: c.inbound_spi,
                        spi_out: c.outbound_spi,
                        suite: c.suite,
                        local_ts: c.local_ts.clone(),
                        remote_ts: c.remote_ts.clone(),
                    })
                    .collect(),
            })
            .collect()
    }
}
