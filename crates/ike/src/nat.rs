//! NAT detection (RFC 7296 §2.23): NAT_DETECTION_SOURCE_IP / _DESTINATION_IP carry
//! SHA-1(SPIi | SPIr | IP address | port).

use std::net::{IpAddr, SocketAddr};

/// The NAT detection hash of one endpoint. In the IKE_SA_INIT request SPIr is zero.
pub(crate) fn nat_hash(spi_i: u64, spi_r: u64, addr: SocketAddr) -> [u8; 20] {
    let ip: Vec<u8> = match addr.ip() {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    crypto::digest::sha1(&[
        &spi_i.to_be_bytes(),
        &spi_r.to_be_bytes(),
        &ip,
        &addr.port().to_be_bytes(),
    ])
}

/// What a peer's NAT detection notifies tell us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct NatState {
    /// Our address as the peer saw it differs from ours: we are behind a NAT.
    pub local: bool,
    /// The peer's source differs from what it claims: it is behind a NAT (or fakes it).
    pub remote: bool,
    /// The peer's NAT_DETECTION_DESTINATION_IP: the hash of our address and port as the peer
    /// saw them. A MOBIKE initiator behind a NAT compares it across liveness checks to notice
    /// that its NAT mapping changed (RFC 4555 §3.8).
    pub peer_view: Option<PeerView>,
}

/// How the peer saw our address, and in which context: views are comparable only when they
/// were computed over the same SPIs (an IKE rekey changes them) and for datagrams from the same
/// local port of ours (the NAT maps port 500 and port 4500 separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerView {
    /// SPIi of the IKE SA the hash was computed over.
    pub spi_i: u64,
    /// Our local port the datagram was sent from.
    pub local_port: u16,
    /// SHA-1(SPIi | SPIr | IP | port) of our address as the peer saw it.
    pub hash: [u8; 20],
}

impl PeerView {
    /// Whether `new` shows that our NAT mapping changed since `self`.
    pub(crate) fn moved(&self, new: &PeerView) -> bool {
        self.spi_i == new.spi_i && self.local_port == new.local_port && self.hash != new.hash
    }
}

impl NatState {
    /// Evaluates received hashes. `sources` are the NAT_DETECTION_SOURCE_IP data (any may
    /// match the packet's source, RFC 7296 §2.23), `destination` the
    /// NAT_DETECTION_DESTINATION_IP data. Returns `None` when the peer sent none (no NAT-T
    /// support).
    pub(crate) fn evaluate(
        spi_i: u64,
        spi_r: u64,
        sources: &[&[u8]],
        destination: Option<&[u8]>,
        packet_src: SocketAddr,
        packet_dst: SocketAddr,
    ) -> Option<Self> {
        let dst = destination?;
        if sources.is_empty() {
            return None;
        }
        let want_src = nat_hash(spi_i, spi_r, packet_src);
        let want_dst = nat_hash(spi_i, spi_r, packet_dst);
        Some(NatState {
            local: !crypto::ct_eq(dst, &want_dst),
            remote: !sources.iter().any(|s| crypto::ct_eq(s, &want_src)),
            peer_view: <[u8; 20]>::try_from(dst).ok().map(|hash| PeerView {
                spi_i,
                local_port: packet_dst.port(),
                hash,
            }),
        })
    }

    /// Either side is behind a NAT: float to port 4500 and encapsulate ESP.
    pub(crate) fn any(self) -> bool {
        self.local || self.remote
    }
}
