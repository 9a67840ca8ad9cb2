//! RPC from a trusted thread to the normal world: the SMC-level requests
//! (RPC_ALLOC / RPC_FREE / RPC_CMD) and the `optee_msg` commands built on
//! them (time, shared memory, notifications). Each thread keeps one RPC
//! argument buffer for its call, either the caller's (`CALL_WITH_RPC_ARG`)
//! or one it allocated with RPC_ALLOC; it lives in the thread's context,
//! not on its stack, so it survives an aborted call and is given back.
//! Messages are built and parsed in fixed buffers: an RPC allocates nothing.

use crate::env::ThreadEnv;
use crate::msg::{self, Dir, Param};
use crate::nsmem::NsMemory;
use crate::shm::{Pages, ShmRegistry};
use crate::threads::{Job, ThreadCtx};
use core::pin::Pin;
use oxtee_abi::addr::NsPhys;
use oxtee_abi::msg::MsgArgHeader;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::rpc;
use oxtee_abi::tee::TeeResult;
use oxtee_guard::Held;

/// Most parameters an RPC message carries (advertised with RPC_ARG).
pub const RPC_MAX_PARAMS: usize = 4;
const RPC_ARG_SIZE: usize = 32 + 32 * RPC_MAX_PARAMS;

fn split(v: u64) -> (u64, u64) {
    (v >> 32, v & 0xffff_ffff)
}

/// The byte offset an FMEM parameter's `offs` word names: `offs_low` and
/// `offs_high` (bits 47:0) plus `internal_offs` (63:48, the data's offset
/// in the share's first page).
pub fn fmem_offset(offs: u64) -> u64 {
    (offs & 0xFFFF_FFFF_FFFF) + (offs >> 48)
}

/// A parameter as the normal world's driver takes it: over FF-A every
/// memref is FMEM (Linux's FF-A transport refuses a TMEM one with
/// `BAD_PARAMETERS` before the supplicant sees the request), so a null
/// memref (a size query) names the invalid handle instead of address 0.
fn wire_param(p: Param, ffa: bool) -> Param {
    match p {
        Param::Tmem { dir, buf: 0, size, .. } if ffa => {
            Param::Rmem { dir, offs: 0, size, shm_ref: oxtee_abi::msg::FMEM_INVALID_GLOBAL_ID }
        }
        p => p,
    }
}

fn join(hi: u64, lo: u64) -> u64 {
    (hi << 32) | (lo & 0xffff_ffff)
}

/// A thread's RPC argument buffer in normal-world memory.
#[derive(Clone, Debug)]
pub struct RpcArg {
    pub pages: Pages,
    /// The normal world's cookie for it (what RPC_CMD passes in a1/a2).
    pub cookie: u64,
    /// Allocated by us with RPC_ALLOC (so we free or cache it).
    pub owned: bool,
}

/// One thread's RPC channel for the duration of a call.
pub struct Rpc<'a> {
    pub env: &'a mut dyn ThreadEnv,
    pub mem: &'a dyn NsMemory,
    pub shm: &'a ShmRegistry,
    /// The calling thread's context (its RPC buffer, ledger and jobs).
    pub t: &'a ThreadCtx,
}

/// Round trips to the normal world made by RPCs since boot (RPC_ALLOC,
/// RPC_FREE and RPC_CMD alike): the test PTA's `Resources` carries it, so
/// a benchmark can count an operation's RPCs.
pub static ROUND_TRIPS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

impl<'a> Rpc<'a> {
    /// One RPC: leaves for the normal world and returns its answer.
    fn round_trip(&mut self, a: [u64; 4]) -> crate::env::RpcReturn {
        ROUND_TRIPS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        self.env.rpc(a)
    }

