//! Outbound processing (RFC 4301 §5.1, RFC 4303 §3.3): SPD lookup, then tunnel- or
//! transport-mode ESP encapsulation sealed in place in the caller's buffer (AH: `ah_out.rs`).

use std::net::SocketAddr;

use wire::esp::{emit_trailer, EspHeader, ESP_HEADER_LEN, ESP_TRAILER_LEN};
use wire::esp::{NEXT_HEADER_IPV4, NEXT_HEADER_IPV6};
use wire::ip::{selector_fields, SelectorFields, IPPROTO_TCP};

use crate::dataplane::Child;
use crate::edge::{clamp_mss, is_tcp_syn, outer_tos, tos};
use crate::inbound::icmp_error_quote;
use crate::lifetime::{Direction, ExpiryCause, ExpiryKind};
use crate::spd::{inbound_matches, outbound_matches};
use crate::transport;
use crate::{DataPlane, DropReason, Mode, SecurityProtocol, Snapshot};

/// Sizes of one ESP packet being built.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// 4 or 41 (tunnel mode).
    next_header: u8,
    /// The inner packet plus TFC padding.
    payload_len: usize,
    /// ESP padding.
    pad: u8,
    /// Payload, padding, Pad Length and Next Header.
    ct_len: usize,
    /// The whole ESP packet.
    total: usize,
}

/// Whether a packet must not be fragmented on its way: IPv4 with DF (RFC 791), or IPv6
/// larger than the minimum MTU (RFC 8200 §5: a tunnel carries 1280 bytes, fragmenting the
/// outer packet if it must).
pub(crate) fn must_not_fragment(inner: &[u8]) -> bool {
    match inner.first().map(|b| b >> 4) {
        Some(4) => inner.get(6).is_some_and(|b| b & 0x40 != 0),
        _ => inner.len() > usize::from(wire::icmp::IPV6_MIN_MTU),
    }
}

/// The largest ESP packet we build: the largest UDP payload over IPv4 (65535 − 20 − 8).
pub const MAX_ESP_LEN: usize = 65_507;

/// Where to send a packet `encapsulate` built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outbound {
    /// The child whose SA sealed it.
    pub child_id: u64,
    /// Our outer address: send from here.
    pub local: SocketAddr,
    /// The peer's outer address: send to here.
    pub remote: SocketAddr,
    /// ESP: `out` is the ESP packet. AH: `out` is the whole IP packet, header included
    /// (RFC 4302 §3.1: the ICV covers the header), to send with IP_HDRINCL (IPv4) or, after
    /// taking off its 40-byte header, on a raw IPv6 socket of protocol 51 from `local`
    /// (every field the kernel writes there is mutable or the same, RFC 4302 §3.3.3.1.2).
    pub protocol: SecurityProtocol,
    /// True: send `out` as the payload of a UDP datagram (RFC 3948, no marker in front of
    /// ESP). False: send it as raw IP protocol 50 (or, for AH, as said above). Never true
    /// for AH.
    pub encap: bool,
    /// Length of the inner packet that went into the tunnel.
    pub inner_len: usize,
    /// The outer header's TOS / Traffic Class: the inner ECN field (RFC 6040 §4.1, normal
    /// mode) and the inner DSCP when the child copies it (RFC 2983 §3). The sender sets it on
    /// the outer packet (IP_TOS / IPV6_TCLASS).
    pub tos: u8,
}

impl DataPlane {
    /// Protects one plain IP packet (as read from the TUN device). On success `out` holds the
    /// ESP packet `SPI | Sequence Number | IV | ciphertext | ICV` (RFC 4303 §2) and the result
    /// says where to send it. On a drop `out` is empty and the reason is counted.
    ///
    /// `out` is cleared first and only grows when its capacity is too small: reuse one buffer.
    /// For a batch of packets, [`DataPlane::snapshot`] once and call
    /// [`Snapshot::encapsulate_append`].
    pub fn encapsulate(&self, ip_packet: &[u8], out: &mut Vec<u8>) -> Result<Outbound, DropReason> {
        out.clear();
        self.snapshot().encapsulate_append(ip_packet, out)
    }
}

