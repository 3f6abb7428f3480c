//! Network namespaces for tests and tools: move the *calling thread* into a fresh, empty network
//! namespace (`unshare(CLONE_NEWNET)`, unshare(2)).
//!
//! Only that thread moves; the rest of the process stays where it was. Everything created on the
//! thread afterwards (TUN devices, sockets, netlink connections) belongs to the new namespace for
//! its whole life, whichever thread uses it later. Run a *current-thread* tokio runtime on that
//! thread: worker threads of a multi-thread runtime (and `spawn_blocking` threads) are still in
//! the old namespace. The namespace has no name and disappears, with its interfaces, when the
//! thread exits and the last object created in it is dropped — no cleanup needed.
//!
//! A new namespace holds only `lo`, and it is down: bring it up with
//! [`crate::Netlink::set_link_up`] (index 1) before using 127.0.0.1 or ::1.

use std::io;

use crate::sys;

/// Index of `lo` in every network namespace.
pub const LOOPBACK_IFINDEX: u32 = 1;

/// Moves the calling thread into a new, empty network namespace. Needs `CAP_SYS_ADMIN`
/// (`EPERM` without it).
pub fn unshare_thread_netns() -> io::Result<()> {
    sys::unshare_net()
}

/// Whether the process runs as root (effective uid 0). Root is what the namespace tests need
/// (`CAP_SYS_ADMIN` for the namespace, `CAP_NET_ADMIN` inside it).
pub fn is_root() -> bool {
    sys::geteuid() == 0
}
