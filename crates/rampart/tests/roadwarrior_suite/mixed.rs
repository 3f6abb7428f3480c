//! One server, three `%any` connections sharing the pools: EAP-MSCHAPv2 users, a PSK per
//! client and client certificates (EKU clientAuth). The engine picks the connection by the
//! client's authentication method (RFC 7296 §2.15, §2.16: no AUTH payload = EAP). Three
//! strongSwan road warriors connect at once; each gets its own virtual IPs and the DNS servers
//! and reaches the lan host and the internet host (through the server's masquerade).

use std::path::Path;

use testbed::{ping, Charon, RampartDaemon, TestDir};

use crate::common::*;

const ALICE_PW: &str = "alice-password-0123";
const DAVE_PSK: &str = "dave-psk-0123456789abcdef";

/// A charon in `ns` with the client config `conf` loaded; `files` are copied into its work dir
/// first (`(file, "x509" | "private")`, where `swanctl --load-all` finds them).
fn client(ns: &testbed::Netns, dir: &Path, conf: &str, files: &[(&Path, &str)]) -> Charon {
    let charon = Charon::start(ns, dir);
    for (f, sub) in files {
        let to = dir.join(sub).join(f.file_name().unwrap());
        std::fs::copy(f, &to).unwrap_or_else(|e| panic!("copy {}: {e}", f.display()));
    }
    charon.load_config(conf);
    charon
}

/// The certificate connection first.
#[test]
fn three_auth_methods_share_one_server() {
    three_auth_methods("rwm", &[ClientAuth::Cert, ClientAuth::Eap, ClientAuth::Psk]);
}

/// The EAP connection first: the responder picks the connection only in IKE_AUTH, yet its
/// IKE_SA_INIT must carry CERTREQ (RFC 7296 §3.7) because some connection for the addresses
/// takes certificates; otherwise strongSwan (`send_cert = ifasked`, its default) sends no
/// certificate and is refused (fixed in 2d31ada).
#[test]
fn three_auth_methods_eap_connection_first() {
    three_auth_methods(
        "rwm2",
        &[ClientAuth::Eap, ClientAuth::Psk, ClientAuth::Cert],
    );
}

fn three_auth_methods(prefix: &str, order: &[ClientAuth]) {
    if !ready() {
        return;
    }
    let dir = TestDir::new(prefix);
    let net = Net::with_clients(prefix, 3);
    let c = certs(&dir.subdir("pki"), &["carol"]);
    let (srv_cert, carol) = (&c[0], &c[1]);
    let srv_dir = dir.subdir("srv");
    let mut conf = server_head(&srv_dir, true);
    for auth in order {
        let name = match auth {
            ClientAuth::Cert => "cert",
            ClientAuth::Eap => "eap",
            ClientAuth::Psk => "psk",
        };
        conf.push_str(&server_conn(name, *auth, srv_cert, true));
    }
    conf.push_str(&authority(&srv_cert.ca));
    conf.push_str(&eap_user("alice", ALICE_PW));
    conf.push_str(&client_psk("dave", "dave.example.org", DAVE_PSK));
    let server = RampartDaemon::start(rampart(), &net.srv, &srv_dir, &conf);

    let eap = swan_client_conf(
        &srv_cert.ca,
        "auth = eap-mschapv2\n      eap_id = alice",
        &format!("  eap-alice {{\n    id = alice\n    secret = {ALICE_PW}\n  }}"),
    );
    let psk = swan_client_conf_to(
        &srv_cert.ca,
        "auth = psk\n      id = dave.example.org",
        "auth = psk",
        &format!(
            "  ike-dave {{\n    id-1 = dave.example.org\n    id-2 = vpn.example.org\n    \
             secret = {DAVE_PSK}\n  }}"
        ),
    );
    let cert_name = carol.cert.file_name().unwrap().to_string_lossy();
    let cert = swan_client_conf(
        &srv_cert.ca,
        &format!("auth = pubkey\n      certs = {cert_name}\n      id = carol.example.org"),
        "",
    );
    let clients = [
        client(&net.clis[0], &dir.subdir("alice"), &eap, &[]),
        client(&net.clis[1], &dir.subdir("dave"), &psk, &[]),
        client(
            &net.clis[2],
            &dir.subdir("carol"),
            &cert,
            &[(&carol.cert, "x509"), (&carol.key, "private")],
        ),
    ];
    // All three at once.
    let outs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = clients
            .iter()
            .map(|ch| s.spawn(|| ch.initiate("rw")))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (out, ch) in outs.iter().zip(&clients) {
        assert!(
            out.ok(),
            "initiate failed in {}: {out}\n{}",
            ch.ns(),
            ch.log()
        );
    }

    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for (ch, ns) in clients.iter().zip(&net.clis) {
        let a = swan_vip_of(ch, "rw", false).expect("an IPv4 virtual IP");
        let b = swan_vip_of(ch, "rw", true).expect("an IPv6 virtual IP");
        assert!(a.starts_with("198.51.100.1"), "{a}");
        assert!(b.starts_with("2001:db8:feed::"), "{b}");
        v4.push(a);
        v6.push(b);
        assert!(
            testbed::wait_until(WAIT, || {
                let r = swan_dns(ch);
                r.contains(DNS4) && r.contains(DNS6)
            }),
            "DNS not installed in {}: {}",
            ch.ns(),
            swan_dns(ch)
        );
        assert!(ping(ns, LAN_HOST, 2), "lan host from {}", ns.name());
        assert!(ping(ns, LAN_HOST6, 2), "lan host (IPv6) from {}", ns.name());
        assert!(ping(ns, INET_HOST, 2), "internet host from {}", ns.name());
    }
    let distinct = |v: &Vec<String>| v.iter().collect::<std::collections::HashSet<_>>().len();
    assert_eq!(distinct(&v4), 3, "{v4:?}");
    assert_eq!(distinct(&v6), 3, "{v6:?}");

    // Each client landed on the connection of its method, with its own lease.
    let mut by_conn: Vec<(String, String)> = server
        .ike_sas()
        .into_iter()
        .map(|s| (s.connection, s.remote_id))
        .collect();
    by_conn.sort();
    assert_eq!(by_conn.len(), 3, "{by_conn:?}");
    assert_eq!(by_conn[0].0, "cert");
    assert!(by_conn[0].1.contains("carol.example.org"), "{by_conn:?}");
    assert_eq!(by_conn[1], ("eap".into(), "alice".into()));
    assert_eq!(by_conn[2], ("psk".into(), "dave.example.org".into()));
    let mut l = leases(&server, "v4");
    l.sort();
    assert_eq!(l.len(), 3, "{l:?}");
    assert!(
        l.iter().all(|(a, _, online)| *online && v4.contains(a)),
        "{l:?}"
    );
    let mut ids: Vec<&str> = l.iter().map(|(_, id, _)| id.as_str()).collect();
    ids.sort();
    assert_eq!(ids[0], "alice", "{l:?}");
    assert!(ids[1].contains("carol.example.org"), "{l:?}");
    assert_eq!(ids[2], "dave.example.org", "{l:?}");
}
