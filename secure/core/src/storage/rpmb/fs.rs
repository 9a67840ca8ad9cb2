//! A small file system in the RPMB partition, behind the same
//! [`Backend`] the REE store uses, so the storage engine runs unchanged
//! over RPMB.
//!
//! Layout (256-byte blocks):
//!
//! - block 0: the rollback anchor (not part of the file system);
//! - block 1: the superblock: magic, version, a random file-system id,
//!   the number of entry slots and the first data block;
//! - blocks 2..2+E: one entry slot per file: magic, the file-system id,
//!   a sequence number, the file's inode number, its length, its name and
//!   its extents (start block, count);
//! - the rest: file data, allocated in extents. An extent starting at
//!   block 0 is a hole: blocks that read as zeros and are not stored (a
//!   gap, a file grown by `truncate`); zeros written where nothing is
//!   stored stay a hole.
//!
//! RPMB writes one block atomically, so every commit point is the write
//! of one entry slot: data goes to blocks no entry uses, then the slot
//! that makes them part of the file is written. A file's entry therefore
//! always describes complete data. `rename` rewrites the source's slot
//! under the new name with a higher sequence number and then clears the
//! target's slot; after a crash between the two, mounting keeps the entry
//! with the higher sequence number and clears the other. Free space is
//! not stored: it is what no entry uses, recomputed at mount.
//!
//! Blocks come back authenticated by the device (a MAC under a key only
//! the secure world and the device hold), and the structure is checked
//! all the same: an entry that does not parse, or whose extents fall
//! outside the data area or on another entry's blocks, is dropped and its
//! slot cleared. After any error while changing something, the in-memory
//! state is dropped and read again from the device before the next call.

use super::device::{Device, Io};
use super::frame::BLOCK;
use crate::storage::R;
use crate::storage::backend::{Backend, Fd};
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::tee::TeeResult;

const SUPER_BLOCK: u32 = 1;
const SLOTS_START: u32 = 2;
const SUPER_MAGIC: &[u8; 8] = b"OXRPMBFS";
const VERSION: u32 = 1;
const ENTRY_MAGIC: &[u8; 4] = b"OXFE";
/// Bytes of an entry before its name.
const ENTRY_HEAD: usize = 34;
/// Longest file name (a path with `/`).
pub const MAX_NAME: usize = 160;
/// The start of a hole extent (blocks that read as zeros and are not
/// stored; block 0 is never file data).
const HOLE: u16 = 0;
/// Most files open at once.
pub const MAX_OPEN: usize = 256;
/// Blocks written or read per device request from here (a bound on the
/// buffers this layer allocates).
const RUN: usize = 32;

/// Entry slots for a device of `blocks` blocks.
fn slots_for(blocks: u32) -> u32 {
    (blocks / 16).clamp(8, 256)
}

/// Extents an entry with a name of `name_len` bytes can hold.
fn max_extents(name_len: usize) -> usize {
    (BLOCK - ENTRY_HEAD - name_len) / 4
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    seq: u64,
    ino: u64,
    len: u32,
    name: String,
    /// (first block, count), in file order.
    ext: Vec<(u16, u16)>,
}

impl Entry {
    fn blocks(&self) -> usize {
        self.ext.iter().map(|e| e.1 as usize).sum()
    }

    fn encode(&self, fs_id: &[u8; 8]) -> R<[u8; BLOCK]> {
        let n = self.name.len();
        if n == 0 || n > MAX_NAME || self.ext.len() > max_extents(n) {
            return Err(TeeResult::ERROR_STORAGE_NO_SPACE);
        }
        let mut b = [0u8; BLOCK];
        b[0..4].copy_from_slice(ENTRY_MAGIC);
        b[4..12].copy_from_slice(fs_id);
        b[12..20].copy_from_slice(&self.seq.to_le_bytes());
        b[20..28].copy_from_slice(&self.ino.to_le_bytes());
        b[28..32].copy_from_slice(&self.len.to_le_bytes());
        b[32] = n as u8;
        b[33] = self.ext.len() as u8;
        b[ENTRY_HEAD..ENTRY_HEAD + n].copy_from_slice(self.name.as_bytes());
        for (i, (s, c)) in self.ext.iter().enumerate() {
            let at = ENTRY_HEAD + n + 4 * i;
            b[at..at + 2].copy_from_slice(&s.to_le_bytes());
            b[at + 2..at + 4].copy_from_slice(&c.to_le_bytes());
        }
        Ok(b)
    }

