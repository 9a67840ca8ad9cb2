//! The crypto system calls (upstream `utee_syscalls.h`, numbers 15-40 and
//! 54), one safe function each, as they are: handles are plain numbers,
//! results the kernel's `TEE_Result`. For code that drives the kernel
//! directly (the crypto test TA) and for the SDK's own crypto API; every
//! output length the kernel is told is the length of the slice it writes
//! to, and every empty buffer or attribute array is passed as NULL (as
//! libutee does; a Rust empty slice's pointer is dangling, not null).
use super::{ptr_mut, syscall};
use crate::crypto::Attribute;
use alloc::vec::Vec;
use oxtee_abi::ta::crypto::{UteeAttribute, UteeObjectInfo, attr_is_value};
use oxtee_abi::ta::{
    SYS_ASYMM_OPERATE, SYS_ASYMM_VERIFY, SYS_AUTHENC_DEC_FINAL, SYS_AUTHENC_ENC_FINAL, SYS_AUTHENC_INIT,
    SYS_AUTHENC_UPDATE_AAD, SYS_AUTHENC_UPDATE_PAYLOAD, SYS_CIPHER_FINAL, SYS_CIPHER_INIT, SYS_CIPHER_UPDATE,
    SYS_CRYP_DERIVE_KEY, SYS_CRYP_OBJ_ALLOC, SYS_CRYP_OBJ_CLOSE, SYS_CRYP_OBJ_COPY, SYS_CRYP_OBJ_GENERATE_KEY,
    SYS_CRYP_OBJ_GET_ATTR, SYS_CRYP_OBJ_GET_INFO, SYS_CRYP_OBJ_POPULATE, SYS_CRYP_OBJ_RESET,
    SYS_CRYP_OBJ_RESTRICT_USAGE, SYS_CRYP_RANDOM_NUMBER_GENERATE, SYS_CRYP_STATE_ALLOC, SYS_CRYP_STATE_COPY,
    SYS_CRYP_STATE_FREE, SYS_HASH_FINAL, SYS_HASH_INIT, SYS_HASH_UPDATE,
};
use oxtee_abi::tee::TeeResult;

/// One attribute for populate, generate, derive and the asymmetric
/// calls: a buffer, or two values.
#[derive(Clone, Copy, Debug)]
pub enum Attr<'a> {
    Ref(u32, &'a [u8]),
    Value(u32, u32, u32),
}

impl Attr<'_> {
    fn raw(&self) -> UteeAttribute {
        match *self {
            Attr::Ref(id, buf) => UteeAttribute { a: addr(buf) as u64, b: buf.len() as u64, attribute_id: id, pad: 0 },
            Attr::Value(id, a, b) => UteeAttribute { a: a as u64, b: b as u64, attribute_id: id, pad: 0 },
        }
    }
}

/// Whether `id` names a value attribute (else a buffer).
pub fn is_value(id: u32) -> bool {
    attr_is_value(id)
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Attr<'_> {}
    impl Sealed for crate::crypto::Attribute<'_> {}
}

/// The attribute types the attribute-taking calls accept: [`Attr`], and
/// the SDK's [`Attribute`] (already in the kernel's layout, passed as it
/// is). Sealed: every implementation guarantees that the array it hands
/// the kernel, and each buffer a reference entry names, stay borrowed for
/// the call.
pub trait AttrEntry: sealed::Sealed + Sized {
    /// Calls `f` with the address (NULL when empty) and count of `list`
    /// as an array of `utee_attribute`s; fails only if that array needs
    /// memory that is not there.
    #[doc(hidden)]
    fn with_raw<R>(list: &[Self], f: impl FnOnce(usize, usize) -> R) -> Result<R, TeeResult>;
}

impl AttrEntry for Attr<'_> {
    fn with_raw<R>(list: &[Self], f: impl FnOnce(usize, usize) -> R) -> Result<R, TeeResult> {
        let mut raw = Vec::new();
        raw.try_reserve_exact(list.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        raw.extend(list.iter().map(Attr::raw));
        // `raw` lives until `f` returns; its reference entries point into
        // slices `list` borrows for at least as long.
        Ok(f(if raw.is_empty() { 0 } else { raw.as_ptr() as usize }, raw.len()))
    }
}

impl AttrEntry for Attribute<'_> {
    fn with_raw<R>(list: &[Self], f: impl FnOnce(usize, usize) -> R) -> Result<R, TeeResult> {
        // `Attribute` is a transparent `UteeAttribute` whose reference
        // entries point into slices borrowed for its lifetime, which
        // outlives the borrow of `list`: no copy needed.
        Ok(f(if list.is_empty() { 0 } else { list.as_ptr() as usize }, list.len()))
    }
}

