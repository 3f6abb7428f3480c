//! RFC 3602 §4 AES-CBC test cases 1-4 (the CBC layer alone), RFC 4868 §2.7.2 truncated AUTH
//! test vectors through `Integ`, and the CBC + HMAC layout of `Cipher`.

use crypto::cipher::AesCbc;
use crypto::{Cipher, CryptoError, EncrAlg, EncrId, Integ, IntegId, Prf, PrfId};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

fn aes_cbc(bits: u16) -> EncrAlg {
    EncrAlg::new(EncrId::AesCbc, Some(bits))
}

#[test]
fn rfc3602_cases() {
    let cases = [
        (
            "06a9214036b8a15b512e03d534120006",
            "3dafba429d9eb430b422da802c9fac41",
            hex::encode("Single block msg"),
            "e353779c1079aeb82708942dbe77181a",
        ),
        (
            "c286696d887c9aa0611bbb3e2025a45a",
            "562e17996d093d28ddb3ba695a2e6f58",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".to_string(),
            "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1",
        ),
        (
            "6c3ea0477630ce21a2ce334aa746c2cd",
            "c782dc4c098c66cbd9cd27d825682c81",
            hex::encode("This is a 48-byte message (exactly 3 AES blocks)"),
            "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5\
             021c19216bad525c8579695d83ba2684",
        ),
        (
            "56e47a38c5598974bc46903dba290349",
            "8ce82eefbea0da3c44699ed7db51b7d9",
            "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
             c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                .to_string(),
            "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e\
             35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55",
        ),
    ];
    for (i, (key, iv, pt, ct)) in cases.into_iter().enumerate() {
        let cbc = AesCbc::new(aes_cbc(128), &unhex(key)).unwrap();
        let iv = unhex(iv);
        let mut buf = unhex(&pt);
        cbc.encrypt(&iv, &mut buf).unwrap();
        assert_eq!(hex::encode(&buf), ct, "case {}", i + 1);
        cbc.decrypt(&iv, &mut buf).unwrap();
        assert_eq!(hex::encode(&buf), pt, "case {}", i + 1);
    }
}

#[test]
fn cbc_rejects_partial_blocks_and_bad_iv() {
    let cbc = AesCbc::new(aes_cbc(256), &[7; 32]).unwrap();
    let mut buf = [0u8; 17];
    assert!(matches!(
        cbc.encrypt(&[0; 16], &mut buf),
        Err(CryptoError::BadLength(_))
    ));
    assert!(matches!(
        cbc.decrypt(&[0; 16], &mut buf),
        Err(CryptoError::BadLength(_))
    ));
    assert!(matches!(
        cbc.encrypt(&[0; 8], &mut buf[..16]),
        Err(CryptoError::BadLength(_))
    ));
    assert!(matches!(
        AesCbc::new(aes_cbc(256), &[7; 16]),
        Err(CryptoError::BadLength(_))
    ));
    assert!(matches!(
        AesCbc::new(EncrAlg::new(EncrId::AesCbc, None), &[7; 16]),
        Err(CryptoError::Unsupported(_))
    ));
}

