//! A test-only impairment switch: makes an engine behave like a broken peer (drop or corrupt its
//! n-th outgoing datagram, leave a payload type out of its messages, announce a higher IKE major
//! version). Never set outside tests.

/// What to break. Counting starts at 0 with the first datagram this engine sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impairment {
    /// Do not send the n-th outgoing datagram.
    pub drop_nth: Option<usize>,
    /// Flip the last octet of the n-th outgoing datagram (breaks the ICV or a payload).
    pub corrupt_nth: Option<usize>,
    /// Leave every payload of this type out of outgoing messages (before encryption).
    pub omit_payload: Option<u8>,
    /// Send major version 3 in every header (RFC 7296 §2.5).
    pub bump_version: bool,
}
