//! FF-A v1.1 notifications between secure endpoints and normal-world
//! endpoints (VMs; id 0 without a hypervisor). A normal-world receiver
//! has a bitmap once it was created (FFA_NOTIFICATION_BITMAP_CREATE), binds
//! bits to a secure sender (BIND), and collects what that sender set (GET);
//! the SPMC raises the schedule receiver interrupt when a bit becomes
//! pending and tells the scheduler which endpoints have some (INFO_GET).
//! Only global notifications are implemented: per-vCPU flags are refused.

use super::{FfaError, Spmc, success};
use alloc::vec::Vec;
use oxtee_abi::ffa;
use oxtee_guard::SpinLock;

/// Normal-world bitmaps (one per VM).
pub const MAX_NW_BITMAPS: usize = 8;

const INVAL: FfaError = ffa::INVALID_PARAMETERS;

struct Bitmap {
    id: u16,
    /// Bits bound to a sender, and which sender each.
    bound: u64,
    binder: [u16; 64],
    /// Pending from secure partitions (SP bitmap) and from VMs.
    pending_sp: u64,
    pending_vm: u64,
    /// INFO_GET has reported this receiver since its last new bit.
    reported: bool,
}

impl Bitmap {
    fn pending(&self) -> bool {
        self.pending_sp | self.pending_vm != 0
    }
}

pub(super) struct NotifState {
    t: SpinLock<Vec<Bitmap>>,
}

impl NotifState {
    pub(super) fn new() -> Self {
        NotifState { t: SpinLock::new(Vec::with_capacity(MAX_NW_BITMAPS)) }
    }

    pub(super) fn bitmap_create(&self, vm: u16) -> Result<[u64; 8], FfaError> {
        if ffa::is_secure_id(vm) {
            return Err(INVAL);
        }
        let mut t = self.t.lock();
        if t.iter().any(|b| b.id == vm) {
            return Err(ffa::DENIED);
        }
        if t.len() >= t.capacity() {
            return Err(ffa::NO_MEMORY);
        }
        t.push(Bitmap { id: vm, bound: 0, binder: [0; 64], pending_sp: 0, pending_vm: 0, reported: false });
        Ok(success(0, 0))
    }

    pub(super) fn bitmap_destroy(&self, vm: u16) -> Result<[u64; 8], FfaError> {
        if ffa::is_secure_id(vm) {
            return Err(INVAL);
        }
        let mut t = self.t.lock();
        let i = t.iter().position(|b| b.id == vm).ok_or(INVAL)?;
        // Not while notifications wait for it.
        if t[i].pending() {
            return Err(ffa::DENIED);
        }
        t.swap_remove(i);
        Ok(success(0, 0))
    }

    /// FFA_NOTIFICATION_GET from the normal world: w1 receiver (15:0) and
    /// vCPU (31:16), w2 which bitmaps. Returns and clears them.
    pub(super) fn get_nw(&self, w1: u32, flags: u32) -> Result<[u64; 8], FfaError> {
        let vm = w1 as u16;
        let all = ffa::NOTIF_GET_SP | ffa::NOTIF_GET_VM | ffa::NOTIF_GET_SPM | ffa::NOTIF_GET_HYP;
        if ffa::is_secure_id(vm) || flags & !all != 0 {
            return Err(INVAL);
        }
        let mut t = self.t.lock();
        let b = t.iter_mut().find(|b| b.id == vm).ok_or(INVAL)?;
        let sp = if flags & ffa::NOTIF_GET_SP != 0 { core::mem::take(&mut b.pending_sp) } else { 0 };
        // VM-to-VM notifications are the hypervisor's; framework ones:
        // none are raised by this SPMC.
        let mut r = success(sp & 0xffff_ffff, sp >> 32);
        r[4..8].fill(0);
        Ok(r)
    }

