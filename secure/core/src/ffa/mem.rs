//! Memory management: the normal world shares (FFA_MEM_SHARE) or lends
//! (FFA_MEM_LEND) its memory with secure endpoints through a transaction
//! descriptor in its TX buffer, possibly in fragments (FFA_MEM_FRAG_RX /
//! FFA_MEM_FRAG_TX), and takes it back with FFA_MEM_RECLAIM once every
//! receiver has let go. OP-TEE's endpoint retrieves what it is given at
//! once: the memory is entered into the `ShmRegistry` under the handle,
//! and "let go" means "no longer registered". Secure partitions retrieve
//! and relinquish explicitly (`Spmc::retrieve` / `relinquish`, or the
//! descriptor-level `Os::ffa_secure_call`).
//!
//! Everything the normal world drives is bounded: transactions, fragmented
//! transactions in flight, receivers, constituents, descriptor length, and
//! ranges over all transactions. Descriptors are copied out of the TX
//! buffer once and only the copy is parsed. Tables are allocated up front;
//! nothing allocates while their lock is held.

use super::{FfaError, Spmc, error, success, w};
use crate::Os;
use crate::shm::{Pages, ShmError};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use oxtee_abi::addr::{NsPhys, NsRange};
use oxtee_abi::ffa;
use oxtee_abi::ffa_mem as fm;
use oxtee_guard::SpinLock;
use zerocopy::IntoBytes;

const PAGE: u64 = fm::PAGE_SIZE;

/// Live transactions (complete or being fragmented), at least: the OS
/// allows as many as the registry takes buffers (`Spmc::with_limits`).
pub const MAX_TRANSACTIONS: usize = 64;
/// Transactions whose descriptor is still arriving in fragments.
pub const MAX_FRAGMENTED: usize = 4;
/// Receivers one transaction may name.
pub const MAX_RECEIVERS: usize = 4;
/// Constituents (address ranges) of one transaction: 64 MiB of scattered
/// 4 KiB pages. Linux's driver sends one range per run of contiguous
/// pages; a user buffer from malloc is mostly single pages (the 32 MiB
/// registered buffers of `oxtee-xtest big-memrefs`: up to 8192 ranges).
/// The descriptor is read into a heap buffer only after `room_for`.
pub const MAX_CONSTITUENTS: usize = 16384;
/// Ranges over all live transactions (bounds the overlap checks).
pub const MAX_ACTIVE_RANGES: usize = 1 << 16;
/// Longest descriptor accepted: a v1.1 header, every receiver, one
/// composite with every constituent.
pub const MAX_DESC_LEN: usize = fm::TRANSACTION_1_1_SIZE
    + MAX_RECEIVERS * fm::MEM_ACCESS_SIZE
    + fm::COMPOSITE_SIZE
    + MAX_CONSTITUENTS * fm::CONSTITUENT_SIZE;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Receiver {
    id: u16,
    perm: u8,
    /// Retrievals not yet relinquished (secure partitions).
    retrieved: u32,
}

/// One complete transaction.
struct Txn {
    handle: u64,
    sender: u16,
    share: bool,
    attr: u16,
    flags: u32,
    tag: u64,
    receivers: [Receiver; MAX_RECEIVERS],
    nrecv: usize,
    /// Byte ranges [start, end) in descriptor order, disjoint.
    ranges: Vec<(u64, u64)>,
    /// Retrieved by every receiver that retrieves on completion (OP-TEE):
    /// until then it cannot be reclaimed or retrieved.
    ready: bool,
}

impl Txn {
    fn receiver(&mut self, id: u16) -> Option<&mut Receiver> {
        self.receivers[..self.nrecv].iter_mut().find(|r| r.id == id)
    }
}

/// A descriptor arriving in fragments.
struct Pending {
    handle: u64,
    share: bool,
    total: usize,
    /// Taken out while a fragment is copied in (outside the lock).
    buf: Option<Vec<u8>>,
}

struct Tables {
    txns: Vec<Txn>,
    pending: Vec<Pending>,
    /// Ranges over `txns`.
    ranges: usize,
}

pub(super) struct MemState {
    t: SpinLock<Tables>,
    next_handle: AtomicU64,
    /// Most live transactions; their table is allocated on first use.
    max: usize,
}

