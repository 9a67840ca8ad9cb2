//! GP Trusted Storage through the storage test TA (`ta/storage-test`,
//! protocol in `oxtee_abi::storage_test_ta`), modelled on upstream's
//! optee_test regression cases 6001-6019: for each storage id
//! (`TEE_STORAGE_PRIVATE`, `_PRIVATE_REE`, `_PRIVATE_RPMB`), create, open,
//! read, write, seek, truncate (down, up, holes), rename, delete and
//! enumerate with the kernel's result codes checked as upstream's kernel
//! answers them; the access/share conflict rules over a matrix of flag
//! pairs; overwrite; 64- and 65-byte ids; data positions up to
//! `TEE_DATA_MAX_POSITION`; persistent key objects used in a cipher;
//! enumeration of many objects; per-TA isolation (the same image signed
//! under a second UUID); a 1 MiB object written in 1 KiB chunks; the SDK's
//! API walk-through and the misuses libutee answers with a panic (the
//! session sees TARGET_DEAD and the dead instance's handles are released);
//! the write loop and its check.
//!
//! Also the reboot test's two commands: `oxtee-xtest storage-loop` and
//! `oxtee-xtest storage-verify` (see [`loop_cli`], [`verify_cli`]), and
//! `oxtee-xtest storage-wipe` ([`wipe_cli`]).

use crate::{check, eq};
use oxtee_abi::storage_test_ta as c;
use oxtee_abi::ta::crypto as g;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_teec::{Context, Dir, Operation, Param, ParamNone, ParamTmpRef, ParamValue, Session};
use std::time::Instant;

const SUCCESS: u32 = TeeResult::SUCCESS.0;
const ITEM_NOT_FOUND: u32 = TeeResult::ERROR_ITEM_NOT_FOUND.0;
const ACCESS_CONFLICT: u32 = TeeResult::ERROR_ACCESS_CONFLICT.0;
const BAD_PARAMETERS: u32 = TeeResult::ERROR_BAD_PARAMETERS.0;
const BAD_STATE: u32 = TeeResult::ERROR_BAD_STATE.0;
const ACCESS_DENIED: u32 = TeeResult::ERROR_ACCESS_DENIED.0;
const TARGET_DEAD: u32 = TeeResult::ERROR_TARGET_DEAD.0;

const R: u32 = g::DATA_FLAG_ACCESS_READ;
const W: u32 = g::DATA_FLAG_ACCESS_WRITE;
const WM: u32 = g::DATA_FLAG_ACCESS_WRITE_META;
const SR: u32 = g::DATA_FLAG_SHARE_READ;
const SW: u32 = g::DATA_FLAG_SHARE_WRITE;
const OVERWRITE: u32 = g::DATA_FLAG_OVERWRITE;

const SEEK_SET: u32 = 0;
const SEEK_CUR: u32 = 1;
const SEEK_END: u32 = 2;

/// The storages and their names in the messages.
const STORAGES: [(u32, &str); 3] =
    [(g::STORAGE_PRIVATE, "PRIVATE"), (g::STORAGE_PRIVATE_REE, "REE"), (g::STORAGE_PRIVATE_RPMB, "RPMB")];

fn vin<'a>(a: u32, b: u32) -> Param<'a> {
    ParamValue::new(a, b, Dir::In)
}

fn vout<'a>() -> Param<'a> {
    ParamValue::new(0, 0, Dir::Out)
}

fn none<'a>() -> Param<'a> {
    ParamNone::new()
}

/// An input memref, or none for an empty input (the TA passes NULL, 0).
fn min(buf: &mut [u8]) -> Param<'_> {
    if buf.is_empty() { ParamNone::new() } else { ParamTmpRef::new_input(buf) }
}

/// Object info as the TA reports it (`utee_object_info`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    obj_type: u32,
    obj_size: u32,
    max_obj_size: u32,
    usage: u32,
    data_size: u32,
    data_pos: u32,
    handle_flags: u32,
}

impl Info {
    fn parse(b: &[u8]) -> Option<Info> {
        if b.len() != 28 {
            return None;
        }
        let w = |i: usize| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        Some(Info {
            obj_type: w(0),
            obj_size: w(1),
            max_obj_size: w(2),
            usage: w(3),
            data_size: w(4),
            data_pos: w(5),
            handle_flags: w(6),
        })
    }
}

/// The value parameters of a call after it, by index.
type Values = [Option<(u32, u32)>; 4];

/// A session to one of the storage test TA's UUIDs, one method per
/// command; results are the kernel's codes.
pub struct Ta<'c> {
    ctx: &'c Context,
    uuid: Uuid,
    s: Session<'c>,
}

