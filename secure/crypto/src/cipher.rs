//! Symmetric ciphers: AES ECB/CBC/CTR/CTS/XTS, DES and DES3 ECB/CBC, SM4
//! ECB/CBC/CTR/XTS. Output is always as long as input; processing is in
//! place.
//!
//! Semantics follow upstream's kernel: block modes take whole blocks
//! (BAD_PARAMETERS otherwise); CTR any length; CTS (CBC-CS3) is plain CBC
//! in `update` and steals in `finish`, which needs more than one block
//! (BAD_STATE otherwise); XTS treats everything from init to finish as
//! one data unit (the tweak runs on across updates), `update` takes whole
//! blocks and `finish` at least one block, stealing for a partial tail.
//! AES ECB, CBC and CTR (and XTS's block work) go through the registered
//! [`Accel`] when there is one.
//!
//! One deliberate difference: upstream's kernel answers NOT_SUPPORTED to
//! an SM4-CTR final piece that is not a whole block (its length check
//! lists only AES-CTR); here SM4-CTR, like AES-CTR, takes any length.

#[path = "sym/mod.rs"]
pub(crate) mod sym;

use crate::accel::Accel;
use crate::{Result, TeeResult, ids};
use alloc::boxed::Box;
use sym::{Bc, xor};

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
    new_with(algo, encrypt, key1, key2, iv, crate::accel::get())
}

