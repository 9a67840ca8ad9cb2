//! The OP-TEE message protocol (upstream `optee_msg.h`): the `optee_msg_arg`
//! header and parameters exchanged in shared memory, commands, logins and the
//! non-contiguous page list.

mod attr;
mod param;

pub use attr::*;
pub use param::*;

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// Fixed head of `optee_msg_arg`; `num_params` [`MsgParam`]s follow it.
/// Only 4-aligned itself, but a whole argument must sit at an
/// [`ARG_ALIGN`] boundary so the parameters after it are 8-aligned.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct MsgArgHeader {
    /// `CMD_*` (or an `rpc::CMD_*` in an RPC message).
    pub cmd: u32,
    /// TA command id for INVOKE_COMMAND.
    pub func: u32,
    /// Session id; output of OPEN_SESSION, input of the others.
    pub session: u32,
    /// Tag matching a later CANCEL to this request.
    pub cancel_id: u32,
    /// Unused; keeps the header a multiple of 8 bytes.
    pub pad: u32,
    /// `tee::TeeResult` of the operation.
    pub ret: u32,
    /// `tee::Origin` of `ret`.
    pub ret_origin: u32,
    /// Number of parameters that follow.
    pub num_params: u32,
}

/// Required alignment of a whole `optee_msg_arg` in shared memory.
pub const ARG_ALIGN: usize = 8;

/// Open a session; params 0 and 1 are meta values holding the TA UUID and
/// the client UUID plus login (value.c).
pub const CMD_OPEN_SESSION: u32 = 0;
/// Invoke `func` in an open session.
pub const CMD_INVOKE_COMMAND: u32 = 1;
/// Close a session.
pub const CMD_CLOSE_SESSION: u32 = 2;
/// Cancel the request tagged with `cancel_id`.
pub const CMD_CANCEL: u32 = 3;
/// Register shared memory described by a TMEM_INPUT param.
pub const CMD_REGISTER_SHM: u32 = 4;
/// Unregister the shared memory named by an RMEM_INPUT param's shm_ref.
pub const CMD_UNREGISTER_SHM: u32 = 5;
/// Run driver bottom-half work the OS asked for via async notification.
pub const CMD_DO_BOTTOM_HALF: u32 = 6;
/// Normal world can no longer take asynchronous notifications.
pub const CMD_STOP_ASYNC_NOTIF: u32 = 7;
/// Lend normal memory to become protected memory.
pub const CMD_LEND_PROTMEM: u32 = 8;
/// Take back memory lent with LEND_PROTMEM.
pub const CMD_RECLAIM_PROTMEM: u32 = 9;
/// Query requirements of a protected-memory use case.
pub const CMD_GET_PROTMEM_CONFIG: u32 = 10;
/// Assign a use case to memory lent through FF-A.
pub const CMD_ASSIGN_PROTMEM: u32 = 11;

/// Protected-memory use case: reserved.
pub const PROTMEM_RESERVED: u32 = 0;
/// Protected-memory use case: secure video playback.
pub const PROTMEM_SECURE_VIDEO_PLAY: u32 = 1;
/// Protected-memory use case: trusted UI.
pub const PROTMEM_TRUSTED_UI: u32 = 2;
/// Protected-memory use case: secure video recording.
pub const PROTMEM_SECURE_VIDEO_RECORD: u32 = 3;

/// Message protocol revision, major (also reported by CALLS_REVISION).
pub const REVISION_MAJOR: u32 = 2;
/// Message protocol revision, minor.
pub const REVISION_MINOR: u32 = 0;

/// Client identity class: anyone.
pub const LOGIN_PUBLIC: u32 = 0x0000_0000;
/// Client identity class: a normal-world user.
pub const LOGIN_USER: u32 = 0x0000_0001;
/// Client identity class: a normal-world group.
pub const LOGIN_GROUP: u32 = 0x0000_0002;
/// Client identity class: a normal-world application.
pub const LOGIN_APPLICATION: u32 = 0x0000_0004;
/// Client identity class: application plus user.
pub const LOGIN_APPLICATION_USER: u32 = 0x0000_0005;
/// Client identity class: application plus group.
pub const LOGIN_APPLICATION_GROUP: u32 = 0x0000_0006;
/// OP-TEE extension: the client is the normal-world kernel itself.
pub const LOGIN_REE_KERNEL: u32 = 0x8000_0000;

/// Granule of non-contiguous buffer descriptions, independent of the
/// normal world's own page size.
pub const NONCONTIG_PAGE_SIZE: usize = 4096;

/// Largest `num_params` whose argument still fits one 4 KiB page.
pub const MAX_NUM_PARAMS: u32 = ((NONCONTIG_PAGE_SIZE - size_of::<MsgArgHeader>()) / size_of::<MsgParam>()) as u32;

