//! Sleeping locks for trusted threads. A thread that must wait does not
//! spin: it parks in the normal world with a NOTIFICATION WAIT RPC on a
//! key, and whoever releases the lock sends NOTIFICATION SEND for that key,
//! as OP-TEE does. The normal world remembers a SEND that arrives before
//! its WAIT, so no wake-up is lost.
//!
//! A lock held by a call that is aborted is released by the abort path
//! (its holder's guard is in the thread's ledger), and so is a place in a
//! lock's queue; the wake-up the release owes is deferred to the thread's
//! job queue, because destructors cannot make RPCs.

use crate::rpc::Rpc;
use crate::threads::{Job, ThreadCtx};
use oxtee_abi::tee::TeeResult;
use oxtee_guard::SpinLock;

/// Largest notification key the Linux driver accepts without ASYNC_NOTIF
/// (with it, the OS announces MAX_KEY + 1 as its highest value).
pub const MAX_KEY: u32 = 255;
/// First key: those below are asynchronous notification values
/// (`async_notif::VALUE_MAX`), which wake the same normal-world waiters.
pub const FIRST_KEY: u32 = crate::async_notif::VALUE_MAX + 1;

/// Allocator of notification keys (FIRST_KEY..=MAX_KEY).
pub struct NotifKeys {
    used: SpinLock<[u64; 4]>,
}

impl Default for NotifKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl NotifKeys {
    pub const fn new() -> Self {
        NotifKeys { used: SpinLock::new([u64::MAX, 0, 0, 0]) }
    }

    pub fn alloc(&self) -> Option<u32> {
        let mut u = self.used.lock();
        for key in FIRST_KEY..=MAX_KEY {
            let (w, b) = ((key / 64) as usize, key % 64);
            if u[w] & (1 << b) == 0 {
                u[w] |= 1 << b;
                return Some(key);
            }
        }
        None
    }

    pub fn free(&self, key: u32) {
        if (FIRST_KEY..=MAX_KEY).contains(&key) {
            self.used.lock()[(key / 64) as usize] &= !(1 << (key % 64));
        }
    }

    pub fn in_use(&self) -> u32 {
        self.used.lock().iter().map(|w| w.count_ones()).sum::<u32>() - FIRST_KEY
    }
}

/// Most threads that can wait for one lock (more than the OS ever has).
const MAX_WAITERS: usize = 64;

/// FIFO of sleepers' keys, without allocation.
struct Waiters {
    keys: [u32; MAX_WAITERS],
    head: usize,
    len: usize,
}

impl Waiters {
    const fn new() -> Self {
        Waiters { keys: [0; MAX_WAITERS], head: 0, len: 0 }
    }

    fn push(&mut self, key: u32) -> bool {
        if self.len == MAX_WAITERS {
            return false;
        }
        self.keys[(self.head + self.len) % MAX_WAITERS] = key;
        self.len += 1;
        true
    }

    fn pop(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let k = self.keys[self.head];
        self.head = (self.head + 1) % MAX_WAITERS;
        self.len -= 1;
        Some(k)
    }

    fn contains(&self, key: u32) -> bool {
        (0..self.len).any(|i| self.keys[(self.head + i) % MAX_WAITERS] == key)
    }

    /// Takes `key` out of the queue; false if it was not there.
    fn remove(&mut self, key: u32) -> bool {
        let Some(pos) = (0..self.len).find(|i| self.keys[(self.head + i) % MAX_WAITERS] == key) else {
            return false;
        };
        for i in pos..self.len - 1 {
            self.keys[(self.head + i) % MAX_WAITERS] = self.keys[(self.head + i + 1) % MAX_WAITERS];
        }
        self.len -= 1;
        true
    }
}

struct State {
    locked: bool,
    waiters: Waiters,
}

/// A mutex whose contended waits sleep in the normal world.
pub struct SleepMutex {
    state: SpinLock<State>,
}

impl Default for SleepMutex {
    fn default() -> Self {
        Self::new()
    }
}

/// A place in a mutex's queue while its thread sleeps in the normal world.
/// If the call is aborted there, the place is given up (and a wake-up that
/// already picked it is passed on).
struct Ticket<'a> {
    mutex: &'a SleepMutex,
    keys: &'a crate::sync::NotifKeys,
    t: &'a ThreadCtx,
    key: u32,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.key == 0 {
            return; // woken normally: nothing to give up
        }
        // Leave the queue before giving the key back. If an unlock already
        // picked us, its wake-up is passed on, or the next waiter would
        // sleep on with the mutex free.
        let next = {
            let mut s = self.mutex.state.lock();
            let picked = !s.waiters.remove(self.key) && !s.locked;
            if picked { s.waiters.pop() } else { None }
        };
        self.keys.free(self.key);
        if let Some(k) = next {
            self.t.defer(Job::Wake(k));
        }
    }
}

