//! Crash reports: why an exception happened, in words (decoded from the
//! syndrome register), and a call stack from the frame-pointer chain. Used
//! for a TA the OS kills and for a fault in the OS itself; the lines they
//! print are what `cargo xtask symbolize` reads (see docs/debugging.md for
//! the format).
//!
//! Pure logic: memory is read through a caller-given function that checks
//! every access, so a hostile or corrupt chain ends the walk, never the OS.

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

/// Reports printed in full before the limiter thins them out.
pub const FULL_FIRST: u32 = 16;
/// After that, one report in this many is printed in full.
pub const FULL_EVERY: u32 = 256;

/// Decides which crash reports get the full dump. A crash loop (a client
/// that kills its TA again and again, or a test campaign of injected
/// faults) would otherwise flood a slow console with identical dumps:
/// the first [`FULL_FIRST`] reports and every [`FULL_EVERY`]th are full,
/// the others keep only their reason and pc lines.
pub struct Limiter(AtomicU32);

impl Limiter {
    pub const fn new() -> Limiter {
        Limiter(AtomicU32::new(0))
    }

    /// Counts one report: whether it gets the full dump, and its number
    /// (from 1).
    pub fn next(&self) -> (bool, u32) {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        (n < FULL_FIRST || n.is_multiple_of(FULL_EVERY), n.wrapping_add(1))
    }
}

impl Default for Limiter {
    fn default() -> Limiter {
        Limiter::new()
    }
}

/// Exception classes (ESR_ELx.EC) a crash can have.
pub mod ec {
    pub const UNKNOWN: u8 = 0x00;
    pub const WFX: u8 = 0x01;
    pub const FP_ACCESS: u8 = 0x07;
    pub const ILLEGAL_STATE: u8 = 0x0e;
    pub const SVC64: u8 = 0x15;
    pub const SYSREG: u8 = 0x18;
    pub const IABT_LOWER: u8 = 0x20;
    pub const IABT_SAME: u8 = 0x21;
    pub const PC_ALIGN: u8 = 0x22;
    pub const DABT_LOWER: u8 = 0x24;
    pub const DABT_SAME: u8 = 0x25;
    pub const SP_ALIGN: u8 = 0x26;
    pub const FP_EXC: u8 = 0x2c;
    pub const SERROR: u8 = 0x2f;
    pub const BREAKPOINT_LOWER: u8 = 0x30;
    pub const BREAKPOINT_SAME: u8 = 0x31;
    pub const STEP_LOWER: u8 = 0x32;
    pub const STEP_SAME: u8 = 0x33;
    pub const WATCHPOINT_LOWER: u8 = 0x34;
    pub const WATCHPOINT_SAME: u8 = 0x35;
    pub const BRK: u8 = 0x3c;
}

/// What kind of abort a fault status code (DFSC/IFSC) names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsc {
    AddressSize(u8),
    Translation(u8),
    AccessFlag(u8),
    Permission(u8),
    External,
    Alignment,
    TlbConflict,
    Other(u8),
}

impl Fsc {
    pub fn from_code(code: u8) -> Fsc {
        let level = code & 3;
        match code & 0x3f {
            0x00..=0x03 => Fsc::AddressSize(level),
            0x04..=0x07 => Fsc::Translation(level),
            0x08..=0x0b => Fsc::AccessFlag(level),
            0x0c..=0x0f => Fsc::Permission(level),
            0x10 => Fsc::External,
            0x21 => Fsc::Alignment,
            0x30 => Fsc::TlbConflict,
            c => Fsc::Other(c),
        }
    }

    /// No valid mapping at the address (as a TA sees it: unmapped).
    pub fn unmapped(self) -> bool {
        matches!(self, Fsc::Translation(_) | Fsc::AddressSize(_) | Fsc::AccessFlag(_))
    }
}

impl fmt::Display for Fsc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fsc::AddressSize(l) => write!(f, "address size fault (level {l})"),
            Fsc::Translation(l) => write!(f, "translation fault (level {l})"),
            Fsc::AccessFlag(l) => write!(f, "access flag fault (level {l})"),
            Fsc::Permission(l) => write!(f, "permission fault (level {l})"),
            Fsc::External => f.write_str("synchronous external abort"),
            Fsc::Alignment => f.write_str("alignment fault"),
            Fsc::TlbConflict => f.write_str("TLB conflict"),
            Fsc::Other(c) => write!(f, "fault status {c:#x}"),
        }
    }
}

