//! The random phase: every CPU runs cases from its own deterministic stream
//! (case n on CPU c depends only on the seed, c and n), with a liveness
//! check after every batch and a resource check after every round, when
//! all CPUs have given back what they own.

use super::drive::{self, Call, invoke_msg, value};
use super::input::{self, FastExpect, Intent, Reg, SHARED_SLOTS, Where, YieldExpect};
use super::mem::{self, ListKind, PAGE};
use super::ops::*;
use super::rng::Rng;
use super::{Cpu, LEFT_BEHIND, Plan, barrier, fail, ledger, progress};
use crate::{arch, say, shm};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_pta as t;
use oxtee_core::msg::{Dir, Param};
use spin::Mutex;

/// Sessions any CPU may open into, use, cancel and close (0 = empty).
static SHARED_SESSIONS: [AtomicU32; SHARED_SLOTS] = [const { AtomicU32::new(0) }; SHARED_SLOTS];
/// Page lists any CPU may register under the shared cookies: (ptr, size).
static SHARED_LISTS: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

const BATCH: u64 = 32;

/// Writes the shared cookies' page lists into the shared scratch window
/// (once, before any other CPU starts; never written again).
pub fn prepare_shared(cpu: &mut Cpu) {
    let mut scratch = mem::Scratch::new(mem::SHARED_WINDOW);
    let mut rng = Rng::for_case(cpu.seed, mem::SHARED_WINDOW, u64::MAX);
    let mut lists = SHARED_LISTS.lock();
    lists.clear();
    for slot in 0..SHARED_SLOTS {
        let kind = if slot == 0 { ListKind::Looping } else { ListKind::Valid };
        let l = mem::page_list(&mut rng, &mut scratch, kind, (slot as u64 + 1) * 3 * PAGE / 2);
        lists.push((l.ptr, l.size));
    }
}

pub fn random(cpu: &mut Cpu, plan: &Plan) {
    let mut gen_count = 0usize;
    let mut rng = Rng::for_case(cpu.seed, cpu.id, u64::MAX - 1);
    let cpus = super::PARTIES.load(Ordering::Acquire).max(1) as u64;
    // Together the CPUs leave a thread free for each of them.
    let max_held = if cpu.solo { 4 } else { (cpu.threads / cpus).saturating_sub(1).clamp(1, 4) as usize };
    let mut st = State::new(cpu, &mut rng, max_held);
    barrier(&mut gen_count);

    // Warm-up: a few cases of every kind, then (CPU 0 alone) every thread
    // busy at once with the RPC-buffer cache on, so structures that grow
    // to their high-water mark once have done so before the baseline.
    cpu.phase = "warm-up";
    for _ in 0..200 {
        one_case(cpu, &mut st);
    }
    settle(cpu, &mut st, &mut rng);
    barrier(&mut gen_count);
    let mut base = None;
    if cpu.id == 0 {
        warm_up(cpu, &mut st, &mut rng);
        settle_shared(cpu, &mut st, &mut rng);
        drive::drain_cache(cpu);
        let s = ledger::take(cpu, st.own.private);
        say!("hostile: baseline {}", ledger::show(&s));
        base = Some(s);
    }
    barrier(&mut gen_count);

    let start = drive::SMCS.load(Ordering::Relaxed);
    for round in 1..=plan.rounds {
        cpu.phase = "random";
        let target = start + plan.smcs * round / plan.rounds;
        let mut dead = 0;
        while drive::SMCS.load(Ordering::Relaxed) < target && !super::STOP.load(Ordering::Acquire) {
            for _ in 0..BATCH {
                one_case(cpu, &mut st);
                progress(cpu, plan.progress);
            }
            dead = if alive(cpu, &mut st, &mut rng, "a batch") { 0 } else { dead + 1 };
            if dead == 3 {
                fail!(cpu, "the OS no longer serves: the campaign stops");
                super::STOP.store(true, Ordering::Release);
            }
        }
        cpu.phase = "round end";
        settle(cpu, &mut st, &mut rng);
        barrier(&mut gen_count);
        if let Some(b) = base.as_mut() {
            settle_shared(cpu, &mut st, &mut rng);
            drive::drain_cache(cpu);
            let after = ledger::take(cpu, st.own.private);
            let what = alloc::format!("random round {round}");
            let n = ledger::compare(cpu, &what, b, &after);
            LEFT_BEHIND.fetch_add(n, Ordering::Relaxed);
            say!("hostile: round {round}/{} done: {}", plan.rounds, super::figures());
            if n > 0 {
                // Later rounds are measured from here, so one leak is
                // reported once.
                *b = after;
            }
        }
        barrier(&mut gen_count);
    }
    cpu.phase = "end";
    let private = st.own.private;
    let (a0, ret) = close(cpu, &mut st, &mut rng, private);
    if a0 != 0 || ret != OK {
        fail!(cpu, "close the private session: a0 {a0:#x} ret {ret:#x}");
    }
}

