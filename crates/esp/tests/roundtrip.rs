//! Two mirror-image data planes exchange packets for every suite, inner and outer family.

mod common;

use common::*;
use esp::{DropReason, MAX_ESP_LEN};

#[test]
fn round_trip_all_suites_and_families() {
    for suite in SUITES {
        for outer_v6 in [false, true] {
            // A jumbo path: the 1429-byte DF packet below is about ESP framing, not the MTU.
            let (a, b) = pair_with_path_mtu(suite, outer_v6, u16::MAX);
            let (a_addr, b_addr) = outer(outer_v6);
            let packets = [
                ping("203.0.113.10", "198.51.100.10", 56),
                udp4("203.0.113.10", "198.51.100.11", 5000, 53, 0),
                udp4("203.0.113.10", "198.51.100.11", 5000, 53, 1401),
                ping("2001:db8:2::10", "2001:db8:10::10", 56),
                ping("2001:db8:2::10", "2001:db8:10::10", 0),
            ];
            let mut wire_buf = Vec::with_capacity(2048);
            let mut plain = Vec::with_capacity(2048);
            for (i, p) in packets.iter().enumerate() {
                let seq = i as u32 + 1;
                let o = a.encapsulate(p, &mut wire_buf).unwrap();
                assert_eq!((o.local, o.remote), (a_addr, b_addr), "{suite}");
                assert!(o.encap);
                assert_eq!(o.child_id, CHILD);
                assert_eq!(o.inner_len, p.len());
                // SPI | seq | IV | ciphertext | ICV (RFC 4303 §2).
                assert_eq!(&wire_buf[..4], &SPI_B_IN.to_be_bytes());
                assert_eq!(&wire_buf[4..8], &seq.to_be_bytes());
                let (iv_len, icv_len) = if suite.contains("gcm") {
                    // AEAD IV = 64-bit sequence number.
                    assert_eq!(&wire_buf[8..16], &u64::from(seq).to_be_bytes());
                    (8, 16)
                } else {
                    (16, 16)
                };
                let ct_len = wire_buf.len() - 8 - iv_len - icv_len;
                assert_eq!(ct_len % align_of(suite), 0, "{suite}: misaligned");
                assert!(ct_len >= p.len() + 2 && ct_len < p.len() + 2 + align_of(suite));
                // The plaintext does not appear in the clear.
                if p.len() > 40 {
                    assert!(!wire_buf.windows(16).any(|w| w == &p[p.len() - 16..]));
                }

                let inb = b.decapsulate(&wire_buf, a_addr, &mut plain).unwrap();
                assert_eq!(&plain, p, "{suite} outer_v6={outer_v6} packet {i}");
                assert_eq!(inb.child_id, CHILD + 100);
                assert_eq!(inb.spi, SPI_B_IN);
                assert_eq!(inb.seq, u64::from(seq));
                assert_eq!(inb.len, p.len());
                assert!(!inb.remote_changed);
            }
            let total: u64 = packets.iter().map(|p| p.len() as u64).sum();
            let sa = a.child_stats(CHILD).unwrap();
            assert_eq!((sa.packets_out, sa.bytes_out), (5, total));
            assert_eq!((sa.packets_in, sa.bytes_in), (0, 0));
            let sb = b.child_stats(CHILD + 100).unwrap();
            assert_eq!((sb.packets_in, sb.bytes_in), (5, total));
            assert_eq!(b.inbound_sa_stats(SPI_B_IN).unwrap().highest_seq, 5);
            assert_eq!(a.outbound_sa_stats(CHILD).unwrap().highest_seq, 5);

            // And back from B to A.
            let back = ping("198.51.100.10", "203.0.113.10", 64);
            b.encapsulate(&back, &mut wire_buf).unwrap();
            let inb = a.decapsulate(&wire_buf, b_addr, &mut plain).unwrap();
            assert_eq!(plain, back);
            assert_eq!(inb.child_id, CHILD);
            assert_eq!(a.drop_counters().total(), 0);
            assert_eq!(b.drop_counters().total(), 0);
        }
    }
}

#[test]
fn cbc_ivs_differ_between_packets() {
    let (a, _) = mirror_pair("aes128-sha256", false);
    let p = ping("203.0.113.10", "198.51.100.10", 56);
    let mut x = Vec::new();
    let mut y = Vec::new();
    a.encapsulate(&p, &mut x).unwrap();
    a.encapsulate(&p, &mut y).unwrap();
    assert_ne!(&x[8..24], &y[8..24]);
    assert_ne!(&x[24..], &y[24..]);
}

