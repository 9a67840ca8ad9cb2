//! The TA's own header (`.ta_head`, first bytes of the lowest loadable
//! segment), its entry-point arguments (`utee_params`) and the property
//! table format upstream TAs carry (`user_ta_property`).

use crate::uuid::Uuid;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Only one instance of the TA exists; all sessions share it.
pub const TA_FLAG_SINGLE_INSTANCE: u32 = 1 << 2;
/// A single instance accepts more than one session.
pub const TA_FLAG_MULTI_SESSION: u32 = 1 << 3;
/// A single instance survives its last session's close.
pub const TA_FLAG_INSTANCE_KEEP_ALIVE: u32 = 1 << 4;
/// The TA may access secure-data-path memory.
pub const TA_FLAG_SECURE_DATA_PATH: u32 = 1 << 5;
/// The TA may use the cache-maintenance syscall.
pub const TA_FLAG_CACHE_MAINTENANCE: u32 = 1 << 7;
/// Sessions run concurrently (pseudo-TAs only).
pub const TA_FLAG_CONCURRENT: u32 = 1 << 8;
/// Listed by device enumeration before the supplicant runs.
pub const TA_FLAG_DEVICE_ENUM: u32 = 1 << 9;
/// Listed by device enumeration once the supplicant runs.
pub const TA_FLAG_DEVICE_ENUM_SUPP: u32 = 1 << 10;
/// Keep handles to objects found corrupt open (storage).
pub const TA_FLAG_DONT_CLOSE_HANDLE_ON_CORRUPT_OBJECT: u32 = 1 << 11;
/// Listed by device enumeration once TEE storage is up.
pub const TA_FLAG_DEVICE_ENUM_TEE_STORAGE_PRIVATE: u32 = 1 << 12;
/// A crashed instance stays (dead) until its sessions close.
pub const TA_FLAG_INSTANCE_KEEP_CRASHED: u32 = 1 << 13;
/// Every defined flag bit.
pub const TA_FLAGS_MASK: u32 = (1 << 14) - 1;

/// `ta_head.depr_entry` of every TA built since the entry moved to the ELF
/// header; any other value marks a TA too old to load.
pub const TA_HEAD_NO_DEPR_ENTRY: u64 = u64::MAX;

/// GP `TEE_UUID` as laid out in TA memory: native (little-endian) fields.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct TeeUuid {
    pub time_low: u32,
    pub time_mid: u16,
    pub time_hi_and_version: u16,
    pub clock_seq_and_node: [u8; 8],
}

impl From<TeeUuid> for Uuid {
    fn from(u: TeeUuid) -> Uuid {
        Uuid::new(u.time_low, u.time_mid, u.time_hi_and_version, u.clock_seq_and_node)
    }
}

impl From<Uuid> for TeeUuid {
    fn from(u: Uuid) -> TeeUuid {
        TeeUuid {
            time_low: u.time_low,
            time_mid: u.time_mid,
            time_hi_and_version: u.time_hi_and_version,
            clock_seq_and_node: u.clock_seq_and_node,
        }
    }
}

/// `struct ta_head` (32 bytes), in section `.ta_head` at the TA's load
/// address.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct TaHead {
    pub uuid: TeeUuid,
    /// Bytes of stack the TA needs (its own plus the framework's).
    pub stack_size: u32,
    /// `TA_FLAG_*`.
    pub flags: u32,
    /// [`TA_HEAD_NO_DEPR_ENTRY`] for current TAs.
    pub depr_entry: u64,
}

/// `utee_entry_func`: first argument of the TA entry point.
pub const UTEE_ENTRY_FUNC_OPEN_SESSION: u64 = 0;
pub const UTEE_ENTRY_FUNC_CLOSE_SESSION: u64 = 1;
pub const UTEE_ENTRY_FUNC_INVOKE_COMMAND: u64 = 2;

/// GP parameter count.
pub const TEE_NUM_PARAMS: usize = 4;

