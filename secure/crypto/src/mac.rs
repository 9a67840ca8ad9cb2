//! MACs: HMAC over every digest, AES-CMAC (and DES3-CMAC), AES/DES/DES3
//! CBC-MAC with and without PKCS#5 padding.
//!
//! HMAC is built over [`crate::hash::Hash`], so HMAC-SHA-1/224/256 use the
//! accelerated compression. Keys of any length work (longer than a block:
//! hashed first, RFC 2104); key-size policy is the object layer's. The
//! CBC-MACs behave as upstream's `cbc-mac.c`: zero IV, and `finish`
//! answers BAD_STATE when no padding is asked and the input is empty or
//! not a whole number of blocks.

use crate::accel::Accel;
use crate::cipher::sym::{self, Bc};
use crate::hash::Hash;
use crate::{Result, TeeResult, ids};
use alloc::boxed::Box;
use zeroize::Zeroize;

/// A running MAC.
pub trait Mac: Send {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]) -> Result<()>;
    /// Writes the MAC ([`Mac::out_len`] bytes) into `out[..out_len]` and
    /// starts over with the same key. SHORT_BUFFER when `out` is shorter
    /// (state kept); for a CBC-MAC without padding over an empty or
    /// partial-block input, BAD_STATE (as upstream's kernel).
    fn finish(&mut self, out: &mut [u8]) -> Result<()>;
    /// The MAC's length in bytes.
    fn out_len(&self) -> usize;
    /// An independent copy of the running state.
    fn box_clone(&self) -> Box<dyn Mac>;
}

/// A new MAC for a `TEE_ALG_*` MAC algorithm keyed with `key`.
pub fn new(algo: u32, key: &[u8]) -> Result<Box<dyn Mac>> {
    new_with(algo, key, crate::accel::get())
}

