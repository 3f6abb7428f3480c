//! The commands, results and events added to protocol version 1 for the operator surface
//! (docs/control.md): their wire shapes, strict argument checks, and that a client of this
//! version reads events and codes a newer daemon may add.

use control::*;
use serde_json::{json, Value};

fn wire(cmd: Command) -> Value {
    serde_json::to_value(Request::new(1, cmd)).unwrap()["args"].clone()
}

fn parse(v: Value) -> Result<Command, (ErrorCode, String)> {
    parse_request(&serde_json::to_vec(&v).unwrap())
        .map(|r| r.command)
        .map_err(|resp| {
            let e = resp.outcome.unwrap_err();
            (e.code, e.message)
        })
}

#[test]
fn every_command_round_trips_with_its_documented_args() {
    let cases = [
        (Command::ListSas { connection: None }, json!({})),
        (
            Command::ListSas {
                connection: Some("a".into()),
            },
            json!({"connection": "a"}),
        ),
        (Command::ListConns, json!({})),
        (Command::ListCerts, json!({})),
        (Command::ListPools, json!({})),
        (Command::ListAlgs, json!({})),
        (Command::Stats, json!({})),
        (Command::Counters, json!({})),
        (Command::Reload, json!({})),
        (
            Command::Initiate {
                connection: "a".into(),
                child: Some("c".into()),
            },
            json!({"connection": "a", "child": "c"}),
        ),
        (
            Command::Terminate(TerminateTarget::ChildSa(4)),
            json!({"child_sa": 4}),
        ),
        (Command::Rekey(SaTarget::IkeSa(2)), json!({"ike_sa": 2})),
        (Command::Rekey(SaTarget::ChildSa(5)), json!({"child_sa": 5})),
        (
            Command::Subscribe {
                sa: true,
                log: Some(LogLevel::Debug),
            },
            json!({"sa": true, "log": "debug"}),
        ),
        (
            Command::Subscribe {
                sa: false,
                log: None,
            },
            json!({"sa": false, "log": "off"}),
        ),
    ];
    for (cmd, args) in cases {
        assert_eq!(wire(cmd.clone()), args, "{cmd:?}");
        let req = json!({"v": 1, "id": 1, "command": cmd.name(), "args": args});
        assert_eq!(parse(req), Ok(cmd));
    }
    // Defaults of subscribe: SA events and info log lines.
    assert_eq!(
        parse(json!({"v": 1, "id": 1, "command": "subscribe"})),
        Ok(Command::Subscribe {
            sa: true,
            log: Some(LogLevel::Info)
        })
    );
    for name in Command::NAMES {
        assert!(
            parse(json!({"v": 1, "id": 1, "command": name, "args": {"x": 1}})).is_err(),
            "{name} takes no 'x'"
        );
    }
}

#[test]
fn bad_arguments_of_the_new_commands() {
    let cases = [
        (
            json!({"command": "terminate", "args": {"ike_sa": 1, "child_sa": 2}}),
            "'terminate' needs exactly one of the arguments 'connection', 'ike_sa' or 'child_sa'",
        ),
        (
            json!({"command": "terminate", "args": {"child_sa": -2}}),
            "argument 'child_sa' of 'terminate' must be a non-negative integer",
        ),
        (
            json!({"command": "rekey", "args": {}}),
            "'rekey' needs exactly one of the arguments 'ike_sa' or 'child_sa'",
        ),
        (
            json!({"command": "rekey", "args": {"connection": "a"}}),
            "unknown argument 'connection' for 'rekey' (allowed: ike_sa, child_sa)",
        ),
        (
            json!({"command": "subscribe", "args": {"log": "loud"}}),
            "argument 'log' of 'subscribe' must be one of off, error, warn, info, debug, trace",
        ),
        (
            json!({"command": "subscribe", "args": {"sa": "yes"}}),
            "argument 'sa' of 'subscribe' must be a boolean",
        ),
        (
            json!({"command": "list_sas", "args": {"connection": ""}}),
            "argument 'connection' of 'list_sas' must be a non-empty string",
        ),
        (
            json!({"command": "reload", "args": {"file": "/etc/passwd"}}),
            "unknown argument 'file' for 'reload' (allowed: none)",
        ),
    ];
    for (mut req, msg) in cases {
        req["v"] = json!(1);
        req["id"] = json!(9);
        assert_eq!(
            parse(req.clone()),
            Err((ErrorCode::BadRequest, msg.to_string())),
            "{req}"
        );
    }
}

#[test]
fn new_error_codes_have_their_documented_spelling() {
    for (code, s) in [
        (ErrorCode::NotSupported, "not_supported"),
        (ErrorCode::PermissionDenied, "permission_denied"),
        (ErrorCode::Busy, "busy"),
        (ErrorCode::InvalidConfig, "invalid_config"),
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(s));
        assert_eq!(code.as_str(), s);
    }
}

#[test]
fn events_have_the_documented_shape() {
    let up = EventMessage::new(
        1_700_000_000_123,
        Event::ChildUp {
            ike_sa: 1,
            child_sa: 2,
            connection: "net2net".into(),
            name: "net".into(),
            spi_in: 0xc1a2b3c4,
            spi_out: 0x10,
            local_ts: vec!["203.0.113.0/24".into()],
            remote_ts: vec!["198.51.100.0/24".into()],
        },
    );
    let v = serde_json::to_value(&up).unwrap();
    assert_eq!(
        v,
        json!({"v": 1, "time_ms": 1_700_000_000_123u64, "event": {
            "type": "child_up", "ike_sa": 1, "child_sa": 2, "connection": "net2net",
            "name": "net", "spi_in": "c1a2b3c4", "spi_out": "00000010",
            "local_ts": ["203.0.113.0/24"], "remote_ts": ["198.51.100.0/24"]}})
    );
    assert_eq!(serde_json::from_value::<EventMessage>(v).unwrap(), up);
    let log = json!({"v": 1, "time_ms": 5, "event": {"type": "log", "level": "info",
        "target": "ike::engine", "message": "m", "ike_sa": 3}});
    let m: EventMessage = serde_json::from_value(log).unwrap();
    assert_eq!(
        m.event,
        Event::Log {
            level: LogLevel::Info,
            target: "ike::engine".into(),
            message: "m".into(),
            ike_sa: Some(3),
            child_sa: None
        }
    );
    // A newer daemon's event type is read as Unknown, not as an error.
    let newer = json!({"v": 1, "time_ms": 5, "event": {"type": "mobike_update", "x": 1}});
    assert_eq!(
        serde_json::from_value::<EventMessage>(newer).unwrap().event,
        Event::Unknown
    );
}

#[test]
fn empty_listings_have_a_defined_shape() {
    assert_eq!(
        serde_json::to_value(ListCertsResult::default()).unwrap(),
        json!({"certificates": []})
    );
    assert_eq!(
        serde_json::to_value(ListPoolsResult::default()).unwrap(),
        json!({"pools": []})
    );
    let c = CountersResult::default();
    assert_eq!(
        serde_json::to_value(c).unwrap(),
        json!({"ike": {"established": 0, "child_established": 0, "down": {}},
               "children": [], "drops": null})
    );
}
