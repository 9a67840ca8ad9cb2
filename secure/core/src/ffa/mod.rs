//! oxtee as the S-EL1 SPMC (FF-A v1.1, v1.0 callers accepted): the calls the
//! SPMD forwards from the normal world, answered from portable state (RX/TX
//! buffers, memory transactions, notifications), and OP-TEE's protocol over
//! direct messages, which runs on the same dispatch core as the SMC
//! transport (`std_call`, `threads`, `rpc`): a yielding call over FF-A is
//! handed to a trusted thread in its SMC form and its SMC-form result is
//! turned back into a direct response here.
//!
//! Everything a call names is checked before anything changes: a bad call
//! gets the FF-A error the spec names and leaves the state as it was. The
//! normal world's memory (RX/TX buffers, descriptors) is only ever copied
//! through `NsMemory`, once, and the copy validated.
//!
//! See docs/ffa.md ("The SPMC").

mod mem;
mod notif;
#[cfg(test)]
mod tests;

pub use mem::{
    MAX_ACTIVE_RANGES, MAX_CONSTITUENTS, MAX_DESC_LEN, MAX_FRAGMENTED, MAX_RECEIVERS, MAX_TRANSACTIONS, Retrieved,
};

use crate::Os;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use oxtee_abi::addr::NsPhys;
use oxtee_abi::ffa::{self, optee};
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::{OS_UUID, Uuid};
use oxtee_guard::SpinLock;

/// Where the answer to a direct request goes (w1 of the response swaps the
/// request's ids) and in which convention (32- or 64-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectRet {
    /// The requester (a normal-world endpoint).
    pub src: u16,
    /// The endpoint addressed (OP-TEE's).
    pub dst: u16,
    pub is64: bool,
}

/// What the OS must do with one forwarded FF-A call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfaAction {
    /// Answer with these registers (x0..x7): FFA_SUCCESS, FFA_ERROR, a
    /// direct response, ...
    Reply([u64; 8]),
    /// Run `call` (an OP-TEE yielding call in its SMC form:
    /// CALL_WITH_REGD_ARG or RETURN_FROM_RPC) on a trusted thread, then
    /// answer with `Os::ffa_thread_done(ret, result)`.
    Thread { call: [u64; 8], ret: DirectRet },
}

/// What the SPMC needs of the platform.
pub trait FfaPlatform: Sync {
    /// Raise the schedule receiver interrupt in the normal world (a
    /// notification for a normal-world endpoint is pending).
    fn raise_sri(&self);

    /// CPUs the secure world runs on: the execution contexts of OP-TEE's
    /// partition (`FFA_PARTITION_INFO_GET`).
    fn cpu_count(&self) -> u16 {
        1
    }
}

/// Most partitions (OP-TEE's endpoint and secure partitions) the SPMC knows.
pub const MAX_PARTITIONS: usize = 8;

/// A secure endpoint behind the SPMC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub id: u16,
    pub uuid: Uuid,
    /// Properties as FF-A v1.1 reports them (`ffa::PART_PROP_*`).
    pub props: u32,
}

/// The normal world's RX/TX buffer pair (FFA_RXTX_MAP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RxTx {
    tx: NsPhys,
    rx: NsPhys,
    /// Bytes in each buffer.
    size: u64,
    /// The RX buffer holds a message the caller has not released.
    rx_full: bool,
}

/// An FF-A error as an `i32` (`ffa::NOT_SUPPORTED`, ...).
pub type FfaError = i32;

/// The SPMC's state.
pub struct Spmc {
    platform: SpinLock<Option<&'static dyn FfaPlatform>>,
    /// The FF-A version the normal world negotiated (decides descriptor
    /// layouts); v1.1 until it says otherwise.
    nw_version: AtomicU32,
    rxtx: SpinLock<Option<RxTx>>,
    partitions: SpinLock<Vec<Partition>>,
    mem: mem::MemState,
    notif: notif::NotifState,
    /// ENABLE_ASYNC_NOTIF: bit 63 valid, 47:32 the normal-world endpoint,
    /// 31:0 the notification id.
    async_notif: AtomicU64,
}

impl Default for Spmc {
    fn default() -> Self {
        Self::new()
    }
}

