//! Calls aborted at each fault point (a fault, a panic, a stack overflow:
//! on the host, the calling thread freezes and the ledger is unwound from
//! another, as the OS does from the CPU's entry stack) are answered, and
//! give back everything they held: the same operation then succeeds and
//! every count is where it started.

use super::user_tas::{MULTI, SINGLE, close, ok_open, user_world};
use super::*;
use crate::std_call::AbortCause;
use crate::user::tests::cmd;
use oxtee_abi::test_pta::{self as tp, Resources};
use oxtee_guard::testing::run_abortable;

/// Everything that must come back, with the heap (0 on the host) and the
/// RPC count (a counter, global to the process) left out.
fn held(w: &World) -> Resources {
    let mut r = w.os.resources();
    r.heap_used = 0;
    r.rpc_round_trips = 0;
    r
}

fn arm(w: &World, env: &mut FakeEnv, s: u32, point: u32, skip: u64) {
    let r = w.invoke(
        env,
        s,
        t::CMD_FAULT,
        vec![Param::Value { dir: Dir::In, a: point as u64, b: tp::FAULT_DATA_ABORT as u64, c: skip }],
    );
    assert_eq!(r.hdr.ret, 0, "armed");
}

/// Sends `msg` on a thread that is expected to fault; finishes the call as
/// the OS does after unwinding; returns the answer.
fn aborted(w: &World, env: &FakeEnv, msg: &Message, cause: AbortCause) -> Message {
    w.ram.put(ARG, &msg.encode()).unwrap();
    let (os, mut e) = (w.os, env.clone());
    let r = run_abortable(&w.os.threads.ctx(0).ledger, move || {
        os.serve(&mut e, [smc::CALL_WITH_ARG as u64, 0, ARG, 0, 0, 0, 0, 0])
    });
    assert!(r.is_none(), "the call was expected to fault, but it returned {r:x?}");
    let a = w.os.finish_aborted(&mut env.clone(), cause);
    assert_eq!(a[0], smc::RETURN_OK as u64, "an aborted call is answered");
    let mut back = vec![0u8; msg::size_for(msg.params.len())];
    w.ram.get(ARG, &mut back).unwrap();
    msg::parse(&back, msg.params.len()).unwrap()
}

fn invoke_msg(s: u32, func: u32, params: Vec<Param>) -> Message {
    let mut m = Message::new(m::CMD_INVOKE_COMMAND, params);
    m.hdr.session = s;
    m.hdr.func = func;
    m
}

fn register(w: &World, env: &mut FakeEnv, cookie: u64) -> u32 {
    let list = RAM + 0x1000;
    w.ram.put(list, &(RAM + 0x5000u64).to_le_bytes()).unwrap();
    let reg = Param::Tmem { dir: Dir::Out, buf: list, size: 4096, shm_ref: cookie, noncontig: true };
    w.call(env, &Message::new(m::CMD_REGISTER_SHM, vec![reg])).hdr.ret
}

fn unregister(w: &World, env: &mut FakeEnv, cookie: u64) -> (u64, u32) {
    let unreg =
        Message::new(m::CMD_UNREGISTER_SHM, vec![Param::Rmem { dir: Dir::In, offs: 0, size: 0, shm_ref: cookie }]);
    let (a0, out) = w.call_at(env, smc::CALL_WITH_ARG, ARG, &unreg);
    (a0, out.hdr.ret)
}

fn ret_origin(r: &Message) -> (TeeResult, u32) {
    (TeeResult(r.hdr.ret), r.hdr.ret_origin)
}

#[test]
fn a_fault_in_a_pta_call_releases_its_buffer_uses_and_running_entry() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    assert_eq!(register(&w, &mut env, 0x55), 0);
    let before = held(&w);
    // Faults inside the call, holding a use of the registered buffer.
    let rm = Param::Rmem { dir: Dir::InOut, offs: 0, size: 64, shm_ref: 0x55 };
    let fault = Param::Value { dir: Dir::In, a: tp::FAULT_POINT_NOW as u64, b: tp::FAULT_PANIC as u64, c: 0 };
    let r = aborted(&w, &env, &invoke_msg(s, t::CMD_FAULT, vec![fault]), AbortCause::Fault);
    assert_eq!(ret_origin(&r), (TeeResult::ERROR_GENERIC, Origin::Tee as u32));
    arm(&w, &mut env, s, tp::FAULT_POINT_PTA_CALL, 0);
    let r = aborted(&w, &env, &invoke_msg(s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]), AbortCause::Fault);
    assert_eq!(ret_origin(&r), (TeeResult::ERROR_GENERIC, Origin::Tee as u32));
    assert_eq!(held(&w), Resources { aborted_calls: 2, ..before });
    // The same call works, and the buffer can go.
    assert_eq!(w.invoke(&mut env, s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]).hdr.ret, 0);
    assert_eq!(unregister(&w, &mut env, 0x55), (smc::RETURN_OK as u64, 0));
}

