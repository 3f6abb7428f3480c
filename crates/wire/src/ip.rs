//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers, the Internet checksum (RFC 1071), and the
//! selector fields of an IP packet (RFC 4301 §4.4.1.1) that SPD lookups need.
//!
//! Views ([`Ipv4Packet`], [`Ipv6Packet`]) check every length against the buffer once, in
//! `new_checked`; their accessors then never panic. Owned reprs ([`Ipv4Repr`], [`Ipv6Repr`])
//! parse from a view and emit a header (IPv4 without options).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::WireError;

/// ICMP (RFC 792).
pub const IPPROTO_ICMP: u8 = 1;
/// IPv4 encapsulation (IP-in-IP, RFC 2003).
pub const IPPROTO_IPIP: u8 = 4;
/// TCP (RFC 9293).
pub const IPPROTO_TCP: u8 = 6;
/// UDP (RFC 768).
pub const IPPROTO_UDP: u8 = 17;
/// IPv6 encapsulation (RFC 2473).
pub const IPPROTO_IPV6: u8 = 41;
/// SCTP (RFC 9260).
pub const IPPROTO_SCTP: u8 = 132;
/// ICMPv6 (RFC 4443).
pub const IPPROTO_ICMPV6: u8 = 58;
/// IPv6 Hop-by-Hop Options header (RFC 8200 §4.3).
pub const IPV6_HOP_BY_HOP: u8 = 0;
/// IPv6 Routing header (RFC 8200 §4.4).
pub const IPV6_ROUTING: u8 = 43;
/// IPv6 Fragment header (RFC 8200 §4.5).
pub const IPV6_FRAGMENT: u8 = 44;
/// IPv6 Destination Options header (RFC 8200 §4.6).
pub const IPV6_DEST_OPTS: u8 = 60;
/// IPv6 "No Next Header" (RFC 8200 §4.7).
pub const IPV6_NO_NEXT_HEADER: u8 = 59;

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;

// ---------------------------------------------------------------------------------------------
// Internet checksum (RFC 1071)

/// One's-complement sum of `data` as big-endian 16-bit words (an odd last byte is padded with a
/// zero), not yet folded. Add partial sums of even-length pieces freely.
pub fn checksum_sum(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut sum: u64 = 0;
    for c in &mut chunks {
        if let &[a, b] = c {
            sum += u64::from(u16::from_be_bytes([a, b]));
        }
    }
    if let &[last] = chunks.remainder() {
        sum += u64::from(u16::from_be_bytes([last, 0]));
    }
    sum
}

/// Folds a sum from [`checksum_sum`] to 16 bits and complements it: the checksum field value.
pub fn checksum_finish(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Internet checksum of `data` (RFC 1071). Over data that already contains a correct
/// checksum field, the result is 0.
pub fn checksum(data: &[u8]) -> u16 {
    checksum_finish(checksum_sum(data))
}

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

pub(crate) fn addr4(b: &[u8], at: usize) -> Ipv4Addr {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) => Ipv4Addr::new(w, x, y, z),
        _ => Ipv4Addr::UNSPECIFIED,
    }
}

pub(crate) fn addr6(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        a.copy_from_slice(s);
    }
    Ipv6Addr::from(a)
}

// ---------------------------------------------------------------------------------------------
// IPv4

