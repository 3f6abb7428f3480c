//! PSK lookup (docs/config.md "Lookup of a PSK"), for IKE_AUTH with shared keys
//! (RFC 7296 §2.15), and the EAP password lookup (RFC 7296 §2.16).

use crypto::SecretBytes;
use wire::Identity;

use crate::types::{AuthMethod, Config, Connection, IkeSecret, Pool};

impl IkeSecret {
    /// True when `ids` names `id` (FQDN and RFC 822 compare case-insensitively).
    pub fn has_id(&self, id: &Identity) -> bool {
        self.ids.iter().any(|x| x.matches(id))
    }
}

impl Config {
    /// The PSK for an IKE SA between `local` (our identity) and `remote` (the peer's): the
    /// entry whose `ids` contain both; failing that, one containing the peer's; failing that,
    /// one containing ours; failing that, one with an empty `ids` list. Within a rank the
    /// first in file order wins.
    ///
    /// Road warriors: when `local` is our identity in a connection with `remote.auth = "psk"`
    /// and `remote.id = "%any"` ([`Config::psk_needs_peer_id`]), only the first two ranks
    /// apply: the key must name the client. A key found by our identity alone (or an empty
    /// `ids`) would be one every client knows, and any of them could pose as the server.
    pub fn find_psk(&self, local: &Identity, remote: &Identity) -> Option<&SecretBytes> {
        let s = &self.ike_secrets;
        let strict = self.psk_needs_peer_id(local);
        s.iter()
            .find(|e| e.has_id(local) && e.has_id(remote))
            .or_else(|| s.iter().find(|e| e.has_id(remote)))
            .or_else(|| {
                (!strict)
                    .then(|| s.iter().find(|e| e.has_id(local)))
                    .flatten()
            })
            .or_else(|| {
                (!strict)
                    .then(|| s.iter().find(|e| e.ids.is_empty()))
                    .flatten()
            })
            .map(|e| &e.secret)
    }

    /// True when `local` may be our identity in a road-warrior PSK connection (`remote.auth =
    /// "psk"`, `remote.id = "%any"`): its `local.id`, or any IP address identity when it has
    /// none (then our identity is the address the client reached).
    pub fn psk_needs_peer_id(&self, local: &Identity) -> bool {
        self.connections.iter().any(|c| {
            c.remote.auth == AuthMethod::Psk
                && c.remote.id.is_none()
                && match &c.local.id {
                    Some(id) => id.matches(local),
                    None => matches!(local, Identity::Ipv4(_) | Identity::Ipv6(_)),
                }
        })
    }

    /// The password of EAP user `user` (`[secrets.eap.*]`, exact match), as text.
    pub fn eap_password(&self, user: &str) -> Option<&SecretBytes> {
        self.eap_secrets
            .iter()
            .find(|e| e.user == user)
            .map(|e| &e.secret)
    }

    /// The pool named `name`.
    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.name == name)
    }

    /// Connections that hand out virtual IPs (`pools` not empty).
    pub fn pool_connections(&self) -> impl Iterator<Item = &Connection> {
        self.connections.iter().filter(|c| !c.pools.is_empty())
    }

    /// [`Config::find_psk`] when the peer's identity may not be known yet (an initiator whose
    /// `remote.id` is `%any`, before IKE_AUTH answers): with `remote = None` only the ranks
    /// "contains ours" and "empty `ids`" apply.
    pub fn find_psk_opt(
        &self,
        local: &Identity,
        remote: Option<&Identity>,
    ) -> Option<&SecretBytes> {
        match remote {
            Some(r) => self.find_psk(local, r),
            None => {
                let s = &self.ike_secrets;
                s.iter()
                    .find(|e| e.has_id(local))
                    .or_else(|| s.iter().find(|e| e.ids.is_empty()))
                    .map(|e| &e.secret)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DaemonConfig;

    fn secret(name: &str, ids: &[&str], key: &str) -> IkeSecret {
        IkeSecret {
            name: name.into(),
            ids: ids.iter().map(|s| s.parse().unwrap()).collect(),
            secret: SecretBytes::from_slice(key.as_bytes()),
        }
    }

    fn config(secrets: Vec<IkeSecret>) -> Config {
        Config {
            path: "t.toml".into(),
            daemon: DaemonConfig::default(),
            connections: Vec::new(),
            ike_secrets: secrets,
            authorities: Vec::new(),
            pools: Vec::new(),
            eap_secrets: Vec::new(),
        }
    }

    fn id(s: &str) -> Identity {
        s.parse().unwrap()
    }

    fn found(c: &Config, l: &str, r: &str) -> Option<Vec<u8>> {
        c.find_psk(&id(l), &id(r)).map(|s| s.as_slice().to_vec())
    }

    #[test]
    fn ranking() {
        let c = config(vec![
            secret("any", &[], "k-any"),
            secret("ours", &["moon.example.org"], "k-ours"),
            secret("peer", &["carol.example.org"], "k-peer"),
            secret("both", &["moon.example.org", "carol.example.org"], "k-both"),
        ]);
        assert_eq!(
            found(&c, "moon.example.org", "carol.example.org"),
            Some(b"k-both".to_vec())
        );
        // Case-insensitive FQDN match.
        assert_eq!(
            found(&c, "MOON.example.org", "carol.EXAMPLE.org"),
            Some(b"k-both".to_vec())
        );
        assert_eq!(
            found(&c, "sun.example.org", "carol.example.org"),
            Some(b"k-peer".to_vec())
        );
        assert_eq!(
            found(&c, "moon.example.org", "dave.example.org"),
            Some(b"k-ours".to_vec())
        );
        assert_eq!(
            found(&c, "sun.example.org", "dave.example.org"),
            Some(b"k-any".to_vec())
        );
    }

    #[test]
    fn no_match_and_file_order() {
        let c = config(vec![
            secret("a", &["192.0.2.1"], "k-a"),
            secret("b", &["192.0.2.1", "2001:db8::1"], "k-b"),
            secret("c", &["2001:db8::1", "192.0.2.100"], "k-c"),
        ]);
        assert_eq!(found(&c, "sun.example.org", "dave.example.org"), None);
        // Peer rank: first in file order that names the peer.
        assert_eq!(
            found(&c, "sun.example.org", "2001:db8::1"),
            Some(b"k-b".to_vec())
        );
        // Both rank beats an earlier entry naming only one side.
        assert_eq!(
            found(&c, "2001:db8::1", "192.0.2.100"),
            Some(b"k-c".to_vec())
        );
        // An IPv4 identity is not an FQDN with the same text.
        assert_eq!(found(&c, "sun.example.org", "fqdn:192.0.2.1"), None);
    }
}
