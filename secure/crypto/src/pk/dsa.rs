//! DSA (FIPS 186) with SHA-1, SHA-224 and SHA-256 digests, over the `dsa`
//! crate (crypto-bigint arithmetic).
//!
//! Upstream facts kept here: domain sizes are whatever the key holds (the
//! object layer bounds them: 512..3072-bit primes); signing wants the
//! digest truncated to the subprime's length when that is shorter
//! (another length answers SECURITY); the signature is r || s, each
//! padded to the subprime's length; verification reads r and s as the
//! two halves of the signature; generation wants the key size to be the
//! prime's and draws the private value for the given domain.

use super::rng::Rng10;
use super::{HashAlg, bn_attr, need, pad_left, trim};
use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult, ids};
use alloc::vec::Vec;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Resize};
use dsa::{Components, Signature, SigningKey, VerifyingKey};
use signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};

const BAD: TeeResult = TeeResult::ERROR_BAD_PARAMETERS;
const INVALID: TeeResult = TeeResult::ERROR_SIGNATURE_INVALID;
/// Largest DSA prime upstream handles (bits).
const MAX_BITS: usize = 3072;

fn num(b: &[u8], max: usize) -> Result<BoxedUint> {
    let b = trim(b);
    if b.is_empty() || b.len() > max / 8 {
        return Err(BAD);
    }
    Ok(BoxedUint::from_be_slice_vartime(b))
}

/// A number at the precision of the prime (the crate's Montgomery forms
/// want equal widths); BAD_PARAMETERS when it does not fit.
fn num_at(b: &[u8], prec: u32) -> Result<BoxedUint> {
    BoxedUint::from_be_slice(trim(b), prec).map_err(|_| BAD)
}

/// The domain (p, q, g) and the subprime's length in bytes.
fn components(key: &dyn Attrs) -> Result<(Components, usize)> {
    let p = num(need(key, ids::ATTR_DSA_PRIME)?, MAX_BITS)?;
    let q = num(need(key, ids::ATTR_DSA_SUBPRIME)?, MAX_BITS)?;
    let g = num_at(need(key, ids::ATTR_DSA_BASE)?, p.bits_precision())?;
    let qlen = trim(need(key, ids::ATTR_DSA_SUBPRIME)?).len();
    if q.bit_width_vartime() >= p.bit_width_vartime() {
        return Err(BAD);
    }
    Ok((Components::from_components_unchecked(p, q, g).map_err(|_| BAD)?, qlen))
}

fn digest_len(algo: u32) -> Result<usize> {
    match algo {
        ids::ALG_DSA_SHA1 | ids::ALG_DSA_SHA224 | ids::ALG_DSA_SHA256 => Ok(HashAlg::of_algo(algo).ok_or(BAD)?.len()),
        _ => Err(TeeResult::ERROR_NOT_IMPLEMENTED),
    }
}

/// DSA signing of digest `input`.
pub(super) fn sign(algo: u32, key: &dyn Attrs, input: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    let hlen = digest_len(algo)?;
    let (c, qlen) = components(key)?;
    if input.len() != hlen.min(qlen) {
        return Err(TeeResult::ERROR_SECURITY);
    }
    let y = num_at(need(key, ids::ATTR_DSA_PUBLIC_VALUE)?, c.p().bits_precision())?;
    let x = num(need(key, ids::ATTR_DSA_PRIVATE_VALUE)?, MAX_BITS)?;
    let vk = VerifyingKey::from_components(c, y).map_err(|_| BAD)?;
    let sk = SigningKey::from_components(vk, x).map_err(|_| BAD)?;
    let sig: Signature = sk.sign_prehash_with_rng(&mut Rng10(rng), input).map_err(|_| TeeResult::ERROR_GENERIC)?;
    let mut out = pad_left(&sig.r().to_be_bytes(), qlen);
    out.extend_from_slice(&pad_left(&sig.s().to_be_bytes(), qlen));
    Ok(Secret::new(out))
}

/// DSA verification of `sig` over digest `input` (the caller has checked
/// the digest length as upstream's syscall does).
pub(super) fn verify(algo: u32, key: &dyn Attrs, input: &[u8], sig: &[u8]) -> Result<()> {
    let hlen = digest_len(algo)?;
    let (c, qlen) = components(key)?;
    if input.len() != hlen && input.len() != qlen {
        return Err(BAD);
    }
    let y = num_at(need(key, ids::ATTR_DSA_PUBLIC_VALUE)?, c.p().bits_precision()).map_err(|_| INVALID)?;
    let vk = VerifyingKey::from_components(c, y).map_err(|_| INVALID)?;
    let half = sig.len() / 2;
    if half > MAX_BITS / 8 {
        return Err(INVALID);
    }
    let r = BoxedUint::from_be_slice_vartime(&sig[..half]);
    let s = BoxedUint::from_be_slice_vartime(&sig[half..2 * half]);
    let sig = Signature::from_components(r, s).ok_or(INVALID)?;
    vk.verify_prehash(input, &sig).map_err(|_| INVALID)
}

/// `TEE_TYPE_DSA_KEYPAIR` generation for the domain in `params`.
pub(super) fn generate(bits: u32, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    let (c, _) = components(params)?;
    let p = trim(need(params, ids::ATTR_DSA_PRIME)?);
    if bits as usize != 8 * p.len() {
        return Err(BAD);
    }
    // x uniform in [1, q - 1] (8 extra random bytes make the reduction's
    // bias negligible), y = g^x mod p; the crate's own generator panics
    // on a bad domain, so we draw x here and let its constructors judge.
    let prec = c.p().bits_precision();
    let q = c.q().as_ref().clone().resize(prec);
    let qm1 = NonZero::new(q.wrapping_sub(BoxedUint::one_with_precision(prec))).into_option().ok_or(BAD)?;
    let mut buf = zeroize::Zeroizing::new(
        alloc::vec![0u8; (prec as usize / 8).min(trim(need(params, ids::ATTR_DSA_SUBPRIME)?).len() + 8)],
    );
    rng.fill(&mut buf);
    let r = zeroize::Zeroizing::new(BoxedUint::from_be_slice(&buf, prec).map_err(|_| BAD)?);
    let x = zeroize::Zeroizing::new(r.rem(&qm1).wrapping_add(BoxedUint::one_with_precision(prec)));
    let params_p = BoxedMontyParams::new(c.p().clone());
    let y = BoxedMontyForm::new(c.g().as_ref().clone(), &params_p).pow(&x).retrieve();
    let vk = VerifyingKey::from_components(c, y).map_err(|_| BAD)?;
    let sk = SigningKey::from_components(vk, BoxedUint::clone(&x)).map_err(|_| BAD)?;
    let y = sk.verifying_key().y().to_be_bytes();
    let x = zeroize::Zeroizing::new(sk.x().to_be_bytes());
    Ok(alloc::vec![
        bn_attr(ids::ATTR_DSA_PRIME, p),
        bn_attr(ids::ATTR_DSA_SUBPRIME, need(params, ids::ATTR_DSA_SUBPRIME)?),
        bn_attr(ids::ATTR_DSA_BASE, need(params, ids::ATTR_DSA_BASE)?),
        bn_attr(ids::ATTR_DSA_PUBLIC_VALUE, &y),
        bn_attr(ids::ATTR_DSA_PRIVATE_VALUE, &x),
    ])
}
