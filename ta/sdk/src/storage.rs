//! GP Trusted Storage (`TEE_OpenPersistentObject`, `TEE_ReadObjectData`,
//! `TEE_AllocatePersistentObjectEnumerator`, ...) over the storage system
//! calls, in the shape of Teaclave's `optee-utee`: [`PersistentObject`],
//! [`ObjectEnumHandle`], [`DataFlag`], [`ObjectStorageConstants`],
//! [`Whence`].
//!
//! As libutee, each call accepts from the kernel only the results GP lets
//! that function return and panics (`TEE_Panic`) on any other: a 65-byte
//! object id, reading through a handle opened without
//! [`DataFlag::ACCESS_READ`], deleting or renaming without
//! [`DataFlag::ACCESS_WRITE_META`], undefined flags. The kernel decides;
//! the SDK only turns its answer into an error or a panic, plus the data
//! position checks libutee makes before a seek or write.
//!
//! A persistent object holding a key (created from a
//! [`TransientObject`](crate::TransientObject) with attributes) is a
//! [`GenericObject`]: its [`info`](GenericObject::info), its attributes
//! and, as the key of an operation, `set_key(&persistent)`.

use crate::crypto::object::ok_or_panic;
use crate::crypto::{GenericObject, ObjectInfo};
use crate::sys::cryp;
use crate::sys::storage as sys;
use crate::{Error, ErrorKind, Result, tee_panic};
use alloc::vec::Vec;
use core::cell::Cell;
use core::ops::{BitAnd, BitOr, BitOrAssign};
use oxtee_abi::ta::crypto as gp;
use oxtee_abi::ta::crypto::UteeObjectInfo;
use oxtee_abi::tee::TeeResult;

/// Where an object lives (`TEE_STORAGE_*`). `IllegalValue` names no
/// storage (for tests of the error path).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectStorageConstants {
    /// The TEE's private storage (REE FS on oxtee, as upstream's default).
    Private = gp::STORAGE_PRIVATE,
    /// Private storage in files of the normal world's file system.
    PrivateRee = gp::STORAGE_PRIVATE_REE,
    /// Private storage in the eMMC's replay-protected partition.
    PrivateRpmb = gp::STORAGE_PRIVATE_RPMB,
    IllegalValue = 0x7fff_ffff,
}

/// Limits of the storage API (Teaclave's `MiscellaneousConstants`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiscellaneousConstants {
    /// `TEE_DATA_MAX_POSITION`: no data position or size goes past it.
    TeeDataMaxPosition = gp::DATA_MAX_POSITION,
    /// `TEE_OBJECT_ID_MAX_LEN`: the longest object id, in bytes.
    TeeObjectIdMaxLen = gp::OBJECT_ID_MAX_LEN,
}

/// The access and sharing rights a handle is opened with, and
/// `OVERWRITE` for creation (`TEE_DATA_FLAG_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct DataFlag(u32);

impl DataFlag {
    /// Reads allowed through this handle.
    pub const ACCESS_READ: DataFlag = DataFlag(gp::DATA_FLAG_ACCESS_READ);
    /// Writes and truncation allowed through this handle.
    pub const ACCESS_WRITE: DataFlag = DataFlag(gp::DATA_FLAG_ACCESS_WRITE);
    /// Rename and delete allowed through this handle (exclusive: no other
    /// handle may be open on the object).
    pub const ACCESS_WRITE_META: DataFlag = DataFlag(gp::DATA_FLAG_ACCESS_WRITE_META);
    /// Other handles may read the object.
    pub const SHARE_READ: DataFlag = DataFlag(gp::DATA_FLAG_SHARE_READ);
    /// Other handles may write the object.
    pub const SHARE_WRITE: DataFlag = DataFlag(gp::DATA_FLAG_SHARE_WRITE);
    /// On creation, an existing object of that id is replaced atomically
    /// (without it, creation fails with `AccessConflict`).
    pub const OVERWRITE: DataFlag = DataFlag(gp::DATA_FLAG_OVERWRITE);