#[test]
fn a_fault_with_a_spin_lock_held_opens_it() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let fault =
        Param::Value { dir: Dir::In, a: tp::FAULT_POINT_SPIN_LOCK as u64, b: tp::FAULT_DATA_ABORT as u64, c: 0 };
    let r = aborted(&w, &env, &invoke_msg(s, t::CMD_FAULT, vec![fault]), AbortCause::Fault);
    assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_GENERIC);
    // The session table (whose lock the call held) still works.
    let s2 = w.open(&mut env, t::UUID).hdr.session;
    assert_eq!(close(&w, &mut env, s2), 0);
    assert_eq!(close(&w, &mut env, s), 0);
    assert_eq!(w.os.sessions.count(), 0);
}

#[test]
fn a_fault_after_an_rpc_gives_the_rpc_buffer_back() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    arm(&w, &mut env, s, tp::FAULT_POINT_RPC_ARG, 0);
    let r = aborted(&w, &env, &invoke_msg(s, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]), AbortCause::Fault);
    assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_GENERIC);
    assert!(env.allocs().is_empty(), "the buffer RPC_ALLOC gave the call was freed: {:x?}", env.allocs());
    assert_eq!(env.rpcs().last(), Some(&smc::RETURN_RPC_FREE));
    assert_eq!(w.invoke(&mut env, s, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]).hdr.ret, 0);
}

#[test]
fn a_fault_holding_a_sleeping_lock_releases_it() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    arm(&w, &mut env, s, tp::FAULT_POINT_SLEEP_LOCK, 0);
    let mutex = || vec![value(Dir::In, 0, 0), value(Dir::Out, 9, 9)];
    aborted(&w, &env, &invoke_msg(s, t::CMD_MUTEX, mutex()), AbortCause::Fault);
    // Free again: taken without sleeping (the single-threaded fake world
    // would panic on a WAIT nobody SENDs).
    let r = w.invoke(&mut env, s, t::CMD_MUTEX, mutex());
    assert_eq!((r.hdr.ret, &r.params[1]), (0, &Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }));
}

#[test]
fn a_fault_while_registering_leaves_no_registration() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let before = held(&w);
    arm(&w, &mut env, s, tp::FAULT_POINT_REGISTER_SHM, 0);
    let list = RAM + 0x1000;
    w.ram.put(list, &(RAM + 0x5000u64).to_le_bytes()).unwrap();
    let reg = Param::Tmem { dir: Dir::Out, buf: list, size: 4096, shm_ref: 0x66, noncontig: true };
    let r = aborted(&w, &env, &Message::new(m::CMD_REGISTER_SHM, vec![reg]), AbortCause::Fault);
    assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_GENERIC);
    assert_eq!(held(&w), Resources { aborted_calls: 1, ..before });
    assert_eq!(register(&w, &mut env, 0x66), 0);
    assert_eq!(unregister(&w, &mut env, 0x66).1, 0);
}

#[test]
fn an_allocation_failure_is_answered_out_of_memory() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let fault = Param::Value { dir: Dir::In, a: tp::FAULT_POINT_NOW as u64, b: tp::FAULT_OUT_OF_MEMORY as u64, c: 0 };
    let r = aborted(&w, &env, &invoke_msg(s, t::CMD_FAULT, vec![fault]), AbortCause::OutOfMemory);
    assert_eq!(ret_origin(&r), (TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee as u32));
}

#[test]
fn a_thousand_aborted_calls_leave_nothing_behind() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let before = held(&w);
    let fault = Param::Value { dir: Dir::In, a: tp::FAULT_POINT_NOW as u64, b: tp::FAULT_PANIC as u64, c: 0 };
    for _ in 0..1000 {
        aborted(&w, &env, &invoke_msg(s, t::CMD_FAULT, vec![fault]), AbortCause::Fault);
    }
    assert_eq!(held(&w), Resources { aborted_calls: 1000, ..before });
    assert!(env.allocs().is_empty());
}

