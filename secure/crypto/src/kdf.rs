//! OP-TEE's key-derivation extensions: HKDF (RFC 5869; also GP's
//! `TEE_ALG_HKDF` with `TEE_ATTR_HKDF_HASH_ALGORITHM`), PBKDF2-HMAC
//! (RFC 8018) and concat-KDF (NIST SP 800-56A), keyed from a
//! generic-secret (or HKDF/PBKDF2/concat-KDF IKM) object.
//!
//! Parameters as upstream's kernel reads them: the output length is
//! mandatory (`HKDF_OKM_LENGTH` or `KDF_KEY_SIZE`; `CONCAT_KDF_DKM_LENGTH`;
//! `PBKDF2_DKM_LENGTH` and `PBKDF2_ITERATION_COUNT`), BAD_PARAMETERS when
//! missing or larger than the output object can hold. HMAC goes through
//! [`crate::mac`]'s HMAC, so SHA-1/224/256 are accelerated.

use crate::accel::Accel;
use crate::mac::Hmac;
use crate::{Attrs, Result, Secret, TeeResult, ids};
use alloc::vec;

/// Upstream's older identifiers for the HKDF salt and info attributes,
/// still accepted.
const OLD_ATTR_HKDF_SALT: u32 = 0xd000_02c0;
const OLD_ATTR_HKDF_INFO: u32 = 0xd000_03c0;

/// Derives key material with KDF algorithm `algo` from secret `ikm` and
/// the operation's parameters (`TEE_ATTR_HKDF_*`, `TEE_ATTR_PBKDF2_*`,
/// `TEE_ATTR_CONCAT_KDF_*`). `out_len` is the capacity, in bytes, of the
/// object receiving the result: the length derived is the one the
/// parameters ask for, and asking more than `out_len` is BAD_PARAMETERS.
pub fn derive(algo: u32, ikm: &[u8], params: &dyn Attrs, out_len: usize) -> Result<Secret> {
    derive_with(algo, ikm, params, out_len, crate::accel::get())
}

/// A digest algorithm from the digest field of a KDF algorithm id
/// (bits 12..15: 1 MD5 .. 6 SHA-512, 7 SM3).
fn digest_of(algo: u32) -> u32 {
    0x5000_0000 | ((algo >> 12) & 0xf)
}

