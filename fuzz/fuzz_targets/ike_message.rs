//! IKEv2 parsing and the engine's handling of hostile datagrams.
//!
//! The first byte picks the mode:
//! - 0: `Message::parse`, and `parse_payload_chain` with every first-payload type;
//! - 1: a responder engine receives the rest on port 500;
//! - 2: the same on port 4500 (after the non-ESP marker);
//! - 3: an initiator engine that just sent IKE_SA_INIT receives the rest as the response, with
//!   the header's SPIi replaced by the one it used, so its response paths run.
//!
//! Nothing may panic; the engines' answers are thrown away.

#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crypto::proposal::Protocol;
use crypto::{DeterministicRandom, ProposalSpec, SecretBytes};
use ike::{ChildConfig, Credentials, Engine, EngineConfig, IkeConfig, Mode, PeerAddr, StartAction, TsConfig};
use libfuzzer_sys::fuzz_target;
use wire::Identity;

struct AnyPsk;

impl Credentials for AnyPsk {
    fn psk(&self, _: &Identity, _: Option<&Identity>) -> Option<SecretBytes> {
        Some(SecretBytes::from_slice(b"fuzz"))
    }
}

fn engine(initiator: bool) -> Engine {
    let (local, remote) = if initiator { ("192.0.2.1", "192.0.2.2") } else { ("192.0.2.2", "192.0.2.1") };
    let conn = IkeConfig {
        name: "fuzz".into(),
        local_addrs: vec![local.parse().unwrap()],
        remote_addrs: vec![if initiator { PeerAddr::Addr(remote.parse().unwrap()) } else { PeerAddr::Any }],
        proposals: vec![
            ProposalSpec::parse(Protocol::Ike, "aes256gcm16-prfsha256-x25519").unwrap(),
            ProposalSpec::parse(Protocol::Ike, "aes128-sha256-ecp256").unwrap(),
        ],
        local_id: None,
        remote_id: None,
        encap: false,
        dpd_delay: Duration::ZERO,
        keyingtries: 1,
        children: vec![ChildConfig {
            name: "c".into(),
            local_ts: vec![TsConfig::Ts("0.0.0.0/0".parse().unwrap())],
            remote_ts: vec![TsConfig::Ts("0.0.0.0/0".parse().unwrap())],
            esp_proposals: vec![ProposalSpec::parse(Protocol::Esp, "aes256gcm16").unwrap()],
            mode: Mode::Tunnel,
            start_action: StartAction::None,
            close_action_start: false,
            ..Default::default()
        }],
        ..Default::default()
    };
    Engine::new(EngineConfig::default(), vec![conn], Box::new(AnyPsk), Box::new(DeterministicRandom::new(7)))
}

fn drain(e: &mut Engine) {
    while e.poll_transmit().is_some() {}
    while e.poll_event().is_some() {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let now = Instant::now();
    let us: SocketAddr = "192.0.2.2:500".parse().unwrap();
    let peer: SocketAddr = "192.0.2.1:500".parse().unwrap();
    match mode % 4 {
        0 => {
            let _ = wire::ike::Message::parse(rest);
            for first in [33u8, 35, 39, 41, 44, 46, 200] {
                let _ = wire::ike::parse_payload_chain(first, rest);
            }
        }
        1 => {
            let mut e = engine(false);
            e.handle_datagram(now, us, peer, rest);
            drain(&mut e);
            e.handle_timeout(now + Duration::from_secs(60));
        }
        2 => {
            let mut e = engine(false);
            let mut d = vec![0u8; 4];
            d.extend_from_slice(rest);
            let us4500: SocketAddr = "192.0.2.2:4500".parse().unwrap();
            let peer4500: SocketAddr = "192.0.2.1:4500".parse().unwrap();
            e.handle_datagram(now, us4500, peer4500, &d);
            drain(&mut e);
        }
        _ => {
            let mut e = engine(true);
            if e.initiate(now, "fuzz", None, None).is_err() {
                return;
            }
            let Some(req) = e.poll_transmit() else { return };
            let mut d = rest.to_vec();
            if d.len() >= 8 {
                d[..8].copy_from_slice(&req.payload[..8]);
            }
            e.handle_datagram(now, req.local, req.remote, &d);
            drain(&mut e);
            e.handle_timeout(now + Duration::from_secs(600));
            drain(&mut e);
        }
    }
});
