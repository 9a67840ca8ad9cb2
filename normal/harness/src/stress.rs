//! Cases that need orchestration: more callers than trusted threads,
//! resource accounting over thousands of calls, timers and foreign
//! interrupts, cancellation, shared memory busy in a running call, a thread
//! resumed on another CPU, and hostile arguments of every kind.

use crate::checks::{check, eq};
use crate::client::{self, Scattered, Via, value};
use crate::driver::{self, ArgRef, InFlight};
use crate::{arch, irq, say, shm};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as t;
use oxtee_core::msg::{self, Dir, Message, Param};
use spin::Mutex;

pub static LIMIT_SEEN: AtomicU64 = AtomicU64::new(0);
static BARRIER: AtomicUsize = AtomicUsize::new(0);

fn barrier(n: usize, round: usize) {
    BARRIER.fetch_add(1, Ordering::AcqRel);
    while BARRIER.load(Ordering::Acquire) < n * round {
        core::hint::spin_loop();
    }
}

fn thread_count() -> u64 {
    arch::smc([smc::GET_THREAD_COUNT as u64, 0, 0, 0, 0, 0, 0, 0])[1]
}

/// Starts a CMD_RPC call and stops at its first RPC (RPC_ALLOC): the
/// thread stays suspended in the normal world. Err(a0) if refused.
fn start_held(session: u32) -> Result<(InFlight, [u64; 4], u64), u64> {
    let msg = client::invoke_msg(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]);
    let pa = shm::pool_alloc(4096).unwrap();
    arch::write_mem(pa, &msg.encode());
    let call = driver::begin(ArgRef::Pa(pa));
    let r = driver::issue(&call);
    if driver::is_rpc(r[0]) {
        Ok((call, r, pa))
    } else {
        shm::pool_free(pa);
        Err(r[0])
    }
}

fn finish(mut call: InFlight, mut r: [u64; 4]) -> u64 {
    loop {
        call.regs = driver::service(&call, r);
        r = driver::issue(&call);
        if !driver::is_rpc(r[0]) {
            return r[0];
        }
    }
}

fn ret_at(pa: u64) -> u32 {
    let mut b = [0u8; 32];
    arch::read_mem(pa, &mut b);
    u32::from_le_bytes(b[20..24].try_into().unwrap())
}

/// Every CPU holds suspended calls until, together, they ask for more
/// threads than exist; refused calls are retried once threads free up.
pub fn thread_limit(cpu: usize, cpus: usize) {
    // Everyone starts holding threads only once every CPU is done with its
    // other calls: a CPU still retrying an ordinary call would otherwise
    // wait for threads that the others hold until it arrives.
    // The session is opened first: once others hold threads, an open could
    // only wait.
    let session = client::open(t::UUID);
    barrier(cpus, 1);
    let session = match session {
        Ok(s) => s,
        Err(e) => {
            check(false, cpu, "open for thread limit", format_args!("{e:x?}"));
            // Still meet the other CPUs, or they would wait for ever.
            barrier(cpus, 2);
            return;
        }
    };
    let threads = thread_count() as usize;
    let per_cpu = threads / cpus + 2;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..per_cpu {
        match start_held(session) {
            Ok(h) => held.push(h),
            Err(a0) => {
                eq(cpu, "refused call is ETHREAD_LIMIT", a0, smc::RETURN_ETHREAD_LIMIT as u64);
                refused += 1;
            }
        }
    }
    LIMIT_SEEN.fetch_add(refused, Ordering::Relaxed);
    barrier(cpus, 2);
    for (call, r, pa) in held {
        let a0 = finish(call, r);
        eq(cpu, "held call completes", (a0, ret_at(pa)), (0, 0));
        shm::pool_free(pa);
    }
    for _ in 0..refused {
        // Retry, as the Linux driver does once another call has ended.
        loop {
            match start_held(session) {
                Ok((call, r, pa)) => {
                    eq(cpu, "retried call completes", (finish(call, r), ret_at(pa)), (0, 0));
                    shm::pool_free(pa);
                    break;
                }
                Err(a0) if a0 == smc::RETURN_ETHREAD_LIMIT as u64 => core::hint::spin_loop(),
                Err(a0) => {
                    check(false, cpu, "retried call", format_args!("a0 {a0:#x}"));
                    break;
                }
            }
        }
    }
    client::close(session);
}

