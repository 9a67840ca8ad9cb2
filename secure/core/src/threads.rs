//! Trusted threads as the logic sees them: which are free, running a call,
//! or suspended in the normal world (RPC or foreign interrupt), and each
//! thread's call context: the ledger of what its call holds (which the
//! abort path unwinds), work deferred to the end of the call, the call's
//! cancel flag and its TA-to-TA nesting depth. The OS owns the stacks and
//! register state; this decides who may run.

use crate::rpc::RpcArg;
use crate::shm::Pages;
use crate::user::Instance;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicUsize, Ordering};
use log::error;
use oxtee_abi::msg::MsgArgHeader;
use oxtee_guard::{Ledger, SpinLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    Free,
    Running,
    /// Waiting for RETURN_FROM_RPC.
    Suspended,
}

/// Work a thread owes the normal world or other threads once it can do
/// RPCs again: queued by destructors (which cannot), run before the
/// thread's next RPC (wake-ups) or when its call ends or is aborted.
pub(crate) enum Job {
    /// NOTIFICATION SEND: a sleeper was handed a lock or a condition.
    Wake(u32),
    /// OPTEE_RPC_CMD_SHM_FREE of shared memory the call allocated.
    ShmFree { kind: u32, cookie: u64 },
    /// An instance lost a session or died: free it unless something keeps it.
    Release(Arc<Instance>),
    /// Close the sessions dead instance `id` had opened (what an aborted
    /// `free_instance` did not get to).
    CloseOwned(u32),
}

/// Jobs one thread can owe at once: wake-ups for the sleeping locks it
/// holds (a few per TA nesting level), its RPC buffer, TA-load memory and
/// instances to release.
const JOBS: usize = 64;

/// Where a call's answer goes, kept outside the call's stack so an aborted
/// call can still be answered.
pub(crate) struct Reply {
    pub arg: Pages,
    pub hdr: MsgArgHeader,
    /// Registered buffer holding the argument (CALL_WITH_REGD_ARG): a use
    /// of it is held until the answer is written.
    pub held: Option<u64>,
}

pub struct ThreadCtx {
    pub id: usize,
    /// Everything the running call holds, for the abort path.
    pub ledger: Ledger,
    jobs: SpinLock<[Option<Job>; JOBS]>,
    /// Jobs queued (the common case, none, is then answered without a lock).
    queued: AtomicUsize,
    /// The normal-world session whose call runs here (CANCEL finds it).
    session: AtomicU32,
    running: AtomicBool,
    /// Cancel flag of the running call (TA-to-TA calls share it).
    pub cancel: AtomicBool,
    /// TA calls this thread is inside right now.
    depth: AtomicU8,
    /// An abort of the call killed a user TA it was inside (the call is
    /// then answered TARGET_DEAD).
    killed_ta: AtomicBool,
    pub(crate) reply: SpinLock<Option<Reply>>,
    /// The call's RPC argument buffer (see `rpc`).
    pub(crate) rpc_arg: SpinLock<Option<RpcArg>>,
    /// Shared memory for file payloads (names and data of the storage
    /// RPCs), kept for the rest of the call and given back when it ends.
    pub(crate) payload: SpinLock<Option<crate::rpc::Payload>>,
    /// The call changed the REE store (its generation is anchored when
    /// the call ends).
    pub(crate) storage_dirty: AtomicBool,
    /// The call's answer is written (an abort after that still says OK).
    pub(crate) answered: AtomicBool,
}

impl ThreadCtx {
    fn new(id: usize) -> Self {
        ThreadCtx {
            id,
            ledger: Ledger::new(),
            jobs: SpinLock::new([const { None }; JOBS]),
            queued: AtomicUsize::new(0),
            session: AtomicU32::new(0),
            running: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
            depth: AtomicU8::new(0),
            killed_ta: AtomicBool::new(false),
            reply: SpinLock::new(None),
            rpc_arg: SpinLock::new(None),
            payload: SpinLock::new(None),
            storage_dirty: AtomicBool::new(false),
            answered: AtomicBool::new(false),
        }
    }

    /// Queues `job`; false (and logged) if the queue is full.
    pub(crate) fn defer(&self, job: Job) -> bool {
        let mut jobs = self.jobs.lock();
        match jobs.iter_mut().find(|j| j.is_none()) {
            Some(slot) => {
                *slot = Some(job);
                self.queued.fetch_add(1, Ordering::AcqRel);
                true
            }
            None => {
                drop(jobs);
                error!("thread {}: deferred-work queue full; a release is lost", self.id);
                false
            }
        }
    }

