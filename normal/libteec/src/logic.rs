//! The pure rules of libteec (OP-TEE optee_client 3.19 semantics): constants,
//! parameter-type decoding, validation and copy-back sizes. No pointers, so
//! all of it is unit-tested on the host.

use oxtee_teec::sys;

pub const TEEC_SUCCESS: u32 = 0;
pub const TEEC_ERROR_GENERIC: u32 = 0xffff_0000;
pub const TEEC_ERROR_CANCEL: u32 = 0xffff_0002;
pub const TEEC_ERROR_BAD_PARAMETERS: u32 = 0xffff_0006;
pub const TEEC_ERROR_ITEM_NOT_FOUND: u32 = 0xffff_0008;
pub const TEEC_ERROR_OUT_OF_MEMORY: u32 = 0xffff_000c;

pub const TEEC_ORIGIN_API: u32 = 1;
pub const TEEC_ORIGIN_COMMS: u32 = 2;

pub const TEEC_NONE: u32 = 0x0;
pub const TEEC_VALUE_INPUT: u32 = 0x1;
pub const TEEC_VALUE_OUTPUT: u32 = 0x2;
pub const TEEC_VALUE_INOUT: u32 = 0x3;
pub const TEEC_MEMREF_TEMP_INPUT: u32 = 0x5;
pub const TEEC_MEMREF_TEMP_OUTPUT: u32 = 0x6;
pub const TEEC_MEMREF_TEMP_INOUT: u32 = 0x7;
pub const TEEC_MEMREF_WHOLE: u32 = 0xc;
pub const TEEC_MEMREF_PARTIAL_INPUT: u32 = 0xd;
pub const TEEC_MEMREF_PARTIAL_OUTPUT: u32 = 0xe;
pub const TEEC_MEMREF_PARTIAL_INOUT: u32 = 0xf;

pub const TEEC_MEM_INPUT: u32 = 0x1;
pub const TEEC_MEM_OUTPUT: u32 = 0x2;

pub const TEEC_LOGIN_GROUP: u32 = 2;
pub const TEEC_LOGIN_GROUP_APPLICATION: u32 = 6;

/// `internal.flags` bit of OP-TEE's libteec: `buffer` was allocated by the
/// library (TEEC_AllocateSharedMemory).
pub const SHM_FLAG_BUFFER_ALLOCED: u32 = 1 << 0;

/// Value of `TEEC_Operation::started` once the library has started it.
pub const STARTED: u32 = 1;
/// Value this library leaves in `started` when TEEC_RequestCancellation
/// came before the operation started: the open or invoke then returns
/// TEEC_ERROR_CANCEL without reaching the TEE. A value unlikely to be left
/// in the field by accident.
pub const CANCELLED_BEFORE_START: u32 = 0xca7c_e1ed;

/// How many /dev/teeN devices TEEC_InitializeContext tries.
pub const MAX_DEV_SEQ: usize = 10;
/// `name` selecting OP-TEE (checked against the driver's implementation id).
pub const OPTEE_NAME: &[u8] = b"optee-tz";
pub const TEE_IMPL_ID_OPTEE: u32 = 1;
pub const TEE_OPTEE_CAP_TZ: u32 = 1 << 0;

/// Data direction of a parameter, seen from the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
    InOut,
}

impl Dir {
    pub fn is_in(self) -> bool {
        self != Dir::Out
    }
    pub fn is_out(self) -> bool {
        self != Dir::In
    }
    fn attr_offset(self) -> u64 {
        match self {
            Dir::In => 0,
            Dir::Out => 1,
            Dir::InOut => 2,
        }
    }
    /// The direction the TEEC_MEM_* flags of a shared memory block allow.
    pub fn from_mem_flags(flags: u32) -> Option<Dir> {
        match flags & (TEEC_MEM_INPUT | TEEC_MEM_OUTPUT) {
            3 => Some(Dir::InOut),
            TEEC_MEM_INPUT => Some(Dir::In),
            TEEC_MEM_OUTPUT => Some(Dir::Out),
            _ => None,
        }
    }
    /// The TEEC_MEM_* flags this direction needs.
    pub fn mem_flags(self) -> u32 {
        match self {
            Dir::In => TEEC_MEM_INPUT,
            Dir::Out => TEEC_MEM_OUTPUT,
            Dir::InOut => TEEC_MEM_INPUT | TEEC_MEM_OUTPUT,
        }
    }
}

