//! oxtee's storage test TA (`ta/storage-test`) and its protocol, shared
//! with the normal-world suite (`normal/xtest`, `storage.rs`) and the
//! reboot test: the UUIDs, the command numbers and parameters, and the
//! record format of the write loop.
//!
//! Two kinds of commands:
//! - raw ones (`CMD_OPEN` .. `CMD_GEN_KEY`) pass one storage system call
//!   each to the kernel, as they are (handles travel as numbers in value
//!   parameters); the command's result is the system call's `TEE_Result`
//!   (origin TA), so the client sees the kernel's error codes;
//! - scenario ones (`CMD_SDK_*`, `CMD_BIG`, `CMD_MANY`, `CMD_KEY_OBJECT`,
//!   `CMD_WIPE`, `CMD_WRITE_LOOP`, `CMD_VERIFY`) run a whole case inside
//!   the TA through the SDK's Trusted Storage API (`PersistentObject`,
//!   `ObjectEnumHandle`), which panics where libutee panics.
//!
//! A storage id travels as the GP number (`TEE_STORAGE_PRIVATE` 1,
//! `_REE` 0x80000000, `_RPMB` 0x80000100). An object id travels as an
//! input memref (a parameter of type none is the empty id, passed to the
//! kernel as NULL with length 0, as upstream's xtest 6001 does).

use crate::uuid::Uuid;

/// 5e57c001-0000-4000-8000-00000000057a: the storage test TA.
/// Multi-instance, one session each (flags 0).
pub const UUID: Uuid = Uuid::new(0x5e57_c001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0x05, 0x7a]);
/// 5e57c001-0000-4000-8000-00000000057b: the same image signed under a
/// second UUID (`cargo xtask tas` patches its `ta_head`), for the per-TA
/// isolation cases: it must not see the first one's objects.
pub const UUID_OTHER: Uuid = Uuid::new(0x5e57_c001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0x05, 0x7b]);

/// Declared stack and heap of the TA (the big-object case moves 1 MiB in
/// pieces of at most 64 KiB; the heap covers that and the SDK's needs, and
/// stays small enough for four instances at once in the SMP case).
pub const STACK_SIZE: u32 = 32 * 1024;
pub const DATA_SIZE: u32 = 256 * 1024;

// ---- raw commands: one system call each ----

/// p0 memref in (object id) or none, p1 value in (a = flags, b = storage
/// id), p2 value out (a = handle). `STORAGE_OBJ_OPEN`.
pub const CMD_OPEN: u32 = 1;
/// p0 memref in (object id) or none, p1 value in (a = flags, b = handle of
/// the attribute object or 0), p2 value inout (a in = storage id; a out =
/// handle), p3 memref in (initial data) or none. `STORAGE_OBJ_CREATE`.
pub const CMD_CREATE: u32 = 2;
/// As `CMD_CREATE` but with no handle asked for (NULL `obj`): upstream
/// then turns a transient attribute object into the persistent one.
/// p2 value in (a = storage id).
pub const CMD_CREATE_NO_HANDLE: u32 = 3;
/// p0 value in (a = handle). `CRYP_OBJ_CLOSE` (TEE_CloseObject).
pub const CMD_CLOSE: u32 = 4;
/// p0 value in (a = handle), p1 memref out (its size becomes the count
/// read). `STORAGE_OBJ_READ`.
pub const CMD_READ: u32 = 5;
/// p0 value in (a = handle), p1 memref in (data) or none.
/// `STORAGE_OBJ_WRITE`.
pub const CMD_WRITE: u32 = 6;
/// p0 value in (a = handle, b = offset, an i32's bits), p1 value in (a =
/// whence). `STORAGE_OBJ_SEEK`.
pub const CMD_SEEK: u32 = 7;
/// p0 value in (a = handle). `STORAGE_OBJ_DEL` (close and delete).
pub const CMD_UNLINK: u32 = 8;
/// p0 value in (a = handle, b = new length). `STORAGE_OBJ_TRUNC`.
pub const CMD_TRUNC: u32 = 9;
/// p0 value in (a = handle), p1 memref in (new id) or none.
/// `STORAGE_OBJ_RENAME`.
pub const CMD_RENAME: u32 = 10;
/// p0 value out (a = enumerator). `STORAGE_ENUM_ALLOC`.
pub const CMD_ENUM_ALLOC: u32 = 11;
/// p0 value in (a = enumerator). `STORAGE_ENUM_FREE`.
pub const CMD_ENUM_FREE: u32 = 12;
/// p0 value in (a = enumerator). `STORAGE_ENUM_RESET`.
pub const CMD_ENUM_RESET: u32 = 13;
/// p0 value in (a = enumerator, b = storage id). `STORAGE_ENUM_START`.
pub const CMD_ENUM_START: u32 = 14;
/// p0 value in (a = enumerator), p1 memref out (`UteeObjectInfo`, 28
/// bytes) or none, p2 memref out (object id; its size becomes the id's
/// length). `STORAGE_ENUM_NEXT` (the TA passes the kernel a 64-byte id
/// buffer, then copies; a client buffer too small gets SHORT_BUFFER).
pub const CMD_ENUM_NEXT: u32 = 15;
/// p0 value in (a = handle), p1 memref out (`UteeObjectInfo`, 28 bytes).
/// `CRYP_OBJ_GET_INFO`.
pub const CMD_GET_INFO: u32 = 16;
/// p0 value in (a = handle, b = usage). `CRYP_OBJ_RESTRICT_USAGE`.
pub const CMD_RESTRICT_USAGE: u32 = 17;
/// p0 value in (a = object type, b = max size in bits), p1 value out (a
/// = handle). `CRYP_OBJ_ALLOC` (a transient object).
pub const CMD_ALLOC_OBJ: u32 = 18;
/// p0 value in (a = handle), p1 memref in (the `TEE_ATTR_SECRET_VALUE`).
/// `CRYP_OBJ_POPULATE` with that one attribute.
pub const CMD_POPULATE_SECRET: u32 = 19;
/// p0 value in (a = handle, b = attribute id), p1 memref out (its size is
/// what the kernel reported). `CRYP_OBJ_GET_ATTR`.
pub const CMD_GET_ATTR: u32 = 20;
/// p0 value in (a = handle). `CRYP_OBJ_RESET`.
pub const CMD_RESET_OBJ: u32 = 21;
/// p0 value in (a = handle, b = key size in bits).
/// `CRYP_OBJ_GENERATE_KEY` without parameters.
pub const CMD_GEN_KEY: u32 = 22;

