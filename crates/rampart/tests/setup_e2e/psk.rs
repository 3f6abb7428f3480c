//! A PSK client of a setup server: `rampart client add phone --psk` prints its identity and
//! key (its own: no key shared by all clients), a strongSwan client with exactly those
//! connects to rw-psk; a client with a wrong key is refused.

use testbed::{ping, wait_until};

use super::world::*;

fn psk_conf(w: &World, id: &str, psk: &str) -> String {
    swan_conf(
        "psk",
        &format!("auth = psk\n      id = {id}"),
        &w.ca(),
        &format!(
            "  ike-phone {{\n    id-a = {id}\n    id-b = {SERVER_ID}\n    secret = \"{psk}\"\n  }}"
        ),
    )
    .replacen(
        "remote {\n      auth = pubkey",
        "remote {\n      auth = psk",
        1,
    )
}

#[test]
fn psk_client_added_by_rampart_client() {
    if !ready() {
        return;
    }
    let w = World::new("sps", &[]);
    let add = w.client_cmd(&["add", "phone", "--psk"]);
    assert!(add.contains("Daemon reloaded."), "{add}");
    let id = field(&add, "Identity:");
    let psk = field(&add, "PSK:");
    let charon = w.charon();
    // A wrong key first: refused.
    charon.load_config(&psk_conf(&w, &id, &format!("x{psk}")));
    let out = charon.initiate("psk");
    assert!(!out.ok(), "a wrong PSK got in: {out}");
    assert!(w.server.ike_sas().is_empty());
    charon.load_config(&psk_conf(&w, &id, &psk));
    let out = charon.initiate("psk");
    assert!(out.ok(), "PSK initiate failed: {out}\n{}", w.server.log());
    let sas = w.server.ike_sas();
    assert_eq!(sas.len(), 1, "{sas:?}");
    assert!(
        charon
            .log()
            .contains(&format!("installing new virtual IP {FIRST_VIP}")),
        "{}",
        charon.log()
    );
    assert!(ping(&w.cli, LAN_HOST, 3), "lan host unreachable with PSK");
    assert!(charon.terminate_ike("psk").ok());
    assert!(wait_until(WAIT, || w.server.ike_sas().is_empty()));
}
