//! The [`DataPlane`]: SPD, SAD and counters, plus the control-path calls the daemon makes when
//! IKE installs, updates or removes Child SAs. The packet path is in `outbound.rs` and
//! `inbound.rs`.

use std::collections::HashMap;
use std::net::SocketAddr;

use crypto::{Random, SystemRandom};
use wire::TrafficSelector;

use crate::sa::{InboundSa, OutboundSa};
use crate::stats::{ChildStats, DropCounters, SaStats};
use crate::{ChildSaConfig, EspError, Mode, SaKeys};

/// What `install_child` returns: names the child in later calls (same as its `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildHandle(pub u64);

impl ChildHandle {
    /// The IKE engine's child id.
    pub fn id(self) -> u64 {
        self.0
    }
}

/// One SPD entry: the selectors of a child, in install order (RFC 4301 §4.4.1: the SPD is
/// ordered; the first match wins).
#[derive(Debug)]
pub(crate) struct Policy {
    pub child_id: u64,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
}

/// A Child SA: its selectors, outer addresses, sending SA, and the SPIs of its receiving SAs.
#[derive(Debug)]
pub(crate) struct Child {
    pub mode: Mode,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub encap: bool,
    pub replay_window: u32,
    pub outbound: OutboundSa,
    pub inbound_spis: Vec<u32>,
    pub stats: ChildStats,
}

/// The userspace ESP data plane (see the crate documentation for the calling contract).
pub struct DataPlane {
    pub(crate) spd: Vec<Policy>,
    pub(crate) children: HashMap<u64, Child>,
    pub(crate) sad: HashMap<u32, InboundSa>,
    pub(crate) drops: DropCounters,
    pub(crate) rng: Box<dyn Random>,
}

