//! Transport mode negotiation in memory (RFC 7296 §1.3.1): USE_TRANSPORT_MODE in the request,
//! echoed by a responder configured for it, in IKE_AUTH and in CREATE_CHILD_SA (rekeys too);
//! a mismatch never installs a child of the wrong mode.

mod sim;

use std::time::Duration;

use ike::{ChildSaInstall, EngineConfig, Event, IkeConfig, Mode};
use sim::*;

const GCM: &str = "aes256gcm16-prfsha256-x25519";

fn ups(ev: &[Event]) -> Vec<&ChildSaInstall> {
    ev.iter()
        .filter_map(|e| match e {
            Event::ChildSaUp(c) => Some(c.as_ref()),
            _ => None,
        })
        .collect()
}

fn with_mode(mut c: IkeConfig, m: Mode) -> IkeConfig {
    for ch in &mut c.children {
        ch.mode = m;
    }
    c
}

fn sim(a: Mode, b: Mode, cfg_a: EngineConfig) -> Sim {
    let (ca, cb) = default_pair(&[GCM], &["aes256gcm16"]);
    Sim::with_cfg(
        cfg_a,
        EngineConfig::default(),
        with_mode(ca, a),
        with_mode(cb, b),
        creds("k"),
        creds("k"),
    )
}

#[test]
fn both_transport_installs_transport_children() {
    let mut s = sim(Mode::Transport, Mode::Transport, EngineConfig::default());
    s.initiate_a();
    s.run_for(Duration::from_secs(1));
    for ev in [&s.events_a, &s.events_b] {
        let u = ups(ev);
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].mode, Mode::Transport);
    }
}

#[test]
fn transport_rekey_stays_transport() {
    let cfg = EngineConfig {
        child_rekey_time: Duration::from_secs(100),
        ..EngineConfig::default()
    };
    let mut s = sim(Mode::Transport, Mode::Transport, cfg);
    s.initiate_a();
    s.run_for(Duration::from_secs(101));
    for ev in [&s.events_a, &s.events_b] {
        let u = ups(ev);
        assert_eq!(u.len(), 2, "one rekey");
        assert_eq!(u[1].replaces, Some(u[0].child));
        assert!(u.iter().all(|c| c.mode == Mode::Transport));
    }
}

#[test]
fn responder_declining_transport_leaves_no_child() {
    // B has a tunnel: it answers without USE_TRANSPORT_MODE; A must not install a tunnel it
    // did not ask for, and deletes what B created.
    let mut s = sim(Mode::Transport, Mode::Tunnel, EngineConfig::default());
    s.initiate_a();
    s.run_for(Duration::from_secs(2));
    assert!(ups(&s.events_a).is_empty());
    let st = s.b.status(s.now);
    assert_eq!(st.len(), 1, "the IKE SA stays");
    assert!(st[0].children.is_empty(), "B's child was deleted: {st:#?}");
}

#[test]
fn transport_responder_refuses_a_tunnel_request() {
    let mut s = sim(Mode::Tunnel, Mode::Transport, EngineConfig::default());
    s.initiate_a();
    s.run_for(Duration::from_secs(2));
    assert!(ups(&s.events_a).is_empty());
    assert!(ups(&s.events_b).is_empty());
    assert_eq!(s.a.status(s.now).len(), 1, "the IKE SA stays");
}
