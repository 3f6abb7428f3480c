//! IKEv2 messages (RFC 7296 §3): the fixed header, the payload chain and every payload the
//! exchanges of the first tunnel use, plus the layout of the Encrypted (SK) payload.
//!
//! Parsing is two-level: [`Message::parse`] reads the header and the unencrypted payload chain,
//! stopping at the SK payload (which RFC 7296 §3.14 requires to be last) and reporting where its
//! IV, ciphertext and ICV lie; after decryption, [`parse_payload_chain`] reads the inner chain.

mod eap;
mod header;
mod message;
mod notify;
mod payload;
mod sa;

pub use eap::EapPacket;
pub use header::{ExchangeType, Flags, Header, HEADER_LEN, IKE_VERSION_2};
pub use message::{
    emit_payload_chain, encode_sk_message, encode_skf_message, parse_payload_chain,
    strip_sk_padding, Message, SkLayout, SkPayload, SkRanges, SKF_EXTRA_LEN,
};
pub use notify::{notify_name, NotifyType};
pub use payload::{
    AuthPayload, CpAttribute, CpPayload, DeletePayload, KePayload, Notify, Payload, PayloadType,
    TsPayload, GENERIC_HEADER_LEN,
};
pub use sa::{Attribute, Proposal, ProtocolId, Transform, ATTR_KEY_LENGTH};