/// [`new`] with an explicit accelerator (or none).
pub(crate) fn new_with(algo: u32, key: &[u8], accel: Option<&'static dyn Accel>) -> Result<Box<dyn Mac>> {
    let bad = |_| TeeResult::ERROR_BAD_PARAMETERS;
    match algo {
        ids::ALG_HMAC_MD5
        | ids::ALG_HMAC_SHA1
        | ids::ALG_HMAC_SHA224
        | ids::ALG_HMAC_SHA256
        | ids::ALG_HMAC_SHA384
        | ids::ALG_HMAC_SHA512
        | ids::ALG_HMAC_SM3
        | ids::ALG_HMAC_SHA3_224
        | ids::ALG_HMAC_SHA3_256
        | ids::ALG_HMAC_SHA3_384
        | ids::ALG_HMAC_SHA3_512 => {
            let digest = 0x5000_0000 | (algo & 0xff);
            Ok(Box::new(Hmac::new(crate::hash::new_with(digest, accel)?, key)))
        }
        ids::ALG_AES_CMAC => Ok(Box::new(BlockMac::new(sym::aes(key, accel).map_err(bad)?, Kind::Cmac))),
        ids::ALG_DES3_CMAC => Ok(Box::new(BlockMac::new(sym::des3(key).map_err(bad)?, Kind::Cmac))),
        ids::ALG_AES_CBC_MAC_NOPAD => {
            Ok(Box::new(BlockMac::new(sym::aes(key, accel).map_err(bad)?, Kind::CbcMac { pkcs5: false })))
        }
        ids::ALG_AES_CBC_MAC_PKCS5 => {
            Ok(Box::new(BlockMac::new(sym::aes(key, accel).map_err(bad)?, Kind::CbcMac { pkcs5: true })))
        }
        ids::ALG_DES_CBC_MAC_NOPAD => {
            Ok(Box::new(BlockMac::new(sym::des(key).map_err(bad)?, Kind::CbcMac { pkcs5: false })))
        }
        ids::ALG_DES_CBC_MAC_PKCS5 => {
            Ok(Box::new(BlockMac::new(sym::des(key).map_err(bad)?, Kind::CbcMac { pkcs5: true })))
        }
        ids::ALG_DES3_CBC_MAC_NOPAD => {
            Ok(Box::new(BlockMac::new(sym::des3(key).map_err(bad)?, Kind::CbcMac { pkcs5: false })))
        }
        ids::ALG_DES3_CBC_MAC_PKCS5 => {
            Ok(Box::new(BlockMac::new(sym::des3(key).map_err(bad)?, Kind::CbcMac { pkcs5: true })))
        }
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

/// The longest digest block (SHA3-224's rate).
const MAX_BLOCK: usize = 144;
/// The longest digest output.
const MAX_OUT: usize = 64;

/// HMAC (RFC 2104) over any fixed-output [`Hash`].
pub(crate) struct Hmac {
    inner: Box<dyn Hash>,
    inner_keyed: Box<dyn Hash>,
    outer_keyed: Box<dyn Hash>,
}

impl Hmac {
    /// `h` is a fresh digest; `key` any length.
    pub(crate) fn new(mut h: Box<dyn Hash>, key: &[u8]) -> Hmac {
        let bl = h.block_len();
        let mut k = [0u8; MAX_BLOCK];
        if key.len() > bl {
            h.update(key);
            h.finish(&mut k[..h.out_len()]);
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut pad = [0u8; MAX_BLOCK];
        for (p, k) in pad.iter_mut().zip(&k).take(bl) {
            *p = k ^ 0x36;
        }
        let mut inner_keyed = h.box_clone();
        inner_keyed.update(&pad[..bl]);
        for (p, k) in pad.iter_mut().zip(&k).take(bl) {
            *p = k ^ 0x5c;
        }
        let mut outer_keyed = h;
        outer_keyed.update(&pad[..bl]);
        k.zeroize();
        pad.zeroize();
        Hmac { inner: inner_keyed.box_clone(), inner_keyed, outer_keyed }
    }

    /// One-shot HMAC of the concatenation of `parts` into `out` (its
    /// first [`Hmac::out_len`] bytes at most); the object is unchanged.
    pub(crate) fn compute(&self, parts: &[&[u8]], out: &mut [u8]) {
        let dl = self.inner.out_len();
        let mut t = [0u8; MAX_OUT];
        let mut i = self.inner_keyed.box_clone();
        for p in parts {
            i.update(p);
        }
        i.finish(&mut t[..dl]);
        let mut o = self.outer_keyed.box_clone();
        o.update(&t[..dl]);
        o.finish(&mut t[..dl]);
        let n = dl.min(out.len());
        out[..n].copy_from_slice(&t[..n]);
        t.zeroize();
    }

    fn finish_into(&mut self, out: &mut [u8]) {
        let dl = self.inner.out_len();
        let mut t = [0u8; MAX_OUT];
        self.inner.finish(&mut t[..dl]);
        let mut o = self.outer_keyed.box_clone();
        o.update(&t[..dl]);
        o.finish(&mut t[..dl]);
        let n = dl.min(out.len());
        out[..n].copy_from_slice(&t[..n]);
        t.zeroize();
        self.inner = self.inner_keyed.box_clone();
    }

    pub(crate) fn out_len(&self) -> usize {
        self.inner.out_len()
    }
}

impl Mac for Hmac {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.inner.update(data);
        Ok(())
    }
    fn finish(&mut self, out: &mut [u8]) -> Result<()> {
        if out.len() < self.out_len() {
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        self.finish_into(out);
        Ok(())
    }
    fn out_len(&self) -> usize {
        Hmac::out_len(self)
    }
    fn box_clone(&self) -> Box<dyn Mac> {
        Box::new(Hmac {
            inner: self.inner.box_clone(),
            inner_keyed: self.inner_keyed.box_clone(),
            outer_keyed: self.outer_keyed.box_clone(),
        })
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Cmac,
    CbcMac { pkcs5: bool },
}

/// CMAC (SP 800-38B) or CBC-MAC over a block cipher. The last block
/// (full or not) stays buffered until more input or `finish`.
struct BlockMac {
    bc: Box<dyn Bc>,
    kind: Kind,
    k1: [u8; 16],
    k2: [u8; 16],
    state: [u8; 16],
    buf: [u8; 16],
    buf_len: usize,
}

/// Doubling in GF(2^n) for CMAC subkeys (n = 64 or 128, big endian).
fn dbl(b: &[u8]) -> [u8; 16] {
    let n = b.len();
    let mut o = [0u8; 16];
    for i in 0..n {
        o[i] = (b[i] << 1) | if i + 1 < n { b[i + 1] >> 7 } else { 0 };
    }
    if b[0] & 0x80 != 0 {
        o[n - 1] ^= if n == 16 { 0x87 } else { 0x1b };
    }
    o
}

impl BlockMac {
    fn new(bc: Box<dyn Bc>, kind: Kind) -> BlockMac {
        let bs = bc.bs();
        let mut l = [0u8; 16];
        let (mut k1, mut k2) = ([0u8; 16], [0u8; 16]);
        if let Kind::Cmac = kind {
            bc.ecb_enc(&mut l[..bs]);
            k1 = dbl(&l[..bs]);
            k2 = dbl(&k1[..bs]);
            l.zeroize();
        }
        BlockMac { bc, kind, k1, k2, state: [0; 16], buf: [0; 16], buf_len: 0 }
    }

    /// CBC-encrypts whole blocks into the chaining state.
    fn blocks(&mut self, data: &[u8]) {
        let bs = self.bc.bs();
        let mut scratch = [0u8; 512];
        for chunk in data.chunks(512) {
            let s = &mut scratch[..chunk.len()];
            s.copy_from_slice(chunk);
            self.bc.cbc_enc(&mut self.state[..bs], s);
        }
        scratch.zeroize();
    }

    fn reset(&mut self) {
        self.state = [0; 16];
        self.buf = [0; 16];
        self.buf_len = 0;
    }
}

impl Mac for BlockMac {
    fn update(&mut self, mut data: &[u8]) -> Result<()> {
        let bs = self.bc.bs();
        if data.is_empty() {
            return Ok(());
        }
        let n = (bs - self.buf_len).min(data.len());
        self.buf[self.buf_len..self.buf_len + n].copy_from_slice(&data[..n]);
        self.buf_len += n;
        data = &data[n..];
        if data.is_empty() {
            return Ok(());
        }
        // The buffer is full and more follows: it is not the last block.
        let b = self.buf;
        self.blocks(&b[..bs]);
        let keep = match data.len() % bs {
            0 => bs,
            r => r,
        };
        let (body, tail) = data.split_at(data.len() - keep);
        self.blocks(body);
        self.buf[..keep].copy_from_slice(tail);
        self.buf_len = keep;
        Ok(())
    }

    fn finish(&mut self, out: &mut [u8]) -> Result<()> {
        let bs = self.bc.bs();
        if out.len() < bs {
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        let mut last = [0u8; 16];
        last[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        match self.kind {
            Kind::Cmac => {
                if self.buf_len == bs {
                    sym::xor(&mut last[..bs], &self.k1[..bs]);
                } else {
                    last[self.buf_len] = 0x80;
                    sym::xor(&mut last[..bs], &self.k2[..bs]);
                }
                self.blocks(&last[..bs]);
            }
            Kind::CbcMac { pkcs5: true } => {
                if self.buf_len == bs {
                    self.blocks(&last[..bs]);
                    last = [0; 16];
                    self.buf_len = 0;
                }
                let pad = (bs - self.buf_len) as u8;
                for b in &mut last[self.buf_len..bs] {
                    *b = pad;
                }
                self.blocks(&last[..bs]);
            }
            Kind::CbcMac { pkcs5: false } => {
                if self.buf_len != bs {
                    return Err(TeeResult::ERROR_BAD_STATE);
                }
                self.blocks(&last[..bs]);
            }
        }
        last.zeroize();
        out[..bs].copy_from_slice(&self.state[..bs]);
        self.reset();
        Ok(())
    }

    fn out_len(&self) -> usize {
        self.bc.bs()
    }

    fn box_clone(&self) -> Box<dyn Mac> {
        Box::new(BlockMac {
            bc: self.bc.box_clone(),
            kind: self.kind,
            k1: self.k1,
            k2: self.k2,
            state: self.state,
            buf: self.buf,
            buf_len: self.buf_len,
        })
    }
}

impl Drop for BlockMac {
    fn drop(&mut self) {
        self.k1.zeroize();
        self.k2.zeroize();
        self.state.zeroize();
        self.buf.zeroize();
    }
}