/// What one nibble of `paramTypes` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    None,
    Value(Dir),
    Temp(Dir),
    /// The whole block; its direction comes from the block's flags.
    Whole,
    Partial(Dir),
}

impl Kind {
    pub fn decode(t: u32) -> Option<Kind> {
        Some(match t {
            TEEC_NONE => Kind::None,
            TEEC_VALUE_INPUT => Kind::Value(Dir::In),
            TEEC_VALUE_OUTPUT => Kind::Value(Dir::Out),
            TEEC_VALUE_INOUT => Kind::Value(Dir::InOut),
            TEEC_MEMREF_TEMP_INPUT => Kind::Temp(Dir::In),
            TEEC_MEMREF_TEMP_OUTPUT => Kind::Temp(Dir::Out),
            TEEC_MEMREF_TEMP_INOUT => Kind::Temp(Dir::InOut),
            TEEC_MEMREF_WHOLE => Kind::Whole,
            TEEC_MEMREF_PARTIAL_INPUT => Kind::Partial(Dir::In),
            TEEC_MEMREF_PARTIAL_OUTPUT => Kind::Partial(Dir::Out),
            TEEC_MEMREF_PARTIAL_INOUT => Kind::Partial(Dir::InOut),
            _ => return None,
        })
    }
}

/// `TEEC_PARAM_TYPE_GET(types, n)`.
pub fn param_type(types: u32, n: usize) -> u32 {
    (types >> (4 * n)) & 0xf
}

