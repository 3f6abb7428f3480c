//! Inbound drops: replay, tampering, unknown SPI, selectors, padding, Next Header, truncation,
//! random input.

mod common;

use common::*;
use esp::{ChildSaConfig, DataPlane, DropReason};
use proptest::prelude::*;
use wire::esp::{NEXT_HEADER_IPV4, NEXT_HEADER_IPV6, NEXT_HEADER_NONE};

fn seal_n(a: &mut DataPlane, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut w = Vec::new();
            a.encapsulate(&ping("203.0.113.10", "198.51.100.10", i % 50), &mut w)
                .unwrap();
            w
        })
        .collect()
}

#[test]
fn replay_window() {
    for suite in SUITES {
        let (mut a, b) = mirror_pair(suite, false);
        let from = outer(false).0;
        let pkts = seal_n(&mut a, 70);
        let mut out = Vec::new();
        // Out of order inside the window: 5, 3, 4, 1.
        for i in [4usize, 2, 3, 0] {
            b.decapsulate(&pkts[i], from, &mut out).unwrap();
        }
        // Duplicate.
        assert_eq!(
            b.decapsulate(&pkts[2], from, &mut out),
            Err(DropReason::Replay)
        );
        assert!(out.is_empty());
        // Jump to 70; 6 is now 64 behind (too old), 7 is inside.
        b.decapsulate(&pkts[69], from, &mut out).unwrap();
        assert_eq!(
            b.decapsulate(&pkts[5], from, &mut out),
            Err(DropReason::Replay)
        );
        b.decapsulate(&pkts[6], from, &mut out).unwrap();
        b.decapsulate(&pkts[68], from, &mut out).unwrap();
        assert_eq!(
            b.decapsulate(&pkts[68], from, &mut out),
            Err(DropReason::Replay)
        );
        let c = b.drop_counters();
        assert_eq!(c.get(DropReason::Replay), 3, "{suite}");
        assert_eq!(c.total(), 3);
        assert_eq!(b.child_stats(CHILD + 100).unwrap().packets_in, 7);
    }
}

#[test]
fn larger_window_accepts_older_packets() {
    let (ca, mut cb) = mirror_configs("aes128gcm16", false);
    cb.replay_window = 1024;
    let mut a = DataPlane::new();
    let b = DataPlane::new();
    a.install_child(ca).unwrap();
    b.install_child(cb).unwrap();
    let pkts = seal_n(&mut a, 300);
    let mut out = Vec::new();
    b.decapsulate(&pkts[299], outer(false).0, &mut out).unwrap();
    b.decapsulate(&pkts[0], outer(false).0, &mut out).unwrap();
}

#[test]
fn tampering_is_dropped_and_does_not_move_the_window() {
    for suite in SUITES {
        let (mut a, b) = mirror_pair(suite, false);
        let from = outer(false).0;
        let pkts = seal_n(&mut a, 2);
        let mut out = Vec::new();
        // Flip one bit in each region: ICV, ciphertext, IV, and the sequence number (AAD).
        let p = &pkts[0];
        for at in [p.len() - 1, p.len() - 20, 9, 7] {
            let mut bad = p.clone();
            bad[at] ^= 0x02;
            assert_eq!(
                b.decapsulate(&bad, from, &mut out),
                Err(DropReason::IcvFailure),
                "{suite} byte {at}"
            );
            assert!(out.is_empty());
        }
        // A forged high sequence number must not have advanced the window: claim seq 1000.
        let mut forged = pkts[0].clone();
        forged[4..8].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(
            b.decapsulate(&forged, from, &mut out),
            Err(DropReason::IcvFailure)
        );
        b.decapsulate(&pkts[1], from, &mut out).unwrap();
        b.decapsulate(&pkts[0], from, &mut out).unwrap();
        assert_eq!(b.drop_counters().get(DropReason::IcvFailure), 5);
        assert_eq!(b.inbound_sa_stats(SPI_B_IN).unwrap().highest_seq, 2);
    }
}

