//! `ah_proposals` (AH Child SAs, RFC 4302): parsing, the rule that ESP is offered next to AH only
//! when `esp_proposals` is set too, and the errors (bad proposals, AH with forced UDP
//! encapsulation, RFC 3948 being ESP-only).

mod common;

use common::CONN;
use config::Config;
use crypto::proposal::Protocol;
use crypto::ProposalSpec;

fn parse(extra_child: &str) -> Result<Config, Vec<String>> {
    Config::parse("rampart.toml", &format!("{CONN}{extra_child}")).map_err(|e| e.messages())
}

fn with_encap(extra_child: &str) -> Result<Config, Vec<String>> {
    let text = CONN.replace(
        "remote_addrs = [\"192.0.2.100\"]\n",
        "remote_addrs = [\"192.0.2.100\"]\nencap = true\n",
    );
    Config::parse("rampart.toml", &format!("{text}{extra_child}")).map_err(|e| e.messages())
}

fn spec(p: Protocol, s: &str) -> ProposalSpec {
    ProposalSpec::parse(p, s).unwrap()
}

#[test]
fn without_ah_proposals_the_child_is_esp_with_the_defaults() {
    let c = parse("").unwrap();
    let ch = &c.connections[0].children[0];
    assert!(ch.ah_proposals.is_empty());
    assert_eq!(ch.esp_proposals.len(), 3);
}

#[test]
fn ah_only_child_offers_no_esp() {
    let c = parse("ah_proposals = [\"sha256\", \"sha512-ecp256-esn\"]\n").unwrap();
    let ch = &c.connections[0].children[0];
    assert_eq!(
        ch.ah_proposals,
        [
            spec(Protocol::Ah, "sha256"),
            spec(Protocol::Ah, "sha512-ecp256-esn")
        ]
    );
    assert!(ch.esp_proposals.is_empty(), "{:?}", ch.esp_proposals);
}

#[test]
fn ah_and_esp_when_both_are_set() {
    let c = parse("ah_proposals = [\"sha384\"]\nesp_proposals = [\"aes128gcm16\"]\n").unwrap();
    let ch = &c.connections[0].children[0];
    assert_eq!(ch.ah_proposals, [spec(Protocol::Ah, "sha384")]);
    assert_eq!(ch.esp_proposals, [spec(Protocol::Esp, "aes128gcm16")]);
    // Forced encapsulation is fine while ESP remains.
    assert!(with_encap("ah_proposals = [\"sha384\"]\nesp_proposals = [\"aes128gcm16\"]\n").is_ok());
}

#[test]
fn bad_ah_proposals() {
    let got =
        parse("ah_proposals = [\"aes128-sha256\", \"sha256-prfsha256\", \"esn\", \"sha256\"]\n")
            .unwrap_err();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[..2],
        [
            "rampart.toml:12:17: connections.a.children.net.ah_proposals[0]: invalid proposal \
             'aes128-sha256': 'aes128': AH proposals carry no encryption (AH only \
             authenticates, RFC 4302; remove it, or use an ESP proposal to encrypt)",
            "rampart.toml:12:34: connections.a.children.net.ah_proposals[1]: invalid proposal \
             'sha256-prfsha256': 'prfsha256': AH proposals take no PRF (remove it)",
        ]
    );
    assert!(
        got[2].starts_with(
            "rampart.toml:12:54: connections.a.children.net.ah_proposals[2]: invalid proposal \
             'esn': an AH proposal needs an integrity algorithm (add e.g. sha256; allowed: \
             integrity: sha1 sha256"
        ),
        "{got:?}"
    );
    assert_eq!(
        parse("ah_proposals = []\n").unwrap_err(),
        [
            "rampart.toml:12:16: connections.a.children.net.ah_proposals: must not be empty \
          (expected proposal strings like \"sha256\" or \"sha512-ecp256\")"
        ]
    );
}

#[test]
fn legacy_ah_needs_legacy_crypto() {
    let got = parse("ah_proposals = [\"sha1\"]\n").unwrap_err();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with(
            "rampart.toml:12:17: connections.a.children.net.ah_proposals[0]: proposal 'sha1' \
             is legacy crypto"
        ),
        "{got:?}"
    );
    let text = format!("[daemon]\nlegacy_crypto = true\n{CONN}ah_proposals = [\"sha1\"]\n");
    assert!(Config::parse("rampart.toml", &text).is_ok());
}

#[test]
fn ah_only_with_forced_encapsulation_is_refused() {
    // Line 13: encap shifts the child's keys down by one.
    assert_eq!(
        with_encap("ah_proposals = [\"sha256\"]\n").unwrap_err(),
        [
            "rampart.toml:13:16: connections.a.children.net.ah_proposals: AH cannot be \
          UDP-encapsulated (RFC 3948 encapsulates ESP only), but connections.a.encap = true \
          forces UDP encapsulation; add esp_proposals to this child or set encap = false"
        ]
    );
}
