//! The per-packet loops that join the data plane (`esp`) and the OS (`os`): TUN → ESP → UDP and
//! UDP → ESP → TUN. IKE datagrams found on the sockets go to the engine task.
//!
//! Speed comes from batches, not from per-packet work (issue 4, "Speed"):
//! - one task per TUN queue (the device has one queue per core, `os::TunOptions`): each read is
//!   a TCP/UDP super-packet of up to 64 KiB, split into MTU-sized packets (GSO split), sealed
//!   back to back into one buffer and sent with one UDP GSO `sendmsg` per run of equal-sized
//!   datagrams to one peer ([`gso::GsoBatch`]);
//! - one task per UDP socket: each receive is up to 64 KiB of coalesced datagrams (UDP GRO),
//!   opened one by one behind the TUN's offload header and written with GRO, so the kernel gets
//!   a few super-packets per batch;
//! - the `esp::DataPlane` is shared by every task without a global lock (one snapshot of the
//!   SPD/SAD per batch, atomic sequence numbers, per-SA replay locks);
//! - buffers are allocated once per task: no allocation per packet (IKE datagrams excepted).

mod expiry;
mod gso;
mod icmp_limit;
mod raw_worker;
mod tun_worker;
mod udp_worker;

use std::net::SocketAddr;
use std::sync::Arc;

use esp::DataPlane;
use os::{Sockets, Tun};
use raw_worker::RawIpsec;
use tokio::sync::mpsc;

// Until the engine task awaits `DataPath::expiry` (daemon/mod.rs, see there).
#[allow(unused_imports)]
pub use expiry::{apply as apply_expiry, ExpiryWatch};

/// An IKE datagram for the engine.
#[derive(Debug)]
pub struct IkeDatagram {
    /// Where it arrived (our address and port).
    pub local: SocketAddr,
    /// Who sent it.
    pub remote: SocketAddr,
    /// The UDP payload (with the non-ESP marker on the NAT-T port).
    pub payload: Vec<u8>,
}

/// The running data path: the TUN device, the sockets' receive loops (UDP, and raw ESP/AH for
/// Child SAs without UDP encapsulation) and the ESP data plane.
/// The daemon talks to it only through these methods, so its insides (threads, batching) can
/// change without touching the daemon.
#[derive(Debug)]
pub struct DataPath {
    dp: Arc<DataPlane>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    #[allow(dead_code)] // read through `expiry()` once the engine task awaits it
    expiry: ExpiryWatch,
}

impl DataPath {
    /// Starts the loops: packets from `tun` are sealed and sent on `sockets` (ESP in UDP) or on
    /// raw IP protocol 50/51 sockets opened here (ESP Child SAs without encapsulation, AH);
    /// datagrams on the sockets are opened into `tun` (ESP) or handed to `ike` (IKE), raw ESP
    /// and AH into `tun`. Must be called inside the tokio runtime that owns `tun` and `sockets`.
    pub fn start(tun: Arc<Tun>, sockets: Arc<Sockets>, ike: mpsc::Sender<IkeDatagram>) -> Self {
        let dp = Arc::new(DataPlane::new());
        // Our own packets carry a mark that keeps them out of transport mode's capture.
        let mark = super::routes::OWN_MARK;
        for s in sockets.sockets() {
            if let Err(e) = os::raw::set_mark(std::os::fd::AsFd::as_fd(&*s.socket), mark) {
                tracing::warn!("cannot set SO_MARK on {}: {e}", s.socket.local_addr());
            }
        }
        let raw = Arc::new(RawIpsec::open(Some(mark)));
        let mut tasks = Vec::new();
        for q in 0..tun.queues().len() {
            tasks.push(tokio::spawn(tun_worker::run(
                tun.clone(),
                q,
                dp.clone(),
                sockets.clone(),
                raw.clone(),
            )));
        }
        for (i, s) in raw.sockets().enumerate() {
            tasks.push(tokio::spawn(raw_worker::run(
                s.clone(),
                dp.clone(),
                tun.clone(),
                i % tun.queues().len().max(1),
            )));
        }
        for (i, s) in sockets.sockets().iter().enumerate() {
            tasks.push(tokio::spawn(udp_worker::run(
                s.clone(),
                dp.clone(),
                tun.clone(),
                i % tun.queues().len().max(1),
                ike.clone(),
            )));
        }
        let expiry = ExpiryWatch::new(dp.clone());
        Self { dp, tasks, expiry }
    }

