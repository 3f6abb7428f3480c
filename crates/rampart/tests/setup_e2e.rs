//! End to end: a server made by `rampart setup` in a namespace (198.51.100.128/25 pool, a lan
//! host behind it), clients with the credentials setup and `rampart client` printed or
//! exported: strongSwan (swanctl) with EAP-MSCHAPv2 as vpnuser, strongSwan with the exported
//! .p12 (imported as is), and `rampart client revoke` of the connected certificate client
//! tearing it down, a retry refused. Needs root and strongSwan; under CI=true a missing tool
//! fails. About 10 s.

use std::path::Path;
use std::time::Duration;

use testbed::{ping, wait_until, Charon, Netns, RampartDaemon, TestDir};

const LAN_HOST: &str = "198.51.100.2";
const WAIT: Duration = Duration::from_secs(15);
const MSCHAPV2_PLUGIN: &str = "/usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rampart")
}

fn ready() -> bool {
    if !testbed::require_root_and_tools(testbed::STRONGSWAN_TOOLS) {
        return false;
    }
    if Path::new(MSCHAPV2_PLUGIN).exists() {
        return true;
    }
    assert!(
        !testbed::privilege::in_ci(),
        "CI=true: {MSCHAPV2_PLUGIN} missing (libcharon-extauth-plugins)"
    );
    eprintln!("SKIPPED: {MSCHAPV2_PLUGIN} missing");
    false
}

fn field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no '{key}' in\n{text}"))
}

