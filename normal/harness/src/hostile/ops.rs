//! The calls the campaign makes over and over: messages sent from the
//! static pool and run to their end, sessions, registrations, liveness
//! checks, and calls left suspended in the normal world on purpose.

use super::drive::{self, Call, Outcome, invoke_msg, value};
use super::input::{self, Own, Reg};
use super::mem::{NsBuf, PAGE};
use super::rng::Rng;
use super::{Cpu, fail};
use crate::{arch, shm};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_pta as t;
use oxtee_core::msg::{self, Dir, Message, Param};

pub const OK: u32 = TeeResult::SUCCESS.0;
pub const BAD_PARAMS: u32 = TeeResult::ERROR_BAD_PARAMETERS.0;

/// A call left suspended in the normal world on purpose.
pub struct Held {
    pub call: Call,
    pub r: [u64; 4],
    /// Static-pool block of its argument, if any.
    pub block: Option<u64>,
    /// Registered buffer the call holds.
    pub uses: Option<u64>,
    pub session: u32,
    /// A buffer registered for this call's argument alone (no other case
    /// may write there while the call waits): unregistered when it ends.
    pub arg_reg: Option<(u64, u64)>,
}

/// One CPU's state in the campaign.
pub struct State {
    pub own: Own,
    pub held: Vec<Held>,
    pub max_held: usize,
    /// Fixed fast-call answers, as first seen.
    pub fixed: [[u64; 4]; input::FIXED.len()],
    pub caps: u64,
}

impl State {
    /// Records the fixed fast-call answers and opens the private session.
    pub fn new(cpu: &mut Cpu, rng: &mut Rng, max_held: usize) -> State {
        let mut fixed = [[0u64; 4]; input::FIXED.len()];
        for (i, (id, _)) in input::FIXED.iter().enumerate() {
            fixed[i] = drive::smc([*id as u64, 0, 0, 0, 0, 0, 0, 0]);
        }
        let caps = drive::smc([smc::EXCHANGE_CAPABILITIES as u64, 0, 0, 0, 0, 0, 0, 0])[1];
        let mut st = State { own: Own::new(cpu.id, 0), held: Vec::new(), max_held, fixed, caps };
        match open_test(cpu, &mut st, rng, 0) {
            Ok(s) => st.own.private = s,
            Err(e) => fail!(cpu, "open the private session: {e:x?}"),
        }
        st
    }
}

pub fn a0_name(a0: u64) -> &'static str {
    match a0 as u32 {
        smc::RETURN_OK => "OK",
        smc::RETURN_ETHREAD_LIMIT => "ETHREAD_LIMIT",
        smc::RETURN_EBUSY => "EBUSY",
        smc::RETURN_ERESUME => "ERESUME",
        smc::RETURN_EBADADDR => "EBADADDR",
        smc::RETURN_EBADCMD => "EBADCMD",
        smc::RETURN_ENOMEM => "ENOMEM",
        smc::RETURN_ENOTAVAIL => "ENOTAVAIL (call aborted in the OS)",
        _ => "?",
    }
}

/// Starts a new call; ETHREAD_LIMIT first gives back a held call, then
/// waits (bounded) for other CPUs to free one.
pub fn run_new(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, hostile: u64, call: &mut Call) -> Outcome {
    let t0 = arch::counter();
    loop {
        let r = drive::step(cpu, call);
        if r[0] != smc::RETURN_ETHREAD_LIMIT as u64 {
            return drive::finish(cpu, rng, hostile, call, r);
        }
        if let Some(h) = st.held.pop() {
            finish_held(cpu, st, rng, h, 0);
            continue;
        }
        if (arch::counter() - t0) / arch::counter_freq() > 30 {
            drive::HANGS.fetch_add(1, Ordering::Relaxed);
            fail!(cpu, "HANG: no trusted thread free for 30 s");
            return Outcome { a0: r[0], hung: true };
        }
        for _ in 0..2000 {
            core::hint::spin_loop();
        }
    }
}

/// Sends `message` from the static pool (CALL_WITH_ARG or _RPC_ARG) and
/// runs it to its end with `hostile` % of RPCs answered with junk.
pub fn call_msg(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, hostile: u64, message: &Message) -> (u64, Message) {
    let n = message.params.len();
    let Some(pa) = shm::pool_alloc(2 * PAGE) else {
        fail!(cpu, "static pool exhausted");
        return (u64::MAX, Message::new(u32::MAX, vec![]));
    };
    arch::write_mem(pa, &message.encode());
    let mut call = if rng.chance(50) { Call::rpc_arg(pa, n) } else { Call::arg(pa) };
    let out = run_new(cpu, st, rng, hostile, &mut call);
    let mut back = vec![0u8; msg::size_for(n)];
    arch::read_mem(pa, &mut back);
    shm::pool_free(pa);
    (out.a0, msg::parse(&back, n).unwrap_or_else(|_| Message::new(u32::MAX, vec![])))
}

