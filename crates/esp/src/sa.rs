//! The Security Association Database entries (RFC 4301 §4.4.2): one outbound SA per child and
//! one or more inbound SAs, each with its keyed cipher.
//!
//! Several workers use one SA at once: the outbound sequence number is an atomic counter
//! (the AEAD IV is the sequence number, RFC 4106 §3.1, so each value is handed out exactly
//! once), the inbound replay window sits behind a small lock of its own, counters are atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crypto::{Cipher, IntegId};

use crate::replay::ReplayWindow;
use crate::stats::{SaCounters, SaStats};
use crate::{EspError, SaKeys};

/// The keyed transform plus the sizes the packet path needs, read once at install.
#[derive(Debug)]
pub(crate) struct Transform {
    pub cipher: Cipher,
    pub iv_len: usize,
    pub icv_len: usize,
    pub block_len: usize,
    /// AEAD: the IV is the 64-bit sequence number (RFC 4106 §3.1); otherwise random
    /// (RFC 3602 §3).
    pub aead: bool,
}

impl Transform {
    pub fn new(keys: &SaKeys) -> Result<Self, EspError> {
        if keys.spi < wire::esp::SPI_MIN {
            return Err(EspError::ReservedSpi(keys.spi));
        }
        let aead = Cipher::is_aead(keys.encr);
        let integ = match keys.integ {
            Some(IntegId::None) => None,
            other => other,
        };
        if aead && integ.is_some() {
            return Err(EspError::InvalidConfig(
                "an AEAD cipher takes no integrity algorithm",
            ));
        }
        if !aead && integ.is_none() {
            // RFC 4303 §3.2 allows confidentiality-only ESP, but RFC 8221 §5 says MUST NOT.
            return Err(EspError::Unsupported("ESP without integrity protection"));
        }
        let cipher = Cipher::new(
            keys.encr,
            integ,
            keys.encr_key.as_slice(),
            keys.integ_key.as_slice(),
        )?;
        let iv_len = cipher.iv_len();
        if aead && iv_len < 8 {
            return Err(EspError::Unsupported(
                "AEAD with an IV shorter than 8 bytes",
            ));
        }
        Ok(Self {
            iv_len,
            icv_len: cipher.icv_len(),
            block_len: cipher.block_len().max(1),
            aead,
            cipher,
        })
    }

    /// ESP's ciphertext alignment (RFC 4303 §2.4).
    pub fn align(&self) -> usize {
        wire::esp::alignment(self.block_len)
    }
}

/// Our sending SA.
#[derive(Debug)]
pub(crate) struct OutboundSa {
    pub spi: u32,
    pub xform: Transform,
    /// Last sequence number handed out (0: none yet; the first packet carries 1,
    /// RFC 4303 §3.3.3). Only ever incremented, so no value is handed out twice; it may pass
    /// 2^32 − 1, and every value past that is refused ([`OutboundSa::next_seq`]).
    seq: AtomicU64,
    pub stats: SaCounters,
}

impl OutboundSa {
    pub fn new(keys: &SaKeys) -> Result<Self, EspError> {
        Ok(Self {
            spi: keys.spi,
            xform: Transform::new(keys)?,
            seq: AtomicU64::new(0),
            stats: SaCounters::default(),
        })
    }

    /// Allocates the next sequence number, unique across all threads (RFC 4303 §3.3.3);
    /// `None` once the 32-bit space is used up (no ESN: the counter must not cycle). A number
    /// is consumed even if the packet is then not sent.
    pub fn next_seq(&self) -> Option<u64> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed).checked_add(1)?;
        (seq <= u64::from(u32::MAX)).then_some(seq)
    }

    /// Counters; `highest_seq` is the last sequence number handed out.
    pub fn stats(&self) -> SaStats {
        let seq = self.seq.load(Ordering::Relaxed).min(u64::from(u32::MAX));
        self.stats.snapshot(seq)
    }

    /// Sets the last sequence number handed out (tests: reach the end of the space quickly).
    #[cfg(test)]
    pub fn set_seq(&self, seq: u64) {
        self.seq.store(seq, Ordering::Relaxed);
    }
}

/// A receiving SA, found by SPI.
#[derive(Debug)]
pub(crate) struct InboundSa {
    pub child_id: u64,
    pub xform: Transform,
    replay: Mutex<ReplayWindow>,
    pub stats: SaCounters,
}

impl InboundSa {
    pub fn new(child_id: u64, keys: &SaKeys, window: u32) -> Result<Self, EspError> {
        Ok(Self {
            child_id,
            xform: Transform::new(keys)?,
            replay: Mutex::new(ReplayWindow::new(window)),
            stats: SaCounters::default(),
        })
    }

    /// Counters; `highest_seq` is the highest sequence number authenticated.
    pub fn stats(&self) -> SaStats {
        let top = self.replay().top();
        self.stats.snapshot(top)
    }

    /// The replay window, locked only for a check or an update (never across the cipher).
    pub fn replay(&self) -> MutexGuard<'_, ReplayWindow> {
        // A panic while holding this lock cannot leave the window inconsistent (check and
        // update are plain integer operations), so a poisoned lock is still usable.
        self.replay.lock().unwrap_or_else(|p| p.into_inner())
    }
}
