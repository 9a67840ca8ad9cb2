//! `example-aes`: sets a key in the aes TA and checks NIST SP 800-38A's
//! known answers for AES-128-CBC and AES-128-CTR both ways, round trips
//! with 192- and 256-bit keys over several lengths, and the TA's refusals
//! (no key yet, a partial CBC block, a bad key length). Exits 0 only if
//! every check passed.
#![forbid(unsafe_code)]

use aes_proto::{self as proto, Direction, Mode};
use oxtee_teec::{Context, Dir, Error, Operation, ParamNone, ParamTmpRef, ParamValue, Session, Uuid};
use std::process::ExitCode;

/// GP's TEE_ERROR_BAD_STATE (oxtee-teec names only the TEEC_ codes).
const TEE_ERROR_BAD_STATE: u32 = 0xffff_0007;

fn set_key(session: &mut Session, key: &[u8]) -> Result<(), Error> {
    let mut key = key.to_vec();
    let mut op =
        Operation::new(0, ParamTmpRef::new_input(&mut key), ParamNone::new(), ParamNone::new(), ParamNone::new());
    session.invoke_command(proto::CMD_SET_KEY, &mut op)
}

fn cipher(session: &mut Session, mode: Mode, dir: Direction, iv: &[u8; 16], input: &[u8]) -> Result<Vec<u8>, Error> {
    let (mut iv, mut input) = (iv.to_vec(), input.to_vec());
    let mut out = vec![0u8; input.len()];
    let mut op = Operation::new(
        0,
        ParamValue::new(mode as u32, dir as u32, Dir::In),
        ParamTmpRef::new_input(&mut iv),
        ParamTmpRef::new_input(&mut input),
        ParamTmpRef::new_output(&mut out),
    );
    session.invoke_command(proto::CMD_CIPHER, &mut op)?;
    let size = op.parameters()[3].size().unwrap_or(0);
    out.truncate(size);
    Ok(out)
}

fn expect_code(what: &str, r: Result<impl std::fmt::Debug, Error>, code: u32) -> Result<(), String> {
    match r {
        Err(e) if e.code == code => {
            println!("example-aes: {what}: refused ({e})");
            Ok(())
        }
        other => Err(format!("{what}: want error {code:#x}, got {other:?}")),
    }
}

fn run() -> Result<(), String> {
    let uuid = Uuid::parse(proto::UUID).ok_or("aes-proto: bad UUID")?;
    let ctx = Context::new().map_err(|e| format!("TEEC_InitializeContext: {e}"))?;
    let mut s = ctx.open_session(uuid).map_err(|e| format!("open session to {uuid}: {e}"))?;
    let e = |what: &'static str| move |err: Error| format!("{what}: {err}");

    let no_key = cipher(&mut s, Mode::Ctr, Direction::Encrypt, &[0; 16], b"x");
    expect_code("cipher before a key is set", no_key, TEE_ERROR_BAD_STATE)?;

    set_key(&mut s, &proto::KAT_KEY).map_err(e("set the 128-bit key"))?;
    let plain = proto::KAT_PLAIN.concat();
    for (mode, iv, want) in
        [(Mode::Cbc, proto::KAT_CBC_IV, proto::KAT_CBC_CIPHER), (Mode::Ctr, proto::KAT_CTR_IV, proto::KAT_CTR_CIPHER)]
    {
        let want = want.concat();
        let got = cipher(&mut s, mode, Direction::Encrypt, &iv, &plain).map_err(e("encrypt"))?;
        if got != want {
            return Err(format!("AES-128-{mode:?} encrypt: not SP 800-38A's ciphertext"));
        }
        let back = cipher(&mut s, mode, Direction::Decrypt, &iv, &want).map_err(e("decrypt"))?;
        if back != plain {
            return Err(format!("AES-128-{mode:?} decrypt: not SP 800-38A's plaintext"));
        }
        println!("example-aes: AES-128-{mode:?}: NIST SP 800-38A known answer, both ways");
    }

    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut trips = 0;
    for key_len in [16, 24, 32] {
        let key: Vec<u8> = (0..key_len as u8).map(|i| i.wrapping_mul(29) ^ 0x5a).collect();
        set_key(&mut s, &key).map_err(e("set key"))?;
        let iv = [key_len as u8; 16];
        for (mode, len) in [(Mode::Cbc, 16), (Mode::Cbc, 512), (Mode::Ctr, 1), (Mode::Ctr, 33), (Mode::Ctr, 1000)] {
            let ct = cipher(&mut s, mode, Direction::Encrypt, &iv, &data[..len]).map_err(e("encrypt"))?;
            let pt = cipher(&mut s, mode, Direction::Decrypt, &iv, &ct).map_err(e("decrypt"))?;
            if ct.len() != len || ct == data[..len] || pt != data[..len] {
                return Err(format!("AES-{}-{mode:?} round trip of {len} bytes failed", key_len * 8));
            }
            trips += 1;
        }
    }
    println!("example-aes: {trips} round trips (128/192/256-bit keys, CBC and CTR, 1..1000 bytes)");

    let partial = cipher(&mut s, Mode::Cbc, Direction::Encrypt, &[0; 16], &data[..17]);
    expect_code("CBC with a partial block", partial, oxtee_teec::TEEC_ERROR_BAD_PARAMETERS)?;
    expect_code("a 20-byte key", set_key(&mut s, &[1; 20]), oxtee_teec::TEEC_ERROR_BAD_PARAMETERS)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("example-aes: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("example-aes: FAIL {e}");
            ExitCode::FAILURE
        }
    }
}
