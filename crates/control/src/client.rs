//! A blocking client for the control socket (what the CLI uses).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::command::{Command, LogLevel, SaTarget, TerminateTarget};
use crate::events::{Event, EventMessage};
use crate::frame::{encode_frame, FrameDecoder, FrameError};
use crate::message::{ControlError, Request, Response, PROTOCOL_VERSION};
use crate::results::*;

/// How long [`Client::connect`] waits for an answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting, reading or writing failed.
    #[error("control socket: {0}")]
    Io(#[from] io::Error),
    /// No complete answer within the timeout.
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    /// The daemon closed the connection before answering.
    #[error("the daemon closed the connection")]
    Closed,
    /// A frame could not be encoded or was too large.
    #[error("control socket: {0}")]
    Frame(#[from] FrameError),
    /// The answer is not a valid response to our request.
    #[error("bad response from the daemon: {0}")]
    BadResponse(String),
    /// The daemon answered with an error.
    #[error("{0}")]
    Remote(ControlError),
    /// An earlier call failed mid-exchange; the stream may hold a late answer. Reconnect.
    #[error("connection unusable after an earlier error; reconnect")]
    Broken,
}

/// A connection to the daemon. Requests are answered in order; each call waits for its answer.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    decoder: FrameDecoder,
    next_id: u64,
    timeout: Option<Duration>,
    broken: bool,
}

impl Client {
    /// Connects to the socket at `path` with [`DEFAULT_TIMEOUT`].
    pub fn connect(path: impl AsRef<Path>) -> Result<Client, ClientError> {
        Self::from_stream(UnixStream::connect(path)?)
    }

    /// Wraps a connected stream (e.g. one end of `UnixStream::pair()`), with
    /// [`DEFAULT_TIMEOUT`].
    pub fn from_stream(stream: UnixStream) -> Result<Client, ClientError> {
        let mut c = Client {
            stream,
            decoder: FrameDecoder::new(),
            next_id: 1,
            timeout: None,
            broken: false,
        };
        c.set_timeout(Some(DEFAULT_TIMEOUT))?;
        Ok(c)
    }

