//! AH inbound processing (RFC 4302 §3.4): find AH behind the IP header, SAD lookup by SPI
//! (AH SAs only), anti-replay pre-check, ICV verification (constant time) over the packet
//! with its mutable fields zeroed, window update, then the packet AH protected: in tunnel mode
//! the inner packet after AH, in transport mode the packet with AH taken out; both go through
//! the same checks as ESP's inner packets.
//!
//! Refused as [`DropReason::Malformed`] (`wire::ah`): fragments (§3.4.1: reassembled before
//! AH), IPv4 loose / strict source routes and IPv6 Routing headers with Segments Left ≠ 0
//! (their "mutable but predictable" destination is not implemented), malformed options,
//! anything but Hop-by-Hop, Routing and Destination Options headers before AH.

use std::net::{IpAddr, SocketAddr};

use wire::ah::{ah_len, locate, zero_mutable, AhHeader, AhLocation, AH_HEADER_LEN};
use wire::esp::{NEXT_HEADER_IPV4, NEXT_HEADER_IPV6, NEXT_HEADER_NONE};
use wire::ip::{checksum, Ipv4Packet, Ipv6Packet, IPV4_HEADER_LEN};
use wire::WireError;

use crate::dataplane::Child;
use crate::edge::tos;
use crate::inbound::replay_precheck;
use crate::protect::seq_high;
use crate::{DataPlane, DropReason, Inbound, Mode, SecurityProtocol, Snapshot};

/// A wire-format refusal as a drop reason.
fn malformed(e: WireError) -> DropReason {
    match e {
        WireError::Truncated(_) => DropReason::Truncated,
        _ => DropReason::Malformed,
    }
}

/// The packet's source address.
fn source(packet: &[u8], version: u8) -> Result<IpAddr, DropReason> {
    if version == 4 {
        Ok(Ipv4Packet::new_checked(packet)
            .map_err(malformed)?
            .src_addr()
            .into())
    } else {
        Ok(Ipv6Packet::new_checked(packet)
            .map_err(malformed)?
            .src_addr()
            .into())
    }
}

