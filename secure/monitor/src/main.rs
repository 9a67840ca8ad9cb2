//! oxtee's EL3 secure monitor for QEMU `virt`: boots the trusted OS through
//! the TF-A `opteed` protocol (or, with the package's `FLAG_SPMD`, as an
//! FF-A SPMD with the OS as S-EL1 SPMC), switches worlds, routes SMCs and
//! serves PSCI.
#![no_std]
#![no_main]

mod arch;
mod boot;
mod context;
mod dispatch;
mod psci;
mod spmd;

use log::LevelFilter;
use oxtee_seclog::UartLogger;

static LOGGER: UartLogger = UartLogger::new("mon", arch::this_cpu);

fn init_logging() {
    LOGGER.init(arch::power::secure_uart(), LevelFilter::Info);
}

/// Reports an unrecoverable monitor error and stops this CPU.
fn fatal(args: core::fmt::Arguments) -> ! {
    LOGGER.emergency(args);
    loop {
        arch::wfi();
    }
}

/// An exception taken at EL3 itself (a monitor bug).
extern "C" fn el3_fault(kind: u64, esr: u64, elr: u64, far: u64) -> ! {
    fatal(format_args!("EL3 exception kind {kind}: ESR {esr:#x} ELR {elr:#x} FAR {far:#x}"))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    fatal(format_args!("{info}"))
}
