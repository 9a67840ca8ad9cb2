//! The trusted-storage system calls (upstream `utee_syscalls.h`, numbers
//! 41-53), one safe function each, as they are: handles are plain
//! numbers, results the kernel's `TEE_Result`. For the SDK's
//! `PersistentObject`/`ObjectEnumHandle` and for code that drives the
//! kernel directly (the storage test TA). Empty buffers are passed as NULL,
//! as from C; every length the kernel is told is that of the slice it
//! reads or writes.
use super::{ptr_mut, syscall};
use oxtee_abi::ta::crypto::{OBJECT_ID_MAX_LEN, UteeObjectInfo};
use oxtee_abi::ta::{
    SYS_STORAGE_ENUM_ALLOC, SYS_STORAGE_ENUM_FREE, SYS_STORAGE_ENUM_NEXT, SYS_STORAGE_ENUM_RESET,
    SYS_STORAGE_ENUM_START, SYS_STORAGE_OBJ_CREATE, SYS_STORAGE_OBJ_DEL, SYS_STORAGE_OBJ_OPEN, SYS_STORAGE_OBJ_READ,
    SYS_STORAGE_OBJ_RENAME, SYS_STORAGE_OBJ_SEEK, SYS_STORAGE_OBJ_TRUNC, SYS_STORAGE_OBJ_WRITE,
};
use oxtee_abi::tee::TeeResult;

/// The object-id buffer `STORAGE_ENUM_NEXT` writes: the kernel may use all
/// `TEE_OBJECT_ID_MAX_LEN` bytes whatever length it is told.
pub type ObjectIdBuf = [u8; OBJECT_ID_MAX_LEN as usize];

/// Address of an input slice, 0 for an empty one.
fn addr(s: &[u8]) -> usize {
    if s.is_empty() { 0 } else { s.as_ptr() as usize }
}

/// Address of an output slice, 0 for an empty one.
fn addr_mut(s: &mut [u8]) -> usize {
    if s.is_empty() { 0 } else { s.as_mut_ptr() as usize }
}

fn res(raw: u32) -> TeeResult {
    TeeResult(raw)
}

/// Calls that take only numbers.
fn numbers(nr: u32, a: usize, b: usize) -> TeeResult {
    // SAFETY: the callers below pass numbers only (handles, lengths,
    // storage ids), which the kernel never dereferences.
    res(unsafe { syscall(nr, [a, b, 0, 0, 0, 0, 0, 0]) })
}

/// STORAGE_OBJ_OPEN: the new handle.
pub fn obj_open(storage_id: u32, object_id: &[u8], flags: u32) -> Result<u32, TeeResult> {
    let mut obj = 0u32;
    let args = [storage_id as usize, addr(object_id), object_id.len(), flags as usize, ptr_mut(&mut obj), 0, 0, 0];
    // SAFETY: the kernel reads `object_id` (a live slice, or nothing for
    // an empty one) and writes one u32 to `obj`, a live local.
    let r = res(unsafe { syscall(SYS_STORAGE_OBJ_OPEN, args) });
    if r == TeeResult::SUCCESS { Ok(obj) } else { Err(r) }
}

/// STORAGE_OBJ_CREATE with a handle asked for: the new handle. `attr` is
/// the handle of the object whose attributes (and type) the new one
/// takes, 0 for a pure data object.
pub fn obj_create(storage_id: u32, object_id: &[u8], flags: u32, attr: u32, data: &[u8]) -> Result<u32, TeeResult> {
    let mut obj = 0u32;
    let args = [
        storage_id as usize,
        addr(object_id),
        object_id.len(),
        flags as usize,
        attr as usize,
        addr(data),
        data.len(),
        ptr_mut(&mut obj),
    ];
    // SAFETY: the kernel reads `object_id` and `data` (live slices, or
    // nothing for empty ones) and writes one u32 to `obj`, a live local.
    let r = res(unsafe { syscall(SYS_STORAGE_OBJ_CREATE, args) });
    if r == TeeResult::SUCCESS { Ok(obj) } else { Err(r) }
}

/// STORAGE_OBJ_CREATE with no handle asked for (NULL): the object is
/// closed once created; upstream turns a transient `attr` object into the
/// persistent one.
pub fn obj_create_no_handle(storage_id: u32, object_id: &[u8], flags: u32, attr: u32, data: &[u8]) -> TeeResult {
    let args = [
        storage_id as usize,
        addr(object_id),
        object_id.len(),
        flags as usize,
        attr as usize,
        addr(data),
        data.len(),
        0,
    ];
    // SAFETY: the kernel reads `object_id` and `data` (live slices, or
    // nothing for empty ones); no handle is written (NULL).
    res(unsafe { syscall(SYS_STORAGE_OBJ_CREATE, args) })
}

