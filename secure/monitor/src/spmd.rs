//! The SPM Dispatcher (FF-A's EL3 side) for an SPMC at S-EL1, chosen at
//! run time by the firmware package's `FLAG_SPMD`. It keeps the boundary
//! TF-A's SPMD keeps with an S-EL1 SPMC: the SPMC reports readiness with
//! `FFA_MSG_WAIT`; normal-world FF-A calls reach it with x0..x7 and its next
//! SMC is the answer; `FFA_VERSION` is negotiated with a framework direct
//! request; power events are framework PSCI requests; a secure interrupt
//! while the normal world runs enters it with `FFA_INTERRUPT`.
//!
//! The SPMC is never trusted to steer the monitor: every answer is checked
//! against `cpu.pending`, and anything else gets `FFA_ERROR(NOT_SUPPORTED)`.

use crate::arch::{self, power};
use crate::boot::{self, BOOT};
use crate::context::{CpuContext, Pending, PowerEvent, World, WorldContext};
use crate::psci;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use log::{debug, error, info, warn};
use oxtee_abi::ffa;
use oxtee_platform::{MAX_CPUS, map};

/// Whether this boot runs the monitor as SPMD (the package's flag).
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The SPMC reported ready on the primary CPU.
static READY: AtomicBool = AtomicBool::new(false);
/// The SPMC runs on this CPU (ready on it, not turned off since).
static CPU_UP: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// `FFA_SECONDARY_EP_REGISTER_64`: where the SPMC starts on a CPU turned
/// on later, and the context value it gets in x0 there (0 if none given).
static SECONDARY_EP: AtomicU64 = AtomicU64::new(0);
static SECONDARY_CTX: AtomicU64 = AtomicU64::new(0);
/// Secure interrupts delivered to the SPMC with `FFA_INTERRUPT` (reported
/// at system off).
static INTERRUPTS: AtomicU64 = AtomicU64::new(0);