/// (secure heap bytes in use, registered buffers, uses held on them, busy
/// threads), from the test PTA's CMD_RESOURCES.
fn stats(session: u32) -> (u64, u64, u64, u64) {
    let r = crate::faults::resources(session);
    (r.heap_used, r.shm_buffers, r.shm_uses, r.threads_busy)
}

/// Registration churn and every parameter kind, thousands of times: heap,
/// registrations and buffer uses must come back to where they started.
pub fn accounting(session: u32) {
    let warm = Scattered::new(4096, 0);
    client::register(&warm, 1);
    client::unregister(1);
    let before = stats(session);
    let buf = Scattered::new(3 * 4096, 0x10);
    for i in 0..1000u64 {
        let ck = 0x10_0000 + i;
        let ok = client::register(&buf, ck).ret() == 0 && client::unregister(ck).ret() == 0;
        if !ok {
            check(false, 0, "register/unregister cycle", format_args!("cycle {i}"));
            break;
        }
    }
    let after = stats(session);
    eq(0, "heap after 1000 register/unregister", after.0, before.0);
    eq(0, "registrations after churn", (after.1, after.2), (before.1, before.2));
    say!("harness: secure heap {} bytes before and {} after 1000 register/unregister cycles", before.0, after.0);

    // Every attribute kind, including NONCONTIG temporary memrefs and
    // (refused) cache attributes.
    let pool = shm::pool_alloc(4096).unwrap();
    let ck = 0x20_0000;
    eq(0, "register for kinds", client::register(&buf, ck).ret(), 0);
    let kinds: Vec<(&str, Param, bool)> = {
        let mut v = Vec::new();
        for dir in [Dir::In, Dir::Out, Dir::InOut] {
            v.push(("tmem", Param::Tmem { dir, buf: pool, size: 256, shm_ref: 3, noncontig: false }, true));
            v.push((
                "tmem noncontig",
                Param::Tmem { dir, buf: buf.list_ptr(), size: 5000, shm_ref: 0, noncontig: true },
                true,
            ));
            v.push(("rmem", Param::Rmem { dir, offs: 100, size: 5000, shm_ref: ck }, true));
            v.push(("null tmem", Param::Tmem { dir, buf: 0, size: 0, shm_ref: 0, noncontig: false }, true));
            v.push(("rmem out of range", Param::Rmem { dir, offs: 100, size: 50_000, shm_ref: ck }, false));
            v.push(("rmem unknown cookie", Param::Rmem { dir, offs: 0, size: 1, shm_ref: ck + 1 }, false));
        }
        v
    };
    let before = stats(session);
    let mut fails = 0;
    for (name, p, good) in &kinds {
        for _ in 0..1000 {
            let r = client::invoke(session, t::CMD_MEMREF, vec![*p, value(Dir::Out, 0, 0)]);
            if (r.ret() == 0) != *good {
                fails += 1;
                if fails < 4 {
                    check(false, 0, "parameter kind", format_args!("{name} {p:x?}: ret {:#x}", r.ret()));
                }
            }
        }
    }
    // Cache attribute bits other than "predefined" are refused without
    // leaking anything.
    for cache in 1..8u64 {
        let mut raw = client::invoke_msg(
            session,
            t::CMD_MEMREF,
            vec![
                Param::Tmem { dir: Dir::In, buf: pool, size: 16, shm_ref: 3, noncontig: false },
                value(Dir::Out, 0, 0),
            ],
        )
        .encode();
        let attr = m::ATTR_TYPE_TMEM_INPUT | (cache << m::ATTR_CACHE_SHIFT);
        raw[32..40].copy_from_slice(&attr.to_le_bytes());
        let r = send_raw(&raw, 2);
        if r != (0, TeeResult::ERROR_BAD_PARAMETERS.0) {
            fails += 1;
        }
    }
    check(fails == 0, 0, "every parameter kind answered right", format_args!("{fails} wrong"));
    let after = stats(session);
    eq(0, "heap after every parameter kind x1000", after.0, before.0);
    eq(0, "buffer uses after every kind", after.2, 0);
    eq(0, "unregister after every kind", client::unregister(ck).ret(), 0);
    say!(
        "harness: {} invokes over {} parameter kinds; secure heap {} -> {} bytes",
        kinds.len() * 1000,
        kinds.len(),
        before.0,
        after.0
    );
    shm::pool_free(pool);
    buf.free();
    warm.free();
}

