//! The road-warrior network and helpers shared by the suite's tests.
//!
//! ```text
//!   c  203.0.113.2, 2001:db8:0:1::2 ─┐                   ┌─ l  198.51.100.2, 2001:db8:0:2::2
//!   c2 203.0.113.3, 2001:db8:0:1::3 ─┼─ w ─ s 203.0.113.1 ┤    (routes the pools back to s)
//!   c3 203.0.113.4, 2001:db8:0:1::4 ─┘     2001:db8:0:1::1└─ i  192.0.2.2, 2001:db8:0:3::2
//!                                                               (no route back: masquerade only)
//! ```
//! Namespaces are `<prefix>-s`, `-l`, `-i`, `-c`, `-c2`, ... and `-w`: a bridge when there are
//! several clients (none with one: a veth straight to the server), or a MASQUERADE router with
//! [`Net::behind_nat`]. The clients' IPv6 default route is the server (in clear unless a
//! tunnel takes it). The server's pools are 198.51.100.128/25 and 2001:db8:feed::/112, its
//! DNS servers 198.51.100.53 and 2001:db8::53.

use std::path::{Path, PathBuf};
use std::time::Duration;

use testbed::swan_pki::{self, KeyKind};
use testbed::{Charon, Netns, RampartDaemon};

pub const LAN_HOST: &str = "198.51.100.2";
pub const LAN_HOST6: &str = "2001:db8:0:2::2";
pub const INET_HOST: &str = "192.0.2.2";
pub const INET_HOST6: &str = "2001:db8:0:3::2";
pub const SERVER: &str = "203.0.113.1";
pub const DNS4: &str = "198.51.100.53";
pub const DNS6: &str = "2001:db8::53";
pub const WAIT: Duration = Duration::from_secs(15);

/// The rampart binary under test.
pub fn rampart() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// strongSwan's EAP-MSCHAPv2 plugin (Debian: libcharon-extauth-plugins).
const MSCHAPV2_PLUGIN: &str = "/usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so";

/// Root, strongSwan with EAP-MSCHAPv2, `pki` and `nft`/`iptables`: true when the test may run;
/// under CI=true anything missing fails the test, elsewhere it prints SKIPPED.
pub fn ready() -> bool {
    let mut tools = testbed::STRONGSWAN_TOOLS.to_vec();
    tools.extend_from_slice(swan_pki::PKI_TOOLS);
    if !testbed::require_root_and_tools(&tools) {
        return false;
    }
    if Path::new(MSCHAPV2_PLUGIN).exists() {
        return true;
    }
    let reason = format!("{MSCHAPV2_PLUGIN} not found (package libcharon-extauth-plugins)");
    assert!(
        !testbed::privilege::in_ci(),
        "CI=true and this namespace test cannot run: {reason}"
    );
    eprintln!("SKIPPED: {reason}");
    false
}

/// The server's masquerading rules for the IPv4 pool: nftables table `inet rampart`, or the
/// iptables chain `RAMPART-NAT` where `nft` is absent. `None` when there are none.
pub fn nat_rules(srv: &Netns) -> Option<String> {
    let nft = srv.run(&["nft", "list", "table", "inet", "rampart"]);
    if nft.ok() {
        return Some(nft.stdout);
    }
    let ipt = srv.run(&["iptables", "-t", "nat", "-S", "RAMPART-NAT"]);
    ipt.ok().then_some(ipt.stdout)
}

/// Server, lan host, internet host and the client namespaces, wired up. Fields drop in
/// declaration order after the daemons the test declares later.
pub struct Net {
    pub srv: Netns,
    pub lan: Netns,
    _inet: Netns,
    /// The clients: `clis[i]` has address 203.0.113.(2+i) on `c-wan`.
    pub clis: Vec<Netns>,
    _switch: Option<Netns>,
}

impl Net {
    /// One client (`<p>-c`), straight to the server.
    pub fn new(p: &str) -> Net {
        Net::with_clients(p, 1)
    }

