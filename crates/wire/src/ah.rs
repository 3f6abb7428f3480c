//! Authentication Header packet format (RFC 4302 §2) and the mutability of the IP header
//! fields in front of it (RFC 4302 §3.3.3.1, Appendix A).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Header   |  Payload Len  |          RESERVED             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Security Parameters Index (SPI)               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Sequence Number Field                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                Integrity Check Value-ICV (variable)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! AH's ICV covers the IP header too, with the fields a router may change set to zero. This
//! module finds AH in a received packet ([`locate`]: IPv4 Protocol 51, or IPv6 through the
//! Hop-by-Hop, Routing and Destination Options headers) and zeroes the mutable parts of a copy
//! of the headers in front of it ([`zero_mutable`]): IPv4 TOS, Flags, Fragment Offset, TTL,
//! Header Checksum and the options Appendix A.1 calls mutable; IPv6 Traffic Class, Flow
//! Label, Hop Limit and the data of options whose type says "may change en route"
//! (Appendix A.2, RFC 8200 §4.2).
//!
//! Not implemented, refused as [`WireError::Invalid`]: IPv4 loose / strict source routes and
//! IPv6 Routing headers with Segments Left ≠ 0 (their destination address is "mutable but
//! predictable", RFC 4302 §3.3.3.1.1.1 / §3.3.3.1.2.1: the ICV would be computed over the
//! final destination), and fragments (RFC 4302 §3.4.1: AH applies to whole packets).

use crate::ip::{
    Ipv4Packet, Ipv6Packet, IPV4_HEADER_LEN, IPV6_DEST_OPTS, IPV6_FRAGMENT, IPV6_HEADER_LEN,
    IPV6_HOP_BY_HOP, IPV6_ROUTING,
};
use crate::WireError;

/// IP protocol number of AH (RFC 4302 §2).
pub const IPPROTO_AH: u8 = 51;
/// Length of AH's fixed fields: Next Header, Payload Len, Reserved, SPI, Sequence Number
/// (RFC 4302 §2).
pub const AH_HEADER_LEN: usize = 12;

/// The AH header's fixed fields (RFC 4302 §2.1-§2.5); the ICV field follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AhHeader {
    /// The protocol after AH (RFC 4302 §2.1): 4 or 41 in tunnel mode, the upper-layer
    /// protocol in transport mode.
    pub next_header: u8,
    /// AH's length in 32-bit words, minus 2 (RFC 4302 §2.2).
    pub payload_len: u8,
    /// Security Parameters Index (RFC 4302 §2.4).
    pub spi: u32,
    /// Sequence Number, low 32 bits (RFC 4302 §2.5).
    pub sequence_number: u32,
}

impl AhHeader {
    /// Reads the header at the start of `buf` and checks that the whole AH (header and ICV
    /// field, as Payload Len says) is within `buf`. Reserved is ignored (RFC 4302 §2.3: zero
    /// when sent, covered by the ICV, otherwise ignored by the recipient).
    pub fn parse(buf: &[u8]) -> Result<Self, WireError> {
        let b = buf
            .get(..AH_HEADER_LEN)
            .ok_or(WireError::Truncated("AH header"))?;
        let word = |at: usize| match b.get(at..at + 4) {
            Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
            _ => 0,
        };
        let h = Self {
            next_header: b.first().copied().unwrap_or(0),
            payload_len: b.get(1).copied().unwrap_or(0),
            spi: word(4),
            sequence_number: word(8),
        };
        if h.len() < AH_HEADER_LEN {
            return Err(WireError::BadLength("AH payload length"));
        }
        if h.len() > buf.len() {
            return Err(WireError::Truncated("AH"));
        }
        Ok(h)
    }

    /// AH's whole length in bytes, ICV field included: (Payload Len + 2) × 4 (RFC 4302 §2.2).
    pub fn len(&self) -> usize {
        (usize::from(self.payload_len) + 2) * 4
    }

