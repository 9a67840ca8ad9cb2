//! User-mode TAs (S-EL0): the hello example and the four builds of the
//! test TA (`ta/test`, numbers in `oxtee_abi::test_ta`), loaded by the
//! supplicant from `/lib/optee_armtz`. Instance and session lifecycle,
//! parameters, TA-to-TA calls, isolation and fault containment, the GP
//! APIs the TA exercises, and refused images.

use crate::{ORIGIN_TA, ORIGIN_TEE, check, eq, op};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_ta as t;
use oxtee_abi::uuid::Uuid;
use oxtee_teec::{Context, Dir, Error, Login, Operation, Param, ParamNone, ParamTmpRef, ParamValue, Session};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// optee_examples' hello_world.
const HELLO: Uuid = Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b]);
/// No TA is installed under this UUID.
const ABSENT: Uuid = Uuid::new(0x5e57_a0ff, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xff]);

const SUCCESS: u32 = TeeResult::SUCCESS.0;
const TARGET_DEAD: u32 = TeeResult::ERROR_TARGET_DEAD.0;

/// (code, origin) of a failed call.
fn err<T>(r: Result<T, Error>) -> Result<T, (u32, u32)> {
    r.map_err(|e| (e.code, e.origin))
}

fn dead() -> Result<(), (u32, u32)> {
    Err((TARGET_DEAD, ORIGIN_TEE))
}

fn value_in<'a>(a: u32, b: u32) -> Param<'a> {
    ParamValue::new(a, b, Dir::In)
}

fn value_out<'a>() -> Param<'a> {
    ParamValue::new(0, 0, Dir::Out)
}

fn noop(s: &mut Session) -> Result<(), (u32, u32)> {
    err(s.invoke_command(t::CMD_NOOP, &mut Operation::empty()))
}

fn add(s: &mut Session, a: u32, b: u32) -> Result<u32, (u32, u32)> {
    let mut o = op(value_in(a, b), value_out());
    err(s.invoke_command(t::CMD_ADD, &mut o))?;
    Ok(o.params[1].value().map_or(0, |v| v.0))
}

/// COUNTER: (instance count, session count).
fn counter(s: &mut Session) -> Result<(u32, u32), (u32, u32)> {
    let mut o = op(value_out(), ParamNone::new());
    err(s.invoke_command(t::CMD_COUNTER, &mut o))?;
    Ok(o.params[0].value().unwrap_or_default())
}

fn crash(s: &mut Session, kind: u32, addr: u64) -> Result<(u32, u32), (u32, u32)> {
    let mut o =
        Operation::new(0, value_in(kind, 0), value_in(addr as u32, (addr >> 32) as u32), value_out(), ParamNone::new());
    err(s.invoke_command(t::CMD_CRASH, &mut o))?;
    Ok(o.params[2].value().unwrap_or_default())
}

fn hello(ctx: &Context) {
    let Ok(mut s) = err(ctx.open_session(HELLO)) else {
        check(false, "hello: open", format_args!("failed"));
        return;
    };
    let mut o = op(ParamValue::new(42, 0, Dir::InOut), ParamNone::new());
    eq("hello: increment", (err(s.invoke_command(0, &mut o)), o.params[0].value()), (Ok(()), Some((43, 0))));
    eq("hello: decrement", (err(s.invoke_command(1, &mut o)), o.params[0].value()), (Ok(()), Some((42, 0))));
    let r = err(s.invoke_command(2, &mut o));
    eq("hello: unknown command", r, Err((TeeResult::ERROR_NOT_SUPPORTED.0, ORIGIN_TA)));
    let r = err(s.invoke_command(0, &mut op(value_in(1, 0), ParamNone::new())));
    eq("hello: wrong parameter types", r, Err((TeeResult::ERROR_BAD_PARAMETERS.0, ORIGIN_TA)));
}

