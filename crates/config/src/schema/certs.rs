//! Certificates in the configuration: `local.cert` / `local.key` of a connection with
//! `auth = "pubkey"` (RFC 7296 §2.15, RFC 7427), and `[authorities.NAME]` (trusted CAs with
//! their CRLs, RFC 5280 §6.1 and §5). Everything is loaded and checked here, so that a file
//! that loads is one the daemon can use: the key belongs to the certificate, `local.id` is
//! proven by the certificate (RFC 4945 §3.1), every CA certificate is a CA and every CRL parses.

use std::path::{Path, PathBuf};

use crypto::sign::SigningKey;
use wire::Identity;

use super::values;
use crate::secret_file::read_protected_file;
use crate::types::{Authority, LocalCertConfig};
use crate::walk::{as_str, as_table, string_list, Ctx, Span, Table, Value};

const AUTHORITY_KEYS: &[&str] = &["cacert", "crls"];

/// What `local.cert` may hold.
pub(crate) const CERT_ALLOWED: &str =
    "a PEM or DER X.509 certificate file, the end entity first, then intermediates";
/// What `local.key` may hold.
pub(crate) const KEY_ALLOWED: &str =
    "an unencrypted PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) private key, PEM or DER, mode 0600";

/// A file name from the configuration, relative to the configuration's folder.
fn resolve(base_dir: &Path, s: &str) -> PathBuf {
    base_dir.join(s)
}

/// A non-empty string value naming a file.
fn file_value(ctx: &mut Ctx<'_>, v: &Value<'_>, path: &str) -> Option<String> {
    let s = as_str(ctx, v, path)?;
    if s.trim().is_empty() {
        ctx.error(&v.span(), path, "must not be empty (allowed: a file path)");
        return None;
    }
    Some(s.to_string())
}

/// An identity for messages: DNs in strongSwan's text form.
pub(crate) fn show_id(id: &Identity) -> String {
    pki::identity_to_string(id)
}

