//! The end-to-end scenarios every namespace test is a row of: bring a net-to-net tunnel up
//! between two implementations and prove it ([`run_tunnel`]), or prove a misconfiguration fails
//! cleanly ([`run_failure`]).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::net2net::{Gw, Net2Net};
use crate::peer::{Impl, Peer, SaState};
use crate::privilege::{require_root_and_tools, NETNS_TOOLS, STRONGSWAN_TOOLS};
use crate::status::spi_eq;
use crate::topology::{addr, Topology, OUTER_IF};
use crate::wait::{ping_output, wait_until};

/// How long a tunnel gets to come up on both sides.
pub const UP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long SAs get to disappear from both sides after a teardown.
pub const DOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// How a tunnel is torn down at the end of [`run_tunnel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teardown {
    /// `rampart terminate` / `swanctl --terminate --ike` on that gateway (sends DELETE).
    Terminate(Gw),
    /// SIGTERM to the daemon on that gateway (it sends DELETE as it exits).
    Stop(Gw),
}

/// A tunnel scenario: who runs where, who initiates, the configuration, the teardown.
#[derive(Debug, Clone)]
pub struct TunnelCase<'a> {
    /// Per-test prefix for namespaces, interfaces and the work dir (at most 8 characters).
    pub prefix: &'a str,
    /// What runs on gw1.
    pub gw1: Impl,
    /// What runs on gw2.
    pub gw2: Impl,
    /// The gateway that initiates.
    pub initiator: Gw,
    /// The tunnel, as both sides are configured.
    pub net: Net2Net,
    /// How to end it.
    pub teardown: Teardown,
    /// The rampart binary (`env!("CARGO_BIN_EXE_rampart")`), if a side runs Rampart.
    pub rampart_bin: Option<&'a Path>,
}

/// What a misconfiguration must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The PSKs differ: AUTHENTICATION_FAILED (RFC 7296 §2.15, §3.10.1 type 24).
    AuthenticationFailed,
    /// No common IKE proposal: NO_PROPOSAL_CHOSEN (RFC 7296 §2.7, §3.10.1 type 14).
    NoProposalChosen,
}

/// A failure scenario: each gateway gets its own view of the tunnel.
#[derive(Debug, Clone)]
pub struct FailureCase<'a> {
    /// Per-test prefix (at most 8 characters).
    pub prefix: &'a str,
    /// What runs on gw1.
    pub gw1: Impl,
    /// What runs on gw2.
    pub gw2: Impl,
    /// The gateway that initiates.
    pub initiator: Gw,
    /// gw1's configuration.
    pub gw1_net: Net2Net,
    /// gw2's configuration (differs in PSK or proposals).
    pub gw2_net: Net2Net,
    /// The expected failure.
    pub expect: Failure,
    /// The rampart binary, if a side runs Rampart.
    pub rampart_bin: Option<&'a Path>,
}

/// A tunnel's two endpoints.
#[derive(Debug)]
pub struct Pair {
    /// The endpoint on gw1.
    pub gw1: Peer,
    /// The endpoint on gw2.
    pub gw2: Peer,
}

impl Pair {
    /// The endpoint on `gw`.
    pub fn get(&self, gw: Gw) -> &Peer {
        match gw {
            Gw::Gw1 => &self.gw1,
            Gw::Gw2 => &self.gw2,
        }
    }

    /// The endpoint on `gw`, mutable.
    pub fn get_mut(&mut self, gw: Gw) -> &mut Peer {
        match gw {
            Gw::Gw1 => &mut self.gw1,
            Gw::Gw2 => &mut self.gw2,
        }
    }

    /// Both sides' SA listings, for messages.
    pub fn describe(&self) -> String {
        format!(
            "--- gw1 ---\n{}\n--- gw2 ---\n{}",
            self.gw1.describe(),
            self.gw2.describe()
        )
    }
}

fn tools_for(a: Impl, b: Impl) -> &'static [&'static str] {
    if a == Impl::Strongswan || b == Impl::Strongswan {
        STRONGSWAN_TOOLS
    } else {
        NETNS_TOOLS
    }
}