/// OP-TEE's partition, as upstream's SPMC describes it.
pub const OPTEE_PARTITION: Partition = Partition {
    id: ffa::OPTEE_ID,
    uuid: OS_UUID,
    props: ffa::PART_PROP_DIRECT_REQ_RECV
        | ffa::PART_PROP_NOTIFICATION
        | ffa::PART_PROP_ID_TYPE_PE
        | ffa::PART_PROP_AARCH64,
};

const ASYNC_VALID: u64 = 1 << 63;

impl Spmc {
    pub fn new() -> Self {
        Self::with_max_transactions(mem::MAX_TRANSACTIONS)
    }

    /// An SPMC allowing `n` live memory transactions (at least
    /// `mem::MAX_TRANSACTIONS`).
    pub fn with_max_transactions(n: usize) -> Self {
        let mut partitions = Vec::with_capacity(MAX_PARTITIONS);
        partitions.push(OPTEE_PARTITION);
        Spmc {
            platform: SpinLock::new(None),
            nw_version: AtomicU32::new(ffa::VERSION_1_1),
            rxtx: SpinLock::new(None),
            partitions: SpinLock::new(partitions),
            mem: mem::MemState::new(n.max(mem::MAX_TRANSACTIONS)),
            notif: notif::NotifState::new(),
            async_notif: AtomicU64::new(0),
        }
    }

    /// The version the normal world negotiated.
    pub fn nw_version(&self) -> u32 {
        self.nw_version.load(Ordering::Acquire)
    }

    /// The version the normal world uses until it negotiates another
    /// through the SPMD: TF-A's SPMD answers the normal world's
    /// `FFA_VERSION` itself with 1.0, and never asks the SPMC, when the
    /// SPMC's manifest says 1.0; the OS then starts the SPMC at 1.0. Only
    /// 1.0 and 1.1 are taken; anything else changes nothing.
    pub fn set_initial_nw_version(&self, v: u32) {
        if v == ffa::VERSION_1_0 || v == ffa::VERSION_1_1 {
            self.nw_version.store(v, Ordering::Release);
        }
    }

    fn nw_v1_1(&self) -> bool {
        self.nw_version() >= ffa::VERSION_1_1
    }

    /// Adds a secure partition (the SPs of a later issue; tests). Its id
    /// must be a free secure id.
    pub fn add_partition(&self, p: Partition) -> Result<(), FfaError> {
        if !ffa::is_secure_id(p.id) || p.id == ffa::SPMC_ID || p.id == ffa::SPMD_ID {
            return Err(ffa::INVALID_PARAMETERS);
        }
        let mut parts = self.partitions.lock();
        if parts.iter().any(|q| q.id == p.id) {
            return Err(ffa::DENIED);
        }
        if parts.len() >= parts.capacity() {
            return Err(ffa::NO_MEMORY);
        }
        parts.push(p);
        Ok(())
    }

    /// True if `id` is a secure endpoint behind this SPMC.
    pub fn is_partition(&self, id: u16) -> bool {
        self.partitions.lock().iter().any(|p| p.id == id)
    }

    /// The asynchronous-notification id the normal world enabled
    /// (OPTEE_FFA_ENABLE_ASYNC_NOTIF) and the endpoint that did: setting
    /// that bit for that endpoint (`notify_nw`) starts a bottom half.
    pub fn async_notif_id(&self) -> Option<(u16, u32)> {
        let v = self.async_notif.load(Ordering::Acquire);
        (v & ASYNC_VALID != 0).then_some(((v >> 32) as u16, v as u32))
    }

    fn platform(&self) -> Option<&'static dyn FfaPlatform> {
        *self.platform.lock()
    }

    fn cpu_count(&self) -> u16 {
        self.platform().map_or(1, |p| p.cpu_count()).max(1)
    }
}

fn error(code: i32) -> [u64; 8] {
    [ffa::ERROR as u64, 0, code as u32 as u64, 0, 0, 0, 0, 0]
}

fn success(w2: u64, w3: u64) -> [u64; 8] {
    [ffa::SUCCESS_32 as u64, 0, w2, w3, 0, 0, 0, 0]
}

fn result(r: Result<[u64; 8], FfaError>) -> FfaAction {
    FfaAction::Reply(r.unwrap_or_else(error))
}

/// A 32-bit register (w-form) of an SMC32 call.
fn w(r: u64) -> u64 {
    r & 0xffff_ffff
}

