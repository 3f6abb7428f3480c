//! `rampart`: the IPsec daemon and its command-line client.

mod cli;
mod daemon;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rampart IPsec VPN (IKEv2 + ESP).
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about)]
struct Args {
    /// Control socket of the daemon (for client commands).
    #[arg(short = 's', long, global = true, env = "RAMPART_SOCKET", default_value = config::DEFAULT_CONTROL_SOCKET)]
    socket: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the daemon in the foreground (logs to stderr; SIGTERM/SIGINT delete all SAs and exit).
    Daemon {
        /// Configuration file.
        #[arg(
            short = 'c',
            long = "config",
            default_value = "/etc/rampart/rampart.toml"
        )]
        config: PathBuf,
    },
    /// Show IKE and Child SAs.
    ///
    /// Example: `rampart status --json`
    Status {
        /// Print the control protocol's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Start a connection's IKE SA and first Child SA.
    ///
    /// Example: `rampart initiate net2net`
    Initiate {
        /// Connection name from the configuration.
        connection: String,
    },
    /// Delete a connection's IKE SAs (sends DELETE to the peer), or one IKE SA by id.
    ///
    /// Examples: `rampart terminate net2net`, `rampart terminate --ike-sa 3`
    Terminate {
        /// Connection name.
        connection: Option<String>,
        /// One IKE SA by its id (see `rampart status`).
        #[arg(long, conflicts_with = "connection")]
        ike_sa: Option<u64>,
    },
    /// Show the daemon's and the client's versions.
    Version,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Cmd::Daemon { config } => daemon::main(&config),
        Cmd::Status { json } => cli::status(&args.socket, json),
        Cmd::Initiate { connection } => cli::initiate(&args.socket, &connection),
        Cmd::Terminate { connection, ike_sa } => cli::terminate(&args.socket, connection, ike_sa),
        Cmd::Version => cli::version(&args.socket),
    }
}
