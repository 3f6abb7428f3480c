//! Polling helpers: the harness waits for conditions, never for fixed times.

use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::netns::Netns;

/// Polls `cond` every 100 ms until it returns true (then returns true) or `timeout` passes (then
/// returns false after one last check).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(100));
    }
}

/// Pings `dst` from inside `ns` (`count` echo requests, 0.2 s apart, 1 s wait for each reply).
/// True when at least one reply came back (ping's own exit status). IPv6 addresses are pinged
/// with `-6`.
pub fn ping(ns: &Netns, dst: &str, count: u32) -> bool {
    let family = if dst.contains(':') { "-6" } else { "-4" };
    let count = count.to_string();
    ns.run(&[
        "ping", family, "-n", "-q", "-c", &count, "-i", "0.2", "-W", "1", dst,
    ])
    .ok()
}

/// Like [`ping`] but returns ping's whole output, for messages.
pub fn ping_output(ns: &Netns, dst: &str, count: u32) -> crate::cmd::Output {
    let family = if dst.contains(':') { "-6" } else { "-4" };
    let count = count.to_string();
    ns.run(&[
        "ping", family, "-n", "-c", &count, "-i", "0.2", "-W", "1", dst,
    ])
}
