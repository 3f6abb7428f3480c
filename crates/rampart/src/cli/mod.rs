//! Client verbs: each is one request over the control socket (docs/control.md), printed as a
//! table or, with `--json`, as the protocol's result.
//!
//! Exit codes (docs/cli.md): 0 success, 1 the daemon answered with an error, 2 usage error
//! (clap), 3 the daemon cannot be reached (or broke the protocol), 4 the configuration is
//! invalid (`config check`, `reload`).

pub mod log;
mod table;

use std::path::Path;
use std::process::ExitCode;

use control::{Client, ClientError, ErrorCode, IkeSaInfo, SaTarget, StatusResult, TerminateTarget};
use serde::Serialize;

use table::Table;

/// The daemon answered with an error.
pub const EXIT_FAILED: u8 = 1;
/// The daemon cannot be reached, or did not speak the protocol.
pub const EXIT_UNREACHABLE: u8 = 3;
/// The configuration has errors.
pub const EXIT_INVALID_CONFIG: u8 = 4;

fn connect(socket: &Path) -> Result<Client, ExitCode> {
    Client::connect(socket).map_err(|e| {
        eprintln!(
            "rampart: cannot reach the daemon at {}: {e}",
            socket.display()
        );
        ExitCode::from(EXIT_UNREACHABLE)
    })
}

fn fail(e: ClientError) -> ExitCode {
    eprintln!("rampart: {e}");
    match e {
        ClientError::Remote(r) if r.code == ErrorCode::InvalidConfig => {
            ExitCode::from(EXIT_INVALID_CONFIG)
        }
        ClientError::Remote(_) => ExitCode::from(EXIT_FAILED),
        _ => ExitCode::from(EXIT_UNREACHABLE),
    }
}

