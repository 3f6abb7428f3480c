//! The control protocol of the rampart daemon (docs/control.md): versioned JSON messages in
//! length-prefixed frames over a Unix stream socket, and a blocking client.
//!
//! No async runtime here: the daemon drives [`FrameDecoder`], [`parse_request`] /
//! [`handle_frame`] and [`encode_frame`] from its own loop; the CLI uses [`Client`].

mod client;
mod frame;
mod hex;
mod message;
mod results;
mod server;

pub use client::{Client, ClientError, DEFAULT_TIMEOUT};
pub use frame::{encode_frame, FrameDecoder, FrameError, HEADER_LEN, MAX_FRAME};
pub use message::{
    Command, ControlError, ErrorCode, Request, Response, TerminateTarget, PROTOCOL_VERSION,
};
pub use results::{
    ChildMode, ChildSaInfo, ChildSaState, IkeSaInfo, IkeSaState, InitiateResult, StatusResult,
    TerminateResult, VersionResult,
};
pub use server::{handle_frame, parse_request, too_large_response};
