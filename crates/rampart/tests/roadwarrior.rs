//! Road warriors in network namespaces (docs/config.md "Road warriors"): a Rampart server hands
//! out virtual IPs from pools (198.51.100.128/25 and 2001:db8:feed::/112) with DNS servers, a
//! "lan" host sits behind it (198.51.100.2, routes the pool back) and an "internet" host
//! (192.0.2.2) is reached only through the server's masquerading. Clients: strongSwan's charon
//! (swanctl) with EAP-MSCHAPv2 and with a per-client PSK and an ID_KEY_ID identity, and Rampart
//! itself (vips + eap_id) with DNS applied in its namespace. Needs root; under CI=true a missing
//! tool fails the test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use testbed::swan_pki::{self, KeyKind};
use testbed::{ping, wait_until, Charon, Netns, RampartDaemon, TestDir};

const LAN_HOST: &str = "198.51.100.2";
const LAN_HOST6: &str = "2001:db8:0:2::2";
const INET_HOST: &str = "192.0.2.2";
const SERVER: &str = "203.0.113.1";
const WAIT: Duration = Duration::from_secs(15);

fn rampart() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}

/// strongSwan's EAP-MSCHAPv2 plugin (Debian: libcharon-extauth-plugins).
const MSCHAPV2_PLUGIN: &str = "/usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so";

