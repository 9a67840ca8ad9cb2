//! RSA: PKCS#1 v1.5 and PSS signatures, PKCS#1 v1.5 and OAEP encryption,
//! raw (NOPAD) exponentiation, key generation. Over the `rsa` crate
//! (crypto-bigint constant-time arithmetic; every private-key operation
//! blinded with our RNG and checked by re-encryption).
//!
//! Upstream facts kept here: moduli up to 4096 bits
//! (`CFG_CORE_BIGNUM_MAX_BITS`); wrong digest length, bad padding on
//! decryption, oversized messages and out-of-range raw inputs answer
//! BAD_PARAMETERS; a signature that does not verify, or is shorter than
//! the modulus, answers SIGNATURE_INVALID; the PSS salt length defaults
//! to the digest length; the OAEP MGF digest defaults to the OAEP digest;
//! NOPAD output drops leading zero bytes but keeps one for zero.

use super::rng::Rng10;
use super::{HashAlg, need, trim};
use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult, ids};
use ::rsa::traits::{PrivateKeyParts, PublicKeyParts};
use ::rsa::{BoxedUint, Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, PrivateKey, Pss, PublicKey, hazmat};
use alloc::boxed::Box;
use alloc::vec::Vec;
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Largest modulus upstream handles (bits).
pub(super) const MAX_BITS: usize = 4096;
/// Smallest key upstream generates (bits).
const MIN_GEN_BITS: u32 = 256;

const BAD: TeeResult = TeeResult::ERROR_BAD_PARAMETERS;

/// A big number from a key attribute: minimal, bounded to the largest
/// modulus.
fn num(b: &[u8]) -> Result<BoxedUint> {
    let b = trim(b);
    if b.is_empty() || b.len() > MAX_BITS / 8 {
        return Err(BAD);
    }
    Ok(BoxedUint::from_be_slice_vartime(b))
}

/// The public key in `key` (a public key or a key pair).
fn public_key(key: &dyn Attrs) -> Result<PublicKey> {
    let n = num(need(key, ids::ATTR_RSA_MODULUS)?)?;
    let e = num(need(key, ids::ATTR_RSA_PUBLIC_EXPONENT)?)?;
    PublicKey::new_with_size_limits(n, e, 1..=MAX_BITS).map_err(|_| BAD)
}

/// The private key in `key`: CRT form from PRIME1/PRIME2 when the key
/// has them, otherwise from n, e, d (the primes recovered from d).
fn private_key(key: &dyn Attrs) -> Result<PrivateKey> {
    let n = num(need(key, ids::ATTR_RSA_MODULUS)?)?;
    let e = num(need(key, ids::ATTR_RSA_PUBLIC_EXPONENT)?)?;
    let d = num(need(key, ids::ATTR_RSA_PRIVATE_EXPONENT)?)?;
    let mut primes = Vec::new();
    if let (Some(p), Some(q)) = (key.bytes(ids::ATTR_RSA_PRIME1), key.bytes(ids::ATTR_RSA_PRIME2))
        && !trim(p).is_empty()
        && !trim(q).is_empty()
    {
        primes.push(num(p)?);
        primes.push(num(q)?);
    }
    PrivateKey::from_components_with_large_exponent(n, e, d, primes).map_err(|_| BAD)
}

/// A big-endian number without leading zeros, but at least one byte
/// (upstream's raw RSA output).
fn keep_one(b: &[u8]) -> Secret {
    let t = trim(b);
    Secret::new(if t.is_empty() { alloc::vec![0] } else { t.to_vec() })
}

/// Parses a raw RSA input against modulus `n`: BAD_PARAMETERS when it
/// exceeds n. `None` when it equals n (its power is 0).
fn raw_input(n: &BoxedUint, input: &[u8]) -> Result<Option<BoxedUint>> {
    let x = trim(input);
    if x.len() > n.bits_precision() as usize / 8 {
        return Err(BAD);
    }
    let x = BoxedUint::from_be_slice(x, n.bits_precision()).map_err(|_| BAD)?;
    if x > *n {
        return Err(BAD);
    }
    if x == *n {
        return Ok(None);
    }
    Ok(Some(x))
}

