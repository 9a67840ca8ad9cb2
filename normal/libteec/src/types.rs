//! The C structs of `tee_client_api.h`, laid out byte for byte as OP-TEE's
//! libteec has them: ABI 1 (libteec.so.1, optee_client up to 4.1) by
//! default, ABI 2 (libteec.so.2, optee_client 4.2 and later, where the
//! implementation-defined fields sit in an `imp` sub-struct) with the `abi2`
//! feature. ABI 2 only moves fields in `TEEC_SharedMemory`; the other
//! structs keep their offsets, so one Rust definition serves both.

use core::ffi::{c_int, c_void};
use core::mem::{offset_of, size_of};

/// `TEEC_Context`: only the device fd and two capability flags.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeecContext {
    /// The open TEE device (`/dev/teeN`).
    pub fd: c_int,
    /// The driver can register user memory (always written false: this
    /// library uses kernel shared memory as shadow buffers instead).
    pub reg_mem: bool,
    /// The driver accepts null memory references.
    pub memref_null: bool,
}

/// `TEEC_UUID`, in host-order fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeecUuid {
    pub time_low: u32,
    pub time_mid: u16,
    pub time_hi_and_version: u16,
    pub clock_seq_and_node: [u8; 8],
}

/// `TEEC_SharedMemory`, ABI 1: the implementation fields follow `flags`
/// directly, and the trailing one is a one-byte union.
#[cfg(not(feature = "abi2"))]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeecSharedMemory {
    pub buffer: *mut c_void,
    pub size: usize,
    pub flags: u32,
    /// Kernel shared-memory id; -1 when not allocated or registered.
    pub id: c_int,
    pub alloced_size: usize,
    /// The kernel buffer standing in for a registered `buffer`.
    pub shadow_buffer: *mut c_void,
    pub registered_fd: c_int,
    /// `internal.flags`.
    pub internal_flags: u8,
}

/// `TEEC_SharedMemory`, ABI 2: `imp { id, alloced_size, shadow_buffer,
/// registered_fd, flags }` is pointer-aligned, so 4 padding bytes follow
/// `flags`; `imp.flags` is a `uint32_t`. Flattened here with the padding
/// made explicit (offsets checked below).
#[cfg(feature = "abi2")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeecSharedMemory {
    pub buffer: *mut c_void,
    pub size: usize,
    pub flags: u32,
    /// Alignment padding before the `imp` sub-struct (never read).
    pub _pad: core::mem::MaybeUninit<u32>,
    /// `imp.id`.
    pub id: c_int,
    /// `imp.alloced_size`.
    pub alloced_size: usize,
    /// `imp.shadow_buffer`.
    pub shadow_buffer: *mut c_void,
    /// `imp.registered_fd`.
    pub registered_fd: c_int,
    /// `imp.flags`.
    pub internal_flags: u32,
}

/// `TEEC_TempMemoryReference`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeecTempMemoryReference {
    pub buffer: *mut c_void,
    pub size: usize,
}

/// `TEEC_RegisteredMemoryReference`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeecRegisteredMemoryReference {
    pub parent: *mut TeecSharedMemory,
    pub size: usize,
    pub offset: usize,
}

/// `TEEC_Value`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeecValue {
    pub a: u32,
    pub b: u32,
}

/// `TEEC_Parameter`: which member is live is given by the operation's
/// `paramTypes`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union TeecParameter {
    pub tmpref: TeecTempMemoryReference,
    pub memref: TeecRegisteredMemoryReference,
    pub value: TeecValue,
}

/// `TEEC_Session` (ABI 2: the same two fields inside `imp`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeecSession {
    pub ctx: *mut TeecContext,
    pub session_id: u32,
}

/// `TEEC_Operation` (ABI 2: `session` inside `imp`, same offset).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TeecOperation {
    /// Set to 0 by the client before use; 1 once the library started it.
    pub started: u32,
    pub param_types: u32,
    pub params: [TeecParameter; 4],
    /// The session of the last invoke with this operation (for cancellation).
    pub session: *mut TeecSession,
}

// Sizes and offsets of OP-TEE's libteec on 64-bit Linux (aarch64, x86_64).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<TeecContext>() == 8);
    assert!(offset_of!(TeecContext, reg_mem) == 4);
    assert!(offset_of!(TeecContext, memref_null) == 5);
    assert!(size_of::<TeecUuid>() == 16);
    assert!(offset_of!(TeecUuid, clock_seq_and_node) == 8);
    assert!(size_of::<TeecTempMemoryReference>() == 16);
    assert!(size_of::<TeecRegisteredMemoryReference>() == 24);
    assert!(size_of::<TeecValue>() == 8);
    assert!(size_of::<TeecParameter>() == 24);
    assert!(size_of::<TeecSession>() == 16);
    assert!(offset_of!(TeecSession, session_id) == 8);
    assert!(size_of::<TeecOperation>() == 112);
    assert!(offset_of!(TeecOperation, param_types) == 4);
    assert!(offset_of!(TeecOperation, params) == 8);
    assert!(offset_of!(TeecOperation, session) == 104);
    assert!(offset_of!(TeecSharedMemory, size) == 8);
    assert!(offset_of!(TeecSharedMemory, flags) == 16);
};

#[cfg(all(target_pointer_width = "64", not(feature = "abi2")))]
const _: () = {
    assert!(size_of::<TeecSharedMemory>() == 48);
    assert!(offset_of!(TeecSharedMemory, id) == 20);
    assert!(offset_of!(TeecSharedMemory, alloced_size) == 24);
    assert!(offset_of!(TeecSharedMemory, shadow_buffer) == 32);
    assert!(offset_of!(TeecSharedMemory, registered_fd) == 40);
    assert!(offset_of!(TeecSharedMemory, internal_flags) == 44);
};

#[cfg(all(target_pointer_width = "64", feature = "abi2"))]
const _: () = {
    assert!(size_of::<TeecSharedMemory>() == 56);
    assert!(offset_of!(TeecSharedMemory, id) == 24);
    assert!(offset_of!(TeecSharedMemory, alloced_size) == 32);
    assert!(offset_of!(TeecSharedMemory, shadow_buffer) == 40);
    assert!(offset_of!(TeecSharedMemory, registered_fd) == 48);
    assert!(offset_of!(TeecSharedMemory, internal_flags) == 52);
};

impl TeecUuid {
    pub fn to_uuid(self) -> oxtee_abi::uuid::Uuid {
        oxtee_abi::uuid::Uuid::new(self.time_low, self.time_mid, self.time_hi_and_version, self.clock_seq_and_node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_octets_match_upstream_order() {
        let u = TeecUuid {
            time_low: 0x0a7e_5c1d,
            time_mid: 0x6b2f,
            time_hi_and_version: 0x4c3e,
            clock_seq_and_node: [0x9d, 0x8a, 0x7f, 0x1e, 0x2b, 0x3c, 0x4d, 0x5e],
        };
        assert_eq!(u.to_uuid(), oxtee_abi::test_pta::UUID);
        assert_eq!(u.to_uuid().to_octets()[..4], [0x0a, 0x7e, 0x5c, 0x1d]);
    }
}