fn hmac(digest: u32, key: &[u8], accel: Option<&'static dyn Accel>) -> Result<Hmac> {
    let h = crate::hash::new_with(digest, accel)?;
    if h.out_len() == 0 {
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    Ok(Hmac::new(h, key))
}

/// [`derive`] with an explicit accelerator (or none).
pub(crate) fn derive_with(
    algo: u32,
    ikm: &[u8],
    params: &dyn Attrs,
    out_len: usize,
    accel: Option<&'static dyn Accel>,
) -> Result<Secret> {
    let want = |id: u32| -> Result<usize> {
        let (a, _) = params.value(id).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        let n = a as usize;
        if n > out_len {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        Ok(n)
    };
    match algo {
        ids::ALG_HKDF
        | ids::ALG_HKDF_MD5_DERIVE_KEY
        | ids::ALG_HKDF_SHA1_DERIVE_KEY
        | ids::ALG_HKDF_SHA224_DERIVE_KEY
        | ids::ALG_HKDF_SHA256_DERIVE_KEY
        | ids::ALG_HKDF_SHA384_DERIVE_KEY
        | ids::ALG_HKDF_SHA512_DERIVE_KEY => {
            let digest = if algo == ids::ALG_HKDF {
                match params.value(ids::ATTR_HKDF_HASH_ALGORITHM) {
                    None => ids::ALG_SHA256,
                    // A digest algorithm id, or a bare main-hash number.
                    Some((a, _)) if a >> 28 == 5 => a,
                    Some((a, _)) if (1..=7).contains(&a) => 0x5000_0000 | a,
                    Some(_) => return Err(TeeResult::ERROR_NOT_SUPPORTED),
                }
            } else {
                digest_of(algo)
            };
            let okm_len = match params.value(ids::ATTR_HKDF_OKM_LENGTH) {
                Some(_) => want(ids::ATTR_HKDF_OKM_LENGTH)?,
                None => want(ids::ATTR_KDF_KEY_SIZE)?,
            };
            let salt = params.bytes(ids::ATTR_HKDF_SALT).or_else(|| params.bytes(OLD_ATTR_HKDF_SALT)).unwrap_or(&[]);
            let info = params.bytes(ids::ATTR_HKDF_INFO).or_else(|| params.bytes(OLD_ATTR_HKDF_INFO)).unwrap_or(&[]);
            hkdf(digest, ikm, salt, info, okm_len, accel)
        }
        ids::ALG_CONCAT_KDF_SHA1_DERIVE_KEY
        | ids::ALG_CONCAT_KDF_SHA224_DERIVE_KEY
        | ids::ALG_CONCAT_KDF_SHA256_DERIVE_KEY
        | ids::ALG_CONCAT_KDF_SHA384_DERIVE_KEY
        | ids::ALG_CONCAT_KDF_SHA512_DERIVE_KEY => {
            let len = want(ids::ATTR_CONCAT_KDF_DKM_LENGTH)?;
            let other = params.bytes(ids::ATTR_CONCAT_KDF_OTHER_INFO).unwrap_or(&[]);
            concat_kdf(digest_of(algo), ikm, other, len, accel)
        }
        ids::ALG_PBKDF2_HMAC_SHA1_DERIVE_KEY
        | ids::ALG_PBKDF2_HMAC_SHA224_DERIVE_KEY
        | ids::ALG_PBKDF2_HMAC_SHA256_DERIVE_KEY
        | ids::ALG_PBKDF2_HMAC_SHA384_DERIVE_KEY
        | ids::ALG_PBKDF2_HMAC_SHA512_DERIVE_KEY
        | ids::ALG_PBKDF2_HMAC_SM3_DERIVE_KEY => {
            let (count, _) = params.value(ids::ATTR_PBKDF2_ITERATION_COUNT).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            let len = want(ids::ATTR_PBKDF2_DKM_LENGTH)?;
            let salt = params.bytes(ids::ATTR_PBKDF2_SALT).unwrap_or(&[]);
            pbkdf2(digest_of(algo), ikm, salt, count, len, accel)
        }
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

/// HKDF-Extract then -Expand (RFC 5869); an empty salt is HashLen zeros.
pub(crate) fn hkdf(
    digest: u32,
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    okm_len: usize,
    accel: Option<&'static dyn Accel>,
) -> Result<Secret> {
    let hl = crate::hash::new_with(digest, accel)?.out_len();
    if hl == 0 {
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    if okm_len.div_ceil(hl) > 255 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let zeros = [0u8; 64];
    let salt = if salt.is_empty() { &zeros[..hl] } else { salt };
    let mut prk = Secret::new(vec![0u8; hl]);
    hmac(digest, salt, accel)?.compute(&[ikm], &mut prk);
    let m = hmac(digest, &prk, accel)?;
    let mut okm = Secret::new(vec![0u8; okm_len]);
    let mut prev = Secret::new(vec![0u8; hl]);
    let mut t = Secret::new(vec![0u8; hl]);
    for (i, chunk) in okm.chunks_mut(hl).enumerate() {
        let ctr = [(i + 1) as u8];
        let p = if i == 0 { &prev[..0] } else { &prev[..] };
        m.compute(&[p, info, &ctr], &mut t);
        chunk.copy_from_slice(&t[..chunk.len()]);
        prev.copy_from_slice(&t);
    }
    Ok(okm)
}

/// Concat KDF (SP 800-56A 5.8.1): Hash(counter || Z || OtherInfo)...
pub(crate) fn concat_kdf(
    digest: u32,
    z: &[u8],
    other: &[u8],
    len: usize,
    accel: Option<&'static dyn Accel>,
) -> Result<Secret> {
    let mut h = crate::hash::new_with(digest, accel)?;
    let hl = h.out_len();
    if hl == 0 {
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    let mut out = Secret::new(vec![0u8; len]);
    let mut t = [0u8; 64];
    for (i, chunk) in out.chunks_mut(hl).enumerate() {
        h.update(&((i + 1) as u32).to_be_bytes());
        h.update(z);
        h.update(other);
        h.finish(&mut t[..hl]);
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
    zeroize::Zeroize::zeroize(&mut t);
    Ok(out)
}

/// PBKDF2 with HMAC (RFC 8018). As upstream, an iteration count of 0
/// yields zero bytes.
pub(crate) fn pbkdf2(
    digest: u32,
    password: &[u8],
    salt: &[u8],
    count: u32,
    len: usize,
    accel: Option<&'static dyn Accel>,
) -> Result<Secret> {
    let m = hmac(digest, password, accel)?;
    let hl = m.out_len();
    let mut out = Secret::new(vec![0u8; len]);
    let mut u = [0u8; 64];
    let mut f = [0u8; 64];
    for (i, chunk) in out.chunks_mut(hl).enumerate() {
        f.fill(0);
        for j in 0..count {
            if j == 0 {
                m.compute(&[salt, &((i + 1) as u32).to_be_bytes()], &mut u);
            } else {
                let prev = u;
                m.compute(&[&prev[..hl]], &mut u);
            }
            crate::cipher::sym::xor(&mut f[..hl], &u[..hl]);
        }
        chunk.copy_from_slice(&f[..chunk.len()]);
    }
    zeroize::Zeroize::zeroize(&mut u);
    zeroize::Zeroize::zeroize(&mut f);
    Ok(out)
}
