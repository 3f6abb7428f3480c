//! The privilege policy of namespace tests: run as root with the tools present, fail loudly in CI,
//! skip loudly elsewhere. Never skip silently.

use std::path::Path;

/// Tools every namespace test with strongSwan needs.
pub const STRONGSWAN_TOOLS: &[&str] = &["ip", "tcpdump", "swanctl", crate::charon::CHARON, "ping"];

/// Tools a Rampart-only namespace test needs.
pub const NETNS_TOOLS: &[&str] = &["ip", "tcpdump", "ping"];

/// Whether the CI environment variable says we run in CI (`CI=true` or `CI=1`).
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// Checks that we are root and that every tool exists (a bare name is looked up in `PATH`, a
/// path is checked as is). Returns true when the test may run. Otherwise: under `CI=true` it
/// panics with the reason; elsewhere it prints `SKIPPED: <reason>` to stderr and returns false,
/// and the test returns early.
///
/// ```no_run
/// if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
///     return;
/// }
/// ```
#[track_caller]
pub fn require_root_and_tools(tools: &[&str]) -> bool {
    require(true, tools)
}

/// Like [`require_root_and_tools`] for tests that only need the tools (e.g. reading a pcap).
#[track_caller]
pub fn require_tools(tools: &[&str]) -> bool {
    require(false, tools)
}

#[track_caller]
fn require(root: bool, tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    if root && !is_root() {
        missing.push("not running as root (namespace tests need root)".to_string());
    }
    for t in tools {
        if find_tool(t).is_none() {
            missing.push(format!("tool `{t}` not found"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let reason = missing.join("; ");
    if in_ci() {
        panic!(
            "CI=true and this namespace test cannot run: {reason} (run scripts/test.sh as root)"
        );
    }
    eprintln!("SKIPPED: {reason}");
    false
}

/// Whether the effective user id is 0, read from /proc/self/status (no libc call, no unsafe).
pub fn is_root() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// Finds a tool: an absolute or relative path is checked as is, a bare name in each `PATH` entry
/// (plus /usr/sbin and /sbin, which a non-login root shell may lack).
pub fn find_tool(tool: &str) -> Option<std::path::PathBuf> {
    if tool.contains('/') {
        let p = Path::new(tool);
        return is_executable(p).then(|| p.to_path_buf());
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(tool))
        .find(|p| is_executable(p));
    found
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
