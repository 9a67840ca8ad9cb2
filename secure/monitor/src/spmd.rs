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
//! The routing rules are pure functions in `oxtee_abi::ffa_spmd`
//! (host-tested); this file applies them to the CPU's contexts.

use crate::arch::{self, power};
use crate::boot::{self, BOOT};
use crate::context::{CpuContext, Pending, PowerEvent, World, WorldContext};
use crate::psci;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use log::{debug, error, info, warn};
use oxtee_abi::ffa;
use oxtee_abi::ffa_spmd::{self as route, NsRoute, SpmcRoute, Waiting};
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

/// An FF-A call (`fid` in the FF-A range) from the normal world.
pub fn from_ns(cpu: &mut CpuContext, fid: u32) -> *mut WorldContext {
    let me = arch::this_cpu();
    let mut r = regs8(cpu.ctx(World::NonSecure));
    r[0] = fid as u64;
    if !up(me) {
        // No SPMC on this CPU (FFA_VERSION answers in w0 alone).
        let r = if fid == ffa::VERSION {
            route::version_answer(ffa::NOT_SUPPORTED as u32)
        } else {
            route::error(ffa::NOT_SUPPORTED)
        };
        return answer_ns(cpu, r);
    }
    match route::route_ns(&r) {
        NsRoute::Answer(a) => answer_ns(cpu, a),
        NsRoute::Version(v) => {
            enter_spmc(cpu, route::framework_req(ffa::FWK_MSG_VERSION_REQ, v as u64), Pending::FfaVersion)
        }
        NsRoute::Forward(f) => enter_spmc(cpu, f, Pending::FfaCall),
    }
}

/// The SPMC's answer to a PSCI event; returns the context to run (the
/// caller then parks or powers off).
pub fn power_event(cpu: &mut CpuContext, ev: PowerEvent, psci_fid: u32) -> *mut WorldContext {
    enter_spmc(cpu, route::framework_req(ffa::FWK_MSG_PSCI, psci_fid as u64), Pending::FfaPower(ev))
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

fn waiting(p: Pending) -> Waiting {
    match p {
        Pending::ColdBoot | Pending::CpuOn => Waiting::Boot,
        Pending::FfaCall => Waiting::Call,
        Pending::FfaVersion => Waiting::Version,
        Pending::FfaPower(_) => Waiting::Power,
        Pending::FfaInterrupt => Waiting::Interrupt,
        _ => Waiting::Nothing,
    }
}

/// An SMC from the OS in FF-A mode. Returns the context to run.
pub fn from_spmc(cpu: &mut CpuContext) -> *mut WorldContext {
    let me = arch::this_cpu();
    let r = regs8(cpu.ctx(World::Secure));
    let fid = r[0] as u32;
    let answer_spmc = |cpu: &mut CpuContext, a: [u64; 8]| -> *mut WorldContext {
        let s = cpu.ctx(World::Secure);
        set8(s, a);
        s
    };
    let pending = cpu.pending;
    match route::route_spmc(&r, waiting(pending), (map::OS_BASE, map::OS_SIZE)) {
        SpmcRoute::Local(a) => answer_spmc(cpu, a),
        SpmcRoute::RegisterSecondary { entry, context } => {
            SECONDARY_EP.store(entry, Ordering::Release);
            SECONDARY_CTX.store(context, Ordering::Release);
            debug!("SPMC secondary entry {entry:#x}");
            answer_spmc(cpu, route::success32(0))
        }
        SpmcRoute::Ready if pending == Pending::ColdBoot => {
            READY.store(true, Ordering::Release);
            CPU_UP[me].store(true, Ordering::Release);
            info!("SPMC initialised (FF-A v1.1, SPMC id {:#x})", ffa::SPMC_ID);
            start_normal_world(cpu)
        }
        SpmcRoute::Ready => {
            CPU_UP[me].store(true, Ordering::Release);
            psci::mark_on(me);
            debug!("CPU {me} on (SPMC ready)");
            to_ns(cpu, None)
        }
        SpmcRoute::Failed(e) if pending == Pending::ColdBoot => {
            error!("SPMC initialisation failed ({e}); running without a secure OS");
            start_normal_world(cpu)
        }
        SpmcRoute::Failed(e) => {
            error!("SPMC failed to start on CPU {me} ({e}); FF-A calls there get NOT_SUPPORTED");
            psci::mark_on(me);
            to_ns(cpu, None)
        }
        SpmcRoute::ToNs(a) => {
            if pending == Pending::FfaVersion && route::framework_resp(&r, ffa::FWK_MSG_VERSION_RESP).is_none() {
                warn!("SPMC answered the version request with {fid:#x}");
            }
            to_ns(cpu, a)
        }
        SpmcRoute::PowerDone(status) => {
            match status {
                None => warn!("SPMC answered the power request with {fid:#x}; going on"),
                Some(0) => {}
                Some(s) => warn!("SPMC answered the power request with status {s}"),
            }
            match pending {
                Pending::FfaPower(ev) => finish_power(cpu, ev),
                _ => answer_spmc(cpu, route::error(ffa::NOT_SUPPORTED)),
            }
        }
        SpmcRoute::Refuse => {
            warn!("unexpected FF-A SMC {fid:#x} from the SPMC (pending {pending:?})");
            answer_spmc(cpu, route::error(ffa::NOT_SUPPORTED))
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
