//! The exported C functions of `tee_client_api.h` and
//! `tee_client_api_extensions.h`. Every pointer dereference of the library
//! is here; the rules they apply are in `logic`.
#![allow(non_snake_case)]

use crate::logic::{self as l, CancelAction, Dir, Kind};
use crate::sys::{self as state, ShmEntry, ShmMem};
use crate::types::{
    TeecContext, TeecOperation, TeecParameter, TeecRegisteredMemoryReference, TeecSession, TeecSharedMemory,
    TeecTempMemoryReference, TeecUuid, TeecValue,
};
use core::ffi::{CStr, c_char, c_int, c_void};
use oxtee_teec::sys::{self as tee, IoctlParam};
use oxtee_teec::{Context, SharedMemory};
use std::os::fd::AsRawFd;
use std::sync::Arc;

/// A parameter as the client described it.
#[derive(Clone, Copy)]
enum CParam {
    None,
    Value { d: Dir, a: u32, b: u32 },
    Temp { d: Dir, buffer: *mut u8, size: usize },
    Whole { shm: ShmView },
    Partial { d: Dir, shm: ShmView, offset: usize, size: usize },
}

/// The fields of a client's TEEC_SharedMemory that a call uses.
#[derive(Clone, Copy)]
struct ShmView {
    buffer: *mut u8,
    size: usize,
    flags: u32,
    id: i32,
}

/// One open or invoke being prepared: the kernel parameters and the
/// temporary buffers backing TEEC_MEMREF_TEMP_* parameters.
struct Call {
    cparams: [CParam; 4],
    params: [IoctlParam; 4],
    temps: [Option<SharedMemory>; 4],
}

/// Result of an API-level failure: the code, with origin TEEC_ORIGIN_API.
type ApiResult<T> = Result<T, u32>;

/// Copies `n` bytes from `src` to `dst` (either may be client memory).
///
/// # Safety
/// For n > 0 both ranges must be valid for n bytes.
unsafe fn copy_bytes(src: *const u8, dst: *mut u8, n: usize) {
    if n > 0 {
        // SAFETY: the caller guarantees both ranges; `copy` tolerates overlap.
        unsafe { core::ptr::copy(src, dst, n) };
    }
}

/// Stores `origin` in the client's `returnOrigin` if it gave one.
///
/// # Safety
/// `p` is null or valid for writing a u32.
unsafe fn set_origin(p: *mut u32, origin: u32) {
    if !p.is_null() {
        // SAFETY: non-null and writable per the caller.
        unsafe { p.write_unaligned(origin) };
    }
}

/// Reads parameter `n` of an operation.
///
/// # Safety
/// `op` points to a live TEEC_Operation.
unsafe fn read_param(op: *const TeecOperation, n: usize) -> TeecParameter {
    // SAFETY: `op` is live per the caller; `params[n]` is bounds-checked.
    unsafe { (*op).params[n] }
}

/// Pointer to parameter `n` of an operation, for writing results back.
///
/// # Safety
/// `op` points to a live TEEC_Operation.
unsafe fn param_ptr(op: *mut TeecOperation, n: usize) -> *mut TeecParameter {
    // SAFETY: `op` is live per the caller; no reference is created.
    unsafe { &raw mut (*op).params[n] }
}

/// Stores an output value (only `a` and `b`, as libteec does).
///
/// # Safety
/// `p` points to a live TEEC_Parameter.
unsafe fn set_value(p: *mut TeecParameter, v: TeecValue) {
    // SAFETY: every union member starts at offset 0; `p` is live.
    unsafe { p.cast::<TeecValue>().write(v) };
}

/// Stores the size of a temporary reference.
///
/// # Safety
/// `p` points to a live TEEC_Parameter.
unsafe fn set_tmpref_size(p: *mut TeecParameter, size: usize) {
    let t = p.cast::<TeecTempMemoryReference>();
    // SAFETY: every union member starts at offset 0; `p` is live.
    let f = unsafe { &raw mut (*t).size };
    // SAFETY: as above.
    unsafe { f.write(size) };
}

/// Stores the size of a registered-memory reference.
///
/// # Safety
/// `p` points to a live TEEC_Parameter.
unsafe fn set_memref_size(p: *mut TeecParameter, size: usize) {
    let m = p.cast::<TeecRegisteredMemoryReference>();
    // SAFETY: every union member starts at offset 0; `p` is live.
    let f = unsafe { &raw mut (*m).size };
    // SAFETY: as above.
    unsafe { f.write(size) };
}

/// Snapshot of the client's shared-memory struct a memref points to.
///
/// # Safety
/// `parent` is null or points to a live TEEC_SharedMemory.
unsafe fn shm_view(parent: *const TeecSharedMemory) -> ApiResult<ShmView> {
    if parent.is_null() {
        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
    }
    // SAFETY: non-null and live per the caller (each field likewise); only
    // fields set by the client or this library are read.
    let buffer = unsafe { (*parent).buffer };
    // SAFETY: as above.
    let size = unsafe { (*parent).size };
    // SAFETY: as above.
    let flags = unsafe { (*parent).flags };
    // SAFETY: as above.
    let id = unsafe { (*parent).id };
    Ok(ShmView { buffer: buffer.cast(), size, flags, id })
}