    /// What the engine task awaits for lifetime events (soft → `child_soft_expired`, hard →
    /// `child_hard_expired`; [`apply_expiry`] does both). Clone it before the loop:
    /// ```ignore
    /// let expiry = d.dp.expiry();
    /// // in the select!:
    /// evs = expiry.next() => datapath::apply_expiry(&mut d.engine, Instant::now(), &evs),
    /// ```
    pub fn expiry(&self) -> ExpiryWatch {
        self.expiry.clone()
    }

    /// Installs a Child SA.
    pub fn install_child(&self, cfg: esp::ChildSaConfig) -> Result<(), esp::EspError> {
        self.dp.install_child(cfg).map(|_| ())
    }

    /// Removes a Child SA.
    pub fn remove_child(&self, id: u64) {
        let _ = self.dp.remove_child(id);
    }

    /// Moves a Child SA's outer addresses (a NAT mapping change, MOBIKE).
    pub fn update_addresses(&self, id: u64, local: SocketAddr, remote: SocketAddr) {
        let _ = self.dp.update_addresses(id, local, remote);
    }

    /// A Child SA's peer address and current path MTU.
    pub fn child_path(&self, id: u64) -> Option<(SocketAddr, u16)> {
        self.dp.child_path(id)
    }

    /// Sets a Child SA's path MTU (the route's changed).
    pub fn set_path_mtu(&self, id: u64, mtu: u16) {
        let _ = self.dp.set_path_mtu(id, mtu);
    }

    /// A Child SA's counters.
    pub fn child_stats(&self, id: u64) -> Option<esp::ChildStats> {
        self.dp.child_stats(id)
    }

    /// Per-reason drop counters of the data plane.
    pub fn drop_counters(&self) -> esp::DropCounters {
        self.dp.drop_counters()
    }

    /// Stops the loops.
    pub fn shutdown(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Whether an I/O error means the descriptor is gone for good (stop the loop) rather than one
/// bad packet or a transient condition (go on).
fn fatal(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EBADF) | Some(libc::EBADFD) | Some(libc::ENODEV) | Some(libc::ENXIO)
    )
}

/// The data plane's view of a Child SA the engine negotiated (RFC 4301 §4.4.2): selectors,
/// outer addresses, both SAs' keys and the data-plane settings of its child's configuration
/// (`settings`; defaults when the child is not in the configuration any more).
pub fn child_sa_config(
    c: &ike::ChildSaInstall,
    settings: &config::ChildDataplane,
) -> esp::ChildSaConfig {
    let keys = |k: &ike::SaKeys| esp::SaKeys {
        spi: k.spi,
        encr: c.suite.encr,
        integ: c.suite.integ,
        encr_key: k.encr_key.clone(),
        integ_key: k.integ_key.clone(),
    };
    esp::ChildSaConfig {
        id: c.child.0,
        mode: match c.mode {
            ike::Mode::Tunnel => esp::Mode::Tunnel,
            ike::Mode::Transport => esp::Mode::Transport,
        },
        protocol: match c.suite.protocol {
            crypto::proposal::Protocol::Ah => esp::SecurityProtocol::Ah,
            _ => esp::SecurityProtocol::Esp,
        },
        local_ts: c.local_ts.clone(),
        remote_ts: c.remote_ts.clone(),
        local: c.local,
        remote: c.remote,
        encap: c.encap,
        inbound: keys(&c.inbound),
        outbound: keys(&c.outbound),
        replay_window: settings.replay_window,
        esn: c.esn(),
        lifetime: esp::Lifetime {
            soft_bytes: limit(settings.rekey_bytes),
            hard_bytes: limit(settings.life_bytes),
            soft_packets: limit(settings.rekey_packets),
            hard_packets: limit(settings.life_packets),
        },
        options: esp::TunnelOptions {
            copy_dscp: settings.copy_dscp,
            clamp_mss: settings.mss_clamp,
            tfc_pad_to: match settings.tfc_padding {
                config::TfcPadding::Off => None,
                config::TfcPadding::Bytes(n) => Some(n),
                // Capped by the data plane at what the path carries.
                config::TfcPadding::Mtu => Some(u16::MAX),
            },
            ..esp::TunnelOptions::default()
        },
    }
}

/// A configured byte/packet limit: 0 = none.
fn limit(n: u64) -> Option<u64> {
    (n != 0).then_some(n)
}
