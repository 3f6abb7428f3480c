//! Traffic-selector narrowing (RFC 7296 §2.9).

use wire::TrafficSelector;

/// The responder's narrowing: every non-empty intersection of a proposed selector with a
/// configured one, without duplicates. Empty means TS_UNACCEPTABLE.
pub(crate) fn narrow(
    proposed: &[TrafficSelector],
    configured: &[TrafficSelector],
) -> Vec<TrafficSelector> {
    let mut out: Vec<TrafficSelector> = Vec::new();
    for c in configured {
        for p in proposed {
            if let Some(i) = p.intersect(c) {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
    }
    out
}

/// The initiator's check of the responder's answer: each returned selector must lie inside
/// one we proposed (RFC 7296 §2.9).
pub(crate) fn is_subset(reply: &[TrafficSelector], proposed: &[TrafficSelector]) -> bool {
    !reply.is_empty()
        && reply
            .iter()
            .all(|r| proposed.iter().any(|p| r.is_subset_of(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> TrafficSelector {
        s.parse().unwrap()
    }

    #[test]
    fn narrowing_intersects_and_dedups() {
        let proposed = [ts("198.51.100.0/24"), ts("2001:db8::/32")];
        let conf = [ts("198.51.100.0/25"), ts("203.0.113.0/24")];
        assert_eq!(narrow(&proposed, &conf), vec![ts("198.51.100.0/25")]);
        assert!(narrow(&[ts("192.0.2.0/24")], &conf).is_empty());
        assert!(is_subset(&[ts("198.51.100.0/25")], &proposed));
        assert!(!is_subset(&[ts("198.51.0.0/16")], &proposed));
        assert!(!is_subset(&[], &proposed));
    }
}
