//! RPMB: the protocol over OPTEE_RPC_CMD_RPMB and what is kept there.
//!
//! - [`frame`]: `struct rpmb_req`, the 512-byte data frames, message
//!   types and results, as the OP-TEE OS and tee-supplicant agree on them.
//! - [`device`]: one partition through an [`RpmbTransport`]: key
//!   programming, write counter, authenticated reads and writes, and the
//!   REE store's rollback anchor (block 0).
//! - [`fs`]: a small file system in the other blocks, implementing
//!   [`super::backend::Backend`] for TEE_STORAGE_PRIVATE_RPMB.
//! - [`RpcRpmb`]: the transport over OPTEE_RPC_CMD_RPMB.
//!
//! Use: keep one [`Rpmb`] (made from [`Device::new`] with
//! `keys::rpmb_key(huk)`) for the life of the OS behind a lock, and for
//! each call use [`over_rpc`]: it gives an [`RpmbFs`], which is the
//! storage engine's `Backend` and also reads and writes the rollback
//! anchor ([`RpmbFs::anchor_read`], [`RpmbFs::anchor_write`]).

pub mod device;
pub mod frame;
pub mod fs;

#[cfg(test)]
mod tests;

pub use device::{ANCHOR_BLOCK, Anchor, DevInfo, Device, Io, Rand, RpmbTransport};
pub use fs::{FsState, Rpmb, RpmbFs};

use crate::msg::{Dir, Param};
use crate::rpc::{Rpc, ShmAlloc};
use crate::storage::R;
use core::pin::Pin;
use oxtee_abi::rpc;
use oxtee_abi::tee::TeeResult;
use oxtee_guard::Held;

const PAGE: u64 = 4096;

/// Runs `f` on the RPMB file system (and through it the device and the
/// rollback anchor) with the calling thread's RPC channel: the shared
/// memory for the frames is allocated on first use, reused, and given
/// back before this returns (or by the abort path if the call is
/// aborted). The caller holds whatever lock serialises users of `rpmb`.
pub fn over_rpc<T>(rpmb: &mut Rpmb, rpc: &mut Rpc, rand: Rand, f: impl FnOnce(&mut RpmbFs) -> R<T>) -> R<T> {
    let t = rpc.t;
    crate::hold!(shm = None, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    let mut tr = RpcRpmb::new(rpc, shm.as_mut());
    let r = f(&mut rpmb.fs(Io { t: &mut tr, rand }));
    tr.finish();
    r
}

/// [`RpmbTransport`] over OPTEE_RPC_CMD_RPMB, as upstream sends it: one
/// buffer of application shared memory (SHM_ALLOC) holding the request
/// and, from the next page, the response; memref 0 (in) is the request,
/// memref 1 (out) the response. The buffer is kept for the next request
/// while it is big enough, and freed by [`RpcRpmb::finish`] (or, if the
/// call is aborted, by the ledger cell it lives in).
///
/// ```ignore
/// let t = rpc.t;
/// crate::hold!(shm = None, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
/// let mut io = RpcRpmb::new(&mut rpc, shm.as_mut());
/// /* ... Io { t: &mut io, rand } ... */
/// io.finish();
/// ```
pub struct RpcRpmb<'r, 'a, 'l> {
    rpc: &'r mut Rpc<'a>,
    shm: Pin<&'r mut Held<'l, Option<ShmAlloc<'a>>>>,
    cap: u64,
}

impl<'r, 'a, 'l> RpcRpmb<'r, 'a, 'l> {
    pub fn new(rpc: &'r mut Rpc<'a>, shm: Pin<&'r mut Held<'l, Option<ShmAlloc<'a>>>>) -> Self {
        RpcRpmb { rpc, shm, cap: 0 }
    }

    /// Gives the shared memory back now.
    pub fn finish(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if let Some(mut a) = self.shm.as_mut().get().take() {
            let _ = a.free(self.rpc);
        }
        self.cap = 0;
    }
}

impl RpmbTransport for RpcRpmb<'_, '_, '_> {
    fn request(&mut self, req: &[u8], rsp: &mut [u8]) -> R<()> {
        let req_s = (req.len() as u64).div_ceil(PAGE) * PAGE;
        let need = req_s + (rsp.len() as u64).div_ceil(PAGE) * PAGE;
        if self.cap < need || self.shm.as_mut().get().is_none() {
            self.release();
            // Room for the largest read at once (a page of request, the
            // most frames a read asks for), so one buffer serves a call.
            let size = need.max(PAGE + (device::MAX_READ_BLOCKS * frame::FRAME) as u64);
            self.rpc.shm_alloc(rpc::SHM_TYPE_APPL, size, self.shm.as_mut())?;
            self.cap = size;
        }
        let (pages, cookie) = match self.shm.as_mut().get().as_ref() {
            Some(a) => (a.pages().cloned().ok_or(TeeResult::ERROR_GENERIC)?, a.cookie()),
            None => return Err(TeeResult::ERROR_GENERIC),
        };
        let mem = self.rpc.mem;
        let comm = |_| TeeResult::ERROR_COMMUNICATION;
        pages.write(mem, 0, req).map_err(comm)?;
        // The response buffer starts as the caller prepared it (a device
        // information request presets its return code to "error").
        pages.write(mem, req_s, rsp).map_err(comm)?;
        let mut p = [
            Param::Rmem { dir: Dir::In, offs: 0, size: req.len() as u64, shm_ref: cookie },
            Param::Rmem { dir: Dir::Out, offs: req_s, size: rsp.len() as u64, shm_ref: cookie },
        ];
        self.rpc.cmd(rpc::CMD_RPMB, &mut p)?;
        // Whatever size the answer claims, the caller checks the content.
        pages.read(mem, req_s, rsp).map_err(comm)
    }
}