/// Decodes the client's operation (NULL means no parameters).
///
/// # Safety
/// `op` is null or points to a live TEEC_Operation whose parameters match
/// its `paramTypes`.
unsafe fn read_params(op: *const TeecOperation) -> ApiResult<[CParam; 4]> {
    let mut out = [CParam::None; 4];
    if op.is_null() {
        return Ok(out);
    }
    // SAFETY: live per the caller.
    let types = unsafe { (*op).param_types };
    let kinds = l::decode_types(types)?;
    for (n, kind) in kinds.into_iter().enumerate() {
        // SAFETY: live per the caller.
        let p = unsafe { read_param(op, n) };
        out[n] = match kind {
            Kind::None => CParam::None,
            Kind::Value(d) => {
                // SAFETY: the type says `value` is the live member.
                let v = unsafe { p.value };
                CParam::Value { d, a: v.a, b: v.b }
            }
            Kind::Temp(d) => {
                // SAFETY: the type says `tmpref` is the live member.
                let t = unsafe { p.tmpref };
                CParam::Temp { d, buffer: t.buffer.cast(), size: t.size }
            }
            Kind::Whole => {
                // SAFETY: the type says `memref` is the live member.
                let m = unsafe { p.memref };
                // SAFETY: `parent` is null or the client's live block.
                CParam::Whole { shm: unsafe { shm_view(m.parent) }? }
            }
            Kind::Partial(d) => {
                // SAFETY: the type says `memref` is the live member.
                let m = unsafe { p.memref };
                // SAFETY: `parent` is null or the client's live block.
                let shm = unsafe { shm_view(m.parent) }?;
                CParam::Partial { d, shm, offset: m.offset, size: m.size }
            }
        };
    }
    Ok(out)
}

/// Builds the kernel parameters of a call, staging temporary buffers and
/// filling shadow buffers (libteec's pre-processing).
///
/// # Safety
/// The buffers the parameters name are valid for their sizes.
unsafe fn prepare(ctx: &Context, cparams: [CParam; 4]) -> ApiResult<Call> {
    let mut call = Call { cparams, params: [IoctlParam::default(); 4], temps: [None, None, None, None] };
    let memref_null = ctx.gen_caps() & tee::TEE_GEN_CAP_MEMREF_NULL != 0;
    for (n, cparam) in cparams.into_iter().enumerate() {
        call.params[n] = match cparam {
            CParam::None => IoctlParam::default(),
            CParam::Value { d, a, b } => IoctlParam { attr: l::value_attr(d), a: a.into(), b: b.into(), c: 0 },
            CParam::Temp { d, buffer, size } => {
                let attr = l::memref_attr(d);
                if buffer.is_null() {
                    if !l::null_temp_ok(size) {
                        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
                    }
                    if memref_null {
                        IoctlParam { attr, a: 0, b: 0, c: tee::TEE_MEMREF_NULL }
                    } else {
                        let shm = alloc(ctx, 0)?;
                        let id = shm.id();
                        call.temps[n] = Some(shm);
                        IoctlParam { attr, a: 0, b: 0, c: id as u64 }
                    }
                } else {
                    let shm = alloc(ctx, size)?;
                    // SAFETY: the client's buffer holds `size` bytes, and the
                    // new block at least that many.
                    unsafe { copy_bytes(buffer, shm.as_ptr(), size) };
                    let id = shm.id();
                    call.temps[n] = Some(shm);
                    IoctlParam { attr, a: 0, b: size as u64, c: id as u64 }
                }
            }
            CParam::Whole { shm } => {
                let d = Dir::from_mem_flags(shm.flags).ok_or(l::TEEC_ERROR_BAD_PARAMETERS)?;
                let shadow = shadow_of(shm)?;
                if let Some(sh) = shadow
                    && d.is_in()
                {
                    // SAFETY: the client's block holds `size` bytes and
                    // `shadow_of` checked the shadow is as large.
                    unsafe { copy_bytes(shm.buffer, sh, shm.size) };
                }
                IoctlParam { attr: l::memref_attr(d), a: 0, b: shm.size as u64, c: shm.id as u64 }
            }
            CParam::Partial { d, shm, offset, size } => {
                if !l::partial_ok(d, shm.flags, shm.size, offset, size) {
                    return Err(l::TEEC_ERROR_BAD_PARAMETERS);
                }
                let shadow = shadow_of(shm)?;
                if let Some(sh) = shadow
                    && d.is_in()
                {
                    // SAFETY: offset + size <= shm.size (partial_ok), which
                    // both buffers hold (shadow_of).
                    unsafe { copy_bytes(shm.buffer.wrapping_add(offset), sh.wrapping_add(offset), size) };
                }
                IoctlParam { attr: l::memref_attr(d), a: offset as u64, b: size as u64, c: shm.id as u64 }
            }
        };
    }
    Ok(call)
}

/// Kernel shared memory for a temporary reference.
fn alloc(ctx: &Context, size: usize) -> ApiResult<SharedMemory> {
    ctx.allocate_shared_memory(l::alloc_size(size)).map_err(|_| l::TEEC_ERROR_OUT_OF_MEMORY)
}

