//! Host tests: known answers (RFC 8017-style RSA, RFC 8032, RFC 7748,
//! DH) from `vectors/pk/xtest.txt` (public vectors as optee_test ships
//! them), round trips, tampering, hostile sizes.

extern crate std;

use super::*;
use crate::{AttrRef, NoAttrs};
use alloc::string::String;
use alloc::vec;
use std::collections::HashMap;
use std::format;

const VECTORS: &str = include_str!("../../vectors/pk/xtest.txt");

fn vectors() -> HashMap<String, Vec<u8>> {
    VECTORS
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.into(), if v == "-" { Vec::new() } else { hex(v) }))
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Deterministic generator (xorshift64*), for tests only.
struct TestRng(u64);

impl Rng for TestRng {
    fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
    }
}

/// An owned attribute list.
struct Key(Vec<Attr>);

impl Attrs for Key {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.0.as_slice().bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.0.as_slice().value(id)
    }
}

/// A borrowed attribute list.
struct L<'a>(Vec<AttrRef<'a>>);

impl Attrs for L<'_> {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.0.as_slice().bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.0.as_slice().value(id)
    }
}

fn b(id: u32, v: &[u8]) -> Attr {
    Attr::Bytes(id, Secret::new(v.to_vec()))
}

fn rsa_key(v: &HashMap<String, Vec<u8>>, name: &str) -> Key {
    Key(vec![
        b(ids::ATTR_RSA_MODULUS, &v[&format!("{name}_modulus")]),
        b(ids::ATTR_RSA_PUBLIC_EXPONENT, &v[&format!("{name}_pub_exp")]),
        b(ids::ATTR_RSA_PRIVATE_EXPONENT, &v[&format!("{name}_priv_exp")]),
    ])
}

fn sha(h: HashAlg, m: &[u8]) -> Vec<u8> {
    use digest::Digest;
    match h {
        HashAlg::Md5 => md5::Md5::digest(m).to_vec(),
        HashAlg::Sha1 => sha1::Sha1::digest(m).to_vec(),
        HashAlg::Sha224 => sha2::Sha224::digest(m).to_vec(),
        HashAlg::Sha256 => sha2::Sha256::digest(m).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(m).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(m).to_vec(),
    }
}

const BAD: TeeResult = TeeResult::ERROR_BAD_PARAMETERS;
const INVALID: TeeResult = TeeResult::ERROR_SIGNATURE_INVALID;

#[test]
fn rsa_nopad_known_answers() {
    let v = vectors();
    let mut rng = TestRng(1);
    for name in ["ac_rsassa_vect1", "ac_rsassa_vect18", "ac_rsassa_vect19"] {
        let k = rsa_key(&v, name);
        let ptx = &v[&format!("{name}_ptx")];
        let out = &v[&format!("{name}_out")];
        let c = operate(ids::ALG_RSA_NOPAD, ids::MODE_ENCRYPT, &k, &NoAttrs, ptx, &mut rng).unwrap();
        assert_eq!(&c[..], trim(out), "{name}");
        let m = operate(ids::ALG_RSA_NOPAD, ids::MODE_DECRYPT, &k, &NoAttrs, out, &mut rng).unwrap();
        assert_eq!(&m[..], trim(ptx), "{name}");
    }
    // Zero stays one zero byte; an input above the modulus is refused.
    let k = rsa_key(&v, "ac_rsassa_vect1");
    let z = operate(ids::ALG_RSA_NOPAD, ids::MODE_ENCRYPT, &k, &NoAttrs, &[0, 0, 0], &mut rng).unwrap();
    assert_eq!(&z[..], &[0]);
    let big = vec![0xff; v["ac_rsassa_vect1_modulus"].len()];
    assert_eq!(operate(ids::ALG_RSA_NOPAD, ids::MODE_ENCRYPT, &k, &NoAttrs, &big, &mut rng).unwrap_err(), BAD);
    assert_eq!(
        operate(ids::ALG_RSA_NOPAD, ids::MODE_SIGN, &k, &NoAttrs, &big, &mut rng).unwrap_err(),
        TeeResult::ERROR_GENERIC
    );
}

#[test]
fn rsa_pkcs1_v15_sha1_known_answer_and_tamper() {
    let v = vectors();
    let mut rng = TestRng(2);
    let k = rsa_key(&v, "ac_rsassa_vect3");
    let d = sha(HashAlg::Sha1, &v["ac_rsassa_vect3_ptx"]);
    let a = ids::ALG_RSASSA_PKCS1_V1_5_SHA1;
    let sig = operate(a, ids::MODE_SIGN, &k, &NoAttrs, &d, &mut rng).unwrap();
    assert_eq!(&sig[..], &v["ac_rsassa_vect3_out"][..]);
    verify(a, &k, &NoAttrs, &d, &sig).unwrap();
    let mut bad = sig.to_vec();
    bad[5] ^= 1;
    assert_eq!(verify(a, &k, &NoAttrs, &d, &bad).unwrap_err(), INVALID);
    assert_eq!(verify(a, &k, &NoAttrs, &d, &sig[1..]).unwrap_err(), INVALID);
    assert_eq!(verify(a, &k, &NoAttrs, &d[1..], &sig).unwrap_err(), BAD);
    assert_eq!(operate(a, ids::MODE_SIGN, &k, &NoAttrs, &d[1..], &mut rng).unwrap_err(), BAD);
    assert_eq!(operate(a, ids::MODE_VERIFY, &k, &NoAttrs, &d, &mut rng).unwrap_err(), BAD);
}

