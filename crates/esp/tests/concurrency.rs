//! One data plane shared by several worker threads: sequence numbers are allocated once per SA
//! across workers (RFC 4303 §3.3.3; with AEAD the IV is the sequence number, RFC 4106 §3.1),
//! reordering between workers stays inside the replay window (RFC 4303 §3.4.3), a packet raced
//! by two workers is accepted once, and the batch API (`snapshot`, `*_append`) keeps what the
//! buffer held before.

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::thread;

use common::*;
use esp::DropReason;

const THREADS: usize = 4;
const PER_THREAD: usize = 1500;

fn seq_of(esp: &[u8]) -> u32 {
    u32::from_be_bytes(esp[4..8].try_into().unwrap())
}

#[test]
fn workers_never_reuse_a_sequence_number() {
    for suite in SUITES {
        let (a, _) = mirror_pair(suite, false);
        let barrier = Barrier::new(THREADS);
        let seqs: Vec<Vec<u32>> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (a, barrier) = (&a, &barrier);
                    s.spawn(move || {
                        let p = ping("203.0.113.10", "198.51.100.10", 100 + t);
                        let mut out = Vec::with_capacity(2048);
                        let mut seen = Vec::with_capacity(PER_THREAD);
                        barrier.wait();
                        for i in 0..PER_THREAD {
                            // Half through the batch API, half one by one.
                            if i % 2 == 0 {
                                a.encapsulate(&p, &mut out).unwrap();
                            } else {
                                out.clear();
                                a.snapshot().encapsulate_append(&p, &mut out).unwrap();
                            }
                            let seq = seq_of(&out);
                            if suite.contains("gcm") {
                                // The explicit IV carries the same number.
                                assert_eq!(&out[8..16], &u64::from(seq).to_be_bytes());
                            }
                            seen.push(seq);
                        }
                        seen
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let all: BTreeSet<u32> = seqs.iter().flatten().copied().collect();
        let n = THREADS * PER_THREAD;
        assert_eq!(all.len(), n, "{suite}: a sequence number was used twice");
        assert_eq!(all.first(), Some(&1));
        assert_eq!(all.last(), Some(&(n as u32)));
        // Each worker saw its own numbers in increasing order.
        for s in &seqs {
            assert!(s.windows(2).all(|w| w[0] < w[1]), "{suite}");
        }
        let st = a.outbound_sa_stats(CHILD).unwrap();
        assert_eq!(
            (st.packets, st.highest_seq),
            (n as u64, n as u64),
            "{suite}"
        );
        assert_eq!(a.child_stats(CHILD).unwrap().packets_out, n as u64);
    }
}

/// Seals `n` packets on A, in sequence-number order.
fn sealed(a: &esp::DataPlane, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut w = Vec::new();
            a.encapsulate(&ping("203.0.113.10", "198.51.100.10", i % 64), &mut w)
                .unwrap();
            w
        })
        .collect()
}

