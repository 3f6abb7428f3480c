//! Raw ESP (IP protocol 50, RFC 4303 §2) for Child SAs without UDP encapsulation (no NAT
//! detected and `encap` not forced, RFC 7296 §2.23): one raw socket per address family, a
//! receive task for each (ESP → TUN), and the send half the TUN workers use for the packets
//! `esp` built with `Outbound::encap == false`.
//!
//! Raw sockets need `CAP_NET_RAW`; when one cannot be opened the daemon still runs (ESP in
//! UDP works) and says so once.

use std::net::SocketAddr;
use std::sync::Arc;

use esp::DataPlane;
use os::raw::{RawSocket, IPPROTO_ESP};
use os::tun::{GROTable, IDEAL_BATCH_SIZE, TUN_HEADROOM};
use os::Tun;

/// Receive and send buffer asked for each raw socket (as for the UDP sockets).
const BUFFER: usize = 4 << 20;
/// Largest IP packet received (the kernel reassembles fragments first).
const RECV_BUF: usize = 65_536;
/// Capacity of each TUN buffer (GRO may grow one into a super-packet).
const TUN_BUF: usize = TUN_HEADROOM + 65_536;

/// The raw ESP sockets, IPv4 and IPv6 (either may be missing).
#[derive(Debug, Default)]
pub struct RawEsp {
    v4: Option<Arc<RawSocket>>,
    v6: Option<Arc<RawSocket>>,
}

impl RawEsp {
    /// Opens both sockets in the calling thread's network namespace; one that cannot be opened
    /// is logged and left out. `mark`, when set, goes on both as `SO_MARK` (policy routing
    /// keeps our own ESP packets out of the TUN device).
    pub fn open(mark: Option<u32>) -> Self {
        let open = |v6: bool| match RawSocket::open(v6, IPPROTO_ESP, BUFFER) {
            Ok(s) => {
                if let Some(m) = mark {
                    if let Err(e) = os::raw::set_mark(std::os::fd::AsFd::as_fd(&s), m) {
                        tracing::warn!("cannot set SO_MARK on the raw ESP socket: {e}");
                    }
                }
                Some(Arc::new(s))
            }
            Err(e) => {
                let family = if v6 { "IPv6" } else { "IPv4" };
                tracing::warn!(
                    "no raw {family} ESP socket ({e}): Child SAs without UDP encapsulation \
                     cannot carry traffic"
                );
                None
            }
        };
        Self {
            v4: open(false),
            v6: open(true),
        }
    }

    /// The sockets that are open.
    pub fn sockets(&self) -> impl Iterator<Item = &Arc<RawSocket>> {
        self.v4.iter().chain(self.v6.iter())
    }

    /// Sends one ESP packet from `local` to `remote` (ports ignored). Errors are logged at
    /// debug level: a lost packet, like a UDP send failure.
    pub async fn send(&self, esp: &[u8], local: SocketAddr, remote: SocketAddr) {
        let sock = if remote.is_ipv4() { &self.v4 } else { &self.v6 };
        let Some(sock) = sock else { return };
        let src = (!local.ip().is_unspecified()).then_some(local.ip());
        if let Err(e) = sock.send(esp, src, remote.ip()).await {
            tracing::debug!("raw ESP send to {} failed: {e}", remote.ip());
        }
    }
}

/// ESP → TUN for one raw socket: receive a packet and whatever else is queued, open each into
/// the batch, write the batch to TUN queue `queue` with GRO.
pub async fn run(sock: Arc<RawSocket>, dp: Arc<DataPlane>, tun: Arc<Tun>, queue: usize) {
    let Some(q) = tun.queues().get(queue) else {
        return;
    };
    let mut buf = vec![0u8; RECV_BUF];
    let mut outs: Vec<Vec<u8>> = (0..IDEAL_BATCH_SIZE)
        .map(|_| Vec::with_capacity(TUN_BUF))
        .collect();
    let mut gro = GROTable::new();
    loop {
        let first = match sock.recv(&mut buf).await {
            Ok(r) => r,
            Err(e) if super::fatal(&e) => {
                tracing::error!("raw ESP receive failed: {e}");
                return;
            }
            Err(e) => {
                tracing::debug!("raw ESP receive: {e}");
                continue;
            }
        };
        let snap = dp.snapshot();
        let mut k = 0;
        let mut next = Some(first);
        while let Some(r) = next.take() {
            if let (false, Some(esp), Some(out)) =
                (r.truncated, buf.get(r.payload.clone()), outs.get_mut(k))
            {
                out.clear();
                out.resize(TUN_HEADROOM, 0);
                let from = SocketAddr::new(r.src, 0);
                // A drop is counted by the data plane.
                if snap.decapsulate_append_tos(esp, from, r.tos, out).is_ok() {
                    k += 1;
                }
            }
            if k < outs.len() {
                next = sock.try_recv(&mut buf).ok();
            }
        }
        super::udp_worker::write(q, &mut gro, &mut outs, k).await;
    }
}
