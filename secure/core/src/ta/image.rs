//! Signed TA images: the `shdr` wrapper that the normal world hands over for
//! a TA, checked against the OS's TA key before any ELF byte is believed.
//!
//! The format and the error codes follow upstream's REE-FS loader: every
//! rejection in the header, signature and digest path is
//! `TEE_ERROR_SECURITY`, whatever the cause (truncation, bad magic, bad
//! size, bad signature), so a caller can't tell a forger which check failed.
//! Image types this OS doesn't implement (encrypted TAs, subkey chains) are
//! `TEE_ERROR_NOT_SUPPORTED`, reported only once the header's signature has
//! proved the image came from the key holder.
//!
//! The caller passes a private secure-world copy, so nothing here re-reads
//! memory the normal world can still change. This module doesn't log: a
//! refusal says which check failed ([`Reject`]) and the caller logs that
//! on the secure console, which the normal world can't read.

use alloc::vec::Vec;
use core::fmt;
use oxtee_abi::ta::{
    ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, ALG_RSASSA_PKCS1_V1_5_SHA256, SHDR_BOOTSTRAP_TA, SHDR_ENCRYPTED_TA, SHDR_MAGIC,
    SHDR_SUBKEY, SHDR_TA, Shdr, ShdrBootstrapTa,
};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_crypto::{Attr, NoAttrs, ids};
use zerocopy::{FromBytes, IntoBytes};

/// Smallest TA key upstream still trusts (it refuses shorter RSA moduli as
/// deprecated); a shorter key fails every verification.
const MIN_KEY_BITS: usize = 2048;

/// Length of a SHA-256 digest, the only hash the accepted algorithms use.
const SHA256_LEN: usize = 32;

/// The RSA public key TA images must be signed with, as the attributes
/// of a GP RSA public-key object: the signature is checked by the same
/// code that serves TAs' `TEE_AsymmetricVerifyDigest`.
#[derive(Clone, Debug)]
pub struct TaKey {
    attrs: Vec<Attr>,
    bits: usize,
}

impl TaKey {
    /// A key from its big-endian modulus and public exponent. Fails with
    /// `TEE_ERROR_BAD_PARAMETERS` for something that isn't an RSA key
    /// (even modulus, exponent under 3 or even, modulus over 4096 bits).
    pub fn new(modulus_be: &[u8], exponent: u32) -> Result<TaKey, TeeResult> {
        let start = modulus_be.iter().position(|b| *b != 0).unwrap_or(modulus_be.len());
        let n = &modulus_be[start..];
        let bits = match n.first() {
            Some(top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
            None => 0,
        };
        let odd = n.last().is_some_and(|b| b & 1 == 1);
        if !(16..=4096).contains(&bits) || !odd || exponent < 3 || exponent & 1 == 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let e = exponent.to_be_bytes();
        let e = &e[e.iter().position(|b| *b != 0).unwrap_or(3)..];
        let attrs = alloc::vec![
            Attr::Bytes(ids::ATTR_RSA_MODULUS, zeroize::Zeroizing::new(n.to_vec())),
            Attr::Bytes(ids::ATTR_RSA_PUBLIC_EXPONENT, zeroize::Zeroizing::new(e.to_vec())),
        ];
        Ok(TaKey { attrs, bits })
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

/// Why an image was refused. [`Reject::code`] is the answer the caller
/// gives, the same for every check of the header and signature path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// The image ends before the headers, hash or signature it announces.
    Truncated,
    /// Not a signed TA (`shdr` magic).
    BadMagic(u32),
    /// The OS's own key is shorter than upstream still trusts.
    WeakKey(usize),
    /// A hash that isn't SHA-256's 32 bytes.
    HashSize(u16),
    /// A signature algorithm other than RSA PKCS#1 v1.5 or PSS with SHA-256.
    Algorithm(u32),
    /// The signature doesn't verify with the OS's TA key.
    Signature,
    /// A bootstrap image signed for another TA.
    OtherUuid(Uuid),
    /// Encrypted or subkey images (validly signed), which this OS lacks.
    UnsupportedType(u32),
    /// An image type nobody defines.
    UnknownType(u32),
    /// The payload's length isn't the signed `img_size`.
    PayloadSize { signed: u32, actual: usize },
    /// The contents don't hash to the signed digest.
    Digest,
}

impl Reject {
    /// `TEE_ERROR_NOT_SUPPORTED` for a validly signed image of a type this
    /// OS lacks; `TEE_ERROR_SECURITY` for everything else.
    pub fn code(self) -> TeeResult {
        match self {
            Reject::UnsupportedType(_) => TeeResult::ERROR_NOT_SUPPORTED,
            _ => TeeResult::ERROR_SECURITY,
        }
    }
}

impl From<Reject> for TeeResult {
    fn from(r: Reject) -> TeeResult {
        r.code()
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reject::Truncated => f.write_str("truncated signed header"),
            Reject::BadMagic(m) => write!(f, "no signed header (magic {m:#010x}): sign the TA ELF first"),
            Reject::WeakKey(bits) => write!(f, "the OS's TA key has {bits} bits, under {MIN_KEY_BITS}"),
            Reject::HashSize(n) => write!(f, "hash of {n} bytes, not SHA-256"),
            Reject::Algorithm(a) => write!(f, "signature algorithm {a:#010x} not accepted"),
            Reject::Signature => f.write_str("signature does not verify with the OS's TA key"),
            Reject::OtherUuid(u) => write!(f, "signed for TA {u}"),
            Reject::UnsupportedType(t) => write!(f, "image type {t} (encrypted or subkey) not supported"),
            Reject::UnknownType(t) => write!(f, "unknown image type {t}"),
            Reject::PayloadSize { signed, actual } => write!(f, "payload of {actual} bytes, {signed} signed"),
            Reject::Digest => f.write_str("contents do not match the signed digest"),
        }
    }
}

/// A TA image whose signature and digest checked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified<'a> {
    /// The TA's ELF file, everything after the headers.
    pub elf: &'a [u8],
    /// `SHDR_TA` or `SHDR_BOOTSTRAP_TA`. For `SHDR_TA` no UUID was signed:
    /// the caller must match the ELF's `ta_head` UUID against the one asked
    /// for.
    pub img_type: u32,
    /// Signed version for rollback protection (0 for `SHDR_TA`).
    pub ta_version: u32,
}

