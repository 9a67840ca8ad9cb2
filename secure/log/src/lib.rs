//! Levelled logging for the secure world: one line per event on the secure
//! UART, tagged with the image and the CPU. Holds no hardware itself: the
//! image hands it an already-mapped UART.
#![no_std]
#![forbid(unsafe_code)]

use arm_pl011_uart::Uart;
use core::fmt::Write;
use log::{LevelFilter, Log, Metadata, Record};
use oxtee_guard::SpinLock;

pub struct UartLogger {
    tag: &'static str,
    cpu: fn() -> usize,
    /// Abort-aware: a fault while this CPU logs opens it (`oxtee_guard`).
    uart: SpinLock<Option<Uart<'static>>>,
}

impl UartLogger {
    pub const fn new(tag: &'static str, cpu: fn() -> usize) -> Self {
        Self { tag, cpu, uart: SpinLock::new(None) }
    }

    /// Installs `uart` and makes this the `log` backend.
    pub fn init(&'static self, uart: Uart<'static>, level: LevelFilter) {
        *self.uart.lock() = Some(uart);
        // A second call (e.g. a warm boot path) keeps the first logger.
        let _ = log::set_logger(self);
        log::set_max_level(level);
    }

    /// Writes a raw line without going through `log` (panics, early faults).
    pub fn emergency(&self, args: core::fmt::Arguments) {
        // Never block forever on a lock a faulting CPU may hold.
        let mut tries = 0u32;
        loop {
            if let Some(mut guard) = self.uart.try_lock() {
                if let Some(uart) = guard.as_mut() {
                    let _ = writeln!(uart, "[{} c{} PANIC] {}", self.tag, (self.cpu)(), args);
                }
                return;
            }
            tries += 1;
            if tries > 1_000_000 {
                return;
            }
            core::hint::spin_loop();
        }
    }
}

impl Log for UartLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => 'E',
            log::Level::Warn => 'W',
            log::Level::Info => 'I',
            log::Level::Debug => 'D',
            log::Level::Trace => 'T',
        };
        if let Some(uart) = self.uart.lock().as_mut() {
            let _ = writeln!(uart, "[{} c{} {}] {}", self.tag, (self.cpu)(), level, record.args());
        }
    }

    fn flush(&self) {}
}
