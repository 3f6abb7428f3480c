//! The [`DataPlane`]: SPD, SAD and counters, plus the control-path calls the daemon makes when
//! IKE installs, updates or removes Child SAs. The packet path is in `outbound.rs` and
//! `inbound.rs`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crypto::{Random, SystemRandom};
use wire::TrafficSelector;

use crate::fasthash::IdMap;
use crate::lifetime::{Direction, ExpiryCause, ExpiryKind, SaEvent};
use crate::sa::{InboundSa, OutboundSa};
use crate::stats::{ChildStats, DropAtomics, DropCounters, SaStats};
use crate::{ChildSaConfig, EspError, Lifetime, Mode, SaKeys, SecurityProtocol, TunnelOptions};

/// What `install_child` returns: names the child in later calls (same as its `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildHandle(pub u64);

impl ChildHandle {
    /// The IKE engine's child id.
    pub fn id(self) -> u64 {
        self.0
    }
}

/// A Child SA: its selectors, outer addresses, sending SA, and the SPIs of its receiving SAs.
/// Immutable once in a snapshot; a change (`update_peer`, a rekey) makes a new `Child` that
/// shares the counters (and, for `update_peer`, the outbound SA and its sequence numbers).
#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub id: u64,
    pub mode: Mode,
    /// ESP or AH, for every SA of the child (rekeys keep it).
    pub protocol: SecurityProtocol,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub encap: bool,
    pub replay_window: u32,
    /// Extended Sequence Numbers on both SAs (RFC 4304); rekeyed SAs keep the setting.
    pub esn: bool,
    /// Limits of each SA; rekeyed SAs get the same.
    pub lifetime: Lifetime,
    /// Edge rewriting and the path MTU.
    pub options: TunnelOptions,
    /// Outer IP header plus UDP header (when encapsulating; never for AH).
    pub outer_hdr: usize,
    /// The largest inner packet the path carries in one outer packet: `path_mtu` − the
    /// worst-case overhead ([`DataPlane::overhead`]).
    pub max_inner: usize,
    pub outbound: Arc<OutboundSa>,
    pub inbound_spis: Vec<u32>,
    /// Traffic of the SAs this child no longer has (replaced or removed by rekeys), shared by
    /// every version of the child. Packets still in flight on a removed SA when it is folded in
    /// are not counted.
    pub retired: Arc<Mutex<ChildStats>>,
}

/// One version of the SPD and SAD. Packet processing reads a snapshot (an `Arc`) and never
/// locks it; the control path copies the tables (maps of `Arc`s, cheap), changes the copy and
/// publishes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tables {
    /// The SPD: children in install order (RFC 4301 §4.4.1: the SPD is ordered; the first
    /// match wins).
    pub spd: Vec<Arc<Child>>,
    pub children: IdMap<u64, Arc<Child>>,
    /// The SAD's inbound half, by SPI.
    pub sad: IdMap<u32, Arc<InboundSa>>,
}

impl Tables {
    /// Puts a new version of a child in both the SPD (same position) and the child map.
    /// A child's traffic: its retired SAs plus its current ones.
    fn child_stats(&self, c: &Child) -> ChildStats {
        let mut s = *c.retired.lock().unwrap_or_else(|p| p.into_inner());
        s.add_out(c.outbound.stats());
        for spi in &c.inbound_spis {
            if let Some(sa) = self.sad.get(spi) {
                s.add_in(sa.stats());
            }
        }
        s
    }

    fn replace_child(&mut self, child: Child) {
        let child = Arc::new(child);
        for slot in &mut self.spd {
            if slot.id == child.id {
                *slot = child.clone();
            }
        }
        self.children.insert(child.id, child);
    }
}

/// The userspace ESP data plane (see the crate documentation for the calling contract).
///
/// Every method takes `&self`: share one data plane between workers (`Arc<DataPlane>`).
pub struct DataPlane {
    tables: RwLock<Arc<Tables>>,
    /// Serialises control-path changes (each copies, edits and publishes the tables).
    control: Mutex<()>,
    pub(crate) drops: DropAtomics,
    rng: Mutex<Box<dyn Random>>,
    /// Lifetime events not yet taken (each SA raises each at most once: this stays tiny).
    events: Mutex<Vec<SaEvent>>,
    /// Called after an event is queued (wakes the daemon's engine task).
    notifier: Mutex<Option<Notifier>>,
    /// The next IPv4 Identification of an outer header AH writes (RFC 791 §3.1; RFC 6864
    /// §4.1: unique per source, destination and protocol over a packet's lifetime). Starts at
    /// a value drawn from the data plane's random source.
    ip_id: AtomicU16,
}

