//! SM2 (GM/T 0003): signatures over a TA-computed digest, public-key
//! encryption, key generation.

use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult};
use alloc::vec::Vec;

pub(super) fn dsa_sign(key: &dyn Attrs, input: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    let _ = (key, input, rng);
    Err(TeeResult::ERROR_NOT_SUPPORTED)
}

pub(super) fn dsa_verify(key: &dyn Attrs, input: &[u8], sig: &[u8]) -> Result<()> {
    let _ = (key, input, sig);
    Err(TeeResult::ERROR_NOT_SUPPORTED)
}

pub(super) fn pke_encrypt(key: &dyn Attrs, input: &[u8], rng: &mut dyn Rng) -> Result<Secret> {
    let _ = (key, input, rng);
    Err(TeeResult::ERROR_NOT_SUPPORTED)
}

pub(super) fn pke_decrypt(key: &dyn Attrs, input: &[u8]) -> Result<Secret> {
    let _ = (key, input);
    Err(TeeResult::ERROR_NOT_SUPPORTED)
}

pub(super) fn generate(bits: u32, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    let _ = (bits, rng);
    Err(TeeResult::ERROR_NOT_SUPPORTED)
}
