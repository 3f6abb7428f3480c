//! Fuzz target: arbitrary bytes into `esp::DataPlane::decapsulate` (ESP) or
//! `esp::Snapshot::decapsulate_ah_append` (AH, RFC 4302) with one SA installed.
//!
//! The first input byte picks how the rest is used, so that the fuzzer reaches every stage:
//! - bits 0–1: the SA's suite (aes128gcm16, aes256gcm16, aes128-sha256, or 3: an AH SA with
//!   HMAC-SHA2-256-128, see "AH" below);
//! - bit 4: the SA uses Extended Sequence Numbers (RFC 4304): high half inferred from the
//!   window, covered by the ICV (AEAD: 12-byte AAD, RFC 4106 §5; HMAC: appended, RFC 4303
//!   §3.3.2.1); sealed packets use high half 0, what a fresh window infers;
//! - bit 5: the outer header arrived marked CE (RFC 6040 decapsulation rewrites the inner ECN
//!   field or drops the packet), so only lengths are compared;
//! - bit 6: the SA is in transport mode (RFC 4303 §3.1.1): any Next Header is a payload
//!   protocol and an IPv4 header is rebuilt in front of the payload (20 bytes); with bit 7 as
//!   well the SA is UDP-encapsulated and a TCP/UDP checksum is recomputed (RFC 3948 §3.1.2),
//!   so only lengths are compared;
//! - bit 2 ("seal"): bytes 1..5 are a sequence number and the rest is ESP *plaintext*
//!   (`inner | padding | Pad Length | Next Header`, zero-extended to the cipher's alignment),
//!   sealed here with the SA's keys, so trailer parsing, Next Header and the inner-packet and
//!   selector checks see arbitrary data behind a valid ICV;
//! - otherwise the rest is fed as received, with bit 3 overwriting its first four bytes with
//!   the SA's SPI so that lookups succeed and ICV/replay/length paths are exercised.
//!
//!
//! AH (suite 3; bits 4, 5, 6 as above, bit 7 ignored: AH is never UDP-encapsulated):
//! - bit 2 ("seal"): bytes 1..5 are a sequence number, byte 5 picks the outer header (bit 0:
//!   IPv6; bits 1–4: `n`, at most 10 for IPv4; bits 5–6, IPv6: an extension header before AH, none / Hop-by-Hop /
//!   Destination Options / Routing), byte 6 is AH's Next Header, then `n` × 4 bytes of IPv4
//!   options or `n` × 8 bytes of extension header (its Next Header and length set here, its
//!   options arbitrary), then the payload. The packet is signed here (mutable fields zeroed
//!   with `wire::ah::zero_mutable`; headers it refuses must be refused by the data plane too),
//!   so the walk, the ICV and the inner-packet checks see arbitrary data behind a valid ICV.
//! - otherwise the rest is a whole received IP packet, with bit 3 writing the SA's SPI where
//!   `wire::ah::locate` finds AH.
//!
//! Checked properties (tunnel and transport mode, ESP and AH): no panic; raw input never
//! passes (no forged ICV); accepted output is a prefix of the sealed plaintext (AH transport:
//! the header without AH, then the payload); `out` is empty after every drop.
#![no_main]

use crypto::cipher::AesCbc;
use crypto::{Cipher, EncrAlg, EncrId, Integ, IntegId, SecretBytes};
use esp::{ChildSaConfig, DataPlane, Mode, SaKeys, SecurityProtocol};
use libfuzzer_sys::fuzz_target;

const SPI: u32 = 0xc0ff_ee01;

/// Suite 3: AH with HMAC-SHA2-256-128 (ENCR_NULL, no key).
fn is_ah(suite: u8) -> bool {
    suite & 3 == 3
}

