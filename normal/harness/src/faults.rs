//! Faults injected into the OS (test build) while a call holds each kind of
//! resource: the call is answered, the same operation then succeeds, and
//! everything the OS holds (heap included) is back where it started. Ends
//! with 10,000 kernel faults in a row.

use crate::checks::{check, eq};
use crate::client::{self, Scattered, value};
use crate::{arch, say, shm};
use alloc::vec;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta::{self as t, Resources};
use oxtee_core::msg::{Dir, Param};
use zerocopy::FromBytes;

/// What the OS holds now (CMD_RESOURCES).
pub fn resources(session: u32) -> Resources {
    let size = size_of::<Resources>() as u64;
    let pa = shm::pool_alloc(size).expect("pool");
    let out = Param::Tmem { dir: Dir::Out, buf: pa, size, shm_ref: 0, noncontig: false };
    let r = client::invoke(session, t::CMD_RESOURCES, vec![out]);
    let mut b = vec![0u8; size as usize];
    arch::read_mem(pa, &mut b);
    shm::pool_free(pa);
    if r.ret() != 0 {
        check(false, 0, "CMD_RESOURCES", format_args!("{:#x}", r.ret()));
        return Resources::default();
    }
    Resources::read_from_bytes(&b).unwrap_or_default()
}

/// Checks every held count and the heap against `before`.
pub fn same(what: &str, before: &Resources, after: &Resources) {
    for ((name, b), (_, a)) in before.held().iter().zip(after.held().iter()) {
        if a != b {
            check(false, 0, what, format_args!("{name}: {b} before, {a} after"));
        }
    }
    eq(0, what, after.heap_used, before.heap_used);
}

/// Injects a fault (`FAULT_POINT_NOW`) or arms one for a later call;
/// every fault the checks inject fires once and the OS logs one panic or
/// exception line for it, which `cargo xtask test` must not count.
fn fault(session: u32, point: u32, kind: u32, skip: u64) -> client::Reply {
    crate::checks::DELIBERATE_ABORTS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let v = Param::Value { dir: Dir::In, a: point as u64, b: kind as u64 | (skip << 16), c: 0 };
    client::invoke(session, t::CMD_FAULT, vec![v])
}

fn arm(session: u32, point: u32) {
    eq(0, "fault armed", fault(session, point, t::FAULT_DATA_ABORT, 0).ret(), 0);
}

/// (a0, ret, origin) of an aborted call.
fn aborted(ret: TeeResult) -> (u64, u32, u32) {
    (smc::RETURN_OK as u64, ret.0, Origin::Tee as u32)
}

fn answer(r: &client::Reply) -> (u64, u32, u32) {
    (r.a0, r.ret(), r.origin())
}

fn noop_ok(session: u32, what: &str) {
    let r = client::invoke(session, t::CMD_NOOP, vec![]);
    eq(0, what, (r.a0, r.ret()), (smc::RETURN_OK as u64, 0));
}

