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

/// SM2 curve coefficients a and b (GM/T 0003.5), as ZA hashes them.
const SM2_A: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc,
];
const SM2_B: [u8; 32] = [
    0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf, 0x65, 0x09, 0xa7, 0xf3, 0x97, 0x89,
    0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41, 0x4d, 0x94, 0x0e, 0x93,
];

/// Z = SM3(ENTL || ID || a || b || xG || yG || x || y).
pub(super) fn z_value(id: &[u8], p: &AffinePoint) -> Result<[u8; 32]> {
    use sm3::Digest;
    let bits = u16::try_from(id.len() * 8).map_err(|_| BAD)?;
    let g = ProjectivePoint::GENERATOR.to_affine();
    let mut h = sm3::Sm3::new();
    h.update(bits.to_be_bytes());
    h.update(id);
    h.update(SM2_A);
    h.update(SM2_B);
    h.update(g.x());
    h.update(g.y());
    h.update(p.x());
    h.update(p.y());
    Ok(h.finalize().into())
}

/// GM/T 0003.4 KDF over SM3: `len` bytes.
fn kdf(z: &[u8], len: usize) -> Secret {
    use sm3::Digest;
    let mut out = Secret::new(Vec::with_capacity(len));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut h = sm3::Sm3::new();
        h.update(z);
        h.update(counter.to_be_bytes());
        let block = h.finalize();
        let take = (len - out.len()).min(block.len());
        out.extend_from_slice(&block[..take]);
        counter = counter.wrapping_add(1);
    }
    out
}

/// x̄ = 2^127 + (x mod 2^127), as a scalar.
fn x_bar(p: &AffinePoint) -> Scalar {
    let mut b = FieldBytes::default();
    b[16..].copy_from_slice(&p.x()[16..]);
    b[16] |= 0x80;
    Scalar::from_repr(b).into_option().unwrap_or(Scalar::ZERO)
}

/// The confirmation hash S = SM3(flag || yU || SM3(xU || ZA || ZB || x1 || y1 || x2 || y2)).
fn confirmation(flag: u8, u: &AffinePoint, zazb: &[u8], init_eph: &AffinePoint, resp_eph: &AffinePoint) -> [u8; 32] {
    use sm3::Digest;
    let mut h = sm3::Sm3::new();
    h.update(u.x());
    h.update(zazb);
    h.update(init_eph.x());
    h.update(init_eph.y());
    h.update(resp_eph.x());
    h.update(resp_eph.y());
    let inner = h.finalize();
    let mut h = sm3::Sm3::new();
    h.update([flag]);
    h.update(u.y());
    h.update(inner);
    h.finalize().into()
}

fn peer_point(params: &dyn Attrs, x: u32, y: u32) -> Result<AffinePoint> {
    let x = fb(need(params, x)?).ok_or(BAD)?;
    let y = fb(need(params, y)?).ok_or(BAD)?;
    AffinePoint::from_coordinates(&x, &y).into_option().ok_or(TeeResult::ERROR_BAD_STATE)
}

/// `TEE_ALG_SM2_KEP` (GM/T 0003.3): our static key `key`, our ephemeral
/// key `eph` (the operation's second key), and in `params` the role
/// (`SM2_KEP_USER`: 0 initiator), the peer's static and ephemeral public
/// points, both identities, and optionally the peer's confirmation
/// (`SM2_KEP_CONFIRMATION_IN`, checked: BAD_STATE on mismatch) and a
/// `SM2_KEP_CONFIRMATION_OUT` buffer (at least 32 bytes), in which case
/// our confirmation comes back for the caller to copy out. `out_len` is
/// the shared key's length in bytes (upstream passes the output object's
/// maximum size).
pub fn kep_derive(
    key: &dyn Attrs,
    eph: &dyn Attrs,
    params: &dyn Attrs,
    out_len: usize,
) -> Result<(Secret, Option<[u8; 32]>)> {
    let initiator = params.value(ids::ATTR_SM2_KEP_USER).ok_or(BAD)?.0 == 0;
    let id_i = need(params, ids::ATTR_SM2_ID_INITIATOR)?;
    let id_r = need(params, ids::ATTR_SM2_ID_RESPONDER)?;
    let peer = peer_point(params, ids::ATTR_ECC_PUBLIC_VALUE_X, ids::ATTR_ECC_PUBLIC_VALUE_Y)?;
    let peer_eph = peer_point(params, ids::ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_X, ids::ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_Y)?;
    let conf_in = params.bytes(ids::ATTR_SM2_KEP_CONFIRMATION_IN);
    let conf_out = params.bytes(ids::ATTR_SM2_KEP_CONFIRMATION_OUT);
    if conf_in.is_some_and(|c| c.len() < 32) || conf_out.is_some_and(|c| c.len() < 32) {
        return Err(BAD);
    }
    let d = scalar(key)?;
    let r = scalar(eph)?;
    let me = point(key).ok_or(BAD)?;
    let me_eph = point(eph).ok_or(BAD)?;
    // t = (d + x̄1 r) mod n; U = [t](P_peer + [x̄2] R_peer).
    let t = zeroize::Zeroizing::new(*d + x_bar(&me_eph) * *r);
    let u = (ProjectivePoint::from(peer) + ProjectivePoint::from(peer_eph) * x_bar(&peer_eph)) * *t;
    if bool::from(sm2::elliptic_curve::group::Group::is_identity(&u)) {
        return Err(TeeResult::ERROR_BAD_STATE);
    }
    let u = u.to_affine();
    let (init_key, resp_key, init_eph, resp_eph) =
        if initiator { (me, peer, me_eph, peer_eph) } else { (peer, me, peer_eph, me_eph) };
    let mut z = zeroize::Zeroizing::new(Vec::with_capacity(128));
    z.extend_from_slice(&u.x());
    z.extend_from_slice(&u.y());
    z.extend_from_slice(&z_value(id_i, &init_key)?);
    z.extend_from_slice(&z_value(id_r, &resp_key)?);
    let shared = kdf(&z, out_len);
    let zazb = &z[64..];
    if let Some(c) = conf_in {
        let s = confirmation(if initiator { 0x02 } else { 0x03 }, &u, zazb, &init_eph, &resp_eph);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&s[..], &c[..32])) {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
    }
    let out = conf_out.map(|_| confirmation(if initiator { 0x03 } else { 0x02 }, &u, zazb, &init_eph, &resp_eph));
    Ok((shared, out))
}