impl<'c> Ta<'c> {
    pub fn open(ctx: &'c Context, uuid: Uuid) -> Result<Ta<'c>, u32> {
        ctx.open_session(uuid).map(|s| Ta { ctx, uuid, s }).map_err(|e| e.code)
    }

    /// The command's result; after TARGET_DEAD a new session carries on.
    fn call(&mut self, cmd: u32, o: &mut Operation) -> u32 {
        match self.s.invoke_command(cmd, o) {
            Ok(()) => SUCCESS,
            Err(e) => {
                if e.code == TARGET_DEAD
                    && let Ok(s) = self.ctx.open_session(self.uuid)
                {
                    if cmd != c::CMD_SDK_PANIC {
                        println!("xtest: storage test TA died in command {cmd}; carrying on in a new session");
                    }
                    self.s = s;
                }
                e.code
            }
        }
    }

    /// A call with four parameters: the result and the value parameters
    /// after it.
    fn op(&mut self, cmd: u32, p0: Param, p1: Param, p2: Param, p3: Param) -> (u32, Values) {
        let mut o = Operation::new(0, p0, p1, p2, p3);
        let r = self.call(cmd, &mut o);
        (r, [0, 1, 2, 3].map(|i| o.params[i].value()))
    }

    fn result_value(r: u32, v: &Values, at: usize) -> Result<(u32, u32), u32> {
        if r == SUCCESS { Ok(v[at].unwrap_or((0, 0))) } else { Err(r) }
    }

    pub fn obj_open(&mut self, id: &[u8], flags: u32, storage: u32) -> Result<u32, u32> {
        let mut id = id.to_vec();
        let (r, o) = self.op(c::CMD_OPEN, min(&mut id), vin(flags, storage), vout(), none());
        Self::result_value(r, &o, 2).map(|v| v.0)
    }

    fn obj_open_id_in_shm(&mut self, id: &[u8], flags: u32, storage: u32) -> Result<u32, u32> {
        let mut id = id.to_vec();
        let (r, o) = self.op(c::CMD_OPEN_ID_IN_SHM, min(&mut id), vin(flags, storage), vout(), none());
        Self::result_value(r, &o, 2).map(|v| v.0)
    }

    pub fn create(&mut self, id: &[u8], flags: u32, attr: u32, storage: u32, data: &[u8]) -> Result<u32, u32> {
        let (mut id, mut data) = (id.to_vec(), data.to_vec());
        let p2 = ParamValue::new(storage, 0, Dir::InOut);
        let (r, o) = self.op(c::CMD_CREATE, min(&mut id), vin(flags, attr), p2, min(&mut data));
        Self::result_value(r, &o, 2).map(|v| v.0)
    }

    fn create_no_handle(&mut self, id: &[u8], flags: u32, attr: u32, storage: u32, data: &[u8]) -> u32 {
        let (mut id, mut data) = (id.to_vec(), data.to_vec());
        self.op(c::CMD_CREATE_NO_HANDLE, min(&mut id), vin(flags, attr), vin(storage, 0), min(&mut data)).0
    }

    fn one(&mut self, cmd: u32, a: u32, b: u32) -> u32 {
        self.op(cmd, vin(a, b), none(), none(), none()).0
    }

    pub fn close(&mut self, h: u32) -> u32 {
        self.one(c::CMD_CLOSE, h, 0)
    }

    pub fn read(&mut self, h: u32, n: usize) -> Result<Vec<u8>, u32> {
        let mut buf = vec![0u8; n];
        let (r, got) = {
            let p1 = if n == 0 { Param::Null { dir: Dir::Out, size: 0 } } else { ParamTmpRef::new_output(&mut buf) };
            let mut o = Operation::new(0, vin(h, 0), p1, none(), none());
            let r = self.call(c::CMD_READ, &mut o);
            (r, o.params[1].size().unwrap_or(0))
        };
        if r != SUCCESS {
            return Err(r);
        }
        buf.truncate(got);
        Ok(buf)
    }

    pub fn write(&mut self, h: u32, data: &[u8]) -> u32 {
        let mut data = data.to_vec();
        self.op(c::CMD_WRITE, vin(h, 0), min(&mut data), none(), none()).0
    }

    pub fn seek(&mut self, h: u32, offset: i32, whence: u32) -> u32 {
        self.op(c::CMD_SEEK, vin(h, offset as u32), vin(whence, 0), none(), none()).0
    }

    pub fn unlink(&mut self, h: u32) -> u32 {
        self.one(c::CMD_UNLINK, h, 0)
    }

    pub fn trunc(&mut self, h: u32, len: u32) -> u32 {
        self.one(c::CMD_TRUNC, h, len)
    }

    pub fn rename(&mut self, h: u32, id: &[u8]) -> u32 {
        let mut id = id.to_vec();
        self.op(c::CMD_RENAME, vin(h, 0), min(&mut id), none(), none()).0
    }

    fn enum_alloc(&mut self) -> Result<u32, u32> {
        let (r, o) = self.op(c::CMD_ENUM_ALLOC, vout(), none(), none(), none());
        Self::result_value(r, &o, 0).map(|v| v.0)
    }

    fn enum_next(&mut self, e: u32) -> Result<(Info, Vec<u8>), u32> {
        let mut info = [0u8; 28];
        let mut id = [0u8; 64];
        let (r, ni, nid) = {
            let mut o = Operation::new(
                0,
                vin(e, 0),
                ParamTmpRef::new_output(&mut info),
                ParamTmpRef::new_output(&mut id),
                none(),
            );
            let r = self.call(c::CMD_ENUM_NEXT, &mut o);
            (r, o.params[1].size().unwrap_or(0), o.params[2].size().unwrap_or(0))
        };
        if r != SUCCESS {
            return Err(r);
        }
        Ok((Info::parse(&info[..ni.min(28)]).unwrap_or_default(), id[..nid.min(64)].to_vec()))
    }

    pub fn info(&mut self, h: u32) -> Result<Info, u32> {
        let mut buf = [0u8; 28];
        let (r, n) = {
            let mut o = Operation::new(0, vin(h, 0), ParamTmpRef::new_output(&mut buf), none(), none());
            let r = self.call(c::CMD_GET_INFO, &mut o);
            (r, o.params[1].size().unwrap_or(0))
        };
        if r != SUCCESS {
            return Err(r);
        }
        Info::parse(&buf[..n.min(28)]).ok_or(u32::MAX)
    }

    fn alloc_obj(&mut self, t: u32, bits: u32) -> Result<u32, u32> {
        let (r, o) = self.op(c::CMD_ALLOC_OBJ, vin(t, bits), vout(), none(), none());
        Self::result_value(r, &o, 1).map(|v| v.0)
    }

    fn populate_secret(&mut self, h: u32, key: &[u8]) -> u32 {
        let mut key = key.to_vec();
        self.op(c::CMD_POPULATE_SECRET, vin(h, 0), min(&mut key), none(), none()).0
    }

    fn get_attr(&mut self, h: u32, id: u32) -> Result<Vec<u8>, u32> {
        let mut buf = [0u8; 512];
        let (r, n) = {
            let mut o = Operation::new(0, vin(h, id), ParamTmpRef::new_output(&mut buf), none(), none());
            let r = self.call(c::CMD_GET_ATTR, &mut o);
            (r, o.params[1].size().unwrap_or(0))
        };
        if r != SUCCESS {
            return Err(r);
        }
        Ok(buf[..n.min(512)].to_vec())
    }

    /// Deletes every object of this TA in `storage`: how many.
    pub fn wipe(&mut self, storage: u32) -> Result<u32, u32> {
        let (r, o) = self.op(c::CMD_WIPE, vin(storage, 0), vout(), none(), none());
        Self::result_value(r, &o, 1).map(|v| v.0)
    }

    /// `CMD_WRITE_LOOP`: the last generation completed.
    pub fn write_loop(&mut self, storage: u32, n: u32, iterations: u32, size: u32, first: u32) -> Result<u32, u32> {
        let p2 = ParamValue::new(first, 0, Dir::InOut);
        let (r, o) = self.op(c::CMD_WRITE_LOOP, vin(storage, n), vin(iterations, size), p2, none());
        Self::result_value(r, &o, 2).map(|v| v.0)
    }

    /// `CMD_VERIFY`: (highest, lowest, present, first lower index).
    pub fn verify(&mut self, storage: u32, n: u32) -> Result<(u32, u32, u32, u32), u32> {
        let (r, o) = self.op(c::CMD_VERIFY, vin(storage, n), vout(), vout(), none());
        let (hi, lo) = Self::result_value(r, &o, 1)?;
        let (present, first_lower) = o[2].unwrap_or((0, 0));
        Ok((hi, lo, present, first_lower))
    }
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed)).collect()
}

/// Every id the enumeration of `storage` gives (None: an error code).
fn enumerate(ta: &mut Ta, storage: u32) -> Result<Vec<(Info, Vec<u8>)>, u32> {
    let e = ta.enum_alloc()?;
    let mut out = Vec::new();
    let r = ta.one(c::CMD_ENUM_START, e, storage);
    if r == ITEM_NOT_FOUND {
        ta.one(c::CMD_ENUM_FREE, e, 0);
        return Ok(out);
    }
    if r != SUCCESS {
        ta.one(c::CMD_ENUM_FREE, e, 0);
        return Err(r);
    }
    let end = loop {
        match ta.enum_next(e) {
            Ok(item) => out.push(item),
            Err(r) => break r,
        }
        if out.len() > 10_000 {
            break u32::MAX;
        }
    };
    ta.one(c::CMD_ENUM_FREE, e, 0);
    if end == ITEM_NOT_FOUND { Ok(out) } else { Err(end) }
}

