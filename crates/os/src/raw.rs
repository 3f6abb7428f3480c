//! Raw IP sockets for ESP (IP protocol 50, RFC 4303 §2) and AH (IP protocol 51, RFC 4302 §2)
//! outside UDP: what a Child SA uses when no NAT was detected and encapsulation is not forced
//! (RFC 7296 §2.23, RFC 3948 §1).
//!
//! raw(7) and ipv6(7) differ in what a receive returns:
//! - IPv4 (`AF_INET`, `SOCK_RAW`, protocol 50/51) delivers the whole datagram, IP header
//!   included (reassembled by the kernel); [`RawRecv::header`] locates it, the source and
//!   destination are read from it.
//! - IPv6 (`AF_INET6`) delivers only what follows the IPv6 header and its extension headers
//!   (RFC 3542 §3); the destination comes from `IPV6_PKTINFO` (RFC 3542 §6.1), the source from
//!   the socket address, and [`RawRecv::header`] is empty.
//!
//! [`RawSocket::send`] never includes an IP header: the kernel writes it, with the given
//! source address (an `IP_PKTINFO` / `IPV6_PKTINFO` control message, as for the UDP sockets).
//! [`RawSocket::send_ipv4_packet`] sends a whole IPv4 packet (`IP_HDRINCL`), for AH, whose ICV
//! covers the Identification field.
//!
//! A raw socket sees every packet of its protocol that reaches the host, whatever the
//! destination address; the data plane keeps those with an SPI it knows. On a kernel without
//! an ESP/AH handler the raw socket's presence also stops the "protocol unreachable" answer.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::cmsg::{self, CmsgBuf};
use crate::sys;

/// IP protocol number of ESP (RFC 4303 §2).
pub const IPPROTO_ESP: u8 = 50;
/// IP protocol number of AH (RFC 4302 §2).
pub const IPPROTO_AH: u8 = 51;

/// Length of an IPv4 header without options (RFC 791 §3.1).
const IPV4_MIN_HEADER: usize = 20;

/// What [`RawSocket::recv`] learned about one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecv {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The packet's source address.
    pub src: IpAddr,
    /// The packet's destination address (one of ours).
    pub dst: IpAddr,
    /// Where the IP header is in the buffer (IPv4 only; empty for IPv6, whose header the
    /// kernel keeps).
    pub header: Range<usize>,
    /// Where the protocol's own bytes (the ESP or AH header onwards) are in the buffer.
    pub payload: Range<usize>,
    /// The outer TOS byte (IPv4) or Traffic Class (IPv6, `IPV6_RECVTCLASS`), for RFC 6040
    /// decapsulation.
    pub tos: u8,
    /// The packet was longer than the buffer (`MSG_TRUNC`): its tail is missing.
    pub truncated: bool,
}

/// A non-blocking raw IP socket of one family and protocol, registered with tokio.
#[derive(Debug)]
pub struct RawSocket {
    fd: AsyncFd<Socket>,
    v6: bool,
    protocol: u8,
    /// `IP_HDRINCL` is on: every send carries its own IPv4 header
    /// ([`RawSocket::send_ipv4_packet`]; set on first use, never cleared).
    header_included: std::sync::atomic::AtomicBool,
}

