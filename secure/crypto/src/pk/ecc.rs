//! ECDSA and ECDH over the NIST curves P-192, P-224, P-256, P-384, P-521
//! (RustCrypto: p192/p224 on elliptic-curve 0.13 and ecdsa 0.16, the
//! others on 0.14 / 0.17).
//!
//! Upstream facts kept here: the curve is the key's `TEE_ATTR_ECC_CURVE`;
//! each ECDSA algorithm goes with one curve (`ECDSA_SHA1` = `ECDSA_P192`
//! ... `ECDSA_SHA512` = `ECDSA_P521`), another pairing answers
//! BAD_PARAMETERS and an unknown curve NOT_SUPPORTED; the input is a
//! digest of any length, of which the leftmost bits up to the order's
//! length are used; a signature is r || s, each padded to the field size,
//! and one of another length answers BAD_PARAMETERS on verification; an
//! ECDH peer point off the curve answers BAD_PARAMETERS; the shared
//! secret is the x coordinate padded to the field size; generation wants
//! the key size to be the curve's.

use super::rng::{Rng06, Rng10};
use super::{bn_attr, need, pad_left, trim};
use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult, ids};
use alloc::vec::Vec;

const BAD: TeeResult = TeeResult::ERROR_BAD_PARAMETERS;
const INVALID: TeeResult = TeeResult::ERROR_SIGNATURE_INVALID;

/// Leftmost `nbits` bits of digest `h` as a big-endian number of
/// `nbytes` bytes (the whole digest when it is shorter), as upstream's
/// ECDSA reads its input.
fn digest_to_int(h: &[u8], nbits: usize) -> Vec<u8> {
    let nbytes = nbits.div_ceil(8);
    if h.len() * 8 < nbits {
        let mut v = alloc::vec![0u8; nbytes - h.len()];
        v.extend_from_slice(h);
        return v;
    }
    let mut v = h[..nbytes].to_vec();
    let shift = (8 - nbits % 8) % 8;
    if shift != 0 {
        let mut carry = 0u8;
        for b in v.iter_mut() {
            let x = *b;
            *b = (x >> shift) | carry;
            carry = x << (8 - shift);
        }
    }
    v
}

/// A coordinate or scalar attribute as exactly `len` bytes: None when
/// its value does not fit.
fn fixed(b: &[u8], len: usize) -> Option<Vec<u8>> {
    let t = trim(b);
    (t.len() <= len).then(|| pad_left(t, len))
}

/// Curve operations on big-endian byte strings of the field size.
macro_rules! curve_014 {
    ($m:ident, $c:ident) => {
        mod $m {
            use super::*;
            use $c::elliptic_curve::ff::PrimeField as _;
            use $c::elliptic_curve::point::AffineCoordinates;
            use $c::elliptic_curve::Generate as _;
            use $c::{AffinePoint, FieldBytes, NonZeroScalar, ProjectivePoint};

            fn fb(b: &[u8]) -> Option<FieldBytes> {
                let v = fixed(b, LEN)?;
                let mut f = FieldBytes::default();
                f.copy_from_slice(&v);
                Some(f)
            }

            pub(super) const LEN: usize = core::mem::size_of::<FieldBytes>();

            fn scalar(d: &[u8]) -> Option<NonZeroScalar> {
                NonZeroScalar::from_repr(fb(d)?).into_option()
            }

            fn point(x: &[u8], y: &[u8]) -> Option<AffinePoint> {
                AffinePoint::from_coordinates(&fb(x)?, &fb(y)?).into_option()
            }

            pub(super) fn sign(d: &[u8], z: &[u8], rng: &mut dyn Rng) -> Result<Vec<u8>> {
                let d = scalar(d).ok_or(BAD)?;
                loop {
                    let Ok(k) = NonZeroScalar::try_generate_from_rng(&mut Rng10(&mut *rng));
                    if let Ok((sig, _)) = ecdsa::hazmat::sign_prehashed(&d, &k, z) {
                        return Ok(sig.to_bytes().to_vec());
                    }
                }
            }

            pub(super) fn verify(x: &[u8], y: &[u8], z: &[u8], sig: &[u8]) -> Result<()> {
                let q = point(x, y).ok_or(INVALID)?;
                let sig = $c::ecdsa::Signature::from_slice(sig).map_err(|_| INVALID)?;
                ecdsa::hazmat::verify_prehashed(&ProjectivePoint::from(q), z, &sig).map_err(|_| INVALID)
            }

            pub(super) fn derive(d: &[u8], x: &[u8], y: &[u8]) -> Result<Secret> {
                let q = point(x, y).ok_or(BAD)?;
                let d = scalar(d).ok_or(BAD)?;
                let s = (ProjectivePoint::from(q) * *d).to_affine();
                Ok(Secret::new(s.x().to_vec()))
            }

            pub(super) fn generate(rng: &mut dyn Rng) -> (Secret, Vec<u8>, Vec<u8>) {
                let Ok(d) = NonZeroScalar::try_generate_from_rng(&mut Rng10(rng));
                let p = (ProjectivePoint::GENERATOR * *d).to_affine();
                (Secret::new(d.to_repr().to_vec()), p.x().to_vec(), p.y().to_vec())
            }
        }
    };
}

