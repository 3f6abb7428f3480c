//! `secret_file`: resolved beside the configuration, refused unless mode 0600 or stricter and
//! owned by the current user; its content never appears in messages.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

mod common;

use common::{write, TempDir};
use config::Config;

/// A fresh directory under the system temp dir, removed on drop.
/// Writes rampart.toml with a secret_file entry and loads it.
fn load_with(dir: &Path, secret_file: &str) -> Result<Config, config::ConfigErrors> {
    let cfg = dir.join("rampart.toml");
    let text =
        format!("[secrets.ike.s]\nids = [\"moon.example.org\"]\nsecret_file = \"{secret_file}\"\n");
    std::fs::write(&cfg, text).unwrap();
    Config::load(&cfg)
}

#[test]
fn relative_path_mode_0600_is_read_and_trailing_newline_dropped() {
    let d = TempDir::new("ok");
    write(&d.path().join("s.psk"), b"file-secret-42\n", 0o600);
    let c = load_with(d.path(), "s.psk").unwrap();
    assert_eq!(c.ike_secrets[0].secret.as_slice(), b"file-secret-42");
    assert_eq!(c.path, d.path().join("rampart.toml"));
    // 0400 is stricter than 0600: also fine. An absolute path is taken as it is.
    write(&d.path().join("r.psk"), b"ro", 0o400);
    let abs = d.path().join("r.psk");
    let c = load_with(d.path(), abs.to_str().unwrap()).unwrap();
    assert_eq!(c.ike_secrets[0].secret.as_slice(), b"ro");
}

#[test]
fn group_or_world_readable_is_refused() {
    let d = TempDir::new("mode");
    let f = d.path().join("s.psk");
    for mode in [0o644, 0o640, 0o604, 0o660] {
        write(&f, b"file-secret-42", mode);
        let e = load_with(d.path(), "s.psk").unwrap_err();
        let shown = f.display();
        assert_eq!(
            e.messages(),
            [format!(
                "{}:3:15: secrets.ike.s.secret_file: secret file {shown} has mode {mode:04o}, \
                 allowed: 0600 or stricter (run: chmod 600 {shown})",
                d.path().join("rampart.toml").display()
            )]
        );
        assert!(!e.to_string().contains("file-secret-42"));
    }
}

#[test]
fn missing_empty_and_directory() {
    let d = TempDir::new("missing");
    let cfg = d.path().join("rampart.toml");
    let e = load_with(d.path(), "nope.psk").unwrap_err();
    assert_eq!(
        e.messages(),
        [format!(
            "{}:3:15: secrets.ike.s.secret_file: cannot read secret file {}: No such file or \
             directory (os error 2)",
            cfg.display(),
            d.path().join("nope.psk").display()
        )]
    );
    write(&d.path().join("e.psk"), b"\n\r\n", 0o600);
    let e = load_with(d.path(), "e.psk").unwrap_err();
    assert_eq!(
        e.messages(),
        [format!(
            "{}:3:15: secrets.ike.s.secret_file: secret file {} is empty (a pre-shared key \
             must not be empty)",
            cfg.display(),
            d.path().join("e.psk").display()
        )]
    );
    std::fs::create_dir(d.path().join("dir.psk")).unwrap();
    std::fs::set_permissions(
        d.path().join("dir.psk"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let e = load_with(d.path(), "dir.psk").unwrap_err();
    assert_eq!(
        e.messages(),
        [format!(
            "{}:3:15: secrets.ike.s.secret_file: secret file {} is not a regular file",
            cfg.display(),
            d.path().join("dir.psk").display()
        )]
    );
}

#[test]
fn owned_by_another_user_is_refused() {
    // Needs root to give the file away; the test machine runs as root.
    let euid = rustix::process::geteuid().as_raw();
    if euid != 0 {
        eprintln!("skipped: not root, cannot chown");
        return;
    }
    let d = TempDir::new("owner");
    let f = d.path().join("s.psk");
    write(&f, b"file-secret-42", 0o600);
    std::os::unix::fs::chown(&f, Some(65534), None).unwrap();
    let e = load_with(d.path(), "s.psk").unwrap_err();
    let shown = f.display();
    assert_eq!(
        e.messages(),
        [format!(
            "{}:3:15: secrets.ike.s.secret_file: secret file {shown} is owned by uid 65534, not \
             by uid 0 (the user running rampart); run: chown 0 {shown}",
            d.path().join("rampart.toml").display()
        )]
    );
}
