//! A connection to the kernel's routing netlink (rtnetlink(7)), through the `rtnetlink` crate.
//!
//! [`Netlink`] is the handle; the `route` and `addr` modules add its route and address methods.
//! Every method returns [`io::Error`]: a kernel refusal keeps its errno (`raw_os_error()`), so
//! callers can tell `EEXIST` ([`io::ErrorKind::AlreadyExists`]) or `EPERM` from the rest.

use std::fmt;
use std::io;

use futures_util::TryStreamExt;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::{Handle, LinkUnspec};
use tokio::task::JoinHandle;

/// An rtnetlink connection bound to the network namespace of the thread that opened it.
///
/// Its background task runs on the tokio runtime [`Netlink::new`] was called in and stops when
/// the value is dropped.
pub struct Netlink {
    pub(crate) handle: Handle,
    task: JoinHandle<()>,
}

impl fmt::Debug for Netlink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Netlink").finish_non_exhaustive()
    }
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An interface, as [`Netlink::link_by_name`] and [`Netlink::link_by_index`] report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// MTU (0 if the kernel did not say).
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
}

impl Netlink {
    /// Opens a netlink socket in the calling thread's network namespace and spawns its task on
    /// the current tokio runtime (panics outside one, like `tokio::spawn`).
    pub fn new() -> io::Result<Self> {
        let (connection, handle, _messages) = rtnetlink::new_connection()?;
        let task = tokio::spawn(connection);
        Ok(Self { handle, task })
    }

    /// The interface called `name`, if any.
    pub async fn link_by_name(&self, name: &str) -> io::Result<Option<Link>> {
        let request = self.handle.link().get().match_name(name.to_owned());
        match request.execute().try_next().await {
            Ok(Some(msg)) => Ok(Some(link_from(&msg))),
            Ok(None) => Ok(None),
            Err(e) => none_if_gone(to_io(e)),
        }
    }

    /// The interface with index `index`, if any.
    pub async fn link_by_index(&self, index: u32) -> io::Result<Option<Link>> {
        let request = self.handle.link().get().match_index(index);
        match request.execute().try_next().await {
            Ok(Some(msg)) => Ok(Some(link_from(&msg))),
            Ok(None) => Ok(None),
            Err(e) => none_if_gone(to_io(e)),
        }
    }

    /// Brings the interface with index `index` up (e.g. `lo` in a new namespace).
    pub async fn set_link_up(&self, index: u32) -> io::Result<()> {
        let msg = LinkUnspec::new_with_index(index).up().build();
        self.handle.link().set(msg).execute().await.map_err(to_io)
    }
}

/// Maps a "no such device" answer to `Ok(None)`.
fn none_if_gone<T>(e: io::Error) -> io::Result<Option<T>> {
    match e.raw_os_error() {
        Some(libc::ENODEV) => Ok(None),
        _ => Err(e),
    }
}

fn link_from(msg: &LinkMessage) -> Link {
    let mut link = Link {
        index: msg.header.index,
        name: String::new(),
        mtu: 0,
        up: msg.header.flags.contains(LinkFlags::Up),
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => link.name.clone_from(n),
            LinkAttribute::Mtu(m) => link.mtu = *m,
            _ => {}
        }
    }
    link
}

/// Converts an `rtnetlink` error, keeping the kernel's errno when there is one.
pub(crate) fn to_io(e: rtnetlink::Error) -> io::Error {
    match e {
        rtnetlink::Error::NetlinkError(msg) => match msg.code {
            Some(code) => io::Error::from_raw_os_error(code.get().saturating_neg()),
            None => io::Error::other("netlink: unexpected ACK in place of an error"),
        },
        other => io::Error::other(other),
    }
}