fn ready() -> bool {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
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
fn nat_rules(srv: &Netns) -> Option<String> {
    let nft = srv.run(&["nft", "list", "table", "inet", "rampart"]);
    if nft.ok() {
        return Some(nft.stdout);
    }
    let ipt = srv.run(&["iptables", "-t", "nat", "-S", "RAMPART-NAT"]);
    ipt.ok().then_some(ipt.stdout)
}

/// Server, lan host, internet host and one client namespace, wired up.
struct Net {
    srv: Netns,
    lan: Netns,
    inet: Netns,
    cli: Netns,
}

impl Net {
    fn new(p: &str) -> Net {
        let n = Net {
            srv: Netns::new(&format!("{p}-s")),
            lan: Netns::new(&format!("{p}-l")),
            inet: Netns::new(&format!("{p}-i")),
            cli: Netns::new(&format!("{p}-c")),
        };
        Netns::veth(&n.srv, "s-wan", &n.cli, "c-wan");
        n.srv.add_addr("s-wan", "203.0.113.1/24");
        n.cli.add_addr("c-wan", "203.0.113.2/24");
        Netns::veth(&n.srv, "s-lan", &n.lan, "l-eth");
        n.srv.add_addr("s-lan", "198.51.100.1/26");
        n.lan.add_addr("l-eth", "198.51.100.2/26");
        n.srv.add_addr("s-lan", "2001:db8:0:2::1/64");
        n.lan.add_addr("l-eth", "2001:db8:0:2::2/64");
        n.lan.add_route("198.51.100.128/25", "198.51.100.1");
        n.lan.add_route("2001:db8:feed::/112", "2001:db8:0:2::1");
        Netns::veth(&n.srv, "s-inet", &n.inet, "i-eth");
        n.srv.add_addr("s-inet", "192.0.2.1/24");
        n.inet.add_addr("i-eth", "192.0.2.2/24");
        // The internet host has no route back to the pool: only masquerading answers.
        n
    }
}

/// Server certificate (vpn.example.org) and a client certificate, issued in `dir`.
fn certs(dir: &Path) -> Vec<testbed::side::CertFiles> {
    swan_pki::issue(
        dir,
        KeyKind::Ecdsa,
        &["vpn.example.org", "carol.example.org"],
    )
}

fn server_conf(dir: &Path, cert: &testbed::side::CertFiles, remote: &str, extra: &str) -> String {
    format!(
        r#"[daemon]
control_socket = "{sock}"
state_dir = "{state}"
ike_port = 500
[pools.v4]
addrs = "198.51.100.128/25"
masquerade = true
[pools.v6]
addrs = "2001:db8:feed::/112"
[connections.rw]
remote_addrs = ["%any"]
pools = ["v4", "v6"]
dns = ["198.51.100.53", "2001:db8::53"]
[connections.rw.local]
{local}
[connections.rw.remote]
{remote}
[connections.rw.children.rw]
local_ts = ["0.0.0.0/0", "::/0"]
remote_ts = ["dynamic"]
{extra}"#,
        sock = RampartDaemon::socket_in(dir).display(),
        state = dir.join("state").display(),
        local = if remote.contains("psk") {
            "auth = \"psk\"\nid = \"vpn.example.org\"".to_string()
        } else {
            format!(
                "auth = \"pubkey\"\ncert = \"{}\"\nkey = \"{}\"\nid = \"vpn.example.org\"",
                cert.cert.display(),
                cert.key.display()
            )
        },
    )
}

fn pools_json(d: &RampartDaemon) -> serde_json::Value {
    let out = d.cli(&["list-pools", "--json"]);
    assert!(out.ok(), "list-pools failed: {out}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("list-pools JSON");
    v.get("result").cloned().unwrap_or(v)
}

/// (address, identity, online) of every lease of pool `name`.
fn leases(d: &RampartDaemon, name: &str) -> Vec<(String, String, bool)> {
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

/// The IPv4 virtual IP of charon's established SA of connection `conn`, if any.
fn swan_vip(c: &Charon, conn: &str) -> Option<String> {
    c.list_sas()
        .into_iter()
        .filter(|s| s.name == conn && s.state == "ESTABLISHED")
        .flat_map(|s| s.children)
        .flat_map(|ch| ch.local_ts)
        .find(|t| !t.contains(':'))
        .map(|t| t.trim_end_matches("/32").to_string())
}

fn swan_client_conf(ca: &Path, local: &str, secrets: &str) -> String {
    format!(
        r#"connections {{
  rw {{
    remote_addrs = {SERVER}
    vips = 0.0.0.0, ::
    {local}
    remote {{
      auth = pubkey
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

#[test]
fn strongswan_eap_mschapv2_road_warrior() {
    if !ready() {
        return;
    }
    let dir = TestDir::new("rwe");
    let net = Net::new("rwe");
    let c = certs(&dir.subdir("pki"));
    let srv_dir = dir.subdir("srv");
    let conf = server_conf(
        &srv_dir,
        &c[0],
        "auth = \"eap-mschapv2\"",
        "[secrets.eap.alice]\nuser = \"alice\"\nsecret = \"alice-password-0123\"\n\
         [secrets.eap.bob]\nuser = \"bob\"\nsecret = \"bob-password-0123\"\n",
    );
    let mut server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    let charon = Charon::start(&net.cli, &dir.subdir("cli"));
    let local = "local {\n      auth = eap-mschapv2\n      eap_id = alice\n    }";
    let secrets = "  eap-alice {\n    id = alice\n    secret = alice-password-0123\n  }\n  \
                   eap-bob {\n    id = bob\n    secret = not-bobs-password\n  }";
    let swan_conf = swan_client_conf(&c[0].ca, local, secrets);
    charon.load_config(&swan_conf);

    // Connect: a virtual IP of each family, DNS servers pushed, both hosts reachable.
    let out = charon.initiate("rw");
    assert!(out.ok(), "initiate failed: {out}\n{}", charon.log());
    let vip = swan_vip(&charon, "rw").expect("a virtual IP");
    assert_eq!(vip, "198.51.100.129", "{}", charon.list_sas_text());
    let log = charon.log();
    assert!(
        log.contains("installing new virtual IP 198.51.100.129"),
        "{log}"
    );
    assert!(
        log.contains("installing new virtual IP 2001:db8:feed::1"),
        "{log}"
    );
    assert!(
        wait_until(WAIT, || std::fs::read_to_string(
            charon.dir().join("resolv.conf")
        )
        .is_ok_and(
            |r| r.contains("198.51.100.53") && r.contains("2001:db8::53")
        )),
        "DNS servers not installed by charon:\n{log}"
    );
    assert!(ping(&net.cli, LAN_HOST, 3), "lan host unreachable");
    assert!(ping(&net.cli, LAN_HOST6, 3), "lan host (IPv6) unreachable");
    assert!(
        ping(&net.cli, INET_HOST, 3),
        "internet host unreachable (NAT)"
    );
    let nat = nat_rules(&net.srv).unwrap_or_default();
    assert!(
        nat.contains("198.51.100.128/25") && nat.to_lowercase().contains("masquerade"),
        "{nat}"
    );
    assert_eq!(
        leases(&server, "v4"),
        [("198.51.100.129".to_string(), "alice".to_string(), true)]
    );

    // A wrong password: refused, with one clear line on the server.
    let before = server.log().lines().count();
    let out = swanctl_initiate_conn(&charon, &swan_conf, "bob");
    assert!(!out.ok(), "bob with a wrong password got in: {out}");
    let log = server.log();
    let lines: Vec<&str> = log
        .lines()
        .skip(before)
        .filter(|l| l.contains("EAP-Failure"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("bob"), "{}", lines[0]);

    // Reconnect: the same address.
    let out = charon.terminate_ike("rw");
    assert!(out.ok(), "terminate failed: {out}");
    assert!(wait_until(WAIT, || server.ike_sas().is_empty()));
    assert_eq!(
        leases(&server, "v4"),
        [("198.51.100.129".to_string(), "alice".to_string(), false)]
    );
    let out = charon.initiate("rw");
    assert!(out.ok(), "re-initiate failed: {out}");
    assert_eq!(swan_vip(&charon, "rw").as_deref(), Some("198.51.100.129"));
    assert!(ping(&net.cli, LAN_HOST, 3));

    // Restart the server: the lease survives (offline), and alice gets it again.
    server.stop();
    assert_eq!(nat_rules(&net.srv), None, "NAT rules left behind");
    let server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    assert_eq!(
        leases(&server, "v4"),
        [("198.51.100.129".to_string(), "alice".to_string(), false)]
    );
    assert!(wait_until(WAIT, || charon.list_sas().is_empty()));
    let out = charon.initiate("rw");
    assert!(out.ok(), "initiate after restart failed: {out}");
    assert_eq!(swan_vip(&charon, "rw").as_deref(), Some("198.51.100.129"));
    assert!(ping(&net.cli, INET_HOST, 3));
}

/// Loads a copy of the client config whose EAP identity is `user`, initiates it, restores.
fn swanctl_initiate_conn(charon: &Charon, conf: &str, user: &str) -> testbed::cmd::Output {
    let other = conf
        .replacen("  rw {", "  other {", 1)
        .replace("eap_id = alice", &format!("eap_id = {user}"))
        .replacen("      rw {", "      other {", 1);
    charon.load_config(&other);
    let out = charon.initiate("other");
    charon.load_config(conf);
    out
}

#[test]
fn strongswan_psk_road_warrior_with_key_id() {
    if !ready() {
        return;
    }
    let dir = TestDir::new("rwp");
    let net = Net::new("rwp");
    let c = certs(&dir.subdir("pki"));
    let srv_dir = dir.subdir("srv");
    // Android's built-in client sends ID_KEY_ID; the key names only that client.
    let conf = server_conf(
        &srv_dir,
        &c[0],
        "auth = \"psk\"",
        "[secrets.ike.android]\nids = [\"@#616e64726f6964\"]\nsecret = \"android-psk-0123456789\"\n\
         [secrets.ike.server]\nids = [\"vpn.example.org\"]\nsecret = \"every-client-knows-this\"\n",
    );
    let server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    let charon = Charon::start(&net.cli, &dir.subdir("cli"));
    let swan = |id: &str, psk: &str| {
        format!(
            r#"connections {{
  rw {{
    remote_addrs = {SERVER}
    vips = 0.0.0.0
    local {{
      auth = psk
      id = "{id}"
    }}
    remote {{
      auth = psk
      id = vpn.example.org
    }}
    children {{
      rw {{
        remote_ts = 198.51.100.0/26, 192.0.2.0/24
        esp_proposals = aes256gcm16
      }}
    }}
  }}
}}
secrets {{
  ike-1 {{
    id-1 = "{id}"
    id-2 = vpn.example.org
    secret = {psk}
  }}
}}
"#
        )
    };
    // A client whose identity has no key of its own cannot use the server's key.
    charon.load_config(&swan("mallory.example.org", "every-client-knows-this"));
    let out = charon.initiate("rw");
    assert!(!out.ok(), "a client without its own PSK got in: {out}");
    assert!(
        server
            .log()
            .contains("no pre-shared key for 'vpn.example.org' - 'mallory.example.org'"),
        "{}",
        server.log()
    );
    charon.load_config(&swan("@#616e64726f6964", "android-psk-0123456789"));
    let out = charon.initiate("rw");
    assert!(out.ok(), "initiate failed: {out}\n{}", charon.log());
    assert_eq!(swan_vip(&charon, "rw").as_deref(), Some("198.51.100.129"));
    assert!(ping(&net.cli, LAN_HOST, 3));
    assert!(ping(&net.cli, INET_HOST, 3));
    let l = leases(&server, "v4");
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].1, "@#616e64726f6964");
}

#[test]
fn rampart_client_against_rampart_server() {
    if !ready() {
        return;
    }
    let dir = TestDir::new("rwr");
    let net = Net::new("rwr");
    let c = certs(&dir.subdir("pki"));
    let srv_dir = dir.subdir("srv");
    let conf = server_conf(
        &srv_dir,
        &c[0],
        "auth = \"eap-mschapv2\"",
        "[secrets.eap.alice]\nuser = \"alice\"\nsecret = \"alice-password-0123\"\n",
    );
    let _server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    // `ip netns exec` shows /etc/netns/NS/resolv.conf as /etc/resolv.conf.
    let etc = PathBuf::from(format!("/etc/netns/{}", net.cli.name()));
    let _etc_guard = EtcNetns::new(&etc);
    std::fs::write(etc.join("resolv.conf"), "nameserver 203.0.113.53\n").unwrap();
    let cli_dir = dir.subdir("rcli");
    let cli_conf = format!(
        r#"[daemon]
control_socket = "{sock}"
state_dir = "{state}"
[connections.home]
remote_addrs = ["{SERVER}"]
vips = ["0.0.0.0", "::"]
encap = true
[connections.home.local]
auth = "eap-mschapv2"
eap_id = "alice"
[connections.home.remote]
auth = "pubkey"
id = "vpn.example.org"
[connections.home.children.home]
local_ts = ["dynamic"]
remote_ts = ["0.0.0.0/0", "::/0"]
start_action = "start"
[secrets.eap.alice]
user = "alice"
secret = "alice-password-0123"
[authorities.ca]
cacert = "{ca}"
"#,
        sock = RampartDaemon::socket_in(&cli_dir).display(),
        state = cli_dir.join("state").display(),
        ca = c[0].ca.display(),
    );
    let mut client = RampartDaemon::start(rampart(), &net.cli, &cli_dir, &cli_conf);
    assert!(
        wait_until(WAIT, || client
            .ike_sas()
            .iter()
            .any(|s| s.state == "ESTABLISHED" && !s.children.is_empty())),
        "no tunnel:\n{}",
        client.log()
    );
    let addrs = net.cli.ip(&["addr", "show", "dev", "rampart0"]);
    assert!(addrs.contains("198.51.100.129/32"), "{addrs}");
    assert!(addrs.contains("2001:db8:feed::1/128"), "{addrs}");
    // Full tunnel: both halves through the TUN, the server itself outside.
    let routes = net.cli.ip(&["route"]);
    assert!(routes.contains("0.0.0.0/1 dev rampart0"), "{routes}");
    assert!(routes.contains("203.0.113.1 dev c-wan"), "{routes}");
    let resolv = std::fs::read_to_string(etc.join("resolv.conf")).unwrap();
    assert!(
        resolv.contains("nameserver 198.51.100.53") && resolv.contains("nameserver 2001:db8::53"),
        "{resolv}"
    );
    assert!(ping(&net.cli, LAN_HOST, 3), "lan host unreachable");
    assert!(
        ping(&net.cli, INET_HOST, 3),
        "internet host unreachable (NAT)"
    );
    assert!(ping(&net.cli, LAN_HOST6, 3), "lan host (IPv6) unreachable");
    // Down: DNS restored, the server's host route gone.
    client.stop();
    let resolv = std::fs::read_to_string(etc.join("resolv.conf")).unwrap();
    assert_eq!(resolv, "nameserver 203.0.113.53\n");
    let routes = net.cli.ip(&["route"]);
    assert!(!routes.contains("203.0.113.1 dev"), "{routes}");
}

/// `/etc/netns/NS`, removed on drop.
struct EtcNetns(PathBuf);

impl EtcNetns {
    fn new(p: &Path) -> Self {
        std::fs::create_dir_all(p).unwrap();
        EtcNetns(p.to_path_buf())
    }
}

impl Drop for EtcNetns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