/// Every function id this FF-A instance implements (FFA_FEATURES).
const FUNCTIONS: [u32; 33] = [
    ffa::ERROR,
    ffa::SUCCESS_32,
    ffa::SUCCESS_64,
    ffa::INTERRUPT,
    ffa::VERSION,
    ffa::FEATURES,
    ffa::RX_RELEASE,
    ffa::RXTX_MAP_32,
    ffa::RXTX_MAP_64,
    ffa::RXTX_UNMAP,
    ffa::PARTITION_INFO_GET,
    ffa::ID_GET,
    ffa::SPM_ID_GET,
    ffa::MSG_SEND_DIRECT_REQ_32,
    ffa::MSG_SEND_DIRECT_REQ_64,
    ffa::MSG_SEND_DIRECT_RESP_32,
    ffa::MSG_SEND_DIRECT_RESP_64,
    ffa::MEM_SHARE_32,
    ffa::MEM_SHARE_64,
    ffa::MEM_LEND_32,
    ffa::MEM_LEND_64,
    ffa::MEM_FRAG_RX,
    ffa::MEM_FRAG_TX,
    ffa::MEM_RECLAIM,
    ffa::MEM_RETRIEVE_REQ_32,
    ffa::MEM_RETRIEVE_REQ_64,
    ffa::NOTIFICATION_BITMAP_CREATE,
    ffa::NOTIFICATION_BITMAP_DESTROY,
    ffa::NOTIFICATION_BIND,
    ffa::NOTIFICATION_UNBIND,
    ffa::NOTIFICATION_SET,
    ffa::NOTIFICATION_GET,
    ffa::NOTIFICATION_INFO_GET_32,
];

impl Os {
    /// Tells the SPMC how to reach the platform (the schedule receiver
    /// interrupt, the CPU count). Call once at boot in FF-A mode.
    pub fn set_ffa_platform(&self, platform: &'static dyn FfaPlatform) {
        *self.ffa.platform.lock() = Some(platform);
    }

    /// One FF-A call the SPMD forwarded from the normal world (x0..x7).
    pub fn ffa_call(&self, regs: &[u64; 8]) -> FfaAction {
        self.shm.set_ffa_conduit();
        let fid = regs[0] as u32;
        match fid {
            ffa::VERSION => FfaAction::Reply(self.ffa_version(w(regs[1]) as u32)),
            ffa::FEATURES => result(self.ffa_features(w(regs[1]) as u32)),
            ffa::MSG_SEND_DIRECT_REQ_32 | ffa::MSG_SEND_DIRECT_REQ_64 => self.ffa_direct_req(regs),
            ffa::RXTX_MAP_32 => result(self.ffa_rxtx_map(w(regs[1]), w(regs[2]), w(regs[3]))),
            ffa::RXTX_MAP_64 => result(self.ffa_rxtx_map(regs[1], regs[2], w(regs[3]))),
            ffa::RXTX_UNMAP => result(self.ffa_rxtx_unmap(w(regs[1]))),
            ffa::RX_RELEASE => result(self.ffa_rx_release()),
            ffa::PARTITION_INFO_GET => result(self.ffa_partition_info_get(regs)),
            ffa::MEM_SHARE_32 | ffa::MEM_LEND_32 => {
                result(self.ffa_mem_send(fid == ffa::MEM_SHARE_32, w(regs[1]), w(regs[2]), w(regs[3]), w(regs[4])))
            }
            ffa::MEM_SHARE_64 | ffa::MEM_LEND_64 => {
                result(self.ffa_mem_send(fid == ffa::MEM_SHARE_64, w(regs[1]), w(regs[2]), regs[3], w(regs[4])))
            }
            ffa::MEM_FRAG_TX => result(self.ffa_mem_frag_tx(w(regs[1]) | (w(regs[2]) << 32), w(regs[3]))),
            ffa::MEM_RECLAIM => result(self.ffa_mem_reclaim(w(regs[1]) | (w(regs[2]) << 32), w(regs[3]) as u32)),
            ffa::NOTIFICATION_BITMAP_CREATE => result(self.ffa.notif.bitmap_create(w(regs[1]) as u16)),
            ffa::NOTIFICATION_BITMAP_DESTROY => result(self.ffa.notif.bitmap_destroy(w(regs[1]) as u16)),
            ffa::NOTIFICATION_BIND | ffa::NOTIFICATION_UNBIND => result(self.ffa.notif_bind(
                fid == ffa::NOTIFICATION_BIND,
                w(regs[1]) as u32,
                w(regs[2]) as u32,
                w(regs[3]) | (w(regs[4]) << 32),
            )),
            ffa::NOTIFICATION_SET => result(self.ffa.notif_set_from_nw(
                w(regs[1]) as u32,
                w(regs[2]) as u32,
                w(regs[3]) | (w(regs[4]) << 32),
            )),
            ffa::NOTIFICATION_GET => {
                self.ffa_async_drain();
                result(self.ffa.notif.get_nw(w(regs[1]) as u32, w(regs[2]) as u32))
            }
            ffa::NOTIFICATION_INFO_GET_32 | ffa::NOTIFICATION_INFO_GET_64 => {
                self.ffa_async_drain();
                result(self.ffa.notif.info_get(fid == ffa::NOTIFICATION_INFO_GET_64))
            }
            // The secure side of these (retrieve, relinquish) is for secure
            // endpoints; the normal world never borrows through us.
            _ => FfaAction::Reply(error(ffa::NOT_SUPPORTED)),
        }
    }

