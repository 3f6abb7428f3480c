//! Memory per established IKE SA + Child SA on a responder (issue 3 target: ≤ 4 KiB at 10k SAs).
//!
//! Establishes `SAS` (default 10 000) IKE SAs, each with one Child SA (PSK,
//! `aes256gcm16-prfsha256-x25519`, RFC 7296 §1.2), on one responder engine, each from a fresh
//! in-memory initiator engine that is dropped after its handshake (so only the responder's
//! state accumulates). Two figures per SA:
//! - Rust heap: drops the responder and counts the heap bytes that freed (everything the
//!   responder owns: SA table, indexes, keys, cached last responses, …), minus what an empty
//!   responder holds. Bytes as requested from the allocator; its per-block overhead comes on
//!   top (the block count is printed).
//! - Resident memory: the growth of the process's VmRSS while the SAs were made. This also
//!   counts what Rust's allocator does not see — aws-lc's own `malloc`s (the keyed AEAD
//!   contexts) — and glibc's per-block overhead; it is the figure to compare with the target.
//!
//! Run: `cargo bench -p ike --bench sa_memory` (`SAS=1000` for a quick look).

#[path = "common/mod.rs"]
mod common;

use std::alloc::System;
use std::time::{Duration, Instant};

use crypto::SystemRandom;
use stats_alloc::{Stats, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes and blocks in use now.
fn live() -> (i128, i128) {
    let s: Stats = GLOBAL.stats();
    let bytes =
        s.bytes_allocated as i128 - s.bytes_deallocated as i128 + s.bytes_reallocated as i128;
    let blocks = s.allocations as i128 - s.deallocations as i128;
    (bytes, blocks)
}

/// The process's resident set in bytes (`VmRSS` of /proc/self/status).
fn rss() -> i128 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i128>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing else of interest.
    let n: usize = std::env::var("SAS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);

    let before_empty = live();
    let r = common::responder(Box::new(SystemRandom));
    let after_empty = live();
    drop(r);
    let empty = (
        after_empty.0 - before_empty.0,
        after_empty.1 - before_empty.1,
    );

    // Warm up (allocator arenas, lazily initialised statics), untimed and not counted.
    {
        let mut r = common::responder(Box::new(SystemRandom));
        for k in 0..100 {
            let mut i = common::initiator(Box::new(SystemRandom), k);
            common::handshake(&mut i, &mut r, Instant::now());
        }
    }

    let mut r = common::responder(Box::new(SystemRandom));
    let rss_before = rss();
    let start = Instant::now();
    let mut in_responder = Duration::ZERO;
    for k in 0..n {
        let now = Instant::now();
        let mut i = common::initiator(Box::new(SystemRandom), k);
        let (_, t) = common::handshake(&mut i, &mut r, now);
        in_responder += t;
    }
    let elapsed = start.elapsed();
    let rss_growth = rss() - rss_before;
    assert_eq!(r.status(Instant::now()).len(), n, "responder lost SAs");
    // What a driver pays per loop for asking the next deadline, at this SA count.
    let polls = 100u32;
    let start = common::cpu_now();
    for _ in 0..polls {
        std::hint::black_box(r.poll_timeout());
    }
    let per_poll = common::cpu_now().saturating_sub(start) / polls;
    let with = live();
    drop(r);
    let without = live();
    let bytes = with.0 - without.0 - empty.0;
    let blocks = with.1 - without.1 - empty.1;
    let nn = n as i128;
    println!(
        "sa_memory: {n} IKE SAs + {n} Child SAs on one responder: Rust heap {} bytes/SA in {} \
         blocks/SA (empty responder {} bytes); resident memory growth {} bytes/SA; \
         target <= 4096 bytes/SA",
        bytes / nn,
        blocks / nn,
        empty.0,
        rss_growth / nn
    );
    println!(
        "sa_memory: {n} handshakes in {:.2} s, responder CPU {:.1} us/handshake (thread CPU time)",
        elapsed.as_secs_f64(),
        in_responder.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "sa_memory: poll_timeout with {n} SAs: {:.1} us per call",
        per_poll.as_secs_f64() * 1e6
    );
}
