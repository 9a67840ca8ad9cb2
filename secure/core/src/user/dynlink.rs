//! Dynamic linking of TAs: shared TA libraries named by `DT_NEEDED`
//! (loaded by UUID through the signed LOAD_TA path), and `dlopen`/`dlsym`
//! for a running instance (the system PTA's commands).
//!
//! (Interface for issue 12; the implementation lands with the loader.)

use super::Instance;
use super::space::UserSpace;
use crate::Os;
use crate::rpc::Rpc;
use alloc::sync::Arc;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

#[allow(dead_code)] // called by the system PTA (issue 12)
impl Os {
    /// Loads the shared library `lib` (and what it needs) into the running
    /// instance `inst` whose address space is `space`, links it and runs
    /// its constructors' setup as upstream's `dlopen` does (`flags`:
    /// `RTLD_*` as libutee passes them).
    pub(crate) fn ta_dlopen(
        &self,
        _rpc: &mut Rpc,
        _inst: &Arc<Instance>,
        _space: &mut UserSpace,
        _lib: Uuid,
        _flags: u32,
    ) -> Result<(), TeeResult> {
        Err(TeeResult::ERROR_NOT_SUPPORTED)
    }

    /// Address of symbol `name` in library `lib` of `inst` (`lib` nil: the
    /// whole instance, in load order), as upstream's `dlsym`.
    pub(crate) fn ta_dlsym(
        &self,
        _rpc: &mut Rpc,
        _inst: &Arc<Instance>,
        _space: &mut UserSpace,
        _lib: Uuid,
        _name: &[u8],
    ) -> Result<u64, TeeResult> {
        Err(TeeResult::ERROR_NOT_SUPPORTED)
    }
}
