//! Property tests: the accelerated path gives the portable path's results
//! for random keys, lengths and splits; cross-checks against other
//! RustCrypto implementations; upstream's error codes for bad input.

extern crate std;

use super::{Prng, TEST_ACCEL, paths};
use crate::ids::*;
use crate::{TeeResult, ae, cipher, hash, mac};
use std::boxed::Box;
use std::vec;
use std::vec::Vec;

const ACC: Option<&'static dyn crate::accel::Accel> = Some(&TEST_ACCEL);

#[allow(clippy::too_many_arguments)]
fn cipher_all(
    a: u32,
    enc: bool,
    k1: &[u8],
    k2: Option<&[u8]>,
    iv: &[u8],
    p: Option<&'static dyn crate::accel::Accel>,
    d: &[u8],
    cuts: &[usize],
) -> Vec<u8> {
    let mut c = cipher::new_with(a, enc, k1, k2, iv, p).unwrap();
    let mut d = d.to_vec();
    let mut at = 0;
    for (i, &cut) in cuts.iter().enumerate() {
        if i + 1 == cuts.len() {
            c.finish(&mut d[at..cut]).unwrap();
        } else {
            c.update(&mut d[at..cut]).unwrap();
        }
        at = cut;
    }
    d
}

#[test]
fn aes_modes_accel_equals_portable() {
    let mut rng = Prng::new(11);
    for i in 0..300 {
        let klen = [16, 24, 32][i % 3];
        let key = rng.bytes(klen);
        let key2 = rng.bytes(klen);
        let iv = rng.bytes(16);
        for a in [ALG_AES_ECB_NOPAD, ALG_AES_CBC_NOPAD, ALG_AES_CTR, ALG_AES_CTS, ALG_AES_XTS] {
            let len = match a {
                ALG_AES_ECB_NOPAD | ALG_AES_CBC_NOPAD => 16 * rng.below(80),
                ALG_AES_CTS => 17 + rng.below(1200),
                ALG_AES_XTS => 16 + rng.below(1200),
                _ => rng.below(1300),
            };
            let data = rng.bytes(len);
            // Update in whole blocks, the rest (CTR: anything) in finish.
            let unit = if a == ALG_AES_CTR { 1 } else { 16 };
            let tail = match a {
                ALG_AES_CTS | ALG_AES_XTS => 16 + len % 16 + if a == ALG_AES_CTS && len % 16 == 0 { 16 } else { 0 },
                _ => 0,
            }
            .min(len);
            let mut cuts = rng.splits(len - tail, unit);
            cuts.push(len);
            cuts.dedup();
            let k2 = if a == ALG_AES_XTS { Some(&key2[..]) } else { None };
            let ivv: &[u8] = if a == ALG_AES_ECB_NOPAD { &[] } else { &iv };
            let soft = cipher_all(a, true, &key, k2, ivv, None, &data, &[len]);
            let fast = cipher_all(a, true, &key, k2, ivv, ACC, &data, &cuts);
            assert_eq!(soft, fast, "alg {a:#x} len {len}");
            let back = cipher_all(a, false, &key, k2, ivv, ACC, &fast, &cuts);
            assert_eq!(back, data, "alg {a:#x} len {len} decrypt");
            let back = cipher_all(a, false, &key, k2, ivv, None, &fast, &[len]);
            assert_eq!(back, data);
        }
    }
}

