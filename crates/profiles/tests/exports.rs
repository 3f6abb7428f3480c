//! Exported files checked by independent parsers: `openssl pkcs12` / `openssl verify` for the
//! PKCS #12 files, python3's plistlib for the .mobileconfig, python3's json for the .sswan.
//! A missing tool skips a check, except under CI=true where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use profiles::export::{export_all, ExportFile};
use profiles::{issue, ClientAuth, ClientProfile, Server};
use zeroize::Zeroizing;

fn tool(name: &str) -> bool {
    let ok = Command::new(name)
        .arg(if name == "openssl" {
            "version"
        } else {
            "--version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is missing (install it: scripts/test.sh PACKAGES)"
        );
        eprintln!("SKIP: {name} is not installed");
    }
    ok
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(tag: &str) -> Dir {
    let p = std::env::temp_dir().join(format!("profiles-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    Dir(p)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn python(script: &str, file: &Path) -> String {
    let mut child = Command::new("python3")
        .arg("-")
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python3 failed on {file:?}:\n{text}");
    text
}

struct Fixture {
    server: Server,
    clients: Vec<ClientProfile>,
}

fn fixture(split: bool) -> Fixture {
    let now = SystemTime::now();
    let ca = issue::new_ca("vpn.example.org", now).unwrap();
    let c = issue::client_cert(&ca, "alice", now).unwrap();
    let server = Server {
        address: "203.0.113.1".parse().unwrap(),
        dns_name: Some("vpn.example.org".into()),
        ca_cert_der: ca.cert_der().to_vec(),
        ike_proposals: profiles::proposals::server_ike(false),
        esp_proposals: profiles::proposals::server_esp(false),
        split_routes: if split {
            vec!["198.51.100.0/24".into(), "2001:db8:1::/48".into()]
        } else {
            vec![]
        },
    };
    let clients = vec![
        ClientProfile {
            name: "alice".into(),
            auth: ClientAuth::Cert {
                id: "alice".into(),
                cert_der: c.cert_der,
                key_pkcs8_der: Zeroizing::new(c.key.pkcs8_der().as_slice().to_vec()),
                p12_password: Zeroizing::new("p12-Secret-pw".into()),
            },
        },
        ClientProfile {
            name: "bob".into(),
            auth: ClientAuth::Eap {
                user: "bob".into(),
                password: Zeroizing::new("eap-Secret-pw".into()),
            },
        },
        ClientProfile {
            name: "carol".into(),
            auth: ClientAuth::Psk {
                id: "carol.example.org".into(),
                psk: Zeroizing::new("psk-Secret-0123456789".into()),
            },
        },
    ];
    Fixture { server, clients }
}

fn write_all(dir: &Path, files: &[ExportFile]) {
    for f in files {
        std::fs::write(dir.join(&f.name), f.contents.as_slice()).unwrap();
    }
}

fn names(files: &[ExportFile]) -> Vec<&str> {
    files.iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn p12_both_variants_open_with_openssl_and_chain_to_the_ca() {
    if !tool("openssl") {
        return;
    }
    let fx = fixture(false);
    let d = tempdir("p12");
    let files = export_all(&fx.server, &fx.clients[0]).unwrap();
    write_all(&d.0, &files);
    for (file, extra) in [("alice.p12", None), ("alice-legacy.p12", Some("-legacy"))] {
        let path = d.0.join(file);
        let mut cmd = Command::new("openssl");
        cmd.args([
            "pkcs12",
            "-info",
            "-nokeys",
            "-passin",
            "pass:p12-Secret-pw",
            "-in",
        ])
        .arg(&path);
        // OpenSSL 3 reads 3DES without the legacy provider; try without it first.
        let out = cmd.output().unwrap();
        let text = if out.status.success() {
            String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
        } else {
            let mut cmd = Command::new("openssl");
            cmd.args([
                "pkcs12",
                "-info",
                "-nokeys",
                "-passin",
                "pass:p12-Secret-pw",
            ]);
            if let Some(e) = extra {
                cmd.arg(e);
            }
            run(cmd.arg("-in").arg(&path))
        };
        if file == "alice.p12" {
            assert!(
                text.contains("PBES2") && text.contains("AES-256-CBC"),
                "{text}"
            );
            assert!(text.contains("MAC: sha256"), "{text}");
        } else {
            assert!(text.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{text}");
            assert!(text.contains("MAC: sha1"), "{text}");
        }
        assert!(text.contains("subject=O = Rampart, CN = alice"), "{text}");
        // A wrong password is refused.
        let bad = Command::new("openssl")
            .args([
                "pkcs12",
                "-info",
                "-nokeys",
                "-passin",
                "pass:wrong",
                "-legacy",
                "-in",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!bad.status.success());
        // The key and certificate inside: the certificate chains to ca.crt.
        let pem = d.0.join(format!("{file}.pem"));
        run(Command::new("openssl")
            .args([
                "pkcs12",
                "-nokeys",
                "-clcerts",
                "-passin",
                "pass:p12-Secret-pw",
                "-in",
            ])
            .arg(&path)
            .arg("-out")
            .arg(&pem));
        let v = run(Command::new("openssl")
            .args(["verify", "-purpose", "sslclient", "-CAfile"])
            .arg(d.0.join("ca.crt"))
            .arg(&pem));
        assert!(v.contains(": OK"), "{v}");
        let keyout = run(Command::new("openssl")
            .args([
                "pkcs12",
                "-nocerts",
                "-nodes",
                "-passin",
                "pass:p12-Secret-pw",
                "-in",
            ])
            .arg(&path));
        assert!(keyout.contains("BEGIN PRIVATE KEY"), "{keyout}");
    }
}

const PLIST_CHECK: &str = r#"
import plistlib, sys
with open(sys.argv[1], 'rb') as f:
    p = plistlib.load(f)
assert p['PayloadType'] == 'Configuration'
types = [c['PayloadType'] for c in p['PayloadContent']]
vpn = [c for c in p['PayloadContent'] if c['PayloadType'] == 'com.apple.vpn.managed'][0]
assert vpn['VPNType'] == 'IKEv2'
ike = vpn['IKEv2']
for k in ['RemoteAddress', 'RemoteIdentifier', 'LocalIdentifier', 'AuthenticationMethod',
          'ExtendedAuthEnabled', 'IKESecurityAssociationParameters',
          'ChildSecurityAssociationParameters', 'ServerCertificateIssuerCommonName']:
    assert k in ike, k
uuids = [c['PayloadUUID'] for c in p['PayloadContent']]
assert len(set(uuids)) == len(uuids)
if ike['AuthenticationMethod'] == 'Certificate':
    p12 = [c for c in p['PayloadContent'] if c['PayloadType'] == 'com.apple.security.pkcs12'][0]
    assert ike['PayloadCertificateUUID'] == p12['PayloadUUID']
    assert len(p12['PayloadContent']) > 500
root = [c for c in p['PayloadContent'] if c['PayloadType'] == 'com.apple.security.root'][0]
assert root['PayloadContent'][0] == 0x30
print(ike['RemoteAddress'], ike['RemoteIdentifier'], ike['AuthenticationMethod'],
      ike['ExtendedAuthEnabled'], ike.get('AuthName', '-'),
      ike['IKESecurityAssociationParameters']['EncryptionAlgorithm'],
      ike['IKESecurityAssociationParameters']['DiffieHellmanGroup'],
      vpn['IPv4']['OverridePrimary'], ' '.join(sorted(types)))
"#;

#[test]
fn mobileconfig_parses_as_plist_with_the_ikev2_keys() {
    if !tool("python3") {
        return;
    }
    let fx = fixture(false);
    let d = tempdir("plist");
    let expect = [
        ("alice", "Certificate 0 -"),
        ("bob", "None 1 bob"),
        ("carol", "SharedSecret 0 -"),
    ];
    for (client, (name, auth)) in fx.clients.iter().zip(expect) {
        let files = export_all(&fx.server, client).unwrap();
        write_all(&d.0, &files);
        let out = python(PLIST_CHECK, &d.0.join(format!("{name}.mobileconfig")));
        assert!(
            out.starts_with(&format!(
                "vpn.example.org vpn.example.org {auth} AES-256-GCM 19 1 "
            )),
            "{name}: {out}"
        );
        if name == "alice" {
            assert!(out.contains("com.apple.security.pkcs12"), "{out}");
        }
    }
    // Split tunnel: OverridePrimary off.
    let fx = fixture(true);
    let files = export_all(&fx.server, &fx.clients[1]).unwrap();
    write_all(&d.0, &files);
    let out = python(PLIST_CHECK, &d.0.join("bob.mobileconfig"));
    assert!(out.contains(" 19 0 "), "{out}");
}

const SSWAN_CHECK: &str = r#"
import json, sys, base64, uuid
p = json.load(open(sys.argv[1]))
uuid.UUID(p['uuid'])
assert p['type'] in ('ikev2-cert', 'ikev2-eap'), p['type']
r = p['remote']
assert base64.b64decode(r['cert'])[0] == 0x30
if p['type'] == 'ikev2-cert':
    assert len(base64.b64decode(p['local']['p12'])) > 500
else:
    assert p['local']['eap_id']
print(p['type'], r['addr'], r['id'], p['ike-proposal'], p['esp-proposal'],
      p.get('split-tunneling', {}).get('subnets', '-'), p['local'].get('eap_id', '-'))
"#;

#[test]
fn sswan_is_json_with_the_apps_fields() {
    if !tool("python3") {
        return;
    }
    let fx = fixture(true);
    let d = tempdir("sswan");
    for (client, want) in fx.clients.iter().zip([
        Some("ikev2-cert vpn.example.org vpn.example.org aes256gcm16-prfsha256-ecp256 aes256gcm16 198.51.100.0/24 2001:db8:1::/48 -"),
        Some("ikev2-eap vpn.example.org vpn.example.org aes256gcm16-prfsha256-ecp256 aes256gcm16 198.51.100.0/24 2001:db8:1::/48 bob"),
        None,
    ]) {
        let files = export_all(&fx.server, client).unwrap();
        let file = format!("{}.sswan", client.name);
        assert_eq!(names(&files).contains(&file.as_str()), want.is_some());
        if let Some(want) = want {
            write_all(&d.0, &files);
            let out = python(SSWAN_CHECK, &d.0.join(&file));
            assert_eq!(out.trim(), want);
        }
    }
}

#[test]
fn powershell_has_the_documented_cmdlets_and_the_servers_values() {
    let fx = fixture(true);
    let ps = |i: usize| {
        let files = export_all(&fx.server, &fx.clients[i]).unwrap();
        files
            .iter()
            .find(|f| f.name.ends_with(".ps1"))
            .map(|f| String::from_utf8(f.contents.to_vec()).unwrap())
    };
    let cert = ps(0).unwrap();
    for want in [
        "$Server = 'vpn.example.org'",
        "Import-Certificate -FilePath $CaFile -CertStoreLocation Cert:\\LocalMachine\\Root",
        "Import-PfxCertificate -FilePath $P12 -CertStoreLocation Cert:\\LocalMachine\\My",
        "$P12 = Join-Path $PSScriptRoot 'alice.p12'",
        "Add-VpnConnection -Name $Name -ServerAddress $Server -TunnelType Ikev2 -AuthenticationMethod MachineCertificate",
        "-SplitTunneling:$true",
        "Set-VpnConnectionIPsecConfiguration -ConnectionName $Name -AllUserConnection -EncryptionMethod AES256 -IntegrityCheckMethod SHA256 -DHGroup ECP256 -CipherTransformConstants GCMAES256 -AuthenticationTransformConstants GCMAES256 -PfsGroup ECP256",
        "Add-VpnConnectionRoute -ConnectionName $Name -AllUserConnection -DestinationPrefix '198.51.100.0/24'",
        "Add-VpnConnectionRoute -ConnectionName $Name -AllUserConnection -DestinationPrefix '2001:db8:1::/48'",
    ] {
        assert!(cert.contains(want), "missing {want:?} in\n{cert}");
    }
    // The CA in the script is the server's CA.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&fx.server.ca_cert_der);
    assert!(cert.contains(&b64));
    let eap = ps(1).unwrap();
    assert!(eap.contains("-AuthenticationMethod Eap "), "{eap}");
    assert!(!eap.contains("Import-PfxCertificate"), "{eap}");
    assert!(
        !eap.contains("eap-Secret-pw"),
        "the password stays out of the script"
    );
    assert!(ps(2).is_none(), "no IKEv2 PSK in Windows' client");
    // Full tunnel: no routes, SplitTunneling off.
    let fx = fixture(false);
    let files = export_all(&fx.server, &fx.clients[1]).unwrap();
    let full = files.iter().find(|f| f.name == "bob.ps1").unwrap();
    let full = String::from_utf8(full.contents.to_vec()).unwrap();
    assert!(full.contains("-SplitTunneling:$false") && !full.contains("Add-VpnConnectionRoute"));
}

#[test]
fn linux_profile_round_trips_into_a_daemon_config() {
    let fx = fixture(false);
    for (i, auth) in [(0, "pubkey"), (1, "eap"), (2, "psk")] {
        let files = export_all(&fx.server, &fx.clients[i]).unwrap();
        let f = files.iter().find(|f| f.name.ends_with(".rampart")).unwrap();
        assert!(f.secret);
        let text = std::str::from_utf8(&f.contents).unwrap();
        let p = profiles::linux::parse(text).unwrap();
        assert_eq!(p.auth, auth);
        assert_eq!(p.server, "vpn.example.org");
        assert_eq!(p.remote_ts, ["0.0.0.0/0", "::/0"]);
        let out = profiles::linux::daemon_config(
            &p,
            "203.0.113.1".parse().unwrap(),
            Path::new("/run/x/rampart.sock"),
            "rpc0",
        )
        .unwrap();
        let cfg = out.iter().find(|f| f.name == "rampart.toml").unwrap();
        let cfg = std::str::from_utf8(&cfg.contents).unwrap();
        let v: toml::Table = toml::from_str(cfg).unwrap();
        let conn = &v["connections"]["vpn"];
        assert_eq!(conn["remote_addrs"][0].as_str(), Some("203.0.113.1"));
        assert_eq!(conn["vips"].as_array().unwrap().len(), 2);
        assert_eq!(conn["remote"]["id"].as_str(), Some("vpn.example.org"));
        assert_eq!(
            conn["children"]["vpn"]["start_action"].as_str(),
            Some("start")
        );
        match auth {
            "eap" => {
                assert_eq!(conn["local"]["eap_id"].as_str(), Some("bob"));
                assert_eq!(v["secrets"]["eap"]["vpn"]["user"].as_str(), Some("bob"));
                let s = out.iter().find(|f| f.name == "eap.secret").unwrap();
                assert_eq!(s.contents.as_slice(), b"eap-Secret-pw");
            }
            "pubkey" => {
                assert_eq!(conn["local"]["id"].as_str(), Some("alice"));
                assert!(out
                    .iter()
                    .any(|f| f.name == "client.key"
                        && f.contents.starts_with(b"-----BEGIN PRIVATE KEY")));
            }
            _ => {
                assert_eq!(conn["local"]["auth"].as_str(), Some("psk"));
                let s = out.iter().find(|f| f.name == "psk.secret").unwrap();
                assert_eq!(s.contents.as_slice(), b"psk-Secret-0123456789");
            }
        }
    }
    // Broken profiles are refused with a message.
    let e = profiles::linux::parse("version = 1\nname = \"x\"\n").unwrap_err();
    assert!(e.to_string().starts_with("profile:"), "{e}");
}
