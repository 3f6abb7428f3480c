//! What the ICV covers, with and without Extended Sequence Numbers.
//!
//! - Without ESN the integrity check covers `SPI | Seq | IV | ciphertext` (RFC 4303 §3.3.2),
//!   which `crypto::Cipher` does by itself (AAD = the 8-byte ESP header).
//! - With ESN (RFC 4304 §2, RFC 4303 §2.2.1) only the low 32 bits travel; the high 32 bits are
//!   still covered. For integrity algorithms they are appended, for the ICV computation only,
//!   after the ciphertext (RFC 4303 §3.3.2.1: "after the Next Header field" and any padding);
//!   for AEAD the AAD is `SPI | Seq high | Seq low` (RFC 4106 §5, RFC 7634 §2.1).
//!
//! The separate-integrity ESN case is composed from `crypto::AesCbc` and `crypto::Integ`
//! (encrypt-then-MAC, verify-then-decrypt as RFC 4303 §3.3.2 / §3.4.4 order it); no cipher is
//! implemented here.

use crypto::cipher::AesCbc;
use crypto::{Cipher, CryptoError, EncrId, Integ, IntegId};

use crate::{EspError, SaKeys};

/// The keyed algorithms of one SA, laid out for its sequence-number mode.
pub(crate) enum Protect {
    /// AEAD, or any SA without ESN: `crypto::Cipher` over the 8-byte header (or, for AEAD with
    /// ESN, the 12-byte AAD).
    Cipher {
        cipher: Cipher,
        aead: bool,
        esn: bool,
    },
    /// A separate integrity algorithm with ESN: AES-CBC (or ENCR_NULL, `cbc: None`) then an
    /// HMAC over `header | IV | ciphertext | Seq high`.
    EsnInteg(Box<EsnInteg>),
    /// AH (RFC 4302): the integrity algorithm alone, over what `crate::ah` lays out (the IP
    /// header with its mutable fields zeroed, AH, the payload, the high half of an ESN). Never
    /// used by ESP's `seal` / `open`.
    Ah(Box<Integ>),
}

/// AES-CBC or ENCR_NULL with an HMAC, for ESN (boxed: the key schedules are large).
pub(crate) struct EsnInteg {
    cbc: Option<AesCbc>,
    integ: Integ,
}

impl core::fmt::Debug for Protect {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Protect(<keys redacted>)")
    }
}

/// The 12-byte AEAD AAD with ESN (RFC 4106 §5): SPI, high then low half of the sequence number.
fn esn_aad(hdr: &[u8], seq: u64) -> [u8; 12] {
    let mut a = [0u8; 12];
    if let (Some(spi), Some(dst)) = (hdr.get(..4), a.get_mut(..4)) {
        dst.copy_from_slice(spi);
    }
    if let Some(dst) = a.get_mut(4..) {
        dst.copy_from_slice(&seq.to_be_bytes());
    }
    a
}

pub(crate) fn seq_high(seq: u64) -> [u8; 4] {
    ((seq >> 32) as u32).to_be_bytes()
}

impl Protect {
    /// Keys the SA's algorithms. `integ` is already normalised (`None` for AEAD).
    pub fn new(keys: &SaKeys, integ: Option<IntegId>, esn: bool) -> Result<Self, EspError> {
        let aead = Cipher::is_aead(keys.encr);
        if esn && !aead {
            let integ_id =
                integ.ok_or(EspError::Unsupported("ESP without integrity protection"))?;
            let cbc = if keys.encr.id == EncrId::Null {
                if !keys.encr_key.as_slice().is_empty() {
                    return Err(CryptoError::BadLength("ENCR_NULL takes no key").into());
                }
                None
            } else {
                Some(AesCbc::new(keys.encr, keys.encr_key.as_slice())?)
            };
            // Checks the transform pair as `Cipher::new` would (unsupported ids, key lengths).
            Cipher::new(
                keys.encr,
                integ,
                keys.encr_key.as_slice(),
                keys.integ_key.as_slice(),
            )?;
            return Ok(Protect::EsnInteg(Box::new(EsnInteg {
                cbc,
                integ: Integ::new(integ_id, keys.integ_key.as_slice())?,
            })));
        }
        Ok(Protect::Cipher {
            cipher: Cipher::new(
                keys.encr,
                integ,
                keys.encr_key.as_slice(),
                keys.integ_key.as_slice(),
            )?,
            aead,
            esn,
        })
    }

