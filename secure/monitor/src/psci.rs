//! PSCI: CPU power state bookkeeping and the calls the normal world makes.
//! Power events that the trusted OS must see (CPU on/off, system off/reset)
//! are returned as `Outcome::EnterOs` so the dispatcher runs the opteed
//! protocol for them.

use crate::arch;
use core::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use log::{debug, info};
use oxtee_abi::addr::{NsPhys, NsRange};
use oxtee_abi::opteed::Vector;
use oxtee_abi::smc::psci::error::{ALREADY_ON, INVALID_ADDRESS, INVALID_PARAMETERS, NOT_SUPPORTED, ON_PENDING};
use oxtee_abi::smc::psci::*;
use oxtee_platform::{MAX_CPUS, cpu_index};

/// Release addresses read by the holding pen (entry assembly), one per CPU.
pub static MAILBOXES: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

const OFF: u8 = 0;
const ON_PENDING_STATE: u8 = 1;
const ON: u8 = 2;

static STATE: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(OFF) }; MAX_CPUS];
static ON_ENTRY: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static ON_CONTEXT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static NUM_CPUS: AtomicUsize = AtomicUsize::new(1);
static DRAM_BASE: AtomicU64 = AtomicU64::new(0);
static DRAM_END: AtomicU64 = AtomicU64::new(0);

/// PSCI 1.1.
pub const VERSION: u64 = 0x0001_0001;
/// How many PSCI functions `handle` implements (see `is_supported`), for
/// the standard-service call count.
pub const CALL_COUNT: u64 = 10;
/// MIGRATE_INFO_TYPE: the trusted OS is MP-capable, needs no migration.
const TOS_NOT_PRESENT_MP: u64 = 2;

pub fn init(cpus: usize, dram: NsRange) {
    NUM_CPUS.store(cpus, Ordering::Relaxed);
    DRAM_BASE.store(dram.start.get(), Ordering::Relaxed);
    DRAM_END.store(dram.start.get().saturating_add(dram.size), Ordering::Relaxed);
}

pub struct OnRequest {
    /// Where the normal world asked the CPU to start.
    pub entry: NsPhys,
    /// Its x0 (opaque to us).
    pub context_id: u64,
}

pub fn take_on_request(cpu: usize) -> Option<OnRequest> {
    if STATE[cpu].load(Ordering::Acquire) != ON_PENDING_STATE {
        return None;
    }
    Some(OnRequest {
        entry: NsPhys::new(ON_ENTRY[cpu].load(Ordering::Relaxed)),
        context_id: ON_CONTEXT[cpu].load(Ordering::Relaxed),
    })
}

pub fn mark_on(cpu: usize) {
    STATE[cpu].store(ON, Ordering::Release);
}

/// Marks the CPU off and empties its mailbox; the caller then parks it.
pub fn mark_off(cpu: usize) {
    MAILBOXES[cpu].store(0, Ordering::Relaxed);
    STATE[cpu].store(OFF, Ordering::Release);
    debug!("CPU {cpu} off");
}

pub enum Outcome {
    /// Answer in x0 and go back to the caller.
    Return(u64),
    /// Run the OS's power vector first; the dispatcher finishes the call
    /// when the OS reports `*_DONE`.
    EnterOs(Vector),
    /// Nothing to tell the OS (no OS): park this CPU now.
    Park,
}

fn err(code: i32) -> Outcome {
    Outcome::Return(code as i64 as u64)
}

fn target(mpidr: u64) -> Option<usize> {
    cpu_index(mpidr).filter(|&i| i < NUM_CPUS.load(Ordering::Relaxed))
}

fn is_supported(fid: u32) -> bool {
    matches!(
        fid,
        PSCI_VERSION
            | PSCI_CPU_OFF
            | PSCI_CPU_ON_32
            | PSCI_CPU_ON_64
            | PSCI_AFFINITY_INFO_32
            | PSCI_AFFINITY_INFO_64
            | PSCI_MIGRATE_INFO_TYPE
            | PSCI_SYSTEM_OFF
            | PSCI_SYSTEM_RESET
            | PSCI_FEATURES
    )
}

/// Handles PSCI function `fid` from the normal world on CPU `me`.
pub fn handle(me: usize, fid: u32, x1: u64, x2: u64, x3: u64, os_present: bool) -> Outcome {
    // SMC32 variants take their arguments in w registers.
    let narrow = |v: u64| {
        if fid & (1 << 30) == 0 { v & 0xffff_ffff } else { v }
    };
    match fid {
        PSCI_VERSION => Outcome::Return(VERSION),
        PSCI_FEATURES => {
            let q = x1 as u32;
            if is_supported(q) || q == oxtee_abi::smc::SMCCC_VERSION { Outcome::Return(0) } else { err(NOT_SUPPORTED) }
        }
        PSCI_CPU_ON_32 | PSCI_CPU_ON_64 => cpu_on(narrow(x1), narrow(x2), narrow(x3)),
        PSCI_AFFINITY_INFO_32 | PSCI_AFFINITY_INFO_64 => {
            if narrow(x2) != 0 {
                return err(INVALID_PARAMETERS);
            }
            match target(narrow(x1)) {
                None => err(INVALID_PARAMETERS),
                Some(t) => Outcome::Return(match STATE[t].load(Ordering::Acquire) {
                    ON => 0,
                    OFF => 1,
                    _ => 2,
                }),
            }
        }
        PSCI_CPU_OFF => {
            info!("CPU {me}: CPU_OFF");
            if os_present { Outcome::EnterOs(Vector::CpuOff) } else { Outcome::Park }
        }
        PSCI_MIGRATE_INFO_TYPE => Outcome::Return(TOS_NOT_PRESENT_MP),
        PSCI_SYSTEM_OFF | PSCI_SYSTEM_RESET => {
            let off = fid == PSCI_SYSTEM_OFF;
            info!("{}", if off { "SYSTEM_OFF" } else { "SYSTEM_RESET" });
            match (os_present, off) {
                (true, true) => Outcome::EnterOs(Vector::SystemOff),
                (true, false) => Outcome::EnterOs(Vector::SystemReset),
                (false, true) => arch::power::system_off(),
                (false, false) => arch::power::system_reset(),
            }
        }
        _ => err(NOT_SUPPORTED),
    }
}

fn cpu_on(mpidr: u64, entry: u64, context_id: u64) -> Outcome {
    let Some(t) = target(mpidr) else {
        return err(INVALID_PARAMETERS);
    };
    let (base, end) = (DRAM_BASE.load(Ordering::Relaxed), DRAM_END.load(Ordering::Relaxed));
    if entry < base || entry >= end || entry & 3 != 0 {
        return err(INVALID_ADDRESS);
    }
    match STATE[t].compare_exchange(OFF, ON_PENDING_STATE, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {}
        Err(ON) => return err(ALREADY_ON),
        Err(_) => return err(ON_PENDING),
    }
    ON_ENTRY[t].store(entry, Ordering::Relaxed);
    ON_CONTEXT[t].store(context_id, Ordering::Relaxed);
    MAILBOXES[t].store(arch::warm_entry_addr(), Ordering::Release);
    // A CPU that never ran yet reads its mailbox with its MMU off.
    arch::mmu::clean_invalidate(MAILBOXES[t].as_ptr() as u64, 8);
    arch::dsb_sev();
    debug!("CPU_ON {t} at {entry:#x}");
    Outcome::Return(0)
}