fn keys(suite: u8, spi: u32) -> SaKeys {
    if is_ah(suite) {
        return SaKeys {
            spi,
            encr: EncrAlg {
                id: EncrId::Null,
                key_bits: None,
            },
            integ: Some(IntegId::HmacSha2_256_128),
            encr_key: SecretBytes::default(),
            integ_key: SecretBytes::new((0..32).map(|i| i as u8 ^ 0x3c).collect()),
        };
    }
    let (encr, integ) = match suite & 3 {
        0 => (EncrId::AesGcm16, None),
        2 => (EncrId::AesCbc, Some(IntegId::HmacSha2_256_128)),
        _ => (EncrId::AesGcm16, None),
    };
    let bits = if suite & 3 == 1 || suite & 3 == 3 {
        256
    } else {
        128
    };
    let encr = EncrAlg {
        id: encr,
        key_bits: Some(bits),
    };
    let el = Cipher::encr_keymat_len(encr).unwrap_or(0);
    let il = integ.map_or(0, |i| Cipher::integ_key_len(i).unwrap_or(0));
    SaKeys {
        spi,
        encr,
        integ,
        encr_key: SecretBytes::new((0..el).map(|i| i as u8 ^ 0x5a).collect()),
        integ_key: SecretBytes::new((0..il).map(|i| i as u8 ^ 0xa5).collect()),
    }
}

fn data_plane(suite: u8) -> Option<DataPlane> {
    let d = DataPlane::with_rng(Box::new(crypto::DeterministicRandom::new(0)));
    d.install_child(ChildSaConfig {
        id: 1,
        mode: if suite & 64 != 0 {
            Mode::Transport
        } else {
            Mode::Tunnel
        },
        protocol: if is_ah(suite) {
            SecurityProtocol::Ah
        } else {
            SecurityProtocol::Esp
        },
        local_ts: vec!["0.0.0.0/0".parse().ok()?, "::/0".parse().ok()?],
        remote_ts: vec![
            "198.51.100.0/24".parse().ok()?,
            "192.0.2.2/32".parse().ok()?,
            "2001:db8::/32[udp/1000-2000]".parse().ok()?,
        ],
        local: "192.0.2.1:4500".parse().ok()?,
        remote: "192.0.2.2:4500".parse().ok()?,
        // Tunnel mode: always (as before); transport mode: bit 7. Never for AH.
        encap: !is_ah(suite) && (suite & 64 == 0 || suite & 128 != 0),
        inbound: keys(suite, SPI),
        outbound: keys(suite, 0x1000),
        replay_window: 64,
        esn: suite & 16 != 0,
        lifetime: esp::Lifetime::default(),
        // No MSS clamping: accepted output must be exactly the sealed inner packet.
        options: esp::TunnelOptions {
            clamp_mss: false,
            ..esp::TunnelOptions::default()
        },
    })
    .ok()?;
    Some(d)
}

