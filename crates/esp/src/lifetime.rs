//! Byte and packet lifetimes of one SA (RFC 4301 §4.4.2.1) and sequence-number exhaustion
//! (RFC 4303 §3.3.3), turned into events that are raised once per SA and threshold.
//!
//! The packet path only compares numbers it has anyway: the sequence number it just
//! allocated, the byte counter's value before its own `fetch_add`. Exactly one packet crosses
//! each threshold (the one that moved the counter from below to at-or-above it), so exactly
//! one thread raises each event, without a lock.

use crate::config::Lifetime;

/// Why an SA expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryCause {
    /// Its byte limit.
    Bytes,
    /// Its packet limit.
    Packets,
    /// Outbound without ESN: the 32-bit sequence number nears (soft) or reached (hard) its end
    /// (RFC 4303 §3.3.3: a new SA must be negotiated before it cycles).
    SequenceNumbers,
}

/// Soft or hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryKind {
    /// Rekey now (the IKE engine: `child_soft_expired`).
    Soft,
    /// The SA carries nothing more; delete it (`child_hard_expired`).
    Hard,
}

/// Which of a child's SAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A receiving SA (`spi` is ours).
    Inbound,
    /// The sending SA (`spi` is the peer's).
    Outbound,
}

/// An SA reached a lifetime limit; read with `DataPlane::take_events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaEvent {
    /// The child the SA belongs to (the IKE engine's child id).
    pub child_id: u64,
    /// The SA's SPI.
    pub spi: u32,
    /// Which SA.
    pub direction: Direction,
    /// Soft or hard.
    pub kind: ExpiryKind,
    /// Which limit.
    pub cause: ExpiryCause,
}

/// Outbound sequence numbers left when the soft "exhaustion" event is raised for an SA
/// without ESN: 2^28 (about 6 % of the space; minutes at a million packets per second).
pub const SEQ_SOFT_MARGIN: u64 = 1 << 28;

/// The thresholds of one SA, `u64::MAX` where there is none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    soft_bytes: u64,
    hard_bytes: u64,
    soft_packets: u64,
    hard_packets: u64,
}

/// `true` when adding `n` to a counter that was `before` reaches `limit` for the first time.
fn crosses(before: u64, n: u64, limit: u64) -> bool {
    before < limit && before.saturating_add(n) >= limit
}

impl Limits {
    pub fn new(l: &Lifetime) -> Self {
        let v = |x: Option<u64>| x.unwrap_or(u64::MAX);
        Self {
            soft_bytes: v(l.soft_bytes),
            hard_bytes: v(l.hard_bytes),
            soft_packets: v(l.soft_packets),
            hard_packets: v(l.hard_packets),
        }
    }

    /// Whether there is a hard limit at all (the common case has none: no check per packet).
    pub fn has_hard(&self) -> bool {
        self.hard_packets != u64::MAX || self.hard_bytes != u64::MAX
    }

    /// Whether a packet may still use the SA: `packets` were counted before it and `bytes`.
    pub fn allows(&self, packets: u64, bytes: u64) -> bool {
        packets < self.hard_packets && bytes < self.hard_bytes
    }

    /// The events one packet of `len` bytes raises, given the counters before it. Calls
    /// `raise` at most twice (soft and hard), only on the crossing packet.
    pub fn crossed(
        &self,
        packets_before: u64,
        bytes_before: u64,
        len: u64,
        mut raise: impl FnMut(ExpiryKind, ExpiryCause),
    ) {
        if crosses(packets_before, 1, self.soft_packets) {
            raise(ExpiryKind::Soft, ExpiryCause::Packets);
        } else if crosses(bytes_before, len, self.soft_bytes) {
            raise(ExpiryKind::Soft, ExpiryCause::Bytes);
        }
        if crosses(packets_before, 1, self.hard_packets) {
            raise(ExpiryKind::Hard, ExpiryCause::Packets);
        } else if crosses(bytes_before, len, self.hard_bytes) {
            raise(ExpiryKind::Hard, ExpiryCause::Bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threshold_is_crossed_once() {
        let l = Limits::new(&Lifetime {
            soft_bytes: Some(250),
            hard_bytes: Some(400),
            soft_packets: Some(3),
            hard_packets: None,
        });
        let mut seen = Vec::new();
        let (mut p, mut b) = (0u64, 0u64);
        for _ in 0..6 {
            if l.allows(p, b) {
                l.crossed(p, b, 100, |k, c| seen.push((p + 1, k, c)));
                p += 1;
                b += 100;
            }
        }
        // Packet 3 reaches the soft packet limit (and 300 bytes, but one soft event per packet);
        // packet 4 the hard byte limit; nothing after it.
        assert_eq!(
            seen,
            [
                (3, ExpiryKind::Soft, ExpiryCause::Packets),
                (4, ExpiryKind::Hard, ExpiryCause::Bytes)
            ]
        );
        assert_eq!((p, b), (4, 400));
        assert!(crosses(0, 1, 1) && !crosses(1, 1, 1) && !crosses(0, 0, 1));
        // No limit (u64::MAX) is never reached, even by a saturating counter.
        assert!(!crosses(u64::MAX, 5, u64::MAX));
    }
}
