//! The full example of docs/config.md parses to the expected structs; defaults fill the rest.

use std::net::IpAddr;
use std::time::Duration;

use config::*;
use crypto::proposal::Protocol;
use crypto::{ProposalSpec, SecretBytes};
use wire::Identity;

/// The example from docs/config.md, verbatim.
const EXAMPLE: &str = r#"[daemon]
control_socket = "/run/rampart/rampart.sock"   # root-only Unix socket (mode 0600, dir 0700)
tun_name = "rampart0"                          # TUN device carrying tunnelled traffic
ike_port = 500                                 # UDP port for IKE (tests may move it)
natt_port = 4500                               # UDP port for NAT-T: IKE and ESP-in-UDP
log_level = "info"                             # error | warn | info | debug | trace, or "info,ike=debug"
listen = ["0.0.0.0", "::"]                     # addresses to bind (default: both wildcards)
# control_group = "rampart"                    # members may use the control socket too (default: root only)
# metrics_listen = "127.0.0.1:9781"            # Prometheus endpoint (default: off)
legacy_crypto = false                          # MODP-1024 / SHA-1-only proposals: see "Legacy crypto"
fragment_size = 1280                           # largest IKE datagram once fragmenting (RFC 7383)

[connections.net2net]
version = 2                                    # only IKEv2 (2) for now
local_addrs = ["192.0.2.1"]                    # our address(es); default: any
remote_addrs = ["192.0.2.100"]                 # peer address(es); "%any" = accept any (responder only)
proposals = ["aes256gcm16-prfsha256-x25519", "aes128-sha256-ecp256"]   # strongSwan syntax
encap = false                                  # force UDP encapsulation even without NAT
dpd_delay = "30s"                              # liveness check interval when idle (0 = off)
keyingtries = 1                                # initiation attempts (0 = forever)
rekey_time = "4h"                              # rekey the IKE SA (0 = never)
dpd_action = "clear"                           # clear | restart (when the peer stops answering)
unique = "replace"                             # replace | keep | never (IKE SAs per peer identity)
fragmentation = true                           # IKEv2 fragmentation (RFC 7383)
mobike = true                                  # MOBIKE (RFC 4555)

[connections.net2net.local]
auth = "psk"                                   # psk | pubkey (then cert and key, see below)
id = "moon.example.org"                        # FQDN, user@host, IP, @#hex key id, fqdn:/email:/ipv4:/ipv6:/keyid: prefixes, or a DN

[connections.net2net.remote]
auth = "psk"
id = "carol.example.org"                       # "%any" accepts any identity that has a PSK

[connections.net2net.children.net]
local_ts = ["203.0.113.0/24"]                  # selectors; "dynamic" = our outer address
remote_ts = ["198.51.100.0/25"]                # "dynamic" = peer's outer address
esp_proposals = ["aes256gcm16", "aes128gcm16", "aes128-sha256"]
mode = "tunnel"                                # tunnel | transport (host to host, RFC 7296 §1.3.1)
start_action = "start"                         # none | start  (trap later)
close_action = "none"                          # none | start (re-initiate when the peer deletes)
rekey_time = "1h"                              # rekey the Child SA (0 = never)
life_time = "66m"                              # delete it if not rekeyed by then (default rekey_time + 10%)

[secrets.ike.net2net]                          # a pre-shared key
ids = ["moon.example.org", "carol.example.org"] # the identities this key is for (one or more)
secret = "lab-psk-not-secret-0123456789"        # inline, or:
# secret_file = "net2net.psk"                   # relative to this file's folder; must be mode 0600
"#;

fn ike(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Ike, s).unwrap()
}