impl MemState {
    pub(super) fn new(max: usize) -> Self {
        MemState {
            t: SpinLock::new(Tables { txns: Vec::new(), pending: Vec::with_capacity(MAX_FRAGMENTED), ranges: 0 }),
            next_handle: AtomicU64::new(1),
            max,
        }
    }

    /// Allocates the transaction table (outside the lock) if not yet done.
    fn ensure_table(&self) -> Result<(), FfaError> {
        if self.t.lock().txns.capacity() >= self.max {
            return Ok(());
        }
        let mut v = Vec::new();
        reserve(&mut v, self.max)?;
        let old = {
            let mut t = self.t.lock();
            if t.txns.capacity() < self.max && t.txns.is_empty() { core::mem::replace(&mut t.txns, v) } else { v }
        };
        drop(old);
        Ok(())
    }

    /// Live transactions and fragmented ones (tests, statistics).
    pub(super) fn counts(&self) -> (usize, usize) {
        let t = self.t.lock();
        (t.txns.len(), t.pending.len())
    }
}

/// A validated transaction descriptor.
struct Parsed {
    sender: u16,
    attr: u16,
    flags: u32,
    tag: u64,
    receivers: [Receiver; MAX_RECEIVERS],
    nrecv: usize,
    /// In descriptor order (the buffer's layout).
    ranges: Vec<(u64, u64)>,
    /// The same, sorted by address.
    sorted: Vec<(u64, u64)>,
    pages: u64,
}

/// What a secure endpoint retrieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retrieved {
    pub handle: u64,
    pub sender: u16,
    pub share: bool,
    /// The access the sender granted this receiver (`ffa_mem::PERM_*`).
    pub perm: u8,
    pub attr: u16,
    /// Physically contiguous ranges: address and page count.
    pub ranges: Vec<(NsPhys, u64)>,
}

const INVAL: FfaError = ffa::INVALID_PARAMETERS;

fn reserve<T>(v: &mut Vec<T>, n: usize) -> Result<(), FfaError> {
    let bytes = n.saturating_mul(size_of::<T>());
    if !oxtee_guard::heap::room_for(bytes) {
        return Err(ffa::NO_MEMORY);
    }
    v.try_reserve_exact(n).map_err(|_| ffa::NO_MEMORY)
}

