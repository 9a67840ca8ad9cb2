//! oxtee-xtest: the regression suite run inside the Linux guest, through
//! the kernel's TEE driver, against the test and device PTAs and the user
//! TAs (`user_ta`). Prints one line per failure and ends with
//! `xtest: N passed, M failed`.
#![forbid(unsafe_code)]

mod async_notif;
mod bench_storage;
mod big_memref;
mod crypto;
mod dynlink;
mod kernel_clients;
mod robust;
mod secstor;
mod socket;
mod storage;
mod storage_reboot;
mod system;
mod ta_formats;
mod user_ta;

use oxtee_abi::test_pta as t;
use oxtee_abi::uuid;
use oxtee_teec::{
    Context, Dir, Error, Login, Operation, Param, ParamNone, ParamTmpRef, ParamValue, TEEC_ERROR_BAD_PARAMETERS,
    TEEC_ERROR_ITEM_NOT_FOUND, TEEC_ERROR_NOT_SUPPORTED, TEEC_ERROR_SHORT_BUFFER,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static PASSED: AtomicU32 = AtomicU32::new(0);
static FAILED: AtomicU32 = AtomicU32::new(0);

fn check(ok: bool, name: &str, detail: std::fmt::Arguments) {
    if ok {
        PASSED.fetch_add(1, Ordering::Relaxed);
    } else {
        FAILED.fetch_add(1, Ordering::Relaxed);
        println!("FAIL {name}: {detail}");
    }
}

fn eq<T: PartialEq + std::fmt::Debug>(name: &str, got: T, want: T) {
    let ok = got == want;
    check(ok, name, format_args!("got {got:x?}, want {want:x?}"));
}

const TEE_ERROR_CANCEL: u32 = 0xffff_0002;
const ORIGIN_TEE: u32 = 3;
const ORIGIN_TA: u32 = 4;

fn pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(3)
}

fn op<'a>(p0: Param<'a>, p1: Param<'a>) -> Operation<'a> {
    Operation::new(0, p0, p1, ParamNone::new(), ParamNone::new())
}

fn values(ctx: &mut Context) {
    let mut s = ctx.open_session(t::UUID).expect("open");
    let mut o = op(ParamValue::new(41, 5, Dir::InOut), ParamValue::new(0, 0, Dir::Out));
    eq("VALUES", s.invoke_command(t::CMD_VALUES, &mut o), Ok(()));
    eq("VALUES inout", o.params[0].value(), Some((42, 10)));
    eq("VALUES out", o.params[1].value(), Some((41 ^ 5, 0xc0ffee)));
    eq("NOOP", s.invoke_command(t::CMD_NOOP, &mut Operation::empty()), Ok(()));
}

