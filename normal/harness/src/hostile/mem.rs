//! Normal-world memory the campaign points the OS at. Every address it
//! hands over is either refused by the OS by construction (secure memory,
//! devices, beyond RAM, misaligned) or lies in memory the harness never
//! uses for anything else: a scratch window per CPU above everything the
//! harness loads, so whatever the OS reads or writes there cannot corrupt
//! the harness or another CPU's calls. Also: page lists of every shape.

use super::rng::Rng;
use crate::arch;
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::msg::PAGE_LIST_ENTRIES;
use oxtee_platform::map;

pub const PAGE: u64 = 4096;
/// Scratch windows: 32 MiB per CPU from here, then one shared by all CPUs.
/// (RAM is 1 GiB from 0x4000_0000 as `cargo xtask` starts QEMU; the harness
/// image, its heap, the static pool and its page heap all lie below.)
pub const SCRATCH_BASE: u64 = 0x5000_0000;
const WINDOW: u64 = 32 << 20;
pub const SHARED_WINDOW: usize = oxtee_platform::MAX_CPUS;
/// End of normal-world RAM in every machine `cargo xtask` starts.
pub const RAM_END: u64 = 0x8000_0000;

/// A bump allocator over one scratch window. Pages are reused round-robin:
/// their contents never matter, only that nobody else uses them.
pub struct Scratch {
    base: u64,
    next: u64,
}

impl Scratch {
    pub fn new(window: usize) -> Scratch {
        Scratch { base: SCRATCH_BASE + window as u64 * WINDOW, next: 0 }
    }

    /// `n` contiguous pages (n at most the window).
    pub fn pages(&mut self, n: u64) -> u64 {
        let n = n.clamp(1, WINDOW / PAGE);
        if self.next + n * PAGE > WINDOW {
            self.next = 0;
        }
        let pa = self.base + self.next;
        self.next += n * PAGE;
        pa
    }

    pub fn page(&mut self) -> u64 {
        self.pages(1)
    }

    /// True if `[pa, pa+len)` lies inside this window.
    pub fn holds(&self, pa: u64, len: u64) -> bool {
        pa >= self.base && len <= WINDOW && pa - self.base <= WINDOW - len
    }
}

/// An address the OS must refuse for any shared memory, whatever the size:
/// secure RAM and flash, devices, beyond RAM, and the top of the space.
pub fn refused_addr(rng: &mut Rng) -> u64 {
    let page_or_not = |rng: &mut Rng, base: u64, span: u64| {
        let off = rng.below(span);
        base + if rng.chance(70) { off & !(PAGE - 1) } else { off }
    };
    match rng.below(9) {
        0 => page_or_not(rng, map::SECURE_RAM_BASE, map::SECURE_RAM_SIZE),
        1 => map::OS_BASE,
        2 => page_or_not(rng, map::SECURE_FLASH_BASE, map::SECURE_FLASH_SIZE),
        3 => {
            rng.pick(&[map::GICD_BASE, map::GICC_BASE, map::NS_UART_BASE, map::SECURE_UART_BASE, map::SECURE_GPIO_BASE])
        }
        4 => page_or_not(rng, RAM_END, 1 << 32),
        5 => page_or_not(rng, 0x1_0000_0000, 1 << 40),
        6 => u64::MAX - rng.below(2 * PAGE),
        7 => rng.next() | 1 << 63,
        _ => 0,
    }
}

/// A buffer in normal-world memory seen through its pages (the way the OS
/// sees a registered or non-contiguous buffer), for reading and writing
/// messages wherever a case put them.
#[derive(Clone, Debug)]
pub struct NsBuf {
    backing: Backing,
    /// Offset of byte 0 in the first page.
    pub first: u64,
    pub size: u64,
}

#[derive(Clone, Debug)]
enum Backing {
    Pages(Vec<u64>),
    /// Every page of the buffer is this one page (a looping page list).
    Alias(u64),
}

impl NsBuf {
    pub fn contiguous(pa: u64, size: u64) -> NsBuf {
        let first = pa % PAGE;
        let n = (first + size).div_ceil(PAGE).max(1);
        NsBuf { backing: Backing::Pages((0..n).map(|i| pa - first + i * PAGE).collect()), first, size }
    }

    fn page_at(&self, i: u64) -> Option<u64> {
        match &self.backing {
            Backing::Pages(p) => p.get(i as usize).copied(),
            Backing::Alias(p) => Some(*p),
        }
    }

    fn each(&self, offs: u64, len: usize, mut f: impl FnMut(u64, core::ops::Range<usize>)) -> bool {
        if offs.checked_add(len as u64).is_none_or(|e| e > self.size) {
            return false;
        }
        let mut done = 0usize;
        while done < len {
            let pos = self.first + offs + done as u64;
            let Some(page) = self.page_at(pos / PAGE) else { return false };
            let n = ((PAGE - pos % PAGE) as usize).min(len - done);
            f(page + pos % PAGE, done..done + n);
            done += n;
        }
        true
    }

    /// Writes `data` at `offs`; false (nothing written) if it does not fit.
    pub fn write(&self, offs: u64, data: &[u8]) -> bool {
        let mut pieces = Vec::new();
        if !self.each(offs, data.len(), |pa, r| pieces.push((pa, r))) {
            return false;
        }
        for (pa, r) in pieces {
            arch::write_mem(pa, &data[r]);
        }
        true
    }