impl Spmc {
    /// Checks a share/lend descriptor (`v1_1` layout, else v1.0) from the
    /// normal world; `ram` is where the normal world's memory is.
    fn parse_send(&self, desc: &[u8], v1_1: bool, share: bool, ram: NsRange) -> Result<Parsed, FfaError> {
        let h = fm::TransactionHeader::parse(desc, v1_1).map_err(|_| INVAL)?;
        if v1_1
            && (h.access_size != fm::MEM_ACCESS_SIZE
                || h.access_offs < fm::TRANSACTION_1_1_SIZE
                || !h.access_offs.is_multiple_of(8))
        {
            return Err(INVAL);
        }
        // The sender is a normal-world endpoint (any id: a hypervisor may
        // run VMs there); the handle is ours to give.
        if !h.reserved_zero || ffa::is_secure_id(h.sender_id) || h.global_handle != 0 {
            return Err(INVAL);
        }
        // Normal memory, write-back, inner shareable for a share; a lend
        // may leave the attributes to the borrower.
        let attr_ok = h.mem_reg_attr == fm::ATTR_NORMAL_WB_IS || (!share && h.mem_reg_attr == 0);
        let kind = if share { fm::FLAG_TYPE_SHARE } else { fm::FLAG_TYPE_LEND };
        let ty = h.flags & fm::FLAG_TYPE_MASK;
        let zero = fm::FLAG_ZERO_MEMORY | fm::FLAG_ZERO_AFTER_RELINQUISH;
        if !attr_ok || h.flags & fm::FLAGS_RESERVED != 0 || (ty != 0 && ty != kind) || (share && h.flags & zero != 0) {
            return Err(INVAL);
        }
        let n = h.access_count as usize;
        if n == 0 || n > MAX_RECEIVERS {
            return Err(INVAL);
        }
        let mut receivers = [Receiver::default(); MAX_RECEIVERS];
        let mut region = None;
        for i in 0..n {
            let a = h.access(desc, i as u32).map_err(|_| INVAL)?;
            let id = a.endpoint_id.get();
            let data = a.perm & fm::PERM_DATA_MASK;
            let instr = a.perm & fm::PERM_INSTR_MASK;
            let perm_ok = (data == fm::PERM_DATA_RO || data == fm::PERM_DATA_RW)
                && (instr == fm::PERM_INSTR_NOT_SPECIFIED || instr == fm::PERM_INSTR_NX)
                && a.perm & !(fm::PERM_DATA_MASK | fm::PERM_INSTR_MASK) == 0;
            if !self.is_partition(id) || receivers[..i].iter().any(|r| r.id == id) || !perm_ok || a.flags != 0 {
                return Err(INVAL);
            }
            // One composite, which every receiver names.
            let offs = a.region_offs.get() as usize;
            if *region.get_or_insert(offs) != offs {
                return Err(INVAL);
            }
            receivers[i] = Receiver { id, perm: a.perm, retrieved: 0 };
        }
        let (c, range) = fm::composite(desc, region.unwrap_or(0)).map_err(|_| INVAL)?;
        let count = c.address_range_count.get() as usize;
        if count == 0 {
            return Err(INVAL);
        }
        if count > MAX_CONSTITUENTS {
            return Err(ffa::NO_MEMORY);
        }
        let mut ranges = Vec::new();
        reserve(&mut ranges, count)?;
        let mut pages = 0u64;
        for i in 0..count {
            let k = fm::constituent(desc, &range, i).map_err(|_| INVAL)?;
            let (addr, n) = (k.address.get(), k.page_count.get() as u64);
            let len = n * PAGE;
            // Page-aligned, not empty, in normal-world RAM (never secure
            // memory).
            if n == 0 || !addr.is_multiple_of(PAGE) || !ram.contains(NsPhys::new(addr), len) {
                return Err(INVAL);
            }
            pages += n;
            ranges.push((addr, addr + len));
        }
        if pages != c.total_page_count.get() as u64 {
            return Err(INVAL);
        }
        // The order is the buffer's layout; overlaps are found in a sorted copy.
        let mut sorted = Vec::new();
        reserve(&mut sorted, count)?;
        sorted.extend_from_slice(&ranges);
        sorted.sort_unstable();
        if sorted.windows(2).any(|p| p[0].1 > p[1].0) {
            return Err(INVAL);
        }
        Ok(Parsed {
            sender: h.sender_id,
            attr: h.mem_reg_attr,
            flags: h.flags,
            tag: h.tag,
            receivers,
            nrecv: n,
            ranges,
            sorted,
            pages,
        })
    }

    fn new_handle(&self, os: &Os) -> u64 {
        loop {
            let h = self.mem.next_handle.fetch_add(1, Ordering::Relaxed) & !fm::HANDLE_HYPERVISOR_BIT;
            // A cookie the normal world registered otherwise (the SMC
            // ABI's REGISTER_SHM) is skipped.
            if h != 0 && !os.shm.contains(h) {
                return h;
            }
        }
    }

    /// Retrieves transaction `handle` for secure endpoint `receiver`.
    pub fn retrieve(&self, handle: u64, receiver: u16) -> Result<Retrieved, FfaError> {
        // OP-TEE's endpoint retrieved it on completion (the registry).
        if receiver == ffa::OPTEE_ID {
            return Err(ffa::DENIED);
        }
        let n = {
            let t = self.mem.t.lock();
            let x = t.txns.iter().find(|x| x.handle == handle && x.ready).ok_or(INVAL)?;
            x.ranges.len()
        };
        let mut out = Vec::new();
        reserve(&mut out, n)?;
        let mut t = self.mem.t.lock();
        let x = t.txns.iter_mut().find(|x| x.handle == handle && x.ready).ok_or(INVAL)?;
        if x.ranges.len() != n {
            return Err(INVAL);
        }
        let (sender, share, attr) = (x.sender, x.share, x.attr);
        let r = x.receiver(receiver).ok_or(ffa::DENIED)?;
        r.retrieved = r.retrieved.checked_add(1).ok_or(ffa::NO_MEMORY)?;
        let perm = r.perm;
        out.extend(x.ranges.iter().map(|&(s, e)| (NsPhys::new(s), (e - s) / PAGE)));
        drop(t);
        Ok(Retrieved { handle, sender, share, perm, attr, ranges: out })
    }

