//! Error paths from a real client (test build of the OS): faults injected
//! where a call holds user-TA resources (a reserved session id, a TA being
//! loaded, parameter copies, an instance's lock and address space, a
//! syscall, a TA-to-TA call) are answered, and afterwards the same
//! operation works and everything the OS holds, heap included, is back
//! where it started. Then exhaustion of sessions, registered shared memory
//! and TA instances, from Linux and from a TA: the documented error, then
//! recovery once the client lets go.

use crate::{ORIGIN_TEE, check, eq, op};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_pta::{self as tp, Resources};
use oxtee_abi::test_ta as ta;
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamTmpRef, ParamValue, Session};
use zerocopy::FromBytes;

const GENERIC: u32 = TeeResult::ERROR_GENERIC.0;
const TARGET_DEAD: u32 = TeeResult::ERROR_TARGET_DEAD.0;
const OOM: u32 = TeeResult::ERROR_OUT_OF_MEMORY.0;

pub(crate) fn resources(pta: &mut Session) -> Resources {
    let mut buf = vec![0u8; size_of::<Resources>()];
    let mut o = op(ParamTmpRef::new_output(&mut buf), ParamNone::new());
    let r = pta.invoke_command(tp::CMD_RESOURCES, &mut o);
    eq("CMD_RESOURCES", r.map_err(|e| e.code), Ok(()));
    Resources::read_from_bytes(&buf).unwrap_or_default()
}

pub(crate) fn same(what: &str, before: &Resources, after: &Resources) {
    for ((name, b), (_, a)) in before.held().iter().zip(after.held().iter()) {
        if a != b {
            check(false, what, format_args!("{name}: {b} before, {a} after"));
        }
    }
    eq(&format!("{what}: heap"), after.heap_used, before.heap_used);
}

/// Arms `point` with a fault of `kind`, letting `skip` hits pass first.
fn arm(pta: &mut Session, point: u32, kind: u32, skip: u32) {
    let mut o = op(ParamValue::new(point, kind | (skip << 16), Dir::In), ParamNone::new());
    eq("arm a fault", pta.invoke_command(tp::CMD_FAULT, &mut o).map_err(|e| e.code), Ok(()));
}

/// (code, origin) of a call.
fn res<T>(r: oxtee_teec::Result<T>) -> Result<T, (u32, u32)> {
    r.map_err(|e| (e.code, e.origin))
}

fn noop(s: &mut Session) -> Result<(), (u32, u32)> {
    res(s.invoke_command(ta::CMD_NOOP, &mut Operation::empty()))
}

fn uuid_bytes(u: oxtee_abi::uuid::Uuid) -> [u8; 16] {
    u.to_octets()
}