macro_rules! curve_013 {
    ($m:ident, $c:ident, $C:ident) => {
        mod $m {
            use super::*;
            use $c::elliptic_curve::ff::PrimeField as _;
            use $c::elliptic_curve::point::AffineCoordinates;
            use $c::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
            use $c::elliptic_curve::NonZeroScalar;
            use $c::{AffinePoint, EncodedPoint, FieldBytes, ProjectivePoint, $C};

            pub(super) const LEN: usize = core::mem::size_of::<FieldBytes>();

            fn fb(b: &[u8]) -> Option<FieldBytes> {
                let v = fixed(b, LEN)?;
                let mut f = FieldBytes::default();
                f.copy_from_slice(&v);
                Some(f)
            }

            fn scalar(d: &[u8]) -> Option<NonZeroScalar<$C>> {
                NonZeroScalar::from_repr(fb(d)?).into()
            }

            fn point(x: &[u8], y: &[u8]) -> Option<AffinePoint> {
                let ep = EncodedPoint::from_affine_coordinates(&fb(x)?, &fb(y)?, false);
                AffinePoint::from_encoded_point(&ep).into()
            }

            pub(super) fn sign(d: &[u8], z: &[u8], rng: &mut dyn Rng) -> Result<Vec<u8>> {
                let d = scalar(d).ok_or(BAD)?;
                let z = fb(z).ok_or(BAD)?;
                loop {
                    let k = NonZeroScalar::<$C>::random(&mut Rng06(&mut *rng));
                    if let Ok((sig, _)) = ecdsa16::hazmat::sign_prehashed::<$C, _>(&d, *k, &z) {
                        return Ok(sig.to_bytes().to_vec());
                    }
                }
            }

            pub(super) fn verify(x: &[u8], y: &[u8], z: &[u8], sig: &[u8]) -> Result<()> {
                let q = point(x, y).ok_or(INVALID)?;
                let z = fb(z).ok_or(BAD)?;
                let sig = ecdsa16::Signature::<$C>::from_slice(sig).map_err(|_| INVALID)?;
                ecdsa16::hazmat::verify_prehashed::<$C>(&ProjectivePoint::from(q), &z, &sig).map_err(|_| INVALID)
            }

            pub(super) fn derive(d: &[u8], x: &[u8], y: &[u8]) -> Result<Secret> {
                let q = point(x, y).ok_or(BAD)?;
                let d = scalar(d).ok_or(BAD)?;
                let s = (ProjectivePoint::from(q) * *d).to_affine();
                Ok(Secret::new(s.x().to_vec()))
            }

            pub(super) fn generate(rng: &mut dyn Rng) -> (Secret, Vec<u8>, Vec<u8>) {
                let d = NonZeroScalar::<$C>::random(&mut Rng06(rng));
                let p = (ProjectivePoint::from(AffinePoint::GENERATOR) * *d).to_affine().to_encoded_point(false);
                let x = p.x().map(|x| x.to_vec()).unwrap_or_default();
                let y = p.y().map(|y| y.to_vec()).unwrap_or_default();
                (Secret::new(d.to_repr().to_vec()), x, y)
            }
        }
    };
}

curve_013!(p192m, p192, NistP192);
curve_013!(p224m, p224, NistP224);
curve_014!(p256m, p256);
curve_014!(p384m, p384);
curve_014!(p521m, p521);

