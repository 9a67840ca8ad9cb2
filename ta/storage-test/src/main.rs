//! oxtee's storage test TA (numbers, parameters and formats in
//! `oxtee_abi::storage_test_ta`): the storage system calls one command
//! each through the SDK's raw wrappers (`oxtee_utee::raw_storage`), so
//! the normal-world suite sees the kernel's answers as they are; and whole
//! cases run inside the TA through the SDK's Trusted Storage API
//! (`PersistentObject`, `ObjectEnumHandle`): the API walk-through, the
//! misuses libutee answers with a panic, a big object, many objects, a
//! persistent key used in a cipher, and the write loop and its check for
//! the power-cut test.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::storage_test_ta as c;
use oxtee_abi::ta::crypto as g;
use oxtee_abi::tee::TeeResult;
use oxtee_utee::raw_cryp::{self, Attr};
use oxtee_utee::raw_storage as sys;
use oxtee_utee::{
    AlgorithmId, AttributeId, AttributeMemref, Cipher, DataFlag, Error, ErrorKind, GenericObject, ObjectEnumHandle,
    ObjectStorageConstants, OperationMode, ParamType, Parameter, Parameters, PersistentObject, Result, Time,
    TransientObject, TransientObjectType, Uuid, Whence, ta_close_session, ta_create, ta_destroy, ta_invoke_command,
    ta_open_session, trace_println,
};
use zerocopy::IntoBytes;

oxtee_utee::ta_config! {
    uuid: Uuid::from_abi(c::UUID),
    flags: 0,
    stack_size: c::STACK_SIZE,
    data_size: c::DATA_SIZE as usize,
    version: "1.0",
    description: "oxtee storage test TA",
    properties: {},
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

fn bad() -> Error {
    ErrorKind::BadParameters.into()
}

/// A wrong byte, size or count found by a scenario.
fn wrong() -> Error {
    ErrorKind::BadFormat.into()
}

/// Fails the scenario with BAD_FORMAT, saying where, unless `cond`.
macro_rules! ensure {
    ($cond:expr) => {
        if !$cond {
            trace_println!("storage-test: check failed at line {}: {}", line!(), stringify!($cond));
            return Err(wrong());
        }
    };
}

/// The command's result from a system call's.
fn check(r: TeeResult) -> Result<()> {
    if r == TeeResult::SUCCESS { Ok(()) } else { Err(Error::from_raw_error(r.0)) }
}

fn value(p: &mut Parameter) -> Result<(u32, u32)> {
    if !matches!(p.param_type(), ParamType::ValueInput | ParamType::ValueInout) {
        return Err(bad());
    }
    let v = p.as_value()?;
    Ok((v.a(), v.b()))
}

/// A copy of an input memref's bytes; a parameter of type none is an
/// empty input.
fn input(p: &mut Parameter) -> Result<Vec<u8>> {
    match p.param_type() {
        ParamType::None => Ok(Vec::new()),
        ParamType::MemrefInput | ParamType::MemrefInout => {
            let mut m = p.as_memref()?;
            let src = m.buffer();
            let mut v = Vec::new();
            v.try_reserve_exact(src.len()).map_err(|_| Error::from(ErrorKind::OutOfMemory))?;
            v.extend_from_slice(src);
            Ok(v)
        }
        _ => Err(bad()),
    }
}

/// Runs `f` on an output memref's buffer; `f` returns the result and the
/// length to report (written, or needed on SHORT_BUFFER).
fn output(p: &mut Parameter, f: impl FnOnce(&mut [u8]) -> (TeeResult, usize)) -> Result<()> {
    if !matches!(p.param_type(), ParamType::MemrefOutput | ParamType::MemrefInout) {
        return Err(bad());
    }
    let mut m = p.as_memref()?;
    let (r, len) = f(m.buffer());
    m.set_updated_size(len);
    check(r)
}

/// Copies `bytes` out (SHORT_BUFFER with the size needed if they do not
/// fit).
fn copy_out(buf: &mut [u8], bytes: &[u8]) -> (TeeResult, usize) {
    match buf.get_mut(..bytes.len()) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            (TeeResult::SUCCESS, bytes.len())
        }
        None => (TeeResult::ERROR_SHORT_BUFFER, bytes.len()),
    }
}

