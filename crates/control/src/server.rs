//! Server side: turning a frame into a [`Request`] or the error [`Response`] to send.

use serde_json::Value;

use crate::frame::MAX_FRAME;
use crate::message::{Command, ControlError, ErrorCode, Request, Response, PROTOCOL_VERSION};

/// Parses one frame's payload. On failure the `Err` is the response to send:
/// malformed JSON or arguments → `bad_request`, another `"v"` → `unsupported_version`,
/// an unknown command → `unknown_command`. The id is echoed when it could be read, else 0.
pub fn parse_request(frame: &[u8]) -> Result<Request, Response> {
    let v: Value = serde_json::from_slice(frame)
        .map_err(|e| Response::error(0, ErrorCode::BadRequest, format!("malformed JSON: {e}")))?;
    request_from_value(&v).map_err(|(id, e)| Response {
        v: PROTOCOL_VERSION,
        id,
        outcome: Err(e),
    })
}

/// The checks of [`parse_request`] on a decoded JSON value; `Err` holds the id to echo.
pub(crate) fn request_from_value(v: &Value) -> Result<Request, (u64, ControlError)> {
    let bad = |id: u64, m: &str| (id, ControlError::new(ErrorCode::BadRequest, m));
    let Value::Object(obj) = v else {
        return Err(bad(0, "a request must be a JSON object"));
    };
    let id = obj.get("id").and_then(Value::as_u64);
    let echo = id.unwrap_or(0);
    let version = match obj.get("v") {
        None => return Err(bad(echo, "missing \"v\" (the protocol version, 1)")),
        Some(v) => v,
    };
    match version.as_u64() {
        Some(n) if n == u64::from(PROTOCOL_VERSION) => {}
        Some(n) => {
            return Err((
                echo,
                ControlError::new(
                    ErrorCode::UnsupportedVersion,
                    format!(
                    "protocol version {n} is not supported (this daemon speaks {PROTOCOL_VERSION})"
                ),
                ),
            ))
        }
        None => return Err(bad(echo, "\"v\" must be a non-negative integer")),
    }
    let Some(id) = id else {
        return Err(bad(0, "missing or invalid \"id\" (a non-negative integer)"));
    };
    for k in obj.keys() {
        if !["v", "id", "command", "args"].contains(&k.as_str()) {
            return Err(bad(
                id,
                &format!(
                    "unknown field '{}' (allowed: v, id, command, args)",
                    k.escape_default()
                ),
            ));
        }
    }
    let Some(name) = obj.get("command").and_then(Value::as_str) else {
        return Err(bad(id, "missing or invalid \"command\" (a string)"));
    };
    let empty = Value::Object(serde_json::Map::new());
    let args = obj.get("args").unwrap_or(&empty);
    let command = Command::from_parts(name, args).map_err(|e| (id, e))?;
    Ok(Request {
        v: PROTOCOL_VERSION,
        id,
        command,
    })
}

/// The response to send when a frame exceeded [`MAX_FRAME`]; close the connection after it.
pub fn too_large_response(len: usize) -> Response {
    Response::error(
        0,
        ErrorCode::TooLarge,
        format!("frame of {len} bytes exceeds the limit of {MAX_FRAME} bytes"),
    )
}

/// Answers one frame: parses it and, when it is a valid request, runs `handler` on the command.
/// The handler returns the result as JSON (e.g. `serde_json::to_value(&StatusResult { .. })`)
/// or an error.
pub fn handle_frame(
    frame: &[u8],
    handler: impl FnOnce(&Command) -> Result<Value, ControlError>,
) -> Response {
    match parse_request(frame) {
        Ok(req) => Response {
            v: PROTOCOL_VERSION,
            id: req.id,
            outcome: handler(&req.command),
        },
        Err(resp) => resp,
    }
}
