//! UDP socket tests (packet information, explicit source, the socket set), each in its own
//! private network namespace (see `common`), on `lo` with documentation addresses.

mod common;

use std::io;
use std::net::{IpAddr, SocketAddr};

use common::{guard, in_netns, ip};
use os::netns::LOOPBACK_IFINDEX;
use os::{Netlink, PortKind, RecvMeta, Sockets, SocketsConfig, UdpSocket};

#[track_caller]
fn recv<'a>(
    sock: &'a UdpSocket,
    buf: &'a mut [u8],
) -> impl std::future::Future<Output = RecvMeta> + 'a {
    let at = std::panic::Location::caller();
    async move {
        guard(&format!("UDP recv at {at}"), sock.recv(buf))
            .await
            .expect("recv")
    }
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address literal")
}

/// `a` is a wildcard socket, `b` is bound to one address; `alt` and `other` are two more local
/// addresses; `foreign` is not local; `lo_addr` is 127.0.0.1 or ::1.
async fn pktinfo(nl: Netlink, wildcard: &str, addrs: [&str; 3], foreign: &str, lo_addr: &str) {
    let [target, peer, alt] = addrs.map(ip);
    let full = if target.is_ipv4() { 32 } else { 128 };
    for a in [target, peer, alt] {
        nl.add_address(LOOPBACK_IFINDEX, a, full)
            .await
            .expect("address on lo");
    }
    let a = UdpSocket::bind(SocketAddr::new(ip(wildcard), 5000)).expect("bind wildcard");
    let b = UdpSocket::bind(SocketAddr::new(peer, 5001)).expect("bind peer");
    assert_eq!(a.local_addr(), SocketAddr::new(ip(wildcard), 5000));
    assert!(
        a.recv_buffer_size().expect("rcvbuf") >= 4 << 20,
        "root gets the forced size"
    );
    let mut buf = [0u8; 1500];

    // recv reports the destination address the peer used.
    b.send(b"hello", None, SocketAddr::new(target, 5000))
        .await
        .expect("send");
    let m = recv(&a, &mut buf).await;
    assert_eq!(&buf[..m.len], b"hello");
    assert_eq!(m.src, SocketAddr::new(peer, 5001));
    assert_eq!(m.dst, SocketAddr::new(target, 5000));
    assert_eq!(m.ifindex, LOOPBACK_IFINDEX);
    assert!(!m.truncated);

    b.send(b"to alt", None, SocketAddr::new(alt, 5000))
        .await
        .expect("send");
    let m = recv(&a, &mut buf).await;
    assert_eq!(m.dst, SocketAddr::new(alt, 5000));

    // send with an explicit source: the peer sees that source, whichever local address it is.
    for src in [target, alt] {
        a.send(b"reply", Some(src), m.src)
            .await
            .expect("send from src");
        let r = recv(&b, &mut buf).await;
        assert_eq!(&buf[..r.len], b"reply");
        assert_eq!(r.src, SocketAddr::new(src, 5000));
        assert_eq!(r.dst, SocketAddr::new(peer, 5001));
    }

    // Loopback: 127.0.0.1 / ::1 as destination.
    let c = UdpSocket::bind(SocketAddr::new(ip(lo_addr), 0)).expect("bind loopback");
    c.send(b"lo", None, SocketAddr::new(ip(lo_addr), 5000))
        .await
        .expect("send lo");
    let m = recv(&a, &mut buf).await;
    assert_eq!(m.dst, SocketAddr::new(ip(lo_addr), 5000));
    assert_eq!(m.src, c.local_addr());

    // A datagram longer than the buffer is reported as truncated.
    b.send(&[7u8; 100], None, SocketAddr::new(target, 5000))
        .await
        .expect("send long");
    let mut small = [0u8; 10];
    let m = recv(&a, &mut small).await;
    assert_eq!(m.len, 10);
    assert!(m.truncated);

    // A source that is not ours is refused by the kernel; a wrong family by us.
    assert!(a
        .send(b"x", Some(ip(foreign)), SocketAddr::new(peer, 5001))
        .await
        .is_err());
    let other_family: IpAddr = if target.is_ipv4() {
        ip("2001:db8::1")
    } else {
        ip("192.0.2.1")
    };
    assert_eq!(
        a.send(b"x", Some(other_family), SocketAddr::new(peer, 5001))
            .await
            .map_err(|e| e.kind()),
        Err(io::ErrorKind::InvalidInput)
    );
    assert_eq!(
        a.send(b"x", None, SocketAddr::new(other_family, 5001))
            .await
            .map_err(|e| e.kind()),
        Err(io::ErrorKind::InvalidInput)
    );
    // Nothing else is queued: the refused sends sent nothing.
    assert_eq!(
        b.try_recv(&mut buf).map_err(|e| e.kind()),
        Err(io::ErrorKind::WouldBlock)
    );
}

