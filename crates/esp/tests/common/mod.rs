//! Shared test fixtures: two mirror-image data planes and packet builders.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

use crypto::{Cipher, DeterministicRandom, EncrAlg, EncrId, IntegId, SecretBytes};
use esp::{ChildSaConfig, DataPlane, Lifetime, Mode, SaKeys, TunnelOptions};
use wire::ip::{Ipv4Repr, Ipv6Repr, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP};
use wire::TrafficSelector;

/// The ESP proposals the tests exercise, in strongSwan syntax.
pub const SUITES: [&str; 3] = ["aes256gcm16", "aes128gcm16", "aes128-sha256"];

pub const SPI_A_IN: u32 = 0xc1a2_b3c4; // A receives on it = B sends on it
pub const SPI_B_IN: u32 = 0xc5d6_e7f8; // B receives on it = A sends on it
pub const CHILD: u64 = 7;

pub fn alg(suite: &str) -> (EncrAlg, Option<IntegId>) {
    match suite {
        "aes256gcm16" => (
            EncrAlg {
                id: EncrId::AesGcm16,
                key_bits: Some(256),
            },
            None,
        ),
        "aes128gcm16" => (
            EncrAlg {
                id: EncrId::AesGcm16,
                key_bits: Some(128),
            },
            None,
        ),
        "aes128-sha256" => (
            EncrAlg {
                id: EncrId::AesCbc,
                key_bits: Some(128),
            },
            Some(IntegId::HmacSha2_256_128),
        ),
        other => panic!("unknown suite {other}"),
    }
}

/// Keys for one SA: bytes derived from `seed` so that the two directions differ.
pub fn keys(suite: &str, spi: u32, seed: u8) -> SaKeys {
    let (encr, integ) = alg(suite);
    let el = Cipher::encr_keymat_len(encr).unwrap();
    let il = integ
        .map(|i| Cipher::integ_key_len(i).unwrap())
        .unwrap_or(0);
    SaKeys {
        spi,
        encr,
        integ,
        encr_key: SecretBytes::new((0..el).map(|i| seed.wrapping_add(i as u8)).collect()),
        integ_key: SecretBytes::new(
            (0..il)
                .map(|i| seed.wrapping_mul(3).wrapping_add(i as u8))
                .collect(),
        ),
    }
}

pub fn ts(s: &str) -> TrafficSelector {
    s.parse().unwrap()
}

/// Site A: 203.0.113.0/24 + 2001:db8:2::/64 behind it; site B: 198.51.100.0/25 +
/// 2001:db8:10::/64.
pub fn a_ts() -> Vec<TrafficSelector> {
    vec![ts("203.0.113.0/24"), ts("2001:db8:2::/64")]
}
pub fn b_ts() -> Vec<TrafficSelector> {
    vec![ts("198.51.100.0/25"), ts("2001:db8:10::/64")]
}

pub fn outer(v6: bool) -> (SocketAddr, SocketAddr) {
    if v6 {
        (
            "[2001:db8:1::1]:4500".parse().unwrap(),
            "[2001:db8:1::100]:4500".parse().unwrap(),
        )
    } else {
        (
            "192.0.2.1:4500".parse().unwrap(),
            "192.0.2.100:4500".parse().unwrap(),
        )
    }
}

/// A's and B's child configurations: each other's mirror image.
pub fn mirror_configs(suite: &str, outer_v6: bool) -> (ChildSaConfig, ChildSaConfig) {
    let (a_addr, b_addr) = outer(outer_v6);
    let a_to_b = keys(suite, SPI_B_IN, 0x10);
    let b_to_a = keys(suite, SPI_A_IN, 0x80);
    let a = ChildSaConfig {
        id: CHILD,
        mode: Mode::Tunnel,
        protocol: esp::SecurityProtocol::Esp,
        local_ts: a_ts(),
        remote_ts: b_ts(),
        local: a_addr,
        remote: b_addr,
        encap: true,
        inbound: b_to_a.clone(),
        outbound: a_to_b.clone(),
        replay_window: ChildSaConfig::DEFAULT_REPLAY_WINDOW,
        esn: false,
        lifetime: Lifetime::default(),
        options: TunnelOptions::default(),
    };
    let b = ChildSaConfig {
        id: CHILD + 100,
        mode: Mode::Tunnel,
        protocol: esp::SecurityProtocol::Esp,
        local_ts: b_ts(),
        remote_ts: a_ts(),
        local: b_addr,
        remote: a_addr,
        encap: true,
        inbound: a_to_b,
        outbound: b_to_a,
        replay_window: ChildSaConfig::DEFAULT_REPLAY_WINDOW,
        esn: false,
        lifetime: Lifetime::default(),
        options: TunnelOptions::default(),
    };
    (a, b)
}

pub fn mirror_pair(suite: &str, outer_v6: bool) -> (DataPlane, DataPlane) {
    pair_with_path_mtu(suite, outer_v6, TunnelOptions::DEFAULT_PATH_MTU)
}

