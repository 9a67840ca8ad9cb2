//! Shared TA libraries: the dynamic-linking test TA (`ta/dltest`, numbers
//! in `oxtee_abi::dl_test_ta`) needs a library by UUID (`DT_NEEDED`),
//! which the OS fetches through the supplicant, verifies, maps and links
//! as upstream's loader does. The TA calls into the library, the library
//! calls back into the TA, data goes through both GOTs, an ABS64 pointer
//! and an undefined weak reference come out right; a TA whose library is
//! missing or lacks a symbol it needs does not open.

use crate::{ORIGIN_TEE, check, eq};
use oxtee_abi::dl_test_ta as d;
use oxtee_abi::tee::TeeResult;
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamValue};

const ITEM_NOT_FOUND: u32 = TeeResult::ERROR_ITEM_NOT_FOUND.0;

pub fn run(ctx: &mut Context) {
    let mut s = match ctx.open_session(d::UUID) {
        Ok(s) => s,
        Err(e) => {
            check(false, "dynlink: open the TA with a shared library", format_args!("{e:?}"));
            return;
        }
    };
    for (round, (a, b)) in [(2u32, 3u32), (100, 23)].into_iter().enumerate() {
        let mut o = Operation::new(
            0,
            ParamValue::new(a, b, Dir::In),
            ParamValue::new(0, 0, Dir::Out),
            ParamValue::new(0, 0, Dir::Out),
            ParamNone::new(),
        );
        match s.invoke_command(d::CMD_RUN, &mut o) {
            Ok(()) => {
                let r1 = o.params[1].value().unwrap_or_default();
                let r2 = o.params[2].value().unwrap_or_default();
                eq("dynlink: TA calls the library", r1.0, a + b);
                eq("dynlink: library calls the TA back", r1.1, d::TAG + a);
                // The library's counter starts at 40; each run calls its
                // add once, and the TA reads it through its GOT.
                eq("dynlink: library data through the GOT", r2.0, 41 + round as u32);
                eq("dynlink: ABS64 pointer and undefined weak", r2.1, 1);
            }
            Err(e) => check(false, "dynlink: run", format_args!("{e:?}")),
        }
    }
    drop(s);
    // A second instance gets its own copy of the library's data.
    match ctx.open_session(d::UUID) {
        Ok(mut s) => {
            let mut o = Operation::new(
                0,
                ParamValue::new(1, 1, Dir::In),
                ParamValue::new(0, 0, Dir::Out),
                ParamValue::new(0, 0, Dir::Out),
                ParamNone::new(),
            );
            let r = s.invoke_command(d::CMD_RUN, &mut o).map(|()| o.params[2].value().unwrap_or_default().0);
            eq("dynlink: a new instance has fresh library data", r.map_err(|e| e.code), Ok(41));
        }
        Err(e) => check(false, "dynlink: reopen", format_args!("{e:?}")),
    }
    for (uuid, what) in [(d::UUID_MISSING, "a missing library"), (d::UUID_UNRESOLVED, "an unresolved symbol")] {
        let r = ctx.open_session(uuid).map(drop).map_err(|e| (e.code, e.origin));
        eq(&format!("dynlink: a TA with {what} does not open"), r, Err((ITEM_NOT_FOUND, ORIGIN_TEE)));
    }
}