    pub const fn empty() -> Self {
        DataFlag(0)
    }
    pub const fn bits(&self) -> u32 {
        self.0
    }
    /// Any bits, defined or not (the kernel refuses undefined ones).
    pub const fn from_bits_retain(bits: u32) -> Self {
        DataFlag(bits)
    }
    pub const fn contains(&self, other: DataFlag) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl BitOr for DataFlag {
    type Output = DataFlag;
    fn bitor(self, rhs: DataFlag) -> DataFlag {
        DataFlag(self.0 | rhs.0)
    }
}

impl BitOrAssign for DataFlag {
    fn bitor_assign(&mut self, rhs: DataFlag) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for DataFlag {
    type Output = DataFlag;
    fn bitand(self, rhs: DataFlag) -> DataFlag {
        DataFlag(self.0 & rhs.0)
    }
}

/// Where a seek's offset counts from (`TEE_Whence`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    /// From the start of the data stream.
    DataSeekSet,
    /// From the current data position.
    DataSeekCur,
    /// From the end of the data stream.
    DataSeekEnd,
}

impl Whence {
    /// `TEE_DATA_SEEK_*`.
    pub const fn raw(self) -> u32 {
        match self {
            Whence::DataSeekSet => 0,
            Whence::DataSeekCur => 1,
            Whence::DataSeekEnd => 2,
        }
    }
}

const CORRUPT: u32 = ErrorKind::CorruptObject as u32;
const NOT_AVAILABLE: u32 = ErrorKind::StorageNotAvailable as u32;
const ITEM_NOT_FOUND: u32 = ErrorKind::ItemNotFound as u32;
const ACCESS_CONFLICT: u32 = ErrorKind::AccessConflict as u32;
const OUT_OF_MEMORY: u32 = ErrorKind::OutOfMemory as u32;
const NO_SPACE: u32 = ErrorKind::StorageNoSpace as u32;
const OVERFLOW: u32 = ErrorKind::Overflow as u32;

/// The error for a failed call's result if GP lists it for the call,
/// else `TEE_Panic` (as libutee).
fn fail(r: TeeResult, allowed: &[u32]) -> Error {
    match ok_or_panic(r, allowed) {
        Err(e) => e,
        // A failed call never answers SUCCESS.
        Ok(()) => tee_panic(0),
    }
}

/// An object identified by an id in a storage, with a data stream and,
/// if it was created from a key object, that key's type and attributes
/// (GP's persistent object). Closed on drop (`TEE_CloseObject`).
#[derive(Debug)]
pub struct PersistentObject {
    handle: u32,
    /// A call answered CORRUPT_OBJECT: the kernel may have closed the
    /// handle (GP, unless the TA has
    /// `gpd.ta.doesNotCloseHandleOnCorruptObject`).
    corrupt: Cell<bool>,
}

impl PersistentObject {
    fn from_handle(handle: u32) -> Self {
        PersistentObject { handle, corrupt: Cell::new(false) }
    }

    /// Notes a CORRUPT_OBJECT answer.
    fn seen<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r
            && e.raw_code() == CORRUPT
        {
            self.corrupt.set(true);
        }
        r
    }

    /// `TEE_OpenPersistentObject`: opens the object `object_id` of
    /// `storage_id` with the rights in `flags` (no `OVERWRITE`).
    ///
    /// Errors: `ItemNotFound` (no such object, or no such storage),
    /// `AccessConflict` (another handle's flags forbid this one),
    /// `OutOfMemory`, `CorruptObject` (the object failed its check and was
    /// deleted), `StorageNotAvailable`. Panics for an id longer than 64
    /// bytes or undefined flags.
    pub fn open(storage_id: ObjectStorageConstants, object_id: &[u8], flags: DataFlag) -> Result<Self> {
        match sys::obj_open(storage_id as u32, object_id, flags.bits()) {
            Ok(h) => Ok(Self::from_handle(h)),
            Err(r) => Err(fail(r, &[ITEM_NOT_FOUND, ACCESS_CONFLICT, OUT_OF_MEMORY, CORRUPT, NOT_AVAILABLE])),
        }
    }

    /// `TEE_CreatePersistentObject`: creates `object_id` in `storage_id`
    /// holding `initial_data`, with the type and attributes of
    /// `attributes` if given (a transient or persistent key object; it is
    /// not changed), else a pure data object; opened with `flags`.
    ///
    /// Errors: `ItemNotFound` (no such storage), `AccessConflict` (the
    /// object exists and `flags` lacks `OVERWRITE`, or it is open),
    /// `OutOfMemory`, `StorageNoSpace`, `CorruptObject`,
    /// `StorageNotAvailable`. Panics for an id longer than 64 bytes,
    /// undefined flags, or an `attributes` object that is not initialized.
    pub fn create(
        storage_id: ObjectStorageConstants,
        object_id: &[u8],
        flags: DataFlag,
        attributes: Option<&dyn GenericObject>,
        initial_data: &[u8],
    ) -> Result<Self> {
        let attr = attributes.map_or(0, |a| a.handle());
        match sys::obj_create(storage_id as u32, object_id, flags.bits(), attr, initial_data) {
            Ok(h) => Ok(Self::from_handle(h)),
            Err(r) => Err(fail(r, &[ITEM_NOT_FOUND, ACCESS_CONFLICT, OUT_OF_MEMORY, NO_SPACE, CORRUPT, NOT_AVAILABLE])),
        }
    }

