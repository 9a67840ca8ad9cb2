//! oxtee's trusted OS (S-EL1) for QEMU `virt`. Entered by the monitor
//! through the TF-A `opteed` protocol; serves the OP-TEE SMC ABI.
#![no_std]
#![no_main]

mod arch;
mod entry;
mod mm;

extern crate alloc;

use buddy_system_allocator::LockedHeap;
use log::LevelFilter;
use oxtee_core::Os;
use oxtee_seclog::UartLogger;

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

static OS: spin::Once<Os> = spin::Once::new();

/// The OS's shared state (set up at cold boot, before any call is routed).
fn os() -> &'static Os {
    OS.get().expect("OS initialised before the monitor routes calls")
}

static LOGGER: UartLogger = UartLogger::new("os", arch::cpu_index);

fn init_logging() {
    LOGGER.init(arch::secure_uart(), LevelFilter::Info);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    LOGGER.emergency(format_args!("{info}"));
    arch::thread::abandon_current();
    arch::user::restore_ns_fp();
    arch::abort_current_call(arch::ABORT_CODE)
}
