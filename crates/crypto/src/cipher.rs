//! Encryption with integrity, for IKEv2's Encrypted payload (RFC 7296 §3.14, RFC 5282) and for
//! ESP (RFC 4303, RFC 4106): one type covers AEAD ciphers and CBC + HMAC.
//!
//! Both protocols protect a message laid out as `aad | iv | ciphertext | icv`, where `aad` is
//! every byte before the IV (IKE header and SK payload header; ESP SPI and sequence number):
//! - AEAD (AES-GCM, ChaCha20-Poly1305): nonce = salt | iv, AAD = `aad`, tag = ICV.
//! - CBC + HMAC: ciphertext = AES-CBC(iv, plaintext), ICV = truncated HMAC over
//!   `aad | iv | ciphertext`.
//! - ENCR_NULL + HMAC (ESP only, RFC 2410): no IV, ciphertext = plaintext, ICV = truncated
//!   HMAC over `aad | ciphertext`.
//!
//! Padding is the caller's job (it differs between IKE and ESP); `block_len` tells the
//! alignment the plaintext must have.

mod aead;
mod cbc;
mod null;

pub use cbc::AesCbc;

use crate::integ::Integ;
use crate::{CryptoError, EncrAlg, EncrId, IntegId};

/// A keyed cipher + integrity transform for one direction of one SA.
pub struct Cipher {
    inner: Inner,
}

enum Inner {
    Aead(aead::AeadCipher),
    // Boxed: the AES key schedules for both directions make it ~2 KiB.
    Cbc(Box<cbc::CbcHmac>),
    // Boxed: the HMAC key (inner and outer hash states) is ~1.2 KiB.
    Null(Box<null::NullHmac>),
}

impl core::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Cipher(<keys redacted>)")
    }
}