/// Upstream's rule for a second handle with flags `n` on an object open
/// with flags `o` (GP Internal Core API, "Persistent Object Sharing
/// Rules"): true if allowed.
fn may_share(o: u32, n: u32) -> bool {
    if (o | n) & WM != 0 {
        return false;
    }
    if (o | n) & R != 0 && (n & o & SR) == 0 {
        return false;
    }
    if (n & SR) != (o & SR) {
        return false;
    }
    if (o | n) & W != 0 && (n & o & SW) == 0 {
        return false;
    }
    (n & SW) == (o & SW)
}

/// 6001-6006: create, open, read, write, seek, delete.
fn basics(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    let d0 = data(40, 1);
    let d1 = data(32, 7);
    // Create and delete, with an id and with the empty id.
    for id in [&b"file-00"[..], &b""[..]] {
        let h = ta.create(id, W | WM, 0, st, &d0);
        eq(&n(&format!("create {:?}", String::from_utf8_lossy(id))), h.map(|_| ()), Ok(()));
        if let Ok(h) = h {
            eq(&n("unlink"), ta.unlink(h), SUCCESS);
        }
    }
    // Open after create and close, twice.
    if let Ok(h) = ta.create(b"file-01", W, 0, st, &d0) {
        eq(&n("close after create"), ta.close(h), SUCCESS);
        let h = ta.obj_open(b"file-01", WM, st);
        eq(&n("open"), h.map(|_| ()), Ok(()));
        if let Ok(h) = h {
            eq(&n("close after open"), ta.close(h), SUCCESS);
        }
        if let Ok(h) = ta.obj_open(b"file-01", WM, st) {
            eq(&n("unlink after reopen"), ta.unlink(h), SUCCESS);
        }
    } else {
        check(false, &n("create file-01"), format_args!("failed"));
    }
    // Read what create wrote.
    if let Ok(h) = ta.create(b"file-02", W, 0, st, &d1) {
        ta.close(h);
        if let Ok(h) = ta.obj_open(b"file-02", R | WM, st) {
            eq(&n("read initial data"), ta.read(h, 10), Ok(d1[..10].to_vec()));
            let info = ta.info(h);
            eq(
                &n("info: size and position"),
                info.map(|i| (i.data_size, i.data_pos, i.obj_type)),
                Ok((32, 10, g::TYPE_DATA)),
            );
            let hf = info.map(|i| i.handle_flags).unwrap_or(0);
            eq(&n("info: handle flags"), hf, g::HANDLE_FLAG_PERSISTENT | g::HANDLE_FLAG_INITIALIZED | R | WM);
            eq(&n("read the rest"), ta.read(h, 100), Ok(d1[10..].to_vec()));
            eq(&n("read at the end"), ta.read(h, 10), Ok(vec![]));
            eq(&n("unlink"), ta.unlink(h), SUCCESS);
        }
    }
    // Write new data over.
    if let Ok(h) = ta.create(b"file-02", W, 0, st, &d1) {
        ta.close(h);
        if let Ok(h) = ta.obj_open(b"file-02", W, st) {
            eq(&n("write"), ta.write(h, &d0), SUCCESS);
            ta.close(h);
        }
        if let Ok(h) = ta.obj_open(b"file-02", R | WM, st) {
            eq(&n("read back the write"), ta.read(h, 100), Ok(d0.clone()));
            eq(&n("unlink"), ta.unlink(h), SUCCESS);
        }
    }
    // Seek.
    if let Ok(h) = ta.create(b"file-01", W | R | WM, 0, st, &d0) {
        eq(&n("seek set 10"), ta.seek(h, 10, SEEK_SET), SUCCESS);
        eq(&n("read after seek"), ta.read(h, 10), Ok(d0[10..20].to_vec()));
        eq(&n("seek cur -5"), ta.seek(h, -5, SEEK_CUR), SUCCESS);
        eq(&n("read after seek cur"), ta.read(h, 5), Ok(d0[15..20].to_vec()));
        eq(&n("seek end -4"), ta.seek(h, -4, SEEK_END), SUCCESS);
        eq(&n("read after seek end"), ta.read(h, 10), Ok(d0[36..].to_vec()));
        eq(&n("seek before the start"), ta.seek(h, -1000, SEEK_CUR), SUCCESS);
        eq(&n("position clamped to 0"), ta.info(h).map(|i| i.data_pos), Ok(0));
        eq(&n("seek bad whence"), ta.seek(h, 0, 7), BAD_PARAMETERS);
        eq(&n("unlink"), ta.unlink(h), SUCCESS);
    }
    // Deleted means gone.
    if let Ok(h) = ta.create(b"file-01", WM, 0, st, &d0) {
        eq(&n("unlink"), ta.unlink(h), SUCCESS);
        eq(&n("open after unlink"), ta.obj_open(b"file-01", R, st), Err(ITEM_NOT_FOUND));
    }
    eq(&n("open of a never created id"), ta.obj_open(b"no-such-object", R, st), Err(ITEM_NOT_FOUND));
}

/// 6007: truncate down, extend, holes.
fn truncate(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    let d0 = data(40, 3);
    let Ok(h) = ta.create(b"trunc", R | W | WM, 0, st, &d0) else {
        return check(false, &n("create for truncate"), format_args!("failed"));
    };
    eq(&n("truncate to 10"), ta.trunc(h, 10), SUCCESS);
    eq(&n("size after truncate"), ta.info(h).map(|i| i.data_size), Ok(10));
    eq(&n("position unchanged by truncate"), ta.info(h).map(|i| i.data_pos), Ok(0));
    eq(&n("read after truncate"), ta.read(h, 100), Ok(d0[..10].to_vec()));
    eq(&n("extend to 25"), ta.trunc(h, 25), SUCCESS);
    ta.seek(h, 0, SEEK_SET);
    let mut want = d0[..10].to_vec();
    want.resize(25, 0);
    eq(&n("extension reads as zeros"), ta.read(h, 100), Ok(want.clone()));
    // A write past the end leaves a zero-filled hole.
    eq(&n("seek past the end"), ta.seek(h, 100, SEEK_SET), SUCCESS);
    eq(&n("read past the end"), ta.read(h, 10), Ok(vec![]));
    eq(&n("write past the end"), ta.write(h, b"tail"), SUCCESS);
    eq(&n("size after the hole"), ta.info(h).map(|i| (i.data_size, i.data_pos)), Ok((104, 104)));
    ta.seek(h, 0, SEEK_SET);
    want.resize(100, 0);
    want.extend_from_slice(b"tail");
    eq(&n("hole reads as zeros"), ta.read(h, 200), Ok(want));
    ta.close(h);
    // The changes are stored, not only in the handle.
    if let Ok(h) = ta.obj_open(b"trunc", R | WM, st) {
        eq(&n("size after reopen"), ta.info(h).map(|i| i.data_size), Ok(104));
        eq(&n("unlink"), ta.unlink(h), SUCCESS);
    }
}

