//! The OS's FF-A mode: oxtee as the S-EL1 SPMC behind an SPMD (ours, or
//! TF-A's with `SPD=spmd`). Chosen at cold boot: the OS asks the monitor for
//! `FFA_VERSION`; an opteed monitor answers UNKNOWN and the OS goes on in
//! the classic mode. Otherwise each CPU serves FF-A in a loop on its entry
//! stack: the SMC that answers one call returns with the next.
//!
//! What the calls mean is `oxtee_core::ffa`'s business (`Os::ffa_call`);
//! here are the hardware-facing parts: secure interrupts (`FFA_INTERRUPT`),
//! the SPMD's power messages, running yielding calls on trusted threads,
//! and answering in FF-A form when a call is aborted.

use crate::arch::{self, gic, interrupt, thread};
use crate::os;
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use log::{error, info, warn};
use oxtee_abi::ffa;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::smc::psci;
use oxtee_core::ffa::{DirectRet, FfaAction, FfaPlatform};
use oxtee_platform::MAX_CPUS;

/// The OS runs as SPMC (set once at cold boot, before any other CPU runs).
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub fn active() -> bool {
    ACTIVE.load(Ordering::Acquire)
}

/// What each CPU is doing in its loop, for the abort path (the answer it
/// still owes): the kind in bits 47:40, a direct request's return route in
/// bits 32:0 (`encode`).
static DOING: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

const IDLE: u64 = 0;
/// A normal-world call answered without a thread.
const CALL: u64 = 1;
/// A yielding call on a trusted thread (the route is kept).
const THREAD: u64 = 2;
const INTERRUPT: u64 = 3;
const POWER: u64 = 4;

fn encode(kind: u64, ret: Option<DirectRet>) -> u64 {
    let r = ret.map_or(0, |r| r.src as u64 | (r.dst as u64) << 16 | (r.is64 as u64) << 32);
    kind << 40 | r
}

fn decode(v: u64) -> (u64, DirectRet) {
    (v >> 40, DirectRet { src: v as u16, dst: (v >> 16) as u16, is64: (v >> 32) & 1 != 0 })
}

fn doing(kind: u64, ret: Option<DirectRet>) {
    DOING[arch::cpu_index()].store(encode(kind, ret), Ordering::Relaxed);
}

fn regs(w0: u32) -> [u64; 8] {
    [w0 as u64, 0, 0, 0, 0, 0, 0, 0]
}

fn error(code: i32) -> [u64; 8] {
    [ffa::ERROR as u64, 0, code as u32 as u64, 0, 0, 0, 0, 0]
}

fn pm_resp(status: i32) -> [u64; 8] {
    [
        ffa::MSG_SEND_DIRECT_RESP_32 as u64,
        ffa::direct_ids(ffa::SPMC_ID, ffa::SPMD_ID),
        ffa::FWK_MSG_BIT | ffa::FWK_MSG_PM_RESP,
        status as u32 as u64,
        0,
        0,
        0,
        0,
    ]
}

/// CPUs in the machine (from the device tree at cold boot): the execution
/// contexts of OP-TEE's partition.
static CPUS: AtomicU16 = AtomicU16::new(1);

/// What the SPMC needs of the platform: the schedule receiver interrupt (a
/// non-secure SGI to this CPU) and the CPU count.
struct Platform;

impl FfaPlatform for Platform {
    fn raise_sri(&self) {
        gic::raise_ns_sgi_self(ffa::SRI_INTID);
    }

    fn cpu_count(&self) -> u16 {
        CPUS.load(Ordering::Relaxed)
    }
}

static PLATFORM: Platform = Platform;

/// The manifest TF-A's SPMD passes an S-EL1 SPMC in x0 (`TOS_FW_CONFIG`,
/// compatible `arm,ffa-core-manifest-1.0`): read at cold boot, before the
/// MMU is on. The SPMD routes by the manifest's `spmc_id`, so one that is
/// not this SPMC's id is worth a warning; the rest is the SPMD's business.
pub fn note_manifest(x0: u64) {
    if let Some(v) = read_manifest(x0) {
        MANIFEST_VERSION.store(v, Ordering::Relaxed);
    }
}

/// The FF-A version in the SPMC manifest (0: none was passed).
static MANIFEST_VERSION: AtomicU32 = AtomicU32::new(0);