/// Gives back everything this CPU holds: held calls, sessions, buffers.
fn settle(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    while let Some(h) = st.held.pop() {
        finish_held(cpu, st, rng, h, 0);
    }
    for s in core::mem::take(&mut st.own.sessions) {
        let (a0, ret) = close(cpu, st, rng, s);
        if a0 != 0 || ret != OK {
            fail!(cpu, "close own session {s}: a0 {a0:#x} ret {ret:#x}");
        }
    }
    for r in core::mem::take(&mut st.own.regs) {
        let (a0, ret) = unregister(cpu, st, rng, r.cookie);
        if a0 != 0 || ret != OK {
            fail!(cpu, "unregister own buffer {:#x}: a0 {a0:#x} {} ret {ret:#x}", r.cookie, a0_name(a0));
        }
        st.own.dead.push(r.cookie);
    }
    st.own.forget_dead();
    alive(cpu, st, rng, "giving everything back");
}

/// Closes the shared sessions and unregisters the shared buffers (CPU 0,
/// every other CPU waiting).
fn settle_shared(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    for (k, slot) in SHARED_SESSIONS.iter().enumerate() {
        let id = slot.swap(0, Ordering::AcqRel);
        if id != 0 {
            let (a0, ret) = close(cpu, st, rng, id);
            if a0 != 0 || ret != OK {
                fail!(cpu, "close shared session {k} ({id}): a0 {a0:#x} ret {ret:#x}");
            }
        }
        let (a0, ret) = unregister(cpu, st, rng, input::shared_cookie(k));
        if a0 != 0 || (ret != OK && ret != BAD_PARAMS) {
            fail!(cpu, "unregister shared buffer {k} on a quiet system: a0 {a0:#x} {} ret {ret:#x}", a0_name(a0));
        }
    }
}

/// What a resource check needs before its first snapshot (CPU 0 alone):
/// every structure the OS grows once and keeps (a map's first node, a
/// vector's capacity) grown to its high-water mark: a buffer registered
/// and unregistered; every trusted thread busy at once, each with an RPC
/// buffer of its own that the cache keeps afterwards; every other thread
/// queued on the test mutex and on the TA load lock.
pub fn warm_up(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    let list = mem::page_list(rng, &mut cpu.scratch, ListKind::Valid, PAGE);
    let cookie = st.own.fresh_cookie();
    let r = register(cpu, st, rng, 0, list.ptr, list.size, cookie);
    if r != (0, OK) || unregister(cpu, st, rng, cookie) != (0, OK) {
        fail!(cpu, "register and unregister a one-page buffer: {r:x?}");
    }
    for lock in [Lock::TestMutex, Lock::TaLoad] {
        match lock_queue(cpu, st, rng, lock, cpu.threads as usize - 2) {
            Some((holder, queue)) => drain_queue(cpu, st, rng, lock, holder, queue),
            None => fail!(cpu, "could not queue calls on a lock"),
        }
    }
    if drive::smc([smc::ENABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0])[0] != 0 {
        fail!(cpu, "ENABLE_SHM_CACHE on a quiet system");
    }
    let mut held = Vec::new();
    for _ in 0..cpu.threads + 1 {
        match hold(cpu, st, rng, 3, None) {
            Some(h) => held.push(h),
            None => break,
        }
    }
    if (held.len() as u64) < cpu.threads {
        fail!(cpu, "only {} of {} threads could be held", held.len(), cpu.threads);
    }
    for h in held {
        finish_held(cpu, st, rng, h, 0);
    }
}