fn memrefs(ctx: &mut Context) {
    let shm = ctx.allocate_shared_memory(8192).expect("alloc shm");
    let mut s = ctx.open_session(t::UUID).expect("open");
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 13) as u8).collect();
    let sum: u64 = data.iter().map(|b| *b as u64).sum();
    // Temporary memrefs, each direction.
    let mut buf = data.clone();
    let mut o = op(ParamTmpRef::new_input(&mut buf), ParamValue::new(0, 0, Dir::Out));
    eq("tmpref in", s.invoke_command(t::CMD_MEMREF, &mut o), Ok(()));
    eq("tmpref in sum", o.params[1].value(), Some((sum as u32, 1000)));
    let mut buf = data.clone();
    {
        let mut o = op(ParamTmpRef::new_inout(&mut buf), ParamValue::new(0, 0, Dir::Out));
        eq("tmpref inout", s.invoke_command(t::CMD_MEMREF, &mut o), Ok(()));
    }
    check(buf.iter().zip(&data).all(|(b, d)| *b == d ^ 0x5a), "tmpref inout bytes", format_args!("wrong"));
    let mut buf = vec![0u8; 777];
    {
        let mut o = op(ParamTmpRef::new_output(&mut buf), ParamValue::new(0, 0, Dir::Out));
        eq("tmpref out", s.invoke_command(t::CMD_MEMREF, &mut o), Ok(()));
    }
    check(buf.iter().enumerate().all(|(i, b)| *b == pattern(i)), "tmpref out bytes", format_args!("wrong"));
    // Zero-size temporary memref.
    let mut empty = [0u8; 0];
    let mut o = op(ParamTmpRef::new_input(&mut empty), ParamValue::new(9, 9, Dir::Out));
    eq("zero-size tmpref", s.invoke_command(t::CMD_MEMREF, &mut o), Ok(()));
    eq("zero-size result", o.params[1].value(), Some((0, 0)));
    // Shared memory: whole and partial (with an offset).
    let mut o = op(Param::Whole { dir: Dir::Out, shm: &shm, size: 8192 }, ParamValue::new(0, 0, Dir::Out));
    eq("whole shm out", s.invoke_command(t::CMD_MEMREF, &mut o), Ok(()));
    check(shm.buffer().iter().enumerate().all(|(i, b)| *b == pattern(i)), "whole shm bytes", format_args!("wrong"));
    let mut o = op(Param::Partial { dir: Dir::In, shm: &shm, offset: 100, size: 50 }, ParamValue::new(0, 0, Dir::Out));
    eq("partial shm in", s.invoke_command(t::CMD_MEMREF, &mut o), Ok(()));
    let want: u64 = (100..150).map(|i| pattern(i) as u64).sum();
    eq("partial shm sum", o.params[1].value(), Some((want as u32, 50)));
    // Short buffer: the needed size comes back, then an exact fit works.
    let mut small = vec![0u8; 10];
    let mut o = op(ParamTmpRef::new_output(&mut small), ParamValue::new(64, 0, Dir::In));
    let r = s.invoke_command(t::CMD_SHORT_BUFFER, &mut o);
    eq("short buffer", r.map_err(|e| e.code), Err(TEEC_ERROR_SHORT_BUFFER));
    eq("short buffer size", o.params[0].size(), Some(64));
    let mut o = op(Param::Null { dir: Dir::Out, size: 0 }, ParamValue::new(48, 0, Dir::In));
    let r = s.invoke_command(t::CMD_SHORT_BUFFER, &mut o);
    eq("null memref size query", (r.map_err(|e| e.code), o.params[0].size()), (Err(TEEC_ERROR_SHORT_BUFFER), Some(48)));
    let mut exact = vec![0u8; 64];
    let mut o = op(ParamTmpRef::new_output(&mut exact), ParamValue::new(64, 0, Dir::In));
    eq("exact buffer", s.invoke_command(t::CMD_SHORT_BUFFER, &mut o), Ok(()));
}

fn rpc_and_errors(ctx: &mut Context) {
    let mut s = ctx.open_session(t::UUID).expect("open");
    let mut o = op(ParamValue::new(0, 0, Dir::Out), ParamNone::new());
    eq("RPC (time, kernel shm)", s.invoke_command(t::CMD_RPC, &mut o), Ok(()));
    let (secs, ns) = o.params[0].value().unwrap_or((0, u32::MAX));
    check(secs > 0 && ns < 1_000_000_000, "RPC time", format_args!("{secs}.{ns}"));
    let r = s.invoke_command(t::CMD_VALUES, &mut op(ParamValue::new(1, 1, Dir::In), ParamNone::new()));
    eq("bad param types", r, Err(Error { code: TEEC_ERROR_BAD_PARAMETERS, origin: ORIGIN_TA }));
    let r = s.invoke_command(999, &mut Operation::empty());
    eq("unknown command", r.map_err(|e| e.code), Err(TEEC_ERROR_NOT_SUPPORTED));
    drop(s);
    let r = ctx.open_session(oxtee_abi::uuid::Uuid::NIL).map(|s| s.id());
    eq("unknown UUID", r, Err(Error { code: TEEC_ERROR_ITEM_NOT_FOUND, origin: ORIGIN_TEE }));
    // Open-session parameters travel, with a non-public login too.
    let mut o = op(ParamValue::new(7, 0, Dir::InOut), ParamNone::new());
    let r = ctx.open_session_with(t::UUID, Login::User, Some(&mut o)).map(|s| s.id() != 0);
    eq("open with params and login", r, Ok(true));
    eq("open param back", o.params[0].value(), Some((8, 0)));
    // The device-enumeration PTA: see kernel_clients.
}

fn many_sessions(ctx: &mut Context) {
    let before = stats(ctx);
    let ids: Vec<u32> = (0..64)
        .filter_map(|_| {
            let s = ctx.open_session(t::UUID).ok()?;
            let id = s.id();
            std::mem::forget(s);
            Some(id)
        })
        .collect();
    eq("64 sessions open", ids.len(), 64);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    eq("session ids distinct", sorted.len(), 64);
    for id in ids {
        ctx.close_raw(id);
    }
    let after = stats(ctx);
    eq("sessions back to start", after.1, before.1);
}

