//! Route and address tests over rtnetlink, each in its own private network namespace (see
//! `common`).

mod common;

use std::io;
use std::net::IpAddr;

use common::{in_netns, ip};
use os::{HostAddr, IpPrefix, Netlink, Route, Tun, TunConfig};

fn tun(name: &str) -> Tun {
    Tun::create(&TunConfig {
        name: name.to_owned(),
        mtu: 1400,
    })
    .expect("create TUN")
}

fn prefix(addr: &str, len: u8) -> IpPrefix {
    IpPrefix::new(ip(addr), len).expect("prefix")
}

/// The route as read back, ignoring the metric the kernel fills in for IPv6.
fn key(r: &Route) -> (IpPrefix, u32, Option<IpAddr>) {
    (r.dst, r.ifindex, r.src)
}

#[test]
fn routes_add_list_delete() {
    in_netns("routes", |nl: Netlink| async move {
        let t = tun("os-rt0");
        for (a, len) in [("192.0.2.1", 32), ("2001:db8:1::1", 128)] {
            nl.add_address(t.ifindex(), ip(a), len)
                .await
                .expect("address");
        }
        let r4 = Route::new(prefix("198.51.100.0", 24), t.ifindex()).with_src(ip("192.0.2.1"));
        let r6 = Route::new(prefix("2001:db8:2::", 64), t.ifindex()).with_src(ip("2001:db8:1::1"));
        assert!(nl.routes().await.expect("list").is_empty());

        nl.add_route(&r4).await.expect("add v4");
        nl.add_route(&r6).await.expect("add v6");
        let listed: Vec<_> = nl.routes().await.expect("list").iter().map(key).collect();
        assert_eq!(listed, vec![key(&r4), key(&r6)]);
        // The kernel's own prefix routes for the addresses are not ours and not listed.
        assert_eq!(nl.routes().await.expect("list").len(), 2);

        // Adding twice is refused; replacing is fine.
        assert_eq!(
            nl.add_route(&r4).await.map_err(|e| e.kind()),
            Err(io::ErrorKind::AlreadyExists)
        );
        nl.replace_route(&r6).await.expect("replace v6");

        // A source address that is not ours is refused by the kernel.
        let bad = Route::new(prefix("203.0.113.0", 24), t.ifindex()).with_src(ip("203.0.113.9"));
        assert!(nl.add_route(&bad).await.is_err());
        // A source of the other family is refused by us.
        let mixed = Route::new(prefix("203.0.113.0", 24), t.ifindex()).with_src(ip("2001:db8::1"));
        assert_eq!(
            nl.add_route(&mixed).await.map_err(|e| e.kind()),
            Err(io::ErrorKind::InvalidInput)
        );

        // Delete, and delete again: "already gone" is not an error.
        assert!(nl.del_route(&r4).await.expect("del v4"));
        assert!(!nl.del_route(&r4).await.expect("del v4 again"));
        let listed: Vec<_> = nl.routes().await.expect("list").iter().map(key).collect();
        assert_eq!(listed, vec![key(&r6)]);

        // A route without src, a host route, and a flush of everything that is ours.
        let host = Route::new(IpPrefix::host(ip("203.0.113.77")), t.ifindex());
        nl.add_route(&host).await.expect("add host route");
        assert_eq!(nl.flush_routes().await.expect("flush"), 2);
        assert!(nl.routes().await.expect("list").is_empty());

        // Once the TUN is gone, deleting its route still succeeds with "already gone".
        nl.add_route(&r4).await.expect("add v4 again");
        drop(t);
        assert!(nl.routes().await.expect("list").is_empty());
        assert!(!nl.del_route(&r4).await.expect("del after TUN dropped"));
    });
}

#[test]
fn addresses_add_list_delete() {
    in_netns("addresses", |nl: Netlink| async move {
        let t = tun("os-ad0");
        let mine = [
            HostAddr {
                ifindex: t.ifindex(),
                addr: ip("203.0.113.5"),
                prefix_len: 24,
            },
            HostAddr {
                ifindex: t.ifindex(),
                addr: ip("2001:db8:5::5"),
                prefix_len: 64,
            },
        ];
        for a in &mine {
            nl.add_address(a.ifindex, a.addr, a.prefix_len)
                .await
                .expect("add address");
            assert!(
                nl.is_local(a.addr).await.expect("lookup"),
                "{} is local",
                a.addr
            );
        }
        let all = nl.addresses().await.expect("list");
        for a in &mine {
            assert!(all.contains(a), "{a:?} in {all:?}");
        }
        assert!(all
            .iter()
            .any(|a| a.addr == ip("127.0.0.1") && a.prefix_len == 8));

        assert_eq!(
            nl.add_address(t.ifindex(), mine[0].addr, 24)
                .await
                .map_err(|e| e.kind()),
            Err(io::ErrorKind::AlreadyExists)
        );
        assert!(nl
            .add_address(t.ifindex(), ip("192.0.2.1"), 33)
            .await
            .is_err());

        for a in &mine {
            assert!(nl
                .del_address(a.ifindex, a.addr, a.prefix_len)
                .await
                .expect("del"));
            assert!(!nl
                .del_address(a.ifindex, a.addr, a.prefix_len)
                .await
                .expect("del again"));
            assert!(!nl.is_local(a.addr).await.expect("lookup"));
        }
        let all = nl.addresses().await.expect("list");
        assert!(!all.iter().any(|a| mine.contains(a)), "{all:?}");
        // What is left on the TUN is at most the kernel's own IPv6 link-local address.
        assert!(all
            .iter()
            .filter(|a| a.ifindex == t.ifindex())
            .all(|a| matches!(a.addr, IpAddr::V6(v) if v.is_unicast_link_local())));
    });
}
