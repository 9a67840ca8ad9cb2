//! Interrupts at S-EL1. Native (secure) interrupts are handled here;
//! foreign (normal-world) interrupts that arrive while a trusted thread runs
//! suspend the thread with RPC_FOREIGN_INTR, so the normal world serves
//! them and resumes the thread afterwards.

use super::{gic, thread, timer};
use core::arch::asm;

pub const KIND_IRQ: u64 = 5;
pub const KIND_FIQ: u64 = 6;

/// Handles every pending native interrupt.
pub fn handle_native() {
    loop {
        let irq = gic::ack();
        if irq.intid >= gic::SPURIOUS - 3 {
            return;
        }
        if irq.intid == timer::INTID {
            // The sleeper re-checks its deadline and re-arms if needed.
            timer::disarm();
        }
        #[cfg(feature = "test-hooks")]
        if irq.intid == crate::entry::TEST_EVENT_SGI {
            crate::entry::test_event_top_half();
        }
        gic::end(irq);
    }
}

/// Entered from the IRQ/FIQ vectors with the interrupted state saved on the
/// current stack.
pub extern "C" fn interrupt(kind: u64) {
    // GICv3: secure interrupts are IRQs at S-EL1, normal-world ones FIQs.
    // GICv2: secure group 0 is FIQ, normal-world group 1 is IRQ.
    let native = if gic::is_v3() { kind == KIND_IRQ } else { kind == KIND_FIQ };
    if native {
        handle_native();
    } else {
        thread::foreign_interrupt_exit();
    }
}

/// Sleeps until an interrupt is pending (taken or not).
pub fn wait_for_interrupt() {
    // SAFETY: wfi with interrupts masked just waits; nothing is touched.
    unsafe { asm!("dsb sy", "wfi", options(nostack)) };
}

/// Briefly unmasks IRQ and FIQ so pending interrupts are taken here.
pub fn open_window() {
    // SAFETY: the caller holds no lock and is on a thread stack, where the
    // interrupt handler may run (and suspend the thread).
    unsafe { asm!("msr daifclr, #3", "isb", "nop", "nop", "msr daifset, #3", "isb", options(nostack)) };
}
