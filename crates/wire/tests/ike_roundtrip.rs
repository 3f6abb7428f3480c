//! Parse ⇄ emit round trips for IKEv2 messages and payloads, and no panic on arbitrary input.

use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wire::ike::*;
use wire::{Identity, TrafficSelector};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn transform() -> impl Strategy<Value = Transform> {
    (1u8..=5, any::<u16>(), prop::option::of(any::<u16>())).prop_map(|(t, id, kl)| {
        let tr = Transform::new(t, id);
        match kl {
            Some(k) => tr.with_key_length(k),
            None => tr,
        }
    })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (
        1u8..10,
        prop_oneof![Just(1u8), Just(3u8)],
        prop_oneof![
            Just(vec![]),
            bytes(5).prop_map(|_| vec![1, 2, 3, 4]),
            Just(vec![9; 8])
        ],
        prop::collection::vec(transform(), 0..6),
    )
        .prop_map(|(num, p, spi, transforms)| Proposal {
            num,
            protocol: ProtocolId(p),
            spi,
            transforms,
        })
}

fn identity() -> impl Strategy<Value = Identity> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| Identity::Ipv4(Ipv4Addr::from(a))),
        any::<[u8; 16]>().prop_map(|a| Identity::Ipv6(Ipv6Addr::from(a))),
        "[a-z][a-z0-9.-]{0,20}".prop_map(Identity::Fqdn),
        "[a-z]{1,8}@[a-z]{1,8}\\.org".prop_map(Identity::Rfc822),
        bytes(20)
            .prop_filter("non-empty", |b| !b.is_empty())
            .prop_map(Identity::KeyId),
    ]
}

fn selector() -> impl Strategy<Value = TrafficSelector> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            any::<u8>(),
            any::<u16>(),
            any::<u16>()
        )
            .prop_map(|(a, b, p, x, y)| {
                TrafficSelector::new(
                    p,
                    x.min(y),
                    x.max(y),
                    IpAddr::V4(Ipv4Addr::from(a.min(b))),
                    IpAddr::V4(Ipv4Addr::from(a.max(b))),
                )
                .unwrap()
            }),
        (any::<u128>(), any::<u128>()).prop_map(|(a, b)| {
            TrafficSelector::from_range(
                IpAddr::V6(Ipv6Addr::from(a.min(b))),
                IpAddr::V6(Ipv6Addr::from(a.max(b))),
            )
            .unwrap()
        }),
    ]
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        prop::collection::vec(proposal(), 1..4).prop_map(Payload::Sa),
        (any::<u16>(), bytes(64)).prop_map(|(group, data)| Payload::Ke(KePayload { group, data })),
        identity().prop_map(Payload::IdI),
        identity().prop_map(Payload::IdR),
        (any::<u8>(), bytes(40)).prop_map(|(encoding, data)| Payload::CertReq { encoding, data }),
        (any::<u8>(), bytes(40))
            .prop_map(|(method, data)| Payload::Auth(AuthPayload { method, data })),
        bytes(64).prop_map(Payload::Nonce),
        (
            any::<u8>(),
            prop_oneof![Just(vec![]), Just(vec![1, 2, 3, 4])],
            any::<u16>(),
            bytes(30)
        )
            .prop_map(|(p, spi, t, data)| Payload::Notify(Notify {
                protocol: ProtocolId(p),
                spi,
                notify_type: t,
                data
            })),
        prop::collection::vec(any::<[u8; 4]>(), 0..5).prop_map(|s| Payload::Delete(
            DeletePayload {
                protocol: ProtocolId(3),
                spi_size: 4,
                spis: s.into_iter().map(|x| x.to_vec()).collect()
            }
        )),
        Just(Payload::Delete(DeletePayload {
            protocol: ProtocolId(1),
            spi_size: 0,
            spis: vec![]
        })),
        bytes(30).prop_map(Payload::VendorId),
        (1u8..=2, any::<u8>(), any::<u8>(), bytes(40)).prop_map(|(code, identifier, m, data)| {
            Payload::Eap(EapPacket {
                code,
                identifier,
                method: Some(m),
                data,
            })
        }),
        (3u8..=4, any::<u8>()).prop_map(|(code, identifier)| {
            Payload::Eap(EapPacket {
                code,
                identifier,
                method: None,
                data: vec![],
            })
        }),
        (
            1u8..=4,
            prop::collection::vec((0u16..0x8000, bytes(20)), 0..5)
        )
            .prop_map(|(t, a)| {
                Payload::Cp(CpPayload {
                    cfg_type: t,
                    attributes: a
                        .into_iter()
                        .map(|(attr_type, value)| CpAttribute { attr_type, value })
                        .collect(),
                })
            }),
        prop::collection::vec(selector(), 0..4)
            .prop_map(|selectors| Payload::TsI(TsPayload { selectors })),
        prop::collection::vec(selector(), 0..4)
            .prop_map(|selectors| Payload::TsR(TsPayload { selectors })),
        (100u8..=127, bytes(30)).prop_map(|(t, body)| {
            Payload::Raw {
                payload_type: t,
                critical: false,
                body,
            }
        }),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (
        any::<u64>(),
        any::<u64>(),
        34u8..=37,
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(spi_i, spi_r, ex, flags, message_id)| Header {
            spi_i,
            spi_r,
            next_payload: 0,
            version: IKE_VERSION_2,
            exchange: ExchangeType::from_u8(ex),
            flags: Flags(flags & 0x38),
            message_id,
            length: 0,
        })
}

