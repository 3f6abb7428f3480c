//! `[connections.NAME]`, its `local`/`remote` sections and its `children`.

use std::path::Path;
use std::time::Duration;

use crypto::proposal::Protocol;
use crypto::ProposalSpec;

use super::{certs, values};
use crate::duration::format_duration;
use crate::types::{
    AuthConfig, AuthMethod, Child, CloseAction, Connection, DpdAction, EapSecret, Mode, Pool,
    RemoteAddr, StartAction, TsSpec, Unique, DEFAULT_CHILD_REKEY_TIME, DEFAULT_DPD_DELAY,
    DEFAULT_ESP_PROPOSALS, DEFAULT_IKE_PROPOSALS, DEFAULT_IKE_REKEY_TIME, DEFAULT_KEYINGTRIES,
};
use crate::walk::{as_bool, as_int_in, as_str, as_table, string_list, Ctx, Span, Table};

const CONNECTION_KEYS: &[&str] = &[
    "version",
    "local_addrs",
    "remote_addrs",
    "proposals",
    "encap",
    "dpd_delay",
    "keyingtries",
    "rekey_time",
    "dpd_action",
    "unique",
    "fragmentation",
    "mobike",
    "local",
    "remote",
    "children",
    "pools",
    "dns",
    "vips",
];
const LOCAL_KEYS: &[&str] = &["auth", "id", "cert", "key", "eap_id"];
const REMOTE_KEYS: &[&str] = &["auth", "id"];
const CHILD_KEYS: &[&str] = &[
    "local_ts",
    "remote_ts",
    "esp_proposals",
    "ah_proposals",
    "mode",
    "start_action",
    "close_action",
    "rekey_time",
    "life_time",
    // schema/child_dataplane.rs
    "replay_window",
    "rekey_bytes",
    "life_bytes",
    "rekey_packets",
    "life_packets",
    "copy_dscp",
    "mss_clamp",
    "tfc_padding",
];
const AUTH_METHODS: &[(&str, AuthMethod)] = &[
    ("psk", AuthMethod::Psk),
    ("pubkey", AuthMethod::Pubkey),
    ("eap-mschapv2", AuthMethod::EapMschapv2),
];
const AUTH_LATER: &[&str] = &["eap", "eap-tls", "eap-md5", "eap-radius"];
/// Longest `local.eap_id` (as for `[secrets.eap.*].user`).
const MAX_EAP_USER: usize = 255;
const DPD_ACTIONS: &[(&str, DpdAction)] =
    &[("clear", DpdAction::Clear), ("restart", DpdAction::Restart)];
const UNIQUE: &[(&str, Unique)] = &[
    ("replace", Unique::Replace),
    ("keep", Unique::Keep),
    ("never", Unique::Never),
];
const MODES: &[(&str, Mode)] = &[("tunnel", Mode::Tunnel), ("transport", Mode::Transport)];
const MODES_LATER: &[&str] = &[];
const START_ACTIONS: &[(&str, StartAction)] =
    &[("none", StartAction::None), ("start", StartAction::Start)];
const CLOSE_ACTIONS: &[(&str, CloseAction)] =
    &[("none", CloseAction::None), ("start", CloseAction::Start)];
const ACTIONS_LATER: &[&str] = &["trap"];

/// What connections need from the rest of the file.
pub(super) struct Env<'a> {
    /// `daemon.legacy_crypto`.
    pub(super) legacy_crypto: bool,
    /// The configuration file's folder (for `local.cert` and `local.key`).
    pub(super) base_dir: &'a Path,
    /// Whether the file has at least one `[authorities.NAME]` table.
    pub(super) have_authorities: bool,
    /// `[pools.*]` (for `pools`).
    pub(super) pools: &'a [Pool],
    /// `[secrets.eap.*]` (for `local.eap_id`).
    pub(super) eap_secrets: &'a [EapSecret],
}

