//! Memory checks (GP `TEE_CheckMemoryAccessRights`) and heap statistics.

use crate::error::{Error, ErrorKind, Result};
use oxtee_abi::ta::{
    TEE_PARAM_TYPE_MEMREF_INOUT, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_MEMREF_OUTPUT, param_type_get,
};

/// The range may be read.
pub const ACCESS_READ: u32 = oxtee_abi::ta::TEE_MEMORY_ACCESS_READ;
/// The range may be written.
pub const ACCESS_WRITE: u32 = oxtee_abi::ta::TEE_MEMORY_ACCESS_WRITE;
/// The range may be shared with others (without it, it must be this TA's
/// own memory).
pub const ACCESS_ANY_OWNER: u32 = oxtee_abi::ta::TEE_MEMORY_ACCESS_ANY_OWNER;

/// Whether [addr, addr + size) is accessible to this TA with `flags`
/// (`ACCESS_*`): mapped so by the kernel and, where it overlaps a memref
/// parameter of the current request, allowed by that parameter's
/// direction (as libutee checks). A zero size always passes.
pub fn check_memory_access_rights(flags: u32, addr: usize, size: usize) -> Result<()> {
    if size == 0 {
        return Ok(());
    }
    if !crate::sys::check_access_rights(flags, addr, size).is_success() {
        return Err(Error::new(ErrorKind::AccessDenied));
    }
    let flags = flags & (ACCESS_READ | ACCESS_WRITE | ACCESS_ANY_OWNER);
    let req = crate::runtime::request_params();
    for (i, (m_addr, m_size)) in req.memrefs.into_iter().enumerate() {
        let allowed = match param_type_get(req.types, i) {
            TEE_PARAM_TYPE_MEMREF_INPUT => ACCESS_ANY_OWNER | ACCESS_READ,
            TEE_PARAM_TYPE_MEMREF_OUTPUT | TEE_PARAM_TYPE_MEMREF_INOUT => ACCESS_ANY_OWNER | ACCESS_READ | ACCESS_WRITE,
            _ => continue,
        };
        let overlaps = m_size != 0 && addr < m_addr.saturating_add(m_size) && m_addr < addr.saturating_add(size);
        if overlaps && flags & allowed != flags {
            return Err(Error::new(ErrorKind::AccessDenied));
        }
    }
    Ok(())
}

/// [`check_memory_access_rights`] for a slice this TA holds.
pub fn check_slice(flags: u32, buf: &[u8]) -> Result<()> {
    check_memory_access_rights(flags, buf.as_ptr() as usize, buf.len())
}

/// (bytes in use, heap size) of this instance's heap.
pub fn heap_stats() -> (usize, usize) {
    crate::arch::heap_stats()
}