pub fn check_a0(cpu: &Cpu, what: &str, a0: u64) -> bool {
    if a0 != 0 {
        fail!(cpu, "{what}: a0 {a0:#x} {}", a0_name(a0));
    }
    a0 == 0
}

/// OPEN_SESSION of `uuid`, public login.
pub fn open_msg(uuid: oxtee_abi::uuid::Uuid) -> Message {
    let (a, b) = uuid.to_msg_value();
    let mut msg = Message::new(
        m::CMD_OPEN_SESSION,
        vec![Param::Value { dir: Dir::In, a, b, c: 0 }, Param::Value { dir: Dir::In, a: 0, b: 0, c: 0 }],
    );
    msg.meta[0] = true;
    msg.meta[1] = true;
    msg
}

pub fn open_test(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, hostile: u64) -> Result<u32, (u64, u32)> {
    let (a0, r) = call_msg(cpu, st, rng, hostile, &open_msg(t::UUID));
    if a0 == 0 && r.hdr.ret == OK { Ok(r.hdr.session) } else { Err((a0, r.hdr.ret)) }
}

pub fn close(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, session: u32) -> (u64, u32) {
    let mut msg = Message::new(m::CMD_CLOSE_SESSION, vec![]);
    msg.hdr.session = session;
    let (a0, r) = call_msg(cpu, st, rng, 0, &msg);
    (a0, r.hdr.ret)
}

pub fn register(
    cpu: &mut Cpu,
    st: &mut State,
    rng: &mut Rng,
    hostile: u64,
    ptr: u64,
    size: u64,
    cookie: u64,
) -> (u64, u32) {
    let p = Param::Tmem { dir: Dir::Out, buf: ptr, size, shm_ref: cookie, noncontig: true };
    let (a0, r) = call_msg(cpu, st, rng, hostile, &Message::new(m::CMD_REGISTER_SHM, vec![p]));
    (a0, r.hdr.ret)
}

pub fn unregister(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, cookie: u64) -> (u64, u32) {
    let p = Param::Rmem { dir: Dir::In, offs: 0, size: 0, shm_ref: cookie };
    let (a0, r) = call_msg(cpu, st, rng, 0, &Message::new(m::CMD_UNREGISTER_SHM, vec![p]));
    (a0, r.hdr.ret)
}

pub fn cancel(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, session: u32) -> (u64, u32) {
    let mut msg = Message::new(m::CMD_CANCEL, vec![]);
    msg.hdr.session = session;
    let (a0, r) = call_msg(cpu, st, rng, 0, &msg);
    (a0, r.hdr.ret)
}

/// CMD_VALUES with its exact answer checked; false if the OS did not serve.
pub fn values_ok(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, hostile: u64, session: u32, what: &str) -> bool {
    let (a, b) = (rng.next() >> 1, rng.below(1 << 30));
    let msg = invoke_msg(session, t::CMD_VALUES, vec![value(Dir::InOut, a, b), value(Dir::Out, 0, 0)]);
    let (a0, r) = call_msg(cpu, st, rng, hostile, &msg);
    let want = [
        Param::Value { dir: Dir::InOut, a: a + 1, b: b * 2, c: 0 },
        Param::Value { dir: Dir::Out, a: a ^ b, b: 0xc0ffee, c: 0 },
    ];
    let ok = a0 == 0 && r.hdr.ret == OK && r.params == want;
    if !ok {
        fail!(cpu, "{what}: CMD_VALUES on session {session}: a0 {a0:#x} ret {:#x} {:x?}", r.hdr.ret, r.params);
    }
    ok
}

/// The OS still serves: a no-op and a checked CMD_VALUES on the private
/// session, honestly.
pub fn alive(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, what: &str) -> bool {
    let (a0, r) = call_msg(cpu, st, rng, 0, &invoke_msg(st.own.private, t::CMD_NOOP, vec![]));
    if a0 != 0 || r.hdr.ret != OK {
        fail!(cpu, "not serving after {what}: NOOP a0 {a0:#x} ret {:#x}", r.hdr.ret);
        return false;
    }
    values_ok(cpu, st, rng, 0, st.own.private, what)
}

