//! Rampart's IKEv2 engine (RFC 7296), sans-IO.
//!
//! The [`Engine`] takes datagrams, the current time and commands, and returns datagrams to send
//! ([`Transmit`]), the next time it wants to be woken up, and [`Event`]s (Child SAs to install or
//! remove, IKE SAs up and down). It never touches a socket, a clock or a random source of its
//! own: randomness comes from an injected [`crypto::Random`], secrets from an injected
//! [`Credentials`]. Every exchange can therefore run in memory, deterministically.
//!
//! Layout, one job per file: `config` (what the engine is told), `event` (what it says),
//! `proposal` (SA payloads ⇄ algorithm suites), `ts` (traffic-selector narrowing), `nat` (NAT
//! detection hashes), `auth` (PSK AUTH payloads), `keys` (the IKE SA's keys and the Encrypted
//! payload), `sa` (IKE and Child SA state), `engine` (dispatch, timers, commands), and one file
//! per exchange under `exchange/`.

mod auth;
mod commands;
pub mod config;
mod cookie;
mod credentials;
mod engine;
pub mod event;
mod exchange;
mod fragment;
mod impair;
mod keys;
mod nat;
mod proposal;
mod retransmit;
mod sa;
mod sa_table;
mod timers;
mod ts;

pub use config::{
    AuthKind, ChildConfig, DpdAction, EngineConfig, IkeConfig, Mode, PeerAddr, StartAction,
    TsConfig, Unique,
};
pub use credentials::{CertUsage, Credentials, LocalCert, PeerCert, Pools};
pub use engine::{Engine, EngineStats, InitiateError, ReloadReport};
pub use event::{
    ChildSaId, ChildSaInstall, ChildStatus, Event, IkeSaId, IkeSaStatus, SaKeys, Transmit,
};
pub use impair::Impairment;
