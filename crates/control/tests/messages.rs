//! Every message type round-trips through JSON, and matches the shapes in docs/control.md.

use control::*;
use serde_json::{json, Value};

fn round_trip<T>(v: &T) -> Value
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(v).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, v, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The `IkeSa` example of docs/control.md, verbatim.
fn doc_ike_sa() -> Value {
    json!({
      "id": 1, "connection": "net2net", "state": "ESTABLISHED",
      "initiator": true,
      "local": "192.0.2.1:4500", "remote": "192.0.2.100:4500",
      "local_id": "moon.example.org", "remote_id": "carol.example.org",
      "spi_i": "0123456789abcdef", "spi_r": "fedcba9876543210",
      "proposal": "aes256gcm16-prfsha256-x25519",
      "nat_local": false, "nat_remote": true,
      "established_secs": 12,
      "children": [{
        "id": 1, "name": "net", "state": "INSTALLED", "mode": "tunnel", "encap": true,
        "protocol": "ESP", "spi_in": "c1a2b3c4", "spi_out": "c5d6e7f8", "proposal": "aes256gcm16",
        "local_ts": ["203.0.113.0/24"], "remote_ts": ["198.51.100.0/25"],
        "bytes_in": 0, "bytes_out": 0, "packets_in": 0, "packets_out": 0
      }]
    })
}

fn typed_ike_sa() -> IkeSaInfo {
    IkeSaInfo {
        id: 1,
        connection: "net2net".into(),
        state: IkeSaState::Established,
        initiator: true,
        local: "192.0.2.1:4500".parse().unwrap(),
        remote: "192.0.2.100:4500".parse().unwrap(),
        local_id: "moon.example.org".into(),
        remote_id: "carol.example.org".into(),
        spi_i: 0x0123_4567_89ab_cdef,
        spi_r: 0xfedc_ba98_7654_3210,
        proposal: "aes256gcm16-prfsha256-x25519".into(),
        nat_local: false,
        nat_remote: true,
        established_secs: 12,
        children: vec![ChildSaInfo {
            id: 1,
            name: "net".into(),
            state: ChildSaState::Installed,
            mode: ChildMode::Tunnel,
            encap: true,
            protocol: "ESP".into(),
            spi_in: 0xc1a2_b3c4,
            spi_out: 0xc5d6_e7f8,
            proposal: "aes256gcm16".into(),
            local_ts: vec!["203.0.113.0/24".into()],
            remote_ts: vec!["198.51.100.0/25".into()],
            bytes_in: 0,
            bytes_out: 0,
            packets_in: 0,
            packets_out: 0,
        }],
    }
}

#[test]
fn doc_ike_sa_decodes_and_encodes_exactly() {
    let typed: IkeSaInfo = serde_json::from_value(doc_ike_sa()).unwrap();
    assert_eq!(typed, typed_ike_sa());
    assert_eq!(serde_json::to_value(&typed).unwrap(), doc_ike_sa());
    round_trip(&typed);
}

/// A daemon from before AH support sends no `protocol`: its children are ESP.
#[test]
fn child_without_protocol_is_esp() {
    let mut v = doc_ike_sa();
    v["children"][0]
        .as_object_mut()
        .unwrap()
        .remove("protocol")
        .unwrap();
    let typed: IkeSaInfo = serde_json::from_value(v).unwrap();
    assert_eq!(typed.children[0].protocol, "ESP");
    v = doc_ike_sa();
    v["children"][0]["protocol"] = json!("AH");
    let typed: IkeSaInfo = serde_json::from_value(v).unwrap();
    assert_eq!(typed.children[0].protocol, "AH");
}

#[test]
fn unknown_result_fields_are_ignored() {
    let mut v = doc_ike_sa();
    v["rekey_secs"] = json!(3600);
    v["children"][0]["future"] = json!({"x": 1});
    let typed: IkeSaInfo = serde_json::from_value(v).unwrap();
    assert_eq!(typed, typed_ike_sa());
}

#[test]
fn ipv6_endpoints_and_short_spis() {
    let mut sa = typed_ike_sa();
    sa.local = "[2001:db8::1]:500".parse().unwrap();
    sa.spi_r = 0;
    sa.children[0].spi_in = 0x10;
    sa.children[0].mode = ChildMode::Transport;
    sa.state = IkeSaState::Connecting;
    sa.children[0].state = ChildSaState::Deleting;
    let v = round_trip(&sa);
    assert_eq!(v["local"], "[2001:db8::1]:500");
    assert_eq!(v["spi_r"], "0000000000000000");
    assert_eq!(v["children"][0]["spi_in"], "00000010");
    assert_eq!(v["children"][0]["mode"], "transport");
    assert_eq!(v["state"], "CONNECTING");
    assert_eq!(v["children"][0]["state"], "DELETING");
    for bad in ["xyz", "", "+1", "00000000000000001"] {
        let mut v = doc_ike_sa();
        v["spi_i"] = json!(bad);
        assert!(serde_json::from_value::<IkeSaInfo>(v).is_err(), "{bad}");
    }
}

