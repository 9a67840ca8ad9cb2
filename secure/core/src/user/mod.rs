//! User-mode TAs: instances loaded from signed images, calls into S-EL0
//! through the entry point upstream TAs export, and the syscalls they make.
//!
//! A call runs on the calling trusted thread: the thread takes the
//! instance's busy lock (one call inside an instance at a time, as OP-TEE),
//! maps the call's parameters (copies of the caller's buffers) into the
//! TA's address space, and loops between user mode and syscalls until the
//! TA returns, panics or faults. A TA that panics or faults is killed: its
//! memory is freed at once and every later call to it gets TARGET_DEAD.

mod load;
pub mod space;
mod syscall;
#[cfg(test)]
pub(crate) mod tests;

use crate::Os;
use crate::env::{UserMmu, UserPerm, UserRegs};
use crate::msg::Dir;
use crate::rpc::Rpc;
use crate::session::{Session, Target};
use crate::sync::SleepMutex;
use crate::ta::image::TaKey;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicUsize, Ordering};
use log::{debug, warn};
use oxtee_abi::ta as abi;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::uuid::Uuid;
use space::{PAGE_SIZE, PageBuf, UserSpace};
use zerocopy::{FromBytes, IntoBytes};

/// Base of the user half of the address space (TTBR1, 39-bit).
pub const USER_VA_BASE: u64 = 0xffff_ff80_0000_0000;
/// Each instance gets its own 1 GiB window, so one TA's addresses are
/// never valid in another.
const WINDOW: u64 = 1 << 30;
const WINDOWS: u32 = 500;
/// Offsets inside a window.
const STACK_TOP: u64 = 0x2000_0000;
const PARAMS: u64 = 0x3000_0000;
/// Largest memref a call may carry (copied into the TA; all copies in
/// flight together stay within `space::PARAM_BUDGET`).
pub const MAX_MEMREF: u64 = 4 << 20;
/// Deepest chain of TA-to-TA calls on one thread (each level holds a
/// kernel stack frame set on the thread's fixed stack).
const MAX_NESTING: u8 = 4;
/// Threads whose nesting is tracked (more than the OS ever has).
const MAX_THREADS: usize = 64;
/// `TEE_LOGIN_TRUSTED_APP`.
pub const LOGIN_TRUSTED_APP: u32 = 0xF000_0000;

/// A parameter on its way into a user TA. Memrefs are secure copies
/// (`None` for a null memref); `size` comes back updated.
pub enum CallParam {
    None,
    Value { dir: Dir, a: u64, b: u64 },
    Memref { dir: Dir, data: Option<PageBuf>, size: u64 },
}

impl CallParam {
    fn type_nibble(&self) -> u32 {
        match self {
            CallParam::None => abi::TEE_PARAM_TYPE_NONE,
            CallParam::Value { dir, .. } => match dir {
                Dir::In => abi::TEE_PARAM_TYPE_VALUE_INPUT,
                Dir::Out => abi::TEE_PARAM_TYPE_VALUE_OUTPUT,
                Dir::InOut => abi::TEE_PARAM_TYPE_VALUE_INOUT,
            },
            CallParam::Memref { dir, .. } => match dir {
                Dir::In => abi::TEE_PARAM_TYPE_MEMREF_INPUT,
                Dir::Out => abi::TEE_PARAM_TYPE_MEMREF_OUTPUT,
                Dir::InOut => abi::TEE_PARAM_TYPE_MEMREF_INOUT,
            },
        }
    }

    pub fn none4() -> [CallParam; 4] {
        [CallParam::None, CallParam::None, CallParam::None, CallParam::None]
    }
}

/// Who is calling, as the TA's properties and cancellation see it.
#[derive(Clone)]
pub struct Caller {
    pub session: u32,
    pub login: u32,
    pub client: Uuid,
    pub cancel: Arc<AtomicBool>,
    pub masked: Arc<AtomicBool>,
}

impl Caller {
    /// The caller of session `id`, with this call's cancel flag.
    fn of(id: u32, s: &Session, cancel: Arc<AtomicBool>) -> Caller {
        Caller { session: id, login: s.login, client: s.client, cancel, masked: s.cancel_masked.clone() }
    }
}

struct State {
    /// None while a call holds it, and for good once the TA is dead.
    space: Option<UserSpace>,
    /// Killed or being freed: no new session or call gets in.
    dead: bool,
    /// `free_instance` has run.
    freed: bool,
    /// The last session is gone and the instance should be freed by
    /// whoever next holds its busy lock.
    free_pending: bool,
    sessions: u32,
    tpidr: u64,
}

