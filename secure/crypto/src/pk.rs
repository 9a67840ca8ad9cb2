//! Public-key algorithms: RSA (PKCS#1 v1.5 and PSS signatures, OAEP and
//! v1.5 encryption, raw), DSA, DH, ECDSA and ECDH (P-192..P-521), EdDSA
//! (Ed25519, with context and prehash), X25519, SM2 (DSA, KEP, PKE); and
//! key generation for their key types.

use crate::{Attr, Attrs, Result, Rng, Secret};
use alloc::vec::Vec;

/// Signs, encrypts or decrypts (by `mode`, `TEE_MODE_*`) with algorithm
/// `algo` and the key object's attributes `key`. `params` are the
/// attributes the TA passed with the operation (PSS salt length, OAEP
/// label, EdDSA context...). For signatures `input` is the digest (or
/// the message, for EdDSA). Returns the output; the caller answers
/// SHORT_BUFFER with its length when the TA's buffer is smaller.
pub fn operate(
    algo: u32,
    mode: u32,
    key: &dyn Attrs,
    params: &dyn Attrs,
    input: &[u8],
    rng: &mut dyn Rng,
) -> Result<Secret> {
    let _ = (algo, mode, key, params, input, rng);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}

/// Verifies signature `sig` over `input` (digest, or message for EdDSA):
/// SIGNATURE_INVALID when it does not verify.
pub fn verify(algo: u32, key: &dyn Attrs, params: &dyn Attrs, input: &[u8], sig: &[u8]) -> Result<()> {
    let _ = (algo, key, params, input, sig);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}

/// Derives a shared secret (ECDH, DH, X25519, SM2 KEP) from our key
/// `key` and the peer's public value in `params`.
pub fn derive(algo: u32, key: &dyn Attrs, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Secret> {
    let _ = (algo, key, params, rng);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}

/// Generates a key pair of object type `obj_type` and size `key_bits`
/// (`params`: DH prime/base, DSA domain, EC curve...): the attributes of
/// the new key (public and private parts, and value attributes such as
/// the curve).
pub fn generate(obj_type: u32, key_bits: u32, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    let _ = (obj_type, key_bits, params, rng);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}
