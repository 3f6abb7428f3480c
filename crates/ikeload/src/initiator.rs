//! One initiator: its engine, its two sockets (IKE on 500, NAT-T on 4500, RFC 3948), and the
//! setup + teardown loop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crypto::proposal::Protocol;
use crypto::{ProposalSpec, SecretBytes, SystemRandom};
use ike::{
    ChildConfig, Credentials, Engine, EngineConfig, Event, IkeConfig, IkeSaId, Mode, PeerAddr,
    StartAction, TsConfig, Unique,
};
use tokio::net::UdpSocket;
use tokio::time::Instant;
use wire::Identity;

use crate::stats::Stats;
use crate::Args;

/// Longest wait for one setup or one teardown before it counts as failed.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Exchange type IKE_SA_INIT (RFC 7296 §3.1).
const IKE_SA_INIT: u8 = 34;

/// The PSK for any identity pair.
struct Psk(SecretBytes);

impl Credentials for Psk {
    fn psk(&self, _local: &Identity, _remote: Option<&Identity>) -> Option<SecretBytes> {
        Some(self.0.clone())
    }
}

/// Everything initiator k needs, checked before any starts.
pub struct Setup {
    engine: Engine,
    source: IpAddr,
}

fn nth(base: Ipv4Addr, k: usize) -> Result<Ipv4Addr, String> {
    u32::try_from(k)
        .ok()
        .and_then(|k| u32::from(base).checked_add(k))
        .map(Ipv4Addr::from)
        .ok_or_else(|| format!("address {base} + {k} is out of range"))
}

impl Setup {
    /// Initiator `k`'s engine: one connection "load" to the server.
    pub fn new(args: &Args, k: usize) -> Result<Self, String> {
        let source = IpAddr::V4(nth(args.source, k)?);
        let inner = nth(args.inner, k)?;
        let ike = ProposalSpec::parse(Protocol::Ike, &args.ike).map_err(|e| e.to_string())?;
        let esp = ProposalSpec::parse(Protocol::Esp, &args.esp).map_err(|e| e.to_string())?;
        let ts = |s: &str| -> Result<TsConfig, String> {
            s.parse()
                .map(TsConfig::Ts)
                .map_err(|e| format!("selector '{s}': {e}"))
        };
        let id = |s: &str| -> Result<Identity, String> {
            s.parse().map_err(|e| format!("identity '{s}': {e}"))
        };
        let conn = IkeConfig {
            name: "load".into(),
            local_addrs: vec![source],
            remote_addrs: vec![PeerAddr::Addr(args.server)],
            proposals: vec![ike],
            local_id: Some(id(&format!("load-{k}.example.org"))?),
            remote_id: Some(id(&args.server_id)?),
            dpd_delay: Duration::ZERO,
            keyingtries: 1,
            unique: Unique::Never,
            fragmentation: true,
            mobike: true,
            children: vec![ChildConfig {
                name: "net".into(),
                local_ts: vec![ts(&format!("{inner}/32"))?],
                remote_ts: vec![ts(&args.remote_ts)?],
                esp_proposals: vec![esp],
                mode: Mode::Tunnel,
                start_action: StartAction::None,
                ..Default::default()
            }],
            ..Default::default()
        };
        let engine = Engine::new(
            EngineConfig::default(),
            vec![conn],
            Box::new(Psk(SecretBytes::from_slice(args.psk.as_bytes()))),
            Box::new(SystemRandom),
        );
        Ok(Self { engine, source })
    }
}

/// What the initiator waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The IKE SA and its Child SA up.
    Up,
    /// The IKE SA gone.
    Down,
}

struct Initiator {
    engine: Engine,
    ike: UdpSocket,
    natt: UdpSocket,
    local_ike: SocketAddr,
    local_natt: SocketAddr,
    stats: Stats,
    /// (SPIi, exchange, message ID) of our last request, to tell retransmissions.
    last_request: Option<(u64, u8, u32)>,
    /// An IKE_SA_INIT response arrived since our last IKE_SA_INIT request.
    init_answered: bool,
    buf: Vec<u8>,
    buf_natt: Vec<u8>,
}

