//! AH known-answer vectors from an independent implementation: scapy's
//! `SecurityAssociation(AH, ...)` (vectors/ah_scapy.py, HMAC-SHA2-256-128), which zeroes the
//! mutable fields itself (RFC 4302 §3.3.3). Our data plane seals the same input to the same
//! bytes (IPv4 and IPv6 transport, IPv4 tunnel, IPv6 tunnel with ESN) and opens every scapy
//! packet, including IPv4 options (Router Alert kept, Record Route zeroed, Appendix A.1) and
//! IPv6 Hop-by-Hop / Destination Options headers (the "may change" bit, Appendix A.2).
//!
//! Where scapy and RFC 4302 could differ, neither vector goes there: scapy matches IPv4
//! options by their 5-bit number alone (copy and class bits ignored) where Appendix A.1 lists
//! whole option types; the options used here (148, 7) are classified the same by both.

mod common;

use common::ts;
use crypto::{EncrAlg, EncrId, IntegId, Random, SecretBytes};
use esp::TunnelOptions;
use esp::{ChildSaConfig, DataPlane, DropReason, Lifetime, Mode, SaKeys, SecurityProtocol};

/// V4_TRANSPORT
const V4_TRANSPORT_INNER: &str = "4500003c424200004011b409c0000201c00002640fa0003500287a62000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const V4_TRANSPORT_AH: &str = "45000058424200004033b3cbc0000201c0000264110500000a0b0c0d000000010c7ad4eb64292e090296d72adfc33eb10fa0003500287a62000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// V6_TRANSPORT
const V6_TRANSPORT_INNER: &str = "6000000000203a4020010db800010000000000000000000120010db800010000000000000000010080009e9c00010002000102030405060708090a0b0c0d0e0f1011121314151617";
const V6_TRANSPORT_AH: &str = "600000000040334020010db800010000000000000000000120010db80001000000000000000001003a0600000a0b0c0d000000012aa62d08ce8362370dd87d128f0a5f5e0000000080009e9c00010002000102030405060708090a0b0c0d0e0f1011121314151617";
/// V4_TUNNEL
const V4_TUNNEL_INNER: &str =
    "4500002c0007000040011478cb00710ac63364140800bfbd00010001000102030405060708090a0b0c0d0e0f";
const V4_TUNNEL_AH: &str = "4500005c123400004033e3d5c0000201c0000264040500000a0b0c0d0000000187c8c4d1bf898756e39c64fcac4840bb4500002c0007000040011478cb00710ac63364140800bfbd00010001000102030405060708090a0b0c0d0e0f";
/// V6_TUNNEL_ESN
const V6_TUNNEL_ESN_INNER: &str = "6000000000103a4020010db800020000000000000000001020010db8001000000000000000000020800017ea000300040001020304050607";
const V6_TUNNEL_ESN_AH: &str = "600000000058334020010db800010000000000000000000120010db8000100000000000000000100290600000a0b0c0d00000001f6e0bea7e4288dfa4893a92a9b0ccbe2000000006000000000103a4020010db800020000000000000000001020010db8001000000000000000000020800017ea000300040001020304050607";
/// V4_OPTIONS
const V4_OPTIONS_INNER: &str = "4810002f0099000011114be2c0000201c000026494040000070708c0000232000fa00035000fa54c6f7074696f6e73";
const V4_OPTIONS_AH: &str = "4810004b0099000011334ba4c0000201c000026494040000070708c000023200110500000a0b0c0d00000005489e86d769d711bb70c77dbe20cecf620fa00035000fa54c6f7074696f6e73";
/// V6_EXT_HEADERS
const V6_EXT_HEADERS_INNER: &str = "620123450023000920010db800010000000000000000000120010db80001000000000000000001003c000502000001003a003e03070707008000a75c000500066578742068656164657273";
const V6_EXT_HEADERS_AH: &str = "620123450043000920010db800010000000000000000000120010db80001000000000000000001003c0005020000010033003e03070707003a0600000a0b0c0d00000006fe66f69cb5df9980e67064d85748c6f3000000008000a75c000500066578742068656164657273";

const SPI: u32 = 0x0a0b_0c0d;

/// Draws `12 34`, then zeros: the outer IPv4 Identification of the first packet is 0x1234,
/// as in the scapy tunnel vector.
struct IdSeed;
impl Random for IdSeed {
    fn fill(&mut self, buf: &mut [u8]) {
        for (b, v) in buf
            .iter_mut()
            .zip([0x12, 0x34].into_iter().chain(std::iter::repeat(0)))
        {
            *b = v;
        }
    }
}

fn keys(spi: u32) -> SaKeys {
    SaKeys {
        spi,
        encr: EncrAlg {
            id: EncrId::Null,
            key_bits: None,
        },
        integ: Some(IntegId::HmacSha2_256_128),
        encr_key: SecretBytes::default(),
        integ_key: SecretBytes::new((1..=32).collect()),
    }
}

/// The child of A (the sender, `a_side`) or B: the vectors' SA goes A → B with SPI `SPI`.
fn child(a_side: bool, v6: bool, mode: Mode, esn: bool) -> ChildSaConfig {
    let (a, b) = if v6 {
        ("[2001:db8:1::1]:0", "[2001:db8:1::100]:0")
    } else {
        ("192.0.2.1:0", "192.0.2.100:0")
    };
    let (a_ts, b_ts) = match (mode, v6) {
        (Mode::Transport, false) => ("192.0.2.1/32", "192.0.2.100/32"),
        (Mode::Transport, true) => ("2001:db8:1::1/128", "2001:db8:1::100/128"),
        (Mode::Tunnel, false) => ("203.0.113.0/24", "198.51.100.0/24"),
        (Mode::Tunnel, true) => ("2001:db8:2::/64", "2001:db8:10::/64"),
    };
    let (local, remote, lts, rts) = if a_side {
        (a, b, a_ts, b_ts)
    } else {
        (b, a, b_ts, a_ts)
    };
    let (inbound, outbound) = if a_side {
        (keys(0x1111), keys(SPI))
    } else {
        (keys(SPI), keys(0x1111))
    };
    ChildSaConfig {
        id: 1,
        mode,
        protocol: SecurityProtocol::Ah,
        local_ts: vec![ts(lts)],
        remote_ts: vec![ts(rts)],
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        encap: false,
        inbound,
        outbound,
        replay_window: 64,
        esn,
        lifetime: Lifetime::default(),
        options: TunnelOptions::default(),
    }
}

