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