// ---- scenario commands, through the SDK's API ----

/// p0 value in (a = storage id). Create with initial data, write, seek
/// (every whence), read back, truncate down and up (zero fill), write
/// past the end (zero-filled gap), rename, info, enumerate, reopen,
/// close-and-delete, all through `PersistentObject` and
/// `ObjectEnumHandle`. Success, or the first unexpected error (a wrong
/// byte or size gives `TEE_ERROR_BAD_FORMAT`).
pub const CMD_SDK_BASIC: u32 = 30;
/// p0 value in (a = storage id, b = one of the `PANIC_*` cases): misuses
/// the SDK the way libutee answers with `TEE_Panic`. The command does not
/// return: the session sees `TEE_ERROR_TARGET_DEAD`. A case the SDK lets
/// through returns `TEE_ERROR_GENERIC` instead.
pub const CMD_SDK_PANIC: u32 = 31;
/// p0 value in (a = storage id, b = total bytes), p1 value in (a = write
/// chunk, b = read chunk): writes a pattern of `total` bytes in `a`-byte
/// writes, closes, reopens, checks the size and reads it back in `b`-byte
/// reads, checking every byte; then deletes it. p2 value out (a =
/// milliseconds writing, b = milliseconds reading, TA time).
pub const CMD_BIG: u32 = 32;
/// p0 value in (a = storage id, b = number of objects): creates that many
/// objects (id `many-<i>`, data of length i % 97), enumerates and checks
/// each is seen once with its size, deletes them, checks the enumeration
/// is then empty of them. p1 value out (a = objects enumerated).
pub const CMD_MANY: u32 = 33;
/// p0 value in (a = storage id), p1 memref in (16-byte AES key), p2
/// memref in (16 bytes of plain text), p3 memref out (16 bytes: AES-ECB
/// of the plain text with the key, computed with the persistent key).
/// Makes a transient AES key, stores it as a persistent object with data,
/// closes both, reopens the persistent one, checks its info (type, size,
/// usage, data size) and that `ref_attribute(SecretValue)` gives the key,
/// encrypts with it as the operation's key, and deletes it.
pub const CMD_KEY_OBJECT: u32 = 34;
/// p0 value in (a = storage id), p1 value out (a = objects deleted):
/// deletes every object this TA has in that storage.
pub const CMD_WIPE: u32 = 35;
/// The write loop of the reboot test. p0 value in (a = storage id, b =
/// number of objects N, at most `WL_MAX_OBJECTS`), p1 value in (a =
/// iterations K, 0 = forever, b = record size in bytes, at least
/// `WL_MIN_RECORD`, at most `WL_MAX_RECORD`), p2 value inout (a in: the
/// first generation, 0 = one past the highest stored; a out: the last
/// generation completed).
///
/// Generation g writes objects `wl-0` .. `wl-<N-1>` in that order, each a
/// whole record of generation g (see [`fill_record`]): on even g through
/// `create` with `OVERWRITE` and the record as initial data, on odd g by
/// opening the object for writing, seeking to 0 and writing the record in
/// one write (or, if the object is absent or of another size, through
/// `create` with `OVERWRITE`). So after a power cut at any instant the stored generations,
/// by index, are G .. G (and then G-1 .. G-1): non-increasing, at most one
/// apart, with objects missing only at the end and only during g = 1.
pub const CMD_WRITE_LOOP: u32 = 36;
/// Checks the write loop's objects. p0 value in (a = storage id, b =
/// number of objects N), p1 value out (a = highest generation, b = lowest
/// generation among the objects present), p2 value out (a = objects
/// present, b = the index of the first object of the lower generation, N
/// if all are equal). Success when every present object holds one whole
/// record of its index (right length, pattern and checksum) and the
/// ordering above holds; `TEE_ERROR_BAD_FORMAT` for a torn or foreign
/// record, `TEE_ERROR_BAD_STATE` for a broken ordering, and the kernel's
/// own error (e.g. `TEE_ERROR_CORRUPT_OBJECT`) if an open or read fails.
pub const CMD_VERIFY: u32 = 37;
/// As `CMD_OPEN`, but the object id handed to the kernel is p0's buffer
/// itself (memory the client shares), not a copy: the kernel refuses it
/// with ACCESS_DENIED, as upstream.
pub const CMD_OPEN_ID_IN_SHM: u32 = 38;