/// `TEE_ALG_RSA_NOPAD` encryption: x^e mod n.
pub(super) fn nopad_encrypt(key: &dyn Attrs, input: &[u8]) -> Result<Secret> {
    let pk = public_key(key)?;
    let Some(x) = raw_input(pk.n().as_ref(), input)? else {
        return Ok(keep_one(&[]));
    };
    let y = hazmat::rsa_encrypt(&pk, &x).map_err(|_| BAD)?;
    Ok(keep_one(&y.to_be_bytes()))
}

/// `TEE_ALG_RSA_NOPAD` decryption: x^d mod n (blinded, CRT, checked).
pub(super) fn nopad_decrypt(key: &dyn Attrs, input: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    let k = private_key(key)?;
    let Some(x) = raw_input(k.n().as_ref(), input)? else {
        return Ok(keep_one(&[]));
    };
    let y = hazmat::rsa_decrypt_and_check(&k, Some(&mut Rng10(rng)), &x).map_err(|_| TeeResult::ERROR_GENERIC)?;
    let y = zeroize::Zeroizing::new(y.to_be_bytes());
    Ok(keep_one(&y))
}

/// Runs `$body` with `$D` the digest type of `$h`.
macro_rules! with_hash {
    ($h:expr, $D:ident => $body:expr) => {
        match $h {
            HashAlg::Md5 => {
                type $D = md5::Md5;
                $body
            }
            HashAlg::Sha1 => {
                type $D = sha1::Sha1;
                $body
            }
            HashAlg::Sha224 => {
                type $D = sha2::Sha224;
                $body
            }
            HashAlg::Sha256 => {
                type $D = sha2::Sha256;
                $body
            }
            HashAlg::Sha384 => {
                type $D = sha2::Sha384;
                $body
            }
            HashAlg::Sha512 => {
                type $D = sha2::Sha512;
                $body
            }
        }
    };
}

/// The OAEP label and MGF1 digest the TA passed (`mgf` defaults to the
/// OAEP digest; the attribute holds a 4-byte `TEE_ALG_*` digest id).
fn oaep_params(algo: u32, params: &dyn Attrs) -> Result<(Box<[u8]>, HashAlg, HashAlg)> {
    // OAEP ids carry their digest in bits 20..23 (GP's "internal hash").
    let h = HashAlg::of_algo(algo >> 8).ok_or(BAD)?;
    let label: Box<[u8]> = params.bytes(ids::ATTR_RSA_OAEP_LABEL).unwrap_or(&[]).into();
    let mgf = match params.bytes(ids::ATTR_RSA_OAEP_MGF_HASH) {
        None => h,
        Some(b) => {
            let b: [u8; 4] = b.try_into().map_err(|_| BAD)?;
            match u32::from_le_bytes(b) {
                0 => h,
                id => HashAlg::of_digest_id(id).ok_or(BAD)?,
            }
        }
    };
    Ok((label, h, mgf))
}

/// RSAES encryption (PKCS#1 v1.5 or OAEP).
pub(super) fn es_encrypt(
    algo: u32,
    key: &dyn Attrs,
    params: &dyn Attrs,
    input: &[u8],
    rng: &mut dyn Rng,
) -> Result<Secret> {
    let pk = public_key(key)?;
    let mut r = Rng10(rng);
    let out = if algo == ids::ALG_RSAES_PKCS1_V1_5 {
        pk.encrypt(&mut r, Pkcs1v15Encrypt, input)
    } else {
        let (label, h, mgf) = oaep_params(algo, params)?;
        with_hash!(h, D => with_hash!(mgf, M => pk.encrypt(&mut r, Oaep::<D, M>::new_with_mgf_hash_and_label(label), input)))
    };
    out.map(Secret::new).map_err(|_| BAD)
}

/// RSAES decryption (PKCS#1 v1.5 or OAEP). Bad padding answers
/// BAD_PARAMETERS, as upstream; the padding is checked in constant time.
pub(super) fn es_decrypt(
    algo: u32,
    key: &dyn Attrs,
    params: &dyn Attrs,
    input: &[u8],
    rng: &mut dyn Rng,
) -> Result<Secret> {
    let k = private_key(key)?;
    let mut r = Rng10(rng);
    if algo == ids::ALG_RSAES_PKCS1_V1_5 {
        return pkcs1v15_decrypt(&k, input, &mut r);
    }
    let (label, h, mgf) = oaep_params(algo, params)?;
    let out = with_hash!(h, D => with_hash!(mgf, M => k.decrypt_blinded(&mut r, Oaep::<D, M>::new_with_mgf_hash_and_label(label), input)));
    out.map(Secret::new).map_err(|_| BAD)
}

