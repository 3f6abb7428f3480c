//! Key exchange (RFC 7296 §3.4 KE payload; RFC 5903 ECP; RFC 8031 Curve25519; RFC 3526 and
//! RFC 2409 MODP).
//!
//! Wire encodings: ECP public values are x | y, each zero-padded to the field size, without the
//! 0x04 prefix; the ECP shared secret is the x coordinate (RFC 5903 §7). Curve25519 values are
//! 32 bytes little-endian (RFC 8031). MODP values are zero-padded to the modulus length.
//!
//! ECP and Curve25519 arithmetic is aws-lc-rs's (`agreement`), which checks that a peer's ECP
//! point lies on the curve. MODP exponentiation is `crypto-bigint`'s, constant time (see
//! [`modp`](self) in `ke/modp.rs` for the group constants and the private exponent sizes). Private
//! keys are built from bytes drawn from the injected [`Random`], so a seeded generator gives
//! reproducible exchanges.

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::{ct_eq, CryptoError, KeId, Random, SecretBytes};

mod modp;

/// Our half of one key exchange: a private key and its public value.
pub struct KeyExchange {
    id: KeId,
    public: Vec<u8>,
    private: Private,
}

/// The private half, by family.
enum Private {
    /// Curve25519 and ECP (aws-lc-rs).
    Ecdh(PrivateKey),
    /// MODP groups (boxed: the exponent is heap-allocated anyway, and it keeps the enum small).
    Modp(Box<modp::ModpPrivate>),
}

impl core::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyExchange")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// How many out-of-range ECP scalars `generate` tolerates before giving up. With the bits above
/// the order's length cleared, a draw is rejected with probability below 2^-32 for every
/// implemented group, so this bound is never reached with a working RNG.
const MAX_SCALAR_DRAWS: usize = 64;

/// (aws-lc-rs algorithm, private scalar length, public value length) per implemented group.
fn params(id: KeId) -> Result<(&'static agreement::Algorithm, usize, usize), CryptoError> {
    match id {
        KeId::Curve25519 => Ok((&agreement::X25519, 32, 32)),
        KeId::Ecp256 => Ok((&agreement::ECDH_P256, 32, 64)),
        KeId::Ecp384 => Ok((&agreement::ECDH_P384, 48, 96)),
        KeId::Ecp521 => Ok((&agreement::ECDH_P521, 66, 132)),
        _ => Err(CryptoError::Unsupported(id.to_string())),
    }
}

/// Public value length on the wire of every known group, implemented or not (RFC 3526 / RFC
/// 2409 modulus sizes, RFC 5903 §7, RFC 8031 §2).
fn wire_len(id: KeId) -> Result<usize, CryptoError> {
    match id {
        KeId::Modp1024 => Ok(128),
        KeId::Modp1536 => Ok(192),
        KeId::Modp2048 => Ok(256),
        KeId::Modp3072 => Ok(384),
        KeId::Modp4096 => Ok(512),
        KeId::Curve448 => Ok(56),
        KeId::None => Err(CryptoError::Unsupported(id.to_string())),
        _ => params(id).map(|(_, _, public_len)| public_len),
    }
}

