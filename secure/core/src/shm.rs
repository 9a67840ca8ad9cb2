//! Shared memory the normal world hands to the OS: the reserved static pool,
//! buffers registered with REGISTER_SHM (non-contiguous page lists), and the
//! temporary memrefs of a single call. A registered buffer counts its users
//! so it cannot be unregistered while a call is using it.

use crate::nsmem::{BadAddr, NsMemory};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use oxtee_abi::msg::{NONCONTIG_PAGE_SIZE, PAGE_LIST_ENTRIES};

const PAGE: u64 = NONCONTIG_PAGE_SIZE as u64;
/// Largest buffer one page list may describe (1 GiB): bounds secure memory
/// spent on a hostile registration.
pub const MAX_BUFFER: u64 = 1 << 30;

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
    OutOfMemory,
}

impl From<BadAddr> for ShmError {
    fn from(_: BadAddr) -> Self {
        ShmError::BadAddress
    }
}

/// Normal-world memory a buffer occupies: page-granular pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pages {
    pages: Vec<u64>,
    /// Offset of byte 0 in the first page.
    first: u64,
    size: u64,
}

impl Pages {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Physical pieces covering `[offs, offs+len)` of the buffer.
    fn pieces(&self, offs: u64, len: u64) -> impl Iterator<Item = (u64, usize)> + '_ {
        let mut pos = self.first + offs;
        let end = pos + len;
        core::iter::from_fn(move || {
            if pos >= end {
                return None;
            }
            let page = self.pages[(pos / PAGE) as usize];
            let in_page = pos % PAGE;
            let n = (PAGE - in_page).min(end - pos);
            pos += n;
            Some((page + in_page, n as usize))
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

    /// The sub-range `[offs, offs+len)` as its own buffer.
    pub fn slice(&self, offs: u64, len: u64) -> Result<Pages, ShmError> {
        if offs.checked_add(len).is_none_or(|e| e > self.size) {
            return Err(ShmError::BadParameters);
        }
        let start = self.first + offs;
        let first_page = (start / PAGE) as usize;
        let last_page = if len == 0 { first_page } else { ((start + len - 1) / PAGE) as usize };
        let pages = self.pages.get(first_page..=last_page).map(|p| p.to_vec()).unwrap_or_default();
        Ok(Pages { pages, first: start % PAGE, size: len })
    }
}

/// Where normal-world buffers may live.
#[derive(Clone, Copy, Debug)]
pub struct ShmConfig {
    /// Reserved static pool (contiguous TMEM must lie inside it).
    pub static_pool: Option<(u64, u64)>,
    /// Normal-world RAM: pages of registered and non-contiguous buffers.
    pub ns_ram: (u64, u64),
}

struct Registered {
    pages: Pages,
    users: usize,
}

pub struct ShmRegistry {
    config: ShmConfig,
    regs: spin::Mutex<BTreeMap<u64, Registered>>,
}

fn within(base: u64, size: u64, range: (u64, u64)) -> bool {
    base >= range.0 && size <= range.1 && base - range.0 <= range.1 - size
}

impl ShmRegistry {
    pub const fn new(config: ShmConfig) -> Self {
        ShmRegistry { config, regs: spin::Mutex::new(BTreeMap::new()) }
    }

    pub fn config(&self) -> ShmConfig {
        self.config
    }

    /// Reads a chain of page lists at `list` (the low 12 bits are the
    /// buffer's offset in its first page) describing `size` bytes.
    pub fn read_page_list(&self, mem: &dyn NsMemory, list: u64, size: u64) -> Result<Pages, ShmError> {
        let first = list % PAGE;
        let mut list_pa = list - first;
        if size > MAX_BUFFER {
            return Err(ShmError::BadParameters);
        }
        let count = (first + size).div_ceil(PAGE).max(1) as usize;
        let mut pages = Vec::new();
        pages.try_reserve_exact(count).map_err(|_| ShmError::OutOfMemory)?;
        let mut entry = [0u8; 8];
        while pages.len() < count {
            if !within(list_pa, PAGE, self.config.ns_ram) {
                return Err(ShmError::BadAddress);
            }
            // Copy each entry once; the list page may change under us, but
            // we never read an entry twice.
            let here = (count - pages.len()).min(PAGE_LIST_ENTRIES);
            for i in 0..here {
                mem.read(list_pa + 8 * i as u64, &mut entry)?;
                let pa = u64::from_le_bytes(entry);
                if pa % PAGE != 0 || !within(pa, PAGE, self.config.ns_ram) {
                    return Err(ShmError::BadAddress);
                }
                pages.push(pa);
            }
            if pages.len() < count {
                mem.read(list_pa + 8 * PAGE_LIST_ENTRIES as u64, &mut entry)?;
                list_pa = u64::from_le_bytes(entry);
                if !list_pa.is_multiple_of(PAGE) {
                    return Err(ShmError::BadAddress);
                }
            }
        }
        Ok(Pages { pages, first, size })
    }

    /// A contiguous buffer: must lie in the static pool.
    pub fn contiguous(&self, pa: u64, size: u64) -> Result<Pages, ShmError> {
        let pool = self.config.static_pool.ok_or(ShmError::BadAddress)?;
        if !within(pa, size, pool) {
            return Err(ShmError::BadAddress);
        }
        self.ns_contiguous(pa, size)
    }

    /// A physically contiguous buffer anywhere in normal-world RAM (RPC
    /// buffers the normal world allocated for us).
    pub fn ns_contiguous(&self, pa: u64, size: u64) -> Result<Pages, ShmError> {
        if size > MAX_BUFFER || !within(pa, size, self.config.ns_ram) {
            return Err(ShmError::BadAddress);
        }
        let first = pa % PAGE;
        let count = (first + size).div_ceil(PAGE).max(1);
        let base = pa - first;
        Ok(Pages { pages: (0..count).map(|i| base + i * PAGE).collect(), first, size })
    }

    pub fn register(&self, mem: &dyn NsMemory, cookie: u64, list: u64, size: u64) -> Result<(), ShmError> {
        if size == 0 {
            return Err(ShmError::BadParameters);
        }
        if self.regs.lock().contains_key(&cookie) {
            return Err(ShmError::Exists);
        }
        let pages = self.read_page_list(mem, list, size)?;
        let mut regs = self.regs.lock();
        if regs.contains_key(&cookie) {
            return Err(ShmError::Exists);
        }
        regs.insert(cookie, Registered { pages, users: 0 });
        Ok(())
    }

    pub fn unregister(&self, cookie: u64) -> Result<(), ShmError> {
        let mut regs = self.regs.lock();
        match regs.get(&cookie) {
            None => Err(ShmError::NotFound),
            Some(r) if r.users > 0 => Err(ShmError::Busy),
            Some(_) => {
                regs.remove(&cookie);
                Ok(())
            }
        }
    }

    /// Takes a use of `[offs, offs+size)` of registered buffer `cookie`;
    /// give it back with `release`.
    pub fn acquire(&self, cookie: u64, offs: u64, size: u64) -> Result<Pages, ShmError> {
        let mut regs = self.regs.lock();
        let r = regs.get_mut(&cookie).ok_or(ShmError::NotFound)?;
        let pages = r.pages.slice(offs, size)?;
        r.users += 1;
        Ok(pages)
    }

    pub fn release(&self, cookie: u64) {
        if let Some(r) = self.regs.lock().get_mut(&cookie) {
            r.users = r.users.saturating_sub(1);
        }
    }

    /// (registered buffers, uses held by running calls).
    pub fn stats(&self) -> (usize, usize) {
        let regs = self.regs.lock();
        (regs.len(), regs.values().map(|r| r.users).sum())
    }
}

#[cfg(test)]
mod tests;