/// Every build opens, answers and closes.
fn variants(ctx: &Context) {
    for (uuid, _) in t::VARIANTS {
        let name = |what: &str| format!("{uuid}: {what}");
        match err(ctx.open_session(uuid)) {
            Ok(mut s) => {
                eq(&name("NOOP"), noop(&mut s), Ok(()));
                eq(&name("ADD"), add(&mut s, 7, 35), Ok(42));
                eq(&name("ADD wraps"), add(&mut s, u32::MAX, 2), Ok(1));
                eq(&name("LOG"), err(s.invoke_command(t::CMD_LOG, &mut Operation::empty())), Ok(()));
                let r = err(s.invoke_command(999, &mut Operation::empty()));
                eq(&name("unknown command"), r, Err((TeeResult::ERROR_NOT_SUPPORTED.0, ORIGIN_TA)));
            }
            Err(e) => check(false, &name("open"), format_args!("{e:x?}")),
        }
    }
}

/// One instance per session, one for all, one that outlives its
/// sessions, one that takes a single session.
fn instances(ctx: &Context) {
    let (Ok(mut m1), Ok(mut m2)) = (ctx.open_session(t::TEST_MULTI), ctx.open_session(t::TEST_MULTI)) else {
        return check(false, "multi-instance: open two", format_args!("failed"));
    };
    eq("multi-instance: first session", counter(&mut m1), Ok((1, 1)));
    eq("multi-instance: second session, own instance", counter(&mut m2), Ok((1, 1)));
    eq("multi-instance: first again", counter(&mut m1), Ok((2, 2)));
    drop((m1, m2));

    {
        let (Ok(mut s1), Ok(mut s2)) = (ctx.open_session(t::TEST_SINGLE), ctx.open_session(t::TEST_SINGLE)) else {
            return check(false, "single-instance: open two", format_args!("failed"));
        };
        eq("single-instance: first session", counter(&mut s1), Ok((1, 1)));
        eq("single-instance: second session, same instance", counter(&mut s2), Ok((2, 1)));
        eq("single-instance: first again", counter(&mut s1), Ok((3, 2)));
    }
    match ctx.open_session(t::TEST_SINGLE) {
        Ok(mut s) => eq("single-instance: restarts after the last close", counter(&mut s), Ok((1, 1))),
        Err(e) => check(false, "single-instance: reopen", format_args!("{e}")),
    }

    // Keep-alive: the instance (and its counter) survives; its count may
    // already be anything, as earlier runs in this boot used it too.
    let first = ctx.open_session(t::TEST_KEEP).ok().and_then(|mut s| counter(&mut s).ok());
    let second = ctx.open_session(t::TEST_KEEP).ok().and_then(|mut s| counter(&mut s).ok());
    match (first, second) {
        (Some((a, 1)), Some((b, 1))) => eq("keep-alive: counter survives close", b, a + 1),
        other => check(false, "keep-alive: counters", format_args!("{other:?}")),
    }

    match ctx.open_session(t::TEST_EXCL) {
        Ok(mut s1) => {
            eq(
                "single-session: busy while open",
                err(ctx.open_session(t::TEST_EXCL).map(|_| ())),
                Err((TeeResult::ERROR_BUSY.0, ORIGIN_TEE)),
            );
            eq("single-session: first still serves", noop(&mut s1), Ok(()));
            drop(s1);
            eq("single-session: free after close", err(ctx.open_session(t::TEST_EXCL).map(|_| ())), Ok(()));
        }
        Err(e) => check(false, "single-session: open", format_args!("{e}")),
    }
}

