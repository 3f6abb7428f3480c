//! `[secrets.ike.NAME]`: pre-shared keys. No message here ever contains a secret value.

use std::path::Path;

use crypto::SecretBytes;
use wire::Identity;

use super::values;
use crate::secret_file::read_secret_file;
use crate::types::IkeSecret;
use crate::walk::{as_str, as_table, string_list, Ctx, Span, Table};

const SECRETS_KEYS: &[&str] = &["ike"];
const IKE_SECRET_KEYS: &[&str] = &["ids", "secret", "secret_file"];

/// `[secrets]`; `base_dir` is the configuration file's directory (for `secret_file`).
pub(super) fn parse_secrets(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    base_dir: &Path,
) -> Vec<IkeSecret> {
    t.check_keys(ctx, SECRETS_KEYS);
    let Some(ike) = t.sub_table(ctx, "ike") else {
        return Vec::new();
    };
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
    let secret = match (t.get("secret"), t.get("secret_file")) {
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
                "or 'secret_file': the pre-shared key inline, or a file holding it",
            );
            None
        }
        (Some(v), None) => {
            let path = t.path_of("secret");
            let s = as_str(ctx, v, &path)?;
            if s.is_empty() {
                ctx.error(&v.span(), &path, "a pre-shared key must not be empty");
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
    };
    Some(IkeSecret {
        name: name.to_string(),
        ids: ids?,
        secret: secret?,
    })
}