    /// FFA_VERSION (also what the SPMD's framework message negotiates):
    /// 1.1 for any 1.x with x >= 1, 1.0 for 1.0; the answer is the version
    /// used from now on, or NOT_SUPPORTED.
    fn negotiate(&self, requested: u32) -> Result<u32, FfaError> {
        if requested & (1 << 31) != 0 || requested >> 16 != 1 {
            return Err(ffa::NOT_SUPPORTED);
        }
        let v = if requested & 0xffff == 0 { ffa::VERSION_1_0 } else { ffa::VERSION_1_1 };
        self.ffa.nw_version.store(v, Ordering::Release);
        Ok(v)
    }

    fn ffa_version(&self, requested: u32) -> [u64; 8] {
        let v = self.negotiate(requested).unwrap_or(ffa::NOT_SUPPORTED as u32);
        [v as u64, 0, 0, 0, 0, 0, 0, 0]
    }

    fn ffa_features(&self, id: u32) -> Result<[u64; 8], FfaError> {
        if id & (1 << 31) == 0 {
            // A feature id (bits 7:0; the rest MBZ).
            return match id {
                ffa::FEATURE_SRI if self.ffa.nw_v1_1() => Ok(success(ffa::SRI_INTID as u64, 0)),
                _ => Err(ffa::NOT_SUPPORTED),
            };
        }
        let notif = matches!(
            id,
            ffa::NOTIFICATION_BITMAP_CREATE..=ffa::NOTIFICATION_INFO_GET_32 | ffa::NOTIFICATION_INFO_GET_64
        );
        if notif && !self.ffa.nw_v1_1() {
            return Err(ffa::NOT_SUPPORTED);
        }
        if FUNCTIONS.contains(&id) || id == ffa::NOTIFICATION_INFO_GET_64 {
            // RXTX_MAP: w2 bits 1:0 = 0, buffers of at least 4 KiB aligned
            // to 4 KiB. Memory calls: no buffer other than TX (bit 0 clear).
            Ok(success(0, 0))
        } else {
            Err(ffa::NOT_SUPPORTED)
        }
    }

    fn ffa_rxtx_map(&self, tx: u64, rx: u64, pages: u64) -> Result<[u64; 8], FfaError> {
        let count = pages & 0x3f;
        if pages & !0x3f != 0 || count == 0 {
            return Err(ffa::INVALID_PARAMETERS);
        }
        let size = count * oxtee_abi::ffa_mem::PAGE_SIZE;
        let page = oxtee_abi::ffa_mem::PAGE_SIZE;
        let ram = self.shm.config().ns_ram;
        let (txp, rxp) = (NsPhys::new(tx), NsPhys::new(rx));
        if !txp.is_aligned(page) || !rxp.is_aligned(page) {
            return Err(ffa::INVALID_PARAMETERS);
        }
        // Both in normal-world RAM (never secure memory), apart.
        if !ram.contains(txp, size) || !ram.contains(rxp, size) || (tx < rx + size && rx < tx + size) {
            return Err(ffa::INVALID_PARAMETERS);
        }
        let mut m = self.ffa.rxtx.lock();
        if m.is_some() {
            return Err(ffa::DENIED);
        }
        *m = Some(RxTx { tx: txp, rx: rxp, size, rx_full: false });
        Ok(success(0, 0))
    }

