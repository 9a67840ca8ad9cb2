//! The hotp example TA (RFC 4226 HMAC-based one-time passwords, as
//! optee_examples' `hotp`): the client registers a shared secret, then
//! each `CMD_GET_HOTP` answers the next value. The secret and the counter
//! stay in the TA (per session); HMAC-SHA-1 is the TEE's (SDK `Mac`).
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use hotp_proto::{CMD_GET_HOTP, CMD_REGISTER_SHARED_KEY, DIGITS, MAX_KEY_SIZE, MIN_KEY_SIZE};
use oxtee_utee::{
    AlgorithmId, AttributeId, AttributeMemref, ErrorKind, Mac, ParamType, Parameters, Result, TransientObject,
    TransientObjectType, ta_close_session, ta_create, ta_destroy, ta_invoke_command, ta_open_session, trace_println,
};

oxtee_utee::ta_config! {
    uuid: hotp_proto::UUID,
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 8 * 1024,
    data_size: 32 * 1024,
    version: "1.0",
    description: "oxtee example: HOTP (RFC 4226)",
}

/// One client's secret and moving factor.
#[derive(Default)]
struct Session {
    key: Option<Vec<u8>>,
    counter: u64,
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

#[ta_close_session]
fn close_session(_session: &mut Session) {}

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd: u32, params: &mut Parameters) -> Result<()> {
    match cmd {
        CMD_REGISTER_SHARED_KEY => register_shared_key(session, params),
        CMD_GET_HOTP => get_hotp(session, params),
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

fn register_shared_key(session: &mut Session, params: &mut Parameters) -> Result<()> {
    params.check_types(ParamType::MemrefInput, ParamType::None, ParamType::None, ParamType::None)?;
    let mut m = params.0.as_memref()?;
    let key = m.buffer();
    if key.len() < MIN_KEY_SIZE || key.len() > MAX_KEY_SIZE {
        return Err(ErrorKind::BadParameters.into());
    }
    let mut stored = Vec::new();
    stored.try_reserve_exact(key.len()).map_err(|_| ErrorKind::OutOfMemory)?;
    stored.extend_from_slice(key);
    session.key = Some(stored);
    session.counter = 0;
    trace_println!("hotp: registered a {}-byte secret, counter 0", key.len());
    Ok(())
}

fn get_hotp(session: &mut Session, params: &mut Parameters) -> Result<()> {
    params.check_types(ParamType::ValueOutput, ParamType::None, ParamType::None, ParamType::None)?;
    let key = session.key.as_deref().ok_or(ErrorKind::BadState)?;
    let mac = hmac_sha1(key, &session.counter.to_be_bytes())?;
    let hotp = hotp_proto::truncate(&mac, DIGITS);
    params.0.as_value()?.set_a(hotp);
    trace_println!("hotp: counter {} -> {:06}", session.counter, hotp);
    session.counter += 1;
    Ok(())
}

/// HMAC-SHA-1(key, message) with the TEE's MAC operation.
fn hmac_sha1(key: &[u8], message: &[u8]) -> Result<[u8; 20]> {
    let bits = key.len() * 8;
    let mut obj = TransientObject::allocate(TransientObjectType::HmacSha1, bits)?;
    obj.populate(&[AttributeMemref::from_ref(AttributeId::SecretValue, key).into()])?;
    let op = Mac::allocate(AlgorithmId::HmacSha1, bits)?;
    op.set_key(&obj)?;
    op.init(&[]);
    let mut out = [0u8; 20];
    let n = op.compute_final(message, &mut out)?;
    if n != out.len() {
        return Err(ErrorKind::Generic.into());
    }
    Ok(out)
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p hotp-ta` in `examples/`.
#[cfg(test)]
mod tests {
    use super::*;
    use oxtee_utee::sim::{Param, Sim, TeeResult};

    #[test]
    fn rfc4226_appendix_d_values() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut p = [Param::value_output()];
        assert_eq!(s.invoke(CMD_GET_HOTP, &mut p).unwrap_err().code, TeeResult::ERROR_BAD_STATE);
        s.invoke(CMD_REGISTER_SHARED_KEY, &mut [Param::memref_input(b"12345678901234567890")]).unwrap();
        for want in [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489] {
            s.invoke(CMD_GET_HOTP, &mut p).unwrap();
            assert_eq!(p[0].a(), want);
        }
        let err = s.invoke(CMD_REGISTER_SHARED_KEY, &mut [Param::memref_input(b"short")]).unwrap_err();
        assert_eq!(err.code, TeeResult::ERROR_BAD_PARAMETERS);
    }
}
