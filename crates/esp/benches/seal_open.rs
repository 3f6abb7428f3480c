//! ESP seal + open of 1400-byte inner packets through `esp::DataPlane` (SPD lookup, framing,
//! sequence numbers, replay window, counters, selector checks) next to the bare cipher on the
//! same bytes: aws-lc-rs AEAD for AES-GCM, `crypto::Cipher` (aws-lc-rs AES-CBC + HMAC) for
//! aes128-sha256. Issue 4's target: ESP ≥ 90 % of the bare cipher's packets per second.
//! AH (RFC 4302) with HMAC-SHA2-256-128 next to the bare HMAC over the same bytes
//! (`ah/ah-sha256`, `raw_hmac/ah-sha256`).
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time:
//! this machine is shared, and time spent preempted by other jobs says nothing about the code.
//!
//! Run: `cargo bench -p esp --bench seal_open` (quick: add `-- --quick`).

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use criterion::{criterion_group, Criterion, Throughput};
use crypto::{Cipher, EncrAlg, EncrId, IntegId, SecretBytes};
use esp::{ChildSaConfig, DataPlane, Lifetime, Mode, SaKeys, SecurityProtocol, TunnelOptions};
use nix::time::{clock_gettime, ClockId};

const INNER: usize = 1400;

/// CPU time consumed by the calling thread so far (`CLOCK_THREAD_CPUTIME_ID`,
/// clock_gettime(2)).
fn cpu_now() -> Duration {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
    Duration::from(t)
}

/// Runs `f` `iters` times and returns the CPU time it took.
fn cpu_time(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = cpu_now();
    for _ in 0..iters {
        f();
    }
    cpu_now().saturating_sub(start)
}
const SUITES: [&str; 3] = ["aes256gcm16", "aes128gcm16", "aes128-sha256"];

fn alg(suite: &str) -> (EncrAlg, Option<IntegId>) {
    let (id, bits, integ) = match suite {
        "aes256gcm16" => (EncrId::AesGcm16, 256, None),
        "aes128gcm16" => (EncrId::AesGcm16, 128, None),
        "ah-sha256" => (EncrId::Null, 0, Some(IntegId::HmacSha2_256_128)),
        _ => (EncrId::AesCbc, 128, Some(IntegId::HmacSha2_256_128)),
    };
    (
        EncrAlg {
            id,
            key_bits: (bits > 0).then_some(bits),
        },
        integ,
    )
}

fn keys(suite: &str, spi: u32) -> SaKeys {
    let (encr, integ) = alg(suite);
    let el = Cipher::encr_keymat_len(encr).expect("supported");
    let il = integ.map_or(0, |i| Cipher::integ_key_len(i).expect("supported"));
    SaKeys {
        spi,
        encr,
        integ,
        encr_key: SecretBytes::new(vec![0x42; el]),
        integ_key: SecretBytes::new(vec![0x24; il]),
    }
}

fn pair(suite: &str) -> (DataPlane, DataPlane, SocketAddr) {
    let a_addr: SocketAddr = "192.0.2.1:4500".parse().expect("literal");
    let b_addr: SocketAddr = "192.0.2.2:4500".parse().expect("literal");
    let cfg = |id, local, remote, lts: &str, rts: &str, inb, outb| ChildSaConfig {
        id,
        mode: Mode::Tunnel,
        protocol: if suite.starts_with("ah-") {
            SecurityProtocol::Ah
        } else {
            SecurityProtocol::Esp
        },
        local_ts: vec![lts.parse().expect("literal")],
        remote_ts: vec![rts.parse().expect("literal")],
        local,
        remote,
        encap: !suite.starts_with("ah-"),
        inbound: keys(suite, inb),
        outbound: keys(suite, outb),
        replay_window: ChildSaConfig::DEFAULT_REPLAY_WINDOW,
        esn: false,
        lifetime: Lifetime::default(),
        options: TunnelOptions::default(),
    };
    let a = DataPlane::new();
    let b = DataPlane::new();
    a.install_child(cfg(
        1,
        a_addr,
        b_addr,
        "203.0.113.0/24",
        "198.51.100.0/24",
        0x1000,
        0x2000,
    ))
    .expect("install");
    b.install_child(cfg(
        2,
        b_addr,
        a_addr,
        "198.51.100.0/24",
        "203.0.113.0/24",
        0x2000,
        0x1000,
    ))
    .expect("install");
    (a, b, a_addr)
}

