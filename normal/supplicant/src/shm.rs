//! Application shared memory the secure side asked for (SHM_ALLOC): the
//! supplicant's own pages, registered with the driver, and the bounds
//! checks every memref parameter goes through before its bytes are used.

use crate::errors::{BAD_PARAMETERS, OUT_OF_MEMORY};
use crate::lock;
use oxtee_teec::sys::IoctlParam;
use std::collections::HashMap;
use std::sync::Mutex;

/// Largest single allocation.
pub const MAX_ALLOC: usize = 64 << 20;
/// Most the secure side may hold at once (registered pages are pinned).
pub const MAX_TOTAL: usize = 256 << 20;

/// Memory registered with the driver.
pub trait ShmBuf: Send {
    fn bytes(&self) -> &[u8];
    fn bytes_mut(&mut self) -> &mut [u8];
}

/// Where memory comes from: the kernel (TEE_IOC_SHM_REGISTER) or, in host
/// tests, plain vectors.
pub trait ShmDriver: Send + Sync {
    /// Registers `size` fresh bytes; returns the driver's id for them.
    fn register(&self, size: usize) -> Result<(i32, Box<dyn ShmBuf>), u32>;
}

struct Entry {
    buf: Box<dyn ShmBuf>,
    size: usize,
}

/// A checked view of a memref parameter: `len` bytes at `offset` of shared
/// memory `id`, inside it when checked (and checked again at each use, as
/// another request may free it meanwhile).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memref {
    pub id: i32,
    pub offset: usize,
    pub len: usize,
}

pub struct ShmTable {
    driver: Box<dyn ShmDriver>,
    inner: Mutex<(HashMap<i32, Entry>, usize)>,
}

impl ShmTable {
    pub fn new(driver: Box<dyn ShmDriver>) -> ShmTable {
        ShmTable { driver, inner: Mutex::new((HashMap::new(), 0)) }
    }

    pub fn alloc(&self, size: u64) -> Result<i32, u32> {
        let size = usize::try_from(size).ok().filter(|s| *s <= MAX_ALLOC).ok_or(OUT_OF_MEMORY)?;
        let mut t = lock(&self.inner);
        let total = t.1.checked_add(size).filter(|t| *t <= MAX_TOTAL).ok_or(OUT_OF_MEMORY)?;
        let (id, buf) = self.driver.register(size)?;
        if buf.bytes().len() < size || t.0.contains_key(&id) {
            return Err(OUT_OF_MEMORY);
        }
        t.0.insert(id, Entry { buf, size });
        t.1 = total;
        Ok(id)
    }

    pub fn free(&self, id: u64) -> Result<(), u32> {
        let id = i32::try_from(id).map_err(|_| BAD_PARAMETERS)?;
        let mut t = lock(&self.inner);
        let e = t.0.remove(&id).ok_or(BAD_PARAMETERS)?;
        t.1 = t.1.saturating_sub(e.size);
        Ok(())
    }

    /// The memref `p` names, if its shared memory is ours (`None` if not:
    /// upstream's size query); a range outside it is an error.
    pub fn resolve(&self, p: &IoctlParam) -> Result<Option<Memref>, u32> {
        let Ok(id) = i32::try_from(p.c) else { return Ok(None) };
        let t = lock(&self.inner);
        let Some(e) = t.0.get(&id) else { return Ok(None) };
        let offset = usize::try_from(p.a).map_err(|_| BAD_PARAMETERS)?;
        let len = usize::try_from(p.b).map_err(|_| BAD_PARAMETERS)?;
        offset.checked_add(len).filter(|end| *end <= e.size).ok_or(BAD_PARAMETERS)?;
        Ok(Some(Memref { id, offset, len }))
    }

    /// A memref that must be ours.
    pub fn require(&self, p: &IoctlParam) -> Result<Memref, u32> {
        self.resolve(p)?.ok_or(BAD_PARAMETERS)
    }

    pub fn with<R>(&self, m: &Memref, f: impl FnOnce(&mut [u8]) -> R) -> Result<R, u32> {
        let mut t = lock(&self.inner);
        let e = t.0.get_mut(&m.id).ok_or(BAD_PARAMETERS)?;
        let end = m.offset.checked_add(m.len).filter(|end| *end <= e.size).ok_or(BAD_PARAMETERS)?;
        let bytes = e.buf.bytes_mut().get_mut(m.offset..end).ok_or(BAD_PARAMETERS)?;
        Ok(f(bytes))
    }

    /// A copy of at most `max` bytes from the start of `m`.
    pub fn read(&self, m: &Memref, max: usize) -> Result<Vec<u8>, u32> {
        self.with(m, |b| b.get(..max.min(b.len())).unwrap_or_default().to_vec())
    }

    /// Writes `data` at the start of `m`; it must fit.
    pub fn write(&self, m: &Memref, data: &[u8]) -> Result<(), u32> {
        self.with(m, |b| b.get_mut(..data.len()).map(|d| d.copy_from_slice(data)))?.ok_or(BAD_PARAMETERS)
    }
}
