//! `ikeload`: N concurrent IKEv2 initiators (Rampart's own engine, crate `ike`), each from its
//! own source address and with its own identity, each repeating setup (IKE_SA_INIT + IKE_AUTH
//! with PSK and one Child SA, RFC 7296 §1.2) and teardown (INFORMATIONAL with a Delete payload,
//! §1.4.1) against one responder for a fixed time; prints the completed cycles per second.
//!
//! The same initiators drive any responder (Rampart, strongSwan), so the rates compare the
//! responders. Distinct source addresses keep per-source limits on half-open SAs out of the
//! way; the responder's cookie threshold (RFC 7296 §2.6) may still be reached with many
//! initiators: `extra_init` counts IKE_SA_INIT exchanges beyond one per cycle (cookies or
//! INVALID_KE_PAYLOAD), `retransmits` the requests sent again, so a distorted run shows.
//!
//! Initiator k (from 0) uses source address `--source + k`, identity `load-k.example.org`,
//! TSi `--inner + k`/32 and TSr `--remote-ts`. Used by scripts/bench-ike.sh; docs/bench.md.

mod initiator;
mod stats;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "ikeload", about = "IKEv2 setup + teardown load generator")]
pub struct Args {
    /// The responder's address (UDP 500 and 4500).
    #[arg(long)]
    pub server: IpAddr,
    /// The responder's identity (IDr required of it).
    #[arg(long, default_value = "moon.example.org")]
    pub server_id: String,
    /// First source address; initiator k uses this + k (the addresses must be ours).
    #[arg(long)]
    pub source: Ipv4Addr,
    /// First inner address; initiator k proposes TSi = this + k (a /32).
    #[arg(long, default_value = "198.51.100.1")]
    pub inner: Ipv4Addr,
    /// TSr to propose.
    #[arg(long, default_value = "203.0.113.0/24")]
    pub remote_ts: String,
    /// Number of concurrent initiators.
    #[arg(long, short = 'n', default_value_t = 8)]
    pub concurrency: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// The pre-shared key (the same for every initiator).
    #[arg(long, default_value = "bench-psk-not-secret-0123456789")]
    pub psk: String,
    /// IKE proposal (strongSwan syntax).
    #[arg(long, default_value = "aes256gcm16-prfsha256-x25519")]
    pub ike: String,
    /// ESP proposal for the Child SA.
    #[arg(long, default_value = "aes256gcm16")]
    pub esp: String,
    /// Runtime threads (1 = everything on one core).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Log the engines' messages to stderr at this level (e.g. `info`, `debug`; default: off).
    #[arg(long)]
    pub log: Option<String>,
}

fn main() -> std::process::ExitCode {
    let args = Arc::new(Args::parse());
    if let Some(level) = &args.log {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(level))
            .with_writer(std::io::stderr)
            .init();
    }
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ikeload: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(args.secs);
    let result = rt.block_on(async {
        let mut tasks = Vec::new();
        for k in 0..args.concurrency {
            let cfg = initiator::Setup::new(&args, k)?;
            tasks.push(tokio::spawn(initiator::run(cfg, until)));
        }
        let mut total = stats::Stats::default();
        for t in tasks {
            match t.await {
                Ok(s) => total.add(&s),
                Err(e) => return Err(format!("initiator task failed: {e}")),
            }
        }
        Ok(total)
    });
    match result {
        Ok(total) => {
            println!("{}", total.report(start.elapsed()));
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ikeload: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
