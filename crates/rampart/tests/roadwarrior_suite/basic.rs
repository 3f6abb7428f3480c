//! The basic road-warrior cases: strongSwan's charon (swanctl) with EAP-MSCHAPv2 and with a
//! per-client PSK and an ID_KEY_ID identity, and Rampart itself as the client (vips + eap_id)
//! with DNS applied in its namespace.

use std::path::Path;

use testbed::{ping, wait_until, Charon, RampartDaemon, TestDir};

use crate::common::*;

/// The single-connection server of these tests: `remote` is its `[connections.rw.remote]`
/// body, `extra` appended (secrets).
fn server_conf(dir: &Path, cert: &testbed::side::CertFiles, remote: &str, extra: &str) -> String {
    let auth = if remote.contains("psk") {
        ClientAuth::Psk
    } else {
        ClientAuth::Eap
    };
    let conn = server_conn("rw", auth, cert, true);
    format!("{}{conn}{extra}", server_head(dir, true))
}

#[test]
fn strongswan_eap_mschapv2_road_warrior() {
    if !ready() {
        return;
    }
    let dir = TestDir::new("rwe");
    let net = Net::new("rwe");
    let c = certs(&dir.subdir("pki"), &["carol"]);
    let srv_dir = dir.subdir("srv");
    let conf = server_conf(
        &srv_dir,
        &c[0],
        "auth = \"eap-mschapv2\"",
        "[secrets.eap.alice]\nuser = \"alice\"\nsecret = \"alice-password-0123\"\n\
         [secrets.eap.bob]\nuser = \"bob\"\nsecret = \"bob-password-0123\"\n",
    );
    let mut server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    let charon = Charon::start(net.cli(), &dir.subdir("cli"));
    let local = "auth = eap-mschapv2\n      eap_id = alice";
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
    assert!(ping(net.cli(), LAN_HOST, 3), "lan host unreachable");
    assert!(ping(net.cli(), LAN_HOST6, 3), "lan host (IPv6) unreachable");
    assert!(
        ping(net.cli(), INET_HOST, 3),
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
    assert!(ping(net.cli(), LAN_HOST, 3));

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
    assert!(ping(net.cli(), INET_HOST, 3));
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
    let c = certs(&dir.subdir("pki"), &["carol"]);
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
    let charon = Charon::start(net.cli(), &dir.subdir("cli"));
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
    assert!(ping(net.cli(), LAN_HOST, 3));
    assert!(ping(net.cli(), INET_HOST, 3));
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
    let c = certs(&dir.subdir("pki"), &["carol"]);
    let srv_dir = dir.subdir("srv");
    let conf = server_conf(
        &srv_dir,
        &c[0],
        "auth = \"eap-mschapv2\"",
        "[secrets.eap.alice]\nuser = \"alice\"\nsecret = \"alice-password-0123\"\n",
    );
    let _server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    // `ip netns exec` shows /etc/netns/NS/resolv.conf as /etc/resolv.conf.
    let etc = EtcNetns::new(net.cli());
    std::fs::write(etc.resolv(), "nameserver 203.0.113.53\n").unwrap();
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
    let mut client = RampartDaemon::start(rampart(), net.cli(), &cli_dir, &cli_conf);
    assert!(
        wait_until(WAIT, || client
            .ike_sas()
            .iter()
            .any(|s| s.state == "ESTABLISHED" && !s.children.is_empty())),
        "no tunnel:\n{}",
        client.log()
    );
    let addrs = net.cli().ip(&["addr", "show", "dev", "rampart0"]);
    assert!(addrs.contains("198.51.100.129/32"), "{addrs}");
    assert!(addrs.contains("2001:db8:feed::1/128"), "{addrs}");
    // Full tunnel: both halves through the TUN, the server itself outside.
    let routes = net.cli().ip(&["route"]);
    assert!(routes.contains("0.0.0.0/1 dev rampart0"), "{routes}");
    assert!(routes.contains("203.0.113.1 dev c-wan"), "{routes}");
    let resolv = std::fs::read_to_string(etc.resolv()).unwrap();
    assert!(
        resolv.contains("nameserver 198.51.100.53") && resolv.contains("nameserver 2001:db8::53"),
        "{resolv}"
    );
    assert!(ping(net.cli(), LAN_HOST, 3), "lan host unreachable");
    assert!(
        ping(net.cli(), INET_HOST, 3),
        "internet host unreachable (NAT)"
    );
    assert!(ping(net.cli(), LAN_HOST6, 3), "lan host (IPv6) unreachable");
    // Down: DNS restored, the server's host route gone.
    client.stop();
    let resolv = std::fs::read_to_string(etc.resolv()).unwrap();
    assert_eq!(resolv, "nameserver 203.0.113.53\n");
    let routes = net.cli().ip(&["route"]);
    assert!(!routes.contains("203.0.113.1 dev"), "{routes}");
}