#[test]
fn digests_and_hmac_accel_equals_portable_and_hmac_crate() {
    use hmac::{KeyInit, Mac as _};
    let mut rng = Prng::new(12);
    for i in 0..200 {
        let len = rng.below(3000);
        let data = rng.bytes(len);
        let key_len = rng.below(200);
        let key = rng.bytes(key_len);
        for a in [ALG_SHA1, ALG_SHA224, ALG_SHA256] {
            let mut outs = Vec::new();
            for p in paths() {
                let mut h = hash::new_with(a, p).unwrap();
                let mut at = 0;
                for c in rng.splits(len, 1) {
                    h.update(&data[at..c]);
                    at = c;
                }
                let mut o = vec![0u8; h.out_len()];
                h.finish(&mut o);
                outs.push(o);
            }
            assert_eq!(outs[0], outs[1]);
        }
        let want: Vec<u8> = match i % 3 {
            0 => hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
                .unwrap()
                .chain_update(&data)
                .finalize()
                .into_bytes()
                .to_vec(),
            1 => hmac::Hmac::<sha1::Sha1>::new_from_slice(&key)
                .unwrap()
                .chain_update(&data)
                .finalize()
                .into_bytes()
                .to_vec(),
            _ => hmac::SimpleHmac::<sha3::Sha3_224>::new_from_slice(&key)
                .unwrap()
                .chain_update(&data)
                .finalize()
                .into_bytes()
                .to_vec(),
        };
        let a = [ALG_HMAC_SHA256, ALG_HMAC_SHA1, ALG_HMAC_SHA3_224][i % 3];
        for p in paths() {
            let mut m = mac::new_with(a, &key, p).unwrap();
            m.update(&data).unwrap();
            let mut o = vec![0u8; m.out_len()];
            m.finish(&mut o).unwrap();
            assert_eq!(o, want, "key len {} data len {len}", key.len());
        }
    }
}

#[test]
fn cmac_and_cbc_mac_accel_equals_portable_and_cmac_crate() {
    use cmac::{KeyInit, Mac as _};
    let mut rng = Prng::new(13);
    for _ in 0..200 {
        let key = rng.bytes(16);
        let data_len = rng.below(700);
        let data = rng.bytes(data_len);
        let want = cmac::Cmac::<aes::Aes128>::new_from_slice(&key)
            .unwrap()
            .chain_update(&data)
            .finalize()
            .into_bytes()
            .to_vec();
        for p in paths() {
            let mut m = mac::new_with(ALG_AES_CMAC, &key, p).unwrap();
            let mut at = 0;
            for c in rng.splits(data.len(), 1) {
                m.update(&data[at..c]).unwrap();
                at = c;
            }
            let mut o = [0u8; 16];
            m.finish(&mut o).unwrap();
            assert_eq!(&o[..], &want[..]);
        }
        let mut outs = Vec::new();
        for p in paths() {
            let mut m = mac::new_with(ALG_AES_CBC_MAC_PKCS5, &key, p).unwrap();
            m.update(&data).unwrap();
            let mut o = [0u8; 16];
            m.finish(&mut o).unwrap();
            outs.push(o);
        }
        assert_eq!(outs[0], outs[1]);
    }
}

#[test]
fn gcm_accel_equals_portable_and_aes_gcm_crate() {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let mut rng = Prng::new(14);
    for i in 0..150 {
        let klen = [16, 32][i % 2];
        let key = rng.bytes(klen);
        let nlen = if i % 3 == 0 { 12 } else { 1 + rng.below(70) };
        let nonce = rng.bytes(nlen);
        let aad_len = rng.below(100);
        let aad = rng.bytes(aad_len);
        let pt_len = rng.below(1100);
        let pt = rng.bytes(pt_len);
        let mut outs = Vec::new();
        for p in paths() {
            let mut e = ae::new_with(ALG_AES_GCM, true, &key, &nonce, 128, 0, 0, p).unwrap();
            let mut at = 0;
            for c in rng.splits(aad.len(), 1) {
                e.update_aad(&aad[at..c]).unwrap();
                at = c;
            }
            let mut d = pt.clone();
            let mut at = 0;
            for c in rng.splits(pt.len(), 1) {
                e.update(&mut d[at..c]).unwrap();
                at = c;
            }
            let mut t = [0u8; 16];
            e.enc_final(&mut [], &mut t).unwrap();
            outs.push((d, t));
        }
        assert_eq!(outs[0], outs[1], "nonce len {nlen}");
        if nlen == 12 {
            let mut d = pt.clone();
            let t = if klen == 16 {
                aes_gcm::Aes128Gcm::new_from_slice(&key)
                    .unwrap()
                    .encrypt_inout_detached(nonce[..].try_into().unwrap(), &aad, (&mut d[..]).into())
                    .unwrap()
            } else {
                aes_gcm::Aes256Gcm::new_from_slice(&key)
                    .unwrap()
                    .encrypt_inout_detached(nonce[..].try_into().unwrap(), &aad, (&mut d[..]).into())
                    .unwrap()
            };
            assert_eq!(outs[0].0, d);
            assert_eq!(&outs[0].1[..], &t[..]);
        }
        // And it decrypts.
        let (ct, tag) = &outs[1];
        let mut dd = ae::new_with(ALG_AES_GCM, false, &key, &nonce, 128, 0, 0, ACC).unwrap();
        dd.update_aad(&aad).unwrap();
        let mut d = ct.clone();
        dd.dec_final(&mut d, tag).unwrap();
        assert_eq!(d, pt);
    }
}

