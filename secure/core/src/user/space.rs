//! A TA's address space as the core sees it: secure pages it owns, each
//! range mapped at a user address with one access kind. Every access the
//! OS makes on a TA's behalf goes through here, so a user pointer is only
//! ever honoured inside the TA's own mappings with the right permission.

use crate::env::{UserMapping, UserMmu, UserPerm};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use oxtee_abi::tee::TeeResult;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

pub const PAGE_SIZE: usize = 4096;

/// One page of secure memory handed to user mode.
#[derive(Clone, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C, align(4096))]
pub struct Page([u8; PAGE_SIZE]);

/// Page-aligned, zeroed secure memory; allocation failure is an error the
/// caller reports, not a panic.
pub struct PageBuf {
    pages: Box<[Page]>,
    /// Counted against `PARAM_BUDGET` (a call's parameter copy).
    charged: bool,
}

/// Bytes of parameter copies that may exist at once, across all calls:
/// what callers can make the OS hold must leave the rest of the secure heap
/// to page tables, sessions and TAs.
pub const PARAM_BUDGET: u64 = 6 << 20;
static PARAM_BYTES: AtomicU64 = AtomicU64::new(0);

impl PageBuf {
    pub fn new(bytes: u64) -> Result<PageBuf, TeeResult> {
        let n = usize::try_from(bytes.div_ceil(PAGE_SIZE as u64)).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        let mut v: Vec<Page> = Vec::new();
        v.try_reserve_exact(n).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        v.resize(n, Page([0; PAGE_SIZE]));
        Ok(PageBuf { pages: v.into_boxed_slice(), charged: false })
    }

    /// A buffer for a copy of a call parameter, within `PARAM_BUDGET`.
    pub fn for_param(bytes: u64) -> Result<PageBuf, TeeResult> {
        let rounded = bytes.div_ceil(PAGE_SIZE as u64).saturating_mul(PAGE_SIZE as u64);
        let before = PARAM_BYTES.fetch_add(rounded, Ordering::AcqRel);
        if before.saturating_add(rounded) > PARAM_BUDGET {
            PARAM_BYTES.fetch_sub(rounded, Ordering::AcqRel);
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        match PageBuf::new(bytes) {
            Ok(mut b) => {
                b.charged = true;
                Ok(b)
            }
            Err(e) => {
                PARAM_BYTES.fetch_sub(rounded, Ordering::AcqRel);
                Err(e)
            }
        }
    }

    pub fn bytes(&self) -> &[u8] {
        self.pages.as_bytes()
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.pages.as_mut_bytes()
    }

    pub fn len(&self) -> u64 {
        (self.pages.len() * PAGE_SIZE) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Physical address (the OS maps its heap one-to-one).
    pub fn pa(&self) -> u64 {
        self.pages.as_ptr() as u64
    }
}

impl Drop for PageBuf {
    fn drop(&mut self) {
        if self.charged {
            PARAM_BYTES.fetch_sub(self.len(), Ordering::AcqRel);
        }
    }
}

struct Mapped {
    va: u64,
    len: u64,
    perm: UserPerm,
    /// Index into `UserSpace::bufs` and byte offset in that buffer.
    buf: usize,
    off: u64,
}

/// What a user access wants.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read,
    Write,
}

pub struct UserSpace {
    mmu: &'static dyn UserMmu,
    handle: Option<u64>,
    bufs: Vec<Option<PageBuf>>,
    maps: Vec<Mapped>,
}

impl UserSpace {
    pub fn new(mmu: &'static dyn UserMmu) -> UserSpace {
        UserSpace { mmu, handle: None, bufs: Vec::new(), maps: Vec::new() }
    }

    /// The MMU handle, once `activate` has built the tables.
    pub fn handle(&self) -> Option<u64> {
        self.handle
    }

