//! example-hotp: registers the secret of RFC 4226 appendix D with the
//! hotp TA and checks the ten HOTP values it answers against the RFC's
//! table; also that a second session has its own counter and that the TA
//! refuses a value before a secret and a secret that is too short.
//! Exits 0 only if every check passed.
#![forbid(unsafe_code)]

use hotp_proto::{CMD_GET_HOTP, CMD_REGISTER_SHARED_KEY, MIN_KEY_SIZE};
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamTmpRef, ParamValue, Session, Uuid};
use std::process::ExitCode;

/// RFC 4226 appendix D: the secret ...
const SECRET: &[u8; 20] = b"12345678901234567890";
/// ... and HOTP values for counters 0 to 9.
const EXPECTED: [u32; 10] = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];

const TEE_ERROR_BAD_PARAMETERS: u32 = 0xffff_0006;
const TEE_ERROR_BAD_STATE: u32 = 0xffff_0007;

fn register(session: &mut Session, key: &[u8]) -> oxtee_teec::Result<()> {
    let mut buf = key.to_vec();
    let mut op =
        Operation::new(0, ParamTmpRef::new_input(&mut buf), ParamNone::new(), ParamNone::new(), ParamNone::new());
    session.invoke_command(CMD_REGISTER_SHARED_KEY, &mut op)
}

fn get_hotp(session: &mut Session) -> oxtee_teec::Result<u32> {
    let mut op =
        Operation::new(0, ParamValue::new(0, 0, Dir::Out), ParamNone::new(), ParamNone::new(), ParamNone::new());
    session.invoke_command(CMD_GET_HOTP, &mut op)?;
    Ok(op.parameters()[0].value().map_or(u32::MAX, |(a, _)| a))
}

struct Checks {
    failed: u32,
}

impl Checks {
    fn check(&mut self, what: &str, ok: bool) {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            self.failed += 1;
        }
    }
}

fn run() -> oxtee_teec::Result<u32> {
    let mut c = Checks { failed: 0 };
    let uuid = Uuid::parse(hotp_proto::UUID).ok_or(oxtee_teec::Error::api(oxtee_teec::TEEC_ERROR_BAD_PARAMETERS))?;
    let ctx = Context::new()?;
    let mut s = ctx.open_session(uuid)?;
    println!("opened a session to the hotp TA {}", hotp_proto::UUID);

    let before = get_hotp(&mut s);
    c.check(
        &format!("a value before any secret is refused: {before:?}"),
        before.is_err_and(|e| e.code == TEE_ERROR_BAD_STATE),
    );
    let short = register(&mut s, &SECRET[..MIN_KEY_SIZE - 1]);
    c.check(
        &format!("a {}-byte secret is refused: {short:?}", MIN_KEY_SIZE - 1),
        short.is_err_and(|e| e.code == TEE_ERROR_BAD_PARAMETERS),
    );

    register(&mut s, SECRET)?;
    println!("registered the RFC 4226 secret \"12345678901234567890\"");
    for (count, want) in EXPECTED.iter().enumerate().take(5) {
        let got = get_hotp(&mut s)?;
        c.check(&format!("counter {count}: HOTP {got:06} (RFC 4226: {want:06})"), got == *want);
    }

    // Another session: its own secret and counter, from 0.
    let mut other = ctx.open_session(uuid)?;
    register(&mut other, SECRET)?;
    let first = get_hotp(&mut other)?;
    c.check(&format!("a second session starts at counter 0: {first:06}"), first == EXPECTED[0]);

    for (count, want) in EXPECTED.iter().enumerate().skip(5) {
        let got = get_hotp(&mut s)?;
        c.check(&format!("counter {count}: HOTP {got:06} (RFC 4226: {want:06})"), got == *want);
    }

    // Registering again resets the counter.
    register(&mut s, SECRET)?;
    let again = get_hotp(&mut s)?;
    c.check(&format!("registering again restarts at counter 0: {again:06}"), again == EXPECTED[0]);
    Ok(c.failed)
}

fn main() -> ExitCode {
    match run() {
        Ok(0) => {
            println!("example-hotp: all checks passed");
            ExitCode::SUCCESS
        }
        Ok(n) => {
            println!("example-hotp: {n} check(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("example-hotp: {e}");
            ExitCode::FAILURE
        }
    }
}
