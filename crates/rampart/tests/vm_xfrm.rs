//! Rampart and strongSwan against the kernel's own ESP and AH, in a qemu guest with Debian 12's
//! stock kernel (this machine's kernel has XFRM but no ESP/AH; see crates/testbed/vm/README.md).
//!
//! One boot runs every row of [`CASES`] (crates/testbed/vm/checks/xfrm-cases.sh): the right side
//! is always strongSwan's charon on kernel XFRM; the left side is charon too (the baseline rows,
//! which prove the harness and the kernel: tunnel and transport mode, raw ESP with AES-GCM and
//! AES-CBC + HMAC, AH, ESN, IPv6) or Rampart. Each row brings the SA up, checks the right's kernel
//! SAs (count, protocol, mode, UDP encapsulation or not, ESN, algorithms), pings through them,
//! checks the kernel's packet counters and tears the SA down from the initiator.
//!
//! Rows marked [`Expect::NotYet`] are features Rampart lacks today: they still run, and must
//! fail (not in the harness: a "harness: ..." failure fails the test); the test prints them as
//! NOT YET IMPLEMENTED with what the guest saw. When one starts to
//! pass, the test fails and asks for the row to become [`Expect::Pass`]. Adding a feature's
//! check is adding a row.
//!
//! Needs root; builds the image on first use (a few minutes, cached under /var/tmp/rampart-vm).
//! Under CI=true a missing prerequisite (not root, a failed download) fails the test.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use testbed::vm::{self, guest, RunSpec};

