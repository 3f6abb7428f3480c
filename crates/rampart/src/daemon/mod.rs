//! `rampart daemon`: loads the configuration, opens the TUN device, the UDP sockets and the
//! control socket, and runs the IKE engine and the data plane until SIGTERM/SIGINT, when it
//! deletes every SA (sending DELETE) and removes its routes.

mod control_server;
mod convert;
mod datapath;
mod routes;
mod status;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use control::{Command, ControlError, ErrorCode, TerminateTarget};
use ike::{Engine, Event};
use os::{Netlink, PortKind, Sockets, SocketsConfig, Tun, TunConfig};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use control_server::{ControlRequest, SocketFile};
use datapath::DataPath;
use routes::Routes;

/// MTU of the TUN device: room for the outer IPv6 header, UDP, ESP header, IV, padding,
/// trailer and ICV on a 1500-byte path.
const TUN_MTU: u16 = 1400;
/// How long shutdown waits for the peers to answer our DELETEs.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Anti-replay window (RFC 4303 §3.4.3).
const REPLAY_WINDOW: u32 = 64;

/// Entry point of `rampart daemon -c FILE`.
pub fn main(path: &Path) -> ExitCode {
    let cfg = match config::Config::load(path) {
        Ok(c) => c,
        Err(errs) => {
            for m in errs.messages() {
                eprintln!("{m}");
            }
            return ExitCode::from(1);
        }
    };
    init_logging(cfg.daemon.log_level.as_str());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAMPART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Our source address towards `remote`, as the routing table picks it.
fn route_source(remote: IpAddr) -> Option<IpAddr> {
    let any: SocketAddr = match remote {
        IpAddr::V4(_) => "0.0.0.0:0".parse().ok()?,
        IpAddr::V6(_) => "[::]:0".parse().ok()?,
    };
    let s = std::net::UdpSocket::bind(any).ok()?;
    s.connect(SocketAddr::new(remote, 500)).ok()?;
    Some(s.local_addr().ok()?.ip())
}

/// The first specific remote address of a connection.
fn first_remote(cfg: &config::Config, conn: &str) -> Option<IpAddr> {
    cfg.connection(conn)?
        .remote_addrs
        .iter()
        .find_map(|r| match r {
            config::RemoteAddr::Addr(a) => Some(*a),
            config::RemoteAddr::Any => None,
        })
}

struct Daemon {
    cfg: config::Config,
    engine: Engine,
    dp: DataPath,
    sockets: Arc<Sockets>,
    routes: Routes,
}

async fn run(cfg: config::Config) -> Result<(), String> {
    let listener = control_server::bind(&cfg.daemon.control_socket).map_err(|e| {
        format!(
            "cannot open the control socket {}: {e}",
            cfg.daemon.control_socket.display()
        )
    })?;
    let _socket_file = SocketFile(cfg.daemon.control_socket.clone());
    let tun = Tun::create(&TunConfig {
        name: cfg.daemon.tun_name.clone(),
        mtu: TUN_MTU,
    })
    .map_err(|e| format!("cannot create TUN device '{}': {e}", cfg.daemon.tun_name))?;
    let tun = Arc::new(tun);
    let nl = Netlink::new().map_err(|e| format!("cannot open netlink: {e}"))?;
    let sockets = Sockets::bind(&SocketsConfig {
        listen: cfg.daemon.listen.clone(),
        ike_port: cfg.daemon.ike_port,
        natt_port: cfg.daemon.natt_port,
        udp: Default::default(),
    })
    .map_err(|e| format!("cannot bind UDP sockets: {e}"))?;
    for f in sockets.skipped() {
        tracing::warn!("{f}");
    }
    let sockets = Arc::new(sockets);
    let (ike_tx, mut ike_rx) = mpsc::channel(1024);
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<ControlRequest>(64);
    let dp = DataPath::start(tun.clone(), sockets.clone(), ike_tx);
    let control_task = tokio::spawn(control_server::serve(listener, ctl_tx));
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;

    let engine = Engine::new(
        convert::engine_config(&cfg),
        convert::connections(&cfg),
        Box::new(convert::ConfigCredentials::new(&cfg)),
        Box::new(crypto::SystemRandom),
    );
    let mut d = Daemon {
        routes: Routes::new(nl, tun.ifindex()),
        cfg,
        engine,
        dp,
        sockets,
    };
    tracing::info!(
        "rampart {} started: {} connection(s), TUN {}, control socket {}",
        env!("CARGO_PKG_VERSION"),
        d.cfg.connections.len(),
        tun.name(),
        d.cfg.daemon.control_socket.display()
    );
    for (conn, child) in convert::to_start(&d.cfg) {
        if let Err(e) = d.initiate(&conn, Some(&child)) {
            tracing::error!("cannot initiate {conn}: {e}");
        }
    }

    let mut shutdown_by: Option<Instant> = None;
    loop {
        d.flush().await;
        if let Some(by) = shutdown_by {
            if d.engine.is_idle() || Instant::now() >= by {
                break;
            }
        }
        let wake = [d.engine.poll_timeout(), shutdown_by]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            Some(dg) = ike_rx.recv() => {
                d.engine.handle_datagram(Instant::now(), dg.local, dg.remote, &dg.payload);
            }
            Some(req) = ctl_rx.recv() => {
                let r = d.control(&req.command);
                let _ = req.reply.send(r);
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                d.engine.handle_timeout(Instant::now());
            }
            _ = sigterm.recv() => d.begin_shutdown(&mut shutdown_by),
            _ = sigint.recv() => d.begin_shutdown(&mut shutdown_by),
        }
    }
    d.flush().await;
    d.routes.remove_all().await;
    control_task.abort();
    d.dp.shutdown();
    tracing::info!("rampart stopped");
    Ok(())
}

