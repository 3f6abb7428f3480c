//! Packet capture with tcpdump inside a namespace, and questions asked of the pcap afterwards.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::cmd::{self, Output};
use crate::netns::Netns;
use crate::process::Process;
use crate::wait::wait_until;
use crate::workdir::{dump_log, read_log};

/// IKE and NAT-T traffic: UDP port 500 or 4500 (RFC 7296 §2.23, RFC 3948).
pub const IKE_OR_NATT: &str = "(udp port 500 or udp port 4500)";

/// Link housekeeping we ignore: ARP, IPv6 to link-local multicast (neighbour solicitations, MLD,
/// router solicitations), and ICMPv6 neighbour discovery (types 133-137, RFC 4861) sent unicast.
pub const LINK_NOISE: &str =
    "(arp or (ip6 and dst net ff02::/16) or (icmp6 and ip6[40] >= 133 and ip6[40] <= 137))";

/// ESP in UDP (RFC 3948 §2.2): to or from port 4500, longer than a NAT-keepalive (UDP length > 9)
/// and not starting with the non-ESP marker (four zero bytes, which mark IKE). libpcap's `udp[]`
/// only indexes IPv4, so IPv6 (without extension headers) is spelled out with `ip6[]`.
pub const ESP_IN_UDP: &str = "(udp port 4500 and ((ip and udp[4:2] > 9 and udp[8:4] != 0) or \
     (ip6 and ip6[6] == 17 and ip6[44:2] > 9 and ip6[48:4] != 0)))";

/// A tcpdump writing every packet of one interface in one namespace to a pcap file
/// (`--immediate-mode -U`, so nothing waits in a buffer). Stopped by PID on drop; when dropped
/// during a panic it prints a summary of what it saw.
#[derive(Debug)]
pub struct Capture {
    ns: String,
    iface: String,
    file: PathBuf,
    errfile: PathBuf,
    process: Process,
}

impl Capture {
    /// Starts `tcpdump -i IFACE -w FILE` in `ns` and waits (up to 10 s) until it listens.
    #[track_caller]
    pub fn start(ns: &Netns, iface: &str, file: &Path) -> Capture {
        let errfile = file.with_extension("tcpdump.log");
        let err = match std::fs::File::create(&errfile) {
            Ok(f) => f,
            Err(e) => panic!("cannot create {}: {e}", errfile.display()),
        };
        let mut command = ns.command("tcpdump");
        command
            .args(["-i", iface, "-n", "-U", "--immediate-mode", "-w"])
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err);
        let child = match command.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start tcpdump in {}: {e}", ns.name()),
        };
        let mut cap = Capture {
            ns: ns.name().to_string(),
            iface: iface.to_string(),
            file: file.to_path_buf(),
            errfile,
            process: Process::new(format!("tcpdump in {}", ns.name()), child),
        };
        let listening = wait_until(Duration::from_secs(10), || {
            read_log(&cap.errfile).contains("listening on") || !cap.process.running()
        });
        if !listening || !cap.process.running() {
            panic!(
                "tcpdump on {iface} in {} did not start: {}",
                cap.ns,
                read_log(&cap.errfile)
            );
        }
        cap
    }

    /// The pcap file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Stops tcpdump (SIGTERM; it flushes and closes the file). Safe to call twice.
    pub fn stop(&mut self) {
        self.process.stop(Duration::from_secs(5));
    }

    /// `tcpdump -r FILE -n FILTER`: runs the filter over what was captured so far.
    pub fn read(&self, filter: &str) -> Output {
        let file = self.file.display().to_string();
        let mut args = vec!["-r", file.as_str(), "-n"];
        if !filter.trim().is_empty() {
            args.push(filter);
        }
        cmd::run_args("tcpdump", &args)
    }

    /// The one-line summaries of the packets matching `filter`. Panics if tcpdump fails (a bad
    /// filter, an unreadable file).
    #[track_caller]
    pub fn lines(&self, filter: &str) -> Vec<String> {
        let out = self.read(filter);
        assert!(
            out.ok(),
            "reading capture {} of {}: {out}",
            self.file.display(),
            self.iface
        );
        out.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    }

    /// How many captured packets match `filter`.
    #[track_caller]
    pub fn count(&self, filter: &str) -> usize {
        self.lines(filter).len()
    }

    /// Packets that are neither IKE/NAT-T (UDP 500/4500) nor link housekeeping (ARP, neighbour
    /// discovery, MLD): between two gateways whose only business is the tunnel this must be empty.
    #[track_caller]
    pub fn foreign_packets(&self) -> Vec<String> {
        self.lines(&format!("not {IKE_OR_NATT} and not {LINK_NOISE}"))
    }

    /// How many ESP-in-UDP packets were captured.
    #[track_caller]
    pub fn esp_in_udp_count(&self) -> usize {
        self.count(ESP_IN_UDP)
    }

    /// How many IKE messages (UDP 500, or UDP 4500 with the non-ESP marker) were captured.
    #[track_caller]
    pub fn ike_count(&self) -> usize {
        self.count(
            "(udp port 500 or (udp port 4500 and ((ip and udp[4:2] > 12 and udp[8:4] == 0) or \
             (ip6 and ip6[6] == 17 and ip6[44:2] > 12 and ip6[48:4] == 0))))",
        )
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.process.stop(Duration::from_secs(5));
        if std::thread::panicking() {
            let out = self.read("");
            dump_log(
                &format!(
                    "capture on {} in {} ({})",
                    self.iface,
                    self.ns,
                    self.file.display()
                ),
                &out.stdout,
                80,
            );
        }
    }
}