impl core::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DataPlane")
            .field("children", &self.children.len())
            .field("inbound_sas", &self.sad.len())
            .field("drops", &self.drops.total())
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
    pub fn with_rng(rng: Box<dyn Random>) -> Self {
        Self {
            spd: Vec::new(),
            children: HashMap::new(),
            sad: HashMap::new(),
            drops: DropCounters::default(),
            rng,
        }
    }

    /// Installs a Child SA: its SPD entry (after every existing one), its outbound SA and its
    /// first inbound SA (RFC 4301 §4.4.1, §4.4.2).
    pub fn install_child(&mut self, cfg: ChildSaConfig) -> Result<ChildHandle, EspError> {
        if self.children.contains_key(&cfg.id) {
            return Err(EspError::DuplicateChild(cfg.id));
        }
        if cfg.mode != Mode::Tunnel {
            return Err(EspError::Unsupported("transport mode"));
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
        if self.sad.contains_key(&cfg.inbound.spi) {
            return Err(EspError::DuplicateSpi(cfg.inbound.spi));
        }
        let outbound = OutboundSa::new(&cfg.outbound)?;
        let inbound = InboundSa::new(cfg.id, &cfg.inbound, cfg.replay_window)?;
        self.sad.insert(cfg.inbound.spi, inbound);
        self.spd.push(Policy {
            child_id: cfg.id,
            local_ts: cfg.local_ts.clone(),
            remote_ts: cfg.remote_ts.clone(),
        });
        self.children.insert(
            cfg.id,
            Child {
                mode: cfg.mode,
                local_ts: cfg.local_ts,
                remote_ts: cfg.remote_ts,
                local: cfg.local,
                remote: cfg.remote,
                encap: cfg.encap,
                replay_window: cfg.replay_window,
                outbound,
                inbound_spis: vec![cfg.inbound.spi],
                stats: ChildStats::default(),
            },
        );
        Ok(ChildHandle(cfg.id))
    }

    /// Removes a child with its SPD entry and every inbound SA; returns its final counters.
    pub fn remove_child(&mut self, id: u64) -> Result<ChildStats, EspError> {
        let child = self
            .children
            .remove(&id)
            .ok_or(EspError::UnknownChild(id))?;
        for spi in &child.inbound_spis {
            self.sad.remove(spi);
        }
        self.spd.retain(|p| p.child_id != id);
        Ok(child.stats)
    }

    /// The peer's outer address changed (a NAT mapping moved, RFC 7296 §2.23): send there from
    /// now on.
    pub fn update_peer(&mut self, id: u64, remote: SocketAddr) -> Result<(), EspError> {
        let child = self
            .children
            .get_mut(&id)
            .ok_or(EspError::UnknownChild(id))?;
        if child.local.is_ipv4() != remote.is_ipv4() {
            return Err(EspError::InvalidConfig(
                "outer addresses of different families",
            ));
        }
        child.remote = remote;
        Ok(())
    }

    /// Adds another inbound SA to a child (rekey overlap, RFC 7296 §2.8: the new SA receives
    /// while the old one still may). It shares the child's selectors and window size.
    pub fn add_inbound_sa(&mut self, id: u64, keys: SaKeys) -> Result<(), EspError> {
        let child = self
            .children
            .get_mut(&id)
            .ok_or(EspError::UnknownChild(id))?;
        if self.sad.contains_key(&keys.spi) {
            return Err(EspError::DuplicateSpi(keys.spi));
        }
        let sa = InboundSa::new(id, &keys, child.replay_window)?;
        self.sad.insert(keys.spi, sa);
        child.inbound_spis.push(keys.spi);
        Ok(())
    }

    /// Removes one inbound SA (the old one after a rekey); returns its counters.
    pub fn remove_inbound_sa(&mut self, spi: u32) -> Result<SaStats, EspError> {
        let sa = self.sad.remove(&spi).ok_or(EspError::UnknownSpi(spi))?;
        if let Some(child) = self.children.get_mut(&sa.child_id) {
            child.inbound_spis.retain(|s| *s != spi);
        }
        Ok(sa.stats)
    }

    /// Replaces a child's outbound SA (rekey: switch sending to the new SA); the sequence
    /// number restarts at 1. Returns the old SA's counters.
    pub fn replace_outbound_sa(&mut self, id: u64, keys: SaKeys) -> Result<SaStats, EspError> {
        let child = self
            .children
            .get_mut(&id)
            .ok_or(EspError::UnknownChild(id))?;
        let new = OutboundSa::new(&keys)?;
        let old = core::mem::replace(&mut child.outbound, new);
        Ok(old.stats)
    }

    /// Traffic counters of a child (every SA it ever had, both directions).
    pub fn child_stats(&self, id: u64) -> Option<ChildStats> {
        self.children.get(&id).map(|c| c.stats)
    }

    /// Counters of one inbound SA.
    pub fn inbound_sa_stats(&self, spi: u32) -> Option<SaStats> {
        self.sad.get(&spi).map(|sa| sa.stats)
    }

    /// Counters of a child's current outbound SA (`highest_seq` = last sequence number sent).
    pub fn outbound_sa_stats(&self, id: u64) -> Option<SaStats> {
        self.children.get(&id).map(|c| c.outbound.stats)
    }

    /// The child an inbound SPI belongs to.
    pub fn child_of_spi(&self, spi: u32) -> Option<u64> {
        self.sad.get(&spi).map(|sa| sa.child_id)
    }

    /// The inbound SPIs of a child, oldest first.
    pub fn inbound_spis(&self, id: u64) -> Option<&[u32]> {
        self.children.get(&id).map(|c| c.inbound_spis.as_slice())
    }

    /// Ids of the installed children, in SPD order.
    pub fn child_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.spd.iter().map(|p| p.child_id)
    }

    /// Per-reason drop counters.
    pub fn drop_counters(&self) -> &DropCounters {
        &self.drops
    }

    /// Worst-case bytes a child's tunnel adds to an inner packet on the wire: outer IP header
    /// (20 or 40), UDP header when encapsulating (8), ESP header (8), IV, the largest padding
    /// (alignment − 1), Pad Length and Next Header (2), ICV. Subtract it from the path MTU to
    /// size the TUN MTU.
    pub fn overhead(&self, id: u64) -> Option<usize> {
        let c = self.children.get(&id)?;
        let x = &c.outbound.xform;
        let outer_ip = if c.remote.is_ipv4() { 20 } else { 40 };
        let udp = if c.encap { 8 } else { 0 };
        Some(
            outer_ip
                + udp
                + wire::esp::ESP_HEADER_LEN
                + x.iv_len
                + (x.align() - 1)
                + wire::esp::ESP_TRAILER_LEN
                + x.icv_len,
        )
    }
}
