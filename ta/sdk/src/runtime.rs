//! The TA side of the session lifecycle, as libutee runs it: the create
//! entry point once before the first session of an instance, one context
//! per session, and on the last close (or failed open) of an instance that
//! is not kept alive the destroy entry point; the kernel then destroys the
//! instance. Also the record of the current request's memrefs that
//! `check_memory_access_rights` consults, and the panic handler.

use crate::arch::{EntryBuffer, InstanceCell, hooks};
use crate::parameter::Parameters;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::any::Any;
use oxtee_abi::ta::{
    TA_FLAG_INSTANCE_KEEP_ALIVE, TA_FLAG_SINGLE_INSTANCE, TEE_NUM_PARAMS, UTEE_ENTRY_FUNC_CLOSE_SESSION,
    UTEE_ENTRY_FUNC_INVOKE_COMMAND, UTEE_ENTRY_FUNC_OPEN_SESSION, UteeParams, param_type_get,
};
use oxtee_abi::tee::TeeResult;

/// A session's context: whatever the TA's open-session entry point keeps
/// for it (`T: Default`, created on first use), erased to `dyn Any`.
#[derive(Default)]
pub struct SessionContext(Option<Box<dyn Any>>);

impl SessionContext {
    /// The context as a `T`, created with `T::default()` if the session
    /// has none yet. A session keeps one type for life: asking for another
    /// one is a bug in the TA and panics.
    pub fn get_or_insert_default<T: Default + 'static>(&mut self) -> &mut T {
        self.0
            .get_or_insert_with(|| Box::new(T::default()))
            .downcast_mut()
            .expect("session context: the entry points disagree on its type")
    }
}

struct Session {
    id: u32,
    ctx: SessionContext,
}

struct Instance {
    created: bool,
    sessions: Vec<Session>,
}

crate::arch::instance_state!(INSTANCE: InstanceCell<Instance> = InstanceCell::new(Instance { created: false, sessions: Vec::new() }));

/// Types and memref ranges of the request being served (upstream's
/// `ta_param_types`/`ta_params`).
#[derive(Clone, Copy, Default)]
pub(crate) struct RequestParams {
    pub types: u32,
    pub memrefs: [(usize, usize); TEE_NUM_PARAMS],
}

crate::arch::instance_state!(REQUEST: InstanceCell<RequestParams> = InstanceCell::new(RequestParams { types: 0, memrefs: [(0, 0); 4] }));

pub(crate) fn request_params() -> RequestParams {
    REQUEST.with(|r| *r.borrow())
}

fn instance<R>(f: impl FnOnce(&InstanceCell<Instance>) -> R) -> R {
    INSTANCE.with(f)
}

fn keep_alive() -> bool {
    let flags = crate::arch::config().head.flags;
    flags & TA_FLAG_SINGLE_INSTANCE != 0 && flags & TA_FLAG_INSTANCE_KEEP_ALIVE != 0
}

