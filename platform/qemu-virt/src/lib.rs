//! Facts about the QEMU `virt` machine (`secure=on`) that every world agrees
//! on: the memory map, CPU limits and the layout of the firmware package the
//! monitor boots from; in-place device-tree edits (`dtb`) and the speculation
//! mitigations the CPU needs (`cpu`). Pure logic, no hardware access.
#![no_std]
#![forbid(unsafe_code)]

pub mod cpu;
pub mod dtb;
pub mod fwpkg;
pub mod map;

/// Most CPUs the secure world is built for; QEMU `virt` gives one cluster.
pub const MAX_CPUS: usize = 8;

/// Trusted threads the OS provides per CPU (OP-TEE's default is 2 in total).
pub const THREADS_PER_CPU: usize = 2;

/// The hardware unique key trusted storage is keyed from. QEMU's `virt`
/// machine has no fused key, so this is a fixed, public value, as
/// upstream's default for boards without one: storage on this platform is
/// protected against nothing that can read this source. A real platform
/// reads its HUK from fuses or a key ladder here.
pub const HUK: [u8; 32] = *b"oxtee qemu-virt: not a secret!!!";

/// Stack of each trusted thread (the OS allocates them from its heap):
/// an RSA-4096 private key given as n, e, d only (its primes recovered
/// in the kernel) needs about 96 KiB.
pub const THREAD_STACK_SIZE: usize = 128 * 1024;

/// Size of each CPU's EL3 stack in the monitor.
pub const MONITOR_STACK_SIZE: usize = 16 * 1024;

/// Size of each CPU's stack for the OS's entry paths (fast calls, power events).
pub const OS_ENTRY_STACK_SIZE: usize = 32 * 1024;

/// What callers can make the trusted OS hold at once. Reaching a limit is an
/// error for the caller that asks for more (`TEE_ERROR_OUT_OF_MEMORY`, or
/// `TEE_ERROR_BUSY` where OP-TEE answers that), never a failure of the OS;
/// freeing what was taken makes room again. Sized so that all of them
/// together fit the 14.7 MiB secure heap with room for TA instances.
pub mod limits {
    /// Sessions open or being opened, from the normal world and from TAs.
    pub const SESSIONS: usize = 1024;
    /// Of those, sessions TAs opened to other TAs.
    pub const TA_SESSIONS: usize = 256;
    /// Buffers registered with REGISTER_SHM.
    pub const SHM_BUFFERS: usize = 1024;
    /// 4 KiB pages all registered buffers together may describe (512 MiB;
    /// 8 bytes of secure heap each).
    pub const SHM_PAGES: u64 = 1 << 17;
    /// TA instances loaded at once (each has its own ASID, of 255).
    pub const TA_INSTANCES: usize = 64;
    /// Parameter copies (memrefs copied into TAs): each trusted thread may
    /// always use this much, whatever other calls hold...
    pub const PARAM_RESERVE_PER_THREAD: u64 = 128 << 10;
    /// ...and calls share this much beyond their reserve.
    pub const PARAM_SHARED: u64 = 4 << 20;
}

/// Linear CPU index from MPIDR_EL1 (Aff0 within Aff1 clusters of 8, as QEMU
/// numbers them). `None` for CPUs this build does not support.
pub const fn cpu_index(mpidr: u64) -> Option<usize> {
    let aff0 = (mpidr & 0xff) as usize;
    let aff1 = ((mpidr >> 8) & 0xff) as usize;
    let aff2 = (mpidr >> 16) & 0xff;
    let aff3 = (mpidr >> 32) & 0xff;
    if aff0 >= 8 || aff2 != 0 || aff3 != 0 {
        return None;
    }
    let idx = aff1 * 8 + aff0;
    if idx < MAX_CPUS { Some(idx) } else { None }
}

/// MPIDR affinity value (as PSCI takes it) of a linear CPU index.
pub const fn cpu_mpidr(index: usize) -> u64 {
    (((index / 8) << 8) | (index % 8)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_index_round_trips_and_rejects_foreign_affinities() {
        for i in 0..MAX_CPUS {
            assert_eq!(cpu_index(cpu_mpidr(i)), Some(i));
            // MPIDR_EL1 bit 31 (RES1) and U/MT bits do not change the index.
            assert_eq!(cpu_index(cpu_mpidr(i) | 0x8000_0000), Some(i));
        }
        assert_eq!(cpu_index(8), None);
        assert_eq!(cpu_index(0x1_0000), None);
        assert_eq!(cpu_index(0x1_0000_0000), None);
        assert_eq!(cpu_index(0x0100), None); // aff1=1 -> index 8, past MAX_CPUS
    }
}
