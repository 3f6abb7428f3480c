//! One strongSwan 5.9 charon per namespace, with kernel-libipsec (userspace ESP through a TUN,
//! since the test kernel has no ESP), its own strongswan.conf, vici socket and private /run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::cmd::{self, Output};
use crate::netns::Netns;
use crate::process::Process;
use crate::swanctl::{self, SwanIkeSa};
use crate::wait::wait_until;
use crate::workdir::{dump_log, read_log, write_file};

/// The charon binary of Debian's strongswan-charon package.
pub const CHARON: &str = "/usr/lib/ipsec/charon";

/// How a charon is started.
#[derive(Debug, Clone)]
pub struct CharonOptions {
    /// Log level of the IKE subsystem (2 = state changes and notifies; 4 = every payload and the
    /// derived keys, useful when debugging interop). The environment variable
    /// `TESTBED_CHARON_IKE_LEVEL` overrides it.
    pub ike_level: i8,
    /// Level of the other subsystems we log (cfg, knl, enc, net, chd).
    pub other_level: i8,
    /// Extra strongswan.conf lines inside the `charon { }` section, e.g.
    /// `retransmit_timeout = 1` or `keep_alive = 2s`.
    pub extra: String,
}

impl Default for CharonOptions {
    fn default() -> Self {
        CharonOptions {
            ike_level: 2,
            other_level: 1,
            extra: String::new(),
        }
    }
}

/// A running charon. Stopped by PID on drop (SIGTERM: charon sends DELETE for its IKE SAs; then
/// SIGKILL after 5 s). When dropped during a panic it prints its log to stderr first.
#[derive(Debug)]
pub struct Charon {
    ns: String,
    dir: PathBuf,
    process: Process,
}

impl Charon {
    /// Starts charon in `ns` with default options; `dir` is its private work directory (created).
    #[track_caller]
    pub fn start(ns: &Netns, dir: &Path) -> Charon {
        Charon::start_with(ns, dir, &CharonOptions::default())
    }

