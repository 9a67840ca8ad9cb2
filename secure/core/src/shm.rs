//! Shared memory the normal world hands to the OS: the reserved static pool,
//! buffers registered with REGISTER_SHM (non-contiguous page lists), and the
//! temporary memrefs of a single call. A registered buffer counts its users
//! so it cannot be unregistered while a call is using it; a call holds each
//! use through a guard (`ShmUse`) that the abort path releases.
//!
//! Registrations are bounded (`ShmLimits`: buffer count and total pages) and
//! their bookkeeping is allocated up front: nothing allocates while the
//! registry's lock is held.

use crate::nsmem::{BadAddr, NsMemory};
use alloc::sync::Arc;
use alloc::vec::Vec;
use oxtee_abi::addr::{NsPhys, NsRange};
use oxtee_abi::msg::{NONCONTIG_PAGE_SIZE, PAGE_LIST_ENTRIES};
use oxtee_guard::{Ledger, SpinLock};

const PAGE: u64 = NONCONTIG_PAGE_SIZE as u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShmError {
    /// Memory outside what the normal world may share, or unreadable.
    BadAddress,
    /// Malformed size, offset or page list.
    BadParameters,
    /// No registered buffer with this cookie.
    NotFound,
    /// Cookie already registered.
    Exists,
    /// In use by a running call.
    Busy,
    /// A limit is reached, or the heap is short.
    OutOfMemory,
}

impl From<BadAddr> for ShmError {
    fn from(_: BadAddr) -> Self {
        ShmError::BadAddress
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PageList {
    /// Physically contiguous pages from this one.
    Contig(NsPhys),
    /// Page addresses (a registered buffer's list is shared, not copied,
    /// by the calls that use it).
    List(Arc<Vec<NsPhys>>),
}

/// Normal-world memory a buffer occupies: page-granular pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pages {
    list: PageList,
    /// Index of the buffer's first page in `list`.
    start: usize,
    /// Offset of byte 0 in that page.
    first: u64,
    size: u64,
}

impl Pages {
    pub fn size(&self) -> u64 {
        self.size
    }

    fn page(&self, i: usize) -> NsPhys {
        match &self.list {
            PageList::Contig(base) => base.add(i as u64 * PAGE),
            PageList::List(v) => v[self.start + i],
        }
    }

    /// Physical pieces covering `[offs, offs+len)` of the buffer.
    fn pieces(&self, offs: u64, len: u64) -> impl Iterator<Item = (NsPhys, usize)> + '_ {
        let mut pos = self.first + offs;
        let end = pos + len;
        core::iter::from_fn(move || {
            if pos >= end {
                return None;
            }
            let page = self.page((pos / PAGE) as usize);
            let in_page = pos % PAGE;
            let n = (PAGE - in_page).min(end - pos);
            pos += n;
            Some((page.add(in_page), n as usize))
        })
    }

    pub fn read(&self, mem: &dyn NsMemory, offs: u64, out: &mut [u8]) -> Result<(), ShmError> {
        if offs.checked_add(out.len() as u64).is_none_or(|e| e > self.size) {
            return Err(ShmError::BadParameters);
        }
        let mut done = 0;
        for (pa, n) in self.pieces(offs, out.len() as u64) {
            mem.read(pa, &mut out[done..done + n])?;
            done += n;
        }
        Ok(())
    }

    pub fn write(&self, mem: &dyn NsMemory, offs: u64, data: &[u8]) -> Result<(), ShmError> {
        if offs.checked_add(data.len() as u64).is_none_or(|e| e > self.size) {
            return Err(ShmError::BadParameters);
        }
        let mut done = 0;
        for (pa, n) in self.pieces(offs, data.len() as u64) {
            mem.write(pa, &data[done..done + n])?;
            done += n;
        }
        Ok(())
    }

    /// The sub-range `[offs, offs+len)` as its own buffer (shares the page
    /// list; allocates nothing).
    pub fn slice(&self, offs: u64, len: u64) -> Result<Pages, ShmError> {
        if offs.checked_add(len).is_none_or(|e| e > self.size) {
            return Err(ShmError::BadParameters);
        }
        let pos = self.first + offs;
        Ok(Pages { list: self.list.clone(), start: self.start + (pos / PAGE) as usize, first: pos % PAGE, size: len })
    }

    /// Offset of byte 0 in the first page.
    pub fn first_offset(&self) -> u64 {
        self.first
    }

