//! IANA transform types and identifiers (RFC 7296 §3.3.2; IANA "IKEv2 Parameters").
//!
//! Only identifiers are defined here; whether one is implemented is answered by the
//! constructors in the other modules (`Prf::new`, `Cipher::new`, `KeyExchange::generate`).
//!
//! Every enum converts from the wire value with `from_u16` (returning `None` for values this
//! crate does not know) and back with `as u16` / `value()`.

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