/// Serves one request; `bufs` are the checked memref buffers of `raw`,
/// whose outputs are written back into `raw`.
pub(crate) fn dispatch(
    func: u64,
    session: u32,
    raw: &mut UteeParams,
    bufs: [Option<EntryBuffer<'_>>; 4],
    cmd: u32,
) -> TeeResult {
    let mut memrefs = [(0, 0); TEE_NUM_PARAMS];
    for (i, m) in memrefs.iter_mut().enumerate() {
        if matches!(param_type_get(raw.types as u32, i), 5..=7) {
            *m = (raw.vals[2 * i] as usize, raw.vals[2 * i + 1] as usize);
        }
    }
    REQUEST.with(|r| r.replace(RequestParams { types: raw.types as u32, memrefs }));
    let res = match func {
        UTEE_ENTRY_FUNC_OPEN_SESSION => with_params(raw, bufs, |p| open_session(session, p)),
        UTEE_ENTRY_FUNC_CLOSE_SESSION => close_session(session),
        UTEE_ENTRY_FUNC_INVOKE_COMMAND => with_params(raw, bufs, |p| invoke_command(session, cmd, p)),
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    };
    REQUEST.with(|r| r.replace(RequestParams::default()));
    match res {
        Ok(()) => TeeResult::SUCCESS,
        Err(e) => e,
    }
}

fn with_params(
    raw: &mut UteeParams,
    bufs: [Option<EntryBuffer<'_>>; 4],
    f: impl FnOnce(&mut Parameters<'_>) -> Result<(), TeeResult>,
) -> Result<(), TeeResult> {
    let mut params = Parameters::from_utee(raw, bufs).map_err(|e| TeeResult(e.raw_code()))?;
    let res = f(&mut params);
    params.write_back(raw);
    res
}

fn code(r: crate::Result<()>) -> Result<(), TeeResult> {
    r.map_err(|e| TeeResult(e.raw_code()))
}

fn open_session(id: u32, params: &mut Parameters<'_>) -> Result<(), TeeResult> {
    let (exists, created) = {
        instance(|i| {
            let inst = i.borrow();
            (inst.sessions.iter().any(|s| s.id == id), inst.created)
        })
    };
    if exists {
        return Err(TeeResult::ERROR_BAD_STATE);
    }
    if !created {
        code(hooks::create())?;
        instance(|i| i.borrow_mut().created = true);
    }
    let mut ctx = SessionContext::default();
    let res = code(hooks::open_session(params, &mut ctx));
    match res {
        Ok(()) => instance(|i| i.borrow_mut().sessions.push(Session { id, ctx })),
        Err(_) => {
            drop(ctx);
            end_if_last();
        }
    }
    res
}

fn close_session(id: u32) -> Result<(), TeeResult> {
    let mut session = instance(|i| {
        let mut inst = i.borrow_mut();
        let at = inst.sessions.iter().position(|s| s.id == id).ok_or(TeeResult::ERROR_BAD_STATE)?;
        Ok::<_, TeeResult>(inst.sessions.remove(at))
    })?;
    hooks::close_session(&mut session.ctx);
    drop(session);
    end_if_last();
    Ok(())
}

/// After a session went away: destroy the instance's state if it was the
/// last one and the instance is not kept alive.
fn end_if_last() {
    let (last, created) = instance(|i| {
        let inst = i.borrow();
        (inst.sessions.is_empty(), inst.created)
    });
    if last && !keep_alive() && created {
        hooks::destroy();
        instance(|i| i.borrow_mut().created = false);
    }
}

fn invoke_command(id: u32, cmd: u32, params: &mut Parameters<'_>) -> Result<(), TeeResult> {
    // The context is taken out while the TA runs so no borrow of the
    // session list is held across its code.
    let mut ctx = instance(|i| {
        let mut inst = i.borrow_mut();
        let s = inst.sessions.iter_mut().find(|s| s.id == id).ok_or(TeeResult::ERROR_BAD_STATE)?;
        Ok::<_, TeeResult>(core::mem::take(&mut s.ctx))
    })?;
    let res = code(hooks::invoke_command(&mut ctx, cmd, params));
    instance(|i| {
        if let Some(s) = i.borrow_mut().sessions.iter_mut().find(|s| s.id == id) {
            s.ctx = ctx;
        }
    });
    res
}

/// The start of the message `alloc` panics with when the global
/// allocator has no room (`handle_alloc_error`).
#[cfg(target_os = "none")]
const ALLOC_FAILED: &str = "memory allocation of ";

/// Keeps the first bytes written to it, to compare a message's start.
#[cfg(target_os = "none")]
struct Prefix {
    buf: [u8; ALLOC_FAILED.len()],
    len: usize,
}

#[cfg(target_os = "none")]
impl core::fmt::Write for Prefix {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// A Rust panic in the TA: log where and why on one line, then the PANIC
/// syscall (the kernel kills the instance; clients see TARGET_DEAD). An
/// exhausted heap (where liballoc's location says nothing) is named as
/// such, with its size.
/// On the host the test process's panic machinery prints it and the
/// simulator turns it into the PANIC syscall.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;
    let msg = info.message();
    let mut start = Prefix { buf: [0; ALLOC_FAILED.len()], len: 0 };
    let _ = write!(start, "{msg}");
    let mut line = crate::trace::LineBuf::new();
    let _ = if start.buf[..start.len] == *ALLOC_FAILED.as_bytes() {
        // The allocator has returned: the heap is not borrowed here.
        let (used, size) = crate::memory::heap_stats();
        write!(
            line,
            "TA panicked: {msg}: the heap is exhausted ({used} of its {size} bytes in use; \
             data_size in ta_config! sets it)"
        )
    } else if let Some(at) = info.location() {
        write!(line, "TA panicked at {}:{}:{}: {msg}", at.file(), at.line(), at.column())
    } else {
        write!(line, "TA panicked: {msg}")
    };
    line.flush();
    crate::sys::panic(oxtee_abi::tee::TeeResult::ERROR_GENERIC.0)
}
