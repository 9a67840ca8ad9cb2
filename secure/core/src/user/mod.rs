//! User-mode TAs: instances loaded from signed images, calls into S-EL0
//! through the entry point upstream TAs export, and the syscalls they make.
//!
//! A call runs on the calling trusted thread: the thread takes the
//! instance's busy lock (one call inside an instance at a time, as OP-TEE),
//! maps the call's parameters (copies of the caller's buffers) into the
//! TA's address space, and loops between user mode and syscalls until the
//! TA returns, panics or faults. A TA that panics or faults is killed: its
//! memory is freed at once and every later call to it gets TARGET_DEAD.
//!
//! What a call holds inside an instance (the busy lock, a nesting level,
//! the instance's address space) sits in a `Visit` armed in the thread's
//! ledger: if the call is aborted there (a fault in the OS), the abort path
//! drops it, which kills the instance (it is in an unknown state), frees
//! its pages, tables and ASID, and queues the rest of its release.

pub mod cryp;
#[cfg(test)]
mod cryp_tests;
mod dynlink;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub(crate) mod load;
pub mod space;
pub mod storage;
mod syscall;
pub mod ta_store;
#[cfg(test)]
pub(crate) mod tests;

use crate::Os;
use crate::env::{UserMmu, UserPerm, UserRegs};
use crate::msg::Dir;
use crate::pta::PtaBuf;
use crate::rpc::Rpc;
use crate::session::{Session, Target};
use crate::sync::SleepMutex;
use crate::ta::image::{TaEncKey, TaKey};
use crate::threads::{Job, Nested, ThreadCtx};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use log::{debug, warn};
use oxtee_abi::addr::UserVirt;
use oxtee_abi::ta as abi;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as tp;
use oxtee_abi::uuid::Uuid;
use oxtee_guard::SpinLock;
use space::{PAGE_SIZE, ParamBudget, UserSpace};
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
/// Where the system PTA's MAP_ZI places memory: between the stack's top
/// (plus a megabyte of gap) and the parameters. The image and shared
/// libraries sit below the stack.
const ZI_START: u64 = 0x2010_0000;
const ZI_END: u64 = PARAMS;
/// Largest memref a TA-to-TA call copies out of the calling TA's private
/// memory (copies in flight are bounded by the parameter budget). Memrefs
/// of normal-world memory are mapped, not copied: what bounds them is the
/// parameter area.
pub const MAX_MEMREF_COPY: u64 = 4 << 20;
/// Bytes of user address space for one call's memrefs (from `PARAMS` to
/// the end of the window, guard pages included).
const PARAMS_SPAN: u64 = WINDOW - PARAMS;
/// Deepest chain of TA-to-TA calls on one thread (each level holds a
/// kernel stack frame set on the thread's fixed stack).
const MAX_NESTING: u8 = 4;
/// `TEE_LOGIN_TRUSTED_APP`.
pub const LOGIN_TRUSTED_APP: u32 = 0xF000_0000;
/// TAs whose persistent time offset is remembered.
const TA_TIMES: usize = 64;
/// A TA's persistent time: its UUID octets and its offset in seconds from
/// system time.
type TaTime = ([u8; 16], i64);

/// A parameter on its way into a user TA. A memref is the client's
/// normal-world pages (mapped into the TA for the call) or a secure copy
/// of a calling TA's private buffer (`None` for a null memref); `size`
/// comes back updated.
pub enum CallParam {
    None,
    Value { dir: Dir, a: u64, b: u64 },
    Memref { dir: Dir, data: Option<PtaBuf>, size: u64 },
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

/// Where a memref of a running call is mapped in the TA's space.
#[derive(Clone, Copy)]
enum Mapped {
    Sec(usize),
    Ns(usize),
}

/// Who is calling, as the TA's properties and cancellation see it.
pub struct Caller<'a> {
    pub session: u32,
    pub login: u32,
    pub client: Uuid,
    /// The running call's cancel flag (TA-to-TA calls share the outer one).
    pub cancel: &'a AtomicBool,
    /// The session's cancellation mask.
    pub masked: &'a AtomicBool,
    /// When the call counts as cancelled even if nobody asks (ns of
    /// `now_ns`; `u64::MAX`: never): a TA-to-TA call's
    /// `cancellationRequestTimeout`, the earliest of the chain's.
    pub cancel_at: u64,
}

