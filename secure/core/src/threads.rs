//! Trusted-thread bookkeeping: which threads are free, running a call, or
//! suspended in the normal world (RPC or foreign interrupt). The OS owns the
//! stacks and register state; this decides who may run.

use alloc::vec;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    Free,
    Running,
    /// Waiting for RETURN_FROM_RPC.
    Suspended,
}

pub struct ThreadTable {
    states: spin::Mutex<Vec<ThreadState>>,
}

impl ThreadTable {
    pub fn new(count: usize) -> Self {
        ThreadTable { states: spin::Mutex::new(vec![ThreadState::Free; count]) }
    }

    pub fn count(&self) -> usize {
        self.states.lock().len()
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
}
