//! example-secure_storage: writes two objects into the secure_storage
//! TA's trusted storage, reads them back, lists them, checks they are
//! still there from a new session (the TA instance ends with its last
//! session), deletes them and checks that a read then answers
//! `TEE_ERROR_ITEM_NOT_FOUND`. Exits 0 only if every check passed.
#![forbid(unsafe_code)]

use oxtee_teec::{Context, Operation, ParamNone, ParamTmpRef, ParamValue, Session, Uuid};
use secure_storage_proto::{CMD_DELETE, CMD_LIST, CMD_READ, CMD_WRITE};
use std::process::ExitCode;

const TEE_ERROR_ITEM_NOT_FOUND: u32 = 0xffff_0008;
const TEE_ERROR_SHORT_BUFFER: u32 = 0xffff_0010;

const OBJ_A: &[u8] = b"example-object-a";
const OBJ_B: &[u8] = b"example-object-b";

fn write(s: &mut Session, id: &[u8], data: &[u8]) -> oxtee_teec::Result<()> {
    let (mut id, mut data) = (id.to_vec(), data.to_vec());
    let mut op = Operation::new(
        0,
        ParamTmpRef::new_input(&mut id),
        ParamTmpRef::new_input(&mut data),
        ParamNone::new(),
        ParamNone::new(),
    );
    s.invoke_command(CMD_WRITE, &mut op)
}

/// Reads into a buffer of `room` bytes: the data, or the error and the
/// size the TA reported.
fn read(s: &mut Session, id: &[u8], room: usize) -> Result<Vec<u8>, (oxtee_teec::Error, usize)> {
    let mut id = id.to_vec();
    let mut buf = vec![0u8; room];
    let mut op = Operation::new(
        0,
        ParamTmpRef::new_input(&mut id),
        ParamTmpRef::new_output(&mut buf),
        ParamNone::new(),
        ParamNone::new(),
    );
    let res = s.invoke_command(CMD_READ, &mut op);
    let size = op.parameters()[1].size().unwrap_or(0);
    drop(op);
    match res {
        Ok(()) => {
            buf.truncate(size);
            Ok(buf)
        }
        Err(e) => Err((e, size)),
    }
}

fn delete(s: &mut Session, id: &[u8]) -> oxtee_teec::Result<()> {
    let mut id = id.to_vec();
    let mut op =
        Operation::new(0, ParamTmpRef::new_input(&mut id), ParamNone::new(), ParamNone::new(), ParamNone::new());
    s.invoke_command(CMD_DELETE, &mut op)
}

/// The TA's objects as (id, data size), from a buffer of `room` bytes:
/// or the error and the size the TA reported.
fn list(s: &mut Session, room: usize) -> Result<Vec<(Vec<u8>, u32)>, (oxtee_teec::Error, usize)> {
    let mut buf = vec![0u8; room];
    let mut op = Operation::new(
        0,
        ParamTmpRef::new_output(&mut buf),
        ParamValue::new(0, 0, oxtee_teec::Dir::Out),
        ParamNone::new(),
        ParamNone::new(),
    );
    let res = s.invoke_command(CMD_LIST, &mut op);
    let size = op.parameters()[0].size().unwrap_or(0);
    let count = op.parameters()[1].value().map_or(0, |(a, _)| a);
    drop(op);
    if let Err(e) = res {
        return Err((e, size));
    }
    let mut it = secure_storage_proto::entries(&buf[..size.min(buf.len())]);
    let out: Vec<_> = it.by_ref().map(|(id, n)| (id.to_vec(), n)).collect();
    if !it.rest().is_empty() || out.len() != count as usize {
        println!("FAIL the list is malformed ({} entries, the TA counted {count})", out.len());
        return Err((oxtee_teec::Error::api(oxtee_teec::TEEC_ERROR_GENERIC), size));
    }
    Ok(out)
}

fn show(objs: &[(Vec<u8>, u32)]) -> String {
    let names: Vec<String> =
        objs.iter().map(|(id, n)| format!("{} ({n} bytes)", String::from_utf8_lossy(id))).collect();
    format!("[{}]", names.join(", "))
}

struct Checks {
    failed: u32,
}

impl Checks {
    fn check(&mut self, what: &str, ok: bool) {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            self.failed += 1;
        }
    }
}

