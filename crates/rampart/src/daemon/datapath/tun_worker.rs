//! TUN → ESP → UDP for one TUN queue: read a (super-)packet, split it, seal every packet into
//! one buffer, send runs of equal-sized datagrams with UDP GSO (raw ESP, for Child SAs without
//! UDP encapsulation, goes out one packet per send on the raw socket). A packet too big for its
//! tunnel's path (with DF, or IPv6) is answered with an ICMP error written back into the TUN
//! device (rate-limited).

use std::sync::Arc;

use esp::DataPlane;
use os::tun::{IDEAL_BATCH_SIZE, TUN_SCRATCH_LEN};
use os::{Sockets, Tun};

use super::gso::GsoBatch;
use super::icmp_limit::IcmpLimit;
use super::raw_worker::RawIpsec;

/// Largest IP packet a split can produce (a non-GSO read is one whole packet).
const PACKET_BUF: usize = 65_536;

pub async fn run(
    tun: Arc<Tun>,
    queue: usize,
    dp: Arc<DataPlane>,
    sockets: Arc<Sockets>,
    raw: Arc<RawIpsec>,
) {
    let Some(q) = tun.queues().get(queue) else {
        return;
    };
    let mut scratch = vec![0u8; TUN_SCRATCH_LEN];
    let mut bufs = vec![vec![0u8; PACKET_BUF]; IDEAL_BATCH_SIZE];
    let mut sizes = vec![0usize; IDEAL_BATCH_SIZE];
    let mut batch = GsoBatch::new();
    let mut icmp = Vec::with_capacity(1280);
    let mut limit = IcmpLimit::new();
    loop {
        let n = match q.recv_batch(&mut scratch, &mut bufs, &mut sizes, 0).await {
            Ok(n) => n,
            Err(e) if super::fatal(&e) => {
                tracing::error!("TUN read failed: {e}");
                return;
            }
            Err(e) => {
                // A malformed offload header or super-packet: dropped.
                tracing::debug!("TUN read: {e}");
                continue;
            }
        };
        let snap = dp.snapshot();
        for (buf, &size) in bufs.iter().zip(&sizes).take(n) {
            let Some(pkt) = buf.get(..size) else { continue };
            let mark = batch.buf.len();
            // A drop is counted by the data plane and leaves the batch as it was.
            match snap.encapsulate_append(pkt, &mut batch.buf) {
                Ok(o) if o.encap => batch.push(mark, (o.local, o.remote), o.tos, &sockets).await,
                // Raw ESP (no UDP encapsulation) or AH: one packet per send, taken back out
                // of the batch buffer.
                Ok(o) => {
                    if let Some(packet) = batch.buf.get(mark..) {
                        raw.send(&o, packet).await;
                    }
                    batch.buf.truncate(mark);
                }
                Err(esp::DropReason::PathMtu) if limit.allow(std::time::Instant::now()) => {
                    icmp.clear();
                    if snap.icmp_too_big(pkt, &mut icmp) {
                        if let Err(e) = q.send(&icmp).await {
                            tracing::debug!("TUN write of an ICMP error failed: {e}");
                        }
                    }
                }
                Err(_) => {}
            }
        }
        batch.flush(&sockets).await;
    }
}
