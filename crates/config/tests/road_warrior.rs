//! Road-warrior keys (docs/config.md "Road warriors"): the documented example loads to the
//! expected values, pools hand out the right ranges, EAP users and per-client PSKs are looked
//! up strictly, and broken files give exact messages.

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

mod common;

use common::{write, TempDir};
use config::*;
use pki::{CaSpec, CertSpec, CertificateAuthority, Eku, KeyKind, PrivateKey, Validity};
use wire::Identity;

fn server_files(dir: &Path) {
    let validity = Validity::days_from(SystemTime::now() - Duration::from_secs(3600), 30);
    let ca = CertificateAuthority::self_signed(
        &CaSpec {
            subject: "C=CH, O=Rampart Test, CN=Road CA".into(),
            validity,
            path_len: None,
            serial: None,
        },
        PrivateKey::generate(KeyKind::EcdsaP256).unwrap(),
    )
    .unwrap();
    let key = PrivateKey::generate(KeyKind::EcdsaP256).unwrap();
    let cert = ca
        .issue(
            &CertSpec {
                subject: "C=CH, O=Rampart Test, CN=vpn.example.org".into(),
                sans: vec![Identity::Fqdn("vpn.example.org".into())],
                ekus: vec![Eku::ServerAuth, Eku::IpsecIke],
                validity,
                serial: None,
            },
            &key,
        )
        .unwrap();
    write(&dir.join("ca.crt"), ca.cert_pem().as_bytes(), 0o644);
    write(
        &dir.join("server.crt"),
        pki::cert_to_pem(&cert).as_bytes(),
        0o644,
    );
    write(&dir.join("server.key"), key.pkcs8_pem().as_bytes(), 0o600);
}