/// Sends raw argument bytes; returns (a0, ret).
fn send_raw(bytes: &[u8], _n: usize) -> (u64, u32) {
    let pa = shm::pool_alloc(4096).unwrap();
    arch::write_mem(pa, bytes);
    let a0 = driver::run(ArgRef::PaRpc(pa, ((bytes.len() - 32) / 32) as u32));
    let r = ret_at(pa);
    shm::pool_free(pa);
    (a0, r)
}

/// A 2 s secure spin under a 10 ms normal-world tick, then a sleep on the
/// secure timer.
pub fn timers(session: u32) {
    let t0 = irq::ticks();
    let c0 = arch::counter();
    let r = client::invoke(session, t::CMD_SPIN, vec![value(Dir::In, 2000, 0), value(Dir::Out, 0, 0)]);
    let secs = (arch::counter() - c0) as f64 / arch::counter_freq() as f64;
    let ticks = irq::ticks() - t0;
    let intr = match r.msg.params.get(1) {
        Some(Param::Value { a, .. }) => *a,
        _ => 0,
    };
    eq(0, "2 s spin status", r.ret(), 0);
    // The mechanism, not a rate: ticks keep coming while the secure world
    // spins, each one taking the thread out and back in. (How many arrive
    // in 2 s depends on how busy the host running QEMU is; the 10 ms tick
    // gives 200 on an idle one.)
    check(ticks >= 10, 0, "normal-world ticks during a 2 s secure spin", format_args!("{ticks} ticks"));
    check(
        intr >= 10 && intr * 2 >= ticks,
        0,
        "secure thread interrupted and resumed",
        format_args!("{intr} foreign interrupts for {ticks} ticks"),
    );
    check(secs >= 2.0, 0, "spin lasted 2 s", format_args!("{secs:.2} s"));
    say!("harness: 2 s secure spin: {ticks} normal-world ticks, {intr} foreign-interrupt exits, {secs:.2} s");

    let c0 = arch::counter();
    let r = client::invoke(session, t::CMD_SLEEP, vec![value(Dir::In, 100, 0)]);
    let ms = (arch::counter() - c0) * 1000 / arch::counter_freq();
    eq(0, "secure-timer sleep status", r.ret(), 0);
    check((100..2000).contains(&ms), 0, "secure-timer sleep length", format_args!("{ms} ms"));
}

/// Cancels a long spin from inside its own foreign-interrupt exit.
pub fn cancellation(session: u32) {
    let msg = client::invoke_msg(session, t::CMD_SPIN, vec![value(Dir::In, 20_000, 0), value(Dir::Out, 0, 0)]);
    let pa = shm::pool_alloc(4096).unwrap();
    arch::write_mem(pa, &msg.encode());
    let mut sent = false;
    let c0 = arch::counter();
    let a0 = driver::run_with(ArgRef::PaRpc(pa, 2), &mut |code| {
        if code == smc::RETURN_RPC_FOREIGN_INTR && !sent {
            sent = true;
            let mut cancel = Message::new(m::CMD_CANCEL, vec![]);
            cancel.hdr.session = session;
            let r = client::send(&cancel);
            eq(0, "CANCEL accepted", (r.a0, r.ret()), (0, 0));
        }
    });
    let secs = (arch::counter() - c0) / arch::counter_freq();
    eq(0, "cancelled call", (a0, ret_at(pa)), (0, TeeResult::ERROR_CANCEL.0));
    check(sent && secs < 10, 0, "cancellation is prompt", format_args!("{secs} s"));
    shm::pool_free(pa);
}

