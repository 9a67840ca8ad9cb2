//! Authenticated encryption: AES-GCM and AES-CCM.

use crate::Result;
use alloc::boxed::Box;

/// A running authenticated encryption or decryption.
pub trait Ae: Send {
    /// Absorbs additional authenticated data (before any payload).
    fn update_aad(&mut self, aad: &[u8]) -> Result<()>;
    /// Encrypts or decrypts `data` in place (any length).
    fn update(&mut self, data: &mut [u8]) -> Result<()>;
    /// Encrypts the last piece in place and writes the tag (the length
    /// given at init) into `tag`; returns the tag length.
    fn enc_final(&mut self, data: &mut [u8], tag: &mut [u8]) -> Result<usize>;
    /// Decrypts the last piece in place and checks `tag` in constant
    /// time: MAC_INVALID when it does not match.
    fn dec_final(&mut self, data: &mut [u8], tag: &[u8]) -> Result<()>;
    /// An independent copy of the running state.
    fn box_clone(&self) -> Box<dyn Ae>;
}

/// A new AE operation. `tag_bits` is the tag length GP passes;
/// `aad_len` and `payload_len` are CCM's announced lengths (ignored by
/// GCM).
pub fn new(
    algo: u32,
    encrypt: bool,
    key: &[u8],
    nonce: &[u8],
    tag_bits: usize,
    aad_len: usize,
    payload_len: usize,
) -> Result<Box<dyn Ae>> {
    let _ = (algo, encrypt, key, nonce, tag_bits, aad_len, payload_len);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}
