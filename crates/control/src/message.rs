//! Requests, responses and error codes (docs/control.md "Request", "Response").

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The protocol version this crate speaks (`"v"` of every message).
pub const PROTOCOL_VERSION: u32 = 1;

/// A request: `{"v": 1, "id": 7, "command": "status", "args": {}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Protocol version.
    pub v: u32,
    /// Chosen by the client, echoed in the response.
    pub id: u64,
    /// What to do.
    pub command: Command,
}

impl Request {
    /// A request of the current version.
    pub fn new(id: u64, command: Command) -> Self {
        Request {
            v: PROTOCOL_VERSION,
            id,
            command,
        }
    }
}

pub use crate::command::Command;

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("v", &self.v)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("command", self.command.name())?;
        m.serialize_entry("args", &self.command.args())?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Request {
    /// Strict: the same checks as [`crate::parse_request`], reported as a serde error.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        crate::server::request_from_value(&v).map_err(|(_, e)| serde::de::Error::custom(e.message))
    }
}

/// Error codes (docs/control.md "Response").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed JSON or arguments.
    BadRequest,
    /// The request's `v` is not ours.
    UnsupportedVersion,
    /// The frame was larger than 1 MiB.
    TooLarge,
    /// No such command.
    UnknownCommand,
    /// No connection of that name.
    UnknownConnection,
    /// No SA with that id.
    UnknownSa,
    /// The command ran and failed.
    Failed,
    /// The command exists but the daemon cannot do it yet (e.g. `rekey`).
    NotSupported,
    /// The peer credentials (SO_PEERCRED) are neither root nor the configured control group.
    PermissionDenied,
    /// Too many clients are connected; try again later.
    Busy,
    /// `reload`: the new configuration has errors; the running one stays.
    InvalidConfig,
    /// A code this version does not know (from a newer daemon).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::UnknownConnection => "unknown_connection",
            ErrorCode::UnknownSa => "unknown_sa",
            ErrorCode::Failed => "failed",
            ErrorCode::NotSupported => "not_supported",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::Busy => "busy",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` object of a failed response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ControlError {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
}

impl ControlError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ControlError {
            code,
            message: message.into(),
        }
    }
}

/// A response: `{"v": 1, "id": 7, "ok": true, "result": {...}}` or
/// `{"v": 1, "id": 7, "ok": false, "error": {"code": ..., "message": ...}}`.
/// `id` is 0 when the request's id could not be read (malformed or too large).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Protocol version (the daemon's).
    pub v: u32,
    /// The request's id.
    pub id: u64,
    /// `result` when `ok`, else `error`.
    pub outcome: Result<Value, ControlError>,
}

impl Response {
    /// A successful response carrying `result` (serialised to JSON).
    pub fn ok(id: u64, result: &impl Serialize) -> Self {
        let outcome = serde_json::to_value(result).map_err(|e| {
            ControlError::new(ErrorCode::Failed, format!("cannot encode result: {e}"))
        });
        Response {
            v: PROTOCOL_VERSION,
            id,
            outcome,
        }
    }

    /// A failed response.
    pub fn error(id: u64, code: ErrorCode, message: impl Into<String>) -> Self {
        Response {
            v: PROTOCOL_VERSION,
            id,
            outcome: Err(ControlError::new(code, message)),
        }
    }

    /// True for `"ok": true`.
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }

    /// The result decoded as `T`, or the error.
    pub fn into_result<T: DeserializeOwned>(self) -> Result<T, ControlError> {
        let v = self.outcome?;
        serde_json::from_value(v).map_err(|e| {
            ControlError::new(ErrorCode::BadRequest, format!("unexpected result: {e}"))
        })
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("v", &self.v)?;
        m.serialize_entry("id", &self.id)?;
        match &self.outcome {
            Ok(r) => {
                m.serialize_entry("ok", &true)?;
                m.serialize_entry("result", r)?;
            }
            Err(e) => {
                m.serialize_entry("ok", &false)?;
                m.serialize_entry("error", e)?;
            }
        }
        m.end()
    }
}

#[derive(Deserialize)]
struct RawResponse {
    v: u32,
    id: u64,
    ok: bool,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<ControlError>,
}

impl<'de> Deserialize<'de> for Response {
    /// Unknown fields are ignored (docs/control.md "Versioning").
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawResponse::deserialize(d)?;
        let outcome = match (r.ok, r.result, r.error) {
            (true, Some(result), _) => Ok(result),
            (true, None, _) => return Err(serde::de::Error::missing_field("result")),
            (false, _, Some(e)) => Err(e),
            (false, _, None) => return Err(serde::de::Error::missing_field("error")),
        };
        Ok(Response {
            v: r.v,
            id: r.id,
            outcome,
        })
    }
}