pub fn finish_held(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, mut h: Held, hostile: u64) {
    let out = drive::finish(cpu, rng, hostile, &mut h.call, h.r);
    if !out.hung {
        check_a0(cpu, "held call", out.a0);
    }
    release_held(cpu, st, rng, h);
}

/// What a held call used, once it has ended.
pub fn release_held(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, h: Held) {
    if let Some(b) = h.block {
        shm::pool_free(b);
    }
    if let Some((cookie, block)) = h.arg_reg {
        let (a0, ret) = unregister(cpu, st, rng, cookie);
        if (a0, ret) != (0, OK) {
            fail!(cpu, "unregister the argument buffer of an ended call: a0 {a0:#x} {} ret {ret:#x}", a0_name(a0));
        }
        shm::pool_free(block);
    }
}

pub fn held_threads(st: &State) -> Vec<u64> {
    st.held.iter().map(|h| h.r[3]).collect()
}

/// Starts a CMD_RPC call and leaves it at its first RPC. None if it was
/// refused (ETHREAD_LIMIT) or ended at once.
/// Kind 1 spins on a memref of an own registered buffer; kind 2 has its
/// argument in a registered buffer; kind 3 passes no RPC argument (so the
/// OS allocates one, or takes it from its cache). The session is `on`, or
/// a random own one.
pub fn hold(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, kind: u64, on: Option<u32>) -> Option<Held> {
    let session = match on {
        Some(s) => s,
        None if !st.own.sessions.is_empty() && rng.chance(30) => {
            st.own.sessions[rng.below(st.own.sessions.len() as u64) as usize]
        }
        None => st.own.private,
    };
    let (msg, uses) = match kind {
        // A spin holding a registered buffer, parked at a foreign interrupt.
        1 if !st.own.regs.is_empty() => {
            let reg = &st.own.regs[rng.below(st.own.regs.len() as u64) as usize];
            let rm = Param::Rmem { dir: Dir::In, offs: 0, size: reg.buf.size.min(64), shm_ref: reg.cookie };
            (invoke_msg(session, t::CMD_SPIN, vec![value(Dir::In, 12, 0), value(Dir::Out, 0, 0), rm]), Some(reg.cookie))
        }
        _ => (invoke_msg(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]), None),
    };
    let bytes = msg.encode();
    let n = msg.params.len();
    // The argument itself in a registered buffer holds that buffer too: one
    // registered for it alone, on a static-pool page nothing else uses.
    let regd = if kind == 2 { arg_buffer(cpu, st, rng) } else { None };
    let arg_reg = regd.as_ref().map(|(r, block)| (r.cookie, *block));
    let rpc_arg = kind != 3 && rng.chance(50);
    let (mut call, block, uses) = match regd {
        Some((Reg { cookie, buf }, _)) => {
            buf.write(0, &bytes);
            let rpc = buf.slice(msg::size_for(n) as u64, msg::size_for(4) as u64);
            let call =
                Call::new([smc::CALL_WITH_REGD_ARG as u64, cookie >> 32, cookie & 0xffff_ffff, 0, 0, 0, 0, 0], rpc);
            (call, None, Some(cookie))
        }
        None => {
            let pa = shm::pool_alloc(2 * PAGE)?;
            arch::write_mem(pa, &bytes);
            let call = if rpc_arg { Call::rpc_arg(pa, n) } else { Call::arg(pa) };
            (call, Some(pa), uses)
        }
    };
    let r = drive::step(cpu, &mut call);
    let h = Held { call, r, block, uses, session, arg_reg };
    if drive::is_rpc(r[0]) {
        return Some(h);
    }
    if r[0] != smc::RETURN_ETHREAD_LIMIT as u64 {
        check_a0(cpu, "call meant to be held", r[0]);
    }
    release_held(cpu, st, rng, h);
    None
}

/// A one-page buffer on a static-pool block, registered under a fresh
/// cookie: (the buffer, the block).
fn arg_buffer(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) -> Option<(Reg, u64)> {
    let block = shm::pool_alloc(PAGE)?;
    let list = cpu.scratch.page();
    let mut page = [0u8; 16];
    page[..8].copy_from_slice(&block.to_le_bytes());
    arch::write_mem(list, &page);
    let cookie = st.own.fresh_cookie();
    let (a0, ret) = register(cpu, st, rng, 0, list, PAGE, cookie);
    if (a0, ret) != (0, OK) {
        fail!(cpu, "register a one-page buffer: a0 {a0:#x} ret {ret:#x}");
        shm::pool_free(block);
        return None;
    }
    Some((Reg { cookie, buf: NsBuf::contiguous(block, PAGE) }, block))
}

