//! AUTH payloads (RFC 7296 §2.15): pre-shared keys and digital signatures (RFC 7427 method 14;
//! the classic methods 1, 9, 10, 11 of RFC 7296 §3.8 / RFC 4754).
//!
//! Both sign the same octets: the initiator's are RealMessage1 | NonceRData |
//! prf(SK_pi, RestOfInitIDPayload), the responder's RealMessage2 | NonceIData |
//! prf(SK_pr, RestOfRespIDPayload). RestOf…IDPayload is the ID payload body: ID Type, three
//! reserved octets, identification data. With a PSK, AUTH = prf(prf(Shared Secret,
//! "Key Pad for IKEv2"), <octets>).

use crypto::sign::{self, SignatureHash, SignatureScheme, SigningKey, VerifyingKey};
use crypto::{Prf, SecretBytes};
use wire::ike::AuthPayload;
use wire::Identity;

const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// Digital Signature (RFC 7427 §3).
pub(crate) const METHOD_DIGITAL_SIGNATURE: u8 = 14;

/// The ID payload body as it is MACed (RFC 7296 §2.15).
fn id_body(id: &Identity) -> Vec<u8> {
    let mut v = vec![id.id_type(), 0, 0, 0];
    v.extend_from_slice(&id.data());
    v
}

/// The octets one side's AUTH covers. `message` is the side's own first message, `peer_nonce`
/// the other side's nonce, `sk_p` the side's SK_pi/SK_pr and `id` its identity.
pub(crate) fn signed_octets(
    prf: Prf,
    message: &[u8],
    peer_nonce: &[u8],
    sk_p: &[u8],
    id: &Identity,
) -> Vec<u8> {
    let maced_id = prf.compute(sk_p, &[&id_body(id)]);
    let mut v = Vec::with_capacity(message.len() + peer_nonce.len() + maced_id.len());
    v.extend_from_slice(message);
    v.extend_from_slice(peer_nonce);
    v.extend_from_slice(maced_id.as_slice());
    v
}

/// The AUTH data for one side with a pre-shared key.
pub(crate) fn psk_auth(
    prf: Prf,
    psk: &[u8],
    message: &[u8],
    peer_nonce: &[u8],
    sk_p: &[u8],
    id: &Identity,
) -> SecretBytes {
    let key = prf.compute(psk, &[KEY_PAD]);
    prf.compute(
        key.as_slice(),
        &[&signed_octets(prf, message, peer_nonce, sk_p, id)],
    )
}

/// Signs `octets` for an AUTH payload: with RFC 7427 when the peer announced hash algorithms
/// (SIGNATURE_HASH_ALGORITHMS), else with the classic method of our key type.
pub(crate) fn sign_auth(
    key: &SigningKey,
    peer_hashes: &[SignatureHash],
    octets: &[u8],
    rsa_pss: bool,
) -> Result<AuthPayload, String> {
    let kt = key.key_type();
    if !peer_hashes.is_empty() {
        let scheme = sign::choose_scheme(kt, peer_hashes, sign::SchemeOptions { rsa_pss })
            .ok_or_else(|| format!("no signature hash the peer announced fits our {kt:?} key"))?;
        let sig = key
            .sign(scheme, octets)
            .map_err(|e| format!("signing failed: {e}"))?;
        let data = sign::rfc7427_auth_data(scheme, &sig).map_err(|e| e.to_string())?;
        return Ok(AuthPayload {
            method: METHOD_DIGITAL_SIGNATURE,
            data,
        });
    }
    // No RFC 7427 support announced: the classic methods (RFC 4754 for ECDSA).
    let scheme = [SignatureScheme::EcdsaSha256Fixed, SignatureScheme::EcdsaSha384Fixed, SignatureScheme::EcdsaSha512Fixed]
        .into_iter()
        .find(|s| s.fits(kt) && key.can_sign(*s))
        .ok_or_else(|| format!("the peer announced no signature hashes (RFC 7427) and our {kt:?} key has no classic method we sign with"))?;
    let sig = key
        .sign(scheme, octets)
        .map_err(|e| format!("signing failed: {e}"))?;
    Ok(AuthPayload {
        method: scheme
            .classic_auth_method()
            .unwrap_or(METHOD_DIGITAL_SIGNATURE),
        data: sig,
    })
}

/// Verifies a signature AUTH payload over `octets` with the peer's public key (SPKI DER).
pub(crate) fn verify_auth(
    spki: &[u8],
    auth: &AuthPayload,
    octets: &[u8],
) -> Result<SignatureScheme, String> {
    let key = VerifyingKey::from_spki(spki).map_err(|e| format!("unusable public key: {e}"))?;
    let (scheme, sig) = match auth.method {
        METHOD_DIGITAL_SIGNATURE => {
            sign::parse_rfc7427_auth_data(&auth.data).map_err(|e| format!("bad AUTH data: {e}"))?
        }
        m => match SignatureScheme::from_classic_auth_method(m) {
            Some(s) => (s, auth.data.as_slice()),
            None => {
                return Err(format!(
                    "authentication method {m} is not a signature method we know"
                ))
            }
        },
    };
    if !scheme.fits(key.key_type()) {
        return Err(format!(
            "{scheme:?} does not fit the certificate's {:?} key",
            key.key_type()
        ));
    }
    key.verify(scheme, octets, sig)
        .map_err(|_| "signature does not verify".to_string())?;
    Ok(scheme)
}
