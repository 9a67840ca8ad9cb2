//! A TA's address space as the core sees it: secure pages it owns, each
//! range mapped at a user address with one access kind. Every access the
//! OS makes on a TA's behalf goes through here, so a user pointer is only
//! ever honoured inside the TA's own mappings with the right permission.
//!
//! A space may also map normal-world pages (a client's memref, mapped for
//! one call as upstream does): non-secure, never executable. The kernel
//! reaches those only through `NsMemory` copies, each byte once per access.

use crate::env::{UserMapping, UserMmu, UserPerm, UserTables};
use crate::nsmem::NsMemory;
use crate::shm::Pages;
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

/// What backs a mapping.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Src {
    /// Index into `UserMem::bufs` (secure pages).
    Sec(usize),
    /// Index into `UserMem::ns` (normal-world pages).
    Ns(usize),
}

struct Mapped {
    va: UserVirt,
    len: u64,
    perm: UserPerm,
    /// The backing and the byte offset in it.
    src: Src,
    off: u64,
    kind: MapKind,
}

/// Whose memory a mapping is, as `TEE_CheckMemoryAccessRights` and the
/// system PTA see it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MapKind {
    /// The TA's own memory: image, stack, heap.
    Private,
    /// Zero-initialised memory the TA mapped through the system PTA
    /// (`shareable`: may be handed to another TA, not private).
    Zi { shareable: bool },
    /// A parameter of the running call; `ns`: its client is the normal
    /// world (the memory is shared with it).
    Param { ns: bool },
}

impl MapKind {
    fn private(self) -> bool {
        matches!(self, MapKind::Private | MapKind::Zi { shareable: false })
    }
}

/// What a range of user memory is, for `TEE_CheckMemoryAccessRights`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RangeKind {
    /// Some byte is normal-world memory.
    pub any_ns: bool,
    /// Every byte is.
    pub all_ns: bool,
    /// Some byte is a parameter shared with the caller.
    pub any_shared: bool,
}

/// Normal-world pages mapped into the space: the buffer and the whole
/// pages the tables map for it.
struct NsMapped {
    pages: Pages,
    page_va: UserVirt,
    page_len: u64,
    /// The TA's own memory (host simulator), not a client's buffer.
    own: bool,
}

