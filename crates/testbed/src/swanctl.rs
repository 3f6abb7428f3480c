//! Parsing of `swanctl --list-sas --pretty`: vici messages printed as nested sections
//! (`name {` ... `}`), key/values (`key = value`) and lists (`key = [` items `]`).

use std::collections::BTreeMap;

/// One IKE SA as charon lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwanIkeSa {
    /// The connection name (`net2net`).
    pub name: String,
    /// charon's unique id (the `[N]` in its log).
    pub uniqueid: String,
    /// `ESTABLISHED`, `CONNECTING`, `DELETING`, ...
    pub state: String,
    /// Our address.
    pub local_host: String,
    /// Our port (4500 after the NAT-T port float).
    pub local_port: String,
    /// Our identity.
    pub local_id: String,
    /// The peer's address.
    pub remote_host: String,
    /// The peer's port.
    pub remote_port: String,
    /// The peer's identity.
    pub remote_id: String,
    /// Whether charon initiated this IKE SA.
    pub initiator: bool,
    /// IKE SPI of the initiator, 16 lower-case hex digits.
    pub initiator_spi: String,
    /// IKE SPI of the responder.
    pub responder_spi: String,
    /// e.g. `AES_GCM_16`, `AES_CBC`.
    pub encr_alg: String,
    /// e.g. `256`.
    pub encr_keysize: String,
    /// e.g. `HMAC_SHA2_256_128` (empty for AEAD).
    pub integ_alg: String,
    /// e.g. `PRF_HMAC_SHA2_256`.
    pub prf_alg: String,
    /// e.g. `CURVE_25519`, `ECP_256`.
    pub dh_group: String,
    /// The Child SAs.
    pub children: Vec<SwanChildSa>,
    /// Every key/value of the IKE SA section as printed, for what the fields above leave out.
    pub raw: BTreeMap<String, String>,
}

/// One Child SA as charon lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwanChildSa {
    /// The child's config name (`net`).
    pub name: String,
    /// charon's unique id (the `{N}` in its log).
    pub uniqueid: String,
    /// `INSTALLED`, `REKEYING`, `DELETING`, ...
    pub state: String,
    /// `TUNNEL` or `TRANSPORT`.
    pub mode: String,
    /// `ESP` or `AH`.
    pub protocol: String,
    /// Whether ESP is UDP-encapsulated (always with kernel-libipsec).
    pub encap: bool,
    /// Inbound SPI (the one charon allocated), 8 lower-case hex digits.
    pub spi_in: String,
    /// Outbound SPI (the peer's inbound SPI).
    pub spi_out: String,
    /// e.g. `AES_GCM_16`, `AES_CBC`.
    pub encr_alg: String,
    /// e.g. `256`.
    pub encr_keysize: String,
    /// e.g. `HMAC_SHA2_256_128` (empty for AEAD).
    pub integ_alg: String,
    /// Local traffic selectors, e.g. `203.0.113.0/24`.
    pub local_ts: Vec<String>,
    /// Remote traffic selectors.
    pub remote_ts: Vec<String>,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
}

