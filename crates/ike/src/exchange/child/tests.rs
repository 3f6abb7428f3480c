//! Child SA offers on the wire (RFC 7296 §3.3) and KEYMAT (§2.17), for ESP and AH, against
//! bytes written out by hand and an independent prf+ computation.

use std::sync::Arc;
use std::time::Instant;

use crypto::proposal::Protocol;
use crypto::{EncrAlg, EncrId, EsnId, IntegId, KeId, Prf, PrfId, ProposalSpec, Suite};

use super::child_offer;
use crate::config::{ChildConfig, IkeConfig};
use crate::engine::Engine;
use crate::event::IkeSaId;
use crate::keys::IkeKeys;
use crate::sa::IkeSa;

fn spec(p: Protocol, s: &str) -> ProposalSpec {
    ProposalSpec::parse(p, s).unwrap()
}

/// prf+ (RFC 7296 §2.13) written out: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n).
fn prf_plus_by_hand(prf: Prf, key: &[u8], s: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut t: Vec<u8> = Vec::new();
    let mut n = 1u8;
    while out.len() < len {
        t = prf.compute(key, &[&t, s, &[n]]).as_slice().to_vec();
        out.extend_from_slice(&t);
        n += 1;
    }
    out.truncate(len);
    out
}

/// An established-looking IKE SA with keys from fixed inputs (PRF HMAC-SHA2-256).
fn ike_sa(initiator: bool) -> IkeSa {
    let mut sa = IkeSa::new(
        IkeSaId(1),
        Arc::new(IkeConfig::default()),
        initiator,
        0x0102_0304_0506_0708,
        0x1112_1314_1516_1718,
        "192.0.2.1:500".parse().unwrap(),
        "192.0.2.2:500".parse().unwrap(),
        Instant::now(),
    );
    let suite = Suite {
        protocol: Protocol::Ike,
        encr: EncrAlg::new(EncrId::AesGcm16, Some(256)),
        prf: Some(PrfId::HmacSha2_256),
        integ: None,
        ke: Some(KeId::Curve25519),
        esn: None,
    };
    sa.keys = Some(
        IkeKeys::derive(
            &suite,
            b"shared secret",
            &[1; 32],
            &[2; 32],
            sa.spi_i,
            sa.spi_r,
            initiator,
        )
        .unwrap(),
    );
    sa
}

fn ah_suite(integ: IntegId) -> Suite {
    Suite {
        protocol: Protocol::Ah,
        encr: Suite::AH_NO_ENCR,
        prf: None,
        integ: Some(integ),
        ke: None,
        esn: Some(EsnId::NoEsn),
    }
}

#[test]
fn ah_and_esp_offer_bytes() {
    let cfg = ChildConfig {
        ah_proposals: vec![spec(Protocol::Ah, "sha256")],
        esp_proposals: vec![spec(Protocol::Esp, "aes128gcm16")],
        ..ChildConfig::default()
    };
    let props = child_offer(&cfg, &[Protocol::Ah, Protocol::Esp], 0xc0ff_ee01, false);
    let mut b = Vec::new();
    wire::ike::Proposal::emit_all(&props, &mut b).unwrap();
    #[rustfmt::skip]
    let want: &[u8] = &[
        // Proposal 1 (more follow: 2), length 28, protocol 2 (AH), SPI size 4, 2 transforms.
        2, 0, 0, 28, 1, 2, 4, 2, 0xc0, 0xff, 0xee, 0x01,
        // INTEG (3) HMAC_SHA2_256_128 (12); ESN (5) NO_EXT_SEQ (0). No ENCR.
        3, 0, 0, 8, 3, 0, 0, 12,
        0, 0, 0, 8, 5, 0, 0, 0,
        // Proposal 2 (last), length 32, protocol 3 (ESP), SPI size 4, 2 transforms.
        0, 0, 0, 32, 2, 3, 4, 2, 0xc0, 0xff, 0xee, 0x01,
        // ENCR (1) AES_GCM_16 (20) with Key Length 128; ESN NO_EXT_SEQ.
        3, 0, 0, 12, 1, 0, 0, 20, 0x80, 14, 0, 128,
        0, 0, 0, 8, 5, 0, 0, 0,
    ];
    assert_eq!(b, want);
    // Under UDP encapsulation only the ESP proposal is offered, as number 1.
    let props = child_offer(&cfg, &[Protocol::Esp], 7, false);
    assert_eq!(props.len(), 1);
    assert_eq!((props[0].num, props[0].protocol.0), (1, 3));
    assert!(child_offer(
        &ChildConfig {
            esp_proposals: vec![],
            ..cfg
        },
        &[Protocol::Esp],
        7,
        false
    )
    .is_empty());
}