/// Address of an input slice, 0 for an empty one.
fn addr(s: &[u8]) -> usize {
    if s.is_empty() { 0 } else { s.as_ptr() as usize }
}

/// Address of an output slice, 0 for an empty one.
fn addr_mut(s: &mut [u8]) -> usize {
    if s.is_empty() { 0 } else { s.as_mut_ptr() as usize }
}

fn res(raw: u32) -> TeeResult {
    TeeResult(raw)
}

/// Calls that take only numbers.
fn numbers(nr: u32, a: usize, b: usize) -> TeeResult {
    // SAFETY: the callers below pass numbers only (handles, usage),
    // which the kernel never dereferences.
    res(unsafe { syscall(nr, [a, b, 0, 0, 0, 0, 0, 0]) })
}

/// A call with one input buffer after a handle.
fn handle_in(nr: u32, h: u32, data: &[u8]) -> TeeResult {
    // SAFETY: the kernel reads `data.len()` bytes at `data`, a live
    // slice (or nothing for an empty one).
    res(unsafe { syscall(nr, [h as usize, addr(data), data.len(), 0, 0, 0, 0, 0]) })
}

/// A call with a handle, an input and an output buffer, the output's
/// length in and out through a u64: (result, length the kernel
/// reported: written, or needed on SHORT_BUFFER).
fn handle_in_out(nr: u32, h: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    let mut len = dst.len() as u64;
    let args = [h as usize, addr(src), src.len(), addr_mut(dst), ptr_mut(&mut len), 0, 0, 0];
    // SAFETY: the kernel reads `src` (live slice), writes at most
    // `len` = `dst.len()` bytes to `dst` (live exclusive slice) and one
    // u64 to `len` (live local).
    let r = res(unsafe { syscall(nr, args) });
    (r, len as usize)
}

/// CRYP_STATE_ALLOC: the new state's handle.
pub fn state_alloc(algo: u32, mode: u32, key1: u32, key2: u32) -> Result<u32, TeeResult> {
    let mut state = 0u32;
    let args = [algo as usize, mode as usize, key1 as usize, key2 as usize, ptr_mut(&mut state), 0, 0, 0];
    // SAFETY: numbers, and one u32 the kernel writes to `state`, a
    // live local.
    let r = res(unsafe { syscall(SYS_CRYP_STATE_ALLOC, args) });
    if r == TeeResult::SUCCESS { Ok(state) } else { Err(r) }
}

/// CRYP_STATE_COPY.
pub fn state_copy(dst: u32, src: u32) -> TeeResult {
    numbers(SYS_CRYP_STATE_COPY, dst as usize, src as usize)
}

/// CRYP_STATE_FREE.
pub fn state_free(state: u32) -> TeeResult {
    numbers(SYS_CRYP_STATE_FREE, state as usize, 0)
}

/// HASH_INIT (MAC IV, if any).
pub fn hash_init(state: u32, iv: &[u8]) -> TeeResult {
    handle_in(SYS_HASH_INIT, state, iv)
}

/// HASH_UPDATE.
pub fn hash_update(state: u32, chunk: &[u8]) -> TeeResult {
    handle_in(SYS_HASH_UPDATE, state, chunk)
}

/// HASH_FINAL: (result, digest or MAC length).
pub fn hash_final(state: u32, chunk: &[u8], out: &mut [u8]) -> (TeeResult, usize) {
    handle_in_out(SYS_HASH_FINAL, state, chunk, out)
}

/// CIPHER_INIT.
pub fn cipher_init(state: u32, iv: &[u8]) -> TeeResult {
    handle_in(SYS_CIPHER_INIT, state, iv)
}

/// CIPHER_UPDATE: (result, output length).
pub fn cipher_update(state: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    handle_in_out(SYS_CIPHER_UPDATE, state, src, dst)
}

/// CIPHER_FINAL: (result, output length).
pub fn cipher_final(state: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    handle_in_out(SYS_CIPHER_FINAL, state, src, dst)
}

/// CRYP_OBJ_GET_INFO.
pub fn obj_get_info(obj: u32) -> Result<UteeObjectInfo, TeeResult> {
    let (r, info) = obj_get_info_filled(obj);
    if r == TeeResult::SUCCESS { Ok(info) } else { Err(r) }
}

