//! oxtee's test TA. One crate, four builds (exactly one of the features
//! `multi`, `single`, `keep`, `excl`), differing only in UUID and flags;
//! `oxtee_abi::test_ta` has the UUIDs, the commands and the constants the
//! normal-world suite (`normal/xtest`) checks the answers against.
//!
//! Some commands exist to misbehave (panic, fault in eight ways): the
//! kernel must kill the instance and every other TA must carry on.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::hint::black_box;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_ta as t;
use oxtee_utee::memory::{ACCESS_ANY_OWNER, ACCESS_READ, ACCESS_WRITE, check_memory_access_rights, check_slice};
use oxtee_utee::property::{ClientProperty, TaProperty, TeeProperty};
use oxtee_utee::{
    Error, ErrorKind, ParamType, Parameters, Result, TaSession, TeeParam, TeeParams, Time, Uuid, cancellation, fault,
    ta_close_session, ta_create, ta_destroy, ta_invoke_command, ta_open_session, trace_println,
};

#[cfg(not(any(
    all(feature = "multi", not(any(feature = "single", feature = "keep", feature = "excl"))),
    all(feature = "single", not(any(feature = "multi", feature = "keep", feature = "excl"))),
    all(feature = "keep", not(any(feature = "multi", feature = "single", feature = "excl"))),
    all(feature = "excl", not(any(feature = "multi", feature = "single", feature = "keep"))),
)))]
compile_error!("build the test TA with exactly one of the features multi, single, keep, excl");

#[cfg(feature = "multi")]
const VARIANT: (oxtee_abi::Uuid, u32) = (t::TEST_MULTI, t::FLAGS_MULTI);
#[cfg(feature = "single")]
const VARIANT: (oxtee_abi::Uuid, u32) = (t::TEST_SINGLE, t::FLAGS_SINGLE);
#[cfg(feature = "keep")]
const VARIANT: (oxtee_abi::Uuid, u32) = (t::TEST_KEEP, t::FLAGS_KEEP);
#[cfg(feature = "excl")]
const VARIANT: (oxtee_abi::Uuid, u32) = (t::TEST_EXCL, t::FLAGS_EXCL);

const UUID: Uuid = Uuid::from_abi(VARIANT.0);
const FLAGS: u32 = VARIANT.1;

oxtee_utee::ta_config! {
    uuid: UUID,
    flags: FLAGS,
    stack_size: t::STACK_SIZE,
    data_size: t::DATA_SIZE as usize,
    version: "1.0",
    description: "oxtee test TA",
    properties: {
        "oxtee.test.custom": u32 = t::CUSTOM_PROP_VALUE,
        "oxtee.test.u64": u64 = t::U64_PROP_VALUE,
        "oxtee.test.blob": binary = b"\x00\x01\xfeoxtee",
    },
}

/// Counts COUNTER calls across all sessions of this instance.
static INSTANCE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// CMD_ADDR's buffer: zero until this instance is asked for it.
static SECRET_BUF: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Constant data: mapped read-only.
static RODATA: [u64; 4] = [0x0123_4567_89ab_cdef, 1, 2, 3];

/// A `ret` instruction in writable data: mapped non-executable.
static RET_IN_DATA: AtomicU32 = AtomicU32::new(0xd65f_03c0);

/// Per-session state.
#[derive(Default)]
struct Session {
    counter: u32,
}

#[ta_create]
fn create() -> Result<()> {
    trace_println!("test TA {UUID}: instance created");
    Ok(())
}

#[ta_destroy]
fn destroy() {
    trace_println!("test TA {UUID}: instance destroyed");
}

#[ta_open_session]
fn open_session(params: &mut Parameters, _session: &mut Session) -> Result<()> {
    if params.0.param_type() == ParamType::ValueInput {
        match params.0.as_value()?.a() {
            t::OPEN_DENY => return Err(ErrorKind::AccessDenied.into()),
            t::OPEN_PANIC => panic!("asked to panic in open session"),
            _ => {}
        }
    }
    Ok(())
}

#[ta_close_session]
fn close_session(_session: &mut Session) {}

fn types(p: &Parameters, p0: ParamType, p1: ParamType, p2: ParamType, p3: ParamType) -> Result<()> {
    p.check_types(p0, p1, p2, p3)
}

