//! Algorithm matrix, Rampart <-> strongSwan 5.9 (kernel-libipsec) net to net: every IKE
//! encryption, PRF, integrity and key-exchange family of RFC 8247 and every ESP cipher of
//! RFC 8221 that Rampart implements, each at least once with Rampart as initiator and once as
//! responder. Each case brings the tunnel up with exactly one proposal on both sides, checks
//! that both report those algorithms, that the Child SA SPIs match crosswise, pings h1 <-> h2
//! through it and tears it down.
//!
//! Rows marked legacy (SHA-1, MODP-1024) need Rampart's `daemon.legacy_crypto = true`.
//! Needs root; under CI=true a missing tool fails the test.

use std::time::Duration;

use testbed::interop::{assert_up, ping_from, start_charon, start_rampart, wait_no_sas};
use testbed::topology::addr;
use testbed::{CharonOptions, Peer, Side, Topology};

use super::rampart;

/// strongSwan's name of one keyword, as `swanctl --list-sas` prints it.
fn swan_name(token: &str) -> &'static str {
    match token {
        "aes128" => "AES_CBC-128",
        "aes192" => "AES_CBC-192",
        "aes256" => "AES_CBC-256",
        "aes128gcm16" => "AES_GCM_16-128",
        "aes192gcm16" => "AES_GCM_16-192",
        "aes256gcm16" => "AES_GCM_16-256",
        "chacha20poly1305" => "CHACHA20_POLY1305",
        "null" => "NULL",
        "sha1" => "HMAC_SHA1_96",
        "sha256" => "HMAC_SHA2_256_128",
        "sha384" => "HMAC_SHA2_384_192",
        "sha512" => "HMAC_SHA2_512_256",
        "prfsha1" => "PRF_HMAC_SHA1",
        "prfsha256" => "PRF_HMAC_SHA2_256",
        "prfsha384" => "PRF_HMAC_SHA2_384",
        "prfsha512" => "PRF_HMAC_SHA2_512",
        "modp1024" => "MODP_1024",
        "modp2048" => "MODP_2048",
        "modp3072" => "MODP_3072",
        "modp4096" => "MODP_4096",
        "ecp256" => "ECP_256",
        "ecp384" => "ECP_384",
        "ecp521" => "ECP_521",
        "x25519" => "CURVE_25519",
        other => panic!("no strongSwan name for {other}"),
    }
}

/// What `testbed::Peer::sas` reports for charon, `IKE ENCR/INTEG/PRF/KE ESP ENCR/INTEG`, from
/// proposals in strongSwan syntax (the PRF defaults to the integrity algorithm's hash).
fn swan_expected(ike: &str, esp: &str) -> String {
    let t: Vec<&str> = ike.split('-').collect();
    let encr = swan_name(t[0]);
    let integ = t
        .iter()
        .find(|x| x.starts_with("sha"))
        .map_or("", |x| swan_name(x));
    let prf = t
        .iter()
        .find(|x| x.starts_with("prf"))
        .map(|x| swan_name(x))
        .or_else(|| {
            t.iter()
                .find(|x| x.starts_with("sha"))
                .map(|x| swan_name(&format!("prf{x}")))
        })
        .unwrap_or("");
    let ke = t
        .iter()
        .find(|x| x.starts_with("modp") || x.starts_with("ecp") || **x == "x25519")
        .map_or("", |x| swan_name(x));
    let e: Vec<&str> = esp.split('-').collect();
    let esp_encr = swan_name(e[0]);
    let esp_integ = e.get(1).map_or("", |x| swan_name(x));
    format!("IKE {encr}/{integ}/{prf}/{ke} ESP {esp_encr}/{esp_integ}")
}

/// One matrix row: Rampart on gw1, strongSwan on gw2, exactly these proposals on both.
fn case(prefix: &str, rampart_initiates: bool, ike: &str, esp: &str, legacy: bool) {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return;
    }
    let topo = Topology::net2net(prefix);
    let mut ours = Side::psk(
        &[addr::GW1_V4],
        &[addr::GW2_V4],
        ("gw1.example.org", "gw2.example.org"),
        (&[addr::LAN1_V4], &[addr::LAN2_V4]),
        ike,
        esp,
    );
    let theirs = ours.mirror();
    ours.start = rampart_initiates;
    if legacy {
        ours.rampart_daemon_extra = "legacy_crypto = true\n".into();
    }
    let tun = format!("{prefix}t1");
    let start_ours = || start_rampart(rampart(), &topo.gw1, &topo.subdir("gw1"), &ours, &tun);
    let start_theirs = || {
        start_charon(
            &topo.gw2,
            &topo.subdir("gw2"),
            &theirs,
            &CharonOptions::default(),
        )
    };
    // The responder first.
    let (r, s) = if rampart_initiates {
        let s = start_theirs();
        (start_ours(), s)
    } else {
        let r = start_ours();
        let s = start_theirs();
        let out = s.initiate();
        assert!(
            out.ok(),
            "strongSwan could not initiate: {out}\n{}",
            r.log()
        );
        (r, s)
    };
    let (a, b) = assert_up(&r, &s, Duration::from_secs(20));
    assert_eq!(a.initiator, rampart_initiates, "Rampart's role: {a:?}");

    // Both report exactly the configured algorithms.
    assert_eq!(
        a.algorithms,
        format!("IKE {ike} ESP {esp}"),
        "Rampart's negotiated algorithms"
    );
    let want = swan_expected(ike, esp);
    // charon prints `ENCR-KEYSIZE`, with an empty key size for ChaCha20-Poly1305 and NULL.
    let got = b.algorithms.replace("-/", "/");
    assert_eq!(got, want, "strongSwan's negotiated algorithms");

    for (from, to) in [(&topo.h1, addr::H2_V4), (&topo.h2, addr::H1_V4)] {
        let out = ping_from(from, None, to, 2);
        assert!(
            out.ok(),
            "ping {} -> {to} failed: {out}\n{}\n{}",
            from.name(),
            r.describe(),
            s.describe()
        );
    }
    let out = r.terminate();
    assert!(out.ok(), "rampart terminate failed: {out}");
    for p in [&r, &s] {
        assert!(
            wait_no_sas(p, Duration::from_secs(10)),
            "{} still has SAs after the DELETE: {:?}",
            p.label(),
            p.sas()
        );
    }
    drop::<(Peer, Peer)>((r, s));
}

