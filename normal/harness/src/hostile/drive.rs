//! The campaign's own normal-world driver: every SMC it sends is counted,
//! every RPC is served either as Linux would or with a hostile answer, and
//! every buffer lent to the OS (RPC arguments, kernel shared memory) is
//! recorded until the OS gives it back, so a buffer the OS forgets shows up
//! as a resource left behind. Unlike `crate::driver`, nothing here waits
//! without a bound: a call that never ends is reported as a hang.

use super::mem::{self, NsBuf, PAGE};
use super::rng::Rng;
use super::{Cpu, fail};
use crate::{arch, shm};
use alloc::collections::BTreeMap;
use alloc::vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::rpc;
use oxtee_abi::tee::TeeResult;
use oxtee_core::msg::{self, Dir, Message, Param};
use spin::Mutex;

/// SMCs the campaign sent, yielding calls it started, RPCs it served and
/// how many of those it answered with something hostile.
pub static SMCS: AtomicU64 = AtomicU64::new(0);
pub static YIELDING: AtomicU64 = AtomicU64::new(0);
pub static RPCS: AtomicU64 = AtomicU64::new(0);
pub static HOSTILE_ANSWERS: AtomicU64 = AtomicU64::new(0);
/// Calls that did not end within their bound.
pub static HANGS: AtomicU64 = AtomicU64::new(0);
/// NOTIFICATION WAITs that no SEND ended within the bound (answered with
/// an error so the thread can go on).
pub static WAIT_TIMEOUTS: AtomicU64 = AtomicU64::new(0);
/// WAITs answered at once without a SEND (directed sequences only).
pub static SPURIOUS_WAKEUPS: AtomicU64 = AtomicU64::new(0);

/// Longest a call may take, and longest a CPU retries ETHREAD_LIMIT.
const CALL_BOUND_S: u64 = 30;
const WAIT_BOUND_MS: u64 = 500;
/// The RPC argument the OS asks for holds this many parameters.
const RPC_PARAMS: usize = 4;

/// One SMC, counted.
pub fn smc(regs: [u64; 8]) -> [u64; 4] {
    SMCS.fetch_add(1, Ordering::Relaxed);
    let id = regs[0] as u32 & !(1 << 16);
    if matches!(id, smc::CALL_WITH_ARG | smc::CALL_WITH_RPC_ARG | smc::CALL_WITH_REGD_ARG) {
        YIELDING.fetch_add(1, Ordering::Relaxed);
    }
    arch::smc(regs)
}

pub fn is_rpc(a0: u64) -> bool {
    smc::is_rpc_return(a0 as u32) && a0 >> 32 == 0
}

fn join(hi: u64, lo: u64) -> u64 {
    (hi << 32) | (lo & 0xffff_ffff)
}

fn split(v: u64) -> [u64; 2] {
    [v >> 32, v & 0xffff_ffff]
}

/// A buffer lent to the OS under a cookie.
#[derive(Clone, Copy)]
struct Lent {
    /// Static-pool allocation to free when the OS gives it back (None for
    /// addresses the OS must refuse).
    pool: Option<u64>,
    /// Where the OS may read and write it (RPC arguments only).
    pa: u64,
}

/// Largest buffer lent from the static pool (a quarter of it).
const MAX_LEND: u64 = 128 * PAGE;

/// RPC argument buffers (RPC_ALLOC) and kernel shared memory (SHM_ALLOC)
/// the OS holds, by cookie; shared by all CPUs because a cached buffer may
/// come back on any of them.
static RPC_ARGS: Mutex<BTreeMap<u64, Lent>> = Mutex::new(BTreeMap::new());
static KERNEL_SHM: Mutex<BTreeMap<u64, Lent>> = Mutex::new(BTreeMap::new());
static NEXT_COOKIE: AtomicU64 = AtomicU64::new(1);

/// A cookie no honest allocation uses (those are pool addresses).
fn odd_cookie(rng: &mut Rng) -> u64 {
    let n = NEXT_COOKIE.fetch_add(1, Ordering::Relaxed);
    match rng.below(3) {
        0 => 0xc0c0_0000_0000_0000 | n,
        1 => u64::MAX - n,
        _ => n << 32 | 0x8000_0001,
    }
}

pub fn rpc_args_held() -> u64 {
    RPC_ARGS.lock().len() as u64
}

pub fn kernel_shm_held() -> u64 {
    KERNEL_SHM.lock().len() as u64
}