    /// The same channel, borrowed again (for a nested context).
    pub fn reborrow(&mut self) -> Rpc<'_> {
        Rpc { env: &mut *self.env, mem: self.mem, shm: self.shm, t: self.t }
    }

    fn arg(&mut self) -> Result<(Pages, u64), TeeResult> {
        if let Some(a) = self.t.rpc_arg.lock().as_ref() {
            return Ok((a.pages.clone(), a.cookie));
        }
        let size = RPC_ARG_SIZE as u64;
        let r = self.round_trip([smc::RETURN_RPC_ALLOC as u64, size, 0, 0]);
        let pa = join(r[1], r[2]);
        let cookie = join(r[4], r[5]);
        if pa == 0 {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        match self.shm.ns_contiguous(NsPhys::new(pa), size) {
            Ok(pages) => {
                *self.t.rpc_arg.lock() = Some(RpcArg { pages: pages.clone(), cookie, owned: true });
                Ok((pages, cookie))
            }
            Err(_) => {
                // Unusable memory: hand it back and fail this RPC.
                let (hi, lo) = split(cookie);
                self.round_trip([smc::RETURN_RPC_FREE as u64, hi, lo, 0]);
                Err(TeeResult::ERROR_COMMUNICATION)
            }
        }
    }

    /// Frees an argument buffer this thread allocated (RPC_FREE).
    pub fn free_arg(&mut self, arg: RpcArg) {
        if arg.owned {
            let (hi, lo) = split(arg.cookie);
            self.round_trip([smc::RETURN_RPC_FREE as u64, hi, lo, 0]);
        }
    }

    /// Sends the wake-ups this thread owes before it may block.
    fn flush_wakes(&mut self) {
        while let Some(Job::Wake(key)) = self.t.next_job(true) {
            let _ = self.notify(rpc::NOTIFICATION_SEND, key);
        }
    }

    /// Sends RPC command `cmd` with `params`, which come back answered.
    pub fn cmd(&mut self, cmd: u32, params: &mut [Param]) -> Result<(), TeeResult> {
        self.flush_wakes();
        self.cmd_now(cmd, params)
    }

    fn cmd_now(&mut self, cmd: u32, params: &mut [Param]) -> Result<(), TeeResult> {
        let n = params.len();
        if n > RPC_MAX_PARAMS {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let (pages, cookie) = self.arg()?;
        // The normal world must say success explicitly.
        let hdr = MsgArgHeader { cmd, ret: TeeResult::ERROR_GENERIC.0, ..Default::default() };
        let mut buf = [0u8; RPC_ARG_SIZE];
        let mut wire = [Param::None; RPC_MAX_PARAMS];
        for (w, p) in wire.iter_mut().zip(params.iter()) {
            *w = wire_param(*p, self.shm.ffa_conduit());
        }
        let len = msg::encode_into(&hdr, &wire[..n], &[false; RPC_MAX_PARAMS][..n], &mut buf)
            .ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        pages.write(self.mem, 0, &buf[..len]).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        let (hi, lo) = split(cookie);
        self.round_trip([smc::RETURN_RPC_CMD as u64, hi, lo, 0]);
        pages.read(self.mem, 0, &mut buf[..len]).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        // The answer is normal-world data: parse it like any other input.
        let mut back = [Param::None; RPC_MAX_PARAMS];
        let mut meta = [false; RPC_MAX_PARAMS];
        let (reply, got) = msg::parse_into(&buf[..len], n, &mut back[..n], &mut meta[..n])
            .map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        if reply.ret != 0 {
            return Err(TeeResult(reply.ret));
        }
        if got != n {
            return Err(TeeResult::ERROR_COMMUNICATION);
        }
        params.copy_from_slice(&back[..n]);
        Ok(())
    }

    /// Normal-world time (OPTEE_RPC_CMD_GET_TIME): (seconds, nanoseconds).
    pub fn get_time(&mut self) -> Result<(u64, u64), TeeResult> {
        let mut p = [Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }];
        self.cmd(rpc::CMD_GET_TIME, &mut p)?;
        match p[0] {
            Param::Value { a, b, .. } if b < 1_000_000_000 => Ok((a, b)),
            _ => Err(TeeResult::ERROR_COMMUNICATION),
        }
    }

    /// Asks the normal world for `size` bytes of shared memory of `kind`
    /// (`rpc::SHM_TYPE_*`) into `slot`, an armed cell of the caller's: the
    /// allocation is recorded there before anything else can fail, so an
    /// abort frees it too.
    pub fn shm_alloc(
        &mut self,
        kind: u32,
        size: u64,
        mut slot: Pin<&mut Held<'_, Option<ShmAlloc<'a>>>>,
    ) -> Result<(), TeeResult> {
        // One value in; the normal world answers in the same slot with a
        // TMEM output (optionally NONCONTIG) carrying address and cookie.
        let mut p = [Param::Value { dir: Dir::In, a: kind as u64, b: size, c: 8 }];
        self.cmd(rpc::CMD_SHM_ALLOC, &mut p)?;
        // Over FF-A the answer is an FMEM output (the RMEM attribute
        // numbers): memory the normal world has just shared with us, named
        // by its FF-A handle.
        if let Param::Rmem { dir: Dir::Out, offs, size: got, shm_ref } = p[0]
            && self.shm.ffa_conduit()
        {
            *slot.as_mut().get() = Some(ShmAlloc { t: self.t, kind, cookie: shm_ref, pages: None });
            let pages = if got < size {
                Err(TeeResult::ERROR_COMMUNICATION)
            } else {
                self.adopt(shm_ref, fmem_offset(offs), size)
            };
            return self.settle(slot, pages);
        }
        let Param::Tmem { dir: Dir::Out, buf, size: got, shm_ref, noncontig } = p[0] else {
            return Err(TeeResult::ERROR_COMMUNICATION);
        };
        *slot.as_mut().get() = Some(ShmAlloc { t: self.t, kind, cookie: shm_ref, pages: None });
        let pages = if got < size {
            Err(TeeResult::ERROR_COMMUNICATION)
        } else if noncontig {
            self.shm.read_page_list(self.mem, &self.t.ledger, buf, size).map_err(|_| TeeResult::ERROR_COMMUNICATION)
        } else {
            self.shm.ns_contiguous(NsPhys::new(buf), size).map_err(|_| TeeResult::ERROR_COMMUNICATION)
        };
        self.settle(slot, pages)
    }

    /// FF-A memory the normal world answered SHM_ALLOC with: it must be
    /// registered (shared with OP-TEE's endpoint) and not taken already.
    fn adopt(&self, handle: u64, offs: u64, size: u64) -> Result<Pages, TeeResult> {
        self.shm.adopt(handle, offs, size).map_err(|_| TeeResult::ERROR_COMMUNICATION)
    }

    /// Records the checked memory of an allocation in `slot`, or frees it.
    fn settle(
        &mut self,
        mut slot: Pin<&mut Held<'_, Option<ShmAlloc<'a>>>>,
        pages: Result<Pages, TeeResult>,
    ) -> Result<(), TeeResult> {
        match pages {
            Ok(pg) => {
                if let Some(a) = slot.as_mut().get() {
                    a.pages = Some(pg);
                }
                Ok(())
            }
            Err(e) => {
                if let Some(mut a) = slot.as_mut().get().take() {
                    let _ = a.free(self);
                }
                Err(e)
            }
        }
    }

    fn notify(&mut self, what: u32, key: u32) -> Result<(), TeeResult> {
        let mut p = [Param::Value { dir: Dir::In, a: what as u64, b: key as u64, c: 0 }];
        self.cmd_now(rpc::CMD_NOTIFICATION, &mut p)
    }

    /// Blocks this thread in the normal world until `notif_send(key)`.
    pub fn notif_wait(&mut self, key: u32) -> Result<(), TeeResult> {
        self.flush_wakes();
        self.notify(rpc::NOTIFICATION_WAIT, key)
    }

    pub fn notif_send(&mut self, key: u32) -> Result<(), TeeResult> {
        self.flush_wakes();
        self.notify(rpc::NOTIFICATION_SEND, key)
    }
}

