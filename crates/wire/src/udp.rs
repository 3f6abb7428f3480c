//! UDP header (RFC 768) and its checksum over the IPv4 (RFC 768) or IPv6 (RFC 8200 §8.1)
//! pseudo-header.

use std::net::IpAddr;

use crate::ip::{checksum_finish, checksum_sum, IPPROTO_UDP};
use crate::WireError;

/// Length of the UDP header.
pub const UDP_HEADER_LEN: usize = 8;

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

/// Sum of the pseudo-header for a UDP datagram of `udp_len` bytes (header included).
/// Mixed address families yield `None`.
fn pseudo_header_sum(src: IpAddr, dst: IpAddr, udp_len: usize) -> Option<u64> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // RFC 768: source, destination, zero, protocol, UDP length (16 bits).
            let len = u16::try_from(udp_len).ok()?;
            Some(
                checksum_sum(&s.octets())
                    + checksum_sum(&d.octets())
                    + u64::from(IPPROTO_UDP)
                    + u64::from(len),
            )
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            // RFC 8200 §8.1: source, destination, upper-layer length (32 bits), zero, next header.
            let len = u32::try_from(udp_len).ok()?;
            Some(
                checksum_sum(&s.octets())
                    + checksum_sum(&d.octets())
                    + checksum_sum(&len.to_be_bytes())
                    + u64::from(IPPROTO_UDP),
            )
        }
        _ => None,
    }
}

/// The UDP checksum of `datagram` (header with its checksum field zeroed or not: the field is
/// skipped) between `src` and `dst`. A computed 0 is returned as 0xFFFF (RFC 768: 0 means "no
/// checksum"). `None` for mixed address families or an oversized datagram.
pub fn udp_checksum(src: IpAddr, dst: IpAddr, datagram: &[u8]) -> Option<u16> {
    let pseudo = pseudo_header_sum(src, dst, datagram.len())?;
    let head = datagram.get(..6).unwrap_or(datagram);
    let tail = datagram.get(UDP_HEADER_LEN..).unwrap_or(&[]);
    let c = checksum_finish(pseudo + checksum_sum(head) + checksum_sum(tail));
    Some(if c == 0 { 0xffff } else { c })
}

/// A view of a UDP datagram (RFC 768). `new_checked` guarantees the 8-byte header and
/// `8 <= Length <= buffer length`; bytes past Length are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer` after the checks above.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < UDP_HEADER_LEN {
            return Err(WireError::Truncated("UDP header"));
        }
        let len = usize::from(be16(b, 4));
        if len < UDP_HEADER_LEN {
            return Err(WireError::BadLength("UDP length"));
        }
        if len > b.len() {
            return Err(WireError::Truncated("UDP datagram"));
        }
        Ok(Self { buffer })
    }

    /// Source Port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    /// Destination Port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Length: header plus data.
    pub fn len(&self) -> usize {
        usize::from(be16(self.buffer.as_ref(), 4))
    }
    /// Never true for a checked view (Length >= 8); present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Checksum as stored.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    /// The data, up to Length.
    pub fn payload(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(UDP_HEADER_LEN..self.len())
            .unwrap_or(&[])
    }
    /// True when the checksum is right for the pseudo-header of `src`/`dst`. Over IPv4 a zero
    /// checksum means "none" and passes; over IPv6 it is invalid (RFC 8200 §8.1).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let stored = self.checksum();
        if stored == 0 {
            return src.is_ipv4();
        }
        let datagram = self.buffer.as_ref().get(..self.len()).unwrap_or(&[]);
        udp_checksum(src, dst, datagram) == Some(stored)
    }
}