#[test]
fn unknown_spi() {
    let (mut a, b) = mirror_pair("aes256gcm16", false);
    let mut p = seal_n(&mut a, 1).remove(0);
    p[0] ^= 0x80;
    let mut out = Vec::new();
    assert_eq!(
        b.decapsulate(&p, outer(false).0, &mut out),
        Err(DropReason::UnknownSpi)
    );
    assert_eq!(b.drop_counters().get(DropReason::UnknownSpi), 1);
}

#[test]
fn inner_selector_mismatch() {
    // A believes B's side is the whole /24; B only agreed to /25 (and 2001:db8:2::/64 for A).
    let (mut ca, cb) = mirror_configs("aes128-sha256", false);
    ca.remote_ts = vec![ts("198.51.100.0/24"), ts("2001:db8:10::/48")];
    ca.local_ts = vec![ts("203.0.113.0/24"), ts("2001:db8::/32")];
    let a = DataPlane::new();
    let b = DataPlane::new();
    a.install_child(ca).unwrap();
    b.install_child(cb).unwrap();
    let from = outer(false).0;
    let mut w = Vec::new();
    let mut out = Vec::new();
    // Destination outside B's local_ts.
    a.encapsulate(&ping("203.0.113.10", "198.51.100.200", 8), &mut w)
        .unwrap();
    assert_eq!(
        b.decapsulate(&w, from, &mut out),
        Err(DropReason::SelectorMismatch)
    );
    assert!(out.is_empty());
    // Source outside B's remote_ts (IPv6).
    a.encapsulate(&ping("2001:db8:3::1", "2001:db8:10::10", 8), &mut w)
        .unwrap();
    assert_eq!(
        b.decapsulate(&w, from, &mut out),
        Err(DropReason::SelectorMismatch)
    );
    // Inside both.
    a.encapsulate(&ping("203.0.113.10", "198.51.100.10", 8), &mut w)
        .unwrap();
    b.decapsulate(&w, from, &mut out).unwrap();
    assert_eq!(b.drop_counters().get(DropReason::SelectorMismatch), 2);
}

#[test]
fn padding_next_header_and_tfc() {
    for suite in SUITES {
        let (_, b) = mirror_pair(suite, false);
        let k = keys(suite, SPI_B_IN, 0x10); // A -> B keys, as in mirror_configs
        let from = outer(false).0;
        let al = align_of(suite);
        let inner = ping("203.0.113.10", "198.51.100.10", 13);
        let mut out = Vec::new();

        // Padding bytes not 1, 2, 3, ...
        let mut pt = with_trailer(&inner, al, NEXT_HEADER_IPV4, al);
        let n = pt.len();
        pt[n - 3] ^= 0xff;
        assert_eq!(
            b.decapsulate(&seal_raw(&k, 1, &pt), from, &mut out),
            Err(DropReason::BadPadding),
            "{suite}"
        );
        // Pad Length longer than the plaintext.
        let mut pt = with_trailer(&[], al, NEXT_HEADER_IPV4, 0);
        let n = pt.len();
        pt[n - 2] = 200;
        assert_eq!(
            b.decapsulate(&seal_raw(&k, 2, &pt), from, &mut out),
            Err(DropReason::BadPadding)
        );
        // Dummy packet (Next Header 59, RFC 4303 §2.6).
        let pt = with_trailer(&[], al, NEXT_HEADER_NONE, 0);
        assert_eq!(
            b.decapsulate(&seal_raw(&k, 3, &pt), from, &mut out),
            Err(DropReason::Dummy)
        );
        // Next Header UDP in tunnel mode; IPv6 announced but IPv4 inside.
        for nh in [17u8, NEXT_HEADER_IPV6] {
            let pt = with_trailer(&inner, al, nh, 0);
            assert_eq!(
                b.decapsulate(&seal_raw(&k, 4 + u32::from(nh), &pt), from, &mut out),
                Err(DropReason::BadNextHeader)
            );
        }
        // Not an IP packet inside.
        let pt = with_trailer(&[0x45, 0, 0], al, NEXT_HEADER_IPV4, 0);
        assert_eq!(
            b.decapsulate(&seal_raw(&k, 100, &pt), from, &mut out),
            Err(DropReason::Malformed)
        );
        // TFC padding after the inner packet (RFC 4303 §2.7) is accepted and removed, and so is
        // extra ESP padding.
        let mut tfc = inner.clone();
        tfc.extend_from_slice(&[0u8; 33]);
        let pt = with_trailer(&tfc, al, NEXT_HEADER_IPV4, 2 * al);
        let inb = b
            .decapsulate(&seal_raw(&k, 101, &pt), from, &mut out)
            .unwrap();
        assert_eq!(out, inner);
        assert_eq!(inb.len, inner.len());
        // Ciphertext not aligned to the block (and 4 bytes).
        let mut bad = seal_raw(&k, 102, &with_trailer(&inner, al, NEXT_HEADER_IPV4, 0));
        bad.insert(30, 0);
        assert_eq!(
            b.decapsulate(&bad, from, &mut out),
            Err(DropReason::BadLength)
        );
        let c = b.drop_counters();
        for r in [
            DropReason::BadPadding,
            DropReason::BadNextHeader,
            DropReason::Dummy,
        ] {
            assert!(c.get(r) >= 1, "{suite}: {r}");
        }
    }
}

