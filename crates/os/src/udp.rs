//! A UDP socket for IKE (RFC 7296 §2.11: port 500) and NAT-T (RFC 3948 §2, RFC 7296 §2.23:
//! port 4500, IKE behind the non-ESP marker and ESP-in-UDP).
//!
//! Two things set it apart from `tokio::net::UdpSocket`:
//! - every received datagram reports its *destination* address — the local address the peer sent
//!   to — taken from `IP_PKTINFO` (ip(7)) or `IPV6_RECVPKTINFO` (RFC 3542 §6.1). A socket bound to
//!   a wildcard address needs it: the IKE engine hashes that address into NAT_DETECTION_
//!   DESTINATION_IP (RFC 7296 §2.23) and must answer from it;
//! - a datagram can be sent from an explicit *source* address (an `IP_PKTINFO` / `IPV6_PKTINFO`
//!   control message), so a reply leaves from the address the request came to.
//!
//! One datagram per call. The type is built so `recvmmsg(2)`/`sendmmsg(2)` and UDP GSO/GRO can be
//! added beside [`UdpSocket::recv`]/[`UdpSocket::send`] later (same descriptor, same metadata).

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

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
}

impl Default for UdpOptions {
    fn default() -> Self {
        Self {
            recv_buffer: DEFAULT_BUFFER_SIZE,
            send_buffer: DEFAULT_BUFFER_SIZE,
        }
    }
}

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
}

/// A non-blocking UDP socket registered with the tokio reactor; see the module documentation.
///
/// All methods take `&self`: share it between a receiving and sending task through an `Arc`.
#[derive(Debug)]
pub struct UdpSocket {
    fd: AsyncFd<Socket>,
    local: SocketAddr,
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
    /// `0.0.0.0` separately), asks for packet information on every datagram and sizes the
    /// buffers as `opts` says. Must be called inside a tokio runtime with I/O enabled.
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
        } else {
            sys::setsockopt_int(socket.as_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
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
        socket.bind(&SockAddr::from(addr))?;
        let local = socket.local_addr()?.as_socket().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "bound socket has no IP address")
        })?;
        // SAFETY: `Socket` owns its descriptor, which stays open and the same for as long as the
        // `AsyncFd` holds it: nothing here replaces or closes it (`get_mut` is never used).
        let fd = unsafe { AsyncFd::register(socket) }?;
        Ok(Self { fd, local })
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
        let (control, control_len) = self.control_for(src, dst)?;
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
        let (control, control_len) = self.control_for(src, dst)?;
        let dst = SockAddr::from(dst);
        self.fd.try_io(Interest::WRITABLE, |s| {
            sys::sendmsg(s.as_fd(), buf, &dst, control.prefix(control_len))
        })
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
        })
    }

    /// Checks the address families and builds the source-address control message.
    fn control_for(&self, src: Option<IpAddr>, dst: SocketAddr) -> io::Result<(CmsgBuf, usize)> {
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