/// 6008: rename, and its conflicts.
fn rename(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    let d0 = data(20, 9);
    let Ok(h) = ta.create(b"ren-a", W | WM, 0, st, &d0) else {
        return check(false, &n("create for rename"), format_args!("failed"));
    };
    eq(&n("rename"), ta.rename(h, b"ren-b"), SUCCESS);
    ta.close(h);
    eq(&n("old id gone after rename"), ta.obj_open(b"ren-a", R, st), Err(ITEM_NOT_FOUND));
    let Ok(h) = ta.obj_open(b"ren-b", R | WM, st) else {
        return check(false, &n("open the renamed object"), format_args!("failed"));
    };
    eq(&n("data kept by rename"), ta.read(h, 100), Ok(d0.clone()));
    eq(&n("rename to the empty id"), ta.rename(h, b""), SUCCESS);
    ta.close(h);
    let Ok(h) = ta.obj_open(b"", R | WM, st) else {
        return check(false, &n("open the empty id"), format_args!("failed"));
    };
    // Onto an existing object: refused, both kept.
    if let Ok(other) = ta.create(b"ren-c", WM, 0, st, b"c") {
        ta.close(other);
        eq(&n("rename onto an existing id"), ta.rename(h, b"ren-c"), ACCESS_CONFLICT);
        if let Ok(o) = ta.obj_open(b"ren-c", R | WM, st) {
            eq(&n("target untouched"), ta.read(o, 10), Ok(b"c".to_vec()));
            ta.unlink(o);
        }
    }
    eq(&n("rename to a 64-byte id"), ta.rename(h, &[b'r'; 64]), SUCCESS);
    eq(&n("rename to a 65-byte id"), ta.rename(h, &[b'r'; 65]), BAD_PARAMETERS);
    eq(&n("unlink"), ta.unlink(h), SUCCESS);
    // Without ACCESS_WRITE_META the kernel refuses (libutee then panics).
    if let Ok(h) = ta.create(b"ren-d", R, 0, st, b"d") {
        eq(&n("rename without WRITE_META"), ta.rename(h, b"ren-e"), BAD_STATE);
        eq(&n("unlink without WRITE_META"), ta.unlink(h), ACCESS_CONFLICT);
        ta.close(h);
        if let Ok(h) = ta.obj_open(b"ren-d", WM, st) {
            ta.unlink(h);
        }
    }
}

/// 6009/6010: enumeration.
fn enumeration(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    if let Ok(e) = ta.enum_alloc() {
        eq(&n("empty store: start answers ITEM_NOT_FOUND"), ta.one(c::CMD_ENUM_START, e, st), ITEM_NOT_FOUND);
        eq(&n("empty store: next after it"), ta.enum_next(e).map(|_| ()), Err(ITEM_NOT_FOUND));
        ta.one(c::CMD_ENUM_FREE, e, 0);
    }
    let ids: [&[u8]; 3] = [b"enum-0", b"enum-1", b"enum-22"];
    for (i, id) in ids.iter().enumerate() {
        if let Ok(h) = ta.create(id, W, 0, st, &data(i * 5, 1)) {
            ta.close(h);
        }
    }
    match enumerate(ta, st) {
        Ok(mut v) => {
            v.sort_by(|a, b| a.1.cmp(&b.1));
            let got: Vec<(Vec<u8>, u32, u32)> = v.iter().map(|(i, id)| (id.clone(), i.data_size, i.obj_type)).collect();
            let want: Vec<(Vec<u8>, u32, u32)> =
                ids.iter().enumerate().map(|(i, id)| (id.to_vec(), i as u32 * 5, g::TYPE_DATA)).collect();
            eq(&n("enumeration: the three objects, sizes, types"), got, want);
        }
        Err(e) => check(false, &n("enumeration"), format_args!("{e:#x}")),
    }
    if let Ok(e) = ta.enum_alloc() {
        eq(&n("next before start"), ta.enum_next(e).map(|_| ()), Err(ITEM_NOT_FOUND));
        eq(&n("start"), ta.one(c::CMD_ENUM_START, e, st), SUCCESS);
        eq(&n("next after start"), ta.enum_next(e).is_ok(), true);
        eq(&n("reset"), ta.one(c::CMD_ENUM_RESET, e, 0), SUCCESS);
        eq(&n("next after reset"), ta.enum_next(e).map(|_| ()), Err(ITEM_NOT_FOUND));
        eq(&n("start again"), ta.one(c::CMD_ENUM_START, e, st), SUCCESS);
        let mut count = 0;
        while ta.enum_next(e).is_ok() && count < 100 {
            count += 1;
        }
        eq(&n("restart enumerates all again"), count, 3);
        eq(&n("start on an illegal storage"), ta.one(c::CMD_ENUM_START, e, 0x7fff_ffff), ITEM_NOT_FOUND);
        eq(&n("free"), ta.one(c::CMD_ENUM_FREE, e, 0), SUCCESS);
        eq(&n("free twice"), ta.one(c::CMD_ENUM_FREE, e, 0), BAD_PARAMETERS);
    }
    for id in ids {
        if let Ok(h) = ta.obj_open(id, WM, st) {
            ta.unlink(h);
        }
    }
    // Many objects, through the SDK inside the TA.
    let (r, o) = ta.op(c::CMD_MANY, vin(st, 40), vout(), none(), none());
    eq(&n("40 objects created, enumerated once each, deleted"), (r, o[1].map(|v| v.0)), (SUCCESS, Some(40)));
}

