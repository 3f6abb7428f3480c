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

/// A duration as the file writes it: the largest unit that divides it (`"4h"`, `"90m"`,
/// `"3960s"`, `"0s"`).
pub(crate) fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".to_string(),
        _ if s % 86_400 == 0 => format!("{}d", s / 86_400),
        _ if s % 3600 == 0 => format!("{}h", s / 3600),
        _ if s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
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

    #[test]
    fn formatting() {
        for (secs, text) in [
            (0, "0s"),
            (45, "45s"),
            (300, "5m"),
            (3960, "66m"),
            (7200, "2h"),
        ] {
            assert_eq!(format_duration(Duration::from_secs(secs)), text);
        }
        assert_eq!(format_duration(Duration::from_secs(86_400 * 2)), "2d");
        assert_eq!(format_duration(Duration::from_secs(3961)), "3961s");
    }
}
