//! Process-wide state behind the C handles, and the one ioctl oxtee-teec
//! does not wrap. The C structs only carry integers (a device fd, a shared
//! memory id), so the Rust objects owning the kernel resources live in
//! these tables, keyed by those integers.

use oxtee_teec::{Context, SharedMemory, sys};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The kernel object behind a TEEC_SharedMemory.
pub enum ShmMem {
    /// Kernel-allocated shared memory, mapped here: the client's buffer
    /// (TEEC_AllocateSharedMemory) or the shadow of its buffer
    /// (TEEC_RegisterSharedMemory).
    Kernel(SharedMemory),
    /// A registered dma-buf (TEEC_RegisterSharedMemoryFileDescriptor).
    Fd(#[allow(dead_code)] OwnedFd),
}

pub struct ShmEntry {
    pub mem: ShmMem,
    /// `mem` shadows the client's own buffer: copy in before and out
    /// after each call.
    pub shadow: bool,
}

impl ShmEntry {
    /// The mapped kernel buffer and its length, if there is one.
    pub fn mapping(&self) -> Option<(*mut u8, usize)> {
        match &self.mem {
            ShmMem::Kernel(m) => Some((m.as_ptr(), m.size())),
            ShmMem::Fd(_) => None,
        }
    }

    /// The shadow buffer and its length, for blocks that have one.
    pub fn shadow(&self) -> Option<(*mut u8, usize)> {
        if self.shadow { self.mapping() } else { None }
    }
}

static CONTEXTS: Mutex<BTreeMap<i32, Arc<Context>>> = Mutex::new(BTreeMap::new());
static SHMS: Mutex<BTreeMap<i32, ShmEntry>> = Mutex::new(BTreeMap::new());
/// Serialises the `started` / `session` fields of operations between an
/// open or invoke and TEEC_RequestCancellation on another thread.
static OPS: Mutex<()> = Mutex::new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic cannot leave these maps half-updated; keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps `ctx` alive under its device fd, which the C context stores.
pub fn add_context(ctx: Context) -> i32 {
    let fd = ctx.file().as_raw_fd();
    lock(&CONTEXTS).insert(fd, Arc::new(ctx));
    fd
}

pub fn context(fd: i32) -> Option<Arc<Context>> {
    lock(&CONTEXTS).get(&fd).cloned()
}

/// Forgets the context; the device closes once no call is using it.
pub fn remove_context(fd: i32) {
    let ctx = lock(&CONTEXTS).remove(&fd);
    drop(ctx);
}

pub fn shms() -> MutexGuard<'static, BTreeMap<i32, ShmEntry>> {
    lock(&SHMS)
}

pub fn add_shm(id: i32, entry: ShmEntry) {
    shms().insert(id, entry);
}

/// Drops the block (unmapping and closing it) and returns whether it existed.
pub fn remove_shm(id: i32) -> bool {
    let entry = shms().remove(&id);
    entry.is_some()
}

pub fn ops_lock() -> MutexGuard<'static, ()> {
    lock(&OPS)
}

/// The driver's version data (implementation id and capabilities).
pub fn version(ctx: &Context) -> Option<sys::VersionData> {
    let mut v = sys::VersionData::default();
    sys::ioctl(ctx.file(), sys::TEE_IOC_VERSION, &mut v).ok().map(|_| v)
}

/// `struct tee_ioctl_shm_register_fd_data` (from optee_client's copy of
/// linux/tee.h; only kernels with Linaro's dma-buf patches implement it).
#[repr(C, align(8))]
#[derive(Default)]
struct RegisterFdData {
    fd: i64,
    size: u64,
    flags: u32,
    id: i32,
}

/// `_IOWR(0xa4, 8, struct tee_ioctl_shm_register_fd_data)`.
const TEE_IOC_SHM_REGISTER_FD: u64 = (3 << 30) | ((size_of::<RegisterFdData>() as u64) << 16) | (0xa4 << 8) | 8;

/// Registers a dma-buf fd as shared memory: the new shm fd, its size, its id.
pub fn register_fd(ctx: &Context, fd: i32) -> Option<(OwnedFd, u64, i32)> {
    let mut d = RegisterFdData { fd: fd.into(), ..Default::default() };
    let shm_fd = sys::ioctl(ctx.file(), TEE_IOC_SHM_REGISTER_FD, &mut d).ok()?;
    // SAFETY: the kernel just returned `shm_fd`, a new descriptor nothing
    // else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(shm_fd) };
    Some((owned, d.size, d.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_fd_ioctl_number() {
        assert_eq!(size_of::<RegisterFdData>(), 24);
        assert_eq!(TEE_IOC_SHM_REGISTER_FD, 0xc018_a408);
    }

    #[test]
    fn unknown_handles() {
        assert!(context(-1).is_none());
        assert!(!remove_shm(-1));
        remove_context(-1);
    }
}