/// Who runs in the left namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// charon with kernel-netlink (a baseline row).
    Strongswan,
    /// the rampart daemon under test.
    Rampart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Initiator {
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Tunnel,
    Transport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Esp,
    Ah,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The row must pass.
    Pass,
    /// Not implemented in Rampart yet (the reason): the row runs and must not pass.
    #[allow(dead_code)] // no row is marked so today; kept for the next feature's rows
    NotYet(&'static str),
}

/// One case: both sides' configuration and what the right's kernel must end up with.
#[derive(Debug, Clone, Copy)]
struct Case {
    /// Result name (no spaces), unique.
    name: &'static str,
    left: Left,
    initiator: Initiator,
    /// Outer (IKE and ESP/AH) address family: 4 or 6.
    outer: u8,
    /// Tunnelled address family (tunnel mode): 4 or 6.
    inner: u8,
    mode: Mode,
    proto: Proto,
    /// IKE proposal (strongSwan syntax, both sides).
    ike: &'static str,
    /// ESP or AH proposal (strongSwan syntax, both sides).
    child: &'static str,
    /// Rampart's `encap = true` (forces ESP-in-UDP); the right's kernel SAs must then be
    /// UDP-encapsulated. Without NAT two charons never encapsulate.
    encap: bool,
    /// The right's SAs must use extended sequence numbers.
    esn: bool,
    /// Comma-separated algorithm names the right's `ip xfrm state` must show.
    kernel_alg: &'static str,
    expect: Expect,
}

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const GCM: &str = "rfc4106(gcm(aes))";
const CBC: &str = "cbc(aes),hmac(sha256)";

/// A baseline row: strongSwan on both sides, left initiates, IPv4, raw ESP AES-GCM tunnel.
const SWAN: Case = Case {
    name: "",
    left: Left::Strongswan,
    initiator: Initiator::Left,
    outer: 4,
    inner: 4,
    mode: Mode::Tunnel,
    proto: Proto::Esp,
    ike: IKE,
    child: "aes256gcm16",
    encap: false,
    esn: false,
    kernel_alg: GCM,
    expect: Expect::Pass,
};

/// A Rampart row: Rampart on the left initiates, IPv4, ESP-in-UDP AES-GCM tunnel.
const RAMPART: Case = Case {
    left: Left::Rampart,
    encap: true,
    ..SWAN
};

/// The table. Baseline rows first: if they fail, the harness or the kernel is at fault.
#[rustfmt::skip]
const CASES: &[Case] = &[
    // strongSwan <-> strongSwan on kernel XFRM: raw ESP (GCM, CBC + HMAC), tunnel (4in4, 4in6,
    // 6in4) and transport (IPv4, IPv6), AH transport (IPv4, IPv6), ESN.
    Case { name: "swan-tun4-gcm", ..SWAN },
    Case { name: "swan-4in6-cbc", outer: 6, child: "aes128-sha256", kernel_alg: CBC, initiator: Initiator::Right, ..SWAN },
    Case { name: "swan-6in4-gcm-esn", inner: 6, child: "aes128gcm16-esn", esn: true, ..SWAN },
    Case { name: "swan-tra4-cbc", mode: Mode::Transport, child: "aes128-sha256", kernel_alg: CBC, ..SWAN },
    Case { name: "swan-tra6-gcm", mode: Mode::Transport, outer: 6, ..SWAN },
    Case { name: "swan-ah4-tra", mode: Mode::Transport, proto: Proto::Ah, child: "sha256", kernel_alg: "hmac(sha256)", ..SWAN },
    Case { name: "swan-ah6-tra", outer: 6, mode: Mode::Transport, proto: Proto::Ah, child: "sha256", kernel_alg: "hmac(sha256)", initiator: Initiator::Right, ..SWAN },
    // Rampart <-> strongSwan on kernel XFRM, ESP in UDP (Rampart's encap = true).
    Case { name: "rampart-i-tun4-gcm-udp", ..RAMPART },
    Case { name: "rampart-r-tun4-cbc-udp", initiator: Initiator::Right, child: "aes128-sha256", kernel_alg: CBC, ..RAMPART },
    Case { name: "rampart-i-6in4-gcm-udp", inner: 6, ..RAMPART },
    Case { name: "rampart-r-4in6-cbc-udp", outer: 6, initiator: Initiator::Right, child: "aes128-sha256", kernel_alg: CBC, ..RAMPART },
    Case { name: "rampart-i-esn-tun4-udp", child: "aes128gcm16-esn", esn: true, ..RAMPART },
    // Rampart <-> strongSwan on kernel XFRM, raw ESP (IP protocol 50; no NAT, no encap).
    Case { name: "rampart-i-tun4-gcm-raw", encap: false, ..RAMPART },
    Case { name: "rampart-r-4in6-cbc-raw", outer: 6, initiator: Initiator::Right, child: "aes128-sha256", kernel_alg: CBC, encap: false, ..RAMPART },
    Case { name: "rampart-i-6in6-gcm-esn-raw", outer: 6, inner: 6, child: "aes128gcm16-esn", esn: true, encap: false, ..RAMPART },
    // Rampart <-> strongSwan on kernel XFRM, transport mode (host to host).
    Case { name: "rampart-i-tra4-gcm-udp", mode: Mode::Transport, ..RAMPART },
    Case { name: "rampart-i-tra6-gcm-raw", mode: Mode::Transport, outer: 6, encap: false, ..RAMPART },
    Case { name: "rampart-r-tra4-cbc-raw", mode: Mode::Transport, initiator: Initiator::Right, child: "aes128-sha256", kernel_alg: CBC, encap: false, ..RAMPART },
    // Rampart <-> strongSwan on kernel XFRM, AH (IP protocol 51; RFC 4302): transport and
    // tunnel, IPv4 and IPv6 (ICV padded to 64 bits), ESN.
    Case { name: "rampart-i-ah4-tra", mode: Mode::Transport, proto: Proto::Ah, child: "sha256", kernel_alg: "hmac(sha256)", encap: false, ..RAMPART },
    Case { name: "rampart-r-ah6-tra", mode: Mode::Transport, outer: 6, initiator: Initiator::Right, proto: Proto::Ah, child: "sha256", kernel_alg: "hmac(sha256)", encap: false, ..RAMPART },
    Case { name: "rampart-i-ah-4in4-esn", proto: Proto::Ah, child: "sha384-esn", kernel_alg: "hmac(sha384)", esn: true, encap: false, ..RAMPART },
    Case { name: "rampart-r-ah-6in6", outer: 6, inner: 6, initiator: Initiator::Right, proto: Proto::Ah, child: "sha256", kernel_alg: "hmac(sha256)", encap: false, ..RAMPART },
];

/// Where the guest's Rampart listens (the runner script uses the same path).
const SOCK: &str = "/tmp/rampart-ns1.sock";
const PSK: &str = "vm-test-psk-not-secret-0123456789";
const LEFT_ID: &str = "left.example.org";
const RIGHT_ID: &str = "right.example.org";

impl Case {
    fn addrs(&self) -> (&'static str, &'static str) {
        if self.outer == 6 {
            (guest::LEFT_V6, guest::RIGHT_V6)
        } else {
            (guest::LEFT_V4, guest::RIGHT_V4)
        }
    }

    fn nets(&self) -> (&'static str, &'static str) {
        if self.inner == 6 {
            (guest::LEFT_NET_V6, guest::RIGHT_NET_V6)
        } else {
            (guest::LEFT_NET_V4, guest::RIGHT_NET_V4)
        }
    }

    fn mode(&self) -> &'static str {
        match self.mode {
            Mode::Tunnel => "tunnel",
            Mode::Transport => "transport",
        }
    }

    fn proposals_key(&self) -> &'static str {
        match self.proto {
            Proto::Esp => "esp_proposals",
            Proto::Ah => "ah_proposals",
        }
    }

    /// The runner's line (see xfrm-cases.sh).
    fn line(&self) -> String {
        format!(
            "{} left={} initiator={} outer={} inner={} mode={} proto={} encap={} esn={} alg={}\n",
            self.name,
            match self.left {
                Left::Strongswan => "swan",
                Left::Rampart => "rampart",
            },
            match self.initiator {
                Initiator::Left => "left",
                Initiator::Right => "right",
            },
            self.outer,
            self.inner,
            self.mode(),
            match self.proto {
                Proto::Esp => "esp",
                Proto::Ah => "ah",
            },
            u8::from(self.left == Left::Rampart && self.encap),
            u8::from(self.esn),
            self.kernel_alg,
        )
    }

    /// swanctl.conf for charon on the left (`right == false`) or the right.
    fn swanctl_conf(&self, right: bool) -> String {
        let (mut local, mut remote) = self.addrs();
        let (mut lnet, mut rnet) = self.nets();
        let (mut lid, mut rid) = (LEFT_ID, RIGHT_ID);
        if right {
            (local, remote, lnet, rnet) = (remote, local, rnet, lnet);
            (lid, rid) = (rid, lid);
        }
        let ts = match self.mode {
            Mode::Tunnel => format!("local_ts = {lnet}\n        remote_ts = {rnet}\n        "),
            Mode::Transport => String::new(),
        };
        format!(
            "connections {{
  net2net {{
    version = 2
    local_addrs = {local}
    remote_addrs = {remote}
    proposals = {ike}
    local {{
      auth = psk
      id = {lid}
    }}
    remote {{
      auth = psk
      id = {rid}
    }}
    children {{
      net {{
        {ts}{key} = {child}
        mode = {mode}
      }}
    }}
  }}
}}
secrets {{
  ike-net2net {{
    id-1 = {LEFT_ID}
    id-2 = {RIGHT_ID}
    secret = \"{PSK}\"
  }}
}}
",
            ike = self.ike,
            key = self.proposals_key(),
            child = self.child,
            mode = self.mode(),
        )
    }

    /// rampart.toml for the left (docs/config.md).
    fn rampart_toml(&self) -> String {
        let (local, remote) = self.addrs();
        let (lnet, rnet) = self.nets();
        let ts = match self.mode {
            Mode::Tunnel => format!("local_ts = [\"{lnet}\"]\nremote_ts = [\"{rnet}\"]\n"),
            Mode::Transport => String::new(),
        };
        format!(
            r#"[daemon]
control_socket = "{SOCK}"
tun_name = "rvm0"
log_level = "debug"

[connections.net2net]
version = 2
local_addrs = ["{local}"]
remote_addrs = ["{remote}"]
proposals = ["{ike}"]
encap = {encap}
keyingtries = 1

[connections.net2net.local]
auth = "psk"
id = "{LEFT_ID}"

[connections.net2net.remote]
auth = "psk"
id = "{RIGHT_ID}"

[connections.net2net.children.net]
{ts}{key} = ["{child}"]
mode = "{mode}"
start_action = "none"

[secrets.ike.net2net]
ids = ["{LEFT_ID}", "{RIGHT_ID}"]
secret = "{PSK}"
"#,
            ike = self.ike,
            encap = self.encap,
            key = self.proposals_key(),
            child = self.child,
            mode = self.mode(),
        )
    }

    /// The guest files of this case.
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let left = match self.left {
            Left::Strongswan => ("left.conf", self.swanctl_conf(false)),
            Left::Rampart => ("left.toml", self.rampart_toml()),
        };
        vec![
            (format!("{}/{}", self.name, left.0), left.1.into_bytes()),
            (
                format!("{}/right.conf", self.name),
                self.swanctl_conf(true).into_bytes(),
            ),
        ]
    }
}

