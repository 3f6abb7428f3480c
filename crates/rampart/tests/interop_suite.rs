//! Rampart's interop suite in network namespaces (docs/interop.md has the matrix):
//!
//! - `dpd`: dead peer detection against a killed strongSwan / Rampart, `dpd_action` clear and
//!   restart;
//! - `libreswan`: IKE SAs with Libreswan 4.10, PSK and certificates, both roles;
//! - `matrix`: every algorithm family against strongSwan, both roles;
//! - `mobike`: strongSwan roams, Rampart follows (RFC 4555);
//! - `nat`: a MASQUERADE router in between, NAT-keepalives, mapping changes, forced encapsulation;
//! - `rekey`: Rampart-started and simultaneous Child and IKE rekeys under ping, nothing lost.
//!
//! One test binary on purpose: libtest runs its tests two at a time and in name order, so the
//! slow Rampart-survivor DPD scenario (Rampart gives up on a dead peer only after 165 s of
//! retransmissions) starts first and the rest of the suite runs beside it.
//!
//! Every test needs root; under CI=true a missing tool fails the test instead of skipping it.

use std::path::Path;

// A crate root looks for modules beside itself; these live in interop_suite/.
#[path = "interop_suite/dpd.rs"]
mod dpd;
#[path = "interop_suite/libreswan.rs"]
mod libreswan;
#[path = "interop_suite/matrix.rs"]
mod matrix;
#[path = "interop_suite/mobike.rs"]
mod mobike;
#[path = "interop_suite/nat.rs"]
mod nat;
#[path = "interop_suite/rekey.rs"]
mod rekey;

/// The rampart binary under test.
fn rampart() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rampart"))
}