#[test]
fn rsa_signatures_every_hash_round_trip() {
    let v = vectors();
    let mut rng = TestRng(3);
    let k = rsa_key(&v, "ac_rsassa_vect3");
    use ids::*;
    let algs = [
        (ALG_RSASSA_PKCS1_V1_5_MD5, HashAlg::Md5),
        (ALG_RSASSA_PKCS1_V1_5_SHA224, HashAlg::Sha224),
        (ALG_RSASSA_PKCS1_V1_5_SHA256, HashAlg::Sha256),
        (ALG_RSASSA_PKCS1_V1_5_SHA384, HashAlg::Sha384),
        (ALG_RSASSA_PKCS1_V1_5_SHA512, HashAlg::Sha512),
        (ALG_RSASSA_PKCS1_PSS_MGF1_MD5, HashAlg::Md5),
        (ALG_RSASSA_PKCS1_PSS_MGF1_SHA1, HashAlg::Sha1),
        (ALG_RSASSA_PKCS1_PSS_MGF1_SHA224, HashAlg::Sha224),
        (ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, HashAlg::Sha256),
        (ALG_RSASSA_PKCS1_PSS_MGF1_SHA384, HashAlg::Sha384),
        (ALG_RSASSA_PKCS1_PSS_MGF1_SHA512, HashAlg::Sha512),
    ];
    for (a, h) in algs {
        let d = sha(h, b"oxtee");
        // A 1024-bit key holds a SHA-512 digest plus at most 62 salt bytes.
        let p = L(vec![AttrRef::Value(ATTR_RSA_PSS_SALT_LENGTH, 20, 0)]);
        let sig = operate(a, MODE_SIGN, &k, &p, &d, &mut rng).unwrap();
        assert_eq!(sig.len(), 128);
        verify(a, &k, &p, &d, &sig).unwrap();
        let mut d2 = d.clone();
        d2[0] ^= 0x80;
        assert_eq!(verify(a, &k, &p, &d2, &sig).unwrap_err(), INVALID, "{a:#x}");
    }
    let d = sha(HashAlg::Sha512, b"big salt");
    assert_eq!(operate(ALG_RSASSA_PKCS1_PSS_MGF1_SHA512, MODE_SIGN, &k, &NoAttrs, &d, &mut rng).unwrap_err(), BAD);
    // PSS salt length from the parameters, checked on verification.
    let d = sha(HashAlg::Sha256, b"salt");
    let p = L(vec![AttrRef::Value(ATTR_RSA_PSS_SALT_LENGTH, 5, 0)]);
    let sig = operate(ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, MODE_SIGN, &k, &p, &d, &mut rng).unwrap();
    verify(ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, &k, &p, &d, &sig).unwrap();
    assert_eq!(verify(ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, &k, &NoAttrs, &d, &sig).unwrap_err(), INVALID);
    // Raw PKCS#1 v1.5 (no DigestInfo): any input up to k - 11 bytes.
    let sig = operate(ALG_RSASSA_PKCS1_V1_5, MODE_SIGN, &k, &NoAttrs, b"raw data", &mut rng).unwrap();
    verify(ALG_RSASSA_PKCS1_V1_5, &k, &NoAttrs, b"raw data", &sig).unwrap();
    assert_eq!(operate(ALG_RSASSA_PKCS1_V1_5, MODE_SIGN, &k, &NoAttrs, &[1; 118], &mut rng).unwrap_err(), BAD);
}

#[test]
fn rsaes_known_answers_and_round_trips() {
    let v = vectors();
    let mut rng = TestRng(4);
    use ids::*;
    let k = rsa_key(&v, "ac_rsaes_pkcs1_v1_5_vect1");
    let m = operate(ALG_RSAES_PKCS1_V1_5, MODE_DECRYPT, &k, &NoAttrs, &v["ac_rsaes_pkcs1_v1_5_vect1_out"], &mut rng)
        .unwrap();
    assert_eq!(&m[..], &v["ac_rsaes_pkcs1_v1_5_vect1_ptx"][..]);
    let k = rsa_key(&v, "ac_rsaes_oaep_vect1");
    let m =
        operate(ALG_RSAES_PKCS1_OAEP_MGF1_SHA1, MODE_DECRYPT, &k, &NoAttrs, &v["ac_rsaes_oaep_vect1_out"], &mut rng)
            .unwrap();
    assert_eq!(&m[..], &v["ac_rsaes_oaep_vect1_ptx"][..]);
    // Bad padding: BAD_PARAMETERS, as upstream.
    let mut c = v["ac_rsaes_oaep_vect1_out"].clone();
    c[3] ^= 1;
    assert_eq!(operate(ALG_RSAES_PKCS1_OAEP_MGF1_SHA1, MODE_DECRYPT, &k, &NoAttrs, &c, &mut rng).unwrap_err(), BAD);
    assert_eq!(operate(ALG_RSAES_PKCS1_V1_5, MODE_DECRYPT, &k, &NoAttrs, &c, &mut rng).unwrap_err(), BAD);
    // Round trips with labels and a different MGF digest.
    let label = b"label";
    let mgf = ALG_SHA256.to_le_bytes();
    let p = L(vec![AttrRef::Bytes(ATTR_RSA_OAEP_LABEL, label), AttrRef::Bytes(ATTR_RSA_OAEP_MGF_HASH, &mgf)]);
    for a in [
        ALG_RSAES_PKCS1_V1_5,
        ALG_RSAES_PKCS1_OAEP_MGF1_SHA1,
        ALG_RSAES_PKCS1_OAEP_MGF1_SHA224,
        ALG_RSAES_PKCS1_OAEP_MGF1_SHA256,
    ] {
        let c = operate(a, MODE_ENCRYPT, &k, &p, b"secret", &mut rng).unwrap();
        assert_eq!(c.len(), 128);
        let m = operate(a, MODE_DECRYPT, &k, &p, &c, &mut rng).unwrap();
        assert_eq!(&m[..], b"secret");
        if a != ALG_RSAES_PKCS1_V1_5 {
            assert_eq!(operate(a, MODE_DECRYPT, &k, &NoAttrs, &c, &mut rng).unwrap_err(), BAD);
        }
    }
    let bad_mgf = L(vec![AttrRef::Bytes(ATTR_RSA_OAEP_MGF_HASH, &[1, 2])]);
    assert_eq!(operate(ALG_RSAES_PKCS1_OAEP_MGF1_SHA1, MODE_ENCRYPT, &k, &bad_mgf, b"x", &mut rng).unwrap_err(), BAD);
    assert_eq!(operate(ALG_RSAES_PKCS1_V1_5, MODE_ENCRYPT, &k, &NoAttrs, &[7; 118], &mut rng).unwrap_err(), BAD);
}

#[test]
fn rsa_hostile_keys() {
    let mut rng = TestRng(5);
    let even = Key(vec![
        b(ids::ATTR_RSA_MODULUS, &[0x10; 64]),
        b(ids::ATTR_RSA_PUBLIC_EXPONENT, &[1, 0, 1]),
        b(ids::ATTR_RSA_PRIVATE_EXPONENT, &[3; 64]),
    ]);
    assert_eq!(operate(ids::ALG_RSA_NOPAD, ids::MODE_DECRYPT, &even, &NoAttrs, &[1], &mut rng).unwrap_err(), BAD);
    let huge = Key(vec![b(ids::ATTR_RSA_MODULUS, &[0xff; 600]), b(ids::ATTR_RSA_PUBLIC_EXPONENT, &[1, 0, 1])]);
    assert_eq!(operate(ids::ALG_RSA_NOPAD, ids::MODE_ENCRYPT, &huge, &NoAttrs, &[1], &mut rng).unwrap_err(), BAD);
    let empty = Key(vec![]);
    assert_eq!(verify(ids::ALG_RSASSA_PKCS1_V1_5, &empty, &NoAttrs, &[1], &[1]).unwrap_err(), BAD);
    let garbage = Key(vec![
        b(ids::ATTR_RSA_MODULUS, &[0xc5; 64]),
        b(ids::ATTR_RSA_PUBLIC_EXPONENT, &[1, 0, 1]),
        b(ids::ATTR_RSA_PRIVATE_EXPONENT, &[0x77; 64]),
    ]);
    assert!(operate(ids::ALG_RSAES_PKCS1_V1_5, ids::MODE_DECRYPT, &garbage, &NoAttrs, &[1; 64], &mut rng).is_err());
}

