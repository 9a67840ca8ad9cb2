//! `example-hello_world`: opens a session to the hello_world TA, sends it
//! a value to increment and then to decrement, and checks the answers;
//! also that the TA refuses an unknown command. Exits 0 only if every
//! check passed.
#![forbid(unsafe_code)]

use hello_world_proto as proto;
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamValue, Session, Uuid};
use std::process::ExitCode;

/// Invokes `cmd` with `a` as p0 value in/out; the TA's new `a`.
fn call(session: &mut Session, cmd: u32, a: u32) -> Result<u32, oxtee_teec::Error> {
    let mut op =
        Operation::new(0, ParamValue::new(a, 0, Dir::InOut), ParamNone::new(), ParamNone::new(), ParamNone::new());
    session.invoke_command(cmd, &mut op)?;
    Ok(op.parameters()[0].value().map_or(a, |(a, _)| a))
}

fn run() -> Result<(), String> {
    let uuid = Uuid::parse(proto::UUID).ok_or("hello_world-proto: bad UUID")?;
    let ctx = Context::new().map_err(|e| format!("TEEC_InitializeContext: {e}"))?;
    let mut session = ctx.open_session(uuid).map_err(|e| format!("open session to {uuid}: {e}"))?;
    println!("example-hello_world: session open to TA {uuid}");
    let mut value = 42;
    for (cmd, what) in [(proto::CMD_INC_VALUE, "incremented"), (proto::CMD_DEC_VALUE, "decremented")] {
        let got = call(&mut session, cmd, value).map_err(|e| format!("command {cmd}: {e}"))?;
        let want = proto::expected(cmd, value).ok_or("no such command")?;
        println!("example-hello_world: {what} {value} -> {got}");
        if got != want {
            return Err(format!("command {cmd} on {value}: got {got}, want {want}"));
        }
        value = got;
    }
    match call(&mut session, 99, value) {
        Err(e) if e.code == oxtee_teec::TEEC_ERROR_NOT_SUPPORTED => {
            println!("example-hello_world: unknown command refused ({e})");
            Ok(())
        }
        other => Err(format!("unknown command: want TEE_ERROR_NOT_SUPPORTED, got {other:?}")),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("example-hello_world: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("example-hello_world: FAIL {e}");
            ExitCode::FAILURE
        }
    }
}
