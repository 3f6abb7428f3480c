//! Rewriting of inner packets at the tunnel's edge: ECN and DSCP between inner and outer
//! headers (RFC 6040, RFC 2983), TCP MSS clamping, and Traffic Flow Confidentiality padding
//! (RFC 4303 §2.7). Checksums are fixed incrementally (RFC 1624 eqn. 3).
//!
//! Every function works on a packet the data plane already parsed (`wire::ip::SelectorFields`)
//! and reads every byte with `get`: a short or odd packet is left alone, never a panic.

use wire::ip::{Layer4, SelectorFields, IPPROTO_TCP};

use crate::DropReason;

/// ECN codepoints (RFC 3168 §5).
pub const NOT_ECT: u8 = 0b00;
/// ECT(1).
pub const ECT1: u8 = 0b01;
/// ECT(0).
pub const ECT0: u8 = 0b10;
/// Congestion Experienced.
pub const CE: u8 = 0b11;

/// The TOS / Traffic Class byte of an IP packet (DSCP << 2 | ECN), 0 when unreadable.
pub fn tos(packet: &[u8]) -> u8 {
    match (packet.first(), packet.get(1)) {
        (Some(b0), Some(_)) if b0 >> 4 == 4 => packet.get(1).copied().unwrap_or(0),
        (Some(b0), Some(b1)) if b0 >> 4 == 6 => ((b0 & 0x0f) << 4) | (b1 >> 4),
        _ => 0,
    }
}

/// The outer header's TOS / Traffic Class for an inner packet (RFC 6040 §4.1, normal mode:
/// the outer ECN field is a copy of the inner one; RFC 2983 §3 / RFC 4301 §5.1.2.1: DSCP
/// copied, or 0 when `copy_dscp` is off).
pub fn outer_tos(inner_tos: u8, copy_dscp: bool) -> u8 {
    let dscp = if copy_dscp { inner_tos & !0b11 } else { 0 };
    dscp | (inner_tos & 0b11)
}