/// A UDP header (RFC 768).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source Port.
    pub src_port: u16,
    /// Destination Port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Reads the ports of a checked datagram after verifying its checksum against `src`/`dst`.
    pub fn parse<T: AsRef<[u8]>>(
        p: &UdpPacket<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<Self, WireError> {
        if !p.verify_checksum(src, dst) {
            return Err(WireError::Invalid("UDP checksum"));
        }
        Ok(Self {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        })
    }

    /// Writes the header into `datagram[..8]`, whose remainder must already hold the payload,
    /// and fills the checksum for `src`/`dst`. `datagram.len()` becomes the Length field.
    pub fn emit(&self, datagram: &mut [u8], src: IpAddr, dst: IpAddr) -> Result<(), WireError> {
        let len = u16::try_from(datagram.len()).map_err(|_| WireError::BadLength("UDP length"))?;
        if datagram.len() < UDP_HEADER_LEN {
            return Err(WireError::BufferTooSmall);
        }
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(WireError::Invalid("UDP pseudo-header address families"));
        }
        let h = datagram
            .get_mut(..UDP_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        h[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        h[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        h[4..6].copy_from_slice(&len.to_be_bytes());
        h[6..8].copy_from_slice(&[0, 0]);
        let sum = udp_checksum(src, dst, datagram)
            .ok_or(WireError::Invalid("UDP pseudo-header address families"))?;
        if let Some(c) = datagram.get_mut(6..8) {
            c.copy_from_slice(&sum.to_be_bytes());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_checksums() {
        // UDP 192.0.2.1:4500 -> 192.0.2.100:4500 with payload ff (a NAT-T keepalive);
        // checksum worked out by hand from RFC 768.
        let src: IpAddr = "192.0.2.1".parse().unwrap();
        let dst: IpAddr = "192.0.2.100".parse().unwrap();
        let mut d = vec![0u8; 9];
        d[8] = 0xff;
        UdpRepr {
            src_port: 4500,
            dst_port: 4500,
        }
        .emit(&mut d, src, dst)
        .unwrap();
        assert_eq!(&d[..6], &[0x11, 0x94, 0x11, 0x94, 0x00, 0x09]);
        // Pseudo: c000+0201+c000+0264+0011+0009 ; UDP: 1194+1194+0009 ; data ff00.
        let sum: u32 =
            0xc000 + 0x0201 + 0xc000 + 0x0264 + 0x0011 + 0x0009 + 0x1194 + 0x1194 + 0x0009 + 0xff00;
        let folded = (sum & 0xffff) + (sum >> 16);
        let folded = (folded & 0xffff) + (folded >> 16);
        assert_eq!(u16::from_be_bytes([d[6], d[7]]), !(folded as u16));
        let p = UdpPacket::new_checked(&d[..]).unwrap();
        assert!(p.verify_checksum(src, dst));
        assert_eq!(p.payload(), &[0xff]);
        assert!(!p.verify_checksum(src, "192.0.2.101".parse().unwrap()));
    }

    #[test]
    fn zero_checksum_rules() {
        let mut d = [0x11, 0x94, 0x11, 0x94, 0x00, 0x08, 0, 0];
        let p = UdpPacket::new_checked(&d[..]).unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(p.verify_checksum(v4, v4));
        assert!(!p.verify_checksum(v6, v6));
        d[5] = 7;
        assert_eq!(
            UdpPacket::new_checked(&d[..]),
            Err(WireError::BadLength("UDP length"))
        );
        d[5] = 9;
        assert_eq!(
            UdpPacket::new_checked(&d[..]),
            Err(WireError::Truncated("UDP datagram"))
        );
        assert!(UdpRepr {
            src_port: 1,
            dst_port: 2
        }
        .emit(&mut [0u8; 8], v4, v6)
        .is_err());
    }

    proptest! {
        #[test]
        fn round_trip(sp: u16, dp: u16, v6: bool, s: [u8; 16], d: [u8; 16],
                      payload in proptest::collection::vec(any::<u8>(), 0..100)) {
            let (src, dst): (IpAddr, IpAddr) = if v6 {
                (s.into(), d.into())
            } else {
                ([s[0], s[1], s[2], s[3]].into(), [d[0], d[1], d[2], d[3]].into())
            };
            let r = UdpRepr { src_port: sp, dst_port: dp };
            let mut b = vec![0u8; 8];
            b.extend_from_slice(&payload);
            r.emit(&mut b, src, dst).unwrap();
            let p = UdpPacket::new_checked(&b[..]).unwrap();
            prop_assert_eq!(UdpRepr::parse(&p, src, dst), Ok(r));
            prop_assert_eq!(p.payload(), &payload[..]);
            prop_assert_ne!(p.checksum(), 0);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = UdpPacket::new_checked(&bytes[..]) {
                prop_assert!(p.payload().len() + 8 <= bytes.len());
                let _ = p.verify_checksum("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
            }
        }
    }
}
