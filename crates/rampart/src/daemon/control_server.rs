//! The control socket (docs/control.md): a Unix stream socket, root-only (or a configured
//! group), whose requests are handed to the engine task and answered in order, and whose
//! `subscribe` turns a connection into an event stream.
//!
//! Robustness: every client has its own task; the engine task never waits for a client (it
//! answers through a oneshot channel and publishes events to a bounded broadcast queue). A
//! client gets [`IDLE`] between requests, [`FRAME_TIME`] to finish a frame it started and
//! [`WRITE_TIME`] to take each answer; past that it is dropped. At most [`MAX_CLIENTS`] are
//! served at once; one more is answered `busy`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use control::{
    encode_frame, parse_request, too_large_response, Command, ControlError, ErrorCode, Event,
    EventMessage, FrameDecoder, LogLevel, Response, SubscribeResult,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore};

use super::events::{now_ms, EventBus};
use super::peercred::{Access, Peer};

/// A command for the engine task and where to put its answer.
#[derive(Debug)]
pub struct ControlRequest {
    /// The command.
    pub command: Command,
    /// The answer.
    pub reply: oneshot::Sender<Result<Value, ControlError>>,
}

/// How long a client may stay silent between requests.
pub const IDLE: Duration = Duration::from_secs(60);
/// How long a client may take to complete a frame it started.
pub const FRAME_TIME: Duration = Duration::from_secs(10);
/// How long a client may take to read one answer or event.
pub const WRITE_TIME: Duration = Duration::from_secs(5);
/// How long a request may wait for the engine task.
const ENGINE_TIME: Duration = Duration::from_secs(30);
/// How long a refused client may take to send the request its refusal answers.
const REFUSE_WAIT: Duration = Duration::from_secs(1);
/// Clients served at once.
pub const MAX_CLIENTS: usize = 128;

/// Binds the socket: the directory is created when missing (0700, or 0750 owned by the
/// control group), a stale socket replaced, the socket made 0600 (0660 with the group).
pub fn bind(path: &Path, group: Option<u32>) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)?;
            let mode = if group.is_some() { 0o750 } else { 0o700 };
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
            if let Some(gid) = group {
                std::os::unix::fs::chown(dir, None, Some(gid))?;
            }
        }
    }
    if path.exists() {
        // A live daemon answers; a stale socket does not.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another daemon answers on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let l = UnixListener::bind(path)?;
    let mode = if group.is_some() { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    if let Some(gid) = group {
        std::os::unix::fs::chown(path, None, Some(gid))?;
    }
    Ok(l)
}

/// What every client task shares.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The engine task's queue.
    pub engine: mpsc::Sender<ControlRequest>,
    /// Events for subscribers.
    pub bus: EventBus,
    /// Who may connect.
    pub access: Arc<Access>,
    /// Clients connected now (for `stats`).
    pub clients: Arc<AtomicU64>,
}

/// Accepts clients until the listener fails.
pub async fn serve(listener: UnixListener, shared: Shared) {
    let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::error!("control socket accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(
                stream,
                ErrorCode::Busy,
                format!("too many control clients (at most {MAX_CLIENTS}); try again later"),
            ));
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            shared.clients.fetch_add(1, Ordering::Relaxed);
            client(stream, &shared).await;
            shared.clients.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
}

/// Answers one error (id 0) and closes. The client's first request is awaited (briefly)
/// first, so that the error is what answers it rather than a reset connection.
async fn refuse(mut stream: UnixStream, code: ErrorCode, message: String) {
    let mut dec = FrameDecoder::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(REFUSE_WAIT, async {
        loop {
            match dec.next_frame() {
                Ok(None) => {}
                _ => return,
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => dec.push(buf.get(..n).unwrap_or(&[])),
            }
        }
    })
    .await;
    let _ = write(&mut stream, &Response::error(0, code, message)).await;
}

