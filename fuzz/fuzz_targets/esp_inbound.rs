//! Fuzz target: arbitrary bytes into `esp::DataPlane::decapsulate` with one SA installed.
//!
//! The first input byte picks how the rest is used, so that the fuzzer reaches every stage:
//! - bits 0–1: the SA's suite (aes128gcm16, aes256gcm16, aes128-sha256, aes256gcm16);
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
//! Checked properties (tunnel and transport mode): no panic; raw input never passes (no forged ICV); accepted output is a
//! prefix of the sealed plaintext; `out` is empty after every drop.
#![no_main]

use crypto::cipher::AesCbc;
use crypto::{Cipher, EncrAlg, EncrId, Integ, IntegId, SecretBytes};
use esp::{ChildSaConfig, DataPlane, Mode, SaKeys};
use libfuzzer_sys::fuzz_target;

const SPI: u32 = 0xc0ff_ee01;

fn keys(suite: u8, spi: u32) -> SaKeys {
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
        protocol: esp::SecurityProtocol::Esp,
        local_ts: vec!["0.0.0.0/0".parse().ok()?, "::/0".parse().ok()?],
        remote_ts: vec![
            "198.51.100.0/24".parse().ok()?,
            "192.0.2.2/32".parse().ok()?,
            "2001:db8::/32[udp/1000-2000]".parse().ok()?,
        ],
        local: "192.0.2.1:4500".parse().ok()?,
        remote: "192.0.2.2:4500".parse().ok()?,
        // Tunnel mode: always (as before); transport mode: bit 7.
        encap: suite & 64 == 0 || suite & 128 != 0,
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

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some(d) = data_plane(mode) else {
        return;
    };
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
