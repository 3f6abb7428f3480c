//! IANA transform types and identifiers (RFC 7296 §3.3.2; IANA "IKEv2 Parameters").
//!
//! Only identifiers are defined here; whether one is implemented is answered by the
//! constructors in the other modules (`Prf::new`, `Cipher::new`, `KeyExchange::generate`).
//!
//! Every enum converts from the wire value with `from_u16` (returning `None` for values this
//! crate does not know) and back with `as u16` / `value()`. `Display` prints the names
//! strongSwan uses in its logs and `swanctl --list-sas` (`AES_GCM_16`, `PRF_HMAC_SHA2_256`,
//! `HMAC_SHA2_256_128`, `CURVE_25519`, `ECP_256`, `MODP_2048`, `NO_EXT_SEQ`), which are the
//! IANA names with the `ENCR_`/`AUTH_` prefixes dropped.

/// Transform Type (RFC 7296 §3.3.2). Type 4 was "Diffie-Hellman Group", renamed
/// "Key Exchange Method" by RFC 9370.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TransformType {
    /// Encryption Algorithm (ENCR), type 1.
    Encr = 1,
    /// Pseudorandom Function (PRF), type 2.
    Prf = 2,
    /// Integrity Algorithm (INTEG), type 3.
    Integ = 3,
    /// Key Exchange Method (KE, formerly D-H group), type 4.
    Ke = 4,
    /// Extended Sequence Numbers (ESN), type 5.
    Esn = 5,
}

/// Encryption algorithm transform IDs (type 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum EncrId {
    /// ENCR_3DES (RFC 2451).
    TripleDes = 3,
    /// ENCR_NULL (RFC 2410), ESP only.
    Null = 11,
    /// ENCR_AES_CBC (RFC 3602), key length attribute required.
    AesCbc = 12,
    /// ENCR_AES_CTR (RFC 3686).
    AesCtr = 13,
    /// ENCR_AES_GCM_8 (RFC 4106), 8-octet ICV.
    AesGcm8 = 18,
    /// ENCR_AES_GCM_12 (RFC 4106), 12-octet ICV.
    AesGcm12 = 19,
    /// ENCR_AES_GCM_16 (RFC 4106), 16-octet ICV.
    AesGcm16 = 20,
    /// ENCR_CHACHA20_POLY1305 (RFC 7634).
    ChaCha20Poly1305 = 28,
}

/// Pseudorandom function transform IDs (type 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum PrfId {
    /// PRF_HMAC_MD5 (RFC 2104).
    HmacMd5 = 1,
    /// PRF_HMAC_SHA1 (RFC 2104).
    HmacSha1 = 2,
    /// PRF_AES128_XCBC (RFC 4434).
    Aes128Xcbc = 4,
    /// PRF_HMAC_SHA2_256 (RFC 4868).
    HmacSha2_256 = 5,
    /// PRF_HMAC_SHA2_384 (RFC 4868).
    HmacSha2_384 = 6,
    /// PRF_HMAC_SHA2_512 (RFC 4868).
    HmacSha2_512 = 7,
}

/// Integrity algorithm transform IDs (type 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum IntegId {
    /// NONE (used with AEAD ciphers).
    None = 0,
    /// AUTH_HMAC_MD5_96 (RFC 2403).
    HmacMd5_96 = 1,
    /// AUTH_HMAC_SHA1_96 (RFC 2404).
    HmacSha1_96 = 2,
    /// AUTH_AES_XCBC_96 (RFC 3566).
    AesXcbc96 = 5,
    /// AUTH_HMAC_SHA2_256_128 (RFC 4868).
    HmacSha2_256_128 = 12,
    /// AUTH_HMAC_SHA2_384_192 (RFC 4868).
    HmacSha2_384_192 = 13,
    /// AUTH_HMAC_SHA2_512_256 (RFC 4868).
    HmacSha2_512_256 = 14,
}

/// Key exchange method transform IDs (type 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum KeId {
    /// NONE (no PFS in a child proposal).
    None = 0,
    /// 1024-bit MODP group (RFC 2409).
    Modp1024 = 2,
    /// 1536-bit MODP group (RFC 3526).
    Modp1536 = 5,
    /// 2048-bit MODP group (RFC 3526).
    Modp2048 = 14,
    /// 3072-bit MODP group (RFC 3526).
    Modp3072 = 15,
    /// 4096-bit MODP group (RFC 3526).
    Modp4096 = 16,
    /// 256-bit random ECP group (RFC 5903).
    Ecp256 = 19,
    /// 384-bit random ECP group (RFC 5903).
    Ecp384 = 20,
    /// 521-bit random ECP group (RFC 5903).
    Ecp521 = 21,
    /// Curve25519 (RFC 8031).
    Curve25519 = 31,
    /// Curve448 (RFC 8031).
    Curve448 = 32,
}

/// Extended Sequence Numbers transform IDs (type 5, RFC 4304).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum EsnId {
    /// No Extended Sequence Numbers.
    NoEsn = 0,
    /// Extended Sequence Numbers.
    Esn = 1,
}

/// An encryption algorithm with its key length in bits (the Key Length attribute,
/// RFC 7296 §3.3.5; `None` for fixed-key-length algorithms such as ChaCha20-Poly1305).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncrAlg {
    /// The transform ID.
    pub id: EncrId,
    /// Key length attribute in bits, when the algorithm takes one.
    pub key_bits: Option<u16>,
}

/// Defines `from_u16`, `value` and `Display` for a transform-ID enum from one table, so the
/// three can never disagree.
macro_rules! wire_enum {
    ($ty:ident : $repr:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];
            /// The identifier for wire value `v`, or `None` when this crate does not know it.
            pub fn from_u16(v: u16) -> Option<Self> {
                $(if v == $ty::$variant as u16 { return Some($ty::$variant); })*
                None
            }
            /// The wire value.
            pub fn value(self) -> $repr {
                self as $repr
            }
            /// strongSwan's name (see the module documentation).
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }
        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

