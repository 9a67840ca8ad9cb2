//! The OS's window on normal-world RAM, mapped non-secure: every access is a
//! bounds-checked copy (`NsMemory`), never a reference.

use oxtee_core::nsmem::{BadAddr, NsMemory};

pub struct NsRam {
    pub base: u64,
    pub size: u64,
}

impl NsRam {
    fn check(&self, pa: u64, len: usize) -> Result<(), BadAddr> {
        let end = pa.checked_add(len as u64).ok_or(BadAddr)?;
        if pa < self.base || end > self.base + self.size { Err(BadAddr) } else { Ok(()) }
    }
}

impl NsMemory for NsRam {
    fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), BadAddr> {
        self.check(pa, buf.len())?;
        // SAFETY: [pa, pa+len) is normal-world RAM, identity-mapped
        // non-secure by `mm`; the normal world may change it concurrently,
        // which a byte copy into our own buffer tolerates.
        unsafe { core::ptr::copy_nonoverlapping(pa as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    fn write(&self, pa: u64, data: &[u8]) -> Result<(), BadAddr> {
        self.check(pa, data.len())?;
        // SAFETY: as in read; the destination is normal-world memory that no
        // secure reference points into.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), pa as *mut u8, data.len()) };
        Ok(())
    }
}
