//! `rampart connect PROFILE`: the Linux client. Runs the daemon in the foreground with a
//! configuration built from a profile of `rampart client export` (profiles::linux) in a
//! private temporary folder (0700, files 0600, removed on exit). The daemon requests virtual
//! IPs (RFC 7296 §2.19) and installs them, the routes and DNS it is given.

use std::net::{IpAddr, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::setup::store::{private_dir, write_file};

/// `rampart connect` options.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// The profile (NAME.rampart from `rampart client export`).
    pub profile: PathBuf,
    /// TUN device name.
    #[arg(long, env = "RAMPART_TUN", default_value = "rampart-c0")]
    pub tun: String,
    /// Folder for the generated configuration (default: a new one under /run, removed on exit).
    #[arg(long, env = "RAMPART_CONNECT_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Write the configuration and print its path instead of running the daemon.
    #[arg(long)]
    pub dry_run: bool,
}

/// Removes the work folder when `rampart connect` ends.
struct WorkDir(PathBuf, bool);
impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn resolve(server: &str) -> Result<IpAddr, String> {
    if let Ok(a) = server.parse::<IpAddr>() {
        return Ok(a);
    }
    (server, 500)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{server}': {e}"))?
        .map(|s| s.ip())
        .next()
        .ok_or_else(|| format!("'{server}' has no address"))
}

/// `rampart connect`.
pub fn run(args: ConnectArgs) -> ExitCode {
    match prepare(&args) {
        Err(e) => {
            eprintln!("rampart: connect: {e}");
            ExitCode::from(crate::cli::EXIT_FAILED)
        }
        Ok(work) => {
            let cfg = work.0.join("rampart.toml");
            if args.dry_run {
                println!("{}", cfg.display());
                let mut w = work;
                w.1 = false;
                return ExitCode::SUCCESS;
            }
            crate::daemon::main(&cfg)
        }
    }
}

fn prepare(args: &ConnectArgs) -> Result<WorkDir, String> {
    let meta =
        std::fs::metadata(&args.profile).map_err(|e| format!("{}: {e}", args.profile.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        eprintln!(
            "rampart: warning: {} holds a secret and is readable by others (chmod 600 it)",
            args.profile.display()
        );
    }
    let text = std::fs::read_to_string(&args.profile)
        .map_err(|e| format!("{}: {e}", args.profile.display()))?;
    let p =
        profiles::linux::parse(&text).map_err(|e| format!("{}: {e}", args.profile.display()))?;
    let ip = match (
        resolve(&p.server),
        p.address.as_deref().map(str::parse::<IpAddr>),
    ) {
        (Ok(ip), _) => ip,
        (Err(e), Some(Ok(ip))) => {
            eprintln!("rampart: {e}; using the profile's address {ip}");
            ip
        }
        (Err(e), _) => return Err(e),
    };
    let (dir, remove) = match &args.work_dir {
        Some(d) => (d.clone(), false),
        None => (
            Path::new("/run").join(format!("rampart-connect-{}", std::process::id())),
            true,
        ),
    };
    private_dir(&dir)?;
    let work = WorkDir(dir.clone(), remove);
    let files = profiles::linux::daemon_config(&p, ip, &dir.join("rampart.sock"), &args.tun)
        .map_err(|e| e.to_string())?;
    for f in files {
        write_file(&dir.join(f.name), &f.contents, 0o600)?;
    }
    println!(
        "Connecting to {} ({ip}) as '{}'; configuration in {}.",
        p.server,
        p.name,
        dir.display()
    );
    Ok(work)
}