proptest! {
    #[test]
    fn message_round_trip(h in header(), payloads in prop::collection::vec(payload(), 0..8)) {
        let bytes = Message::emit(&h, &payloads).unwrap();
        let m = Message::parse(&bytes).unwrap();
        prop_assert_eq!(&m.payloads, &payloads);
        prop_assert_eq!(m.header.spi_i, h.spi_i);
        prop_assert_eq!(m.header.message_id, h.message_id);
        prop_assert_eq!(m.header.length as usize, bytes.len());
        prop_assert!(m.sk.is_none());
        // Emitting the parsed form gives the same bytes.
        prop_assert_eq!(Message::emit(&m.header, &m.payloads).unwrap(), bytes);
    }

    #[test]
    fn sk_layout_round_trip(h in header(), payloads in prop::collection::vec(payload(), 0..6),
                            iv_len in prop_oneof![Just(8usize), Just(16)],
                            block in prop_oneof![Just(1usize), Just(16)],
                            icv_len in prop_oneof![Just(12usize), Just(16)]) {
        let (bytes, layout) = encode_sk_message(&h, &payloads, iv_len, block, icv_len).unwrap();
        let m = Message::parse(&bytes).unwrap();
        let sk = m.sk.clone().unwrap();
        prop_assert_eq!(sk.aad_end(), layout.aad_end);
        let r = sk.split(iv_len, icv_len, block).unwrap();
        prop_assert_eq!(r.iv, layout.iv.clone());
        prop_assert_eq!(r.ciphertext.clone(), layout.plaintext.clone());
        prop_assert_eq!(r.icv, layout.icv.clone());
        let inner = strip_sk_padding(&bytes[r.ciphertext]).unwrap();
        prop_assert_eq!(parse_payload_chain(sk.first_inner, inner).unwrap(), payloads);
    }

    #[test]
    fn skf_layout_round_trip(h in header(), chunk in bytes(300), total in 1u16..10, first in any::<u8>(),
                             iv_len in prop_oneof![Just(8usize), Just(16)],
                             block in prop_oneof![Just(1usize), Just(16)],
                             icv_len in prop_oneof![Just(12usize), Just(16)]) {
        let num = total;
        let (bytes, layout) = encode_skf_message(&h, first, num, total, &chunk, iv_len, block, icv_len).unwrap();
        let m = Message::parse(&bytes).unwrap();
        let sk = m.sk.clone().unwrap();
        prop_assert_eq!(sk.fragment, Some((num, total)));
        prop_assert_eq!(sk.first_inner, first);
        prop_assert_eq!(sk.aad_end(), layout.aad_end);
        let r = sk.split(iv_len, icv_len, block).unwrap();
        prop_assert_eq!(r.ciphertext.clone(), layout.plaintext.clone());
        prop_assert_eq!(strip_sk_padding(&bytes[r.ciphertext]).unwrap(), &chunk[..]);
    }

    #[test]
    fn parse_never_panics(data in bytes(600)) {
        let _ = Message::parse(&data);
        let _ = parse_payload_chain(33, &data);
        let _ = Proposal::parse_all(&data);
    }

    #[test]
    fn parse_never_panics_with_valid_header(h in header(), first in any::<u8>(), body in bytes(400)) {
        let mut buf = Vec::new();
        let mut h = h;
        h.next_payload = first;
        h.length = (28 + body.len()) as u32;
        h.emit(&mut buf);
        buf.extend_from_slice(&body);
        let _ = Message::parse(&buf);
    }
}

#[test]
fn unknown_critical_payload_is_reported() {
    let h = Header {
        spi_i: 1,
        spi_r: 0,
        next_payload: 0,
        version: IKE_VERSION_2,
        exchange: ExchangeType::IkeSaInit,
        flags: Flags::new(true, false),
        message_id: 0,
        length: 0,
    };
    let p = Payload::Raw {
        payload_type: 200,
        critical: true,
        body: vec![1, 2],
    };
    let bytes = Message::emit(&h, &[p]).unwrap();
    assert_eq!(
        Message::parse(&bytes),
        Err(wire::WireError::UnsupportedCriticalPayload(200))
    );
    // Not critical: skipped (kept raw).
    let p = Payload::Raw {
        payload_type: 200,
        critical: false,
        body: vec![1, 2],
    };
    let bytes = Message::emit(&h, std::slice::from_ref(&p)).unwrap();
    assert_eq!(Message::parse(&bytes).unwrap().payloads, vec![p]);
}

#[test]
fn header_checks() {
    let h = Header {
        spi_i: 1,
        spi_r: 2,
        next_payload: 0,
        version: IKE_VERSION_2,
        exchange: ExchangeType::Informational,
        flags: Flags::new(false, true),
        message_id: 7,
        length: 0,
    };
    let mut bytes = Message::emit(&h, &[]).unwrap();
    assert_eq!(bytes.len(), HEADER_LEN);
    assert!(Message::parse(&bytes).is_ok());
    bytes.push(0);
    assert_eq!(
        Message::parse(&bytes),
        Err(wire::WireError::BadLength("IKE header"))
    );
    bytes.pop();
    bytes[17] = 0x30;
    assert_eq!(
        Message::parse(&bytes),
        Err(wire::WireError::UnsupportedVersion)
    );
}