    /// Per-SA sizes: (IV, ICV, cipher block).
    pub fn sizes(&self) -> (usize, usize, usize) {
        match self {
            Protect::Cipher { cipher, .. } => {
                (cipher.iv_len(), cipher.icv_len(), cipher.block_len())
            }
            Protect::EsnInteg(e) => match e.cbc {
                Some(_) => (16, e.integ.icv_len(), 16),
                None => (0, e.integ.icv_len(), 1),
            },
            Protect::Ah(i) => (0, i.icv_len(), 1),
        }
    }

    /// The integrity algorithm of an AH SA.
    pub fn ah(&self) -> Option<&Integ> {
        match self {
            Protect::Ah(i) => Some(i),
            _ => None,
        }
    }

    /// Encrypts `buf` in place and writes the ICV; `hdr` is the 8-byte ESP header on the wire,
    /// `seq` the full sequence number.
    pub fn seal(
        &self,
        hdr: &[u8],
        seq: u64,
        iv: &[u8],
        buf: &mut [u8],
        icv: &mut [u8],
    ) -> Result<(), CryptoError> {
        match self {
            Protect::Cipher {
                cipher,
                aead: true,
                esn: true,
            } => cipher.seal(&esn_aad(hdr, seq), iv, buf, icv),
            Protect::Cipher { cipher, .. } => cipher.seal(hdr, iv, buf, icv),
            Protect::EsnInteg(e) => {
                if let Some(cbc) = &e.cbc {
                    cbc.encrypt(iv, buf)?;
                }
                e.integ.sign(&[hdr, iv, buf, &seq_high(seq)], icv)
            }
            Protect::Ah(_) => Err(CryptoError::Backend),
        }
    }

    /// [`Protect::seal`] out of place: encrypts `plain | tail` into `out` (ciphertext, then
    /// ICV), leaving `plain` as it is (AEAD reads it directly; the others copy it first).
    pub fn seal_from(
        &self,
        hdr: &[u8],
        seq: u64,
        iv: &[u8],
        (plain, tail): (&[u8], &[u8]),
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        match self {
            Protect::Cipher {
                cipher,
                aead: true,
                esn: true,
            } => cipher.seal_from(&esn_aad(hdr, seq), iv, plain, tail, out),
            Protect::Cipher { cipher, .. } => cipher.seal_from(hdr, iv, plain, tail, out),
            Protect::EsnInteg(_) | Protect::Ah(_) => {
                let (ct, icv) = crypto::cipher::copy_for_sealing(plain, tail, out)?;
                self.seal(hdr, seq, iv, ct, icv)
            }
        }
    }

    /// [`Protect::open`] out of place: verifies the ICV and decrypts `ct` into `out`
    /// (`ct.len()` bytes).
    pub fn open_to(
        &self,
        hdr: &[u8],
        seq: u64,
        iv: &[u8],
        (ct, icv): (&[u8], &[u8]),
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        match self {
            Protect::Cipher {
                cipher,
                aead: true,
                esn: true,
            } => cipher.open_to(&esn_aad(hdr, seq), iv, ct, icv, out),
            Protect::Cipher { cipher, .. } => cipher.open_to(hdr, iv, ct, icv, out),
            Protect::EsnInteg(_) | Protect::Ah(_) => {
                if out.len() != ct.len() {
                    return Err(CryptoError::BadLength("output"));
                }
                out.copy_from_slice(ct);
                self.open(hdr, seq, iv, out, icv)
            }
        }
    }

    /// Verifies the ICV (constant time) and only then decrypts `buf` in place.
    pub fn open(
        &self,
        hdr: &[u8],
        seq: u64,
        iv: &[u8],
        buf: &mut [u8],
        icv: &[u8],
    ) -> Result<(), CryptoError> {
        match self {
            Protect::Cipher {
                cipher,
                aead: true,
                esn: true,
            } => cipher.open(&esn_aad(hdr, seq), iv, buf, icv),
            Protect::Cipher { cipher, .. } => cipher.open(hdr, iv, buf, icv),
            Protect::EsnInteg(e) => {
                e.integ.verify(&[hdr, iv, buf, &seq_high(seq)], icv)?;
                match &e.cbc {
                    Some(cbc) => cbc.decrypt(iv, buf),
                    None => Ok(()),
                }
            }
            Protect::Ah(_) => Err(CryptoError::Backend),
        }
    }
}
