//! A simulated network for two engines in one process: deterministic randomness, a fake clock,
//! and impairments (drop, corrupt, duplicate) chosen by the test.

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crypto::proposal::Protocol;
use crypto::{DeterministicRandom, ProposalSpec, SecretBytes};
use ike::{
    ChildConfig, Credentials, Engine, EngineConfig, Event, IkeConfig, Mode, PeerAddr, StartAction,
    Transmit, TsConfig,
};
use wire::Identity;

pub const A_ADDR: &str = "192.0.2.1";
pub const B_ADDR: &str = "192.0.2.2";

/// PSKs by identity pairs.
pub struct MapCreds(pub Vec<(Vec<Identity>, SecretBytes)>);

impl Credentials for MapCreds {
    fn psk(&self, local: &Identity, remote: Option<&Identity>) -> Option<SecretBytes> {
        self.0
            .iter()
            .find(|(ids, _)| ids.contains(local) && remote.is_none_or(|r| ids.contains(r)))
            .map(|(_, k)| k.clone())
    }
}

pub fn ike(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Ike, s).unwrap()
}

pub fn esp(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Esp, s).unwrap()
}

pub fn ah(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Ah, s).unwrap()
}

pub fn ts(s: &str) -> TsConfig {
    TsConfig::Ts(s.parse().unwrap())
}

/// A connection from `local` to `remote` with one child.
#[allow(clippy::too_many_arguments)]
pub fn conn(
    local: &str,
    remote: &str,
    local_id: &str,
    remote_id: &str,
    proposals: &[&str],
    esp_proposals: &[&str],
    local_ts: &[&str],
    remote_ts: &[&str],
) -> IkeConfig {
    IkeConfig {
        name: "net".into(),
        local_addrs: vec![local.parse().unwrap()],
        remote_addrs: vec![PeerAddr::Addr(remote.parse().unwrap())],
        proposals: proposals.iter().map(|p| ike(p)).collect(),
        local_id: Some(local_id.parse().unwrap()),
        remote_id: Some(remote_id.parse().unwrap()),
        encap: false,
        dpd_delay: Duration::ZERO,
        keyingtries: 1,
        children: vec![ChildConfig {
            name: "child".into(),
            local_ts: local_ts.iter().map(|t| ts(t)).collect(),
            remote_ts: remote_ts.iter().map(|t| ts(t)).collect(),
            esp_proposals: esp_proposals.iter().map(|p| esp(p)).collect(),
            mode: Mode::Tunnel,
            start_action: StartAction::None,
            close_action_start: false,
            ..Default::default()
        }],
        fragmentation: true,
        mobike: true,
        ..Default::default()
    }
}

/// The standard pair: A (initiator side config) and B, both accepting both proposals.
pub fn default_pair(ike_p: &[&str], esp_p: &[&str]) -> (IkeConfig, IkeConfig) {
    (
        conn(
            A_ADDR,
            B_ADDR,
            "a.example.org",
            "b.example.org",
            ike_p,
            esp_p,
            &["203.0.113.0/24"],
            &["198.51.100.0/24"],
        ),
        conn(
            B_ADDR,
            A_ADDR,
            "b.example.org",
            "a.example.org",
            ike_p,
            esp_p,
            &["198.51.100.0/24"],
            &["203.0.113.0/24"],
        ),
    )
}

pub fn creds(psk: &str) -> Box<MapCreds> {
    Box::new(MapCreds(vec![(
        vec![
            "a.example.org".parse().unwrap(),
            "b.example.org".parse().unwrap(),
        ],
        SecretBytes::from_slice(psk.as_bytes()),
    )]))
}

/// What the network does with the n-th datagram (counted over both directions, from 0).
pub type Impair = Box<dyn FnMut(usize, &mut Transmit) -> Action>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Deliver,
    Drop,
    Duplicate,
}

pub struct Sim {
    pub a: Engine,
    pub b: Engine,
    pub start: Instant,
    pub now: Instant,
    pub sent: Vec<(char, Transmit)>,
    pub events_a: Vec<Event>,
    pub events_b: Vec<Event>,
    pub impair: Impair,
    /// A's current address (it may move: MOBIKE).
    pub a_addr: IpAddr,
    /// A NAT in front of A: B sees A's packets from this address, ports shifted by the offset.
    pub a_nat: Option<(IpAddr, u16)>,
}

pub fn engine_cfg() -> EngineConfig {
    EngineConfig::default()
}

impl Sim {
    pub fn new(a: IkeConfig, b: IkeConfig, creds_a: Box<MapCreds>, creds_b: Box<MapCreds>) -> Self {
        Self::with_cfg(engine_cfg(), engine_cfg(), a, b, creds_a, creds_b)
    }