fn receiver(v6: bool, mode: Mode, esn: bool) -> DataPlane {
    let b = DataPlane::new();
    b.install_child(child(false, v6, mode, esn)).unwrap();
    b
}

/// (name, inner, scapy's AH packet, IPv6, mode, ESN)
const SEALED: [(&str, &str, &str, bool, Mode, bool); 4] = [
    (
        "v4 transport",
        V4_TRANSPORT_INNER,
        V4_TRANSPORT_AH,
        false,
        Mode::Transport,
        false,
    ),
    (
        "v6 transport",
        V6_TRANSPORT_INNER,
        V6_TRANSPORT_AH,
        true,
        Mode::Transport,
        false,
    ),
    (
        "v4 tunnel",
        V4_TUNNEL_INNER,
        V4_TUNNEL_AH,
        false,
        Mode::Tunnel,
        false,
    ),
    (
        "v6 tunnel esn",
        V6_TUNNEL_ESN_INNER,
        V6_TUNNEL_ESN_AH,
        true,
        Mode::Tunnel,
        true,
    ),
];

#[test]
fn we_seal_what_scapy_seals() {
    for (name, inner, sealed, v6, mode, esn) in SEALED {
        let a = DataPlane::with_rng(Box::new(IdSeed));
        a.install_child(child(true, v6, mode, esn)).unwrap();
        let mut out = Vec::new();
        a.encapsulate(&hex::decode(inner).unwrap(), &mut out)
            .unwrap();
        assert_eq!(hex::encode(&out), sealed, "{name}");
    }
}

#[test]
fn we_open_what_scapy_seals() {
    for (name, inner, sealed, v6, mode, esn) in SEALED {
        let b = receiver(v6, mode, esn);
        let mut out = Vec::new();
        let r = b.decapsulate_ah(&hex::decode(sealed).unwrap(), &mut out);
        assert_eq!(r.map(|r| r.seq), Ok(1), "{name}");
        // Tunnel: the inner packet; transport: the packet as it was before AH.
        assert_eq!(hex::encode(&out), inner, "{name}");
        // Without ESN, or with it where the peer has none, the same bytes fail.
        let b = receiver(v6, mode, !esn);
        assert_eq!(
            b.decapsulate_ah(&hex::decode(sealed).unwrap(), &mut out),
            Err(DropReason::IcvFailure),
            "{name}"
        );
    }
}

/// Opens `packet` on a fresh receiver for transport mode.
fn open(v6: bool, packet: &[u8]) -> Result<Vec<u8>, DropReason> {
    let b = receiver(v6, Mode::Transport, false);
    let mut out = Vec::new();
    b.decapsulate_ah(packet, &mut out).map(|_| out)
}

/// Sets the IPv4 header checksum of `p` (IHL from the packet).
fn fix_checksum(p: &mut [u8]) {
    let hl = usize::from(p[0] & 0x0f) * 4;
    p[10..12].copy_from_slice(&[0, 0]);
    let c = wire::ip::checksum(&p[..hl]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn ipv4_options_router_alert_kept_record_route_zeroed() {
    let sealed = hex::decode(V4_OPTIONS_AH).unwrap();
    let out = open(false, &sealed).unwrap();
    // The packet back with its options, TOS 0x10 and TTL 17, as received.
    assert_eq!(hex::encode(&out), V4_OPTIONS_INNER);
    // Record Route (bytes 24..31) filled in by a router, TTL and TOS changed: still valid.
    let mut p = sealed.clone();
    p[26] = 12;
    p[30] ^= 0x01;
    p[8] = 3;
    p[1] = 0x28;
    fix_checksum(&mut p);
    let out = open(false, &p).unwrap();
    assert_eq!(&out[24..32], &p[24..32]);
    // Router Alert's value (bytes 22..24) is covered.
    let mut p = sealed.clone();
    p[23] = 1;
    fix_checksum(&mut p);
    assert_eq!(open(false, &p), Err(DropReason::IcvFailure));
    // A loose source route instead of Record Route: not implemented, refused.
    let mut p = sealed.clone();
    p[24] = 131;
    fix_checksum(&mut p);
    assert_eq!(open(false, &p), Err(DropReason::Malformed));
}

#[test]
fn ipv6_extension_headers_may_change_bit() {
    let sealed = hex::decode(V6_EXT_HEADERS_AH).unwrap();
    let out = open(true, &sealed).unwrap();
    // AH taken out: Destination Options' Next Header is ICMPv6 again, Payload Length 35.
    assert_eq!(hex::encode(&out), V6_EXT_HEADERS_INNER);
    // Option 0x3e's data (bytes 52..55), hop limit, flow label: mutable.
    let mut p = sealed.clone();
    p[52..55].copy_from_slice(&[1, 2, 3]);
    p[7] = 1;
    p[3] = 0;
    assert!(open(true, &p).is_ok());
    // Router Alert's value (bytes 44..46) is not.
    let mut p = sealed.clone();
    p[45] = 2;
    assert_eq!(open(true, &p), Err(DropReason::IcvFailure));
}