/// Application shared memory a thread keeps for the rest of its call
/// (`ThreadCtx::payload`): the storage RPCs' names and data go through it
/// without an allocation round trip each.
#[derive(Clone, Debug)]
pub struct Payload {
    pub pages: Pages,
    pub cookie: u64,
    pub size: u64,
}

impl Rpc<'_> {
    /// The thread's payload buffer, at least `size` bytes (a larger one
    /// replaces a smaller one).
    pub fn payload(&mut self, size: u64) -> Result<Payload, TeeResult> {
        if let Some(p) = self.t.payload.lock().as_ref().filter(|p| p.size >= size) {
            return Ok(p.clone());
        }
        self.drop_payload();
        let t = self.t;
        crate::hold!(shm = None, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        self.shm_alloc(rpc::SHM_TYPE_APPL, size, shm.as_mut())?;
        let Some(alloc) = shm.as_mut().get().take() else {
            return Err(TeeResult::ERROR_GENERIC);
        };
        let (cookie, pages) = alloc.keep().ok_or(TeeResult::ERROR_COMMUNICATION)?;
        let p = Payload { pages, cookie, size };
        *self.t.payload.lock() = Some(p.clone());
        Ok(p)
    }

    /// OPTEE_RPC_CMD_SHM_FREE of `cookie`. Memory the normal world shared
    /// over FF-A for the allocation leaves the registry first: it reclaims
    /// the share as soon as it has freed it.
    pub fn shm_free(&mut self, kind: u32, cookie: u64) -> Result<(), TeeResult> {
        self.shm.drop_adopted(cookie);
        let mut p = [Param::Value { dir: Dir::In, a: kind as u64, b: cookie, c: 0 }];
        self.cmd(rpc::CMD_SHM_FREE, &mut p)
    }

    /// Gives the thread's payload buffer back to the normal world.
    pub fn drop_payload(&mut self) {
        let old = self.t.payload.lock().take();
        if let Some(p) = old {
            let _ = self.shm_free(rpc::SHM_TYPE_APPL, p.cookie);
        }
    }
}