impl Caller<'_> {
    /// Whether the call is cancelled (and cancellation not masked) at
    /// time `now`.
    pub fn cancelled(&self, now: u64) -> bool {
        (self.cancel.load(Ordering::Acquire) || now >= self.cancel_at) && !self.masked.load(Ordering::Acquire)
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
    entry: UserVirt,
    base: UserVirt,
    busy: SleepMutex,
    /// Thread inside the instance, plus one (0: none).
    owner: AtomicUsize,
    state: SpinLock<State>,
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

    /// The user addresses where MAP_ZI memory may go: [start, end).
    pub fn zi_area(&self) -> (u64, u64) {
        (self.base.get() + ZI_START, self.base.get() + ZI_END)
    }

    fn window(id: u32) -> UserVirt {
        UserVirt::new(USER_VA_BASE + (1 + (id % WINDOWS) as u64) * WINDOW)
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

/// All user-TA state of the OS.
pub struct UserTas {
    mmu: Option<&'static dyn UserMmu>,
    key: Option<TaKey>,
    /// The key encrypted TA images are decrypted with (from the hardware
    /// unique key and `key`).
    enc_key: Option<TaEncKey>,
    /// Live single-instance TAs (capacity: the instance limit, allocated
    /// up front).
    single: SpinLock<Vec<Arc<Instance>>>,
    /// Held while looking up or loading a TA, so a single-instance TA is
    /// loaded once.
    load_lock: SleepMutex,
    next_id: AtomicU32,
    /// TA persistent time offsets (seconds, against system time), by TA.
    ta_time: SpinLock<[Option<TaTime>; TA_TIMES]>,
    /// Instances alive (loaded and not yet freed), and the most there may be.
    live: AtomicU32,
    max_instances: u32,
    /// Parameter copies into TAs.
    pub(crate) params: Arc<ParamBudget>,

    /// Host tests and the host simulator: TAs "installed" without images
    /// (UUID, flags).
    #[cfg(any(test, feature = "fakes"))]
    pub(crate) fakes: SpinLock<Vec<(Uuid, u32)>>,
    /// Host simulator: memory mapped into every fake TA's space.
    #[cfg(any(test, feature = "fakes"))]
    pub(crate) fake_host: Option<fakes::HostMemory>,
}

impl UserTas {
    pub fn new(max_instances: usize, params: ParamBudget) -> UserTas {
        UserTas {
            mmu: None,
            key: None,
            enc_key: None,
            single: SpinLock::new(Vec::with_capacity(max_instances)),
            load_lock: SleepMutex::new(),
            next_id: AtomicU32::new(0),
            ta_time: SpinLock::new([None; TA_TIMES]),
            live: AtomicU32::new(0),
            max_instances: max_instances as u32,
            params: Arc::new(params),
            #[cfg(any(test, feature = "fakes"))]
            fakes: SpinLock::new(Vec::new()),
            #[cfg(any(test, feature = "fakes"))]
            fake_host: None,
        }
    }

    /// Enables loading: the MMU TAs run on and the key images must be
    /// signed with.
    pub fn enable(&mut self, mmu: &'static dyn UserMmu, key: TaKey) {
        self.mmu = Some(mmu);
        self.key = Some(key);
    }

    /// Derives the key of encrypted TA images from the hardware unique
    /// key (after [`UserTas::enable`], which gives the TA key it depends
    /// on; without one, encrypted images are refused).
    pub fn set_huk(&mut self, huk: &[u8]) {
        self.enc_key = self.key.as_ref().map(|k| TaEncKey::derive(huk, k));
    }

    pub fn live(&self) -> u32 {
        self.live.load(Ordering::Relaxed)
    }

    pub fn max_instances(&self) -> u32 {
        self.max_instances
    }

    /// Most CPUs that were in user mode at the same time.
    pub fn peak_running(&self) -> u32 {
        self.mmu.map(|m| m.peak_parallel()).unwrap_or(0)
    }

    pub fn asids_in_use(&self) -> u32 {
        self.mmu.map(|m| m.asids_in_use()).unwrap_or(0)
    }

    /// Sleeping locks of the TA machinery held right now (the load lock).
    pub fn locks_held(&self) -> usize {
        self.load_lock.is_locked() as usize
    }

    /// Takes an instance slot, if the limit allows.
    fn take_slot(&self) -> Option<InstanceSlot<'_>> {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.max_instances).then_some(n + 1))
            .ok()?;
        Some(InstanceSlot { user: self, taken: true })
    }
}

/// A counted place for an instance being loaded; given back unless the
/// instance is installed (which keeps it until `free_instance`).
struct InstanceSlot<'a> {
    user: &'a UserTas,
    taken: bool,
}