#[test]
fn trailing_bytes_after_the_ip_packet_are_not_sent() {
    let (a, b) = mirror_pair("aes128gcm16", false);
    let p = ping("203.0.113.10", "198.51.100.10", 20);
    let mut padded = p.clone();
    padded.extend_from_slice(&[0xee; 9]);
    let mut w = Vec::new();
    let o = a.encapsulate(&padded, &mut w).unwrap();
    assert_eq!(o.inner_len, p.len());
    let mut plain = Vec::new();
    b.decapsulate(&w, outer(false).0, &mut plain).unwrap();
    assert_eq!(plain, p);
}

#[test]
fn no_policy_and_malformed_outbound() {
    let (a, _) = mirror_pair("aes256gcm16", false);
    let mut w = vec![1, 2, 3];
    // Destination outside B's selectors.
    let p = ping("203.0.113.10", "198.51.100.200", 8);
    assert_eq!(a.encapsulate(&p, &mut w), Err(DropReason::NoPolicy));
    assert!(w.is_empty());
    // Source outside A's selectors.
    let p = ping("192.0.2.77", "198.51.100.10", 8);
    assert_eq!(a.encapsulate(&p, &mut w), Err(DropReason::NoPolicy));
    // Mixed: v6 source in A's, v6 destination outside.
    let p = ping("2001:db8:2::1", "2001:db8:99::1", 8);
    assert_eq!(a.encapsulate(&p, &mut w), Err(DropReason::NoPolicy));
    assert_eq!(
        a.encapsulate(&[0x45, 0], &mut w),
        Err(DropReason::Malformed)
    );
    assert_eq!(a.encapsulate(&[], &mut w), Err(DropReason::Malformed));
    let c = a.drop_counters();
    assert_eq!(c.get(DropReason::NoPolicy), 3);
    assert_eq!(c.get(DropReason::Malformed), 2);
    assert_eq!(a.child_stats(CHILD).unwrap().packets_out, 0);
}

#[test]
fn port_selectors_choose_the_child() {
    // Two children to the same peer networks: UDP port 53 first, everything else second.
    let (mut ca, cb) = mirror_configs("aes128gcm16", false);
    ca.local_ts = vec![ts("203.0.113.0/24[udp/53]")];
    let a = esp::DataPlane::new();
    a.install_child(ca.clone()).unwrap();
    let mut second = cb.clone();
    second.id = 99;
    second.local_ts = a_ts();
    second.remote_ts = b_ts();
    second.inbound.spi = 0x1000;
    second.outbound.spi = 0x2000;
    a.install_child(second).unwrap();
    assert_eq!(a.child_ids().collect::<Vec<_>>(), vec![CHILD, 99]);
    let mut w = Vec::new();
    let dns = udp4("203.0.113.10", "198.51.100.11", 53, 40000, 10);
    assert_eq!(a.encapsulate(&dns, &mut w).unwrap().child_id, CHILD);
    let other = udp4("203.0.113.10", "198.51.100.11", 54, 40000, 10);
    assert_eq!(a.encapsulate(&other, &mut w).unwrap().child_id, 99);
    assert_eq!(&w[..4], &0x2000u32.to_be_bytes());
}

#[test]
fn update_peer_moves_the_destination() {
    let (a, b) = mirror_pair("aes128gcm16", false);
    let moved: std::net::SocketAddr = "192.0.2.100:31000".parse().unwrap();
    a.update_peer(CHILD, moved).unwrap();
    let mut w = Vec::new();
    let o = a
        .encapsulate(&ping("203.0.113.10", "198.51.100.10", 8), &mut w)
        .unwrap();
    assert_eq!(o.remote, moved);
    assert!(a
        .update_peer(CHILD, "[2001:db8::1]:4500".parse().unwrap())
        .is_err());
    // B sees A arrive from a new port: reported, not acted on.
    let mut plain = Vec::new();
    let inb = b
        .decapsulate(&w, "192.0.2.1:1024".parse().unwrap(), &mut plain)
        .unwrap();
    assert!(inb.remote_changed);
}

#[test]
fn oversized_packet_is_refused() {
    // A path as large as IPv4 allows: only the ESP length limit refuses packets.
    let (a, _) = pair_with_path_mtu("aes128-sha256", false, u16::MAX);
    let mut p = udp4("203.0.113.10", "198.51.100.11", 1, 2, 65_535 - 28);
    // Without DF (with DF it would be answered as too big for the path, `edge.rs`).
    p[6] = 0;
    p[10..12].copy_from_slice(&[0, 0]);
    let c = wire::ip::checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let mut w = Vec::new();
    assert_eq!(a.encapsulate(&p, &mut w), Err(DropReason::TooBig));
    let fits = udp4("203.0.113.10", "198.51.100.11", 1, 2, MAX_ESP_LEN - 28 - 60);
    assert!(a.encapsulate(&fits, &mut w).unwrap().inner_len == fits.len());
    assert!(w.len() <= MAX_ESP_LEN);
}