/// The subjectAltNames of `cert` for messages, or "none".
fn sans(cert: &pki::Certificate) -> String {
    let v: Vec<String> = cert.subject_alt_names().iter().map(show_id).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// `local.cert` and `local.key` of table `t` (both present), and `local.id` (`id`, with its
/// span) checked against the certificate.
pub(crate) fn local_cert(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    base_dir: &Path,
    id: Option<(&Identity, Span)>,
) -> Option<LocalCertConfig> {
    let (cv, kv) = (t.get("cert")?, t.get("key")?);
    let (cpath, kpath) = (t.path_of("cert"), t.path_of("key"));
    let cert_file = file_value(ctx, cv, &cpath).map(|s| resolve(base_dir, &s));
    let key_file = file_value(ctx, kv, &kpath).map(|s| resolve(base_dir, &s));

    let chain = cert_file.as_ref().and_then(|f| match pki::load_certs(f) {
        Ok(chain) => Some(chain),
        Err(e) => {
            ctx.error(
                &cv.span(),
                &cpath,
                format!("cannot load certificate: {e} (allowed: {CERT_ALLOWED})"),
            );
            None
        }
    });
    let ee = chain.as_ref().and_then(|c| {
        let der = c.first()?;
        match pki::Certificate::from_der(der) {
            Ok(ee) => Some(ee),
            Err(e) => {
                ctx.error(&cv.span(), &cpath, format!("cannot load certificate: {e}"));
                None
            }
        }
    });
    let key = key_file.as_ref().and_then(|f| {
        let shown = f.display();
        let bytes = match read_protected_file(f, "key file") {
            Ok(b) => b,
            Err(msg) => {
                ctx.error(&kv.span(), &kpath, msg);
                return None;
            }
        };
        let parsed = if bytes.first() == Some(&0x30) {
            SigningKey::from_der(&bytes)
        } else {
            SigningKey::from_pem(&bytes)
        };
        match parsed {
            Ok(k) => Some(k),
            Err(e) => {
                ctx.error(
                    &kv.span(),
                    &kpath,
                    format!("key file {shown} holds no usable private key: {e} (allowed: {KEY_ALLOWED})"),
                );
                None
            }
        }
    });

    let (Some(cert_file), Some(key_file), Some(chain), Some(ee), Some(key)) =
        (cert_file, key_file, chain, ee, key)
    else {
        return None;
    };
    let mut ok = true;
    if key.public_key_spki() != ee.spki_der() {
        ctx.error(
            &kv.span(),
            &kpath,
            format!(
                "key file {} does not belong to certificate {} (subject \"{}\"): their public \
                 keys differ",
                key_file.display(),
                cert_file.display(),
                ee.subject()
            ),
        );
        ok = false;
    }
    if let Some((id, span)) = id {
        if !ee.matches_identity(id) {
            ctx.error(
                &span,
                &t.path_of("id"),
                format!(
                    "identity '{}' is not proven by certificate {} (subject \"{}\", \
                     subjectAltNames: {}; allowed: the subject DN, or one of the \
                     subjectAltNames)",
                    show_id(id),
                    cert_file.display(),
                    ee.subject(),
                    sans(&ee)
                ),
            );
            ok = false;
        }
    }
    let pkcs8 = match key.to_pkcs8_der() {
        Ok(k) => k,
        Err(e) => {
            ctx.error(
                &kv.span(),
                &kpath,
                format!("key file {} cannot be used: {e}", key_file.display()),
            );
            return None;
        }
    };
    ok.then(|| LocalCertConfig {
        cert_path: cert_file,
        key_path: key_file,
        chain,
        key: pkcs8,
        subject: Identity::DerAsn1Dn(ee.subject().as_der().to_vec()),
    })
}

/// `[authorities]`: every `[authorities.NAME]`, in file order.
pub(crate) fn parse_authorities(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    base_dir: &Path,
) -> Vec<Authority> {
    let mut out = Vec::new();
    for (k, v) in t.entries_in_file_order() {
        let name: &str = k.get_ref();
        let path = t.path_of(name);
        let Some(at) = as_table(ctx, v, &path) else {
            continue;
        };
        let name_ok = values::check_name(ctx, name, &k.span(), &path);
        if let (Some(a), true) = (parse_authority(ctx, name, &at, base_dir), name_ok) {
            out.push(a);
        }
    }
    out
}

fn parse_authority(
    ctx: &mut Ctx<'_>,
    name: &str,
    t: &Table<'_, '_>,
    base_dir: &Path,
) -> Option<Authority> {
    t.check_keys(ctx, AUTHORITY_KEYS);
    // Checks each CA and CRL the way the daemon will use them.
    let mut store = pki::TrustStore::new();
    let cacert = match t.get("cacert") {
        Some(v) => {
            let path = t.path_of("cacert");
            file_value(ctx, v, &path).and_then(|s| {
                let file = resolve(base_dir, &s);
                let certs = match pki::load_certs(&file) {
                    Ok(c) => c,
                    Err(e) => {
                        ctx.error(
                            &v.span(),
                            &path,
                            format!(
                                "cannot load CA certificate: {e} (allowed: a PEM or DER X.509 \
                                 CA certificate file)"
                            ),
                        );
                        return None;
                    }
                };
                for der in &certs {
                    if let Err(e) = store.add_ca(der) {
                        ctx.error(
                            &v.span(),
                            &path,
                            format!("{} cannot be a trusted CA: {e}", file.display()),
                        );
                        return None;
                    }
                }
                Some((file, certs))
            })
        }
        None => {
            t.missing(
                ctx,
                "cacert",
                "the CA certificate file, PEM or DER, relative to this file's folder",
            );
            None
        }
    };
    let crls = match t.get("crls") {
        Some(v) => {
            let mut all = Vec::new();
            string_list(
                ctx,
                v,
                &t.path_of("crls"),
                true,
                "CRL file names",
                |ctx, _, s, span, p| {
                    if s.trim().is_empty() {
                        ctx.error(span, p, "must not be empty (allowed: a file path)");
                        return None;
                    }
                    let file = resolve(base_dir, s);
                    let crls = match pki::load_crls(&file) {
                        Ok(c) => c,
                        Err(e) => {
                            ctx.error(
                                span,
                                p,
                                format!(
                                    "cannot load CRL: {e} (allowed: a PEM or DER X.509 CRL file)"
                                ),
                            );
                            return None;
                        }
                    };
                    for der in &crls {
                        if let Err(e) = store.add_crl(der) {
                            ctx.error(span, p, format!("{}: {e}", file.display()));
                            return None;
                        }
                    }
                    all.extend(crls);
                    Some(file)
                },
            )
            .map(|paths| (paths, all))
        }
        None => Some((Vec::new(), Vec::new())),
    };
    let (cacert_path, cacerts) = cacert?;
    let (crl_paths, crls) = crls?;
    Some(Authority {
        name: name.to_string(),
        cacert_path,
        cacerts,
        crl_paths,
        crls,
    })
}
