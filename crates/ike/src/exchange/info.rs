//! INFORMATIONAL (RFC 7296 §1.4): deleting IKE and Child SAs (ESP or AH, §3.11), liveness
//! checks.

use std::time::Instant;

use crypto::proposal::Protocol;
use wire::ike::{DeletePayload, ExchangeType, NotifyType, Payload, ProtocolId};

use super::error_notify;
use crate::engine::Engine;
use crate::event::ChildSaId;
use crate::proposal::protocol_id;
use crate::sa::{ChildState, IkeSa, RequestKind};

impl Engine {
    /// Sends a Delete for the IKE SA (RFC 7296 §1.4.1).
    pub(crate) fn send_delete_ike(&mut self, sa: &mut IkeSa, now: Instant) {
        let d = Payload::Delete(DeletePayload {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: vec![],
        });
        self.send_request(
            sa,
            now,
            RequestKind::DeleteIke,
            ExchangeType::Informational,
            &[d],
        );
    }

    /// Sends a Delete for one of our children (our inbound SPI goes in the payload, with the
    /// child's protocol, ESP or AH: RFC 7296 §3.11).
    pub(crate) fn send_delete_child(&mut self, sa: &mut IkeSa, now: Instant, child: ChildSaId) {
        let Some(c) = sa.children.iter().find(|c| c.id == child) else {
            return;
        };
        let spi = c.inbound_spi;
        let d = Payload::Delete(DeletePayload {
            protocol: protocol_id(c.suite.protocol),
            spi_size: 4,
            spis: vec![spi.to_be_bytes().to_vec()],
        });
        self.send_request(
            sa,
            now,
            RequestKind::DeleteChild(child),
            ExchangeType::Informational,
            &[d],
        );
    }

    /// Deletes Child SAs of `protocol` (ESP or AH) the peer created but we refuse (never
    /// installed here).
    pub(crate) fn send_delete_spis(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        protocol: Protocol,
        spis: Vec<u32>,
    ) {
        let d = Payload::Delete(DeletePayload {
            protocol: protocol_id(protocol),
            spi_size: 4,
            spis: spis.iter().map(|s| s.to_be_bytes().to_vec()).collect(),
        });
        // No child of ours to track: a liveness-kind request carries it.
        self.send_request(
            sa,
            now,
            RequestKind::Liveness,
            ExchangeType::Informational,
            &[d],
        );
    }