impl Drop for InstanceSlot<'_> {
    fn drop(&mut self) {
        if self.taken {
            self.user.live.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A session being opened: the instance it counts in. Dropped before the
/// session is committed (the open failed, or the call was aborted), the
/// count is given back and the instance released if nothing keeps it.
struct Opening<'a> {
    t: &'a ThreadCtx,
    inst: Option<Arc<Instance>>,
    counted: bool,
    /// The session, once built (it holds references to the instance).
    session: Option<Session>,
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        if let Some(inst) = self.inst.take()
            && self.counted
            && session_gone(&inst)
        {
            self.t.defer(Job::Release(inst));
        }
    }
}

/// A held `busy` lock of an instance (outside a `Visit`); dropped held, it
/// is released and the wake-up queued.
struct Busy<'a> {
    inst: Arc<Instance>,
    t: &'a ThreadCtx,
    held: bool,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if self.held {
            self.inst.busy.unlock_later(self.t);
        }
    }
}

/// A session of a dead instance being closed (`close_owned`). Dropped
/// before it is done (an abort), its target gets the session's count back
/// and the rest of the closing is queued.
struct Closing<'a> {
    t: &'a ThreadCtx,
    owner: u32,
    session: Option<Session>,
}

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            if let Target::User(target) = &s.target
                && session_gone(target)
            {
                self.t.defer(Job::Release(target.clone()));
            }
            self.t.defer(Job::CloseOwned(self.owner));
        }
    }
}

/// One session of `inst` ended: true if the instance is now to be freed.
fn session_gone(inst: &Instance) -> bool {
    let mut st = inst.state.lock();
    st.sessions = st.sessions.saturating_sub(1);
    if st.sessions > 0 || inst.keep_alive() || st.dead {
        return false;
    }
    st.free_pending = true;
    true
}

/// A call inside an instance: what it holds there. `leave` gives it all
/// back on the ordinary path; dropped unleft, the call was aborted inside
/// the instance (or bailed out early) and the instance is killed.
struct Visit<'a> {
    os: &'a Os,
    t: &'a ThreadCtx,
    inst: Arc<Instance>,
    busy: bool,
    nested: Option<Nested<'a>>,
    owner: bool,
    space: Option<UserSpace>,
    tpidr: u64,
}