    /// `n` clients (`<p>-c`, `<p>-c2`, ...); more than one share a bridge in `<p>-w`.
    pub fn with_clients(p: &str, n: usize) -> Net {
        Net::build(p, n, false)
    }

    /// `n` clients behind one NAT router `<p>-w`: the clients are 203.0.113.130, .131, ... on
    /// the router's bridge (203.0.113.129/25), the router is 203.0.113.2 towards the server
    /// (203.0.113.1/25) and MASQUERADEs everything leaving there (iptables; Linux keeps a
    /// source port while it is free, so the second client's IKE port is translated).
    pub fn behind_nat(p: &str, n: usize) -> Net {
        Net::build(p, n, true)
    }

    fn build(p: &str, n: usize, nat: bool) -> Net {
        let srv = Netns::new(&format!("{p}-s"));
        let clis: Vec<Netns> = (0..n)
            .map(|i| match i {
                0 => Netns::new(&format!("{p}-c")),
                _ => Netns::new(&format!("{p}-c{}", i + 1)),
            })
            .collect();
        let switch = (n > 1 || nat).then(|| Netns::new(&format!("{p}-w")));
        match &switch {
            None => {
                if let Some(c) = clis.first() {
                    Netns::veth(&srv, "s-wan", c, "c-wan");
                }
            }
            Some(w) => {
                w.ip(&["link", "add", "br0", "type", "bridge"]);
                w.ip(&["link", "set", "br0", "up"]);
                Netns::veth(&srv, "s-wan", w, "w-s");
                if !nat {
                    w.ip(&["link", "set", "w-s", "master", "br0"]);
                }
                for (i, c) in clis.iter().enumerate() {
                    let port = format!("w-c{i}");
                    Netns::veth(c, "c-wan", w, &port);
                    w.ip(&["link", "set", &port, "master", "br0"]);
                }
            }
        }
        if nat {
            let w = switch.as_ref().expect("the router");
            srv.add_addr("s-wan", "203.0.113.1/25");
            w.add_addr("w-s", "203.0.113.2/25");
            w.add_addr("br0", "203.0.113.129/25");
            w.sysctl("net.ipv4.ip_forward", "1");
            w.run_ok(&[
                "iptables",
                "-w",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-o",
                "w-s",
                "-j",
                "MASQUERADE",
            ]);
            for (i, c) in clis.iter().enumerate() {
                c.add_addr("c-wan", &format!("203.0.113.{}/25", i + 130));
                c.add_route("default", "203.0.113.129");
            }
        } else {
            srv.add_addr("s-wan", "203.0.113.1/24");
            srv.add_addr("s-wan", "2001:db8:0:1::1/64");
            for (i, c) in clis.iter().enumerate() {
                c.add_addr("c-wan", &format!("203.0.113.{}/24", i + 2));
                c.add_addr("c-wan", &format!("2001:db8:0:1::{}/64", i + 2));
                // IPv6 to anywhere goes to the server in clear unless a tunnel takes it.
                c.add_route("default", "2001:db8:0:1::1");
            }
        }
        let lan = Netns::new(&format!("{p}-l"));
        Netns::veth(&srv, "s-lan", &lan, "l-eth");
        srv.add_addr("s-lan", "198.51.100.1/26");
        lan.add_addr("l-eth", "198.51.100.2/26");
        srv.add_addr("s-lan", "2001:db8:0:2::1/64");
        lan.add_addr("l-eth", "2001:db8:0:2::2/64");
        lan.add_route("198.51.100.128/25", "198.51.100.1");
        lan.add_route("2001:db8:feed::/112", "2001:db8:0:2::1");
        let inet = Netns::new(&format!("{p}-i"));
        Netns::veth(&srv, "s-inet", &inet, "i-eth");
        srv.add_addr("s-inet", "192.0.2.1/24");
        inet.add_addr("i-eth", "192.0.2.2/24");
        srv.add_addr("s-inet", "2001:db8:0:3::1/64");
        inet.add_addr("i-eth", "2001:db8:0:3::2/64");
        // The internet host has no route back to the pools: only masquerading answers. It
        // does reach the clients' outer IPv6 addresses (a leak would get its answer).
        inet.add_route("2001:db8:0:1::/64", "2001:db8:0:3::1");
        Net {
            srv,
            lan,
            _inet: inet,
            clis,
            _switch: switch,
        }
    }

