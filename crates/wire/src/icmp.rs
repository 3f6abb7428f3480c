//! The ICMP messages a tunnel endpoint deals with: "fragmentation needed" (RFC 792, RFC 1191
//! §4) and ICMPv6 "packet too big" (RFC 4443 §3.2) written back to a sender whose packet does
//! not fit the tunnel, and the packet embedded in an ICMP error, which RFC 4301 §6.2 checks
//! against the SA's selectors.

use std::net::IpAddr;

use crate::ip::{
    addr4, addr6, be16, checksum_finish, checksum_sum, layer4, walk_ipv6_extensions,
    SelectorFields, IPPROTO_ICMP, IPPROTO_ICMPV6, IPV4_HEADER_LEN, IPV6_HEADER_LEN,
};
use crate::WireError;

/// ICMP Destination Unreachable (RFC 792).
pub const ICMP_DEST_UNREACHABLE: u8 = 3;
/// Code 4 of Destination Unreachable: fragmentation needed and DF set (RFC 1191 §4).
pub const ICMP_FRAG_NEEDED: u8 = 4;
/// ICMPv6 Packet Too Big (RFC 4443 §3.2).
pub const ICMPV6_PACKET_TOO_BIG: u8 = 2;
/// The IPv6 minimum link MTU (RFC 8200 §5).
pub const IPV6_MIN_MTU: u16 = 1280;
/// The most of an ICMPv4 error we build (RFC 1812 §4.3.2.3: up to 576 bytes in all).
const ICMPV4_MAX: usize = 576;
/// ICMP header: type, code, checksum, 4 bytes of type-specific data.
const ICMP_HEADER_LEN: usize = 8;

/// Whether an ICMP (`version` 4) or ICMPv6 (6) type is an error message, which carries the
/// offending packet's start (RFC 4301 §6.2: Destination Unreachable, Source Quench, Redirect,
/// Time Exceeded, Parameter Problem; ICMPv6 types 1 to 4, RFC 4443 §2.1).
pub fn is_error(version: u8, icmp_type: u8) -> bool {
    match version {
        4 => matches!(icmp_type, 3 | 4 | 5 | 11 | 12),
        6 => matches!(icmp_type, 1..=4),
        _ => false,
    }
}

/// The selector fields of the packet quoted in an ICMP error (`body` = what follows the
/// 8-byte ICMP header). The quote is usually truncated, so unlike
/// [`crate::ip::selector_fields`] the lengths in its header are not required to fit; the
/// addresses, protocol and (when quoted) ports are read from what is there. `total_len` is the
/// quoted length.
pub fn embedded_fields(body: &[u8]) -> Result<SelectorFields, WireError> {
    match body.first().map(|b| b >> 4) {
        Some(4) => {
            if body.len() < IPV4_HEADER_LEN {
                return Err(WireError::Truncated("quoted IPv4 header"));
            }
            let ihl = usize::from(body.first().copied().unwrap_or(0) & 0x0f) * 4;
            if ihl < IPV4_HEADER_LEN || ihl > body.len() {
                return Err(WireError::BadLength("quoted IPv4 IHL"));
            }
            let proto = body.get(9).copied().unwrap_or(0);
            let frag_offset = be16(body, 6) & 0x1fff;
            Ok(SelectorFields {
                src: addr4(body, 12).into(),
                dst: addr4(body, 16).into(),
                next_proto: proto,
                l4: layer4(proto, body.get(ihl..).unwrap_or(&[]), frag_offset != 0),
                total_len: body.len(),
                l4_offset: ihl,
            })
        }
        Some(6) => {
            if body.len() < IPV6_HEADER_LEN {
                return Err(WireError::Truncated("quoted IPv6 header"));
            }
            let payload = body.get(IPV6_HEADER_LEN..).unwrap_or(&[]);
            let nh = body.get(6).copied().unwrap_or(0);
            let (proto, off, non_initial) = walk_ipv6_extensions(nh, payload)?;
            Ok(SelectorFields {
                src: addr6(body, 8).into(),
                dst: addr6(body, 24).into(),
                next_proto: proto,
                l4: layer4(proto, payload.get(off..).unwrap_or(&[]), non_initial),
                total_len: body.len(),
                l4_offset: IPV6_HEADER_LEN + off,
            })
        }
        Some(_) => Err(WireError::UnsupportedVersion),
        None => Err(WireError::Truncated("quoted IP header")),
    }
}

