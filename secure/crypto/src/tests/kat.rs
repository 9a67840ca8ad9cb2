//! Known-answer tests over `vectors/*.txt`, each on both paths, in one
//! shot and in random pieces, and through a mid-stream state copy.

extern crate std;

use super::{Prng, alg, paths, vectors};
use crate::{AttrRef, TeeResult, ae, cipher, hash, kdf, mac};
use std::borrow::ToOwned;
use std::vec;
use std::vec::Vec;

const HASH: &str = include_str!("../../vectors/hash.txt");
const MAC: &str = include_str!("../../vectors/mac.txt");
const CIPHER: &str = include_str!("../../vectors/cipher.txt");
const XTS: &str = include_str!("../../vectors/xts.txt");
const GCM: &str = include_str!("../../vectors/gcm.txt");
const CCM: &str = include_str!("../../vectors/ccm.txt");
const KDF: &str = include_str!("../../vectors/kdf.txt");

#[test]
fn digests() {
    let mut rng = Prng::new(1);
    let mut seen = std::collections::BTreeSet::new();
    for v in vectors(HASH) {
        let a = alg(v.s("alg"));
        seen.insert(v.s("alg").to_owned());
        let msg = v.h("msg");
        let rep = v.n("rep");
        let want = v.h("md");
        // The accelerator hook only serves SHA-1/224/256; the long
        // (million-byte) messages run once per path that matters.
        let accelerated = [crate::ids::ALG_SHA1, crate::ids::ALG_SHA224, crate::ids::ALG_SHA256].contains(&a);
        for p in paths() {
            if rep > 1 && p.is_some() && !accelerated {
                continue;
            }
            let mut h = hash::new_with(a, p).unwrap();
            if a == crate::ids::ALG_SHAKE128 || a == crate::ids::ALG_SHAKE256 {
                assert_eq!(h.out_len(), 0);
            } else {
                assert_eq!(h.out_len(), want.len());
            }
            let full: Vec<u8> = msg.repeat(rep);
            // One shot.
            h.update(&full);
            let mut out = vec![0u8; want.len()];
            h.finish(&mut out);
            assert_eq!(out, want, "{} one shot", v.s("alg"));
            if rep > 1 {
                continue;
            }
            // Fixed digests: finish reset the state. SHAKE keeps squeezing
            // the same output: start it again. Pieces, with a copy taken
            // midway.
            if h.out_len() == 0 {
                h = hash::new_with(a, p).unwrap();
            }
            let cuts = rng.splits(full.len().min(5000), 1);
            let mut at = 0;
            let mut copy = None;
            for (i, c) in cuts.iter().enumerate() {
                h.update(&full[at..*c]);
                if i == cuts.len() / 2 {
                    copy = Some((h.box_clone(), *c));
                }
                at = *c;
            }
            h.update(&full[at..]);
            out.fill(0);
            h.finish(&mut out);
            assert_eq!(out, want, "{} pieces", v.s("alg"));
            if let Some((mut c, from)) = copy {
                c.update(&full[from..]);
                out.fill(0);
                c.finish(&mut out);
                assert_eq!(out, want, "{} copy", v.s("alg"));
            }
        }
    }
    assert_eq!(seen.len(), 13, "every digest has vectors");
}

#[test]
fn macs() {
    let mut rng = Prng::new(2);
    let mut seen = std::collections::BTreeSet::new();
    for v in vectors(MAC) {
        let a = alg(v.s("alg"));
        seen.insert(v.s("alg").to_owned());
        let (key, msg, want) = (v.h("key"), v.h("msg"), v.h("mac"));
        for p in paths() {
            let mut m = mac::new_with(a, &key, p).unwrap();
            assert_eq!(m.out_len(), want.len());
            m.update(&msg).unwrap();
            let mut out = vec![0u8; want.len()];
            m.finish(&mut out).unwrap();
            assert_eq!(out, want, "{} key {}", v.s("alg"), v.s("key"));
            // Again after finish (same key), in pieces, with a copy.
            let cuts = rng.splits(msg.len(), 1);
            let mut at = 0;
            let mut copy = None;
            for (i, c) in cuts.iter().enumerate() {
                m.update(&msg[at..*c]).unwrap();
                if i == 0 {
                    copy = Some((m.box_clone(), *c));
                }
                at = *c;
            }
            out.fill(0);
            m.finish(&mut out).unwrap();
            assert_eq!(out, want, "{} pieces", v.s("alg"));
            if let Some((mut c, from)) = copy {
                c.update(&msg[from..]).unwrap();
                out.fill(0);
                c.finish(&mut out).unwrap();
                assert_eq!(out, want, "{} copy", v.s("alg"));
            }
        }
    }
    // Every HMAC (11 digests), two CMACs, six CBC-MACs.
    assert_eq!(seen.len(), 19, "{seen:?}");
}