#[test]
fn gcm_counter_wraps_in_32_bits() {
    // The counter's low word wraps without carrying into the nonce part,
    // on both paths (the accelerator's counter is 128-bit).
    let key = [7u8; 16];
    for p in paths() {
        let bc = crate::cipher::sym::aes(&key, p).unwrap();
        let start = [0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xfe];
        let mut ctr = start;
        let mut d = [0u8; 64];
        crate::ae::ctr32(&*bc, &mut ctr, &mut d);
        let mut want = [0u8; 64];
        let mut c = start;
        for b in want.chunks_exact_mut(16) {
            b.copy_from_slice(&c);
            bc.ecb_enc(b);
            let low = u32::from_be_bytes(c[12..].try_into().unwrap()).wrapping_add(1);
            c[12..].copy_from_slice(&low.to_be_bytes());
        }
        assert_eq!(d, want);
        assert_eq!(ctr, c);
    }
}

#[test]
fn ccm_accel_equals_portable_and_ccm_crate() {
    use ccm::aead::{AeadInOut, KeyInit};
    use ccm::consts::{U13, U16};
    let mut rng = Prng::new(15);
    for _ in 0..60 {
        let key = rng.bytes(16);
        let nonce = rng.bytes(13);
        let aad_len = rng.below(300);
        let aad = rng.bytes(aad_len);
        let pt_len = rng.below(600);
        let pt = rng.bytes(pt_len);
        let mut d = pt.clone();
        let want = ccm::Ccm::<aes::Aes128, U16, U13>::new_from_slice(&key)
            .unwrap()
            .encrypt_inout_detached(nonce[..].try_into().unwrap(), &aad, (&mut d[..]).into())
            .unwrap();
        for p in paths() {
            let mut e = ae::new_with(ALG_AES_CCM, true, &key, &nonce, 128, aad.len(), pt.len(), p).unwrap();
            let mut at = 0;
            for c in rng.splits(aad.len(), 1) {
                e.update_aad(&aad[at..c]).unwrap();
                at = c;
            }
            let mut x = pt.clone();
            let mut at = 0;
            for c in rng.splits(pt.len(), 1) {
                e.update(&mut x[at..c]).unwrap();
                at = c;
            }
            let mut t = [0u8; 16];
            e.enc_final(&mut [], &mut t).unwrap();
            assert_eq!(x, d);
            assert_eq!(&t[..], &want[..]);
        }
    }
}

