//! Counters: per Child SA and per inbound SA traffic, and per-reason drops. Plain integers
//! updated on the packet path; read them with `DataPlane::child_stats` / `drop_counters`.

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
}
