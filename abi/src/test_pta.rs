//! oxtee's test pseudo-TA: its UUID and command numbers, shared by the OS
//! and the normal-world test programs that drive it.

use crate::uuid::Uuid;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

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
/// p0 value out -> (secure heap bytes in use, registered shm buffers); p1
/// value out -> (busy threads, open sessions). (Values carry a and b back,
/// as in OP-TEE; CMD_RESOURCES has every count.)
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
/// OS must abort just this call (answered TEE_ERROR_GENERIC, origin TEE)
/// and keep serving.
pub const CMD_STACK_OVERFLOW: u32 = 13;
/// p0 value in (a = `FAULT_POINT_*`, b = `FAULT_*` kind in bits 0..16 and
/// the hits of the point to let pass first in bits 16..32). `FAULT_POINT_NOW` faults inside this call;
/// `FAULT_POINT_SPIN_LOCK` faults inside this call with the session
/// table's spin lock held; any other point is armed (one at a time, a = 0
/// disarms) and the next call that reaches it faults there. An aborted
/// call is answered TEE_ERROR_TARGET_DEAD (it was inside a user TA, which
/// dies), TEE_ERROR_OUT_OF_MEMORY (allocation failure) or
/// TEE_ERROR_GENERIC, with origin TEE.
pub const CMD_FAULT: u32 = 14;
/// p0 memref out: a `Resources` record (what the OS holds right now and its
/// limits). The memref size comes back as the record's size.
pub const CMD_RESOURCES: u32 = 15;

/// Kinds of injected fault.
pub const FAULT_PANIC: u32 = 1;
/// A load from an unmapped address in the OS (a synchronous data abort).
pub const FAULT_DATA_ABORT: u32 = 2;
/// An allocation that cannot be satisfied (Rust's allocation-failure path).
pub const FAULT_OUT_OF_MEMORY: u32 = 3;
/// Recursion into the thread stack's guard page.
pub const FAULT_STACK_OVERFLOW: u32 = 4;

/// Where a fault can be injected, and what the call holds there.
pub const FAULT_POINT_NOW: u32 = 1;
/// A spin lock (the session table's).
pub const FAULT_POINT_SPIN_LOCK: u32 = 2;
/// A PTA call: its running-call entry, its parameters and a use of every
/// registered buffer they reference.
pub const FAULT_POINT_PTA_CALL: u32 = 3;
/// Right after an RPC (GET_TIME of CMD_RPC): the thread's RPC buffer.
pub const FAULT_POINT_RPC_ARG: u32 = 4;
/// Opening a user-TA session: its reserved session id.
pub const FAULT_POINT_SESSION_RESERVED: u32 = 5;
/// Loading a TA: the TA-load lock, application shared memory holding the
/// image and the secure copy.
pub const FAULT_POINT_TA_LOAD: u32 = 6;
/// A user-TA call before it enters the TA: running-call entry, parameter
/// copies (parameter budget), registered-buffer uses.
pub const FAULT_POINT_PARAM_COPY: u32 = 7;
/// Inside a TA instance: its busy lock, nesting depth, its address space
/// (pages, tables, ASID) taken out for the call.
pub const FAULT_POINT_INSTANCE: u32 = 8;
/// In a syscall of a TA (the instance's parameters mapped).
pub const FAULT_POINT_SYSCALL: u32 = 9;
/// In a TA-to-TA invoke, before the second instance is entered: the first
/// instance (its lock, its space), the caller's parameter copies and the
/// session it invokes. (Arm `FAULT_POINT_INSTANCE` letting one hit pass to
/// fault inside the second instance.)
pub const FAULT_POINT_TA_TO_TA: u32 = 10;
/// Holding the test PTA's sleeping mutex (CMD_MUTEX).
pub const FAULT_POINT_SLEEP_LOCK: u32 = 11;
/// In REGISTER_SHM with the page list read.
pub const FAULT_POINT_REGISTER_SHM: u32 = 12;
/// While an aborted call is being finished (a second fault: the call is
/// dropped, answered ENOTAVAIL in a0, and its thread serves again).
pub const FAULT_POINT_FINISH: u32 = 13;

/// What the OS holds, and its limits (CMD_RESOURCES), all little-endian u64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Resources {
    pub heap_used: u64,
    pub heap_total: u64,
    pub sessions: u64,
    pub sessions_reserved: u64,
    pub ta_sessions: u64,
    pub shm_buffers: u64,
    pub shm_uses: u64,
    pub shm_pages: u64,
    pub threads_busy: u64,
    pub running_calls: u64,
    pub ledger_armed: u64,
    pub jobs_queued: u64,
    pub nesting: u64,
    pub notif_keys: u64,
    pub param_bytes: u64,
    pub asids: u64,
    pub instances: u64,
    pub rpc_cached: u64,
    pub sleep_locks_held: u64,
    pub limit_sessions: u64,
    pub limit_ta_sessions: u64,
    pub limit_shm_buffers: u64,
    pub limit_shm_pages: u64,
    pub limit_instances: u64,
    pub threads: u64,
    pub aborted_calls: u64,
    /// RPC round trips to the normal world since boot (all kinds).
    pub rpc_round_trips: u64,
}

impl Resources {
    /// The counters that must come back to where they were once every
    /// call has ended and everything the client took is given back (all
    /// but the heap, which callers compare themselves, and the totals).
    pub fn held(&self) -> [(&'static str, u64); 16] {
        [
            ("sessions", self.sessions),
            ("reserved session ids", self.sessions_reserved),
            ("TA sessions", self.ta_sessions),
            ("registered SHM buffers", self.shm_buffers),
            ("registered SHM uses", self.shm_uses),
            ("registered SHM pages", self.shm_pages),
            ("busy threads", self.threads_busy),
            ("running calls", self.running_calls),
            ("ledger entries", self.ledger_armed),
            ("deferred jobs", self.jobs_queued),
            ("TA nesting", self.nesting),
            ("notification keys", self.notif_keys),
            ("parameter-copy bytes", self.param_bytes),
            ("ASIDs", self.asids),
            ("TA instances", self.instances),
            ("sleeping locks held", self.sleep_locks_held),
        ]
    }
}
