//! Routes into the TUN device: `PREFIX dev TUN [src ADDR]`, IPv4 and IPv6, over rtnetlink
//! (rtnetlink(7), `RTM_NEWROUTE` / `RTM_DELROUTE` / `RTM_GETROUTE`).
//!
//! Every route Rampart installs lives in the **main table** (254) with the routing protocol
//! [`RTPROT_RAMPART`] (`ip route` shows `proto 82`). The protocol marks them as ours: deleting
//! names it, so a route somebody else added for the same prefix is never touched; listing and
//! [`Netlink::flush_routes`] find exactly ours, e.g. to clean up after a crash. IPv4 routes have
//! scope `link` (no gateway: the TUN is point-to-point), as `ip route add … dev` makes them.

use std::io;
use std::net::IpAddr;

use futures_util::TryStreamExt;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::AddressFamily;

use crate::netlink::{to_io, Netlink};
use crate::prefix::IpPrefix;

/// The routing protocol value that marks Rampart's routes (`rtm_protocol`; the kernel does not
/// interpret values above `RTPROT_STATIC`, and 82 is assigned to nobody in `rtnetlink.h`).
pub const RTPROT_RAMPART: u8 = 82;

/// A route `dst dev <ifindex> [src <src>] [metric <metric>]` in the main table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination prefix (e.g. a remote traffic selector).
    pub dst: IpPrefix,
    /// The output interface (the TUN device).
    pub ifindex: u32,
    /// The preferred source address for locally originated traffic (`RTA_PREFSRC`): an address
    /// of this host inside the local traffic selector, so the kernel's own packets to `dst` match
    /// the Child SA. Must be of `dst`'s family.
    pub src: Option<IpAddr>,
    /// The route metric (`RTA_PRIORITY`). `None` when adding means the kernel's default (0 for
    /// IPv4, 1024 for IPv6); routes read back carry what the kernel reports.
    pub metric: Option<u32>,
}

impl Route {
    /// A route to `dst` through interface `ifindex`, no source, default metric.
    pub fn new(dst: IpPrefix, ifindex: u32) -> Self {
        Self {
            dst,
            ifindex,
            src: None,
            metric: None,
        }
    }

    /// The same route with a preferred source address.
    pub fn with_src(self, src: IpAddr) -> Self {
        Self {
            src: Some(src),
            ..self
        }
    }

    /// The netlink message describing the route.
    fn message(&self) -> io::Result<RouteMessage> {
        if let Some(src) = self.src {
            if src.is_ipv4() != self.dst.is_ipv4() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("route to {}: source {src} is of the other family", self.dst),
                ));
            }
        }
        let mut m = RouteMessage::default();
        m.header.address_family = family(self.dst.addr());
        m.header.destination_prefix_length = self.dst.prefix_len();
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Other(RTPROT_RAMPART);
        m.header.scope = RouteScope::Link;
        m.header.kind = RouteType::Unicast;
        m.attributes
            .push(RouteAttribute::Destination(route_addr(self.dst.addr())));
        m.attributes.push(RouteAttribute::Oif(self.ifindex));
        if let Some(src) = self.src {
            m.attributes
                .push(RouteAttribute::PrefSource(route_addr(src)));
        }
        if let Some(metric) = self.metric {
            m.attributes.push(RouteAttribute::Priority(metric));
        }
        Ok(m)
    }

    /// Reads one of our routes back from a dump; `None` for anyone else's or a malformed one.
    fn from_message(m: &RouteMessage) -> Option<Self> {
        if m.header.protocol != RouteProtocol::Other(RTPROT_RAMPART)
            || m.header.kind != RouteType::Unicast
        {
            return None;
        }
        let mut table = u32::from(m.header.table);
        let mut dst = None;
        let mut ifindex = None;
        let mut src = None;
        let mut metric = None;
        for attr in &m.attributes {
            match attr {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(a) => dst = ip_of(a),
                RouteAttribute::Oif(i) => ifindex = Some(*i),
                RouteAttribute::PrefSource(a) => src = ip_of(a),
                RouteAttribute::Priority(p) => metric = Some(*p),
                _ => {}
            }
        }
        if table != u32::from(RouteHeader::RT_TABLE_MAIN) {
            return None;
        }
        let dst = match (dst, m.header.address_family) {
            (Some(a), _) => a,
            (None, AddressFamily::Inet) => IpAddr::from([0u8; 4]),
            (None, AddressFamily::Inet6) => IpAddr::from([0u8; 16]),
            (None, _) => return None,
        };
        Some(Self {
            dst: IpPrefix::new(dst, m.header.destination_prefix_length).ok()?,
            ifindex: ifindex?,
            src,
            metric,
        })
    }
}

