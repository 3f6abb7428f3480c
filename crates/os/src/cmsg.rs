//! Ancillary data ("control messages") for `recvmsg(2)`/`sendmsg(2)`: the packet-information
//! options `IP_PKTINFO` (ip(7)) and `IPV6_PKTINFO` (RFC 3542 §6.1) that carry a datagram's local
//! address, the IP header's TOS / Traffic Class (`IP_TOS`, ip(7); `IPV6_TCLASS`, RFC 3542 §6.5)
//! and UDP GSO/GRO sizes (udp(7)).
//!
//! The layout follows the `CMSG_*` rules of RFC 3542 §20.3 as Linux implements them: each message
//! is a `cmsghdr` followed by its data at `CMSG_LEN(0)`, and the next message starts at the
//! current one's `cmsg_len` rounded up to the alignment of `size_t`. Parsing never trusts a
//! length: every slice is taken with a bounds check.

use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ptr;

/// Room for ancillary data in one datagram: two IPv6 packet-information messages and more, so
/// later options (`UDP_GRO`, `IP_TOS`, …) fit too.
pub(crate) const CMSG_BUF_LEN: usize = 128;

/// A control-message buffer aligned for `cmsghdr` (alignment of `size_t`, at most 8).
#[repr(C, align(8))]
#[derive(Debug, Clone)]
pub(crate) struct CmsgBuf {
    bytes: [u8; CMSG_BUF_LEN],
}

impl CmsgBuf {
    /// A zeroed buffer.
    pub(crate) fn new() -> Self {
        Self {
            bytes: [0; CMSG_BUF_LEN],
        }
    }

    /// The whole buffer, for `recvmsg(2)` to fill.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// The first `len` bytes (clamped to the buffer).
    pub(crate) fn prefix(&self, len: usize) -> &[u8] {
        self.bytes.get(..len).unwrap_or(&self.bytes)
    }
}

/// `CMSG_ALIGN`: rounds `len` up to the alignment of `size_t`.
const fn cmsg_align(len: usize) -> usize {
    let a = mem::size_of::<usize>();
    (len + a - 1) & !(a - 1)
}

/// `CMSG_LEN(0)`: where a message's data starts, relative to its header.
const DATA_OFFSET: usize = cmsg_align(mem::size_of::<libc::cmsghdr>());

/// `CMSG_LEN(len)`: the `cmsg_len` of a message carrying `len` data bytes.
const fn cmsg_len(len: usize) -> usize {
    DATA_OFFSET + len
}

/// `CMSG_SPACE(len)`: the room a message carrying `len` data bytes takes in the buffer.
const fn cmsg_space(len: usize) -> usize {
    DATA_OFFSET + cmsg_align(len)
}

/// `sizeof(struct in_pktinfo)` (ip(7)): `int ipi_ifindex; struct in_addr ipi_spec_dst, ipi_addr`.
const IN_PKTINFO_LEN: usize = 12;
/// `sizeof(struct in6_pktinfo)` (RFC 3542 §6.1): `struct in6_addr ipi6_addr; int ipi6_ifindex`.
const IN6_PKTINFO_LEN: usize = 20;

/// The packet information of one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PktInfo {
    /// The destination address in the datagram's IP header (`ipi_addr` / `ipi6_addr`).
    pub(crate) addr: IpAddr,
    /// The index of the interface the datagram arrived on.
    pub(crate) ifindex: u32,
}

/// One control message: level, type and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cmsg<'a> {
    level: libc::c_int,
    kind: libc::c_int,
    data: &'a [u8],
}