/// XOR through temporary and shared memory; ADD through values.
fn memrefs(ctx: &Context) {
    let Ok(mut s) = ctx.open_session(t::TEST_SINGLE) else {
        return check(false, "memrefs: open", format_args!("failed"));
    };
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
    let mut buf = data.clone();
    {
        let mut o = op(ParamTmpRef::new_inout(&mut buf), value_in(0x5a, 0));
        eq("XOR tmpref", err(s.invoke_command(t::CMD_XOR, &mut o)), Ok(()));
    }
    check(buf.iter().zip(&data).all(|(b, d)| *b == d ^ 0x5a), "XOR tmpref bytes", format_args!("wrong"));

    let Ok(mut shm) = ctx.allocate_shared_memory(8192) else {
        return check(false, "memrefs: shared memory", format_args!("allocation failed"));
    };
    shm.buffer_mut().iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    let mut o = op(Param::Whole { dir: Dir::InOut, shm: &shm, size: 8192 }, value_in(0xa5, 0));
    eq("XOR registered memory", err(s.invoke_command(t::CMD_XOR, &mut o)), Ok(()));
    check(
        shm.buffer().iter().enumerate().all(|(i, b)| *b == i as u8 ^ 0xa5),
        "XOR registered bytes",
        format_args!("wrong"),
    );
    let mut o = op(Param::Partial { dir: Dir::InOut, shm: &shm, offset: 100, size: 50 }, value_in(0xa5, 0));
    eq("XOR partial registered memory", err(s.invoke_command(t::CMD_XOR, &mut o)), Ok(()));
    let partial_ok = shm.buffer().iter().enumerate().all(|(i, b)| {
        let whole = i as u8 ^ 0xa5;
        *b == if (100..150).contains(&i) { whole ^ 0xa5 } else { whole }
    });
    check(partial_ok, "XOR partial: only the range changed", format_args!("wrong"));

    let mut empty = [0u8; 0];
    let mut o = op(ParamTmpRef::new_inout(&mut empty), value_in(1, 0));
    eq("XOR empty buffer", err(s.invoke_command(t::CMD_XOR, &mut o)), Ok(()));
    let r = err(s.invoke_command(t::CMD_XOR, &mut op(value_in(1, 0), value_in(1, 0))));
    eq("XOR wrong types", r, Err((TeeResult::ERROR_BAD_PARAMETERS.0, ORIGIN_TA)));
}

/// TA2TA from `from` to `to` over `data`: (call result, inner result,
/// inner origin), and the data afterwards.
fn ta2ta(ctx: &Context, from: Uuid, to: Uuid, data: &mut [u8], key: u8) -> Result<(u32, u32), (u32, u32)> {
    let mut s = err(ctx.open_session(from))?;
    let mut target = to.to_octets();
    let mut o = Operation::new(
        0,
        ParamTmpRef::new_input(&mut target),
        ParamTmpRef::new_inout(data),
        value_in(key as u32, 0),
        value_out(),
    );
    err(s.invoke_command(t::CMD_TA2TA, &mut o))?;
    Ok(o.params[3].value().unwrap_or((u32::MAX, u32::MAX)))
}

/// `from` has `to` wait in a call cancelled after `timeout_ms`.
fn ta2ta_timed(ctx: &Context, from: Uuid, to: Uuid, timeout_ms: u32) -> Result<(u32, u32), (u32, u32)> {
    let mut s = err(ctx.open_session(from))?;
    let mut target = to.to_octets();
    let mut unused = [0u8; 4];
    let mut o = Operation::new(
        0,
        ParamTmpRef::new_input(&mut target),
        ParamTmpRef::new_inout(&mut unused),
        value_in(0, timeout_ms),
        value_out(),
    );
    err(s.invoke_command(t::CMD_TA2TA, &mut o))?;
    Ok(o.params[3].value().unwrap_or((u32::MAX, u32::MAX)))
}

