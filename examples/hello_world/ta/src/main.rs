//! The hello-world TA: the UUID and commands of optee_examples'
//! `hello_world` (from `hello_world-proto`), so its client
//! (`optee_example_hello_world`) works against it unchanged.
//!
//! - `CMD_INC_VALUE`: p0 value inout, `a` is incremented;
//! - `CMD_DEC_VALUE`: p0 value inout, `a` is decremented.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use hello_world_proto as proto;
use oxtee_utee::{
    ErrorKind, ParamType, Parameters, Result, ta_close_session, ta_create, ta_destroy, ta_invoke_command,
    ta_open_session, trace_println,
};

oxtee_utee::ta_config! {
    uuid: proto::UUID,
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 2 * 1024,
    data_size: 32 * 1024,
    version: "1.0",
    description: "Hello World TA (oxtee)",
}

#[ta_create]
fn create() -> Result<()> {
    trace_println!("hello: instance created");
    Ok(())
}

#[ta_destroy]
fn destroy() {
    trace_println!("hello: instance destroyed");
}

#[ta_open_session]
fn open_session(_params: &mut Parameters) -> Result<()> {
    trace_println!("hello: session opened");
    Ok(())
}

#[ta_close_session]
fn close_session() {
    trace_println!("hello: session closed");
}

#[ta_invoke_command]
fn invoke_command(cmd: u32, params: &mut Parameters) -> Result<()> {
    params.check_types(ParamType::ValueInout, ParamType::None, ParamType::None, ParamType::None)?;
    let mut value = params.0.as_value()?;
    let a = value.a();
    let new = match cmd {
        proto::CMD_INC_VALUE => a.wrapping_add(1),
        proto::CMD_DEC_VALUE => a.wrapping_sub(1),
        _ => return Err(ErrorKind::NotSupported.into()),
    };
    trace_println!("hello: value {a} -> {new}");
    value.set_a(new);
    Ok(())
}

/// Host tests: `cargo test -p hello_world-ta` (in `examples/`) runs the
/// entry points in a simulated TEE (see ../../../ta/README.md, "Testing a
/// TA on the host").
#[cfg(test)]
mod tests {
    use super::proto;
    use oxtee_utee::sim::{Origin, Param, Sim, TeeResult};

    #[test]
    fn increments_and_decrements() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut p = [Param::value_inout(42, 0)];
        s.invoke(proto::CMD_INC_VALUE, &mut p).unwrap();
        assert_eq!(p[0].a(), 43);
        s.invoke(proto::CMD_DEC_VALUE, &mut p).unwrap();
        s.invoke(proto::CMD_DEC_VALUE, &mut p).unwrap();
        assert_eq!(p[0].a(), 41);
        let mut p = [Param::value_inout(u32::MAX, 0)];
        s.invoke(proto::CMD_INC_VALUE, &mut p).unwrap();
        assert_eq!(Some(p[0].a()), proto::expected(proto::CMD_INC_VALUE, u32::MAX));
    }

    #[test]
    fn refuses_other_commands_and_parameters() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let err = s.invoke(2, &mut [Param::value_inout(0, 0)]).unwrap_err();
        assert_eq!((err.code, err.origin), (TeeResult::ERROR_NOT_SUPPORTED, Origin::TrustedApp));
        let err = s.invoke(proto::CMD_INC_VALUE, &mut [Param::value_input(1, 0)]).unwrap_err();
        assert_eq!(err.code, TeeResult::ERROR_BAD_PARAMETERS);
    }
}