impl RawSocket {
    /// Opens a raw socket for IP protocol `protocol` ([`IPPROTO_ESP`], [`IPPROTO_AH`]) of the
    /// IPv6 family if `v6`, else IPv4, in the calling thread's network namespace. Needs
    /// `CAP_NET_RAW`. `buffer` is the receive and send buffer size asked for (forced past the
    /// sysctl limits when `CAP_NET_ADMIN` allows). Must be called inside a tokio runtime.
    pub fn open(v6: bool, protocol: u8, buffer: usize) -> io::Result<Self> {
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket = Socket::new(
            domain,
            Type::RAW.nonblocking().cloexec(),
            Some(Protocol::from(i32::from(protocol))),
        )?;
        // (IPV6_V6ONLY does not apply: a raw IPv6 socket never sees IPv4, and Linux refuses
        // the option on a socket that has a protocol number.)
        if v6 {
            sys::setsockopt_int(
                socket.as_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_RECVPKTINFO,
                1,
            )?;
            // The Traffic Class (RFC 3542 §6.5), for RFC 6040 decapsulation; IPv4 has it in the
            // header the socket delivers.
            sys::setsockopt_int(socket.as_fd(), libc::IPPROTO_IPV6, libc::IPV6_RECVTCLASS, 1)?;
        }
        let size = libc::c_int::try_from(buffer).unwrap_or(libc::c_int::MAX / 2);
        for (force, plain) in [
            (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
            (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
        ] {
            if sys::setsockopt_int(socket.as_fd(), libc::SOL_SOCKET, force, size).is_err() {
                let _ = sys::setsockopt_int(socket.as_fd(), libc::SOL_SOCKET, plain, size);
            }
        }
        // SAFETY: `Socket` owns its descriptor, which stays open and the same for as long as the
        // `AsyncFd` holds it: nothing here replaces or closes it (`get_mut` is never used).
        let fd = unsafe { AsyncFd::register(socket) }?;
        Ok(Self {
            fd,
            v6,
            protocol,
            header_included: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether this is the IPv6 socket.
    pub fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// The IP protocol number it carries.
    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    /// Waits for one packet and copies it into `buf`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<RawRecv> {
        self.fd
            .async_io(Interest::READABLE, |s| self.recv_now(s.as_fd(), buf))
            .await
    }

    /// Like [`RawSocket::recv`] but never waits ([`io::ErrorKind::WouldBlock`] when none).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<RawRecv> {
        self.fd
            .try_io(Interest::READABLE, |s| self.recv_now(s.as_fd(), buf))
    }

    /// Sends `payload` (an ESP or AH packet, from its header on) to `dst` in one IP packet
    /// the kernel builds, from `src` when given (an address of this host), with `tos` as the
    /// header's TOS / Traffic Class (RFC 6040 §4.1: the outer ECN and DSCP the data plane
    /// chose). Errors as for `sendmsg(2)` on a raw socket; [`io::ErrorKind::InvalidInput`]
    /// for another family.
    pub async fn send(
        &self,
        payload: &[u8],
        src: Option<IpAddr>,
        dst: IpAddr,
        tos: u8,
    ) -> io::Result<usize> {
        let (control, len) = self.control_for(src, dst, tos)?;
        let to = SockAddr::from(SocketAddr::new(dst, 0));
        self.fd
            .async_io(Interest::WRITABLE, |s| {
                sys::sendmsg(s.as_fd(), payload, &to, control.prefix(len))
            })
            .await
    }

    /// Sends a whole IPv4 packet, IP header included, as written (`IP_HDRINCL`, raw(7)): AH's
    /// ICV covers the header's Identification field (RFC 4302 §3.3.3.1.1.1), which the kernel
    /// would choose itself otherwise. The kernel still fills in the header checksum and the
    /// total length, and the Identification only when it is zero. The destination is the
    /// header's. IPv4 sockets only ([`io::ErrorKind::InvalidInput`] otherwise).
    pub async fn send_ipv4_packet(&self, packet: &[u8]) -> io::Result<usize> {
        let dst = match (self.v6, parse_ipv4(packet)) {
            (false, Some((_, dst, _, _, _))) => dst,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not an IPv4 packet for an IPv4 raw socket",
                ))
            }
        };
        if !self
            .header_included
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            sys::setsockopt_int(self.as_fd(), libc::IPPROTO_IP, libc::IP_HDRINCL, 1)?;
            self.header_included
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let to = SockAddr::from(SocketAddr::new(IpAddr::V4(dst), 0));
        self.fd
            .async_io(Interest::WRITABLE, |s| {
                sys::sendmsg(s.as_fd(), packet, &to, &[])
            })
            .await
    }

