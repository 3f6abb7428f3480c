//! Identities carried in IDi/IDr payloads (RFC 7296 §3.5) and their textual form.
//!
//! Text follows strongSwan's conventions: an IP literal is an address identity, `@#0a0b…` a
//! KEY_ID in hex, `@name` an FQDN taken literally, `user@host` an RFC 822 address, anything else
//! an FQDN. Explicit prefixes `fqdn:`, `email:`/`rfc822:`, `ipv4:`, `ipv6:`, `keyid:` force a type.

use core::fmt;
use core::str::FromStr;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::WireError;

/// ID_IPV4_ADDR.
pub const ID_IPV4_ADDR: u8 = 1;
/// ID_FQDN.
pub const ID_FQDN: u8 = 2;
/// ID_RFC822_ADDR.
pub const ID_RFC822_ADDR: u8 = 3;
/// ID_IPV6_ADDR.
pub const ID_IPV6_ADDR: u8 = 5;
/// ID_DER_ASN1_DN.
pub const ID_DER_ASN1_DN: u8 = 9;
/// ID_DER_ASN1_GN.
pub const ID_DER_ASN1_GN: u8 = 10;
/// ID_KEY_ID.
pub const ID_KEY_ID: u8 = 11;

/// An IKE identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// ID_IPV4_ADDR.
    Ipv4(Ipv4Addr),
    /// ID_IPV6_ADDR.
    Ipv6(Ipv6Addr),
    /// ID_FQDN (no terminator, no wildcard).
    Fqdn(String),
    /// ID_RFC822_ADDR.
    Rfc822(String),
    /// ID_DER_ASN1_DN: the DER encoding of a distinguished name.
    DerAsn1Dn(Vec<u8>),
    /// ID_KEY_ID: opaque octets.
    KeyId(Vec<u8>),
    /// Any other type, kept as it came.
    Other {
        /// ID Type.
        id_type: u8,
        /// Identification Data.
        data: Vec<u8>,
    },
}

impl Identity {
    /// ID Type on the wire.
    pub fn id_type(&self) -> u8 {
        match self {
            Identity::Ipv4(_) => ID_IPV4_ADDR,
            Identity::Ipv6(_) => ID_IPV6_ADDR,
            Identity::Fqdn(_) => ID_FQDN,
            Identity::Rfc822(_) => ID_RFC822_ADDR,
            Identity::DerAsn1Dn(_) => ID_DER_ASN1_DN,
            Identity::KeyId(_) => ID_KEY_ID,
            Identity::Other { id_type, .. } => *id_type,
        }
    }

    /// Identification Data on the wire.
    pub fn data(&self) -> Vec<u8> {
        match self {
            Identity::Ipv4(a) => a.octets().to_vec(),
            Identity::Ipv6(a) => a.octets().to_vec(),
            Identity::Fqdn(s) | Identity::Rfc822(s) => s.as_bytes().to_vec(),
            Identity::DerAsn1Dn(d) | Identity::KeyId(d) => d.clone(),
            Identity::Other { data, .. } => data.clone(),
        }
    }

    /// Decodes an identity from its wire type and data. Address identities must have the
    /// exact address length; FQDN and RFC 822 must be non-empty printable ASCII, else they are
    /// kept as `Other` so nothing is lost.
    pub fn from_wire(id_type: u8, data: &[u8]) -> Result<Self, WireError> {
        Ok(match id_type {
            ID_IPV4_ADDR => {
                let o: [u8; 4] = data
                    .try_into()
                    .map_err(|_| WireError::BadLength("ID_IPV4_ADDR"))?;
                Identity::Ipv4(o.into())
            }
            ID_IPV6_ADDR => {
                let o: [u8; 16] = data
                    .try_into()
                    .map_err(|_| WireError::BadLength("ID_IPV6_ADDR"))?;
                Identity::Ipv6(o.into())
            }
            ID_FQDN | ID_RFC822_ADDR
                if !data.is_empty() && data.iter().all(|b| b.is_ascii_graphic()) =>
            {
                let s = String::from_utf8_lossy(data).into_owned();
                if id_type == ID_FQDN {
                    Identity::Fqdn(s)
                } else {
                    Identity::Rfc822(s)
                }
            }
            ID_DER_ASN1_DN => Identity::DerAsn1Dn(data.to_vec()),
            ID_KEY_ID => Identity::KeyId(data.to_vec()),
            t => Identity::Other {
                id_type: t,
                data: data.to_vec(),
            },
        })
    }

    /// Identity comparison as IKE peers expect it: FQDN and RFC 822 case-insensitively,
    /// everything else byte for byte.
    pub fn matches(&self, other: &Identity) -> bool {
        match (self, other) {
            (Identity::Fqdn(a), Identity::Fqdn(b)) | (Identity::Rfc822(a), Identity::Rfc822(b)) => {
                a.eq_ignore_ascii_case(b)
            }
            _ => self == other,
        }
    }
}

