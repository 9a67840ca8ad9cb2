//! oxtee's dynamic-linking test TA (protocol in `oxtee_abi::dl_test_ta`):
//! its calls into the shared library `lib/dltest_lib.c`, which it names in
//! `DT_NEEDED`, and the library's call back into it work only if the OS
//! loaded and linked the pair as upstream's loader does.
#![no_std]
#![no_main]

mod lib_ffi;

use oxtee_abi::dl_test_ta as d;
use oxtee_utee::{
    ErrorKind, ParamType, Parameters, Result, Uuid, ta_close_session, ta_create, ta_destroy, ta_invoke_command,
    ta_open_session,
};

oxtee_utee::ta_config! {
    uuid: Uuid::from_abi(d::UUID),
    flags: 0,
    stack_size: d::STACK_SIZE,
    data_size: d::DATA_SIZE as usize,
    version: "1.0",
    description: "oxtee dynamic-linking test TA",
    properties: {},
}

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

#[ta_invoke_command]
fn invoke_command(cmd: u32, p: &mut Parameters) -> Result<()> {
    if cmd != d::CMD_RUN {
        return Err(ErrorKind::NotSupported.into());
    }
    p.check_types(ParamType::ValueInput, ParamType::ValueOutput, ParamType::ValueOutput, ParamType::None)?;
    let (a, b) = {
        let v = p.0.as_value()?;
        (v.a(), v.b())
    };
    let sum = lib_ffi::add(u64::from(a), u64::from(b));
    let back = lib_ffi::call_back(u64::from(a));
    let mut out = p.1.as_value()?;
    out.set_a(sum as u32);
    out.set_b(back as u32);
    let mut out = p.2.as_value()?;
    out.set_a(lib_ffi::counter() as u32);
    out.set_b(u32::from(lib_ffi::pointers_agree() && lib_ffi::weak_is_null()));
    Ok(())
}