    /// The entry a slot holds, if it is one of this file system's and
    /// well formed (extents are checked against the layout by the caller).
    fn decode(b: &[u8], fs_id: &[u8; 8]) -> Option<Entry> {
        if b.get(0..4)? != ENTRY_MAGIC || b.get(4..12)? != fs_id {
            return None;
        }
        let u64_at = |at: usize| b.get(at..at + 8).and_then(|s| s.try_into().ok()).map(u64::from_le_bytes);
        let u16_at = |at: usize| b.get(at..at + 2).and_then(|s| s.try_into().ok()).map(u16::from_le_bytes);
        let seq = u64_at(12)?;
        let ino = u64_at(20)?;
        let len = u32::from_le_bytes(b.get(28..32)?.try_into().ok()?);
        let n = *b.get(32)? as usize;
        let next = *b.get(33)? as usize;
        if n == 0 || n > MAX_NAME || next > max_extents(n) {
            return None;
        }
        let name = core::str::from_utf8(b.get(ENTRY_HEAD..ENTRY_HEAD + n)?).ok()?;
        if !valid_name(name) {
            return None;
        }
        let mut ext = Vec::new();
        for i in 0..next {
            let at = ENTRY_HEAD + n + 4 * i;
            ext.push((u16_at(at)?, u16_at(at + 2)?));
        }
        let e = Entry { seq, ino, len, name: String::from(name), ext };
        (e.len as u64 <= e.blocks() as u64 * BLOCK as u64).then_some(e)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.contains("//")
        && !name.contains('\0')
}

/// The file system as read from the device.
struct Mounted {
    fs_id: [u8; 8],
    data_start: u32,
    blocks: u32,
    slots: Vec<Option<Entry>>,
    /// One flag per block of the device: used by an entry (or reserved).
    used: Vec<bool>,
    next_seq: u64,
}

impl Mounted {
    fn find(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.as_ref().is_some_and(|e| e.name == name))
    }

    fn by_ino(&self, ino: u64) -> Option<usize> {
        self.slots.iter().position(|s| s.as_ref().is_some_and(|e| e.ino == ino))
    }

    fn free_slot(&self) -> Option<usize> {
        self.slots.iter().position(|s| s.is_none())
    }

    fn mark(&mut self, ext: &[(u16, u16)], on: bool) {
        for &(s, c) in ext.iter().filter(|e| e.0 != HOLE) {
            for b in s as usize..s as usize + c as usize {
                if let Some(u) = self.used.get_mut(b) {
                    *u = on;
                }
            }
        }
    }

    /// Whether `ext` lies in the data area on blocks nothing uses yet.
    fn claimable(&self, ext: &[(u16, u16)]) -> bool {
        let mut seen = BTreeSet::new();
        ext.iter().all(|&(s, c)| {
            let (s, c) = (s as u32, c as u32);
            c > 0 && s == HOLE as u32
                || c > 0
                    && s >= self.data_start
                    && s + c <= self.blocks
                    && (s..s + c).all(|b| !self.used[b as usize] && seen.insert(b))
        })
    }

    /// One free block, the first at or after `hint` (so a growing file
    /// stays contiguous), else the first from the start; marked used.
    fn alloc1(&mut self, hint: u32) -> R<u16> {
        let h = if hint >= self.data_start && hint < self.blocks { hint } else { self.data_start };
        let b = (h..self.blocks)
            .chain(self.data_start..h)
            .find(|&b| !self.used[b as usize])
            .ok_or(TeeResult::ERROR_STORAGE_NO_SPACE)?;
        self.used[b as usize] = true;
        Ok(b as u16)
    }

