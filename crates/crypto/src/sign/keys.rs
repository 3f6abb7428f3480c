//! Private and public signature keys over aws-lc-rs.

use aws_lc_rs::agreement;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _, ParsedPublicKey,
    RsaEncoding, RsaKeyPair, UnparsedPublicKey, VerificationAlgorithm,
};
use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Sequence};
use spki::SubjectPublicKeyInfoRef;
use zeroize::Zeroizing;

use super::{pem, KeyType, SignatureScheme};
use crate::{CryptoError, Random, SecretBytes};

/// Smallest and largest RSA modulus accepted, in bits (aws-lc-rs's signing and verification
/// range; RFC 8247 §3.3 asks for at least 2048).
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// How many out-of-range ECDSA scalars `generate` tolerates (as `KeyExchange::generate`).
const MAX_SCALAR_DRAWS: usize = 64;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

fn invalid_key(msg: &str) -> CryptoError {
    CryptoError::InvalidKey(msg.to_string())
}

/// The ECDSA schemes aws-lc-rs can sign with on each curve, with its algorithms; the first is
/// the curve's default (its RFC 4754 hash, DER encoding).
fn ecdsa_signing(key: KeyType) -> &'static [(SignatureScheme, &'static EcdsaSigningAlgorithm)] {
    use SignatureScheme::*;
    match key {
        KeyType::EcdsaP256 => &[
            (EcdsaSha256, &signature::ECDSA_P256_SHA256_ASN1_SIGNING),
            (
                EcdsaSha256Fixed,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            ),
        ],
        KeyType::EcdsaP384 => &[
            (EcdsaSha384, &signature::ECDSA_P384_SHA384_ASN1_SIGNING),
            (
                EcdsaSha384Fixed,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            ),
        ],
        KeyType::EcdsaP521 => &[
            (EcdsaSha512, &signature::ECDSA_P521_SHA512_ASN1_SIGNING),
            (EcdsaSha384, &signature::ECDSA_P521_SHA384_ASN1_SIGNING),
            (EcdsaSha256, &signature::ECDSA_P521_SHA256_ASN1_SIGNING),
            (
                EcdsaSha512Fixed,
                &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
            ),
        ],
        KeyType::Rsa { .. } | KeyType::Ed25519 => &[],
    }
}

const EC_CURVES: [KeyType; 3] = [KeyType::EcdsaP256, KeyType::EcdsaP384, KeyType::EcdsaP521];

/// The aws-lc-rs RSA signing encoding of a scheme (none for SHA-1: aws-lc-rs cannot sign it).
fn rsa_encoding(scheme: SignatureScheme) -> Option<&'static dyn RsaEncoding> {
    use SignatureScheme::*;
    Some(match scheme {
        RsaPkcs1Sha256 => &signature::RSA_PKCS1_SHA256,
        RsaPkcs1Sha384 => &signature::RSA_PKCS1_SHA384,
        RsaPkcs1Sha512 => &signature::RSA_PKCS1_SHA512,
        RsaPssSha256 => &signature::RSA_PSS_SHA256,
        RsaPssSha384 => &signature::RSA_PSS_SHA384,
        RsaPssSha512 => &signature::RSA_PSS_SHA512,
        _ => return None,
    })
}

