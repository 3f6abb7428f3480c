//! The tunnel's edge through two data planes: TCP MSS clamping both ways, ECN (RFC 6040) and
//! DSCP, the path MTU with ICMP "fragmentation needed" / "packet too big", ICMP errors judged
//! by the packet they quote (RFC 4301 §6.2), and TFC padding (RFC 4303 §2.7).

mod common;

use common::*;
use esp::{DataPlane, DropReason, TunnelOptions};
use wire::ip::{checksum, checksum_finish, checksum_sum, selector_fields, Ipv4Repr, Ipv6Repr};

/// An IPv4 TCP SYN a_host:40000 → b_host:443 with MSS `mss` and DF.
fn syn4(mss: u16, tos: u8) -> Vec<u8> {
    let mut p = vec![0u8; 20 + 24];
    Ipv4Repr {
        src_addr: [203, 0, 113, 10].into(),
        dst_addr: [198, 51, 100, 10].into(),
        protocol: 6,
        ttl: 64,
        dscp_ecn: tos,
        identification: 9,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        payload_len: 24,
    }
    .emit(&mut p)
    .unwrap();
    let t = &mut p[20..];
    t[0..2].copy_from_slice(&40000u16.to_be_bytes());
    t[2..4].copy_from_slice(&443u16.to_be_bytes());
    t[12] = 6 << 4;
    t[13] = 0x02;
    t[20..24].copy_from_slice(&[2, 4, (mss >> 8) as u8, mss as u8]);
    let c = tcp4_checksum(&p);
    p[36..38].copy_from_slice(&c.to_be_bytes());
    p
}

fn tcp4_checksum(p: &[u8]) -> u16 {
    let mut q = p.to_vec();
    q[36..38].copy_from_slice(&[0, 0]);
    let sum = checksum_sum(&q[12..20]) + 6 + (q.len() - 20) as u64 + checksum_sum(&q[20..]);
    checksum_finish(sum)
}

fn mss_of(p: &[u8]) -> u16 {
    u16::from_be_bytes([p[42], p[43]])
}

fn pair_with(a_opts: TunnelOptions, b_opts: TunnelOptions) -> (DataPlane, DataPlane) {
    let (mut ca, mut cb) = mirror_configs("aes256gcm16", false);
    ca.options = a_opts;
    cb.options = b_opts;
    let a = DataPlane::new();
    let b = DataPlane::new();
    a.install_child(ca).unwrap();
    b.install_child(cb).unwrap();
    (a, b)
}

fn no_clamp() -> TunnelOptions {
    TunnelOptions {
        clamp_mss: false,
        ..TunnelOptions::default()
    }
}

#[test]
fn mss_clamped_on_the_way_in_and_out() {
    // aes256gcm16 over IPv4 + UDP: overhead 65, so 1435-byte inner packets, MSS 1395.
    let (a, b) = pair_with(TunnelOptions::default(), no_clamp());
    assert_eq!(a.max_inner(CHILD), Some(1435));
    let (mut esp, mut out) = (Vec::new(), Vec::new());
    a.encapsulate(&syn4(1460, 0), &mut esp).unwrap();
    b.decapsulate(&esp, from_b(false), &mut out).unwrap();
    assert_eq!(mss_of(&out), 1395, "clamped by the sender");
    assert_eq!(&out[36..38], &tcp4_checksum(&out).to_be_bytes());
    // The other way: A does not clamp, B clamps what it opens.
    let (a, b) = pair_with(no_clamp(), TunnelOptions::default());
    a.encapsulate(&syn4(1460, 0), &mut esp).unwrap();
    b.decapsulate(&esp, from_b(false), &mut out).unwrap();
    assert_eq!(mss_of(&out), 1395, "clamped by the receiver");
    assert_eq!(&out[36..38], &tcp4_checksum(&out).to_be_bytes());
    // Smaller MSS values pass unchanged; clamping off leaves 1460.
    a.encapsulate(&syn4(1200, 0), &mut esp).unwrap();
    b.decapsulate(&esp, from_b(false), &mut out).unwrap();
    assert_eq!(mss_of(&out), 1200);
    let (a, b) = pair_with(no_clamp(), no_clamp());
    a.encapsulate(&syn4(1460, 0), &mut esp).unwrap();
    b.decapsulate(&esp, from_b(false), &mut out).unwrap();
    assert_eq!(out, syn4(1460, 0));
}

