//! Finite-field Diffie-Hellman (PKCS #3 style), over crypto-bigint's
//! constant-time Montgomery exponentiation.
//!
//! Upstream facts kept here: primes up to 2048 bits (the DH key type's
//! maximum); generation wants the key size to be the prime's byte length
//! times 8, takes `TEE_ATTR_DH_X_BITS` (a multiple of 8, at most the
//! prime's and subprime's length) and draws the private value as that
//! many random bytes reduced modulo the subprime (when given and shorter
//! than the prime) or the prime; the shared secret is peer^x mod p,
//! without leading zero bytes, and the peer value is not checked.

use super::{bn_attr, need, trim};
use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult, ids};
use alloc::vec::Vec;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd, Resize};

const BAD: TeeResult = TeeResult::ERROR_BAD_PARAMETERS;
/// Largest DH prime upstream's key type holds (bits).
const MAX_BITS: usize = 2048;

/// The prime's Montgomery parameters and precision.
fn prime(p: &[u8]) -> Result<(BoxedMontyParams, u32)> {
    let p = trim(p);
    if p.is_empty() || p.len() > MAX_BITS / 8 {
        return Err(BAD);
    }
    let n = BoxedUint::from_be_slice_vartime(p);
    let prec = n.bits_precision();
    let n = Odd::new(n).into_option().ok_or(BAD)?;
    Ok((BoxedMontyParams::new(n), prec))
}

/// base^x mod p, base any size (reduced first), x at most p's size.
fn modpow(params: &BoxedMontyParams, prec: u32, base: &[u8], x: &BoxedUint) -> Result<Vec<u8>> {
    let base = trim(base);
    if base.len() > 2 * MAX_BITS / 8 {
        return Err(BAD);
    }
    let b = BoxedUint::from_be_slice_vartime(base);
    let wide = prec.max(b.bits_precision());
    let m = NonZero::new(params.modulus().as_ref().clone().resize(wide)).into_option().ok_or(BAD)?;
    let b = b.resize(wide).rem_vartime(&m).resize(prec);
    let r = BoxedMontyForm::new(b, params).pow(x).retrieve();
    Ok(trim(&r.to_be_bytes()).to_vec())
}

/// `TEE_ALG_DH_DERIVE_SHARED_SECRET` with the peer's
/// `TEE_ATTR_DH_PUBLIC_VALUE`.
pub(super) fn derive(key: &dyn Attrs, params: &dyn Attrs) -> Result<Secret> {
    let (mp, prec) = prime(need(key, ids::ATTR_DH_PRIME)?)?;
    let x = zeroize::Zeroizing::new(
        BoxedUint::from_be_slice(trim(need(key, ids::ATTR_DH_PRIVATE_VALUE)?), prec).map_err(|_| BAD)?,
    );
    let peer = need(params, ids::ATTR_DH_PUBLIC_VALUE)?;
    Ok(Secret::new(modpow(&mp, prec, peer, &x)?))
}

/// `TEE_TYPE_DH_KEYPAIR` generation for the prime and base in `params`.
pub(super) fn generate(bits: u32, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    let p = trim(need(params, ids::ATTR_DH_PRIME)?);
    let g = need(params, ids::ATTR_DH_BASE)?;
    let q = params.bytes(ids::ATTR_DH_SUBPRIME).map(trim);
    let xbits = params.value(ids::ATTR_DH_X_BITS).map(|(a, _)| a).unwrap_or(0) as usize;
    if bits as usize != 8 * p.len() {
        return Err(BAD);
    }
    let (mp, prec) = prime(p)?;
    if !xbits.is_multiple_of(8) {
        return Err(BAD);
    }
    let (kp, kq) = (p.len(), q.map(<[u8]>::len));
    let len = match (xbits / 8, kq) {
        (0, None) => kp,
        (0, Some(kq)) => kp.min(kq),
        (n, _) if n > kp || kq.is_some_and(|kq| n > kq) => return Err(BAD),
        (n, _) => n,
    };
    let modulus = match q {
        Some(q) if q.len() < kp && !q.is_empty() => q,
        _ => p,
    };
    let mut buf = zeroize::Zeroizing::new(alloc::vec![0u8; len]);
    rng.fill(&mut buf);
    let m = NonZero::new(BoxedUint::from_be_slice_vartime(modulus).resize(prec)).into_option().ok_or(BAD)?;
    let r = zeroize::Zeroizing::new(BoxedUint::from_be_slice(&buf, prec).map_err(|_| BAD)?);
    let x = zeroize::Zeroizing::new(r.rem(&m));
    let y = modpow(&mp, prec, g, &x)?;
    let xb = zeroize::Zeroizing::new(x.to_be_bytes());
    let mut out = alloc::vec![bn_attr(ids::ATTR_DH_PRIME, p), bn_attr(ids::ATTR_DH_BASE, g)];
    if let Some(q) = q {
        out.push(bn_attr(ids::ATTR_DH_SUBPRIME, q));
    }
    out.push(Attr::Value(ids::ATTR_DH_X_BITS, xbits as u32, 0));
    out.push(bn_attr(ids::ATTR_DH_PUBLIC_VALUE, &y));
    out.push(bn_attr(ids::ATTR_DH_PRIVATE_VALUE, &xb));
    Ok(out)
}
