//! One RPMB partition seen through an [`RpmbTransport`]: device
//! information, the authentication key (programmed once if the platform
//! allows it), the write counter, and authenticated reads and writes of
//! 256-byte blocks.
//!
//! Every answer is hostile. A read is bound to a fresh random nonce and
//! its MAC is checked over all its frames before any data is used; a
//! write's result frame must carry a good MAC, our address and the write
//! counter one past the one we sent. An authenticated answer that does
//! not fit the request (a replayed response) is TEE_ERROR_SECURITY, as is
//! a bad MAC; an unauthenticated failure result is TEE_ERROR_GENERIC.
//! After any write whose outcome is not known, the counter is read again
//! before the next write.

use super::frame::*;
use crate::storage::R;
use crate::storage::keys::Key;
use alloc::vec::Vec;
use oxtee_abi::tee::TeeResult;
use zeroize::Zeroize;

/// How the normal world is asked: `req` is a `struct rpmb_req` and its
/// frames, `rsp` the buffer the answer (frames, or `struct rpmb_dev_info`)
/// is copied back into, exactly `rsp.len()` bytes. Implemented over
/// OPTEE_RPC_CMD_RPMB by [`super::RpcRpmb`].
pub trait RpmbTransport {
    fn request(&mut self, req: &[u8], rsp: &mut [u8]) -> R<()>;
}

/// A source of random bytes (the nonces of reads).
pub type Rand<'a> = &'a mut dyn FnMut(&mut [u8]);

/// What one call may use to reach the device.
pub struct Io<'a> {
    pub t: &'a mut dyn RpmbTransport,
    pub rand: Rand<'a>,
}

/// `struct rpmb_dev_info`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevInfo {
    pub cid: [u8; 16],
    /// Size in units of 128 KiB.
    pub size_mult: u8,
    /// Reliable write sector count (512-byte sectors).
    pub rel_wr_sec_c: u8,
}

impl DevInfo {
    /// Blocks the frames can address (a 16-bit address: at most 65536).
    pub fn blocks(&self) -> u32 {
        (self.size_mult as u32 * (SIZE_UNIT / BLOCK as u32)).min(1 << 16)
    }
}

/// Most blocks one read request asks for (its answer is 512 bytes a
/// block, in memory shared with the normal world).
pub const MAX_READ_BLOCKS: usize = 64;

/// The rollback anchor's block (outside the file system).
pub const ANCHOR_BLOCK: u32 = 0;
const ANCHOR_MAGIC: &[u8; 8] = b"OXANCHR1";

/// What the REE store keeps in RPMB to detect a rollback of its files: a
/// generation that only grows and a hash of the store's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub generation: u64,
    pub hash: [u8; 32],
}

pub struct Device {
    key: Key,
    may_program: bool,
    dev_id: u16,
    info: Option<DevInfo>,
    /// The device's write counter; None when it must be read again (at
    /// start, and after a write whose outcome is unknown).
    counter: Option<u32>,
    /// The key has been shown to match the device's (a MAC checked).
    verified: bool,
    /// We have sent the key once already (never twice).
    programmed: bool,
    write_blocks: u16,
}

impl Device {
    /// A device to be used with `key` (`keys::rpmb_key`). With
    /// `may_program`, a device that says it has no key yet gets this one
    /// (the key then travels through the normal world in clear, once: for
    /// emulated devices and provisioning; a platform whose eMMC is
    /// provisioned in the factory passes false, as upstream without
    /// CFG_RPMB_WRITE_KEY).
    pub fn new(key: Key, may_program: bool) -> Device {
        Device {
            key,
            may_program,
            dev_id: 0,
            info: None,
            counter: None,
            verified: false,
            programmed: false,
            write_blocks: 1,
        }
    }

    /// Lets one write request carry up to `n` blocks (bounded by the
    /// device's reliable write size). The default is 1, as upstream
    /// (whose multi-block writes need RPMB_DRIVER_MULTIPLE_WRITE_FIXED);
    /// the file system never relies on more than one block being written
    /// atomically.
    pub fn set_write_blocks(&mut self, n: u16) {
        self.write_blocks = n.max(1);
    }

