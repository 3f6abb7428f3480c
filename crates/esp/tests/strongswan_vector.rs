//! Packets captured from strongSwan 5.9.8 (charon with kernel-libipsec, ESP-in-UDP) talking to
//! strongSwan, with the Child SA keys charon logged at `chd = 4`. Our `decapsulate` must open
//! them. Captured by `vectors/capture-strongswan.sh` (pcaps beside it): carol (initiator,
//! 198.51.100.10 + 2001:db8:10::10) pings moon (203.0.113.10 + 2001:db8:2::10) over IPv4 and
//! IPv6, 192.0.2.100:4500 <-> 192.0.2.1:4500. The hex strings are the UDP payloads of frames
//! 3, 4, 7 and 8. Note that strongSwan's AES-GCM IVs are not the sequence number: the receiver
//! must take the IV from the packet.

use std::net::SocketAddr;

use crypto::{EncrAlg, EncrId, IntegId, SecretBytes};
use esp::{ChildSaConfig, DataPlane, Lifetime, Mode, SaKeys, TunnelOptions};
use wire::ip::{selector_fields, Ipv4Packet, Layer4};

struct Capture {
    encr: EncrAlg,
    integ: Option<IntegId>,
    /// Initiator (carol) -> responder (moon): encryption key (| salt) and integrity key.
    keys_i: (&'static str, &'static str),
    keys_r: (&'static str, &'static str),
    /// carol's outbound SPI = moon's inbound SPI, and the reverse.
    spi_i_to_r: u32,
    spi_r_to_i: u32,
    /// v4 request (carol->moon), v4 reply, v6 request, v6 reply.
    packets: [&'static str; 4],
}

const GCM: Capture = Capture {
    encr: EncrAlg {
        id: EncrId::AesGcm16,
        key_bits: Some(256),
    },
    integ: None,
    keys_i: (
        "ed8fa27a6b7dc30e1bf7e4ca64b4f046410ec5a22bef3d717d12707d362dc3ca56cea554",
        "",
    ),
    keys_r: (
        "281573c1336b6648264064d960a9ddfd4ce44976ec598aaea19cff2eba5fc7ad64ce4462",
        "",
    ),
    spi_i_to_r: 0x6f9f_749a,
    spi_r_to_i: 0x226f_6ee8,
    packets: [
        "6f9f749a0000000177b6fe54991a5286e5e64c788451823f1f4ba6550d6a52c20877f245df9bc92b575c6e8170a7721a9840bf1f3c9891c23b83c4135ea2aa29a622bfe7d8b3e9ad74f0370b43e3c175d98134024b88371646c34ee942be9a23e2d049763679cc7f09fbb017a12672eabceeb5bee7227b58",
        "226f6ee800000001954bd071d772a93393dae8fae27896ca0bc9b2be03fbb89929b51f90217dd1b9ea86d5c776f2914ef92d4485010fed818e8d0b1f2f4835217da1dbdb781956e28e3c262a97e984f2b7e139b75a2c7e6aa9765165b7e64ae811f1b5eff77d1a2f2cb62fe6a64bddcdb000a3ff8d54974e",
        "6f9f749a0000000377b6fe54991a528405542672de388c49eedc0983845b1238c19905eaeb8d52b1876898235ad2e7a678294e13a179241f546d49ebfee576b5d2b8a584571a517c5fdf310ada24b257a36d403529e908006ea4cf6acbf805d99c54a3220d9285ac96d8d4b97879f2e0c39256b208570e26095d07f7d08948975971aa10aafc67514372fb09",
        "226f6ee800000003954bd071d772a931e1a01f097a8d7674d9b96e2a6782f2e716d2da7114c73dd1abd5b6f740be2c28c8f4e3a4965a21d0baf104326a9946035c3816336bb4a2c9adb93f4459721174023bcb65c6d0cb2264e0e86ea123bb8e530063a5bd8811a79ad2aeda8747fc388b91fb2000a4a81c3f974ead14717102d261a26946fb2d1772363491",
    ],
};

const CBC: Capture = Capture {
    encr: EncrAlg {
        id: EncrId::AesCbc,
        key_bits: Some(128),
    },
    integ: Some(IntegId::HmacSha2_256_128),
    keys_i: (
        "f2a9521b13f34a878c1352909c297f57",
        "9d7b1f26539ed5c59081a63369759e3bf184cc0e282bd7ac01a939fc723efdb4",
    ),
    keys_r: (
        "2c7dec0c24bd1d7826f7af13505ab92c",
        "1db72bffe1fda57a5c594ae326c9f4005026b064f86b1751bfb570166558de87",
    ),
    spi_i_to_r: 0xc4e0_c1dc,
    spi_r_to_i: 0xc212_381a,
    packets: [
        "c4e0c1dc00000001de278f49097ddf88b43e20b7ec688ebd2d73c7b435829fd16580f5390dde7809146c0af6ab69202ed149f314965679075f74ec5267a13aa77dc86f4dde90aafc17c903228d63516ddb03f6683582a36956f4266f2b4b7653a9a032c384a07c65b8cdadfeba84b7fa32f296a54a5dadb9389c8836a308c028b4ac2fcfc18064dc",
        "c212381a00000001ecd8c82457c962d996acfc9573080126a8bc7bd3934259d7474d2ad56dc1c76587868f146d84b7efb497ce2b3e8e24aa69f14608fde599aee25a1dfff487e2d90a602faf6ee34a1b93aac3cba89a7635cbc073603ebb0eae35e1504e65b1164a51b9b68986f57689bef64931116ac552f1cf8eb9b88949c18117855793731660",
        "c4e0c1dc00000003a5b99b0453a07e24f591da50fbfe5cd4873386fbdbb8ae59f51b9d898bf9c6e6e4cf9ededfd1c0c07189393129b39b68ef0cf883c1d08dafb19b585adf5250f9f4f74ac22085763d06cfc825d937b3064d48566a0c2e77f52b47fd33aa3cbf71b7ac3a555836a3ac3caf476a281ca20b3b12cd997b51e5e3fba680e49a283cbe3914a4ab183354793c763ed908e6bd3b",
        "c212381a000000038a4e8faa3cdc2b0409862723f2432707c100b51a55f8c662086934ca859aa03ff93e5cfbcfdeff5bfbf748ca779b5d0e12d36929b186bd1c55c2c9cf9a76b54cb441afc0ace3da9685423115d10d9ec4f390063efc4571e8ad81b7dc6ca30853efa72b09b828971f88964e5823669d30b2be92b0785769a025936543bbcaf2032a305f4b020d81d3beef061ff8b0a781",
    ],
};

const MOON: &str = "192.0.2.1:4500";
const CAROL: &str = "192.0.2.100:4500";

fn sa(c: &Capture, spi: u32, keys: (&str, &str)) -> SaKeys {
    SaKeys {
        spi,
        encr: c.encr,
        integ: c.integ,
        encr_key: SecretBytes::new(hex::decode(keys.0).unwrap()),
        integ_key: SecretBytes::new(hex::decode(keys.1).unwrap()),
    }
}

/// A data plane playing moon (`as_moon`) or carol, with the selectors both agreed on.
fn peer(c: &Capture, as_moon: bool) -> DataPlane {
    let moon_ts = vec![
        "203.0.113.10/32".parse().unwrap(),
        "2001:db8:2::10/128".parse().unwrap(),
    ];
    let carol_ts = vec![
        "198.51.100.10/32".parse().unwrap(),
        "2001:db8:10::10/128".parse().unwrap(),
    ];
    let i_to_r = sa(c, c.spi_i_to_r, c.keys_i);
    let r_to_i = sa(c, c.spi_r_to_i, c.keys_r);
    let cfg = if as_moon {
        ChildSaConfig {
            id: 1,
            mode: Mode::Tunnel,
            protocol: esp::SecurityProtocol::Esp,
            local_ts: moon_ts,
            remote_ts: carol_ts,
            local: MOON.parse().unwrap(),
            remote: CAROL.parse().unwrap(),
            encap: true,
            inbound: i_to_r,
            outbound: r_to_i,
            replay_window: 64,
            esn: false,
            lifetime: Lifetime::default(),
            options: TunnelOptions::default(),
        }
    } else {
        ChildSaConfig {
            id: 2,
            mode: Mode::Tunnel,
            protocol: esp::SecurityProtocol::Esp,
            local_ts: carol_ts,
            remote_ts: moon_ts,
            local: CAROL.parse().unwrap(),
            remote: MOON.parse().unwrap(),
            encap: true,
            inbound: r_to_i,
            outbound: i_to_r,
            replay_window: 64,
            esn: false,
            lifetime: Lifetime::default(),
            options: TunnelOptions::default(),
        }
    };
    let d = DataPlane::new();
    d.install_child(cfg).unwrap();
    d
}

fn open_all(c: &Capture) {
    let moon = peer(c, true);
    let carol = peer(c, false);
    let mut out = Vec::new();
    let carol_addr: SocketAddr = CAROL.parse().unwrap();
    let moon_addr: SocketAddr = MOON.parse().unwrap();
    // (receiver is moon, expected src, dst, ICMP type, inner length, seq)
    let expect = [
        (true, "198.51.100.10", "203.0.113.10", 8u8, 84usize, 1u32),
        (false, "203.0.113.10", "198.51.100.10", 0, 84, 1),
        (true, "2001:db8:10::10", "2001:db8:2::10", 128, 104, 3),
        (false, "2001:db8:2::10", "2001:db8:10::10", 129, 104, 3),
    ];
    for (pkt, (to_moon, src, dst, icmp_type, len, seq)) in c.packets.iter().zip(expect) {
        let bytes = hex::decode(pkt).unwrap();
        let inb = if to_moon {
            moon.decapsulate(&bytes, carol_addr, &mut out)
        } else {
            carol.decapsulate(&bytes, moon_addr, &mut out)
        }
        .unwrap_or_else(|r| panic!("{:?}: strongSwan packet to {dst} dropped: {r}", c.encr));
        assert_eq!((inb.len, inb.seq), (len, u64::from(seq)));
        assert!(!inb.remote_changed);
        let f = selector_fields(&out).unwrap();
        assert_eq!(f.src, src.parse::<std::net::IpAddr>().unwrap());
        assert_eq!(f.dst, dst.parse::<std::net::IpAddr>().unwrap());
        assert!(matches!(f.l4, Layer4::Icmp { icmp_type: t, code: 0 } if t == icmp_type));
        if f.src.is_ipv4() {
            assert!(Ipv4Packet::new_checked(&out[..]).unwrap().verify_checksum());
        }
        // ping's 56-byte payload: a timestamp, then the pattern 0x10, 0x11, ... ending in 0x37.
        assert_eq!(out[len - 1], 0x37);
    }
    assert_eq!(moon.child_stats(1).unwrap().packets_in, 2);
    assert_eq!(carol.child_stats(2).unwrap().packets_in, 2);
    // Replaying a captured packet is refused.
    let again = hex::decode(c.packets[0]).unwrap();
    assert_eq!(
        moon.decapsulate(&again, carol_addr, &mut out),
        Err(esp::DropReason::Replay)
    );
}

#[test]
fn opens_strongswan_aes256gcm16() {
    open_all(&GCM);
}

#[test]
fn opens_strongswan_aes128_sha256() {
    open_all(&CBC);
}
