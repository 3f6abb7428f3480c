//! Logging: `tracing` with per-subsystem levels (`daemon.log_level = "info,ike=debug"`),
//! written to journald when systemd connected stderr to the journal (`JOURNAL_STREAM`), else
//! to stderr; every line also goes to the control socket's subscribers (`rampart log`).
//!
//! Lines about an SA carry the fields `ike_sa` and `child_sa` (the engine sets them); they
//! appear as `ike_sa=3` on stderr, as the journal fields `IKE_SA` / `CHILD_SA`, and as
//! `ike_sa` / `child_sa` in log events.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use control::{Event, EventMessage};
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Layer, Registry};

use super::events::EventBus;

/// Changes the log levels of the running daemon (on reload).
#[derive(Debug, Clone)]
pub struct LogHandle {
    filter: Option<reload::Handle<EnvFilter, Registry>>,
    from_env: bool,
}

impl LogHandle {
    /// Applies the levels of `d` (unless `RAMPART_LOG` overrides the configuration).
    pub fn set(&self, d: &config::DaemonConfig) {
        if self.from_env {
            return;
        }
        if let Some(h) = &self.filter {
            if let Err(e) = h.reload(EnvFilter::new(directives(d))) {
                tracing::warn!("cannot change the log levels: {e}");
            }
        }
    }
}

/// The `tracing` targets of each subsystem (module paths; a directive matches by prefix).
fn targets(s: config::Subsystem) -> &'static [&'static str] {
    use config::Subsystem::*;
    match s {
        Ike => &["ike"],
        Esp => &["esp"],
        Os => &["os"],
        Dataplane => &["rampart::daemon::datapath"],
        Control => &[
            "rampart::daemon::control_server",
            "rampart::daemon::metrics",
        ],
        Daemon => &["rampart"],
    }
}

/// The `EnvFilter` directives for the configured levels, e.g. `info,ike=debug`.
pub fn directives(d: &config::DaemonConfig) -> String {
    let mut out = d.log_level.as_str().to_string();
    for (sub, level) in &d.log_subsystems {
        for t in targets(*sub) {
            let _ = write!(out, ",{t}={}", level.as_str());
        }
    }
    out
}

/// True when systemd connected our stderr to the journal: `JOURNAL_STREAM` is `DEV:INODE` of
/// stderr (systemd.exec(5)).
fn stderr_is_journal() -> bool {
    let Ok(v) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = v.split_once(':') else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    dev.parse::<u64>().ok() == Some(meta.dev()) && ino.parse::<u64>().ok() == Some(meta.ino())
}

/// Installs the global subscriber. `RAMPART_LOG` (an `EnvFilter` string) replaces the
/// configured levels.
pub fn init(d: &config::DaemonConfig, bus: &EventBus) -> LogHandle {
    let env = std::env::var("RAMPART_LOG").ok().filter(|s| !s.is_empty());
    let from_env = env.is_some();
    let filter = match env {
        Some(s) => EnvFilter::try_new(&s).unwrap_or_else(|e| {
            eprintln!("rampart: ignoring RAMPART_LOG ({e})");
            EnvFilter::new(directives(d))
        }),
        None => EnvFilter::new(directives(d)),
    };
    let (filter, handle) = reload::Layer::new(filter);
    let journald = if stderr_is_journal() {
        tracing_journald::layer().ok().map(|l| {
            // Fields as journal fields of their own name: IKE_SA=3, CHILD_SA=7.
            l.with_field_prefix(None)
                .with_syslog_identifier("rampart".into())
        })
    } else {
        None
    };
    let stderr = journald.is_none().then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
    });
    let ok = tracing_subscriber::registry()
        .with(filter)
        .with(journald)
        .with(stderr)
        .with(BusLayer { bus: bus.clone() })
        .try_init()
        .is_ok();
    LogHandle {
        filter: ok.then_some(handle),
        from_env,
    }
}

/// Sends every log line to the event bus (only formatted while someone subscribes).
struct BusLayer {
    bus: EventBus,
}

impl<S: Subscriber> Layer<S> for BusLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if !self.bus.has_subscribers() {
            return;
        }
        let mut v = LineVisitor::default();
        event.record(&mut v);
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => control::LogLevel::Error,
            Level::WARN => control::LogLevel::Warn,
            Level::INFO => control::LogLevel::Info,
            Level::DEBUG => control::LogLevel::Debug,
            Level::TRACE => control::LogLevel::Trace,
        };
        self.bus.send(Arc::new(EventMessage::new(
            super::events::now_ms(),
            Event::Log {
                level,
                target: meta.target().to_string(),
                message: v.message + &v.extra,
                ike_sa: v.ike_sa,
                child_sa: v.child_sa,
            },
        )));
    }
}

/// Collects a line's message, its SA ids, and other fields as `key=value`.
#[derive(Default)]
struct LineVisitor {
    message: String,
    extra: String,
    ike_sa: Option<u64>,
    child_sa: Option<u64>,
}

impl LineVisitor {
    fn id(&mut self, field: &Field, text: &str) -> bool {
        match field.name() {
            "ike_sa" => self.ike_sa = text.parse().ok(),
            "child_sa" => self.child_sa = text.parse().ok(),
            _ => return false,
        }
        true
    }
}

impl Visit for LineVisitor {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.id(field, &value.to_string()) {
            self.record_debug(field, &value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else if !self.id(field, value) {
            let _ = write!(self.extra, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else if !self.id(field, &text) {
            let _ = write!(self.extra, " {}={text}", field.name());
        }
    }
}