/// Like [`mirror_pair`] over a path of `mtu` bytes (e.g. 65535: no packet is refused for its
/// size before the ESP length limit).
pub fn pair_with_path_mtu(suite: &str, outer_v6: bool, mtu: u16) -> (DataPlane, DataPlane) {
    let (mut ca, mut cb) = mirror_configs(suite, outer_v6);
    ca.options.path_mtu = mtu;
    cb.options.path_mtu = mtu;
    let a = DataPlane::with_rng(Box::new(DeterministicRandom::new(1)));
    let b = DataPlane::with_rng(Box::new(DeterministicRandom::new(2)));
    a.install_child(ca).unwrap();
    b.install_child(cb).unwrap();
    (a, b)
}

/// An IPv4 UDP packet (checksum left 0, allowed over IPv4) with `payload_len` bytes of data.
pub fn udp4(src: &str, dst: &str, sport: u16, dport: u16, payload_len: usize) -> Vec<u8> {
    let src: std::net::Ipv4Addr = src.parse().unwrap();
    let dst: std::net::Ipv4Addr = dst.parse().unwrap();
    let r = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IPPROTO_UDP,
        ttl: 64,
        dscp_ecn: 0,
        identification: 0x1234,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        payload_len: 8 + payload_len,
    };
    let mut b = vec![0u8; r.total_len()];
    r.emit(&mut b).unwrap();
    let l = (8 + payload_len) as u16;
    b[20..28].copy_from_slice(&[
        (sport >> 8) as u8,
        sport as u8,
        (dport >> 8) as u8,
        dport as u8,
        (l >> 8) as u8,
        l as u8,
        0,
        0,
    ]);
    for (i, x) in b[28..].iter_mut().enumerate() {
        *x = i as u8;
    }
    b
}

/// An ICMP echo request over IPv4 (or ICMPv6 over IPv6) with `payload_len` data bytes.
pub fn ping(src: &str, dst: &str, payload_len: usize) -> Vec<u8> {
    let src: IpAddr = src.parse().unwrap();
    let dst: IpAddr = dst.parse().unwrap();
    let mut icmp = vec![0u8; 8 + payload_len];
    icmp[0] = if src.is_ipv4() { 8 } else { 128 };
    for (i, x) in icmp[8..].iter_mut().enumerate() {
        *x = (i * 7) as u8;
    }
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let r = Ipv4Repr {
                src_addr: s,
                dst_addr: d,
                protocol: IPPROTO_ICMP,
                ttl: 64,
                dscp_ecn: 0,
                identification: 1,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                payload_len: icmp.len(),
            };
            let mut b = vec![0u8; 20];
            r.emit(&mut b).unwrap();
            b.extend_from_slice(&icmp);
            b
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let r = Ipv6Repr {
                src_addr: s,
                dst_addr: d,
                next_header: IPPROTO_ICMPV6,
                hop_limit: 64,
                traffic_class: 0,
                flow_label: 0,
                payload_len: icmp.len(),
            };
            let mut b = vec![0u8; 40];
            r.emit(&mut b).unwrap();
            b.extend_from_slice(&icmp);
            b
        }
        _ => panic!("mixed families"),
    }
}

pub fn from_b(outer_v6: bool) -> SocketAddr {
    outer(outer_v6).1
}

/// Builds an ESP packet by hand with `crypto::Cipher`: `plaintext` must already carry padding,
/// Pad Length and Next Header. For AEAD the IV is the sequence number, else 16 bytes of 0x42.
pub fn seal_raw(k: &SaKeys, seq: u32, plaintext: &[u8]) -> Vec<u8> {
    let c = Cipher::new(
        k.encr,
        k.integ,
        k.encr_key.as_slice(),
        k.integ_key.as_slice(),
    )
    .unwrap();
    let mut p = Vec::new();
    p.extend_from_slice(&k.spi.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    let iv: Vec<u8> = if Cipher::is_aead(k.encr) {
        let mut iv = vec![0u8; c.iv_len()];
        let n = iv.len();
        iv[n - 8..].copy_from_slice(&u64::from(seq).to_be_bytes());
        iv
    } else {
        vec![0x42; c.iv_len()]
    };
    let mut buf = plaintext.to_vec();
    let mut icv = vec![0u8; c.icv_len()];
    c.seal(&p, &iv, &mut buf, &mut icv).unwrap();
    p.extend_from_slice(&iv);
    p.extend_from_slice(&buf);
    p.extend_from_slice(&icv);
    p
}

/// `inner | padding 1,2,.. | pad_len | nh` aligned to `align`, with `extra` bytes of padding
/// beyond the minimum (a multiple of `align`).
pub fn with_trailer(inner: &[u8], align: usize, nh: u8, extra: usize) -> Vec<u8> {
    let mut pad = (align - (inner.len() + 2) % align) % align + extra;
    if pad > 255 {
        pad = 255;
    }
    let mut v = inner.to_vec();
    v.extend((1..=pad).map(|i| i as u8));
    v.push(pad as u8);
    v.push(nh);
    v
}

pub fn align_of(suite: &str) -> usize {
    if suite.contains("gcm") {
        4
    } else {
        16
    }
}
