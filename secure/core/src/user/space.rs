//! A TA's address space as the core sees it: secure pages it owns, each
//! range mapped at a user address with one access kind. Every access the
//! OS makes on a TA's behalf goes through here, so a user pointer is only
//! ever honoured inside the TA's own mappings with the right permission.

use crate::env::{UserMapping, UserMmu, UserPerm, UserTables};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use oxtee_abi::addr::{SecPhys, UserVirt};
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
    /// What it counts against the parameter-copy budget.
    charge: Option<Charge>,
}

/// Trusted threads whose parameter copies are accounted (more than the OS
/// ever has).
pub const BUDGET_THREADS: usize = 64;

/// Bytes of parameter copies (memrefs copied into TAs) that may exist at
/// once. Each trusted thread may always use `reserve` bytes, whatever
/// other calls hold; beyond that, calls share `shared` bytes. So no client
/// can starve the others' calls of parameter memory, and what all callers
/// can make the OS hold leaves the rest of the heap to page tables,
/// sessions and TAs.
pub struct ParamBudget {
    reserve: u64,
    shared: u64,
    shared_used: AtomicU64,
    own_used: [AtomicU64; BUDGET_THREADS],
}

impl ParamBudget {
    pub fn new(reserve_per_thread: u64, shared: u64) -> ParamBudget {
        ParamBudget {
            reserve: reserve_per_thread,
            shared,
            shared_used: AtomicU64::new(0),
            own_used: [const { AtomicU64::new(0) }; BUDGET_THREADS],
        }
    }

    /// Bytes charged right now (own reserves, shared).
    pub fn used(&self) -> (u64, u64) {
        (self.own_used.iter().map(|a| a.load(Ordering::Relaxed)).sum(), self.shared_used.load(Ordering::Relaxed))
    }

    fn charge(self: &Arc<Self>, thread: usize, bytes: u64) -> Option<Charge> {
        let own_slot = self.own_used.get(thread % BUDGET_THREADS)?;
        // Only this thread charges its own slot, so load-then-add is exact.
        let own = bytes.min(self.reserve.saturating_sub(own_slot.load(Ordering::Acquire)));
        let shared = bytes - own;
        if shared > 0 {
            let mut cur = self.shared_used.load(Ordering::Acquire);
            loop {
                let next = cur.checked_add(shared).filter(|n| *n <= self.shared)?;
                match self.shared_used.compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => break,
                    Err(now) => cur = now,
                }
            }
        }
        own_slot.fetch_add(own, Ordering::AcqRel);
        Some(Charge { budget: self.clone(), thread: thread % BUDGET_THREADS, own, shared })
    }
}

struct Charge {
    budget: Arc<ParamBudget>,
    thread: usize,
    own: u64,
    shared: u64,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.own_used[self.thread].fetch_sub(self.own, Ordering::AcqRel);
        self.budget.shared_used.fetch_sub(self.shared, Ordering::AcqRel);
    }
}

