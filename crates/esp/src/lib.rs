//! Rampart's userspace IPsec data plane: ESP (RFC 4303, RFC 3948) and AH (RFC 4302) under
//! RFC 4301, sans-IO.
//!
//! A [`DataPlane`] holds the Security Policy Database (selectors → child), the Security
//! Association Database (SPI → inbound SA) and counters. It never touches a socket, a TUN
//! device, a clock or a logger; the daemon's packet loop feeds it bytes and sends what it
//! returns. CBC IVs come from the [`crypto::Random`] given to [`DataPlane::with_rng`]
//! ([`DataPlane::new`] uses the system CSPRNG); AEAD IVs are the 64-bit sequence number
//! (RFC 4106 §3.1), so AEAD SAs draw no randomness per packet.
//!
//! # Sharing between workers
//! Every method takes `&self`; put the data plane in an `Arc` and give it to every worker.
//! The SPD and SAD are immutable snapshots: packet processing reads the current one without a
//! lock held across the cipher, and each control-path call publishes a new one. Per SA, the
//! outbound sequence number is an atomic counter (each number, hence each AEAD IV, is handed
//! out once, RFC 4303 §3.3.3, RFC 4106 §3.1), the replay window has a small lock of its own
//! taken for the check before the ICV and again for the update after it (RFC 4303 §3.4.3), and
//! counters are atomics. Reordering between workers is absorbed by the replay window.
//!
//! # Control path (called when the IKE engine reports Child SA events)
//! ```text
//! DataPlane::new() -> DataPlane                    // or with_rng(Box<dyn crypto::Random>)
//! install_child(&self, ChildSaConfig) -> Result<ChildHandle, EspError>
//! remove_child(&self, id: u64) -> Result<ChildStats, EspError>
//! update_peer(&self, id: u64, remote: SocketAddr) -> Result<(), EspError>   // NAT moved
//! set_path_mtu(&self, id: u64, path_mtu: u16) -> Result<(), EspError>     // route's MTU changed
//! child_path(&self, id: u64) -> Option<(SocketAddr, u16)>                  // peer, path MTU
//! add_inbound_sa(&self, id: u64, SaKeys) -> Result<(), EspError>            // rekey overlap
//! remove_inbound_sa(&self, spi: u32) -> Result<SaStats, EspError>
//! replace_outbound_sa(&self, id: u64, SaKeys) -> Result<SaStats, EspError>  // rekey switch
//! child_stats(id) / inbound_sa_stats(spi) / outbound_sa_stats(id) / drop_counters()
//! set_event_notifier(&self, Arc<dyn Fn() + Send + Sync>) / take_events() -> Vec<SaEvent>
//! overhead(id) -> Option<usize>                    // worst-case bytes added per packet (ESP or AH)
//! max_inner(id) -> Option<usize>                   // path_mtu − overhead
//! ```
//!
//! # Packet path
//! - TUN → [`DataPlane::encapsulate`]`(ip_packet, &mut out)`: SPD lookup (packet source in
//!   `local_ts`, destination in `remote_ts`, first installed child wins, RFC 4301 §4.4.1), then
//!   tunnel-mode ESP. `out` = the UDP payload to send from [`Outbound::local`] to
//!   [`Outbound::remote`] (ESP-in-UDP carries no marker, RFC 3948 §2.1), or the raw IP
//!   protocol-50 payload when `encap` is false. No policy → [`DropReason::NoPolicy`].
//! - UDP 4500 → classify with [`wire::natt::classify`]: `Esp(bytes)` →
//!   [`DataPlane::decapsulate`]`(bytes, from, &mut out)`; `Ike` → IKE engine; `Keepalive` →
//!   ignore. On success `out` is the inner IP packet for the TUN device.
//! - Raw IP protocol 51 → [`DataPlane::decapsulate_ah`]`(ip_packet, &mut out)` with the whole
//!   IP packet, header included (see "AH" below).
//! - Errors are [`DropReason`]s, each counted in [`DataPlane::drop_counters`]; nothing is
//!   logged per packet. `out` is empty after a drop.
//! - Buffers: pass the same `Vec<u8>` every time; it is cleared and reused, so the steady state
//!   allocates nothing. Size it once for `mtu + overhead` (a 2 KiB or 64 KiB buffer is fine).
//! - Batches: [`DataPlane::snapshot`] once per batch, then [`Snapshot::encapsulate_append`] /
//!   [`Snapshot::decapsulate_append`] per packet. They append to the buffer (so ESP packets can
//!   be laid back to back for one UDP GSO send, or an inner packet behind a TUN offload
//!   header) and truncate it back on a drop.
//!
//! # Overhead (for the TUN MTU)
//! Per packet: outer IP (20 / 40) + UDP (8, when encapsulating) + ESP header (8) + IV +
//! padding (0..alignment−1) + 2 + ICV. Worst cases with an IPv4 outer header and UDP:
//! AES-GCM-16 (IV 8, ICV 16, align 4): 20+8+8+8+3+2+16 = 65; AES-CBC + HMAC-SHA2-256-128
//! (IV 16, ICV 16, align 16): 20+8+8+16+15+2+16 = 85. Add 20 for an IPv6 outer header.
//! [`DataPlane::overhead`] computes it per child, [`DataPlane::worst_overhead`] for any suite
//! (121: IPv6 + UDP + AES-CBC + HMAC-SHA2-512-256), so a TUN MTU of 1500 − 121 = 1379 fits
//! every suite under a 1500-byte path MTU; with a larger TUN MTU the packets that do not fit
//! get an ICMP error ([`Snapshot::icmp_too_big`]) and TCP SYNs a clamped MSS.
//!
//! # Sequence numbers
//! Without ESN an SA sends at most 2^32 − 1 packets, then drops with
//! [`DropReason::SeqExhausted`] (RFC 4303 §3.3.3). With `ChildSaConfig::esn` (RFC 4304) the
//! counter is 64-bit: the low half travels, the high half is inferred by the receiver from its
//! window (RFC 4303 Appendix A2.2) and covered by the ICV (appended for HMAC, §3.3.2.1; in the
//! AAD for AEAD, RFC 4106 §5). Replay windows go up to 4096 packets, a ring of 64-bit words.
//!
//! # Lifetimes (RFC 4301 §4.4.2.1)
//! `ChildSaConfig::lifetime` sets soft and hard byte/packet limits per SA. The packet that
//! crosses a limit queues one [`SaEvent`] (soft: rekey; hard: delete) and calls the notifier
//! given to [`DataPlane::set_event_notifier`]; [`DataPlane::take_events`] reads them. Past a
//! hard limit the SA drops with [`DropReason::LifetimeExpired`] (a packet per worker in flight
//! may pass). Without ESN the sending SA also raises a soft event [`SEQ_SOFT_MARGIN`] numbers
//! before 2^32 − 1 and a hard one when it runs out. Time limits are the IKE engine's.
//!
//! # The tunnel's edge ([`edge`], [`TunnelOptions`])
//! - TCP SYNs have their MSS lowered to fit the tunnel, in both directions (on by default).
//! - ECN per RFC 6040 normal mode: [`Outbound::tos`] copies the inner ECN (and DSCP unless
//!   `copy_dscp` is off) for the outer header; [`Snapshot::decapsulate_append_tos`] combines
//!   the outer ECN received into the inner packet (CE over Not-ECT: [`DropReason::EcnDrop`]).
//! - Path MTU: a packet larger than `path_mtu` allows, with DF (IPv4) or over 1280 bytes
//!   (IPv6), is refused with [`DropReason::PathMtu`]; [`Snapshot::icmp_too_big`] writes the
//!   ICMP "fragmentation needed" / ICMPv6 "packet too big" for the TUN device.
//! - ICMP errors follow the flow they report on (RFC 4301 §6.2): outbound, one quoting a
//!   packet a child brought in goes through that child; inbound, one passes when the packet
//!   it quotes is one the SA carries out, whoever sent it.
//! - Optional TFC padding (RFC 4303 §2.7) up to `tfc_pad_to` bytes.
//!
//! # Transport mode (RFC 4303 §3.1.1)
//! With `Mode::Transport` only the upper-layer payload of a host's own packet is carried
//! (Next Header = its protocol); `Outbound::local`/`remote` are the packet's own addresses and
//! the outer header the kernel writes stands for the original. Inbound, the inner packet
//! handed back has an IP header rebuilt from the child's addresses and the outer TOS; over UDP
//! encapsulation its TCP/UDP checksum is recomputed (RFC 3948 §3.1.2). Fragments and IPv6
//! extension headers are not carried (`DropReason::Malformed`); no MSS clamping, no TFC.
//!
//! # AH (RFC 4302)
//! A child with [`ChildSaConfig::protocol`] = [`SecurityProtocol::Ah`] authenticates instead
//! of encrypting: its [`SaKeys`] have `encr` ENCR_NULL with an empty key and an integrity
//! algorithm (HMAC-SHA1-96, HMAC-SHA2-256-128/-384-192/-512-256); `encap` must be false (AH's
//! ICV covers the addresses a NAT rewrites). Selectors, tunnel and transport mode, sequence
//! numbers, ESN, replay window, lifetimes, counters, events, MSS clamping, ECN/DSCP and the
//! path MTU work as for ESP; TFC padding does not apply (ignored). A packet of one protocol
//! never finds an SA of the other ([`DropReason::UnknownSpi`]).
//! - Outbound, [`Snapshot::encapsulate_append`] as for ESP, but `out` receives the whole IP
//!   packet ([`Outbound::protocol`] says which): an IPv4 header (20 bytes, no options,
//!   TOS = [`Outbound::tos`], a nonzero Identification — the packet's own in transport mode
//!   unless 0, else a per-data-plane counter — flags 0, TTL 64, protocol 51, checksum) or an
//!   IPv6 header (traffic class = `tos`, flow label 0, hop limit 64, next header 51), then AH
//!   (ICV padded to 32 / 64 bits, §2.6), then the inner packet (tunnel) or the upper-layer
//!   payload (transport, addresses those of the packet). The ICV covers the header with its
//!   mutable fields zeroed, AH with a zero ICV, the payload and the ESN high half (§3.3.3).
//!   The daemon sends IPv4 as is with IP_HDRINCL (every field is kept: the Identification is
//!   nonzero); IPv6 without its first 40 bytes on a raw protocol-51 socket bound to
//!   [`Outbound::local`] (the kernel then writes the same header up to fields the ICV does not
//!   cover).
//! - Inbound, [`Snapshot::decapsulate_ah_append`] / [`DataPlane::decapsulate_ah`] take the
//!   received IP packet from its header: IPv4 with options as a raw socket gives it; IPv6 as
//!   the daemon rebuilds it (the 40-byte header, then any Hop-by-Hop / Routing / Destination
//!   Options headers before AH). The ICV is verified (constant time) with the mutable fields
//!   zeroed (Appendix A: IPv4 options but the immutable ones, IPv6 option data with the
//!   "may change" bit); fragments, IPv4 source routes and IPv6 Routing headers with Segments
//!   Left ≠ 0 are [`DropReason::Malformed`]. `out` is the inner packet (tunnel) or the packet
//!   without AH (transport: Protocol / Next Header, lengths and checksum fixed).
//!   [`Inbound::from`] is the packet's source address with port 0; the outer TOS is read from
//!   the header.
//! - Overhead: outer header + 12 + ICV (padded): e.g. HMAC-SHA2-256-128 20 + 28 over IPv4,
//!   40 + 32 over IPv6; never more than [`DataPlane::worst_overhead`].

mod ah_in;
mod ah_out;
mod config;
mod dataplane;
pub mod edge;
mod error;
mod fasthash;
mod inbound;
mod lifetime;
mod outbound;
mod protect;
pub mod replay;
mod sa;
mod spd;
mod stats;
#[cfg(test)]
mod tests_ah;
#[cfg(test)]
mod tests_esn;
#[cfg(test)]
mod tests_lifetime;
mod transport;

pub use config::{ChildSaConfig, Lifetime, Mode, SaKeys, SecurityProtocol, TunnelOptions};
pub use dataplane::{ChildHandle, DataPlane, Notifier, Snapshot};
pub use error::{DropReason, EspError};
pub use inbound::Inbound;
pub use lifetime::{Direction, ExpiryCause, ExpiryKind, SaEvent, SEQ_SOFT_MARGIN};
pub use outbound::{Outbound, MAX_ESP_LEN};
pub use stats::{ChildStats, DropCounters, SaStats};

#[cfg(test)]
mod tests {
    /// The daemon shares one data plane between worker threads.
    #[test]
    fn data_plane_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<crate::DataPlane>();
    }
}