/// Starts the responder first, then the initiator; a Rampart initiator initiates by itself
/// (`start_action = "start"`), a strongSwan initiator with `swanctl --initiate` (whose output is
/// returned, `None` for Rampart).
#[track_caller]
fn start_pair(
    topo: &Topology,
    gw1: (Impl, &Net2Net),
    gw2: (Impl, &Net2Net),
    initiator: Gw,
    bin: Option<&Path>,
) -> (Pair, Option<crate::cmd::Output>) {
    let responder = initiator.peer();
    let conf = |gw: Gw| if gw == Gw::Gw1 { gw1 } else { gw2 };
    let (r_impl, r_net) = conf(responder);
    let (i_impl, i_net) = conf(initiator);
    let r = Peer::start(r_impl, topo, responder, r_net, false, bin);
    let i = Peer::start(i_impl, topo, initiator, i_net, true, bin);
    let swan_initiate = match &i {
        Peer::Charon(_) => Some(i.initiate()),
        Peer::Rampart(_) => None,
    };
    let pair = if initiator == Gw::Gw1 {
        Pair { gw1: i, gw2: r }
    } else {
        Pair { gw1: r, gw2: i }
    };
    (pair, swan_initiate)
}

fn sorted(v: &[String]) -> BTreeSet<String> {
    v.iter().map(|s| s.trim().to_ascii_lowercase()).collect()
}