fn give_back(table: &Mutex<BTreeMap<u64, Lent>>, cookie: u64) -> bool {
    match table.lock().remove(&cookie) {
        Some(l) => {
            if let Some(pa) = l.pool {
                shm::pool_free(pa);
            }
            true
        }
        None => false,
    }
}

/// Takes back an RPC argument buffer the OS returned from its cache.
pub fn release_cached(cpu: &Cpu, cookie: u64) {
    if !give_back(&RPC_ARGS, cookie) {
        fail!(cpu, "DISABLE_SHM_CACHE returned cookie {cookie:#x}, which was never lent");
    }
}

/// Empties the OS's cache of RPC argument buffers (every CPU quiet).
pub fn drain_cache(cpu: &Cpu) {
    for _ in 0..10_000 {
        let r = smc([smc::DISABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0]);
        match r[0] as u32 {
            smc::RETURN_OK => release_cached(cpu, join(r[1], r[2])),
            smc::RETURN_ENOTAVAIL => return,
            _ => {
                fail!(cpu, "DISABLE_SHM_CACHE on a quiet system: {:#x}", r[0]);
                return;
            }
        }
    }
    fail!(cpu, "DISABLE_SHM_CACHE kept returning buffers");
}

const KEYS: usize = 256;
static POSTED: [AtomicBool; KEYS] = [const { AtomicBool::new(false) }; KEYS];

/// A yielding call in flight: the registers of its next SMC.
pub struct Call {
    pub regs: [u64; 8],
    /// Where an RPC_CMD with cookie 0 finds its message (the RPC argument
    /// the caller passed with CALL_WITH_RPC_ARG / _REGD_ARG).
    pub rpc_arg: Option<NsBuf>,
    /// Thread the last RETURN_FROM_RPC named.
    resumed: Option<u64>,
}

impl Call {
    pub fn new(regs: [u64; 8], rpc_arg: Option<NsBuf>) -> Call {
        Call { regs, rpc_arg, resumed: None }
    }

    pub fn arg(pa: u64) -> Call {
        Call::new([smc::CALL_WITH_ARG as u64, pa >> 32, pa & 0xffff_ffff, 0, 0, 0, 0, 0], None)
    }

    pub fn rpc_arg(pa: u64, num_params: usize) -> Call {
        let rpc = NsBuf::contiguous(pa + msg::size_for(num_params) as u64, msg::size_for(RPC_PARAMS) as u64);
        Call::new([smc::CALL_WITH_RPC_ARG as u64, pa >> 32, pa & 0xffff_ffff, 0, 0, 0, 0, 0], Some(rpc))
    }
}

pub struct Outcome {
    pub a0: u64,
    pub hung: bool,
}

fn seconds_since(t0: u64) -> u64 {
    (arch::counter() - t0) / arch::counter_freq()
}

/// Sends the call's next SMC and checks an RPC comes from the thread that
/// was resumed.
pub fn step(cpu: &Cpu, call: &mut Call) -> [u64; 4] {
    let r = smc(call.regs);
    if let Some(t) = call.resumed.take()
        && is_rpc(r[0])
        && r[3] != t
    {
        fail!(cpu, "RPC from thread {} right after resuming thread {t}", r[3]);
    }
    r
}

/// Runs a call to its end. With `retry`, a call refused with ETHREAD_LIMIT
/// is retried (other CPUs free threads meanwhile), within the bound.
pub fn run(cpu: &mut Cpu, rng: &mut Rng, hostile: u64, call: &mut Call, retry: bool) -> Outcome {
    let t0 = arch::counter();
    loop {
        let r = step(cpu, call);
        if r[0] == smc::RETURN_ETHREAD_LIMIT as u64 && retry && call.regs[0] != smc::RETURN_FROM_RPC as u64 {
            if seconds_since(t0) > CALL_BOUND_S {
                return hang(cpu, "no trusted thread free", r);
            }
            for _ in 0..2000 {
                core::hint::spin_loop();
            }
            continue;
        }
        return finish(cpu, rng, hostile, call, r);
    }
}

fn hang(cpu: &Cpu, why: &str, r: [u64; 4]) -> Outcome {
    HANGS.fetch_add(1, Ordering::Relaxed);
    fail!(cpu, "HANG: {why} for {CALL_BOUND_S} s");
    Outcome { a0: r[0], hung: true }
}

