//! IKEv2 payloads (RFC 7296 §3.2–§3.16) other than the Encrypted payload, which
//! `message.rs` handles because it wraps a payload chain of its own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::sa::{Proposal, ProtocolId};
use crate::id::Identity;
use crate::ts::TrafficSelector;
use crate::WireError;

/// Length of the generic payload header (RFC 7296 §3.2).
pub const GENERIC_HEADER_LEN: usize = 4;

/// Payload type numbers (RFC 7296 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayloadType(pub u8);

#[allow(missing_docs)]
impl PayloadType {
    pub const NONE: Self = Self(0);
    pub const SA: Self = Self(33);
    pub const KE: Self = Self(34);
    pub const IDI: Self = Self(35);
    pub const IDR: Self = Self(36);
    pub const CERT: Self = Self(37);
    pub const CERTREQ: Self = Self(38);
    pub const AUTH: Self = Self(39);
    pub const NONCE: Self = Self(40);
    pub const NOTIFY: Self = Self(41);
    pub const DELETE: Self = Self(42);
    pub const VENDOR_ID: Self = Self(43);
    pub const TSI: Self = Self(44);
    pub const TSR: Self = Self(45);
    pub const SK: Self = Self(46);
    pub const CP: Self = Self(47);
    pub const EAP: Self = Self(48);
    pub const SKF: Self = Self(53);
}

/// Key Exchange payload (RFC 7296 §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KePayload {
    /// Key exchange method (D-H group) number.
    pub group: u16,
    /// Public value.
    pub data: Vec<u8>,
}

/// Authentication payload (RFC 7296 §3.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthPayload {
    /// Auth Method (1 RSA signature, 2 shared key MIC, 3 DSS, 9-11 ECDSA, 14 digital signature).
    pub method: u8,
    /// Authentication Data.
    pub data: Vec<u8>,
}

impl AuthPayload {
    /// Shared Key Message Integrity Code.
    pub const SHARED_KEY_MIC: u8 = 2;
}

/// Notify payload (RFC 7296 §3.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notify {
    /// Protocol ID (0 when about the IKE SA, 2 AH, 3 ESP).
    pub protocol: ProtocolId,
    /// SPI (empty, or 4 octets for a Child SA).
    pub spi: Vec<u8>,
    /// Notify Message Type.
    pub notify_type: u16,
    /// Notification Data.
    pub data: Vec<u8>,
}

impl Notify {
    /// A notify about the IKE SA (no protocol, no SPI).
    pub fn new(notify_type: super::NotifyType, data: Vec<u8>) -> Self {
        Self {
            protocol: ProtocolId::NONE,
            spi: Vec::new(),
            notify_type: notify_type.0,
            data,
        }
    }
}

/// Delete payload (RFC 7296 §3.11).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeletePayload {
    /// IKE (SPIs empty) or ESP/AH.
    pub protocol: ProtocolId,
    /// SPI size: 0 for IKE, 4 for ESP/AH.
    pub spi_size: u8,
    /// The SPIs, each `spi_size` octets.
    pub spis: Vec<Vec<u8>>,
}

/// Traffic Selector payload (RFC 7296 §3.13).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TsPayload {
    /// The selectors.
    pub selectors: Vec<TrafficSelector>,
}

/// Configuration payload (RFC 7296 §3.15).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpPayload {
    /// CFG Type: 1 CFG_REQUEST, 2 CFG_REPLY, 3 CFG_SET, 4 CFG_ACK.
    pub cfg_type: u8,
    /// Configuration attributes in wire order.
    pub attributes: Vec<CpAttribute>,
}

impl CpPayload {
    /// CFG_REQUEST.
    pub const REQUEST: u8 = 1;
    /// CFG_REPLY.
    pub const REPLY: u8 = 2;
    /// CFG_SET.
    pub const SET: u8 = 3;
    /// CFG_ACK.
    pub const ACK: u8 = 4;
}

/// One configuration attribute (RFC 7296 §3.15.1): a 15-bit type and a value (empty in a
/// request asking for one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpAttribute {
    /// Attribute type (INTERNAL_IP4_ADDRESS = 1, ... §3.15.1; INTERNAL_DNS_DOMAIN = 25, RFC 8598).
    pub attr_type: u16,
    /// The value.
    pub value: Vec<u8>,
}

