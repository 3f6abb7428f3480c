//! The commands and their arguments (docs/control.md "Commands"): the `command` name and the
//! `args` object of a request, checked strictly.

use serde_json::{Map, Value};

use crate::message::{ControlError, ErrorCode};

/// The commands of protocol version 1 and their arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `version`: no arguments; result [`crate::VersionResult`].
    Version,
    /// `status`: no arguments; result [`crate::StatusResult`].
    Status,
    /// `list_sas {"connection"?: NAME}`; result [`crate::ListSasResult`].
    ListSas {
        /// Only the IKE SAs of this connection.
        connection: Option<String>,
    },
    /// `list_conns`; result [`crate::ListConnsResult`].
    ListConns,
    /// `list_certs`; result [`crate::ListCertsResult`].
    ListCerts,
    /// `list_pools`; result [`crate::ListPoolsResult`].
    ListPools,
    /// `list_algs`; result [`crate::ListAlgsResult`].
    ListAlgs,
    /// `stats`; result [`crate::StatsResult`].
    Stats,
    /// `counters`; result [`crate::CountersResult`].
    Counters,
    /// `initiate {"connection": NAME, "child"?: NAME}`; result [`crate::InitiateResult`].
    Initiate {
        /// The connection to start.
        connection: String,
        /// The child to negotiate with the IKE SA (default: the connection's first).
        child: Option<String>,
    },
    /// `terminate {"connection": NAME}`, `{"ike_sa": ID}` or `{"child_sa": ID}`; result
    /// [`crate::TerminateResult`].
    Terminate(TerminateTarget),
    /// `rekey {"ike_sa": ID}` or `{"child_sa": ID}`; result [`crate::RekeyResult`].
    Rekey(SaTarget),
    /// `reload`: re-read the configuration file; result [`crate::ReloadResult`].
    Reload,
    /// `subscribe {"sa"?: bool, "log"?: LEVEL}`: the connection becomes an event stream
    /// (docs/control.md "Events"); result [`crate::SubscribeResult`].
    Subscribe {
        /// SA events (up, down, rekey). Default true.
        sa: bool,
        /// Log lines at this level or more severe; `None` = no log lines. Default `info`.
        log: Option<LogLevel>,
    },
}

/// What `terminate` deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminateTarget {
    /// Every IKE SA of this connection.
    Connection(String),
    /// One IKE SA by its id (with its Child SAs).
    IkeSa(u64),
    /// One Child SA by its id.
    ChildSa(u64),
}

/// One SA by id (`rekey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaTarget {
    /// An IKE SA.
    IkeSa(u64),
    /// A Child SA.
    ChildSa(u64),
}

/// Severity of a log line (the `tracing` levels), most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `error`
    Error,
    /// `warn`
    Warn,
    /// `info`
    Info,
    /// `debug`
    Debug,
    /// `trace`
    Trace,
}

impl LogLevel {
    /// Every level, most severe first.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    /// Parses a name (lowercase).
    pub fn parse(s: &str) -> Option<LogLevel> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for LogLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for LogLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LogLevel::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown level '{s}'")))
    }
}