/// RSAES-PKCS1-v1_5 decryption with an explicit (GP-visible) padding
/// error, the check itself branch-free over the secret encoded message.
fn pkcs1v15_decrypt(k: &PrivateKey, input: &[u8], rng: &mut Rng10<'_>) -> Result<Secret> {
    let len = k.size();
    if input.len() != len || len < 11 {
        return Err(BAD);
    }
    let c = BoxedUint::from_be_slice(input, k.n().as_ref().bits_precision()).map_err(|_| BAD)?;
    let m = hazmat::rsa_decrypt_and_check(k, Some(rng), &c).map_err(|_| BAD)?;
    let full = zeroize::Zeroizing::new(m.to_be_bytes());
    // The encoded message is the last `len` bytes of the number.
    let em = &full[full.len() - len..];
    let (valid, start) = pkcs1v15_unpad_ct(em);
    if !bool::from(valid) {
        return Err(BAD);
    }
    Ok(Secret::new(em[start..].to_vec()))
}

/// EM = 0x00 || 0x02 || PS (>= 8 nonzero bytes) || 0x00 || M. Returns
/// whether EM is well formed and where M starts, scanning every byte.
fn pkcs1v15_unpad_ct(em: &[u8]) -> (subtle::Choice, usize) {
    let mut valid = em[0].ct_eq(&0) & em[1].ct_eq(&2);
    let mut found = subtle::Choice::from(0);
    let mut index: u32 = 0;
    for (i, b) in em.iter().enumerate().skip(2) {
        let zero = b.ct_eq(&0);
        let first = zero & !found;
        index.conditional_assign(&(i as u32), first);
        found |= zero;
    }
    valid &= found;
    // At least 8 bytes of PS: the separator at index >= 10.
    valid &= !subtle::ConstantTimeLess::ct_lt(&index, &10u32);
    (valid, index as usize + 1)
}

/// DigestInfo prefixes (RFC 8017 section 9.2, note 1).
fn digest_info_prefix(h: HashAlg) -> &'static [u8] {
    match h {
        HashAlg::Md5 => &[
            0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10,
        ],
        HashAlg::Sha1 => &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14],
        HashAlg::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04,
            0x1c,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    }
}

/// PKCS#1 v1.5 signature padding for `algo` (DigestInfo-prefixed, or raw
/// for `TEE_ALG_RSASSA_PKCS1_V1_5`).
fn v15_scheme(algo: u32) -> Result<Pkcs1v15Sign> {
    if algo == ids::ALG_RSASSA_PKCS1_V1_5 {
        return Ok(Pkcs1v15Sign::new_unprefixed());
    }
    let h = HashAlg::of_algo(algo).ok_or(BAD)?;
    Ok(Pkcs1v15Sign { hash_len: Some(h.len()), prefix: digest_info_prefix(h).into() })
}

/// The RSASSA algorithms upstream implements.
fn is_rsassa(algo: u32) -> bool {
    use ids::*;
    matches!(
        algo,
        ALG_RSASSA_PKCS1_V1_5
            | ALG_RSASSA_PKCS1_V1_5_MD5
            | ALG_RSASSA_PKCS1_V1_5_SHA1
            | ALG_RSASSA_PKCS1_V1_5_SHA224
            | ALG_RSASSA_PKCS1_V1_5_SHA256
            | ALG_RSASSA_PKCS1_V1_5_SHA384
            | ALG_RSASSA_PKCS1_V1_5_SHA512
            | ALG_RSASSA_PKCS1_PSS_MGF1_MD5
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA1
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA224
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA256
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA384
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA512
    )
}

fn is_pss(algo: u32) -> bool {
    // GP: PSS algorithms carry 0x9 in the padding nibble (bits 8..11).
    (algo >> 8) & 0xf == 0x9
}

/// The PSS salt length: `TEE_ATTR_RSA_PSS_SALT_LENGTH` when it is below
/// `INT_MAX`, else `default`.
fn salt_len(params: &dyn Attrs, default: usize) -> usize {
    match params.value(ids::ATTR_RSA_PSS_SALT_LENGTH) {
        Some((a, _)) if a < i32::MAX as u32 => a as usize,
        _ => default,
    }
}

