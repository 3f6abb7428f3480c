//! The schema of `rampart.toml` (docs/config.md): the document root and `[daemon]`; connections
//! and secrets have their own modules.

mod certs;
mod child_dataplane;
mod connection;
mod daemon;
mod pools;
mod road_warrior;
mod secrets;
pub(crate) mod values;

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::error::{ConfigError, ConfigErrors, Location};
use crate::types::{Config, DaemonConfig, LogLevel};
use crate::walk::{as_bool, as_int_in, as_str, string_list, Ctx, Table};

const ROOT_KEYS: &[&str] = &["daemon", "connections", "secrets", "authorities", "pools"];
const DAEMON_KEYS: &[&str] = &[
    "control_socket",
    "tun_name",
    "ike_port",
    "natt_port",
    "log_level",
    "listen",
    "control_group",
    "metrics_listen",
    "legacy_crypto",
    "fragment_size",
    "state_dir",
];
/// Smallest `daemon.fragment_size`: the IPv4 minimum datagram every host accepts (RFC 791,
/// RFC 7383 §2.5.1).
const MIN_FRAGMENT_SIZE: i64 = 576;
pub(crate) const LOG_LEVELS: &[(&str, LogLevel)] = &[
    ("error", LogLevel::Error),
    ("warn", LogLevel::Warn),
    ("info", LogLevel::Info),
    ("debug", LogLevel::Debug),
    ("trace", LogLevel::Trace),
];
/// Linux IFNAMSIZ - 1.
const MAX_IFNAME: usize = 15;

/// Parses and validates the text `src` of the file `file`.
pub(crate) fn parse(file: &Path, src: &str) -> Result<Config, ConfigErrors> {
    // Only the first syntax error: what a parser reports after one is mostly its echo.
    let doc = match DeTable::parse(src) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let mut message = format!("TOML syntax: {}", e.message());
            // A duplicate key's span is the key itself: naming it helps, and keys are never
            // secret (values are, so no other span text is ever echoed).
            if e.message() == "duplicate key" {
                if let Some(k) = src.get(span.clone()) {
                    message = format!("TOML syntax: duplicate key '{}'", k.escape_default());
                }
            }
            return Err(ConfigError {
                file: file.to_path_buf(),
                location: Some(Location::of_offset(src, span.start)),
                key: String::new(),
                message,
            }
            .into());
        }
    };
    let mut ctx = Ctx::new(file, src);
    let root = Table {
        table: doc.get_ref(),
        span: doc.span(),
        path: String::new(),
    };
    root.check_keys(&mut ctx, ROOT_KEYS);
    let daemon = match root.sub_table(&mut ctx, "daemon") {
        Some(t) => parse_daemon(&mut ctx, &t),
        None => DaemonConfig::default(),
    };
    let base_dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (authorities, have_authorities) = match root.sub_table(&mut ctx, "authorities") {
        Some(t) => (
            certs::parse_authorities(&mut ctx, &t, &base_dir),
            !t.table.is_empty(),
        ),
        None => (Vec::new(), false),
    };
    let pools = match root.sub_table(&mut ctx, "pools") {
        Some(t) => pools::parse_pools(&mut ctx, &t),
        None => Vec::new(),
    };
    let (ike_secrets, eap_secrets) = match root.sub_table(&mut ctx, "secrets") {
        Some(t) => secrets::parse_secrets(&mut ctx, &t, &base_dir),
        None => (Vec::new(), Vec::new()),
    };
    let env = connection::Env {
        legacy_crypto: daemon.legacy_crypto,
        base_dir: &base_dir,
        have_authorities,
        pools: &pools,
        eap_secrets: &eap_secrets,
    };
    let connections = match root.sub_table(&mut ctx, "connections") {
        Some(t) => connection::parse_connections(&mut ctx, &t, &env),
        None => Vec::new(),
    };
    let mut errors = ctx.errors;
    if errors.is_empty() {
        return Ok(Config {
            path: file.to_path_buf(),
            daemon,
            connections,
            ike_secrets,
            authorities,
            pools,
            eap_secrets,
        });
    }
    errors.sort_by_key(|e| e.location);
    Err(ConfigErrors { errors })
}

