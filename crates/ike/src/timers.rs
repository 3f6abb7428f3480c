//! Timers: retransmissions, half-open expiry, rekeying and lifetimes, liveness checks, NAT
//! keepalives, and the re-initiations they trigger.

use std::time::Instant;

use crate::engine::{Engine, Retry};
use crate::event::{IkeSaId, Transmit};
use crate::sa::{ChildState, CreateKind, IkeSa, IkeState, RequestKind};

impl Engine {
    /// Runs timers: retransmissions, half-open expiry, liveness checks, NAT keepalives.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Only the SAs with a deadline now or earlier (SaTable keeps them indexed).
        let ids: Vec<IkeSaId> = self.sas.due_by(now);
        for id in ids {
            let Some(mut sa) = self.sas.remove(&id) else {
                continue;
            };
            let keep = self.sa_timers(&mut sa, now);
            self.finish(sa, keep);
        }
        self.run_retries(now);
    }

    /// Starts the initiations queued by handlers (keyingtries, close_action).
    pub(crate) fn run_retries(&mut self, now: Instant) {
        for r in std::mem::take(&mut self.retries) {
            if let Some(tries) = self
                .conns
                .iter()
                .find(|c| c.name == r.conn)
                .map(|c| c.keyingtries)
            {
                let of = if tries == 0 {
                    "unlimited".to_string()
                } else {
                    tries.to_string()
                };
                tracing::info!(
                    "connection {}: initiating again (attempt {} of {of})",
                    r.conn,
                    r.attempt
                );
            }
            if let Err(e) =
                self.initiate_attempt(now, &r.conn, r.child.as_deref(), Some(r.local), r.attempt)
            {
                tracing::error!("connection {}: cannot initiate again: {e}", r.conn);
            }
        }
    }

    fn sa_timers(&mut self, sa: &mut IkeSa, now: Instant) -> bool {
        if let Some(d) = sa.half_open_deadline {
            if now >= d && sa.state == IkeState::InitDone {
                tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: half-open SA from {} expired", sa.cfg.name, sa.id, sa.remote);
                return false;
            }
            if now >= d && sa.rekeyed_to.is_some() {
                // Rekeyed, and the peer never deleted it: drop it ourselves.
                self.down(sa, "rekeyed");
                return false;
            }
        }
        if let Some((kind, out)) = sa.outstanding.as_mut() {
            if now >= out.deadline {
                let kind = *kind;
                if out.on_timeout(now, &self.cfg) {
                    tracing::debug!(ike_sa = %sa.id, "retransmitting request {} ({} of {})", out.message_id, out.tries, self.cfg.retransmit_tries);
                    for payload in out.payloads.clone() {
                        self.transmits.push_back(Transmit {
                            local: sa.local,
                            remote: sa.remote,
                            payload,
                        });
                    }
                } else {
                    let what = match kind {
                        RequestKind::Init => "IKE_SA_INIT",
                        RequestKind::Auth => "IKE_AUTH",
                        _ => "INFORMATIONAL",
                    };
                    if kind == RequestKind::DeleteIke || kind == RequestKind::AuthFailedNotice {
                        tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: no answer to delete, removing it", sa.cfg.name, sa.id);
                        self.down(sa, "deleted (peer did not answer)");
                    } else {
                        tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: giving up after {} retransmits of {what} to {}", sa.cfg.name, sa.id, self.cfg.retransmit_tries, sa.remote);
                        let setting_up = matches!(kind, RequestKind::Init | RequestKind::Auth);
                        // dpd_action = restart: bring an established connection back.
                        let restart = !setting_up
                            && sa.cfg.dpd_action == crate::config::DpdAction::Restart
                            && sa.remote_id.is_some();
                        let child = sa.children.first().map(|c| c.cfg.name.clone());
                        self.down(sa, "peer not responding");
                        if restart {
                            tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: dpd_action=restart, initiating again", sa.cfg.name, sa.id);
                            self.retries.push(Retry {
                                conn: sa.cfg.name.clone(),
                                child,
                                local: sa.local.ip(),
                                attempt: 1,
                            });
                        }
                        let tries = sa.cfg.keyingtries;
                        if sa.initiator && setting_up && (tries == 0 || sa.attempt < tries) {
                            self.retries.push(Retry {
                                conn: sa.cfg.name.clone(),
                                child: sa.wanted_child.clone(),
                                local: sa.local.ip(),
                                attempt: sa.attempt + 1,
                            });
                        }
                    }
                    return false;
                }
            }
        }
        self.rekey_timers(sa, now);
        if let Some(t) = self.dpd_due(sa) {
            if now >= t {
                sa.queued.push_back(RequestKind::Liveness);
                self.pump(sa, now);
            }
        }
        if let Some(k) = sa.keepalive_deadline {
            if now >= k {
                // RFC 3948 §2.3: a single 0xFF octet.
                self.transmits.push_back(Transmit {
                    local: sa.local,
                    remote: sa.remote,
                    payload: vec![0xff],
                });
                sa.keepalive_deadline = Some(now + self.cfg.keepalive_interval);
            }
        }
        true
    }

    /// Rekeying by time and hard lifetimes (RFC 7296 §2.8).
    fn rekey_timers(&mut self, sa: &mut IkeSa, now: Instant) {
        if sa.state != IkeState::Established || sa.rekeyed_to.is_some() {
            return;
        }
        if sa.rekey_at.is_some_and(|t| now >= t) {
            sa.rekey_at = None;
            self.queue_create(sa, now, CreateKind::RekeyIke);
        }
        let mut rekey = Vec::new();
        let mut expired = Vec::new();
        for c in sa.children.iter_mut() {
            if c.state != ChildState::Installed {
                continue;
            }
            if c.expire_at.is_some_and(|t| now >= t) {
                c.expire_at = None;
                expired.push(c.id);
            } else if c.successor.is_none() && c.rekey_at.is_some_and(|t| now >= t) {
                c.rekey_at = None;
                rekey.push((c.id, c.cfg.name.clone()));
            }
        }
        for (id, name) in rekey {
            self.queue_create(sa, now, CreateKind::RekeyChild(id, name));
        }
        for id in expired {
            tracing::warn!(ike_sa = %sa.id, child_sa = %id, "CHILD_SA {{{id}}} reached its hard lifetime without a rekey; deleting it");
            self.delete_child_now(sa, now, id, "expired");
        }
    }
}
