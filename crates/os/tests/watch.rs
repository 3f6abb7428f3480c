//! Address/route change notifications and the kernel's source address choice (MOBIKE's inputs,
//! RFC 4555 §3.5), in a private network namespace.

mod common;

use std::time::Duration;

use common::{guard, in_netns, ip};
use os::netns::LOOPBACK_IFINDEX;
use os::AddrWatch;

#[test]
fn changes_are_reported_and_the_source_follows_the_addresses() {
    in_netns("watch_source", |nl| async move {
        let mut watch = AddrWatch::new().expect("subscribe");
        // No route off the host yet: no source.
        assert_eq!(nl.source_for(ip("198.51.100.1")).await.unwrap(), None);

        nl.add_address(LOOPBACK_IFINDEX, ip("192.0.2.7"), 24)
            .await
            .expect("add 192.0.2.7/24");
        guard("address added", watch.changed(Duration::from_millis(50)))
            .await
            .expect("watch open");
        assert_eq!(
            nl.source_for(ip("192.0.2.99")).await.unwrap(),
            Some(ip("192.0.2.7")),
            "the only address of the subnet is the source"
        );

        // A second address, then the first goes away: the source moves (what MOBIKE follows).
        nl.add_address(LOOPBACK_IFINDEX, ip("192.0.2.8"), 24)
            .await
            .expect("add 192.0.2.8/24");
        nl.del_address(LOOPBACK_IFINDEX, ip("192.0.2.7"), 24)
            .await
            .expect("del 192.0.2.7/24");
        guard("address removed", watch.changed(Duration::from_millis(50)))
            .await
            .expect("watch open");
        let src = nl.source_for(ip("192.0.2.99")).await.unwrap();
        assert_ne!(
            src,
            Some(ip("192.0.2.7")),
            "a removed address is never the source"
        );
    });
}

/// The path MTU is the route's `mtu` when it has one (as a learned PMTU would be), else the
/// MTU of the interface the route leaves by; no route, none.
#[test]
fn path_mtu_from_the_route_or_its_interface() {
    in_netns("watch_pmtu", |nl| async move {
        assert_eq!(nl.path_mtu(ip("198.51.100.1"), None).await.unwrap(), None);
        nl.add_address(LOOPBACK_IFINDEX, ip("192.0.2.7"), 24)
            .await
            .expect("add 192.0.2.7/24");
        let lo = nl
            .link_by_index(LOOPBACK_IFINDEX)
            .await
            .unwrap()
            .expect("lo");
        assert_eq!(
            nl.path_mtu(ip("192.0.2.99"), None).await.unwrap(),
            Some(lo.mtu),
            "no route MTU: the interface's"
        );
        // This thread's namespace is the one `ip` inherits.
        let st = std::process::Command::new("ip")
            .args([
                "route",
                "add",
                "198.51.100.0/24",
                "dev",
                "lo",
                "mtu",
                "1400",
            ])
            .status()
            .expect("run ip");
        assert!(st.success(), "ip route add ... mtu 1400");
        assert_eq!(
            nl.path_mtu(ip("198.51.100.1"), None).await.unwrap(),
            Some(1400)
        );
        // With a mark that a rule sends to a table of its own, that table's route counts.
        for args in [
            &[
                "route",
                "add",
                "198.51.100.0/24",
                "dev",
                "lo",
                "mtu",
                "1300",
                "table",
                "77",
            ][..],
            &["rule", "add", "fwmark", "0x77", "table", "77"][..],
        ] {
            let st = std::process::Command::new("ip")
                .args(args)
                .status()
                .expect("run ip");
            assert!(st.success(), "ip {args:?}");
        }
        assert_eq!(
            nl.path_mtu(ip("198.51.100.1"), Some(0x77)).await.unwrap(),
            Some(1300)
        );
        assert_eq!(
            nl.path_mtu(ip("198.51.100.1"), None).await.unwrap(),
            Some(1400)
        );
        assert_eq!(
            nl.path_mtu(ip("192.0.2.99"), None).await.unwrap(),
            Some(lo.mtu),
            "other routes keep the interface's"
        );
    });
}
