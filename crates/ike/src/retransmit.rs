//! Retransmission of requests (RFC 7296 §2.1, §2.4): a request is resent with growing timeouts
//! until a response arrives or the tries are used up.

use std::time::{Duration, Instant};

use crate::config::EngineConfig;

/// The outstanding request of an IKE SA (window size 1, RFC 7296 §2.3).
#[derive(Debug, Clone)]
pub(crate) struct Outstanding {
    /// Its message ID.
    pub message_id: u32,
    /// The datagram payloads as sent (several for a fragmented message; resent unchanged).
    pub payloads: Vec<Vec<u8>>,
    /// Retransmissions so far.
    pub tries: u32,
    /// When to resend (or give up).
    pub deadline: Instant,
}

impl Outstanding {
    /// A request sent at `now`.
    pub fn new(message_id: u32, payloads: Vec<Vec<u8>>, now: Instant, cfg: &EngineConfig) -> Self {
        Self {
            message_id,
            payloads,
            tries: 0,
            deadline: now + cfg.retransmit_timeout,
        }
    }

    /// Called at the deadline: `true` to resend (deadline moved on), `false` when tries are
    /// exhausted (the deadline then marks the end of the last wait).
    pub fn on_timeout(&mut self, now: Instant, cfg: &EngineConfig) -> bool {
        if self.tries >= cfg.retransmit_tries {
            return false;
        }
        self.tries += 1;
        let factor = cfg.retransmit_base.powi(self.tries as i32);
        let wait = cfg.retransmit_timeout.as_secs_f64() * factor;
        self.deadline = now + Duration::from_secs_f64(wait.min(3600.0));
        true
    }
}
