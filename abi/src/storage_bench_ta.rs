//! oxtee's storage benchmark TA (`ta/storage-bench`) and its protocol,
//! shared with `oxtee-xtest bench-storage` (`cargo xtask bench --storage`).
//!
//! Each measurement is three invokes: `CMD_PREPARE` sets the object up
//! (not measured), `CMD_RUN` is the operation measured, from the
//! client's side (so it includes the TA's entry and exit, which
//! `CMD_NOOP` measures alone), and `CMD_FINISH` checks what was stored
//! and deletes the object (not measured). Data moves in `CHUNK`-byte
//! pieces, as upstream's `storage_benchmark` TA does (xtest 1001-1003).

use crate::uuid::Uuid;

/// 5e57be7c-0000-4000-8000-00000000be7c: the storage benchmark TA.
/// Multi-instance, one session each (flags 0).
pub const UUID: Uuid = Uuid::new(0x5e57_be7c, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0xbe, 0x7c]);

/// Declared stack and heap: the largest object (1 MiB, given whole as
/// initial data for `OP_CREATE`) and a chunk.
pub const STACK_SIZE: u32 = 16 * 1024;
pub const DATA_SIZE: u32 = 1024 * 1024 + 128 * 1024;

/// Largest object size the TA takes.
pub const MAX_SIZE: u32 = 1024 * 1024;
/// Bytes per read or write system call.
pub const CHUNK: u32 = 1024;

/// Does nothing (the baseline of `CMD_RUN`).
pub const CMD_NOOP: u32 = 0;
/// p0 value in (a = `OP_*`, b = object size), p1 value in (a = storage
/// id). Deletes any object left by an earlier run, then: for `OP_CREATE`
/// nothing more; for `OP_WRITE` creates the object empty and keeps it
/// open; for `OP_READ` and `OP_REWRITE` creates it with the data (in
/// chunks) and keeps it open at position 0.
pub const CMD_PREPARE: u32 = 1;
/// p0 value in (a = `OP_*`): the measured operation. `OP_CREATE`: one
/// create with the whole data as initial data, then close; `OP_WRITE`:
/// the data written in chunks, then close; `OP_READ`: read in chunks,
/// then close; `OP_REWRITE`: per chunk a read, a seek back and a write
/// of what was read, then close. Closing is measured too: a store may
/// finish its work there.
pub const CMD_RUN: u32 = 2;
/// p0 value in (a = `OP_*`): reopens the object, checks its size and
/// every byte, deletes it. `TEE_ERROR_CORRUPT_OBJECT` if anything
/// differs.
pub const CMD_FINISH: u32 = 3;

pub const OP_CREATE: u32 = 1;
pub const OP_WRITE: u32 = 2;
pub const OP_READ: u32 = 3;
pub const OP_REWRITE: u32 = 4;

/// The object's id.
pub const OBJECT_ID: &[u8] = b"oxtee-storage-bench";

/// Byte `i` of the benchmark's data.
pub fn data_byte(i: usize) -> u8 {
    ((i as u32).wrapping_mul(0x9e37_79b9) >> 24) as u8 ^ (i as u8)
}