    /// Whether AH has no ICV field at all (never for an SA with an integrity algorithm).
    pub fn is_empty(&self) -> bool {
        self.len() <= AH_HEADER_LEN
    }

    /// Writes the 12 fixed bytes at the start of `buf` (Reserved zero).
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let dst = buf
            .get_mut(..AH_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        dst[0] = self.next_header;
        dst[1] = self.payload_len;
        dst[2..4].copy_from_slice(&[0, 0]);
        dst[4..8].copy_from_slice(&self.spi.to_be_bytes());
        dst[8..12].copy_from_slice(&self.sequence_number.to_be_bytes());
        Ok(())
    }
}

/// AH's length with an ICV of `icv_len` bytes: the fixed fields plus the ICV, padded to a
/// multiple of 32 bits over IPv4 or 64 bits over IPv6 (RFC 4302 §2.6).
pub const fn ah_len(icv_len: usize, ipv6: bool) -> usize {
    let align = if ipv6 { 8 } else { 4 };
    (AH_HEADER_LEN + icv_len).div_ceil(align) * align
}

/// The Payload Len field for an AH of `len` bytes (RFC 4302 §2.2), `None` when `len` is not
/// a multiple of 4 between 12 and 1028.
pub fn payload_len_field(len: usize) -> Option<u8> {
    if len % 4 != 0 || len < AH_HEADER_LEN {
        return None;
    }
    u8::try_from(len / 4 - 2).ok()
}

/// Where AH sits in a received IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhLocation {
    /// 4 or 6.
    pub version: u8,
    /// Offset of AH: the length of the IP header (IPv4 with options; IPv6 with the extension
    /// headers before AH).
    pub ah_offset: usize,
    /// Offset of the byte that names AH: IPv4 Protocol, or the Next Header field of the IPv6
    /// header or extension header in front of AH.
    pub next_header_at: usize,
    /// The IP packet's length (IPv4 Total Length, 40 + IPv6 Payload Length); bytes after it
    /// are not part of the packet.
    pub total_len: usize,
}

/// Finds AH in the IP packet at the start of `packet`: IPv4 with Protocol 51 (not a
/// fragment, RFC 4302 §3.4.1), or IPv6 whose header chain reaches AH through Hop-by-Hop
/// Options, Routing (Segments Left 0) and Destination Options headers only (RFC 8200 §4.1).
/// The AH header itself is not read.
pub fn locate(packet: &[u8]) -> Result<AhLocation, WireError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let p = Ipv4Packet::new_checked(packet)?;
            if p.protocol() != IPPROTO_AH {
                return Err(WireError::Invalid("not AH"));
            }
            if p.more_frags() || p.frag_offset() != 0 {
                return Err(WireError::Invalid("AH in a fragment"));
            }
            Ok(AhLocation {
                version: 4,
                ah_offset: p.header_len(),
                next_header_at: 9,
                total_len: p.total_len(),
            })
        }
        Some(6) => {
            let p = Ipv6Packet::new_checked(packet)?;
            let total_len = p.total_len();
            let within = packet.get(..total_len).unwrap_or(packet);
            let mut next = p.next_header();
            let mut next_at = 6usize;
            let mut off = IPV6_HEADER_LEN;
            loop {
                match next {
                    IPPROTO_AH => {
                        return Ok(AhLocation {
                            version: 6,
                            ah_offset: off,
                            next_header_at: next_at,
                            total_len,
                        })
                    }
                    IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS => {
                        let ext_len = ext_header_len(within, off)?;
                        if next == IPV6_ROUTING && within.get(off + 3) != Some(&0) {
                            return Err(WireError::Invalid("IPv6 routing header in transit"));
                        }
                        next = within.get(off).copied().unwrap_or(0);
                        next_at = off;
                        off += ext_len;
                    }
                    IPV6_FRAGMENT => return Err(WireError::Invalid("AH in a fragment")),
                    _ => return Err(WireError::Invalid("not AH")),
                }
            }
        }
        Some(_) => Err(WireError::UnsupportedVersion),
        None => Err(WireError::Truncated("IP header")),
    }
}