    /// The first client.
    pub fn cli(&self) -> &Netns {
        &self.clis[0]
    }
}

/// Issues a CA, the server's certificate (vpn.example.org, EKU serverAuth) and one client
/// certificate per name in `clients` (`<name>.example.org`, EKU clientAuth) in `dir`.
pub fn certs(dir: &Path, clients: &[&str]) -> Vec<testbed::side::CertFiles> {
    let ids: Vec<String> = clients.iter().map(|c| format!("{c}.example.org")).collect();
    let mut spec: Vec<(&str, &[&str])> = vec![("vpn.example.org", &["serverAuth"])];
    spec.extend(ids.iter().map(|i| (i.as_str(), &["clientAuth"][..])));
    swan_pki::issue_with_eku(dir, KeyKind::Ecdsa, &spec)
}

/// The head of a server config: daemon settings and the two pools (v6 optional).
pub fn server_head(dir: &Path, v6_pool: bool) -> String {
    let mut s = format!(
        r#"[daemon]
control_socket = "{sock}"
state_dir = "{state}"
ike_port = 500
[pools.v4]
addrs = "198.51.100.128/25"
masquerade = true
"#,
        sock = RampartDaemon::socket_in(dir).display(),
        state = dir.join("state").display(),
    );
    if v6_pool {
        s.push_str("[pools.v6]\naddrs = \"2001:db8:feed::/112\"\n");
    }
    s
}

/// How a server connection authenticates its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// EAP-MSCHAPv2 users; the server proves itself with its certificate.
    Eap,
    /// A PSK per client identity (both sides prove themselves with it).
    Psk,
    /// Client certificates from the CA; the server proves itself with its certificate.
    Cert,
}

/// A `%any` server connection `name` (child `name` too) handing out the pools with DNS: full
/// tunnel, clients narrowed to their virtual IPs.
pub fn server_conn(
    name: &str,
    auth: ClientAuth,
    server: &testbed::side::CertFiles,
    v6_pool: bool,
) -> String {
    let local = match auth {
        ClientAuth::Psk => "auth = \"psk\"\nid = \"vpn.example.org\"".to_string(),
        ClientAuth::Eap | ClientAuth::Cert => format!(
            "auth = \"pubkey\"\ncert = \"{}\"\nkey = \"{}\"\nid = \"vpn.example.org\"",
            server.cert.display(),
            server.key.display()
        ),
    };
    let remote = match auth {
        ClientAuth::Eap => "auth = \"eap-mschapv2\"",
        ClientAuth::Psk => "auth = \"psk\"",
        ClientAuth::Cert => "auth = \"pubkey\"",
    };
    let pools = if v6_pool { "\"v4\", \"v6\"" } else { "\"v4\"" };
    format!(
        r#"[connections.{name}]
remote_addrs = ["%any"]
pools = [{pools}]
dns = ["{DNS4}", "{DNS6}"]
[connections.{name}.local]
{local}
[connections.{name}.remote]
{remote}
id = "%any"
[connections.{name}.children.{name}]
local_ts = ["0.0.0.0/0", "::/0"]
remote_ts = ["dynamic"]
"#
    )
}

/// `[authorities.ca]` with the test CA.
pub fn authority(ca: &Path) -> String {
    format!("[authorities.ca]\ncacert = \"{}\"\n", ca.display())
}

/// `[secrets.eap.NAME]` for user `name`.
pub fn eap_user(name: &str, password: &str) -> String {
    format!("[secrets.eap.{name}]\nuser = \"{name}\"\nsecret = \"{password}\"\n")
}

/// A `[secrets.ike.NAME]` naming only the client `id`.
pub fn client_psk(name: &str, id: &str, psk: &str) -> String {
    format!("[secrets.ike.{name}]\nids = [\"{id}\"]\nsecret = \"{psk}\"\n")
}

