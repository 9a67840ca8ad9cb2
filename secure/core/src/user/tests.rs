//! Test doubles for user mode.

use crate::env::{UserMapping, UserMmu, UserPerm, UserTables};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use oxtee_abi::addr::{NsPhys, SecPhys, UserVirt};
use oxtee_abi::tee::TeeResult;
use oxtee_guard::SpinLock;

type Spaces = Arc<SpinLock<BTreeMap<u64, Vec<UserMapping>>>>;
type NsMaps = Arc<SpinLock<Vec<(UserVirt, NsPhys, u64)>>>;

/// Records address spaces as lists of mappings.
#[derive(Default)]
pub struct FakeMmu {
    next: AtomicU64,
    pub spaces: Spaces,
    /// Normal-world mappings of every space.
    pub ns: NsMaps,
}

impl FakeMmu {
    pub fn leak() -> &'static FakeMmu {
        Box::leak(Box::default())
    }
}

struct FakeTables {
    spaces: Spaces,
    id: u64,
    /// Normal-world mappings (address, physical address, length).
    ns: NsMaps,
}

impl UserTables for FakeTables {
    fn map(&mut self, m: &UserMapping) -> Result<(), TeeResult> {
        self.spaces.lock().get_mut(&self.id).ok_or(TeeResult::ERROR_BAD_STATE)?.push(*m);
        Ok(())
    }

    fn map_ns(&mut self, va: UserVirt, pa: NsPhys, len: u64, perm: UserPerm) -> Result<(), TeeResult> {
        if perm == UserPerm::ReadExec {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.ns.lock().push((va, pa, len));
        Ok(())
    }

    fn unmap(&mut self, va: UserVirt, len: u64) {
        let end = va.get() + len;
        self.ns.lock().retain(|m| !(m.0.get() >= va.get() && m.0.get() + m.2 <= end));
        if let Some(s) = self.spaces.lock().get_mut(&self.id) {
            s.retain(|m| !(m.va == va && m.len == len));
        }
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

impl Drop for FakeTables {
    fn drop(&mut self) {
        let gone = self.spaces.lock().remove(&self.id);
        drop(gone);
    }
}

impl UserMmu for FakeMmu {
    fn create(&self, maps: &[UserMapping]) -> Result<Box<dyn UserTables>, TeeResult> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.spaces.lock().insert(id, maps.to_vec());
        Ok(Box::new(FakeTables { spaces: self.spaces.clone(), id, ns: self.ns.clone() }))
    }

    fn sync_code(&self, _pa: SecPhys, _len: u64) {}

    fn asids_in_use(&self) -> u32 {
        self.spaces.lock().len() as u32
    }
}

use crate::env::UserRegs;
use oxtee_abi::ta as abi;

/// Commands the fake CPU understands (x3 of an invoke).
pub(crate) mod cmd {
    /// Returns success.
    pub const OK: u64 = 0;
    /// Takes a data abort.
    pub const FAULT: u64 = 1;
    /// Calls `_utee_panic(0x42)`.
    pub const PANIC: u64 = 2;
    /// Asks CHECK_ACCESS_RIGHTS(READ) about its stack, code, the kernel,
    /// and its stack for WRITE; returns a bitmask of the answers that were
    /// SUCCESS.
    pub const ACCESS: u64 = 3;
    /// Calls GET_PROPERTY(CURRENT_TA, 0) with a buffer outside its
    /// mappings; returns that syscall's result.
    pub const BAD_POINTER: u64 = 4;
}

/// One step of the fake TA: given the registers at (re-)entry, what it does
/// until its next exception. State between steps lives in x19..x21 (the OS
/// hands them back untouched, as a CPU would).
pub(crate) fn fake_cpu(regs: &mut UserRegs) -> crate::env::UserExit {
    use crate::env::UserExit;
    let base = regs.pc & !0xfff;
    let syscall = |regs: &mut UserRegs, n: u32, args: &[u64]| {
        regs.x[8] = n as u64;
        regs.x[..args.len()].copy_from_slice(args);
        regs.pc += 4;
        UserExit::Syscall
    };
    if regs.pc == base && regs.x[19] == 0 {
        // Entry: x0 = function, x3 = command.
        regs.x[20] = regs.x[3];
        regs.x[21] = 0;
        if regs.x[0] != abi::UTEE_ENTRY_FUNC_INVOKE_COMMAND {
            return syscall(regs, abi::SYS_RETURN, &[0]);
        }
        regs.x[19] = 1;
        match regs.x[20] {
            cmd::FAULT => {
                regs.x[19] = 0;
                return UserExit::Fault { esr: 0x9200_0007, far: 0 };
            }
            cmd::PANIC => return syscall(regs, abi::SYS_PANIC, &[0x42]),
            cmd::BAD_POINTER => {
                // A valid buffer, but its length word is not mapped.
                let buf = regs.sp - 64;
                return syscall(
                    regs,
                    abi::SYS_GET_PROPERTY,
                    &[abi::TEE_PROPSET_CURRENT_TA as u64, 0, 0, 0, buf, 0x2000, 0],
                );
            }
            cmd::ACCESS => {}
            _ => {
                regs.x[19] = 0;
                return syscall(regs, abi::SYS_RETURN, &[0]);
            }
        }
    }
    // Resumed after a syscall (x0 = its result), or the ACCESS sequence.
    let stack = regs.sp & !0xfff;
    if regs.x[20] == cmd::ACCESS {
        let probes = [
            (abi::TEE_MEMORY_ACCESS_READ, stack, 16),
            (abi::TEE_MEMORY_ACCESS_READ, base, 16),
            (abi::TEE_MEMORY_ACCESS_READ, 0x0e10_0000, 16),
            (abi::TEE_MEMORY_ACCESS_WRITE | abi::TEE_MEMORY_ACCESS_READ, stack, 16),
            (abi::TEE_MEMORY_ACCESS_WRITE, base, 16),
        ];
        let step = regs.x[19] as usize;
        if step > 1 && regs.x[0] == 0 {
            regs.x[21] |= 1 << (step - 2);
        }
        if step - 1 < probes.len() {
            let (f, a, l) = probes[step - 1];
            regs.x[19] += 1;
            return syscall(regs, abi::SYS_CHECK_ACCESS_RIGHTS, &[f as u64, a, l]);
        }
        regs.x[19] = 0;
        let mask = regs.x[21];
        return syscall(regs, abi::SYS_RETURN, &[mask]);
    }
    // BAD_POINTER / PANIC resumed: return what the syscall said.
    regs.x[19] = 0;
    let r = regs.x[0];
    syscall(regs, abi::SYS_RETURN, &[r])
}
