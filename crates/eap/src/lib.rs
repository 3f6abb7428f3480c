//! EAP methods for IKEv2 (RFC 7296 §2.16), sans-IO: the server and client sides of
//! EAP-Identity and EAP-MSCHAPv2 (RFC 2759 for the challenge/response, RFC 3079 for the keys,
//! draft-kamath-pppext-eap-mschapv2 for the framing). They take and return
//! [`wire::ike::EapPacket`]s; the IKE engine carries them in IKE_AUTH and uses the MSK for the
//! final AUTH payloads.

pub mod mschapv2;
mod session;

pub use session::{ClientStep, EapClient, EapError, EapServer, ServerStep};
