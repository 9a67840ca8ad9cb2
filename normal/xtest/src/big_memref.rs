//! Large memrefs (docs/memrefs.md): the client's pages are mapped into the
//! TA for the call, so a memref may be far larger than the OS heap. 32 MiB
//! input, output and in/out memrefs in one call, through temporary and
//! registered shared memory (whole and partial, at an odd offset), checked
//! both ways against `test_ta::big_*`; then four threads making 8 MiB
//! calls at once; then everything the OS holds is back where it was.

use crate::{check, eq};
use oxtee_abi::test_ta as t;
use oxtee_teec::{Context, Dir, Operation, Param, ParamNone, ParamTmpRef, ParamValue, Session};

const BIG: usize = 32 << 20;

/// (bytes the TA found wrong, bytes it saw) of a CMD_BIG call.
fn big(s: &mut Session, p0: Param, p1: Param, p2: Param, seed: u32) -> Result<(u32, u32), u32> {
    let mut o = Operation::new(0, p0, p1, p2, ParamValue::new(seed, 0, Dir::InOut));
    s.invoke_command(t::CMD_BIG, &mut o).map_err(|e| e.code)?;
    Ok(o.params[3].value().unwrap_or((u32::MAX, u32::MAX)))
}

fn pattern(seed: u32, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    t::big_fill(seed, &mut v);
    v
}

fn temporary(s: &mut Session) {
    let seed = 0x1234;
    let mut input = pattern(seed, BIG);
    let mut output = vec![0u8; BIG];
    let mut inout = pattern(seed + 2, BIG);
    let r = big(
        s,
        ParamTmpRef::new_input(&mut input),
        ParamTmpRef::new_output(&mut output),
        ParamTmpRef::new_inout(&mut inout),
        seed,
    );
    eq("big memrefs: 3 x 32 MiB temporary (TA saw its inputs intact)", r, Ok((0, 3 * BIG as u32)));
    eq("big memrefs: 32 MiB output written by the TA", t::big_mismatches(seed + 1, &output), 0);
    eq("big memrefs: 32 MiB in/out rewritten by the TA", t::big_mismatches(seed + 3, &inout), 0);
}

fn registered(ctx: &Context, s: &mut Session) {
    let Ok(mut shm) = ctx.allocate_shared_memory(BIG) else {
        return check(false, "big memrefs: 32 MiB shared memory", format_args!("allocation failed"));
    };
    let seed = 0x77;
    t::big_fill(seed + 2, shm.buffer_mut());
    let r = big(s, ParamNone::new(), ParamNone::new(), Param::Whole { dir: Dir::InOut, shm: &shm, size: BIG }, seed);
    eq("big memrefs: 32 MiB registered in/out", r, Ok((0, BIG as u32)));
    eq("big memrefs: registered bytes rewritten", t::big_mismatches(seed + 3, shm.buffer()), 0);
    // A part starting inside a page and ending inside another: the TA sees
    // exactly that part, and writes nothing outside it.
    let (offset, size) = (4093, 20 << 20 | 13);
    t::big_fill(seed, &mut shm.buffer_mut()[offset..offset + size]);
    let before = shm.buffer().to_vec();
    let r = big(s, Param::Partial { dir: Dir::In, shm: &shm, offset, size }, ParamNone::new(), ParamNone::new(), seed);
    eq("big memrefs: 20 MiB partial registered input at an odd offset", r, Ok((0, size as u32)));
    let out = offset + size + 5;
    let r = big(
        s,
        ParamNone::new(),
        Param::Partial { dir: Dir::Out, shm: &shm, offset: out, size: 3 << 20 },
        ParamNone::new(),
        seed,
    );
    eq("big memrefs: 3 MiB partial registered output", r, Ok((0, 3 << 20)));
    eq("big memrefs: partial output written", t::big_mismatches(seed + 1, &shm.buffer()[out..out + (3 << 20)]), 0);
    let outside = shm.buffer()[..out] == before[..out] && shm.buffer()[out + (3 << 20)..] == before[out + (3 << 20)..];
    check(outside, "big memrefs: nothing written outside the partial output", format_args!("changed"));
}

/// `threads` clients at once, each with its own instance, `rounds` in/out
/// calls of `size` bytes each.
fn concurrent(threads: u32, rounds: u32, size: usize) {
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            std::thread::spawn(move || -> Result<(), String> {
                let ctx = Context::new().map_err(|e| format!("context: {e:?}"))?;
                let mut s = ctx.open_session(t::TEST_MULTI).map_err(|e| format!("open: {e:?}"))?;
                for r in 0..rounds {
                    let seed = i * 1000 + r;
                    let mut buf = pattern(seed + 2, size);
                    let got = big(&mut s, ParamNone::new(), ParamNone::new(), ParamTmpRef::new_inout(&mut buf), seed);
                    if got != Ok((0, size as u32)) {
                        return Err(format!("thread {i} round {r}: {got:x?}"));
                    }
                    if t::big_mismatches(seed + 3, &buf) != 0 {
                        return Err(format!("thread {i} round {r}: bytes not rewritten"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        match h.join() {
            Ok(r) => eq("big memrefs: concurrent 8 MiB calls", r, Ok(())),
            Err(_) => check(false, "big memrefs: concurrent thread", format_args!("panicked")),
        }
    }
}

pub fn run(ctx: &Context, test_build: bool) {
    let mut pta = if test_build { ctx.open_session(oxtee_abi::test_pta::UUID).ok() } else { None };
    let before = pta.as_mut().map(crate::robust::resources);
    match ctx.open_session(t::TEST_MULTI) {
        Ok(mut s) => {
            temporary(&mut s);
            registered(ctx, &mut s);
            let mut none = [0u8; 0];
            let r = big(&mut s, ParamTmpRef::new_input(&mut none), ParamNone::new(), ParamNone::new(), 0);
            eq("big memrefs: an empty input", r, Ok((0, 0)));
        }
        Err(e) => check(false, "big memrefs: open", format_args!("{e:?}")),
    }
    concurrent(4, 3, 8 << 20);
    if let (Some(pta), Some(before)) = (pta.as_mut(), before) {
        let after = crate::robust::resources(pta);
        crate::robust::same("big memrefs: nothing held afterwards", &before, &after);
        eq("big memrefs: no parameter copies", after.param_bytes, 0);
        check(
            (before.heap_total as usize) < BIG,
            "big memrefs: memrefs larger than the whole OS heap",
            format_args!("heap {} bytes", before.heap_total),
        );
    }
}