#[test]
fn udp_pktinfo_ipv4() {
    in_netns("udp_pktinfo_v4", |nl: Netlink| async move {
        pktinfo(
            nl,
            "0.0.0.0",
            ["192.0.2.10", "192.0.2.11", "192.0.2.12"],
            "203.0.113.5",
            "127.0.0.1",
        )
        .await;
    });
}

#[test]
fn udp_pktinfo_ipv6() {
    in_netns("udp_pktinfo_v6", |nl: Netlink| async move {
        pktinfo(
            nl,
            "::",
            ["2001:db8::10", "2001:db8::11", "2001:db8::12"],
            "2001:db8:ffff::5",
            "::1",
        )
        .await;
    });
}

#[test]
fn ipv6_socket_is_v6_only() {
    in_netns("udp_v6only", |_nl: Netlink| async move {
        // With IPV6_V6ONLY, [::]:P and 0.0.0.0:P are separate sockets and both bind.
        let v6 = UdpSocket::bind(sa("[::]:5100")).expect("bind ::");
        let v4 = UdpSocket::bind(sa("0.0.0.0:5100")).expect("bind 0.0.0.0 beside ::");
        let c = UdpSocket::bind(sa("127.0.0.1:0")).expect("bind client");
        c.send(b"v4", None, sa("127.0.0.1:5100"))
            .await
            .expect("send");
        let mut buf = [0u8; 16];
        let m = recv(&v4, &mut buf).await;
        assert_eq!(&buf[..m.len], b"v4");
        assert_eq!(
            v6.try_recv(&mut buf).map_err(|e| e.kind()),
            Err(io::ErrorKind::WouldBlock)
        );
    });
}

#[test]
fn socket_set_default_wildcards() {
    in_netns("sockets_default", |_nl: Netlink| async move {
        let config = SocketsConfig {
            ike_port: 10500,
            natt_port: 14500,
            ..SocketsConfig::default()
        };
        let set = Sockets::bind(&config).expect("bind set");
        assert!(set.skipped().is_empty(), "{:?}", set.skipped());
        let got: Vec<(PortKind, SocketAddr)> = set
            .sockets()
            .iter()
            .map(|b| (b.kind, b.socket.local_addr()))
            .collect();
        assert_eq!(
            got,
            vec![
                (PortKind::Ike, sa("0.0.0.0:10500")),
                (PortKind::Natt, sa("0.0.0.0:14500")),
                (PortKind::Ike, sa("[::]:10500")),
                (PortKind::Natt, sa("[::]:14500")),
            ]
        );
        let natt4 = set
            .for_source(ip("192.0.2.1"), PortKind::Natt)
            .expect("v4 NAT-T socket");
        assert_eq!(natt4.local_addr(), sa("0.0.0.0:14500"));
        let ike6 = set
            .for_source(ip("2001:db8::1"), PortKind::Ike)
            .expect("v6 IKE socket");
        assert_eq!(ike6.local_addr(), sa("[::]:10500"));

        // A datagram to the NAT-T port lands on the NAT-T socket and says so.
        let c = UdpSocket::bind(sa("127.0.0.1:0")).expect("client");
        c.send(b"natt", None, sa("127.0.0.1:14500"))
            .await
            .expect("send");
        let mut buf = [0u8; 16];
        let m = recv(natt4, &mut buf).await;
        assert_eq!(m.dst, sa("127.0.0.1:14500"));

        // The same ports again: SO_REUSEADDR lets UDP share them, so this binds (see caveats).
        assert!(Sockets::bind(&config).is_ok());
        // Equal ports are a configuration error.
        let same = SocketsConfig {
            natt_port: 10500,
            ..config
        };
        assert_eq!(
            Sockets::bind(&same).map(|_| ()).map_err(|e| e.kind()),
            Err(io::ErrorKind::InvalidInput)
        );
    });
}