use ParamType::{MemrefInout, MemrefInput, None as Nil, ValueInput, ValueOutput};

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd: u32, params: &mut Parameters) -> Result<()> {
    match cmd {
        t::CMD_NOOP => Ok(()),
        t::CMD_ADD => {
            types(params, ValueInput, ValueOutput, Nil, Nil)?;
            let (a, b) = {
                let v = params.0.as_value()?;
                (v.a(), v.b())
            };
            let mut out = params.1.as_value()?;
            out.set_a(a.wrapping_add(b));
            out.set_b(0);
            Ok(())
        }
        t::CMD_XOR => {
            types(params, MemrefInout, ValueInput, Nil, Nil)?;
            let key = params.1.as_value()?.a() as u8;
            params.0.as_memref()?.buffer().iter_mut().for_each(|b| *b ^= key);
            Ok(())
        }
        t::CMD_COUNTER => {
            types(params, ValueOutput, Nil, Nil, Nil)?;
            session.counter += 1;
            let mut out = params.0.as_value()?;
            out.set_a(INSTANCE_COUNTER.fetch_add(1, Ordering::Relaxed) + 1);
            out.set_b(session.counter);
            Ok(())
        }
        t::CMD_PANIC => {
            types(params, ValueInput, Nil, Nil, Nil)?;
            oxtee_utee::tee_panic(params.0.as_value()?.a())
        }
        t::CMD_CRASH => crash(params),
        t::CMD_ADDR => {
            types(params, ValueOutput, Nil, Nil, Nil)?;
            SECRET_BUF.iter().for_each(|w| w.store(t::SECRET, Ordering::Relaxed));
            let addr = SECRET_BUF.as_ptr() as u64;
            let mut out = params.0.as_value()?;
            out.set_a(addr as u32);
            out.set_b((addr >> 32) as u32);
            Ok(())
        }
        t::CMD_TA2TA => ta2ta(params),
        t::CMD_OPEN_MANY => open_many(params),
        t::CMD_WAIT => {
            types(params, ValueInput, Nil, Nil, Nil)?;
            let ms = params.0.as_value()?.a();
            cancellation::unmask_cancellation();
            let res = Time::wait(ms);
            cancellation::mask_cancellation();
            res
        }
        t::CMD_PROPS => {
            types(params, ValueOutput, Nil, Nil, Nil)?;
            let (mask, login) = props();
            let mut out = params.0.as_value()?;
            out.set_a(mask);
            out.set_b(login);
            Ok(())
        }
        t::CMD_TIME => {
            types(params, ValueOutput, Nil, Nil, Nil)?;
            let (mut t0, mut t1, mut ree) = (Time::new(), Time::new(), Time::new());
            t0.system_time();
            Time::wait(20)?;
            t1.system_time();
            ree.ree_time();
            let mut out = params.0.as_value()?;
            out.set_a(t1.as_millis().saturating_sub(t0.as_millis()) as u32);
            out.set_b(ree.seconds);
            Ok(())
        }
        t::CMD_ACCESS => {
            types(params, MemrefInout, ValueOutput, Nil, Nil)?;
            let mask = access(params.0.as_memref()?.buffer());
            params.1.as_value()?.set_a(mask);
            Ok(())
        }
        t::CMD_HEAP => {
            types(params, ValueInput, Nil, Nil, Nil)?;
            heap(params.0.as_value()?.a() as usize)
        }
        t::CMD_FLOAT => {
            types(params, ValueInput, ValueOutput, Nil, Nil)?;
            let n = params.0.as_value()?.a().min(1 << 16);
            let exact = float(n)?;
            let mut out = params.1.as_value()?;
            out.set_a(exact as u32);
            out.set_b(n);
            Ok(())
        }
        t::CMD_LOG => {
            trace_println!("test TA {UUID}: log line, session counter {}", session.counter);
            Ok(())
        }
        t::CMD_BIG => big(params),
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

/// CMD_BIG: checks and fills large memrefs where the client's pages are
/// mapped. Each memref is read (or written) once, front to back.
fn big(params: &mut Parameters) -> Result<()> {
    let kinds = [params.0.param_type(), params.1.param_type(), params.2.param_type(), params.3.param_type()];
    let want = [MemrefInput, ParamType::MemrefOutput, MemrefInout];
    if kinds[3] != ParamType::ValueInout || kinds[..3].iter().zip(want).any(|(k, w)| *k != Nil && *k != w) {
        return Err(ErrorKind::BadParameters.into());
    }
    let seed = params.3.as_value()?.a();
    let (mut bad, mut seen) = (0u64, 0u64);
    // The client's pages, as upstream: non-secure, and not this TA's own
    // memory (TEE_CheckMemoryAccessRights needs ANY_OWNER for them).
    for p in [&mut params.0, &mut params.1, &mut params.2] {
        if p.param_type() == Nil {
            continue;
        }
        let (addr, len) = {
            let mut m = p.as_memref()?;
            let b = m.buffer();
            (b.as_ptr() as usize, b.len())
        };
        if len == 0 {
            continue;
        }
        let ns = oxtee_abi::ta::TEE_MEMORY_ACCESS_NONSECURE;
        let sec = oxtee_abi::ta::TEE_MEMORY_ACCESS_SECURE;
        let any = ACCESS_ANY_OWNER | ACCESS_READ;
        if check_memory_access_rights(ACCESS_READ, addr, len).is_ok()
            || check_memory_access_rights(any | ns, addr, len).is_err()
            || check_memory_access_rights(any | sec, addr, len).is_ok()
        {
            return Err(ErrorKind::AccessDenied.into());
        }
    }
    if kinds[0] != Nil {
        let mut m = params.0.as_memref()?;
        bad += t::big_mismatches(seed, m.buffer());
        seen += m.buffer().len() as u64;
    }
    if kinds[1] != Nil {
        let mut m = params.1.as_memref()?;
        t::big_fill(seed.wrapping_add(1), m.buffer());
        seen += m.buffer().len() as u64;
    }
    if kinds[2] != Nil {
        let mut m = params.2.as_memref()?;
        bad += t::big_mismatches(seed.wrapping_add(2), m.buffer());
        t::big_fill(seed.wrapping_add(3), m.buffer());
        seen += m.buffer().len() as u64;
    }
    let mut v = params.3.as_value()?;
    v.set_a(bad.min(u32::MAX as u64) as u32);
    v.set_b(seen.min(u32::MAX as u64) as u32);
    Ok(())
}

fn code_target() -> u32 {
    black_box(7)
}

/// Recurses until the stack runs into its guard page.
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(frame[(depth % 64) as usize] + 1).wrapping_add(frame[3])
}

fn crash(params: &mut Parameters) -> Result<()> {
    if params.0.param_type() != ValueInput {
        return Err(ErrorKind::BadParameters.into());
    }
    let kind = params.0.as_value()?.a();
    let addr = match params.1.as_value() {
        Ok(v) => (v.b() as u64) << 32 | v.a() as u64,
        Err(_) => 0,
    };
    trace_println!("test TA {UUID}: crash kind {kind}");
    match kind {
        t::CRASH_READ_NULL => {
            black_box(fault::read_u64(0));
        }
        t::CRASH_WRITE_KERNEL => fault::write_u64(t::KERNEL_ADDR as usize, 0),
        t::CRASH_EXEC_DATA => fault::jump(RET_IN_DATA.as_ptr() as usize),
        t::CRASH_UNDEFINED => fault::undefined_instruction(),
        t::CRASH_STACK_OVERFLOW => {
            black_box(recurse(black_box(0)));
        }
        t::CRASH_WRITE_CODE => {
            let f: fn() -> u32 = code_target;
            fault::write_u64(f as usize & !7, 0xd420_0000_d420_0000);
        }
        t::CRASH_READ_ADDR => {
            let v = fault::read_u64(addr as usize);
            if let Ok(mut out) = params.2.as_value() {
                out.set_a(v as u32);
                out.set_b((v >> 32) as u32);
            }
            return Ok(());
        }
        t::CRASH_WRITE_RODATA => fault::write_u64(RODATA.as_ptr() as usize, 0),
        _ => return Err(ErrorKind::BadParameters.into()),
    }
    // Still alive: the kernel let a forbidden access through.
    trace_println!("test TA {UUID}: crash kind {kind} did not fault");
    Err(ErrorKind::Security.into())
}

/// (result, origin) of a failed TA-to-TA step, for the client.
fn report(e: &Error) -> (u32, u32) {
    (e.raw_code(), e.origin().map_or(0, |o| o as u32))
}

fn open_many(params: &mut Parameters) -> Result<()> {
    types(params, MemrefInput, ValueInput, ValueOutput, Nil)?;
    let target: [u8; 16] =
        params.0.as_memref()?.buffer().try_into().map_err(|_| Error::new(ErrorKind::BadParameters))?;
    let max = params.1.as_value()?.a() as usize;
    let mut sessions = Vec::new();
    let mut stop = 0;
    while sessions.len() < max {
        match TaSession::open(Uuid::from_octets(target)) {
            Ok(s) => sessions.push(s),
            Err(e) => {
                stop = e.raw_code();
                break;
            }
        }
    }
    let opened = sessions.len() as u32;
    // Each session closes as it is dropped.
    drop(sessions);
    let mut out = params.2.as_value()?;
    out.set_a(opened);
    out.set_b(stop);
    Ok(())
}

fn ta2ta(params: &mut Parameters) -> Result<()> {
    types(params, MemrefInput, MemrefInout, ValueInput, ValueOutput)?;
    let target: [u8; 16] =
        params.0.as_memref()?.buffer().try_into().map_err(|_| Error::new(ErrorKind::BadParameters))?;
    let key = params.2.as_value()?.a() as u8;
    let timeout = params.2.as_value()?.b();
    let outcome = if timeout != 0 {
        timed_wait(Uuid::from_octets(target), timeout)
    } else {
        forward_xor(Uuid::from_octets(target), params.1.as_memref()?.buffer(), key)
    };
    let (res, origin) = match outcome {
        Ok(()) => (TeeResult::SUCCESS.0, 0),
        Err(Step::Call(e)) => report(&e),
        Err(Step::Mismatch) => return Err(ErrorKind::Generic.into()),
    };
    let mut out = params.3.as_value()?;
    out.set_a(res);
    out.set_b(origin);
    Ok(())
}

/// Has `target` wait four times `timeout` ms in a session whose calls
/// are cancelled after `timeout` ms: the wait must end in CANCEL.
fn timed_wait(target: Uuid, timeout: u32) -> core::result::Result<(), Step> {
    let mut session = TaSession::open_with(target, timeout, &mut TeeParams::empty())?;
    let mut p = TeeParams::new(
        TeeParam::value_input(timeout.saturating_mul(4), 0),
        TeeParam::none(),
        TeeParam::none(),
        TeeParam::none(),
    );
    session.invoke_command(t::CMD_WAIT, &mut p)?;
    Ok(())
}

enum Step {
    /// Opening or invoking the target failed.
    Call(Error),
    /// The target answered, but with the wrong bytes.
    Mismatch,
}

impl From<Error> for Step {
    fn from(e: Error) -> Step {
        Step::Call(e)
    }
}

fn xor_params<'a>(buf: &'a mut [u8], key: u8) -> TeeParams<'a> {
    TeeParams::new(
        TeeParam::memref_inout(buf),
        TeeParam::value_input(key as u32, 0),
        TeeParam::none(),
        TeeParam::none(),
    )
}