/// The aws-lc-rs verification algorithm for a scheme with a key of type `key`, when the pair
/// fits ([`SignatureScheme::fits`]).
fn verification(
    scheme: SignatureScheme,
    key: KeyType,
) -> Option<&'static dyn VerificationAlgorithm> {
    use SignatureScheme::*;
    if !scheme.fits(key) {
        return None;
    }
    Some(match (scheme, key) {
        (RsaPkcs1Sha1, _) => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (RsaPkcs1Sha256, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (RsaPkcs1Sha384, _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (RsaPkcs1Sha512, _) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (RsaPssSha256, _) => &signature::RSA_PSS_2048_8192_SHA256,
        (RsaPssSha384, _) => &signature::RSA_PSS_2048_8192_SHA384,
        (RsaPssSha512, _) => &signature::RSA_PSS_2048_8192_SHA512,
        (EcdsaSha256, KeyType::EcdsaP256) => &signature::ECDSA_P256_SHA256_ASN1,
        (EcdsaSha384, KeyType::EcdsaP256) => &signature::ECDSA_P256_SHA384_ASN1,
        (EcdsaSha512, KeyType::EcdsaP256) => &signature::ECDSA_P256_SHA512_ASN1,
        (EcdsaSha256, KeyType::EcdsaP384) => &signature::ECDSA_P384_SHA256_ASN1,
        (EcdsaSha384, KeyType::EcdsaP384) => &signature::ECDSA_P384_SHA384_ASN1,
        (EcdsaSha512, KeyType::EcdsaP384) => &signature::ECDSA_P384_SHA512_ASN1,
        (EcdsaSha256, KeyType::EcdsaP521) => &signature::ECDSA_P521_SHA256_ASN1,
        (EcdsaSha384, KeyType::EcdsaP521) => &signature::ECDSA_P521_SHA384_ASN1,
        (EcdsaSha512, KeyType::EcdsaP521) => &signature::ECDSA_P521_SHA512_ASN1,
        (EcdsaSha256Fixed, _) => &signature::ECDSA_P256_SHA256_FIXED,
        (EcdsaSha384Fixed, _) => &signature::ECDSA_P384_SHA384_FIXED,
        (EcdsaSha512Fixed, _) => &signature::ECDSA_P521_SHA512_FIXED,
        (Ed25519, _) => &signature::ED25519,
        _ => return None,
    })
}

/// A private key for signing IKE AUTH payloads (and, later, certificates).
pub struct SigningKey {
    key_type: KeyType,
    inner: Inner,
}

enum Inner {
    Rsa(RsaKeyPair),
    /// One aws-lc-rs key pair per scheme the curve can sign with (aws-lc-rs binds the hash and
    /// the signature encoding to the key pair object).
    Ecdsa(Vec<(SignatureScheme, EcdsaKeyPair)>),
    Ed25519(Ed25519KeyPair),
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn rsa(kp: RsaKeyPair) -> Result<Self, CryptoError> {
        let bits = kp.public_modulus_len().saturating_mul(8);
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return Err(CryptoError::InvalidKey(format!(
                "RSA key of {bits} bits ({RSA_MIN_BITS} to {RSA_MAX_BITS} supported)"
            )));
        }
        Ok(Self {
            key_type: KeyType::Rsa { bits },
            inner: Inner::Rsa(kp),
        })
    }

    /// The ECDSA key of curve `curve` from one parsed key pair: builds the pairs for the other
    /// schemes from its PKCS#8 encoding.
    fn ecdsa(curve: KeyType, first: EcdsaKeyPair) -> Result<Self, CryptoError> {
        let doc = first.to_pkcs8v1().map_err(|_| CryptoError::Backend)?;
        let pkcs8 = Zeroizing::new(doc.as_ref().to_vec());
        let mut schemes = ecdsa_signing(curve).iter();
        let (default, _) = schemes.next().ok_or(CryptoError::Backend)?;
        let mut pairs = vec![(*default, first)];
        for (scheme, alg) in schemes {
            let kp = EcdsaKeyPair::from_pkcs8(alg, &pkcs8).map_err(|_| CryptoError::Backend)?;
            pairs.push((*scheme, kp));
        }
        Ok(Self {
            key_type: curve,
            inner: Inner::Ecdsa(pairs),
        })
    }

    /// A key from unencrypted PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` DER (RFC 5208,
    /// RFC 5958): RSA, ECDSA P-256/P-384/P-521 or Ed25519.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        if let Ok(kp) = RsaKeyPair::from_pkcs8(der) {
            return Self::rsa(kp);
        }
        for curve in EC_CURVES {
            let Some((_, alg)) = ecdsa_signing(curve).first() else {
                continue;
            };
            if let Ok(kp) = EcdsaKeyPair::from_pkcs8(alg, der) {
                return Self::ecdsa(curve, kp);
            }
        }
        if let Ok(kp) = Ed25519KeyPair::from_pkcs8(der) {
            return Ok(Self {
                key_type: KeyType::Ed25519,
                inner: Inner::Ed25519(kp),
            });
        }
        Err(invalid_key(
            "not an unencrypted PKCS#8 RSA, ECDSA (P-256/384/521) or Ed25519 private key",
        ))
    }

    /// An RSA key from PKCS#1 `RSAPrivateKey` DER (RFC 8017 Appendix A.1.2).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        RsaKeyPair::from_der(der)
            .map_err(|_| invalid_key("not a PKCS#1 RSA private key"))
            .and_then(Self::rsa)
    }

    /// An ECDSA key from SEC 1 `ECPrivateKey` DER (RFC 5915) naming its curve.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, CryptoError> {
        for curve in EC_CURVES {
            let Some((_, alg)) = ecdsa_signing(curve).first() else {
                continue;
            };
            if let Ok(kp) = EcdsaKeyPair::from_private_key_der(alg, der) {
                return Self::ecdsa(curve, kp);
            }
        }
        Err(invalid_key(
            "not a SEC 1 EC private key on P-256, P-384 or P-521",
        ))
    }

    /// A key from DER of any of the forms above (PKCS#8, then PKCS#1, then SEC 1).
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_pkcs8_der(der)
            .or_else(|_| Self::from_pkcs1_der(der))
            .or_else(|_| Self::from_sec1_der(der))
            .map_err(|_| {
                invalid_key("not an unencrypted PKCS#8, PKCS#1 RSA or SEC 1 EC private key")
            })
    }

    /// A key from a PEM file (RFC 7468): the first `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY`
    /// (PKCS#1) or `EC PRIVATE KEY` (SEC 1) block. Encrypted keys are refused.
    pub fn from_pem(text: &[u8]) -> Result<Self, CryptoError> {
        let (label, der) =
            pem::decode_first(text, &["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"])?;
        match label {
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            _ => Self::from_pkcs8_der(&der),
        }
    }

    /// A fresh key of type `key_type`.
    ///
    /// Ed25519 seeds and ECDSA scalars are drawn from `rng` (so tests are reproducible; ECDSA
    /// scalars by rejection sampling as `KeyExchange::generate` does). RSA keys (2048, 3072 or
    /// 4096 bits) come from aws-lc's own generator, which takes no injected randomness: `rng`
    /// is not used for them.
    pub fn generate(key_type: KeyType, rng: &mut dyn Random) -> Result<Self, CryptoError> {
        match key_type {
            KeyType::Rsa { bits } => {
                let size = match bits {
                    2048 => KeySize::Rsa2048,
                    3072 => KeySize::Rsa3072,
                    4096 => KeySize::Rsa4096,
                    _ => {
                        return Err(CryptoError::Unsupported(format!(
                            "RSA key generation of {bits} bits (2048, 3072, 4096)"
                        )))
                    }
                };
                Self::rsa(RsaKeyPair::generate(size).map_err(|_| CryptoError::Backend)?)
            }
            KeyType::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                rng.fill(seed.as_mut());
                let kp = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
                    .map_err(|_| CryptoError::Backend)?;
                Ok(Self {
                    key_type,
                    inner: Inner::Ed25519(kp),
                })
            }
            curve => Self::generate_ecdsa(curve, rng),
        }
    }

    fn generate_ecdsa(curve: KeyType, rng: &mut dyn Random) -> Result<Self, CryptoError> {
        let (agree_alg, len) = match curve {
            KeyType::EcdsaP256 => (&agreement::ECDH_P256, 32),
            KeyType::EcdsaP384 => (&agreement::ECDH_P384, 48),
            KeyType::EcdsaP521 => (&agreement::ECDH_P521, 66),
            _ => return Err(CryptoError::Backend),
        };
        let (_, sign_alg) = ecdsa_signing(curve).first().ok_or(CryptoError::Backend)?;
        let mut scalar = Zeroizing::new(vec![0u8; len]);
        for _ in 0..MAX_SCALAR_DRAWS {
            rng.fill(&mut scalar);
            if curve == KeyType::EcdsaP521 {
                // 521 bits in 66 bytes: keep the top byte's lowest bit only.
                if let Some(top) = scalar.first_mut() {
                    *top &= 0x01;
                }
            }
            // aws-lc-rs refuses 0 and scalars not below the group order.
            let Ok(private) = agreement::PrivateKey::from_private_key(agree_alg, &scalar) else {
                continue;
            };
            let public = private
                .compute_public_key()
                .map_err(|_| CryptoError::Backend)?;
            let kp =
                EcdsaKeyPair::from_private_key_and_public_key(sign_alg, &scalar, public.as_ref())
                    .map_err(|_| CryptoError::Backend)?;
            return Self::ecdsa(curve, kp);
        }
        Err(CryptoError::Backend)
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// True when this key can sign with `scheme` (the scheme fits the key type and aws-lc-rs
    /// implements signing it; see the module documentation for what it does not).
    pub fn can_sign(&self, scheme: SignatureScheme) -> bool {
        match &self.inner {
            Inner::Rsa(_) => rsa_encoding(scheme).is_some(),
            Inner::Ecdsa(pairs) => pairs.iter().any(|(s, _)| *s == scheme),
            Inner::Ed25519(_) => scheme == SignatureScheme::Ed25519,
        }
    }

    /// The public key as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), e.g. for a certificate.
    pub fn public_key_spki(&self) -> Vec<u8> {
        let der: Result<PublicKeyX509Der<'static>, _> = match &self.inner {
            Inner::Rsa(kp) => kp.public_key().as_der(),
            Inner::Ecdsa(pairs) => match pairs.first() {
                Some((_, kp)) => kp.public_key().as_der(),
                None => return Vec::new(),
            },
            Inner::Ed25519(kp) => kp.public_key().as_der(),
        };
        // Marshalling a key aws-lc already holds does not fail in practice; an empty result
        // would be refused by any verifier.
        der.map(|d| d.as_ref().to_vec()).unwrap_or_default()
    }

    /// The public half as a [`VerifyingKey`].
    pub fn verifying_key(&self) -> Result<VerifyingKey, CryptoError> {
        VerifyingKey::from_spki(&self.public_key_spki())
    }

    /// The key as unencrypted PKCS#8 v1 DER (RFC 5208), for writing key files.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes, CryptoError> {
        let doc = match &self.inner {
            Inner::Rsa(kp) => {
                let der: Pkcs8V1Der<'static> = kp.as_der().map_err(|_| CryptoError::Backend)?;
                return Ok(SecretBytes::from_slice(der.as_ref()));
            }
            Inner::Ecdsa(pairs) => pairs.first().ok_or(CryptoError::Backend)?.1.to_pkcs8v1(),
            Inner::Ed25519(kp) => kp.to_pkcs8v1(),
        }
        .map_err(|_| CryptoError::Backend)?;
        Ok(SecretBytes::from_slice(doc.as_ref()))
    }

    /// The key as a PKCS#8 PEM block (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        pem::encode("PRIVATE KEY", self.to_pkcs8_der()?.as_slice())
    }

    /// Signs `data` with `scheme`: the RFC 7296 §2.15 octets for IKE AUTH. ECDSA signatures
    /// come in the scheme's encoding (DER or fixed-size r | s); RSA signatures are as long as
    /// the modulus. `Unsupported` when [`SigningKey::can_sign`] is false.
    pub fn sign(&self, scheme: SignatureScheme, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let unsupported = || {
            CryptoError::Unsupported(format!("signing {scheme:?} with a {:?} key", self.key_type))
        };
        match &self.inner {
            Inner::Rsa(kp) => {
                let encoding = rsa_encoding(scheme).ok_or_else(unsupported)?;
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(encoding, &SystemRandom::new(), data, &mut sig)
                    .map_err(|_| CryptoError::Backend)?;
                Ok(sig)
            }
            Inner::Ecdsa(pairs) => {
                let (_, kp) = pairs
                    .iter()
                    .find(|(s, _)| *s == scheme)
                    .ok_or_else(unsupported)?;
                let sig = kp
                    .sign(&SystemRandom::new(), data)
                    .map_err(|_| CryptoError::Backend)?;
                Ok(sig.as_ref().to_vec())
            }
            Inner::Ed25519(kp) => {
                if scheme != SignatureScheme::Ed25519 {
                    return Err(unsupported());
                }
                Ok(kp.sign(data).as_ref().to_vec())
            }
        }
    }
}

