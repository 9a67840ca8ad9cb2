//! One safe function per syscall the SDK uses (upstream
//! `utee_syscalls.h`). Each takes only references and plain numbers, so
//! what the kernel reads or writes is memory the borrow checker already
//! lent for the call; the raw pointers exist only inside these bodies.

use crate::arch::syscall;
use crate::crypto::Attribute;
use crate::ta_session::TeeParams;
use core::ffi::CStr;
use oxtee_abi::ta::{
    SYS_ASYMM_OPERATE, SYS_ASYMM_VERIFY, SYS_AUTHENC_DEC_FINAL, SYS_AUTHENC_ENC_FINAL, SYS_AUTHENC_INIT,
    SYS_AUTHENC_UPDATE_AAD, SYS_AUTHENC_UPDATE_PAYLOAD, SYS_CIPHER_FINAL, SYS_CIPHER_INIT, SYS_CIPHER_UPDATE,
    SYS_CRYP_DERIVE_KEY, SYS_CRYP_OBJ_ALLOC, SYS_CRYP_OBJ_CLOSE, SYS_CRYP_OBJ_COPY, SYS_CRYP_OBJ_GENERATE_KEY,
    SYS_CRYP_OBJ_GET_ATTR, SYS_CRYP_OBJ_GET_INFO, SYS_CRYP_OBJ_POPULATE, SYS_CRYP_OBJ_RESET,
    SYS_CRYP_OBJ_RESTRICT_USAGE, SYS_CRYP_RANDOM_NUMBER_GENERATE, SYS_CRYP_STATE_ALLOC, SYS_CRYP_STATE_COPY,
    SYS_CRYP_STATE_FREE, SYS_HASH_FINAL, SYS_HASH_INIT, SYS_HASH_UPDATE, crypto::UteeObjectInfo,
};
use oxtee_abi::ta::{
    SYS_CHECK_ACCESS_RIGHTS, SYS_CLOSE_TA_SESSION, SYS_GET_CANCELLATION_FLAG, SYS_GET_PROPERTY,
    SYS_GET_PROPERTY_NAME_TO_INDEX, SYS_GET_TIME, SYS_INVOKE_TA_COMMAND, SYS_LOG, SYS_MASK_CANCELLATION,
    SYS_OPEN_TA_SESSION, SYS_SET_TA_TIME, SYS_UNMASK_CANCELLATION, SYS_WAIT, TeeTime, TeeUuid, UteeParams,
};
use oxtee_abi::tee::TeeResult;

pub(crate) use crate::arch::panic;

pub mod cryp;

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

// ---- Cryptography (upstream `utee_syscalls.h`, syscalls 15-40 and 54) ----
//
// Lengths the kernel reads and writes back are `uint64_t` in the ABI; the
// slices here bound what the kernel may touch: it is given a buffer's
// address (NULL when empty) and, as the in/out length, that slice's own
// length.

