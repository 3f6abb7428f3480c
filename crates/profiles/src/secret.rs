//! Random secrets for people to type: EAP passwords, PSKs, PKCS #12 passwords.

use zeroize::Zeroizing;

/// Letters and digits without look-alikes (no `0 O o 1 l I`), 56 symbols: each carries
/// log2(56) ≈ 5.8 bits.
pub const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random string of `len` symbols of [`ALPHABET`] from the system's random source
/// (uniform: bytes ≥ 224 are drawn again, 224 = 4 × 56).
pub fn random_text(len: usize) -> Zeroizing<String> {
    let mut rng = crypto::SystemRandom;
    random_text_with(&mut rng, len)
}

/// [`random_text`] with a given random source (tests).
pub fn random_text_with(rng: &mut dyn crypto::Random, len: usize) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(len));
    let mut buf = Zeroizing::new([0u8; 64]);
    while out.len() < len {
        rng.fill(&mut buf[..]);
        for b in buf.iter() {
            if out.len() == len {
                break;
            }
            let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
            if *b < limit {
                if let Some(c) = ALPHABET.get(usize::from(*b) % ALPHABET.len()) {
                    out.push(char::from(*c));
                }
            }
        }
    }
    out
}

/// An EAP password: 16 symbols (≈ 93 bits), short enough to type on a phone.
pub fn password() -> Zeroizing<String> {
    random_text(16)
}

/// A PSK: 32 symbols (≈ 186 bits; RFC 7296 §2.15 wants a PSK as strong as a key).
pub fn psk() -> Zeroizing<String> {
    random_text(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_look_alikes_and_right_length() {
        for c in "0Oo1lI".chars() {
            assert!(!ALPHABET.contains(&(c as u8)), "{c}");
        }
        assert_eq!(ALPHABET.len(), 56);
        let p = password();
        assert_eq!(p.chars().count(), 16);
        assert!(p.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(*password(), *password());
        assert_eq!(psk().len(), 32);
    }

    #[test]
    fn deterministic_source_uses_whole_alphabet() {
        let mut rng = crypto::DeterministicRandom::new(7);
        let t = random_text_with(&mut rng, 4000);
        for c in ALPHABET {
            assert!(t.as_bytes().contains(c), "{}", *c as char);
        }
    }
}
