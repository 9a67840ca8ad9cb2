//! The trusted OS's heap: a buddy allocator behind an abort-aware spin
//! lock, with a per-CPU note of the last failed allocation and a reserve.
//!
//! Allocation failure policy: buffers whose size an outside party chooses
//! (parameter copies, page lists, TA images) are allocated fallibly and
//! only if they leave `RESERVE` bytes free ([`room_for`]); the small,
//! fixed-size allocations of the OS's own bookkeeping (which Rust's stable
//! `Box`/`Arc` cannot make fallibly) then find memory. If one still fails,
//! the resulting panic ("memory allocation of N bytes failed") ends only
//! that call, answered "out of memory".

use crate::lock::SpinLock;
use buddy_system_allocator::Heap;
use core::alloc::Layout;
use core::ptr::NonNull;

/// Heap kept free for the OS's small bookkeeping allocations.
pub const RESERVE: usize = 512 << 10;

pub struct KernelHeap {
    pub(crate) heap: SpinLock<Heap<32>>,
}

impl Default for KernelHeap {
    fn default() -> Self {
        Self::new()
    }
}

impl KernelHeap {
    pub const fn new() -> Self {
        KernelHeap { heap: SpinLock::new(Heap::new()) }
    }

    pub(crate) fn alloc_inner(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.heap.lock().alloc(layout).ok()
    }

    /// Bytes handed out (rounded up to the buddy blocks actually used).
    pub fn used(&self) -> usize {
        self.heap.lock().stats_alloc_actual()
    }

    pub fn total(&self) -> usize {
        self.heap.lock().stats_total_bytes()
    }

    pub fn free(&self) -> usize {
        let h = self.heap.lock();
        h.stats_total_bytes().saturating_sub(h.stats_alloc_actual())
    }
}

fn active() -> Option<&'static KernelHeap> {
    crate::raw::active_heap()
}

/// True if a buffer of `bytes` may be allocated without eating into the
/// reserve. On the host (no kernel heap) always true.
pub fn room_for(bytes: usize) -> bool {
    match active() {
        Some(h) => h.free() >= bytes.saturating_add(RESERVE),
        None => true,
    }
}

/// Bytes of kernel heap in use (0 on the host).
pub fn used() -> usize {
    active().map(KernelHeap::used).unwrap_or(0)
}

/// Bytes the kernel heap manages (0 on the host).
pub fn total() -> usize {
    active().map(KernelHeap::total).unwrap_or(0)
}

/// This CPU's index (0 on the host).
#[inline(always)]
pub fn cpu_index() -> usize {
    crate::raw::cpu_index()
}
