//! Client side DNS (docs/config.md "Road warriors"): the DNS servers a server pushed
//! (INTERNAL_IP4_DNS / INTERNAL_IP6_DNS, RFC 7296 §3.15.1) are used while the IKE SA that
//! brought them is up. With systemd-resolved running, `resolvectl dns TUN ...` and
//! `resolvectl domain TUN ~.` (every lookup goes to them), undone by `resolvectl revert TUN`.
//! Otherwise `/etc/resolv.conf` is rewritten in place (in a namespace entered with
//! `ip netns exec NS` that is `/etc/netns/NS/resolv.conf`, bind-mounted there), its previous
//! content kept in memory and in `state_dir/resolv.conf.backup`, and written back on down.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const RESOLV_CONF: &str = "/etc/resolv.conf";
/// Present while systemd-resolved runs.
const RESOLVED_RUNNING: &str = "/run/systemd/resolve/io.systemd.Resolve";
const BACKUP_FILE: &str = "resolv.conf.backup";

#[derive(Debug)]
enum Applied {
    Resolved,
    File { backup: Vec<u8> },
}

/// DNS settings applied for one IKE SA at a time (the latest wins).
#[derive(Debug)]
pub struct Dns {
    tun: String,
    state_dir: PathBuf,
    /// The IKE SA whose servers are in use, and how they were applied.
    current: Option<(u64, Applied)>,
}

fn resolved_running() -> bool {
    Path::new(RESOLVED_RUNNING).exists()
        && Command::new("resolvectl")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn resolvectl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("resolvectl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("resolvectl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "resolvectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The text of a resolv.conf naming `servers` (resolv.conf(5)).
pub fn resolv_conf(servers: &[IpAddr]) -> String {
    let mut s = String::from("# written by rampart for the VPN; restored when it goes down\n");
    for a in servers {
        s.push_str(&format!("nameserver {a}\n"));
    }
    s
}

/// Rewrites `path` in place (truncate and write: a bind-mounted file cannot be renamed over).
fn write_in_place(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .create(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

impl Dns {
    /// DNS handling for TUN device `tun`; backups go to `state_dir`.
    pub fn new(tun: &str, state_dir: &Path) -> Self {
        Self {
            tun: tun.to_string(),
            state_dir: state_dir.to_path_buf(),
            current: None,
        }
    }

    /// Uses `servers` (pushed on IKE SA `ike_sa`).
    pub fn apply(&mut self, ike_sa: u64, servers: &[IpAddr]) {
        if servers.is_empty() {
            return;
        }
        // An earlier SA's settings are undone first (its backup is the original).
        let keep_backup = match self.current.take() {
            Some((_, Applied::File { backup })) => Some(backup),
            Some((_, Applied::Resolved)) => {
                let _ = resolvectl(&["revert", &self.tun]);
                None
            }
            None => None,
        };
        let list: Vec<String> = servers.iter().map(ToString::to_string).collect();
        if resolved_running() {
            let mut args = vec!["dns", self.tun.as_str()];
            args.extend(list.iter().map(String::as_str));
            match resolvectl(&args).and_then(|()| resolvectl(&["domain", &self.tun, "~."])) {
                Ok(()) => {
                    tracing::info!(
                        "DNS servers {} set on {} (systemd-resolved)",
                        list.join(", "),
                        self.tun
                    );
                    self.current = Some((ike_sa, Applied::Resolved));
                    return;
                }
                Err(e) => tracing::warn!("{e}; writing {RESOLV_CONF} instead"),
            }
        }
        let backup = match keep_backup {
            Some(b) => b,
            None => match std::fs::read(RESOLV_CONF) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => {
                    tracing::error!("cannot read {RESOLV_CONF}: {e}; DNS servers not applied");
                    return;
                }
            },
        };
        if std::fs::create_dir_all(&self.state_dir).is_ok() {
            let _ = std::fs::write(self.state_dir.join(BACKUP_FILE), &backup);
        }
        match write_in_place(Path::new(RESOLV_CONF), resolv_conf(servers).as_bytes()) {
            Ok(()) => {
                tracing::info!("DNS servers {} written to {RESOLV_CONF}", list.join(", "));
                self.current = Some((ike_sa, Applied::File { backup }));
            }
            Err(e) => tracing::error!("cannot write {RESOLV_CONF}: {e}; DNS servers not applied"),
        }
    }

    /// An IKE SA was rekeyed: its settings now belong to the new one.
    pub fn rekeyed(&mut self, old: u64, new: u64) {
        if let Some((id, _)) = &mut self.current {
            if *id == old {
                *id = new;
            }
        }
    }

    /// IKE SA `ike_sa` is down: its DNS settings are undone.
    pub fn down(&mut self, ike_sa: u64) {
        if self.current.as_ref().is_some_and(|(id, _)| *id == ike_sa) {
            self.restore();
        }
    }

    /// Undoes whatever is applied (also at shutdown).
    pub fn restore(&mut self) {
        match self.current.take() {
            None => {}
            Some((_, Applied::Resolved)) => match resolvectl(&["revert", &self.tun]) {
                Ok(()) => tracing::info!("DNS settings of {} reverted", self.tun),
                Err(e) => tracing::warn!("{e}"),
            },
            Some((_, Applied::File { backup })) => {
                match write_in_place(Path::new(RESOLV_CONF), &backup) {
                    Ok(()) => {
                        tracing::info!("{RESOLV_CONF} restored");
                        let _ = std::fs::remove_file(self.state_dir.join(BACKUP_FILE));
                    }
                    Err(e) => tracing::error!(
                        "cannot restore {RESOLV_CONF}: {e} (the old content is in {})",
                        self.state_dir.join(BACKUP_FILE).display()
                    ),
                }
            }
        }
    }
}