#[allow(missing_docs)]
impl CpAttribute {
    pub const INTERNAL_IP4_ADDRESS: u16 = 1;
    pub const INTERNAL_IP4_NETMASK: u16 = 2;
    pub const INTERNAL_IP4_DNS: u16 = 3;
    pub const INTERNAL_IP4_NBNS: u16 = 4;
    pub const INTERNAL_IP4_DHCP: u16 = 6;
    pub const APPLICATION_VERSION: u16 = 7;
    pub const INTERNAL_IP6_ADDRESS: u16 = 8;
    pub const INTERNAL_IP6_DNS: u16 = 10;
    pub const INTERNAL_IP6_DHCP: u16 = 12;
    pub const INTERNAL_IP4_SUBNET: u16 = 13;
    pub const SUPPORTED_ATTRIBUTES: u16 = 14;
    pub const INTERNAL_IP6_SUBNET: u16 = 15;
    pub const INTERNAL_DNS_DOMAIN: u16 = 25;
}

/// One payload of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload {
    /// SA (33).
    Sa(Vec<Proposal>),
    /// KE (34).
    Ke(KePayload),
    /// IDi (35).
    IdI(Identity),
    /// IDr (36).
    IdR(Identity),
    /// CERT (37): encoding and data (not interpreted yet).
    Cert {
        /// Cert Encoding.
        encoding: u8,
        /// Certificate Data.
        data: Vec<u8>,
    },
    /// CERTREQ (38): encoding and CA hashes (parsed, ignored for now).
    CertReq {
        /// Cert Encoding.
        encoding: u8,
        /// Certification Authority field.
        data: Vec<u8>,
    },
    /// AUTH (39).
    Auth(AuthPayload),
    /// Nonce (40).
    Nonce(Vec<u8>),
    /// Notify (41).
    Notify(Notify),
    /// Delete (42).
    Delete(DeletePayload),
    /// Vendor ID (43).
    VendorId(Vec<u8>),
    /// TSi (44).
    TsI(TsPayload),
    /// TSr (45).
    TsR(TsPayload),
    /// CP (47).
    Cp(CpPayload),
    /// EAP (48): one EAP packet (RFC 7296 §3.16).
    Eap(super::EapPacket),
    /// A payload kept as raw bytes: EAP (not interpreted yet) and unknown non-critical
    /// types (RFC 7296 §2.5: skipped).
    Raw {
        /// The payload type.
        payload_type: u8,
        /// The critical bit as received.
        critical: bool,
        /// Body after the generic header.
        body: Vec<u8>,
    },
}

fn known_type(t: u8) -> bool {
    matches!(t, 33..=48 | 53)
}

fn parse_ts(body: &[u8]) -> Result<TsPayload, WireError> {
    let h = body.get(..4).ok_or(WireError::Truncated("TS payload"))?;
    let n = usize::from(h[0]);
    let mut rest = &body[4..];
    let mut selectors = Vec::with_capacity(n.min(16));
    for _ in 0..n {
        let th = rest
            .get(..8)
            .ok_or(WireError::Truncated("traffic selector"))?;
        let ts_type = th[0];
        let proto = th[1];
        let len = usize::from(u16::from_be_bytes([th[2], th[3]]));
        let sp = u16::from_be_bytes([th[4], th[5]]);
        let ep = u16::from_be_bytes([th[6], th[7]]);
        let alen = match ts_type {
            crate::ts::TS_IPV4_ADDR_RANGE => 4,
            crate::ts::TS_IPV6_ADDR_RANGE => 16,
            _ => return Err(WireError::Invalid("traffic selector type")),
        };
        if len != 8 + 2 * alen || rest.len() < len {
            return Err(WireError::BadLength("traffic selector"));
        }
        let a = &rest[8..8 + alen];
        let b = &rest[8 + alen..8 + 2 * alen];
        let (start, end): (IpAddr, IpAddr) = if alen == 4 {
            let a: [u8; 4] = a.try_into().map_err(|_| WireError::BadLength("TS"))?;
            let b: [u8; 4] = b.try_into().map_err(|_| WireError::BadLength("TS"))?;
            (Ipv4Addr::from(a).into(), Ipv4Addr::from(b).into())
        } else {
            let a: [u8; 16] = a.try_into().map_err(|_| WireError::BadLength("TS"))?;
            let b: [u8; 16] = b.try_into().map_err(|_| WireError::BadLength("TS"))?;
            (Ipv6Addr::from(a).into(), Ipv6Addr::from(b).into())
        };
        selectors.push(TrafficSelector::new(proto, sp, ep, start, end)?);
        rest = &rest[len..];
    }
    if !rest.is_empty() {
        return Err(WireError::BadLength("TS payload"));
    }
    Ok(TsPayload { selectors })
}

