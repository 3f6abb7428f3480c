//! The Linux profile for `rampart connect`: one self-contained TOML file (server, CA,
//! credentials, proposals, selectors), and the daemon configuration built from it
//! (docs/config.md, client side: `vips`, `eap_id`, `[secrets.eap.*]`).

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{ClientAuth, ClientProfile, ProfileError, Server};

/// Format version of the profile file.
pub const VERSION: u32 = 1;

/// A `rampart connect` profile. The file holds the client's secret: keep it 0600.
#[derive(Debug, Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct LinuxProfile {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// The client's name.
    pub name: String,
    /// The server: an IP address or a DNS name (resolved when connecting).
    pub server: String,
    /// The server's address when `server` is a name that does not resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The server's IKE identity (in its certificate).
    pub server_id: String,
    /// `eap`, `pubkey` or `psk`.
    pub auth: String,
    /// Our IKE identity (`pubkey`, `psk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// EAP user name (`eap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// EAP password (`eap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// PSK (`psk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psk: Option<String>,
    /// IKE proposals.
    pub proposals: Vec<String>,
    /// ESP proposals.
    pub esp_proposals: Vec<String>,
    /// Networks through the tunnel (`0.0.0.0/0`, `::/0` = everything).
    pub remote_ts: Vec<String>,
    /// The CA certificate (PEM).
    pub ca: String,
    /// Our certificate (PEM, `pubkey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// Our key (PKCS #8 PEM, `pubkey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The profile of `client` for `server`.
pub fn profile(server: &Server, client: &ClientProfile) -> Result<LinuxProfile, ProfileError> {
    let mut p = LinuxProfile {
        version: VERSION,
        name: client.name.clone(),
        server: server.connect_to(),
        address: server
            .dns_name
            .is_some()
            .then(|| server.address.to_string()),
        server_id: server.remote_id(),
        auth: String::new(),
        id: None,
        user: None,
        password: None,
        psk: None,
        proposals: server.ike_proposals.clone(),
        esp_proposals: server.esp_proposals.clone(),
        remote_ts: if server.full_tunnel() {
            vec!["0.0.0.0/0".into(), "::/0".into()]
        } else {
            server.split_routes.clone()
        },
        ca: pki::cert_to_pem(&server.ca_cert_der),
        cert: None,
        key: None,
    };
    match &client.auth {
        ClientAuth::Cert {
            id,
            cert_der,
            key_pkcs8_der,
            ..
        } => {
            p.auth = "pubkey".into();
            p.id = Some(id.clone());
            p.cert = Some(pki::cert_to_pem(cert_der));
            let key = pki::PrivateKey::from_bytes(key_pkcs8_der)?;
            p.key = Some(key.pkcs8_pem().to_string());
        }
        ClientAuth::Eap { user, password } => {
            p.auth = "eap".into();
            p.user = Some(user.clone());
            p.password = Some(password.to_string());
        }
        ClientAuth::Psk { id, psk } => {
            p.auth = "psk".into();
            p.id = Some(id.clone());
            p.psk = Some(psk.to_string());
        }
    }
    Ok(p)
}

/// The profile file's text.
pub fn render(p: &LinuxProfile) -> Result<Zeroizing<String>, ProfileError> {
    let body = toml::to_string(p).map_err(|e| ProfileError::Toml(e.to_string()))?;
    Ok(Zeroizing::new(format!(
        "# Rampart VPN profile '{}' for `sudo rampart connect FILE` (docs/setup.md).\n\
         # It holds this client's secret: keep it private (mode 0600).\n{body}",
        p.name
    )))
}

/// Reads a profile file's text; every problem is one message.
pub fn parse(text: &str) -> Result<LinuxProfile, ProfileError> {
    let p: LinuxProfile =
        toml::from_str(text).map_err(|e| ProfileError::Toml(format!("profile: {e}")))?;
    if p.version != VERSION {
        return Err(ProfileError::Invalid(format!(
            "profile: version {} is not supported (this rampart reads version {VERSION})",
            p.version
        )));
    }
    let need = |f: &Option<String>, what: &str| {
        if f.as_deref().is_none_or(str::is_empty) {
            Err(ProfileError::Invalid(format!(
                "profile: auth = \"{}\" needs '{what}'",
                p.auth
            )))
        } else {
            Ok(())
        }
    };
    match p.auth.as_str() {
        "eap" => {
            need(&p.user, "user")?;
            need(&p.password, "password")?;
        }
        "pubkey" => {
            need(&p.id, "id")?;
            need(&p.cert, "cert")?;
            need(&p.key, "key")?;
        }
        "psk" => {
            need(&p.id, "id")?;
            need(&p.psk, "psk")?;
        }
        other => {
            return Err(ProfileError::Invalid(format!(
                "profile: auth = \"{other}\" is not one of eap, pubkey, psk"
            )))
        }
    }
    Ok(p)
}

