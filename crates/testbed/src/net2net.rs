//! Configurations for a net-to-net tunnel over [`crate::Topology::net2net`], rendered both as
//! strongSwan's swanctl.conf and as Rampart's TOML (docs/config.md), from one description, so a
//! test case is a table row.

use std::path::Path;

use crate::topology::addr;

/// The connection's name on every side.
pub const CONN: &str = "net2net";
/// The child's name on every side.
pub const CHILD: &str = "net";
/// The pre-shared key both sides use unless a test changes one side's.
pub const PSK: &str = "testbed-psk-not-secret-0123456789";

/// Address family of the outer (IKE/ESP) addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// 192.0.2.1 <-> 192.0.2.2
    V4,
    /// 2001:db8:1::1 <-> 2001:db8:1::2
    V6,
}

/// One of the two gateways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gw {
    /// In front of h1 (LAN 203.0.113.0/24, 2001:db8:2::/64).
    Gw1,
    /// In front of h2 (LAN 198.51.100.0/24, 2001:db8:3::/64).
    Gw2,
}

impl Gw {
    /// The other gateway.
    pub fn peer(self) -> Gw {
        match self {
            Gw::Gw1 => Gw::Gw2,
            Gw::Gw2 => Gw::Gw1,
        }
    }
}

/// A net-to-net tunnel between gw1 and gw2. Clone it and change a field to give one side a
/// different view (a wrong PSK, another proposal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net2Net {
    /// Outer address family.
    pub outer: Family,
    /// Whether the selectors also carry the IPv6 LANs (mixed IPv4 + IPv6 selectors).
    pub inner_v6: bool,
    /// IKE proposal in strongSwan syntax, e.g. `aes256gcm16-prfsha256-x25519`.
    pub ike_proposal: String,
    /// ESP proposal in strongSwan syntax, e.g. `aes256gcm16`.
    pub esp_proposal: String,
    /// The pre-shared key.
    pub psk: String,
    /// Rampart only: force UDP encapsulation (`encap = true`) even without NAT.
    pub encap: bool,
}

impl Net2Net {
    /// A tunnel with the given outer family and proposals, IPv4 selectors only, the common PSK.
    pub fn new(outer: Family, ike_proposal: &str, esp_proposal: &str) -> Net2Net {
        Net2Net {
            outer,
            inner_v6: false,
            ike_proposal: ike_proposal.to_string(),
            esp_proposal: esp_proposal.to_string(),
            psk: PSK.to_string(),
            encap: false,
        }
    }

    /// The same with the IPv6 LANs added to the selectors.
    pub fn with_inner_v6(mut self) -> Net2Net {
        self.inner_v6 = true;
        self
    }

    /// The same with another PSK (for one side of a wrong-PSK test).
    pub fn with_psk(mut self, psk: &str) -> Net2Net {
        self.psk = psk.to_string();
        self
    }

    /// The same with other proposals (for one side of a mismatch test).
    pub fn with_proposals(mut self, ike: &str, esp: &str) -> Net2Net {
        self.ike_proposal = ike.to_string();
        self.esp_proposal = esp.to_string();
        self
    }

    /// The same with Rampart's `encap` forced on.
    pub fn with_encap(mut self) -> Net2Net {
        self.encap = true;
        self
    }

