//! The random TA: fills the client's buffer with the TEE's random bytes
//! (`TEE_GenerateRandom`, the secure world's DRBG).
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use oxtee_utee::{
    ErrorKind, ParamType, Parameters, Random, Result, ta_close_session, ta_create, ta_destroy, ta_invoke_command,
    ta_open_session, trace_println,
};
use random_proto as proto;

oxtee_utee::ta_config! {
    uuid: proto::UUID,
    flags: 0,
    stack_size: 4 * 1024,
    data_size: 16 * 1024,
    version: "1.0",
    description: "Random example TA",
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
fn invoke_command(cmd: u32, params: &mut Parameters) -> Result<()> {
    if cmd != proto::CMD_GENERATE {
        return Err(ErrorKind::NotSupported.into());
    }
    params.check_types(ParamType::MemrefOutput, ParamType::None, ParamType::None, ParamType::None)?;
    let mut out = params.0.as_memref()?;
    let buf = out.buffer();
    if buf.len() > proto::MAX_LEN {
        return Err(ErrorKind::BadParameters.into());
    }
    Random::generate(buf);
    trace_println!("random: {} bytes", buf.len());
    Ok(())
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p random-ta` in `examples/`.
#[cfg(test)]
mod tests {
    use super::proto;
    use oxtee_utee::sim::{Param, Sim, TeeResult};

    #[test]
    fn fills_the_buffer_with_random_bytes() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let (mut a, mut b) = ([0u8; 2048], [0u8; 2048]);
        s.invoke(proto::CMD_GENERATE, &mut [Param::memref_output(&mut a)]).unwrap();
        s.invoke(proto::CMD_GENERATE, &mut [Param::memref_output(&mut b)]).unwrap();
        proto::looks_random(&a).unwrap();
        assert_ne!(a, b);
        let mut big = vec![0u8; proto::MAX_LEN + 1];
        let err = s.invoke(proto::CMD_GENERATE, &mut [Param::memref_output(&mut big)]).unwrap_err();
        assert_eq!(err.code, TeeResult::ERROR_BAD_PARAMETERS);
    }
}
