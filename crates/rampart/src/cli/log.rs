//! `rampart log`: follows the daemon's event stream (docs/control.md "Events").

use std::path::Path;
use std::process::ExitCode;

use control::{Client, Event, EventMessage, LogLevel};

use super::{connect, fail, EXIT_UNREACHABLE};

/// Subscribes and prints each event until the daemon closes the stream or `count` events
/// were printed.
pub fn follow(
    socket: &Path,
    level: &str,
    sa: bool,
    log: bool,
    count: Option<u64>,
    json: bool,
) -> ExitCode {
    let level = LogLevel::parse(level).unwrap_or(LogLevel::Info);
    let client: Client = match connect(socket) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut sub = match client.subscribe(sa, log.then_some(level)) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        let msg = match sub.next_message() {
            Ok(Some(m)) => m,
            Ok(None) => {
                eprintln!("rampart: the daemon closed the event stream");
                return ExitCode::from(EXIT_UNREACHABLE);
            }
            Err(e) => return fail(e),
        };
        if matches!(msg.event, Event::Unknown) {
            continue;
        }
        if json {
            match serde_json::to_string(&msg) {
                Ok(t) => println!("{t}"),
                Err(e) => eprintln!("rampart: {e}"),
            }
        } else {
            println!("{}", line(&msg));
        }
        seen += 1;
    }
    ExitCode::SUCCESS
}

/// `2024-05-01T12:00:00.123Z` for a Unix time in milliseconds (UTC, proleptic Gregorian).
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86400;
    let rem = secs % 86400;
    // Civil-from-days (Howard Hinnant's algorithm), days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// One event as a text line.
pub fn line(msg: &EventMessage) -> String {
    let t = timestamp(msg.time_ms);
    match &msg.event {
        Event::IkeUp {
            ike_sa,
            connection,
            local,
            remote,
            remote_id,
        } => {
            let addrs = match (local, remote) {
                (Some(l), Some(r)) => format!(" {l}...{r}"),
                _ => String::new(),
            };
            format!("{t} IKE_UP     {connection}[{ike_sa}]{addrs} {remote_id}")
        }
        Event::IkeDown {
            ike_sa,
            connection,
            reason,
        } => format!("{t} IKE_DOWN   {connection}[{ike_sa}] {reason}"),
        Event::IkeRekey {
            ike_sa,
            new_ike_sa,
            connection,
        } => format!("{t} IKE_REKEY  {connection}[{ike_sa}] -> [{new_ike_sa}]"),
        Event::ChildUp {
            ike_sa,
            child_sa,
            connection,
            name,
            spi_in,
            spi_out,
            local_ts,
            remote_ts,
        } => format!(
            "{t} CHILD_UP   {connection}[{ike_sa}] {name}{{{child_sa}}} SPIs {spi_in:08x}_i \
             {spi_out:08x}_o {} === {}",
            local_ts.join(" "),
            remote_ts.join(" ")
        ),
        Event::ChildDown {
            ike_sa,
            child_sa,
            spi_in,
            spi_out,
            reason,
        } => {
            let why = if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            };
            format!(
                "{t} CHILD_DOWN [{ike_sa}] {{{child_sa}}} SPIs {spi_in:08x}_i {spi_out:08x}_o{why}"
            )
        }
        Event::ChildRekey {
            ike_sa,
            child_sa,
            new_child_sa,
        } => format!("{t} CHILD_REKEY [{ike_sa}] {{{child_sa}}} -> {{{new_child_sa}}}"),
        Event::Log {
            level,
            target,
            message,
            ike_sa,
            child_sa,
        } => {
            let mut ids = String::new();
            if let Some(i) = ike_sa {
                ids.push_str(&format!(" ike_sa={i}"));
            }
            if let Some(c) = child_sa {
                ids.push_str(&format!(" child_sa={c}"));
            }
            format!(
                "{t} {:<5} {target}:{ids} {message}",
                level.as_str().to_uppercase()
            )
        }
        Event::Lagged { missed } => format!("{t} LAGGED     {missed} event(s) missed"),
        Event::Unknown => format!("{t} (unknown event)"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps() {
        assert_eq!(super::timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::timestamp(951_782_400_001),
            "2000-02-29T00:00:00.001Z"
        );
        assert_eq!(
            super::timestamp(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
