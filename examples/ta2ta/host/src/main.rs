//! example-ta2ta: sends a buffer to the ta2ta caller TA, which hands it on
//! to the callee TA (a TA-to-TA session) for ROT13; checks the data that
//! comes back, the callee's counters (one callee session per caller
//! session), that the callee refuses a normal-world client, and what
//! opening a TA that does not exist gives inside the TEE. Exits 0 only if
//! every check passed.
#![forbid(unsafe_code)]

use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamTmpRef, ParamValue, Session, Uuid};
use std::process::ExitCode;
use ta2ta_proto::{CMD_OPEN_MISSING, CMD_ROT13_VIA_CALLEE};

const TEE_ERROR_ACCESS_DENIED: u32 = 0xffff_0001;
const TEE_ERROR_ITEM_NOT_FOUND: u32 = 0xffff_0008;
const TEEC_ORIGIN_TRUSTED_APP: u32 = 4;

/// The buffer after the round trip, and the callee's (letters changed, calls).
fn via_callee(s: &mut Session, data: &[u8]) -> oxtee_teec::Result<(Vec<u8>, (u32, u32))> {
    let mut buf = data.to_vec();
    let mut op = Operation::new(
        0,
        ParamTmpRef::new_inout(&mut buf),
        ParamValue::new(0, 0, Dir::Out),
        ParamNone::new(),
        ParamNone::new(),
    );
    s.invoke_command(CMD_ROT13_VIA_CALLEE, &mut op)?;
    let size = op.parameters()[0].size().unwrap_or(0);
    let v = op.parameters()[1].value().unwrap_or((u32::MAX, u32::MAX));
    drop(op);
    buf.truncate(size);
    Ok((buf, v))
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
    let uuid = Uuid::parse(ta2ta_proto::UUID).ok_or(oxtee_teec::Error::api(oxtee_teec::TEEC_ERROR_BAD_PARAMETERS))?;
    let ctx = Context::new()?;
    let mut s = ctx.open_session(uuid)?;
    println!("opened a session to the ta2ta caller TA {}", ta2ta_proto::UUID);

    let text = b"Hello from the normal world!";
    let (out, (changed, calls)) = via_callee(&mut s, text)?;
    c.check(
        &format!("caller -> callee -> back: {:?}", String::from_utf8_lossy(&out)),
        out == b"Uryyb sebz gur abezny jbeyq!",
    );
    c.check(&format!("the callee changed {changed} letters (23), its call {calls} (1)"), changed == 23 && calls == 1);
    let (back, (_, calls)) = via_callee(&mut s, &out)?;
    c.check(
        &format!("again: {:?}, the callee's call {calls} in the same session (2)", String::from_utf8_lossy(&back)),
        back == text && calls == 2,
    );

    let big: Vec<u8> = (0..10_000u32).map(|i| (i % 128) as u8).collect();
    let (once, (changed, _)) = via_callee(&mut s, &big)?;
    let letters = big.iter().filter(|b| b.is_ascii_alphabetic()).count() as u32;
    let others_kept = big.iter().zip(&once).all(|(a, b)| a.is_ascii_alphabetic() != (a == b));
    let (twice, _) = via_callee(&mut s, &once)?;
    c.check(
        &format!("10000 bytes: {changed} letters changed ({letters}), the rest kept, twice gives the input back"),
        changed == letters && others_kept && twice == big,
    );

    // A new session of the caller: a new session to the callee.
    let mut s2 = ctx.open_session(uuid)?;
    let (_, (_, calls)) = via_callee(&mut s2, text)?;
    c.check(&format!("a second caller session has its own callee session: call {calls} (1)"), calls == 1);

    let mut op =
        Operation::new(0, ParamValue::new(0, 0, Dir::Out), ParamNone::new(), ParamNone::new(), ParamNone::new());
    s.invoke_command(CMD_OPEN_MISSING, &mut op)?;
    let (code, origin) = op.parameters()[0].value().unwrap_or((0, 0));
    c.check(
        &format!("in the TEE, opening a TA that does not exist gives {code:#x} (origin {origin})"),
        code == TEE_ERROR_ITEM_NOT_FOUND,
    );

    let direct = ctx
        .open_session(
            Uuid::parse(ta2ta_proto::CALLEE_UUID)
                .ok_or(oxtee_teec::Error::api(oxtee_teec::TEEC_ERROR_BAD_PARAMETERS))?,
        )
        .map(|_| ());
    c.check(
        &format!("the callee refuses the normal world: {direct:?}"),
        direct.is_err_and(|e| e.code == TEE_ERROR_ACCESS_DENIED && e.origin == TEEC_ORIGIN_TRUSTED_APP),
    );
    Ok(c.failed)
}

fn main() -> ExitCode {
    match run() {
        Ok(0) => {
            println!("example-ta2ta: all checks passed");
            ExitCode::SUCCESS
        }
        Ok(n) => {
            println!("example-ta2ta: {n} check(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("example-ta2ta: {e}");
            ExitCode::FAILURE
        }
    }
}
