//! Integrity algorithms: HMAC-SHA1-96 (RFC 2404) and HMAC-SHA2-256-128, -384-192, -512-256
//! (RFC 4868 §2.1-2.3), all from aws-lc-rs. The ICV is the HMAC output truncated to its
//! left-most bits (RFC 2104 §5).

use aws_lc_rs::hmac;

use crate::{ct_eq, CryptoError, IntegId};

/// A keyed integrity transform (one direction of one SA).
pub struct Integ {
    id: IntegId,
    key: hmac::Key,
    icv_len: usize,
}

impl core::fmt::Debug for Integ {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Integ")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// (HMAC algorithm, key length, ICV length) of an implemented integrity algorithm.
fn params(id: IntegId) -> Result<(hmac::Algorithm, usize, usize), CryptoError> {
    match id {
        IntegId::HmacSha1_96 => Ok((hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, 20, 12)),
        IntegId::HmacSha2_256_128 => Ok((hmac::HMAC_SHA256, 32, 16)),
        IntegId::HmacSha2_384_192 => Ok((hmac::HMAC_SHA384, 48, 24)),
        IntegId::HmacSha2_512_256 => Ok((hmac::HMAC_SHA512, 64, 32)),
        IntegId::None | IntegId::HmacMd5_96 | IntegId::AesXcbc96 => {
            Err(CryptoError::Unsupported(id.to_string()))
        }
    }
}

impl Integ {
    /// True when `new` accepts `id`.
    pub fn is_supported(id: IntegId) -> bool {
        params(id).is_ok()
    }
    /// Key length in bytes (RFC 2404 §3: 160 bits; RFC 4868 §2.1.1: the hash output size).
    pub fn key_len(id: IntegId) -> Result<usize, CryptoError> {
        params(id).map(|(_, key_len, _)| key_len)
    }
    /// ICV length in bytes (RFC 2404 §2: 96 bits; RFC 4868 §2.3: half the hash output).
    pub fn icv_len_of(id: IntegId) -> Result<usize, CryptoError> {
        params(id).map(|(_, _, icv_len)| icv_len)
    }
    /// Keys the transform; `key` must be `key_len(id)` bytes.
    pub fn new(id: IntegId, key: &[u8]) -> Result<Self, CryptoError> {
        let (alg, key_len, icv_len) = params(id)?;
        if key.len() != key_len {
            return Err(CryptoError::BadLength("integrity key"));
        }
        Ok(Self {
            id,
            key: hmac::Key::new(alg, key),
            icv_len,
        })
    }
    /// The transform ID.
    pub fn id(&self) -> IntegId {
        self.id
    }
    /// ICV length in bytes.
    pub fn icv_len(&self) -> usize {
        self.icv_len
    }
    /// Writes the truncated HMAC of `parts[0] | parts[1] | ...` into `icv`
    /// (`icv.len() == icv_len()`).
    pub fn sign(&self, parts: &[&[u8]], icv: &mut [u8]) -> Result<(), CryptoError> {
        if icv.len() != self.icv_len {
            return Err(CryptoError::BadLength("ICV"));
        }
        let tag = self.tag(parts);
        for (dst, src) in icv.iter_mut().zip(tag.as_ref()) {
            *dst = *src;
        }
        Ok(())
    }
    /// Checks, in constant time, that `icv` is the truncated HMAC of the parts.
    pub fn verify(&self, parts: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError> {
        if icv.len() != self.icv_len {
            return Err(CryptoError::BadLength("ICV"));
        }
        let tag = self.tag(parts);
        let expected = tag.as_ref().get(..self.icv_len).unwrap_or_default();
        if ct_eq(expected, icv) {
            Ok(())
        } else {
            Err(CryptoError::IntegrityCheckFailed)
        }
    }
    fn tag(&self, parts: &[&[u8]]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in parts {
            ctx.update(part);
        }
        ctx.sign()
    }
}
