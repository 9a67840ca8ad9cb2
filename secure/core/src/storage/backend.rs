//! The file operations a store is built on. Names are relative paths with
//! `/` separators below the store's root; `create` makes missing parent
//! directories (as tee-supplicant does). A backend answers with upstream's
//! codes: ITEM_NOT_FOUND for a missing file, ACCESS_CONFLICT when `rename`
//! without overwrite finds the target, STORAGE_NO_SPACE when full.
//!
//! Durability contract (what tee-supplicant gives: files opened `O_SYNC`,
//! directory fsync after create/rename/remove): when `write`, `truncate`,
//! `rename`, `create` or `remove` returns Ok, the change survives a power
//! cut; `rename` is atomic.

use super::R;

/// A backend's handle of an open file.
pub type Fd = u32;

pub trait Backend {
    /// Opens an existing file for reading and writing.
    fn open(&mut self, name: &str) -> R<Fd>;
    /// Creates `name` empty (truncating an existing file), parents made.
    fn create(&mut self, name: &str) -> R<Fd>;
    fn close(&mut self, fd: Fd) -> R<()>;
    /// Reads at `off`; returns how many bytes were read (short at the end).
    fn read(&mut self, fd: Fd, off: u64, buf: &mut [u8]) -> R<usize>;
    /// Writes `data` at `off` (extending the file as needed).
    fn write(&mut self, fd: Fd, off: u64, data: &[u8]) -> R<()>;
    fn truncate(&mut self, fd: Fd, len: u64) -> R<()>;
    fn remove(&mut self, name: &str) -> R<()>;
    /// Renames atomically; without `overwrite` an existing `new` is
    /// ACCESS_CONFLICT.
    fn rename(&mut self, old: &str, new: &str, overwrite: bool) -> R<()>;
    /// Calls `f` with the name of every entry of directory `dir` (not
    /// recursive; `.`/`..` excluded). A missing directory lists nothing.
    fn list(&mut self, dir: &str, f: &mut dyn FnMut(&str)) -> R<()>;
}
