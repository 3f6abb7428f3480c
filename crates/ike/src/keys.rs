//! The keys of an established IKE SA (RFC 7296 §2.14) and the Encrypted payload
//! (RFC 7296 §3.14; RFC 5282 for AEAD ciphers).

use crypto::kdf;
use crypto::{Cipher, CryptoError, EncrAlg, Prf, Random, SecretBytes, Suite};
use wire::ike::{
    emit_payload_chain, encode_sk_message, encode_skf_message, strip_sk_padding, Header, Payload,
    SkLayout, SkPayload, HEADER_LEN, SKF_EXTRA_LEN,
};

/// Why a received Encrypted payload could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// Malformed layout (lengths): drop.
    Malformed,
    /// ICV mismatch: drop without reply (RFC 7296 §2.21.2).
    Integrity,
}

fn suite_prf(suite: &Suite) -> Result<crypto::PrfId, CryptoError> {
    suite
        .prf
        .ok_or(CryptoError::Unsupported("IKE suite without PRF".into()))
}

/// The key material of one direction (SK_e and SK_a, RFC 7296 §2.14). The keyed cipher is built
/// per message from it: an established IKE SA is idle almost all the time, and a keyed cipher
/// (aws-lc's AEAD context, ~0.6 KiB; CBC + HMAC ~2 KiB) per direction would be most of the
/// SA's memory, for less than a microsecond of key setup per message.
struct DirKeys {
    encr: SecretBytes,
    integ: SecretBytes,
}

/// The keys of an IKE SA, for each direction.
pub(crate) struct IkeKeys {
    /// The negotiated PRF.
    pub prf: Prf,
    /// SK_d, for Child SA keys.
    pub sk_d: SecretBytes,
    /// SK_pi.
    pub sk_pi: SecretBytes,
    /// SK_pr.
    pub sk_pr: SecretBytes,
    encr: EncrAlg,
    integ: Option<crypto::IntegId>,
    send: DirKeys,
    recv: DirKeys,
    aead: bool,
    /// Counter for AEAD IVs: unique per message sent under this key (RFC 5282 §3.1).
    next_iv: u64,
}

impl core::fmt::Debug for IkeKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("IkeKeys(<redacted>)")
    }
}

impl IkeKeys {
    /// Derives SKEYSEED and SK_* from the exchange (RFC 7296 §2.14) and keys the ciphers for
    /// our role.
    #[allow(clippy::too_many_arguments)]
    pub fn derive(
        suite: &Suite,
        g_ir: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: u64,
        spi_r: u64,
        initiator: bool,
    ) -> Result<Self, CryptoError> {
        let prf = Prf::new(suite_prf(suite)?)?;
        let seed = kdf::skeyseed(prf, ni, nr, g_ir);
        Self::from_seed(suite, &seed, ni, nr, spi_i, spi_r, initiator)
    }

    /// The keys of a rekeyed IKE SA (RFC 7296 §2.18): SKEYSEED = prf(SK_d (old), g^ir (new) |
    /// Ni | Nr) with the old SA's PRF, then SK_* with the new SA's PRF and SPIs.
    #[allow(clippy::too_many_arguments)]
    pub fn derive_rekey(
        &self,
        suite: &Suite,
        g_ir: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: u64,
        spi_r: u64,
        initiator: bool,
    ) -> Result<Self, CryptoError> {
        let seed = kdf::skeyseed_rekey(self.prf, self.sk_d.as_slice(), g_ir, ni, nr);
        Self::from_seed(suite, &seed, ni, nr, spi_i, spi_r, initiator)
    }

    #[allow(clippy::too_many_arguments)]
    fn from_seed(
        suite: &Suite,
        seed: &crypto::SecretBytes,
        ni: &[u8],
        nr: &[u8],
        spi_i: u64,
        spi_r: u64,
        initiator: bool,
    ) -> Result<Self, CryptoError> {
        let prf = Prf::new(suite_prf(suite)?)?;
        let encr: EncrAlg = suite.encr;
        let integ = suite.integ;
        let ekl = Cipher::encr_keymat_len(encr)?;
        let ikl = match integ {
            Some(i) => Cipher::integ_key_len(i)?,
            None => 0,
        };
        let k = kdf::ike_keys(prf, seed.as_slice(), ni, nr, spi_i, spi_r, ekl, ikl)?;
        let ci = DirKeys {
            encr: k.sk_ei,
            integ: k.sk_ai,
        };
        let cr = DirKeys {
            encr: k.sk_er,
            integ: k.sk_ar,
        };
        // Fail here, not at the first message, when the suite cannot be keyed.
        Cipher::new(encr, integ, ci.encr.as_slice(), ci.integ.as_slice())?;
        let (send, recv) = if initiator { (ci, cr) } else { (cr, ci) };
        Ok(Self {
            prf,
            sk_d: k.sk_d,
            sk_pi: k.sk_pi,
            sk_pr: k.sk_pr,
            encr,
            integ,
            send,
            recv,
            aead: Cipher::is_aead(encr),
            next_iv: 1,
        })
    }