/// Checks a signed TA image (`shdr`, optional sub-header, ELF) against
/// `key`, as the TA `uuid` was asked for. Returns the ELF and the signed
/// metadata; the ELF itself is still hostile input for the ELF parser
/// (signing proves origin, not well-formedness).
pub fn verify<'a>(image: &'a [u8], key: &TaKey, uuid: &Uuid) -> Result<Verified<'a>, Reject> {
    // The fixed header and its trailing hash and signature must be there.
    let (shdr, _) = Shdr::read_from_prefix(image).map_err(|_| Reject::Truncated)?;
    // First, so an unsigned ELF is called that rather than "truncated".
    if shdr.magic != SHDR_MAGIC {
        return Err(Reject::BadMagic(shdr.magic));
    }
    let hdr_len = shdr.total_size();
    let hash = image.get(size_of::<Shdr>()..size_of::<Shdr>() + shdr.hash_size as usize).ok_or(Reject::Truncated)?;
    let sig = image.get(size_of::<Shdr>() + shdr.hash_size as usize..hdr_len).ok_or(Reject::Truncated)?;

    check_signature(&shdr, hash, sig, key)?;

    // Only now is the header trusted to say what follows it.
    let mut ta_version = 0;
    // The OS's own SHA-256 (the CPU's SHA instructions where it has them).
    let mut hasher = oxtee_crypto::hash::new(oxtee_crypto::ids::ALG_SHA256).map_err(|_| Reject::Digest)?;
    hasher.update(shdr.as_bytes());
    let mut offs = hdr_len;
    match shdr.img_type {
        SHDR_TA => {}
        SHDR_BOOTSTRAP_TA => {
            let bs_bytes = image.get(offs..offs + size_of::<ShdrBootstrapTa>()).ok_or(Reject::Truncated)?;
            let bs = ShdrBootstrapTa::read_from_bytes(bs_bytes).map_err(|_| Reject::Truncated)?;
            let signed_for = Uuid::from_octets(bs.uuid);
            if signed_for != *uuid {
                return Err(Reject::OtherUuid(signed_for));
            }
            hasher.update(bs_bytes);
            ta_version = bs.ta_version;
            offs += bs_bytes.len();
        }
        t @ (SHDR_ENCRYPTED_TA | SHDR_SUBKEY) => return Err(Reject::UnsupportedType(t)),
        t => return Err(Reject::UnknownType(t)),
    }

    // The payload must be exactly what the header announced: no trailing
    // bytes the signature doesn't cover.
    let elf = image.get(offs..).ok_or(Reject::Truncated)?;
    if elf.len() != shdr.img_size as usize {
        return Err(Reject::PayloadSize { signed: shdr.img_size, actual: elf.len() });
    }
    hasher.update(elf);
    let mut digest = [0u8; SHA256_LEN];
    hasher.finish(&mut digest);
    if !same_bytes(&digest, hash) {
        return Err(Reject::Digest);
    }
    Ok(Verified { elf, img_type: shdr.img_type, ta_version })
}