/// Runs case `cpu.case` and moves to the next.
fn one_case(cpu: &mut Cpu, st: &mut State) {
    cpu.case += 1;
    let mut rng = Rng::for_case(cpu.seed, cpu.id, cpu.case);
    let rng = &mut rng;
    match rng.weighted(&[14, 5, 4, 45, 3, 4, 2, 8, 2, 13]) {
        0 => fast(cpu, st, rng),
        1 => yielding(cpu, st, rng),
        2 => bad_resume(cpu, st, rng),
        3 => message(cpu, st, rng),
        4 => hold_start(cpu, st, rng),
        5 => hold_step(cpu, st, rng),
        6 => hold_interfere(cpu, st, rng),
        7 => shared(cpu, st, rng),
        8 => cache(cpu, rng),
        _ => churn(cpu, st, rng),
    }
}

fn fast(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    let regs = input::fast_call(rng);
    let r = drive::smc(regs);
    let unknown = r[0] as u32 == smc::RETURN_UNKNOWN_FUNCTION;
    let ok = match input::fast_expect(regs[0]) {
        FastExpect::Unknown => unknown,
        FastExpect::Fixed(i) => r[..input::FIXED[i].1] == st.fixed[i][..input::FIXED[i].1],
        FastExpect::Caps if regs[1] & !smc::NSEC_CAP_UNIPROCESSOR != 0 => r[0] == smc::RETURN_ENOTAVAIL as u64,
        FastExpect::Caps => r[0] == 0 && r[1] == st.caps && r[3] == 4,
        FastExpect::CacheDisable => {
            if r[0] == 0 {
                drive::release_cached(cpu, (r[1] << 32) | (r[2] & 0xffff_ffff));
            }
            [smc::RETURN_OK, smc::RETURN_ENOTAVAIL, smc::RETURN_EBUSY].contains(&(r[0] as u32))
        }
        FastExpect::CacheEnable => [smc::RETURN_OK, smc::RETURN_EBUSY].contains(&(r[0] as u32)),
        FastExpect::AsyncNotif if regs[0] as u32 & !(1 << 16) == smc::GET_ASYNC_NOTIF_VALUE => r[0] == 0 && r[2] == 0,
        FastExpect::AsyncNotif => r[0] == 0,
        FastExpect::Any => true,
    };
    if !ok {
        fail!(cpu, "fast call {:#x?} answered {r:#x?}", regs);
    }
}

fn yielding(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    let held = held_threads(st);
    let (mut call, expect) = input::yielding_call(rng, cpu, &held, &st.own);
    let regs = call.regs;
    let hostile = rng.pick(&[0, 30]);
    let out = run_new(cpu, st, rng, hostile, &mut call);
    let a0 = out.a0;
    let ok = match expect {
        YieldExpect::Unknown => a0 as u32 == smc::RETURN_UNKNOWN_FUNCTION,
        YieldExpect::BadCmd => a0 == smc::RETURN_EBADCMD as u64,
        YieldExpect::BadAddr => a0 == smc::RETURN_EBADADDR as u64,
        YieldExpect::Resume => a0 == smc::RETURN_ERESUME as u64,
        YieldExpect::Garbage => {
            [smc::RETURN_OK, smc::RETURN_EBADADDR, smc::RETURN_EBADCMD, smc::RETURN_EBUSY].contains(&(a0 as u32))
        }
    };
    if !ok && !out.hung {
        fail!(cpu, "yielding SMC {regs:#x?}: want {expect:?}, got a0 {a0:#x} {}", a0_name(a0));
    }
}

/// RETURN_FROM_RPC naming a thread nobody here is suspended on, with junk
/// in every other register: ERESUME, and nothing resumed.
fn bad_resume(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    let held = held_threads(st);
    let thread = input::idle_thread(rng, cpu, &held);
    let mut regs = [smc::RETURN_FROM_RPC as u64, 0, 0, thread, 0, 0, 0, 0];
    for (i, r) in regs.iter_mut().enumerate() {
        if i != 0 && i != 3 {
            *r = if i < 3 { mem::refused_addr(rng) >> (32 * (2 - i)) & 0xffff_ffff } else { rng.edgy() };
        }
    }
    if rng.chance(10) {
        regs[0] |= 1 << 16;
    }
    let r = drive::smc(regs);
    if r[0] != smc::RETURN_ERESUME as u64 {
        fail!(cpu, "RETURN_FROM_RPC for idle thread {thread:#x}: a0 {:#x} {}", r[0], a0_name(r[0]));
        if drive::is_rpc(r[0]) {
            // Something was resumed after all: see it to its end.
            let mut call = Call::new(regs, None);
            drive::finish(cpu, rng, 0, &mut call, r);
        }
    }
}