impl Daemon {
    fn begin_shutdown(&mut self, by: &mut Option<Instant>) {
        if by.is_some() {
            return;
        }
        let n = self.engine.terminate_all(Instant::now());
        tracing::info!("shutting down: deleting {n} IKE SA(s)");
        *by = Some(Instant::now() + SHUTDOWN_GRACE);
    }

    fn initiate(
        &mut self,
        conn: &str,
        child: Option<&str>,
    ) -> Result<ike::IkeSaId, ike::InitiateError> {
        let source = first_remote(&self.cfg, conn).and_then(route_source);
        self.engine.initiate(Instant::now(), conn, child, source)
    }

    /// Sends what the engine wants sent and applies its events to the data plane.
    async fn flush(&mut self) {
        while let Some(t) = self.engine.poll_transmit() {
            let kind = if t.local.port() == self.cfg.daemon.natt_port {
                PortKind::Natt
            } else {
                PortKind::Ike
            };
            let Some(sock) = self.sockets.for_source(t.local.ip(), kind) else {
                tracing::warn!("no socket to send from {}", t.local);
                continue;
            };
            let src = (!t.local.ip().is_unspecified()).then_some(t.local.ip());
            if let Err(e) = sock.send(&t.payload, src, t.remote).await {
                tracing::warn!("sending to {} failed: {e}", t.remote);
            }
        }
        while let Some(ev) = self.engine.poll_event() {
            self.apply(ev).await;
        }
    }

    async fn apply(&mut self, ev: Event) {
        match ev {
            Event::ChildSaUp(c) => {
                let keys = |k: &ike::SaKeys| esp::SaKeys {
                    spi: k.spi,
                    encr: c.suite.encr,
                    integ: c.suite.integ,
                    encr_key: k.encr_key.clone(),
                    integ_key: k.integ_key.clone(),
                };
                let cfg = esp::ChildSaConfig {
                    id: c.child.0,
                    mode: esp::Mode::Tunnel,
                    local_ts: c.local_ts.clone(),
                    remote_ts: c.remote_ts.clone(),
                    local: c.local,
                    remote: c.remote,
                    encap: c.encap,
                    inbound: keys(&c.inbound),
                    outbound: keys(&c.outbound),
                    replay_window: REPLAY_WINDOW,
                };
                match self.dp.install_child(cfg) {
                    Ok(_) => {
                        self.routes
                            .add_child(c.child.0, &c.local_ts, &c.remote_ts)
                            .await
                    }
                    Err(e) => {
                        tracing::error!(child_sa = %c.child, "cannot install CHILD_SA {}: {e}", c.name)
                    }
                }
            }
            Event::ChildSaDown { child, .. } => {
                self.routes.remove_child(child.0).await;
                self.dp.remove_child(child.0);
            }
            Event::PeerAddressChanged {
                children, remote, ..
            } => {
                for c in children {
                    self.dp.update_peer(c.0, remote);
                }
            }
            // The data plane matches policies in install order, so a rekeyed Child SA takes over
            // sending when the SA it replaces is removed (ChildSaDown): nothing to do here.
            Event::IkeSaUp { .. } | Event::ChildSaOutbound { .. } | Event::IkeSaRekeyed { .. } => {}
            Event::IkeSaDown {
                ike_sa,
                connection,
                reason,
            } => {
                tracing::info!(ike_sa = %ike_sa, "IKE_SA {connection}[{ike_sa}] down: {reason}");
            }
        }
    }

    fn control(&mut self, cmd: &Command) -> Result<serde_json::Value, ControlError> {
        match cmd {
            Command::Version => json(&control::VersionResult {
                daemon: env!("CARGO_PKG_VERSION").to_string(),
                protocol: control::PROTOCOL_VERSION,
            }),
            Command::Status => {
                let st = status::status(&self.engine, &self.dp, Instant::now());
                json(&st)
            }
            Command::Initiate { connection } => {
                if self.cfg.connection(connection).is_none() {
                    return Err(ControlError::new(
                        ErrorCode::UnknownConnection,
                        format!("no connection named '{connection}'"),
                    ));
                }
                match self.initiate(connection, None) {
                    Ok(id) => json(&control::InitiateResult { ike_sa: id.0 }),
                    Err(e) => Err(ControlError::new(ErrorCode::Failed, e.to_string())),
                }
            }
            Command::Terminate(target) => {
                let now = Instant::now();
                let n = match target {
                    TerminateTarget::Connection(c) => {
                        if self.cfg.connection(c).is_none() {
                            return Err(ControlError::new(
                                ErrorCode::UnknownConnection,
                                format!("no connection named '{c}'"),
                            ));
                        }
                        self.engine.terminate_connection(now, c)
                    }
                    TerminateTarget::IkeSa(id) => {
                        if !self.engine.terminate(now, ike::IkeSaId(*id)) {
                            return Err(ControlError::new(
                                ErrorCode::UnknownSa,
                                format!("no IKE SA with id {id}"),
                            ));
                        }
                        1
                    }
                };
                json(&control::TerminateResult {
                    terminated: n as u64,
                })
            }
        }
    }
}

/// A command's result as JSON.
fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, ControlError> {
    serde_json::to_value(v).map_err(|e| ControlError::new(ErrorCode::Failed, e.to_string()))
}