fn ta_to_ta(ctx: &Context) {
    let data: Vec<u8> = (0..200u32).map(|i| (i * 3) as u8).collect();
    let mut buf = data.clone();
    let r = ta2ta(ctx, t::TEST_MULTI, t::TEST_SINGLE, &mut buf, 0x3c);
    eq("TA2TA multi -> single (forwarded memref, heap buffer)", r, Ok((SUCCESS, 0)));
    check(
        buf.iter().zip(&data).all(|(b, d)| *b == d ^ 0x3c),
        "TA2TA forwarded bytes back to the client",
        format_args!("wrong"),
    );
    let mut buf = data.clone();
    let r = ta2ta(ctx, t::TEST_SINGLE, t::TEST_MULTI, &mut buf, 0x01);
    eq("TA2TA single -> multi", r, Ok((SUCCESS, 0)));
    // A TA-to-TA call with a cancellation timeout: the callee's wait of
    // 1.2 s is cancelled after 0.3 s (xtest 1008.2).
    let t0 = Instant::now();
    let r = ta2ta_timed(ctx, t::TEST_MULTI, t::TEST_SINGLE, 300);
    eq("TA2TA wait cancelled by the call's timeout", r, Ok((TeeResult::ERROR_CANCEL.0, ORIGIN_TA)));
    check(t0.elapsed().as_millis() < 1100, "TA2TA timeout ends the wait early", format_args!("{:?}", t0.elapsed()));
    let r = ta2ta(ctx, t::TEST_MULTI, ABSENT, &mut data.clone(), 1);
    eq("TA2TA to a missing TA", r, Ok((TeeResult::ERROR_ITEM_NOT_FOUND.0, ORIGIN_TEE)));
    if let Ok(held) = ctx.open_session(t::TEST_EXCL) {
        let r = ta2ta(ctx, t::TEST_MULTI, t::TEST_EXCL, &mut data.clone(), 1);
        eq("TA2TA to a busy single-session TA", r, Ok((TeeResult::ERROR_BUSY.0, ORIGIN_TEE)));
        drop(held);
    }
    // A single instance calling itself would wait for itself forever.
    let r = ta2ta(ctx, t::TEST_SINGLE, t::TEST_SINGLE, &mut data.clone(), 1);
    eq("TA2TA into the calling instance", r, Ok((TeeResult::ERROR_BUSY.0, ORIGIN_TEE)));
}

/// Two threads: one has TEST_SINGLE call TEST_KEEP while the other has
/// TEST_KEEP call TEST_SINGLE. A call from inside a TA never waits for a
/// busy instance, so every call ends: in success or TEE_ERROR_BUSY.
fn cross_calls(rounds: u32) {
    let pairs = [(t::TEST_SINGLE, t::TEST_KEEP), (t::TEST_KEEP, t::TEST_SINGLE)];
    let handles: Vec<_> = pairs
        .into_iter()
        .map(|(from, to)| {
            std::thread::spawn(move || {
                let ctx = Context::new().map_err(|e| (e.code, e.origin))?;
                let mut outcomes = Vec::new();
                for _ in 0..rounds {
                    outcomes.push(ta2ta(&ctx, from, to, &mut [7u8; 64], 1));
                }
                Ok::<_, (u32, u32)>(outcomes)
            })
        })
        .collect();
    let mut done = 0;
    for h in handles {
        match h.join() {
            Ok(Ok(outcomes)) => {
                let odd: Vec<_> = outcomes
                    .iter()
                    .filter(|r| **r != Ok((SUCCESS, 0)) && **r != Ok((TeeResult::ERROR_BUSY.0, ORIGIN_TEE)))
                    .collect();
                check(odd.is_empty(), "crossed TA-to-TA calls: success or BUSY", format_args!("{odd:x?}"));
                done += outcomes.len();
            }
            other => check(false, "crossed TA-to-TA calls: thread", format_args!("{other:x?}")),
        }
    }
    check(done == 2 * rounds as usize, "crossed TA-to-TA calls all ended", format_args!("{done}"));
}

/// Several client threads on one single-instance TA: every increment of
/// the instance counter is seen exactly once.
fn concurrent_single(ctx: &Context, threads: u32, invokes: u32) {
    let Ok(mut holder) = ctx.open_session(t::TEST_SINGLE) else {
        return check(false, "concurrent: open", format_args!("failed"));
    };
    let Ok((start, _)) = counter(&mut holder) else {
        return check(false, "concurrent: first count", format_args!("failed"));
    };
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let ctx = Context::new().map_err(|e| e.code)?;
                let mut s = ctx.open_session(t::TEST_SINGLE).map_err(|e| e.code)?;
                let mut seen = Vec::new();
                for i in 1..=invokes {
                    let (a, b) = counter(&mut s).map_err(|e| e.0)?;
                    if b != i {
                        return Err(b);
                    }
                    seen.push(a);
                }
                Ok(seen)
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Ok(seen)) => all.extend(seen),
            other => check(false, "concurrent: thread", format_args!("{other:x?}")),
        }
    }
    all.sort_unstable();
    let want: Vec<u32> = (start + 1..=start + threads * invokes).collect();
    check(
        all == want,
        &format!("{threads} threads x {invokes} COUNTER: each count once"),
        format_args!("{} seen", all.len()),
    );
    eq("concurrent: final count exact", counter(&mut holder), Ok((start + threads * invokes + 1, 2)));
}

