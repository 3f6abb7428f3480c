//! Private keys for issuance: generation and PKCS #8 (RFC 5208 / RFC 5958) in and out.

use core::fmt;

use crypto::SecretBytes;
use rcgen::{KeyPair, PublicKeyData, RsaKeySize, SignatureAlgorithm};
use zeroize::Zeroizing;

use crate::PkiError;

/// Key types a CA or certificate can be made with. RSA keys sign with PKCS #1 v1.5 and
/// SHA-256 (what strongSwan 5.9 and every IKEv2 client accept); rcgen cannot sign
/// certificates with RSASSA-PSS, so none are issued here (they are verified, see
/// [`crate::TrustStore::verify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Ed25519 (RFC 8410).
    Ed25519,
    /// ECDSA on P-256 with SHA-256 (RFC 5758).
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// ECDSA on P-521 with SHA-512.
    EcdsaP521,
    /// RSA 2048 bits, PKCS #1 v1.5 with SHA-256.
    Rsa2048,
    /// RSA 3072 bits, PKCS #1 v1.5 with SHA-256.
    Rsa3072,
}

impl KeyKind {
    /// Every kind, for tests and listings.
    pub const ALL: [KeyKind; 6] = [
        KeyKind::Ed25519,
        KeyKind::EcdsaP256,
        KeyKind::EcdsaP384,
        KeyKind::EcdsaP521,
        KeyKind::Rsa2048,
        KeyKind::Rsa3072,
    ];

    fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyKind::EcdsaP521 => &rcgen::PKCS_ECDSA_P521_SHA512,
            KeyKind::Rsa2048 | KeyKind::Rsa3072 => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

/// A private key (zeroized on drop; `Debug` shows only its algorithm).
pub struct PrivateKey {
    pair: KeyPair,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?})", self.pair.algorithm())
    }
}

fn bad(e: impl fmt::Display) -> PkiError {
    PkiError::BadKey(e.to_string())
}

impl PrivateKey {
    /// Generates a fresh key from the system's random source (aws-lc-rs).
    pub fn generate(kind: KeyKind) -> Result<PrivateKey, PkiError> {
        let alg = kind.algorithm();
        let pair = match kind {
            KeyKind::Rsa2048 => KeyPair::generate_rsa_for(alg, RsaKeySize::_2048),
            KeyKind::Rsa3072 => KeyPair::generate_rsa_for(alg, RsaKeySize::_3072),
            _ => KeyPair::generate_for(alg),
        }
        .map_err(bad)?;
        Ok(PrivateKey { pair })
    }

    /// Reads a PEM key ("PRIVATE KEY" PKCS #8, "EC PRIVATE KEY" SEC 1, "RSA PRIVATE KEY"
    /// PKCS #1) or DER PKCS #8. RSA keys sign with PKCS #1 v1.5 / SHA-256.
    pub fn from_bytes(bytes: &[u8]) -> Result<PrivateKey, PkiError> {
        let pair = if bytes.first() == Some(&0x30) {
            KeyPair::try_from(bytes).map_err(bad)?
        } else {
            let text = core::str::from_utf8(bytes).map_err(|_| bad("neither DER nor PEM"))?;
            KeyPair::from_pem(text).map_err(bad)?
        };
        Ok(PrivateKey { pair })
    }

    /// PKCS #8 DER.
    pub fn pkcs8_der(&self) -> SecretBytes {
        SecretBytes::new(self.pair.serialize_der())
    }

    /// PKCS #8 PEM ("PRIVATE KEY", RFC 7468 §10): what `rampart setup` writes and strongSwan
    /// loads.
    pub fn pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(self.pair.serialize_pem())
    }

    /// The public key as SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7).
    pub fn spki_der(&self) -> Vec<u8> {
        self.pair.subject_public_key_info()
    }

    /// SHA-1 of the subjectPublicKey bits: the key identifier of RFC 5280 §4.2.1.2 method 1,
    /// used for subjectKeyIdentifier and authorityKeyIdentifier (strongSwan finds issuers by
    /// it).
    pub fn key_id(&self) -> Vec<u8> {
        crypto::digest::sha1(&[self.pair.der_bytes()]).to_vec()
    }

    pub(crate) fn pair(&self) -> &KeyPair {
        &self.pair
    }
}
