//! strongSwan <-> strongSwan net-to-net through the testbed: proves the harness (namespaces,
//! charon with kernel-libipsec, captures, checks) and is the baseline the Rampart tests mirror.
//! Needs root (see `testbed::require_root_and_tools`).

use testbed::{
    run_failure, run_tunnel, Failure, FailureCase, Family, Gw, Impl, Net2Net, Teardown, TunnelCase,
};

const GCM_IKE: &str = "aes256gcm16-prfsha256-x25519";
const GCM_ESP: &str = "aes256gcm16";
const CBC_IKE: &str = "aes128-sha256-ecp256";
const CBC_ESP: &str = "aes128-sha256";

#[test]
fn swan_swan_ipv4_outer() {
    run_tunnel(&TunnelCase {
        prefix: "hs4",
        gw1: Impl::Strongswan,
        gw2: Impl::Strongswan,
        initiator: Gw::Gw1,
        net: Net2Net::new(Family::V4, GCM_IKE, GCM_ESP),
        teardown: Teardown::Terminate(Gw::Gw1),
        rampart_bin: None,
    });
}

#[test]
fn swan_swan_ipv6_outer_mixed_selectors() {
    run_tunnel(&TunnelCase {
        prefix: "hs6",
        gw1: Impl::Strongswan,
        gw2: Impl::Strongswan,
        initiator: Gw::Gw2,
        net: Net2Net::new(Family::V6, GCM_IKE, GCM_ESP).with_inner_v6(),
        teardown: Teardown::Stop(Gw::Gw1),
        rampart_bin: None,
    });
}

#[test]
fn swan_swan_cbc_sha256_ecp256() {
    run_tunnel(&TunnelCase {
        prefix: "hsc",
        gw1: Impl::Strongswan,
        gw2: Impl::Strongswan,
        initiator: Gw::Gw1,
        net: Net2Net::new(Family::V4, CBC_IKE, CBC_ESP),
        teardown: Teardown::Terminate(Gw::Gw2),
        rampart_bin: None,
    });
}

#[test]
fn swan_swan_wrong_psk() {
    let net = Net2Net::new(Family::V4, GCM_IKE, GCM_ESP);
    run_failure(&FailureCase {
        prefix: "hsp",
        gw1: Impl::Strongswan,
        gw2: Impl::Strongswan,
        initiator: Gw::Gw1,
        gw2_net: net.clone().with_psk("a-different-psk-0123456789"),
        gw1_net: net,
        expect: Failure::AuthenticationFailed,
        rampart_bin: None,
    });
}

#[test]
fn swan_swan_proposal_mismatch() {
    let net = Net2Net::new(Family::V4, GCM_IKE, GCM_ESP);
    run_failure(&FailureCase {
        prefix: "hsm",
        gw1: Impl::Strongswan,
        gw2: Impl::Strongswan,
        initiator: Gw::Gw1,
        gw2_net: net.clone().with_proposals(CBC_IKE, CBC_ESP),
        gw1_net: net,
        expect: Failure::NoProposalChosen,
        rampart_bin: None,
    });
}
