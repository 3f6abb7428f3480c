//! `rampart connect PROFILE` with the Linux profile setup exported for its first user, in the
//! client namespace: virtual IP on its TUN, DNS applied (`/etc/netns/NS/resolv.conf`, which
//! `ip netns exec` shows as /etc/resolv.conf), the lan host and an internet host (through the
//! server's NAT) reachable, the full tunnel routed as two halves with the server's own address
//! kept outside; on SIGTERM (Ctrl-C) routes, address, DNS and its private folder are gone.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use testbed::process::Process;
use testbed::{ping, wait_until, RampartDaemon};

use super::world::*;

const TUN: &str = "rc0";
/// The namespace's resolver before: nobody answers there (one short try, so that a name
/// not in /etc/hosts fails fast).
const OLD_RESOLV: &str = "nameserver 203.0.113.53\noptions timeout:1 attempts:1\n";

/// `/etc/netns/NS` with a resolv.conf (and, with `hosts`, an /etc/hosts naming the server),
/// which `ip netns exec` mounts over /etc; removed on drop.
struct EtcNetns(PathBuf);

impl EtcNetns {
    fn new(ns: &str, hosts: bool) -> EtcNetns {
        let p = Path::new("/etc/netns").join(ns);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("resolv.conf"), OLD_RESOLV).unwrap();
        if hosts {
            std::fs::write(p.join("hosts"), format!("{SERVER} {SERVER_ID}\n")).unwrap();
        }
        EtcNetns(p)
    }

    fn resolv(&self) -> String {
        std::fs::read_to_string(self.0.join("resolv.conf")).unwrap_or_default()
    }
}

impl Drop for EtcNetns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `rampart connect PROFILE` in the client namespace; its output goes to `log_name` in the
/// test's directory (returned).
fn start_connect(w: &World, profile: &str, log_name: &str) -> (Process, PathBuf) {
    let log_path = w.dir.path().join(log_name);
    let log = std::fs::File::create(&log_path).unwrap();
    let child = w
        .cli
        .command(bin())
        .args(["connect", "--tun", TUN, profile])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn rampart connect");
    (Process::new("rampart connect", child), log_path)
}

#[test]
fn rampart_connect_with_the_exported_profile() {
    if !ready() {
        return;
    }
    let w = World::new("srn", &[]);
    // The profile names the server by its DNS name: the namespace's /etc/hosts resolves it.
    let etc = EtcNetns::new(w.cli.name(), true);
    let profile = w
        .etc
        .join(format!("export/{u}/{u}.rampart", u = w.user))
        .display()
        .to_string();
    let (mut connect, log_path) = start_connect(&w, &profile, "connect.log");
    // Its private folder (docs/setup.md): /run/rampart-connect-PID, with the control socket.
    let work = PathBuf::from(format!("/run/rampart-connect-{}", connect.pid()));
    let sock = work.join("rampart.sock").display().to_string();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let up = wait_until(WAIT, || {
        w.cli
            .run(&["ip", "-4", "addr", "show", "dev", TUN])
            .stdout
            .contains(&format!("{FIRST_VIP}/32"))
    });
    assert!(up, "no VIP on {TUN}:\n{}\n{}", log(), w.server.log());
    assert!(
        log().contains(&format!("Connecting to {SERVER_ID} ({SERVER})"))
            && !log().contains("cannot resolve"),
        "{}",
        log()
    );
    let status = w.cli.run_ok(&[bin(), "-s", &sock, "status"]);
    assert!(status.contains("ESTABLISHED"), "{status}");
    // The pushed DNS server replaced the namespace's resolv.conf.
    assert!(
        wait_until(WAIT, || etc.resolv().contains(&format!("nameserver {DNS}"))),
        "{}",
        etc.resolv()
    );
    // Full tunnel: both halves through the TUN, the server itself via the old gateway/link.
    let routes = w.cli.ip(&["route"]);
    assert!(routes.contains(&format!("0.0.0.0/1 dev {TUN}")), "{routes}");
    assert!(
        routes.contains(&format!("128.0.0.0/1 dev {TUN}")),
        "{routes}"
    );
    assert!(routes.contains(&format!("{SERVER} dev c-wan")), "{routes}");
    assert!(
        ping(&w.cli, LAN_HOST, 3),
        "lan host unreachable:\n{}",
        log()
    );
    assert!(
        ping(&w.cli, INET_HOST, 3),
        "internet host unreachable (NAT)"
    );
    // The server sees the profile's user with the first address of the pool.
    let sas = w.server.ike_sas();
    assert_eq!(sas.len(), 1, "{sas:?}");

    // Ctrl-C.
    let (exit, on_term) = connect.stop(Duration::from_secs(10));
    assert!(on_term, "rampart connect ignored SIGTERM:\n{}", log());
    assert!(exit.is_some_and(|s| s.success()), "{exit:?}\n{}", log());
    assert_eq!(etc.resolv(), OLD_RESOLV);
    let links = w.cli.ip(&["link"]);
    assert!(!links.contains(TUN), "{links}");
    let routes = w.cli.ip(&["route"]);
    assert!(
        !routes.contains(&format!("{SERVER} dev")) && !routes.contains("0.0.0.0/1"),
        "{routes}"
    );
    assert!(!work.exists(), "{} left behind", work.display());
    assert!(
        wait_until(WAIT, || w.server.ike_sas().is_empty()),
        "{}",
        w.server.log()
    );
}

