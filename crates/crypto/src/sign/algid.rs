//! RFC 7427 Digital Signature authentication data: the AlgorithmIdentifier of each scheme
//! (RFC 7427 Appendix A; RFC 8420 §2 for Ed25519) and the `Length | AlgorithmIdentifier |
//! Signature` layout of the AUTH payload's data (RFC 7427 §3).

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Sequence};
use spki::AlgorithmIdentifierRef;

use super::SignatureScheme;
use crate::hexconst::unhex;
use crate::CryptoError;

// The AlgorithmIdentifiers we send, byte for byte as RFC 7427 Appendix A prints them:
// sha*WithRSAEncryption with NULL parameters (A.1), ecdsa-with-SHA* without parameters (A.3),
// id-RSASSA-PSS with explicit RSASSA-PSS-params (A.4.3 for SHA-256: hashAlgorithm and the MGF1
// hash with NULL parameters, saltLength = hash length, trailerField 1 written out), and
// id-Ed25519 without parameters (RFC 8420 §2). `tests` re-encodes each with the `der` crate.

/// A.1.1 sha1WithRSAEncryption.
const RSA_PKCS1_SHA1: [u8; 15] = unhex("300d06092a864886f70d0101050500");
/// A.1.2 sha256WithRSAEncryption.
const RSA_PKCS1_SHA256: [u8; 15] = unhex("300d06092a864886f70d01010b0500");
/// A.1.3 sha384WithRSAEncryption.
const RSA_PKCS1_SHA384: [u8; 15] = unhex("300d06092a864886f70d01010c0500");
/// A.1.4 sha512WithRSAEncryption.
const RSA_PKCS1_SHA512: [u8; 15] = unhex("300d06092a864886f70d01010d0500");
/// A.3.1 ecdsa-with-SHA256.
const ECDSA_SHA256: [u8; 12] = unhex("300a06082a8648ce3d040302");
/// A.3.2 ecdsa-with-SHA384.
const ECDSA_SHA384: [u8; 12] = unhex("300a06082a8648ce3d040303");
/// A.3.3 ecdsa-with-SHA512.
const ECDSA_SHA512: [u8; 12] = unhex("300a06082a8648ce3d040304");
/// A.4.3 id-RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32.
const RSA_PSS_SHA256: [u8; 72] = unhex(concat!(
    "304606092a864886f70d01010a3039",
    "a00f300d06096086480165030402010500",
    "a11c301a06092a864886f70d010108300d06096086480165030402010500",
    "a203020120a303020101",
));
/// id-RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (A.4.3's form with SHA-384).
const RSA_PSS_SHA384: [u8; 72] = unhex(concat!(
    "304606092a864886f70d01010a3039",
    "a00f300d06096086480165030402020500",
    "a11c301a06092a864886f70d010108300d06096086480165030402020500",
    "a203020130a303020101",
));
/// id-RSASSA-PSS, SHA-512, MGF1-SHA-512, salt 64 (A.4.3's form with SHA-512).
const RSA_PSS_SHA512: [u8; 72] = unhex(concat!(
    "304606092a864886f70d01010a3039",
    "a00f300d06096086480165030402030500",
    "a11c301a06092a864886f70d010108300d06096086480165030402030500",
    "a203020140a303020101",
));
/// id-Ed25519 (RFC 8420 §2, RFC 8410 §3).
const ED25519: [u8; 7] = unhex("300506032b6570");

const OID_SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// RSASSA-PSS-params (RFC 8017 Appendix A.2.3; RFC 4055 §3.1). The module uses EXPLICIT tags;
/// absent fields take their DEFAULTs (SHA-1, MGF1-SHA-1, 20, 1).
#[derive(Sequence)]
pub(super) struct PssParams<'a> {
    #[asn1(context_specific = "0", optional = "true")]
    pub(super) hash: Option<AlgorithmIdentifierRef<'a>>,
    #[asn1(context_specific = "1", optional = "true")]
    pub(super) mask_gen: Option<AlgorithmIdentifierRef<'a>>,
    #[asn1(context_specific = "2", optional = "true")]
    pub(super) salt_len: Option<u32>,
    #[asn1(context_specific = "3", optional = "true")]
    pub(super) trailer: Option<u32>,
}

fn malformed() -> CryptoError {
    CryptoError::Malformed("signature AlgorithmIdentifier")
}

/// True when hash-function parameters are absent or NULL (RFC 4055 §2.1: accept both).
fn null_or_absent(params: Option<AnyRef<'_>>) -> bool {
    params.is_none_or(|p| p.is_null())
}

/// The PSS scheme the parameters describe, if it is one we implement: SHA-256/384/512 for both
/// the message hash and MGF1, salt as long as the hash, trailer field 1.
fn pss_scheme(params: AnyRef<'_>) -> Result<SignatureScheme, CryptoError> {
    let unsupported = || CryptoError::Unsupported("RSASSA-PSS parameters".into());
    let params: PssParams<'_> = params.decode_as().map_err(|_| malformed())?;
    let hash = params.hash.ok_or_else(unsupported)?;
    if !null_or_absent(hash.parameters) {
        return Err(malformed());
    }
    let (scheme, salt) = match hash.oid {
        OID_SHA256 => (SignatureScheme::RsaPssSha256, 32),
        OID_SHA384 => (SignatureScheme::RsaPssSha384, 48),
        OID_SHA512 => (SignatureScheme::RsaPssSha512, 64),
        _ => return Err(unsupported()),
    };
    let mgf = params.mask_gen.ok_or_else(unsupported)?;
    if mgf.oid != OID_MGF1 {
        return Err(unsupported());
    }
    let mgf_hash: AlgorithmIdentifierRef<'_> = mgf
        .parameters
        .ok_or_else(malformed)?
        .decode_as()
        .map_err(|_| malformed())?;
    if mgf_hash.oid != hash.oid || !null_or_absent(mgf_hash.parameters) {
        return Err(unsupported());
    }
    if params.salt_len != Some(salt) || params.trailer.unwrap_or(1) != 1 {
        return Err(unsupported());
    }
    Ok(scheme)
}