/// Every `[connections.NAME]`, in file order; child names must be unique across connections.
pub(super) fn parse_connections(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    env: &Env<'_>,
) -> Vec<Connection> {
    let mut out = Vec::new();
    // (child name, connection name) of every child seen so far.
    let mut child_names: Vec<(String, String)> = Vec::new();
    for (k, v) in t.entries_in_file_order() {
        let name: &str = k.get_ref();
        let path = t.path_of(name);
        let Some(ct) = as_table(ctx, v, &path) else {
            continue;
        };
        let name_ok = values::check_name(ctx, name, &k.span(), &path);
        let conn = parse_connection(ctx, name, &ct, env);
        // Cross-connection check, done on the raw tables so it works even when parts failed.
        if let Some(children) = ct.get("children").and_then(|c| match c.get_ref() {
            toml::de::DeValue::Table(ch) => Some(ch),
            _ => None,
        }) {
            let mut keys: Vec<_> = children.iter().collect();
            keys.sort_by_key(|(ck, _)| ck.span().start);
            for (ck, _) in keys {
                let cname: &str = ck.get_ref();
                if let Some((_, other)) = child_names.iter().find(|(c, _)| c == cname) {
                    ctx.error(
                        &ck.span(),
                        &crate::walk::join(&ct.path_of("children"), cname),
                        format!(
                            "child name '{cname}' is already used in connections.{other} \
                             (child names must be unique across connections)"
                        ),
                    );
                } else {
                    child_names.push((cname.to_string(), name.to_string()));
                }
            }
        }
        if let (true, Some(c)) = (name_ok, conn) {
            out.push(c);
        }
    }
    out
}

