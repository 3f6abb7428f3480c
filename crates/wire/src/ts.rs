//! Traffic selectors (RFC 7296 §3.13.1) and their textual form.
//!
//! A selector is an address range of one family, an IP protocol (0 = any) and a port range
//! (for ICMP the "ports" carry type and code, RFC 4301 §4.4.1.1). The text form follows
//! strongSwan: `203.0.113.0/24`, `192.0.2.1`, `10.0.0.1-10.0.0.9`, with an optional
//! `[proto/port]` suffix such as `[tcp/443]`, `[udp/1000-2000]`, `[icmp]`, `[17/%any]`.

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::WireError;

/// TS_IPV4_ADDR_RANGE (RFC 7296 §3.13.1).
pub const TS_IPV4_ADDR_RANGE: u8 = 7;
/// TS_IPV6_ADDR_RANGE (RFC 7296 §3.13.1).
pub const TS_IPV6_ADDR_RANGE: u8 = 8;

/// One traffic selector. Invariant: both addresses are of the same family and
/// `start_addr <= end_addr`, `start_port <= end_port` (an "empty" OPAQUE selector with
/// start > end is representable on the wire but rejected here, which RFC 4301 permits us to
/// refuse for now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrafficSelector {
    ip_proto: u8,
    start_port: u16,
    end_port: u16,
    start_addr: IpAddr,
    end_addr: IpAddr,
}

/// IP protocol numbers used in selector text.
const PROTO_NAMES: &[(&str, u8)] = &[
    ("icmp", 1),
    ("tcp", 6),
    ("udp", 17),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("sctp", 132),
];

