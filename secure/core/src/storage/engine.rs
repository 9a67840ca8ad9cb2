//! Persistent objects as files, updated atomically (see docs/storage.md).
//!
//! One file per object, named from its identifier ([`TaKeys::object_name`]),
//! in the TA's directory: there is no shared directory file, so nothing one
//! object's damage can reach the others. A file holds two header slots and
//! data blocks. Writes go to blocks the committed header does not use, then
//! the next header (generation + 1, with the new block map and lengths) is
//! written to the other slot: that write is the commit point. On open the
//! valid header with the highest generation wins; a torn header fails its
//! tag and the previous one stands. Creation writes a complete file under a
//! temporary name and renames it into place.
//!
//! Everything read back is authenticated (AES-256-GCM under the file's
//! key): header, block map, and each block against the tag the header
//! holds for it. A file that fails is CORRUPT_OBJECT, and the caller
//! removes it as GP requires.

use super::R;
use super::backend::{Backend, Fd};
use super::keys::TaKeys;
use alloc::string::String;
use alloc::vec::Vec;

/// What GP keeps of an object besides its data (`TEE_ObjectInfo` and the
/// creation flags); the engine stores it, the caller interprets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjMeta {
    pub obj_type: u32,
    /// Key size in bits (0 for a data object).
    pub key_size: u32,
    pub max_key_size: u32,
    pub usage: u32,
    /// The `TEE_DATA_FLAG_*` the object was created with.
    pub flags: u32,
}

/// What enumeration shows of an object.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: Vec<u8>,
    pub meta: ObjMeta,
    pub data_len: u64,
}

/// A source of random bytes (salts and nonces).
pub type Rand<'a> = &'a mut dyn FnMut(&mut [u8]);

/// One TA's objects in one backend.
pub struct Store {
    pub keys: TaKeys,
}

/// An open object: its file and its committed header (metadata,
/// attributes, block map) cached in memory.
pub struct Object {
    fd: Fd,
    path: String,
    // The engine's own state (header, generation, block map, free slots,
    // block cache) goes here.
}

impl Store {
    pub fn new(keys: TaKeys) -> Store {
        Store { keys }
    }

    /// Creates object `id` with its metadata, attributes (opaque bytes, the
    /// serialised key) and initial data, atomically. An existing object is
    /// replaced if `overwrite`, else ACCESS_CONFLICT.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &self,
        b: &mut dyn Backend,
        id: &[u8],
        meta: &ObjMeta,
        attrs: &[u8],
        data: &[u8],
        overwrite: bool,
        rand: Rand,
    ) -> R<Object> {
        let _ = (b, id, meta, attrs, data, overwrite, rand);
        todo!("engine")
    }

    /// Opens object `id`: ITEM_NOT_FOUND if there is none, CORRUPT_OBJECT
    /// if its file fails authentication (the file is left for the caller
    /// to remove with [`Store::remove_corrupt`]).
    pub fn open(&self, b: &mut dyn Backend, id: &[u8]) -> R<Object> {
        let _ = (b, id);
        todo!("engine")
    }

    /// Removes the file of object `id` whatever its state (GP: a corrupt
    /// object is deleted when found).
    pub fn remove_corrupt(&self, b: &mut dyn Backend, id: &[u8]) -> R<()> {
        let _ = (b, id);
        todo!("engine")
    }

    /// Every object of the TA that authenticates, in no particular order.
    /// Files that do not authenticate are skipped (never an error for the
    /// others).
    pub fn list(&self, b: &mut dyn Backend) -> R<Vec<Entry>> {
        let _ = b;
        todo!("engine")
    }

    /// Finishes what a crash interrupted (temporary files, half-done
    /// renames). Idempotent; called before a TA's first use of the store
    /// after boot.
    pub fn recover(&self, b: &mut dyn Backend) -> R<()> {
        let _ = b;
        todo!("engine")
    }
}

impl Object {
    pub fn id(&self) -> &[u8] {
        todo!("engine")
    }
    pub fn meta(&self) -> &ObjMeta {
        todo!("engine")
    }
    pub fn attrs(&self) -> &[u8] {
        todo!("engine")
    }
    pub fn data_len(&self) -> u64 {
        todo!("engine")
    }
    /// Reads at `pos` into `buf`; returns the bytes read (0 at or past the
    /// end).
    pub fn read(&mut self, b: &mut dyn Backend, pos: u64, buf: &mut [u8]) -> R<usize> {
        let _ = (b, pos, buf);
        todo!("engine")
    }
    /// Writes `data` at `pos` atomically; a gap past the end reads as zeros.
    pub fn write(&mut self, b: &mut dyn Backend, pos: u64, data: &[u8], rand: Rand) -> R<()> {
        let _ = (b, pos, data, rand);
        todo!("engine")
    }
    /// Sets the data length atomically (extending with zeros).
    pub fn truncate(&mut self, b: &mut dyn Backend, len: u64, rand: Rand) -> R<()> {
        let _ = (b, len, rand);
        todo!("engine")
    }
    /// Changes the usage flags kept in the header (TEE_RestrictObjectUsage1).
    pub fn set_usage(&mut self, b: &mut dyn Backend, usage: u32, rand: Rand) -> R<()> {
        let _ = (b, usage, rand);
        todo!("engine")
    }
    /// Renames the object to `new_id` atomically: ACCESS_CONFLICT if an
    /// object `new_id` exists.
    pub fn rename(&mut self, store: &Store, b: &mut dyn Backend, new_id: &[u8], rand: Rand) -> R<()> {
        let _ = (store, b, new_id, rand);
        todo!("engine")
    }
    /// Deletes the object (its file is gone when this returns Ok).
    pub fn remove(self, b: &mut dyn Backend) -> R<()> {
        let _ = (b, self.fd, self.path);
        todo!("engine")
    }
    /// Closes the file.
    pub fn close(self, b: &mut dyn Backend) -> R<()> {
        b.close(self.fd)
    }
}
