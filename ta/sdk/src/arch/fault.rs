//! Fault injection for negative tests (feature `fault-injection`): memory
//! accesses and jumps a TA must not be able to make. Each is expected to
//! trap so the kernel kills the TA; if the kernel lets one through, the
//! access happens and the caller reports it. Never enable this feature in
//! a TA that does anything else: these functions touch memory no Rust
//! object owns, in assembly so the compiler assumes nothing about them.

use core::arch::asm;

/// Reads the u64 at `addr`.
pub fn read_u64(addr: usize) -> u64 {
    let value: u64;
    // SAFETY: a load from an address no Rust reference covers; either it
    // faults (the point of the test) or it yields whatever bytes are there,
    // which are plain data. Nothing is assumed about the value.
    unsafe { asm!("ldr {v}, [{a}]", a = in(reg) addr, v = out(reg) value, options(nostack, readonly)) };
    value
}

/// Writes `value` to the u64 at `addr`.
pub fn write_u64(addr: usize, value: u64) {
    // SAFETY: a store meant to fault: the test aims it at memory the
    // kernel maps read-only or not at all (code, constants, the OS).
    // Should the kernel allow it, the test fails and the TA is not used
    // further.
    unsafe { asm!("str {v}, [{a}]", a = in(reg) addr, v = in(reg) value, options(nostack)) }
}

/// Branches to `addr` as if it were a function taking and returning
/// nothing.
pub fn jump(addr: usize) {
    // SAFETY: meant to fault on an address the kernel maps non-executable;
    // the target the test uses holds a single `ret`, so should the kernel
    // allow it, control comes straight back with only x30 changed (listed).
    unsafe { asm!("blr {0}", in(reg) addr, out("x30") _, clobber_abi("C")) }
}

/// Executes an undefined instruction.
pub fn undefined_instruction() -> ! {
    // SAFETY: `udf` always traps; the kernel kills the TA.
    unsafe { asm!("udf #0", options(noreturn, nomem, nostack)) }
}
