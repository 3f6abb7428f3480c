//! A connection's road-warrior keys: `pools`, `dns` and `vips` (configuration payloads,
//! RFC 7296 §2.19, §3.15), and the rules of EAP-MSCHAPv2 authentication (RFC 7296 §2.16).

use std::net::IpAddr;

use super::values;
use crate::types::{AuthConfig, AuthMethod, EapSecret, Pool};
use crate::walk::{string_list, Ctx, Span, Table};

/// `pools`, `dns` and `vips` of connection table `t` (each `None` when wrong). `pools` must
/// name `[pools.*]` tables; `dns` goes with `pools`; `vips` (initiator) excludes `pools`
/// (responder) and holds at most one address per family.
#[allow(clippy::type_complexity)]
pub(super) fn cp_keys(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    defined: &[Pool],
) -> (
    Option<Vec<String>>,
    Option<Vec<IpAddr>>,
    Option<Vec<IpAddr>>,
) {
    let pools = match t.get("pools") {
        Some(v) => {
            let mut seen: Vec<(usize, String)> = Vec::new();
            string_list(
                ctx,
                v,
                &t.path_of("pools"),
                true,
                "pool names",
                |ctx, i, s, span, p| pool_name(ctx, i, s, span, p, defined, &mut seen),
            )
        }
        None => Some(Vec::new()),
    };
    let addrs = |ctx: &mut Ctx<'_>, key: &str| match t.get(key) {
        Some(v) => {
            let mut seen = Vec::new();
            string_list(
                ctx,
                v,
                &t.path_of(key),
                true,
                "IP addresses",
                |ctx, i, s, span, p| values::ip_addr(ctx, i, s, span, p, &mut seen),
            )
        }
        None => Some(Vec::new()),
    };
    let mut dns = addrs(ctx, "dns");
    let mut vips = addrs(ctx, "vips");
    let has_pools = pools.as_ref().is_some_and(|p| !p.is_empty());
    if let (Some(d), Some(v)) = (&dns, t.get("dns")) {
        if !d.is_empty() && !has_pools && t.get("pools").is_none() {
            ctx.error(
                &v.span(),
                &t.path_of("dns"),
                "DNS servers are sent to clients with their virtual IPs, but this connection \
                 has no 'pools' (add pools = [\"NAME\"] or remove dns)",
            );
            dns = None;
        }
    }
    if let (Some(list), Some(v)) = (&vips, t.get("vips")) {
        if has_pools && !list.is_empty() {
            ctx.error(
                &v.span(),
                &t.path_of("vips"),
                "a connection either hands out virtual IPs (pools, as a server) or asks for \
                 them (vips, as a client), not both",
            );
            vips = None;
        } else if list.iter().filter(|a| a.is_ipv4()).count() > 1
            || list.iter().filter(|a| a.is_ipv6()).count() > 1
        {
            ctx.error(
                &v.span(),
                &t.path_of("vips"),
                "at most one address per family (allowed: \"0.0.0.0\" and/or \"::\" for any \
                 address, or a specific one)",
            );
            vips = None;
        }
    }
    (pools, dns, vips)
}

fn pool_name(
    ctx: &mut Ctx<'_>,
    i: usize,
    s: &str,
    span: &Span,
    path: &str,
    defined: &[Pool],
    seen: &mut Vec<(usize, String)>,
) -> Option<String> {
    if !defined.iter().any(|p| p.name == s) {
        let names: Vec<&str> = defined.iter().map(|p| p.name.as_str()).collect();
        ctx.error(
            span,
            path,
            format!(
                "no pool named '{}' (defined: {})",
                s.escape_default(),
                if names.is_empty() {
                    "none; add a [pools.NAME] table with addrs = \"...\"".to_string()
                } else {
                    names.join(", ")
                }
            ),
        );
        return None;
    }
    if let Some((j, _)) = seen.iter().find(|(_, x)| x == s) {
        let list = path.rsplit_once('[').map_or(path, |(p, _)| p);
        ctx.error(
            span,
            path,
            format!("duplicate pool '{s}' (already at {list}[{j}])"),
        );
        return None;
    }
    seen.push((i, s.to_string()));
    Some(s.to_string())
}

/// The span of `local.auth` / `remote.auth`, for messages.
fn auth_span(t: &Table<'_, '_>, side: &str) -> Option<(Span, String)> {
    let toml::de::DeValue::Table(st) = t.get(side)?.get_ref() else {
        return None;
    };
    st.iter()
        .find(|(k, _)| k.get_ref() == "auth")
        .map(|(_, v)| (v.span(), crate::walk::join(&t.path_of(side), "auth")))
}

/// EAP-MSCHAPv2 (RFC 7296 §2.16): the server authenticates with a certificate, so the side
/// facing an EAP peer must use `pubkey`; a client's EAP user needs a `[secrets.eap.*]`
/// password. False when something was wrong (already reported).
pub(super) fn check_eap(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    local: &AuthConfig,
    remote: &AuthConfig,
    eap_secrets: &[EapSecret],
) -> bool {
    let mut ok = true;
    if remote.auth == AuthMethod::EapMschapv2 && local.auth != AuthMethod::Pubkey {
        if let Some((span, path)) = auth_span(t, "local") {
            ctx.error(
                &span,
                &path,
                format!(
                    "with remote.auth = \"eap-mschapv2\" we are the EAP server and must prove \
                     ourselves with a certificate (allowed: pubkey; found {})",
                    local.auth.as_str()
                ),
            );
        }
        ok = false;
    }
    if local.auth == AuthMethod::EapMschapv2 {
        if remote.auth != AuthMethod::Pubkey {
            if let Some((span, path)) = auth_span(t, "remote") {
                ctx.error(
                    &span,
                    &path,
                    format!(
                        "with local.auth = \"eap-mschapv2\" the server must prove itself with a \
                         certificate (allowed: pubkey; found {})",
                        remote.auth.as_str()
                    ),
                );
            }
            ok = false;
        }
        let user = local
            .eap_id
            .clone()
            .or_else(|| local.id.as_ref().map(ToString::to_string));
        let span = auth_span(t, "local")
            .map(|(s, _)| s)
            .unwrap_or(t.span.clone());
        let local_path = t.path_of("local");
        match user {
            None => {
                ctx.error(
                    &span,
                    &local_path,
                    "missing required key 'eap_id' (our EAP user name; its password is the \
                     [secrets.eap.NAME] entry with that user)",
                );
                ok = false;
            }
            Some(u) if !eap_secrets.iter().any(|e| e.user == u) => {
                ctx.error(
                    &span,
                    &local_path,
                    format!(
                        "no password for EAP user '{}' (add a [secrets.eap.NAME] table with \
                         user = \"{}\" and secret or secret_file)",
                        u.escape_default(),
                        u.escape_default()
                    ),
                );
                ok = false;
            }
            Some(_) => {}
        }
    }
    ok
}