    /// The oldest queued job (only wake-ups if `wakes_only`).
    pub(crate) fn next_job(&self, wakes_only: bool) -> Option<Job> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut jobs = self.jobs.lock();
        let slot = jobs.iter_mut().find(|j| match j {
            Some(Job::Wake(_)) => true,
            Some(_) => !wakes_only,
            None => false,
        })?;
        let job = slot.take();
        self.queued.fetch_sub(1, Ordering::AcqRel);
        job
    }

    pub fn jobs_queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    pub fn depth(&self) -> u8 {
        self.depth.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_killed_ta(&self) {
        self.killed_ta.store(true, Ordering::Relaxed);
    }

    pub(crate) fn killed_ta(&self) -> bool {
        self.killed_ta.load(Ordering::Relaxed)
    }

    /// A new call starts on this thread. (Jobs an abandoned call left
    /// queued are run at the end of this one.)
    pub(crate) fn begin(&self) {
        if !self.ledger.is_empty() || self.depth() != 0 || self.running.load(Ordering::Relaxed) {
            error!("thread {}: a new call finds state of the last one left behind", self.id);
        }
        self.killed_ta.store(false, Ordering::Relaxed);
        self.answered.store(false, Ordering::Relaxed);
    }

    /// Gives up on the call on this thread without running anything it
    /// armed (a second fault while its abort was being finished: its
    /// stack can no longer be trusted). What its frames held leaks; the
    /// thread's own state is reset so it can serve again. Returns the
    /// registered buffer whose use the call's argument held, for the caller
    /// to give back, and how many armed entries were forgotten.
    pub fn abandon(&self) -> (Option<u64>, usize) {
        let forgotten = self.ledger.forget_all();
        self.depth.store(0, Ordering::Relaxed);
        self.running.store(false, Ordering::Release);
        let held = self.reply.lock().take().and_then(|r| r.held);
        // The RPC buffer stays with the thread (the next call uses it);
        // queued jobs stay too and run at the end of the next call.
        (held, forgotten)
    }

    /// Enters a TA call (nesting); None past `max`.
    pub(crate) fn nest(&self, max: u8) -> Option<Nested<'_>> {
        let d = self.depth.load(Ordering::Relaxed);
        if d >= max {
            return None;
        }
        self.depth.store(d + 1, Ordering::Relaxed);
        Some(Nested(self))
    }

    /// Registers the normal-world call on `session` as running here, for
    /// CANCEL; its flag starts clear.
    pub(crate) fn start_call(&self, session: u32) -> RunningCall<'_> {
        self.cancel.store(false, Ordering::Release);
        self.session.store(session, Ordering::Release);
        self.running.store(true, Ordering::Release);
        RunningCall(self)
    }

    fn is_running(&self, session: u32) -> bool {
        self.running.load(Ordering::Acquire) && self.session.load(Ordering::Acquire) == session
    }
}

/// One level of TA-to-TA nesting; dropping it leaves the level.
pub(crate) struct Nested<'a>(&'a ThreadCtx);

impl Drop for Nested<'_> {
    fn drop(&mut self) {
        self.0.depth.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A normal-world call registered for CANCEL; dropping it unregisters.
pub(crate) struct RunningCall<'a>(&'a ThreadCtx);

impl RunningCall<'_> {
    #[cfg(test)]
    pub fn flag(&self) -> &AtomicBool {
        &self.0.cancel
    }
}

impl Drop for RunningCall<'_> {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
    }
}

pub struct ThreadTable {
    states: SpinLock<Vec<ThreadState>>,
    ctx: Vec<ThreadCtx>,
}

impl ThreadTable {
    pub fn new(count: usize) -> Self {
        ThreadTable {
            states: SpinLock::new(alloc::vec![ThreadState::Free; count]),
            ctx: (0..count).map(ThreadCtx::new).collect(),
        }
    }

    pub fn count(&self) -> usize {
        self.ctx.len()
    }

    /// The call context of thread `id` (a thread the OS runs: in range).
    pub fn ctx(&self, id: usize) -> &ThreadCtx {
        &self.ctx[id]
    }

    /// Claims a free thread for a new yielding call.
    pub fn claim(&self) -> Option<usize> {
        let mut s = self.states.lock();
        let id = s.iter().position(|t| *t == ThreadState::Free)?;
        s[id] = ThreadState::Running;
        Some(id)
    }