/// A view of an IPv4 packet (RFC 791 §3.1). `new_checked` guarantees: version 4, IHL >= 5,
/// header and Total Length within the buffer, Total Length >= header length. Bytes after
/// Total Length (link padding, ESP TFC padding) are ignored by `payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer` after the length and version checks above.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        let first = *b.first().ok_or(WireError::Truncated("IPv4 header"))?;
        if first >> 4 != 4 {
            return Err(WireError::UnsupportedVersion);
        }
        if b.len() < IPV4_HEADER_LEN {
            return Err(WireError::Truncated("IPv4 header"));
        }
        let header_len = usize::from(first & 0x0f) * 4;
        if header_len < IPV4_HEADER_LEN {
            return Err(WireError::BadLength("IPv4 IHL"));
        }
        if header_len > b.len() {
            return Err(WireError::Truncated("IPv4 options"));
        }
        let total = usize::from(be16(b, 2));
        if total < header_len {
            return Err(WireError::BadLength("IPv4 total length"));
        }
        if total > b.len() {
            return Err(WireError::Truncated("IPv4 packet"));
        }
        Ok(Self { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.b().first().copied().unwrap_or(0x45) & 0x0f) * 4
    }
    /// The Type of Service octet: DSCP and ECN (RFC 2474, RFC 3168).
    pub fn dscp_ecn(&self) -> u8 {
        self.b().get(1).copied().unwrap_or(0)
    }
    /// Total Length: header and data in bytes.
    pub fn total_len(&self) -> usize {
        usize::from(be16(self.b(), 2))
    }
    /// Identification.
    pub fn identification(&self) -> u16 {
        be16(self.b(), 4)
    }
    /// The DF flag.
    pub fn dont_frag(&self) -> bool {
        be16(self.b(), 6) & 0x4000 != 0
    }
    /// The MF flag.
    pub fn more_frags(&self) -> bool {
        be16(self.b(), 6) & 0x2000 != 0
    }
    /// Fragment Offset in units of 8 bytes.
    pub fn frag_offset(&self) -> u16 {
        be16(self.b(), 6) & 0x1fff
    }
    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.b().get(8).copied().unwrap_or(0)
    }
    /// Protocol.
    pub fn protocol(&self) -> u8 {
        self.b().get(9).copied().unwrap_or(0)
    }
    /// Header Checksum as stored.
    pub fn header_checksum(&self) -> u16 {
        be16(self.b(), 10)
    }
    /// Source Address.
    pub fn src_addr(&self) -> Ipv4Addr {
        addr4(self.b(), 12)
    }
    /// Destination Address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        addr4(self.b(), 16)
    }
    /// Options (possibly empty).
    pub fn options(&self) -> &[u8] {
        self.b()
            .get(IPV4_HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }
    /// The data: from the end of the header to Total Length.
    pub fn payload(&self) -> &[u8] {
        self.b()
            .get(self.header_len()..self.total_len())
            .unwrap_or(&[])
    }
    /// True when the header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        self.b()
            .get(..self.header_len())
            .is_some_and(|h| checksum(h) == 0)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Recomputes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        let hl = self.header_len();
        let b = self.buffer.as_mut();
        if let Some(h) = b.get_mut(..hl) {
            h[10] = 0;
            h[11] = 0;
            let c = checksum(h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
        }
    }
}

