//! Directed sequences, on one CPU with every other CPU off: calls resumed
//! wrongly, every thread held, resources taken away under a suspended call,
//! calls aborted inside the OS while holding resources, and sessions and
//! registrations opened until the OS says no (or a bound). Each sequence is
//! measured on its own: the counters after it must equal those before.

use super::drive::{self, Call, invoke_msg, value};
use super::input::{self, Reg};
use super::mem::{self, ListKind, MAX_BUFFER, PAGE};
use super::ops::*;
use super::rng::Rng;
use super::{Cpu, LEFT_BEHIND, Plan, fail, ledger};
use crate::{arch, checks, say, shm};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as t;
use oxtee_core::msg::{self, Dir, Param};

type Sequence = fn(&mut Cpu, &mut State, &mut Rng, &Plan);

/// How the test PTA is asked to abort a call inside the OS: it recurses
/// into its thread's stack guard page (a general fault-injection command
/// can take its place here).
const ABORT_CMD: u32 = t::CMD_STACK_OVERFLOW;

const SEQUENCES: [(&str, Sequence); 9] = [
    ("bad resumes", bad_resumes),
    ("every thread held", all_threads),
    ("mutex waits", mutex_waits),
    ("resources under a suspended call", under_suspended),
    ("aborted calls holding resources", aborted_holding),
    ("huge registrations", huge_registrations),
    ("many registrations", many_registrations),
    ("unclosed sessions", unclosed_sessions),
    ("mass aborted calls", mass_aborts),
];

/// Runs the sequences whose bit is set in `which`.
pub fn run(cpu: &mut Cpu, plan: &Plan, which: u64) {
    let mut rng = Rng::for_case(cpu.seed, cpu.id, u64::MAX - 2);
    let mut st = State::new(cpu, &mut rng, 4);
    cpu.phase = "directed warm-up";
    super::campaign::warm_up(cpu, &mut st, &mut rng);
    for (i, (name, seq)) in SEQUENCES.iter().enumerate() {
        if which & 1 << i == 0 {
            continue;
        }
        cpu.phase = name;
        cpu.case = i as u64;
        // Each sequence draws from its own stream: run alone (`cargo xtask
        // soak --phases NAME --seed S`) it does exactly what it did here.
        rng = Rng::for_case(cpu.seed, cpu.id, 1 << 40 | i as u64);
        say!("hostile: directed \"{name}\" starts ({})", super::figures());
        drive::drain_cache(cpu);
        let before = ledger::take(cpu, st.own.private);
        seq(cpu, &mut st, &mut rng, plan);
        while let Some(h) = st.held.pop() {
            finish_held(cpu, &mut st, &mut rng, h, 0);
        }
        let serving = alive(cpu, &mut st, &mut rng, name);
        drive::drain_cache(cpu);
        let after = ledger::take(cpu, st.own.private);
        LEFT_BEHIND.fetch_add(ledger::compare(cpu, name, &before, &after), Ordering::Relaxed);
        if !serving {
            fail!(cpu, "the OS no longer serves: the remaining directed sequences are skipped");
            return;
        }
    }
    let private = st.own.private;
    let (a0, ret) = close(cpu, &mut st, &mut rng, private);
    if a0 != 0 || ret != OK {
        fail!(cpu, "close the private session: a0 {a0:#x} ret {ret:#x}");
    }
}

fn resume(thread: u64, rng: &mut Rng) -> [u64; 8] {
    let bad = mem::refused_addr(rng);
    [smc::RETURN_FROM_RPC as u64, bad >> 32, bad & 0xffff_ffff, thread, rng.next(), rng.next(), rng.next(), rng.next()]
}