/// `rampart list-pools --json`'s result.
pub fn pools_json(d: &RampartDaemon) -> serde_json::Value {
    let out = d.cli(&["list-pools", "--json"]);
    assert!(out.ok(), "list-pools failed: {out}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("list-pools JSON");
    v.get("result").cloned().unwrap_or(v)
}

/// (address, identity, online) of every lease of pool `name`.
pub fn leases(d: &RampartDaemon, name: &str) -> Vec<(String, String, bool)> {
    let v = pools_json(d);
    let pool = v["pools"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == name).cloned())
        .unwrap_or_default();
    pool["leases"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    (
                        l["address"].as_str().unwrap_or("").to_string(),
                        l["identity"].as_str().unwrap_or("").to_string(),
                        l["online"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `rampart counters --json`'s result.
pub fn counters(d: &RampartDaemon) -> serde_json::Value {
    let out = d.cli(&["counters", "--json"]);
    assert!(out.ok(), "counters failed: {out}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("counters JSON");
    v.get("result").cloned().unwrap_or(v)
}

/// The data plane's drop count for `reason` (0 when not reported).
pub fn drops(d: &RampartDaemon, reason: &str) -> u64 {
    counters(d)["drops"][reason].as_u64().unwrap_or(0)
}

/// The virtual IP of family v4 (`v6 = false`) or v6 of charon's established SA `conn`.
pub fn swan_vip_of(c: &Charon, conn: &str, v6: bool) -> Option<String> {
    c.list_sas()
        .into_iter()
        .filter(|s| s.name == conn && s.state == "ESTABLISHED")
        .flat_map(|s| s.children)
        .flat_map(|ch| ch.local_ts)
        .find(|t| t.contains(':') == v6)
        .map(|t| {
            t.trim_end_matches("/32")
                .trim_end_matches("/128")
                .to_string()
        })
}

/// The IPv4 virtual IP of charon's established SA `conn`.
pub fn swan_vip(c: &Charon, conn: &str) -> Option<String> {
    swan_vip_of(c, conn, false)
}

/// A strongSwan client connection `rw` (child `rw`) to the server asking for virtual IPs of
/// both families; `local` is its `local { }` section, `secrets` the `secrets { }` body.
pub fn swan_client_conf(ca: &Path, local: &str, secrets: &str) -> String {
    swan_client_conf_to(ca, local, "auth = pubkey", secrets)
}

/// Like [`swan_client_conf`] with the `remote { }` auth line given (e.g. `auth = psk`).
pub fn swan_client_conf_to(ca: &Path, local: &str, remote_auth: &str, secrets: &str) -> String {
    format!(
        r#"connections {{
  rw {{
    remote_addrs = {SERVER}
    vips = 0.0.0.0, ::
    local {{
      {local}
    }}
    remote {{
      {remote_auth}
      id = vpn.example.org
    }}
    children {{
      rw {{
        remote_ts = 198.51.100.0/26, 192.0.2.0/24, 2001:db8:0:2::/64
        esp_proposals = aes256gcm16
      }}
    }}
  }}
}}
authorities {{
  ca {{
    cacert = {ca}
  }}
}}
secrets {{
{secrets}
}}
"#,
        ca = ca.display()
    )
}

/// The DNS servers charon's resolve plugin wrote (testbed points it at its work dir).
pub fn swan_dns(c: &Charon) -> String {
    std::fs::read_to_string(c.dir().join("resolv.conf")).unwrap_or_default()
}

/// `/etc/netns/NS`, removed on drop (`ip netns exec NS` shows its files over /etc).
pub struct EtcNetns(pub PathBuf);

impl EtcNetns {
    pub fn new(ns: &Netns) -> Self {
        let p = PathBuf::from(format!("/etc/netns/{}", ns.name()));
        std::fs::create_dir_all(&p).unwrap();
        EtcNetns(p)
    }

    pub fn resolv(&self) -> PathBuf {
        self.0.join("resolv.conf")
    }
}

impl Drop for EtcNetns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
