//! IKE handshake benchmark (issue 3, "Tests: Benchmark"): a full IKE_SA_INIT + IKE_AUTH
//! (RFC 7296 §1.2) with PSK authentication, `aes256gcm16-prfsha256-x25519` and one
//! `aes256gcm16` Child SA, between two engines in memory, with the operating system's random
//! source (as the daemon uses).
//!
//! Run: `cargo bench -p ike --bench handshake`. Every benchmark reports elements/s =
//! handshakes (or setup + teardown cycles) per second:
//! - `handshake/both`: both engines' work for one handshake (one core doing both sides);
//! - `handshake/responder`: only the responder's calls, i.e. the responder CPU per handshake
//!   (target ≤ 0.25 ms, issue 3);
//! - `cycle/responder`: the responder's share of setup + teardown (INFORMATIONAL Delete),
//!   the unit `ikeload` counts against the daemon.
//!
//! Times are thread CPU time (see `common`), so preemption by other jobs does not count.
//! Every SA is deleted after its iteration (untimed where it is not part of the measurement),
//! so the engines stay at one SA and the figures do not depend on the table size.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crypto::SystemRandom;

fn engines() -> (ike::Engine, ike::Engine) {
    (
        common::initiator(Box::new(SystemRandom), 0),
        common::responder(Box::new(SystemRandom)),
    )
}

fn handshake(c: &mut Criterion) {
    let mut g = c.benchmark_group("handshake");
    g.throughput(Throughput::Elements(1));
    g.bench_function("both", |b| {
        let (mut i, mut r) = engines();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let now = Instant::now();
                let start = common::cpu_now();
                let (id, _) = common::handshake(&mut i, &mut r, now);
                total += common::cpu_now().saturating_sub(start);
                common::teardown(&mut i, &mut r, now, id);
            }
            total
        })
    });
    g.bench_function("responder", |b| {
        let (mut i, mut r) = engines();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let now = Instant::now();
                let (id, t) = common::handshake(&mut i, &mut r, now);
                total += t;
                common::teardown(&mut i, &mut r, now, id);
            }
            total
        })
    });
    g.finish();

    let mut g = c.benchmark_group("cycle");
    g.throughput(Throughput::Elements(1));
    g.bench_function("responder", |b| {
        let (mut i, mut r) = engines();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let now = Instant::now();
                let (id, t) = common::handshake(&mut i, &mut r, now);
                total += t + common::teardown(&mut i, &mut r, now, id);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, handshake);
criterion_main!(benches);