/// Faults where a call holds user-TA resources.
fn faults(ctx: &Context, pta: &mut Session) {
    // Load what the cases load once, so the heap baseline includes what
    // stays loaded (nothing should, but keep-alive TAs would).
    if let Ok(mut s) = ctx.open_session(ta::TEST_MULTI) {
        let _ = noop(&mut s);
    }
    let before = resources(pta);

    // A reserved session id (the TA was not even loaded yet).
    arm(pta, tp::FAULT_POINT_SESSION_RESERVED, tp::FAULT_DATA_ABORT, 0);
    eq(
        "fault with a session id reserved",
        res(ctx.open_session(ta::TEST_MULTI).map(|_| ())),
        Err((GENERIC, ORIGIN_TEE)),
    );
    // A TA being loaded: the load lock, the supplicant's shared memory
    // holding the image, the secure copy.
    arm(pta, tp::FAULT_POINT_TA_LOAD, tp::FAULT_PANIC, 0);
    eq("fault while loading a TA", res(ctx.open_session(ta::TEST_MULTI).map(|_| ())), Err((GENERIC, ORIGIN_TEE)));
    let r = ctx.open_session(ta::TEST_MULTI).map_err(|e| (e.code, e.origin)).and_then(|mut s| noop(&mut s));
    eq("the TA opens after faults in opening and loading", r, Ok(()));
    same("after faults in open and load", &before, &resources(pta));

    // Parameter copies, before the TA is entered: it lives on.
    let Ok(mut s) = ctx.open_session(ta::TEST_MULTI) else {
        check(false, "open for parameter-copy fault", format_args!("failed"));
        return;
    };
    let mut data = vec![7u8; 64 << 10];
    arm(pta, tp::FAULT_POINT_PARAM_COPY, tp::FAULT_STACK_OVERFLOW, 0);
    let mut o = op(ParamTmpRef::new_inout(&mut data), ParamValue::new(1, 0, Dir::In));
    eq("fault holding parameter copies", res(s.invoke_command(ta::CMD_XOR, &mut o)), Err((GENERIC, ORIGIN_TEE)));
    let mut o = op(ParamTmpRef::new_inout(&mut data), ParamValue::new(1, 0, Dir::In));
    eq("the TA serves on", res(s.invoke_command(ta::CMD_XOR, &mut o)), Ok(()));
    // Inside the instance (busy lock, nesting, its address space): it dies.
    arm(pta, tp::FAULT_POINT_INSTANCE, tp::FAULT_DATA_ABORT, 0);
    eq("fault inside an instance", noop(&mut s), Err((TARGET_DEAD, ORIGIN_TEE)));
    eq("its session is dead", noop(&mut s), Err((TARGET_DEAD, ORIGIN_TEE)));
    drop(s);
    // In a syscall of the TA (TEE_Wait).
    if let Ok(mut s) = ctx.open_session(ta::TEST_MULTI) {
        arm(pta, tp::FAULT_POINT_SYSCALL, tp::FAULT_OUT_OF_MEMORY, 0);
        let r = res(s.invoke_command(ta::CMD_WAIT, &mut op(ParamValue::new(1, 0, Dir::In), ParamNone::new())));
        eq("fault in a syscall", r, Err((TARGET_DEAD, ORIGIN_TEE)));
    }
    same("after faults in parameter copies, an instance and a syscall", &before, &resources(pta));

    // A TA-to-TA call: the outer instance dies, and the session it had
    // opened to the other TA is closed with it.
    for (point, what) in
        [(tp::FAULT_POINT_TA_TO_TA, "before the inner call"), (tp::FAULT_POINT_INSTANCE, "inside both")]
    {
        let Ok(mut s) = ctx.open_session(ta::TEST_MULTI) else { continue };
        let mut target = uuid_bytes(ta::TEST_SINGLE);
        let mut data = vec![1u8; 256];
        if point == tp::FAULT_POINT_INSTANCE {
            // The outer instance is the first hit; fault in the inner.
            arm(pta, point, tp::FAULT_DATA_ABORT, 1);
        } else {
            arm(pta, point, tp::FAULT_DATA_ABORT, 0);
        }
        let mut o = Operation::new(
            0,
            ParamTmpRef::new_input(&mut target),
            ParamTmpRef::new_inout(&mut data),
            ParamValue::new(3, 0, Dir::In),
            ParamValue::new(0, 0, Dir::Out),
        );
        let r = res(s.invoke_command(ta::CMD_TA2TA, &mut o));
        eq(&format!("fault in a TA-to-TA call ({what})"), r, Err((TARGET_DEAD, ORIGIN_TEE)));
    }
    let after = resources(pta);
    same("after faults in TA-to-TA calls", &before, &after);
    println!("xtest: {} calls aborted by injected faults so far", after.aborted_calls);
}

