//! The set of UDP sockets the daemon listens on: for every listen address, one socket on the IKE
//! port (RFC 7296 §2.11, 500) and one on the NAT-T port (RFC 3948 §2, 4500).
//!
//! `docs/config.md`: `[daemon] listen` (default `0.0.0.0` and `::`), `ike_port`, `natt_port`.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crate::udp::{UdpOptions, UdpSocket};

/// Default IKE port (RFC 7296 §2.11).
pub const IKE_PORT: u16 = 500;
/// Default NAT-T port (RFC 3948 §2, RFC 7296 §2.23).
pub const NATT_PORT: u16 = 4500;

/// Which of the two ports a socket serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortKind {
    /// The IKE port: plain IKE messages.
    Ike,
    /// The NAT-T port: IKE messages after the 4-byte non-ESP marker, and ESP-in-UDP
    /// (RFC 3948 §2.2).
    Natt,
}

/// What to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketsConfig {
    /// Local addresses to bind; `0.0.0.0` and `::` are the wildcards.
    pub listen: Vec<IpAddr>,
    /// The IKE port.
    pub ike_port: u16,
    /// The NAT-T port; must differ from `ike_port`.
    pub natt_port: u16,
    /// Buffer sizes for every socket.
    pub udp: UdpOptions,
}

impl Default for SocketsConfig {
    /// Both wildcards, ports 500 and 4500, default buffers.
    fn default() -> Self {
        Self {
            listen: vec![
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            ],
            ike_port: IKE_PORT,
            natt_port: NATT_PORT,
            udp: UdpOptions::default(),
        }
    }
}

/// One bound socket of the set.
#[derive(Debug, Clone)]
pub struct BoundSocket {
    /// The port it serves.
    pub kind: PortKind,
    /// The socket; clone the `Arc` to hand it to a task.
    pub socket: Arc<UdpSocket>,
}

/// An IPv6 address that could not be bound, and why.
#[derive(Debug)]
pub struct BindFailure {
    /// The address and port.
    pub addr: SocketAddr,
    /// The error from `socket(2)` or `bind(2)`.
    pub error: io::Error,
}

impl fmt::Display for BindFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot bind UDP {}: {}", self.addr, self.error)
    }
}

/// The daemon's IKE and NAT-T sockets.
#[derive(Debug)]
pub struct Sockets {
    bound: Vec<BoundSocket>,
    skipped: Vec<BindFailure>,
}

impl Sockets {
    /// Binds, for each listen address in order, the IKE port then the NAT-T port.
    ///
    /// An IPv6 address whose bind fails because IPv6 is unavailable (`EAFNOSUPPORT`,
    /// `EPROTONOSUPPORT`: IPv6 disabled in the kernel; `EADDRNOTAVAIL`: the address is not on
    /// this host, e.g. IPv6 disabled by sysctl) is skipped and reported in
    /// [`Sockets::skipped`] (both of its ports); every other failure is an error naming the
    /// address, as is a set where nothing could be bound. Must be called inside a tokio runtime.
    pub fn bind(config: &SocketsConfig) -> io::Result<Self> {
        if config.ike_port == config.natt_port {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the IKE and NAT-T ports must differ (both are {})",
                    config.ike_port
                ),
            ));
        }
        let mut bound = Vec::new();
        let mut skipped = Vec::new();
        for &ip in &config.listen {
            let ports = [
                (PortKind::Ike, config.ike_port),
                (PortKind::Natt, config.natt_port),
            ];
            let mut ip_skipped = None;
            for (kind, port) in ports {
                let addr = SocketAddr::new(ip, port);
                if let Some(errno) = ip_skipped {
                    skipped.push(BindFailure {
                        addr,
                        error: io::Error::from_raw_os_error(errno),
                    });
                    continue;
                }
                match UdpSocket::bind_with(addr, &config.udp) {
                    Ok(socket) => bound.push(BoundSocket {
                        kind,
                        socket: Arc::new(socket),
                    }),
                    Err(error) if ip.is_ipv6() && ipv6_unavailable(&error) => {
                        tracing::warn!(%addr, %error, "IPv6 unavailable, not listening");
                        ip_skipped = error.raw_os_error();
                        skipped.push(BindFailure { addr, error });
                    }
                    Err(error) => {
                        return Err(io::Error::new(
                            error.kind(),
                            format!("cannot bind UDP {addr}: {error}"),
                        ))
                    }
                }
            }
        }
        if bound.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                "no IKE socket could be bound (no usable listen address)",
            ));
        }
        Ok(Self { bound, skipped })
    }

    /// Every bound socket, in the order bound.
    pub fn sockets(&self) -> &[BoundSocket] {
        &self.bound
    }

    /// The IPv6 addresses that were skipped, with the reason (empty when all bound).
    pub fn skipped(&self) -> &[BindFailure] {
        &self.skipped
    }

    /// The socket to send from when the local address is `src` and the port is of `kind`: the
    /// one bound to exactly `src` if any, else the wildcard socket of `src`'s family. Pass the
    /// chosen `src` to [`UdpSocket::send`] too when the socket is a wildcard.
    pub fn for_source(&self, src: IpAddr, kind: PortKind) -> Option<&Arc<UdpSocket>> {
        let of_kind = || self.bound.iter().filter(move |b| b.kind == kind);
        of_kind()
            .find(|b| b.socket.local_addr().ip() == src)
            .or_else(|| {
                of_kind().find(|b| {
                    let local = b.socket.local_addr().ip();
                    local.is_unspecified() && local.is_ipv4() == src.is_ipv4()
                })
            })
            .map(|b| &b.socket)
    }
}

/// Whether a bind error means "no IPv6 here" rather than a real conflict.
fn ipv6_unavailable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAFNOSUPPORT) | Some(libc::EPROTONOSUPPORT) | Some(libc::EADDRNOTAVAIL)
    )
}