/// Whether an ICMP error may be sent about this packet: never about an ICMP error, a
/// non-initial fragment, or a packet from an unspecified, multicast or broadcast source
/// (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7, RFC 4443 §2.4 (e)).
fn may_answer(f: &SelectorFields, packet: &[u8]) -> bool {
    let src_ok = match f.src {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_multicast() || a.is_broadcast()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast()),
    };
    let icmp_error = match (f.next_proto, f.l4) {
        (IPPROTO_ICMP | IPPROTO_ICMPV6, crate::ip::Layer4::Icmp { icmp_type, .. }) => {
            is_error(f.version(), icmp_type)
        }
        _ => false,
    };
    let non_initial_v4 = f.version() == 4 && be16(packet, 6) & 0x1fff != 0;
    src_ok && !icmp_error && !non_initial_v4
}

/// Appends to `out` a whole IP packet telling the sender of `packet` (an IP packet, `f` its
/// selector fields) that it is larger than `mtu`: ICMP "fragmentation needed" with the
/// next-hop MTU (RFC 1191 §4) for IPv4, ICMPv6 "packet too big" for IPv6 (RFC 4443 §3.2, MTU
/// never below 1280). It comes from `packet`'s destination (the only address of the path the
/// sender is sure to accept). Returns `false` and appends nothing when no error may be sent
/// about `packet` (see `may_answer`).
pub fn emit_too_big(packet: &[u8], f: &SelectorFields, mtu: u16, out: &mut Vec<u8>) -> bool {
    if !may_answer(f, packet) {
        return false;
    }
    let quoted_max = match f.version() {
        4 => ICMPV4_MAX - IPV4_HEADER_LEN - ICMP_HEADER_LEN,
        _ => usize::from(IPV6_MIN_MTU) - IPV6_HEADER_LEN - ICMP_HEADER_LEN,
    };
    let quoted = packet
        .get(..packet.len().min(quoted_max).min(f.total_len))
        .unwrap_or(&[]);
    let icmp_len = ICMP_HEADER_LEN + quoted.len();
    let start = out.len();
    match (f.src, f.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let mut ip = [0u8; IPV4_HEADER_LEN];
            let repr = crate::ip::Ipv4Repr {
                src_addr: dst,
                dst_addr: src,
                protocol: IPPROTO_ICMP,
                ttl: 64,
                dscp_ecn: 0,
                identification: 0,
                dont_frag: false,
                more_frags: false,
                frag_offset: 0,
                payload_len: icmp_len,
            };
            if repr.emit(&mut ip).is_err() {
                return false;
            }
            out.extend_from_slice(&ip);
            out.extend_from_slice(&[ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, 0, 0, 0, 0]);
            out.extend_from_slice(&mtu.to_be_bytes());
            out.extend_from_slice(quoted);
            let sum = checksum_finish(checksum_sum(
                out.get(start + IPV4_HEADER_LEN..).unwrap_or(&[]),
            ));
            set_checksum(out, start + IPV4_HEADER_LEN + 2, sum);
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let mtu = u32::from(mtu.max(IPV6_MIN_MTU));
            let mut ip = [0u8; IPV6_HEADER_LEN];
            let repr = crate::ip::Ipv6Repr {
                src_addr: dst,
                dst_addr: src,
                next_header: IPPROTO_ICMPV6,
                hop_limit: 64,
                traffic_class: 0,
                flow_label: 0,
                payload_len: icmp_len,
            };
            if repr.emit(&mut ip).is_err() {
                return false;
            }
            out.extend_from_slice(&ip);
            out.extend_from_slice(&[ICMPV6_PACKET_TOO_BIG, 0, 0, 0]);
            out.extend_from_slice(&mtu.to_be_bytes());
            out.extend_from_slice(quoted);
            // RFC 4443 §2.3: the checksum covers the pseudo-header (RFC 8200 §8.1).
            let mut sum = checksum_sum(&dst.octets()) + checksum_sum(&src.octets());
            sum += icmp_len as u64 + u64::from(IPPROTO_ICMPV6);
            sum += checksum_sum(out.get(start + IPV6_HEADER_LEN..).unwrap_or(&[]));
            set_checksum(out, start + IPV6_HEADER_LEN + 2, checksum_finish(sum));
        }
        _ => return false,
    }
    true
}

