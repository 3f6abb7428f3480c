//! Client verbs: each is one request over the control socket (docs/control.md).
//! Exit codes: 0 success, 1 the daemon answered with an error, 2 the daemon is unreachable.

use std::path::Path;
use std::process::ExitCode;

use control::{Client, ClientError, StatusResult, TerminateTarget};

fn connect(socket: &Path) -> Result<Client, ExitCode> {
    Client::connect(socket).map_err(|e| {
        eprintln!(
            "rampart: cannot reach the daemon at {}: {e}",
            socket.display()
        );
        ExitCode::from(2)
    })
}

fn fail(e: ClientError) -> ExitCode {
    eprintln!("rampart: {e}");
    match e {
        ClientError::Remote(_) => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

pub fn version(socket: &Path) -> ExitCode {
    println!("rampart client {}", env!("CARGO_PKG_VERSION"));
    let mut c = match connect(socket) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match c.version() {
        Ok(v) => {
            println!("daemon {} (control protocol {})", v.daemon, v.protocol);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn status(socket: &Path, json: bool) -> ExitCode {
    let mut c = match connect(socket) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match c.status() {
        Ok(s) => {
            if json {
                match serde_json::to_string_pretty(&s) {
                    Ok(t) => println!("{t}"),
                    Err(e) => {
                        eprintln!("rampart: {e}");
                        return ExitCode::from(1);
                    }
                }
            } else {
                print_status(&s);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn print_status(s: &StatusResult) {
    if s.ike_sas.is_empty() {
        println!("no IKE SAs (connections: {})", s.connections.join(", "));
        return;
    }
    for sa in &s.ike_sas {
        println!(
            "{}[{}]: {:?} {}, {}[{}]...{}[{}]",
            sa.connection,
            sa.id,
            sa.state,
            if sa.initiator {
                "initiator"
            } else {
                "responder"
            },
            sa.local,
            sa.local_id,
            sa.remote,
            sa.remote_id
        );
        println!(
            "  {} SPIs {:016x}_i {:016x}_r{}{}",
            sa.proposal,
            sa.spi_i,
            sa.spi_r,
            if sa.nat_local {
                ", we are behind NAT"
            } else {
                ""
            },
            if sa.nat_remote {
                ", peer behind NAT"
            } else {
                ""
            }
        );
        for c in &sa.children {
            println!(
                "  {}{{{}}}: {:?} {:?}{}, {} SPIs {:08x}_i {:08x}_o",
                c.name,
                c.id,
                c.state,
                c.mode,
                if c.encap { " in UDP" } else { "" },
                c.proposal,
                c.spi_in,
                c.spi_out
            );
            println!(
                "    in {} bytes, {} packets; out {} bytes, {} packets",
                c.bytes_in, c.packets_in, c.bytes_out, c.packets_out
            );
            println!("    {} === {}", c.local_ts.join(" "), c.remote_ts.join(" "));
        }
    }
}

pub fn initiate(socket: &Path, conn: &str) -> ExitCode {
    let mut c = match connect(socket) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match c.initiate(conn) {
        Ok(r) => {
            println!("initiating IKE SA {conn}[{}]", r.ike_sa);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn terminate(socket: &Path, conn: Option<String>, ike_sa: Option<u64>) -> ExitCode {
    let target = match (conn, ike_sa) {
        (Some(c), None) => TerminateTarget::Connection(c),
        (None, Some(id)) => TerminateTarget::IkeSa(id),
        _ => {
            eprintln!("rampart: terminate needs a connection name or --ike-sa ID");
            return ExitCode::from(1);
        }
    };
    let mut c = match connect(socket) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match c.terminate(target) {
        Ok(r) => {
            println!("terminated {} IKE SA(s)", r.terminated);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
