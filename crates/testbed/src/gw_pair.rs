//! Two Rampart gateways on [`Topology::net2net`](crate::Topology::net2net), as the data-plane
//! tests use them (`crates/rampart/tests/dataplane_*.rs`): one connection between gw1 and gw2
//! with a pre-shared key, gw1 initiating. What differs from test to test — outer family, UDP
//! encapsulation, net-to-net or host-to-host, the child's proposals and options — is a
//! [`GwPair`]; the rest of the two `rampart.toml` files is written here once.

use std::path::Path;

use crate::topology::addr;
use crate::{Netns, RampartDaemon, Topology};

/// One pair's configuration.
#[derive(Debug, Clone, Copy)]
pub struct GwPair<'a> {
    /// The connection's name (and the child is `net`, or `tra` in transport mode).
    pub conn: &'a str,
    /// IPv6 outer addresses (the gateways' own); IPv4 otherwise.
    pub outer_v6: bool,
    /// `encap = true`: ESP in UDP even without NAT.
    pub encap: bool,
    /// Transport mode between gw1 and gw2 themselves (selectors: their outer addresses);
    /// otherwise a tunnel between LAN1 and LAN2 (IPv4).
    pub transport: bool,
    /// Lines for the child's table: its proposals (`esp_proposals = [...]` or
    /// `ah_proposals = [...]`) and any options.
    pub child: &'a str,
    /// Lines for the `[daemon]` table (e.g. `metrics_listen`).
    pub daemon: &'a str,
}

impl GwPair<'_> {
    /// An ESP tunnel LAN1 ⇄ LAN2 over IPv4, `encap = true`, aes256gcm16.
    pub const ESP_IN_UDP: GwPair<'static> = GwPair {
        conn: "pair",
        outer_v6: false,
        encap: true,
        transport: false,
        child: "esp_proposals = [\"aes256gcm16\"]",
        daemon: "",
    };

    /// gw1's (`gw == 1`) or gw2's `rampart.toml`, with its control socket in `dir` and its TUN
    /// device called `tun`. gw1 starts the connection; gw2 waits.
    pub fn conf(&self, gw: u8, dir: &Path, tun: &str) -> String {
        let (me, peer) = match (gw, self.outer_v6) {
            (1, false) => (addr::GW1_V4, addr::GW2_V4),
            (_, false) => (addr::GW2_V4, addr::GW1_V4),
            (1, true) => (addr::GW1_V6, addr::GW2_V6),
            (_, true) => (addr::GW2_V6, addr::GW1_V6),
        };
        let (lan, peer_lan, me_id, peer_id, start) = if gw == 1 {
            (
                addr::LAN1_V4,
                addr::LAN2_V4,
                "gw1.example.org",
                "gw2.example.org",
                "start",
            )
        } else {
            (
                addr::LAN2_V4,
                addr::LAN1_V4,
                "gw2.example.org",
                "gw1.example.org",
                "none",
            )
        };
        let (name, selectors) = if self.transport {
            let len = if self.outer_v6 { 128 } else { 32 };
            (
                "tra",
                format!(
                    "mode = \"transport\"\nlocal_ts = [\"{me}/{len}\"]\nremote_ts = [\"{peer}/{len}\"]"
                ),
            )
        } else {
            (
                "net",
                format!("local_ts = [\"{lan}\"]\nremote_ts = [\"{peer_lan}\"]"),
            )
        };
        let conn = self.conn;
        let encap = if self.encap { "encap = true\n" } else { "" };
        format!(
            r#"[daemon]
control_socket = "{sock}"
tun_name = "{tun}"
log_level = "info"
{daemon}

[connections.{conn}]
local_addrs = ["{me}"]
remote_addrs = ["{peer}"]
{encap}[connections.{conn}.local]
auth = "psk"
id = "{me_id}"
[connections.{conn}.remote]
auth = "psk"
id = "{peer_id}"
[connections.{conn}.children.{name}]
{selectors}
start_action = "{start}"
{child}

[secrets.ike.gws]
ids = ["gw1.example.org", "gw2.example.org"]
secret = "gw-pair-psk-not-secret-0123456789"
"#,
            sock = RampartDaemon::socket_in(dir).display(),
            daemon = self.daemon,
            child = self.child,
        )
    }

    /// Starts gw2, then gw1 (which initiates), in `topo`'s gateways with work directories
    /// `gw1`/`gw2` and TUN devices `{prefix}1`/`{prefix}2`. Returns `(gw1, gw2)`.
    pub fn start(
        &self,
        bin: &Path,
        topo: &Topology,
        prefix: &str,
    ) -> (RampartDaemon, RampartDaemon) {
        let (d1, d2) = (topo.subdir("gw1"), topo.subdir("gw2"));
        let gw2 = RampartDaemon::start(
            bin,
            &topo.gw2,
            &d2,
            &self.conf(2, &d2, &format!("{prefix}2")),
        );
        let gw1 = RampartDaemon::start(
            bin,
            &topo.gw1,
            &d1,
            &self.conf(1, &d1, &format!("{prefix}1")),
        );
        (gw1, gw2)
    }
}

/// The packets counted so far by the named nftables counter `name` of table `inet table` in
/// `ns` (panics when there is no such counter).
pub fn nft_counter(ns: &Netns, table: &str, name: &str) -> u64 {
    let out = ns.run(&["nft", "list", "counter", "inet", table, name]);
    assert!(out.ok(), "{out}");
    out.stdout
        .split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count: {out}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_parses_and_says_what_was_asked() {
        let dir = Path::new("/tmp/x");
        let p = GwPair {
            outer_v6: true,
            encap: false,
            transport: true,
            child: "ah_proposals = [\"sha256\"]",
            ..GwPair::ESP_IN_UDP
        };
        let c1 = p.conf(1, dir, "t1");
        let v: toml::Value = toml::from_str(&c1).expect("valid TOML");
        let child = &v["connections"]["pair"]["children"]["tra"];
        assert_eq!(child["mode"].as_str(), Some("transport"));
        assert_eq!(
            child["local_ts"][0].as_str(),
            Some(format!("{}/128", addr::GW1_V6).as_str())
        );
        assert_eq!(child["start_action"].as_str(), Some("start"));
        assert_eq!(child["ah_proposals"][0].as_str(), Some("sha256"));
        assert!(v["connections"]["pair"].get("encap").is_none());
        let c2: toml::Value = toml::from_str(&GwPair::ESP_IN_UDP.conf(2, dir, "t2")).unwrap();
        let conn = &c2["connections"]["pair"];
        assert_eq!(conn["encap"].as_bool(), Some(true));
        assert_eq!(conn["local_addrs"][0].as_str(), Some(addr::GW2_V4));
        let net = &conn["children"]["net"];
        assert_eq!(net["remote_ts"][0].as_str(), Some(addr::LAN1_V4));
        assert_eq!(net["start_action"].as_str(), Some("none"));
    }
}
