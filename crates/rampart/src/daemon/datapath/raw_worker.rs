//! Raw ESP (IP protocol 50, RFC 4303 §2) for Child SAs without UDP encapsulation (no NAT
//! detected and `encap` not forced, RFC 7296 §2.23) and AH (IP protocol 51, RFC 4302 §2, never
//! encapsulated): one raw socket per protocol and address family, a receive task for each
//! (ESP/AH → TUN), and the send half the TUN workers use for the packets `esp` built with
//! `Outbound::encap == false`.
//!
//! AH's ICV covers the outer IP header (RFC 4302 §3.3.3.1), so AH packets travel whole:
//! - IPv4: the data plane writes the header and the socket sends it as is (`IP_HDRINCL`): the
//!   Identification it chose is the one the ICV covers. Receiving, raw(7) hands over the header.
//! - IPv6: raw sockets never carry the IPv6 header (RFC 3542 §3). Sending, the data plane's
//!   40-byte header is dropped and the kernel writes one with the same source, destination,
//!   payload length and next header; what it may write differently (traffic class, flow label,
//!   hop limit) is what AH zeroes for the ICV (RFC 4302 §3.3.3.1.2.1). Receiving, the header is
//!   rebuilt from the addresses, the length and the Traffic Class received (flow label and hop
//!   limit zero). Extension headers before
//!   AH are not seen (the kernel consumed them), so a packet that had any fails its ICV and is
//!   counted as such.
//!
//! Raw sockets need `CAP_NET_RAW`; when one cannot be opened the daemon still runs (ESP in
//! UDP works) and says so once.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use esp::{DataPlane, Outbound, SecurityProtocol};
use os::raw::{RawSocket, IPPROTO_AH, IPPROTO_ESP};
use os::tun::{GROTable, IDEAL_BATCH_SIZE, TUN_HEADROOM};
use os::Tun;

/// Receive and send buffer asked for each raw socket (as for the UDP sockets).
const BUFFER: usize = 4 << 20;
/// Largest IP packet received (the kernel reassembles fragments first).
const RECV_BUF: usize = 65_536;
/// Capacity of each TUN buffer (GRO may grow one into a super-packet).
const TUN_BUF: usize = TUN_HEADROOM + 65_536;

/// Length of the IPv6 header (RFC 8200 §3).
const IPV6_HEADER: usize = 40;

/// The raw ESP and AH sockets, IPv4 and IPv6 (any may be missing).
#[derive(Debug, Default)]
pub struct RawIpsec {
    v4: Option<Arc<RawSocket>>,
    v6: Option<Arc<RawSocket>>,
    ah_v4: Option<Arc<RawSocket>>,
    ah_v6: Option<Arc<RawSocket>>,
}

impl RawIpsec {
    /// Opens the sockets in the calling thread's network namespace; one that cannot be opened
    /// is logged and left out. `mark`, when set, goes on each as `SO_MARK` (policy routing
    /// keeps our own ESP and AH packets out of the TUN device).
    pub fn open(mark: Option<u32>) -> Self {
        let open = |v6: bool, protocol: u8| match RawSocket::open(v6, protocol, BUFFER) {
            Ok(s) => {
                if let Some(m) = mark {
                    if let Err(e) = os::raw::set_mark(std::os::fd::AsFd::as_fd(&s), m) {
                        tracing::warn!("cannot set SO_MARK on a raw socket: {e}");
                    }
                }
                Some(Arc::new(s))
            }
            Err(e) => {
                let family = if v6 { "IPv6" } else { "IPv4" };
                let (name, what) = if protocol == IPPROTO_AH {
                    ("AH", "AH Child SAs")
                } else {
                    ("ESP", "ESP Child SAs without UDP encapsulation")
                };
                tracing::warn!("no raw {family} {name} socket ({e}): {what} cannot carry traffic");
                None
            }
        };
        Self {
            v4: open(false, IPPROTO_ESP),
            v6: open(true, IPPROTO_ESP),
            ah_v4: open(false, IPPROTO_AH),
            ah_v6: open(true, IPPROTO_AH),
        }
    }

    /// The sockets that are open.
    pub fn sockets(&self) -> impl Iterator<Item = &Arc<RawSocket>> {
        self.v4
            .iter()
            .chain(self.v6.iter())
            .chain(self.ah_v4.iter())
            .chain(self.ah_v6.iter())
    }