#[test]
fn case_names_are_unique_and_lines_parse() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "duplicate case names");
    for c in CASES {
        assert!(!c.name.is_empty() && !c.name.contains(' '), "{c:?}");
        assert!(c.line().starts_with(&format!("{} left=", c.name)));
    }
    let ah = CASES.iter().find(|c| c.name == "swan-ah4-tra").unwrap();
    assert!(ah.swanctl_conf(true).contains("ah_proposals = sha256\n"));
    assert!(!ah.swanctl_conf(true).contains("local_ts"));
    let r = CASES
        .iter()
        .find(|c| c.name == "rampart-r-tun4-cbc-udp")
        .unwrap();
    let right = r.swanctl_conf(true);
    assert!(right.contains("local_addrs = 192.0.2.2\n"));
    assert!(right.contains("local_ts = 198.51.100.0/24\n"));
    assert!(right.contains("id = right.example.org\n"));
    assert!(r.rampart_toml().contains("encap = true\n"));
    assert!(r.line().contains(" encap=1 "));
}

/// The rows to run: all of them, or (for a developer) those whose names contain one of the
/// comma-separated words of `TESTBED_VM_CASES`.
fn selected_cases() -> Vec<Case> {
    let Ok(filter) = std::env::var("TESTBED_VM_CASES") else {
        return CASES.to_vec();
    };
    let words: Vec<&str> = filter.split(',').filter(|w| !w.is_empty()).collect();
    let picked: Vec<Case> = CASES
        .iter()
        .filter(|c| words.iter().any(|w| c.name.contains(w)))
        .copied()
        .collect();
    eprintln!(
        "TESTBED_VM_CASES={filter}: running {} of {} rows",
        picked.len(),
        CASES.len()
    );
    assert!(
        !picked.is_empty(),
        "TESTBED_VM_CASES={filter} selects no row"
    );
    picked
}

