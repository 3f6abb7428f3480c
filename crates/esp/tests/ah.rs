//! AH (RFC 4302) between two mirrored data planes: tunnel mode (4in4, 6in6, 4in6) and
//! transport mode (IPv4, IPv6), the packet layout on the wire, what the ICV covers (immutable
//! fields) and what it does not (mutable ones), replay, the SAD's protocol separation,
//! truncation, and the configuration AH refuses.

mod common;

use std::net::{IpAddr, SocketAddr};

use common::*;
use crypto::{EncrAlg, EncrId, IntegId, SecretBytes};
use esp::{ChildSaConfig, DataPlane, DropReason, EspError, Mode, SaKeys, SecurityProtocol};
use wire::ip::{checksum, selector_fields, IPPROTO_UDP};

const AH: u8 = 51;

/// AH keys: ENCR_NULL without key, `integ` with a key derived from `seed`.
fn ah_keys(integ: IntegId, spi: u32, seed: u8) -> SaKeys {
    let il = crypto::Integ::key_len(integ).unwrap();
    SaKeys {
        spi,
        encr: EncrAlg {
            id: EncrId::Null,
            key_bits: None,
        },
        integ: Some(integ),
        encr_key: SecretBytes::default(),
        integ_key: SecretBytes::new((0..il).map(|i| seed.wrapping_add(i as u8)).collect()),
    }
}

/// A's and B's AH child configurations (tunnel unless `transport`).
fn ah_configs(integ: IntegId, outer_v6: bool, transport: bool) -> (ChildSaConfig, ChildSaConfig) {
    let (mut ca, mut cb) = mirror_configs("aes128gcm16", outer_v6);
    for (c, inb, outb) in [(&mut ca, 0x80, 0x10), (&mut cb, 0x10, 0x80)] {
        c.protocol = SecurityProtocol::Ah;
        c.encap = false;
        c.inbound = ah_keys(integ, c.inbound.spi, inb);
        c.outbound = ah_keys(integ, c.outbound.spi, outb);
        if transport {
            c.mode = Mode::Transport;
            let (l, r) = (c.local.ip(), c.remote.ip());
            let bits = if outer_v6 { 128 } else { 32 };
            c.local_ts = vec![ts(&format!("{l}/{bits}"))];
            c.remote_ts = vec![ts(&format!("{r}/{bits}"))];
        }
    }
    (ca, cb)
}

fn ah_pair(
    integ: IntegId,
    outer_v6: bool,
    transport: bool,
) -> (DataPlane, DataPlane, ChildSaConfig) {
    let (ca, cb) = ah_configs(integ, outer_v6, transport);
    let (a, b) = (DataPlane::new(), DataPlane::new());
    a.install_child(ca.clone()).unwrap();
    b.install_child(cb).unwrap();
    (a, b, ca)
}

const INTEGS: [IntegId; 4] = [
    IntegId::HmacSha1_96,
    IntegId::HmacSha2_256_128,
    IntegId::HmacSha2_384_192,
    IntegId::HmacSha2_512_256,
];

fn icv_len(integ: IntegId) -> usize {
    crypto::Integ::icv_len_of(integ).unwrap()
}

/// Checks the outer IPv4 header AH wrote: 20 bytes, protocol 51, TTL 64, flags 0, ID
/// nonzero, checksum valid, `src` → `dst`, total length = the packet's.
fn assert_outer_v4(w: &[u8], src: IpAddr, dst: IpAddr, tos: u8) {
    assert_eq!(w[0], 0x45);
    assert_eq!(w[1], tos);
    assert_eq!(usize::from(u16::from_be_bytes([w[2], w[3]])), w.len());
    assert_ne!(&w[4..6], &[0, 0], "Identification nonzero");
    assert_eq!(&w[6..8], &[0, 0], "flags and offset");
    assert_eq!((w[8], w[9]), (64, AH));
    assert_eq!(checksum(&w[..20]), 0);
    let f = selector_fields(w).unwrap();
    assert_eq!((f.src, f.dst), (src, dst));
}

/// Checks an outer IPv6 header: traffic class `tos`, flow label 0, next header 51, hop limit
/// 64, payload length, addresses.
fn assert_outer_v6(w: &[u8], src: IpAddr, dst: IpAddr, tos: u8) {
    let vtf = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
    assert_eq!(vtf, 0x6000_0000 | (u32::from(tos) << 20));
    assert_eq!(usize::from(u16::from_be_bytes([w[4], w[5]])) + 40, w.len());
    assert_eq!((w[6], w[7]), (AH, 64));
    let f = selector_fields(w).unwrap();
    assert_eq!((f.src, f.dst), (src, dst));
}