/// `SPI | seq | IV | seal(plaintext) | ICV`, as a peer holding the keys would send it (with
/// ESN: high half 0 in the AAD / ICV).
fn seal(k: &SaKeys, seq: u32, plaintext: &[u8], esn: bool) -> Option<Vec<u8>> {
    let c = Cipher::new(
        k.encr,
        k.integ,
        k.encr_key.as_slice(),
        k.integ_key.as_slice(),
    )
    .ok()?;
    let align = wire::esp::alignment(c.block_len());
    let mut buf = plaintext.to_vec();
    buf.resize(plaintext.len().div_ceil(align).max(1) * align, 0);
    let mut pkt = Vec::new();
    pkt.extend_from_slice(&k.spi.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    let mut iv = vec![0u8; c.iv_len()];
    let n = iv.len();
    iv[n.saturating_sub(8)..].copy_from_slice(&u64::from(seq).to_be_bytes()[8 - n.min(8)..]);
    let mut icv = vec![0u8; c.icv_len()];
    match (esn, k.integ) {
        (false, _) => c.seal(&pkt, &iv, &mut buf, &mut icv).ok()?,
        (true, None) => {
            let mut aad = pkt[..4].to_vec();
            aad.extend_from_slice(&u64::from(seq).to_be_bytes());
            c.seal(&aad, &iv, &mut buf, &mut icv).ok()?
        }
        (true, Some(integ)) => {
            AesCbc::new(k.encr, k.encr_key.as_slice())
                .ok()?
                .encrypt(&iv, &mut buf)
                .ok()?;
            Integ::new(integ, k.integ_key.as_slice())
                .ok()?
                .sign(&[&pkt, &iv, &buf, &[0u8; 4]], &mut icv)
                .ok()?
        }
    }
    pkt.extend_from_slice(&iv);
    pkt.extend_from_slice(&buf);
    pkt.extend_from_slice(&icv);
    Some(pkt)
}

/// The IPv4 header checksum of `h`.
fn ip_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An AH packet signed with the SA's key: (packet, length of the IP header before AH,
/// payload), or `None` when the input is too short or the sizes do not fit. `Err(packet)`
/// when `wire::ah::zero_mutable` refuses the headers (the data plane must refuse it too).
#[allow(clippy::type_complexity)]
fn seal_ah(rest: &[u8], esn: bool, tos: u8) -> Option<Result<(Vec<u8>, usize, Vec<u8>), Vec<u8>>> {
    let (seq, rest) = rest.split_first_chunk::<4>()?;
    let (&ctl, rest) = rest.split_first()?;
    let (&nh, rest) = rest.split_first()?;
    let v6 = ctl & 1 != 0;
    let n = usize::from((ctl >> 1) & 15);
    let ext = (ctl >> 5) & 3;
    let unit = if v6 { 8 } else { 4 };
    // IPv4: at most 40 bytes of options (IHL 15); IPv6: no extension header, no bytes.
    let n = match (v6, ext) {
        (true, 0) => 0,
        (true, _) => n,
        (false, _) => n.min(10),
    };
    let extra = rest.get(..n * unit)?;
    let payload = rest.get(n * unit..)?.to_vec();
    let ah_len = if v6 { 32 } else { 28 };
    let mut p = Vec::new();
    if v6 {
        let ext_type = [0u8, 0, 60, 43][usize::from(ext)];
        let first = if n == 0 { 51 } else { ext_type };
        let plen = u16::try_from(n * 8 + ah_len + payload.len()).ok()?;
        p.extend_from_slice(&(0x6000_0000u32 | (u32::from(tos) << 20) | 0x1_2345).to_be_bytes());
        p.extend_from_slice(&plen.to_be_bytes());
        p.extend_from_slice(&[first, 7]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        if n > 0 {
            let at = p.len();
            p.extend_from_slice(extra);
            p[at] = 51;
            p[at + 1] = (n - 1) as u8;
        }
    } else {
        let hl = 20 + n * 4;
        let total = u16::try_from(hl + ah_len + payload.len()).ok()?;
        p.extend_from_slice(&[0x40 | (5 + n as u8), tos]);
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0x12, 0x34, 0x40, 0, 9, 51, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1]);
        p.extend_from_slice(extra);
        let c = ip_checksum(&p[..hl]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
    }
    let hdr_len = p.len();
    p.extend_from_slice(&[nh, (ah_len / 4 - 2) as u8, 0, 0]);
    p.extend_from_slice(&SPI.to_be_bytes());
    p.extend_from_slice(seq);
    p.resize(hdr_len + ah_len, 0);
    p.extend_from_slice(&payload);
    let mut zeroed = p[..hdr_len + ah_len].to_vec();
    if wire::ah::zero_mutable(&mut zeroed[..hdr_len]).is_err() {
        return Some(Err(p));
    }
    let k = keys(3, SPI);
    let integ = Integ::new(IntegId::HmacSha2_256_128, k.integ_key.as_slice()).ok()?;
    let tail: &[u8] = if esn { &[0; 4] } else { &[] };
    let mut icv = [0u8; 16];
    integ.sign(&[&zeroed, &payload, tail], &mut icv).ok()?;
    p[hdr_len + 12..hdr_len + 28].copy_from_slice(&icv);
    Some(Ok((p, hdr_len, payload)))
}

/// The AH half of the target (suite 3).
fn ah_case(d: &DataPlane, mode: u8, rest: &[u8]) {
    let mut out = Vec::with_capacity(2048);
    let s = d.snapshot();
    if mode & 4 != 0 {
        let tos = if mode & 32 != 0 { 0b11 } else { 0 };
        let Some(sealed) = seal_ah(rest, mode & 16 != 0, tos) else {
            return;
        };
        let (pkt, hdr_len, payload) = match sealed {
            Ok(x) => x,
            Err(pkt) => {
                assert!(s.decapsulate_ah_append(&pkt, &mut out).is_err());
                assert!(out.is_empty());
                return;
            }
        };
        match s.decapsulate_ah_append(&pkt, &mut out) {
            Ok(inb) => {
                assert_eq!(inb.len, out.len());
                if mode & 64 != 0 {
                    // Transport: the IP header (lengths fixed) then exactly the payload.
                    assert_eq!(out.len(), hdr_len + payload.len());
                    assert!(out.ends_with(&payload), "output is not the payload");
                } else if tos == 0 {
                    assert!(payload.starts_with(&out), "output is not the inner packet");
                } else {
                    assert!(out.len() <= payload.len());
                }
            }
            Err(_) => {
                assert!(out.is_empty());
                assert_eq!(d.drop_counters().total(), 1);
            }
        }
    } else {
        let mut pkt = rest.to_vec();
        if mode & 8 != 0 {
            if let Ok(loc) = wire::ah::locate(&pkt) {
                if let Some(spi) = pkt.get_mut(loc.ah_offset + 4..loc.ah_offset + 8) {
                    spi.copy_from_slice(&SPI.to_be_bytes());
                }
            }
        }
        assert!(
            s.decapsulate_ah_append(&pkt, &mut out).is_err(),
            "unauthenticated input accepted"
        );
        assert!(out.is_empty());
        let _ = s.decapsulate_ah_append(&pkt, &mut out);
        // An ESP lookup of the AH SA's SPI never opens it either.
        assert!(d
            .decapsulate(&pkt, "192.0.2.2:4500".parse().expect("literal"), &mut out)
            .is_err());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some(d) = data_plane(mode) else {
        return;
    };
    if is_ah(mode) {
        ah_case(&d, mode, rest);
        return;
    }
    let from = "192.0.2.2:4500".parse().expect("literal address");
    let mut out = Vec::with_capacity(2048);
    if mode & 4 != 0 {
        let (seq, plaintext) = match rest.split_first_chunk::<4>() {
            Some((s, p)) => (u32::from_be_bytes(*s), p),
            None => return,
        };
        let Some(pkt) = seal(&keys(mode, SPI), seq, plaintext, mode & 16 != 0) else {
            return;
        };
        let outer_tos = if mode & 32 != 0 { 0b11 } else { 0 };
        out.clear();
        match d
            .snapshot()
            .decapsulate_append_tos(&pkt, from, outer_tos, &mut out)
        {
            Ok(inb) => {
                assert_eq!(inb.len, out.len());
                if mode & 64 != 0 {
                    // Transport: a 20-byte IPv4 header, then (a prefix of) the sealed payload
                    // (the plaintext zero-extended to the alignment, as `seal` did).
                    let body = out.get(20..).unwrap_or_default();
                    let mut sealed = plaintext.to_vec();
                    sealed.resize(plaintext.len().max(body.len()), 0);
                    assert!(out.len() >= 20 && body.len() <= plaintext.len() + 16);
                    if mode & 128 == 0 {
                        assert!(sealed.starts_with(body), "output is not the payload");
                    }
                } else if outer_tos == 0 {
                    assert!(
                        plaintext.starts_with(&out),
                        "output is not the sealed inner packet"
                    );
                } else {
                    assert!(out.len() <= plaintext.len());
                }
            }
            Err(_) => {
                assert!(out.is_empty());
                assert_eq!(d.drop_counters().total(), 1);
            }
        }
    } else {
        let mut pkt = rest.to_vec();
        if mode & 8 != 0 {
            if let Some(spi) = pkt.get_mut(..4) {
                spi.copy_from_slice(&SPI.to_be_bytes());
            }
        }
        let r = d.decapsulate(&pkt, from, &mut out);
        assert!(r.is_err(), "unauthenticated input accepted");
        assert!(out.is_empty());
        // The same input twice must not panic either (replay state after a drop).
        let _ = d.decapsulate(&pkt, from, &mut out);
    }
});
