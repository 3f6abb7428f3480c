//! A qemu guest with Debian 12's stock kernel, for what this machine's kernel cannot do: it has
//! XFRM but no ESP or AH, so transport mode, AH, raw ESP and ESN can only meet strongSwan on
//! kernel XFRM inside a VM. The guest runs under TCG emulation (`-accel tcg,thread=multi -cpu max
//! -smp 2 -m 2G`; `/dev/kvm` here is a software module under which a stock kernel crawls), with
//! no NIC and no disk: its whole Debian rootfs is the initramfs.
//!
//! - [`Vm::ensure_image`] runs `vm/build-image.sh`, which builds the image once (Debian's kernel
//!   and qemu extracted from their packages, a debootstrapped rootfs with strongSwan) and caches
//!   it under `$TESTBED_VM_DIR` (default `/var/tmp/rampart-vm`) keyed by a hash of the script.
//! - [`Vm::run`] boots it with a test script: the per-run files (`vm/guest/init` as PID 1,
//!   `vm/guest/lib.sh`, the script, the test's data files and a stripped copy of the rampart
//!   binary) go into a second small cpio appended to the cached one. The guest builds two
//!   network namespaces joined by a veth pair (addresses in `vm/guest/lib.sh`), runs the script,
//!   and powers off. The script reports `RESULT <name> PASS|FAIL <detail>` lines on the second
//!   serial port; the console (first serial port) is kept as the log. A timeout kills qemu by
//!   PID.
//!
//! See `vm/README.md` for the layout, the commands and the timings.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd;
use crate::privilege::{in_ci, is_root};
use crate::process::Process;
use crate::workdir::TestDir;

/// Where the image is cached unless `TESTBED_VM_DIR` says otherwise.
pub const DEFAULT_DIR: &str = "/var/tmp/rampart-vm";

/// The line the guest's init writes on the results port after the test script returned.
const END_MARKER: &str = "VM-END";

/// The harness's files: `build-image.sh`, `guest/` (init and lib.sh) and `checks/` (scripts).
pub fn vm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vm")
}

/// A test script shipped with the harness: `vm/checks/<name>`.
pub fn check_script(name: &str) -> PathBuf {
    vm_dir().join("checks").join(name)
}

/// The guest's network as `vm/guest/lib.sh` builds it: ns1 ("left") and ns2 ("right") joined by
/// a veth pair (v1, v2), each with a "LAN" address on its loopback that only a tunnel reaches.
pub mod guest {
    /// Left's outer IPv4 address (v1).
    pub const LEFT_V4: &str = "192.0.2.1";
    /// Right's outer IPv4 address (v2).
    pub const RIGHT_V4: &str = "192.0.2.2";
    /// Left's outer IPv6 address.
    pub const LEFT_V6: &str = "2001:db8:1::1";
    /// Right's outer IPv6 address.
    pub const RIGHT_V6: &str = "2001:db8:1::2";
    /// Left's IPv4 LAN (203.0.113.1 on lo).
    pub const LEFT_NET_V4: &str = "203.0.113.0/24";
    /// Right's IPv4 LAN (198.51.100.1 on lo).
    pub const RIGHT_NET_V4: &str = "198.51.100.0/24";
    /// Left's IPv6 LAN (2001:db8:2::1 on lo).
    pub const LEFT_NET_V6: &str = "2001:db8:2::/64";
    /// Right's IPv6 LAN (2001:db8:3::1 on lo).
    pub const RIGHT_NET_V6: &str = "2001:db8:3::/64";
}

/// Why the VM cannot be built or run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmError(pub String);

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VmError {}

fn err<T>(msg: impl Into<String>) -> Result<T, VmError> {
    Err(VmError(msg.into()))
}

/// One `RESULT` line of the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmResult {
    /// The check's name (no spaces).
    pub name: String,
    /// PASS (true) or FAIL (false).
    pub pass: bool,
    /// The rest of the line: what was measured, or why it failed.
    pub detail: String,
}