/// Chunk in which the kernel hands normal-world bytes to `visit`.
const NS_CHUNK: usize = 512;

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
    ns: Vec<Option<NsMapped>>,
    /// How the kernel reaches normal-world pages (set with the first one).
    ns_mem: Option<&'static dyn NsMemory>,
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
            mem: UserMem { bufs: Vec::new(), maps: Vec::new(), ns: Vec::new(), ns_mem: None },
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
        self.add_kind(buf, ranges, MapKind::Private)
    }

    /// `add`, with mappings of `kind`.
    pub fn add_kind(
        &mut self,
        buf: PageBuf,
        ranges: &[(u64, UserVirt, u64, UserPerm)],
        kind: MapKind,
    ) -> Result<usize, TeeResult> {
        let page = PAGE_SIZE as u64;
        for &(off, va, len, _) in ranges {
            let end = off.checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if end > buf.len() || !off.is_multiple_of(page) || !va.is_aligned(page) || !len.is_multiple_of(page) {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let vend = va.get().checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            let hit = |a: u64, l: u64| va.get() < a + l && a < vend;
            if self.mem.maps.iter().any(|m| hit(m.va.get(), m.len))
                || self.mem.ns.iter().flatten().any(|n| hit(n.page_va.get(), n.page_len))
            {
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
            self.mem.maps.push(Mapped { va, len, perm, src: Src::Sec(idx), off, kind });
        }
        Ok(idx)
    }

    /// Unmaps buffer `idx` (from `add`) and hands it back.
    pub fn remove(&mut self, idx: usize) -> Option<PageBuf> {
        let mut tables = self.tables.as_mut();
        self.mem.maps.retain(|m| {
            if m.src == Src::Sec(idx) {
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

    /// Maps the normal-world buffer `pages` for the TA: its whole pages
    /// from `va` (page-aligned), non-secure. The TA (and the kernel on its
    /// behalf) may use the buffer's own bytes, which start at the returned
    /// address. Only in an active space. Returns (index, address of byte 0,
    /// user bytes the mapping takes).
    pub fn add_ns(
        &mut self,
        mem: &'static dyn NsMemory,
        pages: Pages,
        va: UserVirt,
        perm: UserPerm,
    ) -> Result<(usize, UserVirt, u64), TeeResult> {
        self.add_ns_as(mem, pages, va, perm, false)
    }

    /// Maps `pages` read/write at `va` as the TA's own private memory,
    /// reached through `mem` (the host simulator maps the host process's
    /// memory this way; see `user::fakes`).
    #[cfg(any(test, feature = "fakes"))]
    pub fn add_host(&mut self, mem: &'static dyn NsMemory, pages: Pages, va: UserVirt) -> Result<usize, TeeResult> {
        self.add_ns_as(mem, pages, va, UserPerm::ReadWrite, true).map(|(idx, _, _)| idx)
    }

    fn add_ns_as(
        &mut self,
        mem: &'static dyn NsMemory,
        pages: Pages,
        va: UserVirt,
        perm: UserPerm,
        own: bool,
    ) -> Result<(usize, UserVirt, u64), TeeResult> {
        let page = PAGE_SIZE as u64;
        if perm == UserPerm::ReadExec || !va.is_aligned(page) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let page_len: u64 = pages.runs().map(|(_, l)| l).sum();
        let start = va.add(pages.first_offset());
        let vend = va.get().checked_add(page_len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        let overlaps = |a: u64, l: u64| va.get() < a + l && a < vend;
        if self.mem.maps.iter().any(|m| matches!(m.src, Src::Sec(_)) && overlaps(m.va.get(), m.len))
            || self.mem.ns.iter().flatten().any(|n| overlaps(n.page_va.get(), n.page_len))
        {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let tables = self.tables.as_mut().ok_or(TeeResult::ERROR_BAD_STATE)?;
        self.mem.ns.try_reserve(1).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        self.mem.maps.try_reserve(1).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        let mut at = va;
        for (pa, len) in pages.runs() {
            if let Err(e) = tables.map_ns(at, pa, len, perm) {
                if at != va {
                    tables.unmap(va, at.get() - va.get());
                }
                return Err(e);
            }
            at = at.add(len);
        }
        let idx = match self.mem.ns.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.mem.ns.push(None);
                self.mem.ns.len() - 1
            }
        };
        let size = pages.size();
        self.mem.ns[idx] = Some(NsMapped { pages, page_va: va, page_len, own });
        self.mem.ns_mem = Some(mem);
        if size > 0 {
            self.mem.maps.push(Mapped {
                va: start,
                len: size,
                perm,
                src: Src::Ns(idx),
                off: 0,
                kind: if own { MapKind::Private } else { MapKind::Param { ns: true } },
            });
        }
        Ok((idx, start, page_len))
    }

    /// Marks buffer `idx` (from `add`) as a parameter shared with the
    /// caller (a copy of a calling TA's buffer).
    pub fn mark_shared(&mut self, idx: usize) {
        self.mem.maps.iter_mut().filter(|m| m.src == Src::Sec(idx)).for_each(|m| m.kind = MapKind::Param { ns: false });
    }

    /// What [va, va+len) is, if the TA may read all of it.
    pub fn kind(&self, va: UserVirt, len: u64) -> Option<RangeKind> {
        let end = va.get().checked_add(len)?;
        let mut k = RangeKind { all_ns: true, ..Default::default() };
        let mut at = va.get();
        while at < end {
            let (m, off) = self.mem.mapping_at(at, Access::Read)?;
            // Normal-world pages are always `Param { ns: true }` (the
            // simulator's own host memory is `Private`).
            let ns = m.kind == MapKind::Param { ns: true };
            k.any_ns |= ns;
            k.all_ns &= ns;
            k.any_shared |= !m.kind.private();
            at += (m.len - off).min(end - at);
        }
        Some(k)
    }

    /// Unmaps normal-world buffer `idx` (from `add_ns`) and hands it back.
    pub fn remove_ns(&mut self, idx: usize) -> Option<Pages> {
        let n = self.mem.ns.get_mut(idx)?.take()?;
        self.mem.maps.retain(|m| m.src != Src::Ns(idx));
        if let Some(t) = self.tables.as_mut()
            && n.page_len > 0
        {
            t.unmap(n.page_va, n.page_len);
        }
        while matches!(self.mem.ns.last(), Some(None)) {
            self.mem.ns.pop();
        }
        Some(n.pages)
    }

    /// The normal-world buffer the TA sees at [va, va+len), if that range
    /// lies in one (a memref a TA passes on: it goes by reference, as
    /// upstream).
    pub fn ns_slice(&self, va: UserVirt, len: u64) -> Option<Pages> {
        let end = va.get().checked_add(len)?;
        let m = self.mem.maps.iter().find(|m| va.get() >= m.va.get() && end <= m.va.get() + m.len)?;
        let Src::Ns(i) = m.src else { return None };
        let n = self.mem.ns.get(i)?.as_ref().filter(|n| !n.own)?;
        n.pages.slice(m.off + (va.get() - m.va.get()), len).ok()
    }

    /// Builds the translation tables for everything added so far.
    pub fn activate(&mut self) -> Result<(), TeeResult> {
        let mut maps: Vec<UserMapping> = Vec::new();
        maps.try_reserve_exact(self.mem.maps.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        // Normal-world pages are only mapped into active spaces.
        for m in &self.mem.maps {
            let Src::Sec(b) = m.src else { return Err(TeeResult::ERROR_BAD_STATE) };
            let pa = self.mem.bufs[b].as_ref().map(PageBuf::pa).unwrap_or_default().add(m.off);
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
        if !self.check(va, len, Access::Read) {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        }
        let mut result = Ok(());
        self.walk(va, len, Access::Read, |src, off, r| {
            if result.is_err() {
                return;
            }
            result = match src {
                Src::Sec(b) => match self.bufs.get(b).and_then(Option::as_ref) {
                    Some(buf) => f(&buf.bytes()[off..off + r.len()]),
                    None => Err(TeeResult::ERROR_ACCESS_DENIED),
                },
                // Normal-world bytes are copied (once) in small chunks: `f`
                // never sees memory the normal world can change under it.
                Src::Ns(_) => {
                    let mut chunk = [0u8; NS_CHUNK];
                    let mut done = 0;
                    let mut r2 = Ok(());
                    while done < r.len() && r2.is_ok() {
                        let n = (r.len() - done).min(NS_CHUNK);
                        r2 = self.ns_read(src, off + done, &mut chunk[..n]).and_then(|()| f(&chunk[..n]));
                        done += n;
                    }
                    r2
                }
            };
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

    /// Copies bytes of normal-world buffer `src` at `off`.
    fn ns_read(&self, src: Src, off: usize, out: &mut [u8]) -> Result<(), TeeResult> {
        let (Src::Ns(i), Some(mem)) = (src, self.ns_mem) else { return Err(TeeResult::ERROR_ACCESS_DENIED) };
        let n = self.ns.get(i).and_then(Option::as_ref).ok_or(TeeResult::ERROR_ACCESS_DENIED)?;
        n.pages.read(mem, off as u64, out).map_err(|_| TeeResult::ERROR_ACCESS_DENIED)
    }

    /// Calls `f(backing, byte offset in it, range in the caller's data)`
    /// for each piece of [va, va+len), if every byte allows `access`.
    fn walk(
        &self,
        va: UserVirt,
        len: u64,
        access: Access,
        mut f: impl FnMut(Src, usize, core::ops::Range<usize>),
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
            f(m.src, (m.off + off) as usize, done..done + n as usize);
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
        let mut missing = false;
        let ok = self.walk(va, out.len() as u64, Access::Read, |src, off, r| match src {
            Src::Sec(b) => match self.bufs.get(b).and_then(Option::as_ref) {
                Some(buf) => out[r.clone()].copy_from_slice(&buf.bytes()[off..off + r.len()]),
                None => missing = true,
            },
            Src::Ns(_) => missing |= self.ns_read(src, off, &mut out[r]).is_err(),
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
            let (src, start, n) = (m.src, (m.off + off) as usize, (m.len - off).min(end - at) as usize);
            let done = (at - va.get()) as usize;
            match src {
                Src::Sec(b) => {
                    let buf = self.bufs.get_mut(b).and_then(Option::as_mut).ok_or(TeeResult::ERROR_ACCESS_DENIED)?;
                    buf.bytes_mut()[start..start + n].copy_from_slice(&data[done..done + n]);
                }
                Src::Ns(i) => {
                    let (Some(ns), Some(mem)) = (self.ns.get(i).and_then(Option::as_ref), self.ns_mem) else {
                        return Err(TeeResult::ERROR_ACCESS_DENIED);
                    };
                    ns.pages
                        .write(mem, start as u64, &data[done..done + n])
                        .map_err(|_| TeeResult::ERROR_ACCESS_DENIED)?;
                }
            }
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

/// Most mappings one address space may hold (each `MAP_ZI` adds one, each
/// split of a mapping one more), so a TA cannot grow the kernel's list
/// without bound.
pub const MAX_MAPPINGS: usize = 1024;

impl UserSpace {
    /// True if no mapping touches [va, va+len).
    pub fn range_free(&self, va: u64, len: u64) -> bool {
        let Some(end) = va.checked_add(len) else { return false };
        !self.mem.maps.iter().any(|m| va < m.va.get() + m.len && m.va.get() < end)
            && !self.mem.ns.iter().flatten().any(|n| va < n.page_va.get() + n.page_len && n.page_va.get() < end)
    }

    /// Lowest page-aligned address `a` in [lo, hi) such that
    /// [a - pad_begin, a + len + pad_end) is free and inside [lo, hi).
    pub fn find_free(&self, lo: u64, hi: u64, len: u64, pad_begin: u64, pad_end: u64) -> Option<u64> {
        let page = PAGE_SIZE as u64;
        let mut taken: Vec<(u64, u64)> = Vec::new();
        taken.try_reserve_exact(self.mem.maps.len() + self.mem.ns.len()).ok()?;
        taken.extend(self.mem.maps.iter().map(|m| (m.va.get(), m.va.get() + m.len)));
        taken.extend(self.mem.ns.iter().flatten().map(|n| (n.page_va.get(), n.page_va.get() + n.page_len)));
        taken.sort_unstable();
        let round = |x: u64| x.checked_add(page - 1).map(|y| y & !(page - 1));
        let mut cand = round(lo.checked_add(pad_begin)?)?;
        loop {
            let start = cand.checked_sub(pad_begin)?;
            let end = cand.checked_add(len)?.checked_add(pad_end)?;
            if end > hi {
                return None;
            }
            match taken.iter().find(|(s, e)| *s < end && start < *e) {
                None => return Some(cand),
                Some(&(_, e)) => cand = round(e.checked_add(pad_begin)?)?,
            }
        }
    }

    /// Checks that every page of [va, va+len) is mapped by a `Zi` mapping:
    /// BAD_PARAMETERS if some byte is not mapped at all, ACCESS_DENIED if
    /// it belongs to something else (image, stack, parameters), as
    /// upstream answers for its permanent mappings.
    pub fn check_zi(&self, va: u64, len: u64) -> Result<(), TeeResult> {
        let end = va.checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        if len == 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut at = va;
        while at < end {
            let m = self.mem.maps.iter().find(|m| at >= m.va.get() && at - m.va.get() < m.len);
            let m = m.ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if !matches!(m.kind, MapKind::Zi { .. }) {
                return Err(TeeResult::ERROR_ACCESS_DENIED);
            }
            at = m.va.get() + m.len;
        }
        Ok(())
    }

    /// Splits the mapping holding `at` (if `at` is inside it, not at its
    /// start) in two.
    fn split_at(&mut self, at: u64) -> Result<(), TeeResult> {
        let Some(i) = self.mem.maps.iter().position(|m| at > m.va.get() && at < m.va.get() + m.len) else {
            return Ok(());
        };
        if self.mem.maps.len() >= MAX_MAPPINGS {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        self.mem.maps.try_reserve(1).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        let m = &mut self.mem.maps[i];
        let head = at - m.va.get();
        let tail = Mapped {
            va: UserVirt::new(at),
            len: m.len - head,
            perm: m.perm,
            src: m.src,
            off: m.off + head,
            kind: m.kind,
        };
        m.len = head;
        self.mem.maps.push(tail);
        Ok(())
    }

    /// Splits mappings so [va, va+len) starts and ends on mapping bounds;
    /// the indices of the mappings inside it.
    fn isolate(&mut self, va: u64, len: u64) -> Result<Vec<usize>, TeeResult> {
        let end = va.checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        self.split_at(va)?;
        self.split_at(end)?;
        let mut v = Vec::new();
        v.try_reserve_exact(self.mem.maps.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        v.extend(
            self.mem.maps.iter().enumerate().filter(|(_, m)| m.va.get() >= va && m.va.get() < end).map(|(i, _)| i),
        );
        Ok(v)
    }

    /// Drops buffers no mapping refers to any more.
    fn drop_unreferenced(&mut self) {
        for (i, b) in self.mem.bufs.iter_mut().enumerate() {
            if b.is_some() && !self.mem.maps.iter().any(|m| m.src == Src::Sec(i)) {
                *b = None;
            }
        }
        while matches!(self.mem.bufs.last(), Some(None)) {
            self.mem.bufs.pop();
        }
    }

    /// Unmaps [va, va+len) (page-aligned, checked by `check_zi`); a buffer
    /// is freed once none of it is mapped.
    pub fn unmap_range(&mut self, va: u64, len: u64) -> Result<(), TeeResult> {
        let inside = self.isolate(va, len)?;
        if let Some(t) = self.tables.as_mut() {
            for &i in &inside {
                let m = &self.mem.maps[i];
                t.unmap(m.va, m.len);
            }
        }
        let mut i = 0;
        self.mem.maps.retain(|_| {
            i += 1;
            !inside.contains(&(i - 1))
        });
        self.drop_unreferenced();
        Ok(())
    }

    /// Gives [va, va+len) access `perm`.
    pub fn protect(&mut self, va: u64, len: u64, perm: UserPerm) -> Result<(), TeeResult> {
        let inside = self.isolate(va, len)?;
        for i in inside {
            let m = &self.mem.maps[i];
            let Src::Sec(b) = m.src else { return Err(TeeResult::ERROR_ACCESS_DENIED) };
            let pa = self.mem.bufs[b].as_ref().map(PageBuf::pa).unwrap_or_default().add(m.off);
            let new = UserMapping { va: m.va, pa, len: m.len, perm };
            if perm == UserPerm::ReadExec {
                self.mmu.sync_code(pa, m.len);
            }
            if let Some(t) = self.tables.as_mut() {
                t.unmap(new.va, new.len);
                if let Err(e) = t.map(&new) {
                    // The old access stays recorded but the page is gone:
                    // the TA faults on it rather than seeing stale rights.
                    self.mem.maps[i].perm = perm;
                    return Err(e);
                }
            }
            self.mem.maps[i].perm = perm;
        }
        Ok(())
    }

    /// Moves the mappings of [old, old+len) to start at `new` (a free
    /// range, checked by the caller).
    pub fn move_range(&mut self, old: u64, len: u64, new: u64) -> Result<(), TeeResult> {
        let inside = self.isolate(old, len)?;
        for i in inside {
            let m = &self.mem.maps[i];
            let to = UserVirt::new(new + (m.va.get() - old));
            let Src::Sec(b) = m.src else { return Err(TeeResult::ERROR_ACCESS_DENIED) };
            let pa = self.mem.bufs[b].as_ref().map(PageBuf::pa).unwrap_or_default().add(m.off);
            let (from, len, perm) = (m.va, m.len, m.perm);
            // Recorded at the new place first: if the map fails the TA
            // faults there rather than the kernel using the old address.
            self.mem.maps[i].va = to;
            if let Some(t) = self.tables.as_mut() {
                t.unmap(from, len);
                t.map(&UserMapping { va: to, pa, len, perm })?;
            }
        }
        Ok(())
    }

    /// Number of mappings (for the `MAX_MAPPINGS` bound).
    pub fn mapping_count(&self) -> usize {
        self.mem.maps.len()
    }

    /// Bytes of `Zi` buffers this space holds.
    pub fn zi_bytes(&self) -> u64 {
        let mut total = 0;
        for (i, b) in self.mem.bufs.iter().enumerate() {
            if let Some(b) = b
                && self.mem.maps.iter().any(|m| m.src == Src::Sec(i) && matches!(m.kind, MapKind::Zi { .. }))
            {
                total += b.len();
            }
        }
        total
    }

    /// True if every byte of the range is the TA's private memory.
    pub fn is_private(&self, va: UserVirt, len: u64) -> bool {
        self.mem.all_kind(va, len, MapKind::private)
    }

    /// True if some byte of the range is shared with a normal-world
    /// client.
    pub fn touches_ns(&self, va: UserVirt, len: u64) -> bool {
        let Some(end) = va.get().checked_add(len) else { return false };
        self.mem
            .maps
            .iter()
            .any(|m| m.kind == MapKind::Param { ns: true } && va.get() < m.va.get() + m.len && m.va.get() < end)
            || self
                .mem
                .ns
                .iter()
                .flatten()
                .any(|n| !n.own && va.get() < n.page_va.get() + n.page_len && n.page_va.get() < end)
    }
}

impl UserSpace {
    /// True if every byte of the range is shared with a normal-world client.
    pub fn mem_all_ns(&self, va: UserVirt, len: u64) -> bool {
        self.mem.all_kind(va, len, |k| k == MapKind::Param { ns: true })
    }
}

impl UserMem {
    /// True if every byte of the range is the TA's private memory (not a
    /// parameter, not shareable memory).
    pub fn is_private(&self, va: UserVirt, len: u64) -> bool {
        self.all_kind(va, len, MapKind::private)
    }

    /// True if every byte of [va, va+len) is mapped by a mapping whose kind
    /// passes `f`.
    fn all_kind(&self, va: UserVirt, len: u64, f: impl Fn(MapKind) -> bool) -> bool {
        let Some(end) = va.get().checked_add(len) else { return false };
        let mut at = va.get();
        while at < end {
            let Some(m) = self.maps.iter().find(|m| at >= m.va.get() && at - m.va.get() < m.len) else {
                return false;
            };
            if !f(m.kind) {
                return false;
            }
            at = m.va.get() + m.len;
        }
        true
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
    fn zero_initialised_mappings_split_move_and_free() {
        let mut s = space();
        s.activate().unwrap();
        s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x10000), 4096, UserPerm::ReadWrite)]).unwrap();
        // Placement skips what is mapped and keeps the padding free.
        let a = s.find_free(0x10000, 0x40000, 3 * 4096, 0, 0).unwrap();
        assert_eq!(a, 0x11000);
        assert_eq!(s.find_free(0x10000, 0x40000, 4096, 4096, 4096), Some(0x12000));
        assert_eq!(s.find_free(0x10000, 0x13000, 3 * 4096, 0, 0), None);
        let zi = MapKind::Zi { shareable: false };
        s.add_kind(PageBuf::new(3 * 4096).unwrap(), &[(0, v(a), 3 * 4096, UserPerm::ReadWrite)], zi).unwrap();
        s.write(v(a), &[1; 3 * 4096]).unwrap();
        assert_eq!(s.check_zi(a, 3 * 4096), Ok(()));
        assert_eq!(s.check_zi(0x10000, 4096), Err(TeeResult::ERROR_ACCESS_DENIED));
        assert_eq!(s.check_zi(0x20000, 4096), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert!(s.is_private(v(a), 4096));
        // Read-only middle page.
        s.protect(a + 4096, 4096, UserPerm::ReadOnly).unwrap();
        assert!(!s.check(v(a + 4096), 1, Access::Write));
        assert!(s.check(v(a), 4096, Access::Write) && s.check(v(a + 8192), 4096, Access::Write));
        // Move it all; the data follows.
        s.move_range(a, 3 * 4096, 0x30000).unwrap();
        assert!(!s.check(v(a), 1, Access::Read));
        let mut out = [0u8; 3 * 4096];
        s.read(v(0x30000), &mut out).unwrap();
        assert!(out.iter().all(|b| *b == 1));
        assert!(!s.check(v(0x31000), 1, Access::Write));
        // Unmapping part keeps the buffer; unmapping the rest frees it.
        let before = s.footprint();
        s.unmap_range(0x31000, 4096).unwrap();
        assert_eq!(s.footprint(), before);
        assert_eq!(s.check_zi(0x30000, 3 * 4096), Err(TeeResult::ERROR_BAD_PARAMETERS));
        s.unmap_range(0x30000, 4096).unwrap();
        s.unmap_range(0x32000, 4096).unwrap();
        assert_eq!(s.footprint(), 4096);
        assert_eq!(s.zi_bytes(), 0);
    }

    #[test]
    fn parameters_are_not_private_and_client_ones_not_secure() {
        let mut s = space();
        s.add_kind(
            PageBuf::new(4096).unwrap(),
            &[(0, v(0x10000), 4096, UserPerm::ReadWrite)],
            MapKind::Param { ns: true },
        )
        .unwrap();
        s.add_kind(
            PageBuf::new(4096).unwrap(),
            &[(0, v(0x12000), 4096, UserPerm::ReadWrite)],
            MapKind::Zi { shareable: true },
        )
        .unwrap();
        assert!(!s.is_private(v(0x10000), 16) && !s.is_private(v(0x12000), 16));
        assert!(s.touches_ns(v(0x10ff0), 32) && s.mem_all_ns(v(0x10000), 4096));
        assert!(!s.touches_ns(v(0x12000), 4096));
    }

    #[test]
    fn normal_world_pages_are_mapped_non_secure_and_reached_by_copies() {
        use crate::nsmem::fake::FakeRam;
        use oxtee_abi::addr::NsPhys;
        let ram: &'static FakeRam = Box::leak(Box::new(FakeRam::new(0x4000_0000, 0x1_0000)));
        let mmu = FakeMmu::leak();
        let mut s = UserSpace::new(mmu);
        s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x10000), 4096, UserPerm::ReadWrite)]).unwrap();
        s.activate().unwrap();
        let n = |a: u64| NsPhys::new(0x4000_0000 + a);
        // Two contiguous pages, then one elsewhere; the buffer starts 0x10
        // into the first page.
        let size = 2 * 4096 + 100;
        let pages = Pages::from_list(alloc::vec![n(0x3000), n(0x4000), n(0x9000)], 0x10, size);
        assert_eq!(pages.runs().collect::<Vec<_>>(), alloc::vec![(n(0x3000), 0x2000), (n(0x9000), 0x1000)]);
        let data: Vec<u8> = (0..size as usize).map(|i| (i * 7) as u8).collect();
        ram.put(0x4000_3010, &data[..0x2000 - 0x10]).unwrap();
        ram.put(0x4000_9000, &data[0x2000 - 0x10..]).unwrap();
        // Executable, or over the TA's own memory: refused.
        assert!(s.add_ns(ram, pages.clone(), v(0x30000), UserPerm::ReadExec).is_err());
        assert!(s.add_ns(ram, pages.clone(), v(0x10000), UserPerm::ReadWrite).is_err());
        let (idx, at, len) = s.add_ns(ram, pages.clone(), v(0x30000), UserPerm::ReadWrite).unwrap();
        assert_eq!((at, len), (v(0x30010), 0x3000));
        assert_eq!(*mmu.ns.lock(), alloc::vec![(v(0x30000), n(0x3000), 0x2000), (v(0x32000), n(0x9000), 0x1000)]);
        // The kernel sees the buffer's bytes, and only those.
        let mut out = alloc::vec![0u8; size as usize];
        s.read(at, &mut out).unwrap();
        assert_eq!(out, data);
        assert!(!s.check(v(0x30000), 1, Access::Read));
        assert!(!s.check(at, size + 1, Access::Read));
        let mut seen = Vec::new();
        s.mem()
            .visit(at.add(5), size - 5, |b| {
                assert!(b.len() <= NS_CHUNK);
                seen.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, data[5..]);
        // Across the gap between the two runs.
        s.write(at.add(0x1fed), b"across").unwrap();
        let mut back = [0u8; 6];
        ram.get(0x4000_4ffd, &mut back[..3]).unwrap();
        ram.get(0x4000_9000, &mut back[3..]).unwrap();
        assert_eq!(&back, b"across");
        // A slice of it, as a TA passes it on.
        let sl = s.ns_slice(at.add(0x2000), 50).unwrap();
        let mut b2 = [0u8; 50];
        sl.read(ram, 0, &mut b2).unwrap();
        assert_eq!(&b2[..], &data[0x2000..0x2000 + 50]);
        assert!(s.ns_slice(at.add(0x2000), size).is_none());
        assert!(s.ns_slice(v(0x10000), 16).is_none());
        // What TEE_CheckMemoryAccessRights is told.
        let ns_only = RangeKind { any_ns: true, all_ns: true, any_shared: true };
        assert_eq!(s.kind(at, size), Some(ns_only));
        assert_eq!(s.kind(v(0x10000), 4096), Some(RangeKind { all_ns: false, ..Default::default() }));
        assert_eq!(s.kind(v(0x10000), 4097), None);
        assert_eq!(s.kind(at.add(size), 1), None);
        let copy = s.add(PageBuf::new(4096).unwrap(), &[(0, v(0x50000), 4096, UserPerm::ReadWrite)]).unwrap();
        s.mark_shared(copy);
        assert_eq!(s.kind(v(0x50000), 16), Some(RangeKind { any_shared: true, ..Default::default() }));
        s.remove(copy);
        // Removing it unmaps every page; the secure memory stays.
        assert_eq!(s.remove_ns(idx), Some(pages));
        assert!(mmu.ns.lock().is_empty());
        assert!(!s.check(at, 1, Access::Read));
        assert!(s.check(v(0x10000), 4096, Access::Write));
        assert_eq!(s.remove_ns(idx), None);
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