    /// The gateway's outer address.
    pub fn addr(&self, gw: Gw) -> &'static str {
        match (self.outer, gw) {
            (Family::V4, Gw::Gw1) => addr::GW1_V4,
            (Family::V4, Gw::Gw2) => addr::GW2_V4,
            (Family::V6, Gw::Gw1) => addr::GW1_V6,
            (Family::V6, Gw::Gw2) => addr::GW2_V6,
        }
    }

    /// The gateway's IKE identity (an FQDN).
    pub fn id(&self, gw: Gw) -> &'static str {
        match gw {
            Gw::Gw1 => "gw1.example.org",
            Gw::Gw2 => "gw2.example.org",
        }
    }

    /// The LAN(s) behind `gw`: the traffic selectors it protects.
    pub fn lans(&self, gw: Gw) -> Vec<&'static str> {
        let (v4, v6) = match gw {
            Gw::Gw1 => (addr::LAN1_V4, addr::LAN1_V6),
            Gw::Gw2 => (addr::LAN2_V4, addr::LAN2_V6),
        };
        if self.inner_v6 {
            vec![v4, v6]
        } else {
            vec![v4]
        }
    }

    /// strongSwan swanctl.conf for charon on `gw` (no start_action: tests initiate explicitly
    /// with `swanctl --initiate`).
    pub fn swanctl_conf(&self, gw: Gw) -> String {
        let peer = gw.peer();
        format!(
            r#"connections {{
  {CONN} {{
    version = 2
    local_addrs = {local_addr}
    remote_addrs = {remote_addr}
    proposals = {ike}
    local {{
      auth = psk
      id = {local_id}
    }}
    remote {{
      auth = psk
      id = {remote_id}
    }}
    children {{
      {CHILD} {{
        local_ts = {local_ts}
        remote_ts = {remote_ts}
        esp_proposals = {esp}
        mode = tunnel
      }}
    }}
  }}
}}
secrets {{
  ike-{CONN} {{
    id-1 = {local_id}
    id-2 = {remote_id}
    secret = "{psk}"
  }}
}}
"#,
            local_addr = self.addr(gw),
            remote_addr = self.addr(peer),
            ike = self.ike_proposal,
            esp = self.esp_proposal,
            local_id = self.id(gw),
            remote_id = self.id(peer),
            local_ts = self.lans(gw).join(", "),
            remote_ts = self.lans(peer).join(", "),
            psk = self.psk,
        )
    }

    /// Rampart's TOML (docs/config.md) for `gw`, with the control socket and TUN name the test
    /// chose; `start` sets `start_action = "start"` (initiate when the daemon starts).
    pub fn rampart_toml(&self, gw: Gw, socket: &Path, tun_name: &str, start: bool) -> String {
        let peer = gw.peer();
        let list = |v: Vec<&str>| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            r#"[daemon]
control_socket = "{socket}"
tun_name = "{tun_name}"
log_level = "debug"

[connections.{CONN}]
version = 2
local_addrs = ["{local_addr}"]
remote_addrs = ["{remote_addr}"]
proposals = ["{ike}"]
encap = {encap}
keyingtries = 1

[connections.{CONN}.local]
auth = "psk"
id = "{local_id}"

[connections.{CONN}.remote]
auth = "psk"
id = "{remote_id}"

[connections.{CONN}.children.{CHILD}]
local_ts = [{local_ts}]
remote_ts = [{remote_ts}]
esp_proposals = ["{esp}"]
mode = "tunnel"
start_action = "{start_action}"

[secrets.ike.{CONN}]
ids = ["{local_id}", "{remote_id}"]
secret = "{psk}"
"#,
            socket = socket.display(),
            local_addr = self.addr(gw),
            remote_addr = self.addr(peer),
            ike = self.ike_proposal,
            esp = self.esp_proposal,
            encap = self.encap,
            local_id = self.id(gw),
            remote_id = self.id(peer),
            local_ts = list(self.lans(gw)),
            remote_ts = list(self.lans(peer)),
            start_action = if start { "start" } else { "none" },
            psk = self.psk,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swanctl_sides_mirror_each_other() {
        let c = Net2Net::new(Family::V6, "aes128-sha256-ecp256", "aes128-sha256").with_inner_v6();
        let gw1 = c.swanctl_conf(Gw::Gw1);
        assert!(gw1.contains("local_addrs = 2001:db8:1::1\n"));
        assert!(gw1.contains("remote_addrs = 2001:db8:1::2\n"));
        assert!(gw1.contains("local_ts = 203.0.113.0/24, 2001:db8:2::/64\n"));
        assert!(gw1.contains("remote_ts = 198.51.100.0/24, 2001:db8:3::/64\n"));
        assert!(gw1.contains("esp_proposals = aes128-sha256\n"));
        let gw2 = c.swanctl_conf(Gw::Gw2);
        assert!(gw2.contains("local_ts = 198.51.100.0/24, 2001:db8:3::/64\n"));
        assert!(gw2.contains("id = gw2.example.org\n"));
    }

    #[test]
    fn rampart_toml_has_the_documented_keys() {
        let c =
            Net2Net::new(Family::V4, "aes256gcm16-prfsha256-x25519", "aes256gcm16").with_psk("x");
        let t = c.rampart_toml(Gw::Gw2, Path::new("/tmp/s.sock"), "rt0", true);
        assert!(t.contains("control_socket = \"/tmp/s.sock\"\n"));
        assert!(t.contains("tun_name = \"rt0\"\n"));
        assert!(t.contains("local_addrs = [\"192.0.2.2\"]\n"));
        assert!(t.contains("remote_ts = [\"203.0.113.0/24\"]\n"));
        assert!(t.contains("start_action = \"start\"\n"));
        assert!(t.contains("secret = \"x\"\n"));
        assert!(t.contains("encap = false\n"));
    }
}