/// Every fault kind kills its instance, and only it.
fn crashes(ctx: &Context) {
    let (Ok(mut other_ta), Ok(mut sibling)) = (ctx.open_session(t::TEST_SINGLE), ctx.open_session(t::TEST_MULTI))
    else {
        return check(false, "crash: open bystanders", format_args!("failed"));
    };
    for kind in t::CRASH_ALWAYS {
        let name = |what: &str| format!("crash kind {kind}: {what}");
        let Ok(mut victim) = ctx.open_session(t::TEST_MULTI) else {
            check(false, &name("open"), format_args!("failed"));
            continue;
        };
        eq(&name("TARGET_DEAD from the TEE"), crash(&mut victim, kind, 0).map(|_| ()), dead());
        eq(&name("session stays dead"), noop(&mut victim), dead());
        drop(victim);
        eq(&name("other instance of the TA unaffected"), add(&mut sibling, kind, 1), Ok(kind + 1));
        eq(&name("other TA unaffected"), noop(&mut other_ta), Ok(()));
        let reopened = ctx.open_session(t::TEST_MULTI).map_err(|e| (e.code, e.origin)).and_then(|mut s| noop(&mut s));
        eq(&name("reopen works"), reopened, Ok(()));
    }
    drop(other_ta);

    // A single instance dies for all its sessions, and starts afresh.
    if let (Ok(mut s1), Ok(mut s2)) = (ctx.open_session(t::TEST_SINGLE), ctx.open_session(t::TEST_SINGLE)) {
        eq("single-instance crash: TARGET_DEAD", crash(&mut s1, t::CRASH_UNDEFINED, 0).map(|_| ()), dead());
        eq("single-instance crash: other session dead too", noop(&mut s2), dead());
    }
    match ctx.open_session(t::TEST_SINGLE) {
        Ok(mut s) => eq("single-instance crash: fresh instance", counter(&mut s), Ok((1, 1))),
        Err(e) => check(false, "single-instance crash: reopen", format_args!("{e}")),
    }

    if let Ok(mut s) = ctx.open_session(t::TEST_MULTI) {
        let mut o = op(value_in(0x1234, 0), ParamNone::new());
        eq("PANIC: TARGET_DEAD", err(s.invoke_command(t::CMD_PANIC, &mut o)), dead());
        eq("PANIC: session stays dead", noop(&mut s), dead());
    }
}

/// One instance's memory is out of another's reach.
fn isolation(ctx: &Context) {
    let (Ok(mut a), Ok(mut b)) = (ctx.open_session(t::TEST_MULTI), ctx.open_session(t::TEST_MULTI)) else {
        return check(false, "isolation: open", format_args!("failed"));
    };
    let mut o = op(value_out(), ParamNone::new());
    eq("ADDR", err(a.invoke_command(t::CMD_ADDR, &mut o)), Ok(()));
    let (lo, hi) = o.params[0].value().unwrap_or_default();
    let addr = (hi as u64) << 32 | lo as u64;
    let own = crash(&mut a, t::CRASH_READ_ADDR, addr).map(|(lo, hi)| (hi as u64) << 32 | lo as u64);
    eq("isolation: the owner reads its secret at that address", own, Ok(t::SECRET));
    let theft = crash(&mut b, t::CRASH_READ_ADDR, addr).map(|(lo, hi)| (hi as u64) << 32 | lo as u64);
    check(
        theft != Ok(t::SECRET),
        "isolation: another instance never reads the secret",
        format_args!("read {theft:x?} at {addr:#x}"),
    );
    check(
        theft == Err((TARGET_DEAD, ORIGIN_TEE)) || theft.is_ok(),
        "isolation: the other instance faults or reads its own memory",
        format_args!("{theft:x?}"),
    );
    if theft.is_ok() {
        println!(
            "xtest: note: {addr:#x} is mapped in both instances (same layout); the read saw the reader's own memory"
        );
    }
    eq("isolation: the owner is unaffected", noop(&mut a), Ok(()));
}