/// The shadow buffer of a registered block (None for allocated ones);
/// unknown blocks, and blocks grown past their shadow, are refused.
fn shadow_of(shm: ShmView) -> ApiResult<Option<*mut u8>> {
    let table = state::shms();
    let entry = table.get(&shm.id).ok_or(l::TEEC_ERROR_BAD_PARAMETERS)?;
    match entry.shadow() {
        Some((p, len)) if shm.size <= len => Ok(Some(p)),
        Some(_) => Err(l::TEEC_ERROR_BAD_PARAMETERS),
        None => Ok(None),
    }
}

/// Writes the results of a call back into the client's operation
/// (libteec's post-processing): output values, sizes, and output bytes.
///
/// # Safety
/// `op` is the live operation `call` was prepared from (or null).
unsafe fn finish(call: &Call, back: &[IoctlParam; 4], op: *mut TeecOperation) {
    if op.is_null() {
        return;
    }
    for (n, (&cparam, &q)) in call.cparams.iter().zip(back).enumerate() {
        // SAFETY: `op` is live per the caller.
        let p = unsafe { param_ptr(op, n) };
        match cparam {
            CParam::Value { d, .. } if d.is_out() => {
                // SAFETY: `p` points into the live operation.
                unsafe { set_value(p, TeecValue { a: q.a as u32, b: q.b as u32 }) };
            }
            CParam::Temp { d, buffer, size } if d.is_out() => {
                if let Some(shm) = &call.temps[n]
                    && !buffer.is_null()
                {
                    let k = l::temp_copy_back(q.b, size);
                    // SAFETY: k <= size, which both the client's buffer and
                    // the temporary block hold.
                    unsafe { copy_bytes(shm.as_ptr(), buffer, k) };
                }
                // SAFETY: `p` points into the live operation, whose
                // `tmpref` member is the live one.
                unsafe { set_tmpref_size(p, l::returned_size(q.b)) };
            }
            CParam::Whole { shm } if shm.flags & l::TEEC_MEM_OUTPUT != 0 => {
                if let Some(k) = l::shadow_copy_back(q.b, shm.size) {
                    // SAFETY: k <= shm.size, which both buffers hold.
                    unsafe { copy_from_shadow(shm, 0, k) };
                }
                // SAFETY: as above, `memref` is the live member.
                unsafe { set_memref_size(p, l::returned_size(q.b)) };
            }
            CParam::Partial { d, shm, offset, size } if d.is_out() => {
                if let Some(k) = l::shadow_copy_back(q.b, size) {
                    // SAFETY: offset + k <= offset + size <= shm.size.
                    unsafe { copy_from_shadow(shm, offset, k) };
                }
                // SAFETY: as above, `memref` is the live member.
                unsafe { set_memref_size(p, l::returned_size(q.b)) };
            }
            _ => {}
        }
    }
}

/// Copies `k` bytes at `offset` from a registered block's shadow back into
/// the client's buffer (nothing for allocated blocks, or a block released
/// meanwhile).
///
/// # Safety
/// offset + k <= shm.size and the client's buffer holds shm.size bytes.
unsafe fn copy_from_shadow(shm: ShmView, offset: usize, k: usize) {
    let table = state::shms();
    if let Some((sh, len)) = table.get(&shm.id).and_then(ShmEntry::shadow)
        && shm.size <= len
    {
        // SAFETY: both buffers hold shm.size >= offset + k bytes.
        unsafe { copy_bytes(sh.wrapping_add(offset), shm.buffer.wrapping_add(offset), k) };
    }
}

/// Marks an operation started (refusing it if cancelled beforehand) and,
/// for invokes, records its session for TEEC_RequestCancellation.
///
/// # Safety
/// `op` is null or a live TEEC_Operation.
unsafe fn start_operation(op: *mut TeecOperation, session: Option<*mut TeecSession>) -> ApiResult<()> {
    if op.is_null() {
        return Ok(());
    }
    let _guard = state::ops_lock();
    // SAFETY: live per the caller; `started` is only accessed under OPS.
    let started = unsafe { (*op).started };
    let new = l::start(started)?;
    // SAFETY: as above.
    unsafe { (*op).started = new };
    if let Some(s) = session {
        // SAFETY: as above; `session` is only accessed under OPS.
        unsafe { (*op).session = s };
    }
    Ok(())
}

/// Sends a prepared call to the driver; the kernel parameters come back.
fn ioctl_call<H: tee::Pod>(
    ctx: &Context,
    req: u64,
    head: &H,
    params: &[IoctlParam; 4],
) -> Result<(H, [IoctlParam; 4]), u32> {
    let mut buf = tee::encode(head, params);
    tee::ioctl_buf(ctx.file(), req, &mut buf).map_err(|e| l::errno_result(e.raw_os_error()))?;
    Ok(tee::decode(&buf))
}

/// The context behind a client's TEEC_Context pointer.
///
/// # Safety
/// `ctx` is null or a live TEEC_Context.
unsafe fn context_of(ctx: *const TeecContext) -> Option<Arc<Context>> {
    if ctx.is_null() {
        return None;
    }
    // SAFETY: non-null and live per the caller.
    let fd = unsafe { (*ctx).fd };
    state::context(fd)
}

