//! UDP → ESP → TUN for one socket: receive up to 64 KiB of coalesced datagrams (UDP GRO), send
//! IKE to the engine, open ESP behind the TUN's offload header, write the batch with GRO. NAT
//! keepalives are dropped (RFC 3948 §2.3). The outer TOS / Traffic Class each receive reports
//! goes to the data plane with its ESP packets (RFC 6040 §4.2: a CE mark on the outer header
//! reaches the inner packet).

use std::sync::Arc;

use esp::DataPlane;
use os::tun::{GROTable, IDEAL_BATCH_SIZE, TUN_HEADROOM};
use os::{BoundSocket, PortKind, Tun};
use tokio::sync::mpsc;
use wire::natt::{classify, NattPayload};

use super::IkeDatagram;

/// Largest (coalesced) datagram received.
const RECV_BUF: usize = 65_536;
/// Capacity of each TUN buffer: GRO may grow one into a 64 KiB super-packet.
const TUN_BUF: usize = TUN_HEADROOM + 65_536;

pub async fn run(
    sock: BoundSocket,
    dp: Arc<DataPlane>,
    tun: Arc<Tun>,
    queue: usize,
    ike: mpsc::Sender<IkeDatagram>,
) {
    let Some(q) = tun.queues().get(queue) else {
        return;
    };
    let mut buf = vec![0u8; RECV_BUF];
    let mut outs: Vec<Vec<u8>> = (0..IDEAL_BATCH_SIZE)
        .map(|_| Vec::with_capacity(TUN_BUF))
        .collect();
    let mut gro = GROTable::new();
    loop {
        let meta = match sock.socket.recv(&mut buf).await {
            Ok(m) => m,
            Err(e) if super::fatal(&e) => {
                tracing::error!("UDP receive on {} failed: {e}", sock.socket.local_addr());
                return;
            }
            Err(e) => {
                tracing::debug!("UDP receive on {}: {e}", sock.socket.local_addr());
                continue;
            }
        };
        let snap = dp.snapshot();
        let mut k = 0;
        let mut meta = Some(meta);
        // Whatever else is queued goes into the same TUN write (more to coalesce, fewer
        // wakeups), as long as a full 64 KiB datagram's packets still fit.
        while let Some(m) = meta.take() {
            if !m.truncated {
                for data in m.segments(&buf) {
                    let esp = match sock.kind {
                        PortKind::Ike => None,
                        PortKind::Natt => match classify(data) {
                            NattPayload::Esp(esp) => Some(esp),
                            NattPayload::Ike(_) => None,
                            _ => continue,
                        },
                    };
                    let Some(esp) = esp else {
                        let d = IkeDatagram {
                            local: m.dst,
                            remote: m.src,
                            payload: data.to_vec(),
                        };
                        if ike.send(d).await.is_err() {
                            return;
                        }
                        continue;
                    };
                    let Some(out) = outs.get_mut(k) else { break };
                    out.clear();
                    out.resize(TUN_HEADROOM, 0);
                    // A drop is counted by the data plane.
                    if snap.decapsulate_append_tos(esp, m.src, m.tos, out).is_ok() {
                        k += 1;
                        if k == outs.len() {
                            write(q, &mut gro, &mut outs, k).await;
                            k = 0;
                        }
                    }
                }
            }
            if k + DRAIN_ROOM <= outs.len() {
                meta = sock.socket.try_recv(&mut buf).ok();
            }
        }
        write(q, &mut gro, &mut outs, k).await;
    }
}

/// Free TUN buffers needed to take one more datagram in the same batch (a 64 KiB GRO
/// datagram of 1400-byte packets is about 46).
const DRAIN_ROOM: usize = 48;

/// Writes the first `k` packets of `outs` to the TUN queue.
pub(super) async fn write(q: &os::TunQueue, gro: &mut GROTable, outs: &mut [Vec<u8>], k: usize) {
    let Some(batch) = outs.get_mut(..k).filter(|b| !b.is_empty()) else {
        return;
    };
    if let Err(e) = q.send_batch(gro, batch).await {
        tracing::debug!("TUN write failed: {e}");
    }
}