#[test]
fn ecn_and_dscp() {
    let (a, b) = pair_with(TunnelOptions::default(), TunnelOptions::default());
    let (mut esp, mut out) = (Vec::new(), Vec::new());
    // DSCP EF (46) with ECT(0): the outer header gets both (RFC 6040 §4.1, DSCP copied).
    let o = a.encapsulate(&syn4(1000, 0xb8 | 0b10), &mut esp).unwrap();
    assert_eq!(o.tos, 0xba);
    // Outer CE over inner ECT(0): the inner packet leaves marked CE, header checksum valid.
    let snap = b.snapshot();
    out.clear();
    snap.decapsulate_append_tos(&esp, from_b(false), 0b11, &mut out)
        .unwrap();
    assert_eq!(out[1], 0xbb);
    assert_eq!(checksum(&out[..20]), 0);
    // Outer CE over inner Not-ECT: dropped and counted (RFC 6040 §4.2).
    a.encapsulate(&syn4(1000, 0xb8), &mut esp).unwrap();
    out.clear();
    assert_eq!(
        snap.decapsulate_append_tos(&esp, from_b(false), 0b11, &mut out),
        Err(DropReason::EcnDrop)
    );
    assert!(out.is_empty());
    assert_eq!(b.drop_counters().get(DropReason::EcnDrop), 1);
    // DSCP not copied when configured so; ECN still is.
    let (a, _) = pair_with(
        TunnelOptions {
            copy_dscp: false,
            ..TunnelOptions::default()
        },
        TunnelOptions::default(),
    );
    assert_eq!(
        a.encapsulate(&syn4(1000, 0xb9), &mut esp).unwrap().tos,
        0b01
    );
}

fn big6(len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len];
    Ipv6Repr {
        src_addr: "2001:db8:2::10".parse().unwrap(),
        dst_addr: "2001:db8:10::10".parse().unwrap(),
        next_header: 17,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
        payload_len: len - 40,
    }
    .emit(&mut p)
    .unwrap();
    p
}

#[test]
fn path_mtu_and_icmp_too_big() {
    let small = TunnelOptions {
        path_mtu: 1200,
        ..TunnelOptions::default()
    };
    let (a, _) = pair_with(small, TunnelOptions::default());
    let max = 1200 - 65;
    assert_eq!(a.max_inner(CHILD), Some(max));
    let mut esp = Vec::new();
    // IPv4 with DF: refused, answered with "fragmentation needed" carrying the tunnel's MTU.
    let p = udp4("203.0.113.10", "198.51.100.10", 5000, 6000, 1200);
    assert_eq!(a.encapsulate(&p, &mut esp), Err(DropReason::PathMtu));
    let mut icmp = Vec::new();
    assert!(a.snapshot().icmp_too_big(&p, &mut icmp));
    let f = selector_fields(&icmp).unwrap();
    assert_eq!(
        (f.src.to_string(), f.dst.to_string()),
        ("198.51.100.10".into(), "203.0.113.10".into())
    );
    assert_eq!(&icmp[20..22], &[3, 4]);
    assert_eq!(&icmp[26..28], &(max as u16).to_be_bytes());
    // Exactly the largest that fits passes, and without DF a larger one goes (fragmented
    // outside).
    let fits = udp4("203.0.113.10", "198.51.100.10", 5000, 6000, max - 28);
    a.encapsulate(&fits, &mut esp).unwrap();
    assert!(esp.len() + 28 <= 1200);
    let mut no_df = p.clone();
    no_df[6] = 0;
    no_df[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&no_df[..20]);
    no_df[10..12].copy_from_slice(&c.to_be_bytes());
    a.encapsulate(&no_df, &mut esp).unwrap();
    // IPv6 over 1280: "packet too big" with the minimum MTU 1280 (RFC 8200 §5); 1280 itself
    // always goes.
    let p6 = big6(1300);
    assert_eq!(a.encapsulate(&p6, &mut esp), Err(DropReason::PathMtu));
    icmp.clear();
    assert!(a.snapshot().icmp_too_big(&p6, &mut icmp));
    assert_eq!(icmp[40], 2);
    assert_eq!(&icmp[44..48], &1280u32.to_be_bytes());
    a.encapsulate(&big6(1280), &mut esp).unwrap();
    assert_eq!(a.drop_counters().get(DropReason::PathMtu), 2);
}