    fn max_write(&self) -> usize {
        let rel = self.info.map_or(1, |i| (i.rel_wr_sec_c as usize * 2).max(1));
        (self.write_blocks as usize).min(rel)
    }

    pub fn info(&self) -> Option<DevInfo> {
        self.info
    }

    /// The write counter as last verified (None before `init`).
    pub fn counter(&self) -> Option<u32> {
        self.counter
    }

    /// Blocks of the partition (0 before `init`).
    pub fn blocks(&self) -> u32 {
        self.info.map_or(0, |i| i.blocks())
    }

    /// Makes the device usable: device information, key check (and key
    /// programming if allowed and needed), write counter. Cheap once done.
    pub fn init(&mut self, io: &mut Io) -> R<()> {
        if self.info.is_none() {
            self.info = Some(self.get_dev_info(io)?);
        }
        if self.verified && self.counter.is_some() {
            return Ok(());
        }
        let c = match self.read_counter(io) {
            Ok(c) => c,
            // A device that had our key cannot have lost it.
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) if self.verified || self.programmed => {
                return Err(TeeResult::ERROR_SECURITY);
            }
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) if self.may_program => {
                self.program_key(io)?;
                match self.read_counter(io) {
                    Err(TeeResult::ERROR_ITEM_NOT_FOUND) => return Err(TeeResult::ERROR_GENERIC),
                    r => r?,
                }
            }
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) => return Err(TeeResult::ERROR_STORAGE_NOT_AVAILABLE),
            Err(e) => return Err(e),
        };
        self.verified = true;
        self.counter = Some(c);
        Ok(())
    }

    fn get_dev_info(&mut self, io: &mut Io) -> R<DevInfo> {
        let req = req_head(CMD_GET_DEV_INFO, self.dev_id, 0);
        let mut rsp = [0u8; DEV_INFO_LEN];
        rsp[18] = DEV_INFO_ERROR;
        io.t.request(&req, &mut rsp)?;
        if rsp[18] != DEV_INFO_OK || rsp[16] == 0 {
            return Err(TeeResult::ERROR_GENERIC);
        }
        let mut cid = [0u8; 16];
        cid.copy_from_slice(&rsp[..16]);
        Ok(DevInfo { cid, size_mult: rsp[16], rel_wr_sec_c: rsp[17] })
    }

    /// Sends `frames` and gets `n` frames back.
    fn exchange(&mut self, io: &mut Io, frames: &[Frame], head_blocks: u16, n: usize) -> R<Vec<u8>> {
        let mut req = Vec::new();
        req.try_reserve_exact(REQ_HEAD + frames.len() * FRAME).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        req.extend_from_slice(&req_head(CMD_DATA_REQ, self.dev_id, head_blocks));
        for f in frames {
            req.extend_from_slice(&f.0);
        }
        let mut rsp = Vec::new();
        rsp.try_reserve_exact(n * FRAME).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        rsp.resize(n * FRAME, 0);
        let r = io.t.request(&req, &mut rsp);
        // A key-programming request holds the key.
        req.zeroize();
        r.map(|()| rsp)
    }

    /// The failure an unsuccessful result stands for.
    fn failure(&self, result: u16) -> TeeResult {
        match result {
            RES_KEY_NOT_PROGRAMMED if self.verified || self.programmed => TeeResult::ERROR_SECURITY,
            RES_KEY_NOT_PROGRAMMED => TeeResult::ERROR_ITEM_NOT_FOUND,
            _ => TeeResult::ERROR_GENERIC,
        }
    }

    fn check_mac<'f>(&self, frames: impl IntoIterator<Item = &'f Frame>, got: &[u8]) -> R<()> {
        let want = mac(&self.key.0, frames).ok_or(TeeResult::ERROR_GENERIC)?;
        if ct_eq(&want, got) { Ok(()) } else { Err(TeeResult::ERROR_SECURITY) }
    }

    fn nonce(io: &mut Io) -> [u8; 16] {
        let mut n = [0u8; 16];
        (io.rand)(&mut n);
        n
    }

    fn read_counter(&mut self, io: &mut Io) -> R<u32> {
        let nonce = Self::nonce(io);
        let mut f = Frame::default();
        f.0[NONCE..NONCE + 16].copy_from_slice(&nonce);
        f.set_u16(MSG_TYPE, MSG_GET_WRITE_COUNTER);
        let rsp = self.exchange(io, &[f], 0, 1)?;
        let r = Frame::from_bytes(&rsp).ok_or(TeeResult::ERROR_GENERIC)?;
        if r.result() != RES_OK {
            return Err(self.failure(r.result()));
        }
        self.check_mac([&r], r.mac())?;
        if r.msg_type() != response(MSG_GET_WRITE_COUNTER) || !ct_eq(r.nonce(), &nonce) {
            return Err(TeeResult::ERROR_SECURITY);
        }
        Ok(r.counter())
    }

    fn program_key(&mut self, io: &mut Io) -> R<()> {
        self.programmed = true;
        let mut f = Frame::default();
        f.0[KEY_MAC..KEY_MAC + 32].copy_from_slice(&self.key.0);
        f.set_u16(MSG_TYPE, MSG_PROGRAM_KEY);
        let rsp = self.exchange(io, core::slice::from_ref(&f), 0, 1);
        f.0.zeroize();
        let rsp = rsp?;
        let r = Frame::from_bytes(&rsp).ok_or(TeeResult::ERROR_GENERIC)?;
        if r.result() != RES_OK || r.msg_type() != response(MSG_PROGRAM_KEY) {
            return Err(TeeResult::ERROR_GENERIC);
        }
        Ok(())
    }

    fn check_range(&self, addr: u32, blocks: usize) -> R<()> {
        match (addr as usize).checked_add(blocks) {
            Some(end) if end <= self.blocks() as usize => Ok(()),
            _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
        }
    }

    /// Reads whole blocks from `addr` into `out` (a multiple of 256 bytes).
    pub fn read(&mut self, io: &mut Io, addr: u32, out: &mut [u8]) -> R<()> {
        self.init(io)?;
        if !out.len().is_multiple_of(BLOCK) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.check_range(addr, out.len() / BLOCK)?;
        for (i, chunk) in out.chunks_mut(MAX_READ_BLOCKS * BLOCK).enumerate() {
            self.read_chunk(io, addr + (i * MAX_READ_BLOCKS) as u32, chunk)?;
        }
        Ok(())
    }

    fn read_chunk(&mut self, io: &mut Io, addr: u32, out: &mut [u8]) -> R<()> {
        let n = out.len() / BLOCK;
        let addr = addr as u16;
        let nonce = Self::nonce(io);
        let mut f = Frame::default();
        f.0[NONCE..NONCE + 16].copy_from_slice(&nonce);
        f.set_u16(ADDRESS, addr);
        f.set_u16(MSG_TYPE, MSG_AUTH_DATA_READ);
        let rsp = self.exchange(io, &[f], n as u16, n)?;
        let last = Frame::from_bytes(&rsp[(n - 1) * FRAME..]).ok_or(TeeResult::ERROR_GENERIC)?;
        if last.result() != RES_OK {
            return Err(self.failure(last.result()));
        }
        // The MAC covers every frame; `rsp` is our own copy, so what is
        // checked is what is used.
        let want = {
            let mut m = oxtee_crypto::mac::new(oxtee_abi::ta::crypto::ALG_HMAC_SHA256, &self.key.0)
                .map_err(|_| TeeResult::ERROR_GENERIC)?;
            for f in rsp.chunks_exact(FRAME) {
                m.update(&f[MAC_FROM..]).map_err(|_| TeeResult::ERROR_GENERIC)?;
            }
            let mut w = [0u8; 32];
            m.finish(&mut w).map_err(|_| TeeResult::ERROR_GENERIC)?;
            w
        };
        if !ct_eq(&want, last.mac()) {
            return Err(TeeResult::ERROR_SECURITY);
        }
        if last.msg_type() != response(MSG_AUTH_DATA_READ) || last.address() != addr || !ct_eq(last.nonce(), &nonce) {
            return Err(TeeResult::ERROR_SECURITY);
        }
        for (o, f) in out.chunks_exact_mut(BLOCK).zip(rsp.chunks_exact(FRAME)) {
            o.copy_from_slice(&f[DATA..DATA + BLOCK]);
        }
        Ok(())
    }

    /// Writes whole blocks of `data` from `addr`, durably when Ok.
    /// Requests carry at most [`Device::set_write_blocks`] blocks each: a
    /// write of more blocks is not atomic as a whole.
    pub fn write(&mut self, io: &mut Io, addr: u32, data: &[u8]) -> R<()> {
        self.init(io)?;
        if !data.len().is_multiple_of(BLOCK) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.check_range(addr, data.len() / BLOCK)?;
        let per = self.max_write();
        for (i, chunk) in data.chunks(per * BLOCK).enumerate() {
            // A write that failed left the counter unknown: read it again.
            self.init(io)?;
            self.write_chunk(io, addr + (i * per) as u32, chunk)?;
        }
        Ok(())
    }

    fn write_chunk(&mut self, io: &mut Io, addr: u32, data: &[u8]) -> R<()> {
        let n = data.len() / BLOCK;
        let addr = addr as u16;
        let counter = self.counter.ok_or(TeeResult::ERROR_BAD_STATE)?;
        if counter == u32::MAX {
            return Err(TeeResult::ERROR_STORAGE_NO_SPACE);
        }
        let mut frames = Vec::new();
        frames.try_reserve_exact(n).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        for block in data.chunks_exact(BLOCK) {
            let mut f = Frame::default();
            f.0[DATA..DATA + BLOCK].copy_from_slice(block);
            f.set_u32(COUNTER, counter);
            f.set_u16(ADDRESS, addr);
            f.set_u16(BLOCK_COUNT, n as u16);
            f.set_u16(MSG_TYPE, MSG_AUTH_DATA_WRITE);
            frames.push(f);
        }
        let m = mac(&self.key.0, frames.iter()).ok_or(TeeResult::ERROR_GENERIC)?;
        if let Some(last) = frames.last_mut() {
            last.0[KEY_MAC..KEY_MAC + 32].copy_from_slice(&m);
        }
        // From here the outcome is unknown until a result says otherwise.
        self.counter = None;
        let rsp = self.exchange(io, &frames, 0, 1)?;
        let r = Frame::from_bytes(&rsp).ok_or(TeeResult::ERROR_GENERIC)?;
        if r.result() != RES_OK {
            return Err(self.failure(r.result()));
        }
        self.check_mac([&r], r.mac())?;
        // One past ours (a device counts a write once; tee-supplicant's
        // emulation counts each block of it).
        let next = r.counter();
        let counted = Some(next) == counter.checked_add(1) || (n > 1 && Some(next) == counter.checked_add(n as u32));
        if r.msg_type() != response(MSG_AUTH_DATA_WRITE) || r.address() != addr || !counted {
            return Err(TeeResult::ERROR_SECURITY);
        }
        self.counter = Some(next);
        Ok(())
    }

    /// The rollback anchor (None on a device that never had one).
    pub fn anchor_read(&mut self, io: &mut Io) -> R<Option<Anchor>> {
        let mut b = [0u8; BLOCK];
        self.read(io, ANCHOR_BLOCK, &mut b)?;
        if b.iter().all(|&x| x == 0) {
            return Ok(None);
        }
        if &b[..8] != ANCHOR_MAGIC {
            return Err(TeeResult::ERROR_CORRUPT_OBJECT);
        }
        let mut g = [0u8; 8];
        g.copy_from_slice(&b[8..16]);
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&b[16..48]);
        Ok(Some(Anchor { generation: u64::from_le_bytes(g), hash }))
    }

    /// Replaces the rollback anchor (one block: atomic, durable when Ok).
    pub fn anchor_write(&mut self, io: &mut Io, a: &Anchor) -> R<()> {
        let mut b = [0u8; BLOCK];
        b[..8].copy_from_slice(ANCHOR_MAGIC);
        b[8..16].copy_from_slice(&a.generation.to_le_bytes());
        b[16..48].copy_from_slice(&a.hash);
        self.write(io, ANCHOR_BLOCK, &b)
    }
}
