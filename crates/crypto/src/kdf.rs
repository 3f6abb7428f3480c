//! IKEv2 key derivation: SKEYSEED and the SK_* keys (RFC 7296 §2.14), Child SA KEYMAT (§2.17).

use crate::{CryptoError, Prf, SecretBytes};

/// The seven IKE SA keys of RFC 7296 §2.14, in the order prf+ produces them.
#[derive(Debug, Clone)]
pub struct IkeKeys {
    /// SK_d: derives Child SA keys.
    pub sk_d: SecretBytes,
    /// SK_ai: integrity key, initiator to responder (empty for AEAD).
    pub sk_ai: SecretBytes,
    /// SK_ar: integrity key, responder to initiator (empty for AEAD).
    pub sk_ar: SecretBytes,
    /// SK_ei: encryption key material (key | salt for AEAD), initiator to responder.
    pub sk_ei: SecretBytes,
    /// SK_er: encryption key material, responder to initiator.
    pub sk_er: SecretBytes,
    /// SK_pi: used in the initiator's AUTH payload.
    pub sk_pi: SecretBytes,
    /// SK_pr: used in the responder's AUTH payload.
    pub sk_pr: SecretBytes,
}

/// SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 §2.14).
pub fn skeyseed(prf: Prf, ni: &[u8], nr: &[u8], g_ir: &[u8]) -> SecretBytes {
    let _ = (prf, ni, nr, g_ir);
    unimplemented!("crypto helper")
}

/// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
/// `encr_keymat_len` includes the AEAD salt; `integ_key_len` is 0 for AEAD. SK_d, SK_pi and
/// SK_pr are `prf.output_len()` bytes.
pub fn ike_keys(
    prf: Prf,
    skeyseed: &[u8],
    ni: &[u8],
    nr: &[u8],
    spi_i: u64,
    spi_r: u64,
    encr_keymat_len: usize,
    integ_key_len: usize,
) -> Result<IkeKeys, CryptoError> {
    let _ = (
        prf,
        skeyseed,
        ni,
        nr,
        spi_i,
        spi_r,
        encr_keymat_len,
        integ_key_len,
    );
    unimplemented!("crypto helper")
}

/// KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), `len` bytes (RFC 7296 §2.17). The caller splits
/// it: initiator-to-responder encryption key, then its integrity key, then the same for the
/// responder-to-initiator direction.
pub fn child_keymat(
    prf: Prf,
    sk_d: &[u8],
    g_ir_new: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    let _ = (prf, sk_d, g_ir_new, ni, nr, len);
    unimplemented!("crypto helper")
}
