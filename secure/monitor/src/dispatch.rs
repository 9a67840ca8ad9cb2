//! SMC routing and the monitor side of the opteed protocol. Entered from the
//! exception vectors with the trapping world's registers saved; returns the
//! context of the world to run next on this CPU.

use crate::arch::{self, power};
use crate::boot::{self, BOOT, os_vector_context};
use crate::context::{CpuContext, Pending, PowerEvent, World, WorldContext, this_cpu_context};
use crate::psci::{self, Outcome};
use crate::spmd;
use core::sync::atomic::{AtomicU64, Ordering};
use log::{debug, error, info, warn};
use oxtee_abi::ffa;
use oxtee_abi::opteed::{self, Vector};
use oxtee_abi::smc::{self, FunctionId, UNKNOWN_FUNCTION_64};
use oxtee_platform::cpu::Answer;
use oxtee_platform::map;

static OS_VECTORS: AtomicU64 = AtomicU64::new(0);

pub fn os_vectors() -> Option<u64> {
    match OS_VECTORS.load(Ordering::Acquire) {
        0 => None,
        v => Some(v),
    }
}

const EXC_SYNC: u64 = 0;
const EXC_FIQ: u64 = 2;
const EC_SMC64: u64 = 0x17;
const EC_FP: u64 = 0x07;

/// SMCCC version we implement (1.2: x0-x17 may carry arguments and results
/// of SMC64 calls; we take x0-x7 and preserve the rest).
const SMCCC_VERSION_1_2: u64 = 0x1_0002;

pub extern "C" fn dispatch(ctx: *mut WorldContext, kind: u64) -> *mut WorldContext {
    let cpu = this_cpu_context();
    let Some(from) = cpu.world_of(ctx) else {
        crate::fatal(format_args!("exception with unknown context {ctx:p}"));
    };
    match kind {
        EXC_SYNC => {
            let esr = arch::esr_el3();
            if esr >> 26 == EC_FP {
                // Lazy FP switch: hand the registers over and retry.
                cpu.take_fp();
                return cpu.ctx(from);
            }
            if esr >> 26 != EC_SMC64 {
                // A trap we did not ask for: skip the instruction, fail it.
                warn!("{from:?}: unexpected trap to EL3, ESR {esr:#x}");
                let c = cpu.ctx(from);
                c.elr_el3 += 4;
                c.x[0] = UNKNOWN_FUNCTION_64;
                return c;
            }
            match from {
                World::NonSecure => smc_from_ns(cpu),
                World::Secure => smc_from_os(cpu),
            }
        }
        EXC_FIQ if from == World::NonSecure && spmd::takes_interrupts() => spmd::secure_interrupt(cpu),
        EXC_FIQ if from == World::NonSecure && os_vectors().is_some() => {
            // A secure interrupt while the normal world ran: the OS handles it.
            let elr = cpu.ctx(World::NonSecure).elr_el3;
            cpu.switch_to(World::Secure);
            os_vector_context(cpu, Vector::Fiq, elr);
            cpu.pending = Pending::Fiq;
            cpu.ctx(World::Secure)
        }
        _ => {
            warn!("{from:?}: unexpected exception kind {kind}");
            cpu.ctx(from)
        }
    }
}

fn ret_ns(cpu: &mut CpuContext, x0: u64) -> *mut WorldContext {
    let ns = cpu.ctx(World::NonSecure);
    ns.x[0] = x0;
    ns
}

/// SMCCC architecture calls (owner 0), answered for either world. `None`
/// means "return with the caller's registers unchanged" (a workaround call
/// whose work, if any, was done on the way into EL3).
fn smccc_arch(fid: u32, x1: u64) -> Option<u64> {
    let answer = |a: Answer| a as i32 as i64 as u64;
    let call = |a: Answer| if a == Answer::Unknown { Some(UNKNOWN_FUNCTION_64) } else { None };
    match fid {
        smc::SMCCC_VERSION => Some(SMCCC_VERSION_1_2),
        smc::SMCCC_ARCH_FEATURES => Some(match x1 as u32 {
            smc::SMCCC_VERSION | smc::SMCCC_ARCH_FEATURES => 0,
            smc::SMCCC_ARCH_WORKAROUND_1 => answer(arch::mitigations().workaround_1),
            smc::SMCCC_ARCH_WORKAROUND_2 => answer(arch::mitigations().workaround_2),
            smc::SMCCC_ARCH_WORKAROUND_3 => answer(arch::mitigations().workaround_3),
            _ => smc::SMCCC_NOT_SUPPORTED as i64 as u64,
        }),
        // On a Cortex-A57 these are answered in the vector itself, after the
        // branch predictor was invalidated (entry.S); on cores that are not
        // affected (or mitigated for good) they have nothing to do.
        smc::SMCCC_ARCH_WORKAROUND_1 => call(arch::mitigations().workaround_1),
        smc::SMCCC_ARCH_WORKAROUND_2 => call(arch::mitigations().workaround_2),
        smc::SMCCC_ARCH_WORKAROUND_3 => call(arch::mitigations().workaround_3),
        _ => Some(UNKNOWN_FUNCTION_64),
    }
}

