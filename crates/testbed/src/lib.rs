//! Network-namespace test harness for Rampart: namespaces and topologies, strongSwan's charon,
//! the rampart daemon, packet captures, and the polling helpers the end-to-end tests use.
//!
//! Every namespace test starts with [`require_root_and_tools`]; every resource is a guard that
//! cleans up by name or PID on drop (also when the test panics) and, on a panic, prints the logs
//! it holds so that a CI failure can be diagnosed from its output. Work files live under
//! `/tmp/rampart-tests/<prefix>` (kept with `TESTBED_KEEP=1`).

pub mod capture;
pub mod charon;
pub mod charon_cmd;
pub mod cmd;
pub mod daemon;
pub mod gw_pair;
pub mod interop;
pub mod libreswan;
pub mod nat;
pub mod net2net;
pub mod netns;
pub mod peer;
pub mod privilege;
pub mod process;
pub mod scenario;
pub mod side;
pub mod status;
pub mod swan_keys;
pub mod swan_pki;
pub mod swanctl;
pub mod topology;
pub mod vm;
pub mod wait;
pub mod workdir;

pub use capture::Capture;
pub use charon::{Charon, CharonOptions};
pub use charon_cmd::CharonCmd;
pub use daemon::RampartDaemon;
pub use gw_pair::{nft_counter, GwPair};
pub use nat::{Masquerade, NatTopology};
pub use net2net::{Family, Gw, Net2Net};
pub use netns::Netns;
pub use peer::{Impl, Peer, SaState};
pub use privilege::{require_root_and_tools, NETNS_TOOLS, STRONGSWAN_TOOLS};
pub use scenario::{run_failure, run_tunnel, Failure, FailureCase, Teardown, TunnelCase};
pub use side::{Auth, Side};
pub use topology::Topology;
pub use wait::{ping, wait_until};
pub use workdir::TestDir;
