//! A table of broken configurations and the exact messages they must produce.

use config::Config;

/// A valid connection to build cases around (lines 1-12).
const CONN: &str = r#"[connections.a]
remote_addrs = ["192.0.2.100"]
[connections.a.local]
auth = "psk"
id = "moon.example.org"
[connections.a.remote]
auth = "psk"
id = "carol.example.org"
[connections.a.children.net]
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/25"]
start_action = "start"
"#;

/// A valid secret (lines 1-3).
const SECRET: &str = r#"[secrets.ike.s]
ids = ["moon.example.org", "carol.example.org"]
secret = "lab-psk-not-secret-0123456789"
"#;

fn errors(text: &str) -> Vec<String> {
    match Config::parse("rampart.toml", text) {
        Ok(c) => panic!("accepted a broken config: {c:?}\n{text}"),
        Err(e) => e.messages(),
    }
}

#[track_caller]
fn check(text: &str, expected: &[&str]) {
    let got = errors(text);
    assert_eq!(got, expected, "\n--- config ---\n{text}");
}

#[test]
fn the_valid_bases_are_valid() {
    let c = Config::parse("rampart.toml", &format!("{CONN}{SECRET}")).unwrap();
    assert_eq!(c.connections.len(), 1);
    assert_eq!(c.ike_secrets.len(), 1);
}

#[test]
fn toml_syntax_error() {
    check(
        "[daemon]\ntun_name = \"x\nike_port = 500\n",
        &["rampart.toml:2:14: TOML syntax: invalid basic string, expected `\"`"],
    );
}

#[test]
fn duplicate_table_is_a_syntax_error() {
    check(
        "[secrets.ike.s]\nids = []\nsecret = \"k\"\n[secrets.ike.s]\nids = []\n",
        &["rampart.toml:4:14: TOML syntax: duplicate key 's'"],
    );
}

#[test]
fn unknown_top_level_key() {
    check(
        "[deamon]\ntun_name = \"x\"\n",
        &[
            "rampart.toml:1:2: unknown key 'deamon' in the top level, did you mean 'daemon'? \
           (allowed: daemon, connections, secrets, authorities, pools)",
        ],
    );
}

#[test]
fn unknown_connection_key_with_suggestion() {
    let text = CONN.replace("remote_addrs", "remote_adrs");
    check(
        &text,
        &[
            "rampart.toml:1:1: connections.a: missing required key 'remote_addrs' (the peer's \
             IP address(es), or [\"%any\"] to accept any peer)",
            "rampart.toml:2:1: connections.a: unknown key 'remote_adrs' in connections.a, did \
             you mean 'remote_addrs'? (allowed: version, local_addrs, remote_addrs, proposals, \
             encap, dpd_delay, keyingtries, rekey_time, dpd_action, unique, fragmentation, \
             mobike, local, remote, children, pools, dns, vips)",
        ],
    );
}

#[test]
fn bad_ike_proposals() {
    let text = CONN.replace(
        "remote_addrs = [\"192.0.2.100\"]\n",
        "remote_addrs = [\"192.0.2.100\"]\nproposals = [\"aes256-sha256-x25519\", \"aes999-sha256-x25519\", \
         \"aes256gcm16-x25519\", \"aes128-sha256\"]\n",
    );
    let got = errors(&text);
    assert_eq!(got.len(), 3, "{got:?}");
    // The list of algorithms belongs to the crypto crate: check its start only.
    assert!(
        got[0].starts_with(
            "rampart.toml:3:38: connections.a.proposals[1]: invalid proposal \
             'aes999-sha256-x25519': unknown algorithm 'aes999' (allowed: encryption: aes128 \
             aes192 aes256 "
        ),
        "{got:?}"
    );
    assert_eq!(
        got[1..],
        [
            "rampart.toml:3:62: connections.a.proposals[2]: invalid proposal \
             'aes256gcm16-x25519': an AEAD IKE proposal needs a PRF (add e.g. prfsha256)",
            "rampart.toml:3:84: connections.a.proposals[3]: invalid proposal 'aes128-sha256': \
             an IKE proposal needs a key exchange method (add e.g. x25519 or ecp256)",
        ]
    );
}