impl PageBuf {
    /// `bytes` of zeroed pages, if the heap has them beyond its reserve.
    pub fn new(bytes: u64) -> Result<PageBuf, TeeResult> {
        let n = usize::try_from(bytes.div_ceil(PAGE_SIZE as u64)).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        if !oxtee_guard::heap::room_for(n.saturating_mul(PAGE_SIZE)) {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let mut v: Vec<Page> = Vec::new();
        v.try_reserve_exact(n).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        v.resize(n, Page([0; PAGE_SIZE]));
        Ok(PageBuf { pages: v.into_boxed_slice(), charge: None })
    }

    /// A buffer for a copy of a call parameter, charged to `thread`'s share
    /// of `budget`.
    pub fn for_param(budget: &Arc<ParamBudget>, thread: usize, bytes: u64) -> Result<PageBuf, TeeResult> {
        let rounded = bytes.div_ceil(PAGE_SIZE as u64).saturating_mul(PAGE_SIZE as u64);
        let charge = budget.charge(thread, rounded).ok_or(TeeResult::ERROR_OUT_OF_MEMORY)?;
        let mut b = PageBuf::new(bytes)?;
        b.charge = Some(charge);
        Ok(b)
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
    pub fn pa(&self) -> SecPhys {
        SecPhys::new(self.pages.as_ptr() as u64)
    }
}

struct Mapped {
    va: UserVirt,
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

/// The TA memory the kernel may access on its behalf: the buffers and
/// where they are mapped. Separate from the tables so a syscall can borrow
/// it next to the instance's other state.
pub struct UserMem {
    bufs: Vec<Option<PageBuf>>,
    maps: Vec<Mapped>,
}

pub struct UserSpace {
    mmu: &'static dyn UserMmu,
    tables: Option<Box<dyn UserTables>>,
    mem: UserMem,
    /// The instance's crypto objects and operation states: they live and
    /// die with its address space.
    pub cryp: super::cryp::Table,
    /// The objects linked into the instance (main TA and libraries).
    pub dl: super::dynlink::Linked,
}

impl UserSpace {
    pub fn new(mmu: &'static dyn UserMmu) -> UserSpace {
        UserSpace {
            mmu,
            tables: None,
            mem: UserMem { bufs: Vec::new(), maps: Vec::new() },
            cryp: Default::default(),
            dl: Default::default(),
        }
    }

    /// The translation tables, once `activate` has built them.
    pub fn tables(&self) -> Option<&dyn UserTables> {
        self.tables.as_deref()
    }

    /// Adds `buf` and maps `ranges` of it: (offset in buf, user address,
    /// length, access). Before `activate` this only records the ranges.
    pub fn add(&mut self, buf: PageBuf, ranges: &[(u64, UserVirt, u64, UserPerm)]) -> Result<usize, TeeResult> {
        let page = PAGE_SIZE as u64;
        for &(off, va, len, _) in ranges {
            let end = off.checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if end > buf.len() || !off.is_multiple_of(page) || !va.is_aligned(page) || !len.is_multiple_of(page) {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let vend = va.get().checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if self.mem.maps.iter().any(|m| va.get() < m.va.get() + m.len && m.va.get() < vend) {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
        }
        let idx = self.mem.bufs.len();
        let pa = buf.pa();
        self.mem.bufs.try_reserve(1).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        self.mem.maps.try_reserve(ranges.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        self.mem.bufs.push(Some(buf));
        for &(off, va, len, perm) in ranges {
            if len == 0 {
                continue;
            }
            if let Some(t) = self.tables.as_mut() {
                // Code mapped into a running space (a dlopen'ed library).
                if perm == UserPerm::ReadExec {
                    self.mmu.sync_code(pa.add(off), len);
                }
                if let Err(e) = t.map(&UserMapping { va, pa: pa.add(off), len, perm }) {
                    drop(self.remove(idx));
                    return Err(e);
                }
            }
            self.mem.maps.push(Mapped { va, len, perm, buf: idx, off });
        }
        Ok(idx)
    }

    /// Unmaps buffer `idx` (from `add`) and hands it back.
    pub fn remove(&mut self, idx: usize) -> Option<PageBuf> {
        let mut tables = self.tables.as_mut();
        self.mem.maps.retain(|m| {
            if m.buf == idx {
                if let Some(t) = tables.as_mut() {
                    t.unmap(m.va, m.len);
                }
                false
            } else {
                true
            }
        });
        let buf = self.mem.bufs.get_mut(idx).and_then(Option::take);
        while matches!(self.mem.bufs.last(), Some(None)) {
            self.mem.bufs.pop();
        }
        buf
    }

    /// Builds the translation tables for everything added so far.
    pub fn activate(&mut self) -> Result<(), TeeResult> {
        let mut maps: Vec<UserMapping> = Vec::new();
        maps.try_reserve_exact(self.mem.maps.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        for m in &self.mem.maps {
            let pa = self.mem.bufs[m.buf].as_ref().map(PageBuf::pa).unwrap_or_default().add(m.off);
            maps.push(UserMapping { va: m.va, pa, len: m.len, perm: m.perm });
        }
        for m in maps.iter().filter(|m| m.perm == UserPerm::ReadExec) {
            self.mmu.sync_code(m.pa, m.len);
        }
        self.tables = Some(self.mmu.create(&maps)?);
        Ok(())
    }

    /// The memory and the crypto table, borrowed together.
    pub fn split(&mut self) -> (&mut UserMem, &mut super::cryp::Table) {
        (&mut self.mem, &mut self.cryp)
    }

    pub fn mem(&self) -> &UserMem {
        &self.mem
    }

    /// True if user mode may make `access` to every byte of the range.
    pub fn check(&self, va: UserVirt, len: u64, access: Access) -> bool {
        self.mem.check(va, len, access)
    }

    /// Copies user memory out; ERROR_ACCESS_DENIED if any byte is not
    /// readable by the TA.
    pub fn read(&self, va: UserVirt, out: &mut [u8]) -> Result<(), TeeResult> {
        self.mem.read(va, out)
    }

    /// Copies into user memory the TA may write.
    pub fn write(&mut self, va: UserVirt, data: &[u8]) -> Result<(), TeeResult> {
        self.mem.write(va, data)
    }

    pub fn read_u32(&self, va: UserVirt) -> Result<u32, TeeResult> {
        self.mem.read_u32(va)
    }

    pub fn write_u32(&mut self, va: UserVirt, v: u32) -> Result<(), TeeResult> {
        self.mem.write_u32(va, v)
    }

    /// Direct access to a whole buffer (for parameters the OS copies back).
    pub fn buf(&self, idx: usize) -> Option<&PageBuf> {
        self.mem.buf(idx)
    }

    /// Writable access to a whole buffer, whatever the TA's access to it
    /// (the loader's read-only pages).
    pub fn buf_mut(&mut self, idx: usize) -> Option<&mut PageBuf> {
        self.mem.bufs.get_mut(idx).and_then(Option::as_mut)
    }

    /// Bytes of secure memory this space holds.
    pub fn footprint(&self) -> u64 {
        self.mem.bufs.iter().flatten().map(PageBuf::len).sum()
    }
}

impl UserMem {
    /// Hands `f` the bytes of [va, va+len) where they lie, piece by piece
    /// (no copy), if the TA may read all of them; ERROR_ACCESS_DENIED
    /// otherwise, before `f` sees anything.
    pub fn visit(
        &self,
        va: UserVirt,
        len: u64,
        mut f: impl FnMut(&[u8]) -> Result<(), TeeResult>,
    ) -> Result<(), TeeResult> {
        let bufs = &self.bufs;
        if !self.check(va, len, Access::Read) {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        }
        let mut result = Ok(());
        self.walk(va, len, Access::Read, |b, off, r| {
            if result.is_ok() {
                result = match bufs.get(b).and_then(Option::as_ref) {
                    Some(buf) => f(&buf.bytes()[off..off + r.len()]),
                    None => Err(TeeResult::ERROR_ACCESS_DENIED),
                };
            }
        });
        result
    }

    /// The mapping holding user address `at` with `access`, and the offset
    /// of `at` in it.
    fn mapping_at(&self, at: u64, access: Access) -> Option<(&Mapped, u64)> {
        let m = self.maps.iter().find(|m| at >= m.va.get() && at - m.va.get() < m.len)?;
        let ok = match access {
            Access::Read => true,
            Access::Write => m.perm == UserPerm::ReadWrite,
        };
        ok.then(|| (m, at - m.va.get()))
    }

    /// Calls `f(buffer index, byte offset in it, range in the caller's
    /// data)` for each piece of [va, va+len), if every byte allows `access`.
    fn walk(
        &self,
        va: UserVirt,
        len: u64,
        access: Access,
        mut f: impl FnMut(usize, usize, core::ops::Range<usize>),
    ) -> bool {
        let Some(end) = va.get().checked_add(len) else { return false };
        // Check everything first: a copy is all or nothing.
        let mut at = va.get();
        while at < end {
            let Some((m, off)) = self.mapping_at(at, access) else { return false };
            at += (m.len - off).min(end - at);
        }
        let mut at = va.get();
        while at < end {
            let Some((m, off)) = self.mapping_at(at, access) else { return false };
            let n = (m.len - off).min(end - at);
            let done = (at - va.get()) as usize;
            f(m.buf, (m.off + off) as usize, done..done + n as usize);
            at += n;
        }
        true
    }

    /// True if user mode may make `access` to every byte of the range.
    pub fn check(&self, va: UserVirt, len: u64, access: Access) -> bool {
        self.walk(va, len, access, |_, _, _| {})
    }

    /// Copies user memory out; ERROR_ACCESS_DENIED if any byte is not
    /// readable by the TA.
    pub fn read(&self, va: UserVirt, out: &mut [u8]) -> Result<(), TeeResult> {
        let bufs = &self.bufs;
        let mut missing = false;
        let ok =
            self.walk(va, out.len() as u64, Access::Read, |b, off, r| match bufs.get(b).and_then(Option::as_ref) {
                Some(buf) => out[r.clone()].copy_from_slice(&buf.bytes()[off..off + r.len()]),
                None => missing = true,
            });
        if ok && !missing { Ok(()) } else { Err(TeeResult::ERROR_ACCESS_DENIED) }
    }

    /// Copies into user memory the TA may write.
    pub fn write(&mut self, va: UserVirt, data: &[u8]) -> Result<(), TeeResult> {
        if !self.check(va, data.len() as u64, Access::Write) {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        }
        let mut at = va.get();
        let end = at + data.len() as u64;
        while at < end {
            let Some((m, off)) = self.mapping_at(at, Access::Write) else { return Err(TeeResult::ERROR_ACCESS_DENIED) };
            let (b, start, n) = (m.buf, (m.off + off) as usize, (m.len - off).min(end - at) as usize);
            let done = (at - va.get()) as usize;
            let buf = self.bufs.get_mut(b).and_then(Option::as_mut).ok_or(TeeResult::ERROR_ACCESS_DENIED)?;
            buf.bytes_mut()[start..start + n].copy_from_slice(&data[done..done + n]);
            at += n as u64;
        }
        Ok(())
    }

    pub fn read_u32(&self, va: UserVirt) -> Result<u32, TeeResult> {
        let mut b = [0u8; 4];
        self.read(va, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    pub fn write_u32(&mut self, va: UserVirt, v: u32) -> Result<(), TeeResult> {
        self.write(va, &v.to_le_bytes())
    }

    /// Direct access to a whole buffer (for parameters the OS copies back).
    pub fn buf(&self, idx: usize) -> Option<&PageBuf> {
        self.bufs.get(idx).and_then(Option::as_ref)
    }
}

impl Drop for UserSpace {
    fn drop(&mut self) {
        // Tables (and the ASID) go before the pages they map.
        drop(self.tables.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::tests::FakeMmu;

    fn space() -> UserSpace {
        UserSpace::new(FakeMmu::leak())
    }

    fn v(a: u64) -> UserVirt {
        UserVirt::new(a)
    }

    #[test]
    fn reads_and_writes_respect_mappings() {
        let mut s = space();
        let b = PageBuf::new(3 * 4096).unwrap();
        s.add(
            b,
            &[
                (0, v(0x10000), 4096, UserPerm::ReadExec),
                (4096, v(0x11000), 4096, UserPerm::ReadOnly),
                (8192, v(0x12000), 4096, UserPerm::ReadWrite),
            ],
        )
        .unwrap();
        s.activate().unwrap();
        assert!(s.write(v(0x12000), &[1; 16]).is_ok());
        assert!(s.write(v(0x12ff0), &[2; 16]).is_ok());
        // Spans into unmapped memory, or into read-only memory.
        assert_eq!(s.write(v(0x12ff8), &[1; 16]), Err(TeeResult::ERROR_ACCESS_DENIED));
        assert_eq!(s.write(v(0x11ff8), &[1; 16]), Err(TeeResult::ERROR_ACCESS_DENIED));
        let mut out = [0u8; 32];
        // Reads may span code, rodata and data.
        assert!(s.read(v(0x11ff0), &mut out).is_ok());
        assert_eq!(&out[16..], &[1; 16]);
        assert_eq!(s.read(v(0xfff0), &mut out), Err(TeeResult::ERROR_ACCESS_DENIED));
        assert_eq!(s.read(v(u64::MAX - 4), &mut out), Err(TeeResult::ERROR_ACCESS_DENIED));
        assert!(s.check(v(0x10000), 0x3000, Access::Read));
        assert!(!s.check(v(0x10000), 0x3001, Access::Read));
        assert!(!s.check(v(0x10000), 1, Access::Write));
    }

    #[test]
    fn overlapping_or_unaligned_ranges_are_refused() {
        let mut s = space();
        s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x10000), 4096, UserPerm::ReadWrite)]).unwrap();
        assert!(s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x10000), 4096, UserPerm::ReadWrite)]).is_err());
        assert!(s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x20001), 4096, UserPerm::ReadWrite)]).is_err());
        assert!(s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x20000), 8192, UserPerm::ReadWrite)]).is_err());
    }

    #[test]
    fn removing_a_buffer_unmaps_it() {
        let mut s = space();
        s.activate().unwrap();
        let i = s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x40000), 4096, UserPerm::ReadWrite)]).unwrap();
        assert!(s.check(v(0x40000), 4096, Access::Write));
        s.remove(i);
        assert!(!s.check(v(0x40000), 1, Access::Read));
        assert_eq!(s.footprint(), 0);
    }

    #[test]
    fn each_thread_keeps_its_reserve_whatever_others_hold() {
        let b = Arc::new(ParamBudget::new(8192, 16384));
        // Thread 0 takes its reserve and all of the shared budget.
        let hog = PageBuf::for_param(&b, 0, 8192 + 16384).unwrap();
        assert_eq!(b.used(), (8192, 16384));
        assert_eq!(PageBuf::for_param(&b, 0, 1).err(), Some(TeeResult::ERROR_OUT_OF_MEMORY));
        // Thread 1 still has its own reserve, but no more.
        let small = PageBuf::for_param(&b, 1, 8000).unwrap();
        assert_eq!(PageBuf::for_param(&b, 1, 4096).err(), Some(TeeResult::ERROR_OUT_OF_MEMORY));
        drop(hog);
        assert_eq!(b.used(), (8192, 0));
        // With the shared budget back, thread 1 can go past its reserve.
        let big = PageBuf::for_param(&b, 1, 16384).unwrap();
        assert_eq!(b.used(), (8192, 16384));
        drop((small, big));
        assert_eq!(b.used(), (0, 0));
    }
}