impl KeyExchange {
    /// True when `generate` supports `id`.
    pub fn is_supported(id: KeId) -> bool {
        params(id).is_ok() || modp::group(id).is_some()
    }
    /// Length in bytes of a public value of group `id` on the wire.
    pub fn public_len(id: KeId) -> Result<usize, CryptoError> {
        wire_len(id)
    }
    /// A fresh private key drawn from `rng` (so tests are deterministic) and its public value.
    ///
    /// ECP scalars are drawn as field-size big-endian integers with the bits above the group
    /// order's length cleared (only P-521 has such bits) and redrawn when zero or not below the
    /// order (rejection sampling, as FIPS 186-5 A.4.2 does). Curve25519 takes 32 random bytes,
    /// which X25519 clamps itself (RFC 7748 §5). MODP exponents are drawn as big-endian
    /// integers of the group's exponent length (256 to 512 bits, see `ke/modp.rs`), redrawn
    /// when 0 or 1.
    pub fn generate(id: KeId, rng: &mut dyn Random) -> Result<Self, CryptoError> {
        let scalar_len = match modp::group(id) {
            Some(g) => g.exp_len(),
            None => params(id)?.1,
        };
        let mut scalar = Zeroizing::new(vec![0u8; scalar_len]);
        for _ in 0..MAX_SCALAR_DRAWS {
            rng.fill(&mut scalar);
            if id == KeId::Ecp521 {
                // 521 bits in 66 bytes: keep the top byte's lowest bit only.
                if let Some(top) = scalar.first_mut() {
                    *top &= 0x01;
                }
            }
            match Self::from_private_bytes(id, &scalar) {
                Ok(ke) => return Ok(ke),
                Err(CryptoError::InvalidPublicValue) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(CryptoError::Backend)
    }
    /// Our half from a known private key: a big-endian scalar of the field size for ECP
    /// (RFC 5903 §8 writes its test keys so), 32 bytes for Curve25519 (RFC 7748 §5), a
    /// big-endian exponent of the group's exponent length for MODP. For known-answer tests;
    /// protocol code uses [`KeyExchange::generate`]. An out-of-range scalar gives
    /// `InvalidPublicValue`.
    pub(crate) fn from_private_bytes(id: KeId, private: &[u8]) -> Result<Self, CryptoError> {
        if let Some(group) = modp::group(id) {
            let (private, public) = modp::ModpPrivate::new(group, private)?;
            return Ok(Self {
                id,
                public,
                private: Private::Modp(Box::new(private)),
            });
        }
        let (alg, scalar_len, public_len) = params(id)?;
        if private.len() != scalar_len {
            return Err(CryptoError::BadLength("private key"));
        }
        let private = PrivateKey::from_private_key(alg, private)
            .map_err(|_| CryptoError::InvalidPublicValue)?;
        let public = private
            .compute_public_key()
            .map_err(|_| CryptoError::Backend)?;
        let public = public.as_ref();
        // ECP: aws-lc-rs gives the SEC 1 uncompressed point 0x04 | x | y; the wire drops 0x04.
        let public = match public.len() {
            n if n == public_len => public,
            n if n == public_len + 1 && public.first() == Some(&0x04) => {
                public.get(1..).unwrap_or_default()
            }
            _ => return Err(CryptoError::Backend),
        };
        Ok(Self {
            id,
            public: public.to_vec(),
            private: Private::Ecdh(private),
        })
    }
    /// The group.
    pub fn id(&self) -> KeId {
        self.id
    }
    /// Our public value in wire encoding (the KE payload's Key Exchange Data).
    pub fn public_value(&self) -> &[u8] {
        &self.public
    }
    /// The shared secret g^ir from the peer's public value, after validating it (length, point on
    /// curve, not the identity / low order; RFC 6989 where it applies). Consumes the private key.
    ///
    /// ECP: the point must be on the curve (checked by aws-lc-rs; RFC 6989 §2.3); the secret is
    /// its x coordinate (RFC 5903 §7). Curve25519: a low-order peer value yields an all-zero
    /// secret, which is rejected (RFC 7748 §6.1, RFC 8031 §2.3). MODP: the value must be the
    /// modulus length with 1 < y < p - 1 (RFC 6989 §2.1); the secret is zero-padded to the
    /// modulus length (RFC 7296 §3.4).
    pub fn complete(self, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let private = match &self.private {
            Private::Modp(m) => return m.agree(peer_public),
            Private::Ecdh(p) => p,
        };
        let (alg, _, public_len) = params(self.id)?;
        if peer_public.len() != public_len {
            return Err(CryptoError::InvalidPublicValue);
        }
        let derive = |peer: &[u8]| {
            agreement::agree(
                private,
                UnparsedPublicKey::new(alg, peer),
                CryptoError::InvalidPublicValue,
                |secret| Ok(SecretBytes::from_slice(secret)),
            )
        };
        if self.id == KeId::Curve25519 {
            let secret = derive(peer_public)?;
            if ct_eq(secret.as_slice(), &[0u8; 32]) {
                return Err(CryptoError::InvalidPublicValue);
            }
            Ok(secret)
        } else {
            // An x coordinate of zero is a legitimate ECP result (a point on the curve), so
            // there is no all-zero check here.
            let mut sec1 = Vec::with_capacity(public_len + 1);
            sec1.push(0x04);
            sec1.extend_from_slice(peer_public);
            derive(&sec1)
        }
    }
}

/// Key exchanges live in IKE SA state, which may move between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<KeyExchange>();
};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod modp_tests;