/// A syndrome register value taken apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Esr {
    pub ec: u8,
    pub iss: u32,
}

impl Esr {
    pub fn new(esr: u64) -> Esr {
        Esr { ec: ((esr >> 26) & 0x3f) as u8, iss: (esr & 0x01ff_ffff) as u32 }
    }

    pub fn is_data_abort(self) -> bool {
        matches!(self.ec, ec::DABT_LOWER | ec::DABT_SAME)
    }

    pub fn is_instruction_abort(self) -> bool {
        matches!(self.ec, ec::IABT_LOWER | ec::IABT_SAME)
    }

    /// DFSC/IFSC, for an abort.
    pub fn fsc(self) -> Option<Fsc> {
        (self.is_data_abort() || self.is_instruction_abort()).then(|| Fsc::from_code((self.iss & 0x3f) as u8))
    }

    /// WnR: the data abort was a write (cache maintenance reports as write
    /// too; close enough for a report).
    pub fn write(self) -> bool {
        self.is_data_abort() && self.iss & (1 << 6) != 0
    }

    /// The exception class in words.
    pub fn class_name(self) -> &'static str {
        match self.ec {
            ec::UNKNOWN => "unknown reason (undefined instruction)",
            ec::WFX => "trapped WFI/WFE",
            ec::FP_ACCESS => "trapped FP/SIMD access",
            ec::ILLEGAL_STATE => "illegal execution state",
            ec::SVC64 => "SVC",
            ec::SYSREG => "trapped system register access",
            ec::IABT_LOWER => "instruction abort from a lower level",
            ec::IABT_SAME => "instruction abort",
            ec::PC_ALIGN => "PC alignment fault",
            ec::DABT_LOWER => "data abort from a lower level",
            ec::DABT_SAME => "data abort",
            ec::SP_ALIGN => "SP alignment fault",
            ec::FP_EXC => "floating-point exception",
            ec::SERROR => "SError",
            ec::BREAKPOINT_LOWER | ec::BREAKPOINT_SAME => "hardware breakpoint",
            ec::STEP_LOWER | ec::STEP_SAME => "software step",
            ec::WATCHPOINT_LOWER | ec::WATCHPOINT_SAME => "watchpoint",
            ec::BRK => "BRK instruction",
            _ => "unexpected exception class",
        }
    }
}

/// The syndrome in one phrase: `EC 0x24 data abort from a lower level,
/// translation fault (level 3), write`.
pub struct EsrText(pub u64);

impl fmt::Display for EsrText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = Esr::new(self.0);
        write!(f, "EC {:#04x} {}", e.ec, e.class_name())?;
        if let Some(fsc) = e.fsc() {
            write!(f, ", {fsc}")?;
            if e.is_data_abort() {
                f.write_str(if e.write() { ", write" } else { ", read" })?;
            }
        }
        if e.ec == ec::BRK {
            write!(f, " #{:#x}", e.iss & 0xffff)?;
        }
        Ok(())
    }
}

/// Where a stack lies: [bottom, top), with an unmapped guard page right
/// below `bottom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stack {
    pub bottom: u64,
    pub top: u64,
}

impl Stack {
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.bottom && addr.checked_add(len).is_some_and(|end| end <= self.top)
    }
}

/// Bytes below the stack's bottom a fault still counts as an overflow
/// (a frame bigger than the guard page may skip past it, though stack
/// probes normally touch the guard page first).
pub const OVERFLOW_SLACK: u64 = 64 << 10;

/// Why the code was stopped, in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Ran into the guard page below the stack (fault address, bytes
    /// below the stack's bottom).
    StackOverflow {
        far: u64,
        below: u64,
    },
    /// Access to an address with no mapping; `null` if in the first page.
    Unmapped {
        far: u64,
        write: bool,
        exec: bool,
        null: bool,
    },
    /// A write to read-only memory.
    WriteReadOnly {
        far: u64,
    },
    /// Execution of memory that is not executable.
    ExecNonExec {
        far: u64,
    },
    /// A read the mapping forbids (e.g. kernel-only memory).
    ReadForbidden {
        far: u64,
    },
    Alignment {
        far: u64,
    },
    PcAlignment {
        far: u64,
    },
    SpAlignment,
    Undefined,
    Breakpoint {
        imm: u16,
    },
    /// Any other exception (class and syndrome in the register line).
    Other {
        ec: u8,
    },
    /// TEE_Panic with this code.
    Panic {
        code: u32,
    },
}

