//! The Prometheus endpoint (`daemon.metrics_listen`, off by default): a minimal HTTP/1.x
//! responder on tokio answering `GET /metrics` with the text exposition format
//! (docs/metrics.md). Each scrape asks the engine task for `stats` and `counters`, like any
//! control client; a scraper that is slow or sends garbage only costs its own task.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use control::{Command, CountersResult, StatsResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};

use super::control_server::{ask_engine, ControlRequest};

/// Largest request head read.
const MAX_HEAD: usize = 8192;
/// Time a scraper gets to send its request and read the answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Scrapes served at once.
const MAX_SCRAPES: usize = 16;

/// Binds the endpoint.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves scrapes until the listener fails.
pub async fn serve(listener: TcpListener, engine: mpsc::Sender<ControlRequest>) {
    let slots = Arc::new(Semaphore::new(MAX_SCRAPES));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue; // dropped: the scraper retries
        };
        let engine = engine.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(TIMEOUT, scrape(stream, &engine)).await;
            drop(slot);
        });
    }
}

async fn scrape(mut s: TcpStream, engine: &mpsc::Sender<ControlRequest>) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        if head.len() > MAX_HEAD {
            return respond(&mut s, "431 Request Header Fields Too Large", "", "").await;
        }
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(&mut s, "405 Method Not Allowed", "", "").await;
    }
    if path != "/metrics" && !path.starts_with("/metrics?") {
        return respond(&mut s, "404 Not Found", "text/plain", "try /metrics\n").await;
    }
    let stats = ask_engine(Command::Stats, engine).await;
    let counters = ask_engine(Command::Counters, engine).await;
    let (Ok(stats), Ok(counters)) = (stats, counters) else {
        return respond(&mut s, "503 Service Unavailable", "", "").await;
    };
    let (Ok(stats), Ok(counters)) = (
        serde_json::from_value::<StatsResult>(stats),
        serde_json::from_value::<CountersResult>(counters),
    ) else {
        return respond(&mut s, "500 Internal Server Error", "", "").await;
    };
    let body = render(&stats, &counters);
    let body = if method == "HEAD" {
        String::new()
    } else {
        body
    };
    respond(
        &mut s,
        "200 OK",
        "text/plain; version=0.0.4; charset=utf-8",
        &body,
    )
    .await
}

async fn respond(s: &mut TcpStream, status: &str, ctype: &str, body: &str) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if !ctype.is_empty() {
        let _ = write!(out, "Content-Type: {ctype}\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    s.write_all(out.as_bytes()).await?;
    s.shutdown().await
}

/// A label value escaped for the exposition format (`\`, `"` and newlines).
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One metric family: `# HELP`, `# TYPE` and its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, v) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    }
}