fn ip_to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn u128_to_ip(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

impl TrafficSelector {
    /// A selector for the range `start..=end`, any protocol and port.
    pub fn from_range(start: IpAddr, end: IpAddr) -> Result<Self, WireError> {
        Self::new(0, 0, 0xffff, start, end)
    }

    /// A selector with every field given.
    pub fn new(
        ip_proto: u8,
        start_port: u16,
        end_port: u16,
        start_addr: IpAddr,
        end_addr: IpAddr,
    ) -> Result<Self, WireError> {
        if start_addr.is_ipv4() != end_addr.is_ipv4() {
            return Err(WireError::Invalid(
                "traffic selector: mixed address families",
            ));
        }
        if ip_to_u128(start_addr) > ip_to_u128(end_addr) {
            return Err(WireError::Invalid(
                "traffic selector: start address after end",
            ));
        }
        if start_port > end_port {
            return Err(WireError::Invalid("traffic selector: start port after end"));
        }
        Ok(Self {
            ip_proto,
            start_port,
            end_port,
            start_addr,
            end_addr,
        })
    }

    /// A selector for the network `addr/prefix_len` (host bits are cleared).
    pub fn from_prefix(addr: IpAddr, prefix_len: u8) -> Result<Self, WireError> {
        let bits: u32 = if addr.is_ipv4() { 32 } else { 128 };
        if u32::from(prefix_len) > bits {
            return Err(WireError::Invalid(
                "traffic selector: prefix length too long",
            ));
        }
        let host_bits = bits - u32::from(prefix_len);
        let mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let v = ip_to_u128(addr);
        let start = v & !mask;
        let end = start | mask;
        Self::from_range(
            u128_to_ip(start, addr.is_ipv4()),
            u128_to_ip(end, addr.is_ipv4()),
        )
    }

    /// A selector for exactly one address.
    pub fn host(addr: IpAddr) -> Self {
        Self {
            ip_proto: 0,
            start_port: 0,
            end_port: 0xffff,
            start_addr: addr,
            end_addr: addr,
        }
    }

    /// Every IPv4 address, any protocol and port.
    pub fn any_v4() -> Self {
        Self {
            ip_proto: 0,
            start_port: 0,
            end_port: 0xffff,
            start_addr: Ipv4Addr::UNSPECIFIED.into(),
            end_addr: Ipv4Addr::BROADCAST.into(),
        }
    }

    /// Every IPv6 address, any protocol and port.
    pub fn any_v6() -> Self {
        Self {
            ip_proto: 0,
            start_port: 0,
            end_port: 0xffff,
            start_addr: Ipv6Addr::UNSPECIFIED.into(),
            end_addr: Ipv6Addr::from(u128::MAX).into(),
        }
    }

    /// The same selector restricted to protocol `ip_proto` and ports `start..=end`.
    pub fn with_proto_ports(self, ip_proto: u8, start: u16, end: u16) -> Result<Self, WireError> {
        Self::new(ip_proto, start, end, self.start_addr, self.end_addr)
    }

    /// TS Type on the wire: 7 (IPv4) or 8 (IPv6).
    pub fn ts_type(&self) -> u8 {
        if self.is_ipv4() {
            TS_IPV4_ADDR_RANGE
        } else {
            TS_IPV6_ADDR_RANGE
        }
    }

    /// True for an IPv4 selector.
    pub fn is_ipv4(&self) -> bool {
        self.start_addr.is_ipv4()
    }

    /// IP protocol ID, 0 = any.
    pub fn ip_proto(&self) -> u8 {
        self.ip_proto
    }

    /// First port (or ICMP type/code, RFC 4301 §4.4.1.1).
    pub fn start_port(&self) -> u16 {
        self.start_port
    }

    /// Last port.
    pub fn end_port(&self) -> u16 {
        self.end_port
    }

    /// First address.
    pub fn start_addr(&self) -> IpAddr {
        self.start_addr
    }

    /// Last address.
    pub fn end_addr(&self) -> IpAddr {
        self.end_addr
    }

    /// True when the selector covers every port.
    pub fn any_port(&self) -> bool {
        self.start_port == 0 && self.end_port == 0xffff
    }

    /// True when `addr` lies in the address range.
    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.is_ipv4()
            && (ip_to_u128(self.start_addr)..=ip_to_u128(self.end_addr)).contains(&ip_to_u128(addr))
    }

    /// True when a packet to/from `addr` with protocol `proto` and port `port` matches.
    /// `port` is `None` when the packet has no port (non-port protocol, non-initial fragment):
    /// it then matches only a selector covering every port.
    pub fn matches(&self, addr: IpAddr, proto: u8, port: Option<u16>) -> bool {
        if !self.contains_addr(addr) {
            return false;
        }
        if self.ip_proto != 0 && self.ip_proto != proto {
            return false;
        }
        if self.any_port() {
            return true;
        }
        matches!(port, Some(p) if (self.start_port..=self.end_port).contains(&p))
    }

    /// The intersection of two selectors (RFC 7296 §2.9 narrowing), or `None` when disjoint.
    pub fn intersect(&self, other: &Self) -> Option<Self> {
        if self.is_ipv4() != other.is_ipv4() {
            return None;
        }
        let proto = match (self.ip_proto, other.ip_proto) {
            (0, p) | (p, 0) => p,
            (a, b) if a == b => a,
            _ => return None,
        };
        let sp = self.start_port.max(other.start_port);
        let ep = self.end_port.min(other.end_port);
        if sp > ep {
            return None;
        }
        let sa = ip_to_u128(self.start_addr).max(ip_to_u128(other.start_addr));
        let ea = ip_to_u128(self.end_addr).min(ip_to_u128(other.end_addr));
        if sa > ea {
            return None;
        }
        let v4 = self.is_ipv4();
        Some(Self {
            ip_proto: proto,
            start_port: sp,
            end_port: ep,
            start_addr: u128_to_ip(sa, v4),
            end_addr: u128_to_ip(ea, v4),
        })
    }

    /// True when every packet `self` matches is matched by `other`.
    pub fn is_subset_of(&self, other: &Self) -> bool {
        self.intersect(other).as_ref() == Some(self)
    }

    /// The address range as a minimal list of CIDR prefixes (for routes).
    pub fn to_prefixes(&self) -> Vec<(IpAddr, u8)> {
        let v4 = self.is_ipv4();
        let bits: u32 = if v4 { 32 } else { 128 };
        let mut out = Vec::new();
        let mut start = ip_to_u128(self.start_addr);
        let end = ip_to_u128(self.end_addr);
        loop {
            // Largest block aligned at `start` that does not pass `end`.
            let mut size_log = if start == 0 {
                bits
            } else {
                start.trailing_zeros().min(bits)
            };
            while size_log > 0 {
                let last = if size_log >= 128 {
                    u128::MAX
                } else {
                    start + ((1u128 << size_log) - 1)
                };
                if last <= end {
                    break;
                }
                size_log -= 1;
            }
            out.push((u128_to_ip(start, v4), (bits - size_log) as u8));
            let last = if size_log >= 128 {
                u128::MAX
            } else {
                start + ((1u128 << size_log) - 1)
            };
            if last >= end {
                break;
            }
            start = last + 1;
        }
        out
    }

    /// When the range is exactly one CIDR prefix, that prefix.
    pub fn as_prefix(&self) -> Option<(IpAddr, u8)> {
        let p = self.to_prefixes();
        if p.len() == 1 {
            Some(p[0])
        } else {
            None
        }
    }
}

fn parse_proto(s: &str) -> Result<u8, WireError> {
    if let Some((_, n)) = PROTO_NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
    {
        return Ok(*n);
    }
    s.parse::<u8>()
        .map_err(|_| WireError::Invalid("traffic selector: unknown protocol"))
}

fn parse_port_range(s: &str) -> Result<(u16, u16), WireError> {
    if s.is_empty() || s == "%any" {
        return Ok((0, 0xffff));
    }
    let bad = || WireError::Invalid("traffic selector: bad port");
    match s.split_once('-') {
        Some((a, b)) => Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?)),
        None => {
            let p = s.parse().map_err(|_| bad())?;
            Ok((p, p))
        }
    }
}

impl FromStr for TrafficSelector {
    type Err = WireError;