/// RSAPublicKey (RFC 8017 Appendix A.1.1), to read the modulus size.
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// Bit length of a big-endian unsigned integer.
fn bit_len(bytes: &[u8]) -> usize {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    match bytes.get(first) {
        Some(top) => (bytes.len() - first) * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// A public key for verifying a peer's AUTH signature.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    key_type: KeyType,
    spki: Vec<u8>,
}

impl core::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// A key from DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): rsaEncryption (RFC 3279 §2.3.1;
    /// 2048 to 8192 bits), id-ecPublicKey on P-256/P-384/P-521 (RFC 5480), id-Ed25519
    /// (RFC 8410). The encoding must be DER and the key valid (aws-lc-rs checks EC points lie
    /// on the curve).
    pub fn from_spki(der: &[u8]) -> Result<Self, CryptoError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| invalid_key("malformed SubjectPublicKeyInfo"))?;
        let key_type = match spki.algorithm.oid {
            OID_RSA => {
                let bytes = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| invalid_key("RSA key bit string"))?;
                let rsa = RsaPublicKey::from_der(bytes)
                    .map_err(|_| invalid_key("malformed RSAPublicKey"))?;
                let _ = rsa.public_exponent;
                let bits = bit_len(rsa.modulus.as_bytes());
                if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                    return Err(CryptoError::InvalidKey(format!(
                        "RSA key of {bits} bits ({RSA_MIN_BITS} to {RSA_MAX_BITS} supported)"
                    )));
                }
                KeyType::Rsa { bits }
            }
            OID_EC => match spki.algorithm.parameters_oid() {
                Ok(OID_P256) => KeyType::EcdsaP256,
                Ok(OID_P384) => KeyType::EcdsaP384,
                Ok(OID_P521) => KeyType::EcdsaP521,
                _ => {
                    return Err(invalid_key(
                        "EC public key not on a named curve P-256, P-384 or P-521",
                    ))
                }
            },
            OID_ED25519 => KeyType::Ed25519,
            oid => {
                return Err(CryptoError::InvalidKey(format!(
                    "unsupported public key algorithm {oid}"
                )))
            }
        };
        // Let aws-lc-rs parse and validate the key once with one of its algorithms.
        let probe = SignatureScheme::ALL
            .iter()
            .find_map(|s| verification(*s, key_type))
            .ok_or(CryptoError::Backend)?;
        ParsedPublicKey::new(probe, der).map_err(|_| invalid_key("invalid public key"))?;
        Ok(Self {
            key_type,
            spki: der.to_vec(),
        })
    }

    /// A key from a PEM `PUBLIC KEY` block (SubjectPublicKeyInfo, RFC 7468 §13).
    pub fn from_pem(text: &[u8]) -> Result<Self, CryptoError> {
        let (_, der) = pem::decode_first(text, &["PUBLIC KEY"])?;
        Self::from_spki(&der)
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// Checks `signature` over `data` with `scheme`. `InvalidSignature` when it does not verify;
    /// `Unsupported` when the scheme does not fit the key type (the IKE layer treats both as an
    /// authentication failure).
    pub fn verify(
        &self,
        scheme: SignatureScheme,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let alg = verification(scheme, self.key_type).ok_or_else(|| {
            CryptoError::Unsupported(format!("{scheme:?} with a {:?} key", self.key_type))
        })?;
        UnparsedPublicKey::new(alg, &self.spki)
            .verify(data, signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }
}

/// Keys live in IKE SA state and configuration shared between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SigningKey>();
    assert_send_sync::<VerifyingKey>();
};