/// Opens a context on the first TEE device (`/dev/tee0`...) offering the
/// GlobalPlatform API; `name` NULL or "optee-tz".
///
/// # Safety
/// `name` is null or a NUL-terminated string; `context` is null or valid
/// for writing a TEEC_Context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_InitializeContext(name: *const c_char, context: *mut TeecContext) -> u32 {
    if context.is_null() {
        return l::TEEC_ERROR_BAD_PARAMETERS;
    }
    let name = if name.is_null() {
        None
    } else {
        // SAFETY: non-null, NUL-terminated per the caller.
        Some(unsafe { CStr::from_ptr(name) }.to_bytes())
    };
    for n in 0..l::MAX_DEV_SEQ {
        let Ok(ctx) = Context::open(&format!("/dev/tee{n}")) else { continue };
        if name.is_some() {
            let Some(v) = state::version(&ctx) else { continue };
            if !l::name_matches(name, v.impl_id, v.impl_caps) {
                continue;
            }
        }
        let memref_null = ctx.gen_caps() & tee::TEE_GEN_CAP_MEMREF_NULL != 0;
        let fd = state::add_context(ctx);
        // SAFETY: writable per the caller.
        unsafe { context.write(TeecContext { fd, reg_mem: false, memref_null }) };
        return l::TEEC_SUCCESS;
    }
    l::TEEC_ERROR_ITEM_NOT_FOUND
}

/// Closes the context's device (once calls still running on it end).
///
/// # Safety
/// `context` is null or a context from TEEC_InitializeContext.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_FinalizeContext(context: *mut TeecContext) {
    if context.is_null() {
        return;
    }
    // SAFETY: non-null and live per the caller.
    let fd = unsafe { (*context).fd };
    state::remove_context(fd);
}

/// Opens a session with the TA `destination`.
///
/// # Safety
/// Pointers are null or valid as the GP Client API specifies: `context`
/// initialised, `session` writable, `destination` readable, `operation`
/// with parameters matching its types, `connectionData` pointing to a gid
/// for group logins, `returnOrigin` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_OpenSession(
    context: *mut TeecContext,
    session: *mut TeecSession,
    destination: *const TeecUuid,
    connectionMethod: u32,
    connectionData: *const c_void,
    operation: *mut TeecOperation,
    returnOrigin: *mut u32,
) -> u32 {
    // SAFETY: per the caller.
    let r = unsafe { open_session(context, session, destination, connectionMethod, connectionData, operation) };
    let (code, origin) = r.unwrap_or_else(|code| (code, l::TEEC_ORIGIN_API));
    // SAFETY: per the caller.
    unsafe { set_origin(returnOrigin, origin) };
    code
}

/// TEEC_OpenSession; Ok carries the result and origin of a call that
/// reached the driver, Err an API-level failure.
///
/// # Safety
/// As TEEC_OpenSession.
unsafe fn open_session(
    context: *mut TeecContext,
    session: *mut TeecSession,
    destination: *const TeecUuid,
    method: u32,
    data: *const c_void,
    op: *mut TeecOperation,
) -> ApiResult<(u32, u32)> {
    if session.is_null() || destination.is_null() {
        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
    }
    // SAFETY: per the caller.
    let ctx = unsafe { context_of(context) }.ok_or(l::TEEC_ERROR_BAD_PARAMETERS)?;
    // SAFETY: non-null and readable per the caller.
    let uuid = unsafe { destination.read_unaligned() }.to_uuid();
    let gid = if l::login_takes_gid(method) {
        if data.is_null() {
            return Err(l::TEEC_ERROR_BAD_PARAMETERS);
        }
        // SAFETY: group logins pass a pointer to a gid_t (u32).
        Some(unsafe { data.cast::<u32>().read_unaligned() })
    } else {
        None
    };
    // SAFETY: per the caller.
    unsafe { start_operation(op, None) }?;
    // SAFETY: per the caller.
    let cparams = unsafe { read_params(op) }?;
    // SAFETY: the parameters' buffers are valid per the caller.
    let call = unsafe { prepare(&ctx, cparams) }?;
    let head = tee::OpenSessionHead {
        uuid: uuid.to_octets(),
        clnt_uuid: l::client_data(gid),
        clnt_login: method,
        num_params: 4,
        ..Default::default()
    };
    let (head, back) = match ioctl_call(&ctx, tee::TEE_IOC_OPEN_SESSION, &head, &call.params) {
        Ok(r) => r,
        Err(code) => return Ok((code, l::TEEC_ORIGIN_COMMS)),
    };
    if head.ret == l::TEEC_SUCCESS {
        // SAFETY: non-null and writable per the caller.
        unsafe { session.write(TeecSession { ctx: context, session_id: head.session }) };
    }
    // SAFETY: `op` is the operation `call` came from.
    unsafe { finish(&call, &back, op) };
    Ok((head.ret, head.ret_origin))
}

/// Closes a session opened by TEEC_OpenSession.
///
/// # Safety
/// `session` is null or an open session whose context is still live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_CloseSession(session: *mut TeecSession) {
    if session.is_null() {
        return;
    }
    // SAFETY: non-null and live per the caller.
    let s = unsafe { session.read() };
    // SAFETY: the session's context is live per the caller.
    if let Some(ctx) = unsafe { context_of(s.ctx) } {
        ctx.close_raw(s.session_id);
    }
}

