//! Distinguished names: text ⇄ DER, and comparison as RFC 5280 §7.1 asks.
//!
//! Text form follows strongSwan: RDNs separated by `,` **in DER order** (the reverse of
//! RFC 4514 §2.1, which writes the last RDN first), e.g. `C=CH, O=Rampart, CN=moon.example.org`.
//! Within a value, RFC 4514 §2.4 escaping applies: `\,` `\+` `\"` `\\` (and `\=`, `\;`, `\<`,
//! `\>`, `\#`, `\ `, or two hex digits `\c3\bc` for raw UTF-8 octets). An unescaped `+` joins
//! attributes into one multi-valued RDN (`OU=a+CN=b`). A value written `#0c03616263` is the
//! hex DER of the attribute value (RFC 4514 §2.4). Spaces around separators are ignored.
//!
//! Attribute names are those strongSwan accepts (case-insensitive): `C`, `ST`, `L`, `O`, `OU`,
//! `CN`, `SN` (surname), `serialNumber`, `STREET`, `T`/`title`, `D`/`description`,
//! `postalCode`, `N`/`name`, `G`/`givenName`, `I`/`initials`, `dnQualifier`, `pseudonym`,
//! `E`/`Email`/`emailAddress`, `UN`/`unstructuredName`, `DC`, `UID`, `EN`/`employeeNumber`,
//! `ND`; or a dotted OID (`2.5.4.3=moon`, also `OID.2.5.4.3`).
//!
//! Encoding (what strongSwan's `pki --dn` produces, checked with `openssl asn1parse`): a value
//! is a PrintableString when every character is in its set (RFC 5280 Appendix A), else a
//! UTF8String; `E` is an IA5String (RFC 5280 §4.1.2.6).
//!
//! Comparison ([`Dn::matches`]) is by RDN sequence, multi-valued RDNs as sets, attribute types by
//! OID and string values after a simplified RFC 4518 preparation: the ASN.1 string type is
//! ignored, leading/trailing spaces dropped, inner runs of spaces collapsed to one and letters
//! case-folded. Values that are not strings compare by their DER.

use core::fmt;
use core::str::FromStr;

use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::PkiError;

/// Attribute types: (name printed, OID, other names accepted).
const ATTRS: &[(&str, &str, &[&str])] = &[
    ("C", "2.5.4.6", &["countryName"]),
    ("ST", "2.5.4.8", &["stateOrProvinceName"]),
    ("L", "2.5.4.7", &["localityName"]),
    ("O", "2.5.4.10", &["organizationName"]),
    ("OU", "2.5.4.11", &["organizationalUnitName"]),
    ("CN", "2.5.4.3", &["commonName"]),
    ("SN", "2.5.4.4", &["surname"]),
    ("serialNumber", "2.5.4.5", &[]),
    ("STREET", "2.5.4.9", &["streetAddress"]),
    ("T", "2.5.4.12", &["title"]),
    ("D", "2.5.4.13", &["description"]),
    ("postalCode", "2.5.4.17", &[]),
    ("N", "2.5.4.41", &["name"]),
    ("G", "2.5.4.42", &["givenName"]),
    ("I", "2.5.4.43", &["initials"]),
    ("dnQualifier", "2.5.4.46", &[]),
    ("pseudonym", "2.5.4.65", &[]),
    ("E", "1.2.840.113549.1.9.1", &["Email", "emailAddress"]),
    ("unstructuredName", "1.2.840.113549.1.9.2", &["UN"]),
    ("DC", "0.9.2342.19200300.100.1.25", &["domainComponent"]),
    ("UID", "0.9.2342.19200300.100.1.1", &["userId"]),
    ("employeeNumber", "2.16.840.1.113730.3.1.3", &["EN"]),
    ("ND", "0.2.262.1.10.7.20", &[]),
];

/// commonName (RFC 5280 Appendix A).
pub(crate) const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// emailAddress (PKCS #9, RFC 5280 Appendix A).
const OID_EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// One attribute of an RDN, as decoded.
#[derive(Clone, Debug)]
struct Ava {
    oid: ObjectIdentifier,
    value: Any,
    /// Canonical form for comparison.
    canon: Canon,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Canon {
    /// A string value after preparation.
    Str(String),
    /// Any other value: its DER.
    Raw(Vec<u8>),
}

/// A distinguished name (RFC 5280 §4.1.2.4): its DER encoding and its decoded RDNs.
///
/// Equality (`==`, [`Dn::matches`]) is the canonical comparison described in the module docs,
/// not a byte comparison: the same name encoded with PrintableString by one CA and UTF8String
/// by another is equal.
#[derive(Clone)]
pub struct Dn {
    der: Vec<u8>,
    rdns: Vec<Vec<Ava>>,
}

impl fmt::Debug for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dn({self})")
    }
}

