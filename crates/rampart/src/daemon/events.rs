//! The event bus behind `subscribe` (docs/control.md "Events"): SA events from the engine
//! loop and log lines from `tracing`, fanned out to every subscriber. Sending never waits: a
//! bounded broadcast queue drops the oldest events for a subscriber that reads too slowly,
//! which is told how many it missed.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use control::{Event, EventMessage};
use tokio::sync::broadcast;

/// Events buffered per subscriber before the oldest are dropped for it.
pub const QUEUE: usize = 1024;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A cheap handle on the bus.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<EventMessage>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(QUEUE).0,
        }
    }

    /// Whether anyone listens (log lines are not even formatted otherwise).
    pub fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// Publishes an event; never blocks.
    pub fn send(&self, ev: Arc<EventMessage>) {
        let _ = self.tx.send(ev);
    }

    /// Publishes an SA event stamped now.
    pub fn publish(&self, ev: Event) {
        if self.has_subscribers() {
            self.send(Arc::new(EventMessage::new(now_ms(), ev)));
        }
    }

    /// A new subscriber's receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventMessage>> {
        self.tx.subscribe()
    }
}

/// The control protocol's forms of an engine event: none, one, or two (a rekeyed Child SA is
/// `child_rekey` and then `child_up` of the new SA).
pub fn from_engine(ev: &ike::Event) -> Vec<Event> {
    if let ike::Event::ChildSaUp(c) = ev {
        if let Some(old) = c.replaces {
            let rekey = Event::ChildRekey {
                ike_sa: c.ike_sa.0,
                child_sa: old.0,
                new_child_sa: c.child.0,
            };
            return [Some(rekey), one(ev)].into_iter().flatten().collect();
        }
    }
    one(ev).into_iter().collect()
}

fn one(ev: &ike::Event) -> Option<Event> {
    Some(match ev {
        ike::Event::IkeSaUp { ike_sa, connection } => Event::IkeUp {
            ike_sa: ike_sa.0,
            connection: connection.clone(),
            local: None,
            remote: None,
            remote_id: String::new(),
        },
        ike::Event::IkeSaDown {
            ike_sa,
            connection,
            reason,
        } => Event::IkeDown {
            ike_sa: ike_sa.0,
            connection: connection.clone(),
            reason: reason.clone(),
        },
        ike::Event::ChildSaUp(c) => Event::ChildUp {
            ike_sa: c.ike_sa.0,
            child_sa: c.child.0,
            connection: c.connection.clone(),
            name: c.name.clone(),
            spi_in: c.inbound.spi,
            spi_out: c.outbound.spi,
            local_ts: c.local_ts.iter().map(ToString::to_string).collect(),
            remote_ts: c.remote_ts.iter().map(ToString::to_string).collect(),
        },
        ike::Event::ChildSaDown {
            ike_sa,
            child,
            inbound_spi,
            outbound_spi,
            reason,
        } => Event::ChildDown {
            ike_sa: ike_sa.0,
            child_sa: child.0,
            spi_in: *inbound_spi,
            spi_out: *outbound_spi,
            reason: reason.clone(),
        },
        ike::Event::IkeSaRekeyed {
            old,
            new,
            connection,
        } => Event::IkeRekey {
            ike_sa: old.0,
            new_ike_sa: new.0,
            connection: connection.clone(),
        },
        ike::Event::PeerAddressChanged { .. } | ike::Event::ChildSaOutbound { .. } => return None,
        _ => return None,
    })
}
