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
        })
    }

    /// Either side is behind a NAT: float to port 4500 and encapsulate ESP.
    pub(crate) fn any(self) -> bool {
        self.local || self.remote
    }
}