/// Walks the control messages in `buf` (`CMSG_FIRSTHDR` / `CMSG_NXTHDR`), stopping at the first
/// malformed one.
#[derive(Debug)]
struct Cmsgs<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> Iterator for Cmsgs<'a> {
    type Item = Cmsg<'a>;

    fn next(&mut self) -> Option<Cmsg<'a>> {
        let hdr_end = self.off.checked_add(mem::size_of::<libc::cmsghdr>())?;
        let hdr_bytes = self.buf.get(self.off..hdr_end)?;
        // SAFETY: `hdr_bytes` holds exactly `size_of::<cmsghdr>()` initialised bytes (checked by
        // `get` above); `read_unaligned` allows any alignment, and `cmsghdr` is plain integers,
        // valid for every bit pattern.
        let hdr: libc::cmsghdr = unsafe { ptr::read_unaligned(hdr_bytes.as_ptr().cast()) };
        // `cmsg_len` is `size_t` with glibc but `socklen_t` with musl.
        #[allow(clippy::useless_conversion)]
        let len = usize::try_from(hdr.cmsg_len).ok()?;
        if len < DATA_OFFSET {
            self.off = self.buf.len();
            return None;
        }
        let data_start = self.off.checked_add(DATA_OFFSET)?;
        let data_end = self.off.checked_add(len)?;
        let data = self.buf.get(data_start..data_end)?;
        self.off = self
            .off
            .checked_add(cmsg_align(len))
            .unwrap_or(self.buf.len());
        Some(Cmsg {
            level: hdr.cmsg_level,
            kind: hdr.cmsg_type,
            data,
        })
    }
}

/// Finds the `IP_PKTINFO` or `IPV6_PKTINFO` message in received ancillary data.
pub(crate) fn parse_pktinfo(control: &[u8]) -> Option<PktInfo> {
    Cmsgs {
        buf: control,
        off: 0,
    }
    .find_map(|m| match (m.level, m.kind) {
        (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
            let ifindex = m.data.get(0..4)?;
            let addr = m.data.get(8..IN_PKTINFO_LEN)?;
            Some(PktInfo {
                addr: IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3])),
                ifindex: u32::from_ne_bytes(ifindex.try_into().ok()?),
            })
        }
        (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
            let addr: [u8; 16] = m.data.get(0..16)?.try_into().ok()?;
            let ifindex = m.data.get(16..IN6_PKTINFO_LEN)?;
            Some(PktInfo {
                addr: IpAddr::V6(Ipv6Addr::from(addr)),
                ifindex: u32::from_ne_bytes(ifindex.try_into().ok()?),
            })
        }
        _ => None,
    })
}

/// Finds the `UDP_GRO` message (udp(7)) in received ancillary data: the size of each segment
/// of a coalesced datagram (every segment has it except the last, which may be shorter).
pub(crate) fn parse_gro(control: &[u8]) -> Option<usize> {
    Cmsgs {
        buf: control,
        off: 0,
    }
    .find_map(|m| match (m.level, m.kind) {
        (libc::SOL_UDP, libc::UDP_GRO) => {
            let v: [u8; 4] = m.data.get(0..4)?.try_into().ok()?;
            usize::try_from(i32::from_ne_bytes(v))
                .ok()
                .filter(|s| *s > 0)
        }
        _ => None,
    })
}

/// Finds the TOS / Traffic Class of the received datagram's IP header: the `IP_TOS` message
/// that `IP_RECVTOS` asks for (ip(7): one byte) or the `IPV6_TCLASS` message that
/// `IPV6_RECVTCLASS` asks for (RFC 3542 §6.5: an `int`). The whole octet — DSCP and ECN field
/// (RFC 2474 §3, RFC 3168 §5).
pub(crate) fn parse_tos(control: &[u8]) -> Option<u8> {
    Cmsgs {
        buf: control,
        off: 0,
    }
    .find_map(|m| match (m.level, m.kind) {
        (libc::IPPROTO_IP, libc::IP_TOS) => m.data.first().copied(),
        (libc::IPPROTO_IPV6, libc::IPV6_TCLASS) => {
            let v: [u8; 4] = m.data.get(0..4)?.try_into().ok()?;
            u8::try_from(i32::from_ne_bytes(v)).ok()
        }
        _ => None,
    })
}

