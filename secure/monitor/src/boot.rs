//! Cold and warm boot: find the trusted OS in the firmware package, copy it
//! into secure RAM, and prepare each CPU's first entry into the OS.

use crate::arch;
use crate::arch::mem as platform_mem;
use crate::context::{CpuContext, El1Regs, Pending, World, WorldContext, this_cpu_context};
use crate::psci;
use log::{debug, error, info, warn};
use oxtee_abi::addr::{NsPhys, SecPhys};
use oxtee_abi::ffa_manifest;
use oxtee_abi::opteed::Vector;
use oxtee_platform::{dtb, map};

use spin::Once;

/// SCR_EL3 bits.
const SCR_NS: u64 = 1 << 0;
const SCR_FIQ: u64 = 1 << 2;
const SCR_RES1: u64 = 0b11 << 4;
const SCR_HCE: u64 = 1 << 8;
/// Secure state never fetches instructions from non-secure memory.
const SCR_SIF: u64 = 1 << 9;
const SCR_RW: u64 = 1 << 10;
const SCR_ST: u64 = 1 << 11;

/// SPSR: AArch64, all of DAIF masked, in EL1h or EL2h.
const SPSR_EL1H_MASKED: u64 = 0x3c5;
const SPSR_EL2H_MASKED: u64 = 0x3c9;

/// Secure world: lower ELs AArch64, S-EL1 may use the secure timer, no
/// instruction fetch from non-secure memory, and every interrupt taken
/// there stays at S-EL1 (IRQ, FIQ and EA clear; the OS hands normal-world
/// interrupts back itself, as OP-TEE does under TF-A's opteed).
pub const SCR_SECURE: u64 = SCR_RES1 | SCR_RW | SCR_ST | SCR_SIF;

pub fn scr_nonsecure() -> u64 {
    // Secure (group 0/1S) interrupts that arrive while the normal world runs
    // come to EL3 as FIQ and are passed to the OS's fiq vector; IRQs and
    // external aborts stay with the normal world. SIF is set in both
    // worlds' values, as TF-A does (it only acts in secure state).
    let hce = if arch::has_el2() { SCR_HCE } else { 0 };
    SCR_RES1 | SCR_RW | SCR_ST | SCR_NS | SCR_FIQ | SCR_SIF | hce
}

pub struct BootInfo {
    pub ns_entry: NsPhys,
    pub ns_dtb: NsPhys,
}

pub static BOOT: Once<BootInfo> = Once::new();

/// Builds a fresh secure context that enters the OS at `pc`.
fn os_context(cpu: &mut CpuContext, pc: SecPhys, args: [u64; 4]) {
    let runtime_sp = cpu.world[0].runtime_sp;
    let ctx = cpu.ctx(World::Secure);
    *ctx = WorldContext { runtime_sp, pmcr_el0: arch::initial_pmcr(), ..Default::default() };
    ctx.x[..4].copy_from_slice(&args);
    ctx.elr_el3 = pc.get();
    ctx.spsr_el3 = SPSR_EL1H_MASKED;
    ctx.scr_el3 = SCR_SECURE;
}

/// Enters the OS through one of its opteed vectors for a synchronous event.
pub fn os_vector_context(cpu: &mut CpuContext, v: Vector, x0: u64) {
    let base = crate::dispatch::os_vectors().unwrap_or(0);
    let ctx = cpu.ctx(World::Secure);
    ctx.elr_el3 = base + v.offset() as u64;
    // As TF-A's opteed: keep the PSTATE the OS had at its last SMC (OP-TEE
    // runs in EL1t and relies on it); only a fresh context gets EL1h.
    if v == Vector::CpuOn || ctx.spsr_el3 == 0 {
        ctx.spsr_el3 = SPSR_EL1H_MASKED;
    }
    ctx.scr_el3 = SCR_SECURE;
    ctx.x[0] = x0;
}