/// RETURN_FROM_RPC for every thread that is not suspended, for aliases of
/// the one that is, and for it again once its call ended: ERESUME each time,
/// and the suspended call is untouched.
fn bad_resumes(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, _: &Plan) {
    let Some(mut h) = hold(cpu, st, rng, 0, None) else {
        fail!(cpu, "could not hold a call");
        return;
    };
    let thread = h.r[3];
    let ids = (0..cpu.threads + 4).filter(|t| *t != thread).chain([
        thread | 1 << 32,
        thread | 1 << 63,
        thread + cpu.threads,
        u32::MAX as u64,
        u64::MAX,
    ]);
    for id in ids {
        let r = drive::smc(resume(id, rng));
        if r[0] != smc::RETURN_ERESUME as u64 {
            fail!(cpu, "RETURN_FROM_RPC for thread {id:#x} (suspended: {thread}): a0 {:#x} {}", r[0], a0_name(r[0]));
        }
    }
    let out = drive::finish(cpu, rng, 0, &mut h.call, h.r);
    check_a0(cpu, "the suspended call after wrong resumes", out.a0);
    if let Some(b) = h.block {
        shm::pool_free(b);
    }
    let r = drive::smc(resume(thread, rng));
    if r[0] != smc::RETURN_ERESUME as u64 {
        fail!(cpu, "RETURN_FROM_RPC for thread {thread} after its call ended: a0 {:#x}", r[0]);
    }
}

/// Every thread suspended in the normal world: new calls get
/// ETHREAD_LIMIT, fast calls still answer, the cache cannot change; then
/// every call ends, in a random order, with junk answers on the way.
fn all_threads(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, _: &Plan) {
    let mut held = Vec::new();
    while let Some(h) = hold(cpu, st, rng, 0, None) {
        held.push(h);
        if held.len() as u64 > cpu.threads {
            break;
        }
    }
    if held.len() as u64 != cpu.threads {
        fail!(cpu, "{} calls held, with {} threads", held.len(), cpu.threads);
    }
    let uid = drive::smc([smc::CALLS_UID as u64, 0, 0, 0, 0, 0, 0, 0]);
    if uid != st.fixed[input::FIXED.iter().position(|f| f.0 == smc::CALLS_UID).unwrap()] {
        fail!(cpu, "CALLS_UID with every thread busy: {uid:#x?}");
    }
    for id in [smc::ENABLE_SHM_CACHE, smc::DISABLE_SHM_CACHE] {
        let r = drive::smc([id as u64, 0, 0, 0, 0, 0, 0, 0]);
        if r[0] != smc::RETURN_EBUSY as u64 {
            fail!(cpu, "fast call {id:#x} with every thread busy: a0 {:#x}", r[0]);
        }
    }
    let Some(pa) = shm::pool_alloc(2 * PAGE) else { return };
    arch::write_mem(pa, &invoke_msg(st.own.private, t::CMD_NOOP, vec![]).encode());
    let r = drive::smc(Call::rpc_arg(pa, 0).regs);
    shm::pool_free(pa);
    if r[0] != smc::RETURN_ETHREAD_LIMIT as u64 {
        fail!(cpu, "a new call with every thread busy: a0 {:#x} {}", r[0], a0_name(r[0]));
    }
    while !held.is_empty() {
        let h = held.swap_remove(rng.below(held.len() as u64) as usize);
        finish_held(cpu, st, rng, h, 20);
    }
}

/// Calls queued on the test mutex and the TA load lock are all woken, in
/// order, and no SEND is left over. Then one waiter is woken without a SEND (a spurious wake-up,
/// which the normal world may give): it must wait again and get the mutex
/// when its holder lets go, and the queue must not keep its old entry (OP-
/// TEE's wait queues wait again on the same entry until really woken).
fn mutex_waits(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, _: &Plan) {
    let timeouts = drive::WAIT_TIMEOUTS.load(Ordering::Relaxed);
    drive::clear_posts();
    for lock in [Lock::TestMutex, Lock::TaLoad] {
        match lock_queue(cpu, st, rng, lock, cpu.threads as usize - 2) {
            Some((holder, queue)) => drain_queue(cpu, st, rng, lock, holder, queue),
            None => fail!(cpu, "could not queue calls on a lock"),
        }
    }
    let left = drive::pending_posts();
    if drive::WAIT_TIMEOUTS.load(Ordering::Relaxed) != timeouts || !left.is_empty() {
        fail!(cpu, "honest waits on the test mutex: wake-ups lost, or SENDs to keys nobody waits on: {left:?}");
    }
    drive::clear_posts();
    let Some((holder, mut queue)) = lock_queue(cpu, st, rng, Lock::TestMutex, 1) else {
        return fail!(cpu, "could not queue a call on the test mutex");
    };
    let mut w = queue.pop().expect("one waiter");
    let first = drive::wake_spuriously(cpu, &mut w.call, w.r);
    w.r = drive::step(cpu, &mut w.call);
    if drive::waits_on(cpu, &w.call, w.r).is_none() {
        fail!(cpu, "a waiter woken spuriously while the mutex is held did not wait again: RPC {:#x?}", w.r);
    }
    drain_queue(cpu, st, rng, Lock::TestMutex, holder, vec![w]);
    let left = drive::pending_posts();
    if !left.is_empty() {
        fail!(
            cpu,
            "after a spurious wake-up (key {first:?}) the mutex queue kept the waiter's old entry: an unlock sent \
             NOTIFICATION SEND to key(s) {left:?}, which nobody waits on (the next waiter there wakes at once, \
             and an entry ahead of a real waiter takes its wake-up)"
        );
    }
    drive::clear_posts();
}