/// What [`DataPlane::set_event_notifier`] takes.
pub type Notifier = Arc<dyn Fn() + Send + Sync>;

/// A view of the data plane's tables for one batch of packets ([`DataPlane::snapshot`]); its
/// packet methods are in `outbound.rs` and `inbound.rs`.
pub struct Snapshot<'a> {
    pub(crate) dp: &'a DataPlane,
    pub(crate) t: Arc<Tables>,
}

impl core::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Snapshot")
            .field("children", &self.t.children.len())
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let t = self.tables();
        f.debug_struct("DataPlane")
            .field("children", &t.children.len())
            .field("inbound_sas", &t.sad.len())
            .field("drops", &self.drops.snapshot().total())
            .finish_non_exhaustive()
    }
}

impl Default for DataPlane {
    fn default() -> Self {
        Self::new()
    }
}

impl DataPlane {
    /// An empty data plane drawing CBC IVs from the system CSPRNG ([`crypto::SystemRandom`]).
    pub fn new() -> Self {
        Self::with_rng(Box::new(SystemRandom))
    }

    /// An empty data plane drawing CBC IVs from `rng` (tests pass a
    /// [`crypto::DeterministicRandom`]). AEAD SAs never use it: their IV is the sequence number.
    ///
    /// Two bytes of it seed the IPv4 Identification counter of AH's outer headers.
    pub fn with_rng(mut rng: Box<dyn Random>) -> Self {
        let mut id = [0u8; 2];
        rng.fill(&mut id);
        Self {
            tables: RwLock::new(Arc::new(Tables::default())),
            control: Mutex::new(()),
            drops: DropAtomics::default(),
            rng: Mutex::new(rng),
            events: Mutex::new(Vec::new()),
            notifier: Mutex::new(None),
            ip_id: AtomicU16::new(u16::from_be_bytes(id)),
        }
    }

    /// An IPv4 Identification for an outer header AH writes: never 0 (the kernel replaces a
    /// zero Identification of a packet sent with IP_HDRINCL, and AH's ICV covers the field,
    /// RFC 4302 §3.3.3.1.1.1).
    pub(crate) fn next_ip_id(&self) -> u16 {
        match self.ip_id.fetch_add(1, Ordering::Relaxed) {
            0 => self.ip_id.fetch_add(1, Ordering::Relaxed).max(1),
            id => id,
        }
    }

    /// Sets the function called (on the packet worker that raised it, so it must be quick and
    /// must not call back into the data plane) each time an [`SaEvent`] is queued. Events are
    /// rare (each SA raises each at most once), so the notifier is never per packet.
    pub fn set_event_notifier(&self, f: Notifier) {
        *self.notifier.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
    }

    /// Takes the queued lifetime events, oldest first.
    pub fn take_events(&self) -> Vec<SaEvent> {
        core::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Queues one event and calls the notifier.
    pub(crate) fn raise(
        &self,
        child_id: u64,
        spi: u32,
        direction: Direction,
        kind: ExpiryKind,
        cause: ExpiryCause,
    ) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(SaEvent {
                child_id,
                spi,
                direction,
                kind,
                cause,
            });
        let n = self
            .notifier
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(n) = n {
            n();
        }
    }