/// Sharing and access conflicts, overwrite, flags and id lengths.
fn conflicts(ta: &mut Ta, ctx: &Context, uuid: Uuid, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    let id = b"conflict";
    let Ok(h) = ta.create(id, W, 0, st, b"0123456789") else {
        return check(false, &n("create for the conflict cases"), format_args!("failed"));
    };
    ta.close(h);
    let combos =
        [0, R, W, WM, SR, SW, SR | SW, R | SR, W | SW, R | W | SR | SW, R | SR | SW, W | SR | SW, R | W, R | WM];
    let mut wrong = Vec::new();
    for a in combos {
        let Ok(h1) = ta.obj_open(id, a, st) else {
            wrong.push(format!("first open {a:#x} failed"));
            continue;
        };
        for b in combos {
            let want = if may_share(a, b) { SUCCESS } else { ACCESS_CONFLICT };
            let got = match ta.obj_open(id, b, st) {
                Ok(h2) => {
                    ta.close(h2);
                    SUCCESS
                }
                Err(e) => e,
            };
            if got != want {
                wrong.push(format!("open {a:#x} then {b:#x}: got {got:#x}, want {want:#x}"));
            }
        }
        ta.close(h1);
    }
    check(wrong.is_empty(), &n("sharing rules over 14x14 flag pairs"), format_args!("{wrong:?}"));
    // The same rules hold between two instances of the TA.
    if let (Ok(h1), Ok(mut ta2)) = (ta.obj_open(id, R, st), Ta::open(ctx, uuid)) {
        eq(&n("second instance: read while read without share"), ta2.obj_open(id, R, st), Err(ACCESS_CONFLICT));
        ta.close(h1);
        let h2 = ta2.obj_open(id, R | SR, st);
        eq(&n("second instance: open once the first closed"), h2.map(|_| ()), Ok(()));
        if let Ok(h2) = h2 {
            ta2.close(h2);
        }
    }
    // Creation over an open or a stored object.
    if let Ok(h1) = ta.obj_open(id, R | SR, st) {
        eq(&n("create over an open object"), ta.create(id, R, 0, st, b"x"), Err(ACCESS_CONFLICT));
        ta.close(h1);
    }
    eq(&n("create over a stored object, no OVERWRITE"), ta.create(id, R, 0, st, b"x"), Err(ACCESS_CONFLICT));
    match ta.create(id, R | WM | OVERWRITE, 0, st, b"new") {
        Ok(h) => {
            eq(&n("OVERWRITE replaces the data"), ta.read(h, 100), Ok(b"new".to_vec()));
            eq(
                &n("OVERWRITE shows in the handle's flags"),
                ta.info(h).map(|i| i.handle_flags & OVERWRITE),
                Ok(OVERWRITE),
            );
            ta.unlink(h);
        }
        Err(e) => check(false, &n("create with OVERWRITE"), format_args!("{e:#x}")),
    }
    // Undefined flags; OVERWRITE is for creation only.
    eq(&n("create with an undefined flag"), ta.create(b"flags", 0x8000, 0, st, b""), Err(BAD_PARAMETERS));
    if let Ok(h) = ta.create(b"flags", WM, 0, st, b"") {
        ta.close(h);
        eq(&n("open with OVERWRITE"), ta.obj_open(b"flags", R | OVERWRITE, st), Err(BAD_PARAMETERS));
        if let Ok(h) = ta.obj_open(b"flags", WM, st) {
            ta.unlink(h);
        }
    }
    // Access rights of the handle.
    if let Ok(h) = ta.create(b"rights", WM, 0, st, b"abc") {
        eq(&n("read without ACCESS_READ"), ta.read(h, 3), Err(ACCESS_CONFLICT));
        eq(&n("write without ACCESS_WRITE"), ta.write(h, b"x"), ACCESS_CONFLICT);
        eq(&n("truncate without ACCESS_WRITE"), ta.trunc(h, 1), ACCESS_CONFLICT);
        ta.unlink(h);
    }
    // Object ids: 64 bytes fine, 65 refused.
    let long = [b'i'; 64];
    match ta.create(&long, R | WM, 0, st, b"64") {
        Ok(h) => {
            ta.close(h);
            let h = ta.obj_open(&long, R | WM, st);
            eq(&n("open a 64-byte id"), h.map(|_| ()), Ok(()));
            if let Ok(h) = h {
                ta.unlink(h);
            }
        }
        Err(e) => check(false, &n("create a 64-byte id"), format_args!("{e:#x}")),
    }
    eq(&n("create a 65-byte id"), ta.create(&[b'i'; 65], R, 0, st, b""), Err(BAD_PARAMETERS));
    eq(&n("open a 65-byte id"), ta.obj_open(&[b'i'; 65], R, st), Err(BAD_PARAMETERS));
    eq(&n("open in an illegal storage"), ta.obj_open(b"x", R, 0x7fff_ffff), Err(ITEM_NOT_FOUND));
    eq(&n("create in an illegal storage"), ta.create(b"x", R, 0, 0x7fff_ffff, b""), Err(ITEM_NOT_FOUND));
    if let Ok(h) = ta.obj_open(id, WM, st) {
        ta.unlink(h);
    }
}

/// Data positions up to `TEE_DATA_MAX_POSITION` (the kernel's view: a
/// position past it is BAD_PARAMETERS; libutee turns it into OVERFLOW
/// before asking, which `CMD_SDK_BASIC` checks).
fn positions(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    let Ok(h) = ta.create(b"positions", R | W | WM, 0, st, b"abc") else {
        return check(false, &n("create for the position cases"), format_args!("failed"));
    };
    eq(&n("seek to i32::MAX"), ta.seek(h, i32::MAX, SEEK_SET), SUCCESS);
    eq(&n("seek on by i32::MAX"), ta.seek(h, i32::MAX, SEEK_CUR), SUCCESS);
    eq(&n("position 0xfffffffe"), ta.info(h).map(|i| i.data_pos), Ok(0xffff_fffe));
    eq(&n("seek to TEE_DATA_MAX_POSITION"), ta.seek(h, 1, SEEK_CUR), SUCCESS);
    eq(&n("position TEE_DATA_MAX_POSITION"), ta.info(h).map(|i| i.data_pos), Ok(g::DATA_MAX_POSITION));
    eq(&n("seek past TEE_DATA_MAX_POSITION"), ta.seek(h, 1, SEEK_CUR), BAD_PARAMETERS);
    eq(&n("position unchanged by a refused seek"), ta.info(h).map(|i| i.data_pos), Ok(g::DATA_MAX_POSITION));
    eq(&n("read at TEE_DATA_MAX_POSITION"), ta.read(h, 4), Ok(vec![]));
    eq(&n("size unchanged"), ta.info(h).map(|i| i.data_size), Ok(3));
    eq(&n("seek end + 0"), ta.seek(h, 0, SEEK_END), SUCCESS);
    eq(&n("position at the end"), ta.info(h).map(|i| i.data_pos), Ok(3));
    eq(&n("unlink"), ta.unlink(h), SUCCESS);
}