/// The four parameter kinds of `paramTypes` (bits above 15 are ignored, as
/// upstream does), or TEEC_ERROR_BAD_PARAMETERS for an undefined nibble.
pub fn decode_types(types: u32) -> Result<[Kind; 4], u32> {
    let mut kinds = [Kind::None; 4];
    for (n, k) in kinds.iter_mut().enumerate() {
        *k = Kind::decode(param_type(types, n)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
    }
    Ok(kinds)
}

/// Kernel attribute of a value parameter.
pub fn value_attr(d: Dir) -> u64 {
    sys::TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT + d.attr_offset()
}

/// Kernel attribute of a memory reference.
pub fn memref_attr(d: Dir) -> u64 {
    sys::TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT + d.attr_offset()
}

/// The flags of TEEC_RegisterSharedMemory / TEEC_AllocateSharedMemory: some
/// of TEEC_MEM_INPUT | TEEC_MEM_OUTPUT and nothing else.
pub fn valid_shm_flags(flags: u32) -> bool {
    flags != 0 && flags & !(TEEC_MEM_INPUT | TEEC_MEM_OUTPUT) == 0
}

/// Bytes of kernel memory behind a block of `size` (upstream never asks
/// the kernel for zero bytes).
pub fn alloc_size(size: usize) -> usize {
    if size == 0 { 8 } else { size }
}

/// A partial reference needs the block to allow its direction and to lie
/// inside the block.
pub fn partial_ok(d: Dir, shm_flags: u32, shm_size: usize, offset: usize, size: usize) -> bool {
    let need = d.mem_flags();
    shm_flags & need == need && offset.checked_add(size).is_some_and(|end| end <= shm_size)
}

/// A temporary reference with a NULL buffer must have size 0 (a size
/// query); a non-zero size is rejected as upstream does.
pub fn null_temp_ok(size: usize) -> bool {
    size == 0
}

/// Bytes copied back into a temporary buffer of `caller_size` when the TA
/// reported `returned` (upstream copies what fits).
pub fn temp_copy_back(returned: u64, caller_size: usize) -> usize {
    usize::try_from(returned).unwrap_or(usize::MAX).min(caller_size)
}

/// Bytes copied back from a shadow buffer into a registered one: only when
/// the whole reported size fits in the reference (upstream copies nothing
/// otherwise, e.g. on TEEC_ERROR_SHORT_BUFFER).
pub fn shadow_copy_back(returned: u64, ref_size: usize) -> Option<usize> {
    usize::try_from(returned).ok().filter(|&n| n <= ref_size)
}

/// A returned 64-bit memref size as the C `size_t`.
pub fn returned_size(b: u64) -> usize {
    usize::try_from(b).unwrap_or(usize::MAX)
}

/// The TEEC error for a failed TEE ioctl (origin TEEC_ORIGIN_COMMS).
pub fn errno_result(errno: Option<i32>) -> u32 {
    match errno {
        Some(libc::ENOMEM) => TEEC_ERROR_OUT_OF_MEMORY,
        Some(libc::EINVAL) => TEEC_ERROR_BAD_PARAMETERS,
        _ => TEEC_ERROR_GENERIC,
    }
}

/// Group logins carry a group id as connection data.
pub fn login_takes_gid(method: u32) -> bool {
    matches!(method, TEEC_LOGIN_GROUP | TEEC_LOGIN_GROUP_APPLICATION)
}

/// The `clnt_uuid` of the open-session ioctl: the group id in its first four
/// bytes (host order) for group logins, zero otherwise.
pub fn client_data(gid: Option<u32>) -> [u8; 16] {
    let mut d = [0u8; 16];
    if let Some(g) = gid {
        d[..4].copy_from_slice(&g.to_ne_bytes());
    }
    d
}

/// The cancellation id an invoke with the operation at `addr` carries, so
/// TEEC_RequestCancellation can name it: the address folded to 32 bits,
/// never 0.
pub fn cancel_id(addr: usize) -> u32 {
    let a = addr as u64;
    let id = (a ^ (a >> 32)) as u32;
    if id == 0 { 1 } else { id }
}

/// Whether `name` (TEEC_InitializeContext's argument, without NUL) accepts
/// a device with these version fields. NULL accepts any GP device; only
/// "optee-tz" is otherwise recognised.
pub fn name_matches(name: Option<&[u8]>, impl_id: u32, impl_caps: u32) -> bool {
    match name {
        None => true,
        Some(n) if n == OPTEE_NAME => impl_id == TEE_IMPL_ID_OPTEE && impl_caps & TEE_OPTEE_CAP_TZ != 0,
        Some(_) => false,
    }
}

/// What an open or invoke does about `started` (read under the library's
/// lock): refuse it if cancelled before starting, else mark it started.
pub fn start(started: u32) -> Result<u32, u32> {
    if started == CANCELLED_BEFORE_START { Err(TEEC_ERROR_CANCEL) } else { Ok(STARTED) }
}

/// What TEEC_RequestCancellation does, given `started` and whether an
/// invoke recorded its session.
#[derive(Debug, PartialEq, Eq)]
pub enum CancelAction {
    /// Not started: mark it so the coming open/invoke is cancelled.
    MarkBeforeStart,
    /// Started on a session: ask the TEE to cancel it.
    Tee,
    /// Started but no session recorded (e.g. an open session): nothing to do.
    Nothing,
}

pub fn cancel_action(started: u32, has_session: bool) -> CancelAction {
    match started {
        0 => CancelAction::MarkBeforeStart,
        CANCELLED_BEFORE_START => CancelAction::Nothing,
        _ if has_session => CancelAction::Tee,
        _ => CancelAction::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn param_types(p0: u32, p1: u32, p2: u32, p3: u32) -> u32 {
        p0 | (p1 << 4) | (p2 << 8) | (p3 << 12)
    }

    #[test]
    fn decodes_param_types() {
        let t = param_types(TEEC_VALUE_INOUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_MEMREF_WHOLE, TEEC_MEMREF_PARTIAL_INPUT);
        assert_eq!(param_type(t, 0), TEEC_VALUE_INOUT);
        assert_eq!(param_type(t, 3), TEEC_MEMREF_PARTIAL_INPUT);
        assert_eq!(
            decode_types(t),
            Ok([Kind::Value(Dir::InOut), Kind::Temp(Dir::Out), Kind::Whole, Kind::Partial(Dir::In)])
        );
        assert_eq!(decode_types(0), Ok([Kind::None; 4]));
        // Upper bits are not parameters.
        assert_eq!(decode_types(0xffff_0000), Ok([Kind::None; 4]));
        for bad in [4, 8, 9, 0xa, 0xb] {
            assert_eq!(Kind::decode(bad), None);
            assert_eq!(decode_types(param_types(TEEC_NONE, TEEC_NONE, bad, TEEC_NONE)), Err(TEEC_ERROR_BAD_PARAMETERS));
        }
    }

    #[test]
    fn kernel_attributes() {
        // Value and temporary memref types equal the kernel's attributes.
        for (t, k) in [(1, Dir::In), (2, Dir::Out), (3, Dir::InOut)] {
            assert_eq!(value_attr(k), t);
            assert_eq!(memref_attr(k), t + 4);
        }
        assert_eq!(memref_attr(Dir::InOut), 7);
    }

    #[test]
    fn shared_memory_flags() {
        assert!(!valid_shm_flags(0));
        assert!(valid_shm_flags(TEEC_MEM_INPUT));
        assert!(valid_shm_flags(TEEC_MEM_INPUT | TEEC_MEM_OUTPUT));
        assert!(!valid_shm_flags(4));
        assert_eq!(Dir::from_mem_flags(1), Some(Dir::In));
        assert_eq!(Dir::from_mem_flags(2), Some(Dir::Out));
        assert_eq!(Dir::from_mem_flags(3), Some(Dir::InOut));
        assert_eq!(Dir::from_mem_flags(0), None);
        assert_eq!(alloc_size(0), 8);
        assert_eq!(alloc_size(4096), 4096);
    }

    #[test]
    fn partial_checks_flags_and_bounds() {
        let io = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
        assert!(partial_ok(Dir::In, io, 100, 10, 90));
        assert!(!partial_ok(Dir::In, io, 100, 10, 91));
        assert!(partial_ok(Dir::Out, TEEC_MEM_OUTPUT, 100, 100, 0));
        assert!(!partial_ok(Dir::Out, TEEC_MEM_INPUT, 100, 0, 1));
        assert!(!partial_ok(Dir::InOut, TEEC_MEM_OUTPUT, 100, 0, 1));
        assert!(!partial_ok(Dir::In, io, 100, usize::MAX, 2));
    }

    #[test]
    fn copy_back_sizes() {
        assert!(null_temp_ok(0));
        assert!(!null_temp_ok(1));
        assert_eq!(temp_copy_back(10, 100), 10);
        assert_eq!(temp_copy_back(200, 100), 100);
        assert_eq!(shadow_copy_back(10, 100), Some(10));
        assert_eq!(shadow_copy_back(100, 100), Some(100));
        assert_eq!(shadow_copy_back(101, 100), None);
        assert_eq!(returned_size(5), 5);
    }

    #[test]
    fn ioctl_errors() {
        assert_eq!(errno_result(Some(libc::ENOMEM)), TEEC_ERROR_OUT_OF_MEMORY);
        assert_eq!(errno_result(Some(libc::EINVAL)), TEEC_ERROR_BAD_PARAMETERS);
        assert_eq!(errno_result(Some(libc::EPERM)), TEEC_ERROR_GENERIC);
        assert_eq!(errno_result(None), TEEC_ERROR_GENERIC);
    }

    #[test]
    fn logins() {
        assert!(login_takes_gid(TEEC_LOGIN_GROUP));
        assert!(login_takes_gid(TEEC_LOGIN_GROUP_APPLICATION));
        for m in [0, 1, 4, 5, 0x8000_0000] {
            assert!(!login_takes_gid(m));
        }
        assert_eq!(client_data(None), [0; 16]);
        let d = client_data(Some(1234));
        assert_eq!(d[..4], 1234u32.to_ne_bytes());
        assert_eq!(d[4..], [0; 12]);
    }

    #[test]
    fn cancel_ids_are_nonzero() {
        assert_eq!(cancel_id(0), 1);
        assert_eq!(cancel_id(0x1234), 0x1234);
        assert_eq!(cancel_id(0xffff_0000_0000_1234), 0xffff_1234);
        assert_ne!(cancel_id(0x7fff_f000_0010), cancel_id(0x7fff_f000_0080));
    }

    #[test]
    fn device_names() {
        assert!(name_matches(None, 99, 0));
        assert!(name_matches(Some(b"optee-tz"), TEE_IMPL_ID_OPTEE, TEE_OPTEE_CAP_TZ));
        assert!(!name_matches(Some(b"optee-tz"), 2, TEE_OPTEE_CAP_TZ));
        assert!(!name_matches(Some(b"optee-tz"), TEE_IMPL_ID_OPTEE, 0));
        assert!(!name_matches(Some(b"other"), TEE_IMPL_ID_OPTEE, TEE_OPTEE_CAP_TZ));
    }

    #[test]
    fn cancellation_states() {
        assert_eq!(start(0), Ok(STARTED));
        assert_eq!(start(STARTED), Ok(STARTED));
        assert_eq!(start(CANCELLED_BEFORE_START), Err(TEEC_ERROR_CANCEL));
        assert_eq!(cancel_action(0, false), CancelAction::MarkBeforeStart);
        assert_eq!(cancel_action(0, true), CancelAction::MarkBeforeStart);
        assert_eq!(cancel_action(STARTED, true), CancelAction::Tee);
        assert_eq!(cancel_action(STARTED, false), CancelAction::Nothing);
        assert_eq!(cancel_action(CANCELLED_BEFORE_START, true), CancelAction::Nothing);
    }
}
