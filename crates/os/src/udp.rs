//! A UDP socket for IKE (RFC 7296 §2.11: port 500) and NAT-T (RFC 3948 §2, RFC 7296 §2.23:
//! port 4500, IKE behind the non-ESP marker and ESP-in-UDP).
//!
//! Two things set it apart from `tokio::net::UdpSocket`:
//! - every received datagram reports its *destination* address — the local address the peer sent
//!   to — taken from `IP_PKTINFO` (ip(7)) or `IPV6_RECVPKTINFO` (RFC 3542 §6.1). A socket bound to
//!   a wildcard address needs it: the IKE engine hashes that address into NAT_DETECTION_
//!   DESTINATION_IP (RFC 7296 §2.23) and must answer from it;
//! - a datagram can be sent from an explicit *source* address (an `IP_PKTINFO` / `IPV6_PKTINFO`
//!   control message), so a reply leaves from the address the request came to;
//! - the IP header's TOS / Traffic Class octet (DSCP and ECN, RFC 2474 §3, RFC 3168 §5) is set
//!   per send ([`UdpSocket::send_segments_tos`]: an `IP_TOS` / `IPV6_TCLASS` control message,
//!   RFC 3542 §6.5) and reported per receive ([`RecvMeta::tos`]: `IP_RECVTOS` /
//!   `IPV6_RECVTCLASS`), so ESP in UDP can carry the tunnel's ECN and DSCP (RFC 6040 §4,
//!   RFC 2983 §3).
//!
//! Batching (udp(7)): with [`UdpOptions::gro`] (the default) the kernel may hand one `recv` several
//! datagrams of one flow coalesced (UDP GRO): [`RecvMeta::stride`] is then the size of each, the
//! last one possibly shorter; split with [`RecvMeta::segments`]. [`UdpSocket::send_segments`] sends
//! a buffer of equal-sized datagrams with one system call (UDP GSO, `UDP_SEGMENT`), falling back
//! to one `sendmsg(2)` per datagram where the kernel refuses GSO.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::cmsg::{self, CmsgBuf};
use crate::sys;

/// Default size asked for each of the receive and send buffers (4 MiB).
///
/// The kernel doubles the value it is given (socket(7), `SO_RCVBUF`) and charges only memory in
/// use.
pub const DEFAULT_BUFFER_SIZE: usize = 4 << 20;

/// Options for [`UdpSocket::bind_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpOptions {
    /// Receive buffer size asked for (`SO_RCVBUFFORCE`, falling back to `SO_RCVBUF`, which the
    /// kernel caps at `net.core.rmem_max`).
    pub recv_buffer: usize,
    /// Send buffer size asked for (`SO_SNDBUFFORCE`, falling back to `SO_SNDBUF`, capped at
    /// `net.core.wmem_max`).
    pub send_buffer: usize,
    /// Ask for UDP GRO (`UDP_GRO`): one receive may return several coalesced datagrams
    /// ([`RecvMeta::stride`]). Ignored where the kernel lacks it.
    pub gro: bool,
}

impl Default for UdpOptions {
    fn default() -> Self {
        Self {
            recv_buffer: DEFAULT_BUFFER_SIZE,
            send_buffer: DEFAULT_BUFFER_SIZE,
            gro: true,
        }
    }
}

/// The most datagrams one [`UdpSocket::send_segments`] call may carry (the kernel's
/// `UDP_MAX_SEGMENTS` is 64 on older kernels, 128 on newer ones).
pub const MAX_GSO_SEGMENTS: usize = 64;
/// The most bytes one [`UdpSocket::send_segments`] call may carry (one IP packet's worth, with
/// room for the IPv4 and UDP headers).
pub const MAX_GSO_BYTES: usize = 65_000;

