//! SA payloads ⇄ algorithm suites: what we offer (RFC 7296 §3.3), how a responder chooses one
//! of the initiator's proposals, and how an initiator checks the choice.

use crypto::proposal::Protocol;
use crypto::{EncrAlg, EncrId, EsnId, IntegId, KeId, PrfId, ProposalSpec, Suite, TransformType};
use wire::ike::{Proposal, ProtocolId, Transform};

fn protocol_id(p: Protocol) -> ProtocolId {
    match p {
        Protocol::Ike => ProtocolId::IKE,
        Protocol::Esp => ProtocolId::ESP,
    }
}

fn encr_transform(e: EncrAlg) -> Transform {
    let t = Transform::new(TransformType::Encr as u8, e.id as u16);
    match e.key_bits {
        Some(bits) => t.with_key_length(bits),
        None => t,
    }
}

/// Our proposal `spec` as proposal number `num` with `spi` (empty in IKE_SA_INIT). KE
/// transforms are left out when `with_ke` is false (child proposals in IKE_AUTH, RFC 7296 §1.2).
pub(crate) fn spec_to_wire(spec: &ProposalSpec, num: u8, spi: Vec<u8>, with_ke: bool) -> Proposal {
    let mut transforms = Vec::new();
    transforms.extend(spec.encr.iter().map(|e| encr_transform(*e)));
    transforms.extend(
        spec.prf
            .iter()
            .map(|p| Transform::new(TransformType::Prf as u8, *p as u16)),
    );
    transforms.extend(
        spec.integ
            .iter()
            .map(|i| Transform::new(TransformType::Integ as u8, *i as u16)),
    );
    if with_ke {
        transforms.extend(
            spec.ke
                .iter()
                .map(|k| Transform::new(TransformType::Ke as u8, *k as u16)),
        );
    }
    if spec.protocol == Protocol::Esp {
        let esn: &[EsnId] = if spec.esn.is_empty() {
            &[EsnId::NoEsn]
        } else {
            &spec.esn
        };
        transforms.extend(
            esn.iter()
                .map(|e| Transform::new(TransformType::Esn as u8, *e as u16)),
        );
    }
    Proposal {
        num,
        protocol: protocol_id(spec.protocol),
        spi,
        transforms,
    }
}

/// A chosen suite as the single proposal of a response, keeping the initiator's number.
pub(crate) fn suite_to_wire(suite: &Suite, num: u8, spi: Vec<u8>) -> Proposal {
    let mut transforms = vec![encr_transform(suite.encr)];
    if let Some(p) = suite.prf {
        transforms.push(Transform::new(TransformType::Prf as u8, p as u16));
    }
    if let Some(i) = suite.integ {
        transforms.push(Transform::new(TransformType::Integ as u8, i as u16));
    }
    if let Some(k) = suite.ke {
        transforms.push(Transform::new(TransformType::Ke as u8, k as u16));
    }
    if let Some(e) = suite.esn {
        transforms.push(Transform::new(TransformType::Esn as u8, e as u16));
    }
    Proposal {
        num,
        protocol: protocol_id(suite.protocol),
        spi,
        transforms,
    }
}

/// The algorithms of one received proposal that we can name, per type. Transforms with
/// attributes we do not understand are dropped (RFC 7296 §3.3.6).
#[derive(Debug, Default)]
struct Offered {
    encr: Vec<EncrAlg>,
    prf: Vec<PrfId>,
    integ: Vec<IntegId>,
    ke: Vec<KeId>,
    esn: Vec<EsnId>,
    /// Some transform of a type was present (even if unknown to us).
    has_ke: bool,
    has_esn: bool,
}

impl Offered {
    fn from_wire(p: &Proposal) -> Self {
        let mut o = Offered::default();
        for t in &p.transforms {
            let id = t.transform_id;
            match t.transform_type {
                1 => {
                    let known_attrs = !t.has_unknown_attributes();
                    if let (Some(e), true) = (EncrId::from_u16(id), known_attrs) {
                        o.encr.push(EncrAlg::new(e, t.key_length()));
                    }
                }
                2 if t.attributes.is_empty() => o.prf.extend(PrfId::from_u16(id)),
                3 if t.attributes.is_empty() => o.integ.extend(IntegId::from_u16(id)),
                4 => {
                    o.has_ke = true;
                    if t.attributes.is_empty() {
                        o.ke.extend(KeId::from_u16(id));
                    }
                }
                5 => {
                    o.has_esn = true;
                    if t.attributes.is_empty() {
                        o.esn.extend(EsnId::from_u16(id));
                    }
                }
                _ => {}
            }
        }
        o
    }
}