fn message(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    let shared_s: Vec<u32> = SHARED_SESSIONS.iter().map(|s| s.load(Ordering::Relaxed)).collect();
    let shared_c: Vec<u64> = (0..SHARED_SLOTS).map(input::shared_cookie).collect();
    let mc = input::message(rng, cpu, &mut st.own, &shared_s, &shared_c);
    let mut p = input::place(rng, cpu, &st.own, &mc);
    let free = |p: &input::Placed| {
        for b in mc.blocks.iter().chain(p.block.iter()) {
            shm::pool_free(*b);
        }
    };
    if p.call.regs[0] == 0 {
        free(&p);
        return;
    }
    let hostile = rng.pick(&[0, 0, 20, 100]);
    let regs = p.call.regs;
    let out = run_new(cpu, st, rng, hostile, &mut p.call);
    if out.hung {
        free(&p);
        return;
    }
    let a0 = out.a0;
    let allowed = match a0 as u32 {
        smc::RETURN_OK | smc::RETURN_EBADADDR | smc::RETURN_EBADCMD | smc::RETURN_ENOMEM => true,
        smc::RETURN_EBUSY => mc.cmd == m::CMD_UNREGISTER_SHM,
        _ => false,
    };
    let place_ok = match p.place {
        Where::Bad => a0 == smc::RETURN_EBADADDR as u64,
        Where::Good => a0 != smc::RETURN_EBADADDR as u64,
        Where::Unknown => true,
    };
    if !allowed || !place_ok {
        fail!(
            cpu,
            "message cmd {:#x} ({} params, {:?} place, clean {}) sent with {:#x?}: a0 {a0:#x} {}",
            mc.cmd,
            mc.declared,
            p.place,
            mc.clean,
            regs,
            a0_name(a0)
        );
    }
    let mut hdr = [0u8; 32];
    let answered = a0 == 0 && p.at.as_ref().is_some_and(|at| at.read(0, &mut hdr));
    // Only now: once free, another CPU may write its own call there.
    free(&p);
    let word = |i: usize| u32::from_le_bytes(hdr[4 * i..4 * i + 4].try_into().unwrap());
    let (session, ret) = (word(2), word(5));
    let success = answered && ret == OK;
    match mc.intent {
        Intent::Open if success => {
            if session == 0 || st.own.sessions.contains(&session) || session == st.own.private {
                fail!(cpu, "OPEN_SESSION answered session id {session}, which is already in use");
            } else {
                st.own.sessions.push(session);
            }
        }
        Intent::Register { cookie, buf, must_fail } if success => {
            if must_fail {
                fail!(cpu, "REGISTER_SHM of {cookie:#x} accepted a bad page list or a cookie already registered");
            }
            if let Some(buf) = buf
                && !st.own.regs.iter().any(|r| r.cookie == cookie)
            {
                st.own.regs.push(Reg { cookie, buf });
            }
        }
        Intent::Unregister { cookie, must_succeed } => {
            // Sent from inside the buffer it names, the call itself holds it.
            let from_inside = regs[0] == smc::CALL_WITH_REGD_ARG as u64 && (regs[1] << 32 | regs[2]) == cookie;
            if from_inside && must_succeed && p.place == Where::Good && a0 != smc::RETURN_EBUSY as u64 {
                fail!(cpu, "UNREGISTER_SHM of {cookie:#x} sent from inside it: a0 {a0:#x} {}", a0_name(a0));
            }
            let must_succeed = must_succeed && !from_inside;
            if success {
                match st.own.regs.iter().position(|r| r.cookie == cookie) {
                    Some(i) => {
                        st.own.regs.remove(i);
                        st.own.dead.push(cookie);
                    }
                    None => fail!(cpu, "UNREGISTER_SHM of {cookie:#x}, which nobody registered, succeeded"),
                }
            } else if must_succeed && p.place == Where::Good && !st.held.iter().any(|h| h.uses == Some(cookie)) {
                fail!(cpu, "UNREGISTER_SHM of own idle buffer {cookie:#x}: a0 {a0:#x} {} ret {ret:#x}", a0_name(a0));
            }
        }
        Intent::Close { session, must_succeed } => {
            if success {
                match st.own.sessions.iter().position(|s| *s == session) {
                    Some(i) => {
                        st.own.sessions.remove(i);
                    }
                    None => fail!(cpu, "CLOSE_SESSION of {session:#x}, which is nobody's, succeeded"),
                }
            } else if must_succeed && place_ok && p.place == Where::Good {
                fail!(cpu, "CLOSE_SESSION of own session {session}: a0 {a0:#x} ret {ret:#x}");
            }
        }
        _ => {}
    }
    trim(cpu, st, rng);
}

