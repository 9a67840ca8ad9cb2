//! Dynamic linking of TAs: shared TA libraries named by `DT_NEEDED`
//! (loaded by UUID through the signed LOAD_TA path, see `load`), and
//! `dlopen`/`dlsym` for a running instance (the system PTA's commands).
//!
//! Loading stays in the kernel; what the TA sees is what upstream's
//! user-space loader (ldelf) leaves it: every object mapped and linked,
//! libutee's `__elf_phdr_info` listing one `dl_phdr_info` per object in
//! load order (main TA first, then its libraries breadth first, then what
//! `dlopen` added), from which libutee runs the constructors and sets up
//! TLS. `dlopen` appends to that list and raises its count; libutee's
//! `dlopen` then runs the new objects' constructors itself.

use super::Instance;
use super::load;
use super::space::UserSpace;
use crate::Os;
use crate::rpc::Rpc;
use crate::ta::dl;
use alloc::sync::Arc;
use alloc::vec::Vec;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

/// `RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE`: the only `dlopen` flags
/// upstream accepts.
pub const DLOPEN_FLAGS: u32 = 0x2 | 0x100 | 0x1000;

/// What the loader keeps of an instance's objects, with its address space.
#[derive(Default)]
pub struct Linked {
    /// In load order; the main TA first.
    pub modules: Vec<dl::Module>,
    /// The `dl_phdr_info` area: user address and buffer index.
    pub info_va: u64,
    pub info_buf: usize,
    /// Next free byte for program header copies in that area.
    pub phdr_next: usize,
    /// libutee's `__elf_phdr_info`, once found.
    pub record: Option<u64>,
    /// The `TLSDESC` resolver.
    pub tlsdesc: u64,
    /// Next TLS block offset from the thread pointer.
    pub tls_next: u64,
    /// Where the next library goes, and the end of the room for libraries
    /// (the stack's guard page).
    pub next_va: u64,
    pub limit: u64,
}

#[allow(dead_code)] // called by the system PTA (issue 12)
impl Os {
    /// Loads the shared library `lib` (and what it needs) into the running
    /// instance `inst` whose address space is `space`, links it and lists
    /// it in `__elf_phdr_info` as upstream's `dlopen` does (`flags`:
    /// `RTLD_*` as libutee passes them). A nil `lib`, or one already
    /// there, is success.
    pub(crate) fn ta_dlopen(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        lib: Uuid,
        flags: u32,
    ) -> Result<(), TeeResult> {
        if flags != DLOPEN_FLAGS {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if lib == Uuid::NIL || space.dl.modules.iter().any(|m| m.uuid == lib) {
            return Ok(());
        }
        if space.dl.modules.is_empty() {
            // An instance the loader didn't link (a test fake).
            return Err(TeeResult::ERROR_NOT_SUPPORTED);
        }
        if space.dl.modules.len() >= dl::MAX_OBJECTS {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let Some(key) = self.user.key.as_ref() else {
            return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
        };
        let t = rpc.t;
        let oom = Err(TeeResult::ERROR_OUT_OF_MEMORY);
        crate::hold!(objs = Vec::new(), in &t.ledger, or oom);
        let objs = objs.as_mut().get();
        objs.try_reserve_exact(dl::MAX_OBJECTS).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        let (next, limit) = (space.dl.next_va, space.dl.limit);
        objs.push(load::stage_lib(self, rpc, key, &t.ledger, lib, next, limit)?);
        load::stage_needed(self, rpc, key, &t.ledger, &space.dl, objs, 0)?;
        load::link_and_map(space, objs)?;
        log::debug!("TA {}: dlopen {lib}: {} objects", inst.uuid, space.dl.modules.len());
        Ok(())
    }

    /// Address of symbol `name` in library `lib` of `inst` (`lib` nil: the
    /// whole instance, in load order), as upstream's `dlsym`:
    /// ITEM_NOT_FOUND for a library not loaded or a name not defined.
    pub(crate) fn ta_dlsym(
        &self,
        _rpc: &mut Rpc,
        _inst: &Arc<Instance>,
        space: &mut UserSpace,
        lib: Uuid,
        name: &[u8],
    ) -> Result<u64, TeeResult> {
        // The name up to its NUL (libutee passes strlen + 1 bytes).
        let name = name.split(|&b| b == 0).next().unwrap_or(name);
        let first = if lib == Uuid::NIL {
            None
        } else {
            Some(space.dl.modules.iter().position(|m| m.uuid == lib).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?)
        };
        let mut views = Vec::new();
        views.try_reserve_exact(space.dl.modules.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        for m in &space.dl.modules {
            let image = space.buf(m.buf).ok_or(TeeResult::ERROR_GENERIC)?.bytes();
            views.push(dl::View { module: m, image });
        }
        dl::lookup_from(&views, first, name)?.ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)
    }
}
