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