fn first_common<T: PartialEq + Copy>(ours: &[T], theirs: &[T]) -> Option<T> {
    ours.iter().copied().find(|a| theirs.contains(a))
}

fn is_aead(e: EncrAlg) -> bool {
    matches!(
        e.id,
        EncrId::AesGcm8 | EncrId::AesGcm12 | EncrId::AesGcm16 | EncrId::ChaCha20Poly1305
    )
}

/// Tries to match our `spec` against one offered proposal. `ke_hint` is the group of the
/// initiator's KE payload, preferred when acceptable. `ignore_ke` drops KE transforms from
/// consideration (child proposals in IKE_AUTH: iOS sends them, RFC 7296 §1.2 says to ignore).
fn match_one(
    spec: &ProposalSpec,
    o: &Offered,
    ke_hint: Option<KeId>,
    ignore_ke: bool,
) -> Option<Suite> {
    let encr = first_common(&spec.encr, &o.encr)?;
    let aead = is_aead(encr);
    let integ = if aead {
        // AEAD takes no integrity transform (RFC 5282 §8; the peer may send INTEG NONE).
        None
    } else {
        Some(first_common(&spec.integ, &o.integ)?)
    };
    let (prf, ke, esn) = match spec.protocol {
        Protocol::Ike => {
            let prf = first_common(&spec.prf, &o.prf)?;
            let ke = match ke_hint {
                Some(k) if spec.ke.contains(&k) && o.ke.contains(&k) => k,
                _ => first_common(&spec.ke, &o.ke)?,
            };
            (Some(prf), Some(ke), None)
        }
        Protocol::Esp => {
            let ke = if ignore_ke || !o.has_ke {
                None
            } else if spec.ke.is_empty() {
                // No PFS wanted: acceptable only if the peer allows NONE.
                if !o.ke.contains(&KeId::None) {
                    return None;
                }
                None
            } else {
                Some(first_common(&spec.ke, &o.ke)?)
            };
            let ours: &[EsnId] = if spec.esn.is_empty() {
                &[EsnId::NoEsn]
            } else {
                &spec.esn
            };
            let theirs: &[EsnId] = if o.has_esn { &o.esn } else { &[EsnId::NoEsn] };
            let esn = first_common(ours, theirs)?;
            (None, ke, Some(esn))
        }
    };
    Some(Suite {
        protocol: spec.protocol,
        encr,
        prf,
        integ,
        ke,
        esn,
    })
}

/// Responder's choice (RFC 7296 §2.7): our proposals in our order of preference, each tried
/// against the initiator's proposals in theirs. Returns the suite and the chosen proposal.
pub(crate) fn select<'a>(
    ours: &[ProposalSpec],
    theirs: &'a [Proposal],
    protocol: Protocol,
    ke_hint: Option<KeId>,
    ignore_ke: bool,
) -> Option<(Suite, &'a Proposal)> {
    let want = protocol_id(protocol);
    for spec in ours.iter().filter(|s| s.protocol == protocol) {
        for p in theirs.iter().filter(|p| p.protocol == want) {
            if let Some(s) = match_one(spec, &Offered::from_wire(p), ke_hint, ignore_ke) {
                return Some((s, p));
            }
        }
    }
    None
}