#[test]
fn socket_set_missing_ipv6_is_reported_not_fatal() {
    in_netns("sockets_no_v6", |nl: Netlink| async move {
        nl.add_address(LOOPBACK_IFINDEX, ip("192.0.2.20"), 32)
            .await
            .expect("address");
        let config = SocketsConfig {
            listen: vec![ip("192.0.2.20"), ip("2001:db8::99")],
            ike_port: 500,
            natt_port: 4500,
            ..SocketsConfig::default()
        };
        let set = Sockets::bind(&config).expect("IPv4 binds, IPv6 is skipped");
        assert_eq!(set.sockets().len(), 2);
        let skipped: Vec<SocketAddr> = set.skipped().iter().map(|f| f.addr).collect();
        assert_eq!(
            skipped,
            vec![sa("[2001:db8::99]:500"), sa("[2001:db8::99]:4500")]
        );
        assert!(set
            .skipped()
            .iter()
            .all(|f| f.error.raw_os_error() == Some(libc::EADDRNOTAVAIL)));
        assert_eq!(
            set.for_source(ip("192.0.2.20"), PortKind::Ike)
                .map(|s| s.local_addr()),
            Some(sa("192.0.2.20:500"))
        );
        assert!(set.for_source(ip("2001:db8::1"), PortKind::Ike).is_none());

        // An IPv4 address that is not ours is fatal, and the error names it.
        let bad = SocketsConfig {
            listen: vec![ip("192.0.2.99")],
            ..config.clone()
        };
        let err = Sockets::bind(&bad).expect_err("missing IPv4 is fatal");
        assert!(err.to_string().contains("192.0.2.99:500"), "{err}");
        // Only unusable IPv6: nothing bound is fatal too.
        let none = SocketsConfig {
            listen: vec![ip("2001:db8::99")],
            ..config
        };
        assert!(Sockets::bind(&none).is_err());
    });
}

