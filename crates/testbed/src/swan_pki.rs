//! A throw-away CA and end-entity certificates for the interop tests, issued with strongSwan's
//! `pki` (package strongswan-pki), plus a password-less PKCS#12 of each for NSS (Libreswan) made
//! with `openssl pkcs12`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::cmd::{self, Output};
use crate::side::CertFiles;

/// Tools [`issue`] needs.
pub const PKI_TOOLS: &[&str] = &["pki", "openssl"];

/// The key type of the end entities (the CA always uses ECDSA P-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA 2048 (signatures: RFC 7427 with PKCS#1 v1.5 or PSS, as the peers negotiate).
    Rsa,
    /// ECDSA P-256.
    Ecdsa,
}

/// The friendly name of the end-entity certificate inside each PKCS#12 (NSS nickname).
pub const P12_NAME: &str = "testbed";

#[track_caller]
fn pki(args: &[&str], out: &Path) {
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => panic!("cannot create {}: {e}", out.display()),
    };
    let mut c = Command::new("pki");
    c.args(args).stdout(file).stderr(Stdio::piped());
    let o = cmd::run(&mut c);
    assert!(o.ok(), "pki failed: {o}");
}

#[track_caller]
fn private(path: &Path) {
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        panic!("chmod 600 {}: {e}", path.display());
    }
}

/// Issues, in `dir`, a CA (`ca.pem`) and for each FQDN in `ids` a key (`<id>.key`, mode 0600),
/// a certificate with that FQDN as subjectAltName and `CN=<id>` (`<id>.pem`) and a PKCS#12
/// (`<id>.p12`, certificate, key and CA, no password). Returned in the order of `ids`.
#[track_caller]
pub fn issue(dir: &Path, kind: KeyKind, ids: &[&str]) -> Vec<CertFiles> {
    let spec: Vec<(&str, &[&str])> = ids.iter().map(|id| (*id, &[][..])).collect();
    issue_with_eku(dir, kind, &spec)
}

/// Like [`issue`], each certificate with the extended key usages given beside its FQDN (`pki
/// --flag`: `serverAuth`, `clientAuth`, `ikeIntermediate`, ...; none = no EKU extension).
#[track_caller]
pub fn issue_with_eku(dir: &Path, kind: KeyKind, ids: &[(&str, &[&str])]) -> Vec<CertFiles> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    let ca_key = dir.join("ca.key");
    let ca = dir.join("ca.pem");
    pki(
        &[
            "--gen",
            "--type",
            "ecdsa",
            "--size",
            "256",
            "--outform",
            "pem",
        ],
        &ca_key,
    );
    private(&ca_key);
    pki(
        &[
            "--self",
            "--ca",
            "--lifetime",
            "30",
            "--in",
            &ca_key.display().to_string(),
            "--type",
            "ecdsa",
            "--dn",
            "C=CH, O=Rampart testbed, CN=Testbed CA",
            "--outform",
            "pem",
        ],
        &ca,
    );
    let (ty, size, authby) = match kind {
        KeyKind::Rsa => ("rsa", "2048", "rsasig"),
        KeyKind::Ecdsa => ("ecdsa", "256", "ecdsa"),
    };
    ids.iter()
        .map(|&(id, ekus)| {
            let key = dir.join(format!("{id}.key"));
            let cert = dir.join(format!("{id}.pem"));
            let p12 = dir.join(format!("{id}.p12"));
            pki(
                &["--gen", "--type", ty, "--size", size, "--outform", "pem"],
                &key,
            );
            private(&key);
            let mut args: Vec<String> = [
                "--issue",
                "--in",
                &key.display().to_string(),
                "--type",
                "priv",
                "--lifetime",
                "30",
                "--cacert",
                &ca.display().to_string(),
                "--cakey",
                &ca_key.display().to_string(),
                "--dn",
                &format!("C=CH, O=Rampart testbed, CN={id}"),
                "--san",
                id,
                "--outform",
                "pem",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            for eku in ekus {
                args.extend(["--flag".to_string(), eku.to_string()]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            pki(&args, &cert);
            let o: Output = cmd::run_args(
                "openssl",
                &[
                    "pkcs12",
                    "-export",
                    "-in",
                    &cert.display().to_string(),
                    "-inkey",
                    &key.display().to_string(),
                    "-certfile",
                    &ca.display().to_string(),
                    "-name",
                    P12_NAME,
                    "-passout",
                    "pass:",
                    "-out",
                    &p12.display().to_string(),
                ],
            );
            assert!(o.ok(), "openssl pkcs12 failed: {o}");
            CertFiles {
                cert,
                key,
                ca: ca.clone(),
                p12,
                libreswan_authby: authby,
            }
        })
        .collect()
}