    /// Gives back one retrieval of `handle` by `receiver`.
    pub fn relinquish(&self, handle: u64, receiver: u16) -> Result<(), FfaError> {
        let mut t = self.mem.t.lock();
        let x = t.txns.iter_mut().find(|x| x.handle == handle && x.ready).ok_or(INVAL)?;
        let r = x.receiver(receiver).ok_or(INVAL)?;
        if r.retrieved == 0 {
            return Err(ffa::DENIED);
        }
        r.retrieved -= 1;
        Ok(())
    }
}

impl Os {
    pub(super) fn ffa_mem_send(
        &self,
        share: bool,
        total: u64,
        frag: u64,
        buf_addr: u64,
        buf_pages: u64,
    ) -> Result<[u64; 8], FfaError> {
        // Only the TX buffer carries descriptors here.
        if buf_addr != 0 || buf_pages != 0 {
            return Err(ffa::NOT_SUPPORTED);
        }
        let (tx, tx_size) = self.tx_buffer().ok_or(INVAL)?;
        self.ffa.mem.ensure_table()?;
        if total == 0 || frag == 0 || frag > total || frag > tx_size {
            return Err(INVAL);
        }
        if total > MAX_DESC_LEN as u64 {
            return Err(ffa::NO_MEMORY);
        }
        let mut desc = Vec::new();
        reserve(&mut desc, total as usize)?;
        desc.resize(frag as usize, 0);
        self.mem.read(tx, &mut desc).map_err(|_| INVAL)?;
        if frag == total {
            let h = self.ffa_mem_complete(share, desc, None)?;
            return Ok(success(h & 0xffff_ffff, h >> 32));
        }
        let handle = self.ffa.new_handle(self);
        {
            let mut t = self.ffa.mem.t.lock();
            if t.pending.len() >= MAX_FRAGMENTED || t.txns.len() + t.pending.len() >= self.ffa.mem.max {
                return Err(ffa::NO_MEMORY);
            }
            t.pending.push(Pending { handle, share, total: total as usize, buf: Some(desc) });
        }
        Ok(frag_rx(handle, frag))
    }

    pub(super) fn ffa_mem_frag_tx(&self, handle: u64, frag: u64) -> Result<[u64; 8], FfaError> {
        let (share, total, mut desc) = {
            let mut t = self.ffa.mem.t.lock();
            let p = t.pending.iter_mut().find(|p| p.handle == handle).ok_or(INVAL)?;
            // A fragment of this transaction is being copied on another CPU.
            let buf = p.buf.take().ok_or(ffa::BUSY)?;
            (p.share, p.total, buf)
        };
        let done = desc.len();
        let tx = self.tx_buffer();
        let ok = match tx {
            Some((tx, size)) if frag != 0 && frag <= size && frag <= (total - done) as u64 => {
                desc.resize(done + frag as usize, 0);
                self.mem.read(tx, &mut desc[done..]).is_ok()
            }
            _ => false,
        };
        let mut t = self.ffa.mem.t.lock();
        let Some(i) = t.pending.iter().position(|p| p.handle == handle) else {
            return Err(INVAL);
        };
        if !ok {
            // A bad fragment ends the transaction.
            let gone = t.pending.swap_remove(i);
            drop(t);
            drop(gone);
            drop(desc);
            return Err(INVAL);
        }
        if desc.len() < total {
            let got = desc.len() as u64;
            t.pending[i].buf = Some(desc);
            return Ok(frag_rx(handle, got));
        }
        let gone = t.pending.swap_remove(i);
        drop(t);
        drop(gone);
        let h = self.ffa_mem_complete(share, desc, Some(handle))?;
        Ok(success(h & 0xffff_ffff, h >> 32))
    }

