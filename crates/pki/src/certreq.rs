//! CERTREQ payload contents (RFC 7296 §3.7).
//!
//! For certificate encoding 4 (X.509 Certificate - Signature) the Certification Authority
//! field is a concatenation of 20-octet SHA-1 hashes, one per trusted CA: "the SHA-1 hash of
//! the Subject Public Key Info element (see section 4.1.2.7 of [PKIX]) from each Trust Anchor
//! certificate". We read "element" as the whole SubjectPublicKeyInfo SEQUENCE, algorithm
//! identifier included — not the subjectPublicKey bits alone (that is RFC 5280 §4.2.1.2's key
//! identifier method 1). strongSwan 5.9 agrees: the CERTREQ it sends in IKE_SA_INIT carries
//! exactly what `pki --keyid` calls "keyid (SHA-1 of subjectPublicKeyInfo)" and what
//! `openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha1sum` prints; the test
//! `certreq_hash_matches_strongswan` holds a value captured from a charon on the wire.

use crate::cert::Certificate;
use crate::PkiError;

/// SHA-1 of the CA certificate's SubjectPublicKeyInfo DER: its CERTREQ entry (RFC 7296 §3.7).
pub fn ca_key_hash(ca_der: &[u8]) -> Result<[u8; 20], PkiError> {
    Certificate::from_der(ca_der).map(|c| c.key_hash())
}

/// Splits CERTREQ Certification Authority data (encoding 4) into its 20-octet hashes. A
/// trailing partial hash is ignored (RFC 7296 §3.7 gives no other length).
pub fn split_ca_hashes(data: &[u8]) -> Vec<[u8; 20]> {
    data.chunks_exact(20)
        .filter_map(|c| <[u8; 20]>::try_from(c).ok())
        .collect()
}
