//! What IKE_AUTH and CREATE_CHILD_SA share about Child SAs: reading the child payloads, choosing
//! a configuration by selectors (RFC 7296 §2.9), deriving keys (§2.17), installing.

use std::time::{Duration, Instant};

use crypto::proposal::Protocol;
use crypto::{kdf, Cipher, ProposalSpec, Suite};
use wire::ike::{Payload, Proposal, TsPayload};
use wire::TrafficSelector;

use crate::config::ChildConfig;
use crate::engine::Engine;
use crate::event::{ChildSaId, ChildSaInstall, Event, SaKeys};
use crate::sa::{ChildSa, ChildState, IkeSa};
use crate::ts;

/// The Child-SA payloads of a message (IKE_AUTH or CREATE_CHILD_SA).
#[derive(Default)]
pub(crate) struct ChildPayloads<'a> {
    pub sa: Option<&'a [Proposal]>,
    pub tsi: Option<&'a [TrafficSelector]>,
    pub tsr: Option<&'a [TrafficSelector]>,
    pub nonce: Option<&'a [u8]>,
    pub ke: Option<&'a wire::ike::KePayload>,
}

impl<'a> ChildPayloads<'a> {
    pub fn read(payloads: &'a [Payload]) -> Self {
        let mut m = ChildPayloads::default();
        for p in payloads {
            match p {
                Payload::Sa(s) => m.sa = m.sa.or(Some(s)),
                Payload::TsI(TsPayload { selectors }) => m.tsi = m.tsi.or(Some(selectors)),
                Payload::TsR(TsPayload { selectors }) => m.tsr = m.tsr.or(Some(selectors)),
                Payload::Nonce(n) => m.nonce = m.nonce.or(Some(n)),
                Payload::Ke(k) => m.ke = m.ke.or(Some(k)),
                _ => {}
            }
        }
        m
    }
}

/// The USE_TRANSPORT_MODE notify an initiator adds to a request for a transport-mode child
/// (RFC 7296 §1.3.1); `None` for tunnel mode.
pub(crate) fn mode_request(cfg: &ChildConfig) -> Option<Payload> {
    (cfg.mode == crate::config::Mode::Transport).then(|| {
        Payload::Notify(wire::ike::Notify::new(
            wire::ike::NotifyType::USE_TRANSPORT_MODE,
            vec![],
        ))
    })
}

/// The responder's side of RFC 7296 §1.3.1 for the chosen child configuration: `Ok(true)`:
/// transport mode, echo USE_TRANSPORT_MODE; `Ok(false)`: tunnel mode (a request for transport
/// mode is declined by not echoing it); `Err(())`: the configuration is transport mode but
/// the peer asked for a tunnel (refused: a tunnel was not configured).
pub(crate) fn mode_answer(cfg: &ChildConfig, requested: bool) -> Result<bool, ()> {
    match (cfg.mode, requested) {
        (crate::config::Mode::Transport, true) => Ok(true),
        (crate::config::Mode::Transport, false) => Err(()),
        (crate::config::Mode::Tunnel, _) => Ok(false),
    }
}

/// `[p]`: the protocols a rekey may negotiate (the old Child SA's; RFC 7296 §1.3.3 replaces an
/// SA with one of its kind).
pub(crate) fn only(p: Protocol) -> &'static [Protocol] {
    match p {
        Protocol::Ike => &[Protocol::Ike],
        Protocol::Esp => &[Protocol::Esp],
        Protocol::Ah => &[Protocol::Ah],
    }
}

/// Our proposals of `cfg` whose protocol is in `allowed`, AH before ESP (preference order).
pub(crate) fn child_specs<'a>(
    cfg: &'a ChildConfig,
    allowed: &'a [Protocol],
) -> impl Iterator<Item = &'a ProposalSpec> + Clone {
    cfg.proposals()
        .filter(move |p| allowed.contains(&p.protocol))
}

/// Our SA payload for a child (RFC 7296 §3.3): the proposals of `cfg` in `allowed`, AH first,
/// then ESP, numbered consecutively from 1 (§3.3.1), each with our 4-octet SPI. KE transforms
/// only `with_ke` (CREATE_CHILD_SA; not in IKE_AUTH, §1.2). Empty when nothing is allowed.
pub(crate) fn child_offer(
    cfg: &ChildConfig,
    allowed: &[Protocol],
    spi: u32,
    with_ke: bool,
) -> Vec<Proposal> {
    child_specs(cfg, allowed)
        .zip(1..=u8::MAX)
        .map(|(p, num)| crate::proposal::spec_to_wire(p, num, spi_bytes(spi), with_ke))
        .collect()
}

