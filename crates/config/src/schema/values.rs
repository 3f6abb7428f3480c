//! Converters for single values (addresses, identities, selectors, proposals, keywords,
//! durations, names). Each reports its own error with the value's span and key path.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use crypto::proposal::Protocol;
use crypto::ProposalSpec;
use toml::de::DeValue;
use wire::{Identity, TrafficSelector};

use crate::duration::{parse_duration, DURATION_ALLOWED};
use crate::types::{RemoteAddr, TsSpec};
use crate::walk::{as_str, Ctx, Span, Value};

/// What an identity may look like.
pub(crate) const ID_ALLOWED: &str = "an FQDN, user@host, an IP address, a DN like \
     \"C=CH, O=Rampart, CN=moon\", @#hex key id, or a fqdn:/email:/ipv4:/ipv6:/keyid:/dn: prefix";

/// What a traffic selector may look like.
const TS_ALLOWED: &str = "a prefix like 203.0.113.0/24, a range like 192.0.2.1-192.0.2.9 or an \
     address, each optionally followed by [proto/port], or \"dynamic\"";

/// Longest name of a connection, child or secret.
const MAX_NAME: usize = 64;

/// The text of a wire/crypto error without its generic `invalid <thing>: ` prefix.
fn detail(e: &impl ToString, prefixes: &[&str]) -> String {
    let mut s = e.to_string();
    for p in prefixes {
        if let Some(rest) = s.strip_prefix(p) {
            s = rest.to_string();
        }
    }
    s
}

/// Checks a connection, child or secret name (it appears in the CLI and the control protocol).
pub(crate) fn check_name(ctx: &mut Ctx<'_>, name: &str, span: &Span, path: &str) -> bool {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        ctx.error(
            span,
            path,
            format!(
                "invalid name '{}' (allowed: 1 to {MAX_NAME} letters, digits, '_' or '-')",
                name.escape_default()
            ),
        );
    }
    ok
}

/// An IP address, refusing duplicates already in `seen`.
pub(crate) fn ip_addr(
    ctx: &mut Ctx<'_>,
    i: usize,
    s: &str,
    span: &Span,
    path: &str,
    seen: &mut Vec<(usize, IpAddr)>,
) -> Option<IpAddr> {
    let Ok(a) = IpAddr::from_str(s.trim()) else {
        ctx.error(
            span,
            path,
            format!(
                "'{}' is not an IP address (allowed: an IPv4 or IPv6 address, e.g. 192.0.2.1 \
                 or 2001:db8::1)",
                s.escape_default()
            ),
        );
        return None;
    };
    duplicate_check(ctx, span, path, seen, (i, a), |a| {
        format!("duplicate address {a}")
    })
}

/// An entry of `remote_addrs`: an IP address or `%any`.
pub(crate) fn remote_addr(
    ctx: &mut Ctx<'_>,
    i: usize,
    s: &str,
    span: &Span,
    path: &str,
    seen: &mut Vec<(usize, RemoteAddr)>,
) -> Option<RemoteAddr> {
    let r = if s.trim() == "%any" {
        RemoteAddr::Any
    } else if let Ok(a) = IpAddr::from_str(s.trim()) {
        RemoteAddr::Addr(a)
    } else {
        ctx.error(
            span,
            path,
            format!(
                "'{}' is not an IP address (allowed: an IPv4 or IPv6 address, or \"%any\")",
                s.escape_default()
            ),
        );
        return None;
    };
    duplicate_check(ctx, span, path, seen, (i, r), |r| match r {
        RemoteAddr::Any => "duplicate \"%any\"".to_string(),
        RemoteAddr::Addr(a) => format!("duplicate address {a}"),
    })
}

/// Refuses `v` when an equal value is in `seen` (pairs of list index and value).
fn duplicate_check<T: PartialEq + Copy>(
    ctx: &mut Ctx<'_>,
    span: &Span,
    path: &str,
    seen: &mut Vec<(usize, T)>,
    (i, v): (usize, T),
    msg: impl Fn(&T) -> String,
) -> Option<T> {
    if let Some((j, _)) = seen.iter().find(|(_, x)| *x == v) {
        let list = path.rsplit_once('[').map_or(path, |(p, _)| p);
        ctx.error(span, path, format!("{} (already at {list}[{j}])", msg(&v)));
        return None;
    }
    seen.push((i, v));
    Some(v)
}

