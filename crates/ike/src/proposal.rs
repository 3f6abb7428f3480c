//! SA payloads ⇄ algorithm suites: what we offer (RFC 7296 §3.3), how a responder chooses one
//! of the initiator's proposals, and how an initiator checks the choice.
//!
//! Child SA proposals are ESP or AH (RFC 7296 §3.3.1 Protocol ID 3 or 2; IKEv2 has no AH+ESP
//! bundles). An AH proposal carries INTEG, ESN and optional KE transforms and no ENCR
//! (§3.3.3); its suite keeps [`Suite::AH_NO_ENCR`] as a placeholder that is never encoded.

use crypto::proposal::Protocol;
use crypto::{EncrAlg, EncrId, EsnId, IntegId, KeId, PrfId, ProposalSpec, Suite, TransformType};
use wire::ike::{Proposal, ProtocolId, Transform};

/// The Protocol ID of proposals, Notify and Delete payloads (RFC 7296 §3.3.1).
pub(crate) fn protocol_id(p: Protocol) -> ProtocolId {
    match p {
        Protocol::Ike => ProtocolId::IKE,
        Protocol::Esp => ProtocolId::ESP,
        Protocol::Ah => ProtocolId::AH,
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
    if spec.protocol != Protocol::Ike {
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

/// A chosen suite as the single proposal of a response, keeping the initiator's number (and
/// protocol: the suite's). An AH suite has no ENCR transform (RFC 7296 §3.3.3).
pub(crate) fn suite_to_wire(suite: &Suite, num: u8, spi: Vec<u8>) -> Proposal {
    let mut transforms = Vec::new();
    if suite.protocol != Protocol::Ah {
        transforms.push(encr_transform(suite.encr));
    }
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
    has_encr: bool,
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
                    o.has_encr = true;
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

/// Tries to match our `spec` against one offered proposal (of the same protocol). `ke_hint` is
/// the group of the initiator's KE payload, preferred when acceptable. `ignore_ke` drops KE
/// transforms from consideration (child proposals in IKE_AUTH: iOS sends them, RFC 7296 §1.2
/// says to ignore).
fn match_one(
    spec: &ProposalSpec,
    o: &Offered,
    ke_hint: Option<KeId>,
    ignore_ke: bool,
) -> Option<Suite> {
    let encr = if spec.protocol == Protocol::Ah {
        // RFC 7296 §3.3.3: AH takes no ENCR transform; a proposal with one is not AH's.
        if o.has_encr {
            return None;
        }
        Suite::AH_NO_ENCR
    } else {
        first_common(&spec.encr, &o.encr)?
    };
    let aead = spec.protocol != Protocol::Ah && is_aead(encr);
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
        Protocol::Esp | Protocol::Ah => {
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

/// Responder's choice (RFC 7296 §2.7): our proposals of the `allowed` protocols in our order of
/// preference, each tried against the initiator's proposals of the same protocol in theirs.
/// Returns the suite and the chosen proposal (its number and protocol go into the answer).
pub(crate) fn select<'s, 'a>(
    ours: impl IntoIterator<Item = &'s ProposalSpec>,
    theirs: &'a [Proposal],
    allowed: &[Protocol],
    ke_hint: Option<KeId>,
    ignore_ke: bool,
) -> Option<(Suite, &'a Proposal)> {
    for spec in ours.into_iter().filter(|s| allowed.contains(&s.protocol)) {
        let want = protocol_id(spec.protocol);
        for p in theirs.iter().filter(|p| p.protocol == want) {
            if let Some(s) = match_one(spec, &Offered::from_wire(p), ke_hint, ignore_ke) {
                return Some((s, p));
            }
        }
    }
    None
}

/// Initiator's check of the responder's SA payload: exactly one proposal, of a protocol in
/// `allowed`, one transform of each needed type (no ENCR for AH), and a combination we offered.
/// Returns the suite and the responder's SPI.
pub(crate) fn check_reply<'s>(
    ours: impl IntoIterator<Item = &'s ProposalSpec>,
    reply: &[Proposal],
    allowed: &[Protocol],
    ignore_ke: bool,
) -> Option<(Suite, Vec<u8>)> {
    let [p] = reply else { return None };
    let protocol = *allowed.iter().find(|a| protocol_id(**a) == p.protocol)?;
    let o = Offered::from_wire(p);
    let encr_count = if protocol == Protocol::Ah { 0 } else { 1 };
    if o.encr.len() != encr_count
        || (protocol == Protocol::Ah && o.has_encr)
        || o.prf.len() > 1
        || o.integ.len() > 1
        || o.ke.len() > 1
        || o.esn.len() > 1
    {
        return None;
    }
    for spec in ours.into_iter().filter(|s| s.protocol == protocol) {
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
    fn ah(s: &str) -> ProposalSpec {
        ProposalSpec::parse(Protocol::Ah, s).unwrap()
    }
    const AH_ESP: &[Protocol] = &[Protocol::Ah, Protocol::Esp];

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
        let (s, p) = select(&ours, &theirs, &[Protocol::Ike], None, false).unwrap();
        assert_eq!(p.num, 2);
        assert_eq!(s.to_string(), "aes256gcm16-prfsha256-x25519");
        let back = suite_to_wire(&s, p.num, vec![]);
        let (s2, _) = check_reply(&ours, &[back], &[Protocol::Ike], false).unwrap();
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
        let (s, _) = select(&ours, &theirs, &[Protocol::Ike], Some(KeId::Ecp256), false).unwrap();
        assert_eq!(s.ke, Some(KeId::Ecp256));
        let (s, _) = select(
            &ours,
            &theirs,
            &[Protocol::Ike],
            Some(KeId::Modp2048),
            false,
        )
        .unwrap();
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
            &[Protocol::Esp],
            None,
            true,
        )
        .unwrap();
        assert_eq!(s.to_string(), "aes128gcm16");
        assert_eq!(s.esn, Some(EsnId::NoEsn));
        assert_eq!(p.spi, vec![1, 2, 3, 4]);
        // Without ESN transform at all: treated as no ESN.
        offered.transforms.retain(|t| t.transform_type != 5);
        assert!(select(&ours, &[offered], &[Protocol::Esp], None, true).is_some());
    }

    #[test]
    fn mismatch_gives_none() {
        let theirs = vec![spec_to_wire(&ike("aes128-sha256-ecp256"), 1, vec![], true)];
        assert!(select(
            &[ike("aes256gcm16-prfsha256-x25519")],
            &theirs,
            &[Protocol::Ike],
            None,
            false
        )
        .is_none());
        // A reply with two proposals is refused.
        let two = vec![theirs[0].clone(), theirs[0].clone()];
        assert!(check_reply(
            &[ike("aes128-sha256-ecp256")],
            &two,
            &[Protocol::Ike],
            false
        )
        .is_none());
    }

    #[test]
    fn ah_proposal_on_the_wire_has_no_encr() {
        let p = spec_to_wire(&ah("sha256-sha512-ecp256-esn"), 1, vec![9, 9, 9, 9], true);
        assert_eq!(p.protocol, ProtocolId::AH);
        let types: Vec<(u8, u16)> = p
            .transforms
            .iter()
            .map(|t| (t.transform_type, t.transform_id))
            .collect();
        // INTEG 12 (HMAC_SHA2_256_128), 14 (HMAC_SHA2_512_256), KE 19 (ECP_256), ESN 1.
        assert_eq!(types, [(3, 12), (3, 14), (4, 19), (5, 1)]);
        let p = spec_to_wire(&ah("sha256-ecp256"), 2, vec![1, 2, 3, 4], false);
        assert_eq!(
            p.transforms
                .iter()
                .map(|t| t.transform_type)
                .collect::<Vec<_>>(),
            [3, 5],
            "no KE in IKE_AUTH, ESN defaults to NO_EXT_SEQ"
        );
    }

    #[test]
    fn responder_chooses_across_protocols_keeping_number_and_protocol() {
        let theirs = vec![
            spec_to_wire(&ah("sha384"), 1, vec![0, 0, 1, 0], false),
            spec_to_wire(&esp("aes128gcm16"), 2, vec![0, 0, 1, 0], false),
        ];
        // Only ESP here: the ESP proposal (number 2) wins.
        let (s, p) = select(&[esp("aes128gcm16")], &theirs, AH_ESP, None, true).unwrap();
        assert_eq!(
            (s.protocol, p.num, p.protocol),
            (Protocol::Esp, 2, ProtocolId::ESP)
        );
        // AH and ESP here, AH preferred: number 1, AH, no encryption.
        let ours = [ah("sha512-sha384"), esp("aes128gcm16")];
        let (s, p) = select(&ours, &theirs, AH_ESP, None, true).unwrap();
        assert_eq!(
            (s.protocol, p.num, p.protocol),
            (Protocol::Ah, 1, ProtocolId::AH)
        );
        assert_eq!(s.integ, Some(IntegId::HmacSha2_384_192));
        assert_eq!(s.encr, Suite::AH_NO_ENCR);
        assert_eq!(s.esn, Some(EsnId::NoEsn));
        // The answer: the peer's number, protocol AH, INTEG and ESN only.
        let back = suite_to_wire(&s, p.num, vec![5, 6, 7, 8]);
        assert_eq!((back.num, back.protocol), (1, ProtocolId::AH));
        assert!(back.transforms.iter().all(|t| t.transform_type != 1));
        let (s2, spi) = check_reply(&ours, std::slice::from_ref(&back), AH_ESP, true).unwrap();
        assert_eq!((s2, spi), (s, vec![5, 6, 7, 8]));
        // Under UDP encapsulation AH is not allowed: ESP is chosen, an AH answer refused.
        let (s, _) = select(&ours, &theirs, &[Protocol::Esp], None, true).unwrap();
        assert_eq!(s.protocol, Protocol::Esp);
        assert!(select(&[ah("sha384")], &theirs, &[Protocol::Esp], None, true).is_none());
        assert!(check_reply(&ours, &[back], &[Protocol::Esp], true).is_none());
    }

    #[test]
    fn ah_with_an_encr_transform_is_not_ah() {
        let mut offered = spec_to_wire(&ah("sha256"), 1, vec![1, 2, 3, 4], false);
        offered
            .transforms
            .push(encr_transform(EncrAlg::new(EncrId::Null, None)));
        assert!(select(&[ah("sha256")], &[offered.clone()], AH_ESP, None, true).is_none());
        assert!(check_reply(&[ah("sha256")], &[offered], AH_ESP, true).is_none());
        // An ESP answer to an AH-only offer is refused, and vice versa.
        let esp_answer = spec_to_wire(&esp("aes128-sha256"), 1, vec![1, 2, 3, 4], false);
        assert!(check_reply(
            &[ah("sha256")],
            std::slice::from_ref(&esp_answer),
            AH_ESP,
            true
        )
        .is_none());
        assert!(check_reply(
            &[ah("sha256"), esp("aes128-sha256")],
            &[esp_answer],
            AH_ESP,
            true
        )
        .is_some());
        // An AH answer with two INTEG transforms is not a choice.
        let two = spec_to_wire(&ah("sha256-sha384"), 1, vec![1, 2, 3, 4], false);
        assert!(check_reply(&[ah("sha256-sha384")], &[two], AH_ESP, true).is_none());
    }

    #[test]
    fn ah_pfs_and_esn_are_negotiated() {
        let offered = spec_to_wire(&ah("sha256-ecp256-x25519-esn"), 1, vec![1, 2, 3, 4], true);
        let ours = [ah("sha256-x25519-esn-noesn")];
        let (s, _) = select(
            &ours,
            std::slice::from_ref(&offered),
            AH_ESP,
            Some(KeId::Curve25519),
            false,
        )
        .unwrap();
        assert_eq!(s.ke, Some(KeId::Curve25519));
        assert_eq!(s.esn, Some(EsnId::Esn));
        assert_eq!(s.to_string(), "sha256-x25519-esn");
        // We want no PFS, the peer insists on it: no match (as for ESP).
        assert!(select(&[ah("sha256")], &[offered], AH_ESP, None, false).is_none());
    }
}
