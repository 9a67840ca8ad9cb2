//! Authenticated encryption: AES-GCM and AES-CCM.
//!
//! GCM is written over the block-cipher engine and GHASH, both through
//! the registered [`Accel`] when there is one (CTR and GHASH over whole
//! buffers), else the `aes` and `ghash` crates. Semantics as upstream's
//! kernel: GCM takes any nonce length and a tag of up to 16 bytes
//! (libutee narrows it to 96..128 bits), AAD after payload is
//! BAD_PARAMETERS. CCM (tag 4..16 bytes even, nonce up to 13 bytes and at
//! least what the announced payload length leaves room for) enforces the
//! announced AAD and payload lengths: more, or finishing with less, is
//! BAD_STATE. Tags are checked in constant time; a mismatch is
//! MAC_INVALID and wipes the decrypted last piece. A tag of another
//! length than the one fixed at init never verifies (upstream's CCM
//! compares only the bytes given, so a truncated tag would pass there).

use crate::accel::Accel;
use crate::cipher::sym::{self, Bc, xor};
use crate::{Result, TeeResult, ids};
use alloc::boxed::Box;
use cipher::array::Array;
use ghash::universal_hash::UniversalHash;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

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
    new_with(algo, encrypt, key, nonce, tag_bits, aad_len, payload_len, crate::accel::get())
}

