//! What the OS holds right now, and its limits: the figures tests compare
//! before and after a run to prove nothing was left behind.

use crate::Os;
use oxtee_abi::test_pta::Resources;

impl Os {
    pub fn resources(&self) -> Resources {
        let shm = self.shm.stats();
        let sessions = self.sessions.stats();
        let (armed, jobs, nesting) = self.threads.held();
        let (own, shared) = self.user.params.used();
        let limits = self.sessions.limits();
        let shm_limits = self.shm.limits();
        Resources {
            heap_used: oxtee_guard::heap::used() as u64,
            heap_total: oxtee_guard::heap::total() as u64,
            sessions: sessions.open as u64,
            sessions_reserved: sessions.reserved as u64,
            ta_sessions: sessions.ta_owned as u64,
            shm_buffers: shm.buffers as u64,
            shm_uses: shm.users as u64,
            shm_pages: shm.pages,
            threads_busy: self.threads.busy() as u64,
            running_calls: self.threads.running_calls() as u64,
            ledger_armed: armed as u64,
            jobs_queued: jobs as u64,
            nesting: nesting as u64,
            notif_keys: self.notif.in_use() as u64,
            param_bytes: own + shared,
            asids: self.user.asids_in_use() as u64,
            instances: self.user.live() as u64,
            rpc_cached: self.fast.shm_cache.len() as u64,
            sleep_locks_held: self.user.locks_held() as u64,
            limit_sessions: limits.total as u64,
            limit_ta_sessions: limits.ta as u64,
            limit_shm_buffers: shm_limits.buffers as u64,
            limit_shm_pages: shm_limits.pages,
            limit_instances: self.user.max_instances() as u64,
            threads: self.threads.count() as u64,
            aborted_calls: self.aborted.load(core::sync::atomic::Ordering::Relaxed),
            rpc_round_trips: crate::rpc::ROUND_TRIPS.load(core::sync::atomic::Ordering::Relaxed),
        }
    }
}