    /// Sends one packet the data plane built for a raw socket (`o.encap == false`): ESP from
    /// `o.local` to `o.remote`, or a whole AH packet (see the module documentation). Errors are
    /// logged at debug level: a lost packet, like a UDP send failure.
    pub async fn send(&self, o: &Outbound, packet: &[u8]) {
        let remote = o.remote.ip();
        let r = match (o.protocol, remote) {
            (SecurityProtocol::Ah, IpAddr::V4(_)) => match &self.ah_v4 {
                Some(s) => s.send_ipv4_packet(packet).await,
                None => return,
            },
            (SecurityProtocol::Ah, IpAddr::V6(_)) => match (&self.ah_v6, packet.get(IPV6_HEADER..))
            {
                (Some(s), Some(ah)) => s.send(ah, source(o.local), remote, o.tos).await,
                _ => return,
            },
            (_, IpAddr::V4(_)) => match &self.v4 {
                Some(s) => s.send(packet, source(o.local), remote, o.tos).await,
                None => return,
            },
            (_, IpAddr::V6(_)) => match &self.v6 {
                Some(s) => s.send(packet, source(o.local), remote, o.tos).await,
                None => return,
            },
        };
        if let Err(e) = r {
            tracing::debug!("raw {:?} send to {remote} failed: {e}", o.protocol);
        }
    }
}

/// The source address to ask for, unless the data plane left it to the kernel.
fn source(local: SocketAddr) -> Option<IpAddr> {
    (!local.ip().is_unspecified()).then_some(local.ip())
}

/// Rebuilds the IPv6 header a raw socket kept (RFC 8200 §3) in front of an AH packet into
/// `out`: the Traffic Class as received (RFC 6040 decapsulation reads it), flow label and hop
/// limit zero (AH does not cover them, RFC 4302 §3.3.3.1.2.1); `None` when the payload is too
/// long for one.
fn ipv6_ah_packet(
    src: IpAddr,
    dst: IpAddr,
    tclass: u8,
    ah: &[u8],
    out: &mut Vec<u8>,
) -> Option<()> {
    let (IpAddr::V6(src), IpAddr::V6(dst)) = (src, dst) else {
        return None;
    };
    let len = u16::try_from(ah.len()).ok()?;
    out.clear();
    out.extend_from_slice(&[0x60 | (tclass >> 4), tclass << 4, 0, 0]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[IPPROTO_AH, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    out.extend_from_slice(ah);
    Some(())
}

/// ESP or AH → TUN for one raw socket: receive a packet and whatever else is queued, open each
/// into the batch, write the batch to TUN queue `queue` with GRO.
pub async fn run(sock: Arc<RawSocket>, dp: Arc<DataPlane>, tun: Arc<Tun>, queue: usize) {
    let Some(q) = tun.queues().get(queue) else {
        return;
    };
    let mut buf = vec![0u8; RECV_BUF];
    let mut outs: Vec<Vec<u8>> = (0..IDEAL_BATCH_SIZE)
        .map(|_| Vec::with_capacity(TUN_BUF))
        .collect();
    let mut gro = GROTable::new();
    let ah = sock.protocol() == IPPROTO_AH;
    // IPv6 AH: the packet with its header rebuilt.
    let mut whole = Vec::with_capacity(if ah && sock.is_ipv6() { RECV_BUF } else { 0 });
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
            if let (false, Some(payload), Some(out)) =
                (r.truncated, buf.get(r.payload.clone()), outs.get_mut(k))
            {
                out.clear();
                out.resize(TUN_HEADROOM, 0);
                // A drop is counted by the data plane.
                let opened = if !ah {
                    let from = SocketAddr::new(r.src, 0);
                    snap.decapsulate_append_tos(payload, from, r.tos, out)
                        .is_ok()
                } else if sock.is_ipv6() {
                    ipv6_ah_packet(r.src, r.dst, r.tos, payload, &mut whole).is_some()
                        && snap.decapsulate_ah_append(&whole, out).is_ok()
                } else {
                    buf.get(r.header.start..r.payload.end)
                        .is_some_and(|packet| snap.decapsulate_ah_append(packet, out).is_ok())
                };
                if opened {
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
