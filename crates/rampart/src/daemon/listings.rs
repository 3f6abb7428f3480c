//! Results of the listing commands (`list_conns`, `list_algs`) and of `stats` / `counters`,
//! built from the configuration, the engine and the data path.

use std::time::Instant;

use control::{
    AlgInfo, ChildConnInfo, ChildCounters, ChildMode, ConnInfo, CountersResult, IkeCounters,
    ListAlgsResult, ListConnsResult, SaCounts, StatsResult,
};
use crypto::TransformType;
use ike::Engine;

use super::datapath::DataPath;

/// `list_conns`: every configured connection with the number of its IKE SAs.
pub fn list_conns(cfg: &config::Config, engine: &Engine, now: Instant) -> ListConnsResult {
    let sas = engine.status(now);
    let strings = |v: &[String]| v.to_vec();
    let connections = cfg
        .connections
        .iter()
        .map(|c| ConnInfo {
            name: c.name.clone(),
            version: c.version,
            local_addrs: c.local_addrs.iter().map(ToString::to_string).collect(),
            remote_addrs: c
                .remote_addrs
                .iter()
                .map(|r| match r {
                    config::RemoteAddr::Addr(a) => a.to_string(),
                    config::RemoteAddr::Any => "%any".to_string(),
                })
                .collect(),
            proposals: c.proposals.iter().map(ToString::to_string).collect(),
            local_auth: auth(c.local.auth).into(),
            local_id: c
                .local
                .id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            remote_auth: auth(c.remote.auth).into(),
            remote_id: c
                .remote
                .id
                .as_ref()
                .map_or_else(|| "%any".to_string(), ToString::to_string),
            encap: c.encap,
            dpd_delay_secs: c.dpd_delay.as_secs(),
            keyingtries: c.keyingtries,
            children: c
                .children
                .iter()
                .map(|ch| ChildConnInfo {
                    name: ch.name.clone(),
                    local_ts: strings(&ts(&ch.local_ts)),
                    remote_ts: strings(&ts(&ch.remote_ts)),
                    esp_proposals: ch.esp_proposals.iter().map(ToString::to_string).collect(),
                    ah_proposals: ch.ah_proposals.iter().map(ToString::to_string).collect(),
                    mode: match ch.mode {
                        config::Mode::Tunnel => ChildMode::Tunnel,
                        config::Mode::Transport => ChildMode::Transport,
                    },
                    start_action: match ch.start_action {
                        config::StartAction::None => "none",
                        config::StartAction::Start => "start",
                    }
                    .into(),
                    close_action: match ch.close_action {
                        config::CloseAction::None => "none",
                        config::CloseAction::Start => "start",
                    }
                    .into(),
                })
                .collect(),
            ike_sas: sas.iter().filter(|s| s.connection == c.name).count() as u64,
        })
        .collect();
    ListConnsResult { connections }
}

fn auth(a: config::AuthMethod) -> &'static str {
    a.as_str()
}

fn ts(v: &[config::TsSpec]) -> Vec<String> {
    v.iter()
        .map(|t| match t {
            config::TsSpec::Dynamic => "dynamic".to_string(),
            config::TsSpec::Ts(t) => t.to_string(),
        })
        .collect()
}

/// `list_algs`: every keyword of the proposal syntax, marked implemented or not.
pub fn list_algs() -> ListAlgsResult {
    ListAlgsResult {
        algorithms: crypto::algorithms()
            .into_iter()
            .map(|a| AlgInfo {
                kind: match a.kind {
                    TransformType::Encr => "encryption",
                    TransformType::Prf => "prf",
                    TransformType::Integ => "integrity",
                    TransformType::Ke => "key_exchange",
                    TransformType::Esn => "esn",
                }
                .into(),
                keyword: a.keyword.into(),
                name: a.name,
                implemented: a.implemented,
            })
            .collect(),
    }
}

/// Process-wide numbers `stats` reports besides the engine's.
#[derive(Debug, Clone, Copy)]
pub struct DaemonNumbers {
    /// When the daemon started.
    pub started: Instant,
    /// Control clients connected now.
    pub control_clients: u64,
    /// Reloads applied.
    pub reloads: u64,
}

/// `stats`.
pub fn stats(engine: &Engine, n: DaemonNumbers, now: Instant) -> StatsResult {
    let sas = engine.status(now);
    let mut counts = SaCounts {
        total: sas.len() as u64,
        ..SaCounts::default()
    };
    for s in &sas {
        match s.state {
            "ESTABLISHED" => counts.established += 1,
            "DELETING" => counts.deleting += 1,
            _ => counts.connecting += 1,
        }
    }
    let st = engine.stats();
    StatsResult {
        daemon: env!("CARGO_PKG_VERSION").to_string(),
        uptime_secs: now.saturating_duration_since(n.started).as_secs(),
        connections: engine.connection_names().len() as u64,
        ike_sas: counts,
        child_sas: sas.iter().map(|s| s.children.len() as u64).sum(),
        ike_established_total: st.ike_established,
        child_established_total: st.child_established,
        control_clients: n.control_clients,
        reloads: n.reloads,
    }
}

/// `counters`: the engine's handshake counters, every Child SA's traffic and the data plane's
/// drops per reason (`esp::DropReason::name`, zeros included).
pub fn counters(engine: &Engine, dp: &DataPath, now: Instant) -> CountersResult {
    let st = engine.stats();
    let mut children = Vec::new();
    for sa in engine.status(now) {
        let remote_id = sa
            .remote_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        for c in &sa.children {
            let s = dp.child_stats(c.id.0).unwrap_or_default();
            children.push(ChildCounters {
                ike_sa: sa.id.0,
                child_sa: c.id.0,
                connection: sa.connection.clone(),
                name: c.name.clone(),
                remote_id: remote_id.clone(),
                bytes_in: s.bytes_in,
                bytes_out: s.bytes_out,
                packets_in: s.packets_in,
                packets_out: s.packets_out,
            });
        }
    }
    CountersResult {
        ike: IkeCounters {
            established: st.ike_established,
            child_established: st.child_established,
            down: st.ike_down.clone(),
        },
        children,
        drops: Some(
            dp.drop_counters()
                .iter()
                .map(|(r, n)| (r.name().to_string(), n))
                .collect(),
        ),
    }
}
