//! Ed25519 (RFC 8032: Ed25519, Ed25519ctx, Ed25519ph) and X25519
//! (RFC 7748), over dalek.
//!
//! Upstream facts kept here: the TA passes the message (Ed25519ph hashes
//! it with SHA-512 itself); `TEE_ATTR_EDDSA_PREHASH` is a value attribute
//! whose `a` is 0 or 1 and `b` 0; a context longer than 255 bytes is
//! refused; with neither prehash nor a (non-empty) context the plain
//! Ed25519 is used; a signature of another length than 64 answers
//! BAD_PARAMETERS; the key size is 256 bits; an X25519 peer value is 32
//! bytes, and an all-zero shared secret (low-order peer point) answers
//! SECURITY.

use super::need;
use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult, ids};
use alloc::vec::Vec;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

const BAD: TeeResult = TeeResult::ERROR_BAD_PARAMETERS;
const INVALID: TeeResult = TeeResult::ERROR_SIGNATURE_INVALID;

/// The RFC 8032 variant the parameters select.
enum Variant<'a> {
    Plain,
    Ctx(&'a [u8]),
    Ph(&'a [u8]),
}

fn variant(params: &dyn Attrs) -> Result<Variant<'_>> {
    let ph = match params.value(ids::ATTR_EDDSA_PREHASH) {
        None => false,
        Some((_, b)) if b != 0 => return Err(BAD),
        Some((0, _)) => false,
        Some((1, _)) => true,
        Some(_) => return Err(BAD),
    };
    let ctx = params.bytes(ids::ATTR_EDDSA_CTX).unwrap_or(&[]);
    if ctx.len() > 255 {
        return Err(BAD);
    }
    Ok(match (ph, ctx.is_empty()) {
        (true, _) => Variant::Ph(ctx),
        (false, false) => Variant::Ctx(ctx),
        (false, true) => Variant::Plain,
    })
}

fn array32(b: &[u8]) -> Result<[u8; 32]> {
    b.try_into().map_err(|_| BAD)
}

/// RFC 8032's dom2(phflag, context).
fn dom2(h: &mut Sha512, phflag: u8, ctx: &[u8]) {
    h.update(b"SigEd25519 no Ed25519 collisions");
    h.update([phflag, ctx.len() as u8]);
    h.update(ctx);
}

fn hash_scalar(h: Sha512) -> Scalar {
    let out: [u8; 64] = h.finalize().into();
    Scalar::from_bytes_mod_order_wide(&out)
}

/// Ed25519ctx signing (dom2 with phflag 0), over dalek's group
/// arithmetic and its expanded secret key.
fn sign_ctx(seed: &[u8; 32], public: &VerifyingKey, ctx: &[u8], msg: &[u8]) -> [u8; 64] {
    let esk = ed25519_dalek::hazmat::ExpandedSecretKey::from(seed);
    let mut h = Sha512::new();
    dom2(&mut h, 0, ctx);
    h.update(esk.hash_prefix);
    h.update(msg);
    let r = hash_scalar(h);
    let big_r = EdwardsPoint::mul_base(&r).compress();
    let mut h = Sha512::new();
    dom2(&mut h, 0, ctx);
    h.update(big_r.as_bytes());
    h.update(public.as_bytes());
    h.update(msg);
    let k = hash_scalar(h);
    let s = k * esk.scalar + r;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// Ed25519ctx verification: [S]B = R + [k]A (S canonical).
fn verify_ctx(public: &[u8; 32], ctx: &[u8], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Some(a) = CompressedEdwardsY(*public).decompress() else {
        return false;
    };
    let mut s = [0u8; 32];
    s.copy_from_slice(&sig[32..]);
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) else {
        return false;
    };
    let mut h = Sha512::new();
    dom2(&mut h, 0, ctx);
    h.update(&sig[..32]);
    h.update(public);
    h.update(msg);
    let k = hash_scalar(h);
    let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s).compress();
    bool::from(r.as_bytes().ct_eq(&sig[..32]))
}