#[test]
fn cipher_errors_as_upstream() {
    let k = [1u8; 16];
    let iv = [2u8; 16];
    let e = |r: crate::Result<Box<dyn cipher::Cipher>>| r.err().unwrap();
    for a in [
        ALG_AES_ECB_NOPAD,
        ALG_AES_CBC_NOPAD,
        ALG_DES_ECB_NOPAD,
        ALG_DES3_CBC_NOPAD,
        ALG_SM4_ECB_NOPAD,
        ALG_SM4_CBC_NOPAD,
    ] {
        let key: &[u8] = match a {
            ALG_DES_ECB_NOPAD => &k[..8],
            _ => &k,
        };
        let bs = if a == ALG_DES_ECB_NOPAD || a == ALG_DES3_CBC_NOPAD { 8 } else { 16 };
        let ivv: &[u8] =
            if a == ALG_AES_CBC_NOPAD || a == ALG_SM4_CBC_NOPAD || a == ALG_DES3_CBC_NOPAD { &iv[..bs] } else { &[] };
        let mut c = cipher::new(a, true, key, None, ivv).unwrap();
        assert_eq!(c.block_len(), bs);
        assert_eq!(c.update(&mut [0u8; 5]).unwrap_err(), TeeResult::ERROR_BAD_PARAMETERS);
        assert_eq!(c.finish(&mut [0u8; 17]).unwrap_err(), TeeResult::ERROR_BAD_PARAMETERS);
        c.finish(&mut []).unwrap();
    }
    // IV of the wrong length; key of the wrong length; unknown algorithm.
    assert_eq!(e(cipher::new(ALG_AES_CBC_NOPAD, true, &k, None, &iv[..8])), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(e(cipher::new(ALG_AES_CTR, true, &k, None, &[])), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(e(cipher::new(ALG_AES_ECB_NOPAD, true, &k[..15], None, &[])), TeeResult::ERROR_BAD_STATE);
    assert_eq!(e(cipher::new(ALG_DES3_ECB_NOPAD, true, &k[..8], None, &[])), TeeResult::ERROR_BAD_STATE);
    assert_eq!(e(cipher::new(ALG_AES_GCM, true, &k, None, &iv)), TeeResult::ERROR_NOT_SUPPORTED);
    // CTS: finish needs more than one block.
    let mut c = cipher::new(ALG_AES_CTS, true, &k, None, &iv).unwrap();
    c.update(&mut [0u8; 32]).unwrap();
    assert_eq!(c.update(&mut [0u8; 17]).unwrap_err(), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(c.finish(&mut [0u8; 16]).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    assert_eq!(c.finish(&mut [0u8; 3]).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    c.finish(&mut []).unwrap();
    // XTS: whole blocks in update, a block at least in finish, equal keys.
    let mut c = cipher::new(ALG_AES_XTS, true, &k, Some(&k), &iv).unwrap();
    assert_eq!(c.update(&mut [0u8; 20]).unwrap_err(), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(c.finish(&mut [0u8; 15]).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    c.finish(&mut [0u8; 33]).unwrap();
    assert_eq!(e(cipher::new(ALG_AES_XTS, true, &k, Some(&[0u8; 32]), &iv)), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(e(cipher::new(ALG_AES_XTS, true, &k, None, &iv)), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(e(cipher::new(ALG_SM4_XTS, true, &k, Some(&k), &iv[..4])), TeeResult::ERROR_BAD_STATE);
}

#[test]
fn des_keys_parity_and_two_key_des3() {
    let k1 = [0x01u8, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    let k2 = [0xfeu8, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10];
    let pt = [0x55u8; 16];
    let run = |a, key: &[u8]| {
        let mut d = pt;
        cipher::new(a, true, key, None, &[]).unwrap().finish(&mut d).unwrap();
        d
    };
    // Flipping the parity (low) bits changes nothing.
    let flipped: Vec<u8> = k1.iter().map(|b| b ^ 1).collect();
    assert_eq!(run(ALG_DES_ECB_NOPAD, &k1), run(ALG_DES_ECB_NOPAD, &flipped));
    // Two-key DES3 is K1,K2,K1; DES3 with K1=K2=K3 is DES.
    let two: Vec<u8> = [&k1[..], &k2[..]].concat();
    let three: Vec<u8> = [&k1[..], &k2[..], &k1[..]].concat();
    assert_eq!(run(ALG_DES3_ECB_NOPAD, &two), run(ALG_DES3_ECB_NOPAD, &three));
    let same: Vec<u8> = [&k1[..], &k1[..], &k1[..]].concat();
    assert_eq!(run(ALG_DES3_ECB_NOPAD, &same), run(ALG_DES_ECB_NOPAD, &k1));
}

#[test]
fn mac_errors_as_upstream() {
    let k = [3u8; 16];
    // CBC-MAC without padding: empty or partial input is BAD_STATE.
    let mut m = mac::new(ALG_AES_CBC_MAC_NOPAD, &k).unwrap();
    let mut o = [0u8; 16];
    assert_eq!(m.finish(&mut o).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    let mut m = mac::new(ALG_AES_CBC_MAC_NOPAD, &k).unwrap();
    m.update(&[0u8; 20]).unwrap();
    assert_eq!(m.finish(&mut o).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    let mut m = mac::new(ALG_DES_CBC_MAC_NOPAD, &k[..8]).unwrap();
    m.update(&[0u8; 12]).unwrap();
    assert_eq!(m.finish(&mut o).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    // Short output buffer: SHORT_BUFFER, state kept.
    let mut m = mac::new(ALG_HMAC_SHA256, b"key").unwrap();
    m.update(b"data").unwrap();
    assert_eq!(m.finish(&mut [0u8; 31]).unwrap_err(), TeeResult::ERROR_SHORT_BUFFER);
    let mut a = [0u8; 32];
    m.finish(&mut a).unwrap();
    let mut m2 = mac::new(ALG_HMAC_SHA256, b"key").unwrap();
    m2.update(b"data").unwrap();
    let mut b = [0u8; 32];
    m2.finish(&mut b).unwrap();
    assert_eq!(a, b);
    assert_eq!(mac::new(ALG_AES_CBC_NOPAD, &k).err().unwrap(), TeeResult::ERROR_NOT_SUPPORTED);
    assert_eq!(mac::new(ALG_AES_CMAC, &k[..7]).err().unwrap(), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(hash::new(ALG_MD5SHA1).err().unwrap(), TeeResult::ERROR_NOT_SUPPORTED);
    // SHAKE gives any length; a prefix of a longer output; and output
    // taken in pieces (GP's TEE_DigestExtract) continues one stream, also
    // in a copy of the state taken between pieces.
    let mut h = hash::new(ALG_SHAKE256).unwrap();
    h.update(b"abc");
    let mut long = [0u8; 300];
    h.finish(&mut long);
    let mut h = hash::new(ALG_SHAKE256).unwrap();
    h.update(b"abc");
    let mut short = [0u8; 7];
    h.finish(&mut short);
    assert_eq!(short, long[..7]);
    let mut copy = h.box_clone();
    let mut next = [0u8; 100];
    h.finish(&mut next);
    assert_eq!(next, long[7..107]);
    let mut from_copy = [0u8; 193];
    copy.finish(&mut from_copy);
    assert_eq!(from_copy, long[7..200]);
}

#[test]
fn ae_errors_as_upstream() {
    let k = [4u8; 16];
    let n = [5u8; 12];
    let err = |r: crate::Result<Box<dyn ae::Ae>>| r.err().unwrap();
    // GCM: tags up to 128 bits, whole bytes.
    assert_eq!(err(ae::new(ALG_AES_GCM, true, &k, &n, 136, 0, 0)), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(err(ae::new(ALG_AES_GCM, true, &k, &n, 100, 0, 0)), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(err(ae::new(ALG_AES_GCM, true, &k[..10], &n, 128, 0, 0)), TeeResult::ERROR_BAD_PARAMETERS);
    let mut g = ae::new(ALG_AES_GCM, true, &k, &n, 96, 0, 0).unwrap();
    g.update_aad(b"a").unwrap();
    g.update(&mut [0u8; 3]).unwrap();
    assert_eq!(g.update_aad(b"b").unwrap_err(), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(g.enc_final(&mut [], &mut [0u8; 11]).unwrap_err(), TeeResult::ERROR_SHORT_BUFFER);
    let mut t = [0u8; 16];
    assert_eq!(g.enc_final(&mut [], &mut t).unwrap(), 12);
    // A tag of another length does not verify.
    let mut d = ae::new(ALG_AES_GCM, false, &k, &n, 96, 0, 0).unwrap();
    d.update_aad(b"a").unwrap();
    d.update(&mut [0u8; 3]).unwrap();
    assert_eq!(d.dec_final(&mut [], &t[..16]).unwrap_err(), TeeResult::ERROR_MAC_INVALID);
    // A wrong tag wipes the last piece.
    let mut d = ae::new(ALG_AES_GCM, false, &k, &n, 128, 0, 0).unwrap();
    let mut last = [9u8; 5];
    assert_eq!(d.dec_final(&mut last, &[0u8; 16]).unwrap_err(), TeeResult::ERROR_MAC_INVALID);
    assert_eq!(last, [0u8; 5]);
    // CCM: tag 4..16 even; nonce at most 13 and enough for the length.
    for bits in [24, 40, 136, 0] {
        assert_eq!(err(ae::new(ALG_AES_CCM, true, &k, &n, bits, 0, 0)), TeeResult::ERROR_NOT_SUPPORTED);
    }
    assert_eq!(err(ae::new(ALG_AES_CCM, true, &k, &[0u8; 14], 64, 0, 0)), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(err(ae::new(ALG_AES_CCM, true, &k, &[0u8; 6], 64, 0, 0)), TeeResult::ERROR_BAD_STATE);
    // A 13-byte nonce with a payload needing L = 4 is cut to 11 bytes (as
    // LibTomCrypt does), not refused.
    assert!(ae::new(ALG_AES_CCM, true, &k, &[0u8; 13], 64, 0, 1 << 24).is_ok());
    // Announced lengths.
    let mut c = ae::new(ALG_AES_CCM, true, &k, &n, 64, 4, 8).unwrap();
    assert_eq!(c.update_aad(&[0u8; 5]).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    c.update_aad(&[0u8; 3]).unwrap();
    assert_eq!(c.update(&mut [0u8; 1]).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    c.update_aad(&[0u8; 1]).unwrap();
    c.update(&mut [0u8; 5]).unwrap();
    assert_eq!(c.update(&mut [0u8; 4]).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    let mut t = [0u8; 8];
    assert_eq!(c.enc_final(&mut [0u8; 2], &mut t).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    assert_eq!(c.enc_final(&mut [0u8; 1], &mut t[..7]).unwrap_err(), TeeResult::ERROR_SHORT_BUFFER);
    assert_eq!(c.enc_final(&mut [0u8; 1], &mut t).unwrap(), 8);
    let mut d = ae::new(ALG_AES_CCM, false, &k, &n, 64, 0, 0).unwrap();
    assert_eq!(d.dec_final(&mut [], &[]).unwrap_err(), TeeResult::ERROR_SHORT_BUFFER);
    assert_eq!(d.dec_final(&mut [], &[0u8; 17]).unwrap_err(), TeeResult::ERROR_BAD_STATE);
    assert_eq!(d.dec_final(&mut [], &[0u8; 8]).unwrap_err(), TeeResult::ERROR_MAC_INVALID);
}

#[test]
fn registered_accel_is_used_by_the_public_constructors() {
    crate::accel::set(&TEST_ACCEL);
    assert!(crate::accel::get().is_some());
    let key = [9u8; 32];
    let mut rng = Prng::new(16);
    let data = rng.bytes(1000);
    let mut a = data.clone();
    cipher::new(ALG_AES_CBC_NOPAD, true, &key, None, &[1u8; 16]).unwrap().finish(&mut a[..992]).unwrap();
    let b = cipher_all(ALG_AES_CBC_NOPAD, true, &key, None, &[1u8; 16], None, &data[..992], &[992]);
    assert_eq!(&a[..992], &b[..]);
    let mut h = hash::new(ALG_SHA256).unwrap();
    h.update(&data);
    let mut x = [0u8; 32];
    h.finish(&mut x);
    let mut h = hash::new_with(ALG_SHA256, None).unwrap();
    h.update(&data);
    let mut y = [0u8; 32];
    h.finish(&mut y);
    assert_eq!(x, y);
}