/// Invokes command `commandID` of the session's TA.
///
/// # Safety
/// `session` null or open; `operation` null or with parameters matching
/// its types; `returnOrigin` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_InvokeCommand(
    session: *mut TeecSession,
    commandID: u32,
    operation: *mut TeecOperation,
    returnOrigin: *mut u32,
) -> u32 {
    // SAFETY: per the caller.
    let r = unsafe { invoke(session, commandID, operation) };
    let (code, origin) = r.unwrap_or_else(|code| (code, l::TEEC_ORIGIN_API));
    // SAFETY: per the caller.
    unsafe { set_origin(returnOrigin, origin) };
    code
}

/// TEEC_InvokeCommand, results as in `open_session`.
///
/// # Safety
/// As TEEC_InvokeCommand.
unsafe fn invoke(session: *mut TeecSession, cmd: u32, op: *mut TeecOperation) -> ApiResult<(u32, u32)> {
    if session.is_null() {
        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
    }
    // SAFETY: non-null and live per the caller.
    let s = unsafe { session.read() };
    // SAFETY: the session's context is live per the caller.
    let ctx = unsafe { context_of(s.ctx) }.ok_or(l::TEEC_ERROR_BAD_PARAMETERS)?;
    // SAFETY: per the caller.
    unsafe { start_operation(op, Some(session)) }?;
    // SAFETY: per the caller.
    let cparams = unsafe { read_params(op) }?;
    // SAFETY: the parameters' buffers are valid per the caller.
    let call = unsafe { prepare(&ctx, cparams) }?;
    let cancel_id = if op.is_null() { 0 } else { l::cancel_id(op as usize) };
    let head = tee::InvokeHead { func: cmd, session: s.session_id, cancel_id, num_params: 4, ..Default::default() };
    let (head, back) = match ioctl_call(&ctx, tee::TEE_IOC_INVOKE, &head, &call.params) {
        Ok(r) => r,
        Err(code) => return Ok((code, l::TEEC_ORIGIN_COMMS)),
    };
    // SAFETY: `op` is the operation `call` came from.
    unsafe { finish(&call, &back, op) };
    Ok((head.ret, head.ret_origin))
}

/// Asks the TEE to cancel `operation`: if it has not started yet, its
/// open/invoke will return TEEC_ERROR_CANCEL; if an invoke is running, the
/// driver is asked to cancel it.
///
/// # Safety
/// `operation` is null or a live TEEC_Operation whose recorded session (if
/// any) is still open.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_RequestCancellation(operation: *mut TeecOperation) {
    if operation.is_null() {
        return;
    }
    let target = {
        let _guard = state::ops_lock();
        // SAFETY: live per the caller; `started` and `session` are only
        // accessed under OPS.
        let started = unsafe { (*operation).started };
        // SAFETY: as above.
        let session = unsafe { (*operation).session };
        match l::cancel_action(started, !session.is_null()) {
            CancelAction::MarkBeforeStart => {
                // SAFETY: as above.
                unsafe { (*operation).started = l::CANCELLED_BEFORE_START };
                None
            }
            CancelAction::Nothing => None,
            // SAFETY: a recorded session is open per the caller.
            CancelAction::Tee => Some(unsafe { session.read() }),
        }
    };
    let Some(s) = target else { return };
    // SAFETY: the session's context is live per the caller.
    if let Some(ctx) = unsafe { context_of(s.ctx) } {
        let _ = ctx.request_cancellation(s.session_id, l::cancel_id(operation as usize));
    }
}

/// The fields a client fills in before allocating or registering a block.
struct ShmRequest {
    buffer: *mut c_void,
    size: usize,
    flags: u32,
}

impl ShmRequest {
    /// The whole struct as the library leaves it (the client's fields as
    /// given, implementation fields from the arguments).
    fn filled(
        &self,
        id: c_int,
        alloced_size: usize,
        shadow_buffer: *mut c_void,
        registered_fd: c_int,
        internal_flags: u32,
    ) -> TeecSharedMemory {
        TeecSharedMemory {
            buffer: self.buffer,
            size: self.size,
            flags: self.flags,
            #[cfg(feature = "abi2")]
            _pad: core::mem::MaybeUninit::uninit(),
            id,
            alloced_size,
            shadow_buffer,
            registered_fd,
            internal_flags: internal_flags as _,
        }
    }
}

/// Checks a client's block before allocation or registration. Only the
/// client-set fields are read: the others may be uninitialised.
///
/// # Safety
/// `shm` is null or a live TEEC_SharedMemory.
unsafe fn shm_request(context: *mut TeecContext, shm: *mut TeecSharedMemory) -> ApiResult<(Arc<Context>, ShmRequest)> {
    if shm.is_null() {
        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
    }
    // SAFETY: per the caller.
    let ctx = unsafe { context_of(context) }.ok_or(l::TEEC_ERROR_BAD_PARAMETERS)?;
    // SAFETY: non-null and live per the caller.
    let buffer = unsafe { (*shm).buffer };
    // SAFETY: as above.
    let size = unsafe { (*shm).size };
    // SAFETY: as above.
    let flags = unsafe { (*shm).flags };
    if !l::valid_shm_flags(flags) {
        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
    }
    Ok((ctx, ShmRequest { buffer, size, flags }))
}

fn result(r: ApiResult<()>) -> u32 {
    r.err().unwrap_or(l::TEEC_SUCCESS)
}

