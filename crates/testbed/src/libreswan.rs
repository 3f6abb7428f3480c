//! Libreswan 4.10's pluto in a namespace. Debian's libreswan package conflicts with strongSwan's,
//! so it is not installed: `apt-get download libreswan` and `dpkg -x` unpack it under
//! [`CACHE`] once (its shared libraries are ordinary Debian packages, installed by
//! scripts/test.sh). Each pluto gets its own ipsec.conf, ipsec.secrets, NSS database, run
//! directory and control socket in its work dir.
//!
//! pluto runs `/usr/libexec/ipsec/addconn` at startup (a compiled-in path), so it is started in
//! the private mount namespace of `ip netns exec` with a tmpfs on `/usr/libexec` and the
//! unpacked `usr/libexec/ipsec` bind-mounted into it; nothing changes outside that namespace.
//!
//! This kernel has no ESP: pluto establishes IKE SAs but cannot install a Child SA (XFRM answers
//! "Function not implemented"). As responder it then answers TS_UNACCEPTABLE; as initiator it
//! deletes its IKE SA without notifying the peer and schedules a revival.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::cmd::{self, Output};
use crate::netns::Netns;
use crate::process::Process;
use crate::side::{Auth, Side};
use crate::swan_pki::P12_NAME;
use crate::wait::wait_until;
use crate::workdir::{dump_log, read_log, write_file};

/// Where the package is unpacked (`root/`), kept across runs.
pub const CACHE: &str = "/var/tmp/rampart-libreswan";
/// The version the tests are written for (Debian 12's).
pub const VERSION: &str = "4.10";
/// Tools needed to unpack and run Libreswan (certutil and pk12util: libnss3-tools).
pub const LIBRESWAN_TOOLS: &[&str] = &["apt-get", "dpkg", "certutil", "pk12util", "ldd"];

static EXTRACT: Mutex<()> = Mutex::new(());

fn pluto_in(root: &Path) -> PathBuf {
    root.join("usr/libexec/ipsec/pluto")
}

/// Unpacks Libreswan under [`CACHE`] unless it is there already, checks its version and that
/// its libraries resolve; returns the unpacked root. Several tests may call this at once.
pub fn ensure_unpacked() -> Result<PathBuf, String> {
    let _guard = EXTRACT.lock().unwrap_or_else(|p| p.into_inner());
    let cache = Path::new(CACHE);
    let root = cache.join("root");
    if !pluto_in(&root).exists() {
        // Another process may unpack at the same time: each works in its own folder and the
        // first rename wins.
        let tmp = cache.join(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| format!("mkdir {}: {e}", tmp.display()))?;
        let dl = cmd::run(
            Command::new("apt-get")
                .args(["download", "libreswan"])
                .current_dir(&tmp),
        );
        if !dl.ok() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(format!(
                "cannot download Debian's libreswan package (run `apt-get update`?): {dl}"
            ));
        }
        let deb = std::fs::read_dir(&tmp)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .ok_or_else(|| format!("apt-get download left no .deb in {}", tmp.display()))?;
        let x = cmd::run_args(
            "dpkg",
            &[
                "-x",
                &deb.display().to_string(),
                &tmp.join("root").display().to_string(),
            ],
        );
        if !x.ok() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(format!("cannot unpack {}: {x}", deb.display()));
        }
        if std::fs::rename(tmp.join("root"), &root).is_err() && !pluto_in(&root).exists() {
            return Err(format!(
                "cannot move the unpacked package to {}",
                root.display()
            ));
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let pluto = pluto_in(&root);
    let ldd = cmd::run_args("ldd", &[&pluto.display().to_string()]);
    let missing: Vec<&str> = ldd
        .stdout
        .lines()
        .filter(|l| l.contains("not found"))
        .map(str::trim)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "pluto's libraries are missing (install Libreswan's dependencies, see scripts/test.sh): {}",
            missing.join("; ")
        ));
    }
    let v = cmd::run_args(&pluto.display().to_string(), &["--version"]);
    let text = format!("{}{}", v.stdout, v.stderr);
    if !text.contains(&format!("Libreswan {VERSION}")) {
        return Err(format!(
            "unpacked pluto is not Libreswan {VERSION}: {}",
            text.trim()
        ));
    }
    Ok(root)
}

/// A running pluto. Stopped by PID on drop; prints its log when dropped during a panic.
#[derive(Debug)]
pub struct Pluto {
    ns: String,
    root: PathBuf,
    dir: PathBuf,
    process: Process,
}

