//! One IPsec endpoint under test, strongSwan or Rampart, with its SAs in one normalised shape so
//! that the same checks run against either.

use std::path::Path;

use crate::charon::Charon;
use crate::cmd::Output;
use crate::daemon::RampartDaemon;
use crate::net2net::{Gw, Net2Net, CHILD, CONN};
use crate::topology::Topology;

/// Which implementation runs on a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// strongSwan 5.9 charon (kernel-libipsec).
    Strongswan,
    /// The rampart daemon under test.
    Rampart,
}

/// An IKE SA and its (first) Child SA named [`CHILD`], as either implementation reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaState {
    /// IKE SA state (`ESTABLISHED`, ...).
    pub ike_state: String,
    /// Whether this side initiated the IKE SA.
    pub initiator: bool,
    /// Remote UDP port of the IKE SA (4500 after the NAT-T float).
    pub remote_port: String,
    /// Child SA state (`INSTALLED`, ...), `None` if there is no child named [`CHILD`].
    pub child_state: Option<String>,
    /// Inbound ESP SPI (hex).
    pub spi_in: String,
    /// Outbound ESP SPI (hex).
    pub spi_out: String,
    /// Whether ESP is UDP-encapsulated.
    pub encap: bool,
    /// Local selectors.
    pub local_ts: Vec<String>,
    /// Remote selectors.
    pub remote_ts: Vec<String>,
    /// Packets received on the child.
    pub packets_in: u64,
    /// Packets sent on the child.
    pub packets_out: u64,
    /// The negotiated algorithms as the implementation names them (for messages and checks).
    pub algorithms: String,
}

impl SaState {
    /// IKE SA established and the child installed.
    pub fn is_up(&self) -> bool {
        self.ike_state == "ESTABLISHED" && self.child_state.as_deref() == Some("INSTALLED")
    }
}

/// A running endpoint on one gateway.
#[derive(Debug)]
pub enum Peer {
    /// strongSwan.
    Charon(Charon),
    /// Rampart.
    Rampart(RampartDaemon),
}

impl Peer {
    /// Starts `which` on `gw` of `topo` with the configuration `net` renders for that gateway.
    /// Rampart gets `start_action = "start"` when `initiate` is true; charon never initiates by
    /// itself (call [`Peer::initiate`]). `rampart_bin` is needed for [`Impl::Rampart`].
    #[track_caller]
    pub fn start(
        which: Impl,
        topo: &Topology,
        gw: Gw,
        net: &Net2Net,
        initiate: bool,
        rampart_bin: Option<&Path>,
    ) -> Peer {
        let (ns, name) = match gw {
            Gw::Gw1 => (&topo.gw1, "gw1"),
            Gw::Gw2 => (&topo.gw2, "gw2"),
        };
        let dir = topo.subdir(name);
        match which {
            Impl::Strongswan => {
                let c = Charon::start(ns, &dir);
                c.load_config(&net.swanctl_conf(gw));
                Peer::Charon(c)
            }
            Impl::Rampart => {
                let Some(bin) = rampart_bin else {
                    panic!("a Rampart peer needs the rampart binary's path");
                };
                let tun = format!(
                    "{}{}",
                    topo.prefix(),
                    if gw == Gw::Gw1 { "t1" } else { "t2" }
                );
                let toml = net.rampart_toml(gw, &RampartDaemon::socket_in(&dir), &tun, initiate);
                Peer::Rampart(RampartDaemon::start(bin, ns, &dir, &toml))
            }
        }
    }

    /// Which implementation this is.
    pub fn kind(&self) -> Impl {
        match self {
            Peer::Charon(_) => Impl::Strongswan,
            Peer::Rampart(_) => Impl::Rampart,
        }
    }