/// Why `cfg` has nothing to offer or accept on `sa`, for the log line of a child that cannot
/// be negotiated: its only proposals are AH, and AH cannot be UDP-encapsulated.
pub(crate) fn no_ah_reason(sa: &IkeSa, cfg: &ChildConfig) -> Option<String> {
    if cfg.ah_proposals.is_empty() || !sa.udp_encap() {
        return None;
    }
    let why = if sa.nat.any() {
        "a NAT was detected between the peers"
    } else {
        "UDP encapsulation is forced (encap = true)"
    };
    Some(format!(
        "AH cannot be used: {why}, and AH authenticates the outer addresses and cannot be \
         UDP-encapsulated (RFC 3948 is ESP-only){}",
        if cfg.esp_proposals.is_empty() {
            "; the child has no ESP proposals"
        } else {
            ""
        }
    ))
}

/// Our proposals of `cfg` in `allowed`, for a log line: `AH:sha256, aes256gcm16`.
pub(crate) fn accepted_list(cfg: &ChildConfig, allowed: &[Protocol]) -> String {
    let v: Vec<String> = child_specs(cfg, allowed)
        .map(|p| match p.protocol {
            Protocol::Ah => format!("AH:{p}"),
            _ => p.to_string(),
        })
        .collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// How logs name a negotiated Child SA suite: `aes128-sha256`, or `AH sha256`.
pub(crate) fn suite_label(s: &Suite) -> String {
    match s.protocol {
        Protocol::Ah => format!("AH {s}"),
        _ => s.to_string(),
    }
}

pub(crate) fn spi_bytes(spi: u32) -> Vec<u8> {
    spi.to_be_bytes().to_vec()
}

pub(crate) fn spi_from(b: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(b).ok().map(u32::from_be_bytes)
}

pub(crate) fn ts_list(v: &[TrafficSelector]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A Child SA ready to be installed.
pub(crate) struct NewChild {
    pub cfg: ChildConfig,
    pub suite: Suite,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
    pub inbound: SaKeys,
    pub outbound: SaKeys,
    pub replaces: Option<ChildSaId>,
    pub outbound_now: bool,
}

/// Our side's selectors: `dynamic` is our virtual IP when we have one, else our outer address;
/// while virtual IPs are still being requested it is every address of the requested families
/// (the responder narrows it to the virtual IPs).
pub(crate) fn local_ts(sa: &IkeSa, cfg: &[crate::config::TsConfig]) -> Vec<TrafficSelector> {
    resolve(cfg, || {
        if !sa.local_vips.is_empty() {
            sa.local_vips
                .iter()
                .map(|a| TrafficSelector::host(*a))
                .collect()
        } else if !sa.cfg.vips.is_empty() {
            Engine::vip_local_ts(sa)
        } else {
            vec![TrafficSelector::host(sa.local.ip())]
        }
    })
}

/// The peer's selectors: `dynamic` is the virtual IPs we assigned it, else its outer address.
pub(crate) fn remote_ts(sa: &IkeSa, cfg: &[crate::config::TsConfig]) -> Vec<TrafficSelector> {
    resolve(cfg, || {
        if sa.remote_vips.is_empty() {
            vec![TrafficSelector::host(sa.remote.ip())]
        } else {
            sa.remote_vips
                .iter()
                .map(|(_, a)| TrafficSelector::host(*a))
                .collect()
        }
    })
}

/// Transport mode across a NAT (RFC 7296 §2.23.1): a host behind a NAT names its own
/// (private) address in its selectors, and the other host sees it at the NAT's public one.
/// Before narrowing (responder) or checking the answer (initiator), each side replaces the
/// addresses of the selectors of a side behind a NAT with that side's address as seen in IKE:
/// `peer` (the peer's selectors) become the peer's address when the peer is behind a NAT,
/// `ours` our own address when we are; protocol and ports are kept. Tunnel mode, or no NAT:
/// unchanged. Returns (peer's, ours).
pub(crate) fn seen_ts(
    sa: &IkeSa,
    cfg: &ChildConfig,
    peer: &[TrafficSelector],
    ours: &[TrafficSelector],
) -> (Vec<TrafficSelector>, Vec<TrafficSelector>) {
    let transport = cfg.mode == crate::config::Mode::Transport;
    let sub = |ts: &[TrafficSelector], behind_nat: bool, seen: std::net::IpAddr| {
        if transport && behind_nat {
            with_address(ts, seen)
        } else {
            ts.to_vec()
        }
    };
    (
        sub(peer, sa.nat.remote, sa.remote.ip()),
        sub(ours, sa.nat.local, sa.local.ip()),
    )
}

/// `ts` with the address range of each selector of `addr`'s family replaced by `addr` alone,
/// protocol and ports kept (RFC 7296 §2.23.1); selectors of the other family stay as they
/// are; no duplicates.
pub(crate) fn with_address(ts: &[TrafficSelector], addr: std::net::IpAddr) -> Vec<TrafficSelector> {
    let mut out: Vec<TrafficSelector> = Vec::new();
    for t in ts {
        let s = if t.is_ipv4() == addr.is_ipv4() {
            TrafficSelector::host(addr)
                .with_proto_ports(t.ip_proto(), t.start_port(), t.end_port())
                .unwrap_or(*t)
        } else {
            *t
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn resolve(
    cfg: &[crate::config::TsConfig],
    dynamic: impl Fn() -> Vec<TrafficSelector>,
) -> Vec<TrafficSelector> {
    let mut out = Vec::new();
    for t in cfg {
        match t {
            crate::config::TsConfig::Ts(ts) => out.push(*ts),
            crate::config::TsConfig::Dynamic => out.extend(dynamic()),
        }
    }
    out
}

impl Engine {
    /// Child SA keys: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 §2.17), keys for
    /// the exchange initiator's outbound direction first (its encryption key, then its
    /// integrity key; then the same for the other direction). AH takes integrity keys only:
    /// initiator→responder, then responder→initiator; its encryption keys are empty.
    /// Returns (inbound, outbound).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn child_keys(
        sa: &IkeSa,
        suite: &Suite,
        g_ir: Option<&[u8]>,
        ni: &[u8],
        nr: &[u8],
        exchange_initiator: bool,
        our_spi: u32,
        peer_spi: u32,
    ) -> Option<(SaKeys, SaKeys)> {
        let keys = sa.keys.as_ref()?;
        let (ekl, ikl) = match suite.protocol {
            // RFC 4302: integrity only, and it is mandatory.
            Protocol::Ah => (0, Cipher::integ_key_len(suite.integ?).ok()?),
            _ => (
                Cipher::encr_keymat_len(suite.encr).ok()?,
                match suite.integ {
                    Some(i) => Cipher::integ_key_len(i).ok()?,
                    None => 0,
                },
            ),
        };
        let mut km = kdf::child_keymat(
            keys.prf,
            keys.sk_d.as_slice(),
            g_ir,
            ni,
            nr,
            2 * (ekl + ikl),
        )
        .ok()?;
        let ei = km.take_front(ekl);
        let ai = km.take_front(ikl);
        let er = km.take_front(ekl);
        let ar = km.take_front(ikl);
        let i_to_r = |spi| SaKeys {
            spi,
            encr_key: ei.clone(),
            integ_key: ai.clone(),
        };
        let r_to_i = |spi| SaKeys {
            spi,
            encr_key: er.clone(),
            integ_key: ar.clone(),
        };
        // Packets towards the exchange's responder carry the responder's SPI, and vice versa.
        Some(if exchange_initiator {
            (r_to_i(our_spi), i_to_r(peer_spi))
        } else {
            (i_to_r(our_spi), r_to_i(peer_spi))
        })
    }

    /// The first configured child whose selectors overlap the proposed ones, with the narrowed
    /// selectors (RFC 7296 §2.9): (config, remote side = TSi, local side = TSr).
    pub(crate) fn child_for_selectors(
        sa: &IkeSa,
        tsi: &[TrafficSelector],
        tsr: &[TrafficSelector],
    ) -> Option<(ChildConfig, Vec<TrafficSelector>, Vec<TrafficSelector>)> {
        sa.cfg
            .children
            .iter()
            .find_map(|c| Self::narrow_for(sa, c, tsi, tsr).map(|(i, r)| (c.clone(), i, r)))
    }

    /// Narrows proposed selectors against one child's configuration: (TSi, TSr), or `None`.
    /// `tsi` are the peer's (the exchange initiator's), `tsr` ours; in transport mode across a
    /// NAT with the addresses as seen in IKE ([`seen_ts`], RFC 7296 §2.23.1).
    pub(crate) fn narrow_for(
        sa: &IkeSa,
        c: &ChildConfig,
        tsi: &[TrafficSelector],
        tsr: &[TrafficSelector],
    ) -> Option<(Vec<TrafficSelector>, Vec<TrafficSelector>)> {
        let (tsi, tsr) = seen_ts(sa, c, tsi, tsr);
        let ni = ts::narrow(&tsi, &remote_ts(sa, &c.remote_ts));
        let nr = ts::narrow(&tsr, &local_ts(sa, &c.local_ts));
        (!ni.is_empty() && !nr.is_empty()).then_some((ni, nr))
    }

    /// When a new Child SA should be rekeyed (with jitter, so both peers rarely collide) and
    /// when it expires.
    pub(crate) fn child_lifetimes(
        &mut self,
        cfg: &ChildConfig,
        now: Instant,
    ) -> (Option<Instant>, Option<Instant>) {
        let rekey = cfg.rekey_time.unwrap_or(self.cfg.child_rekey_time);
        let life = cfg.life_time.or(self.cfg.child_life_time);
        if rekey.is_zero() {
            return (None, life.map(|l| now + l));
        }
        let jitter = self.jitter(rekey / 10);
        let life = life.unwrap_or(rekey + rekey / 10);
        (Some(now + rekey - jitter), Some(now + life))
    }

    /// A random duration in `0..max`.
    pub(crate) fn jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        let mut b = [0u8; 8];
        self.rng.fill(&mut b);
        let ms = u64::from_be_bytes(b) % (max.as_millis().max(1) as u64);
        Duration::from_millis(ms)
    }

    /// Installs a Child SA: state, timers, log line, event. Returns its id.
    pub(crate) fn install_child(
        &mut self,
        sa: &mut IkeSa,
        now: Instant,
        nc: NewChild,
    ) -> ChildSaId {
        let cid = self.alloc_child_id();
        let (rekey_at, expire_at) = self.child_lifetimes(&nc.cfg, now);
        let child = ChildSa {
            id: cid,
            cfg: nc.cfg.clone(),
            inbound_spi: nc.inbound.spi,
            outbound_spi: nc.outbound.spi,
            suite: nc.suite,
            local_ts: nc.local_ts.clone(),
            remote_ts: nc.remote_ts.clone(),
            state: ChildState::Installed,
            outbound_active: nc.outbound_now,
            successor: None,
            rekey_at,
            expire_at,
            down_reported: false,
        };
        let verb = if nc.replaces.is_some() {
            "rekeyed"
        } else {
            "established"
        };
        tracing::info!(ike_sa = %sa.id, child_sa = %cid,
            "CHILD_SA {}{{{cid}}} {verb} with SPIs {:08x}_i {:08x}_o and TS {} === {} ({}){}",
            child.cfg.name, child.inbound_spi, child.outbound_spi,
            ts_list(&child.local_ts), ts_list(&child.remote_ts), suite_label(&child.suite),
            nc.replaces.map_or(String::new(), |o| format!(", replacing {{{o}}}")));
        let install = Box::new(ChildSaInstall {
            ike_sa: sa.id,
            child: cid,
            name: nc.cfg.name.clone(),
            connection: sa.cfg.name.clone(),
            mode: nc.cfg.mode,
            encap: sa.udp_encap(),
            local: sa.local,
            remote: sa.remote,
            local_ts: nc.local_ts,
            remote_ts: nc.remote_ts,
            suite: nc.suite,
            inbound: nc.inbound,
            outbound: nc.outbound,
            replaces: nc.replaces,
            outbound_now: nc.outbound_now,
        });
        if let Some(old) = nc.replaces {
            if let Some(o) = sa.children.iter_mut().find(|c| c.id == old) {
                o.successor = Some(cid);
                o.rekey_at = None;
            }
        }
        sa.children.push(child);
        self.stats.child_established += 1;
        self.events.push_back(Event::ChildSaUp(install));
        cid
    }

    /// Removes a Child SA that is gone (deleted by either side, or replaced): its successor, if
    /// any and not yet sending, starts sending first, so no packet is lost (RFC 7296 §2.8).
    /// `reason` is reported unless a successor replaced it ("rekeyed").
    pub(crate) fn child_gone(&mut self, sa: &mut IkeSa, child: ChildSaId, reason: &str) {
        let Some(pos) = sa.children.iter().position(|c| c.id == child) else {
            return;
        };
        let c = sa.children.remove(pos);
        self.esp_spis.remove(&c.inbound_spi);
        if let Some(next) = c.successor {
            if let Some(n) = sa.children.iter_mut().find(|x| x.id == next) {
                if !n.outbound_active {
                    n.outbound_active = true;
                    self.events.push_back(Event::ChildSaOutbound {
                        ike_sa: sa.id,
                        child: next,
                    });
                }
            }
        }
        if !c.down_reported {
            self.events.push_back(Event::ChildSaDown {
                ike_sa: sa.id,
                child: c.id,
                inbound_spi: c.inbound_spi,
                outbound_spi: c.outbound_spi,
                reason: if c.successor.is_some() {
                    "rekeyed".into()
                } else {
                    reason.into()
                },
            });
        }
    }
}

#[cfg(test)]
mod tests;