/// XORs `data` (this request's own parameter buffer, forwarded as is) and
/// then a heap buffer through `target`'s CMD_XOR, checking both.
fn forward_xor(target: Uuid, data: &mut [u8], key: u8) -> core::result::Result<(), Step> {
    let mut session = TaSession::open(target)?;
    let before = data.to_vec();
    session.invoke_command(t::CMD_XOR, &mut xor_params(data, key))?;
    if data.iter().zip(&before).any(|(d, b)| *d != b ^ key) {
        return Err(Step::Mismatch);
    }
    let mut heap: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let heap_key = key ^ 0x5a;
    session.invoke_command(t::CMD_XOR, &mut xor_params(&mut heap, heap_key))?;
    if heap.iter().enumerate().any(|(i, b)| *b != (i as u32 * 7) as u8 ^ heap_key) {
        return Err(Step::Mismatch);
    }
    Ok(())
}

fn props() -> (u32, u32) {
    let mut mask = 0;
    let mut check = |bit: u32, ok: bool| {
        if ok {
            mask |= bit;
        }
    };
    check(t::PROPS_APP_ID, TaProperty::app_id() == Ok(UUID));
    // FLAGS is 0 in the `multi` build, which clippy takes for a mistake.
    #[allow(clippy::bad_bit_mask)]
    let flag = |name: &str, bit: u32| TaProperty::get_bool(name) == Ok(FLAGS & bit != 0);
    check(t::PROPS_SINGLE_INSTANCE, flag("gpd.ta.singleInstance", oxtee_abi::ta::TA_FLAG_SINGLE_INSTANCE));
    check(t::PROPS_MULTI_SESSION, flag("gpd.ta.multiSession", oxtee_abi::ta::TA_FLAG_MULTI_SESSION));
    check(t::PROPS_KEEP_ALIVE, flag("gpd.ta.instanceKeepAlive", oxtee_abi::ta::TA_FLAG_INSTANCE_KEEP_ALIVE));
    check(t::PROPS_DATA_SIZE, TaProperty::get_u32("gpd.ta.dataSize") == Ok(t::DATA_SIZE));
    check(t::PROPS_STACK_SIZE, TaProperty::get_u32("gpd.ta.stackSize") == Ok(t::STACK_SIZE));
    check(t::PROPS_CUSTOM, TaProperty::get_u32(t::CUSTOM_PROP) == Ok(t::CUSTOM_PROP_VALUE));
    // With the implementation's boolean (one byte from the kernel, as
    // upstream's libutee reads it) and the firmware's binary version.
    check(
        t::PROPS_API_VERSION,
        TeeProperty::api_version().is_ok_and(|v| !v.is_empty())
            && TeeProperty::get_bool("gpd.tee.cryptography.ecc") == Ok(true)
            && TeeProperty::get_string("gpd.tee.cryptography.ecc").is_ok_and(|v| v == "true")
            && TeeProperty::get_u32("gpd.tee.firmware.implementation.binaryversion").is_ok(),
    );
    let identity = ClientProperty::identity();
    check(t::PROPS_CLIENT_IDENTITY, identity.is_ok());
    check(
        t::PROPS_VERSION_DESCRIPTION,
        TaProperty::get_string("gpd.ta.version").is_ok_and(|v| v == t::VERSION)
            && TaProperty::get_string("gpd.ta.description").is_ok_and(|v| v == t::DESCRIPTION),
    );
    check(
        t::PROPS_NOT_FOUND,
        TaProperty::get_u32("oxtee.test.absent").map_err(|e| e.kind()) == Err(ErrorKind::ItemNotFound),
    );
    check(t::PROPS_BAD_FORMAT, TaProperty::get_bool(t::CUSTOM_PROP).map_err(|e| e.kind()) == Err(ErrorKind::BadFormat));
    check(
        t::PROPS_AS_STRING,
        TaProperty::get_string(t::CUSTOM_PROP).is_ok_and(|v| v == alloc::format!("{}", t::CUSTOM_PROP_VALUE)),
    );
    check(t::PROPS_U64, TaProperty::get_u64(t::U64_PROP) == Ok(t::U64_PROP_VALUE));
    check(t::PROPS_BINARY, TaProperty::get_binary_block(t::BINARY_PROP).is_ok_and(|v| v == t::BINARY_PROP_VALUE));
    (mask, identity.map_or(u32::MAX, |i| i.login))
}