impl Pluto {
    /// Writes `side` as ipsec.conf/ipsec.secrets into `dir`, creates the NSS database (and
    /// imports the certificates for certificate authentication), starts pluto in `ns` and waits
    /// (at most 15 s) until it has loaded the connection.
    #[track_caller]
    pub fn start(root: &Path, ns: &Netns, dir: &Path, side: &Side) -> Pluto {
        for sub in ["nss", "run", "ipsec.d"] {
            if let Err(e) = std::fs::create_dir_all(dir.join(sub)) {
                panic!("cannot create {}: {e}", dir.join(sub).display());
            }
        }
        let log = dir.join("pluto.log");
        let (conf, secrets) = side.libreswan_conf(&log);
        let conf_path = dir.join("ipsec.conf");
        let secrets_path = dir.join("ipsec.secrets");
        write_file(&conf_path, &conf);
        write_file(&secrets_path, &secrets);
        let nss = format!("sql:{}", dir.join("nss").display());
        cmd::run_args("certutil", &["-N", "-d", &nss, "--empty-password"]).expect_ok();
        if let Auth::Cert(c) = &side.auth {
            cmd::run_args(
                "pk12util",
                &["-i", &c.p12.display().to_string(), "-d", &nss, "-W", ""],
            )
            .expect_ok();
            // The CA as a trusted peer-certificate issuer ("CT,,").
            cmd::run_args(
                "certutil",
                &[
                    "-A",
                    "-d",
                    &nss,
                    "-n",
                    "testbed-ca",
                    "-t",
                    "CT,,",
                    "-i",
                    &c.ca.display().to_string(),
                ],
            )
            .expect_ok();
            let listed = cmd::run_args("certutil", &["-L", "-d", &nss]).expect_ok();
            assert!(
                listed.stdout.contains(P12_NAME),
                "NSS database lacks {P12_NAME}: {listed}"
            );
        }
        let d = dir.display();
        let script = format!(
            "mount -t tmpfs none /usr/libexec && mkdir /usr/libexec/ipsec && \
             mount --bind '{lx}' /usr/libexec/ipsec && \
             exec /usr/libexec/ipsec/pluto --nofork --config '{d}/ipsec.conf' \
             --secretsfile '{d}/ipsec.secrets' --nssdir '{d}/nss' --ipsecdir '{d}/ipsec.d' \
             --rundir '{d}/run' --dumpdir '{d}/run'",
            lx = root.join("usr/libexec/ipsec").display(),
        );
        let out = match std::fs::File::create(dir.join("pluto.stderr")) {
            Ok(f) => f,
            Err(e) => panic!("cannot create pluto.stderr: {e}"),
        };
        let err = match out.try_clone() {
            Ok(f) => f,
            Err(e) => panic!("cannot dup a file handle: {e}"),
        };
        let mut command = ns.command("sh");
        command
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = match command.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start pluto in {}: {e}", ns.name()),
        };
        let mut pluto = Pluto {
            ns: ns.name().to_string(),
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            process: Process::new(format!("pluto in {}", ns.name()), child),
        };
        let added = format!("\"{}\": added IKEv2 connection", crate::side::CONN);
        let ready = wait_until(Duration::from_secs(15), || {
            !pluto.process.running() || (pluto.ctl().exists() && read_log(&log).contains(&added))
        });
        if !ready || !pluto.process.running() {
            panic!(
                "pluto in {} did not load the connection (exit: {:?})\n--- ipsec.conf ---\n{conf}\n--- stderr ---\n{}\n--- log ---\n{}",
                pluto.ns,
                pluto.process.exited(),
                read_log(&pluto.dir.join("pluto.stderr")),
                pluto.log()
            );
        }
        pluto
    }

    /// The control socket.
    pub fn ctl(&self) -> PathBuf {
        self.dir.join("run").join("pluto.ctl")
    }

    /// The namespace it runs in.
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// `whack --ctlsocket CTL ARGS...` (from the host namespace: the socket is a file).
    pub fn whack(&self, args: &[&str]) -> Output {
        let ctl = self.ctl();
        cmd::run(
            Command::new(self.root.join("usr/libexec/ipsec/whack"))
                .arg("--ctlsocket")
                .arg(&ctl)
                .args(args),
        )
    }

    /// Initiates the connection without waiting for the outcome.
    pub fn initiate(&self) -> Output {
        self.whack(&["--name", crate::side::CONN, "--initiate", "--asynchronous"])
    }

    /// `whack --showstates`: one line per IKE/Child SA state.
    pub fn states(&self) -> String {
        self.whack(&["--showstates"]).stdout
    }

    /// Whether an IKE SA of the connection is established now (`STATE_V2_ESTABLISHED_IKE_SA`).
    pub fn ike_established_now(&self) -> bool {
        self.states()
            .lines()
            .any(|l| l.contains("STATE_V2_ESTABLISHED_IKE_SA"))
    }

    /// pluto's log so far.
    pub fn log(&self) -> String {
        read_log(&self.dir.join("pluto.log"))
    }

    /// The log without pluto's debug lines (`| ...`).
    pub fn log_summary(&self) -> String {
        self.log()
            .lines()
            .filter(|l| !l.contains(": | ") && !l.starts_with("| "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops pluto (SIGTERM: it deletes its SAs, notifying peers; SIGKILL after 5 s).
    pub fn stop(&mut self) -> bool {
        self.process.stop(Duration::from_secs(5)).1
    }
}

impl Drop for Pluto {
    fn drop(&mut self) {
        if std::thread::panicking() {
            dump_log(
                &format!("pluto log ({}, debug lines omitted)", self.ns),
                &self.log_summary(),
                200,
            );
        }
        self.process.stop(Duration::from_secs(5));
    }
}