/// Standard-service general queries (owner 4, besides PSCI).
fn std_svc(fid: u32) -> Option<[u64; 4]> {
    match fid {
        smc::STD_SVC_CALL_COUNT => Some([psci::CALL_COUNT, 0, 0, 0]),
        smc::STD_SVC_UID => Some(smc::MONITOR_STD_SVC_UID.map(u64::from)),
        smc::STD_SVC_REVISION => Some([0, 1, 0, 0]),
        _ => None,
    }
}

/// The function id in w0, with the SMCCC 1.3 SVE hint (bit 16) cleared as
/// TF-A does; `None` if reserved bits 23:17 of a fast call are set.
fn function_id(x0: u64) -> Option<FunctionId> {
    let f = FunctionId(x0 as u32 & !(1 << 16));
    if f.is_fast() && f.reserved_bits() != 0 { None } else { Some(f) }
}

fn smc_from_ns(cpu: &mut CpuContext) -> *mut WorldContext {
    let ns = cpu.ctx(World::NonSecure);
    let (x1, x2, x3) = (ns.x[1], ns.x[2], ns.x[3]);
    let Some(f) = function_id(ns.x[0]) else {
        return ret_ns(cpu, UNKNOWN_FUNCTION_64);
    };
    match f.owner() {
        smc::OWNER_ARCH if f.is_fast() => match smccc_arch(f.0, x1) {
            Some(v) => ret_ns(cpu, v),
            None => cpu.ctx(World::NonSecure),
        },
        smc::OWNER_STANDARD if f.is_fast() && spmd::enabled() && ffa::is_ffa(f.0) => spmd::from_ns(cpu, f.0),
        smc::OWNER_STANDARD if f.is_fast() => {
            if let Some(r) = std_svc(f.0) {
                let ns = cpu.ctx(World::NonSecure);
                ns.x[..4].copy_from_slice(&r);
                return ns;
            }
            let me = arch::this_cpu();
            let os_present = os_vectors().is_some() || spmd::spmc_present();
            match psci::handle(me, f.0, x1, x2, x3, os_present) {
                Outcome::Return(v) => ret_ns(cpu, v),
                Outcome::Park => {
                    psci::mark_off(me);
                    arch::park(me)
                }
                Outcome::EnterOs(v) if spmd::enabled() => {
                    let ev = match v {
                        Vector::CpuOff => PowerEvent::CpuOff,
                        Vector::SystemOff => PowerEvent::SystemOff,
                        _ => PowerEvent::SystemReset,
                    };
                    spmd::power_event(cpu, ev, f.0)
                }
                Outcome::EnterOs(v) => {
                    cpu.switch_to(World::Secure);
                    os_vector_context(cpu, v, 0);
                    cpu.pending = match v {
                        Vector::CpuOff => Pending::CpuOff,
                        Vector::SystemOff => Pending::SystemOff,
                        _ => Pending::SystemReset,
                    };
                    cpu.ctx(World::Secure)
                }
            }
        }
        smc::OWNER_TRUSTED_OS_START..=smc::OWNER_TRUSTED_OS_END => match os_vectors() {
            Some(_) => forward_to_os(cpu, f),
            None => ret_ns(cpu, UNKNOWN_FUNCTION_64),
        },
        _ => ret_ns(cpu, UNKNOWN_FUNCTION_64),
    }
}

/// Passes a Trusted-OS SMC to the OS's fast or yielding vector with x0-x7.
fn forward_to_os(cpu: &mut CpuContext, f: FunctionId) -> *mut WorldContext {
    let mut args = [0u64; 8];
    args.copy_from_slice(&cpu.ctx(World::NonSecure).x[..8]);
    args[0] = f.0 as u64;
    cpu.switch_to(World::Secure);
    let v = if f.is_fast() { Vector::FastSmc } else { Vector::YieldSmc };
    os_vector_context(cpu, v, 0);
    cpu.pending = Pending::Call;
    let s = cpu.ctx(World::Secure);
    s.x[..8].copy_from_slice(&args);
    s
}