macro_rules! row {
    ($name:ident, $prefix:literal, $rampart_initiates:expr, $ike:literal, $esp:literal) => {
        #[test]
        fn $name() {
            case($prefix, $rampart_initiates, $ike, $esp, false);
        }
    };
    ($name:ident, $prefix:literal, $rampart_initiates:expr, $ike:literal, $esp:literal, legacy) => {
        #[test]
        fn $name() {
            case($prefix, $rampart_initiates, $ike, $esp, true);
        }
    };
}

const INITIATOR: bool = true;
const RESPONDER: bool = false;

// Each IKE row runs in both roles; the ESP proposal is rotated between the two runs so that
// every ESP cipher also appears in both roles.
row!(
    i_aes128_sha256_modp2048,
    "am1i",
    INITIATOR,
    "aes128-sha256-modp2048",
    "aes128-sha256"
);
row!(
    r_aes128_sha256_modp2048,
    "am1r",
    RESPONDER,
    "aes128-sha256-modp2048",
    "aes128gcm16"
);
row!(
    i_aes192_sha384_ecp384,
    "am2i",
    INITIATOR,
    "aes192-sha384-ecp384",
    "aes192-sha384"
);
row!(
    r_aes192_sha384_ecp384,
    "am2r",
    RESPONDER,
    "aes192-sha384-ecp384",
    "aes256gcm16"
);
row!(
    i_aes256_sha512_ecp521,
    "am3i",
    INITIATOR,
    "aes256-sha512-ecp521",
    "aes256-sha512"
);
row!(
    r_aes256_sha512_ecp521,
    "am3r",
    RESPONDER,
    "aes256-sha512-ecp521",
    "chacha20poly1305"
);
row!(
    i_aes128gcm16_prfsha384_modp3072,
    "am4i",
    INITIATOR,
    "aes128gcm16-prfsha384-modp3072",
    "aes128gcm16"
);
row!(
    r_aes128gcm16_prfsha384_modp3072,
    "am4r",
    RESPONDER,
    "aes128gcm16-prfsha384-modp3072",
    "null-sha256"
);
row!(
    i_aes256gcm16_prfsha512_modp4096,
    "am5i",
    INITIATOR,
    "aes256gcm16-prfsha512-modp4096",
    "aes256gcm16"
);
row!(
    r_aes256gcm16_prfsha512_modp4096,
    "am5r",
    RESPONDER,
    "aes256gcm16-prfsha512-modp4096",
    "aes128-sha256"
);
row!(
    i_chacha20poly1305_prfsha256_x25519,
    "am6i",
    INITIATOR,
    "chacha20poly1305-prfsha256-x25519",
    "chacha20poly1305"
);
row!(
    r_chacha20poly1305_prfsha256_x25519,
    "am6r",
    RESPONDER,
    "chacha20poly1305-prfsha256-x25519",
    "aes192-sha384"
);
row!(
    i_aes256gcm16_prfsha256_ecp256,
    "am7i",
    INITIATOR,
    "aes256gcm16-prfsha256-ecp256",
    "null-sha256"
);
row!(
    r_aes256gcm16_prfsha256_ecp256,
    "am7r",
    RESPONDER,
    "aes256gcm16-prfsha256-ecp256",
    "aes256-sha512"
);
// Legacy (Windows' built-in defaults): SHA-1 and MODP-1024.
row!(
    i_legacy_aes128_sha1_modp1024,
    "am8i",
    INITIATOR,
    "aes128-sha1-modp1024",
    "aes128-sha1",
    legacy
);
row!(
    r_legacy_aes256_sha1_modp1024,
    "am8r",
    RESPONDER,
    "aes256-sha1-modp1024",
    "aes256-sha1",
    legacy
);