/// The TOML block after "## Road warriors" in docs/config.md.
fn doc_example() -> String {
    let doc = include_str!("../../../docs/config.md");
    let section = doc.split("## Road warriors").nth(1).unwrap();
    let block = section.split("```toml\n").nth(1).unwrap();
    block.split("```").next().unwrap().to_string()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn load(dir: &Path, text: &str) -> Result<Config, Vec<String>> {
    let file = dir.join("rampart.toml");
    std::fs::write(&file, text).unwrap();
    Config::load(&file).map_err(|e| {
        e.messages()
            .into_iter()
            .map(|m| m.replace(&format!("{}/", dir.display()), ""))
            .collect()
    })
}

#[test]
fn the_documented_example_loads() {
    let dir = TempDir::new("rw");
    server_files(&dir.0);
    let text = format!("{}[authorities.ca]\ncacert = \"ca.crt\"\n", doc_example());
    let c = load(&dir.0, &text).unwrap();
    assert_eq!(c.daemon.state_dir, Path::new("/var/lib/rampart"));

    let p4 = c.pool("clients4").unwrap();
    assert!(p4.masquerade);
    assert_eq!(p4.addrs.to_string(), "198.51.100.128/25");
    assert_eq!(
        (p4.addrs.first, p4.addrs.last),
        (ip("198.51.100.129"), ip("198.51.100.254"))
    );
    assert_eq!(p4.addrs.size(), 126);
    assert_eq!(p4.addrs.prefix, Some((ip("198.51.100.128"), 25)));
    let p6 = c.pool("clients6").unwrap();
    assert!(!p6.masquerade);
    assert_eq!(
        (p6.addrs.first, p6.addrs.last),
        (ip("2001:db8:feed::1"), ip("2001:db8:feed::ffff"))
    );
    assert_eq!(p6.addrs.size(), 65535);

    let rw = c.connection("rw").unwrap();
    assert_eq!(rw.pools, ["clients4", "clients6"]);
    assert_eq!(rw.dns, [ip("198.51.100.53"), ip("2001:db8::53")]);
    assert!(rw.vips.is_empty());
    assert_eq!(rw.local.auth, AuthMethod::Pubkey);
    assert_eq!(rw.remote.auth, AuthMethod::EapMschapv2);
    assert_eq!(rw.remote.id, None);
    assert_eq!(
        c.pool_connections()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["rw"]
    );

    let home = c.connection("home").unwrap();
    assert_eq!(home.vips, [ip("0.0.0.0"), ip("::")]);
    assert_eq!(home.local.auth, AuthMethod::EapMschapv2);
    assert_eq!(home.local.eap_id.as_deref(), Some("alice"));
    assert!(home.pools.is_empty());

    assert_eq!(
        c.eap_password("alice").map(|s| s.as_slice().to_vec()),
        Some(b"correct horse battery staple".to_vec())
    );
    assert_eq!(c.eap_password("Alice"), None);
    assert_eq!(c.eap_password("bob"), None);
}

#[test]
fn pool_ranges() {
    let dir = TempDir::new("rw");
    let text = "[pools.a]\naddrs = \"192.0.2.10-192.0.2.12\"\n\
                [pools.b]\naddrs = \"192.0.2.64/31\"\n\
                [pools.c]\naddrs = \"2001:db8::5/128\"\n\
                [pools.d]\naddrs = \"2001:db8:1::/126\"\n";
    let c = load(&dir.0, text).unwrap();
    let a = &c.pool("a").unwrap().addrs;
    assert_eq!(a.size(), 3);
    assert_eq!(a.prefix, None);
    assert_eq!(a.nth(2), Some(ip("192.0.2.12")));
    assert_eq!(a.nth(3), None);
    assert_eq!(a.index_of(ip("192.0.2.11")), Some(1));
    assert_eq!(a.index_of(ip("192.0.2.13")), None);
    assert!(!a.contains(ip("2001:db8::a")));
    // /31 and /128: every address is a host address.
    let b = &c.pool("b").unwrap().addrs;
    assert_eq!((b.first, b.last), (ip("192.0.2.64"), ip("192.0.2.65")));
    let c6 = &c.pool("c").unwrap().addrs;
    assert_eq!((c6.first, c6.size()), (ip("2001:db8::5"), 1));
    // IPv6: the subnet-router anycast address is left out, the last address is not.
    let d = &c.pool("d").unwrap().addrs;
    assert_eq!(
        (d.first, d.last),
        (ip("2001:db8:1::1"), ip("2001:db8:1::3"))
    );
}

#[test]
fn broken_road_warrior_keys() {
    let dir = TempDir::new("rw");
    let text = r#"[pools.a]
addrs = "192.0.2.0/24"
[pools.b]
addrs = "192.0.2.200-192.0.2.210"
[pools.c]
addrs = "192.0.2.1/24"
[pools.d]
addrs = "192.0.2.9-2001:db8::1"
[pools.e]
masquerade = "yes"
[pools.f]
addrs = "192.0.2.250-192.0.2.240"
[connections.x]
remote_addrs = ["%any"]
pools = ["a", "nope", "a"]
dns = ["192.0.2.53"]
vips = ["0.0.0.0"]
[connections.x.local]
auth = "psk"
eap_id = "bob"
[connections.x.remote]
auth = "eap-mschapv2"
[connections.x.children.x]
[connections.y]
remote_addrs = ["192.0.2.1"]
dns = ["192.0.2.53"]
vips = ["0.0.0.0", "192.0.2.7"]
[connections.y.local]
auth = "eap-mschapv2"
eap_id = "carol"
[connections.y.remote]
auth = "psk"
[connections.y.children.y]
[secrets.eap.one]
user = "alice"
secret = "pw"
[secrets.eap.two]
user = "alice"
secret_file = "missing.pw"
[secrets.eap.three]
secret = ""
"#;
    let got = load(&dir.0, text).unwrap_err();
    let expected = [
        "rampart.toml:4:9: pools.b.addrs: 192.0.2.200-192.0.2.210 overlaps pools.a (192.0.2.0/24); an address can be in one pool only",
        "rampart.toml:6:9: pools.c.addrs: invalid pool '192.0.2.1/24': host bits are set (the network is 192.0.2.0/24) (allowed: a CIDR like \"198.51.100.128/25\" or \"2001:db8:feed::/112\", or a range like \"192.0.2.10-192.0.2.20\")",
        "rampart.toml:8:9: pools.d.addrs: invalid pool '192.0.2.9-2001:db8::1': the two addresses are of different families (allowed: a CIDR like \"198.51.100.128/25\" or \"2001:db8:feed::/112\", or a range like \"192.0.2.10-192.0.2.20\")",
        "rampart.toml:9:1: pools.e: missing required key 'addrs' (a CIDR like \"198.51.100.128/25\" or \"2001:db8:feed::/112\", or a range like \"192.0.2.10-192.0.2.20\")",
        "rampart.toml:10:14: pools.e.masquerade: expected true or false, found string",
        "rampart.toml:12:9: pools.f.addrs: invalid pool '192.0.2.250-192.0.2.240': the first address is above the last (allowed: a CIDR like \"198.51.100.128/25\" or \"2001:db8:feed::/112\", or a range like \"192.0.2.10-192.0.2.20\")",
        "rampart.toml:15:15: connections.x.pools[1]: no pool named 'nope' (defined: a)",
        "rampart.toml:15:23: connections.x.pools[2]: duplicate pool 'a' (already at connections.x.pools[0])",
        "rampart.toml:20:10: connections.x.local.eap_id: 'eap_id' is only used with auth = \"eap-mschapv2\" (this side uses auth = \"psk\")",
        "rampart.toml:26:7: connections.y.dns: DNS servers are sent to clients with their virtual IPs, but this connection has no 'pools' (add pools = [\"NAME\"] or remove dns)",
        "rampart.toml:27:8: connections.y.vips: at most one address per family (allowed: \"0.0.0.0\" and/or \"::\" for any address, or a specific one)",
        "rampart.toml:29:8: connections.y.local: no password for EAP user 'carol' (add a [secrets.eap.NAME] table with user = \"carol\" and secret or secret_file)",
        "rampart.toml:32:8: connections.y.remote.auth: with local.auth = \"eap-mschapv2\" the server must prove itself with a certificate (allowed: pubkey; found psk)",
        "rampart.toml:38:8: secrets.eap.two.user: user 'alice' is already defined in secrets.eap.one",
        "rampart.toml:39:15: secrets.eap.two.secret_file: cannot read secret file missing.pw: No such file or directory (os error 2)",
        "rampart.toml:40:1: secrets.eap.three: missing required key 'user' (the EAP user name (identity), e.g. \"alice\")",
        "rampart.toml:41:10: secrets.eap.three.secret: a password must not be empty",
    ];
    assert_eq!(got, expected, "\n{}", got.join("\n"));
}

#[test]
fn eap_server_needs_a_certificate_and_clients_a_user() {
    let dir = TempDir::new("rw");
    let text = r#"[connections.x]
remote_addrs = ["%any"]
[connections.x.local]
auth = "psk"
[connections.x.remote]
auth = "eap-mschapv2"
[connections.x.children.x]
[connections.y]
remote_addrs = ["192.0.2.1"]
[connections.y.local]
auth = "eap-mschapv2"
[connections.y.remote]
auth = "pubkey"
[connections.y.children.y]
[authorities.ca]
cacert = "ca.crt"
"#;
    server_files(&dir.0);
    let got = load(&dir.0, text).unwrap_err();
    assert_eq!(
        got,
        [
            "rampart.toml:4:8: connections.x.local.auth: with remote.auth = \"eap-mschapv2\" we are the EAP server and must prove ourselves with a certificate (allowed: pubkey; found psk)",
            "rampart.toml:11:8: connections.y.local: missing required key 'eap_id' (our EAP user name; its password is the [secrets.eap.NAME] entry with that user)",
        ],
        "\n{}",
        got.join("\n")
    );
    // local.id stands in for eap_id.
    let text = text.replace(
        "auth = \"eap-mschapv2\"\n[connections.y.remote]",
        "auth = \"eap-mschapv2\"\nid = \"dave@example.org\"\n[connections.y.remote]",
    ) + "[secrets.eap.dave]\nuser = \"dave@example.org\"\nsecret = \"pw\"\n";
    let got = load(&dir.0, &text).unwrap_err();
    assert_eq!(got.len(), 1, "{got:?}");
}

const PSK_RW: &str = r#"[connections.rw]
remote_addrs = ["%any"]
[connections.rw.local]
auth = "psk"
id = "vpn.example.org"
[connections.rw.remote]
auth = "psk"
[connections.rw.children.rw]
[connections.gw]
remote_addrs = ["192.0.2.7"]
[connections.gw.local]
auth = "psk"
id = "gw.example.org"
[connections.gw.remote]
auth = "psk"
id = "peer.example.org"
[connections.gw.children.gw]
[secrets.ike.server_only]
ids = ["vpn.example.org"]
secret = "known-to-every-client"
[secrets.ike.anyone]
ids = []
secret = "shared"
[secrets.ike.carol]
ids = ["carol@example.org"]
secret = "carols-own"
[secrets.ike.android]
ids = ["@#616e64726f69642d70686f6e65", "vpn.example.org"]
secret = "androids-own"
[secrets.ike.gw_only]
ids = ["gw.example.org"]
secret = "gw-key"
"#;

fn id(s: &str) -> Identity {
    pki::identity_from_str(s).unwrap()
}

fn psk(c: &Config, l: &str, r: &str) -> Option<Vec<u8>> {
    c.find_psk(&id(l), &id(r)).map(|k| k.as_slice().to_vec())
}

#[test]
fn road_warrior_psks_are_found_by_the_clients_identity_only() {
    let c = Config::parse("rampart.toml", PSK_RW).unwrap();
    let server = "vpn.example.org";
    assert!(c.psk_needs_peer_id(&id(server)));
    assert!(!c.psk_needs_peer_id(&id("gw.example.org")));
    assert_eq!(
        psk(&c, server, "carol@example.org"),
        Some(b"carols-own".to_vec())
    );
    // ID_KEY_ID (what Android's built-in client sends): the same bytes as "@#hex" or
    // "keyid:hex".
    let android = Identity::KeyId(b"android-phone".to_vec());
    assert_eq!(
        c.find_psk(&id(server), &android)
            .map(|k| k.as_slice().to_vec()),
        Some(b"androids-own".to_vec())
    );
    assert_eq!(
        psk(&c, server, "keyid:616e64726f69642d70686f6e65"),
        Some(b"androids-own".to_vec())
    );
    // An unknown client finds nothing: neither the server-only key nor the empty-ids one.
    assert_eq!(psk(&c, server, "mallory@example.org"), None);
    assert_eq!(psk(&c, server, "@#0102"), None);
    // Other connections keep the documented ranks.
    assert_eq!(
        psk(&c, "gw.example.org", "peer.example.org"),
        Some(b"gw-key".to_vec())
    );
    assert_eq!(
        psk(&c, "other.example.org", "x.example.org"),
        Some(b"shared".to_vec())
    );
}

#[test]
fn road_warrior_psk_without_local_id_is_strict_for_address_identities() {
    let text = PSK_RW.replace("id = \"vpn.example.org\"\n", "");
    let c = Config::parse("rampart.toml", &text).unwrap();
    assert!(c.psk_needs_peer_id(&id("203.0.113.1")));
    assert!(!c.psk_needs_peer_id(&id("vpn.example.org")));
    assert_eq!(psk(&c, "203.0.113.1", "mallory@example.org"), None);
    assert_eq!(
        psk(&c, "203.0.113.1", "carol@example.org"),
        Some(b"carols-own".to_vec())
    );
}