pub fn enable() {
    ENABLED.store(true, Ordering::Release);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// The SPMC is up (FF-A calls, power events and interrupts go to it).
pub fn ready() -> bool {
    READY.load(Ordering::Acquire)
}

fn up(cpu: usize) -> bool {
    ready() && CPU_UP[cpu].load(Ordering::Acquire)
}

fn regs8(ctx: &WorldContext) -> [u64; 8] {
    let mut r = [0u64; 8];
    r.copy_from_slice(&ctx.x[..8]);
    r
}

fn set8(ctx: &mut WorldContext, r: [u64; 8]) {
    ctx.x[..8].copy_from_slice(&r);
}

fn error_regs(code: i32) -> [u64; 8] {
    [ffa::ERROR as u64, 0, code as u32 as u64, 0, 0, 0, 0, 0]
}

fn success32(w2: u64) -> [u64; 8] {
    [ffa::SUCCESS_32 as u64, 0, w2, 0, 0, 0, 0, 0]
}

/// Answers the normal world at once, without the SPMC.
fn answer_ns(cpu: &mut CpuContext, r: [u64; 8]) -> *mut WorldContext {
    let ns = cpu.ctx(World::NonSecure);
    set8(ns, r);
    ns
}

/// Enters the SPMC where it sits (in its last SMC) with `r`.
fn enter_spmc(cpu: &mut CpuContext, r: [u64; 8], why: Pending) -> *mut WorldContext {
    cpu.switch_to(World::Secure);
    cpu.pending = why;
    let s = cpu.ctx(World::Secure);
    set8(s, r);
    s
}

fn to_ns(cpu: &mut CpuContext, r: Option<[u64; 8]>) -> *mut WorldContext {
    cpu.pending = Pending::None;
    cpu.switch_to(World::NonSecure);
    let ns = cpu.ctx(World::NonSecure);
    if let Some(r) = r {
        set8(ns, r);
    }
    ns
}

/// Calls only a secure endpoint makes (or that only the SPMD answers to
/// the SPMC); the normal world gets NOT_SUPPORTED for them, as from TF-A.
fn secure_only(fid: u32) -> bool {
    matches!(
        fid,
        ffa::MSG_WAIT
            | ffa::MSG_YIELD
            | ffa::MSG_SEND_DIRECT_RESP_32
            | ffa::MSG_SEND_DIRECT_RESP_64
            | ffa::NORMAL_WORLD_RESUME
            | ffa::INTERRUPT
            | ffa::SECONDARY_EP_REGISTER_64
            | ffa::MEM_RETRIEVE_RESP
            | ffa::SUCCESS_32
            | ffa::SUCCESS_64
            | ffa::ERROR
            | ffa::MEM_PERM_GET
            | ffa::MEM_PERM_SET
    )
}

/// An FF-A call (`fid` in the FF-A range) from the normal world.
pub fn from_ns(cpu: &mut CpuContext, fid: u32) -> *mut WorldContext {
    let me = arch::this_cpu();
    let r = regs8(cpu.ctx(World::NonSecure));
    if !up(me) {
        // No SPMC on this CPU (FFA_VERSION answers in w0 alone).
        let r = if fid == ffa::VERSION {
            [ffa::NOT_SUPPORTED as u32 as u64, 0, 0, 0, 0, 0, 0, 0]
        } else {
            error_regs(ffa::NOT_SUPPORTED)
        };
        return answer_ns(cpu, r);
    }
    match fid {
        ffa::VERSION => {
            let requested = r[1] as u32;
            if requested & (1 << 31) != 0 {
                // Not a version word: FFA_VERSION answers NOT_SUPPORTED in w0.
                return answer_ns(cpu, [ffa::NOT_SUPPORTED as u32 as u64, 0, 0, 0, 0, 0, 0, 0]);
            }
            let req = [
                ffa::MSG_SEND_DIRECT_REQ_32 as u64,
                ffa::direct_ids(ffa::SPMD_ID, ffa::SPMC_ID),
                ffa::FWK_MSG_BIT | ffa::FWK_MSG_VERSION_REQ,
                requested as u64,
                0,
                0,
                0,
                0,
            ];
            enter_spmc(cpu, req, Pending::FfaVersion)
        }
        ffa::ID_GET => answer_ns(cpu, success32(ffa::NS_ENDPOINT_ID as u64)),
        ffa::SPM_ID_GET => answer_ns(cpu, success32(ffa::SPMC_ID as u64)),
        f if secure_only(f) => answer_ns(cpu, error_regs(ffa::NOT_SUPPORTED)),
        ffa::MSG_SEND_DIRECT_REQ_32 | ffa::MSG_SEND_DIRECT_REQ_64
            if ffa::is_secure_id(ffa::direct_src(r[1])) || ffa::direct_dst(r[1]) == ffa::SPMD_ID =>
        {
            // A normal-world caller cannot speak for a secure endpoint (nor
            // for the SPMD), nor send the SPMD requests.
            answer_ns(cpu, error_regs(ffa::INVALID_PARAMETERS))
        }
        _ => {
            let mut fwd = r;
            fwd[0] = fid as u64;
            enter_spmc(cpu, fwd, Pending::FfaCall)
        }
    }
}

/// The SPMC's answer to a PSCI event; returns the context to run (the
/// caller then parks or powers off).
pub fn power_event(cpu: &mut CpuContext, ev: PowerEvent, psci_fid: u32) -> *mut WorldContext {
    let req = [
        ffa::MSG_SEND_DIRECT_REQ_32 as u64,
        ffa::direct_ids(ffa::SPMD_ID, ffa::SPMC_ID),
        ffa::FWK_MSG_BIT | ffa::FWK_MSG_PSCI,
        psci_fid as u64,
        0,
        0,
        0,
        0,
    ];
    enter_spmc(cpu, req, Pending::FfaPower(ev))
}

/// Whether PSCI events on this CPU go to the SPMC.
pub fn spmc_present() -> bool {
    up(arch::this_cpu())
}

/// A secure interrupt (FIQ at EL3) while the normal world ran: the SPMC
/// handles it and answers `FFA_NORMAL_WORLD_RESUME`.
pub fn secure_interrupt(cpu: &mut CpuContext) -> *mut WorldContext {
    INTERRUPTS.fetch_add(1, Ordering::Relaxed);
    enter_spmc(cpu, [ffa::INTERRUPT as u64, 0, 0, 0, 0, 0, 0, 0], Pending::FfaInterrupt)
}

/// Whether secure interrupts taken from the normal world go to the SPMC.
pub fn takes_interrupts() -> bool {
    up(arch::this_cpu())
}

/// `FFA_FEATURES` from the SPMC, for the calls the SPMD itself answers.
fn features_for_spmc(q: u32) -> [u64; 8] {
    match q {
        ffa::VERSION
        | ffa::FEATURES
        | ffa::ID_GET
        | ffa::SPM_ID_GET
        | ffa::SECONDARY_EP_REGISTER_64
        | ffa::MSG_WAIT
        | ffa::ERROR
        | ffa::SUCCESS_32
        | ffa::SUCCESS_64
        | ffa::MSG_SEND_DIRECT_RESP_32
        | ffa::MSG_SEND_DIRECT_RESP_64
        | ffa::NORMAL_WORLD_RESUME => success32(0),
        _ => error_regs(ffa::NOT_SUPPORTED),
    }
}

/// Answers that end a forwarded normal-world call.
fn is_answer(fid: u32) -> bool {
    matches!(
        fid,
        ffa::SUCCESS_32
            | ffa::SUCCESS_64
            | ffa::ERROR
            | ffa::MSG_SEND_DIRECT_RESP_32
            | ffa::MSG_SEND_DIRECT_RESP_64
            | ffa::MEM_FRAG_RX
            | ffa::MEM_FRAG_TX
            | ffa::MEM_RETRIEVE_RESP
            | ffa::INTERRUPT
            | ffa::MSG_WAIT
            | ffa::MSG_YIELD
    )
}

fn fwk_resp(r: &[u64; 8], msg: u64) -> bool {
    r[0] as u32 == ffa::MSG_SEND_DIRECT_RESP_32
        && r[1] as u32 as u64 == ffa::direct_ids(ffa::SPMC_ID, ffa::SPMD_ID)
        && r[2] as u32 as u64 == ffa::FWK_MSG_BIT | msg
}

/// An SMC from the OS in FF-A mode (`fid` = w0). Returns the context to run.
pub fn from_spmc(cpu: &mut CpuContext) -> *mut WorldContext {
    let me = arch::this_cpu();
    let r = regs8(cpu.ctx(World::Secure));
    let fid = r[0] as u32;
    let answer_spmc = |cpu: &mut CpuContext, a: [u64; 8]| -> *mut WorldContext {
        let s = cpu.ctx(World::Secure);
        set8(s, a);
        s
    };
    // What the SPMD answers itself, whatever the SPMC is doing.
    match fid {
        ffa::VERSION => {
            let v = if r[1] as u32 & (1 << 31) != 0 {
                ffa::NOT_SUPPORTED as u32 as u64
            } else {
                ffa::VERSION_IMPLEMENTED as u64
            };
            return answer_spmc(cpu, [v, 0, 0, 0, 0, 0, 0, 0]);
        }
        ffa::ID_GET => return answer_spmc(cpu, success32(ffa::SPMC_ID as u64)),
        ffa::SPM_ID_GET => return answer_spmc(cpu, success32(ffa::SPMD_ID as u64)),
        ffa::FEATURES => return answer_spmc(cpu, features_for_spmc(r[1] as u32)),
        ffa::SECONDARY_EP_REGISTER_64 => {
            let ep = r[1];
            let end = map::OS_BASE + map::OS_SIZE;
            if ep < map::OS_BASE || ep >= end || !ep.is_multiple_of(4) {
                warn!("SPMC secondary entry {ep:#x} is outside its image");
                return answer_spmc(cpu, error_regs(ffa::INVALID_PARAMETERS));
            }
            SECONDARY_EP.store(ep, Ordering::Release);
            SECONDARY_CTX.store(r[2], Ordering::Release);
            debug!("SPMC secondary entry {ep:#x}");
            return answer_spmc(cpu, success32(0));
        }
        _ => {}
    }
    match (fid, cpu.pending) {
        (ffa::MSG_WAIT, Pending::ColdBoot) => {
            READY.store(true, Ordering::Release);
            CPU_UP[me].store(true, Ordering::Release);
            info!("SPMC initialised (FF-A v1.1, SPMC id {:#x})", ffa::SPMC_ID);
            start_normal_world(cpu)
        }
        (ffa::ERROR, Pending::ColdBoot) => {
            error!("SPMC initialisation failed ({:#x}); running without a secure OS", r[2] as u32);
            start_normal_world(cpu)
        }
        (ffa::MSG_WAIT, Pending::CpuOn) => {
            CPU_UP[me].store(true, Ordering::Release);
            psci::mark_on(me);
            debug!("CPU {me} on (SPMC ready)");
            to_ns(cpu, None)
        }
        (ffa::ERROR, Pending::CpuOn) => {
            error!("SPMC failed to start on CPU {me}; FF-A calls there get NOT_SUPPORTED");
            psci::mark_on(me);
            to_ns(cpu, None)
        }
        (_, Pending::FfaVersion) => {
            let v = if fwk_resp(&r, ffa::FWK_MSG_VERSION_RESP) {
                r[3] as u32 as u64
            } else {
                warn!("SPMC answered the version request with {fid:#x}");
                ffa::NOT_SUPPORTED as u32 as u64
            };
            to_ns(cpu, Some([v, 0, 0, 0, 0, 0, 0, 0]))
        }
        (_, Pending::FfaPower(ev)) => {
            if !fwk_resp(&r, ffa::FWK_MSG_PM_RESP) {
                warn!("SPMC answered the power request with {fid:#x}; going on");
            } else if r[3] as u32 != 0 {
                warn!("SPMC answered the power request with status {}", r[3] as u32 as i32);
            }
            finish_power(cpu, ev)
        }
        (ffa::NORMAL_WORLD_RESUME, Pending::FfaInterrupt) => to_ns(cpu, None),
        (f, Pending::FfaCall) if is_answer(f) => to_ns(cpu, Some(r)),
        (_, pending) => {
            warn!("unexpected FF-A SMC {fid:#x} from the SPMC (pending {pending:?})");
            answer_spmc(cpu, error_regs(ffa::NOT_SUPPORTED))
        }
    }
}

fn finish_power(cpu: &mut CpuContext, ev: PowerEvent) -> *mut WorldContext {
    let me = arch::this_cpu();
    cpu.pending = Pending::None;
    if ev != PowerEvent::CpuOff {
        info!("SPMD: {} secure interrupts delivered with FFA_INTERRUPT", INTERRUPTS.load(Ordering::Relaxed));
    }
    match ev {
        PowerEvent::CpuOff => {
            CPU_UP[me].store(false, Ordering::Release);
            psci::mark_off(me);
            arch::park(me)
        }
        PowerEvent::SystemOff => power::system_off(),
        PowerEvent::SystemReset => power::system_reset(),
    }
}

pub fn start_normal_world(cpu: &mut CpuContext) -> *mut WorldContext {
    let boot = BOOT.get().expect("boot info set at cold boot");
    boot::prepare_normal_world_trees(boot.ns_dtb);
    boot::ns_context(cpu, boot.ns_entry, boot.ns_dtb.get());
    psci::mark_on(arch::this_cpu());
    info!("entering normal world at {:#x}", boot.ns_entry);
    to_ns(cpu, None)
}

/// Warm boot of a CPU in FF-A mode: the SPMC starts at its registered
/// secondary entry in a fresh context. `None`: no entry was registered.
pub fn secondary_entry() -> Option<(u64, u64)> {
    match SECONDARY_EP.load(Ordering::Acquire) {
        0 => None,
        ep => Some((ep, SECONDARY_CTX.load(Ordering::Acquire))),
    }
}