    /// `n` free blocks in at most `max` extents, taken from the longest
    /// free runs; marked used.
    fn alloc_few(&mut self, n: usize, max: usize) -> R<Vec<(u16, u16)>> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut b = self.data_start as usize;
        while b < self.blocks as usize {
            if self.used[b] {
                b += 1;
                continue;
            }
            let s = b;
            while b < self.blocks as usize && !self.used[b] && b - s < u16::MAX as usize {
                b += 1;
            }
            runs.push((s, b - s));
        }
        runs.sort_by_key(|r| core::cmp::Reverse(r.1));
        let mut out = Vec::new();
        let mut left = n;
        for (s, len) in runs.into_iter().take(max) {
            if left == 0 {
                break;
            }
            let k = len.min(left);
            out.push((s as u16, k as u16));
            left -= k;
        }
        if left > 0 {
            return Err(TeeResult::ERROR_STORAGE_NO_SPACE);
        }
        out.sort();
        self.mark(&out, true);
        Ok(out)
    }
}

/// The device block of each block of a file with extents `ext`
/// ([`HOLE`] for a hole), for at least `n` blocks (holes past the end).
fn expand(ext: &[(u16, u16)], n: usize) -> R<Vec<u16>> {
    let have: usize = ext.iter().map(|e| e.1 as usize).sum();
    let mut v = Vec::new();
    v.try_reserve_exact(have.max(n)).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    for &(s, c) in ext {
        for k in 0..c {
            v.push(if s == HOLE { HOLE } else { s + k });
        }
    }
    v.resize(have.max(n), HOLE);
    Ok(v)
}

/// Extents of a file whose blocks are at `v`.
fn compress(v: &[u16]) -> Vec<(u16, u16)> {
    let mut ext: Vec<(u16, u16)> = Vec::new();
    for &b in v {
        match ext.last_mut() {
            Some((s, c))
                if *c < u16::MAX
                    && ((*s == HOLE && b == HOLE) || (*s != HOLE && b as u32 == *s as u32 + *c as u32)) =>
            {
                *c += 1
            }
            _ => ext.push((b, 1)),
        }
    }
    ext
}

/// The device block holding block `i` of a file with extents `ext`
/// (0 for a hole).
fn map(ext: &[(u16, u16)], mut i: usize) -> Option<u32> {
    for &(s, c) in ext {
        if i < c as usize {
            return Some(if s == HOLE { 0 } else { s as u32 + i as u32 });
        }
        i -= c as usize;
    }
    None
}

/// The first `n` blocks of `ext`.
fn take(ext: &[(u16, u16)], mut n: usize) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for &(s, c) in ext {
        if n == 0 {
            break;
        }
        let k = n.min(c as usize);
        out.push((s, k as u16));
        n -= k;
    }
    out
}

/// What a write puts in the file.
#[derive(Clone, Copy)]
enum Src<'d> {
    Data(&'d [u8]),
    Zeros(u64),
}

impl Src<'_> {
    fn len(&self) -> u64 {
        match self {
            Src::Data(d) => d.len() as u64,
            Src::Zeros(n) => *n,
        }
    }
}

/// The file system's state kept between calls: the mounted view (read
/// again after an error) and the open files (by inode number).
#[derive(Default)]
pub struct FsState {
    mounted: Option<Mounted>,
    open: Vec<Option<u64>>,
    /// The next inode number: above every one seen since boot, so an
    /// open handle of a removed file never reaches a newer file.
    next_ino: u64,
}

/// The RPMB store's persistent state: the device and its file system.
/// One per partition, kept for the life of the OS; every use goes through
/// [`Rpmb::fs`] with the transport of the calling thread. RPMB has one
/// write counter, so uses are serialised by whoever owns this.
pub struct Rpmb {
    pub dev: Device,
    pub fs: FsState,
}

impl Rpmb {
    pub fn new(dev: Device) -> Rpmb {
        Rpmb { dev, fs: FsState::default() }
    }

    /// The file system reached through `io` for one call.
    pub fn fs<'a>(&'a mut self, io: Io<'a>) -> RpmbFs<'a> {
        RpmbFs { dev: &mut self.dev, st: &mut self.fs, io }
    }
}

/// The file system for the duration of one call ([`Backend`]).
pub struct RpmbFs<'a> {
    dev: &'a mut Device,
    st: &'a mut FsState,
    io: Io<'a>,
}