impl Command {
    /// Every command name this version knows.
    pub const NAMES: &'static [&'static str] = &[
        "version",
        "status",
        "list_sas",
        "list_conns",
        "list_certs",
        "list_pools",
        "list_algs",
        "stats",
        "counters",
        "initiate",
        "terminate",
        "rekey",
        "reload",
        "subscribe",
    ];

    /// The command's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Version => "version",
            Command::Status => "status",
            Command::ListSas { .. } => "list_sas",
            Command::ListConns => "list_conns",
            Command::ListCerts => "list_certs",
            Command::ListPools => "list_pools",
            Command::ListAlgs => "list_algs",
            Command::Stats => "stats",
            Command::Counters => "counters",
            Command::Initiate { .. } => "initiate",
            Command::Terminate(_) => "terminate",
            Command::Rekey(_) => "rekey",
            Command::Reload => "reload",
            Command::Subscribe { .. } => "subscribe",
        }
    }

    /// The `args` object.
    pub fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.into(), v);
        };
        match self {
            Command::Version
            | Command::Status
            | Command::ListConns
            | Command::ListCerts
            | Command::ListPools
            | Command::ListAlgs
            | Command::Stats
            | Command::Counters
            | Command::Reload => {}
            Command::ListSas { connection } => {
                if let Some(c) = connection {
                    put("connection", c.as_str().into());
                }
            }
            Command::Initiate { connection, child } => {
                put("connection", connection.as_str().into());
                if let Some(c) = child {
                    put("child", c.as_str().into());
                }
            }
            Command::Terminate(TerminateTarget::Connection(c)) => {
                put("connection", c.as_str().into())
            }
            Command::Terminate(TerminateTarget::IkeSa(id))
            | Command::Rekey(SaTarget::IkeSa(id)) => put("ike_sa", (*id).into()),
            Command::Terminate(TerminateTarget::ChildSa(id))
            | Command::Rekey(SaTarget::ChildSa(id)) => put("child_sa", (*id).into()),
            Command::Subscribe { sa, log } => {
                put("sa", (*sa).into());
                put("log", log.map_or("off", |l| l.as_str()).into());
            }
        }
        m
    }

    /// Builds a command from its name and `args`. `Err` carries the error code
    /// (`unknown_command` or `bad_request`) and a message.
    pub fn from_parts(name: &str, args: &Value) -> Result<Command, ControlError> {
        let Value::Object(args) = args else {
            return Err(bad(format!("'args' of '{name}' must be an object")));
        };
        let a = Args { name, args };
        match name {
            "version" => a.none(Command::Version),
            "status" => a.none(Command::Status),
            "list_conns" => a.none(Command::ListConns),
            "list_certs" => a.none(Command::ListCerts),
            "list_pools" => a.none(Command::ListPools),
            "list_algs" => a.none(Command::ListAlgs),
            "stats" => a.none(Command::Stats),
            "counters" => a.none(Command::Counters),
            "reload" => a.none(Command::Reload),
            "list_sas" => {
                a.allow_only(&["connection"])?;
                Ok(Command::ListSas {
                    connection: a.opt_string("connection")?,
                })
            }
            "initiate" => {
                a.allow_only(&["connection", "child"])?;
                Ok(Command::Initiate {
                    connection: a.string("connection")?,
                    child: a.opt_string("child")?,
                })
            }
            "terminate" => {
                a.allow_only(&["connection", "ike_sa", "child_sa"])?;
                let one_of =
                    "'terminate' needs exactly one of the arguments 'connection', 'ike_sa' or 'child_sa'";
                match a.exactly_one(&["connection", "ike_sa", "child_sa"], one_of)? {
                    "connection" => Ok(Command::Terminate(TerminateTarget::Connection(
                        a.string("connection")?,
                    ))),
                    "ike_sa" => Ok(Command::Terminate(TerminateTarget::IkeSa(a.id("ike_sa")?))),
                    _ => Ok(Command::Terminate(TerminateTarget::ChildSa(
                        a.id("child_sa")?,
                    ))),
                }
            }
            "rekey" => {
                a.allow_only(&["ike_sa", "child_sa"])?;
                let one_of = "'rekey' needs exactly one of the arguments 'ike_sa' or 'child_sa'";
                match a.exactly_one(&["ike_sa", "child_sa"], one_of)? {
                    "ike_sa" => Ok(Command::Rekey(SaTarget::IkeSa(a.id("ike_sa")?))),
                    _ => Ok(Command::Rekey(SaTarget::ChildSa(a.id("child_sa")?))),
                }
            }
            "subscribe" => {
                a.allow_only(&["sa", "log"])?;
                let sa = match args.get("sa") {
                    None => true,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(bad("argument 'sa' of 'subscribe' must be a boolean".into()))
                    }
                };
                let log = match args.get("log") {
                    None => Some(LogLevel::Info),
                    Some(Value::String(s)) if s == "off" => None,
                    Some(Value::String(s)) if LogLevel::parse(s).is_some() => LogLevel::parse(s),
                    Some(_) => {
                        return Err(bad(
                            "argument 'log' of 'subscribe' must be one of off, error, \
                                        warn, info, debug, trace"
                                .into(),
                        ))
                    }
                };
                Ok(Command::Subscribe { sa, log })
            }
            other => Err(ControlError::new(
                ErrorCode::UnknownCommand,
                format!(
                    "unknown command '{}' (allowed: {})",
                    other.escape_default(),
                    Command::NAMES.join(", ")
                ),
            )),
        }
    }
}

fn bad(m: String) -> ControlError {
    ControlError::new(ErrorCode::BadRequest, m)
}

/// The `args` of one request, with the checks every command shares.
struct Args<'a> {
    name: &'a str,
    args: &'a Map<String, Value>,
}

impl Args<'_> {
    fn allow_only(&self, allowed: &[&str]) -> Result<(), ControlError> {
        match self.args.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(bad(format!(
                "unknown argument '{}' for '{}' (allowed: {})",
                k.escape_default(),
                self.name,
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            ))),
            None => Ok(()),
        }
    }

    fn none(&self, c: Command) -> Result<Command, ControlError> {
        self.allow_only(&[]).map(|()| c)
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, ControlError> {
        match self.args.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!(
                "argument '{key}' of '{}' must be a non-empty string",
                self.name
            ))),
            None => Ok(None),
        }
    }

    fn string(&self, key: &str) -> Result<String, ControlError> {
        self.opt_string(key)?
            .ok_or_else(|| bad(format!("'{}' needs the argument '{key}'", self.name)))
    }

    fn id(&self, key: &str) -> Result<u64, ControlError> {
        self.args.get(key).and_then(Value::as_u64).ok_or_else(|| {
            bad(format!(
                "argument '{key}' of '{}' must be a non-negative integer",
                self.name
            ))
        })
    }

    /// The one key of `keys` present; `msg` when none or several are.
    fn exactly_one<'k>(&self, keys: &[&'k str], msg: &str) -> Result<&'k str, ControlError> {
        let present: Vec<&'k str> = keys
            .iter()
            .copied()
            .filter(|k| self.args.contains_key(*k))
            .collect();
        match present.as_slice() {
            [one] => Ok(one),
            _ => Err(bad(msg.to_string())),
        }
    }
}