/// Persistent key objects: made from a transient key, reopened, used.
fn keys(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    // FIPS-197 appendix C.1.
    let mut key: Vec<u8> = (0..16).collect();
    let mut pt: Vec<u8> = (0..16).map(|i| i * 0x11).collect();
    let want = [0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a];
    let mut ct = [0u8; 16];
    let (r, got) = {
        let mut o = Operation::new(
            0,
            vin(st, 0),
            ParamTmpRef::new_input(&mut key),
            ParamTmpRef::new_input(&mut pt),
            ParamTmpRef::new_output(&mut ct),
        );
        let r = ta.call(c::CMD_KEY_OBJECT, &mut o);
        (r, o.params[3].size().unwrap_or(0))
    };
    eq(&n("persistent AES key (SDK): encrypts the FIPS-197 block"), (r, got, ct), (SUCCESS, 16, want));
    // The raw path: attributes, usage kept across a reopen.
    let Ok(t) = ta.alloc_obj(g::TYPE_AES, 256) else {
        return check(false, &n("allocate a transient AES key"), format_args!("failed"));
    };
    let secret = data(32, 0x42);
    eq(&n("populate the transient key"), ta.populate_secret(t, &secret), SUCCESS);
    match ta.create(b"key-raw", R | WM, t, st, b"payload") {
        Ok(h) => {
            let info = ta.info(h);
            eq(
                &n("key object info: type, size, max, data"),
                info.map(|i| (i.obj_type, i.obj_size, i.max_obj_size, i.data_size)),
                Ok((g::TYPE_AES, 256, 256, 7)),
            );
            eq(&n("key object attribute"), ta.get_attr(h, g::ATTR_SECRET_VALUE), Ok(secret.clone()));
            eq(&n("key object data"), ta.read(h, 100), Ok(b"payload".to_vec()));
            eq(&n("restrict usage of the stored key"), ta.one(c::CMD_RESTRICT_USAGE, h, g::USAGE_ENCRYPT), SUCCESS);
            ta.close(h);
        }
        Err(e) => check(false, &n("create a persistent key object"), format_args!("{e:#x}")),
    }
    eq(&n("transient key still transient"), ta.info(t).map(|i| i.handle_flags & g::HANDLE_FLAG_PERSISTENT), Ok(0));
    if let Ok(h) = ta.obj_open(b"key-raw", R | WM, st) {
        eq(&n("restricted usage stored"), ta.info(h).map(|i| i.usage), Ok(g::USAGE_ENCRYPT));
        eq(&n("no longer extractable"), ta.get_attr(h, g::ATTR_SECRET_VALUE), Err(BAD_PARAMETERS));
        eq(&n("read from a transient object"), ta.read(t, 4), Err(BAD_STATE));
        ta.unlink(h);
    }
    // The object id must be the TA's own memory (xtest 6020).
    eq(&n("open with the id in the client's memory"), ta.obj_open_id_in_shm(b"data-usage", R, st), Err(ACCESS_DENIED));
    // A pure data object allows every usage; a restriction is stored.
    match ta.create(b"data-usage", R | W | WM | OVERWRITE, 0, st, b"d") {
        Ok(h) => {
            eq(&n("data object usage"), ta.info(h).map(|i| i.usage), Ok(0xffff_ffff));
            let ou = !g::USAGE_EXTRACTABLE;
            eq(&n("restrict a data object's usage"), ta.one(c::CMD_RESTRICT_USAGE, h, ou), SUCCESS);
            eq(&n("data object usage restricted"), ta.info(h).map(|i| i.usage), Ok(ou));
            ta.close(h);
            match ta.obj_open(b"data-usage", R | W | WM, st) {
                Ok(h) => {
                    eq(&n("data object usage after a reopen"), ta.info(h).map(|i| i.usage), Ok(ou));
                    ta.unlink(h);
                }
                Err(e) => check(false, &n("reopen the data object"), format_args!("{e:#x}")),
            }
        }
        Err(e) => check(false, &n("create a data object"), format_args!("{e:#x}")),
    }
    // Data calls on a transient object or a bogus handle.
    eq(&n("write to a transient object"), ta.write(t, b"x"), BAD_STATE);
    eq(&n("seek in a transient object"), ta.seek(t, 0, SEEK_SET), BAD_STATE);
    eq(&n("read through a bogus handle"), ta.read(0x00de_ad00, 4), Err(BAD_STATE));
    // Creation with no handle asked for turns the transient object into
    // the persistent one (upstream).
    eq(&n("create with no handle"), ta.create_no_handle(b"key-moved", R | WM, t, st, b""), SUCCESS);
    let flags = ta.info(t).map(|i| i.handle_flags & g::HANDLE_FLAG_PERSISTENT);
    eq(&n("the attribute object became the persistent one"), flags, Ok(g::HANDLE_FLAG_PERSISTENT));
    if flags == Ok(g::HANDLE_FLAG_PERSISTENT) {
        ta.unlink(t);
    } else {
        ta.close(t);
        if let Ok(h) = ta.obj_open(b"key-moved", WM, st) {
            ta.unlink(h);
        }
    }
    // An uninitialised attribute object is refused.
    if let Ok(t) = ta.alloc_obj(g::TYPE_AES, 128) {
        eq(&n("create from an uninitialised object"), ta.create(b"key-bad", R, t, st, b""), Err(BAD_PARAMETERS));
        ta.close(t);
    }
}

/// Per-TA isolation: the second UUID sees none of the first's objects.
fn isolation(ta: &mut Ta, ctx: &Context, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    let Ok(mut other) = Ta::open(ctx, c::UUID_OTHER) else {
        return check(false, &n("open the second storage test TA"), format_args!("failed"));
    };
    let _ = other.wipe(st);
    let Ok(h) = ta.create(b"isolated", R | WM, 0, st, b"first TA") else {
        return check(false, &n("create for isolation"), format_args!("failed"));
    };
    ta.close(h);
    eq(&n("other TA: open the first's object"), other.obj_open(b"isolated", R, st), Err(ITEM_NOT_FOUND));
    eq(&n("other TA: enumeration empty"), enumerate(&mut other, st).map(|v| v.len()), Ok(0));
    match other.create(b"isolated", R | WM, 0, st, b"second TA") {
        Ok(h) => {
            eq(&n("other TA: its own object of the same id"), other.read(h, 100), Ok(b"second TA".to_vec()));
            // Both open at once: no conflict across TAs.
            let h1 = ta.obj_open(b"isolated", R | WM, st);
            eq(
                &n("first TA: same id, its own data"),
                h1.and_then(|h1| {
                    let d = ta.read(h1, 100);
                    ta.close(h1);
                    d
                }),
                Ok(b"first TA".to_vec()),
            );
            eq(&n("other TA: delete its object"), other.unlink(h), SUCCESS);
        }
        Err(e) => check(false, &n("other TA: create the same id"), format_args!("{e:#x}")),
    }
    if let Ok(h) = ta.obj_open(b"isolated", R | WM, st) {
        eq(&n("first TA's object survives the other's delete"), ta.read(h, 100), Ok(b"first TA".to_vec()));
        ta.unlink(h);
    } else {
        check(false, &n("first TA's object survives the other's delete"), format_args!("gone"));
    }
}

/// Through the SDK: the walk-through, the panics, a big object.
fn sdk(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    eq(&n("SDK walk-through"), ta.one(c::CMD_SDK_BASIC, st, 0), SUCCESS);
    for case in 0..c::PANIC_CASES {
        eq(&n(&format!("SDK panic case {case}: TARGET_DEAD")), ta.one(c::CMD_SDK_PANIC, st, case), TARGET_DEAD);
    }
    // The dead instances' handles are gone: an exclusive open works.
    match ta.obj_open(b"sdk-panic", WM, st) {
        Ok(h) => eq(&n("handles of dead instances released"), ta.unlink(h), SUCCESS),
        Err(e) => check(false, &n("handles of dead instances released"), format_args!("{e:#x}")),
    }
    // A big object in 1 KiB writes: 1 MiB in the REE FS (once: PRIVATE is
    // the same store), 64 KiB in RPMB (the emulated partition is 256 KiB).
    let size = match st {
        g::STORAGE_PRIVATE_REE => 1 << 20,
        g::STORAGE_PRIVATE_RPMB => 64 << 10,
        _ => return,
    };
    let t0 = Instant::now();
    let (r, o) = ta.op(c::CMD_BIG, vin(st, size), vin(1024, 4096), vout(), none());
    eq(&n(&format!("{} KiB object in 1 KiB writes, read back", size >> 10)), r, SUCCESS);
    if r == SUCCESS {
        let (w, rd) = o[2].unwrap_or((0, 0));
        println!(
            "xtest: storage {name}: {} KiB: write {w} ms, read {rd} ms (TA time); {:.2} s total",
            size >> 10,
            t0.elapsed().as_secs_f64()
        );
    }
    let _ = ta.wipe(st);
}

