//! Rampart's Linux drivers: thin, dumb wrappers over the kernel.
//!
//! This crate knows nothing of IKE or ESP. It gives the daemon (a tokio application) four things:
//!
//! - [`tun`]: a layer-3 TUN device (no packet-information header) that carries plain IP packets
//!   between the kernel's routing and Rampart's userspace data plane.
//! - [`udp`]: UDP sockets for IKE (RFC 7296 §2.11, port 500) and NAT-T (RFC 3948 §2, RFC 7296
//!   §2.23, port 4500) that report the *destination* address of each datagram and send from an
//!   explicit *source* address (IP_PKTINFO / IPV6_PKTINFO, RFC 3542 §6), plus [`sockets::Sockets`]
//!   that binds the whole set the daemon listens on.
//! - [`netlink`]: routes and interface addresses over rtnetlink (`route` and `addr` modules add
//!   methods to [`netlink::Netlink`]).
//! - [`netns`]: moving the calling thread into a fresh network namespace (tests and tools).
//!
//! This is the only crate of the workspace allowed `unsafe`; every block carries a `// SAFETY:`
//! comment and the raw system calls live in two private modules, `sys` and `cmsg`.
//!
//! All calls that touch the network act in the network namespace of the thread that *creates* the
//! object: a TUN device, a socket or a netlink connection stays bound to the namespace it was made
//! in, whatever thread later uses it.
#![allow(unsafe_code)]
#![warn(missing_docs)]

mod addr;
mod cmsg;
pub mod netlink;
pub mod netns;
pub mod prefix;
pub mod raw;
mod route;
pub mod sockets;
mod sys;
pub mod tun;
pub mod udp;
mod watch;

pub use addr::{HostAddr, ADDRESS_READY_TIMEOUT};
pub use netlink::Link;
pub use netlink::Netlink;
pub use prefix::{InvalidPrefix, IpPrefix};
pub use route::{Route, RTPROT_RAMPART};
pub use sockets::{BindFailure, BoundSocket, PortKind, Sockets, SocketsConfig};
pub use tun::{Tun, TunConfig, TunOptions, TunQueue};
pub use udp::{RecvMeta, UdpOptions, UdpSocket, MAX_GSO_BYTES, MAX_GSO_SEGMENTS};
pub use watch::AddrWatch;