/// An ICMP error quoting `quoted` (its first 28 bytes), from `router` to `to`.
fn icmp_error(router: &str, to: &str, quoted: &[u8]) -> Vec<u8> {
    let mut icmp = vec![3u8, 1, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&quoted[..28]);
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut p = vec![0u8; 20];
    Ipv4Repr {
        src_addr: router.parse().unwrap(),
        dst_addr: to.parse().unwrap(),
        protocol: 1,
        ttl: 64,
        dscp_ecn: 0,
        identification: 3,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        payload_len: icmp.len(),
    }
    .emit(&mut p)
    .unwrap();
    p.extend_from_slice(&icmp);
    p
}

#[test]
fn icmp_errors_judged_by_the_quoted_packet() {
    let (a, _) = mirror_pair("aes128gcm16", false);
    let k = keys("aes128gcm16", SPI_A_IN, 0x80);
    let mut out = Vec::new();
    // A router outside B's selectors reports on a packet A's side sent into the tunnel:
    // accepted (RFC 4301 §6.2.2).
    let ours = udp4("203.0.113.10", "198.51.100.10", 5000, 6000, 10);
    let err = icmp_error("192.0.2.77", "203.0.113.10", &ours);
    let esp = seal_raw(&k, 1, &with_trailer(&err, 4, 4, 0));
    a.decapsulate(&esp, from_b(false), &mut out).unwrap();
    assert_eq!(out, err);
    // One quoting a packet this SA never carried (to 192.0.2.5): refused, even though the
    // error's own addresses are inside the selectors.
    let other = udp4("203.0.113.10", "192.0.2.5", 5000, 6000, 10);
    let err = icmp_error("198.51.100.1", "203.0.113.10", &other);
    let esp = seal_raw(&k, 2, &with_trailer(&err, 4, 4, 0));
    assert_eq!(
        a.decapsulate(&esp, from_b(false), &mut out),
        Err(DropReason::SelectorMismatch)
    );
    // A non-error ICMP from outside the selectors is still refused.
    let echo = ping("192.0.2.77", "203.0.113.10", 8);
    let esp = seal_raw(&k, 3, &with_trailer(&echo, 4, 4, 0));
    assert_eq!(
        a.decapsulate(&esp, from_b(false), &mut out),
        Err(DropReason::SelectorMismatch)
    );
}

/// The sending side maps an ICMP error by the packet it quotes too (RFC 4301 §6.2): a router
/// on B's side outside B's selectors reports on a packet that came from A; B sends the error
/// through the child that carried the packet, and A accepts it.
#[test]
fn icmp_errors_follow_the_quoted_flow_outbound() {
    let (a, b) = mirror_pair("aes256gcm16", false);
    let from_a = udp4("203.0.113.10", "198.51.100.10", 5000, 6000, 10);
    let err = icmp_error("192.0.2.77", "203.0.113.10", &from_a);
    let (mut esp, mut out) = (Vec::new(), Vec::new());
    let o = b.encapsulate(&err, &mut esp).unwrap();
    assert_eq!(o.child_id, CHILD + 100);
    a.decapsulate(&esp, from_b(false), &mut out).unwrap();
    assert_eq!(out, err);
    // Quoting a packet no child carried: no policy, as for any packet from that router.
    let stray = udp4("203.0.113.10", "192.0.2.200", 5000, 6000, 10);
    let err = icmp_error("192.0.2.77", "203.0.113.10", &stray);
    assert_eq!(b.encapsulate(&err, &mut esp), Err(DropReason::NoPolicy));
}

#[test]
fn tfc_padding_hides_the_length() {
    let tfc = TunnelOptions {
        tfc_pad_to: Some(1000),
        ..TunnelOptions::default()
    };
    let (a, b) = pair_with(tfc, TunnelOptions::default());
    let (mut esp, mut out) = (Vec::new(), Vec::new());
    let mut lens = Vec::new();
    for n in [10, 300, 900] {
        let p = udp4("203.0.113.10", "198.51.100.10", 5000, 6000, n);
        a.encapsulate(&p, &mut esp).unwrap();
        lens.push(esp.len());
        b.decapsulate(&esp, from_b(false), &mut out).unwrap();
        assert_eq!(out, p, "the receiver strips TFC padding");
    }
    assert!(lens.iter().all(|&l| l == lens[0]), "{lens:?}");
    assert!(lens[0] >= 1000);
    // Never beyond what the path carries.
    let capped = TunnelOptions {
        tfc_pad_to: Some(9000),
        path_mtu: 1200,
        ..TunnelOptions::default()
    };
    let (a, _) = pair_with(capped, TunnelOptions::default());
    a.encapsulate(&udp4("203.0.113.10", "198.51.100.10", 1, 2, 10), &mut esp)
        .unwrap();
    assert!(esp.len() + 28 <= 1200, "{}", esp.len());
}