/// The write loop and its check, briefly.
fn write_loop(ta: &mut Ta, st: u32, name: &str) {
    let n = |what: &str| format!("storage {name}: {what}");
    eq(&n("write loop: 3 generations"), ta.write_loop(st, 4, 3, 200, 0), Ok(3));
    eq(&n("verify after 3"), ta.verify(st, 4), Ok((3, 3, 4, 4)));
    eq(&n("write loop: 2 more, continuing"), ta.write_loop(st, 4, 2, 200, 0), Ok(5));
    eq(&n("verify after 5"), ta.verify(st, 4), Ok((5, 5, 4, 4)));
    eq(&n("write loop: bad size"), ta.write_loop(st, 4, 1, 3, 0), Err(BAD_PARAMETERS));
    // A torn record is found: one object made shorter by hand.
    if let Ok(h) = ta.obj_open(b"wl-2", W, st) {
        ta.trunc(h, 100);
        ta.close(h);
        eq(&n("verify finds a torn record"), ta.verify(st, 4).map(|_| ()), Err(TeeResult::ERROR_BAD_FORMAT.0));
    }
}

/// Runs the storage cases in each storage.
pub fn run(ctx: &mut Context) {
    let mut ta = match Ta::open(ctx, c::UUID) {
        Ok(ta) => ta,
        Err(e) => return check(false, "storage: open the storage test TA", format_args!("{e:#x}")),
    };
    for (st, name) in STORAGES {
        // Leftovers of an earlier run go first; a storage that cannot
        // even be listed or written counts as one failure.
        if let Err(e) = ta.wipe(st) {
            check(false, &format!("storage {name}: list and clear"), format_args!("{e:#x}; skipping this storage"));
            continue;
        }
        match ta.create(b"probe", WM, 0, st, b"probe") {
            Ok(h) => {
                ta.unlink(h);
            }
            Err(e) => {
                check(false, &format!("storage {name}: create"), format_args!("{e:#x}; skipping this storage"));
                continue;
            }
        }
        let t0 = Instant::now();
        basics(&mut ta, st, name);
        truncate(&mut ta, st, name);
        rename(&mut ta, st, name);
        enumeration(&mut ta, st, name);
        conflicts(&mut ta, ctx, c::UUID, st, name);
        positions(&mut ta, st, name);
        keys(&mut ta, st, name);
        isolation(&mut ta, ctx, st, name);
        sdk(&mut ta, st, name);
        write_loop(&mut ta, st, name);
        eq(
            &format!("storage {name}: nothing left behind"),
            ta.wipe(st).map(|_| enumerate(&mut ta, st).map(|v| v.len())),
            Ok(Ok(0)),
        );
        println!("xtest: storage {name}: {:.1} s", t0.elapsed().as_secs_f64());
    }
    // The SMP case with this session's instance gone (four instances of
    // the TA run at once).
    drop(ta);
    concurrency(g::STORAGE_PRIVATE_REE, "REE");
}

fn storage_arg(s: &str) -> Option<u32> {
    match s.to_ascii_lowercase().as_str() {
        "private" => Some(g::STORAGE_PRIVATE),
        "ree" => Some(g::STORAGE_PRIVATE_REE),
        "rpmb" => Some(g::STORAGE_PRIVATE_RPMB),
        _ => None,
    }
}