/// Checks AH at `at`: Next Header, Payload Len for `ah_len` bytes, reserved 0, SPI, sequence
/// number, and the ICV padding (zero).
fn assert_ah(w: &[u8], at: usize, nh: u8, ah_len: usize, icv: usize, spi: u32, seq: u32) {
    assert_eq!(w[at], nh);
    assert_eq!(usize::from(w[at + 1]), ah_len / 4 - 2);
    assert_eq!(&w[at + 2..at + 4], &[0, 0]);
    assert_eq!(&w[at + 4..at + 8], &spi.to_be_bytes());
    assert_eq!(&w[at + 8..at + 12], &seq.to_be_bytes());
    assert!(
        w[at + 12 + icv..at + ah_len].iter().all(|&b| b == 0),
        "padding"
    );
    assert!(
        w[at + 12..at + 12 + icv].iter().any(|&b| b != 0),
        "ICV written"
    );
}

#[test]
fn tunnel_4in4_6in6_4in6_roundtrip_and_layout() {
    for integ in INTEGS {
        for (outer_v6, inner) in [
            (false, ping("203.0.113.10", "198.51.100.20", 56)),
            (true, ping("2001:db8:2::10", "2001:db8:10::20", 56)),
            (true, ping("203.0.113.10", "198.51.100.20", 30)),
            (false, ping("2001:db8:2::10", "2001:db8:10::20", 30)),
        ] {
            let (a, b, ca) = ah_pair(integ, outer_v6, false);
            let mut w = Vec::new();
            let o = a.encapsulate(&inner, &mut w).unwrap();
            assert_eq!(o.protocol, SecurityProtocol::Ah);
            assert!(!o.encap);
            assert_eq!(
                (o.local, o.remote, o.inner_len),
                (ca.local, ca.remote, inner.len())
            );
            let (ip_len, ah_len) = if outer_v6 {
                (40, (12 + icv_len(integ)).div_ceil(8) * 8)
            } else {
                (20, 12 + icv_len(integ))
            };
            assert_eq!(w.len(), ip_len + ah_len + inner.len(), "{integ:?}");
            let (src, dst) = (ca.local.ip(), ca.remote.ip());
            if outer_v6 {
                assert_outer_v6(&w, src, dst, o.tos);
            } else {
                assert_outer_v4(&w, src, dst, o.tos);
            }
            let nh = if inner[0] >> 4 == 4 { 4 } else { 41 };
            assert_ah(&w, ip_len, nh, ah_len, icv_len(integ), SPI_B_IN, 1);
            assert_eq!(
                &w[ip_len + ah_len..],
                &inner[..],
                "inner carried in the clear"
            );
            assert_eq!(a.overhead(CHILD), Some(ip_len + ah_len));

            let mut out = vec![0xaa; 3];
            let r = b.snapshot().decapsulate_ah_append(&w, &mut out).unwrap();
            assert_eq!(&out[..3], &[0xaa; 3]);
            assert_eq!(&out[3..], &inner[..]);
            assert_eq!(r.len, inner.len());
            assert_eq!((r.spi, r.seq, r.child_id), (SPI_B_IN, 1, CHILD + 100));
            assert_eq!(r.from, SocketAddr::new(src, 0));
            assert!(!r.remote_changed);
            let s = b.child_stats(CHILD + 100).unwrap();
            assert_eq!((s.packets_in, s.bytes_in), (1, inner.len() as u64));
        }
    }
}