/// A 1400-byte IPv4/UDP packet from A's LAN to B's.
fn inner_packet() -> Vec<u8> {
    let mut p = vec![0u8; INNER];
    wire::ip::Ipv4Repr {
        src_addr: [203, 0, 113, 10].into(),
        dst_addr: [198, 51, 100, 10].into(),
        protocol: 17,
        ttl: 64,
        dscp_ecn: 0,
        identification: 0,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        payload_len: INNER - 20,
    }
    .emit(&mut p)
    .expect("fits");
    p[20..22].copy_from_slice(&4000u16.to_be_bytes());
    p[22..24].copy_from_slice(&5000u16.to_be_bytes());
    p[24..26].copy_from_slice(&((INNER - 20) as u16).to_be_bytes());
    p
}

fn bench(c: &mut Criterion) {
    let pkt = inner_packet();
    let mut g = c.benchmark_group("seal_open_1400");
    g.throughput(Throughput::Elements(1));
    for suite in SUITES {
        let (a, b, from) = pair(suite);
        let mut wire_buf = Vec::with_capacity(2048);
        let mut plain = Vec::with_capacity(2048);
        g.bench_function(format!("esp/{suite}"), |bench| {
            bench.iter_custom(|iters| {
                cpu_time(iters, || {
                    a.encapsulate(black_box(&pkt), &mut wire_buf).expect("seal");
                    b.decapsulate(black_box(&wire_buf), from, &mut plain)
                        .expect("open");
                })
            })
        });
        // The batch API: one snapshot per 64 packets, as the daemon's workers use it.
        g.bench_function(format!("esp_batch/{suite}"), |bench| {
            bench.iter_custom(|iters| {
                let start = cpu_now();
                let mut left = iters;
                while left > 0 {
                    let n = left.min(64);
                    let (sa, sb) = (a.snapshot(), b.snapshot());
                    for _ in 0..n {
                        wire_buf.clear();
                        sa.encapsulate_append(black_box(&pkt), &mut wire_buf)
                            .expect("seal");
                        plain.clear();
                        sb.decapsulate_append(black_box(&wire_buf), from, &mut plain)
                            .expect("open");
                    }
                    left -= n;
                }
                cpu_now().saturating_sub(start)
            })
        });
        // The bare cipher on the same ciphertext length: inner + trailer, padded.
        let (encr, integ) = alg(suite);
        let k = keys(suite, 1);
        let align = if integ.is_some() { 16 } else { 4 };
        let ct_len = (INNER + 2).div_ceil(align) * align;
        let mut buf = vec![0x5a; ct_len];
        let aad = [0u8; 8];
        if integ.is_none() {
            let alg = if encr.key_bits == Some(256) {
                &AES_256_GCM
            } else {
                &AES_128_GCM
            };
            let key_len = alg.key_len();
            let key = LessSafeKey::new(
                UnboundKey::new(alg, &k.encr_key.as_slice()[..key_len]).expect("key"),
            );
            let mut n = 0u64;
            g.bench_function(format!("raw_aead/{suite}"), |bench| {
                bench.iter_custom(|iters| {
                    cpu_time(iters, || {
                        n += 1;
                        let mut nonce = [0u8; 12];
                        nonce[4..].copy_from_slice(&n.to_be_bytes());
                        let tag = key
                            .seal_in_place_separate_tag(
                                Nonce::assume_unique_for_key(nonce),
                                Aad::from(&aad),
                                black_box(&mut buf),
                            )
                            .expect("seal");
                        key.open_in_place_separate_tag(
                            Nonce::assume_unique_for_key(nonce),
                            Aad::from(&aad),
                            tag.as_ref(),
                            black_box(&mut buf),
                        )
                        .expect("open");
                    })
                })
            });
        } else {
            let cipher = Cipher::new(encr, integ, k.encr_key.as_slice(), k.integ_key.as_slice())
                .expect("cipher");
            let mut iv = vec![7u8; cipher.iv_len()];
            let mut icv = vec![0u8; cipher.icv_len()];
            g.bench_function(format!("raw_cbc_hmac/{suite}"), |bench| {
                bench.iter_custom(|iters| {
                    cpu_time(iters, || {
                        iv[0] = iv[0].wrapping_add(1);
                        cipher
                            .seal(&aad, &iv, black_box(&mut buf), &mut icv)
                            .expect("seal");
                        cipher
                            .open(&aad, &iv, black_box(&mut buf), &icv)
                            .expect("open");
                    })
                })
            });
        }
    }
    g.finish();
}

