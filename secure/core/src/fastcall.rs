//! Fast calls of the OP-TEE SMC ABI: answered in registers, on the calling
//! CPU, without a trusted thread. Typed dispatch: each call is a variant of
//! `FastCall`; any other id gets `UNKNOWN_FUNCTION`.

use crate::async_notif::AsyncNotif;
use crate::rpc::RpcArg;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use oxtee_abi::optee_smc::{self as smc, SecCaps};
use oxtee_guard::SpinLock;

/// What the platform tells the OS about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OsConfig {
    /// Build identifier reported by GET_OS_REVISION (a git commit).
    pub build_id: u64,
    /// Size of the trusted-thread pool.
    pub thread_count: u32,
    /// Reserved non-secure shared memory (base, size), if the platform has it.
    pub static_shm: Option<oxtee_abi::addr::NsRange>,
    /// Yielding calls are served (advertises DYNAMIC_SHM, MEMREF_NULL, RPC_ARG).
    pub yielding_calls: bool,
}

/// Every fast call this OS implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastCall {
    CallsCount,
    CallsUid,
    CallsRevision,
    GetOsUuid,
    GetOsRevision,
    GetShmConfig,
    ExchangeCapabilities,
    DisableShmCache,
    EnableShmCache,
    GetThreadCount,
    EnableAsyncNotif,
    GetAsyncNotifValue,
}

impl FastCall {
    pub const ALL: [FastCall; 12] = [
        FastCall::CallsCount,
        FastCall::CallsUid,
        FastCall::CallsRevision,
        FastCall::GetOsUuid,
        FastCall::GetOsRevision,
        FastCall::GetShmConfig,
        FastCall::ExchangeCapabilities,
        FastCall::DisableShmCache,
        FastCall::EnableShmCache,
        FastCall::GetThreadCount,
        FastCall::EnableAsyncNotif,
        FastCall::GetAsyncNotifValue,
    ];

    pub const fn id(self) -> u32 {
        match self {
            FastCall::CallsCount => smc::CALLS_COUNT,
            FastCall::CallsUid => smc::CALLS_UID,
            FastCall::CallsRevision => smc::CALLS_REVISION,
            FastCall::GetOsUuid => smc::GET_OS_UUID,
            FastCall::GetOsRevision => smc::GET_OS_REVISION,
            FastCall::GetShmConfig => smc::GET_SHM_CONFIG,
            FastCall::ExchangeCapabilities => smc::EXCHANGE_CAPABILITIES,
            FastCall::DisableShmCache => smc::DISABLE_SHM_CACHE,
            FastCall::EnableShmCache => smc::ENABLE_SHM_CACHE,
            FastCall::GetThreadCount => smc::GET_THREAD_COUNT,
            FastCall::EnableAsyncNotif => smc::ENABLE_ASYNC_NOTIF,
            FastCall::GetAsyncNotifValue => smc::GET_ASYNC_NOTIF_VALUE,
        }
    }

    /// The call for SMC function id `a0` (only the low 32 bits name it).
    pub fn from_id(a0: u64) -> Option<FastCall> {
        let id = a0 as u32;
        Self::ALL.into_iter().find(|c| c.id() == id)
    }
}

/// The pre-allocated RPC argument cache that the normal world can switch
/// on and off (ENABLE/DISABLE_SHM_CACHE): threads keep their RPC_ALLOC'd
/// argument buffers here between calls while it is on. Both calls answer
/// `EBUSY` while any trusted thread is busy, as OP-TEE does.
pub struct RpcShmCache {
    enabled: AtomicBool,
    /// At most one buffer per trusted thread; the capacity is allocated
    /// up front, so keeping a buffer never allocates.
    cached: SpinLock<Vec<RpcArg>>,
}

pub enum CacheAnswer {
    Busy,
    /// A cookie the normal world must free; ask again for the next.
    Release(u64),
    Empty,
}

impl RpcShmCache {
    pub fn new(threads: usize) -> Self {
        RpcShmCache { enabled: AtomicBool::new(false), cached: SpinLock::new(Vec::with_capacity(threads)) }
    }

    pub fn enable(&self, busy_threads: usize) -> bool {
        if busy_threads != 0 {
            return false;
        }
        self.enabled.store(true, Ordering::Release);
        true
    }

