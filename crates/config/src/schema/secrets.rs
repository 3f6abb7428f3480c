//! `[secrets.ike.NAME]`: pre-shared keys, and `[secrets.eap.NAME]`: EAP users. No message here
//! ever contains a secret value.

use std::path::Path;

use crypto::SecretBytes;
use wire::Identity;

use super::values;
use crate::secret_file::read_secret_file;
use crate::types::{EapSecret, IkeSecret};
use crate::walk::{as_str, as_table, string_list, Ctx, Span, Table};

const SECRETS_KEYS: &[&str] = &["ike", "eap"];
const IKE_SECRET_KEYS: &[&str] = &["ids", "secret", "secret_file"];
const EAP_SECRET_KEYS: &[&str] = &["user", "secret", "secret_file"];
/// Longest EAP identity (RFC 3748 §5.1 puts no limit; what fits one length octet is plenty).
const MAX_EAP_USER: usize = 255;

/// `[secrets]`; `base_dir` is the configuration file's directory (for `secret_file`).
pub(super) fn parse_secrets(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    base_dir: &Path,
) -> (Vec<IkeSecret>, Vec<EapSecret>) {
    t.check_keys(ctx, SECRETS_KEYS);
    let eap = match t.sub_table(ctx, "eap") {
        Some(e) => parse_eap_secrets(ctx, &e, base_dir),
        None => Vec::new(),
    };
    let ike = match t.sub_table(ctx, "ike") {
        Some(i) => parse_ike_secrets(ctx, &i, base_dir),
        None => Vec::new(),
    };
    (ike, eap)
}

/// `[secrets.eap.NAME]`: one user each; two entries for one user are refused.
fn parse_eap_secrets(ctx: &mut Ctx<'_>, eap: &Table<'_, '_>, base_dir: &Path) -> Vec<EapSecret> {
    let mut out: Vec<EapSecret> = Vec::new();
    for (k, v) in eap.entries_in_file_order() {
        let name: &str = k.get_ref();
        let path = eap.path_of(name);
        let Some(st) = as_table(ctx, v, &path) else {
            continue;
        };
        let name_ok = values::check_name(ctx, name, &k.span(), &path);
        st.check_keys(ctx, EAP_SECRET_KEYS);
        let user = match st.get("user") {
            Some(v) => {
                let p = st.path_of("user");
                match as_str(ctx, v, &p) {
                    Some(u)
                        if !u.is_empty()
                            && u.len() <= MAX_EAP_USER
                            && !u.contains(char::is_control) =>
                    {
                        if let Some(other) = out.iter().find(|o| o.user == u) {
                            ctx.error(
                                &v.span(),
                                &p,
                                format!(
                                    "user '{}' is already defined in {}",
                                    u.escape_default(),
                                    eap.path_of(&other.name)
                                ),
                            );
                            None
                        } else {
                            Some(u.to_string())
                        }
                    }
                    Some(u) => {
                        ctx.error(
                            &v.span(),
                            &p,
                            format!(
                                "invalid EAP user name '{}' (allowed: 1 to {MAX_EAP_USER} bytes of \
                                 UTF-8 without control characters)",
                                u.escape_default()
                            ),
                        );
                        None
                    }
                    None => None,
                }
            }
            None => {
                st.missing(ctx, "user", "the EAP user name (identity), e.g. \"alice\"");
                None
            }
        };
        let secret = secret_value(ctx, &st, base_dir, "password").and_then(|s| {
            // MSCHAPv2 hashes the password's UTF-16 form (RFC 2759 §8.3): it must be text.
            if std::str::from_utf8(s.as_slice()).is_ok() {
                return Some(s);
            }
            let key = if st.get("secret_file").is_some() {
                "secret_file"
            } else {
                "secret"
            };
            let span = st.get(key).map_or(st.span.clone(), |v| v.span());
            ctx.error(
                &span,
                &st.path_of(key),
                "an EAP password must be valid UTF-8 text",
            );
            None
        });
        if let (true, Some(user), Some(secret)) = (name_ok, user, secret) {
            out.push(EapSecret {
                name: name.to_string(),
                user,
                secret,
            });
        }
    }
    out
}