    pub fn with_cfg(
        cfg_a: EngineConfig,
        cfg_b: EngineConfig,
        a: IkeConfig,
        b: IkeConfig,
        creds_a: Box<MapCreds>,
        creds_b: Box<MapCreds>,
    ) -> Self {
        Self::with_dyn_creds(cfg_a, cfg_b, a, b, creds_a, creds_b)
    }

    pub fn with_dyn_creds(
        cfg_a: EngineConfig,
        cfg_b: EngineConfig,
        a: IkeConfig,
        b: IkeConfig,
        creds_a: Box<dyn Credentials>,
        creds_b: Box<dyn Credentials>,
    ) -> Self {
        let start = Instant::now();
        Sim {
            a: Engine::new(
                cfg_a,
                vec![a],
                creds_a,
                Box::new(DeterministicRandom::new(1)),
            ),
            b: Engine::new(
                cfg_b,
                vec![b],
                creds_b,
                Box::new(DeterministicRandom::new(2)),
            ),
            start,
            now: start,
            sent: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            impair: Box::new(|_, _| Action::Deliver),
            a_addr: A_ADDR.parse().unwrap(),
            a_nat: None,
        }
    }

    fn b_addr() -> IpAddr {
        B_ADDR.parse().unwrap()
    }

    /// Delivers datagrams and advances the clock until nothing happens for `limit`.
    pub fn run_for(&mut self, limit: Duration) {
        let end = self.now + limit;
        loop {
            assert!(
                self.a.deadline_index_is_consistent_for_testing()
                    && self.b.deadline_index_is_consistent_for_testing(),
                "an engine's deadline index is stale"
            );
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                self.deliver('a', t);
                moved = true;
            }
            while let Some(t) = self.b.poll_transmit() {
                self.deliver('b', t);
                moved = true;
            }
            while let Some(e) = self.a.poll_event() {
                self.events_a.push(e);
            }
            while let Some(e) = self.b.poll_event() {
                self.events_b.push(e);
            }
            if moved {
                continue;
            }
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
    }

    fn deliver(&mut self, from: char, mut t: Transmit) {
        let n = self.sent.len();
        let action = (self.impair)(n, &mut t);
        self.sent.push((from, t.clone()));
        // Addresses: the sender's local IP may be unspecified; the receiver sees the real one,
        // translated by A's NAT if there is one.
        let to = if from == 'a' { 'b' } else { 'a' };
        let (src, dst) = if from == 'a' {
            assert_eq!(t.remote.ip(), Self::b_addr(), "datagram to an unknown host");
            if !t.local.ip().is_unspecified() && t.local.ip() != self.a_addr {
                return; // A sends from an address it no longer has: lost.
            }
            let src = match self.a_nat {
                Some((ip, off)) => SocketAddr::new(ip, t.local.port().wrapping_add(off)),
                None => SocketAddr::new(self.a_addr, t.local.port()),
            };
            (src, t.remote)
        } else {
            let dst = match self.a_nat {
                Some((ip, off)) => {
                    if t.remote.ip() != ip {
                        return;
                    }
                    SocketAddr::new(self.a_addr, t.remote.port().wrapping_sub(off))
                }
                None => {
                    if t.remote.ip() != self.a_addr {
                        return; // to A's old address: lost
                    }
                    t.remote
                }
            };
            (SocketAddr::new(Self::b_addr(), t.local.port()), dst)
        };
        let times = match action {
            Action::Deliver => 1,
            Action::Drop => 0,
            Action::Duplicate => 2,
        };
        for _ in 0..times {
            let e = if to == 'a' { &mut self.a } else { &mut self.b };
            e.handle_datagram(self.now, dst, src, &t.payload);
        }
    }

    pub fn initiate_a(&mut self) {
        let now = self.now;
        self.a.initiate(now, "net", None, None).unwrap();
    }
}

/// Byte offset in an IKE datagram (after a possible non-ESP marker) of the exchange type.
pub fn exchange_of(t: &Transmit) -> Option<u8> {
    let m = ike_bytes(t)?;
    m.get(18).copied()
}

pub fn is_response(t: &Transmit) -> bool {
    ike_bytes(t)
        .and_then(|m| m.get(19))
        .is_some_and(|f| f & 0x20 != 0)
}

pub fn ike_bytes(t: &Transmit) -> Option<&[u8]> {
    if t.local.port() == 4500 {
        t.payload.strip_prefix(&[0u8, 0, 0, 0][..])
    } else {
        Some(&t.payload)
    }
}