/// Length of the IPv6 extension header at `off` ((Hdr Ext Len + 1) × 8, RFC 8200 §4.3),
/// checked to end within `packet`.
fn ext_header_len(packet: &[u8], off: usize) -> Result<usize, WireError> {
    let len = packet
        .get(off + 1)
        .ok_or(WireError::Truncated("IPv6 extension header"))?;
    let ext_len = (usize::from(*len) + 1) * 8;
    if off + ext_len > packet.len() {
        return Err(WireError::Truncated("IPv6 extension header"));
    }
    Ok(ext_len)
}

/// IPv4 option types (copy | class | number, RFC 791 §3.1) kept in the ICV: RFC 4302
/// Appendix A.1's immutable ones (Security, Extended Security, Commercial Security, Router
/// Alert, Sender Directed Multi-Destination Delivery). End of Option List and No Operation are
/// one byte and immutable too.
const IPV4_OPT_IMMUTABLE: [u8; 5] = [130, 133, 134, 148, 149];
/// Loose and Strict Source Route (RFC 791): a "mutable but predictable" destination, not
/// implemented.
const IPV4_OPT_SOURCE_ROUTE: [u8; 2] = [131, 137];
const IPV4_OPT_END: u8 = 0;
const IPV4_OPT_NOP: u8 = 1;

/// IPv6 Pad1 (RFC 8200 §4.2), the only one-byte option.
const IPV6_OPT_PAD1: u8 = 0;
/// The option type bit that says the option's data may change en route (RFC 8200 §4.2,
/// RFC 4302 Appendix A.2).
const IPV6_OPT_MAY_CHANGE: u8 = 0x20;

/// Zeroes, for the ICV computation, the mutable fields of `headers`: a copy of the IP header
/// up to AH ([`AhLocation::ah_offset`] bytes, as [`locate`] found it). IPv4 (RFC 4302
/// §3.3.3.1.1): TOS, Flags, Fragment Offset, TTL, Header Checksum, and every option but the
/// immutable ones of Appendix A.1, whole (type and length included). IPv6 (§3.3.3.1.2):
/// Traffic Class, Flow Label, Hop Limit, and the data of Hop-by-Hop and Destination options
/// whose type has the "may change" bit (Appendix A.2). Source-route options and malformed
/// options are refused.
pub fn zero_mutable(headers: &mut [u8]) -> Result<(), WireError> {
    match headers.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(headers.first().copied().unwrap_or(0) & 0x0f) * 4;
            if ihl < IPV4_HEADER_LEN || ihl != headers.len() {
                return Err(WireError::BadLength("IPv4 IHL"));
            }
            for at in [1, 6, 7, 8, 10, 11] {
                if let Some(b) = headers.get_mut(at) {
                    *b = 0;
                }
            }
            zero_ipv4_options(headers.get_mut(IPV4_HEADER_LEN..).unwrap_or_default())
        }
        Some(6) => {
            if headers.len() < IPV6_HEADER_LEN {
                return Err(WireError::Truncated("IPv6 header"));
            }
            // Version | Traffic Class | Flow Label.
            if let Some(vtf) = headers.get_mut(..4) {
                vtf.copy_from_slice(&[0x60, 0, 0, 0]);
            }
            if let Some(hop) = headers.get_mut(7) {
                *hop = 0;
            }
            let mut next = headers.get(6).copied().unwrap_or(0);
            let mut off = IPV6_HEADER_LEN;
            while off < headers.len() {
                let ext_len = ext_header_len(headers, off)?;
                let ext = headers
                    .get_mut(off..off + ext_len)
                    .ok_or(WireError::Truncated("IPv6 extension header"))?;
                let nh = ext.first().copied().unwrap_or(0);
                match next {
                    IPV6_HOP_BY_HOP | IPV6_DEST_OPTS => {
                        zero_ipv6_options(ext.get_mut(2..).unwrap_or_default())?;
                    }
                    IPV6_ROUTING => {}
                    _ => return Err(WireError::Invalid("IPv6 header before AH")),
                }
                next = nh;
                off += ext_len;
            }
            if off != headers.len() {
                return Err(WireError::BadLength("IPv6 extension headers"));
            }
            Ok(())
        }
        Some(_) => Err(WireError::UnsupportedVersion),
        None => Err(WireError::Truncated("IP header")),
    }
}