/// Runs a tunnel scenario, asserting at each step:
/// 1. IKE SA ESTABLISHED and Child SA INSTALLED on both sides;
/// 2. SPIs match crosswise (gw1's inbound SPI is gw2's outbound and vice versa), the selectors
///    are the two LANs, ESP is UDP-encapsulated and IKE floated to port 4500;
/// 3. h1 and h2 ping each other both ways over IPv4 (and IPv6 when the selectors carry it), and
///    the Child SAs count packets both ways;
/// 4. the teardown removes the SAs from both sides (polled);
/// 5. on the wire between the gateways there was only UDP 500/4500 (besides ARP/ND), and ESP in
///    UDP was seen.
///
/// Returns early (after printing `SKIPPED: ...`) when not root or tools are missing, unless CI.
#[track_caller]
pub fn run_tunnel(case: &TunnelCase<'_>) {
    if !require_root_and_tools(tools_for(case.gw1, case.gw2)) {
        return;
    }
    let started = Instant::now();
    let topo = Topology::net2net(case.prefix);
    let mut cap = Capture::start(&topo.gw1, OUTER_IF, &topo.dir().path().join("outer.pcap"));
    let (mut pair, swan_initiate) = start_pair(
        &topo,
        (case.gw1, &case.net),
        (case.gw2, &case.net),
        case.initiator,
        case.rampart_bin,
    );
    if let Some(out) = &swan_initiate {
        assert!(
            out.ok(),
            "strongSwan's initiate failed: {out}\n{}",
            pair.describe()
        );
    }

    // 1. Up on both sides.
    let mut last = (Vec::new(), Vec::new());
    let up = wait_until(UP_TIMEOUT, || {
        last = (pair.gw1.sas(), pair.gw2.sas());
        last.0.len() == 1 && last.1.len() == 1 && last.0[0].is_up() && last.1[0].is_up()
    });
    assert!(
        up,
        "tunnel not up on both sides within {UP_TIMEOUT:?} (want exactly one ESTABLISHED IKE SA with an \
         INSTALLED child on each)\ngw1 ({}): {:?}\ngw2 ({}): {:?}\n{}",
        pair.gw1.label(),
        last.0,
        pair.gw2.label(),
        last.1,
        pair.describe()
    );
    let (s1, s2): (SaState, SaState) = (last.0[0].clone(), last.1[0].clone());
    eprintln!(
        "[{}] up after {:?}: gw1 {} {} in {} out {}; gw2 {} {} in {} out {}",
        case.prefix,
        started.elapsed(),
        pair.gw1.label(),
        s1.algorithms,
        s1.spi_in,
        s1.spi_out,
        pair.gw2.label(),
        s2.algorithms,
        s2.spi_in,
        s2.spi_out
    );

    // 2. What both sides agreed on.
    assert!(
        spi_eq(&s1.spi_in, &s2.spi_out) && spi_eq(&s2.spi_in, &s1.spi_out),
        "SPIs do not match crosswise: gw1 in {} out {}, gw2 in {} out {}\n{}",
        s1.spi_in,
        s1.spi_out,
        s2.spi_in,
        s2.spi_out,
        pair.describe()
    );
    let lan = |gw: Gw| {
        case.net
            .lans(gw)
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    for (gw, s) in [(Gw::Gw1, &s1), (Gw::Gw2, &s2)] {
        let p = pair.get(gw);
        assert_eq!(
            sorted(&s.local_ts),
            sorted(&lan(gw)),
            "{gw:?} ({}) local selectors",
            p.label()
        );
        assert_eq!(
            sorted(&s.remote_ts),
            sorted(&lan(gw.peer())),
            "{gw:?} ({}) remote selectors",
            p.label()
        );
        assert!(
            s.encap,
            "{gw:?} ({}): ESP is not UDP-encapsulated: {s:?}",
            p.label()
        );
        assert_eq!(
            s.remote_port,
            "4500",
            "{gw:?} ({}): IKE did not float to port 4500",
            p.label()
        );
    }
    check_algorithms(&case.net, &pair);

    // 3. Traffic both ways.
    let mut pings = vec![(&topo.h1, addr::H2_V4), (&topo.h2, addr::H1_V4)];
    if case.net.inner_v6 {
        pings.push((&topo.h1, addr::H2_V6));
        pings.push((&topo.h2, addr::H1_V6));
    }
    for (from, to) in &pings {
        let out = ping_output(from, to, 3);
        assert!(
            out.ok(),
            "ping {} -> {to} through the tunnel failed: {out}\n{}",
            from.name(),
            pair.describe()
        );
    }
    let (c1, c2) = (pair.gw1.sas(), pair.gw2.sas());
    for (gw, sas) in [(Gw::Gw1, &c1), (Gw::Gw2, &c2)] {
        let s = sas.first().cloned().unwrap_or_default();
        assert!(
            s.packets_in > 0 && s.packets_out > 0,
            "{gw:?} ({}) counted no ESP packets in or out after the pings: {s:?}",
            pair.get(gw).label()
        );
    }

    // 4. Teardown, seen by both sides.
    let (gw, stopped) = match case.teardown {
        Teardown::Terminate(gw) => {
            let out = pair.get(gw).terminate();
            assert!(
                out.ok(),
                "terminate on {gw:?} ({}) failed: {out}",
                pair.get(gw).label()
            );
            (gw, false)
        }
        Teardown::Stop(gw) => {
            let clean = pair.get_mut(gw).stop();
            assert!(
                clean,
                "{gw:?} ({}) did not exit cleanly on SIGTERM",
                pair.get(gw).label()
            );
            (gw, true)
        }
    };
    let mut left = (Vec::new(), Vec::new());
    let gone = wait_until(DOWN_TIMEOUT, || {
        left.1 = pair.get(gw.peer()).sas();
        left.0 = if stopped {
            Vec::new()
        } else {
            pair.get(gw).sas()
        };
        left.0.is_empty() && left.1.is_empty()
    });
    assert!(
        gone,
        "SAs still present {DOWN_TIMEOUT:?} after {:?}: on {gw:?} {:?}, on {:?} {:?}",
        case.teardown,
        left.0,
        gw.peer(),
        left.1
    );

    // 5. The wire.
    cap.stop();
    let foreign = cap.foreign_packets();
    assert!(
        foreign.is_empty(),
        "packets other than UDP 500/4500 between the gateways:\n{}",
        foreign.join("\n")
    );
    let esp = cap.esp_in_udp_count();
    assert!(esp > 0, "no ESP-in-UDP packet seen between the gateways");
    eprintln!(
        "[{}] ok in {:?}: {} IKE messages, {esp} ESP-in-UDP packets on the outer link",
        case.prefix,
        started.elapsed(),
        cap.ike_count()
    );
}

/// Checks the negotiated algorithms where the implementation reports them: charon names them
/// (AES_GCM_16-256, AES_CBC-128 + HMAC_SHA2_256_128, CURVE_25519, ECP_256), Rampart prints
/// proposals in strongSwan syntax, which must contain the configured encryption token.
#[track_caller]
fn check_algorithms(net: &Net2Net, pair: &Pair) {
    for gw in [Gw::Gw1, Gw::Gw2] {
        let p = pair.get(gw);
        let sas = p.sas();
        let Some(s) = sas.first() else { continue };
        match p.kind() {
            Impl::Strongswan => {
                let want: &[&str] = match (net.ike_proposal.as_str(), net.esp_proposal.as_str()) {
                    ("aes256gcm16-prfsha256-x25519", "aes256gcm16") => &[
                        "IKE AES_GCM_16-256",
                        "PRF_HMAC_SHA2_256",
                        "CURVE_25519",
                        "ESP AES_GCM_16-256",
                    ],
                    ("aes128-sha256-ecp256", "aes128-sha256") => &[
                        "IKE AES_CBC-128/HMAC_SHA2_256_128",
                        "ECP_256",
                        "ESP AES_CBC-128/HMAC_SHA2_256_128",
                    ],
                    _ => &[],
                };
                for w in want {
                    assert!(
                        s.algorithms.contains(w),
                        "{gw:?} strongSwan negotiated {}, expected {w}",
                        s.algorithms
                    );
                }
            }
            Impl::Rampart => {
                let enc = |p: &str| p.split('-').next().unwrap_or_default().to_string();
                let (ike, esp) = (enc(&net.ike_proposal), enc(&net.esp_proposal));
                assert!(
                    s.algorithms.starts_with(&format!("IKE {ike}"))
                        && s.algorithms.contains(&format!("ESP {esp}")),
                    "{gw:?} Rampart reports {}, expected IKE {ike}... ESP {esp}...",
                    s.algorithms
                );
            }
        }
    }
}

/// Log evidence of a failure, per implementation and role. Rampart's lines are its documented
/// contract. strongSwan 5.9.8 (measured, default harness log levels) writes the notify's full
/// name only when it receives it (`received AUTHENTICATION_FAILED notify error`); as responder it
/// logs the message it generates with the short name (`generating IKE_AUTH response 1
/// [ N(AUTH_FAILED) ]`, `generating IKE_SA_INIT response 0 [ N(NO_PROP) ]`).
pub fn failure_logged(which: Impl, initiator: bool, failure: Failure, log: &str) -> bool {
    match (which, failure) {
        (Impl::Rampart, Failure::AuthenticationFailed) => log.contains("AUTHENTICATION_FAILED"),
        (Impl::Rampart, Failure::NoProposalChosen) => log.contains("NO_PROPOSAL_CHOSEN"),
        // The initiator receives the notify; the responder sends it.
        (Impl::Strongswan, Failure::AuthenticationFailed) if initiator => {
            log.contains("received AUTHENTICATION_FAILED notify error")
        }
        (Impl::Strongswan, Failure::AuthenticationFailed) => log
            .lines()
            .any(|l| l.contains("generating IKE_AUTH response") && l.contains("N(AUTH_FAILED)")),
        (Impl::Strongswan, Failure::NoProposalChosen) if initiator => {
            log.contains("received NO_PROPOSAL_CHOSEN notify error")
        }
        (Impl::Strongswan, Failure::NoProposalChosen) => log
            .lines()
            .any(|l| l.contains("generating IKE_SA_INIT response") && l.contains("N(NO_PROP)")),
    }
}

/// Runs a failure scenario: the initiator tries, both logs show the expected failure (polled up to
/// 20 s), and neither side keeps an SA (polled).
#[track_caller]
pub fn run_failure(case: &FailureCase<'_>) {
    if !require_root_and_tools(tools_for(case.gw1, case.gw2)) {
        return;
    }
    let started = Instant::now();
    let topo = Topology::net2net(case.prefix);
    let mut cap = Capture::start(&topo.gw1, OUTER_IF, &topo.dir().path().join("outer.pcap"));
    let (pair, swan_initiate) = start_pair(
        &topo,
        (case.gw1, &case.gw1_net),
        (case.gw2, &case.gw2_net),
        case.initiator,
        case.rampart_bin,
    );
    if let Some(out) = &swan_initiate {
        assert!(
            !out.ok(),
            "strongSwan's initiate succeeded despite the misconfiguration: {out}"
        );
    }
    let logged = |gw: Gw| {
        let p = pair.get(gw);
        failure_logged(p.kind(), gw == case.initiator, case.expect, &p.log())
    };
    let both = wait_until(Duration::from_secs(20), || {
        logged(Gw::Gw1) && logged(Gw::Gw2)
    });
    assert!(
        both,
        "expected {:?} in both logs: gw1 ({}, {}) {}, gw2 ({}, {}) {}",
        case.expect,
        pair.gw1.label(),
        if case.initiator == Gw::Gw1 {
            "initiator"
        } else {
            "responder"
        },
        if logged(Gw::Gw1) {
            "has it"
        } else {
            "does NOT"
        },
        pair.gw2.label(),
        if case.initiator == Gw::Gw2 {
            "initiator"
        } else {
            "responder"
        },
        if logged(Gw::Gw2) {
            "has it"
        } else {
            "does NOT"
        },
    );
    let mut last = (Vec::new(), Vec::new());
    let none = wait_until(DOWN_TIMEOUT, || {
        last = (pair.gw1.sas(), pair.gw2.sas());
        last.0.is_empty() && last.1.is_empty()
    });
    assert!(
        none,
        "SAs left after {:?}: gw1 {:?}, gw2 {:?}",
        case.expect, last.0, last.1
    );
    cap.stop();
    let foreign = cap.foreign_packets();
    assert!(
        foreign.is_empty(),
        "packets other than UDP 500/4500 between the gateways:\n{}",
        foreign.join("\n")
    );
    assert_eq!(
        cap.esp_in_udp_count(),
        0,
        "ESP flowed although no Child SA came up"
    );
    eprintln!(
        "[{}] ok in {:?}: {:?} on both sides, no SA left",
        case.prefix,
        started.elapsed(),
        case.expect
    );
}
