//! Values of `[daemon]` that need more than a keyword: per-subsystem log levels, the control
//! group's name and the metrics endpoint's address.

use std::net::SocketAddr;

use crate::types::{LogLevel, Subsystem};
use crate::walk::{Ctx, Span};

use super::LOG_LEVELS;

/// Longest group name accepted (what `useradd`/`groupadd` allow by default).
const MAX_GROUP: usize = 32;

fn level_names() -> String {
    LOG_LEVELS
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

fn subsystem_names() -> String {
    Subsystem::ALL
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"info,ike=debug,esp=warn"`: a default level (optional, default `info`) and
/// `SUBSYSTEM=LEVEL` items, comma-separated.
pub(crate) fn log_levels(
    ctx: &mut Ctx<'_>,
    s: &str,
    span: &Span,
    path: &str,
) -> Option<(LogLevel, Vec<(Subsystem, LogLevel)>)> {
    let level = |ctx: &mut Ctx<'_>, word: &str, what: &str| {
        let found = LOG_LEVELS.iter().find(|(k, _)| *k == word).map(|(_, l)| *l);
        if found.is_none() {
            ctx.error(
                span,
                path,
                format!(
                    "unknown level '{}'{what} (allowed: {})",
                    word.escape_default(),
                    level_names()
                ),
            );
        }
        found
    };
    let mut default = None;
    let mut subs: Vec<(Subsystem, LogLevel)> = Vec::new();
    let mut ok = true;
    for item in s.split(',').map(str::trim) {
        match item.split_once('=') {
            None if item.is_empty() => {
                ctx.error(
                    span,
                    path,
                    format!(
                        "empty item in '{}' (allowed: a level, then SUBSYSTEM=LEVEL items, \
                         e.g. \"info,ike=debug\")",
                        s.escape_default()
                    ),
                );
                ok = false;
            }
            None => {
                if default.is_some() {
                    ctx.error(
                        span,
                        path,
                        format!(
                            "more than one default level in '{}' (allowed: one level, then \
                             SUBSYSTEM=LEVEL items, e.g. \"info,ike=debug\")",
                            s.escape_default()
                        ),
                    );
                    ok = false;
                }
                match level(ctx, item, "") {
                    Some(l) => default = Some(l),
                    None => ok = false,
                }
            }
            Some((name, lvl)) => {
                let (name, lvl) = (name.trim(), lvl.trim());
                let Some(sub) = Subsystem::ALL
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, s)| *s)
                else {
                    ctx.error(
                        span,
                        path,
                        format!(
                            "unknown subsystem '{}' (allowed: {})",
                            name.escape_default(),
                            subsystem_names()
                        ),
                    );
                    ok = false;
                    continue;
                };
                if subs.iter().any(|(s, _)| *s == sub) {
                    ctx.error(
                        span,
                        path,
                        format!("subsystem '{name}' is given twice (allowed: once each)"),
                    );
                    ok = false;
                    continue;
                }
                match level(ctx, lvl, &format!(" for '{name}'")) {
                    Some(l) => subs.push((sub, l)),
                    None => ok = false,
                }
            }
        }
    }
    ok.then(|| (default.unwrap_or(LogLevel::Info), subs))
}

/// A Unix group name (`daemon.control_group`); whether the group exists is checked by the
/// daemon when it opens the socket.
pub(crate) fn group_name(ctx: &mut Ctx<'_>, s: &str, span: &Span, path: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= MAX_GROUP
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        return Some(s.to_string());
    }
    ctx.error(
        span,
        path,
        format!(
            "invalid group name '{}' (allowed: 1 to {MAX_GROUP} letters, digits, '_', '-' or \
             '.', not starting with '-')",
            s.escape_default()
        ),
    );
    None
}

/// `IP:port` of the metrics endpoint; port 0 is refused.
pub(crate) fn listen_addr(
    ctx: &mut Ctx<'_>,
    s: &str,
    span: &Span,
    path: &str,
) -> Option<SocketAddr> {
    match s.parse::<SocketAddr>() {
        Ok(a) if a.port() != 0 => Some(a),
        _ => {
            ctx.error(
                span,
                path,
                format!(
                    "invalid address '{}' (allowed: IP:port with a port from 1 to 65535, e.g. \
                     \"127.0.0.1:9781\" or \"[::1]:9781\")",
                    s.escape_default()
                ),
            );
            None
        }
    }
}