fn back_to_ns(cpu: &mut CpuContext) -> *mut WorldContext {
    cpu.pending = Pending::None;
    cpu.switch_to(World::NonSecure);
    cpu.ctx(World::NonSecure)
}

fn smc_from_os(cpu: &mut CpuContext) -> *mut WorldContext {
    let s = cpu.ctx(World::Secure);
    let id = s.x[0] as u32;
    let x1 = s.x[1];
    let me = arch::this_cpu();
    if spmd::enabled() {
        return match (id, cpu.pending) {
            (id, _) if FunctionId(id).owner() == smc::OWNER_ARCH && FunctionId(id).is_fast() => {
                let s = cpu.ctx(World::Secure);
                if let Some(v) = smccc_arch(id, x1) {
                    s.x[0] = v;
                }
                s
            }
            (opteed::RETURN_ENTRY_DONE, Pending::ColdBoot) => {
                error!("the OS finished its cold boot the opteed way: it does not speak FF-A; no secure OS");
                spmd::start_normal_world(cpu)
            }
            _ => spmd::from_spmc(cpu),
        };
    }
    match (id, cpu.pending) {
        // The OS probes for an SPMD at cold boot; the opteed protocol has none.
        (ffa::VERSION, Pending::ColdBoot) => {
            debug!("OS probed FFA_VERSION: opteed mode, UNKNOWN");
            let s = cpu.ctx(World::Secure);
            s.x[0] = UNKNOWN_FUNCTION_64;
            s
        }
        (opteed::RETURN_CALL_DONE, Pending::Call) => {
            let mut r = [0u64; 4];
            r.copy_from_slice(&cpu.ctx(World::Secure).x[1..5]);
            cpu.pending = Pending::None;
            cpu.switch_to(World::NonSecure);
            let ns = cpu.ctx(World::NonSecure);
            ns.x[..4].copy_from_slice(&r);
            ns
        }
        (opteed::RETURN_FIQ_DONE, Pending::Fiq) => back_to_ns(cpu),
        (opteed::RETURN_ENTRY_DONE, Pending::ColdBoot) => {
            if valid_vector_table(x1) {
                OS_VECTORS.store(x1, Ordering::Release);
                info!("OS initialised, vector table at {x1:#x}");
            } else {
                error!("OS reported a bad vector table {x1:#x}; running without it");
            }
            let boot = BOOT.get().expect("boot info set at cold boot");
            boot::prepare_normal_world_trees(boot.ns_dtb);
            boot::ns_context(cpu, boot.ns_entry, boot.ns_dtb.get());
            psci::mark_on(me);
            info!("entering normal world at {:#x}", boot.ns_entry);
            back_to_ns(cpu)
        }
        (opteed::RETURN_ON_DONE, Pending::CpuOn) => {
            psci::mark_on(me);
            debug!("CPU {me} on");
            back_to_ns(cpu)
        }
        (opteed::RETURN_OFF_DONE, Pending::CpuOff) => {
            cpu.pending = Pending::None;
            psci::mark_off(me);
            arch::park(me)
        }
        (opteed::RETURN_SYSTEM_OFF_DONE, Pending::SystemOff) => power::system_off(),
        (opteed::RETURN_SYSTEM_RESET_DONE, Pending::SystemReset) => power::system_reset(),
        (id, _) if FunctionId(id).owner() == smc::OWNER_ARCH && FunctionId(id).is_fast() => {
            // OP-TEE asks for SMCCC_VERSION / workarounds at boot.
            let s = cpu.ctx(World::Secure);
            if let Some(v) = smccc_arch(id, x1) {
                s.x[0] = v;
            }
            s
        }
        (id, pending) => {
            warn!("unexpected SMC {id:#x} from the OS (pending {pending:?})");
            let s = cpu.ctx(World::Secure);
            s.x[0] = UNKNOWN_FUNCTION_64;
            s
        }
    }
}

/// The table must be inside the OS's region, aligned, and whole.
fn valid_vector_table(addr: u64) -> bool {
    let end = map::OS_BASE + map::OS_SIZE;
    addr >= map::OS_BASE && addr.is_multiple_of(4) && addr.saturating_add(opteed::VECTOR_TABLE_SIZE as u64) <= end
}
