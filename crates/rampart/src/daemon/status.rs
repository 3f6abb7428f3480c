//! The `status` result: the engine's view of the SAs plus the data plane's counters.

use std::time::Instant;

use control::{ChildMode, ChildSaInfo, ChildSaState, IkeSaInfo, IkeSaState, StatusResult};
use ike::Engine;

/// Builds the `status` answer.
pub fn status(engine: &Engine, dp: &super::datapath::DataPath, now: Instant) -> StatusResult {
    let ike_sas = engine
        .status(now)
        .into_iter()
        .map(|sa| IkeSaInfo {
            id: sa.id.0,
            connection: sa.connection,
            state: match sa.state {
                "ESTABLISHED" => IkeSaState::Established,
                "DELETING" => IkeSaState::Deleting,
                _ => IkeSaState::Connecting,
            },
            initiator: sa.initiator,
            local: sa.local,
            remote: sa.remote,
            local_id: sa
                .local_id
                .map(|i| pki::identity_to_string(&i))
                .unwrap_or_default(),
            remote_id: sa
                .remote_id
                .map(|i| pki::identity_to_string(&i))
                .unwrap_or_default(),
            spi_i: sa.spi_i,
            spi_r: sa.spi_r,
            proposal: sa.suite.map(|s| s.to_string()).unwrap_or_default(),
            nat_local: sa.nat_local,
            nat_remote: sa.nat_remote,
            established_secs: sa.established_for.map_or(0, |d| d.as_secs()),
            children: sa
                .children
                .into_iter()
                .map(|c| {
                    let st = dp.child_stats(c.id.0).unwrap_or_default();
                    ChildSaInfo {
                        id: c.id.0,
                        name: c.name,
                        state: if c.state == "DELETING" {
                            ChildSaState::Deleting
                        } else {
                            ChildSaState::Installed
                        },
                        mode: match c.mode {
                            ike::Mode::Tunnel => ChildMode::Tunnel,
                            ike::Mode::Transport => ChildMode::Transport,
                        },
                        encap: c.encap,
                        protocol: c.suite.protocol().to_string(),
                        spi_in: c.spi_in,
                        spi_out: c.spi_out,
                        proposal: c.suite.to_string(),
                        local_ts: c.local_ts.iter().map(ToString::to_string).collect(),
                        remote_ts: c.remote_ts.iter().map(ToString::to_string).collect(),
                        bytes_in: st.bytes_in,
                        bytes_out: st.bytes_out,
                        packets_in: st.packets_in,
                        packets_out: st.packets_out,
                    }
                })
                .collect(),
        })
        .collect();
    StatusResult {
        ike_sas,
        connections: engine.connection_names(),
    }
}