/// Makes the client's `buffer` usable in calls. The driver is not asked
/// to register user memory: a kernel block of the same size shadows it,
/// filled before and read back after each call.
///
/// # Safety
/// `context` initialised; `sharedMem` null or a live struct whose buffer
/// holds `size` bytes for as long as it stays registered.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_RegisterSharedMemory(context: *mut TeecContext, sharedMem: *mut TeecSharedMemory) -> u32 {
    // SAFETY: per the caller.
    result(unsafe { register(context, sharedMem) })
}

/// # Safety
/// As TEEC_RegisterSharedMemory.
unsafe fn register(context: *mut TeecContext, shm: *mut TeecSharedMemory) -> ApiResult<()> {
    // SAFETY: per the caller.
    let (ctx, r) = unsafe { shm_request(context, shm) }?;
    if r.buffer.is_null() {
        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
    }
    let size = l::alloc_size(r.size);
    let kernel = ctx.allocate_shared_memory(size).map_err(|_| l::TEEC_ERROR_OUT_OF_MEMORY)?;
    let s = r.filled(kernel.id(), size, kernel.as_ptr().cast(), -1, 0);
    state::add_shm(s.id, ShmEntry { mem: ShmMem::Kernel(kernel), shadow: true });
    // SAFETY: live and writable per the caller.
    unsafe { shm.write(s) };
    Ok(())
}

/// Allocates `size` bytes of shared memory, mapped at `buffer`.
///
/// # Safety
/// `context` initialised; `sharedMem` null or a live struct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_AllocateSharedMemory(context: *mut TeecContext, sharedMem: *mut TeecSharedMemory) -> u32 {
    // SAFETY: per the caller.
    result(unsafe { allocate(context, sharedMem) })
}

/// # Safety
/// As TEEC_AllocateSharedMemory.
unsafe fn allocate(context: *mut TeecContext, shm: *mut TeecSharedMemory) -> ApiResult<()> {
    // SAFETY: per the caller.
    let (ctx, mut r) = unsafe { shm_request(context, shm) }?;
    let size = l::alloc_size(r.size);
    let kernel = ctx.allocate_shared_memory(size).map_err(|_| l::TEEC_ERROR_OUT_OF_MEMORY)?;
    r.buffer = kernel.as_ptr().cast();
    let s = r.filled(kernel.id(), size, core::ptr::null_mut(), -1, l::SHM_FLAG_BUFFER_ALLOCED);
    state::add_shm(s.id, ShmEntry { mem: ShmMem::Kernel(kernel), shadow: false });
    // SAFETY: live and writable per the caller.
    unsafe { shm.write(s) };
    Ok(())
}

/// Registers a dma-buf file descriptor as shared memory (OP-TEE extension;
/// needs a kernel with TEE_IOC_SHM_REGISTER_FD).
///
/// # Safety
/// `context` initialised; `sharedMem` null or a live struct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_RegisterSharedMemoryFileDescriptor(
    context: *mut TeecContext,
    sharedMem: *mut TeecSharedMemory,
    fd: c_int,
) -> u32 {
    // SAFETY: per the caller.
    result(unsafe { register_fd(context, sharedMem, fd) })
}

/// # Safety
/// As TEEC_RegisterSharedMemoryFileDescriptor.
unsafe fn register_fd(context: *mut TeecContext, shm: *mut TeecSharedMemory, fd: c_int) -> ApiResult<()> {
    if fd < 0 {
        return Err(l::TEEC_ERROR_BAD_PARAMETERS);
    }
    // SAFETY: per the caller.
    let (ctx, mut r) = unsafe { shm_request(context, shm) }?;
    let (owned, size, id) = state::register_fd(&ctx, fd).ok_or(l::TEEC_ERROR_BAD_PARAMETERS)?;
    r.buffer = core::ptr::null_mut();
    r.size = l::returned_size(size);
    let s = r.filled(id, 0, core::ptr::null_mut(), owned.as_raw_fd(), 0);
    state::add_shm(id, ShmEntry { mem: ShmMem::Fd(owned), shadow: false });
    // SAFETY: live and writable per the caller.
    unsafe { shm.write(s) };
    Ok(())
}

/// Releases allocated or registered shared memory.
///
/// # Safety
/// `sharedMemory` is null or a live struct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TEEC_ReleaseSharedMemory(sharedMemory: *mut TeecSharedMemory) {
    if sharedMemory.is_null() {
        return;
    }
    let shm = sharedMemory;
    // SAFETY: non-null and live per the caller.
    let id = unsafe { (*shm).id };
    if id == -1 {
        return;
    }
    state::remove_shm(id);
    // SAFETY: live and writable per the caller (each field likewise).
    unsafe { (*shm).id = -1 };
    // SAFETY: as above.
    unsafe { (*shm).shadow_buffer = core::ptr::null_mut() };
    // SAFETY: as above.
    unsafe { (*shm).buffer = core::ptr::null_mut() };
    // SAFETY: as above.
    unsafe { (*shm).registered_fd = -1 };
    // SAFETY: as above.
    unsafe { (*shm).internal_flags = 0 };
}

