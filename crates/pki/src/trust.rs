//! Trusted CAs, CRLs and chain verification (RFC 5280 §6), over rustls-webpki.
//!
//! rustls-webpki (with aws-lc-rs) builds the path from the end entity through the given
//! intermediates to a configured CA and checks, for each certificate: validity period,
//! signature, basicConstraints and pathLenConstraint, name constraints, critical extensions,
//! the IKE EKU rule ([`crate::eku`]) and — when CRLs are loaded — revocation (RFC 5280 §6.3).
//! This module adds what IKE needs around it: the CA certificate's own validity, CERTREQ
//! hashes, and errors that say which certificate failed and why.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::Decode;
use pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, Error as WError, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy, VerifiedPath,
};
use x509_cert::crl::CertificateList;

use crate::cert::Certificate;
use crate::dn::Dn;
use crate::eku::{eku_name, IkeEku, Usage};
use crate::error::colon_hex;
use crate::load::{load_certs, load_crls};
use crate::verified::VerifiedCert;
use crate::PkiError;

/// A loaded CRL: webpki's form for checking, and the fields for messages.
struct Crl {
    webpki: CertRevocationList<'static>,
    issuer: Dn,
    issuer_der: Vec<u8>,
    this_update: SystemTime,
    revoked: Vec<Vec<u8>>,
}

/// Trusted CA certificates and CRLs (RFC 5280 §6.1.1 (d) trust anchors; §5 CRLs).
#[derive(Default)]
pub struct TrustStore {
    /// Trusted CA certificates, and the trust anchors built from them (same order).
    cas: Vec<Certificate>,
    anchors: Vec<TrustAnchor<'static>>,
    crls: Vec<Crl>,
}

