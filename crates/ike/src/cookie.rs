//! Stateless cookies against IKE_SA_INIT floods (RFC 7296 §2.6).
//!
//! Cookie = version | HMAC-SHA-256(secret, Ni | IPi | SPIi) truncated to 16 octets; the secret is
//! replaced every `COOKIE_LIFETIME`, and cookies made with the previous secret are still accepted,
//! so an initiator caught by a rotation does not fail.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crypto::{Prf, PrfId, Random};

/// How long one secret is used.
const COOKIE_LIFETIME: Duration = Duration::from_secs(120);

pub(crate) struct Cookies {
    secret: [u8; 32],
    previous: Option<[u8; 32]>,
    version: u8,
    rotated_at: Option<Instant>,
}

impl core::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Cookies(<secret>)")
    }
}

fn mac(secret: &[u8; 32], version: u8, ni: &[u8], ip: IpAddr, spi_i: u64) -> Option<Vec<u8>> {
    let prf = Prf::new(PrfId::HmacSha2_256).ok()?;
    let ip: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let t = prf.compute(secret, &[ni, &ip, &spi_i.to_be_bytes()]);
    let mut c = vec![version];
    c.extend_from_slice(t.as_slice().get(..16)?);
    Some(c)
}

impl Cookies {
    pub fn new(rng: &mut dyn Random) -> Self {
        let mut secret = [0u8; 32];
        rng.fill(&mut secret);
        Self {
            secret,
            previous: None,
            version: 0,
            rotated_at: None,
        }
    }

    /// Replaces the secret when it is older than its lifetime.
    pub fn rotate(&mut self, now: Instant, rng: &mut dyn Random) {
        match self.rotated_at {
            None => self.rotated_at = Some(now),
            Some(t) if now.saturating_duration_since(t) >= COOKIE_LIFETIME => {
                self.previous = Some(self.secret);
                rng.fill(&mut self.secret);
                self.version = self.version.wrapping_add(1);
                self.rotated_at = Some(now);
            }
            Some(_) => {}
        }
    }

    /// The cookie for this initiator.
    pub fn make(&self, ni: &[u8], ip: IpAddr, spi_i: u64) -> Vec<u8> {
        mac(&self.secret, self.version, ni, ip, spi_i).unwrap_or_default()
    }

    /// True when `cookie` was made by us (current or previous secret) for this initiator.
    pub fn verify(&self, cookie: &[u8], ni: &[u8], ip: IpAddr, spi_i: u64) -> bool {
        let Some(&v) = cookie.first() else {
            return false;
        };
        let secret = if v == self.version {
            Some(&self.secret)
        } else if v == self.version.wrapping_sub(1) {
            self.previous.as_ref()
        } else {
            None
        };
        secret
            .and_then(|s| mac(s, v, ni, ip, spi_i))
            .is_some_and(|want| crypto::ct_eq(&want, cookie))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::DeterministicRandom;

    #[test]
    fn cookies_verify_and_rotate() {
        let mut rng = DeterministicRandom::new(3);
        let mut c = Cookies::new(&mut rng);
        let t0 = Instant::now();
        c.rotate(t0, &mut rng);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let k = c.make(b"nonce-nonce-nonce", ip, 7);
        assert!(c.verify(&k, b"nonce-nonce-nonce", ip, 7));
        assert!(!c.verify(&k, b"nonce-nonce-nonce", ip, 8));
        assert!(!c.verify(&k, b"other-nonce-nonce", ip, 7));
        assert!(!c.verify(&k, b"nonce-nonce-nonce", "192.0.2.2".parse().unwrap(), 7));
        c.rotate(t0 + COOKIE_LIFETIME, &mut rng);
        assert!(
            c.verify(&k, b"nonce-nonce-nonce", ip, 7),
            "previous secret still accepted"
        );
        c.rotate(t0 + 2 * COOKIE_LIFETIME, &mut rng);
        assert!(
            !c.verify(&k, b"nonce-nonce-nonce", ip, 7),
            "two rotations later it is not"
        );
        assert!(!c.verify(&[], b"n", ip, 7));
    }
}
