//! Proposals (strongSwan syntax, docs/config.md): the server's defaults and the suites the
//! clients we export for propose.
//!
//! The server keeps AES-CBC with SHA-2 next to AEAD because iOS/macOS set up by hand, Windows
//! after our script and Android's native client use it; key exchange methods are the ECP
//! groups and MODP-2048 real clients offer (RFC 8247 §2.4). MODP-1024 and SHA-1-only suites
//! (Windows' defaults) are added only with `--legacy-crypto` (`daemon.legacy_crypto`).
//!
//! ESP proposals come twice, without and with key exchange: a Child SA created in IKE_AUTH
//! has no KE (RFC 7296 §1.2), rekeys of clients with PFS (Apple `EnablePFS`, Windows
//! `-PfsGroup`) offer one without NONE.

/// The server's IKE proposals.
pub fn server_ike(legacy: bool) -> Vec<String> {
    let mut v = vec![
        "aes256gcm16-aes128gcm16-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-modp2048"
            .to_string(),
        "aes256-aes128-sha256-sha384-sha512-x25519-ecp256-ecp384-modp2048".to_string(),
    ];
    if legacy {
        v.push(WINDOWS_DEFAULT_IKE_LEGACY.to_string());
    }
    v
}

/// The server's ESP proposals.
pub fn server_esp(legacy: bool) -> Vec<String> {
    let mut v = vec![
        "aes256gcm16-aes128gcm16".to_string(),
        "aes256gcm16-aes128gcm16-x25519-ecp256-ecp384-modp2048".to_string(),
        "aes256-aes128-sha256-sha384-sha512".to_string(),
        "aes256-aes128-sha256-sha384-sha512-x25519-ecp256-ecp384-modp2048".to_string(),
    ];
    if legacy {
        v.push("aes256-aes128-sha1".to_string());
    }
    v
}

/// What the server adds for Windows' default suites with `--legacy-crypto`.
const WINDOWS_DEFAULT_IKE_LEGACY: &str = "aes256-aes128-sha256-sha1-modp1024";

/// The suites one client proposes, as documented by its vendor.
#[derive(Debug, Clone, Copy)]
pub struct ClientSuites {
    /// Which client and configuration.
    pub name: &'static str,
    /// Its IKE proposals.
    pub ike: &'static [&'static str],
    /// Its ESP proposals.
    pub esp: &'static [&'static str],
    /// True when only a server with `legacy_crypto` can accept it.
    pub needs_legacy: bool,
}

/// Apple profile values (`IKESecurityAssociationParameters` /
/// `ChildSecurityAssociationParameters` of the exported .mobileconfig).
pub mod apple {
    /// EncryptionAlgorithm.
    pub const ENCRYPTION: &str = "AES-256-GCM";
    /// IntegrityAlgorithm (the PRF with AEAD).
    pub const INTEGRITY: &str = "SHA2-256";
    /// DiffieHellmanGroup (19 = ECP-256, RFC 5903).
    pub const DH_GROUP: i64 = 19;
    /// The same in strongSwan syntax.
    pub const IKE: &str = "aes256gcm16-prfsha256-ecp256";
    /// The Child SA (PFS with group 19 on rekeys).
    pub const ESP: &str = "aes256gcm16";
}

/// Windows values set by the exported PowerShell script
/// (`Set-VpnConnectionIPsecConfiguration`).
pub mod windows {
    /// -EncryptionMethod.
    pub const ENCRYPTION_METHOD: &str = "AES256";
    /// -IntegrityCheckMethod.
    pub const INTEGRITY_CHECK_METHOD: &str = "SHA256";
    /// -DHGroup.
    pub const DH_GROUP: &str = "ECP256";
    /// -CipherTransformConstants / -AuthenticationTransformConstants.
    pub const CIPHER_TRANSFORM: &str = "GCMAES256";
    /// -PfsGroup.
    pub const PFS_GROUP: &str = "ECP256";
    /// The same in strongSwan syntax.
    pub const IKE: &str = "aes256-sha256-ecp256";
    /// ESP.
    pub const ESP: &str = "aes256gcm16";
}

/// The strongSwan Android app's profile (`ike-proposal` / `esp-proposal` of the .sswan).
pub mod sswan {
    /// ike-proposal.
    pub const IKE: &str = "aes256gcm16-prfsha256-ecp256";
    /// esp-proposal.
    pub const ESP: &str = "aes256gcm16";
}

/// Real clients' proposals, for the interop test against a `rampart setup` server.
pub const CLIENTS: &[ClientSuites] = &[
    ClientSuites {
        // Windows 10/11 built-in client without policy changes: AES-CBC/3DES, SHA-1/SHA-256,
        // always MODP-1024; ESP with SHA-1.
        name: "windows-default",
        ike: &[
            "aes256-sha1-modp1024",
            "3des-sha1-modp1024",
            "aes256-sha256-modp1024",
            "3des-sha256-modp1024",
        ],
        esp: &["aes256-sha1", "aes128-sha1", "3des-sha1"],
        needs_legacy: true,
    },
    ClientSuites {
        name: "windows-script",
        ike: &[windows::IKE],
        esp: &[windows::ESP],
        needs_legacy: false,
    },
    ClientSuites {
        name: "apple-profile",
        ike: &[apple::IKE],
        esp: &[apple::ESP],
        needs_legacy: false,
    },
    ClientSuites {
        // iOS/macOS configured by hand (no profile): AES-CBC with SHA-2 first.
        name: "apple-manual",
        ike: &[
            "aes256-sha256-ecp256",
            "aes256-sha256-modp2048",
            "aes128-sha1-modp2048",
        ],
        esp: &["aes256-sha256", "aes128-sha1"],
        needs_legacy: false,
    },
    ClientSuites {
        // Android 11+ native IKEv2 (Ikev2VpnProfile): AES-GCM and AES-CBC with SHA-2,
        // MODP-2048 and ECP groups.
        name: "android-native",
        ike: &[
            "aes256gcm16-aes128gcm16-prfsha256-prfsha384-prfsha512-modp2048-ecp256-ecp384",
            "aes256-aes128-sha256-sha384-sha512-modp2048-ecp256-ecp384",
        ],
        esp: &[
            "aes256gcm16-aes128gcm16",
            "aes256-aes128-sha256-sha384-sha512",
        ],
        needs_legacy: false,
    },
    ClientSuites {
        name: "strongswan-app",
        ike: &[sswan::IKE],
        esp: &[sswan::ESP],
        needs_legacy: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::{ProposalSpec, Protocol};

    fn parse(p: Protocol, s: &str) -> ProposalSpec {
        ProposalSpec::parse(p, s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn server_defaults_parse_and_legacy_only_when_asked() {
        for legacy in [false, true] {
            let ike: Vec<_> = server_ike(legacy)
                .iter()
                .map(|s| parse(Protocol::Ike, s))
                .collect();
            let esp: Vec<_> = server_esp(legacy)
                .iter()
                .map(|s| parse(Protocol::Esp, s))
                .collect();
            let any_legacy = ike.iter().chain(esp.iter()).any(|p| p.is_legacy());
            assert_eq!(any_legacy, legacy);
            for p in ike.iter().chain(esp.iter()) {
                assert!(p.unsupported().is_empty(), "{p}");
            }
        }
    }

    #[test]
    fn client_suites_parse() {
        for c in CLIENTS {
            for s in c.ike {
                parse(Protocol::Ike, s);
            }
            for s in c.esp {
                parse(Protocol::Esp, s);
            }
        }
    }
}