/// A call suspended while it holds a registered buffer (as a memref, or as
/// its argument): the buffer cannot go; its session can be cancelled and
/// closed; the call still ends; then the buffer can go.
fn under_suspended(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, _: &Plan) {
    let session = match open_test(cpu, st, rng, 0) {
        Ok(s) => s,
        Err(e) => return fail!(cpu, "open: {e:x?}"),
    };
    st.own.sessions = vec![session];
    for kind in [1, 2] {
        // Kind 1 spins on a memref of this buffer; kind 2 registers one for
        // its argument.
        let Some(reg) = new_reg(cpu, st, rng, 2 * PAGE) else { return };
        st.own.regs = vec![reg.clone()];
        // A spin is suspended only if an interrupt arrives while it runs.
        let Some(h) = (0..50).find_map(|_| hold(cpu, st, rng, kind, None)) else {
            fail!(cpu, "could not suspend a call holding a buffer (kind {kind})");
            continue;
        };
        let held = h.uses.unwrap_or(0);
        let (a0, _) = unregister(cpu, st, rng, held);
        if a0 != smc::RETURN_EBUSY as u64 {
            fail!(cpu, "unregister a buffer a suspended call holds (kind {kind}): a0 {a0:#x} {}", a0_name(a0));
        }
        let (a0, ret) = cancel(cpu, st, rng, h.session);
        if (a0, ret) != (0, OK) {
            fail!(cpu, "cancel under a suspended call: a0 {a0:#x} ret {ret:#x}");
        }
        // Ending the call gives kind 2's buffer back (checked there).
        finish_held(cpu, st, rng, h, 0);
        let (a0, ret) = unregister(cpu, st, rng, reg.cookie);
        if (a0, ret) != (0, OK) {
            fail!(cpu, "unregister once the call ended (kind {kind}): a0 {a0:#x} {} ret {ret:#x}", a0_name(a0));
        }
    }
    st.own.regs.clear();
    // Closing the session a suspended call runs on.
    st.own.sessions = vec![session];
    let held = hold(cpu, st, rng, 0, Some(session));
    if let Some(h) = held {
        let (a0, ret) = close(cpu, st, rng, session);
        if (a0, ret) != (0, OK) {
            fail!(cpu, "close the session of a suspended call: a0 {a0:#x} ret {ret:#x}");
        }
        st.own.sessions.clear();
        finish_held(cpu, st, rng, h, 0);
    }
    for s in core::mem::take(&mut st.own.sessions) {
        close(cpu, st, rng, s);
    }
}

/// Registers a fresh one-list buffer of `size` bytes.
fn new_reg(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, size: u64) -> Option<Reg> {
    let list = mem::page_list(rng, &mut cpu.scratch, ListKind::Valid, size);
    let cookie = st.own.fresh_cookie();
    let (a0, ret) = register(cpu, st, rng, 0, list.ptr, list.size, cookie);
    if (a0, ret) != (0, OK) {
        fail!(cpu, "register a {size}-byte buffer: a0 {a0:#x} ret {ret:#x}");
        return None;
    }
    Some(Reg { cookie, buf: list.buf.expect("valid list") })
}

