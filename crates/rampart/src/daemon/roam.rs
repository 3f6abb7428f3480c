//! MOBIKE as the original initiator (RFC 4555 §3.5): when the host's addresses or routes
//! change, each IKE SA we initiated is checked against the source address the kernel now picks
//! towards its peer; if that differs from the SA's address, the engine moves the SA there
//! (UPDATE_SA_ADDRESSES). IKE SAs without MOBIKE are left alone (the engine refuses them), and
//! an SA whose peer has no route at the moment waits for the next change.

use std::net::IpAddr;
use std::time::Duration;

use ike::IkeSaStatus;
use os::{AddrWatch, Netlink};

/// Quiet time after a change before acting: an interface going down removes its addresses and
/// routes in several messages.
const SETTLE: Duration = Duration::from_millis(300);

/// The address watch and the netlink handle that answers route lookups.
pub struct Roaming {
    watch: AddrWatch,
    nl: Netlink,
}

impl Roaming {
    /// Subscribes to address and route changes. `None` (with a warning) if netlink refuses:
    /// the daemon runs on without roaming.
    pub fn new() -> Option<Self> {
        match (AddrWatch::new(), Netlink::new()) {
            (Ok(watch), Ok(nl)) => Some(Self { watch, nl }),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("cannot watch address changes (MOBIKE will not follow them): {e}");
                None
            }
        }
    }

    /// Waits for the next (settled) change. Pending forever when there is no watch.
    pub async fn changed(this: &mut Option<Self>) {
        match this {
            Some(r) => {
                if r.watch.changed(SETTLE).await.is_none() {
                    tracing::warn!("address watch closed; MOBIKE will not follow address changes");
                    *this = None;
                }
            }
            None => std::future::pending().await,
        }
    }

    /// The IKE SAs to move: `(sa, new local address)` for each established SA we initiated
    /// whose peer the kernel now reaches from another address of ours.
    pub async fn moves(&self, sas: &[IkeSaStatus]) -> Vec<(ike::IkeSaId, IpAddr)> {
        let mut out = Vec::new();
        for sa in sas
            .iter()
            .filter(|s| s.initiator && s.established_for.is_some())
        {
            match self.nl.source_for(sa.remote.ip()).await {
                Ok(Some(src)) if src != sa.local.ip() => out.push((sa.id, src)),
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(ike_sa = %sa.id, "route lookup towards {} failed: {e}", sa.remote.ip())
                }
            }
        }
        out
    }
}