pub fn run(session: u32) {
    // Warm up what the first fault would otherwise allocate for good
    // (nothing should; the comparisons prove it).
    noop_ok(session, "serving before faults");
    let before = resources(session);

    // Every kind of fault, in a call that holds nothing of its own.
    for (kind, name) in [
        (t::FAULT_PANIC, "panic"),
        (t::FAULT_DATA_ABORT, "data abort"),
        (t::FAULT_STACK_OVERFLOW, "stack overflow"),
        (t::FAULT_OUT_OF_MEMORY, "allocation failure"),
    ] {
        let want =
            if kind == t::FAULT_OUT_OF_MEMORY { TeeResult::ERROR_OUT_OF_MEMORY } else { TeeResult::ERROR_GENERIC };
        let r = fault(session, t::FAULT_POINT_NOW, kind, 0);
        eq(0, name, answer(&r), aborted(want));
        noop_ok(session, "serving after a fault");
    }
    same("after one fault of each kind", &before, &resources(session));

    // A spin lock held: the session table's.
    let r = fault(session, t::FAULT_POINT_SPIN_LOCK, t::FAULT_DATA_ABORT, 0);
    eq(0, "fault holding a spin lock", answer(&r), aborted(TeeResult::ERROR_GENERIC));
    match client::open(t::UUID) {
        Ok(s2) => eq(0, "session table after a fault under its lock", client::close(s2).ret(), 0),
        Err(e) => check(false, 0, "open after a fault under the table lock", format_args!("{e:x?}")),
    }

    // A registered buffer in use: the use is given back, so it can go.
    let buf = Scattered::new(2 * 4096, 0x20);
    let cookie = 0x0fa0_0001;
    eq(0, "register", client::register(&buf, cookie).ret(), 0);
    arm(session, t::FAULT_POINT_PTA_CALL);
    let rm = Param::Rmem { dir: Dir::InOut, offs: 0, size: 4096, shm_ref: cookie };
    let r = client::invoke(session, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]);
    eq(0, "fault holding a registered buffer", answer(&r), aborted(TeeResult::ERROR_GENERIC));
    let r = client::invoke(session, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]);
    eq(0, "the buffer serves again", r.ret(), 0);
    let r = client::unregister(cookie);
    eq(0, "and can be unregistered", (r.a0, r.ret()), (smc::RETURN_OK as u64, 0));

    // Registering: no half registration stays.
    arm(session, t::FAULT_POINT_REGISTER_SHM);
    eq(0, "fault while registering", client::register(&buf, cookie).ret(), TeeResult::ERROR_GENERIC.0);
    eq(0, "register again", client::register(&buf, cookie).ret(), 0);
    eq(0, "unregister again", client::unregister(cookie).ret(), 0);
    buf.free();

    // The thread's RPC buffer (allocated with RPC_ALLOC), cache off and on.
    for cache in [false, true] {
        if cache {
            eq(0, "ENABLE_SHM_CACHE", arch::smc([smc::ENABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0])[0], 0);
        }
        arm(session, t::FAULT_POINT_RPC_ARG);
        let r = client::invoke(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]);
        eq(0, "fault after an RPC", answer(&r), aborted(TeeResult::ERROR_GENERIC));
        let r = client::invoke(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]);
        eq(0, "RPCs after a fault", r.ret(), 0);
    }
    // Hand cached buffers back (the cache was off at the start).
    loop {
        let a = arch::smc([smc::DISABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0]);
        if a[0] != smc::RETURN_OK as u64 {
            break;
        }
        crate::driver::release_cached((a[1] << 32) | a[2]);
    }

    // A sleeping lock held (the test PTA's mutex): free again afterwards.
    arm(session, t::FAULT_POINT_SLEEP_LOCK);
    let m = || vec![value(Dir::In, 0, 0), value(Dir::Out, 9, 9)];
    let r = client::invoke(session, t::CMD_MUTEX, m());
    eq(0, "fault holding a sleeping lock", answer(&r), aborted(TeeResult::ERROR_GENERIC));
    let r = client::invoke(session, t::CMD_MUTEX, m());
    eq(0, "the sleeping lock is free", (r.ret(), r.msg.params.get(1).copied()), (0, Some(value(Dir::Out, 0, 0))));
    same("after a fault holding each resource", &before, &resources(session));

    // A second fault while an aborted call is finished, more times than
    // there are threads: each call is dropped (ENOTAVAIL), its thread
    // serves again.
    for i in 0..20 {
        arm(session, t::FAULT_POINT_FINISH);
        let r = fault(session, t::FAULT_POINT_NOW, t::FAULT_PANIC, 0);
        if r.a0 != smc::RETURN_ENOTAVAIL as u64 {
            check(false, 0, "a second fault drops the call", format_args!("round {i}: a0 {:#x}", r.a0));
        }
    }
    noop_ok(session, "serving after 20 double faults");
    same("after double faults", &before, &resources(session));

    // 10,000 kernel faults in a row, of every kind.
    let kinds = [t::FAULT_DATA_ABORT, t::FAULT_PANIC, t::FAULT_STACK_OVERFLOW, t::FAULT_OUT_OF_MEMORY];
    let mut wrong = 0;
    for i in 0..10_000 {
        let r = fault(session, t::FAULT_POINT_NOW, kinds[i % kinds.len()], 0);
        if r.a0 != smc::RETURN_OK as u64 || r.ret() == 0 {
            wrong += 1;
        }
    }
    check(wrong == 0, 0, "10,000 faults answered", format_args!("{wrong} not"));
    noop_ok(session, "serving after 10,000 faults");
    let after = resources(session);
    same("after 10,000 faults", &before, &after);
    say!(
        "harness: {} calls aborted by injected faults; secure heap {} -> {} bytes",
        after.aborted_calls - before.aborted_calls,
        before.heap_used,
        after.heap_used
    );
}