fn parse_hex(s: &str) -> Result<Vec<u8>, WireError> {
    let bad = WireError::Invalid("identity: bad hex in key id");
    if s.is_empty() || s.len() % 2 != 0 {
        return Err(bad);
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(s.get(i..i + 2).ok_or(bad.clone())?, 16).map_err(|_| bad.clone())
        })
        .collect()
}

impl FromStr for Identity {
    type Err = WireError;

    fn from_str(s: &str) -> Result<Self, WireError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(WireError::Invalid("identity: empty"));
        }
        let nonempty = |v: &str| -> Result<String, WireError> {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_graphic()) {
                Err(WireError::Invalid(
                    "identity: must be non-empty printable ASCII",
                ))
            } else {
                Ok(v.to_string())
            }
        };
        if let Some((prefix, rest)) = s.split_once(':') {
            match prefix {
                "fqdn" => return Ok(Identity::Fqdn(nonempty(rest)?)),
                "email" | "rfc822" => return Ok(Identity::Rfc822(nonempty(rest)?)),
                "ipv4" => {
                    return rest
                        .parse()
                        .map(Identity::Ipv4)
                        .map_err(|_| WireError::Invalid("identity: bad IPv4 address"))
                }
                "ipv6" => {
                    return rest
                        .parse()
                        .map(Identity::Ipv6)
                        .map_err(|_| WireError::Invalid("identity: bad IPv6 address"))
                }
                "keyid" => return Ok(Identity::KeyId(parse_hex(rest.trim_start_matches("0x"))?)),
                _ => {}
            }
        }
        if let Ok(a) = s.parse::<Ipv4Addr>() {
            return Ok(Identity::Ipv4(a));
        }
        if let Ok(a) = s.parse::<Ipv6Addr>() {
            return Ok(Identity::Ipv6(a));
        }
        if let Some(hex) = s.strip_prefix("@#") {
            return Ok(Identity::KeyId(parse_hex(hex)?));
        }
        if let Some(name) = s.strip_prefix('@') {
            return Ok(Identity::Fqdn(nonempty(name)?));
        }
        if s.contains('=') {
            return Err(WireError::Invalid(
                "identity: distinguished names are not supported yet",
            ));
        }
        if s.contains('@') {
            return Ok(Identity::Rfc822(nonempty(s)?));
        }
        Ok(Identity::Fqdn(nonempty(s)?))
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Ipv4(a) => write!(f, "{a}"),
            Identity::Ipv6(a) => write!(f, "{a}"),
            Identity::Fqdn(s) | Identity::Rfc822(s) => f.write_str(s),
            Identity::DerAsn1Dn(d) => write!(f, "dn:#{}", hex(d)),
            Identity::KeyId(d) => write!(f, "@#{}", hex(d)),
            Identity::Other { id_type, data } => write!(f, "id{id_type}:#{}", hex(data)),
        }
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(
            "moon.example.org".parse(),
            Ok(Identity::Fqdn("moon.example.org".into()))
        );
        assert_eq!("@moon".parse(), Ok(Identity::Fqdn("moon".into())));
        assert_eq!(
            "carol@example.org".parse(),
            Ok(Identity::Rfc822("carol@example.org".into()))
        );
        assert_eq!(
            "192.0.2.1".parse(),
            Ok(Identity::Ipv4("192.0.2.1".parse().unwrap()))
        );
        assert_eq!(
            "2001:db8::1".parse(),
            Ok(Identity::Ipv6("2001:db8::1".parse().unwrap()))
        );
        assert_eq!("@#0a0B".parse(), Ok(Identity::KeyId(vec![0x0a, 0x0b])));
        assert_eq!("fqdn:a@b".parse(), Ok(Identity::Fqdn("a@b".into())));
        assert!("".parse::<Identity>().is_err());
        assert!("@#abc".parse::<Identity>().is_err());
        assert!("C=CH, O=x".parse::<Identity>().is_err());
    }

    #[test]
    fn wire_round_trip() {
        for s in [
            "moon.example.org",
            "carol@example.org",
            "192.0.2.1",
            "2001:db8::1",
            "@#01ff",
        ] {
            let id: Identity = s.parse().unwrap();
            let back = Identity::from_wire(id.id_type(), &id.data()).unwrap();
            assert_eq!(back, id);
            assert_eq!(
                back.to_string().trim_start_matches('@'),
                s.trim_start_matches('@')
            );
        }
        assert!(Identity::from_wire(ID_IPV4_ADDR, &[1, 2, 3]).is_err());
        assert!(matches!(
            Identity::from_wire(ID_FQDN, &[0xff]),
            Ok(Identity::Other { .. })
        ));
        assert!(Identity::Fqdn("A.example".into()).matches(&Identity::Fqdn("a.EXAMPLE".into())));
    }
}