impl Cipher {
    /// True when `new` accepts `encr` (with its key length). ENCR_NULL is supported for ESP
    /// only; proposal parsing keeps it out of IKE proposals.
    pub fn is_supported(encr: EncrAlg) -> bool {
        aead::algorithm(encr).is_some() || cbc::algorithm(encr).is_some() || is_null(encr)
    }
    /// Key-material length in bytes that `encr` takes from prf+ output: the key plus, for AEAD,
    /// the salt (4 bytes for AES-GCM, RFC 4106 §8.1 / RFC 5282 §7.1; 4 for ChaCha20-Poly1305,
    /// RFC 7634 §4).
    pub fn encr_keymat_len(encr: EncrAlg) -> Result<usize, CryptoError> {
        if let Some((_, key_len)) = aead::algorithm(encr) {
            Ok(key_len + aead::SALT_LEN)
        } else if let Some((_, key_len)) = cbc::algorithm(encr) {
            Ok(key_len)
        } else if is_null(encr) {
            Ok(0)
        } else {
            Err(CryptoError::Unsupported(encr.to_string()))
        }
    }
    /// Key length in bytes of an integrity algorithm (0 for `IntegId::None`).
    pub fn integ_key_len(integ: IntegId) -> Result<usize, CryptoError> {
        match integ {
            IntegId::None => Ok(0),
            other => Integ::key_len(other),
        }
    }
    /// True for combined-mode (AEAD) algorithms, which take no separate integrity transform.
    pub fn is_aead(encr: EncrAlg) -> bool {
        matches!(
            encr.id,
            EncrId::AesGcm8 | EncrId::AesGcm12 | EncrId::AesGcm16 | EncrId::ChaCha20Poly1305
        )
    }
    /// Keys a cipher. `integ` must be `None`/`IntegId::None` for AEAD and set for CBC and
    /// ENCR_NULL (RFC 4303 §3.2: NULL encryption never without integrity); `encr_keymat` is
    /// `encr_keymat_len(encr)` bytes (key | salt for AEAD, empty for NULL); `integ_key` is
    /// `integ_key_len(integ)` bytes (empty for AEAD).
    pub fn new(
        encr: EncrAlg,
        integ: Option<IntegId>,
        encr_keymat: &[u8],
        integ_key: &[u8],
    ) -> Result<Self, CryptoError> {
        let integ = integ.filter(|i| *i != IntegId::None);
        let inner = if Self::is_aead(encr) {
            if integ.is_some() || !integ_key.is_empty() {
                return Err(CryptoError::Unsupported(format!(
                    "{encr} takes no integrity algorithm"
                )));
            }
            Inner::Aead(aead::AeadCipher::new(encr, encr_keymat)?)
        } else if is_null(encr) {
            let integ = integ.ok_or_else(|| {
                CryptoError::Unsupported("ENCR_NULL needs an integrity algorithm".into())
            })?;
            if !encr_keymat.is_empty() {
                return Err(CryptoError::BadLength("ENCR_NULL takes no key"));
            }
            Inner::Null(Box::new(null::NullHmac::new(Integ::new(integ, integ_key)?)))
        } else {
            let integ = integ.ok_or_else(|| {
                CryptoError::Unsupported(format!("{encr} needs an integrity algorithm"))
            })?;
            let cbc = AesCbc::new(encr, encr_keymat)?;
            Inner::Cbc(Box::new(cbc::CbcHmac::new(
                cbc,
                Integ::new(integ, integ_key)?,
            )))
        };
        Ok(Self { inner })
    }
    /// IV length on the wire: 8 for AES-GCM and ChaCha20-Poly1305, 16 for AES-CBC, 0 for
    /// ENCR_NULL.
    pub fn iv_len(&self) -> usize {
        match &self.inner {
            Inner::Aead(_) => aead::IV_LEN,
            Inner::Cbc(_) => cbc::BLOCK_LEN,
            Inner::Null(_) => 0,
        }
    }
    /// Plaintext alignment: 16 for AES-CBC, 1 for AEAD and ENCR_NULL (ESP still aligns to 4
    /// itself).
    pub fn block_len(&self) -> usize {
        match &self.inner {
            Inner::Aead(_) | Inner::Null(_) => 1,
            Inner::Cbc(_) => cbc::BLOCK_LEN,
        }
    }
    /// ICV length: 16 for GCM-16 and ChaCha20-Poly1305, 16 for HMAC-SHA2-256-128, 12 for
    /// HMAC-SHA1-96, ...
    pub fn icv_len(&self) -> usize {
        match &self.inner {
            Inner::Aead(_) => aead::ICV_LEN,
            Inner::Cbc(c) => c.icv_len(),
            Inner::Null(c) => c.icv_len(),
        }
    }
    /// Encrypts `buf` in place and writes the ICV. `iv.len() == iv_len()`,
    /// `buf.len() % block_len() == 0`, `icv.len() == icv_len()`. For AEAD the caller must never
    /// reuse an IV under one key (ESP uses the sequence number, IKE a message counter).
    pub fn seal(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &mut [u8],
        icv: &mut [u8],
    ) -> Result<(), CryptoError> {
        match &self.inner {
            Inner::Aead(c) => c.seal(aad, iv, buf, icv),
            Inner::Cbc(c) => c.seal(aad, iv, buf, icv),
            Inner::Null(c) => c.seal(aad, iv, buf, icv),
        }
    }
    /// Verifies the ICV (constant time) and decrypts `buf` in place. On failure `buf` content is
    /// unspecified and `IntegrityCheckFailed` is returned.
    pub fn open(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        match &self.inner {
            Inner::Aead(c) => c.open(aad, iv, buf, icv),
            Inner::Cbc(c) => c.open(aad, iv, buf, icv),
            Inner::Null(c) => c.open(aad, iv, buf, icv),
        }
    }
}

impl Cipher {
    /// [`Cipher::seal`] out of place: encrypts `plain` followed by `tail` (ESP: the payload,
    /// then padding, Pad Length and Next Header) into `out`, which holds the ciphertext
    /// (`plain.len() + tail.len()` bytes, block-aligned) and then the ICV (`icv_len()` bytes).
    /// `plain` is left as it is. AEAD reads `plain` directly (no copy); CBC and ENCR_NULL copy
    /// it into `out` and seal there.
    pub fn seal_from(
        &self,
        aad: &[u8],
        iv: &[u8],
        plain: &[u8],
        tail: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        if let Inner::Aead(c) = &self.inner {
            return c.seal_from(aad, iv, plain, tail, out);
        }
        let (ct, icv) = copy_for_sealing(plain, tail, out)?;
        self.seal(aad, iv, ct, icv)
    }

