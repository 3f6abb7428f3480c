//! `rampart config check FILE` end to end (issue 6): a table of broken files with the exact
//! messages and exit code 4, a valid file with exit code 0, and secrets in separate files (mode
//! 0600 accepted, group- or world-readable refused). No daemon, no root needed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("rampart-cc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check(file: &Path) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["config", "check"])
        .arg(file)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const VALID: &str = r#"[daemon]
log_level = "info,ike=debug"

[connections.net2net]
remote_addrs = ["192.0.2.2"]
[connections.net2net.local]
auth = "psk"
id = "moon.example.org"
[connections.net2net.remote]
auth = "psk"
id = "sun.example.org"
[connections.net2net.children.net]
local_ts = ["203.0.113.0/24"]
remote_ts = ["198.51.100.0/24"]

[secrets.ike.net2net]
ids = ["moon.example.org", "sun.example.org"]
"#;

#[test]
fn operator_config_check_table_of_broken_files() {
    let d = Dir::new("table");
    let f = d.0.join("rampart.toml");
    let name = f.display().to_string();
    let ok = format!("{VALID}secret = \"not-a-real-secret-0123456789\"\n");
    std::fs::write(&f, &ok).unwrap();
    let (code, out, err) = check(&f);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, format!("{name}: OK (1 connection(s), 1 secret(s))\n"));

    let cases: &[(&str, &str, &[&str])] = &[
        (
            "remote_addrs",
            "remote_adrs",
            &[
                ":4:1: connections.net2net: missing required key 'remote_addrs' (the peer's IP \
                 address(es), or [\"%any\"] to accept any peer)\n",
                ":5:1: connections.net2net: unknown key 'remote_adrs' in connections.net2net, did \
                 you mean 'remote_addrs'? (allowed: version, local_addrs, remote_addrs, proposals, \
                 encap, dpd_delay, keyingtries, rekey_time, dpd_action, unique, fragmentation, \
                 mobike, local, remote, children, pools, dns, vips)\n",
            ],
        ),
        (
            "log_level = \"info,ike=debug\"",
            "log_level = \"info,ike=loud\"",
            &[
                ":2:13: daemon.log_level: unknown level 'loud' for 'ike' (allowed: error, warn, \
               info, debug, trace)",
            ],
        ),
        (
            "\"198.51.100.0/24\"",
            "\"198.51.100.0/33\"",
            &[":14:14: connections.net2net.children.net.remote_ts[0]: "],
        ),
        (
            "auth = \"psk\"\nid = \"moon",
            "auth = \"eap\"\nid = \"moon",
            &[
                ":7:8: connections.net2net.local.auth: 'eap' is not supported yet (allowed: psk, \
               pubkey, eap-mschapv2)",
            ],
        ),
    ];
    for (from, to, want) in cases {
        let text = ok.replacen(from, to, 1);
        assert_ne!(text, ok, "{from}");
        std::fs::write(&f, &text).unwrap();
        let (code, out, err) = check(&f);
        assert_eq!(code, Some(4), "{from} -> {to}: {err}");
        assert!(out.is_empty());
        for w in *want {
            assert!(
                err.contains(&format!("{name}{w}")),
                "{from} -> {to}: expected\n  {name}{w}\nin\n{err}"
            );
        }
    }
    // A file that does not exist is an error too, naming the file.
    let (code, _, err) = check(&d.0.join("nope.toml"));
    assert_eq!(code, Some(4));
    assert!(
        err.contains("nope.toml: cannot read configuration"),
        "{err}"
    );
}

#[test]
fn operator_config_check_secret_files() {
    let d = Dir::new("secret");
    let f = d.0.join("rampart.toml");
    let secret = d.0.join("net2net.psk");
    std::fs::write(&f, format!("{VALID}secret_file = \"net2net.psk\"\n")).unwrap();
    std::fs::write(&secret, "not-a-real-secret-0123456789\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, _, err) = check(&f);
    assert_eq!(code, Some(0), "{err}");
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(mode)).unwrap();
        let (code, _, err) = check(&f);
        assert_eq!(code, Some(4), "mode {mode:o}: {err}");
        assert!(
            err.contains(&secret.display().to_string())
                && err.contains(&format!("{mode:o}"))
                && err.contains("chmod 600"),
            "mode {mode:o}: {err}"
        );
        assert!(
            !err.contains("not-a-real-secret"),
            "the secret never shows: {err}"
        );
    }
}