#[test]
fn rsa_generate_sign_verify() {
    let mut rng = TestRng(6);
    let k = Key(generate(ids::TYPE_RSA_KEYPAIR, 1024, &NoAttrs, &mut rng).unwrap());
    let ids_out: Vec<u32> = k.0.iter().map(Attr::id).collect();
    use ids::*;
    assert_eq!(
        ids_out,
        [
            ATTR_RSA_MODULUS,
            ATTR_RSA_PUBLIC_EXPONENT,
            ATTR_RSA_PRIVATE_EXPONENT,
            ATTR_RSA_PRIME1,
            ATTR_RSA_PRIME2,
            ATTR_RSA_EXPONENT1,
            ATTR_RSA_EXPONENT2,
            ATTR_RSA_COEFFICIENT
        ]
    );
    assert_eq!(k.bytes(ATTR_RSA_MODULUS).unwrap().len(), 128);
    assert_eq!(k.bytes(ATTR_RSA_PUBLIC_EXPONENT).unwrap(), &[1, 0, 1]);
    let d = sha(HashAlg::Sha256, b"gen");
    let sig = operate(ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, MODE_SIGN, &k, &NoAttrs, &d, &mut rng).unwrap();
    verify(ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, &k, &NoAttrs, &d, &sig).unwrap();
    // Public exponent rules.
    let p = L(vec![AttrRef::Bytes(ATTR_RSA_PUBLIC_EXPONENT, &[3])]);
    assert_eq!(generate(TYPE_RSA_KEYPAIR, 512, &p, &mut rng).unwrap_err(), BAD);
    let p = L(vec![AttrRef::Bytes(ATTR_RSA_PUBLIC_EXPONENT, &[1, 0, 0])]);
    assert_eq!(generate(TYPE_RSA_KEYPAIR, 512, &p, &mut rng).unwrap_err(), BAD);
    assert_eq!(generate(TYPE_RSA_KEYPAIR, 8192, &NoAttrs, &mut rng).unwrap_err(), BAD);
}

#[test]
fn ed25519_rfc8032_known_answers() {
    let v = vectors();
    for (name, ph) in
        [("ed25519_rfc_8032_7_1", false), ("ed25519ctx_rfc_8032_7_2", false), ("ed25519ph_rfc_8032_7_3", true)]
    {
        let get = |s: &str| v[&format!("{name}_{s}")].clone();
        let k = Key(vec![
            b(ids::ATTR_ED25519_PUBLIC_VALUE, &get("public")),
            b(ids::ATTR_ED25519_PRIVATE_VALUE, &get("private")),
        ]);
        let ctx = v.get(&format!("{name}_context")).cloned().unwrap_or_default();
        let mut p = vec![AttrRef::Value(ids::ATTR_EDDSA_PREHASH, ph as u32, 0)];
        if !ctx.is_empty() {
            p.push(AttrRef::Bytes(ids::ATTR_EDDSA_CTX, &ctx));
        }
        let p = L(p);
        let msg = get("ptx");
        let sig = operate(ids::ALG_ED25519, ids::MODE_SIGN, &k, &p, &msg, &mut TestRng(7)).unwrap();
        assert_eq!(&sig[..], &get("out")[..], "{name}");
        verify(ids::ALG_ED25519, &k, &p, &msg, &sig).unwrap();
        let mut bad = sig.to_vec();
        bad[40] ^= 4;
        assert_eq!(verify(ids::ALG_ED25519, &k, &p, &msg, &bad).unwrap_err(), INVALID, "{name}");
        assert_eq!(verify(ids::ALG_ED25519, &k, &p, &msg, &sig[..63]).unwrap_err(), BAD);
        // The same signature does not verify under another variant.
        assert_eq!(
            verify(ids::ALG_ED25519, &k, &L(vec![AttrRef::Bytes(ids::ATTR_EDDSA_CTX, b"x")]), &msg, &sig).unwrap_err(),
            INVALID
        );
    }
    let k = Key(generate(ids::TYPE_ED25519_KEYPAIR, 256, &NoAttrs, &mut TestRng(8)).unwrap());
    let sig = operate(ids::ALG_ED25519, ids::MODE_SIGN, &k, &NoAttrs, b"m", &mut TestRng(9)).unwrap();
    verify(ids::ALG_ED25519, &k, &NoAttrs, b"m", &sig).unwrap();
    let bad_ph = L(vec![AttrRef::Value(ids::ATTR_EDDSA_PREHASH, 2, 0)]);
    assert_eq!(operate(ids::ALG_ED25519, ids::MODE_SIGN, &k, &bad_ph, b"m", &mut TestRng(9)).unwrap_err(), BAD);
    let long = [0u8; 256];
    let long_ctx = L(vec![AttrRef::Bytes(ids::ATTR_EDDSA_CTX, &long)]);
    assert_eq!(operate(ids::ALG_ED25519, ids::MODE_SIGN, &k, &long_ctx, b"m", &mut TestRng(9)).unwrap_err(), BAD);
}

#[test]
fn x25519_rfc7748_known_answer() {
    let v = vectors();
    let alice = Key(vec![b(ids::ATTR_X25519_PRIVATE_VALUE, &v["x25519_alice_private"])]);
    let bob_pub = L(vec![AttrRef::Bytes(ids::ATTR_X25519_PUBLIC_VALUE, &v["x25519_bob_public"])]);
    let s = derive(ids::ALG_X25519, &alice, &bob_pub, &mut TestRng(1)).unwrap();
    assert_eq!(&s[..], &v["x25519_shared_secret"][..]);
    let zero = L(vec![AttrRef::Bytes(ids::ATTR_X25519_PUBLIC_VALUE, &[0; 32])]);
    assert_eq!(derive(ids::ALG_X25519, &alice, &zero, &mut TestRng(1)).unwrap_err(), TeeResult::ERROR_SECURITY);
    let short = L(vec![AttrRef::Bytes(ids::ATTR_X25519_PUBLIC_VALUE, &[9; 31])]);
    assert_eq!(derive(ids::ALG_X25519, &alice, &short, &mut TestRng(1)).unwrap_err(), BAD);
    let a = Key(generate(ids::TYPE_X25519_KEYPAIR, 256, &NoAttrs, &mut TestRng(2)).unwrap());
    let bk = Key(generate(ids::TYPE_X25519_KEYPAIR, 256, &NoAttrs, &mut TestRng(3)).unwrap());
    let s1 = derive(
        ids::ALG_X25519,
        &a,
        &L(vec![AttrRef::Bytes(ids::ATTR_X25519_PUBLIC_VALUE, bk.bytes(ids::ATTR_X25519_PUBLIC_VALUE).unwrap())]),
        &mut TestRng(1),
    )
    .unwrap();
    let s2 = derive(
        ids::ALG_X25519,
        &bk,
        &L(vec![AttrRef::Bytes(ids::ATTR_X25519_PUBLIC_VALUE, a.bytes(ids::ATTR_X25519_PUBLIC_VALUE).unwrap())]),
        &mut TestRng(1),
    )
    .unwrap();
    assert_eq!(s1, s2);
}