/// Starts `msg` (static pool, with an RPC argument) and leaves it at its
/// first RPC; None if it ended without one.
pub fn hold_msg(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, msg: &Message) -> Option<Held> {
    let pa = shm::pool_alloc(2 * PAGE)?;
    arch::write_mem(pa, &msg.encode());
    let mut call = Call::rpc_arg(pa, msg.params.len());
    let r = drive::step(cpu, &mut call);
    let h = Held { call, r, block: Some(pa), uses: None, session: msg.hdr.session, arg_reg: None };
    if drive::is_rpc(r[0]) {
        return Some(h);
    }
    check_a0(cpu, "call meant to be held", r[0]);
    release_held(cpu, st, rng, h);
    None
}

/// A lock of the OS that calls sleep on (a `SleepMutex`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// The test PTA's mutex (CMD_MUTEX): every waiter must get it.
    TestMutex,
    /// The user-TA load lock, held across LOAD_TA: an open of a TA that
    /// does not exist takes it (and fails once it has it).
    TaLoad,
}

fn lock_msg(st: &State, lock: Lock, hold_ms: u64) -> Message {
    match lock {
        Lock::TestMutex => {
            invoke_msg(st.own.private, t::CMD_MUTEX, vec![value(Dir::In, hold_ms, 0), value(Dir::Out, 0, 0)])
        }
        Lock::TaLoad => open_msg(oxtee_abi::uuid::Uuid::NIL),
    }
}

/// `lock` taken by one call that is then suspended while it holds it (a
/// foreign interrupt, or LOAD_TA), and `n` more calls queued behind it,
/// each suspended in its NOTIFICATION WAIT, in queue order.
pub fn lock_queue(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, lock: Lock, n: usize) -> Option<(Held, Vec<Held>)> {
    let holder = (0..20).find_map(|_| {
        let h = hold_msg(cpu, st, rng, &lock_msg(st, lock, 40))?;
        if drive::waits_on(cpu, &h.call, h.r).is_none() && h.r[0] as u32 != smc::RETURN_RPC_ALLOC {
            return Some(h);
        }
        finish_held(cpu, st, rng, h, 0);
        None
    })?;
    let mut queue = Vec::new();
    for _ in 0..n {
        match hold_msg(cpu, st, rng, &lock_msg(st, lock, 0)) {
            Some(w) if drive::waits_on(cpu, &w.call, w.r).is_some() => queue.push(w),
            Some(w) => {
                fail!(cpu, "a call on a held lock did not wait for it: RPC {:#x?}", w.r);
                finish_held(cpu, st, rng, w, 0);
            }
            None => fail!(cpu, "a call on a held lock did not wait for it"),
        }
    }
    Some((holder, queue))
}

/// Ends the holder, then each waiter in queue order: each must get the
/// lock in turn (no wake-up lost; on the test mutex, every call succeeds
/// with no exclusion violation).
pub fn drain_queue(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, lock: Lock, holder: Held, queue: Vec<Held>) {
    finish_held(cpu, st, rng, holder, 0);
    for mut w in queue {
        let timeouts = drive::WAIT_TIMEOUTS.load(Ordering::Relaxed);
        let out = drive::finish(cpu, rng, 0, &mut w.call, w.r);
        let mut back = [0u8; 32 + 64];
        if let Some(b) = w.block {
            arch::read_mem(b, &mut back);
        }
        let answer = msg::parse(&back, 2).ok();
        let ret = answer.as_ref().map_or(u32::MAX, |m| m.hdr.ret);
        let violations = match answer.as_ref().and_then(|m| m.params.get(1)) {
            Some(Param::Value { a, .. }) if lock == Lock::TestMutex => *a,
            _ => 0,
        };
        let lost = drive::WAIT_TIMEOUTS.load(Ordering::Relaxed) != timeouts;
        if out.a0 != 0 || lost || violations != 0 || (lock == Lock::TestMutex && ret != OK) {
            fail!(
                cpu,
                "a queued call: a0 {:#x} ret {ret:#x}, wake-up lost {lost}, {violations} exclusion violations",
                out.a0
            );
        }
        release_held(cpu, st, rng, w);
    }
}
