//! The control socket under bad input (issue 6): one daemon in its own network namespace, no
//! peer. Malformed, oversized and unknown-version messages are answered with errors; clients
//! that stall or never read do not stop the daemon; too many clients get `busy`; peer
//! credentials (SO_PEERCRED) admit root and `daemon.control_group` only, even when the socket
//! file's mode is loosened; a broken configuration is refused by `reload` and the running one
//! stays; `subscribe` streams log lines. Needs root; under CI=true a missing tool fails the
//! test.

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use control::{Client, ClientError, ErrorCode, Event, LogLevel, Response};
use testbed::{cmd, Netns, RampartDaemon, TestDir};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// A daemon config: one connection to a peer that does not exist.
fn conf(dir: &Path, tun: &str, ike_port: u16, extra_daemon: &str, conn: &str) -> String {
    format!(
        r#"[daemon]
control_socket = "{sock}"
tun_name = "{tun}"
ike_port = {ike_port}
natt_port = {natt}
log_level = "info,ike=debug"
listen = ["127.0.0.1"]
{extra_daemon}

[connections.{conn}]
remote_addrs = ["192.0.2.2"]
[connections.{conn}.local]
auth = "psk"
id = "a.example.org"
[connections.{conn}.remote]
auth = "psk"
id = "b.example.org"
[connections.{conn}.children.{conn}-net]
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/24"]

[secrets.ike.s]
ids = ["a.example.org"]
secret = "operator-test-psk-0123456789"
"#,
        sock = RampartDaemon::socket_in(dir).display(),
        natt = ike_port + 1,
    )
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

/// Reads one response frame (with a timeout, so a hang fails the test instead of blocking).
fn read_response(s: &mut UnixStream) -> Option<Response> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut h = [0u8; 4];
    s.read_exact(&mut h).ok()?;
    let mut body = vec![0u8; u32::from_be_bytes(h) as usize];
    s.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn raw(sock: &Path, bytes: &[u8]) -> (UnixStream, Option<Response>) {
    let mut s = UnixStream::connect(sock).unwrap();
    s.write_all(bytes).unwrap();
    let r = read_response(&mut s);
    (s, r)
}

fn code(r: &Option<Response>) -> ErrorCode {
    r.as_ref()
        .expect("an answer")
        .outcome
        .as_ref()
        .expect_err("an error")
        .code
}

/// `rampart ARGS -s SOCK` as another user, via setpriv(1).
fn as_user(user: &str, group: &str, sock: &Path, args: &[&str]) -> cmd::Output {
    cmd::run(
        Command::new("setpriv")
            .args([
                &format!("--reuid={user}"),
                &format!("--regid={group}"),
                "--clear-groups",
            ])
            .arg(bin())
            .args(args)
            .arg("-s")
            .arg(sock),
    )
}

fn open_dirs_for_everyone(p: &Path) {
    let mut d = Some(p);
    while let Some(x) = d {
        if x == Path::new("/tmp") || x.as_os_str().is_empty() {
            break;
        }
        let _ = std::fs::set_permissions(x, std::fs::Permissions::from_mode(0o755));
        d = x.parent();
    }
}

#[test]
fn operator_control_socket_bad_input_and_slow_clients() {
    if !testbed::require_root_and_tools(&["ip"]) {
        return;
    }
    let ns = Netns::new("opc-gw");
    let dir = TestDir::new("opc");
    let d1 = dir.subdir("d1");
    let daemon = RampartDaemon::start(bin(), &ns, &d1, &conf(&d1, "opc0", 5500, "", "alpha"));
    let sock = daemon.socket();
    let meta = std::fs::metadata(&sock).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o600, "root-only socket");

    // Malformed JSON, not an object, unknown version, unknown command: each answered, in order,
    // on one connection that stays usable.
    let mut s = UnixStream::connect(&sock).unwrap();
    for (body, want) in [
        (&b"{not json"[..], ErrorCode::BadRequest),
        (b"[1,2]", ErrorCode::BadRequest),
        (
            br#"{"v": 2, "id": 5, "command": "status"}"#,
            ErrorCode::UnsupportedVersion,
        ),
        (
            br#"{"v": 1, "id": 6, "command": "reboot"}"#,
            ErrorCode::UnknownCommand,
        ),
        (
            br#"{"v": 1, "id": 7, "command": "terminate", "args": {"ike_sa": "x"}}"#,
            ErrorCode::BadRequest,
        ),
        (
            br#"{"v": 1, "id": 8, "command": "rekey", "args": {"ike_sa": 99}}"#,
            ErrorCode::UnknownSa,
        ),
        (
            br#"{"v": 1, "id": 9, "command": "terminate", "args": {"child_sa": 99}}"#,
            ErrorCode::UnknownSa,
        ),
        (
            br#"{"v": 1, "id": 10, "command": "initiate", "args": {"connection": "nope"}}"#,
            ErrorCode::UnknownConnection,
        ),
    ] {
        s.write_all(&frame(body)).unwrap();
        let r = read_response(&mut s);
        assert_eq!(code(&r), want, "{}", String::from_utf8_lossy(body));
    }
    let r = read_response({
        s.write_all(&frame(br#"{"v": 1, "id": 11, "command": "version"}"#))
            .unwrap();
        &mut s
    })
    .unwrap();
    assert_eq!((r.id, r.is_ok()), (11, true));
    assert_eq!(r.v, 1);

    // Oversized: answered too_large from the header alone, then closed.
    let (mut big, r) = raw(&sock, &(2u32 << 20).to_be_bytes());
    assert_eq!(code(&r), ErrorCode::TooLarge);
    let mut rest = [0u8; 1];
    assert_eq!(
        big.read(&mut rest).unwrap_or(0),
        0,
        "closed after too_large"
    );

    // Slow clients: half frames and silent connections hold only their own tasks.
    let mut slow = Vec::new();
    for i in 0..100 {
        let mut c = UnixStream::connect(&sock).unwrap();
        if i % 2 == 0 {
            c.write_all(&[0, 0, 0, 100, b'{']).unwrap();
        }
        slow.push(c);
    }
    // A subscriber that never reads, while log lines pour in.
    let mut deaf = UnixStream::connect(&sock).unwrap();
    deaf.write_all(&frame(
        br#"{"v": 1, "id": 1, "command": "subscribe", "args": {"log": "trace"}}"#,
    ))
    .unwrap();
    let t = Instant::now();
    let mut c = Client::connect(&sock).unwrap();
    for _ in 0..50 {
        c.reload().expect("reload of an unchanged file");
        c.status().unwrap();
    }
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "50 reloads took {:?} with 101 stalled clients",
        t.elapsed()
    );
    let st = c.stats().unwrap();
    assert!(
        st.control_clients >= 100,
        "stats counts the connected clients: {st:?}"
    );
    assert_eq!(st.reloads, 50);
    // Beyond the limit (128 clients): `busy`. Clients still admitted send nothing and are
    // not answered; each is given a moment before the next one is opened.
    let mut extra = Vec::new();
    let mut busy = None;
    for _ in 0..60 {
        let mut e = UnixStream::connect(&sock).unwrap();
        e.write_all(&frame(br#"{"v": 1, "id": 3, "command": "version"}"#))
            .unwrap();
        e.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut h = [0u8; 4];
        if e.read_exact(&mut h).is_ok() {
            let mut body = vec![0u8; u32::from_be_bytes(h) as usize];
            e.read_exact(&mut body).unwrap();
            let r: Response = serde_json::from_slice(&body).unwrap();
            if let Err(err) = &r.outcome {
                busy = Some(err.clone());
                break;
            }
        }
        extra.push(e);
    }
    let busy = busy.expect("clients beyond the limit are told busy");
    assert_eq!(busy.code, ErrorCode::Busy);
    assert_eq!(
        busy.message,
        "too many control clients (at most 128); try again later"
    );
    drop(extra);
    drop(slow);
    drop(deaf);
    drop(c);
    drop(s);
    // Their slots free as their tasks see the connections close (the deaf subscriber's when
    // its write times out).
    let mut last = None;
    let freed = testbed::wait_until(Duration::from_secs(15), || {
        last = Client::connect(&sock).and_then(|mut c| c.stats()).ok();
        last.as_ref().is_some_and(|s| s.control_clients == 1)
    });
    assert!(freed, "clients still counted: {last:?}");

    // Log lines reach a subscriber, with the subsystem and level.
    let mut sub = Client::connect(&sock)
        .unwrap()
        .subscribe(false, Some(LogLevel::Info))
        .unwrap();
    sub.set_timeout(Some(Duration::from_secs(5))).unwrap();
    // Retry: the subscriber task may not be registered on the bus the instant we are answered.
    let mut seen = false;
    for _ in 0..20 {
        Client::connect(&sock).unwrap().reload().unwrap();
        match sub.next_event() {
            Ok(Some(Event::Log { level, message, .. }))
                if message.contains("configuration reloaded") =>
            {
                assert_eq!(level, LogLevel::Info);
                seen = true;
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("event stream: {other:?}"),
        }
    }
    assert!(seen, "a reload's log line reached the subscriber");

    // A broken configuration is refused with its errors; the running one stays.
    let cfg_path = d1.join("rampart.toml");
    let good = std::fs::read_to_string(&cfg_path).unwrap();
    std::fs::write(
        &cfg_path,
        good.replace("remote_addrs", "remote_adrs")
            .replace("alpha", "beta"),
    )
    .unwrap();
    let out = daemon.cli(&["reload"]);
    assert_eq!(out.code, Some(4), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "{}:11:1: connections.beta: unknown key 'remote_adrs' in connections.beta, did you \
             mean 'remote_addrs'?",
            cfg_path.display()
        )),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("the running configuration stays in force"),
        "{out}"
    );
    let conns = Client::connect(&sock).unwrap().list_conns().unwrap();
    let names: Vec<&str> = conns.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["alpha"]);
    // SIGHUP with the broken file: logged, daemon still answers.
    assert!(cmd::signal(daemon.pid(), "HUP"));
    assert!(testbed::wait_until(Duration::from_secs(5), || daemon
        .log()
        .contains("SIGHUP: ")));
    std::fs::write(&cfg_path, &good).unwrap();
    assert!(daemon.cli(&["version"]).ok());
    drop(daemon);
}

#[test]
fn operator_peer_credentials() {
    if !testbed::require_root_and_tools(&["ip", "setpriv"]) {
        return;
    }
    let ns = Netns::new("opp-gw");
    let dir = TestDir::new("opp");
    let root_dir = dir.subdir("root");
    let grp_dir = dir.subdir("grp");
    let root_only = RampartDaemon::start(
        bin(),
        &ns,
        &root_dir,
        &conf(&root_dir, "opp0", 5600, "", "alpha"),
    );
    let grouped = RampartDaemon::start(
        bin(),
        &ns,
        &grp_dir,
        &conf(
            &grp_dir,
            "opp1",
            5700,
            "control_group = \"nogroup\"",
            "beta",
        ),
    );
    open_dirs_for_everyone(&root_dir);
    open_dirs_for_everyone(&grp_dir);
    let (s1, s2): (PathBuf, PathBuf) = (root_only.socket(), grouped.socket());

    // The file mode already keeps `nobody` out of the root-only socket...
    let out = as_user("nobody", "nogroup", &s1, &["status"]);
    assert_eq!(out.code, Some(3), "{out}");
    // ...and with the mode loosened, SO_PEERCRED still refuses it.
    std::fs::set_permissions(&s1, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = as_user("nobody", "nogroup", &s1, &["status"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains(
            "permission_denied: uid 65534 may not use the control socket (allowed: root; set \
             daemon.control_group to admit a group)"
        ),
        "{out}"
    );
    assert!(root_only.cli(&["status"]).ok(), "root still gets in");

    // control_group: socket 0660 owned by the group; members get in, others do not.
    let m = std::fs::metadata(&s2).unwrap();
    assert_eq!((m.mode() & 0o777, m.gid()), (0o660, 65534));
    let out = as_user("nobody", "nogroup", &s2, &["list-conns", "--json"]);
    assert!(out.ok(), "{out}");
    assert!(out.stdout.contains("\"beta\""), "{out}");
    std::fs::set_permissions(&s2, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = as_user("nobody", "users", &s2, &["status"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains(
            "permission_denied: uid 65534 may not use the control socket (allowed: root and \
             members of group 'nogroup')"
        ),
        "{out}"
    );
    // The refusal is an answer, not a hang, for a raw client too.
    let mut c = Client::connect(&s1).unwrap();
    assert!(c.version().is_ok());
    match Client::connect(&s2).unwrap().version() {
        Ok(_) => {}
        Err(ClientError::Remote(e)) => panic!("root refused: {e}"),
        Err(e) => panic!("{e}"),
    }
}
