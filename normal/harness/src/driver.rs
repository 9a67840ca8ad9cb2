//! A minimal OP-TEE normal-world driver: issues yielding calls, serves the
//! RPCs the OS makes (argument memory, shared memory, time, notifications,
//! foreign interrupts) and hands back the final status.

use crate::{arch, shm};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use oxtee_abi::optee_smc as smc;
use oxtee_abi::rpc;
use oxtee_abi::tee::TeeResult;
use oxtee_core::msg::{self, Dir, Param};

/// Where a call's argument is.
#[derive(Clone, Copy, Debug)]
pub enum ArgRef {
    /// CALL_WITH_ARG at this physical address.
    Pa(u64),
    /// CALL_WITH_RPC_ARG: the RPC argument follows the argument.
    PaRpc(u64, u32),
    /// CALL_WITH_REGD_ARG: cookie and offset of a registered buffer.
    Regd { cookie: u64, offset: u64 },
}

/// A yielding call in flight: the registers of its next SMC.
#[derive(Clone, Copy, Debug)]
pub struct InFlight {
    pub regs: [u64; 8],
    /// Caller-supplied RPC argument (for RPC_CMD with cookie 0).
    pub rpc_arg: Option<u64>,
}

pub fn begin(arg: ArgRef) -> InFlight {
    match arg {
        ArgRef::Pa(pa) => {
            InFlight { regs: [smc::CALL_WITH_ARG as u64, pa >> 32, pa & 0xffff_ffff, 0, 0, 0, 0, 0], rpc_arg: None }
        }
        ArgRef::PaRpc(pa, num_params) => InFlight {
            regs: [smc::CALL_WITH_RPC_ARG as u64, pa >> 32, pa & 0xffff_ffff, 0, 0, 0, 0, 0],
            rpc_arg: Some(pa + msg::size_for(num_params as usize) as u64),
        },
        ArgRef::Regd { cookie, offset } => InFlight {
            regs: [smc::CALL_WITH_REGD_ARG as u64, cookie >> 32, cookie & 0xffff_ffff, offset, 0, 0, 0, 0],
            rpc_arg: None,
        },
    }
}

pub fn is_rpc(a0: u64) -> bool {
    smc::is_rpc_return(a0 as u32) && a0 >> 32 == 0
}

/// Calls that were refused with ETHREAD_LIMIT and retried.
pub static ETHREAD_RETRIES: AtomicU64 = AtomicU64::new(0);
/// Foreign-interrupt returns seen (the normal world's IRQ ran in between).
pub static FOREIGN_INTR_RETURNS: AtomicU64 = AtomicU64::new(0);
/// RPC buffers handed out and not yet freed.
pub static RPC_ALLOCS: AtomicU64 = AtomicU64::new(0);

/// Frees an RPC argument buffer the OS handed back from its cache
/// (DISABLE_SHM_CACHE), as the normal world must.
pub fn release_cached(cookie: u64) {
    shm::pool_free(cookie);
    RPC_ALLOCS.fetch_sub(1, Ordering::Relaxed);
}

/// Serves one RPC return `r` and gives the registers to resume with.
pub fn service(call: &InFlight, r: [u64; 4]) -> [u64; 8] {
    let mut next = [smc::RETURN_FROM_RPC as u64, 0, 0, r[3], 0, 0, 0, 0];
    match r[0] as u32 {
        smc::RETURN_RPC_ALLOC => {
            if let Some(pa) = shm::pool_alloc(r[1]) {
                RPC_ALLOCS.fetch_add(1, Ordering::Relaxed);
                // The cookie is the address itself.
                next[1..3].copy_from_slice(&[pa >> 32, pa & 0xffff_ffff]);
                next[4..6].copy_from_slice(&[pa >> 32, pa & 0xffff_ffff]);
            }
        }
        smc::RETURN_RPC_FREE => {
            let pa = (r[1] << 32) | r[2];
            shm::pool_free(pa);
            RPC_ALLOCS.fetch_sub(1, Ordering::Relaxed);
        }
        smc::RETURN_RPC_FOREIGN_INTR => {
            FOREIGN_INTR_RETURNS.fetch_add(1, Ordering::Relaxed);
        }
        smc::RETURN_RPC_CMD => {
            let cookie = (r[1] << 32) | r[2];
            let pa = if cookie == 0 { call.rpc_arg.unwrap_or(0) } else { cookie };
            serve_cmd(pa);
        }
        _ => {}
    }
    next
}