fn set_checksum(out: &mut [u8], at: usize, sum: u16) {
    if let Some(c) = out.get_mut(at..at + 2) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::{checksum, selector_fields, Ipv4Packet, Ipv6Packet, Layer4};

    fn tcp4(len: usize, df: bool) -> Vec<u8> {
        let mut p = vec![0u8; len];
        crate::ip::Ipv4Repr {
            src_addr: [203, 0, 113, 10].into(),
            dst_addr: [198, 51, 100, 10].into(),
            protocol: 6,
            ttl: 63,
            dscp_ecn: 0,
            identification: 7,
            dont_frag: df,
            more_frags: false,
            frag_offset: 0,
            payload_len: len - 20,
        }
        .emit(&mut p)
        .unwrap();
        p[20..24].copy_from_slice(&[0x30, 0x39, 0x01, 0xbb]);
        p
    }

    #[test]
    fn frag_needed_v4() {
        let p = tcp4(1400, true);
        let f = selector_fields(&p).unwrap();
        let mut out = vec![0xee];
        assert!(emit_too_big(&p, &f, 1350, &mut out));
        let icmp = out[1..].to_vec();
        let icmp = &icmp[..];
        let ip = Ipv4Packet::new_checked(icmp).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(ip.total_len(), icmp.len());
        assert_eq!(icmp.len(), 576, "RFC 1812: at most 576 bytes");
        assert_eq!(ip.src_addr(), std::net::Ipv4Addr::new(198, 51, 100, 10));
        assert_eq!(ip.dst_addr(), std::net::Ipv4Addr::new(203, 0, 113, 10));
        let body = ip.payload();
        assert_eq!(&body[..2], &[3, 4]);
        assert_eq!(&body[6..8], &1350u16.to_be_bytes());
        assert_eq!(checksum(body), 0);
        assert_eq!(&body[8..], &p[..548]);
        // The quoted packet's fields, as RFC 4301 §6.2 checks them.
        let q = embedded_fields(&body[8..]).unwrap();
        assert_eq!((q.src, q.dst, q.next_proto), (f.src, f.dst, 6));
        assert_eq!(
            q.l4,
            Layer4::Ports {
                src: 12345,
                dst: 443
            }
        );
        // Never about an ICMP error or a non-initial fragment.
        let g = selector_fields(icmp).unwrap();
        assert!(!emit_too_big(icmp, &g, 1000, &mut out));
        let mut frag = tcp4(1400, false);
        frag[6..8].copy_from_slice(&100u16.to_be_bytes());
        frag[10..12].copy_from_slice(&[0, 0]);
        let h = frag[..20].to_vec();
        let c = checksum(&h);
        frag[10..12].copy_from_slice(&c.to_be_bytes());
        let g = selector_fields(&frag).unwrap();
        assert!(!emit_too_big(&frag, &g, 1000, &mut out));
        assert_eq!(out.len(), 577, "nothing appended when refused");
    }

    #[test]
    fn packet_too_big_v6() {
        let mut p = vec![0u8; 1450];
        crate::ip::Ipv6Repr {
            src_addr: "2001:db8:2::10".parse().unwrap(),
            dst_addr: "2001:db8:3::10".parse().unwrap(),
            next_header: 17,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
            payload_len: 1410,
        }
        .emit(&mut p)
        .unwrap();
        let f = selector_fields(&p).unwrap();
        let mut out = Vec::new();
        assert!(emit_too_big(&p, &f, 1000, &mut out));
        assert_eq!(
            out.len(),
            1280,
            "RFC 4443: as much as fits in the minimum MTU"
        );
        let ip = Ipv6Packet::new_checked(&out[..]).unwrap();
        assert_eq!(ip.next_header(), IPPROTO_ICMPV6);
        assert_eq!(
            ip.dst_addr(),
            "2001:db8:2::10".parse::<std::net::Ipv6Addr>().unwrap()
        );
        let body = ip.payload();
        assert_eq!(body[0], 2);
        assert_eq!(&body[4..8], &1280u32.to_be_bytes(), "never below 1280");
        // Checksum over the pseudo-header and the message is 0xffff-complement = 0.
        let mut sum = checksum_sum(&ip.src_addr().octets()) + checksum_sum(&ip.dst_addr().octets());
        sum += body.len() as u64 + 58 + checksum_sum(body);
        assert_eq!(checksum_finish(sum), 0);
        let q = embedded_fields(&body[8..]).unwrap();
        assert_eq!((q.src, q.dst, q.next_proto), (f.src, f.dst, 17));
    }

    #[test]
    fn embedded_fields_never_panic_on_short_quotes() {
        for n in 0..64 {
            let p = tcp4(60, true);
            let _ = embedded_fields(&p[..n.min(60)]);
        }
        assert!(embedded_fields(&[0x45; 10]).is_err());
        assert!(is_error(4, 3) && is_error(6, 2) && !is_error(4, 8) && !is_error(6, 128));
    }
}
