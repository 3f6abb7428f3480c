//! Client ↔ server over a real Unix stream pair, with a tiny thread-based server.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use control::*;
use serde_json::Value;

/// Serves one connection until the peer closes it, like the daemon would: frames in, one
/// response per request, `too_large` then close.
fn serve(mut stream: UnixStream) {
    let mut d = FrameDecoder::new();
    let mut buf = [0u8; 4096];
    loop {
        loop {
            match d.next_frame() {
                Ok(Some(frame)) => {
                    let resp = handle_frame(&frame, handler);
                    stream.write_all(&encode_frame(&resp).unwrap()).unwrap();
                }
                Ok(None) => break,
                Err(FrameError::TooLarge { len, .. }) => {
                    let resp = too_large_response(len);
                    stream.write_all(&encode_frame(&resp).unwrap()).unwrap();
                    return;
                }
                Err(e) => panic!("{e}"),
            }
        }
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            return;
        }
        d.push(&buf[..n]);
    }
}

fn handler(cmd: &Command) -> Result<Value, ControlError> {
    let v = match cmd {
        Command::Version => serde_json::to_value(VersionResult {
            daemon: "0.1.0".into(),
            protocol: PROTOCOL_VERSION,
        }),
        Command::Status => serde_json::to_value(StatusResult {
            ike_sas: Vec::new(),
            connections: vec!["net2net".into()],
        }),
        Command::Initiate { connection, .. } if connection == "net2net" => {
            serde_json::to_value(InitiateResult { ike_sa: 3 })
        }
        Command::Initiate { connection, .. }
        | Command::Terminate(TerminateTarget::Connection(connection)) => {
            return Err(ControlError::new(
                ErrorCode::UnknownConnection,
                format!("no connection named '{connection}'"),
            ))
        }
        Command::Terminate(TerminateTarget::IkeSa(3)) => {
            serde_json::to_value(TerminateResult { terminated: 1 })
        }
        Command::Terminate(TerminateTarget::IkeSa(n)) => {
            return Err(ControlError::new(
                ErrorCode::UnknownSa,
                format!("no IKE SA {n}"),
            ))
        }
        Command::Rekey(_) => {
            return Err(ControlError::new(
                ErrorCode::NotSupported,
                "rekeying is not supported yet",
            ))
        }
        other => {
            return Err(ControlError::new(
                ErrorCode::Failed,
                format!("'{}' is not part of this test", other.name()),
            ))
        }
    };
    Ok(v.unwrap())
}

fn pair() -> (Client, thread::JoinHandle<()>) {
    let (a, b) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || serve(b));
    (Client::from_stream(a).unwrap(), server)
}

#[test]
fn typed_calls_over_one_connection() {
    let (mut c, server) = pair();
    assert_eq!(
        c.version().unwrap(),
        VersionResult {
            daemon: "0.1.0".into(),
            protocol: 1
        }
    );
    let st = c.status().unwrap();
    assert_eq!(st.connections, ["net2net"]);
    assert!(st.ike_sas.is_empty());
    assert_eq!(
        c.initiate("net2net", None).unwrap(),
        InitiateResult { ike_sa: 3 }
    );
    assert_eq!(
        c.terminate(TerminateTarget::IkeSa(3)).unwrap(),
        TerminateResult { terminated: 1 }
    );
    // Errors from the daemon come back as Remote and leave the connection usable.
    match c.initiate("nope", None) {
        Err(ClientError::Remote(e)) => {
            assert_eq!(
                e,
                ControlError::new(ErrorCode::UnknownConnection, "no connection named 'nope'")
            );
        }
        other => panic!("{other:?}"),
    }
    match c.terminate(TerminateTarget::IkeSa(99)) {
        Err(ClientError::Remote(e)) => assert_eq!(e.code, ErrorCode::UnknownSa),
        other => panic!("{other:?}"),
    }
    let raw = c.call(Command::Status).unwrap();
    assert_eq!(raw["connections"][0], "net2net");
    drop(c);
    server.join().unwrap();
}

