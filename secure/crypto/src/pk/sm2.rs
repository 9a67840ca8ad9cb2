//! SM2 (GM/T 0003) over the `sm2` crate: signatures over a TA-computed
//! digest, public-key encryption, key generation.
//!
//! Upstream facts kept here: `TEE_ALG_SM2_DSA_SM3` takes the hash value
//! e (ZA and the SM3 digest are the TA's business), read as a number of
//! any length; a signature is r || s, 32 bytes each, and one of another
//! length answers BAD_PARAMETERS; SM2 PKE ciphertexts are C1 || C2 || C3
//! with C1 uncompressed (a compressed C1 answers NOT_SUPPORTED, a
//! malformed one or a ciphertext too short for C3 BAD_PARAMETERS, a C3
//! mismatch CIPHERTEXT_INVALID); keys are 256 bits, their attributes the
//! private value and the public point (no curve attribute).

use super::rng::Rng10;
use super::{bn_attr, need, pad_left, trim};
use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult, ids};
use alloc::vec::Vec;
use signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use sm2::elliptic_curve::Generate as _;
use sm2::elliptic_curve::ff::PrimeField as _;
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::{AffinePoint, FieldBytes, NonZeroScalar, ProjectivePoint, PublicKey, Scalar};

const BAD: TeeResult = TeeResult::ERROR_BAD_PARAMETERS;
const INVALID: TeeResult = TeeResult::ERROR_SIGNATURE_INVALID;
const LEN: usize = 32;

fn fb(b: &[u8]) -> Option<FieldBytes> {
    let t = trim(b);
    if t.len() > LEN {
        return None;
    }
    let mut f = FieldBytes::default();
    f.copy_from_slice(&pad_left(t, LEN));
    Some(f)
}

fn scalar(key: &dyn Attrs) -> Result<NonZeroScalar> {
    let d = fb(need(key, ids::ATTR_ECC_PRIVATE_VALUE)?).ok_or(BAD)?;
    NonZeroScalar::from_repr(d).into_option().ok_or(BAD)
}

fn point(key: &dyn Attrs) -> Option<AffinePoint> {
    let x = fb(key.bytes(ids::ATTR_ECC_PUBLIC_VALUE_X)?)?;
    let y = fb(key.bytes(ids::ATTR_ECC_PUBLIC_VALUE_Y)?)?;
    AffinePoint::from_coordinates(&x, &y).into_option()
}

/// e mod n as the 32 bytes the crate's prehash interface wants.
fn e_mod_n(e: &[u8]) -> [u8; LEN] {
    let base = Scalar::from(256u64);
    let e = e.iter().fold(Scalar::ZERO, |acc, &b| acc * base + Scalar::from(u64::from(b)));
    e.to_repr().into()
}

/// `TEE_ALG_SM2_DSA_SM3` signing of hash value `e`.
pub(super) fn dsa_sign(key: &dyn Attrs, e: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    let d = scalar(key)?;
    let sk = sm2::dsa::SigningKey::from_nonzero_scalar("", d).map_err(|_| BAD)?;
    let sig: sm2::dsa::Signature =
        sk.sign_prehash_with_rng(&mut Rng10(rng), &e_mod_n(e)).map_err(|_| TeeResult::ERROR_BAD_STATE)?;
    Ok(Secret::new(sig.to_bytes().to_vec()))
}

/// `TEE_ALG_SM2_DSA_SM3` verification.
pub(super) fn dsa_verify(key: &dyn Attrs, e: &[u8], sig: &[u8]) -> Result<()> {
    if sig.len() != 2 * LEN {
        return Err(BAD);
    }
    let q = point(key).ok_or(INVALID)?;
    let vk = sm2::dsa::VerifyingKey::from_affine("", q).map_err(|_| INVALID)?;
    let sig = sm2::dsa::Signature::from_slice(sig).map_err(|_| INVALID)?;
    vk.verify_prehash(&e_mod_n(e), &sig).map_err(|_| INVALID)
}

/// `TEE_ALG_SM2_PKE` encryption: C1 || C2 || C3.
pub(super) fn pke_encrypt(key: &dyn Attrs, msg: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    let q = point(key).ok_or(BAD)?;
    let pk = PublicKey::from_affine(q).map_err(|_| BAD)?;
    let ek = sm2::pke::EncryptingKey::new_with_mode(pk, sm2::pke::Mode::C1C2C3);
    ek.encrypt(&mut Rng10(rng), msg).map(Secret::new).map_err(|_| BAD)
}

/// `TEE_ALG_SM2_PKE` decryption.
pub(super) fn pke_decrypt(key: &dyn Attrs, c: &[u8]) -> Result<Secret> {
    match c.first() {
        Some(0x04) => {}
        Some(0x02 | 0x03 | 0x06 | 0x07) => return Err(TeeResult::ERROR_NOT_SUPPORTED),
        _ => return Err(BAD),
    }
    let c1 = 1 + 2 * LEN;
    if c.len() <= c1 + 32 {
        return Err(BAD);
    }
    let (x, y) = (fb(&c[1..1 + LEN]).ok_or(BAD)?, fb(&c[1 + LEN..c1]).ok_or(BAD)?);
    if AffinePoint::from_coordinates(&x, &y).into_option().is_none() {
        return Err(BAD);
    }
    let dk = sm2::pke::DecryptingKey::new_with_mode(scalar(key)?, sm2::pke::Mode::C1C2C3);
    dk.decrypt(c).map(Secret::new).map_err(|_| TeeResult::ERROR_CIPHERTEXT_INVALID)
}

/// SM2 key pair generation (DSA, KEP and PKE types alike).
pub(super) fn generate(bits: u32, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    if bits != 256 {
        return Err(BAD);
    }
    let Ok(d) = NonZeroScalar::try_generate_from_rng(&mut Rng10(rng));
    let p = (ProjectivePoint::GENERATOR * *d).to_affine();
    let dr = zeroize::Zeroizing::new(d.to_repr());
    Ok(alloc::vec![
        bn_attr(ids::ATTR_ECC_PRIVATE_VALUE, &dr),
        bn_attr(ids::ATTR_ECC_PUBLIC_VALUE_X, &p.x()),
        bn_attr(ids::ATTR_ECC_PUBLIC_VALUE_Y, &p.y()),
    ])
}