    /// Validates a whole descriptor, records the transaction and lets
    /// OP-TEE's endpoint retrieve it. Returns the handle.
    fn ffa_mem_complete(&self, share: bool, desc: Vec<u8>, handle: Option<u64>) -> Result<u64, FfaError> {
        let ram = self.shm.config().ns_ram;
        let p = self.ffa.parse_send(&desc, self.ffa.nw_v1_1(), share, ram)?;
        drop(desc);
        // No transaction is larger than the registry's whole page budget
        // (this also bounds the clearing of a lend).
        if p.pages > self.shm.limits().pages {
            return Err(ffa::NO_MEMORY);
        }
        let to_optee = p.receivers[..p.nrecv].iter().any(|r| r.id == ffa::OPTEE_ID);
        // OP-TEE's retrieval: its page list, built before anything is
        // recorded (the registry's limits apply).
        let pages = if to_optee { Some(self.optee_pages(&p)?) } else { None };
        if !share && p.flags & fm::FLAG_ZERO_MEMORY != 0 {
            self.zero(&p.ranges)?;
        }
        let handle = handle.unwrap_or_else(|| self.ffa.new_handle(self));
        {
            let mut t = self.ffa.mem.t.lock();
            if t.txns.len() >= self.ffa.mem.max.min(t.txns.capacity()) || t.ranges + p.ranges.len() > MAX_ACTIVE_RANGES
            {
                return Err(ffa::NO_MEMORY);
            }
            // Memory already in another transaction is refused.
            let busy = t.txns.iter().any(|x| overlaps(&x.ranges, &p.sorted));
            if busy {
                return Err(ffa::DENIED);
            }
            t.ranges += p.ranges.len();
            t.txns.push(Txn {
                handle,
                sender: p.sender,
                share,
                attr: p.attr,
                flags: p.flags,
                tag: p.tag,
                receivers: p.receivers,
                nrecv: p.nrecv,
                ranges: p.ranges,
                ready: !to_optee,
            });
        }
        if let Some(pages) = pages {
            let r = self.shm.insert(handle, pages);
            let mut t = self.ffa.mem.t.lock();
            let i = t.txns.iter().position(|x| x.handle == handle);
            match (r, i) {
                (Ok(()), Some(i)) => t.txns[i].ready = true,
                (r, i) => {
                    let gone = i.map(|i| t.txns.swap_remove(i));
                    if let Some(g) = &gone {
                        t.ranges -= g.ranges.len();
                    }
                    drop(t);
                    drop(gone);
                    if r.is_ok() {
                        let _ = self.shm.unregister(handle);
                    }
                    return Err(match r {
                        Err(ShmError::OutOfMemory) | Err(ShmError::Exists) | Ok(()) => ffa::NO_MEMORY,
                        Err(_) => INVAL,
                    });
                }
            }
        }
        Ok(handle)
    }

    /// The pages of a transaction as a registered buffer for OP-TEE.
    fn optee_pages(&self, p: &Parsed) -> Result<Pages, FfaError> {
        if p.pages > self.shm.limits().pages {
            return Err(ffa::NO_MEMORY);
        }
        let mut v = Vec::new();
        reserve(&mut v, p.pages as usize)?;
        for &(s, e) in &p.ranges {
            let mut a = s;
            while a < e {
                v.push(NsPhys::new(a));
                a += PAGE;
            }
        }
        if !oxtee_guard::heap::room_for(64) {
            return Err(ffa::NO_MEMORY);
        }
        Ok(Pages::from_pages(Arc::new(v)))
    }

    fn zero(&self, ranges: &[(u64, u64)]) -> Result<(), FfaError> {
        let zeros = [0u8; 512];
        for &(s, e) in ranges {
            let mut a = s;
            while a < e {
                self.mem.write(NsPhys::new(a), &zeros).map_err(|_| INVAL)?;
                a += zeros.len() as u64;
            }
        }
        Ok(())
    }

    pub(super) fn ffa_mem_reclaim(&self, handle: u64, flags: u32) -> Result<[u64; 8], FfaError> {
        if flags & !(fm::RECLAIM_FLAG_ZERO | fm::RECLAIM_FLAG_TIME_SLICE) != 0 {
            return Err(INVAL);
        }
        let optee_holds = self.shm.contains(handle);
        let gone = {
            let mut t = self.ffa.mem.t.lock();
            // A descriptor still arriving: reclaiming it abandons it.
            if let Some(i) = t.pending.iter().position(|p| p.handle == handle && p.buf.is_some()) {
                let p = t.pending.swap_remove(i);
                drop(t);
                drop(p);
                return Ok(success(0, 0));
            }
            let i = t.txns.iter().position(|x| x.handle == handle).ok_or(INVAL)?;
            let x = &t.txns[i];
            // Only its owner (a normal-world sender) reclaims it, and only
            // once no receiver holds it.
            if ffa::is_secure_id(x.sender) || !x.ready {
                return Err(ffa::DENIED);
            }
            let held = x.receivers[..x.nrecv]
                .iter()
                .any(|r| if r.id == ffa::OPTEE_ID { optee_holds } else { r.retrieved > 0 });
            if held {
                return Err(ffa::DENIED);
            }
            if flags & fm::RECLAIM_FLAG_ZERO != 0 && x.share {
                return Err(INVAL);
            }
            let x = t.txns.swap_remove(i);
            t.ranges -= x.ranges.len();
            x
        };
        if flags & fm::RECLAIM_FLAG_ZERO != 0 {
            self.zero(&gone.ranges)?;
        }
        drop(gone);
        Ok(success(0, 0))
    }

