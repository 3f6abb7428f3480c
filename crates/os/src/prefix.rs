//! An IP prefix (`address/length`), the destination of a route.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The prefix length is longer than the address (32 for IPv4, 128 for IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("prefix length {len} is too long for {addr}")]
pub struct InvalidPrefix {
    /// The address given.
    pub addr: IpAddr,
    /// The length given.
    pub len: u8,
}

/// An IPv4 or IPv6 prefix with its host bits cleared (the kernel refuses a route whose
/// destination has host bits set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// The prefix of length `len` that contains `addr` (host bits are cleared).
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, InvalidPrefix> {
        let masked = match addr {
            IpAddr::V4(a) if len <= 32 => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) if len <= 128 => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
            _ => return Err(InvalidPrefix { addr, len }),
        };
        Ok(Self { addr: masked, len })
    }

    /// The prefix holding only `addr` (/32 or /128).
    pub fn host(addr: IpAddr) -> Self {
        let len = if addr.is_ipv4() { 32 } else { 128 };
        Self { addr, len }
    }

    /// The first address of the prefix.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is an IPv4 prefix.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// Whether `ip` lies inside the prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        Self::new(ip, self.len).is_ok_and(|p| p.addr == self.addr)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn masks_and_bounds() {
        let p = IpPrefix::new(ip("198.51.100.77"), 24);
        assert_eq!(
            p.map(|p| p.to_string()).ok().as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(
            IpPrefix::new(ip("2001:db8:1:2::9"), 48).map(|p| p.addr()),
            Ok(ip("2001:db8:1::"))
        );
        assert_eq!(
            IpPrefix::new(ip("192.0.2.1"), 0).map(|p| p.addr()),
            Ok(ip("0.0.0.0"))
        );
        assert_eq!(IpPrefix::new(ip("::1"), 0).map(|p| p.addr()), Ok(ip("::")));
        assert_eq!(
            IpPrefix::new(ip("192.0.2.1"), 32).map(|p| p.addr()),
            Ok(ip("192.0.2.1"))
        );
        assert!(IpPrefix::new(ip("192.0.2.1"), 33).is_err());
        assert!(IpPrefix::new(ip("2001:db8::"), 129).is_err());
        assert_eq!(IpPrefix::host(ip("2001:db8::5")).prefix_len(), 128);
    }

    #[test]
    fn contains() {
        let p = IpPrefix::new(ip("203.0.113.0"), 25).unwrap_or(IpPrefix::host(ip("0.0.0.0")));
        assert!(p.contains(ip("203.0.113.127")));
        assert!(!p.contains(ip("203.0.113.128")));
        assert!(!p.contains(ip("2001:db8::1")));
    }
}