fn swan_conf(conn: &str, local: &str, ca: &Path, secrets: &str) -> String {
    format!(
        r#"connections {{
  {conn} {{
    remote_addrs = 203.0.113.1
    vips = 0.0.0.0
    {local}
    remote {{
      auth = pubkey
      id = vpn.example.org
    }}
    children {{
      {conn} {{
        remote_ts = 198.51.100.0/26
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

struct World {
    dir: TestDir,
    srv: Netns,
    _lan: Netns,
    cli: Netns,
    etc: std::path::PathBuf,
    server: RampartDaemon,
    charon: Charon,
    p12_pw: String,
}

/// Topology, `rampart setup`, a certificate client, the daemon and a charon; then the EAP
/// user of the banner connects and pings the lan host.
fn world_with_eap_checked() -> World {
    let dir = TestDir::new("sue");
    let srv = Netns::new("sue-s");
    let lan = Netns::new("sue-l");
    let cli = Netns::new("sue-c");
    Netns::veth(&srv, "s-wan", &cli, "c-wan");
    srv.add_addr("s-wan", "203.0.113.1/24");
    cli.add_addr("c-wan", "203.0.113.2/24");
    Netns::veth(&srv, "s-lan", &lan, "l-eth");
    srv.add_addr("s-lan", "198.51.100.1/26");
    lan.add_addr("l-eth", "198.51.100.2/26");
    lan.add_route("198.51.100.128/25", "198.51.100.1");

    // The server, as an operator would make it.
    let etc = dir.subdir("etc");
    let etc_s = etc.display().to_string();
    let banner = srv.run_ok(&[
        bin(),
        "setup",
        "--config-dir",
        &etc_s,
        "--address",
        "203.0.113.1",
        "--dns-name",
        "vpn.example.org",
        "--pool4",
        "198.51.100.128/25",
        "--pool6",
        "none",
        "--dns",
        "198.51.100.53",
        "--no-service",
    ]);
    let user = field(&banner, "Username:");
    let password = field(&banner, "Password:");
    let add = srv.run_ok(&[bin(), "client", "--config-dir", &etc_s, "add", "laptop"]);
    let p12_pw = field(&add, "P12 password:");
    // The harness owns the control socket path; everything else is setup's file.
    let conf = std::fs::read_to_string(etc.join("rampart.toml"))
        .unwrap()
        .replacen(
            "[daemon]\n",
            &format!(
                "[daemon]\ncontrol_socket = \"{}\"\n",
                RampartDaemon::socket_in(&etc).display()
            ),
            1,
        );
    let server = RampartDaemon::start(Path::new(bin()), &srv, &etc, &conf);

    let charon = Charon::start(&cli, &dir.subdir("cli"));
    let ca = etc.join("ca.crt");
    // EAP-MSCHAPv2 with the user and password of the banner.
    let eap = swan_conf(
        "eap",
        &format!("local {{\n      auth = eap-mschapv2\n      eap_id = {user}\n    }}"),
        &ca,
        &format!("  eap-u {{\n    id = {user}\n    secret = {password}\n  }}"),
    );
    charon.load_config(&eap);
    let out = charon.initiate("eap");
    assert!(
        out.ok(),
        "EAP initiate failed: {out}\n{}\n{}",
        charon.log(),
        server.log()
    );
    assert!(charon
        .log()
        .contains("installing new virtual IP 198.51.100.129"));
    assert!(ping(&cli, LAN_HOST, 3), "lan host unreachable over EAP");
    assert!(charon.terminate_ike("eap").ok());
    assert!(wait_until(WAIT, || server.ike_sas().is_empty()));
    World {
        dir,
        srv,
        _lan: lan,
        cli,
        etc,
        server,
        charon,
        p12_pw,
    }
}

#[test]
fn setup_server_with_the_banners_eap_user() {
    if !ready() {
        return;
    }
    world_with_eap_checked();
}

#[test]
#[ignore = "charon sends no CERT payload for the .p12 client yet (IKE_AUTH without CERT, server: 'laptop' sent no certificate); to investigate"]
fn setup_server_exported_p12_then_live_revocation() {
    if !ready() {
        return;
    }
    let World {
        dir,
        srv,
        cli,
        etc,
        server,
        charon,
        p12_pw,
        ..
    } = world_with_eap_checked();
    let etc_s = etc.display().to_string();
    let ca = etc.join("ca.crt");
    let sock = RampartDaemon::socket_in(&etc).display().to_string();

    // The exported .p12 imported as is: swanctl reads it from the pkcs12 folder beside its
    // configuration and hands key and certificates to charon.
    let p12 = etc.join("export/laptop/laptop.p12");
    std::fs::copy(&p12, dir.subdir("cli").join("pkcs12").join("laptop.p12")).unwrap();
    // charon sends a certificate only when the connection names one: the same certificate,
    // taken out of the .p12 by OpenSSL.
    let crt = dir.subdir("cli").join("x509").join("laptop.crt");
    let o = testbed::cmd::run_args(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p12.display().to_string(),
            "-passin",
            &format!("pass:{p12_pw}"),
            "-clcerts",
            "-nokeys",
            "-out",
            &crt.display().to_string(),
        ],
    );
    assert!(o.ok(), "openssl pkcs12: {o}");
    let cert = swan_conf(
        "crt",
        "local {\n      auth = pubkey\n      id = laptop\n      certs = laptop.crt\n    }",
        &ca,
        &format!("  pkcs12-laptop {{\n    file = laptop.p12\n    secret = \"{p12_pw}\"\n  }}"),
    );
    charon.load_config(&cert);
    let out = charon.initiate("crt");
    assert!(
        out.ok(),
        "certificate initiate failed: {out}\n{}\n{}",
        charon.log(),
        server.log()
    );
    assert!(ping(&cli, LAN_HOST, 3), "lan host unreachable with the p12");

    // Revoke while connected: the SA goes, a retry is refused with a log line.
    let rev = srv.run_ok(&[
        bin(),
        "-s",
        &sock,
        "client",
        "--config-dir",
        &etc_s,
        "revoke",
        "laptop",
    ]);
    assert!(rev.contains("Daemon reloaded."), "{rev}");
    assert!(rev.contains("Terminated IKE SA"), "{rev}");
    assert!(
        wait_until(WAIT, || charon.list_sas().is_empty()),
        "{}",
        charon.list_sas_text()
    );
    let out = charon.initiate("crt");
    assert!(!out.ok(), "revoked client got in: {out}");
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("revoked") && l.contains("laptop")),
        "{log}"
    );
}
