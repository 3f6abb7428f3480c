//! Transport mode (RFC 4303 §3.1.1) between two mirrored data planes: host A's own packet
//! carries only its upper-layer payload; host B gets it back with a header rebuilt from the
//! SA's addresses; over UDP encapsulation the checksum is fixed for B's view of A's address
//! (RFC 3948 §3.1.2).

mod common;

use std::net::{IpAddr, SocketAddr};

use common::*;
use esp::{ChildSaConfig, DataPlane, DropReason, Mode};
use wire::ip::{selector_fields, IPPROTO_UDP};

/// A and B as hosts: selectors are their own addresses, the SA is transport mode.
fn hosts(
    v6: bool,
    encap: bool,
    b_sees_a: Option<SocketAddr>,
) -> (DataPlane, DataPlane, ChildSaConfig) {
    let (mut ca, mut cb) = mirror_configs("aes128gcm16", v6);
    for c in [&mut ca, &mut cb] {
        c.mode = Mode::Transport;
        c.encap = encap;
        let (l, r) = (c.local.ip(), c.remote.ip());
        c.local_ts = vec![ts(&format!("{l}/{}", if v6 { 128 } else { 32 }))];
        c.remote_ts = vec![ts(&format!("{r}/{}", if v6 { 128 } else { 32 }))];
    }
    if let Some(a) = b_sees_a {
        cb.remote = a;
        cb.remote_ts = vec![ts(&format!("{}/32", a.ip()))];
    }
    let (a, b) = (DataPlane::new(), DataPlane::new());
    a.install_child(ca.clone()).unwrap();
    b.install_child(cb).unwrap();
    (a, b, ca)
}

#[test]
fn ipv4_udp_roundtrip_carries_only_the_payload() {
    let (a, b, ca) = hosts(false, false, None);
    let pkt = udp4("192.0.2.1", "192.0.2.100", 4000, 53, 100);
    let mut w = Vec::new();
    let o = a.encapsulate(&pkt, &mut w).unwrap();
    assert!(!o.encap);
    assert_eq!((o.local, o.remote), (ca.local, ca.remote));
    // ESP header 8 + IV 8 + (UDP 108 + pad + 2, aligned to 4) + ICV 16: no IP header inside.
    assert_eq!(w.len(), 8 + 8 + 112 + 16);
    let mut out = Vec::new();
    b.decapsulate(&w, ca.local, &mut out).unwrap();
    // The same packet back, except the fields a rebuilt header resets (ID, DF, TTL).
    let f = selector_fields(&out).unwrap();
    assert_eq!(f.src, ca.local.ip());
    assert_eq!(f.dst, ca.remote.ip());
    assert_eq!(f.next_proto, IPPROTO_UDP);
    assert_eq!(&out[20..], &pkt[20..]);
    assert_eq!(wire::ip::checksum(&out[..20]), 0);
}

#[test]
fn ipv6_roundtrip() {
    let (a, b, ca) = hosts(true, false, None);
    let pkt = ping(&ca.local.ip().to_string(), &ca.remote.ip().to_string(), 56);
    let mut w = Vec::new();
    a.encapsulate(&pkt, &mut w).unwrap();
    let mut out = Vec::new();
    b.decapsulate(&w, ca.local, &mut out).unwrap();
    assert_eq!(out.len(), pkt.len());
    assert_eq!(&out[8..], &pkt[8..]);
}

#[test]
fn checksum_recomputed_for_the_address_seen_after_nat() {
    // A sends from 192.0.2.1; a NAT between shows it to B as 203.0.113.5.
    let natted: SocketAddr = "203.0.113.5:4500".parse().unwrap();
    let (a, b, ca) = hosts(false, true, Some(natted));
    let mut pkt = udp4("192.0.2.1", "192.0.2.100", 4000, 53, 40);
    let c = wire::udp::udp_checksum(ca.local.ip(), ca.remote.ip(), &pkt[20..]).unwrap();
    pkt[26..28].copy_from_slice(&c.to_be_bytes());
    let mut w = Vec::new();
    assert!(a.encapsulate(&pkt, &mut w).unwrap().encap);
    let mut out = Vec::new();
    b.decapsulate(&w, natted, &mut out).unwrap();
    let src: IpAddr = natted.ip();
    assert_eq!(selector_fields(&out).unwrap().src, src);
    let fixed = wire::udp::udp_checksum(src, ca.remote.ip(), &out[20..]).unwrap();
    assert_eq!(&out[26..28], &fixed.to_be_bytes());
    assert_ne!(&out[26..28], &pkt[26..28]);
}

#[test]
fn fragments_and_foreign_packets_not_carried() {
    let (a, _b, _) = hosts(false, false, None);
    let mut w = Vec::new();
    let mut frag = udp4("192.0.2.1", "192.0.2.100", 4000, 53, 40);
    frag[6] = 0x20; // More Fragments
    assert_eq!(a.encapsulate(&frag, &mut w), Err(DropReason::Malformed));
    // Another host's packet is outside the selectors.
    let other = udp4("203.0.113.10", "192.0.2.100", 4000, 53, 40);
    assert_eq!(a.encapsulate(&other, &mut w), Err(DropReason::NoPolicy));
}