#[test]
fn results_round_trip() {
    let v = round_trip(&VersionResult {
        daemon: "0.1.0".into(),
        protocol: 1,
    });
    assert_eq!(v, json!({"daemon": "0.1.0", "protocol": 1}));
    let v = round_trip(&StatusResult {
        ike_sas: vec![typed_ike_sa()],
        connections: vec!["net2net".into(), "rw".into()],
    });
    assert_eq!(v["connections"], json!(["net2net", "rw"]));
    assert_eq!(v["ike_sas"][0], doc_ike_sa());
    assert_eq!(
        round_trip(&InitiateResult { ike_sa: 3 }),
        json!({"ike_sa": 3})
    );
    assert_eq!(
        round_trip(&TerminateResult { terminated: 1 }),
        json!({"terminated": 1})
    );
}

#[test]
fn requests_round_trip_with_the_doc_shape() {
    let cases = [
        (
            Command::Version,
            json!({"v": 1, "id": 1, "command": "version", "args": {}}),
        ),
        (
            Command::Status,
            json!({"v": 1, "id": 1, "command": "status", "args": {}}),
        ),
        (
            Command::Initiate {
                connection: "net2net".into(),
                child: None,
            },
            json!({"v": 1, "id": 1, "command": "initiate", "args": {"connection": "net2net"}}),
        ),
        (
            Command::Terminate(TerminateTarget::Connection("net2net".into())),
            json!({"v": 1, "id": 1, "command": "terminate", "args": {"connection": "net2net"}}),
        ),
        (
            Command::Terminate(TerminateTarget::IkeSa(3)),
            json!({"v": 1, "id": 1, "command": "terminate", "args": {"ike_sa": 3}}),
        ),
    ];
    for (cmd, expected) in cases {
        let req = Request::new(1, cmd);
        assert_eq!(round_trip(&req), expected);
    }
    // The doc's example request, and `args` may be left out when empty.
    let r: Request =
        serde_json::from_str(r#"{"v": 1, "id": 7, "command": "status", "args": {}}"#).unwrap();
    assert_eq!(r, Request::new(7, Command::Status));
    let r: Request = serde_json::from_str(r#"{"v": 1, "id": 8, "command": "version"}"#).unwrap();
    assert_eq!(r, Request::new(8, Command::Version));
}

#[test]
fn responses_round_trip_with_the_doc_shape() {
    let ok = Response::ok(7, &InitiateResult { ike_sa: 3 });
    assert_eq!(
        round_trip(&ok),
        json!({"v": 1, "id": 7, "ok": true, "result": {"ike_sa": 3}})
    );
    assert_eq!(
        ok.clone().into_result::<InitiateResult>(),
        Ok(InitiateResult { ike_sa: 3 })
    );
    let err = Response::error(7, ErrorCode::UnknownConnection, "no connection named 'x'");
    assert_eq!(
        round_trip(&err),
        json!({"v": 1, "id": 7, "ok": false,
               "error": {"code": "unknown_connection", "message": "no connection named 'x'"}})
    );
    assert_eq!(
        err.into_result::<InitiateResult>(),
        Err(ControlError::new(
            ErrorCode::UnknownConnection,
            "no connection named 'x'"
        ))
    );
    // Every error code has its documented spelling.
    for (code, s) in [
        (ErrorCode::BadRequest, "bad_request"),
        (ErrorCode::UnsupportedVersion, "unsupported_version"),
        (ErrorCode::TooLarge, "too_large"),
        (ErrorCode::UnknownCommand, "unknown_command"),
        (ErrorCode::UnknownConnection, "unknown_connection"),
        (ErrorCode::UnknownSa, "unknown_sa"),
        (ErrorCode::Failed, "failed"),
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(s));
        assert_eq!(code.as_str(), s);
        let r = Response::error(1, code, "m");
        assert_eq!(round_trip(&r)["error"]["code"], json!(s));
    }
    // A code from a newer daemon is still a readable error; unknown fields are ignored.
    let r: Response = serde_json::from_value(json!({"v": 1, "id": 2, "ok": false, "extra": 1,
        "error": {"code": "rate_limited", "message": "slow down"}}))
    .unwrap();
    assert_eq!(r.outcome.unwrap_err().code, ErrorCode::Unknown);
    // ok without result, or failure without error, is not a response.
    assert!(serde_json::from_value::<Response>(json!({"v": 1, "id": 2, "ok": true})).is_err());
    assert!(serde_json::from_value::<Response>(json!({"v": 1, "id": 2, "ok": false})).is_err());
}
