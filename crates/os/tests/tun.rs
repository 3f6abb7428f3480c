//! TUN device tests, each in its own private network namespace (see `common`).

mod common;

use std::io;
use std::net::{IpAddr, SocketAddr};

use common::{guard, in_netns, ip, ipv4_udp, ipv6_udp, parse_udp, v4, v6, UdpSeen};
use os::{IpPrefix, Netlink, Route, Tun, TunConfig, TunOptions, UdpSocket};

fn config(name: &str, mtu: u16) -> TunConfig {
    TunConfig {
        name: name.to_owned(),
        mtu,
    }
}

#[test]
fn tun_create_up_mtu_and_removed_on_drop() {
    in_netns("tun_create", |nl: Netlink| async move {
        let tun = Tun::create(&config("os-tc0", 1380)).expect("create TUN");
        assert_eq!(tun.name(), "os-tc0");
        assert!(tun.ifindex() > 1, "ifindex {}", tun.ifindex());
        assert_eq!(tun.mtu().expect("mtu"), 1380);
        assert_eq!(tun.queues().len(), TunOptions::default().queues);
        assert!(tun.queues().iter().all(|q| q.offload()));

        let link = nl
            .link_by_name("os-tc0")
            .await
            .expect("netlink")
            .expect("link exists");
        assert_eq!(link.index, tun.ifindex());
        assert!(link.up, "TUN must be up");
        assert_eq!(link.mtu, 1380);

        tun.set_mtu(1300).expect("set mtu");
        let link = nl.link_by_index(tun.ifindex()).await.expect("netlink");
        assert_eq!(link.map(|l| l.mtu), Some(1300));

        let again = Tun::create(&config("os-tc0", 1380));
        assert_eq!(
            again.map(|_| ()).map_err(|e| e.kind()),
            Err(io::ErrorKind::AlreadyExists)
        );
        assert_eq!(
            Tun::create(&config("os-name-too-long", 1380))
                .map(|_| ())
                .map_err(|e| e.kind()),
            Err(io::ErrorKind::InvalidInput)
        );

        drop(tun);
        assert_eq!(nl.link_by_name("os-tc0").await.expect("netlink"), None);
    });
}

/// Reads packets from the TUN until one is UDP to `dport` (the kernel also sends its own IPv6
/// router solicitations and MLD reports into a fresh device); gives up after 100 packets.
async fn read_udp_to(tun: &Tun, dport: u16) -> (UdpSeen, Vec<u8>) {
    let mut buf = vec![0u8; 2048];
    for _ in 0..100 {
        let n = guard("TUN read", tun.recv(&mut buf))
            .await
            .expect("TUN read");
        let pkt = buf[..n].to_vec();
        if let Some(seen) = parse_udp(&pkt) {
            if seen.dport == dport {
                return (seen, pkt);
            }
        }
    }
    panic!("no UDP packet to port {dport} among 100 read from the TUN");
}