#[test]
fn bad_esp_proposals_and_empty_list() {
    let text = CONN.replace(
        "start_action = \"start\"\n",
        "esp_proposals = [\"aes128-sha256-bogus\", \"aes128-prfsha256\", \"\"]\n",
    );
    let got = errors(&text);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0].starts_with(
            "rampart.toml:12:18: connections.a.children.net.esp_proposals[0]: invalid \
             proposal 'aes128-sha256-bogus': unknown algorithm 'bogus' (allowed: "
        ),
        "{got:?}"
    );
    assert_eq!(
        got[1..],
        [
            "rampart.toml:12:41: connections.a.children.net.esp_proposals[1]: invalid proposal \
             'aes128-prfsha256': 'prfsha256': ESP proposals take no PRF (remove it)",
            "rampart.toml:12:61: connections.a.children.net.esp_proposals[2]: invalid proposal \
             '': empty proposal",
        ]
    );
    let text = CONN.replace("start_action = \"start\"\n", "esp_proposals = []\n");
    check(
        &text,
        &[
            "rampart.toml:12:17: connections.a.children.net.esp_proposals: must not be empty \
           (expected proposal strings like \"aes256gcm16\" or \"aes128-sha256\")",
        ],
    );
}

#[test]
fn bad_traffic_selector() {
    let text = CONN.replace(
        "local_ts = [\"203.0.113.0/24\"]",
        "local_ts = [\"203.0.113.0/24\", \"203.0.113.0/33\"]",
    );
    check(
        &text,
        &[
            "rampart.toml:10:31: connections.a.children.net.local_ts[1]: invalid traffic \
           selector '203.0.113.0/33': prefix length too long (allowed: a prefix like \
           203.0.113.0/24, a range like 192.0.2.1-192.0.2.9 or an address, each optionally \
           followed by [proto/port], or \"dynamic\")",
        ],
    );
}

#[test]
fn bad_identity_and_local_any() {
    let text = CONN
        .replace("id = \"moon.example.org\"", "id = \"%any\"")
        .replace("id = \"carol.example.org\"", "id = \"@#abc\"");
    check(
        &text,
        &[
            "rampart.toml:5:6: connections.a.local.id: \"%any\" is not allowed here (allowed: \
             an FQDN, user@host, an IP address, a DN like \"C=CH, O=Rampart, CN=moon\", @#hex \
             key id, or a fqdn:/email:/ipv4:/ipv6:/keyid:/dn: prefix)",
            "rampart.toml:8:6: connections.a.remote.id: invalid identity '@#abc': bad hex in \
             key id (allowed: an FQDN, user@host, an IP address, a DN like \"C=CH, O=Rampart, \
             CN=moon\", @#hex key id, or a fqdn:/email:/ipv4:/ipv6:/keyid:/dn: prefix, or \
             \"%any\")",
        ],
    );
}

#[test]
fn any_peer_cannot_start() {
    let text = CONN.replace("[\"192.0.2.100\"]", "[\"%any\"]").replace(
        "start_action = \"start\"\n",
        "start_action = \"start\"\nclose_action = \"start\"\n",
    );
    check(
        &text,
        &[
            "rampart.toml:12:16: connections.a.children.net.start_action: \"start\" needs a \
             peer address to initiate to, but connections.a.remote_addrs contains \"%any\" \
             (allowed here: none)",
            "rampart.toml:13:16: connections.a.children.net.close_action: \"start\" needs a \
             peer address to initiate to, but connections.a.remote_addrs contains \"%any\" \
             (allowed here: none)",
        ],
    );
}