/// CRYP_OBJ_GET_INFO: the result and whatever the kernel filled in
/// (upstream fills it on CORRUPT_OBJECT too).
pub fn obj_get_info_filled(obj: u32) -> (TeeResult, UteeObjectInfo) {
    let mut info = UteeObjectInfo::default();
    // SAFETY: the kernel writes one `utee_object_info` to `info`, a
    // live local of that type.
    let r = res(unsafe { syscall(SYS_CRYP_OBJ_GET_INFO, [obj as usize, ptr_mut(&mut info), 0, 0, 0, 0, 0, 0]) });
    (r, info)
}

/// CRYP_OBJ_RESTRICT_USAGE.
pub fn obj_restrict_usage(obj: u32, usage: u32) -> TeeResult {
    numbers(SYS_CRYP_OBJ_RESTRICT_USAGE, obj as usize, usage as usize)
}

/// CRYP_OBJ_GET_ATTR: (result, attribute size: written, or needed on
/// SHORT_BUFFER).
pub fn obj_get_attr(obj: u32, id: u32, buf: &mut [u8]) -> (TeeResult, usize) {
    let mut len = buf.len() as u64;
    let args = [obj as usize, id as usize, addr_mut(buf), ptr_mut(&mut len), 0, 0, 0, 0];
    // SAFETY: the kernel writes at most `len` = `buf.len()` bytes to
    // `buf` (live exclusive slice) and one u64 to `len` (live local).
    let r = res(unsafe { syscall(SYS_CRYP_OBJ_GET_ATTR, args) });
    (r, len as usize)
}

/// CRYP_OBJ_ALLOC: the new object's handle.
pub fn obj_alloc(obj_type: u32, max_size: u32) -> Result<u32, TeeResult> {
    let mut obj = 0u32;
    let args = [obj_type as usize, max_size as usize, ptr_mut(&mut obj), 0, 0, 0, 0, 0];
    // SAFETY: numbers, and one u32 the kernel writes to `obj`, a live
    // local.
    let r = res(unsafe { syscall(SYS_CRYP_OBJ_ALLOC, args) });
    if r == TeeResult::SUCCESS { Ok(obj) } else { Err(r) }
}

/// CRYP_OBJ_CLOSE.
pub fn obj_close(obj: u32) -> TeeResult {
    numbers(SYS_CRYP_OBJ_CLOSE, obj as usize, 0)
}

/// CRYP_OBJ_RESET.
pub fn obj_reset(obj: u32) -> TeeResult {
    numbers(SYS_CRYP_OBJ_RESET, obj as usize, 0)
}

/// CRYP_OBJ_POPULATE.
pub fn obj_populate<A: AttrEntry>(obj: u32, attrs: &[A]) -> TeeResult {
    let call = |p, n| {
        // SAFETY: the kernel reads `n` `utee_attribute`s at `p` and, for
        // reference ones, the buffers they name, all kept borrowed for
        // the call by `AttrEntry::with_raw`.
        res(unsafe { syscall(SYS_CRYP_OBJ_POPULATE, [obj as usize, p, n, 0, 0, 0, 0, 0]) })
    };
    A::with_raw(attrs, call).unwrap_or_else(|e| e)
}

/// CRYP_OBJ_COPY.
pub fn obj_copy(dst: u32, src: u32) -> TeeResult {
    numbers(SYS_CRYP_OBJ_COPY, dst as usize, src as usize)
}

/// CRYP_OBJ_GENERATE_KEY.
pub fn obj_generate_key<A: AttrEntry>(obj: u32, key_size: u32, attrs: &[A]) -> TeeResult {
    let call = |p, n| {
        // SAFETY: as for CRYP_OBJ_POPULATE: the kernel only reads the
        // attributes and the buffers they name, all borrowed.
        res(unsafe { syscall(SYS_CRYP_OBJ_GENERATE_KEY, [obj as usize, key_size as usize, p, n, 0, 0, 0, 0]) })
    };
    A::with_raw(attrs, call).unwrap_or_else(|e| e)
}

/// CRYP_DERIVE_KEY into the object `derived`.
pub fn derive_key<A: AttrEntry>(state: u32, attrs: &[A], derived: u32) -> TeeResult {
    let call = |p, n| {
        // SAFETY: as for CRYP_OBJ_POPULATE: the kernel only reads the
        // attributes and the buffers they name, all borrowed.
        res(unsafe { syscall(SYS_CRYP_DERIVE_KEY, [state as usize, p, n, derived as usize, 0, 0, 0, 0]) })
    };
    A::with_raw(attrs, call).unwrap_or_else(|e| e)
}