#[test]
fn ah_keymat_is_integrity_keys_initiator_first() {
    let (ni, nr) = ([3u8; 32], [4u8; 32]);
    for exchange_initiator in [true, false] {
        let sa = ike_sa(exchange_initiator);
        let sk_d = sa.keys.as_ref().unwrap().sk_d.clone();
        let prf = Prf::new(PrfId::HmacSha2_256).unwrap();
        for (integ, len) in [
            (IntegId::HmacSha2_256_128, 32),
            (IntegId::HmacSha2_512_256, 64),
            (IntegId::HmacSha1_96, 20),
        ] {
            for g_ir in [None, Some(&b"new g^ir"[..])] {
                let (inb, outb) = Engine::child_keys(
                    &sa,
                    &ah_suite(integ),
                    g_ir,
                    &ni,
                    &nr,
                    exchange_initiator,
                    0x1000,
                    0x2000,
                )
                .unwrap();
                let seed = [g_ir.unwrap_or_default(), &ni[..], &nr[..]].concat();
                let km = prf_plus_by_hand(prf, sk_d.as_slice(), &seed, 2 * len);
                let (i_to_r, r_to_i) = km.split_at(len);
                let (want_in, want_out) = if exchange_initiator {
                    (r_to_i, i_to_r)
                } else {
                    (i_to_r, r_to_i)
                };
                assert_eq!(inb.integ_key.as_slice(), want_in, "{integ:?}");
                assert_eq!(outb.integ_key.as_slice(), want_out, "{integ:?}");
                assert!(inb.encr_key.is_empty() && outb.encr_key.is_empty());
                assert_eq!((inb.spi, outb.spi), (0x1000, 0x2000));
            }
        }
    }
}

#[test]
fn esp_keymat_keeps_encryption_then_integrity_per_direction() {
    // The contrast with AH: aes128-sha256 takes ei | ai | er | ar.
    let sa = ike_sa(true);
    let sk_d = sa.keys.as_ref().unwrap().sk_d.clone();
    let suite = Suite {
        protocol: Protocol::Esp,
        encr: EncrAlg::new(EncrId::AesCbc, Some(128)),
        prf: None,
        integ: Some(IntegId::HmacSha2_256_128),
        ke: None,
        esn: Some(EsnId::NoEsn),
    };
    let (ni, nr) = ([5u8; 32], [6u8; 32]);
    let (inb, outb) = Engine::child_keys(&sa, &suite, None, &ni, &nr, true, 1, 2).unwrap();
    let prf = Prf::new(PrfId::HmacSha2_256).unwrap();
    let km = prf_plus_by_hand(prf, sk_d.as_slice(), &[&ni[..], &nr[..]].concat(), 96);
    assert_eq!(outb.encr_key.as_slice(), &km[..16]);
    assert_eq!(outb.integ_key.as_slice(), &km[16..48]);
    assert_eq!(inb.encr_key.as_slice(), &km[48..64]);
    assert_eq!(inb.integ_key.as_slice(), &km[64..]);
}

#[test]
fn ah_without_integrity_has_no_keys() {
    let sa = ike_sa(true);
    let suite = Suite {
        integ: None,
        ..ah_suite(IntegId::HmacSha2_256_128)
    };
    assert!(Engine::child_keys(&sa, &suite, None, &[1; 32], &[2; 32], true, 1, 2).is_none());
}

