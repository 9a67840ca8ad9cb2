//! Shared engines for the symmetric algorithms: a block-cipher object
//! (ECB, CBC and CTR over whole blocks, accelerated for AES when the OS
//! registered [`Accel`]) and the SHA-1 / SHA-2 (32-bit) digests whose
//! compression goes through [`Accel`] when present.
//!
//! Every engine takes its `Option<&'static dyn Accel>` explicitly so the
//! host tests can run the same mode code on both paths.

use crate::accel::{Accel, AesKeys};
use crate::{Result, TeeResult};
use alloc::boxed::Box;
use cipher::array::Array;
use cipher::typenum::Unsigned;
use cipher::{BlockCipherDecrypt, BlockCipherEncrypt, BlockSizeUser, KeyInit};

/// XORs `src` into `dst` (up to the shorter length).
pub(crate) fn xor(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= *s;
    }
}

/// Adds `n` to a 128-bit big-endian counter block.
pub(crate) fn ctr_add(ctr: &mut [u8; 16], n: u128) {
    *ctr = u128::from_be_bytes(*ctr).wrapping_add(n).to_be_bytes();
}

/// A block cipher keyed for both directions, working on whole blocks in
/// place. Callers guarantee lengths are multiples of [`Bc::bs`].
pub(crate) trait Bc: Send + Sync {
    /// The block length (8 or 16).
    fn bs(&self) -> usize;
    /// ECB encryption.
    fn ecb_enc(&self, d: &mut [u8]);
    /// ECB decryption.
    fn ecb_dec(&self, d: &mut [u8]);
    /// CBC encryption; `iv` (one block) becomes the last ciphertext block.
    fn cbc_enc(&self, iv: &mut [u8], d: &mut [u8]);
    /// CBC decryption; `iv` becomes the last ciphertext block.
    fn cbc_dec(&self, iv: &mut [u8], d: &mut [u8]);
    /// CTR keystream XOR with a 128-bit big-endian counter (16-byte
    /// blocks only), advanced by the number of blocks.
    fn ctr(&self, ctr: &mut [u8; 16], d: &mut [u8]);
    /// An independent copy.
    fn box_clone(&self) -> Box<dyn Bc>;
}

/// A RustCrypto block cipher as a [`Bc`].
#[derive(Clone)]
struct Soft<C>(C);

impl<C> Bc for Soft<C>
where
    C: BlockCipherEncrypt + BlockCipherDecrypt + Clone + Send + Sync + 'static,
{
    fn bs(&self) -> usize {
        <C as BlockSizeUser>::BlockSize::USIZE
    }
    fn ecb_enc(&self, d: &mut [u8]) {
        let (blocks, _) = Array::<u8, C::BlockSize>::slice_as_chunks_mut(d);
        self.0.encrypt_blocks(blocks);
    }
    fn ecb_dec(&self, d: &mut [u8]) {
        let (blocks, _) = Array::<u8, C::BlockSize>::slice_as_chunks_mut(d);
        self.0.decrypt_blocks(blocks);
    }
    fn cbc_enc(&self, iv: &mut [u8], d: &mut [u8]) {
        let (blocks, _) = Array::<u8, C::BlockSize>::slice_as_chunks_mut(d);
        for b in blocks {
            xor(b, iv);
            self.0.encrypt_block(b);
            iv.copy_from_slice(b);
        }
    }
    fn cbc_dec(&self, iv: &mut [u8], d: &mut [u8]) {
        let (blocks, _) = Array::<u8, C::BlockSize>::slice_as_chunks_mut(d);
        for b in blocks {
            let c = b.clone();
            self.0.decrypt_block(b);
            xor(b, iv);
            iv.copy_from_slice(&c);
        }
    }
    fn ctr(&self, ctr: &mut [u8; 16], d: &mut [u8]) {
        // Eight counter blocks at a time through the (possibly parallel)
        // multi-block path.
        const PAR: usize = 8;
        let mut ks: [Array<u8, C::BlockSize>; PAR] = Default::default();
        for chunk in d.chunks_mut(16 * PAR) {
            let n = chunk.len() / 16;
            for k in ks.iter_mut().take(n) {
                k.copy_from_slice(ctr);
                ctr_add(ctr, 1);
            }
            self.0.encrypt_blocks(&mut ks[..n]);
            for (c, k) in chunk.chunks_exact_mut(16).zip(&ks) {
                xor(c, k);
            }
        }
    }
    fn box_clone(&self) -> Box<dyn Bc> {
        Box::new(self.clone())
    }
}

/// AES through the registered accelerator.
#[derive(Clone)]
struct AesAccel {
    accel: &'static dyn Accel,
    keys: AesKeys,
}

fn block16(iv: &mut [u8]) -> &mut [u8; 16] {
    iv.try_into().expect("AES IV is one block")
}

impl Bc for AesAccel {
    fn bs(&self) -> usize {
        16
    }
    fn ecb_enc(&self, d: &mut [u8]) {
        self.accel.aes_ecb_encrypt(&self.keys, d);
    }
    fn ecb_dec(&self, d: &mut [u8]) {
        self.accel.aes_ecb_decrypt(&self.keys, d);
    }
    fn cbc_enc(&self, iv: &mut [u8], d: &mut [u8]) {
        self.accel.aes_cbc_encrypt(&self.keys, block16(iv), d);
    }
    fn cbc_dec(&self, iv: &mut [u8], d: &mut [u8]) {
        self.accel.aes_cbc_decrypt(&self.keys, block16(iv), d);
    }
    fn ctr(&self, ctr: &mut [u8; 16], d: &mut [u8]) {
        self.accel.aes_ctr(&self.keys, ctr, d);
    }
    fn box_clone(&self) -> Box<dyn Bc> {
        Box::new(self.clone())
    }
}

