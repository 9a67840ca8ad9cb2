//! The ta2ta example's callee TA: ROT13 of a buffer, for one client only,
//! the caller TA (its identity is checked when a session opens: login
//! `TEE_LOGIN_TRUSTED_APP` and the caller's UUID).
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use oxtee_utee::{
    ClientProperty, ErrorKind, ParamType, Parameters, Result, Uuid, ta_close_session, ta_create, ta_destroy,
    ta_invoke_command, ta_open_session, trace_println,
};
use ta2ta_proto::{CALLEE_CMD_ROT13, LOGIN_TRUSTED_APP};

const CALLER: Uuid = Uuid::parse_const(ta2ta_proto::UUID);

oxtee_utee::ta_config! {
    uuid: ta2ta_proto::CALLEE_UUID,
    flags: MULTI_SESSION,
    stack_size: 4 * 1024,
    data_size: 16 * 1024,
    version: "1.0",
    description: "oxtee example: TA-to-TA callee",
}

#[derive(Default)]
struct Session {
    calls: u32,
}

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters, _session: &mut Session) -> Result<()> {
    let client = ClientProperty::identity()?;
    if client.login != LOGIN_TRUSTED_APP || client.uuid != CALLER {
        trace_println!("ta2ta callee: refusing a client with login {:#x}", client.login);
        return Err(ErrorKind::AccessDenied.into());
    }
    trace_println!("ta2ta callee: session opened for the caller TA");
    Ok(())
}

#[ta_close_session]
fn close_session(_session: &mut Session) {
    trace_println!("ta2ta callee: session closed");
}

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd: u32, params: &mut Parameters) -> Result<()> {
    match cmd {
        CALLEE_CMD_ROT13 => {
            params.check_types(ParamType::MemrefInout, ParamType::ValueOutput, ParamType::None, ParamType::None)?;
            session.calls += 1;
            let changed = ta2ta_proto::rot13(params.0.as_memref()?.buffer());
            let mut v = params.1.as_value()?;
            v.set_a(changed);
            v.set_b(session.calls);
            Ok(())
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p ta2ta-callee-ta` in `examples/`. The
/// simulator's client logs in as a normal-world client (public), which
/// the callee refuses: it serves only the caller TA.
#[cfg(test)]
mod tests {
    use oxtee_utee::sim::{Origin, Sim, TeeResult};

    #[test]
    fn refuses_a_normal_world_client() {
        let sim = Sim::new();
        let err = sim.open_session(&mut []).err().unwrap();
        assert_eq!((err.code, err.origin), (TeeResult::ERROR_ACCESS_DENIED, Origin::TrustedApp));
        assert_eq!(sim.instances(), 0, "the failed open ended the instance");
    }
}
