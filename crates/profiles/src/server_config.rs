//! The server's `rampart.toml` as `rampart setup` writes it (the road-warrior schema of
//! docs/config.md), and the in-place edits of `rampart client` (toml_edit: the operator's
//! comments, order and other tables are kept).
//!
//! Layout: one responder connection per client authentication, all `remote_addrs = ["%any"]`
//! with the same pools, DNS, selectors and proposals:
//! - `rw-cert`: both sides sign; client certificates chain to `[authorities.rampart]`, whose
//!   CRL `rampart client revoke` rewrites. Clients that send their certificate only when
//!   asked (strongSwan's default, Windows machine certificates) need the responder's CERTREQ
//!   in IKE_SA_INIT (RFC 7296 §3.7); it comes first so that even a Rampart that sends CERTREQ
//!   only for the first matching connection (before 2d31ada) asks. EAP and PSK clients ignore
//!   the CERTREQ;
//! - `rw-eap`: the server signs with its certificate, clients use EAP-MSCHAPv2 (RFC 7296
//!   §2.16) with the users of `[secrets.eap.*]`;
//! - `rw-psk`: one `[secrets.ike.NAME]` per client, `ids = [CLIENT_ID]` (never one shared PSK).

use std::net::IpAddr;
use std::path::Path;

use toml_edit::{value, Array, DocumentMut, Item, Table};
use zeroize::Zeroizing;

use crate::ProfileError;

/// File names inside the configuration directory.
pub mod files {
    /// The configuration.
    pub const CONFIG: &str = "rampart.toml";
    /// CA certificate (PEM).
    pub const CA_CERT: &str = "ca.crt";
    /// CA key (PKCS #8 PEM, 0600).
    pub const CA_KEY: &str = "ca.key";
    /// CRL of the CA (PEM).
    pub const CRL: &str = "ca.crl";
    /// Server certificate (PEM).
    pub const SERVER_CERT: &str = "server.crt";
    /// Server key (0600).
    pub const SERVER_KEY: &str = "server.key";
}

/// Connection names.
pub const CONN_EAP: &str = "rw-eap";
/// Certificate clients' connection.
pub const CONN_CERT: &str = "rw-cert";
/// PSK clients' connection.
pub const CONN_PSK: &str = "rw-psk";
/// The authority of client certificates.
pub const AUTHORITY: &str = "rampart";

/// What `rampart setup` decided.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    /// The server's IKE identity (DNS name or address; in its certificate).
    pub server_id: String,
    /// IPv4 pool (CIDR), if any.
    pub pool4: Option<String>,
    /// IPv6 pool (CIDR), if any.
    pub pool6: Option<String>,
    /// NAT the pools' addresses out of the server.
    pub masquerade: bool,
    /// DNS servers pushed to clients (INTERNAL_IP4/6_DNS).
    pub dns: Vec<IpAddr>,
    /// Networks behind the server; empty = full tunnel.
    pub split_routes: Vec<String>,
    /// IKE proposals.
    pub ike_proposals: Vec<String>,
    /// ESP proposals.
    pub esp_proposals: Vec<String>,
    /// `daemon.legacy_crypto`.
    pub legacy_crypto: bool,
    /// `daemon.state_dir` (leases).
    pub state_dir: String,
}

fn arr<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Item {
    let mut a = Array::new();
    for s in items {
        a.push(s.into());
    }
    value(a)
}

const HEADER: &str =
    "# Written by `rampart setup` (docs/setup.md). `rampart client ...` adds and removes\n\
# [secrets.*] entries here; other edits are kept. Check with `rampart config check`.\n";