impl SignatureScheme {
    /// The DER AlgorithmIdentifier that names this scheme in RFC 7427 authentication data, or
    /// `None` for the fixed-size ECDSA encodings, which RFC 7427 does not use.
    pub fn algorithm_identifier(self) -> Option<&'static [u8]> {
        use SignatureScheme::*;
        Some(match self {
            RsaPkcs1Sha1 => &RSA_PKCS1_SHA1,
            RsaPkcs1Sha256 => &RSA_PKCS1_SHA256,
            RsaPkcs1Sha384 => &RSA_PKCS1_SHA384,
            RsaPkcs1Sha512 => &RSA_PKCS1_SHA512,
            RsaPssSha256 => &RSA_PSS_SHA256,
            RsaPssSha384 => &RSA_PSS_SHA384,
            RsaPssSha512 => &RSA_PSS_SHA512,
            EcdsaSha256 => &ECDSA_SHA256,
            EcdsaSha384 => &ECDSA_SHA384,
            EcdsaSha512 => &ECDSA_SHA512,
            Ed25519 => &ED25519,
            EcdsaSha256Fixed | EcdsaSha384Fixed | EcdsaSha512Fixed => return None,
        })
    }

    /// The scheme a received DER AlgorithmIdentifier names (RFC 7427 §3). Parameters are
    /// checked: NULL or absent for the PKCS#1 v1.5 and ECDSA identifiers (RFC 4055 §5, RFC 5758
    /// §3.2: implementations accept both), absent for Ed25519, and for RSASSA-PSS exactly the
    /// parameter sets we implement (same hash for MGF1, salt length = hash length, trailer 1).
    /// Errors: `Malformed` for bad DER, `Unsupported` for well-formed identifiers we do not
    /// implement (e.g. ecdsa-with-SHA1, PSS with other parameters).
    pub fn from_algorithm_identifier(der: &[u8]) -> Result<Self, CryptoError> {
        let ai = AlgorithmIdentifierRef::from_der(der).map_err(|_| malformed())?;
        let plain = |scheme: SignatureScheme| {
            if null_or_absent(ai.parameters) {
                Ok(scheme)
            } else {
                Err(malformed())
            }
        };
        match ai.oid {
            OID_SHA1_RSA => plain(SignatureScheme::RsaPkcs1Sha1),
            OID_SHA256_RSA => plain(SignatureScheme::RsaPkcs1Sha256),
            OID_SHA384_RSA => plain(SignatureScheme::RsaPkcs1Sha384),
            OID_SHA512_RSA => plain(SignatureScheme::RsaPkcs1Sha512),
            OID_ECDSA_SHA256 => plain(SignatureScheme::EcdsaSha256),
            OID_ECDSA_SHA384 => plain(SignatureScheme::EcdsaSha384),
            OID_ECDSA_SHA512 => plain(SignatureScheme::EcdsaSha512),
            OID_ED25519 if ai.parameters.is_none() => Ok(SignatureScheme::Ed25519),
            OID_ED25519 => Err(malformed()),
            OID_RSA_PSS => pss_scheme(ai.parameters.ok_or_else(|| {
                CryptoError::Unsupported("RSASSA-PSS with default (SHA-1) parameters".into())
            })?),
            oid => Err(CryptoError::Unsupported(format!(
                "signature algorithm {oid}"
            ))),
        }
    }
}

/// The AUTH payload's Authentication Data for method 14 (RFC 7427 §3): the AlgorithmIdentifier's
/// length in one octet, the AlgorithmIdentifier, the signature.
pub fn rfc7427_auth_data(
    scheme: SignatureScheme,
    signature: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let ai = scheme.algorithm_identifier().ok_or_else(|| {
        CryptoError::Unsupported(format!("{scheme:?} has no RFC 7427 AlgorithmIdentifier"))
    })?;
    let len = u8::try_from(ai.len()).map_err(|_| CryptoError::BadLength("AlgorithmIdentifier"))?;
    let mut out = Vec::with_capacity(1 + ai.len() + signature.len());
    out.push(len);
    out.extend_from_slice(ai);
    out.extend_from_slice(signature);
    Ok(out)
}

/// Splits received method-14 Authentication Data (RFC 7427 §3) into the scheme its
/// AlgorithmIdentifier names and the signature. Never trusts the length octet.
pub fn parse_rfc7427_auth_data(data: &[u8]) -> Result<(SignatureScheme, &[u8]), CryptoError> {
    let (&len, rest) = data.split_first().ok_or(malformed())?;
    let len = usize::from(len);
    let ai = rest.get(..len).ok_or(malformed())?;
    let signature = rest.get(len..).ok_or(malformed())?;
    if signature.is_empty() {
        return Err(CryptoError::Malformed("empty signature"));
    }
    Ok((SignatureScheme::from_algorithm_identifier(ai)?, signature))
}
