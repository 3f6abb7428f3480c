//! Pseudorandom functions and prf+ (RFC 7296 §2.13).

use crate::{CryptoError, PrfId, SecretBytes};

/// A negotiated PRF (HMAC-SHA2-256/384/512, HMAC-SHA1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prf {
    id: PrfId,
}

impl Prf {
    /// The PRF for `id`, or `Unsupported`.
    pub fn new(id: PrfId) -> Result<Self, CryptoError> {
        let _ = id;
        unimplemented!("crypto helper")
    }
    /// The transform ID.
    pub fn id(&self) -> PrfId {
        self.id
    }
    /// Output length in bytes (and the preferred key length for HMAC PRFs, RFC 7296 §2.13).
    pub fn output_len(&self) -> usize {
        unimplemented!("crypto helper")
    }
    /// prf(key, data[0] | data[1] | ...).
    pub fn compute(&self, key: &[u8], data: &[&[u8]]) -> SecretBytes {
        let _ = (key, data);
        unimplemented!("crypto helper")
    }
    /// prf+(key, seed[0] | seed[1] | ...) truncated to `len` bytes (RFC 7296 §2.13):
    /// T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02), ... Fails for len > 255 * output_len.
    pub fn prf_plus(
        &self,
        key: &[u8],
        seed: &[&[u8]],
        len: usize,
    ) -> Result<SecretBytes, CryptoError> {
        let _ = (key, seed, len);
        unimplemented!("crypto helper")
    }
}
