//! The per-packet loops that join the data plane (`esp`) and the OS (`os`): TUN → ESP → UDP and
//! UDP → ESP → TUN. IKE datagrams found on the sockets go to the engine task.
//!
//! First-tunnel version: one packet per system call and one lock around the data plane. The
//! data-plane issue replaces this with batching and a worker per core.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use esp::DataPlane;
use os::{PortKind, Sockets, Tun};
use tokio::sync::mpsc;
use wire::natt::{classify, NattPayload};

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

/// Largest datagram or packet handled.
const BUF: usize = 65536;

/// The running data path: the TUN device, the sockets' receive loops and the ESP data plane.
/// The daemon talks to it only through these methods, so its insides (threads, batching) can
/// change without touching the daemon.
#[derive(Debug)]
pub struct DataPath {
    dp: Arc<Mutex<DataPlane>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl DataPath {
    /// Starts the loops: packets from `tun` are sealed and sent on `sockets`; datagrams on the
    /// sockets are opened into `tun` (ESP) or handed to `ike` (IKE).
    pub fn start(tun: Arc<Tun>, sockets: Arc<Sockets>, ike: mpsc::Sender<IkeDatagram>) -> Self {
        let dp = Arc::new(Mutex::new(DataPlane::new()));
        let mut tasks = vec![tokio::spawn(tun_loop(
            tun.clone(),
            dp.clone(),
            sockets.clone(),
        ))];
        for s in sockets.sockets() {
            tasks.push(tokio::spawn(udp_loop(
                s.clone(),
                dp.clone(),
                tun.clone(),
                ike.clone(),
            )));
        }
        Self { dp, tasks }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DataPlane> {
        match self.dp.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Installs a Child SA.
    pub fn install_child(&self, cfg: esp::ChildSaConfig) -> Result<(), esp::EspError> {
        self.lock().install_child(cfg).map(|_| ())
    }

    /// Removes a Child SA.
    pub fn remove_child(&self, id: u64) {
        let _ = self.lock().remove_child(id);
    }

    /// Moves a Child SA's peer (NAT mapping change).
    pub fn update_peer(&self, id: u64, remote: SocketAddr) {
        let _ = self.lock().update_peer(id, remote);
    }

    /// A Child SA's counters.
    pub fn child_stats(&self, id: u64) -> Option<esp::ChildStats> {
        self.lock().child_stats(id)
    }

    /// Stops the loops.
    pub fn shutdown(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Reads packets the kernel routes into the TUN device, seals them and sends them.
async fn tun_loop(tun: Arc<Tun>, dp: Arc<Mutex<DataPlane>>, sockets: Arc<Sockets>) {
    let mut buf = vec![0u8; BUF];
    let mut out = Vec::with_capacity(BUF);
    loop {
        let n = match tun.recv(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!("TUN read failed: {e}");
                return;
            }
        };
        let r = {
            let mut dp = match dp.lock() {
                Ok(d) => d,
                Err(p) => p.into_inner(),
            };
            dp.encapsulate(&buf[..n], &mut out)
        };
        let Ok(o) = r else { continue }; // counted by the data plane
        let Some(sock) = sockets.for_source(o.local.ip(), PortKind::Natt) else {
            continue;
        };
        let src = (!o.local.ip().is_unspecified()).then_some(o.local.ip());
        if let Err(e) = sock.send(&out, src, o.remote).await {
            tracing::debug!("ESP send to {} failed: {e}", o.remote);
        }
    }
}

/// Reads one UDP socket: IKE goes to the engine, ESP-in-UDP is opened and written to the TUN
/// device, NAT keepalives are dropped (RFC 3948 §2.3).
async fn udp_loop(
    sock: os::BoundSocket,
    dp: Arc<Mutex<DataPlane>>,
    tun: Arc<Tun>,
    ike: mpsc::Sender<IkeDatagram>,
) {
    let mut buf = vec![0u8; BUF];
    let mut out = Vec::with_capacity(BUF);
    loop {
        let meta = match sock.socket.recv(&mut buf).await {
            Ok(m) => m,
            Err(e) => {
                tracing::error!("UDP receive on {} failed: {e}", sock.socket.local_addr());
                return;
            }
        };
        if meta.truncated {
            continue;
        }
        let data = &buf[..meta.len];
        let to_ike = match sock.kind {
            PortKind::Ike => true,
            PortKind::Natt => match classify(data) {
                NattPayload::Ike(_) => true,
                NattPayload::Esp(esp) => {
                    let r = {
                        let mut dp = match dp.lock() {
                            Ok(d) => d,
                            Err(p) => p.into_inner(),
                        };
                        dp.decapsulate(esp, meta.src, &mut out)
                    };
                    if r.is_ok() {
                        if let Err(e) = tun.send(&out).await {
                            tracing::debug!("TUN write failed: {e}");
                        }
                    }
                    false
                }
                _ => false,
            },
        };
        if to_ike {
            let d = IkeDatagram {
                local: meta.dst,
                remote: meta.src,
                payload: data.to_vec(),
            };
            if ike.send(d).await.is_err() {
                return;
            }
        }
    }
}