/// RFC 6040 §4.2 (decapsulation, normal mode): the inner ECN field after decapsulation, or
/// `None` when the packet must be dropped (outer CE over an inner Not-ECT: the congestion
/// mark cannot be passed on).
pub fn decap_ecn(inner: u8, outer: u8) -> Option<u8> {
    match (inner & 0b11, outer & 0b11) {
        (NOT_ECT, CE) => None,
        (NOT_ECT, _) => Some(NOT_ECT),
        (_, CE) => Some(CE),
        (ECT0, ECT1) => Some(ECT1),
        (i, _) => Some(i),
    }
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changed.
fn csum_update(check: u16, old: u16, new: u16) -> u16 {
    let mut sum = u32::from(!check) + u32::from(!old) + u32::from(new);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn word(p: &[u8], at: usize) -> Option<u16> {
    match p.get(at..at.checked_add(2)?) {
        Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

fn set_word(p: &mut [u8], at: usize, v: u16) {
    if let Some(w) = at.checked_add(2).and_then(|end| p.get_mut(at..end)) {
        w.copy_from_slice(&v.to_be_bytes());
    }
}

/// Applies RFC 6040 decapsulation to the inner packet in place (`outer_tos` as received).
/// IPv4's header checksum is fixed incrementally.
pub fn apply_decap_ecn(packet: &mut [u8], outer_tos: u8) -> Result<(), DropReason> {
    let inner = tos(packet);
    let ecn = decap_ecn(inner, outer_tos).ok_or(DropReason::EcnDrop)?;
    if ecn == inner & 0b11 {
        return Ok(());
    }
    let new = (inner & !0b11) | ecn;
    match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let (Some(old_w), Some(check)) = (word(packet, 0), word(packet, 10)) else {
                return Ok(());
            };
            let new_w = (old_w & 0xff00) | u16::from(new);
            set_word(packet, 0, new_w);
            set_word(packet, 10, csum_update(check, old_w, new_w));
        }
        Some(6) => {
            if let Some(w) = word(packet, 0) {
                // Version (4 bits) | Traffic Class (8) | 4 bits of Flow Label.
                set_word(packet, 0, (w & 0xf00f) | (u16::from(new) << 4));
            }
        }
        _ => {}
    }
    Ok(())
}

/// TCP option kinds (RFC 9293 §3.1).
const TCP_OPT_END: u8 = 0;
const TCP_OPT_NOP: u8 = 1;
const TCP_OPT_MSS: u8 = 2;
const TCP_SYN: u8 = 0x02;

/// Whether `packet` (selector fields `f`) is a TCP segment with SYN set (RFC 9293 §3.1): the
/// only segments [`clamp_mss`] may rewrite.
pub fn is_tcp_syn(packet: &[u8], f: &SelectorFields) -> bool {
    f.next_proto == IPPROTO_TCP
        && matches!(f.l4, Layer4::Ports { .. })
        && f.l4_offset
            .checked_add(13)
            .and_then(|i| packet.get(i))
            .is_some_and(|flags| flags & TCP_SYN != 0)
}

/// Lowers the MSS option of a TCP SYN (or SYN-ACK) to `max_mss` (RFC 9293 §3.7.1: the MSS
/// bounds the segments the *sender of the SYN* receives, so both directions are clamped) and
/// fixes the TCP checksum incrementally. Returns whether it changed the packet. Anything that
/// is not an initial TCP SYN with a well-formed MSS option is left alone.
pub fn clamp_mss(packet: &mut [u8], f: &SelectorFields, max_mss: u16) -> bool {
    if f.next_proto != IPPROTO_TCP || !matches!(f.l4, Layer4::Ports { .. }) {
        return false;
    }
    let off = f.l4_offset;
    let Some(flags) = off.checked_add(13).and_then(|i| packet.get(i)) else {
        return false;
    };
    if flags & TCP_SYN == 0 {
        return false;
    }
    let Some(&doff) = off.checked_add(12).and_then(|i| packet.get(i)) else {
        return false;
    };
    let hdr_len = usize::from(doff >> 4) * 4;
    let Some(end) = off.checked_add(hdr_len) else {
        return false;
    };
    if hdr_len < 20 || end > packet.len().min(f.total_len) {
        return false;
    }
    let mut i = off + 20;
    while i < end {
        let kind = packet.get(i).copied().unwrap_or(TCP_OPT_END);
        match kind {
            TCP_OPT_END => return false,
            TCP_OPT_NOP => i += 1,
            _ => {
                let len = usize::from(packet.get(i + 1).copied().unwrap_or(0));
                if len < 2 || i + len > end {
                    return false;
                }
                if kind == TCP_OPT_MSS && len == 4 {
                    let (Some(mss), Some(check)) = (word(packet, i + 2), word(packet, off + 16))
                    else {
                        return false;
                    };
                    if mss <= max_mss {
                        return false;
                    }
                    set_word(packet, i + 2, max_mss);
                    // The checksum sums 16-bit words from the TCP header's start (`off` is a
                    // multiple of 4); NOPs may put the value across two words.
                    let rel = i + 2 - off;
                    if rel % 2 == 0 {
                        set_word(packet, off + 16, csum_update(check, mss, max_mss));
                    } else {
                        // Words [length byte, high byte] and [low byte, next byte].
                        let (a0, a1) = ((mss >> 8) as u8, mss as u8);
                        let (b0, b1) = ((max_mss >> 8) as u8, max_mss as u8);
                        let prev = packet.get(i + 1).copied().unwrap_or(0);
                        let next = packet.get(i + 4).copied().unwrap_or(0);
                        let c = csum_update(
                            check,
                            u16::from_be_bytes([prev, a0]),
                            u16::from_be_bytes([prev, b0]),
                        );
                        let c = csum_update(
                            c,
                            u16::from_be_bytes([a1, next]),
                            u16::from_be_bytes([b1, next]),
                        );
                        set_word(packet, off + 16, c);
                    }
                    return true;
                }
                i += len;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::ip::{checksum_finish, checksum_sum, selector_fields};

    /// IPv4 TCP SYN 203.0.113.10:40000 → 198.51.100.10:443 with options `opts`, checksums
    /// computed from scratch (RFC 9293 §3.1 pseudo-header).
    fn syn4(opts: &[u8], flags: u8, tos: u8) -> Vec<u8> {
        let tcp_len = 20 + opts.len();
        let mut p = vec![0u8; 20 + tcp_len];
        wire::ip::Ipv4Repr {
            src_addr: [203, 0, 113, 10].into(),
            dst_addr: [198, 51, 100, 10].into(),
            protocol: 6,
            ttl: 64,
            dscp_ecn: tos,
            identification: 1,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            payload_len: tcp_len,
        }
        .emit(&mut p)
        .unwrap();
        let t = &mut p[20..];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&443u16.to_be_bytes());
        t[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        t[12] = ((tcp_len / 4) as u8) << 4;
        t[13] = flags;
        t[14..16].copy_from_slice(&64240u16.to_be_bytes());
        t[20..].copy_from_slice(opts);
        let c = tcp_checksum(&p);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }

    fn tcp_checksum(p: &[u8]) -> u16 {
        let mut q = p.to_vec();
        q[36..38].copy_from_slice(&[0, 0]);
        let tcp = &q[20..];
        let mut sum = checksum_sum(&q[12..20]) + 6 + tcp.len() as u64;
        sum += checksum_sum(tcp);
        checksum_finish(sum)
    }

    #[test]
    fn mss_lowered_and_checksum_fixed() {
        // MSS 1460, NOP NOP, SACK permitted... (aligned), then MSS after one NOP (odd offset).
        for opts in [
            vec![2, 4, 0x05, 0xb4, 1, 1, 4, 2],
            vec![1, 2, 4, 0x05, 0xb4, 1, 1, 0],
            vec![1, 1, 1, 2, 4, 0x05, 0xb4, 0],
        ] {
            for flags in [0x02, 0x12] {
                let mut p = syn4(&opts, flags, 0);
                let f = selector_fields(&p).unwrap();
                assert!(clamp_mss(&mut p, &f, 1360), "{opts:?}");
                let at = 20 + 20 + opts.iter().position(|&b| b == 2).unwrap();
                assert_eq!(&p[at + 2..at + 4], &1360u16.to_be_bytes());
                let want = tcp_checksum(&p);
                assert_eq!(&p[36..38], &want.to_be_bytes(), "{opts:?}");
                // Already small enough: untouched.
                let before = p.clone();
                assert!(!clamp_mss(&mut p, &f, 1400));
                assert_eq!(p, before);
            }
        }
        // Not a SYN, or no MSS option, or a malformed option: untouched.
        let mut p = syn4(&[2, 4, 0x05, 0xb4], 0x10, 0);
        let f = selector_fields(&p).unwrap();
        assert!(!clamp_mss(&mut p, &f, 1000));
        for opts in [
            vec![1, 1, 1, 1],
            vec![3, 0, 0, 0],
            vec![2, 9, 5, 0xb4],
            vec![0, 2, 4, 5],
        ] {
            let mut p = syn4(&opts, 0x02, 0);
            let f = selector_fields(&p).unwrap();
            let before = p.clone();
            assert!(!clamp_mss(&mut p, &f, 1000), "{opts:?}");
            assert_eq!(p, before);
        }
    }

    #[test]
    fn ecn_decapsulation_table() {
        // RFC 6040 §4.2, Figure 4 (normal mode): rows = arriving inner, columns = arriving
        // outer, both in the order Not-ECT, ECT(0), ECT(1), CE; `None` = drop.
        let cps = [NOT_ECT, ECT0, ECT1, CE];
        let table = [
            [Some(NOT_ECT), Some(NOT_ECT), Some(NOT_ECT), None],
            [Some(ECT0), Some(ECT0), Some(ECT1), Some(CE)],
            [Some(ECT1), Some(ECT1), Some(ECT1), Some(CE)],
            [Some(CE), Some(CE), Some(CE), Some(CE)],
        ];
        for (i, row) in table.iter().enumerate() {
            for (o, want) in row.iter().enumerate() {
                assert_eq!(decap_ecn(cps[i], cps[o]), *want, "inner {i} outer {o}");
            }
        }
        // In place: IPv4 ECT(0) + outer CE → CE, header checksum still valid.
        let mut p = syn4(&[1, 1, 1, 1], 0x02, 0xb8 | ECT0);
        apply_decap_ecn(&mut p, CE).unwrap();
        assert_eq!(p[1], 0xb8 | CE);
        assert_eq!(wire::ip::checksum(&p[..20]), 0);
        let mut p = syn4(&[1, 1, 1, 1], 0x02, 0xb8);
        assert_eq!(apply_decap_ecn(&mut p, CE), Err(DropReason::EcnDrop));
        // IPv6: Traffic Class spans the first two bytes.
        let mut v6 = vec![0x6b, 0x81, 0x23, 0x45];
        v6.resize(40, 0);
        assert_eq!(tos(&v6), 0xb8);
        apply_decap_ecn(&mut v6, CE).unwrap_err();
        v6[1] = 0xa1; // TC 0xba = DSCP 46, ECT(0)
        apply_decap_ecn(&mut v6, CE).unwrap();
        assert_eq!((tos(&v6), v6[0] & 0xf0, v6[1] & 0x0f), (0xbb, 0x60, 0x01));
    }

    #[test]
    fn outer_tos_copies_ecn_and_optionally_dscp() {
        assert_eq!(outer_tos(0xb8 | ECT0, true), 0xb8 | ECT0);
        assert_eq!(outer_tos(0xb8 | ECT0, false), ECT0);
        assert_eq!(outer_tos(0xb8 | CE, true), 0xb8 | CE);
    }
}