/// The key, hash and signature checks, in upstream's order.
fn check_signature(shdr: &Shdr, hash: &[u8], sig: &[u8], key: &TaKey) -> Result<(), Reject> {
    if key.bits() < MIN_KEY_BITS {
        return Err(Reject::WeakKey(key.bits()));
    }
    if hash.len() != SHA256_LEN {
        return Err(Reject::HashSize(shdr.hash_size));
    }
    match shdr.algo {
        // Upstream's signing tool uses a PSS salt as long as the digest,
        // which is also what verification assumes without a parameter.
        ALG_RSASSA_PKCS1_V1_5_SHA256 | ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 => {
            oxtee_crypto::pk::verify(shdr.algo, &key.attrs, &NoAttrs, hash, sig).map_err(|_| Reject::Signature)
        }
        a => Err(Reject::Algorithm(a)),
    }
}

/// Compares without an early exit, so timing says nothing about where two
/// digests first differ.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use rsa::RsaPrivateKey;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::rand_core::{CryptoRng, RngCore};
    use rsa::traits::PublicKeyParts;
    use rsa::{Pkcs1v15Sign, Pss};
    use sha2::{Digest, Sha256};
    use std::string::ToString;
    use std::sync::OnceLock;

    const UUID: Uuid = Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0, 2, 0xa5, 0xd5, 0xc5, 0x1b]);
    const OTHER_UUID: Uuid = Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0, 2, 0xa5, 0xd5, 0xc5, 0x1c]);
    const SECURITY: Result<Verified<'static>, TeeResult> = Err(TeeResult::ERROR_SECURITY);
    const HDR: usize = size_of::<Shdr>();

    fn test_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::from_pkcs1_pem(include_str!("testdata/test_key.pem")).unwrap())
    }

    fn other_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::from_pkcs8_pem(include_str!("testdata/other_key.pem")).unwrap())
    }

    fn weak_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::from_pkcs1_pem(include_str!("testdata/weak_key_1024.pem")).unwrap())
    }

    fn public(key: &RsaPrivateKey) -> TaKey {
        let e = key.e().to_bytes_be().iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
        TaKey::new(&key.n().to_bytes_be(), e).unwrap()
    }

    /// Deterministic stand-in for a CSPRNG, for PSS salts in tests only.
    struct TestRng(u64);
    impl RngCore for TestRng {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.iter_mut().for_each(|b| *b = self.next_u64() as u8);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl CryptoRng for TestRng {}

    /// What goes into a test image; `Default` is a good bootstrap TA.
    struct Spec<'a> {
        key: &'a RsaPrivateKey,
        magic: u32,
        img_type: u32,
        algo: u32,
        /// `None`: the real ELF length.
        img_size: Option<u32>,
        uuid: Uuid,
        ta_version: u32,
        elf: &'a [u8],
    }

    impl Default for Spec<'_> {
        fn default() -> Self {
            Spec {
                key: test_key(),
                magic: SHDR_MAGIC,
                img_type: SHDR_BOOTSTRAP_TA,
                algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
                img_size: None,
                uuid: UUID,
                ta_version: 7,
                elf: b"\x7fELF pretend this is a TA, long enough to flip bytes in",
            }
        }
    }

    /// Builds and signs an image the way upstream's signing tool does.
    fn build(spec: Spec<'_>) -> Vec<u8> {
        let sig_size = spec.key.size() as u16;
        let shdr = Shdr {
            magic: spec.magic,
            img_type: spec.img_type,
            img_size: spec.img_size.unwrap_or(spec.elf.len() as u32),
            algo: spec.algo,
            hash_size: SHA256_LEN as u16,
            sig_size,
        };
        let sub = if spec.img_type == SHDR_TA {
            Vec::new()
        } else {
            ShdrBootstrapTa { uuid: spec.uuid.to_octets(), ta_version: spec.ta_version }.as_bytes().to_vec()
        };
        let mut h = Sha256::new();
        h.update(shdr.as_bytes());
        h.update(&sub);
        h.update(spec.elf);
        let hash = h.finalize();
        let sig = if spec.algo == ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 {
            spec.key.sign_with_rng(&mut TestRng(0x1234_5678_9abc_def1), Pss::new::<Sha256>(), &hash).unwrap()
        } else {
            spec.key.sign(Pkcs1v15Sign::new::<Sha256>(), &hash).unwrap()
        };
        assert_eq!(sig.len(), sig_size as usize);
        [shdr.as_bytes(), hash.as_slice(), &sig, &sub, spec.elf].concat()
    }

    fn good() -> Vec<u8> {
        build(Spec::default())
    }

    fn key() -> TaKey {
        public(test_key())
    }

    /// The answer a caller gives, which most tests pin.
    fn verify<'a>(image: &'a [u8], key: &TaKey, uuid: &Uuid) -> Result<Verified<'a>, TeeResult> {
        super::verify(image, key, uuid).map_err(Reject::code)
    }

    #[test]
    fn each_refusal_says_which_check_failed() {
        let why = |img: &[u8], key: &TaKey, uuid: &Uuid| super::verify(img, key, uuid).unwrap_err();
        let img = good();
        assert_eq!(why(&img[..10], &key(), &UUID), Reject::Truncated);
        assert_eq!(
            why(b"\x7fELF and then some more bytes of an unsigned TA", &key(), &UUID),
            Reject::BadMagic(0x464c_457f)
        );
        assert_eq!(why(&img, &public(weak_key()), &UUID), Reject::WeakKey(1024));
        assert_eq!(why(&img, &public(other_key()), &UUID), Reject::Signature);
        assert_eq!(why(&img, &key(), &OTHER_UUID), Reject::OtherUuid(UUID));
        let algo = build(Spec { algo: 0x7000_2830, ..Spec::default() });
        assert_eq!(why(&algo, &key(), &UUID), Reject::Algorithm(0x7000_2830));
        let mut hash = img.clone();
        hash[16..18].copy_from_slice(&20u16.to_le_bytes());
        assert_eq!(why(&hash, &key(), &UUID), Reject::HashSize(20));
        let enc = build(Spec { img_type: SHDR_ENCRYPTED_TA, ..Spec::default() });
        assert_eq!(why(&enc, &key(), &UUID), Reject::UnsupportedType(SHDR_ENCRYPTED_TA));
        assert_eq!(why(&build(Spec { img_type: 9, ..Spec::default() }), &key(), &UUID), Reject::UnknownType(9));
        let len = Spec::default().elf.len();
        let short = build(Spec { img_size: Some(len as u32 - 1), ..Spec::default() });
        assert_eq!(why(&short, &key(), &UUID), Reject::PayloadSize { signed: len as u32 - 1, actual: len });
        let mut body = img.clone();
        *body.last_mut().unwrap() ^= 1;
        assert_eq!(why(&body, &key(), &UUID), Reject::Digest);
        // Every refusal but an unsupported type answers SECURITY, and the
        // log line reads as a reason.
        assert_eq!(Reject::Digest.code(), TeeResult::ERROR_SECURITY);
        assert_eq!(TeeResult::from(Reject::UnsupportedType(2)), TeeResult::ERROR_NOT_SUPPORTED);
        assert_eq!(Reject::Signature.to_string(), "signature does not verify with the OS's TA key");
        assert_eq!(Reject::OtherUuid(UUID).to_string(), "signed for TA 8aaaf200-2450-11e4-abe2-0002a5d5c51b");
    }

    #[test]
    fn good_bootstrap_image_is_accepted() {
        let img = good();
        let v = verify(&img, &key(), &UUID).unwrap();
        assert_eq!(v.elf, Spec::default().elf);
        assert_eq!(v.img_type, SHDR_BOOTSTRAP_TA);
        assert_eq!(v.ta_version, 7);
        assert_eq!(key().bits(), 2048);
    }

    #[test]
    fn pss_image_is_accepted() {
        let img = build(Spec { algo: ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID).unwrap().elf, Spec::default().elf);
    }

    #[test]
    fn legacy_ta_image_is_accepted_without_signed_uuid() {
        let img = build(Spec { img_type: SHDR_TA, ..Spec::default() });
        // No UUID is signed into a legacy image; the ELF's ta_head decides.
        let v = verify(&img, &key(), &OTHER_UUID).unwrap();
        assert_eq!((v.img_type, v.ta_version), (SHDR_TA, 0));
        assert_eq!(v.elf, Spec::default().elf);
    }

    #[test]
    fn empty_payload_verifies_as_empty_elf() {
        let img = build(Spec { elf: b"", ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID).unwrap().elf, b"");
    }

    #[test]
    fn any_flipped_byte_is_rejected() {
        let img = good();
        let sig_end = HDR + SHA256_LEN + 256;
        // Every byte of the fixed header, a spread over hash and
        // signature, all of the bootstrap header and the ELF.
        let positions = (0..HDR).chain((HDR..sig_end).step_by(7)).chain(sig_end..img.len());
        for i in positions {
            for bit in [0x01, 0x80] {
                let mut bad = img.clone();
                bad[i] ^= bit;
                // img_type flips to 0 (TA: payload then has the wrong
                // size) or 0x81 (unknown): the signature still holds, the
                // later checks catch it.
                assert_eq!(verify(&bad, &key(), &UUID), SECURITY, "byte {i} bit {bit:#x}");
            }
        }
    }

    #[test]
    fn wrong_key_is_rejected() {
        let img = good();
        assert_eq!(verify(&img, &public(other_key()), &UUID), SECURITY);
        let other = build(Spec { key: other_key(), ..Spec::default() });
        assert_eq!(verify(&other, &key(), &UUID), SECURITY);
        assert!(verify(&other, &public(other_key()), &UUID).is_ok());
    }

    #[test]
    fn wrong_uuid_is_rejected() {
        assert_eq!(verify(&good(), &key(), &OTHER_UUID), SECURITY);
        let img = build(Spec { uuid: OTHER_UUID, ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID), SECURITY);
    }

    #[test]
    fn every_truncation_is_rejected() {
        let img = good();
        for len in 0..img.len() {
            assert_eq!(verify(&img[..len], &key(), &UUID), SECURITY, "len {len}");
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut img = good();
        img.push(0);
        assert_eq!(verify(&img, &key(), &UUID), SECURITY);
    }

    #[test]
    fn bad_magic_is_rejected_even_if_signed() {
        let img = build(Spec { magic: SHDR_MAGIC ^ 1, ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID), SECURITY);
    }

    #[test]
    fn img_size_mismatch_is_rejected_even_if_signed() {
        let len = Spec::default().elf.len() as u32;
        for size in [0, len - 1, len + 1, u32::MAX] {
            let img = build(Spec { img_size: Some(size), ..Spec::default() });
            assert_eq!(verify(&img, &key(), &UUID), SECURITY, "img_size {size}");
        }
    }

    #[test]
    fn unknown_algorithms_are_rejected() {
        // RSA with SHA-1 (weak), ECDSA P-256, and a made-up id.
        for algo in [0x7000_2830, 0x7000_3041, 0x7041_4a30, 0] {
            let img = build(Spec { algo, ..Spec::default() });
            assert_eq!(verify(&img, &key(), &UUID), SECURITY, "algo {algo:#x}");
        }
    }

    #[test]
    fn wrong_hash_size_is_rejected() {
        let img = good();
        // Claim a 20-byte hash: the signature then starts 12 bytes early.
        let mut bad = img.clone();
        bad[16..18].copy_from_slice(&20u16.to_le_bytes());
        assert_eq!(verify(&bad, &key(), &UUID), SECURITY);
        bad[16..18].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(verify(&bad, &key(), &UUID), SECURITY);
        let mut huge = img;
        huge[16..20].copy_from_slice(&[0xff; 4]);
        assert_eq!(verify(&huge, &key(), &UUID), SECURITY);
    }

    #[test]
    fn unsupported_types_need_a_valid_signature_first() {
        for img_type in [SHDR_ENCRYPTED_TA, SHDR_SUBKEY] {
            let img = build(Spec { img_type, ..Spec::default() });
            assert_eq!(verify(&img, &key(), &UUID), Err(TeeResult::ERROR_NOT_SUPPORTED), "type {img_type}");
            assert_eq!(verify(&img, &public(other_key()), &UUID), SECURITY, "type {img_type}");
        }
    }

    #[test]
    fn unknown_type_is_rejected() {
        for img_type in [4, 0x100, u32::MAX] {
            let img = build(Spec { img_type, ..Spec::default() });
            assert_eq!(verify(&img, &key(), &UUID), SECURITY, "type {img_type}");
        }
    }

    #[test]
    fn short_key_is_refused_like_upstream() {
        let img = build(Spec { key: weak_key(), ..Spec::default() });
        let weak = public(weak_key());
        assert_eq!(weak.bits(), 1024);
        assert_eq!(verify(&img, &weak, &UUID), SECURITY);
    }

    #[test]
    fn malformed_keys_are_refused() {
        let n = test_key().n().to_bytes_be();
        assert_eq!(TaKey::new(&n, 65537).map(|_| ()), Ok(()));
        let mut even = n.clone();
        *even.last_mut().unwrap() &= !1;
        assert_eq!(TaKey::new(&even, 65537).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&n, 1).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&n, 65536).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&[], 65537).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&[0xff; 513], 65537).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
    }
}
