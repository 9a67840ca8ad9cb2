//! `example-random`: asks the random TA for random bytes twice and
//! checks each answer looks random and the two differ; that a request
//! over the TA's limit is refused. Exits 0 only if every check passed.
#![forbid(unsafe_code)]

use oxtee_teec::{Context, Operation, ParamNone, ParamTmpRef, Session, Uuid};
use random_proto as proto;
use std::process::ExitCode;

/// `len` random bytes from the TA.
fn generate(session: &mut Session, len: usize) -> Result<Vec<u8>, oxtee_teec::Error> {
    let mut buf = vec![0u8; len];
    let mut op =
        Operation::new(0, ParamTmpRef::new_output(&mut buf), ParamNone::new(), ParamNone::new(), ParamNone::new());
    session.invoke_command(proto::CMD_GENERATE, &mut op)?;
    Ok(buf)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run() -> Result<(), String> {
    let uuid = Uuid::parse(proto::UUID).ok_or("random-proto: bad UUID")?;
    let ctx = Context::new().map_err(|e| format!("TEEC_InitializeContext: {e}"))?;
    let mut session = ctx.open_session(uuid).map_err(|e| format!("open session to {uuid}: {e}"))?;
    let a = generate(&mut session, proto::MAX_LEN).map_err(|e| format!("generate: {e}"))?;
    let b = generate(&mut session, 1024).map_err(|e| format!("generate: {e}"))?;
    println!("example-random: {} bytes: {}...", a.len(), hex(&a[..16]));
    println!("example-random: {} bytes: {}...", b.len(), hex(&b[..16]));
    proto::looks_random(&a).map_err(|e| format!("first answer: {e}"))?;
    proto::looks_random(&b).map_err(|e| format!("second answer: {e}"))?;
    if a[..1024] == b[..] {
        return Err("two answers are the same".into());
    }
    match generate(&mut session, proto::MAX_LEN + 1) {
        Err(e) if e.code == oxtee_teec::TEEC_ERROR_BAD_PARAMETERS => {
            println!("example-random: {} bytes refused ({e})", proto::MAX_LEN + 1);
            Ok(())
        }
        other => Err(format!("oversized request: want TEE_ERROR_BAD_PARAMETERS, got {:?}", other.map(|v| v.len()))),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("example-random: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("example-random: FAIL {e}");
            ExitCode::FAILURE
        }
    }
}