/// What [`UdpSocket::recv`] learned about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes of the datagram copied into the buffer.
    pub len: usize,
    /// The sender: the source address and port in the datagram's IP and UDP headers.
    pub src: SocketAddr,
    /// The local address and port the datagram was sent to: the destination address of its IP
    /// header (from packet information; the socket's bound address if the kernel gave none) and
    /// the socket's port. An IPv6 link-local address carries the arrival interface as scope id.
    pub dst: SocketAddr,
    /// The index of the interface the datagram arrived on (0 if unknown).
    pub ifindex: u32,
    /// The datagram was longer than the buffer and its tail was dropped (`MSG_TRUNC`).
    pub truncated: bool,
    /// With UDP GRO, the buffer may hold several datagrams from `src` back to back, each
    /// `stride` bytes long except the last (which may be shorter); `stride == len` for a
    /// single datagram.
    pub stride: usize,
    /// The TOS (IPv4) / Traffic Class (IPv6) octet of the datagram's IP header: DSCP and ECN
    /// field (0 if the kernel gave none). The kernel coalesces (GRO) only datagrams whose
    /// headers agree on it, so it holds for every segment.
    pub tos: u8,
}

impl RecvMeta {
    /// The datagrams in `buf` (the buffer this meta describes): `len` bytes cut every `stride`.
    pub fn segments<'a>(&self, buf: &'a [u8]) -> std::slice::Chunks<'a, u8> {
        let data = buf.get(..self.len).unwrap_or(buf);
        data.chunks(self.stride.max(1))
    }
}

/// A non-blocking UDP socket registered with the tokio reactor; see the module documentation.
///
/// All methods take `&self`: share it between a receiving and sending task through an `Arc`.
#[derive(Debug)]
pub struct UdpSocket {
    fd: AsyncFd<Socket>,
    local: SocketAddr,
    /// False once the kernel refused a GSO send: segments are then sent one by one.
    gso: AtomicBool,
}

