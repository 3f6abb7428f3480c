//! The TOML configuration (crate `config`) mapped onto the engine's types (crate `ike`). The
//! engine's credentials are in `credentials.rs`.

use std::time::Duration;

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
            // With a certificate and no local.id, our identity is its subject DN: said here so
            // that the engine asks for the certificate of exactly this connection.
            local_id: c
                .local
                .id
                .clone()
                .or_else(|| c.local.cert.as_ref().map(|lc| lc.subject.clone())),
            remote_id: c.remote.id.clone(),
            encap: c.encap,
            dpd_delay: c.dpd_delay,
            keyingtries: c.keyingtries,
            children: c.children.iter().map(child).collect(),
            dpd_action: match c.dpd_action {
                config::DpdAction::Clear => ike::DpdAction::Clear,
                config::DpdAction::Restart => ike::DpdAction::Restart,
            },
            rekey_time: Some(c.rekey_time),
            unique: match c.unique {
                config::Unique::Replace => ike::Unique::Replace,
                config::Unique::Keep => ike::Unique::Keep,
                config::Unique::Never => ike::Unique::Never,
            },
            local_auth: auth(c.local.auth),
            remote_auth: auth(c.remote.auth),
            fragmentation: c.fragmentation,
            mobike: c.mobike,
            pools: c.pools.clone(),
            dns: c.dns.clone(),
            vips: c.vips.clone(),
            // The EAP user: `local.eap_id`, else `local.id` as text (config checked that a
            // password exists for it).
            eap_id: (c.local.auth == config::AuthMethod::EapMschapv2)
                .then(|| {
                    c.local
                        .eap_id
                        .clone()
                        .or_else(|| c.local.id.as_ref().map(ToString::to_string))
                })
                .flatten(),
        })
        .collect()
}

fn auth(a: config::AuthMethod) -> ike::AuthKind {
    match a {
        config::AuthMethod::Psk => ike::AuthKind::Psk,
        config::AuthMethod::Pubkey => ike::AuthKind::Pubkey,
        config::AuthMethod::EapMschapv2 => ike::AuthKind::Eap,
    }
}

/// A child's life time for the engine: zero (never expire) is `None`, which the engine reads
/// as "never" only when the rekey time is zero too; config guarantees that.
fn life_time(c: &config::Child) -> Option<Duration> {
    (!c.life_time.is_zero()).then_some(c.life_time)
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
        ah_proposals: c.ah_proposals.clone(),
        mode: match c.mode {
            config::Mode::Tunnel => ike::Mode::Tunnel,
            config::Mode::Transport => ike::Mode::Transport,
        },
        start_action: match c.start_action {
            config::StartAction::None => ike::StartAction::None,
            config::StartAction::Start => ike::StartAction::Start,
        },
        close_action_start: c.close_action == config::CloseAction::Start,
        rekey_time: Some(c.rekey_time),
        life_time: life_time(c),
    }
}

/// Engine settings from the daemon section.
pub fn engine_config(cfg: &config::Config) -> ike::EngineConfig {
    ike::EngineConfig {
        ike_port: cfg.daemon.ike_port,
        natt_port: cfg.daemon.natt_port,
        fragment_size: usize::from(cfg.daemon.fragment_size),
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
