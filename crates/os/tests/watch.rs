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