impl Netlink {
    /// Adds `route`. [`io::ErrorKind::AlreadyExists`] (`EEXIST`) if a route to the same prefix
    /// and metric exists; `EINVAL` if `src` is not an address of this host; `ENODEV` if the
    /// interface is gone. Needs `CAP_NET_ADMIN`.
    pub async fn add_route(&self, route: &Route) -> io::Result<()> {
        let msg = route.message()?;
        self.handle.route().add(msg).execute().await.map_err(to_io)
    }

    /// Adds `route`, replacing a route to the same prefix and metric if there is one
    /// (`NLM_F_REPLACE`).
    pub async fn replace_route(&self, route: &Route) -> io::Result<()> {
        let msg = route.message()?;
        self.handle
            .route()
            .add(msg)
            .replace()
            .execute()
            .await
            .map_err(to_io)
    }

    /// Deletes `route` (only a route carrying [`RTPROT_RAMPART`]). Returns `false` if it was
    /// already gone — no such route (`ESRCH`/`ENOENT`) or no such interface any more (`ENODEV`,
    /// e.g. the TUN device was dropped first, which removed its routes) — so shutdown can call it
    /// blindly.
    pub async fn del_route(&self, route: &Route) -> io::Result<bool> {
        let msg = route.message()?;
        match self.handle.route().del(msg).execute().await.map_err(to_io) {
            Ok(()) => Ok(true),
            Err(e) if gone(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Rampart's routes (protocol [`RTPROT_RAMPART`], main table), IPv4 then IPv6.
    pub async fn routes(&self) -> io::Result<Vec<Route>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut query = RouteMessage::default();
            query.header.address_family = family;
            let mut dump = self.handle.route().get(query).execute();
            while let Some(msg) = dump.try_next().await.map_err(to_io)? {
                if let Some(route) = Route::from_message(&msg) {
                    out.push(route);
                }
            }
        }
        Ok(out)
    }

    /// Deletes every route [`Netlink::routes`] lists (stale ones after a crash); returns how many
    /// were deleted.
    pub async fn flush_routes(&self) -> io::Result<usize> {
        let mut n = 0;
        for route in self.routes().await? {
            if self.del_route(&route).await? {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Whether a delete failed only because the route (or its device) no longer exists.
fn gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ESRCH) | Some(libc::ENOENT) | Some(libc::ENODEV)
    )
}

fn family(ip: IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn route_addr(ip: IpAddr) -> RouteAddress {
    match ip {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_roundtrip() {
        let dst = IpPrefix::new("198.51.100.0".parse().unwrap_or(IpAddr::from([0u8; 4])), 24);
        let Ok(dst) = dst else { panic!("prefix") };
        let r = Route::new(dst, 7).with_src(IpAddr::from([192, 0, 2, 1]));
        let Ok(m) = r.message() else {
            panic!("message")
        };
        assert_eq!(m.header.protocol, RouteProtocol::Other(RTPROT_RAMPART));
        assert_eq!(m.header.table, RouteHeader::RT_TABLE_MAIN);
        assert_eq!(Route::from_message(&m), Some(r));
        let mut other = m.clone();
        other.header.protocol = RouteProtocol::Static;
        assert_eq!(Route::from_message(&other), None);
    }

    #[test]
    fn family_mismatch_is_refused() {
        let r = Route::new(IpPrefix::host(IpAddr::from([198, 51, 100, 1])), 1)
            .with_src(IpAddr::from([0u8; 16]));
        assert_eq!(
            r.message().map_err(|e| e.kind()).err(),
            Some(io::ErrorKind::InvalidInput)
        );
    }
}
