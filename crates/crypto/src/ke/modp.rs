//! Finite-field Diffie-Hellman over the MODP groups: RFC 2409 §6.2 (group 2, 1024 bits; legacy),
//! RFC 3526 §2-§5 (group 5, 1536 bits; groups 14, 15, 16: 2048, 3072, 4096 bits). Every group
//! has generator 2 and a safe prime modulus p = 2q + 1.
//!
//! Modular exponentiation is `crypto-bigint`'s Montgomery-form `pow_bounded_exp`, which runs in
//! time independent of the exponent's value (fixed 4-bit windows with constant-time table
//! selection); only the exponent's bit length, a public constant per group, shows in the timing.
//!
//! Private exponent size: RFC 3526 §8 estimates each group's strength (1536: 90-120 bits, 2048:
//! 110-160, 3072: 130-210, 4096: 150-240) and says the exponent should be at least twice the
//! strength. We take twice the *upper* estimate, rounded up to a multiple of 64 bits (one
//! `crypto-bigint` limb): 256 bits for MODP-1024 (strength about 80) and MODP-1536, 320 for
//! MODP-2048, 448 for MODP-3072, 512 for MODP-4096. Exponentiation cost grows linearly with
//! this length, so longer exponents would only cost time without adding strength beyond the
//! group's.
//!
//! Wire format (RFC 7296 §3.4): public values and the shared secret are big-endian, zero-padded
//! on the left to the modulus length.

use std::sync::{Arc, OnceLock};

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use zeroize::Zeroizing;

use crate::hexconst::unhex;
use crate::{CryptoError, KeId, SecretBytes};

/// One MODP group's constants.
pub(crate) struct Group {
    id: KeId,
    prime: &'static [u8],
    /// Private exponent length in bytes (see the module documentation).
    exp_len: usize,
    params: &'static OnceLock<Arc<BoxedMontyParams>>,
}

// The primes, as printed in RFC 2409 §6.2 and RFC 3526 §2-§5. `tests/modp/modp_vectors.py`
// recomputes each from its defining formula, 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi)
// + k), and checks that it is a safe prime.

/// RFC 2409 §6.2, Second Oakley Group: 2^1024 - 2^960 - 1 + 2^64 * { [2^894 pi] + 129093 }.
const MODP_1024_PRIME: [u8; 128] = unhex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
));
/// RFC 3526 §2: 2^1536 - 2^1472 - 1 + 2^64 * { [2^1406 pi] + 741804 }.
const MODP_1536_PRIME: [u8; 192] = unhex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
));
/// RFC 3526 §3: 2^2048 - 2^1984 - 1 + 2^64 * { [2^1918 pi] + 124476 }.
const MODP_2048_PRIME: [u8; 256] = unhex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
));
/// RFC 3526 §4: 2^3072 - 2^3008 - 1 + 2^64 * { [2^2942 pi] + 1690314 }.
const MODP_3072_PRIME: [u8; 384] = unhex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
));
/// RFC 3526 §5: 2^4096 - 2^4032 - 1 + 2^64 * { [2^3966 pi] + 240904 }.
const MODP_4096_PRIME: [u8; 512] = unhex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
));

static PARAMS_1024: OnceLock<Arc<BoxedMontyParams>> = OnceLock::new();
static PARAMS_1536: OnceLock<Arc<BoxedMontyParams>> = OnceLock::new();
static PARAMS_2048: OnceLock<Arc<BoxedMontyParams>> = OnceLock::new();
static PARAMS_3072: OnceLock<Arc<BoxedMontyParams>> = OnceLock::new();
static PARAMS_4096: OnceLock<Arc<BoxedMontyParams>> = OnceLock::new();

static GROUPS: [Group; 5] = [
    Group {
        id: KeId::Modp1024,
        prime: &MODP_1024_PRIME,
        exp_len: 32,
        params: &PARAMS_1024,
    },
    Group {
        id: KeId::Modp1536,
        prime: &MODP_1536_PRIME,
        exp_len: 32,
        params: &PARAMS_1536,
    },
    Group {
        id: KeId::Modp2048,
        prime: &MODP_2048_PRIME,
        exp_len: 40,
        params: &PARAMS_2048,
    },
    Group {
        id: KeId::Modp3072,
        prime: &MODP_3072_PRIME,
        exp_len: 56,
        params: &PARAMS_3072,
    },
    Group {
        id: KeId::Modp4096,
        prime: &MODP_4096_PRIME,
        exp_len: 64,
        params: &PARAMS_4096,
    },
];

/// The MODP group `id`, or `None` for other key exchange methods.
pub(crate) fn group(id: KeId) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.id == id)
}