    fn control_for(
        &self,
        src: Option<IpAddr>,
        dst: IpAddr,
        tos: u8,
    ) -> io::Result<(CmsgBuf, usize)> {
        let wrong = |a: IpAddr| a.is_ipv6() != self.v6;
        if wrong(dst) || src.is_some_and(wrong) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "address of the other family than the raw socket's",
            ));
        }
        let mut control = CmsgBuf::new();
        let len = match src {
            Some(ip) if !ip.is_unspecified() => cmsg::write_src_pktinfo(&mut control, ip)
                .ok_or_else(|| io::Error::other("control buffer too small"))?,
            _ => 0,
        };
        let len = match tos {
            0 => len,
            t => cmsg::push_tos(&mut control, len, self.v6, t)
                .ok_or_else(|| io::Error::other("control buffer too small"))?,
        };
        Ok((control, len))
    }

    fn recv_now(&self, fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<RawRecv> {
        let mut control = CmsgBuf::new();
        let r = sys::recvmsg(fd, buf, control.as_mut_slice())?;
        let truncated = r.flags & libc::MSG_TRUNC != 0;
        let data = buf.get(..r.len).unwrap_or(buf);
        if self.v6 {
            let src = r
                .src
                .map(|s| s.ip())
                .ok_or_else(|| bad("no source address"))?;
            let dst = cmsg::parse_pktinfo(control.prefix(r.control_len))
                .map(|i| i.addr)
                .ok_or_else(|| bad("no IPV6_PKTINFO"))?;
            return Ok(RawRecv {
                len: r.len,
                src,
                dst,
                header: 0..0,
                payload: 0..r.len,
                tos: cmsg::parse_tos(control.prefix(r.control_len)).unwrap_or(0),
                truncated,
            });
        }
        let (src, dst, tos, ihl, total) = parse_ipv4(data).ok_or_else(|| bad("bad IPv4 header"))?;
        Ok(RawRecv {
            len: r.len,
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            header: 0..ihl,
            payload: ihl..total.min(r.len),
            tos,
            truncated,
        })
    }
}

fn bad(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Source, destination, TOS, header length and total length of an IPv4 header at the start
/// of `p` (RFC 791 §3.1); `None` when it is not one or its lengths do not fit `p`. The kernel
/// hands raw sockets the total length in network order, as received.
fn parse_ipv4(p: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, u8, usize, usize)> {
    let first = *p.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < IPV4_MIN_HEADER || ihl > p.len() {
        return None;
    }
    let tos = *p.get(1)?;
    let total = usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]));
    if total < ihl {
        return None;
    }
    let a = |at: usize| -> Option<Ipv4Addr> {
        let b: [u8; 4] = p.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    };
    Some((a(12)?, a(16)?, tos, ihl, total))
}

/// Sets `SO_MARK` (socket(7)) on any socket: packets it sends carry the firewall mark `mark`,
/// which policy-routing rules can match (`ip rule ... fwmark`). Needs `CAP_NET_ADMIN`.
pub fn set_mark(fd: BorrowedFd<'_>, mark: u32) -> io::Result<()> {
    sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_MARK, mark as libc::c_int)
}

impl AsFd for RawSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.get_ref().as_fd()
    }
}