/// (heap bytes, open sessions).
fn stats(ctx: &mut Context) -> (u32, u32) {
    let mut s = ctx.open_session(t::UUID).expect("open");
    let mut o = op(ParamValue::new(0, 0, Dir::Out), ParamValue::new(0, 0, Dir::Out));
    let _ = s.invoke_command(t::CMD_STATS, &mut o);
    (o.params[0].value().unwrap_or_default().0, o.params[1].value().unwrap_or_default().1.saturating_sub(1))
}

fn concurrent(threads: usize, invokes: usize) {
    let errors = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let errors = errors.clone();
            std::thread::spawn(move || {
                let ctx = Context::new().expect("context");
                let mut s = ctx.open_session(t::UUID).expect("open");
                for j in 0..invokes {
                    let mut o = op(ParamValue::new(i as u32, j as u32, Dir::InOut), ParamValue::new(0, 0, Dir::Out));
                    let ok = s.invoke_command(t::CMD_VALUES, &mut o).is_ok()
                        && o.params[0].value() == Some((i as u32 + 1, 2 * j as u32));
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let mut o = op(ParamValue::new(2, 0, Dir::In), ParamValue::new(0, 0, Dir::Out));
                if s.invoke_command(t::CMD_MUTEX, &mut o).is_err() || o.params[1].value().map(|v| v.0) != Some(0) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    eq(&format!("{threads} threads x {invokes} invokes"), errors.load(Ordering::Relaxed), 0);
}

/// More callers than trusted threads: each sleeps in the secure world;
/// the driver waits for a free thread and all complete.
fn thread_limit(callers: usize) {
    let t0 = Instant::now();
    let handles: Vec<_> = (0..callers)
        .map(|_| {
            std::thread::spawn(|| {
                let ctx = Context::new().expect("context");
                let mut s = ctx.open_session(t::UUID).expect("open");
                let mut o = op(ParamValue::new(300, 0, Dir::In), ParamNone::new());
                s.invoke_command(t::CMD_SLEEP, &mut o).is_ok()
            })
        })
        .collect();
    let ok = handles.into_iter().filter_map(|h| h.join().ok()).filter(|ok| *ok).count();
    eq(&format!("{callers} concurrent sleepers complete"), ok, callers);
    check(t0.elapsed() < Duration::from_secs(60), "sleepers finish in time", format_args!("{:?}", t0.elapsed()));
}

/// A long secure spin is cancelled from another thread of the same client.
fn cancellation() {
    let ctx = Arc::new(Context::new().expect("context"));
    let session = {
        let s = ctx.open_session(t::UUID).expect("open");
        let id = s.id();
        std::mem::forget(s);
        id
    };
    let cancel_id = 4242;
    let worker = std::thread::spawn({
        let ctx = ctx.clone();
        move || {
            let p = |a| ParamValue::new(a, 0, Dir::In);
            let mut o = Operation::new(
                cancel_id,
                p(20_000),
                ParamValue::new(0, 0, Dir::Out),
                ParamNone::new(),
                ParamNone::new(),
            );
            let t0 = Instant::now();
            let r = ctx.invoke_raw(session, t::CMD_SPIN, &mut o);
            (r.map_err(|e| e.code), t0.elapsed())
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    eq("request cancellation", ctx.request_cancellation(session, cancel_id), Ok(()));
    let (r, took) = worker.join().unwrap_or((Ok(()), Duration::from_secs(99)));
    eq("cancelled call", r, Err(TEE_ERROR_CANCEL));
    check(took < Duration::from_secs(10), "cancellation is prompt", format_args!("{took:?}"));
    ctx.close_raw(session);
}

/// A file round trip through tee-supplicant (application shared memory
/// and the REE file system).
fn supplicant_fs(ctx: &mut Context) {
    let mut s = ctx.open_session(t::UUID).expect("open");
    for len in [1u32, 4096, 100_000] {
        let mut o = op(ParamValue::new(len, 0, Dir::In), ParamValue::new(0, 0, Dir::Out));
        let r = s.invoke_command(t::CMD_SUPP_FS, &mut o);
        eq(&format!("supplicant file round trip ({len} bytes)"), (r, o.params[1].value()), (Ok(()), Some((len, 0))));
    }
}

/// Hammers supplicant-backed calls for `secs`; the supplicant may be killed
/// and restarted meanwhile: calls fail or succeed, nothing hangs.
fn supp_stress(secs: u64) {
    let ctx = Context::new().expect("context");
    let mut s = ctx.open_session(t::UUID).expect("open");
    let (mut ok, mut err) = (0, 0);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        // Requests that hold no supplicant memory: Linux 6.1 can only let a
        // killed supplicant go once nothing references its shared memory.
        match s.invoke_command(t::CMD_SUPP_PING, &mut Operation::empty()) {
            Ok(()) => ok += 1,
            Err(_) => err += 1,
        }
    }
    let mut o = op(ParamValue::new(1, 2, Dir::InOut), ParamValue::new(0, 0, Dir::Out));
    let alive = s.invoke_command(t::CMD_VALUES, &mut o).is_ok();
    println!("supp-stress: {ok} ok, {err} failed, OS serving afterwards: {alive}");
    if err == 0 {
        println!("supp-stress: no call saw the supplicant go away");
    }
    std::process::exit(if alive { 0 } else { 1 });
}

/// `oxtee-xtest bench N`: N no-op invokes through the driver, timed with
/// CLOCK_MONOTONIC (under QEMU `-icount shift=0` one nanosecond is one
/// guest instruction).
fn bench(n: u32) -> ! {
    let ctx = Context::new().expect("context");
    let mut s = ctx.open_session(t::UUID).expect("open");
    for _ in 0..100 {
        let _ = s.invoke_command(t::CMD_NOOP, &mut Operation::empty());
    }
    let t0 = Instant::now();
    let mut failures = 0;
    for _ in 0..n {
        if s.invoke_command(t::CMD_NOOP, &mut Operation::empty()).is_err() {
            failures += 1;
        }
    }
    let ns = t0.elapsed().as_nanos();
    println!("BENCH invokes={n} total_ns={ns} per_invoke_ns={} failures={failures}", ns / n.max(1) as u128);
    std::process::exit(if failures == 0 { 0 } else { 1 });
}

/// `oxtee-xtest bench-ta N`: user-TA figures, timed with CLOCK_MONOTONIC
/// (one guest instruction per nanosecond under `-icount shift=0`): cold
/// open + close of a multi-instance TA (supplicant load, signature check,
/// ELF load each time), warm open + close of a loaded keep-alive TA, and N
/// no-op invokes.
fn bench_ta(n: u32) -> ! {
    use oxtee_abi::test_ta as u;
    let ctx = Context::new().expect("context");
    let uuid = |x: uuid::Uuid| x;
    let time = |f: &mut dyn FnMut()| {
        let t0 = Instant::now();
        f();
        t0.elapsed().as_nanos()
    };
    let mut failures = 0u32;
    let first = time(&mut || match ctx.open_session(uuid(u::TEST_MULTI)) {
        Ok(s) => drop(s),
        Err(_) => failures += 1,
    });
    let rounds = 20u32;
    let cold = time(&mut || {
        for _ in 0..rounds {
            match ctx.open_session(uuid(u::TEST_MULTI)) {
                Ok(s) => drop(s),
                Err(_) => failures += 1,
            }
        }
    }) / rounds as u128;
    let keep = ctx.open_session(uuid(u::TEST_KEEP)).expect("open keep-alive TA");
    let warm = time(&mut || {
        for _ in 0..rounds {
            match ctx.open_session(uuid(u::TEST_KEEP)) {
                Ok(s) => drop(s),
                Err(_) => failures += 1,
            }
        }
    }) / rounds as u128;
    drop(keep);
    let mut s = ctx.open_session(uuid(u::TEST_MULTI)).expect("open");
    for _ in 0..100 {
        let _ = s.invoke_command(u::CMD_NOOP, &mut Operation::empty());
    }
    let total = time(&mut || {
        for _ in 0..n {
            if s.invoke_command(u::CMD_NOOP, &mut Operation::empty()).is_err() {
                failures += 1;
            }
        }
    });
    println!(
        "BENCH ta_first_open_close_ns={first} ta_cold_open_close_ns={cold} ta_warm_open_close_ns={warm} \
         ta_invokes={n} ta_per_invoke_ns={} ta_failures={failures}",
        total / n.max(1) as u128
    );
    std::process::exit(if failures == 0 { 0 } else { 1 });
}

fn main() {
    if std::env::args().nth(1).is_some_and(|a| a == "bench-storage") {
        let arg = |i: usize, default: u32| std::env::args().nth(i).and_then(|n| n.parse().ok()).unwrap_or(default);
        bench_storage::run(arg(2, 3), arg(3, u32::MAX));
    }
    // The tamper test's per-object check.
    if std::env::args().nth(1).is_some_and(|a| a == "storage-check") {
        storage_reboot::check_cli(&std::env::args().skip(2).collect::<Vec<_>>());
    }
    if std::env::args().nth(1).is_some_and(|a| a == "bench-crypto") {
        crypto::bench();
    }
    // `oxtee-xtest crypto`: only the crypto cases (and the leak check);
    // `oxtee-xtest storage`: only the storage cases; `oxtee-xtest socket`:
    // only the socket cases.
    let only_crypto = std::env::args().nth(1).is_some_and(|a| a == "crypto");
    // `oxtee-xtest big-memrefs`: only the large-memref cases.
    if std::env::args().nth(1).is_some_and(|a| a == "big-memrefs") {
        let ctx = Context::new().expect("open /dev/tee0");
        let test_build = ctx.open_session(t::UUID).is_ok();
        big_memref::run(&ctx, test_build);
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    let only_storage = std::env::args().nth(1).is_some_and(|a| a == "storage");
    // `oxtee-xtest dynlink`: only the shared-library cases.
    if std::env::args().nth(1).is_some_and(|a| a == "dynlink") {
        let mut ctx = Context::new().expect("open /dev/tee0");
        dynlink::run(&mut ctx);
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    // `oxtee-xtest secstor`: only the secure-storage TA-management cases.
    let only_secstor = std::env::args().nth(1).is_some_and(|a| a == "secstor");
    // `oxtee-xtest ptas`: only the upstream pseudo-TA cases.
    let only_ptas = std::env::args().nth(1).is_some_and(|a| a == "ptas");
    // `oxtee-xtest async-notif`: only the asynchronous-notification cases
    // (test build).
    if std::env::args().nth(1).is_some_and(|a| a == "async-notif") {
        match Context::new() {
            Ok(mut ctx) => async_notif::run(&mut ctx),
            Err(e) => check(false, "open /dev/tee0", format_args!("{e}")),
        }
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    // `oxtee-xtest crash`: a stack overflow, a null dereference, an
    // undefined instruction and a panic in the test TA, each once (their
    // crash reports in the secure log are checked by `cargo xtask test`).
    if std::env::args().nth(1).is_some_and(|a| a == "crash") {
        match Context::new() {
            Ok(mut ctx) => user_ta::crash_reports(&mut ctx),
            Err(e) => check(false, "open /dev/tee0", format_args!("{e}")),
        }
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    // `oxtee-xtest system`: only the system PTA cases.
    if std::env::args().nth(1).is_some_and(|a| a == "system") {
        match Context::new() {
            Ok(mut ctx) => system::run(&mut ctx),
            Err(e) => check(false, "open /dev/tee0", format_args!("{e}")),
        }
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    let args: Vec<String> = std::env::args().skip(2).collect();
    match std::env::args().nth(1).as_deref() {
        Some("storage-loop") => storage::loop_cli(&args),
        Some("storage-verify") => storage::verify_cli(&args),
        Some("storage-wipe") => storage::wipe_cli(&args),
        Some("socket") => {
            match Context::new() {
                Ok(mut ctx) => socket::run(&mut ctx),
                Err(e) => check(false, "open /dev/tee0", format_args!("{e}")),
            }
            let f = FAILED.load(Ordering::Relaxed);
            println!("xtest: {} passed, {f} failed", PASSED.load(Ordering::Relaxed));
            std::process::exit(if f == 0 { 0 } else { 1 });
        }
        Some("storage-smp") => {
            storage::concurrency(oxtee_abi::ta::crypto::STORAGE_PRIVATE_REE, "REE");
            let f = FAILED.load(Ordering::Relaxed);
            println!("xtest: {} passed, {f} failed", PASSED.load(Ordering::Relaxed));
            std::process::exit(if f == 0 { 0 } else { 1 });
        }
        _ => {}
    }
    // `oxtee-xtest ta-formats`: only the image-format cases.
    if std::env::args().nth(1).is_some_and(|a| a == "ta-formats") {
        match Context::new() {
            Ok(ctx) => ta_formats::run(&ctx),
            Err(e) => check(false, "open /dev/tee0", format_args!("{e}")),
        }
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    if let Some(n) = std::env::args().nth(1).filter(|a| a == "bench-ta").and(std::env::args().nth(2)) {
        bench_ta(n.parse().unwrap_or(1000));
    }
    if let Some(n) = std::env::args().nth(1).filter(|a| a == "bench").and(std::env::args().nth(2)) {
        bench(n.parse().unwrap_or(10_000));
    }
    if let Some(secs) = std::env::args().nth(1).filter(|a| a == "supp-stress").and(std::env::args().nth(2)) {
        supp_stress(secs.parse().unwrap_or(3));
    }
    let with_supplicant = !std::env::args().any(|a| a == "--no-supplicant");
    let t0 = Instant::now();
    let mut ctx = match Context::new() {
        Ok(c) => c,
        Err(e) => {
            println!("FAIL open /dev/tee0: {e}");
            println!("xtest: 0 passed, 1 failed");
            std::process::exit(1);
        }
    };
    check(
        ctx.gen_caps() & oxtee_teec::sys::TEE_GEN_CAP_MEMREF_NULL != 0,
        "MEMREF_NULL capability",
        format_args!("absent"),
    );
    if only_secstor {
        secstor::run(&mut ctx);
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    // The default (user) build of the OS has no test PTA: only the cases
    // with user TAs run there.
    let test_build = match ctx.open_session(t::UUID) {
        Ok(_) => true,
        Err(e) if e.code == TEEC_ERROR_ITEM_NOT_FOUND && e.origin == ORIGIN_TEE => false,
        Err(e) => {
            check(false, "open the test PTA", format_args!("{e:?}"));
            true
        }
    };
    if only_ptas {
        kernel_clients::run(&mut ctx, test_build);
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {:.1} s", t0.elapsed().as_secs_f64());
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    if !test_build {
        println!(
            "xtest: no test PTA: this is the OS's default build; running the user-TA cases only \
             (all cases need the test build: cargo xtask run --test-build)"
        );
        if !only_crypto && !only_storage {
            kernel_clients::run(&mut ctx, false);
        }
        if with_supplicant {
            if !only_storage {
                user_ta::run(&mut ctx, false);
                system::run(&mut ctx);
                big_memref::run(&ctx, false);
                dynlink::run(&mut ctx);
                crypto::run(&mut ctx, false);
            }
            if !only_crypto {
                storage::run(&mut ctx);
            }
            if !only_crypto && !only_storage {
                secstor::run(&mut ctx);
                socket::run(&mut ctx);
            }
        }
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {:.1} s", t0.elapsed().as_secs_f64());
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    if only_crypto || only_storage {
        if only_crypto {
            crypto::run(&mut ctx, test_build);
        } else {
            storage::run(&mut ctx);
        }
        let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
        println!("xtest: {:.1} s", t0.elapsed().as_secs_f64());
        println!("xtest: {p} passed, {f} failed");
        std::process::exit(if f == 0 { 0 } else { 1 });
    }
    let heap0 = stats(&mut ctx);
    values(&mut ctx);
    memrefs(&mut ctx);
    rpc_and_errors(&mut ctx);
    many_sessions(&mut ctx);
    if with_supplicant {
        supplicant_fs(&mut ctx);
    }
    concurrent(8, 100);
    thread_limit(24);
    cancellation();
    kernel_clients::run(&mut ctx, true);
    async_notif::run(&mut ctx);
    if with_supplicant {
        user_ta::run(&mut ctx, true);
        system::run(&mut ctx);
        big_memref::run(&ctx, true);
        dynlink::run(&mut ctx);
        robust::run(&mut ctx);
        crypto::run(&mut ctx, true);
        storage::run(&mut ctx);
        secstor::run(&mut ctx);
        socket::run(&mut ctx);
    }
    let heap1 = stats(&mut ctx);
    eq("open sessions back to start", heap1.1, heap0.1);
    println!("xtest: {:.1} s", t0.elapsed().as_secs_f64());
    let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
    println!("xtest: {p} passed, {f} failed");
    std::process::exit(if f == 0 { 0 } else { 1 });
}