/// A parsed vici tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Section(Vec<(String, Node)>),
    Value(String),
    List(Vec<String>),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Section(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn value(&self, key: &str) -> String {
        match self.get(key) {
            Some(Node::Value(v)) => v.clone(),
            _ => String::new(),
        }
    }

    fn number(&self, key: &str) -> u64 {
        self.value(key).parse().unwrap_or(0)
    }

    fn list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Node::List(v)) => v.clone(),
            Some(Node::Value(v)) => vec![v.clone()],
            _ => Vec::new(),
        }
    }

    fn sections(&self) -> Vec<(&str, &Node)> {
        match self {
            Node::Section(items) => items
                .iter()
                .filter(|(_, v)| matches!(v, Node::Section(_)))
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn values(&self) -> BTreeMap<String, String> {
        match self {
            Node::Section(items) => items
                .iter()
                .filter_map(|(k, v)| match v {
                    Node::Value(v) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        }
    }
}

/// Parses the lines of one section body until its closing `}` (or the end).
fn parse_section<'a>(lines: &mut impl Iterator<Item = &'a str>) -> Node {
    let mut items = Vec::new();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "}" {
            break;
        }
        if let Some(name) = line.strip_suffix('{') {
            let name = name.trim().to_string();
            items.push((name, parse_section(lines)));
        } else if let Some((k, v)) = line.split_once(" = ") {
            let (k, v) = (k.trim().to_string(), v.trim());
            if v == "[" {
                let mut list = Vec::new();
                for item in lines.by_ref() {
                    let item = item.trim();
                    if item == "]" {
                        break;
                    }
                    list.push(item.to_string());
                }
                items.push((k, Node::List(list)));
            } else {
                items.push((k, Node::Value(v.to_string())));
            }
        } else if let Some(k) = line.strip_suffix(" =") {
            items.push((k.trim().to_string(), Node::Value(String::new())));
        }
    }
    Node::Section(items)
}

/// Parses `swanctl --list-sas --pretty` into IKE SAs (one `list-sa event` section each).
pub fn parse_list_sas(text: &str) -> Vec<SwanIkeSa> {
    let top = parse_section(&mut text.lines());
    let mut sas = Vec::new();
    for (key, event) in top.sections() {
        if key != "list-sa event" {
            continue;
        }
        for (name, ike) in event.sections() {
            sas.push(ike_sa(name, ike));
        }
    }
    sas
}

fn ike_sa(name: &str, n: &Node) -> SwanIkeSa {
    let children = n
        .get("child-sas")
        .map(|c| {
            c.sections()
                .into_iter()
                .map(|(_, child)| child_sa(child))
                .collect()
        })
        .unwrap_or_default();
    SwanIkeSa {
        name: name.to_string(),
        uniqueid: n.value("uniqueid"),
        state: n.value("state"),
        local_host: n.value("local-host"),
        local_port: n.value("local-port"),
        local_id: n.value("local-id"),
        remote_host: n.value("remote-host"),
        remote_port: n.value("remote-port"),
        remote_id: n.value("remote-id"),
        initiator: n.value("initiator") == "yes",
        initiator_spi: n.value("initiator-spi"),
        responder_spi: n.value("responder-spi"),
        encr_alg: n.value("encr-alg"),
        encr_keysize: n.value("encr-keysize"),
        integ_alg: n.value("integ-alg"),
        prf_alg: n.value("prf-alg"),
        dh_group: n.value("dh-group"),
        children,
        raw: n.values(),
    }
}

fn child_sa(n: &Node) -> SwanChildSa {
    SwanChildSa {
        name: n.value("name"),
        uniqueid: n.value("uniqueid"),
        state: n.value("state"),
        mode: n.value("mode"),
        protocol: n.value("protocol"),
        encap: n.value("encap") == "yes",
        spi_in: n.value("spi-in"),
        spi_out: n.value("spi-out"),
        encr_alg: n.value("encr-alg"),
        encr_keysize: n.value("encr-keysize"),
        integ_alg: n.value("integ-alg"),
        local_ts: n.list("local-ts"),
        remote_ts: n.list("remote-ts"),
        bytes_in: n.number("bytes-in"),
        bytes_out: n.number("bytes-out"),
        packets_in: n.number("packets-in"),
        packets_out: n.number("packets-out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output captured from strongSwan 5.9.8 (`swanctl --list-sas --pretty`, responder side).
    const PRETTY: &str = "list-sa event {
  net2net {
    uniqueid = 1
    version = 2
    state = ESTABLISHED
    local-host = 192.0.2.1
    local-port = 4500
    local-id = moon.example.org
    remote-host = 192.0.2.100
    remote-port = 4500
    remote-id = carol.example.org
    initiator-spi = a1c77272908160e8
    responder-spi = f1f1856e6c9524ce
    nat-remote = yes
    nat-any = yes
    encr-alg = AES_GCM_16
    encr-keysize = 256
    prf-alg = PRF_HMAC_SHA2_256
    dh-group = CURVE_25519
    established = 0
    rekey-time = 13866
    child-sas {
      net-1 {
        name = net
        uniqueid = 1
        reqid = 1
        state = INSTALLED
        mode = TUNNEL
        protocol = ESP
        encap = yes
        spi-in = cdcc61c8
        spi-out = 8abbcaf3
        encr-alg = AES_GCM_16
        encr-keysize = 256
        bytes-in = 84
        packets-in = 1
        bytes-out = 0
        packets-out = 0
        rekey-time = 3239
        life-time = 3960
        install-time = 0
        local-ts = [
          203.0.113.0/24
          2001:db8:2::/64
        ]
        remote-ts = [
          198.51.100.0/25
        ]
      }
    }
  }
}
list-sas reply {
}
";

    #[test]
    fn parses_ike_and_child_sa() {
        let sas = parse_list_sas(PRETTY);
        assert_eq!(sas.len(), 1);
        let ike = &sas[0];
        assert_eq!(ike.name, "net2net");
        assert_eq!(ike.state, "ESTABLISHED");
        assert_eq!(ike.remote_host, "192.0.2.100");
        assert_eq!(ike.remote_port, "4500");
        assert_eq!(ike.remote_id, "carol.example.org");
        assert!(!ike.initiator);
        assert_eq!(ike.initiator_spi, "a1c77272908160e8");
        assert_eq!(ike.dh_group, "CURVE_25519");
        assert_eq!(ike.raw.get("nat-remote").map(String::as_str), Some("yes"));
        assert_eq!(ike.children.len(), 1);
        let c = &ike.children[0];
        assert_eq!(c.name, "net");
        assert_eq!(c.state, "INSTALLED");
        assert!(c.encap);
        assert_eq!(c.spi_in, "cdcc61c8");
        assert_eq!(c.spi_out, "8abbcaf3");
        assert_eq!(c.local_ts, ["203.0.113.0/24", "2001:db8:2::/64"]);
        assert_eq!(c.remote_ts, ["198.51.100.0/25"]);
        assert_eq!((c.bytes_in, c.packets_in), (84, 1));
    }

    #[test]
    fn no_sas_is_empty() {
        assert!(parse_list_sas("list-sas reply {\n}\n").is_empty());
        assert!(parse_list_sas("").is_empty());
    }

    #[test]
    fn ike_sa_without_children() {
        let text =
            "list-sa event {\n  a {\n    state = CONNECTING\n    child-sas {\n    }\n  }\n}\n";
        let sas = parse_list_sas(text);
        assert_eq!(sas.len(), 1);
        assert_eq!(sas[0].state, "CONNECTING");
        assert!(sas[0].children.is_empty());
    }
}