/// `CMD_SDK_PANIC` cases.
/// Open with a 65-byte object id (the kernel answers BAD_PARAMETERS).
pub const PANIC_ID_TOO_LONG: u32 = 0;
/// Read from an object opened without `ACCESS_READ` (ACCESS_CONFLICT).
pub const PANIC_READ_WITHOUT_ACCESS: u32 = 1;
/// Write to an object opened without `ACCESS_WRITE` (ACCESS_CONFLICT).
pub const PANIC_WRITE_WITHOUT_ACCESS: u32 = 2;
/// Rename an object opened without `ACCESS_WRITE_META` (BAD_STATE).
pub const PANIC_RENAME_WITHOUT_META: u32 = 3;
/// Close-and-delete an object opened without `ACCESS_WRITE_META`
/// (ACCESS_CONFLICT).
pub const PANIC_DELETE_WITHOUT_META: u32 = 4;
/// Create with a flag outside the defined ones (BAD_PARAMETERS).
pub const PANIC_BAD_FLAGS: u32 = 5;
/// Truncate an object opened without `ACCESS_WRITE` (ACCESS_CONFLICT).
pub const PANIC_TRUNC_WITHOUT_ACCESS: u32 = 6;
/// Rename to a 65-byte id (BAD_PARAMETERS).
pub const PANIC_RENAME_ID_TOO_LONG: u32 = 7;
pub const PANIC_CASES: u32 = 8;

/// Write-loop limits.
pub const WL_MAX_OBJECTS: u32 = 64;
pub const WL_MIN_RECORD: u32 = RECORD_HEADER as u32 + 4;
pub const WL_MAX_RECORD: u32 = 64 * 1024;

/// Record layout (little-endian): magic u32, generation u32, object index
/// u32, total length u32, payload, then a u32 checksum of everything
/// before it (FNV-1a).
pub const RECORD_MAGIC: u32 = 0x5752_4543; // "CERW"
pub const RECORD_HEADER: usize = 16;

fn fnv1a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, b| (h ^ *b as u32).wrapping_mul(0x0100_0193))
}

/// Payload byte `i` of object `index`'s record of generation `g`.
fn payload_byte(g: u32, index: u32, i: usize) -> u8 {
    let x = (i as u32).wrapping_mul(31).wrapping_add(g.wrapping_mul(0x9e37_79b9)).wrapping_add(index << 8);
    (x ^ (x >> 13)) as u8
}

/// Fills `buf` (at least `WL_MIN_RECORD` bytes) with object `index`'s
/// record of generation `g`. False if `buf` is too short.
pub fn fill_record(buf: &mut [u8], g: u32, index: u32) -> bool {
    let len = buf.len();
    if len < WL_MIN_RECORD as usize || len > u32::MAX as usize {
        return false;
    }
    buf[0..4].copy_from_slice(&RECORD_MAGIC.to_le_bytes());
    buf[4..8].copy_from_slice(&g.to_le_bytes());
    buf[8..12].copy_from_slice(&index.to_le_bytes());
    buf[12..16].copy_from_slice(&(len as u32).to_le_bytes());
    for (i, b) in buf[RECORD_HEADER..len - 4].iter_mut().enumerate() {
        *b = payload_byte(g, index, i);
    }
    let sum = fnv1a(&buf[..len - 4]);
    buf[len - 4..].copy_from_slice(&sum.to_le_bytes());
    true
}

