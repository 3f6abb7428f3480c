//! `rampart setup` and `rampart client` on files (no daemon, no namespace): idempotent setup,
//! the written configuration accepted by `rampart config check`, client exports opened by
//! OpenSSL and chained to the CA setup made, revocation in the CRL. Needs root (setup refuses
//! otherwise) and openssl; under CI=true their absence fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn ready() -> bool {
    let root = rustix_uid_is_root();
    let openssl = Command::new("openssl").arg("version").output().is_ok();
    if !(root && openssl) {
        assert!(
            !ci(),
            "setup tests need root and openssl (root: {root}, openssl: {openssl})"
        );
        eprintln!("SKIP: needs root and openssl");
        return false;
    }
    true
}

fn rustix_uid_is_root() -> bool {
    // /proc/self/status "Uid:" real, effective, ...
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(tag: &str) -> Dir {
    let p = std::env::temp_dir().join(format!("rampart-setup-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    Dir(p)
}

fn rampart(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RAMPART_CONFIG_DIR", dir)
        .env("RAMPART_SOCKET", dir.join("no-daemon.sock"))
        .env_remove("RAMPART_ADDRESS")
        .env_remove("RAMPART_PASSWORD")
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "failed ({:?}):\n{text}", o.status);
    text
}

fn field<'a>(banner: &'a str, key: &str) -> &'a str {
    banner
        .lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no '{key}' in\n{banner}"))
}

fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl").args(args).output().unwrap();
    ok(&o)
}

fn setup(dir: &Path, extra: &[&str]) -> String {
    let mut a = vec![
        "setup",
        "--no-service",
        "--address",
        "203.0.113.7",
        "--dns-name",
        "vpn.example.org",
    ];
    a.extend_from_slice(extra);
    ok(&rampart(dir, &a))
}

#[test]
fn setup_is_idempotent_and_its_config_is_valid() {
    if !ready() {
        return;
    }
    let d = tempdir("idem");
    let etc = d.0.join("etc");
    let first = setup(&etc, &[]);
    let config = std::fs::read(etc.join("rampart.toml")).unwrap();
    let ca = std::fs::read(etc.join("ca.crt")).unwrap();
    let password = field(&first, "Password:").to_string();
    assert_eq!(password.len(), 16);
    assert!(
        !password.contains(['0', 'O', 'o', '1', 'l', 'I']),
        "{password}"
    );
    assert_eq!(field(&first, "Username:"), "vpnuser");
    assert_eq!(
        field(&first, "Server address:"),
        "203.0.113.7 (vpn.example.org)"
    );
    // Again, even with other options: nothing changes, same facts.
    let second = ok(&rampart(
        &etc,
        &["setup", "--no-service", "--address", "198.51.100.9"],
    ));
    assert_eq!(field(&second, "Password:"), password);
    assert_eq!(
        field(&second, "CA (SHA-256):"),
        field(&first, "CA (SHA-256):")
    );
    assert_eq!(std::fs::read(etc.join("rampart.toml")).unwrap(), config);
    assert_eq!(std::fs::read(etc.join("ca.crt")).unwrap(), ca);
    assert!(second.contains("is set up already"), "{second}");
    // Modes: secrets 0600, folders 0700.
    use std::os::unix::fs::PermissionsExt;
    for (f, mode) in [
        ("rampart.toml", 0o600),
        ("ca.key", 0o600),
        ("server.key", 0o600),
        ("clients", 0o700),
        ("", 0o700),
    ] {
        let m = std::fs::metadata(etc.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, mode, "{f}");
    }
    let check = ok(&rampart(
        &etc,
        &[
            "config",
            "check",
            etc.join("rampart.toml").to_str().unwrap(),
        ],
    ));
    assert!(
        check.contains("OK (3 connection(s), 0 secret(s))"),
        "{check}"
    );
    let text = String::from_utf8(config).unwrap();
    assert!(
        text.contains("legacy_crypto = false") && !text.contains("modp1024"),
        "{text}"
    );
    // The server certificate: EKU serverAuth + ipsecIKE, SANs address and name, from the CA.
    let srv = openssl(&[
        "x509",
        "-in",
        etc.join("server.crt").to_str().unwrap(),
        "-noout",
        "-ext",
        "subjectAltName,extendedKeyUsage",
    ]);
    assert!(
        srv.contains("DNS:vpn.example.org") && srv.contains("IP Address:203.0.113.7"),
        "{srv}"
    );
    assert!(
        srv.contains("TLS Web Server Authentication")
            && srv.contains("ipsec Internet Key Exchange"),
        "{srv}"
    );
    let v = openssl(&[
        "verify",
        "-purpose",
        "sslserver",
        "-CAfile",
        etc.join("ca.crt").to_str().unwrap(),
        etc.join("server.crt").to_str().unwrap(),
    ]);
    assert!(v.contains(": OK"), "{v}");
}

#[test]
fn legacy_crypto_only_when_asked() {
    if !ready() {
        return;
    }
    let d = tempdir("legacy");
    setup(
        &d.0,
        &[
            "--legacy-crypto",
            "--pool6",
            "2001:db8:77::/112",
            "--split",
            "198.51.100.0/24",
        ],
    );
    let text = std::fs::read_to_string(d.0.join("rampart.toml")).unwrap();
    assert!(
        text.contains("legacy_crypto = true") && text.contains("modp1024"),
        "{text}"
    );
    assert!(text.contains("addrs = \"2001:db8:77::/112\""), "{text}");
    assert!(text.contains("local_ts = [\"198.51.100.0/24\"]"), "{text}");
    let check = ok(&rampart(
        &d.0,
        &[
            "config",
            "check",
            d.0.join("rampart.toml").to_str().unwrap(),
        ],
    ));
    assert!(check.contains("OK"), "{check}");
}