/// The same client with `encap = false` against the server without `encap` either (as before
/// both were set): there is no NAT, so IKE stays on port 500 and ESP is not UDP-encapsulated.
#[test]
fn rampart_client_without_encap_and_without_nat() {
    if !ready() {
        return;
    }
    let w = World::with_edit("srx", &[], |c| c.replace("encap = true\n", ""));
    let _etc = EtcNetns::new(w.cli.name(), true);
    let profile = w
        .etc
        .join(format!("export/{u}/{u}.rampart", u = w.user))
        .display()
        .to_string();
    let dir = w.dir.subdir("rc");
    w.cli.run_ok(&[
        bin(),
        "connect",
        "--dry-run",
        "--work-dir",
        &dir.display().to_string(),
        "--tun",
        TUN,
        &profile,
    ]);
    // --dry-run puts the control socket where the harness expects it (DIR/rampart.sock).
    let conf = std::fs::read_to_string(dir.join("rampart.toml"))
        .unwrap()
        .replace("encap = true\n", "");
    let client = RampartDaemon::start(Path::new(bin()), &w.cli, &dir, &conf);
    assert!(
        wait_until(WAIT, || client
            .ike_sas()
            .iter()
            .any(|s| s.state == "ESTABLISHED" && !s.children.is_empty())),
        "no tunnel:\n{}",
        client.log()
    );
    assert!(
        ping(&w.cli, LAN_HOST, 3),
        "lan host unreachable without encap:\n{}\n{}",
        client.log(),
        w.server.log()
    );
}

/// The Linux profiles of a certificate client and of a PSK client: each connects with its own
/// virtual IP and reaches the lan host; SIGTERM ends it cleanly.
#[test]
fn rampart_connect_certificate_and_psk_profiles() {
    if !ready() {
        return;
    }
    let w = World::new("srp", &[]);
    // The name does not resolve: the profile's stored address is used.
    let _etc = EtcNetns::new(w.cli.name(), false);
    w.client_cmd(&["add", "laptop"]);
    w.client_cmd(&["add", "phone", "--psk"]);
    for (name, vip) in [("laptop", FIRST_VIP), ("phone", "198.51.100.130")] {
        let profile = w
            .etc
            .join(format!("export/{name}/{name}.rampart"))
            .display()
            .to_string();
        let (mut connect, log_path) = start_connect(&w, &profile, &format!("{name}.log"));
        let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
        assert!(
            wait_until(WAIT, || log()
                .contains("using the profile's address 203.0.113.1")),
            "{}",
            log()
        );
        let up = wait_until(WAIT, || {
            w.cli
                .run(&["ip", "-4", "addr", "show", "dev", TUN])
                .stdout
                .contains(&format!("{vip}/32"))
        });
        assert!(up, "{name}: no VIP {vip}:\n{}\n{}", log(), w.server.log());
        assert!(ping(&w.cli, LAN_HOST, 3), "{name}: lan host unreachable");
        let (exit, on_term) = connect.stop(Duration::from_secs(10));
        assert!(
            on_term && exit.is_some_and(|s| s.success()),
            "{name}:\n{}",
            log()
        );
        assert!(
            wait_until(WAIT, || w.server.ike_sas().is_empty()),
            "{}",
            w.server.log()
        );
    }
}