#[test]
fn connect_by_path() {
    let dir = std::env::temp_dir().join(format!("rampart-control-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.sock");
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = thread::spawn(move || serve(listener.accept().unwrap().0));
    let mut c = Client::connect(&path).unwrap();
    assert_eq!(c.version().unwrap().protocol, 1);
    drop(c);
    server.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(Client::connect(&path), Err(ClientError::Io(_))));
}

#[test]
fn oversized_request_is_answered_too_large_and_closed() {
    let (mut a, b) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || serve(b));
    a.write_all(&((MAX_FRAME + 1) as u32).to_be_bytes())
        .unwrap();
    let mut d = FrameDecoder::new();
    let mut buf = Vec::new();
    a.read_to_end(&mut buf).unwrap(); // the server closes after answering
    d.push(&buf);
    let resp: Response = serde_json::from_slice(&d.next_frame().unwrap().unwrap()).unwrap();
    assert_eq!(resp.id, 0);
    assert_eq!(resp.outcome.unwrap_err().code, ErrorCode::TooLarge);
    assert_eq!(d.buffered(), 0);
    server.join().unwrap();
}

#[test]
fn raw_wrong_version_and_unknown_command_over_the_socket() {
    let (mut a, b) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || serve(b));
    let mut send = |v: Value| {
        let body = serde_json::to_vec(&v).unwrap();
        a.write_all(&(body.len() as u32).to_be_bytes()).unwrap();
        a.write_all(&body).unwrap();
    };
    send(serde_json::json!({"v": 2, "id": 1, "command": "status"}));
    send(serde_json::json!({"v": 1, "id": 2, "command": "reboot"}));
    // Both frames written before reading: answers come back in order.
    let mut d = FrameDecoder::new();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while got.len() < 2 {
        let n = a.read(&mut buf).unwrap();
        assert!(n > 0);
        d.push(&buf[..n]);
        while let Some(f) = d.next_frame().unwrap() {
            got.push(serde_json::from_slice::<Response>(&f).unwrap());
        }
    }
    assert_eq!((got[0].id, got[0].v), (1, 1));
    assert_eq!(
        got[0].clone().outcome.unwrap_err().code,
        ErrorCode::UnsupportedVersion
    );
    assert_eq!(got[1].id, 2);
    assert_eq!(
        got[1].clone().outcome.unwrap_err().code,
        ErrorCode::UnknownCommand
    );
    drop(a);
    server.join().unwrap();
}

#[test]
fn server_gone_is_closed_and_the_client_is_then_broken() {
    let (a, b) = UnixStream::pair().unwrap();
    // A server that reads one request and hangs up without answering.
    let server = thread::spawn(move || {
        let mut b = b;
        let mut buf = [0u8; 64];
        let _ = b.read(&mut buf).unwrap();
    });
    let mut c = Client::from_stream(a).unwrap();
    assert!(matches!(c.status(), Err(ClientError::Closed)));
    assert!(matches!(c.status(), Err(ClientError::Broken)));
    server.join().unwrap();
}

#[test]
fn silent_server_times_out() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut c = Client::from_stream(a).unwrap();
    c.set_timeout(Some(Duration::from_millis(50))).unwrap();
    // `b` stays open and never answers: the read must time out rather than block.
    match c.version() {
        Err(ClientError::Timeout(t)) => assert_eq!(t, Duration::from_millis(50)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.version(), Err(ClientError::Broken)));
    drop(b);
}

#[test]
fn mismatched_response_id_is_detected() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || {
        let mut d = FrameDecoder::new();
        let mut buf = [0u8; 256];
        loop {
            let n = b.read(&mut buf).unwrap();
            d.push(&buf[..n]);
            if d.next_frame().unwrap().is_some() {
                break;
            }
        }
        let resp = Response::ok(42, &TerminateResult { terminated: 0 });
        b.write_all(&encode_frame(&resp).unwrap()).unwrap();
    });
    let mut c = Client::from_stream(a).unwrap();
    match c.status() {
        Err(ClientError::BadResponse(m)) => {
            assert_eq!(m, "answer to request 42 while waiting for 1")
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}
