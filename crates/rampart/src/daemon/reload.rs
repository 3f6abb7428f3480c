//! `reload` and SIGHUP: re-read the configuration file and apply the difference. A file with
//! errors is refused whole (the running configuration stays); otherwise the engine gets the
//! new connections (`Engine::update_connections` keeps the SAs of unchanged ones and deletes
//! those of removed or changed ones), the secrets and log levels are replaced, and added or
//! changed connections with `start_action = "start"` are initiated. Certificates, keys, CAs
//! and CRLs are re-read with the file and apply from the next authentication. `[daemon]` keys other
//! than `log_level` need a restart: they keep their running values and the answer names them.

use std::time::Instant;

use control::{ControlError, ErrorCode, ReloadResult};

use super::credentials::ConfigCredentials;
use super::{convert, notify, Daemon};

/// The `[daemon]` keys whose new value would need a restart, by name.
fn restart_needed(old: &config::DaemonConfig, new: &config::DaemonConfig) -> Vec<String> {
    let mut v = Vec::new();
    let mut check = |name: &str, same: bool| {
        if !same {
            v.push(format!("daemon.{name}"));
        }
    };
    check("control_socket", old.control_socket == new.control_socket);
    check("tun_name", old.tun_name == new.tun_name);
    check("ike_port", old.ike_port == new.ike_port);
    check("natt_port", old.natt_port == new.natt_port);
    check("listen", old.listen == new.listen);
    check("control_group", old.control_group == new.control_group);
    check("metrics_listen", old.metrics_listen == new.metrics_listen);
    check("fragment_size", old.fragment_size == new.fragment_size);
    v
}

/// One line for the log.
pub fn summary(r: &ReloadResult) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(" ")
        }
    };
    let mut s = format!(
        "added {}, removed {}, changed {}, unchanged {}, initiated {}",
        list(&r.added),
        list(&r.removed),
        list(&r.changed),
        list(&r.unchanged),
        list(&r.initiated)
    );
    if !r.restart_needed.is_empty() {
        s.push_str(&format!(
            "; needs a restart to change: {}",
            r.restart_needed.join(" ")
        ));
    }
    s
}

impl Daemon {
    /// Re-reads the configuration file and applies it (see the module documentation).
    pub(super) fn reload(&mut self) -> Result<ReloadResult, ControlError> {
        let path = self.cfg.path.clone();
        let mut new = config::Config::load(&path).map_err(|errs| {
            let msgs = errs.messages();
            tracing::error!(
                "reload refused, the running configuration stays: {} error(s) in {}",
                msgs.len(),
                path.display()
            );
            ControlError::new(
                ErrorCode::InvalidConfig,
                format!(
                    "{}\n(the running configuration stays in force)",
                    msgs.join("\n")
                ),
            )
        })?;
        // Certificates, keys, CAs and CRLs as the engine will use them, before anything changes.
        let creds = ConfigCredentials::prepare(&new).map_err(|e| {
            tracing::error!("reload refused, the running configuration stays: {e}");
            ControlError::new(
                ErrorCode::InvalidConfig,
                format!("{e}\n(the running configuration stays in force)"),
            )
        })?;
        notify::reloading();
        let restart = restart_needed(&self.cfg.daemon, &new.daemon);
        // Keys that need a restart keep their running values; log levels and legacy_crypto
        // (already applied to the new file's proposals) apply now.
        let log_level = new.daemon.log_level;
        let log_subsystems = std::mem::take(&mut new.daemon.log_subsystems);
        let legacy_crypto = new.daemon.legacy_crypto;
        new.daemon = self.cfg.daemon.clone();
        new.daemon.log_level = log_level;
        new.daemon.log_subsystems = log_subsystems;
        new.daemon.legacy_crypto = legacy_crypto;
        self.log.set(&new.daemon);
        self.creds.replace(creds);
        let report = self
            .engine
            .update_connections(Instant::now(), convert::connections(&new));
        self.cfg = new;
        self.pools.reconfigure(&self.cfg);
        self.nat.apply(&self.cfg);
        let mut initiated = Vec::new();
        for (conn, child) in convert::to_start(&self.cfg) {
            if !report.added.contains(&conn) && !report.changed.contains(&conn) {
                continue;
            }
            match self.initiate(&conn, Some(&child)) {
                Ok(_) => initiated.push(conn),
                Err(e) => tracing::error!("reload: cannot initiate {conn}: {e}"),
            }
        }
        self.reloads += 1;
        let result = ReloadResult {
            added: report.added,
            removed: report.removed,
            changed: report.changed,
            unchanged: report.unchanged,
            initiated,
            restart_needed: restart,
        };
        tracing::info!("configuration reloaded: {}", summary(&result));
        notify::ready(&format!("{} connection(s)", self.cfg.connections.len()));
        Ok(result)
    }
}