/// Prepares the normal world's first entry on this CPU.
pub fn ns_context(cpu: &mut CpuContext, pc: NsPhys, x0: u64) {
    let runtime_sp = cpu.world[1].runtime_sp;
    let ctx = cpu.ctx(World::NonSecure);
    *ctx = WorldContext { runtime_sp, pmcr_el0: arch::initial_pmcr(), ..Default::default() };
    ctx.x[0] = x0;
    ctx.elr_el3 = pc.get();
    ctx.spsr_el3 = if arch::has_el2() { SPSR_EL2H_MASKED } else { SPSR_EL1H_MASKED };
    ctx.scr_el3 = scr_nonsecure();
    cpu.el1[World::NonSecure as usize] = El1Regs::reset();
    cpu.fp[World::NonSecure as usize] = Default::default();
}

fn init_cpu(cpu_index: usize) -> &'static mut CpuContext {
    arch::init_el3();
    arch::gic::init_cpu(cpu_index, arch::has_gicv3_sysregs());
    let cpu = this_cpu_context();
    let sp = crate::context::stack_top(cpu_index);
    cpu.world[0].runtime_sp = sp;
    cpu.world[1].runtime_sp = sp;
    cpu
}

/// The SPMC manifest (`oxtee_abi::ffa_manifest`), in the monitor's memory
/// (8-byte aligned, as libfdt wants a tree).
#[repr(align(8))]
struct Manifest([u8; ffa_manifest::MAX_SIZE]);
static MANIFEST: Once<Manifest> = Once::new();

/// Writes the SPMC manifest TF-A's SPMD would pass (id, FF-A 1.1, where
/// the OS image lies) and returns its address, cleaned to the point of
/// coherency for an OS that reads it with its MMU off.
fn spmc_manifest(load: u64, entry: u64) -> u64 {
    let m = ffa_manifest::CoreManifest {
        spmc_id: oxtee_abi::ffa::SPMC_ID,
        version: oxtee_abi::ffa::VERSION_1_1,
        load_address: load,
        entrypoint: entry,
        binary_size: map::OS_SIZE as u32,
    };
    let buf = &MANIFEST
        .call_once(|| {
            let mut b = Manifest([0; ffa_manifest::MAX_SIZE]);
            m.write(&mut b.0);
            b
        })
        .0;
    let addr = buf.as_ptr() as u64;
    arch::mmu::clean_invalidate(addr, buf.len() as u64);
    addr
}

/// Primary CPU, first Rust code after reset. Returns the context to enter.
pub extern "C" fn cold_boot() -> *mut WorldContext {
    arch::mmu::init();
    crate::init_logging();
    info!("oxtee monitor {} starting (EL3)", env!("CARGO_PKG_VERSION"));
    arch::gic::init_distributor(arch::has_gicv3_sysregs());
    let cpu = init_cpu(0);

    let header = match platform_mem::read_package_header() {
        Ok(h) => h,
        Err(e) => crate::fatal(format_args!("firmware package: {e:?}")),
    };
    // QEMU's own tree, at the base of RAM: the machine's shape, and the
    // secure world's per-boot seed. The OS gets it (as TF-A hands OP-TEE the
    // tree QEMU left there); the normal world gets its payload's tree.
    let topo = platform_mem::read_topology(NsPhys::new(map::NS_DTB_ADDR));
    psci::init(topo.cpus, topo.dram);
    info!(
        "OS image {:#x} bytes -> {:#x}, entry {:#x}; normal world entry {:#x}; {} CPU(s)",
        header.os_size, header.os_load_addr, header.os_entry, header.ns_entry, topo.cpus
    );
    platform_mem::copy_os_image(&header);
    if header.spmd() {
        crate::spmd::enable();
        info!("FF-A: SPMD, the OS is the S-EL1 SPMC");
    }
    BOOT.call_once(|| BootInfo { ns_entry: NsPhys::new(header.ns_entry), ns_dtb: NsPhys::new(header.ns_dtb) });

    // opteed's cold-boot registers: x0 pageable part, x1 memory limit (both
    // unused here), x2 device tree. An SPMD also passes the SPMC manifest
    // in x0, as TF-A's does.
    let x0 = if header.spmd() { spmc_manifest(header.os_load_addr, header.os_entry) } else { 0 };
    os_context(cpu, SecPhys::new(header.os_entry), [x0, 0, map::NS_DTB_ADDR, 0]);
    cpu.el1[World::Secure as usize] = El1Regs::reset();
    cpu.pending = Pending::ColdBoot;
    cpu.load(World::Secure);
    cpu.ctx(World::Secure)
}

