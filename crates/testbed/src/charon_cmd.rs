//! strongSwan's `charon-cmd` (the command-line IKE client, charon-cmd(8)) in a namespace, as a
//! user would run it: `--profile ikev2-pub` / `ikev2-eap` etc., the passwords it asks for (the
//! .p12's, the EAP password) fed on stdin, userspace ESP (kernel-libipsec) and its own
//! strongswan.conf.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::netns::Netns;
use crate::process::Process;
use crate::wait::wait_until;
use crate::workdir::{dump_log, read_log, write_file};

/// The charon-cmd binary of Debian's charon-cmd package.
pub const CHARON_CMD: &str = "/usr/sbin/charon-cmd";

/// A running charon-cmd. Stopped by PID on drop (SIGTERM: it deletes its IKE SA; SIGKILL
/// after 5 s); prints its output when dropped during a panic.
#[derive(Debug)]
pub struct CharonCmd {
    ns: String,
    dir: PathBuf,
    process: Process,
}

impl CharonCmd {
    /// Starts `charon-cmd ARGS...` in `ns` with `dir` as its work directory (created; its
    /// strongswan.conf, output `charon-cmd.log`, pushed DNS servers in `resolv.conf`). Each of
    /// `answers` is written to its stdin as one line: charon-cmd reads passwords with
    /// getpass(3), which reads stdin when there is no terminal (`setsid` drops it).
    #[track_caller]
    pub fn start(ns: &Netns, dir: &Path, args: &[&str], answers: &[&str]) -> CharonCmd {
        if let Err(e) = std::fs::create_dir_all(dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        let conf = dir.join("strongswan.conf");
        write_file(&conf, &strongswan_conf(dir));
        let log = match std::fs::File::create(dir.join("charon-cmd.log")) {
            Ok(f) => f,
            Err(e) => panic!("cannot create charon-cmd.log in {}: {e}", dir.display()),
        };
        let err = match log.try_clone() {
            Ok(f) => f,
            Err(e) => panic!("cannot dup a file handle: {e}"),
        };
        let mut command = ns.command("setsid");
        command
            .arg(CHARON_CMD)
            .args(args)
            .env("STRONGSWAN_CONF", &conf)
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(err);
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start charon-cmd in {}: {e}", ns.name()),
        };
        if let Some(mut stdin) = child.stdin.take() {
            for a in answers {
                // A write error means charon-cmd is gone already: its log says why.
                let _ = writeln!(stdin, "{a}");
            }
        }
        CharonCmd {
            ns: ns.name().to_string(),
            dir: dir.to_path_buf(),
            process: Process::new(format!("charon-cmd in {}", ns.name()), child),
        }
    }

    /// The namespace it runs in.
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Its output so far (the log at `--debug` level, default 1).
    pub fn log(&self) -> String {
        read_log(&self.dir.join("charon-cmd.log"))
    }

    /// The DNS servers it was pushed, as its resolve plugin wrote them.
    pub fn resolv_conf(&self) -> String {
        read_log(&self.dir.join("resolv.conf"))
    }

    /// Waits until its output contains `needle`, or it exits, or `timeout` passes; true when
    /// the output contains it.
    pub fn wait_log(&mut self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || {
            self.log().contains(needle) || !self.process.running()
        });
        self.log().contains(needle)
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        self.process.running()
    }

    /// Waits up to `timeout` for it to exit on its own; its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.process.wait_exit(timeout)
    }

    /// SIGTERM (it deletes its IKE SA and exits), SIGKILL after 5 s; whether SIGTERM did it.
    pub fn stop(&mut self) -> bool {
        self.process.stop(Duration::from_secs(5)).1
    }
}

impl Drop for CharonCmd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            dump_log(
                &format!("charon-cmd output ({})", self.ns),
                &self.log(),
                300,
            );
        }
        self.process.stop(Duration::from_secs(5));
    }
}

/// Plugins as for [`crate::Charon`] (kernel-libipsec before kernel-netlink: the kernel has no
/// ESP) plus pkcs12 for `--p12`; pushed DNS servers go to the work dir, never /etc.
fn strongswan_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"charon-cmd {{
  load = random nonce openssl pem pkcs1 pkcs8 pkcs12 x509 pubkey curve25519 gmp aes sha1 sha2 hmac gcm chapoly kdf kernel-libipsec kernel-netlink socket-default attr eap-identity eap-mschapv2 gcrypt resolve
  install_virtual_ip = yes
  filelog {{
    testbed {{
      path = {d}/charon-cmd.log
      time_format = %b %e %T
      default = 1
      ike = 2
      flush_line = yes
      append = yes
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
  plugins {{
    resolve {{
      file = {d}/resolv.conf
    }}
  }}
}}
"#
    )
}