    /// Starts charon in `ns` and waits (up to 10 s) until its vici socket exists.
    #[track_caller]
    pub fn start_with(ns: &Netns, dir: &Path, opts: &CharonOptions) -> Charon {
        // swanctl --load-all also reads credentials from folders beside swanctl.conf.
        for sub in [
            "run", "x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey",
            "private", "rsa", "ecdsa", "pkcs8", "pkcs12",
        ] {
            if let Err(e) = std::fs::create_dir_all(dir.join(sub)) {
                panic!("cannot create {}: {e}", dir.join(sub).display());
            }
        }
        let ike_level = std::env::var("TESTBED_CHARON_IKE_LEVEL")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(opts.ike_level);
        write_file(
            &dir.join("strongswan.conf"),
            &strongswan_conf(dir, ike_level, opts.other_level, &opts.extra),
        );
        let stdout = std::fs::File::create(dir.join("charon.stdout"));
        let stdout = match stdout {
            Ok(f) => f,
            Err(e) => panic!("cannot create charon.stdout in {}: {e}", dir.display()),
        };
        let stderr = match stdout.try_clone() {
            Ok(f) => f,
            Err(e) => panic!("cannot dup a file handle: {e}"),
        };
        // charon 5.9 hard-codes /var/run/charon.pid: give each instance its own /run inside the
        // private mount namespace `ip netns exec` creates.
        let script = format!(
            "mount --bind '{run}' /run && STRONGSWAN_CONF='{conf}' exec {CHARON}",
            run = dir.join("run").display(),
            conf = dir.join("strongswan.conf").display()
        );
        let mut command = ns.command("sh");
        command
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        let child = match command.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start charon in {}: {e}", ns.name()),
        };
        let mut charon = Charon {
            ns: ns.name().to_string(),
            dir: dir.to_path_buf(),
            process: Process::new(format!("charon in {}", ns.name()), child),
        };
        let vici = charon.vici_path();
        let up = wait_until(Duration::from_secs(10), || {
            vici.exists() || !charon.process.running()
        });
        if !up || !vici.exists() {
            panic!(
                "charon in {} did not come up (exit: {:?})\n--- stdout/stderr ---\n{}",
                charon.ns,
                charon.process.exited(),
                read_log(&charon.dir.join("charon.stdout")),
            );
        }
        charon
    }

    /// The namespace charon runs in.
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// Charon's PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Charon's work directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The vici socket's path (reachable from the host namespace: it is a file).
    pub fn vici_path(&self) -> PathBuf {
        self.dir.join("run").join("charon.vici")
    }

    /// The `--uri` argument for swanctl.
    pub fn vici_uri(&self) -> String {
        format!("unix://{}", self.vici_path().display())
    }

    /// Runs `swanctl COMMAND --uri VICI ARGS...` (e.g. `&["--list-sas"]`); never panics.
    pub fn swanctl(&self, command: &str, args: &[&str]) -> Output {
        let uri = self.vici_uri();
        let mut a = vec![command, "--uri", uri.as_str()];
        a.extend_from_slice(args);
        cmd::run_args("swanctl", &a)
    }

    /// Writes `swanctl_conf` (strongSwan's swanctl.conf syntax) to the work dir and loads it with
    /// `swanctl --load-all`; panics with swanctl's output if loading fails.
    #[track_caller]
    pub fn load_config(&self, swanctl_conf: &str) {
        let file = self.dir.join("swanctl.conf");
        write_file(&file, swanctl_conf);
        let file = file.display().to_string();
        let out = self.swanctl("--load-all", &["--file", &file]);
        assert!(out.ok(), "swanctl --load-all failed in {}: {out}", self.ns);
    }

    /// `swanctl --initiate --child CHILD` (waits for the outcome, at most 20 s). The output tells
    /// whether it succeeded (tests of failures expect it to fail).
    pub fn initiate(&self, child: &str) -> Output {
        self.swanctl("--initiate", &["--child", child, "--timeout", "20"])
    }

    /// `swanctl --terminate --ike IKE` (sends DELETE; waits at most 10 s).
    pub fn terminate_ike(&self, ike: &str) -> Output {
        self.swanctl("--terminate", &["--ike", ike, "--timeout", "10"])
    }

    /// The current SAs, parsed from `swanctl --list-sas --pretty`. Panics if swanctl fails.
    #[track_caller]
    pub fn list_sas(&self) -> Vec<SwanIkeSa> {
        let out = self.swanctl("--list-sas", &["--pretty"]);
        assert!(out.ok(), "swanctl --list-sas failed in {}: {out}", self.ns);
        swanctl::parse_list_sas(&out.stdout)
    }

    /// `swanctl --list-sas` in its human format, for messages.
    pub fn list_sas_text(&self) -> String {
        self.swanctl("--list-sas", &[]).stdout
    }

    /// The charon log so far.
    pub fn log(&self) -> String {
        read_log(&self.dir.join("charon.log"))
    }

    /// Stops charon now (SIGTERM: it sends DELETE for its IKE SAs; SIGKILL after 5 s). Returns
    /// whether it exited on SIGTERM.
    pub fn stop(&mut self) -> bool {
        self.process.stop(Duration::from_secs(5)).1
    }

    /// Kills charon with SIGKILL (no DELETE sent: its peers keep their SAs, as after a crash or
    /// a power loss) and waits for it to exit. Returns whether it exited within 5 s.
    pub fn kill(&mut self) -> bool {
        cmd::signal(self.process.pid(), "KILL");
        self.process.wait_exit(Duration::from_secs(5)).is_some()
    }
}

impl Drop for Charon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            dump_log(&format!("charon log ({})", self.ns), &self.log(), 400);
        }
        self.process.stop(Duration::from_secs(5));
    }
}

/// strongswan.conf for one instance: explicit plugin list with kernel-libipsec before
/// kernel-netlink (the first plugin registering a kernel-ipsec interface wins; kernel-netlink still
/// handles routes and addresses), a private vici socket and a file log.
fn strongswan_conf(dir: &Path, ike_level: i8, other: i8, extra: &str) -> String {
    let d = dir.display();
    format!(
        r#"charon {{
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink socket-default vici attr eap-identity eap-mschapv2 gcrypt resolve
  install_virtual_ip = yes
{extra}
  filelog {{
    testbed {{
      path = {d}/charon.log
      time_format = %b %e %T
      default = 1
      ike = {ike_level}
      cfg = {other}
      knl = {other}
      enc = {other}
      net = {other}
      chd = {other}
      flush_line = yes
      append = no
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
  plugins {{
    vici {{
      socket = unix://{d}/run/charon.vici
    }}
    # Pushed DNS servers (road warriors) land here, never in the host's /etc/resolv.conf.
    resolve {{
      file = {d}/resolv.conf
    }}
  }}
}}
"#
    )
}