/// One RFC 4868 AUTH case: (integ, prf, key, data, full PRF output).
type AuthCase = (IntegId, PrfId, Vec<u8>, Vec<u8>, &'static str);

/// RFC 4868 §2.7.2.1-2.7.2.3: (key, data, full PRF output; the AUTH ICV is its prefix).
#[test]
fn rfc4868_auth_vectors() {
    let data1 = b"Hi There".to_vec();
    let data2 = b"what do ya want for nothing?".to_vec();
    let cases: [AuthCase; 12] = [
        (IntegId::HmacSha2_256_128, PrfId::HmacSha2_256, vec![0x0b; 32], data1.clone(),
         "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"),
        (IntegId::HmacSha2_256_128, PrfId::HmacSha2_256, b"JefeJefeJefeJefeJefeJefeJefeJefe".to_vec(), data2.clone(),
         "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6"),
        (IntegId::HmacSha2_256_128, PrfId::HmacSha2_256, vec![0xaa; 32], vec![0xdd; 50],
         "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0"),
        (IntegId::HmacSha2_256_128, PrfId::HmacSha2_256,
         unhex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"), vec![0xcd; 50],
         "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f"),
        (IntegId::HmacSha2_384_192, PrfId::HmacSha2_384, vec![0x0b; 48], data1.clone(),
         "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc4c5df61d5b3297b4fb68dab9f1b582c2"),
        (IntegId::HmacSha2_384_192, PrfId::HmacSha2_384, b"JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe".to_vec(), data2.clone(),
         "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184da86a368e9b8e16f5349524ca4e82400cbde0686d403371c9"),
        (IntegId::HmacSha2_384_192, PrfId::HmacSha2_384, vec![0xaa; 48], vec![0xdd; 50],
         "809f439be00274321d4a538652164b53554a508184a0c3160353e3428597003d35914a18770f9443987054944b7c4b4a"),
        (IntegId::HmacSha2_384_192, PrfId::HmacSha2_384,
         unhex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f200a0b0c0d0e0f10111213141516171819"),
         vec![0xcd; 50],
         "5b540085c6e6358096532b2493609ed1cb298f774f87bb5c2ebf182c83cc7428707fb92eab2536a5812258228bc96687"),
        (IntegId::HmacSha2_512_256, PrfId::HmacSha2_512, vec![0x0b; 64], data1,
         "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b"),
        (IntegId::HmacSha2_512_256, PrfId::HmacSha2_512, b"JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe".to_vec(), data2,
         "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b154546aa334ae9fb9afc2184932d8695e397bfa0ffb93466cfcceaae38c833b7dba38"),
        (IntegId::HmacSha2_512_256, PrfId::HmacSha2_512, vec![0xaa; 64], vec![0xdd; 50],
         "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8623c7b55cebefccf02d5581acc1c9d5fb1ff68a1de45509fbe4da9a433922655"),
        // Key as corrected by the RFC 4868 erratum (the published key has a typo).
        (IntegId::HmacSha2_512_256, PrfId::HmacSha2_512,
         unhex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\
                2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40"),
         vec![0xcd; 50],
         "5e6688e5a3daec826ca32eaea224eff5e700628947470e13ad01302561bab108b8c48cbc6b807dcfbd850521a685babc7eae4a2a2e660dc0e86b931d65503fd2"),
    ];
    for (n, (integ_id, prf_id, key, data, prf_out)) in cases.into_iter().enumerate() {
        let prf = Prf::new(prf_id).unwrap();
        assert_eq!(
            hex::encode(prf.compute(&key, &[&data]).as_slice()),
            prf_out,
            "case {n}"
        );
        let integ = Integ::new(integ_id, &key).unwrap();
        let mut icv = vec![0u8; integ.icv_len()];
        integ.sign(&[&data], &mut icv).unwrap();
        assert_eq!(
            icv.len() * 4,
            prf_out.len(),
            "{integ_id}: ICV is half the hash"
        );
        assert_eq!(hex::encode(&icv), prf_out[..icv.len() * 2], "case {n}");
        integ.verify(&[&data], &icv).unwrap();
        icv[0] ^= 0x80;
        assert_eq!(
            integ.verify(&[&data], &icv),
            Err(CryptoError::IntegrityCheckFailed)
        );
    }
}

#[test]
fn integ_lengths() {
    for (id, key, icv) in [
        (IntegId::HmacSha1_96, 20, 12),
        (IntegId::HmacSha2_256_128, 32, 16),
        (IntegId::HmacSha2_384_192, 48, 24),
        (IntegId::HmacSha2_512_256, 64, 32),
    ] {
        assert_eq!(Integ::key_len(id).unwrap(), key);
        assert_eq!(Cipher::integ_key_len(id).unwrap(), key);
        assert_eq!(Integ::new(id, &vec![1; key]).unwrap().icv_len(), icv);
        assert!(matches!(
            Integ::new(id, &vec![1; key - 1]),
            Err(CryptoError::BadLength(_))
        ));
    }
    assert_eq!(Cipher::integ_key_len(IntegId::None).unwrap(), 0);
    assert!(Integ::new(IntegId::HmacMd5_96, &[0; 16]).is_err());
}

/// `Cipher` with AES-CBC: ciphertext is plain AES-CBC, ICV is the truncated HMAC over
/// aad | iv | ciphertext; open checks the ICV before decrypting and rejects any change.
#[test]
fn cipher_cbc_layout() {
    for (bits, integ_id) in [
        (128, IntegId::HmacSha1_96),
        (192, IntegId::HmacSha2_256_128),
        (256, IntegId::HmacSha2_384_192),
        (128, IntegId::HmacSha2_512_256),
    ] {
        let encr = aes_cbc(bits);
        let ek: Vec<u8> = (0..Cipher::encr_keymat_len(encr).unwrap() as u8).collect();
        let ik: Vec<u8> = (100..100 + Cipher::integ_key_len(integ_id).unwrap() as u8).collect();
        let cipher = Cipher::new(encr, Some(integ_id), &ek, &ik).unwrap();
        assert_eq!((cipher.iv_len(), cipher.block_len()), (16, 16));
        let aad = b"SPI.SEQ.".as_slice();
        let iv = [0x5a; 16];
        let pt: Vec<u8> = (0..48).collect();
        let mut buf = pt.clone();
        let mut icv = vec![0u8; cipher.icv_len()];
        cipher.seal(aad, &iv, &mut buf, &mut icv).unwrap();

        let mut want_ct = pt.clone();
        AesCbc::new(encr, &ek)
            .unwrap()
            .encrypt(&iv, &mut want_ct)
            .unwrap();
        assert_eq!(buf, want_ct);
        let integ = Integ::new(integ_id, &ik).unwrap();
        let mut want_icv = vec![0u8; integ.icv_len()];
        let mut whole = aad.to_vec();
        whole.extend_from_slice(&iv);
        whole.extend_from_slice(&buf);
        integ.sign(&[&whole], &mut want_icv).unwrap();
        assert_eq!(icv, want_icv);

        // Any flipped bit in aad, iv, ciphertext or ICV is rejected, and buf is left as it was
        // (the ICV is checked before decrypting).
        let mut bad_aad = aad.to_vec();
        bad_aad[0] ^= 1;
        assert_eq!(
            cipher.open(&bad_aad, &iv, &mut buf, &icv),
            Err(CryptoError::IntegrityCheckFailed)
        );
        assert_eq!(buf, want_ct);
        let mut bad_iv = iv;
        bad_iv[15] ^= 1;
        assert_eq!(
            cipher.open(aad, &bad_iv, &mut buf, &icv),
            Err(CryptoError::IntegrityCheckFailed)
        );
        let mut bad_icv = icv.clone();
        *bad_icv.last_mut().unwrap() ^= 1;
        assert_eq!(
            cipher.open(aad, &iv, &mut buf, &bad_icv),
            Err(CryptoError::IntegrityCheckFailed)
        );
        buf[47] ^= 1;
        assert_eq!(
            cipher.open(aad, &iv, &mut buf, &icv),
            Err(CryptoError::IntegrityCheckFailed)
        );
        buf[47] ^= 1;
        assert_eq!(buf, want_ct);

        cipher.open(aad, &iv, &mut buf, &icv).unwrap();
        assert_eq!(buf, pt);
    }
}

#[test]
fn cipher_new_argument_checks() {
    let gcm = EncrAlg::new(EncrId::AesGcm16, Some(256));
    let cbc = aes_cbc(128);
    assert_eq!(Cipher::encr_keymat_len(gcm).unwrap(), 36);
    assert_eq!(
        Cipher::encr_keymat_len(EncrAlg::new(EncrId::AesGcm16, Some(128))).unwrap(),
        20
    );
    assert_eq!(
        Cipher::encr_keymat_len(EncrAlg::new(EncrId::ChaCha20Poly1305, None)).unwrap(),
        36
    );
    assert_eq!(Cipher::encr_keymat_len(cbc).unwrap(), 16);
    assert!(Cipher::is_aead(gcm) && !Cipher::is_aead(cbc));
    assert!(Cipher::new(gcm, Some(IntegId::HmacSha2_256_128), &[0; 36], &[0; 32]).is_err());
    assert!(Cipher::new(gcm, Some(IntegId::None), &[0; 36], &[]).is_ok());
    assert!(matches!(
        Cipher::new(gcm, None, &[0; 32], &[]),
        Err(CryptoError::BadLength(_))
    ));
    assert!(Cipher::new(cbc, None, &[0; 16], &[]).is_err());
    assert!(Cipher::new(cbc, Some(IntegId::HmacSha2_256_128), &[0; 16], &[0; 31]).is_err());
    assert!(Cipher::encr_keymat_len(EncrAlg::new(EncrId::AesGcm16, Some(100))).is_err());
    assert!(Cipher::encr_keymat_len(EncrAlg::new(EncrId::TripleDes, None)).is_err());

    let c = Cipher::new(gcm, None, &[0; 36], &[]).unwrap();
    let mut buf = [0u8; 4];
    let mut icv = [0u8; 16];
    assert!(matches!(
        c.seal(&[], &[0; 7], &mut buf, &mut icv),
        Err(CryptoError::BadLength(_))
    ));
    assert!(matches!(
        c.seal(&[], &[0; 8], &mut buf, &mut icv[..12]),
        Err(CryptoError::BadLength(_))
    ));
    let c = Cipher::new(cbc, Some(IntegId::HmacSha1_96), &[0; 16], &[0; 20]).unwrap();
    let mut icv = [0u8; 12];
    assert!(matches!(
        c.seal(&[], &[0; 16], &mut buf, &mut icv),
        Err(CryptoError::BadLength(_))
    ));
    assert!(matches!(
        c.open(&[], &[0; 16], &mut buf, &icv),
        Err(CryptoError::BadLength(_))
    ));
    assert!(!format!("{c:?}").contains('0'));
}

/// Wycheproof AES-CBC-PKCS5 through the raw CBC layer (128, 192 and 256-bit keys). Padding is
/// the caller's job in IPsec, so the test pads (PKCS #5) itself: valid cases must encrypt to the
/// expected ciphertext and decrypt back; invalid cases (bad padding) must not decrypt to a
/// correctly padded message.
#[test]
fn wycheproof_aes_cbc() {
    use wycheproof::cipher::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::AesCbcPkcs5).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        let encr = aes_cbc(u16::try_from(group.key_size).unwrap());
        for t in &group.tests {
            let cbc = AesCbc::new(encr, &t.key).unwrap();
            let mut buf = t.ct.to_vec();
            let decrypted = cbc.decrypt(&t.nonce, &mut buf);
            let unpadded = decrypted.ok().and_then(|()| {
                let pad = usize::from(*buf.last()?);
                let ok = (1..=16).contains(&pad)
                    && pad <= buf.len()
                    && buf[buf.len() - pad..]
                        .iter()
                        .all(|b| usize::from(*b) == pad);
                ok.then(|| buf[..buf.len() - pad].to_vec())
            });
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(unpadded.as_deref(), Some(&t.pt[..]), "tc {}", t.tc_id);
                    let pad = 16 - t.pt.len() % 16;
                    let mut p = t.pt.to_vec();
                    p.resize(t.pt.len() + pad, u8::try_from(pad).unwrap());
                    cbc.encrypt(&t.nonce, &mut p).unwrap();
                    assert_eq!(&p[..], &t.ct[..], "tc {}", t.tc_id);
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert_ne!(unpadded.as_deref(), Some(&t.pt[..]), "tc {}", t.tc_id);
                    invalid += 1;
                }
            }
        }
    }
    assert!(
        valid >= 72 && invalid >= 100,
        "{valid} valid, {invalid} invalid"
    );
}