#[test]
fn client_exports_open_with_openssl_and_revocation_reaches_the_crl() {
    if !ready() {
        return;
    }
    let d = tempdir("clients");
    let etc = d.0.join("etc");
    setup(&etc, &[]);
    let add = ok(&rampart(&etc, &["client", "add", "laptop"]));
    let pw = field(&add, "P12 password:").to_string();
    let out = ok(&rampart(
        &etc,
        &[
            "client",
            "export",
            "laptop",
            "--out",
            d.0.join("out").to_str().unwrap(),
        ],
    ));
    for f in [
        "laptop.p12",
        "laptop-legacy.p12",
        "laptop.mobileconfig",
        "laptop.sswan",
        "laptop.ps1",
        "laptop.rampart",
        "ca.crt",
    ] {
        assert!(out.contains(f), "{f} in {out}");
    }
    let pass = format!("pass:{pw}");
    let ca = etc.join("ca.crt");
    for (f, legacy) in [("laptop.p12", false), ("laptop-legacy.p12", true)] {
        let p = d.0.join("out").join(f);
        let mut args = vec![
            "pkcs12",
            "-info",
            "-nokeys",
            "-passin",
            pass.as_str(),
            "-in",
            p.to_str().unwrap(),
        ];
        let info = openssl(&args);
        assert!(
            info.contains(if legacy {
                "pbeWithSHA1And3-KeyTripleDES-CBC"
            } else {
                "AES-256-CBC"
            }),
            "{info}"
        );
        args = vec![
            "pkcs12",
            "-nokeys",
            "-clcerts",
            "-passin",
            pass.as_str(),
            "-in",
            p.to_str().unwrap(),
            "-out",
        ];
        let pem = d.0.join(format!("{f}.pem"));
        args.push(pem.to_str().unwrap());
        openssl(&args);
        let v = openssl(&[
            "verify",
            "-purpose",
            "sslclient",
            "-CAfile",
            ca.to_str().unwrap(),
            pem.to_str().unwrap(),
        ]);
        assert!(v.contains(": OK"), "{v}");
    }
    // EAP and PSK clients land in the configuration, which stays valid.
    let bob = ok(&rampart(&etc, &["client", "add", "bob", "--password"]));
    assert!(bob.contains("daemon is not running"), "{bob}");
    ok(&rampart(
        &etc,
        &[
            "client",
            "add",
            "phone",
            "--psk",
            "--id",
            "phone.example.org",
        ],
    ));
    let cfgp = etc.join("rampart.toml");
    let check = ok(&rampart(&etc, &["config", "check", cfgp.to_str().unwrap()]));
    assert!(
        check.contains("2 secret(s)") || check.contains("OK"),
        "{check}"
    );
    let text = std::fs::read_to_string(&cfgp).unwrap();
    assert!(
        text.contains("[secrets.eap.bob]") && text.contains("[secrets.ike.phone]"),
        "{text}"
    );
    assert!(text.contains(&format!("secret = \"{}\"", field(&bob, "Password:"))));
    // A duplicate is refused.
    assert!(!rampart(&etc, &["client", "add", "bob"]).status.success());
    // Revocation: the serial is in the CRL, the EAP secret leaves the file.
    let serial = openssl(&[
        "x509",
        "-in",
        etc.join("clients/laptop/cert.pem").to_str().unwrap(),
        "-noout",
        "-serial",
    ]);
    let serial = serial.trim().trim_start_matches("serial=").to_string();
    ok(&rampart(&etc, &["client", "revoke", "laptop"]));
    ok(&rampart(&etc, &["client", "revoke", "bob"]));
    let crl = openssl(&[
        "crl",
        "-in",
        etc.join("ca.crl").to_str().unwrap(),
        "-noout",
        "-text",
    ]);
    assert!(crl.contains(&serial), "{serial} not in\n{crl}");
    let text = std::fs::read_to_string(&cfgp).unwrap();
    assert!(!text.contains("[secrets.eap.bob]"), "{text}");
    let list = ok(&rampart(&etc, &["client", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("laptop") && l.ends_with("revoked")),
        "{list}"
    );
    assert!(!rampart(&etc, &["client", "export", "laptop"])
        .status
        .success());
    ok(&rampart(&etc, &["client", "delete", "phone"]));
    ok(&rampart(&etc, &["client", "delete", "laptop"]));
    let list = ok(&rampart(&etc, &["client", "list"]));
    assert!(
        !list.contains("phone") && !list.contains("laptop"),
        "{list}"
    );
    // The deleted certificate stays revoked.
    let crl = openssl(&[
        "crl",
        "-in",
        etc.join("ca.crl").to_str().unwrap(),
        "-noout",
        "-text",
    ]);
    assert!(crl.contains(&serial));
    let check = ok(&rampart(&etc, &["config", "check", cfgp.to_str().unwrap()]));
    assert!(check.contains("OK"), "{check}");
}

#[test]
fn connect_dry_run_writes_a_valid_private_config() {
    if !ready() {
        return;
    }
    let d = tempdir("connect");
    let etc = d.0.join("etc");
    setup(&etc, &[]);
    let profile = etc.join("export/vpnuser/vpnuser.rampart");
    let work = d.0.join("work");
    let o = Command::new(BIN)
        .args([
            "connect",
            "--dry-run",
            "--work-dir",
            work.to_str().unwrap(),
            profile.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(
        out.contains("203.0.113.7") || out.contains("vpn.example.org"),
        "{out}"
    );
    let cfg = work.join("rampart.toml");
    let check = ok(&rampart(&etc, &["config", "check", cfg.to_str().unwrap()]));
    assert!(check.contains("OK (1 connection(s)"), "{check}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&work).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(work.join("eap.secret"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}
