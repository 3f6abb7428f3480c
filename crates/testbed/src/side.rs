//! One gateway's view of a tunnel, free of any topology: addresses, identities, selectors,
//! proposals, authentication and the options the interop tests vary (forced encapsulation,
//! liveness checks, MOBIKE). Rendered as strongSwan's swanctl.conf, Rampart's TOML
//! (docs/config.md) or Libreswan's ipsec.conf + ipsec.secrets, so that one description drives
//! any of the three implementations.
//!
//! The connection and child are always named [`CONN`] and [`CHILD`], which [`crate::Peer::sas`]
//! looks for.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::net2net::{CHILD, CONN, PSK};

/// How a side authenticates itself and the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// A pre-shared key (RFC 7296 §2.15), the same on both sides.
    Psk(String),
    /// Certificates (RFC 7296 §2.15, RFC 7427) issued by one CA.
    Cert(CertFiles),
}

/// The files of one side's certificate authentication (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The end-entity certificate.
    pub cert: PathBuf,
    /// Its private key (PKCS#1 or SEC 1 PEM).
    pub key: PathBuf,
    /// The CA certificate that issued both sides' certificates (the trust anchor).
    pub ca: PathBuf,
    /// The same key and certificate (with the CA) as PKCS#12 without a password, for NSS.
    pub p12: PathBuf,
    /// Key type for Libreswan's `authby` (`rsasig` or `ecdsa`).
    pub libreswan_authby: &'static str,
}

/// One side of a tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// Our outer addresses; empty = any.
    pub local_addrs: Vec<String>,
    /// The peer's outer addresses, or `%any`.
    pub remote_addrs: Vec<String>,
    /// Our identity (an FQDN).
    pub local_id: String,
    /// The peer's identity (an FQDN).
    pub remote_id: String,
    /// Our selectors.
    pub local_ts: Vec<String>,
    /// The peer's selectors.
    pub remote_ts: Vec<String>,
    /// IKE proposal, strongSwan syntax.
    pub ike: String,
    /// ESP proposal, strongSwan syntax.
    pub esp: String,
    /// Authentication.
    pub auth: Auth,
    /// Force UDP encapsulation (`encap`).
    pub encap: bool,
    /// Liveness checks when idle for this long (zero = off).
    pub dpd_delay: Duration,
    /// `dpd_action` (`clear`, `restart`); `None` = the implementation's default.
    pub dpd_action: Option<String>,
    /// `mobike`; `None` = the implementation's default (on for Rampart and strongSwan).
    pub mobike: Option<bool>,
    /// Initiate when started (Rampart `start_action = "start"`); strongSwan and Libreswan
    /// initiate only when told to.
    pub start: bool,
    /// Extra lines for Rampart's `[daemon]` table (e.g. `legacy_crypto = true`).
    pub rampart_daemon_extra: String,
    /// Extra lines for Rampart's `[connections.CONN]` table.
    pub rampart_conn_extra: String,
    /// Extra lines for Rampart's child table (e.g. `rekey_packets = 40`).
    pub rampart_child_extra: String,
    /// Extra lines inside strongSwan's `connections.CONN` section.
    pub swanctl_conn_extra: String,
}

impl Side {
    /// A PSK side with everything else at its default: no forced encapsulation, no liveness
    /// checks, implementations' MOBIKE default, does not initiate.
    pub fn psk(
        local_addrs: &[&str],
        remote_addrs: &[&str],
        ids: (&str, &str),
        ts: (&[&str], &[&str]),
        ike: &str,
        esp: &str,
    ) -> Side {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Side {
            local_addrs: strings(local_addrs),
            remote_addrs: strings(remote_addrs),
            local_id: ids.0.to_string(),
            remote_id: ids.1.to_string(),
            local_ts: strings(ts.0),
            remote_ts: strings(ts.1),
            ike: ike.to_string(),
            esp: esp.to_string(),
            auth: Auth::Psk(PSK.to_string()),
            encap: false,
            dpd_delay: Duration::ZERO,
            dpd_action: None,
            mobike: None,
            start: false,
            rampart_daemon_extra: String::new(),
            rampart_conn_extra: String::new(),
            rampart_child_extra: String::new(),
            swanctl_conn_extra: String::new(),
        }
    }

