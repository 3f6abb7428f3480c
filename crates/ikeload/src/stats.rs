//! Counters of one initiator, summed over all, and the report line.

use std::time::Duration;

/// What happened.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Setup + teardown cycles completed.
    pub cycles: u64,
    /// Setups that failed (IKE SA down before it came up, or no answer in time).
    pub failed: u64,
    /// IKE_SA_INIT requests beyond one per setup (cookie or INVALID_KE_PAYLOAD round trips).
    pub extra_init: u64,
    /// Requests sent again (lost or slow answers).
    pub retransmits: u64,
}

impl Stats {
    /// Adds another initiator's counters.
    pub fn add(&mut self, o: &Stats) {
        self.cycles += o.cycles;
        self.failed += o.failed;
        self.extra_init += o.extra_init;
        self.retransmits += o.retransmits;
    }

    /// One line of `key=value` pairs (scripts/bench-ike.sh reads it).
    pub fn report(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.cycles as f64 / secs
        } else {
            0.0
        };
        format!(
            "cycles={} failed={} extra_init={} retransmits={} secs={secs:.3} rate={rate:.1}",
            self.cycles, self.failed, self.extra_init, self.retransmits
        )
    }
}
