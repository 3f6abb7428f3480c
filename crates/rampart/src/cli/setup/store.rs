//! The files `rampart setup` and `rampart client` keep in the configuration directory
//! (docs/setup.md): CA, server certificate, CRL, `rampart.toml`, `setup.toml` (the facts
//! setup decided) and one folder per client under `clients/`. Secrets are 0600, folders 0700;
//! every write is a temporary file renamed over the old one.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use profiles::server_config::{self, files};
use profiles::{ClientAuth, ClientProfile, Server};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// An error for the operator, one line.
pub type Res<T> = Result<T, String>;

/// Creates `dir` (and parents) with mode 0700.
pub fn private_dir(dir: &Path) -> Res<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot chmod {}: {e}", dir.display()))
}

/// Writes `data` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_file(path: &Path, data: &[u8], mode: u32) -> Res<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let res = (|| {
        let _ = fs::remove_file(&tmp);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
        fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Res<Vec<u8>> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What `rampart setup` decided (`setup.toml`; no secrets).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SetupFacts {
    /// The server's public address.
    pub address: IpAddr,
    /// Its DNS name, if any.
    pub dns_name: Option<String>,
    /// The first EAP user.
    pub first_user: String,
    /// Networks behind the server (empty = full tunnel).
    pub split_routes: Vec<String>,
    /// Whether legacy crypto is on.
    pub legacy_crypto: bool,
}

/// One client's record (`clients/NAME/client.toml`, 0600).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRecord {
    /// `cert`, `eap` or `psk`.
    pub kind: String,
    /// IKE identity (cert, psk) or EAP user name.
    pub id: String,
    /// Certificate serial (hex), for cert clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Password of the exported PKCS #12 files (cert clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p12_password: Option<String>,
    /// When it was added (Unix seconds).
    pub created: u64,
    /// When it was revoked (Unix seconds), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<u64>,
}

/// The configuration directory and its files.
#[derive(Debug, Clone)]
pub struct Store {
    /// The directory.
    pub dir: PathBuf,
}

impl Store {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn config_path(&self) -> PathBuf {
        self.path(files::CONFIG)
    }
    pub fn facts_path(&self) -> PathBuf {
        self.path("setup.toml")
    }
    pub fn clients_dir(&self) -> PathBuf {
        self.path("clients")
    }
    pub fn client_dir(&self, name: &str) -> PathBuf {
        self.clients_dir().join(name)
    }
    /// Where `rampart client export NAME` writes by default.
    pub fn export_dir(&self, name: &str) -> PathBuf {
        self.path("export").join(name)
    }

    pub fn is_set_up(&self) -> bool {
        self.facts_path().exists()
    }