fn read_manifest(x0: u64) -> Option<u32> {
    let fdt = arch::read_secure_fdt(x0)?;
    let manifest = fdt
        .find_node("/")
        .and_then(|n| n.compatible())
        .is_some_and(|c| c.all().any(|s| s == "arm,ffa-core-manifest-1.0"));
    if !manifest {
        return None;
    }
    let attr = fdt.find_node("/attribute");
    let get = |name: &str| attr.and_then(|a| a.property(name)).and_then(|p| p.as_usize());
    let (id, major, minor) = (get("spmc_id"), get("maj_ver"), get("min_ver"));
    info!(
        "SPMC manifest at {x0:#x}: spmc_id {:#x}, FF-A {}.{}",
        id.unwrap_or(0),
        major.unwrap_or(0),
        minor.unwrap_or(0)
    );
    if id != Some(ffa::SPMC_ID as usize) {
        warn!("the SPMC manifest's spmc_id is not this SPMC's {:#x}: the SPMD will misroute", ffa::SPMC_ID);
    }
    Some(ffa::version(major.unwrap_or(0) as u16, minor.unwrap_or(0) as u16))
}

/// Cold boot, after the OS is initialised: asks the monitor for an SPMD.
/// Returns if there is none (classic opteed mode); otherwise sets up FF-A
/// mode and serves calls on this CPU for good.
pub fn probe_at_cold_boot(cpus: usize) {
    let v = arch::smc8([ffa::VERSION as u64, ffa::VERSION_IMPLEMENTED as u64, 0, 0, 0, 0, 0, 0])[0] as u32;
    if v & (1 << 31) != 0 {
        // UNKNOWN (-1) from an opteed monitor, or NOT_SUPPORTED.
        return;
    }
    if v >> 16 != 1 {
        warn!("the monitor speaks FF-A {}.{}, not 1.x; staying in the opteed mode", v >> 16, v & 0xffff);
        return;
    }
    let id = arch::smc8(regs(ffa::ID_GET));
    let spm = arch::smc8(regs(ffa::SPM_ID_GET));
    if id[0] as u32 != ffa::SUCCESS_32 || id[2] as u16 != ffa::SPMC_ID {
        warn!("FFA_ID_GET answered {:#x}/{:#x}; expected our id {:#x}", id[0], id[2], ffa::SPMC_ID);
    }
    if spm[0] as u32 == ffa::SUCCESS_32 && spm[2] as u16 != ffa::SPMD_ID {
        warn!("FFA_SPM_ID_GET answered {:#x}; expected the SPMD's {:#x}", spm[2], ffa::SPMD_ID);
    }
    let ep = arch::ffa_secondary_entry_addr();
    let r = arch::smc8([ffa::SECONDARY_EP_REGISTER_64 as u64, ep, 0, 0, 0, 0, 0, 0]);
    if r[0] as u32 != ffa::SUCCESS_32 && r[0] as u32 != ffa::SUCCESS_64 {
        error!("FFA_SECONDARY_EP_REGISTER_64 failed ({:#x} {:#x}): CPUs turned on later get no SPMC", r[0], r[2]);
    }
    gic::donate_private(arch::cpu_index(), ffa::SRI_INTID);
    if MANIFEST_VERSION.load(Ordering::Relaxed) == ffa::VERSION_1_0 {
        // TF-A's SPMD then answers the normal world 1.0 itself.
        info!("the SPMC manifest says FF-A 1.0: the normal world starts at 1.0");
        os().ffa.set_initial_nw_version(ffa::VERSION_1_0);
    }
    CPUS.store(cpus.clamp(1, MAX_CPUS) as u16, Ordering::Relaxed);
    ACTIVE.store(true, Ordering::Release);
    os().set_ffa_platform(&PLATFORM);
    info!(
        "FF-A mode: S-EL1 SPMC {:#x} behind an SPMD (FF-A {}.{}), OP-TEE endpoint {:#x}",
        ffa::SPMC_ID,
        v >> 16,
        v & 0xffff,
        ffa::OPTEE_ID
    );
    serve(regs(ffa::MSG_WAIT))
}