    /// The running thread leaves for the normal world.
    pub fn suspend(&self, id: usize) {
        let mut s = self.states.lock();
        debug_assert_eq!(s[id], ThreadState::Running);
        s[id] = ThreadState::Suspended;
    }

    /// RETURN_FROM_RPC names thread `id` (from the normal world: hostile).
    /// Only a suspended thread may be resumed, and only once.
    pub fn resume(&self, id: u64) -> Option<usize> {
        let mut s = self.states.lock();
        let i = usize::try_from(id).ok().filter(|&i| i < s.len())?;
        if s[i] != ThreadState::Suspended {
            return None;
        }
        s[i] = ThreadState::Running;
        Some(i)
    }

    pub fn release(&self, id: usize) {
        self.states.lock()[id] = ThreadState::Free;
    }

    pub fn busy(&self) -> usize {
        self.states.lock().iter().filter(|t| **t != ThreadState::Free).count()
    }

    pub fn state(&self, id: usize) -> Option<ThreadState> {
        self.states.lock().get(id).copied()
    }

    /// Flags every running normal-world call on `session`; how many.
    pub fn cancel(&self, session: u32) -> usize {
        let mut n = 0;
        for c in self.ctx.iter().filter(|c| c.is_running(session)) {
            c.cancel.store(true, Ordering::Release);
            n += 1;
        }
        n
    }

    /// Normal-world calls running (registered for CANCEL).
    pub fn running_calls(&self) -> usize {
        self.ctx.iter().filter(|c| c.running.load(Ordering::Acquire)).count()
    }

    /// Ledger entries armed, jobs queued and TA nesting levels, over all
    /// threads (all 0 when no call runs).
    pub fn held(&self) -> (usize, usize, usize) {
        self.ctx
            .iter()
            .fold((0, 0, 0), |(a, j, d), c| (a + c.ledger.armed(), j + c.jobs_queued(), d + c.depth() as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_and_hostile_resumes() {
        let t = ThreadTable::new(2);
        let a = t.claim().unwrap();
        let b = t.claim().unwrap();
        assert_ne!(a, b);
        assert_eq!(t.claim(), None, "pool exhausted -> ETHREAD_LIMIT");
        assert_eq!(t.resume(a as u64), None, "running threads cannot be resumed");
        t.suspend(a);
        assert_eq!(t.resume(99), None);
        assert_eq!(t.resume(u64::MAX), None);
        assert_eq!(t.resume(a as u64), Some(a));
        assert_eq!(t.resume(a as u64), None, "a resume is consumed");
        t.release(a);
        t.release(b);
        assert_eq!(t.busy(), 0);
    }

    #[test]
    fn cancel_reaches_running_calls_of_the_session_only() {
        let t = ThreadTable::new(3);
        let r0 = t.ctx(0).start_call(7);
        let r1 = t.ctx(1).start_call(8);
        assert_eq!(t.running_calls(), 2);
        assert_eq!(t.cancel(7), 1);
        assert!(r0.flag().load(Ordering::Acquire));
        assert!(!r1.flag().load(Ordering::Acquire));
        drop(r0);
        assert_eq!(t.cancel(7), 0, "a finished call is not cancelled");
        drop(r1);
        assert_eq!(t.running_calls(), 0);
    }

    #[test]
    fn nesting_is_bounded_and_given_back() {
        let t = ThreadTable::new(1);
        let c = t.ctx(0);
        let a = c.nest(2).unwrap();
        let b = c.nest(2).unwrap();
        assert!(c.nest(2).is_none());
        drop(b);
        drop(a);
        assert_eq!(c.depth(), 0);
    }

    #[test]
    fn jobs_queue_in_order_and_wakes_come_first_on_request() {
        let t = ThreadTable::new(1);
        let c = t.ctx(0);
        assert!(c.defer(Job::ShmFree { kind: 1, cookie: 2 }));
        assert!(c.defer(Job::Wake(5)));
        assert!(matches!(c.next_job(true), Some(Job::Wake(5))));
        assert!(c.next_job(true).is_none());
        assert!(matches!(c.next_job(false), Some(Job::ShmFree { cookie: 2, .. })));
        for i in 0..JOBS as u32 {
            assert!(c.defer(Job::Wake(i)));
        }
        assert!(!c.defer(Job::Wake(99)), "a full queue refuses");
        while c.next_job(false).is_some() {}
        assert_eq!(c.jobs_queued(), 0);
    }
}