/// The first configuration (no users yet: add them with [`add_eap_user`]).
pub fn render_initial(s: &SetupConfig) -> Result<DocumentMut, ProfileError> {
    let mut doc = DocumentMut::new();
    let mut daemon = Table::new();
    daemon.decor_mut().set_prefix(HEADER);
    daemon["state_dir"] = value(s.state_dir.as_str());
    daemon["legacy_crypto"] = value(s.legacy_crypto);
    doc["daemon"] = Item::Table(daemon);

    let mut pools = Table::new();
    pools.set_implicit(true);
    let mut names = Vec::new();
    for (name, addrs) in [("clients4", &s.pool4), ("clients6", &s.pool6)] {
        if let Some(a) = addrs {
            let mut t = Table::new();
            t["addrs"] = value(a.as_str());
            t["masquerade"] = value(s.masquerade);
            pools[name] = Item::Table(t);
            names.push(name);
        }
    }
    doc["pools"] = Item::Table(pools);

    let local_ts: Vec<String> = if s.split_routes.is_empty() {
        vec!["0.0.0.0/0".into(), "::/0".into()]
    } else {
        s.split_routes.clone()
    };
    let mut conns = Table::new();
    conns.set_implicit(true);
    for (conn, local_auth, remote_auth) in [
        (CONN_CERT, "pubkey", "pubkey"),
        (CONN_EAP, "pubkey", "eap-mschapv2"),
        (CONN_PSK, "psk", "psk"),
    ] {
        let mut c = Table::new();
        c["remote_addrs"] = arr(["%any"]);
        c["proposals"] = arr(s.ike_proposals.iter().cloned());
        // ESP-in-UDP even without a NAT (RFC 3948; our NAT detection data makes the client
        // see one, RFC 7296 §2.23): UDP 4500 passes where IP protocol 50 is dropped, and a
        // data plane without plain ESP (Rampart before raw ESP sockets) still serves clients
        // with public addresses.
        c["encap"] = value(true);
        c["pools"] = arr(names.iter().copied());
        c["dns"] = arr(s.dns.iter().map(IpAddr::to_string));
        let mut local = Table::new();
        local["auth"] = value(local_auth);
        if local_auth == "pubkey" {
            local["cert"] = value(files::SERVER_CERT);
            local["key"] = value(files::SERVER_KEY);
        }
        local["id"] = value(s.server_id.as_str());
        c["local"] = Item::Table(local);
        let mut remote = Table::new();
        remote["auth"] = value(remote_auth);
        remote["id"] = value("%any");
        c["remote"] = Item::Table(remote);
        let mut child = Table::new();
        child["local_ts"] = arr(local_ts.iter().cloned());
        child["remote_ts"] = arr(["dynamic"]);
        child["esp_proposals"] = arr(s.esp_proposals.iter().cloned());
        let mut children = Table::new();
        children.set_implicit(true);
        children[conn] = Item::Table(child);
        c["children"] = Item::Table(children);
        conns[conn] = Item::Table(c);
    }
    doc["connections"] = Item::Table(conns);

    let mut auth = Table::new();
    auth["cacert"] = value(files::CA_CERT);
    auth["crls"] = arr([files::CRL]);
    let mut auths = Table::new();
    auths.set_implicit(true);
    auths[AUTHORITY] = Item::Table(auth);
    doc["authorities"] = Item::Table(auths);
    Ok(doc)
}

/// Parses a configuration for editing.
pub fn parse(text: &str, path: &Path) -> Result<DocumentMut, ProfileError> {
    text.parse()
        .map_err(|e: toml_edit::TomlError| ProfileError::Toml(format!("{}: {e}", path.display())))
}

fn secrets_table<'a>(doc: &'a mut DocumentMut, kind: &str) -> Result<&'a mut Table, ProfileError> {
    let secrets = doc
        .entry("secrets")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| ProfileError::Toml("'secrets' is not a table".into()))?;
    secrets
        .entry(kind)
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| ProfileError::Toml(format!("'secrets.{kind}' is not a table")))
}

/// Adds `[secrets.eap.NAME]` (`user`, `secret`); refuses a name already there.
pub fn add_eap_user(
    doc: &mut DocumentMut,
    name: &str,
    user: &str,
    password: &str,
) -> Result<(), ProfileError> {
    let t = secrets_table(doc, "eap")?;
    if t.contains_key(name) {
        return Err(ProfileError::Invalid(format!(
            "secrets.eap.{name} exists already"
        )));
    }
    let mut e = Table::new();
    e["user"] = value(user);
    e["secret"] = value(password);
    t[name] = Item::Table(e);
    Ok(())
}

/// Adds `[secrets.ike.NAME]` with `ids = [id]` and the PSK.
pub fn add_psk(doc: &mut DocumentMut, name: &str, id: &str, psk: &str) -> Result<(), ProfileError> {
    let t = secrets_table(doc, "ike")?;
    if t.contains_key(name) {
        return Err(ProfileError::Invalid(format!(
            "secrets.ike.{name} exists already"
        )));
    }
    let mut e = Table::new();
    e["ids"] = arr([id]);
    e["secret"] = value(psk);
    t[name] = Item::Table(e);
    Ok(())
}