    fn ffa_rxtx_unmap(&self, w1: u64) -> Result<[u64; 8], FfaError> {
        // 31:16 names the VM whose buffers go (a hypervisor's); we hold
        // the one pair of the normal world.
        let id = (w1 >> 16) as u16;
        if ffa::is_secure_id(id) || w1 & 0xffff != 0 {
            return Err(ffa::INVALID_PARAMETERS);
        }
        self.ffa.rxtx.lock().take().map(|_| success(0, 0)).ok_or(ffa::INVALID_PARAMETERS)
    }

    fn ffa_rx_release(&self) -> Result<[u64; 8], FfaError> {
        let mut m = self.ffa.rxtx.lock();
        match m.as_mut() {
            Some(b) if b.rx_full => {
                b.rx_full = false;
                Ok(success(0, 0))
            }
            _ => Err(ffa::DENIED),
        }
    }

    /// The TX buffer's address and size (None if no pair is mapped).
    fn tx_buffer(&self) -> Option<(NsPhys, u64)> {
        self.ffa.rxtx.lock().map(|b| (b.tx, b.size))
    }

    fn ffa_partition_info_get(&self, regs: &[u64; 8]) -> Result<[u64; 8], FfaError> {
        let mut o = [0u8; 16];
        for i in 0..4 {
            o[4 * i..4 * i + 4].copy_from_slice(&(w(regs[1 + i]) as u32).to_le_bytes());
        }
        let uuid = Uuid::from_octets(o);
        let flags = w(regs[5]) as u32;
        let v1_1 = self.ffa.nw_v1_1();
        if flags & !ffa::PARTITION_INFO_COUNT_ONLY != 0 || (!v1_1 && flags != 0) {
            return Err(ffa::INVALID_PARAMETERS);
        }
        let mut found = [None; MAX_PARTITIONS];
        let mut n = 0;
        for p in self.ffa.partitions.lock().iter() {
            if uuid == Uuid::NIL || p.uuid == uuid {
                found[n] = Some(*p);
                n += 1;
            }
        }
        if n == 0 {
            return Err(ffa::INVALID_PARAMETERS);
        }
        let size = if v1_1 { ffa::PART_INFO_SIZE_1_1 } else { ffa::PART_INFO_SIZE_1_0 };
        let w3 = if v1_1 { size as u64 } else { 0 };
        if flags & ffa::PARTITION_INFO_COUNT_ONLY != 0 {
            return Ok(success(n as u64, w3));
        }
        // Claim the RX buffer, then fill it.
        let rx = {
            let mut m = self.ffa.rxtx.lock();
            let b = m.as_mut().ok_or(ffa::DENIED)?;
            if b.rx_full {
                return Err(ffa::BUSY);
            }
            if (n * size) as u64 > b.size {
                return Err(ffa::NO_MEMORY);
            }
            b.rx_full = true;
            b.rx
        };
        let cpus = self.ffa.cpu_count();
        let mut buf = [0u8; ffa::PART_INFO_SIZE_1_1 * MAX_PARTITIONS];
        for (i, p) in found[..n].iter().flatten().enumerate() {
            let d = &mut buf[i * size..(i + 1) * size];
            d[0..2].copy_from_slice(&p.id.to_le_bytes());
            d[2..4].copy_from_slice(&cpus.to_le_bytes());
            // v1.0 knows only the messaging bits (2:0).
            let props = if v1_1 { p.props } else { p.props & 0x7 };
            d[4..8].copy_from_slice(&props.to_le_bytes());
            if v1_1 {
                d[8..24].copy_from_slice(&p.uuid.to_octets());
            }
        }
        if self.mem.write(rx, &buf[..n * size]).is_err() {
            if let Some(b) = self.ffa.rxtx.lock().as_mut() {
                b.rx_full = false;
            }
            return Err(ffa::ABORTED);
        }
        Ok(success(n as u64, w3))
    }

