//! Rampart <-> Rampart net to net in network namespaces: the same checks as the strongSwan
//! interop tests (`testbed::run_tunnel`), with a Rampart daemon on both gateways. There is no NAT
//! between them, so `encap = true` forces ESP-in-UDP (the tests require only UDP 500/4500 on the
//! wire). Both roles run in every case; the cases vary proposals, outer family, who initiates and
//! how the tunnel ends. Needs root; under CI=true a missing tool fails the test.

use std::path::Path;

use testbed::{
    run_failure, run_tunnel, Failure, FailureCase, Family, Gw, Impl, Net2Net, Teardown, TunnelCase,
};

const GCM_IKE: &str = "aes256gcm16-prfsha256-x25519";
const GCM_ESP: &str = "aes256gcm16";
const CBC_IKE: &str = "aes128-sha256-ecp256";
const CBC_ESP: &str = "aes128-sha256";

fn rampart() -> Option<&'static Path> {
    Some(Path::new(env!("CARGO_BIN_EXE_rampart")))
}

fn net(outer: Family, ike: &str, esp: &str) -> Net2Net {
    let n = Net2Net::new(outer, ike, esp).with_encap();
    if outer == Family::V6 {
        n.with_inner_v6()
    } else {
        n
    }
}

macro_rules! tunnel {
    ($name:ident, $prefix:literal, initiator = $init:expr, $outer:expr, $ike:expr, $esp:expr, $teardown:expr) => {
        #[test]
        fn $name() {
            run_tunnel(&TunnelCase {
                prefix: $prefix,
                gw1: Impl::Rampart,
                gw2: Impl::Rampart,
                initiator: $init,
                net: net($outer, $ike, $esp),
                teardown: $teardown,
                rampart_bin: rampart(),
            });
        }
    };
}

tunnel!(
    pair_ipv4_gcm,
    "pp4g",
    initiator = Gw::Gw1,
    Family::V4,
    GCM_IKE,
    GCM_ESP,
    Teardown::Terminate(Gw::Gw1)
);
tunnel!(
    pair_ipv4_cbc,
    "pp4c",
    initiator = Gw::Gw2,
    Family::V4,
    CBC_IKE,
    CBC_ESP,
    Teardown::Terminate(Gw::Gw1)
);
tunnel!(
    pair_ipv6_gcm,
    "pp6g",
    initiator = Gw::Gw2,
    Family::V6,
    GCM_IKE,
    GCM_ESP,
    Teardown::Stop(Gw::Gw2)
);
tunnel!(
    pair_ipv6_cbc,
    "pp6c",
    initiator = Gw::Gw1,
    Family::V6,
    CBC_IKE,
    CBC_ESP,
    Teardown::Stop(Gw::Gw2)
);

#[test]
fn pair_wrong_psk() {
    let n = net(Family::V4, GCM_IKE, GCM_ESP);
    run_failure(&FailureCase {
        prefix: "ppp",
        gw1: Impl::Rampart,
        gw2: Impl::Rampart,
        initiator: Gw::Gw1,
        gw2_net: n.clone().with_psk("not-the-same-psk-0123456789"),
        gw1_net: n,
        expect: Failure::AuthenticationFailed,
        rampart_bin: rampart(),
    });
}

#[test]
fn pair_proposal_mismatch() {
    let n = net(Family::V4, GCM_IKE, GCM_ESP);
    run_failure(&FailureCase {
        prefix: "ppm",
        gw1: Impl::Rampart,
        gw2: Impl::Rampart,
        initiator: Gw::Gw2,
        gw2_net: n.clone().with_proposals(CBC_IKE, CBC_ESP),
        gw1_net: n,
        expect: Failure::NoProposalChosen,
        rampart_bin: rampart(),
    });
}
