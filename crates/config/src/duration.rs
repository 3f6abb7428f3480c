//! Durations: `"30s"`, `"5m"`, `"1h"`, `"2d"`, or an integer number of seconds.

use std::time::Duration;

/// What a duration may look like (for error messages).
pub(crate) const DURATION_ALLOWED: &str =
    "a number of seconds, or a string like \"30s\", \"5m\", \"1h\", \"2d\"";

/// Parses `"<digits><unit>"` with unit `s`, `m`, `h` or `d` (no unit = seconds).
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 's')) => (s.get(..i)?, 1),
        Some((i, 'm')) => (s.get(..i)?, 60),
        Some((i, 'h')) => (s.get(..i)?, 3600),
        Some((i, 'd')) => (s.get(..i)?, 86_400),
        _ => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(mult).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in [
            "",
            "s",
            "-1s",
            "1.5h",
            "10x",
            "1 h",
            "h1",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
