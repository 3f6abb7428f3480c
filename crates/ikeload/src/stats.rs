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

    /// One line of `key=value` pairs (scripts/bench-ike.sh reads it). `load_cpu_ms` is this
    /// generator's own CPU time per cycle: when it is near 1 / rate, the generator, not the
    /// responder, limited the rate.
    pub fn report(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.cycles as f64 / secs
        } else {
            0.0
        };
        let cpu = own_cpu_secs()
            .filter(|_| self.cycles > 0)
            .map_or("n/a".to_string(), |c| {
                format!("{:.4}", c * 1000.0 / self.cycles as f64)
            });
        format!(
            "cycles={} failed={} extra_init={} retransmits={} secs={secs:.3} rate={rate:.1} \
             load_cpu_ms={cpu}",
            self.cycles, self.failed, self.extra_init, self.retransmits
        )
    }
}

/// User + system CPU seconds of this process, all threads (fields 14 and 15 of
/// /proc/self/stat, in USER_HZ = 100 ticks per second on Linux).
fn own_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 2 (the command) may contain spaces: count from after its closing parenthesis.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command come field 3 (state) onwards: utime is field 14, stime field 15.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
