//! Digital signatures for IKEv2 authentication (RFC 7296 §2.15, §3.8), all from aws-lc-rs.
//!
//! - Keys: [`SigningKey`] (private; PKCS#8, PKCS#1 RSA and SEC 1 EC keys in DER or PEM) and
//!   [`VerifyingKey`] (public; X.509 SubjectPublicKeyInfo, RFC 5280 §4.1.2.7). Key types: RSA,
//!   ECDSA on P-256/P-384/P-521, Ed25519 ([`KeyType`]).
//! - Schemes ([`SignatureScheme`]): RSASSA-PKCS1-v1_5 and RSASSA-PSS (RFC 8017 §8; PSS with
//!   MGF1 over the same hash and a salt as long as the hash), ECDSA with the signature in ASN.1
//!   DER (RFC 7427 method 14) or as fixed-size r | s (RFC 4754, methods 9/10/11), Ed25519
//!   (RFC 8420, which signs the message itself: "Identity" hash).
//! - RFC 7427 Digital Signature authentication: the AlgorithmIdentifier of each scheme
//!   ([`SignatureScheme::algorithm_identifier`], [`SignatureScheme::from_algorithm_identifier`],
//!   [`rfc7427_auth_data`], [`parse_rfc7427_auth_data`]), the SIGNATURE_HASH_ALGORITHMS values
//!   ([`SignatureHash`], RFC 7427 §4, RFC 8420 §2) and the choice of scheme from the hashes the
//!   peer announced ([`choose_scheme`]).
//!
//! What aws-lc-rs cannot do, and so neither can we: *sign* with RSA PKCS#1 v1.5 over SHA-1 (auth
//! method 1 and RFC 7427 with SHA-1; verifying such signatures works), sign ECDSA P-256 or
//! P-384 with a hash other than the curve's own (SHA-256, SHA-384; verification accepts every
//! pairing), and draw RSA keys from an injected [`Random`](crate::Random) (RSA keys come from
//! aws-lc's own generator).
//!
//! Private keys live inside aws-lc (`EVP_PKEY`), which clears them when freed; every DER or PEM
//! buffer this module decodes or produces is zeroized on drop. `Debug` shows the key type only.

mod algid;
mod keys;
mod pem;

pub use algid::{parse_rfc7427_auth_data, rfc7427_auth_data};
pub use keys::{SigningKey, VerifyingKey};

/// A hash algorithm of the SIGNATURE_HASH_ALGORITHMS notification (RFC 7427 §4; IANA "IKEv2
/// Hash Algorithms"; Identity from RFC 8420 §2 for Ed25519).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum SignatureHash {
    /// SHA1 (1).
    Sha1 = 1,
    /// SHA2-256 (2).
    Sha256 = 2,
    /// SHA2-384 (3).
    Sha384 = 3,
    /// SHA2-512 (4).
    Sha512 = 4,
    /// Identity (5): the signature scheme signs the data itself (Ed25519, RFC 8420).
    Identity = 5,
}

impl SignatureHash {
    /// Every value, in wire order.
    pub const ALL: &'static [SignatureHash] = &[
        SignatureHash::Sha1,
        SignatureHash::Sha256,
        SignatureHash::Sha384,
        SignatureHash::Sha512,
        SignatureHash::Identity,
    ];
    /// What we announce in SIGNATURE_HASH_ALGORITHMS: SHA2-256/384/512 (RFC 8247 §3.2: SHA2-256
    /// MUST, SHA2-384/512 SHOULD; SHA1 MUST NOT) and Identity (RFC 8420 §2).
    pub const ANNOUNCED: &'static [SignatureHash] = &[
        SignatureHash::Sha256,
        SignatureHash::Sha384,
        SignatureHash::Sha512,
        SignatureHash::Identity,
    ];
    /// The hash for wire value `v`, or `None` for values we do not know (ignore those).
    pub fn from_u16(v: u16) -> Option<Self> {
        Self::ALL.iter().copied().find(|h| *h as u16 == v)
    }
    /// The wire value.
    pub fn value(self) -> u16 {
        self as u16
    }
}

/// The type of a key, with the RSA modulus size in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Modulus length in bits.
        bits: usize,
    },
    /// ECDSA on NIST P-256 (secp256r1).
    EcdsaP256,
    /// ECDSA on NIST P-384 (secp384r1).
    EcdsaP384,
    /// ECDSA on NIST P-521 (secp521r1).
    EcdsaP521,
    /// Ed25519 (RFC 8032).
    Ed25519,
}