    /// Live transactions and those still arriving in fragments.
    pub fn ffa_mem_counts(&self) -> (usize, usize) {
        self.ffa.mem.counts()
    }

    /// A memory call from secure endpoint `caller` (the descriptor-level
    /// interface a secure partition's calls will reach): FFA_MEM_RETRIEVE_REQ
    /// (descriptor in `tx`, whole, FF-A v1.1 layout; the response
    /// descriptor goes to `rx`) and FFA_MEM_RELINQUISH (descriptor in
    /// `tx`), and FFA_NOTIFICATION_SET from a secure sender.
    pub fn ffa_secure_call(&self, caller: u16, regs: &[u64; 8], tx: &[u8], rx: &mut Vec<u8>) -> [u64; 8] {
        if !self.ffa.is_partition(caller) {
            return error(ffa::INVALID_PARAMETERS);
        }
        let r = match regs[0] as u32 {
            ffa::MEM_RETRIEVE_REQ_32 | ffa::MEM_RETRIEVE_REQ_64 => {
                let (total, frag) = (w(regs[1]) as usize, w(regs[2]) as usize);
                if w(regs[3]) != 0 || w(regs[4]) != 0 {
                    Err(ffa::NOT_SUPPORTED)
                } else if total == 0 || total != frag || total > tx.len() {
                    Err(INVAL)
                } else {
                    self.ffa
                        .retrieve_req(caller, &tx[..total], rx)
                        .map(|n| [ffa::MEM_RETRIEVE_RESP as u64, n as u64, n as u64, 0, 0, 0, 0, 0])
                }
            }
            ffa::MEM_RELINQUISH => self.ffa.relinquish_req(caller, tx).map(|()| success(0, 0)),
            ffa::NOTIFICATION_SET => {
                let ids = w(regs[1]) as u32;
                let (sender, receiver) = ((ids >> 16) as u16, ids as u16);
                if sender != caller {
                    Err(INVAL)
                } else {
                    self.ffa
                        .notify(sender, receiver, w(regs[3]) | (w(regs[4]) << 32), w(regs[2]) as u32)
                        .map(|()| success(0, 0))
                }
            }
            _ => Err(ffa::NOT_SUPPORTED),
        };
        r.unwrap_or_else(error)
    }
}