#[test]
fn connection_without_children() {
    let text = "[connections.a]\nremote_addrs = [\"192.0.2.100\"]\n[connections.a.local]\n\
                auth = \"psk\"\n[connections.a.remote]\nauth = \"psk\"\n";
    check(
        text,
        &[
            "rampart.toml:1:1: connections.a: missing required key 'children' (a connection \
           needs at least one [connections.a.children.NAME] table)",
        ],
    );
    let text = format!("{text}[connections.a.children]\n");
    check(
        &text,
        &[
            "rampart.toml:7:1: connections.a: no children (add at least one \
           [connections.a.children.NAME] table)",
        ],
    );
}

#[test]
fn missing_auth_sections_and_unknown_method() {
    let text = "[connections.a]\nremote_addrs = [\"192.0.2.100\"]\n[connections.a.local]\n\
                auth = \"eap\"\n[connections.a.remote]\nauth = \"cert\"\n\
                [connections.a.children.net]\n";
    check(
        text,
        &[
            "rampart.toml:4:8: connections.a.local.auth: 'eap' is not supported yet \
             (allowed: psk, pubkey, eap-mschapv2)",
            "rampart.toml:6:8: connections.a.remote.auth: unknown value 'cert' (allowed: psk, \
             pubkey, eap-mschapv2)",
        ],
    );
    let text = "[connections.a]\nremote_addrs = [\"192.0.2.100\"]\n\
                [connections.a.children.net]\n";
    check(
        text,
        &[
            "rampart.toml:1:1: connections.a: missing required key 'local' (a \
             [connections.a.local] table with auth = \"psk\", \"pubkey\" or \"eap-mschapv2\" and an id)",
            "rampart.toml:1:1: connections.a: missing required key 'remote' (a \
             [connections.a.remote] table with auth = \"psk\", \"pubkey\" or \"eap-mschapv2\" and an id)",
        ],
    );
}

#[test]
fn wrong_types_and_ranges() {
    let text = CONN.replace(
        "remote_addrs = [\"192.0.2.100\"]\n",
        "remote_addrs = \"192.0.2.100\"\nencap = \"yes\"\nkeyingtries = -1\nversion = 1\n",
    );
    check(
        &text,
        &[
            "rampart.toml:2:16: connections.a.remote_addrs: expected an array of IP addresses \
             or \"%any\", found string",
            "rampart.toml:3:9: connections.a.encap: expected true or false, found string",
            "rampart.toml:4:15: connections.a.keyingtries: -1 is out of range (allowed: 0 to \
             4294967295)",
            "rampart.toml:5:11: connections.a.version: IKE version 1 is not supported \
             (allowed: 2)",
        ],
    );
}

#[test]
fn bad_addresses_and_duplicates() {
    let text = CONN.replace(
        "remote_addrs = [\"192.0.2.100\"]\n",
        "remote_addrs = [\"vpn.example.org\"]\nlocal_addrs = [\"192.0.2.1\", \"192.0.2.1\"]\n",
    );
    check(
        &text,
        &[
            "rampart.toml:2:17: connections.a.remote_addrs[0]: 'vpn.example.org' is not an IP \
             address (allowed: an IPv4 or IPv6 address, or \"%any\")",
            "rampart.toml:3:29: connections.a.local_addrs[1]: duplicate address 192.0.2.1 \
             (already at connections.a.local_addrs[0])",
        ],
    );
}

#[test]
fn bad_durations_and_keywords() {
    let text = CONN.replace(
        "remote_addrs = [\"192.0.2.100\"]\n",
        "remote_addrs = [\"192.0.2.100\"]\ndpd_delay = \"30 seconds\"\n",
    ) + "mode = \"beet\"\nclose_action = \"restart\"\n";
    check(
        &text,
        &[
            "rampart.toml:3:13: connections.a.dpd_delay: invalid duration '30 seconds' \
             (allowed: a number of seconds, or a string like \"30s\", \"5m\", \"1h\", \"2d\")",
            "rampart.toml:14:8: connections.a.children.net.mode: unknown value 'beet' \
             (allowed: tunnel, transport)",
            "rampart.toml:15:16: connections.a.children.net.close_action: unknown value \
             'restart' (allowed: none, start)",
        ],
    );
}