impl Drop for Visit<'_> {
    fn drop(&mut self) {
        if let Some(space) = self.space.take() {
            // The TA's state is unknown: it dies with the call.
            warn!("TA {}: a call inside it was aborted; the instance is killed", self.inst.uuid);
            self.t.mark_killed_ta();
            self.os.mark_dead(&self.inst);
            drop(space);
            self.t.defer(Job::Release(self.inst.clone()));
        }
        if self.owner {
            self.inst.owner.store(0, Ordering::Release);
        }
        if self.busy {
            self.inst.busy.unlock_later(self.t);
        }
        self.nested = None;
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
        cancel: &AtomicBool,
        cancel_at: u64,
    ) -> Result<u32, (TeeResult, Origin)> {
        let t = rpc.t;
        let oom = Err((TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee));
        // The id first: a full session table refuses before any loading.
        crate::hold!(res = self.sessions.reserve(owner).map_err(|e| (e, Origin::Tee))?, in &t.ledger, or oom);
        self.fault_point(tp::FAULT_POINT_SESSION_RESERVED);
        crate::hold!(open = Opening { t, inst: None, counted: false, session: None }, in &t.ledger, or oom);
        // A single instance found just as it dies is replaced by a new one.
        let mut tries = 0;
        loop {
            let o = open.as_mut().get();
            self.find_or_load(rpc, uuid, &mut o.inst)?;
            let Some(inst) = o.inst.as_ref() else {
                return Err((TeeResult::ERROR_GENERIC, Origin::Tee));
            };
            let mut st = inst.state.lock();
            if st.dead {
                drop(st);
                o.inst = None;
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
            o.counted = true;
            break;
        }
        let o = open.as_mut().get();
        let Some(inst) = o.inst.as_ref() else {
            return Err((TeeResult::ERROR_GENERIC, Origin::Tee));
        };
        let session = o.session.insert(Session::new(Target::User(inst.clone()), client, login, owner));
        // The id is the TA's from now on, but nobody can invoke or close the
        // session before its open entry has accepted it.
        let r = res.as_mut().get();
        let caller = Caller { session: r.id(), login, client, cancel, masked: &session.cancel_masked, cancel_at };
        let (result, origin) = self.ta_call(rpc, inst, &caller, abi::UTEE_ENTRY_FUNC_OPEN_SESSION, 0, params);
        if result != TeeResult::SUCCESS {
            return Err((result, origin));
        }
        // The session now holds the instance's count.
        let Some(session) = o.session.take() else {
            return Err((TeeResult::ERROR_GENERIC, Origin::Tee));
        };
        o.counted = false;
        o.inst = None;
        Ok(r.commit(session))
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
        cancel: &AtomicBool,
        cancel_at: u64,
    ) -> (TeeResult, Origin) {
        let caller =
            Caller { session: id, login: s.login, client: s.client, cancel, masked: &s.cancel_masked, cancel_at };
        self.ta_call(rpc, inst, &caller, abi::UTEE_ENTRY_FUNC_INVOKE_COMMAND, cmd as u64, params)
    }

    /// Closes a user-TA session already removed from the session table.
    pub(crate) fn user_close(&self, rpc: &mut Rpc, id: u32, s: &Session, inst: &Arc<Instance>) {
        if !inst.is_dead() {
            let unused = AtomicBool::new(false);
            let caller = Caller {
                session: id,
                login: s.login,
                client: s.client,
                cancel: &unused,
                masked: &s.cancel_masked,
                cancel_at: u64::MAX,
            };
            let mut none = CallParam::none4();
            let _ = self.ta_call(rpc, inst, &caller, abi::UTEE_ENTRY_FUNC_CLOSE_SESSION, 0, &mut none);
        }
        if session_gone(inst) {
            self.release_instance(rpc, inst);
        }
    }

    /// Frees `inst` if it died or its last session went and nothing keeps
    /// it. A call still inside it (another session's) must finish first:
    /// from inside a TA we do not wait for it (that could deadlock with a
    /// TA on another thread); the call inside frees it when it leaves.
    pub(crate) fn release_instance(&self, rpc: &mut Rpc, inst: &Arc<Instance>) {
        let (dead, pending) = {
            let st = inst.state.lock();
            (st.dead && !st.freed, st.free_pending)
        };
        if dead {
            self.free_instance(rpc, inst);
            return;
        }
        if !pending {
            return;
        }
        let t = rpc.t;
        let me = t.id + 1;
        let nested = t.depth() > 0 || inst.owner.load(Ordering::Acquire) == me;
        crate::hold!(busy = Busy { inst: inst.clone(), t, held: false }, in &t.ledger);
        let locked = if nested { inst.busy.try_lock() } else { inst.busy.lock(rpc, &self.notif).is_ok() };
        if locked {
            busy.as_mut().get().held = true;
            self.free_if_pending(rpc, inst);
            busy.as_mut().get().held = false;
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
        let gone = {
            let mut single = self.user.single.lock();
            single.iter().position(|i| Arc::ptr_eq(i, inst)).map(|p| single.swap_remove(p))
        };
        // The list's reference is dropped outside its lock.
        drop(gone);
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
        if let Some(mut sp) = space {
            storage::close_all(self, rpc, &mut sp);
        }
        self.user.live.fetch_sub(1, Ordering::AcqRel);
        self.close_owned(rpc, inst.id);
    }

    /// Closes every session instance `owner` (dead) had opened. Each one
    /// is armed while it closes: if the call is aborted then, its target
    /// gets its count back and the rest of the work is queued.
    pub(crate) fn close_owned(&self, rpc: &mut Rpc, owner: u32) {
        let t = rpc.t;
        while let Some((id, s)) = self.sessions.take_owned_by(owner) {
            crate::hold!(closing = Closing { t, owner, session: Some(s) }, in &t.ledger);
            if let Some(s) = closing.as_mut().get().session.as_ref() {
                match &s.target {
                    Target::User(target) => self.user_close(rpc, id, s, target),
                    Target::Pta(p) => self.pta_close(rpc, *p, id, None),
                }
            }
            closing.as_mut().get().session = None;
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
        let t = rpc.t;
        let me = t.id + 1;
        // A TA calling back into itself (A -> B -> A) would wait forever.
        if inst.owner.load(Ordering::Acquire) == me {
            return (TeeResult::ERROR_BUSY, Origin::Tee);
        }
        let nested = t.depth() > 0;
        crate::hold!(
            visit = Visit { os: self, t, inst: inst.clone(), busy: false, nested: None, owner: false, space: None, tpidr: 0 },
            in &t.ledger,
            or (TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee)
        );
        let v = visit.as_mut().get();
        if nested {
            // A call from inside a TA does not wait for a busy instance: two
            // TAs calling each other from two threads would wait forever.
            if !inst.busy.try_lock() {
                return (TeeResult::ERROR_BUSY, Origin::Tee);
            }
        } else if let Err(e) = inst.busy.lock(rpc, &self.notif) {
            return (e, Origin::Tee);
        }
        v.busy = true;
        let Some(level) = t.nest(MAX_NESTING) else {
            debug!("TA {}: TA-to-TA calls nested too deep", inst.uuid);
            return (TeeResult::ERROR_BUSY, Origin::Tee);
        };
        v.nested = Some(level);
        inst.owner.store(me, Ordering::Release);
        v.owner = true;
        {
            let mut st = inst.state.lock();
            v.space = st.space.take();
            v.tpidr = st.tpidr;
        }
        let (result, killed) = match v.space.as_mut() {
            None => ((TeeResult::ERROR_TARGET_DEAD, Origin::Tee), false),
            Some(space) => {
                self.fault_point(tp::FAULT_POINT_INSTANCE);
                let mut regs = UserRegs { tpidr: v.tpidr, ..Default::default() };
                match self.run_entry(rpc, inst, space, caller, func, cmd, params, &mut regs) {
                    Ok(res) => {
                        v.tpidr = regs.tpidr;
                        (res, false)
                    }
                    Err(k) => {
                        crash_report(inst, space, &regs, &k);
                        ((TeeResult::ERROR_TARGET_DEAD, Origin::Tee), true)
                    }
                }
            }
        };
        // Leave the instance: its space goes back, or with the TA if it died.
        if let Some(space) = v.space.take() {
            if killed {
                // Its memory goes now; nobody may find it from now on.
                self.mark_dead(inst);
                drop(space);
            } else {
                let mut st = inst.state.lock();
                st.space = Some(space);
                st.tpidr = v.tpidr;
            }
        }
        inst.owner.store(0, Ordering::Release);
        v.owner = false;
        v.busy = false;
        let _ = inst.busy.unlock(rpc);
        // A session that closed while this call ran may have left the
        // instance for us to free.
        if !killed && inst.state.lock().free_pending && inst.busy.try_lock() {
            v.busy = true;
            self.free_if_pending(rpc, inst);
            v.busy = false;
            let _ = inst.busy.unlock(rpc);
        }
        if killed {
            // Still counted as nested: closing the sessions it held runs
            // other TAs' entries on this thread's stack.
            self.free_instance(rpc, inst);
        }
        v.nested = None;
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
        let mut mapped: [Option<Mapped>; 4] = [None; 4];
        let params_end = window.get() + PARAMS + PARAMS_SPAN;
        let mut va = window.add(PARAMS);
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
                    let Some(buf) = data.take() else { continue };
                    up.vals[2 * i + 1] = *size;
                    // As upstream, a TA may read and write all its memrefs.
                    let (r, len) = match buf {
                        PtaBuf::Secure(buf) => {
                            let len = buf.len();
                            if va.get().saturating_add(len) > params_end {
                                failed = Some(TeeResult::ERROR_OUT_OF_MEMORY);
                                *data = Some(PtaBuf::Secure(buf));
                                continue;
                            }
                            up.vals[2 * i] = va.get();
                            let r = space.add(buf, &[(0, va, len, UserPerm::ReadWrite)]);
                            if let Ok(idx) = r {
                                space.mark_shared(idx);
                            }
                            (r.map(Mapped::Sec), len)
                        }
                        PtaBuf::Ns(pages) => {
                            let len = (pages.first_offset() + pages.size()).next_multiple_of(PAGE_SIZE as u64);
                            if va.get().saturating_add(len) > params_end {
                                failed = Some(TeeResult::ERROR_OUT_OF_MEMORY);
                                *data = Some(PtaBuf::Ns(pages));
                                continue;
                            }
                            let kept = pages.clone();
                            match space.add_ns(self.mem, pages, va, UserPerm::ReadWrite) {
                                Ok((idx, at, _)) => {
                                    up.vals[2 * i] = at.get();
                                    (Ok(Mapped::Ns(idx)), len)
                                }
                                Err(e) => {
                                    *data = Some(PtaBuf::Ns(kept));
                                    (Err(e), len)
                                }
                            }
                        }
                    };
                    match r {
                        Ok(m) => mapped[i] = Some(m),
                        Err(e) => failed = Some(e),
                    }
                    // A guard page between buffers.
                    va = va.add(len + PAGE_SIZE as u64);
                }
            }
        }
        // The TA does not run if its parameters could not be mapped.
        let result = match failed {
            Some(e) => Ok((e, Origin::Tee)),
            None => self.enter(rpc, inst, space, caller, func, cmd, &up, regs).map(|r| (r, Origin::TrustedApp)),
        };
        // Read back what the TA reported, then return the buffers.
        let up_va = window.add(STACK_TOP - 80);
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
                    match mapped[i] {
                        Some(Mapped::Sec(idx)) => *data = space.remove(idx).map(PtaBuf::Secure),
                        Some(Mapped::Ns(idx)) => *data = space.remove_ns(idx).map(PtaBuf::Ns),
                        None => {}
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
        let up_va = Instance::window(inst.id).add(STACK_TOP - 80);
        if space.write(up_va, up.as_bytes()).is_err() {
            return Err(Killed::Syscall("stack not writable"));
        }
        if space.tables().is_none() {
            return Err(Killed::Syscall("no address space"));
        }
        let tpidr = regs.tpidr;
        *regs = UserRegs { tpidr, sp: up_va.get(), pc: inst.entry.get(), ..Default::default() };
        (regs.x[0], regs.x[1], regs.x[2], regs.x[3]) = (func, caller.session as u64, up_va.get(), cmd);
        loop {
            let Some(tables) = space.tables() else {
                return Err(Killed::Syscall("no address space"));
            };
            match rpc.env.enter_user(tables, regs) {
                crate::env::UserExit::Syscall => {
                    let flow = self.syscall(rpc, inst, space, caller, regs);
                    // What the syscall left to do (a session it closed, a
                    // lock it released) is done before the TA goes on.
                    self.run_jobs(rpc);
                    match flow {
                        Flow::Continue(v) => regs.x[0] = v,
                        Flow::Return(res) => return Ok(TeeResult(res)),
                        Flow::Kill(k) => return Err(k),
                    }
                }
                crate::env::UserExit::Fault { esr, far } => return Err(Killed::Fault { esr, far }),
            }
        }
    }

    /// Finds the live single instance of `uuid`, or loads a new instance,
    /// into `out` (a slot in an armed frame of the caller's).
    fn find_or_load(
        &self,
        rpc: &mut Rpc,
        uuid: Uuid,
        out: &mut Option<Arc<Instance>>,
    ) -> Result<(), (TeeResult, Origin)> {
        let t = rpc.t;
        let oom = Err((TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee));
        crate::hold!(guard = None, in &t.ledger, or oom);
        let g = guard.as_mut().get();
        *g = Some(crate::sync::SleepGuard::lock(&self.user.load_lock, rpc, &self.notif).map_err(|e| (e, Origin::Tee))?);
        let found = {
            let single = self.user.single.lock();
            single.iter().find(|i| i.uuid == uuid && !i.state.lock().dead).cloned()
        };
        let r = match found {
            Some(i) => {
                *out = Some(i);
                Ok(())
            }
            None => self.load(rpc, uuid, out).map_err(|e| (e, Origin::Tee)),
        };
        if let Some(mut l) = g.take() {
            let _ = l.unlock(rpc);
        }
        r
    }

    /// Loads a new instance of `uuid` (from secure storage, else through
    /// the supplicant) into `out`.
    fn load(&self, rpc: &mut Rpc, uuid: Uuid, out: &mut Option<Arc<Instance>>) -> Result<(), TeeResult> {
        let t = rpc.t;
        let oom = Err(TeeResult::ERROR_OUT_OF_MEMORY);
        let Some(slot) = self.user.take_slot() else {
            warn!("TA {uuid}: not loaded, {} instances are alive (the limit)", self.user.max_instances);
            return oom;
        };
        crate::hold!(slot = slot, in &t.ledger, or oom);
        let id = self.user.next_id.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let window = Instance::window(id);
        #[cfg(any(test, feature = "fakes"))]
        if let Some(loaded) = fakes::fake_load(&self.user, uuid, window, window.add(STACK_TOP)) {
            *out = Some(self.install(id, uuid, &mut Some(loaded?))?);
            slot.as_mut().get().taken = false;
            return Ok(());
        }
        let (Some(mmu), Some(key)) = (self.user.mmu, self.user.key.as_ref()) else {
            return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
        };
        crate::hold!(image = Vec::new(), in &t.ledger, or oom);
        load::fetch_any(self, rpc, uuid, image.as_mut().get())?;
        self.fault_point(tp::FAULT_POINT_TA_LOAD);
        crate::hold!(loaded = None, in &t.ledger, or oom);
        let (stack_top, ledger) = (window.add(STACK_TOP), &t.ledger);
        let keys = load::Keys { ta: key, enc: self.user.enc_key.as_ref() };
        load::build(
            self,
            rpc,
            image.as_mut().get(),
            &keys,
            uuid,
            mmu,
            window,
            stack_top,
            ledger,
            loaded.as_mut().get(),
        )?;
        *image.as_mut().get() = Vec::new();
        if let Some(l) = loaded.as_mut().get().as_mut() {
            // Subkeys first, as upstream: a rolled-back subkey is a
            // forgery (SECURITY), a rolled-back TA a conflict.
            for sk in core::mem::take(&mut l.subkeys) {
                storage::check_subkey_version(self, rpc, sk.uuid, sk.version)?;
            }
        }
        if let Some(version) = loaded.as_mut().get().as_ref().and_then(|l| l.ta_version) {
            storage::check_ta_version(self, rpc, uuid, version)?;
        }
        *out = Some(self.install(id, uuid, loaded.as_mut().get())?);
        slot.as_mut().get().taken = false;
        Ok(())
    }

    /// Makes the instance for what `loaded` (an armed cell) holds: the
    /// instance is allocated first, then the address space moves into it.
    fn install(&self, id: u32, uuid: Uuid, loaded: &mut Option<load::Loaded>) -> Result<Arc<Instance>, TeeResult> {
        let window = Instance::window(id);
        let Some(l) = loaded.as_ref() else {
            return Err(TeeResult::ERROR_GENERIC);
        };
        let inst = Arc::new(Instance {
            id,
            uuid,
            flags: l.head.flags,
            stack_size: l.head.stack_size,
            entry: l.entry,
            base: window,
            busy: SleepMutex::new(),
            owner: AtomicUsize::new(0),
            state: SpinLock::new(State {
                space: None,
                dead: false,
                freed: false,
                free_pending: false,
                sessions: 0,
                tpidr: 0,
            }),
        });
        let Some(loaded) = loaded.take() else {
            return Err(TeeResult::ERROR_GENERIC);
        };
        let footprint = loaded.footprint;
        inst.state.lock().space = Some(loaded.space);
        debug!(
            "TA {uuid} loaded at {:#x}: flags {:#x}, stack {} KiB, {} KiB in all",
            inst.base,
            inst.flags,
            inst.stack_size / 1024,
            footprint / 1024
        );
        if inst.single() {
            let mut single = self.user.single.lock();
            // Capacity is the instance limit, and every instance took a slot.
            if single.len() < single.capacity() {
                single.push(inst.clone());
            }
        }
        Ok(inst)
    }
}