/// Keeps what one CPU owns small.
fn trim(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    while st.own.sessions.len() > 8 {
        let s = st.own.sessions.remove(0);
        let (a0, ret) = close(cpu, st, rng, s);
        if a0 != 0 || ret != OK {
            fail!(cpu, "close own session {s}: a0 {a0:#x} ret {ret:#x}");
        }
    }
    while st.own.regs.len() > 8 {
        let Some(i) = st.own.regs.iter().position(|r| !st.held.iter().any(|h| h.uses == Some(r.cookie))) else {
            break;
        };
        let r = st.own.regs.remove(i);
        let (a0, ret) = unregister(cpu, st, rng, r.cookie);
        if a0 != 0 || ret != OK {
            fail!(cpu, "unregister own idle buffer {:#x}: a0 {a0:#x} {} ret {ret:#x}", r.cookie, a0_name(a0));
        }
        st.own.dead.push(r.cookie);
    }
    st.own.forget_dead();
}

fn hold_start(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    if st.held.len() >= st.max_held {
        return hold_step(cpu, st, rng);
    }
    let kind = rng.below(3);
    if let Some(h) = hold(cpu, st, rng, kind, None) {
        st.held.push(h);
    }
}

fn hold_step(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    if st.held.is_empty() {
        return;
    }
    let i = rng.below(st.held.len() as u64) as usize;
    match rng.below(4) {
        0 | 1 => {
            let h = st.held.remove(i);
            let hostile = rng.pick(&[0, 20, 100]);
            finish_held(cpu, st, rng, h, hostile);
        }
        // One answer, hostile in every register the OS should ignore.
        2 => {
            let h = &mut st.held[i];
            drive::serve(cpu, rng, 100, &mut h.call, h.r);
            let r = drive::step(cpu, &mut h.call);
            h.r = r;
            if !drive::is_rpc(r[0]) {
                let h = st.held.remove(i);
                check_a0(cpu, "held call after a hostile answer", r[0]);
                release_held(cpu, st, rng, h);
            }
        }
        // The same RETURN_FROM_RPC twice (one CPU only: a thread freed by
        // the first could otherwise be another CPU's by the second).
        _ if cpu.solo && st.held[i].r[0] as u32 != smc::RETURN_RPC_ALLOC => {
            let h = &mut st.held[i];
            drive::serve(cpu, rng, 0, &mut h.call, h.r);
            let again = h.call.regs;
            let r = drive::step(cpu, &mut h.call);
            let r = if drive::is_rpc(r[0]) {
                // The repeat answers the next RPC; what it lent must still
                // be recorded, except an RPC_ALLOC, which the repeat refuses.
                if r[0] as u32 != smc::RETURN_RPC_ALLOC {
                    drive::serve(cpu, rng, 0, &mut h.call, r);
                }
                h.call.regs = again;
                drive::step(cpu, &mut h.call)
            } else {
                let dup = drive::smc(again);
                if dup[0] != smc::RETURN_ERESUME as u64 {
                    fail!(cpu, "RETURN_FROM_RPC repeated after the call ended: a0 {:#x}", dup[0]);
                }
                r
            };
            h.r = r;
            if !drive::is_rpc(r[0]) {
                let h = st.held.remove(i);
                check_a0(cpu, "held call resumed twice", r[0]);
                release_held(cpu, st, rng, h);
            }
        }
        _ => {
            let h = st.held.remove(i);
            finish_held(cpu, st, rng, h, 0);
        }
    }
}