/// What one boot produced.
#[derive(Debug, Clone)]
pub struct VmOutcome {
    /// The `RESULT` lines, in order.
    pub results: Vec<VmResult>,
    /// Everything the guest printed on its console (kernel messages, `VM:` lines, diagnostics).
    pub console_log: String,
    /// Whether the guest's init got to the end of the script (it wrote the end marker).
    pub finished: bool,
    /// Whether the timeout killed qemu.
    pub timed_out: bool,
    /// From starting qemu to its exit.
    pub elapsed: Duration,
}

impl VmOutcome {
    /// The first result with this name.
    pub fn result(&self, name: &str) -> Option<&VmResult> {
        self.results.iter().find(|r| r.name == name)
    }
}

/// Parses the results port's text: `RESULT <name> PASS|FAIL <detail>` lines (anything else, such
/// as the end marker, is not a result). Returns the results and whether the end marker came.
pub fn parse_results(text: &str) -> (Vec<VmResult>, bool) {
    let mut results = Vec::new();
    let mut finished = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r').trim();
        if line == END_MARKER {
            finished = true;
            continue;
        }
        let Some(rest) = line.strip_prefix("RESULT ") else {
            continue;
        };
        let mut parts = rest.splitn(3, ' ');
        let (Some(name), Some(status)) = (parts.next(), parts.next()) else {
            continue;
        };
        let pass = match status {
            "PASS" => true,
            "FAIL" => false,
            _ => continue,
        };
        results.push(VmResult {
            name: name.to_string(),
            pass,
            detail: parts.next().unwrap_or("").trim().to_string(),
        });
    }
    (results, finished)
}

/// One boot: the script and what goes with it.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Names the work dir (`/tmp/rampart-tests/<prefix>-<pid>`); short, unique per test.
    pub prefix: String,
    /// The test script; the guest runs it as `/vm/test.sh` (with `/vm/lib.sh` beside it).
    pub script: PathBuf,
    /// A rampart binary to copy (stripped) to `/vm/rampart`.
    pub rampart_bin: Option<PathBuf>,
    /// Data files: (path under `/vm/files/`, contents).
    pub files: Vec<(String, Vec<u8>)>,
    /// After this, qemu is killed.
    pub timeout: Duration,
}

/// The built image: qemu, the guest kernel and the rootfs cpio.
#[derive(Debug, Clone)]
pub struct Vm {
    image: PathBuf,
}

