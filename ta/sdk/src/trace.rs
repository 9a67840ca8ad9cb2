//! Trace output on the secure console (the LOG syscall):
//! [`trace_println!`](crate::trace_println) and
//! [`trace_print!`](crate::trace_print), formatted without the heap.

use core::fmt;

const LINE: usize = 256;

/// Formats into a fixed buffer and logs it whenever it fills and on
/// `flush`, so tracing works with an exhausted heap (and in the panic
/// handler).
pub struct LineBuf {
    buf: [u8; LINE],
    len: usize,
}

impl LineBuf {
    pub const fn new() -> Self {
        Self { buf: [0; LINE], len: 0 }
    }

    /// Logs what is buffered.
    pub fn flush(&mut self) {
        if self.len > 0 {
            crate::sys::log(&self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl Default for LineBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for chunk in s.as_bytes().chunks(LINE) {
            if self.len + chunk.len() > LINE {
                self.flush();
            }
            self.buf[self.len..self.len + chunk.len()].copy_from_slice(chunk);
            self.len += chunk.len();
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>, newline: bool) {
    let mut line = LineBuf::new();
    let _ = fmt::write(&mut line, args);
    if newline {
        let _ = fmt::Write::write_str(&mut line, "\n");
    }
    line.flush();
}

/// Writes a line to the secure console (GP `trace`/`IMSG` equivalent).
#[macro_export]
macro_rules! trace_println {
    () => {
        $crate::trace::_print(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::trace::_print(format_args!($($arg)*), true)
    };
}

/// Writes to the secure console without a newline.
#[macro_export]
macro_rules! trace_print {
    ($($arg:tt)*) => {
        $crate::trace::_print(format_args!($($arg)*), false)
    };
}
