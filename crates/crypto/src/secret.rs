//! Zeroizing containers for key material and constant-time comparison.

use zeroize::Zeroizing;

/// Secret bytes: zeroized on drop, never printed (`Debug` shows only the length).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `v`.
    pub fn new(v: Vec<u8>) -> Self {
        Self(Zeroizing::new(v))
    }
    /// Copies `s`.
    pub fn from_slice(s: &[u8]) -> Self {
        Self::new(s.to_vec())
    }
    /// A zero-filled secret of `len` bytes.
    pub fn zeroed(len: usize) -> Self {
        Self::new(vec![0; len])
    }
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
    /// The bytes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Splits off the first `n` bytes into a new secret, leaving the rest (key-material split,
    /// RFC 7296 §2.14). Panics never: `n` is clamped to the length.
    pub fn take_front(&mut self, n: usize) -> SecretBytes {
        let n = n.min(self.0.len());
        let front = self.0[..n].to_vec();
        let rest = self.0[n..].to_vec();
        self.0 = Zeroizing::new(rest);
        SecretBytes::new(front)
    }
}

impl core::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

impl AsRef<[u8]> for SecretBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
