//! Access to non-secure memory, as the platform provides it. Every read is
//! a copy into secure memory; callers validate the copy, never the source.

/// A physical range of normal-world memory could not be accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddr;

pub trait NsMemory: Sync {
    /// Copies `buf.len()` bytes from normal-world physical address `pa`.
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), BadAddr>;
    /// Copies `data` to normal-world physical address `pa`.
    fn write(&self, pa: u64, data: &[u8]) -> Result<(), BadAddr>;
}

/// A test double: a window of fake normal-world RAM.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    pub struct FakeRam {
        pub base: u64,
        pub bytes: spin::Mutex<Vec<u8>>,
    }

    impl FakeRam {
        pub fn new(base: u64, size: usize) -> Self {
            FakeRam { base, bytes: spin::Mutex::new(vec![0; size]) }
        }

        fn range(&self, pa: u64, len: usize) -> Result<core::ops::Range<usize>, BadAddr> {
            let off = pa.checked_sub(self.base).ok_or(BadAddr)? as usize;
            let end = off.checked_add(len).ok_or(BadAddr)?;
            if end > self.bytes.lock().len() { Err(BadAddr) } else { Ok(off..end) }
        }
    }

    impl NsMemory for FakeRam {
        fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), BadAddr> {
            let r = self.range(pa, buf.len())?;
            buf.copy_from_slice(&self.bytes.lock()[r]);
            Ok(())
        }

        fn write(&self, pa: u64, data: &[u8]) -> Result<(), BadAddr> {
            let r = self.range(pa, data.len())?;
            self.bytes.lock()[r].copy_from_slice(data);
            Ok(())
        }
    }
}
