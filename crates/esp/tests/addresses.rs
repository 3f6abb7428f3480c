//! Outer address changes of a child (NAT mapping moved, RFC 7296 §2.23; MOBIKE, RFC 4555 §3.5):
//! the SA keeps its keys and sequence numbers, only where packets go changes.

mod common;

use common::{mirror_pair, udp4, CHILD};

#[test]
fn update_addresses_moves_both_ends_and_keeps_the_sa() {
    let (a, b) = mirror_pair("aes256gcm16", false);
    let p = udp4("203.0.113.5", "198.51.100.7", 1000, 2000, 100);
    let mut out = Vec::new();
    let first = a.encapsulate(&p, &mut out).unwrap();
    assert_eq!(first.local, "192.0.2.1:4500".parse().unwrap());

    let (local, remote) = (
        "192.0.2.55:4500".parse().unwrap(),
        "192.0.2.100:31000".parse().unwrap(),
    );
    a.update_addresses(CHILD, local, remote).unwrap();
    let moved = a.encapsulate(&p, &mut out).unwrap();
    assert_eq!((moved.local, moved.remote), (local, remote));
    // Same SA: the peer opens it (sequence number 2, within the window).
    let mut inner = Vec::new();
    b.decapsulate(&out, remote, &mut inner).unwrap();
    assert_eq!(inner, p);

    // Families must agree; an unknown child is an error; neither changes anything.
    assert!(a
        .update_addresses(CHILD, "[2001:db8::1]:4500".parse().unwrap(), remote)
        .is_err());
    assert!(a.update_addresses(CHILD + 1, local, remote).is_err());
    assert_eq!(a.encapsulate(&p, &mut out).unwrap().local, local);
}

/// The path MTU follows the route's (RFC 4301 §8.2): lowered, a packet that fitted before is
/// refused with `PathMtu` (with DF) and `max_inner` shrinks by the same amount; raised again,
/// it passes. The SA itself is untouched.
#[test]
fn set_path_mtu_changes_what_the_tunnel_carries() {
    let (a, b) = mirror_pair("aes256gcm16", false);
    let (remote, mtu) = a.child_path(CHILD).unwrap();
    assert_eq!(mtu, esp::TunnelOptions::DEFAULT_PATH_MTU);
    assert_eq!(remote, common::outer(false).1);
    let before = a.max_inner(CHILD).unwrap();
    // 1300 bytes of IPv4 with DF (the helper sets DF on every packet it builds).
    let p = udp4("203.0.113.5", "198.51.100.7", 1000, 2000, 1300 - 28);
    let mut out = Vec::new();
    assert!(a.encapsulate(&p, &mut out).is_ok());

    a.set_path_mtu(CHILD, 1300).unwrap();
    assert_eq!(a.child_path(CHILD).unwrap().1, 1300);
    assert_eq!(a.max_inner(CHILD).unwrap(), before - 200);
    assert_eq!(a.encapsulate(&p, &mut out), Err(esp::DropReason::PathMtu));
    a.set_path_mtu(CHILD, 1500).unwrap();
    assert!(a.encapsulate(&p, &mut out).is_ok());
    // Same SA: the peer opens it (the third sequence number handed out).
    let mut inner = Vec::new();
    b.decapsulate(&out, remote, &mut inner).unwrap();
    assert_eq!(inner, p);
    assert!(a.set_path_mtu(CHILD + 1, 1400).is_err());
    assert!(a.child_path(CHILD + 1).is_none());
}
