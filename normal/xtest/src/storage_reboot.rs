//! The guest's side of the reboot and tamper tests (`cargo xtask test`,
//! xtask's `storage.rs`): commands that drive the storage test TA's write
//! loop and report what each object holds, one line each, for xtask to
//! compare across boots on the same host store.
//!
//! - `storage-loop N RECORD [GENS]`: generations of the write loop over
//!   objects `wl-0..N` (records of RECORD bytes), one invoke each,
//!   printing `storage-loop: generation G done` after each; GENS = 0 (the
//!   default) loops until the machine dies.
//! - `storage-verify N`: the TA's own check of every object and of the
//!   ordering the loop guarantees after a power cut, printed as
//!   `storage-verify: ok highest=H lowest=L present=P first_lower=F`.
//! - `storage-check N`: each object opened, read and checked on its own,
//!   through one system call per step, printed as
//!   `storage-check: wl-<i> <TEE_Result> gen=<G or ->`: the exact error an
//!   object gives after its file was tampered with.

use oxtee_abi::storage_test_ta as s;
use oxtee_abi::ta::crypto::{DATA_FLAG_ACCESS_READ, DATA_FLAG_SHARE_READ};
use oxtee_abi::tee::TeeResult;
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamTmpRef, ParamValue, Session};

/// The storage the tests use: the REE FS, whose files the host can reach.
pub const STORAGE: u32 = 0x8000_0000;

fn arg(args: &[String], i: usize, default: Option<u32>) -> u32 {
    match args.get(i).map(|a| a.parse::<u32>()) {
        Some(Ok(v)) => v,
        None if default.is_some() => default.unwrap_or(0),
        _ => {
            println!("usage: oxtee-xtest storage-loop N RECORD [GENS] | storage-verify N | storage-check N");
            std::process::exit(2);
        }
    }
}

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

fn write_loop(n: u32, record: u32, gens: u32) -> ! {
    let ctx = context("storage-loop");
    let mut ta = session(&ctx, "storage-loop");
    println!("storage-loop: started ({n} objects of {record} bytes)");
    let mut done = 0u32;
    while gens == 0 || done < gens {
        let mut o = Operation::new(
            0,
            ParamValue::new(STORAGE, n, Dir::In),
            ParamValue::new(1, record, Dir::In),
            ParamValue::new(0, 0, Dir::InOut),
            ParamNone::new(),
        );
        let r = ta.invoke_command(s::CMD_WRITE_LOOP, &mut o);
        if let Err(e) = r {
            println!("storage-loop: FAIL after {done} generations: {e}");
            std::process::exit(1);
        }
        let g = o.parameters()[2].value().map_or(0, |v| v.0);
        println!("storage-loop: generation {g} done");
        done += 1;
    }
    std::process::exit(0);
}

fn verify(n: u32) -> ! {
    let ctx = context("storage-verify");
    let mut ta = session(&ctx, "storage-verify");
    let mut o = Operation::new(
        0,
        ParamValue::new(STORAGE, n, Dir::In),
        ParamValue::new(0, 0, Dir::Out),
        ParamValue::new(0, 0, Dir::Out),
        ParamNone::new(),
    );
    match ta.invoke_command(s::CMD_VERIFY, &mut o) {
        Ok(()) => {
            let (hi, lo) = o.parameters()[1].value().unwrap_or_default();
            let (present, first_lower) = o.parameters()[2].value().unwrap_or_default();
            println!("storage-verify: ok highest={hi} lowest={lo} present={present} first_lower={first_lower}");
            std::process::exit(0);
        }
        Err(e) => {
            println!("storage-verify: FAIL {e}");
            std::process::exit(1);
        }
    }
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

fn check_all(n: u32) -> ! {
    let ctx = context("storage-check");
    let mut ta = session(&ctx, "storage-check");
    for i in 0..n {
        let (c, g) = check_one(&mut ta, i);
        let g = g.map_or("-".to_string(), |g| g.to_string());
        println!("storage-check: wl-{i} {c:#010x} gen={g}");
    }
    println!("storage-check: done");
    std::process::exit(0);
}

/// `oxtee-xtest storage-*`: never returns.
pub fn main(args: &[String]) -> ! {
    match args.get(1).map(String::as_str) {
        Some("storage-loop") => write_loop(arg(args, 2, None), arg(args, 3, None), arg(args, 4, Some(0))),
        Some("storage-verify") => verify(arg(args, 2, None)),
        Some("storage-check") => check_all(arg(args, 2, None)),
        _ => {
            arg(&[], 0, None);
            std::process::exit(2);
        }
    }
}
