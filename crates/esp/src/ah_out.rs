//! AH outbound processing (RFC 4302 §3.1, §3.3): the whole outer IP packet — header, AH,
//! payload — with the ICV over the header's immutable fields, AH with a zero ICV field, the
//! payload and, with ESN, the high half of the sequence number.
//!
//! - Tunnel mode (§3.1.2): a new IPv4 header (20 bytes, no options, protocol 51, TTL 64,
//!   flags and offset 0, a nonzero Identification from the data plane's counter) or IPv6
//!   header (hop limit 64, flow label 0) from the child's local to its remote address, TOS /
//!   Traffic Class = [`Outbound::tos`]; Next Header 4 or 41; the inner packet after AH (its
//!   TCP SYNs' MSS clamped as for ESP).
//! - Transport mode (§3.1.1): the packet's own addresses (and IPv4 Identification, unless 0)
//!   in a header written the same way, then AH with the upper-layer protocol as Next Header,
//!   then the upper-layer payload. Fragments and IPv6 extension headers are refused as for
//!   ESP ([`DropReason::Malformed`]); IPv4 options are not carried.
//!
//! The header is written whole because the ICV covers it (§3.3.3.1): the daemon sends IPv4
//! with IP_HDRINCL (the kernel keeps every field, the Identification because it is nonzero);
//! for IPv6 it takes the 40-byte header off and lets the kernel write it, which changes only
//! fields zeroed for the ICV (Traffic Class, Flow Label, Hop Limit) if it sends from the
//! same source address.

use std::net::IpAddr;

use wire::ah::{ah_len, payload_len_field, AhHeader, AH_HEADER_LEN, IPPROTO_AH};
use wire::esp::{NEXT_HEADER_IPV4, NEXT_HEADER_IPV6};
use wire::ip::{checksum, SelectorFields, IPPROTO_TCP, IPV4_HEADER_LEN, IPV6_HEADER_LEN};

use crate::dataplane::Child;
use crate::edge::{clamp_mss, outer_tos, tos};
use crate::outbound::must_not_fragment;
use crate::protect::seq_high;
use crate::transport;
use crate::{DropReason, Mode, Outbound, Snapshot};

/// TTL / Hop Limit of the outer headers AH writes (RFC 1700's recommended default).
const OUTER_TTL: u8 = 64;

/// The largest ICV of an implemented integrity algorithm (HMAC-SHA2-512-256).
const MAX_ICV: usize = 32;

/// The outer header AH writes, and the same header with its mutable fields zeroed for the
/// ICV (RFC 4302 §3.3.3.1.1.1, §3.3.3.1.2.1).
struct OuterHeader {
    sent: [u8; IPV6_HEADER_LEN],
    for_icv: [u8; IPV6_HEADER_LEN],
    len: usize,
}

/// Writes the outer header from `src` to `dst` for a packet of `total` bytes (IPv4) or
/// `payload` bytes after the header (IPv6).
fn outer_header(
    src: IpAddr,
    dst: IpAddr,
    tos: u8,
    id: u16,
    payload: usize,
) -> Result<OuterHeader, DropReason> {
    let mut h = [0u8; IPV6_HEADER_LEN];
    let z;
    let len = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(IPV4_HEADER_LEN + payload).map_err(|_| DropReason::TooBig)?;
            h[0] = 0x45;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[4..6].copy_from_slice(&id.to_be_bytes());
            h[9] = IPPROTO_AH;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            // Mutable: TOS, Flags, Fragment Offset, TTL, Header Checksum (all zero so far).
            z = h;
            h[1] = tos;
            h[8] = OUTER_TTL;
            let c = checksum(&h[..IPV4_HEADER_LEN]);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            IPV4_HEADER_LEN
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let plen = u16::try_from(payload).map_err(|_| DropReason::TooBig)?;
            h[0] = 0x60;
            h[4..6].copy_from_slice(&plen.to_be_bytes());
            h[6] = IPPROTO_AH;
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
            // Mutable: Traffic Class, Flow Label (0 anyway), Hop Limit.
            z = h;
            let vtc = 0x6000_0000u32 | (u32::from(tos) << 20);
            h[0..4].copy_from_slice(&vtc.to_be_bytes());
            h[7] = OUTER_TTL;
            IPV6_HEADER_LEN
        }
        _ => return Err(DropReason::Malformed),
    };
    Ok(OuterHeader {
        sent: h,
        for_icv: z,
        len,
    })
}

