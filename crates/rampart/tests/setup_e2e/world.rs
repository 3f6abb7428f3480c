//! The world of every setup test: a server namespace made by `rampart setup` (as an operator
//! would), a lan host behind it (routes the pool back), an "internet" host reached only through
//! the server's masquerading, and one client namespace; the daemon running setup's own
//! `rampart.toml`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use testbed::{Charon, Netns, RampartDaemon, TestDir};

pub const SERVER: &str = "203.0.113.1";
pub const SERVER_ID: &str = "vpn.example.org";
pub const LAN_HOST: &str = "198.51.100.2";
pub const INET_HOST: &str = "192.0.2.2";
/// setup's `--pool4`: the first client gets .129.
pub const POOL4: &str = "198.51.100.128/25";
pub const FIRST_VIP: &str = "198.51.100.129";
pub const DNS: &str = "198.51.100.53";
pub const WAIT: Duration = Duration::from_secs(15);
const MSCHAPV2_PLUGIN: &str = "/usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rampart")
}

/// Root, strongSwan and its EAP-MSCHAPv2 plugin; under CI=true a missing tool fails.
pub fn ready() -> bool {
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

/// The value after `key` on a line of the banner / `rampart client` output.
pub fn field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no '{key}' in\n{text}"))
}

/// Fields drop in order: the daemon first, the namespaces, the work directory last.
pub struct World {
    pub server: RampartDaemon,
    pub cli: Netns,
    /// Guards of the hosts' namespaces.
    pub _inet: Netns,
    pub _lan: Netns,
    pub srv: Netns,
    /// setup's `--config-dir`.
    pub etc: PathBuf,
    /// The banner's user and password.
    pub user: String,
    pub password: String,
    /// The namespaces' prefix.
    pub prefix: String,
    pub dir: TestDir,
}

impl World {
    /// Topology, `rampart setup ... extra`, the daemon. `prefix` names the namespaces and the
    /// work directory (unique per test).
    pub fn new(prefix: &str, extra: &[&str]) -> World {
        World::with_edit(prefix, extra, |c| c)
    }

    /// [`World::new`] with setup's `rampart.toml` passed through `edit` before the daemon
    /// starts (to reproduce a hand-written variant).
    pub fn with_edit(prefix: &str, extra: &[&str], edit: impl FnOnce(String) -> String) -> World {
        let dir = TestDir::new(prefix);
        let srv = Netns::new(&format!("{prefix}-s"));
        let lan = Netns::new(&format!("{prefix}-l"));
        let inet = Netns::new(&format!("{prefix}-i"));
        let cli = Netns::new(&format!("{prefix}-c"));
        Netns::veth(&srv, "s-wan", &cli, "c-wan");
        srv.add_addr("s-wan", "203.0.113.1/24");
        cli.add_addr("c-wan", "203.0.113.2/24");
        Netns::veth(&srv, "s-lan", &lan, "l-eth");
        srv.add_addr("s-lan", "198.51.100.1/26");
        lan.add_addr("l-eth", "198.51.100.2/26");
        lan.add_route(POOL4, "198.51.100.1");
        // The internet host has no route back to the pool: only masquerading answers.
        Netns::veth(&srv, "s-inet", &inet, "i-eth");
        srv.add_addr("s-inet", "192.0.2.1/24");
        inet.add_addr("i-eth", "192.0.2.2/24");

        let etc = dir.subdir("etc");
        let etc_s = etc.display().to_string();
        let mut args = vec![
            bin(),
            "setup",
            "--config-dir",
            &etc_s,
            "--address",
            SERVER,
            "--dns-name",
            SERVER_ID,
            "--pool4",
            POOL4,
            "--pool6",
            "none",
            "--dns",
            DNS,
            "--no-service",
        ];
        args.extend_from_slice(extra);
        let banner = srv.run_ok(&args);
        let user = field(&banner, "Username:");
        let password = field(&banner, "Password:");
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
        let server = RampartDaemon::start(Path::new(bin()), &srv, &etc, &edit(conf));
        World {
            server,
            cli,
            _inet: inet,
            _lan: lan,
            srv,
            etc,
            user,
            password,
            prefix: prefix.to_string(),
            dir,
        }
    }

    /// `rampart -s SOCK client --config-dir ETC ARGS...` in the server namespace; its stdout.
    pub fn client_cmd(&self, args: &[&str]) -> String {
        let etc = self.etc.display().to_string();
        let sock = self.server.socket().display().to_string();
        let mut a = vec![bin(), "-s", &sock, "client", "--config-dir", &etc];
        a.extend_from_slice(args);
        self.srv.run_ok(&a)
    }

    /// A charon in the client namespace (work dir `cli`).
    pub fn charon(&self) -> Charon {
        Charon::start(&self.cli, &self.dir.subdir("cli"))
    }

    /// The CA certificate setup made.
    pub fn ca(&self) -> PathBuf {
        self.etc.join("ca.crt")
    }

    /// The server log lines that contain every one of `words`.
    pub fn server_lines(&self, words: &[&str]) -> Vec<String> {
        self.server
            .log()
            .lines()
            .filter(|l| words.iter().all(|w| l.contains(w)))
            .map(str::to_string)
            .collect()
    }
}

/// swanctl.conf of a road warrior towards the setup server: `local` is the body of the local
/// section, `secrets` of the secrets section; the lan and the internet host through the tunnel;
/// ESP AES-256-GCM.
pub fn swan_conf(conn: &str, local: &str, ca: &Path, secrets: &str) -> String {
    swan_document(
        &[swan_connection(conn, local, "default", "aes256gcm16")],
        ca,
        secrets,
    )
}

/// One connection of swanctl.conf towards the setup server, with the IKE (`proposals`) and
/// ESP (`esp_proposals`) lists given (strongSwan syntax, comma-separated).
pub fn swan_connection(conn: &str, local: &str, ike: &str, esp: &str) -> String {
    format!(
        r#"  {conn} {{
    remote_addrs = {SERVER}
    vips = 0.0.0.0
    proposals = {ike}
    local {{
      {local}
    }}
    remote {{
      auth = pubkey
      id = {SERVER_ID}
    }}
    children {{
      {conn} {{
        remote_ts = 198.51.100.0/26, 192.0.2.0/24
        esp_proposals = {esp}
      }}
    }}
  }}
"#
    )
}

/// The local section of an EAP-MSCHAPv2 user.
pub fn eap_local(user: &str) -> String {
    format!("auth = eap-mschapv2\n      eap_id = {user}")
}

/// The secrets section's entry of an EAP user.
pub fn eap_secret(user: &str, password: &str) -> String {
    format!("  eap-u {{\n    id = {user}\n    secret = \"{password}\"\n  }}")
}

/// A whole swanctl.conf: the connections, setup's CA, the secrets.
pub fn swan_document(connections: &[String], ca: &Path, secrets: &str) -> String {
    format!(
        "connections {{\n{}}}\nauthorities {{\n  ca {{\n    cacert = {}\n  }}\n}}\nsecrets {{\n{secrets}\n}}\n",
        connections.concat(),
        ca.display()
    )
}

/// charon-cmd is installed (Debian package charon-cmd); under CI=true its absence fails.
pub fn charon_cmd_ready() -> bool {
    if Path::new(testbed::charon_cmd::CHARON_CMD).exists() {
        return true;
    }
    assert!(
        !testbed::privilege::in_ci(),
        "CI=true: {} missing (package charon-cmd)",
        testbed::charon_cmd::CHARON_CMD
    );
    eprintln!("SKIPPED: {} missing", testbed::charon_cmd::CHARON_CMD);
    false
}