#[test]
fn dh_known_answer_and_generate() {
    let v = vectors();
    use ids::*;
    let k = Key(vec![
        b(ATTR_DH_PRIME, &v["derive_key_dh_prime"]),
        b(ATTR_DH_BASE, &v["derive_key_dh_base"]),
        b(ATTR_DH_PUBLIC_VALUE, &v["derive_key_dh_public_value"]),
        b(ATTR_DH_PRIVATE_VALUE, &v["derive_key_dh_private_value"]),
    ]);
    let p = L(vec![AttrRef::Bytes(ATTR_DH_PUBLIC_VALUE, &v["derive_key_dh_public_value_2"])]);
    let s = derive(ALG_DH_DERIVE_SHARED_SECRET, &k, &p, &mut TestRng(1)).unwrap();
    assert_eq!(&s[..], trim(&v["derive_key_dh_shared_secret"]));
    let dom = L(vec![
        AttrRef::Bytes(ATTR_DH_PRIME, &v["keygen_dh256_p"]),
        AttrRef::Bytes(ATTR_DH_BASE, &v["keygen_dh256_g"]),
    ]);
    let a = Key(generate(TYPE_DH_KEYPAIR, 256, &dom, &mut TestRng(2)).unwrap());
    let bk = Key(generate(TYPE_DH_KEYPAIR, 256, &dom, &mut TestRng(3)).unwrap());
    assert_eq!(a.value(ATTR_DH_X_BITS), Some((0, 0)));
    let s1 = derive(
        ALG_DH_DERIVE_SHARED_SECRET,
        &a,
        &L(vec![AttrRef::Bytes(ATTR_DH_PUBLIC_VALUE, bk.bytes(ATTR_DH_PUBLIC_VALUE).unwrap())]),
        &mut TestRng(1),
    )
    .unwrap();
    let s2 = derive(
        ALG_DH_DERIVE_SHARED_SECRET,
        &bk,
        &L(vec![AttrRef::Bytes(ATTR_DH_PUBLIC_VALUE, a.bytes(ATTR_DH_PUBLIC_VALUE).unwrap())]),
        &mut TestRng(1),
    )
    .unwrap();
    assert_eq!(s1, s2);
    assert_eq!(generate(TYPE_DH_KEYPAIR, 264, &dom, &mut TestRng(2)).unwrap_err(), BAD);
    let xb = L(vec![
        AttrRef::Bytes(ATTR_DH_PRIME, &v["keygen_dh256_p"]),
        AttrRef::Bytes(ATTR_DH_BASE, &v["keygen_dh256_g"]),
        AttrRef::Value(ATTR_DH_X_BITS, 12, 0),
    ]);
    assert_eq!(generate(TYPE_DH_KEYPAIR, 256, &xb, &mut TestRng(2)).unwrap_err(), BAD);
    let xb = L(vec![
        AttrRef::Bytes(ATTR_DH_PRIME, &v["keygen_dh256_p"]),
        AttrRef::Bytes(ATTR_DH_BASE, &v["keygen_dh256_g"]),
        AttrRef::Value(ATTR_DH_X_BITS, 64, 0),
    ]);
    let k = Key(generate(TYPE_DH_KEYPAIR, 256, &xb, &mut TestRng(2)).unwrap());
    assert!(k.bytes(ATTR_DH_PRIVATE_VALUE).unwrap().len() <= 8);
}

#[test]
fn dsa_generate_sign_verify() {
    let v = vectors();
    use ids::*;
    let dom = L(vec![
        AttrRef::Bytes(ATTR_DSA_PRIME, &v["keygen_dsa_test1_p"]),
        AttrRef::Bytes(ATTR_DSA_SUBPRIME, &v["keygen_dsa_test1_q"]),
        AttrRef::Bytes(ATTR_DSA_BASE, &v["keygen_dsa_test1_g"]),
    ]);
    let bits = 8 * v["keygen_dsa_test1_p"].len() as u32;
    let k = Key(generate(TYPE_DSA_KEYPAIR, bits, &dom, &mut TestRng(4)).unwrap());
    let d = sha(HashAlg::Sha1, b"dsa");
    let sig = operate(ALG_DSA_SHA1, MODE_SIGN, &k, &NoAttrs, &d, &mut TestRng(5)).unwrap();
    assert_eq!(sig.len(), 40);
    verify(ALG_DSA_SHA1, &k, &NoAttrs, &d, &sig).unwrap();
    let mut bad = sig.to_vec();
    bad[39] ^= 1;
    assert_eq!(verify(ALG_DSA_SHA1, &k, &NoAttrs, &d, &bad).unwrap_err(), INVALID);
    assert_eq!(verify(ALG_DSA_SHA1, &k, &NoAttrs, &d, &[0; 40]).unwrap_err(), INVALID);
    assert_eq!(
        operate(ALG_DSA_SHA1, MODE_SIGN, &k, &NoAttrs, &d[1..], &mut TestRng(5)).unwrap_err(),
        TeeResult::ERROR_SECURITY
    );
    // SHA-256 digest on a 160-bit subprime: truncated to 20 bytes.
    let d = sha(HashAlg::Sha256, b"dsa");
    let sig = operate(ALG_DSA_SHA256, MODE_SIGN, &k, &NoAttrs, &d[..20], &mut TestRng(6)).unwrap();
    verify(ALG_DSA_SHA256, &k, &NoAttrs, &d[..20], &sig).unwrap();
    verify(ALG_DSA_SHA256, &k, &NoAttrs, &d, &sig).unwrap();
}