/// One loaded TA instance.
pub struct Instance {
    pub id: u32,
    pub uuid: Uuid,
    pub flags: u32,
    pub stack_size: u32,
    entry: u64,
    base: u64,
    busy: SleepMutex,
    /// Thread inside the instance, plus one (0: none).
    owner: AtomicUsize,
    state: spin::Mutex<State>,
}

impl Instance {
    pub fn single(&self) -> bool {
        self.flags & abi::TA_FLAG_SINGLE_INSTANCE != 0
    }

    pub fn multi_session(&self) -> bool {
        self.flags & abi::TA_FLAG_MULTI_SESSION != 0
    }

    pub fn keep_alive(&self) -> bool {
        self.single() && self.flags & abi::TA_FLAG_INSTANCE_KEEP_ALIVE != 0
    }

    pub fn is_dead(&self) -> bool {
        self.state.lock().dead
    }

    fn window(id: u32) -> u64 {
        USER_VA_BASE + (1 + (id % WINDOWS) as u64) * WINDOW
    }
}

/// Why a call ended without the TA returning.
enum Killed {
    Panic(u32),
    Fault { esr: u64, far: u64 },
    Syscall(&'static str),
}

/// What a syscall asks of the run loop.
enum Flow {
    Continue(u64),
    Return(u32),
    Kill(Killed),
}

/// Per-thread TA call depth.
struct Depths([AtomicU8; MAX_THREADS]);

impl Default for Depths {
    fn default() -> Self {
        Depths([const { AtomicU8::new(0) }; MAX_THREADS])
    }
}

/// All user-TA state of the OS.
#[derive(Default)]
pub struct UserTas {
    mmu: Option<&'static dyn UserMmu>,
    key: Option<TaKey>,
    /// Live single-instance TAs.
    single: spin::Mutex<Vec<Arc<Instance>>>,
    /// Held while looking up or loading a TA, so a single-instance TA is
    /// loaded once.
    load_lock: SleepMutex,
    next_id: AtomicU32,
    /// TA persistent time offsets (seconds, against system time), by TA.
    ta_time: spin::Mutex<BTreeMap<[u8; 16], i64>>,
    /// Instances alive (loaded and not yet freed).
    live: AtomicU32,
    /// TA calls each trusted thread is inside right now.
    depth: Depths,

    /// Host tests: TAs "installed" without images (UUID, flags).
    #[cfg(test)]
    pub(crate) fakes: spin::Mutex<Vec<(Uuid, u32)>>,
}

impl UserTas {
    pub fn new(mmu: &'static dyn UserMmu, key: TaKey) -> UserTas {
        UserTas { mmu: Some(mmu), key: Some(key), ..Default::default() }
    }

    pub fn live(&self) -> u32 {
        self.live.load(Ordering::Relaxed)
    }

    /// Most CPUs that were in user mode at the same time.
    pub fn peak_running(&self) -> u32 {
        self.mmu.map(|m| m.peak_parallel()).unwrap_or(0)
    }
}

impl Os {
    /// Opens a session to user TA `uuid` for `caller` (whose session id
    /// is allocated here). Returns the session id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn user_open(
        &self,
        rpc: &mut Rpc,
        uuid: Uuid,
        login: u32,
        client: Uuid,
        owner: Option<u32>,
        params: &mut [CallParam; 4],
        cancel: &Arc<AtomicBool>,
    ) -> Result<u32, (TeeResult, Origin)> {
        // A single instance found just as it dies is replaced by a new one.
        let mut tries = 0;
        let inst = loop {
            let inst = self.find_or_load(rpc, uuid)?;
            let mut st = inst.state.lock();
            if st.dead {
                tries += 1;
                if tries < 2 {
                    continue;
                }
                return Err((TeeResult::ERROR_TARGET_DEAD, Origin::Tee));
            }
            if inst.single() && !inst.multi_session() && st.sessions > 0 {
                return Err((TeeResult::ERROR_BUSY, Origin::Tee));
            }
            st.sessions += 1;
            drop(st);
            break inst;
        };
        let session = Session::new(Target::User(inst.clone()), client, login, owner);
        let masked = session.cancel_masked.clone();
        // The id is the TA's from now on, but nobody can invoke or close the
        // session before its open entry has accepted it.
        let id = self.sessions.reserve();
        let caller = Caller { session: id, login, client, cancel: cancel.clone(), masked };
        let (res, origin) = self.ta_call(rpc, &inst, &caller, abi::UTEE_ENTRY_FUNC_OPEN_SESSION, 0, params);
        if res != TeeResult::SUCCESS {
            self.sessions.unreserve(id);
            self.session_gone(rpc, &inst);
            return Err((res, origin));
        }
        self.sessions.commit(id, session);
        Ok(id)
    }