fn set_out(p: &mut Parameter, a: u32, b: u32) -> Result<()> {
    if !matches!(p.param_type(), ParamType::ValueOutput | ParamType::ValueInout) {
        return Err(bad());
    }
    let mut v = p.as_value()?;
    v.set_a(a);
    v.set_b(b);
    Ok(())
}

fn storage(id: u32) -> Result<ObjectStorageConstants> {
    match id {
        g::STORAGE_PRIVATE => Ok(ObjectStorageConstants::Private),
        g::STORAGE_PRIVATE_REE => Ok(ObjectStorageConstants::PrivateRee),
        g::STORAGE_PRIVATE_RPMB => Ok(ObjectStorageConstants::PrivateRpmb),
        _ => Err(bad()),
    }
}

const ALL: DataFlag =
    DataFlag::from_bits_retain(g::DATA_FLAG_ACCESS_READ | g::DATA_FLAG_ACCESS_WRITE | g::DATA_FLAG_ACCESS_WRITE_META);

/// Deletes `id` if it exists.
fn remove_if_present(s: ObjectStorageConstants, id: &[u8]) -> Result<()> {
    match PersistentObject::open(s, id, DataFlag::ACCESS_WRITE_META) {
        Ok(o) => o.close_and_delete(),
        Err(e) if e.kind() == ErrorKind::ItemNotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Every object of this TA in `storage_id`: (info, id).
fn list(storage_id: u32) -> Result<Vec<(oxtee_utee::ObjectInfo, Vec<u8>)>> {
    let mut e = ObjectEnumHandle::allocate()?;
    let mut out = Vec::new();
    match e.start(storage_id) {
        Ok(()) => {}
        // No object at all.
        Err(err) if err.kind() == ErrorKind::ItemNotFound => return Ok(out),
        Err(err) => return Err(err),
    }
    loop {
        match e.next_object() {
            Ok(item) => out.push(item),
            Err(err) if err.kind() == ErrorKind::ItemNotFound => return Ok(out),
            Err(err) => return Err(err),
        }
    }
}

fn read_all(o: &mut PersistentObject, max: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let n = o.read(&mut buf)? as usize;
    buf.truncate(n);
    Ok(buf)
}

/// `CMD_SDK_BASIC`.
fn sdk_basic(storage_id: u32) -> Result<()> {
    let s = storage(storage_id)?;
    let (id, id2) = (&b"sdk-basic"[..], &b"sdk-basic-renamed"[..]);
    remove_if_present(s, id)?;
    remove_if_present(s, id2)?;
    let init: Vec<u8> = (1..=10).collect();
    let mut o = PersistentObject::create(s, id, ALL, None, &init)?;
    let info = o.info()?;
    ensure!(info.object_type() == g::TYPE_DATA);
    ensure!(info.data_size() == 10 && info.data_position() == 0);
    let hf = info.handle_flags().bits();
    ensure!(
        hf & (g::HANDLE_FLAG_PERSISTENT | g::HANDLE_FLAG_INITIALIZED)
            == g::HANDLE_FLAG_PERSISTENT | g::HANDLE_FLAG_INITIALIZED
    );
    ensure!(hf & ALL.bits() == ALL.bits());
    ensure!(read_all(&mut o, 4)? == [1, 2, 3, 4]);
    ensure!(o.info()?.data_position() == 4);
    o.seek(-2, Whence::DataSeekCur)?;
    ensure!(read_all(&mut o, 2)? == [3, 4]);
    o.seek(0, Whence::DataSeekEnd)?;
    o.write(&[0xaa; 3])?;
    ensure!(o.info()?.data_size() == 13);
    // Before the start: clamped to 0.
    o.seek(-100, Whence::DataSeekCur)?;
    ensure!(o.info()?.data_position() == 0);
    // Past the end, then a write: the gap reads as zeros.
    o.seek(20, Whence::DataSeekSet)?;
    ensure!(read_all(&mut o, 4)?.is_empty());
    o.write(&[0xbb])?;
    ensure!(o.info()?.data_size() == 21 && o.info()?.data_position() == 21);
    o.seek(0, Whence::DataSeekSet)?;
    let all = read_all(&mut o, 64)?;
    let mut want = init.clone();
    want.extend_from_slice(&[0xaa; 3]);
    want.extend_from_slice(&[0; 7]);
    want.push(0xbb);
    ensure!(all == want);
    // Truncate down (the position stays), then up (zero fill).
    o.truncate(5)?;
    ensure!(o.info()?.data_size() == 5 && o.info()?.data_position() == 21);
    ensure!(read_all(&mut o, 4)?.is_empty());
    o.truncate(8)?;
    o.seek(0, Whence::DataSeekSet)?;
    ensure!(read_all(&mut o, 64)? == [1, 2, 3, 4, 5, 0, 0, 0]);
    o.rename(id2)?;
    drop(o);
    ensure!(
        PersistentObject::open(s, id, DataFlag::ACCESS_READ).err().map(|e| e.kind()) == Some(ErrorKind::ItemNotFound)
    );
    let mut o = PersistentObject::open(s, id2, DataFlag::ACCESS_READ | DataFlag::ACCESS_WRITE_META)?;
    ensure!(read_all(&mut o, 64)? == [1, 2, 3, 4, 5, 0, 0, 0]);
    // Enumeration: the renamed object once, the old id never; a reset
    // and a new start give the same.
    let mut e = ObjectEnumHandle::allocate()?;
    let mut rounds = [0usize; 2];
    for r in &mut rounds {
        e.start(storage_id)?;
        loop {
            let mut info = oxtee_utee::ObjectInfo::default();
            let mut buf = [0u8; 64];
            match e.get_next(Some(&mut info), &mut buf) {
                Ok(n) => {
                    let seen = &buf[..n as usize];
                    ensure!(seen != id);
                    if seen == id2 {
                        ensure!(info.data_size() == 8 && info.object_type() == g::TYPE_DATA);
                        *r += 1;
                    }
                }
                Err(err) if err.kind() == ErrorKind::ItemNotFound => break,
                Err(err) => return Err(err),
            }
        }
        e.reset();
    }
    ensure!(rounds == [1, 1]);
    drop(e);
    o.close_and_delete()?;
    ensure!(
        PersistentObject::open(s, id2, DataFlag::ACCESS_READ).err().map(|e| e.kind()) == Some(ErrorKind::ItemNotFound)
    );
    // Creation over an existing object: refused without OVERWRITE,
    // replaced with it.
    drop(PersistentObject::create(s, id, DataFlag::ACCESS_READ, None, b"first")?);
    let again = PersistentObject::create(s, id, DataFlag::ACCESS_READ, None, b"second");
    ensure!(again.err().map(|e| e.kind()) == Some(ErrorKind::AccessConflict));
    drop(PersistentObject::create(s, id, DataFlag::ACCESS_READ | DataFlag::OVERWRITE, None, b"third")?);
    let mut o = PersistentObject::open(s, id, DataFlag::ACCESS_READ | DataFlag::ACCESS_WRITE_META)?;
    ensure!(read_all(&mut o, 64)? == b"third");
    // Two readers sharing; a writer is refused while they share only
    // reading.
    let shared = DataFlag::ACCESS_READ | DataFlag::SHARE_READ;
    drop(o);
    let r1 = PersistentObject::open(s, id, shared)?;
    let r2 = PersistentObject::open(s, id, shared)?;
    let w = PersistentObject::open(s, id, DataFlag::ACCESS_WRITE | DataFlag::SHARE_READ);
    ensure!(w.err().map(|e| e.kind()) == Some(ErrorKind::AccessConflict));
    drop((r1, r2));
    PersistentObject::open(s, id, DataFlag::ACCESS_WRITE_META)?.close_and_delete()?;
    // A 64-byte id is fine.
    let long = [b'x'; 64];
    PersistentObject::create(s, &long, DataFlag::ACCESS_WRITE_META, None, &[])?.close_and_delete()?;
    Ok(())
}

/// `CMD_SDK_PANIC`: only returns if the SDK let the misuse through.
fn sdk_panic(storage_id: u32, case: u32) -> Result<()> {
    let s = storage(storage_id)?;
    let id = b"sdk-panic";
    remove_if_present(s, id)?;
    drop(PersistentObject::create(s, id, DataFlag::empty(), None, b"data")?);
    let mut buf = [0u8; 4];
    match case {
        c::PANIC_ID_TOO_LONG => {
            let _ = PersistentObject::open(s, &[b'x'; 65], DataFlag::ACCESS_READ);
        }
        c::PANIC_READ_WITHOUT_ACCESS => {
            let _ = PersistentObject::open(s, id, DataFlag::ACCESS_WRITE)?.read(&mut buf);
        }
        c::PANIC_WRITE_WITHOUT_ACCESS => {
            let _ = PersistentObject::open(s, id, DataFlag::ACCESS_READ)?.write(&buf);
        }
        c::PANIC_RENAME_WITHOUT_META => {
            let _ = PersistentObject::open(s, id, DataFlag::ACCESS_READ)?.rename(b"other");
        }
        c::PANIC_DELETE_WITHOUT_META => {
            let _ = PersistentObject::open(s, id, DataFlag::ACCESS_READ)?.close_and_delete();
        }
        c::PANIC_BAD_FLAGS => {
            let _ = PersistentObject::create(s, b"sdk-panic-2", DataFlag::from_bits_retain(0x8000), None, &[]);
        }
        c::PANIC_TRUNC_WITHOUT_ACCESS => {
            let _ = PersistentObject::open(s, id, DataFlag::ACCESS_READ)?.truncate(1);
        }
        c::PANIC_RENAME_ID_TOO_LONG => {
            let _ = PersistentObject::open(s, id, DataFlag::ACCESS_WRITE_META)?.rename(&[b'y'; 65]);
        }
        _ => return Err(bad()),
    }
    Err(ErrorKind::Generic.into())
}

fn big_byte(off: usize) -> u8 {
    (off as u32).wrapping_mul(7).wrapping_add((off >> 10) as u32) as u8
}

fn now_ms() -> u64 {
    let mut t = Time::new();
    t.system_time();
    t.seconds as u64 * 1000 + t.millis as u64
}

/// `CMD_BIG`: (ms writing, ms reading).
fn big(storage_id: u32, total: usize, wchunk: usize, rchunk: usize) -> Result<(u32, u32)> {
    let s = storage(storage_id)?;
    if wchunk == 0 || rchunk == 0 || wchunk > 64 * 1024 || rchunk > 64 * 1024 {
        return Err(bad());
    }
    let id = b"big-object";
    remove_if_present(s, id)?;
    let t0 = now_ms();
    let mut o = PersistentObject::create(s, id, ALL, None, &[])?;
    let mut buf = vec![0u8; wchunk];
    let mut off = 0;
    while off < total {
        let n = wchunk.min(total - off);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = big_byte(off + i);
        }
        o.write(&buf[..n])?;
        off += n;
    }
    drop(o);
    let t1 = now_ms();
    let mut o = PersistentObject::open(s, id, DataFlag::ACCESS_READ | DataFlag::ACCESS_WRITE_META)?;
    ensure!(o.info()?.data_size() == total);
    let mut buf = vec![0u8; rchunk];
    let mut off = 0;
    loop {
        let n = o.read(&mut buf)? as usize;
        if n == 0 {
            break;
        }
        ensure!(off + n <= total);
        ensure!(buf[..n].iter().enumerate().all(|(i, b)| *b == big_byte(off + i)));
        off += n;
    }
    ensure!(off == total);
    let t2 = now_ms();
    o.close_and_delete()?;
    Ok(((t1 - t0) as u32, (t2 - t1) as u32))
}

fn many_id(i: u32) -> Vec<u8> {
    let mut b = [0u8; 16];
    let n = c::loop_object_id(i, &mut b);
    let mut v = b"many-".to_vec();
    v.extend_from_slice(&b[3..n]);
    v
}

/// `CMD_MANY`: objects seen by the enumeration.
fn many(storage_id: u32, n: u32) -> Result<u32> {
    let s = storage(storage_id)?;
    if n > 1000 {
        return Err(bad());
    }
    for i in 0..n {
        let data = vec![i as u8; (i % 97) as usize];
        drop(PersistentObject::create(s, &many_id(i), DataFlag::OVERWRITE, None, &data)?);
    }
    let mut seen = vec![false; n as usize];
    let mut count = 0;
    for (info, id) in list(storage_id)? {
        let Some(digits) = id.strip_prefix(b"many-") else { continue };
        let Some(i) = core::str::from_utf8(digits).ok().and_then(|d| d.parse::<u32>().ok()) else { continue };
        ensure!(i < n && !seen[i as usize]);
        ensure!(info.data_size() == (i % 97) as usize);
        seen[i as usize] = true;
        count += 1;
    }
    for i in 0..n {
        PersistentObject::open(s, &many_id(i), DataFlag::ACCESS_WRITE_META)?.close_and_delete()?;
    }
    ensure!(!list(storage_id)?.iter().any(|(_, id)| id.starts_with(b"many-")));
    ensure!(count == n);
    Ok(count)
}

/// `CMD_KEY_OBJECT`: the cipher text.
fn key_object(storage_id: u32, key: &[u8], pt: &[u8]) -> Result<[u8; 16]> {
    let s = storage(storage_id)?;
    if key.len() != 16 || pt.len() != 16 {
        return Err(bad());
    }
    let id = b"key-aes-128";
    remove_if_present(s, id)?;
    let mut t = TransientObject::allocate(TransientObjectType::Aes, 128)?;
    t.populate(&[AttributeMemref::from_ref(AttributeId::SecretValue, key).into()])?;
    let data = b"data beside the key";
    drop(PersistentObject::create(s, id, DataFlag::ACCESS_READ, Some(&t), data)?);
    // The transient object is unchanged by the creation.
    ensure!(t.info()?.handle_flags().bits() & g::HANDLE_FLAG_PERSISTENT == 0);
    drop(t);
    let mut o = PersistentObject::open(s, id, DataFlag::ACCESS_READ | DataFlag::ACCESS_WRITE_META)?;
    let info = o.info()?;
    ensure!(info.object_type() == g::TYPE_AES && info.object_size() == 128);
    ensure!(info.data_size() == data.len() && info.usage().bits() == 0xffff_ffff);
    ensure!(info.handle_flags().bits() & g::HANDLE_FLAG_PERSISTENT != 0);
    let mut secret = [0u8; 32];
    let n = o.ref_attribute(AttributeId::SecretValue, &mut secret)?;
    ensure!(&secret[..n] == key);
    ensure!(read_all(&mut o, 64)? == data);
    let cipher = Cipher::allocate(AlgorithmId::AesEcbNopad, OperationMode::Encrypt, 128)?;
    cipher.set_key(&o)?;
    cipher.init(&[]);
    let mut out = [0u8; 16];
    let n = cipher.do_final(pt, &mut out)?;
    ensure!(n == 16);
    o.close_and_delete()?;
    Ok(out)
}

/// `CMD_WIPE`: objects deleted.
fn wipe(storage_id: u32) -> Result<u32> {
    let s = storage(storage_id)?;
    let all = list(storage_id)?;
    for (_, id) in &all {
        PersistentObject::open(s, id, DataFlag::ACCESS_WRITE_META)?.close_and_delete()?;
    }
    Ok(all.len() as u32)
}

/// One write-loop record into object `i` (see `CMD_WRITE_LOOP`).
fn write_one(s: ObjectStorageConstants, i: u32, gen_no: u32, rec: &[u8]) -> Result<()> {
    let mut idb = [0u8; 16];
    let n = c::loop_object_id(i, &mut idb);
    let id = &idb[..n];
    if gen_no % 2 == 1 {
        match PersistentObject::open(s, id, DataFlag::ACCESS_WRITE) {
            Ok(mut o) if o.info()?.data_size() == rec.len() => {
                o.seek(0, Whence::DataSeekSet)?;
                return o.write(rec);
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ItemNotFound => {}
            Err(e) => return Err(e),
        }
    }
    drop(PersistentObject::create(s, id, DataFlag::ACCESS_WRITE | DataFlag::OVERWRITE, None, rec)?);
    Ok(())
}

/// `CMD_VERIFY`: (highest, lowest, present, first lower index).
fn verify(storage_id: u32, n: u32) -> Result<(u32, u32, u32, u32)> {
    let s = storage(storage_id)?;
    if n == 0 || n > c::WL_MAX_OBJECTS {
        return Err(bad());
    }
    let mut gens = Vec::new();
    let mut buf = vec![0u8; c::WL_MAX_RECORD as usize + 1];
    for i in 0..n {
        let mut idb = [0u8; 16];
        let len = c::loop_object_id(i, &mut idb);
        match PersistentObject::open(s, &idb[..len], DataFlag::ACCESS_READ | DataFlag::SHARE_READ) {
            Ok(mut o) => {
                let got = o.read(&mut buf)? as usize;
                match c::check_record(&buf[..got], i) {
                    Some(gn) => gens.push(Some(gn)),
                    None => {
                        trace_println!("storage-test: verify: object {i}: not one whole record ({got} bytes)");
                        return Err(wrong());
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::ItemNotFound => gens.push(None),
            Err(e) => return Err(e),
        }
    }
    c::check_generations(&gens).ok_or_else(|| {
        trace_println!("storage-test: verify: generations out of order: {gens:?}");
        Error::from(ErrorKind::BadState)
    })
}

/// `CMD_WRITE_LOOP`: the last generation completed.
fn write_loop(storage_id: u32, n: u32, iterations: u32, size: u32, first: u32) -> Result<u32> {
    let s = storage(storage_id)?;
    if n == 0 || n > c::WL_MAX_OBJECTS || !(c::WL_MIN_RECORD..=c::WL_MAX_RECORD).contains(&size) {
        return Err(bad());
    }
    let mut gen_no = if first == 0 { verify(storage_id, n)?.0 + 1 } else { first };
    let mut rec = vec![0u8; size as usize];
    let mut done = 0;
    let mut last = 0;
    while iterations == 0 || done < iterations {
        for i in 0..n {
            c::fill_record(&mut rec, gen_no, i);
            write_one(s, i, gen_no, &rec)?;
        }
        last = gen_no;
        gen_no = gen_no.wrapping_add(1).max(1);
        done += 1;
    }
    Ok(last)
}

#[ta_invoke_command]
fn invoke_command(cmd: u32, p: &mut Parameters) -> Result<()> {
    match cmd {
        c::CMD_OPEN => {
            let id = input(&mut p.0)?;
            let (flags, storage_id) = value(&mut p.1)?;
            let h = sys::obj_open(storage_id, &id, flags).map_err(|r| Error::from_raw_error(r.0))?;
            set_out(&mut p.2, h, 0)
        }
        c::CMD_OPEN_ID_IN_SHM => {
            let (flags, storage_id) = value(&mut p.1)?;
            let mut m = p.0.as_memref()?;
            let h = sys::obj_open(storage_id, m.buffer(), flags).map_err(|r| Error::from_raw_error(r.0))?;
            set_out(&mut p.2, h, 0)
        }
        c::CMD_CREATE | c::CMD_CREATE_NO_HANDLE => {
            let id = input(&mut p.0)?;
            let (flags, attr) = value(&mut p.1)?;
            let (storage_id, _) = value(&mut p.2)?;
            let data = input(&mut p.3)?;
            if cmd == c::CMD_CREATE_NO_HANDLE {
                return check(sys::obj_create_no_handle(storage_id, &id, flags, attr, &data));
            }
            let h = sys::obj_create(storage_id, &id, flags, attr, &data).map_err(|r| Error::from_raw_error(r.0))?;
            set_out(&mut p.2, h, 0)
        }
        c::CMD_CLOSE => check(raw_cryp::obj_close(value(&mut p.0)?.0)),
        c::CMD_READ => {
            let (h, _) = value(&mut p.0)?;
            output(&mut p.1, |buf| sys::obj_read(h, buf))
        }
        c::CMD_WRITE => {
            let (h, _) = value(&mut p.0)?;
            let data = input(&mut p.1)?;
            check(sys::obj_write(h, &data))
        }
        c::CMD_SEEK => {
            let (h, off) = value(&mut p.0)?;
            let (whence, _) = value(&mut p.1)?;
            check(sys::obj_seek(h, off as i32, whence))
        }
        c::CMD_UNLINK => check(sys::obj_del(value(&mut p.0)?.0)),
        c::CMD_TRUNC => {
            let (h, len) = value(&mut p.0)?;
            check(sys::obj_trunc(h, len as usize))
        }
        c::CMD_RENAME => {
            let (h, _) = value(&mut p.0)?;
            let id = input(&mut p.1)?;
            check(sys::obj_rename(h, &id))
        }
        c::CMD_ENUM_ALLOC => {
            let e = sys::enum_alloc().map_err(|r| Error::from_raw_error(r.0))?;
            set_out(&mut p.0, e, 0)
        }
        c::CMD_ENUM_FREE => check(sys::enum_free(value(&mut p.0)?.0)),
        c::CMD_ENUM_RESET => check(sys::enum_reset(value(&mut p.0)?.0)),
        c::CMD_ENUM_START => {
            let (e, storage_id) = value(&mut p.0)?;
            check(sys::enum_start(e, storage_id))
        }
        c::CMD_ENUM_NEXT => {
            let (e, _) = value(&mut p.0)?;
            let mut info = g::UteeObjectInfo::default();
            let mut id = [0u8; g::OBJECT_ID_MAX_LEN as usize];
            let (r, len) = sys::enum_next(e, &mut info, &mut id);
            check(r)?;
            if p.1.param_type() != ParamType::None {
                output(&mut p.1, |buf| copy_out(buf, info.as_bytes()))?;
            }
            output(&mut p.2, |buf| copy_out(buf, &id[..len]))
        }
        c::CMD_GET_INFO => {
            let (h, _) = value(&mut p.0)?;
            let (r, info) = raw_cryp::obj_get_info_filled(h);
            output(&mut p.1, |buf| {
                let (r2, n) = copy_out(buf, info.as_bytes());
                (if r == TeeResult::SUCCESS { r2 } else { r }, n)
            })
        }
        c::CMD_RESTRICT_USAGE => {
            let (h, usage) = value(&mut p.0)?;
            check(raw_cryp::obj_restrict_usage(h, usage))
        }
        c::CMD_ALLOC_OBJ => {
            let (t, size) = value(&mut p.0)?;
            let h = raw_cryp::obj_alloc(t, size).map_err(|r| Error::from_raw_error(r.0))?;
            set_out(&mut p.1, h, 0)
        }
        c::CMD_POPULATE_SECRET => {
            let (h, _) = value(&mut p.0)?;
            let key = input(&mut p.1)?;
            check(raw_cryp::obj_populate(h, &[Attr::Ref(g::ATTR_SECRET_VALUE, &key)]))
        }
        c::CMD_GET_ATTR => {
            let (h, id) = value(&mut p.0)?;
            output(&mut p.1, |buf| raw_cryp::obj_get_attr(h, id, buf))
        }
        c::CMD_RESET_OBJ => check(raw_cryp::obj_reset(value(&mut p.0)?.0)),
        c::CMD_GEN_KEY => {
            let (h, size) = value(&mut p.0)?;
            check(raw_cryp::obj_generate_key::<Attr>(h, size, &[]))
        }
        c::CMD_SDK_BASIC => sdk_basic(value(&mut p.0)?.0),
        c::CMD_SDK_PANIC => {
            let (storage_id, case) = value(&mut p.0)?;
            sdk_panic(storage_id, case)
        }
        c::CMD_BIG => {
            let (storage_id, total) = value(&mut p.0)?;
            let (w, r) = value(&mut p.1)?;
            let (tw, tr) = big(storage_id, total as usize, w as usize, r as usize)?;
            set_out(&mut p.2, tw, tr)
        }
        c::CMD_MANY => {
            let (storage_id, n) = value(&mut p.0)?;
            let count = many(storage_id, n)?;
            set_out(&mut p.1, count, 0)
        }
        c::CMD_KEY_OBJECT => {
            let (storage_id, _) = value(&mut p.0)?;
            let key = input(&mut p.1)?;
            let pt = input(&mut p.2)?;
            let ct = key_object(storage_id, &key, &pt)?;
            output(&mut p.3, |buf| copy_out(buf, &ct))
        }
        c::CMD_WIPE => {
            let n = wipe(value(&mut p.0)?.0)?;
            set_out(&mut p.1, n, 0)
        }
        c::CMD_WRITE_LOOP => {
            let (storage_id, n) = value(&mut p.0)?;
            let (iterations, size) = value(&mut p.1)?;
            let (first, _) = value(&mut p.2)?;
            let last = write_loop(storage_id, n, iterations, size, first)?;
            set_out(&mut p.2, last, 0)
        }
        c::CMD_VERIFY => {
            let (storage_id, n) = value(&mut p.0)?;
            let (hi, lo, present, first_lower) = verify(storage_id, n)?;
            set_out(&mut p.1, hi, lo)?;
            set_out(&mut p.2, present, first_lower)
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}
