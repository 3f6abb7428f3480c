//! The `rampart daemon` under test, in a namespace, driven through its own CLI
//! (docs/control.md is the protocol the CLI speaks).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::cmd::{self, Output};
use crate::netns::Netns;
use crate::process::Process;
use crate::status::{self, IkeSa};
use crate::wait::wait_until;
use crate::workdir::{dump_log, read_log, write_file};

/// How long the daemon gets to answer `rampart version` after it starts.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `rampart daemon -c FILE` in a namespace; stderr goes to `rampart.log` in its work
/// dir. Stopped by PID on drop (SIGTERM, 10 s, then SIGKILL). When dropped during a panic it
/// prints its log to stderr first.
#[derive(Debug)]
pub struct RampartDaemon {
    ns: String,
    bin: PathBuf,
    dir: PathBuf,
    process: Process,
}

impl RampartDaemon {
    /// The control socket path the daemon in `dir` must use: put it in the config as
    /// `daemon.control_socket` (the harness keeps sockets under the test's dir, never in /run).
    pub fn socket_in(dir: &Path) -> PathBuf {
        dir.join("rampart.sock")
    }

    /// Writes `config_toml` to `dir/rampart.toml`, starts `ip netns exec NS BIN daemon -c FILE`
    /// and waits until `rampart version -s SOCK` answers (at most [`READY_TIMEOUT`]); panics
    /// with the daemon's log if it exits or does not become ready. The config's
    /// `daemon.control_socket` must be [`RampartDaemon::socket_in`]`(dir)`.
    ///
    /// The environment variable `TESTBED_RAMPART_BIN` replaces `bin` (e.g. a release build, or
    /// scripts/dev/fake-rampart.py to check the harness itself); a note says so on stderr.
    #[track_caller]
    pub fn start(bin: &Path, ns: &Netns, dir: &Path, config_toml: &str) -> RampartDaemon {
        let override_bin = std::env::var_os("TESTBED_RAMPART_BIN").map(PathBuf::from);
        if let Some(b) = &override_bin {
            eprintln!(
                "testbed: TESTBED_RAMPART_BIN={} replaces {}",
                b.display(),
                bin.display()
            );
        }
        let bin = override_bin.as_deref().unwrap_or(bin);
        if let Err(e) = std::fs::create_dir_all(dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        let config = dir.join("rampart.toml");
        write_file(&config, config_toml);
        let socket = Self::socket_in(dir);
        let _ = std::fs::remove_file(&socket);
        let log = match std::fs::File::create(dir.join("rampart.log")) {
            Ok(f) => f,
            Err(e) => panic!("cannot create rampart.log in {}: {e}", dir.display()),
        };
        let mut command = ns.command(&bin.display().to_string());
        command
            .arg("daemon")
            .arg("-c")
            .arg(&config)
            .env("RAMPART_SOCKET", &socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = match command.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start {} in {}: {e}", bin.display(), ns.name()),
        };
        let mut daemon = RampartDaemon {
            ns: ns.name().to_string(),
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            process: Process::new(format!("rampart daemon in {}", ns.name()), child),
        };
        let mut last = None;
        let ready = wait_until(READY_TIMEOUT, || {
            if !daemon.process.running() {
                return true;
            }
            // Ready = still running, its socket exists, and `rampart version` answers through it.
            let out = daemon.cli(&["version"]);
            let ok = out.ok() && socket.exists() && !out.stdout.trim().is_empty();
            last = Some(out);
            ok
        });
        if let Some(status) = daemon.process.exited() {
            // The log is printed when `daemon` is dropped during this panic.
            panic!(
                "rampart daemon in {} exited during startup ({status})\n--- config ---\n{config_toml}",
                daemon.ns
            );
        }
        if !ready {
            let last = last.map(|o| o.to_string()).unwrap_or_default();
            panic!(
                "rampart daemon in {} not ready after {READY_TIMEOUT:?} (last `rampart version`: {last})\n--- config ---\n{config_toml}",
                daemon.ns
            );
        }
        daemon
    }

    /// The namespace it runs in.
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// The daemon's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The control socket.
    pub fn socket(&self) -> PathBuf {
        Self::socket_in(&self.dir)
    }

    /// Runs the CLI: `rampart ARGS... -s SOCK` (in the host namespace: the socket is a file).
    pub fn cli(&self, args: &[&str]) -> Output {
        let socket = self.socket();
        cmd::run(
            Command::new(&self.bin)
                .args(args)
                .arg("-s")
                .arg(&socket)
                .env("RAMPART_SOCKET", &socket),
        )
    }

    /// `rampart status --json -s SOCK`, parsed. Panics (with the log) if the CLI fails or prints
    /// something that is not JSON.
    #[track_caller]
    pub fn status_json(&self) -> serde_json::Value {
        let out = self.cli(&["status", "--json"]);
        assert!(
            out.ok(),
            "rampart status --json failed in {}: {out}",
            self.ns
        );
        match serde_json::from_str(&out.stdout) {
            Ok(v) => v,
            Err(e) => panic!(
                "rampart status --json in {} printed no JSON ({e}): {out}",
                self.ns
            ),
        }
    }

    /// The IKE SAs of `status_json()`, typed (see [`crate::status`]).
    #[track_caller]
    pub fn ike_sas(&self) -> Vec<IkeSa> {
        status::ike_sas(&self.status_json())
    }

    /// `rampart initiate CONN`.
    pub fn initiate(&self, conn: &str) -> Output {
        self.cli(&["initiate", conn])
    }

    /// `rampart terminate CONN` (sends DELETE).
    pub fn terminate(&self, conn: &str) -> Output {
        self.cli(&["terminate", conn])
    }

    /// Stops the daemon: SIGTERM (it sends DELETE for all SAs and exits 0), waits up to 10 s, then
    /// SIGKILL. Returns the exit status and whether it exited on SIGTERM in time.
    pub fn stop(&mut self) -> (Option<ExitStatus>, bool) {
        self.process.stop(Duration::from_secs(10))
    }

    /// Whether the daemon process is still running.
    pub fn running(&mut self) -> bool {
        self.process.running()
    }

    /// The captured stderr so far.
    pub fn log(&self) -> String {
        read_log(&self.dir.join("rampart.log"))
    }
}

impl Drop for RampartDaemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            dump_log(&format!("rampart log ({})", self.ns), &self.log(), 400);
        }
        self.process.stop(Duration::from_secs(10));
    }
}
