//! Shared harness for the namespace tests: each test runs on its own thread, moved into a fresh
//! private network namespace (`unshare(CLONE_NEWNET)`, which affects only that thread), on a
//! current-thread tokio runtime. The namespace is anonymous and vanishes with the thread and the
//! objects made in it, so nothing needs deleting by name.
//!
//! Without root: with `CI=true` the test FAILS (CI must run these), otherwise it prints
//! `SKIPPED: <reason>` and passes.
#![allow(dead_code)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use os::netns::{self, LOOPBACK_IFINDEX};
use os::Netlink;

/// Upper bound for any single wait in a test: a guard against hanging, never a measurement.
pub const GUARD: Duration = Duration::from_secs(20);

/// Runs `body` in a fresh network namespace with `lo` up. `test` names the test in messages.
pub fn in_netns<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Netlink) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    if !netns::is_root() {
        skip_or_fail(
            test,
            "needs root (CAP_SYS_ADMIN for a network namespace, CAP_NET_ADMIN inside it)",
        );
        return;
    }
    let thread = std::thread::Builder::new()
        .name(format!("os-{test}"))
        .spawn(move || -> Result<(), String> {
            netns::unshare_thread_netns()
                .map_err(|e| format!("cannot create a network namespace: {e}"))?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
            rt.block_on(async move {
                let nl = Netlink::new().expect("netlink socket");
                nl.set_link_up(LOOPBACK_IFINDEX).await.expect("lo up");
                body(nl).await;
            });
            Ok(())
        })
        .expect("spawn test thread");
    match thread.join() {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => skip_or_fail(test, &reason),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn skip_or_fail(test: &str, reason: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: cannot run with CI=true: {reason}");
    }
    println!("SKIPPED: {test}: {reason}");
}

/// Awaits `f`, failing the test if it has not finished within [`GUARD`].
pub async fn guard<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(GUARD, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: nothing after {GUARD:?}"),
    }
}

pub fn v4(s: &str) -> Ipv4Addr {
    s.parse().expect("IPv4 literal")
}

pub fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("IPv6 literal")
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("IP literal")
}

/// The Internet checksum (RFC 1071) over `chunks`, as if concatenated (each chunk even-sized
/// except possibly the last).
fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in chunks {
        for pair in chunk.chunks(2) {
            let word = match pair {
                [a, b] => u16::from_be_bytes([*a, *b]),
                [a] => u16::from_be_bytes([*a, 0]),
                _ => 0,
            };
            sum += u32::from(word);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn udp_header(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).expect("small payload");
    let mut udp = Vec::new();
    udp.extend_from_slice(&sport.to_be_bytes());
    udp.extend_from_slice(&dport.to_be_bytes());
    udp.extend_from_slice(&len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    udp
}

/// An IPv4 packet (RFC 791) carrying a UDP datagram (RFC 768), with both checksums.
pub fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut udp = udp_header(sport, dport, payload);
    let udp_len = u16::try_from(udp.len()).expect("small");
    let pseudo = [
        &src.octets()[..],
        &dst.octets()[..],
        &[0, 17],
        &udp_len.to_be_bytes()[..],
    ]
    .concat();
    let c = checksum(&[&pseudo, &udp]);
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    let total = u16::try_from(20 + udp.len()).expect("small");
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&udp);
    ip
}

/// An IPv6 packet (RFC 8200) carrying a UDP datagram, with the mandatory UDP checksum.
pub fn ipv6_udp(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut udp = udp_header(sport, dport, payload);
    let udp_len = u32::try_from(udp.len()).expect("small");
    let pseudo = [
        &src.octets()[..],
        &dst.octets()[..],
        &udp_len.to_be_bytes()[..],
        &[0, 0, 0, 17],
    ]
    .concat();
    let c = checksum(&[&pseudo, &udp]);
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    let plen = u16::try_from(udp.len()).expect("small");
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&plen.to_be_bytes());
    ip.extend_from_slice(&[17, 64]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    ip.extend_from_slice(&udp);
    ip
}

/// A UDP datagram seen in an IP packet read from the TUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpSeen {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub payload: Vec<u8>,
    /// The UDP checksum verified (or was 0 on IPv4).
    pub checksum_ok: bool,
}

/// Decodes an IPv4 or IPv6 packet carrying UDP (no extension headers); `None` for anything else.
pub fn parse_udp(pkt: &[u8]) -> Option<UdpSeen> {
    let version = pkt.first()? >> 4;
    let (src, dst, udp, pseudo) = match version {
        4 => {
            let ihl = usize::from(pkt.first()? & 0x0f) * 4;
            if *pkt.get(9)? != 17 || checksum(&[pkt.get(..ihl)?]) != 0 {
                return None;
            }
            let total = usize::from(u16::from_be_bytes([*pkt.get(2)?, *pkt.get(3)?]));
            let s: [u8; 4] = pkt.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = pkt.get(16..20)?.try_into().ok()?;
            let udp = pkt.get(ihl..total)?;
            let len = u16::try_from(udp.len()).ok()?;
            let pseudo = [&s[..], &d[..], &[0, 17], &len.to_be_bytes()[..]].concat();
            (IpAddr::from(s), IpAddr::from(d), udp, pseudo)
        }
        6 => {
            if *pkt.get(6)? != 17 {
                return None;
            }
            let plen = usize::from(u16::from_be_bytes([*pkt.get(4)?, *pkt.get(5)?]));
            let s: [u8; 16] = pkt.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = pkt.get(24..40)?.try_into().ok()?;
            let udp = pkt.get(40..40 + plen)?;
            let len = u32::try_from(udp.len()).ok()?;
            let pseudo = [&s[..], &d[..], &len.to_be_bytes()[..], &[0, 0, 0, 17]].concat();
            (IpAddr::from(s), IpAddr::from(d), udp, pseudo)
        }
        _ => return None,
    };
    let stored = u16::from_be_bytes([*udp.get(6)?, *udp.get(7)?]);
    let checksum_ok = (version == 4 && stored == 0) || checksum(&[&pseudo, udp]) == 0;
    Some(UdpSeen {
        src,
        dst,
        sport: u16::from_be_bytes([*udp.first()?, *udp.get(1)?]),
        dport: u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]),
        payload: udp.get(8..)?.to_vec(),
        checksum_ok,
    })
}
