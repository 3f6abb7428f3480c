//! Our IKEv2 key schedule against strongSwan's. prf+, SKEYSEED, SK_* and Child SA KEYMAT
//! (RFC 7296 §2.13, §2.14, §2.17) have no published test vectors, so these values were captured
//! from two strongSwan 5.9.8 charons (Debian 12 package 5.9.8-5+deb12u6) negotiating with each
//! other in network namespaces, with charon's `ike`/`chd` log level at 4, by
//! `tests/capture/capture-vectors.sh` (see its header for the method). Both charons' logs agreed
//! on every value. SPIs are from `swanctl --list-sas`; Ni | Nr is the Child SA KEYMAT seed that
//! charon logs (no PFS, so the seed is exactly Ni | Nr; strongSwan's nonces are 32 bytes each).
//!
//! If these pass, an IKE SA and its first Child SA keyed by us interoperate with strongSwan.

use crypto::kdf::{child_keymat, ike_keys, skeyseed};
use crypto::{Cipher, EncrAlg, EncrId, IntegId, Prf, PrfId};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

/// One captured IKE SA with its first Child SA (hex).
struct Capture {
    ike_encr: EncrAlg,
    ike_integ: IntegId,
    esp_encr: EncrAlg,
    esp_integ: IntegId,
    spi_i: u64,
    spi_r: u64,
    ni_nr: &'static str,
    g_ir: &'static str,
    skeyseed: &'static str,
    sk_d: &'static str,
    sk_ai: &'static str,
    sk_ar: &'static str,
    sk_ei: &'static str,
    sk_er: &'static str,
    sk_pi: &'static str,
    sk_pr: &'static str,
    child_encr_i: &'static str,
    child_integ_i: &'static str,
    child_encr_r: &'static str,
    child_integ_r: &'static str,
}

/// IKE aes256gcm16-prfsha256-x25519, ESP aes256gcm16.
const GCM: Capture = Capture {
    ike_encr: EncrAlg::new(EncrId::AesGcm16, Some(256)),
    ike_integ: IntegId::None,
    esp_encr: EncrAlg::new(EncrId::AesGcm16, Some(256)),
    esp_integ: IntegId::None,
    spi_i: 0x53d3_4cbc_a9a0_2f10,
    spi_r: 0x8dfb_1f1b_c42f_e52d,
    ni_nr: "d2f11f8f6da1ee639baea493c41a23f138c12b106e1ac7d24d1122737a43a9ec\
            24b4a085ea8c192900021265aed6ced2968400a6a0eb052db5745b350692ede2",
    g_ir: "672bf165f1a3144c1380f20c55c2026b01dda363af72ae6b08e9ec6fae51402a",
    skeyseed: "cc038398b1eb378a16398ce1fb561305f772616c2fd14c6815d4dbf32c1baefd",
    sk_d: "2721560235643acd9e9184b6e79078f42592cecfb967167c46ae25c03576cc14",
    sk_ai: "",
    sk_ar: "",
    sk_ei: "9ed32ceb53dfba2d10b4a23ed92e4a65f350341c98e03f96f3dc84daac3e9a492e47b875",
    sk_er: "3a884bd3235cceaf963c91587f0ab9616be94dba1356f88a243137bfec35249acd8ca3dd",
    sk_pi: "9ca4815a77ad1d0e4f37528ae68892c0444e602d6e7a0018018365cc5d6c814e",
    sk_pr: "b233e52ac2927fdb98cb9117e1be942368668269fdf665346960acec94356361",
    child_encr_i: "c24c4c5ccd8303951e7c97cd6d51373aab93ab6f4b651ff63b93cf890076c00b6c2cb54d",
    child_integ_i: "",
    child_encr_r: "196cb9866f5ed83a8550acc37817d935ff2a902b47b3b36cc6ca76cf028be42ef0bc8183",
    child_integ_r: "",
};