/// ESP (batch API) and the bare cipher alternately, 1000 packets each per round, for 40
/// rounds: on a shared machine the load changes between criterion's separate benchmarks, so
/// the ratio is taken here, round by round, and its median printed.
fn interleaved_ratios() {
    let pkt = inner_packet();
    eprintln!("ESP / bare cipher, packets per CPU second, interleaved (median of 40 rounds):");
    for suite in SUITES {
        let (a, b, from) = pair(suite);
        let (encr, integ) = alg(suite);
        let k = keys(suite, 1);
        let cipher = Cipher::new(encr, integ, k.encr_key.as_slice(), k.integ_key.as_slice())
            .expect("cipher");
        let gcm = integ.is_none().then(|| {
            let alg = if encr.key_bits == Some(256) {
                &AES_256_GCM
            } else {
                &AES_128_GCM
            };
            LessSafeKey::new(
                UnboundKey::new(alg, &k.encr_key.as_slice()[..alg.key_len()]).expect("key"),
            )
        });
        let align = if integ.is_some() { 16 } else { 4 };
        let mut buf = vec![0x5a; (INNER + 2).div_ceil(align) * align];
        let mut iv = vec![7u8; cipher.iv_len()];
        let mut icv = vec![0u8; cipher.icv_len()];
        let (mut wire_buf, mut plain) = (Vec::with_capacity(2048), Vec::with_capacity(2048));
        let mut n = 0u64;
        let mut ratios = Vec::new();
        for _ in 0..40 {
            let esp = {
                let start = cpu_now();
                let (sa, sb) = (a.snapshot(), b.snapshot());
                for _ in 0..1000 {
                    wire_buf.clear();
                    sa.encapsulate_append(black_box(&pkt), &mut wire_buf)
                        .expect("seal");
                    plain.clear();
                    sb.decapsulate_append(black_box(&wire_buf), from, &mut plain)
                        .expect("open");
                }
                cpu_now().saturating_sub(start)
            };
            let raw = cpu_time(1000, || {
                n += 1;
                if let Some(key) = &gcm {
                    let mut nonce = [0u8; 12];
                    nonce[4..].copy_from_slice(&n.to_be_bytes());
                    let tag = key
                        .seal_in_place_separate_tag(
                            Nonce::assume_unique_for_key(nonce),
                            Aad::from(&[0u8; 8]),
                            black_box(&mut buf),
                        )
                        .expect("seal");
                    key.open_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&[0u8; 8]),
                        tag.as_ref(),
                        black_box(&mut buf),
                    )
                    .expect("open");
                } else {
                    iv[0] = iv[0].wrapping_add(1);
                    cipher
                        .seal(&[0u8; 8], &iv, black_box(&mut buf), &mut icv)
                        .expect("seal");
                    cipher
                        .open(&[0u8; 8], &iv, black_box(&mut buf), &icv)
                        .expect("open");
                }
            });
            if !esp.is_zero() {
                ratios.push(raw.as_secs_f64() / esp.as_secs_f64());
            }
        }
        ratios.sort_by(f64::total_cmp);
        let median = ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN);
        eprintln!("  {suite:<14} {:.1} %", median * 100.0);
    }
}

/// AH seal + open through the data plane, and the bare HMAC over the bytes its ICV covers
/// (outer header, AH, inner packet).
fn bench_ah(c: &mut Criterion) {
    let suite = "ah-sha256";
    let pkt = inner_packet();
    let mut g = c.benchmark_group("seal_open_1400");
    g.throughput(Throughput::Elements(1));
    let (a, b, _) = pair(suite);
    let mut wire_buf = Vec::with_capacity(2048);
    let mut plain = Vec::with_capacity(2048);
    g.bench_function(format!("ah/{suite}"), |bench| {
        bench.iter_custom(|iters| {
            let start = cpu_now();
            let mut left = iters;
            while left > 0 {
                let n = left.min(64);
                let (sa, sb) = (a.snapshot(), b.snapshot());
                for _ in 0..n {
                    wire_buf.clear();
                    sa.encapsulate_append(black_box(&pkt), &mut wire_buf)
                        .expect("seal");
                    plain.clear();
                    sb.decapsulate_ah_append(black_box(&wire_buf), &mut plain)
                        .expect("open");
                }
                left -= n;
            }
            cpu_now().saturating_sub(start)
        })
    });
    let k = keys(suite, 1);
    let integ =
        crypto::Integ::new(IntegId::HmacSha2_256_128, k.integ_key.as_slice()).expect("integ");
    let covered = vec![0x5a; 20 + 28 + INNER];
    let mut icv = [0u8; 16];
    g.bench_function(format!("raw_hmac/{suite}"), |bench| {
        bench.iter_custom(|iters| {
            cpu_time(iters, || {
                integ.sign(&[black_box(&covered)], &mut icv).expect("sign");
                integ.verify(&[black_box(&covered)], &icv).expect("verify");
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_ah);

fn main() {
    interleaved_ratios();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
