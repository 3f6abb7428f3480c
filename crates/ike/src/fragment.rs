//! Reassembly of IKEv2 fragments (RFC 7383 §2.6): each fragment is authenticated and decrypted
//! on its own; the plaintexts are joined once all have arrived. Bounded in fragment count, total
//! size and time, so a peer cannot make us hold unbounded memory.

use std::time::{Duration, Instant};

/// Most fragments accepted for one message.
pub(crate) const MAX_FRAGMENTS: u16 = 64;
/// Most plaintext octets accepted for one reassembled message.
pub(crate) const MAX_REASSEMBLED: usize = 64 * 1024;
/// An incomplete message is dropped after this long.
pub(crate) const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(30);

/// One message being reassembled.
#[derive(Debug)]
pub(crate) struct Reassembly {
    pub response: bool,
    pub message_id: u32,
    total: u16,
    first_inner: Option<u8>,
    parts: Vec<Option<Vec<u8>>>,
    size: usize,
    started: Instant,
}

/// What one more fragment did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// All fragments are here: the first inner payload type and the joined plaintext.
    Complete(u8, Vec<u8>),
    /// Waiting for more.
    Pending,
    /// Refused (inconsistent total, over the limits); the message is dropped.
    Refused,
}

impl Reassembly {
    pub fn new(response: bool, message_id: u32, total: u16, now: Instant) -> Option<Self> {
        if total == 0 || total > MAX_FRAGMENTS {
            return None;
        }
        Some(Self {
            response,
            message_id,
            total,
            first_inner: None,
            parts: vec![None; usize::from(total)],
            size: 0,
            started: now,
        })
    }

    pub fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.started) >= REASSEMBLY_TIMEOUT
    }

    /// Adds an authenticated, decrypted fragment. Duplicates are ignored.
    pub fn add(&mut self, number: u16, total: u16, first_inner: u8, chunk: Vec<u8>) -> Added {
        if total != self.total || number == 0 || number > total {
            return Added::Refused;
        }
        let slot = usize::from(number - 1);
        if self.parts.get(slot).is_some_and(Option::is_some) {
            return Added::Pending;
        }
        self.size = self.size.saturating_add(chunk.len());
        if self.size > MAX_REASSEMBLED {
            return Added::Refused;
        }
        if number == 1 {
            self.first_inner = Some(first_inner);
        }
        if let Some(p) = self.parts.get_mut(slot) {
            *p = Some(chunk);
        }
        if self.parts.iter().any(Option::is_none) {
            return Added::Pending;
        }
        let mut all = Vec::with_capacity(self.size);
        for p in self.parts.iter_mut() {
            if let Some(c) = p.take() {
                all.extend_from_slice(&c);
            }
        }
        Added::Complete(self.first_inner.unwrap_or(0), all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_in_any_order_and_bounds() {
        let now = Instant::now();
        let mut r = Reassembly::new(false, 1, 3, now).unwrap();
        assert_eq!(r.add(3, 3, 0, vec![5, 6]), Added::Pending);
        assert_eq!(r.add(1, 3, 35, vec![1, 2]), Added::Pending);
        assert_eq!(
            r.add(1, 3, 35, vec![9, 9]),
            Added::Pending,
            "duplicate ignored"
        );
        assert_eq!(r.add(2, 4, 0, vec![3]), Added::Refused, "total changed");
        assert_eq!(
            r.add(2, 3, 0, vec![3, 4]),
            Added::Complete(35, vec![1, 2, 3, 4, 5, 6])
        );
        assert!(Reassembly::new(false, 1, MAX_FRAGMENTS + 1, now).is_none());
        let mut big = Reassembly::new(false, 1, 2, now).unwrap();
        assert_eq!(
            big.add(1, 2, 35, vec![0; MAX_REASSEMBLED + 1]),
            Added::Refused
        );
        assert!(big.expired(now + REASSEMBLY_TIMEOUT));
    }
}
