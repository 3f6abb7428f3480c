//! Lifetime events from the data plane to the engine task (RFC 4301 §4.4.2.1): the data plane
//! queues an `esp::SaEvent` once per SA and threshold and calls its notifier, which only wakes
//! a `tokio::sync::Notify`; the engine task awaits [`ExpiryWatch::next`] beside its other
//! inputs and turns each event into `Engine::child_soft_expired` / `child_hard_expired`.
//! Nothing here runs per packet.
// The engine task does not await the watch yet (daemon/mod.rs is wired by its owner).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Instant;

use esp::{DataPlane, ExpiryKind, SaEvent};
use tokio::sync::Notify;

/// A cloneable handle the engine task awaits (it borrows nothing from the daemon).
#[derive(Clone)]
pub struct ExpiryWatch {
    dp: Arc<DataPlane>,
    notify: Arc<Notify>,
}

impl core::fmt::Debug for ExpiryWatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ExpiryWatch")
    }
}

impl ExpiryWatch {
    /// Hooks the data plane's notifier (one watch per data plane).
    pub fn new(dp: Arc<DataPlane>) -> Self {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        dp.set_event_notifier(Arc::new(move || n.notify_one()));
        Self { dp, notify }
    }

    /// The next batch of lifetime events (waits until there is one).
    pub async fn next(&self) -> Vec<SaEvent> {
        loop {
            let events = self.dp.take_events();
            if !events.is_empty() {
                return events;
            }
            // `notify_one` stores a permit when nobody waits: an event queued between
            // `take_events` and here still wakes us.
            self.notify.notified().await;
        }
    }
}

/// Hands lifetime events to the engine: soft → rekey, hard → delete (RFC 4301 §4.4.2.1).
/// Several events for one child (both directions, bytes and packets) are harmless: the engine
/// ignores a rekey or delete of a child already being rekeyed or gone.
pub fn apply(engine: &mut ike::Engine, now: Instant, events: &[SaEvent]) {
    for e in events {
        let child = ike::ChildSaId(e.child_id);
        let what = match e.kind {
            ExpiryKind::Soft => "soft",
            ExpiryKind::Hard => "hard",
        };
        tracing::info!(
            child_sa = e.child_id,
            "CHILD_SA {{{}}} reached its {what} lifetime ({:?} {:?} SA {:08x})",
            e.child_id,
            e.cause,
            e.direction,
            e.spi
        );
        let _ = match e.kind {
            ExpiryKind::Soft => engine.child_soft_expired(now, child),
            ExpiryKind::Hard => engine.child_hard_expired(now, child),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::{EncrAlg, EncrId, SecretBytes};

    fn keys(spi: u32) -> esp::SaKeys {
        esp::SaKeys {
            spi,
            encr: EncrAlg {
                id: EncrId::AesGcm16,
                key_bits: Some(128),
            },
            integ: None,
            encr_key: SecretBytes::new(vec![3; 20]),
            integ_key: SecretBytes::default(),
        }
    }

    /// A packet worker crossing a lifetime wakes the task awaiting the watch, once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_crossed_limit_wakes_the_engine_task() {
        let dp = Arc::new(DataPlane::new());
        dp.install_child(esp::ChildSaConfig {
            id: 9,
            mode: esp::Mode::Tunnel,
            protocol: esp::SecurityProtocol::Esp,
            local_ts: vec!["203.0.113.0/24".parse().unwrap()],
            remote_ts: vec!["198.51.100.0/24".parse().unwrap()],
            local: "192.0.2.1:4500".parse().unwrap(),
            remote: "192.0.2.2:4500".parse().unwrap(),
            encap: true,
            inbound: keys(0x1000),
            outbound: keys(0x2000),
            replay_window: 64,
            esn: false,
            lifetime: esp::Lifetime {
                soft_packets: Some(2),
                hard_packets: Some(3),
                ..Default::default()
            },
            options: esp::TunnelOptions::default(),
        })
        .unwrap();
        let watch = ExpiryWatch::new(dp.clone());
        let waiter = tokio::spawn({
            let w = watch.clone();
            async move { w.next().await }
        });
        let mut p = vec![0u8; 20];
        wire::ip::Ipv4Repr {
            src_addr: [203, 0, 113, 1].into(),
            dst_addr: [198, 51, 100, 1].into(),
            protocol: 59,
            ttl: 9,
            dscp_ecn: 0,
            identification: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            payload_len: 0,
        }
        .emit(&mut p)
        .unwrap();
        let sender = std::thread::spawn(move || {
            let mut out = Vec::new();
            (0..5)
                .map(|_| dp.encapsulate(&p, &mut out).is_ok())
                .collect::<Vec<_>>()
        });
        let mut got = waiter.await.unwrap();
        assert_eq!(sender.join().unwrap(), [true, true, true, false, false]);
        if got.len() < 2 {
            got.extend(watch.next().await);
        }
        let kinds: Vec<_> = got.iter().map(|e| (e.child_id, e.kind)).collect();
        assert_eq!(kinds, [(9, ExpiryKind::Soft), (9, ExpiryKind::Hard)]);
    }
}
