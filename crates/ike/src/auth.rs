//! Pre-shared-key authentication (RFC 7296 §2.15).
//!
//! AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>), where the initiator's
//! signed octets are RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload) and the
//! responder's RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload). RestOf…IDPayload is
//! the ID payload body: ID Type, three reserved octets, identification data.

use crypto::{Prf, SecretBytes};
use wire::Identity;

const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// The ID payload body as it is MACed (RFC 7296 §2.15).
fn id_body(id: &Identity) -> Vec<u8> {
    let mut v = vec![id.id_type(), 0, 0, 0];
    v.extend_from_slice(&id.data());
    v
}

/// The AUTH data for one side. `message` is the side's own first message (RealMessage1 for the
/// initiator, RealMessage2 for the responder), `peer_nonce` the other side's nonce, `sk_p` the
/// side's SK_pi/SK_pr and `id` its identity.
pub(crate) fn psk_auth(
    prf: Prf,
    psk: &[u8],
    message: &[u8],
    peer_nonce: &[u8],
    sk_p: &[u8],
    id: &Identity,
) -> SecretBytes {
    let maced_id = prf.compute(sk_p, &[&id_body(id)]);
    let key = prf.compute(psk, &[KEY_PAD]);
    prf.compute(key.as_slice(), &[message, peer_nonce, maced_id.as_slice()])
}