/// A call the OS aborts (its thread's stack runs into the guard page),
/// answered TEE_ERROR_GENERIC with origin TEE; `header` reads back the
/// first 32 bytes of its argument. Counted, because the OS logs each one.
fn abort_call(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, call: &mut Call, header: &dyn Fn(&mut [u8; 32])) -> bool {
    let out = run_new(cpu, st, rng, 0, call);
    let mut hdr = [0u8; 32];
    header(&mut hdr);
    let word = |at: usize| u32::from_le_bytes(hdr[at..at + 4].try_into().unwrap());
    let (ret, origin) = (word(20), word(24));
    let aborted = (out.a0, ret, origin) == (0, TeeResult::ERROR_GENERIC.0, Origin::Tee as u32);
    checks::DELIBERATE_ABORTS.fetch_add(aborted as u64, Ordering::Relaxed);
    if !aborted {
        fail!(
            cpu,
            "a call meant to abort in the OS: a0 {:#x} {} ret {ret:#x} origin {origin}, want TEE_ERROR_GENERIC from the TEE",
            out.a0,
            a0_name(out.a0)
        );
    }
    !out.hung
}

fn overflow_in_pool(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, session: u32, params: Vec<Param>) -> bool {
    let msg = invoke_msg(session, ABORT_CMD, params);
    let n = msg.params.len();
    let Some(pa) = shm::pool_alloc(2 * PAGE) else { return false };
    arch::write_mem(pa, &msg.encode());
    let mut call = if rng.chance(50) { Call::rpc_arg(pa, n) } else { Call::arg(pa) };
    let ok = abort_call(cpu, st, rng, &mut call, &|h| arch::read_mem(pa, h));
    shm::pool_free(pa);
    ok
}

/// Calls aborted inside the OS while they hold a registered buffer (as a
/// memref, or as their argument), a session, and a cached RPC buffer:
/// afterwards each must be free to go, as after any other call.
fn aborted_holding(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, _: &Plan) {
    let session = match open_test(cpu, st, rng, 0) {
        Ok(s) => s,
        Err(e) => return fail!(cpu, "open: {e:x?}"),
    };
    // Plain, then the session is still usable and can be closed.
    overflow_in_pool(cpu, st, rng, session, vec![]);
    values_ok(cpu, st, rng, 0, session, "an aborted call on the session");
    // A memref in a registered buffer.
    if let Some(reg) = new_reg(cpu, st, rng, PAGE) {
        let rm = Param::Rmem { dir: Dir::In, offs: 0, size: 16, shm_ref: reg.cookie };
        overflow_in_pool(cpu, st, rng, session, vec![rm]);
        let (a0, ret) = unregister(cpu, st, rng, reg.cookie);
        if (a0, ret) != (0, OK) {
            fail!(
                cpu,
                "unregister a buffer an aborted call used as a memref: a0 {a0:#x} {} ret {ret:#x} (its use is never given back)",
                a0_name(a0)
            );
        }
    }
    // The argument itself in a registered buffer.
    if let Some(reg) = new_reg(cpu, st, rng, PAGE) {
        let msg = invoke_msg(session, ABORT_CMD, vec![]);
        reg.buf.write(0, &msg.encode());
        let rpc = reg.buf.slice(msg::size_for(0) as u64, msg::size_for(4) as u64);
        let c = reg.cookie;
        let mut call = Call::new([smc::CALL_WITH_REGD_ARG as u64, c >> 32, c & 0xffff_ffff, 0, 0, 0, 0, 0], rpc);
        let buf = reg.buf.clone();
        abort_call(cpu, st, rng, &mut call, &|h| {
            buf.read(0, h);
        });
        let (a0, ret) = unregister(cpu, st, rng, c);
        if (a0, ret) != (0, OK) {
            fail!(
                cpu,
                "unregister a buffer an aborted call had its argument in: a0 {a0:#x} {} ret {ret:#x}",
                a0_name(a0)
            );
        }
    }
    // With the RPC-buffer cache on, a call without an RPC argument takes a
    // cached one: aborted, it must still come back.
    if drive::smc([smc::ENABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0])[0] == 0 {
        let (a0, _) = call_msg_arg(cpu, st, rng, &invoke_msg(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]));
        check_a0(cpu, "an RPC call to fill the cache", a0);
        let msg = invoke_msg(session, ABORT_CMD, vec![]);
        if let Some(pa) = shm::pool_alloc(2 * PAGE) {
            arch::write_mem(pa, &msg.encode());
            abort_call(cpu, st, rng, &mut Call::arg(pa), &|h| arch::read_mem(pa, h));
            shm::pool_free(pa);
        }
    }
    let (a0, ret) = close(cpu, st, rng, session);
    if (a0, ret) != (0, OK) {
        fail!(cpu, "close a session after aborted calls on it: a0 {a0:#x} ret {ret:#x}");
    }
}