    /// Sets the read/write timeout of each call (`None` = wait forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.stream.set_read_timeout(timeout)?;
        self.stream.set_write_timeout(timeout)?;
        self.timeout = timeout;
        Ok(())
    }

    /// Sends `command` and waits for its response; `Ok` is the `result` JSON.
    pub fn call(&mut self, command: Command) -> Result<Value, ClientError> {
        let resp = self.call_raw(command)?;
        resp.outcome.map_err(ClientError::Remote)
    }

    /// [`Client::call`] with the result decoded as `T`.
    pub fn call_typed<T: DeserializeOwned>(&mut self, command: Command) -> Result<T, ClientError> {
        let v = self.call(command)?;
        serde_json::from_value(v).map_err(|e| ClientError::BadResponse(format!("result: {e}")))
    }

    /// `version`.
    pub fn version(&mut self) -> Result<VersionResult, ClientError> {
        self.call_typed(Command::Version)
    }

    /// `status`.
    pub fn status(&mut self) -> Result<StatusResult, ClientError> {
        self.call_typed(Command::Status)
    }

    /// `list_sas`, optionally only one connection's IKE SAs.
    pub fn list_sas(&mut self, connection: Option<&str>) -> Result<ListSasResult, ClientError> {
        self.call_typed(Command::ListSas {
            connection: connection.map(str::to_string),
        })
    }

    /// `list_conns`.
    pub fn list_conns(&mut self) -> Result<ListConnsResult, ClientError> {
        self.call_typed(Command::ListConns)
    }

    /// `list_certs`.
    pub fn list_certs(&mut self) -> Result<ListCertsResult, ClientError> {
        self.call_typed(Command::ListCerts)
    }

    /// `list_pools`.
    pub fn list_pools(&mut self) -> Result<ListPoolsResult, ClientError> {
        self.call_typed(Command::ListPools)
    }

    /// `list_algs`.
    pub fn list_algs(&mut self) -> Result<ListAlgsResult, ClientError> {
        self.call_typed(Command::ListAlgs)
    }

    /// `stats`.
    pub fn stats(&mut self) -> Result<StatsResult, ClientError> {
        self.call_typed(Command::Stats)
    }

    /// `counters`.
    pub fn counters(&mut self) -> Result<CountersResult, ClientError> {
        self.call_typed(Command::Counters)
    }

    /// `initiate {"connection": connection, "child": child}`.
    pub fn initiate(
        &mut self,
        connection: &str,
        child: Option<&str>,
    ) -> Result<InitiateResult, ClientError> {
        self.call_typed(Command::Initiate {
            connection: connection.to_string(),
            child: child.map(str::to_string),
        })
    }

    /// `terminate {"connection": ...}`, `{"ike_sa": ...}` or `{"child_sa": ...}`.
    pub fn terminate(&mut self, target: TerminateTarget) -> Result<TerminateResult, ClientError> {
        self.call_typed(Command::Terminate(target))
    }

    /// `rekey {"ike_sa": ...}` or `{"child_sa": ...}`.
    pub fn rekey(&mut self, target: SaTarget) -> Result<RekeyResult, ClientError> {
        self.call_typed(Command::Rekey(target))
    }

    /// `reload`.
    pub fn reload(&mut self) -> Result<ReloadResult, ClientError> {
        self.call_typed(Command::Reload)
    }

    /// `subscribe`: turns this connection into an event stream of SA events (`sa`) and log
    /// lines at `log` or more severe. Reads wait without a timeout from then on (see
    /// [`Subscription::set_timeout`]).
    pub fn subscribe(
        mut self,
        sa: bool,
        log: Option<LogLevel>,
    ) -> Result<Subscription, ClientError> {
        let _: SubscribeResult = self.call_typed(Command::Subscribe { sa, log })?;
        self.set_timeout(None)?;
        Ok(Subscription { client: self })
    }

    /// Sends `command` and returns the whole response (ok or error).
    pub fn call_raw(&mut self, command: Command) -> Result<Response, ClientError> {
        if self.broken {
            return Err(ClientError::Broken);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let frame = encode_frame(&Request::new(id, command))?;
        // Any failure from here on leaves the stream in an unknown state.
        self.broken = true;
        let payload = match self.stream.write_all(&frame) {
            Ok(()) => self.read_frame()?,
            // A daemon that refuses a client (busy, permission denied) answers and closes; its
            // answer explains better than the write error.
            Err(e) => self.read_frame().map_err(|_| self.io_error(e))?,
        };
        let resp: Response = serde_json::from_slice(&payload)
            .map_err(|e| ClientError::BadResponse(e.to_string()))?;
        // Id 0 answers a request the daemon could not read (e.g. too large).
        let unreadable_request = resp.id == 0 && !resp.is_ok();
        if resp.id != id && !unreadable_request {
            return Err(ClientError::BadResponse(format!(
                "answer to request {} while waiting for {id}",
                resp.id
            )));
        }
        if resp.v != PROTOCOL_VERSION && resp.is_ok() {
            return Err(ClientError::BadResponse(format!(
                "the daemon speaks protocol version {} (this client: {PROTOCOL_VERSION})",
                resp.v
            )));
        }
        self.broken = false;
        Ok(resp)
    }

    fn read_frame(&mut self) -> Result<Vec<u8>, ClientError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(f) = self.decoder.next_frame()? {
                return Ok(f);
            }
            let n = self.stream.read(&mut buf).map_err(|e| self.io_error(e))?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            self.decoder.push(buf.get(..n).unwrap_or(&[]));
        }
    }

    fn io_error(&self, e: io::Error) -> ClientError {
        match (e.kind(), self.timeout) {
            (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(t)) => {
                ClientError::Timeout(t)
            }
            _ => ClientError::Io(e),
        }
    }
}

/// An event stream (after [`Client::subscribe`]).
#[derive(Debug)]
pub struct Subscription {
    client: Client,
}

impl Subscription {
    /// Sets the read timeout of [`Subscription::next_event`] (`None` = wait forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.client.set_timeout(timeout)
    }

    /// The next event; `Ok(None)` when the daemon closed the stream. Events of types this
    /// client does not know come back as [`Event::Unknown`].
    pub fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        Ok(self.next_message()?.map(|m| m.event))
    }

    /// Like [`Subscription::next_event`], with the whole frame (time stamp included).
    pub fn next_message(&mut self) -> Result<Option<EventMessage>, ClientError> {
        let payload = match self.client.read_frame() {
            Ok(p) => p,
            Err(ClientError::Closed) => return Ok(None),
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&payload)
            .map(Some)
            .map_err(|e| ClientError::BadResponse(format!("event: {e}")))
    }
}
