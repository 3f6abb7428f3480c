//! The TOML configuration (crate `config`) mapped onto the engine's types (crate `ike`), and
//! the engine's credential lookup over the configured secrets.

use std::sync::{Arc, RwLock};

use crypto::SecretBytes;
use wire::Identity;

/// IKE connections for the engine.
pub fn connections(cfg: &config::Config) -> Vec<ike::IkeConfig> {
    cfg.connections
        .iter()
        .map(|c| ike::IkeConfig {
            name: c.name.clone(),
            local_addrs: c.local_addrs.clone(),
            remote_addrs: c
                .remote_addrs
                .iter()
                .map(|r| match r {
                    config::RemoteAddr::Addr(a) => ike::PeerAddr::Addr(*a),
                    config::RemoteAddr::Any => ike::PeerAddr::Any,
                })
                .collect(),
            proposals: c.proposals.clone(),
            local_id: c.local.id.clone(),
            remote_id: c.remote.id.clone(),
            encap: c.encap,
            dpd_delay: c.dpd_delay,
            keyingtries: c.keyingtries,
            children: c.children.iter().map(child).collect(),
            fragmentation: true,
            mobike: true,
            ..Default::default()
        })
        .collect()
}

fn ts(v: &[config::TsSpec]) -> Vec<ike::TsConfig> {
    v.iter()
        .map(|t| match t {
            config::TsSpec::Dynamic => ike::TsConfig::Dynamic,
            config::TsSpec::Ts(t) => ike::TsConfig::Ts(*t),
        })
        .collect()
}

fn child(c: &config::Child) -> ike::ChildConfig {
    ike::ChildConfig {
        name: c.name.clone(),
        local_ts: ts(&c.local_ts),
        remote_ts: ts(&c.remote_ts),
        esp_proposals: c.esp_proposals.clone(),
        mode: match c.mode {
            config::Mode::Tunnel => ike::Mode::Tunnel,
        },
        start_action: match c.start_action {
            config::StartAction::None => ike::StartAction::None,
            config::StartAction::Start => ike::StartAction::Start,
        },
        close_action_start: c.close_action == config::CloseAction::Start,
        ..Default::default()
    }
}

/// PSKs from `[secrets.ike.*]`. Clones share the secrets, so the daemon can swap them on
/// reload while the engine holds its copy.
#[derive(Clone)]
pub struct ConfigCredentials {
    secrets: Arc<RwLock<config::Config>>,
}

impl ConfigCredentials {
    /// Credentials over a configuration's secrets.
    pub fn new(cfg: &config::Config) -> Self {
        Self {
            secrets: Arc::new(RwLock::new(cfg.clone())),
        }
    }

    /// Uses the secrets of `cfg` from now on (reload).
    pub fn replace(&self, cfg: &config::Config) {
        match self.secrets.write() {
            Ok(mut g) => *g = cfg.clone(),
            Err(p) => *p.into_inner() = cfg.clone(),
        }
    }
}

impl ike::Credentials for ConfigCredentials {
    fn psk(&self, local: &Identity, remote: Option<&Identity>) -> Option<SecretBytes> {
        let g = match self.secrets.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.find_psk_opt(local, remote).cloned()
    }
}

/// Engine settings from the daemon section.
pub fn engine_config(cfg: &config::Config) -> ike::EngineConfig {
    ike::EngineConfig {
        ike_port: cfg.daemon.ike_port,
        natt_port: cfg.daemon.natt_port,
        ..ike::EngineConfig::default()
    }
}

/// Connections to initiate at start: those with a child whose start_action is `start`, and that
/// child's name.
pub fn to_start(cfg: &config::Config) -> Vec<(String, String)> {
    cfg.connections
        .iter()
        .filter_map(|c| {
            c.children
                .iter()
                .find(|ch| ch.start_action == config::StartAction::Start)
                .map(|ch| (c.name.clone(), ch.name.clone()))
        })
        .collect()
}
