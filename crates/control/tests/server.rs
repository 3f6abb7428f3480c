//! The server side: every malformed request maps to the documented error code.

use control::*;
use serde_json::{json, Value};

fn err_of(frame: &[u8]) -> (u64, ErrorCode, String) {
    let r = parse_request(frame).unwrap_err();
    assert_eq!(r.v, PROTOCOL_VERSION);
    let e = r.outcome.unwrap_err();
    (r.id, e.code, e.message)
}

fn err_of_json(v: Value) -> (u64, ErrorCode, String) {
    err_of(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn malformed_json_is_bad_request() {
    for frame in [
        &b"{"[..],
        b"",
        b"not json",
        b"{\"v\":1,}",
        b"\xff\xfe",
        b"{\"v\": 1} trailing",
    ] {
        let (id, code, msg) = err_of(frame);
        assert_eq!((id, code), (0, ErrorCode::BadRequest), "{frame:?}");
        assert!(msg.starts_with("malformed JSON: "), "{msg}");
    }
    let (id, code, msg) = err_of_json(json!([1, 2]));
    assert_eq!((id, code), (0, ErrorCode::BadRequest));
    assert_eq!(msg, "a request must be a JSON object");
}

#[test]
fn wrong_version_is_unsupported_version_with_our_version() {
    let (id, code, msg) = err_of_json(json!({"v": 2, "id": 9, "command": "status"}));
    assert_eq!((id, code), (9, ErrorCode::UnsupportedVersion));
    assert_eq!(
        msg,
        "protocol version 2 is not supported (this daemon speaks 1)"
    );
    // The version is checked before anything else a newer client may have changed.
    let (_, code, _) = err_of_json(json!({"v": 2, "id": 9, "command": "frobnicate", "x": 1}));
    assert_eq!(code, ErrorCode::UnsupportedVersion);
    let (id, code, _) = err_of_json(json!({"v": 0}));
    assert_eq!((id, code), (0, ErrorCode::UnsupportedVersion));
    // Missing or non-integer "v" is malformed.
    let (_, code, msg) = err_of_json(json!({"id": 1, "command": "status"}));
    assert_eq!(code, ErrorCode::BadRequest);
    assert_eq!(msg, "missing \"v\" (the protocol version, 1)");
    let (id, code, _) = err_of_json(json!({"v": "1", "id": 4, "command": "status"}));
    assert_eq!((id, code), (4, ErrorCode::BadRequest));
}

#[test]
fn unknown_command() {
    let (id, code, msg) = err_of_json(json!({"v": 1, "id": 3, "command": "reboot", "args": {}}));
    assert_eq!((id, code), (3, ErrorCode::UnknownCommand));
    assert_eq!(
        msg,
        "unknown command 'reboot' (allowed: version, status, list_sas, list_conns, list_certs, list_pools, list_algs, stats, counters, initiate, terminate, rekey, reload, subscribe)"
    );
}

#[test]
fn bad_arguments_and_fields() {
    let cases = [
        (
            json!({"v": 1, "command": "status"}),
            0,
            "missing or invalid \"id\" (a non-negative integer)",
        ),
        (
            json!({"v": 1, "id": -1, "command": "status"}),
            0,
            "missing or invalid \"id\" (a non-negative integer)",
        ),
        (
            json!({"v": 1, "id": 1}),
            1,
            "missing or invalid \"command\" (a string)",
        ),
        (
            json!({"v": 1, "id": 1, "command": 5}),
            1,
            "missing or invalid \"command\" (a string)",
        ),
        (
            json!({"v": 1, "id": 1, "command": "status", "verbose": true}),
            1,
            "unknown field 'verbose' (allowed: v, id, command, args)",
        ),
        (
            json!({"v": 1, "id": 1, "command": "status", "args": []}),
            1,
            "'args' of 'status' must be an object",
        ),
        (
            json!({"v": 1, "id": 1, "command": "status", "args": {"all": true}}),
            1,
            "unknown argument 'all' for 'status' (allowed: none)",
        ),
        (
            json!({"v": 1, "id": 2, "command": "initiate", "args": {}}),
            2,
            "'initiate' needs the argument 'connection'",
        ),
        (
            json!({"v": 1, "id": 2, "command": "initiate", "args": {"connection": 7}}),
            2,
            "argument 'connection' of 'initiate' must be a non-empty string",
        ),
        (
            json!({"v": 1, "id": 2, "command": "initiate", "args": {"connection": "a", "chld": "b"}}),
            2,
            "unknown argument 'chld' for 'initiate' (allowed: connection, child)",
        ),
        (
            json!({"v": 1, "id": 5, "command": "terminate", "args": {}}),
            5,
            "'terminate' needs exactly one of the arguments 'connection', 'ike_sa' or 'child_sa'",
        ),
        (
            json!({"v": 1, "id": 5, "command": "terminate", "args": {"connection": "a", "ike_sa": 1}}),
            5,
            "'terminate' needs exactly one of the arguments 'connection', 'ike_sa' or 'child_sa'",
        ),
        (
            json!({"v": 1, "id": 5, "command": "terminate", "args": {"ike_sa": "1"}}),
            5,
            "argument 'ike_sa' of 'terminate' must be a non-negative integer",
        ),
    ];
    for (req, want_id, want_msg) in cases {
        let (id, code, msg) = err_of_json(req.clone());
        assert_eq!(
            (id, code, msg.as_str()),
            (want_id, ErrorCode::BadRequest, want_msg),
            "{req}"
        );
    }
}

#[test]
fn handle_frame_runs_the_handler_only_for_valid_requests() {
    let frame = serde_json::to_vec(&Request::new(
        11,
        Command::Initiate {
            connection: "net2net".into(),
            child: None,
        },
    ))
    .unwrap();
    let r = handle_frame(&frame, |cmd| {
        assert_eq!(
            cmd,
            &Command::Initiate {
                connection: "net2net".into(),
                child: None
            }
        );
        Ok(serde_json::to_value(InitiateResult { ike_sa: 4 }).unwrap())
    });
    assert_eq!(r, Response::ok(11, &InitiateResult { ike_sa: 4 }));

    let r = handle_frame(b"{", |_| panic!("handler must not run"));
    assert_eq!(r.outcome.unwrap_err().code, ErrorCode::BadRequest);

    let r = handle_frame(&frame, |_| {
        Err(ControlError::new(
            ErrorCode::UnknownConnection,
            "no connection named 'net2net'",
        ))
    });
    assert_eq!(r.id, 11);
    assert_eq!(r.outcome.unwrap_err().code, ErrorCode::UnknownConnection);

    let r = too_large_response(MAX_FRAME + 1);
    assert_eq!(r.id, 0);
    assert_eq!(
        r.outcome.unwrap_err(),
        ControlError::new(
            ErrorCode::TooLarge,
            "frame of 1048577 bytes exceeds the limit of 1048576 bytes"
        )
    );
}