    /// [`Cipher::open`] out of place: verifies the ICV over `aad`, `iv` and `ct` (constant
    /// time) and decrypts `ct` into `out` (`ct.len()` bytes). On failure `out`'s content is
    /// unspecified and `IntegrityCheckFailed` is returned.
    pub fn open_to(
        &self,
        aad: &[u8],
        iv: &[u8],
        ct: &[u8],
        icv: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        if let Inner::Aead(c) = &self.inner {
            return c.open_to(aad, iv, ct, icv, out);
        }
        if out.len() != ct.len() {
            return Err(CryptoError::BadLength("output"));
        }
        out.copy_from_slice(ct);
        self.open(aad, iv, out, icv)
    }
}

/// ENCR_NULL, which has no Key Length attribute (RFC 2410; tolerate none only).
fn is_null(encr: EncrAlg) -> bool {
    encr.id == EncrId::Null && encr.key_bits.is_none()
}

/// `Cipher` is shared by the data plane's worker threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Cipher>();
};

/// For sealing in place what is asked for out of place: copies `plain | tail` to the front of
/// `out` and splits `out` there into (the bytes to seal, the room for the ICV).
pub fn copy_for_sealing<'a>(
    plain: &[u8],
    tail: &[u8],
    out: &'a mut [u8],
) -> Result<(&'a mut [u8], &'a mut [u8]), CryptoError> {
    let (ct, icv) = out
        .split_at_mut_checked(plain.len() + tail.len())
        .ok_or(CryptoError::BadLength("output"))?;
    let (head, rest) = ct.split_at_mut(plain.len());
    head.copy_from_slice(plain);
    rest.copy_from_slice(tail);
    Ok((ct, icv))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Out-of-place sealing gives the bytes in-place sealing gives, and opens back, for an
    /// AEAD and for CBC + HMAC; a changed ICV fails.
    #[test]
    fn out_of_place_matches_in_place() {
        let suites = [
            (EncrId::AesGcm16, 128, None, 20, 0),
            (EncrId::AesCbc, 128, Some(IntegId::HmacSha2_256_128), 16, 32),
        ];
        for (id, bits, integ, klen, ilen) in suites {
            let encr = EncrAlg {
                id,
                key_bits: Some(bits),
            };
            let c = Cipher::new(encr, integ, &vec![3; klen], &vec![4; ilen]).unwrap();
            let aad = [9u8; 8];
            let iv = vec![5u8; c.iv_len()];
            let plain: Vec<u8> = (0..93u8).collect();
            let tail = [1u8, 0, 17];
            let mut in_place = [plain.as_slice(), &tail].concat();
            let mut icv = vec![0u8; c.icv_len()];
            c.seal(&aad, &iv, &mut in_place, &mut icv).unwrap();
            let mut out = vec![0u8; plain.len() + tail.len() + c.icv_len()];
            c.seal_from(&aad, &iv, &plain, &tail, &mut out).unwrap();
            assert_eq!(out, [in_place.as_slice(), &icv].concat(), "{id:?}");
            let (ct, tag) = out.split_at(in_place.len());
            let mut opened = vec![0u8; ct.len()];
            c.open_to(&aad, &iv, ct, tag, &mut opened).unwrap();
            assert_eq!(opened, [plain.as_slice(), &tail].concat());
            let mut bad = tag.to_vec();
            bad[0] ^= 1;
            assert_eq!(
                c.open_to(&aad, &iv, ct, &bad, &mut opened),
                Err(CryptoError::IntegrityCheckFailed)
            );
            // Wrong output sizes are refused, not truncated.
            assert!(c.open_to(&aad, &iv, ct, tag, &mut opened[1..]).is_err());
            assert!(c
                .seal_from(&aad, &iv, &plain, &tail, &mut out[1..])
                .is_err());
        }
    }
}