fn ts(s: &str) -> wire::TrafficSelector {
    s.parse().unwrap()
}

/// rw at 198.51.100.100 behind a NAT whose public address is 192.0.2.254: gw's view.
fn gw_behind_nat_view(mode: crate::config::Mode) -> (IkeSa, ChildConfig) {
    let mut sa = IkeSa::new(
        IkeSaId(1),
        Arc::new(IkeConfig::default()),
        false,
        1,
        2,
        "192.0.2.1:4500".parse().unwrap(),
        "192.0.2.254:4500".parse().unwrap(),
        Instant::now(),
    );
    sa.nat.remote = true;
    let cfg = ChildConfig {
        mode,
        local_ts: vec![crate::config::TsConfig::Dynamic],
        remote_ts: vec![crate::config::TsConfig::Dynamic],
        ..ChildConfig::default()
    };
    (sa, cfg)
}

#[test]
fn nat_address_replaces_ranges_of_its_family_keeping_protocol_and_ports() {
    let a: std::net::IpAddr = "192.0.2.254".parse().unwrap();
    let got = super::with_address(
        &[
            ts("198.51.100.100/32"),
            ts("10.0.0.0/8"),
            ts("2001:db8::/32"),
            ts("198.51.100.0/24").with_proto_ports(6, 80, 80).unwrap(),
        ],
        a,
    );
    assert_eq!(
        got,
        [
            ts("192.0.2.254/32"),
            ts("2001:db8::/32"),
            ts("192.0.2.254/32").with_proto_ports(6, 80, 80).unwrap(),
        ]
    );
}

#[test]
fn transport_responder_narrows_the_peers_private_address_to_its_public_one() {
    use crate::config::Mode;
    // RFC 7296 §2.23.1: TSi carries rw's private address; gw uses the one it sees.
    let (sa, cfg) = gw_behind_nat_view(Mode::Transport);
    let (ni, nr) = Engine::narrow_for(&sa, &cfg, &[ts("198.51.100.100/32")], &[ts("192.0.2.1/32")])
        .expect("narrowed");
    assert_eq!(
        (ni, nr),
        (vec![ts("192.0.2.254/32")], vec![ts("192.0.2.1/32")])
    );
    // Tunnel mode selectors are never rewritten: the inner addresses are the peer's own.
    let (sa, cfg) = gw_behind_nat_view(Mode::Tunnel);
    assert!(
        Engine::narrow_for(&sa, &cfg, &[ts("198.51.100.100/32")], &[ts("192.0.2.1/32")]).is_none()
    );
    // Without a NAT nothing is rewritten either.
    let (mut sa, cfg) = gw_behind_nat_view(Mode::Transport);
    sa.nat.remote = false;
    let (peer, ours) = super::seen_ts(&sa, &cfg, &[ts("198.51.100.100/32")], &[ts("192.0.2.9/32")]);
    assert_eq!(
        (peer, ours),
        (vec![ts("198.51.100.100/32")], vec![ts("192.0.2.9/32")])
    );
}

#[test]
fn transport_side_behind_nat_maps_its_public_address_back_to_its_own() {
    // rw's view of gw's answer (or of gw's rekey proposal): its public address becomes its
    // own address, gw's stays.
    let mut sa = IkeSa::new(
        IkeSaId(1),
        Arc::new(IkeConfig::default()),
        true,
        1,
        2,
        "198.51.100.100:4500".parse().unwrap(),
        "192.0.2.1:4500".parse().unwrap(),
        Instant::now(),
    );
    sa.nat.local = true;
    let cfg = ChildConfig {
        mode: crate::config::Mode::Transport,
        ..ChildConfig::default()
    };
    let (peer, ours) = super::seen_ts(&sa, &cfg, &[ts("192.0.2.1/32")], &[ts("192.0.2.254/32")]);
    assert_eq!(
        (peer, ours),
        (vec![ts("192.0.2.1/32")], vec![ts("198.51.100.100/32")])
    );
}
