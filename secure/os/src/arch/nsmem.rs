//! The OS's window on normal-world RAM, mapped non-secure: every access is a
//! bounds-checked copy (`NsMemory`), never a reference. The normal world
//! may write the memory while we copy it, so copies are volatile accesses
//! (whole aligned words where possible): the compiler may not merge,
//! repeat or elide them, and the copy is what is validated afterwards.

use oxtee_abi::addr::{NsPhys, NsRange};
use oxtee_core::nsmem::{BadAddr, NsMemory};

/// Normal-world RAM, identity-mapped non-secure by `mm`.
pub struct NsRam(pub NsRange);

impl NsRam {
    fn check(&self, pa: NsPhys, len: usize) -> Result<usize, BadAddr> {
        if self.0.contains(pa, len as u64) { Ok(pa.get() as usize) } else { Err(BadAddr) }
    }
}

const WORD: usize = 8;

impl NsMemory for NsRam {
    fn read(&self, pa: NsPhys, buf: &mut [u8]) -> Result<(), BadAddr> {
        let mut src = self.check(pa, buf.len())?;
        let mut i = 0;
        while i < buf.len() {
            if src % WORD == 0 && buf.len() - i >= WORD {
                // SAFETY: [src, src+8) is normal-world RAM (checked above),
                // identity-mapped non-secure by `mm`, and 8-byte aligned.
                let w = unsafe { core::ptr::read_volatile(src as *const u64) };
                buf[i..i + WORD].copy_from_slice(&w.to_ne_bytes());
                i += WORD;
                src += WORD;
            } else {
                // SAFETY: as above, one byte.
                buf[i] = unsafe { core::ptr::read_volatile(src as *const u8) };
                i += 1;
                src += 1;
            }
        }
        Ok(())
    }

    fn write(&self, pa: NsPhys, data: &[u8]) -> Result<(), BadAddr> {
        let mut dst = self.check(pa, data.len())?;
        let mut i = 0;
        while i < data.len() {
            if dst % WORD == 0 && data.len() - i >= WORD {
                let mut w = [0u8; WORD];
                w.copy_from_slice(&data[i..i + WORD]);
                // SAFETY: [dst, dst+8) is normal-world RAM (checked above),
                // mapped non-secure, 8-byte aligned; no secure reference
                // points into it.
                unsafe { core::ptr::write_volatile(dst as *mut u64, u64::from_ne_bytes(w)) };
                i += WORD;
                dst += WORD;
            } else {
                // SAFETY: as above, one byte.
                unsafe { core::ptr::write_volatile(dst as *mut u8, data[i]) };
                i += 1;
                dst += 1;
            }
        }
        Ok(())
    }
}
