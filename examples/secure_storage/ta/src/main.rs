//! The secure_storage example TA (as optee_examples' `secure_storage`,
//! plus a listing): persistent objects in the TA's private trusted
//! storage, created, read and deleted by id on the client's request, and
//! enumerated. The data is encrypted and integrity-protected by the TEE
//! before it reaches the normal world's file system.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

use oxtee_utee::{
    DataFlag, ErrorKind, GenericObject, ObjectEnumHandle, ObjectStorageConstants, ParamType, Parameters,
    PersistentObject, Result, ta_close_session, ta_create, ta_destroy, ta_invoke_command, ta_open_session,
    trace_println,
};
use secure_storage_proto::{CMD_DELETE, CMD_LIST, CMD_READ, CMD_WRITE, MAX_DATA, MAX_ID};

oxtee_utee::ta_config! {
    uuid: secure_storage_proto::UUID,
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 8 * 1024,
    data_size: 96 * 1024,
    version: "1.0",
    description: "oxtee example: secure storage",
}

const STORAGE: ObjectStorageConstants = ObjectStorageConstants::Private;

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
    match cmd {
        CMD_READ => {
            params.check_types(ParamType::MemrefInput, ParamType::MemrefOutput, ParamType::None, ParamType::None)?;
            read(params)
        }
        CMD_WRITE => {
            params.check_types(ParamType::MemrefInput, ParamType::MemrefInput, ParamType::None, ParamType::None)?;
            write(params)
        }
        CMD_DELETE => {
            params.check_types(ParamType::MemrefInput, ParamType::None, ParamType::None, ParamType::None)?;
            delete(params)
        }
        CMD_LIST => {
            params.check_types(ParamType::MemrefOutput, ParamType::ValueOutput, ParamType::None, ParamType::None)?;
            list(params)
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

/// Copies the object id parameter (p0) out of the client's buffer.
fn object_id(params: &mut Parameters) -> Result<([u8; MAX_ID], usize)> {
    let mut m = params.0.as_memref()?;
    let id = m.buffer();
    if id.is_empty() || id.len() > MAX_ID {
        return Err(ErrorKind::BadParameters.into());
    }
    let mut out = [0u8; MAX_ID];
    out[..id.len()].copy_from_slice(id);
    Ok((out, id.len()))
}

fn write(params: &mut Parameters) -> Result<()> {
    let (id, len) = object_id(params)?;
    let mut m = params.1.as_memref()?;
    let data = m.buffer();
    if data.len() > MAX_DATA {
        return Err(ErrorKind::BadParameters.into());
    }
    let flags = DataFlag::ACCESS_READ | DataFlag::ACCESS_WRITE | DataFlag::ACCESS_WRITE_META | DataFlag::OVERWRITE;
    // Created with its data in one step: either the whole object exists
    // afterwards or (on error) none, never a half-written one.
    let obj = PersistentObject::create(STORAGE, &id[..len], flags, None, data)?;
    drop(obj);
    trace_println!("secure_storage: wrote {} bytes to {:?}", data.len(), Id(&id[..len]));
    Ok(())
}

fn read(params: &mut Parameters) -> Result<()> {
    let (id, len) = object_id(params)?;
    let mut obj = PersistentObject::open(STORAGE, &id[..len], DataFlag::ACCESS_READ | DataFlag::SHARE_READ)?;
    let size = obj.info()?.data_size();
    let mut out = params.1.as_memref()?;
    out.set_updated_size(size);
    let buf = out.buffer();
    if buf.len() < size {
        return Err(ErrorKind::ShortBuffer.into());
    }
    let n = obj.read(&mut buf[..size])? as usize;
    out.set_updated_size(n);
    trace_println!("secure_storage: read {n} bytes from {:?}", Id(&id[..len]));
    Ok(())
}

fn delete(params: &mut Parameters) -> Result<()> {
    let (id, len) = object_id(params)?;
    let obj = PersistentObject::open(STORAGE, &id[..len], DataFlag::ACCESS_READ | DataFlag::ACCESS_WRITE_META)?;
    obj.close_and_delete()?;
    trace_println!("secure_storage: deleted {:?}", Id(&id[..len]));
    Ok(())
}

fn list(params: &mut Parameters) -> Result<()> {
    let mut out = params.0.as_memref()?;
    let buf = out.buffer();
    let mut e = ObjectEnumHandle::allocate()?;
    let (mut used, mut count) = (0usize, 0u32);
    match e.start(STORAGE as u32) {
        Ok(()) => loop {
            match e.next_object() {
                Ok((info, id)) => {
                    used = secure_storage_proto::push_entry(buf, used, &id, info.data_size() as u32)
                        .ok_or(ErrorKind::Generic)?;
                    count += 1;
                }
                Err(err) if err.kind() == ErrorKind::ItemNotFound => break,
                Err(err) => return Err(err),
            }
        },
        // No object at all.
        Err(err) if err.kind() == ErrorKind::ItemNotFound => {}
        Err(err) => return Err(err),
    }
    let fits = used <= buf.len();
    out.set_updated_size(used);
    trace_println!("secure_storage: {count} object(s), list of {used} bytes");
    if !fits {
        return Err(ErrorKind::ShortBuffer.into());
    }
    params.1.as_value()?.set_a(count);
    Ok(())
}

/// An object id for the log: text if it is printable ASCII.
struct Id<'a>(&'a [u8]);

impl core::fmt::Debug for Id<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match core::str::from_utf8(self.0) {
            Ok(s) if s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') => write!(f, "\"{s}\""),
            _ => {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Host tests on the simulated TEE (see ta/README.md, "Testing a TA on
/// the host"): `cargo test -p secure_storage-ta` in `examples/`.
#[cfg(test)]
mod tests {
    use super::*;
    use oxtee_utee::sim::{Param, Sim, TeeResult};

    #[test]
    fn objects_survive_sessions_and_are_listed_and_deleted() {
        let sim = Sim::new();
        {
            let mut s = sim.open_session(&mut []).unwrap();
            s.invoke(CMD_WRITE, &mut [Param::memref_input(b"key-1"), Param::memref_input(b"first")]).unwrap();
            s.invoke(CMD_WRITE, &mut [Param::memref_input(b"key-2"), Param::memref_input(b"second!")]).unwrap();
        }
        let mut s = sim.open_session(&mut []).unwrap();
        let mut small = [0u8; 2];
        let mut p = [Param::memref_input(b"key-2"), Param::memref_output(&mut small)];
        assert_eq!(s.invoke(CMD_READ, &mut p).unwrap_err().code, TeeResult::ERROR_SHORT_BUFFER);
        assert_eq!(p[1].size(), 7);
        let mut buf = [0u8; 64];
        let mut p = [Param::memref_input(b"key-2"), Param::memref_output(&mut buf)];
        s.invoke(CMD_READ, &mut p).unwrap();
        assert_eq!(p[1].bytes(), b"second!");
        let mut list = [0u8; 256];
        let mut p = [Param::memref_output(&mut list), Param::value_output()];
        s.invoke(CMD_LIST, &mut p).unwrap();
        assert_eq!(p[1].a(), 2);
        let mut ids: Vec<Vec<u8>> = secure_storage_proto::entries(p[0].bytes()).map(|(id, _)| id.to_vec()).collect();
        ids.sort();
        assert_eq!(ids, [b"key-1".to_vec(), b"key-2".to_vec()]);
        s.invoke(CMD_DELETE, &mut [Param::memref_input(b"key-1")]).unwrap();
        let err = s.invoke(CMD_DELETE, &mut [Param::memref_input(b"key-1")]).unwrap_err();
        assert_eq!(err.code, TeeResult::ERROR_ITEM_NOT_FOUND);
        let mut p = [Param::memref_input(b"key-1"), Param::memref_output(&mut buf)];
        assert_eq!(s.invoke(CMD_READ, &mut p).unwrap_err().code, TeeResult::ERROR_ITEM_NOT_FOUND);
    }
}
