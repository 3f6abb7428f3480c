//! Configuration payloads (RFC 7296 §2.19, §3.15): virtual IPs from address pools, DNS servers
//! and split-tunnel subnets for road warriors, and their request/install on the client side.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use wire::ike::{CpAttribute, CpPayload, Payload};
use wire::TrafficSelector;

use crate::engine::Engine;
use crate::event::Event;
use crate::sa::IkeSa;

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

/// INTERNAL_IP4_ADDRESS is 4 octets; INTERNAL_IP6_ADDRESS 16 octets and a prefix length
/// (RFC 7296 §3.15.1); an empty value asks for any address.
fn attr_addr(a: &CpAttribute) -> Option<IpAddr> {
    match a.attr_type {
        CpAttribute::INTERNAL_IP4_ADDRESS | CpAttribute::INTERNAL_IP4_DNS => {
            <[u8; 4]>::try_from(a.value.as_slice())
                .ok()
                .map(|o| IpAddr::V4(o.into()))
        }
        CpAttribute::INTERNAL_IP6_ADDRESS => a
            .value
            .get(..16)
            .and_then(|v| <[u8; 16]>::try_from(v).ok())
            .map(|o| IpAddr::V6(o.into())),
        CpAttribute::INTERNAL_IP6_DNS => <[u8; 16]>::try_from(a.value.as_slice())
            .ok()
            .map(|o| IpAddr::V6(o.into())),
        _ => None,
    }
}

/// The CP payload of a message, if any.
pub(crate) fn find_cp(payloads: &[Payload]) -> Option<&CpPayload> {
    payloads.iter().find_map(|p| match p {
        Payload::Cp(c) => Some(c),
        _ => None,
    })
}

impl Engine {
    /// Initiator: the CFG_REQUEST for the virtual IPs the connection wants (RFC 7296 §3.15.4).
    pub(crate) fn vip_request(sa: &IkeSa) -> Option<Payload> {
        if sa.cfg.vips.is_empty() {
            return None;
        }
        let mut attributes = Vec::new();
        for v in &sa.cfg.vips {
            let value = if v.is_unspecified() {
                Vec::new()
            } else {
                addr_bytes(*v)
            };
            match v {
                IpAddr::V4(_) => {
                    attributes.push(CpAttribute {
                        attr_type: CpAttribute::INTERNAL_IP4_ADDRESS,
                        value,
                    });
                    attributes.push(CpAttribute {
                        attr_type: CpAttribute::INTERNAL_IP4_DNS,
                        value: Vec::new(),
                    });
                }
                IpAddr::V6(_) => {
                    let mut value = value;
                    if !value.is_empty() {
                        value.push(128);
                    }
                    attributes.push(CpAttribute {
                        attr_type: CpAttribute::INTERNAL_IP6_ADDRESS,
                        value,
                    });
                    attributes.push(CpAttribute {
                        attr_type: CpAttribute::INTERNAL_IP6_DNS,
                        value: Vec::new(),
                    });
                }
            }
        }
        Some(Payload::Cp(CpPayload {
            cfg_type: CpPayload::REQUEST,
            attributes,
        }))
    }

    /// Initiator: the selectors to propose for our side when asking for virtual IPs: every
    /// address of each requested family (the responder narrows them to the virtual IPs).
    pub(crate) fn vip_local_ts(sa: &IkeSa) -> Vec<TrafficSelector> {
        let mut v = Vec::new();
        if sa.cfg.vips.iter().any(IpAddr::is_ipv4) {
            v.push(TrafficSelector::any_v4());
        }
        if sa.cfg.vips.iter().any(IpAddr::is_ipv6) {
            v.push(TrafficSelector::any_v6());
        }
        v
    }