impl Dn {
    /// Decodes the DER of a Name (the SEQUENCE, tag included), as found in a certificate's
    /// subject or an ID_DER_ASN1_DN payload (RFC 7296 §3.5).
    pub fn from_der(der: &[u8]) -> Result<Dn, PkiError> {
        let bad = |reason: String| PkiError::BadDn {
            text: hex(der),
            reason,
        };
        let name = Name::from_der(der).map_err(|e| bad(e.to_string()))?;
        let mut rdns = Vec::with_capacity(name.len());
        for rdn in name.iter_rdn() {
            rdns.push(rdn.iter().map(ava_from).collect());
        }
        Ok(Dn {
            der: der.to_vec(),
            rdns,
        })
    }

    /// Parses the text form (see the module docs): `C=CH, O=Rampart, CN=moon`.
    pub fn parse(text: &str) -> Result<Dn, PkiError> {
        let bad = |reason: &str| PkiError::BadDn {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let parsed = lex(text).map_err(|r| bad(&r))?;
        let mut seq = Vec::with_capacity(parsed.len());
        for rdn in parsed {
            let mut avas = Vec::with_capacity(rdn.len());
            for (key, value) in rdn {
                let oid =
                    attr_oid(&key).ok_or_else(|| bad(&format!("unknown attribute {key:?}")))?;
                let value = match value {
                    Value::Hex(der) => {
                        Any::from_der(&der).map_err(|e| bad(&format!("bad #hex value: {e}")))?
                    }
                    Value::Text(s) => encode_value(oid, &s).map_err(|r| bad(&r))?,
                };
                avas.push(AttributeTypeAndValue { oid, value });
            }
            let rdn = RelativeDistinguishedName::try_from(avas)
                .map_err(|e| bad(&format!("bad multi-valued RDN: {e}")))?;
            seq.push(rdn);
        }
        let der = RdnSequence::from(seq)
            .to_der()
            .map_err(|e| bad(&e.to_string()))?;
        Dn::from_der(&der)
    }

    /// The DER encoding (a Name SEQUENCE).
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// Canonical comparison (RFC 5280 §7.1, simplified RFC 4518): see the module docs.
    pub fn matches(&self, other: &Dn) -> bool {
        self.rdns.len() == other.rdns.len()
            && self
                .rdns
                .iter()
                .zip(&other.rdns)
                .all(|(a, b)| canon_rdn(a) == canon_rdn(b))
    }

    /// Pattern match as strongSwan does for configured peer identities: like [`Dn::matches`],
    /// but an attribute whose value in `pattern` is exactly `*` matches any value of that type
    /// (`C=CH, O=Rampart, CN=*` accepts every CN under that O).
    pub fn matches_pattern(&self, pattern: &Dn) -> bool {
        let wild = |a: &Ava| a.canon == Canon::Str("*".into());
        self.rdns.len() == pattern.rdns.len()
            && self.rdns.iter().zip(&pattern.rdns).all(|(a, p)| {
                a.len() == p.len() && {
                    let mut a: Vec<_> = a.iter().collect();
                    let mut p: Vec<_> = p.iter().collect();
                    a.sort_by(|x, y| (x.oid, &x.canon).cmp(&(y.oid, &y.canon)));
                    p.sort_by(|x, y| (x.oid, &x.canon).cmp(&(y.oid, &y.canon)));
                    a.iter()
                        .zip(&p)
                        .all(|(x, y)| x.oid == y.oid && (wild(y) || x.canon == y.canon))
                }
            })
    }

    /// The values of every commonName attribute, in order (strings only).
    pub fn common_names(&self) -> Vec<String> {
        self.rdns
            .iter()
            .flatten()
            .filter(|a| a.oid == OID_CN)
            .filter_map(|a| value_string(&a.value))
            .collect()
    }

    /// Number of RDNs.
    pub fn len(&self) -> usize {
        self.rdns.len()
    }

    /// True for the empty name (an empty SEQUENCE).
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// The attributes as (OID, Any value), RDN by RDN, for conversions (issuance).
    pub(crate) fn attributes(&self) -> Vec<Vec<(ObjectIdentifier, &Any)>> {
        self.rdns
            .iter()
            .map(|r| r.iter().map(|a| (a.oid, &a.value)).collect())
            .collect()
    }
}

impl PartialEq for Dn {
    fn eq(&self, other: &Dn) -> bool {
        self.matches(other)
    }
}

impl Eq for Dn {}

impl FromStr for Dn {
    type Err = PkiError;
    fn from_str(s: &str) -> Result<Dn, PkiError> {
        Dn::parse(s)
    }
}

impl fmt::Display for Dn {
    /// strongSwan's text form, RDNs in DER order: `C=CH, O=Rampart, CN=moon`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            for (j, ava) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                match attr_name(&ava.oid) {
                    Some(n) => f.write_str(n)?,
                    None => write!(f, "{}", ava.oid)?,
                }
                f.write_str("=")?;
                match value_string(&ava.value) {
                    Some(s) => f.write_str(&escape(&s))?,
                    None => match ava.value.to_der() {
                        Ok(der) => write!(f, "#{}", hex(&der))?,
                        Err(_) => f.write_str("#?")?,
                    },
                }
            }
        }
        Ok(())
    }
}

