//! Bytes on the wire for Rampart: IKEv2 messages and payloads (RFC 7296 §3), ESP (RFC 4303),
//! AH (RFC 4302), UDP encapsulation (RFC 3948), and the IPv4/IPv6/UDP headers the data plane
//! reads and writes.
//!
//! Style (after smoltcp's `wire`): parsing never panics and never trusts a length field; each
//! format has an owned representation (`…Repr` or a plain struct) with `parse` and `emit`, and
//! `parse(emit(x)) == x` is property-tested.
//!
//! This crate knows nothing of cryptography or I/O.

pub mod ah;
pub mod error;
pub mod esp;
pub mod icmp;
pub mod id;
pub mod ike;
pub mod ip;
pub mod natt;
pub mod ts;
pub mod udp;

pub use error::WireError;
pub use id::Identity;
pub use ts::TrafficSelector;