fn open_failures(ctx: &Context) {
    let open_with = |uuid: Uuid, a: u32| {
        let mut o = op(value_in(a, 0), ParamNone::new());
        err(ctx.open_session_with(uuid, Login::Public, Some(&mut o)).map(|_| ()))
    };
    eq(
        "open refused by the TA",
        open_with(t::TEST_MULTI, t::OPEN_DENY),
        Err((TeeResult::ERROR_ACCESS_DENIED.0, ORIGIN_TA)),
    );
    eq("open panics", open_with(t::TEST_MULTI, t::OPEN_PANIC), dead());
    eq("open with another value", open_with(t::TEST_MULTI, 7), Ok(()));
    eq("unknown UUID", err(ctx.open_session(ABSENT).map(|_| ())), Err((TeeResult::ERROR_ITEM_NOT_FOUND.0, ORIGIN_TEE)));
    // A refused first open leaves no instance behind.
    eq(
        "single-instance refused open",
        open_with(t::TEST_SINGLE, t::OPEN_DENY),
        Err((TeeResult::ERROR_ACCESS_DENIED.0, ORIGIN_TA)),
    );
    match ctx.open_session(t::TEST_SINGLE) {
        Ok(mut s) => eq("single-instance after a refused open: fresh", counter(&mut s), Ok((1, 1))),
        Err(e) => check(false, "single-instance after a refused open", format_args!("{e}")),
    }
}