    pub fn facts(&self) -> Res<SetupFacts> {
        let text = String::from_utf8(read(&self.facts_path())?)
            .map_err(|_| format!("{}: not UTF-8", self.facts_path().display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", self.facts_path().display()))
    }

    pub fn save_facts(&self, f: &SetupFacts) -> Res<()> {
        let text = toml::to_string(f).map_err(|e| e.to_string())?;
        write_file(
            &self.facts_path(),
            format!("# Facts `rampart setup` decided (docs/setup.md).\n{text}").as_bytes(),
            0o600,
        )
    }

    /// The configuration for editing.
    pub fn config(&self) -> Res<toml_edit::DocumentMut> {
        let p = self.config_path();
        let text =
            String::from_utf8(read(&p)?).map_err(|_| format!("{}: not UTF-8", p.display()))?;
        server_config::parse(&text, &p).map_err(|e| e.to_string())
    }

    pub fn save_config(&self, doc: &toml_edit::DocumentMut) -> Res<()> {
        write_file(&self.config_path(), doc.to_string().as_bytes(), 0o600)
    }

    /// The CA, to issue with.
    pub fn ca(&self) -> Res<pki::CertificateAuthority> {
        let cert = pki::load_certs(&self.path(files::CA_CERT)).map_err(|e| e.to_string())?;
        let der = cert
            .first()
            .cloned()
            .ok_or_else(|| format!("{}: no certificate", files::CA_CERT))?;
        let key = pki::PrivateKey::from_bytes(&Zeroizing::new(read(&self.path(files::CA_KEY))?))
            .map_err(|e| e.to_string())?;
        pki::CertificateAuthority::load(&der, key).map_err(|e| e.to_string())
    }

    pub fn ca_der(&self) -> Res<Vec<u8>> {
        let certs = pki::load_certs(&self.path(files::CA_CERT)).map_err(|e| e.to_string())?;
        certs
            .first()
            .cloned()
            .ok_or_else(|| format!("{}: no certificate", files::CA_CERT))
    }

    /// The server as clients see it.
    pub fn server(&self) -> Res<Server> {
        let f = self.facts()?;
        let doc = self.config()?;
        Ok(Server {
            address: f.address,
            dns_name: f.dns_name,
            ca_cert_der: self.ca_der()?,
            ike_proposals: server_config::conn_list(&doc, server_config::CONN_EAP, "proposals"),
            esp_proposals: server_config::child_list(
                &doc,
                server_config::CONN_EAP,
                "esp_proposals",
            ),
            split_routes: f.split_routes,
        })
    }

    pub fn client(&self, name: &str) -> Res<ClientRecord> {
        let p = self.client_dir(name).join("client.toml");
        if !p.exists() {
            return Err(format!(
                "no client named '{name}' (see `rampart client list`)"
            ));
        }
        let text =
            String::from_utf8(read(&p)?).map_err(|_| format!("{}: not UTF-8", p.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    }

    pub fn save_client(&self, name: &str, r: &ClientRecord) -> Res<()> {
        let dir = self.client_dir(name);
        private_dir(&dir)?;
        let text = toml::to_string(r).map_err(|e| e.to_string())?;
        write_file(&dir.join("client.toml"), text.as_bytes(), 0o600)
    }

    /// Every client, sorted by name.
    pub fn clients(&self) -> Res<Vec<(String, ClientRecord)>> {
        let mut out = Vec::new();
        let Ok(rd) = fs::read_dir(self.clients_dir()) else {
            return Ok(out);
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Ok(r) = self.client(&name) {
                out.push((name, r));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// A client's credentials for its profiles.
    pub fn profile(&self, name: &str) -> Res<ClientProfile> {
        let r = self.client(name)?;
        if r.revoked.is_some() {
            return Err(format!("client '{name}' is revoked"));
        }
        let doc = self.config()?;
        let auth = match r.kind.as_str() {
            "cert" => {
                let dir = self.client_dir(name);
                let cert = pki::load_certs(&dir.join("cert.pem")).map_err(|e| e.to_string())?;
                let key = pki::PrivateKey::from_bytes(&Zeroizing::new(read(&dir.join("key.pem"))?))
                    .map_err(|e| e.to_string())?;
                ClientAuth::Cert {
                    id: r.id.clone(),
                    cert_der: cert.first().cloned().unwrap_or_default(),
                    key_pkcs8_der: Zeroizing::new(key.pkcs8_der().as_slice().to_vec()),
                    p12_password: Zeroizing::new(r.p12_password.clone().unwrap_or_default()),
                }
            }
            "eap" => ClientAuth::Eap {
                user: r.id.clone(),
                password: server_config::secret(&doc, "eap", name)
                    .ok_or_else(|| format!("secrets.eap.{name} is missing in the configuration"))?,
            },
            _ => ClientAuth::Psk {
                id: r.id.clone(),
                psk: server_config::secret(&doc, "ike", name)
                    .ok_or_else(|| format!("secrets.ike.{name} is missing in the configuration"))?,
            },
        };
        Ok(ClientProfile {
            name: name.to_string(),
            auth,
        })
    }

    /// Writes every export of `name` into `dir` (0700); returns the files written with their
    /// purpose.
    pub fn export(&self, name: &str, dir: &Path) -> Res<Vec<(PathBuf, String)>> {
        let server = self.server()?;
        let client = self.profile(name)?;
        let files = profiles::export::export_all(&server, &client).map_err(|e| e.to_string())?;
        private_dir(dir)?;
        let mut out = Vec::new();
        for f in files {
            let p = dir.join(&f.name);
            write_file(&p, &f.contents, if f.secret { 0o600 } else { 0o644 })?;
            out.push((p, f.purpose));
        }
        Ok(out)
    }

    /// Rewrites the CRL with every revoked certificate client.
    pub fn write_crl(&self) -> Res<()> {
        let ca = self.ca()?;
        let mut revoked = Vec::new();
        for (_, r) in self.clients()? {
            if let (Some(at), Some(serial)) = (r.revoked, &r.serial) {
                let bytes = hex_to_bytes(serial)?;
                revoked.push((bytes, UNIX_EPOCH + std::time::Duration::from_secs(at)));
            }
        }
        let der = profiles::issue::crl(&ca, &revoked, unix_now(), SystemTime::now())
            .map_err(|e| e.to_string())?;
        write_file(
            &self.path(files::CRL),
            pki::crl_to_pem(&der).as_bytes(),
            0o644,
        )
    }
}

fn hex_to_bytes(s: &str) -> Res<Vec<u8>> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| {
            s.get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad serial '{s}'"))
        })
        .collect()
}

/// Client names: 1-63 of `A-Z a-z 0-9 - .`, starting with a letter or digit (also a file
/// name, a secret name and a certificate dNSName).
pub fn check_name(name: &str) -> Res<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid client name '{name}': 1-63 of A-Z a-z 0-9 - ., starting with a letter or digit"
        ))
    }
}