/// Runs `$body` with `$m` the module of `$curve` (a `TEE_ECC_CURVE_*`
/// among the NIST ones).
macro_rules! on_curve {
    ($curve:expr, $m:ident => $body:expr) => {
        match $curve {
            ids::ECC_CURVE_NIST_P192 => {
                use p192m as $m;
                $body
            }
            ids::ECC_CURVE_NIST_P224 => {
                use p224m as $m;
                $body
            }
            ids::ECC_CURVE_NIST_P256 => {
                use p256m as $m;
                $body
            }
            ids::ECC_CURVE_NIST_P384 => {
                use p384m as $m;
                $body
            }
            ids::ECC_CURVE_NIST_P521 => {
                use p521m as $m;
                $body
            }
            _ => return Err(TeeResult::ERROR_NOT_SUPPORTED),
        }
    };
}

/// Bits of the curve's order, and the ECDSA algorithm that goes with it.
fn curve_info(curve: u32) -> Result<(usize, u32)> {
    Ok(match curve {
        ids::ECC_CURVE_NIST_P192 => (192, ids::ALG_ECDSA_SHA1),
        ids::ECC_CURVE_NIST_P224 => (224, ids::ALG_ECDSA_SHA224),
        ids::ECC_CURVE_NIST_P256 => (256, ids::ALG_ECDSA_SHA256),
        ids::ECC_CURVE_NIST_P384 => (384, ids::ALG_ECDSA_SHA384),
        ids::ECC_CURVE_NIST_P521 => (521, ids::ALG_ECDSA_SHA512),
        _ => return Err(TeeResult::ERROR_NOT_SUPPORTED),
    })
}

fn key_curve(key: &dyn Attrs) -> Result<u32> {
    key.value(ids::ATTR_ECC_CURVE).map(|(a, _)| a).ok_or(BAD)
}

/// ECDSA signing of digest `input`.
pub(super) fn sign(algo: u32, key: &dyn Attrs, input: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    let curve = key_curve(key)?;
    let (bits, alg) = curve_info(curve)?;
    if alg != algo {
        return Err(BAD);
    }
    let d = need(key, ids::ATTR_ECC_PRIVATE_VALUE)?;
    let z = digest_to_int(input, bits);
    on_curve!(curve, m => m::sign(d, &z, rng)).map(Secret::new)
}

/// ECDSA verification of `sig` (r || s) over digest `input`.
pub(super) fn verify(algo: u32, key: &dyn Attrs, input: &[u8], sig: &[u8]) -> Result<()> {
    let curve = key_curve(key)?;
    let (bits, alg) = curve_info(curve)?;
    if alg != algo {
        return Err(BAD);
    }
    let x = need(key, ids::ATTR_ECC_PUBLIC_VALUE_X)?;
    let y = need(key, ids::ATTR_ECC_PUBLIC_VALUE_Y)?;
    let z = digest_to_int(input, bits);
    on_curve!(curve, m => {
        if sig.len() != 2 * m::LEN {
            return Err(BAD);
        }
        m::verify(x, y, &z, sig)
    })
}

/// ECDH: the x coordinate of d * Q for the peer's `ECC_PUBLIC_VALUE_X/Y`.
pub(super) fn derive(key: &dyn Attrs, params: &dyn Attrs) -> Result<Secret> {
    let curve = key_curve(key)?;
    if curve_info(curve).is_err() {
        return Err(TeeResult::ERROR_NOT_IMPLEMENTED);
    }
    let x = need(params, ids::ATTR_ECC_PUBLIC_VALUE_X)?;
    let y = need(params, ids::ATTR_ECC_PUBLIC_VALUE_Y)?;
    let d = need(key, ids::ATTR_ECC_PRIVATE_VALUE)?;
    on_curve!(curve, m => m::derive(d, x, y))
}

/// `TEE_TYPE_ECDSA_KEYPAIR` / `TEE_TYPE_ECDH_KEYPAIR` generation on the
/// curve the parameters name.
pub(super) fn generate(bits: u32, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    let curve = params.value(ids::ATTR_ECC_CURVE).map(|(a, _)| a).unwrap_or(0);
    let (cbits, _) = curve_info(curve)?;
    if bits as usize != cbits {
        return Err(BAD);
    }
    let (d, x, y) = on_curve!(curve, m => m::generate(rng));
    Ok(alloc::vec![
        bn_attr(ids::ATTR_ECC_PRIVATE_VALUE, &d),
        bn_attr(ids::ATTR_ECC_PUBLIC_VALUE_X, &x),
        bn_attr(ids::ATTR_ECC_PUBLIC_VALUE_Y, &y),
        Attr::Value(ids::ATTR_ECC_CURVE, curve, 0),
    ])
}

#[cfg(test)]
pub(super) fn tests_digest_to_int(h: &[u8], nbits: usize) -> Vec<u8> {
    digest_to_int(h, nbits)
}
