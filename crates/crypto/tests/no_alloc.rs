//! `Cipher::seal` and `Cipher::open` run per ESP packet: they must not allocate. The
//! `allocation-counter` crate's global allocator counts this thread's allocations.

use crypto::{Cipher, EncrAlg, EncrId, IntegId};

#[test]
fn seal_and_open_do_not_allocate() {
    let suites = [
        (EncrAlg::new(EncrId::AesGcm16, Some(128)), None),
        (EncrAlg::new(EncrId::AesGcm16, Some(256)), None),
        (EncrAlg::new(EncrId::ChaCha20Poly1305, None), None),
        (
            EncrAlg::new(EncrId::AesCbc, Some(128)),
            Some(IntegId::HmacSha1_96),
        ),
        (
            EncrAlg::new(EncrId::AesCbc, Some(256)),
            Some(IntegId::HmacSha2_512_256),
        ),
        (
            EncrAlg::new(EncrId::Null, None),
            Some(IntegId::HmacSha2_256_128),
        ),
    ];
    for (encr, integ) in suites {
        let ek = vec![0x11; Cipher::encr_keymat_len(encr).unwrap()];
        let ik = vec![0x22; integ.map_or(0, |i| Cipher::integ_key_len(i).unwrap())];
        let c = Cipher::new(encr, integ, &ek, &ik).unwrap();
        let aad = [0u8; 8];
        let iv = vec![3u8; c.iv_len()];
        let mut buf = vec![0x5a; 1408];
        let mut icv = vec![0u8; c.icv_len()];
        let mut results = [Ok(()), Ok(()), Ok(())];
        let info = allocation_counter::measure(|| {
            results[0] = c.seal(&aad, &iv, &mut buf, &mut icv);
            results[1] = c.open(&aad, &iv, &mut buf, &icv);
            icv[0] ^= 1;
            results[2] = c.open(&aad, &iv, &mut buf, &icv);
        });
        assert_eq!(info.count_total, 0, "{encr}: allocations in seal/open");
        assert!(results[0].is_ok() && results[1].is_ok() && results[2].is_err());
        // The measurement is live: an allocation inside `measure` is counted.
        let info = allocation_counter::measure(|| drop(std::hint::black_box(vec![0u8; 16])));
        assert_eq!(info.count_total, 1);
    }
}
