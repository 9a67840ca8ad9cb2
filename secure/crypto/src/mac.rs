//! MACs: HMAC over every digest, AES-CMAC (and DES3-CMAC), AES/DES/DES3
//! CBC-MAC with and without PKCS#5 padding.

use crate::Result;
use alloc::boxed::Box;

/// A running MAC.
pub trait Mac: Send {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]) -> Result<()>;
    /// Writes the MAC ([`Mac::out_len`] bytes) into `out[..out_len]`.
    /// Fails as upstream does when the input does not fit the mode (a
    /// CBC-MAC without padding over a partial block: BAD_PARAMETERS).
    fn finish(&mut self, out: &mut [u8]) -> Result<()>;
    /// The MAC's length in bytes.
    fn out_len(&self) -> usize;
    /// An independent copy of the running state.
    fn box_clone(&self) -> Box<dyn Mac>;
}

/// A new MAC for a `TEE_ALG_*` MAC algorithm keyed with `key`.
pub fn new(algo: u32, key: &[u8]) -> Result<Box<dyn Mac>> {
    let _ = (algo, key);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}
