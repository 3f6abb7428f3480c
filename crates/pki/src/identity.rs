//! Identity strings with distinguished names (RFC 7296 §3.5 ID_DER_ASN1_DN).
//!
//! `wire::Identity::from_str` knows every ID type but DNs, because DN text needs X.509 name
//! encoding that lives here. Config identities go through [`identity_from_str`].

use wire::Identity;

use crate::dn::Dn;
use crate::PkiError;

/// Parses an identity as strongSwan's configs write them:
/// - `dn:TEXT` / `asn1dn:TEXT`, or any string containing `=` and no type prefix: a DN in
///   strongSwan's text form (`C=CH, O=Rampart, CN=moon`), encoded to ID_DER_ASN1_DN;
///   `dn:#30..` / `asn1dn:#30..` takes the DER in hex;
/// - anything else (`moon.example.org`, `@moon`, `carol@example.org`, `192.0.2.1`,
///   `@#0a0b`, `fqdn:`/`email:`/`ipv4:`/`ipv6:`/`keyid:` prefixes): `wire::Identity::from_str`.
pub fn identity_from_str(s: &str) -> Result<Identity, PkiError> {
    let t = s.trim();
    let bad = |reason: String| PkiError::BadIdentity {
        text: s.to_string(),
        reason,
    };
    let forced = t.strip_prefix("dn:").or_else(|| t.strip_prefix("asn1dn:"));
    if let Some(rest) = forced {
        let rest = rest.trim();
        if let Some(h) = rest.strip_prefix('#') {
            let der = unhex(h).ok_or_else(|| bad("bad hex after '#'".into()))?;
            Dn::from_der(&der).map_err(|e| bad(e.to_string()))?;
            return Ok(Identity::DerAsn1Dn(der));
        }
        return Dn::parse(rest).map(|d| Identity::DerAsn1Dn(d.as_der().to_vec()));
    }
    let typed = ["fqdn:", "email:", "rfc822:", "ipv4:", "ipv6:", "keyid:"]
        .iter()
        .any(|p| t.starts_with(p));
    if !typed && t.contains('=') {
        return Dn::parse(t).map(|d| Identity::DerAsn1Dn(d.as_der().to_vec()));
    }
    t.parse::<Identity>().map_err(|e| bad(e.to_string()))
}

/// An identity for logs and listings: DNs as strongSwan text, everything else as
/// `wire::Identity`'s `Display`.
pub fn identity_to_string(id: &Identity) -> String {
    match id {
        Identity::DerAsn1Dn(der) => match Dn::from_der(der) {
            Ok(dn) => dn.to_string(),
            Err(_) => id.to_string(),
        },
        _ => id.to_string(),
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_and_the_rest() {
        let id = identity_from_str("C=CH, O=Rampart, CN=moon").unwrap();
        let Identity::DerAsn1Dn(der) = &id else {
            panic!("not a DN: {id:?}")
        };
        assert_eq!(
            crate::dn_to_string(der).unwrap(),
            "C=CH, O=Rampart, CN=moon"
        );
        assert_eq!(identity_to_string(&id), "C=CH, O=Rampart, CN=moon");
        assert_eq!(
            identity_from_str("dn:CN=moon").unwrap(),
            identity_from_str("CN=moon").unwrap()
        );
        // wire's Display form of a DN reads back.
        assert_eq!(identity_from_str(&id.to_string()).unwrap(), id);
        assert_eq!(
            identity_from_str("moon.example.org").unwrap(),
            Identity::Fqdn("moon.example.org".into())
        );
        assert_eq!(
            identity_from_str("192.0.2.1").unwrap(),
            Identity::Ipv4("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            identity_from_str("carol@example.org").unwrap(),
            Identity::Rfc822("carol@example.org".into())
        );
        assert_eq!(
            identity_from_str("email:a=b@example.org").unwrap(),
            Identity::Rfc822("a=b@example.org".into())
        );
        assert_eq!(
            identity_from_str("@#0a0b").unwrap(),
            Identity::KeyId(vec![10, 11])
        );
        assert!(identity_from_str("XX=moon").is_err());
        assert!(identity_from_str("dn:#3000ff").is_err());
        assert!(identity_from_str("").is_err());
    }
}