fn parse_cp(body: &[u8]) -> Result<CpPayload, WireError> {
    let h = body.get(..4).ok_or(WireError::Truncated("CP payload"))?;
    let cfg_type = h[0];
    let mut rest = &body[4..];
    let mut attributes = Vec::new();
    while !rest.is_empty() {
        let ah = rest.get(..4).ok_or(WireError::Truncated("CP attribute"))?;
        let attr_type = u16::from_be_bytes([ah[0] & 0x7f, ah[1]]);
        let len = usize::from(u16::from_be_bytes([ah[2], ah[3]]));
        let value = rest
            .get(4..4 + len)
            .ok_or(WireError::BadLength("CP attribute"))?;
        attributes.push(CpAttribute {
            attr_type,
            value: value.to_vec(),
        });
        rest = &rest[4 + len..];
    }
    Ok(CpPayload {
        cfg_type,
        attributes,
    })
}

fn emit_ts(ts: &TsPayload, out: &mut Vec<u8>) -> Result<(), WireError> {
    let n = u8::try_from(ts.selectors.len()).map_err(|_| WireError::BadLength("TS count"))?;
    out.extend_from_slice(&[n, 0, 0, 0]);
    for s in &ts.selectors {
        let alen: u16 = if s.is_ipv4() { 4 } else { 16 };
        out.push(s.ts_type());
        out.push(s.ip_proto());
        out.extend_from_slice(&(8 + 2 * alen).to_be_bytes());
        out.extend_from_slice(&s.start_port().to_be_bytes());
        out.extend_from_slice(&s.end_port().to_be_bytes());
        for a in [s.start_addr(), s.end_addr()] {
            match a {
                IpAddr::V4(v) => out.extend_from_slice(&v.octets()),
                IpAddr::V6(v) => out.extend_from_slice(&v.octets()),
            }
        }
    }
    Ok(())
}

impl Payload {
    /// The payload type number.
    pub fn payload_type(&self) -> u8 {
        match self {
            Payload::Sa(_) => 33,
            Payload::Ke(_) => 34,
            Payload::IdI(_) => 35,
            Payload::IdR(_) => 36,
            Payload::Cert { .. } => 37,
            Payload::CertReq { .. } => 38,
            Payload::Auth(_) => 39,
            Payload::Nonce(_) => 40,
            Payload::Notify(_) => 41,
            Payload::Delete(_) => 42,
            Payload::VendorId(_) => 43,
            Payload::TsI(_) => 44,
            Payload::TsR(_) => 45,
            Payload::Cp(_) => 47,
            Payload::Eap(_) => 48,
            Payload::Raw { payload_type, .. } => *payload_type,
        }
    }