/// Trace hook of OP-TEE's libteec that tee-supplicant imports. Only the
/// named arguments are read (on AAPCS64 and x86-64 a variadic caller passes
/// them as for a fixed-argument call), so `fmt` is printed unexpanded.
///
/// # Safety
/// The string arguments are null or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _dprintf(
    function: *const c_char,
    line: c_int,
    level: c_int,
    prefix: *const c_char,
    fmt: *const c_char,
) {
    // SAFETY: per the caller.
    let prefix = unsafe { c_str(prefix) };
    // SAFETY: per the caller.
    let function = unsafe { c_str(function) };
    // SAFETY: per the caller.
    let fmt = unsafe { c_str(fmt) };
    let lv = match level {
        1 => "ERR",
        2 => "INF",
        3 => "DBG",
        _ => "FLW",
    };
    eprintln!("{lv} [{}] {prefix}:{function}:{line}: {}", std::process::id(), fmt.trim_end());
}

/// A C string for printing ("" for NULL).
///
/// # Safety
/// `p` is null or NUL-terminated and outlives the result.
unsafe fn c_str<'a>(p: *const c_char) -> &'a str {
    if p.is_null() {
        return "";
    }
    // SAFETY: non-null and NUL-terminated per the caller.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().unwrap_or("?")
}

