//! The digest TA: SHA-256 of the client's data, at once or fed in pieces.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use digest_proto as proto;
use oxtee_utee::{
    AlgorithmId, Digest, ErrorKind, ParamType, Parameters, Result, ta_close_session, ta_create, ta_destroy,
    ta_invoke_command, ta_open_session,
};

oxtee_utee::ta_config! {
    uuid: proto::UUID,
    flags: 0,
    stack_size: 4 * 1024,
    data_size: 96 * 1024,
    version: "1.0",
    description: "Digest example TA",
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
    if cmd != proto::CMD_SHA256 {
        return Err(ErrorKind::NotSupported.into());
    }
    params.check_types(ParamType::MemrefInput, ParamType::MemrefOutput, ParamType::ValueInput, ParamType::None)?;
    let chunk = params.2.as_value()?.a() as usize;
    let mut data = params.0.as_memref()?;
    let data = data.buffer();
    if data.len() > proto::MAX_DATA {
        return Err(ErrorKind::BadParameters.into());
    }
    let mut out = params.1.as_memref()?;
    if out.buffer().len() < proto::DIGEST_LEN {
        out.set_updated_size(proto::DIGEST_LEN);
        return Err(ErrorKind::ShortBuffer.into());
    }
    let sha = Digest::allocate(AlgorithmId::Sha256)?;
    let last = if chunk == 0 {
        &data[..]
    } else {
        let mut pieces = data.chunks(chunk);
        let last = pieces.next_back().unwrap_or(&[]);
        for p in pieces {
            sha.update(p);
        }
        last
    };
    let n = sha.do_final(last, &mut out.buffer()[..proto::DIGEST_LEN])?;
    out.set_updated_size(n);
    Ok(())
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p digest-ta` in `examples/`.
#[cfg(test)]
mod tests {
    use super::proto;
    use oxtee_utee::sim::{Param, Sim, TeeResult};

    #[test]
    fn sha256_known_answer_whole_and_in_pieces() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        for chunk in [0, 1, 2] {
            let mut digest = [0u8; proto::DIGEST_LEN];
            let mut p = [Param::memref_input(b"abc"), Param::memref_output(&mut digest), Param::value_input(chunk, 0)];
            s.invoke(proto::CMD_SHA256, &mut p).unwrap();
            assert_eq!(p[1].size(), proto::DIGEST_LEN);
            assert_eq!(digest, proto::ABC_SHA256, "pieces of {chunk}");
        }
    }

    #[test]
    fn short_buffer_reports_the_size() {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut small = [0u8; 8];
        let mut p = [Param::memref_input(b"abc"), Param::memref_output(&mut small), Param::value_input(0, 0)];
        assert_eq!(s.invoke(proto::CMD_SHA256, &mut p).unwrap_err().code, TeeResult::ERROR_SHORT_BUFFER);
        assert_eq!(p[1].size(), proto::DIGEST_LEN);
    }
}