/// The exposition text for one scrape.
pub fn render(stats: &StatsResult, c: &CountersResult) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "rampart_info",
        "gauge",
        "The daemon's version.",
        &[(format!("version=\"{}\"", esc(&stats.daemon)), 1)],
    );
    family(
        &mut out,
        "rampart_uptime_seconds",
        "gauge",
        "Seconds since the daemon started.",
        &[(String::new(), stats.uptime_secs)],
    );
    family(
        &mut out,
        "rampart_ike_sas",
        "gauge",
        "IKE SAs now, by state.",
        &[
            ("state=\"connecting\"".into(), stats.ike_sas.connecting),
            ("state=\"established\"".into(), stats.ike_sas.established),
            ("state=\"deleting\"".into(), stats.ike_sas.deleting),
        ],
    );
    family(
        &mut out,
        "rampart_child_sas",
        "gauge",
        "Child SAs now.",
        &[(String::new(), stats.child_sas)],
    );
    family(
        &mut out,
        "rampart_ike_handshakes_total",
        "counter",
        "IKE SAs established since start.",
        &[(String::new(), c.ike.established)],
    );
    family(
        &mut out,
        "rampart_child_sa_established_total",
        "counter",
        "Child SAs established since start.",
        &[(String::new(), c.ike.child_established)],
    );
    let down: Vec<(String, u64)> = c
        .ike
        .down
        .iter()
        .map(|(r, n)| (format!("reason=\"{}\"", esc(r)), *n))
        .collect();
    family(
        &mut out,
        "rampart_ike_sa_down_total",
        "counter",
        "IKE SAs gone since start, by reason (failures and deletes).",
        &down,
    );
    let mut bytes = Vec::new();
    let mut packets = Vec::new();
    let mut by_client: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for ch in &c.children {
        let l = format!(
            "ike_sa=\"{}\",child_sa=\"{}\",connection=\"{}\",child=\"{}\",remote_id=\"{}\"",
            ch.ike_sa,
            ch.child_sa,
            esc(&ch.connection),
            esc(&ch.name),
            esc(&ch.remote_id)
        );
        bytes.push((format!("{l},direction=\"in\""), ch.bytes_in));
        bytes.push((format!("{l},direction=\"out\""), ch.bytes_out));
        packets.push((format!("{l},direction=\"in\""), ch.packets_in));
        packets.push((format!("{l},direction=\"out\""), ch.packets_out));
        let e = by_client.entry(ch.remote_id.as_str()).or_default();
        e[0] = e[0].saturating_add(ch.bytes_in);
        e[1] = e[1].saturating_add(ch.bytes_out);
        e[2] = e[2].saturating_add(ch.packets_in);
        e[3] = e[3].saturating_add(ch.packets_out);
    }
    family(
        &mut out,
        "rampart_child_sa_bytes_total",
        "counter",
        "Bytes through each Child SA (inner packets).",
        &bytes,
    );
    family(
        &mut out,
        "rampart_child_sa_packets_total",
        "counter",
        "Packets through each Child SA.",
        &packets,
    );
    let mut cb = Vec::new();
    let mut cp = Vec::new();
    for (id, [bi, bo, pi, po]) in &by_client {
        let l = format!("remote_id=\"{}\"", esc(id));
        cb.push((format!("{l},direction=\"in\""), *bi));
        cb.push((format!("{l},direction=\"out\""), *bo));
        cp.push((format!("{l},direction=\"in\""), *pi));
        cp.push((format!("{l},direction=\"out\""), *po));
    }
    family(
        &mut out,
        "rampart_client_bytes",
        "gauge",
        "Bytes through the current Child SAs of each peer identity.",
        &cb,
    );
    family(
        &mut out,
        "rampart_client_packets",
        "gauge",
        "Packets through the current Child SAs of each peer identity.",
        &cp,
    );
    if let Some(drops) = &c.drops {
        let d: Vec<(String, u64)> = drops
            .iter()
            .map(|(r, n)| (format!("reason=\"{}\"", esc(r)), *n))
            .collect();
        family(
            &mut out,
            "rampart_esp_drops_total",
            "counter",
            "Packets the data plane dropped, by reason.",
            &d,
        );
    }
    family(
        &mut out,
        "rampart_control_clients",
        "gauge",
        "Control socket clients connected now.",
        &[(String::new(), stats.control_clients)],
    );
    family(
        &mut out,
        "rampart_config_reloads_total",
        "counter",
        "Configuration reloads applied.",
        &[(String::new(), stats.reloads)],
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_format() {
        let stats = StatsResult {
            daemon: "0.1.0".into(),
            ike_sas: control::SaCounts {
                total: 1,
                established: 1,
                ..Default::default()
            },
            child_sas: 1,
            ..Default::default()
        };
        let mut c = CountersResult::default();
        c.ike.established = 3;
        c.ike.down.insert("AUTHENTICATION_FAILED".into(), 2);
        c.children.push(control::ChildCounters {
            ike_sa: 1,
            child_sa: 2,
            connection: "net2net".into(),
            name: "net".into(),
            remote_id: "a\"b".into(),
            bytes_in: 840,
            bytes_out: 840,
            packets_in: 10,
            packets_out: 10,
        });
        let t = render(&stats, &c);
        assert!(t.contains(
            "# TYPE rampart_ike_handshakes_total counter\nrampart_ike_handshakes_total 3\n"
        ));
        assert!(t.contains("rampart_ike_sa_down_total{reason=\"AUTHENTICATION_FAILED\"} 2\n"));
        assert!(t.contains("rampart_ike_sas{state=\"established\"} 1\n"));
        assert!(t.contains(
            "rampart_child_sa_packets_total{ike_sa=\"1\",child_sa=\"2\",connection=\"net2net\",\
             child=\"net\",remote_id=\"a\\\"b\",direction=\"in\"} 10\n"
        ));
        assert!(t.contains("rampart_client_bytes{remote_id=\"a\\\"b\",direction=\"out\"} 840\n"));
        assert!(
            !t.contains("rampart_esp_drops_total"),
            "no drop counters reported"
        );
        // Every non-comment line is `name{labels} value` or `name value`.
        for l in t.lines().filter(|l| !l.starts_with('#')) {
            let v = l.rsplit(' ').next().unwrap();
            assert!(v.parse::<u64>().is_ok(), "{l}");
        }
    }

    #[test]
    fn drops_per_reason() {
        let c = CountersResult {
            drops: Some(
                [("unknown_spi".to_string(), 2), ("replay".to_string(), 0)]
                    .into_iter()
                    .collect(),
            ),
            ..CountersResult::default()
        };
        let t = render(&StatsResult::default(), &c);
        assert!(t.contains(
            "# TYPE rampart_esp_drops_total counter\n\
             rampart_esp_drops_total{reason=\"replay\"} 0\n\
             rampart_esp_drops_total{reason=\"unknown_spi\"} 2\n"
        ));
    }
}