    /// `TEE_CloseAndDeletePersistentObject1`: deletes the object and
    /// closes the handle (in every case: the kernel closes it even when
    /// the storage fails). Needs `ACCESS_WRITE_META`, else panics.
    /// Errors: `StorageNotAvailable`.
    pub fn close_and_delete(mut self) -> Result<()> {
        let handle = core::mem::take(&mut self.handle);
        ok_or_panic(sys::obj_del(handle), &[NOT_AVAILABLE])
    }

    /// `TEE_RenamePersistentObject`: gives the object the id
    /// `new_object_id` in the same storage. Needs `ACCESS_WRITE_META`,
    /// else panics. Errors: `AccessConflict` (an object of that id
    /// exists), `CorruptObject`, `StorageNotAvailable`.
    pub fn rename(&mut self, new_object_id: &[u8]) -> Result<()> {
        self.seen(ok_or_panic(sys::obj_rename(self.handle, new_object_id), &[ACCESS_CONFLICT, CORRUPT, NOT_AVAILABLE]))
    }

    /// `TEE_ReadObjectData`: reads from the data position into `buf`,
    /// returns the bytes read (fewer than `buf.len()` at the end of the
    /// data, 0 past it) and moves the position on by as many. Needs
    /// `ACCESS_READ`, else panics. Errors: `CorruptObject`,
    /// `StorageNotAvailable`.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<u32> {
        let (r, n) = sys::obj_read(self.handle, buf);
        self.seen(ok_or_panic(r, &[CORRUPT, NOT_AVAILABLE]))?;
        Ok(n as u32)
    }

    /// `TEE_WriteObjectData`: writes `buf` at the data position (a
    /// position past the end first fills the gap with zeros) and moves the
    /// position on. Needs `ACCESS_WRITE`, else panics. Errors: `Overflow`
    /// (the data would pass `TEE_DATA_MAX_POSITION`), `StorageNoSpace`,
    /// `CorruptObject`, `StorageNotAvailable`.
    pub fn write(&mut self, buf: &[u8]) -> Result<()> {
        if buf.len() as u64 > gp::DATA_MAX_POSITION as u64 {
            return Err(ErrorKind::Overflow.into());
        }
        let r = sys::obj_write(self.handle, buf);
        self.seen(ok_or_panic(r, &[NO_SPACE, OVERFLOW, CORRUPT, NOT_AVAILABLE]))
    }

    /// `TEE_TruncateObjectData`: makes the data `size` bytes long, cutting
    /// or extending with zeros; the position stays. Needs `ACCESS_WRITE`,
    /// else panics. Errors: `StorageNoSpace`, `CorruptObject`,
    /// `StorageNotAvailable`.
    pub fn truncate(&mut self, size: u32) -> Result<()> {
        let r = sys::obj_trunc(self.handle, size as usize);
        self.seen(ok_or_panic(r, &[NO_SPACE, CORRUPT, NOT_AVAILABLE]))
    }

    /// `TEE_SeekObjectData`: moves the data position to `offset` from
    /// `whence`; a position before the start becomes 0, one past the end
    /// is allowed (a later write fills the gap with zeros). Errors:
    /// `Overflow` (the position would pass `TEE_DATA_MAX_POSITION`),
    /// `CorruptObject`, `StorageNotAvailable`.
    pub fn seek(&mut self, offset: i32, whence: Whence) -> Result<()> {
        // libutee checks the new position against the object's info
        // before asking the kernel.
        let (r, info) = cryp::obj_get_info_filled(self.handle);
        self.seen(ok_or_panic(r, &[CORRUPT, NOT_AVAILABLE]))?;
        let base = match whence {
            Whence::DataSeekSet => 0u64,
            Whence::DataSeekCur => info.data_pos as u64,
            Whence::DataSeekEnd => info.data_size as u64,
        };
        if offset > 0 && base + offset as u64 > gp::DATA_MAX_POSITION as u64 {
            return Err(ErrorKind::Overflow.into());
        }
        let r = sys::obj_seek(self.handle, offset, whence.raw());
        self.seen(ok_or_panic(r, &[OVERFLOW, CORRUPT, NOT_AVAILABLE]))
    }

    /// The kernel's handle, for the raw system calls.
    pub fn raw_handle(&self) -> u32 {
        self.handle
    }
}

impl GenericObject for PersistentObject {
    fn handle(&self) -> u32 {
        self.handle
    }