#[test]
fn truncated_at_every_length() {
    for suite in SUITES {
        let (mut a, b) = mirror_pair(suite, false);
        let from = outer(false).0;
        let p = seal_n(&mut a, 1).remove(0);
        let mut out = Vec::new();
        for n in 0..p.len() {
            let r = b.decapsulate(&p[..n], from, &mut out);
            assert!(r.is_err(), "{suite}: accepted {n} bytes");
            assert!(out.is_empty());
        }
        // Nothing of that moved the window.
        b.decapsulate(&p, from, &mut out).unwrap();
        let c = b.drop_counters();
        assert!(c.get(DropReason::Truncated) >= 8 + 8);
        assert_eq!(c.get(DropReason::Replay), 0);
    }
}

#[test]
fn sad_holds_two_inbound_sas_per_child() {
    let (a, b) = mirror_pair("aes256gcm16", false);
    let from = outer(false).0;
    let mut w = Vec::new();
    let mut out = Vec::new();
    let p = ping("203.0.113.10", "198.51.100.10", 8);
    // Rekey: B adds a new inbound SA, A switches its outbound SA to it.
    let new_keys = keys("aes256gcm16", 0xabcd_0001, 0x33);
    b.add_inbound_sa(CHILD + 100, new_keys.clone()).unwrap();
    assert_eq!(
        b.add_inbound_sa(CHILD + 100, new_keys.clone()),
        Err(esp::EspError::DuplicateSpi(0xabcd_0001))
    );
    a.encapsulate(&p, &mut w).unwrap();
    let old_pkt = w.clone();
    let old = a.replace_outbound_sa(CHILD, new_keys).unwrap();
    assert_eq!(old.packets, 1);
    a.encapsulate(&p, &mut w).unwrap();
    assert_eq!(&w[..8], &[0xab, 0xcd, 0, 1, 0, 0, 0, 1]);
    // Both arrive; the old one late.
    assert_eq!(b.decapsulate(&w, from, &mut out).unwrap().spi, 0xabcd_0001);
    assert_eq!(
        b.decapsulate(&old_pkt, from, &mut out).unwrap().spi,
        SPI_B_IN
    );
    assert_eq!(
        b.inbound_spis(CHILD + 100).unwrap(),
        &[SPI_B_IN, 0xabcd_0001]
    );
    assert_eq!(b.child_of_spi(0xabcd_0001), Some(CHILD + 100));
    let st = b.remove_inbound_sa(SPI_B_IN).unwrap();
    assert_eq!(st.packets, 1);
    assert_eq!(b.inbound_spis(CHILD + 100).unwrap(), &[0xabcd_0001]);
    assert_eq!(
        b.decapsulate(&old_pkt, from, &mut out),
        Err(DropReason::UnknownSpi)
    );
    assert_eq!(b.child_stats(CHILD + 100).unwrap().packets_in, 2);
    let total = b.remove_child(CHILD + 100).unwrap();
    assert_eq!(total.packets_in, 2);
    assert_eq!(b.child_of_spi(0xabcd_0001), None);
    assert_eq!(
        b.decapsulate(&w, from, &mut out),
        Err(DropReason::UnknownSpi)
    );
}

