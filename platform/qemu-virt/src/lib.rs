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

/// Stack of each trusted thread (the OS allocates them from its heap).
pub const THREAD_STACK_SIZE: usize = 32 * 1024;

/// Size of each CPU's EL3 stack in the monitor.
pub const MONITOR_STACK_SIZE: usize = 16 * 1024;

/// Size of each CPU's stack for the OS's entry paths (fast calls, power events).
pub const OS_ENTRY_STACK_SIZE: usize = 32 * 1024;

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
