//! Combined-mode ciphers: AES-GCM with a 16-octet ICV (RFC 4106 for ESP, RFC 5282 for IKEv2)
//! and ChaCha20-Poly1305 (RFC 7634). The 12-octet nonce is the 4-octet salt taken from the key
//! material followed by the 8-octet explicit IV on the wire (RFC 4106 §4, RFC 7634 §2).

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::{CryptoError, EncrAlg, EncrId};

/// Salt length (RFC 4106 §8.1, RFC 5282 §7.1, RFC 7634 §4).
pub(crate) const SALT_LEN: usize = 4;
/// Explicit IV length on the wire (RFC 4106 §3.1, RFC 7634 §2).
pub(crate) const IV_LEN: usize = 8;
/// ICV length of AES-GCM-16 and ChaCha20-Poly1305.
pub(crate) const ICV_LEN: usize = 16;

/// The aws-lc-rs algorithm and key length in bytes for an implemented AEAD, or `None`.
pub(crate) fn algorithm(encr: EncrAlg) -> Option<(&'static aead::Algorithm, usize)> {
    match (encr.id, encr.key_bits) {
        (EncrId::AesGcm16, Some(128)) => Some((&aead::AES_128_GCM, 16)),
        (EncrId::AesGcm16, Some(192)) => Some((&aead::AES_192_GCM, 24)),
        (EncrId::AesGcm16, Some(256)) => Some((&aead::AES_256_GCM, 32)),
        // RFC 7634 §3: no Key Length attribute; tolerate an explicit 256.
        (EncrId::ChaCha20Poly1305, None | Some(256)) => Some((&aead::CHACHA20_POLY1305, 32)),
        _ => None,
    }
}

/// One keyed AEAD.
pub(crate) struct AeadCipher {
    key: LessSafeKey,
    salt: Zeroizing<[u8; SALT_LEN]>,
}

impl AeadCipher {
    /// `keymat` is key | salt.
    pub(crate) fn new(encr: EncrAlg, keymat: &[u8]) -> Result<Self, CryptoError> {
        let (alg, key_len) =
            algorithm(encr).ok_or_else(|| CryptoError::Unsupported(encr.to_string()))?;
        if keymat.len() != key_len + SALT_LEN {
            return Err(CryptoError::BadLength("AEAD key material"));
        }
        let (key, salt_bytes) = keymat.split_at(key_len);
        let key = UnboundKey::new(alg, key).map_err(|_| CryptoError::Backend)?;
        let mut salt = Zeroizing::new([0u8; SALT_LEN]);
        salt.copy_from_slice(salt_bytes);
        Ok(Self {
            key: LessSafeKey::new(key),
            salt,
        })
    }

    fn nonce(&self, iv: &[u8]) -> Result<Nonce, CryptoError> {
        if iv.len() != IV_LEN {
            return Err(CryptoError::BadLength("IV"));
        }
        let mut n = [0u8; SALT_LEN + IV_LEN];
        let (s, i) = n.split_at_mut(SALT_LEN);
        s.copy_from_slice(&*self.salt);
        i.copy_from_slice(iv);
        Ok(Nonce::assume_unique_for_key(n))
    }

    pub(crate) fn seal(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &mut [u8],
        icv: &mut [u8],
    ) -> Result<(), CryptoError> {
        if icv.len() != ICV_LEN {
            return Err(CryptoError::BadLength("ICV"));
        }
        let nonce = self.nonce(iv)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
            .map_err(|_| CryptoError::Backend)?;
        for (dst, src) in icv.iter_mut().zip(tag.as_ref()) {
            *dst = *src;
        }
        Ok(())
    }

    /// Out of place: `plain | tail` encrypted into `out` (ciphertext, then the tag).
    pub(crate) fn seal_from(
        &self,
        aad: &[u8],
        iv: &[u8],
        plain: &[u8],
        tail: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let (ct, tail_and_tag) = out
            .split_at_mut_checked(plain.len())
            .ok_or(CryptoError::BadLength("output"))?;
        if tail_and_tag.len() != tail.len() + ICV_LEN {
            return Err(CryptoError::BadLength("ICV"));
        }
        let nonce = self.nonce(iv)?;
        self.key
            .seal_out_of_place_scatter(nonce, Aad::from(aad), plain, ct, tail, tail_and_tag)
            .map_err(|_| CryptoError::Backend)
    }

    /// Out of place: verifies `icv` over `aad` and `ct`, decrypting `ct` into `out`.
    pub(crate) fn open_to(
        &self,
        aad: &[u8],
        iv: &[u8],
        ct: &[u8],
        icv: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        if icv.len() != ICV_LEN {
            return Err(CryptoError::BadLength("ICV"));
        }
        if out.len() != ct.len() {
            return Err(CryptoError::BadLength("output"));
        }
        let nonce = self.nonce(iv)?;
        self.key
            .open_separate_gather(nonce, Aad::from(aad), ct, icv, out)
            .map_err(|_| CryptoError::IntegrityCheckFailed)
    }

    pub(crate) fn open(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        if icv.len() != ICV_LEN {
            return Err(CryptoError::BadLength("ICV"));
        }
        let nonce = self.nonce(iv)?;
        self.key
            .open_in_place_separate_tag(nonce, Aad::from(aad), icv, buf)
            .map(|_| ())
            .map_err(|_| CryptoError::IntegrityCheckFailed)
    }
}