/// While a call holds a buffer and a session: unregister, cancel, close.
fn hold_interfere(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    if st.held.is_empty() {
        return hold_start(cpu, st, rng);
    }
    let i = rng.below(st.held.len() as u64) as usize;
    let (uses, session) = (st.held[i].uses, st.held[i].session);
    match (rng.below(3), uses) {
        (0, Some(cookie)) => {
            let (a0, _) = unregister(cpu, st, rng, cookie);
            if a0 != smc::RETURN_EBUSY as u64 {
                fail!(cpu, "UNREGISTER_SHM of {cookie:#x} held by a suspended call: a0 {a0:#x} {}", a0_name(a0));
                if a0 == 0 {
                    st.own.regs.retain(|r| r.cookie != cookie);
                }
            }
        }
        (1, _) if st.own.sessions.contains(&session) => {
            let (a0, ret) = close(cpu, st, rng, session);
            if a0 != 0 || ret != OK {
                fail!(cpu, "close own session {session} under a suspended call: a0 {a0:#x} ret {ret:#x}");
            }
            st.own.sessions.retain(|s| *s != session);
        }
        _ => {
            let (a0, ret) = cancel(cpu, st, rng, session);
            let closed = !st.own.sessions.contains(&session) && session != st.own.private;
            if a0 != 0 || (ret != OK && !(closed && ret == BAD_PARAMS)) {
                fail!(cpu, "cancel session {session} under a suspended call: a0 {a0:#x} ret {ret:#x}");
            }
        }
    }
}

/// Sessions and buffers every CPU races on.
fn shared(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    let k = rng.below(SHARED_SLOTS as u64) as usize;
    let cookie = input::shared_cookie(k);
    let hostile = rng.pick(&[0, 0, 20]);
    let (ptr, size) = SHARED_LISTS.lock()[k];
    let slot = &SHARED_SESSIONS[k];
    match rng.below(8) {
        0 => {
            let (a0, ret) = register(cpu, st, rng, hostile, ptr, size, cookie);
            if a0 != 0 || ![OK, BAD_PARAMS, TeeResult::ERROR_OUT_OF_MEMORY.0].contains(&ret) {
                fail!(cpu, "REGISTER_SHM shared {k}: a0 {a0:#x} ret {ret:#x}");
            }
        }
        1 => {
            let (a0, ret) = unregister(cpu, st, rng, cookie);
            let ok = (a0 == 0 && (ret == OK || ret == BAD_PARAMS)) || a0 == smc::RETURN_EBUSY as u64;
            if !ok {
                fail!(cpu, "UNREGISTER_SHM shared {k}: a0 {a0:#x} {} ret {ret:#x}", a0_name(a0));
            }
        }
        2 | 3 => {
            let session = match slot.load(Ordering::Acquire) {
                0 => st.own.private,
                s => s,
            };
            let rm =
                Param::Rmem { dir: Dir::InOut, offs: rng.below(size / 2), size: rng.below(size / 2), shm_ref: cookie };
            let (func, params) = if rng.chance(30) {
                (t::CMD_SPIN, vec![value(Dir::In, 2, 0), value(Dir::Out, 0, 0), rm])
            } else {
                (t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)])
            };
            let (a0, r) = call_msg(cpu, st, rng, hostile, &invoke_msg(session, func, params));
            let ret = r.hdr.ret;
            let fine = [OK, BAD_PARAMS, TeeResult::ERROR_CANCEL.0, TeeResult::ERROR_SECURITY.0];
            if a0 != 0 || !fine.contains(&ret) {
                fail!(cpu, "invoke on shared buffer {k} (session {session}): a0 {a0:#x} ret {ret:#x}");
            }
        }
        4 => {
            if slot.load(Ordering::Acquire) == 0
                && let Ok(s) = open_test(cpu, st, rng, hostile)
                && slot.compare_exchange(0, s, Ordering::AcqRel, Ordering::Acquire).is_err()
            {
                let (a0, ret) = close(cpu, st, rng, s);
                if a0 != 0 || ret != OK {
                    fail!(cpu, "close a fresh session {s}: a0 {a0:#x} ret {ret:#x}");
                }
            }
        }
        5 => {
            let id = slot.swap(0, Ordering::AcqRel);
            if id != 0 {
                let (a0, ret) = close(cpu, st, rng, id);
                if a0 != 0 || ret != OK {
                    fail!(cpu, "close shared session {id} taken from its slot: a0 {a0:#x} ret {ret:#x}");
                }
            }
        }
        6 => {
            let id = slot.load(Ordering::Acquire);
            if id != 0 {
                let (a0, ret) = cancel(cpu, st, rng, id);
                if a0 != 0 || (ret != OK && ret != BAD_PARAMS) {
                    fail!(cpu, "cancel shared session {id}: a0 {a0:#x} ret {ret:#x}");
                }
            }
        }
        _ => {
            let id = slot.load(Ordering::Acquire);
            if id != 0 {
                let msg = invoke_msg(id, t::CMD_VALUES, vec![value(Dir::InOut, 5, 6), value(Dir::Out, 0, 0)]);
                let (a0, r) = call_msg(cpu, st, rng, hostile, &msg);
                let want = [
                    Param::Value { dir: Dir::InOut, a: 6, b: 12, c: 0 },
                    Param::Value { dir: Dir::Out, a: 3, b: 0xc0ffee, c: 0 },
                ];
                // Closed by another CPU meanwhile, or served exactly.
                let ok = a0 == 0 && (r.hdr.ret == BAD_PARAMS || (r.hdr.ret == OK && r.params == want));
                if !ok {
                    fail!(cpu, "CMD_VALUES on shared session {id}: a0 {a0:#x} ret {:#x} {:x?}", r.hdr.ret, r.params);
                }
            }
        }
    }
}