/// Connects, runs `call`, prints the result as JSON or with `table`.
fn run<T: Serialize>(
    socket: &Path,
    json: bool,
    call: impl FnOnce(&mut Client) -> Result<T, ClientError>,
    table: impl FnOnce(&T),
) -> ExitCode {
    let mut c = match connect(socket) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match call(&mut c) {
        Ok(r) => {
            if json {
                match serde_json::to_string_pretty(&r) {
                    Ok(t) => println!("{t}"),
                    Err(e) => {
                        eprintln!("rampart: {e}");
                        return ExitCode::from(EXIT_FAILED);
                    }
                }
            } else {
                table(&r);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `rampart config check FILE`.
pub fn config_check(file: &Path) -> ExitCode {
    match config::Config::load(file) {
        Ok(c) => {
            println!(
                "{}: OK ({} connection(s), {} secret(s))",
                file.display(),
                c.connections.len(),
                c.ike_secrets.len()
            );
            ExitCode::SUCCESS
        }
        Err(errs) => {
            for m in errs.messages() {
                eprintln!("{m}");
            }
            ExitCode::from(EXIT_INVALID_CONFIG)
        }
    }
}

pub fn version(socket: &Path) -> ExitCode {
    println!("rampart client {}", env!("CARGO_PKG_VERSION"));
    run(
        socket,
        false,
        |c| c.version(),
        |v| println!("daemon {} (control protocol {})", v.daemon, v.protocol),
    )
}

pub fn status(socket: &Path, json: bool) -> ExitCode {
    run(socket, json, |c| c.status(), print_status)
}

fn print_status(s: &StatusResult) {
    if s.ike_sas.is_empty() {
        println!("no IKE SAs (connections: {})", s.connections.join(", "));
        return;
    }
    print_sas(&s.ike_sas);
}

fn age(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs}s"),
        120..=7199 => format!("{}m", secs / 60),
        _ => format!("{}h", secs / 3600),
    }
}

fn print_sas(sas: &[IkeSaInfo]) {
    let mut ike = Table::new(&[
        "IKE_SA",
        "CONN",
        "STATE",
        "ROLE",
        "LOCAL",
        "REMOTE",
        "REMOTE_ID",
        "PROPOSAL",
        "SPI_I",
        "SPI_R",
        "NAT",
        "AGE",
    ]);
    let mut child = Table::new(&[
        "CHILD_SA",
        "IKE_SA",
        "NAME",
        "STATE",
        "SPI_IN",
        "SPI_OUT",
        "PROPOSAL",
        "LOCAL_TS",
        "REMOTE_TS",
        "BYTES_IN",
        "BYTES_OUT",
        "PKTS_IN",
        "PKTS_OUT",
    ]);
    let mut children = 0;
    for sa in sas {
        let nat = match (sa.nat_local, sa.nat_remote) {
            (true, true) => "both",
            (true, false) => "local",
            (false, true) => "remote",
            (false, false) => "-",
        };
        ike.row(vec![
            sa.id.to_string(),
            sa.connection.clone(),
            format!("{:?}", sa.state).to_uppercase(),
            if sa.initiator {
                "initiator"
            } else {
                "responder"
            }
            .into(),
            sa.local.to_string(),
            sa.remote.to_string(),
            sa.remote_id.clone(),
            sa.proposal.clone(),
            format!("{:016x}", sa.spi_i),
            format!("{:016x}", sa.spi_r),
            nat.into(),
            age(sa.established_secs),
        ]);
        for c in &sa.children {
            children += 1;
            child.row(vec![
                c.id.to_string(),
                sa.id.to_string(),
                c.name.clone(),
                format!("{:?}", c.state).to_uppercase(),
                format!("{:08x}", c.spi_in),
                format!("{:08x}", c.spi_out),
                if c.protocol == "ESP" {
                    c.proposal.clone()
                } else {
                    format!("{}:{}", c.protocol, c.proposal)
                },
                c.local_ts.join(","),
                c.remote_ts.join(","),
                c.bytes_in.to_string(),
                c.bytes_out.to_string(),
                c.packets_in.to_string(),
                c.packets_out.to_string(),
            ]);
        }
    }
    ike.print();
    if children > 0 {
        println!();
        child.print();
    }
}

pub fn list_sas(socket: &Path, connection: Option<String>, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.list_sas(connection.as_deref()),
        |r| {
            if r.ike_sas.is_empty() {
                println!("no IKE SAs");
            } else {
                print_sas(&r.ike_sas);
            }
        },
    )
}

pub fn list_conns(socket: &Path, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.list_conns(),
        |r| {
            if r.connections.is_empty() {
                println!("no connections");
                return;
            }
            let mut t = Table::new(&[
                "CONN",
                "LOCAL",
                "REMOTE",
                "LOCAL_ID",
                "REMOTE_ID",
                "AUTH",
                "PROPOSALS",
                "ENCAP",
                "DPD",
                "IKE_SAS",
            ]);
            let mut ch = Table::new(&[
                "CHILD",
                "CONN",
                "MODE",
                "LOCAL_TS",
                "REMOTE_TS",
                "PROPOSALS",
                "START",
                "CLOSE",
            ]);
            for c in &r.connections {
                let or_any = |v: &[String]| {
                    if v.is_empty() {
                        "%any".to_string()
                    } else {
                        v.join(",")
                    }
                };
                t.row(vec![
                    c.name.clone(),
                    or_any(&c.local_addrs),
                    or_any(&c.remote_addrs),
                    if c.local_id.is_empty() {
                        "(address)".into()
                    } else {
                        c.local_id.clone()
                    },
                    c.remote_id.clone(),
                    format!("{}/{}", c.local_auth, c.remote_auth),
                    c.proposals.join(","),
                    if c.encap { "yes" } else { "no" }.into(),
                    format!("{}s", c.dpd_delay_secs),
                    c.ike_sas.to_string(),
                ]);
                for k in &c.children {
                    ch.row(vec![
                        k.name.clone(),
                        c.name.clone(),
                        format!("{:?}", k.mode).to_lowercase(),
                        k.local_ts.join(","),
                        k.remote_ts.join(","),
                        k.ah_proposals
                            .iter()
                            .map(|p| format!("AH:{p}"))
                            .chain(k.esp_proposals.iter().cloned())
                            .collect::<Vec<_>>()
                            .join(","),
                        k.start_action.clone(),
                        k.close_action.clone(),
                    ]);
                }
            }
            t.print();
            println!();
            ch.print();
        },
    )
}

pub fn list_certs(socket: &Path, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.list_certs(),
        |r| {
            if r.certificates.is_empty() {
                println!("no certificates");
                return;
            }
            let mut t = Table::new(&["KIND", "SUBJECT", "ISSUER", "SERIAL", "NOT_AFTER", "KEY"]);
            for c in &r.certificates {
                t.row(vec![
                    c.kind.clone(),
                    c.subject.clone(),
                    c.issuer.clone(),
                    c.serial.clone(),
                    c.not_after.clone(),
                    if c.has_private_key { "yes" } else { "no" }.into(),
                ]);
            }
            t.print();
        },
    )
}

pub fn list_pools(socket: &Path, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.list_pools(),
        |r| {
            if r.pools.is_empty() {
                println!("no pools");
                return;
            }
            let mut t = Table::new(&["POOL", "BASE", "SIZE", "ONLINE", "OFFLINE"]);
            let mut l = Table::new(&["POOL", "ADDRESS", "IDENTITY", "STATUS"]);
            for p in &r.pools {
                t.row(vec![
                    p.name.clone(),
                    p.base.clone(),
                    p.size.to_string(),
                    p.online.to_string(),
                    p.offline.to_string(),
                ]);
                for x in &p.leases {
                    l.row(vec![
                        p.name.clone(),
                        x.address.clone(),
                        x.identity.clone(),
                        if x.online { "online" } else { "offline" }.into(),
                    ]);
                }
            }
            t.print();
            println!();
            l.print();
        },
    )
}