/// Serves RPCs from `r` on until the call ends.
pub fn finish(cpu: &mut Cpu, rng: &mut Rng, hostile: u64, call: &mut Call, mut r: [u64; 4]) -> Outcome {
    let t0 = arch::counter();
    while is_rpc(r[0]) {
        if seconds_since(t0) > CALL_BOUND_S {
            return hang(cpu, "call still making RPCs", r);
        }
        serve(cpu, rng, hostile, call, r);
        r = step(cpu, call);
    }
    Outcome { a0: r[0], hung: false }
}

/// Answers RPC return `r`: sets `call.regs` to the RETURN_FROM_RPC to send.
/// `hostile` is the percentage of answers that are hostile.
pub fn serve(cpu: &mut Cpu, rng: &mut Rng, hostile: u64, call: &mut Call, r: [u64; 4]) {
    RPCS.fetch_add(1, Ordering::Relaxed);
    let thread = r[3];
    if thread >= cpu.threads {
        fail!(cpu, "RPC return names thread {thread}, beyond the {} threads", cpu.threads);
    }
    let evil = hostile > 0 && rng.chance(hostile);
    if evil {
        HOSTILE_ANSWERS.fetch_add(1, Ordering::Relaxed);
    }
    // Registers the OS must ignore carry junk in a hostile answer; address
    // registers only ever name memory the OS must refuse.
    let mut next = if evil {
        let bad = mem::refused_addr(rng);
        [
            smc::RETURN_FROM_RPC as u64,
            bad >> 32,
            bad & 0xffff_ffff,
            thread,
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next(),
        ]
    } else {
        [smc::RETURN_FROM_RPC as u64, 0, 0, thread, 0, 0, 0, 0]
    };
    match r[0] as u32 {
        smc::RETURN_RPC_ALLOC => {
            let (pa, cookie) = lend(rng, evil, r[1], &RPC_ARGS);
            next[1..3].copy_from_slice(&split(pa));
            next[4..6].copy_from_slice(&split(cookie));
        }
        smc::RETURN_RPC_FREE => {
            let cookie = join(r[1], r[2]);
            if !give_back(&RPC_ARGS, cookie) {
                fail!(cpu, "RPC_FREE of cookie {cookie:#x}, which is not lent (double free?)");
            }
        }
        smc::RETURN_RPC_FOREIGN_INTR => {}
        smc::RETURN_RPC_CMD => {
            if let Some(buf) = rpc_message(cpu, call, r) {
                command(cpu, rng, evil, &buf);
            }
        }
        other => fail!(cpu, "unknown RPC return {other:#x}"),
    }
    call.resumed = Some(thread);
    call.regs = next;
}

/// Where the message of RPC_CMD `r` is.
fn rpc_message(cpu: &Cpu, call: &Call, r: [u64; 4]) -> Option<NsBuf> {
    let cookie = join(r[1], r[2]);
    let lent = RPC_ARGS.lock().get(&cookie).copied();
    match (cookie, lent) {
        (0, _) => call.rpc_arg.clone(),
        (_, Some(Lent { pool: Some(_), pa })) => Some(NsBuf::contiguous(pa, msg::size_for(RPC_PARAMS) as u64)),
        (_, Some(Lent { pa, .. })) => {
            fail!(cpu, "RPC_CMD in memory it should have refused: {pa:#x}");
            None
        }
        (_, None) => {
            fail!(cpu, "RPC_CMD names cookie {cookie:#x}, which is not an RPC argument it holds");
            None
        }
    }
}

/// If `r` is a NOTIFICATION WAIT, answers it at once as if woken, though
/// nobody sent the key (a spurious wake-up), and returns the key.
pub fn wake_spuriously(cpu: &Cpu, call: &mut Call, r: [u64; 4]) -> Option<u64> {
    if r[0] as u32 != smc::RETURN_RPC_CMD {
        return None;
    }
    let buf = rpc_message(cpu, call, r)?;
    let mut m = rpc_msg(&buf)?;
    let key = match (m.hdr.cmd, m.params.first()) {
        (rpc::CMD_NOTIFICATION, Some(Param::Value { a, b, .. })) if *a == rpc::NOTIFICATION_WAIT as u64 => *b,
        _ => return None,
    };
    RPCS.fetch_add(1, Ordering::Relaxed);
    SPURIOUS_WAKEUPS.fetch_add(1, Ordering::Relaxed);
    m.hdr.ret = 0;
    buf.write(0, &m.encode());
    call.resumed = Some(r[3]);
    call.regs = [smc::RETURN_FROM_RPC as u64, 0, 0, r[3], 0, 0, 0, 0];
    Some(key)
}