    /// The SPD and SAD as they are now, for processing a batch of packets without looking the
    /// tables up per packet. Control-path changes made after this call are not seen through
    /// it: take a new one per batch. Counters and replay windows are shared, not copied.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            dp: self,
            t: self.tables(),
        }
    }

    /// The current tables.
    pub(crate) fn tables(&self) -> Arc<Tables> {
        self.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Fills a CBC IV (RFC 3602 §3: unpredictable).
    pub(crate) fn fill_iv(&self, iv: &mut [u8]) {
        self.rng.lock().unwrap_or_else(|p| p.into_inner()).fill(iv);
    }

    /// Runs one control-path change on a copy of the tables and publishes the copy if `f`
    /// succeeds (changes are serialised; packet processing keeps using the old snapshot until
    /// its next lookup).
    fn change<T>(&self, f: impl FnOnce(&mut Tables) -> Result<T, EspError>) -> Result<T, EspError> {
        let _serial = self.control.lock().unwrap_or_else(|p| p.into_inner());
        let mut t = Tables::clone(&self.tables());
        let r = f(&mut t)?;
        *self.tables.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(t);
        Ok(r)
    }

    /// Installs a Child SA: its SPD entry (after every existing one), its outbound SA and its
    /// first inbound SA (RFC 4301 §4.4.1, §4.4.2).
    pub fn install_child(&self, cfg: ChildSaConfig) -> Result<ChildHandle, EspError> {
        self.change(|t| t.install_child(cfg))
    }

    /// Removes a child with its SPD entry and every inbound SA; returns its final counters.
    pub fn remove_child(&self, id: u64) -> Result<ChildStats, EspError> {
        self.change(|t| {
            let child = t.children.remove(&id).ok_or(EspError::UnknownChild(id))?;
            let stats = t.child_stats(&child);
            for spi in &child.inbound_spis {
                t.sad.remove(spi);
            }
            t.spd.retain(|c| c.id != id);
            Ok(stats)
        })
    }

    /// The peer's outer address changed (a NAT mapping moved, RFC 7296 §2.23): send there from
    /// now on.
    pub fn update_peer(&self, id: u64, remote: SocketAddr) -> Result<(), EspError> {
        self.change(|t| {
            let mut child = Child::clone(t.children.get(&id).ok_or(EspError::UnknownChild(id))?);
            if child.local.is_ipv4() != remote.is_ipv4() {
                return Err(EspError::InvalidConfig(
                    "outer addresses of different families",
                ));
            }
            child.remote = remote;
            t.replace_child(child);
            Ok(())
        })
    }

    /// Both outer addresses of a child changed (MOBIKE, RFC 4555 §3.5: we or the peer moved):
    /// send from `local` to `remote` from now on.
    pub fn update_addresses(
        &self,
        id: u64,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<(), EspError> {
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(EspError::InvalidConfig(
                "outer addresses of different families",
            ));
        }
        self.change(|t| {
            let mut child = Child::clone(t.children.get(&id).ok_or(EspError::UnknownChild(id))?);
            child.local = local;
            child.remote = remote;
            // The outer family may change (MOBIKE): the outer header with it.
            child.outer_hdr = outer_hdr(remote, child.encap);
            child.max_inner =
                max_inner(&child.outbound, remote, child.encap, child.options.path_mtu);
            t.replace_child(child);
            Ok(())
        })
    }

    /// A child's peer (outer) address and the path MTU it uses now.
    pub fn child_path(&self, id: u64) -> Option<(SocketAddr, u16)> {
        self.tables()
            .children
            .get(&id)
            .map(|c| (c.remote, c.options.path_mtu))
    }

    /// Sets a child's path MTU when the outer path's changed (RFC 4301 §8.2, RFC 1191 / RFC 8201:
    /// the daemon follows the route's MTU, which the kernel lowers when an ICMP "fragmentation
    /// needed" / "packet too big" arrives for the outer packets). Inner packets larger than
    /// the new `path_mtu` less the overhead are then refused with [`crate::DropReason::PathMtu`]
    /// and the MSS clamp follows.
    pub fn set_path_mtu(&self, id: u64, path_mtu: u16) -> Result<(), EspError> {
        self.change(|t| {
            let mut child = Child::clone(t.children.get(&id).ok_or(EspError::UnknownChild(id))?);
            child.options.path_mtu = path_mtu;
            child.max_inner = max_inner(&child.outbound, child.remote, child.encap, path_mtu);
            t.replace_child(child);
            Ok(())
        })
    }

    /// Adds another inbound SA to a child (rekey overlap, RFC 7296 §2.8: the new SA receives
    /// while the old one still may). It shares the child's selectors and window size.
    pub fn add_inbound_sa(&self, id: u64, keys: SaKeys) -> Result<(), EspError> {
        self.change(|t| {
            let mut child = Child::clone(t.children.get(&id).ok_or(EspError::UnknownChild(id))?);
            if t.sad.contains_key(&keys.spi) {
                return Err(EspError::DuplicateSpi(keys.spi));
            }
            let sa = InboundSa::new(
                id,
                &keys,
                child.replay_window,
                child.esn,
                &child.lifetime,
                child.protocol,
            )?;
            t.sad.insert(keys.spi, Arc::new(sa));
            child.inbound_spis.push(keys.spi);
            t.replace_child(child);
            Ok(())
        })
    }

    /// Removes one inbound SA (the old one after a rekey); returns its counters.
    pub fn remove_inbound_sa(&self, spi: u32) -> Result<SaStats, EspError> {
        self.change(|t| {
            let sa = t.sad.remove(&spi).ok_or(EspError::UnknownSpi(spi))?;
            let stats = sa.stats();
            if let Some(child) = t.children.get(&sa.child_id) {
                let mut child = Child::clone(child);
                child
                    .retired
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .add_in(stats);
                child.inbound_spis.retain(|s| *s != spi);
                t.replace_child(child);
            }
            Ok(stats)
        })
    }

    /// Replaces a child's outbound SA (rekey: switch sending to the new SA); the sequence
    /// number restarts at 1. Returns the old SA's counters.
    pub fn replace_outbound_sa(&self, id: u64, keys: SaKeys) -> Result<SaStats, EspError> {
        self.change(|t| {
            let mut child = Child::clone(t.children.get(&id).ok_or(EspError::UnknownChild(id))?);
            let new = Arc::new(OutboundSa::new(
                &keys,
                child.esn,
                &child.lifetime,
                child.protocol,
            )?);
            child.max_inner = max_inner(&new, child.remote, child.encap, child.options.path_mtu);
            let old = core::mem::replace(&mut child.outbound, new);
            let stats = old.stats();
            child
                .retired
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add_out(stats);
            t.replace_child(child);
            Ok(stats)
        })
    }

    /// Traffic counters of a child (every SA it ever had, both directions).
    pub fn child_stats(&self, id: u64) -> Option<ChildStats> {
        let t = self.tables();
        t.children.get(&id).map(|c| t.child_stats(c))
    }

    /// Counters of one inbound SA.
    pub fn inbound_sa_stats(&self, spi: u32) -> Option<SaStats> {
        self.tables().sad.get(&spi).map(|sa| sa.stats())
    }

    /// Counters of a child's current outbound SA (`highest_seq` = last sequence number sent).
    pub fn outbound_sa_stats(&self, id: u64) -> Option<SaStats> {
        self.tables().children.get(&id).map(|c| c.outbound.stats())
    }

    /// The child an inbound SPI belongs to.
    pub fn child_of_spi(&self, spi: u32) -> Option<u64> {
        self.tables().sad.get(&spi).map(|sa| sa.child_id)
    }

    /// The inbound SPIs of a child, oldest first.
    pub fn inbound_spis(&self, id: u64) -> Option<Vec<u32>> {
        self.tables()
            .children
            .get(&id)
            .map(|c| c.inbound_spis.clone())
    }

    /// Ids of the installed children, in SPD order.
    pub fn child_ids(&self) -> std::vec::IntoIter<u64> {
        let ids: Vec<u64> = self.tables().spd.iter().map(|c| c.id).collect();
        ids.into_iter()
    }

    /// Per-reason drop counters (a snapshot).
    pub fn drop_counters(&self) -> DropCounters {
        self.drops.snapshot()
    }

    /// Worst-case bytes a child's tunnel adds to an inner packet on the wire: outer IP header
    /// (20 or 40), UDP header when encapsulating (8), ESP header (8), IV, the largest padding
    /// (alignment − 1), Pad Length and Next Header (2), ICV. For AH: outer IP header plus AH
    /// (12 + ICV, padded to 4 / 8 bytes: RFC 4302 §2.6). Subtract it from the path MTU to
    /// size the TUN MTU.
    pub fn overhead(&self, id: u64) -> Option<usize> {
        let t = self.tables();
        let c = t.children.get(&id)?;
        Some(overhead(&c.outbound, c.remote, c.encap))
    }

    /// The largest inner packet a child's tunnel carries without fragmenting the outer packet:
    /// its `path_mtu` less [`DataPlane::overhead`]. Size the TUN MTU by the smallest over all
    /// children (or the path MTU less [`DataPlane::worst_overhead`]).
    pub fn max_inner(&self, id: u64) -> Option<usize> {
        self.tables().children.get(&id).map(|c| c.max_inner)
    }

    /// The worst overhead of any suite this data plane implements over an IPv6 outer header
    /// with UDP (AES-CBC + HMAC-SHA2-512-256: IV 16, ICV 32, padding 15): what the TUN MTU
    /// must leave room for before any child exists.
    pub const fn worst_overhead() -> usize {
        40 + 8 + wire::esp::ESP_HEADER_LEN + 16 + 15 + wire::esp::ESP_TRAILER_LEN + 32
    }
}