/// Sessions, registered shared memory and instances run out, from Linux
/// and from a TA; letting go recovers.
fn exhaustion(ctx: &Context, pta: &mut Session) {
    let before = resources(pta);
    // Sessions (to the test PTA).
    let mut open = Vec::new();
    let stop = loop {
        match ctx.open_session(tp::UUID) {
            Ok(s) => open.push(s),
            Err(e) => break (e.code, e.origin),
        }
        if open.len() > 4096 {
            break (0, 0);
        }
    };
    let n = open.len();
    eq("sessions run out with OUT_OF_MEMORY", stop, (OOM, ORIGIN_TEE));
    eq("at the session limit", before.sessions as usize + n, before.limit_sessions as usize);
    drop(open);
    eq("a session opens again", res(ctx.open_session(tp::UUID).map(|_| ())), Ok(()));
    println!("xtest: {n} sessions opened before the limit ({})", before.limit_sessions);

    // Registered shared memory: each buffer the driver allocates for us is
    // registered with the OS.
    let mut shms = Vec::new();
    let failed = loop {
        match ctx.allocate_shared_memory(4096) {
            Ok(m) => shms.push(m),
            Err(_) => break true,
        }
        if shms.len() > 4096 {
            break false;
        }
    };
    let n = shms.len();
    check(failed && n < before.limit_shm_buffers as usize, "registered buffers run out", format_args!("{n}"));
    // One back, for the buffer the query itself stages its output in.
    shms.pop();
    let full = resources(pta);
    check(
        full.shm_buffers + 2 >= full.limit_shm_buffers,
        "at the registration limit",
        format_args!("{} of {}", full.shm_buffers, full.limit_shm_buffers),
    );
    drop(shms);
    eq("shared memory again", ctx.allocate_shared_memory(4096).map(|_| ()).map_err(|e| e.code), Ok(()));
    println!("xtest: {n} buffers registered before the limit ({})", full.limit_shm_buffers);

    // TA instances (a multi-instance TA: one per session).
    let mut tas = Vec::new();
    let stop = loop {
        match ctx.open_session(ta::TEST_MULTI) {
            Ok(s) => tas.push(s),
            Err(e) => break (e.code, e.origin),
        }
        if tas.len() > 256 {
            break (0, 0);
        }
    };
    let n = tas.len();
    eq("TA instances run out with OUT_OF_MEMORY", stop, (OOM, ORIGIN_TEE));
    check(n >= 8 && n <= before.limit_instances as usize, "instances before running out", format_args!("{n}"));
    drop(tas);
    let r = ctx.open_session(ta::TEST_MULTI).map_err(|e| (e.code, e.origin)).and_then(|mut s| noop(&mut s));
    eq("an instance loads again", r, Ok(()));
    println!("xtest: {n} TA instances before running out (limit {}, or the heap)", before.limit_instances);

    // Sessions a TA opens to another TA.
    if let Ok(mut s) = ctx.open_session(ta::TEST_MULTI) {
        let mut target = uuid_bytes(ta::TEST_SINGLE);
        let want = before.limit_ta_sessions as u32 + 10;
        let mut o = Operation::new(
            0,
            ParamTmpRef::new_input(&mut target),
            ParamValue::new(want, 0, Dir::In),
            ParamValue::new(0, 0, Dir::Out),
            ParamNone::new(),
        );
        eq("TA opens sessions until refused", res(s.invoke_command(ta::CMD_OPEN_MANY, &mut o)), Ok(()));
        let (n, stop) = o.params[2].value().unwrap_or_default();
        eq("TA-to-TA sessions run out at the limit", (n as u64, stop), (before.limit_ta_sessions, OOM));
        let mut o = Operation::new(
            0,
            ParamTmpRef::new_input(&mut target),
            ParamValue::new(4, 0, Dir::In),
            ParamValue::new(0, 0, Dir::Out),
            ParamNone::new(),
        );
        eq("and opens them again once closed", res(s.invoke_command(ta::CMD_OPEN_MANY, &mut o)), Ok(()));
        eq("all four", o.params[2].value(), Some((4, 0)));
    }
    same("after exhaustion", &before, &resources(pta));
}

pub fn run(ctx: &mut Context) {
    let Ok(mut pta) = ctx.open_session(tp::UUID) else {
        check(false, "open the test PTA for robustness", format_args!("failed"));
        return;
    };
    faults(ctx, &mut pta);
    exhaustion(ctx, &mut pta);
}