fn parse_daemon(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> DaemonConfig {
    t.check_keys(ctx, DAEMON_KEYS);
    let mut d = DaemonConfig::default();
    if let Some(v) = t.get("control_socket") {
        let path = t.path_of("control_socket");
        if let Some(s) = as_str(ctx, v, &path) {
            if Path::new(s).is_absolute() {
                d.control_socket = PathBuf::from(s);
            } else {
                ctx.error(
                    &v.span(),
                    &path,
                    format!(
                        "'{}' is not an absolute path (allowed: an absolute path, e.g. /run/rampart/rampart.sock)",
                        s.escape_default()
                    ),
                );
            }
        }
    }
    if let Some(v) = t.get("tun_name") {
        let path = t.path_of("tun_name");
        if let Some(s) = as_str(ctx, v, &path) {
            let ok = !s.is_empty()
                && s.len() <= MAX_IFNAME
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
            if ok {
                d.tun_name = s.to_string();
            } else {
                ctx.error(
                    &v.span(),
                    &path,
                    format!(
                        "invalid interface name '{}' (allowed: 1 to {MAX_IFNAME} printable \
                         characters without '/', ':' or spaces)",
                        s.escape_default()
                    ),
                );
            }
        }
    }
    let port = |ctx: &mut Ctx<'_>, key: &str, out: &mut u16| {
        if let Some(v) = t.get(key) {
            if let Some(n) = as_int_in(ctx, v, &t.path_of(key), 1, 65535) {
                *out = u16::try_from(n).unwrap_or(*out);
            }
        }
    };
    port(ctx, "ike_port", &mut d.ike_port);
    port(ctx, "natt_port", &mut d.natt_port);
    if d.ike_port == d.natt_port {
        let key = if t.get("natt_port").is_some() {
            "natt_port"
        } else {
            "ike_port"
        };
        if let Some(v) = t.get(key) {
            ctx.error(
                &v.span(),
                &t.path_of(key),
                format!(
                    "ike_port and natt_port must differ (both are {}; NAT-T needs its own port, \
                     RFC 3948)",
                    d.ike_port
                ),
            );
        }
    }
    if let Some(v) = t.get("log_level") {
        let path = t.path_of("log_level");
        if let Some(s) = as_str(ctx, v, &path) {
            if s.contains([',', '=']) {
                if let Some((level, subs)) = daemon::log_levels(ctx, s, &v.span(), &path) {
                    d.log_level = level;
                    d.log_subsystems = subs;
                }
            } else if let Some(l) = values::keyword(ctx, v, &path, LOG_LEVELS, &[]) {
                d.log_level = l;
            }
        }
    }
    if let Some(v) = t.get("control_group") {
        let path = t.path_of("control_group");
        if let Some(s) = as_str(ctx, v, &path) {
            d.control_group = daemon::group_name(ctx, s, &v.span(), &path);
        }
    }
    if let Some(v) = t.get("metrics_listen") {
        let path = t.path_of("metrics_listen");
        if let Some(s) = as_str(ctx, v, &path) {
            d.metrics_listen = daemon::listen_addr(ctx, s, &v.span(), &path);
        }
    }
    if let Some(v) = t.get("state_dir") {
        let path = t.path_of("state_dir");
        if let Some(s) = as_str(ctx, v, &path) {
            if Path::new(s).is_absolute() && Path::new(s).parent().is_some() {
                d.state_dir = PathBuf::from(s);
            } else {
                ctx.error(
                    &v.span(),
                    &path,
                    format!(
                        "'{}' is not an absolute path below / (allowed: an absolute path, e.g. \
                         /var/lib/rampart)",
                        s.escape_default()
                    ),
                );
            }
        }
    }
    if let Some(v) = t.get("legacy_crypto") {
        if let Some(b) = as_bool(ctx, v, &t.path_of("legacy_crypto")) {
            d.legacy_crypto = b;
        }
    }
    if let Some(v) = t.get("fragment_size") {
        if let Some(n) = as_int_in(
            ctx,
            v,
            &t.path_of("fragment_size"),
            MIN_FRAGMENT_SIZE,
            i64::from(u16::MAX),
        ) {
            d.fragment_size = u16::try_from(n).unwrap_or(d.fragment_size);
        }
    }
    if let Some(v) = t.get("listen") {
        let mut seen = Vec::new();
        if let Some(l) = string_list(
            ctx,
            v,
            &t.path_of("listen"),
            false,
            "IP addresses",
            |ctx, i, s, span, p| values::ip_addr(ctx, i, s, span, p, &mut seen),
        ) {
            d.listen = l;
        }
    }
    d
}