/// Runs setup + teardown cycles until `until`; returns the counters.
pub async fn run(setup: Setup, until: std::time::Instant) -> Stats {
    let until = Instant::from_std(until);
    let cfg = setup.engine.config().clone();
    let local_ike = SocketAddr::new(setup.source, cfg.ike_port);
    let local_natt = SocketAddr::new(setup.source, cfg.natt_port);
    let (ike, natt) = match (
        UdpSocket::bind(local_ike).await,
        UdpSocket::bind(local_natt).await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("ikeload: cannot bind {local_ike} and {local_natt}: {e}");
            return Stats {
                failed: 1,
                ..Stats::default()
            };
        }
    };
    let mut i = Initiator {
        engine: setup.engine,
        ike,
        natt,
        local_ike,
        local_natt,
        stats: Stats::default(),
        last_request: None,
        init_answered: false,
        buf: vec![0u8; 65536],
        buf_natt: vec![0u8; 65536],
    };
    while Instant::now() < until {
        if !i.cycle().await {
            // Do not spin against a responder that refuses.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    i.stats
}

impl Initiator {
    /// One setup + teardown; true when it completed.
    async fn cycle(&mut self) -> bool {
        self.init_answered = false;
        let now = std::time::Instant::now();
        let id = match self.engine.initiate(now, "load", None, None) {
            Ok(id) => id,
            Err(e) => {
                eprintln!("ikeload: cannot initiate: {e}");
                self.stats.failed += 1;
                return false;
            }
        };
        if !self.drive(id, Want::Up).await {
            self.stats.failed += 1;
            self.engine.terminate(std::time::Instant::now(), id);
            self.flush().await;
            return false;
        }
        self.engine.terminate(std::time::Instant::now(), id);
        if !self.drive(id, Want::Down).await {
            self.stats.failed += 1;
            return false;
        }
        self.stats.cycles += 1;
        true
    }

    /// Sends what the engine queued, counting retransmissions and extra IKE_SA_INITs.
    async fn flush(&mut self) {
        while let Some(t) = self.engine.poll_transmit() {
            let msg = if t.local.port() == self.local_natt.port() {
                t.payload.get(4..).unwrap_or_default()
            } else {
                &t.payload[..]
            };
            self.count_request(msg);
            let sock = if t.local.port() == self.local_natt.port() {
                &self.natt
            } else {
                &self.ike
            };
            // A failed send is a lost datagram: the engine retransmits.
            let _ = sock.send_to(&t.payload, t.remote).await;
        }
    }

    fn count_request(&mut self, msg: &[u8]) {
        let (Some(spi), Some(&exchange), Some(&flags), Some(mid)) =
            (msg.get(0..8), msg.get(18), msg.get(19), msg.get(20..24))
        else {
            return;
        };
        if flags & 0x20 != 0 {
            return; // a response
        }
        let key = (
            u64::from_be_bytes(spi.try_into().unwrap_or_default()),
            exchange,
            u32::from_be_bytes(mid.try_into().unwrap_or_default()),
        );
        if exchange == IKE_SA_INIT && self.init_answered {
            self.stats.extra_init += 1;
            self.init_answered = false;
        } else if self.last_request == Some(key) {
            self.stats.retransmits += 1;
        }
        self.last_request = Some(key);
    }

    /// Runs the engine until `want` happened to SA `id` (true) or it failed / timed out.
    async fn drive(&mut self, id: IkeSaId, want: Want) -> bool {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let (mut ike_up, mut child_up) = (false, false);
        loop {
            self.flush().await;
            while let Some(e) = self.engine.poll_event() {
                match e {
                    Event::IkeSaUp { ike_sa, .. } if ike_sa == id => ike_up = true,
                    Event::ChildSaUp(c) if c.ike_sa == id => child_up = true,
                    Event::IkeSaDown { ike_sa, .. } if ike_sa == id => {
                        return want == Want::Down;
                    }
                    _ => {}
                }
            }
            if want == Want::Up && ike_up && child_up {
                return true;
            }
            let wake = self
                .engine
                .poll_timeout()
                .map(Instant::from_std)
                .map_or(deadline, |t| t.min(deadline));
            if Instant::now() >= deadline {
                return false;
            }
            let (local_ike, local_natt) = (self.local_ike, self.local_natt);
            let got = tokio::select! {
                r = self.ike.recv_from(&mut self.buf) => r.ok().map(|(n, from)| (n, from, false)),
                r = self.natt.recv_from(&mut self.buf_natt) => r.ok().map(|(n, from)| (n, from, true)),
                _ = tokio::time::sleep_until(wake) => {
                    self.engine.handle_timeout(std::time::Instant::now());
                    continue;
                }
            };
            let Some((n, from, on_natt)) = got else {
                continue;
            };
            let (data, local) = if on_natt {
                (self.buf_natt.get(..n), local_natt)
            } else {
                (self.buf.get(..n), local_ike)
            };
            let Some(data) = data else {
                continue;
            };
            // On the NAT-T port IKE follows the non-ESP marker (RFC 3948 §2.2).
            let msg = if on_natt {
                data.get(4..).unwrap_or_default()
            } else {
                data
            };
            if msg.get(18) == Some(&IKE_SA_INIT) && msg.get(19).is_some_and(|f| f & 0x20 != 0) {
                self.init_answered = true;
            }
            self.engine
                .handle_datagram(std::time::Instant::now(), local, from, data);
        }
    }
}