#[test]
fn reordering_between_workers_stays_inside_the_window() {
    let (a, b) = mirror_pair("aes128gcm16", false);
    let from = outer(false).0;
    let n = 4000;
    let pkts = sealed(&a, n);
    // Two receive workers: one takes the odd sequence numbers, the other the even ones, in
    // batches of 16 (32 consecutive numbers between them). How the two interleave inside a
    // batch is up to the scheduler, and the second one opens its batch newest first; they meet
    // at a barrier before each batch, so no packet arrives more than 31 behind the highest
    // one seen: inside the 64-packet window, so every packet must be accepted.
    let batch = 16;
    let barrier = Barrier::new(2);
    let accepted: Vec<usize> = thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let (b, pkts, barrier) = (&b, &pkts, &barrier);
                s.spawn(move || {
                    let mut out = Vec::with_capacity(2048);
                    let mut ok = 0;
                    let mine: Vec<&Vec<u8>> = pkts.iter().skip(w).step_by(2).collect();
                    for chunk in mine.chunks(batch) {
                        barrier.wait();
                        let snap = b.snapshot();
                        let order: Vec<&&Vec<u8>> = if w == 1 {
                            chunk.iter().rev().collect()
                        } else {
                            chunk.iter().collect()
                        };
                        for p in order {
                            out.clear();
                            if snap.decapsulate_append(p, from, &mut out).is_ok() {
                                ok += 1;
                            }
                        }
                    }
                    ok
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(accepted.iter().sum::<usize>(), n, "{:?}", b.drop_counters());
    assert_eq!(b.drop_counters().total(), 0);
    let st = b.inbound_sa_stats(SPI_B_IN).unwrap();
    assert_eq!((st.packets, st.highest_seq), (n as u64, n as u64));
    // Every packet again, now from both workers at once: all are replays.
    let mut out = Vec::new();
    for p in &pkts {
        assert_eq!(b.decapsulate(p, from, &mut out), Err(DropReason::Replay));
    }
    assert_eq!(b.drop_counters().get(DropReason::Replay), n as u64);
}

#[test]
fn a_packet_raced_by_two_workers_is_accepted_once() {
    for suite in SUITES {
        let (a, b) = mirror_pair(suite, false);
        let from = outer(false).0;
        let n = 2000;
        let pkts = sealed(&a, n);
        let barrier = Barrier::new(THREADS);
        // Every worker feeds every packet, in the same order: each packet is raced by all.
        let accepted: Vec<usize> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (b, pkts, barrier) = (&b, &pkts, &barrier);
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(2048);
                        barrier.wait();
                        pkts.iter()
                            .filter(|p| b.decapsulate(p, from, &mut out).is_ok())
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let total: usize = accepted.iter().sum();
        // A packet can come too late for the window only when a racing worker is more than a
        // window ahead; either way no packet is accepted twice.
        let replays = b.drop_counters().get(DropReason::Replay) as usize;
        assert_eq!(total + replays, THREADS * n, "{suite}");
        assert!(total <= n, "{suite}: a packet was accepted twice");
        assert_eq!(
            b.inbound_sa_stats(SPI_B_IN).unwrap().packets as usize,
            total
        );
        assert_eq!(b.drop_counters().total() as usize, replays);
    }
}

#[test]
fn append_keeps_the_prefix_and_truncates_on_drop() {
    let (a, b) = mirror_pair("aes256gcm16", false);
    let from = outer(false).0;
    let p1 = ping("203.0.113.10", "198.51.100.10", 56);
    let p2 = ping("203.0.113.10", "198.51.100.10", 120);
    // Two ESP packets back to back after a 3-byte prefix (a GSO send buffer).
    let mut wire = vec![0xee; 3];
    let snap = a.snapshot();
    snap.encapsulate_append(&p1, &mut wire).unwrap();
    let cut = wire.len();
    snap.encapsulate_append(&p2, &mut wire).unwrap();
    // A packet without policy leaves the buffer as it was.
    let before = wire.clone();
    assert_eq!(
        snap.encapsulate_append(&ping("192.0.2.77", "192.0.2.78", 8), &mut wire),
        Err(DropReason::NoPolicy)
    );
    assert_eq!(wire, before);
    assert_eq!(&wire[..3], &[0xee; 3]);

    // Open both behind a 12-byte header (a TUN offload header), in one snapshot.
    let rx = b.snapshot();
    let mut out = vec![0x11; 12];
    let inb = rx
        .decapsulate_append(&wire[3..cut], from, &mut out)
        .unwrap();
    assert_eq!(inb.len, p1.len());
    assert_eq!(&out[..12], &[0x11; 12]);
    assert_eq!(&out[12..], &p1[..]);
    out.truncate(12);
    rx.decapsulate_append(&wire[cut..], from, &mut out).unwrap();
    assert_eq!(&out[12..], &p2[..]);
    // A replay leaves only the header.
    out.truncate(12);
    assert_eq!(
        rx.decapsulate_append(&wire[cut..], from, &mut out),
        Err(DropReason::Replay)
    );
    assert_eq!(out, vec![0x11; 12]);
    // A forged ICV too: no unauthenticated plaintext remains.
    let mut bad = wire[3..cut].to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let (_, b2) = mirror_pair("aes256gcm16", false);
    let mut out = vec![0x22; 12];
    assert_eq!(
        b2.snapshot().decapsulate_append(&bad, from, &mut out),
        Err(DropReason::IcvFailure)
    );
    assert_eq!(out, vec![0x22; 12]);
}

#[test]
fn a_snapshot_does_not_see_later_changes_but_counters_are_shared() {
    let (a, _) = mirror_pair("aes128gcm16", false);
    let p = ping("203.0.113.10", "198.51.100.10", 10);
    let old = a.snapshot();
    let moved: std::net::SocketAddr = "192.0.2.200:31000".parse().unwrap();
    a.update_peer(CHILD, moved).unwrap();
    let mut out = Vec::new();
    let o = old.encapsulate_append(&p, &mut out).unwrap();
    assert_ne!(o.remote, moved);
    out.clear();
    let o = a.snapshot().encapsulate_append(&p, &mut out).unwrap();
    assert_eq!(o.remote, moved);
    // Same SA across both versions: numbers 1 and 2, counted on the one child.
    assert_eq!(seq_of(&out), 2);
    assert_eq!(a.child_stats(CHILD).unwrap().packets_out, 2);
    // Removing the child empties the tables for new snapshots.
    a.remove_child(CHILD).unwrap();
    assert_eq!(a.encapsulate(&p, &mut out), Err(DropReason::NoPolicy));
}

#[test]
fn child_counters_keep_the_traffic_of_replaced_sas() {
    let (a, b) = mirror_pair("aes128gcm16", false);
    let from = outer(false).0;
    let p = ping("203.0.113.10", "198.51.100.10", 10);
    let mut w = Vec::new();
    let mut out = Vec::new();
    for _ in 0..3 {
        a.encapsulate(&p, &mut w).unwrap();
        b.decapsulate(&w, from, &mut out).unwrap();
    }
    // Rekey: B adds a new inbound SA, A switches to it, B drops the old one.
    let new_spi = 0xabcd_0042;
    b.add_inbound_sa(CHILD + 100, keys("aes128gcm16", new_spi, 99))
        .unwrap();
    let old = a
        .replace_outbound_sa(CHILD, keys("aes128gcm16", new_spi, 99))
        .unwrap();
    assert_eq!((old.packets, old.highest_seq), (3, 3));
    let old_in = b.remove_inbound_sa(SPI_B_IN).unwrap();
    assert_eq!(old_in.packets, 3);
    for _ in 0..2 {
        a.encapsulate(&p, &mut w).unwrap();
        assert_eq!(
            seq_of(&w) as u64,
            a.outbound_sa_stats(CHILD).unwrap().highest_seq
        );
        b.decapsulate(&w, from, &mut out).unwrap();
    }
    let sa = a.child_stats(CHILD).unwrap();
    assert_eq!(sa.packets_out, 5);
    assert_eq!(sa.bytes_out, 5 * p.len() as u64);
    let sb = b.child_stats(CHILD + 100).unwrap();
    assert_eq!(sb.packets_in, 5);
    assert_eq!(b.inbound_sa_stats(new_spi).unwrap().packets, 2);
    // The removal result is the same total.
    assert_eq!(b.remove_child(CHILD + 100).unwrap(), sb);
}
