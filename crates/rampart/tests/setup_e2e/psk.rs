//! A PSK client of a setup server: `rampart client add phone --psk` prints its identity and
//! key (its own: no key shared by all clients), a strongSwan client with exactly those
//! connects to rw-psk; a client with a wrong key is refused. Android's built-in client sends
//! its "IPSec identifier" as an ID_KEY_ID: `--key-id NAME` is for it.

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

/// `rampart client add droid --psk --key-id droid`: the client sends ID_KEY_ID "droid", as
/// Android's built-in "IKEv2/IPSec PSK" does with the identifier "droid"; revoking it while
/// connected closes its SA (the daemon prints the identity as `@#hex`).
#[test]
fn psk_client_with_a_key_id() {
    if !ready() {
        return;
    }
    let w = World::new("spk", &[]);
    let add = w.client_cmd(&["add", "droid", "--psk", "--key-id", "droid"]);
    assert!(add.contains("Daemon reloaded."), "{add}");
    assert_eq!(field(&add, "Identity:"), "@#64726f6964");
    let psk = field(&add, "PSK:");
    let charon = w.charon();
    // strongSwan's `keyid:TEXT` is an ID_KEY_ID of TEXT's bytes.
    charon.load_config(&psk_conf(&w, "keyid:droid", &psk));
    let out = charon.initiate("psk");
    assert!(out.ok(), "PSK initiate failed: {out}\n{}", w.server.log());
    let sas = w.server.ike_sas();
    assert_eq!(sas.len(), 1, "{sas:?}");
    assert!(ping(&w.cli, LAN_HOST, 3), "lan host unreachable with PSK");
    let rev = w.client_cmd(&["revoke", "droid"]);
    assert!(rev.contains("Terminated IKE SA"), "{rev}");
    assert!(
        wait_until(WAIT, || charon.list_sas().is_empty()),
        "{}",
        charon.list_sas_text()
    );
    assert!(!charon.initiate("psk").ok(), "a revoked PSK client got in");
}

/// An --id that is no IKE identity is refused before anything is written.
#[test]
fn psk_client_with_a_bad_identity_is_refused() {
    if !ready() {
        return;
    }
    let w = World::new("spb", &[]);
    let before = std::fs::read_to_string(w.etc.join("rampart.toml")).unwrap();
    let out = w.srv.run(&[
        bin(),
        "client",
        "--config-dir",
        &w.etc.display().to_string(),
        "add",
        "odd",
        "--psk",
        "--id",
        "keyid:not-hex",
    ]);
    assert!(!out.ok(), "{out}");
    assert!(out.stderr.contains("not an IKE identity"), "{out}");
    assert_eq!(
        std::fs::read_to_string(w.etc.join("rampart.toml")).unwrap(),
        before
    );
}