impl Snapshot<'_> {
    /// [`Snapshot::encapsulate_append`] for an AH child (`inner`: the whole packet from the
    /// TUN device, `f` its selector fields): appends the outer IP packet to `out`.
    pub(crate) fn encapsulate_ah(
        &self,
        child: &Child,
        inner: &[u8],
        f: &SelectorFields,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<Outbound, DropReason> {
        // RFC 4302 §2.1: 4 / 41 in tunnel mode, the upper-layer protocol in transport mode.
        let (body, next_header) = match child.mode {
            Mode::Tunnel if f.src.is_ipv4() => (inner, NEXT_HEADER_IPV4),
            Mode::Tunnel => (inner, NEXT_HEADER_IPV6),
            Mode::Transport => transport::outbound_payload(inner, f)?,
        };
        let (src, dst, id) = match child.mode {
            Mode::Tunnel => (child.local.ip(), child.remote.ip(), self.dp.next_ip_id()),
            // The packet's own addresses stand for the SA's endpoints (RFC 4301 §4.1): one
            // of the other family cannot go to the child's peer.
            Mode::Transport if f.src.is_ipv4() != child.remote.is_ipv4() => {
                return Err(DropReason::Malformed)
            }
            Mode::Transport => {
                let own = match inner.get(4..6) {
                    Some(&[a, b]) if f.src.is_ipv4() => u16::from_be_bytes([a, b]),
                    _ => 0,
                };
                let id = if own == 0 { self.dp.next_ip_id() } else { own };
                (f.src, f.dst, id)
            }
        };
        let sa = &*child.outbound;
        let ah = ah_len(sa.xform.icv_len, src.is_ipv6());
        let ip_len = if src.is_ipv4() {
            IPV4_HEADER_LEN
        } else {
            IPV6_HEADER_LEN
        };
        // RFC 4301 §8.1: as for ESP, a packet the path cannot carry that must not be
        // fragmented is refused (the caller answers with `icmp_too_big`).
        if ip_len + ah + body.len() > usize::from(child.options.path_mtu)
            && must_not_fragment(inner)
        {
            return Err(DropReason::PathMtu);
        }
        let tos = outer_tos(tos(inner), child.options.copy_dscp);
        let hdr = outer_header(src, dst, tos, id, ah + body.len())?;
        let seq = self.take_seq(child)?;
        let r = self.seal_ah(child, seq, (inner, body), f, next_header, &hdr, out, start);
        if r.is_err() {
            sa.count_unsent();
        }
        r
    }

    /// Lays out header, AH and `body` in `out` and writes the ICV (RFC 4302 §3.3.3).
    #[allow(clippy::too_many_arguments)]
    fn seal_ah(
        &self,
        child: &Child,
        seq: u64,
        (inner, body): (&[u8], &[u8]),
        f: &SelectorFields,
        next_header: u8,
        hdr: &OuterHeader,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<Outbound, DropReason> {
        let sa = &*child.outbound;
        let x = &sa.xform;
        let integ = x.protect.ah().ok_or(DropReason::CryptoFailure)?;
        let ip_len = hdr.len;
        let ah = ah_len(x.icv_len, ip_len == IPV6_HEADER_LEN);
        out.reserve(ip_len + ah + body.len());
        out.extend_from_slice(hdr.sent.get(..ip_len).ok_or(DropReason::CryptoFailure)?);
        let ah_at = start + ip_len;
        let mut fixed = [0u8; AH_HEADER_LEN];
        AhHeader {
            next_header,
            payload_len: payload_len_field(ah).ok_or(DropReason::CryptoFailure)?,
            spi: sa.spi,
            sequence_number: seq as u32,
        }
        .emit(&mut fixed)
        .map_err(|_| DropReason::CryptoFailure)?;
        out.extend_from_slice(&fixed);
        // ICV and padding: zero for the computation (§3.3.3.2.1), the padding stays zero.
        out.resize(ah_at + ah, 0);
        let body_at = out.len();
        out.extend_from_slice(body);
        if child.options.clamp_mss && f.next_proto == IPPROTO_TCP && child.mode == Mode::Tunnel {
            if let Some(pkt) = out.get_mut(body_at..) {
                clamp_mss(pkt, f, child.mss(f.version()));
            }
        }
        // §3.3.3: header (mutable fields zero), AH and payload, then with ESN the high half
        // of the sequence number (§2.5.1, §3.3.3.2.2: appended for the computation only).
        let hi = seq_high(seq);
        let tail: &[u8] = if x.esn { &hi } else { &[] };
        let mut icv = [0u8; MAX_ICV];
        let icv = icv.get_mut(..x.icv_len).ok_or(DropReason::CryptoFailure)?;
        let for_icv = hdr.for_icv.get(..ip_len).ok_or(DropReason::CryptoFailure)?;
        let rest = out.get(ah_at..).ok_or(DropReason::CryptoFailure)?;
        integ
            .sign(&[for_icv, rest, tail], icv)
            .map_err(|_| DropReason::CryptoFailure)?;
        let field = ah_at + AH_HEADER_LEN;
        out.get_mut(field..field + x.icv_len)
            .ok_or(DropReason::CryptoFailure)?
            .copy_from_slice(icv);
        Ok(self.sent(child, seq, inner))
    }
}
