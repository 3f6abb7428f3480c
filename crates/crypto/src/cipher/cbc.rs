//! AES-CBC (RFC 3602) with an HMAC integrity transform, encrypt-then-MAC as ESP (RFC 4303 §3.3.2,
//! §3.4.4) and IKEv2 (RFC 7296 §3.14) lay it out: ICV = truncated HMAC over
//! `aad | iv | ciphertext`. No padding here: the caller pads to the block length.

use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128,
    AES_192, AES_256,
};
use aws_lc_rs::iv::FixedLength;

use crate::integ::Integ;
use crate::{CryptoError, EncrAlg, EncrId};

/// AES block and IV length (RFC 3602 §2.1, §3).
pub(crate) const BLOCK_LEN: usize = 16;

/// The aws-lc-rs algorithm and key length in bytes for AES-CBC with this key length, or `None`.
pub(crate) fn algorithm(encr: EncrAlg) -> Option<(&'static aws_lc_rs::cipher::Algorithm, usize)> {
    match (encr.id, encr.key_bits) {
        (EncrId::AesCbc, Some(128)) => Some((&AES_128, 16)),
        (EncrId::AesCbc, Some(192)) => Some((&AES_192, 24)),
        (EncrId::AesCbc, Some(256)) => Some((&AES_256, 32)),
        _ => None,
    }
}

/// Raw AES-CBC without padding: the RFC 3602 layer alone.
pub struct AesCbc {
    enc: EncryptingKey,
    dec: DecryptingKey,
}

impl core::fmt::Debug for AesCbc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AesCbc(<key redacted>)")
    }
}

fn iv_block(iv: &[u8]) -> Result<[u8; BLOCK_LEN], CryptoError> {
    iv.try_into().map_err(|_| CryptoError::BadLength("IV"))
}

impl AesCbc {
    /// Keys AES-CBC for `encr` (ENCR_AES_CBC with a 128, 192 or 256-bit key).
    pub fn new(encr: EncrAlg, key: &[u8]) -> Result<Self, CryptoError> {
        let (alg, key_len) =
            algorithm(encr).ok_or_else(|| CryptoError::Unsupported(encr.to_string()))?;
        if key.len() != key_len {
            return Err(CryptoError::BadLength("AES-CBC key"));
        }
        let unbound = || UnboundCipherKey::new(alg, key).map_err(|_| CryptoError::Backend);
        Ok(Self {
            enc: EncryptingKey::cbc(unbound()?).map_err(|_| CryptoError::Backend)?,
            dec: DecryptingKey::cbc(unbound()?).map_err(|_| CryptoError::Backend)?,
        })
    }
    /// Encrypts whole blocks in place (`buf.len() % 16 == 0`, `iv.len() == 16`).
    pub fn encrypt(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        if buf.len() % BLOCK_LEN != 0 {
            return Err(CryptoError::BadLength("CBC plaintext not block aligned"));
        }
        let ctx = EncryptionContext::Iv128(FixedLength::from(iv_block(iv)?));
        self.enc
            .less_safe_encrypt(buf, ctx)
            .map(|_| ())
            .map_err(|_| CryptoError::Backend)
    }
    /// Decrypts whole blocks in place (`buf.len() % 16 == 0`, `iv.len() == 16`).
    pub fn decrypt(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        if buf.len() % BLOCK_LEN != 0 {
            return Err(CryptoError::BadLength("CBC ciphertext not block aligned"));
        }
        let ctx = DecryptionContext::Iv128(FixedLength::from(iv_block(iv)?));
        self.dec
            .decrypt(buf, ctx)
            .map(|_| ())
            .map_err(|_| CryptoError::Backend)
    }
}

/// AES-CBC + HMAC for one direction of one SA.
pub(crate) struct CbcHmac {
    cbc: AesCbc,
    integ: Integ,
}

impl CbcHmac {
    pub(crate) fn new(cbc: AesCbc, integ: Integ) -> Self {
        Self { cbc, integ }
    }
    pub(crate) fn icv_len(&self) -> usize {
        self.integ.icv_len()
    }
    pub(crate) fn seal(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &mut [u8],
        icv: &mut [u8],
    ) -> Result<(), CryptoError> {
        if icv.len() != self.integ.icv_len() {
            return Err(CryptoError::BadLength("ICV"));
        }
        self.cbc.encrypt(iv, buf)?;
        self.integ.sign(&[aad, iv, buf], icv)
    }
    /// Verifies the ICV first (constant time) and decrypts only an authentic message.
    pub(crate) fn open(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        if iv.len() != BLOCK_LEN {
            return Err(CryptoError::BadLength("IV"));
        }
        if buf.len() % BLOCK_LEN != 0 {
            return Err(CryptoError::BadLength("CBC ciphertext not block aligned"));
        }
        self.integ.verify(&[aad, iv, buf], icv)?;
        self.cbc.decrypt(iv, buf)
    }
}
