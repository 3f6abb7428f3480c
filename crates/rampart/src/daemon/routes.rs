//! Routes for installed Child SAs: each remote selector is routed into the TUN device, with a
//! preferred source inside the local selector so the host's own traffic matches the SA.
//! A selector covering everything (`0.0.0.0/0`, `::/0`: a road warrior's full tunnel) is routed
//! as its two halves, so the default route stays; when a selector covers the peer's own
//! address, that address first gets a host route via the route it had before (`ip route get`),
//! so IKE and ESP to the peer never enter the tunnel (docs/config.md "Road warriors").
//!
//! Transport mode (RFC 4301 §4.1, host to host) routes the peer's own address instead, and
//! only for the host's traffic: a host route into the TUN in [`TRANSPORT_TABLE`], consulted
//! by an `ip rule` for every packet without [`OWN_MARK`], the `SO_MARK` of Rampart's IKE and
//! ESP sockets (so those still leave by the main table). Loose reverse-path filtering on the
//! TUN device lets decrypted packets from the peer in. Not followed yet: a MOBIKE address
//! change of a transport child (the route keeps the old addresses).

use std::collections::HashMap;
use std::net::IpAddr;

use os::{IpPrefix, Netlink, Route};
use wire::TrafficSelector;

/// A host route for the peer outside the tunnel: `ip route` arguments after `replace`/`del`.
#[derive(Debug, Clone)]
struct Bypass {
    args: Vec<String>,
    refs: usize,
}

/// `ip -j route get ADDR`: the route to `addr` now, as `ADDR/LEN [via GW] dev DEV`.
fn current_route(addr: IpAddr) -> Option<Vec<String>> {
    let out = std::process::Command::new("ip")
        .args(["-j", "route", "get", &addr.to_string()])
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let r = v.get(0)?;
    let dev = r.get("dev")?.as_str()?;
    let len = if addr.is_ipv4() { 32 } else { 128 };
    let mut args = vec![format!("{addr}/{len}")];
    if let Some(gw) = r.get("gateway").and_then(|g| g.as_str()) {
        args.extend(["via".to_string(), gw.to_string()]);
    }
    args.extend([
        "dev".to_string(),
        dev.to_string(),
        "proto".into(),
        "82".into(),
    ]);
    Some(args)
}