fn parse_connection(
    ctx: &mut Ctx<'_>,
    name: &str,
    t: &Table<'_, '_>,
    env: &Env<'_>,
) -> Option<Connection> {
    t.check_keys(ctx, CONNECTION_KEYS);
    let mut ok = true;

    let version = match t.get("version") {
        Some(v) => {
            let path = t.path_of("version");
            match as_int_in(ctx, v, &path, 0, 255) {
                Some(2) => Some(2),
                Some(n) => {
                    ctx.error(
                        &v.span(),
                        &path,
                        format!("IKE version {n} is not supported (allowed: 2)"),
                    );
                    None
                }
                None => None,
            }
        }
        None => Some(2),
    };

    let local_addrs = match t.get("local_addrs") {
        Some(v) => {
            let mut seen = Vec::new();
            string_list(
                ctx,
                v,
                &t.path_of("local_addrs"),
                true,
                "IP addresses",
                |ctx, i, s, span, p| values::ip_addr(ctx, i, s, span, p, &mut seen),
            )
        }
        None => Some(Vec::new()),
    };

    let remote_addrs = match t.get("remote_addrs") {
        Some(v) => {
            let mut seen = Vec::new();
            string_list(
                ctx,
                v,
                &t.path_of("remote_addrs"),
                false,
                "IP addresses or \"%any\"",
                |ctx, i, s, span, p| values::remote_addr(ctx, i, s, span, p, &mut seen),
            )
        }
        None => {
            t.missing(
                ctx,
                "remote_addrs",
                "the peer's IP address(es), or [\"%any\"] to accept any peer",
            );
            None
        }
    };

    let proposals = proposals(
        ctx,
        t,
        "proposals",
        Protocol::Ike,
        DEFAULT_IKE_PROPOSALS,
        env.legacy_crypto,
    );

    let encap = match t.get("encap") {
        Some(v) => as_bool(ctx, v, &t.path_of("encap")),
        None => Some(false),
    };
    let dpd_delay = match t.get("dpd_delay") {
        Some(v) => values::duration(ctx, v, &t.path_of("dpd_delay")),
        None => Some(DEFAULT_DPD_DELAY),
    };
    let keyingtries = match t.get("keyingtries") {
        Some(v) => as_int_in(ctx, v, &t.path_of("keyingtries"), 0, i64::from(u32::MAX))
            .and_then(|n| u32::try_from(n).ok()),
        None => Some(DEFAULT_KEYINGTRIES),
    };
    let rekey_time = match t.get("rekey_time") {
        Some(v) => values::duration(ctx, v, &t.path_of("rekey_time")),
        None => Some(DEFAULT_IKE_REKEY_TIME),
    };
    let dpd_action = match t.get("dpd_action") {
        Some(v) => values::keyword(ctx, v, &t.path_of("dpd_action"), DPD_ACTIONS, &[]),
        None => Some(DpdAction::Clear),
    };
    let unique = match t.get("unique") {
        Some(v) => values::keyword(ctx, v, &t.path_of("unique"), UNIQUE, &[]),
        None => Some(Unique::Replace),
    };
    let flag = |ctx: &mut Ctx<'_>, key: &str| match t.get(key) {
        Some(v) => as_bool(ctx, v, &t.path_of(key)),
        None => Some(true),
    };
    let fragmentation = flag(ctx, "fragmentation");
    let mobike = flag(ctx, "mobike");

    let local = auth_section(ctx, t, "local", env);
    let remote = auth_section(ctx, t, "remote", env);

    let children = match t.get("children") {
        Some(v) => {
            let path = t.path_of("children");
            match as_table(ctx, v, &path) {
                Some(ct) if ct.table.is_empty() => {
                    ctx.error(
                        &ct.span,
                        &t.path,
                        format!("no children (add at least one [{}.NAME] table)", ct.path),
                    );
                    None
                }
                Some(ct) => parse_children(ctx, &ct, env.legacy_crypto),
                None => None,
            }
        }
        None => {
            t.missing(
                ctx,
                "children",
                &format!(
                    "a connection needs at least one [{}.children.NAME] table",
                    t.path
                ),
            );
            None
        }
    };

    // %any as the peer address is for responders only: an initiator needs somewhere to send.
    if let (Some(remote_addrs), Some(children)) = (&remote_addrs, &children) {
        if remote_addrs.contains(&RemoteAddr::Any) {
            ok &= check_any_actions(ctx, t, children);
        }
    }
    if let (Some(true), Some(children)) = (encap, &children) {
        ok &= check_ah_encap(ctx, t, children);
    }
    let (pools, dns, vips) = super::road_warrior::cp_keys(ctx, t, env.pools);
    if let (Some(l), Some(r)) = (&local, &remote) {
        ok &= super::road_warrior::check_eap(ctx, t, l, r, env.eap_secrets);
    }

    let remote_addrs = remote_addrs?;
    let children = children?;
    if !ok {
        return None;
    }
    Some(Connection {
        name: name.to_string(),
        version: version?,
        local_addrs: local_addrs?,
        remote_addrs,
        proposals: proposals?,
        encap: encap?,
        dpd_delay: dpd_delay?,
        keyingtries: keyingtries?,
        rekey_time: rekey_time?,
        dpd_action: dpd_action?,
        unique: unique?,
        fragmentation: fragmentation?,
        mobike: mobike?,
        local: local?,
        remote: remote?,
        children,
        pools: pools?,
        dns: dns?,
        vips: vips?,
    })
}

/// With `remote_addrs` containing `%any`, no child may start or restart on its own.
fn check_any_actions(ctx: &mut Ctx<'_>, t: &Table<'_, '_>, children: &[Child]) -> bool {
    let mut ok = true;
    let Some(ct) = t.get("children").and_then(|c| match c.get_ref() {
        toml::de::DeValue::Table(ch) => Some(ch),
        _ => None,
    }) else {
        return true;
    };
    for child in children {
        let Some(cv) = ct
            .iter()
            .find(|(k, _)| k.get_ref() == child.name.as_str())
            .map(|(_, v)| v)
        else {
            continue;
        };
        let toml::de::DeValue::Table(ctab) = cv.get_ref() else {
            continue;
        };
        let child_path = crate::walk::join(&t.path_of("children"), &child.name);
        for (key, active) in [
            ("start_action", child.start_action == StartAction::Start),
            ("close_action", child.close_action == CloseAction::Start),
        ] {
            if !active {
                continue;
            }
            if let Some((_, v)) = ctab.iter().find(|(k, _)| k.get_ref() == key) {
                ctx.error(
                    &v.span(),
                    &crate::walk::join(&child_path, key),
                    format!(
                        "\"start\" needs a peer address to initiate to, but {} contains \
                         \"%any\" (allowed here: none)",
                        t.path_of("remote_addrs")
                    ),
                );
                ok = false;
            }
        }
    }
    ok
}