/// An IPv4 header without options (RFC 791 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source Address.
    pub src_addr: Ipv4Addr,
    /// Destination Address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: u8,
    /// Time to Live.
    pub ttl: u8,
    /// DSCP and ECN octet.
    pub dscp_ecn: u8,
    /// Identification.
    pub identification: u16,
    /// DF flag.
    pub dont_frag: bool,
    /// MF flag.
    pub more_frags: bool,
    /// Fragment Offset in units of 8 bytes (13 bits).
    pub frag_offset: u16,
    /// Length of the data after the header.
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// Reads the header of a checked packet; fails on a wrong header checksum. Options are
    /// skipped (not represented).
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Self, WireError> {
        if !p.verify_checksum() {
            return Err(WireError::Invalid("IPv4 header checksum"));
        }
        Ok(Self {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            ttl: p.ttl(),
            dscp_ecn: p.dscp_ecn(),
            identification: p.identification(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            payload_len: p.payload().len(),
        })
    }

    /// Header plus payload length.
    pub fn total_len(&self) -> usize {
        IPV4_HEADER_LEN + self.payload_len
    }

    /// Writes the 20-byte header (with checksum) at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let total = u16::try_from(self.total_len())
            .map_err(|_| WireError::BadLength("IPv4 total length"))?;
        if self.frag_offset > 0x1fff {
            return Err(WireError::Invalid("IPv4 fragment offset"));
        }
        let h = buf
            .get_mut(..IPV4_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        h[0] = 0x45;
        h[1] = self.dscp_ecn;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&self.identification.to_be_bytes());
        let flags = (u16::from(self.dont_frag) << 14) | (u16::from(self.more_frags) << 13);
        h[6..8].copy_from_slice(&(flags | self.frag_offset).to_be_bytes());
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[10] = 0;
        h[11] = 0;
        h[12..16].copy_from_slice(&self.src_addr.octets());
        h[16..20].copy_from_slice(&self.dst_addr.octets());
        let c = checksum(h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// IPv6

/// A view of an IPv6 packet (RFC 8200 §3). `new_checked` guarantees: version 6, the fixed
/// header and Payload Length within the buffer. Jumbograms (RFC 2675) are not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps `buffer` after the checks above.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        let first = *b.first().ok_or(WireError::Truncated("IPv6 header"))?;
        if first >> 4 != 6 {
            return Err(WireError::UnsupportedVersion);
        }
        if b.len() < IPV6_HEADER_LEN {
            return Err(WireError::Truncated("IPv6 header"));
        }
        if IPV6_HEADER_LEN + usize::from(be16(b, 4)) > b.len() {
            return Err(WireError::Truncated("IPv6 packet"));
        }
        Ok(Self { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Traffic Class.
    pub fn traffic_class(&self) -> u8 {
        ((be16(self.b(), 0) >> 4) & 0xff) as u8
    }
    /// Flow Label (20 bits).
    pub fn flow_label(&self) -> u32 {
        let b = self.b();
        (u32::from(be16(b, 0) & 0x000f) << 16) | u32::from(be16(b, 2))
    }
    /// Payload Length (bytes after the fixed header, extension headers included).
    pub fn payload_len(&self) -> usize {
        usize::from(be16(self.b(), 4))
    }
    /// Whole packet length: 40 + Payload Length.
    pub fn total_len(&self) -> usize {
        IPV6_HEADER_LEN + self.payload_len()
    }
    /// Next Header of the fixed header.
    pub fn next_header(&self) -> u8 {
        self.b().get(6).copied().unwrap_or(IPV6_NO_NEXT_HEADER)
    }
    /// Hop Limit.
    pub fn hop_limit(&self) -> u8 {
        self.b().get(7).copied().unwrap_or(0)
    }
    /// Source Address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr6(self.b(), 8)
    }
    /// Destination Address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr6(self.b(), 24)
    }
    /// The bytes after the fixed header, up to Payload Length.
    pub fn payload(&self) -> &[u8] {
        self.b()
            .get(IPV6_HEADER_LEN..self.total_len())
            .unwrap_or(&[])
    }
}

/// The fixed IPv6 header (RFC 8200 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source Address.
    pub src_addr: Ipv6Addr,
    /// Destination Address.
    pub dst_addr: Ipv6Addr,
    /// Next Header.
    pub next_header: u8,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Traffic Class.
    pub traffic_class: u8,
    /// Flow Label (20 bits).
    pub flow_label: u32,
    /// Payload Length.
    pub payload_len: usize,
}