/// [`new`] with an explicit accelerator (or none).
pub(crate) fn new_with(
    algo: u32,
    encrypt: bool,
    key1: &[u8],
    key2: Option<&[u8]>,
    iv: &[u8],
    accel: Option<&'static dyn Accel>,
) -> Result<Box<dyn Cipher>> {
    // Key length errors are the cipher setup's (BAD_STATE upstream); IV
    // length errors BAD_PARAMETERS.
    let bad_key = |_| TeeResult::ERROR_BAD_STATE;
    let cbc = |bc: Box<dyn Bc>| -> Result<Box<dyn Cipher>> {
        if iv.len() != bc.bs() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut v = [0u8; 16];
        v[..iv.len()].copy_from_slice(iv);
        Ok(Box::new(Cbc { bc, iv: v, encrypt }))
    };
    let ctr = |bc: Box<dyn Bc>| -> Result<Box<dyn Cipher>> {
        let ctr: [u8; 16] = iv.try_into().map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
        Ok(Box::new(Ctr { bc, ctr, ks: [0; 16], used: 16 }))
    };
    match algo {
        ids::ALG_AES_ECB_NOPAD => Ok(Box::new(Ecb { bc: sym::aes(key1, accel).map_err(bad_key)?, encrypt })),
        ids::ALG_DES_ECB_NOPAD => Ok(Box::new(Ecb { bc: sym::des(key1).map_err(bad_key)?, encrypt })),
        ids::ALG_DES3_ECB_NOPAD => Ok(Box::new(Ecb { bc: sym::des3(key1).map_err(bad_key)?, encrypt })),
        ids::ALG_SM4_ECB_NOPAD => Ok(Box::new(Ecb { bc: sym::sm4(key1).map_err(bad_key)?, encrypt })),
        ids::ALG_AES_CBC_NOPAD => cbc(sym::aes(key1, accel).map_err(bad_key)?),
        ids::ALG_DES_CBC_NOPAD => cbc(sym::des(key1).map_err(bad_key)?),
        ids::ALG_DES3_CBC_NOPAD => cbc(sym::des3(key1).map_err(bad_key)?),
        ids::ALG_SM4_CBC_NOPAD => cbc(sym::sm4(key1)?),
        ids::ALG_AES_CTR => ctr(sym::aes(key1, accel).map_err(bad_key)?),
        ids::ALG_SM4_CTR => ctr(sym::sm4(key1)?),
        ids::ALG_AES_CTS => {
            let bc = sym::aes(key1, accel).map_err(bad_key)?;
            let iv: [u8; 16] = iv.try_into().map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
            Ok(Box::new(Cts { bc, iv, encrypt }))
        }
        ids::ALG_AES_XTS => {
            let key2 = key2.ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if key1.len() != key2.len() {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let tweak: [u8; 16] = iv.try_into().map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
            Xts::boxed(sym::aes(key1, accel).map_err(bad_key)?, sym::aes(key2, accel).map_err(bad_key)?, tweak, encrypt)
        }
        ids::ALG_SM4_XTS => {
            let key2 = key2.ok_or(TeeResult::ERROR_BAD_STATE)?;
            let tweak: [u8; 16] = iv.try_into().map_err(|_| TeeResult::ERROR_BAD_STATE)?;
            Xts::boxed(sym::sm4(key1).map_err(bad_key)?, sym::sm4(key2).map_err(bad_key)?, tweak, encrypt)
        }
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

struct Ecb {
    bc: Box<dyn Bc>,
    encrypt: bool,
}

impl Cipher for Ecb {
    fn update(&mut self, data: &mut [u8]) -> Result<()> {
        if !data.len().is_multiple_of(self.bc.bs()) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if self.encrypt {
            self.bc.ecb_enc(data);
        } else {
            self.bc.ecb_dec(data);
        }
        Ok(())
    }
    fn finish(&mut self, data: &mut [u8]) -> Result<()> {
        self.update(data)
    }
    fn block_len(&self) -> usize {
        self.bc.bs()
    }
    fn box_clone(&self) -> Box<dyn Cipher> {
        Box::new(Ecb { bc: self.bc.box_clone(), encrypt: self.encrypt })
    }
}

struct Cbc {
    bc: Box<dyn Bc>,
    iv: [u8; 16],
    encrypt: bool,
}

impl Cipher for Cbc {
    fn update(&mut self, data: &mut [u8]) -> Result<()> {
        let bs = self.bc.bs();
        if !data.len().is_multiple_of(bs) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.encrypt {
            self.bc.cbc_enc(&mut self.iv[..bs], data);
        } else {
            self.bc.cbc_dec(&mut self.iv[..bs], data);
        }
        Ok(())
    }
    fn finish(&mut self, data: &mut [u8]) -> Result<()> {
        self.update(data)
    }
    fn block_len(&self) -> usize {
        self.bc.bs()
    }
    fn box_clone(&self) -> Box<dyn Cipher> {
        Box::new(Cbc { bc: self.bc.box_clone(), iv: self.iv, encrypt: self.encrypt })
    }
}

/// CTR over a 16-byte block cipher with a 128-bit big-endian counter;
/// keystream left over from a partial block is used first next time.
struct Ctr {
    bc: Box<dyn Bc>,
    ctr: [u8; 16],
    ks: [u8; 16],
    used: usize,
}

impl Cipher for Ctr {
    fn update(&mut self, mut data: &mut [u8]) -> Result<()> {
        if self.used < 16 {
            let n = (16 - self.used).min(data.len());
            xor(&mut data[..n], &self.ks[self.used..self.used + n]);
            self.used += n;
            data = &mut data[n..];
        }
        let whole = data.len() & !15;
        let (body, tail) = data.split_at_mut(whole);
        if !body.is_empty() {
            self.bc.ctr(&mut self.ctr, body);
        }
        if !tail.is_empty() {
            self.ks = [0; 16];
            self.bc.ctr(&mut self.ctr, &mut self.ks);
            xor(tail, &self.ks);
            self.used = tail.len();
        }
        Ok(())
    }
    fn finish(&mut self, data: &mut [u8]) -> Result<()> {
        self.update(data)
    }
    fn block_len(&self) -> usize {
        16
    }
    fn box_clone(&self) -> Box<dyn Cipher> {
        Box::new(Ctr { bc: self.bc.box_clone(), ctr: self.ctr, ks: self.ks, used: self.used })
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.ks.zeroize();
    }
}

/// AES-CBC-CS3 (ciphertext stealing, last two blocks always swapped), as
/// upstream's `aes-cts.c`.
struct Cts {
    bc: Box<dyn Bc>,
    iv: [u8; 16],
    encrypt: bool,
}

impl Cipher for Cts {
    fn update(&mut self, data: &mut [u8]) -> Result<()> {
        if !data.len().is_multiple_of(16) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.encrypt {
            self.bc.cbc_enc(&mut self.iv, data);
        } else {
            self.bc.cbc_dec(&mut self.iv, data);
        }
        Ok(())
    }

    fn finish(&mut self, data: &mut [u8]) -> Result<()> {
        let len = data.len();
        if len == 0 {
            return Ok(());
        }
        if len <= 16 {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        let nb = len.div_ceil(16);
        let last = len - (nb - 1) * 16; // 1..=16
        let head = (nb - 2) * 16;
        if self.encrypt {
            // CBC over everything up to the last (partial) block.
            self.bc.cbc_enc(&mut self.iv, &mut data[..head + 16]);
            let mut pn = [0u8; 16];
            pn[..last].copy_from_slice(&data[head + 16..]);
            // C(n-1) truncated goes last; E(Pn|0 ^ C(n-1)) before it.
            let cn1: [u8; 16] = data[head..head + 16].try_into().expect("one block");
            data[head + 16..].copy_from_slice(&cn1[..last]);
            self.bc.cbc_enc(&mut self.iv, &mut pn);
            data[head..head + 16].copy_from_slice(&pn);
        } else {
            // D(C(n-1)) gives Pn's bytes xor Cn, and the stolen tail.
            let mut dn = [0u8; 16];
            dn.copy_from_slice(&data[head..head + 16]);
            self.bc.ecb_dec(&mut dn);
            let mut cn = dn;
            cn[..last].copy_from_slice(&data[head + 16..]);
            let cn1: [u8; 16] = data[head..head + 16].try_into().expect("one block");
            if head > 0 {
                self.bc.cbc_dec(&mut self.iv, &mut data[..head]);
            }
            // P(n-1) = D(Cn) ^ C(n-2).
            let mut p = cn;
            self.bc.cbc_dec(&mut self.iv, &mut p);
            data[head..head + 16].copy_from_slice(&p);
            // Pn = D(C(n-1)) ^ Cn (the padded one), truncated.
            xor(&mut dn, &cn);
            data[head + 16..].copy_from_slice(&dn[..last]);
            self.iv = cn1;
        }
        Ok(())
    }

    fn block_len(&self) -> usize {
        16
    }
    fn box_clone(&self) -> Box<dyn Cipher> {
        Box::new(Cts { bc: self.bc.box_clone(), iv: self.iv, encrypt: self.encrypt })
    }
}

/// Multiplies an XTS tweak by x in GF(2^128) (IEEE 1619, little endian).
fn xts_mul_x(t: &mut [u8; 16]) {
    let v = u128::from_le_bytes(*t);
    let carry = (v >> 127) as u8;
    *t = (v << 1).to_le_bytes();
    t[0] ^= 0x87 * carry;
}

/// XTS (IEEE 1619) over a 16-byte block cipher; `t` is the encrypted
/// tweak of the next block.
struct Xts {
    data_key: Box<dyn Bc>,
    tweak_key: Box<dyn Bc>,
    t: [u8; 16],
    encrypt: bool,
}

impl Xts {
    fn boxed(data_key: Box<dyn Bc>, tweak_key: Box<dyn Bc>, mut t: [u8; 16], encrypt: bool) -> Result<Box<dyn Cipher>> {
        tweak_key.ecb_enc(&mut t);
        Ok(Box::new(Xts { data_key, tweak_key, t, encrypt }))
    }

    /// Whole blocks: XOR tweaks, one ECB pass, XOR tweaks again.
    fn blocks(&mut self, data: &mut [u8]) {
        let start = self.t;
        let mut t = start;
        for b in data.chunks_exact_mut(16) {
            xor(b, &t);
            xts_mul_x(&mut t);
        }
        if self.encrypt {
            self.data_key.ecb_enc(data);
        } else {
            self.data_key.ecb_dec(data);
        }
        let mut t = start;
        for b in data.chunks_exact_mut(16) {
            xor(b, &t);
            xts_mul_x(&mut t);
        }
        self.t = t;
    }

    /// One block with tweak `t`.
    fn one(&self, b: &mut [u8; 16], t: &[u8; 16], encrypt: bool) {
        xor(b, t);
        if encrypt {
            self.data_key.ecb_enc(b);
        } else {
            self.data_key.ecb_dec(b);
        }
        xor(b, t);
    }
}

impl Cipher for Xts {
    fn update(&mut self, data: &mut [u8]) -> Result<()> {
        if !data.len().is_multiple_of(16) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.blocks(data);
        Ok(())
    }

    fn finish(&mut self, data: &mut [u8]) -> Result<()> {
        let len = data.len();
        if len == 0 {
            return Ok(());
        }
        if len < 16 {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        let mo = len % 16;
        if mo == 0 {
            self.blocks(data);
            return Ok(());
        }
        // Whole blocks before the last full one, then steal.
        let head = len - mo - 16;
        self.blocks(&mut data[..head]);
        let t1 = self.t;
        let mut t2 = t1;
        xts_mul_x(&mut t2);
        let (ta, tb) = if self.encrypt { (t1, t2) } else { (t2, t1) };
        let mut cc: [u8; 16] = data[head..head + 16].try_into().expect("one block");
        self.one(&mut cc, &ta, self.encrypt);
        let mut pp = cc;
        pp[..mo].copy_from_slice(&data[head + 16..]);
        data[head + 16..].copy_from_slice(&cc[..mo]);
        self.one(&mut pp, &tb, self.encrypt);
        data[head..head + 16].copy_from_slice(&pp);
        xts_mul_x(&mut t2);
        self.t = t2;
        Ok(())
    }

    fn block_len(&self) -> usize {
        16
    }
    fn box_clone(&self) -> Box<dyn Cipher> {
        Box::new(Xts {
            data_key: self.data_key.box_clone(),
            tweak_key: self.tweak_key.box_clone(),
            t: self.t,
            encrypt: self.encrypt,
        })
    }
}

impl Drop for Xts {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.t.zeroize();
    }
}

#[cfg(test)]
#[path = "tests/mod.rs"]
mod tests;