/// RSASSA signing; `input` is the digest (raw v1.5: the data to pad).
pub(super) fn sign(algo: u32, key: &dyn Attrs, params: &dyn Attrs, input: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    if algo != ids::ALG_RSASSA_PKCS1_V1_5 {
        let h = HashAlg::of_algo(algo).ok_or(BAD)?;
        if input.len() != h.len() {
            return Err(BAD);
        }
    }
    let k = private_key(key)?;
    let mut r = Rng10(rng);
    let sig = if is_pss(algo) {
        let h = HashAlg::of_algo(algo).ok_or(BAD)?;
        let salt = salt_len(params, input.len());
        with_hash!(h, D => k.sign_with_rng(&mut r, Pss::<D>::new_with_salt(salt), input))
    } else {
        k.sign_with_rng(&mut r, v15_scheme(algo)?, input)
    };
    sig.map(Secret::new).map_err(|_| BAD)
}

/// RSASSA verification.
pub(super) fn verify(algo: u32, key: &dyn Attrs, params: &dyn Attrs, input: &[u8], sig: &[u8]) -> Result<()> {
    if !is_rsassa(algo) {
        return Err(BAD);
    }
    let mut salt = 0;
    if algo != ids::ALG_RSASSA_PKCS1_V1_5 {
        let h = HashAlg::of_algo(algo).ok_or(BAD)?;
        if input.len() != h.len() {
            return Err(BAD);
        }
        salt = salt_len(params, h.len());
    }
    let pk = public_key(key)?;
    if sig.len() < pk.size() {
        return Err(TeeResult::ERROR_SIGNATURE_INVALID);
    }
    let res = if is_pss(algo) {
        let h = HashAlg::of_algo(algo).ok_or(BAD)?;
        with_hash!(h, D => pk.verify(Pss::<D>::new_with_salt(salt), input, sig))
    } else {
        pk.verify(v15_scheme(algo)?, input, sig)
    };
    res.map_err(|_| TeeResult::ERROR_SIGNATURE_INVALID)
}

/// Upstream's rule for a TA-chosen public exponent: odd, at most 256
/// bits, and at least 65537 when it fits in three bytes.
fn check_exponent(e: &[u8]) -> Result<()> {
    let e = trim(e);
    if e.is_empty() || e.len() > 32 || e[e.len() - 1] & 1 == 0 {
        return Err(BAD);
    }
    if e.len() <= 3 && e.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) < 65537 {
        return Err(BAD);
    }
    Ok(())
}

fn bytes_of(x: &BoxedUint) -> Vec<u8> {
    trim(&x.to_be_bytes()).to_vec()
}

/// `TEE_TYPE_RSA_KEYPAIR` generation: modulus of exactly `bits` bits,
/// public exponent from the parameters or 65537.
pub(super) fn generate(bits: u32, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    if !(MIN_GEN_BITS..=MAX_BITS as u32).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(BAD);
    }
    let e = match params.bytes(ids::ATTR_RSA_PUBLIC_EXPONENT) {
        Some(e) => {
            check_exponent(e)?;
            BoxedUint::from_be_slice_vartime(trim(e))
        }
        None => BoxedUint::from(65537u32),
    };
    let mut r = Rng10(rng);
    let k = PrivateKey::new_with_exp_unchecked(&mut r, bits as usize, e).map_err(|_| BAD)?;
    if k.n().as_ref().bit_width_vartime() != bits {
        return Err(BAD);
    }
    let primes = k.primes();
    let (Some(dp), Some(dq), Some(qinv)) = (k.dp(), k.dq(), k.crt_coefficient()) else {
        return Err(TeeResult::ERROR_GENERIC);
    };
    let qinv = zeroize::Zeroizing::new(qinv);
    let secret = |id: u32, x: &BoxedUint| Attr::Bytes(id, Secret::new(bytes_of(x)));
    Ok(alloc::vec![
        secret(ids::ATTR_RSA_MODULUS, k.n().as_ref()),
        secret(ids::ATTR_RSA_PUBLIC_EXPONENT, k.e()),
        secret(ids::ATTR_RSA_PRIVATE_EXPONENT, k.d()),
        secret(ids::ATTR_RSA_PRIME1, primes[0].as_ref()),
        secret(ids::ATTR_RSA_PRIME2, primes[1].as_ref()),
        secret(ids::ATTR_RSA_EXPONENT1, dp),
        secret(ids::ATTR_RSA_EXPONENT2, dq),
        secret(ids::ATTR_RSA_COEFFICIENT, &qinv),
    ])
}
