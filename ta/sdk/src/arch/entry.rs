//! `__ta_entry`, the ELF entry point the kernel starts every request at:
//! EL0, x0 = function (open, close, invoke), x1 = session id, x2 = the
//! `utee_params` the kernel put on our stack, x3 = command id, sp 16-byte
//! aligned below them. It never returns: the request ends with the RETURN
//! syscall, after the parameters are written back in place.
//!
//! Also the five entry points the attribute macros define in the TA.

use crate::error::Result;
use crate::parameter::Parameters;
use crate::runtime::SessionContext;
use oxtee_abi::ta::{
    TEE_MEMORY_ACCESS_ANY_OWNER, TEE_MEMORY_ACCESS_READ, TEE_MEMORY_ACCESS_WRITE, TEE_NUM_PARAMS,
    TEE_PARAM_TYPE_MEMREF_INOUT, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_MEMREF_OUTPUT, UteeParams, param_type_get,
};
use oxtee_abi::tee::TeeResult;

#[cfg(target_os = "none")]
core::arch::global_asm!(
    ".section .text.__ta_entry, \"ax\", %progbits",
    ".global __ta_entry",
    ".type __ta_entry, %function",
    ".p2align 2",
    "__ta_entry:",
    // Terminate the frame chain for backtraces.
    "mov x29, xzr",
    "mov x30, xzr",
    "bl {entry}",
    // `ta_entry` never returns; trap if it ever did.
    "udf #0",
    ".size __ta_entry, . - __ta_entry",
    entry = sym ta_entry,
);

#[cfg(target_os = "none")]
extern "C" fn ta_entry(func: u64, session: u64, up: *mut UteeParams, cmd: u64) -> ! {
    // SAFETY: the kernel placed an initialised `utee_params` at `up` on
    // this entry's stack, aligned, and nothing else refers to it.
    let mut raw = unsafe { up.read() };
    let res = match entry_ranges(&raw) {
        // SAFETY: the kernel mapped each range for this request (checked
        // by `entry_ranges`), at these very addresses.
        Ok(ranges) => crate::runtime::dispatch(func, session as u32, &mut raw, unsafe { buffers(ranges) }, cmd as u32),
        Err(e) => e,
    };
    // SAFETY: as above; the kernel reads the outputs back from here.
    unsafe { up.write(raw) };
    super::return_to_kernel(res.0)
}

/// The host simulator's entry (oxtee-sim, on the TA's thread): as
/// `ta_entry`, with `raw` as the kernel wrote it (addresses in the TA's
/// space, checked there) and `host` the host address of each memref's
/// buffer, which the TA's code then uses.
#[cfg(not(target_os = "none"))]
pub(crate) fn host_entry(func: u64, session: u32, raw: &mut UteeParams, cmd: u32, host: [usize; 4]) -> u32 {
    let res = match entry_ranges(raw) {
        Ok(mut ranges) => {
            let mut local = *raw;
            let mut ok = true;
            for (i, r) in ranges.iter_mut().enumerate() {
                if r.1 != 0 {
                    ok &= host[i] != 0;
                    r.0 = host[i];
                    local.vals[2 * i] = host[i] as u64;
                }
            }
            if ok && disjoint(&ranges) {
                // SAFETY: the simulator hands the host addresses of the
                // request's buffers (the core's copies or the client's
                // memory), valid for the sizes the kernel checked above
                // for the whole request; the kernel side waits while the
                // TA runs, and the ranges are disjoint (checked).
                let bufs = unsafe { buffers(ranges) };
                let res = crate::runtime::dispatch(func, session, &mut local, bufs, cmd);
                for (i, r) in ranges.iter().enumerate() {
                    if r.1 == 0 {
                        raw.vals[2 * i] = local.vals[2 * i];
                    }
                    raw.vals[2 * i + 1] = local.vals[2 * i + 1];
                }
                res
            } else {
                TeeResult::ERROR_BAD_PARAMETERS
            }
        }
        Err(e) => e,
    };
    res.0
}

