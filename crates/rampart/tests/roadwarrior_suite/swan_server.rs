//! Rampart as the road-warrior client of a strongSwan server (swanctl: address pools with DNS,
//! the server authenticated by its certificate, the client by EAP-MSCHAPv2): the virtual IPs on
//! the TUN device, the pushed DNS servers in the namespace's resolv.conf, a full tunnel routed
//! as two halves with the server's own address kept outside; on `terminate` everything is
//! removed again (docs/config.md "Road warriors", client side).

use testbed::{ping, wait_until, Charon, RampartDaemon, TestDir};

use crate::common::*;

const PASSWORD: &str = "alice-password-0123";

#[test]
fn rampart_client_against_strongswan_server() {
    if !ready() || !testbed::require_root_and_tools(&["iptables"]) {
        return;
    }
    let dir = TestDir::new("rwx");
    let net = Net::new("rwx");
    let c = certs(&dir.subdir("pki"), &[]);
    let srv = &c[0];
    // The strongSwan server: kernel-libipsec decrypts into its TUN, the kernel forwards; the
    // pool leaves towards the internet host masqueraded.
    net.srv.enable_forwarding();
    net.srv.run_ok(&[
        "iptables",
        "-w",
        "-t",
        "nat",
        "-A",
        "POSTROUTING",
        "-s",
        "198.51.100.128/25",
        "-o",
        "s-inet",
        "-j",
        "MASQUERADE",
    ]);
    let sdir = dir.subdir("swan");
    let charon = Charon::start(&net.srv, &sdir);
    for (f, sub) in [
        (&srv.cert, "x509"),
        (&srv.key, "private"),
        (&srv.ca, "x509ca"),
    ] {
        std::fs::copy(f, sdir.join(sub).join(f.file_name().unwrap())).unwrap();
    }
    let cert_name = srv.cert.file_name().unwrap().to_string_lossy();
    charon.load_config(&format!(
        r#"connections {{
  rw {{
    local_addrs = {SERVER}
    pools = p4, p6
    local {{
      auth = pubkey
      certs = {cert_name}
      id = vpn.example.org
    }}
    remote {{
      auth = eap-mschapv2
      eap_id = %any
    }}
    children {{
      rw {{
        local_ts = 0.0.0.0/0, ::/0
        esp_proposals = aes256gcm16
      }}
    }}
  }}
}}
pools {{
  p4 {{
    addrs = 198.51.100.128/25
    dns = {DNS4}, {DNS6}
  }}
  p6 {{
    addrs = 2001:db8:feed::/112
  }}
}}
secrets {{
  eap-alice {{
    id = alice
    secret = {PASSWORD}
  }}
}}
"#
    ));

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
secret = "{PASSWORD}"
{authority}"#,
        sock = RampartDaemon::socket_in(&cli_dir).display(),
        state = cli_dir.join("state").display(),
        authority = authority(&srv.ca),
    );
    let client = RampartDaemon::start(rampart(), net.cli(), &cli_dir, &cli_conf);
    assert!(
        wait_until(WAIT, || client
            .ike_sas()
            .iter()
            .any(|s| s.state == "ESTABLISHED" && !s.children.is_empty())),
        "no tunnel:\n{}",
        client.log()
    );
    // The virtual IPs strongSwan handed out, on our TUN.
    let swan_sas = charon.list_sas();
    let remote_ts: Vec<String> = swan_sas
        .iter()
        .flat_map(|s| s.children.iter())
        .flat_map(|ch| ch.remote_ts.clone())
        .collect();
    let vip4 = remote_ts
        .iter()
        .find(|t| !t.contains(':'))
        .expect("an IPv4 virtual IP at the server")
        .clone();
    assert!(vip4.starts_with("198.51.100.1"), "{remote_ts:?}");
    let vip6 = remote_ts
        .iter()
        .find(|t| t.starts_with("2001:db8:feed::"))
        .expect("an IPv6 virtual IP at the server")
        .clone();
    let addrs = net.cli().ip(&["addr", "show", "dev", "rampart0"]);
    assert!(addrs.contains(&vip4), "{vip4} not in {addrs}");
    assert!(addrs.contains(&vip6), "{vip6} not in {addrs}");
    // Full tunnel: both halves of each family through the TUN, the server itself outside.
    let routes = net.cli().ip(&["route"]);
    assert!(routes.contains("0.0.0.0/1 dev rampart0"), "{routes}");
    assert!(routes.contains("128.0.0.0/1 dev rampart0"), "{routes}");
    assert!(routes.contains("203.0.113.1 dev c-wan"), "{routes}");
    let routes6 = net.cli().ip(&["-6", "route"]);
    assert!(routes6.contains("::/1 dev rampart0"), "{routes6}");
    assert!(routes6.contains("8000::/1 dev rampart0"), "{routes6}");
    let resolv = std::fs::read_to_string(etc.resolv()).unwrap();
    assert!(
        resolv.contains(&format!("nameserver {DNS4}"))
            && resolv.contains(&format!("nameserver {DNS6}")),
        "{resolv}"
    );
    assert!(ping(net.cli(), LAN_HOST, 3), "lan host unreachable");
    assert!(ping(net.cli(), INET_HOST, 3), "internet host unreachable");

    // Down (our DELETE; the daemon keeps running): DNS, addresses and routes removed.
    let out = client.terminate("home");
    assert!(out.ok(), "terminate: {out}");
    assert!(
        wait_until(WAIT, || client.ike_sas().is_empty()),
        "{:?}",
        client.ike_sas()
    );
    assert!(
        wait_until(WAIT, || std::fs::read_to_string(etc.resolv())
            .is_ok_and(|r| r == "nameserver 203.0.113.53\n")),
        "resolv.conf not restored: {:?}",
        std::fs::read_to_string(etc.resolv())
    );
    let addrs = net.cli().ip(&["addr", "show", "dev", "rampart0"]);
    assert!(!addrs.contains(&vip4), "{addrs}");
    let routes = net.cli().ip(&["route"]);
    assert!(!routes.contains("rampart0"), "{routes}");
    assert!(!routes.contains("203.0.113.1 dev"), "{routes}");
    assert!(wait_until(WAIT, || charon.list_sas().is_empty()));
}