#[test]
fn install_validation() {
    let (ca, _) = mirror_configs("aes128gcm16", false);
    let d = DataPlane::new();
    let mut bad = ca.clone();
    bad.inbound.spi = 255;
    assert_eq!(d.install_child(bad), Err(esp::EspError::ReservedSpi(255)));
    let mut bad = ca.clone();
    bad.local_ts.clear();
    assert!(d.install_child(bad).is_err());
    let mut bad = ca.clone();
    bad.remote = "[2001:db8::1]:4500".parse().unwrap();
    assert!(d.install_child(bad).is_err());
    let mut bad = ca.clone();
    bad.replay_window = ChildSaConfig::MAX_REPLAY_WINDOW + 1;
    assert!(d.install_child(bad).is_err());
    let mut bad = ca.clone();
    bad.inbound.encr_key = crypto::SecretBytes::zeroed(3);
    assert!(matches!(
        d.install_child(bad),
        Err(esp::EspError::Crypto(_))
    ));
    let mut bad = ca.clone();
    bad.inbound.integ = Some(crypto::IntegId::HmacSha2_256_128);
    assert!(d.install_child(bad).is_err());
    // Nothing half-installed by the failures.
    assert_eq!(d.child_ids().count(), 0);
    d.install_child(ca.clone()).unwrap();
    assert_eq!(
        d.install_child(ca.clone()),
        Err(esp::EspError::DuplicateChild(CHILD))
    );
    let mut other = ca.clone();
    other.id = 1;
    assert_eq!(
        d.install_child(other),
        Err(esp::EspError::DuplicateSpi(SPI_A_IN))
    );
    assert_eq!(d.remove_child(1), Err(esp::EspError::UnknownChild(1)));
    // Overhead: IPv4 + UDP + ESP(8) + IV 8 + pad 3 + 2 + ICV 16.
    assert_eq!(d.overhead(CHILD), Some(20 + 8 + 8 + 8 + 3 + 2 + 16));
}

#[test]
fn overhead_cbc_v6() {
    let (ca, _) = mirror_configs("aes128-sha256", true);
    let d = DataPlane::new();
    d.install_child(ca).unwrap();
    assert_eq!(d.overhead(CHILD), Some(40 + 8 + 8 + 16 + 15 + 2 + 16));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random bytes, with and without a valid SPI in front, never panic and never pass.
    #[test]
    fn random_input_never_panics(suite in prop::sample::select(SUITES.to_vec()),
                                 known_spi: bool,
                                 bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (_, b) = mirror_pair(suite, false);
        let mut input = bytes.clone();
        if known_spi && input.len() >= 4 {
            input[..4].copy_from_slice(&SPI_B_IN.to_be_bytes());
        }
        let mut out = vec![0xaa; 7];
        let r = b.decapsulate(&input, outer(false).0, &mut out);
        prop_assert!(r.is_err());
        prop_assert!(out.is_empty());
        prop_assert_eq!(b.drop_counters().total(), 1);
    }

    /// Random bytes into encapsulate never panic.
    #[test]
    fn random_outbound_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let (a, _) = mirror_pair("aes128gcm16", false);
        let mut out = Vec::new();
        if a.encapsulate(&bytes, &mut out).is_err() {
            prop_assert!(out.is_empty());
        }
    }
}
