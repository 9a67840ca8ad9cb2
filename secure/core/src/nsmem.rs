//! Access to non-secure memory, as the platform provides it. Every read is
//! a copy into secure memory; callers validate the copy, never the source.
//! The normal world may change the memory while it is copied: the platform
//! copies with accesses the compiler cannot merge, repeat or elide.

use oxtee_abi::addr::NsPhys;

/// A physical range of normal-world memory could not be accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddr;

pub trait NsMemory: Sync {
    /// Copies `buf.len()` bytes from normal-world physical address `pa`.
    fn read(&self, pa: NsPhys, buf: &mut [u8]) -> Result<(), BadAddr>;
    /// Copies `data` to normal-world physical address `pa`.
    fn write(&self, pa: NsPhys, data: &[u8]) -> Result<(), BadAddr>;
}

/// A test double: a window of fake normal-world RAM.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    pub struct FakeRam {
        pub base: u64,
        pub bytes: oxtee_guard::SpinLock<Vec<u8>>,
    }

    impl FakeRam {
        pub fn new(base: u64, size: usize) -> Self {
            FakeRam { base, bytes: oxtee_guard::SpinLock::new(vec![0; size]) }
        }

        /// `write` at a raw address (tests).
        pub fn put(&self, pa: u64, data: &[u8]) -> Result<(), BadAddr> {
            self.write(NsPhys::new(pa), data)
        }

        /// `read` at a raw address (tests).
        pub fn get(&self, pa: u64, buf: &mut [u8]) -> Result<(), BadAddr> {
            self.read(NsPhys::new(pa), buf)
        }

        fn range(&self, pa: NsPhys, len: usize) -> Result<core::ops::Range<usize>, BadAddr> {
            let off = pa.get().checked_sub(self.base).ok_or(BadAddr)? as usize;
            let end = off.checked_add(len).ok_or(BadAddr)?;
            if end > self.bytes.lock().len() { Err(BadAddr) } else { Ok(off..end) }
        }
    }

    impl NsMemory for FakeRam {
        fn read(&self, pa: NsPhys, buf: &mut [u8]) -> Result<(), BadAddr> {
            let r = self.range(pa, buf.len())?;
            buf.copy_from_slice(&self.bytes.lock()[r]);
            Ok(())
        }

        fn write(&self, pa: NsPhys, data: &[u8]) -> Result<(), BadAddr> {
            let r = self.range(pa, data.len())?;
            self.bytes.lock()[r].copy_from_slice(data);
            Ok(())
        }
    }
}