impl Vm {
    /// Builds the image, or finds it in the cache (`vm/build-image.sh`; the first build downloads
    /// from Debian's mirror and takes a few minutes, later calls take milliseconds). Needs root.
    pub fn ensure_image() -> Result<Vm, VmError> {
        let script = vm_dir().join("build-image.sh");
        let out = cmd::run(
            Command::new("bash")
                .arg(&script)
                .stdin(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        if !out.ok() {
            return err(format!("building the VM image failed: {out}"));
        }
        let Some(dir) = out.stdout.lines().last().map(str::trim) else {
            return err(format!("{} printed no image directory", script.display()));
        };
        let vm = Vm {
            image: PathBuf::from(dir),
        };
        for f in [vm.qemu(), vm.image.join("vmlinuz"), vm.rootfs()] {
            if !f.exists() {
                return err(format!("the VM image lacks {}", f.display()));
            }
        }
        Ok(vm)
    }

    /// The image directory.
    pub fn image_dir(&self) -> &Path {
        &self.image
    }

    fn qemu(&self) -> PathBuf {
        self.image.join("qemu/usr/bin/qemu-system-x86_64")
    }

    fn rootfs(&self) -> PathBuf {
        self.image.join("rootfs.cpio.zst")
    }

    /// Boots the guest with `script` (and `rampart_bin` as `/vm/rampart`), waits until it powers
    /// off or `timeout` passes, and returns its results and console. The work dir is
    /// `/tmp/rampart-tests/vm-<pid>` (see [`Vm::run_with`] to choose it and to add data files).
    pub fn run(
        &self,
        script: &Path,
        rampart_bin: Option<&Path>,
        timeout: Duration,
    ) -> Result<VmOutcome, VmError> {
        self.run_with(&RunSpec {
            prefix: "vm".to_string(),
            script: script.to_path_buf(),
            rampart_bin: rampart_bin.map(Path::to_path_buf),
            files: Vec::new(),
            timeout,
        })
    }

    /// Boots the guest as `spec` says. Errors are the harness's (cannot stage the files, cannot
    /// start qemu); what happened in the guest is in the outcome (a timeout included).
    pub fn run_with(&self, spec: &RunSpec) -> Result<VmOutcome, VmError> {
        // The PID keeps two checkouts' runs of the same test (a developer's and a CI clone's)
        // apart: each boot copies ~25 MB and writes its own logs.
        let dir = TestDir::new(&format!("{}-{}", spec.prefix, std::process::id()));
        let stage = dir.subdir("stage");
        stage_files(&stage, spec)?;
        let initrd = dir.path().join("initrd.cpio");
        build_initrd(&self.rootfs(), &stage, &initrd)?;
        let console = dir.path().join("console.log");
        let results = dir.path().join("results.log");
        let qemu_log = dir.path().join("qemu.log");
        let qemu_out = std::fs::File::create(&qemu_log)
            .map_err(|e| VmError(format!("cannot create {}: {e}", qemu_log.display())))?;
        let qemu_err = qemu_out
            .try_clone()
            .map_err(|e| VmError(format!("cannot dup {}: {e}", qemu_log.display())))?;
        let share = self.image.join("qemu/usr/share");
        let mut command = Command::new(self.qemu());
        command
            .env("QEMU_MODULE_DIR", self.image.join("qemu/modules"))
            .arg("-L")
            .arg(share.join("qemu"))
            .arg("-L")
            .arg(share.join("seabios"))
            .args(["-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2"])
            .args(["-m", "2G", "-display", "none", "-no-reboot", "-nodefaults"])
            .args(["-nic", "none"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-serial")
            .arg(format!("file:{}", results.display()))
            .arg("-kernel")
            .arg(self.image.join("vmlinuz"))
            .arg("-initrd")
            .arg(&initrd)
            .arg("-append")
            .arg(format!(
                "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4 vm.timeout={}",
                guest_limit(spec.timeout).as_secs()
            ))
            .stdin(Stdio::null())
            .stdout(qemu_out)
            .stderr(qemu_err);
        // For a developer re-running it by hand (kept with TESTBED_KEEP=1).
        let _ = std::fs::write(dir.path().join("qemu.cmd"), cmd::describe(&command) + "\n");
        let start = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| VmError(format!("cannot start {}: {e}", self.qemu().display())))?;
        let mut qemu = Process::new("qemu-system-x86_64", child);
        let status = qemu.wait_exit(spec.timeout);
        let timed_out = status.is_none();
        if timed_out {
            eprintln!(
                "testbed: the VM did not power off within {:?}; killing qemu (pid {})",
                spec.timeout,
                qemu.pid()
            );
            qemu.stop(Duration::from_secs(2));
        }
        let elapsed = start.elapsed();
        let read = |p: &Path| {
            std::fs::read(p)
                .map(|b| String::from_utf8_lossy(&b).replace('\r', ""))
                .unwrap_or_default()
        };
        let mut console_log = read(&console);
        let qemu_said = read(&qemu_log);
        if !qemu_said.trim().is_empty() {
            console_log.push_str("\n--- qemu's own output ---\n");
            console_log.push_str(&qemu_said);
        }
        let (results, finished) = parse_results(&read(&results));
        Ok(VmOutcome {
            results,
            console_log,
            finished,
            timed_out,
            elapsed,
        })
    }
}

/// How long the guest's init lets the script run: the host's timeout less a margin for boot and
/// power-off (at least a minute, never 0, which would mean "no limit" to timeout(1)).
fn guest_limit(timeout: Duration) -> Duration {
    timeout
        .saturating_sub(Duration::from_secs(60))
        .max(Duration::from_secs(60))
}

/// Lays out the per-run tree: /init, /vm/lib.sh, /vm/test.sh, /vm/files/*, /vm/rampart.
fn stage_files(stage: &Path, spec: &RunSpec) -> Result<(), VmError> {
    let guest = vm_dir().join("guest");
    let vm = stage.join("vm");
    let files = vm.join("files");
    mkdir(&files)?;
    copy(&guest.join("init"), &stage.join("init"), 0o755)?;
    copy(&guest.join("lib.sh"), &vm.join("lib.sh"), 0o644)?;
    copy(&spec.script, &vm.join("test.sh"), 0o755)?;
    for (name, contents) in &spec.files {
        if name.starts_with('/') || name.split('/').any(|c| c == ".." || c.is_empty()) {
            return err(format!("bad guest file name {name:?} (relative, no '..')"));
        }
        let path = files.join(name);
        if let Some(parent) = path.parent() {
            mkdir(parent)?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| VmError(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(bin) = &spec.rampart_bin {
        strip_copy(bin, &vm.join("rampart"))?;
    }
    Ok(())
}

fn mkdir(p: &Path) -> Result<(), VmError> {
    std::fs::create_dir_all(p).map_err(|e| VmError(format!("cannot create {}: {e}", p.display())))
}

fn copy(from: &Path, to: &Path, mode: u32) -> Result<(), VmError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to).map_err(|e| {
        VmError(format!(
            "cannot copy {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))
        .map_err(|e| VmError(format!("cannot chmod {}: {e}", to.display())))
}

/// Copies a binary without its debug sections (a debug build is ~100 MB, most of it DWARF,
/// which the guest would have to unpack into RAM). Falls back to a plain copy without `strip`.
fn strip_copy(from: &Path, to: &Path) -> Result<(), VmError> {
    let stripped = cmd::run(Command::new("strip").arg("-o").arg(to).arg(from));
    if stripped.ok() {
        use std::os::unix::fs::PermissionsExt;
        return std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| VmError(format!("cannot chmod {}: {e}", to.display())));
    }
    eprintln!("testbed: strip failed ({stripped}); copying the rampart binary as it is");
    copy(from, to, 0o755)
}

/// The initramfs of one run: the cached rootfs archive, then the staged tree as a second newc
/// cpio (the kernel unpacks concatenated archives in order, later files replacing earlier ones;
/// each may be compressed). The second one is zstd-compressed when `zstd` exists: loading bytes
/// into the guest costs more under TCG than decompressing them there.
fn build_initrd(rootfs: &Path, stage: &Path, initrd: &Path) -> Result<(), VmError> {
    std::fs::copy(rootfs, initrd).map_err(|e| {
        VmError(format!(
            "cannot copy {} to {}: {e}",
            rootfs.display(),
            initrd.display()
        ))
    })?;
    let compress = if crate::privilege::find_tool("zstd").is_some() {
        "| zstd -q -3"
    } else {
        ""
    };
    let out = cmd::run(
        Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -o pipefail; find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 {compress} >> \"$0\""
            ))
            .arg(initrd)
            .current_dir(stage),
    );
    if !out.ok() {
        return err(format!("packing the per-run cpio failed: {out}"));
    }
    Ok(())
}

/// The VM tests' prerequisite check, with the namespace tests' policy: returns the image when
/// the test may run; under `CI=true` a missing prerequisite (not root, the image cannot be built,
/// e.g. a failed download) panics; elsewhere it prints `SKIPPED: <reason>` and returns `None`.
#[track_caller]
pub fn require_vm() -> Option<Vm> {
    let reason = if !is_root() {
        "not running as root (building and booting the VM image needs root)".to_string()
    } else {
        match Vm::ensure_image() {
            Ok(vm) => return Some(vm),
            Err(e) => e.0,
        }
    };
    if in_ci() {
        panic!("CI=true and the VM test cannot run: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_parsed_and_junk_ignored() {
        let text = "RESULT a PASS ping=3/3 in=3\r\nnoise\nRESULT b FAIL rampart: mode 'transport' is not supported yet\nRESULT c MAYBE x\nRESULT d PASS\nVM-END\r\n";
        let (r, finished) = parse_results(text);
        assert!(finished);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].name, "a");
        assert!(r[0].pass);
        assert_eq!(r[0].detail, "ping=3/3 in=3");
        assert!(!r[1].pass);
        assert_eq!(
            r[1].detail,
            "rampart: mode 'transport' is not supported yet"
        );
        assert_eq!(r[2].name, "d");
        assert_eq!(r[2].detail, "");
    }

    #[test]
    fn no_end_marker_means_unfinished() {
        let (r, finished) = parse_results("RESULT a PASS\n");
        assert_eq!(r.len(), 1);
        assert!(!finished);
    }
}
