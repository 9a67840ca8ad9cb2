//! Trusted storage: GP persistent objects kept encrypted and authenticated
//! in files the normal world holds (REE FS, through tee-supplicant) or in
//! an eMMC's Replay Protected Memory Block (RPMB).
//!
//! - [`backend`]: the file operations a store needs ([`backend::Backend`]),
//!   and an in-memory double that can cut power at any write (host tests).
//! - [`keys`]: the key hierarchy, from the hardware unique key down to one
//!   key per object file (documented in `docs/storage.md`).
//! - [`engine`]: objects as files, updated atomically: after a crash at any
//!   instant each object is its old or its new version.
//! - [`ree`]: the backend over OPTEE_RPC_CMD_FS, as upstream sends it.
//! - [`rpmb`]: the RPMB protocol (authenticated frames, write counter) and a
//!   small file system in RPMB blocks, plus the store's rollback anchor.
//!
//! Everything a store reads from its backend is hostile input: it is
//! authenticated before use, and anything that fails is
//! `TEE_ERROR_CORRUPT_OBJECT` for the object concerned only.

pub mod backend;
pub mod engine;
pub mod keys;
pub mod ree;
pub mod rpmb;

#[cfg(test)]
mod tests;

use oxtee_abi::tee::TeeResult;

pub type R<T> = Result<T, TeeResult>;

/// GP storage identifiers (`TEE_STORAGE_PRIVATE*`).
pub const STORAGE_PRIVATE: u32 = 0x0000_0001;
pub const STORAGE_PRIVATE_REE: u32 = 0x8000_0000;
pub const STORAGE_PRIVATE_RPMB: u32 = 0x8000_0100;

/// Longest object identifier (`TEE_OBJECT_ID_MAX_LEN`).
pub const OBJECT_ID_MAX_LEN: usize = 64;
/// Largest data stream (`TEE_DATA_MAX_POSITION`).
pub const DATA_MAX_POSITION: u64 = 0xffff_ffff;
