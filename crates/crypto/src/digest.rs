//! Plain hash functions where a protocol needs one outside a PRF: SHA-1 for NAT detection
//! (RFC 7296 §2.23).

/// SHA-1 over the concatenation of `parts` (RFC 7296 §2.23 NAT_DETECTION_*_IP data).
pub fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    for p in parts {
        ctx.update(p);
    }
    let d = ctx.finish();
    let mut out = [0u8; 20];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha1_abc() {
        // FIPS 180-2 appendix A.1.
        let d = super::sha1(&[b"a", b"bc"]);
        assert_eq!(
            d.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