/// Bit length of a byte length (every length here is at most 512 bytes).
fn bits(len: usize) -> Result<u32, CryptoError> {
    len.checked_mul(8)
        .and_then(|b| u32::try_from(b).ok())
        .ok_or(CryptoError::BadLength("MODP value"))
}

impl Group {
    /// Modulus length in bytes: the length of public values and of the shared secret.
    pub(crate) fn len(&self) -> usize {
        self.prime.len()
    }
    /// The prime p, big-endian.
    #[cfg(test)]
    pub(crate) fn prime(&self) -> &'static [u8] {
        self.prime
    }
    /// Private exponent length in bytes.
    pub(crate) fn exp_len(&self) -> usize {
        self.exp_len
    }
    /// The Montgomery parameters of p, computed once per process.
    fn params(&self) -> Result<Arc<BoxedMontyParams>, CryptoError> {
        if let Some(p) = self.params.get() {
            return Ok(p.clone());
        }
        let p = BoxedUint::from_be_slice(self.prime, bits(self.len())?)
            .map_err(|_| CryptoError::Backend)?;
        let p = Option::<Odd<BoxedUint>>::from(Odd::new(p)).ok_or(CryptoError::Backend)?;
        // The modulus is public: variable-time setup is fine.
        let params = Arc::new(BoxedMontyParams::new_vartime(p));
        Ok(self.params.get_or_init(|| params).clone())
    }
    /// base^x mod p, zero-padded to the modulus length. Constant time in `x`.
    fn pow(&self, base: &[u8], x: &BoxedUint) -> Result<SecretBytes, CryptoError> {
        let params = self.params()?;
        let base = BoxedUint::from_be_slice(base, bits(self.len())?)
            .map_err(|_| CryptoError::InvalidPublicValue)?;
        let base = BoxedMontyForm::new_with_arc(base, params);
        let power = Zeroizing::new(base.pow_bounded_exp(x, bits(self.exp_len)?));
        let value = Zeroizing::new(power.retrieve());
        // `to_be_bytes` writes whole limbs; every modulus here is a multiple of 64 bits, so
        // the output is exactly the modulus length, already zero-padded.
        let bytes = Zeroizing::new(value.to_be_bytes());
        if bytes.len() != self.len() {
            return Err(CryptoError::Backend);
        }
        Ok(SecretBytes::from_slice(&bytes))
    }
}

/// Our private exponent in one MODP exchange (zeroized on drop).
pub(crate) struct ModpPrivate {
    group: &'static Group,
    x: Zeroizing<BoxedUint>,
}

impl ModpPrivate {
    /// The key from a big-endian exponent of `group.exp_len()` bytes, and its public value
    /// g^x mod p (RFC 7296 §3.4 encoding). Exponents 0 and 1 are refused (`InvalidPublicValue`,
    /// which makes `KeyExchange::generate` draw again).
    pub(crate) fn new(group: &'static Group, x: &[u8]) -> Result<(Self, Vec<u8>), CryptoError> {
        if x.len() != group.exp_len {
            return Err(CryptoError::BadLength("private key"));
        }
        let x = Zeroizing::new(
            BoxedUint::from_be_slice(x, bits(group.exp_len)?).map_err(|_| CryptoError::Backend)?,
        );
        if bool::from(x.is_zero()) || *x == BoxedUint::one_with_precision(x.bits_precision()) {
            return Err(CryptoError::InvalidPublicValue);
        }
        let mut g = vec![0u8; group.len()];
        if let Some(last) = g.last_mut() {
            *last = 2;
        }
        let public = group.pow(&g, &x)?.as_slice().to_vec();
        Ok((Self { group, x }, public))
    }

    /// g^ir = y^x mod p after the RFC 6989 §2.1 check of the peer's value y: exactly the
    /// modulus length (RFC 7296 §3.4) and 1 < y < p - 1. For these safe-prime groups that check
    /// is sufficient: the only small subgroups are {1} and {1, p - 1}.
    pub(crate) fn agree(&self, peer: &[u8]) -> Result<SecretBytes, CryptoError> {
        if peer.len() != self.group.len() || !in_range(peer, self.group.prime) {
            return Err(CryptoError::InvalidPublicValue);
        }
        self.group.pow(peer, &self.x)
    }
}

/// 1 < y < p - 1 for big-endian `y` and `p` of equal length. The peer's value is public, so
/// this need not be constant time.
fn in_range(y: &[u8], p: &[u8]) -> bool {
    let mut one = vec![0u8; p.len()];
    let mut p_minus_1 = p.to_vec();
    if let (Some(o), Some(last)) = (one.last_mut(), p_minus_1.last_mut()) {
        *o = 1;
        // p is odd, so p - 1 only clears the lowest bit.
        *last &= !1;
    }
    // Equal-length big-endian byte strings compare as the numbers they encode.
    y > one.as_slice() && y < p_minus_1.as_slice()
}