#[test]
fn ecdsa_ecdh_every_curve() {
    use ids::*;
    let curves = [
        (ECC_CURVE_NIST_P192, 192, ALG_ECDSA_SHA1, HashAlg::Sha1, 24),
        (ECC_CURVE_NIST_P224, 224, ALG_ECDSA_SHA224, HashAlg::Sha224, 28),
        (ECC_CURVE_NIST_P256, 256, ALG_ECDSA_SHA256, HashAlg::Sha256, 32),
        (ECC_CURVE_NIST_P384, 384, ALG_ECDSA_SHA384, HashAlg::Sha384, 48),
        (ECC_CURVE_NIST_P521, 521, ALG_ECDSA_SHA512, HashAlg::Sha512, 66),
    ];
    for (i, (curve, bits, alg, h, len)) in curves.into_iter().enumerate() {
        let p = L(vec![AttrRef::Value(ATTR_ECC_CURVE, curve, 0)]);
        let k = Key(generate(TYPE_ECDSA_KEYPAIR, bits, &p, &mut TestRng(10 + i as u64)).unwrap());
        assert_eq!(k.value(ATTR_ECC_CURVE), Some((curve, 0)));
        for d in [sha(h, b"ecdsa"), sha(HashAlg::Sha512, b"long"), vec![0x5a; 3], vec![0xa5; 100]] {
            let sig = operate(alg, MODE_SIGN, &k, &NoAttrs, &d, &mut TestRng(20)).unwrap();
            assert_eq!(sig.len(), 2 * len);
            verify(alg, &k, &NoAttrs, &d, &sig).unwrap();
            let mut bad = sig.to_vec();
            bad[len + 1] ^= 1;
            assert_eq!(verify(alg, &k, &NoAttrs, &d, &bad).unwrap_err(), INVALID);
            assert_eq!(verify(alg, &k, &NoAttrs, &d, &sig[1..]).unwrap_err(), BAD);
        }
        assert_eq!(verify(alg, &k, &NoAttrs, b"x", &vec![0; 2 * len]).unwrap_err(), INVALID);
        let other = if alg == ALG_ECDSA_SHA1 { ALG_ECDSA_SHA256 } else { ALG_ECDSA_SHA1 };
        assert_eq!(operate(other, MODE_SIGN, &k, &NoAttrs, b"x", &mut TestRng(1)).unwrap_err(), BAD);
        assert_eq!(generate(TYPE_ECDSA_KEYPAIR, bits + 1, &p, &mut TestRng(1)).unwrap_err(), BAD);
        // ECDH both ways; a point off the curve is refused.
        let a = Key(generate(TYPE_ECDH_KEYPAIR, bits, &p, &mut TestRng(30 + i as u64)).unwrap());
        let peer = |k: &Key| {
            (k.bytes(ATTR_ECC_PUBLIC_VALUE_X).unwrap().to_vec(), k.bytes(ATTR_ECC_PUBLIC_VALUE_Y).unwrap().to_vec())
        };
        let (ax, ay) = peer(&a);
        let (kx, ky) = peer(&k);
        let s1 = derive(
            ALG_ECDH_DERIVE_SHARED_SECRET,
            &a,
            &L(vec![AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_X, &kx), AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_Y, &ky)]),
            &mut TestRng(1),
        )
        .unwrap();
        let s2 = derive(
            ALG_ECDH_DERIVE_SHARED_SECRET,
            &k,
            &L(vec![AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_X, &ax), AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_Y, &ay)]),
            &mut TestRng(1),
        )
        .unwrap();
        assert_eq!(s1, s2);
        assert_eq!(s1.len(), len);
        let mut by = ky.clone();
        *by.last_mut().unwrap() ^= 1;
        assert_eq!(
            derive(
                ALG_ECDH_DERIVE_SHARED_SECRET,
                &a,
                &L(vec![AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_X, &kx), AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_Y, &by)]),
                &mut TestRng(1)
            )
            .unwrap_err(),
            BAD
        );
        let zero_d = Key(vec![
            b(ATTR_ECC_PRIVATE_VALUE, &[0]),
            b(ATTR_ECC_PUBLIC_VALUE_X, &kx),
            b(ATTR_ECC_PUBLIC_VALUE_Y, &ky),
            Attr::Value(ATTR_ECC_CURVE, curve, 0),
        ]);
        assert_eq!(operate(alg, MODE_SIGN, &zero_d, &NoAttrs, b"x", &mut TestRng(1)).unwrap_err(), BAD);
    }
    let p = L(vec![AttrRef::Value(ATTR_ECC_CURVE, 0x77, 0)]);
    assert_eq!(generate(TYPE_ECDSA_KEYPAIR, 256, &p, &mut TestRng(1)).unwrap_err(), TeeResult::ERROR_NOT_SUPPORTED);
}

/// Our P-256 signature over a SHA-256 digest verifies with the p256
/// crate's own verifier (an independent path from our truncation).
#[test]
fn ecdsa_p256_cross_check() {
    use ids::*;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let p = L(vec![AttrRef::Value(ATTR_ECC_CURVE, ECC_CURVE_NIST_P256, 0)]);
    let k = Key(generate(TYPE_ECDSA_KEYPAIR, 256, &p, &mut TestRng(40)).unwrap());
    let d = sha(HashAlg::Sha256, b"cross");
    let sig = operate(ALG_ECDSA_SHA256, MODE_SIGN, &k, &NoAttrs, &d, &mut TestRng(41)).unwrap();
    let mut sec1 = vec![4u8];
    sec1.extend(pad_left(k.bytes(ATTR_ECC_PUBLIC_VALUE_X).unwrap(), 32));
    sec1.extend(pad_left(k.bytes(ATTR_ECC_PUBLIC_VALUE_Y).unwrap(), 32));
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let s = p256::ecdsa::Signature::from_slice(&sig).unwrap();
    vk.verify_prehash(&d, &s).unwrap();
}

#[test]
fn digest_truncation_takes_leftmost_bits() {
    assert_eq!(ecc::tests_digest_to_int(&[0xff, 0x80, 0x01], 9), vec![0x01, 0xff]);
    assert_eq!(ecc::tests_digest_to_int(&[0x12], 16), vec![0x00, 0x12]);
    assert_eq!(ecc::tests_digest_to_int(&[0x12, 0x34, 0x56], 16), vec![0x12, 0x34]);
}