    /// Parses one payload body of type `payload_type`. Unknown types come back as `Raw` when not
    /// critical and as `UnsupportedCriticalPayload` when critical (RFC 7296 §2.5).
    pub fn parse(payload_type: u8, critical: bool, body: &[u8]) -> Result<Self, WireError> {
        let short = |what| WireError::Truncated(what);
        Ok(match payload_type {
            33 => Payload::Sa(Proposal::parse_all(body)?),
            34 => {
                let h = body.get(..4).ok_or(short("KE payload"))?;
                Payload::Ke(KePayload {
                    group: u16::from_be_bytes([h[0], h[1]]),
                    data: body[4..].to_vec(),
                })
            }
            35 | 36 => {
                let h = body.get(..4).ok_or(short("ID payload"))?;
                let id = Identity::from_wire(h[0], &body[4..])?;
                if payload_type == 35 {
                    Payload::IdI(id)
                } else {
                    Payload::IdR(id)
                }
            }
            37 | 38 => {
                let enc = *body.first().ok_or(short("CERT payload"))?;
                let data = body[1..].to_vec();
                if payload_type == 37 {
                    Payload::Cert {
                        encoding: enc,
                        data,
                    }
                } else {
                    Payload::CertReq {
                        encoding: enc,
                        data,
                    }
                }
            }
            39 => {
                let h = body.get(..4).ok_or(short("AUTH payload"))?;
                Payload::Auth(AuthPayload {
                    method: h[0],
                    data: body[4..].to_vec(),
                })
            }
            40 => Payload::Nonce(body.to_vec()),
            41 => {
                let h = body.get(..4).ok_or(short("Notify payload"))?;
                let spi_size = usize::from(h[1]);
                let spi = body
                    .get(4..4 + spi_size)
                    .ok_or(WireError::BadLength("Notify SPI"))?;
                Payload::Notify(Notify {
                    protocol: ProtocolId(h[0]),
                    spi: spi.to_vec(),
                    notify_type: u16::from_be_bytes([h[2], h[3]]),
                    data: body[4 + spi_size..].to_vec(),
                })
            }
            42 => {
                let h = body.get(..4).ok_or(short("Delete payload"))?;
                let spi_size = h[1];
                let n = usize::from(u16::from_be_bytes([h[2], h[3]]));
                let spis_bytes = &body[4..];
                if spis_bytes.len() != n * usize::from(spi_size) {
                    return Err(WireError::BadLength("Delete payload"));
                }
                let spis = if spi_size == 0 {
                    Vec::new()
                } else {
                    spis_bytes
                        .chunks(usize::from(spi_size))
                        .map(<[u8]>::to_vec)
                        .collect()
                };
                Payload::Delete(DeletePayload {
                    protocol: ProtocolId(h[0]),
                    spi_size,
                    spis,
                })
            }
            43 => Payload::VendorId(body.to_vec()),
            44 => Payload::TsI(parse_ts(body)?),
            45 => Payload::TsR(parse_ts(body)?),
            47 => Payload::Cp(parse_cp(body)?),
            48 => Payload::Eap(super::EapPacket::parse(body)?),
            t if known_type(t) || !critical => Payload::Raw {
                payload_type: t,
                critical,
                body: body.to_vec(),
            },
            t => return Err(WireError::UnsupportedCriticalPayload(t)),
        })
    }

    /// Appends the payload body (without the generic header).
    pub fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        match self {
            Payload::Sa(p) => Proposal::emit_all(p, out)?,
            Payload::Ke(k) => {
                out.extend_from_slice(&k.group.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&k.data);
            }
            Payload::IdI(id) | Payload::IdR(id) => {
                out.extend_from_slice(&[id.id_type(), 0, 0, 0]);
                out.extend_from_slice(&id.data());
            }
            Payload::Cert { encoding, data } | Payload::CertReq { encoding, data } => {
                out.push(*encoding);
                out.extend_from_slice(data);
            }
            Payload::Auth(a) => {
                out.extend_from_slice(&[a.method, 0, 0, 0]);
                out.extend_from_slice(&a.data);
            }
            Payload::Nonce(n) | Payload::VendorId(n) => out.extend_from_slice(n),
            Payload::Notify(n) => {
                let spi_size =
                    u8::try_from(n.spi.len()).map_err(|_| WireError::BadLength("Notify SPI"))?;
                out.extend_from_slice(&[n.protocol.0, spi_size]);
                out.extend_from_slice(&n.notify_type.to_be_bytes());
                out.extend_from_slice(&n.spi);
                out.extend_from_slice(&n.data);
            }
            Payload::Delete(d) => {
                let n = u16::try_from(d.spis.len())
                    .map_err(|_| WireError::BadLength("Delete count"))?;
                if d.spis.iter().any(|s| s.len() != usize::from(d.spi_size)) {
                    return Err(WireError::BadLength("Delete SPI"));
                }
                out.extend_from_slice(&[d.protocol.0, d.spi_size]);
                out.extend_from_slice(&n.to_be_bytes());
                for s in &d.spis {
                    out.extend_from_slice(s);
                }
            }
            Payload::TsI(t) | Payload::TsR(t) => emit_ts(t, out)?,
            Payload::Eap(e) => out.extend_from_slice(&e.emit()?),
            Payload::Cp(c) => {
                out.extend_from_slice(&[c.cfg_type, 0, 0, 0]);
                for a in &c.attributes {
                    let len = u16::try_from(a.value.len())
                        .map_err(|_| WireError::BadLength("CP attribute"))?;
                    out.extend_from_slice(&(a.attr_type & 0x7fff).to_be_bytes());
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(&a.value);
                }
            }
            Payload::Raw { body, .. } => out.extend_from_slice(body),
        }
        Ok(())
    }

    /// The critical bit to send: set only when forwarding a raw payload that had it.
    pub fn critical(&self) -> bool {
        matches!(self, Payload::Raw { critical: true, .. })
    }
}