/// Runs a cipher over `input` in `cuts` (update for all but the last
/// piece, finish for the last).
fn run_cipher(c: &mut dyn cipher::Cipher, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut d = input.to_vec();
    let mut at = 0;
    for (i, &cut) in cuts.iter().enumerate() {
        if i + 1 == cuts.len() {
            c.finish(&mut d[at..cut]).unwrap();
        } else {
            c.update(&mut d[at..cut]).unwrap();
        }
        at = cut;
    }
    assert_eq!(at, input.len());
    d
}

/// Cut points valid for an algorithm: whole blocks in update (CTS and XTS
/// keep more than a block, or any partial tail, for finish).
fn cipher_cuts(rng: &mut Prng, a: u32, len: usize) -> Vec<usize> {
    use crate::ids::*;
    let bs = match a {
        ALG_DES_ECB_NOPAD | ALG_DES_CBC_NOPAD | ALG_DES3_ECB_NOPAD | ALG_DES3_CBC_NOPAD => 8,
        _ => 16,
    };
    let unit = if a == ALG_AES_CTR || a == ALG_SM4_CTR { 1 } else { bs };
    let tail = match a {
        ALG_AES_CTS if len.is_multiple_of(16) => 32,
        ALG_AES_CTS => 16 + len % 16,
        ALG_AES_XTS | ALG_SM4_XTS => 16 + len % 16,
        _ => len % bs,
    }
    .min(len);
    let body = len - tail;
    let mut cuts: Vec<usize> = rng.splits(body, unit);
    cuts.push(len);
    cuts.dedup();
    cuts
}

#[test]
fn ciphers() {
    let mut rng = Prng::new(3);
    let mut seen = std::collections::BTreeSet::new();
    for v in vectors(CIPHER).into_iter().chain(vectors(XTS)) {
        let a = alg(v.s("alg"));
        seen.insert(v.s("alg").to_owned());
        let (key, iv, pt, ct) = (v.h("key"), v.h("iv"), v.h("pt"), v.h("ct"));
        let key2 = if v.has("key2") { Some(v.h("key2")) } else { None };
        for p in paths() {
            let mk = |enc| cipher::new_with(a, enc, &key, key2.as_deref(), &iv, p).unwrap();
            assert_eq!(run_cipher(&mut *mk(true), &pt, &[pt.len()]), ct, "{} enc", v.s("alg"));
            assert_eq!(run_cipher(&mut *mk(false), &ct, &[ct.len()]), pt, "{} dec", v.s("alg"));
            for _ in 0..4 {
                let cuts = cipher_cuts(&mut rng, a, pt.len());
                assert_eq!(run_cipher(&mut *mk(true), &pt, &cuts), ct, "{} enc {cuts:?}", v.s("alg"));
                assert_eq!(run_cipher(&mut *mk(false), &ct, &cuts), pt, "{} dec {cuts:?}", v.s("alg"));
            }
            // A copy after the first piece finishes the same way.
            let cuts = cipher_cuts(&mut rng, a, pt.len());
            if cuts.len() > 1 {
                let mut c = mk(true);
                let mut d = pt.clone();
                c.update(&mut d[..cuts[0]]).unwrap();
                let mut c2 = c.box_clone();
                let mut d2 = d.clone();
                c.finish(&mut d[cuts[0]..]).unwrap();
                c2.finish(&mut d2[cuts[0]..]).unwrap();
                assert_eq!(d, ct);
                assert_eq!(d2, ct);
            }
        }
    }
    // SM4-XTS: checked against the xts-mode crate below.
    assert_eq!(seen.len(), 12, "{seen:?}");
}

