//! The global allocator: a first-fit free list over the TA's `ta_heap`
//! (sized by `data_size`, like upstream's `TA_DATA_SIZE`), set up on the
//! first allocation.

use super::InstanceCell;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;

struct TaAllocator(InstanceCell<Heap>);

impl TaAllocator {
    fn with_heap<R>(&self, f: impl FnOnce(&mut Heap) -> R) -> R {
        let mut heap = self.0.borrow_mut();
        if heap.size() == 0 {
            let (start, len) = super::config().heap.region();
            // SAFETY: `ta_heap` is memory of this image that nothing but
            // this allocator uses (see `TaHeap`), valid for `len` bytes for
            // the life of the instance, and it is handed over only once
            // (the size is non-zero afterwards).
            unsafe { heap.init(start, len) };
        }
        f(&mut heap)
    }
}

// SAFETY: blocks come from `Heap::allocate_first_fit`, which returns
// disjoint blocks that fit the layout, and are given back only as they
// were handed out.
unsafe impl GlobalAlloc for TaAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.with_heap(|h| h.allocate_first_fit(layout).map_or(core::ptr::null_mut(), NonNull::as_ptr))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: the caller gives back a block `alloc` returned for
            // this layout.
            self.with_heap(|h| unsafe { h.deallocate(p, layout) });
        }
    }
}

#[global_allocator]
static ALLOCATOR: TaAllocator = TaAllocator(InstanceCell::new(Heap::empty()));

/// (bytes in use, heap size).
pub(crate) fn heap_stats() -> (usize, usize) {
    ALLOCATOR.with_heap(|h| (h.used(), h.size()))
}
