//! The GP Trusted Storage syscalls (numbers 41-53 of upstream's
//! `tee_syscall_numbers.h`) with upstream's kernel semantics
//! (`tee_svc_storage.c`, `tee_pobj.c`): persistent objects share the TA's
//! object handles with transient ones, each handle has its own flags and
//! data position, and handles of one object (one TA, one storage, one
//! identifier) share an open file through the registry below, with GP's
//! access and sharing rules checked against the first opener's flags.
//!
//! Locking: the registry's spin lock is held only to find or add an
//! entry; each object has its own sleeping lock, held across the RPCs of
//! one operation. Objects of different TAs, or different objects of one
//! TA, are worked on in parallel.

use super::cryp::{OBJ_COST, ObjEntry, Table};
use super::space::{Access, UserMem, UserSpace};
use crate::Os;
use crate::rpc::Rpc;
use crate::storage::backend::Backend;
use crate::storage::engine::{Entry, ObjMeta, Object as FileObj, Store};
use crate::storage::keys::{Key, TaKeys};
use crate::storage::ree::ReeFs;
use crate::storage::rpmb::{Anchor, Device, Rpmb, RpmbFs, over_rpc};
use crate::storage::{self as st, OBJECT_ID_MAX_LEN};
use crate::sync::SleepGuard;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use oxtee_abi::addr::UserVirt;
use oxtee_abi::ta::crypto::{self as id, UteeObjectInfo};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_crypto::object::Object;
use oxtee_guard::SpinLock;
use zerocopy::IntoBytes;

type R<T> = Result<T, TeeResult>;

/// Objects open at once, all TAs together (each slot one object, however
/// many handles it has).
pub const MAX_OPEN_OBJECTS: usize = 512;
/// Largest data one create or write call takes in one piece (it is written
/// atomically, so it is held in the kernel): beyond it OUT_OF_MEMORY.
pub const MAX_ATOMIC_WRITE: u64 = 4 << 20;
/// Kernel heap a create or write of `len` bytes may take: the copy of the
/// data, the engine's run buffer (up to 64 blocks), a new header.
fn write_room(len: u64) -> usize {
    let len = len as usize;
    len + len.clamp(4096, 256 << 10) + (32 << 10)
}

/// Reads are copied out this much at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Stores recovered since boot that are remembered (beyond, recovery runs
/// again, which is harmless).
const RECOVERED_SLOTS: usize = 64;

const VALID_OPEN: u32 = id::DATA_FLAG_ACCESS_READ
    | id::DATA_FLAG_ACCESS_WRITE
    | id::DATA_FLAG_ACCESS_WRITE_META
    | id::DATA_FLAG_SHARE_READ
    | id::DATA_FLAG_SHARE_WRITE;
const VALID_CREATE: u32 = VALID_OPEN | id::DATA_FLAG_OVERWRITE;

fn v(a: u64) -> UserVirt {
    UserVirt::new(a)
}

/// An object identifier (at most 64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ObjId {
    len: u8,
    bytes: [u8; OBJECT_ID_MAX_LEN],
}