fn cache(cpu: &mut Cpu, rng: &mut Rng) {
    if rng.chance(50) {
        let r = drive::smc([smc::ENABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0]);
        if r[0] != 0 && r[0] != smc::RETURN_EBUSY as u64 {
            fail!(cpu, "ENABLE_SHM_CACHE: {:#x}", r[0]);
        }
    } else {
        for _ in 0..rng.range(1, 4) {
            let r = drive::smc([smc::DISABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0]);
            match r[0] as u32 {
                smc::RETURN_OK => drive::release_cached(cpu, (r[1] << 32) | (r[2] & 0xffff_ffff)),
                smc::RETURN_ENOTAVAIL | smc::RETURN_EBUSY => break,
                _ => {
                    fail!(cpu, "DISABLE_SHM_CACHE: {:#x}", r[0]);
                    break;
                }
            }
        }
    }
}

fn sum(data: &[u8]) -> u64 {
    data.iter().map(|b| *b as u64).sum()
}

/// Well-formed sequences with exact answers, while RPCs are answered with
/// junk some of the time.
fn churn(cpu: &mut Cpu, st: &mut State, rng: &mut Rng) {
    let hostile = rng.pick(&[0, 0, 10, 50]);
    let private = st.own.private;
    match rng.below(6) {
        0 => {
            let size = rng.range(1, 8 * PAGE);
            let list = mem::page_list(rng, &mut cpu.scratch, ListKind::Valid, size);
            let buf = list.buf.clone().expect("valid list");
            let data: Vec<u8> = (0..list.size).map(|_| rng.next() as u8).collect();
            buf.write(0, &data);
            let cookie = st.own.fresh_cookie();
            let (a0, ret) = register(cpu, st, rng, hostile, list.ptr, list.size, cookie);
            if a0 != 0 || ret != OK {
                if a0 != 0 || ret != TeeResult::ERROR_OUT_OF_MEMORY.0 {
                    fail!(cpu, "REGISTER_SHM of a valid {}-byte list: a0 {a0:#x} ret {ret:#x}", list.size);
                }
                return;
            }
            let offs = rng.below(list.size);
            let len = rng.below(list.size - offs + 1);
            let rm = Param::Rmem { dir: Dir::In, offs, size: len, shm_ref: cookie };
            let (a0, r) =
                call_msg(cpu, st, rng, hostile, &invoke_msg(private, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]));
            let want =
                Param::Value { dir: Dir::Out, a: sum(&data[offs as usize..(offs + len) as usize]), b: len, c: 0 };
            if a0 != 0 || r.hdr.ret != OK || r.params.get(1) != Some(&want) {
                fail!(cpu, "CMD_MEMREF on registered memory: a0 {a0:#x} ret {:#x} {:x?}", r.hdr.ret, r.params.get(1));
            }
            let (a0, ret) = unregister(cpu, st, rng, cookie);
            if a0 != 0 || ret != OK {
                fail!(cpu, "UNREGISTER_SHM right after use: a0 {a0:#x} {} ret {ret:#x}", a0_name(a0));
            }
        }
        1 => match open_test(cpu, st, rng, hostile) {
            Ok(s) => {
                values_ok(cpu, st, rng, hostile, s, "a fresh session");
                let (a0, ret) = close(cpu, st, rng, s);
                if a0 != 0 || ret != OK {
                    fail!(cpu, "close a fresh session {s}: a0 {a0:#x} ret {ret:#x}");
                }
            }
            Err(e) => {
                if hostile == 0 {
                    fail!(cpu, "open the test PTA: {e:x?}");
                }
            }
        },
        2 => {
            let (a0, r) =
                call_msg(cpu, st, rng, hostile, &invoke_msg(private, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]));
            let ok = match (r.hdr.ret, r.params.first()) {
                // (c does not travel back: values carry a and b only.)
                (OK, Some(Param::Value { b, .. })) => *b < 1_000_000_000,
                (_, _) => hostile > 0,
            };
            if a0 != 0 || !ok {
                fail!(cpu, "CMD_RPC (hostile {hostile}%): a0 {a0:#x} ret {:#x} {:x?}", r.hdr.ret, r.params.first());
            }
        }
        3 => {
            let msg = invoke_msg(private, t::CMD_MUTEX, vec![value(Dir::In, rng.below(3), 0), value(Dir::Out, 0, 0)]);
            let (a0, r) = call_msg(cpu, st, rng, hostile, &msg);
            let violations = match r.params.get(1) {
                Some(Param::Value { a, .. }) if r.hdr.ret == OK => *a,
                _ => 0,
            };
            // Honest answers to this call can still time out: a hostile
            // answer to another call's RPC can cost it the wake-up it owes.
            let timeout = r.hdr.ret == TeeResult::ERROR_TIMEOUT.0;
            if a0 != 0 || violations != 0 || (r.hdr.ret != OK && !timeout && hostile == 0) {
                fail!(cpu, "CMD_MUTEX: a0 {a0:#x} ret {:#x}, {violations} exclusion violations", r.hdr.ret);
            }
        }
        4 => {
            let size = rng.range(1, 6 * PAGE);
            let list = mem::page_list(rng, &mut cpu.scratch, ListKind::Valid, size);
            let buf = list.buf.clone().expect("valid list");
            let data: Vec<u8> = (0..list.size).map(|_| rng.next() as u8).collect();
            buf.write(0, &data);
            let nc = Param::Tmem { dir: Dir::In, buf: list.ptr, size: list.size, shm_ref: 0, noncontig: true };
            let (a0, r) =
                call_msg(cpu, st, rng, hostile, &invoke_msg(private, t::CMD_MEMREF, vec![nc, value(Dir::Out, 0, 0)]));
            let want = Param::Value { dir: Dir::Out, a: sum(&data), b: list.size, c: 0 };
            if a0 != 0 || r.hdr.ret != OK || r.params.get(1) != Some(&want) {
                fail!(cpu, "NONCONTIG CMD_MEMREF: a0 {a0:#x} ret {:#x} {:x?}", r.hdr.ret, r.params.get(1));
            }
        }
        _ => {
            let Some(pa) = shm::pool_alloc(PAGE) else { return };
            let len = rng.range(1, PAGE);
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            arch::write_mem(pa, &data);
            let tm = Param::Tmem { dir: Dir::InOut, buf: pa, size: len, shm_ref: 0, noncontig: false };
            let (a0, r) =
                call_msg(cpu, st, rng, hostile, &invoke_msg(private, t::CMD_MEMREF, vec![tm, value(Dir::Out, 0, 0)]));
            let mut back = vec![0u8; len as usize];
            arch::read_mem(pa, &mut back);
            shm::pool_free(pa);
            let flipped = back.iter().zip(&data).all(|(b, d)| *b == d ^ 0x5a);
            if a0 != 0 || r.hdr.ret != OK || !flipped {
                fail!(cpu, "TMEM inout CMD_MEMREF: a0 {a0:#x} ret {:#x}, data flipped {flipped}", r.hdr.ret);
            }
        }
    }
}
