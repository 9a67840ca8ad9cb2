//! The guest's side of the tamper test (`cargo xtask storage-test`,
//! xtask's `storage.rs`; the write loop and its verification are
//! `storage.rs`'s `storage-loop` and `storage-verify`):
//! `oxtee-xtest storage-check N` opens, reads and checks each of the
//! write loop's objects `wl-0..N` in the REE FS storage on its own,
//! through one system call per step, and prints
//! `storage-check: wl-<i> <TEE_Result> gen=<G or ->`: the exact error an
//! object gives after its file was tampered with; with a record size
//! after N it then writes every object anew (the store must stay usable).

use oxtee_abi::storage_test_ta as s;
use oxtee_abi::ta::crypto::{
    DATA_FLAG_ACCESS_READ, DATA_FLAG_ACCESS_WRITE, DATA_FLAG_ACCESS_WRITE_META, DATA_FLAG_OVERWRITE,
    DATA_FLAG_SHARE_READ,
};
use oxtee_abi::tee::TeeResult;
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamTmpRef, ParamValue, Session};

/// The storage the tests use: the REE FS, whose files the host can reach.
pub const STORAGE: u32 = 0x8000_0000;

fn session<'c>(ctx: &'c Context, what: &str) -> Session<'c> {
    match ctx.open_session(s::UUID) {
        Ok(s) => s,
        Err(e) => {
            println!("{what}: FAIL cannot open the storage test TA: {e}");
            std::process::exit(1);
        }
    }
}

fn context(what: &str) -> Context {
    match Context::new() {
        Ok(c) => c,
        Err(e) => {
            println!("{what}: FAIL open /dev/tee0: {e}");
            std::process::exit(1);
        }
    }
}

/// The command's `TEE_Result` (0 for success).
fn code(r: oxtee_teec::Result<()>) -> u32 {
    r.err().map_or(0, |e| e.code)
}

/// One object: open, read, check, close; its result and generation.
fn check_one(ta: &mut Session, i: u32) -> (u32, Option<u32>) {
    let mut id = [0u8; 16];
    let len = s::loop_object_id(i, &mut id);
    let mut o = Operation::new(
        0,
        ParamTmpRef::new_input(&mut id[..len]),
        ParamValue::new(DATA_FLAG_ACCESS_READ | DATA_FLAG_SHARE_READ, STORAGE, Dir::In),
        ParamValue::new(0, 0, Dir::Out),
        ParamNone::new(),
    );
    let c = code(ta.invoke_command(s::CMD_OPEN, &mut o));
    if c != 0 {
        return (c, None);
    }
    let h = o.parameters()[2].value().map_or(0, |v| v.0);
    let mut buf = vec![0u8; s::WL_MAX_RECORD as usize + 1];
    let mut o = Operation::new(
        0,
        ParamValue::new(h, 0, Dir::In),
        ParamTmpRef::new_output(&mut buf),
        ParamNone::new(),
        ParamNone::new(),
    );
    let c = code(ta.invoke_command(s::CMD_READ, &mut o));
    let got = o.parameters()[1].size().unwrap_or(0).min(buf.len());
    let mut o = Operation::new(0, ParamValue::new(h, 0, Dir::In), ParamNone::new(), ParamNone::new(), ParamNone::new());
    let closed = code(ta.invoke_command(s::CMD_CLOSE, &mut o));
    if c != 0 {
        return (c, None);
    }
    match s::check_record(&buf[..got], i) {
        Some(g) if closed == 0 => (0, Some(g)),
        Some(g) => (closed, Some(g)),
        None => (TeeResult::ERROR_BAD_FORMAT.0, None),
    }
}

/// Creates object `i` anew (`OVERWRITE`) holding its record of
/// generation `g`, `record` bytes long.
fn rewrite_one(ta: &mut Session, i: u32, g: u32, record: u32) -> u32 {
    let mut id = [0u8; 16];
    let len = s::loop_object_id(i, &mut id);
    let mut data = vec![0u8; record as usize];
    if !s::fill_record(&mut data, g, i) {
        return TeeResult::ERROR_BAD_PARAMETERS.0;
    }
    let flags = DATA_FLAG_ACCESS_READ | DATA_FLAG_ACCESS_WRITE | DATA_FLAG_ACCESS_WRITE_META | DATA_FLAG_OVERWRITE;
    let mut o = Operation::new(
        0,
        ParamTmpRef::new_input(&mut id[..len]),
        ParamValue::new(flags, 0, Dir::In),
        ParamValue::new(STORAGE, 0, Dir::InOut),
        ParamTmpRef::new_input(&mut data),
    );
    let c = code(ta.invoke_command(s::CMD_CREATE, &mut o));
    if c != 0 {
        return c;
    }
    let h = o.parameters()[2].value().map_or(0, |v| v.0);
    let mut o = Operation::new(0, ParamValue::new(h, 0, Dir::In), ParamNone::new(), ParamNone::new(), ParamNone::new());
    code(ta.invoke_command(s::CMD_CLOSE, &mut o))
}

fn check_all(n: u32, rewrite: Option<u32>) -> ! {
    let ctx = context("storage-check");
    let mut ta = session(&ctx, "storage-check");
    let mut highest = 0;
    for i in 0..n {
        let (c, g) = check_one(&mut ta, i);
        highest = highest.max(g.unwrap_or(0));
        let g = g.map_or("-".to_string(), |g| g.to_string());
        println!("storage-check: wl-{i} {c:#010x} gen={g}");
    }
    println!("storage-check: done");
    // The store stays usable: every object written again, one generation.
    if let Some(record) = rewrite {
        let g = highest + 1;
        for i in 0..n {
            let c = rewrite_one(&mut ta, i, g, record);
            if c != 0 {
                println!("storage-check: FAIL rewriting wl-{i}: {c:#010x}");
                std::process::exit(1);
            }
        }
        println!("storage-check: rewrote {n} objects at generation {g}");
    }
    std::process::exit(0);
}

/// `oxtee-xtest storage-check N [RECORD]` (with RECORD, every object is
/// then created anew with a record of that size, one generation past
/// the highest seen): never returns.
pub fn check_cli(args: &[String]) -> ! {
    let Some(n) = args.first().and_then(|a| a.parse::<u32>().ok()).filter(|n| *n <= s::WL_MAX_OBJECTS) else {
        println!("usage: oxtee-xtest storage-check OBJECTS [RECORD]");
        std::process::exit(2);
    };
    let rewrite = args.get(1).and_then(|a| a.parse::<u32>().ok());
    check_all(n, rewrite)
}