    /// FFA_NOTIFICATION_INFO_GET: endpoints with pending notifications not
    /// reported yet, one id list each (global notifications: no vCPU ids).
    pub(super) fn info_get(&self, is64: bool) -> Result<[u64; 8], FfaError> {
        let per_reg = if is64 { 4 } else { 2 };
        let max = 5 * per_reg;
        let mut ids = [0u16; 20];
        let mut n = 0;
        let mut more = false;
        {
            let mut t = self.t.lock();
            for b in t.iter_mut().filter(|b| b.pending() && !b.reported) {
                if n == max {
                    more = true;
                    break;
                }
                ids[n] = b.id;
                b.reported = true;
                n += 1;
            }
        }
        if n == 0 {
            return Err(ffa::NO_DATA);
        }
        let fid = if is64 { ffa::SUCCESS_64 } else { ffa::SUCCESS_32 };
        let mut r = [fid as u64, 0, 0, 0, 0, 0, 0, 0];
        // Lists in 11:7; each list's vCPU count (0) in 2 bits from 12.
        r[2] = ((n as u64) << ffa::NOTIF_INFO_LIST_COUNT_SHIFT) | if more { ffa::NOTIF_INFO_MORE_PENDING } else { 0 };
        for (i, id) in ids[..n].iter().enumerate() {
            r[3 + i / per_reg] |= (*id as u64) << (16 * (i % per_reg));
        }
        Ok(r)
    }
}

impl Spmc {
    /// FFA_NOTIFICATION_BIND / UNBIND from the normal world: w1 sender
    /// (31:16) and receiver (15:0, the caller), w2 flags, bitmap.
    pub(super) fn notif_bind(&self, bind: bool, ids: u32, flags: u32, bits: u64) -> Result<[u64; 8], FfaError> {
        let (sender, vm) = ((ids >> 16) as u16, ids as u16);
        // Per-vCPU bindings are not implemented; unbind has no flags.
        if ffa::is_secure_id(vm) || !self.is_partition(sender) || flags != 0 || bits == 0 {
            return Err(INVAL);
        }
        let mut t = self.notif.t.lock();
        let b = t.iter_mut().find(|b| b.id == vm).ok_or(INVAL)?;
        if bind {
            if b.bound & bits != 0 {
                return Err(ffa::DENIED);
            }
            b.bound |= bits;
            for i in (0..64).filter(|i| bits & (1 << i) != 0) {
                b.binder[i] = sender;
            }
        } else {
            let mine =
                (0..64).filter(|i| b.bound & (1u64 << i) != 0 && b.binder[*i] == sender).fold(0u64, |m, i| m | 1 << i);
            if bits & !mine != 0 {
                return Err(ffa::DENIED);
            }
            b.bound &= !bits;
            b.pending_sp &= !bits;
        }
        Ok(success(0, 0))
    }

    /// FFA_NOTIFICATION_SET from the normal world (w1 sender 31:16,
    /// receiver 15:0): the receiver is a secure endpoint; none of ours
    /// binds normal-world senders yet, so a set is refused as unbound.
    pub(super) fn notif_set_from_nw(&self, ids: u32, flags: u32, bits: u64) -> Result<[u64; 8], FfaError> {
        let (sender, receiver) = ((ids >> 16) as u16, ids as u16);
        let known = ffa::NOTIF_FLAG_PER_VCPU | ffa::NOTIF_SET_DELAY_SRI;
        if ffa::is_secure_id(sender) || !self.is_partition(receiver) || flags & !known & 0xffff != 0 || bits == 0 {
            return Err(INVAL);
        }
        Err(ffa::DENIED)
    }

    /// Sets `bits` from secure endpoint `sender` for normal-world endpoint
    /// `receiver` (FFA_NOTIFICATION_SET of a secure sender): they must be
    /// bound to `sender`; the SRI is raised unless `flags` delays it.
    pub fn notify(&self, sender: u16, receiver: u16, bits: u64, flags: u32) -> Result<(), FfaError> {
        let known = ffa::NOTIF_FLAG_PER_VCPU | ffa::NOTIF_SET_DELAY_SRI;
        if !self.is_partition(sender) || ffa::is_secure_id(receiver) || bits == 0 || flags & !known & 0xffff != 0 {
            return Err(INVAL);
        }
        if flags & ffa::NOTIF_FLAG_PER_VCPU != 0 {
            return Err(INVAL);
        }
        {
            let mut t = self.notif.t.lock();
            let b = t.iter_mut().find(|b| b.id == receiver).ok_or(INVAL)?;
            let unbound =
                (0..64).any(|i| bits & (1u64 << i) != 0 && (b.bound & (1u64 << i) == 0 || b.binder[i] != sender));
            if unbound {
                return Err(ffa::DENIED);
            }
            b.pending_sp |= bits;
            b.reported = false;
        }
        if flags & ffa::NOTIF_SET_DELAY_SRI == 0
            && let Some(p) = self.platform()
        {
            p.raise_sri();
        }
        Ok(())
    }
}