/// With `encap = true`, no child may be AH only: UDP encapsulation (RFC 3948) carries ESP, never
/// AH, so such a child could never be negotiated. The error is at the child's `ah_proposals`.
fn check_ah_encap(ctx: &mut Ctx<'_>, t: &Table<'_, '_>, children: &[Child]) -> bool {
    let mut ok = true;
    let Some(ct) = t.get("children").and_then(|c| match c.get_ref() {
        toml::de::DeValue::Table(ch) => Some(ch),
        _ => None,
    }) else {
        return true;
    };
    for child in children
        .iter()
        .filter(|c| !c.ah_proposals.is_empty() && c.esp_proposals.is_empty())
    {
        let Some(toml::de::DeValue::Table(ctab)) = ct
            .iter()
            .find(|(k, _)| k.get_ref() == child.name.as_str())
            .map(|(_, v)| v.get_ref())
        else {
            continue;
        };
        let Some((_, v)) = ctab.iter().find(|(k, _)| k.get_ref() == "ah_proposals") else {
            continue;
        };
        let child_path = crate::walk::join(&t.path_of("children"), &child.name);
        ctx.error(
            &v.span(),
            &crate::walk::join(&child_path, "ah_proposals"),
            format!(
                "AH cannot be UDP-encapsulated (RFC 3948 encapsulates ESP only), but {} = true \
                 forces UDP encapsulation; add esp_proposals to this child or set encap = false",
                t.path_of("encap")
            ),
        );
        ok = false;
    }
    ok
}

/// A proposal list (`proposals`, `esp_proposals` or `ah_proposals`), defaulting to `defaults`
/// (an empty `defaults` gives an empty list). Legacy
/// proposals ([`ProposalSpec::is_legacy`]) are refused unless `legacy_crypto`.
fn proposals(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    protocol: Protocol,
    defaults: &[&str],
    legacy_crypto: bool,
) -> Option<Vec<ProposalSpec>> {
    let path = t.path_of(key);
    match t.get(key) {
        Some(v) => string_list(
            ctx,
            v,
            &path,
            false,
            match protocol {
                Protocol::Ike => "proposal strings like \"aes256gcm16-prfsha256-x25519\"",
                Protocol::Esp => "proposal strings like \"aes256gcm16\" or \"aes128-sha256\"",
                Protocol::Ah => "proposal strings like \"sha256\" or \"sha512-ecp256\"",
            },
            |ctx, _, s, span, p| {
                let spec = values::proposal(ctx, protocol, s, span, p)?;
                if spec.is_legacy() && !legacy_crypto {
                    ctx.error(
                        span,
                        p,
                        format!(
                            "proposal '{}' is legacy crypto (MODP-1024, or SHA-1 as its only \
                             PRF or integrity algorithm), refused unless daemon.legacy_crypto = \
                             true (see docs/config.md, \"Legacy crypto\")",
                            s.escape_default()
                        ),
                    );
                    return None;
                }
                Some(spec)
            },
        ),
        None => {
            let mut out = Vec::new();
            for d in defaults {
                out.push(values::proposal(ctx, protocol, d, &t.span, &path)?);
            }
            Some(out)
        }
    }
}

