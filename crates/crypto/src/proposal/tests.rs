use super::*;
use crate::{EncrId, TransformType};

fn ike(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Ike, s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn esp(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Esp, s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(protocol: Protocol, s: &str) -> String {
    match ProposalSpec::parse(protocol, s) {
        Err(CryptoError::InvalidProposal(m)) => m,
        other => panic!("{s}: expected an error, got {other:?}"),
    }
}

fn gcm(bits: u16) -> EncrAlg {
    EncrAlg::new(EncrId::AesGcm16, Some(bits))
}

fn cbc(bits: u16) -> EncrAlg {
    EncrAlg::new(EncrId::AesCbc, Some(bits))
}

#[test]
fn aead_ike_proposal() {
    let p = ike("aes256gcm16-prfsha256-x25519");
    assert_eq!(p.encr, [gcm(256)]);
    assert_eq!(p.prf, [PrfId::HmacSha2_256]);
    assert!(p.integ.is_empty() && p.esn.is_empty());
    assert_eq!(p.ke, [KeId::Curve25519]);
    assert_eq!(p.to_string(), "aes256gcm16-prfsha256-x25519");
    assert!(p.unsupported().is_empty());
}

#[test]
fn cbc_ike_proposal_derives_prf() {
    let p = ike("aes128-sha256-ecp256");
    assert_eq!(p.encr, [cbc(128)]);
    assert_eq!(p.integ, [IntegId::HmacSha2_256_128]);
    assert_eq!(p.prf, [PrfId::HmacSha2_256]);
    assert_eq!(p.ke, [KeId::Ecp256]);
    assert_eq!(p.to_string(), "aes128-sha256-ecp256");

    let p = ike("aes128-aes256-sha1-sha384-ecp384-modp2048");
    assert_eq!(p.prf, [PrfId::HmacSha1, PrfId::HmacSha2_384]);
    assert_eq!(p.to_string(), "aes128-aes256-sha1-sha384-ecp384-modp2048");
    assert!(p.unsupported().is_empty());
    assert_eq!(ike("aes128-sha256-x448").unsupported(), ["x448"]);

    // An explicit PRF that differs from the derived one is kept and printed.
    let p = ike("aes128-sha256-prfsha512-ecp256");
    assert_eq!(p.prf, [PrfId::HmacSha2_512]);
    assert_eq!(p.to_string(), "aes128-sha256-prfsha512-ecp256");
}

#[test]
fn aead_with_integ_keyword_derives_prf_and_drops_integ() {
    let p = ike("aes128gcm16-sha256-ecp256");
    assert!(p.integ.is_empty());
    assert_eq!(p.prf, [PrfId::HmacSha2_256]);
    assert_eq!(p.to_string(), "aes128gcm16-prfsha256-ecp256");
}

#[test]
fn aliases_and_case() {
    assert_eq!(
        ike("AES256GCM128-PRFSHA384-Curve25519"),
        ike("aes256gcm16-prfsha384-x25519")
    );
    assert_eq!(esp("aes192gcm128").encr, [gcm(192)]);
    assert_eq!(esp("aes-sha").encr, [cbc(128)]);
    assert_eq!(esp("aes-sha").integ, [IntegId::HmacSha1_96]);
    assert_eq!(esp("aes128-sha2_512").integ, [IntegId::HmacSha2_512_256]);
    assert_eq!(
        ike("chacha20poly1305-prfsha256-x25519").encr[0].id,
        EncrId::ChaCha20Poly1305
    );
    // Duplicates collapse.
    assert_eq!(
        ike("aes128-aes128-sha256-ecp256-ecp256"),
        ike("aes128-sha256-ecp256")
    );
}

#[test]
fn esp_proposals() {
    let p = esp("aes128-sha256");
    assert_eq!(p.encr, [cbc(128)]);
    assert_eq!(p.integ, [IntegId::HmacSha2_256_128]);
    assert!(p.prf.is_empty() && p.ke.is_empty());
    assert_eq!(p.esn, [EsnId::NoEsn]);
    assert_eq!(p.to_string(), "aes128-sha256");

    let p = esp("aes256gcm16");
    assert_eq!(p.encr, [gcm(256)]);
    assert!(p.integ.is_empty());
    assert_eq!(p.to_string(), "aes256gcm16");

    let p = esp("aes256gcm16-ecp256-esn");
    assert_eq!(p.ke, [KeId::Ecp256]);
    assert_eq!(p.esn, [EsnId::Esn]);
    assert_eq!(p.to_string(), "aes256gcm16-ecp256-esn");

    let p = esp("aes128-sha1-esn-noesn");
    assert_eq!(p.esn, [EsnId::Esn, EsnId::NoEsn]);
    assert_eq!(p.to_string(), "aes128-sha1-esn-noesn");
    assert_eq!(esp("aes128-sha1-noesn").to_string(), "aes128-sha1");
}

#[test]
fn errors_name_the_keyword_and_the_choices() {
    let m = err(Protocol::Ike, "aes999-sha256-x25519");
    assert!(m.contains("'aes999'"), "{m}");
    for word in [
        "aes256gcm16",
        "chacha20poly1305",
        "sha384",
        "prfsha512",
        "x25519",
        "ecp521",
    ] {
        assert!(m.contains(word), "{m} lacks {word}");
    }
    assert!(err(Protocol::Esp, "aes128-sha256-bogus").contains("'bogus'"));
    assert!(err(Protocol::Esp, "aes128--sha256").contains("(empty)"));
    assert!(err(Protocol::Esp, "").contains("empty"));
    assert!(err(Protocol::Ike, "aes256gcm16-x25519").contains("PRF"));
    assert!(err(Protocol::Ike, "aes256gcm16-prfsha256").contains("key exchange"));
    assert!(err(Protocol::Ike, "aes128-ecp256").contains("integrity"));
    assert!(err(Protocol::Esp, "aes128").contains("integrity"));
    assert!(err(Protocol::Esp, "sha256").contains("encryption"));
    let m = err(Protocol::Esp, "aes128-aes128gcm16-sha256");
    assert!(m.contains("mixed") && m.contains("aes128gcm16"), "{m}");
    assert!(err(Protocol::Esp, "aes128-sha256-prfsha256").contains("'prfsha256'"));
    assert!(err(Protocol::Ike, "aes128-sha256-x25519-esn").contains("'esn'"));
    // A hostile keyword is escaped and bounded in the message.
    let m = err(Protocol::Esp, &format!("aes128-{}\n", "x".repeat(500)));
    assert!(!m.contains('\n') && m.len() < 2000, "{m}");
}

#[test]
fn suite_display() {
    let s = Suite {
        protocol: Protocol::Ike,
        encr: gcm(256),
        prf: Some(PrfId::HmacSha2_256),
        integ: None,
        ke: Some(KeId::Curve25519),
        esn: None,
    };
    assert_eq!(s.to_string(), "aes256gcm16-prfsha256-x25519");
    let s = Suite {
        protocol: Protocol::Ike,
        encr: cbc(128),
        prf: Some(PrfId::HmacSha2_256),
        integ: Some(IntegId::HmacSha2_256_128),
        ke: Some(KeId::Ecp256),
        esn: None,
    };
    assert_eq!(s.to_string(), "aes128-sha256-ecp256");
    let s = Suite {
        protocol: Protocol::Esp,
        encr: cbc(128),
        prf: None,
        integ: Some(IntegId::HmacSha2_256_128),
        ke: None,
        esn: Some(EsnId::NoEsn),
    };
    assert_eq!(s.to_string(), "aes128-sha256");
    let s = Suite {
        protocol: Protocol::Esp,
        encr: EncrAlg::new(EncrId::ChaCha20Poly1305, None),
        prf: None,
        integ: Some(IntegId::None),
        ke: Some(KeId::Ecp384),
        esn: Some(EsnId::Esn),
    };
    assert_eq!(s.to_string(), "chacha20poly1305-ecp384-esn");
}

#[test]
fn display_round_trips() {
    for (proto, s) in [
        (Protocol::Ike, "aes256gcm16-prfsha256-x25519"),
        (
            Protocol::Ike,
            "aes128-aes192-aes256-sha1-sha256-sha384-sha512-ecp256-ecp384-ecp521-modp4096",
        ),
        (
            Protocol::Ike,
            "aes128gcm16-aes256gcm16-chacha20poly1305-prfsha512-prfsha1-x25519-modp1024",
        ),
        (Protocol::Ike, "aes128-sha256-prfsha1-ecp256"),
        (Protocol::Esp, "aes128gcm16-aes256gcm16"),
        (Protocol::Esp, "aes256-sha512-modp3072-esn"),
    ] {
        let p = ProposalSpec::parse(proto, s).unwrap();
        assert_eq!(p.to_string(), s);
        assert_eq!(ProposalSpec::parse(proto, &p.to_string()).unwrap(), p);
    }
}

#[test]
fn listing() {
    let all = algorithms();
    let sup = supported();
    let words: Vec<&str> = sup.iter().map(|a| a.keyword).collect();
    for w in [
        "aes128",
        "aes192",
        "aes256",
        "aes128gcm16",
        "aes192gcm16",
        "aes256gcm16",
        "chacha20poly1305",
        "sha1",
        "sha256",
        "sha384",
        "sha512",
        "prfsha1",
        "prfsha256",
        "prfsha384",
        "prfsha512",
        "x25519",
        "ecp256",
        "ecp384",
        "ecp521",
        "modp1024",
        "modp1536",
        "modp2048",
        "modp3072",
        "modp4096",
        "esn",
        "noesn",
    ] {
        assert!(words.contains(&w), "{w} missing from {words:?}");
    }
    for w in [
        "x448",
        "3des",
        "md5",
        "aes128gcm8",
        "curve25519",
        "aes128gcm128",
    ] {
        assert!(!words.contains(&w), "{w} listed as supported");
    }
    let modp = all.iter().find(|a| a.keyword == "modp2048").unwrap();
    assert!(modp.implemented && modp.kind == TransformType::Ke && modp.name == "MODP_2048");
    let x448 = all.iter().find(|a| a.keyword == "x448").unwrap();
    assert!(!x448.implemented && x448.name == "CURVE_448");
    let gcm = all.iter().find(|a| a.keyword == "aes256gcm16").unwrap();
    assert_eq!(gcm.name, "AES_GCM_16_256");
}

#[test]
fn null_encryption_is_esp_only_and_needs_integrity() {
    let p = esp("null-sha256");
    assert_eq!(p.encr, [EncrAlg::new(EncrId::Null, None)]);
    assert_eq!(p.integ, [IntegId::HmacSha2_256_128]);
    assert!(p.unsupported().is_empty());
    assert_eq!(p.to_string(), "null-sha256");
    let m = err(Protocol::Ike, "null-sha256-x25519");
    assert!(m.contains("'null'") && m.contains("ESP"), "{m}");
    let m = err(Protocol::Esp, "null");
    assert!(m.contains("no integrity algorithm"), "{m}");
    let m = err(Protocol::Esp, "null-aes128gcm16");
    assert!(m.contains("cannot be mixed"), "{m}");
}

#[test]
fn legacy_proposals() {
    // Windows' built-in defaults.
    assert!(ike("aes256-sha1-modp1024").is_legacy());
    assert!(esp("aes256-sha1").is_legacy());
    // MODP-1024 offered at all; SHA-1 as the only PRF or the only integrity algorithm.
    assert!(ike("aes256-sha256-modp2048-modp1024").is_legacy());
    assert!(esp("aes128gcm16-modp1024").is_legacy());
    assert!(ike("aes256gcm16-prfsha1-x25519").is_legacy());
    assert!(ike("aes128-sha1-prfsha256-ecp256").is_legacy());
    assert!(esp("null-sha1").is_legacy());
    // Not legacy: SHA-1 next to a SHA-2 algorithm, or no SHA-1 and no MODP-1024.
    for s in [
        "aes256-sha256-sha1-modp2048",
        "aes256gcm16-prfsha256-x25519",
        "aes128-sha256-ecp256",
        "aes256-sha1-sha256-prfsha1-prfsha256-modp2048",
    ] {
        assert!(!ike(s).is_legacy(), "{s}");
    }
    for s in [
        "aes128-sha256-sha1",
        "aes256gcm16",
        "aes128-sha256-modp2048",
    ] {
        assert!(!esp(s).is_legacy(), "{s}");
    }
}

#[test]
fn legacy_suites() {
    let base = Suite {
        protocol: Protocol::Ike,
        encr: cbc(256),
        prf: Some(PrfId::HmacSha2_256),
        integ: Some(IntegId::HmacSha2_256_128),
        ke: Some(KeId::Modp2048),
        esn: None,
    };
    assert!(!base.is_legacy());
    assert!(Suite {
        ke: Some(KeId::Modp1024),
        ..base
    }
    .is_legacy());
    assert!(Suite {
        prf: Some(PrfId::HmacSha1),
        ..base
    }
    .is_legacy());
    assert!(Suite {
        integ: Some(IntegId::HmacSha1_96),
        ..base
    }
    .is_legacy());
    let esp_aead = Suite {
        protocol: Protocol::Esp,
        encr: gcm(128),
        prf: None,
        integ: None,
        ke: None,
        esn: Some(EsnId::NoEsn),
    };
    assert!(!esp_aead.is_legacy());
}

fn ah(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Ah, s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn ah_proposals() {
    let p = ah("sha256");
    assert_eq!(p.protocol, Protocol::Ah);
    assert!(p.encr.is_empty() && p.prf.is_empty() && p.ke.is_empty());
    assert_eq!(p.integ, [IntegId::HmacSha2_256_128]);
    assert_eq!(p.esn, [EsnId::NoEsn]);
    assert_eq!(p.to_string(), "sha256");
    assert!(p.unsupported().is_empty());

    let p = ah("SHA512-sha384-ecp256-x25519-esn");
    assert_eq!(
        p.integ,
        [IntegId::HmacSha2_512_256, IntegId::HmacSha2_384_192]
    );
    assert_eq!(p.ke, [KeId::Ecp256, KeId::Curve25519]);
    assert_eq!(p.esn, [EsnId::Esn]);
    assert_eq!(p.to_string(), "sha512-sha384-ecp256-x25519-esn");
    assert_eq!(ah("sha1-noesn").to_string(), "sha1");
    assert_eq!(ah("sha1-esn-noesn").esn, [EsnId::Esn, EsnId::NoEsn]);
    // Legacy exactly as for ESP: SHA-1 as the only integrity algorithm, or MODP-1024.
    assert!(ah("sha1").is_legacy());
    assert!(ah("sha256-modp1024").is_legacy());
    assert!(!ah("sha1-sha256").is_legacy());
    // Parsed like ESP, but not implemented: never negotiated.
    assert_eq!(ah("md5").unsupported(), ["md5"]);
    assert_eq!(ah("aesxcbc").unsupported(), ["aesxcbc"]);
    for s in ["sha256", "sha256-sha512-modp3072-esn", "sha384-esn-noesn"] {
        assert_eq!(ah(s).to_string(), s);
        assert_eq!(ah(&ah(s).to_string()), ah(s));
    }
}

#[test]
fn ah_proposal_errors() {
    for word in ["aes128", "aes256gcm16", "null", "chacha20poly1305"] {
        let m = err(Protocol::Ah, &format!("{word}-sha256"));
        assert!(
            m.contains(&format!("'{word}'")) && m.contains("AH proposals carry no encryption"),
            "{m}"
        );
    }
    let m = err(Protocol::Ah, "sha256-prfsha256");
    assert!(m.contains("'prfsha256'") && m.contains("no PRF"), "{m}");
    let m = err(Protocol::Ah, "ecp256-esn");
    assert!(m.contains("integrity algorithm"), "{m}");
    assert!(err(Protocol::Ah, "").contains("empty"));
    // An unknown keyword lists only what AH may contain.
    let m = err(Protocol::Ah, "sha256-bogus");
    assert!(m.contains("'bogus'") && m.contains("sha384"), "{m}");
    assert!(!m.contains("aes128") && !m.contains("prfsha256"), "{m}");
    // ESP's list still names encryption algorithms.
    assert!(err(Protocol::Esp, "aes128-bogus").contains("aes256gcm16"));
}

#[test]
fn ah_suite() {
    let s = Suite {
        protocol: Protocol::Ah,
        encr: Suite::AH_NO_ENCR,
        prf: None,
        integ: Some(IntegId::HmacSha2_256_128),
        ke: None,
        esn: Some(EsnId::NoEsn),
    };
    assert_eq!(s.protocol(), Protocol::Ah);
    assert_eq!(s.to_string(), "sha256");
    assert!(!s.is_legacy());
    let s = Suite {
        integ: Some(IntegId::HmacSha1_96),
        ke: Some(KeId::Ecp384),
        esn: Some(EsnId::Esn),
        ..s
    };
    assert_eq!(s.to_string(), "sha1-ecp384-esn");
    assert!(s.is_legacy());
    assert_eq!(Protocol::Ah.to_string(), "AH");
    assert_eq!(Protocol::Esp.to_string(), "ESP");
}
