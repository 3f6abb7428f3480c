//! End to end: a server made by `rampart setup` in namespaces (world.rs: a lan host behind it,
//! an "internet" host through its masquerade), and the clients its banner and `rampart client
//! export` are for: strongSwan (swanctl and charon-cmd) with EAP-MSCHAPv2 and with the exported
//! .p12 imported as is, live revocation, a wrong password, `rampart connect` with the exported
//! Linux profile, and the proposals of the built-in clients of Windows, Apple and Android and of
//! the strongSwan app. Needs root, strongSwan (charon, swanctl, charon-cmd, eap-mschapv2);
//! under CI=true a missing tool fails. Each test has its own namespaces (prefix) and runs in
//! parallel with the others.

mod setup_e2e {
    pub mod cert;
    pub mod connect;
    pub mod eap;
    pub mod nat;
    pub mod proposals;
    pub mod psk;
    pub mod world;
}
