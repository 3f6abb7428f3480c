//! `rampart setup`: a road-warrior VPN server in one command (docs/setup.md).
//!
//! Detects the public address, creates the CA and the server certificate (SAN = address and
//! DNS name, EKU serverAuth + ipsecIKE, RFC 4945 §5.1.3.12), a first EAP-MSCHAPv2 user with a
//! random password, writes `rampart.toml` (pools, NAT, DNS, proposals), starts the service and
//! prints a banner. Run again, it changes nothing and prints the same facts.

#[path = "setup/store.rs"]
pub mod store;

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use profiles::server_config::{self, files, SetupConfig};
use zeroize::Zeroizing;

use store::{private_dir, write_file, ClientRecord, Res, SetupFacts, Store};

/// Default configuration directory.
pub const DEFAULT_DIR: &str = "/etc/rampart";
/// Default IPv4 pool.
pub const DEFAULT_POOL4: &str = "10.10.10.0/24";
/// DNS resolvers pushed by default (public, reachable through the server's NAT):
/// Cloudflare and Quad9.
pub const DEFAULT_DNS4: [&str; 2] = ["1.1.1.1", "9.9.9.9"];
/// Their IPv6 addresses (pushed when clients get IPv6).
pub const DEFAULT_DNS6: [&str; 2] = ["2606:4700:4700::1111", "2620:fe::fe"];

/// `rampart setup` options; each also an environment variable.
#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// Configuration directory (state files 0600, folders 0700).
    #[arg(long, env = "RAMPART_CONFIG_DIR", default_value = DEFAULT_DIR)]
    pub config_dir: PathBuf,
    /// The server's public address (default: the source address of the default route).
    #[arg(long, env = "RAMPART_ADDRESS")]
    pub address: Option<IpAddr>,
    /// The server's DNS name (in its certificate; clients then connect to the name).
    #[arg(long, env = "RAMPART_DNS_NAME")]
    pub dns_name: Option<String>,
    /// The first EAP user.
    #[arg(long, env = "RAMPART_USER", default_value = "vpnuser")]
    pub user: String,
    /// Its password (default: 16 random characters without look-alikes).
    #[arg(long, env = "RAMPART_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// IPv4 pool for clients (CIDR), or "none".
    #[arg(long, env = "RAMPART_POOL4", default_value = DEFAULT_POOL4)]
    pub pool4: String,
    /// IPv6 pool (CIDR) or "none"; default: a random ULA /112 when the server has IPv6.
    #[arg(long, env = "RAMPART_POOL6")]
    pub pool6: Option<String>,
    /// DNS servers pushed to clients, comma-separated (default: 1.1.1.1, 9.9.9.9 and their IPv6
    /// addresses when clients get IPv6).
    #[arg(long, env = "RAMPART_DNS", value_delimiter = ',')]
    pub dns: Vec<IpAddr>,
    /// Split tunnel: only these networks through the VPN, comma-separated (default: all).
    #[arg(long, env = "RAMPART_SPLIT", value_delimiter = ',')]
    pub split: Vec<String>,
    /// Do not NAT clients' traffic out of the server.
    #[arg(long, env = "RAMPART_NO_MASQUERADE")]
    pub no_masquerade: bool,
    /// Accept MODP-1024 and SHA-1 suites (Windows' defaults without the exported script).
    #[arg(long, env = "RAMPART_LEGACY_CRYPTO")]
    pub legacy_crypto: bool,
    /// daemon.state_dir (default /var/lib/rampart, or STATE under a non-default --config-dir).
    #[arg(long, env = "RAMPART_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Do not install or start a service.
    #[arg(long, env = "RAMPART_NO_SERVICE")]
    pub no_service: bool,
    /// Run the daemon in the foreground after setting up (when there is no systemd).
    #[arg(long, conflicts_with = "no_service")]
    pub foreground: bool,
}

/// The source address the kernel picks towards `dest` (no packet is sent): the address of
/// the default route. Documentation addresses stand for "anywhere".
fn route_source(dest: IpAddr) -> Option<IpAddr> {
    let bind: SocketAddr = match dest {
        IpAddr::V4(_) => "0.0.0.0:0".parse().ok()?,
        IpAddr::V6(_) => "[::]:0".parse().ok()?,
    };
    let s = UdpSocket::bind(bind).ok()?;
    s.connect(SocketAddr::new(dest, 9)).ok()?;
    Some(s.local_addr().ok()?.ip())
}

fn global_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    !(a.is_loopback()
        || a.is_unspecified()
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xfe00) == 0xfc00)
}

fn private_v4(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_private() || v.is_loopback() || v.is_link_local(),
        IpAddr::V6(_) => false,
    }
}

/// A random ULA /112 (RFC 4193 §3.2: fd + 40-bit random Global ID).
fn random_ula() -> String {
    let mut g = [0u8; 5];
    crypto::Random::fill(&mut crypto::SystemRandom, &mut g);
    format!(
        "fd{:02x}:{:02x}{:02x}:{:02x}{:02x}::/112",
        g[0], g[1], g[2], g[3], g[4]
    )
}

