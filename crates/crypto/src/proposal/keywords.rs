//! strongSwan's proposal keywords (its `proposal_keywords` table, as documented in the
//! strongSwan wiki "IKEv2 Cipher Suites") mapped to IANA transforms, and the listing of what
//! this crate implements.

use crate::integ::Integ;
use crate::proposal::Protocol;
use crate::{
    Cipher, EncrAlg, EncrId, EsnId, IntegId, KeId, KeyExchange, Prf, PrfId, TransformType,
};

/// One transform named by a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    Encr(EncrAlg),
    Integ(IntegId),
    Prf(PrfId),
    Ke(KeId),
    Esn(EsnId),
}

const fn encr(id: EncrId, bits: u16) -> Transform {
    Transform::Encr(EncrAlg::new(id, Some(bits)))
}

/// Every keyword, canonical spelling first for each transform (Display uses the first match).
pub(crate) const KEYWORDS: &[(&str, Transform)] = &[
    ("aes128", encr(EncrId::AesCbc, 128)),
    ("aes192", encr(EncrId::AesCbc, 192)),
    ("aes256", encr(EncrId::AesCbc, 256)),
    ("aes", encr(EncrId::AesCbc, 128)),
    ("aes128gcm16", encr(EncrId::AesGcm16, 128)),
    ("aes192gcm16", encr(EncrId::AesGcm16, 192)),
    ("aes256gcm16", encr(EncrId::AesGcm16, 256)),
    ("aes128gcm128", encr(EncrId::AesGcm16, 128)),
    ("aes192gcm128", encr(EncrId::AesGcm16, 192)),
    ("aes256gcm128", encr(EncrId::AesGcm16, 256)),
    ("aes128gcm12", encr(EncrId::AesGcm12, 128)),
    ("aes192gcm12", encr(EncrId::AesGcm12, 192)),
    ("aes256gcm12", encr(EncrId::AesGcm12, 256)),
    ("aes128gcm96", encr(EncrId::AesGcm12, 128)),
    ("aes192gcm96", encr(EncrId::AesGcm12, 192)),
    ("aes256gcm96", encr(EncrId::AesGcm12, 256)),
    ("aes128gcm8", encr(EncrId::AesGcm8, 128)),
    ("aes192gcm8", encr(EncrId::AesGcm8, 192)),
    ("aes256gcm8", encr(EncrId::AesGcm8, 256)),
    ("aes128gcm64", encr(EncrId::AesGcm8, 128)),
    ("aes192gcm64", encr(EncrId::AesGcm8, 192)),
    ("aes256gcm64", encr(EncrId::AesGcm8, 256)),
    ("aes128ctr", encr(EncrId::AesCtr, 128)),
    ("aes192ctr", encr(EncrId::AesCtr, 192)),
    ("aes256ctr", encr(EncrId::AesCtr, 256)),
    (
        "chacha20poly1305",
        Transform::Encr(EncrAlg::new(EncrId::ChaCha20Poly1305, None)),
    ),
    (
        "3des",
        Transform::Encr(EncrAlg::new(EncrId::TripleDes, None)),
    ),
    ("null", Transform::Encr(EncrAlg::new(EncrId::Null, None))),
    ("sha1", Transform::Integ(IntegId::HmacSha1_96)),
    ("sha", Transform::Integ(IntegId::HmacSha1_96)),
    ("sha256", Transform::Integ(IntegId::HmacSha2_256_128)),
    ("sha2_256", Transform::Integ(IntegId::HmacSha2_256_128)),
    ("sha384", Transform::Integ(IntegId::HmacSha2_384_192)),
    ("sha2_384", Transform::Integ(IntegId::HmacSha2_384_192)),
    ("sha512", Transform::Integ(IntegId::HmacSha2_512_256)),
    ("sha2_512", Transform::Integ(IntegId::HmacSha2_512_256)),
    ("md5", Transform::Integ(IntegId::HmacMd5_96)),
    ("aesxcbc", Transform::Integ(IntegId::AesXcbc96)),
    ("prfsha1", Transform::Prf(PrfId::HmacSha1)),
    ("prfsha256", Transform::Prf(PrfId::HmacSha2_256)),
    ("prfsha384", Transform::Prf(PrfId::HmacSha2_384)),
    ("prfsha512", Transform::Prf(PrfId::HmacSha2_512)),
    ("prfmd5", Transform::Prf(PrfId::HmacMd5)),
    ("prfaesxcbc", Transform::Prf(PrfId::Aes128Xcbc)),
    ("x25519", Transform::Ke(KeId::Curve25519)),
    ("curve25519", Transform::Ke(KeId::Curve25519)),
    ("x448", Transform::Ke(KeId::Curve448)),
    ("curve448", Transform::Ke(KeId::Curve448)),
    ("ecp256", Transform::Ke(KeId::Ecp256)),
    ("ecp384", Transform::Ke(KeId::Ecp384)),
    ("ecp521", Transform::Ke(KeId::Ecp521)),
    ("modp1024", Transform::Ke(KeId::Modp1024)),
    ("modp1536", Transform::Ke(KeId::Modp1536)),
    ("modp2048", Transform::Ke(KeId::Modp2048)),
    ("modp3072", Transform::Ke(KeId::Modp3072)),
    ("modp4096", Transform::Ke(KeId::Modp4096)),
    ("esn", Transform::Esn(EsnId::Esn)),
    ("noesn", Transform::Esn(EsnId::NoEsn)),
];

