//! OP-TEE's key-derivation extensions: HKDF, PBKDF2 and concat-KDF (NIST
//! SP 800-56A), keyed from a generic-secret (or HKDF/PBKDF2/concat-KDF
//! IKM) object.

use crate::{Attrs, Result, Secret};

/// Derives `out_len` bytes with KDF algorithm `algo` from secret `ikm`
/// and the operation's parameters (`TEE_ATTR_HKDF_*`, `TEE_ATTR_PBKDF2_*`,
/// `TEE_ATTR_CONCAT_KDF_*`).
pub fn derive(algo: u32, ikm: &[u8], params: &dyn Attrs, out_len: usize) -> Result<Secret> {
    let _ = (algo, ikm, params, out_len);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}
