//! Selector matching for the Security Policy Database (RFC 4301 §4.4.1) and for the inbound
//! check of decrypted packets against their SA's selectors (RFC 4301 §5.2).
//!
//! A packet matches a list of selectors when any one of them matches (RFC 7296 §2.9: the
//! TSi/TSr lists are unions). Ports are compared as RFC 4301 §4.4.1.1 says: OPAQUE (no ports,
//! e.g. a non-initial fragment) matches only a selector covering every port; ICMP type/code is
//! compared as one 16-bit value (RFC 7296 §3.13.1).

use std::net::IpAddr;

use wire::ip::SelectorFields;
use wire::TrafficSelector;

fn any_matches(list: &[TrafficSelector], addr: IpAddr, proto: u8, port: Option<u16>) -> bool {
    list.iter().any(|ts| ts.matches(addr, proto, port))
}

/// Outbound (RFC 4301 §4.4.1): the packet's source in `local_ts`, destination in `remote_ts`.
pub fn outbound_matches(
    f: &SelectorFields,
    local_ts: &[TrafficSelector],
    remote_ts: &[TrafficSelector],
) -> bool {
    any_matches(local_ts, f.src, f.next_proto, f.src_port())
        && any_matches(remote_ts, f.dst, f.next_proto, f.dst_port())
}

/// Inbound (RFC 4301 §5.2 step 4): the inner source in `remote_ts`, destination in `local_ts`.
pub fn inbound_matches(
    f: &SelectorFields,
    local_ts: &[TrafficSelector],
    remote_ts: &[TrafficSelector],
) -> bool {
    any_matches(remote_ts, f.src, f.next_proto, f.src_port())
        && any_matches(local_ts, f.dst, f.next_proto, f.dst_port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::ip::Layer4;

    fn ts(s: &str) -> TrafficSelector {
        s.parse().unwrap()
    }

    fn fields(src: &str, dst: &str, proto: u8, l4: Layer4) -> SelectorFields {
        SelectorFields {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            next_proto: proto,
            l4,
            total_len: 40,
            l4_offset: 20,
        }
    }

    #[test]
    fn directions() {
        let local = [ts("203.0.113.0/24")];
        let remote = [ts("198.51.100.0/25"), ts("2001:db8:10::/64")];
        let out = fields("203.0.113.5", "198.51.100.7", 1, Layer4::Opaque);
        assert!(outbound_matches(&out, &local, &remote));
        assert!(!inbound_matches(&out, &local, &remote));
        let inb = fields("198.51.100.7", "203.0.113.5", 1, Layer4::Opaque);
        assert!(inbound_matches(&inb, &local, &remote));
        assert!(!outbound_matches(&inb, &local, &remote));
        let outside = fields("203.0.113.5", "198.51.100.200", 1, Layer4::Opaque);
        assert!(!outbound_matches(&outside, &local, &remote));
    }

    #[test]
    fn ports_and_opaque() {
        let local = [ts("203.0.113.0/24[tcp/443]")];
        let remote = [ts("198.51.100.0/25")];
        let tcp = |sp| {
            fields(
                "203.0.113.5",
                "198.51.100.7",
                6,
                Layer4::Ports { src: sp, dst: 5555 },
            )
        };
        assert!(outbound_matches(&tcp(443), &local, &remote));
        assert!(!outbound_matches(&tcp(444), &local, &remote));
        let frag = fields("203.0.113.5", "198.51.100.7", 6, Layer4::Opaque);
        assert!(!outbound_matches(&frag, &local, &remote));
        let udp = fields(
            "203.0.113.5",
            "198.51.100.7",
            17,
            Layer4::Ports { src: 443, dst: 1 },
        );
        assert!(!outbound_matches(&udp, &local, &remote));
    }
}
