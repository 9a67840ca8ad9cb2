//! One safe function per syscall the SDK uses (upstream
//! `utee_syscalls.h`). Each takes only references and plain numbers, so
//! what the kernel reads or writes is memory the borrow checker already
//! lent for the call; the raw pointers exist only inside these bodies.

use crate::arch::syscall;
use crate::ta_session::TeeParams;
use core::ffi::CStr;
use oxtee_abi::ta::{
    SYS_CHECK_ACCESS_RIGHTS, SYS_CLOSE_TA_SESSION, SYS_GET_CANCELLATION_FLAG, SYS_GET_PROPERTY,
    SYS_GET_PROPERTY_NAME_TO_INDEX, SYS_GET_TIME, SYS_INVOKE_TA_COMMAND, SYS_LOG, SYS_MASK_CANCELLATION,
    SYS_OPEN_TA_SESSION, SYS_SET_TA_TIME, SYS_UNMASK_CANCELLATION, SYS_WAIT, TeeTime, TeeUuid, UteeParams,
};
use oxtee_abi::tee::TeeResult;

pub(crate) use crate::arch::panic;

pub mod cryp;
pub mod storage;

fn ptr<T>(r: &T) -> usize {
    r as *const T as usize
}

fn ptr_mut<T>(r: &mut T) -> usize {
    r as *mut T as usize
}

fn result(raw: u32) -> Result<(), TeeResult> {
    if raw == 0 { Ok(()) } else { Err(TeeResult(raw)) }
}

/// LOG: writes `msg` to the secure console.
pub(crate) fn log(msg: &[u8]) {
    // SAFETY: the kernel reads `msg.len()` bytes at `msg`, a live slice.
    unsafe { syscall(SYS_LOG, [msg.as_ptr() as usize, msg.len(), 0, 0, 0, 0, 0, 0]) };
}

/// What GET_PROPERTY reports besides the value.
pub(crate) struct PropertyAnswer {
    pub res: TeeResult,
    /// Bytes the value needs (on success or SHORT_BUFFER).
    pub len: u32,
    pub prop_type: u32,
}

/// GET_PROPERTY: the value of property `index` of `set` into `buf`.
pub(crate) fn get_property(set: u32, index: u32, buf: &mut [u8]) -> PropertyAnswer {
    let mut len = buf.len() as u32;
    let mut prop_type = 0u32;
    let args =
        [set as usize, index as usize, 0, 0, buf.as_mut_ptr() as usize, ptr_mut(&mut len), ptr_mut(&mut prop_type), 0];
    // SAFETY: no name is asked for (null name and length); the kernel
    // writes at most `len` bytes to `buf`, a live exclusive slice, and one
    // u32 each to `len` and `prop_type`, live locals.
    let res = TeeResult(unsafe { syscall(SYS_GET_PROPERTY, args) });
    PropertyAnswer { res, len, prop_type }
}

/// GET_PROPERTY_NAME_TO_INDEX: the kernel's index of `name` in `set`.
pub(crate) fn get_property_name_to_index(set: u32, name: &CStr) -> Result<u32, TeeResult> {
    let mut index = 0u32;
    let bytes = name.to_bytes_with_nul();
    let args = [set as usize, bytes.as_ptr() as usize, bytes.len(), ptr_mut(&mut index), 0, 0, 0, 0];
    // SAFETY: the kernel reads `bytes` (a live slice, NUL included) and
    // writes one u32 to `index`, a live local.
    result(unsafe { syscall(SYS_GET_PROPERTY_NAME_TO_INDEX, args) })?;
    Ok(index)
}

/// CHECK_ACCESS_RIGHTS: whether [addr, addr + len) is mapped for this TA
/// with `flags`. The kernel only looks the range up; nothing is accessed.
pub(crate) fn check_access_rights(flags: u32, addr: usize, len: usize) -> TeeResult {
    // SAFETY: the range is only looked up in the TA's page tables, never
    // dereferenced, so any values are fine.
    TeeResult(unsafe { syscall(SYS_CHECK_ACCESS_RIGHTS, [flags as usize, addr, len, 0, 0, 0, 0, 0]) })
}

