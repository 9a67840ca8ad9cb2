//! The hello-world TA: the UUID and commands of optee_examples'
//! `hello_world`, so its client (`optee_example_hello_world`) works
//! against it unchanged.
//!
//! - command 0: p0 value inout, `a` is incremented;
//! - command 1: p0 value inout, `a` is decremented.
//!
//! Host tests (simulated TEE, see ta/README.md): `cd ta && cargo test -p
//! hello --target x86_64-unknown-linux-gnu`.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use oxtee_utee::{
    ErrorKind, ParamType, Parameters, Result, ta_close_session, ta_create, ta_destroy, ta_invoke_command,
    ta_open_session, trace_println,
};

oxtee_utee::ta_config! {
    uuid: "8aaaf200-2450-11e4-abe2-0002a5d5c51b",
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 2 * 1024,
    data_size: 32 * 1024,
    version: "1.0",
    description: "Hello World TA (oxtee)",
}

const CMD_INC_VALUE: u32 = 0;
const CMD_DEC_VALUE: u32 = 1;

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
        CMD_INC_VALUE => a.wrapping_add(1),
        CMD_DEC_VALUE => a.wrapping_sub(1),
        _ => return Err(ErrorKind::NotSupported.into()),
    };
    trace_println!("hello: value {a} -> {new}");
    value.set_a(new);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{CMD_DEC_VALUE, CMD_INC_VALUE};
    use oxtee_utee::sim::{Origin, Param, Sim, TeeResult};

    #[test]
    fn increments_and_decrements() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut p = [Param::value_inout(42, 0)];
        s.invoke(CMD_INC_VALUE, &mut p).unwrap();
        assert_eq!(p[0].a(), 43);
        s.invoke(CMD_DEC_VALUE, &mut p).unwrap();
        s.invoke(CMD_DEC_VALUE, &mut p).unwrap();
        assert_eq!(p[0].a(), 41);
        let mut p = [Param::value_inout(u32::MAX, 0)];
        s.invoke(CMD_INC_VALUE, &mut p).unwrap();
        assert_eq!(p[0].a(), 0, "wraps");
    }

    #[test]
    fn refuses_other_commands_and_parameters() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let err = s.invoke(2, &mut [Param::value_inout(0, 0)]).unwrap_err();
        assert_eq!((err.code, err.origin), (TeeResult::ERROR_NOT_SUPPORTED, Origin::TrustedApp));
        let err = s.invoke(CMD_INC_VALUE, &mut [Param::value_input(1, 0)]).unwrap_err();
        assert_eq!(err.code, TeeResult::ERROR_BAD_PARAMETERS);
    }
}