#[test]
fn unknown_child_key_and_bad_name() {
    let text = CONN.replace(
        "[connections.a.children.net]",
        "[connections.a.children.\"my net\"]",
    ) + "start = \"yes\"\n";
    check(
        &text,
        &[
            "rampart.toml:9:25: connections.a.children.\"my net\": invalid name 'my net' \
             (allowed: 1 to 64 letters, digits, '_' or '-')",
            "rampart.toml:13:1: connections.a.children.\"my net\": unknown key 'start' in \
             connections.a.children.\"my net\" (allowed: local_ts, remote_ts, esp_proposals, \
             ah_proposals, mode, start_action, close_action, rekey_time, life_time, replay_window, \
             rekey_bytes, life_bytes, rekey_packets, life_packets, copy_dscp, mss_clamp, \
             tfc_padding)",
        ],
    );
}

#[test]
fn child_names_unique_across_connections() {
    let text = format!("{CONN}{}", CONN.replace("connections.a", "connections.b"));
    check(
        &text,
        &[
            "rampart.toml:21:25: connections.b.children.net: child name 'net' is already used \
           in connections.a (child names must be unique across connections)",
        ],
    );
}

#[test]
fn daemon_errors() {
    let text = "[daemon]\ncontrol_socket = \"rampart.sock\"\ntun_name = \"a-very-long-tun-name\"\n\
                ike_port = 70000\nnatt_port = 0\nlog_level = \"verbose\"\nlisten = [\"0.0.0.0\", 4]\n\
                listn = []\n";
    check(
        text,
        &[
            "rampart.toml:2:18: daemon.control_socket: 'rampart.sock' is not an absolute path \
             (allowed: an absolute path, e.g. /run/rampart/rampart.sock)",
            "rampart.toml:3:12: daemon.tun_name: invalid interface name \
             'a-very-long-tun-name' (allowed: 1 to 15 printable characters without '/', ':' or \
             spaces)",
            "rampart.toml:4:12: daemon.ike_port: 70000 is out of range (allowed: 1 to 65535)",
            "rampart.toml:5:13: daemon.natt_port: 0 is out of range (allowed: 1 to 65535)",
            "rampart.toml:6:13: daemon.log_level: unknown value 'verbose' (allowed: error, \
             warn, info, debug, trace)",
            "rampart.toml:7:22: daemon.listen[1]: expected a string, found integer",
            "rampart.toml:8:1: daemon: unknown key 'listn' in daemon, did you mean 'listen'? \
             (allowed: control_socket, tun_name, ike_port, natt_port, log_level, listen, \
             control_group, metrics_listen, legacy_crypto, fragment_size, state_dir)",
        ],
    );
}

#[test]
fn equal_ports() {
    check(
        "[daemon]\nike_port = 4500\n",
        &[
            "rampart.toml:2:12: daemon.ike_port: ike_port and natt_port must differ (both are \
           4500; NAT-T needs its own port, RFC 3948)",
        ],
    );
}

#[test]
fn secret_errors() {
    check(
        "[secrets.ike.s]\nids = [\"moon.example.org\"]\n",
        &[
            "rampart.toml:1:1: secrets.ike.s: missing required key 'secret' (or 'secret_file': \
           the pre-shared key inline, or a file holding it)",
        ],
    );
    check(
        "[secrets.ike.s]\nids = [\"moon.example.org\"]\nsecret = \"\"\n",
        &["rampart.toml:3:10: secrets.ike.s.secret: a pre-shared key must not be empty"],
    );
    check(
        "[secrets.ike.s]\nids = [\"moon.example.org\"]\nsecret = \"k\"\nsecret_file = \"s.psk\"\n",
        &[
            "rampart.toml:4:15: secrets.ike.s.secret_file: give either 'secret' or \
           'secret_file', not both",
        ],
    );
    check(
        "[secrets.ike.s]\nsecret = \"k\"\n[secrets.pgp.x]\n",
        &[
            "rampart.toml:1:1: secrets.ike.s: missing required key 'ids' (the identities this \
             key is for, e.g. [\"moon.example.org\", \"carol.example.org\"]; [] matches any)",
            "rampart.toml:3:10: secrets: unknown key 'pgp' in secrets, did you mean 'eap'? (allowed: ike, eap)",
        ],
    );
}

