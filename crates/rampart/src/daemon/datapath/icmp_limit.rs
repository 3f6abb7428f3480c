//! Rate limit for the ICMP errors the data path writes back into the TUN device (RFC 1812
//! §4.3.2.8, RFC 4443 §2.4 (f): ICMP errors are rate-limited). A fixed window per worker; the
//! clock is read only when an error is about to be sent, never per packet.

use std::time::{Duration, Instant};

/// Errors allowed per window.
const BURST: u32 = 20;
/// The window.
const WINDOW: Duration = Duration::from_millis(100);

/// At most [`BURST`] errors per [`WINDOW`] (200 a second).
#[derive(Debug)]
pub struct IcmpLimit {
    start: Option<Instant>,
    sent: u32,
}

impl IcmpLimit {
    pub fn new() -> Self {
        Self {
            start: None,
            sent: 0,
        }
    }

    /// Whether one more error may be sent at `now` (counts it if so).
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.start {
            Some(s) if now.saturating_duration_since(s) < WINDOW => {}
            _ => {
                self.start = Some(now);
                self.sent = 0;
            }
        }
        if self.sent < BURST {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_next_window() {
        let t0 = Instant::now();
        let mut l = IcmpLimit::new();
        let n = (0..50).filter(|_| l.allow(t0)).count();
        assert_eq!(n, BURST as usize);
        assert!(!l.allow(t0 + WINDOW / 2));
        assert!(l.allow(t0 + WINDOW));
    }
}