fn run() -> oxtee_teec::Result<u32> {
    let mut c = Checks { failed: 0 };
    let uuid =
        Uuid::parse(secure_storage_proto::UUID).ok_or(oxtee_teec::Error::api(oxtee_teec::TEEC_ERROR_BAD_PARAMETERS))?;
    let a: Vec<u8> = (0..7000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let b = b"a short secret".to_vec();
    let b2 = b"replaced: another secret, longer than the first".to_vec();
    {
        let ctx = Context::new()?;
        let mut s = ctx.open_session(uuid)?;
        println!("opened a session to the secure_storage TA {}", secure_storage_proto::UUID);
        // Leftovers of an earlier run in the same guest.
        for id in [OBJ_A, OBJ_B] {
            match delete(&mut s, id) {
                Ok(()) => println!("removed {} left from an earlier run", String::from_utf8_lossy(id)),
                Err(e) if e.code == TEE_ERROR_ITEM_NOT_FOUND => {}
                Err(e) => return Err(e),
            }
        }
        let empty = list(&mut s, 1024);
        c.check(&format!("no objects at first: {:?}", empty.as_deref().map(show)), empty.is_ok_and(|l| l.is_empty()));

        write(&mut s, OBJ_A, &a)?;
        write(&mut s, OBJ_B, &b)?;
        println!("wrote {} ({} bytes) and {} ({} bytes)", "example-object-a", a.len(), "example-object-b", b.len());

        let short = read(&mut s, OBJ_A, 16);
        c.check(
            &format!("reading into 16 bytes: {:?}", short.as_ref().map(|v| v.len())),
            matches!(short, Err((e, n)) if e.code == TEE_ERROR_SHORT_BUFFER && n == a.len()),
        );
        let back = read(&mut s, OBJ_A, 8192).map_err(|(e, _)| e)?;
        c.check(&format!("{} reads back the same {} bytes", "example-object-a", back.len()), back == a);
        let back = read(&mut s, OBJ_B, 64).map_err(|(e, _)| e)?;
        c.check(&format!("{} reads back {:?}", "example-object-b", String::from_utf8_lossy(&back)), back == b);

        write(&mut s, OBJ_B, &b2)?;
        let back = read(&mut s, OBJ_B, 64).map_err(|(e, _)| e)?;
        c.check(&format!("overwritten, it reads {:?}", String::from_utf8_lossy(&back)), back == b2);

        let objs = list(&mut s, 1024);
        let want = |l: &[(Vec<u8>, u32)]| {
            let mut l = l.to_vec();
            l.sort();
            l == [(OBJ_A.to_vec(), a.len() as u32), (OBJ_B.to_vec(), b2.len() as u32)]
        };
        c.check(&format!("the list: {:?}", objs.as_deref().map(show)), objs.as_deref().is_ok_and(want));
        let short = list(&mut s, 4);
        c.check(
            &format!("listing into 4 bytes: {:?}", short.as_ref().map(|v| v.len())),
            matches!(short, Err((e, n)) if e.code == TEE_ERROR_SHORT_BUFFER
                && n == secure_storage_proto::entry_len(OBJ_A.len()) + secure_storage_proto::entry_len(OBJ_B.len())),
        );
        println!("closing the session and the context");
    }

    let ctx = Context::new()?;
    let mut s = ctx.open_session(uuid)?;
    println!("opened a new session");
    let back = read(&mut s, OBJ_A, 8192);
    c.check("example-object-a is still there, the same 7000 bytes", back.as_ref().is_ok_and(|v| *v == a));

    delete(&mut s, OBJ_A)?;
    println!("deleted example-object-a");
    let gone = read(&mut s, OBJ_A, 8192);
    c.check(
        &format!("reading it now: {:?}", gone.as_ref().map(|v| v.len()).map_err(|(e, _)| e)),
        matches!(gone, Err((e, _)) if e.code == TEE_ERROR_ITEM_NOT_FOUND),
    );
    let again = delete(&mut s, OBJ_A);
    c.check(&format!("deleting it again: {again:?}"), again.is_err_and(|e| e.code == TEE_ERROR_ITEM_NOT_FOUND));
    let objs = list(&mut s, 1024);
    c.check(
        &format!("the list: {:?}", objs.as_deref().map(show)),
        objs.as_deref().is_ok_and(|l| l == [(OBJ_B.to_vec(), b2.len() as u32)]),
    );
    delete(&mut s, OBJ_B)?;
    let objs = list(&mut s, 1024);
    c.check(
        &format!("after deleting example-object-b: {:?}", objs.as_deref().map(show)),
        objs.is_ok_and(|l| l.is_empty()),
    );
    Ok(c.failed)
}

fn main() -> ExitCode {
    match run() {
        Ok(0) => {
            println!("example-secure_storage: all checks passed");
            ExitCode::SUCCESS
        }
        Ok(n) => {
            println!("example-secure_storage: {n} check(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("example-secure_storage: {e}");
            ExitCode::FAILURE
        }
    }
}
