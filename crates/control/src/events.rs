//! The event stream (docs/control.md "Events"): after a successful `subscribe`, the daemon
//! sends event frames `{"v": 1, "event": {"type": "ike_up", ...}}` on that connection until
//! it closes. An event frame has no `id`, which tells it apart from a response.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::command::LogLevel;
use crate::message::PROTOCOL_VERSION;

/// One event frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    /// Protocol version.
    pub v: u32,
    /// Milliseconds since the Unix epoch when the daemon produced it.
    #[serde(default)]
    pub time_ms: u64,
    /// The event.
    pub event: Event,
}

impl EventMessage {
    /// An event of the current version, stamped with `time_ms` (Unix milliseconds).
    pub fn new(time_ms: u64, event: Event) -> Self {
        EventMessage {
            v: PROTOCOL_VERSION,
            time_ms,
            event,
        }
    }
}

/// The events. A client ignores event types it does not know ([`Event::Unknown`]): newer
/// daemons may add some within version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An IKE SA was established (RFC 7296 §1.2).
    IkeUp {
        /// Its id.
        ike_sa: u64,
        /// Its connection.
        connection: String,
        /// Our address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        local: Option<SocketAddr>,
        /// The peer's address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remote: Option<SocketAddr>,
        /// The peer's identity.
        #[serde(default)]
        remote_id: String,
    },
    /// An IKE SA is gone.
    IkeDown {
        /// Its id.
        ike_sa: u64,
        /// Its connection.
        connection: String,
        /// Why (`deleted`, `AUTHENTICATION_FAILED`, `timeout`, ...).
        reason: String,
    },
    /// An IKE SA was rekeyed (RFC 7296 §2.18): `new_ike_sa` replaces `ike_sa`.
    IkeRekey {
        /// The old IKE SA.
        ike_sa: u64,
        /// The new one.
        new_ike_sa: u64,
        /// Its connection.
        connection: String,
    },
    /// A Child SA was installed.
    ChildUp {
        /// Its IKE SA.
        ike_sa: u64,
        /// Its id.
        child_sa: u64,
        /// Its connection.
        connection: String,
        /// The child's name.
        name: String,
        /// Our inbound SPI, 8 hex digits.
        #[serde(with = "crate::hex::u32_hex")]
        spi_in: u32,
        /// Our outbound SPI.
        #[serde(with = "crate::hex::u32_hex")]
        spi_out: u32,
        /// Our selectors.
        local_ts: Vec<String>,
        /// The peer's selectors.
        remote_ts: Vec<String>,
    },
    /// A Child SA was removed.
    ChildDown {
        /// Its IKE SA.
        ike_sa: u64,
        /// Its id.
        child_sa: u64,
        /// Our inbound SPI.
        #[serde(with = "crate::hex::u32_hex")]
        spi_in: u32,
        /// Our outbound SPI.
        #[serde(with = "crate::hex::u32_hex")]
        spi_out: u32,
        /// Why: "rekeyed", "deleted", "deleted by peer", "expired", "IKE_SA deleted", or the IKE
        /// SA's reason when it went down (added in version 1; empty from older daemons).
        #[serde(default)]
        reason: String,
    },
    /// A Child SA was rekeyed (RFC 7296 §2.8): `new_child_sa` replaces `child_sa`.
    ChildRekey {
        /// Its IKE SA.
        ike_sa: u64,
        /// The old Child SA.
        child_sa: u64,
        /// The new one.
        new_child_sa: u64,
    },
    /// A log line of the daemon.
    Log {
        /// Its level.
        level: LogLevel,
        /// Its subsystem (the `tracing` target, e.g. `ike::engine`).
        target: String,
        /// The message.
        message: String,
        /// The IKE SA it is about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ike_sa: Option<u64>,
        /// The Child SA it is about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        child_sa: Option<u64>,
    },
    /// This subscriber read too slowly: `missed` events were dropped for it (the daemon never
    /// waits for a subscriber).
    Lagged {
        /// How many.
        missed: u64,
    },
    /// An event type this version does not know.
    #[serde(other)]
    Unknown,
}
