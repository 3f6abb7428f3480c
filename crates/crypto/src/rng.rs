//! Injected randomness. The protocol engines never draw randomness of their own: they are handed
//! a [`Random`], so tests can be deterministic.

/// A source of random bytes.
pub trait Random: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

/// The operating system's CSPRNG, through aws-lc-rs. Use this in production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        // aws-lc-rs's RNG is infallible in practice; a failure here means the process cannot
        // produce keys at all, so aborting is the only safe reaction.
        aws_lc_rs::rand::fill(buf).expect("system RNG failed");
    }
}

/// A deterministic generator for tests and simulations, seeded by the caller.
/// NOT cryptographically secure in any useful sense: the seed is the whole secret.
#[derive(Debug, Clone)]
pub struct DeterministicRandom {
    state: [u8; 32],
    counter: u64,
}

impl DeterministicRandom {
    /// A generator whose output depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        let mut state = [0u8; 32];
        state[..8].copy_from_slice(&seed.to_be_bytes());
        Self { state, counter: 0 }
    }
}

impl Random for DeterministicRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        use aws_lc_rs::hmac;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.state);
        for chunk in buf.chunks_mut(32) {
            self.counter += 1;
            let block = hmac::sign(&key, &self.counter.to_be_bytes());
            chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        }
    }
}
