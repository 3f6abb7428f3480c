//! The control protocol of the rampart daemon (docs/control.md): versioned JSON messages in
//! length-prefixed frames over a Unix stream socket, an event stream, and a blocking client.
//!
//! No async runtime here: the daemon drives [`FrameDecoder`], [`parse_request`] /
//! [`handle_frame`] and [`encode_frame`] from its own tasks; the CLI uses [`Client`] (one
//! request, one answer) and [`Subscription`] (the event stream).
//!
//! ```no_run
//! use control::{Client, TerminateTarget};
//! let mut c = Client::connect("/run/rampart/rampart.sock")?;
//! for sa in c.list_sas(None)?.ike_sas {
//!     println!("{}[{}] {:?}", sa.connection, sa.id, sa.state);
//! }
//! c.initiate("net2net", None)?;
//! c.terminate(TerminateTarget::Connection("net2net".into()))?;
//! let mut events = Client::connect("/run/rampart/rampart.sock")?.subscribe(true, None)?;
//! while let Some(ev) = events.next_event()? {
//!     println!("{ev:?}");
//! }
//! # Ok::<(), control::ClientError>(())
//! ```

mod client;
mod command;
mod events;
mod frame;
mod hex;
mod message;
mod results;
mod server;

pub use client::{Client, ClientError, Subscription, DEFAULT_TIMEOUT};
pub use command::{Command, LogLevel, SaTarget, TerminateTarget};
pub use events::{Event, EventMessage};
pub use frame::{encode_frame, FrameDecoder, FrameError, HEADER_LEN, MAX_FRAME};
pub use message::{ControlError, ErrorCode, Request, Response, PROTOCOL_VERSION};
pub use results::*;
pub use server::{handle_frame, parse_request, too_large_response};