/// RFC 4302 Appendix A.1 over the options area of an IPv4 header.
fn zero_ipv4_options(opts: &mut [u8]) -> Result<(), WireError> {
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            // What follows End of Option List is header padding, zero when sent: left as is.
            IPV4_OPT_END => return Ok(()),
            IPV4_OPT_NOP => i += 1,
            _ => {
                let len = usize::from(opts.get(i + 1).copied().unwrap_or(0));
                if len < 2 || i + len > opts.len() {
                    return Err(WireError::BadLength("IPv4 option"));
                }
                if IPV4_OPT_SOURCE_ROUTE.contains(&kind) {
                    return Err(WireError::Invalid("IPv4 source route option"));
                }
                if !IPV4_OPT_IMMUTABLE.contains(&kind) {
                    if let Some(o) = opts.get_mut(i..i + len) {
                        o.fill(0);
                    }
                }
                i += len;
            }
        }
    }
    Ok(())
}

/// RFC 4302 Appendix A.2 over the options of a Hop-by-Hop or Destination Options header
/// (after its Next Header and Hdr Ext Len bytes): the data of an option whose type has the
/// "may change" bit is zeroed, type and length kept.
fn zero_ipv6_options(opts: &mut [u8]) -> Result<(), WireError> {
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        if kind == IPV6_OPT_PAD1 {
            i += 1;
            continue;
        }
        let len = usize::from(
            opts.get(i + 1)
                .copied()
                .ok_or(WireError::Truncated("IPv6 option"))?,
        );
        let data = opts
            .get_mut(i + 2..i + 2 + len)
            .ok_or(WireError::BadLength("IPv6 option"))?;
        if kind & IPV6_OPT_MAY_CHANGE != 0 {
            data.fill(0);
        }
        i += 2 + len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_per_rfc_4302_2_6() {
        // HMAC-SHA1-96, HMAC-SHA2-256-128, -384-192, -512-256.
        assert_eq!(ah_len(12, false), 24);
        assert_eq!(ah_len(12, true), 24);
        assert_eq!(ah_len(16, false), 28);
        assert_eq!(ah_len(16, true), 32);
        assert_eq!(ah_len(24, true), 40);
        assert_eq!(ah_len(32, false), 44);
        assert_eq!(ah_len(32, true), 48);
        assert_eq!(payload_len_field(24), Some(4));
        assert_eq!(payload_len_field(32), Some(6));
        assert_eq!(payload_len_field(30), None);
        assert_eq!(payload_len_field(8), None);
        assert_eq!(payload_len_field(1028), Some(255));
        assert_eq!(payload_len_field(1032), None);
    }

    #[test]
    fn header_roundtrip_and_checks() {
        let h = AhHeader {
            next_header: 4,
            payload_len: 5,
            spi: 0x1234_5678,
            sequence_number: 9,
        };
        let mut b = [0xffu8; 28];
        h.emit(&mut b).unwrap();
        assert_eq!(&b[..12], &[4, 5, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 9]);
        assert_eq!(AhHeader::parse(&b), Ok(h));
        assert_eq!(h.len(), 28);
        assert_eq!(AhHeader::parse(&b[..27]), Err(WireError::Truncated("AH")));
        b[3] = 1;
        assert_eq!(AhHeader::parse(&b), Ok(h));
        b[1] = 0; // 8 bytes: shorter than the fixed fields
        assert!(AhHeader::parse(&b).is_err());
        assert!(AhHeader::parse(&b[..11]).is_err());
        assert!(h.emit(&mut [0u8; 11]).is_err());
    }

    /// IPv4 header (IHL from `opts`) with Protocol 51, then `after`.
    fn v4(opts: &[u8], after: &[u8]) -> Vec<u8> {
        let hl = 20 + opts.len();
        let mut p = vec![0u8; hl];
        p[0] = 0x40 | (hl / 4) as u8;
        p[1] = 0xb9;
        p[2..4].copy_from_slice(&((hl + after.len()) as u16).to_be_bytes());
        p[4..6].copy_from_slice(&[0xab, 0xcd]);
        p[6] = 0x40;
        p[8] = 17;
        p[9] = IPPROTO_AH;
        p[10..12].copy_from_slice(&[0x55, 0x66]);
        p[12..16].copy_from_slice(&[192, 0, 2, 1]);
        p[16..20].copy_from_slice(&[192, 0, 2, 2]);
        p[20..].copy_from_slice(opts);
        p.extend_from_slice(after);
        p
    }

    #[test]
    fn ipv4_located_and_mutable_fields_zeroed() {
        // Router Alert (kept), NOP, Record Route (zeroed whole), Timestamp (zeroed), END.
        let opts = [
            148, 4, 0, 0, 1, 7, 7, 4, 9, 9, 9, 9, 68, 4, 5, 0, 0, 0, 0, 0,
        ];
        let p = v4(&opts, &[0xee; 30]);
        let loc = locate(&p).unwrap();
        assert_eq!(
            loc,
            AhLocation {
                version: 4,
                ah_offset: 40,
                next_header_at: 9,
                total_len: 70
            }
        );
        let mut h = p[..40].to_vec();
        zero_mutable(&mut h).unwrap();
        let mut want = p[..40].to_vec();
        for at in [1, 6, 7, 8, 10, 11] {
            want[at] = 0;
        }
        want[25..32].fill(0);
        want[32..36].fill(0);
        assert_eq!(h, want);
        // Version, IHL, Total Length, Identification, Protocol, addresses survive.
        assert_eq!(&h[..1], &p[..1]);
        assert_eq!(&h[2..6], &p[2..6]);
        assert_eq!(&h[9..10], &p[9..10]);
        assert_eq!(&h[12..20], &p[12..20]);
        // Security (130) kept, an unknown option zeroed.
        let p = v4(&[130, 4, 1, 2, 222, 4, 3, 4], &[]);
        let mut h = p[..28].to_vec();
        zero_mutable(&mut h).unwrap();
        assert_eq!(&h[20..], &[130, 4, 1, 2, 0, 0, 0, 0]);
    }

    #[test]
    fn ipv4_refusals() {
        // Loose source route.
        let p = v4(&[131, 7, 4, 192, 0, 2, 9, 0], &[]);
        assert!(zero_mutable(&mut p[..28].to_vec()).is_err());
        // An option running past the header.
        let p = v4(&[7, 9, 4, 0], &[]);
        assert!(zero_mutable(&mut p[..24].to_vec()).is_err());
        // Not AH, a fragment.
        let mut p = v4(&[], &[0; 24]);
        p[9] = 50;
        assert_eq!(locate(&p), Err(WireError::Invalid("not AH")));
        let mut p = v4(&[], &[0; 24]);
        p[6] = 0x20;
        assert_eq!(locate(&p), Err(WireError::Invalid("AH in a fragment")));
        let mut p = v4(&[], &[0; 24]);
        p[7] = 1;
        assert!(locate(&p).is_err());
        // Headers whose length does not match IHL.
        let p = v4(&[1, 1, 1, 1], &[]);
        assert!(zero_mutable(&mut p[..20].to_vec()).is_err());
    }

    /// IPv6 header (TC 0xb8, flow 0x12345, hop 9) with `chain` as (type, ext header bytes),
    /// then AH and `after`.
    fn v6(chain: &[(u8, Vec<u8>)], after: &[u8]) -> Vec<u8> {
        let mut p = vec![0x6b, 0x81, 0x23, 0x45, 0, 0, 0, 9];
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        p.extend_from_slice(&[0; 11]);
        p.push(1);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        p.extend_from_slice(&[0; 11]);
        p.push(2);
        p[6] = chain.first().map_or(IPPROTO_AH, |c| c.0);
        for (i, (_, ext)) in chain.iter().enumerate() {
            let mut e = ext.clone();
            e[0] = chain.get(i + 1).map_or(IPPROTO_AH, |c| c.0);
            e[1] = (ext.len() / 8 - 1) as u8;
            p.extend_from_slice(&e);
        }
        p.extend_from_slice(after);
        let pl = (p.len() - 40) as u16;
        p[4..6].copy_from_slice(&pl.to_be_bytes());
        p
    }

    #[test]
    fn ipv6_chain_located_and_options_zeroed() {
        // Hop-by-hop: Router Alert (type 5, immutable) + PadN(2) (type 1, immutable).
        let hbh = vec![0, 0, 5, 2, 0, 0, 1, 0];
        // Destination options: Pad1, an option with the may-change bit (0x3e), PadN.
        let dst = vec![0, 0, 0, 0x3e, 3, 7, 7, 7, 1, 4, 0, 0, 0, 0, 0, 0];
        // Routing header type 0... with Segments Left 0.
        let rt = vec![0, 0, 0, 0, 0, 0, 0, 0];
        let p = v6(
            &[
                (IPV6_HOP_BY_HOP, hbh),
                (IPV6_ROUTING, rt),
                (IPV6_DEST_OPTS, dst),
            ],
            &[0; 24],
        );
        let loc = locate(&p).unwrap();
        assert_eq!(
            loc,
            AhLocation {
                version: 6,
                ah_offset: 72,
                next_header_at: 56,
                total_len: 96
            }
        );
        let mut h = p[..72].to_vec();
        zero_mutable(&mut h).unwrap();
        let mut want = p[..72].to_vec();
        want[..4].copy_from_slice(&[0x60, 0, 0, 0]);
        want[7] = 0;
        want[61..64].fill(0);
        assert_eq!(h, want);
        // Plain IPv6 then AH.
        let p = v6(&[], &[0; 24]);
        assert_eq!(locate(&p).unwrap().ah_offset, 40);
        assert_eq!(locate(&p).unwrap().next_header_at, 6);
    }

    #[test]
    fn ipv6_refusals() {
        let rt = vec![0, 0, 0, 1, 0, 0, 0, 0];
        let p = v6(&[(IPV6_ROUTING, rt)], &[0; 24]);
        assert!(locate(&p).is_err());
        let frag = vec![0; 8];
        let p = v6(&[(IPV6_FRAGMENT, frag)], &[0; 24]);
        assert_eq!(locate(&p), Err(WireError::Invalid("AH in a fragment")));
        let mut p = v6(&[], &[0; 24]);
        p[6] = 50;
        assert_eq!(locate(&p), Err(WireError::Invalid("not AH")));
        // An option overrunning its header.
        let bad = vec![0, 0, 1, 9, 0, 0, 0, 0];
        let p = v6(&[(IPV6_DEST_OPTS, bad)], &[0; 24]);
        assert!(zero_mutable(&mut p[..48].to_vec()).is_err());
        // An extension header running past the packet.
        let mut p = v6(&[(IPV6_DEST_OPTS, vec![0; 8])], &[]);
        p[41] = 3;
        assert!(locate(&p).is_err());
    }

    proptest! {
        /// Arbitrary bytes never panic, and whatever `locate` accepts `zero_mutable` can walk
        /// (or refuses) without panicking, leaving the length alone.
        #[test]
        fn no_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = AhHeader::parse(&bytes);
            if let Ok(loc) = locate(&bytes) {
                prop_assert!(loc.ah_offset <= loc.total_len);
                prop_assert!(loc.total_len <= bytes.len());
                let mut h = bytes[..loc.ah_offset].to_vec();
                let _ = zero_mutable(&mut h);
                prop_assert_eq!(h.len(), loc.ah_offset);
            }
            let mut b = bytes.clone();
            let _ = zero_mutable(&mut b);
        }
    }
}