#[test]
fn ip_identification_differs_per_packet_and_is_never_zero() {
    let (a, _, _) = ah_pair(IntegId::HmacSha2_256_128, false, false);
    let inner = ping("203.0.113.10", "198.51.100.20", 8);
    let mut ids = Vec::new();
    let mut w = Vec::new();
    for _ in 0..5 {
        a.encapsulate(&inner, &mut w).unwrap();
        ids.push(u16::from_be_bytes([w[4], w[5]]));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    assert!(!ids.contains(&0));
}

#[test]
fn transport_ipv4_and_ipv6_roundtrip() {
    for v6 in [false, true] {
        let (a, b, ca) = ah_pair(IntegId::HmacSha2_256_128, v6, true);
        let (l, r) = (ca.local.ip().to_string(), ca.remote.ip().to_string());
        let pkt = if v6 {
            ping(&l, &r, 40)
        } else {
            udp4(&l, &r, 4000, 53, 100)
        };
        let mut w = Vec::new();
        let o = a.encapsulate(&pkt, &mut w).unwrap();
        assert_eq!((o.local, o.remote), (ca.local, ca.remote));
        let ip_len = if v6 { 40 } else { 20 };
        let ah_len = if v6 { 32 } else { 28 };
        assert_eq!(w.len(), pkt.len() + ah_len, "AH inserted, nothing else");
        if v6 {
            assert_outer_v6(&w, ca.local.ip(), ca.remote.ip(), 0);
            assert_ah(&w, 40, 58, ah_len, 16, SPI_B_IN, 1);
        } else {
            assert_outer_v4(&w, ca.local.ip(), ca.remote.ip(), 0);
            assert_eq!(&w[4..6], &pkt[4..6], "the packet's own Identification");
            assert_ah(&w, 20, IPPROTO_UDP, ah_len, 16, SPI_B_IN, 1);
        }
        assert_eq!(&w[ip_len + ah_len..], &pkt[ip_len..]);

        let mut out = Vec::new();
        let r = b.decapsulate_ah(&w, &mut out).unwrap();
        assert_eq!(r.len, pkt.len());
        if v6 {
            // The header as sent (hop limit 64, TC 0, flow 0), next header back to ICMPv6.
            assert_eq!(out, pkt);
        } else {
            // Flags are not carried (AH's outer header has none): DF is gone.
            assert_eq!(&out[..6], &pkt[..6]);
            assert_eq!(&out[6..8], &[0, 0]);
            assert_eq!(&out[8..10], &pkt[8..10]);
            assert_eq!(&out[12..], &pkt[12..]);
            assert_eq!(checksum(&out[..20]), 0);
        }
    }
}

#[test]
fn transport_ipv4_zero_identification_replaced() {
    let (a, _, ca) = ah_pair(IntegId::HmacSha2_256_128, false, true);
    let mut pkt = udp4(
        &ca.local.ip().to_string(),
        &ca.remote.ip().to_string(),
        1,
        2,
        4,
    );
    pkt[4..6].copy_from_slice(&[0, 0]);
    let mut w = Vec::new();
    a.encapsulate(&pkt, &mut w).unwrap();
    assert_ne!(&w[4..6], &[0, 0]);
}

/// Rewrites byte `at` of an IPv4 packet and fixes its header checksum.
fn poke4(p: &mut [u8], at: usize, f: impl Fn(u8) -> u8) {
    p[at] = f(p[at]);
    p[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn mutable_fields_may_change_immutable_ones_may_not_ipv4() {
    let inner = ping("203.0.113.10", "198.51.100.20", 56);
    // (byte, change, verifies): TOS (DSCP, ECT(0) over an inner Not-ECT), flags (DF set by a
    // router), TTL; then Identification, addresses, AH's sequence number, the inner packet.
    type Case = (usize, fn(u8) -> u8, bool);
    let cases: [Case; 9] = [
        (1, |_| 0xb8 | 0b10, true),
        (6, |b| b | 0x40, true),
        (8, |b| b - 7, true),
        (4, |b| b ^ 1, false),
        (5, |b| b ^ 0x80, false),
        (12, |b| b ^ 1, false),
        (19, |b| b ^ 1, false),
        (30, |b| b ^ 1, false),
        (70, |b| b ^ 1, false),
    ];
    for (at, change, ok) in cases {
        let (a, b, _) = ah_pair(IntegId::HmacSha2_256_128, false, false);
        let mut w = Vec::new();
        a.encapsulate(&inner, &mut w).unwrap();
        poke4(&mut w, at, change);
        let mut out = Vec::new();
        let r = b.decapsulate_ah(&w, &mut out);
        if ok {
            assert_eq!(r.map(|r| r.len), Ok(inner.len()), "byte {at}");
        } else {
            assert_eq!(r, Err(DropReason::IcvFailure), "byte {at}");
            assert!(out.is_empty());
        }
    }
}

#[test]
fn mutable_fields_may_change_immutable_ones_may_not_ipv6() {
    let inner = ping("2001:db8:2::10", "2001:db8:10::20", 56);
    // Traffic class and flow label (bytes 0..4 but the version), hop limit: mutable.
    // Addresses, AH (its Reserved field too) and payload: immutable.
    let cases: [(usize, u8, bool); 8] = [
        (0, 0x0b, true),
        (1, 0xcf, true),
        (3, 0x42, true),
        (7, 0x3f, true),
        (8, 1, false),
        (39, 1, false),
        (42, 1, false),
        (100, 1, false),
    ];
    for (at, x, ok) in cases {
        let (a, b, _) = ah_pair(IntegId::HmacSha2_256_128, true, false);
        let mut w = Vec::new();
        a.encapsulate(&inner, &mut w).unwrap();
        w[at] ^= x;
        let mut out = Vec::new();
        let r = b.decapsulate_ah(&w, &mut out);
        if ok {
            assert_eq!(r.map(|r| r.len), Ok(inner.len()), "byte {at}");
        } else {
            assert_eq!(r, Err(DropReason::IcvFailure), "byte {at}");
        }
    }
}

#[test]
fn outer_ecn_combined_into_the_inner_packet() {
    let (a, b, _) = ah_pair(IntegId::HmacSha2_256_128, false, false);
    let mut inner = ping("203.0.113.10", "198.51.100.20", 8);
    poke4(&mut inner, 1, |_| 0b10); // ECT(0)
    let mut w = Vec::new();
    let o = a.encapsulate(&inner, &mut w).unwrap();
    assert_eq!(o.tos, 0b10);
    poke4(&mut w, 1, |_| 0b11); // a router marks CE on the outer header
    let mut out = Vec::new();
    b.decapsulate_ah(&w, &mut out).unwrap();
    assert_eq!(out[1], 0b11, "CE passed on");
    assert_eq!(checksum(&out[..20]), 0);
    // CE over an inner Not-ECT packet: dropped (RFC 6040 §4.2).
    let inner = ping("203.0.113.10", "198.51.100.20", 8);
    a.encapsulate(&inner, &mut w).unwrap();
    poke4(&mut w, 1, |_| 0b11);
    assert_eq!(b.decapsulate_ah(&w, &mut out), Err(DropReason::EcnDrop));
}

#[test]
fn replay_and_counters() {
    let (a, b, _) = ah_pair(IntegId::HmacSha1_96, false, false);
    let inner = ping("203.0.113.10", "198.51.100.20", 8);
    let mut sealed = Vec::new();
    for _ in 0..3 {
        let mut w = Vec::new();
        a.encapsulate(&inner, &mut w).unwrap();
        sealed.push(w);
    }
    let mut out = Vec::new();
    for i in [2, 0, 1] {
        assert_eq!(
            b.decapsulate_ah(&sealed[i], &mut out).unwrap().seq,
            i as u64 + 1
        );
    }
    assert_eq!(
        b.decapsulate_ah(&sealed[1], &mut out),
        Err(DropReason::Replay)
    );
    assert!(out.is_empty());
    assert_eq!(b.drop_counters().get(DropReason::Replay), 1);
    assert_eq!(b.inbound_sa_stats(SPI_B_IN).unwrap().highest_seq, 3);
    assert_eq!(a.child_stats(CHILD).unwrap().packets_out, 3);
}

#[test]
fn esp_and_ah_spis_do_not_open_each_other() {
    // B has an AH child (inbound SPI_B_IN) and an ESP child (inbound 0x5000).
    let (ca, cb) = ah_configs(IntegId::HmacSha2_256_128, false, false);
    let (mut ea, mut eb) = mirror_configs("aes128gcm16", false);
    for c in [&mut ea, &mut eb] {
        c.id += 1000;
        c.local_ts = vec![ts("192.0.2.0/24")];
        c.remote_ts = vec![ts("192.0.2.0/24")];
    }
    eb.inbound.spi = 0x5000;
    ea.outbound.spi = 0x5000;
    ea.inbound.spi = 0x5001;
    eb.outbound.spi = 0x5001;
    let (a, b) = (DataPlane::new(), DataPlane::new());
    a.install_child(ca).unwrap();
    b.install_child(cb).unwrap();
    b.install_child(eb).unwrap();
    let a_esp = DataPlane::new();
    a_esp.install_child(ea).unwrap();

    // An ESP packet whose SPI is B's AH SPI.
    let mut esp = Vec::new();
    a_esp
        .encapsulate(&ping("192.0.2.1", "192.0.2.9", 8), &mut esp)
        .unwrap();
    esp[..4].copy_from_slice(&SPI_B_IN.to_be_bytes());
    let mut out = Vec::new();
    let from = from_b(false);
    assert_eq!(
        b.decapsulate(&esp, from, &mut out),
        Err(DropReason::UnknownSpi)
    );
    // An AH packet whose SPI is B's ESP SPI.
    let mut w = Vec::new();
    a.encapsulate(&ping("203.0.113.10", "198.51.100.20", 8), &mut w)
        .unwrap();
    w[24..28].copy_from_slice(&0x5000u32.to_be_bytes());
    assert_eq!(b.decapsulate_ah(&w, &mut out), Err(DropReason::UnknownSpi));
    assert_eq!(b.drop_counters().get(DropReason::UnknownSpi), 2);
}

#[test]
fn every_truncation_and_bad_length_is_dropped() {
    for v6 in [false, true] {
        let (a, b, _) = ah_pair(IntegId::HmacSha2_256_128, v6, false);
        let inner = ping("203.0.113.10", "198.51.100.20", 20);
        let mut w = Vec::new();
        a.encapsulate(&inner, &mut w).unwrap();
        let mut out = vec![1, 2];
        for n in 0..w.len() {
            assert!(
                b.snapshot()
                    .decapsulate_ah_append(&w[..n], &mut out)
                    .is_err(),
                "{n}"
            );
            assert_eq!(out, [1, 2]);
        }
        // Payload Len one word shorter / longer than the algorithm's.
        let ah_at = if v6 { 40 } else { 20 };
        for delta in [-1i8, 1, 2] {
            let mut bad = w.clone();
            bad[ah_at + 1] = bad[ah_at + 1].wrapping_add_signed(delta);
            assert!(b.decapsulate_ah(&bad, &mut out).is_err(), "{delta}");
        }
        let mut bad = w.clone();
        bad[ah_at + 1] += 2;
        assert_eq!(b.decapsulate_ah(&bad, &mut out), Err(DropReason::BadLength));
        // Still opens afterwards: nothing above moved the window.
        b.decapsulate_ah(&w, &mut out).unwrap();
    }
}

#[test]
fn inner_checks_apply_to_tunnel_mode() {
    let (a, b, _) = ah_pair(IntegId::HmacSha2_256_128, false, false);
    let mut out = Vec::new();
    // A's selectors cover 203.0.113.0/24 → 198.51.100.0/25; B's own are the mirror image.
    // Narrow B's view of A: a packet from outside it is a selector mismatch.
    let (_, mut cb) = ah_configs(IntegId::HmacSha2_256_128, false, false);
    cb.remote_ts = vec![ts("203.0.113.128/25")];
    let b2 = DataPlane::new();
    b2.install_child(cb).unwrap();
    let mut w = Vec::new();
    a.encapsulate(&ping("203.0.113.10", "198.51.100.20", 8), &mut w)
        .unwrap();
    assert_eq!(
        b2.decapsulate_ah(&w, &mut out),
        Err(DropReason::SelectorMismatch)
    );
    // The same packet opens at B.
    b.decapsulate_ah(&w, &mut out).unwrap();
    // A transport child sending to a tunnel child: Next Header 17 is not 4 or 41.
    let (mut ta, _) = ah_configs(IntegId::HmacSha2_256_128, false, true);
    ta.local_ts = vec![ts("0.0.0.0/0")];
    ta.remote_ts = vec![ts("0.0.0.0/0")];
    let t = DataPlane::new();
    t.install_child(ta).unwrap();
    // (Its second packet: B already saw sequence number 1.)
    for _ in 0..2 {
        t.encapsulate(&udp4("203.0.113.10", "198.51.100.20", 1, 2, 8), &mut w)
            .unwrap();
    }
    assert_eq!(
        b.decapsulate_ah(&w, &mut out),
        Err(DropReason::BadNextHeader)
    );
}

#[test]
fn ah_keeps_tcp_mss_clamp_and_path_mtu() {
    let (mut ca, _) = ah_configs(IntegId::HmacSha2_256_128, false, false);
    ca.options.path_mtu = 1000;
    let a = DataPlane::new();
    a.install_child(ca).unwrap();
    assert_eq!(a.overhead(CHILD), Some(20 + 28));
    assert_eq!(a.max_inner(CHILD), Some(1000 - 48));
    // 952 bytes fit, 953 with DF do not.
    let mut w = Vec::new();
    let fits = udp4("203.0.113.10", "198.51.100.20", 1, 2, 952 - 28);
    a.encapsulate(&fits, &mut w).unwrap();
    assert_eq!(w.len(), 1000);
    let big = udp4("203.0.113.10", "198.51.100.20", 1, 2, 953 - 28);
    assert_eq!(a.encapsulate(&big, &mut w), Err(DropReason::PathMtu));
    assert!(a.snapshot().icmp_too_big(&big, &mut w));
}

#[test]
fn configuration_refused() {
    let (ca, _) = ah_configs(IntegId::HmacSha2_256_128, false, false);
    let d = DataPlane::new();
    let mut c = ca.clone();
    c.encap = true;
    assert!(matches!(
        d.install_child(c),
        Err(EspError::InvalidConfig(_))
    ));
    let mut c = ca.clone();
    c.outbound = keys("aes128-sha256", c.outbound.spi, 1);
    assert!(matches!(
        d.install_child(c),
        Err(EspError::InvalidConfig(_))
    ));
    let mut c = ca.clone();
    c.inbound.integ = None;
    assert!(matches!(
        d.install_child(c),
        Err(EspError::InvalidConfig(_))
    ));
    let mut c = ca.clone();
    c.inbound.integ = Some(IntegId::None);
    assert!(matches!(
        d.install_child(c),
        Err(EspError::InvalidConfig(_))
    ));
    let mut c = ca.clone();
    c.inbound.encr_key = SecretBytes::new(vec![1; 4]);
    assert!(matches!(
        d.install_child(c),
        Err(EspError::InvalidConfig(_))
    ));
    let mut c = ca.clone();
    c.inbound.integ_key = SecretBytes::new(vec![1; 4]);
    assert!(matches!(d.install_child(c), Err(EspError::Crypto(_))));
    d.install_child(ca).unwrap();
    // Rekeys keep AH: an ESP key set is refused for the new SAs.
    assert!(d
        .add_inbound_sa(CHILD, keys("aes128gcm16", 0x7777, 1))
        .is_err());
    d.add_inbound_sa(CHILD, ah_keys(IntegId::HmacSha1_96, 0x7777, 1))
        .unwrap();
    d.replace_outbound_sa(CHILD, ah_keys(IntegId::HmacSha2_512_256, 0x7778, 1))
        .unwrap();
    assert_eq!(d.overhead(CHILD), Some(20 + 44));
}

#[test]
fn esn_changes_what_the_icv_covers() {
    let (mut ca, mut cb) = ah_configs(IntegId::HmacSha2_256_128, false, false);
    ca.esn = true;
    let inner = ping("203.0.113.10", "198.51.100.20", 8);
    let (a, b) = (DataPlane::new(), DataPlane::new());
    a.install_child(ca.clone()).unwrap();
    b.install_child(cb.clone()).unwrap();
    let mut w = Vec::new();
    let mut out = Vec::new();
    a.encapsulate(&inner, &mut w).unwrap();
    // The high half (0) is appended for the ICV only: a receiver without ESN fails.
    assert_eq!(b.decapsulate_ah(&w, &mut out), Err(DropReason::IcvFailure));
    cb.esn = true;
    let b = DataPlane::new();
    b.install_child(cb).unwrap();
    assert_eq!(b.decapsulate_ah(&w, &mut out).unwrap().seq, 1);
}

#[test]
fn transport_packet_of_the_other_family_refused() {
    let (mut ca, _) = ah_configs(IntegId::HmacSha2_256_128, false, true);
    ca.local_ts = vec![ts("0.0.0.0/0"), ts("::/0")];
    ca.remote_ts = vec![ts("0.0.0.0/0"), ts("::/0")];
    let a = DataPlane::new();
    a.install_child(ca).unwrap();
    let mut w = Vec::new();
    let v6 = ping("2001:db8:2::10", "2001:db8:10::20", 8);
    assert_eq!(a.encapsulate(&v6, &mut w), Err(DropReason::Malformed));
    assert!(w.is_empty());
    a.encapsulate(&ping("203.0.113.10", "198.51.100.20", 8), &mut w)
        .unwrap();
    assert_eq!(w[9], AH);
}
