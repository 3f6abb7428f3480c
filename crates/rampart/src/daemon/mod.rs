//! `rampart daemon`: loads the configuration, opens the TUN device, the UDP sockets, the
//! control socket and (if configured) the metrics endpoint, and runs the IKE engine and the
//! data plane until SIGTERM/SIGINT, when it deletes every SA (sending DELETE) and removes its
//! routes. SIGHUP (or `rampart reload`) re-reads the configuration.

mod control_server;
mod convert;
mod credentials;
mod datapath;
mod dns;
mod events;
mod listings;
mod logging;
mod metrics;
mod nat;
mod notify;
mod peercred;
mod pools;
mod reload;
mod roam;
mod routes;
mod status;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use control::{Command, ControlError, ErrorCode, SaTarget, TerminateTarget};
use ike::{Engine, Event};
use os::{Netlink, PortKind, Sockets, SocketsConfig, Tun, TunConfig};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use control_server::{ControlRequest, Shared, SocketFile};
use datapath::DataPath;
use events::EventBus;
use routes::Routes;

/// MTU of the TUN device: room for the outer IPv6 header, UDP, ESP header, IV, padding,
/// trailer and ICV on a 1500-byte path for the usual suites; inner packets a child's suite and
/// path cannot carry (up to `esp::DataPlane::worst_overhead()` = 121 bytes) are answered by the
/// data plane with "fragmentation needed" / "packet too big" (RFC 4301 §8).
const TUN_MTU: u16 = 1400;
/// How long shutdown waits for the peers to answer our DELETEs.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Control requests queued for the engine task before clients wait.
const CONTROL_QUEUE: usize = 64;

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
    let bus = EventBus::new();
    let log = logging::init(&cfg.daemon, &bus);
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
    match rt.block_on(run(cfg, bus, log)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(1)
        }
    }
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
    creds: credentials::ConfigCredentials,
    dp: DataPath,
    sockets: Arc<Sockets>,
    routes: Routes,
    /// Virtual-IP pools and leases (shared with the engine).
    pools: pools::LeasePools,
    /// Forwarding and masquerading for the pools.
    nat: nat::Nat,
    /// DNS servers pushed to us (client side).
    dns: dns::Dns,
    bus: EventBus,
    log: logging::LogHandle,
    started: Instant,
    clients: Arc<AtomicU64>,
    reloads: u64,
    /// Inbound packet count of each installed Child SA when last looked at: ESP from the peer
    /// counts as hearing from it (no liveness check due, RFC 7296 §2.4).
    inbound_seen: std::collections::HashMap<u64, u64>,
}