    /// The peer's INFORMATIONAL request. Returns whether to keep the SA.
    pub(crate) fn informational_request(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        local: std::net::SocketAddr,
        remote: std::net::SocketAddr,
        mid: u32,
        inner: &[Payload],
    ) -> bool {
        let id = sa.id;
        let name = sa.cfg.name.clone();
        let mut delete_ike = false;
        // Our SPIs of the children the peer deleted, per protocol: ESP, AH.
        let mut our_deleted_spis: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
        for p in inner {
            let Payload::Delete(d) = p else { continue };
            match d.protocol {
                ProtocolId::IKE => delete_ike = true,
                ProtocolId::ESP | ProtocolId::AH => {
                    let ah = d.protocol == ProtocolId::AH;
                    for spi in &d.spis {
                        let Ok(b) = <[u8; 4]>::try_from(spi.as_slice()) else {
                            continue;
                        };
                        let spi = u32::from_be_bytes(b);
                        // The peer names its inbound SPI: our outbound one, of that protocol
                        // (RFC 7296 §3.11: ESP and AH SPIs are separate spaces).
                        let Some(c) = sa.children.iter().find(|c| {
                            c.outbound_spi == spi && protocol_id(c.suite.protocol) == d.protocol
                        }) else {
                            continue;
                        };
                        let (cid, deleting, in_spi) =
                            (c.id, c.state == ChildState::Deleting, c.inbound_spi);
                        tracing::info!(ike_sa = %id, child_sa = %cid, "CHILD_SA {}{{{cid}}} deleted by peer", c.cfg.name);
                        if !deleting {
                            our_deleted_spis[usize::from(ah)].push(in_spi.to_be_bytes().to_vec());
                        }
                        // A delete collision (RFC 7296 §1.4.1): ours is in flight; answer
                        // without a Delete payload.
                        self.child_gone(sa, cid, "deleted by peer");
                        continue;
                    }
                }
                _ => {}
            }
        }
        if delete_ike {
            if sa.rekeyed_to.is_none() {
                tracing::info!(ike_sa = %id, "IKE_SA {name}[{id}] deleted by peer {}", sa.remote);
            }
            self.send_response(sa, ExchangeType::Informational, mid, &[]);
            // close_action = start: bring the connection up again.
            let restart: Vec<String> = sa
                .children
                .iter()
                .filter(|c| c.cfg.close_action_start)
                .map(|c| c.cfg.name.clone())
                .collect();
            self.down(sa, "deleted by peer");
            if let Some(child) = restart.into_iter().next() {
                self.retries.push(crate::engine::Retry {
                    conn: name.clone(),
                    child: Some(child),
                    local: sa.local.ip(),
                    attempt: 1,
                });
            }
            return false;
        }
        if let Some(n) = error_notify(inner) {
            // E.g. AUTHENTICATION_FAILED after our IKE_AUTH response (RFC 7296 §2.21.2).
            if n == NotifyType::AUTHENTICATION_FAILED {
                tracing::error!(ike_sa = %id, "IKE_SA {name}[{id}]: peer reports AUTHENTICATION_FAILED; deleting the SA");
                self.send_response(sa, ExchangeType::Informational, mid, &[]);
                self.down(sa, "AUTHENTICATION_FAILED");
                return false;
            }
            tracing::warn!(ike_sa = %id, "IKE_SA {name}[{id}]: peer notifies {n}");
        }
        // Our half of each deleted pair, one Delete payload per protocol (RFC 7296 §1.4.1).
        let mut resp: Vec<Payload> = [ProtocolId::ESP, ProtocolId::AH]
            .into_iter()
            .zip(our_deleted_spis)
            .filter(|(_, spis)| !spis.is_empty())
            .map(|(protocol, spis)| {
                Payload::Delete(DeletePayload {
                    protocol,
                    spi_size: 4,
                    spis,
                })
            })
            .collect();
        if let Some(more) = self.update_addresses_request(sa, now, local, remote, inner) {
            resp.extend(more);
        } else {
            if let Some(c) = super::notify_data(inner, NotifyType::COOKIE2) {
                // A return routability check (RFC 4555 §3.6): echo the cookie.
                resp.push(Payload::Notify(wire::ike::Notify::new(
                    NotifyType::COOKIE2,
                    c.to_vec(),
                )));
            }
            // A liveness check with NAT detection (RFC 4555 §3.8): our view of the initiator.
            resp.extend(
                self.liveness_nat_reply(sa, local, remote, inner)
                    .into_iter()
                    .flatten(),
            );
        }
        self.send_response(sa, ExchangeType::Informational, mid, &resp);
        self.pump(sa, now);
        true
    }

    /// The answer to our INFORMATIONAL request. Returns whether to keep the SA.
    pub(crate) fn informational_response(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        kind: RequestKind,
        _inner: &[Payload],
    ) -> bool {
        let id = sa.id;
        match kind {
            RequestKind::DeleteIke => {
                if sa.rekeyed_to.is_none() {
                    tracing::info!(ike_sa = %id, "IKE_SA {}[{id}] deleted", sa.cfg.name);
                }
                self.down(sa, "deleted");
                false
            }
            RequestKind::AuthFailedNotice => {
                self.down(sa, "AUTHENTICATION_FAILED");
                false
            }
            RequestKind::DeleteChild(c) => {
                if let Some(ch) = sa.children.iter().find(|x| x.id == c) {
                    tracing::info!(ike_sa = %id, child_sa = %c, "CHILD_SA {}{{{c}}} deleted", ch.cfg.name);
                }
                self.child_gone(sa, c, "deleted");
                true
            }
            RequestKind::UpdateAddresses | RequestKind::RoutabilityCheck => {
                self.mobike_response(sa, now, kind, _inner);
                true
            }
            RequestKind::Liveness => {
                self.liveness_response(sa, _inner);
                true
            }
            _ => true,
        }
    }
}