/// STORAGE_OBJ_DEL: closes and deletes.
pub fn obj_del(obj: u32) -> TeeResult {
    numbers(SYS_STORAGE_OBJ_DEL, obj as usize, 0)
}

/// STORAGE_OBJ_RENAME.
pub fn obj_rename(obj: u32, new_id: &[u8]) -> TeeResult {
    // SAFETY: the kernel reads `new_id`, a live slice (or nothing for an
    // empty one).
    res(unsafe { syscall(SYS_STORAGE_OBJ_RENAME, [obj as usize, addr(new_id), new_id.len(), 0, 0, 0, 0, 0]) })
}

/// STORAGE_ENUM_ALLOC: the new enumerator's handle.
pub fn enum_alloc() -> Result<u32, TeeResult> {
    let mut e = 0u32;
    // SAFETY: the kernel writes one u32 to `e`, a live local.
    let r = res(unsafe { syscall(SYS_STORAGE_ENUM_ALLOC, [ptr_mut(&mut e), 0, 0, 0, 0, 0, 0, 0]) });
    if r == TeeResult::SUCCESS { Ok(e) } else { Err(r) }
}

/// STORAGE_ENUM_FREE.
pub fn enum_free(e: u32) -> TeeResult {
    numbers(SYS_STORAGE_ENUM_FREE, e as usize, 0)
}

/// STORAGE_ENUM_RESET.
pub fn enum_reset(e: u32) -> TeeResult {
    numbers(SYS_STORAGE_ENUM_RESET, e as usize, 0)
}

/// STORAGE_ENUM_START.
pub fn enum_start(e: u32, storage_id: u32) -> TeeResult {
    numbers(SYS_STORAGE_ENUM_START, e as usize, storage_id as usize)
}

/// STORAGE_ENUM_NEXT: (result, the id's length). The kernel fills `info`
/// and the first bytes of `id`.
pub fn enum_next(e: u32, info: &mut UteeObjectInfo, id: &mut ObjectIdBuf) -> (TeeResult, usize) {
    let mut len = id.len() as u64;
    let args = [e as usize, ptr_mut(info), id.as_mut_ptr() as usize, ptr_mut(&mut len), 0, 0, 0, 0];
    // SAFETY: the kernel writes one `utee_object_info` to `info` (a live
    // exclusive reference), at most `TEE_OBJECT_ID_MAX_LEN` bytes to `id`
    // (an exclusive array of exactly that size) and one u64 to `len` (a
    // live local).
    let r = res(unsafe { syscall(SYS_STORAGE_ENUM_NEXT, args) });
    (r, (len as usize).min(id.len()))
}

/// STORAGE_OBJ_READ: (result, bytes read).
pub fn obj_read(obj: u32, buf: &mut [u8]) -> (TeeResult, usize) {
    let mut count = 0u64;
    let args = [obj as usize, addr_mut(buf), buf.len(), ptr_mut(&mut count), 0, 0, 0, 0];
    // SAFETY: the kernel writes at most `buf.len()` bytes to `buf` (a live
    // exclusive slice, or nothing for an empty one) and one u64 to
    // `count` (a live local).
    let r = res(unsafe { syscall(SYS_STORAGE_OBJ_READ, args) });
    (r, (count as usize).min(buf.len()))
}

/// STORAGE_OBJ_WRITE.
pub fn obj_write(obj: u32, data: &[u8]) -> TeeResult {
    // SAFETY: the kernel reads `data`, a live slice (or nothing for an
    // empty one).
    res(unsafe { syscall(SYS_STORAGE_OBJ_WRITE, [obj as usize, addr(data), data.len(), 0, 0, 0, 0, 0]) })
}

/// STORAGE_OBJ_TRUNC.
pub fn obj_trunc(obj: u32, len: usize) -> TeeResult {
    numbers(SYS_STORAGE_OBJ_TRUNC, obj as usize, len)
}

/// STORAGE_OBJ_SEEK (`whence`: `TEE_DATA_SEEK_*`). The offset is an
/// `int32_t` in the ABI; it is passed sign-extended.
pub fn obj_seek(obj: u32, offset: i32, whence: u32) -> TeeResult {
    // SAFETY: numbers only.
    res(unsafe {
        syscall(SYS_STORAGE_OBJ_SEEK, [obj as usize, offset as isize as usize, whence as usize, 0, 0, 0, 0, 0])
    })
}