/// A signature scheme: algorithm, hash and, for ECDSA, the signature encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-1 (auth method 1; verification only, see the module docs).
    RsaPkcs1Sha1,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt.
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384, 48-byte salt.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512, 64-byte salt.
    RsaPssSha512,
    /// ECDSA with SHA-256, signature as an ASN.1 DER `Ecdsa-Sig-Value` (RFC 7427).
    EcdsaSha256,
    /// ECDSA with SHA-384, ASN.1 DER signature (RFC 7427).
    EcdsaSha384,
    /// ECDSA with SHA-512, ASN.1 DER signature (RFC 7427).
    EcdsaSha512,
    /// ECDSA with SHA-256, signature r | s of fixed size (RFC 4754 §7; method 9 with P-256).
    EcdsaSha256Fixed,
    /// ECDSA with SHA-384, fixed-size r | s (RFC 4754; method 10 with P-384).
    EcdsaSha384Fixed,
    /// ECDSA with SHA-512, fixed-size r | s (RFC 4754; method 11 with P-521).
    EcdsaSha512Fixed,
    /// Ed25519 (RFC 8032 §5.1, pure: no pre-hash; RFC 8420).
    Ed25519,
}

impl SignatureScheme {
    /// Every scheme.
    pub const ALL: &'static [SignatureScheme] = &[
        SignatureScheme::RsaPkcs1Sha1,
        SignatureScheme::RsaPkcs1Sha256,
        SignatureScheme::RsaPkcs1Sha384,
        SignatureScheme::RsaPkcs1Sha512,
        SignatureScheme::RsaPssSha256,
        SignatureScheme::RsaPssSha384,
        SignatureScheme::RsaPssSha512,
        SignatureScheme::EcdsaSha256,
        SignatureScheme::EcdsaSha384,
        SignatureScheme::EcdsaSha512,
        SignatureScheme::EcdsaSha256Fixed,
        SignatureScheme::EcdsaSha384Fixed,
        SignatureScheme::EcdsaSha512Fixed,
        SignatureScheme::Ed25519,
    ];

    /// The hash, as SIGNATURE_HASH_ALGORITHMS names it (Identity for Ed25519).
    pub fn hash(self) -> SignatureHash {
        use SignatureScheme::*;
        match self {
            RsaPkcs1Sha1 => SignatureHash::Sha1,
            RsaPkcs1Sha256 | RsaPssSha256 | EcdsaSha256 | EcdsaSha256Fixed => SignatureHash::Sha256,
            RsaPkcs1Sha384 | RsaPssSha384 | EcdsaSha384 | EcdsaSha384Fixed => SignatureHash::Sha384,
            RsaPkcs1Sha512 | RsaPssSha512 | EcdsaSha512 | EcdsaSha512Fixed => SignatureHash::Sha512,
            Ed25519 => SignatureHash::Identity,
        }
    }

    /// True for the RSA schemes.
    pub fn is_rsa(self) -> bool {
        use SignatureScheme::*;
        matches!(
            self,
            RsaPkcs1Sha1
                | RsaPkcs1Sha256
                | RsaPkcs1Sha384
                | RsaPkcs1Sha512
                | RsaPssSha256
                | RsaPssSha384
                | RsaPssSha512
        )
    }

    /// True for the ECDSA schemes (either encoding).
    pub fn is_ecdsa(self) -> bool {
        use SignatureScheme::*;
        matches!(
            self,
            EcdsaSha256
                | EcdsaSha384
                | EcdsaSha512
                | EcdsaSha256Fixed
                | EcdsaSha384Fixed
                | EcdsaSha512Fixed
        )
    }

    /// True when a key of type `key` can make or check signatures of this scheme (for
    /// verification; [`SigningKey::can_sign`] also knows aws-lc-rs's signing limits). The
    /// fixed-size ECDSA encodings go only with the curve RFC 4754 pairs them with.
    pub fn fits(self, key: KeyType) -> bool {
        use SignatureScheme::*;
        match key {
            KeyType::Rsa { .. } => self.is_rsa(),
            KeyType::EcdsaP256 => {
                matches!(self, EcdsaSha256 | EcdsaSha384 | EcdsaSha512) || self == EcdsaSha256Fixed
            }
            KeyType::EcdsaP384 => {
                matches!(self, EcdsaSha256 | EcdsaSha384 | EcdsaSha512) || self == EcdsaSha384Fixed
            }
            KeyType::EcdsaP521 => {
                matches!(self, EcdsaSha256 | EcdsaSha384 | EcdsaSha512) || self == EcdsaSha512Fixed
            }
            KeyType::Ed25519 => self == Ed25519,
        }
    }

    /// True for schemes only Windows-era peers need: SHA-1 (RFC 8247 §3.2 MUST NOT).
    pub fn is_legacy(self) -> bool {
        self.hash() == SignatureHash::Sha1
    }

    /// The RFC 7296 §3.8 / RFC 4754 §3 authentication method that implies this scheme without
    /// an AlgorithmIdentifier: 1 (RSA Digital Signature: PKCS#1 v1.5 with SHA-1), 9/10/11
    /// (ECDSA with SHA-256 on P-256, SHA-384 on P-384, SHA-512 on P-521, fixed-size r | s).
    /// `None` for schemes that need method 14 (RFC 7427) or 14 with Ed25519.
    pub fn classic_auth_method(self) -> Option<u8> {
        match self {
            SignatureScheme::RsaPkcs1Sha1 => Some(1),
            SignatureScheme::EcdsaSha256Fixed => Some(9),
            SignatureScheme::EcdsaSha384Fixed => Some(10),
            SignatureScheme::EcdsaSha512Fixed => Some(11),
            _ => None,
        }
    }

    /// The scheme a classic authentication method (1, 9, 10, 11) implies, or `None` for other
    /// methods. The IKE layer must still check that the peer's key fits ([`Self::fits`]).
    pub fn from_classic_auth_method(method: u8) -> Option<Self> {
        match method {
            1 => Some(SignatureScheme::RsaPkcs1Sha1),
            9 => Some(SignatureScheme::EcdsaSha256Fixed),
            10 => Some(SignatureScheme::EcdsaSha384Fixed),
            11 => Some(SignatureScheme::EcdsaSha512Fixed),
            _ => None,
        }
    }
}