    fn cipher(&self, keys: &DirKeys) -> Result<Cipher, CryptoError> {
        Cipher::new(
            self.encr,
            self.integ,
            keys.encr.as_slice(),
            keys.integ.as_slice(),
        )
    }

    /// Builds the encrypted message(s) carrying `inner`: one SK message (RFC 7296 §3.14), or,
    /// when `max_len` is given and the message would be longer, Encrypted Fragment messages of
    /// at most `max_len` octets each (RFC 7383 §2.5).
    pub fn seal_message(
        &mut self,
        header: &Header,
        inner: &[Payload],
        max_len: Option<usize>,
        rng: &mut dyn Random,
    ) -> Result<Vec<Vec<u8>>, CryptoError> {
        let mut chain = Vec::new();
        emit_payload_chain(inner, &mut chain).map_err(|_| CryptoError::BadLength("message"))?;
        let c = &self.cipher(&self.send)?;
        // Upper bound of the unfragmented message's length.
        let whole = HEADER_LEN + 4 + c.iv_len() + chain.len() + c.block_len() + c.icv_len();
        let Some(max) = max_len.filter(|m| whole > *m) else {
            return Ok(vec![self.seal_with(c, header, inner, rng)?]);
        };
        let first = inner.first().map_or(0, Payload::payload_type);
        let overhead = HEADER_LEN + 4 + SKF_EXTRA_LEN + c.iv_len() + c.icv_len() + c.block_len();
        let chunk = max
            .checked_sub(overhead)
            .filter(|n| *n >= 16)
            .ok_or(CryptoError::BadLength("fragment size"))?;
        let total = chain.len().div_ceil(chunk);
        let total16 =
            u16::try_from(total).map_err(|_| CryptoError::BadLength("too many fragments"))?;
        let mut out = Vec::with_capacity(total);
        for (i, piece) in chain.chunks(chunk).enumerate() {
            let num = (i + 1) as u16;
            let (iv_len, b, l) = (c.iv_len(), c.block_len(), c.icv_len());
            let (msg, layout) = encode_skf_message(
                header,
                if num == 1 { first } else { 0 },
                num,
                total16,
                piece,
                iv_len,
                b,
                l,
            )
            .map_err(|_| CryptoError::BadLength("fragment"))?;
            out.push(self.encrypt_layout(c, msg, layout, rng)?);
        }
        Ok(out)
    }

    /// Builds an encrypted message carrying `inner` (RFC 7296 §3.14).
    fn seal_with(
        &mut self,
        c: &Cipher,
        header: &Header,
        inner: &[Payload],
        rng: &mut dyn Random,
    ) -> Result<Vec<u8>, CryptoError> {
        let (msg, layout) =
            encode_sk_message(header, inner, c.iv_len(), c.block_len(), c.icv_len())
                .map_err(|_| CryptoError::BadLength("message too large"))?;
        self.encrypt_layout(c, msg, layout, rng)
    }

    /// Fills the IV and encrypts a laid-out SK or SKF message in place.
    fn encrypt_layout(
        &mut self,
        c: &Cipher,
        mut msg: Vec<u8>,
        layout: SkLayout,
        rng: &mut dyn Random,
    ) -> Result<Vec<u8>, CryptoError> {
        // The IV: a counter for AEAD (unique per key, RFC 5282 §3.1), random for CBC
        // (RFC 7296 §3.14).
        let iv = &mut msg[layout.iv.clone()];
        if self.aead {
            let ctr = self.next_iv.to_be_bytes();
            self.next_iv += 1;
            let n = iv.len().min(8);
            iv[..n].copy_from_slice(&ctr[8 - n..]);
        } else {
            rng.fill(iv);
        }
        let (head, rest) = msg.split_at_mut(layout.iv.end);
        let aad = &head[..layout.aad_end];
        let iv = &head[layout.iv.clone()];
        let pt_len = layout.plaintext.len();
        let (pt, icv) = rest.split_at_mut(pt_len);
        c.seal(aad, iv, pt, icv)?;
        Ok(msg)
    }

    /// Verifies and decrypts the Encrypted payload of `msg`; returns the inner payload chain
    /// bytes (padding removed).
    pub fn open(&self, msg: &[u8], sk: &SkPayload) -> Result<Vec<u8>, OpenError> {
        let c = &self.cipher(&self.recv).map_err(|_| OpenError::Malformed)?;
        let r = sk
            .split(c.iv_len(), c.icv_len(), c.block_len())
            .map_err(|_| OpenError::Malformed)?;
        let aad = msg.get(..sk.aad_end()).ok_or(OpenError::Malformed)?;
        let iv = msg.get(r.iv.clone()).ok_or(OpenError::Malformed)?;
        let icv = msg.get(r.icv.clone()).ok_or(OpenError::Malformed)?;
        let mut buf = msg
            .get(r.ciphertext.clone())
            .ok_or(OpenError::Malformed)?
            .to_vec();
        c.open(aad, iv, &mut buf, icv)
            .map_err(|_| OpenError::Integrity)?;
        let inner_len = strip_sk_padding(&buf)
            .map_err(|_| OpenError::Malformed)?
            .len();
        buf.truncate(inner_len);
        Ok(buf)
    }
}
