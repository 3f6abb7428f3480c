//! MS-CHAPv2 computations (RFC 2759 §8) and the MPPE key derivation that gives EAP-MSCHAPv2 its
//! MSK (RFC 3079 §3.3–§3.4; MSK = MasterReceiveKey | MasterSendKey | 32 zero octets, from the
//! authenticator's point of view, as Microsoft's [MS-CHAP] §3.1.5.1 specifies).
//!
//! DES and MD4 come from the RustCrypto `des` and `md4` crates; SHA-1 from aws-lc-rs.

use crypto::digest::sha1;
use crypto::SecretBytes;
use des::cipher::{BlockEncrypt, KeyInit};
use md4::{Digest, Md4};
use zeroize::Zeroizing;

/// NtPasswordHash: MD4 of the password in UTF-16LE (RFC 2759 §8.3).
pub fn nt_password_hash(password: &str) -> Zeroizing<[u8; 16]> {
    let utf16: Zeroizing<Vec<u8>> =
        Zeroizing::new(password.encode_utf16().flat_map(u16::to_le_bytes).collect());
    let mut out = Zeroizing::new([0u8; 16]);
    out.copy_from_slice(&Md4::digest(utf16.as_slice()));
    out
}

/// HashNtPasswordHash: MD4 of the hash (RFC 2759 §8.4).
fn hash_hash(h: &[u8; 16]) -> Zeroizing<[u8; 16]> {
    let mut out = Zeroizing::new([0u8; 16]);
    out.copy_from_slice(&Md4::digest(h));
    out
}