async fn client(mut stream: UnixStream, shared: &Shared) {
    let peer = match stream.peer_cred() {
        Ok(c) => Peer {
            uid: c.uid(),
            gid: c.gid(),
            pid: c.pid(),
        },
        Err(e) => {
            tracing::warn!("control socket: no peer credentials: {e}");
            return;
        }
    };
    if let Err(why) = shared.access.check(&peer) {
        tracing::warn!(
            "control socket: refused uid {} gid {} pid {:?}",
            peer.uid,
            peer.gid,
            peer.pid
        );
        refuse(stream, ErrorCode::PermissionDenied, why).await;
        return;
    }
    let mut dec = FrameDecoder::new();
    let mut buf = vec![0u8; 16384];
    loop {
        // Answer every complete frame, in order.
        loop {
            match dec.next_frame() {
                Ok(Some(frame)) => match parse_request(&frame) {
                    Err(resp) => {
                        if !write(&mut stream, &resp).await {
                            return;
                        }
                    }
                    Ok(req) => {
                        if let Command::Subscribe { sa, log } = req.command {
                            // Subscribed before answering: nothing after the answer is missed.
                            let rx = shared.bus.subscribe();
                            let r = Response::ok(req.id, &SubscribeResult { sa, log });
                            if write(&mut stream, &r).await {
                                stream_events(stream, rx, sa, log).await;
                            }
                            return;
                        }
                        let resp = Response {
                            v: control::PROTOCOL_VERSION,
                            id: req.id,
                            outcome: ask_engine(req.command, &shared.engine).await,
                        };
                        if !write(&mut stream, &resp).await {
                            return;
                        }
                    }
                },
                Ok(None) => break,
                Err(control::FrameError::TooLarge { len, .. }) => {
                    let _ = write(&mut stream, &too_large_response(len)).await;
                    return;
                }
                Err(_) => return,
            }
        }
        let wait = if dec.buffered() > 0 { FRAME_TIME } else { IDLE };
        let n = match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => return,
            Ok(Ok(n)) => n,
        };
        dec.push(buf.get(..n).unwrap_or(&[]));
    }
}

/// Runs `command` in the engine task.
pub async fn ask_engine(
    command: Command,
    engine: &mpsc::Sender<ControlRequest>,
) -> Result<Value, ControlError> {
    let failed = |m: &str| ControlError::new(ErrorCode::Failed, m);
    let (tx, rx) = oneshot::channel();
    let req = ControlRequest { command, reply: tx };
    match tokio::time::timeout(ENGINE_TIME, engine.send(req)).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return Err(failed("the daemon is shutting down")),
        Err(_) => return Err(failed("the daemon is busy; try again")),
    }
    match tokio::time::timeout(ENGINE_TIME, rx).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Err(failed("the daemon is shutting down")),
        Err(_) => Err(failed("the daemon did not answer in time")),
    }
}

/// Sends events until the client goes away or reads too slowly.
async fn stream_events(
    mut stream: UnixStream,
    mut rx: broadcast::Receiver<Arc<EventMessage>>,
    sa: bool,
    log: Option<LogLevel>,
) {
    let (mut reader, mut writer) = stream.split();
    let mut sink = [0u8; 512];
    loop {
        let ev = tokio::select! {
            r = rx.recv() => r,
            // Anything the client sends after subscribing is ignored; EOF ends the stream.
            r = reader.read(&mut sink) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            },
        };
        let msg = match ev {
            Ok(m) => m,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                Arc::new(EventMessage::new(now_ms(), Event::Lagged { missed }))
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let wanted = match &msg.event {
            Event::Log { level, .. } => log.is_some_and(|max| *level <= max),
            Event::Lagged { .. } => true,
            _ => sa,
        };
        if !wanted {
            continue;
        }
        let Ok(bytes) = encode_frame(msg.as_ref()) else {
            continue;
        };
        match tokio::time::timeout(WRITE_TIME, writer.write_all(&bytes)).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
}

async fn write(stream: &mut UnixStream, resp: &Response) -> bool {
    let Ok(bytes) = encode_frame(resp) else {
        return false;
    };
    matches!(
        tokio::time::timeout(WRITE_TIME, stream.write_all(&bytes)).await,
        Ok(Ok(()))
    )
}

/// Removes the socket file on drop.
#[derive(Debug)]
pub struct SocketFile(pub PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
