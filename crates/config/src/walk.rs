//! Walking a spanned TOML document (`toml::de::DeTable`): typed getters that record an error
//! (with the value's position and key path) instead of failing, so one pass reports every
//! problem.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use crate::error::{ConfigError, Location};

/// A byte range in the file.
pub(crate) type Span = Range<usize>;
/// A spanned value of the document.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Collects errors for one file.
pub(crate) struct Ctx<'a> {
    file: &'a Path,
    src: &'a str,
    pub(crate) errors: Vec<ConfigError>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(file: &'a Path, src: &'a str) -> Self {
        Ctx {
            file,
            src,
            errors: Vec::new(),
        }
    }

    /// Records an error at `span` for key path `key`.
    pub(crate) fn error(&mut self, span: &Span, key: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.to_path_buf(),
            location: Some(Location::of_offset(self.src, span.start)),
            key: key.to_string(),
            message: message.into(),
        });
    }
}

/// True when `key` can be written bare in a TOML key path.
fn is_bare(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `parent.key`, quoting `key` when TOML would need quotes.
pub(crate) fn join(parent: &str, key: &str) -> String {
    let k = if is_bare(key) {
        key.to_string()
    } else {
        format!("\"{}\"", key.escape_default())
    };
    if parent.is_empty() {
        k
    } else {
        format!("{parent}.{k}")
    }
}

/// `parent[i]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// A table being read, with its span (its header, or its first key for implicit tables) and path.
pub(crate) struct Table<'t, 'i> {
    pub(crate) table: &'t DeTable<'i>,
    pub(crate) span: Span,
    pub(crate) path: String,
}

impl<'t, 'i> Table<'t, 'i> {
    /// Reports every key not in `allowed`, with a suggestion when one is close.
    pub(crate) fn check_keys(&self, ctx: &mut Ctx<'_>, allowed: &[&str]) {
        for (k, _) in self.table.iter() {
            let name: &str = k.get_ref();
            if allowed.contains(&name) {
                continue;
            }
            let hint = suggest(name, allowed)
                .map(|s| format!(", did you mean '{s}'?"))
                .unwrap_or_default();
            let shown = if self.path.is_empty() {
                "the top level".to_string()
            } else {
                self.path.clone()
            };
            ctx.error(
                &k.span(),
                &self.path,
                format!(
                    "unknown key '{}' in {shown}{hint} (allowed: {})",
                    name.escape_default(),
                    allowed.join(", ")
                ),
            );
        }
    }

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }

    /// The key path of `key` in this table.
    pub(crate) fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Reports that required `key` is missing; `what` says what it should hold.
    pub(crate) fn missing(&self, ctx: &mut Ctx<'_>, key: &str, what: &str) {
        ctx.error(
            &self.span,
            &self.path,
            format!("missing required key '{key}' ({what})"),
        );
    }

    /// The sub-table `key` (which must be a table), if present.
    pub(crate) fn sub_table(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<Table<'t, 'i>> {
        let v = self.get(key)?;
        as_table(ctx, v, &self.path_of(key))
    }

    /// Entries of this table in the order they appear in the file (by key position).
    pub(crate) fn entries_in_file_order(
        &self,
    ) -> Vec<(&'t Spanned<std::borrow::Cow<'i, str>>, &'t Value<'i>)> {
        let mut v: Vec<_> = self.table.iter().collect();
        v.sort_by_key(|(k, val)| (val.span().start.min(k.span().start), k.span().start));
        v
    }
}

/// The closest allowed key by edit distance, when close enough to be a likely typo.
fn suggest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (levenshtein(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

fn type_error(ctx: &mut Ctx<'_>, v: &Value<'_>, path: &str, expected: &str) {
    ctx.error(
        &v.span(),
        path,
        format!("expected {expected}, found {}", v.get_ref().type_str()),
    );
}

/// `v` as a table.
pub(crate) fn as_table<'t, 'i>(
    ctx: &mut Ctx<'_>,
    v: &'t Value<'i>,
    path: &str,
) -> Option<Table<'t, 'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(Table {
            table: t,
            span: v.span(),
            path: path.to_string(),
        }),
        _ => {
            type_error(ctx, v, path, "a table");
            None
        }
    }
}

/// `v` as a string.
pub(crate) fn as_str<'t>(ctx: &mut Ctx<'_>, v: &'t Value<'_>, path: &str) -> Option<&'t str> {
    match v.get_ref() {
        DeValue::String(s) => Some(s.as_ref()),
        _ => {
            type_error(ctx, v, path, "a string");
            None
        }
    }
}

/// `v` as a boolean.
pub(crate) fn as_bool(ctx: &mut Ctx<'_>, v: &Value<'_>, path: &str) -> Option<bool> {
    match v.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        _ => {
            type_error(ctx, v, path, "true or false");
            None
        }
    }
}

/// `v` as an integer in `min..=max`.
pub(crate) fn as_int_in(
    ctx: &mut Ctx<'_>,
    v: &Value<'_>,
    path: &str,
    min: i64,
    max: i64,
) -> Option<i64> {
    let DeValue::Integer(i) = v.get_ref() else {
        type_error(ctx, v, path, &format!("an integer from {min} to {max}"));
        return None;
    };
    match i64::from_str_radix(i.as_str(), i.radix()) {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            ctx.error(
                &v.span(),
                path,
                format!("{i} is out of range (allowed: {min} to {max})"),
            );
            None
        }
    }
}

/// `v` as an array.
pub(crate) fn as_array<'t, 'i>(
    ctx: &mut Ctx<'_>,
    v: &'t Value<'i>,
    path: &str,
    expected: &str,
) -> Option<&'t DeArray<'i>> {
    match v.get_ref() {
        DeValue::Array(a) => Some(a),
        _ => {
            type_error(ctx, v, path, expected);
            None
        }
    }
}

/// An array of strings, each converted by `f(ctx, index, text, span, path)` (which reports its
/// own errors with the element's span and path). `None` when anything was wrong.
pub(crate) fn string_list<T>(
    ctx: &mut Ctx<'_>,
    v: &Value<'_>,
    path: &str,
    allow_empty: bool,
    what: &str,
    mut f: impl FnMut(&mut Ctx<'_>, usize, &str, &Span, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let arr = as_array(ctx, v, path, &format!("an array of {what}"))?;
    if arr.is_empty() && !allow_empty {
        ctx.error(
            &v.span(),
            path,
            format!("must not be empty (expected {what})"),
        );
        return None;
    }
    let mut out = Vec::with_capacity(arr.len());
    let mut ok = true;
    for (i, e) in arr.iter().enumerate() {
        let p = index(path, i);
        match as_str(ctx, e, &p) {
            Some(s) => match f(ctx, i, s, &e.span(), &p) {
                Some(t) => out.push(t),
                None => ok = false,
            },
            None => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths() {
        assert_eq!(join("", "daemon"), "daemon");
        assert_eq!(join("connections", "net2net"), "connections.net2net");
        assert_eq!(join("connections", "a b"), "connections.\"a b\"");
        assert_eq!(index("x.local_ts", 1), "x.local_ts[1]");
    }

    #[test]
    fn suggestions() {
        let allowed = ["version", "local_addrs", "remote_addrs", "children"];
        assert_eq!(suggest("remote_adrs", &allowed), Some("remote_addrs"));
        assert_eq!(suggest("child", &allowed), None);
        assert_eq!(suggest("zzzzzz", &allowed), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