impl<'a> RpmbFs<'a> {
    /// Reads the superblock and every slot (formatting an empty device);
    /// clears slots that lost to another (a crash inside a rename).
    fn mount(&mut self) -> R<()> {
        if self.st.mounted.is_some() {
            return Ok(());
        }
        self.dev.init(&mut self.io)?;
        let blocks = self.dev.blocks();
        let slots = slots_for(blocks);
        let data_start = SLOTS_START + slots;
        if blocks < data_start + 8 {
            return Err(TeeResult::ERROR_STORAGE_NOT_AVAILABLE);
        }
        let mut sb = [0u8; BLOCK];
        self.dev.read(&mut self.io, SUPER_BLOCK, &mut sb)?;
        let fs_id = if sb.iter().all(|&b| b == 0) {
            let mut id = [0u8; 8];
            (self.io.rand)(&mut id);
            id[0] |= 1;
            sb[..8].copy_from_slice(SUPER_MAGIC);
            sb[8..12].copy_from_slice(&VERSION.to_le_bytes());
            sb[12..20].copy_from_slice(&id);
            sb[20..24].copy_from_slice(&slots.to_le_bytes());
            sb[24..28].copy_from_slice(&data_start.to_le_bytes());
            self.dev.write(&mut self.io, SUPER_BLOCK, &sb)?;
            id
        } else {
            let word = |at: usize| u32::from_le_bytes([sb[at], sb[at + 1], sb[at + 2], sb[at + 3]]);
            if &sb[..8] != SUPER_MAGIC || word(8) != VERSION || word(20) != slots || word(24) != data_start {
                return Err(TeeResult::ERROR_STORAGE_NOT_AVAILABLE);
            }
            let mut id = [0u8; 8];
            id.copy_from_slice(&sb[12..20]);
            id
        };
        let mut raw = Vec::new();
        raw.try_reserve_exact(slots as usize * BLOCK).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        raw.resize(slots as usize * BLOCK, 0);
        self.dev.read(&mut self.io, SLOTS_START, &mut raw)?;
        let mut m = Mounted {
            fs_id,
            data_start,
            blocks,
            slots: vec![None; slots as usize],
            used: vec![false; blocks as usize],
            next_seq: 1,
        };
        m.used[..data_start as usize].iter_mut().for_each(|u| *u = true);
        let mut found: Vec<(usize, Entry)> = Vec::new();
        let mut stale: Vec<usize> = Vec::new();
        for (i, b) in raw.chunks_exact(BLOCK).enumerate() {
            match Entry::decode(b, &fs_id) {
                Some(e) => found.push((i, e)),
                // Ours but unreadable: cleared below, like a loser.
                None if b[..4] == *ENTRY_MAGIC && b[4..12] == fs_id => stale.push(i),
                None => {}
            }
        }
        // Newest first: an older entry of the same name, or one on blocks
        // a newer one holds, is what a crash left behind.
        found.sort_by_key(|e| core::cmp::Reverse(e.1.seq));
        for (i, e) in found {
            m.next_seq = m.next_seq.max(e.seq.saturating_add(1));
            self.st.next_ino = self.st.next_ino.max(e.ino.saturating_add(1));
            if m.find(&e.name).is_some() || m.by_ino(e.ino).is_some() || !m.claimable(&e.ext) {
                stale.push(i);
                continue;
            }
            m.mark(&e.ext, true);
            m.slots[i] = Some(e);
        }
        for i in stale {
            self.dev.write(&mut self.io, SLOTS_START + i as u32, &[0u8; BLOCK])?;
        }
        self.st.mounted = Some(m);
        Ok(())
    }

    fn m(&mut self) -> R<&mut Mounted> {
        self.mount()?;
        self.st.mounted.as_mut().ok_or(TeeResult::ERROR_GENERIC)
    }