/// Shared memory the normal world allocated for this call (SHM_ALLOC).
/// `free` gives it back; if the owner is dropped without that (an error
/// path or an abort), the SHM_FREE is queued on the thread.
pub struct ShmAlloc<'a> {
    t: &'a ThreadCtx,
    kind: u32,
    cookie: u64,
    pages: Option<Pages>,
}

impl ShmAlloc<'_> {
    /// The memory (None only before `shm_alloc` has checked it).
    pub fn pages(&self) -> Option<&Pages> {
        self.pages.as_ref()
    }

    pub fn cookie(&self) -> u64 {
        self.cookie
    }

    /// Keeps the memory beyond this owner (its cookie and pages); the
    /// caller becomes responsible for freeing it. None (and freed later)
    /// if it was never checked.
    pub fn keep(mut self) -> Option<(u64, Pages)> {
        let pages = self.pages.take()?;
        self.kind = u32::MAX;
        Some((self.cookie, pages))
    }

    /// OPTEE_RPC_CMD_SHM_FREE now.
    pub fn free(&mut self, rpc: &mut Rpc) -> Result<(), TeeResult> {
        if self.cookie == 0 && self.kind == u32::MAX {
            return Ok(());
        }
        let (kind, cookie) = (self.kind, core::mem::replace(&mut self.cookie, 0));
        self.kind = u32::MAX;
        rpc.shm_free(kind, cookie)
    }
}

impl Drop for ShmAlloc<'_> {
    fn drop(&mut self) {
        if self.kind != u32::MAX {
            self.t.defer(Job::ShmFree { kind: self.kind, cookie: self.cookie });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_memrefs_are_fmem_over_ffa() {
        let null = Param::Tmem { dir: Dir::Out, buf: 0, size: 0, shm_ref: 0, noncontig: false };
        assert_eq!(wire_param(null, false), null);
        assert_eq!(
            wire_param(null, true),
            Param::Rmem { dir: Dir::Out, offs: 0, size: 0, shm_ref: oxtee_abi::msg::FMEM_INVALID_GLOBAL_ID }
        );
        // Anything else goes as it is.
        let v = Param::Value { dir: Dir::In, a: 1, b: 2, c: 3 };
        assert_eq!(wire_param(v, true), v);
        let r = Param::Rmem { dir: Dir::InOut, offs: 8, size: 16, shm_ref: 0x1234 };
        assert_eq!(wire_param(r, true), r);
    }
}
