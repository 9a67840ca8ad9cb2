//! The host backend (TA tests under `oxtee-sim`): the TA's code runs on a
//! simulator thread, and what is an `svc` on the device is a message to
//! the simulated kernel, which serves it with the real syscall handler.

/// Makes syscall `nr` with `args` and returns the kernel's x0.
///
/// # Safety
///
/// As on the device: every argument the kernel treats as a pointer must
/// point to memory valid for the kernel to read (and, for outputs,
/// write) for the size that syscall uses; the simulated kernel accesses
/// it at the same (host) address.
pub unsafe fn syscall(nr: u32, args: [usize; 8]) -> u32 {
    oxtee_sim::ta::syscall(nr, args)
}

/// PANIC: the kernel kills this TA instance (the TA thread unwinds).
pub fn panic(code: u32) -> ! {
    oxtee_sim::ta::panic(code)
}

/// The host has no TA heap: allocations go to the test process's
/// allocator.
pub(crate) fn heap_stats() -> (usize, usize) {
    (0, 0)
}
