//! `example-digest`: has the digest TA hash data of several sizes, at
//! once and in pieces, and compares every answer with SHA-256 computed
//! here (RustCrypto's `sha2`) and, for "abc", with the known answer; a
//! too small digest buffer gets `TEE_ERROR_SHORT_BUFFER` with the size
//! needed. Exits 0 only if every check passed.
#![forbid(unsafe_code)]

use digest_proto as proto;
use oxtee_teec::{Context, Dir, Operation, ParamNone, ParamTmpRef, ParamValue, Session, Uuid};
use sha2::Digest;
use std::process::ExitCode;

/// The TA's SHA-256 of `data` fed in pieces of `chunk` bytes, into an
/// `out_len`-byte buffer: the digest, or the error with the size the TA
/// reported.
fn ta_sha256(
    session: &mut Session,
    data: &[u8],
    chunk: u32,
    out_len: usize,
) -> Result<Vec<u8>, (oxtee_teec::Error, usize)> {
    let mut input = data.to_vec();
    let mut out = vec![0u8; out_len];
    let mut op = Operation::new(
        0,
        ParamTmpRef::new_input(&mut input),
        ParamTmpRef::new_output(&mut out),
        ParamValue::new(chunk, 0, Dir::In),
        ParamNone::new(),
    );
    let r = session.invoke_command(proto::CMD_SHA256, &mut op);
    let size = op.parameters()[1].size().unwrap_or(0);
    r.map_err(|e| (e, size))?;
    out.truncate(size);
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run() -> Result<(), String> {
    let uuid = Uuid::parse(proto::UUID).ok_or("digest-proto: bad UUID")?;
    let ctx = Context::new().map_err(|e| format!("TEEC_InitializeContext: {e}"))?;
    let mut session = ctx.open_session(uuid).map_err(|e| format!("open session to {uuid}: {e}"))?;
    let abc = ta_sha256(&mut session, b"abc", 0, proto::DIGEST_LEN).map_err(|(e, _)| format!("\"abc\": {e}"))?;
    if abc != proto::ABC_SHA256 {
        return Err(format!("SHA-256(\"abc\") = {}, want {}", hex(&abc), hex(&proto::ABC_SHA256)));
    }
    println!("example-digest: SHA-256(\"abc\") = {} (known answer)", hex(&abc));
    let data: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut checks = 0;
    for len in [0, 1, 55, 56, 64, 1000, 5000] {
        let want = sha2::Sha256::digest(&data[..len]);
        for chunk in [0, 1, 63, 64, 100] {
            if chunk == 1 && len > 1000 {
                continue;
            }
            let got = ta_sha256(&mut session, &data[..len], chunk, proto::DIGEST_LEN)
                .map_err(|(e, _)| format!("{len} bytes in pieces of {chunk}: {e}"))?;
            if got != want.as_slice() {
                return Err(format!("{len} bytes in pieces of {chunk}: TA {}, host {}", hex(&got), hex(&want)));
            }
            checks += 1;
        }
    }
    println!("example-digest: {checks} digests (0..5000 bytes, at once and in pieces) match the host's SHA-256");
    match ta_sha256(&mut session, b"abc", 0, 16) {
        Err((e, size)) if e.code == oxtee_teec::TEEC_ERROR_SHORT_BUFFER && size == proto::DIGEST_LEN => {
            println!("example-digest: a 16-byte buffer: short buffer, {size} bytes needed");
            Ok(())
        }
        other => Err(format!("16-byte buffer: want TEE_ERROR_SHORT_BUFFER and 32, got {other:?}")),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("example-digest: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("example-digest: FAIL {e}");
            ExitCode::FAILURE
        }
    }
}