/// Appends the message that makes one `sendmsg(2)` send its datagram(s) with `tos` as the IP
/// header's TOS (`IP_TOS`, ip(7)) or Traffic Class (`IPV6_TCLASS`, RFC 3542 §6.5), each an
/// `int`, after the `used` bytes already in `buf`. Returns the new length used.
pub(crate) fn push_tos(buf: &mut CmsgBuf, used: usize, v6: bool, tos: u8) -> Option<usize> {
    let (level, kind) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_TCLASS)
    } else {
        (libc::IPPROTO_IP, libc::IP_TOS)
    };
    push(
        buf.as_mut_slice(),
        used,
        level,
        kind,
        &libc::c_int::from(tos).to_ne_bytes(),
    )
}

/// Appends the `UDP_SEGMENT` message (udp(7), UDP GSO) that makes one `sendmsg(2)` send its
/// buffer as datagrams of `size` bytes each (the last may be shorter), after the `used` bytes
/// already in `buf`. Returns the new length used.
pub(crate) fn push_udp_segment(buf: &mut CmsgBuf, used: usize, size: u16) -> Option<usize> {
    push(
        buf.as_mut_slice(),
        used,
        libc::SOL_UDP,
        libc::UDP_SEGMENT,
        &size.to_ne_bytes(),
    )
}

/// Appends one control message at offset `off` of `buf`; returns the offset after it, or `None`
/// if it does not fit.
fn push(
    buf: &mut [u8],
    off: usize,
    level: libc::c_int,
    kind: libc::c_int,
    data: &[u8],
) -> Option<usize> {
    let end = off.checked_add(cmsg_space(data.len()))?;
    let region = buf.get_mut(off..end)?;
    region.fill(0);
    // SAFETY: an all-zero `cmsghdr` is valid (plain integers; zeroing also covers the private
    // padding some C libraries put in it).
    let mut hdr: libc::cmsghdr = unsafe { mem::zeroed() };
    hdr.cmsg_len = cmsg_len(data.len()) as _;
    hdr.cmsg_level = level;
    hdr.cmsg_type = kind;
    let hdr_len = mem::size_of::<libc::cmsghdr>();
    let hdr_region = region.get_mut(..hdr_len)?;
    // SAFETY: `hdr_region` is exactly `size_of::<cmsghdr>()` writable bytes (checked by
    // `get_mut`), and `write_unaligned` allows any alignment.
    unsafe { ptr::write_unaligned(hdr_region.as_mut_ptr().cast::<libc::cmsghdr>(), hdr) };
    region
        .get_mut(DATA_OFFSET..DATA_OFFSET.checked_add(data.len())?)?
        .copy_from_slice(data);
    Some(end)
}

