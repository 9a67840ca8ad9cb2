//! The host process's memory as the simulated normal world's "physical"
//! memory: physical address = host address. Client buffers, RPC buffers
//! and the TA's own stack and heap are all reached this way, so the core
//! copies to and from them with its ordinary normal-world accessors.

use oxtee_abi::addr::NsPhys;
use oxtee_core::nsmem::{BadAddr, NsMemory};

/// Lowest host address the simulator maps (page 0 stays unmapped, so a
/// null pointer is refused as on the device).
pub const HOST_LO: u64 = 0x1000;
/// End of the host's user address range the simulator maps (47-bit user
/// addresses: x86-64 Linux, and arm64 Linux's default mmap range).
pub const HOST_HI: u64 = 1 << 47;

/// Identity access to host memory.
pub struct HostRam;

pub static HOST_RAM: HostRam = HostRam;

fn check(pa: NsPhys, len: usize) -> Result<usize, BadAddr> {
    let start = pa.get();
    let end = start.checked_add(len as u64).ok_or(BadAddr)?;
    if start < HOST_LO || end > HOST_HI { Err(BadAddr) } else { Ok(start as usize) }
}

impl NsMemory for HostRam {
    fn read(&self, pa: NsPhys, buf: &mut [u8]) -> Result<(), BadAddr> {
        let at = check(pa, buf.len())?;
        if !buf.is_empty() {
            // What the core reads here (see `HostRam`): the simulator's own
            // message and RPC buffers, client buffers lent for the call,
            // and pointers the TA passes in syscalls (the SDK passes only
            // live references, ta/sdk/src/sys.rs); a raw syscall with a
            // bogus pointer can crash the test (ta/README.md).
            // SAFETY: each such range is live host memory for the call;
            // the TA thread is blocked while the core runs, so nothing
            // writes it meanwhile.
            unsafe { core::ptr::copy_nonoverlapping(at as *const u8, buf.as_mut_ptr(), buf.len()) };
        }
        Ok(())
    }

    fn write(&self, pa: NsPhys, data: &[u8]) -> Result<(), BadAddr> {
        let at = check(pa, data.len())?;
        if !data.is_empty() {
            // SAFETY: as for `read`: an output the simulator, the client or
            // the (blocked) TA thread handed over for this call.
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), at as *mut u8, data.len()) };
        }
        Ok(())
    }
}

/// A zeroed, 8-byte aligned host buffer with a stable address: what the
/// simulated normal world allocates for messages and RPC buffers.
pub struct HostBuf(Box<[u64]>);

impl HostBuf {
    pub fn new(len: usize) -> HostBuf {
        HostBuf(vec![0u64; len.div_ceil(8).max(1)].into_boxed_slice())
    }

    pub fn addr(&self) -> u64 {
        self.0.as_ptr() as u64
    }
}