impl DataPlane {
    /// Opens one AH packet: `ip_packet` is the whole IP packet from its IP header (IPv4 as a
    /// raw socket gives it, options included; IPv6 as the daemon rebuilds it: the 40-byte
    /// header, then whatever extension headers precede AH). On success `out` holds the
    /// packet AH protected, for the TUN device: the inner packet (tunnel mode) or the packet
    /// without AH (transport mode). On a drop `out` is empty and the reason is counted.
    ///
    /// For a batch, [`DataPlane::snapshot`] once and call [`Snapshot::decapsulate_ah_append`].
    pub fn decapsulate_ah(
        &self,
        ip_packet: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Inbound, DropReason> {
        out.clear();
        self.snapshot().decapsulate_ah_append(ip_packet, out)
    }
}

impl Snapshot<'_> {
    /// Like [`DataPlane::decapsulate_ah`], but appends to `out` after what is already there.
    /// On a drop `out` is truncated back to its length at the call. [`Inbound::from`] is the
    /// packet's source address (port 0); the outer TOS / Traffic Class is read from the
    /// header (RFC 6040 applies in tunnel mode as for ESP).
    pub fn decapsulate_ah_append(
        &self,
        ip_packet: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Inbound, DropReason> {
        let start = out.len();
        let r = self.decapsulate_ah_inner(ip_packet, out, start);
        if let Err(reason) = r {
            out.truncate(start);
            self.dp.drops.bump(reason);
        }
        r
    }

    fn decapsulate_ah_inner(
        &self,
        ip_packet: &[u8],
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<Inbound, DropReason> {
        let loc = locate(ip_packet).map_err(malformed)?;
        let packet = ip_packet
            .get(..loc.total_len)
            .ok_or(DropReason::Truncated)?;
        let after = packet.get(loc.ah_offset..).ok_or(DropReason::Truncated)?;
        let hdr = AhHeader::parse(after).map_err(|e| match e {
            WireError::Truncated(_) => DropReason::Truncated,
            _ => DropReason::BadLength,
        })?;
        // RFC 4302 §3.4.2: no SA, drop. RFC 4301 §4.4.2: searched by SPI and protocol.
        let sa = self.t.sad.get(&hdr.spi).ok_or(DropReason::UnknownSpi)?;
        let x = &sa.xform;
        if x.protocol != SecurityProtocol::Ah {
            return Err(DropReason::UnknownSpi);
        }
        let integ = x.protect.ah().ok_or(DropReason::CryptoFailure)?;
        // The ICV field is the algorithm's ICV plus padding to 32 bits (IPv4) or 64 bits
        // (IPv6) (§2.6); 64-bit padding over IPv4 is accepted too.
        let ah = hdr.len();
        if ah != ah_len(x.icv_len, loc.version == 6) && ah != ah_len(x.icv_len, true) {
            return Err(DropReason::BadLength);
        }
        let seq = replay_precheck(sa, hdr.sequence_number)?;
        let icv_at = loc.ah_offset + AH_HEADER_LEN;
        let icv = packet
            .get(icv_at..icv_at + x.icv_len)
            .ok_or(DropReason::Truncated)?;
        let ah_end = loc.ah_offset + ah;
        let headers = packet.get(..ah_end).ok_or(DropReason::Truncated)?;
        let payload = packet.get(ah_end..).ok_or(DropReason::Truncated)?;
        // §3.4.4: the ICV over the headers with mutable fields zeroed (laid out in `out`,
        // which is scratch until verified), AH with the ICV field zeroed (padding as sent),
        // the payload, and the high half of an ESN (§3.3.3.2.2).
        out.extend_from_slice(headers);
        let scratch = out.get_mut(start..).ok_or(DropReason::CryptoFailure)?;
        zero_mutable(
            scratch
                .get_mut(..loc.ah_offset)
                .ok_or(DropReason::CryptoFailure)?,
        )
        .map_err(malformed)?;
        scratch
            .get_mut(icv_at..icv_at + x.icv_len)
            .ok_or(DropReason::CryptoFailure)?
            .fill(0);
        let hi = seq_high(seq);
        let tail: &[u8] = if x.esn { &hi } else { &[] };
        integ
            .verify(&[scratch, payload, tail], icv)
            .map_err(|_| DropReason::IcvFailure)?;
        out.truncate(start);
        let outer_tos = tos(packet);
        let ip_header = packet.get(..loc.ah_offset).ok_or(DropReason::Truncated)?;
        let verdict = self.ah_payload(
            sa.child_id,
            &loc,
            hdr.next_header,
            (ip_header, payload),
            outer_tos,
            out,
            start,
        );
        let (child, len) = self.accept(sa, hdr.spi, seq, verdict)?;
        let from = SocketAddr::new(source(packet, loc.version)?, 0);
        Ok(Inbound {
            child_id: child.id,
            spi: hdr.spi,
            seq,
            len,
            from,
            remote_changed: from.ip() != child.remote.ip(),
        })
    }

    /// Puts what AH protected in `out[start..]` and checks it as ESP's inner packets are
    /// (RFC 4301 §5.2). Tunnel mode (§3.1.2): the inner packet (`payload`, after AH), whose
    /// version must match Next Header. Transport mode (§3.1.1): `ip_header` (with its options
    /// or extension headers) then `payload`: the byte that named AH names `next_header`,
    /// lengths (and the IPv4 checksum) fixed.
    #[allow(clippy::too_many_arguments)]
    fn ah_payload(
        &self,
        child_id: u64,
        loc: &AhLocation,
        next_header: u8,
        (ip_header, payload): (&[u8], &[u8]),
        outer_tos: u8,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<(&Child, usize), DropReason> {
        let child = self
            .t
            .children
            .get(&child_id)
            .ok_or(DropReason::UnknownSpi)?;
        if next_header == NEXT_HEADER_NONE {
            return Err(DropReason::Dummy);
        }
        let want_version = match child.mode {
            Mode::Tunnel => {
                let v = match next_header {
                    NEXT_HEADER_IPV4 => 4,
                    NEXT_HEADER_IPV6 => 6,
                    _ => return Err(DropReason::BadNextHeader),
                };
                out.extend_from_slice(payload);
                v
            }
            Mode::Transport => {
                out.extend_from_slice(ip_header);
                out.extend_from_slice(payload);
                let len = loc.ah_offset + payload.len();
                let pkt = out.get_mut(start..).ok_or(DropReason::CryptoFailure)?;
                *pkt.get_mut(loc.next_header_at)
                    .ok_or(DropReason::Malformed)? = next_header;
                if loc.version == 4 {
                    let total = u16::try_from(len).map_err(|_| DropReason::Malformed)?;
                    pkt.get_mut(2..4)
                        .ok_or(DropReason::Malformed)?
                        .copy_from_slice(&total.to_be_bytes());
                    pkt.get_mut(10..12).ok_or(DropReason::Malformed)?.fill(0);
                    let ihl = loc.ah_offset.max(IPV4_HEADER_LEN);
                    let c = checksum(pkt.get(..ihl).ok_or(DropReason::Malformed)?);
                    pkt.get_mut(10..12)
                        .ok_or(DropReason::Malformed)?
                        .copy_from_slice(&c.to_be_bytes());
                } else {
                    let plen =
                        u16::try_from(len.saturating_sub(40)).map_err(|_| DropReason::Malformed)?;
                    pkt.get_mut(4..6)
                        .ok_or(DropReason::Malformed)?
                        .copy_from_slice(&plen.to_be_bytes());
                }
                loc.version
            }
        };
        self.packet_checks(child, want_version, outer_tos, out, start)
    }
}
