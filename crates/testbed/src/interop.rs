//! Building blocks of the interop tests that go beyond one net-to-net tunnel: starting an
//! implementation from a [`Side`] in any namespace, waiting for both sides' SAs, continuous
//! pings, and NAT-keepalive counting on a capture.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::capture::Capture;
use crate::charon::{Charon, CharonOptions};
use crate::daemon::RampartDaemon;
use crate::netns::Netns;
use crate::peer::{Peer, SaState};
use crate::side::{Auth, Side};
use crate::status::spi_eq;
use crate::wait::wait_until;

/// Starts charon in `ns` (work dir `dir`) and loads `side`; certificate files go into its
/// `x509`, `private` and `x509ca` folders first.
#[track_caller]
pub fn start_charon(ns: &Netns, dir: &Path, side: &Side, opts: &CharonOptions) -> Peer {
    let c = Charon::start_with(ns, dir, opts);
    if let Auth::Cert(files) = &side.auth {
        for (src, sub) in [
            (&files.cert, "x509"),
            (&files.key, "private"),
            (&files.ca, "x509ca"),
        ] {
            let Some(name) = src.file_name() else {
                panic!("certificate path without a file name: {}", src.display());
            };
            if let Err(e) = std::fs::copy(src, dir.join(sub).join(name)) {
                panic!(
                    "cannot copy {} into {}/{sub}: {e}",
                    src.display(),
                    dir.display()
                );
            }
        }
    }
    c.load_config(&side.swanctl_conf());
    Peer::Charon(c)
}

/// Starts `rampart daemon` in `ns` (work dir `dir`, TUN `tun`) with `side` as its
/// configuration.
#[track_caller]
pub fn start_rampart(bin: &Path, ns: &Netns, dir: &Path, side: &Side, tun: &str) -> Peer {
    let toml = side.rampart_toml(&RampartDaemon::socket_in(dir), tun);
    Peer::Rampart(RampartDaemon::start(bin, ns, dir, &toml))
}

/// Whether `p` has exactly one IKE SA, established with its child installed.
pub fn one_up(p: &Peer) -> Option<SaState> {
    let sas = p.sas();
    match sas.as_slice() {
        [s] if s.is_up() => Some(s.clone()),
        _ => None,
    }
}

/// Waits until both have exactly one IKE SA with the child installed and the Child SAs' SPIs
/// match crosswise (a's inbound is b's outbound and vice versa); panics with both listings and
/// logs otherwise.
#[track_caller]
pub fn assert_up(a: &Peer, b: &Peer, timeout: Duration) -> (SaState, SaState) {
    let mut last = (None, None);
    let ok = wait_until(timeout, || {
        last = (one_up(a), one_up(b));
        match &last {
            (Some(x), Some(y)) => spi_eq(&x.spi_in, &y.spi_out) && spi_eq(&y.spi_in, &x.spi_out),
            _ => false,
        }
    });
    if !ok {
        panic!(
            "tunnel not up on both sides with matching SPIs within {timeout:?}\n{} {:?}\n{} {:?}\n{}\n{}",
            a.label(),
            a.sas(),
            b.label(),
            b.sas(),
            a.describe(),
            b.describe()
        );
    }
    match last {
        (Some(x), Some(y)) => (x, y),
        _ => unreachable!("checked above"),
    }
}

/// Waits until `p` lists no IKE SA of the connection; true if that happened within `timeout`.
pub fn wait_no_sas(p: &Peer, timeout: Duration) -> bool {
    wait_until(timeout, || p.sas().is_empty())
}

/// `ping -c COUNT -i 0.2 -W 1 [-I SRC] DST` inside `ns`, its whole output.
pub fn ping_from(ns: &Netns, src: Option<&str>, dst: &str, count: u32) -> crate::cmd::Output {
    let count = count.to_string();
    let mut args = vec!["ping", "-n", "-c", &count, "-i", "0.2", "-W", "1"];
    if let Some(s) = src {
        args.extend(["-I", s]);
    }
    args.push(dst);
    ns.run(&args)
}

/// Pings `dst` from inside `ns` until it finds a reply (at most `timeout`); true if one came.
pub fn wait_ping(ns: &Netns, src: Option<&str>, dst: &str, timeout: Duration) -> bool {
    wait_until(timeout, || ping_from(ns, src, dst, 1).ok())
}

/// A continuous ping running in the background (`ping -c COUNT -i INTERVAL -W 1`), for "no
/// packet lost while ..." checks. Killed by PID on drop if still running.
#[derive(Debug)]
pub struct Pinger {
    child: Option<Child>,
}

/// What a [`Pinger`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingResult {
    /// Echo requests sent.
    pub transmitted: u32,
    /// Echo replies received.
    pub received: u32,
    /// ping's whole output.
    pub text: String,
}

impl Pinger {
    /// Starts `count` pings `interval` apart from `ns` (source `src` if given) to `dst`.
    #[track_caller]
    pub fn start(
        ns: &Netns,
        src: Option<&str>,
        dst: &str,
        count: u32,
        interval: Duration,
    ) -> Pinger {
        let mut c = ns.command("ping");
        c.args([
            "-n",
            "-c",
            &count.to_string(),
            "-i",
            &format!("{:.3}", interval.as_secs_f64()),
            "-W",
            "1",
        ]);
        if let Some(s) = src {
            c.args(["-I", s]);
        }
        c.arg(dst).stdout(Stdio::piped()).stderr(Stdio::piped());
        match c.spawn() {
            Ok(child) => Pinger { child: Some(child) },
            Err(e) => panic!("cannot start ping in {}: {e}", ns.name()),
        }
    }

    /// Waits for ping to finish and parses its summary.
    #[track_caller]
    pub fn finish(mut self) -> PingResult {
        let Some(child) = self.child.take() else {
            panic!("pinger already finished");
        };
        let out = match child.wait_with_output() {
            Ok(o) => o,
            Err(e) => panic!("waiting for ping: {e}"),
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let (transmitted, received) = parse_ping_summary(&text);
        PingResult {
            transmitted,
            received,
            text,
        }
    }
}

impl Drop for Pinger {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `N packets transmitted, M received` from ping's summary; (0, 0) if absent.
pub fn parse_ping_summary(text: &str) -> (u32, u32) {
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if let (Some(n), Some("packets"), Some("transmitted,"), Some(m), Some(r)) = (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) {
            if r.starts_with("received") {
                return (n.parse().unwrap_or(0), m.parse().unwrap_or(0));
            }
        }
    }
    (0, 0)
}

/// A tcpdump filter for NAT-keepalives (RFC 3948 §2.3: one 0xFF octet in UDP to port 4500)
/// sent from `src` (IPv4).
pub fn keepalive_filter(src: &str) -> String {
    format!("src host {src} and udp dst port 4500 and udp[4:2] == 9 and udp[8] == 0xff")
}

/// The NAT-keepalives `src` sent, as captured.
#[track_caller]
pub fn keepalives(cap: &Capture, src: &str) -> Vec<String> {
    cap.lines(&keepalive_filter(src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_summary() {
        let t = "PING 1.2.3.4\n\n--- 1.2.3.4 ping statistics ---\n120 packets transmitted, 118 received, 1% packet loss, time 6000ms\n";
        assert_eq!(parse_ping_summary(t), (120, 118));
        let t = "5 packets transmitted, 0 received, +5 errors, 100% packet loss";
        assert_eq!(parse_ping_summary(t), (5, 0));
        assert_eq!(parse_ping_summary("nothing"), (0, 0));
    }
}
