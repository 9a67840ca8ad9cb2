//! Sleeping synchronisation for trusted threads. A thread that must wait
//! does not spin: it parks in the normal world with a NOTIFICATION WAIT RPC
//! on a key, and whoever releases it sends NOTIFICATION SEND for that key,
//! as OP-TEE does. The normal world remembers a SEND that arrives before
//! its WAIT, so no wake-up is lost.

use crate::rpc::Rpc;
use alloc::collections::VecDeque;
use oxtee_abi::tee::TeeResult;

/// Largest notification key the Linux driver accepts without ASYNC_NOTIF.
pub const MAX_KEY: u32 = 255;

/// Allocator of notification keys (1..=MAX_KEY).
pub struct NotifKeys {
    used: spin::Mutex<[u64; 4]>,
}

impl Default for NotifKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl NotifKeys {
    pub const fn new() -> Self {
        NotifKeys { used: spin::Mutex::new([1, 0, 0, 0]) }
    }

    pub fn alloc(&self) -> Option<u32> {
        let mut u = self.used.lock();
        for key in 1..=MAX_KEY {
            let (w, b) = ((key / 64) as usize, key % 64);
            if u[w] & (1 << b) == 0 {
                u[w] |= 1 << b;
                return Some(key);
            }
        }
        None
    }

    pub fn free(&self, key: u32) {
        if (1..=MAX_KEY).contains(&key) {
            self.used.lock()[(key / 64) as usize] &= !(1 << (key % 64));
        }
    }

    pub fn in_use(&self) -> u32 {
        self.used.lock().iter().map(|w| w.count_ones()).sum::<u32>() - 1
    }
}

struct State {
    locked: bool,
    waiters: VecDeque<u32>,
}

/// A mutex whose contended waits sleep in the normal world.
pub struct SleepMutex {
    state: spin::Mutex<State>,
}

impl Default for SleepMutex {
    fn default() -> Self {
        Self::new()
    }
}

impl SleepMutex {
    pub const fn new() -> Self {
        SleepMutex { state: spin::Mutex::new(State { locked: false, waiters: VecDeque::new() }) }
    }

    /// Takes the mutex; returns how many times this thread slept for it.
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
                s.waiters.push_back(key);
                key
            };
            let r = rpc.notif_wait(key);
            if let Err(e) = r {
                // Leave the queue before giving the key back. If an unlock
                // already picked us, its wake-up is passed on, or the next
                // waiter would sleep on with the mutex free.
                let picked = {
                    let mut s = self.state.lock();
                    let before = s.waiters.len();
                    s.waiters.retain(|k| *k != key);
                    s.waiters.len() == before && !s.locked
                };
                keys.free(key);
                if picked {
                    let next = self.state.lock().waiters.pop_front();
                    if let Some(k) = next {
                        let _ = rpc.notif_send(k);
                    }
                }
                return Err(e);
            }
            keys.free(key);
            sleeps += 1;
        }
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

    pub fn unlock(&self, rpc: &mut Rpc) -> Result<(), TeeResult> {
        let next = {
            let mut s = self.state.lock();
            s.locked = false;
            s.waiters.pop_front()
        };
        match next {
            Some(key) => rpc.notif_send(key),
            None => Ok(()),
        }
    }
}

/// A condition variable used with `SleepMutex`.
pub struct Condvar {
    waiters: spin::Mutex<VecDeque<u32>>,
}

impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

impl Condvar {
    pub const fn new() -> Self {
        Condvar { waiters: spin::Mutex::new(VecDeque::new()) }
    }

    /// Releases `m`, sleeps until notified, and takes `m` again.
    pub fn wait(&self, m: &SleepMutex, rpc: &mut Rpc, keys: &NotifKeys) -> Result<(), TeeResult> {
        let key = keys.alloc().ok_or(TeeResult::ERROR_BUSY)?;
        // Queue before unlocking, so a notify right after unlock finds us.
        self.waiters.lock().push_back(key);
        let r = m.unlock(rpc).and_then(|_| rpc.notif_wait(key));
        keys.free(key);
        if r.is_err() {
            self.waiters.lock().retain(|k| *k != key);
        }
        m.lock(rpc, keys)?;
        r
    }

    pub fn notify_one(&self, rpc: &mut Rpc) -> Result<(), TeeResult> {
        let key = self.waiters.lock().pop_front();
        match key {
            Some(k) => rpc.notif_send(k),
            None => Ok(()),
        }
    }

    pub fn notify_all(&self, rpc: &mut Rpc) -> Result<(), TeeResult> {
        loop {
            let key = self.waiters.lock().pop_front();
            match key {
                Some(k) => rpc.notif_send(k)?,
                None => return Ok(()),
            }
        }
    }
}
