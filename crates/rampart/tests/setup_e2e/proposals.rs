//! The proposals of real clients (profiles::proposals::CLIENTS: Windows 10/11 by default and
//! after the exported script, Apple with the exported profile and set up by hand, Android's
//! native client, the strongSwan app) against a setup server: a swanctl initiator offers
//! exactly that client's IKE and ESP proposals, in its order (so its first key exchange is the
//! client's first group), and authenticates with EAP-MSCHAPv2 as the banner's user. Windows'
//! default (MODP-1024, SHA-1 ESP) is refused without `--legacy-crypto` and accepted with it.
//!
//! charon 5.9 expresses every suite here (3DES included, through its openssl plugin); Rampart
//! does not implement 3DES, so only the clients' AES proposals can match.

use profiles::proposals::{ClientSuites, CLIENTS};
use testbed::{ping, wait_until, Charon};

use super::world::*;

/// swanctl connection names may hold only these characters; client names already do.
fn conn_name(c: &ClientSuites) -> String {
    c.name.replace('-', "_")
}

/// One charon with a connection per client of `clients`, as the banner's user, each from its
/// own address (203.0.113.10, .11, ...): every client is a different device.
fn charon_for(w: &World, clients: &[&ClientSuites]) -> Charon {
    let charon = w.charon();
    let conns: Vec<String> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let addr = format!("203.0.113.{}", 10 + i);
            w.cli.add_addr("c-wan", &format!("{addr}/24"));
            swan_connection(
                &conn_name(c),
                &eap_local(&w.user),
                &c.ike.join(", "),
                &c.esp.join(", "),
            )
            .replacen(
                "    remote_addrs",
                &format!("    local_addrs = {addr}\n    remote_addrs"),
                1,
            )
        })
        .collect();
    charon.load_config(&swan_document(
        &conns,
        &w.ca(),
        &eap_secret(&w.user, &w.password),
    ));
    charon
}

/// Connects as `c`, checks the chosen IKE and ESP algorithms are among its offer, pings the lan
/// host, disconnects.
fn connects(w: &World, charon: &Charon, c: &ClientSuites) {
    let name = conn_name(c);
    let out = charon.initiate(&name);
    assert!(out.ok(), "{}: refused: {out}\n{}", c.name, w.server.log());
    let sa = charon
        .list_sas()
        .into_iter()
        .find(|s| s.name == name && s.state == "ESTABLISHED")
        .unwrap_or_else(|| panic!("{}: no IKE SA\n{}", c.name, charon.list_sas_text()));
    // What charon lists, in the proposal syntax the client's lists use.
    let alg = |a: &str| match a {
        "AES_GCM_16" => "gcm16",
        "AES_CBC" => "aes",
        other => panic!("{}: unexpected algorithm {other}", c.name),
    };
    assert!(
        c.ike.join("-").contains(alg(&sa.encr_alg)),
        "{}: IKE {} not offered",
        c.name,
        sa.encr_alg
    );
    let child = sa.children.first().expect("a Child SA");
    assert!(
        c.esp.join("-").contains(alg(&child.encr_alg)),
        "{}: ESP {} not offered",
        c.name,
        child.encr_alg
    );
    assert!(
        ping(&w.cli, LAN_HOST, 2),
        "{}: lan host unreachable",
        c.name
    );
    assert!(charon.terminate_ike(&name).ok());
    assert!(
        wait_until(WAIT, || w.server.ike_sas().is_empty()),
        "{}",
        w.server.log()
    );
}

#[test]
fn real_clients_proposals_against_a_default_server() {
    if !ready() {
        return;
    }
    let w = World::new("spr", &[]);
    let all: Vec<&ClientSuites> = CLIENTS.iter().collect();
    let charon = charon_for(&w, &all);
    for c in CLIENTS.iter().filter(|c| !c.needs_legacy) {
        connects(&w, &charon, c);
    }
    // Windows' defaults: no proposal in common without legacy crypto.
    for c in CLIENTS.iter().filter(|c| c.needs_legacy) {
        let out = charon.initiate(&conn_name(c));
        assert!(!out.ok(), "{} accepted without --legacy-crypto", c.name);
        assert!(
            charon.log().contains("NO_PROPOSAL_CHOSEN"),
            "{}",
            charon.log()
        );
    }
    let lines = w.server_lines(&["no acceptable IKE proposal"]);
    assert_eq!(lines.len(), 1, "{}", w.server.log());
    assert!(w.server.ike_sas().is_empty());
}

#[test]
fn windows_defaults_with_legacy_crypto() {
    if !ready() {
        return;
    }
    let w = World::new("spl", &["--legacy-crypto"]);
    let legacy: Vec<&ClientSuites> = CLIENTS.iter().filter(|c| c.needs_legacy).collect();
    assert!(!legacy.is_empty());
    let charon = charon_for(&w, &legacy);
    for c in legacy {
        connects(&w, &charon, c);
    }
}
