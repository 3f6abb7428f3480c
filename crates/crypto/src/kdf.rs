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
///
/// With an HMAC PRF the key Ni | Nr is used whole, whatever its length (RFC 7296 §2.14 only
/// truncates nonces for PRFs with a fixed key size, such as AES-XCBC, which this crate does not
/// implement).
pub fn skeyseed(prf: Prf, ni: &[u8], nr: &[u8], g_ir: &[u8]) -> SecretBytes {
    let mut key = SecretBytes::zeroed(ni.len().saturating_add(nr.len()));
    let (k_ni, k_nr) = key.as_mut_slice().split_at_mut(ni.len());
    k_ni.copy_from_slice(ni);
    k_nr.copy_from_slice(nr);
    prf.compute(key.as_slice(), &[g_ir])
}

/// SKEYSEED for a rekeyed IKE SA: prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 §2.18).
pub fn skeyseed_rekey(
    prf: Prf,
    sk_d_old: &[u8],
    g_ir_new: &[u8],
    ni: &[u8],
    nr: &[u8],
) -> SecretBytes {
    prf.compute(sk_d_old, &[g_ir_new, ni, nr])
}

/// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
/// `encr_keymat_len` includes the AEAD salt; `integ_key_len` is 0 for AEAD. SK_d, SK_pi and
/// SK_pr are `prf.output_len()` bytes.
#[allow(clippy::too_many_arguments)]
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
    let prf_len = prf.output_len();
    let total = prf_len
        .checked_mul(3)
        .and_then(|n| n.checked_add(encr_keymat_len.checked_mul(2)?))
        .and_then(|n| n.checked_add(integ_key_len.checked_mul(2)?))
        .ok_or(CryptoError::BadLength("IKE key material"))?;
    let mut keymat = prf.prf_plus(
        skeyseed,
        &[ni, nr, &spi_i.to_be_bytes(), &spi_r.to_be_bytes()],
        total,
    )?;
    let sk_d = keymat.take_front(prf_len);
    let sk_ai = keymat.take_front(integ_key_len);
    let sk_ar = keymat.take_front(integ_key_len);
    let sk_ei = keymat.take_front(encr_keymat_len);
    let sk_er = keymat.take_front(encr_keymat_len);
    let sk_pi = keymat.take_front(prf_len);
    let sk_pr = keymat.take_front(prf_len);
    Ok(IkeKeys {
        sk_d,
        sk_ai,
        sk_ar,
        sk_ei,
        sk_er,
        sk_pi,
        sk_pr,
    })
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
    match g_ir_new {
        Some(g) => prf.prf_plus(sk_d, &[g, ni, nr], len),
        None => prf.prf_plus(sk_d, &[ni, nr], len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrfId;

    fn sha256() -> Prf {
        Prf::new(PrfId::HmacSha2_256).unwrap()
    }

    #[test]
    fn skeyseed_keys_prf_with_both_nonces() {
        let prf = sha256();
        let got = skeyseed(prf, b"nonce-i", b"nonce-r", b"g^ir");
        assert_eq!(got, prf.compute(b"nonce-inonce-r", &[b"g^ir"]));
        assert_ne!(got, prf.compute(b"nonce-rnonce-i", &[b"g^ir"]));
    }

    #[test]
    fn ike_keys_split_prf_plus_in_order() {
        let prf = sha256();
        let (ni, nr) = (&[1u8; 32][..], &[2u8; 32][..]);
        let (spi_i, spi_r) = (0x0102_0304_0506_0708, 0x1112_1314_1516_1718);
        let keys = ike_keys(prf, b"seed", ni, nr, spi_i, spi_r, 20, 32).unwrap();
        let all = prf
            .prf_plus(
                b"seed",
                &[ni, nr, &spi_i.to_be_bytes(), &spi_r.to_be_bytes()],
                32 * 3 + 20 * 2 + 32 * 2,
            )
            .unwrap();
        let mut at = 0;
        for (k, len) in [
            (&keys.sk_d, 32),
            (&keys.sk_ai, 32),
            (&keys.sk_ar, 32),
            (&keys.sk_ei, 20),
            (&keys.sk_er, 20),
            (&keys.sk_pi, 32),
            (&keys.sk_pr, 32),
        ] {
            assert_eq!(k.as_slice(), &all.as_slice()[at..at + len]);
            at += len;
        }
        assert_eq!(at, all.len());
    }

    #[test]
    fn ike_keys_aead_has_empty_integ_keys() {
        let keys = ike_keys(sha256(), b"s", b"n", b"m", 1, 2, 36, 0).unwrap();
        assert!(keys.sk_ai.is_empty() && keys.sk_ar.is_empty());
        assert_eq!(keys.sk_ei.len(), 36);
        assert_ne!(keys.sk_ei, keys.sk_er);
    }

    #[test]
    fn ike_keys_overflowing_length_is_an_error() {
        assert!(ike_keys(sha256(), b"s", b"n", b"m", 1, 2, usize::MAX, 0).is_err());
        assert!(ike_keys(sha256(), b"s", b"n", b"m", 1, 2, 5000, 0).is_err());
    }

    #[test]
    fn child_keymat_with_and_without_pfs() {
        let prf = sha256();
        let plain = child_keymat(prf, b"sk_d", None, b"ni", b"nr", 72).unwrap();
        assert_eq!(plain, prf.prf_plus(b"sk_d", &[b"ninr"], 72).unwrap());
        let pfs = child_keymat(prf, b"sk_d", Some(b"gir"), b"ni", b"nr", 72).unwrap();
        assert_eq!(pfs, prf.prf_plus(b"sk_d", &[b"girninr"], 72).unwrap());
    }

    #[test]
    fn skeyseed_rekey_uses_old_sk_d() {
        let prf = sha256();
        let got = skeyseed_rekey(prf, b"old", b"gir", b"ni", b"nr");
        assert_eq!(got, prf.compute(b"old", &[b"girninr"]));
    }
}