pub fn list_algs(socket: &Path, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.list_algs(),
        |r| {
            let mut t = Table::new(&["KIND", "KEYWORD", "NAME", "IMPLEMENTED"]);
            for a in &r.algorithms {
                t.row(vec![
                    a.kind.clone(),
                    a.keyword.clone(),
                    a.name.clone(),
                    if a.implemented { "yes" } else { "no" }.into(),
                ]);
            }
            t.print();
        },
    )
}

pub fn stats(socket: &Path, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.stats(),
        |s| {
            println!("daemon:            rampart {}", s.daemon);
            println!("uptime:            {}", age(s.uptime_secs));
            println!("connections:       {}", s.connections);
            println!(
                "IKE SAs:           {} ({} established, {} connecting, {} deleting)",
                s.ike_sas.total, s.ike_sas.established, s.ike_sas.connecting, s.ike_sas.deleting
            );
            println!("Child SAs:         {}", s.child_sas);
            println!(
                "since start:       {} IKE SA(s), {} Child SA(s) established",
                s.ike_established_total, s.child_established_total
            );
            println!("control clients:   {}", s.control_clients);
            println!("reloads:           {}", s.reloads);
        },
    )
}

pub fn counters(socket: &Path, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.counters(),
        |r| {
            println!("IKE SAs established:   {}", r.ike.established);
            println!("Child SAs established: {}", r.ike.child_established);
            if r.ike.down.is_empty() {
                println!("IKE SAs down:          0");
            } else {
                println!("IKE SAs down:");
                for (reason, n) in &r.ike.down {
                    println!("  {reason:<28} {n}");
                }
            }
            match &r.drops {
                None => println!("drops:                 (not reported by the data plane)"),
                Some(d) => {
                    println!("drops:");
                    for (reason, n) in d {
                        println!("  {reason:<28} {n}");
                    }
                }
            }
            if !r.children.is_empty() {
                println!();
                let mut t = Table::new(&[
                    "CHILD_SA",
                    "IKE_SA",
                    "CONN",
                    "NAME",
                    "REMOTE_ID",
                    "BYTES_IN",
                    "BYTES_OUT",
                    "PKTS_IN",
                    "PKTS_OUT",
                ]);
                for c in &r.children {
                    t.row(vec![
                        c.child_sa.to_string(),
                        c.ike_sa.to_string(),
                        c.connection.clone(),
                        c.name.clone(),
                        c.remote_id.clone(),
                        c.bytes_in.to_string(),
                        c.bytes_out.to_string(),
                        c.packets_in.to_string(),
                        c.packets_out.to_string(),
                    ]);
                }
                t.print();
            }
        },
    )
}

pub fn initiate(socket: &Path, conn: &str, child: Option<String>) -> ExitCode {
    run(
        socket,
        false,
        |c| c.initiate(conn, child.as_deref()),
        |r| println!("initiating IKE SA {conn}[{}]", r.ike_sa),
    )
}

pub fn terminate(
    socket: &Path,
    conn: Option<String>,
    ike_sa: Option<u64>,
    child_sa: Option<u64>,
) -> ExitCode {
    let target = match (conn, ike_sa, child_sa) {
        (Some(c), None, None) => TerminateTarget::Connection(c),
        (None, Some(id), None) => TerminateTarget::IkeSa(id),
        (None, None, Some(id)) => TerminateTarget::ChildSa(id),
        _ => {
            eprintln!("rampart: terminate needs a connection name, --ike-sa ID or --child-sa ID");
            return ExitCode::from(2);
        }
    };
    let what = match &target {
        TerminateTarget::Connection(_) => "IKE SA(s)",
        TerminateTarget::IkeSa(_) => "IKE SA",
        TerminateTarget::ChildSa(_) => "Child SA",
    };
    run(
        socket,
        false,
        |c| c.terminate(target),
        |r| println!("terminated {} {what}", r.terminated),
    )
}

pub fn rekey(socket: &Path, ike_sa: Option<u64>, child_sa: Option<u64>) -> ExitCode {
    let target = match (ike_sa, child_sa) {
        (Some(id), None) => SaTarget::IkeSa(id),
        (None, Some(id)) => SaTarget::ChildSa(id),
        _ => {
            eprintln!("rampart: rekey needs --ike-sa ID or --child-sa ID");
            return ExitCode::from(2);
        }
    };
    run(
        socket,
        false,
        |c| c.rekey(target),
        |r| println!("rekeying {} SA(s)", r.rekeying),
    )
}

pub fn reload(socket: &Path, json: bool) -> ExitCode {
    run(
        socket,
        json,
        |c| c.reload(),
        |r| {
            let list = |v: &[String]| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    v.join(" ")
                }
            };
            println!("added:     {}", list(&r.added));
            println!("removed:   {}", list(&r.removed));
            println!("changed:   {}", list(&r.changed));
            println!("unchanged: {}", list(&r.unchanged));
            println!("initiated: {}", list(&r.initiated));
            if !r.restart_needed.is_empty() {
                println!(
                    "needs a restart to take effect: {}",
                    r.restart_needed.join(" ")
                );
            }
        },
    )
}
