//! Key exchange (RFC 7296 §3.4 KE payload; RFC 5903 ECP; RFC 8031 Curve25519).
//!
//! Wire encodings: ECP public values are x | y, each zero-padded to the field size, without the
//! 0x04 prefix; the ECP shared secret is the x coordinate (RFC 5903 §7). Curve25519 values are
//! 32 bytes little-endian (RFC 8031). MODP values are zero-padded to the modulus length.

use crate::{CryptoError, KeId, Random, SecretBytes};

/// Our half of one key exchange: a private key and its public value.
pub struct KeyExchange {
    id: KeId,
    public: Vec<u8>,
}

impl core::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyExchange")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl KeyExchange {
    /// True when `generate` supports `id`.
    pub fn is_supported(id: KeId) -> bool {
        let _ = id;
        unimplemented!("crypto helper")
    }
    /// Length in bytes of a public value of group `id` on the wire.
    pub fn public_len(id: KeId) -> Result<usize, CryptoError> {
        let _ = id;
        unimplemented!("crypto helper")
    }
    /// A fresh private key drawn from `rng` (so tests are deterministic) and its public value.
    pub fn generate(id: KeId, rng: &mut dyn Random) -> Result<Self, CryptoError> {
        let _ = rng;
        let _ = id;
        unimplemented!("crypto helper")
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
    pub fn complete(self, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let _ = peer_public;
        unimplemented!("crypto helper")
    }
}
