//! Portable logic of the oxtee trusted OS. Everything here is safe Rust that
//! builds for the secure world and is tested on the host; the OS crate
//! adapts hardware to it (`env::ThreadEnv`, `nsmem::NsMemory`). It must
//! never touch hardware or raw memory.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod env;
pub mod fastcall;
pub mod msg;
pub mod nsmem;
pub mod pta;
pub mod rng;
pub mod rpc;
pub mod session;
pub mod shm;
pub mod std_call;
pub mod sync;
pub mod ta;
pub mod threads;
pub mod user;

use alloc::vec::Vec;
use fastcall::{FastCalls, OsConfig};
use nsmem::NsMemory;
use pta::Pta;
use session::Sessions;
use shm::{ShmConfig, ShmRegistry};
use sync::NotifKeys;
use threads::ThreadTable;
use user::UserTas;

/// The trusted OS's shared state: everything a call on any CPU or thread
/// may touch.
pub struct Os {
    pub fast: FastCalls,
    pub shm: ShmRegistry,
    pub threads: ThreadTable,
    pub sessions: Sessions,
    pub notif: NotifKeys,
    pub mem: &'static dyn NsMemory,
    pub user: UserTas,
    pub rng: rng::Rng,
    ptas: Vec<&'static dyn Pta>,
}

impl Os {
    pub fn new(config: OsConfig, shm: ShmConfig, mem: &'static dyn NsMemory, ptas: Vec<&'static dyn Pta>) -> Os {
        Os {
            fast: FastCalls::new(config),
            shm: ShmRegistry::new(shm),
            threads: ThreadTable::new(config.thread_count as usize),
            sessions: Sessions::default(),
            notif: NotifKeys::new(),
            mem,
            user: UserTas::default(),
            rng: rng::Rng::default(),
            ptas,
        }
    }

    /// Enables user-mode TAs: their MMU and the key their images must be
    /// signed with.
    pub fn with_user_tas(mut self, user: UserTas) -> Os {
        self.user = user;
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

    /// A fast call, answered in place in a0..a3.
    pub fn fast_call(&self, a: &mut [u64; 8]) {
        self.fast.handle(a, &|| self.threads.busy());
    }
}

#[cfg(test)]
mod tests;
