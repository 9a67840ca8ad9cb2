//! The storage benchmark TA (protocol in `oxtee_abi::storage_bench_ta`):
//! one persistent object set up, then created, written, read or rewritten
//! in 1 KiB pieces through the storage system calls, as upstream's
//! `storage_benchmark` TA does, then checked byte for byte.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use oxtee_abi::storage_bench_ta as b;
use oxtee_abi::ta::crypto::{
    DATA_FLAG_ACCESS_READ, DATA_FLAG_ACCESS_WRITE, DATA_FLAG_ACCESS_WRITE_META, DATA_FLAG_OVERWRITE,
};
use oxtee_abi::tee::TeeResult;
use oxtee_utee::raw_cryp;
use oxtee_utee::raw_storage as sys;
use oxtee_utee::{
    Error, ErrorKind, ParamType, Parameters, Result, Uuid, ta_close_session, ta_create, ta_destroy, ta_invoke_command,
    ta_open_session,
};

oxtee_utee::ta_config! {
    uuid: Uuid::from_abi(b::UUID),
    flags: 0,
    stack_size: b::STACK_SIZE,
    data_size: b::DATA_SIZE as usize,
    version: "1.0",
    description: "oxtee storage benchmark TA",
    properties: {},
}

/// The open object's handle (0: none), the size and the storage of the
/// current measurement.
static HANDLE: AtomicU32 = AtomicU32::new(0);
static SIZE: AtomicU32 = AtomicU32::new(0);
static STORAGE: AtomicU32 = AtomicU32::new(0);

const ALL: u32 = DATA_FLAG_ACCESS_READ | DATA_FLAG_ACCESS_WRITE | DATA_FLAG_ACCESS_WRITE_META;

fn check(r: TeeResult) -> Result<()> {
    if r == TeeResult::SUCCESS { Ok(()) } else { Err(Error::from_raw_error(r.0)) }
}

fn data(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::from(ErrorKind::OutOfMemory))?;
    v.extend((0..len).map(b::data_byte));
    Ok(v)
}

fn close_open() {
    let h = HANDLE.swap(0, Ordering::Relaxed);
    if h != 0 {
        let _ = raw_cryp::obj_close(h);
    }
}

/// Deletes the benchmark object if it exists.
fn remove(storage: u32) -> Result<()> {
    match sys::obj_open(storage, b::OBJECT_ID, ALL) {
        Ok(h) => check(sys::obj_del(h)),
        Err(TeeResult::ERROR_ITEM_NOT_FOUND) => Ok(()),
        Err(e) => Err(Error::from_raw_error(e.0)),
    }
}

fn prepare(op: u32, size: u32, storage: u32) -> Result<()> {
    if size == 0 || size > b::MAX_SIZE || !(b::OP_CREATE..=b::OP_REWRITE).contains(&op) {
        return Err(ErrorKind::BadParameters.into());
    }
    close_open();
    remove(storage)?;
    SIZE.store(size, Ordering::Relaxed);
    STORAGE.store(storage, Ordering::Relaxed);
    if op == b::OP_CREATE {
        return Ok(());
    }
    let h = sys::obj_create(storage, b::OBJECT_ID, ALL | DATA_FLAG_OVERWRITE, 0, &[])
        .map_err(|e| Error::from_raw_error(e.0))?;
    HANDLE.store(h, Ordering::Relaxed);
    if op == b::OP_WRITE {
        return Ok(());
    }
    let d = data(size as usize)?;
    for piece in d.chunks(b::CHUNK as usize) {
        check(sys::obj_write(h, piece))?;
    }
    check(sys::obj_seek(h, 0, 0))
}

fn run(op: u32) -> Result<()> {
    let size = SIZE.load(Ordering::Relaxed) as usize;
    let h = HANDLE.load(Ordering::Relaxed);
    let chunk = b::CHUNK as usize;
    match op {
        b::OP_CREATE => {
            let d = data(size)?;
            let storage = STORAGE.load(Ordering::Relaxed);
            let h = sys::obj_create(storage, b::OBJECT_ID, ALL | DATA_FLAG_OVERWRITE, 0, &d)
                .map_err(|e| Error::from_raw_error(e.0))?;
            return check(raw_cryp::obj_close(h));
        }
        b::OP_WRITE if h != 0 => {
            let d = data(chunk.min(size))?;
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk);
                check(sys::obj_write(h, &d[..n]))?;
                left -= n;
            }
        }
        b::OP_READ if h != 0 => {
            let mut buf = data(chunk.min(size))?;
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk);
                let (r, got) = sys::obj_read(h, &mut buf[..n]);
                check(r)?;
                if got != n {
                    return Err(ErrorKind::CorruptObject.into());
                }
                left -= n;
            }
        }
        b::OP_REWRITE if h != 0 => {
            let mut buf = data(chunk.min(size))?;
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk);
                let (r, got) = sys::obj_read(h, &mut buf[..n]);
                check(r)?;
                if got != n {
                    return Err(ErrorKind::CorruptObject.into());
                }
                // TEE_DATA_SEEK_CUR.
                check(sys::obj_seek(h, -(n as i32), 1))?;
                check(sys::obj_write(h, &buf[..n]))?;
                left -= n;
            }
        }
        _ => return Err(ErrorKind::BadState.into()),
    }
    HANDLE.store(0, Ordering::Relaxed);
    check(raw_cryp::obj_close(h))
}

/// Reopens, checks size and bytes, deletes.
fn finish(op: u32) -> Result<()> {
    close_open();
    let storage = STORAGE.load(Ordering::Relaxed);
    let size = SIZE.load(Ordering::Relaxed) as usize;
    let h = sys::obj_open(storage, b::OBJECT_ID, ALL).map_err(|e| Error::from_raw_error(e.0))?;
    // The write case wrote the first chunk's bytes over and over.
    let chunk = b::CHUNK as usize;
    let want = |i: usize| if op == b::OP_WRITE { b::data_byte(i % chunk) } else { b::data_byte(i) };
    let mut buf = data(chunk)?;
    let mut at = 0;
    let mut ok = true;
    loop {
        let (r, got) = sys::obj_read(h, &mut buf);
        if r != TeeResult::SUCCESS {
            let _ = raw_cryp::obj_close(h);
            return check(r);
        }
        if got == 0 {
            break;
        }
        ok &= buf[..got].iter().enumerate().all(|(k, v)| *v == want(at + k));
        at += got;
    }
    check(sys::obj_del(h))?;
    if ok && at == size { Ok(()) } else { Err(ErrorKind::CorruptObject.into()) }
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
fn close_session() {
    close_open();
}

#[ta_invoke_command]
fn invoke_command(cmd: u32, p: &mut Parameters) -> Result<()> {
    match cmd {
        b::CMD_NOOP => Ok(()),
        b::CMD_PREPARE => {
            p.check_types(ParamType::ValueInput, ParamType::ValueInput, ParamType::None, ParamType::None)?;
            let v = p.0.as_value()?;
            let (op, size) = (v.a(), v.b());
            let storage = p.1.as_value()?.a();
            prepare(op, size, storage)
        }
        b::CMD_RUN | b::CMD_FINISH => {
            p.check_types(ParamType::ValueInput, ParamType::None, ParamType::None, ParamType::None)?;
            let op = p.0.as_value()?.a();
            if cmd == b::CMD_RUN { run(op) } else { finish(op) }
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}