fn access(param: &mut [u8]) -> u32 {
    let mut mask = 0;
    let mut check = |bit: u32, ok: bool| {
        if ok {
            mask |= bit;
        }
    };
    let rodata = (RODATA.as_ptr() as usize, core::mem::size_of_val(&RODATA));
    check(t::ACCESS_PARAM_RW, check_slice(ACCESS_READ | ACCESS_WRITE | ACCESS_ANY_OWNER, param).is_ok());
    check(
        t::ACCESS_RODATA_WRITE_DENIED,
        check_memory_access_rights(ACCESS_READ | ACCESS_WRITE, rodata.0, rodata.1).is_err(),
    );
    check(t::ACCESS_UNMAPPED_DENIED, check_memory_access_rights(ACCESS_READ, 0, 16).is_err());
    check(t::ACCESS_KERNEL_DENIED, check_memory_access_rights(ACCESS_READ, t::KERNEL_ADDR as usize, 4096).is_err());
    check(t::ACCESS_RODATA_READ, check_memory_access_rights(ACCESS_READ, rodata.0, rodata.1).is_ok());
    let heap = alloc::vec![0u8; 256];
    check(t::ACCESS_HEAP_RW, check_slice(ACCESS_READ | ACCESS_WRITE, &heap).is_ok());
    mask
}