    /// Whole pages covering the buffer, as physically contiguous runs
    /// (address, length in bytes), first to last; none for an empty buffer.
    pub fn runs(&self) -> impl Iterator<Item = (NsPhys, u64)> + '_ {
        let n = if self.size == 0 { 0 } else { (self.first + self.size).div_ceil(PAGE) as usize };
        let mut i = 0;
        core::iter::from_fn(move || {
            if i >= n {
                return None;
            }
            let start = self.page(i);
            if let PageList::Contig(_) = self.list {
                // One run, however many pages (the host simulator maps
                // the whole host address range this way).
                let len = (n - i) as u64 * PAGE;
                i = n;
                return Some((start, len));
            }
            let mut len = PAGE;
            i += 1;
            while i < n && self.page(i) == start.add(len) {
                len += PAGE;
                i += 1;
            }
            Some((start, len))
        })
    }

    /// A buffer over whole pages (FF-A shares: page-granular, byte 0 at
    /// the start of the first page).
    pub fn from_pages(pages: Arc<Vec<NsPhys>>) -> Pages {
        let size = pages.len() as u64 * PAGE;
        Pages { list: PageList::List(pages), start: 0, first: 0, size }
    }

    /// A buffer over a given page list (tests).
    #[cfg(test)]
    pub(crate) fn from_list(pages: Vec<NsPhys>, first: u64, size: u64) -> Pages {
        Pages { list: PageList::List(Arc::new(pages)), start: 0, first, size }
    }

    /// The page addresses, first to last (tests).
    #[cfg(test)]
    pub(crate) fn page_addrs(&self) -> Vec<NsPhys> {
        let n = (self.first + self.size).div_ceil(PAGE).max(1) as usize;
        (0..n).map(|i| self.page(i)).collect()
    }
}

/// Where normal-world buffers may live.
#[derive(Clone, Copy, Debug)]
pub struct ShmConfig {
    /// Reserved static pool (contiguous TMEM must lie inside it).
    pub static_pool: Option<NsRange>,
    /// Normal-world RAM: pages of registered and non-contiguous buffers.
    pub ns_ram: NsRange,
}

/// How much the normal world may register.
#[derive(Clone, Copy, Debug)]
pub struct ShmLimits {
    pub buffers: usize,
    /// 4 KiB pages over all registered buffers (also the largest buffer).
    pub pages: u64,
}

struct Registered {
    cookie: u64,
    pages: Pages,
    npages: u64,
    users: usize,
    /// Taken by an RPC SHM_ALLOC answered with an FF-A memref: dropped
    /// from the registry before the SHM_FREE (`drop_adopted`).
    adopted: bool,
}

struct Registry {
    /// Sorted by cookie; capacity `limits.buffers`, allocated up front.
    entries: Vec<Registered>,
    pages: u64,
}

impl Registry {
    fn find(&self, cookie: u64) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&cookie, |r| r.cookie)
    }
}

pub struct ShmRegistry {
    config: ShmConfig,
    limits: ShmLimits,
    regs: SpinLock<Registry>,
    /// The normal world talks to us over FF-A: memrefs are FMEM (same
    /// attribute numbers as RMEM, cookies are FF-A handles).
    ffa: core::sync::atomic::AtomicBool,
}

/// Registry figures for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShmStats {
    pub buffers: usize,
    /// Uses held by running calls.
    pub users: usize,
    pub pages: u64,
}