async fn run(cfg: config::Config, bus: EventBus, log: logging::LogHandle) -> Result<(), String> {
    let access = peercred::Access::new(cfg.daemon.control_group.as_deref())?;
    let listener = control_server::bind(&cfg.daemon.control_socket, access.gid()).map_err(|e| {
        format!(
            "cannot open the control socket {}: {e}",
            cfg.daemon.control_socket.display()
        )
    })?;
    let _socket_file = SocketFile(cfg.daemon.control_socket.clone());
    let metrics = match cfg.daemon.metrics_listen {
        Some(addr) => Some(
            metrics::bind(addr)
                .await
                .map_err(|e| format!("cannot open the metrics endpoint {addr}: {e}"))?,
        ),
        None => None,
    };
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
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<ControlRequest>(CONTROL_QUEUE);
    let dp = DataPath::start(tun.clone(), sockets.clone(), ike_tx);
    let clients = Arc::new(AtomicU64::new(0));
    let control_task = tokio::spawn(control_server::serve(
        listener,
        Shared {
            engine: ctl_tx.clone(),
            bus: bus.clone(),
            access: Arc::new(access),
            clients: clients.clone(),
        },
    ));
    let metrics_task = metrics.map(|l| {
        if let Ok(a) = l.local_addr() {
            tracing::info!("metrics endpoint on http://{a}/metrics");
        }
        tokio::spawn(metrics::serve(l, ctl_tx.clone()))
    });
    drop(ctl_tx);
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut sighup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;

    let creds = credentials::ConfigCredentials::new(&cfg)?;
    let mut engine = Engine::new(
        convert::engine_config(&cfg),
        convert::connections(&cfg),
        Box::new(creds.clone()),
        Box::new(crypto::SystemRandom),
    );
    let pools = pools::LeasePools::new(&cfg);
    engine.set_pools(Box::new(pools.clone()));
    let mut nat = nat::Nat::default();
    nat.apply(&cfg);
    let mut d = Daemon {
        routes: Routes::new(nl, tun.ifindex()),
        pools,
        nat,
        dns: dns::Dns::new(&cfg.daemon.tun_name, &cfg.daemon.state_dir),
        cfg,
        engine,
        creds,
        dp,
        sockets,
        bus,
        log,
        started: Instant::now(),
        clients,
        reloads: 0,
        inbound_seen: std::collections::HashMap::new(),
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
    notify::ready(&format!("{} connection(s)", d.cfg.connections.len()));

    let mut roaming = roam::Roaming::new();
    let expiry = d.dp.expiry();
    // ESP from the peer counts as hearing from it (RFC 7296 §2.4): the children's inbound
    // counters are looked at every second, so liveness checks start dpd_delay after the last
    // ESP (within a second), not after the last IKE message.
    let mut traffic_tick = tokio::time::interval(Duration::from_secs(1));
    traffic_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The outer path MTU the children use follows the routes' (RFC 4301 §8.2).
    let mut mtu_tick = tokio::time::interval(PATH_MTU_REFRESH);
    mtu_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                // Never waits: the client's task may be gone, then the answer is dropped.
                let _ = req.reply.send(r);
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                d.note_inbound_traffic();
                d.engine.handle_timeout(Instant::now());
            }
            _ = sighup.recv() => {
                match d.reload() {
                    Ok(r) => tracing::info!("SIGHUP: configuration reloaded: {}", reload::summary(&r)),
                    Err(e) => tracing::error!("SIGHUP: {}", e.message),
                }
            }
            evs = expiry.next() => {
                datapath::apply_expiry(&mut d.engine, Instant::now(), &evs);
            }
            _ = traffic_tick.tick() => d.note_inbound_traffic(),
            _ = mtu_tick.tick() => d.refresh_path_mtu().await,
            () = roam::Roaming::changed(&mut roaming) => {
                if let Some(r) = &roaming {
                    for (sa, to) in r.moves(&d.engine.status(Instant::now())).await {
                        // The engine logs the move; SAs without MOBIKE stay (false).
                        d.engine.roam(Instant::now(), sa, to);
                    }
                }
            }
            _ = sigterm.recv() => d.begin_shutdown(&mut shutdown_by),
            _ = sigint.recv() => d.begin_shutdown(&mut shutdown_by),
        }
    }
    d.flush().await;
    d.routes.remove_all().await;
    d.dns.restore();
    d.nat.remove();
    control_task.abort();
    if let Some(t) = metrics_task {
        t.abort();
    }
    d.dp.shutdown();
    tracing::info!("rampart stopped");
    Ok(())
}

/// How often the children's path MTU is compared with their routes'.
const PATH_MTU_REFRESH: Duration = Duration::from_secs(5);

impl Daemon {
    /// Gives each installed child the path MTU of the route to its peer when it changed (a
    /// route's `mtu`, or the kernel's learned PMTU after an ICMP "fragmentation needed" /
    /// "packet too big" for our outer packets, RFC 1191 / RFC 8201). One route lookup per
    /// distinct peer address.
    async fn refresh_path_mtu(&mut self) {
        let mut by_peer: std::collections::HashMap<std::net::IpAddr, Option<u16>> =
            std::collections::HashMap::new();
        let ids: Vec<u64> = self.inbound_seen.keys().copied().collect();
        for id in ids {
            let Some((remote, now)) = self.dp.child_path(id) else {
                continue;
            };
            let mtu = match by_peer.get(&remote.ip()) {
                Some(m) => *m,
                None => {
                    let m = self.routes.path_mtu(remote.ip()).await;
                    by_peer.insert(remote.ip(), m);
                    m
                }
            };
            if let Some(mtu) = mtu.filter(|&m| m != now) {
                tracing::info!(
                    child_sa = id,
                    "path MTU towards {} now {mtu} (was {now})",
                    remote.ip()
                );
                self.dp.set_path_mtu(id, mtu);
            }
        }
    }

    /// Tells the engine which Child SAs received ESP since the last look (called before each
    /// engine timeout, so a due liveness check is skipped when the peer's ESP still arrives).
    fn note_inbound_traffic(&mut self) {
        let mut active = Vec::new();
        for (id, seen) in self.inbound_seen.iter_mut() {
            if let Some(st) = self.dp.child_stats(*id) {
                if st.packets_in > *seen {
                    *seen = st.packets_in;
                    active.push(ike::ChildSaId(*id));
                }
            }
        }
        self.engine.note_inbound_traffic(Instant::now(), &active);
    }