    /// Invokes `cmd` on an open user-TA session.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn user_invoke(
        &self,
        rpc: &mut Rpc,
        id: u32,
        s: &Session,
        inst: &Arc<Instance>,
        cmd: u32,
        params: &mut [CallParam; 4],
        cancel: &Arc<AtomicBool>,
    ) -> (TeeResult, Origin) {
        let caller = Caller::of(id, s, cancel.clone());
        self.ta_call(rpc, inst, &caller, abi::UTEE_ENTRY_FUNC_INVOKE_COMMAND, cmd as u64, params)
    }

    /// Closes a user-TA session already removed from the session table.
    pub(crate) fn user_close(&self, rpc: &mut Rpc, id: u32, s: &Session, inst: &Arc<Instance>) {
        if !inst.is_dead() {
            let caller = Caller::of(id, s, Arc::new(AtomicBool::new(false)));
            let mut none = CallParam::none4();
            let _ = self.ta_call(rpc, inst, &caller, abi::UTEE_ENTRY_FUNC_CLOSE_SESSION, 0, &mut none);
        }
        self.session_gone(rpc, inst);
    }

    /// A session of `inst` ended: free the instance if nothing keeps it.
    fn session_gone(&self, rpc: &mut Rpc, inst: &Arc<Instance>) {
        {
            let mut st = inst.state.lock();
            st.sessions = st.sessions.saturating_sub(1);
            if st.sessions > 0 || inst.keep_alive() || st.dead {
                return;
            }
            st.free_pending = true;
        }
        // A call still inside (another session's) must finish first. From
        // inside a TA we do not wait for it (that could deadlock with a TA
        // on another thread): the call inside frees it when it leaves.
        let me = rpc.env.thread_id() + 1;
        let nested = self.user.depth.0[me % MAX_THREADS].load(Ordering::Relaxed) > 0;
        let locked = if nested { inst.busy.try_lock() } else { inst.busy.lock(rpc, &self.notif).is_ok() };
        if locked {
            self.free_if_pending(rpc, inst);
            let _ = inst.busy.unlock(rpc);
        }
    }

    /// With the busy lock held: frees the instance if its last session
    /// went and no new one came.
    fn free_if_pending(&self, rpc: &mut Rpc, inst: &Arc<Instance>) {
        let go = {
            let mut st = inst.state.lock();
            let go = st.free_pending && st.sessions == 0 && !st.dead;
            st.free_pending = false;
            go
        };
        if go {
            self.free_instance(rpc, inst);
        }
    }

    /// Marks an instance dead: no new session finds it, later calls get
    /// TARGET_DEAD.
    fn mark_dead(&self, inst: &Arc<Instance>) {
        inst.state.lock().dead = true;
        self.user.single.lock().retain(|i| !Arc::ptr_eq(i, inst));
    }

    /// Frees an instance's memory and forgets it; later calls get
    /// TARGET_DEAD. Sessions it opened to other TAs are closed.
    fn free_instance(&self, rpc: &mut Rpc, inst: &Arc<Instance>) {
        self.mark_dead(inst);
        let space = {
            let mut st = inst.state.lock();
            if st.freed {
                return;
            }
            st.freed = true;
            st.space.take()
        };
        drop(space);
        self.user.live.fetch_sub(1, Ordering::Relaxed);
        for id in self.sessions.owned_by(inst.id) {
            if let Some(s) = self.sessions.remove(id)
                && let Target::User(t) = &s.target
            {
                let t = t.clone();
                self.user_close(rpc, id, &s, &t);
            }
        }
    }

    /// Runs one entry of `inst` (open, invoke or close) for `caller`.
    fn ta_call(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        caller: &Caller,
        func: u64,
        cmd: u64,
        params: &mut [CallParam; 4],
    ) -> (TeeResult, Origin) {
        let me = rpc.env.thread_id() + 1;
        // A TA calling back into itself (A -> B -> A) would wait forever.
        if inst.owner.load(Ordering::Acquire) == me {
            return (TeeResult::ERROR_BUSY, Origin::Tee);
        }
        let depth = &self.user.depth.0[me % MAX_THREADS];
        if depth.load(Ordering::Relaxed) >= MAX_NESTING {
            debug!("TA {}: TA-to-TA calls nested too deep", inst.uuid);
            return (TeeResult::ERROR_BUSY, Origin::Tee);
        }
        if depth.load(Ordering::Relaxed) > 0 {
            // A call from inside a TA does not wait for a busy instance: two
            // TAs calling each other from two threads would wait forever.
            if !inst.busy.try_lock() {
                return (TeeResult::ERROR_BUSY, Origin::Tee);
            }
        } else if let Err(e) = inst.busy.lock(rpc, &self.notif) {
            return (e, Origin::Tee);
        }
        depth.fetch_add(1, Ordering::Relaxed);
        inst.owner.store(me, Ordering::Release);
        let taken = {
            let mut st = inst.state.lock();
            st.space.take().map(|s| (s, st.tpidr))
        };
        let (result, killed) = match taken {
            None => ((TeeResult::ERROR_TARGET_DEAD, Origin::Tee), false),
            Some((mut space, tpidr)) => {
                let mut regs = UserRegs { tpidr, ..Default::default() };
                match self.run_entry(rpc, inst, &mut space, caller, func, cmd, params, &mut regs) {
                    Ok(res) => {
                        let mut st = inst.state.lock();
                        st.space = Some(space);
                        st.tpidr = regs.tpidr;
                        (res, false)
                    }
                    Err(Killed::Panic(code)) => {
                        warn!("TA {} panicked with code {code:#x}", inst.uuid);
                        drop(space);
                        ((TeeResult::ERROR_TARGET_DEAD, Origin::Tee), true)
                    }
                    Err(Killed::Fault { esr, far }) => {
                        warn!(
                            "TA {} killed: exception class {:#x} (ESR {esr:#x}) at {:#x}, address {far:#x}",
                            inst.uuid,
                            esr >> 26,
                            regs.pc
                        );
                        drop(space);
                        ((TeeResult::ERROR_TARGET_DEAD, Origin::Tee), true)
                    }
                    Err(Killed::Syscall(why)) => {
                        warn!("TA {} killed: {why}", inst.uuid);
                        drop(space);
                        ((TeeResult::ERROR_TARGET_DEAD, Origin::Tee), true)
                    }
                }
            }
        };
        if killed {
            // Its memory is gone already; nobody may find it from now on.
            self.mark_dead(inst);
        }
        inst.owner.store(0, Ordering::Release);
        let _ = inst.busy.unlock(rpc);
        // A session that closed while this call ran may have left the
        // instance for us to free.
        if !killed && inst.state.lock().free_pending && inst.busy.try_lock() {
            self.free_if_pending(rpc, inst);
            let _ = inst.busy.unlock(rpc);
        }
        if killed {
            // Still counted as nested: closing the sessions it held runs
            // other TAs' entries on this thread's stack.
            self.free_instance(rpc, inst);
        }
        depth.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Maps the parameters, enters the TA and serves its syscalls until it
    /// returns. Parameters come back with the TA's outputs.
    #[allow(clippy::too_many_arguments)]
    fn run_entry(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        caller: &Caller,
        func: u64,
        cmd: u64,
        params: &mut [CallParam; 4],
        regs: &mut UserRegs,
    ) -> Result<(TeeResult, Origin), Killed> {
        let window = Instance::window(inst.id);
        let mut up = abi::UteeParams::default();
        let mut mapped: [Option<usize>; 4] = [None; 4];
        let mut va = window + PARAMS;
        let mut failed = None;
        for (i, p) in params.iter_mut().enumerate() {
            up.types |= (p.type_nibble() as u64) << (4 * i);
            match p {
                CallParam::None => {}
                CallParam::Value { dir, a, b } => {
                    if dir.is_input() {
                        (up.vals[2 * i], up.vals[2 * i + 1]) = (*a, *b);
                    }
                }
                CallParam::Memref { data: None, size, .. } => {
                    up.vals[2 * i + 1] = *size;
                }
                CallParam::Memref { data, size, .. } => {
                    let buf = data.take().expect("matched Some");
                    let len = buf.len();
                    up.vals[2 * i] = va;
                    up.vals[2 * i + 1] = *size;
                    match space.add(buf, &[(0, va, len, UserPerm::ReadWrite)]) {
                        Ok(idx) => mapped[i] = Some(idx),
                        Err(e) => failed = Some(e),
                    }
                    // A guard page between buffers.
                    va += len + PAGE_SIZE as u64;
                }
            }
        }
        // The TA does not run if its parameters could not be mapped.
        let result = match failed {
            Some(e) => Ok((e, Origin::Tee)),
            None => self.enter(rpc, inst, space, caller, func, cmd, &up, regs).map(|r| (r, Origin::TrustedApp)),
        };
        // Read back what the TA reported, then return the buffers.
        let up_va = window + STACK_TOP - 80;
        let mut back = [0u8; size_of::<abi::UteeParams>()];
        let reported = match (&result, space.read(up_va, &mut back)) {
            (Ok((_, Origin::TrustedApp)), Ok(())) => abi::UteeParams::read_from_bytes(&back).ok(),
            _ => None,
        };
        for (i, p) in params.iter_mut().enumerate() {
            match p {
                CallParam::Value { dir, a, b } if dir.is_output() => {
                    if let Some(r) = &reported {
                        // GP values are 32-bit.
                        (*a, *b) = (r.vals[2 * i] & 0xffff_ffff, r.vals[2 * i + 1] & 0xffff_ffff);
                    }
                }
                CallParam::Memref { dir, data, size } => {
                    if let Some(idx) = mapped[i] {
                        *data = space.remove(idx);
                    }
                    if dir.is_output()
                        && let Some(r) = &reported
                    {
                        *size = r.vals[2 * i + 1];
                    }
                }
                _ => {}
            }
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn enter(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        caller: &Caller,
        func: u64,
        cmd: u64,
        up: &abi::UteeParams,
        regs: &mut UserRegs,
    ) -> Result<TeeResult, Killed> {
        let window = Instance::window(inst.id);
        let up_va = window + STACK_TOP - 80;
        if space.write(up_va, up.as_bytes()).is_err() {
            return Err(Killed::Syscall("stack not writable"));
        }
        let Some(handle) = space.handle() else {
            return Err(Killed::Syscall("no address space"));
        };
        let tpidr = regs.tpidr;
        *regs = UserRegs { tpidr, sp: up_va, pc: inst.entry, ..Default::default() };
        (regs.x[0], regs.x[1], regs.x[2], regs.x[3]) = (func, caller.session as u64, up_va, cmd);
        loop {
            match rpc.env.enter_user(handle, regs) {
                crate::env::UserExit::Syscall => match self.syscall(rpc, inst, space, caller, regs) {
                    Flow::Continue(v) => regs.x[0] = v,
                    Flow::Return(res) => return Ok(TeeResult(res)),
                    Flow::Kill(k) => return Err(k),
                },
                crate::env::UserExit::Fault { esr, far } => return Err(Killed::Fault { esr, far }),
            }
        }
    }

    /// Finds the live single instance of `uuid`, or loads a new instance.
    fn find_or_load(&self, rpc: &mut Rpc, uuid: Uuid) -> Result<Arc<Instance>, (TeeResult, Origin)> {
        self.user.load_lock.lock(rpc, &self.notif).map_err(|e| (e, Origin::Tee))?;
        let found = self.user.single.lock().iter().find(|i| i.uuid == uuid && !i.is_dead()).cloned();
        let r = match found {
            Some(i) => Ok(i),
            None => self.load(rpc, uuid).map_err(|e| (e, Origin::Tee)),
        };
        let _ = self.user.load_lock.unlock(rpc);
        r
    }

    /// Loads a new instance of `uuid` through the supplicant.
    fn load(&self, rpc: &mut Rpc, uuid: Uuid) -> Result<Arc<Instance>, TeeResult> {
        let id = self.user.next_id.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let window = Instance::window(id);
        #[cfg(test)]
        if let Some(loaded) = tests::fake_load(&self.user, uuid, window, window + STACK_TOP) {
            return Ok(self.install(id, uuid, loaded?));
        }
        let (Some(mmu), Some(key)) = (self.user.mmu, self.user.key.as_ref()) else {
            return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
        };
        let image = load::fetch(rpc, uuid)?;
        let loaded = load::build(&image, key, uuid, mmu, window, window + STACK_TOP)?;
        drop(image);
        Ok(self.install(id, uuid, loaded))
    }

    fn install(&self, id: u32, uuid: Uuid, loaded: load::Loaded) -> Arc<Instance> {
        let window = Instance::window(id);
        let inst = Arc::new(Instance {
            id,
            uuid,
            flags: loaded.head.flags,
            stack_size: loaded.head.stack_size,
            entry: loaded.entry,
            base: window,
            busy: SleepMutex::new(),
            owner: AtomicUsize::new(0),
            state: spin::Mutex::new(State {
                space: Some(loaded.space),
                dead: false,
                freed: false,
                free_pending: false,
                sessions: 0,
                tpidr: 0,
            }),
        });
        debug!(
            "TA {uuid} loaded at {:#x}: flags {:#x}, stack {} KiB, {} KiB in all",
            inst.base,
            inst.flags,
            inst.stack_size / 1024,
            loaded.footprint / 1024
        );
        self.user.live.fetch_add(1, Ordering::Relaxed);
        if inst.single() {
            self.user.single.lock().push(inst.clone());
        }
        inst
    }
}