/// A wait is cut short by the client's cancellation request.
fn wait_and_cancel() {
    let Ok(ctx) = Context::new().map(Arc::new) else {
        return check(false, "wait: context", format_args!("failed"));
    };
    let session = match ctx.open_session(t::TEST_MULTI) {
        Ok(s) => {
            let mut s = s;
            let mut o = op(value_in(10, 0), ParamNone::new());
            eq("WAIT 10 ms", err(s.invoke_command(t::CMD_WAIT, &mut o)), Ok(()));
            let id = s.id();
            std::mem::forget(s);
            id
        }
        Err(e) => return check(false, "wait: open", format_args!("{e}")),
    };
    let cancel_id = 77;
    let worker = std::thread::spawn({
        let ctx = ctx.clone();
        move || {
            let mut o =
                Operation::new(cancel_id, value_in(20_000, 0), ParamNone::new(), ParamNone::new(), ParamNone::new());
            let t0 = Instant::now();
            (err(ctx.invoke_raw(session, t::CMD_WAIT, &mut o)), t0.elapsed())
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    eq("WAIT: request cancellation", err(ctx.request_cancellation(session, cancel_id)), Ok(()));
    let (r, took) = worker.join().unwrap_or((Ok(()), Duration::from_secs(99)));
    eq("WAIT cancelled", r, Err((TeeResult::ERROR_CANCEL.0, ORIGIN_TA)));
    check(took < Duration::from_secs(10), "WAIT cancellation is prompt", format_args!("{took:?}"));
    ctx.close_raw(session);
}

fn props(ctx: &Context) {
    for (uuid, _) in t::VARIANTS {
        match ctx.open_session(uuid) {
            Ok(mut s) => {
                let mut o = op(value_out(), ParamNone::new());
                eq(&format!("{uuid}: PROPS"), err(s.invoke_command(t::CMD_PROPS, &mut o)), Ok(()));
                eq(&format!("{uuid}: PROPS checks, client login"), o.params[0].value(), Some((t::PROPS_ALL, 0)));
            }
            Err(e) => check(false, &format!("{uuid}: PROPS open"), format_args!("{e}")),
        }
    }
    match ctx.open_session_with(t::TEST_MULTI, Login::User, None) {
        Ok(mut s) => {
            let mut o = op(value_out(), ParamNone::new());
            let r = err(s.invoke_command(t::CMD_PROPS, &mut o));
            eq("PROPS with a user login", (r, o.params[0].value()), (Ok(()), Some((t::PROPS_ALL, Login::User as u32))));
        }
        Err(e) => check(false, "PROPS: open with a user login", format_args!("{e}")),
    }
}

fn time_access_heap(ctx: &Context) {
    let Ok(mut s) = ctx.open_session(t::TEST_MULTI) else {
        return check(false, "time/access/heap: open", format_args!("failed"));
    };
    let mut o = op(value_out(), ParamNone::new());
    eq("TIME", err(s.invoke_command(t::CMD_TIME, &mut o)), Ok(()));
    let (ms, ree) = o.params[0].value().unwrap_or_default();
    check((20..5000).contains(&ms), "TIME: system time across a 20 ms wait", format_args!("{ms} ms"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    check(now.abs_diff(ree as u64) <= 5, "TIME: REE time is the normal world's clock", format_args!("{ree} vs {now}"));

    let mut buf = vec![0x11u8; 64];
    let mut o = op(ParamTmpRef::new_inout(&mut buf), value_out());
    eq("ACCESS", err(s.invoke_command(t::CMD_ACCESS, &mut o)), Ok(()));
    eq("ACCESS checks", o.params[1].value().map(|v| v.0), Some(t::ACCESS_ALL));

    let heap =
        |s: &mut Session, bytes: u32| err(s.invoke_command(t::CMD_HEAP, &mut op(value_in(bytes, 0), ParamNone::new())));
    eq("HEAP 1 KiB", heap(&mut s, 1024), Ok(()));
    eq("HEAP half the heap", heap(&mut s, t::DATA_SIZE / 2), Ok(()));
    eq(
        "HEAP beyond the heap fails cleanly",
        heap(&mut s, t::DATA_SIZE * 4),
        Err((TeeResult::ERROR_OUT_OF_MEMORY.0, ORIGIN_TA)),
    );
    eq("HEAP works again after a failure", heap(&mut s, t::DATA_SIZE / 2), Ok(()));
}

/// f64 work carried across waits in several TAs at once: each comes out
/// exact only if every TA's FP registers survive the others'.
fn float(threads: u32, test_build: bool) {
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            std::thread::spawn(move || {
                let ctx = Context::new().map_err(|e| e.code)?;
                let mut s = ctx.open_session(t::TEST_MULTI).map_err(|e| e.code)?;
                let mut results = Vec::new();
                for round in 0..5 {
                    // Long enough that the threads' TAs overlap in user mode.
                    let n = 20_000 + 700 * i + 13 * round;
                    let mut o = op(value_in(n, 0), value_out());
                    s.invoke_command(t::CMD_FLOAT, &mut o).map_err(|e| e.code)?;
                    results.push(o.params[1].value().unwrap_or_default());
                }
                Ok::<_, u32>(results)
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            Ok(Ok(results)) => {
                let inexact: Vec<_> = results.iter().filter(|r| r.0 != 1).collect();
                check(
                    inexact.is_empty(),
                    &format!("FLOAT thread {i}: exact across waits"),
                    format_args!("{inexact:?}"),
                );
            }
            other => check(false, &format!("FLOAT thread {i}"), format_args!("{other:x?}")),
        }
    }
    if !test_build {
        return;
    }
    // With more than one CPU, TAs must have run in user mode at the same
    // time (the OS counts CPUs inside S-EL0).
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let peak = Context::new().ok().and_then(|ctx| {
        let mut s = ctx.open_session(oxtee_abi::test_pta::UUID).ok()?;
        let mut o = op(value_out(), ParamNone::new());
        s.invoke_command(oxtee_abi::test_pta::CMD_USER_STATS, &mut o).ok()?;
        o.params[0].value().map(|v| v.1)
    });
    let want = if cpus > 1 { 2 } else { 1 };
    check(
        peak.is_some_and(|p| p >= want),
        &format!("TAs in user mode on {want} CPU(s) at once ({cpus} online)"),
        format_args!("peak {peak:?}"),
    );
}

/// Open and crash TEST_MULTI over and over: nothing leaks in the OS.
fn crash_cycles(ctx: &mut Context, cycles: u32, test_build: bool) {
    let before = if test_build { crate::stats(ctx) } else { (0, 0) };
    let mut failures = 0;
    for i in 0..cycles {
        let kinds = t::CRASH_ALWAYS;
        let outcome = ctx.open_session(t::TEST_MULTI).map_err(|e| (e.code, e.origin)).and_then(|mut s| {
            if i % 10 == 9 {
                err(s.invoke_command(t::CMD_PANIC, &mut op(value_in(i, 0), ParamNone::new())))
            } else {
                crash(&mut s, kinds[i as usize % kinds.len()], 0).map(|_| ())
            }
        });
        if outcome != dead() {
            failures += 1;
            if failures <= 3 {
                println!("xtest: crash cycle {i}: {outcome:x?}");
            }
        }
    }
    eq(&format!("{cycles} open/crash cycles all TARGET_DEAD"), failures, 0);
    let after = if test_build { crate::stats(ctx) } else { (0, 0) };
    if test_build {
        eq("open/crash cycles: secure heap back to its start", after.0, before.0);
        eq("open/crash cycles: sessions back to start", after.1, before.1);
    }
}

/// Images the OS must refuse before running any of their code.
fn bad_images(ctx: &Context) {
    let security = Err((TeeResult::ERROR_SECURITY.0, ORIGIN_TEE));
    for (uuid, what, want) in [
        (t::BAD_UNSIGNED, "unsigned image", security),
        (t::BAD_SIG, "bad signature", security),
        (t::BAD_TRUNC, "truncated image", security),
        (t::BAD_ELF, "signed ELF for another machine", Err((TeeResult::ERROR_BAD_FORMAT.0, ORIGIN_TEE))),
    ] {
        eq(&format!("refused: {what}"), err(ctx.open_session(uuid).map(|_| ())), want);
    }
    // The OS serves on.
    let r = ctx.open_session(t::TEST_MULTI).map_err(|e| (e.code, e.origin)).and_then(|mut s| noop(&mut s));
    eq("serving after refused images", r, Ok(()));
}

/// Runs every user-TA case (`test_build`: the OS has the test PTA, which
/// some checks ask for figures).
/// One TA killed per kind the crash-report test reads back from the
/// secure log: stack overflow, null dereference, undefined instruction
/// (the test TA's CMD_CRASH), then a panic (CMD_PANIC with code 0xc0de).
pub fn crash_reports(ctx: &mut Context) {
    for kind in [t::CRASH_STACK_OVERFLOW, t::CRASH_READ_NULL, t::CRASH_UNDEFINED] {
        let r =
            ctx.open_session(t::TEST_MULTI).map_err(|e| (e.code, e.origin)).and_then(|mut s| crash(&mut s, kind, 0));
        eq(&format!("crash report: kind {kind} kills the TA"), r.map(|_| ()), dead());
    }
    let r = ctx
        .open_session(t::TEST_MULTI)
        .map_err(|e| (e.code, e.origin))
        .and_then(|mut s| err(s.invoke_command(t::CMD_PANIC, &mut op(value_in(0xc0de, 0), ParamNone::new()))));
    eq("crash report: a panic kills the TA", r, dead());
}

pub fn run(ctx: &mut Context, test_build: bool) {
    hello(ctx);
    variants(ctx);
    instances(ctx);
    memrefs(ctx);
    ta_to_ta(ctx);
    concurrent_single(ctx, 4, 50);
    cross_calls(30);
    crashes(ctx);
    isolation(ctx);
    open_failures(ctx);
    wait_and_cancel();
    props(ctx);
    time_access_heap(ctx);
    float(4, test_build);
    bad_images(ctx);
    crate::ta_formats::run(ctx);
    crash_cycles(ctx, 1000, test_build);
}