/// The rampart binary to copy into the guest: this build's, or `TESTBED_RAMPART_BIN` (as for the
/// namespace tests, e.g. a release build).
fn rampart_bin() -> PathBuf {
    match std::env::var_os("TESTBED_RAMPART_BIN") {
        Some(b) => {
            eprintln!(
                "TESTBED_RAMPART_BIN={} is copied into the guest",
                b.to_string_lossy()
            );
            PathBuf::from(b)
        }
        None => PathBuf::from(env!("CARGO_BIN_EXE_rampart")),
    }
}

/// Boots the guest once with every case and checks each row against its expectation.
#[test]
fn vm_xfrm_interop() {
    let Some(vm) = vm::require_vm() else {
        return;
    };
    let selected = selected_cases();
    let mut cases = String::new();
    let mut files = Vec::new();
    for c in &selected {
        cases.push_str(&c.line());
        files.extend(c.files());
    }
    files.push(("cases".to_string(), cases.into_bytes()));
    let spec = RunSpec {
        prefix: "vm-xfrm".to_string(),
        script: vm::check_script("xfrm-cases.sh"),
        rampart_bin: Some(rampart_bin()),
        files,
        timeout: Duration::from_secs(900),
    };
    let out = match vm.run_with(&spec) {
        Ok(o) => o,
        Err(e) => panic!("cannot run the VM: {e}"),
    };

    let mut report = String::new();
    let mut failures = Vec::new();
    for c in &selected {
        let r = out.result(c.name);
        let line = match (c.expect, r) {
            (_, None) => {
                failures.push(c.name);
                format!("MISSING  {} (the guest reported nothing)", c.name)
            }
            (Expect::Pass, Some(r)) if r.pass => format!("PASS     {}: {}", c.name, r.detail),
            (Expect::Pass, Some(r)) => {
                failures.push(c.name);
                format!("FAIL     {}: {}", c.name, r.detail)
            }
            // A broken harness is no evidence that a feature is missing.
            (Expect::NotYet(_), Some(r)) if r.detail.starts_with("harness:") => {
                failures.push(c.name);
                format!("FAIL     {}: {}", c.name, r.detail)
            }
            (Expect::NotYet(why), Some(r)) if !r.pass => format!(
                "NOT YET IMPLEMENTED {}: {why}; the guest saw: {}",
                c.name, r.detail
            ),
            (Expect::NotYet(why), Some(r)) => {
                failures.push(c.name);
                format!(
                    "NOW PASSES {} (marked not yet: {why}): make it Expect::Pass: {}",
                    c.name, r.detail
                )
            }
        };
        let _ = writeln!(report, "{line}");
    }
    let _ = writeln!(
        report,
        "VM: {:.0} s from qemu start to power-off{}{}",
        out.elapsed.as_secs_f64(),
        if out.finished {
            ""
        } else {
            ", the script did not finish"
        },
        if out.timed_out {
            ", KILLED at the timeout"
        } else {
            ""
        },
    );
    // Straight to stderr, past the test harness's capture: the NOT YET lines belong in every log.
    let _ = std::io::stderr().write_all(report.as_bytes());
    if !failures.is_empty() || !out.finished {
        eprintln!(
            "===== guest console =====\n{}\n===== end of guest console =====",
            out.console_log
        );
        panic!("VM cases failed: {failures:?}\n{report}");
    }
}