#[test]
fn sm2_gmt0003_known_answers_and_round_trips() {
    use digest::Digest;
    use ids::*;
    let v = vectors();
    let key = |p: &str| {
        Key(vec![
            b(ATTR_ECC_PRIVATE_VALUE, &v[&format!("{p}_private")]),
            b(ATTR_ECC_PUBLIC_VALUE_X, &v[&format!("{p}_public_x")]),
            b(ATTR_ECC_PUBLIC_VALUE_Y, &v[&format!("{p}_public_y")]),
        ])
    };
    // Signature (Annex A.2): e = SM3(ZA || M), the TA's to compute.
    let k = key("gmt_003_part5_a2");
    let e = sm3::Sm3::digest(&v["gmt_003_part5_a2_ptx"]).to_vec();
    let sig = &v["gmt_003_part5_a2_out"];
    verify(ALG_SM2_DSA_SM3, &k, &NoAttrs, &e, sig).unwrap();
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert_eq!(verify(ALG_SM2_DSA_SM3, &k, &NoAttrs, &e, &bad).unwrap_err(), INVALID);
    assert_eq!(verify(ALG_SM2_DSA_SM3, &k, &NoAttrs, &e, &sig[1..]).unwrap_err(), BAD);
    let mine = operate(ALG_SM2_DSA_SM3, MODE_SIGN, &k, &NoAttrs, &e, &mut TestRng(50)).unwrap();
    verify(ALG_SM2_DSA_SM3, &k, &NoAttrs, &e, &mine).unwrap();
    // e of another length is a number like any other.
    let mine = operate(ALG_SM2_DSA_SM3, MODE_SIGN, &k, &NoAttrs, &e[..20], &mut TestRng(51)).unwrap();
    verify(ALG_SM2_DSA_SM3, &k, &NoAttrs, &e[..20], &mine).unwrap();
    assert_eq!(verify(ALG_SM2_DSA_SM3, &k, &NoAttrs, &e[..21], &mine).unwrap_err(), INVALID);

    // Encryption (Annex C.2), C1 || C2 || C3.
    let k = key("gmt_0003_part5_c2_sm2_testvector");
    let c = &v["gmt_0003_part5_c2_sm2_testvector_out"];
    let m = operate(ALG_SM2_PKE, MODE_DECRYPT, &k, &NoAttrs, c, &mut TestRng(1)).unwrap();
    assert_eq!(&m[..], b"encryption standard");
    let mut bad = c.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        operate(ALG_SM2_PKE, MODE_DECRYPT, &k, &NoAttrs, &bad, &mut TestRng(1)).unwrap_err(),
        TeeResult::ERROR_CIPHERTEXT_INVALID
    );
    let mut bad = c.clone();
    bad[0] = 2;
    assert_eq!(
        operate(ALG_SM2_PKE, MODE_DECRYPT, &k, &NoAttrs, &bad, &mut TestRng(1)).unwrap_err(),
        TeeResult::ERROR_NOT_SUPPORTED
    );
    assert_eq!(operate(ALG_SM2_PKE, MODE_DECRYPT, &k, &NoAttrs, &c[..97], &mut TestRng(1)).unwrap_err(), BAD);
    let mut bad = c.clone();
    bad[5] ^= 1;
    assert_eq!(operate(ALG_SM2_PKE, MODE_DECRYPT, &k, &NoAttrs, &bad, &mut TestRng(1)).unwrap_err(), BAD);
    let g = Key(generate(TYPE_SM2_PKE_KEYPAIR, 256, &NoAttrs, &mut TestRng(52)).unwrap());
    assert_eq!(g.value(ATTR_ECC_CURVE), None);
    let c = operate(ALG_SM2_PKE, MODE_ENCRYPT, &g, &NoAttrs, b"oxtee sm2", &mut TestRng(53)).unwrap();
    assert_eq!(c.len(), 65 + 9 + 32);
    let m = operate(ALG_SM2_PKE, MODE_DECRYPT, &g, &NoAttrs, &c, &mut TestRng(1)).unwrap();
    assert_eq!(&m[..], b"oxtee sm2");
    assert_eq!(generate(TYPE_SM2_DSA_KEYPAIR, 255, &NoAttrs, &mut TestRng(1)).unwrap_err(), BAD);
}

/// RSA-4096 with CRT values: OpenSSL-made ciphertexts and signature.
#[test]
fn rsa_4096_decrypt_and_verify_foreign_vectors() {
    use ids::*;
    let v: HashMap<String, Vec<u8>> = include_str!("../../vectors/pk/rsa4096.txt")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, x)| (k.into(), hex(x)))
        .collect();
    let g = |s: &str| v[&format!("rsa4096_{s}")].clone();
    let k = Key(vec![
        b(ATTR_RSA_MODULUS, &g("modulus")),
        b(ATTR_RSA_PUBLIC_EXPONENT, &g("pub_exp")),
        b(ATTR_RSA_PRIVATE_EXPONENT, &g("priv_exp")),
        b(ATTR_RSA_PRIME1, &g("prime1")),
        b(ATTR_RSA_PRIME2, &g("prime2")),
        b(ATTR_RSA_EXPONENT1, &g("exp1")),
        b(ATTR_RSA_EXPONENT2, &g("exp2")),
        b(ATTR_RSA_COEFFICIENT, &g("coeff")),
    ]);
    let mut rng = TestRng(60);
    let m = operate(ALG_RSAES_PKCS1_V1_5, MODE_DECRYPT, &k, &NoAttrs, &g("v15_out"), &mut rng).unwrap();
    assert_eq!(&m[..], &g("ptx")[..]);
    let mgf = ALG_SHA1.to_le_bytes();
    let p = L(vec![AttrRef::Bytes(ATTR_RSA_OAEP_LABEL, b"gp"), AttrRef::Bytes(ATTR_RSA_OAEP_MGF_HASH, &mgf)]);
    let m = operate(
        ALG_RSAES_PKCS1_OAEP_MGF1_SHA256,
        MODE_DECRYPT,
        &k,
        &p,
        &g("oaep_sha256_mgf1_sha1_label_gp_out"),
        &mut rng,
    )
    .unwrap();
    assert_eq!(&m[..], &g("ptx")[..]);
    let d = sha(HashAlg::Sha384, &g("ptx"));
    let salt = L(vec![AttrRef::Value(ATTR_RSA_PSS_SALT_LENGTH, 48, 0)]);
    verify(ALG_RSASSA_PKCS1_PSS_MGF1_SHA384, &k, &salt, &d, &g("pss_sha384_salt48_sig")).unwrap();
    // And our own 4096-bit signature over the same key (CRT, blinded).
    let sig = operate(ALG_RSASSA_PKCS1_V1_5_SHA384, MODE_SIGN, &k, &NoAttrs, &d, &mut rng).unwrap();
    assert_eq!(sig.len(), 512);
    verify(ALG_RSASSA_PKCS1_V1_5_SHA384, &k, &NoAttrs, &d, &sig).unwrap();
    // Without the CRT values (n, e, d only) the answer is the same.
    let nd = Key(k.0[..3].to_vec());
    let m = operate(ALG_RSAES_PKCS1_V1_5, MODE_DECRYPT, &nd, &NoAttrs, &g("v15_out"), &mut rng).unwrap();
    assert_eq!(&m[..], &g("ptx")[..]);
}

