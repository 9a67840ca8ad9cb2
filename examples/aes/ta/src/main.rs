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