fn euid_is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `rampart setup`.
pub fn run(args: SetupArgs) -> ExitCode {
    if !euid_is_root() {
        eprintln!(
            "rampart: setup needs root (it writes {} and configures the service)",
            args.config_dir.display()
        );
        return ExitCode::from(crate::cli::EXIT_FAILED);
    }
    let store = Store {
        dir: args.config_dir.clone(),
    };
    let fresh = !store.is_set_up();
    let result = if fresh { create(&store, &args) } else { Ok(()) };
    if let Err(e) = result {
        eprintln!("rampart: setup: {e}");
        return ExitCode::from(crate::cli::EXIT_FAILED);
    }
    if !fresh {
        let given = [
            args.address.is_some(),
            args.dns_name.is_some(),
            args.password.is_some(),
            !args.dns.is_empty(),
            !args.split.is_empty(),
            args.pool6.is_some(),
            args.legacy_crypto,
        ];
        if given.iter().any(|g| *g) {
            eprintln!(
                "rampart: {} is set up already; options are not applied again (edit {} or start over in an empty --config-dir)",
                store.dir.display(),
                store.config_path().display()
            );
        }
    }
    if let Err(e) = check_config(&store.config_path()) {
        eprintln!("rampart: warning: {e}");
    }
    let service = service(&store, &args);
    match banner(&store) {
        Ok(b) => print!("{b}"),
        Err(e) => {
            eprintln!("rampart: setup: {e}");
            return ExitCode::from(crate::cli::EXIT_FAILED);
        }
    }
    println!("  Service:        {}", service.0);
    if service.1 {
        println!("\nRunning the daemon in the foreground (Ctrl-C stops it).");
        return crate::daemon::main(&store.config_path());
    }
    ExitCode::SUCCESS
}

fn check_config(path: &Path) -> Res<()> {
    config::Config::load(path).map(|_| ()).map_err(|errs| {
        format!(
            "`rampart config check` does not accept {} yet:\n{}",
            path.display(),
            errs.messages().join("\n")
        )
    })
}

/// Creates everything (only when `setup.toml` does not exist yet).
fn create(store: &Store, args: &SetupArgs) -> Res<()> {
    store::check_name(&args.user)?;
    private_dir(&store.dir)?;
    let address = match args.address {
        Some(a) => a,
        None => route_source("192.0.2.1".parse().map_err(|_| "internal")?)
            .or_else(|| route_source("2001:db8::1".parse().ok()?))
            .ok_or("cannot find the public address (no default route): give --address")?,
    };
    if private_v4(address) && args.address.is_none() {
        eprintln!(
            "rampart: note: {address} is a private address; if clients reach this server through NAT, run again with --address PUBLIC in an empty --config-dir"
        );
    }
    let has_v6 = route_source("2001:db8::1".parse().map_err(|_| "internal")?)
        .is_some_and(|a| matches!(a, IpAddr::V6(v) if global_v6(v)));
    let none = |s: &str| s.eq_ignore_ascii_case("none");
    let pool4 = (!none(&args.pool4)).then(|| args.pool4.clone());
    let pool6 = match &args.pool6 {
        Some(p) if none(p) => None,
        Some(p) => Some(p.clone()),
        None => has_v6.then(random_ula),
    };
    let dns: Vec<IpAddr> = if args.dns.is_empty() {
        let mut v: Vec<&str> = DEFAULT_DNS4.to_vec();
        if pool6.is_some() {
            v.extend(DEFAULT_DNS6);
        }
        v.iter().filter_map(|s| s.parse().ok()).collect()
    } else {
        args.dns.clone()
    };
    let state_dir = args.state_dir.clone().unwrap_or_else(|| {
        if store.dir == Path::new(DEFAULT_DIR) {
            PathBuf::from("/var/lib/rampart")
        } else {
            store.dir.join("state")
        }
    });
    let dns_names: Vec<String> = args.dns_name.iter().cloned().collect();
    let server_id = args.dns_name.clone().unwrap_or_else(|| address.to_string());

    // PKI.
    let now = SystemTime::now();
    let ca = profiles::issue::new_ca(&server_id, now).map_err(|e| e.to_string())?;
    let srv = profiles::issue::server_cert(&ca, &[address], &dns_names, now)
        .map_err(|e| e.to_string())?;
    write_file(
        &store.path(files::CA_KEY),
        ca.key().pkcs8_pem().as_bytes(),
        0o600,
    )?;
    write_file(&store.path(files::CA_CERT), ca.cert_pem().as_bytes(), 0o644)?;
    write_file(
        &store.path(files::SERVER_KEY),
        srv.key.pkcs8_pem().as_bytes(),
        0o600,
    )?;
    write_file(
        &store.path(files::SERVER_CERT),
        pki::cert_to_pem(&srv.cert_der).as_bytes(),
        0o644,
    )?;
    private_dir(&store.clients_dir())?;
    store.write_crl()?;

    // Configuration.
    let sc = SetupConfig {
        server_id,
        pool4,
        pool6,
        masquerade: !args.no_masquerade,
        dns,
        split_routes: args.split.clone(),
        ike_proposals: profiles::proposals::server_ike(args.legacy_crypto),
        esp_proposals: profiles::proposals::server_esp(args.legacy_crypto),
        legacy_crypto: args.legacy_crypto,
        state_dir: state_dir.to_string_lossy().to_string(),
    };
    let mut doc = server_config::render_initial(&sc).map_err(|e| e.to_string())?;
    let password = match &args.password {
        Some(p) if !p.is_empty() => Zeroizing::new(p.clone()),
        _ => profiles::secret::password(),
    };
    server_config::add_eap_user(&mut doc, &args.user, &args.user, &password)
        .map_err(|e| e.to_string())?;
    store.save_config(&doc)?;
    store.save_client(
        &args.user,
        &ClientRecord {
            kind: "eap".into(),
            id: args.user.clone(),
            serial: None,
            p12_password: None,
            created: store::unix_now(),
            revoked: None,
        },
    )?;
    // Written last: its presence means "set up".
    store.save_facts(&SetupFacts {
        address,
        dns_name: args.dns_name.clone(),
        first_user: args.user.clone(),
        split_routes: args.split.clone(),
        legacy_crypto: args.legacy_crypto,
    })?;
    store.export(&args.user, &store.export_dir(&args.user))?;
    Ok(())
}

