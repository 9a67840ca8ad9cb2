//! oxtee's test pseudo-TA: its UUID and command numbers, shared by the OS
//! and the normal-world test programs that drive it.

use crate::uuid::Uuid;

/// 0a7e5c1d-6b2f-4c3e-9d8a-7f1e2b3c4d5e
pub const UUID: Uuid = Uuid::new(0x0a7e_5c1d, 0x6b2f, 0x4c3e, [0x9d, 0x8a, 0x7f, 0x1e, 0x2b, 0x3c, 0x4d, 0x5e]);

/// No parameters, no work: for round-trip measurements.
pub const CMD_NOOP: u32 = 0;
/// p0 value inout (a, b) -> (a + 1, b * 2); p1 value out -> (a ^ b, 0xc0ffee).
/// (Values carry a and b; c is not transferred, as in OP-TEE.)
pub const CMD_VALUES: u32 = 1;
/// p0 memref (any direction): input bytes are summed; output bytes are
/// written (in-place `b ^ 0x5a` for inout, `i * 7 + 3` for out).
/// p1 value out -> (sum of input bytes, size, 0).
pub const CMD_MEMREF: u32 = 2;
/// p0 memref out, p1 value in (a = bytes needed): short buffer if smaller,
/// else fills `a` bytes with `i * 7 + 3` and sets the size to `a`.
pub const CMD_SHORT_BUFFER: u32 = 3;
/// p0 value out -> (normal-world seconds, nanoseconds, 1 if an RPC shared
/// memory allocation round trip worked).
pub const CMD_RPC: u32 = 4;
/// p0 value in (a = milliseconds): sleeps on the secure timer; cancellable.
pub const CMD_SLEEP: u32 = 5;
/// p0 value in (a = milliseconds): spins with interrupts enabled;
/// cancellable. p1 value out -> (foreign interrupts taken, CPU at start, CPU at end).
/// An optional memref in p2 is held, untouched, for the whole spin.
pub const CMD_SPIN: u32 = 6;
/// p0 value out -> (secure heap bytes in use, registered shm buffers, shm
/// uses held); p1 value out -> (busy threads, open sessions, 0).
pub const CMD_STATS: u32 = 7;
/// p0 value in (a = milliseconds to hold): takes the test mutex, checks
/// nobody else is inside, holds it, releases. p1 value out -> (exclusion
/// violations seen, sleeping waits done, 0).
pub const CMD_MUTEX: u32 = 8;
/// p0 value out -> (CPU before an RPC, CPU after it, 0).
pub const CMD_RESUME_CPU: u32 = 9;
/// p0 value in (a = bytes): a file round trip through tee-supplicant:
/// application shared memory (SHM_ALLOC), then FS create, write, close,
/// open, read, close, remove. p1 value out -> (bytes verified, 0).
pub const CMD_SUPP_FS: u32 = 10;
/// A request to tee-supplicant that holds no shared memory: LOAD_TA size
/// query for a TA that does not exist. Succeeds if the supplicant answers
/// (ITEM_NOT_FOUND); fails with COMMUNICATION if there is none.
pub const CMD_SUPP_PING: u32 = 11;
/// p0 value out -> (user-TA instances alive, most TAs seen in user mode at
/// the same time since boot).
pub const CMD_USER_STATS: u32 = 12;
/// Recurses until the trusted thread's stack runs into its guard page: the
/// OS must abort just this call (a0 = ENOTAVAIL) and keep serving.
pub const CMD_STACK_OVERFLOW: u32 = 13;
