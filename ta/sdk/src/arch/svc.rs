//! The system-call instruction: number in x8, arguments in x0..x7, result
//! in x0 (upstream `utee_syscalls_a64.S`). A syscall is a function call as
//! far as registers go: the kernel keeps the AAPCS64 callee-saved ones.

use core::arch::asm;

/// Makes syscall `nr` with `args` and returns the kernel's x0.
///
/// # Safety
///
/// `args` must be what syscall `nr` expects: every argument the kernel
/// treats as a pointer must point to memory valid for the kernel to read
/// (and, for outputs, write) for the size that syscall uses, and nothing
/// else may hold a reference to memory the kernel writes.
#[inline(always)]
pub unsafe fn syscall(nr: u32, args: [usize; 8]) -> u32 {
    let ret: usize;
    // SAFETY: the caller vouches for the arguments; `svc #0` traps to the
    // kernel, which returns to the next instruction with x0 set and the
    // callee-saved registers, stack and memory outside the arguments
    // untouched (`clobber_abi("C")` covers the rest).
    unsafe {
        asm!(
            "svc #0",
            inlateout("x0") args[0] => ret,
            in("x1") args[1],
            in("x2") args[2],
            in("x3") args[3],
            in("x4") args[4],
            in("x5") args[5],
            in("x6") args[6],
            in("x7") args[7],
            in("x8") nr as usize,
            clobber_abi("C"),
            options(nostack),
        );
    }
    ret as u32
}

/// RETURN: ends this entry of the TA with `res`; the kernel never comes
/// back to this stack.
pub fn return_to_kernel(res: u32) -> ! {
    // SAFETY: RETURN takes one integer and no pointer, and the kernel does
    // not resume the TA after it.
    unsafe {
        asm!(
            "svc #0",
            in("x0") res as usize,
            in("x8") oxtee_abi::ta::SYS_RETURN as usize,
            options(noreturn, nostack),
        );
    }
}

/// PANIC: the kernel kills this TA instance.
pub fn panic(code: u32) -> ! {
    // SAFETY: PANIC takes the code (x0; x1 is the caller's stack pointer in
    // upstream's wrapper, unused by the kernel) and never returns.
    unsafe {
        asm!(
            "mov x1, sp",
            "svc #0",
            in("x0") code as usize,
            in("x8") oxtee_abi::ta::SYS_PANIC as usize,
            options(noreturn, nostack),
        );
    }
}