/// Cold boot failed (the abort path, before FF-A mode): an opteed monitor
/// takes `RETURN_ENTRY_DONE` without a vector table and never comes back;
/// an SPMD (known at once if it passed a manifest) expects `FFA_ERROR`,
/// after which it starts the normal world without a secure OS.
pub fn cold_boot_failed() -> ! {
    if MANIFEST_VERSION.load(Ordering::Relaxed) == 0 {
        arch::smc8([oxtee_abi::opteed::RETURN_ENTRY_DONE as u64, 0, 0, 0, 0, 0, 0, 0]);
        // Back here: the monitor did not take it, so it is an SPMD.
    }
    error!("cold boot failed: FFA_ERROR to the SPMD");
    arch::smc8(error(ffa::ABORTED));
    // Neither took it: nothing left to do on this CPU.
    loop {
        core::hint::spin_loop();
    }
}

/// A CPU turned on (`ffa_secondary_entry`): MMU, interrupts, then serve.
pub extern "C" fn cpu_on() -> ! {
    crate::entry::init_secondary_cpu();
    gic::donate_private(arch::cpu_index(), ffa::SRI_INTID);
    info!("CPU {} online (FF-A)", arch::cpu_index());
    serve(regs(ffa::MSG_WAIT))
}

/// This CPU's loop: `out` answers the previous call (or says ready); the
/// SMC returns with the next call.
fn serve(mut out: [u64; 8]) -> ! {
    loop {
        doing(IDLE, None);
        let call = arch::smc8(out);
        out = handle(call);
    }
}

fn handle(r: [u64; 8]) -> [u64; 8] {
    let fid = r[0] as u32;
    match fid {
        ffa::INTERRUPT => {
            // A secure interrupt while the normal world ran (the SPMD
            // preempted it): handle it, let the normal world go on.
            doing(INTERRUPT, None);
            interrupt::handle_native();
            regs(ffa::NORMAL_WORLD_RESUME)
        }
        ffa::MSG_SEND_DIRECT_REQ_32
            if ffa::direct_src(r[1]) == ffa::SPMD_ID
                && r[2] & ffa::FWK_MSG_BIT != 0
                && r[2] & ffa::FWK_MSG_TYPE_MASK == ffa::FWK_MSG_PSCI =>
        {
            doing(POWER, None);
            pm_resp(power(r[3] as u32))
        }
        _ => {
            doing(CALL, None);
            if crate::entry::halted() {
                return error(ffa::ABORTED);
            }
            match os().ffa_call(&r) {
                FfaAction::Reply(out) => out,
                FfaAction::Thread { call, ret } => {
                    doing(THREAD, Some(ret));
                    let res = match call[0] as u32 {
                        smc::RETURN_FROM_RPC => thread::resume(call),
                        _ => thread::start(call),
                    };
                    arch::user::restore_ns_fp();
                    doing(CALL, None);
                    os().ffa_thread_done(ret, res)
                }
            }
        }
    }
}

/// The SPMD's PSCI framework message: what the opteed vectors do for the
/// same events. Returns the PSCI status for the PM response.
fn power(fid: u32) -> i32 {
    match fid {
        psci::PSCI_CPU_OFF => {
            info!("CPU {} going off", arch::cpu_index());
            0
        }
        psci::PSCI_SYSTEM_OFF => {
            info!("system off");
            0
        }
        psci::PSCI_SYSTEM_RESET => {
            info!("system reset");
            0
        }
        other => {
            warn!("PSCI message {other:#x} from the SPMD: not supported");
            psci::error::NOT_SUPPORTED
        }
    }
}

/// The abort path in FF-A mode (`entry::exception`, on this CPU's entry
/// stack): answers what the CPU was doing, then serves on. `aborted`: the
/// SMC-form result of the aborted call if it ran on a trusted thread.
pub fn after_abort(aborted: Option<[u64; 4]>) -> ! {
    let (kind, ret) = decode(DOING[arch::cpu_index()].load(Ordering::Relaxed));
    let out = match (kind, aborted) {
        (THREAD, Some(r)) => os().ffa_thread_done(ret, r),
        (INTERRUPT, _) => regs(ffa::NORMAL_WORLD_RESUME),
        (POWER, _) => pm_resp(0),
        (IDLE, None) => regs(ffa::MSG_WAIT),
        _ => error(ffa::ABORTED),
    };
    serve(out)
}