impl ObjId {
    fn new(b: &[u8]) -> R<ObjId> {
        if b.len() > OBJECT_ID_MAX_LEN {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut bytes = [0; OBJECT_ID_MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        Ok(ObjId { len: b.len() as u8, bytes })
    }

    fn get(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// One object some handles have open.
pub struct PObj {
    uuid: Uuid,
    storage: u32,
    id: SpinLock<ObjId>,
    /// The first opener's flags: later opens are checked against them.
    flags: u32,
    /// Handles (and enumerator peeks) holding it.
    refs: AtomicU32,
    /// Being created: other opens get ACCESS_CONFLICT.
    creating: AtomicBool,
    /// Usage flags, shared by the handles (TEE_RestrictObjectUsage1).
    usage: AtomicU32,
    /// Data size after the last operation (what GetObjectInfo shows while
    /// another thread works on the file).
    size: AtomicU64,
    /// Serialises the operations on the file (held across RPCs).
    lock: crate::sync::SleepMutex,
    /// The open file; None while an operation has it, or before it is
    /// opened, or after an aborted operation dropped it (it is then
    /// opened again from the backend, where it is consistent).
    file: SpinLock<Option<FileObj>>,
}

/// A handle's part of a persistent object.
pub struct Pers {
    pobj: Arc<PObj>,
    /// `TEE_DATA_FLAG_*` of this handle.
    flags: u32,
    pos: u64,
}

impl Drop for Pers {
    fn drop(&mut self) {
        self.pobj.refs.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An enumerator: the objects listed when it was started.
#[derive(Default)]
pub struct Enumerator {
    started: Option<(u32, Vec<Entry>, usize)>,
}

/// Why an object is looked up (upstream's `tee_pobj_usage`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Usage {
    Open,
    Create,
    Rename,
}

/// The storage service: the key, the registry of open objects.
pub struct Storage {
    ssk: Key,
    huk: Key,
    slots: SpinLock<Vec<Option<Arc<PObj>>>>,
    /// The RPMB device and its file system (taken out while in use, under
    /// `rpmb_lock`, held across RPCs: the device has one write counter).
    rpmb: SpinLock<Option<Rpmb>>,
    rpmb_lock: crate::sync::SleepMutex,
    anchor: SpinLock<AnchorState>,
    anchor_lock: crate::sync::SleepMutex,
    version_lock: crate::sync::SleepMutex,
    /// Held while a TA is installed into [`SYSTEM_TA_STORE`].
    pub(super) ta_store_lock: crate::sync::SleepMutex,
    recovered: SpinLock<[Option<(Uuid, u32)>; RECOVERED_SLOTS]>,
}

impl Default for Storage {
    fn default() -> Self {
        Storage::new(&[0; 32])
    }
}

/// Upstream's `tee_pobj_check_access`: may a handle with `new` flags join
/// an object first opened with `old`?
fn check_access(old: u32, new: u32) -> R<()> {
    let conflict = Err(TeeResult::ERROR_ACCESS_CONFLICT);
    if (old | new) & id::DATA_FLAG_ACCESS_WRITE_META != 0 {
        return conflict;
    }
    let share_r = id::DATA_FLAG_SHARE_READ;
    let share_w = id::DATA_FLAG_SHARE_WRITE;
    if (old | new) & id::DATA_FLAG_ACCESS_READ != 0 && (new & share_r == 0 || old & share_r == 0) {
        return conflict;
    }
    if new & share_r != old & share_r {
        return conflict;
    }
    if (old | new) & id::DATA_FLAG_ACCESS_WRITE != 0 && (new & share_w == 0 || old & share_w == 0) {
        return conflict;
    }
    if new & share_w != old & share_w {
        return conflict;
    }
    Ok(())
}

impl Storage {
    pub fn new(huk: &[u8]) -> Storage {
        Storage {
            ssk: st::keys::ssk(huk),
            huk: Key(st::keys::hmac(huk, &[b"oxtee/huk-copy/v1"])),
            slots: SpinLock::new(Vec::new()),
            rpmb: SpinLock::new(None),
            rpmb_lock: crate::sync::SleepMutex::new(),
            anchor: SpinLock::new(AnchorState::Unchecked),
            anchor_lock: crate::sync::SleepMutex::new(),
            version_lock: crate::sync::SleepMutex::new(),
            ta_store_lock: crate::sync::SleepMutex::new(),
            recovered: SpinLock::new([None; RECOVERED_SLOTS]),
        }
    }

    /// The system PTA's TA-unique key: derived from the hardware unique key
    /// for TA `uuid` and the TA's `extra` data, `out.len()` bytes (at most
    /// 32).
    pub fn ta_unique_key(&self, uuid: &Uuid, extra: &[u8], out: &mut [u8]) {
        let k = st::keys::hmac(&self.huk.0, &[b"oxtee/ta-unique-key/v1", &uuid.to_octets(), extra]);
        let n = out.len().min(k.len());
        out[..n].copy_from_slice(&k[..n]);
    }

    /// The key the RPMB partition is programmed with.
    pub fn rpmb_key(&self) -> Key {
        st::keys::rpmb_key(&self.huk.0)
    }

    pub(super) fn store(&self, storage: u32, uuid: &Uuid) -> Store {
        Store::new(TaKeys::new(&self.ssk, storage, uuid))
    }

    /// Upstream's `tee_pobj_get`: the registry entry for the object,
    /// joined or made.
    fn get(&self, uuid: Uuid, storage: u32, oid: &ObjId, flags: u32, usage: Usage) -> R<Arc<PObj>> {
        // Made before the lock is taken: nothing allocates under it.
        let fresh = Arc::new(PObj {
            uuid,
            storage,
            id: SpinLock::new(*oid),
            flags,
            refs: AtomicU32::new(1),
            creating: AtomicBool::new(usage == Usage::Create),
            usage: AtomicU32::new(0),
            size: AtomicU64::new(0),
            lock: crate::sync::SleepMutex::new(),
            file: SpinLock::new(None),
        });
        let mut slots = self.slots.lock();
        let live = |p: &Arc<PObj>| p.refs.load(Ordering::Acquire) > 0;
        let found =
            slots.iter().flatten().find(|p| live(p) && p.uuid == uuid && p.storage == storage && *p.id.lock() == *oid);
        if let Some(p) = found {
            if p.creating.load(Ordering::Acquire) || (usage == Usage::Create && flags & id::DATA_FLAG_OVERWRITE == 0) {
                return Err(TeeResult::ERROR_ACCESS_CONFLICT);
            }
            if usage == Usage::Rename {
                return Err(TeeResult::ERROR_ACCESS_CONFLICT);
            }
            check_access(p.flags, flags)?;
            p.refs.fetch_add(1, Ordering::AcqRel);
            return Ok(p.clone());
        }
        let free = slots.iter().position(|s| s.as_ref().is_none_or(|p| !live(p)));
        match free {
            Some(i) => {
                slots[i] = Some(fresh.clone());
                Ok(fresh)
            }
            None if slots.len() < slots.capacity() => {
                slots.push(Some(fresh.clone()));
                Ok(fresh)
            }
            None => Err(TeeResult::ERROR_OUT_OF_MEMORY),
        }
    }

    /// Makes room in the registry outside its lock (the registry never
    /// allocates while locked).
    fn reserve(&self) {
        let need = {
            let s = self.slots.lock();
            s.capacity() == 0
        };
        if need {
            let mut v: Vec<Option<Arc<PObj>>> = Vec::new();
            if v.try_reserve_exact(MAX_OPEN_OBJECTS).is_ok() {
                let mut s = self.slots.lock();
                if s.capacity() == 0 {
                    *s = v;
                }
            }
        }
    }

    /// The flags of the open object `oid`, if it is open.
    fn open_flags(&self, uuid: Uuid, storage: u32, oid: &[u8]) -> Option<u32> {
        let slots = self.slots.lock();
        slots
            .iter()
            .flatten()
            .find(|p| {
                p.refs.load(Ordering::Acquire) > 0 && p.uuid == uuid && p.storage == storage && p.id.lock().get() == oid
            })
            .map(|p| p.flags)
    }

    /// Runs the store's recovery once per boot for each TA and storage.
    fn recover_once(&self, b: &mut dyn Backend, store: &Store, uuid: Uuid, storage: u32) -> R<()> {
        if self.recovered.lock().iter().flatten().any(|&(u, s)| u == uuid && s == storage) {
            return Ok(());
        }
        store.recover(b)?;
        let mut r = self.recovered.lock();
        if let Some(slot) = r.iter_mut().find(|s| s.is_none()) {
            *slot = Some((uuid, storage));
        }
        Ok(())
    }
}

/// Which storage ids exist: REE FS for PRIVATE and PRIVATE_REE, the RPMB
/// file system for PRIVATE_RPMB; anything else ITEM_NOT_FOUND (upstream's
/// answer for a storage it does not have).
fn backend_for(storage: u64) -> R<u32> {
    match u32::try_from(storage) {
        Ok(st::STORAGE_PRIVATE | st::STORAGE_PRIVATE_REE) => Ok(st::STORAGE_PRIVATE_REE),
        Ok(st::STORAGE_PRIVATE_RPMB) => Ok(st::STORAGE_PRIVATE_RPMB),
        _ => Err(TeeResult::ERROR_ITEM_NOT_FOUND),
    }
}

/// Whether `n` (with its arguments) is served here rather than by the
/// crypto table: the storage calls, and closing, inspecting or restricting
/// a persistent object.
pub fn is_storage_syscall(n: u32, a: &[u64; 31], space: &UserSpace) -> bool {
    use oxtee_abi::ta as sc;
    match n {
        sc::SYS_STORAGE_OBJ_OPEN..=sc::SYS_STORAGE_OBJ_SEEK => true,
        sc::SYS_CRYP_OBJ_CLOSE | sc::SYS_CRYP_OBJ_GET_INFO | sc::SYS_CRYP_OBJ_RESTRICT_USAGE => {
            space.cryp.obj(a[0]).is_ok_and(|e| e.pers.is_some())
        }
        _ => false,
    }
}

/// The call's context: who asks, and the channel to the backend.
pub struct Ctx<'o, 'r, 'a> {
    pub os: &'o Os,
    pub uuid: Uuid,
    pub rpc: &'r mut Rpc<'a>,
}

pub fn syscall(cx: &mut Ctx, n: u32, a: &[u64; 31], space: &mut UserSpace) -> R<()> {
    cx.os.storage.reserve();
    let r = dispatch(cx, n, a, space);
    if let Err(e) = r
        && matches!(
            e,
            TeeResult::ERROR_OUT_OF_MEMORY
                | TeeResult::ERROR_COMMUNICATION
                | TeeResult::ERROR_GENERIC
                | TeeResult::ERROR_STORAGE_NO_SPACE
                | TeeResult::ERROR_CORRUPT_OBJECT
                | TeeResult::ERROR_SECURITY
        )
    {
        log::warn!(
            "TA {}: storage syscall {n}: {e} (kernel heap {} of {} KiB in use)",
            cx.uuid,
            oxtee_guard::heap::used() >> 10,
            oxtee_guard::heap::total() >> 10
        );
    }
    r
}

fn dispatch(cx: &mut Ctx, n: u32, a: &[u64; 31], space: &mut UserSpace) -> R<()> {
    use oxtee_abi::ta as sc;
    let (mem, t) = space.split();
    match n {
        sc::SYS_STORAGE_OBJ_OPEN => open(cx, mem, t, a),
        sc::SYS_STORAGE_OBJ_CREATE => create(cx, mem, t, a),
        sc::SYS_STORAGE_OBJ_DEL => delete(cx, t, a[0]),
        sc::SYS_STORAGE_OBJ_RENAME => rename(cx, mem, t, a),
        sc::SYS_STORAGE_ENUM_ALLOC => {
            let h = t.new_handle(OBJ_COST)?;
            mem.write_u32(v(a[0]), h)?;
            t.enums.insert(h, Enumerator::default());
            Ok(())
        }
        sc::SYS_STORAGE_ENUM_FREE => {
            let h = enum_handle(t, a[0])?;
            t.enums.remove(&h);
            Ok(())
        }
        sc::SYS_STORAGE_ENUM_RESET => {
            let h = enum_handle(t, a[0])?;
            if let Some(e) = t.enums.get_mut(&h) {
                e.started = None;
            }
            Ok(())
        }
        sc::SYS_STORAGE_ENUM_START => enum_start(cx, t, a[0], a[1]),
        sc::SYS_STORAGE_ENUM_NEXT => enum_next(cx, mem, t, a),
        sc::SYS_STORAGE_OBJ_READ => read(cx, mem, t, a),
        sc::SYS_STORAGE_OBJ_WRITE => write(cx, mem, t, a),
        sc::SYS_STORAGE_OBJ_TRUNC => truncate(cx, t, a[0], a[1]),
        sc::SYS_STORAGE_OBJ_SEEK => seek(t, a[0], a[1] as u32 as i32, a[2]),
        sc::SYS_CRYP_OBJ_CLOSE => close(cx, t, a[0]),
        sc::SYS_CRYP_OBJ_GET_INFO => {
            let info = info_of(t.obj(a[0])?)?;
            mem.write(v(a[1]), info.as_bytes())
        }
        sc::SYS_CRYP_OBJ_RESTRICT_USAGE => restrict_usage(cx, t, a[0], a[1] as u32),
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

fn enum_handle(t: &Table, h: u64) -> R<u32> {
    let h = u32::try_from(h).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
    if t.enums.contains_key(&h) { Ok(h) } else { Err(TeeResult::ERROR_BAD_PARAMETERS) }
}

fn read_id(mem: &UserMem, ptr: u64, len: u64) -> R<ObjId> {
    if len > OBJECT_ID_MAX_LEN as u64 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let mut b = [0u8; OBJECT_ID_MAX_LEN];
    if len > 0 {
        // The id must be the TA's own memory, as upstream: not a buffer
        // its client shares with it (xtest 6020).
        if !mem.is_private(v(ptr), len) {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        }
        mem.read(v(ptr), &mut b[..len as usize])?;
    }
    ObjId::new(&b[..len as usize])
}

/// The info GP shows of a handle (`TEE_GetObjectInfo1`).
fn info_of(e: &ObjEntry) -> R<UteeObjectInfo> {
    let mut info = e.obj.info();
    if let Some(p) = &e.pers {
        let size = p.pobj.size.load(Ordering::Acquire);
        info.obj_usage = p.pobj.usage.load(Ordering::Acquire);
        info.handle_flags = id::HANDLE_FLAG_PERSISTENT | id::HANDLE_FLAG_INITIALIZED | p.flags;
        info.data_pos = p.pos as u32;
        info.data_size = size as u32;
    }
    Ok(info)
}

/// Runs `f` on object `p`'s file with its lock held, opening the file if
/// no handle has it open. A file found corrupt is removed (GP) and the
/// answer is CORRUPT_OBJECT.
fn with_file<T>(cx: &mut Ctx, p: &Arc<PObj>, f: impl FnOnce(&mut dyn Backend, &Store, &mut FileObj) -> R<T>) -> R<T> {
    let t = cx.rpc.t;
    let keys = &cx.os.notif;
    crate::hold!(guard = SleepGuard::lock(&p.lock, cx.rpc, keys)?, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    let store = cx.os.storage.store(p.storage, &p.uuid);
    let oid = *p.id.lock();
    let r = on_backend(cx.os, cx.rpc, p.storage, |b| {
        let taken = p.file.lock().take();
        let mut file = match taken {
            Some(f) => f,
            None => match store.open(b, oid.get()) {
                Ok(f) => f,
                Err(TeeResult::ERROR_CORRUPT_OBJECT) => {
                    let _ = store.remove_corrupt(b, oid.get());
                    return Err(TeeResult::ERROR_CORRUPT_OBJECT);
                }
                Err(e) => return Err(e),
            },
        };
        let r = f(b, &store, &mut file);
        p.size.store(file.data_len(), Ordering::Release);
        match r {
            Err(TeeResult::ERROR_CORRUPT_OBJECT) => {
                let _ = file.close(b);
                let _ = store.remove_corrupt(b, oid.get());
            }
            _ => *p.file.lock() = Some(file),
        }
        r
    });
    let _ = guard.as_mut().get().unlock(cx.rpc);
    r
}

/// Drops a handle's hold on its object; the last one closes the file.
fn release(cx: &mut Ctx, pers: Pers) {
    let p = pers.pobj.clone();
    drop(pers);
    if p.refs.load(Ordering::Acquire) == 0 {
        let file = p.file.lock().take();
        if let Some(f) = file {
            let _ = on_backend(cx.os, cx.rpc, p.storage, |b| f.close(b));
        }
    }
}

/// Closes every persistent object of an instance that is going away.
pub fn close_all(os: &Os, rpc: &mut Rpc, space: &mut UserSpace) {
    let hs: Vec<u32> = space.cryp.objs.iter().filter(|(_, e)| e.pers.is_some()).map(|(h, _)| *h).collect();
    let mut cx = Ctx { os, uuid: Uuid::NIL, rpc };
    for h in hs {
        if let Some(e) = space.cryp.objs.remove(&h)
            && let Some(p) = e.pers
        {
            release(&mut cx, p);
        }
    }
}

fn new_handle_for(cx: &mut Ctx, mem: &mut UserMem, t: &mut Table, out: u64, obj: Object, pers: Pers) -> R<()> {
    let h = match t.new_handle(OBJ_COST) {
        Ok(h) => h,
        Err(e) => {
            release(cx, pers);
            return Err(e);
        }
    };
    if out != 0
        && let Err(e) = mem.write_u32(v(out), h)
    {
        release(cx, pers);
        return Err(e);
    }
    t.objs.insert(h, ObjEntry { obj, busy: false, pers: Some(pers) });
    Ok(())
}

fn restore(file: &FileObj) -> R<Object> {
    let m = file.meta();
    Object::restore(m.obj_type, m.max_key_size, m.key_size, m.usage, file.attrs())
        .map_err(|e| if e == TeeResult::ERROR_OUT_OF_MEMORY { e } else { TeeResult::ERROR_CORRUPT_OBJECT })
}

fn open(cx: &mut Ctx, mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (storage, id_ptr, id_len, flags, out) = (a[0], a[1], a[2], a[3], a[4]);
    let flags = u32::try_from(flags).ok().filter(|f| f & !VALID_OPEN == 0).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
    let storage = backend_for(storage)?;
    let oid = read_id(mem, id_ptr, id_len)?;
    let p = cx.os.storage.get(cx.uuid, storage, &oid, flags, Usage::Open)?;
    let pers = Pers { pobj: p.clone(), flags, pos: 0 };
    let first = p.refs.load(Ordering::Acquire) == 1;
    let r = with_file(cx, &p, |_, _, file| {
        let obj = restore(file)?;
        Ok((obj, file.meta().usage))
    });
    match r {
        Ok((obj, usage)) => {
            if first {
                p.usage.store(usage, Ordering::Release);
            }
            new_handle_for(cx, mem, t, out, obj, pers)
        }
        Err(e) => {
            release(cx, pers);
            Err(e)
        }
    }
}

fn create(cx: &mut Ctx, mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (storage, id_ptr, id_len, flags, attr, data, len, out) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    let flags = u32::try_from(flags).ok().filter(|f| f & !VALID_CREATE == 0).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
    let storage = backend_for(storage)?;
    if id_len > OBJECT_ID_MAX_LEN as u64 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    if len != 0 && data == 0 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let oid = read_id(mem, id_ptr, id_len)?;
    // The key part, from the attribute object.
    let (meta, attrs, obj) = if attr != 0 {
        let e = t.obj(attr)?;
        if !e.obj.is_initialized() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let o = &e.obj;
        let usage = match &e.pers {
            Some(p) => p.pobj.usage.load(Ordering::Acquire),
            None => o.usage,
        };
        let meta = ObjMeta { obj_type: o.obj_type, key_size: o.key_size, max_key_size: o.max_size, usage, flags };
        let bin = o.attrs_to_binary()?;
        let restored = Object::restore(o.obj_type, o.max_size, o.key_size, usage, &bin)?;
        (meta, bin, restored)
    } else {
        // A pure data object allows every usage, as upstream reports it
        // (xtest 6021); restricting it is remembered like a key's.
        let usage = oxtee_crypto::object::USAGE_DEFAULT;
        let meta = ObjMeta { obj_type: id::TYPE_DATA, key_size: 0, max_key_size: 0, usage, flags };
        (meta, oxtee_crypto::Secret::new(Vec::new()), Object::restore(id::TYPE_DATA, 0, 0, usage, &[])?)
    };
    if len > MAX_ATOMIC_WRITE || !oxtee_guard::heap::room_for(write_room(len)) {
        return Err(TeeResult::ERROR_OUT_OF_MEMORY);
    }
    let mut init = Vec::new();
    init.try_reserve_exact(len as usize).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    init.resize(len as usize, 0);
    if len > 0 {
        mem.read(v(data), &mut init)?;
    }
    let p = cx.os.storage.get(cx.uuid, storage, &oid, flags, Usage::Create)?;
    p.usage.store(meta.usage, Ordering::Release);
    let pers = Pers { pobj: p.clone(), flags, pos: 0 };
    let uuid = cx.uuid;
    let os = cx.os;
    let r = {
        let t0 = cx.rpc.t;
        let keys = &os.notif;
        crate::hold!(guard = SleepGuard::lock(&p.lock, cx.rpc, keys)?, in &t0.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let store = os.storage.store(storage, &uuid);
        let r = on_backend(os, cx.rpc, storage, |b| {
            os.storage.recover_once(b, &store, uuid, storage)?;
            let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
            let f =
                store.create(b, oid.get(), &meta, &attrs, &init, flags & id::DATA_FLAG_OVERWRITE != 0, &mut rand)?;
            p.size.store(f.data_len(), Ordering::Release);
            let old = p.file.lock().replace(f);
            if let Some(old) = old {
                let _ = old.close(b);
            }
            Ok(())
        });
        mark_dirty(cx.rpc, storage, &r);
        let _ = guard.as_mut().get().unlock(cx.rpc);
        r
    };
    p.creating.store(false, Ordering::Release);
    match r {
        // Upstream: with no handle asked for, a transient attribute object
        // becomes the persistent object itself (its usage then shows the
        // stored one).
        Ok(()) if out == 0 && attr != 0 && t.obj(attr).is_ok_and(|e| e.pers.is_none() && !e.busy) => {
            if let Ok(e) = t.obj_mut(attr) {
                e.obj = obj;
                e.obj.handle_flags |= id::HANDLE_FLAG_PERSISTENT;
                e.pers = Some(pers);
            }
            Ok(())
        }
        Ok(()) if out == 0 => {
            release(cx, pers);
            Ok(())
        }
        Ok(()) => new_handle_for(cx, mem, t, out, obj, pers),
        Err(e) => {
            release(cx, pers);
            Err(e)
        }
    }
}

/// The persistent part of handle `h`: BAD_STATE for a transient object
/// (or none).
fn pers_of(t: &Table, h: u64) -> R<(Arc<PObj>, u32, u64)> {
    let e = t.obj(h)?;
    let p = e.pers.as_ref().ok_or(TeeResult::ERROR_BAD_STATE)?;
    Ok((p.pobj.clone(), p.flags, p.pos))
}

fn set_pos(t: &mut Table, h: u64, pos: u64) {
    if let Ok(e) = t.obj_mut(h)
        && let Some(p) = e.pers.as_mut()
    {
        p.pos = pos;
    }
}

/// After CORRUPT_OBJECT the handle is closed, as upstream (the file is
/// already gone).
fn drop_corrupt<T>(cx: &mut Ctx, t: &mut Table, h: u64, r: R<T>) -> R<T> {
    if r.as_ref().err() == Some(&TeeResult::ERROR_CORRUPT_OBJECT)
        && let Some(e) = t.objs.remove(&(h as u32))
        && let Some(p) = e.pers
    {
        release(cx, p);
    }
    r
}

fn close(cx: &mut Ctx, t: &mut Table, h: u64) -> R<()> {
    let e = t.obj(h)?;
    if e.pers.is_none() {
        return Err(TeeResult::ERROR_BAD_STATE);
    }
    if let Some(e) = t.objs.remove(&(h as u32))
        && let Some(p) = e.pers
    {
        release(cx, p);
    }
    Ok(())
}

fn delete(cx: &mut Ctx, t: &mut Table, h: u64) -> R<()> {
    if t.obj(h)?.pers.is_none() {
        // Upstream checks the handle's WRITE_META flag first, which a
        // transient object never has.
        return Err(TeeResult::ERROR_ACCESS_CONFLICT);
    }
    let (p, flags, _) = pers_of(t, h)?;
    if flags & id::DATA_FLAG_ACCESS_WRITE_META == 0 {
        return Err(TeeResult::ERROR_ACCESS_CONFLICT);
    }
    let r = {
        let t0 = cx.rpc.t;
        let keys = &cx.os.notif;
        crate::hold!(guard = SleepGuard::lock(&p.lock, cx.rpc, keys)?, in &t0.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let store = cx.os.storage.store(p.storage, &p.uuid);
        let oid = *p.id.lock();
        let r = on_backend(cx.os, cx.rpc, p.storage, |b| {
            let taken = p.file.lock().take();
            match taken {
                Some(f) => f.remove(b),
                None => match store.open(b, oid.get()) {
                    Ok(f) => f.remove(b),
                    Err(_) => store.remove_corrupt(b, oid.get()),
                },
            }
        });
        mark_dirty(cx.rpc, p.storage, &r);
        let _ = guard.as_mut().get().unlock(cx.rpc);
        r
    };
    if let Some(e) = t.objs.remove(&(h as u32))
        && let Some(pers) = e.pers
    {
        release(cx, pers);
    }
    r
}

fn rename(cx: &mut Ctx, mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (h, id_ptr, id_len) = (a[0], a[1], a[2]);
    if id_len > OBJECT_ID_MAX_LEN as u64 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let (p, flags, _) = pers_of(t, h)?;
    if flags & id::DATA_FLAG_ACCESS_WRITE_META == 0 {
        return Err(TeeResult::ERROR_BAD_STATE);
    }
    let new = read_id(mem, id_ptr, id_len)?;
    if new == *p.id.lock() {
        // Upstream's rename finds the object itself open: a conflict.
        return Err(TeeResult::ERROR_ACCESS_CONFLICT);
    }
    // Holding the new name in the registry keeps others from opening or
    // creating it meanwhile.
    let hold = cx.os.storage.get(p.uuid, p.storage, &new, id::DATA_FLAG_ACCESS_WRITE_META, Usage::Rename)?;
    let guard_new = Pers { pobj: hold, flags: 0, pos: 0 };
    let os = cx.os;
    let r = with_file(cx, &p, |b, store, file| {
        let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
        file.rename(store, b, new.get(), &mut rand)
    });
    mark_dirty(cx.rpc, p.storage, &r);
    if r.is_ok() {
        *p.id.lock() = new;
    }
    drop(guard_new);
    drop_corrupt(cx, t, h, r)
}

fn read(cx: &mut Ctx, mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (h, data, len, count) = (a[0], a[1], a[2], a[3]);
    let (p, flags, pos) = pers_of(t, h)?;
    if flags & id::DATA_FLAG_ACCESS_READ == 0 {
        return Err(TeeResult::ERROR_ACCESS_CONFLICT);
    }
    pos.checked_add(len).ok_or(TeeResult::ERROR_OVERFLOW)?;
    if len > 0 && !mem.check(v(data), len, Access::Write) {
        return Err(TeeResult::ERROR_ACCESS_DENIED);
    }
    let mut buf = Vec::new();
    let chunk = (len as usize).min(READ_CHUNK);
    buf.try_reserve_exact(chunk).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    buf.resize(chunk, 0);
    let r = with_file(cx, &p, |b, _, file| {
        let mut done = 0u64;
        while done < len {
            let n = ((len - done) as usize).min(READ_CHUNK);
            let got = file.read(b, pos + done, &mut buf[..n])?;
            mem.write(v(data + done), &buf[..got])?;
            done += got as u64;
            if got < n {
                break;
            }
        }
        Ok(done)
    });
    let r = drop_corrupt(cx, t, h, r);
    let done = r?;
    set_pos(t, h, pos + done);
    mem.write(v(count), &done.to_le_bytes())
}

fn write(cx: &mut Ctx, mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (h, data, len) = (a[0], a[1], a[2]);
    let (p, flags, pos) = pers_of(t, h)?;
    if flags & id::DATA_FLAG_ACCESS_WRITE == 0 {
        return Err(TeeResult::ERROR_ACCESS_CONFLICT);
    }
    let end = pos.checked_add(len).ok_or(TeeResult::ERROR_OVERFLOW)?;
    if end > st::DATA_MAX_POSITION {
        return Err(TeeResult::ERROR_OVERFLOW);
    }
    if len > MAX_ATOMIC_WRITE || !oxtee_guard::heap::room_for(write_room(len)) {
        return Err(TeeResult::ERROR_OUT_OF_MEMORY);
    }
    let mut buf = Vec::new();
    buf.try_reserve_exact(len as usize).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    buf.resize(len as usize, 0);
    if len > 0 {
        mem.read(v(data), &mut buf)?;
    }
    let os = cx.os;
    let r = with_file(cx, &p, |b, _, file| {
        let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
        file.write(b, pos, &buf, &mut rand)
    });
    mark_dirty(cx.rpc, p.storage, &r);
    let r = drop_corrupt(cx, t, h, r);
    r?;
    set_pos(t, h, end);
    Ok(())
}

fn truncate(cx: &mut Ctx, t: &mut Table, h: u64, len: u64) -> R<()> {
    let (p, flags, _) = pers_of(t, h)?;
    if flags & id::DATA_FLAG_ACCESS_WRITE == 0 {
        return Err(TeeResult::ERROR_ACCESS_CONFLICT);
    }
    if len > st::DATA_MAX_POSITION {
        return Err(TeeResult::ERROR_OVERFLOW);
    }
    let os = cx.os;
    let r = with_file(cx, &p, |b, _, file| {
        let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
        file.truncate(b, len, &mut rand)
    });
    mark_dirty(cx.rpc, p.storage, &r);
    // Upstream answers GENERIC for any failure but a corrupt object.
    drop_corrupt(cx, t, h, r)
        .map_err(|e| if e == TeeResult::ERROR_CORRUPT_OBJECT { e } else { TeeResult::ERROR_GENERIC })
}

fn seek(t: &mut Table, h: u64, offset: i32, whence: u64) -> R<()> {
    let (p, _, pos) = pers_of(t, h)?;
    let size = p.size.load(Ordering::Acquire);
    let base: i64 = match whence {
        0 => 0,
        1 => pos as i64,
        2 => size as i64,
        _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
    };
    let new = base.checked_add(offset as i64).ok_or(TeeResult::ERROR_OVERFLOW)?.max(0) as u64;
    if new > st::DATA_MAX_POSITION {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    set_pos(t, h, new);
    Ok(())
}

fn restrict_usage(cx: &mut Ctx, t: &mut Table, h: u64, usage: u32) -> R<()> {
    let (p, _, _) = pers_of(t, h)?;
    let new = p.usage.load(Ordering::Acquire) & usage;
    let os = cx.os;
    let r = with_file(cx, &p, |b, _, file| {
        let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
        file.set_usage(b, new, &mut rand)
    });
    mark_dirty(cx.rpc, p.storage, &r);
    let r = drop_corrupt(cx, t, h, r);
    r?;
    p.usage.store(new, Ordering::Release);
    if let Ok(e) = t.obj_mut(h) {
        e.obj.usage = new;
    }
    Ok(())
}

fn enum_start(cx: &mut Ctx, t: &mut Table, h: u64, storage: u64) -> R<()> {
    let h = enum_handle(t, h)?;
    if let Some(e) = t.enums.get_mut(&h) {
        e.started = None;
    }
    let storage = backend_for(storage)?;
    let store = cx.os.storage.store(storage, &cx.uuid);
    let (os, uuid) = (cx.os, cx.uuid);
    let list = on_backend(os, cx.rpc, storage, |b| {
        os.storage.recover_once(b, &store, uuid, storage)?;
        store.list(b)
    })?;
    // Upstream's REE FS answers the start itself with ITEM_NOT_FOUND when
    // the TA has no object (xtest 6010 checks it).
    if list.is_empty() {
        return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
    }
    if let Some(e) = t.enums.get_mut(&h) {
        e.started = Some((storage, list, 0));
    }
    Ok(())
}

fn enum_next(cx: &mut Ctx, mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (h, info, id_ptr, len_ptr) = (a[0], a[1], a[2], a[3]);
    let h = enum_handle(t, h)?;
    if !mem.check(v(info), core::mem::size_of::<UteeObjectInfo>() as u64, Access::Write)
        || !mem.check(v(id_ptr), OBJECT_ID_MAX_LEN as u64, Access::Write)
    {
        return Err(TeeResult::ERROR_ACCESS_DENIED);
    }
    let e = t.enums.get_mut(&h).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
    let Some((storage, list, at)) = e.started.as_mut() else {
        return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
    };
    let entry = list.get(*at).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?.clone();
    *at += 1;
    let open = cx.os.storage.open_flags(cx.uuid, *storage, &entry.id).unwrap_or(0);
    let m = entry.meta;
    let out = UteeObjectInfo {
        obj_type: m.obj_type,
        obj_size: m.key_size,
        max_obj_size: m.max_key_size,
        obj_usage: m.usage,
        data_size: entry.data_len as u32,
        data_pos: 0,
        handle_flags: open | id::HANDLE_FLAG_PERSISTENT | id::HANDLE_FLAG_INITIALIZED,
    };
    mem.write(v(info), out.as_bytes())?;
    mem.write(v(id_ptr), &entry.id)?;
    mem.write(v(len_ptr), &(entry.id.len() as u64).to_le_bytes())
}

/// The stores the OS keeps its own records in (no TA can name them: TA
/// storage ids are GP's): in the REE FS, and in RPMB when there is one.
const SYSTEM_REE: u32 = 0;
const SYSTEM_RPMB: u32 = 0x7fff_0100;
/// The TAs installed through the secure-storage TA-management PTA
/// (`user/ta_store.rs`), in the REE FS.
pub const SYSTEM_TA_STORE: u32 = 0x7fff_0002;

/// The TA version database: one object of 20-byte records (TA UUID,
/// highest `ta_version` seen, LE).
const TA_VERSION_DB: &[u8] = b"ta_ver.db";

/// TA rollback protection, as upstream's `ta_ver.db` (in its default
/// place, the REE FS): the highest `ta_version` seen for each UUID is kept
/// in the OS's own store. An image older than the floor is refused with
/// ACCESS_CONFLICT (upstream's answer); a newer one raises it.
pub fn check_ta_version(os: &Os, rpc: &mut Rpc, ta: Uuid, version: u32) -> R<()> {
    check_version(os, rpc, TA_VERSION_DB, ta, version)
}

/// The subkey version database, as upstream's `subkey_ver.db`: the same
/// records, for the subkeys that sign TA images.
const SUBKEY_VERSION_DB: &[u8] = b"subkey_ver.db";

/// Subkey rollback protection, as upstream: a subkey older than the
/// highest version seen of its UUID is refused with SECURITY (a stale
/// subkey is treated as a forged one); a newer one raises the floor.
pub fn check_subkey_version(os: &Os, rpc: &mut Rpc, subkey: Uuid, version: u32) -> R<()> {
    check_version(os, rpc, SUBKEY_VERSION_DB, subkey, version).map_err(|e| match e {
        TeeResult::ERROR_ACCESS_CONFLICT => TeeResult::ERROR_SECURITY,
        e => e,
    })
}

/// The version floor of `ta` (a TA or subkey UUID) in the database `db`.
fn check_version(os: &Os, rpc: &mut Rpc, db_name: &[u8], ta: Uuid, version: u32) -> R<()> {
    let sys = SYSTEM_REE;
    let store = os.storage.store(sys, &oxtee_abi::uuid::OS_UUID);
    let key = ta.to_octets();
    let t = rpc.t;
    crate::hold!(guard = SleepGuard::lock(&os.storage.version_lock, rpc, &os.notif)?, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    // Straight to the REE FS: the anchor's state does not decide whether
    // TAs load.
    let r = (|b: &mut dyn Backend| {
        let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
        let mut db = match store.open(b, db_name) {
            Ok(f) => Some(f),
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) => None,
            Err(e) => return Err(e),
        };
        let len = db.as_ref().map(|f| f.data_len()).unwrap_or(0);
        if len % 20 != 0 || len > 20 * 4096 {
            return Err(TeeResult::ERROR_CORRUPT_OBJECT);
        }
        let mut recs = Vec::new();
        recs.try_reserve_exact(len as usize + 20).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        recs.resize(len as usize, 0);
        if let Some(f) = db.as_mut()
            && f.read(b, 0, &mut recs)? != len as usize
        {
            return Err(TeeResult::ERROR_CORRUPT_OBJECT);
        }
        let at = recs.chunks(20).position(|r| r[..16] == key);
        let seen = at.map(|i| u32::from_le_bytes(recs[i * 20 + 16..i * 20 + 20].try_into().unwrap_or_default()));
        let r = match seen {
            Some(s) if s > version => {
                log::warn!("{ta}: version {version} refused, version {s} was seen (rollback protection)");
                Err(TeeResult::ERROR_ACCESS_CONFLICT)
            }
            Some(s) if s == version => Ok(()),
            None if version == 0 => Ok(()),
            _ => {
                let mut rec = [0u8; 20];
                rec[..16].copy_from_slice(&key);
                rec[16..].copy_from_slice(&version.to_le_bytes());
                let pos = at.map(|i| i * 20).unwrap_or(len as usize) as u64;
                match db.as_mut() {
                    Some(f) => f.write(b, pos, &rec, &mut rand),
                    None => {
                        let meta = ObjMeta { obj_type: id::TYPE_DATA, ..Default::default() };
                        db = Some(store.create(b, db_name, &meta, &[], &rec, false, &mut rand)?);
                        Ok(())
                    }
                }
            }
        };
        if let Some(f) = db {
            let _ = f.close(b);
        }
        r
    })(&mut ReeFs::new(rpc));
    mark_dirty(rpc, sys, &r);
    let _ = guard.as_mut().get().unlock(rpc);
    r
}

/// Notes that the call changed the REE store: its generation is anchored
/// in RPMB when the call ends ([`Storage::end_of_call`]).
pub(super) fn mark_dirty<T>(rpc: &Rpc, storage: u32, r: &R<T>) {
    if r.is_ok() && storage != st::STORAGE_PRIVATE_RPMB && storage != SYSTEM_RPMB {
        rpc.t.storage_dirty.store(true, Ordering::Release);
    }
}

/// Runs `f` on the backend of `storage`, over the calling thread's RPC
/// channel. REE FS: refused with SECURITY if the store was found rolled
/// back. RPMB: the device's single lock is held for the call.
pub(super) fn on_backend<T>(os: &Os, rpc: &mut Rpc, storage: u32, f: impl FnOnce(&mut dyn Backend) -> R<T>) -> R<T> {
    if storage == st::STORAGE_PRIVATE_RPMB || storage == SYSTEM_RPMB {
        os.storage.with_rpmb(os, rpc, |fs| f(fs))
    } else {
        os.storage.check_anchor(os, rpc)?;
        f(&mut ReeFs::new(rpc))
    }
}

/// A file kept at the top of the REE FS. tee-supplicant removes a file's
/// directory, and that directory's parent, when they become empty; with
/// the store's files two levels down, removing the last object would take
/// the supplicant's own root directory with it (upstream keeps `dirf.db`
/// there, so its root never empties), and older supplicants (Debian's
/// 3.19) then cannot create anything until restarted.
pub const ROOT_MARKER: &str = "oxtee.store";

/// Makes sure [`ROOT_MARKER`] exists (best effort).
pub fn keep_root(b: &mut dyn Backend) {
    match b.open(ROOT_MARKER) {
        Ok(fd) => {
            let _ = b.close(fd);
        }
        Err(TeeResult::ERROR_ITEM_NOT_FOUND) => {
            if let Ok(fd) = b.create(ROOT_MARKER) {
                let _ = b.close(fd);
            }
        }
        Err(_) => {}
    }
}

/// What is known of the REE store's rollback anchor since boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AnchorState {
    Unchecked,
    /// No RPMB (or it failed): nothing to compare with.
    Off,
    /// The store's generation, anchored in RPMB.
    At(u64),
    /// The store is older than its anchor: every REE storage call gets
    /// SECURITY.
    RolledBack,
}

/// The object in the OS's REE store holding the store's generation.
const SEAL: &[u8] = b"store-generation";

impl Storage {
    /// Runs `f` on the RPMB file system, the device lock held.
    fn with_rpmb<T>(&self, os: &Os, rpc: &mut Rpc, f: impl FnOnce(&mut RpmbFs) -> R<T>) -> R<T> {
        let t = rpc.t;
        crate::hold!(guard = SleepGuard::lock(&self.rpmb_lock, rpc, &os.notif)?, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let taken = self.rpmb.lock().take();
        let mut state = match taken {
            Some(s) => s,
            None => Rpmb::new(Device::new(self.rpmb_key(), true)),
        };
        let mut rand = |b: &mut [u8]| os.rng.fill(b, 0);
        let r = over_rpc(&mut state, rpc, &mut rand, f);
        // After the device answered what our state says it cannot (another
        // key, counter or contents), the next operation looks at it afresh
        // (its counter read, its file table mounted): the normal world may
        // have put another device (another supplicant's emulation) behind
        // the RPC, and state cached from the old one would make every later
        // call fail. Files open on the old state are then gone.
        if r.as_ref().err() != Some(&TeeResult::ERROR_SECURITY) {
            *self.rpmb.lock() = Some(state);
        }
        let _ = guard.as_mut().get().unlock(rpc);
        r
    }

    /// Compares the REE store's generation with its RPMB anchor, once per
    /// boot: an older store (an old copy put back) is refused.
    fn check_anchor(&self, os: &Os, rpc: &mut Rpc) -> R<()> {
        match *self.anchor.lock() {
            AnchorState::Unchecked => {}
            AnchorState::RolledBack => return Err(TeeResult::ERROR_SECURITY),
            _ => return Ok(()),
        }
        let t = rpc.t;
        crate::hold!(guard = SleepGuard::lock(&self.anchor_lock, rpc, &os.notif)?, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let r = self.check_anchor_locked(os, rpc);
        let _ = guard.as_mut().get().unlock(rpc);
        r
    }

    fn check_anchor_locked(&self, os: &Os, rpc: &mut Rpc) -> R<()> {
        if *self.anchor.lock() != AnchorState::Unchecked {
            return if *self.anchor.lock() == AnchorState::RolledBack {
                Err(TeeResult::ERROR_SECURITY)
            } else {
                Ok(())
            };
        }
        keep_root(&mut ReeFs::new(rpc));
        let anchored = match self.with_rpmb(os, rpc, |fs| fs.anchor_read()) {
            Ok(a) => a.map(|a| a.generation),
            Err(e) => {
                log::info!("storage: no RPMB ({e}): the REE store's rollback is not detected");
                *self.anchor.lock() = AnchorState::Off;
                return Ok(());
            }
        };
        let (generation_now, empty) = self.read_seal(rpc)?;
        let state = match anchored {
            Some(a) if generation_now < a && !empty => {
                log::error!(
                    "storage: the REE store is at generation {generation_now}, RPMB says {a}: rolled back, refused"
                );
                AnchorState::RolledBack
            }
            Some(a) => AnchorState::At(generation_now.max(a)),
            None => AnchorState::At(generation_now),
        };
        *self.anchor.lock() = state;
        if state == AnchorState::RolledBack { Err(TeeResult::ERROR_SECURITY) } else { Ok(()) }
    }

    /// The REE store's generation (0 if it has none), and whether the
    /// store is empty (a wiped store is accepted: nothing to roll back to).
    fn read_seal(&self, rpc: &mut Rpc) -> R<(u64, bool)> {
        let store = self.store(SYSTEM_REE, &oxtee_abi::uuid::OS_UUID);
        let mut b = ReeFs::new(rpc);
        match store.open(&mut b, SEAL) {
            Ok(mut f) => {
                let mut g = [0u8; 8];
                let n = f.read(&mut b, 0, &mut g);
                let _ = f.close(&mut b);
                match n {
                    Ok(8) => Ok((u64::from_le_bytes(g), false)),
                    _ => Ok((0, false)),
                }
            }
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) => {
                let mut any = false;
                b.list("", &mut |_| any = true)?;
                Ok((0, !any))
            }
            // A damaged seal: as old as can be.
            Err(_) => Ok((0, false)),
        }
    }

    /// At the end of a call that changed the REE store: the store's
    /// generation goes up by one, in the store (the seal object) and then
    /// in RPMB. A crash between the two leaves the store one ahead, which
    /// is accepted.
    pub fn end_of_call(&self, os: &Os, rpc: &mut Rpc) {
        if !rpc.t.storage_dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let generation_now = match *self.anchor.lock() {
            AnchorState::At(g) => g + 1,
            _ => return,
        };
        let t = rpc.t;
        crate::hold!(guard = SleepGuard::lock(&self.anchor_lock, rpc, &os.notif).ok(), in &t.ledger);
        if guard.as_mut().get().is_none() {
            return;
        }
        let generation_now = match *self.anchor.lock() {
            AnchorState::At(g) => generation_now.max(g + 1),
            _ => generation_now,
        };
        let store = self.store(SYSTEM_REE, &oxtee_abi::uuid::OS_UUID);
        let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
        let sealed = {
            let mut b = ReeFs::new(rpc);
            let meta = ObjMeta { obj_type: id::TYPE_DATA, ..Default::default() };
            match store.open(&mut b, SEAL) {
                Ok(mut f) => {
                    let r = f.write(&mut b, 0, &generation_now.to_le_bytes(), &mut rand);
                    let _ = f.close(&mut b);
                    r
                }
                Err(_) => store
                    .create(&mut b, SEAL, &meta, &[], &generation_now.to_le_bytes(), true, &mut rand)
                    .and_then(|f| f.close(&mut b)),
            }
        };
        let anchored = sealed.and_then(|()| {
            self.with_rpmb(os, rpc, |fs| fs.anchor_write(&Anchor { generation: generation_now, hash: [0; 32] }))
        });
        match anchored {
            Ok(()) => *self.anchor.lock() = AnchorState::At(generation_now),
            Err(e) => log::warn!("storage: generation {generation_now} not anchored: {e}"),
        }
        if let Some(g) = guard.as_mut().get().as_mut() {
            let _ = g.unlock(rpc);
        }
    }
}