fn soft<C>(key: &[u8]) -> Result<Box<dyn Bc>>
where
    C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt + Clone + Send + Sync + 'static,
{
    let c = C::new_from_slice(key).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
    Ok(Box::new(Soft(c)))
}

/// AES keyed with a 16-, 24- or 32-byte key (BAD_PARAMETERS otherwise),
/// through `accel` when given.
pub(crate) fn aes(key: &[u8], accel: Option<&'static dyn Accel>) -> Result<Box<dyn Bc>> {
    if let Some(accel) = accel {
        let keys = AesKeys::new(key).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        return Ok(Box::new(AesAccel { accel, keys }));
    }
    match key.len() {
        16 => soft::<aes::Aes128>(key),
        24 => soft::<aes::Aes192>(key),
        32 => soft::<aes::Aes256>(key),
        _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
}

/// Single DES (8-byte key; the parity bits are ignored, as DES does).
pub(crate) fn des(key: &[u8]) -> Result<Box<dyn Bc>> {
    match key.len() {
        8 => soft::<des::Des>(key),
        _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
}

/// Triple DES EDE: a 16-byte key is K1,K2,K1; a 24-byte key K1,K2,K3.
pub(crate) fn des3(key: &[u8]) -> Result<Box<dyn Bc>> {
    match key.len() {
        16 => soft::<des::TdesEde2>(key),
        24 => soft::<des::TdesEde3>(key),
        _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
}

/// SM4 (16-byte key).
pub(crate) fn sm4(key: &[u8]) -> Result<Box<dyn Bc>> {
    match key.len() {
        16 => soft::<sm4::Sm4>(key),
        _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
}

/// Which of the Merkle–Damgård digests with 64-byte blocks and 32-bit
/// words [`Sha32`] computes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShaKind {
    Sha1,
    Sha224,
    Sha256,
}

const SHA1_IV: [u32; 8] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0, 0, 0, 0];
const SHA224_IV: [u32; 8] =
    [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4];
const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// SHA-1, SHA-224 or SHA-256 with its own buffering and padding; the
/// compression function is the accelerator's when there is one, else
/// RustCrypto's.
#[derive(Clone)]
pub(crate) struct Sha32 {
    kind: ShaKind,
    state: [u32; 8],
    buf: [u8; 64],
    buf_len: usize,
    total: u64,
    accel: Option<&'static dyn Accel>,
}

impl Sha32 {
    pub(crate) fn new(kind: ShaKind, accel: Option<&'static dyn Accel>) -> Sha32 {
        let mut s = Sha32 { kind, state: [0; 8], buf: [0; 64], buf_len: 0, total: 0, accel };
        s.reset();
        s
    }

    fn reset(&mut self) {
        self.state = match self.kind {
            ShaKind::Sha1 => SHA1_IV,
            ShaKind::Sha224 => SHA224_IV,
            ShaKind::Sha256 => SHA256_IV,
        };
        self.buf = [0; 64];
        self.buf_len = 0;
        self.total = 0;
    }

    /// Compresses whole 64-byte blocks.
    fn compress(kind: ShaKind, accel: Option<&'static dyn Accel>, state: &mut [u32; 8], blocks: &[u8]) {
        if blocks.is_empty() {
            return;
        }
        match kind {
            ShaKind::Sha1 => {
                let mut s5 = [state[0], state[1], state[2], state[3], state[4]];
                match accel {
                    Some(a) => a.sha1_blocks(&mut s5, blocks),
                    None => sha1::block_api::compress(&mut s5, blocks.as_chunks::<64>().0),
                }
                state[..5].copy_from_slice(&s5);
            }
            ShaKind::Sha224 | ShaKind::Sha256 => match accel {
                Some(a) => a.sha256_blocks(state, blocks),
                None => sha2::block_api::compress256(state, blocks.as_chunks::<64>().0),
            },
        }
    }

    pub(crate) fn out_len(&self) -> usize {
        match self.kind {
            ShaKind::Sha1 => 20,
            ShaKind::Sha224 => 28,
            ShaKind::Sha256 => 32,
        }
    }
}

impl crate::hash::Hash for Sha32 {
    fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let n = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + n].copy_from_slice(&data[..n]);
            self.buf_len += n;
            data = &data[n..];
            if self.buf_len < 64 {
                return;
            }
            Self::compress(self.kind, self.accel, &mut self.state, &self.buf);
            self.buf_len = 0;
        }
        let whole = data.len() & !63;
        Self::compress(self.kind, self.accel, &mut self.state, &data[..whole]);
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    fn finish(&mut self, out: &mut [u8]) {
        let bits = self.total.wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        tail[self.buf_len] = 0x80;
        let len = if self.buf_len < 56 { 64 } else { 128 };
        tail[len - 8..len].copy_from_slice(&bits.to_be_bytes());
        Self::compress(self.kind, self.accel, &mut self.state, &tail[..len]);
        let mut digest = [0u8; 32];
        for (d, w) in digest.chunks_exact_mut(4).zip(self.state) {
            d.copy_from_slice(&w.to_be_bytes());
        }
        let n = self.out_len().min(out.len());
        out[..n].copy_from_slice(&digest[..n]);
        self.reset();
    }

    fn out_len(&self) -> usize {
        Sha32::out_len(self)
    }

    fn block_len(&self) -> usize {
        64
    }

    fn box_clone(&self) -> Box<dyn crate::hash::Hash> {
        Box::new(self.clone())
    }
}

impl Drop for Sha32 {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.state.zeroize();
        self.buf.zeroize();
    }
}
