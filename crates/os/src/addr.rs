//! The host's interface addresses over rtnetlink (rtnetlink(7), `RTM_GETADDR` / `RTM_NEWADDR` /
//! `RTM_DELADDR`): list them (the daemon picks a route's `src` inside a local traffic selector)
//! and add or remove one (virtual IPs, RFC 7296 §3.15).

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use futures_util::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType};
use netlink_packet_route::AddressFamily;

use crate::netlink::{to_io, Netlink};

/// How long [`Netlink::add_address`] waits for a new IPv6 address to become usable.
pub const ADDRESS_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// One address of one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostAddr {
    /// The interface index.
    pub ifindex: u32,
    /// The local address (`IFA_LOCAL`, or `IFA_ADDRESS` when there is no separate local one).
    pub addr: IpAddr,
    /// The prefix length of the subnet it was configured with.
    pub prefix_len: u8,
}

impl Netlink {
    /// Every address of every interface in this namespace, IPv4 and IPv6 (including loopback
    /// and link-local ones: filter as needed).
    pub async fn addresses(&self) -> io::Result<Vec<HostAddr>> {
        let mut out = Vec::new();
        let mut dump = self.handle.address().get().execute();
        while let Some(msg) = dump.try_next().await.map_err(to_io)? {
            if let Some(a) = host_addr(&msg) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Adds `addr/prefix_len` to interface `ifindex`. [`io::ErrorKind::AlreadyExists`] if it is
    /// there already. Needs `CAP_NET_ADMIN`.
    ///
    /// When this returns on an interface that is up, the address is usable — as a source and as
    /// a destination. IPv6 needs care for that: the address is added with `IFA_F_NODAD` (a TUN
    /// has no neighbours to collide with), but even then the kernel installs its local route
    /// from a work queue *after* acknowledging the request, so this waits (up to
    /// [`ADDRESS_READY_TIMEOUT`], else [`io::ErrorKind::TimedOut`]) until a route lookup of the
    /// address answers "local". IPv4 addresses are usable as soon as the kernel acknowledges.
    pub async fn add_address(&self, ifindex: u32, addr: IpAddr, prefix_len: u8) -> io::Result<()> {
        check_len(addr, prefix_len)?;
        let mut request = self.handle.address().add(ifindex, addr, prefix_len);
        if addr.is_ipv6() {
            request.message_mut().header.flags |= AddressHeaderFlags::Nodad;
        }
        request.execute().await.map_err(to_io)?;
        if addr.is_ipv6() && self.link_by_index(ifindex).await?.is_some_and(|l| l.up) {
            self.wait_local(addr).await?;
        }
        Ok(())
    }

    /// Whether the kernel routes `addr` as one of its own (`RTN_LOCAL`).
    pub async fn is_local(&self, addr: IpAddr) -> io::Result<bool> {
        let mut query = RouteMessage::default();
        query.header.address_family = match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        query.header.destination_prefix_length = if addr.is_ipv4() { 32 } else { 128 };
        query
            .attributes
            .push(RouteAttribute::Destination(match addr {
                IpAddr::V4(a) => RouteAddress::Inet(a),
                IpAddr::V6(a) => RouteAddress::Inet6(a),
            }));
        match self.handle.route().get(query).execute().try_next().await {
            Ok(Some(route)) => Ok(route.header.kind == RouteType::Local),
            Ok(None) => Ok(false),
            // No route at all (yet) is an answer, not a failure.
            Err(e) => match to_io(e) {
                e if matches!(
                    e.raw_os_error(),
                    Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) | Some(libc::ENOENT)
                ) =>
                {
                    Ok(false)
                }
                e => Err(e),
            },
        }
    }

    /// Polls [`Netlink::is_local`] until it holds, for at most [`ADDRESS_READY_TIMEOUT`].
    async fn wait_local(&self, addr: IpAddr) -> io::Result<()> {
        let deadline = tokio::time::Instant::now() + ADDRESS_READY_TIMEOUT;
        let mut pause = Duration::from_micros(200);
        while !self.is_local(addr).await? {
            if tokio::time::Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{addr} was added but the kernel has not made it local"),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Removes `addr/prefix_len` from interface `ifindex`. Returns `false` if it was not there
    /// (`EADDRNOTAVAIL`) or the interface is gone (`ENODEV`).
    pub async fn del_address(
        &self,
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
    ) -> io::Result<bool> {
        check_len(addr, prefix_len)?;
        let mut msg = AddressMessage::default();
        msg.header.family = match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.prefix_len = prefix_len;
        msg.header.index = ifindex;
        msg.attributes.push(AddressAttribute::Local(addr));
        msg.attributes.push(AddressAttribute::Address(addr));
        match self
            .handle
            .address()
            .del(msg)
            .execute()
            .await
            .map_err(to_io)
        {
            Ok(()) => Ok(true),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EADDRNOTAVAIL) | Some(libc::ENODEV)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

fn check_len(addr: IpAddr, prefix_len: u8) -> io::Result<()> {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix_len <= max {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("prefix length {prefix_len} is too long for {addr}"),
        ))
    }
}

fn host_addr(msg: &AddressMessage) -> Option<HostAddr> {
    let mut local = None;
    let mut address = None;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            _ => {}
        }
    }
    Some(HostAddr {
        ifindex: msg.header.index,
        addr: local.or(address)?,
        prefix_len: msg.header.prefix_len,
    })
}