/// Hex-dump hook of OP-TEE's libteec that tee-supplicant imports; a no-op
/// there in release builds, and here.
///
/// # Safety
/// Nothing is dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dump_buffer(_bname: *const c_char, _buffer: *const u8, _blen: usize) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TeecTempMemoryReference as Tmp;
    use core::ptr::{null, null_mut};

    const fn types(p0: u32, p1: u32, p2: u32, p3: u32) -> u32 {
        p0 | (p1 << 4) | (p2 << 8) | (p3 << 12)
    }

    fn op(param_types: u32, params: [TeecParameter; 4]) -> TeecOperation {
        TeecOperation { started: 0, param_types, params, session: null_mut() }
    }

    fn value(a: u32, b: u32) -> TeecParameter {
        TeecParameter { value: TeecValue { a, b } }
    }

    fn tmp(buffer: *mut u8, size: usize) -> TeecParameter {
        TeecParameter { tmpref: Tmp { buffer: buffer.cast(), size } }
    }

    fn zeroed_shm() -> TeecSharedMemory {
        // SAFETY: the struct is integers and raw pointers; all-zero is valid.
        unsafe { core::mem::zeroed() }
    }

    #[test]
    fn null_arguments_are_api_errors() {
        let mut origin = 0;
        // SAFETY: all pointers are null or point to locals.
        unsafe {
            assert_eq!(TEEC_InitializeContext(null(), null_mut()), l::TEEC_ERROR_BAD_PARAMETERS);
        }
        // SAFETY: as above.
        unsafe { TEEC_FinalizeContext(null_mut()) };
        // SAFETY: as above.
        let r = unsafe { TEEC_OpenSession(null_mut(), null_mut(), null(), 0, null(), null_mut(), &mut origin) };
        assert_eq!((r, origin), (l::TEEC_ERROR_BAD_PARAMETERS, l::TEEC_ORIGIN_API));
        origin = 0;
        // SAFETY: as above.
        let r = unsafe { TEEC_InvokeCommand(null_mut(), 0, null_mut(), &mut origin) };
        assert_eq!((r, origin), (l::TEEC_ERROR_BAD_PARAMETERS, l::TEEC_ORIGIN_API));
        // SAFETY: as above.
        unsafe { TEEC_CloseSession(null_mut()) };
        // SAFETY: as above.
        unsafe { TEEC_RequestCancellation(null_mut()) };
        // SAFETY: as above.
        unsafe { TEEC_ReleaseSharedMemory(null_mut()) };
        let mut ctx = TeecContext { fd: -1, reg_mem: false, memref_null: false };
        let mut shm = zeroed_shm();
        shm.flags = l::TEEC_MEM_INPUT;
        // SAFETY: pointers to locals; fd -1 is no context of this library.
        unsafe {
            assert_eq!(TEEC_AllocateSharedMemory(&mut ctx, &mut shm), l::TEEC_ERROR_BAD_PARAMETERS);
        }
        // SAFETY: as above.
        unsafe {
            assert_eq!(TEEC_RegisterSharedMemory(&mut ctx, null_mut()), l::TEEC_ERROR_BAD_PARAMETERS);
        }
        // SAFETY: as above.
        unsafe {
            assert_eq!(TEEC_RegisterSharedMemoryFileDescriptor(&mut ctx, &mut shm, -1), l::TEEC_ERROR_BAD_PARAMETERS);
        }
        // A session on an unknown context.
        let mut s = TeecSession { ctx: &mut ctx, session_id: 1 };
        // SAFETY: as above.
        let r = unsafe { TEEC_InvokeCommand(&mut s, 0, null_mut(), &mut origin) };
        assert_eq!((r, origin), (l::TEEC_ERROR_BAD_PARAMETERS, l::TEEC_ORIGIN_API));
    }

    #[test]
    fn unknown_device_name_finds_nothing() {
        let mut ctx = TeecContext { fd: -1, reg_mem: false, memref_null: false };
        // SAFETY: a NUL-terminated literal and a local.
        let r = unsafe { TEEC_InitializeContext(c"no-such-tee".as_ptr(), &mut ctx) };
        assert_eq!(r, l::TEEC_ERROR_ITEM_NOT_FOUND);
        assert_eq!(ctx.fd, -1);
    }

    #[test]
    fn release_resets_the_struct() {
        let mut shm = zeroed_shm();
        shm.id = 12345;
        shm.buffer = 8 as *mut c_void;
        // SAFETY: a local; id 12345 is in no table, so nothing is freed.
        unsafe { TEEC_ReleaseSharedMemory(&mut shm) };
        assert_eq!((shm.id, shm.buffer, shm.registered_fd), (-1, null_mut(), -1));
    }

    #[test]
    fn cancellation_before_start() {
        let mut o = op(0, [value(0, 0); 4]);
        // SAFETY: a local operation.
        unsafe { TEEC_RequestCancellation(&mut o) };
        assert_eq!(o.started, l::CANCELLED_BEFORE_START);
        // SAFETY: as above.
        assert_eq!(unsafe { start_operation(&mut o, None) }, Err(l::TEEC_ERROR_CANCEL));
        o.started = 0;
        let mut s = TeecSession { ctx: null_mut(), session_id: 7 };
        // SAFETY: as above.
        assert_eq!(unsafe { start_operation(&mut o, Some(&mut s)) }, Ok(()));
        assert_eq!(o.started, l::STARTED);
        assert_eq!(o.session, &raw mut s);
        // Started, session with no live context: nothing is sent.
        // SAFETY: as above.
        unsafe { TEEC_RequestCancellation(&mut o) };
        assert_eq!(o.started, l::STARTED);
    }

    #[test]
    fn parameters_are_decoded() {
        let mut buf = [0u8; 4];
        let mut o = op(
            types(l::TEEC_VALUE_INOUT, l::TEEC_MEMREF_TEMP_INPUT, l::TEEC_NONE, l::TEEC_MEMREF_TEMP_OUTPUT),
            [value(1, 2), tmp(buf.as_mut_ptr(), 4), value(0, 0), tmp(null_mut(), 0)],
        );
        // SAFETY: a local operation whose members match its types.
        let ps = unsafe { read_params(&o) }.unwrap();
        assert!(matches!(ps[0], CParam::Value { d: Dir::InOut, a: 1, b: 2 }));
        assert!(matches!(ps[1], CParam::Temp { d: Dir::In, size: 4, .. }));
        assert!(matches!(ps[2], CParam::None));
        assert!(matches!(ps[3], CParam::Temp { d: Dir::Out, size: 0, buffer } if buffer.is_null()));
        // SAFETY: null operation.
        assert!(matches!(unsafe { read_params(null()) }, Ok([CParam::None, CParam::None, CParam::None, CParam::None])));
        o.param_types = types(l::TEEC_MEMREF_WHOLE, 0, 0, 0);
        o.params[0] =
            TeecParameter { memref: TeecRegisteredMemoryReference { parent: null_mut(), size: 0, offset: 0 } };
        // SAFETY: as above; the NULL parent is refused, not read.
        assert!(matches!(unsafe { read_params(&o) }, Err(l::TEEC_ERROR_BAD_PARAMETERS)));
        o.param_types = types(0, 0, 4, 0);
        // SAFETY: as above.
        assert!(matches!(unsafe { read_params(&o) }, Err(l::TEEC_ERROR_BAD_PARAMETERS)));
    }

    #[test]
    fn results_are_written_back() {
        let mut shm = zeroed_shm();
        shm.flags = l::TEEC_MEM_OUTPUT;
        shm.size = 64;
        shm.id = 424_242;
        let mut o = op(
            types(l::TEEC_VALUE_INOUT, l::TEEC_VALUE_INPUT, l::TEEC_MEMREF_TEMP_OUTPUT, l::TEEC_MEMREF_PARTIAL_OUTPUT),
            [
                value(1, 2),
                value(3, 4),
                tmp(null_mut(), 0),
                TeecParameter { memref: TeecRegisteredMemoryReference { parent: &mut shm, size: 32, offset: 8 } },
            ],
        );
        // SAFETY: a local operation whose members match its types.
        let cparams = unsafe { read_params(&o) }.unwrap();
        let call = Call { cparams, params: [IoctlParam::default(); 4], temps: [None, None, None, None] };
        let q = |a, b| IoctlParam { attr: 0, a, b, c: 0 };
        let back = [q(0x1_0000_0005, 6), q(7, 8), q(0, 99), q(0, 16)];
        // SAFETY: `o` is the operation `call` came from; shm id 424242 has
        // no shadow, so no bytes are copied.
        unsafe { finish(&call, &back, &mut o) };
        // SAFETY: the members match the types.
        let v0 = unsafe { o.params[0].value };
        // SAFETY: as above.
        let v1 = unsafe { o.params[1].value };
        // SAFETY: as above.
        let t2 = unsafe { o.params[2].tmpref };
        // SAFETY: as above.
        let m3 = unsafe { o.params[3].memref };
        assert_eq!((v0.a, v0.b), (5, 6));
        assert_eq!((v1.a, v1.b), (3, 4), "input values are left alone");
        assert_eq!(t2.size, 99, "size queries get the needed size");
        assert_eq!((m3.size, m3.offset), (16, 8));
    }
}
