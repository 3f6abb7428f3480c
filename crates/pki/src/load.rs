//! Reading certificates, CRLs and private keys from PEM (RFC 7468) or DER files and bytes.
//!
//! A file may hold DER (one object) or PEM (one or more blocks; text outside blocks is
//! ignored). Every object is decoded before it is returned, so a bad file fails at load time,
//! and file errors name the file.

use std::path::Path;

use der::Decode;
use x509_cert::crl::CertificateList;

use crate::issue::PrivateKey;
use crate::PkiError;

/// PEM label of a certificate (RFC 7468 §5).
const LABEL_CERT: &str = "CERTIFICATE";
/// PEM label of a CRL (RFC 7468 §6).
const LABEL_CRL: &str = "X509 CRL";

/// The DER objects in `bytes` with PEM label `label`, or `bytes` itself when it is DER.
fn objects(bytes: &[u8], label: &str) -> Result<Vec<Vec<u8>>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let blocks = pem::parse_many(bytes).map_err(|e| format!("bad PEM: {e}"))?;
    let found: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|p| p.tag() == label)
        .map(|p| p.into_contents())
        .collect();
    if found.is_empty() {
        return Err(format!("no \"{label}\" PEM block and not DER"));
    }
    Ok(found)
}

/// Certificates (DER each) from PEM or DER bytes; each one is decoded to check it.
pub fn certs_from_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PkiError> {
    let certs = objects(bytes, LABEL_CERT).map_err(PkiError::BadCertificate)?;
    for (i, der) in certs.iter().enumerate() {
        x509_cert::Certificate::from_der(der).map_err(|e| {
            PkiError::BadCertificate(format!("certificate {} of {}: {e}", i + 1, certs.len()))
        })?;
    }
    Ok(certs)
}

/// CRLs (DER each) from PEM or DER bytes; each one is decoded to check it (RFC 5280 §5.1).
pub fn crls_from_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PkiError> {
    let crls = objects(bytes, LABEL_CRL).map_err(PkiError::BadCrl)?;
    for (i, der) in crls.iter().enumerate() {
        <CertificateList>::from_der(der)
            .map_err(|e| PkiError::BadCrl(format!("CRL {} of {}: {e}", i + 1, crls.len())))?;
    }
    Ok(crls)
}

fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    std::fs::read(path).map_err(|e| PkiError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn in_file(path: &Path, e: PkiError) -> PkiError {
    PkiError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Certificates from a PEM or DER file.
pub fn load_certs(path: &Path) -> Result<Vec<Vec<u8>>, PkiError> {
    certs_from_bytes(&read(path)?).map_err(|e| in_file(path, e))
}

/// CRLs from a PEM or DER file.
pub fn load_crls(path: &Path) -> Result<Vec<Vec<u8>>, PkiError> {
    crls_from_bytes(&read(path)?).map_err(|e| in_file(path, e))
}

/// A private key from a PEM file (PKCS #8 "PRIVATE KEY", or "EC PRIVATE KEY" /
/// "RSA PRIVATE KEY") or a DER PKCS #8 file.
pub fn load_private_key(path: &Path) -> Result<PrivateKey, PkiError> {
    let bytes = zeroize::Zeroizing::new(read(path)?);
    PrivateKey::from_bytes(&bytes).map_err(|e| in_file(path, e))
}
