//! Shared by the IKE benchmarks: an initiator and a responder engine configured as a gateway
//! pair (PSK, `aes256gcm16-prfsha256-x25519`, one `aes256gcm16` Child SA), and a driver that
//! runs one IKE_SA_INIT + IKE_AUTH exchange pair (RFC 7296 §1.2) between them in memory,
//! timing the responder's calls separately.
//!
//! Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time: on a shared
//! machine a preempted thread's wall time says nothing about the work. Each reading is a
//! system call of ~0.1–0.3 µs, a few per handshake.

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crypto::proposal::Protocol;
use crypto::{ProposalSpec, Random, SecretBytes};
use ike::{
    ChildConfig, Credentials, Engine, EngineConfig, Event, IkeConfig, IkeSaId, Mode, PeerAddr,
    StartAction, TsConfig, Unique,
};
use wire::Identity;

pub const IKE_PROPOSAL: &str = "aes256gcm16-prfsha256-x25519";
pub const ESP_PROPOSAL: &str = "aes256gcm16";
pub const I_ADDR: &str = "192.0.2.1";
pub const R_ADDR: &str = "192.0.2.2";

/// One PSK for every identity (as a `[secrets.ike]` entry with empty `ids`).
pub struct AnyPsk(pub SecretBytes);

impl Credentials for AnyPsk {
    fn psk(&self, _local: &Identity, _remote: Option<&Identity>) -> Option<SecretBytes> {
        Some(self.0.clone())
    }
}

fn psk() -> Box<AnyPsk> {
    Box::new(AnyPsk(SecretBytes::from_slice(
        b"bench-psk-not-secret-0123456789",
    )))
}

fn ts(s: &str) -> TsConfig {
    TsConfig::Ts(s.parse().expect("selector"))
}

/// A connection as the daemon builds it from a minimal `rampart.toml` (fragmentation and MOBIKE
/// on, DPD off so no timer work is pending).
fn conn(
    local: &str,
    remote: PeerAddr,
    local_id: &str,
    remote_id: Option<&str>,
    local_ts: &str,
    remote_ts: &str,
) -> IkeConfig {
    IkeConfig {
        name: "bench".into(),
        local_addrs: vec![local.parse().expect("address")],
        remote_addrs: vec![remote],
        proposals: vec![ProposalSpec::parse(Protocol::Ike, IKE_PROPOSAL).expect("proposal")],
        local_id: Some(local_id.parse().expect("identity")),
        remote_id: remote_id.map(|r| r.parse().expect("identity")),
        dpd_delay: Duration::ZERO,
        keyingtries: 1,
        unique: Unique::Never,
        fragmentation: true,
        mobike: true,
        children: vec![ChildConfig {
            name: "net".into(),
            local_ts: vec![ts(local_ts)],
            remote_ts: vec![ts(remote_ts)],
            esp_proposals: vec![ProposalSpec::parse(Protocol::Esp, ESP_PROPOSAL).expect("esp")],
            mode: Mode::Tunnel,
            start_action: StartAction::None,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The initiator engine (connection "bench" to [`R_ADDR`]) with identity
/// `carol-{client}.example.org`: distinct clients, so that the INITIAL_CONTACT a fresh initiator
/// sends does not replace another client's SA (RFC 7296 §2.4).
pub fn initiator(rng: Box<dyn Random>, client: usize) -> Engine {
    Engine::new(
        EngineConfig::default(),
        vec![conn(
            I_ADDR,
            PeerAddr::Addr(R_ADDR.parse().expect("address")),
            &format!("carol-{client}.example.org"),
            Some("moon.example.org"),
            "198.51.100.0/24",
            "203.0.113.0/24",
        )],
        psk(),
        rng,
    )
}

/// The responder engine: accepts any peer address and identity with the PSK.
pub fn responder(rng: Box<dyn Random>) -> Engine {
    Engine::new(
        EngineConfig::default(),
        vec![conn(
            R_ADDR,
            PeerAddr::Any,
            "moon.example.org",
            None,
            "203.0.113.0/24",
            "198.51.100.0/24",
        )],
        psk(),
        rng,
    )
}

fn sock(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse::<IpAddr>().expect("address"), 500)
}

/// CPU time this thread has used.
pub fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Moves datagrams between the two engines until both are quiet; returns the time spent in
/// the responder's calls (handle_datagram, poll_transmit, poll_event) and how many IKE SAs and
/// Child SAs came up on the responder.
pub fn exchange(i: &mut Engine, r: &mut Engine, now: Instant) -> (Duration, usize, usize) {
    let (i_addr, r_addr) = (sock(I_ADDR), sock(R_ADDR));
    let mut in_responder = Duration::ZERO;
    let (mut ike_up, mut child_up) = (0, 0);
    loop {
        let mut moved = false;
        while let Some(t) = i.poll_transmit() {
            moved = true;
            let start = cpu_now();
            r.handle_datagram(now, r_addr, i_addr, &t.payload);
            in_responder += cpu_now().saturating_sub(start);
        }
        while i.poll_event().is_some() {}
        let start = cpu_now();
        let mut out = Vec::new();
        while let Some(t) = r.poll_transmit() {
            out.push(t);
        }
        while let Some(e) = r.poll_event() {
            match e {
                Event::IkeSaUp { .. } => ike_up += 1,
                Event::ChildSaUp(_) => child_up += 1,
                _ => {}
            }
        }
        in_responder += cpu_now().saturating_sub(start);
        for t in out {
            moved = true;
            i.handle_datagram(now, i_addr, r_addr, &t.payload);
        }
        if !moved {
            return (in_responder, ike_up, child_up);
        }
    }
}

/// One full IKE_SA_INIT + IKE_AUTH with one Child SA; panics if it did not come up (a broken
/// benchmark must not report a rate). Returns the initiator's SA and the responder's time.
pub fn handshake(i: &mut Engine, r: &mut Engine, now: Instant) -> (IkeSaId, Duration) {
    let id = i.initiate(now, "bench", None, None).expect("initiate");
    let (t, ike_up, child_up) = exchange(i, r, now);
    assert_eq!((ike_up, child_up), (1, 1), "handshake failed");
    (id, t)
}

/// Deletes the IKE SA (INFORMATIONAL with a Delete payload, RFC 7296 §1.4.1) and runs the
/// exchange; returns the responder's time.
pub fn teardown(i: &mut Engine, r: &mut Engine, now: Instant, id: IkeSaId) -> Duration {
    assert!(i.terminate(now, id), "terminate");
    let (t, _, _) = exchange(i, r, now);
    assert!(i.is_idle() && r.is_idle(), "SAs left after the delete");
    t
}