impl AsRawFd for RawSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_parsed_and_lengths_checked() {
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[1] = 0x02;
        p[2..4].copy_from_slice(&28u16.to_be_bytes());
        p[12..16].copy_from_slice(&[192, 0, 2, 1]);
        p[16..20].copy_from_slice(&[192, 0, 2, 2]);
        let (s, d, tos, ihl, total) = parse_ipv4(&p).unwrap();
        assert_eq!(
            (s, d),
            (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2))
        );
        assert_eq!((tos, ihl, total), (2, 20, 28));
        // IHL beyond the buffer, IHL below 5, version 6, total below IHL, empty.
        p[0] = 0x4f;
        assert!(parse_ipv4(&p).is_none());
        p[0] = 0x44;
        assert!(parse_ipv4(&p).is_none());
        p[0] = 0x65;
        assert!(parse_ipv4(&p).is_none());
        p[0] = 0x45;
        p[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(parse_ipv4(&p).is_none());
        assert!(parse_ipv4(&[]).is_none());
    }

    /// Runs `test` on a current-thread runtime in a fresh network namespace with `lo` up.
    /// Needs root: without it the test says it skipped, and under CI=true fails.
    fn in_loopback_netns<F>(test: fn() -> F)
    where
        F: std::future::Future<Output = ()> + 'static,
    {
        if sys::geteuid() != 0 {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "needs root under CI"
            );
            eprintln!("skipped: needs root");
            return;
        }
        std::thread::spawn(move || {
            crate::netns::unshare_thread_netns().unwrap();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let nl = crate::Netlink::new().unwrap();
                nl.set_link_up(crate::netns::LOOPBACK_IFINDEX)
                    .await
                    .unwrap();
                test().await;
            });
        })
        .join()
        .unwrap();
    }

    /// Two raw ESP sockets in a fresh namespace exchange a packet over loopback, whether or
    /// not the kernel has an ESP handler.
    #[test]
    fn esp_over_loopback_in_a_namespace() {
        in_loopback_netns(|| async {
            for v6 in [false, true] {
                let s = RawSocket::open(v6, IPPROTO_ESP, 1 << 20).unwrap();
                let lo: IpAddr = if v6 {
                    "::1".parse().unwrap()
                } else {
                    "127.0.0.1".parse().unwrap()
                };
                let pkt = [0x00, 0x00, 0x10, 0x01, 0, 0, 0, 1, 0xaa, 0xbb];
                s.send(&pkt, Some(lo), lo, 0xb9).await.unwrap();
                let mut buf = vec![0u8; 2048];
                let r = tokio::time::timeout(std::time::Duration::from_secs(5), s.recv(&mut buf))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(&buf[r.payload.clone()], &pkt, "v6={v6}");
                assert_eq!((r.src, r.dst), (lo, lo));
                assert_eq!(r.tos, 0xb9, "DSCP EF + ECT(1) both ways, v6={v6}");
                assert_eq!(r.header.len(), if v6 { 0 } else { 20 });
                assert!(!r.truncated);
                assert!(s
                    .send(
                        &pkt,
                        None,
                        if v6 {
                            "127.0.0.1".parse().unwrap()
                        } else {
                            "::1".parse().unwrap()
                        },
                        0
                    )
                    .await
                    .is_err());
            }
        });
    }

    /// An AH socket sends a whole IPv4 packet as written: the receiver sees our Identification
    /// (which AH's ICV covers), our source and destination; the kernel fixes the checksum.
    #[test]
    fn whole_ipv4_packet_keeps_its_identification() {
        in_loopback_netns(|| async {
            let s = RawSocket::open(false, IPPROTO_AH, 1 << 20).unwrap();
            let mut pkt = vec![0u8; 20];
            pkt[0] = 0x45;
            pkt[2..4].copy_from_slice(&32u16.to_be_bytes());
            pkt[4..6].copy_from_slice(&0x5241u16.to_be_bytes());
            pkt[8] = 64;
            pkt[9] = IPPROTO_AH;
            pkt[12..16].copy_from_slice(&[127, 0, 0, 1]);
            pkt[16..20].copy_from_slice(&[127, 0, 0, 1]);
            pkt.extend_from_slice(&[4, 1, 0, 0, 0, 0, 0x10, 1, 0, 0, 0, 1]);
            assert_eq!(s.send_ipv4_packet(&pkt).await.unwrap(), 32);
            let mut buf = vec![0u8; 2048];
            let r = tokio::time::timeout(std::time::Duration::from_secs(5), s.recv(&mut buf))
                .await
                .unwrap()
                .unwrap();
            let got = &buf[..r.payload.end];
            assert_eq!(got.len(), 32);
            assert_eq!(&got[4..6], &pkt[4..6], "Identification kept");
            assert_eq!(&got[12..20], &pkt[12..20]);
            assert_eq!(&got[20..], &pkt[20..]);
            assert_ne!(&got[10..12], &[0, 0], "checksum filled in");
            // Not an IPv4 packet, and an IPv6 socket: refused.
            assert!(s.send_ipv4_packet(&pkt[20..]).await.is_err());
            let s6 = RawSocket::open(true, IPPROTO_AH, 1 << 20).unwrap();
            assert!(s6.send_ipv4_packet(&pkt).await.is_err());
        });
    }
}