/// The generation of `buf` if it is exactly one whole record of object
/// `index` (magic, index, length, payload and checksum all right).
pub fn check_record(buf: &[u8], index: u32) -> Option<u32> {
    let len = buf.len();
    if len < WL_MIN_RECORD as usize {
        return None;
    }
    let word = |at: usize| u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
    if word(0) != RECORD_MAGIC || word(8) != index || word(12) as usize != len {
        return None;
    }
    let g = word(4);
    if word(len - 4) != fnv1a(&buf[..len - 4]) {
        return None;
    }
    let payload_ok = buf[RECORD_HEADER..len - 4].iter().enumerate().all(|(i, b)| *b == payload_byte(g, index, i));
    payload_ok.then_some(g)
}

/// The write loop's object id for index `i` (`wl-<i>`), written into
/// `buf`; returns its length.
pub fn loop_object_id(i: u32, buf: &mut [u8; 16]) -> usize {
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut v = i;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf[..3].copy_from_slice(b"wl-");
    for k in 0..n {
        buf[3 + k] = digits[n - 1 - k];
    }
    3 + n
}

/// What a `CMD_VERIFY` pass found, from the generations by index (None =
/// object absent): Some((highest, lowest, present, first lower index))
/// if the ordering of [`CMD_WRITE_LOOP`] holds.
pub fn check_generations(gens: &[Option<u32>]) -> Option<(u32, u32, u32, u32)> {
    let present = gens.iter().take_while(|g| g.is_some()).count();
    // Absent objects only at the end.
    if gens[present..].iter().any(Option::is_some) {
        return None;
    }
    let vals: &[Option<u32>] = &gens[..present];
    let hi = vals.iter().flatten().copied().max().unwrap_or(0);
    let lo = vals.iter().flatten().copied().min().unwrap_or(0);
    // Missing objects only while the first generation is written.
    if present < gens.len() && hi > 1 {
        return None;
    }
    if hi - lo > 1 {
        return None;
    }
    // Non-increasing by index.
    if vals.windows(2).any(|w| w[1] > w[0]) {
        return None;
    }
    let first_lower = vals.iter().position(|g| *g != Some(hi)).unwrap_or(gens.len());
    Some((hi, lo, present as u32, first_lower as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn records_round_trip_and_detect_damage() {
        let mut b = vec![0u8; 100];
        assert!(fill_record(&mut b, 7, 3));
        assert_eq!(check_record(&b, 3), Some(7));
        assert_eq!(check_record(&b, 4), None);
        assert_eq!(check_record(&b[..99], 3), None);
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 0x10;
            assert_eq!(check_record(&c, 3), None, "flip at {i}");
        }
        // Another generation differs in its payload too.
        let mut c = vec![0u8; 100];
        fill_record(&mut c, 8, 3);
        assert_ne!(b[RECORD_HEADER..96], c[RECORD_HEADER..96]);
        assert!(!fill_record(&mut [0u8; 19], 1, 0));
        assert!(fill_record(&mut [0u8; 20], 1, 0));
    }

    #[test]
    fn loop_ids() {
        let mut b = [0u8; 16];
        let n = loop_object_id(0, &mut b);
        assert_eq!(&b[..n], b"wl-0");
        let n = loop_object_id(4_000_000_123, &mut b);
        assert_eq!(&b[..n], b"wl-4000000123");
    }

    #[test]
    fn generation_orderings() {
        assert_eq!(check_generations(&[Some(5), Some(5), Some(4), Some(4)]), Some((5, 4, 4, 2)));
        assert_eq!(check_generations(&[Some(5), Some(5)]), Some((5, 5, 2, 2)));
        assert_eq!(check_generations(&[Some(1), None, None]), Some((1, 1, 1, 3)));
        assert_eq!(check_generations(&[None, None]), Some((0, 0, 0, 2)));
        assert!(check_generations(&[Some(4), Some(5)]).is_none());
        assert!(check_generations(&[Some(6), Some(4)]).is_none());
        assert!(check_generations(&[Some(2), None]).is_none());
        assert!(check_generations(&[None, Some(1)]).is_none());
        assert!(check_generations(&[Some(5), Some(4), Some(5)]).is_none());
    }
}
