//! Host tests of the symmetric algorithms: known-answer vectors from the
//! standards (`vectors/*.txt`) on both the portable path and a portable
//! implementation of the accelerator hook, cross-checks of the two paths
//! over random lengths and splits, state copies, and upstream's error
//! codes.

extern crate std;

mod accel_impl;
mod kat;
mod props;

use crate::accel::Accel;
use std::collections::BTreeMap;
use std::string::String;
use std::vec::Vec;

pub(crate) use accel_impl::TEST_ACCEL;

/// Both implementations of the primitives: portable, and through the
/// accelerator hook.
pub(crate) fn paths() -> [Option<&'static dyn Accel>; 2] {
    [None, Some(&TEST_ACCEL)]
}

/// One vector: field name to value (hex still encoded).
pub(crate) struct Vector(BTreeMap<String, String>);

impl Vector {
    pub(crate) fn s(&self, k: &str) -> &str {
        self.0.get(k).unwrap_or_else(|| panic!("field {k}"))
    }
    pub(crate) fn h(&self, k: &str) -> Vec<u8> {
        hex(self.s(k))
    }
    pub(crate) fn n(&self, k: &str) -> usize {
        self.s(k).parse().expect("decimal")
    }
    pub(crate) fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

pub(crate) fn vectors(text: &str) -> Vec<Vector> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            Vector(
                l.split_whitespace()
                    .map(|f| {
                        let (k, v) = f.split_once('=').expect("name=value");
                        (String::from(k), String::from(v))
                    })
                    .collect(),
            )
        })
        .collect()
}

/// `TEE_ALG_*` for a vector's `alg` name.
pub(crate) fn alg(name: &str) -> u32 {
    use crate::ids::*;
    match name {
        "MD5" => ALG_MD5,
        "SHA1" => ALG_SHA1,
        "SHA224" => ALG_SHA224,
        "SHA256" => ALG_SHA256,
        "SHA384" => ALG_SHA384,
        "SHA512" => ALG_SHA512,
        "SHA3_224" => ALG_SHA3_224,
        "SHA3_256" => ALG_SHA3_256,
        "SHA3_384" => ALG_SHA3_384,
        "SHA3_512" => ALG_SHA3_512,
        "SHAKE128" => ALG_SHAKE128,
        "SHAKE256" => ALG_SHAKE256,
        "SM3" => ALG_SM3,
        "HMAC_MD5" => ALG_HMAC_MD5,
        "HMAC_SHA1" => ALG_HMAC_SHA1,
        "HMAC_SHA224" => ALG_HMAC_SHA224,
        "HMAC_SHA256" => ALG_HMAC_SHA256,
        "HMAC_SHA384" => ALG_HMAC_SHA384,
        "HMAC_SHA512" => ALG_HMAC_SHA512,
        "HMAC_SHA3_224" => ALG_HMAC_SHA3_224,
        "HMAC_SHA3_256" => ALG_HMAC_SHA3_256,
        "HMAC_SHA3_384" => ALG_HMAC_SHA3_384,
        "HMAC_SHA3_512" => ALG_HMAC_SHA3_512,
        "HMAC_SM3" => ALG_HMAC_SM3,
        "AES_CMAC" => ALG_AES_CMAC,
        "DES3_CMAC" => ALG_DES3_CMAC,
        "AES_CBC_MAC_NOPAD" => ALG_AES_CBC_MAC_NOPAD,
        "AES_CBC_MAC_PKCS5" => ALG_AES_CBC_MAC_PKCS5,
        "DES_CBC_MAC_NOPAD" => ALG_DES_CBC_MAC_NOPAD,
        "DES_CBC_MAC_PKCS5" => ALG_DES_CBC_MAC_PKCS5,
        "DES3_CBC_MAC_NOPAD" => ALG_DES3_CBC_MAC_NOPAD,
        "DES3_CBC_MAC_PKCS5" => ALG_DES3_CBC_MAC_PKCS5,
        "AES_ECB_NOPAD" => ALG_AES_ECB_NOPAD,
        "AES_CBC_NOPAD" => ALG_AES_CBC_NOPAD,
        "AES_CTR" => ALG_AES_CTR,
        "AES_CTS" => ALG_AES_CTS,
        "AES_XTS" => ALG_AES_XTS,
        "DES_ECB_NOPAD" => ALG_DES_ECB_NOPAD,
        "DES_CBC_NOPAD" => ALG_DES_CBC_NOPAD,
        "DES3_ECB_NOPAD" => ALG_DES3_ECB_NOPAD,
        "DES3_CBC_NOPAD" => ALG_DES3_CBC_NOPAD,
        "SM4_ECB_NOPAD" => ALG_SM4_ECB_NOPAD,
        "SM4_CBC_NOPAD" => ALG_SM4_CBC_NOPAD,
        "SM4_CTR" => ALG_SM4_CTR,
        "SM4_XTS" => ALG_SM4_XTS,
        "AES_GCM" => ALG_AES_GCM,
        "AES_CCM" => ALG_AES_CCM,
        "HKDF_MD5" => ALG_HKDF_MD5_DERIVE_KEY,
        "HKDF_SHA1" => ALG_HKDF_SHA1_DERIVE_KEY,
        "HKDF_SHA224" => ALG_HKDF_SHA224_DERIVE_KEY,
        "HKDF_SHA256" => ALG_HKDF_SHA256_DERIVE_KEY,
        "HKDF_SHA384" => ALG_HKDF_SHA384_DERIVE_KEY,
        "HKDF_SHA512" => ALG_HKDF_SHA512_DERIVE_KEY,
        "PBKDF2_SHA1" => ALG_PBKDF2_HMAC_SHA1_DERIVE_KEY,
        "PBKDF2_SHA224" => ALG_PBKDF2_HMAC_SHA224_DERIVE_KEY,
        "PBKDF2_SHA256" => ALG_PBKDF2_HMAC_SHA256_DERIVE_KEY,
        "PBKDF2_SHA384" => ALG_PBKDF2_HMAC_SHA384_DERIVE_KEY,
        "PBKDF2_SHA512" => ALG_PBKDF2_HMAC_SHA512_DERIVE_KEY,
        "PBKDF2_SM3" => ALG_PBKDF2_HMAC_SM3_DERIVE_KEY,
        "CONCAT_KDF_SHA1" => ALG_CONCAT_KDF_SHA1_DERIVE_KEY,
        "CONCAT_KDF_SHA224" => ALG_CONCAT_KDF_SHA224_DERIVE_KEY,
        "CONCAT_KDF_SHA256" => ALG_CONCAT_KDF_SHA256_DERIVE_KEY,
        "CONCAT_KDF_SHA384" => ALG_CONCAT_KDF_SHA384_DERIVE_KEY,
        "CONCAT_KDF_SHA512" => ALG_CONCAT_KDF_SHA512_DERIVE_KEY,
        _ => panic!("unknown algorithm {name}"),
    }
}

/// A small deterministic generator (xorshift64*) for lengths and data.
pub(crate) struct Prng(u64);

impl Prng {
    pub(crate) fn new(seed: u64) -> Prng {
        Prng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// Random cut points splitting `len` into pieces, multiples of
    /// `unit` except possibly the last.
    pub(crate) fn splits(&mut self, len: usize, unit: usize) -> Vec<usize> {
        let mut cuts = Vec::new();
        let mut at = 0;
        while at < len {
            let step = (self.below(4) * unit + if self.below(3) == 0 { 0 } else { unit * self.below(40) }).max(unit);
            at = (at + step).min(len);
            cuts.push(at);
        }
        cuts
    }
}