fn ip_route(verb: &str, args: &[String]) -> Result<(), String> {
    let out = std::process::Command::new("ip")
        .arg("route")
        .arg(verb)
        .args(args)
        .output()
        .map_err(|e| format!("ip route {verb}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip route {verb} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The prefixes to route for `ts`: a whole address family becomes its two halves.
fn route_prefixes(ts: &TrafficSelector) -> Vec<(IpAddr, u8)> {
    ts.to_prefixes()
        .into_iter()
        .flat_map(|(addr, len)| {
            if len != 0 {
                return vec![(addr, len)];
            }
            match addr {
                IpAddr::V4(_) => vec![
                    (IpAddr::from([0u8, 0, 0, 0]), 1),
                    (IpAddr::from([128u8, 0, 0, 0]), 1),
                ],
                IpAddr::V6(_) => vec![
                    (IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 0]), 1),
                    (IpAddr::from([0x8000u16, 0, 0, 0, 0, 0, 0, 0]), 1),
                ],
            }
        })
        .collect()
}

/// The routes Rampart added, by child, with reference counts (two children may share one).
#[derive(Debug)]
pub struct Routes {
    nl: Netlink,
    ifindex: u32,
    by_child: HashMap<u64, Vec<Route>>,
    refs: HashMap<Route, usize>,
    /// Virtual IPs we put on the TUN device (road-warrior client), by IKE SA.
    vips: Vec<(u64, IpAddr)>,
    /// Host routes keeping peers outside the tunnel, by peer address.
    bypass: HashMap<IpAddr, Bypass>,
    /// The peer address each child's bypass is for.
    bypass_of: HashMap<u64, IpAddr>,
    /// Transport-mode children: the host route into the TUN in [`TRANSPORT_TABLE`] (its
    /// `ip route` arguments), by child.
    transport: HashMap<u64, Vec<String>>,
    /// The `ip rule`s sending unmarked traffic to [`TRANSPORT_TABLE`] are in place (per
    /// family: IPv4, IPv6).
    rules: [bool; 2],
}

/// The firewall mark (`SO_MARK`) on Rampart's own sockets (IKE, ESP in UDP, raw ESP): the
/// policy-routing rule for transport mode skips marked packets, so they never enter the
/// TUN device.
pub const OWN_MARK: u32 = 0x5241_4d50;
/// The routing table of transport-mode host routes (the peer's address into the TUN).
pub const TRANSPORT_TABLE: u32 = 0x5241;
/// The priority of the `ip rule` that consults [`TRANSPORT_TABLE`] (before `main`, 32766).
const TRANSPORT_RULE_PREF: u32 = 0x5241;

/// Runs `ip ARGS`; the error names the command and what `ip` said.
fn ip(args: &[String]) -> Result<(), String> {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The name of the interface with index `ifindex` (from /sys/class/net).
fn ifname(ifindex: u32) -> Option<String> {
    std::fs::read_dir("/sys/class/net").ok()?.find_map(|e| {
        let e = e.ok()?;
        let idx = std::fs::read_to_string(e.path().join("ifindex")).ok()?;
        (idx.trim().parse::<u32>().ok()? == ifindex)
            .then(|| e.file_name().to_string_lossy().into_owned())
    })
}

impl Routes {
    /// The path MTU towards a peer's outer address, as our own (marked) packets would take it
    /// (`os::Netlink::path_mtu`): the route's MTU (configured, or learned from ICMP by the
    /// kernel) or its interface's. `None` (the data plane's default then applies) when there is
    /// no route, the answer is below 576 (RFC 791's datagram every host takes: a smaller MTU is
    /// misconfigured) or the lookup fails (logged).
    pub async fn path_mtu(&self, peer: IpAddr) -> Option<u16> {
        match self.nl.path_mtu(peer, Some(OWN_MARK)).await {
            Ok(Some(mtu)) if mtu >= 576 => Some(u16::try_from(mtu).unwrap_or(u16::MAX)),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!("path MTU towards {peer}: {e}");
                None
            }
        }
    }

    /// Routes through interface `ifindex`.
    pub fn new(nl: Netlink, ifindex: u32) -> Self {
        Self {
            nl,
            ifindex,
            by_child: HashMap::new(),
            refs: HashMap::new(),
            vips: Vec::new(),
            bypass: HashMap::new(),
            bypass_of: HashMap::new(),
            transport: HashMap::new(),
            rules: [false; 2],
        }
    }

    /// Captures the host's own traffic to `peer` for a transport-mode child (RFC 4301 §4.1,
    /// host to host): `peer` is routed into the TUN device, from `local`, in
    /// [`TRANSPORT_TABLE`], which an `ip rule` consults for every packet without Rampart's
    /// mark [`OWN_MARK`] (so IKE and ESP to the same address go out as before). The TUN device
    /// gets loose reverse-path filtering: decrypted packets from `peer` arrive on it.
    pub fn add_transport(&mut self, child: u64, local: IpAddr, peer: IpAddr) {
        let Some(dev) = ifname(self.ifindex) else {
            tracing::warn!(
                child_sa = child,
                "no TUN device name: transport mode traffic is not captured"
            );
            return;
        };
        let fam = if peer.is_ipv4() { "-4" } else { "-6" };
        let slot = usize::from(peer.is_ipv6());
        if !self.rules.get(slot).copied().unwrap_or(true) {
            let rule: Vec<String> = [
                fam,
                "rule",
                "add",
                "pref",
                &TRANSPORT_RULE_PREF.to_string(),
                "not",
                "fwmark",
                &OWN_MARK.to_string(),
                "lookup",
                &TRANSPORT_TABLE.to_string(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            match ip(&rule) {
                Ok(()) => {
                    if let Some(r) = self.rules.get_mut(slot) {
                        *r = true;
                    }
                }
                Err(e) => tracing::warn!(child_sa = child, "{e}"),
            }
            if peer.is_ipv4() {
                let knob = format!("/proc/sys/net/ipv4/conf/{dev}/rp_filter");
                if let Err(e) = std::fs::write(&knob, "2") {
                    tracing::warn!(child_sa = child, "cannot set {knob}: {e}");
                }
            }
        }
        let len = if peer.is_ipv4() { 32 } else { 128 };
        let args: Vec<String> = [
            fam.to_string(),
            "route".into(),
            "replace".into(),
            format!("{peer}/{len}"),
            "dev".into(),
            dev,
            "src".into(),
            local.to_string(),
            "table".into(),
            TRANSPORT_TABLE.to_string(),
        ]
        .into();
        match ip(&args) {
            Ok(()) => {
                tracing::info!(child_sa = child, "route {peer}/{len} via tunnel src {local} (transport mode, table {TRANSPORT_TABLE})");
                self.transport.insert(child, args);
            }
            Err(e) => tracing::warn!(child_sa = child, "{e}"),
        }
    }

    /// Undoes [`Routes::add_transport`] for `child` (the route, unless another child routes
    /// the same peer; the rules when no transport child is left).
    fn remove_transport(&mut self, child: u64) {
        let Some(mut args) = self.transport.remove(&child) else {
            return;
        };
        if !self.transport.values().any(|a| a.get(3) == args.get(3)) {
            if let Some(verb) = args.get_mut(2) {
                *verb = "del".into();
            }
            if let Err(e) = ip(&args) {
                tracing::warn!(child_sa = child, "{e}");
            }
        }
        if self.transport.is_empty() {
            for (slot, fam) in ["-4", "-6"].iter().enumerate() {
                if self.rules.get(slot).copied().unwrap_or(false) {
                    let rule = [fam.to_string(), "rule".into(), "del".into(), "pref".into()]
                        .into_iter()
                        .chain([TRANSPORT_RULE_PREF.to_string()])
                        .collect::<Vec<_>>();
                    if let Err(e) = ip(&rule) {
                        tracing::warn!("{e}");
                    }
                    if let Some(r) = self.rules.get_mut(slot) {
                        *r = false;
                    }
                }
            }
        }
    }

    /// A host address inside one of `local_ts` of the family of `dst`, not link-local nor
    /// loopback (a server's `0.0.0.0/0` would otherwise pick 127.0.0.1).
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
            .filter(|a| a.is_ipv4() == v4 && !is_link_local(*a) && !a.is_loopback())
            .find(|a| local_ts.iter().any(|t| t.contains_addr(*a)))
    }

    /// Keeps `peer` routed outside the tunnel while `child` is up (a host route via its
    /// current route), when one of `remote_ts` covers it.
    fn add_bypass(&mut self, child: u64, peer: IpAddr, remote_ts: &[TrafficSelector]) {
        if !remote_ts.iter().any(|t| t.contains_addr(peer)) {
            return;
        }
        if let Some(b) = self.bypass.get_mut(&peer) {
            b.refs += 1;
            self.bypass_of.insert(child, peer);
            return;
        }
        let Some(args) = current_route(peer) else {
            tracing::warn!(
                child_sa = child,
                "no route to the peer {peer}: cannot keep it outside the tunnel"
            );
            return;
        };
        match ip_route("replace", &args) {
            Ok(()) => {
                tracing::info!(
                    child_sa = child,
                    "route {} (the peer stays outside the tunnel)",
                    args.join(" ")
                );
                self.bypass.insert(peer, Bypass { args, refs: 1 });
                self.bypass_of.insert(child, peer);
            }
            Err(e) => tracing::warn!(child_sa = child, "{e}"),
        }
    }

    fn remove_bypass(&mut self, child: u64) {
        let Some(peer) = self.bypass_of.remove(&child) else {
            return;
        };
        let Some(b) = self.bypass.get_mut(&peer) else {
            return;
        };
        b.refs = b.refs.saturating_sub(1);
        if b.refs == 0 {
            if let Some(b) = self.bypass.remove(&peer) {
                if let Err(e) = ip_route("del", &b.args) {
                    tracing::warn!(child_sa = child, "{e}");
                }
            }
        }
    }

    /// Adds routes for a child's remote selectors (`peer`: its outer address, kept outside
    /// the tunnel). `sink` are further selectors routed into the tunnel without a source
    /// address: traffic there matches no Child SA and is dropped (a full tunnel's IPv6 when the
    /// server gave no IPv6 address: nothing leaks).
    pub async fn add_child(
        &mut self,
        child: u64,
        peer: IpAddr,
        local_ts: &[TrafficSelector],
        remote_ts: &[TrafficSelector],
        sink: &[TrafficSelector],
    ) {
        self.add_bypass(child, peer, &[remote_ts, sink].concat());
        let mut added = Vec::new();
        let all: Vec<(TrafficSelector, bool)> = remote_ts
            .iter()
            .map(|t| (*t, true))
            .chain(sink.iter().map(|t| (*t, false)))
            .collect();
        for (ts, with_src) in &all {
            let src = if *with_src {
                self.source_for(local_ts, ts.is_ipv4()).await
            } else {
                None
            };
            for (addr, len) in route_prefixes(ts) {
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
        self.remove_transport(child);
        self.remove_bypass(child);
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

    /// Puts virtual IPs of IKE SA `ike_sa` on the TUN device (host prefixes), so routes can
    /// use them as source.
    pub async fn add_virtual_ips(&mut self, ike_sa: u64, addrs: &[IpAddr]) {
        for a in addrs {
            if let Some(e) = self.vips.iter_mut().find(|(_, v)| v == a) {
                e.0 = ike_sa;
                continue;
            }
            let len = if a.is_ipv4() { 32 } else { 128 };
            match self.nl.add_address(self.ifindex, *a, len).await {
                Ok(()) => {
                    tracing::info!("virtual IP {a} installed on the tunnel device");
                    self.vips.push((ike_sa, *a));
                }
                Err(e) => tracing::warn!("cannot install virtual IP {a}: {e}"),
            }
        }
    }

    /// IKE SA `old` was rekeyed into `new`: its virtual IPs go with it.
    pub fn rekeyed(&mut self, old: u64, new: u64) {
        for (id, _) in &mut self.vips {
            if *id == old {
                *id = new;
            }
        }
    }

    /// The virtual IPs of IKE SA `ike_sa` (down) are removed from the TUN device.
    pub async fn remove_virtual_ips(&mut self, ike_sa: u64) {
        let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.vips)
            .into_iter()
            .partition(|(id, _)| *id == ike_sa);
        self.vips = keep;
        for (_, a) in gone {
            let len = if a.is_ipv4() { 32 } else { 128 };
            match self.nl.del_address(self.ifindex, a, len).await {
                Ok(_) => tracing::info!("virtual IP {a} removed from the tunnel device"),
                Err(e) => tracing::warn!("cannot remove virtual IP {a}: {e}"),
            }
        }
    }

    /// Removes every route and virtual IP (shutdown).
    pub async fn remove_all(&mut self) {
        for (_, a) in std::mem::take(&mut self.vips) {
            let len = if a.is_ipv4() { 32 } else { 128 };
            let _ = self.nl.del_address(self.ifindex, a, len).await;
        }
        let ids: Vec<u64> = self
            .by_child
            .keys()
            .chain(self.transport.keys())
            .copied()
            .collect();
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
