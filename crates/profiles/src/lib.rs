//! Road-warrior credentials and client profiles for `rampart setup` / `rampart client`.
//!
//! Pure functions: nothing here touches the file system or the network; the CLI writes what
//! these return.
//!
//! - [`issue`]: the VPN's CA, the server certificate (EKU serverAuth + ipsecIKE, RFC 4945
//!   §5.1.3.12) and client certificates (EKU clientAuth), CRLs (RFC 5280 §5).
//! - [`secret`]: random passwords without look-alike characters, PSKs.
//! - [`proposals`]: the server's default proposals and those of the clients we export for.
//! - [`p12`]: PKCS #12 (RFC 7292), modern (PBES2 AES-256-CBC, HMAC-SHA-256) and legacy
//!   (pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA-1).
//! - [`mobileconfig`]: Apple configuration profile with an IKEv2 VPN payload.
//! - [`sswan`]: the strongSwan Android app's profile (JSON).
//! - [`windows`]: a PowerShell script for Windows' built-in IKEv2 client.
//! - [`linux`]: the `rampart connect` profile (one self-contained TOML file) and the daemon
//!   configuration built from it.
//! - [`qr`]: a QR code for the terminal.
//! - [`server_config`]: the server's `rampart.toml` (schema of docs/config.md), written and
//!   edited in place with its comments kept.
//! - [`export`]: every format for one client at once.

pub mod export;
pub mod issue;
pub mod linux;
pub mod mobileconfig;
pub mod p12;
pub mod proposals;
pub mod qr;
pub mod secret;
pub mod server_config;
pub mod sswan;
pub mod windows;

mod model;

pub use model::{ClientAuth, ClientProfile, Server};

/// What can go wrong building credentials or profiles.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Certificate or key issuance/parsing failed.
    #[error("certificate: {0}")]
    Pki(#[from] pki::PkiError),
    /// PKCS #12 encoding failed.
    #[error("PKCS #12: {0}")]
    P12(String),
    /// A property list could not be written.
    #[error("property list: {0}")]
    Plist(String),
    /// A TOML document could not be parsed or edited.
    #[error("{0}")]
    Toml(String),
    /// A value is not acceptable (names the value and why).
    #[error("{0}")]
    Invalid(String),
}

/// SHA-256 over the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A certificate's SHA-256 fingerprint as `AB:CD:...` (what `openssl x509 -fingerprint
/// -sha256` prints), for banners and `rampart client list`.
pub fn fingerprint(der: &[u8]) -> String {
    sha256(&[der])
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