/// A memref buffer of the current request, as the kernel mapped it.
pub(crate) enum EntryBuffer<'a> {
    ReadWrite(&'a mut [u8]),
    /// An input buffer the kernel mapped read-only.
    ReadOnly(&'a [u8]),
}

/// The memref ranges of this request (address, length, writable). The
/// kernel copies every memref into this TA's memory before entry; this
/// still checks what the slices rely on: each range is mapped for us
/// (read/write, or at least readable for an input) and no two overlap. A
/// null address is a null memref (size only).
fn entry_ranges(raw: &UteeParams) -> core::result::Result<[(usize, usize, bool); 4], TeeResult> {
    let mut ranges = [(0usize, 0usize, false); TEE_NUM_PARAMS];
    for (i, range) in ranges.iter_mut().enumerate() {
        let t = param_type_get(raw.types as u32, i);
        if !matches!(t, TEE_PARAM_TYPE_MEMREF_INPUT | TEE_PARAM_TYPE_MEMREF_OUTPUT | TEE_PARAM_TYPE_MEMREF_INOUT) {
            continue;
        }
        let (addr, len) = (raw.vals[2 * i] as usize, raw.vals[2 * i + 1] as usize);
        if addr == 0 || len == 0 {
            continue;
        }
        addr.checked_add(len).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        let check =
            |flags| crate::sys::check_access_rights(flags | TEE_MEMORY_ACCESS_ANY_OWNER, addr, len).is_success();
        let writable = check(TEE_MEMORY_ACCESS_READ | TEE_MEMORY_ACCESS_WRITE);
        let readable_input = || t == TEE_PARAM_TYPE_MEMREF_INPUT && check(TEE_MEMORY_ACCESS_READ);
        if !writable && !readable_input() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        *range = (addr, len, writable);
    }
    if disjoint(&ranges) { Ok(ranges) } else { Err(TeeResult::ERROR_BAD_PARAMETERS) }
}

/// No two of the (non-empty) ranges overlap.
fn disjoint(ranges: &[(usize, usize, bool); 4]) -> bool {
    ranges
        .iter()
        .enumerate()
        .all(|(i, a)| ranges[i + 1..].iter().all(|b| a.1 == 0 || b.1 == 0 || !(a.0 < b.0 + b.1 && b.0 < a.0 + a.1)))
}

/// The ranges as slices.
///
/// # Safety
///
/// Each range must be memory valid for the request (read/write where
/// `writable`, else readable), disjoint from the others and from
/// anything else Rust code may reach while the request runs.
unsafe fn buffers<'a>(ranges: [(usize, usize, bool); 4]) -> [Option<EntryBuffer<'a>>; 4] {
    ranges.map(|(addr, len, writable)| {
        if len == 0 {
            None
        } else if writable {
            // SAFETY: the caller vouches for [addr, addr + len): mapped
            // read/write for the request and aliased by nothing else; the
            // slices do not outlive the request (`dispatch` lends them to
            // the TA's entry point only for its call).
            Some(EntryBuffer::ReadWrite(unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) }))
        } else {
            // SAFETY: as above, readable, and only read through this
            // shared slice.
            Some(EntryBuffer::ReadOnly(unsafe { core::slice::from_raw_parts(addr as *const u8, len) }))
        }
    })
}

// The TA's entry points, defined by the attribute macros with exactly
// these signatures (the macros are the only way to define them, as the
// names are reserved to them; a missing one fails the link).
unsafe extern "Rust" {
    pub(crate) safe fn __oxtee_ta_create() -> Result<()>;
    pub(crate) safe fn __oxtee_ta_destroy();
    pub(crate) safe fn __oxtee_ta_open_session(params: &mut Parameters<'_>, ctx: &mut SessionContext) -> Result<()>;
    pub(crate) safe fn __oxtee_ta_close_session(ctx: &mut SessionContext);
    pub(crate) safe fn __oxtee_ta_invoke_command(
        ctx: &mut SessionContext,
        cmd: u32,
        params: &mut Parameters<'_>,
    ) -> Result<()>;
}

/// The TA's entry points, for the runtime.
pub(crate) mod hooks {
    pub(crate) use super::{
        __oxtee_ta_close_session as close_session, __oxtee_ta_create as create, __oxtee_ta_destroy as destroy,
        __oxtee_ta_invoke_command as invoke_command, __oxtee_ta_open_session as open_session,
    };
}