/// A registered buffer used by a suspended call cannot be unregistered.
pub fn unregister_busy(session: u32) {
    let buf = Scattered::new(4096, 0);
    let ck = 0x30_0000;
    eq(0, "register for busy test", client::register(&buf, ck).ret(), 0);
    let held = Param::Rmem { dir: Dir::In, offs: 0, size: 16, shm_ref: ck };
    let msg = client::invoke_msg(session, t::CMD_SPIN, vec![value(Dir::In, 300, 0), value(Dir::Out, 0, 0), held]);
    let pa = shm::pool_alloc(4096).unwrap();
    arch::write_mem(pa, &msg.encode());
    let mut tried = false;
    let a0 = driver::run_with(ArgRef::PaRpc(pa, 3), &mut |code| {
        if code == smc::RETURN_RPC_FOREIGN_INTR && !tried {
            tried = true;
            eq(0, "unregister while in use", client::unregister(ck).a0, smc::RETURN_EBUSY as u64);
        }
    });
    eq(0, "call holding the buffer", (a0, ret_at(pa), tried), (0, 0, true));
    eq(0, "unregister once free", client::unregister(ck).ret(), 0);
    shm::pool_free(pa);
    buf.free();
}

/// Hand-off slot for resuming a call on another CPU.
pub static HANDOFF: Mutex<Option<(InFlight, [u64; 4], u64)>> = Mutex::new(None);
pub static HANDOFF_DONE: AtomicU64 = AtomicU64::new(0);

/// Primary: starts a call, leaves its first RPC for another CPU to serve.
pub fn resume_elsewhere_start(session: u32) {
    let msg = client::invoke_msg(session, t::CMD_RESUME_CPU, vec![value(Dir::Out, 0, 0)]);
    let pa = shm::pool_alloc(4096).unwrap();
    arch::write_mem(pa, &msg.encode());
    let call = driver::begin(ArgRef::Pa(pa));
    let r = driver::issue(&call);
    check(driver::is_rpc(r[0]), 0, "call suspended for hand-off", format_args!("a0 {:#x}", r[0]));
    *HANDOFF.lock() = Some((call, r, pa));
}

/// Another CPU: serves the handed-off call to its end.
pub fn resume_elsewhere_finish(cpu: usize) {
    let Some((call, r, pa)) = HANDOFF.lock().take() else {
        check(false, cpu, "hand-off present", format_args!("none"));
        return;
    };
    let a0 = finish(call, r);
    let mut back = [0u8; 64];
    arch::read_mem(pa, &mut back);
    let reply = msg::parse(&back, 1).unwrap();
    eq(cpu, "resumed call", (a0, reply.hdr.ret), (0, 0));
    if let Param::Value { a, b, .. } = reply.params[0] {
        check(
            a == 0 && b == cpu as u64,
            cpu,
            "thread resumed on another CPU",
            format_args!("started on CPU {a}, ended on CPU {b}"),
        );
    }
    shm::pool_free(pa);
    HANDOFF_DONE.store(1, Ordering::Release);
}