/// Random garbage in every attribute and input: defined errors (or, by
/// chance, results), never a panic.
#[test]
fn hostile_attributes_never_panic() {
    use ids::*;
    let attrs = [
        ATTR_RSA_MODULUS,
        ATTR_RSA_PUBLIC_EXPONENT,
        ATTR_RSA_PRIVATE_EXPONENT,
        ATTR_RSA_PRIME1,
        ATTR_RSA_PRIME2,
        ATTR_DSA_PRIME,
        ATTR_DSA_SUBPRIME,
        ATTR_DSA_BASE,
        ATTR_DSA_PUBLIC_VALUE,
        ATTR_DSA_PRIVATE_VALUE,
        ATTR_DH_PRIME,
        ATTR_DH_BASE,
        ATTR_DH_SUBPRIME,
        ATTR_DH_PUBLIC_VALUE,
        ATTR_DH_PRIVATE_VALUE,
        ATTR_ECC_PUBLIC_VALUE_X,
        ATTR_ECC_PUBLIC_VALUE_Y,
        ATTR_ECC_PRIVATE_VALUE,
        ATTR_ED25519_PUBLIC_VALUE,
        ATTR_ED25519_PRIVATE_VALUE,
        ATTR_X25519_PUBLIC_VALUE,
        ATTR_X25519_PRIVATE_VALUE,
        ATTR_RSA_OAEP_LABEL,
        ATTR_RSA_OAEP_MGF_HASH,
        ATTR_EDDSA_CTX,
    ];
    let algs = [
        ALG_RSA_NOPAD,
        ALG_RSAES_PKCS1_V1_5,
        ALG_RSAES_PKCS1_OAEP_MGF1_SHA256,
        ALG_RSASSA_PKCS1_V1_5,
        ALG_RSASSA_PKCS1_V1_5_SHA256,
        ALG_RSASSA_PKCS1_PSS_MGF1_SHA1,
        ALG_DSA_SHA1,
        ALG_DSA_SHA256,
        ALG_ECDSA_SHA1,
        ALG_ECDSA_SHA256,
        ALG_ECDSA_SHA512,
        ALG_ED25519,
        ALG_SM2_DSA_SM3,
        ALG_SM2_PKE,
    ];
    let mut rng = TestRng(99);
    let pick = |rng: &mut TestRng, max: usize| {
        let mut x = [0u8; 2];
        rng.fill(&mut x);
        usize::from(u16::from_le_bytes(x)) % max
    };
    for round in 0..3000 {
        let mut bufs = Vec::new();
        for _ in attrs {
            let len = [0, 1, 4, 20, 32, 64, 66, 128, 200][pick(&mut rng, 9)];
            let mut v = vec![0u8; len];
            rng.fill(&mut v);
            if len > 0 && pick(&mut rng, 2) == 0 {
                v[len - 1] |= 1;
            }
            bufs.push(v);
        }
        let mut list: Vec<Attr> = attrs.iter().zip(&bufs).map(|(&id, v)| b(id, v)).collect();
        let curve = [0, ECC_CURVE_NIST_P192, ECC_CURVE_NIST_P256, ECC_CURVE_NIST_P521, 0x99][pick(&mut rng, 5)];
        list.push(Attr::Value(ATTR_ECC_CURVE, curve, 0));
        list.push(Attr::Value(ATTR_RSA_PSS_SALT_LENGTH, [0, 20, 1000, u32::MAX][pick(&mut rng, 4)], 0));
        list.push(Attr::Value(ATTR_EDDSA_PREHASH, pick(&mut rng, 3) as u32, 0));
        list.push(Attr::Value(ATTR_DH_X_BITS, [0, 8, 64, 4096, 7][pick(&mut rng, 5)], 0));
        let k = Key(list);
        let input = bufs[pick(&mut rng, bufs.len())].clone();
        let sig = bufs[pick(&mut rng, bufs.len())].clone();
        let a = algs[round % algs.len()];
        for mode in [MODE_ENCRYPT, MODE_DECRYPT, MODE_SIGN] {
            let _ = operate(a, mode, &k, &k, &input, &mut rng);
        }
        let _ = verify(a, &k, &k, &input, &sig);
        for d in [ALG_DH_DERIVE_SHARED_SECRET, ALG_ECDH_DERIVE_SHARED_SECRET, ALG_X25519, ALG_SM2_KEP] {
            let _ = derive(d, &k, &k, &mut rng);
        }
        let _ = sm2_kep_derive(&k, &k, &k, pick(&mut rng, 100));
        if round % 20 == 0 {
            for t in [TYPE_DH_KEYPAIR, TYPE_DSA_KEYPAIR, TYPE_ECDSA_KEYPAIR] {
                let _ = generate(t, [256, 512, 1024, 192][pick(&mut rng, 4)], &k, &mut rng);
            }
        }
    }
}

/// Valid keys with one attribute mangled (cut, grown, flipped, zeroed):
/// defined errors or results, never a panic.
#[test]
fn mangled_keys_never_panic() {
    use ids::*;
    let v = vectors();
    let mut rng = TestRng(123);
    let ec = |c, bits, seed| {
        Key(generate(TYPE_ECDSA_KEYPAIR, bits, &L(vec![AttrRef::Value(ATTR_ECC_CURVE, c, 0)]), &mut TestRng(seed))
            .unwrap())
    };
    let dsa_dom = L(vec![
        AttrRef::Bytes(ATTR_DSA_PRIME, &v["keygen_dsa_test1_p"]),
        AttrRef::Bytes(ATTR_DSA_SUBPRIME, &v["keygen_dsa_test1_q"]),
        AttrRef::Bytes(ATTR_DSA_BASE, &v["keygen_dsa_test1_g"]),
    ]);
    let dh_dom = L(vec![
        AttrRef::Bytes(ATTR_DH_PRIME, &v["keygen_dh256_p"]),
        AttrRef::Bytes(ATTR_DH_BASE, &v["keygen_dh256_g"]),
    ]);
    let keys: Vec<(Key, &[u32])> = vec![
        (
            rsa_key(&v, "ac_rsassa_vect3"),
            &[
                ALG_RSA_NOPAD,
                ALG_RSAES_PKCS1_V1_5,
                ALG_RSAES_PKCS1_OAEP_MGF1_SHA1,
                ALG_RSASSA_PKCS1_V1_5_SHA1,
                ALG_RSASSA_PKCS1_PSS_MGF1_SHA1,
            ],
        ),
        (Key(generate(TYPE_DSA_KEYPAIR, 1024, &dsa_dom, &mut TestRng(1)).unwrap()), &[ALG_DSA_SHA1]),
        (Key(generate(TYPE_DH_KEYPAIR, 256, &dh_dom, &mut TestRng(2)).unwrap()), &[ALG_DH_DERIVE_SHARED_SECRET]),
        (ec(ECC_CURVE_NIST_P192, 192, 3), &[ALG_ECDSA_SHA1, ALG_ECDH_DERIVE_SHARED_SECRET]),
        (ec(ECC_CURVE_NIST_P521, 521, 4), &[ALG_ECDSA_SHA512, ALG_ECDH_DERIVE_SHARED_SECRET]),
        (Key(generate(TYPE_SM2_DSA_KEYPAIR, 256, &NoAttrs, &mut TestRng(5)).unwrap()), &[ALG_SM2_DSA_SM3, ALG_SM2_PKE]),
        (Key(generate(TYPE_ED25519_KEYPAIR, 256, &NoAttrs, &mut TestRng(6)).unwrap()), &[ALG_ED25519]),
        (Key(generate(TYPE_X25519_KEYPAIR, 256, &NoAttrs, &mut TestRng(7)).unwrap()), &[ALG_X25519]),
    ];
    let r16 = |rng: &mut TestRng| {
        let mut x = [0u8; 2];
        rng.fill(&mut x);
        usize::from(u16::from_le_bytes(x))
    };
    for round in 0..1500 {
        let (key, algs) = &keys[round % keys.len()];
        let mut attrs = key.0.clone();
        let i = r16(&mut rng) % attrs.len();
        if let Attr::Bytes(_, ref mut b) = attrs[i] {
            match r16(&mut rng) % 5 {
                0 => {
                    let n = r16(&mut rng) % (b.len() + 1);
                    b.truncate(n)
                }
                1 => b.extend(core::iter::repeat_n(0xff, 1 + r16(&mut rng) % 80)),
                2 => b.insert(0, 0),
                3 => b.iter_mut().for_each(|x| *x = 0),
                _ => {
                    let n = b.len().max(1);
                    if let Some(x) = b.get_mut(r16(&mut rng) % n) {
                        *x ^= 1 << (r16(&mut rng) % 8);
                    }
                }
            }
        }
        let k = Key(attrs);
        let peer = &keys[round % keys.len()].0;
        let input = sha(HashAlg::Sha1, &round.to_le_bytes());
        for &a in *algs {
            for mode in [MODE_ENCRYPT, MODE_DECRYPT, MODE_SIGN] {
                if let Ok(out) = operate(a, mode, &k, &NoAttrs, &input, &mut rng) {
                    let _ = verify(a, &k, &NoAttrs, &input, &out);
                }
            }
            let _ = derive(a, &k, peer, &mut rng);
            let _ = derive(a, peer, &k, &mut rng);
            let _ = sm2_kep_derive(&k, peer, &k, 16);
        }
    }
}

