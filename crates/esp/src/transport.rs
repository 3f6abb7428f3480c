//! Transport mode (RFC 4303 §3.1.1, RFC 4301 §4.1): only the upper-layer payload of a host's
//! own packet is protected; the outer IP header (written by the kernel on the raw or UDP
//! socket, from the child's outer addresses) stands for the original one.
//!
//! - Outbound: the packet captured from the host stack gives its upper-layer bytes (after the
//!   IPv4 header and options, or the IPv6 header) and their protocol, which becomes ESP's Next
//!   Header. Fragments and IPv6 extension headers are not carried (RFC 4303 §3.3: transport
//!   mode applies to whole datagrams; the TUN MTU keeps the host from fragmenting): dropped as
//!   [`DropReason::Malformed`].
//! - Inbound: an IP header is rebuilt in front of the decrypted payload for the host stack:
//!   source the peer's outer address, destination ours, protocol the Next Header, TOS /
//!   Traffic Class the outer one as received (it is the packet's own in transport mode).
//! - Over UDP encapsulation a NAT may have rewritten the outer addresses that the TCP/UDP
//!   checksum's pseudo-header covers: the receiver recomputes the checksum over the rebuilt
//!   header (RFC 3948 §3.1.2, the "recompute" option; the ICV already vouches for the data).

use std::net::IpAddr;

use wire::ip::{checksum_finish, checksum_sum, SelectorFields, IPPROTO_TCP, IPPROTO_UDP};
use wire::ip::{IPV4_HEADER_LEN, IPV6_HEADER_LEN};

use crate::DropReason;

/// Hop limit / TTL of a rebuilt header (the packet only crosses the TUN device).
const REBUILT_TTL: u8 = 64;

/// The upper-layer bytes of `packet` (selector fields `f`) and their protocol, for ESP's
/// payload and Next Header.
pub(crate) fn outbound_payload<'a>(
    packet: &'a [u8],
    f: &SelectorFields,
) -> Result<(&'a [u8], u8), DropReason> {
    let whole = match f.version() {
        // Flags + Fragment Offset (RFC 791 §3.1): MF clear and offset 0.
        4 => {
            let b = packet.get(6..8).ok_or(DropReason::Malformed)?;
            u16::from_be_bytes([b[0], b[1]]) & 0x3fff == 0
        }
        // No extension header (a Fragment header among them).
        _ => f.l4_offset == IPV6_HEADER_LEN,
    };
    if !whole {
        return Err(DropReason::Malformed);
    }
    let payload = packet
        .get(f.l4_offset..f.total_len)
        .ok_or(DropReason::Malformed)?;
    Ok((payload, f.next_proto))
}

/// Puts an IP header in front of the `payload_len` bytes at `out[start..]` (a decrypted
/// transport-mode payload of protocol `next_header`), from `src` to `dst`, with `tos`; with
/// `fix_checksum` recomputes a TCP or UDP checksum over the new header's addresses.
pub(crate) fn rebuild(
    out: &mut Vec<u8>,
    start: usize,
    next_header: u8,
    src: IpAddr,
    dst: IpAddr,
    tos: u8,
    fix_checksum: bool,
) -> Result<(), DropReason> {
    let payload_len = out.len().checked_sub(start).ok_or(DropReason::Malformed)?;
    let mut hdr = [0u8; IPV6_HEADER_LEN];
    let hdr_len = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total =
                u16::try_from(IPV4_HEADER_LEN + payload_len).map_err(|_| DropReason::Malformed)?;
            hdr[0] = 0x45;
            hdr[1] = tos;
            hdr[2..4].copy_from_slice(&total.to_be_bytes());
            hdr[8] = REBUILT_TTL;
            hdr[9] = next_header;
            hdr[12..16].copy_from_slice(&s.octets());
            hdr[16..20].copy_from_slice(&d.octets());
            let c = checksum_finish(checksum_sum(&hdr[..IPV4_HEADER_LEN]));
            hdr[10..12].copy_from_slice(&c.to_be_bytes());
            IPV4_HEADER_LEN
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = u16::try_from(payload_len).map_err(|_| DropReason::Malformed)?;
            let vtc = 0x6000_0000u32 | (u32::from(tos) << 20);
            hdr[0..4].copy_from_slice(&vtc.to_be_bytes());
            hdr[4..6].copy_from_slice(&len.to_be_bytes());
            hdr[6] = next_header;
            hdr[7] = REBUILT_TTL;
            hdr[8..24].copy_from_slice(&s.octets());
            hdr[24..40].copy_from_slice(&d.octets());
            IPV6_HEADER_LEN
        }
        _ => return Err(DropReason::Malformed),
    };
    let hdr = hdr.get(..hdr_len).ok_or(DropReason::Malformed)?;
    out.splice(start..start, hdr.iter().copied());
    if fix_checksum {
        if let Some(l4) = out.get_mut(start + hdr_len..) {
            fix_l4_checksum(l4, next_header, src, dst);
        }
    }
    Ok(())
}

