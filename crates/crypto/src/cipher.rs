//! Encryption with integrity, for IKEv2's Encrypted payload (RFC 7296 §3.14, RFC 5282) and for
//! ESP (RFC 4303, RFC 4106): one type covers AEAD ciphers and CBC + HMAC.
//!
//! Both protocols protect a message laid out as `aad | iv | ciphertext | icv`, where `aad` is
//! every byte before the IV (IKE header and SK payload header; ESP SPI and sequence number):
//! - AEAD (AES-GCM, ChaCha20-Poly1305): nonce = salt | iv, AAD = `aad`, tag = ICV.
//! - CBC + HMAC: ciphertext = AES-CBC(iv, plaintext), ICV = truncated HMAC over
//!   `aad | iv | ciphertext`.
//!
//! Padding is the caller's job (it differs between IKE and ESP); `block_len` tells the
//! alignment the plaintext must have.

use crate::{CryptoError, EncrAlg, IntegId};

/// A keyed cipher + integrity transform for one direction of one SA.
pub struct Cipher {
    _private: (),
}

impl core::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Cipher(<keys redacted>)")
    }
}

impl Cipher {
    /// Key-material length in bytes that `encr` takes from prf+ output: the key plus, for AEAD,
    /// the salt (4 bytes for AES-GCM, RFC 4106 §8.1 / RFC 5282 §7.1; 4 for ChaCha20-Poly1305,
    /// RFC 7634 §4).
    pub fn encr_keymat_len(encr: EncrAlg) -> Result<usize, CryptoError> {
        let _ = encr;
        unimplemented!("crypto helper")
    }
    /// Key length in bytes of an integrity algorithm (0 for `IntegId::None`).
    pub fn integ_key_len(integ: IntegId) -> Result<usize, CryptoError> {
        let _ = integ;
        unimplemented!("crypto helper")
    }
    /// True for combined-mode (AEAD) algorithms, which take no separate integrity transform.
    pub fn is_aead(encr: EncrAlg) -> bool {
        let _ = encr;
        unimplemented!("crypto helper")
    }
    /// Keys a cipher. `integ` must be `None`/`IntegId::None` for AEAD and set for CBC;
    /// `encr_keymat` is `encr_keymat_len(encr)` bytes (key | salt for AEAD); `integ_key` is
    /// `integ_key_len(integ)` bytes (empty for AEAD).
    pub fn new(
        encr: EncrAlg,
        integ: Option<IntegId>,
        encr_keymat: &[u8],
        integ_key: &[u8],
    ) -> Result<Self, CryptoError> {
        let _ = (encr, integ, encr_keymat, integ_key);
        unimplemented!("crypto helper")
    }
    /// IV length on the wire: 8 for AES-GCM and ChaCha20-Poly1305, 16 for AES-CBC.
    pub fn iv_len(&self) -> usize {
        unimplemented!("crypto helper")
    }
    /// Plaintext alignment: 16 for AES-CBC, 1 for AEAD (ESP still aligns to 4 itself).
    pub fn block_len(&self) -> usize {
        unimplemented!("crypto helper")
    }
    /// ICV length: 16 for GCM-16 and ChaCha20-Poly1305, 16 for HMAC-SHA2-256-128, 12 for
    /// HMAC-SHA1-96, ...
    pub fn icv_len(&self) -> usize {
        unimplemented!("crypto helper")
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
        let _ = (aad, iv, buf, icv);
        unimplemented!("crypto helper")
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
        let _ = (aad, iv, buf, icv);
        unimplemented!("crypto helper")
    }
}
