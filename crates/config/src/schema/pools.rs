//! `[pools.NAME]`: address pools for virtual IPs (RFC 7296 §2.19, §3.15).

use std::net::IpAddr;
use std::str::FromStr;

use super::values;
use crate::types::{Pool, PoolRange};
use crate::walk::{as_bool, as_str, as_table, Ctx, Span, Table};

const POOL_KEYS: &[&str] = &["addrs", "masquerade"];

/// What `addrs` may look like.
const ADDRS_ALLOWED: &str = "a CIDR like \"198.51.100.128/25\" or \"2001:db8:feed::/112\", or a \
     range like \"192.0.2.10-192.0.2.20\"";

/// Every `[pools.NAME]`, in file order. Pools must not overlap.
pub(super) fn parse_pools(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> Vec<Pool> {
    let mut out: Vec<Pool> = Vec::new();
    for (k, v) in t.entries_in_file_order() {
        let name: &str = k.get_ref();
        let path = t.path_of(name);
        let Some(pt) = as_table(ctx, v, &path) else {
            continue;
        };
        let name_ok = values::check_name(ctx, name, &k.span(), &path);
        pt.check_keys(ctx, POOL_KEYS);
        let addrs = match pt.get("addrs") {
            Some(v) => {
                let p = pt.path_of("addrs");
                as_str(ctx, v, &p).and_then(|s| pool_range(ctx, s, &v.span(), &p))
            }
            None => {
                pt.missing(ctx, "addrs", ADDRS_ALLOWED);
                None
            }
        };
        let masquerade = match pt.get("masquerade") {
            Some(v) => as_bool(ctx, v, &pt.path_of("masquerade")),
            None => Some(false),
        };
        let (Some(addrs), Some(masquerade)) = (addrs, masquerade) else {
            continue;
        };
        if let Some(other) = out.iter().find(|o| o.addrs.overlaps(&addrs)) {
            let span = pt.get("addrs").map_or(pt.span.clone(), |v| v.span());
            ctx.error(
                &span,
                &pt.path_of("addrs"),
                format!(
                    "{} overlaps {} ({}); an address can be in one pool only",
                    addrs,
                    t.path_of(&other.name),
                    other.addrs
                ),
            );
            continue;
        }
        if name_ok {
            out.push(Pool {
                name: name.to_string(),
                addrs,
                masquerade,
            });
        }
    }
    out
}

/// `"a.b.c.d/n"`, `"x::/n"` or `"first-last"`.
pub(crate) fn pool_range(ctx: &mut Ctx<'_>, s: &str, span: &Span, path: &str) -> Option<PoolRange> {
    let bad = |ctx: &mut Ctx<'_>, why: &str| {
        ctx.error(
            span,
            path,
            format!(
                "invalid pool '{}': {why} (allowed: {ADDRS_ALLOWED})",
                s.escape_default()
            ),
        );
        None
    };
    let t = s.trim();
    if let Some((a, len)) = t.split_once('/') {
        let Ok(addr) = IpAddr::from_str(a.trim()) else {
            return bad(ctx, "not an IP address before '/'");
        };
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let Ok(len) = len.trim().parse::<u8>() else {
            return bad(ctx, "the prefix length is not a number");
        };
        if len > max {
            return bad(ctx, &format!("the prefix length is more than {max}"));
        }
        let host_bits = u32::from(max - len);
        let (net, last) = match addr {
            IpAddr::V4(v) => {
                let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
                let net = u32::from(v) & mask;
                (IpAddr::V4(net.into()), IpAddr::V4((net | !mask).into()))
            }
            IpAddr::V6(v) => {
                let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
                let net = u128::from(v) & mask;
                (IpAddr::V6(net.into()), IpAddr::V6((net | !mask).into()))
            }
        };
        if net != addr {
            return bad(
                ctx,
                &format!("host bits are set (the network is {net}/{len})"),
            );
        }
        let whole = PoolRange {
            text: t.to_string(),
            first: net,
            last,
            prefix: Some((net, len)),
        };
        // Leave out the network address (and the IPv4 broadcast address) when there is room:
        // neither can be a host's address (RFC 919, RFC 4291 §2.6.1 subnet-router anycast).
        let (skip_first, skip_last) = match (addr.is_ipv4(), host_bits) {
            (_, 0 | 1) => (0, 0),
            (true, _) => (1, 1),
            (false, _) => (1, 0),
        };
        let first = whole.nth(skip_first)?;
        let last = whole.nth(whole.size().checked_sub(1 + skip_last)?)?;
        return Some(PoolRange {
            first,
            last,
            ..whole
        });
    }
    if let Some((a, b)) = t.split_once('-') {
        let (Ok(first), Ok(last)) = (IpAddr::from_str(a.trim()), IpAddr::from_str(b.trim())) else {
            return bad(ctx, "not two IP addresses around '-'");
        };
        if first.is_ipv4() != last.is_ipv4() {
            return bad(ctx, "the two addresses are of different families");
        }
        let r = PoolRange {
            text: t.to_string(),
            first,
            last,
            prefix: None,
        };
        if !r.contains(last) || !r.contains(first) {
            return bad(ctx, "the first address is above the last");
        }
        return Some(r);
    }
    bad(ctx, "neither a CIDR nor a range")
}