/// `[connections.NAME.local]` or `[connections.NAME.remote]` (both required).
fn auth_section(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    env: &Env<'_>,
) -> Option<AuthConfig> {
    let Some(at) = t.sub_table(ctx, key) else {
        if t.get(key).is_none() {
            t.missing(
                ctx,
                key,
                &format!(
                    "a [{}] table with auth = \"psk\", \"pubkey\" or \"eap-mschapv2\" and an id",
                    t.path_of(key)
                ),
            );
        }
        return None;
    };
    let is_remote = key == "remote";
    at.check_keys(ctx, if is_remote { REMOTE_KEYS } else { LOCAL_KEYS });
    let auth = match at.get("auth") {
        Some(v) => values::keyword(ctx, v, &at.path_of("auth"), AUTH_METHODS, AUTH_LATER),
        None => {
            at.missing(ctx, "auth", "allowed: psk, pubkey, eap-mschapv2");
            None
        }
    };
    let id = match at.get("id") {
        Some(v) => {
            let path = at.path_of("id");
            let s = as_str(ctx, v, &path)?;
            values::identity(ctx, s, &v.span(), &path, is_remote)?.map(|id| (id, v.span()))
        }
        None => None,
    };
    let auth = auth?;
    if is_remote {
        if auth == AuthMethod::Pubkey && !env.have_authorities {
            if let Some(v) = at.get("auth") {
                ctx.error(
                    &v.span(),
                    &at.path_of("auth"),
                    "auth = \"pubkey\" needs a certificate authority to verify the peer's \
                     certificate, but none is configured (add an [authorities.NAME] table with \
                     cacert = \"ca.crt\")",
                );
            }
            return None;
        }
        return Some(AuthConfig {
            auth,
            id: id.map(|(id, _)| id),
            cert: None,
            eap_id: None,
        });
    }
    let eap_id = match at.get("eap_id") {
        Some(v) => {
            let path = at.path_of("eap_id");
            let s = as_str(ctx, v, &path)?;
            if auth != AuthMethod::EapMschapv2 {
                ctx.error(
                    &v.span(),
                    &path,
                    format!(
                        "'eap_id' is only used with auth = \"eap-mschapv2\" (this side uses auth \
                         = \"{}\")",
                        auth.as_str()
                    ),
                );
                return None;
            }
            if s.is_empty() || s.len() > MAX_EAP_USER || s.contains(char::is_control) {
                ctx.error(
                    &v.span(),
                    &path,
                    format!(
                        "invalid EAP user name '{}' (allowed: 1 to {MAX_EAP_USER} bytes of UTF-8 \
                         without control characters)",
                        s.escape_default()
                    ),
                );
                return None;
            }
            Some(s.to_string())
        }
        None => None,
    };
    let cert = match auth {
        AuthMethod::Psk | AuthMethod::EapMschapv2 => {
            let mut ok = true;
            for k in ["cert", "key"] {
                if let Some(v) = at.get(k) {
                    ctx.error(
                        &v.span(),
                        &at.path_of(k),
                        format!(
                            "'{k}' is only used with auth = \"pubkey\" (this side uses auth = \"{}\")",
                            auth.as_str()
                        ),
                    );
                    ok = false;
                }
            }
            if !ok {
                return None;
            }
            None
        }
        AuthMethod::Pubkey => {
            let mut ok = true;
            if at.get("cert").is_none() {
                at.missing(
                    ctx,
                    "cert",
                    &format!(
                        "with auth = \"pubkey\": our certificate, {}, relative to this file's \
                         folder",
                        certs::CERT_ALLOWED
                    ),
                );
                ok = false;
            }
            if at.get("key").is_none() {
                at.missing(
                    ctx,
                    "key",
                    &format!(
                        "with auth = \"pubkey\": the certificate's private key, {}",
                        certs::KEY_ALLOWED
                    ),
                );
                ok = false;
            }
            if !ok {
                return None;
            }
            let id_ref = id.as_ref().map(|(id, span)| (id, span.clone()));
            Some(certs::local_cert(ctx, &at, env.base_dir, id_ref)?)
        }
    };
    Some(AuthConfig {
        auth,
        id: id.map(|(id, _)| id),
        cert,
        eap_id,
    })
}