/// The facts, the same on every run.
fn banner(store: &Store) -> Res<String> {
    let f = store.facts()?;
    let server = store.server()?;
    let doc = store.config()?;
    let password = server_config::secret(&doc, "eap", &f.first_user);
    let mut b = String::new();
    b.push_str("\nRampart VPN server is set up.\n\n");
    b.push_str(&format!(
        "  Server address: {}{}\n",
        f.address,
        f.dns_name
            .as_ref()
            .map_or(String::new(), |n| format!(" ({n})"))
    ));
    b.push_str(&format!("  Server ID:      {}\n", server.remote_id()));
    b.push_str(&format!(
        "  CA (SHA-256):   {}\n",
        profiles::fingerprint(&server.ca_cert_der)
    ));
    b.push_str(&format!("  Username:       {}\n", f.first_user));
    match &password {
        Some(p) => b.push_str(&format!("  Password:       {}\n", p.as_str())),
        None => b.push_str("  Password:       (removed: the user was revoked)\n"),
    }
    b.push_str(&format!(
        "  Client files:   {}/ (README.txt says which file is for which system)\n",
        store.export_dir(&f.first_user).display()
    ));
    b.push_str(&format!(
        "  Configuration:  {}\n",
        store.config_path().display()
    ));
    b.push_str(
        "  More clients:   rampart client add NAME [--password | --psk], then rampart client export NAME\n",
    );
    if let (Some(p), true) = (&password, std::io::stdout().is_terminal()) {
        let text =
            profiles::qr::eap_text(&server.connect_to(), &server.remote_id(), &f.first_user, p);
        if let Ok(q) = profiles::qr::terminal(&text) {
            b.push_str("\n  Scan with a phone to copy server, user and password:\n");
            b.push_str(&q);
            b.push('\n');
        }
    }
    Ok(b)
}

/// Installs and starts the systemd unit when systemd runs. Returns the status line and
/// whether to run the daemon in the foreground now.
fn service(store: &Store, args: &SetupArgs) -> (String, bool) {
    let cfg = store.config_path();
    let manual = format!("run `rampart daemon -c {}` (foreground)", cfg.display());
    if args.no_service {
        return (format!("not installed (--no-service): {manual}"), false);
    }
    if !Path::new("/run/systemd/system").exists() {
        if args.foreground {
            return ("no systemd: running in the foreground".into(), true);
        }
        return (
            format!("no systemd: {manual}, or `rampart setup --foreground`"),
            false,
        );
    }
    let exe = std::env::current_exe()
        .map(|p| p.to_string_lossy().to_string())
        .unwrap_or_else(|_| "/usr/bin/rampart".into());
    let unit = include_str!("../../../../dist/rampart.service")
        .replace("/usr/bin/rampart", &exe)
        .replace("/etc/rampart/rampart.toml", &cfg.to_string_lossy());
    let path = Path::new("/etc/systemd/system/rampart.service");
    let same = std::fs::read_to_string(path).is_ok_and(|old| old == unit);
    if !same {
        if let Err(e) = write_file(path, unit.as_bytes(), 0o644) {
            return (format!("{e}; {manual}"), false);
        }
    }
    let sh = |args: &[&str]| {
        Command::new("systemctl")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    if (!same && !sh(&["daemon-reload"])) || !sh(&["enable", "--now", "rampart"]) {
        return (
            format!("systemctl failed (see `systemctl status rampart`); or {manual}"),
            false,
        );
    }
    (
        "rampart.service enabled and running (systemctl status rampart)".into(),
        false,
    )
}