impl Ipv6Repr {
    /// Reads the fixed header of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Self {
        Self {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            next_header: p.next_header(),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
            payload_len: p.payload_len(),
        }
    }

    /// Writes the 40-byte header at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let plen = u16::try_from(self.payload_len)
            .map_err(|_| WireError::BadLength("IPv6 payload length"))?;
        if self.flow_label > 0x000f_ffff {
            return Err(WireError::Invalid("IPv6 flow label"));
        }
        let h = buf
            .get_mut(..IPV6_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        let word0 = (6u32 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label;
        h[0..4].copy_from_slice(&word0.to_be_bytes());
        h[4..6].copy_from_slice(&plen.to_be_bytes());
        h[6] = self.next_header;
        h[7] = self.hop_limit;
        h[8..24].copy_from_slice(&self.src_addr.octets());
        h[24..40].copy_from_slice(&self.dst_addr.octets());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Version-independent helpers and selector fields

/// Length of the IP packet at the start of `buf` (IPv4 Total Length, or 40 + IPv6 Payload
/// Length), after the view checks. Bytes past it (e.g. ESP TFC padding, RFC 4303 §2.7) are not
/// part of the packet.
pub fn packet_len(buf: &[u8]) -> Result<usize, WireError> {
    match buf.first().map(|b| b >> 4) {
        Some(4) => Ok(Ipv4Packet::new_checked(buf)?.total_len()),
        Some(6) => Ok(Ipv6Packet::new_checked(buf)?.total_len()),
        Some(_) => Err(WireError::UnsupportedVersion),
        None => Err(WireError::Truncated("IP header")),
    }
}

/// What the packet carries after its IP header(s), as far as selectors care
/// (RFC 4301 §4.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer4 {
    /// TCP, UDP or SCTP ports.
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// ICMP or ICMPv6 message type and code.
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
    },
    /// No port information: a protocol without ports, a non-initial fragment, or a first
    /// fragment too short to hold the ports (RFC 4301 §4.4.1.1 "OPAQUE").
    Opaque,
}

/// The selector-relevant fields of an IP packet (RFC 4301 §4.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SelectorFields {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Next layer protocol: for IPv6, the header after the Hop-by-Hop, Routing, Fragment and
    /// Destination Options extension headers.
    pub next_proto: u8,
    /// Ports, ICMP type/code, or nothing.
    pub l4: Layer4,
    /// The IP packet length (Total Length / 40 + Payload Length).
    pub total_len: usize,
    /// Where the upper-layer header (`next_proto`'s) starts: after the IPv4 header with its
    /// options, or after the IPv6 extension headers.
    pub l4_offset: usize,
}

impl SelectorFields {
    /// 4 or 6.
    pub fn version(&self) -> u8 {
        if self.src.is_ipv4() {
            4
        } else {
            6
        }
    }

    /// The value to match against a source selector's port range: the source port, or for
    /// ICMP the 16-bit `type << 8 | code` (RFC 7296 §3.13.1); `None` when OPAQUE.
    pub fn src_port(&self) -> Option<u16> {
        match self.l4 {
            Layer4::Ports { src, .. } => Some(src),
            Layer4::Icmp { icmp_type, code } => Some(u16::from_be_bytes([icmp_type, code])),
            Layer4::Opaque => None,
        }
    }

    /// The value to match against a destination selector's port range: the destination port,
    /// or for ICMP `type << 8 | code` (the same value as [`Self::src_port`]); `None` when OPAQUE.
    pub fn dst_port(&self) -> Option<u16> {
        match self.l4 {
            Layer4::Ports { dst, .. } => Some(dst),
            Layer4::Icmp { icmp_type, code } => Some(u16::from_be_bytes([icmp_type, code])),
            Layer4::Opaque => None,
        }
    }
}

pub(crate) fn layer4(proto: u8, data: &[u8], non_initial_fragment: bool) -> Layer4 {
    if non_initial_fragment {
        return Layer4::Opaque;
    }
    match proto {
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP if data.len() >= 4 => Layer4::Ports {
            src: be16(data, 0),
            dst: be16(data, 2),
        },
        IPPROTO_ICMP | IPPROTO_ICMPV6 => match data {
            &[icmp_type, code, ..] => Layer4::Icmp { icmp_type, code },
            _ => Layer4::Opaque,
        },
        _ => Layer4::Opaque,
    }
}

