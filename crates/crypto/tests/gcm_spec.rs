//! AES-GCM test cases from McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)",
//! Appendix B, through the `Cipher` API. Our nonce is salt(4) | iv(8), so each 96-bit test IV
//! splits into the salt (appended to the key material) and the explicit IV. Test cases 5, 6,
//! 11, 12, 17 and 18 use 64-bit or 480-bit IVs and cannot be expressed in RFC 4106's layout.

use crypto::{Cipher, CryptoError, EncrAlg, EncrId};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

const K_FEFF: &str = "feffe9928665731c6d6a8f9467308308";
const P64: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                   1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const P60: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                   1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const A20: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const IV_CAFE: &str = "cafebabefacedbaddecaf888";
const IV_ZERO: &str = "000000000000000000000000";

/// Seals `p` and checks ciphertext and tag, then opens it back and checks a flipped tag bit
/// is rejected.
fn check(bits: u16, key: &str, iv: &str, p: &str, a: &str, c: &str, t: &str) {
    let encr = EncrAlg::new(EncrId::AesGcm16, Some(bits));
    let iv = unhex(iv);
    let (salt, explicit_iv) = iv.split_at(4);
    let mut keymat = unhex(key);
    keymat.extend_from_slice(salt);
    assert_eq!(keymat.len(), Cipher::encr_keymat_len(encr).unwrap());
    let cipher = Cipher::new(encr, None, &keymat, &[]).unwrap();
    assert_eq!(
        (cipher.iv_len(), cipher.icv_len(), cipher.block_len()),
        (8, 16, 1)
    );

    let aad = unhex(a);
    let mut buf = unhex(p);
    let mut icv = [0u8; 16];
    cipher.seal(&aad, explicit_iv, &mut buf, &mut icv).unwrap();
    assert_eq!(hex::encode(&buf), c);
    assert_eq!(hex::encode(icv), t);

    cipher.open(&aad, explicit_iv, &mut buf, &icv).unwrap();
    assert_eq!(hex::encode(&buf), p);

    cipher.seal(&aad, explicit_iv, &mut buf, &mut icv).unwrap();
    icv[15] ^= 1;
    assert_eq!(
        cipher.open(&aad, explicit_iv, &mut buf, &icv),
        Err(CryptoError::IntegrityCheckFailed)
    );
}

#[test]
fn test_case_2() {
    check(
        128,
        "00000000000000000000000000000000",
        IV_ZERO,
        "00000000000000000000000000000000",
        "",
        "0388dace60b6a392f328c2b971b2fe78",
        "ab6e47d42cec13bdf53a67b21257bddf",
    );
}

#[test]
fn test_case_3() {
    check(
        128,
        K_FEFF,
        IV_CAFE,
        P64,
        "",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
        "4d5c2af327cd64a62cf35abd2ba6fab4",
    );
}

#[test]
fn test_case_4() {
    check(
        128,
        K_FEFF,
        IV_CAFE,
        P60,
        A20,
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
        "5bc94fbc3221a5db94fae95ae7121a47",
    );
}

#[test]
fn test_case_8_aes192() {
    check(
        192,
        "000000000000000000000000000000000000000000000000",
        IV_ZERO,
        "00000000000000000000000000000000",
        "",
        "98e7247c07f0fe411c267e4384b0f600",
        "2ff58d80033927ab8ef4d4587514f0fb",
    );
}

#[test]
fn test_case_13() {
    check(
        256,
        "0000000000000000000000000000000000000000000000000000000000000000",
        IV_ZERO,
        "",
        "",
        "",
        "530f8afbc74536b9a963b4f1c4cb738b",
    );
}

#[test]
fn test_case_14() {
    check(
        256,
        "0000000000000000000000000000000000000000000000000000000000000000",
        IV_ZERO,
        "00000000000000000000000000000000",
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    );
}

#[test]
fn test_case_15() {
    check(
        256,
        &format!("{K_FEFF}{K_FEFF}"),
        IV_CAFE,
        P64,
        "",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
         8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        "b094dac5d93471bdec1a502270e3cc6c",
    );
}

#[test]
fn test_case_16() {
    check(
        256,
        &format!("{K_FEFF}{K_FEFF}"),
        IV_CAFE,
        P60,
        A20,
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
         8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        "76fc6ece0f4e1768cddf8853bb2d551b",
    );
}
