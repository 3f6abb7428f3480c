//! Road warriors in network namespaces (docs/config.md "Road warriors"), issue 5:
//!
//! - `basic`: strongSwan with EAP-MSCHAPv2 (VIPs, DNS, lan + internet host, wrong password,
//!   same VIP on reconnect and after a server restart, NAT rules removed at stop), strongSwan
//!   with a per-client PSK and an ID_KEY_ID identity, Rampart client vs Rampart server;
//! - `mixed`: one server, three `%any` connections (EAP-MSCHAPv2, per-client PSK, client
//!   certificates) sharing the pools, three strongSwan clients at once;
//! - `nat`: two road warriors behind one MASQUERADE router at once;
//! - `spoof`: a packet through a client's tunnel whose inner source is not its virtual IP is
//!   dropped by the server's data plane (RFC 4301 §5.2) and counted;
//! - `swan_server`: Rampart as the client of a strongSwan road-warrior server (EAP-MSCHAPv2);
//! - `v6_leak`: full tunnel with only an IPv4 pool: the client's IPv6 never leaves in clear;
//! - `reconnect`: a client killed without DELETE reconnects (INITIAL_CONTACT), a removed user
//!   is refused after `rampart reload`.
//!
//! The network and helpers are in `common`. Every test needs root; under CI=true a missing tool
//! fails the test instead of skipping it. Each test has its own namespace prefix.

#[path = "roadwarrior_suite/basic.rs"]
mod basic;
#[path = "roadwarrior_suite/common.rs"]
mod common;
#[path = "roadwarrior_suite/mixed.rs"]
mod mixed;
#[path = "roadwarrior_suite/nat.rs"]
mod nat;
#[path = "roadwarrior_suite/reconnect.rs"]
mod reconnect;
#[path = "roadwarrior_suite/spoof.rs"]
mod spoof;
#[path = "roadwarrior_suite/swan_server.rs"]
mod swan_server;
#[path = "roadwarrior_suite/v6_leak.rs"]
mod v6_leak;