impl Spmc {
    /// FFA_MEM_RETRIEVE_REQ: checks the request against the transaction,
    /// retrieves it and writes the response descriptor (v1.1) into `rx`.
    fn retrieve_req(&self, caller: u16, desc: &[u8], rx: &mut Vec<u8>) -> Result<usize, FfaError> {
        let h = fm::TransactionHeader::parse(desc, true).map_err(|_| INVAL)?;
        if h.access_size != fm::MEM_ACCESS_SIZE || h.access_offs < fm::TRANSACTION_1_1_SIZE || h.access_count != 1 {
            return Err(INVAL);
        }
        let a = h.access(desc, 0).map_err(|_| INVAL)?;
        if a.endpoint_id.get() != caller {
            return Err(INVAL);
        }
        // What the request may ask: the transaction as it is, no more access.
        let check = {
            let t = self.mem.t.lock();
            let x = t.txns.iter().find(|x| x.handle == h.global_handle && x.ready).ok_or(INVAL)?;
            let kind = if x.share { fm::FLAG_TYPE_SHARE } else { fm::FLAG_TYPE_LEND };
            let ty = h.flags & fm::FLAG_TYPE_MASK;
            let granted = x.receivers[..x.nrecv].iter().find(|r| r.id == caller).map(|r| r.perm);
            (x.sender, kind, ty, x.attr, granted, x.tag, x.flags)
        };
        let (sender, kind, ty, attr, granted, tag, flags) = check;
        let granted = granted.ok_or(ffa::DENIED)?;
        if h.sender_id != sender || (ty != 0 && ty != kind) || (h.mem_reg_attr != 0 && h.mem_reg_attr != attr) {
            return Err(INVAL);
        }
        if h.tag != tag {
            return Err(INVAL);
        }
        let want = a.perm & fm::PERM_DATA_MASK;
        if want == fm::PERM_DATA_RW && granted & fm::PERM_DATA_MASK == fm::PERM_DATA_RO {
            return Err(ffa::DENIED);
        }
        let got = self.retrieve(h.global_handle, caller)?;
        // Header, one access descriptor, the composite, its constituents.
        let comp = fm::TRANSACTION_1_1_SIZE + fm::MEM_ACCESS_SIZE;
        let len = comp + fm::COMPOSITE_SIZE + got.ranges.len() * fm::CONSTITUENT_SIZE;
        rx.clear();
        if reserve(rx, len).is_err() {
            let _ = self.relinquish(h.global_handle, caller);
            return Err(ffa::NO_MEMORY);
        }
        rx.resize(len, 0);
        let head = fm::TransactionHeader {
            sender_id: sender,
            mem_reg_attr: attr,
            flags: (flags & !fm::FLAG_TYPE_MASK) | kind,
            global_handle: h.global_handle,
            tag,
            access_count: 1,
            access_offs: fm::TRANSACTION_1_1_SIZE,
            access_size: fm::MEM_ACCESS_SIZE,
            reserved_zero: true,
        };
        head.write(rx, true);
        let acc = fm::MemAccess {
            endpoint_id: caller.into(),
            perm: granted,
            flags: 0,
            region_offs: (comp as u32).into(),
            reserved: 0.into(),
        };
        rx[fm::TRANSACTION_1_1_SIZE..comp].copy_from_slice(acc.as_bytes());
        let pages: u64 = got.ranges.iter().map(|r| r.1).sum();
        let c = fm::CompositeRegion {
            total_page_count: (pages as u32).into(),
            address_range_count: (got.ranges.len() as u32).into(),
            reserved: 0.into(),
        };
        rx[comp..comp + fm::COMPOSITE_SIZE].copy_from_slice(c.as_bytes());
        for (i, &(pa, n)) in got.ranges.iter().enumerate() {
            let k = fm::Constituent { address: pa.get().into(), page_count: (n as u32).into(), reserved: 0.into() };
            let at = comp + fm::COMPOSITE_SIZE + i * fm::CONSTITUENT_SIZE;
            rx[at..at + fm::CONSTITUENT_SIZE].copy_from_slice(k.as_bytes());
        }
        Ok(len)
    }

    /// FFA_MEM_RELINQUISH: the descriptor names the handle and the caller.
    fn relinquish_req(&self, caller: u16, desc: &[u8]) -> Result<(), FfaError> {
        use zerocopy::FromBytes;
        let (r, rest) = fm::Relinquish::read_from_prefix(desc).map_err(|_| INVAL)?;
        if r.endpoint_count.get() != 1 || r.flags.get() & !fm::FLAG_ZERO_AFTER_RELINQUISH != 0 || rest.len() < 2 {
            return Err(INVAL);
        }
        if u16::from_le_bytes([rest[0], rest[1]]) != caller {
            return Err(INVAL);
        }
        self.relinquish(r.handle.get(), caller)
    }
}

/// FFA_MEM_FRAG_RX: send the next fragment from `offset`.
fn frag_rx(handle: u64, offset: u64) -> [u64; 8] {
    [ffa::MEM_FRAG_RX as u64, handle & 0xffff_ffff, handle >> 32, offset, 0, 0, 0, 0]
}

/// True if any range of `a` meets any of `sorted` (sorted, disjoint).
fn overlaps(a: &[(u64, u64)], sorted: &[(u64, u64)]) -> bool {
    a.iter().any(|&(s, e)| {
        let i = sorted.partition_point(|r| r.1 <= s);
        i < sorted.len() && sorted[i].0 < e
    })
}
