//! The Security Association Database entries (RFC 4301 §4.4.2): one outbound SA per child and
//! one or more inbound SAs, each with its keyed cipher.

use crypto::{Cipher, IntegId};

use crate::replay::ReplayWindow;
use crate::stats::SaStats;
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
    /// Last sequence number sent (0: none yet; the first packet carries 1, RFC 4303 §3.3.3).
    pub seq: u64,
    pub stats: SaStats,
}

impl OutboundSa {
    pub fn new(keys: &SaKeys) -> Result<Self, EspError> {
        Ok(Self {
            spi: keys.spi,
            xform: Transform::new(keys)?,
            seq: 0,
            stats: SaStats::default(),
        })
    }
}

/// A receiving SA, found by SPI.
#[derive(Debug)]
pub(crate) struct InboundSa {
    pub child_id: u64,
    pub xform: Transform,
    pub replay: ReplayWindow,
    pub stats: SaStats,
}

impl InboundSa {
    pub fn new(child_id: u64, keys: &SaKeys, window: u32) -> Result<Self, EspError> {
        Ok(Self {
            child_id,
            xform: Transform::new(keys)?,
            replay: ReplayWindow::new(window),
            stats: SaStats::default(),
        })
    }
}