/// The transform a keyword names (keywords are case-insensitive, as in strongSwan).
pub(crate) fn lookup(word: &str) -> Option<Transform> {
    KEYWORDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map(|(_, t)| *t)
}

/// The canonical keyword of a transform.
pub(crate) fn keyword(t: Transform) -> &'static str {
    KEYWORDS
        .iter()
        .find(|(_, x)| *x == t)
        .map(|(k, _)| *k)
        .unwrap_or("?")
}

/// The strongSwan PRF keyword that goes with an integrity keyword, for IKE proposals that name
/// no PRF.
pub(crate) fn prf_for_integ(integ: IntegId) -> Option<PrfId> {
    match integ {
        IntegId::HmacSha1_96 => Some(PrfId::HmacSha1),
        IntegId::HmacSha2_256_128 => Some(PrfId::HmacSha2_256),
        IntegId::HmacSha2_384_192 => Some(PrfId::HmacSha2_384),
        IntegId::HmacSha2_512_256 => Some(PrfId::HmacSha2_512),
        IntegId::HmacMd5_96 => Some(PrfId::HmacMd5),
        IntegId::AesXcbc96 => Some(PrfId::Aes128Xcbc),
        IntegId::None => None,
    }
}

impl Transform {
    pub(crate) fn kind(self) -> TransformType {
        match self {
            Transform::Encr(_) => TransformType::Encr,
            Transform::Integ(_) => TransformType::Integ,
            Transform::Prf(_) => TransformType::Prf,
            Transform::Ke(_) => TransformType::Ke,
            Transform::Esn(_) => TransformType::Esn,
        }
    }
    /// Whether this crate implements the transform.
    pub(crate) fn implemented(self) -> bool {
        match self {
            Transform::Encr(e) => Cipher::is_supported(e),
            Transform::Integ(i) => Integ::is_supported(i),
            Transform::Prf(p) => Prf::is_supported(p),
            Transform::Ke(k) => KeyExchange::is_supported(k),
            Transform::Esn(_) => true,
        }
    }
}

/// One algorithm keyword, for listings such as `rampart list-algs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmInfo {
    /// The transform type.
    pub kind: TransformType,
    /// The canonical strongSwan keyword (`aes256gcm16`, `prfsha256`, `x25519`, ...).
    pub keyword: &'static str,
    /// The transform's name as strongSwan logs it (`AES_GCM_16_256`, `CURVE_25519`, ...).
    pub name: String,
    /// True when this crate implements it (parsing accepts every listed keyword).
    pub implemented: bool,
}

/// Every known keyword (canonical spellings only), implemented or not, in table order.
pub fn algorithms() -> Vec<AlgorithmInfo> {
    let mut out: Vec<AlgorithmInfo> = Vec::new();
    for (word, t) in KEYWORDS {
        if keyword(*t) != *word {
            continue; // an alias
        }
        let name = match t {
            Transform::Encr(e) => e.to_string(),
            Transform::Integ(i) => i.to_string(),
            Transform::Prf(p) => p.to_string(),
            Transform::Ke(k) => k.to_string(),
            Transform::Esn(e) => e.to_string(),
        };
        out.push(AlgorithmInfo {
            kind: t.kind(),
            keyword: word,
            name,
            implemented: t.implemented(),
        });
    }
    out
}

/// The algorithms this crate implements (a subset of [`algorithms`]).
pub fn supported() -> Vec<AlgorithmInfo> {
    algorithms().into_iter().filter(|a| a.implemented).collect()
}

/// "encryption: aes128 aes192 ...; integrity: ...": what a proposal for `protocol` may
/// contain, for errors (AH: integrity, key exchange and ESN only).
pub(crate) fn allowed_list(protocol: Protocol) -> String {
    let groups = [
        (TransformType::Encr, "encryption"),
        (TransformType::Integ, "integrity"),
        (TransformType::Prf, "prf"),
        (TransformType::Ke, "key exchange"),
        (TransformType::Esn, "esn"),
    ];
    let all = algorithms();
    groups
        .iter()
        .filter(|(kind, _)| {
            protocol != Protocol::Ah || !matches!(kind, TransformType::Encr | TransformType::Prf)
        })
        .map(|(kind, label)| {
            let words: Vec<&str> = all
                .iter()
                .filter(|a| a.kind == *kind)
                .map(|a| a.keyword)
                .collect();
            format!("{label}: {}", words.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}
