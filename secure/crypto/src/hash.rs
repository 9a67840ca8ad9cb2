//! Message digests: MD5, SHA-1, SHA-224/256/384/512, SHA3-224/256/384/512,
//! SHAKE128/256 and SM3.

use crate::Result;
use alloc::boxed::Box;

/// A running digest.
pub trait Hash: Send {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// Writes the digest into `out` (its length is [`Hash::out_len`], or
    /// any length for SHAKE) and resets to the initial state.
    fn finish(&mut self, out: &mut [u8]);
    /// The digest's length in bytes (SHAKE: the length GP fixes for it).
    fn out_len(&self) -> usize;
    /// The block length in bytes (for HMAC).
    fn block_len(&self) -> usize;
    /// An independent copy of the running state.
    fn box_clone(&self) -> Box<dyn Hash>;
}

/// A new digest for a `TEE_ALG_*` digest algorithm; NOT_SUPPORTED for
/// others.
pub fn new(algo: u32) -> Result<Box<dyn Hash>> {
    let _ = algo;
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}