    fn from_str(s: &str) -> Result<Self, WireError> {
        let s = s.trim();
        let (addr_part, suffix) = match s.find('[') {
            Some(i) => {
                let rest = &s[i + 1..];
                let inner = rest
                    .strip_suffix(']')
                    .ok_or(WireError::Invalid("traffic selector: missing ']'"))?;
                (&s[..i], Some(inner))
            }
            None => (s, None),
        };
        let bad_addr = || WireError::Invalid("traffic selector: bad address");
        let mut ts = if let Some((a, p)) = addr_part.split_once('/') {
            let addr: IpAddr = a.parse().map_err(|_| bad_addr())?;
            let len: u8 = p
                .parse()
                .map_err(|_| WireError::Invalid("traffic selector: bad prefix length"))?;
            Self::from_prefix(addr, len)?
        } else if let Some((a, b)) = addr_part.split_once('-') {
            let a: IpAddr = a.parse().map_err(|_| bad_addr())?;
            let b: IpAddr = b.parse().map_err(|_| bad_addr())?;
            Self::from_range(a, b)?
        } else {
            Self::host(addr_part.parse().map_err(|_| bad_addr())?)
        };
        if let Some(inner) = suffix {
            let (proto_s, port_s) = inner.split_once('/').unwrap_or((inner, ""));
            let proto = if proto_s.is_empty() || proto_s == "%any" {
                0
            } else {
                parse_proto(proto_s)?
            };
            let (sp, ep) = parse_port_range(port_s)?;
            ts = ts.with_proto_ports(proto, sp, ep)?;
        }
        Ok(ts)
    }
}

impl fmt::Display for TrafficSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_prefix() {
            Some((a, l)) => write!(f, "{a}/{l}")?,
            None => write!(f, "{}-{}", self.start_addr, self.end_addr)?,
        }
        if self.ip_proto != 0 || !self.any_port() {
            let name = PROTO_NAMES
                .iter()
                .find(|(_, n)| *n == self.ip_proto)
                .map(|(s, _)| (*s).to_string());
            let proto = match (self.ip_proto, name) {
                (0, _) => "%any".to_string(),
                (_, Some(n)) => n,
                (p, None) => p.to_string(),
            };
            if self.any_port() {
                write!(f, "[{proto}]")?;
            } else if self.start_port == self.end_port {
                write!(f, "[{proto}/{}]", self.start_port)?;
            } else {
                write!(f, "[{proto}/{}-{}]", self.start_port, self.end_port)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_parse_and_display() {
        let ts: TrafficSelector = "203.0.113.77/24".parse().unwrap();
        assert_eq!(ts.start_addr(), "203.0.113.0".parse::<IpAddr>().unwrap());
        assert_eq!(ts.end_addr(), "203.0.113.255".parse::<IpAddr>().unwrap());
        assert_eq!(ts.to_string(), "203.0.113.0/24");
        let ts6: TrafficSelector = "2001:db8::/32".parse().unwrap();
        assert_eq!(ts6.to_string(), "2001:db8::/32");
        assert_eq!(ts6.ts_type(), TS_IPV6_ADDR_RANGE);
        assert_eq!(
            "0.0.0.0/0".parse::<TrafficSelector>().unwrap(),
            TrafficSelector::any_v4()
        );
        assert_eq!(
            "::/0".parse::<TrafficSelector>().unwrap(),
            TrafficSelector::any_v6()
        );
    }

    #[test]
    fn ranges_and_ports() {
        let ts: TrafficSelector = "192.0.2.1-192.0.2.6[tcp/80-90]".parse().unwrap();
        assert_eq!(ts.ip_proto(), 6);
        assert_eq!((ts.start_port(), ts.end_port()), (80, 90));
        assert_eq!(ts.to_string(), "192.0.2.1-192.0.2.6[tcp/80-90]");
        assert_eq!(
            ts.to_prefixes(),
            vec![
                ("192.0.2.1".parse().unwrap(), 32),
                ("192.0.2.2".parse().unwrap(), 31),
                ("192.0.2.4".parse().unwrap(), 31),
                ("192.0.2.6".parse().unwrap(), 32),
            ]
        );
        assert!(ts.matches("192.0.2.3".parse().unwrap(), 6, Some(85)));
        assert!(!ts.matches("192.0.2.3".parse().unwrap(), 17, Some(85)));
        assert!(!ts.matches("192.0.2.3".parse().unwrap(), 6, None));
        assert!("192.0.2.9-192.0.2.1".parse::<TrafficSelector>().is_err());
        assert!("192.0.2.1-2001:db8::1".parse::<TrafficSelector>().is_err());
        assert!("192.0.2.0/33".parse::<TrafficSelector>().is_err());
    }

    #[test]
    fn narrowing() {
        let wide: TrafficSelector = "198.51.100.0/24".parse().unwrap();
        let narrow: TrafficSelector = "198.51.100.0/25[udp]".parse().unwrap();
        let i = wide.intersect(&narrow).unwrap();
        assert_eq!(i, narrow);
        assert!(narrow.is_subset_of(&wide));
        assert!(!wide.is_subset_of(&narrow));
        let other: TrafficSelector = "203.0.113.0/24".parse().unwrap();
        assert_eq!(wide.intersect(&other), None);
        assert_eq!(wide.intersect(&TrafficSelector::any_v6()), None);
        assert_eq!(TrafficSelector::any_v4().to_prefixes().len(), 1);
    }
}