    /// The mirror image: the peer's view of the same tunnel (addresses, identities and
    /// selectors swapped; `%any` in `remote_addrs` becomes our first address). Options are
    /// reset to the defaults; set what the peer needs on the result.
    pub fn mirror(&self) -> Side {
        let mut m = self.clone();
        m.local_addrs = self
            .remote_addrs
            .iter()
            .filter(|a| *a != "%any")
            .cloned()
            .collect();
        m.remote_addrs = if self.local_addrs.is_empty() {
            vec!["%any".to_string()]
        } else {
            self.local_addrs.clone()
        };
        std::mem::swap(&mut m.local_id, &mut m.remote_id);
        std::mem::swap(&mut m.local_ts, &mut m.remote_ts);
        m.encap = false;
        m.dpd_delay = Duration::ZERO;
        m.dpd_action = None;
        m.mobike = None;
        m.start = false;
        m.rampart_daemon_extra.clear();
        m.rampart_conn_extra.clear();
        m.rampart_child_extra.clear();
        m.swanctl_conn_extra.clear();
        m
    }

    /// strongSwan's swanctl.conf. Certificate files are referred to by file name: put them into
    /// the charon's `x509`, `private` and `x509ca` folders ([`crate::interop::start_charon`]
    /// does).
    pub fn swanctl_conf(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "connections {{\n  {CONN} {{\n    version = 2");
        if !self.local_addrs.is_empty() {
            let _ = writeln!(s, "    local_addrs = {}", self.local_addrs.join(", "));
        }
        let _ = writeln!(s, "    remote_addrs = {}", self.remote_addrs.join(", "));
        let _ = writeln!(s, "    proposals = {}", self.ike);
        let _ = writeln!(s, "    encap = {}", yes_no(self.encap));
        let _ = writeln!(s, "    keyingtries = 1");
        if !self.dpd_delay.is_zero() {
            let _ = writeln!(s, "    dpd_delay = {}s", self.dpd_delay.as_secs().max(1));
        }
        if let Some(m) = self.mobike {
            let _ = writeln!(s, "    mobike = {}", yes_no(m));
        }
        s.push_str(&self.swanctl_conn_extra);
        let (auth, certs) = match &self.auth {
            Auth::Psk(_) => ("psk", String::new()),
            Auth::Cert(c) => ("pubkey", format!("      certs = {}\n", file_name(&c.cert))),
        };
        let _ = write!(
            s,
            "    local {{\n      auth = {auth}\n      id = {}\n{certs}    }}\n",
            self.local_id
        );
        let _ = write!(
            s,
            "    remote {{\n      auth = {auth}\n      id = {}\n    }}\n",
            self.remote_id
        );
        let _ = write!(
            s,
            "    children {{\n      {CHILD} {{\n        local_ts = {}\n        remote_ts = {}\n        \
             esp_proposals = {}\n        mode = tunnel\n",
            self.local_ts.join(", "),
            self.remote_ts.join(", "),
            self.esp
        );
        if let Some(a) = &self.dpd_action {
            let _ = writeln!(s, "        dpd_action = {a}");
        }
        s.push_str("      }\n    }\n  }\n}\n");
        match &self.auth {
            Auth::Psk(psk) => {
                let _ = write!(
                    s,
                    "secrets {{\n  ike-{CONN} {{\n    id-1 = {}\n    id-2 = {}\n    secret = \"{psk}\"\n  }}\n}}\n",
                    self.local_id, self.remote_id
                );
            }
            // swanctl --load-all loads the key from the `private` folder beside the file.
            Auth::Cert(_) => {}
        }
        s
    }

    /// Rampart's TOML with the control socket and TUN name the harness chose.
    pub fn rampart_toml(&self, socket: &Path, tun_name: &str) -> String {
        let list = |v: &[String]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = format!(
            "[daemon]\ncontrol_socket = \"{}\"\ntun_name = \"{tun_name}\"\nlog_level = \"debug\"\n{}\n",
            socket.display(),
            self.rampart_daemon_extra
        );
        let _ = writeln!(s, "[connections.{CONN}]\nversion = 2");
        if !self.local_addrs.is_empty() {
            let _ = writeln!(s, "local_addrs = [{}]", list(&self.local_addrs));
        }
        let _ = writeln!(s, "remote_addrs = [{}]", list(&self.remote_addrs));
        let _ = writeln!(s, "proposals = [\"{}\"]", self.ike);
        let _ = writeln!(s, "encap = {}", self.encap);
        let _ = writeln!(s, "keyingtries = 1");
        let _ = writeln!(s, "dpd_delay = {}", self.dpd_delay.as_secs());
        if let Some(a) = &self.dpd_action {
            let _ = writeln!(s, "dpd_action = \"{a}\"");
        }
        if let Some(m) = self.mobike {
            let _ = writeln!(s, "mobike = {m}");
        }
        s.push_str(&self.rampart_conn_extra);
        let auth = match &self.auth {
            Auth::Psk(_) => "psk",
            Auth::Cert(_) => "pubkey",
        };
        let _ = write!(
            s,
            "\n[connections.{CONN}.local]\nauth = \"{auth}\"\nid = \"{}\"\n",
            self.local_id
        );
        if let Auth::Cert(c) = &self.auth {
            let _ = write!(
                s,
                "cert = \"{}\"\nkey = \"{}\"\n",
                c.cert.display(),
                c.key.display()
            );
        }
        let _ = write!(
            s,
            "\n[connections.{CONN}.remote]\nauth = \"{auth}\"\nid = \"{}\"\n",
            self.remote_id
        );
        let _ = write!(
            s,
            "\n[connections.{CONN}.children.{CHILD}]\nlocal_ts = [{}]\nremote_ts = [{}]\n\
             esp_proposals = [\"{}\"]\nmode = \"tunnel\"\nstart_action = \"{}\"\n",
            list(&self.local_ts),
            list(&self.remote_ts),
            self.esp,
            if self.start { "start" } else { "none" }
        );
        s.push_str(&self.rampart_child_extra);
        match &self.auth {
            Auth::Psk(psk) => {
                let _ = write!(
                    s,
                    "\n[secrets.ike.{CONN}]\nids = [\"{}\", \"{}\"]\nsecret = \"{psk}\"\n",
                    self.local_id, self.remote_id
                );
            }
            Auth::Cert(c) => {
                let _ = write!(
                    s,
                    "\n[authorities.testca]\ncacert = \"{}\"\n",
                    c.ca.display()
                );
            }
        }
        s
    }

    /// Libreswan 4's ipsec.conf (`config setup` logging to `log`, and conn [`CONN`] with
    /// `auto=add`: tests initiate with whack) and ipsec.secrets.
    pub fn libreswan_conf(&self, log: &Path) -> (String, String) {
        let left = self
            .local_addrs
            .first()
            .cloned()
            .unwrap_or_else(|| "%defaultroute".to_string());
        let right = self
            .remote_addrs
            .first()
            .cloned()
            .unwrap_or_else(|| "%any".to_string());
        let mut c = format!(
            "config setup\n    logfile={}\n    logtime=yes\n    plutodebug=base\n    uniqueids=no\n    dnssec-enable=no\n\n\
             conn {CONN}\n    ikev2=insist\n    left={left}\n    leftid=@{}\n    leftsubnet={}\n\
             \x20   right={right}\n    rightid=@{}\n    rightsubnet={}\n    ike={}\n    esp={}\n\
             \x20   keyingtries=1\n    auto=add\n",
            log.display(),
            self.local_id,
            self.local_ts.join(","),
            self.remote_id,
            self.remote_ts.join(","),
            libreswan_ike(&self.ike),
            libreswan_esp(&self.esp),
        );
        if self.encap {
            c.push_str("    encapsulation=yes\n");
        }
        if let Some(m) = self.mobike {
            let _ = writeln!(c, "    mobike={}", yes_no(m));
        }
        let secrets = match &self.auth {
            Auth::Psk(psk) => {
                c.push_str("    authby=secret\n");
                format!("@{} @{} : PSK \"{psk}\"\n", self.local_id, self.remote_id)
            }
            Auth::Cert(cf) => {
                let _ = write!(
                    c,
                    "    authby={}\n    leftcert={}\n    leftsendcert=always\n    rightca=%same\n",
                    cf.libreswan_authby,
                    crate::swan_pki::P12_NAME
                );
                String::new()
            }
        };
        (c, secrets)
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One strongSwan keyword in Libreswan's syntax (`aes256gcm16` -> `aes_gcm256`, `sha256` ->
/// `sha2_256`, `x25519` -> `dh31`, ...); unknown keywords pass through.
fn libreswan_token(t: &str) -> String {
    let t = t.strip_prefix("prf").unwrap_or(t);
    let mapped = match t {
        "sha256" => "sha2_256",
        "sha384" => "sha2_384",
        "sha512" => "sha2_512",
        "x25519" | "curve25519" => "dh31",
        "ecp256" => "dh19",
        "ecp384" => "dh20",
        "ecp521" => "dh21",
        "modp1024" => "dh2",
        "modp2048" => "dh14",
        "modp3072" => "dh15",
        "modp4096" => "dh16",
        other => {
            if let Some(bits) = other
                .strip_prefix("aes")
                .and_then(|r| r.strip_suffix("gcm16"))
            {
                return format!("aes_gcm{bits}");
            }
            other
        }
    };
    mapped.to_string()
}

fn is_ke(t: &str) -> bool {
    t.starts_with("modp") || t.starts_with("ecp") || t == "x25519" || t == "curve25519"
}

/// An IKE proposal in Libreswan's syntax: `ENCR-HASH;DH` (for AEAD ciphers the hash is the
/// PRF, otherwise integrity and PRF together).
pub fn libreswan_ike(strongswan: &str) -> String {
    let parts: Vec<&str> = strongswan.split('-').collect();
    let ke: Vec<String> = parts
        .iter()
        .filter(|t| is_ke(t))
        .map(|t| libreswan_token(t))
        .collect();
    let algs: Vec<String> = parts
        .iter()
        .filter(|t| !is_ke(t))
        .map(|t| libreswan_token(t))
        .collect();
    // `aes128-sha256-prfsha256`: integrity and PRF name the same hash once.
    let mut dedup: Vec<String> = Vec::new();
    for a in algs {
        if !dedup.contains(&a) {
            dedup.push(a);
        }
    }
    let mut s = dedup.join("-");
    if !ke.is_empty() {
        s.push(';');
        s.push_str(&ke.join("-"));
    }
    s
}

/// An ESP proposal in Libreswan's syntax (`aes256gcm16` -> `aes_gcm256`, `aes128-sha256` ->
/// `aes128-sha2_256`).
pub fn libreswan_esp(strongswan: &str) -> String {
    strongswan
        .split('-')
        .map(libreswan_token)
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side() -> Side {
        Side::psk(
            &["192.0.2.1"],
            &["192.0.2.2"],
            ("gw1.example.org", "gw2.example.org"),
            (&["203.0.113.0/24"], &["198.51.100.0/24"]),
            "aes256gcm16-prfsha256-x25519",
            "aes256gcm16",
        )
    }

    #[test]
    fn mirror_swaps_the_views() {
        let mut s = side();
        s.remote_addrs = vec!["%any".into()];
        s.dpd_delay = Duration::from_secs(3);
        let m = s.mirror();
        assert!(m.local_addrs.is_empty());
        assert_eq!(m.remote_addrs, ["192.0.2.1"]);
        assert_eq!(m.local_id, "gw2.example.org");
        assert_eq!(m.local_ts, ["198.51.100.0/24"]);
        assert_eq!(m.dpd_delay, Duration::ZERO);
    }

    #[test]
    fn renders_the_options() {
        let mut s = side();
        s.dpd_delay = Duration::from_secs(2);
        s.dpd_action = Some("restart".into());
        s.mobike = Some(false);
        s.encap = true;
        let sw = s.swanctl_conf();
        assert!(sw.contains("local_addrs = 192.0.2.1\n"), "{sw}");
        assert!(sw.contains("dpd_delay = 2s\n"), "{sw}");
        assert!(sw.contains("dpd_action = restart\n"), "{sw}");
        assert!(sw.contains("mobike = no\n"), "{sw}");
        assert!(sw.contains("encap = yes\n"), "{sw}");
        let r = s.rampart_toml(Path::new("/tmp/x.sock"), "t0");
        assert!(r.contains("dpd_delay = 2\n"), "{r}");
        assert!(r.contains("dpd_action = \"restart\"\n"), "{r}");
        assert!(r.contains("mobike = false\n"), "{r}");
        assert!(r.contains("encap = true\n"), "{r}");
        assert!(r.contains("secret = \"testbed-psk"), "{r}");
        let (l, secrets) = s.libreswan_conf(Path::new("/tmp/pluto.log"));
        assert!(l.contains("ike=aes_gcm256-sha2_256;dh31\n"), "{l}");
        assert!(l.contains("esp=aes_gcm256\n"), "{l}");
        assert!(l.contains("leftid=@gw1.example.org\n"), "{l}");
        assert!(secrets.starts_with("@gw1.example.org @gw2.example.org : PSK"));
    }

    #[test]
    fn libreswan_proposals() {
        assert_eq!(
            libreswan_ike("aes128-sha256-ecp256"),
            "aes128-sha2_256;dh19"
        );
        assert_eq!(
            libreswan_ike("aes256gcm16-prfsha384-modp3072"),
            "aes_gcm256-sha2_384;dh15"
        );
        assert_eq!(libreswan_esp("aes128-sha256"), "aes128-sha2_256");
        assert_eq!(libreswan_esp("chacha20poly1305"), "chacha20poly1305");
    }
}
