//! The pseudo-TAs that clients written for upstream OP-TEE call: the RNG
//! PTA (and, through Linux's stock `optee-rng` driver bound to it by device
//! enumeration, `/dev/hwrng`), and in the test build upstream's
//! invoke-tests PTA as upstream's xtest uses it.

use crate::{ORIGIN_TA, ORIGIN_TEE, check, eq};
use oxtee_abi::upstream_pta::{invoke_tests as it, rng};
use oxtee_abi::uuid;
use oxtee_teec::{
    Context, Dir, Error, Operation, Param, ParamNone, ParamTmpRef, ParamValue, TEEC_ERROR_BAD_PARAMETERS,
    TEEC_ERROR_ITEM_NOT_FOUND, TEEC_ERROR_NOT_SUPPORTED, TEEC_ERROR_SHORT_BUFFER,
};
use std::io::Read;

const TEE_ERROR_NOT_IMPLEMENTED: u32 = 0xffff_0009;

fn op4<'a>(p: [Param<'a>; 4]) -> Operation<'a> {
    let [a, b, c, d] = p;
    Operation::new(0, a, b, c, d)
}

fn one(p: Param<'_>) -> Operation<'_> {
    Operation::new(0, p, ParamNone::new(), ParamNone::new(), ParamNone::new())
}

pub fn run(ctx: &mut Context, test_build: bool) {
    device_enum(ctx, test_build);
    rng_pta(ctx);
    hwrng(test_build);
    if test_build {
        invoke_tests(ctx);
        mutex_threads();
    } else {
        let r = ctx.open_session(it::UUID).map(|s| s.id());
        eq(
            "no invoke-tests PTA in the default build",
            r,
            Err(Error { code: TEEC_ERROR_ITEM_NOT_FOUND, origin: ORIGIN_TEE }),
        );
    }
}

/// The devices the OS lists, as any client sees them (Linux 6.1's driver
/// enumerates with a public login, as a user program does).
fn device_enum(ctx: &mut Context, test_build: bool) {
    let mut s = match ctx.open_session(uuid::PTA_DEVICE_ENUM) {
        Ok(s) => s,
        Err(e) => return check(false, "device PTA: open (public login)", format_args!("{e:?}")),
    };
    let mut want = rng::UUID.to_octets().to_vec();
    if test_build {
        want.extend(it::UUID.to_octets());
    }
    let mut o = one(Param::Null { dir: Dir::Out, size: 0 });
    let r = s.invoke_command(0, &mut o).map_err(|e| e.code);
    eq("device PTA: GET_DEVICES size", (r, o.params[0].size()), (Err(TEEC_ERROR_SHORT_BUFFER), Some(want.len())));
    let mut buf = vec![0u8; 64];
    let n = {
        let mut o = one(ParamTmpRef::new_output(&mut buf));
        eq("device PTA: GET_DEVICES", s.invoke_command(0, &mut o), Ok(()));
        o.params[0].size().unwrap_or(0)
    };
    eq("device PTA: the devices", &buf[..n.min(64)], &want[..]);
    let mut o = one(Param::Null { dir: Dir::Out, size: 0 });
    let r = s.invoke_command(1, &mut o);
    eq("device PTA: GET_DEVICES_SUPP: none", (r, o.params[0].size()), (Ok(()), Some(0)));
    let r = s.invoke_command(2, &mut one(Param::Null { dir: Dir::Out, size: 0 })).map_err(|e| e.code);
    eq("device PTA: unknown command", r, Err(TEE_ERROR_NOT_IMPLEMENTED));
}

fn rng_pta(ctx: &mut Context) {
    let mut s = match ctx.open_session(rng::UUID) {
        Ok(s) => s,
        Err(e) => return check(false, "RNG PTA: open (public login)", format_args!("{e:?}")),
    };
    let mut o = one(ParamValue::new(7, 7, Dir::Out));
    eq("RNG PTA: GET_RNG_INFO", s.invoke_command(rng::CMD_GET_RNG_INFO, &mut o), Ok(()));
    eq("RNG PTA: rate and quality", o.params[0].value(), Some((rng::RATE, rng::QUALITY)));
    let r = s.invoke_command(rng::CMD_GET_RNG_INFO, &mut one(ParamValue::new(0, 0, Dir::In)));
    eq("RNG PTA: GET_RNG_INFO wants a value out", r, Err(Error { code: TEEC_ERROR_BAD_PARAMETERS, origin: ORIGIN_TA }));
    // What Linux's driver sends: an inout memref of up to 4 KiB.
    let mut reads = Vec::new();
    for _ in 0..2 {
        let mut buf = vec![0u8; 4096];
        eq(
            "RNG PTA: GET_ENTROPY 4 KiB",
            s.invoke_command(rng::CMD_GET_ENTROPY, &mut one(ParamTmpRef::new_inout(&mut buf))),
            Ok(()),
        );
        reads.push(buf);
    }
    check(reads[0] != reads[1], "RNG PTA: two reads differ", format_args!("equal"));
    let zeros = reads[0].iter().filter(|b| **b == 0).count();
    check(zeros < 64, "RNG PTA: bytes look random", format_args!("{zeros} zero bytes of 4096"));
    let mut odd = vec![0u8; 37];
    eq("RNG PTA: odd size", s.invoke_command(rng::CMD_GET_ENTROPY, &mut one(ParamTmpRef::new_inout(&mut odd))), Ok(()));
    check(odd.iter().any(|b| *b != 0), "RNG PTA: odd size filled", format_args!("all zero"));
    let mut out = vec![0u8; 16];
    let bad = [
        s.invoke_command(rng::CMD_GET_ENTROPY, &mut one(ParamTmpRef::new_output(&mut out))),
        s.invoke_command(rng::CMD_GET_ENTROPY, &mut one(Param::Null { dir: Dir::InOut, size: 0 })),
        s.invoke_command(rng::CMD_GET_ENTROPY, &mut Operation::empty()),
    ];
    for (i, r) in bad.into_iter().enumerate() {
        let want = Err(Error { code: TEEC_ERROR_BAD_PARAMETERS, origin: ORIGIN_TA });
        eq(&format!("RNG PTA: GET_ENTROPY bad parameters #{i}"), r, want);
    }
    let r = s.invoke_command(9, &mut Operation::empty()).map_err(|e| e.code);
    eq("RNG PTA: unknown command", r, Err(TEE_ERROR_NOT_IMPLEMENTED));
}

/// Linux's stock driver gives the guest a hardware RNG fed by the OS, and
/// the TEE bus holds exactly the OS's devices.
fn hwrng(test_build: bool) {
    let mut devices: Vec<String> = std::fs::read_dir("/sys/bus/tee/devices")
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    devices.sort();
    let mut want = vec![format!("optee-ta-{}", rng::UUID)];
    if test_build {
        want.push(format!("optee-ta-{}", it::UUID));
    }
    want.sort();
    eq("TEE bus devices", devices, want);
    let current = std::fs::read_to_string("/sys/class/misc/hw_random/rng_current").unwrap_or_default();
    eq("hwrng: rng_current", current.trim(), "optee-rng");
    let mut reads = Vec::new();
    for _ in 0..2 {
        let mut b = [0u8; 64];
        let r = std::fs::File::open("/dev/hwrng").and_then(|mut f| f.read_exact(&mut b));
        check(r.is_ok(), "hwrng: read 64 bytes from /dev/hwrng", format_args!("{r:?}"));
        reads.push(b);
    }
    check(reads[0] != reads[1], "hwrng: two reads differ", format_args!("{:x?}", reads[0]));
    check(reads[0].iter().any(|b| *b != reads[0][0]), "hwrng: bytes vary", format_args!("{:x?}", reads[0]));
}

fn invoke_tests(ctx: &mut Context) {
    let mut s = match ctx.open_session(it::UUID) {
        Ok(s) => s,
        Err(e) => return check(false, "invoke-tests PTA: open", format_args!("{e:?}")),
    };
    let bad = Err(Error { code: TEEC_ERROR_BAD_PARAMETERS, origin: ORIGIN_TA });
    eq("invoke-tests: TRACE", s.invoke_command(it::CMD_TRACE, &mut Operation::empty()), Ok(()));
    // PARAMS, each shape upstream's PTA knows.
    for i in 0..4 {
        let mut p: [Param; 4] = [Param::None, Param::None, Param::None, Param::None];
        p[i] = ParamValue::new(1000 + i as u32, 0xffff_ffff, Dir::InOut);
        let mut o = op4(p);
        eq(&format!("invoke-tests: PARAMS value inout #{i}"), s.invoke_command(it::CMD_PARAMS, &mut o), Ok(()));
        eq(&format!("invoke-tests: PARAMS a + b #{i}"), o.params[i].value(), Some((999 + i as u32, 0xffff_ffff)));
        let mut p: [Param; 4] = core::array::from_fn(|j| ParamValue::new(j as u32 + 1, 10 * (j as u32 + 1), Dir::In));
        p[i] = ParamValue::new(0, 0, Dir::Out);
        let mut o = op4(p);
        eq(&format!("invoke-tests: PARAMS 3 in 1 out #{i}"), s.invoke_command(it::CMD_PARAMS, &mut o), Ok(()));
        let sum = 10 - (i as u32 + 1);
        eq(&format!("invoke-tests: PARAMS sums #{i}"), o.params[i].value(), Some((sum, 10 * sum)));
    }
    // xtest 1002: a 16 KiB inout memref, its 8-bit sum in the first byte.
    let mut buf: Vec<u8> = (0..16 * 1024).map(|n| (n + 1) as u8).collect();
    let sum = buf.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    let r = s.invoke_command(it::CMD_PARAMS, &mut one(ParamTmpRef::new_inout(&mut buf)));
    eq("invoke-tests: PARAMS memref", r, Ok(()));
    eq("invoke-tests: PARAMS memref sum", buf[0], sum);
    eq("invoke-tests: PARAMS memref rest untouched", buf[1], 2);
    let r = s.invoke_command(it::CMD_PARAMS, &mut one(ParamValue::new(1, 2, Dir::In)));
    eq("invoke-tests: PARAMS unknown shape", r, bad);
    // xtest 1025: a null, empty memref.
    let r = s.invoke_command(it::CMD_MEMREF_NULL, &mut one(Param::Null { dir: Dir::InOut, size: 0 }));
    eq("invoke-tests: MEMREF_NULL", r, Ok(()));
    let mut b4 = [0u8; 4];
    let r = s.invoke_command(it::CMD_MEMREF_NULL, &mut one(ParamTmpRef::new_inout(&mut b4)));
    eq("invoke-tests: MEMREF_NULL refuses a buffer", r, bad);
    // Secure data path: no SDP memory, so normal-world buffers are refused
    // after the size check, as upstream.
    let (mut src, mut small, mut dst) = (vec![1u8; 64], vec![0u8; 8], vec![0u8; 64]);
    let mut o = Operation::new(
        0,
        ParamTmpRef::new_input(&mut src),
        ParamTmpRef::new_output(&mut small),
        Param::None,
        Param::None,
    );
    let r = s.invoke_command(it::CMD_COPY_NSEC_TO_SEC, &mut o).map_err(|e| e.code);
    eq("invoke-tests: SDP copy short buffer", (r, o.params[1].size()), (Err(TEEC_ERROR_SHORT_BUFFER), Some(64)));
    let mut o = Operation::new(
        0,
        ParamTmpRef::new_input(&mut src),
        ParamTmpRef::new_output(&mut dst),
        Param::None,
        Param::None,
    );
    eq("invoke-tests: SDP copy refuses normal memory", s.invoke_command(it::CMD_COPY_SEC_TO_NSEC, &mut o), bad);
    let r = s.invoke_command(it::CMD_READ_MODIFY_SEC, &mut one(ParamTmpRef::new_inout(&mut dst)));
    eq("invoke-tests: SDP modify refuses normal memory", r, bad);
    // xtest 1001.
    eq("invoke-tests: SELF_TESTS", s.invoke_command(it::CMD_SELF_TESTS, &mut Operation::empty()), Ok(()));
    eq("invoke-tests: FS_HTREE (store engine)", s.invoke_command(it::CMD_FS_HTREE, &mut Operation::empty()), Ok(()));
    eq("invoke-tests: DT_DRIVER_TESTS", s.invoke_command(it::CMD_DT_DRIVER_TESTS, &mut Operation::empty()), Ok(()));
    for cmd in [it::CMD_LOCKDEP, it::CMD_TRANSFER_LIST_TESTS] {
        let r = s.invoke_command(cmd, &mut Operation::empty()).map_err(|e| e.code);
        eq(&format!("invoke-tests: command {cmd} not supported"), r, Err(TEEC_ERROR_NOT_SUPPORTED));
    }
    let r = s.invoke_command(
        it::CMD_MUTEX,
        &mut Operation::new(
            0,
            ParamValue::new(5, 1, Dir::In),
            ParamValue::new(0, 0, Dir::Out),
            Param::None,
            Param::None,
        ),
    );
    eq("invoke-tests: MUTEX unknown kind", r, bad);
    eq("invoke-tests: unknown command", s.invoke_command(77, &mut Operation::empty()), bad);
}

/// xtest 1003's load: writers and readers on the PTA's mutex from several
/// threads; every writer must find itself alone inside.
fn mutex_threads() {
    let threads: Vec<_> = (0..6u32)
        .map(|n| {
            std::thread::spawn(move || -> Result<(), String> {
                let kind = if n % 3 == 0 { it::MUTEX_WRITER } else { it::MUTEX_READER };
                let ctx = Context::new().map_err(|e| format!("{e:?}"))?;
                let mut s = ctx.open_session(it::UUID).map_err(|e| format!("{e:?}"))?;
                for round in 0..20 {
                    let mut o = Operation::new(
                        0,
                        ParamValue::new(kind, 64 * 1024, Dir::In),
                        ParamValue::new(0, 0, Dir::Out),
                        Param::None,
                        Param::None,
                    );
                    s.invoke_command(it::CMD_MUTEX, &mut o).map_err(|e| format!("round {round}: {e:?}"))?;
                    let inside = o.params[1].value().map(|v| v.1);
                    if kind == it::MUTEX_WRITER && inside != Some(1) {
                        return Err(format!("round {round}: {inside:?} writers inside"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for (n, t) in threads.into_iter().enumerate() {
        let r = t.join().unwrap_or_else(|_| Err("panicked".into()));
        eq(&format!("invoke-tests: MUTEX thread {n}"), r, Ok(()));
    }
}