/// Walks the IPv6 extension headers of `payload` starting at `next`: returns the upper-layer
/// protocol, the offset of its header, and whether the packet is a non-initial fragment
/// (RFC 8200 §4; RFC 4301 §4.4.1.1).
pub(crate) fn walk_ipv6_extensions(
    mut next: u8,
    payload: &[u8],
) -> Result<(u8, usize, bool), WireError> {
    let mut off = 0usize;
    loop {
        match next {
            IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS => {
                let (nh, len) = match payload.get(off..off + 2) {
                    Some(&[nh, len]) => (nh, len),
                    _ => return Err(WireError::Truncated("IPv6 extension header")),
                };
                let hdr_len = (usize::from(len) + 1) * 8;
                off += hdr_len;
                if off > payload.len() {
                    return Err(WireError::Truncated("IPv6 extension header"));
                }
                next = nh;
            }
            IPV6_FRAGMENT => {
                let hdr = payload
                    .get(off..off + 8)
                    .ok_or(WireError::Truncated("IPv6 fragment header"))?;
                let nh = hdr.first().copied().unwrap_or(IPV6_NO_NEXT_HEADER);
                let frag_offset = be16(hdr, 2) >> 3;
                off += 8;
                next = nh;
                if frag_offset != 0 {
                    return Ok((next, off, true));
                }
            }
            _ => return Ok((next, off, false)),
        }
    }
}

