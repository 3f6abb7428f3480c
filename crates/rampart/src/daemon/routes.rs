//! Routes for installed Child SAs: each remote selector is routed into the TUN device, with a
//! preferred source inside the local selector so the host's own traffic matches the SA.

use std::collections::HashMap;
use std::net::IpAddr;

use os::{IpPrefix, Netlink, Route};
use wire::TrafficSelector;

/// The routes Rampart added, by child, with reference counts (two children may share one).
#[derive(Debug)]
pub struct Routes {
    nl: Netlink,
    ifindex: u32,
    by_child: HashMap<u64, Vec<Route>>,
    refs: HashMap<Route, usize>,
    /// Virtual IPs we put on the TUN device (road-warrior client).
    vips: Vec<IpAddr>,
}

impl Routes {
    /// Routes through interface `ifindex`.
    pub fn new(nl: Netlink, ifindex: u32) -> Self {
        Self {
            nl,
            ifindex,
            by_child: HashMap::new(),
            refs: HashMap::new(),
            vips: Vec::new(),
        }
    }

    /// A host address inside one of `local_ts` of the family of `dst`, not link-local.
    async fn source_for(&self, local_ts: &[TrafficSelector], v4: bool) -> Option<IpAddr> {
        let addrs = match self.nl.addresses().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("cannot list host addresses: {e}");
                return None;
            }
        };
        addrs
            .iter()
            .map(|h| h.addr)
            .filter(|a| a.is_ipv4() == v4 && !is_link_local(*a))
            .find(|a| local_ts.iter().any(|t| t.contains_addr(*a)))
    }

    /// Adds routes for a child's remote selectors.
    pub async fn add_child(
        &mut self,
        child: u64,
        local_ts: &[TrafficSelector],
        remote_ts: &[TrafficSelector],
    ) {
        let mut added = Vec::new();
        for ts in remote_ts {
            let src = self.source_for(local_ts, ts.is_ipv4()).await;
            for (addr, len) in ts.to_prefixes() {
                let Ok(prefix) = IpPrefix::new(addr, len) else {
                    continue;
                };
                let mut r = Route::new(prefix, self.ifindex);
                if let Some(s) = src {
                    r = r.with_src(s);
                }
                let n = self.refs.entry(r).or_insert(0);
                if *n == 0 {
                    match self.nl.replace_route(&r).await {
                        Ok(()) => tracing::info!(
                            child_sa = child,
                            "route {addr}/{len} via tunnel{}",
                            src.map_or(String::new(), |s| format!(" src {s}"))
                        ),
                        Err(e) => {
                            tracing::warn!(child_sa = child, "cannot add route {addr}/{len}: {e}");
                            continue;
                        }
                    }
                }
                *n += 1;
                added.push(r);
            }
        }
        self.by_child.insert(child, added);
    }

    /// Removes the routes of a child that no other child uses.
    pub async fn remove_child(&mut self, child: u64) {
        let Some(routes) = self.by_child.remove(&child) else {
            return;
        };
        for r in routes {
            let gone = match self.refs.get_mut(&r) {
                Some(n) => {
                    *n -= 1;
                    *n == 0
                }
                None => false,
            };
            if gone {
                self.refs.remove(&r);
                if let Err(e) = self.nl.del_route(&r).await {
                    tracing::warn!(
                        child_sa = child,
                        "cannot remove route {}/{}: {e}",
                        r.dst.addr(),
                        r.dst.prefix_len()
                    );
                }
            }
        }
    }

    /// Puts virtual IPs on the TUN device (host prefixes), so routes can use them as source.
    pub async fn add_virtual_ips(&mut self, addrs: &[IpAddr]) {
        for a in addrs {
            if self.vips.contains(a) {
                continue;
            }
            let len = if a.is_ipv4() { 32 } else { 128 };
            match self.nl.add_address(self.ifindex, *a, len).await {
                Ok(()) => {
                    tracing::info!("virtual IP {a} installed on the tunnel device");
                    self.vips.push(*a);
                }
                Err(e) => tracing::warn!("cannot install virtual IP {a}: {e}"),
            }
        }
    }

    /// Removes every route and virtual IP (shutdown).
    pub async fn remove_all(&mut self) {
        for a in std::mem::take(&mut self.vips) {
            let len = if a.is_ipv4() { 32 } else { 128 };
            let _ = self.nl.del_address(self.ifindex, a, len).await;
        }
        let ids: Vec<u64> = self.by_child.keys().copied().collect();
        for id in ids {
            self.remove_child(id).await;
        }
    }
}

fn is_link_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_link_local(),
        IpAddr::V6(v) => (v.segments()[0] & 0xffc0) == 0xfe80,
    }
}