    fn info(&self) -> Result<ObjectInfo> {
        let (res, info) = cryp::obj_get_info_filled(self.handle);
        self.seen(ok_or_panic(res, &[CORRUPT, NOT_AVAILABLE]))?;
        Ok(ObjectInfo::from_raw(info))
    }

    /// `TEE_RestrictObjectUsage1`: for a persistent object the kernel
    /// stores the new usage with the object.
    fn restrict_usage(&mut self, obj_usage: crate::UsageFlag) -> Result<()> {
        let r = cryp::obj_restrict_usage(self.handle, obj_usage.bits());
        self.seen(ok_or_panic(r, &[CORRUPT, NOT_AVAILABLE]))
    }
}

impl Drop for PersistentObject {
    fn drop(&mut self) {
        if self.handle == 0 {
            return;
        }
        let res = cryp::obj_close(self.handle);
        // After CORRUPT_OBJECT the kernel may already have closed the
        // handle; then closing it again is expected to fail.
        if res.0 != 0 && !self.corrupt.get() {
            tee_panic(res.0);
        }
    }
}

/// An enumerator of the persistent objects of one storage
/// (`TEE_ObjectEnumHandle`); freed on drop.
#[derive(Debug)]
pub struct ObjectEnumHandle {
    handle: u32,
}

impl ObjectEnumHandle {
    /// `TEE_AllocatePersistentObjectEnumerator`. Errors: `AccessConflict`
    /// (as GP lists); anything else (out of memory included) panics, as in
    /// libutee.
    pub fn allocate() -> Result<Self> {
        match sys::enum_alloc() {
            Ok(handle) => Ok(ObjectEnumHandle { handle }),
            Err(r) => Err(fail(r, &[ACCESS_CONFLICT])),
        }
    }

    /// `TEE_ResetPersistentObjectEnumerator`: back to the state after
    /// allocation (no enumeration started).
    pub fn reset(&mut self) {
        let r = sys::enum_reset(self.handle);
        if r.0 != 0 {
            tee_panic(r.0);
        }
    }

    /// `TEE_StartPersistentObjectEnumerator`: starts (again) enumerating
    /// the objects of `storage_id` (a `TEE_STORAGE_*` number). Errors:
    /// `ItemNotFound` (no such storage, or no object in it),
    /// `CorruptObject`, `StorageNotAvailable`.
    pub fn start(&mut self, storage_id: u32) -> Result<()> {
        ok_or_panic(sys::enum_start(self.handle, storage_id), &[ITEM_NOT_FOUND, CORRUPT, NOT_AVAILABLE])
    }

    /// `TEE_GetNextPersistentObject`: the next object's id into
    /// `object_id` (its length returned) and, if asked, its info. Errors:
    /// `ItemNotFound` (no more objects, or no enumeration started),
    /// `CorruptObject`, `StorageNotAvailable`. Panics if the id does not
    /// fit `object_id` (give it `TEE_OBJECT_ID_MAX_LEN` bytes).
    pub fn get_next(&mut self, object_info: Option<&mut ObjectInfo>, object_id: &mut [u8]) -> Result<u32> {
        let mut info = UteeObjectInfo::default();
        let mut id = [0u8; gp::OBJECT_ID_MAX_LEN as usize];
        let (r, len) = sys::enum_next(self.handle, &mut info, &mut id);
        if let Some(out) = object_info {
            *out = ObjectInfo::from_raw(info);
        }
        ok_or_panic(r, &[ITEM_NOT_FOUND, CORRUPT, NOT_AVAILABLE])?;
        let Some(dst) = object_id.get_mut(..len) else {
            tee_panic(ErrorKind::ShortBuffer as u32);
        };
        dst.copy_from_slice(&id[..len]);
        Ok(len as u32)
    }

    /// [`get_next`](Self::get_next) returning the info and the id.
    pub fn next_object(&mut self) -> Result<(ObjectInfo, Vec<u8>)> {
        let mut info = ObjectInfo::default();
        let mut id = [0u8; gp::OBJECT_ID_MAX_LEN as usize];
        let len = self.get_next(Some(&mut info), &mut id)? as usize;
        let mut v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| Error::from(ErrorKind::OutOfMemory))?;
        v.extend_from_slice(&id[..len]);
        Ok((info, v))
    }

    /// The kernel's handle, for the raw system calls.
    pub fn raw_handle(&self) -> u32 {
        self.handle
    }
}

impl Drop for ObjectEnumHandle {
    /// `TEE_FreePersistentObjectEnumerator`.
    fn drop(&mut self) {
        let r = sys::enum_free(self.handle);
        if r.0 != 0 {
            tee_panic(r.0);
        }
    }
}