/// The NOTIFICATION key of RPC `r`, if it is a WAIT (without answering it).
pub fn waits_on(cpu: &Cpu, call: &Call, r: [u64; 4]) -> Option<u64> {
    if r[0] as u32 != smc::RETURN_RPC_CMD {
        return None;
    }
    let m = rpc_msg(&rpc_message(cpu, call, r)?)?;
    match (m.hdr.cmd, m.params.first()) {
        (rpc::CMD_NOTIFICATION, Some(Param::Value { a, b, .. })) if *a == rpc::NOTIFICATION_WAIT as u64 => Some(*b),
        _ => None,
    }
}

/// Keys with a SEND no WAIT has consumed yet.
pub fn pending_posts() -> alloc::vec::Vec<usize> {
    (0..KEYS).filter(|k| POSTED[*k].load(Ordering::Acquire)).collect()
}

/// Forgets every SEND no WAIT consumed (a sequence that lost wake-ups on
/// purpose must not leave them to wake later waiters of the same keys).
pub fn clear_posts() {
    for k in &POSTED {
        k.store(false, Ordering::Release);
    }
}

/// Memory for an RPC_ALLOC or SHM_ALLOC of `size`: (address, cookie). An
/// honest answer is a pool buffer under its own address; a hostile one is
/// refused memory, a pool buffer at an odd offset or under an odd cookie,
/// or nothing. Whatever has a cookie is recorded: the OS must free it.
fn lend(rng: &mut Rng, evil: bool, size: u64, table: &Mutex<BTreeMap<u64, Lent>>) -> (u64, u64) {
    let choice = if evil { rng.below(5) } else { 0 };
    let (pool, pa) = match choice {
        // Nothing: the OS sees an allocation failure and frees nothing.
        1 => return (0, if rng.chance(50) { 0 } else { odd_cookie(rng) }),
        2 => (None, mem::refused_addr(rng) | 1),
        // Runs past the end of RAM.
        3 => (None, mem::RAM_END - rng.range(1, size.max(2) - 1)),
        _ if size > MAX_LEND => return (0, 0),
        // Room for the odd offset of choice 4.
        _ => match shm::pool_alloc(size.max(1) + 64) {
            Some(pa) => (Some(pa), if choice == 4 { pa + 8 * rng.below(8) } else { pa }),
            None => return (0, 0),
        },
    };
    if pa == 0 {
        return (0, 0);
    }
    let cookie = if evil { odd_cookie(rng) } else { pa };
    table.lock().insert(cookie, Lent { pool, pa });
    (pa, cookie)
}

fn rpc_msg(buf: &NsBuf) -> Option<Message> {
    let mut bytes = vec![0u8; msg::size_for(RPC_PARAMS)];
    if !buf.read(0, &mut bytes) {
        return None;
    }
    msg::parse(&bytes, RPC_PARAMS).ok()
}