/// One SMC of a call in flight.
pub fn issue(call: &InFlight) -> [u64; 4] {
    arch::smc(call.regs)
}

/// Runs a call to completion, serving its RPCs; returns the final a0.
pub fn run(arg: ArgRef) -> u64 {
    run_with(arg, &mut |_| {})
}

/// As `run`, calling `on_rpc` with each RPC code before serving it.
/// Like Linux, a call refused with ETHREAD_LIMIT is retried (other CPUs'
/// calls free threads meanwhile).
pub fn run_with(arg: ArgRef, on_rpc: &mut dyn FnMut(u32)) -> u64 {
    let mut call = begin(arg);
    loop {
        let r = issue(&call);
        if r[0] == smc::RETURN_ETHREAD_LIMIT as u64 && call.regs[0] != smc::RETURN_FROM_RPC as u64 {
            ETHREAD_RETRIES.fetch_add(1, Ordering::Relaxed);
            for _ in 0..1000 {
                core::hint::spin_loop();
            }
            continue;
        }
        if !is_rpc(r[0]) {
            return r[0];
        }
        on_rpc(r[0] as u32);
        call.regs = service(&call, r);
    }
}

const MAX_KEYS: usize = 256;
static POSTED: [AtomicBool; MAX_KEYS] = [const { AtomicBool::new(false) }; MAX_KEYS];
pub static NOTIF_WAITS: AtomicU64 = AtomicU64::new(0);
pub static KERNEL_SHM: AtomicU64 = AtomicU64::new(0);

fn serve_cmd(pa: u64) {
    let mut buf = [0u8; 32 + 32 * 4];
    arch::read_mem(pa, &mut buf);
    let Ok(mut m) = msg::parse(&buf, 4) else {
        return;
    };
    m.hdr.ret = 0;
    let first = m.params.first().copied();
    match (m.hdr.cmd, first) {
        (rpc::CMD_GET_TIME, Some(Param::Value { dir: Dir::Out, .. })) => {
            let (cnt, frq) = (arch::counter(), arch::counter_freq());
            m.params[0] = Param::Value { dir: Dir::Out, a: cnt / frq, b: (cnt % frq) * 1_000_000_000 / frq, c: 0 };
        }
        (rpc::CMD_SHM_ALLOC, Some(Param::Value { dir: Dir::In, a: kind, b: size, .. })) => {
            match shm::pool_alloc(size).filter(|_| kind != rpc::SHM_TYPE_GLOBAL as u64) {
                Some(buf) => {
                    KERNEL_SHM.fetch_add(1, Ordering::Relaxed);
                    m.params[0] = Param::Tmem { dir: Dir::Out, buf, size, shm_ref: buf, noncontig: false };
                }
                None => m.hdr.ret = TeeResult::ERROR_OUT_OF_MEMORY.0,
            }
        }
        (rpc::CMD_SHM_FREE, Some(Param::Value { dir: Dir::In, b: cookie, .. })) => {
            shm::pool_free(cookie);
            KERNEL_SHM.fetch_sub(1, Ordering::Relaxed);
        }
        (rpc::CMD_NOTIFICATION, Some(Param::Value { dir: Dir::In, a, b: key, .. })) if (key as usize) < MAX_KEYS => {
            let k = &POSTED[key as usize];
            if a == rpc::NOTIFICATION_SEND as u64 {
                k.store(true, Ordering::Release);
                arch::sev();
            } else {
                NOTIF_WAITS.fetch_add(1, Ordering::Relaxed);
                // A SEND that came first is remembered; otherwise wait.
                while !k.swap(false, Ordering::AcqRel) {
                    core::hint::spin_loop();
                }
            }
        }
        _ => m.hdr.ret = TeeResult::ERROR_NOT_SUPPORTED.0,
    }
    arch::write_mem(pa, &m.encode());
}
