//! ENCR_NULL (RFC 2410) with an HMAC integrity transform, for ESP only (RFC 8221 §5: MUST be
//! implemented, and only with integrity; RFC 8247 §2.1: MUST NOT be used by IKE). NULL
//! encryption is the identity: no IV (RFC 2410 §2: "IV ... zero octets"), a block size of one
//! octet (ESP's own 4-octet alignment still applies, RFC 4303 §2.4), and the ICV is the
//! truncated HMAC over `aad | ciphertext`, where ciphertext = plaintext.

use crate::integ::Integ;
use crate::CryptoError;

/// NULL encryption + HMAC for one direction of one ESP SA.
pub(crate) struct NullHmac {
    integ: Integ,
}

impl NullHmac {
    pub(crate) fn new(integ: Integ) -> Self {
        Self { integ }
    }
    pub(crate) fn icv_len(&self) -> usize {
        self.integ.icv_len()
    }
    /// Leaves `buf` as it is and writes the ICV over `aad | buf`. `iv` must be empty.
    pub(crate) fn seal(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &mut [u8],
        icv: &mut [u8],
    ) -> Result<(), CryptoError> {
        if !iv.is_empty() {
            return Err(CryptoError::BadLength("IV (ENCR_NULL has none)"));
        }
        self.integ.sign(&[aad, buf], icv)
    }
    /// Checks the ICV over `aad | buf` in constant time; `buf` is already the plaintext.
    pub(crate) fn open(
        &self,
        aad: &[u8],
        iv: &[u8],
        buf: &[u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        if !iv.is_empty() {
            return Err(CryptoError::BadLength("IV (ENCR_NULL has none)"));
        }
        self.integ.verify(&[aad, buf], icv)
    }
}