/// Serves one RPC_CMD whose message is in `buf`, honestly or not.
fn command(cpu: &mut Cpu, rng: &mut Rng, evil: bool, buf: &NsBuf) {
    let Some(mut m) = rpc_msg(buf) else {
        let mut b = [0u8; 64];
        buf.read(0, &mut b);
        fail!(cpu, "the OS's RPC message does not parse {b:x?}");
        return;
    };
    m.hdr.ret = 0;
    let first = m.params.first().copied();
    // Hostile answers that make the reply malformed are decided up front:
    // the OS cannot free what a malformed SHM_ALLOC reply lent, so nothing
    // is lent then.
    let mangle = if evil { rng.below(6) } else { 0 };
    match (m.hdr.cmd, first) {
        (rpc::CMD_GET_TIME, Some(Param::Value { dir: Dir::Out, .. })) => {
            let (cnt, frq) = (arch::counter(), arch::counter_freq());
            let ns = if evil && rng.chance(50) {
                1_000_000_000 + rng.below(1 << 40)
            } else {
                (cnt % frq) * 1_000_000_000 / frq
            };
            m.params[0] = Param::Value { dir: Dir::Out, a: cnt / frq, b: ns, c: 0 };
        }
        (rpc::CMD_SHM_ALLOC, Some(Param::Value { dir: Dir::In, a: kind, b: size, .. })) => {
            if kind == rpc::SHM_TYPE_GLOBAL as u64 || (evil && mangle != 0) {
                m.hdr.ret = TeeResult::ERROR_OUT_OF_MEMORY.0;
            } else if evil && rng.chance(40) {
                // Well formed but hostile: a page list of any shape, or a
                // buffer smaller than asked. Lent under an odd cookie.
                let kind = mem::ListKind::random(rng);
                let want = if rng.chance(30) { size.saturating_sub(rng.range(1, size.max(1))) } else { size };
                let list = mem::page_list(rng, &mut cpu.scratch, kind, want);
                let cookie = odd_cookie(rng);
                KERNEL_SHM.lock().insert(cookie, Lent { pool: None, pa: 0 });
                m.params[0] =
                    Param::Tmem { dir: Dir::Out, buf: list.ptr, size: want, shm_ref: cookie, noncontig: true };
            } else {
                match lend(rng, evil, size, &KERNEL_SHM) {
                    (0, _) => m.hdr.ret = TeeResult::ERROR_OUT_OF_MEMORY.0,
                    (buf, cookie) => {
                        m.params[0] = Param::Tmem { dir: Dir::Out, buf, size, shm_ref: cookie, noncontig: false }
                    }
                }
            }
        }
        (rpc::CMD_SHM_FREE, Some(Param::Value { dir: Dir::In, b: cookie, .. })) => {
            if !give_back(&KERNEL_SHM, cookie) {
                fail!(cpu, "SHM_FREE of cookie {cookie:#x}, which is not lent (double free?)");
            }
        }
        (rpc::CMD_NOTIFICATION, Some(Param::Value { dir: Dir::In, a, b: key, .. })) if (key as usize) < KEYS => {
            let k = &POSTED[key as usize];
            // (No spurious wake-ups here: the OS loses a later wake-up after
            // one, which the directed "mutex waits" sequence shows once.)
            if a == rpc::NOTIFICATION_SEND as u64 {
                k.store(true, Ordering::Release);
                arch::sev();
            } else {
                let t0 = arch::counter();
                let bound = arch::counter_freq() * WAIT_BOUND_MS / 1000;
                while !k.swap(false, Ordering::AcqRel) {
                    if arch::counter() - t0 > bound {
                        WAIT_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
                        m.hdr.ret = TeeResult::ERROR_TIMEOUT.0;
                        break;
                    }
                    core::hint::spin_loop();
                }
            }
        }
        _ => m.hdr.ret = TeeResult::ERROR_NOT_SUPPORTED.0,
    }
    let mut out = m.encode();
    if evil {
        match mangle {
            1 => out[20..24].copy_from_slice(&(rng.range(1, u32::MAX as u64) as u32).to_le_bytes()),
            2 => {
                let n = rng.pick(&[0u32, 2, 3, 4, 5, 0xff, u32::MAX]);
                out[28..32].copy_from_slice(&n.to_le_bytes());
            }
            3 if out.len() > 32 => {
                let attr = rng.edgy();
                out[32..40].copy_from_slice(&attr.to_le_bytes());
            }
            4 => {
                for b in out.iter_mut().skip(32) {
                    *b = rng.next() as u8;
                }
            }
            5 => out = (0..msg::size_for(RPC_PARAMS)).map(|_| rng.next() as u8).collect(),
            _ => {}
        }
    }
    buf.write(0, &out);
}

/// An honest call on the static pool: `msg` sent with CALL_WITH_RPC_ARG,
/// run to its end. Returns (a0, answer) or None if the pool is full.
pub fn honest(cpu: &mut Cpu, message: &Message) -> Option<(u64, Message)> {
    let n = message.params.len();
    let pa = shm::pool_alloc((msg::size_for(n) + msg::size_for(RPC_PARAMS)) as u64)?;
    arch::write_mem(pa, &message.encode());
    let mut call = Call::rpc_arg(pa, n);
    let mut rng = Rng::new(0);
    let out = run(cpu, &mut rng, 0, &mut call, true);
    let mut back = vec![0u8; msg::size_for(n)];
    arch::read_mem(pa, &mut back);
    shm::pool_free(pa);
    let answer = msg::parse(&back, n).unwrap_or_else(|_| Message::new(u32::MAX, vec![]));
    Some((out.a0, answer))
}

/// Message helpers for the honest calls the campaign makes.
pub fn invoke_msg(session: u32, func: u32, params: alloc::vec::Vec<Param>) -> Message {
    let mut msg = Message::new(m::CMD_INVOKE_COMMAND, params);
    msg.hdr.session = session;
    msg.hdr.func = func;
    msg
}

pub fn value(dir: Dir, a: u64, b: u64) -> Param {
    Param::Value { dir, a, b, c: 0 }
}