#[test]
fn socket_set_with_ipv6_disabled_by_sysctl() {
    in_netns("sockets_v6_off", |_nl: Netlink| async move {
        // /proc/sys/net is per network namespace, resolved for the opening thread.
        std::fs::write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1").expect("sysctl");
        std::fs::write("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "1").expect("sysctl lo");
        let config = SocketsConfig {
            ike_port: 10500,
            natt_port: 14500,
            ..SocketsConfig::default()
        };
        let set = Sockets::bind(&config).expect("IPv4 still binds");
        let v4 = set
            .sockets()
            .iter()
            .filter(|b| b.socket.local_addr().is_ipv4())
            .count();
        assert_eq!(v4, 2);
        // Either the wildcard still binds (Linux allows [::] with IPv6 disabled) or it is
        // reported; never both, never fatal.
        let v6_bound = set.sockets().len() - v4;
        assert_eq!(v6_bound + set.skipped().len(), 2);
        println!(
            "IPv6 disabled by sysctl: {v6_bound} IPv6 sockets bound, skipped {:?}",
            set.skipped()
        );
    });
}

/// UDP GSO out, GRO in, on loopback: ten datagrams (the last shorter) leave in one send and
/// come back, coalesced or not, as the same ten datagrams in order.
#[test]
fn udp_gso_send_and_gro_receive() {
    in_netns("udp_gso_gro", |_nl: Netlink| async move {
        let rx = UdpSocket::bind(sa("127.0.0.1:0")).expect("bind rx");
        let tx = UdpSocket::bind(sa("127.0.0.1:0")).expect("bind tx");
        let mut data = Vec::new();
        for i in 0..10u8 {
            let len = if i == 9 { 300 } else { 1200 };
            data.extend(std::iter::repeat_n(i, len));
        }
        let sent = guard(
            "GSO send",
            tx.send_segments(&data, 1200, None, rx.local_addr()),
        )
        .await
        .expect("send_segments");
        assert_eq!(sent, data.len());
        let mut buf = vec![0u8; 65_536];
        let mut got: Vec<Vec<u8>> = Vec::new();
        while got.len() < 10 {
            let meta = guard("GRO recv", rx.recv(&mut buf)).await.expect("recv");
            assert_eq!(meta.src, tx.local_addr());
            assert!(!meta.truncated);
            if meta.len > meta.stride {
                assert_eq!(meta.stride, 1200, "coalesced datagrams keep their size");
            }
            got.extend(meta.segments(&buf).map(<[u8]>::to_vec));
        }
        assert_eq!(got.len(), 10);
        for (i, d) in got.iter().enumerate() {
            let len = if i == 9 { 300 } else { 1200 };
            assert_eq!(d, &vec![i as u8; len], "datagram {i}");
        }
        // Too many segments for one call is refused, not truncated.
        let big = vec![0u8; 100 * 10];
        let e = tx
            .send_segments(&big, 10, None, rx.local_addr())
            .await
            .expect_err("over MAX_GSO_SEGMENTS");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    });
}

/// The TOS / Traffic Class octet set per send (`send_segments_tos`: a single datagram and a
/// GSO run) is the one the receiver's [`RecvMeta::tos`] reports; plain sends carry 0.
async fn tos_roundtrip(lo_addr: &str) {
    let rx = UdpSocket::bind(SocketAddr::new(ip(lo_addr), 0)).expect("bind rx");
    let tx = UdpSocket::bind(SocketAddr::new(ip(lo_addr), 0)).expect("bind tx");
    let to = rx.local_addr();
    let mut buf = vec![0u8; 65_536];
    // DSCP EF with ECT(0), CS1 with CE, ECT(1) alone: DSCP and ECN bits both survive.
    for tos in [0xb8 | 0b10, 0x20 | 0b11, 0b01] {
        let n = guard("TOS send", tx.send_segments_tos(b"one", 100, None, to, tos))
            .await
            .expect("send one");
        assert_eq!(n, 3);
        let m = recv(&rx, &mut buf).await;
        assert_eq!((&buf[..m.len], m.tos), (&b"one"[..], tos));

        // A GSO run: every datagram carries it, coalesced (GRO) or not.
        let run = vec![tos; 5 * 1000];
        guard(
            "TOS GSO send",
            tx.send_segments_tos(&run, 1000, None, to, tos),
        )
        .await
        .expect("send run");
        let mut got = 0;
        while got < 5 {
            let m = recv(&rx, &mut buf).await;
            assert_eq!(m.tos, tos, "TOS of a received run");
            got += m.segments(&buf).count();
        }
        assert_eq!(got, 5);
    }
    // A plain send (IKE) and TOS 0 leave the octet at 0.
    tx.send(b"ike", None, to).await.expect("send plain");
    assert_eq!(recv(&rx, &mut buf).await.tos, 0);
    tx.send_segments_tos(b"zero", 100, None, to, 0)
        .await
        .expect("send zero");
    assert_eq!(recv(&rx, &mut buf).await.tos, 0);
}

#[test]
fn udp_tos_ipv4() {
    in_netns("udp_tos_v4", |_nl: Netlink| async move {
        tos_roundtrip("127.0.0.1").await;
    });
}

#[test]
fn udp_tos_ipv6() {
    in_netns("udp_tos_v6", |_nl: Netlink| async move {
        tos_roundtrip("::1").await;
    });
}
