//! The fast-call battery each CPU runs: every OP-TEE fast call against the
//! values in `oxtee-abi`, SMCCC arch calls, bad and reserved function ids,
//! and the register-preservation rules of the calling convention.

use crate::arch::{self, Probe};
use crate::checks::{check, eq};
use oxtee_abi::optee_smc::{self as smc, SecCaps};
use oxtee_abi::smc as smccc;
use oxtee_platform::map;

const UNKNOWN32: u64 = 0xffff_ffff;

fn call(id: u32, a1: u64) -> [u64; 4] {
    arch::smc([id as u64, a1, 0, 0, 0, 0, 0, 0])
}

fn words(r: [u64; 4]) -> [u32; 4] {
    r.map(|v| v as u32)
}

/// Fast calls the OS implements; CALLS_COUNT must report exactly these.
const IMPLEMENTED: [u32; 12] = [
    smc::CALLS_COUNT,
    smc::CALLS_UID,
    smc::CALLS_REVISION,
    smc::GET_OS_UUID,
    smc::GET_OS_REVISION,
    smc::GET_SHM_CONFIG,
    smc::EXCHANGE_CAPABILITIES,
    smc::DISABLE_SHM_CACHE,
    smc::ENABLE_SHM_CACHE,
    smc::GET_THREAD_COUNT,
    smc::ENABLE_ASYNC_NOTIF,
    smc::GET_ASYNC_NOTIF_VALUE,
];

pub fn battery(cpu: usize, cpus: usize) {
    eq(cpu, "CALLS_UID", words(call(smc::CALLS_UID, 0)), smc::API_UID);
    let r = call(smc::CALLS_REVISION, 0);
    eq(cpu, "CALLS_REVISION", (r[0], r[1]), (smc::API_REVISION_MAJOR as u64, smc::API_REVISION_MINOR as u64));
    eq(cpu, "CALLS_COUNT", call(smc::CALLS_COUNT, 0)[0], IMPLEMENTED.len() as u64);
    eq(cpu, "GET_OS_UUID", words(call(smc::GET_OS_UUID, 0)), smc::OS_OPTEE_UUID);
    let r = call(smc::GET_OS_REVISION, 0);
    eq(cpu, "GET_OS_REVISION", (r[0], r[1]), (smc::OS_REVISION_MAJOR as u64, smc::OS_REVISION_MINOR as u64));
    check(r[2] != 0, cpu, "GET_OS_REVISION build id", format_args!("build id is 0"));
    eq(
        cpu,
        "GET_SHM_CONFIG",
        call(smc::GET_SHM_CONFIG, 0),
        [smc::RETURN_OK as u64, map::STATIC_SHM_BASE, map::STATIC_SHM_SIZE, smc::SHM_CACHED as u64],
    );
    let r = call(smc::EXCHANGE_CAPABILITIES, 0);
    let caps = SecCaps::HAVE_RESERVED_SHM
        .union(SecCaps::DYNAMIC_SHM)
        .union(SecCaps::MEMREF_NULL)
        .union(SecCaps::RPC_ARG)
        .union(SecCaps::ASYNC_NOTIF);
    // a2: one above the highest notification value (sleeping-lock keys
    // go up to 255).
    eq(cpu, "EXCHANGE_CAPABILITIES", (r[0], r[1], r[2], r[3]), (smc::RETURN_OK as u64, caps.0, 256, 4));
    // Nothing is pending before the normal world has enabled them.
    let r = call(smc::GET_ASYNC_NOTIF_VALUE, 0);
    eq(cpu, "GET_ASYNC_NOTIF_VALUE", (r[0], r[2]), (smc::RETURN_OK as u64, 0));
    let r = call(smc::EXCHANGE_CAPABILITIES, smc::NSEC_CAP_UNIPROCESSOR);
    eq(cpu, "EXCHANGE_CAPABILITIES uniprocessor", r[0], smc::RETURN_OK as u64);
    let r = call(smc::EXCHANGE_CAPABILITIES, 1 << 7);
    eq(cpu, "EXCHANGE_CAPABILITIES unknown cap", r[0], smc::RETURN_ENOTAVAIL as u64);
    let r = call(smc::GET_THREAD_COUNT, 0);
    eq(cpu, "GET_THREAD_COUNT status", r[0], smc::RETURN_OK as u64);
    check(r[1] >= 2 * cpus as u64, cpu, "GET_THREAD_COUNT >= 2/CPU", format_args!("{} threads", r[1]));
    // Other CPUs run yielding calls meanwhile, and both calls are refused
    // with EBUSY while any trusted thread is busy (as OP-TEE does).
    let r = call(smc::ENABLE_SHM_CACHE, 0)[0];
    check(r == smc::RETURN_OK as u64 || r == smc::RETURN_EBUSY as u64, cpu, "ENABLE_SHM_CACHE", format_args!("{r:#x}"));
    let r = call(smc::DISABLE_SHM_CACHE, 0);
    let ok = [smc::RETURN_ENOTAVAIL, smc::RETURN_EBUSY].contains(&(r[0] as u32))
        || (r[0] == smc::RETURN_OK as u64 && ((r[1] << 32) | r[2]) != 0);
    check(ok, cpu, "DISABLE_SHM_CACHE", format_args!("{r:#x?}"));
    if r[0] == smc::RETURN_OK as u64 {
        crate::driver::release_cached((r[1] << 32) | r[2]);
    }

    // Bit 16 is the SMCCC 1.3 SVE hint: ignored, as TF-A does.
    eq(cpu, "SVE hint bit ignored", words(call(smc::GET_OS_UUID | 1 << 16, 0)), smc::OS_OPTEE_UUID);
    // Only w0 names an SMC32 function: junk in the upper half is ignored.
    let r = arch::smc([0xdead_beef_0000_0000 | smc::CALLS_REVISION as u64, 0, 0, 0, 0, 0, 0, 0]);
    eq(cpu, "upper bits of x0 ignored", (r[0], r[1]), (2, 0));
    // Arguments a call does not use do not change its answer.
    let r = arch::smc([smc::CALLS_UID as u64, !0, !0, !0, !0, !0, !0, !0]);
    eq(cpu, "CALLS_UID with junk args", words(r), smc::API_UID);

    bad_ids(cpu);
    smccc_arch(cpu);
    preservation(cpu);
}