/// After the OS's cold boot, before the normal world first runs: the
/// secure seeds leave QEMU's tree (whatever the OS did with them), and a
/// payload tree of its own gets QEMU's per-boot normal-world seeds in the
/// placeholders `cargo xtask` left for them.
pub fn prepare_normal_world_trees(ns_dtb: NsPhys) {
    let qemu_dtb = NsPhys::new(map::NS_DTB_ADDR);
    match platform_mem::with_tree(qemu_dtb, dtb::remove_secure_seeds) {
        Some(Ok(n)) => debug!("{n} secure seed propert(ies) removed from QEMU's device tree"),
        Some(Err(e)) => warn!("QEMU's device tree: {e:?}; secure seeds may remain"),
        None => warn!("no device tree at {:#x}", map::NS_DTB_ADDR),
    }
    if ns_dtb == qemu_dtb {
        return;
    }
    match platform_mem::with_trees(qemu_dtb, ns_dtb, dtb::copy_seeds) {
        Some(Ok(r)) => debug!("payload device tree seeds: {r:?}"),
        Some(Err(e)) => warn!("payload device tree at {ns_dtb:#x}: {e:?}"),
        None => {
            // Without QEMU's values, placeholders must not pass for entropy.
            let gone = platform_mem::with_tree(ns_dtb, |d| {
                dtb::SEED_PROPERTIES
                    .iter()
                    .map(|name| dtb::nop_property(d, "/chosen", name).unwrap_or(0))
                    .sum::<usize>()
            });
            warn!("no seeds for the payload device tree at {ns_dtb:#x}; placeholders removed: {gone:?}");
        }
    }
}

/// A secondary CPU released by CPU_ON. Returns the context to enter.
pub extern "C" fn warm_boot() -> *mut WorldContext {
    let index = arch::this_cpu();
    let cpu = init_cpu(index);
    let Some(req) = psci::take_on_request(index) else {
        error!("woke without a CPU_ON request; parking");
        arch::park(index);
    };
    ns_context(cpu, req.entry, req.context_id);
    if crate::spmd::ready() {
        let Some((ep, ctx)) = crate::spmd::secondary_entry() else {
            error!("the SPMC registered no secondary entry; CPU {index} runs without it");
            psci::mark_on(index);
            cpu.load(World::NonSecure);
            return cpu.ctx(World::NonSecure);
        };
        // A fresh context at the registered entry, as TF-A's SPMD does.
        os_context(cpu, SecPhys::new(ep), [ctx, 0, 0, 0]);
        cpu.el1[World::Secure as usize] = El1Regs::reset();
        cpu.pending = Pending::CpuOn;
        cpu.load(World::Secure);
        return cpu.ctx(World::Secure);
    }
    match crate::dispatch::os_vectors() {
        Some(_) => {
            // TF-A re-initialises the secure context for cpu_on.
            let runtime_sp = cpu.world[0].runtime_sp;
            *cpu.ctx(World::Secure) = WorldContext { runtime_sp, pmcr_el0: arch::initial_pmcr(), ..Default::default() };
            cpu.el1[World::Secure as usize] = El1Regs::reset();
            os_vector_context(cpu, Vector::CpuOn, 0);
            cpu.pending = Pending::CpuOn;
            cpu.load(World::Secure);
            cpu.ctx(World::Secure)
        }
        None => {
            psci::mark_on(index);
            cpu.load(World::NonSecure);
            cpu.ctx(World::NonSecure)
        }
    }
}
