//! The ta2ta example's caller TA: opens a session to the callee TA (GP
//! `TEE_OpenTASession`, SDK `TaSession`) at its first command and keeps
//! it for the rest of its own session, hands its client's buffer on to
//! the callee as a memref, and answers what the callee answered.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use oxtee_utee::{
    ErrorKind, ParamType, Parameters, Result, TIMEOUT_INFINITE, TaSession, TeeParam, TeeParams, Uuid, ta_close_session,
    ta_create, ta_destroy, ta_invoke_command, ta_open_session, trace_println,
};
use ta2ta_proto::{CALLEE_CMD_ROT13, CMD_OPEN_MISSING, CMD_ROT13_VIA_CALLEE, MAX_DATA};

const CALLEE: Uuid = Uuid::parse_const(ta2ta_proto::CALLEE_UUID);
const MISSING: Uuid = Uuid::parse_const(ta2ta_proto::MISSING_UUID);

oxtee_utee::ta_config! {
    uuid: ta2ta_proto::UUID,
    flags: MULTI_SESSION,
    stack_size: 8 * 1024,
    data_size: 32 * 1024,
    version: "1.0",
    description: "oxtee example: TA-to-TA caller",
}

/// The session to the callee, once opened.
#[derive(Default)]
struct Session {
    callee: Option<TaSession>,
}

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters, _session: &mut Session) -> Result<()> {
    Ok(())
}

/// Dropping the session state closes the callee session.
#[ta_close_session]
fn close_session(_session: &mut Session) {}

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd: u32, params: &mut Parameters) -> Result<()> {
    match cmd {
        CMD_ROT13_VIA_CALLEE => {
            params.check_types(ParamType::MemrefInout, ParamType::ValueOutput, ParamType::None, ParamType::None)?;
            rot13_via_callee(session, params)
        }
        CMD_OPEN_MISSING => {
            params.check_types(ParamType::ValueOutput, ParamType::None, ParamType::None, ParamType::None)?;
            let (code, origin) = match TaSession::open(MISSING) {
                Ok(_) => (0, 0),
                Err(e) => (e.raw_code(), e.origin().map_or(0, |o| o as u32)),
            };
            trace_println!("ta2ta caller: opening a missing TA gave {code:#x} (origin {origin})");
            let mut v = params.0.as_value()?;
            v.set_a(code);
            v.set_b(origin);
            Ok(())
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

fn rot13_via_callee(session: &mut Session, params: &mut Parameters) -> Result<()> {
    if session.callee.is_none() {
        let callee = TaSession::open_with(CALLEE, TIMEOUT_INFINITE, &mut TeeParams::empty())?;
        trace_println!("ta2ta caller: opened a session to the callee");
        session.callee = Some(callee);
    }
    let callee = session.callee.as_mut().ok_or(ErrorKind::BadState)?;
    let mut m = params.0.as_memref()?;
    let data = m.buffer();
    if data.len() > MAX_DATA {
        return Err(ErrorKind::BadParameters.into());
    }
    let len = data.len();
    // The client's buffer (a copy in this TA's memory) goes on as it is.
    let mut p =
        TeeParams::new(TeeParam::memref_inout(data), TeeParam::value_output(), TeeParam::none(), TeeParam::none());
    callee.invoke_command(CALLEE_CMD_ROT13, &mut p)?;
    let (a, b) = p.0[1].value().ok_or(ErrorKind::Generic)?;
    let produced = p.0[0].size().ok_or(ErrorKind::Generic)?;
    if produced != len {
        return Err(ErrorKind::Generic.into());
    }
    m.set_updated_size(produced);
    trace_println!("ta2ta caller: the callee changed {a} of {len} bytes (its call {b})");
    let mut v = params.1.as_value()?;
    v.set_a(a);
    v.set_b(b);
    Ok(())
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p ta2ta-ta` in `examples/`. The callee is a
/// mock here (its own crate is another TA binary), serving
/// `CALLEE_CMD_ROT13` with the proto's `rot13`.
#[cfg(test)]
mod tests {
    use super::*;
    use oxtee_utee::sim::{MockParam, Origin, Param, Sim, TeeResult};

    fn sim_with_callee() -> Sim {
        let sim = Sim::new();
        let mut calls = 0;
        sim.add_ta(ta2ta_proto::CALLEE_UUID, 0, move |cmd, p: &mut [MockParam; 4]| {
            if cmd != CALLEE_CMD_ROT13 {
                return Err(TeeResult::ERROR_NOT_SUPPORTED.0);
            }
            let MockParam::Memref(data) = &mut p[0] else { return Err(TeeResult::ERROR_BAD_PARAMETERS.0) };
            let changed = ta2ta_proto::rot13(data);
            calls += 1;
            p[1] = MockParam::Value { a: changed, b: calls };
            Ok(())
        });
        sim
    }

    #[test]
    fn rot13_through_the_callee() {
        let sim = sim_with_callee();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut data = *b"Hello, TA-to-TA!";
        let mut p = [Param::memref_inout(&mut data), Param::value_output()];
        s.invoke(CMD_ROT13_VIA_CALLEE, &mut p).unwrap();
        assert_eq!((p[1].a(), p[1].b()), (11, 1));
        assert_eq!(&data, b"Uryyb, GN-gb-GN!");
        let mut p = [Param::memref_inout(&mut data), Param::value_output()];
        s.invoke(CMD_ROT13_VIA_CALLEE, &mut p).unwrap();
        assert_eq!(p[1].b(), 2, "the caller keeps its session to the callee");
        assert_eq!(&data, b"Hello, TA-to-TA!");
    }

    #[test]
    fn a_missing_ta_is_not_found_by_the_tee() {
        let sim = sim_with_callee();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut p = [Param::value_output()];
        s.invoke(CMD_OPEN_MISSING, &mut p).unwrap();
        assert_eq!((p[0].a(), p[0].b()), (TeeResult::ERROR_ITEM_NOT_FOUND.0, Origin::Tee as u32));
    }
}
