//! Portable logic of the oxtee trusted OS. Everything here is safe Rust that
//! builds for the secure world and is tested on the host; the OS crate
//! adapts hardware to it (`env::ThreadEnv`, `nsmem::NsMemory`). It must
//! never touch hardware or raw memory.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

/// Pins `$value` on the stack as `$name` and arms it in `$ledger`, so an
/// aborted call drops it (`oxtee_guard::hold!`); if it cannot be armed the
/// enclosing function returns `$err`.
#[macro_export]
macro_rules! hold {
    ($($t:tt)*) => {
        oxtee_guard::hold!($($t)*)
    };
}

pub mod async_notif;
pub mod crash;
pub mod env;
pub mod fastcall;
pub mod fault;
pub mod ffa;
pub mod msg;
pub mod nsmem;
pub mod pta;
pub mod rng;
pub mod rpc;
pub mod session;
pub mod shm;
pub mod stats;
pub mod std_call;
pub mod storage;
pub mod sync;
pub mod ta;
pub mod threads;
pub mod user;

use alloc::vec::Vec;
use fastcall::{FastCalls, OsConfig};
use nsmem::NsMemory;
use pta::Pta;
use session::{SessionLimits, Sessions};
use shm::{ShmConfig, ShmLimits, ShmRegistry};
use sync::NotifKeys;
use threads::ThreadTable;
use user::UserTas;
use user::space::ParamBudget;

/// What callers can make the OS hold (see `oxtee_platform::limits`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub sessions: SessionLimits,
    pub shm: ShmLimits,
    pub instances: usize,
    /// Parameter copies: per-thread reserve, shared beyond it.
    pub param_reserve: u64,
    pub param_shared: u64,
}

/// The trusted OS's shared state: everything a call on any CPU or thread
/// may touch.
pub struct Os {
    pub fast: FastCalls,
    pub shm: ShmRegistry,
    pub threads: ThreadTable,
    pub sessions: Sessions,
    pub notif: NotifKeys,
    /// Asynchronous notifications to the normal world.
    pub async_notif: async_notif::AsyncNotif,
    /// The SPMC (FF-A transport).
    pub ffa: ffa::Spmc,
    pub mem: &'static dyn NsMemory,
    pub user: UserTas,
    pub rng: rng::Rng,
    /// Trusted storage: its keys and the objects open.
    pub storage: user::storage::Storage,
    ptas: Vec<&'static dyn Pta>,
    /// Calls ended by the abort path since boot.
    pub aborted: core::sync::atomic::AtomicU64,
    #[cfg(any(test, feature = "test-hooks"))]
    pub faults: fault::Faults,
}

impl Os {
    pub fn new(
        config: OsConfig,
        shm: ShmConfig,
        limits: Limits,
        mem: &'static dyn NsMemory,
        ptas: Vec<&'static dyn Pta>,
    ) -> Os {
        Os {
            fast: FastCalls::new(config),
            shm: ShmRegistry::new(shm, limits.shm),
            threads: ThreadTable::new(config.thread_count as usize),
            sessions: Sessions::new(limits.sessions),
            notif: NotifKeys::new(),
            async_notif: async_notif::AsyncNotif::default(),
            ffa: ffa::Spmc::with_max_transactions(limits.shm.buffers),
            mem,
            user: UserTas::new(limits.instances, ParamBudget::new(limits.param_reserve, limits.param_shared)),
            rng: rng::Rng::default(),
            storage: Default::default(),
            ptas,
            aborted: core::sync::atomic::AtomicU64::new(0),
            #[cfg(any(test, feature = "test-hooks"))]
            faults: fault::Faults::default(),
        }
    }

    /// Enables user-mode TAs: their MMU and the key their images must be
    /// signed with.
    pub fn with_user_tas(mut self, mmu: &'static dyn env::UserMmu, key: ta::image::TaKey) -> Os {
        self.user.enable(mmu, key);
        self
    }

    /// Keys trusted storage, and the decryption of encrypted TA images,
    /// from the platform's hardware unique key (after
    /// [`Os::with_user_tas`]: the TA key is part of the TA image key).
    pub fn with_huk(mut self, huk: &[u8]) -> Os {
        self.storage = user::storage::Storage::new(huk);
        self.user.set_huk(huk);
        self
    }

    /// Offers asynchronous notifications, delivered through `doorbell`,
    /// with bottom-half work for `drivers`.
    pub fn with_async_notif(
        mut self,
        doorbell: &'static dyn async_notif::Doorbell,
        drivers: Vec<&'static dyn async_notif::NotifDriver>,
    ) -> Os {
        self.async_notif = async_notif::AsyncNotif::new(Some(doorbell), drivers);
        self.fast.offer_async_notif(sync::MAX_KEY + 1);
        self
    }

    /// Seeds the random number generator from platform entropy.
    pub fn with_rng(mut self, rng: rng::Rng) -> Os {
        self.rng = rng;
        self
    }

    /// True if `uuid` names a pseudo-TA.
    pub fn pta_uuid(&self, uuid: oxtee_abi::uuid::Uuid) -> bool {
        self.ptas.iter().any(|p| p.uuid() == uuid)
    }

    /// The pseudo-TAs of this build.
    pub fn ptas(&self) -> &[&'static dyn Pta] {
        &self.ptas
    }

    /// Tells `pta` that session `id` (already out of the table) is closed.
    pub(crate) fn pta_close(&self, rpc: &mut rpc::Rpc, pta: &dyn Pta, id: u32, ta: Option<pta::TaCaller>) {
        let t = rpc.t;
        let mut ctx = pta::Ctx { os: self, rpc: rpc.reborrow(), cancel: &t.cancel, session: id, ta };
        pta.close_session(&mut ctx);
    }

    /// A fast call, answered in place in a0..a3.
    pub fn fast_call(&self, a: &mut [u64; 8]) {
        self.fast.handle_with(a, &|| self.threads.busy(), Some(&self.async_notif));
    }
}

#[cfg(test)]
mod tests;
