//! No IPv6 leak (docs/config.md "Road warriors", client side): the server has only an IPv4
//! pool, the Rampart client a full tunnel of both families. The server assigns no IPv6 address
//! and the IPv6 selectors narrow away, yet the client routes IPv6 into its TUN, where no Child
//! SA matches and the packets are dropped: an IPv6 packet to a host on the internet side never
//! leaves in clear on the client's outer interface, which does carry it before the tunnel is up.

use testbed::{Capture, RampartDaemon, TestDir};

use crate::common::*;

/// Echo requests to the internet host's IPv6 address on the client's outer interface.
const FILTER: &str = "icmp6 and ip6[40] = 128 and dst host 2001:db8:0:3::2";

#[test]
fn ipv6_does_not_leak_around_a_v4_only_tunnel() {
    if !ready() {
        return;
    }
    let dir = TestDir::new("rw6");
    let net = Net::new("rw6");
    let c = certs(&dir.subdir("pki"), &[]);
    let srv_dir = dir.subdir("srv");
    let conf = [
        server_head(&srv_dir, false),
        server_conn("rw", ClientAuth::Eap, &c[0], false),
        eap_user("alice", "alice-password-0123"),
    ]
    .concat();
    let _server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    let mut cap = Capture::start(net.cli(), "c-wan", &dir.path().join("c-wan.pcap"));

    // Before the tunnel: IPv6 to the internet host leaves in clear (the capture sees it).
    testbed::ping(net.cli(), INET_HOST6, 1);
    assert!(
        testbed::wait_until(WAIT, || cap.count(FILTER) == 1),
        "the control echo request was not captured: {:?}",
        cap.lines("")
    );

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
{user}{authority}"#,
        sock = RampartDaemon::socket_in(&cli_dir).display(),
        state = cli_dir.join("state").display(),
        user = eap_user("alice", "alice-password-0123"),
        authority = authority(&c[0].ca),
    );
    let client = RampartDaemon::start(rampart(), net.cli(), &cli_dir, &cli_conf);
    assert!(
        testbed::wait_until(WAIT, || client
            .ike_sas()
            .iter()
            .any(|s| s.state == "ESTABLISHED" && !s.children.is_empty())),
        "no tunnel:\n{}",
        client.log()
    );
    // No IPv6 virtual IP: our IPv6 selectors narrowed away (the server's side may still
    // list ::/0; without an IPv6 source of ours no IPv6 packet matches the SA).
    let sas = client.ike_sas();
    let ts: Vec<&String> = sas
        .iter()
        .flat_map(|s| s.children.iter())
        .flat_map(|ch| ch.local_ts.iter())
        .collect();
    assert!(
        !ts.is_empty() && ts.iter().all(|t| !t.contains(':')),
        "{ts:?}"
    );
    let addrs = net.cli().ip(&["-6", "addr", "show", "dev", "rampart0"]);
    assert!(!addrs.contains("2001:db8:feed"), "{addrs}");
    assert!(
        testbed::ping(net.cli(), INET_HOST, 2),
        "IPv4 through the tunnel"
    );

    // IPv6 goes into the TUN (both halves routed there) and is dropped: nothing in clear.
    let routes6 = net.cli().ip(&["-6", "route"]);
    assert!(routes6.contains("::/1 dev rampart0"), "{routes6}");
    assert!(routes6.contains("8000::/1 dev rampart0"), "{routes6}");
    let before = drops(&client, "no_policy");
    let out = testbed::wait::ping_output(net.cli(), INET_HOST6, 3);
    assert!(!out.ok(), "IPv6 ping answered: {out}");
    assert!(
        testbed::wait_until(WAIT, || drops(&client, "no_policy") >= before + 3),
        "the echo requests were not dropped in the TUN: {}",
        counters(&client)["drops"]
    );
    cap.stop();
    assert_eq!(
        cap.count(FILTER),
        1,
        "IPv6 leaked outside the tunnel: {:?}",
        cap.lines(FILTER)
    );
}