    /// Runs a change; if it fails, what is in memory may not be what is
    /// on the device: read it again next time.
    fn changing<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        self.mount()?;
        let r = f(self);
        if r.is_err() {
            self.st.mounted = None;
        }
        r
    }

    /// Writes `e` into `slot` (the commit point of every change).
    fn put_entry(&mut self, slot: usize, mut e: Entry) -> R<()> {
        let m = self.m()?;
        e.seq = m.next_seq;
        m.next_seq += 1;
        let b = e.encode(&m.fs_id)?;
        self.dev.write(&mut self.io, SLOTS_START + slot as u32, &b)?;
        if let Some(s) = self.m()?.slots.get_mut(slot) {
            *s = Some(e);
        }
        Ok(())
    }

    fn clear_slot(&mut self, slot: usize) -> R<()> {
        self.dev.write(&mut self.io, SLOTS_START + slot as u32, &[0u8; BLOCK])?;
        let m = self.m()?;
        if let Some(Some(e)) = m.slots.get_mut(slot).map(Option::take) {
            m.mark(&e.ext, false);
        }
        Ok(())
    }

    fn new_fd(&mut self, ino: u64) -> R<Fd> {
        if let Some(i) = self.st.open.iter().position(Option::is_none) {
            self.st.open[i] = Some(ino);
            return Ok(i as Fd);
        }
        if self.st.open.len() >= MAX_OPEN {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        self.st.open.push(Some(ino));
        Ok((self.st.open.len() - 1) as Fd)
    }

    /// The slot of open file `fd`.
    fn slot_of(&mut self, fd: Fd) -> R<usize> {
        let ino = self.st.open.get(fd as usize).copied().flatten().ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        self.m()?.by_ino(ino).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)
    }

    fn entry(&mut self, slot: usize) -> R<Entry> {
        self.m()?.slots.get(slot).cloned().flatten().ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)
    }

    fn read_block(&mut self, at: u32) -> R<[u8; BLOCK]> {
        let mut b = [0u8; BLOCK];
        self.dev.read(&mut self.io, at, &mut b)?;
        Ok(b)
    }

    /// Writes `src` at `off` of the file in `slot`; the gap between the
    /// end and `off` becomes zeros. Blocks that would hold only zeros and
    /// have no storage yet stay holes.
    fn write_at(&mut self, slot: usize, off: u64, src: Src) -> R<()> {
        let mut e = self.entry(slot)?;
        // Writing nothing changes nothing (not even the length).
        if src.len() == 0 {
            return Ok(());
        }
        let limit = self.dev.blocks() as u64 * BLOCK as u64;
        let end = off.checked_add(src.len()).filter(|&e| e <= limit).ok_or(TeeResult::ERROR_STORAGE_NO_SPACE)?;
        let old_len = e.len as u64;
        let new_len = old_len.max(end);
        let start = off.min(old_len);
        let need = new_len.div_ceil(BLOCK as u64) as usize;
        let mut v = expand(&e.ext, need)?;
        // Blocks [first, last] of the file change.
        let first = (start / BLOCK as u64) as usize;
        let last = ((end - 1) / BLOCK as u64) as usize;
        let mut buf: Vec<u8> = Vec::new();
        buf.try_reserve_exact(RUN * BLOCK).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        // The device block `buf` starts at.
        let mut run_at = 0u32;
        let mut hint = 0u32;
        for i in first..=last {
            let b0 = (i * BLOCK) as u64;
            let b1 = b0 + BLOCK as u64;
            // Bytes of this block kept from before: those before `start`,
            // and those after `end` that are inside the file.
            let keep = b0 < start || (end < b1 && end < old_len);
            let before = if keep && v[i] != HOLE { Some(self.read_block(v[i] as u32)?) } else { None };
            let mut block = before.unwrap_or([0u8; BLOCK]);
            for (j, byte) in block.iter_mut().enumerate() {
                let p = b0 + j as u64;
                if p >= start && p < off {
                    *byte = 0;
                } else if p >= off && p < end {
                    *byte = match src {
                        Src::Data(d) => d[(p - off) as usize],
                        Src::Zeros(_) => 0,
                    };
                } else if p >= old_len.max(end) {
                    *byte = 0;
                }
            }
            if before == Some(block) {
                // Nothing changes in this block.
                continue;
            }
            if v[i] == HOLE {
                if block.iter().all(|&x| x == 0) {
                    continue;
                }
                if i > 0 && v[i - 1] != HOLE {
                    hint = v[i - 1] as u32 + 1;
                }
                v[i] = self.m()?.alloc1(hint)?;
                hint = v[i] as u32 + 1;
            }
            let at = v[i] as u32;
            if !buf.is_empty() && (at != run_at + (buf.len() / BLOCK) as u32 || buf.len() == RUN * BLOCK) {
                self.dev.write(&mut self.io, run_at, &buf)?;
                buf.clear();
            }
            if buf.is_empty() {
                run_at = at;
            }
            buf.extend_from_slice(&block);
        }
        if !buf.is_empty() {
            self.dev.write(&mut self.io, run_at, &buf)?;
        }
        let mut ext = compress(&v);
        let mut freed = Vec::new();
        let max = max_extents(e.name.len());
        if ext.len() > max {
            // Too fragmented for one entry: move the file into the longest
            // free runs, holes filled (its blocks stay its own until the
            // commit).
            let to = self.m()?.alloc_few(v.len(), max)?;
            self.relocate(&v, &to)?;
            freed = core::mem::replace(&mut ext, to);
        }
        if new_len != old_len || e.ext != ext {
            e.len = new_len as u32;
            e.ext = ext;
            self.put_entry(slot, e)?;
            self.m()?.mark(&freed, false);
        }
        Ok(())
    }

    /// Copies the blocks of a file at `v` (holes as zeros) to the same
    /// places of extents `to`.
    fn relocate(&mut self, v: &[u16], to: &[(u16, u16)]) -> R<()> {
        let mut buf: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < v.len() {
            let dst = map(to, i).ok_or(TeeResult::ERROR_GENERIC)?;
            let mut k = 1;
            while i + k < v.len() && k < RUN && map(to, i + k) == Some(dst + k as u32) {
                k += 1;
            }
            buf.clear();
            for &b in &v[i..i + k] {
                let block = if b == HOLE { [0u8; BLOCK] } else { self.read_block(b as u32)? };
                buf.extend_from_slice(&block);
            }
            self.dev.write(&mut self.io, dst, &buf)?;
            i += k;
        }
        Ok(())
    }

    fn truncate_slot(&mut self, slot: usize, len: u64) -> R<()> {
        let mut e = self.entry(slot)?;
        let old = e.len as u64;
        if len > old {
            return self.write_at(slot, old, Src::Zeros(len - old));
        }
        if len == old {
            return Ok(());
        }
        let keep = len.div_ceil(BLOCK as u64) as usize;
        let all = e.ext.clone();
        e.ext = take(&all, keep);
        e.len = len as u32;
        let gone: Vec<(u16, u16)> = {
            let mut g = Vec::new();
            let mut skip = keep;
            for &(s, c) in &all {
                let k = skip.min(c as usize);
                skip -= k;
                if k < c as usize {
                    g.push((s + k as u16, c - k as u16));
                }
            }
            g
        };
        self.put_entry(slot, e)?;
        self.m()?.mark(&gone, false);
        Ok(())
    }

    /// The rollback anchor ([`Device::anchor_read`]).
    pub fn anchor_read(&mut self) -> R<Option<super::Anchor>> {
        self.dev.anchor_read(&mut self.io)
    }

    /// Replaces the rollback anchor ([`Device::anchor_write`]).
    pub fn anchor_write(&mut self, a: &super::Anchor) -> R<()> {
        self.dev.anchor_write(&mut self.io, a)
    }

    /// The device ([`Device`]) with this call's transport.
    pub fn device(&mut self) -> (&mut Device, &mut Io<'a>) {
        (self.dev, &mut self.io)
    }

    /// How many extents file `name` has (tests).
    #[cfg(test)]
    pub fn extents(&mut self, name: &str) -> R<usize> {
        let m = self.m()?;
        let slot = m.find(name).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        Ok(m.slots[slot].as_ref().map_or(0, |e| e.ext.len()))
    }

    /// The free data blocks (for tests and statistics).
    pub fn free_blocks(&mut self) -> R<usize> {
        let m = self.m()?;
        Ok(m.used.iter().filter(|u| !**u).count())
    }
}

