//! Ready-made topologies. Documentation address ranges only (RFC 5737, RFC 3849).

use std::path::PathBuf;

use crate::netns::Netns;
use crate::workdir::TestDir;

/// Addresses of the net-to-net topology.
pub mod addr {
    /// gw1's outer IPv4 address (on [`super::OUTER_IF`]).
    pub const GW1_V4: &str = "192.0.2.1";
    /// gw2's outer IPv4 address.
    pub const GW2_V4: &str = "192.0.2.2";
    /// gw1's outer IPv6 address.
    pub const GW1_V6: &str = "2001:db8:1::1";
    /// gw2's outer IPv6 address.
    pub const GW2_V6: &str = "2001:db8:1::2";
    /// The IPv4 LAN behind gw1 (h1's).
    pub const LAN1_V4: &str = "203.0.113.0/24";
    /// The IPv6 LAN behind gw1.
    pub const LAN1_V6: &str = "2001:db8:2::/64";
    /// The IPv4 LAN behind gw2 (h2's).
    pub const LAN2_V4: &str = "198.51.100.0/24";
    /// The IPv6 LAN behind gw2.
    pub const LAN2_V6: &str = "2001:db8:3::/64";
    /// gw1's address on its LAN.
    pub const GW1_LAN_V4: &str = "203.0.113.1";
    /// gw1's IPv6 address on its LAN.
    pub const GW1_LAN_V6: &str = "2001:db8:2::1";
    /// gw2's address on its LAN.
    pub const GW2_LAN_V4: &str = "198.51.100.1";
    /// gw2's IPv6 address on its LAN.
    pub const GW2_LAN_V6: &str = "2001:db8:3::1";
    /// h1 (behind gw1).
    pub const H1_V4: &str = "203.0.113.10";
    /// h1's IPv6 address.
    pub const H1_V6: &str = "2001:db8:2::10";
    /// h2 (behind gw2).
    pub const H2_V4: &str = "198.51.100.10";
    /// h2's IPv6 address.
    pub const H2_V6: &str = "2001:db8:3::10";
}

/// The gateways' interface towards each other.
pub const OUTER_IF: &str = "eth0";
/// The gateways' interface towards their LAN.
pub const LAN_IF: &str = "eth1";
/// The hosts' only interface.
pub const HOST_IF: &str = "eth0";

/// Net to net: `h1 --eth0/eth1-- gw1 --eth0/eth0-- gw2 --eth1/eth0-- h2`.
///
/// - outer link: gw1 192.0.2.1/24 + 2001:db8:1::1/64, gw2 192.0.2.2/24 + 2001:db8:1::2/64
/// - gw1's LAN: 203.0.113.0/24 + 2001:db8:2::/64 (gw1 .1/::1, h1 .10/::10)
/// - gw2's LAN: 198.51.100.0/24 + 2001:db8:3::/64 (gw2 .1/::1, h2 .10/::10)
///
/// Hosts route everything via their gateway; gateways forward but have no route to the other
/// LAN: only a tunnel provides it. Namespaces are `<prefix>-gw1`, `-gw2`, `-h1`, `-h2`.
#[derive(Debug)]
pub struct Topology {
    /// The gateway in front of h1.
    pub gw1: Netns,
    /// The gateway in front of h2.
    pub gw2: Netns,
    /// The host behind gw1.
    pub h1: Netns,
    /// The host behind gw2.
    pub h2: Netns,
    prefix: String,
    // Declared last: removed after the namespaces are gone.
    dir: TestDir,
}

impl Topology {
    /// Builds the net-to-net topology under `prefix` (keep it short, e.g. `rs4i`) with a fresh
    /// work directory `/tmp/rampart-tests/<prefix>`.
    #[track_caller]
    pub fn net2net(prefix: &str) -> Topology {
        use addr::*;
        // Gateways first: if another run uses this prefix, its daemons live there and
        // Netns::new refuses before anything of that run (its work dir) is touched.
        let gw1 = Netns::new(&format!("{prefix}-gw1"));
        let gw2 = Netns::new(&format!("{prefix}-gw2"));
        let h1 = Netns::new(&format!("{prefix}-h1"));
        let h2 = Netns::new(&format!("{prefix}-h2"));
        let dir = TestDir::new(prefix);

        Netns::veth(&gw1, OUTER_IF, &gw2, OUTER_IF);
        gw1.add_addr(OUTER_IF, &format!("{GW1_V4}/24"));
        gw1.add_addr(OUTER_IF, &format!("{GW1_V6}/64"));
        gw2.add_addr(OUTER_IF, &format!("{GW2_V4}/24"));
        gw2.add_addr(OUTER_IF, &format!("{GW2_V6}/64"));

        for (gw, h, gw_v4, gw_v6, h_v4, h_v6) in [
            (&gw1, &h1, GW1_LAN_V4, GW1_LAN_V6, H1_V4, H1_V6),
            (&gw2, &h2, GW2_LAN_V4, GW2_LAN_V6, H2_V4, H2_V6),
        ] {
            Netns::veth(gw, LAN_IF, h, HOST_IF);
            gw.add_addr(LAN_IF, &format!("{gw_v4}/24"));
            gw.add_addr(LAN_IF, &format!("{gw_v6}/64"));
            h.add_addr(HOST_IF, &format!("{h_v4}/24"));
            h.add_addr(HOST_IF, &format!("{h_v6}/64"));
            h.add_route("default", gw_v4);
            h.add_route("default", gw_v6);
            gw.enable_forwarding();
        }
        Topology {
            gw1,
            gw2,
            h1,
            h2,
            prefix: prefix.to_string(),
            dir,
        }
    }

    /// The per-test prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The test's work directory.
    pub fn dir(&self) -> &TestDir {
        &self.dir
    }

    /// A subdirectory of the work directory (created), e.g. one per daemon.
    #[track_caller]
    pub fn subdir(&self, name: &str) -> PathBuf {
        self.dir.subdir(name)
    }
}