/// IKE aes128-sha256-ecp256 (PRF derived: prfsha256), ESP aes128-sha256.
const CBC: Capture = Capture {
    ike_encr: EncrAlg::new(EncrId::AesCbc, Some(128)),
    ike_integ: IntegId::HmacSha2_256_128,
    esp_encr: EncrAlg::new(EncrId::AesCbc, Some(128)),
    esp_integ: IntegId::HmacSha2_256_128,
    spi_i: 0x8360_2f7d_64a7_34e3,
    spi_r: 0x262d_95f3_b0ff_a02d,
    ni_nr: "941c1157aca24595b6a1fd219db9a34ddaac2ce1e1fe8ab5be3e3c5a2cf4749b\
            912b60c81189b338ca4b6a26abacbf29570abd860ec4bc15e5185759872f8b68",
    g_ir: "da373d5be3744482d8c340937f855cc72ab5bcd0b5016c68d900d7ab0707ef98",
    skeyseed: "63434541bc547d7a87ee88fce3c4b6ee84b23035d25c212c206c1a48f46c9566",
    sk_d: "95f4d5e7a9321099560cab607010e0873dc3c531e35e6e199b0262935bcf49fb",
    sk_ai: "397aa66ee501c6d98c849b7bf1337d4ff453d5d07f4df12a224ddd6ca1f6cc4e",
    sk_ar: "ca6d08baeee52b06cb759e56d16151002a2d0878fb2361a46f4d2ee5ee39d2eb",
    sk_ei: "f20d1d6054ac6ef9fcf698ee6872e989",
    sk_er: "375b3f2c4ab61d0281e9d3c4f48d6c89",
    sk_pi: "b596b96a24ad0e3427ca7c36f32454f85dfd945b94832faad1055e1383d4fb4a",
    sk_pr: "f9d583f84a12a236255d2131a286a1073491d774a40f398cb7f1174cede14285",
    child_encr_i: "c56e85e2e584f2581f58c1e3372c7999",
    child_integ_i: "5ca0737ddd8661bdb80ce9ba36011d99785ada2a3b1439fb5de98daab80548e8",
    child_encr_r: "fbd7a04db52e5a0ad45831b89542f995",
    child_integ_r: "2a69c8b634ae021104c5efb5fa39ac7a96b9f3be5985b6631ac0922084dc8cfa",
};

/// IKE aes128-sha256-modp2048 (PRF derived: prfsha256), ESP aes128-sha256. g^ir is 256 bytes:
/// the MODP-2048 shared secret, zero-padded to the modulus length (RFC 7296 §3.4).
const MODP: Capture = Capture {
    ike_encr: EncrAlg::new(EncrId::AesCbc, Some(128)),
    ike_integ: IntegId::HmacSha2_256_128,
    esp_encr: EncrAlg::new(EncrId::AesCbc, Some(128)),
    esp_integ: IntegId::HmacSha2_256_128,
    spi_i: 0x1c69_a7bf_e184_2c86,
    spi_r: 0x3771_ca71_c705_4f25,
    ni_nr: "72fc9a9aa3cfbbbcc6edc0e5a2c8c37d1c16f8a78e6fe0e5b995d59d1bd538ca3282110357576201011ffb88115e917a7c7da5727554b05e2c4a1f75e7268beb\
            ",
    g_ir: "1ab47cf2c2eeecaa2fecc3fca88cb8ee89fce3818ce77939cd91cc349fe2f776\
           69cf3c1b7017580d360b4f3eb5b85f7f8e4356cd3f5dac6f44f824258fca9600\
           c98d4886aa8c19d368efbea658ea671bbd5276168fb80cfab2debe933547a441\
           76d369535b3662ba956891c2f93dc1a32a5399a8b1769a8e9d8793462b78a6ca\
           3702a740b8155b035817be30d61506adcb7c2db32ba1a6bd82dc871a405ffbb8\
           ae3cb92f2874fdcf78cc77f500e7675cbb81356113fb4b9b0f83cd341c5757f5\
           6bc859abb2e4c64667e4db591b05d16394befdf4b65068f314480c9b2f057a2e\
           52c04d7891c2dfd3f7ba969a80acddb40fb15a4fbfa6e02107610ee205d79dae",
    skeyseed: "988a42079f7bf2f16e49b699538fac808d0e2885f82dc6153a7d1015c562bb07",
    sk_d: "18ddd3aac63f7ab66ec24df00b2ffaaf5335c4ded7721057f67b42bdf846c12c",
    sk_ai: "a2c5a02f8f44f0c1fdd02cfeccf866cce8c260aa85c47dadda63d05ec3bb5d54",
    sk_ar: "803227af385238cab96c59ba72f6271548b504c51c63b1c549d21b62b8186e41",
    sk_ei: "f29309d6cb93e46fe7b10057424122c3",
    sk_er: "5f61cc7fea0fc849eb66161c2637b13f",
    sk_pi: "2183cdbd4c9d1e5b23e0d6eedbff3fad78968efafa6b0c3b973414c726d7292c",
    sk_pr: "b33b174bc3230890bb1eaea4fb55e6cc8d8c3556a22161ae1fa00e94693121d8",
    child_encr_i: "f78d2a86503bf4f455d9118ca3bd4456",
    child_integ_i: "4eeb87d8250fb3f94c363eb20a3ba57d68f7d78262ed8c295be77400e05dc226",
    child_encr_r: "91be88ec6eb35e9f7fdb31404a0a1d04",
    child_integ_r: "166e67af642bccdbc3110d1ad71f6a83ee57105c14e058a56c8979c235cf6028",
};