/// Local traffic is routed into the TUN with the route's source; a packet written into the TUN
/// is delivered to a local socket, which sees the right destination address.
async fn roundtrip(
    nl: Netlink,
    name: &str,
    local: IpAddr,
    remote_net: IpPrefix,
    remote: IpAddr,
    offload: bool,
) {
    // One queue: the test reads only one.
    let options = TunOptions { offload, queues: 1 };
    let tun = Tun::create_with(&config(name, 1400), &options).expect("create TUN");
    let full = if local.is_ipv4() { 32 } else { 128 };
    nl.add_address(tun.ifindex(), local, full)
        .await
        .expect("address on TUN");
    nl.add_route(&Route::new(remote_net, tun.ifindex()).with_src(local))
        .await
        .expect("route into TUN");

    // Outbound: an unbound socket's datagram takes the route, and its source.
    let wildcard: IpAddr = if local.is_ipv4() {
        ip("0.0.0.0")
    } else {
        ip("::")
    };
    let sock = UdpSocket::bind(SocketAddr::new(wildcard, 0)).expect("bind");
    let payload = b"rampart os test: out".to_vec();
    let sent = sock
        .send(&payload, None, SocketAddr::new(remote, 4242))
        .await
        .expect("send into TUN");
    assert_eq!(sent, payload.len());
    let (seen, pkt) = read_udp_to(&tun, 4242).await;
    assert_eq!(seen.src, local, "route src must be the source");
    assert_eq!(seen.dst, remote);
    assert_eq!(seen.sport, sock.local_addr().port());
    assert_eq!(seen.payload, payload);
    assert!(seen.checksum_ok, "UDP checksum in {pkt:02x?}");

    // Inbound: a packet written into the TUN reaches a socket on the wildcard address.
    let listener = UdpSocket::bind(SocketAddr::new(wildcard, 6666)).expect("bind 6666");
    let payload = b"rampart os test: in".to_vec();
    let pkt = match (remote, local) {
        (IpAddr::V4(r), IpAddr::V4(l)) => ipv4_udp(r, l, 5555, 6666, &payload),
        (IpAddr::V6(r), IpAddr::V6(l)) => ipv6_udp(r, l, 5555, 6666, &payload),
        _ => unreachable!("same family"),
    };
    tun.send(&pkt).await.expect("TUN write");
    let mut buf = [0u8; 256];
    let meta = guard("socket recv", listener.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!(&buf[..meta.len], &payload[..]);
    assert_eq!(meta.src, SocketAddr::new(remote, 5555));
    assert_eq!(meta.dst, SocketAddr::new(local, 6666));
    assert_eq!(meta.ifindex, tun.ifindex());
    assert!(!meta.truncated);
}

#[test]
fn tun_ipv4_roundtrip_through_kernel() {
    in_netns("tun_ipv4", |nl: Netlink| async move {
        let net = IpPrefix::new(ip("198.51.100.0"), 24).expect("prefix");
        roundtrip(
            nl,
            "os-t4",
            IpAddr::V4(v4("192.0.2.1")),
            net,
            ip("198.51.100.7"),
            true,
        )
        .await;
    });
}

#[test]
fn tun_ipv6_roundtrip_through_kernel() {
    in_netns("tun_ipv6", |nl: Netlink| async move {
        let net = IpPrefix::new(ip("2001:db8:2::"), 64).expect("prefix");
        roundtrip(
            nl,
            "os-t6",
            IpAddr::V6(v6("2001:db8:1::1")),
            net,
            ip("2001:db8:2::7"),
            true,
        )
        .await;
    });
}

#[test]
fn tun_ipv4_roundtrip_without_offload() {
    in_netns("tun_plain", |nl: Netlink| async move {
        let net = IpPrefix::new(ip("198.51.100.0"), 24).expect("prefix");
        roundtrip(
            nl,
            "os-tp",
            IpAddr::V4(v4("192.0.2.1")),
            net,
            ip("198.51.100.7"),
            false,
        )
        .await;
    });
}

/// Batches both ways on an offload device: a UDP GSO send routed into the TUN arrives as one
/// super-packet that `recv_batch` splits into the datagrams (checksums completed), and a batch
/// of datagrams of one flow written with `send_batch` reaches a local socket intact.
#[test]
fn tun_batches_split_and_coalesce() {
    in_netns("tun_batch", |nl: Netlink| async move {
        let options = TunOptions {
            offload: true,
            queues: 1,
        };
        let tun = Tun::create_with(&config("os-tb", 1400), &options).expect("create TUN");
        let local = v4("192.0.2.1");
        nl.add_address(tun.ifindex(), IpAddr::V4(local), 32)
            .await
            .expect("address");
        let net = IpPrefix::new(ip("198.51.100.0"), 24).expect("prefix");
        nl.add_route(&Route::new(net, tun.ifindex()).with_src(IpAddr::V4(local)))
            .await
            .expect("route");
        let q = &tun.queues()[0];

        // Out: 10 datagrams of 1000 bytes (the last 500) in one GSO send.
        let sock = UdpSocket::bind("0.0.0.0:0".parse().unwrap()).expect("bind");
        let mut data = Vec::new();
        for i in 0..10u8 {
            let len = if i == 9 { 500 } else { 1000 };
            data.extend(std::iter::repeat_n(i, len));
        }
        let dst: SocketAddr = "198.51.100.7:4242".parse().unwrap();
        let sent = guard("GSO send", sock.send_segments(&data, 1000, None, dst))
            .await
            .expect("send_segments");
        assert_eq!(sent, data.len());
        let mut scratch = vec![0u8; os::tun::TUN_SCRATCH_LEN];
        let mut bufs = vec![vec![0u8; 2048]; os::tun::IDEAL_BATCH_SIZE];
        let mut sizes = vec![0usize; os::tun::IDEAL_BATCH_SIZE];
        let mut got = Vec::new();
        for _ in 0..100 {
            let n = guard(
                "TUN batch read",
                q.recv_batch(&mut scratch, &mut bufs, &mut sizes, 0),
            )
            .await
            .expect("recv_batch");
            for (b, &len) in bufs.iter().zip(&sizes).take(n) {
                if let Some(seen) = parse_udp(&b[..len]) {
                    if seen.dport == 4242 {
                        assert!(seen.checksum_ok, "UDP checksum of a split segment");
                        got.push(seen.payload);
                    }
                }
            }
            if got.len() >= 10 {
                break;
            }
        }
        assert_eq!(got.len(), 10);
        for (i, p) in got.iter().enumerate() {
            let len = if i == 9 { 500 } else { 1000 };
            assert_eq!(p, &vec![i as u8; len], "datagram {i}");
        }

        // In: 8 datagrams of one flow in one batch.
        let listener = UdpSocket::bind("0.0.0.0:6666".parse().unwrap()).expect("bind 6666");
        let mut batch: Vec<Vec<u8>> = (0..8u8)
            .map(|i| {
                let mut b = vec![0u8; os::tun::TUN_HEADROOM];
                b.extend(ipv4_udp(v4("198.51.100.7"), local, 5555, 6666, &[i; 700]));
                b.reserve(65_536);
                b
            })
            .collect();
        let mut gro = os::tun::GROTable::new();
        guard("TUN batch write", q.send_batch(&mut gro, &mut batch))
            .await
            .expect("send_batch");
        let mut buf = vec![0u8; 65_536];
        let mut seen = Vec::new();
        while seen.len() < 8 {
            let meta = guard("socket recv", listener.recv(&mut buf))
                .await
                .expect("recv");
            for d in meta.segments(&buf) {
                seen.push(d.to_vec());
            }
        }
        for (i, d) in seen.iter().enumerate() {
            assert_eq!(d, &vec![i as u8; 700], "datagram {i}");
        }
    });
}
