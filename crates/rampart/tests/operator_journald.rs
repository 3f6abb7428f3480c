//! Logging to journald under systemd (issue 6, "Observability"): when stderr is the journal
//! stream systemd set up (`JOURNAL_STREAM` = its device:inode, systemd.exec(5)), the daemon sends
//! native journal entries (the journal's datagram protocol on /run/systemd/journal/socket) with
//! the SA ids as fields of their own, and nothing to stderr.
//!
//! No systemd runs here, so the test plays journald: in a network namespace of its own and a
//! private mount namespace with a fresh tmpfs on /run (nothing outside changes), a small python
//! listener binds /run/systemd/journal/socket and writes every datagram to a file; the daemon
//! runs with stderr redirected to a file and `JOURNAL_STREAM` naming that file, and initiates a
//! connection to an address nobody answers, which logs lines about its IKE SA. Needs root and
//! python3; under CI=true their absence fails the test.

use std::path::PathBuf;
use std::process::Command;

use testbed::Netns;

/// A work directory removed on drop.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const LISTENER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
out = open(sys.argv[1], "ab", buffering=0)
while True:
    d = s.recv(1 << 20)
    out.write(len(d).to_bytes(4, "big") + d)
"#;

#[test]
fn daemon_logs_to_journald_with_sa_fields() {
    if !testbed::require_root_and_tools(&["python3", "unshare", "ip", "timeout", "stat"]) {
        return;
    }
    let dir = Dir(std::env::temp_dir().join(format!("rampart-jrnl-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let d = dir.0.display();
    std::fs::write(dir.0.join("listener.py"), LISTENER).unwrap();
    std::fs::write(
        dir.0.join("rampart.toml"),
        format!(
            r#"[daemon]
control_socket = "{d}/rampart.sock"
state_dir = "{d}/state"
log_level = "info"

[connections.jrnl]
remote_addrs = ["192.0.2.99"]
[connections.jrnl.local]
auth = "psk"
id = "a.example.org"
[connections.jrnl.remote]
auth = "psk"
id = "b.example.org"
[connections.jrnl.children.jrnl]
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/24"]
start_action = "start"

[secrets.ike.jrnl]
ids = ["a.example.org", "b.example.org"]
secret = "journald-test-psk-0123456789"
"#
        ),
    )
    .unwrap();
    let ns = Netns::new("jrnl-d");
    ns.run_ok(&["ip", "link", "set", "lo", "up"]);
    ns.run_ok(&[
        "ip", "link", "add", "jd0", "type", "veth", "peer", "name", "jd1",
    ]);
    ns.run_ok(&["ip", "link", "set", "jd1", "up"]);
    ns.run_ok(&["ip", "addr", "add", "192.0.2.1/24", "dev", "jd0"]);
    ns.run_ok(&["ip", "link", "set", "jd0", "up"]);
    // The daemon runs 6 s (one IKE_SA_INIT and its retransmissions to nobody), then stops.
    let script = format!(
        r#"set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
python3 {d}/listener.py {d}/journal.bin &
lpid=$!
for i in $(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
: > {d}/stderr.txt
export JOURNAL_STREAM=$(stat -L -c %d:%i {d}/stderr.txt)
timeout -s TERM 6 {bin} daemon -c {d}/rampart.toml 2>>{d}/stderr.txt || true
sleep 0.5
kill $lpid
"#,
        bin = env!("CARGO_BIN_EXE_rampart"),
    );
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns.name(),
            "unshare",
            "--mount",
            "--propagation",
            "private",
        ])
        .args(["sh", "-c", &script])
        .output()
        .unwrap();
    let raw = std::fs::read(dir.0.join("journal.bin")).unwrap_or_default();
    // An empty datagram is the journald layer's probe of the socket when it starts.
    let entries = datagrams(&raw)
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| parse_entry(d))
        .collect::<Vec<_>>();
    let journal = format!("{entries:#?}");
    let stderr = std::fs::read_to_string(dir.0.join("stderr.txt")).unwrap_or_default();
    let ctx = format!(
        "script: {:?}\n{}\n--- journal datagrams ---\n{journal}\n--- daemon stderr ---\n{stderr}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!entries.is_empty(), "no journal entries\n{ctx}");
    let field = |e: &[(String, String)], k: &str| {
        e.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
    };
    assert!(
        entries.iter().all(
            |e| field(e, "SYSLOG_IDENTIFIER").as_deref() == Some("rampart")
                && field(e, "PRIORITY").is_some()
                && field(e, "MESSAGE").is_some()
        ),
        "every entry names rampart, a priority and a message\n{ctx}"
    );
    assert!(
        entries
            .iter()
            .any(|e| field(e, "IKE_SA").as_deref() == Some("1")
                && field(e, "MESSAGE").is_some_and(|m| m.contains("initiating IKE_SA jrnl[1]"))),
        "the line about initiating IKE SA 1 carries IKE_SA=1 as a field of its own\n{ctx}"
    );
    assert!(
        stderr.trim().is_empty(),
        "with the journal attached nothing goes to stderr\n{ctx}"
    );
}

/// The datagrams the listener stored, each behind a 4-byte big-endian length.
fn datagrams(mut raw: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while raw.len() >= 4 {
        let n = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
        let Some(d) = raw.get(4..4 + n) else { break };
        out.push(d);
        raw = &raw[4 + n..];
    }
    out
}

/// One entry of journald's native protocol (systemd.journal-fields(7), "native protocol"):
/// `KEY=value\n`, or for values with a newline `KEY\n` + 64-bit little-endian length + value +
/// `\n`.
fn parse_entry(mut d: &[u8]) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    while !d.is_empty() {
        let Some(end) = d.iter().position(|&b| b == b'=' || b == b'\n') else {
            break;
        };
        let key = String::from_utf8_lossy(&d[..end]).into_owned();
        if d[end] == b'=' {
            let rest = &d[end + 1..];
            let stop = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            fields.push((key, String::from_utf8_lossy(&rest[..stop]).into_owned()));
            d = rest.get(stop + 1..).unwrap_or_default();
        } else {
            let Some(len) = d.get(end + 1..end + 9) else {
                break;
            };
            let n = u64::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
            let Some(v) = d.get(end + 9..end + 9 + n) else {
                break;
            };
            fields.push((key, String::from_utf8_lossy(v).into_owned()));
            d = d.get(end + 10 + n..).unwrap_or_default();
        }
    }
    fields
}
