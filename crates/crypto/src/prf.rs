//! Pseudorandom functions and prf+ (RFC 7296 §2.13). HMAC-SHA1 (RFC 2104) and HMAC-SHA2
//! (RFC 4868 §2.1), all from aws-lc-rs.

use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use crate::{CryptoError, PrfId, SecretBytes};

/// A negotiated PRF (HMAC-SHA2-256/384/512, HMAC-SHA1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prf {
    id: PrfId,
}

/// The largest PRF output this crate produces (HMAC-SHA2-512).
pub const MAX_PRF_LEN: usize = 64;

impl Prf {
    /// The PRF for `id`, or `Unsupported`.
    pub fn new(id: PrfId) -> Result<Self, CryptoError> {
        match id {
            PrfId::HmacSha1 | PrfId::HmacSha2_256 | PrfId::HmacSha2_384 | PrfId::HmacSha2_512 => {
                Ok(Self { id })
            }
            PrfId::HmacMd5 | PrfId::Aes128Xcbc => Err(CryptoError::Unsupported(id.to_string())),
        }
    }
    /// True when `new` accepts `id`.
    pub fn is_supported(id: PrfId) -> bool {
        Self::new(id).is_ok()
    }
    /// The transform ID.
    pub fn id(&self) -> PrfId {
        self.id
    }
    /// Output length in bytes (and the preferred key length for HMAC PRFs, RFC 7296 §2.13).
    pub fn output_len(&self) -> usize {
        self.algorithm().digest_algorithm().output_len()
    }
    fn algorithm(&self) -> hmac::Algorithm {
        match self.id {
            PrfId::HmacSha2_384 => hmac::HMAC_SHA384,
            PrfId::HmacSha2_512 => hmac::HMAC_SHA512,
            PrfId::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            // `new` admits only the four HMAC PRFs, so every other arm is unreachable;
            // SHA-256 stands in for them without a panic path.
            _ => hmac::HMAC_SHA256,
        }
    }
    /// `prf(key, data[0] | data[1] | ...)`.
    pub fn compute(&self, key: &[u8], data: &[&[u8]]) -> SecretBytes {
        let key = hmac::Key::new(self.algorithm(), key);
        SecretBytes::from_slice(sign_parts(&key, data).as_ref())
    }
    /// `prf+(key, seed[0] | seed[1] | ...)` truncated to `len` bytes (RFC 7296 §2.13):
    /// T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02), ... Fails for len > 255 * output_len.
    pub fn prf_plus(
        &self,
        key: &[u8],
        seed: &[&[u8]],
        len: usize,
    ) -> Result<SecretBytes, CryptoError> {
        let mut out = SecretBytes::zeroed(len);
        self.prf_plus_into(key, seed, out.as_mut_slice())?;
        Ok(out)
    }
    /// prf+ as [`Prf::prf_plus`], writing `out.len()` bytes into `out`.
    pub fn prf_plus_into(
        &self,
        key: &[u8],
        seed: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let hash_len = self.output_len();
        if out.len() > 255 * hash_len {
            return Err(CryptoError::BadLength("prf+ output longer than 255 blocks"));
        }
        let key = hmac::Key::new(self.algorithm(), key);
        // T(i-1), kept in a zeroizing buffer; empty before T1.
        let mut prev = Zeroizing::new([0u8; MAX_PRF_LEN]);
        let mut prev_len = 0;
        for (i, chunk) in out.chunks_mut(hash_len).enumerate() {
            // i < 255 by the check above, so the 1-based counter fits its octet.
            let counter = u8::try_from(i + 1).map_err(|_| CryptoError::BadLength("prf+"))?;
            let mut ctx = hmac::Context::with_key(&key);
            ctx.update(prev.get(..prev_len).unwrap_or_default());
            for part in seed {
                ctx.update(part);
            }
            ctx.update(&[counter]);
            let t = ctx.sign();
            for (dst, src) in prev.iter_mut().zip(t.as_ref()) {
                *dst = *src;
            }
            prev_len = t.as_ref().len();
            for (dst, src) in chunk.iter_mut().zip(t.as_ref()) {
                *dst = *src;
            }
        }
        Ok(())
    }
}

fn sign_parts(key: &hmac::Key, data: &[&[u8]]) -> hmac::Tag {
    let mut ctx = hmac::Context::with_key(key);
    for part in data {
        ctx.update(part);
    }
    ctx.sign()
}
