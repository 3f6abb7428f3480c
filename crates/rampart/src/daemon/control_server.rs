//! The control socket (docs/control.md): a root-only Unix stream socket whose requests are
//! handed to the engine task and answered in order.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use control::{
    encode_frame, parse_request, too_large_response, Command, ControlError, FrameDecoder, Response,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

/// A command for the engine task and where to put its answer.
#[derive(Debug)]
pub struct ControlRequest {
    /// The command.
    pub command: Command,
    /// The answer.
    pub reply: oneshot::Sender<Result<Value, ControlError>>,
}

/// How long a client may take to send a request once connected.
const IDLE: Duration = Duration::from_secs(60);

/// Binds the socket: the directory is created 0700 when missing, a stale socket replaced, the
/// socket made 0600.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
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
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(l)
}

/// Accepts clients until the listener fails.
pub async fn serve(listener: UnixListener, engine: mpsc::Sender<ControlRequest>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(client(stream, engine.clone()));
            }
            Err(e) => {
                tracing::error!("control socket accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn client(mut stream: UnixStream, engine: mpsc::Sender<ControlRequest>) {
    let mut dec = FrameDecoder::new();
    let mut buf = vec![0u8; 16384];
    loop {
        // Answer every complete frame, in order.
        loop {
            match dec.next_frame() {
                Ok(Some(frame)) => {
                    let resp = answer(&frame, &engine).await;
                    if !write(&mut stream, &resp).await {
                        return;
                    }
                }
                Ok(None) => break,
                Err(control::FrameError::TooLarge { len, .. }) => {
                    let _ = write(&mut stream, &too_large_response(len)).await;
                    return;
                }
                Err(_) => return,
            }
        }
        let n = match tokio::time::timeout(IDLE, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => return,
            Ok(Ok(n)) => n,
        };
        dec.push(&buf[..n]);
    }
}

async fn answer(frame: &[u8], engine: &mpsc::Sender<ControlRequest>) -> Response {
    let req = match parse_request(frame) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (tx, rx) = oneshot::channel();
    let failed = |m: &str| Response::error(req.id, control::ErrorCode::Failed, m);
    if engine
        .send(ControlRequest {
            command: req.command.clone(),
            reply: tx,
        })
        .await
        .is_err()
    {
        return failed("the daemon is shutting down");
    }
    match rx.await {
        Ok(outcome) => Response {
            v: control::PROTOCOL_VERSION,
            id: req.id,
            outcome,
        },
        Err(_) => failed("the daemon is shutting down"),
    }
}

async fn write(stream: &mut UnixStream, resp: &Response) -> bool {
    let Ok(bytes) = encode_frame(resp) else {
        return false;
    };
    stream.write_all(&bytes).await.is_ok()
}

/// Removes the socket file on drop.
#[derive(Debug)]
pub struct SocketFile(pub PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
