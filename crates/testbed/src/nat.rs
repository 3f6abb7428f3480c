//! A road warrior behind a NAT router, a gateway and a host behind it (the lab's
//! `netns.sh up nat` addressing):
//!
//! ```text
//! rw --eth0/eth1-- nat --eth0/eth0-- gw --eth1/eth0-- h
//! ```
//!
//! - behind the NAT: rw 198.51.100.100/25, the router 198.51.100.1/25; rw's tunnel address
//!   198.51.100.130/32 sits on its `lo` (a tunnel cannot protect the peers' own outer addresses
//!   with strongSwan's kernel-libipsec)
//! - outside: the router 192.0.2.254/24 (it MASQUERADEs everything leaving eth0), gw 192.0.2.1/24
//! - gw's LAN: 203.0.113.0/24 (gw .1, h .10)
//!
//! gw has no route to 198.51.100.0/25: it only ever sees 192.0.2.254. Namespaces are
//! `<prefix>-rw`, `-nat`, `-gw`, `-h`.

use std::path::PathBuf;

use crate::cmd::Output;
use crate::netns::Netns;
use crate::workdir::TestDir;

/// Addresses of the NAT topology.
pub mod addr {
    /// rw's outer address (private side of the NAT).
    pub const RW_V4: &str = "198.51.100.100";
    /// rw's tunnel (inner) address, on its `lo`.
    pub const RW_INNER_V4: &str = "198.51.100.130";
    /// rw's tunnel selector.
    pub const RW_INNER_NET: &str = "198.51.100.130/32";
    /// The router's address towards rw.
    pub const NAT_IN_V4: &str = "198.51.100.1";
    /// The router's public address: what gw sees as rw's address.
    pub const NAT_OUT_V4: &str = "192.0.2.254";
    /// The gateway's outer address.
    pub const GW_V4: &str = "192.0.2.1";
    /// The gateway's LAN (its tunnel selector).
    pub const LAN_V4: &str = "203.0.113.0/24";
    /// The gateway's address on its LAN.
    pub const GW_LAN_V4: &str = "203.0.113.1";
    /// The host behind the gateway.
    pub const H_V4: &str = "203.0.113.10";
}

/// The router's interface towards gw (MASQUERADE applies to packets leaving it).
pub const NAT_OUT_IF: &str = "eth0";
/// The router's interface towards rw.
pub const NAT_IN_IF: &str = "eth1";
/// rw's and h's interface; gw's interface towards the router.
pub const ETH0: &str = "eth0";
/// gw's LAN interface.
pub const GW_LAN_IF: &str = "eth1";

/// How the router translates source addresses and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masquerade {
    /// `-j MASQUERADE`: Linux keeps the source port when it is free (500 and 4500 stay).
    Plain,
    /// `-j MASQUERADE --random-fully`: every mapping gets a random source port.
    RandomFully,
    /// `-p udp -j MASQUERADE --to-ports LO-HI`: UDP source ports from that range (other
    /// protocols: plain MASQUERADE).
    ToPorts(u16, u16),
}

impl Masquerade {
    fn args(self) -> Vec<String> {
        match self {
            Masquerade::Plain => vec![],
            Masquerade::RandomFully => vec!["--random-fully".into()],
            Masquerade::ToPorts(lo, hi) => vec!["--to-ports".into(), format!("{lo}-{hi}")],
        }
    }
}

/// The topology's namespaces and work directory.
#[derive(Debug)]
pub struct NatTopology {
    /// The road warrior behind the NAT.
    pub rw: Netns,
    /// The NAT router.
    pub nat: Netns,
    /// The gateway.
    pub gw: Netns,
    /// The host behind the gateway.
    pub h: Netns,
    prefix: String,
    dir: TestDir,
}

impl NatTopology {
    /// Builds the topology under `prefix` (at most 8 characters) with the router translating as
    /// `masq` says; the work directory is `/tmp/rampart-tests/<prefix>`.
    #[track_caller]
    pub fn new(prefix: &str, masq: Masquerade) -> NatTopology {
        use addr::*;
        let gw = Netns::new(&format!("{prefix}-gw"));
        let rw = Netns::new(&format!("{prefix}-rw"));
        let nat = Netns::new(&format!("{prefix}-nat"));
        let h = Netns::new(&format!("{prefix}-h"));
        let dir = TestDir::new(prefix);

        Netns::veth(&rw, ETH0, &nat, NAT_IN_IF);
        rw.add_addr(ETH0, &format!("{RW_V4}/25"));
        rw.add_addr("lo", &format!("{RW_INNER_V4}/32"));
        rw.add_route("default", NAT_IN_V4);
        nat.add_addr(NAT_IN_IF, &format!("{NAT_IN_V4}/25"));

        Netns::veth(&nat, NAT_OUT_IF, &gw, ETH0);
        nat.add_addr(NAT_OUT_IF, &format!("{NAT_OUT_V4}/24"));
        gw.add_addr(ETH0, &format!("{GW_V4}/24"));
        nat.enable_forwarding();

        Netns::veth(&gw, GW_LAN_IF, &h, ETH0);
        gw.add_addr(GW_LAN_IF, &format!("{GW_LAN_V4}/24"));
        h.add_addr(ETH0, &format!("{H_V4}/24"));
        h.add_route("default", GW_LAN_V4);
        gw.enable_forwarding();

        let topo = NatTopology {
            rw,
            nat,
            gw,
            h,
            prefix: prefix.to_string(),
            dir,
        };
        topo.set_masquerade(masq);
        topo
    }

    /// Replaces the router's POSTROUTING rules by one MASQUERADE rule of kind `masq`. Existing
    /// mappings (conntrack entries) stay until [`NatTopology::flush_conntrack`].
    #[track_caller]
    pub fn set_masquerade(&self, masq: Masquerade) {
        self.nat
            .run_ok(&["iptables", "-w", "-t", "nat", "-F", "POSTROUTING"]);
        let rule = |proto: Option<&str>, extra: Vec<String>| {
            let mut args: Vec<String> = ["iptables", "-w", "-t", "nat", "-A", "POSTROUTING"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            if let Some(p) = proto {
                args.extend(["-p".to_string(), p.to_string()]);
            }
            args.extend(["-o", NAT_OUT_IF, "-j", "MASQUERADE"].map(String::from));
            args.extend(extra);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            self.nat.run_ok(&args);
        };
        match masq {
            // Port ranges need a protocol: UDP (IKE, NAT-T) gets them, the rest plain MASQUERADE.
            Masquerade::ToPorts(..) => {
                rule(Some("udp"), masq.args());
                rule(None, Vec::new());
            }
            _ => rule(None, masq.args()),
        }
    }

    /// Forgets every NAT mapping (`conntrack -F`): the next packet from rw gets a new one.
    #[track_caller]
    pub fn flush_conntrack(&self) {
        self.nat.run_ok(&["conntrack", "-F"]);
    }

    /// The router's current UDP mappings (`conntrack -L -p udp`), for messages.
    pub fn mappings(&self) -> Output {
        self.nat.run(&["conntrack", "-L", "-p", "udp"])
    }

    /// The per-test prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The test's work directory.
    pub fn dir(&self) -> &TestDir {
        &self.dir
    }

    /// A subdirectory of the work directory (created).
    #[track_caller]
    pub fn subdir(&self, name: &str) -> PathBuf {
        self.dir.subdir(name)
    }
}

/// Tools the NAT topology needs besides the namespace tools.
pub const NAT_TOOLS: &[&str] = &["iptables", "conntrack"];