wire_enum!(TransformType: u8 {
    Encr => "ENCR",
    Prf => "PRF",
    Integ => "INTEG",
    Ke => "KE",
    Esn => "ESN",
});

wire_enum!(EncrId: u16 {
    TripleDes => "3DES_CBC",
    Null => "NULL",
    AesCbc => "AES_CBC",
    AesCtr => "AES_CTR",
    AesGcm8 => "AES_GCM_8",
    AesGcm12 => "AES_GCM_12",
    AesGcm16 => "AES_GCM_16",
    ChaCha20Poly1305 => "CHACHA20_POLY1305",
});

wire_enum!(PrfId: u16 {
    HmacMd5 => "PRF_HMAC_MD5",
    HmacSha1 => "PRF_HMAC_SHA1",
    Aes128Xcbc => "PRF_AES128_XCBC",
    HmacSha2_256 => "PRF_HMAC_SHA2_256",
    HmacSha2_384 => "PRF_HMAC_SHA2_384",
    HmacSha2_512 => "PRF_HMAC_SHA2_512",
});

wire_enum!(IntegId: u16 {
    None => "NONE",
    HmacMd5_96 => "HMAC_MD5_96",
    HmacSha1_96 => "HMAC_SHA1_96",
    AesXcbc96 => "AES_XCBC_96",
    HmacSha2_256_128 => "HMAC_SHA2_256_128",
    HmacSha2_384_192 => "HMAC_SHA2_384_192",
    HmacSha2_512_256 => "HMAC_SHA2_512_256",
});

wire_enum!(KeId: u16 {
    None => "NONE",
    Modp1024 => "MODP_1024",
    Modp1536 => "MODP_1536",
    Modp2048 => "MODP_2048",
    Modp3072 => "MODP_3072",
    Modp4096 => "MODP_4096",
    Ecp256 => "ECP_256",
    Ecp384 => "ECP_384",
    Ecp521 => "ECP_521",
    Curve25519 => "CURVE_25519",
    Curve448 => "CURVE_448",
});

wire_enum!(EsnId: u16 {
    NoEsn => "NO_EXT_SEQ",
    Esn => "EXT_SEQ",
});

impl EncrAlg {
    /// An algorithm with an explicit key length in bits.
    pub const fn new(id: EncrId, key_bits: Option<u16>) -> Self {
        Self { id, key_bits }
    }
}

impl core::fmt::Display for EncrAlg {
    /// strongSwan's form: the name, then `_` and the key length when there is one
    /// (`AES_CBC_128`, `AES_GCM_16_256`, `CHACHA20_POLY1305`).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.key_bits {
            Some(bits) => write!(f, "{}_{}", self.id, bits),
            None => write!(f, "{}", self.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for id in EncrId::ALL {
            assert_eq!(EncrId::from_u16(id.value()), Some(*id));
        }
        for id in PrfId::ALL {
            assert_eq!(PrfId::from_u16(id.value()), Some(*id));
        }
        for id in IntegId::ALL {
            assert_eq!(IntegId::from_u16(id.value()), Some(*id));
        }
        for id in KeId::ALL {
            assert_eq!(KeId::from_u16(id.value()), Some(*id));
        }
        for id in EsnId::ALL {
            assert_eq!(EsnId::from_u16(id.value()), Some(*id));
        }
        for t in TransformType::ALL {
            assert_eq!(TransformType::from_u16(u16::from(t.value())), Some(*t));
        }
    }

    #[test]
    fn iana_numbers() {
        assert_eq!(EncrId::from_u16(20), Some(EncrId::AesGcm16));
        assert_eq!(EncrId::from_u16(28), Some(EncrId::ChaCha20Poly1305));
        assert_eq!(EncrId::from_u16(12), Some(EncrId::AesCbc));
        assert_eq!(PrfId::from_u16(5), Some(PrfId::HmacSha2_256));
        assert_eq!(IntegId::from_u16(12), Some(IntegId::HmacSha2_256_128));
        assert_eq!(KeId::from_u16(31), Some(KeId::Curve25519));
        assert_eq!(KeId::from_u16(19), Some(KeId::Ecp256));
        assert_eq!(KeId::from_u16(14), Some(KeId::Modp2048));
        assert_eq!(EsnId::from_u16(1), Some(EsnId::Esn));
        assert_eq!(EncrId::from_u16(0), None);
        assert_eq!(EncrId::from_u16(1024), None);
        assert_eq!(KeId::from_u16(33), None);
        assert_eq!(TransformType::from_u16(6), None);
        assert_eq!(TransformType::from_u16(0x0101), None);
    }

    #[test]
    fn display_names() {
        assert_eq!(
            EncrAlg::new(EncrId::AesGcm16, Some(256)).to_string(),
            "AES_GCM_16_256"
        );
        assert_eq!(
            EncrAlg::new(EncrId::AesCbc, Some(128)).to_string(),
            "AES_CBC_128"
        );
        assert_eq!(
            EncrAlg::new(EncrId::ChaCha20Poly1305, None).to_string(),
            "CHACHA20_POLY1305"
        );
        assert_eq!(PrfId::HmacSha2_256.to_string(), "PRF_HMAC_SHA2_256");
        assert_eq!(IntegId::HmacSha1_96.to_string(), "HMAC_SHA1_96");
        assert_eq!(KeId::Curve25519.to_string(), "CURVE_25519");
        assert_eq!(EsnId::NoEsn.to_string(), "NO_EXT_SEQ");
    }
}