impl Snapshot<'_> {
    /// Like [`DataPlane::encapsulate`], but appends the ESP packet to `out` after what is
    /// already there (so a batch can be built back to back for one UDP GSO send, or behind a
    /// header). On a drop `out` is truncated back to its length at the call.
    pub fn encapsulate_append(
        &self,
        ip_packet: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Outbound, DropReason> {
        let start = out.len();
        let r = self.encapsulate_inner(ip_packet, out, start);
        if let Err(reason) = r {
            out.truncate(start);
            self.dp.drops.bump(reason);
        }
        r
    }

    fn encapsulate_inner(
        &self,
        ip_packet: &[u8],
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<Outbound, DropReason> {
        let f = selector_fields(ip_packet).map_err(|_| DropReason::Malformed)?;
        // Bytes after the IP packet's own length are not part of it.
        let inner = ip_packet.get(..f.total_len).ok_or(DropReason::Malformed)?;
        // RFC 4301 §5.1 step 1: the first matching SPD entry decides.
        let child = self.lookup(&f, inner).ok_or(DropReason::NoPolicy)?;
        if child.protocol == SecurityProtocol::Ah {
            return self.encapsulate_ah(child, inner, &f, out, start);
        }
        // Tunnel mode: the whole packet, the Next Header names its IP version (RFC 4303
        // §2.6). Transport mode: the upper-layer payload and its protocol (RFC 4303 §3.1.1).
        let (body, next_header) = match child.mode {
            Mode::Tunnel if f.src.is_ipv4() => (inner, NEXT_HEADER_IPV4),
            Mode::Tunnel => (inner, NEXT_HEADER_IPV6),
            Mode::Transport => transport::outbound_payload(inner, &f)?,
        };
        let sa = &*child.outbound;
        let x = &sa.xform;
        // RFC 4301 §8.1 / §6.1: a packet the path cannot carry, which the sender said not to
        // fragment (IPv4 DF, or any IPv6 packet over 1280 bytes), is refused; the caller
        // answers with `icmp_too_big`. Others go out and the outer packet is fragmented.
        let frame_of = |payload: usize| {
            let pad = x.pad_len(payload)?;
            let ct_len = payload + usize::from(pad) + ESP_TRAILER_LEN;
            Some((pad, ct_len, ESP_HEADER_LEN + x.iv_len + ct_len + x.icv_len))
        };
        let (mut pad, mut ct_len, mut total) = frame_of(body.len()).ok_or(DropReason::Malformed)?;
        if child.outer_hdr + total > usize::from(child.options.path_mtu) && must_not_fragment(inner)
        {
            return Err(DropReason::PathMtu);
        }
        // RFC 4303 §2.7: TFC padding (zeros after the inner packet, before ESP's padding),
        // never beyond what the path carries in one packet.
        let mut payload_len = body.len();
        // (Tunnel mode only: in transport mode no IP header would tell the receiver where
        // the payload ends.)
        if let Some(to) = child
            .options
            .tfc_pad_to
            .filter(|_| child.mode == Mode::Tunnel)
        {
            payload_len = usize::from(to).min(child.max_inner).max(body.len());
            (pad, ct_len, total) = frame_of(payload_len).ok_or(DropReason::Malformed)?;
        }
        if total > MAX_ESP_LEN {
            return Err(DropReason::TooBig);
        }
        let seq = self.take_seq(child)?;
        let r = self.seal(
            child,
            seq,
            (inner, body),
            &f,
            Frame {
                next_header,
                payload_len,
                pad,
                ct_len,
                total,
            },
            out,
            start,
        );
        if r.is_err() {
            sa.count_unsent();
        }
        r
    }

    /// The answer to a packet [`Snapshot::encapsulate_append`] refused with
    /// [`DropReason::PathMtu`]: appends to `out` an ICMP "fragmentation needed" (IPv4) or
    /// ICMPv6 "packet too big" (never below 1280) for its sender, to be written to the TUN
    /// device, and returns `true`. The MTU it reports is what the child's tunnel carries
    /// (`path_mtu` − worst-case overhead). `false` (nothing appended) when no such error may be
    /// sent (about an ICMP error, a non-initial fragment ...) or the packet has no policy. The
    /// caller rate-limits these.
    pub fn icmp_too_big(&self, ip_packet: &[u8], out: &mut Vec<u8>) -> bool {
        let Ok(f) = selector_fields(ip_packet) else {
            return false;
        };
        let Some(child) = self.lookup(&f, ip_packet) else {
            return false;
        };
        let mtu = u16::try_from(child.max_inner).unwrap_or(u16::MAX);
        wire::icmp::emit_too_big(ip_packet, &f, mtu, out)
    }

    /// The child that carries `packet` (`f`: its selector fields), RFC 4301 §5.1 step 1: the
    /// first SPD entry that matches. An ICMP error goes with the flow it reports on
    /// (RFC 4301 §6.2): the child that brought in the packet it quotes (quoted source in
    /// `remote_ts`, destination in `local_ts`), whatever the error's own source (a router on
    /// this side); the peer checks the same quote.
    fn lookup(&self, f: &SelectorFields, packet: &[u8]) -> Option<&Child> {
        if let Some(quoted) = icmp_error_quote(f, packet) {
            if let Ok(q) = wire::icmp::embedded_fields(quoted) {
                if let Some(c) = self
                    .t
                    .spd
                    .iter()
                    .find(|c| inbound_matches(&q, &c.local_ts, &c.remote_ts))
                {
                    return Some(c);
                }
            }
        }
        self.t
            .spd
            .iter()
            .find(|c| outbound_matches(f, &c.local_ts, &c.remote_ts))
            .map(|c| &**c)
    }

    /// Allocates the sequence number of the next packet on a child's outbound SA, or refuses
    /// the packet. RFC 4303 §3.3.3 / RFC 4302 §3.3.2: without ESN the counter must not cycle
    /// past 2^32 − 1. The number is taken before sealing (atomically: several workers send on
    /// one SA) and never reused, even if this packet fails (the caller then calls
    /// `count_unsent`). Exactly one packet sees each threshold value.
    #[inline]
    pub(crate) fn take_seq(&self, child: &Child) -> Result<u64, DropReason> {
        let sa = &*child.outbound;
        let seq = sa.next_seq();
        if seq == sa.soft_seq {
            self.raise_out(child, ExpiryKind::Soft, ExpiryCause::SequenceNumbers);
        }
        if seq > sa.last_seq {
            if seq == sa.last_seq.saturating_add(1) {
                self.raise_out(child, ExpiryKind::Hard, ExpiryCause::SequenceNumbers);
            }
            return Err(DropReason::SeqExhausted);
        }
        // RFC 4301 §4.4.2.1: past the hard lifetime the SA carries nothing.
        if sa.limits.has_hard() && !sa.limits.allows(seq - 1, sa.bytes_sent()) {
            sa.count_unsent();
            return Err(DropReason::LifetimeExpired);
        }
        Ok(seq)
    }

    /// Counts a packet sent on a child's outbound SA (`inner`: the packet that went into the
    /// tunnel), raises the lifetime events it crosses, and says where to send it.
    #[inline]
    pub(crate) fn sent(&self, child: &Child, seq: u64, inner: &[u8]) -> Outbound {
        let sa = &*child.outbound;
        let inner_len = inner.len() as u64;
        let before = sa.count_sent(inner_len);
        sa.limits.crossed(seq - 1, before, inner_len, |k, c| {
            self.raise_out(child, k, c)
        });
        Outbound {
            child_id: child.id,
            local: child.local,
            remote: child.remote,
            protocol: child.protocol,
            encap: child.encap,
            inner_len: inner.len(),
            tos: outer_tos(tos(inner), child.options.copy_dscp),
        }
    }

    /// Raises a lifetime event for a child's outbound SA.
    fn raise_out(&self, child: &Child, kind: ExpiryKind, cause: ExpiryCause) {
        self.dp.raise(
            child.id,
            child.outbound.spi,
            Direction::Outbound,
            kind,
            cause,
        );
    }

    /// Builds and seals the ESP packet for `inner` (`f`: its selector fields) with sequence
    /// number `seq`; `body` is what ESP carries of it (`inner` itself in tunnel mode, its
    /// upper-layer payload in transport mode).
    #[allow(clippy::too_many_arguments)]
    fn seal(
        &self,
        child: &Child,
        seq: u64,
        (inner, body): (&[u8], &[u8]),
        f: &SelectorFields,
        frame: Frame,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<Outbound, DropReason> {
        let sa = &*child.outbound;
        let x = &sa.xform;
        let Frame {
            next_header,
            payload_len,
            pad,
            ct_len,
            total,
        } = frame;

        out.reserve(total);
        out.extend_from_slice(
            &EspHeader {
                spi: sa.spi,
                sequence_number: seq as u32,
            }
            .to_bytes(),
        );
        let inner_at = start + ESP_HEADER_LEN + x.iv_len;
        // A TCP SYN whose MSS is clamped, or TFC padding, is laid out here and sealed in place;
        // anything else is sealed straight from `body` (no copy of the packet first).
        let clamp = child.options.clamp_mss
            && child.mode == Mode::Tunnel
            && f.next_proto == IPPROTO_TCP
            && is_tcp_syn(inner, f);
        let copy = clamp || payload_len != body.len();
        if copy {
            out.resize(inner_at, 0);
            out.extend_from_slice(body);
        }
        // (Copied: TFC padding, ESP padding, trailer and ICV; else everything after the
        // header.) Zeros, filled in below.
        out.resize(start + total, 0);
        if clamp {
            if let Some(pkt) = out.get_mut(inner_at..inner_at + inner.len()) {
                clamp_mss(pkt, f, child.mss(f.version()));
            }
        }

        let esp = out.get_mut(start..).ok_or(DropReason::CryptoFailure)?;
        let (aad, rest) = esp
            .split_at_mut_checked(ESP_HEADER_LEN)
            .ok_or(DropReason::CryptoFailure)?;
        let (iv, rest) = rest
            .split_at_mut_checked(x.iv_len)
            .ok_or(DropReason::CryptoFailure)?;
        if x.aead {
            // RFC 4106 §3.1 / RFC 7634 §2: a unique 64-bit IV per key; the 64-bit sequence
            // number is one (zero-extended to the left when the IV is longer).
            let at = iv.len().saturating_sub(8);
            if let Some(tail) = iv.get_mut(at..) {
                tail.copy_from_slice(&seq.to_be_bytes());
            }
        } else {
            // RFC 3602 §3: CBC IVs must be unpredictable.
            self.dp.fill_iv(iv);
        }
        if copy {
            let (buf, icv) = rest
                .split_at_mut_checked(ct_len)
                .ok_or(DropReason::CryptoFailure)?;
            let trailer = buf
                .get_mut(payload_len..)
                .ok_or(DropReason::CryptoFailure)?;
            emit_trailer(trailer, pad, next_header).map_err(|_| DropReason::CryptoFailure)?;
            x.protect
                .seal(aad, seq, iv, buf, icv)
                .map_err(|_| DropReason::CryptoFailure)?;
        } else {
            // Padding, Pad Length and Next Header (at most 255 + 2 bytes).
            let mut tail = [0u8; 257];
            let tail = tail
                .get_mut(..usize::from(pad) + ESP_TRAILER_LEN)
                .ok_or(DropReason::CryptoFailure)?;
            emit_trailer(tail, pad, next_header).map_err(|_| DropReason::CryptoFailure)?;
            // `rest`: the ciphertext, then the ICV.
            x.protect
                .seal_from(aad, seq, iv, (body, tail), rest)
                .map_err(|_| DropReason::CryptoFailure)?;
        }
        Ok(self.sent(child, seq, inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChildSaConfig, Lifetime, Mode, SaKeys, TunnelOptions};
    use crypto::{EncrAlg, EncrId, SecretBytes};

    fn gcm_keys(spi: u32) -> SaKeys {
        SaKeys {
            spi,
            encr: EncrAlg {
                id: EncrId::AesGcm16,
                key_bits: Some(128),
            },
            integ: None,
            encr_key: SecretBytes::new(vec![7; 20]),
            integ_key: SecretBytes::default(),
        }
    }

    #[test]
    fn sequence_number_never_cycles() {
        let d = DataPlane::new();
        d.install_child(ChildSaConfig {
            id: 1,
            mode: Mode::Tunnel,
            protocol: crate::SecurityProtocol::Esp,
            local_ts: vec!["192.0.2.0/24".parse().unwrap()],
            remote_ts: vec!["198.51.100.0/24".parse().unwrap()],
            local: "192.0.2.1:4500".parse().unwrap(),
            remote: "192.0.2.2:4500".parse().unwrap(),
            encap: true,
            inbound: gcm_keys(0x1000),
            outbound: gcm_keys(0x2000),
            replay_window: 64,
            esn: false,
            lifetime: Lifetime::default(),
            options: TunnelOptions::default(),
        })
        .unwrap();
        // A 20-byte IPv4 header, no payload, protocol 59.
        let mut p = [0u8; 20];
        wire::ip::Ipv4Repr {
            src_addr: [192, 0, 2, 9].into(),
            dst_addr: [198, 51, 100, 9].into(),
            protocol: 59,
            ttl: 1,
            dscp_ecn: 0,
            identification: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            payload_len: 0,
        }
        .emit(&mut p)
        .unwrap();
        let mut out = Vec::new();
        if let Some(c) = d.tables().children.get(&1) {
            c.outbound.set_seq(u64::from(u32::MAX) - 2);
        }
        for expect in [u32::MAX - 1, u32::MAX] {
            d.encapsulate(&p, &mut out).unwrap();
            assert_eq!(&out[4..8], &expect.to_be_bytes());
        }
        assert_eq!(d.encapsulate(&p, &mut out), Err(DropReason::SeqExhausted));
        assert_eq!(d.encapsulate(&p, &mut out), Err(DropReason::SeqExhausted));
        assert!(out.is_empty());
        assert_eq!(d.drop_counters().get(DropReason::SeqExhausted), 2);
        assert_eq!(d.child_stats(1).map(|s| s.packets_out), Some(2));
    }
}
