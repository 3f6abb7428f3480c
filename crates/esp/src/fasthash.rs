//! A fast hasher for the SAD and child maps, whose keys are integers: SPIs (RFC 4303 §2.1) and
//! child ids. The maps are filled only by the control path, so lookups of SPIs chosen by a
//! peer or an attacker cannot degrade them (no insertions come from the network); a keyed
//! SipHash per packet would only cost time.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` keyed by an integer id.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Folded 64×64→128-bit multiply of the key by an odd constant: every input bit reaches the
/// high and low bits of the result.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl IdHasher {
    fn mix(&mut self, x: u64) {
        let m = u128::from(self.0 ^ x).wrapping_mul(u128::from(K));
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            if let Some(dst) = b.get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            self.mix(u64::from_le_bytes(b));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn spreads_small_and_large_keys() {
        let b = BuildHasherDefault::<IdHasher>::default();
        let hs: std::collections::BTreeSet<u64> = (0u32..1000)
            .map(|i| b.hash_one(i))
            .chain((1u32..1000).map(|i| b.hash_one(i << 20)))
            .collect();
        assert_eq!(hs.len(), 1999);
        // The top 7 bits (hashbrown's control byte) vary too.
        let tops: std::collections::BTreeSet<u64> =
            (0u32..1000).map(|i| b.hash_one(i) >> 57).collect();
        assert!(tops.len() > 64);
        let mut m: IdMap<u32, u32> = IdMap::default();
        m.insert(0xc1a2_b3c4, 1);
        assert_eq!(m.get(&0xc1a2_b3c4), Some(&1));
        assert_eq!(m.get(&0xc1a2_b3c5), None);
    }
}
