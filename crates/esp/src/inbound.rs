//! Inbound processing (RFC 4301 §5.2, RFC 4303 §3.4): SAD lookup by SPI, anti-replay pre-check,
//! ICV verification and decryption in the caller's buffer, window update, trailer and Next
//! Header checks, then the inner packet against the SA's selectors. AH (`ah_in.rs`) shares
//! the replay window, the window update and the checks of the inner packet.

use std::net::SocketAddr;

use crypto::CryptoError;
use wire::esp::{parse_trailer, EspHeader, ESP_HEADER_LEN};
use wire::esp::{NEXT_HEADER_IPV4, NEXT_HEADER_IPV6, NEXT_HEADER_NONE};
use wire::ip::{
    selector_fields, Layer4, SelectorFields, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP,
};

use crate::dataplane::Child;
use crate::edge::{apply_decap_ecn, clamp_mss};
use crate::lifetime::Direction;
use crate::replay::{ReplayCheck, ReplayWindow};
use crate::sa::InboundSa;
use crate::spd::{inbound_matches, outbound_matches};
use crate::transport;
use crate::{DataPlane, DropReason, Mode, SecurityProtocol, Snapshot};

/// What `decapsulate` accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inbound {
    /// The child the SA belongs to.
    pub child_id: u64,
    /// The SA's SPI (tells an old SA from a new one during a rekey).
    pub spi: u32,
    /// The packet's sequence number (with ESN the full 64 bits, inferred, RFC 4303 Appendix A).
    pub seq: u64,
    /// Length of the inner IP packet now in `out`.
    pub len: usize,
    /// Where the packet came from (as given by the caller; for AH the packet's source
    /// address, port 0).
    pub from: SocketAddr,
    /// True when `from` is not the child's current remote address (port included when
    /// encapsulating). The data plane does not act on it: the IKE engine decides whether the
    /// NAT mapping moved and calls `update_peer`.
    pub remote_changed: bool,
}

impl DataPlane {
    /// Opens one ESP packet (for ESP-in-UDP: the UDP payload that [`wire::natt::classify`]
    /// called `Esp`; for raw ESP: the IP payload). On success `out` holds exactly the inner IP
    /// packet, to be written to the TUN device. On a drop `out` is empty and the reason is
    /// counted.
    ///
    /// `out` is cleared first and only grows when its capacity is too small: reuse one buffer.
    /// For a batch of packets, [`DataPlane::snapshot`] once and call
    /// [`Snapshot::decapsulate_append`].
    pub fn decapsulate(
        &self,
        esp: &[u8],
        from: SocketAddr,
        out: &mut Vec<u8>,
    ) -> Result<Inbound, DropReason> {
        out.clear();
        self.snapshot().decapsulate_append(esp, from, out)
    }
}