/// A file of the daemon's configuration directory.
#[derive(Debug)]
pub struct File {
    /// Its name in the directory.
    pub name: &'static str,
    /// Contents.
    pub contents: Zeroizing<Vec<u8>>,
}

/// The daemon configuration for a profile: `rampart.toml` and the files it names, all to be
/// written (mode 0600) into one private directory. `encap = true`: ESP inside UDP (RFC 3948)
/// also without a NAT, as the server made by `rampart setup` asks anyway.
pub fn daemon_config(
    p: &LinuxProfile,
    server_ip: IpAddr,
    control_socket: &Path,
    tun_name: &str,
) -> Result<Vec<File>, ProfileError> {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let list = |v: &[String]| {
        format!(
            "[{}]",
            v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
        )
    };
    let mut files = vec![File {
        name: "ca.crt",
        contents: Zeroizing::new(p.ca.as_bytes().to_vec()),
    }];
    let mut c = format!(
        "# Built by `rampart connect` from the profile '{name}'.\n\
         [daemon]\n\
         control_socket = {sock}\n\
         tun_name = {tun}\n\n\
         [connections.vpn]\n\
         remote_addrs = [{addr}]\n\
         proposals = {props}\n\
         vips = [\"0.0.0.0\", \"::\"]\n\
         encap = true\n\
         dpd_action = \"restart\"\n\n",
        name = p.name,
        sock = q(&control_socket.to_string_lossy()),
        tun = q(tun_name),
        addr = q(&server_ip.to_string()),
        props = list(&p.proposals),
    );
    let server_id = q(&p.server_id);
    match p.auth.as_str() {
        "eap" => {
            let user = q(p.user.as_deref().unwrap_or_default());
            c.push_str(&format!(
                "[connections.vpn.local]\nauth = \"eap-mschapv2\"\neap_id = {user}\n\n\
                 [connections.vpn.remote]\nauth = \"pubkey\"\nid = {server_id}\n\n"
            ));
        }
        "pubkey" => {
            files.push(File {
                name: "client.crt",
                contents: Zeroizing::new(p.cert.clone().unwrap_or_default().into_bytes()),
            });
            files.push(File {
                name: "client.key",
                contents: Zeroizing::new(p.key.clone().unwrap_or_default().into_bytes()),
            });
            c.push_str(&format!(
                "[connections.vpn.local]\nauth = \"pubkey\"\ncert = \"client.crt\"\nkey = \"client.key\"\nid = {id}\n\n\
                 [connections.vpn.remote]\nauth = \"pubkey\"\nid = {server_id}\n\n",
                id = q(p.id.as_deref().unwrap_or_default())
            ));
        }
        _ => {
            c.push_str(&format!(
                "[connections.vpn.local]\nauth = \"psk\"\nid = {id}\n\n\
                 [connections.vpn.remote]\nauth = \"psk\"\nid = {server_id}\n\n",
                id = q(p.id.as_deref().unwrap_or_default())
            ));
        }
    }
    c.push_str(&format!(
        "[connections.vpn.children.vpn]\n\
         local_ts = [\"dynamic\"]\n\
         remote_ts = {ts}\n\
         esp_proposals = {esp}\n\
         start_action = \"start\"\n\n",
        ts = list(&p.remote_ts),
        esp = list(&p.esp_proposals),
    ));
    if p.auth != "psk" {
        c.push_str("[authorities.vpn]\ncacert = \"ca.crt\"\n\n");
    }
    match p.auth.as_str() {
        "eap" => {
            c.push_str(&format!(
                "[secrets.eap.vpn]\nuser = {}\nsecret_file = \"eap.secret\"\n",
                q(p.user.as_deref().unwrap_or_default())
            ));
            files.push(File {
                name: "eap.secret",
                contents: Zeroizing::new(p.password.clone().unwrap_or_default().into_bytes()),
            });
        }
        "psk" => {
            c.push_str(&format!(
                "[secrets.ike.vpn]\nids = [{}, {server_id}]\nsecret_file = \"psk.secret\"\n",
                q(p.id.as_deref().unwrap_or_default())
            ));
            files.push(File {
                name: "psk.secret",
                contents: Zeroizing::new(p.psk.clone().unwrap_or_default().into_bytes()),
            });
        }
        _ => {}
    }
    files.push(File {
        name: "rampart.toml",
        contents: Zeroizing::new(c.into_bytes()),
    });
    Ok(files)
}