fn bad_ids(cpu: usize) {
    let unknown: [(u32, &str); 11] = [
        (0xb200_0002, "unused OS fast id"),
        (0xb200_00ff, "OS fast id 0xff"),
        (0xbf00_ff02, "unused API id"),
        (smc::L2CC_MUTEX, "L2CC mutex (AArch32 only)"),
        (0xf200_0000, "SMC64 OS id"),
        (0xb202_0000, "reserved bits 23:17 set"),
        (0xbf7f_ff01, "reserved bits on CALLS_UID"),
        (0x8100_0000, "CPU service owner"),
        (0x8200_0000, "SiP owner"),
        (0xb000_0000, "trusted-app owner"),
        (0x0000_0000, "yielding arch id"),
    ];
    for (id, name) in unknown {
        let r = call(id, 0);
        eq(cpu, name, r[0] & 0xffff_ffff, UNKNOWN32);
    }
    // An unknown yielding function reaches the OS, which refuses it as OP-TEE does.
    eq(cpu, "unknown yielding id", call(0x3200_ffff, 0)[0], smc::RETURN_EBADCMD as u64);
}

/// Cortex-A57 (MIDR implementer Arm, part 0xd07), the CPU of every run.
fn is_cortex_a57() -> bool {
    let midr = arch::midr();
    (midr >> 24) & 0xff == 0x41 && (midr >> 4) & 0xfff == 0xd07
}

fn features(q: u32) -> i64 {
    call(smccc::SMCCC_ARCH_FEATURES, q as u64)[0] as i32 as i64
}

fn smccc_arch(cpu: usize) {
    // SMCCC 1.1 or later (ARCH_FEATURES, the workaround calls); ours is 1.2.
    let v = call(smccc::SMCCC_VERSION, 0)[0];
    let (major, minor) = ((v >> 16) & 0x7fff, v & 0xffff);
    let least_minor = if crate::firmware::ours() { 2 } else { 1 };
    check(v >> 31 == 0 && major == 1 && minor >= least_minor, cpu, "SMCCC_VERSION", format_args!("{v:#x}"));
    eq(cpu, "ARCH_FEATURES(ARCH_FEATURES)", features(smccc::SMCCC_ARCH_FEATURES), 0);
    eq(cpu, "ARCH_FEATURES(VERSION)", features(smccc::SMCCC_VERSION), 0);
    let unknown = features(0x8000_7000);
    eq(cpu, "ARCH_FEATURES(unknown arch id)", unknown, smccc::SMCCC_NOT_SUPPORTED as i64);
    if is_cortex_a57() {
        // Spectre v2 and BHB: the firmware invalidates the branch predictor
        // (WORKAROUND_1/3 needed); Spectre v4: mitigated for good at reset.
        eq(cpu, "ARCH_FEATURES(WORKAROUND_1) on Cortex-A57", features(smccc::SMCCC_ARCH_WORKAROUND_1), 0);
        eq(
            cpu,
            "ARCH_FEATURES(WORKAROUND_2) on Cortex-A57",
            features(smccc::SMCCC_ARCH_WORKAROUND_2),
            smccc::SMCCC_NOT_REQUIRED as i64,
        );
        eq(cpu, "ARCH_FEATURES(WORKAROUND_3) on Cortex-A57", features(smccc::SMCCC_ARCH_WORKAROUND_3), 0);
    }
    for (wa, name) in
        [(smccc::SMCCC_ARCH_WORKAROUND_1, "WORKAROUND_1"), (smccc::SMCCC_ARCH_WORKAROUND_3, "WORKAROUND_3")]
    {
        if features(wa) == 0 {
            // The call returns, and keeps every register SMCCC says it must.
            preserved(cpu, wa, name);
        }
    }
}

/// Registers a call must preserve (x4-x28, q0-q7), checked around one SMC.
fn preserved(cpu: usize, id: u32, name: &str) {
    let mut p = Probe { x: [0; 29], q: [0; 8] };
    for (i, r) in p.x.iter_mut().enumerate() {
        *r = 0x5eed_0000_0000_0000 | ((cpu as u64) << 32) | i as u64;
    }
    for (i, q) in p.q.iter_mut().enumerate() {
        *q = 0xf00d_0000_0000_0000_0000_0000_0000_0000 | ((cpu as u128) << 64) | i as u128;
    }
    p.x[0] = id as u64;
    let seed = (p.x, p.q);
    arch::probe(&mut p);
    let x_ok = p.x[4..] == seed.0[4..];
    check(x_ok, cpu, name, format_args!("x4-x28 changed: {:x?}", &p.x[4..]));
    check(p.q == seed.1, cpu, name, format_args!("q0-q7 changed"));
}

/// SMCCC: x4-x17 are preserved unless they carry results, and so are
/// x18-x28 and the FP/SIMD registers. Checked across a call the monitor
/// answers itself and one that goes through the trusted OS.
fn preservation(cpu: usize) {
    preserved(cpu, smccc::SMCCC_VERSION, "monitor-only call");
    preserved(cpu, smc::CALLS_UID, "OS fast call");
}
