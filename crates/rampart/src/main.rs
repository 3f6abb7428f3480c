//! `rampart`: the IPsec daemon and its command-line client (docs/cli.md).

mod cli;
mod daemon;

// `rampart setup`, `rampart client`, `rampart connect` (docs/setup.md).
#[path = "cli/client.rs"]
mod client;
#[path = "cli/connect.rs"]
mod connect;
#[path = "cli/setup.rs"]
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rampart IPsec VPN (IKEv2 + ESP).
///
/// `rampart daemon` runs the VPN; every other verb is a client of its control socket.
/// Exit codes: 0 success, 1 the daemon refused or the command failed, 2 usage error,
/// 3 the daemon cannot be reached, 4 the configuration is invalid.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about, long_about)]
struct Args {
    /// Control socket of the daemon (for client commands).
    #[arg(short = 's', long, global = true, env = "RAMPART_SOCKET", default_value = config::DEFAULT_CONTROL_SOCKET)]
    socket: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the daemon in the foreground (SIGTERM/SIGINT delete all SAs and exit, SIGHUP reloads).
    #[command(
        after_help = "Examples:\n  rampart daemon\n  rampart daemon -c ./rampart.toml\n  \
                            RAMPART_LOG=debug rampart daemon -c ./rampart.toml"
    )]
    Daemon {
        /// Configuration file.
        #[arg(
            short = 'c',
            long = "config",
            default_value = "/etc/rampart/rampart.toml"
        )]
        config: PathBuf,
    },
    /// Check a configuration file without starting anything.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// List IKE SAs and their Child SAs.
    #[command(
        after_help = "Examples:\n  rampart list-sas\n  rampart list-sas --conn net2net\n  \
                            rampart list-sas --json | jq '.ike_sas[].children[].spi_in'"
    )]
    ListSas {
        /// Only the IKE SAs of this connection.
        #[arg(long = "conn")]
        connection: Option<String>,
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the configured connections and their children.
    #[command(after_help = "Examples:\n  rampart list-conns\n  rampart list-conns --json")]
    ListConns {
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// List loaded certificates (none until certificate authentication exists).
    #[command(after_help = "Examples:\n  rampart list-certs\n  rampart list-certs --json")]
    ListCerts {
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// List virtual-IP pools and their leases (none until pools exist).
    #[command(after_help = "Examples:\n  rampart list-pools\n  rampart list-pools --json")]
    ListPools {
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the algorithm keywords of the proposal syntax and which are implemented.
    #[command(after_help = "Examples:\n  rampart list-algs\n  \
                            rampart list-algs --json | jq -r '.algorithms[] | select(.implemented) | .keyword'")]
    ListAlgs {
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start a connection's IKE SA and a Child SA.
    #[command(
        after_help = "Examples:\n  rampart initiate net2net\n  rampart initiate net2net --child net"
    )]
    Initiate {
        /// Connection name from the configuration.
        connection: String,
        /// The child to negotiate (default: the connection's first).
        #[arg(long)]
        child: Option<String>,
    },
    /// Delete a connection's IKE SAs, one IKE SA or one Child SA (sends DELETE to the peer).
    #[command(
        after_help = "Examples:\n  rampart terminate net2net\n  rampart terminate --ike-sa 3\n  \
                            rampart terminate --child-sa 7"
    )]
    Terminate {
        /// Connection name.
        #[arg(required_unless_present_any = ["ike_sa", "child_sa"])]
        connection: Option<String>,
        /// One IKE SA by its id (see `rampart list-sas`).
        #[arg(long, conflicts_with_all = ["connection", "child_sa"])]
        ike_sa: Option<u64>,
        /// One Child SA by its id.
        #[arg(long, conflicts_with_all = ["connection", "ike_sa"])]
        child_sa: Option<u64>,
    },
    /// Rekey an IKE SA or a Child SA (not supported yet: answers an error, exit code 1).
    #[command(after_help = "Examples:\n  rampart rekey --ike-sa 3\n  rampart rekey --child-sa 7")]
    Rekey {
        /// An IKE SA by its id.
        #[arg(
            long,
            required_unless_present = "child_sa",
            conflicts_with = "child_sa"
        )]
        ike_sa: Option<u64>,
        /// A Child SA by its id.
        #[arg(long)]
        child_sa: Option<u64>,
    },
    /// Re-read the daemon's configuration file and apply the difference (like SIGHUP).
    #[command(
        after_help = "Unchanged connections keep their SAs; removed ones are torn down; \
                            added or changed ones with start_action = \"start\" are initiated.\n\
                            A configuration with errors is refused (exit code 4) and the running one stays.\n\n\
                            Examples:\n  rampart reload\n  rampart reload --json"
    )]
    Reload {
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Follow the daemon's events and log lines until interrupted.
    #[command(
        after_help = "Examples:\n  rampart log\n  rampart log --level debug\n  \
                            rampart log --no-log --json\n  rampart log --count 1 --no-log   # wait for the next SA event"
    )]
    Log {
        /// Log lines at this level or more severe: error, warn, info, debug, trace.
        #[arg(long, default_value = "info", value_parser = ["error", "warn", "info", "debug", "trace"])]
        level: String,
        /// No log lines, only SA events.
        #[arg(long, conflicts_with = "no_sa")]
        no_log: bool,
        /// No SA events, only log lines.
        #[arg(long)]
        no_sa: bool,
        /// Exit after this many events.
        #[arg(long)]
        count: Option<u64>,
        /// One JSON event frame per line.
        #[arg(long)]
        json: bool,
    },
    /// Show the daemon at a glance: uptime, SA counts, handshakes since start.
    #[command(after_help = "Examples:\n  rampart stats\n  rampart stats --json")]
    Stats {
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show counters: handshakes, failures by reason, traffic per Child SA, drops.
    #[command(after_help = "Examples:\n  rampart counters\n  rampart counters --json")]
    Counters {
        /// Print the control protocol's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show IKE and Child SAs (the older form of `list-sas`).
    #[command(after_help = "Examples:\n  rampart status\n  rampart status --json")]
    Status {
        /// Print the control protocol's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the daemon's and the client's versions.
    #[command(after_help = "Examples:\n  rampart version")]
    Version,
    /// Set up a road-warrior VPN server: CA, server certificate, first user, config, service.
    #[command(
        after_help = "Every option is also an environment variable (RAMPART_ADDRESS, ...).\n\
                            Running it again changes nothing and prints the same facts (docs/setup.md).\n\n\
                            Examples:\n  rampart setup\n  rampart setup --address 203.0.113.1 --dns-name vpn.example.org\n  \
                            rampart setup --split 198.51.100.0/24 --no-service"
    )]
    Setup(setup::SetupArgs),
    /// Manage the clients of a server made by `rampart setup`.
    Client(client::ClientArgs),
    /// Connect to a VPN with a profile from `rampart client export` (runs in the foreground).
    #[command(after_help = "Examples:\n  sudo rampart connect ./alice.rampart")]
    Connect(connect::ConnectArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Validate a configuration file (syntax, keys, values, secret files) without starting.
    #[command(
        after_help = "Exit code 0 when valid, 4 with every error on stderr otherwise.\n\n\
                            Examples:\n  rampart config check /etc/rampart/rampart.toml\n  \
                            rampart config check ./rampart.toml && systemctl reload rampart"
    )]
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let s = &args.socket;
    match args.command {
        Cmd::Daemon { config } => daemon::main(&config),
        Cmd::Config(ConfigCmd::Check { file }) => cli::config_check(&file),
        Cmd::ListSas { connection, json } => cli::list_sas(s, connection, json),
        Cmd::ListConns { json } => cli::list_conns(s, json),
        Cmd::ListCerts { json } => cli::list_certs(s, json),
        Cmd::ListPools { json } => cli::list_pools(s, json),
        Cmd::ListAlgs { json } => cli::list_algs(s, json),
        Cmd::Initiate { connection, child } => cli::initiate(s, &connection, child),
        Cmd::Terminate {
            connection,
            ike_sa,
            child_sa,
        } => cli::terminate(s, connection, ike_sa, child_sa),
        Cmd::Rekey { ike_sa, child_sa } => cli::rekey(s, ike_sa, child_sa),
        Cmd::Reload { json } => cli::reload(s, json),
        Cmd::Log {
            level,
            no_log,
            no_sa,
            count,
            json,
        } => cli::log::follow(s, &level, !no_sa, !no_log, count, json),
        Cmd::Stats { json } => cli::stats(s, json),
        Cmd::Counters { json } => cli::counters(s, json),
        Cmd::Status { json } => cli::status(s, json),
        Cmd::Version => cli::version(s),
        Cmd::Setup(a) => setup::run(a),
        Cmd::Client(a) => client::run(s, a),
        Cmd::Connect(a) => connect::run(a),
    }
}