impl ShmRegistry {
    pub fn new(config: ShmConfig, limits: ShmLimits) -> Self {
        ShmRegistry {
            config,
            limits,
            regs: SpinLock::new(Registry { entries: Vec::with_capacity(limits.buffers), pages: 0 }),
            ffa: core::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn config(&self) -> ShmConfig {
        self.config
    }

    pub fn limits(&self) -> ShmLimits {
        self.limits
    }

    /// Reads a chain of page lists at `list` (the low 12 bits are the
    /// buffer's offset in its first page) describing `size` bytes. The list
    /// being built is armed in `ledger` (an abort frees it).
    pub fn read_page_list(&self, mem: &dyn NsMemory, ledger: &Ledger, list: u64, size: u64) -> Result<Pages, ShmError> {
        let first = list % PAGE;
        let mut list_pa = NsPhys::new(list - first);
        if size.div_ceil(PAGE) > self.limits.pages {
            return Err(ShmError::BadParameters);
        }
        let count = (first + size).div_ceil(PAGE).max(1) as usize;
        let bytes = count * size_of::<NsPhys>();
        if !oxtee_guard::heap::room_for(bytes) {
            return Err(ShmError::OutOfMemory);
        }
        // The shared list is allocated first, so nothing is built that an
        // allocation failure could strand.
        crate::hold!(list = Arc::new(Vec::new()), in ledger, or Err(ShmError::OutOfMemory));
        let Some(v) = Arc::get_mut(list.as_mut().get()) else {
            return Err(ShmError::OutOfMemory);
        };
        v.try_reserve_exact(count).map_err(|_| ShmError::OutOfMemory)?;
        let mut entry = [0u8; 8];
        while v.len() < count {
            if !self.config.ns_ram.contains(list_pa, PAGE) {
                return Err(ShmError::BadAddress);
            }
            // Copy each entry once; the list page may change under us, but
            // we never read an entry twice.
            let here = (count - v.len()).min(PAGE_LIST_ENTRIES);
            for i in 0..here {
                mem.read(list_pa.add(8 * i as u64), &mut entry)?;
                let pa = NsPhys::new(u64::from_le_bytes(entry));
                if !pa.is_aligned(PAGE) || !self.config.ns_ram.contains(pa, PAGE) {
                    return Err(ShmError::BadAddress);
                }
                v.push(pa);
            }
            if v.len() < count {
                mem.read(list_pa.add(8 * PAGE_LIST_ENTRIES as u64), &mut entry)?;
                list_pa = NsPhys::new(u64::from_le_bytes(entry));
                if !list_pa.is_aligned(PAGE) {
                    return Err(ShmError::BadAddress);
                }
            }
        }
        Ok(Pages { list: PageList::List(list.as_mut().get().clone()), start: 0, first, size })
    }

    /// A contiguous buffer: must lie in the static pool.
    pub fn contiguous(&self, pa: NsPhys, size: u64) -> Result<Pages, ShmError> {
        let pool = self.config.static_pool.ok_or(ShmError::BadAddress)?;
        if !pool.contains(pa, size) {
            return Err(ShmError::BadAddress);
        }
        self.ns_contiguous(pa, size)
    }

    /// A physically contiguous buffer anywhere in normal-world RAM (RPC
    /// buffers the normal world allocated for us).
    pub fn ns_contiguous(&self, pa: NsPhys, size: u64) -> Result<Pages, ShmError> {
        if !self.config.ns_ram.contains(pa, size) {
            return Err(ShmError::BadAddress);
        }
        Ok(Pages { list: PageList::Contig(pa.align_down(PAGE)), start: 0, first: pa.page_offset(PAGE), size })
    }

    /// REGISTER_SHM in one step (see `check_register` and `insert`).
    pub fn register(
        &self,
        mem: &dyn NsMemory,
        ledger: &Ledger,
        cookie: u64,
        list: u64,
        size: u64,
    ) -> Result<(), ShmError> {
        self.check_register(cookie, size)?;
        let pages = self.read_page_list(mem, ledger, list, size)?;
        self.insert(cookie, pages)
    }

    /// Refuses early a registration that cannot succeed (checked again
    /// when it is inserted).
    pub fn check_register(&self, cookie: u64, size: u64) -> Result<(), ShmError> {
        if size == 0 || size.div_ceil(PAGE) > self.limits.pages {
            return Err(ShmError::BadParameters);
        }
        let r = self.regs.lock();
        if r.find(cookie).is_ok() {
            return Err(ShmError::Exists);
        }
        if r.entries.len() >= self.limits.buffers || r.pages.saturating_add(size.div_ceil(PAGE)) > self.limits.pages {
            return Err(ShmError::OutOfMemory);
        }
        Ok(())
    }

    /// Registers `pages` (from `read_page_list`) as buffer `cookie`.
    pub fn insert(&self, cookie: u64, pages: Pages) -> Result<(), ShmError> {
        let size = pages.size;
        let npages = (pages.first + size).div_ceil(PAGE);
        let mut r = self.regs.lock();
        let at = match r.find(cookie) {
            Ok(_) => return Err(ShmError::Exists),
            Err(at) => at,
        };
        if r.entries.len() >= self.limits.buffers || r.pages + npages > self.limits.pages {
            return Err(ShmError::OutOfMemory);
        }
        // Within the capacity reserved at boot: no allocation here.
        r.entries.insert(at, Registered { cookie, pages, npages, users: 0, adopted: false });
        r.pages += npages;
        Ok(())
    }

    pub fn unregister(&self, cookie: u64) -> Result<(), ShmError> {
        let removed = {
            let mut r = self.regs.lock();
            let i = r.find(cookie).map_err(|_| ShmError::NotFound)?;
            if r.entries[i].users > 0 {
                return Err(ShmError::Busy);
            }
            r.pages -= r.entries[i].npages;
            r.entries.remove(i)
        };
        // The page list is freed here, outside the lock (unless a call
        // still shares it through a slice it was handed earlier).
        drop(removed);
        Ok(())
    }

    /// Marks the FF-A conduit in use (the SPMC's first call).
    pub fn set_ffa_conduit(&self) {
        self.ffa.store(true, core::sync::atomic::Ordering::Release);
    }

    /// True once the normal world has spoken FF-A to us.
    pub fn ffa_conduit(&self) -> bool {
        self.ffa.load(core::sync::atomic::Ordering::Acquire)
    }

    /// True if `cookie` is registered.
    pub fn contains(&self, cookie: u64) -> bool {
        self.regs.lock().find(cookie).is_ok()
    }

    /// Takes `[offs, offs+size)` of registered buffer `cookie` for an RPC
    /// allocation the normal world answered with it (FF-A: memory it
    /// shared just before). Its registration is dropped by
    /// `drop_adopted` when the allocation is freed; adopting a buffer
    /// twice is refused.
    pub fn adopt(&self, cookie: u64, offs: u64, size: u64) -> Result<Pages, ShmError> {
        let mut r = self.regs.lock();
        let i = r.find(cookie).map_err(|_| ShmError::NotFound)?;
        let e = &mut r.entries[i];
        if e.adopted {
            return Err(ShmError::Exists);
        }
        let pages = e.pages.slice(offs, size)?;
        e.adopted = true;
        Ok(pages)
    }

    /// Drops the registration of an adopted buffer (nothing if `cookie` is
    /// not one, or while a call uses it). True if it was dropped.
    pub fn drop_adopted(&self, cookie: u64) -> bool {
        let removed = {
            let mut r = self.regs.lock();
            match r.find(cookie) {
                Ok(i) if r.entries[i].adopted && r.entries[i].users == 0 => {
                    r.pages -= r.entries[i].npages;
                    Some(r.entries.remove(i))
                }
                _ => None,
            }
        };
        removed.is_some()
    }

    /// Takes a use of `[offs, offs+size)` of registered buffer `cookie`.
    pub fn acquire(&self, cookie: u64, offs: u64, size: u64) -> Result<ShmUse<'_>, ShmError> {
        let mut r = self.regs.lock();
        let i = r.find(cookie).map_err(|_| ShmError::NotFound)?;
        let e = &mut r.entries[i];
        let pages = e.pages.slice(offs, size)?;
        e.users += 1;
        Ok(ShmUse { reg: self, cookie, pages, held: true })
    }

    /// Gives back a use whose `ShmUse` was turned into its cookie.
    pub(crate) fn release(&self, cookie: u64) {
        let mut r = self.regs.lock();
        if let Ok(i) = r.find(cookie) {
            r.entries[i].users = r.entries[i].users.saturating_sub(1);
        }
    }

    pub fn stats(&self) -> ShmStats {
        let r = self.regs.lock();
        ShmStats { buffers: r.entries.len(), users: r.entries.iter().map(|e| e.users).sum(), pages: r.pages }
    }
}

/// A use of a registered buffer; dropping it gives the use back.
pub struct ShmUse<'a> {
    reg: &'a ShmRegistry,
    cookie: u64,
    pages: Pages,
    held: bool,
}

impl ShmUse<'_> {
    pub fn pages(&self) -> &Pages {
        &self.pages
    }

    pub fn cookie(&self) -> u64 {
        self.cookie
    }

    /// Keeps the use without the guard: whoever takes the cookie must
    /// `release` it.
    pub(crate) fn into_cookie(mut self) -> u64 {
        self.held = false;
        self.cookie
    }
}

impl Drop for ShmUse<'_> {
    fn drop(&mut self) {
        if self.held {
            self.reg.release(self.cookie);
        }
    }
}

#[cfg(test)]
mod tests;
