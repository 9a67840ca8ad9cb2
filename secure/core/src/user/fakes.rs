//! TAs without images, for host tests and the host simulator
//! (`oxtee-sim`): a TA "installed" as a UUID and flags gets an instance with
//! one page of code at its window's base and a stack, and what it does
//! comes from the platform's `ThreadEnv::enter_user` instead of a CPU.

use super::UserTas;
use super::load::Loaded;
use super::space::{PageBuf, UserSpace};
use crate::env::{UserMmu, UserPerm};
use crate::nsmem::NsMemory;
use crate::shm::Pages;
use alloc::vec::Vec;
use oxtee_abi::addr::UserVirt;
use oxtee_abi::ta as abi;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

/// Memory every fake TA's space maps as its own (private, read/write) at
/// the same addresses as `pages` (host simulator: the host process's
/// memory, so the pointers TA code passes in syscalls are valid).
#[derive(Clone)]
pub struct HostMemory {
    pub mem: &'static dyn NsMemory,
    pub pages: Pages,
    pub va: UserVirt,
}

/// Builds an instance for a "fake" TA: one page of code at the window's
/// base (holding the UUID) and a stack, no image (`None` if `uuid` is not
/// a fake TA).
pub(crate) fn fake_load(
    user: &UserTas,
    uuid: Uuid,
    base: UserVirt,
    stack_top: UserVirt,
) -> Option<Result<Loaded, TeeResult>> {
    let (base, stack_top) = (base.get(), stack_top.get());
    let flags = user.fakes.lock().iter().find(|(u, _)| *u == uuid).map(|(_, f)| *f)?;
    let build = || -> Result<Loaded, TeeResult> {
        let mmu = user.mmu.ok_or(TeeResult::ERROR_BAD_STATE)?;
        let mut space = UserSpace::new(mmu);
        let v = UserVirt::new;
        // The code page holds the TA's UUID: all the platform's
        // `enter_user` gets is the address space, and the simulator runs
        // different code for different fake TAs.
        let mut code = PageBuf::new(8192)?;
        code.bytes_mut()[..16].copy_from_slice(&uuid.to_octets());
        space.add(code, &[(0, v(base), 4096, UserPerm::ReadExec), (4096, v(base + 4096), 4096, UserPerm::ReadOnly)])?;
        space.add(PageBuf::new(8192)?, &[(0, v(stack_top - 8192), 8192, UserPerm::ReadWrite)])?;
        space.activate()?;
        if let Some(h) = &user.fake_host {
            space.add_host(h.mem, h.pages.clone(), h.va)?;
        }
        let head = abi::TaHead { uuid: uuid.into(), stack_size: 8192, flags, depr_entry: abi::TA_HEAD_NO_DEPR_ENTRY };
        let footprint = space.footprint();
        Ok(Loaded { space, head, entry: UserVirt::new(base), footprint, ta_version: None, subkeys: Vec::new() })
    };
    Some(build())
}

impl UserTas {
    /// Loads TAs from `fakes` only (UUID, `TA_FLAG_*`), over `mmu`.
    pub fn install_fakes(&mut self, mmu: &'static dyn UserMmu, fakes: &[(Uuid, u32)]) {
        self.mmu = Some(mmu);
        self.fakes.lock().extend_from_slice(fakes);
    }

    /// Adds one more fake TA.
    pub fn add_fake(&self, uuid: Uuid, flags: u32) {
        self.fakes.lock().push((uuid, flags));
    }

    /// Maps `host` into every fake TA's space from now on.
    pub fn install_host_memory(&mut self, host: HostMemory) {
        self.fake_host = Some(host);
    }
}