    pub fn disable_step(&self, busy_threads: usize) -> CacheAnswer {
        if busy_threads != 0 {
            return CacheAnswer::Busy;
        }
        if let Some(a) = self.cached.lock().pop() {
            return CacheAnswer::Release(a.cookie);
        }
        self.enabled.store(false, Ordering::Release);
        CacheAnswer::Empty
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Keeps a thread's buffer for reuse; gives it back if caching is off.
    pub fn keep(&self, arg: RpcArg) -> Result<(), RpcArg> {
        if !self.is_enabled() {
            return Err(arg);
        }
        let mut c = self.cached.lock();
        if c.len() < c.capacity() {
            c.push(arg);
            Ok(())
        } else {
            Err(arg)
        }
    }

    pub fn take(&self) -> Option<RpcArg> {
        self.cached.lock().pop()
    }

    pub fn len(&self) -> usize {
        self.cached.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct FastCalls {
    config: OsConfig,
    caps: SecCaps,
    /// Highest notification value (EXCHANGE_CAPABILITIES a2) once
    /// asynchronous notifications are offered.
    max_notif_value: u32,
    pub shm_cache: RpcShmCache,
}

impl FastCalls {
    pub fn new(config: OsConfig) -> Self {
        // Advertise only what is implemented.
        let mut caps = SecCaps(0);
        if config.static_shm.is_some() {
            caps = caps.union(SecCaps::HAVE_RESERVED_SHM);
        }
        if config.yielding_calls {
            caps = caps.union(SecCaps::DYNAMIC_SHM).union(SecCaps::MEMREF_NULL).union(SecCaps::RPC_ARG);
        }
        FastCalls { config, caps, max_notif_value: 0, shm_cache: RpcShmCache::new(config.thread_count as usize) }
    }

    /// Offers asynchronous notifications (the platform has a doorbell):
    /// the ASYNC_NOTIF capability, with `max_value` (one above the largest
    /// notification key the OS uses) in a2.
    pub fn offer_async_notif(&mut self, max_value: u32) {
        self.caps = self.caps.union(SecCaps::ASYNC_NOTIF);
        self.max_notif_value = max_value;
    }

    pub fn config(&self) -> OsConfig {
        self.config
    }

    pub fn capabilities(&self) -> SecCaps {
        self.caps
    }

    /// Answers the fast call in `a` (x0-x7 on entry), writing results into
    /// a[0..4]. Registers the call does not define are left as they were.
    /// Without notification state the notification calls are unknown.
    pub fn handle(&self, a: &mut [u64; 8], busy_threads: &dyn Fn() -> usize) {
        self.handle_with(a, busy_threads, None)
    }

    /// As `handle`, with the OS's asynchronous-notification state.
    pub fn handle_with(&self, a: &mut [u64; 8], busy_threads: &dyn Fn() -> usize, notif: Option<&AsyncNotif>) {
        let Some(call) = FastCall::from_id(a[0]) else {
            a[0] = smc::RETURN_UNKNOWN_FUNCTION as u64;
            return;
        };
        match call {
            FastCall::CallsCount => a[0] = FastCall::ALL.len() as u64,
            FastCall::CallsUid => set4(a, smc::API_UID),
            FastCall::CallsRevision => {
                a[0] = smc::API_REVISION_MAJOR as u64;
                a[1] = smc::API_REVISION_MINOR as u64;
            }
            FastCall::GetOsUuid => set4(a, smc::OS_OPTEE_UUID),
            FastCall::GetOsRevision => {
                a[0] = smc::OS_REVISION_MAJOR as u64;
                a[1] = smc::OS_REVISION_MINOR as u64;
                a[2] = self.config.build_id;
            }
            FastCall::GetShmConfig => match self.config.static_shm {
                Some(pool) => {
                    a[0] = smc::RETURN_OK as u64;
                    a[1] = pool.start.get();
                    a[2] = pool.size;
                    a[3] = smc::SHM_CACHED as u64;
                }
                None => a[0] = smc::RETURN_ENOTAVAIL as u64,
            },
            FastCall::ExchangeCapabilities => {
                // Unknown normal-world capabilities are refused, as OP-TEE does.
                if a[1] & !smc::NSEC_CAP_UNIPROCESSOR != 0 {
                    a[0] = smc::RETURN_ENOTAVAIL as u64;
                    return;
                }
                a[0] = smc::RETURN_OK as u64;
                a[1] = self.caps.0;
                a[2] = if self.caps.contains(SecCaps::ASYNC_NOTIF) { self.max_notif_value as u64 } else { 0 };
                a[3] = if self.caps.contains(SecCaps::RPC_ARG) { crate::rpc::RPC_MAX_PARAMS as u64 } else { 0 };
            }
            FastCall::DisableShmCache => match self.shm_cache.disable_step(busy_threads()) {
                CacheAnswer::Busy => a[0] = smc::RETURN_EBUSY as u64,
                CacheAnswer::Empty => a[0] = smc::RETURN_ENOTAVAIL as u64,
                CacheAnswer::Release(cookie) => {
                    a[0] = smc::RETURN_OK as u64;
                    a[1] = cookie >> 32;
                    a[2] = cookie & 0xffff_ffff;
                }
            },
            FastCall::EnableShmCache => {
                a[0] = if self.shm_cache.enable(busy_threads()) { smc::RETURN_OK } else { smc::RETURN_EBUSY } as u64;
            }
            FastCall::GetThreadCount => {
                a[0] = smc::RETURN_OK as u64;
                a[1] = self.config.thread_count as u64;
            }
            // As OP-TEE built without CFG_CORE_ASYNC_NOTIF: unknown calls
            // when notifications are not offered.
            FastCall::EnableAsyncNotif => match notif {
                Some(n) if self.caps.contains(SecCaps::ASYNC_NOTIF) && n.enable() => a[0] = smc::RETURN_OK as u64,
                _ => a[0] = smc::RETURN_UNKNOWN_FUNCTION as u64,
            },
            FastCall::GetAsyncNotifValue => match notif {
                Some(n) if self.caps.contains(SecCaps::ASYNC_NOTIF) && n.available() => n.answer_get_value(a),
                _ => a[0] = smc::RETURN_UNKNOWN_FUNCTION as u64,
            },
        }
    }
}

fn set4(a: &mut [u64; 8], w: [u32; 4]) {
    for (r, v) in a.iter_mut().zip(w) {
        *r = v as u64;
    }
}

#[cfg(test)]
mod tests;
