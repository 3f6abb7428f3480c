//! The Security Association Database entries (RFC 4301 §4.4.2): one outbound SA per child and
//! one or more inbound SAs, each with its keyed cipher.
//!
//! Several workers use one SA at once: the outbound sequence number is an atomic counter
//! (the AEAD IV is the sequence number, RFC 4106 §3.1, so each value is handed out exactly
//! once), the inbound replay window sits behind a small lock of its own, counters are atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crypto::{Cipher, EncrId, Integ, IntegId};

use crate::lifetime::{Limits, SEQ_SOFT_MARGIN};
use crate::protect::Protect;
use crate::replay::ReplayWindow;
use crate::stats::SaStats;
use crate::{EspError, Lifetime, SaKeys, SecurityProtocol};

/// The keyed transform plus the sizes the packet path needs, read once at install.
#[derive(Debug)]
pub(crate) struct Transform {
    /// The keyed algorithms and what their ICV covers (with or without ESN).
    pub protect: Protect,
    pub iv_len: usize,
    pub icv_len: usize,
    pub block_len: usize,
    /// ESP's ciphertext alignment (RFC 4303 §2.4): lcm(block, 4).
    align: usize,
    /// AEAD: the IV is the 64-bit sequence number (RFC 4106 §3.1); otherwise random
    /// (RFC 3602 §3).
    pub aead: bool,
    /// Extended Sequence Numbers (RFC 4304): 64-bit counters, the high half in the ICV.
    pub esn: bool,
    /// ESP or AH: a packet of the other protocol never finds this SA (RFC 4301 §4.4.2: the
    /// SAD is searched by SPI and protocol).
    pub protocol: SecurityProtocol,
}

impl Transform {
    pub fn new(keys: &SaKeys, esn: bool, protocol: SecurityProtocol) -> Result<Self, EspError> {
        if keys.spi < wire::esp::SPI_MIN {
            return Err(EspError::ReservedSpi(keys.spi));
        }
        if protocol == SecurityProtocol::Ah {
            return Self::new_ah(keys, esn);
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
        let protect = Protect::new(keys, integ, esn)?;
        let (iv_len, icv_len, block_len) = protect.sizes();
        if aead && iv_len < 8 {
            return Err(EspError::Unsupported(
                "AEAD with an IV shorter than 8 bytes",
            ));
        }
        let block_len = block_len.max(1);
        Ok(Self {
            iv_len,
            icv_len,
            block_len,
            align: wire::esp::alignment(block_len),
            aead,
            esn,
            protect,
            protocol,
        })
    }

    /// An AH transform (RFC 4302 §3.2): an integrity algorithm and nothing else (IKE
    /// negotiates no encryption for AH: ENCR_NULL with an empty key here).
    fn new_ah(keys: &SaKeys, esn: bool) -> Result<Self, EspError> {
        if keys.encr.id != EncrId::Null || !keys.encr_key.as_slice().is_empty() {
            return Err(EspError::InvalidConfig(
                "AH takes no encryption (ENCR_NULL, no key)",
            ));
        }
        let integ = match keys.integ {
            Some(IntegId::None) | None => {
                return Err(EspError::InvalidConfig("AH needs an integrity algorithm"))
            }
            Some(id) => Integ::new(id, keys.integ_key.as_slice())?,
        };
        let icv_len = integ.icv_len();
        Ok(Self {
            protect: Protect::Ah(Box::new(integ)),
            iv_len: 0,
            icv_len,
            block_len: 1,
            align: wire::esp::ESP_ALIGN,
            aead: false,
            esn,
            protocol: SecurityProtocol::Ah,
        })
    }

    /// ESP's ciphertext alignment (RFC 4303 §2.4).
    pub fn align(&self) -> usize {
        self.align
    }

    /// Padding for a payload of `len` bytes (RFC 4303 §2.4; `wire::esp::pad_len`, without a
    /// division per packet when the alignment is a power of two, as it is for every cipher).
    pub fn pad_len(&self, len: usize) -> Option<u8> {
        if self.align.is_power_of_two() {
            let mask = self.align - 1;
            let used = len.wrapping_add(wire::esp::ESP_TRAILER_LEN) & mask;
            u8::try_from(self.align.wrapping_sub(used) & mask).ok()
        } else {
            wire::esp::pad_len(len, self.block_len).ok()
        }
    }

    /// Whether a ciphertext length is a multiple of the alignment.
    pub fn is_aligned(&self, len: usize) -> bool {
        if self.align.is_power_of_two() {
            len & (self.align - 1) == 0
        } else {
            len % self.align == 0
        }
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
    /// Inner bytes sent.
    bytes: AtomicU64,
    /// Sequence numbers consumed by packets that were then not sent (the cipher failed).
    unsent: AtomicU64,
    /// The last sequence number this SA may use: 2^32 − 1, or 2^64 − 1 with ESN
    /// (RFC 4303 §3.3.3: the counter must not cycle).
    pub last_seq: u64,
    /// The sequence number whose allocation raises the soft "exhaustion" event (no ESN).
    pub soft_seq: u64,
    /// Byte and packet limits.
    pub limits: Limits,
}

impl OutboundSa {
    pub fn new(
        keys: &SaKeys,
        esn: bool,
        lifetime: &Lifetime,
        protocol: SecurityProtocol,
    ) -> Result<Self, EspError> {
        let last_seq = if esn { u64::MAX } else { u64::from(u32::MAX) };
        Ok(Self {
            spi: keys.spi,
            xform: Transform::new(keys, esn, protocol)?,
            last_seq,
            soft_seq: if esn {
                u64::MAX
            } else {
                last_seq - SEQ_SOFT_MARGIN
            },
            limits: Limits::new(lifetime),
            seq: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            unsent: AtomicU64::new(0),
        })
    }

    /// Counts one packet sent with an allocated sequence number (the packet count is the
    /// sequence numbers used, less those counted with [`OutboundSa::count_unsent`]); returns
    /// the byte count before it.
    pub fn count_sent(&self, bytes: u64) -> u64 {
        self.bytes.fetch_add(bytes, Ordering::Relaxed)
    }

    /// Inner bytes sent so far.
    pub fn bytes_sent(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// A sequence number was allocated but its packet not sent.
    pub fn count_unsent(&self) {
        self.unsent.fetch_add(1, Ordering::Relaxed);
    }

    /// Allocates the next sequence number, unique across all threads (RFC 4303 §3.3.3). The
    /// caller refuses it when it is past [`OutboundSa::last_seq`] (the counter must not
    /// cycle); exactly one caller sees `last_seq + 1`. A number is consumed even if the packet
    /// is then not sent.
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed).saturating_add(1)
    }

    /// Counters; `highest_seq` is the last sequence number handed out.
    pub fn stats(&self) -> SaStats {
        let seq = self.seq.load(Ordering::Relaxed).min(self.last_seq);
        SaStats {
            bytes: self.bytes.load(Ordering::Relaxed),
            packets: seq.saturating_sub(self.unsent.load(Ordering::Relaxed)),
            highest_seq: seq,
        }
    }

    /// Sets the last sequence number handed out, as if that many had been used without
    /// sending (tests: reach the end of the space quickly; the packet count stays 0).
    #[cfg(test)]
    pub fn set_seq(&self, seq: u64) {
        self.seq.store(seq, Ordering::Relaxed);
        self.unsent.store(seq, Ordering::Relaxed);
    }
}

/// What a receiving SA's lock guards: the window and the traffic it let through.
#[derive(Debug)]
pub(crate) struct RxState {
    /// Byte and packet limits (constant; here because every check is under this lock).
    pub limits: Limits,
    pub window: ReplayWindow,
    /// Inner bytes accepted.
    pub bytes: u64,
    /// Packets accepted.
    pub packets: u64,
}

/// A receiving SA, found by SPI.
#[derive(Debug)]
pub(crate) struct InboundSa {
    pub child_id: u64,
    pub xform: Transform,
    /// The replay window's size W (constant; also inside `state`).
    pub window_size: u64,
    /// The window's top (highest authenticated sequence number) as of its last update,
    /// published after each update under the lock and read without it: a number above it is
    /// fresh whatever the bitmap says (RFC 4303 §3.4.3), so in-order traffic passes the check
    /// before the ICV without taking the lock. It may lag the window (another worker's update
    /// in flight); then a duplicate passes this first check and the check after the ICV, under
    /// the lock, drops it.
    top: AtomicU64,
    state: Mutex<RxState>,
}

impl InboundSa {
    pub fn new(
        child_id: u64,
        keys: &SaKeys,
        window: u32,
        esn: bool,
        lifetime: &Lifetime,
        protocol: SecurityProtocol,
    ) -> Result<Self, EspError> {
        Ok(Self {
            child_id,
            xform: Transform::new(keys, esn, protocol)?,
            window_size: u64::from(window),
            top: AtomicU64::new(0),
            state: Mutex::new(RxState {
                limits: Limits::new(lifetime),
                window: ReplayWindow::new(window),
                bytes: 0,
                packets: 0,
            }),
        })
    }