#[test]
fn a_fault_in_a_user_ta_open_gives_back_its_session_id() {
    let (w, mmu) = user_world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let before = held(&w);
    arm(&w, &mut env, s, tp::FAULT_POINT_SESSION_RESERVED, 0);
    let (a, b) = SINGLE.to_msg_value();
    let mut open =
        Message::new(m::CMD_OPEN_SESSION, vec![value(Dir::In, a, b), Param::Value { dir: Dir::In, a: 0, b: 0, c: 0 }]);
    open.meta = vec![true, true];
    let r = aborted(&w, &env, &open, AbortCause::Fault);
    assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_GENERIC);
    assert_eq!(held(&w), Resources { aborted_calls: 1, ..before });
    let x = ok_open(&w, &mut env, SINGLE);
    assert_eq!(close(&w, &mut env, x), 0);
    assert_eq!((w.os.user.live(), mmu.spaces.lock().len()), (0, 0));
}

#[test]
fn a_fault_before_entering_a_ta_gives_back_the_parameter_copies() {
    let (w, _) = user_world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let ta = ok_open(&w, &mut env, MULTI);
    let before = held(&w);
    arm(&w, &mut env, s, tp::FAULT_POINT_PARAM_COPY, 0);
    let tm = Param::Tmem { dir: Dir::InOut, buf: POOL.0 + 0x8000, size: 8192, shm_ref: 0, noncontig: false };
    let r = aborted(&w, &env, &invoke_msg(ta, cmd::OK as u32, vec![tm]), AbortCause::Fault);
    assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_GENERIC, "the TA was not entered: it lives");
    assert_eq!(held(&w), Resources { aborted_calls: 1, ..before });
    assert_eq!(w.invoke(&mut env, ta, cmd::OK as u32, vec![tm]).hdr.ret, 0);
    assert_eq!(close(&w, &mut env, ta), 0);
}

#[test]
fn a_fault_inside_an_instance_kills_and_frees_it() {
    let (w, mmu) = user_world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let before = held(&w);
    let victim = ok_open(&w, &mut env, SINGLE);
    let other = ok_open(&w, &mut env, MULTI);
    arm(&w, &mut env, s, tp::FAULT_POINT_INSTANCE, 0);
    let r = aborted(&w, &env, &invoke_msg(victim, cmd::OK as u32, vec![]), AbortCause::Fault);
    assert_eq!(ret_origin(&r), (TeeResult::ERROR_TARGET_DEAD, Origin::Tee as u32));
    // Its pages, tables and ASID are gone; the other TA is untouched.
    assert_eq!((w.os.user.live(), mmu.spaces.lock().len()), (1, 1));
    let r = w.invoke(&mut env, victim, cmd::OK as u32, vec![]);
    assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_TARGET_DEAD);
    assert_eq!(w.invoke(&mut env, other, cmd::OK as u32, vec![]).hdr.ret, 0);
    assert_eq!(close(&w, &mut env, victim), 0);
    assert_eq!(close(&w, &mut env, other), 0);
    assert_eq!(held(&w), Resources { aborted_calls: 1, ..before });
    // A new session gets a new instance.
    let again = ok_open(&w, &mut env, SINGLE);
    assert_eq!(w.invoke(&mut env, again, cmd::OK as u32, vec![]).hdr.ret, 0);
    close(&w, &mut env, again);
    assert_eq!((w.os.user.live(), mmu.spaces.lock().len()), (0, 0));
}

#[test]
fn exhaustion_is_an_error_and_closing_recovers() {
    let (w, _) = user_world();
    let mut env = FakeEnv::new(w.ram);
    // TA instances: the limit (4) of multi-instance sessions, then refused.
    let tas: Vec<u32> = (0..LIMITS.instances).map(|_| ok_open(&w, &mut env, MULTI)).collect();
    let r = w.open(&mut env, MULTI);
    assert_eq!(ret_origin(&r), (TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee as u32));
    for s in tas {
        close(&w, &mut env, s);
    }
    // Sessions: the table's limit, then refused.
    let all: Vec<u32> = (0..LIMITS.sessions.total).map(|_| w.open(&mut env, t::UUID).hdr.session).collect();
    assert!(all.iter().all(|s| *s != 0));
    let r = w.open(&mut env, t::UUID);
    assert_eq!(ret_origin(&r), (TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee as u32));
    for s in all {
        assert_eq!(close(&w, &mut env, s), 0);
    }
    // Registered buffers: the count limit, then refused.
    for c in 1..=LIMITS.shm.buffers as u64 {
        assert_eq!(register(&w, &mut env, c), 0);
    }
    assert_eq!(TeeResult(register(&w, &mut env, 99)), TeeResult::ERROR_OUT_OF_MEMORY);
    for c in 1..=LIMITS.shm.buffers as u64 {
        assert_eq!(unregister(&w, &mut env, c).1, 0);
    }
    let r = w.os.resources();
    assert_eq!((r.sessions, r.shm_buffers, r.instances), (0, 0, 0));
    let s = ok_open(&w, &mut env, MULTI);
    close(&w, &mut env, s);
}
