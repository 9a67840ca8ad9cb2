//! Per-CPU storage of world contexts. Each CPU only ever touches its own
//! slot, which is what makes handing out `&mut` sound.

use crate::context::CpuContext;
use core::cell::UnsafeCell;
use oxtee_platform::MAX_CPUS;

struct CpuSlot(UnsafeCell<CpuContext>);

// SAFETY: slot i is only ever accessed by CPU i (see `this_cpu_context`).
unsafe impl Sync for CpuSlot {}

static CPUS: [CpuSlot; MAX_CPUS] = [const { CpuSlot(UnsafeCell::new(CpuContext::new_const())) }; MAX_CPUS];

/// This CPU's context. Each CPU only ever takes its own slot, and the
/// monitor runs with interrupts masked, so the borrow is never shared.
pub fn this_cpu_context() -> &'static mut CpuContext {
    let cpu = super::this_cpu();
    // SAFETY: slot `cpu` belongs to the executing CPU alone (see above), and
    // callers do not hold two of these borrows at once.
    unsafe { &mut *CPUS[cpu].0.get() }
}

/// Top of CPU `cpu`'s EL3 stack (as set by the entry assembly).
pub fn stack_top(cpu: usize) -> u64 {
    unsafe extern "C" {
        static __stacks_end: u8;
    }
    let end = &raw const __stacks_end as u64;
    end - (cpu as u64) * oxtee_platform::MONITOR_STACK_SIZE as u64
}