/// Outer IP header (20 / 40) plus UDP (8) when encapsulating.
fn outer_hdr(remote: SocketAddr, encap: bool) -> usize {
    let ip = if remote.is_ipv4() { 20 } else { 40 };
    ip + if encap { 8 } else { 0 }
}

/// Worst-case bytes a tunnel adds to an inner packet (RFC 4303 §2: header, IV, padding up to
/// alignment − 1, Pad Length and Next Header, ICV; plus the outer headers). AH: the outer
/// header and AH (RFC 4302 §2); in transport mode this overstates by the inner header, which
/// AH replaces.
fn overhead(sa: &OutboundSa, remote: SocketAddr, encap: bool) -> usize {
    let x = &sa.xform;
    if x.protocol == SecurityProtocol::Ah {
        return outer_hdr(remote, false) + wire::ah::ah_len(x.icv_len, remote.is_ipv6());
    }
    outer_hdr(remote, encap)
        + wire::esp::ESP_HEADER_LEN
        + x.iv_len
        + (x.align() - 1)
        + wire::esp::ESP_TRAILER_LEN
        + x.icv_len
}

fn max_inner(sa: &OutboundSa, remote: SocketAddr, encap: bool, path_mtu: u16) -> usize {
    usize::from(path_mtu).saturating_sub(overhead(sa, remote, encap))
}