fn check(c: &Capture) {
    let prf = Prf::new(PrfId::HmacSha2_256).unwrap();
    let ni_nr = unhex(c.ni_nr);
    let (ni, nr) = ni_nr.split_at(32);

    let seed = skeyseed(prf, ni, nr, &unhex(c.g_ir));
    assert_eq!(hex::encode(seed.as_slice()), c.skeyseed, "SKEYSEED");

    let encr_len = Cipher::encr_keymat_len(c.ike_encr).unwrap();
    let integ_len = Cipher::integ_key_len(c.ike_integ).unwrap();
    let keys = ike_keys(
        prf,
        seed.as_slice(),
        ni,
        nr,
        c.spi_i,
        c.spi_r,
        encr_len,
        integ_len,
    )
    .unwrap();
    for (name, got, want) in [
        ("SK_d", &keys.sk_d, c.sk_d),
        ("SK_ai", &keys.sk_ai, c.sk_ai),
        ("SK_ar", &keys.sk_ar, c.sk_ar),
        ("SK_ei", &keys.sk_ei, c.sk_ei),
        ("SK_er", &keys.sk_er, c.sk_er),
        ("SK_pi", &keys.sk_pi, c.sk_pi),
        ("SK_pr", &keys.sk_pr, c.sk_pr),
    ] {
        assert_eq!(hex::encode(got.as_slice()), want, "{name}");
    }

    // KEYMAT = prf+(SK_d, Ni | Nr): encr_i | integ_i | encr_r | integ_r (RFC 7296 §2.17).
    let e = Cipher::encr_keymat_len(c.esp_encr).unwrap();
    let i = Cipher::integ_key_len(c.esp_integ).unwrap();
    let mut keymat = child_keymat(prf, keys.sk_d.as_slice(), None, ni, nr, 2 * (e + i)).unwrap();
    for (name, len, want) in [
        ("encr_i", e, c.child_encr_i),
        ("integ_i", i, c.child_integ_i),
        ("encr_r", e, c.child_encr_r),
        ("integ_r", i, c.child_integ_r),
    ] {
        assert_eq!(
            hex::encode(keymat.take_front(len).as_slice()),
            want,
            "child {name}"
        );
    }
    assert!(keymat.is_empty());

    // The keys are usable by our Cipher with strongSwan's lengths.
    let integ = (c.esp_integ != IntegId::None).then_some(c.esp_integ);
    Cipher::new(
        c.esp_encr,
        integ,
        &unhex(c.child_encr_i),
        &unhex(c.child_integ_i),
    )
    .unwrap();
}

#[test]
fn strongswan_aes256gcm16_prfsha256_x25519() {
    check(&GCM);
}

#[test]
fn strongswan_aes128_sha256_ecp256() {
    check(&CBC);
}

#[test]
fn strongswan_aes128_sha256_modp2048() {
    assert_eq!(unhex(MODP.g_ir).len(), 256);
    check(&MODP);
}

/// The nonce split does not matter for HMAC PRFs (only Ni | Nr is used), but SPI order and the
/// key order do: swapping them must break the match, so the test above is not vacuous.
#[test]
fn swapped_spis_do_not_match() {
    let prf = Prf::new(PrfId::HmacSha2_256).unwrap();
    let ni_nr = unhex(GCM.ni_nr);
    let (ni, nr) = ni_nr.split_at(32);
    let keys = ike_keys(
        prf,
        &unhex(GCM.skeyseed),
        ni,
        nr,
        GCM.spi_r,
        GCM.spi_i,
        36,
        0,
    )
    .unwrap();
    assert_ne!(hex::encode(keys.sk_d.as_slice()), GCM.sk_d);
}