    /// Counters; `highest_seq` is the highest sequence number authenticated.
    pub fn stats(&self) -> SaStats {
        let s = self.state();
        SaStats {
            bytes: s.bytes,
            packets: s.packets,
            highest_seq: s.window.top(),
        }
    }

    /// The window's top as last published ([`InboundSa::publish_top`]); never above the
    /// window's real top.
    #[inline]
    pub fn top_hint(&self) -> u64 {
        self.top.load(Ordering::Relaxed)
    }

    /// Publishes the window's top after an update (call under the lock, from `st`).
    #[inline]
    pub fn publish_top(&self, st: &RxState) {
        self.top.store(st.window.top(), Ordering::Relaxed);
    }

    /// The replay window and counters, locked only for a check or an update (never across
    /// the cipher).
    pub fn state(&self) -> MutexGuard<'_, RxState> {
        // A panic while holding this lock cannot leave the state inconsistent (plain integer
        // operations), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::{EncrAlg, EncrId, SecretBytes};

    #[test]
    fn pad_len_matches_wire() {
        for (id, bits, integ, klen, ilen) in [
            (EncrId::AesGcm16, 128, None, 20, 0),
            (EncrId::AesCbc, 128, Some(IntegId::HmacSha2_256_128), 16, 32),
        ] {
            let x = Transform::new(
                &SaKeys {
                    spi: 0x1000,
                    encr: EncrAlg {
                        id,
                        key_bits: Some(bits),
                    },
                    integ,
                    encr_key: SecretBytes::new(vec![1; klen]),
                    integ_key: SecretBytes::new(vec![2; ilen]),
                },
                false,
                SecurityProtocol::Esp,
            )
            .unwrap();
            for len in 0..300 {
                assert_eq!(
                    x.pad_len(len),
                    wire::esp::pad_len(len, x.block_len).ok(),
                    "{len}"
                );
                assert_eq!(x.is_aligned(len), len % x.align() == 0);
            }
        }
    }
}