/// Parses a DN in text form into its DER encoding (see [`Dn::parse`]).
pub fn parse_dn(text: &str) -> Result<Vec<u8>, PkiError> {
    Dn::parse(text).map(|d| d.der)
}

/// Renders DER as strongSwan-style text (see [`Dn`]'s `Display`).
pub fn dn_to_string(der: &[u8]) -> Result<String, PkiError> {
    Dn::from_der(der).map(|d| d.to_string())
}

fn ava_from(a: &AttributeTypeAndValue) -> Ava {
    let canon = match value_string(&a.value) {
        Some(s) => Canon::Str(prepare(&s)),
        None => Canon::Raw(a.value.to_der().unwrap_or_default()),
    };
    Ava {
        oid: a.oid,
        value: a.value.clone(),
        canon,
    }
}

fn canon_rdn(r: &[Ava]) -> Vec<(ObjectIdentifier, &Canon)> {
    let mut v: Vec<_> = r.iter().map(|a| (a.oid, &a.canon)).collect();
    v.sort();
    v
}

/// Simplified RFC 4518 §2 string preparation: trim, collapse inner spaces, case fold.
fn prepare(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The text of a string-typed attribute value (RFC 5280 DirectoryString and friends).
fn value_string(v: &Any) -> Option<String> {
    let b = v.value();
    match v.tag() {
        Tag::PrintableString
        | Tag::Utf8String
        | Tag::Ia5String
        | Tag::VisibleString
        | Tag::NumericString => String::from_utf8(b.to_vec()).ok(),
        // T.61: in practice Latin-1 (RFC 5280 §4.1.2.4 legacy).
        Tag::TeletexString => Some(b.iter().map(|&c| char::from(c)).collect()),
        Tag::BmpString => {
            if b.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = b
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// PrintableString characters (RFC 5280 Appendix A, X.680 §41.4).
fn is_printable(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
}

/// Chooses the string type as strongSwan does and encodes the value.
fn encode_value(oid: ObjectIdentifier, s: &str) -> Result<Any, String> {
    let tag = if oid == OID_EMAIL {
        if !s.is_ascii() {
            return Err("an email address must be ASCII (IA5String)".into());
        }
        Tag::Ia5String
    } else if is_printable(s) {
        Tag::PrintableString
    } else {
        Tag::Utf8String
    };
    Any::new(tag, s.as_bytes()).map_err(|e| e.to_string())
}

fn attr_oid(key: &str) -> Option<ObjectIdentifier> {
    for (name, oid, aliases) in ATTRS {
        if name.eq_ignore_ascii_case(key) || aliases.iter().any(|a| a.eq_ignore_ascii_case(key)) {
            return ObjectIdentifier::new(oid).ok();
        }
    }
    let dotted = key
        .strip_prefix("OID.")
        .or_else(|| key.strip_prefix("oid."))
        .unwrap_or(key);
    if dotted.starts_with(|c: char| c.is_ascii_digit()) {
        ObjectIdentifier::new(dotted).ok()
    } else {
        None
    }
}

fn attr_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    ATTRS
        .iter()
        .find(|(_, o, _)| ObjectIdentifier::new(o).ok().as_ref() == Some(oid))
        .map(|(n, _, _)| *n)
}

/// RFC 4514 §2.4 escaping of a value for the text form.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let n = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i + 1 == n => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

enum Value {
    Text(String),
    Hex(Vec<u8>),
}

type Rdn = Vec<(String, Value)>;

/// Splits the text into RDNs of (key, value), resolving escapes.
fn lex(text: &str) -> Result<Vec<Rdn>, String> {
    if text.trim().is_empty() {
        return Err("empty".into());
    }
    let mut rdns: Vec<Rdn> = Vec::new();
    let mut rdn: Rdn = Vec::new();
    // Current attribute: key (None until '=' seen), value bytes, and how many trailing value
    // bytes are unescaped spaces (dropped at the end).
    let mut key = String::new();
    let mut in_value = false;
    let mut value: Vec<u8> = Vec::new();
    let mut value_started = false;
    let mut trailing = 0usize;
    let mut hex_value = false;
    let mut chars = text.chars().peekable();

    let finish = |key: &mut String,
                  in_value: &mut bool,
                  value: &mut Vec<u8>,
                  value_started: &mut bool,
                  trailing: &mut usize,
                  hex_value: &mut bool|
     -> Result<(String, Value), String> {
        if !*in_value {
            return Err(if key.trim().is_empty() {
                "empty attribute (stray separator?)".into()
            } else {
                format!("missing '=' after {:?}", key.trim())
            });
        }
        let k = key.trim().to_string();
        if k.is_empty() {
            return Err("missing attribute name before '='".into());
        }
        value.truncate(value.len().saturating_sub(*trailing));
        let v = core::mem::take(value);
        let out = if *hex_value {
            let h = String::from_utf8(v).map_err(|_| "bad #hex value".to_string())?;
            let h = h.trim().trim_start_matches('#');
            Value::Hex(unhex(h).ok_or("bad #hex value")?)
        } else {
            Value::Text(String::from_utf8(v).map_err(|_| "value is not UTF-8".to_string())?)
        };
        key.clear();
        *in_value = false;
        *value_started = false;
        *trailing = 0;
        *hex_value = false;
        Ok((k, out))
    };

    while let Some(c) = chars.next() {
        match c {
            ',' | '+' => {
                let ava = finish(
                    &mut key,
                    &mut in_value,
                    &mut value,
                    &mut value_started,
                    &mut trailing,
                    &mut hex_value,
                )?;
                rdn.push(ava);
                if c == ',' {
                    rdns.push(core::mem::take(&mut rdn));
                }
            }
            '=' if !in_value => in_value = true,
            '\\' => {
                let next = chars.next().ok_or("dangling '\\' at the end")?;
                let byte_esc = if next.is_ascii_hexdigit() {
                    let lo = chars
                        .next()
                        .filter(|c| c.is_ascii_hexdigit())
                        .ok_or("'\\' must be followed by a special character or two hex digits")?;
                    let b = (next.to_digit(16).unwrap_or(0) << 4) | lo.to_digit(16).unwrap_or(0);
                    Some(b as u8)
                } else if ",+\"\\=;<># ".contains(next) {
                    None
                } else {
                    return Err(format!("'\\{next}' is not an escape"));
                };
                if !in_value {
                    return Err("escapes are only allowed in values".into());
                }
                value_started = true;
                trailing = 0;
                match byte_esc {
                    Some(b) => value.push(b),
                    None => {
                        let mut buf = [0u8; 4];
                        value.extend_from_slice(next.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            c if !in_value => key.push(c),
            ' ' if !value_started => {}
            c => {
                if !value_started && c == '#' {
                    hex_value = true;
                }
                value_started = true;
                let mut buf = [0u8; 4];
                value.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                trailing = if c == ' ' { trailing + 1 } else { 0 };
            }
        }
    }
    let ava = finish(
        &mut key,
        &mut in_value,
        &mut value,
        &mut value_started,
        &mut trailing,
        &mut hex_value,
    )?;
    rdn.push(ava);
    rdns.push(rdn);
    Ok(rdns)
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

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongswan_encoding_of_a_simple_dn() {
        // What `pki --self --dn "C=CH, O=Rampart, CN=Rampart CA"` wrote (openssl asn1parse):
        // three RDNs, each a PrintableString.
        let der = parse_dn("C=CH, O=Rampart, CN=Rampart CA").unwrap();
        let expect = "3034310b3009060355040613024348\
                      3110300e060355040a130752616d70617274\
                      31133011060355040313 0a52616d70617274204341"
            .replace(' ', "");
        assert_eq!(hex(&der), expect);
        assert_eq!(
            dn_to_string(&der).unwrap(),
            "C=CH, O=Rampart, CN=Rampart CA"
        );
    }

    #[test]
    fn string_types() {
        let dn = Dn::parse("CN=müller_x, E=a@b.example, OU=a_b, O=x y").unwrap();
        let tags: Vec<Tag> = dn.rdns.iter().map(|r| r[0].value.tag()).collect();
        assert_eq!(
            tags,
            [
                Tag::Utf8String,
                Tag::Ia5String,
                Tag::Utf8String,
                Tag::PrintableString
            ]
        );
        assert!(Dn::parse("E=ü@b.example").is_err());
    }

    #[test]
    fn escaping_round_trips() {
        for text in [
            r#"CN=a\,b, O=x\+y, OU=say \"hi\", L=back\\slash"#,
            r"CN=\#hash, O=\ lead and trail\ ",
            "OU=Sales+CN=J. Smith, DC=example",
            "C=CH, O=Rampart, CN=moon.example.org",
            "CN=tab\\09here",
        ] {
            let dn = Dn::parse(text).unwrap();
            let printed = dn.to_string();
            let again = Dn::parse(&printed).unwrap();
            assert_eq!(again.as_der(), dn.as_der(), "{text} -> {printed}");
        }
        let dn = Dn::parse(r#"CN=a\,b, O=x\+y, OU=say \"hi\", L=back\\slash"#).unwrap();
        assert_eq!(dn.len(), 4);
        assert_eq!(dn.common_names(), ["a,b"]);
        assert_eq!(
            dn.to_string(),
            r#"CN=a\,b, O=x\+y, OU=say \"hi\", L=back\\slash"#
        );
        let multi = Dn::parse("OU=Sales+CN=J. Smith, DC=example").unwrap();
        assert_eq!(multi.len(), 2);
        assert_eq!(multi.rdns[0].len(), 2);
        // Hex escapes give UTF-8 octets.
        assert_eq!(
            Dn::parse(r"CN=m\c3\bcller").unwrap(),
            Dn::parse("CN=müller").unwrap()
        );
    }

    #[test]
    fn hex_values_and_oids() {
        let a = Dn::parse("2.5.4.3=#0c046d6f6f6e").unwrap();
        let b = Dn::parse("CN=moon").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.as_der(), b.as_der()); // UTF8String vs PrintableString
        assert_eq!(a.to_string(), "CN=moon");
        let c = Dn::parse("OID.1.2.3.4=x, CN=y").unwrap();
        assert_eq!(c.to_string(), "1.2.3.4=x, CN=y");
        // A non-string value prints as hex DER and reads back.
        let d = Dn::parse("1.2.3.4=#020105").unwrap();
        assert_eq!(d.to_string(), "1.2.3.4=#020105");
    }

    #[test]
    fn bad_text() {
        for bad in [
            "",
            "CN",
            "CN=a,",
            ",CN=a",
            "XX=a",
            "CN=a\\",
            "CN=a\\q",
            "CN=#zz",
            "=a",
            "CN=a++O=b",
        ] {
            assert!(Dn::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn canonical_comparison() {
        let a = Dn::parse("C=CH, O=Rampart, CN=Moon  Example").unwrap();
        assert!(a.matches(&Dn::parse("c=ch,o=RAMPART,cn=moon example").unwrap()));
        assert!(!a.matches(&Dn::parse("C=CH, O=Rampart").unwrap()));
        assert!(!a.matches(&Dn::parse("C=CH, CN=Moon Example, O=Rampart").unwrap()));
        assert!(!a.matches(&Dn::parse("C=CH, O=Rampart, CN=Moon").unwrap()));
        // Multi-valued RDNs compare as sets.
        assert_eq!(
            Dn::parse("OU=a+CN=b").unwrap(),
            Dn::parse("CN=b+OU=a").unwrap()
        );
        assert_ne!(
            Dn::parse("OU=a+CN=b").unwrap(),
            Dn::parse("OU=a, CN=b").unwrap()
        );
    }

    #[test]
    fn wildcard_patterns() {
        let p = Dn::parse("C=CH, O=Rampart, CN=*").unwrap();
        assert!(Dn::parse("C=CH, O=Rampart, CN=carol")
            .unwrap()
            .matches_pattern(&p));
        assert!(!Dn::parse("C=CH, O=Other, CN=carol")
            .unwrap()
            .matches_pattern(&p));
        assert!(!Dn::parse("C=CH, O=Rampart").unwrap().matches_pattern(&p));
    }

    #[test]
    fn garbage_der_is_an_error() {
        assert!(Dn::from_der(&[0x30, 0x05, 0x31]).is_err());
        assert!(Dn::from_der(&[]).is_err());
        assert!(Dn::from_der(&[0x04, 0x00]).is_err());
    }
}