#[test]
fn secret_duplicates() {
    let text = format!(
        "{SECRET}[secrets.ike.t]\nids = [\"CAROL.example.org\", \"moon.example.org\"]\n\
         secret = \"other\"\n[secrets.ike.u]\nids = [\"%any\", \"x.example\", \"X.example\"]\n\
         secret = \"k\"\n"
    );
    check(
        &text,
        &[
            "rampart.toml:5:7: secrets.ike.t.ids: same ids as secrets.ike.s (the PSK lookup \
             could not choose between them; merge or remove one)",
            "rampart.toml:8:8: secrets.ike.u.ids[0]: \"%any\" is not allowed here (allowed: an \
             FQDN, user@host, an IP address, a DN like \"C=CH, O=Rampart, CN=moon\", @#hex key \
             id, or a fqdn:/email:/ipv4:/ipv6:/keyid:/dn: prefix)",
            "rampart.toml:8:29: secrets.ike.u.ids[2]: duplicate identity 'X.example' (already \
             at secrets.ike.u.ids[1])",
        ],
    );
}

#[test]
fn secrets_never_in_messages() {
    // A secret of the wrong type, a misspelt key holding a secret, and a bad table: the value
    // must not be echoed.
    let text =
        "[secrets.ike.s]\nids = []\nsecret = 123456789\n[secrets.ike.t]\nids = [\"a.example\"]\n\
                secret = \"hunter2-secret\"\nsecrte = \"hunter3-secret\"\n";
    let got = errors(text).join("\n");
    assert!(!got.contains("123456789"), "{got}");
    assert!(!got.contains("hunter"), "{got}");
    assert_eq!(
        errors(text),
        [
            "rampart.toml:3:10: secrets.ike.s.secret: expected a string, found integer",
            "rampart.toml:7:1: secrets.ike.t: unknown key 'secrte' in secrets.ike.t, did you \
             mean 'secret'? (allowed: ids, secret, secret_file)",
        ]
    );
}

#[test]
fn unreadable_file() {
    let e = Config::load("/nonexistent/rampart.toml").unwrap_err();
    assert_eq!(
        e.messages(),
        ["/nonexistent/rampart.toml: cannot read configuration: No such file or directory (os error 2)"]
    );
}

#[test]
fn operator_daemon_keys() {
    let cases: &[(&str, &str)] = &[
        (
            "log_level = \"info,ike=loud\"",
            "rampart.toml:2:13: daemon.log_level: unknown level 'loud' for 'ike' (allowed: error, \
             warn, info, debug, trace)",
        ),
        (
            "log_level = \"info,kernel=debug\"",
            "rampart.toml:2:13: daemon.log_level: unknown subsystem 'kernel' (allowed: ike, esp, \
             os, dataplane, control, daemon)",
        ),
        (
            "log_level = \"info,debug\"",
            "rampart.toml:2:13: daemon.log_level: more than one default level in 'info,debug' \
             (allowed: one level, then SUBSYSTEM=LEVEL items, e.g. \"info,ike=debug\")",
        ),
        (
            "log_level = \"ike=debug,ike=info\"",
            "rampart.toml:2:13: daemon.log_level: subsystem 'ike' is given twice (allowed: once \
             each)",
        ),
        (
            "log_level = \"info,\"",
            "rampart.toml:2:13: daemon.log_level: empty item in 'info,' (allowed: a level, then \
             SUBSYSTEM=LEVEL items, e.g. \"info,ike=debug\")",
        ),
        (
            "control_group = \"-wheel\"",
            "rampart.toml:2:17: daemon.control_group: invalid group name '-wheel' (allowed: 1 to \
             32 letters, digits, '_', '-' or '.', not starting with '-')",
        ),
        (
            "metrics_listen = \"localhost:9781\"",
            "rampart.toml:2:18: daemon.metrics_listen: invalid address 'localhost:9781' \
             (allowed: IP:port with a port from 1 to 65535, e.g. \"127.0.0.1:9781\" or \
             \"[::1]:9781\")",
        ),
        (
            "metrics_listen = \"127.0.0.1:0\"",
            "rampart.toml:2:18: daemon.metrics_listen: invalid address '127.0.0.1:0' (allowed: \
             IP:port with a port from 1 to 65535, e.g. \"127.0.0.1:9781\" or \"[::1]:9781\")",
        ),
        (
            "metrics_listen = 9781",
            "rampart.toml:2:18: daemon.metrics_listen: expected a string, found integer",
        ),
    ];
    for (line, msg) in cases {
        check(&format!("[daemon]\n{line}\n"), &[msg]);
    }
}