impl Snapshot<'_> {
    /// Like [`DataPlane::decapsulate`], but appends the inner packet to `out` after what is
    /// already there (e.g. room for a TUN offload header). On a drop `out` is truncated back to
    /// its length at the call: no unauthenticated or rejected plaintext is left in it.
    pub fn decapsulate_append(
        &self,
        esp: &[u8],
        from: SocketAddr,
        out: &mut Vec<u8>,
    ) -> Result<Inbound, DropReason> {
        self.decapsulate_append_tos(esp, from, 0, out)
    }

    /// Like [`Snapshot::decapsulate_append`], with the outer packet's TOS / Traffic Class as
    /// received (IP_RECVTOS / IPV6_RECVTCLASS), whose ECN field is combined into the inner
    /// packet per RFC 6040 §4.2 (normal mode). `decapsulate_append` passes 0 (Not-ECT:
    /// the inner packet's ECN field is kept).
    pub fn decapsulate_append_tos(
        &self,
        esp: &[u8],
        from: SocketAddr,
        outer_tos: u8,
        out: &mut Vec<u8>,
    ) -> Result<Inbound, DropReason> {
        let start = out.len();
        let r = self.decapsulate_inner(esp, from, outer_tos, out, start);
        if let Err(reason) = r {
            out.truncate(start);
            self.dp.drops.bump(reason);
        }
        r
    }

    fn decapsulate_inner(
        &self,
        esp: &[u8],
        from: SocketAddr,
        outer_tos: u8,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<Inbound, DropReason> {
        let hdr = EspHeader::parse(esp).map_err(|_| DropReason::Truncated)?;
        // RFC 4303 §3.4.2: no SA, drop (and, with our no-log rule, only count).
        let sa = self.t.sad.get(&hdr.spi).ok_or(DropReason::UnknownSpi)?;
        let x = &sa.xform;
        // RFC 4301 §4.4.2: the SAD is searched by SPI and protocol.
        if x.protocol != SecurityProtocol::Esp {
            return Err(DropReason::UnknownSpi);
        }
        let aad = esp.get(..ESP_HEADER_LEN).ok_or(DropReason::Truncated)?;
        let body = esp.get(ESP_HEADER_LEN..).ok_or(DropReason::Truncated)?;
        let ct_len = body
            .len()
            .checked_sub(x.iv_len + x.icv_len)
            .ok_or(DropReason::Truncated)?;
        // The smallest ciphertext holds Pad Length and Next Header, aligned (RFC 4303 §2.4).
        let align = x.align();
        if ct_len < align {
            return Err(DropReason::Truncated);
        }
        if !x.is_aligned(ct_len) {
            return Err(DropReason::BadLength);
        }
        let seq = replay_precheck(sa, hdr.sequence_number)?;
        let (iv, rest) = body
            .split_at_checked(x.iv_len)
            .ok_or(DropReason::Truncated)?;
        let (ct, icv) = rest.split_at_checked(ct_len).ok_or(DropReason::Truncated)?;
        // Decrypted straight into `out` (no copy of the ciphertext first).
        out.resize(start + ct_len, 0);
        let plain = out.get_mut(start..).ok_or(DropReason::CryptoFailure)?;
        x.protect
            .open_to(aad, seq, iv, (ct, icv), plain)
            .map_err(|e| match e {
                CryptoError::IntegrityCheckFailed => DropReason::IcvFailure,
                _ => DropReason::CryptoFailure,
            })?;
        // The checks of the authenticated plaintext (RFC 4303 §2.4, §2.6, RFC 4301 §5.2).
        let verdict = self.inner_checks(sa.child_id, outer_tos, out, start);
        let (child, len) = self.accept(sa, hdr.spi, seq, verdict)?;
        let remote_changed = if child.encap {
            from != child.remote
        } else {
            from.ip() != child.remote.ip()
        };
        Ok(Inbound {
            child_id: child.id,
            spi: hdr.spi,
            seq,
            len,
            from,
            remote_changed,
        })
    }

    /// After the ICV of packet `seq` on `sa` (SPI `spi`) verified: RFC 4303 §3.4.3 /
    /// RFC 4302 §3.4.3, the window moves for every such packet, whatever the checks of its
    /// content found (`verdict`). Checked again under the lock: another worker may have
    /// accepted the same number meanwhile. The accepted traffic is counted under the same
    /// lock, and checked against the SA's lifetime (RFC 4301 §4.4.2.1); crossed limits raise
    /// their events.
    #[inline]
    pub(crate) fn accept<'s>(
        &'s self,
        sa: &InboundSa,
        spi: u32,
        seq: u64,
        verdict: Result<(&'s Child, usize), DropReason>,
    ) -> Result<(&'s Child, usize), DropReason> {
        let mut raised = [None; 2];
        let verdict = {
            let mut st = sa.state();
            if st.window.check(seq) != ReplayCheck::Fresh {
                return Err(DropReason::Replay);
            }
            st.window.update(seq);
            sa.publish_top(&st);
            match verdict {
                Ok(_) if !st.limits.allows(st.packets, st.bytes) => {
                    Err(DropReason::LifetimeExpired)
                }
                Ok((child, len)) => {
                    let mut i = 0;
                    st.limits.crossed(st.packets, st.bytes, len as u64, |k, c| {
                        if let Some(slot) = raised.get_mut(i) {
                            *slot = Some((k, c));
                        }
                        i += 1;
                    });
                    st.packets += 1;
                    st.bytes += len as u64;
                    Ok((child, len))
                }
                Err(e) => Err(e),
            }
        };
        for (kind, cause) in raised.into_iter().flatten() {
            self.dp
                .raise(sa.child_id, spi, Direction::Inbound, kind, cause);
        }
        verdict
    }

    /// Trailer, Next Header, inner packet and selectors of the opened plaintext at
    /// `out[start..]`; on success trims `out` to the inner packet and returns its child and
    /// length.
    fn inner_checks(
        &self,
        child_id: u64,
        outer_tos: u8,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<(&Child, usize), DropReason> {
        let plain = out.get(start..).ok_or(DropReason::CryptoFailure)?;
        let trailer = parse_trailer(plain).map_err(|_| DropReason::BadPadding)?;
        let child = self
            .t
            .children
            .get(&child_id)
            .ok_or(DropReason::UnknownSpi)?;
        let want_version = match (child.mode, trailer.next_header) {
            (_, NEXT_HEADER_NONE) => return Err(DropReason::Dummy),
            (Mode::Tunnel, NEXT_HEADER_IPV4) => 4,
            (Mode::Tunnel, NEXT_HEADER_IPV6) => 6,
            (Mode::Tunnel, _) => return Err(DropReason::BadNextHeader),
            // RFC 4303 §3.1.1: the payload follows an IP header we rebuild from the SA's
            // addresses (the packet's own in transport mode), with the outer TOS.
            (Mode::Transport, nh) => {
                out.truncate(start + trailer.payload_len);
                transport::rebuild(
                    out,
                    start,
                    nh,
                    child.remote.ip(),
                    child.local.ip(),
                    outer_tos,
                    child.encap,
                )?;
                if child.local.is_ipv4() {
                    4
                } else {
                    6
                }
            }
        };
        if child.mode == Mode::Tunnel {
            out.truncate(start + trailer.payload_len);
        }
        self.packet_checks(child, want_version, outer_tos, out, start)
    }

    /// The checks of the packet at `out[start..]` that came out of `child`'s tunnel (the inner
    /// packet, or in transport mode the packet rebuilt around the payload), whose Next Header
    /// said IP version `want_version`: a well-formed IP packet (trimmed to its own length),
    /// within the child's selectors (RFC 4301 §5.2 step 4, ICMP errors by their quote,
    /// §6.2.2); in tunnel mode ECN combined with the outer TOS (RFC 6040) and TCP SYNs'
    /// MSS clamped. Returns the child and the packet's length.
    #[inline]
    pub(crate) fn packet_checks<'s>(
        &'s self,
        child: &'s Child,
        want_version: u8,
        outer_tos: u8,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<(&'s Child, usize), DropReason> {
        let plain = out.get(start..).ok_or(DropReason::CryptoFailure)?;
        let f = selector_fields(plain).map_err(|_| DropReason::Malformed)?;
        if f.version() != want_version {
            return Err(DropReason::BadNextHeader);
        }
        // Drop TFC padding after the inner packet (RFC 4303 §2.7).
        out.truncate(start + f.total_len);
        // RFC 4301 §5.2 step 4: the inner packet must be one this SA may carry. An ICMP error
        // is judged by the packet it quotes instead (RFC 4301 §6.2.2: it reports on traffic
        // we sent through this SA, from whichever router on the path).
        let plain = out.get(start..).ok_or(DropReason::CryptoFailure)?;
        let allowed = match icmp_error_quote(&f, plain) {
            Some(quoted) => wire::icmp::embedded_fields(quoted)
                .is_ok_and(|q| outbound_matches(&q, &child.local_ts, &child.remote_ts)),
            None => inbound_matches(&f, &child.local_ts, &child.remote_ts),
        };
        if !allowed {
            return Err(DropReason::SelectorMismatch);
        }
        let plain = out.get_mut(start..).ok_or(DropReason::CryptoFailure)?;
        if child.mode == Mode::Transport {
            // The rebuilt header already carries the outer TOS: nothing to combine or clamp.
            return Ok((child, out.len().saturating_sub(start)));
        }
        apply_decap_ecn(plain, outer_tos)?;
        if child.options.clamp_mss && f.next_proto == IPPROTO_TCP {
            clamp_mss(plain, &f, child.mss(f.version()));
        }
        Ok((child, out.len().saturating_sub(start)))
    }
}

/// RFC 4303 §3.4.3 / RFC 4302 §3.4.3: rejects duplicates and old packets before spending the
/// ICV; returns the full sequence number. With ESN the high half is inferred from the window
/// (RFC 4303 Appendix A2.2) and then covered by the ICV: a wrong guess fails integrity, it
/// never shifts the window.
#[inline]
pub(crate) fn replay_precheck(sa: &InboundSa, low: u32) -> Result<u64, DropReason> {
    // In-order traffic: a number above the top is fresh without the bitmap, so without the
    // lock (the top read may lag; the check after the ICV is exact, `Snapshot::accept`).
    // Sequence number 0 is never above it.
    let top = sa.top_hint();
    let seq = if sa.xform.esn {
        ReplayWindow::infer_at(top, sa.window_size, low)
    } else {
        Some(u64::from(low))
    };
    if let Some(seq) = seq.filter(|s| *s > top) {
        return Ok(seq);
    }
    let st = sa.state();
    let seq = if sa.xform.esn {
        st.window.infer(low).ok_or(DropReason::Replay)?
    } else {
        u64::from(low)
    };
    if st.window.check(seq) != ReplayCheck::Fresh {
        return Err(DropReason::Replay);
    }
    Ok(seq)
}

/// When `packet` (selector fields `f`) is an ICMP or ICMPv6 error message, the packet it
/// quotes (after the 8-byte ICMP header).
pub(crate) fn icmp_error_quote<'a>(f: &SelectorFields, packet: &'a [u8]) -> Option<&'a [u8]> {
    let icmp_type = match (f.next_proto, f.l4) {
        (IPPROTO_ICMP | IPPROTO_ICMPV6, Layer4::Icmp { icmp_type, .. }) => icmp_type,
        _ => return None,
    };
    if !wire::icmp::is_error(f.version(), icmp_type) {
        return None;
    }
    packet.get(f.l4_offset.checked_add(8)?..f.total_len)
}
