//! The hook through which the OS supplies the Armv8 cryptographic
//! extensions. The OS registers one [`Accel`] at boot ([`set`]); the
//! algorithms ask [`get`] and fall back to portable code when there is
//! none (host tests, a CPU without the extensions).
//!
//! Every method works on whole blocks and must give exactly the result of
//! the portable code: host tests drive the same mode logic through a
//! portable implementation of this trait, and the QEMU suite through the
//! OS's.

/// AES round keys in the byte order the Armv8 `AESE`/`AESD` instructions
/// consume (each round key as the 16 state bytes, FIPS-197 order).
#[derive(Clone)]
pub struct AesKeys {
    /// Encryption round keys 0..=rounds.
    pub enc: [[u8; 16]; 15],
    /// Decryption round keys for the equivalent inverse cipher, in the
    /// order `AESD` uses them: `enc[rounds]`, then `InvMixColumns(enc[i])`
    /// for i = rounds-1 down to 1, then `enc[0]`.
    pub dec: [[u8; 16]; 15],
    /// 10, 12 or 14.
    pub rounds: usize,
}

impl Drop for AesKeys {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.enc.zeroize();
        self.dec.zeroize();
    }
}

/// Accelerated primitives. Lengths are whole blocks (16 bytes for AES and
/// GHASH, 64 for SHA-1 and SHA-256); callers guarantee it.
pub trait Accel: Sync {
    /// AES-ECB encryption in place.
    fn aes_ecb_encrypt(&self, keys: &AesKeys, data: &mut [u8]);
    /// AES-ECB decryption in place.
    fn aes_ecb_decrypt(&self, keys: &AesKeys, data: &mut [u8]);
    /// AES-CBC encryption in place; `iv` becomes the last ciphertext block.
    fn aes_cbc_encrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]);
    /// AES-CBC decryption in place; `iv` becomes the last ciphertext block.
    fn aes_cbc_decrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]);
    /// AES-CTR in place with a 128-bit big-endian counter block, which is
    /// advanced by the number of blocks processed.
    fn aes_ctr(&self, keys: &AesKeys, ctr: &mut [u8; 16], data: &mut [u8]);
    /// SHA-256 compression of whole 64-byte blocks.
    fn sha256_blocks(&self, state: &mut [u32; 8], blocks: &[u8]);
    /// SHA-1 compression of whole 64-byte blocks.
    fn sha1_blocks(&self, state: &mut [u32; 5], blocks: &[u8]);
    /// GHASH: for each 16-byte block X, `acc = (acc ^ X) * h` in GF(2^128)
    /// with GCM's bit order (`h` and `acc` as the bytes GCM defines).
    fn ghash(&self, h: &[u8; 16], acc: &mut [u8; 16], blocks: &[u8]);
}

static ACCEL: spin::Once<&'static dyn Accel> = spin::Once::new();

/// Registers the accelerated primitives (once, at boot).
pub fn set(accel: &'static dyn Accel) {
    ACCEL.call_once(|| accel);
}

/// The registered accelerated primitives, if any.
pub fn get() -> Option<&'static dyn Accel> {
    ACCEL.get().copied()
}
