//! Counters: per Child SA and per SA traffic, and per-reason drops, read as plain snapshots
//! with `DataPlane::child_stats` / `inbound_sa_stats` / `outbound_sa_stats` / `drop_counters`.
//! The packet path keeps them cheaply (several workers share one data plane): an outbound SA
//! counts bytes in an atomic and packets by its sequence counter, an inbound SA counts under
//! the replay window's lock it takes anyway, a child sums its SAs plus those it no longer
//! has, drops are atomics. `Relaxed` ordering: each counter is exact, a snapshot of several
//! is not a single instant.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::DropReason;

/// Traffic of one Child SA (both directions, every inbound SA of the child included). Bytes
/// count inner IP packets (what enters or leaves the tunnel), not ESP overhead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildStats {
    /// Inner bytes accepted inbound.
    pub bytes_in: u64,
    /// Packets accepted inbound.
    pub packets_in: u64,
    /// Inner bytes sent outbound.
    pub bytes_out: u64,
    /// Packets sent outbound.
    pub packets_out: u64,
}

/// Traffic accepted on one inbound SA (to tell whether an old SA still carries traffic
/// during a rekey).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaStats {
    /// Inner bytes.
    pub bytes: u64,
    /// Packets.
    pub packets: u64,
    /// Highest sequence number authenticated so far (inbound) or sent (outbound).
    pub highest_seq: u64,
}

/// How many packets were dropped, per [`DropReason`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounters {
    counts: [u64; DropReason::ALL.len()],
}

impl DropCounters {
    fn index(reason: DropReason) -> usize {
        // `DropReason::ALL` lists the variants in declaration order (tested below).
        reason as usize
    }

    /// Counts one drop.
    #[cfg(test)]
    pub(crate) fn bump(&mut self, reason: DropReason) {
        if let Some(c) = self.counts.get_mut(Self::index(reason)) {
            *c = c.wrapping_add(1);
        }
    }

    /// Drops for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts.get(Self::index(reason)).copied().unwrap_or(0)
    }

    /// Total drops.
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, c| a.wrapping_add(*c))
    }

    /// `(reason, count)` for every reason, zeros included.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .iter()
            .copied()
            .zip(self.counts.iter().copied())
    }
}

impl ChildStats {
    /// Adds an outbound SA's traffic.
    pub(crate) fn add_out(&mut self, s: SaStats) {
        self.bytes_out = self.bytes_out.wrapping_add(s.bytes);
        self.packets_out = self.packets_out.wrapping_add(s.packets);
    }

    /// Adds an inbound SA's traffic.
    pub(crate) fn add_in(&mut self, s: SaStats) {
        self.bytes_in = self.bytes_in.wrapping_add(s.bytes);
        self.packets_in = self.packets_in.wrapping_add(s.packets);
    }
}

/// The live per-reason drop counters.
#[derive(Debug, Default)]
pub(crate) struct DropAtomics {
    counts: [AtomicU64; DropReason::ALL.len()],
}

impl DropAtomics {
    pub(crate) fn bump(&self, reason: DropReason) {
        if let Some(c) = self.counts.get(DropCounters::index(reason)) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> DropCounters {
        let mut d = DropCounters::default();
        for (dst, src) in d.counts.iter_mut().zip(&self.counts) {
            *dst = src.load(Relaxed);
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_declaration_order() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r}");
        }
        let mut c = DropCounters::default();
        c.bump(DropReason::Replay);
        c.bump(DropReason::Replay);
        c.bump(DropReason::CryptoFailure);
        assert_eq!(c.get(DropReason::Replay), 2);
        assert_eq!(c.get(DropReason::CryptoFailure), 1);
        assert_eq!(c.get(DropReason::Truncated), 0);
        assert_eq!(c.total(), 3);
        assert_eq!(c.iter().count(), DropReason::ALL.len());
    }

    #[test]
    fn atomics_snapshot() {
        let a = DropAtomics::default();
        a.bump(DropReason::NoPolicy);
        a.bump(DropReason::NoPolicy);
        let s = a.snapshot();
        assert_eq!(s.get(DropReason::NoPolicy), 2);
        assert_eq!(s.total(), 2);
        let mut c = ChildStats::default();
        c.add_out(SaStats {
            bytes: 150,
            packets: 2,
            highest_seq: 7,
        });
        c.add_in(SaStats {
            bytes: 10,
            packets: 1,
            highest_seq: 1,
        });
        assert_eq!(
            (c.bytes_out, c.packets_out, c.bytes_in, c.packets_in),
            (150, 2, 10, 1)
        );
    }
}