fn cancellation_call(nr: u32) -> Result<bool, TeeResult> {
    let mut out = 0u32;
    // SAFETY: the kernel writes one u32 to `out`, a live local.
    result(unsafe { syscall(nr, [ptr_mut(&mut out), 0, 0, 0, 0, 0, 0, 0]) })?;
    Ok(out != 0)
}

/// GET_CANCELLATION_FLAG.
pub(crate) fn get_cancellation_flag() -> Result<bool, TeeResult> {
    cancellation_call(SYS_GET_CANCELLATION_FLAG)
}

/// UNMASK_CANCELLATION: the previous mask state.
pub(crate) fn unmask_cancellation() -> Result<bool, TeeResult> {
    cancellation_call(SYS_UNMASK_CANCELLATION)
}

/// MASK_CANCELLATION: the previous mask state.
pub(crate) fn mask_cancellation() -> Result<bool, TeeResult> {
    cancellation_call(SYS_MASK_CANCELLATION)
}

/// WAIT: sleeps `ms` milliseconds, or until cancelled (CANCEL).
pub(crate) fn wait(ms: u32) -> TeeResult {
    // SAFETY: one integer argument, nothing in memory.
    TeeResult(unsafe { syscall(SYS_WAIT, [ms as usize, 0, 0, 0, 0, 0, 0, 0]) })
}

/// GET_TIME of category `cat` (`UTEE_TIME_CAT_*`).
pub(crate) fn get_time(cat: u64) -> Result<TeeTime, TeeResult> {
    let mut t = TeeTime::default();
    // SAFETY: the kernel writes one TEE_Time to `t`, a live local.
    result(unsafe { syscall(SYS_GET_TIME, [cat as usize, ptr_mut(&mut t), 0, 0, 0, 0, 0, 0]) })?;
    Ok(t)
}

/// SET_TA_TIME.
pub(crate) fn set_ta_time(t: &TeeTime) -> Result<(), TeeResult> {
    // SAFETY: the kernel reads one TEE_Time at `t`, a live reference.
    result(unsafe { syscall(SYS_SET_TA_TIME, [ptr(t), 0, 0, 0, 0, 0, 0, 0]) })
}

/// OPEN_TA_SESSION: (result, session handle, origin).
pub(crate) fn open_ta_session(dest: &TeeUuid, timeout: u32, params: &mut TeeParams<'_>) -> (TeeResult, u32, u32) {
    let mut up = params.utee_params();
    let (mut sess, mut origin) = (0u32, 0u32);
    let args = [ptr(dest), timeout as usize, ptr_mut(&mut up), ptr_mut(&mut sess), ptr_mut(&mut origin), 0, 0, 0];
    // SAFETY: the kernel reads the UUID at `dest`; reads and writes `up`,
    // a live local whose memref entries point into the slices `params`
    // exclusively borrows for this call (read-only ones only for input
    // memrefs, which the kernel does not write); writes one u32 each to
    // `sess` and `origin`, live locals.
    let res = TeeResult(unsafe { syscall(SYS_OPEN_TA_SESSION, args) });
    params.update_from_utee(&up);
    (res, sess, origin)
}

/// INVOKE_TA_COMMAND: (result, origin).
pub(crate) fn invoke_ta_command(sess: u32, timeout: u32, cmd: u32, params: &mut TeeParams<'_>) -> (TeeResult, u32) {
    let mut up: UteeParams = params.utee_params();
    let mut origin = 0u32;
    let args = [sess as usize, timeout as usize, cmd as usize, ptr_mut(&mut up), ptr_mut(&mut origin), 0, 0, 0];
    // SAFETY: as for OPEN_TA_SESSION: `up` and `origin` are live locals,
    // and the memrefs in `up` point into slices `params` borrows.
    let res = TeeResult(unsafe { syscall(SYS_INVOKE_TA_COMMAND, args) });
    params.update_from_utee(&up);
    (res, origin)
}

/// CLOSE_TA_SESSION.
pub(crate) fn close_ta_session(sess: u32) -> TeeResult {
    // SAFETY: one integer argument, nothing in memory.
    TeeResult(unsafe { syscall(SYS_CLOSE_TA_SESSION, [sess as usize, 0, 0, 0, 0, 0, 0, 0]) })
}