impl Reason {
    /// Classifies the exception `esr` with fault address `far` taken with
    /// `sp` inside or below `stack`.
    pub fn of_fault(esr: u64, far: u64, sp: u64, stack: Option<Stack>) -> Reason {
        let e = Esr::new(esr);
        if let Some(fsc) = e.fsc() {
            if fsc.unmapped() {
                if let Some(s) = stack
                    && far < s.bottom
                    && s.bottom - far <= OVERFLOW_SLACK
                    && (s.bottom - far <= 4096 || sp < s.bottom.saturating_add(4096))
                {
                    return Reason::StackOverflow { far, below: s.bottom - far };
                }
                return Reason::Unmapped { far, write: e.write(), exec: e.is_instruction_abort(), null: far < 4096 };
            }
            return match fsc {
                Fsc::Permission(_) if e.is_instruction_abort() => Reason::ExecNonExec { far },
                Fsc::Permission(_) if e.write() => Reason::WriteReadOnly { far },
                Fsc::Permission(_) => Reason::ReadForbidden { far },
                Fsc::Alignment => Reason::Alignment { far },
                _ => Reason::Other { ec: e.ec },
            };
        }
        match e.ec {
            ec::UNKNOWN => Reason::Undefined,
            ec::PC_ALIGN => Reason::PcAlignment { far },
            ec::SP_ALIGN => Reason::SpAlignment,
            ec::BRK => Reason::Breakpoint { imm: (e.iss & 0xffff) as u16 },
            c => Reason::Other { ec: c },
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::StackOverflow { far, below } => {
                write!(f, "stack overflow: access to {far:#x}, {below} bytes below the stack, in the guard page")
            }
            Reason::Unmapped { far, write, exec, null } => {
                let what = if exec {
                    "execution at"
                } else if write {
                    "write to"
                } else {
                    "read of"
                };
                write!(f, "access to unmapped address: {what} {far:#x}")?;
                if null {
                    f.write_str(" (null pointer dereference)")?;
                }
                Ok(())
            }
            Reason::WriteReadOnly { far } => write!(f, "permission fault: write to read-only memory at {far:#x}"),
            Reason::ExecNonExec { far } => {
                write!(f, "permission fault: execution of non-executable memory at {far:#x}")
            }
            Reason::ReadForbidden { far } => write!(f, "permission fault: read of forbidden memory at {far:#x}"),
            Reason::Alignment { far } => write!(f, "alignment fault: misaligned access to {far:#x}"),
            Reason::PcAlignment { far } => write!(f, "alignment fault: misaligned pc {far:#x}"),
            Reason::SpAlignment => f.write_str("alignment fault: misaligned stack pointer"),
            Reason::Undefined => f.write_str("undefined instruction"),
            Reason::Breakpoint { imm } => {
                write!(f, "breakpoint instruction (brk #{imm:#x}: an abort or a trap the compiler placed)")
            }
            Reason::Other { ec } => write!(f, "unexpected exception (class {ec:#04x})"),
            Reason::Panic { code } => write!(f, "panic (TEE_Panic code {code:#x})"),
        }
    }
}

/// Most frames a call stack shows.
pub const MAX_FRAMES: usize = 32;

/// Return addresses of the frame-pointer chain from `fp`: each frame
/// record (previous fp, return address) must lie in `stack`, 8-aligned,
/// above the one before; `read` fetches a u64 (None if it may not be
/// read). Ends at a zero fp or return address, at the first bad record,
/// or after `MAX_FRAMES`; the bool says whether frames were left out.
pub fn walk(
    fp: u64,
    stack: Stack,
    read: &mut dyn FnMut(u64) -> Option<u64>,
    out: &mut [u64; MAX_FRAMES],
) -> (usize, bool) {
    let mut fp = fp;
    let mut n = 0;
    while fp != 0 && fp.is_multiple_of(8) && stack.contains(fp, 16) {
        let (Some(next), Some(ret)) = (read(fp), read(fp + 8)) else {
            break;
        };
        if ret == 0 {
            break;
        }
        if n == MAX_FRAMES {
            return (n, true);
        }
        out[n] = ret;
        n += 1;
        if next <= fp {
            break;
        }
        fp = next;
    }
    (n, false)
}