/// Hostile arguments of every category; after each the OS must still serve.
pub fn malformed(session: u32) {
    let alive = |what: &str| {
        let r = client::invoke(session, t::CMD_NOOP, vec![]);
        eq(0, "still serving", (r.a0, r.ret(), !what.is_empty()), (0, 0, true));
    };
    let raw_call = |fid: u32, a1: u64, a2: u64, a3: u64| arch::smc([fid as u64, a1, a2, a3, 0, 0, 0, 0])[0];
    // Argument addresses: misaligned, secure memory, beyond RAM, crossing
    // a page outside the static pool, flash, and address 0.
    for (pa, name) in [
        (oxtee_platform::map::STATIC_SHM_BASE + 4, "misaligned arg"),
        (oxtee_platform::map::OS_BASE, "arg in secure RAM"),
        (0x1_0000_0000, "arg beyond RAM"),
        (0x4400_0ff8, "arg crossing a page"),
        (0, "arg at 0"),
        (0xffff_ffff_ffff_fff8, "arg at the top"),
    ] {
        eq(0, name, raw_call(smc::CALL_WITH_ARG, pa >> 32, pa & 0xffff_ffff, 0), smc::RETURN_EBADADDR as u64);
    }
    alive("bad addresses");
    eq(0, "REGD_ARG unknown", raw_call(smc::CALL_WITH_REGD_ARG, 0xdead, 0xbeef, 0), smc::RETURN_EBADADDR as u64);
    eq(0, "RETURN_FROM_RPC unknown thread", raw_call(smc::RETURN_FROM_RPC, 0, 0, 9999), smc::RETURN_ERESUME as u64);
    eq(0, "RETURN_FROM_RPC free thread", raw_call(smc::RETURN_FROM_RPC, 0, 0, 0), smc::RETURN_ERESUME as u64);
    eq(0, "RETURN_FROM_RPC u64::MAX", raw_call(smc::RETURN_FROM_RPC, 0, 0, u64::MAX), smc::RETURN_ERESUME as u64);

    // Message contents.
    let noop = client::invoke_msg(session, t::CMD_NOOP, vec![value(Dir::In, 0, 0)]).encode();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = noop.clone();
        f(&mut b);
        b
    };
    let cases: Vec<(&str, Vec<u8>, (u64, u32))> = vec![
        (
            "num_params 128",
            with(&|b| b[28..32].copy_from_slice(&128u32.to_le_bytes())),
            (smc::RETURN_EBADADDR as u64, 0),
        ),
        (
            "num_params u32::MAX",
            with(&|b| b[28..32].copy_from_slice(&u32::MAX.to_le_bytes())),
            (smc::RETURN_EBADADDR as u64, 0),
        ),
        ("unknown attr type", with(&|b| b[32] = 4), (0, TeeResult::ERROR_BAD_PARAMETERS.0)),
        ("reserved attr bits", with(&|b| b[38] = 0x80), (0, TeeResult::ERROR_BAD_PARAMETERS.0)),
        ("meta on invoke", with(&|b| b[33] = 1), (0, TeeResult::ERROR_BAD_PARAMETERS.0)),
        ("noncontig value", with(&|b| b[33] = 2), (0, TeeResult::ERROR_BAD_PARAMETERS.0)),
        ("unknown command", with(&|b| b[0] = 99), (smc::RETURN_EBADCMD as u64, 0)),
        (
            "unknown session",
            with(&|b| b[8..12].copy_from_slice(&0xfff0u32.to_le_bytes())),
            (0, TeeResult::ERROR_BAD_PARAMETERS.0),
        ),
    ];
    for (name, bytes, want) in cases {
        let pa = shm::pool_alloc(4096).unwrap();
        arch::write_mem(pa, &bytes);
        let a0 = driver::run(ArgRef::PaRpc(pa, 1));
        let ret = if a0 == 0 { ret_at(pa) } else { 0 };
        eq(0, name, (a0, ret), want);
        shm::pool_free(pa);
    }
    alive("bad messages");
    // Memrefs into secure memory, outside the pool, and bad page lists.
    let sec = Param::Tmem { dir: Dir::In, buf: oxtee_platform::map::OS_BASE, size: 64, shm_ref: 0, noncontig: false };
    let r = client::invoke(session, t::CMD_MEMREF, vec![sec, value(Dir::Out, 0, 0)]);
    eq(0, "TMEM into secure memory", (r.ret(), r.origin()), (TeeResult::ERROR_BAD_PARAMETERS.0, Origin::Tee as u32));
    let bad_list = shm::pool_alloc(4096).unwrap();
    for (entry, name) in [
        (oxtee_platform::map::OS_BASE, "page list into secure memory"),
        (0x4400_0010, "unaligned page"),
        (0x2_0000_0000, "page beyond RAM"),
    ] {
        arch::write_mem(bad_list, &entry.to_le_bytes());
        let nc = Param::Tmem { dir: Dir::In, buf: bad_list, size: 64, shm_ref: 0, noncontig: true };
        let r = client::invoke(session, t::CMD_MEMREF, vec![nc, value(Dir::Out, 0, 0)]);
        eq(0, name, r.ret(), TeeResult::ERROR_BAD_PARAMETERS.0);
        let reg = Param::Tmem { dir: Dir::Out, buf: bad_list, size: 64, shm_ref: 0x40_0000, noncontig: true };
        let r = client::send_via(&Message::new(m::CMD_REGISTER_SHM, vec![reg]), Via::Arg);
        eq(0, "register with a bad page list", r.ret(), TeeResult::ERROR_BAD_PARAMETERS.0);
    }
    shm::pool_free(bad_list);
    // Sessions: bad meta, bad login, close twice, cancel unknown.
    let mut bad_meta = client::open_msg(t::UUID, m::LOGIN_PUBLIC, &[]);
    bad_meta.meta[1] = false;
    eq(0, "open without meta", client::send(&bad_meta).ret(), TeeResult::ERROR_BAD_PARAMETERS.0);
    eq(
        0,
        "open with bad login",
        client::send(&client::open_msg(t::UUID, 3, &[])).ret(),
        TeeResult::ERROR_BAD_PARAMETERS.0,
    );
    let s2 = client::open(t::UUID).unwrap_or(0);
    eq(0, "close", client::close(s2).ret(), 0);
    eq(0, "close twice", client::close(s2).ret(), TeeResult::ERROR_ITEM_NOT_FOUND.0);
    // RPC answers the OS must not trust: a secure address for RPC_ALLOC.
    let msg = client::invoke_msg(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]);
    let pa = shm::pool_alloc(4096).unwrap();
    arch::write_mem(pa, &msg.encode());
    let mut call = driver::begin(ArgRef::Pa(pa));
    let mut freed = false;
    let a0 = loop {
        let r = driver::issue(&call);
        if !driver::is_rpc(r[0]) {
            break r[0];
        }
        if r[0] as u32 == smc::RETURN_RPC_ALLOC {
            let bad = oxtee_platform::map::OS_BASE;
            call.regs = [smc::RETURN_FROM_RPC as u64, bad >> 32, bad & 0xffff_ffff, r[3], 0, 0xbad, 0, 0];
        } else {
            freed |= r[0] as u32 == smc::RETURN_RPC_FREE && r[2] == 0xbad;
            call.regs = [smc::RETURN_FROM_RPC as u64, 0, 0, r[3], 0, 0, 0, 0];
        }
    };
    eq(
        0,
        "RPC_ALLOC answered with secure memory",
        (a0, ret_at(pa), freed),
        (0, TeeResult::ERROR_COMMUNICATION.0, true),
    );
    shm::pool_free(pa);
    alive("hostile RPC answers");
}