/// Bytes of an `optee_msg_arg` carrying `num_params` parameters, or `None`
/// if a hostile count would overflow the computation.
pub const fn arg_size(num_params: u32) -> Option<usize> {
    // Widen through u64 first: usize may be 32 bits on some hosts.
    let Some(params) = (num_params as u64).checked_mul(size_of::<MsgParam>() as u64) else {
        return None;
    };
    let Some(total) = params.checked_add(size_of::<MsgArgHeader>() as u64) else {
        return None;
    };
    if total > usize::MAX as u64 {
        return None;
    }
    Some(total as usize)
}

/// One page of a non-contiguous buffer description: page-aligned physical
/// addresses, the last slot linking to the next such page (0 when done).
/// The buffer's offset into its first page rides in the TMEM buf_ptr's low
/// 12 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct PageList {
    /// Physical addresses of consecutive 4 KiB pages of the buffer.
    pub entries: [u64; PAGE_LIST_ENTRIES],
    /// Physical address of the next `PageList` page.
    pub next: u64,
}

/// Buffer pages described by one [`PageList`].
pub const PAGE_LIST_ENTRIES: usize = NONCONTIG_PAGE_SIZE / size_of::<u64>() - 1;

impl Default for PageList {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of};

    #[test]
    fn header_layout() {
        assert_eq!(size_of::<MsgArgHeader>(), 32);
        assert_eq!(align_of::<MsgArgHeader>(), 4);
        assert_eq!(offset_of!(MsgArgHeader, cmd), 0);
        assert_eq!(offset_of!(MsgArgHeader, func), 4);
        assert_eq!(offset_of!(MsgArgHeader, session), 8);
        assert_eq!(offset_of!(MsgArgHeader, cancel_id), 12);
        assert_eq!(offset_of!(MsgArgHeader, pad), 16);
        assert_eq!(offset_of!(MsgArgHeader, ret), 20);
        assert_eq!(offset_of!(MsgArgHeader, ret_origin), 24);
        assert_eq!(offset_of!(MsgArgHeader, num_params), 28);
        assert_eq!(ARG_ALIGN, align_of::<MsgParam>());
    }

    #[test]
    fn page_list_layout() {
        assert_eq!(NONCONTIG_PAGE_SIZE, 4096);
        assert_eq!(PAGE_LIST_ENTRIES, 511);
        assert_eq!(size_of::<PageList>(), 4096);
        assert_eq!(offset_of!(PageList, entries), 0);
        assert_eq!(offset_of!(PageList, next), 4088);
        let mut page = [0u8; 4096];
        page[4088..].copy_from_slice(&0x4000_1000u64.to_ne_bytes());
        let list = PageList::read_from_bytes(&page).unwrap();
        assert_eq!(list.next, 0x4000_1000);
        assert_eq!(PageList::default(), PageList::read_from_bytes(&[0u8; 4096]).unwrap());
    }

    #[test]
    fn commands() {
        assert_eq!(
            [
                CMD_OPEN_SESSION,
                CMD_INVOKE_COMMAND,
                CMD_CLOSE_SESSION,
                CMD_CANCEL,
                CMD_REGISTER_SHM,
                CMD_UNREGISTER_SHM,
                CMD_DO_BOTTOM_HALF,
                CMD_STOP_ASYNC_NOTIF,
                CMD_LEND_PROTMEM,
                CMD_RECLAIM_PROTMEM,
                CMD_GET_PROTMEM_CONFIG,
                CMD_ASSIGN_PROTMEM,
            ],
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
        );
        assert_eq!(
            [PROTMEM_RESERVED, PROTMEM_SECURE_VIDEO_PLAY, PROTMEM_TRUSTED_UI, PROTMEM_SECURE_VIDEO_RECORD],
            [0, 1, 2, 3]
        );
        assert_eq!((REVISION_MAJOR, REVISION_MINOR), (2, 0));
    }

    #[test]
    fn logins() {
        assert_eq!(
            [
                LOGIN_PUBLIC,
                LOGIN_USER,
                LOGIN_GROUP,
                LOGIN_APPLICATION,
                LOGIN_APPLICATION_USER,
                LOGIN_APPLICATION_GROUP,
                LOGIN_REE_KERNEL,
            ],
            [0, 1, 2, 4, 5, 6, 0x8000_0000]
        );
    }

    #[test]
    fn arg_sizes() {
        assert_eq!(arg_size(0), Some(32));
        assert_eq!(arg_size(1), Some(64));
        assert_eq!(arg_size(4), Some(160));
        assert_eq!(MAX_NUM_PARAMS, 127);
        assert_eq!(arg_size(MAX_NUM_PARAMS), Some(4096));
        // u32::MAX params is ~128 GiB: fits a 64-bit usize, must not wrap.
        let huge = arg_size(u32::MAX);
        if usize::BITS >= 64 {
            assert_eq!(huge, Some(32 + 32 * u32::MAX as usize));
        } else {
            assert_eq!(huge, None);
        }
    }
}