/// Initiator's check of the responder's SA payload: exactly one proposal, one transform of each
/// needed type, and a combination we offered. Returns the suite and the responder's SPI.
pub(crate) fn check_reply(
    ours: &[ProposalSpec],
    reply: &[Proposal],
    protocol: Protocol,
    ignore_ke: bool,
) -> Option<(Suite, Vec<u8>)> {
    let [p] = reply else { return None };
    if p.protocol != protocol_id(protocol) {
        return None;
    }
    let o = Offered::from_wire(p);
    if o.encr.len() != 1
        || o.prf.len() > 1
        || o.integ.len() > 1
        || o.ke.len() > 1
        || o.esn.len() > 1
    {
        return None;
    }
    for spec in ours.iter().filter(|s| s.protocol == protocol) {
        if let Some(s) = match_one(spec, &o, None, ignore_ke) {
            return Some((s, p.spi.clone()));
        }
    }
    None
}

/// The KE methods acceptable in any of our IKE proposals, in preference order.
pub(crate) fn our_groups(ours: &[ProposalSpec]) -> Vec<KeId> {
    let mut v = Vec::new();
    for s in ours {
        for k in &s.ke {
            if !v.contains(k) {
                v.push(*k);
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ike(s: &str) -> ProposalSpec {
        ProposalSpec::parse(Protocol::Ike, s).unwrap()
    }
    fn esp(s: &str) -> ProposalSpec {
        ProposalSpec::parse(Protocol::Esp, s).unwrap()
    }

    #[test]
    fn responder_picks_by_own_order_and_keeps_number() {
        let theirs = vec![
            spec_to_wire(&ike("aes128-sha256-ecp256"), 1, vec![], true),
            spec_to_wire(&ike("aes256gcm16-prfsha256-x25519"), 2, vec![], true),
        ];
        let ours = vec![
            ike("aes256gcm16-prfsha256-x25519"),
            ike("aes128-sha256-ecp256"),
        ];
        let (s, p) = select(&ours, &theirs, Protocol::Ike, None, false).unwrap();
        assert_eq!(p.num, 2);
        assert_eq!(s.to_string(), "aes256gcm16-prfsha256-x25519");
        let back = suite_to_wire(&s, p.num, vec![]);
        let (s2, _) = check_reply(&ours, &[back], Protocol::Ike, false).unwrap();
        assert_eq!(s2, s);
    }

    #[test]
    fn ke_hint_preferred_when_acceptable() {
        let theirs = vec![spec_to_wire(
            &ike("aes128-sha256-x25519-ecp256"),
            1,
            vec![],
            true,
        )];
        let ours = vec![ike("aes128-sha256-x25519-ecp256")];
        let (s, _) = select(&ours, &theirs, Protocol::Ike, Some(KeId::Ecp256), false).unwrap();
        assert_eq!(s.ke, Some(KeId::Ecp256));
        let (s, _) = select(&ours, &theirs, Protocol::Ike, Some(KeId::Modp2048), false).unwrap();
        assert_eq!(s.ke, Some(KeId::Curve25519));
    }

    #[test]
    fn esp_ignores_ke_in_ike_auth_and_defaults_noesn() {
        let mut offered = spec_to_wire(&esp("aes128gcm16-ecp256"), 1, vec![1, 2, 3, 4], true);
        assert!(offered.transforms.iter().any(|t| t.transform_type == 4));
        let ours = vec![esp("aes256gcm16"), esp("aes128gcm16")];
        let (s, p) = select(
            &ours,
            std::slice::from_ref(&offered),
            Protocol::Esp,
            None,
            true,
        )
        .unwrap();
        assert_eq!(s.to_string(), "aes128gcm16");
        assert_eq!(s.esn, Some(EsnId::NoEsn));
        assert_eq!(p.spi, vec![1, 2, 3, 4]);
        // Without ESN transform at all: treated as no ESN.
        offered.transforms.retain(|t| t.transform_type != 5);
        assert!(select(&ours, &[offered], Protocol::Esp, None, true).is_some());
    }

    #[test]
    fn mismatch_gives_none() {
        let theirs = vec![spec_to_wire(&ike("aes128-sha256-ecp256"), 1, vec![], true)];
        assert!(select(
            &[ike("aes256gcm16-prfsha256-x25519")],
            &theirs,
            Protocol::Ike,
            None,
            false
        )
        .is_none());
        // A reply with two proposals is refused.
        let two = vec![theirs[0].clone(), theirs[0].clone()];
        assert!(check_reply(&[ike("aes128-sha256-ecp256")], &two, Protocol::Ike, false).is_none());
    }
}