    fn ffa_direct_req(&self, regs: &[u64; 8]) -> FfaAction {
        let is64 = regs[0] as u32 == ffa::MSG_SEND_DIRECT_REQ_64;
        let (src, dst) = (ffa::direct_src(regs[1]), ffa::direct_dst(regs[1]));
        let flags = w(regs[2]);
        if flags & ffa::FWK_MSG_BIT != 0 {
            return FfaAction::Reply(self.ffa_framework_msg(regs, src, dst));
        }
        if ffa::is_secure_id(src) || flags != 0 || dst != ffa::OPTEE_ID {
            return FfaAction::Reply(error(ffa::INVALID_PARAMETERS));
        }
        let ret = DirectRet { src, dst, is64 };
        let (w3, w4, w5, w6, w7) = (w(regs[3]) as u32, w(regs[4]), w(regs[5]), w(regs[6]), w(regs[7]));
        let resp = |r: [u64; 5]| FfaAction::Reply(direct_resp(ret, r));
        match w3 {
            optee::YIELDING_CALL_WITH_ARG => FfaAction::Thread {
                // The argument is in memory shared with us under handle
                // w5:w4, at offset w6; the RPC argument follows it.
                call: [smc::CALL_WITH_REGD_ARG as u64, w5, w4, w6, 0, 0, 0, 0],
                ret,
            },
            optee::YIELDING_CALL_RESUME => {
                FfaAction::Thread { call: [smc::RETURN_FROM_RPC as u64, 0, 0, w7, 0, 0, 0, 0], ret }
            }
            optee::GET_API_VERSION => resp([optee::API_MAJOR as u64, optee::API_MINOR as u64, 0, 0, 0]),
            optee::GET_OS_VERSION => resp([
                smc::OS_REVISION_MAJOR as u64,
                smc::OS_REVISION_MINOR as u64,
                self.fast.config().build_id >> 32,
                0,
                0,
            ]),
            optee::EXCHANGE_CAPABILITIES => {
                let mut caps = optee::SEC_CAP_ARG_OFFSET;
                if self.ffa.platform().is_some() && self.async_notif.available() {
                    caps |= optee::SEC_CAP_ASYNC_NOTIF;
                }
                resp([0, crate::rpc::RPC_MAX_PARAMS as u64, caps as u64, optee::MAX_ASYNC_NOTIF_VALUE as u64 - 1, 0])
            }
            optee::UNREGISTER_SHM => {
                // As upstream: unknown handles are not an error, a buffer
                // a call is using is BUSY.
                let code = match self.shm.unregister(w4 | (w5 << 32)) {
                    Ok(()) | Err(crate::shm::ShmError::NotFound) => 0,
                    Err(crate::shm::ShmError::Busy) => ffa::BUSY,
                    Err(_) => ffa::INVALID_PARAMETERS,
                };
                resp([code as u32 as u64, 0, 0, 0, 0])
            }
            optee::ENABLE_ASYNC_NOTIF => {
                let code = if w4 >= optee::MAX_ASYNC_NOTIF_VALUE as u64 {
                    TeeResult::ERROR_BAD_PARAMETERS.0
                } else {
                    self.ffa.async_notif.store(ASYNC_VALID | ((src as u64) << 32) | w4, Ordering::Release);
                    // The transport-independent side: top halves may now
                    // send values (the SMC transport's ENABLE fast call).
                    self.async_notif.enable();
                    0
                };
                resp([code as u64, 0, 0, 0, 0])
            }
            // Upstream answers services it does not know this way.
            _ => resp([TeeResult::ERROR_BAD_PARAMETERS.0 as u64, 0, 0, 0, 0]),
        }
    }

    /// A framework message from the SPMD: only the version negotiation
    /// reaches us (PSCI messages are the OS glue's).
    fn ffa_framework_msg(&self, regs: &[u64; 8], src: u16, dst: u16) -> [u64; 8] {
        let kind = regs[2] & ffa::FWK_MSG_TYPE_MASK;
        if src != ffa::SPMD_ID || dst != ffa::SPMC_ID {
            return error(ffa::INVALID_PARAMETERS);
        }
        if kind != ffa::FWK_MSG_VERSION_REQ || regs[0] as u32 != ffa::MSG_SEND_DIRECT_REQ_32 {
            return error(ffa::NOT_SUPPORTED);
        }
        let v = self.negotiate(w(regs[3]) as u32).unwrap_or(ffa::NOT_SUPPORTED as u32);
        [
            ffa::MSG_SEND_DIRECT_RESP_32 as u64,
            ffa::direct_ids(dst, src),
            ffa::FWK_MSG_BIT | ffa::FWK_MSG_VERSION_RESP,
            v as u64,
            0,
            0,
            0,
            0,
        ]
    }