/// SM2 key exchange, GM/T 0003 part 5 annex B.2, from both sides; and
/// ZA (default identity "1234567812345678") against annex A.2's (the
/// first 32 bytes of its signed input).
#[test]
fn sm2_kep_gmt0003_b2_both_sides() {
    use ids::*;
    let v = vectors();
    let g = |s: &str| v[&format!("gmt_003_part5_b2_{s}")].clone();
    let pt = |x: &str, y: &str| AffinePointBytes(g(x), g(y));
    struct AffinePointBytes(Vec<u8>, Vec<u8>);
    let key = |d: &str, p: AffinePointBytes| {
        Key(vec![b(ATTR_ECC_PRIVATE_VALUE, &g(d)), b(ATTR_ECC_PUBLIC_VALUE_X, &p.0), b(ATTR_ECC_PUBLIC_VALUE_Y, &p.1)])
    };
    let a = key("private_A", pt("public_xA", "public_yA"));
    let a_eph = key("eph_private_A", pt("eph_public_xA", "eph_public_yA"));
    let bk = key("private_B", pt("public_xB", "public_yB"));
    let b_eph = key("eph_private_B", pt("eph_public_xB", "eph_public_yB"));
    let (id_a, id_b) = (g("id_A"), g("id_B"));
    let (conf_a, conf_b) = (g("conf_A"), g("conf_B"));
    let out_buf = [0u8; 32];
    #[allow(clippy::too_many_arguments)]
    fn params<'a>(
        user: u32,
        peer: &'a Key,
        peer_eph: &'a Key,
        id_a: &'a [u8],
        id_b: &'a [u8],
        out: &'a [u8],
        conf_in: &'a [u8],
    ) -> L<'a> {
        L(vec![
            AttrRef::Value(ATTR_SM2_KEP_USER, user, 0),
            AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_X, peer.bytes(ATTR_ECC_PUBLIC_VALUE_X).unwrap()),
            AttrRef::Bytes(ATTR_ECC_PUBLIC_VALUE_Y, peer.bytes(ATTR_ECC_PUBLIC_VALUE_Y).unwrap()),
            AttrRef::Bytes(ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_X, peer_eph.bytes(ATTR_ECC_PUBLIC_VALUE_X).unwrap()),
            AttrRef::Bytes(ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_Y, peer_eph.bytes(ATTR_ECC_PUBLIC_VALUE_Y).unwrap()),
            AttrRef::Bytes(ATTR_SM2_ID_INITIATOR, id_a),
            AttrRef::Bytes(ATTR_SM2_ID_RESPONDER, id_b),
            AttrRef::Bytes(ATTR_SM2_KEP_CONFIRMATION_OUT, out),
            AttrRef::Bytes(ATTR_SM2_KEP_CONFIRMATION_IN, conf_in),
        ])
    }
    let shared = g("shared_secret");
    let (k, c) =
        sm2_kep_derive(&a, &a_eph, &params(0, &bk, &b_eph, &id_a, &id_b, &out_buf, &conf_b), shared.len()).unwrap();
    assert_eq!(&k[..], &shared[..]);
    assert_eq!(&c.unwrap()[..], &conf_a[..]);
    let (k, c) =
        sm2_kep_derive(&bk, &b_eph, &params(1, &a, &a_eph, &id_a, &id_b, &out_buf, &conf_a), shared.len()).unwrap();
    assert_eq!(&k[..], &shared[..]);
    assert_eq!(&c.unwrap()[..], &conf_b[..]);
    // A wrong confirmation is refused.
    assert_eq!(
        sm2_kep_derive(&a, &a_eph, &params(0, &bk, &b_eph, &id_a, &id_b, &out_buf, &conf_a), 16).unwrap_err(),
        TeeResult::ERROR_BAD_STATE
    );
    assert_eq!(derive(ALG_SM2_KEP, &a, &NoAttrs, &mut TestRng(1)).unwrap_err(), TeeResult::ERROR_NOT_SUPPORTED);

    let a2 = vectors();
    let mut x = ::sm2::FieldBytes::default();
    x.copy_from_slice(&a2["gmt_003_part5_a2_public_x"]);
    let mut y = ::sm2::FieldBytes::default();
    y.copy_from_slice(&a2["gmt_003_part5_a2_public_y"]);
    use ::sm2::elliptic_curve::point::AffineCoordinates;
    let p = ::sm2::AffinePoint::from_coordinates(&x, &y).unwrap();
    let za = super::sm2::z_value(b"1234567812345678", &p).unwrap();
    assert_eq!(&za[..], &a2["gmt_003_part5_a2_ptx"][..32]);
}