/// Every child of a connection, in file order.
fn parse_children(ctx: &mut Ctx<'_>, t: &Table<'_, '_>, legacy_crypto: bool) -> Option<Vec<Child>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (k, v) in t.entries_in_file_order() {
        let name: &str = k.get_ref();
        let path = t.path_of(name);
        let Some(ct) = as_table(ctx, v, &path) else {
            ok = false;
            continue;
        };
        let name_ok = values::check_name(ctx, name, &k.span(), &path);
        match parse_child(ctx, name, &ct, legacy_crypto) {
            Some(c) if name_ok => out.push(c),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn parse_child(
    ctx: &mut Ctx<'_>,
    name: &str,
    t: &Table<'_, '_>,
    legacy_crypto: bool,
) -> Option<Child> {
    t.check_keys(ctx, CHILD_KEYS);
    let ts = |ctx: &mut Ctx<'_>, key: &str| match t.get(key) {
        Some(v) => string_list(
            ctx,
            v,
            &t.path_of(key),
            false,
            "traffic selectors or \"dynamic\"",
            |ctx, _, s, span: &Span, p| values::ts_spec(ctx, s, span, p),
        ),
        None => Some(vec![TsSpec::Dynamic]),
    };
    let local_ts = ts(ctx, "local_ts");
    let remote_ts = ts(ctx, "remote_ts");
    // AH (RFC 4302) only when asked for; then ESP only when esp_proposals is set too.
    let ah_proposals = match t.get("ah_proposals") {
        Some(_) => proposals(ctx, t, "ah_proposals", Protocol::Ah, &[], legacy_crypto),
        None => Some(Vec::new()),
    };
    let esp_defaults = if t.get("ah_proposals").is_some() {
        &[][..]
    } else {
        DEFAULT_ESP_PROPOSALS
    };
    let esp_proposals = proposals(
        ctx,
        t,
        "esp_proposals",
        Protocol::Esp,
        esp_defaults,
        legacy_crypto,
    );
    let mode = match t.get("mode") {
        Some(v) => values::keyword(ctx, v, &t.path_of("mode"), MODES, MODES_LATER),
        None => Some(Mode::Tunnel),
    };
    let start_action = match t.get("start_action") {
        Some(v) => values::keyword(
            ctx,
            v,
            &t.path_of("start_action"),
            START_ACTIONS,
            ACTIONS_LATER,
        ),
        None => Some(StartAction::None),
    };
    let close_action = match t.get("close_action") {
        Some(v) => values::keyword(
            ctx,
            v,
            &t.path_of("close_action"),
            CLOSE_ACTIONS,
            ACTIONS_LATER,
        ),
        None => Some(CloseAction::None),
    };
    let dataplane = super::child_dataplane::parse(ctx, t);
    let (rekey_time, life_time) = lifetimes(ctx, t)?;
    Some(Child {
        name: name.to_string(),
        local_ts: local_ts?,
        remote_ts: remote_ts?,
        esp_proposals: esp_proposals?,
        ah_proposals: ah_proposals?,
        mode: mode?,
        start_action: start_action?,
        close_action: close_action?,
        rekey_time,
        life_time,
        dataplane: dataplane?,
    })
}

/// A child's `rekey_time` and `life_time` (RFC 7296 §2.8): the Child SA must be rekeyed before
/// it expires, so `life_time` exceeds `rekey_time` (default: rekey_time + 10%). With
/// `rekey_time = 0` (never rekey) `life_time` defaults to 0 (never expire).
fn lifetimes(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> Option<(Duration, Duration)> {
    let rekey = match t.get("rekey_time") {
        Some(v) => values::duration(ctx, v, &t.path_of("rekey_time")),
        None => Some(DEFAULT_CHILD_REKEY_TIME),
    };
    let life = match t.get("life_time") {
        Some(v) => Some(values::duration(ctx, v, &t.path_of("life_time"))?),
        None => None,
    };
    let rekey = rekey?;
    let default_life = rekey.saturating_add(rekey / 10);
    match (life, t.get("life_time")) {
        (Some(l), Some(v)) if !rekey.is_zero() && l <= rekey => {
            ctx.error(
                &v.span(),
                &t.path_of("life_time"),
                format!(
                    "life_time {} must be longer than rekey_time {} (a Child SA is rekeyed \
                     before it expires; allowed: more than {}, default rekey_time + 10% = {})",
                    format_duration(l),
                    format_duration(rekey),
                    format_duration(rekey),
                    format_duration(default_life)
                ),
            );
            None
        }
        (Some(l), _) => Some((rekey, l)),
        (None, _) => Some((rekey, default_life)),
    }
}