/// An identity (RFC 7296 §3.5); `%any` gives `Ok(None)` when `allow_any`.
pub(crate) fn identity(
    ctx: &mut Ctx<'_>,
    s: &str,
    span: &Span,
    path: &str,
    allow_any: bool,
) -> Option<Option<Identity>> {
    if s.trim() == "%any" {
        if allow_any {
            return Some(None);
        }
        ctx.error(
            span,
            path,
            format!("\"%any\" is not allowed here (allowed: {ID_ALLOWED})"),
        );
        return None;
    }
    match pki::identity_from_str(s) {
        Ok(id) => Some(Some(id)),
        Err(e) => {
            let why = match &e {
                pki::PkiError::BadIdentity { reason, .. } => {
                    detail(reason, &["invalid ", "identity: "])
                }
                pki::PkiError::BadDn { reason, .. } => {
                    format!("bad distinguished name: {reason}")
                }
                other => other.to_string(),
            };
            ctx.error(
                span,
                path,
                format!(
                    "invalid identity '{}': {why} (allowed: {ID_ALLOWED}{})",
                    s.escape_default(),
                    if allow_any { ", or \"%any\"" } else { "" }
                ),
            );
            None
        }
    }
}

/// A traffic selector or `dynamic` (RFC 7296 §3.13.1).
pub(crate) fn ts_spec(ctx: &mut Ctx<'_>, s: &str, span: &Span, path: &str) -> Option<TsSpec> {
    if s.trim() == "dynamic" {
        return Some(TsSpec::Dynamic);
    }
    match TrafficSelector::from_str(s) {
        Ok(ts) => Some(TsSpec::Ts(ts)),
        Err(e) => {
            ctx.error(
                span,
                path,
                format!(
                    "invalid traffic selector '{}': {} (allowed: {TS_ALLOWED})",
                    s.escape_default(),
                    detail(&e, &["invalid ", "traffic selector: "]),
                ),
            );
            None
        }
    }
}

/// A proposal in strongSwan syntax (RFC 7296 §3.3).
pub(crate) fn proposal(
    ctx: &mut Ctx<'_>,
    protocol: Protocol,
    s: &str,
    span: &Span,
    path: &str,
) -> Option<ProposalSpec> {
    match ProposalSpec::parse(protocol, s) {
        Ok(p) => Some(p),
        Err(e) => {
            ctx.error(
                span,
                path,
                format!("invalid proposal '{}': {e}", s.escape_default()),
            );
            None
        }
    }
}

/// One of a fixed set of keywords. `later` are known values not supported yet.
pub(crate) fn keyword<T: Copy>(
    ctx: &mut Ctx<'_>,
    v: &Value<'_>,
    path: &str,
    allowed: &[(&str, T)],
    later: &[&str],
) -> Option<T> {
    let s = as_str(ctx, v, path)?;
    if let Some((_, t)) = allowed.iter().find(|(k, _)| *k == s) {
        return Some(*t);
    }
    let names: Vec<&str> = allowed.iter().map(|(k, _)| *k).collect();
    let what = if later.contains(&s) {
        format!("'{s}' is not supported yet")
    } else {
        format!("unknown value '{}'", s.escape_default())
    };
    ctx.error(
        &v.span(),
        path,
        format!("{what} (allowed: {})", names.join(", ")),
    );
    None
}

/// A duration: integer seconds or a string with a unit.
pub(crate) fn duration(ctx: &mut Ctx<'_>, v: &Value<'_>, path: &str) -> Option<Duration> {
    let parsed = match v.get_ref() {
        DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(Duration::from_secs),
        DeValue::String(s) => parse_duration(s),
        other => {
            ctx.error(
                &v.span(),
                path,
                format!("expected {DURATION_ALLOWED}, found {}", other.type_str()),
            );
            return None;
        }
    };
    if parsed.is_none() {
        let shown = match v.get_ref() {
            DeValue::Integer(i) => i.to_string(),
            DeValue::String(s) => format!("'{}'", s.escape_default()),
            _ => String::new(),
        };
        ctx.error(
            &v.span(),
            path,
            format!("invalid duration {shown} (allowed: {DURATION_ALLOWED})"),
        );
    }
    parsed
}