#[test]
fn sm4_xts_matches_xts_mode_crate() {
    use ::cipher::KeyInit;
    let mut rng = Prng::new(4);
    for _ in 0..40 {
        let (k1, k2, tweak) = (rng.bytes(16), rng.bytes(16), rng.bytes(16));
        let len = 16 + rng.below(200);
        let pt = rng.bytes(len);
        let mut want = pt.clone();
        let x = xts_mode::Xts128::new(sm4::Sm4::new_from_slice(&k1).unwrap(), sm4::Sm4::new_from_slice(&k2).unwrap());
        x.encrypt_sector(&mut want, ::cipher::array::Array::try_from(&tweak[..]).unwrap());
        let mut c = cipher::new_with(crate::ids::ALG_SM4_XTS, true, &k1, Some(&k2), &tweak, None).unwrap();
        let cuts = cipher_cuts(&mut rng, crate::ids::ALG_SM4_XTS, len);
        assert_eq!(run_cipher(&mut *c, &pt, &cuts), want, "len {len}");
        let mut c = cipher::new_with(crate::ids::ALG_SM4_XTS, false, &k1, Some(&k2), &tweak, None).unwrap();
        assert_eq!(run_cipher(&mut *c, &want, &[len]), pt);
        // The AES path too, against the crate.
        let (k1, k2) = (rng.bytes(32), rng.bytes(32));
        let mut want = pt.clone();
        let x =
            xts_mode::Xts128::new(aes::Aes256::new_from_slice(&k1).unwrap(), aes::Aes256::new_from_slice(&k2).unwrap());
        x.encrypt_sector(&mut want, ::cipher::array::Array::try_from(&tweak[..]).unwrap());
        for p in paths() {
            let mut c = cipher::new_with(crate::ids::ALG_AES_XTS, true, &k1, Some(&k2), &tweak, p).unwrap();
            assert_eq!(run_cipher(&mut *c, &pt, &cuts), want);
        }
    }
}

fn ae_run(v: &super::Vector, p: Option<&'static dyn crate::accel::Accel>, rng: &mut Prng) {
    let a = alg(v.s("alg"));
    let (key, nonce, aad, pt, ct, tag) = (v.h("key"), v.h("nonce"), v.h("aad"), v.h("pt"), v.h("ct"), v.h("tag"));
    let mk = |enc| ae::new_with(a, enc, &key, &nonce, tag.len() * 8, aad.len(), pt.len(), p).unwrap();
    // One shot.
    let mut e = mk(true);
    e.update_aad(&aad).unwrap();
    let mut d = pt.clone();
    let mut t = vec![0u8; 16];
    assert_eq!(e.enc_final(&mut d, &mut t).unwrap(), tag.len());
    assert_eq!(d, ct, "{} ct", v.s("alg"));
    assert_eq!(&t[..tag.len()], &tag[..], "{} tag", v.s("alg"));
    // Pieces of any length, a copy in the middle.
    let acuts = rng.splits(aad.len(), 1);
    let pcuts = rng.splits(pt.len(), 1);
    let mut e = mk(true);
    let mut at = 0;
    for c in &acuts {
        e.update_aad(&aad[at..*c]).unwrap();
        at = *c;
    }
    let mut d = pt.clone();
    let mut at = 0;
    for c in pcuts.iter().take(pcuts.len().saturating_sub(1)) {
        e.update(&mut d[at..*c]).unwrap();
        at = *c;
    }
    let mut e2 = e.box_clone();
    let mut d2 = d.clone();
    t.fill(0);
    e.enc_final(&mut d[at..], &mut t).unwrap();
    assert_eq!(d, ct);
    assert_eq!(&t[..tag.len()], &tag[..]);
    t.fill(0);
    e2.enc_final(&mut d2[at..], &mut t).unwrap();
    assert_eq!(d2, ct);
    assert_eq!(&t[..tag.len()], &tag[..]);
    // Decryption, in pieces; then a bad tag.
    let mut dd = mk(false);
    dd.update_aad(&aad).unwrap();
    let mut d = ct.clone();
    let mut at = 0;
    for c in pcuts.iter().take(pcuts.len().saturating_sub(1)) {
        dd.update(&mut d[at..*c]).unwrap();
        at = *c;
    }
    dd.dec_final(&mut d[at..], &tag).unwrap();
    assert_eq!(d, pt);
    let mut bad = tag.clone();
    bad[0] ^= 1;
    let mut dd = mk(false);
    dd.update_aad(&aad).unwrap();
    let mut d = ct.clone();
    assert_eq!(dd.dec_final(&mut d, &bad).unwrap_err(), TeeResult::ERROR_MAC_INVALID);
}

#[test]
fn gcm() {
    let mut rng = Prng::new(5);
    for v in vectors(GCM) {
        for p in paths() {
            ae_run(&v, p, &mut rng);
        }
    }
}

#[test]
fn ccm() {
    let mut rng = Prng::new(6);
    for v in vectors(CCM) {
        for p in paths() {
            ae_run(&v, p, &mut rng);
        }
    }
}

/// An attribute slice as `&dyn Attrs` (the slice type itself is unsized).
struct P<'a>(&'a [AttrRef<'a>]);

impl crate::Attrs for P<'_> {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.0.bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.0.value(id)
    }
}