    /// Adds `buf` and maps `ranges` of it: (offset in buf, user address,
    /// length, access). Before `activate` this only records the ranges.
    pub fn add(&mut self, buf: PageBuf, ranges: &[(u64, u64, u64, UserPerm)]) -> Result<usize, TeeResult> {
        for &(off, va, len, _) in ranges {
            let page = PAGE_SIZE as u64;
            let end = off.checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if end > buf.len() || !off.is_multiple_of(page) || !va.is_multiple_of(page) || !len.is_multiple_of(page) {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let vend = va.checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if self.maps.iter().any(|m| va < m.va + m.len && m.va < vend) {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
        }
        let idx = self.bufs.len();
        let pa = buf.pa();
        self.bufs.try_reserve(1).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        self.maps.try_reserve(ranges.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        self.bufs.push(Some(buf));
        for &(off, va, len, perm) in ranges {
            if len == 0 {
                continue;
            }
            if let Some(h) = self.handle
                && let Err(e) = self.mmu.map(h, &UserMapping { va, pa: pa + off, len, perm })
            {
                drop(self.remove(idx));
                return Err(e);
            }
            self.maps.push(Mapped { va, len, perm, buf: idx, off });
        }
        Ok(idx)
    }

    /// Unmaps buffer `idx` (from `add`) and hands it back.
    pub fn remove(&mut self, idx: usize) -> Option<PageBuf> {
        let handle = self.handle;
        let mmu = self.mmu;
        self.maps.retain(|m| {
            if m.buf == idx {
                if let Some(h) = handle {
                    mmu.unmap(h, m.va, m.len);
                }
                false
            } else {
                true
            }
        });
        let buf = self.bufs.get_mut(idx).and_then(Option::take);
        while matches!(self.bufs.last(), Some(None)) {
            self.bufs.pop();
        }
        buf
    }

    /// Builds the translation tables for everything added so far.
    pub fn activate(&mut self) -> Result<(), TeeResult> {
        let maps: Vec<UserMapping> = self
            .maps
            .iter()
            .map(|m| {
                let pa = self.bufs[m.buf].as_ref().map(PageBuf::pa).unwrap_or(0) + m.off;
                UserMapping { va: m.va, pa, len: m.len, perm: m.perm }
            })
            .collect();
        for m in maps.iter().filter(|m| m.perm == UserPerm::ReadExec) {
            self.mmu.sync_code(m.pa, m.len);
        }
        self.handle = Some(self.mmu.create(&maps)?);
        Ok(())
    }

    /// Splits [va, va+len) over the mappings, checking `access` on each
    /// piece; returns (mapping index, offset in it, piece length) pieces.
    fn pieces(&self, va: u64, len: u64, access: Access) -> Option<Vec<(usize, u64, u64)>> {
        let mut out = Vec::new();
        let mut at = va;
        let end = va.checked_add(len)?;
        while at < end {
            let (i, m) = self.maps.iter().enumerate().find(|(_, m)| at >= m.va && at - m.va < m.len)?;
            let ok = match access {
                Access::Read => true,
                Access::Write => m.perm == UserPerm::ReadWrite,
            };
            if !ok {
                return None;
            }
            let n = (m.va + m.len - at).min(end - at);
            out.push((i, at - m.va, n));
            at += n;
        }
        Some(out)
    }

    /// True if user mode may make `access` to every byte of the range.
    pub fn check(&self, va: u64, len: u64, access: Access) -> bool {
        self.pieces(va, len, access).is_some()
    }

    /// Copies user memory out; ERROR_ACCESS_DENIED if any byte is not
    /// readable by the TA.
    pub fn read(&self, va: u64, out: &mut [u8]) -> Result<(), TeeResult> {
        let pieces = self.pieces(va, out.len() as u64, Access::Read).ok_or(TeeResult::ERROR_ACCESS_DENIED)?;
        let mut done = 0usize;
        for (i, off, n) in pieces {
            let m = &self.maps[i];
            let buf = self.bufs[m.buf].as_ref().ok_or(TeeResult::ERROR_ACCESS_DENIED)?;
            let start = (m.off + off) as usize;
            out[done..done + n as usize].copy_from_slice(&buf.bytes()[start..start + n as usize]);
            done += n as usize;
        }
        Ok(())
    }

    /// Copies into user memory the TA may write.
    pub fn write(&mut self, va: u64, data: &[u8]) -> Result<(), TeeResult> {
        let pieces = self.pieces(va, data.len() as u64, Access::Write).ok_or(TeeResult::ERROR_ACCESS_DENIED)?;
        let mut done = 0usize;
        for (i, off, n) in pieces {
            let (mbuf, moff) = (self.maps[i].buf, self.maps[i].off);
            let buf = self.bufs[mbuf].as_mut().ok_or(TeeResult::ERROR_ACCESS_DENIED)?;
            let start = (moff + off) as usize;
            buf.bytes_mut()[start..start + n as usize].copy_from_slice(&data[done..done + n as usize]);
            done += n as usize;
        }
        Ok(())
    }

    pub fn read_u32(&self, va: u64) -> Result<u32, TeeResult> {
        let mut b = [0u8; 4];
        self.read(va, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    pub fn write_u32(&mut self, va: u64, v: u32) -> Result<(), TeeResult> {
        self.write(va, &v.to_le_bytes())
    }

    /// Direct access to a whole buffer (for parameters the OS copies back).
    pub fn buf(&self, idx: usize) -> Option<&PageBuf> {
        self.bufs.get(idx).and_then(Option::as_ref)
    }

    /// Bytes of secure memory this space holds.
    pub fn footprint(&self) -> u64 {
        self.bufs.iter().flatten().map(PageBuf::len).sum()
    }
}

impl Drop for UserSpace {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.mmu.destroy(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::tests::FakeMmu;

    fn space() -> UserSpace {
        UserSpace::new(FakeMmu::leak())
    }

    #[test]
    fn reads_and_writes_respect_mappings() {
        let mut s = space();
        let b = PageBuf::new(3 * 4096).unwrap();
        s.add(
            b,
            &[
                (0, 0x10000, 4096, UserPerm::ReadExec),
                (4096, 0x11000, 4096, UserPerm::ReadOnly),
                (8192, 0x12000, 4096, UserPerm::ReadWrite),
            ],
        )
        .unwrap();
        s.activate().unwrap();
        assert!(s.write(0x12000, &[1; 16]).is_ok());
        assert!(s.write(0x12ff0, &[2; 16]).is_ok());
        // Spans into unmapped memory, or into read-only memory.
        assert_eq!(s.write(0x12ff8, &[1; 16]), Err(TeeResult::ERROR_ACCESS_DENIED));
        assert_eq!(s.write(0x11ff8, &[1; 16]), Err(TeeResult::ERROR_ACCESS_DENIED));
        let mut out = [0u8; 32];
        // Reads may span code, rodata and data.
        assert!(s.read(0x11ff0, &mut out).is_ok());
        assert_eq!(&out[16..], &[1; 16]);
        assert_eq!(s.read(0xfff0, &mut out), Err(TeeResult::ERROR_ACCESS_DENIED));
        assert_eq!(s.read(u64::MAX - 4, &mut out), Err(TeeResult::ERROR_ACCESS_DENIED));
        assert!(s.check(0x10000, 0x3000, Access::Read));
        assert!(!s.check(0x10000, 0x3001, Access::Read));
        assert!(!s.check(0x10000, 1, Access::Write));
    }

    #[test]
    fn overlapping_or_unaligned_ranges_are_refused() {
        let mut s = space();
        s.add(PageBuf::new(4096).unwrap(), &[(0, 0x10000, 4096, UserPerm::ReadWrite)]).unwrap();
        assert!(s.add(PageBuf::new(4096).unwrap(), &[(0, 0x10000, 4096, UserPerm::ReadWrite)]).is_err());
        assert!(s.add(PageBuf::new(4096).unwrap(), &[(0, 0x20001, 4096, UserPerm::ReadWrite)]).is_err());
        assert!(s.add(PageBuf::new(4096).unwrap(), &[(0, 0x20000, 8192, UserPerm::ReadWrite)]).is_err());
    }

    #[test]
    fn removing_a_buffer_unmaps_it() {
        let mut s = space();
        s.activate().unwrap();
        let i = s.add(PageBuf::new(4096).unwrap(), &[(0, 0x40000, 4096, UserPerm::ReadWrite)]).unwrap();
        assert!(s.check(0x40000, 4096, Access::Write));
        s.remove(i);
        assert!(!s.check(0x40000, 1, Access::Read));
        assert_eq!(s.footprint(), 0);
    }
}