/// ChallengeHash: first 8 octets of SHA-1(PeerChallenge | AuthenticatorChallenge | UserName)
/// (RFC 2759 §8.2). The user name is without a Windows domain prefix.
pub fn challenge_hash(peer_challenge: &[u8; 16], auth_challenge: &[u8; 16], user: &str) -> [u8; 8] {
    let d = sha1(&[
        peer_challenge,
        auth_challenge,
        strip_domain(user).as_bytes(),
    ]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}

/// `DOMAIN\user` → `user` (RFC 2759 §8.2).
pub fn strip_domain(user: &str) -> &str {
    user.rsplit_once('\\').map_or(user, |(_, u)| u)
}

/// A DES key from 7 octets, parity bits set (RFC 2759 §8.6 DesEncrypt).
fn des_key(k7: &[u8]) -> [u8; 8] {
    let mut bits: u64 = 0;
    for b in k7 {
        bits = (bits << 8) | u64::from(*b);
    }
    let mut out = [0u8; 8];
    for (i, o) in out.iter_mut().enumerate() {
        let seven = ((bits >> (49 - 7 * i)) & 0x7f) as u8;
        let v = seven << 1;
        *o = v | u8::from(v.count_ones() % 2 == 0);
    }
    out
}

fn des_encrypt(clear: &[u8; 8], k7: &[u8]) -> [u8; 8] {
    let key = des_key(k7);
    let cipher = des::Des::new_from_slice(&key).unwrap_or_else(|_| unreachable!("8-octet DES key"));
    let mut block = des::cipher::generic_array::GenericArray::clone_from_slice(clear);
    cipher.encrypt_block(&mut block);
    let mut out = [0u8; 8];
    out.copy_from_slice(&block);
    out
}

/// ChallengeResponse: the 24-octet NT-Response (RFC 2759 §8.5).
pub fn challenge_response(challenge: &[u8; 8], password_hash: &[u8; 16]) -> [u8; 24] {
    let mut z = [0u8; 21];
    z[..16].copy_from_slice(password_hash);
    let mut out = [0u8; 24];
    out[..8].copy_from_slice(&des_encrypt(challenge, &z[0..7]));
    out[8..16].copy_from_slice(&des_encrypt(challenge, &z[7..14]));
    out[16..].copy_from_slice(&des_encrypt(challenge, &z[14..21]));
    out
}

/// GenerateNTResponse (RFC 2759 §8.1).
pub fn nt_response(
    auth_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user: &str,
    password_hash: &[u8; 16],
) -> [u8; 24] {
    challenge_response(
        &challenge_hash(peer_challenge, auth_challenge, user),
        password_hash,
    )
}

const MAGIC1: &[u8] = b"Magic server to client signing constant";
const MAGIC2: &[u8] = b"Pad to make it do more than one iteration";

/// GenerateAuthenticatorResponse: "S=" and 40 upper-case hex digits (RFC 2759 §8.7).
pub fn authenticator_response(
    password_hash: &[u8; 16],
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    auth_challenge: &[u8; 16],
    user: &str,
) -> String {
    let hh = hash_hash(password_hash);
    let d = sha1(&[hh.as_slice(), nt_response, MAGIC1]);
    let c = challenge_hash(peer_challenge, auth_challenge, user);
    let d = sha1(&[&d, &c, MAGIC2]);
    let mut s = String::from("S=");
    for b in d {
        s.push_str(&format!("{b:02X}"));
    }
    s
}

const KEY_MAGIC1: &[u8] = b"This is the MPPE Master Key";
const KEY_MAGIC2: &[u8] =
    b"On the client side, this is the send key; on the server side, it is the receive key.";
const KEY_MAGIC3: &[u8] =
    b"On the client side, this is the receive key; on the server side, it is the send key.";

/// GetMasterKey (RFC 3079 §3.4).
fn master_key(password_hash: &[u8; 16], nt_response: &[u8; 24]) -> Zeroizing<[u8; 16]> {
    let hh = hash_hash(password_hash);
    let d = sha1(&[hh.as_slice(), nt_response, KEY_MAGIC1]);
    let mut out = Zeroizing::new([0u8; 16]);
    out.copy_from_slice(&d[..16]);
    out
}

/// GetAsymmetricStartKey for a 128-bit session key (RFC 3079 §3.4), with the magic chosen by
/// the caller.
fn start_key(master: &[u8; 16], magic: &[u8]) -> Zeroizing<[u8; 16]> {
    let d = sha1(&[master, &[0u8; 40], magic, &[0xf2u8; 40]]);
    let mut out = Zeroizing::new([0u8; 16]);
    out.copy_from_slice(&d[..16]);
    out
}

/// The EAP-MSCHAPv2 MSK: MasterReceiveKey | MasterSendKey | 32 zero octets, both keys as the
/// authenticator (server) names them; the same 64 octets on both sides.
pub fn msk(password_hash: &[u8; 16], nt_response: &[u8; 24]) -> SecretBytes {
    let mk = master_key(password_hash, nt_response);
    let recv = start_key(&mk, KEY_MAGIC2); // server receive key
    let send = start_key(&mk, KEY_MAGIC3); // server send key
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(recv.as_slice());
    v.extend_from_slice(send.as_slice());
    v.resize(64, 0);
    SecretBytes::new(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 2759 §9.2 example.
    #[test]
    fn rfc2759_vectors() {
        let user = "User";
        let pw = "clientPass";
        let auth: [u8; 16] = h("5B5D7C7D7B3F2F3E3C2C602132262628").try_into().unwrap();
        let peer: [u8; 16] = h("21402324255E262A28295F2B3A337C7E").try_into().unwrap();
        assert_eq!(
            challenge_hash(&peer, &auth, user).to_vec(),
            h("D02E4386BCE91226")
        );
        let ph = nt_password_hash(pw);
        assert_eq!(ph.to_vec(), h("44EBBA8D5312B8D611474411F56989AE"));
        assert_eq!(
            hash_hash(&ph).to_vec(),
            h("41C00C584BD2D91C4017A2A12FA59F3F")
        );
        let nt = nt_response(&auth, &peer, user, &ph);
        assert_eq!(
            nt.to_vec(),
            h("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
        );
        assert_eq!(
            authenticator_response(&ph, &nt, &peer, &auth, user),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
        assert_eq!(
            authenticator_response(&ph, &nt, &peer, &auth, "DOMAIN\\User"),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
    }

    /// RFC 3079 §3.5.3 (128-bit keys) with the RFC 2759 example's inputs.
    #[test]
    fn rfc3079_vectors() {
        let ph = nt_password_hash("clientPass");
        let nt: [u8; 24] = h("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
            .try_into()
            .unwrap();
        let mk = master_key(&ph, &nt);
        assert_eq!(mk.to_vec(), h("FDECE3717A8C838CB388E527AE3CDD31"));
        // RFC 3079 §3.5.3's SendStartKey128 is the server's send key (Magic3).
        assert_eq!(
            start_key(&mk, KEY_MAGIC3).to_vec(),
            h("8B7CDC149B993A1BA118CB153F56DCCB")
        );
        let m = msk(&ph, &nt);
        assert_eq!(m.len(), 64);
        // MSK = server receive key | server send key | zeros.
        assert_eq!(&m.as_slice()[..16], start_key(&mk, KEY_MAGIC2).as_slice());
        assert_eq!(
            &m.as_slice()[16..32],
            h("8B7CDC149B993A1BA118CB153F56DCCB").as_slice()
        );
        assert!(m.as_slice()[32..].iter().all(|b| *b == 0));
    }
}