/// ENABLE/DISABLE_SHM_CACHE on a quiet system: a cached RPC buffer comes
/// back through DISABLE, and both calls are refused while a thread is busy.
pub fn shm_cache(session: u32) {
    let fast = |id: u32| arch::smc([id as u64, 0, 0, 0, 0, 0, 0, 0]);
    // Drain whatever the concurrent phase left cached.
    loop {
        let r = fast(smc::DISABLE_SHM_CACHE);
        if r[0] != smc::RETURN_OK as u64 {
            eq(0, "cache drained", r[0], smc::RETURN_ENOTAVAIL as u64);
            break;
        }
        driver::release_cached((r[1] << 32) | r[2]);
    }
    eq(0, "ENABLE_SHM_CACHE idle", fast(smc::ENABLE_SHM_CACHE)[0], smc::RETURN_OK as u64);
    let r = client::send_via(&client::invoke_msg(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]), Via::Arg);
    eq(0, "RPC call with cache on", r.ret(), 0);
    let allocs = driver::RPC_ALLOCS.load(Ordering::Relaxed);
    let r = fast(smc::DISABLE_SHM_CACHE);
    eq(0, "DISABLE_SHM_CACHE returns the cached buffer", r[0], smc::RETURN_OK as u64);
    driver::release_cached((r[1] << 32) | r[2]);
    eq(0, "DISABLE_SHM_CACHE then empty", fast(smc::DISABLE_SHM_CACHE)[0], smc::RETURN_ENOTAVAIL as u64);
    check(allocs >= 1, 0, "a buffer was cached", format_args!("{allocs}"));
    match start_held(session) {
        Ok((call, r, pa)) => {
            eq(0, "ENABLE_SHM_CACHE while a thread is busy", fast(smc::ENABLE_SHM_CACHE)[0], smc::RETURN_EBUSY as u64);
            eq(
                0,
                "DISABLE_SHM_CACHE while a thread is busy",
                fast(smc::DISABLE_SHM_CACHE)[0],
                smc::RETURN_EBUSY as u64,
            );
            finish(call, r);
            shm::pool_free(pa);
        }
        Err(a0) => check(false, 0, "hold a call", format_args!("{a0:#x}")),
    }
    eq(0, "normal-world RPC buffers all returned", driver::RPC_ALLOCS.load(Ordering::Relaxed), 0);
}