    fn begin_shutdown(&mut self, by: &mut Option<Instant>) {
        if by.is_some() {
            return;
        }
        notify::stopping();
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
            self.publish(&ev);
            self.apply(ev).await;
        }
    }

    /// Tells the control socket's subscribers.
    fn publish(&self, ev: &Event) {
        if !self.bus.has_subscribers() {
            return;
        }
        for mut out in events::from_engine(ev) {
            if let (
                Event::IkeSaUp { ike_sa, .. },
                control::Event::IkeUp {
                    local,
                    remote,
                    remote_id,
                    ..
                },
            ) = (ev, &mut out)
            {
                if let Some(s) = self
                    .engine
                    .status(Instant::now())
                    .into_iter()
                    .find(|s| s.id == *ike_sa)
                {
                    *local = Some(s.local);
                    *remote = Some(s.remote);
                    *remote_id = s
                        .remote_id
                        .map(|i| pki::identity_to_string(&i))
                        .unwrap_or_default();
                }
            }
            self.bus.publish(out);
        }
    }

    async fn apply(&mut self, ev: Event) {
        match ev {
            Event::ChildSaUp(c) => {
                let settings = self
                    .cfg
                    .connections
                    .iter()
                    .flat_map(|k| &k.children)
                    .find(|k| k.name == c.name)
                    .map(|k| k.dataplane)
                    .unwrap_or_default();
                let mut cfg = datapath::child_sa_config(&c, &settings);
                // RFC 4301 §8.2: the tunnel carries what the outer path does.
                if let Some(mtu) = self.routes.path_mtu(c.remote.ip()).await {
                    cfg.options.path_mtu = mtu;
                }
                match self.dp.install_child(cfg) {
                    Ok(_) => {
                        self.inbound_seen.insert(c.child.0, 0);
                        if c.mode == ike::Mode::Transport {
                            self.routes
                                .add_transport(c.child.0, c.local.ip(), c.remote.ip());
                        } else {
                            let sink = self.leak_sink(&c);
                            self.routes
                                .add_child(
                                    c.child.0,
                                    c.remote.ip(),
                                    &c.local_ts,
                                    &c.remote_ts,
                                    &sink,
                                )
                                .await
                        }
                    }
                    Err(e) => {
                        tracing::error!(ike_sa = %c.ike_sa, child_sa = %c.child, "cannot install CHILD_SA {}: {e}", c.name)
                    }
                }
            }
            Event::ChildSaDown { child, .. } => {
                self.inbound_seen.remove(&child.0);
                self.routes.remove_child(child.0).await;
                self.dp.remove_child(child.0);
            }
            Event::PeerAddressChanged {
                children,
                local,
                remote,
                ..
            } => {
                for c in children {
                    self.dp.update_addresses(c.0, local, remote);
                }
            }
            // Our virtual IPs (we are a road-warrior client): on the TUN device, before the
            // Child SAs that use them; the pushed DNS servers in use while the SA is up.
            Event::VirtualIp {
                ike_sa,
                addresses,
                dns,
                ..
            } => {
                self.routes.add_virtual_ips(ike_sa.0, &addresses).await;
                self.dns.apply(ike_sa.0, &dns);
            }
            Event::IkeSaRekeyed { old, new, .. } => {
                self.routes.rekeyed(old.0, new.0);
                self.dns.rekeyed(old.0, new.0);
            }
            // The data plane matches policies in install order, so a rekeyed Child SA takes over
            // sending when the SA it replaces is removed (ChildSaDown): nothing to do here.
            Event::IkeSaUp { .. } | Event::ChildSaOutbound { .. } => {}
            Event::IkeSaDown {
                ike_sa,
                connection,
                reason,
            } => {
                tracing::info!(ike_sa = %ike_sa, "IKE_SA {connection}[{ike_sa}] down: {reason}");
                self.routes.remove_virtual_ips(ike_sa.0).await;
                self.dns.down(ike_sa.0);
            }
            _ => {}
        }
    }

    /// A road-warrior client's full tunnel of a family the server gave us no address of: the
    /// whole family still goes into the TUN (and is dropped there) instead of leaking outside
    /// (docs/config.md "Road warriors").
    fn leak_sink(&self, c: &ike::ChildSaInstall) -> Vec<wire::TrafficSelector> {
        let Some(conn) = self.cfg.connection(&c.connection) else {
            return Vec::new();
        };
        let Some(child) = conn.child(&c.name) else {
            return Vec::new();
        };
        if conn.vips.is_empty() {
            return Vec::new();
        }
        [
            wire::TrafficSelector::any_v4(),
            wire::TrafficSelector::any_v6(),
        ]
        .into_iter()
        .filter(|all| {
            child.remote_ts.contains(&config::TsSpec::Ts(*all))
                && !c.remote_ts.iter().any(|t| t.is_ipv4() == all.is_ipv4())
        })
        .collect()
    }

    fn unknown_connection(&self, c: &str) -> Result<(), ControlError> {
        if self.cfg.connection(c).is_none() {
            return Err(ControlError::new(
                ErrorCode::UnknownConnection,
                format!("no connection named '{c}'"),
            ));
        }
        Ok(())
    }

    fn control(&mut self, cmd: &Command) -> Result<serde_json::Value, ControlError> {
        let now = Instant::now();
        match cmd {
            Command::Version => json(&control::VersionResult {
                daemon: env!("CARGO_PKG_VERSION").to_string(),
                protocol: control::PROTOCOL_VERSION,
            }),
            Command::Status => json(&status::status(&self.engine, &self.dp, now)),
            Command::ListSas { connection } => {
                if let Some(c) = connection {
                    self.unknown_connection(c)?;
                }
                let mut all = status::status(&self.engine, &self.dp, now).ike_sas;
                all.retain(|s| connection.as_ref().is_none_or(|c| &s.connection == c));
                json(&control::ListSasResult { ike_sas: all })
            }
            Command::ListConns => json(&listings::list_conns(&self.cfg, &self.engine, now)),
            Command::ListCerts => json(&self.creds.list_certs()),
            Command::ListPools => json(&self.pools.list()),
            Command::ListAlgs => json(&listings::list_algs()),
            Command::Stats => json(&listings::stats(
                &self.engine,
                listings::DaemonNumbers {
                    started: self.started,
                    control_clients: self.clients.load(Ordering::Relaxed),
                    reloads: self.reloads,
                },
                now,
            )),
            Command::Counters => json(&listings::counters(&self.engine, &self.dp, now)),
            Command::Initiate { connection, child } => {
                self.unknown_connection(connection)?;
                match self.initiate(connection, child.as_deref()) {
                    Ok(id) => json(&control::InitiateResult { ike_sa: id.0 }),
                    Err(e) => Err(ControlError::new(ErrorCode::Failed, e.to_string())),
                }
            }
            Command::Terminate(target) => {
                let n = match target {
                    TerminateTarget::Connection(c) => {
                        self.unknown_connection(c)?;
                        self.engine.terminate_connection(now, c)
                    }
                    TerminateTarget::IkeSa(id) => {
                        if !self.engine.terminate(now, ike::IkeSaId(*id)) {
                            return Err(unknown_sa("IKE", *id));
                        }
                        1
                    }
                    TerminateTarget::ChildSa(id) => {
                        if !self.engine.terminate_child(now, ike::ChildSaId(*id)) {
                            return Err(unknown_sa("Child", *id));
                        }
                        1
                    }
                };
                json(&control::TerminateResult {
                    terminated: n as u64,
                })
            }
            Command::Rekey(target) => self.rekey(*target),
            Command::Reload => {
                let r = self.reload()?;
                json(&r)
            }
            // Handled by the control socket's task itself.
            Command::Subscribe { .. } => Err(ControlError::new(
                ErrorCode::BadRequest,
                "subscribe is answered by the control socket",
            )),
        }
    }

    /// `rekey` (RFC 7296 §1.3.2 IKE SA, §1.3.3 Child SA): starts a CREATE_CHILD_SA exchange;
    /// the new SA is announced by the `ike_rekey` / `child_rekey` events.
    fn rekey(&mut self, target: SaTarget) -> Result<serde_json::Value, ControlError> {
        let now = Instant::now();
        let sas = self.engine.status(now);
        let (kind, id, exists) = match target {
            SaTarget::IkeSa(id) => ("IKE", id, sas.iter().any(|s| s.id.0 == id)),
            SaTarget::ChildSa(id) => (
                "Child",
                id,
                sas.iter().any(|s| s.children.iter().any(|c| c.id.0 == id)),
            ),
        };
        if !exists {
            return Err(unknown_sa(kind, id));
        }
        let started = match target {
            SaTarget::IkeSa(id) => self.engine.rekey_ike(now, ike::IkeSaId(id)),
            SaTarget::ChildSa(id) => self.engine.rekey_child(now, ike::ChildSaId(id)),
        };
        if !started {
            return Err(ControlError::new(
                ErrorCode::Failed,
                format!(
                    "{kind} SA {id} cannot be rekeyed now (not established, being deleted, or \
                     already rekeyed)"
                ),
            ));
        }
        json(&control::RekeyResult { rekeying: 1 })
    }
}

fn unknown_sa(kind: &str, id: u64) -> ControlError {
    ControlError::new(ErrorCode::UnknownSa, format!("no {kind} SA with id {id}"))
}

/// A command's result as JSON.
fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, ControlError> {
    serde_json::to_value(v).map_err(|e| ControlError::new(ErrorCode::Failed, e.to_string()))
}