/// `[secrets.ike.NAME]` entries.
fn parse_ike_secrets(ctx: &mut Ctx<'_>, ike: &Table<'_, '_>, base_dir: &Path) -> Vec<IkeSecret> {
    let mut out: Vec<IkeSecret> = Vec::new();
    for (k, v) in ike.entries_in_file_order() {
        let name: &str = k.get_ref();
        let path = ike.path_of(name);
        let Some(st) = as_table(ctx, v, &path) else {
            continue;
        };
        let name_ok = values::check_name(ctx, name, &k.span(), &path);
        let Some(secret) = parse_ike_secret(ctx, name, &st, base_dir) else {
            continue;
        };
        // Two entries for the same identities would make the lookup ambiguous.
        if let Some(other) = out.iter().find(|o| same_ids(&o.ids, &secret.ids)) {
            let span: Span = st.get("ids").map_or(st.span.clone(), |v| v.span());
            ctx.error(
                &span,
                &st.path_of("ids"),
                format!(
                    "same ids as {} (the PSK lookup could not choose between them; merge or \
                     remove one)",
                    ike.path_of(&other.name)
                ),
            );
            continue;
        }
        if name_ok {
            out.push(secret);
        }
    }
    out
}

/// True when both lists name the same identities (in any order).
fn same_ids(a: &[Identity], b: &[Identity]) -> bool {
    a.iter().all(|x| b.iter().any(|y| x.matches(y)))
        && b.iter().all(|y| a.iter().any(|x| x.matches(y)))
}

fn parse_ike_secret(
    ctx: &mut Ctx<'_>,
    name: &str,
    t: &Table<'_, '_>,
    base_dir: &Path,
) -> Option<IkeSecret> {
    t.check_keys(ctx, IKE_SECRET_KEYS);
    let ids = match t.get("ids") {
        Some(v) => {
            let mut seen: Vec<(usize, Identity)> = Vec::new();
            string_list(
                ctx,
                v,
                &t.path_of("ids"),
                true,
                "identities",
                |ctx, i, s, span, p| {
                    let id = values::identity(ctx, s, span, p, false)??;
                    if let Some((j, _)) = seen.iter().find(|(_, x)| x.matches(&id)) {
                        let base = t.path_of("ids");
                        ctx.error(
                            span,
                            p,
                            format!("duplicate identity '{id}' (already at {base}[{j}])"),
                        );
                        return None;
                    }
                    seen.push((i, id.clone()));
                    Some(id)
                },
            )
        }
        None => {
            t.missing(
                ctx,
                "ids",
                "the identities this key is for, e.g. [\"moon.example.org\", \
                 \"carol.example.org\"]; [] matches any",
            );
            None
        }
    };
    let secret = secret_value(ctx, t, base_dir, "pre-shared key");
    Some(IkeSecret {
        name: name.to_string(),
        ids: ids?,
        secret: secret?,
    })
}

/// `secret` or `secret_file` (exactly one) of a secrets entry; `what` names it in messages.
fn secret_value(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    base_dir: &Path,
    what: &str,
) -> Option<SecretBytes> {
    match (t.get("secret"), t.get("secret_file")) {
        (Some(_), Some(f)) => {
            ctx.error(
                &f.span(),
                &t.path_of("secret_file"),
                "give either 'secret' or 'secret_file', not both",
            );
            None
        }
        (None, None) => {
            t.missing(
                ctx,
                "secret",
                &format!("or 'secret_file': the {what} inline, or a file holding it"),
            );
            None
        }
        (Some(v), None) => {
            let path = t.path_of("secret");
            let s = as_str(ctx, v, &path)?;
            if s.is_empty() {
                ctx.error(&v.span(), &path, format!("a {what} must not be empty"));
                None
            } else {
                Some(SecretBytes::from_slice(s.as_bytes()))
            }
        }
        (None, Some(v)) => {
            let path = t.path_of("secret_file");
            let s = as_str(ctx, v, &path)?;
            if s.is_empty() {
                ctx.error(&v.span(), &path, "must not be empty (allowed: a file path)");
                None
            } else {
                match read_secret_file(&base_dir.join(s)) {
                    Ok(secret) => Some(secret),
                    Err(msg) => {
                        ctx.error(&v.span(), &path, msg);
                        None
                    }
                }
            }
        }
    }
}