/// CRYP_RANDOM_NUMBER_GENERATE.
pub fn random(buf: &mut [u8]) -> TeeResult {
    let args = [addr_mut(buf), buf.len(), 0, 0, 0, 0, 0, 0];
    // SAFETY: the kernel writes `buf.len()` bytes to `buf`, a live
    // exclusive slice.
    res(unsafe { syscall(SYS_CRYP_RANDOM_NUMBER_GENERATE, args) })
}

/// AUTHENC_INIT (`tag_len` in bytes).
pub fn authenc_init(state: u32, nonce: &[u8], tag_len: usize, aad_len: usize, payload_len: usize) -> TeeResult {
    let args = [state as usize, addr(nonce), nonce.len(), tag_len, aad_len, payload_len, 0, 0];
    // SAFETY: the kernel reads `nonce`, a live slice; the rest are
    // numbers.
    res(unsafe { syscall(SYS_AUTHENC_INIT, args) })
}

/// AUTHENC_UPDATE_AAD.
pub fn authenc_update_aad(state: u32, aad: &[u8]) -> TeeResult {
    handle_in(SYS_AUTHENC_UPDATE_AAD, state, aad)
}

/// AUTHENC_UPDATE_PAYLOAD: (result, output length).
pub fn authenc_update_payload(state: u32, src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    handle_in_out(SYS_AUTHENC_UPDATE_PAYLOAD, state, src, dst)
}

/// AUTHENC_ENC_FINAL: (result, output length, tag length).
pub fn authenc_enc_final(state: u32, src: &[u8], dst: &mut [u8], tag: &mut [u8]) -> (TeeResult, usize, usize) {
    let mut len = dst.len() as u64;
    let mut tag_len = tag.len() as u64;
    let args = [
        state as usize,
        addr(src),
        src.len(),
        addr_mut(dst),
        ptr_mut(&mut len),
        addr_mut(tag),
        ptr_mut(&mut tag_len),
        0,
    ];
    // SAFETY: the kernel reads `src`; writes at most `dst.len()` bytes
    // to `dst` and `tag.len()` to `tag` (live exclusive slices), one
    // u64 each to `len` and `tag_len` (live locals).
    let r = res(unsafe { syscall(SYS_AUTHENC_ENC_FINAL, args) });
    (r, len as usize, tag_len as usize)
}

/// AUTHENC_DEC_FINAL: (result, output length).
pub fn authenc_dec_final(state: u32, src: &[u8], dst: &mut [u8], tag: &[u8]) -> (TeeResult, usize) {
    let mut len = dst.len() as u64;
    let args = [state as usize, addr(src), src.len(), addr_mut(dst), ptr_mut(&mut len), addr(tag), tag.len(), 0];
    // SAFETY: the kernel reads `src` and `tag` (live slices), writes
    // at most `dst.len()` bytes to `dst` (live exclusive slice) and
    // one u64 to `len` (live local).
    let r = res(unsafe { syscall(SYS_AUTHENC_DEC_FINAL, args) });
    (r, len as usize)
}

/// ASYMM_OPERATE: (result, output length; the length needed on
/// SHORT_BUFFER).
pub fn asymm_operate<A: AttrEntry>(state: u32, attrs: &[A], src: &[u8], dst: &mut [u8]) -> (TeeResult, usize) {
    let call = |p, n| {
        let mut len = dst.len() as u64;
        let args = [state as usize, p, n, addr(src), src.len(), addr_mut(dst), ptr_mut(&mut len), 0];
        // SAFETY: the kernel reads the attributes and the buffers they
        // name (borrowed, see CRYP_OBJ_POPULATE) and `src`; writes at most
        // `dst.len()` bytes to `dst` (live exclusive slice) and one u64 to
        // `len` (live local).
        let r = res(unsafe { syscall(SYS_ASYMM_OPERATE, args) });
        (r, len as usize)
    };
    A::with_raw(attrs, call).unwrap_or_else(|e| (e, 0))
}

/// ASYMM_VERIFY.
pub fn asymm_verify<A: AttrEntry>(state: u32, attrs: &[A], data: &[u8], sig: &[u8]) -> TeeResult {
    let call = |p, n| {
        let args = [state as usize, p, n, addr(data), data.len(), addr(sig), sig.len(), 0];
        // SAFETY: the kernel only reads: the attributes and the buffers
        // they name (borrowed, see CRYP_OBJ_POPULATE), `data` and `sig`.
        res(unsafe { syscall(SYS_ASYMM_VERIFY, args) })
    };
    A::with_raw(attrs, call).unwrap_or_else(|e| e)
}