    /// "strongSwan" or "Rampart", for messages.
    pub fn label(&self) -> &'static str {
        match self {
            Peer::Charon(_) => "strongSwan",
            Peer::Rampart(_) => "Rampart",
        }
    }

    /// The IKE SAs of connection [`CONN`], normalised.
    #[track_caller]
    pub fn sas(&self) -> Vec<SaState> {
        match self {
            Peer::Charon(c) => c
                .list_sas()
                .into_iter()
                .filter(|s| s.name == CONN)
                .map(|s| {
                    let child = s.children.iter().find(|c| c.name == CHILD);
                    SaState {
                        ike_state: s.state.clone(),
                        initiator: s.initiator,
                        remote_port: s.remote_port.clone(),
                        child_state: child.map(|c| c.state.clone()),
                        spi_in: child.map(|c| c.spi_in.clone()).unwrap_or_default(),
                        spi_out: child.map(|c| c.spi_out.clone()).unwrap_or_default(),
                        encap: child.is_some_and(|c| c.encap),
                        local_ts: child.map(|c| c.local_ts.clone()).unwrap_or_default(),
                        remote_ts: child.map(|c| c.remote_ts.clone()).unwrap_or_default(),
                        packets_in: child.map_or(0, |c| c.packets_in),
                        packets_out: child.map_or(0, |c| c.packets_out),
                        algorithms: format!(
                            "IKE {}-{}/{}/{}/{} ESP {}",
                            s.encr_alg,
                            s.encr_keysize,
                            s.integ_alg,
                            s.prf_alg,
                            s.dh_group,
                            child
                                .map(|c| format!(
                                    "{}-{}/{}",
                                    c.encr_alg, c.encr_keysize, c.integ_alg
                                ))
                                .unwrap_or_default()
                        ),
                    }
                })
                .collect(),
            Peer::Rampart(d) => d
                .ike_sas()
                .into_iter()
                .filter(|s| s.connection == CONN)
                .map(|s| {
                    let child = s.children.iter().find(|c| c.name == CHILD);
                    SaState {
                        ike_state: s.state.clone(),
                        initiator: s.initiator,
                        remote_port: s
                            .remote
                            .rsplit_once(':')
                            .map(|(_, p)| p.to_string())
                            .unwrap_or_default(),
                        child_state: child.map(|c| c.state.clone()),
                        spi_in: child.map(|c| c.spi_in.clone()).unwrap_or_default(),
                        spi_out: child.map(|c| c.spi_out.clone()).unwrap_or_default(),
                        encap: child.is_some_and(|c| c.encap),
                        local_ts: child.map(|c| c.local_ts.clone()).unwrap_or_default(),
                        remote_ts: child.map(|c| c.remote_ts.clone()).unwrap_or_default(),
                        packets_in: child.map_or(0, |c| c.packets_in),
                        packets_out: child.map_or(0, |c| c.packets_out),
                        algorithms: format!(
                            "IKE {} ESP {}",
                            s.proposal,
                            child.map(|c| c.proposal.as_str()).unwrap_or_default()
                        ),
                    }
                })
                .collect(),
        }
    }

    /// A human listing of the SAs (swanctl's text, or rampart's JSON), for messages.
    pub fn describe(&self) -> String {
        match self {
            Peer::Charon(c) => format!("strongSwan in {}:\n{}", c.ns(), c.list_sas_text()),
            Peer::Rampart(d) => {
                let out = d.cli(&["status", "--json"]);
                format!(
                    "Rampart in {}: {}",
                    d.ns(),
                    if out.ok() {
                        out.stdout
                    } else {
                        out.to_string()
                    }
                )
            }
        }
    }

    /// Initiates the child (charon: `swanctl --initiate`; Rampart: `rampart initiate CONN`).
    pub fn initiate(&self) -> Output {
        match self {
            Peer::Charon(c) => c.initiate(CHILD),
            Peer::Rampart(d) => d.initiate(CONN),
        }
    }

    /// Terminates the IKE SA, sending DELETE (`swanctl --terminate --ike` / `rampart terminate`).
    pub fn terminate(&self) -> Output {
        match self {
            Peer::Charon(c) => c.terminate_ike(CONN),
            Peer::Rampart(d) => d.terminate(CONN),
        }
    }

    /// Stops the process with SIGTERM (both send DELETE on the way out). Returns whether it
    /// exited on SIGTERM in time, and, for Rampart, with status 0 as its contract says.
    pub fn stop(&mut self) -> bool {
        match self {
            Peer::Charon(c) => c.stop(),
            Peer::Rampart(d) => {
                let (status, in_time) = d.stop();
                in_time && status.is_some_and(|s| s.success())
            }
        }
    }

    /// The log so far (charon's file log, or rampart's stderr).
    pub fn log(&self) -> String {
        match self {
            Peer::Charon(c) => c.log(),
            Peer::Rampart(d) => d.log(),
        }
    }
}