#[test]
fn operator_daemon_keys_accepted() {
    let c = config::Config::parse(
        "rampart.toml",
        "[daemon]\nlog_level = \"warn, ike=debug ,esp=trace\"\ncontrol_group = \"rampart\"\n\
         metrics_listen = \"[::1]:9781\"\n",
    )
    .unwrap();
    assert_eq!(c.daemon.log_level, config::LogLevel::Warn);
    assert_eq!(
        c.daemon.log_subsystems,
        vec![
            (config::Subsystem::Ike, config::LogLevel::Debug),
            (config::Subsystem::Esp, config::LogLevel::Trace)
        ]
    );
    assert_eq!(c.daemon.control_group.as_deref(), Some("rampart"));
    assert_eq!(c.daemon.metrics_listen, Some("[::1]:9781".parse().unwrap()));
    // Only subsystems: the default level stays info.
    let c = config::Config::parse("rampart.toml", "[daemon]\nlog_level = \"ike=debug\"\n").unwrap();
    assert_eq!(c.daemon.log_level, config::LogLevel::Info);
    // Off by default.
    let c = config::Config::parse("rampart.toml", "").unwrap();
    assert_eq!(
        (c.daemon.metrics_listen, c.daemon.control_group),
        (None, None)
    );
}

#[test]
fn child_dataplane_settings() {
    let ok = format!(
        "{CONN}replay_window = 4096\nrekey_bytes = 1000000\nlife_bytes = 2000000\n\
         rekey_packets = 0\nlife_packets = 500\ncopy_dscp = false\nmss_clamp = false\n\
         tfc_padding = \"mtu\"\n{SECRET}"
    );
    let c = Config::parse("rampart.toml", &ok).unwrap();
    let d = c.connections[0].children[0].dataplane;
    assert_eq!(
        d,
        config::ChildDataplane {
            replay_window: 4096,
            rekey_bytes: 1_000_000,
            life_bytes: 2_000_000,
            rekey_packets: 0,
            life_packets: 500,
            copy_dscp: false,
            mss_clamp: false,
            tfc_padding: config::TfcPadding::Mtu,
        }
    );
    let defaults = Config::parse("rampart.toml", &format!("{CONN}{SECRET}")).unwrap();
    assert_eq!(
        defaults.connections[0].children[0].dataplane,
        config::ChildDataplane::default()
    );
    check(
        &format!(
            "{CONN}replay_window = 8192\nrekey_bytes = 5000\nlife_bytes = 5000\n\
             tfc_padding = \"lots\"\n"
        ),
        &[
            "rampart.toml:13:17: connections.a.children.net.replay_window: 8192 is out of \
             range (allowed: 0 to 4096)",
            "rampart.toml:15:14: connections.a.children.net.life_bytes: life_bytes 5000 must \
             be larger than rekey_bytes 5000 (the Child SA is rekeyed before it expires; 0 = \
             no limit)",
            "rampart.toml:16:15: connections.a.children.net.tfc_padding: expected 0 (off), a \
             number of bytes up to 65535 or \"mtu\"",
        ],
    );
}