/// Recomputes the checksum of the TCP segment or UDP datagram `l4` between `src` and `dst`
/// (RFC 9293 §3.1, RFC 768; pseudo-header RFC 8200 §8.1 for IPv6). A UDP datagram over IPv4
/// sent without a checksum (0) keeps none. Other protocols, or a segment too short to hold
/// the field, are left as they are.
fn fix_l4_checksum(l4: &mut [u8], proto: u8, src: IpAddr, dst: IpAddr) {
    let at = match proto {
        IPPROTO_TCP => 16,
        IPPROTO_UDP => 6,
        _ => return,
    };
    let Some(field) = l4.get(at..at + 2) else {
        return;
    };
    if proto == IPPROTO_UDP && src.is_ipv4() && field == [0, 0] {
        return;
    }
    let Ok(len) = u32::try_from(l4.len()) else {
        return;
    };
    let pseudo = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => checksum_sum(&s.octets()) + checksum_sum(&d.octets()),
        (IpAddr::V6(s), IpAddr::V6(d)) => checksum_sum(&s.octets()) + checksum_sum(&d.octets()),
        _ => return,
    } + checksum_sum(&len.to_be_bytes())
        + u64::from(proto);
    if let Some(f) = l4.get_mut(at..at + 2) {
        f.copy_from_slice(&[0, 0]);
    }
    let mut c = checksum_finish(pseudo + checksum_sum(l4));
    if proto == IPPROTO_UDP && c == 0 {
        c = 0xffff;
    }
    if let Some(f) = l4.get_mut(at..at + 2) {
        f.copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::ip::selector_fields;

    fn udp_v4(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut p = vec![0u8; 20 + 8 + 4];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&32u16.to_be_bytes());
        p[8] = 64;
        p[9] = IPPROTO_UDP;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        p[20..22].copy_from_slice(&1234u16.to_be_bytes());
        p[22..24].copy_from_slice(&53u16.to_be_bytes());
        p[24..26].copy_from_slice(&12u16.to_be_bytes());
        p[28..32].copy_from_slice(b"ping");
        let c = wire::udp::udp_checksum(src.into(), dst.into(), &p[20..]).unwrap();
        p[26..28].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn payload_and_protocol_of_a_whole_packet_fragments_refused() {
        let mut p = udp_v4([192, 0, 2, 1], [192, 0, 2, 2]);
        let f = selector_fields(&p).unwrap();
        let (payload, nh) = outbound_payload(&p, &f).unwrap();
        assert_eq!((payload, nh), (&p[20..], IPPROTO_UDP));
        // More Fragments set.
        p[6] = 0x20;
        let f = selector_fields(&p).unwrap();
        assert_eq!(outbound_payload(&p, &f), Err(DropReason::Malformed));
    }

    #[test]
    fn rebuilt_ipv4_header_and_checksum_fixed_after_nat() {
        // The peer behind a NAT computed its checksum with its private address.
        let sent = udp_v4([10, 0, 0, 5], [192, 0, 2, 1]);
        let mut out = vec![0xee; 3];
        out.extend_from_slice(&sent[20..]);
        let (src, dst): (IpAddr, IpAddr) = (
            "198.51.100.7".parse().unwrap(),
            "192.0.2.1".parse().unwrap(),
        );
        rebuild(&mut out, 3, IPPROTO_UDP, src, dst, 0x02, true).unwrap();
        let pkt = &out[3..];
        assert_eq!(out[..3], [0xee; 3]);
        let f = selector_fields(pkt).unwrap();
        assert_eq!(
            (f.src, f.dst, f.next_proto, f.total_len),
            (src, dst, IPPROTO_UDP, 32)
        );
        assert_eq!(pkt[1], 0x02);
        assert_eq!(wire::ip::checksum(&pkt[..20]), 0);
        let c = wire::udp::udp_checksum(src, dst, &pkt[20..]).unwrap();
        assert_eq!(&pkt[26..28], &c.to_be_bytes());
        assert_ne!(&pkt[26..28], &sent[26..28]);
        // Without the fix-up (raw ESP, no NAT) the payload is untouched.
        let mut out = sent[20..].to_vec();
        rebuild(&mut out, 0, IPPROTO_UDP, src, dst, 0, false).unwrap();
        assert_eq!(&out[20..], &sent[20..]);
    }

    #[test]
    fn rebuilt_ipv6_header() {
        let mut out = vec![1, 2, 3, 4, 5, 6, 7, 8];
        let (src, dst): (IpAddr, IpAddr) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        rebuild(&mut out, 0, 59, src, dst, 0xb8, false).unwrap();
        assert_eq!(out.len(), 48);
        assert_eq!(&out[0..2], &[0x6b, 0x80]);
        assert_eq!(&out[4..8], &[0, 8, 59, 64]);
        assert_eq!(&out[40..], &[1, 2, 3, 4, 5, 6, 7, 8]);
        // Mixed families are refused.
        let mut out = vec![0; 8];
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(rebuild(&mut out, 0, 59, v4, dst, 0, false).is_err());
    }
}