impl UdpSocket {
    /// Binds to `addr` with [`UdpOptions::default`]; see [`UdpSocket::bind_with`].
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        Self::bind_with(addr, &UdpOptions::default())
    }

    /// Creates a UDP socket in the calling thread's network namespace and binds it to `addr`
    /// (port 0 picks a free port).
    ///
    /// Sets `SO_REUSEADDR`, `IPV6_V6ONLY` on IPv6 (an IPv6 socket never sees IPv4 traffic; bind
    /// `0.0.0.0` separately), asks for packet information and the TOS / Traffic Class on every
    /// datagram and sizes the buffers as `opts` says. Must be called inside a tokio runtime with I/O enabled.
    ///
    /// Binding ports below 1024 needs `CAP_NET_BIND_SERVICE`; forcing buffer sizes past the
    /// sysctl limits needs `CAP_NET_ADMIN` (without it the limits apply, silently).
    pub fn bind_with(addr: SocketAddr, opts: &UdpOptions) -> io::Result<Self> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::UDP),
        )?;
        socket.set_reuse_address(true)?;
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
            sys::setsockopt_int(
                socket.as_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_RECVPKTINFO,
                1,
            )?;
            sys::setsockopt_int(socket.as_fd(), libc::IPPROTO_IPV6, libc::IPV6_RECVTCLASS, 1)?;
        } else {
            sys::setsockopt_int(socket.as_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
            sys::setsockopt_int(socket.as_fd(), libc::IPPROTO_IP, libc::IP_RECVTOS, 1)?;
        }
        force_buffer(
            socket.as_fd(),
            libc::SO_RCVBUFFORCE,
            libc::SO_RCVBUF,
            opts.recv_buffer,
        );
        force_buffer(
            socket.as_fd(),
            libc::SO_SNDBUFFORCE,
            libc::SO_SNDBUF,
            opts.send_buffer,
        );
        if opts.gro {
            if let Err(e) = sys::setsockopt_int(socket.as_fd(), libc::SOL_UDP, libc::UDP_GRO, 1) {
                tracing::debug!(error = %e, "UDP GRO unavailable");
            }
        }
        socket.bind(&SockAddr::from(addr))?;
        let local = socket.local_addr()?.as_socket().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "bound socket has no IP address")
        })?;
        // SAFETY: `Socket` owns its descriptor, which stays open and the same for as long as the
        // `AsyncFd` holds it: nothing here replaces or closes it (`get_mut` is never used).
        let fd = unsafe { AsyncFd::register(socket) }?;
        Ok(Self {
            fd,
            local,
            gso: AtomicBool::new(true),
        })
    }

    /// The address and port the socket is bound to (a wildcard address stays a wildcard).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Waits for one datagram, copies it into `buf` and says where it came from and which local
    /// address it was sent to.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        self.fd
            .async_io(Interest::READABLE, |s| self.recv_now(s.as_fd(), buf))
            .await
    }

    /// Like [`UdpSocket::recv`] but never waits: [`io::ErrorKind::WouldBlock`] when no datagram
    /// is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        self.fd
            .try_io(Interest::READABLE, |s| self.recv_now(s.as_fd(), buf))
    }

    /// Sends `buf` as one datagram to `dst`, from the local address `src` if given (it must be an
    /// address of this host, of the socket's family; an unspecified address means "let routing
    /// choose", as `None` does). The source port is the socket's. Returns the bytes sent.
    ///
    /// Errors: [`io::ErrorKind::InvalidInput`] if `dst` or `src` is of the other address family;
    /// the kernel's error otherwise (e.g. `EINVAL` for a `src` that is not local, `EMSGSIZE`,
    /// `ENETUNREACH`).
    pub async fn send(
        &self,
        buf: &[u8],
        src: Option<IpAddr>,
        dst: SocketAddr,
    ) -> io::Result<usize> {
        self.send_tos(buf, src, dst, 0).await
    }

    /// [`UdpSocket::send`] with `tos` as the TOS / Traffic Class (0: the socket's default, 0).
    async fn send_tos(
        &self,
        buf: &[u8],
        src: Option<IpAddr>,
        dst: SocketAddr,
        tos: u8,
    ) -> io::Result<usize> {
        let (control, control_len) = self.control_for(src, dst, tos)?;
        let dst = SockAddr::from(dst);
        self.fd
            .async_io(Interest::WRITABLE, |s| {
                sys::sendmsg(s.as_fd(), buf, &dst, control.prefix(control_len))
            })
            .await
    }

    /// Like [`UdpSocket::send`] but never waits: [`io::ErrorKind::WouldBlock`] when the send
    /// buffer is full.
    pub fn try_send(&self, buf: &[u8], src: Option<IpAddr>, dst: SocketAddr) -> io::Result<usize> {
        let (control, control_len) = self.control_for(src, dst, 0)?;
        let dst = SockAddr::from(dst);
        self.fd.try_io(Interest::WRITABLE, |s| {
            sys::sendmsg(s.as_fd(), buf, &dst, control.prefix(control_len))
        })
    }

    /// Sends `buf` as datagrams of `segment` bytes each (the last may be shorter) to `dst`,
    /// from `src` as in [`UdpSocket::send`], with one system call where the kernel supports UDP
    /// GSO (udp(7) `UDP_SEGMENT`), else one call per datagram. At most [`MAX_GSO_SEGMENTS`]
    /// datagrams and [`MAX_GSO_BYTES`] bytes per call. Returns the bytes sent.
    pub async fn send_segments(
        &self,
        buf: &[u8],
        segment: usize,
        src: Option<IpAddr>,
        dst: SocketAddr,
    ) -> io::Result<usize> {
        self.send_segments_tos(buf, segment, src, dst, 0).await
    }

    /// [`UdpSocket::send_segments`] with `tos` as the TOS (IPv4) / Traffic Class (IPv6) octet of
    /// every datagram's IP header (an `IP_TOS` / `IPV6_TCLASS` control message on the same
    /// system call, RFC 3542 §6.5; none for 0, the socket's default). ESP in UDP passes
    /// `esp::Outbound::tos` here: the tunnel's ECN (RFC 6040 §4.1) and DSCP (RFC 2983 §3).
    pub async fn send_segments_tos(
        &self,
        buf: &[u8],
        segment: usize,
        src: Option<IpAddr>,
        dst: SocketAddr,
        tos: u8,
    ) -> io::Result<usize> {
        let segment = segment.max(1);
        if buf.len() <= segment {
            return self.send_tos(buf, src, dst, tos).await;
        }
        if buf.len() > MAX_GSO_BYTES || buf.len().div_ceil(segment) > MAX_GSO_SEGMENTS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "too many bytes or segments for one GSO send",
            ));
        }
        if self.gso.load(Ordering::Relaxed) {
            let size = u16::try_from(segment)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "segment too big"))?;
            let (mut control, used) = self.control_for(src, dst, tos)?;
            let used = cmsg::push_udp_segment(&mut control, used, size)
                .ok_or_else(|| io::Error::other("control buffer too small for UDP_SEGMENT"))?;
            let to = SockAddr::from(dst);
            let r = self
                .fd
                .async_io(Interest::WRITABLE, |s| {
                    sys::sendmsg(s.as_fd(), buf, &to, control.prefix(used))
                })
                .await;
            match r {
                // EIO: the route's device cannot do GSO (checksum offload off);
                // ENOPROTOOPT: a kernel without UDP_SEGMENT.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EIO) | Some(libc::ENOPROTOOPT)) => {
                    tracing::debug!(error = %e, "UDP GSO refused, sending datagrams one by one");
                    self.gso.store(false, Ordering::Relaxed);
                }
                r => return r,
            }
        }
        let mut total = 0;
        for d in buf.chunks(segment) {
            total += self.send_tos(d, src, dst, tos).await?;
        }
        Ok(total)
    }

    /// The receive buffer size the kernel granted (`SO_RCVBUF`, doubled by the kernel).
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        self.fd.get_ref().recv_buffer_size()
    }

    /// The send buffer size the kernel granted (`SO_SNDBUF`, doubled by the kernel).
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        self.fd.get_ref().send_buffer_size()
    }

    /// One `recvmsg(2)` and the decoding of its result.
    fn recv_now(&self, fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<RecvMeta> {
        let mut control = CmsgBuf::new();
        let r = sys::recvmsg(fd, buf, control.as_mut_slice())?;
        let src = r.src.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "datagram without an IP source address",
            )
        })?;
        let info = cmsg::parse_pktinfo(control.prefix(r.control_len));
        let tos = cmsg::parse_tos(control.prefix(r.control_len)).unwrap_or(0);
        let stride = cmsg::parse_gro(control.prefix(r.control_len))
            .filter(|s| *s < r.len)
            .unwrap_or(r.len);
        let ifindex = info.map_or(0, |i| i.ifindex);
        let dst_ip = info.map_or(self.local.ip(), |i| i.addr);
        let dst = match dst_ip {
            IpAddr::V6(a) if a.is_unicast_link_local() => {
                SocketAddr::V6(SocketAddrV6::new(a, self.local.port(), 0, ifindex))
            }
            ip => SocketAddr::new(ip, self.local.port()),
        };
        Ok(RecvMeta {
            len: r.len,
            src,
            dst,
            ifindex,
            truncated: r.flags & libc::MSG_TRUNC != 0,
            stride,
            tos,
        })
    }

    /// Checks the address families and builds the source-address and TOS control messages
    /// (each only when needed: a `src` of `None` or unspecified, a `tos` of 0 add nothing).
    fn control_for(
        &self,
        src: Option<IpAddr>,
        dst: SocketAddr,
        tos: u8,
    ) -> io::Result<(CmsgBuf, usize)> {
        if dst.is_ipv4() != self.local.is_ipv4() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "destination {dst} is not of the family of the socket bound to {}",
                    self.local
                ),
            ));
        }
        let mut control = CmsgBuf::new();
        let len = match src {
            Some(ip) if ip.is_unspecified() => 0,
            Some(ip) if ip.is_ipv4() != self.local.is_ipv4() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "source {ip} is not of the family of the socket bound to {}",
                        self.local
                    ),
                ))
            }
            Some(ip) => cmsg::write_src_pktinfo(&mut control, ip).ok_or_else(|| {
                io::Error::other("control buffer too small for packet information")
            })?,
            None => 0,
        };
        let len = if tos == 0 {
            len
        } else {
            cmsg::push_tos(&mut control, len, self.local.is_ipv6(), tos)
                .ok_or_else(|| io::Error::other("control buffer too small for the TOS"))?
        };
        Ok((control, len))
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.get_ref().as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Sets a buffer size with the `*FORCE` option (needs `CAP_NET_ADMIN`, ignores the sysctl cap),
/// falling back to the plain option when that is refused. Failures are logged, not returned: a
/// smaller buffer only costs drops under load.
fn force_buffer(fd: BorrowedFd<'_>, force: libc::c_int, plain: libc::c_int, size: usize) {
    let value = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX / 2);
    if sys::setsockopt_int(fd, libc::SOL_SOCKET, force, value).is_ok() {
        return;
    }
    if let Err(e) = sys::setsockopt_int(fd, libc::SOL_SOCKET, plain, value) {
        tracing::debug!(error = %e, size, "could not set a UDP socket buffer size");
    }
}