impl Child {
    /// The MSS to clamp TCP SYNs of IP `version` to: the largest inner packet less the IP and
    /// TCP headers, never below the protocols' minimums (536 for IPv4, RFC 9293 §3.7.1; 1220
    /// for IPv6, RFC 8200 §5 less 60).
    pub fn mss(&self, version: u8) -> u16 {
        let (hdrs, floor) = if version == 4 { (40, 536) } else { (60, 1220) };
        let mss = self.max_inner.saturating_sub(hdrs).max(floor);
        u16::try_from(mss).unwrap_or(u16::MAX)
    }
}

impl Tables {
    fn install_child(&mut self, cfg: ChildSaConfig) -> Result<ChildHandle, EspError> {
        if self.children.contains_key(&cfg.id) {
            return Err(EspError::DuplicateChild(cfg.id));
        }
        if cfg.local_ts.is_empty() || cfg.remote_ts.is_empty() {
            return Err(EspError::InvalidConfig("empty traffic selector list"));
        }
        if cfg.local.is_ipv4() != cfg.remote.is_ipv4() {
            return Err(EspError::InvalidConfig(
                "outer addresses of different families",
            ));
        }
        if cfg.replay_window > ChildSaConfig::MAX_REPLAY_WINDOW {
            return Err(EspError::InvalidConfig("replay window too large"));
        }
        // RFC 3948 encapsulates ESP only: AH's ICV covers the addresses a NAT rewrites.
        if cfg.protocol == SecurityProtocol::Ah && cfg.encap {
            return Err(EspError::InvalidConfig("AH cannot be UDP-encapsulated"));
        }
        if self.sad.contains_key(&cfg.inbound.spi) {
            return Err(EspError::DuplicateSpi(cfg.inbound.spi));
        }
        let outbound = OutboundSa::new(&cfg.outbound, cfg.esn, &cfg.lifetime, cfg.protocol)?;
        let inbound = InboundSa::new(
            cfg.id,
            &cfg.inbound,
            cfg.replay_window,
            cfg.esn,
            &cfg.lifetime,
            cfg.protocol,
        )?;
        self.sad.insert(cfg.inbound.spi, Arc::new(inbound));
        let child = Arc::new(Child {
            id: cfg.id,
            mode: cfg.mode,
            protocol: cfg.protocol,
            local_ts: cfg.local_ts,
            remote_ts: cfg.remote_ts,
            local: cfg.local,
            remote: cfg.remote,
            encap: cfg.encap,
            replay_window: cfg.replay_window,
            esn: cfg.esn,
            lifetime: cfg.lifetime,
            options: cfg.options,
            outer_hdr: outer_hdr(cfg.remote, cfg.encap),
            max_inner: max_inner(&outbound, cfg.remote, cfg.encap, cfg.options.path_mtu),
            outbound: Arc::new(outbound),
            inbound_spis: vec![cfg.inbound.spi],
            retired: Arc::new(Mutex::new(ChildStats::default())),
        });
        self.spd.push(child.clone());
        self.children.insert(cfg.id, child);
        Ok(ChildHandle(cfg.id))
    }
}