/// `TEE_ALG_ED25519` signing of message `msg`.
pub(super) fn sign(key: &dyn Attrs, params: &dyn Attrs, msg: &[u8]) -> Result<Secret> {
    let v = variant(params)?;
    let seed = zeroize::Zeroizing::new(array32(need(key, ids::ATTR_ED25519_PRIVATE_VALUE)?)?);
    let sk = SigningKey::from_bytes(&seed);
    let sig = match v {
        Variant::Plain => ed25519_dalek::Signer::sign(&sk, msg).to_bytes(),
        Variant::Ph(ctx) => {
            let ctx = if ctx.is_empty() { None } else { Some(ctx) };
            sk.sign_prehashed(Sha512::new_with_prefix(msg), ctx).map_err(|_| BAD)?.to_bytes()
        }
        Variant::Ctx(ctx) => {
            // The key's own public half, as upstream signs with it.
            let public = match key.bytes(ids::ATTR_ED25519_PUBLIC_VALUE) {
                Some(p) => VerifyingKey::from_bytes(&array32(p)?).map_err(|_| BAD)?,
                None => sk.verifying_key(),
            };
            sign_ctx(&seed, &public, ctx, msg)
        }
    };
    Ok(Secret::new(sig.to_vec()))
}

/// `TEE_ALG_ED25519` verification.
pub(super) fn verify(key: &dyn Attrs, params: &dyn Attrs, msg: &[u8], sig: &[u8]) -> Result<()> {
    let v = variant(params)?;
    let public = array32(need(key, ids::ATTR_ED25519_PUBLIC_VALUE)?)?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| BAD)?;
    let ok = match v {
        Variant::Ctx(ctx) => verify_ctx(&public, ctx, msg, &sig),
        Variant::Plain | Variant::Ph(_) => {
            let Ok(vk) = VerifyingKey::from_bytes(&public) else {
                return Err(INVALID);
            };
            let s = Signature::from_bytes(&sig);
            match v {
                Variant::Ph(ctx) => {
                    let ctx = if ctx.is_empty() { None } else { Some(ctx) };
                    vk.verify_prehashed(Sha512::new_with_prefix(msg), ctx, &s).is_ok()
                }
                _ => ed25519_dalek::Verifier::verify(&vk, msg, &s).is_ok(),
            }
        }
    };
    if ok { Ok(()) } else { Err(INVALID) }
}

/// `TEE_TYPE_ED25519_KEYPAIR` generation.
pub(super) fn ed25519_generate(bits: u32, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    if bits != 256 {
        return Err(BAD);
    }
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill(&mut seed[..]);
    let public = SigningKey::from_bytes(&seed).verifying_key();
    Ok(alloc::vec![
        Attr::Bytes(ids::ATTR_ED25519_PUBLIC_VALUE, Secret::new(public.as_bytes().to_vec())),
        Attr::Bytes(ids::ATTR_ED25519_PRIVATE_VALUE, Secret::new(seed.to_vec())),
    ])
}

/// `TEE_ALG_X25519` shared secret with the peer's
/// `TEE_ATTR_X25519_PUBLIC_VALUE`.
pub(super) fn x25519_derive(key: &dyn Attrs, params: &dyn Attrs) -> Result<Secret> {
    let peer = array32(need(params, ids::ATTR_X25519_PUBLIC_VALUE)?)?;
    let k = zeroize::Zeroizing::new(array32(need(key, ids::ATTR_X25519_PRIVATE_VALUE)?)?);
    let shared = zeroize::Zeroizing::new(x25519_dalek::x25519(*k, peer));
    if bool::from(shared.ct_eq(&[0u8; 32])) {
        return Err(TeeResult::ERROR_SECURITY);
    }
    Ok(Secret::new(shared.to_vec()))
}

/// `TEE_TYPE_X25519_KEYPAIR` generation.
pub(super) fn x25519_generate(bits: u32, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    if bits != 256 {
        return Err(BAD);
    }
    let mut k = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill(&mut k[..]);
    let public = x25519_dalek::x25519(*k, x25519_dalek::X25519_BASEPOINT_BYTES);
    Ok(alloc::vec![
        Attr::Bytes(ids::ATTR_X25519_PUBLIC_VALUE, Secret::new(public.to_vec())),
        Attr::Bytes(ids::ATTR_X25519_PRIVATE_VALUE, Secret::new(k.to_vec())),
    ])
}