/// GP `TEE_PARAM_TYPE_*` nibbles.
pub const TEE_PARAM_TYPE_NONE: u32 = 0;
pub const TEE_PARAM_TYPE_VALUE_INPUT: u32 = 1;
pub const TEE_PARAM_TYPE_VALUE_OUTPUT: u32 = 2;
pub const TEE_PARAM_TYPE_VALUE_INOUT: u32 = 3;
pub const TEE_PARAM_TYPE_MEMREF_INPUT: u32 = 5;
pub const TEE_PARAM_TYPE_MEMREF_OUTPUT: u32 = 6;
pub const TEE_PARAM_TYPE_MEMREF_INOUT: u32 = 7;

/// Type nibble `i` of a packed `TEE_PARAM_TYPES` word.
pub const fn param_type_get(types: u32, i: usize) -> u32 {
    (types >> (i * 4)) & 0xf
}

/// `struct utee_params`: what the TA entry point's third argument points
/// to. For param i, `vals[2i]` is value.a or the memref's address and
/// `vals[2i+1]` value.b or the memref's size.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct UteeParams {
    pub types: u64,
    pub vals: [u64; TEE_NUM_PARAMS * 2],
}

/// `utee_time_category` of the GET_TIME syscall.
pub const UTEE_TIME_CAT_SYSTEM: u64 = 0;
pub const UTEE_TIME_CAT_TA_PERSISTENT: u64 = 1;
pub const UTEE_TIME_CAT_REE: u64 = 2;

/// GP `TEE_Time`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct TeeTime {
    pub seconds: u32,
    pub millis: u32,
}

/// GP `TEE_Identity` (login, then the UUID in TA memory layout).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct TeeIdentity {
    pub login: u32,
    pub uuid: TeeUuid,
}

/// `user_ta_prop_type`: type of a property value.
pub const USER_TA_PROP_TYPE_BOOL: u32 = 0;
pub const USER_TA_PROP_TYPE_U32: u32 = 1;
pub const USER_TA_PROP_TYPE_UUID: u32 = 2;
pub const USER_TA_PROP_TYPE_IDENTITY: u32 = 3;
pub const USER_TA_PROP_TYPE_STRING: u32 = 4;
pub const USER_TA_PROP_TYPE_BINARY_BLOCK: u32 = 5;
pub const USER_TA_PROP_TYPE_U64: u32 = 6;

/// Pseudo-handles of the GP property sets.
pub const TEE_PROPSET_TEE_IMPLEMENTATION: u32 = 0xFFFF_FFFD;
pub const TEE_PROPSET_CURRENT_CLIENT: u32 = 0xFFFF_FFFE;
pub const TEE_PROPSET_CURRENT_TA: u32 = 0xFFFF_FFFF;

/// Access flags of CHECK_ACCESS_RIGHTS (GP `TEE_MEMORY_ACCESS_*`).
pub const TEE_MEMORY_ACCESS_READ: u32 = 0x1;
pub const TEE_MEMORY_ACCESS_WRITE: u32 = 0x2;
pub const TEE_MEMORY_ACCESS_ANY_OWNER: u32 = 0x4;
/// OP-TEE extensions: the range must be mapped non-secure / secure.
pub const TEE_MEMORY_ACCESS_NONSECURE: u32 = 0x1000_0000;
pub const TEE_MEMORY_ACCESS_SECURE: u32 = 0x2000_0000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_upstream() {
        assert_eq!(size_of::<TeeUuid>(), 16);
        assert_eq!(size_of::<TaHead>(), 32);
        assert_eq!(size_of::<UteeParams>(), 72);
        assert_eq!(size_of::<TeeIdentity>(), 20);
        assert_eq!(size_of::<TeeTime>(), 8);
    }

    #[test]
    fn tee_uuid_round_trips() {
        let u = Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0, 2, 0xa5, 0xd5, 0xc5, 0x1b]);
        let t = TeeUuid::from(u);
        assert_eq!(&t.as_bytes()[..4], &[0x00, 0xf2, 0xaa, 0x8a]);
        assert_eq!(Uuid::from(t), u);
    }
}