    pub fn read(&self, offs: u64, out: &mut [u8]) -> bool {
        let mut pieces = Vec::new();
        if !self.each(offs, out.len(), |pa, r| pieces.push((pa, r))) {
            return false;
        }
        for (pa, r) in pieces {
            arch::read_mem(pa, &mut out[r]);
        }
        true
    }
}

/// What a page list describes, and whether the OS must accept it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Distinct scratch pages, lists chained as the ABI says.
    Valid,
    /// One list page whose entries all name one data page and whose next
    /// pointer names itself: any size, valid to the OS (pages may repeat).
    Looping,
    UnalignedEntry,
    RefusedEntry,
    /// The chain's next pointer is misaligned or refused memory.
    BadNext,
    /// The list pointer itself is refused memory.
    BadList,
    /// Bigger than any buffer the OS accepts.
    Huge,
    Empty,
}

impl ListKind {
    pub fn valid(self) -> bool {
        matches!(self, ListKind::Valid | ListKind::Looping)
    }

    pub fn random(rng: &mut Rng) -> ListKind {
        use ListKind::*;
        [Valid, Valid, Valid, Looping, Looping, UnalignedEntry, RefusedEntry, BadNext, BadList, Huge, Empty]
            [rng.below(11) as usize]
    }
}

/// A page list written into scratch memory.
pub struct PageList {
    /// buf_ptr for REGISTER_SHM / a NONCONTIG memref: list | offset.
    pub ptr: u64,
    pub size: u64,
    pub kind: ListKind,
    /// The buffer as the OS will see it (valid kinds only).
    pub buf: Option<NsBuf>,
}

/// Largest buffer the OS registers (its page-list bound).
pub const MAX_BUFFER: u64 = 1 << 30;
/// Valid lists with distinct pages stay small (they cost scratch pages).
const MAX_DISTINCT: u64 = 64;

/// Builds a page list of `kind` for about `size` bytes at a random offset.
pub fn page_list(rng: &mut Rng, scratch: &mut Scratch, kind: ListKind, size: u64) -> PageList {
    let offset = if rng.chance(60) { 0 } else { rng.below(PAGE) };
    let mut size = match kind {
        ListKind::Huge => MAX_BUFFER + 1 + rng.below(1 << 40),
        ListKind::Empty => 0,
        _ => size.max(1),
    };
    let per = PAGE_LIST_ENTRIES as u64;
    match kind {
        ListKind::Valid | ListKind::UnalignedEntry | ListKind::RefusedEntry => {
            size = size.min(MAX_DISTINCT * PAGE - offset);
        }
        // The chain must have a second list page for its link to matter.
        ListKind::BadNext => size = (per + 1 + rng.below(per)) * PAGE,
        _ => {}
    }
    let count = (offset + size).div_ceil(PAGE).max(1);
    let (ptr_page, buf) = match kind {
        ListKind::Valid | ListKind::UnalignedEntry | ListKind::RefusedEntry | ListKind::BadNext => {
            let data: Vec<u64> = (0..count).map(|_| scratch.page()).collect();
            let lists: Vec<u64> = (0..count.div_ceil(per)).map(|_| scratch.page()).collect();
            let bad_at = rng.below(count) as usize;
            for (li, chunk) in data.chunks(per as usize).enumerate() {
                let mut page = vec![0u8; PAGE as usize];
                for (i, p) in chunk.iter().enumerate() {
                    let mut e = *p;
                    if li * per as usize + i == bad_at {
                        match kind {
                            ListKind::UnalignedEntry => e += 1 + rng.below(PAGE - 1),
                            ListKind::RefusedEntry => e = refused_addr(rng),
                            _ => {}
                        }
                    }
                    page[8 * i..8 * i + 8].copy_from_slice(&e.to_le_bytes());
                }
                let next = match (lists.get(li + 1), kind) {
                    (Some(n), ListKind::BadNext) if rng.chance(50) => *n + 8 * rng.range(1, 511),
                    (Some(_), ListKind::BadNext) => refused_addr(rng) & !(PAGE - 1),
                    (Some(n), _) => *n,
                    (None, _) => 0,
                };
                page[PAGE as usize - 8..].copy_from_slice(&next.to_le_bytes());
                arch::write_mem(lists[li], &page);
            }
            let buf = (kind == ListKind::Valid).then_some(NsBuf { backing: Backing::Pages(data), first: offset, size });
            (lists[0], buf)
        }
        ListKind::Looping | ListKind::Huge | ListKind::Empty => {
            let (list, data) = (scratch.page(), scratch.page());
            let mut page = vec![0u8; PAGE as usize];
            for i in 0..per as usize {
                page[8 * i..8 * i + 8].copy_from_slice(&data.to_le_bytes());
            }
            page[PAGE as usize - 8..].copy_from_slice(&list.to_le_bytes());
            arch::write_mem(list, &page);
            let buf =
                (kind == ListKind::Looping).then_some(NsBuf { backing: Backing::Alias(data), first: offset, size });
            (list, buf)
        }
        ListKind::BadList => (refused_addr(rng) & !(PAGE - 1), None),
    };
    PageList { ptr: ptr_page | offset, size, kind, buf }
}

impl NsBuf {
    /// `[offs, offs+len)` of this buffer as a buffer of its own.
    pub fn slice(&self, offs: u64, len: u64) -> Option<NsBuf> {
        if offs.checked_add(len).is_none_or(|e| e > self.size) {
            return None;
        }
        Some(NsBuf { backing: self.backing.clone(), first: self.first + offs, size: len })
    }
}