fn esp(s: &str) -> ProposalSpec {
    ProposalSpec::parse(Protocol::Esp, s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ts(s: &str) -> TsSpec {
    TsSpec::Ts(s.parse().unwrap())
}

#[test]
fn doc_example_parses_to_the_expected_structs() {
    let got = Config::parse("/etc/rampart/rampart.toml", EXAMPLE).unwrap();
    let expected = Config {
        path: "/etc/rampart/rampart.toml".into(),
        daemon: DaemonConfig {
            control_socket: "/run/rampart/rampart.sock".into(),
            tun_name: "rampart0".into(),
            ike_port: 500,
            natt_port: 4500,
            log_level: LogLevel::Info,
            log_subsystems: vec![],
            control_group: None,
            metrics_listen: None,
            legacy_crypto: false,
            fragment_size: 1280,
            state_dir: "/var/lib/rampart".into(),
            listen: vec![ip("0.0.0.0"), ip("::")],
        },
        connections: vec![Connection {
            name: "net2net".into(),
            version: 2,
            local_addrs: vec![ip("192.0.2.1")],
            remote_addrs: vec![RemoteAddr::Addr(ip("192.0.2.100"))],
            proposals: vec![
                ike("aes256gcm16-prfsha256-x25519"),
                ike("aes128-sha256-ecp256"),
            ],
            encap: false,
            dpd_delay: Duration::from_secs(30),
            keyingtries: 1,
            rekey_time: Duration::from_secs(4 * 3600),
            dpd_action: DpdAction::Clear,
            unique: Unique::Replace,
            fragmentation: true,
            mobike: true,
            local: AuthConfig {
                auth: AuthMethod::Psk,
                id: Some(Identity::Fqdn("moon.example.org".into())),
                cert: None,
                eap_id: None,
            },
            remote: AuthConfig {
                auth: AuthMethod::Psk,
                id: Some(Identity::Fqdn("carol.example.org".into())),
                cert: None,
                eap_id: None,
            },
            children: vec![Child {
                name: "net".into(),
                local_ts: vec![ts("203.0.113.0/24")],
                remote_ts: vec![ts("198.51.100.0/25")],
                esp_proposals: vec![esp("aes256gcm16"), esp("aes128gcm16"), esp("aes128-sha256")],
                ah_proposals: vec![],
                mode: Mode::Tunnel,
                start_action: StartAction::Start,
                close_action: CloseAction::None,
                rekey_time: Duration::from_secs(3600),
                life_time: Duration::from_secs(3960),
                dataplane: config::ChildDataplane::default(),
            }],
            pools: vec![],
            dns: vec![],
            vips: vec![],
        }],
        ike_secrets: vec![IkeSecret {
            name: "net2net".into(),
            ids: vec![
                Identity::Fqdn("moon.example.org".into()),
                Identity::Fqdn("carol.example.org".into()),
            ],
            secret: SecretBytes::from_slice(b"lab-psk-not-secret-0123456789"),
        }],
        authorities: vec![],
        pools: vec![],
        eap_secrets: vec![],
    };
    assert_eq!(got, expected);

    let c = &got.connections[0];
    assert!(c.starts_on_load());
    assert!(c.matches_addrs(ip("192.0.2.1"), ip("192.0.2.100")));
    assert!(!c.matches_addrs(ip("192.0.2.2"), ip("192.0.2.100")));
    assert!(!c.matches_addrs(ip("192.0.2.1"), ip("192.0.2.101")));
    assert_eq!(got.connection("net2net"), Some(c));
    assert_eq!(
        got.find_psk(
            &"moon.example.org".parse().unwrap(),
            &"carol.example.org".parse().unwrap()
        )
        .map(|s| s.as_slice()),
        Some(&b"lab-psk-not-secret-0123456789"[..])
    );
}

#[test]
fn the_secret_never_shows_in_debug() {
    let got = Config::parse("rampart.toml", EXAMPLE).unwrap();
    let dbg = format!("{got:?} {:#?}", got.ike_secrets);
    assert!(!dbg.contains("lab-psk"), "{dbg}");
    assert!(dbg.contains("redacted"), "{dbg}");
}

#[test]
fn minimal_config_gets_the_documented_defaults() {
    let text = r#"
[connections.rw]
remote_addrs = ["%any", "2001:db8::7"]
[connections.rw.local]
auth = "psk"
[connections.rw.remote]
auth = "psk"
id = "%any"
[connections.rw.children.all]

[connections.b]
remote_addrs = ["198.51.100.1"]
dpd_delay = 0
keyingtries = 0
[connections.b.local]
auth = "psk"
id = "@#01ff"
[connections.b.remote]
auth = "psk"
[connections.b.children.c1]
local_ts = ["dynamic", "192.0.2.1-192.0.2.9[tcp/443]"]
[connections.b.children.c0]

[secrets.ike.wild]
ids = []
secret = "k"
"#;
    let c = Config::parse("rampart.toml", text).unwrap();
    assert_eq!(c.daemon, DaemonConfig::default());
    assert_eq!(
        c.daemon.control_socket,
        std::path::Path::new("/run/rampart/rampart.sock")
    );
    assert_eq!(c.daemon.tun_name, "rampart0");
    assert_eq!((c.daemon.ike_port, c.daemon.natt_port), (500, 4500));
    assert_eq!(c.daemon.listen, vec![ip("0.0.0.0"), ip("::")]);

    // File order, not alphabetical order.
    let names: Vec<&str> = c.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["rw", "b"]);
    let rw = &c.connections[0];
    assert_eq!(rw.version, 2);
    assert!(rw.local_addrs.is_empty());
    assert_eq!(
        rw.remote_addrs,
        vec![RemoteAddr::Any, RemoteAddr::Addr(ip("2001:db8::7"))]
    );
    assert!(rw.matches_addrs(ip("192.0.2.1"), ip("203.0.113.9")));
    assert!(!rw.starts_on_load());
    assert_eq!(
        rw.proposals,
        DEFAULT_IKE_PROPOSALS
            .iter()
            .map(|s| ike(s))
            .collect::<Vec<_>>()
    );
    assert!(!rw.encap);
    assert_eq!(rw.dpd_delay, DEFAULT_DPD_DELAY);
    assert_eq!(rw.dpd_delay, Duration::from_secs(30));
    assert_eq!(rw.keyingtries, 1);
    assert_eq!(rw.local.id, None);
    assert_eq!(rw.remote.id, None);
    let all = &rw.children[0];
    assert_eq!(all.name, "all");
    assert_eq!(all.local_ts, vec![TsSpec::Dynamic]);
    assert_eq!(all.remote_ts, vec![TsSpec::Dynamic]);
    assert_eq!(
        all.esp_proposals,
        DEFAULT_ESP_PROPOSALS
            .iter()
            .map(|s| esp(s))
            .collect::<Vec<_>>()
    );
    assert_eq!(all.mode, Mode::Tunnel);
    assert_eq!(all.start_action, StartAction::None);
    assert_eq!(all.close_action, CloseAction::None);
    assert_eq!(all.rekey_time, DEFAULT_CHILD_REKEY_TIME);
    assert_eq!(all.life_time, Duration::from_secs(3960));
    assert_eq!(rw.rekey_time, DEFAULT_IKE_REKEY_TIME);
    assert_eq!(rw.rekey_time, Duration::from_secs(4 * 3600));
    assert_eq!(
        (rw.dpd_action, rw.unique, rw.fragmentation, rw.mobike),
        (DpdAction::Clear, Unique::Replace, true, true)
    );
    assert!(!c.daemon.legacy_crypto);
    assert_eq!(c.daemon.fragment_size, DEFAULT_FRAGMENT_SIZE);

    let b = &c.connections[1];
    assert_eq!(b.dpd_delay, Duration::ZERO);
    assert_eq!(b.keyingtries, 0);
    assert_eq!(b.local.id, Some(Identity::KeyId(vec![0x01, 0xff])));
    let child_names: Vec<&str> = b.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(child_names, ["c1", "c0"]);
    assert_eq!(
        b.child("c1").unwrap().local_ts,
        vec![TsSpec::Dynamic, ts("192.0.2.1-192.0.2.9[tcp/443]")]
    );

    // The wildcard secret answers any pair of identities.
    assert_eq!(
        c.find_psk(&"a.example".parse().unwrap(), &"b.example".parse().unwrap())
            .map(|s| s.as_slice()),
        Some(&b"k"[..])
    );
}

#[test]
fn durations_in_all_forms() {
    for (text, secs) in [
        ("\"45s\"", 45),
        ("\"5m\"", 300),
        ("\"1h\"", 3600),
        ("90", 90),
    ] {
        let cfg = format!(
            "[connections.a]\nremote_addrs = [\"192.0.2.9\"]\ndpd_delay = {text}\n\
             [connections.a.local]\nauth = \"psk\"\n[connections.a.remote]\nauth = \"psk\"\n\
             [connections.a.children.c]\n"
        );
        let c = Config::parse("r.toml", &cfg).unwrap();
        assert_eq!(
            c.connections[0].dpd_delay,
            Duration::from_secs(secs),
            "{text}"
        );
    }
}
