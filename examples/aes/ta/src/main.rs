//! The aes TA: the client sets a key for its session, then encrypts or
//! decrypts with AES-CBC (no padding) or AES-CTR under it.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

extern crate alloc;

use aes_proto::{self as proto, Direction, Mode};
use alloc::vec::Vec;
use oxtee_utee::{
    AlgorithmId, AttributeId, AttributeMemref, Cipher, ErrorKind, OperationMode, ParamType, Parameters, Result,
    TransientObject, TransientObjectType, ta_close_session, ta_create, ta_destroy, ta_invoke_command, ta_open_session,
};

oxtee_utee::ta_config! {
    uuid: proto::UUID,
    flags: 0,
    stack_size: 8 * 1024,
    data_size: 64 * 1024,
    version: "1.0",
    description: "AES example TA",
}

/// The session's key and its size in bits, once set.
#[derive(Default)]
struct Session {
    key: Option<(TransientObject, usize)>,
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

fn set_key(session: &mut Session, params: &mut Parameters) -> Result<()> {
    params.check_types(ParamType::MemrefInput, ParamType::None, ParamType::None, ParamType::None)?;
    let mut key = params.0.as_memref()?;
    let key = key.buffer();
    if !proto::is_key_len(key.len()) {
        return Err(ErrorKind::BadParameters.into());
    }
    let mut object = TransientObject::allocate(TransientObjectType::Aes, key.len() * 8)?;
    object.populate(&[AttributeMemref::from_ref(AttributeId::SecretValue, key).into()])?;
    session.key = Some((object, key.len() * 8));
    Ok(())
}

fn cipher(session: &mut Session, params: &mut Parameters) -> Result<()> {
    params.check_types(
        ParamType::ValueInput,
        ParamType::MemrefInput,
        ParamType::MemrefInput,
        ParamType::MemrefOutput,
    )?;
    let (key, bits) = session.key.as_ref().ok_or(ErrorKind::BadState)?;
    let how = params.0.as_value()?;
    let (Some(mode), Some(dir)) = (Mode::from_u32(how.a()), Direction::from_u32(how.b())) else {
        return Err(ErrorKind::BadParameters.into());
    };
    let mut iv = params.1.as_memref()?;
    let mut input = params.2.as_memref()?;
    let mut output = params.3.as_memref()?;
    let (iv, input) = (iv.buffer(), input.buffer());
    if iv.len() != proto::BLOCK || !mode.takes(input.len()) {
        return Err(ErrorKind::BadParameters.into());
    }
    if output.buffer().len() < input.len() {
        output.set_updated_size(input.len());
        return Err(ErrorKind::ShortBuffer.into());
    }
    let alg = match mode {
        Mode::Cbc => AlgorithmId::AesCbcNopad,
        Mode::Ctr => AlgorithmId::AesCtr,
    };
    let op_mode = match dir {
        Direction::Encrypt => OperationMode::Encrypt,
        Direction::Decrypt => OperationMode::Decrypt,
    };
    let op = Cipher::allocate(alg, op_mode, *bits)?;
    op.set_key(key)?;
    op.init(iv);
    // In the TA's own memory first: the input and output memrefs may be
    // the same client buffer.
    let mut out = Vec::new();
    out.try_reserve_exact(input.len()).map_err(|_| ErrorKind::OutOfMemory)?;
    out.resize(input.len(), 0);
    let n = op.do_final(input, &mut out)?;
    output.buffer()[..n].copy_from_slice(&out[..n]);
    output.set_updated_size(n);
    Ok(())
}

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd: u32, params: &mut Parameters) -> Result<()> {
    match cmd {
        proto::CMD_SET_KEY => set_key(session, params),
        proto::CMD_CIPHER => cipher(session, params),
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p aes-ta` in `examples/`.
#[cfg(test)]
mod tests {
    use super::proto::{self, Direction, Mode};
    use oxtee_utee::sim::{Param, Sim, TeeResult};

    fn cipher(s: &mut oxtee_utee::sim::Session, mode: Mode, dir: Direction, iv: &[u8], input: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; input.len()];
        let mut p = [
            Param::value_input(mode as u32, dir as u32),
            Param::memref_input(iv),
            Param::memref_input(input),
            Param::memref_output(&mut out),
        ];
        s.invoke(proto::CMD_CIPHER, &mut p).unwrap();
        out
    }

    #[test]
    fn sp800_38a_answers_and_round_trips() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut out = [0u8; 16];
        let mut p = [
            Param::value_input(Mode::Cbc as u32, Direction::Encrypt as u32),
            Param::memref_input(&proto::KAT_CBC_IV),
            Param::memref_input(&proto::KAT_PLAIN[0]),
            Param::memref_output(&mut out),
        ];
        assert_eq!(s.invoke(proto::CMD_CIPHER, &mut p).unwrap_err().code, TeeResult::ERROR_BAD_STATE, "no key yet");
        s.invoke(proto::CMD_SET_KEY, &mut [Param::memref_input(&proto::KAT_KEY)]).unwrap();
        let plain = proto::KAT_PLAIN.concat();
        for (mode, iv, want) in [
            (Mode::Cbc, proto::KAT_CBC_IV, proto::KAT_CBC_CIPHER.concat()),
            (Mode::Ctr, proto::KAT_CTR_IV, proto::KAT_CTR_CIPHER.concat()),
        ] {
            let ct = cipher(&mut s, mode, Direction::Encrypt, &iv, &plain);
            assert_eq!(ct, want, "{mode:?}");
            assert_eq!(cipher(&mut s, mode, Direction::Decrypt, &iv, &ct), plain, "{mode:?}");
        }
    }
}