/// Removes `[secrets.eap.NAME]` and `[secrets.ike.NAME]`; true if one was there.
pub fn remove_secret(doc: &mut DocumentMut, name: &str) -> bool {
    let mut removed = false;
    if let Some(s) = doc.get_mut("secrets").and_then(Item::as_table_mut) {
        for kind in ["eap", "ike"] {
            if let Some(t) = s.get_mut(kind).and_then(Item::as_table_mut) {
                removed |= t.remove(name).is_some();
            }
        }
    }
    removed
}

/// The `secret` of `[secrets.KIND.NAME]` (kind `eap` or `ike`).
pub fn secret(doc: &DocumentMut, kind: &str, name: &str) -> Option<Zeroizing<String>> {
    doc.get("secrets")?
        .get(kind)?
        .get(name)?
        .get("secret")?
        .as_str()
        .map(|s| Zeroizing::new(s.to_string()))
}

/// A connection's string list (e.g. `proposals`), empty if absent.
pub fn conn_list(doc: &DocumentMut, conn: &str, key: &str) -> Vec<String> {
    doc.get("connections")
        .and_then(|c| c.get(conn))
        .and_then(|c| c.get(key))
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The first child's string list (e.g. `esp_proposals`, `local_ts`) of a connection.
pub fn child_list(doc: &DocumentMut, conn: &str, key: &str) -> Vec<String> {
    doc.get("connections")
        .and_then(|c| c.get(conn))
        .and_then(|c| c.get("children"))
        .and_then(Item::as_table)
        .and_then(|t| t.iter().next())
        .and_then(|(_, child)| child.get(key))
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> SetupConfig {
        SetupConfig {
            server_id: "vpn.example.org".into(),
            pool4: Some("10.10.10.0/24".into()),
            pool6: None,
            masquerade: true,
            dns: vec!["198.51.100.53".parse().unwrap()],
            split_routes: vec![],
            ike_proposals: crate::proposals::server_ike(false),
            esp_proposals: crate::proposals::server_esp(false),
            legacy_crypto: false,
            state_dir: "/var/lib/rampart".into(),
        }
    }

    #[test]
    fn initial_has_the_schema_tables() {
        let doc = render_initial(&setup()).unwrap();
        let t = doc.to_string();
        assert!(t.starts_with("# Written by `rampart setup`"), "{t}");
        assert!(t.contains("[pools.clients4]"), "{t}");
        assert!(!t.contains("clients6"), "{t}");
        assert!(t.contains("[connections.rw-eap.remote]"), "{t}");
        assert!(t.contains("auth = \"eap-mschapv2\""), "{t}");
        assert!(t.contains("[authorities.rampart]"), "{t}");
        assert_eq!(conn_list(&doc, CONN_EAP, "pools"), vec!["clients4"]);
        assert_eq!(
            child_list(&doc, CONN_CERT, "local_ts"),
            vec!["0.0.0.0/0", "::/0"]
        );
    }

    #[test]
    fn edits_keep_comments_and_other_tables() {
        let mut doc = render_initial(&setup()).unwrap();
        let mut text = doc.to_string();
        text.push_str(
            "\n# operator's note\n[connections.extra]\nremote_addrs = [\"192.0.2.9\"] # keep me\n",
        );
        let mut doc2 = parse(&text, Path::new("x")).unwrap();
        add_eap_user(&mut doc2, "alice", "alice", "pw1").unwrap();
        add_psk(&mut doc2, "phone", "phone.example", "k").unwrap();
        assert!(add_eap_user(&mut doc2, "alice", "alice", "pw2").is_err());
        assert_eq!(secret(&doc2, "eap", "alice").unwrap().as_str(), "pw1");
        let t = doc2.to_string();
        assert!(t.contains("# operator's note"), "{t}");
        assert!(t.contains("# keep me"), "{t}");
        assert!(t.contains("[secrets.eap.alice]"), "{t}");
        assert!(remove_secret(&mut doc2, "alice"));
        assert!(!remove_secret(&mut doc2, "alice"));
        assert!(secret(&doc2, "eap", "alice").is_none());
        assert!(secret(&doc2, "ike", "phone").is_some());
        doc = doc2;
        assert!(doc.to_string().contains("# keep me"));
    }
}