    /// The registers answering a direct request whose yielding call ran on
    /// a thread and returned `smc` (a0..a3 in the SMC transport's form).
    pub fn ffa_thread_done(&self, ret: DirectRet, smc_ret: [u64; 4]) -> [u64; 8] {
        let code = smc_ret[0] as u32;
        let done = |w3: u32| direct_resp(ret, [w3 as u64, optee::RETURN_DONE as u64, 0, 0, 0]);
        match code {
            smc::RETURN_OK => done(0),
            smc::RETURN_RPC_CMD => direct_resp(ret, [0, optee::RETURN_RPC_CMD as u64, 0, 0, w(smc_ret[3])]),
            smc::RETURN_RPC_FOREIGN_INTR => direct_resp(ret, [0, optee::RETURN_INTERRUPT as u64, 0, 0, w(smc_ret[3])]),
            // No free thread: the normal world waits for one and retries.
            smc::RETURN_ETHREAD_LIMIT => done(TeeResult::ERROR_BUSY.0),
            smc::RETURN_ENOMEM => done(TeeResult::ERROR_OUT_OF_MEMORY.0),
            // A bad argument location, command or resume: upstream's
            // yielding-call path answers these TEE_ERROR_BAD_PARAMETERS.
            smc::RETURN_EBADADDR | smc::RETURN_EBADCMD | smc::RETURN_ERESUME => done(TeeResult::ERROR_BAD_PARAMETERS.0),
            _ => done(TeeResult::ERROR_GENERIC.0),
        }
    }

    /// Sets notification `bit` from OP-TEE's endpoint for normal-world
    /// endpoint `receiver` (which must have bound it to OP-TEE) and raises
    /// the schedule receiver interrupt.
    pub fn ffa_notify_nw(&self, receiver: u16, bit: u32) -> Result<(), FfaError> {
        if bit >= 64 {
            return Err(ffa::INVALID_PARAMETERS);
        }
        self.ffa.notify(ffa::OPTEE_ID, receiver, 1 << bit, 0)
    }

    /// The FF-A doorbell of asynchronous notifications (interrupt context:
    /// no lock is taken). The top half has recorded its value
    /// (`AsyncNotif::send`); this raises the schedule receiver interrupt,
    /// and the normal world's `NOTIFICATION_INFO_GET`/`GET` turn the
    /// pending values into notification bits (`ffa_async_drain`). False if
    /// the normal world has not enabled asynchronous notifications over
    /// FF-A or no platform can raise the interrupt.
    pub fn ffa_async_ring(&self) -> bool {
        if self.ffa.async_notif_id().is_none() {
            return false;
        }
        match self.ffa.platform() {
            Some(p) => {
                p.raise_sri();
                true
            }
            None => false,
        }
    }

    /// Moves the pending asynchronous-notification values into the FF-A
    /// notification bits of the endpoint that enabled them, as Linux's
    /// driver reads them: the bottom-half request is the id it gave in
    /// `ENABLE_ASYNC_NOTIF`, any other value is its own bit. A value whose
    /// bit the endpoint did not bind to us is dropped (it asked for none).
    fn ffa_async_drain(&self) {
        let Some((vm, bottom_half)) = self.ffa.async_notif_id() else {
            return;
        };
        while let (Some(v), _) = self.async_notif.take_value() {
            let bit = if v == crate::async_notif::VALUE_DO_BOTTOM_HALF { bottom_half } else { v };
            // Called from the normal world's own notification query: no
            // need for another schedule receiver interrupt.
            let _ = self.ffa.notify(ffa::OPTEE_ID, vm, 1 << bit, ffa::NOTIF_SET_DELAY_SRI);
        }
    }

    /// Signals the asynchronous notification the normal world enabled
    /// (see `Spmc::async_notif_id`); false if none is enabled or it is not
    /// bound.
    pub fn ffa_async_notify(&self) -> bool {
        match self.ffa.async_notif_id() {
            Some((vm, id)) => self.ffa_notify_nw(vm, id).is_ok(),
            None => false,
        }
    }
}

/// A direct response to `ret`'s request carrying w3..w7.
fn direct_resp(ret: DirectRet, w3_7: [u64; 5]) -> [u64; 8] {
    let fid = if ret.is64 { ffa::MSG_SEND_DIRECT_RESP_64 } else { ffa::MSG_SEND_DIRECT_RESP_32 };
    let [a, b, c, d, e] = w3_7;
    [fid as u64, ffa::direct_ids(ret.dst, ret.src), 0, a, b, c, d, e]
}