/// Logs why `inst` is being killed, with its registers, where its images
/// lie and its call stack (`crate::crash`; the format is in
/// docs/debugging.md). Reads only the TA's own stack, through the checked
/// user-memory accessors.
fn crash_report(inst: &Instance, space: &UserSpace, regs: &UserRegs, k: &Killed) {
    let stack_top = Instance::window(inst.id).get() + STACK_TOP;
    let stack_len = (inst.stack_size as u64).div_ceil(PAGE_SIZE as u64) * PAGE_SIZE as u64;
    let stack = crate::crash::Stack { bottom: stack_top.saturating_sub(stack_len), top: stack_top };
    let (esr, far) = match *k {
        Killed::Fault { esr, far } => (esr, far),
        _ => (regs.esr, regs.far),
    };
    let reason = match *k {
        Killed::Panic(code) => crate::crash::Reason::Panic { code },
        Killed::Fault { esr, far } => crate::crash::Reason::of_fault(esr, far, regs.sp, Some(stack)),
        Killed::Syscall(why) => {
            warn!("TA {} killed: {why}", inst.uuid);
            return;
        }
    };
    warn!("TA {} killed: {reason}", inst.uuid);
    static REPORTS: crate::crash::Limiter = crate::crash::Limiter::new();
    let (full, nth) = REPORTS.next();
    if !full {
        warn!(
            "TA crash: pc {:#x}; full report left out (TA crash {nth}: the first {} and every {}th are full)",
            regs.pc,
            crate::crash::FULL_FIRST,
            crate::crash::FULL_EVERY
        );
        return;
    }
    let mut names: [Option<Uuid>; crate::ta::dl::MAX_OBJECTS] = [None; crate::ta::dl::MAX_OBJECTS];
    let mut spans = [(0u64, 0u64); crate::ta::dl::MAX_OBJECTS];
    let mut n = 0;
    for m in space.dl.modules.iter().take(crate::ta::dl::MAX_OBJECTS) {
        names[n] = Some(m.uuid);
        spans[n] = (m.base, m.span);
        n += 1;
    }
    if n == 0 {
        // Not linked yet (or a host-test fake): the main image at its base.
        names[0] = Some(inst.uuid);
        spans[0] = (inst.base.get(), 0);
        n = 1;
    }
    let mut images: [crate::crash::Image<'_>; crate::ta::dl::MAX_OBJECTS] =
        core::array::from_fn(|_| crate::crash::Image { name: &"?", base: 0, span: 0 });
    for (i, img) in images.iter_mut().enumerate().take(n) {
        if let Some(u) = names[i].as_ref() {
            *img = crate::crash::Image { name: u, base: spans[i].0, span: spans[i].1 };
        }
    }
    let r = crate::crash::Regs::all(&regs.x, regs.sp, regs.pc, regs.pstate, esr, far);
    let mut read = |va: u64| {
        let mut b = [0u8; 8];
        space.read(UserVirt::new(va), &mut b).ok().map(|()| u64::from_le_bytes(b))
    };
    crate::crash::report("TA crash:", &r, &images[..n], Some(stack), &mut read, &mut |a| warn!("{a}"));
}