/// A loaded image: its name in reports (a UUID, or `os`), where it starts
/// and its length.
#[derive(Clone, Copy)]
pub struct Image<'a> {
    pub name: &'a dyn fmt::Display,
    pub base: u64,
    pub span: u64,
}

/// `0xADDR (NAME+0xOFF)`, or just `0xADDR` outside every image: the form
/// `cargo xtask symbolize` looks for.
pub struct At<'a> {
    pub addr: u64,
    pub images: &'a [Image<'a>],
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.addr)?;
        if let Some(i) = self.images.iter().find(|i| self.addr >= i.base && self.addr - i.base < i.span) {
            write!(f, " ({}+{:#x})", i.name, self.addr - i.base)?;
        }
        Ok(())
    }
}

/// The registers of a report: all of them (a TA's), or only the frame
/// pointer and link register (a fault in the OS, whose entry keeps no
/// more).
pub struct Regs<'a> {
    pub x: Option<&'a [u64; 31]>,
    pub fp: u64,
    pub lr: u64,
    pub sp: u64,
    pub pc: u64,
    pub pstate: u64,
    pub esr: u64,
    pub far: u64,
}

impl<'a> Regs<'a> {
    pub fn all(x: &'a [u64; 31], sp: u64, pc: u64, pstate: u64, esr: u64, far: u64) -> Regs<'a> {
        Regs { x: Some(x), fp: x[29], lr: x[30], sp, pc, pstate, esr, far }
    }
}

/// Writes the dump after the reason line, one call of `line` per line,
/// each starting with `tag`: syndrome, registers, images, pc and lr in
/// their images, and the call stack.
pub fn report(
    tag: &str,
    regs: &Regs<'_>,
    images: &[Image<'_>],
    stack: Option<Stack>,
    read: &mut dyn FnMut(u64) -> Option<u64>,
    line: &mut dyn FnMut(fmt::Arguments<'_>),
) {
    line(format_args!("{tag} esr {:#x} ({}) far {:#x}", regs.esr, EsrText(regs.esr), regs.far));
    match regs.x {
        Some(x) => {
            for i in (0..28).step_by(4) {
                line(format_args!(
                    "{tag} x{:<2} {:#018x} x{:<2} {:#018x} x{:<2} {:#018x} x{:<2} {:#018x}",
                    i,
                    x[i],
                    i + 1,
                    x[i + 1],
                    i + 2,
                    x[i + 2],
                    i + 3,
                    x[i + 3]
                ));
            }
            line(format_args!("{tag} x28 {:#018x} x29 {:#018x} x30 {:#018x}", x[28], x[29], x[30]));
        }
        None => line(format_args!("{tag} x29 {:#018x} x30 {:#018x}", regs.fp, regs.lr)),
    }
    line(format_args!("{tag} sp  {:#018x} pc  {:#018x} pstate {:#x}", regs.sp, regs.pc, regs.pstate));
    for (i, img) in images.iter().enumerate() {
        let what = if i == 0 { "image" } else { "library" };
        line(format_args!("{tag} {what} {} at {:#x} (size {:#x})", img.name, img.base, img.span));
    }
    line(format_args!("{tag} pc {}", At { addr: regs.pc, images }));
    line(format_args!("{tag} lr {}", At { addr: regs.lr, images }));
    let mut frames = [0u64; MAX_FRAMES];
    let (n, more) = match stack {
        Some(s) => walk(regs.fp, s, read, &mut frames),
        None => (0, false),
    };
    line(format_args!("{tag} call stack ({n} frames from the frame-pointer chain, return addresses):"));
    line(format_args!("{tag}  #0 {}", At { addr: regs.pc, images }));
    for (i, &ret) in frames[..n].iter().enumerate() {
        line(format_args!("{tag}  #{} {}", i + 1, At { addr: ret, images }));
    }
    if more {
        line(format_args!("{tag}  ... (more than {MAX_FRAMES} frames)"));
    }
    line(format_args!("{tag} end of dump"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_limiter_keeps_the_first_reports_and_a_sample_of_the_rest() {
        let l = super::Limiter::new();
        let full: alloc::vec::Vec<u32> = (0..1000)
            .filter_map(|_| match l.next() {
                (true, n) => Some(n),
                (false, _) => None,
            })
            .collect();
        let mut want: alloc::vec::Vec<u32> = (1..=super::FULL_FIRST).collect();
        want.extend([257, 513, 769]);
        assert_eq!(full, want);
    }

    use super::*;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use std::collections::BTreeMap;

    const STACK: Stack = Stack { bottom: 0x1000_0000, top: 0x1000_4000 };

    #[test]
    fn syndromes_decode_to_words() {
        // Data abort from EL0, translation fault level 3, write.
        let e = Esr::new(0x9200_0047);
        assert_eq!((e.ec, e.fsc(), e.write()), (0x24, Some(Fsc::Translation(3)), true));
        assert_eq!(
            EsrText(0x9200_0047).to_string(),
            "EC 0x24 data abort from a lower level, translation fault (level 3), write"
        );
        // Instruction abort, permission fault level 3.
        let e = Esr::new(0x8200_000f);
        assert_eq!((e.ec, e.fsc(), e.write()), (0x20, Some(Fsc::Permission(3)), false));
        assert_eq!(Esr::new(0x0200_0000).ec, ec::UNKNOWN);
        assert_eq!(Esr::new(0x0200_0000).fsc(), None);
        assert_eq!(EsrText(0xf200_0001).to_string(), "EC 0x3c BRK instruction #0x1");
        assert_eq!(Fsc::from_code(0x21), Fsc::Alignment);
        assert_eq!(Fsc::from_code(0x10), Fsc::External);
        assert_eq!(Fsc::from_code(0x09), Fsc::AccessFlag(1));
        assert_eq!(Fsc::from_code(0x3f), Fsc::Other(0x3f));
    }

    #[test]
    fn faults_get_their_reason() {
        let r = |esr, far, sp| Reason::of_fault(esr, far, sp, Some(STACK));
        // Translation fault in the guard page.
        assert_eq!(
            r(0x9200_0047, STACK.bottom - 8, STACK.bottom + 16),
            Reason::StackOverflow { far: STACK.bottom - 8, below: 8 }
        );
        // A big frame skipped past the guard page, sp already below.
        assert_eq!(
            r(0x9200_0047, STACK.bottom - 0x3000, STACK.bottom - 0x3000),
            Reason::StackOverflow { far: STACK.bottom - 0x3000, below: 0x3000 }
        );
        // Far below, with sp well inside: not the stack.
        assert!(matches!(r(0x9200_0047, STACK.bottom - 0x3000, STACK.top - 64), Reason::Unmapped { .. }));
        assert_eq!(r(0x9200_0007, 0, STACK.top), Reason::Unmapped { far: 0, write: false, exec: false, null: true });
        assert_eq!(
            r(0x8200_0007, 0x5000, STACK.top),
            Reason::Unmapped { far: 0x5000, write: false, exec: true, null: false }
        );
        assert_eq!(r(0x9200_004f, 0x4000_1000, STACK.top), Reason::WriteReadOnly { far: 0x4000_1000 });
        assert_eq!(r(0x9200_000f, 0x4000_1000, STACK.top), Reason::ReadForbidden { far: 0x4000_1000 });
        assert_eq!(r(0x8200_000f, 0x4000_1000, STACK.top), Reason::ExecNonExec { far: 0x4000_1000 });
        assert_eq!(r(0x9200_0021, 0x4000_1001, STACK.top), Reason::Alignment { far: 0x4000_1001 });
        assert_eq!(r(0x0200_0000, 0, STACK.top), Reason::Undefined);
        assert_eq!(r(0x8a00_0000, 0x4000_1002, STACK.top), Reason::PcAlignment { far: 0x4000_1002 });
        assert_eq!(r(0x9a00_0000, 0, STACK.top), Reason::SpAlignment);
        assert_eq!(r(0xf200_0001, 0, STACK.top), Reason::Breakpoint { imm: 1 });
        assert_eq!(r(0xbe00_0000, 0, STACK.top), Reason::Other { ec: ec::SERROR });
        // Without a known stack an unmapped access stays one.
        assert!(matches!(Reason::of_fault(0x9200_0047, 0x0fff_fff8, 0, None), Reason::Unmapped { .. }));
        assert!(r(0x9200_0047, STACK.bottom - 8, STACK.bottom).to_string().starts_with("stack overflow"));
        assert!(r(0x9200_0007, 8, 0).to_string().contains("null pointer"));
        assert_eq!(Reason::Panic { code: 0x42 }.to_string(), "panic (TEE_Panic code 0x42)");
    }

    fn memory(words: &[(u64, u64)]) -> BTreeMap<u64, u64> {
        words.iter().copied().collect()
    }

    #[test]
    fn the_frame_chain_is_walked_and_checked() {
        let b = STACK.bottom;
        let mem = memory(&[(b + 0x100, b + 0x200), (b + 0x108, 0xaaa0), (b + 0x200, 0), (b + 0x208, 0xbbb0)]);
        let mut read = |a: u64| mem.get(&a).copied();
        let mut out = [0; MAX_FRAMES];
        assert_eq!(walk(b + 0x100, STACK, &mut read, &mut out), (2, false));
        assert_eq!(&out[..2], &[0xaaa0, 0xbbb0]);
        // A loop (fp pointing back down) stops after the record.
        let mem = memory(&[(b + 0x100, b + 0x80), (b + 0x108, 0xaaa0), (b + 0x80, b + 0x100), (b + 0x88, 1)]);
        let mut read = |a: u64| mem.get(&a).copied();
        assert_eq!(walk(b + 0x100, STACK, &mut read, &mut out), (1, false));
        // Outside the stack, misaligned, or unreadable: nothing is read.
        let reads = core::cell::Cell::new(0);
        let mut counting = |_| {
            reads.set(reads.get() + 1);
            None
        };
        for fp in [0, b - 16, STACK.top - 8, b + 4, u64::MAX - 7] {
            assert_eq!(walk(fp, STACK, &mut counting, &mut out), (0, false));
        }
        assert_eq!(reads.get(), 0);
        assert_eq!(walk(b + 0x10, STACK, &mut counting, &mut out), (0, false));
        // A chain longer than the bound is cut, and says so.
        let mem: BTreeMap<u64, u64> =
            (0..64u64).flat_map(|i| [(b + 16 * i, b + 16 * (i + 1)), (b + 16 * i + 8, 0x1000 + i)]).collect();
        let mut read = |a: u64| mem.get(&a).copied();
        assert_eq!(walk(b, STACK, &mut read, &mut out), (MAX_FRAMES, true));
    }

    #[test]
    fn the_report_names_images_and_frames() {
        let b = STACK.bottom;
        let mem = memory(&[(b + 0x100, 0), (b + 0x108, 0x4000_1234)]);
        let mut read = |a: u64| mem.get(&a).copied();
        let mut x = [0u64; 31];
        x[29] = b + 0x100;
        x[30] = 0x4000_1234;
        let regs = Regs::all(&x, b + 0xf0, 0x4000_2000, 0, 0x9200_0047, 8);
        let name = "5e57a001-0000-4000-8000-000000000001";
        let lib = "0d1c0000-0000-4000-8000-0000000000d1";
        let images = [
            Image { name: &name, base: 0x4000_0000, span: 0x10000 },
            Image { name: &lib, base: 0x4002_0000, span: 0x1000 },
        ];
        let mut lines: Vec<String> = Vec::new();
        report("TA crash:", &regs, &images, Some(STACK), &mut read, &mut |a| lines.push(alloc::format!("{a}")));
        let text = lines.join("\n");
        assert!(text.contains("TA crash: x28 0x0000000000000000 x29 0x0000000010000100 x30 0x0000000040001234"));
        assert!(text.contains(&alloc::format!("TA crash: image {name} at 0x40000000 (size 0x10000)")));
        assert!(text.contains(&alloc::format!("TA crash: library {lib} at 0x40020000 (size 0x1000)")));
        assert!(text.contains(&alloc::format!("TA crash: pc 0x40002000 ({name}+0x2000)")));
        assert!(text.contains(&alloc::format!("TA crash:  #1 0x40001234 ({name}+0x1234)")));
        assert!(lines.last().unwrap().ends_with("end of dump"));
        assert_eq!(lines.iter().filter(|l| l.contains("TA crash: x")).count(), 8);
        assert_eq!(At { addr: 0x9000_0000, images: &images }.to_string(), "0x90000000");
    }
}