#[test]
fn kdfs() {
    use crate::ids::*;
    let mut seen = std::collections::BTreeSet::new();
    for v in vectors(KDF) {
        let a = alg(v.s("alg"));
        seen.insert(v.s("alg").to_owned());
        let len = v.n("len");
        for p in paths() {
            let (secret, want, out) = if v.s("alg").starts_with("HKDF") {
                let (salt, info) = (v.h("salt"), v.h("info"));
                let params = [
                    AttrRef::Bytes(ATTR_HKDF_SALT, &salt),
                    AttrRef::Bytes(ATTR_HKDF_INFO, &info),
                    AttrRef::Value(ATTR_HKDF_OKM_LENGTH, len as u32, 0),
                ];
                (v.h("ikm"), v.h("okm"), kdf::derive_with(a, &v.h("ikm"), &P(&params[..]), 1024, p))
            } else if v.s("alg").starts_with("PBKDF2") {
                let salt = v.h("salt");
                let params = [
                    AttrRef::Bytes(ATTR_PBKDF2_SALT, &salt),
                    AttrRef::Value(ATTR_PBKDF2_DKM_LENGTH, len as u32, 0),
                    AttrRef::Value(ATTR_PBKDF2_ITERATION_COUNT, v.n("count") as u32, 0),
                ];
                (v.h("pw"), v.h("dk"), kdf::derive_with(a, &v.h("pw"), &P(&params[..]), 1024, p))
            } else {
                let other = v.h("other");
                let params = [
                    AttrRef::Bytes(ATTR_CONCAT_KDF_OTHER_INFO, &other),
                    AttrRef::Value(ATTR_CONCAT_KDF_DKM_LENGTH, len as u32, 0),
                ];
                (v.h("z"), v.h("dkm"), kdf::derive_with(a, &v.h("z"), &P(&params[..]), 1024, p))
            };
            let _ = secret;
            assert_eq!(&out.unwrap()[..], &want[..], "{}", v.s("alg"));
        }
    }
    assert_eq!(seen.len(), 17, "{seen:?}");
}

#[test]
fn gp_hkdf_with_hash_attribute() {
    use crate::ids::*;
    // RFC 5869 A.4 (SHA-1) through TEE_ALG_HKDF and the hash attribute,
    // and A.1 with the default hash (SHA-256).
    let v = &vectors(KDF)[3];
    assert_eq!(v.s("alg"), "HKDF_SHA1");
    let (salt, info) = (v.h("salt"), v.h("info"));
    let params = [
        AttrRef::Bytes(ATTR_HKDF_SALT, &salt),
        AttrRef::Bytes(ATTR_HKDF_INFO, &info),
        AttrRef::Value(ATTR_KDF_KEY_SIZE, 42, 0),
        AttrRef::Value(ATTR_HKDF_HASH_ALGORITHM, ALG_SHA1, 0),
    ];
    assert_eq!(&kdf::derive(ALG_HKDF, &v.h("ikm"), &P(&params[..]), 42).unwrap()[..], &v.h("okm")[..]);
    let v = &vectors(KDF)[0];
    let (salt, info) = (v.h("salt"), v.h("info"));
    let params = [
        AttrRef::Bytes(ATTR_HKDF_SALT, &salt),
        AttrRef::Bytes(ATTR_HKDF_INFO, &info),
        AttrRef::Value(ATTR_HKDF_OKM_LENGTH, 42, 0),
    ];
    assert_eq!(&kdf::derive(ALG_HKDF, &v.h("ikm"), &P(&params[..]), 64).unwrap()[..], &v.h("okm")[..]);
    // Larger than the output object: BAD_PARAMETERS; no length: same.
    assert_eq!(kdf::derive(ALG_HKDF, &v.h("ikm"), &P(&params[..]), 41).unwrap_err(), TeeResult::ERROR_BAD_PARAMETERS);
    assert_eq!(kdf::derive(ALG_HKDF, &v.h("ikm"), &P(&params[..2]), 64).unwrap_err(), TeeResult::ERROR_BAD_PARAMETERS);
    // More than 255 blocks.
    let big = [AttrRef::Value(ATTR_HKDF_OKM_LENGTH, 255 * 32 + 1, 0)];
    assert_eq!(
        kdf::derive(ALG_HKDF_SHA256_DERIVE_KEY, b"k", &P(&big[..]), 1 << 20).unwrap_err(),
        TeeResult::ERROR_BAD_PARAMETERS
    );
    // PBKDF2 without an iteration count.
    let p = [AttrRef::Value(ATTR_PBKDF2_DKM_LENGTH, 16, 0)];
    assert_eq!(
        kdf::derive(ALG_PBKDF2_HMAC_SHA256_DERIVE_KEY, b"pw", &P(&p[..]), 64).unwrap_err(),
        TeeResult::ERROR_BAD_PARAMETERS
    );
}