/// Writes the packet-information message that makes `sendmsg(2)` use `src` as the datagram's
/// source address (`ipi_spec_dst` for IPv4, ip(7); `ipi6_addr` for IPv6, RFC 3542 §6.1), with
/// interface index 0 (routing decides). Returns the number of bytes used.
pub(crate) fn write_src_pktinfo(buf: &mut CmsgBuf, src: IpAddr) -> Option<usize> {
    match src {
        IpAddr::V4(a) => {
            let mut data = [0u8; IN_PKTINFO_LEN];
            data.get_mut(4..8)?.copy_from_slice(&a.octets());
            push(
                buf.as_mut_slice(),
                0,
                libc::IPPROTO_IP,
                libc::IP_PKTINFO,
                &data,
            )
        }
        IpAddr::V6(a) => {
            let mut data = [0u8; IN6_PKTINFO_LEN];
            data.get_mut(0..16)?.copy_from_slice(&a.octets());
            push(
                buf.as_mut_slice(),
                0,
                libc::IPPROTO_IPV6,
                libc::IPV6_PKTINFO,
                &data,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_libc() {
        assert_eq!(mem::size_of::<libc::in_pktinfo>(), IN_PKTINFO_LEN);
        assert_eq!(mem::offset_of!(libc::in_pktinfo, ipi_ifindex), 0);
        assert_eq!(mem::offset_of!(libc::in_pktinfo, ipi_spec_dst), 4);
        assert_eq!(mem::offset_of!(libc::in_pktinfo, ipi_addr), 8);
        assert_eq!(mem::size_of::<libc::in6_pktinfo>(), IN6_PKTINFO_LEN);
        assert_eq!(mem::offset_of!(libc::in6_pktinfo, ipi6_addr), 0);
        assert_eq!(mem::offset_of!(libc::in6_pktinfo, ipi6_ifindex), 16);
        for n in [0usize, 1, 12, 20, 33] {
            let n32 = u32::try_from(n).unwrap_or(0);
            // SAFETY: CMSG_LEN/CMSG_SPACE are pure arithmetic on their argument.
            let (len, space) = unsafe { (libc::CMSG_LEN(n32), libc::CMSG_SPACE(n32)) };
            assert_eq!(cmsg_len(n), len as usize);
            assert_eq!(cmsg_space(n), space as usize);
        }
    }

    #[test]
    fn v4_roundtrip() {
        let mut buf = CmsgBuf::new();
        let a = Ipv4Addr::new(192, 0, 2, 7);
        let n = write_src_pktinfo(&mut buf, IpAddr::V4(a));
        assert_eq!(n, Some(cmsg_space(IN_PKTINFO_LEN)));
        // ipi_spec_dst carries the source; ipi_ifindex and ipi_addr stay zero.
        assert_eq!(buf.prefix(64)[DATA_OFFSET..DATA_OFFSET + 4], [0; 4]);
        assert_eq!(buf.prefix(64)[DATA_OFFSET + 4..DATA_OFFSET + 8], a.octets());
        assert_eq!(buf.prefix(64)[DATA_OFFSET + 8..DATA_OFFSET + 12], [0; 4]);
        // What we write is ipi_spec_dst; what the kernel hands us is ipi_addr. Fake a received one.
        let mut rx = CmsgBuf::new();
        let mut data = [0u8; IN_PKTINFO_LEN];
        data[0..4].copy_from_slice(&3u32.to_ne_bytes());
        data[8..12].copy_from_slice(&a.octets());
        let end = push(
            rx.as_mut_slice(),
            0,
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            &data,
        );
        assert!(end.is_some());
        let info = parse_pktinfo(rx.prefix(end.unwrap_or(0)));
        assert_eq!(
            info,
            Some(PktInfo {
                addr: IpAddr::V4(a),
                ifindex: 3
            })
        );
    }

    #[test]
    fn v6_roundtrip_after_other_message() {
        let mut buf = CmsgBuf::new();
        let a: Ipv6Addr = "2001:db8::42".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let mut data = [0u8; IN6_PKTINFO_LEN];
        data[0..16].copy_from_slice(&a.octets());
        data[16..20].copy_from_slice(&9u32.to_ne_bytes());
        let first = push(
            buf.as_mut_slice(),
            0,
            libc::IPPROTO_IPV6,
            libc::IPV6_HOPLIMIT,
            &64i32.to_ne_bytes(),
        )
        .unwrap_or(0);
        let end = push(
            buf.as_mut_slice(),
            first,
            libc::IPPROTO_IPV6,
            libc::IPV6_PKTINFO,
            &data,
        )
        .unwrap_or(0);
        assert_eq!(
            parse_pktinfo(buf.prefix(end)),
            Some(PktInfo {
                addr: IpAddr::V6(a),
                ifindex: 9
            })
        );
    }

    #[test]
    fn gro_and_segment() {
        let mut buf = CmsgBuf::new();
        let used = write_src_pktinfo(&mut buf, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))).unwrap();
        let used = push_udp_segment(&mut buf, used, 1452).unwrap();
        assert_eq!(parse_pktinfo(buf.prefix(used)).map(|p| p.ifindex), Some(0));
        let seg: Vec<_> = Cmsgs {
            buf: buf.prefix(used),
            off: 0,
        }
        .filter(|m| (m.level, m.kind) == (libc::SOL_UDP, libc::UDP_SEGMENT))
        .map(|m| m.data.to_vec())
        .collect();
        assert_eq!(seg, vec![1452u16.to_ne_bytes().to_vec()]);
        // A received UDP_GRO message carries an int.
        let mut rx = CmsgBuf::new();
        let n = push(
            rx.as_mut_slice(),
            0,
            libc::SOL_UDP,
            libc::UDP_GRO,
            &1400i32.to_ne_bytes(),
        )
        .unwrap();
        assert_eq!(parse_gro(rx.prefix(n)), Some(1400));
        assert_eq!(parse_gro(buf.prefix(used)), None);
        // Truncated data is ignored.
        assert_eq!(parse_gro(rx.prefix(n - 8)), None);
    }

    #[test]
    fn tos_roundtrip_v4_and_v6() {
        for (v6, tos) in [(false, 0xb8u8), (true, 0xb8), (false, 0x03), (true, 0xff)] {
            let mut buf = CmsgBuf::new();
            let src = if v6 {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            } else {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            };
            let used = write_src_pktinfo(&mut buf, src).unwrap();
            let used = push_udp_segment(&mut buf, used, 1400).unwrap();
            let used = push_tos(&mut buf, used, v6, tos).unwrap();
            assert_eq!(parse_tos(buf.prefix(used)), Some(tos), "v6 {v6}");
            assert_eq!(parse_gro(buf.prefix(used)), None);
            // Cut into the last message: not found, no panic.
            for cut in 0..used {
                assert_ne!(parse_tos(buf.prefix(cut)), Some(tos ^ 1));
            }
            assert_eq!(parse_tos(buf.prefix(used - 8)), None);
        }
        // The kernel hands IPv4's IP_TOS over as a single byte (ip(7)).
        let mut rx = CmsgBuf::new();
        let n = push(
            rx.as_mut_slice(),
            0,
            libc::IPPROTO_IP,
            libc::IP_TOS,
            &[0x2e],
        )
        .unwrap();
        assert_eq!(parse_tos(rx.prefix(n)), Some(0x2e));
        // An IPV6_TCLASS outside 0..=255 is not a Traffic Class.
        let n = push(
            rx.as_mut_slice(),
            0,
            libc::IPPROTO_IPV6,
            libc::IPV6_TCLASS,
            &(-1i32).to_ne_bytes(),
        )
        .unwrap();
        assert_eq!(parse_tos(rx.prefix(n)), None);
        assert_eq!(parse_tos(&[]), None);
    }

    #[test]
    fn malformed_is_ignored() {
        assert_eq!(parse_pktinfo(&[]), None);
        assert_eq!(parse_pktinfo(&[0xff; 7]), None);
        // A header claiming more data than the buffer holds.
        let mut buf = CmsgBuf::new();
        let end = write_src_pktinfo(&mut buf, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))).unwrap_or(0);
        assert_eq!(parse_pktinfo(buf.prefix(end - 8)), None);
        // A header with cmsg_len shorter than a header.
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        assert_eq!(parse_pktinfo(&bytes), None);
        // Every truncation of a valid message parses to None or the right value, never panics.
        for cut in 0..end {
            let _ = parse_pktinfo(buf.prefix(cut));
        }
    }

    #[test]
    fn too_small_buffer_is_refused() {
        let mut small = [0u8; 8];
        assert_eq!(
            push(&mut small, 0, libc::IPPROTO_IP, libc::IP_PKTINFO, &[0; 12]),
            None
        );
    }
}
