//! `oxtee-xtest bench-storage [REPS]`: the storage benchmark (`cargo xtask
//! bench --storage`). For objects of 256 B, 4 KiB, 64 KiB and 1 MiB in
//! `TEE_STORAGE_PRIVATE` (the REE FS), each operation of the storage
//! benchmark TA (create, write, read, rewrite; see
//! `oxtee_abi::storage_bench_ta`) is timed from this process around the
//! one invoke that performs it, less a no-op invoke's time, and its RPC
//! round trips are counted with the test PTA's `Resources`. Under
//! `-icount shift=0` a nanosecond is a guest instruction. Prints one
//! `BENCH key=value ...` line: `storage_<op>_<size>_ns` (mean of REPS,
//! default 3) and `storage_<op>_<size>_rpcs`, and `storage_failures`.

use oxtee_abi::storage_bench_ta as b;
use oxtee_abi::test_pta::{self as tp, Resources};
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamTmpRef, ParamValue, Session};
use std::time::Instant;
use zerocopy::FromBytes;

pub const SIZES: [(u32, &str); 4] = [(256, "256"), (4096, "4k"), (65536, "64k"), (1 << 20, "1m")];
pub const OPS: [(u32, &str); 4] =
    [(b::OP_CREATE, "create"), (b::OP_WRITE, "write"), (b::OP_READ, "read"), (b::OP_REWRITE, "rewrite")];

/// `TEE_STORAGE_PRIVATE`, as upstream's benchmark uses.
const STORAGE: u32 = 1;

fn round_trips(pta: &mut Session) -> Option<u64> {
    let mut buf = vec![0u8; size_of::<Resources>()];
    let mut o =
        Operation::new(0, ParamTmpRef::new_output(&mut buf), ParamNone::new(), ParamNone::new(), ParamNone::new());
    pta.invoke_command(tp::CMD_RESOURCES, &mut o).ok()?;
    Resources::read_from_bytes(&buf).ok().map(|r| r.rpc_round_trips)
}

fn invoke(ta: &mut Session, cmd: u32, a: u32, bv: u32) -> Result<(), u32> {
    let (p0, p1) = match cmd {
        b::CMD_PREPARE => (ParamValue::new(a, bv, Dir::In), ParamValue::new(STORAGE, 0, Dir::In)),
        b::CMD_NOOP => (ParamNone::new(), ParamNone::new()),
        _ => (ParamValue::new(a, 0, Dir::In), ParamNone::new()),
    };
    let mut o = Operation::new(0, p0, p1, ParamNone::new(), ParamNone::new());
    ta.invoke_command(cmd, &mut o).map_err(|e| e.code)
}

pub fn run(reps: u32) -> ! {
    let Ok(ctx) = Context::new() else {
        println!("bench-storage: no /dev/tee0");
        std::process::exit(1);
    };
    let (Ok(mut ta), Ok(mut pta)) = (ctx.open_session(b::UUID), ctx.open_session(tp::UUID)) else {
        println!("bench-storage: cannot open the storage benchmark TA or the test PTA");
        std::process::exit(1);
    };
    let reps = reps.max(1);
    // The no-op invoke, warm.
    for _ in 0..10 {
        let _ = invoke(&mut ta, b::CMD_NOOP, 0, 0);
    }
    let n = 50;
    let t0 = Instant::now();
    for _ in 0..n {
        let _ = invoke(&mut ta, b::CMD_NOOP, 0, 0);
    }
    let base = t0.elapsed().as_nanos() as f64 / n as f64;
    let mut line = format!("BENCH storage_noop_invoke_ns={base:.0}");
    let mut failures = 0;
    for (size, sname) in SIZES {
        for (op, oname) in OPS {
            let (mut total, mut rpcs) = (0f64, 0u64);
            let mut ok = true;
            for _ in 0..reps {
                if let Err(e) = invoke(&mut ta, b::CMD_PREPARE, op, size) {
                    println!("bench-storage: {oname} {sname}: prepare: {e:#x}");
                    ok = false;
                    break;
                }
                let r0 = round_trips(&mut pta).unwrap_or(0);
                let t = Instant::now();
                let r = invoke(&mut ta, b::CMD_RUN, op, 0);
                let ns = t.elapsed().as_nanos() as f64;
                let r1 = round_trips(&mut pta).unwrap_or(0);
                let fin = invoke(&mut ta, b::CMD_FINISH, op, 0);
                if let Err(e) = r.and(fin) {
                    println!("bench-storage: {oname} {sname}: {e:#x}");
                    ok = false;
                    break;
                }
                total += (ns - base).max(0.0);
                rpcs = r1.saturating_sub(r0);
            }
            if !ok {
                failures += 1;
                continue;
            }
            line.push_str(&format!(
                " storage_{oname}_{sname}_ns={:.0} storage_{oname}_{sname}_rpcs={rpcs}",
                total / reps as f64
            ));
        }
    }
    println!("{line} storage_failures={failures}");
    std::process::exit(if failures == 0 { 0 } else { 1 });
}