/// [`new`] with an explicit accelerator (or none).
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_with(
    algo: u32,
    encrypt: bool,
    key: &[u8],
    nonce: &[u8],
    tag_bits: usize,
    aad_len: usize,
    payload_len: usize,
    accel: Option<&'static dyn Accel>,
) -> Result<Box<dyn Ae>> {
    match algo {
        ids::ALG_AES_GCM => {
            if !tag_bits.is_multiple_of(8) || tag_bits > 128 {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let bc = sym::aes(key, accel)?;
            Ok(Box::new(Gcm::new(bc, accel, encrypt, nonce, tag_bits / 8)))
        }
        ids::ALG_AES_CCM => {
            if key.len() > 32 || nonce.len() > 13 || payload_len > i32::MAX as usize || aad_len > i32::MAX as usize {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let tag_len = tag_bits / 8;
            if !tag_bits.is_multiple_of(8) || !(4..=16).contains(&tag_len) || !tag_len.is_multiple_of(2) {
                return Err(TeeResult::ERROR_NOT_SUPPORTED);
            }
            let bc = sym::aes(key, accel).map_err(|_| TeeResult::ERROR_BAD_STATE)?;
            Ok(Box::new(Ccm::new(bc, encrypt, nonce, tag_len, aad_len, payload_len)?))
        }
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

/// GHASH state: the accelerator's (key and accumulator) or the `ghash`
/// crate's.
#[derive(Clone)]
enum Ghash {
    Accel { accel: &'static dyn Accel, h: [u8; 16], acc: [u8; 16] },
    Soft(ghash::GHash),
}

impl Ghash {
    fn new(h: [u8; 16], accel: Option<&'static dyn Accel>) -> Ghash {
        match accel {
            Some(accel) => Ghash::Accel { accel, h, acc: [0; 16] },
            None => Ghash::Soft(ghash::GHash::new(&h.into())),
        }
    }

    /// Absorbs whole blocks.
    fn blocks(&mut self, d: &[u8]) {
        if d.is_empty() {
            return;
        }
        match self {
            Ghash::Accel { accel, h, acc } => accel.ghash(h, acc, d),
            Ghash::Soft(g) => g.update(Array::slice_as_chunks(d).0),
        }
    }

    fn value(&self) -> [u8; 16] {
        match self {
            Ghash::Accel { acc, .. } => *acc,
            Ghash::Soft(g) => g.clone().finalize().into(),
        }
    }
}

impl Drop for Ghash {
    fn drop(&mut self) {
        if let Ghash::Accel { h, acc, .. } = self {
            h.zeroize();
            acc.zeroize();
        }
    }
}

/// The most payload GCM's 32-bit counter allows: 2^32 - 2 blocks.
const GCM_MAX_PAYLOAD: u64 = (u32::MAX as u64 - 1) * 16;

struct Gcm {
    bc: Box<dyn Bc>,
    gh: Ghash,
    /// E(K, J0), for the tag.
    ej0: [u8; 16],
    /// The next counter block.
    ctr: [u8; 16],
    ks: [u8; 16],
    ks_used: usize,
    /// GHASH input not yet a whole block (AAD, then ciphertext).
    buf: [u8; 16],
    buf_len: usize,
    aad_bytes: u64,
    payload_bytes: u64,
    tag_len: usize,
    encrypt: bool,
}

/// CTR with GCM's 32-bit counter (inc32): whole blocks, split where the
/// low word wraps so a 128-bit counter engine can do the work.
pub(crate) fn ctr32(bc: &dyn Bc, ctr: &mut [u8; 16], mut d: &mut [u8]) {
    while d.len() >= 16 {
        let low = u32::from_be_bytes(ctr[12..16].try_into().expect("4 bytes"));
        let room = (1u64 << 32) - low as u64;
        let n = ((d.len() / 16) as u64).min(room) as usize;
        let (a, b) = d.split_at_mut(n * 16);
        let upper: [u8; 12] = ctr[..12].try_into().expect("12 bytes");
        bc.ctr(ctr, a);
        ctr[..12].copy_from_slice(&upper);
        ctr[12..16].copy_from_slice(&low.wrapping_add(n as u32).to_be_bytes());
        d = b;
    }
}

impl Gcm {
    fn new(bc: Box<dyn Bc>, accel: Option<&'static dyn Accel>, encrypt: bool, nonce: &[u8], tag_len: usize) -> Gcm {
        let mut h = [0u8; 16];
        bc.ecb_enc(&mut h);
        let gh = Ghash::new(h, accel);
        let mut j0 = [0u8; 16];
        if nonce.len() == 12 {
            j0[..12].copy_from_slice(nonce);
            j0[15] = 1;
        } else {
            let mut g = gh.clone();
            let whole = nonce.len() & !15;
            g.blocks(&nonce[..whole]);
            let mut last = [0u8; 16];
            if whole < nonce.len() {
                last[..nonce.len() - whole].copy_from_slice(&nonce[whole..]);
                g.blocks(&last);
            }
            let mut lens = [0u8; 16];
            lens[8..].copy_from_slice(&((nonce.len() as u64) * 8).to_be_bytes());
            g.blocks(&lens);
            j0 = g.value();
        }
        let mut ej0 = j0;
        bc.ecb_enc(&mut ej0);
        let mut ctr = j0;
        ctr[12..16].copy_from_slice(
            &u32::from_be_bytes(j0[12..16].try_into().expect("4 bytes")).wrapping_add(1).to_be_bytes(),
        );
        h.zeroize();
        Gcm {
            bc,
            gh,
            ej0,
            ctr,
            ks: [0; 16],
            ks_used: 16,
            buf: [0; 16],
            buf_len: 0,
            aad_bytes: 0,
            payload_bytes: 0,
            tag_len,
            encrypt,
        }
    }

    /// Absorbs GHASH input of any length through the block buffer.
    fn absorb(&mut self, mut d: &[u8]) {
        if self.buf_len > 0 {
            let n = (16 - self.buf_len).min(d.len());
            self.buf[self.buf_len..self.buf_len + n].copy_from_slice(&d[..n]);
            self.buf_len += n;
            d = &d[n..];
            if self.buf_len < 16 {
                return;
            }
            self.gh.blocks(&self.buf);
            self.buf_len = 0;
        }
        let whole = d.len() & !15;
        self.gh.blocks(&d[..whole]);
        self.buf[..d.len() - whole].copy_from_slice(&d[whole..]);
        self.buf_len = d.len() - whole;
    }

    /// Zero-pads and absorbs a partial block.
    fn flush(&mut self) {
        if self.buf_len > 0 {
            self.buf[self.buf_len..].fill(0);
            self.gh.blocks(&self.buf);
            self.buf_len = 0;
        }
    }

    /// The CTR keystream XOR, any length.
    fn crypt(&mut self, mut d: &mut [u8]) {
        if self.ks_used < 16 {
            let n = (16 - self.ks_used).min(d.len());
            xor(&mut d[..n], &self.ks[self.ks_used..self.ks_used + n]);
            self.ks_used += n;
            d = &mut d[n..];
        }
        let whole = d.len() & !15;
        let (body, tail) = d.split_at_mut(whole);
        ctr32(&*self.bc, &mut self.ctr, body);
        if !tail.is_empty() {
            self.ks = [0; 16];
            ctr32(&*self.bc, &mut self.ctr, &mut self.ks);
            xor(tail, &self.ks);
            self.ks_used = tail.len();
        }
    }

    fn tag(&mut self) -> [u8; 16] {
        self.flush();
        let mut lens = [0u8; 16];
        lens[..8].copy_from_slice(&(self.aad_bytes * 8).to_be_bytes());
        lens[8..].copy_from_slice(&(self.payload_bytes * 8).to_be_bytes());
        self.gh.blocks(&lens);
        let mut t = self.gh.value();
        xor(&mut t, &self.ej0);
        t
    }
}

impl Ae for Gcm {
    fn update_aad(&mut self, aad: &[u8]) -> Result<()> {
        if self.payload_bytes > 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let n = self.aad_bytes.checked_add(aad.len() as u64).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        if n > u64::MAX / 8 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.aad_bytes = n;
        self.absorb(aad);
        Ok(())
    }

    fn update(&mut self, data: &mut [u8]) -> Result<()> {
        if self.payload_bytes == 0 {
            // The AAD ends here: its partial block is padded (as upstream,
            // also for an empty payload piece).
            self.flush();
        }
        let n = self.payload_bytes.checked_add(data.len() as u64).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        if n > GCM_MAX_PAYLOAD {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.payload_bytes = n;
        if self.encrypt {
            self.crypt(data);
            self.absorb(data);
        } else {
            self.absorb(data);
            self.crypt(data);
        }
        Ok(())
    }

    fn enc_final(&mut self, data: &mut [u8], tag: &mut [u8]) -> Result<usize> {
        if tag.len() < self.tag_len {
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        self.update(data)?;
        let mut t = self.tag();
        tag[..self.tag_len].copy_from_slice(&t[..self.tag_len]);
        t.zeroize();
        Ok(self.tag_len)
    }

    fn dec_final(&mut self, data: &mut [u8], tag: &[u8]) -> Result<()> {
        self.update(data)?;
        let mut t = self.tag();
        let ok = tag.len() == self.tag_len && bool::from(t[..self.tag_len].ct_eq(tag));
        t.zeroize();
        if !ok {
            data.zeroize();
            return Err(TeeResult::ERROR_MAC_INVALID);
        }
        Ok(())
    }

    fn box_clone(&self) -> Box<dyn Ae> {
        Box::new(Gcm {
            bc: self.bc.box_clone(),
            gh: self.gh.clone(),
            ej0: self.ej0,
            ctr: self.ctr,
            ks: self.ks,
            ks_used: self.ks_used,
            buf: self.buf,
            buf_len: self.buf_len,
            aad_bytes: self.aad_bytes,
            payload_bytes: self.payload_bytes,
            tag_len: self.tag_len,
            encrypt: self.encrypt,
        })
    }
}

impl Drop for Gcm {
    fn drop(&mut self) {
        self.ej0.zeroize();
        self.ks.zeroize();
        self.buf.zeroize();
    }
}

/// AES-CCM (SP 800-38C / RFC 3610) with announced lengths, streaming.
struct Ccm {
    bc: Box<dyn Bc>,
    /// CBC-MAC chaining value.
    mac: [u8; 16],
    /// CBC-MAC input not yet a whole block.
    mbuf: [u8; 16],
    mbuf_len: usize,
    /// Counter block 0 (for the tag) and the next payload counter.
    a0: [u8; 16],
    ctr: [u8; 16],
    ks: [u8; 16],
    ks_used: usize,
    aad_total: usize,
    aad_seen: usize,
    pl_total: usize,
    pl_seen: usize,
    tag_len: usize,
    encrypt: bool,
}

impl Ccm {
    fn new(
        bc: Box<dyn Bc>,
        encrypt: bool,
        nonce: &[u8],
        tag_len: usize,
        aad_len: usize,
        payload_len: usize,
    ) -> Result<Ccm> {
        // L: bytes for the payload length (at least 2), widened to what
        // the nonce leaves; a longer nonce is cut to 15 - L bytes, as
        // upstream's LibTomCrypt does.
        let mut l = (usize::BITS - payload_len.leading_zeros()).div_ceil(8).max(2) as usize;
        l = l.max(15 - nonce.len());
        if l > 8 {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        let n = 15 - l;
        let mut b0 = [0u8; 16];
        b0[0] = (if aad_len > 0 { 0x40 } else { 0 }) | (((tag_len - 2) / 2) << 3) as u8 | (l - 1) as u8;
        b0[1..1 + n].copy_from_slice(&nonce[..n]);
        let plen = (payload_len as u64).to_be_bytes();
        b0[16 - l..].copy_from_slice(&plen[8 - l..]);
        let mut a0 = [0u8; 16];
        a0[0] = (l - 1) as u8;
        a0[1..1 + n].copy_from_slice(&nonce[..n]);
        let mut ctr = a0;
        sym::ctr_add(&mut ctr, 1);
        let mut c = Ccm {
            bc,
            mac: [0; 16],
            mbuf: [0; 16],
            mbuf_len: 0,
            a0,
            ctr,
            ks: [0; 16],
            ks_used: 16,
            aad_total: aad_len,
            aad_seen: 0,
            pl_total: payload_len,
            pl_seen: 0,
            tag_len,
            encrypt,
        };
        c.mac_absorb(&b0);
        if aad_len > 0 {
            if aad_len < 0xff00 {
                c.mac_absorb(&(aad_len as u16).to_be_bytes());
            } else {
                c.mac_absorb(&[0xff, 0xfe]);
                c.mac_absorb(&(aad_len as u32).to_be_bytes());
            }
        }
        Ok(c)
    }

    fn mac_blocks(&mut self, d: &[u8]) {
        let mut scratch = [0u8; 512];
        for chunk in d.chunks(512) {
            let s = &mut scratch[..chunk.len()];
            s.copy_from_slice(chunk);
            self.bc.cbc_enc(&mut self.mac, s);
        }
        scratch.zeroize();
    }

    fn mac_absorb(&mut self, mut d: &[u8]) {
        if self.mbuf_len > 0 {
            let n = (16 - self.mbuf_len).min(d.len());
            self.mbuf[self.mbuf_len..self.mbuf_len + n].copy_from_slice(&d[..n]);
            self.mbuf_len += n;
            d = &d[n..];
            if self.mbuf_len < 16 {
                return;
            }
            let b = self.mbuf;
            self.mac_blocks(&b);
            self.mbuf_len = 0;
        }
        let whole = d.len() & !15;
        self.mac_blocks(&d[..whole]);
        self.mbuf[..d.len() - whole].copy_from_slice(&d[whole..]);
        self.mbuf_len = d.len() - whole;
    }

    fn mac_flush(&mut self) {
        if self.mbuf_len > 0 {
            self.mbuf[self.mbuf_len..].fill(0);
            let b = self.mbuf;
            self.mac_blocks(&b);
            self.mbuf_len = 0;
        }
    }

    fn crypt(&mut self, mut d: &mut [u8]) {
        if self.ks_used < 16 {
            let n = (16 - self.ks_used).min(d.len());
            xor(&mut d[..n], &self.ks[self.ks_used..self.ks_used + n]);
            self.ks_used += n;
            d = &mut d[n..];
        }
        let whole = d.len() & !15;
        let (body, tail) = d.split_at_mut(whole);
        if !body.is_empty() {
            self.bc.ctr(&mut self.ctr, body);
        }
        if !tail.is_empty() {
            self.ks = [0; 16];
            self.bc.ctr(&mut self.ctr, &mut self.ks);
            xor(tail, &self.ks);
            self.ks_used = tail.len();
        }
    }

    fn tag(&mut self) -> Result<[u8; 16]> {
        if self.pl_seen != self.pl_total {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        self.mac_flush();
        let mut s0 = self.a0;
        self.bc.ecb_enc(&mut s0);
        let mut t = self.mac;
        xor(&mut t, &s0);
        s0.zeroize();
        Ok(t)
    }
}

impl Ae for Ccm {
    fn update_aad(&mut self, aad: &[u8]) -> Result<()> {
        if self.aad_total - self.aad_seen < aad.len() {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        self.aad_seen += aad.len();
        self.mac_absorb(aad);
        if self.aad_seen == self.aad_total {
            self.mac_flush();
        }
        Ok(())
    }

    fn update(&mut self, data: &mut [u8]) -> Result<()> {
        if self.aad_seen != self.aad_total || self.pl_total - self.pl_seen < data.len() {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        self.pl_seen += data.len();
        if self.encrypt {
            self.mac_absorb(data);
            self.crypt(data);
        } else {
            self.crypt(data);
            self.mac_absorb(data);
        }
        Ok(())
    }

    fn enc_final(&mut self, data: &mut [u8], tag: &mut [u8]) -> Result<usize> {
        if tag.len() < self.tag_len {
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        self.update(data)?;
        let mut t = self.tag()?;
        tag[..self.tag_len].copy_from_slice(&t[..self.tag_len]);
        t.zeroize();
        Ok(self.tag_len)
    }

    fn dec_final(&mut self, data: &mut [u8], tag: &[u8]) -> Result<()> {
        if tag.is_empty() {
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        if tag.len() > 16 {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        self.update(data)?;
        let mut t = self.tag()?;
        let ok = tag.len() == self.tag_len && bool::from(t[..self.tag_len].ct_eq(tag));
        t.zeroize();
        if !ok {
            data.zeroize();
            return Err(TeeResult::ERROR_MAC_INVALID);
        }
        Ok(())
    }

    fn box_clone(&self) -> Box<dyn Ae> {
        Box::new(Ccm {
            bc: self.bc.box_clone(),
            mac: self.mac,
            mbuf: self.mbuf,
            mbuf_len: self.mbuf_len,
            a0: self.a0,
            ctr: self.ctr,
            ks: self.ks,
            ks_used: self.ks_used,
            aad_total: self.aad_total,
            aad_seen: self.aad_seen,
            pl_total: self.pl_total,
            pl_seen: self.pl_seen,
            tag_len: self.tag_len,
            encrypt: self.encrypt,
        })
    }
}

impl Drop for Ccm {
    fn drop(&mut self) {
        self.mac.zeroize();
        self.mbuf.zeroize();
        self.ks.zeroize();
    }
}