fn num(args: &[String], i: usize, default: u32) -> u32 {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// `oxtee-xtest storage-loop STORAGE OBJECTS ITERATIONS SIZE`: the
/// reboot test's writer. STORAGE is `private`, `ree` or `rpmb`; OBJECTS
/// (default 8, at most 64) objects `wl-<i>`; ITERATIONS generations (0,
/// the default: until killed or powered off); records of SIZE bytes
/// (default 512). Continues from the highest generation stored. Prints
/// `storage-loop: generation N` after each whole generation, and exits 0
/// after the last (1 with the error code on a failure).
pub fn loop_cli(args: &[String]) -> ! {
    let Some(st) = args.first().and_then(|a| storage_arg(a)) else {
        println!("usage: oxtee-xtest storage-loop private|ree|rpmb [OBJECTS [ITERATIONS [SIZE]]]");
        std::process::exit(2);
    };
    let (objects, iterations, size) = (num(args, 1, 8), num(args, 2, 0), num(args, 3, 512));
    let ctx = Context::new().unwrap_or_else(|e| {
        println!("storage-loop: open /dev/tee0: {e}");
        std::process::exit(1)
    });
    let mut ta = Ta::open(&ctx, c::UUID).unwrap_or_else(|e| {
        println!("storage-loop: open the storage test TA: {e:#x}");
        std::process::exit(1)
    });
    let mut next = 0;
    let mut done = 0;
    while iterations == 0 || done < iterations {
        match ta.write_loop(st, objects, 1, size, next) {
            Ok(g) => {
                println!("storage-loop: generation {g}");
                next = g.wrapping_add(1).max(1);
                done += 1;
            }
            Err(e) => {
                println!("storage-loop: FAIL {e:#x}");
                std::process::exit(1);
            }
        }
    }
    std::process::exit(0)
}

/// `oxtee-xtest storage-verify STORAGE OBJECTS`: the reboot test's check.
/// Prints `storage-verify: ok generations HI..LO present P first-lower F`
/// and exits 0, or `storage-verify: FAIL <code>` and exits 1 (BAD_FORMAT
/// 0xffff0005: a torn or foreign record; BAD_STATE 0xffff0007: the
/// generations out of order; CORRUPT_OBJECT 0xf0100001 and others: the
/// kernel's answer to an open or read).
pub fn verify_cli(args: &[String]) -> ! {
    let Some(st) = args.first().and_then(|a| storage_arg(a)) else {
        println!("usage: oxtee-xtest storage-verify private|ree|rpmb [OBJECTS]");
        std::process::exit(2);
    };
    let objects = num(args, 1, 8);
    let ctx = Context::new().unwrap_or_else(|e| {
        println!("storage-verify: open /dev/tee0: {e}");
        std::process::exit(1)
    });
    let mut ta = Ta::open(&ctx, c::UUID).unwrap_or_else(|e| {
        println!("storage-verify: open the storage test TA: {e:#x}");
        std::process::exit(1)
    });
    match ta.verify(st, objects) {
        Ok((hi, lo, present, first_lower)) => {
            println!("storage-verify: ok generations {hi}..{lo} present {present} first-lower {first_lower}");
            std::process::exit(0)
        }
        Err(e) => {
            println!("storage-verify: FAIL {e:#x}");
            std::process::exit(1)
        }
    }
}

/// `oxtee-xtest storage-wipe STORAGE`: deletes every object of the
/// storage test TA in STORAGE (before a write loop with another number of
/// objects: `PRIVATE` and `REE` are the same store, as upstream). Prints
/// `storage-wipe: N objects deleted`.
pub fn wipe_cli(args: &[String]) -> ! {
    let Some(st) = args.first().and_then(|a| storage_arg(a)) else {
        println!("usage: oxtee-xtest storage-wipe private|ree|rpmb");
        std::process::exit(2);
    };
    let ctx = Context::new().unwrap_or_else(|e| {
        println!("storage-wipe: open /dev/tee0: {e}");
        std::process::exit(1)
    });
    let mut ta = Ta::open(&ctx, c::UUID).unwrap_or_else(|e| {
        println!("storage-wipe: open the storage test TA: {e:#x}");
        std::process::exit(1)
    });
    match ta.wipe(st) {
        Ok(n) => {
            println!("storage-wipe: {n} objects deleted");
            std::process::exit(0)
        }
        Err(e) => {
            println!("storage-wipe: FAIL {e:#x}");
            std::process::exit(1)
        }
    }
}

/// Storage used at the same time by several sessions on several CPUs: two
/// threads in each of two TAs (the storage TA and its second UUID; each
/// session is its own instance), each with private objects it creates,
/// writes, reads back, renames and deletes, and one object per TA shared
/// by both of its threads (opened for shared read and write), into which
/// each thread writes its own records at its own offsets. Afterwards every
/// record is where it was written and nothing is left behind.
pub fn concurrency(st: u32, name: &str) {
    const THREADS: usize = 4;
    const ROUNDS: usize = 12;
    const REC: usize = 600;
    let shared_flags = R | W | SR | SW;
    let t0 = Instant::now();
    // The shared objects exist before the threads start.
    for uuid in [c::UUID, c::UUID_OTHER] {
        let Ok(ctx) = Context::new() else { return check(false, "storage SMP: context", format_args!("")) };
        let Ok(mut ta) = Ta::open(&ctx, uuid) else { return check(false, "storage SMP: session", format_args!("")) };
        let _ = ta.wipe(st);
        match ta.create(b"smp-shared", shared_flags | OVERWRITE, 0, st, &[]) {
            Ok(h) => {
                ta.close(h);
            }
            Err(e) => {
                return check(false, &format!("storage {name} SMP: create the shared object"), format_args!("{e:#x}"));
            }
        }
    }
    let results: Vec<Vec<String>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..THREADS)
            .map(|i| {
                s.spawn(move || {
                    let mut errs = Vec::new();
                    let uuid = if i % 2 == 0 { c::UUID } else { c::UUID_OTHER };
                    let slot = i / 2; // which of the two writers of its TA
                    let Ok(ctx) = Context::new() else { return vec!["context".into()] };
                    let mut ta = match Ta::open(&ctx, uuid) {
                        Ok(ta) => ta,
                        Err(e) => return vec![format!("thread {i}: open session: {e:#x}")],
                    };
                    let shared = match ta.obj_open(b"smp-shared", shared_flags, st) {
                        Ok(h) => h,
                        Err(e) => return vec![format!("thread {i}: open shared: {e:#x}")],
                    };
                    for r in 0..ROUNDS {
                        let id = format!("smp-{i}-{r}");
                        let body = data(REC * (1 + r % 3), (i * 31 + r) as u8);
                        match ta.create(id.as_bytes(), R | W | WM, 0, st, &body[..REC]) {
                            Ok(h) => {
                                // A created object's position is 0: append after its data.
                                if ta.seek(h, 0, SEEK_END) != SUCCESS
                                    || ta.write(h, &body[REC..]) != SUCCESS
                                    || ta.seek(h, 0, SEEK_SET) != SUCCESS
                                    || ta.read(h, body.len() + 10).as_deref() != Ok(&body[..])
                                {
                                    errs.push(format!("thread {i} round {r}: private object read back differs"));
                                }
                                let new = format!("smp-{i}-{r}-renamed");
                                if ta.rename(h, new.as_bytes()) != SUCCESS {
                                    errs.push(format!("thread {i} round {r}: rename"));
                                }
                                if r % 2 == 0 {
                                    ta.unlink(h);
                                } else {
                                    ta.close(h);
                                }
                            }
                            Err(e) => errs.push(format!("thread {i} round {r}: create: {e:#x}")),
                        }
                        // This thread's record in the shared object.
                        let rec = data(REC, (0x80 + i * 8 + r) as u8);
                        let at = ((r * 2 + slot) * REC) as i32;
                        if ta.seek(shared, at, SEEK_SET) != SUCCESS || ta.write(shared, &rec) != SUCCESS {
                            errs.push(format!("thread {i} round {r}: shared write"));
                        }
                        if ta.seek(shared, at, SEEK_SET) != SUCCESS || ta.read(shared, REC).as_deref() != Ok(&rec[..]) {
                            errs.push(format!("thread {i} round {r}: shared record read back differs"));
                        }
                    }
                    ta.close(shared);
                    errs
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or_else(|_| vec!["thread panicked".into()])).collect()
    });
    let errs: Vec<&String> = results.iter().flatten().collect();
    check(
        errs.is_empty(),
        &format!("storage {name} SMP: {THREADS} threads, 2 TAs, private and shared objects"),
        format_args!("{errs:?}"),
    );
    // Every record of every thread, checked from a fresh session, and the
    // private objects that were kept (odd rounds, renamed).
    for (t, uuid) in [c::UUID, c::UUID_OTHER].into_iter().enumerate() {
        let Ok(ctx) = Context::new() else { return };
        let Ok(mut ta) = Ta::open(&ctx, uuid) else { return };
        let whole = ta.obj_open(b"smp-shared", R, st).and_then(|h| {
            let d = ta.read(h, ROUNDS * 2 * REC + 10);
            ta.close(h);
            d
        });
        let want: Vec<u8> = (0..ROUNDS)
            .flat_map(|r| (0..2).flat_map(move |slot| data(REC, (0x80 + (slot * 2 + t) * 8 + r) as u8)))
            .collect();
        eq(
            &format!("storage {name} SMP: shared object of TA {t} holds every record"),
            whole.as_deref().map(|d| d == &want[..]),
            Ok(true),
        );
        let kept = enumerate(&mut ta, st).map(|v| v.iter().filter(|(_, id)| id.ends_with(b"-renamed")).count());
        eq(&format!("storage {name} SMP: kept objects of TA {t}"), kept, Ok(2 * ROUNDS / 2));
        let _ = ta.wipe(st);
    }
    println!("xtest: storage {name} SMP: {:.1} s", t0.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharing_rule_examples() {
        assert!(may_share(R | SR, R | SR));
        assert!(!may_share(R, R | SR));
        assert!(!may_share(R | SR, R));
        assert!(may_share(SR | SW, SR | SW));
        assert!(may_share(0, 0));
        assert!(!may_share(0, SR));
        assert!(!may_share(WM, 0));
        assert!(may_share(R | W | SR | SW, R | W | SR | SW));
        assert!(!may_share(R | W | SR, R | SR));
    }
}
