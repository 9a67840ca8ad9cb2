//! oxtee's trusted OS (S-EL1) for QEMU `virt`. Entered by the monitor
//! through the TF-A `opteed` protocol, serving the OP-TEE SMC ABI, or (if
//! the monitor is an SPMD) as the S-EL1 SPMC serving OP-TEE's ABI over FF-A.
#![no_std]
#![no_main]

mod arch;
mod entry;
mod ffa;
mod mm;

extern crate alloc;

use log::LevelFilter;
use oxtee_core::Os;
use oxtee_guard::KernelHeap;
use oxtee_seclog::UartLogger;

#[global_allocator]
static HEAP: KernelHeap = KernelHeap::new();

static OS: spin::Once<Os> = spin::Once::new();

/// The OS's shared state (set up at cold boot, before any call is routed).
fn os() -> &'static Os {
    OS.get().expect("OS initialised before the monitor routes calls")
}

static LOGGER: UartLogger = UartLogger::new("os", arch::cpu_index);

fn init_logging() {
    let level = match oxtee_platform::map::secure_log_level(arch::boot_log_word()) {
        Some(1) => LevelFilter::Error,
        Some(2) => LevelFilter::Warn,
        Some(4) => LevelFilter::Debug,
        Some(5) => LevelFilter::Trace,
        _ => LevelFilter::Info,
    };
    LOGGER.init(arch::secure_uart(), level);
    if level != LevelFilter::Info {
        log::warn!("log level {level} (asked for at boot)");
    }
}

/// True if the panic is Rust's report of a failed allocation.
fn is_alloc_failure(info: &core::panic::PanicInfo) -> bool {
    struct Prefix {
        buf: [u8; 20],
        len: usize,
    }
    impl core::fmt::Write for Prefix {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    let mut p = Prefix { buf: [0; 20], len: 0 };
    let _ = core::fmt::write(&mut p, format_args!("{}", info.message()));
    &p.buf[..p.len] == b"memory allocation of"
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Nothing the panicking code held may block the report or the abort
    // (the abort path opens the locks again and sees the heap's).
    entry::note_released(arch::release_cpu_locks());
    // A panic while reporting one (formatting it) goes straight on.
    if !entry::panic_starts() {
        arch::abort_current_call(entry::KIND_PANIC)
    }
    let oom = is_alloc_failure(info);
    let why = if oom { " (out of memory: the call is aborted)" } else { "" };
    match info.location() {
        Some(l) => LOGGER.emergency(format_args!("panicked at {}:{}: {}{why}", l.file(), l.line(), info.message())),
        None => LOGGER.emergency(format_args!("panicked: {}{why}", info.message())),
    }
    arch::abort_current_call(if oom { entry::KIND_OUT_OF_MEMORY } else { entry::KIND_PANIC })
}
