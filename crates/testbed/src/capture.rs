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
    /// A kernel's ICMP "port unreachable" about UDP 500/4500 is not foreign: it answers an IKE or
    /// ESP-in-UDP datagram that arrived after a peer's daemon stopped (e.g. our reply to its
    /// DELETE), and carries nothing of the protected traffic.
    #[track_caller]
    pub fn foreign_packets(&self) -> Vec<String> {
        self.lines(&format!("not {IKE_OR_NATT} and not {LINK_NOISE}"))
            .into_iter()
            .filter(|l| {
                let late_reply = l.contains("unreachable port")
                    && (l.contains("udp port 4500")
                        || l.contains("udp port 500")
                        || l.contains("udp port isakmp")
                        || l.contains("udp port ipsec-nat-t"));
                !late_reply
            })
            .collect()
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

/// `tcpdump -r FILE -n FILTER` (an empty filter matches everything).
pub fn read_pcap(file: &Path, filter: &str) -> Output {
    let file = file.display().to_string();
    let mut args = vec!["-r", file.as_str(), "-n"];
    if !filter.trim().is_empty() {
        args.push(filter);
    }
    cmd::run_args("tcpdump", &args)
}

/// The one-line summaries of the packets in `file` matching `filter`; panics if tcpdump fails.
#[track_caller]
pub fn pcap_lines(file: &Path, filter: &str) -> Vec<String> {
    let out = read_pcap(file, filter);
    assert!(out.ok(), "reading capture {}: {out}", file.display());
    out.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
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

#[cfg(test)]
mod tests {
    //! The filters, run by tcpdump over a pcap built here packet by packet.
    use super::*;

    const V4_A: [u8; 4] = [192, 0, 2, 1];
    const V4_B: [u8; 4] = [192, 0, 2, 2];
    const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const V6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(20 + payload.len()).unwrap();
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
        p.extend_from_slice(&V4_A);
        p.extend_from_slice(&V4_B);
        p.extend_from_slice(payload);
        eth(0x0800, &p)
    }

    fn ipv6(next: u8, dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len()).unwrap();
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&len.to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&V6_A);
        p.extend_from_slice(&dst);
        p.extend_from_slice(payload);
        eth(0x86dd, &p)
    }

    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(8 + payload.len()).unwrap();
        let mut u = Vec::new();
        u.extend_from_slice(&sport.to_be_bytes());
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&len.to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        u
    }

    /// An IKE header (RFC 7296 §3.1) after `prefix` (the non-ESP marker on port 4500).
    fn ike(prefix: &[u8]) -> Vec<u8> {
        let mut m = prefix.to_vec();
        m.extend_from_slice(&[0x11; 16]);
        m.extend_from_slice(&[33, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 28]);
        m
    }

    fn esp() -> Vec<u8> {
        let mut m = vec![0xc1, 0xa2, 0xb3, 0xc4, 0, 0, 0, 1];
        m.extend_from_slice(&[0x55; 40]);
        m
    }

    fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        for v in [0u32, 0, 65535, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for (i, f) in frames.iter().enumerate() {
            let len = u32::try_from(f.len()).unwrap();
            for v in [1_700_000_000u32, u32::try_from(i).unwrap(), len, len] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(f);
        }
        std::fs::write(path, out).unwrap();
    }

    #[test]
    fn filters_classify_the_outer_link_traffic() {
        if !crate::privilege::require_tools(&["tcpdump"]) {
            return;
        }
        let ff02_16 = {
            let mut a = [0u8; 16];
            a[0] = 0xff;
            a[1] = 0x02;
            a[15] = 0x16;
            a
        };
        let frames = vec![
            // link noise: ARP, MLD report (hop-by-hop first), a unicast neighbour advertisement
            eth(
                0x0806,
                &[
                    0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192,
                    0, 2, 2,
                ],
            ),
            ipv6(
                0,
                ff02_16,
                &[58, 0, 5, 2, 0, 0, 1, 0, 143, 0, 0, 0, 0, 0, 0, 0],
            ),
            ipv6(58, V6_B, &[136, 0, 0, 0, 0x60, 0, 0, 0]),
            // IKE: port 500, and port 4500 behind the non-ESP marker, IPv4 and IPv6
            ipv4(17, &udp(500, 500, &ike(&[]))),
            ipv4(17, &udp(4500, 4500, &ike(&[0, 0, 0, 0]))),
            ipv6(17, V6_B, &udp(4500, 4500, &ike(&[0, 0, 0, 0]))),
            // ESP in UDP, IPv4 and IPv6
            ipv4(17, &udp(4500, 4500, &esp())),
            ipv6(17, V6_B, &udp(4500, 4500, &esp())),
            // NAT-keepalive (RFC 3948 §2.3)
            ipv4(17, &udp(4500, 4500, &[0xff])),
            // foreign: an ICMP echo request and DNS over IPv6
            ipv4(1, &[8, 0, 0, 0, 0, 1, 0, 1]),
            ipv6(17, V6_B, &udp(40000, 53, &[0; 12])),
        ];
        let dir = std::env::temp_dir().join(format!("testbed-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.pcap");
        write_pcap(&file, &frames);

        assert_eq!(
            pcap_lines(&file, "").len(),
            frames.len(),
            "tcpdump must read every frame"
        );
        let foreign = pcap_lines(&file, &format!("not {IKE_OR_NATT} and not {LINK_NOISE}"));
        assert_eq!(foreign.len(), 2, "{foreign:#?}");
        assert_eq!(pcap_lines(&file, ESP_IN_UDP).len(), 2);
        assert_eq!(pcap_lines(&file, LINK_NOISE).len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
