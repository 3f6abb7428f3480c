//! Two road warriors behind one NAT router (MASQUERADE) at the same time: the server sees both
//! at the router's one address, on different ports (RFC 7296 §2.23, RFC 3948), keeps their IKE
//! and Child SAs apart, gives each its own virtual IP, and both reach the lan host and the
//! internet host.

use testbed::{ping, Charon, RampartDaemon, TestDir};

use crate::common::*;

#[test]
fn two_clients_behind_one_nat() {
    if !ready() || !testbed::require_root_and_tools(testbed::nat::NAT_TOOLS) {
        return;
    }
    let dir = TestDir::new("rwn");
    let net = Net::behind_nat("rwn", 2);
    let c = certs(&dir.subdir("pki"), &[]);
    let srv_dir = dir.subdir("srv");
    let conf = [
        server_head(&srv_dir, true),
        server_conn("rw", ClientAuth::Eap, &c[0], true),
        eap_user("alice", "alice-password-0123"),
        eap_user("bob", "bob-password-0123"),
    ]
    .concat();
    let server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);
    let charons: Vec<Charon> = ["alice", "bob"]
        .iter()
        .zip(&net.clis)
        .map(|(user, ns)| {
            let ch = Charon::start(ns, &dir.subdir(user));
            ch.load_config(&swan_client_conf(
                &c[0].ca,
                &format!("auth = eap-mschapv2\n      eap_id = {user}"),
                &format!(
                    "  eap-{user} {{\n    id = {user}\n    secret = {user}-password-0123\n  }}"
                ),
            ));
            ch
        })
        .collect();
    let outs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = charons
            .iter()
            .map(|ch| s.spawn(|| ch.initiate("rw")))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (out, ch) in outs.iter().zip(&charons) {
        assert!(
            out.ok(),
            "initiate failed in {}: {out}\n{}",
            ch.ns(),
            ch.log()
        );
    }
    let vips: Vec<String> = charons
        .iter()
        .map(|ch| swan_vip(ch, "rw").expect("a virtual IP"))
        .collect();
    assert_ne!(vips[0], vips[1]);
    for ns in &net.clis {
        assert!(ping(ns, LAN_HOST, 2), "lan host from {}", ns.name());
        assert!(ping(ns, INET_HOST, 2), "internet host from {}", ns.name());
    }
    // Both pings at once, too: neither SA takes the other's traffic.
    let both = std::thread::scope(|s| {
        let hs: Vec<_> = net
            .clis
            .iter()
            .map(|ns| s.spawn(|| ping(ns, LAN_HOST, 5)))
            .collect();
        hs.into_iter().all(|h| h.join().unwrap())
    });
    assert!(both, "pings at the same time failed");

    // The server: two SAs from the router's address, distinct ports, NAT seen on their side.
    let sas = server.ike_sas();
    assert_eq!(sas.len(), 2, "{sas:?}");
    let remotes: Vec<&str> = sas.iter().map(|s| s.remote.as_str()).collect();
    assert!(
        remotes.iter().all(|r| r.starts_with("203.0.113.2:")),
        "{remotes:?}"
    );
    assert_ne!(remotes[0], remotes[1]);
    assert!(sas.iter().all(|s| s.nat_remote), "{sas:?}");
    for s in &sas {
        assert_eq!(s.children.len(), 1, "{s:?}");
        assert!(s.children[0].encap, "{s:?}");
        assert!(s.children[0].packets_in >= 7, "{s:?}");
        assert!(s.children[0].packets_out >= 7, "{s:?}");
    }
    let mut l = leases(&server, "v4");
    l.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        l.iter().map(|x| (&x.0, x.1.as_str())).collect::<Vec<_>>(),
        [(&vips[0], "alice"), (&vips[1], "bob")]
    );
}
