//! The TA `docs/troubleshooting.md` reproduces the common mistakes with:
//! written as a first TA would be (a small stack and heap, commands that
//! check their parameter types), with commands that run into each limit.
//! Not installed by `cargo xtask tas`; build, sign and `--add` it as
//! ta/README.md describes (the commands are in docs/troubleshooting.md).
//!
//! - 0 `CMD_DOUBLE`: p0 value inout, `a` doubled;
//! - 1 `CMD_GREETING`: p0 memref out, gets a 31-byte greeting
//!   (`ShortBuffer` with the size needed if it is shorter);
//! - 2 `CMD_ALLOC`: p0 value in, allocates `a` bytes the ordinary way
//!   (`vec!`, which panics when the heap, `data_size`, is exhausted);
//! - 3 `CMD_RECURSE`: p0 value in, recurses `a` levels of 1 KiB frames
//!   (a stack overflow beyond `stack_size`);
//! - 4 `CMD_PANIC`: `panic!` with a message.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use core::hint::black_box;
use oxtee_utee::{
    ErrorKind, ParamType, Parameters, Result, ta_close_session, ta_create, ta_destroy, ta_invoke_command,
    ta_open_session,
};

oxtee_utee::ta_config! {
    uuid: "7d68de4d-3e4a-4786-93c5-20bf8e15a0f5",
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 8 * 1024,
    data_size: 16 * 1024,
    version: "1.0",
    description: "pitfalls: the common mistakes, on purpose",
}

const CMD_DOUBLE: u32 = 0;
const CMD_GREETING: u32 = 1;
const CMD_ALLOC: u32 = 2;
const CMD_RECURSE: u32 = 3;
const CMD_PANIC: u32 = 4;

const GREETING: &[u8] = b"hello from the pitfalls TA (31)";

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters) -> Result<()> {
    Ok(())
}

#[ta_close_session]
fn close_session() {}

/// Sums a 1 KiB frame per level, so the compiler keeps every frame.
fn recurse(depth: u32) -> u64 {
    let frame = black_box([depth as u8; 1024]);
    if depth == 0 {
        return frame[0] as u64;
    }
    recurse(depth - 1) + frame.iter().map(|&b| b as u64).sum::<u64>()
}

#[ta_invoke_command]
fn invoke_command(cmd: u32, params: &mut Parameters) -> Result<()> {
    use ParamType::{MemrefOutput, None as Nil, ValueInout, ValueInput};
    match cmd {
        CMD_DOUBLE => {
            params.check_types(ValueInout, Nil, Nil, Nil)?;
            let mut v = params.0.as_value()?;
            v.set_a(v.a().wrapping_mul(2));
            Ok(())
        }
        CMD_GREETING => {
            params.check_types(MemrefOutput, Nil, Nil, Nil)?;
            let mut out = params.0.as_memref()?;
            let buf = out.buffer();
            if buf.len() < GREETING.len() {
                out.set_updated_size(GREETING.len());
                return Err(ErrorKind::ShortBuffer.into());
            }
            buf[..GREETING.len()].copy_from_slice(GREETING);
            out.set_updated_size(GREETING.len());
            Ok(())
        }
        CMD_ALLOC => {
            params.check_types(ValueInput, Nil, Nil, Nil)?;
            let v = alloc::vec![1u8; params.0.as_value()?.a() as usize];
            black_box(&v);
            Ok(())
        }
        CMD_RECURSE => {
            params.check_types(ValueInput, Nil, Nil, Nil)?;
            black_box(recurse(params.0.as_value()?.a()));
            Ok(())
        }
        CMD_PANIC => panic!("pitfalls: CMD_PANIC asked for it"),
        _ => Err(ErrorKind::NotSupported.into()),
    }
}