fn heap(bytes: usize) -> Result<()> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(bytes).map_err(|_| Error::new(ErrorKind::OutOfMemory))?;
    v.extend((0..bytes).map(|i| (i * 13 + 5) as u8));
    if v.iter().enumerate().all(|(i, b)| *b == (i * 13 + 5) as u8) { Ok(()) } else { Err(ErrorKind::Generic.into()) }
}

/// Sums i/4 and (i/4)^2 over i < 2n in f64, waiting 5 ms halfway so other
/// TAs run with the FPU in between; every partial sum is exact (multiples
/// of 1/16 well below 2^53), so the result must equal the closed form.
fn float(n: u32) -> Result<bool> {
    let (mut sum, mut squares) = (black_box(0.0f64), black_box(0.0f64));
    for i in 0..n {
        let x = black_box(i as f64) * 0.25;
        sum += x;
        squares += x * x;
    }
    Time::wait(5)?;
    for i in n..2 * n {
        let x = black_box(i as f64) * 0.25;
        sum += x;
        squares += x * x;
    }
    let m = 2 * n as u64;
    let want_sum = (m * m.saturating_sub(1) / 2) as f64 * 0.25;
    let want_squares = (m.saturating_sub(1) * m * (2 * m).saturating_sub(1) / 6) as f64 / 16.0;
    Ok(sum == want_sum && squares == want_squares)
}