impl core::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TrustStore")
            .field(
                "cas",
                &self
                    .cas
                    .iter()
                    .map(|c| c.subject().to_string())
                    .collect::<Vec<_>>(),
            )
            .field(
                "crls",
                &self
                    .crls
                    .iter()
                    .map(|c| c.issuer.to_string())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn unix(t: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
}

impl TrustStore {
    /// An empty store: it trusts nothing.
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Adds a trusted CA certificate (DER). It must be a CA (basicConstraints cA) or
    /// self-signed. The CA's own validity period is checked at each verification.
    pub fn add_ca(&mut self, der: &[u8]) -> Result<(), PkiError> {
        let cert = Certificate::from_der(der)?;
        if !cert.is_ca() && cert.subject() != cert.issuer() {
            return Err(PkiError::BadCertificate(format!(
                "\"{}\" is not a CA certificate (basicConstraints cA is not set)",
                cert.subject()
            )));
        }
        let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(der))
            .map_err(|e| PkiError::BadCertificate(format!("\"{}\": {e}", cert.subject())))?
            .to_owned();
        if self.cas.iter().any(|c| c.der() == der) {
            return Ok(());
        }
        self.cas.push(cert);
        self.anchors.push(anchor);
        Ok(())
    }

    /// Adds a CRL (DER). Its signature is checked when a certificate of its issuer is
    /// verified (RFC 5280 §6.3.3 (f)); a CRL whose signature fails makes every certificate of
    /// that issuer fail. Of several CRLs of one issuer, the one with the latest thisUpdate is
    /// kept. nextUpdate is not enforced: a stale CRL still revokes.
    pub fn add_crl(&mut self, der: &[u8]) -> Result<(), PkiError> {
        let parsed =
            <CertificateList>::from_der(der).map_err(|e| PkiError::BadCrl(e.to_string()))?;
        let tbs = &parsed.tbs_cert_list;
        let issuer_der =
            der::Encode::to_der(&tbs.issuer).map_err(|e| PkiError::BadCrl(e.to_string()))?;
        let issuer = Dn::from_der(&issuer_der)?;
        let this_update = tbs.this_update.to_system_time();
        let revoked = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| r.serial_number.as_bytes().to_vec())
            .collect();
        let owned = OwnedCertRevocationList::from_der(der)
            .map_err(|e| PkiError::BadCrl(format!("CRL of \"{issuer}\": {e}")))?;
        let crl = Crl {
            webpki: owned.into(),
            issuer,
            issuer_der,
            this_update,
            revoked,
        };
        match self
            .crls
            .iter_mut()
            .find(|c| c.issuer_der == crl.issuer_der)
        {
            Some(old) if old.this_update >= crl.this_update => {}
            Some(old) => *old = crl,
            None => self.crls.push(crl),
        }
        Ok(())
    }

    /// Adds every certificate of a PEM or DER file as a trusted CA.
    pub fn load_ca_file(&mut self, path: &Path) -> Result<(), PkiError> {
        for der in load_certs(path)? {
            self.add_ca(&der).map_err(|e| PkiError::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Adds every CRL of a PEM or DER file.
    pub fn load_crl_file(&mut self, path: &Path) -> Result<(), PkiError> {
        for der in load_crls(path)? {
            self.add_crl(&der).map_err(|e| PkiError::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// The trusted CA certificates, in the order added.
    pub fn cas(&self) -> impl Iterator<Item = &Certificate> {
        self.cas.iter()
    }

    /// Number of CRLs held.
    pub fn crl_count(&self) -> usize {
        self.crls.len()
    }

    /// The CERTREQ "Certification Authority" entries for every trusted CA: SHA-1 of each
    /// CA's SubjectPublicKeyInfo (RFC 7296 §3.7; see [`crate::ca_key_hash`]), in the order
    /// added. Concatenated, they are the CERTREQ payload data for certificate encoding 4.
    pub fn ca_hashes(&self) -> Vec<[u8; 20]> {
        self.cas.iter().map(Certificate::key_hash).collect()
    }

    /// The trusted CAs named by a peer's CERTREQ hashes (RFC 7296 §3.7), in the store's
    /// order. Hashes of CAs this store does not hold are ignored.
    pub fn ca_for_hashes(&self, hashes: &[[u8; 20]]) -> Vec<&Certificate> {
        self.cas
            .iter()
            .filter(|c| hashes.contains(&c.key_hash()))
            .collect()
    }

    /// Verifies `end_entity` (DER) for `usage` at `now`, building a path through
    /// `intermediates` (DER, any order, irrelevant ones ignored) to a trusted CA
    /// (RFC 5280 §6.1). See the module docs for what is checked.
    ///
    /// Signature algorithms: RSA PKCS #1 v1.5 and PSS (2048 to 8192 bits, SHA-256/384/512),
    /// ECDSA P-256/P-384/P-521, Ed25519. SHA-1 signatures are refused.
    pub fn verify(
        &self,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        now: SystemTime,
        usage: Usage,
    ) -> Result<VerifiedCert, PkiError> {
        let ee = Certificate::from_der(end_entity)?;
        let ee_der = CertificateDer::from(end_entity);
        let ee_cert = EndEntityCert::try_from(&ee_der)
            .map_err(|e| PkiError::BadCertificate(format!("\"{}\": {e}", ee.subject())))?;
        let inter: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|d| CertificateDer::from(*d))
            .collect();
        let anchors = &self.anchors;
        let crl_refs: Vec<&CertRevocationList<'_>> = self.crls.iter().map(|c| &c.webpki).collect();
        let revocation = RevocationOptionsBuilder::new(&crl_refs).ok().map(|b| {
            b.with_depth(RevocationCheckDepth::Chain)
                .with_status_policy(UnknownStatusPolicy::Allow)
                .build()
        });
        let time = unix(now);
        let anchor_index =
            |path: &VerifiedPath<'_>| anchors.iter().position(|a| core::ptr::eq(a, path.anchor()));
        // The CA certificate's own validity (webpki treats anchors as bare name + key).
        let check_anchor = |path: &VerifiedPath<'_>| -> Result<(), WError> {
            let ca = anchor_index(path)
                .and_then(|i| self.cas.get(i))
                .ok_or(WError::UnknownIssuer)?;
            if now < ca.not_before() {
                return Err(WError::CertNotValidYet {
                    time,
                    not_before: unix(ca.not_before()),
                });
            }
            if now > ca.not_after() {
                return Err(WError::CertExpired {
                    time,
                    not_after: unix(ca.not_after()),
                });
            }
            Ok(())
        };
        let path = ee_cert
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                anchors,
                &inter,
                time,
                IkeEku(usage),
                revocation,
                Some(&check_anchor),
            )
            .map_err(|e| self.diagnose(e, &ee, intermediates, now, usage))?;

        let ca = anchor_index(&path)
            .and_then(|i| self.cas.get(i))
            .cloned()
            .ok_or_else(|| PkiError::Invalid {
                subject: ee.subject().to_string(),
                detail: "path ends at an unknown anchor".into(),
            })?;
        let chain = path
            .intermediate_certificates()
            .map(|c| Certificate::from_der(c.der().as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VerifiedCert::new(ee, chain, ca))
    }

    /// Turns webpki's error into one that names the certificate at fault.
    fn diagnose(
        &self,
        err: WError,
        ee: &Certificate,
        intermediates: &[&[u8]],
        now: SystemTime,
        usage: Usage,
    ) -> PkiError {
        let subject = ee.subject().to_string();
        let (chain, ca) = self.candidate_chain(ee, intermediates);
        let mut all: Vec<&Certificate> = chain.iter().collect();
        if let Some(ca) = ca {
            all.push(ca);
        }
        #[allow(deprecated)]
        match err {
            WError::CertExpired { not_after, .. } => {
                let c = all.iter().find(|c| now > c.not_after());
                PkiError::Expired {
                    subject: c.map_or(subject, |c| c.subject().to_string()),
                    not_after: c
                        .map_or(UNIX_EPOCH + Duration::from_secs(not_after.as_secs()), |c| {
                            c.not_after()
                        }),
                    now,
                }
            }
            WError::CertNotValidYet { not_before, .. } => {
                let c = all.iter().find(|c| now < c.not_before());
                PkiError::NotYetValid {
                    subject: c.map_or(subject, |c| c.subject().to_string()),
                    not_before: c.map_or(
                        UNIX_EPOCH + Duration::from_secs(not_before.as_secs()),
                        |c| c.not_before(),
                    ),
                    now,
                }
            }
            WError::UnknownIssuer => {
                let last = chain.last().unwrap_or(ee);
                PkiError::UnknownIssuer {
                    subject: last.subject().to_string(),
                    issuer: last.issuer().to_string(),
                    intermediates: intermediates.len(),
                }
            }
            WError::CertRevoked => {
                for c in &chain {
                    for crl in &self.crls {
                        if crl.issuer_der == c.issuer().as_der()
                            && crl.revoked.iter().any(|s| s == c.serial())
                        {
                            return PkiError::Revoked {
                                subject: c.subject().to_string(),
                                serial: colon_hex(c.serial()),
                                issuer: crl.issuer.to_string(),
                            };
                        }
                    }
                }
                PkiError::Revoked {
                    subject,
                    serial: ee.serial_hex(),
                    issuer: ee.issuer().to_string(),
                }
            }
            WError::InvalidSignatureForPublicKey => PkiError::BadSignature {
                subject,
                issuer: ee.issuer().to_string(),
            },
            WError::RequiredEkuNotFound | WError::RequiredEkuNotFoundContext(_) => {
                let c = chain
                    .iter()
                    .find(|c| {
                        c.extended_key_usages()
                            .is_some_and(|e| !e.iter().any(|o| usage.allows(o)))
                    })
                    .unwrap_or(ee);
                PkiError::WrongUsage {
                    subject: c.subject().to_string(),
                    usage,
                    present: c
                        .extended_key_usages()
                        .unwrap_or_default()
                        .iter()
                        .map(|o| eku_name(o))
                        .collect(),
                }
            }
            WError::EmptyEkuExtension => PkiError::WrongUsage {
                subject,
                usage,
                present: Vec::new(),
            },
            WError::CaUsedAsEndEntity => PkiError::BasicConstraints {
                subject,
                detail: "a CA certificate used as end entity".into(),
            },
            WError::EndEntityUsedAsCa => PkiError::BasicConstraints {
                subject,
                detail: "a certificate that is not a CA issued another".into(),
            },
            WError::PathLenConstraintViolated => PkiError::BasicConstraints {
                subject,
                detail: "path length constraint exceeded".into(),
            },
            e @ (WError::UnsupportedSignatureAlgorithm
            | WError::UnsupportedSignatureAlgorithmContext(_)
            | WError::UnsupportedSignatureAlgorithmForPublicKey
            | WError::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
            | WError::SignatureAlgorithmMismatch) => PkiError::UnsupportedAlgorithm {
                subject,
                detail: format!("{e:?}"),
            },
            e @ (WError::InvalidCrlSignatureForPublicKey
            | WError::IssuerNotCrlSigner
            | WError::UnsupportedCrlSignatureAlgorithm
            | WError::UnsupportedCrlSignatureAlgorithmContext(_)
            | WError::UnsupportedCrlSignatureAlgorithmForPublicKey
            | WError::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_)
            | WError::UnsupportedCrlVersion
            | WError::UnsupportedDeltaCrl
            | WError::UnsupportedIndirectCrl
            | WError::UnsupportedCrlIssuingDistributionPoint
            | WError::UnsupportedRevocationReasonsPartitioning
            | WError::InvalidCrlNumber
            | WError::CrlExpired { .. }) => PkiError::BadCrlForChain {
                issuer: ee.issuer().to_string(),
                detail: format!("{e:?}"),
            },
            e => PkiError::Invalid {
                subject,
                detail: format!("{e:?}"),
            },
        }
    }

    /// The chain a reader would expect, by names only: the end entity, then each issuer found
    /// among the intermediates, up to a trusted CA (returned apart) or a missing issuer.
    fn candidate_chain<'a>(
        &'a self,
        ee: &Certificate,
        intermediates: &[&[u8]],
    ) -> (Vec<Certificate>, Option<&'a Certificate>) {
        let inter: Vec<Certificate> = intermediates
            .iter()
            .filter_map(|d| Certificate::from_der(d).ok())
            .collect();
        let mut chain = vec![ee.clone()];
        let mut used = vec![false; inter.len()];
        while let Some(cur) = chain.last() {
            let issuer = cur.issuer().as_der();
            if let Some(ca) = self.cas.iter().find(|c| c.subject().as_der() == issuer) {
                return (chain, Some(ca));
            }
            let next = inter.iter().enumerate().find(|(i, c)| {
                !used.get(*i).copied().unwrap_or(true) && c.subject().as_der() == issuer
            });
            match next {
                Some((i, c)) => {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    chain.push(c.clone());
                }
                None => break,
            }
        }
        (chain, None)
    }
}
