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

/// The receive window for one inbound SA. Sequence numbers are `u64`: with ESN
/// (RFC 4304, RFC 4303 Appendix A) the full 64-bit number, inferred by [`ReplayWindow::infer`]
/// from the 32 bits on the wire; without ESN they never exceed 2^32 − 1.
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

    /// The full 64-bit sequence number of a packet carrying the low half `seql`
    /// (RFC 4303 Appendix A2.2). The window's top `T = Th:Tl` and size `W` decide:
    /// - Case A, `Tl >= W − 1` (the window lies in one 2^32 subspace): `seql >= Tl − W + 1`
    ///   is in the window or ahead in the same subspace (`Th`), anything lower is in the next
    ///   one (`Th + 1`).
    /// - Case B, `Tl < W − 1` (the window spans two subspaces): `seql >= Tl − W + 1 (mod 2^32)`
    ///   is in the window's older part (`Th − 1`), anything else in `Th`.
    ///
    /// So every number from `T − W + 1` to `T + 2^32 − W` is recovered exactly. `None` when
    /// the inference points before 0 (`Th = 0` in case B: such a packet was never sent).
    /// With the check disabled (`W = 0`) half the space is assumed on either side of `T`.
    /// (Appendix A3's resynchronisation after many lost packets is not attempted.)
    pub fn infer(&self, seql: u32) -> Option<u64> {
        Self::infer_at(self.top, self.size, seql)
    }

    /// [`ReplayWindow::infer`] for a window of `size` whose top is `top` (read without the
    /// window, e.g. from [`crate::sa::InboundSa::top_hint`]).
    pub fn infer_at(top: u64, size: u64, seql: u32) -> Option<u64> {
        let w = if size == 0 { 1 << 31 } else { size };
        let th = top >> 32;
        let tl = top & 0xffff_ffff;
        let seql = u64::from(seql);
        let hi = if tl >= w - 1 {
            if seql >= tl - (w - 1) {
                th
            } else {
                th.checked_add(1)?
            }
        } else if seql >= tl + (1 << 32) - (w - 1) {
            th.checked_sub(1)?
        } else {
            th
        };
        (hi <= u64::from(u32::MAX)).then_some((hi << 32) | seql)
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

        /// ESN inference (RFC 4303 Appendix A2.2) recovers every number from `T − W + 1` to
        /// `T + 2^32 − W` exactly, wherever `T` sits relative to a 2^32 boundary.
        #[test]
        fn esn_inference_recovers_the_full_number(
            size in prop::sample::select(vec![0u32, 1, 32, 64, 1000, 4096]),
            th in 0u64..4,
            tl in prop::sample::select(vec![0u64, 1, 31, 63, 4094, 4095, 4096, 1 << 31, u64::from(u32::MAX) - 4096, u64::from(u32::MAX)]),
            tl_jitter in 0u64..3,
            delta_pick in 0u8..4,
            delta_small in 0u64..5000,
        ) {
            let top = (th << 32) | tl.saturating_add(tl_jitter).min(u64::from(u32::MAX));
            let mut w = ReplayWindow::new(size);
            if top > 0 {
                w.update(top);
            }
            let ws = if size == 0 { 1u64 << 31 } else { u64::from(size) };
            let hi = (1u64 << 32) - ws; // the furthest ahead still recovered
            let lo = ws - 1; // the furthest behind still recovered
            let delta: i128 = match delta_pick {
                0 => -(i128::from(delta_small.min(lo))),
                1 => i128::from(delta_small.min(hi)),
                2 => i128::from(hi) - i128::from(delta_small.min(hi)),
                _ => -i128::from(lo) + i128::from(delta_small.min(lo)),
            };
            let s = i128::from(top) + delta;
            prop_assume!(s >= 1);
            let s = s as u64;
            prop_assert_eq!(w.infer(s as u32), Some(s), "top {:#x} W {} s {:#x}", top, size, s);
        }

        /// With ESN, packets sent across a 2^32 boundary and reordered within the window are
        /// each accepted once (low half on the wire, high half inferred), like a naive model
        /// on the full 64-bit numbers says.
        #[test]
        fn esn_window_across_the_wrap(
            size in prop::sample::select(vec![32u32, 64, 128, 1000, 4096]),
            wrap in 1u64..3,
            start_back in 1u64..6000,
            steps in proptest::collection::vec((0u64..40, 0u64..200, any::<bool>()), 1..400),
        ) {
            let mut w = ReplayWindow::new(size);
            let mut seen = std::collections::BTreeSet::new();
            let mut top = 0u64;
            // The sender's counter walks forward; each arrival is the counter's value or an
            // older one (reordering, duplicates), within 200 of it.
            let mut sent = (wrap << 32) - start_back;
            for (adv, back, dup) in steps {
                sent += adv;
                let s = if dup { sent.saturating_sub(back).max(1) } else { sent };
                // The sender reaches the window before reordering starts.
                if top == 0 { w.update(sent); seen.insert(sent); top = sent; continue; }
                let inferred = w.infer(s as u32);
                if top >= s && top - s >= u64::from(size) {
                    // Older than the window: either inferred into another subspace (the ICV
                    // then fails) or found too old; never accepted.
                    prop_assert!(inferred != Some(s) || w.check(s) == ReplayCheck::TooOld);
                    continue;
                }
                prop_assert_eq!(inferred, Some(s), "top {:#x}", top);
                let expect = if seen.contains(&s) {
                    ReplayCheck::Duplicate
                } else {
                    ReplayCheck::Fresh
                };
                prop_assert_eq!(w.check(s), expect, "seq {:#x} top {:#x}", s, top);
                if expect == ReplayCheck::Fresh {
                    w.update(s);
                    seen.insert(s);
                    top = top.max(s);
                }
            }
        }
    }

    #[test]
    fn esn_inference_edges() {
        // Top 2^32 + 10, W = 64: the window spans the boundary (case B).
        let mut w = ReplayWindow::new(64);
        w.update((1 << 32) + 10);
        assert_eq!(w.infer(10), Some((1 << 32) + 10));
        assert_eq!(w.infer(u32::MAX), Some((1 << 32) - 1), "older part, Th − 1");
        assert_eq!(w.infer(11), Some((1 << 32) + 11), "ahead");
        // Top 100, W = 64 (case A): low numbers below the window belong to the next subspace.
        let mut w = ReplayWindow::new(64);
        w.update(100);
        assert_eq!(w.infer(37), Some(37));
        assert_eq!(w.infer(36), Some((1 << 32) + 36));
        // Top 10 with W = 64 (case B, Th = 0): numbers "before 0" were never sent.
        let mut w = ReplayWindow::new(64);
        w.update(10);
        assert_eq!(w.infer(u32::MAX), None);
        assert_eq!(w.infer(5), Some(5));
        // The very end of the 64-bit space: no subspace after it.
        let mut w = ReplayWindow::new(64);
        w.update(u64::MAX);
        assert_eq!(w.infer(0), None);
        assert_eq!(w.infer(u32::MAX - 3), Some(u64::MAX - 3));
    }

    #[test]
    fn window_of_4096_is_64_words_plus_one() {
        let w = ReplayWindow::new(4096);
        assert_eq!(w.words.len(), 128);
        let mut w = ReplayWindow::new(4096);
        w.update(5000);
        assert_eq!(w.check(5000 - 4095), ReplayCheck::Fresh);
        assert_eq!(w.check(5000 - 4096), ReplayCheck::TooOld);
    }
}