/// A call with CALL_WITH_ARG (the OS allocates or takes a cached RPC buffer).
fn call_msg_arg(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, msg: &msg::Message) -> (u64, u32) {
    let Some(pa) = shm::pool_alloc(2 * PAGE) else { return (u64::MAX, 0) };
    arch::write_mem(pa, &msg.encode());
    let out = run_new(cpu, st, rng, 0, &mut Call::arg(pa));
    let mut hdr = [0u8; 32];
    arch::read_mem(pa, &mut hdr);
    shm::pool_free(pa);
    (out.a0, u32::from_le_bytes(hdr[20..24].try_into().unwrap()))
}

/// Gives back every item with `f`, each of which must succeed; after ten
/// failures in a row the OS is taken to refuse everything and the rest are
/// left (and show in the ledger).
fn give_back<T: Copy + core::fmt::Debug>(
    cpu: &mut Cpu,
    st: &mut State,
    rng: &mut Rng,
    what: &str,
    items: Vec<T>,
    f: fn(&mut Cpu, &mut State, &mut Rng, T) -> (u64, u32),
) {
    let mut failed = 0;
    let total = items.len();
    for (i, item) in items.into_iter().enumerate() {
        let (a0, ret) = f(cpu, st, rng, item);
        if (a0, ret) == (0, OK) {
            failed = 0;
            continue;
        }
        fail!(cpu, "{what} ({item:?}): a0 {a0:#x} {} ret {ret:#x}", a0_name(a0));
        failed += 1;
        if failed == 10 {
            fail!(cpu, "{what}: ten failures in a row; {} of {total} left", total - i - 1);
            return;
        }
    }
}

/// How a directed sequence that runs up to a limit ended.
fn limit_reached(cpu: &Cpu, what: &str, count: u64, bound: u64, stop: Option<(u64, u32)>) {
    say!("hostile: {what}: stopped after {count} ({})", super::figures());
    match stop {
        None => say!("hostile: {what}: no limit within {bound} (all accepted)"),
        Some((a0, ret)) if a0 == 0 && ret != OK => {
            say!("hostile: {what}: refused after {count} with {ret:#x} ({})", TeeResult(ret).name())
        }
        Some((a0, ret)) => {
            fail!(
                cpu,
                "{what}: after {count} the OS answered a0 {a0:#x} {} ret {ret:#x}, not a defined error",
                a0_name(a0)
            )
        }
    }
}