    /// Responder: answers a CFG_REQUEST from the connection's pools. Returns the CFG_REPLY, or
    /// `Err(())` when an address was asked for and none could be given
    /// (INTERNAL_ADDRESS_FAILURE, RFC 7296 §3.10.1).
    pub(crate) fn answer_cp(
        &mut self,
        sa: &mut IkeSa,
        req: &CpPayload,
    ) -> Result<Option<Payload>, ()> {
        if req.cfg_type != CpPayload::REQUEST {
            return Ok(None);
        }
        let Some(peer) = sa.remote_id.clone() else {
            return Err(());
        };
        let mut reply = Vec::new();
        let wants = req.attributes.iter().filter(|a| {
            matches!(
                a.attr_type,
                CpAttribute::INTERNAL_IP4_ADDRESS | CpAttribute::INTERNAL_IP6_ADDRESS
            )
        });
        let mut asked = false;
        for a in wants {
            asked = true;
            let v4 = a.attr_type == CpAttribute::INTERNAL_IP4_ADDRESS;
            let wish = attr_addr(a).unwrap_or(if v4 {
                Ipv4Addr::UNSPECIFIED.into()
            } else {
                Ipv6Addr::UNSPECIFIED.into()
            });
            // Already assigned on this SA (a second request, e.g. after EAP): reuse.
            if let Some((_, have)) = sa.remote_vips.iter().find(|(_, x)| x.is_ipv4() == v4) {
                reply.push(vip_attr(*have));
                continue;
            }
            let Some(pools) = self.pools.as_mut() else {
                continue;
            };
            let got = sa
                .cfg
                .pools
                .iter()
                .find_map(|p| pools.acquire(p, &peer, wish).map(|a| (p.clone(), a)));
            if let Some((pool, addr)) = got {
                tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: assigning virtual IP {addr} to '{peer}' from pool {pool}", sa.cfg.name, sa.id);
                reply.push(vip_attr(addr));
                sa.remote_vips.push((pool, addr));
            }
        }
        if asked && sa.remote_vips.is_empty() {
            tracing::warn!(ike_sa = %sa.id, "IKE_SA {}[{}]: no virtual IP for '{peer}' (pools {:?} exhausted or missing); sending INTERNAL_ADDRESS_FAILURE", sa.cfg.name, sa.id, sa.cfg.pools);
            return Err(());
        }
        // DNS servers of the families the client got addresses of (or asked DNS for).
        let want_dns4 = req
            .attributes
            .iter()
            .any(|a| a.attr_type == CpAttribute::INTERNAL_IP4_DNS)
            || sa.remote_vips.iter().any(|(_, a)| a.is_ipv4());
        let want_dns6 = req
            .attributes
            .iter()
            .any(|a| a.attr_type == CpAttribute::INTERNAL_IP6_DNS)
            || sa.remote_vips.iter().any(|(_, a)| a.is_ipv6());
        for d in &sa.cfg.dns {
            match d {
                IpAddr::V4(_) if want_dns4 => reply.push(CpAttribute {
                    attr_type: CpAttribute::INTERNAL_IP4_DNS,
                    value: addr_bytes(*d),
                }),
                IpAddr::V6(_) if want_dns6 => reply.push(CpAttribute {
                    attr_type: CpAttribute::INTERNAL_IP6_DNS,
                    value: addr_bytes(*d),
                }),
                _ => {}
            }
        }
        // Split tunnels: the networks behind us, when they are not everything.
        for c in sa.cfg.children.iter().take(1) {
            for t in super::child::local_ts(sa, &c.local_ts) {
                if t == TrafficSelector::any_v4() || t == TrafficSelector::any_v6() {
                    continue;
                }
                for (net, len) in t.to_prefixes() {
                    let (attr_type, mut value) = match net {
                        IpAddr::V4(n) => {
                            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                            let mut v = n.octets().to_vec();
                            v.extend_from_slice(&mask.to_be_bytes());
                            (CpAttribute::INTERNAL_IP4_SUBNET, v)
                        }
                        IpAddr::V6(n) => (CpAttribute::INTERNAL_IP6_SUBNET, n.octets().to_vec()),
                    };
                    if attr_type == CpAttribute::INTERNAL_IP6_SUBNET {
                        value.push(len);
                    }
                    reply.push(CpAttribute { attr_type, value });
                }
            }
        }
        Ok(Some(Payload::Cp(CpPayload {
            cfg_type: CpPayload::REPLY,
            attributes: reply,
        })))
    }

    /// Initiator: the CFG_REPLY: our virtual IPs, DNS servers and subnets, reported to the driver.
    pub(crate) fn take_cp_reply(&mut self, sa: &mut IkeSa, reply: &CpPayload) {
        if reply.cfg_type != CpPayload::REPLY {
            return;
        }
        let mut addresses = Vec::new();
        let mut dns = Vec::new();
        let mut subnets = Vec::new();
        for a in &reply.attributes {
            match a.attr_type {
                CpAttribute::INTERNAL_IP4_ADDRESS | CpAttribute::INTERNAL_IP6_ADDRESS => {
                    addresses.extend(attr_addr(a))
                }
                CpAttribute::INTERNAL_IP4_DNS | CpAttribute::INTERNAL_IP6_DNS => {
                    dns.extend(attr_addr(a))
                }
                CpAttribute::INTERNAL_IP4_SUBNET => {
                    if let (Some(n), Some(m)) = (a.value.get(..4), a.value.get(4..8)) {
                        let net = Ipv4Addr::new(n[0], n[1], n[2], n[3]);
                        let len = u32::from_be_bytes([m[0], m[1], m[2], m[3]]).leading_ones() as u8;
                        subnets.extend(TrafficSelector::from_prefix(net.into(), len).ok());
                    }
                }
                CpAttribute::INTERNAL_IP6_SUBNET => {
                    if let (Some(n), Some(&len)) = (
                        a.value.get(..16).and_then(|v| <[u8; 16]>::try_from(v).ok()),
                        a.value.get(16),
                    ) {
                        subnets.extend(
                            TrafficSelector::from_prefix(Ipv6Addr::from(n).into(), len).ok(),
                        );
                    }
                }
                _ => {}
            }
        }
        if addresses.is_empty() {
            return;
        }
        tracing::info!(ike_sa = %sa.id, "IKE_SA {}[{}]: got virtual IP {}", sa.cfg.name, sa.id,
            addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
        sa.local_vips = addresses.clone();
        self.events.push_back(Event::VirtualIp {
            ike_sa: sa.id,
            addresses,
            dns,
            subnets,
        });
    }

    /// Gives a gone IKE SA's virtual IPs back to their pools.
    pub(crate) fn release_vips(&mut self, sa: &mut IkeSa) {
        let (Some(pools), Some(peer)) = (self.pools.as_mut(), sa.remote_id.as_ref()) else {
            return;
        };
        for (pool, addr) in sa.remote_vips.drain(..) {
            pools.release(&pool, peer, addr);
        }
    }
}

fn vip_attr(a: IpAddr) -> CpAttribute {
    match a {
        IpAddr::V4(v) => CpAttribute {
            attr_type: CpAttribute::INTERNAL_IP4_ADDRESS,
            value: v.octets().to_vec(),
        },
        IpAddr::V6(v) => {
            let mut value = v.octets().to_vec();
            value.push(128);
            CpAttribute {
                attr_type: CpAttribute::INTERNAL_IP6_ADDRESS,
                value,
            }
        }
    }
}
