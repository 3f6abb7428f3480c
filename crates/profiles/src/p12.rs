//! PKCS #12 (RFC 7292) files with a client's key, certificate and the CA, written with the
//! `p12-keystore` crate.
//!
//! - [`P12Kind::Modern`]: keys and certificates under PBES2 (RFC 8018 §6.2) with PBKDF2-HMAC-
//!   SHA-256 and AES-256-CBC, MAC HMAC-SHA-256: what OpenSSL 3, current Windows, macOS 13+,
//!   iOS 16+ and Android 12+ import.
//! - [`P12Kind::Legacy`]: pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 Appendix C) and an
//!   HMAC-SHA-1 MAC: for older Android, macOS and Windows importers that reject PBES2. The
//!   protection is only as good as the password either way.

use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
    PrivateKeyChain,
};

use crate::ProfileError;

/// Which encryption and MAC a PKCS #12 file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum P12Kind {
    /// PBES2 / AES-256-CBC / HMAC-SHA-256.
    Modern,
    /// 3DES / HMAC-SHA-1.
    Legacy,
}

/// Iteration count of the key derivations (OpenSSL's default is 2048; more costs importers
/// little and attackers more).
const ITERATIONS: u32 = 10_000;

fn err(e: impl core::fmt::Display) -> ProfileError {
    ProfileError::P12(e.to_string())
}

/// A PKCS #12 file holding `key_pkcs8_der`, its certificate `cert_der` and the chain `cas`
/// (the issuing CA), with `friendly_name` on the key, encrypted with `password`.
pub fn build(
    kind: P12Kind,
    key_pkcs8_der: &[u8],
    cert_der: &[u8],
    cas: &[&[u8]],
    friendly_name: &str,
    password: &str,
) -> Result<Vec<u8>, ProfileError> {
    let key = PrivateKey::from_der(key_pkcs8_der).map_err(err)?;
    let mut certs = vec![Certificate::from_der(cert_der).map_err(err)?];
    for ca in cas {
        certs.push(Certificate::from_der(ca).map_err(err)?);
    }
    // localKeyId (RFC 7292 §4.2 / PKCS #9): the SHA-1 of the certificate, as OpenSSL does.
    let local_key_id = crypto::digest::sha1(&[cert_der]).to_vec();
    let chain = PrivateKeyChain::new(local_key_id, key, certs);
    let mut store = KeyStore::new();
    store.add_entry(friendly_name, KeyStoreEntry::PrivateKeyChain(chain));
    let (enc, mac) = match kind {
        P12Kind::Modern => (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
        ),
        P12Kind::Legacy => (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
        ),
    };
    store
        .writer(password)
        .encryption_algorithm(enc)
        .encryption_iterations(ITERATIONS)
        .mac_algorithm(mac)
        .mac_iterations(ITERATIONS)
        .write()
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn both_kinds_read_back_with_the_password_only() {
        let now = SystemTime::now();
        let ca = crate::issue::new_ca("t", now).unwrap();
        let c = crate::issue::client_cert(&ca, "alice", now).unwrap();
        let key = c.key.pkcs8_der();
        for kind in [P12Kind::Modern, P12Kind::Legacy] {
            let der = build(
                kind,
                key.as_slice(),
                &c.cert_der,
                &[ca.cert_der()],
                "alice",
                "pw-123",
            )
            .unwrap();
            let ks =
                KeyStore::from_pkcs12(&der, "pw-123", p12_keystore::Pkcs12ImportPolicy::default())
                    .unwrap();
            let (_, chain) = ks.private_key_chain().unwrap();
            assert_eq!(chain.key().as_der(), key.as_slice());
            assert_eq!(chain.certs().len(), 2);
            assert!(KeyStore::from_pkcs12(
                &der,
                "wrong",
                p12_keystore::Pkcs12ImportPolicy::default()
            )
            .is_err());
        }
    }
}
