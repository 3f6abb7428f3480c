//! Changes of the host's addresses and routes (rtnetlink(7) multicast groups
//! `RTMGRP_IPV4_IFADDR`, `RTMGRP_IPV6_IFADDR`, `RTMGRP_IPV4_ROUTE`, `RTMGRP_IPV6_ROUTE`), and the
//! source address the kernel would pick towards a destination. MOBIKE (RFC 4555 §3.5) needs both:
//! when an address goes away or the route to the peer changes, the initiator moves its IKE SA to
//! the address the kernel now uses.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteMetric};
use netlink_packet_route::AddressFamily;
use rtnetlink::constants::{
    RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE, RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_ROUTE,
};
use rtnetlink::sys::{AsyncSocket, SocketAddr};
use tokio::task::JoinHandle;

use crate::netlink::{to_io, Netlink};

/// Notifications of address and route changes in this network namespace.
///
/// Only the fact that something changed is reported: the caller re-reads what it needs
/// ([`Netlink::source_for`]). Bursts (an interface going down removes several addresses and
/// routes) are coalesced by [`AddrWatch::changed`].
pub struct AddrWatch {
    messages: futures_util::stream::BoxStream<'static, ()>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for AddrWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddrWatch").finish_non_exhaustive()
    }
}

impl Drop for AddrWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AddrWatch {
    /// Subscribes to address and route changes (IPv4 and IPv6). Needs a tokio runtime.
    pub fn new() -> io::Result<Self> {
        let (mut connection, _handle, messages) = rtnetlink::new_connection()?;
        let groups =
            RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
        connection
            .socket_mut()
            .socket_mut()
            .bind(&SocketAddr::new(0, groups))?;
        let task = tokio::spawn(connection);
        Ok(Self {
            messages: messages.map(|_| ()).boxed(),
            task,
        })
    }

    /// Waits for the next change, then for `settle` of quiet (more changes within `settle`
    /// restart the wait), so that one event covers a burst. `None` if the netlink socket closed.
    pub async fn changed(&mut self, settle: Duration) -> Option<()> {
        self.messages.next().await?;
        loop {
            match tokio::time::timeout(settle, self.messages.next()).await {
                Ok(Some(())) => continue,
                Ok(None) => return None,
                Err(_) => return Some(()),
            }
        }
    }
}

impl Netlink {
    /// The source address the kernel picks for packets to `dst` (`ip route get DST`: the
    /// route's preferred source). `None` when there is no route or the route names no source
    /// (e.g. no address of that family is left).
    pub async fn source_for(&self, dst: IpAddr) -> io::Result<Option<IpAddr>> {
        Ok(self.route_to(dst, None).await?.and_then(|route| {
            route.attributes.iter().find_map(|a| match a {
                RouteAttribute::PrefSource(RouteAddress::Inet(a)) => Some(IpAddr::V4(*a)),
                RouteAttribute::PrefSource(RouteAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
                _ => None,
            })
        }))
    }

    /// The path MTU towards `dst` as the kernel knows it (RFC 1191 §6.3, RFC 8201 §5.3): the
    /// MTU of the route to it (a configured `mtu` or one learned from ICMP "fragmentation
    /// needed" / "packet too big", `RTAX_MTU`), else the MTU of the interface the route leaves
    /// by. `mark`: look up as for packets with this firewall mark (`ip route get DST mark M`,
    /// e.g. the mark our own sockets carry, which policy routing keeps off the TUN device).
    /// `None` when there is no route.
    pub async fn path_mtu(&self, dst: IpAddr, mark: Option<u32>) -> io::Result<Option<u32>> {
        let Some(route) = self.route_to(dst, mark).await? else {
            return Ok(None);
        };
        let mut oif = None;
        for a in &route.attributes {
            match a {
                RouteAttribute::Metrics(metrics) => {
                    if let Some(mtu) = metrics.iter().find_map(|m| match m {
                        RouteMetric::Mtu(mtu) if *mtu > 0 => Some(*mtu),
                        _ => None,
                    }) {
                        return Ok(Some(mtu));
                    }
                }
                RouteAttribute::Oif(i) => oif = Some(*i),
                _ => {}
            }
        }
        match oif {
            Some(i) => Ok(self
                .link_by_index(i)
                .await?
                .map(|l| l.mtu)
                .filter(|&m| m > 0)),
            None => Ok(None),
        }
    }

    /// `ip route get DST [mark M]`: the route the kernel would use, or `None` when there is none.
    async fn route_to(&self, dst: IpAddr, mark: Option<u32>) -> io::Result<Option<RouteMessage>> {
        let mut query = RouteMessage::default();
        query.header.address_family = match dst {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        query.header.destination_prefix_length = if dst.is_ipv4() { 32 } else { 128 };
        query
            .attributes
            .push(RouteAttribute::Destination(match dst {
                IpAddr::V4(a) => RouteAddress::Inet(a),
                IpAddr::V6(a) => RouteAddress::Inet6(a),
            }));
        if let Some(m) = mark {
            query.attributes.push(RouteAttribute::Mark(m));
        }
        match self.handle.route().get(query).execute().try_next().await {
            Ok(route) => Ok(route),
            Err(e) => match to_io(e) {
                e if matches!(
                    e.raw_os_error(),
                    Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) | Some(libc::ENOENT)
                ) =>
                {
                    Ok(None)
                }
                e => Err(e),
            },
        }
    }
}