/// The attributes of `attrs` as the kernel reads them: `Attribute` is a
/// transparent `UteeAttribute` whose reference entries point into slices
/// borrowed for at least as long as `attrs` is.
fn attrs_arg(attrs: &[Attribute<'_>]) -> (usize, usize) {
    (if attrs.is_empty() { 0 } else { attrs.as_ptr() as usize }, attrs.len())
}

/// A buffer's address as libutee passes it: NULL for an empty one (a
/// Rust empty slice's pointer is dangling, not null).
fn addr(s: &[u8]) -> usize {
    if s.is_empty() { 0 } else { s.as_ptr() as usize }
}

/// An output buffer's address, NULL for an empty one.
fn addr_mut(s: &mut [u8]) -> usize {
    if s.is_empty() { 0 } else { s.as_mut_ptr() as usize }
}

/// CRYP_STATE_ALLOC: a crypto state for `algo` in `mode` that takes over
/// the key objects `key1`/`key2` (0 for none).
pub(crate) fn cryp_state_alloc(algo: u32, mode: u32, key1: u32, key2: u32) -> Result<u32, TeeResult> {
    let mut state = 0u32;
    let args = [algo as usize, mode as usize, key1 as usize, key2 as usize, ptr_mut(&mut state), 0, 0, 0];
    // SAFETY: the kernel writes one u32 to `state`, a live local.
    result(unsafe { syscall(SYS_CRYP_STATE_ALLOC, args) })?;
    Ok(state)
}

/// CRYP_STATE_COPY: `dst` takes `src`'s state.
pub(crate) fn cryp_state_copy(dst: u32, src: u32) -> TeeResult {
    // SAFETY: two handles, nothing in memory.
    TeeResult(unsafe { syscall(SYS_CRYP_STATE_COPY, [dst as usize, src as usize, 0, 0, 0, 0, 0, 0]) })
}

/// CRYP_STATE_FREE: frees the state and the key objects it holds.
pub(crate) fn cryp_state_free(state: u32) -> TeeResult {
    // SAFETY: one handle, nothing in memory.
    TeeResult(unsafe { syscall(SYS_CRYP_STATE_FREE, [state as usize, 0, 0, 0, 0, 0, 0, 0]) })
}

/// HASH_INIT (digests and MACs; `iv` for the MACs that take one).
pub(crate) fn hash_init(state: u32, iv: &[u8]) -> TeeResult {
    // SAFETY: the kernel reads `iv.len()` bytes at `iv`, a live slice.
    TeeResult(unsafe { syscall(SYS_HASH_INIT, [state as usize, addr(iv), iv.len(), 0, 0, 0, 0, 0]) })
}

/// HASH_UPDATE.
pub(crate) fn hash_update(state: u32, chunk: &[u8]) -> TeeResult {
    // SAFETY: the kernel reads `chunk.len()` bytes at `chunk`, a live slice.
    TeeResult(unsafe { syscall(SYS_HASH_UPDATE, [state as usize, addr(chunk), chunk.len(), 0, 0, 0, 0, 0]) })
}

/// Calls `nr` with (state, src, src_len, dst, &dst_len, rest...): the
/// shape of the calls that consume input and write output.
fn in_out_call(nr: u32, state: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    let mut len = dst.len() as u64;
    let args = [state as usize, addr(src), src.len(), addr_mut(dst), ptr_mut(&mut len), 0, 0, 0];
    // SAFETY: the kernel reads `src.len()` bytes at `src` (a live slice),
    // writes at most `len` = `dst.len()` bytes at `dst` (a live exclusive
    // slice, disjoint from `src` by the borrow rules) and one u64 to
    // `len`, a live local.
    let res = TeeResult(unsafe { syscall(nr, args) });
    (res, len as usize)
}

/// HASH_FINAL: (result, digest length; the length needed on SHORT_BUFFER).
pub(crate) fn hash_final(state: u32, chunk: &[u8], hash: &mut [u8]) -> (TeeResult, usize) {
    in_out_call(SYS_HASH_FINAL, state, chunk, hash)
}

/// CIPHER_INIT.
pub(crate) fn cipher_init(state: u32, iv: &[u8]) -> TeeResult {
    // SAFETY: the kernel reads `iv.len()` bytes at `iv`, a live slice.
    TeeResult(unsafe { syscall(SYS_CIPHER_INIT, [state as usize, addr(iv), iv.len(), 0, 0, 0, 0, 0]) })
}

/// CIPHER_UPDATE: (result, bytes written).
pub(crate) fn cipher_update(state: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    in_out_call(SYS_CIPHER_UPDATE, state, src, dst)
}

/// CIPHER_FINAL: (result, bytes written).
pub(crate) fn cipher_final(state: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    in_out_call(SYS_CIPHER_FINAL, state, src, dst)
}

/// CRYP_OBJ_GET_INFO: the result and what the kernel filled in (upstream
/// fills it on CORRUPT_OBJECT too).
pub(crate) fn cryp_obj_get_info(obj: u32) -> (TeeResult, UteeObjectInfo) {
    let mut info = UteeObjectInfo::default();
    // SAFETY: the kernel writes one `utee_object_info` to `info`, a live
    // local of that layout.
    let res =
        TeeResult(unsafe { syscall(SYS_CRYP_OBJ_GET_INFO, [obj as usize, ptr_mut(&mut info), 0, 0, 0, 0, 0, 0]) });
    (res, info)
}

/// CRYP_OBJ_RESTRICT_USAGE.
pub(crate) fn cryp_obj_restrict_usage(obj: u32, usage: u32) -> TeeResult {
    // SAFETY: two integers, nothing in memory.
    TeeResult(unsafe { syscall(SYS_CRYP_OBJ_RESTRICT_USAGE, [obj as usize, usage as usize, 0, 0, 0, 0, 0, 0]) })
}

/// CRYP_OBJ_GET_ATTR: (result, attribute size; the size needed on
/// SHORT_BUFFER).
pub(crate) fn cryp_obj_get_attr(obj: u32, attr_id: u32, buf: &mut [u8]) -> (TeeResult, usize) {
    let mut len = buf.len() as u64;
    let args = [obj as usize, attr_id as usize, addr_mut(buf), ptr_mut(&mut len), 0, 0, 0, 0];
    // SAFETY: the kernel writes at most `len` = `buf.len()` bytes at
    // `buf`, a live exclusive slice, and one u64 to `len`, a live local.
    let res = TeeResult(unsafe { syscall(SYS_CRYP_OBJ_GET_ATTR, args) });
    (res, len as usize)
}

/// CRYP_OBJ_ALLOC: a transient object of `obj_type` up to `max_size` bits.
pub(crate) fn cryp_obj_alloc(obj_type: u32, max_size: u32) -> Result<u32, TeeResult> {
    let mut obj = 0u32;
    let args = [obj_type as usize, max_size as usize, ptr_mut(&mut obj), 0, 0, 0, 0, 0];
    // SAFETY: the kernel writes one u32 to `obj`, a live local.
    result(unsafe { syscall(SYS_CRYP_OBJ_ALLOC, args) })?;
    Ok(obj)
}

/// CRYP_OBJ_CLOSE.
pub(crate) fn cryp_obj_close(obj: u32) -> TeeResult {
    // SAFETY: one handle, nothing in memory.
    TeeResult(unsafe { syscall(SYS_CRYP_OBJ_CLOSE, [obj as usize, 0, 0, 0, 0, 0, 0, 0]) })
}

/// CRYP_OBJ_RESET.
pub(crate) fn cryp_obj_reset(obj: u32) -> TeeResult {
    // SAFETY: one handle, nothing in memory.
    TeeResult(unsafe { syscall(SYS_CRYP_OBJ_RESET, [obj as usize, 0, 0, 0, 0, 0, 0, 0]) })
}

/// CRYP_OBJ_POPULATE.
pub(crate) fn cryp_obj_populate(obj: u32, attrs: &[Attribute<'_>]) -> TeeResult {
    let (p, n) = attrs_arg(attrs);
    // SAFETY: the kernel reads `n` `utee_attribute`s at `p` (a live slice
    // of a transparent wrapper of that layout) and, for reference ones,
    // the buffers they name, which `Attribute`'s lifetime keeps borrowed.
    TeeResult(unsafe { syscall(SYS_CRYP_OBJ_POPULATE, [obj as usize, p, n, 0, 0, 0, 0, 0]) })
}

/// CRYP_OBJ_COPY: `dst` takes `src`'s attributes.
pub(crate) fn cryp_obj_copy(dst: u32, src: u32) -> TeeResult {
    // SAFETY: two handles, nothing in memory.
    TeeResult(unsafe { syscall(SYS_CRYP_OBJ_COPY, [dst as usize, src as usize, 0, 0, 0, 0, 0, 0]) })
}

/// CRYP_OBJ_GENERATE_KEY.
pub(crate) fn cryp_obj_generate_key(obj: u32, key_size: u32, params: &[Attribute<'_>]) -> TeeResult {
    let (p, n) = attrs_arg(params);
    // SAFETY: as for CRYP_OBJ_POPULATE: the kernel only reads the
    // attribute array and the buffers it names, all borrowed.
    TeeResult(unsafe { syscall(SYS_CRYP_OBJ_GENERATE_KEY, [obj as usize, key_size as usize, p, n, 0, 0, 0, 0]) })
}

/// CRYP_DERIVE_KEY: derives into the object `derived`.
pub(crate) fn cryp_derive_key(state: u32, params: &[Attribute<'_>], derived: u32) -> TeeResult {
    let (p, n) = attrs_arg(params);
    // SAFETY: as for CRYP_OBJ_POPULATE: the kernel only reads the
    // attribute array and the buffers it names, all borrowed.
    TeeResult(unsafe { syscall(SYS_CRYP_DERIVE_KEY, [state as usize, p, n, derived as usize, 0, 0, 0, 0]) })
}

/// CRYP_RANDOM_NUMBER_GENERATE: fills `buf`.
pub(crate) fn cryp_random_number_generate(buf: &mut [u8]) -> TeeResult {
    let args = [addr_mut(buf), buf.len(), 0, 0, 0, 0, 0, 0];
    // SAFETY: the kernel writes `buf.len()` bytes at `buf`, a live
    // exclusive slice.
    TeeResult(unsafe { syscall(SYS_CRYP_RANDOM_NUMBER_GENERATE, args) })
}

/// AUTHENC_INIT (`tag_len` in bytes).
pub(crate) fn authenc_init(state: u32, nonce: &[u8], tag_len: usize, aad_len: usize, payload_len: usize) -> TeeResult {
    let args = [state as usize, addr(nonce), nonce.len(), tag_len, aad_len, payload_len, 0, 0];
    // SAFETY: the kernel reads `nonce.len()` bytes at `nonce`, a live slice.
    TeeResult(unsafe { syscall(SYS_AUTHENC_INIT, args) })
}

/// AUTHENC_UPDATE_AAD.
pub(crate) fn authenc_update_aad(state: u32, aad: &[u8]) -> TeeResult {
    // SAFETY: the kernel reads `aad.len()` bytes at `aad`, a live slice.
    TeeResult(unsafe { syscall(SYS_AUTHENC_UPDATE_AAD, [state as usize, addr(aad), aad.len(), 0, 0, 0, 0, 0]) })
}

/// AUTHENC_UPDATE_PAYLOAD: (result, bytes written).
pub(crate) fn authenc_update_payload(state: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    in_out_call(SYS_AUTHENC_UPDATE_PAYLOAD, state, src, dst)
}

/// AUTHENC_ENC_FINAL: (result, bytes written, tag length).
pub(crate) fn authenc_enc_final(state: u32, src: &[u8], dst: &mut [u8], tag: &mut [u8]) -> (TeeResult, usize, usize) {
    let mut dlen = dst.len() as u64;
    let mut tlen = tag.len() as u64;
    let args =
        [state as usize, addr(src), src.len(), addr_mut(dst), ptr_mut(&mut dlen), addr_mut(tag), ptr_mut(&mut tlen), 0];
    // SAFETY: the kernel reads `src` (a live slice), writes at most
    // `dst.len()` bytes at `dst` and `tag.len()` at `tag` (live exclusive
    // slices) and one u64 each to `dlen` and `tlen`, live locals.
    let res = TeeResult(unsafe { syscall(SYS_AUTHENC_ENC_FINAL, args) });
    (res, dlen as usize, tlen as usize)
}

/// AUTHENC_DEC_FINAL: (result, bytes written).
pub(crate) fn authenc_dec_final(state: u32, src: &[u8], dst: &mut [u8], tag: &[u8]) -> (TeeResult, usize) {
    let mut dlen = dst.len() as u64;
    let args = [state as usize, addr(src), src.len(), addr_mut(dst), ptr_mut(&mut dlen), addr(tag), tag.len(), 0];
    // SAFETY: the kernel reads `src` and `tag` (live slices), writes at
    // most `dst.len()` bytes at `dst` (a live exclusive slice) and one u64
    // to `dlen`, a live local.
    let res = TeeResult(unsafe { syscall(SYS_AUTHENC_DEC_FINAL, args) });
    (res, dlen as usize)
}

/// ASYMM_OPERATE: (result, bytes written; the size needed on SHORT_BUFFER).
pub(crate) fn asymm_operate(state: u32, params: &[Attribute<'_>], src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    let (p, n) = attrs_arg(params);
    let mut len = dst.len() as u64;
    let args = [state as usize, p, n, addr(src), src.len(), addr_mut(dst), ptr_mut(&mut len), 0];
    // SAFETY: the kernel reads the attribute array and the buffers it
    // names (borrowed, see CRYP_OBJ_POPULATE) and `src` (a live slice),
    // writes at most `dst.len()` bytes at `dst` (a live exclusive slice)
    // and one u64 to `len`, a live local.
    let res = TeeResult(unsafe { syscall(SYS_ASYMM_OPERATE, args) });
    (res, len as usize)
}

/// ASYMM_VERIFY.
pub(crate) fn asymm_verify(state: u32, params: &[Attribute<'_>], data: &[u8], sig: &[u8]) -> TeeResult {
    let (p, n) = attrs_arg(params);
    let args = [state as usize, p, n, addr(data), data.len(), addr(sig), sig.len(), 0];
    // SAFETY: the kernel only reads: the attribute array and the buffers
    // it names (borrowed), `data` and `sig` (live slices).
    TeeResult(unsafe { syscall(SYS_ASYMM_VERIFY, args) })
}