impl Backend for RpmbFs<'_> {
    fn open(&mut self, name: &str) -> R<Fd> {
        let m = self.m()?;
        let slot = m.find(name).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        let ino = m.slots[slot].as_ref().map(|e| e.ino).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        self.new_fd(ino)
    }

    fn create(&mut self, name: &str) -> R<Fd> {
        if !valid_name(name) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if self.st.open.iter().all(Option::is_some) && self.st.open.len() >= MAX_OPEN {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let ino = self.changing(|fs| {
            let m = fs.m()?;
            if let Some(slot) = m.find(name) {
                fs.truncate_slot(slot, 0)?;
                return fs.entry(slot).map(|e| e.ino);
            }
            let slot = m.free_slot().ok_or(TeeResult::ERROR_STORAGE_NO_SPACE)?;
            let ino = fs.st.next_ino.max(1);
            fs.st.next_ino = ino + 1;
            fs.put_entry(slot, Entry { seq: 0, ino, len: 0, name: String::from(name), ext: Vec::new() })?;
            Ok(ino)
        })?;
        self.new_fd(ino)
    }

    fn close(&mut self, fd: Fd) -> R<()> {
        match self.st.open.get_mut(fd as usize) {
            Some(s @ Some(_)) => {
                *s = None;
                Ok(())
            }
            _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
        }
    }

    fn read(&mut self, fd: Fd, off: u64, buf: &mut [u8]) -> R<usize> {
        let slot = self.slot_of(fd)?;
        let e = self.entry(slot)?;
        let len = e.len as u64;
        if off >= len || buf.is_empty() {
            return Ok(0);
        }
        let n = (len - off).min(buf.len() as u64) as usize;
        let end = off + n as u64;
        let first = (off / BLOCK as u64) as usize;
        let last = ((end - 1) / BLOCK as u64) as usize;
        let mut tmp = vec![0u8; RUN * BLOCK];
        let mut i = first;
        while i <= last {
            let dev0 = map(&e.ext, i).ok_or(TeeResult::ERROR_CORRUPT_OBJECT)?;
            let mut k = 1;
            if dev0 == 0 {
                // A hole.
                while i + k <= last && k < RUN && map(&e.ext, i + k) == Some(0) {
                    k += 1;
                }
                tmp[..k * BLOCK].fill(0);
            } else {
                while i + k <= last && k < RUN && map(&e.ext, i + k) == Some(dev0 + k as u32) {
                    k += 1;
                }
                self.dev.read(&mut self.io, dev0, &mut tmp[..k * BLOCK])?;
            }
            let b0 = (i * BLOCK) as u64;
            let from = off.max(b0);
            let to = end.min(b0 + (k * BLOCK) as u64);
            buf[(from - off) as usize..(to - off) as usize]
                .copy_from_slice(&tmp[(from - b0) as usize..(to - b0) as usize]);
            i += k;
        }
        Ok(n)
    }

    fn write(&mut self, fd: Fd, off: u64, data: &[u8]) -> R<()> {
        let slot = self.slot_of(fd)?;
        self.changing(|fs| fs.write_at(slot, off, Src::Data(data)))
    }

    fn truncate(&mut self, fd: Fd, len: u64) -> R<()> {
        let slot = self.slot_of(fd)?;
        if len > u32::MAX as u64 {
            return Err(TeeResult::ERROR_STORAGE_NO_SPACE);
        }
        self.changing(|fs| fs.truncate_slot(slot, len))
    }

    fn remove(&mut self, name: &str) -> R<()> {
        let slot = self.m()?.find(name).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        self.changing(|fs| fs.clear_slot(slot))
    }

    fn rename(&mut self, old: &str, new: &str, overwrite: bool) -> R<()> {
        if !valid_name(new) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let m = self.m()?;
        let src = m.find(old).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        let dst = m.find(new);
        if dst == Some(src) {
            return Ok(());
        }
        if dst.is_some() && !overwrite {
            return Err(TeeResult::ERROR_ACCESS_CONFLICT);
        }
        let mut e = self.entry(src)?;
        e.name = String::from(new);
        if e.ext.len() > max_extents(e.name.len()) {
            return Err(TeeResult::ERROR_STORAGE_NO_SPACE);
        }
        self.changing(|fs| {
            // The commit point: the source's slot under the new name with
            // a sequence number above the target's.
            fs.put_entry(src, e)?;
            match dst {
                Some(d) => fs.clear_slot(d),
                None => Ok(()),
            }
        })
    }

    fn list(&mut self, dir: &str, f: &mut dyn FnMut(&str)) -> R<()> {
        let m = self.m()?;
        let prefix_len = if dir.is_empty() { 0 } else { dir.len() + 1 };
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for e in m.slots.iter().flatten() {
            let inside = dir.is_empty() || (e.name.starts_with(dir) && e.name.as_bytes().get(dir.len()) == Some(&b'/'));
            if !inside {
                continue;
            }
            let rest = &e.name[prefix_len..];
            names.insert(rest.split('/').next().unwrap_or(rest));
        }
        for n in names {
            f(n);
        }
        Ok(())
    }
}