/// Registrations of the largest buffer the OS accepts (a looping page list:
/// cheap for us, not for it; from 1 GiB down by halves), again and again
/// until it says no (its limit on the pages all buffers describe); then
/// one byte more than 1 GiB, which it must refuse. Once everything is
/// given back, the largest size is accepted again.
fn huge_registrations(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, plan: &Plan) {
    let list = mem::page_list(rng, &mut cpu.scratch, ListKind::Looping, MAX_BUFFER);
    let ptr = list.ptr & !(PAGE - 1);
    let mut cookies = Vec::new();
    let mut stop = None;
    let mut size = MAX_BUFFER;
    while size >= 1 << 20 && (cookies.len() as u64) < plan.huge_regs {
        let cookie = st.own.fresh_cookie();
        let (a0, ret) = register(cpu, st, rng, 0, ptr, size, cookie);
        if (a0, ret) == (0, OK) {
            cookies.push(cookie);
        } else if cookies.is_empty() {
            say!("hostile: a {} MiB registration refused with {ret:#x} ({})", size >> 20, TeeResult(ret).name());
            size /= 2;
        } else {
            stop = Some((a0, ret));
            break;
        }
    }
    say!(
        "hostile: {} registrations of {} MiB accepted ({} MiB in all)",
        cookies.len(),
        size >> 20,
        (cookies.len() as u64 * size) >> 20
    );
    limit_reached(cpu, "registrations of the largest buffer", cookies.len() as u64, plan.huge_regs, stop);
    alive(cpu, st, rng, "huge registrations");
    let cookie = st.own.fresh_cookie();
    let (a0, ret) = register(cpu, st, rng, 0, ptr, MAX_BUFFER + 1, cookie);
    if a0 != 0 || ret == OK {
        fail!(cpu, "registration of 1 GiB + 1 byte: a0 {a0:#x} ret {ret:#x}");
    }
    let accepted = !cookies.is_empty();
    if !accepted {
        fail!(cpu, "no registration of 1 MiB or more was accepted");
    }
    give_back(cpu, st, rng, "unregister a huge buffer", cookies, unregister);
    if accepted {
        let cookie = st.own.fresh_cookie();
        let (a0, ret) = register(cpu, st, rng, 0, ptr, size, cookie);
        if (a0, ret) != (0, OK) {
            fail!(cpu, "a {} MiB registration once all were given back: a0 {a0:#x} ret {ret:#x}", size >> 20);
        } else {
            give_back(cpu, st, rng, "unregister a huge buffer", vec![cookie], unregister);
        }
    }
}

/// One-page registrations (all of the same page) until the OS says no.
fn many_registrations(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, plan: &Plan) {
    let list = mem::page_list(rng, &mut cpu.scratch, ListKind::Valid, PAGE);
    let mut cookies = Vec::new();
    let mut stop = None;
    for i in 0..plan.small_regs {
        let cookie = st.own.fresh_cookie();
        let (a0, ret) = register(cpu, st, rng, 0, list.ptr, list.size, cookie);
        if (a0, ret) != (0, OK) {
            stop = Some((a0, ret));
            break;
        }
        cookies.push(cookie);
        if i % 5_000 == 4_999 {
            say!("hostile: {} buffers registered ({})", i + 1, super::figures());
        }
    }
    limit_reached(cpu, "one-page registrations", cookies.len() as u64, plan.small_regs, stop);
    alive(cpu, st, rng, "many registrations");
    give_back(cpu, st, rng, "unregister a one-page buffer", cookies, unregister);
}

/// Sessions opened and never closed, until the OS says no.
fn unclosed_sessions(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, plan: &Plan) {
    let mut sessions = Vec::new();
    let mut stop = None;
    for i in 0..plan.sessions {
        match open_test(cpu, st, rng, 0) {
            Ok(s) => sessions.push(s),
            Err(e) => {
                stop = Some(e);
                break;
            }
        }
        if i % 5_000 == 4_999 {
            say!("hostile: {} sessions open ({})", i + 1, super::figures());
        }
    }
    limit_reached(cpu, "unclosed sessions", sessions.len() as u64, plan.sessions, stop);
    alive(cpu, st, rng, "unclosed sessions");
    give_back(cpu, st, rng, "close a session", sessions, close);
}

/// The same aborted call, over and over, with the OS still serving after
/// each thousand.
fn mass_aborts(cpu: &mut Cpu, st: &mut State, rng: &mut Rng, plan: &Plan) {
    let private = st.own.private;
    for i in 0..plan.aborts {
        if !overflow_in_pool(cpu, st, rng, private, vec![]) {
            break;
        }
        if i % 1000 == 999 && !alive(cpu, st, rng, "a thousand aborted calls") {
            break;
        }
        if i % 1000 == 999 {
            say!("hostile: {} calls aborted ({})", i + 1, super::figures());
        }
    }
}