/// The selector fields of the IP packet at the start of `packet` (RFC 4301 §4.4.1.1): version,
/// addresses, next layer protocol (after IPv6 extension headers) and ports or ICMP type/code.
/// Non-initial fragments (IPv4 offset != 0, IPv6 Fragment header offset != 0) are OPAQUE.
/// Fails on a malformed IP header or a truncated IPv6 extension header; never panics.
pub fn selector_fields(packet: &[u8]) -> Result<SelectorFields, WireError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let p = Ipv4Packet::new_checked(packet)?;
            let proto = p.protocol();
            Ok(SelectorFields {
                src: p.src_addr().into(),
                dst: p.dst_addr().into(),
                next_proto: proto,
                l4: layer4(proto, p.payload(), p.frag_offset() != 0),
                total_len: p.total_len(),
                l4_offset: p.header_len(),
            })
        }
        Some(6) => {
            let p = Ipv6Packet::new_checked(packet)?;
            let payload = p.payload();
            let (proto, off, non_initial) = walk_ipv6_extensions(p.next_header(), payload)?;
            let rest = payload.get(off..).unwrap_or(&[]);
            Ok(SelectorFields {
                src: p.src_addr().into(),
                dst: p.dst_addr().into(),
                next_proto: proto,
                l4: layer4(proto, rest, non_initial),
                total_len: p.total_len(),
                l4_offset: IPV6_HEADER_LEN + off,
            })
        }
        Some(_) => Err(WireError::UnsupportedVersion),
        None => Err(WireError::Truncated("IP header")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An ICMP echo request 192.0.2.1 -> 203.0.113.10; header checksum 0x95aa worked out
    /// independently of this code (RFC 1071 arithmetic in a Python one-liner).
    const PING4: &str = "45000054a6f24000400195aac0000201cb00710a0800f7ff00010001";

    #[test]
    fn ipv4_known_header() {
        let mut bytes = hex::decode(PING4).unwrap();
        bytes.resize(0x54, 0);
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 84);
        assert!(p.dont_frag());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IPPROTO_ICMP);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(203, 0, 113, 10));
        assert!(p.verify_checksum());
        let r = Ipv4Repr::parse(&p).unwrap();
        let mut out = [0u8; 20];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[..], &bytes[..20]);
        let f = selector_fields(&bytes).unwrap();
        assert_eq!(
            f.l4,
            Layer4::Icmp {
                icmp_type: 8,
                code: 0
            }
        );
        assert_eq!(f.src_port(), Some(0x0800));
        assert_eq!(f.version(), 4);
        // Corrupt the checksum.
        bytes[10] ^= 1;
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(
            Ipv4Repr::parse(&p),
            Err(WireError::Invalid("IPv4 header checksum"))
        );
    }

    #[test]
    fn ipv4_length_checks() {
        let mut bytes = hex::decode(PING4).unwrap();
        bytes.resize(0x54, 0);
        assert_eq!(
            Ipv4Packet::new_checked(&bytes[..83]),
            Err(WireError::Truncated("IPv4 packet"))
        );
        // Trailing bytes beyond Total Length are ignored.
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[1, 2, 3]);
        assert_eq!(packet_len(&longer), Ok(84));
        assert_eq!(
            Ipv4Packet::new_checked(&longer[..])
                .unwrap()
                .payload()
                .len(),
            64
        );
        let mut bad = bytes.clone();
        bad[0] = 0x44; // IHL 4
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]),
            Err(WireError::BadLength("IPv4 IHL"))
        );
        bad[0] = 0x4f; // IHL 15 = 60 bytes, fits in 84
        bad[2..4].copy_from_slice(&40u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]),
            Err(WireError::BadLength("IPv4 total length"))
        );
        bad[0] = 0x55;
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]),
            Err(WireError::UnsupportedVersion)
        );
        for n in 0..20 {
            assert!(Ipv4Packet::new_checked(&bytes[..n]).is_err());
        }
    }

    fn v6_packet(next: u8, ext: &[u8]) -> Vec<u8> {
        let r = Ipv6Repr {
            src_addr: "2001:db8:1::1".parse().unwrap(),
            dst_addr: "2001:db8:2::10".parse().unwrap(),
            next_header: next,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0x12345,
            payload_len: ext.len(),
        };
        let mut b = vec![0u8; 40];
        r.emit(&mut b).unwrap();
        b.extend_from_slice(ext);
        b
    }

    #[test]
    fn ipv6_extension_walk() {
        // UDP 1234 -> 53 directly.
        let udp = [0x04, 0xd2, 0x00, 0x35, 0, 8, 0, 0];
        let f = selector_fields(&v6_packet(IPPROTO_UDP, &udp)).unwrap();
        assert_eq!(f.next_proto, IPPROTO_UDP);
        assert_eq!(f.l4, Layer4::Ports { src: 1234, dst: 53 });
        assert_eq!(f.version(), 6);

        // Hop-by-hop (8 bytes) -> dest opts (16 bytes) -> first fragment -> TCP.
        let mut ext = vec![IPV6_DEST_OPTS, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[IPV6_FRAGMENT, 1]);
        ext.extend_from_slice(&[0u8; 14]);
        ext.extend_from_slice(&[IPPROTO_TCP, 0, 0x00, 0x01, 0, 0, 0, 7]); // offset 0, M=1
        ext.extend_from_slice(&[0x01, 0xbb, 0xc3, 0x50]);
        let f = selector_fields(&v6_packet(IPV6_HOP_BY_HOP, &ext)).unwrap();
        assert_eq!(f.next_proto, IPPROTO_TCP);
        assert_eq!(
            f.l4,
            Layer4::Ports {
                src: 443,
                dst: 50000
            }
        );

        // Non-initial fragment: no ports.
        let mut ext = vec![IPPROTO_UDP, 0, 0x00, 0x08, 0, 0, 0, 7]; // offset 1
        ext.extend_from_slice(&udp);
        let f = selector_fields(&v6_packet(IPV6_FRAGMENT, &ext)).unwrap();
        assert_eq!(f.next_proto, IPPROTO_UDP);
        assert_eq!(f.l4, Layer4::Opaque);
        assert_eq!(f.src_port(), None);

        // Routing header whose length runs past the packet.
        let ext = [IPPROTO_UDP, 3, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            selector_fields(&v6_packet(IPV6_ROUTING, &ext)),
            Err(WireError::Truncated("IPv6 extension header"))
        );
        // ICMPv6 echo.
        let f = selector_fields(&v6_packet(IPPROTO_ICMPV6, &[128, 0, 0, 0])).unwrap();
        assert_eq!(
            f.l4,
            Layer4::Icmp {
                icmp_type: 128,
                code: 0
            }
        );
        // UDP header cut short: OPAQUE, not an error.
        let f = selector_fields(&v6_packet(IPPROTO_UDP, &[0x04])).unwrap();
        assert_eq!(f.l4, Layer4::Opaque);
    }

    #[test]
    fn ipv6_length_checks() {
        let mut p = v6_packet(IPPROTO_UDP, &[0u8; 8]);
        assert_eq!(packet_len(&p), Ok(48));
        p[5] = 9; // payload length 9 > 8
        assert_eq!(
            Ipv6Packet::new_checked(&p[..]),
            Err(WireError::Truncated("IPv6 packet"))
        );
        assert_eq!(packet_len(&[]), Err(WireError::Truncated("IP header")));
        assert_eq!(packet_len(&[0x10]), Err(WireError::UnsupportedVersion));
    }

    #[test]
    fn ipv4_fragments() {
        let r = Ipv4Repr {
            src_addr: Ipv4Addr::new(198, 51, 100, 1),
            dst_addr: Ipv4Addr::new(203, 0, 113, 1),
            protocol: IPPROTO_TCP,
            ttl: 9,
            dscp_ecn: 0,
            identification: 7,
            dont_frag: false,
            more_frags: false,
            frag_offset: 3,
            payload_len: 4,
        };
        let mut b = vec![0u8; 24];
        r.emit(&mut b).unwrap();
        b[20..24].copy_from_slice(&[0, 80, 0, 81]);
        assert_eq!(selector_fields(&b).unwrap().l4, Layer4::Opaque);
        let r0 = Ipv4Repr {
            frag_offset: 0,
            more_frags: true,
            ..r
        };
        r0.emit(&mut b).unwrap();
        assert_eq!(
            selector_fields(&b).unwrap().l4,
            Layer4::Ports { src: 80, dst: 81 }
        );
    }

    #[test]
    fn checksum_rfc1071_example() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (folded), checksum 0x220d.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        assert_eq!(checksum(&[0xff]), 0x00ff);
    }

    fn arb_v4() -> impl Strategy<Value = Ipv4Repr> {
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            any::<bool>(),
            any::<bool>(),
            0u16..0x2000,
            0usize..200,
        )
            .prop_map(
                |(s, d, protocol, ttl, dscp_ecn, id, df, mf, fo, pl)| Ipv4Repr {
                    src_addr: s.into(),
                    dst_addr: d.into(),
                    protocol,
                    ttl,
                    dscp_ecn,
                    identification: id,
                    dont_frag: df,
                    more_frags: mf,
                    frag_offset: fo,
                    payload_len: pl,
                },
            )
    }

    proptest! {
        #[test]
        fn ipv4_round_trip(r in arb_v4()) {
            let mut b = vec![0u8; r.total_len()];
            r.emit(&mut b).unwrap();
            let p = Ipv4Packet::new_checked(&b[..]).unwrap();
            prop_assert_eq!(Ipv4Repr::parse(&p), Ok(r));
            prop_assert_eq!(packet_len(&b), Ok(r.total_len()));
        }

        #[test]
        fn ipv6_round_trip(s: [u8; 16], d: [u8; 16], nh: u8, hl: u8, tc: u8,
                           fl in 0u32..0x10_0000, pl in 0usize..200) {
            let r = Ipv6Repr { src_addr: s.into(), dst_addr: d.into(), next_header: nh,
                               hop_limit: hl, traffic_class: tc, flow_label: fl, payload_len: pl };
            let mut b = vec![0u8; 40 + pl];
            r.emit(&mut b).unwrap();
            let p = Ipv6Packet::new_checked(&b[..]).unwrap();
            prop_assert_eq!(Ipv6Repr::parse(&p), r);
        }

        #[test]
        fn selector_fields_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(f) = selector_fields(&bytes) {
                prop_assert!(f.total_len <= bytes.len());
            }
            let _ = packet_len(&bytes);
        }

        #[test]
        fn selector_fields_v6_prefix_never_panic(nh in prop::sample::select(vec![0u8, 43, 44, 60, 6, 17, 58]),
                                                 ext in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = selector_fields(&v6_packet(nh, &ext));
        }
    }
}
