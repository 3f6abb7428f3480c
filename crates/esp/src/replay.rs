//! Anti-replay window (RFC 4303 §3.4.3), kept as a ring of 64-bit words so that advancing the
//! window never shifts the bitmap (RFC 6479 §3).
//!
//! The receiver first [`check`](ReplayWindow::check)s a sequence number (cheap, before the ICV),
//! then, only once the ICV verified, [`update`](ReplayWindow::update)s the window.

/// Outcome of [`ReplayWindow::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayCheck {
    /// Not seen, inside the window or to the right of it.
    Fresh,
    /// Already received.
    Duplicate,
    /// Left of the window (too old), or 0 (never sent, RFC 4303 §3.3.3).
    TooOld,
}

/// The receive window for one inbound SA. Sequence numbers are kept as `u64` so that ESN
/// (RFC 4303 §3.4.3.2 / Appendix A) can later reuse this type.
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    /// Window size W in packets; 0 disables the check.
    size: u64,
    /// Highest sequence number authenticated so far (0: none yet).
    top: u64,
    /// Ring of bits; seq `s` is bit `s % 64` of word `(s / 64) % words.len()`.
    words: Vec<u64>,
}

impl ReplayWindow {
    /// A window of `size` packets. The ring has one spare word beyond the window
    /// (RFC 6479 §3) and a power-of-two number of words.
    pub fn new(size: u32) -> Self {
        let needed = (size as usize).div_ceil(64) + 1;
        Self {
            size: u64::from(size),
            top: 0,
            words: vec![0; needed.next_power_of_two()],
        }
    }

    /// Highest authenticated sequence number so far.
    pub fn top(&self) -> u64 {
        self.top
    }

    fn slot(&self, seq: u64) -> (usize, u64) {
        let mask = self.words.len() as u64 - 1;
        (((seq >> 6) & mask) as usize, 1u64 << (seq & 63))
    }

    /// Is `seq` acceptable? Does not change the window (RFC 4303 §3.4.3: check before the ICV).
    pub fn check(&self, seq: u64) -> ReplayCheck {
        if seq == 0 {
            return ReplayCheck::TooOld;
        }
        if self.size == 0 || seq > self.top {
            return ReplayCheck::Fresh;
        }
        if self.top - seq >= self.size {
            return ReplayCheck::TooOld;
        }
        let (w, bit) = self.slot(seq);
        match self.words.get(w) {
            Some(word) if word & bit != 0 => ReplayCheck::Duplicate,
            _ => ReplayCheck::Fresh,
        }
    }

    /// Records an authenticated `seq` (call only after the ICV verified and `check` said
    /// `Fresh`): slides the window right when `seq` is new, then marks it.
    pub fn update(&mut self, seq: u64) {
        if self.size == 0 {
            self.top = self.top.max(seq);
            return;
        }
        if seq > self.top {
            let n = self.words.len() as u64;
            let cur = self.top >> 6;
            let new = seq >> 6;
            // Clear the words that the window slides onto (at most the whole ring).
            let steps = (new - cur).min(n);
            for i in 1..=steps {
                let (w, _) = self.slot((cur + i) << 6);
                if let Some(word) = self.words.get_mut(w) {
                    *word = 0;
                }
            }
            self.top = seq;
        }
        let (w, bit) = self.slot(seq);
        if let Some(word) = self.words.get_mut(w) {
            *word |= bit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_window() {
        let mut w = ReplayWindow::new(64);
        assert_eq!(w.check(0), ReplayCheck::TooOld);
        assert_eq!(w.check(1), ReplayCheck::Fresh);
        w.update(1);
        assert_eq!(w.check(1), ReplayCheck::Duplicate);
        w.update(100);
        assert_eq!(w.top(), 100);
        // 100 - 36 = 64 >= W: too old; 37 is the oldest acceptable.
        assert_eq!(w.check(36), ReplayCheck::TooOld);
        assert_eq!(w.check(37), ReplayCheck::Fresh);
        assert_eq!(w.check(99), ReplayCheck::Fresh);
        w.update(99);
        assert_eq!(w.check(99), ReplayCheck::Duplicate);
        assert_eq!(w.check(100), ReplayCheck::Duplicate);
        // A big jump clears stale bits that alias in the ring.
        w.update(100 + 64 * 4);
        assert_eq!(w.check(100 + 64 * 4 - 1), ReplayCheck::Fresh);
        assert_eq!(w.check(100 + 64 * 4), ReplayCheck::Duplicate);
    }

    #[test]
    fn disabled_window_accepts_repeats() {
        let mut w = ReplayWindow::new(0);
        w.update(5);
        assert_eq!(w.check(5), ReplayCheck::Fresh);
        assert_eq!(w.check(0), ReplayCheck::TooOld);
    }

    proptest! {
        /// The ring bitmap agrees with a naive set-based model for any sequence of arrivals.
        #[test]
        fn matches_naive_model(size in prop::sample::select(vec![1u32, 32, 64, 100, 128, 1000]),
                               seqs in proptest::collection::vec(1u64..3000, 1..300)) {
            let mut w = ReplayWindow::new(size);
            let mut seen = std::collections::BTreeSet::new();
            let mut top = 0u64;
            for s in seqs {
                let expect = if top >= s && top - s >= u64::from(size) {
                    ReplayCheck::TooOld
                } else if seen.contains(&s) {
                    ReplayCheck::Duplicate
                } else {
                    ReplayCheck::Fresh
                };
                prop_assert_eq!(w.check(s), expect, "seq {} top {}", s, top);
                if expect == ReplayCheck::Fresh {
                    w.update(s);
                    seen.insert(s);
                    top = top.max(s);
                }
            }
        }
    }
}