/// Options of [`choose_scheme`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchemeOptions {
    /// Sign with RSASSA-PSS instead of PKCS#1 v1.5. Off by default: strongSwan 5.9 does not use
    /// PSS unless configured to, and some Android versions fail to verify PSS.
    pub rsa_pss: bool,
}

/// The scheme to sign with under RFC 7427 (auth method 14), for a key of type `key`, given the
/// hashes the peer announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4). `None` when no hash
/// fits: the caller then falls back to a classic method or fails.
///
/// - RSA: the first of SHA2-256, SHA2-384, SHA2-512 the peer announced, with PKCS#1 v1.5
///   (default) or PSS (`options.rsa_pss`). SHA-1 is never chosen (RFC 8247 §3.2; and aws-lc-rs
///   cannot sign with it).
/// - ECDSA: the curve's own hash (SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521, as
///   RFC 4754 pairs them and as aws-lc-rs can sign), for P-521 else SHA-384 or SHA-256; DER
///   encoding.
/// - Ed25519: when the peer announced Identity (RFC 8420 §2).
pub fn choose_scheme(
    key: KeyType,
    peer_hashes: &[SignatureHash],
    options: SchemeOptions,
) -> Option<SignatureScheme> {
    use SignatureScheme::*;
    let candidates: &[SignatureScheme] = match key {
        KeyType::Rsa { .. } if options.rsa_pss => &[RsaPssSha256, RsaPssSha384, RsaPssSha512],
        KeyType::Rsa { .. } => &[RsaPkcs1Sha256, RsaPkcs1Sha384, RsaPkcs1Sha512],
        KeyType::EcdsaP256 => &[EcdsaSha256],
        KeyType::EcdsaP384 => &[EcdsaSha384],
        KeyType::EcdsaP521 => &[EcdsaSha512, EcdsaSha384, EcdsaSha256],
        KeyType::Ed25519 => &[Ed25519],
    };
    candidates
        .iter()
        .copied()
        .find(|s| peer_hashes.contains(&s.hash()))
}

#[cfg(test)]
mod tests;