impl SleepMutex {
    pub const fn new() -> Self {
        SleepMutex { state: SpinLock::new(State { locked: false, waiters: Waiters::new() }) }
    }

    /// Takes the mutex; returns how many times this thread slept for it.
    /// The caller must release it (`unlock`, or `unlock_later` from a
    /// destructor) and should hold it through a guard in its ledger.
    pub fn lock(&self, rpc: &mut Rpc, keys: &NotifKeys) -> Result<u32, TeeResult> {
        let mut sleeps = 0;
        loop {
            let key = {
                let mut s = self.state.lock();
                if !s.locked {
                    s.locked = true;
                    return Ok(sleeps);
                }
                let key = keys.alloc().ok_or(TeeResult::ERROR_BUSY)?;
                if !s.waiters.push(key) {
                    drop(s);
                    keys.free(key);
                    return Err(TeeResult::ERROR_BUSY);
                }
                key
            };
            self.sleep(rpc, keys, key)?;
            sleeps += 1;
        }
    }

    /// Sleeps on `key` (queued) until an unlock picks it.
    fn sleep(&self, rpc: &mut Rpc, keys: &NotifKeys, key: u32) -> Result<(), TeeResult> {
        let t = rpc.t;
        // A full ledger: give the place up at once (the ticket's drop).
        crate::hold!(
            ticket = Ticket { mutex: self, keys, t, key },
            in &t.ledger,
            or Err(TeeResult::ERROR_OUT_OF_MEMORY)
        );
        loop {
            rpc.notif_wait(key)?;
            // The unlock that picked us took us off the queue; a wake-up
            // still queued is a stale one (a SEND that was passed on after
            // an error): sleep on.
            let picked = !self.state.lock().waiters.contains(key);
            if picked {
                break;
            }
        }
        ticket.as_mut().get().key = 0;
        keys.free(key);
        Ok(())
    }

    /// Takes the mutex if it is free; never sleeps.
    pub fn try_lock(&self) -> bool {
        let mut s = self.state.lock();
        if s.locked {
            return false;
        }
        s.locked = true;
        true
    }

    /// Releases the mutex and wakes the next sleeper now.
    pub fn unlock(&self, rpc: &mut Rpc) -> Result<(), TeeResult> {
        match self.release() {
            Some(key) => rpc.notif_send(key),
            None => Ok(()),
        }
    }

    /// Releases the mutex from a destructor: the wake-up is queued on `t`
    /// and sent before its next RPC or when its call ends.
    pub(crate) fn unlock_later(&self, t: &ThreadCtx) {
        if let Some(key) = self.release() {
            t.defer(Job::Wake(key));
        }
    }

    fn release(&self) -> Option<u32> {
        let mut s = self.state.lock();
        s.locked = false;
        s.waiters.pop()
    }

    pub fn is_locked(&self) -> bool {
        self.state.lock().locked
    }
}

/// A held `SleepMutex`; dropping it releases the mutex (the wake-up is
/// deferred to the thread's job queue).
pub(crate) struct SleepGuard<'a> {
    mutex: &'a SleepMutex,
    t: &'a ThreadCtx,
    held: bool,
}

impl<'a> SleepGuard<'a> {
    /// Takes `mutex` for the call on `rpc`'s thread.
    pub fn lock<'r: 'a>(
        mutex: &'a SleepMutex,
        rpc: &mut Rpc<'r>,
        keys: &NotifKeys,
    ) -> Result<SleepGuard<'a>, TeeResult> {
        mutex.lock(rpc, keys)?;
        Ok(SleepGuard { mutex, t: rpc.t, held: true })
    }

    /// The guard of a mutex this thread has just taken with `lock`.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn held(mutex: &'a SleepMutex, t: &'a ThreadCtx) -> SleepGuard<'a> {
        SleepGuard { mutex, t, held: true }
    }

    /// Releases it now, waking the next sleeper.
    pub fn unlock(&mut self, rpc: &mut Rpc) -> Result<(), TeeResult> {
        if core::mem::replace(&mut self.held, false) { self.mutex.unlock(rpc) } else { Ok(()) }
    }
}

impl Drop for SleepGuard<'_> {
    fn drop(&mut self) {
        if self.held {
            self.mutex.unlock_later(self.t);
        }
    }
}
