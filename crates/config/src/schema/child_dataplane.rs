//! A child's data-plane settings: anti-replay window (RFC 4303 §3.4.3), lifetimes in bytes and
//! packets (RFC 4301 §4.4.2.1), DSCP copy, TCP MSS clamping and TFC padding (RFC 4303 §2.7).

use toml::de::DeValue;

use crate::types::{ChildDataplane, TfcPadding};
use crate::walk::{as_bool, as_int_in, Ctx, Table, Value};

/// The largest anti-replay window the data plane keeps.
const MAX_REPLAY_WINDOW: i64 = 4096;

/// Parses the data-plane keys of child table `t`; every problem is reported.
pub(super) fn parse(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> Option<ChildDataplane> {
    let d = ChildDataplane::default();
    let replay_window = match t.get("replay_window") {
        Some(v) => as_int_in(ctx, v, &t.path_of("replay_window"), 0, MAX_REPLAY_WINDOW)
            .and_then(|n| u32::try_from(n).ok()),
        None => Some(d.replay_window),
    };
    let count = |ctx: &mut Ctx<'_>, key: &str| match t.get(key) {
        Some(v) => {
            as_int_in(ctx, v, &t.path_of(key), 0, i64::MAX).and_then(|n| u64::try_from(n).ok())
        }
        None => Some(0),
    };
    let rekey_bytes = count(ctx, "rekey_bytes");
    let life_bytes = count(ctx, "life_bytes");
    let rekey_packets = count(ctx, "rekey_packets");
    let life_packets = count(ctx, "life_packets");
    let flag = |ctx: &mut Ctx<'_>, key: &str| match t.get(key) {
        Some(v) => as_bool(ctx, v, &t.path_of(key)),
        None => Some(true),
    };
    let copy_dscp = flag(ctx, "copy_dscp");
    let mss_clamp = flag(ctx, "mss_clamp");
    let tfc_padding = match t.get("tfc_padding") {
        Some(v) => tfc(ctx, v, &t.path_of("tfc_padding")),
        None => Some(TfcPadding::Off),
    };
    let ok_pair = |ctx: &mut Ctx<'_>, rekey: Option<u64>, life: Option<u64>, what: &str| match (
        rekey, life,
    ) {
        (Some(r), Some(l)) if r != 0 && l != 0 && l <= r => {
            let key = format!("life_{what}");
            let span = t.get(&key).map(|v| v.span());
            if let Some(span) = span {
                ctx.error(
                    &span,
                    &t.path_of(&key),
                    format!(
                        "life_{what} {l} must be larger than rekey_{what} {r} (the Child SA \
                             is rekeyed before it expires; 0 = no limit)"
                    ),
                );
            }
            false
        }
        _ => true,
    };
    let bytes_ok = ok_pair(ctx, rekey_bytes, life_bytes, "bytes");
    let packets_ok = ok_pair(ctx, rekey_packets, life_packets, "packets");
    if !(bytes_ok && packets_ok) {
        return None;
    }
    Some(ChildDataplane {
        replay_window: replay_window?,
        rekey_bytes: rekey_bytes?,
        life_bytes: life_bytes?,
        rekey_packets: rekey_packets?,
        life_packets: life_packets?,
        copy_dscp: copy_dscp?,
        mss_clamp: mss_clamp?,
        tfc_padding: tfc_padding?,
    })
}

/// `tfc_padding`: 0 (off), a byte count up to 65535, or "mtu" (pad to the path MTU).
fn tfc(ctx: &mut Ctx<'_>, v: &Value<'_>, path: &str) -> Option<TfcPadding> {
    match v.get_ref() {
        DeValue::String(s) if s.as_ref() == "mtu" => Some(TfcPadding::Mtu),
        DeValue::Integer(_) => match as_int_in(ctx, v, path, 0, i64::from(u16::MAX))? {
            0 => Some(TfcPadding::Off),
            n => u16::try_from(n).ok().map(TfcPadding::Bytes),
        },
        _ => {
            ctx.error(
                &v.span(),
                path,
                "expected 0 (off), a number of bytes up to 65535 or \"mtu\"",
            );
            None
        }
    }
}
