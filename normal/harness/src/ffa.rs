//! The harness's FF-A mode (`cargo xtask run --ffa`): the monitor is an
//! SPMD and the OS the S-EL1 SPMC, and the harness talks to them as Linux's
//! FF-A driver and its OP-TEE FF-A transport do: version, ids, features,
//! the RX/TX pair, partition info by OP-TEE's UUID, OP-TEE's direct
//! messages, memory shared with `FFA_MEM_SHARE` (whole and fragmented
//! descriptors), yielding calls with their argument in shared memory and
//! the RPCs they make (kernel buffers shared and reclaimed), the
//! interrupt returns, and the same from every CPU. A few calls the SPMD
//! and SPMC must refuse are checked along the way.

use crate::checks::{DELIBERATE_ABORTS, check, eq};
use crate::client::{invoke_msg, open_msg, value};
use crate::{FINISHED, arch, irq, say, shm};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use oxtee_abi::async_notif_pta as an;
use oxtee_abi::ffa::{self, optee as o};
use oxtee_abi::ffa_mem as fm;
use oxtee_abi::msg as m;
use oxtee_abi::rpc;
use oxtee_abi::smc::psci;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as t;
use oxtee_abi::uuid::OS_UUID;
use oxtee_core::msg::{self, Dir, Message, Param};
use oxtee_platform::cpu_mpidr;
use spin::Mutex;
use zerocopy::IntoBytes;

/// The context id secondaries get in FF-A mode.
pub const ROUND: u64 = 0xffa;

/// OP-TEE's endpoint id, from the partition info.
static OPTEE: AtomicU16 = AtomicU16::new(ffa::OPTEE_ID);
/// The TX buffer (one per endpoint: calls that fill it hold the lock).
static TX: Mutex<u64> = Mutex::new(0);
static RX: AtomicU64 = AtomicU64::new(0);
/// Buffers shared for RPC SHM_ALLOC, by handle.
static RPC_SHM: Mutex<Vec<(u64, Vec<u64>)>> = Mutex::new(Vec::new());
static RPC_SHARES: AtomicU64 = AtomicU64::new(0);
static INTERRUPT_RETURNS: AtomicU64 = AtomicU64::new(0);
/// The OS is its default build (no test PTA).
static NO_TEST_PTA: AtomicBool = AtomicBool::new(false);
/// Parameters the RPC argument has room for (EXCHANGE_CAPABILITIES).
static RPC_PARAMS: AtomicU64 = AtomicU64::new(4);

const TICK_MS: u64 = 10;

fn regs(fid: u32) -> [u64; 8] {
    [fid as u64, 0, 0, 0, 0, 0, 0, 0]
}

fn w(v: u64) -> u32 {
    v as u32
}

/// Whether the monitor is an SPMD (a classic monitor answers FF-A ids
/// with NOT_SUPPORTED).
pub fn detect() -> bool {
    w(arch::smc8(regs(ffa::ID_GET))[0]) == ffa::SUCCESS_32
}

fn optee() -> u16 {
    OPTEE.load(Ordering::Relaxed)
}

/// A 32-bit direct request to OP-TEE with w3..w7.
fn direct(d: [u64; 5]) -> [u64; 8] {
    let mut r = [ffa::MSG_SEND_DIRECT_REQ_32 as u64, ffa::direct_ids(0, optee()), 0, 0, 0, 0, 0, 0];
    r[3..8].copy_from_slice(&d);
    arch::smc8(r)
}

fn is_resp(r: &[u64; 8]) -> bool {
    w(r[0]) == ffa::MSG_SEND_DIRECT_RESP_32 && r[1] as u32 as u64 == ffa::direct_ids(optee(), 0)
}

fn is_error(r: &[u64; 8], code: i32) -> bool {
    w(r[0]) == ffa::ERROR && w(r[2]) as i32 == code
}

/// Page runs of `pages` (contiguous neighbours merged).
fn ranges(pages: &[u64]) -> Vec<(u64, u32)> {
    let mut out: Vec<(u64, u32)> = Vec::new();
    for &p in pages {
        match out.last_mut() {
            Some((a, n)) if *a + *n as u64 * 4096 == p => *n += 1,
            _ => out.push((p, 1)),
        }
    }
    out
}

/// The v1.1 transaction descriptor sharing `pages` with OP-TEE.
fn share_descriptor(pages: &[u64], receiver: u16) -> Vec<u8> {
    raw_descriptor(ffa::NS_ENDPOINT_ID, receiver, &ranges(pages), pages.len() as u32)
}

/// A v1.1 transaction descriptor from `sender` to `receiver` with the
/// constituents and page total as given (the hostile cases bend them).
fn raw_descriptor(sender: u16, receiver: u16, rs: &[(u64, u32)], total_pages: u32) -> Vec<u8> {
    let comp = fm::TRANSACTION_1_1_SIZE + fm::MEM_ACCESS_SIZE;
    let first = comp + fm::COMPOSITE_SIZE;
    let mut d = vec![0u8; first + rs.len() * fm::CONSTITUENT_SIZE];
    let h = fm::TransactionHeader {
        sender_id: sender,
        mem_reg_attr: fm::ATTR_NORMAL_WB_IS,
        flags: 0,
        global_handle: 0,
        tag: 0,
        access_count: 1,
        access_offs: fm::TRANSACTION_1_1_SIZE,
        access_size: fm::MEM_ACCESS_SIZE,
        reserved_zero: true,
    };
    h.write(&mut d, true);
    let a = fm::MemAccess {
        endpoint_id: receiver.into(),
        perm: fm::PERM_DATA_RW,
        flags: 0,
        region_offs: (comp as u32).into(),
        reserved: 0.into(),
    };
    d[fm::TRANSACTION_1_1_SIZE..comp].copy_from_slice(a.as_bytes());
    let c = fm::CompositeRegion {
        total_page_count: total_pages.into(),
        address_range_count: (rs.len() as u32).into(),
        reserved: 0.into(),
    };
    d[comp..first].copy_from_slice(c.as_bytes());
    for (i, (addr, n)) in rs.iter().enumerate() {
        let k = fm::Constituent { address: (*addr).into(), page_count: (*n).into(), reserved: 0.into() };
        d[first + i * fm::CONSTITUENT_SIZE..][..fm::CONSTITUENT_SIZE].copy_from_slice(k.as_bytes());
    }
    d
}

/// Sends descriptor `d` with `MEM_SHARE` in fragments of at most `frag`
/// bytes (the first holds at least the header, access and composite
/// descriptors). Returns the handle, or the registers of the failure.
fn share_desc(d: &[u8], frag: usize) -> Result<u64, [u64; 8]> {
    let tx = TX.lock();
    let total = d.len();
    let first = total.min(frag.max(fm::TRANSACTION_1_1_SIZE + fm::MEM_ACCESS_SIZE + fm::COMPOSITE_SIZE));
    arch::write_mem(*tx, &d[..first]);
    let mut r = arch::smc8([ffa::MEM_SHARE_64 as u64, total as u64, first as u64, 0, 0, 0, 0, 0]);
    let mut sent = first;
    while w(r[0]) == ffa::MEM_FRAG_RX {
        if w(r[3]) as usize != sent || sent >= total {
            return Err(r);
        }
        let n = (total - sent).min(frag);
        arch::write_mem(*tx, &d[sent..sent + n]);
        r = arch::smc8([ffa::MEM_FRAG_TX as u64, w(r[1]) as u64, w(r[2]) as u64, n as u64, 0, 0, 0, 0]);
        sent += n;
    }
    if w(r[0]) == ffa::SUCCESS_32 || w(r[0]) == ffa::SUCCESS_64 {
        Ok(w(r[2]) as u64 | (w(r[3]) as u64) << 32)
    } else {
        Err(r)
    }
}

fn share(pages: &[u64], frag: usize) -> Result<u64, [u64; 8]> {
    share_desc(&share_descriptor(pages, optee()), frag)
}

fn reclaim(handle: u64) -> [u64; 8] {
    arch::smc8([ffa::MEM_RECLAIM as u64, handle & 0xffff_ffff, handle >> 32, 0, 0, 0, 0, 0])
}

fn pages(n: usize) -> Vec<u64> {
    (0..n)
        .map(|_| {
            let p = shm::page_alloc().expect("page heap exhausted");
            arch::write_mem(p, &[0u8; 4096]);
            p
        })
        .collect()
}

/// An argument buffer shared with OP-TEE.
struct Shared {
    handle: u64,
    page: u64,
}

/// A yielding call over FF-A with `msg` at `offset` of `sh`, serving its
/// RPCs to the end. Returns the answer (None if the transport failed).
fn yielding(cpu: usize, sh: &Shared, offset: u64, msg: &Message) -> Option<Message> {
    yielding_lingering(cpu, sh, offset, msg, 0)
}

/// `yielding`, staying `linger_ms` in the normal world after the first
/// RETURN_INTERRUPT (so a secure timer the call armed fires while the
/// normal world runs).
fn yielding_lingering(cpu: usize, sh: &Shared, offset: u64, msg: &Message, linger_ms: u64) -> Option<Message> {
    let mut linger = linger_ms;
    let n = msg.params.len();
    arch::write_mem(sh.page + offset, &msg.encode());
    let rpc_at = sh.page + offset + msg::size_for(n) as u64;
    let rpc_params = RPC_PARAMS.load(Ordering::Relaxed) as usize;
    arch::write_mem(rpc_at, &vec![0u8; msg::size_for(rpc_params)]);
    let mut req = [o::YIELDING_CALL_WITH_ARG as u64, sh.handle & 0xffff_ffff, sh.handle >> 32, offset, 0];
    loop {
        let r = direct(req);
        if !is_resp(&r) || w(r[3]) != 0 {
            check(false, cpu, "yielding call answered", format_args!("{r:x?}"));
            return None;
        }
        match w(r[4]) {
            o::RETURN_DONE => break,
            o::RETURN_RPC_CMD => serve_rpc(rpc_at, rpc_params),
            o::RETURN_INTERRUPT => {
                // The normal world's interrupt was taken when the SMC
                // returned (IRQs are unmasked here); resume.
                INTERRUPT_RETURNS.fetch_add(1, Ordering::Relaxed);
                if linger > 0 {
                    let until = arch::counter() + arch::counter_freq() * linger / 1000;
                    while arch::counter() < until {
                        core::hint::spin_loop();
                    }
                    linger = 0;
                }
            }
            other => {
                check(false, cpu, "yielding call return code", format_args!("{other:#x}"));
                return None;
            }
        }
        // As Linux: w4..w6 zero, w7 (the thread) as the response left it.
        req = [o::YIELDING_CALL_RESUME as u64, 0, 0, 0, r[7]];
    }
    let mut back = vec![0u8; msg::size_for(n)];
    arch::read_mem(sh.page + offset, &mut back);
    msg::parse(&back, n).ok()
}

/// One RPC command in the RPC argument at `pa`, as Linux's FF-A transport
/// serves it: kernel buffers are shared with `MEM_SHARE` and named by
/// their handle (FMEM); freeing one reclaims it.
fn serve_rpc(pa: u64, max: usize) {
    let mut buf = vec![0u8; msg::size_for(max)];
    arch::read_mem(pa, &mut buf);
    let Ok(mut mg) = msg::parse(&buf, max) else {
        return;
    };
    mg.hdr.ret = 0;
    match (mg.hdr.cmd, mg.params.first().copied()) {
        (rpc::CMD_GET_TIME, Some(Param::Value { dir: Dir::Out, .. })) => {
            let (cnt, frq) = (arch::counter(), arch::counter_freq());
            mg.params[0] = Param::Value { dir: Dir::Out, a: cnt / frq, b: (cnt % frq) * 1_000_000_000 / frq, c: 0 };
        }
        (rpc::CMD_SHM_ALLOC, Some(Param::Value { dir: Dir::In, b: size, .. })) => {
            let ps = pages(size.div_ceil(4096).max(1) as usize);
            match share(&ps, 4096) {
                Ok(handle) => {
                    RPC_SHARES.fetch_add(1, Ordering::Relaxed);
                    RPC_SHM.lock().push((handle, ps));
                    mg.params[0] = Param::Rmem { dir: Dir::Out, offs: 0, size, shm_ref: handle };
                }
                Err(_) => {
                    ps.iter().for_each(|p| shm::page_free(*p));
                    mg.hdr.ret = TeeResult::ERROR_OUT_OF_MEMORY.0;
                }
            }
        }
        (rpc::CMD_SHM_FREE, Some(Param::Value { dir: Dir::In, b: handle, .. })) => {
            let found = {
                let mut l = RPC_SHM.lock();
                l.iter().position(|(h, _)| *h == handle).map(|i| l.swap_remove(i))
            };
            match found {
                Some((h, ps)) => {
                    let r = reclaim(h);
                    let ok = w(r[0]) == ffa::SUCCESS_32;
                    check(ok, arch::cpu_index(), "reclaim an RPC buffer", format_args!("{r:x?}"));
                    if ok {
                        ps.iter().for_each(|p| shm::page_free(*p));
                    }
                }
                None => mg.hdr.ret = TeeResult::ERROR_BAD_PARAMETERS.0,
            }
        }
        // Linux's FF-A transport converts an RPC's parameters before the
        // supplicant sees them and takes only values and FMEM memrefs (a
        // null one by the invalid handle): anything else is refused with
        // BAD_PARAMETERS. No TA store here: ITEM_NOT_FOUND.
        (rpc::CMD_LOAD_TA, _) => {
            let ffa_form = mg.params.iter().all(|p| match p {
                Param::None | Param::Value { .. } => true,
                Param::Rmem { shm_ref, size, .. } => *shm_ref != m::FMEM_INVALID_GLOBAL_ID || *size == 0,
                _ => false,
            });
            mg.hdr.ret = if ffa_form { TeeResult::ERROR_ITEM_NOT_FOUND.0 } else { TeeResult::ERROR_BAD_PARAMETERS.0 };
        }
        _ => mg.hdr.ret = TeeResult::ERROR_NOT_SUPPORTED.0,
    }
    arch::write_mem(pa, &mg.encode());
}

/// The OP-TEE calls every CPU makes: API version, an argument buffer
/// shared, a session on the test PTA, values, RPC, a memref in shared
/// memory, close, unregister and reclaim.
fn optee_calls(cpu: usize) {
    let r = direct([o::GET_API_VERSION as u64, 0, 0, 0, 0]);
    check(
        is_resp(&r) && (w(r[3]), w(r[4])) == (o::API_MAJOR, o::API_MINOR),
        cpu,
        "GET_API_VERSION",
        format_args!("{r:x?}"),
    );
    let page = pages(1)[0];
    let handle = match share(&[page], 4096) {
        Ok(h) => h,
        Err(r) => {
            check(false, cpu, "MEM_SHARE an argument buffer", format_args!("{r:x?}"));
            shm::page_free(page);
            return;
        }
    };
    check(true, cpu, "MEM_SHARE an argument buffer", format_args!(""));
    let sh = Shared { handle, page };
    // The argument at an offset, as Linux's suballocator places them.
    let offset = 256 * (cpu as u64 % 4);
    let Some(opened) = yielding(cpu, &sh, offset, &open_msg(t::UUID, m::LOGIN_PUBLIC, &[])) else {
        return;
    };
    if opened.hdr.ret == TeeResult::ERROR_ITEM_NOT_FOUND.0 {
        // The default image (no test PTA): its device PTA instead.
        if !NO_TEST_PTA.swap(true, Ordering::Relaxed) {
            say!("harness: FF-A: no test PTA (the default image): device PTA only; boot --test-build for all checks");
        }
        device_pta(cpu, &sh, offset);
        if unregister_and_reclaim(cpu, handle, "the argument buffer") {
            shm::page_free(page);
        }
        return;
    }
    let session = opened.hdr.session;
    eq(cpu, "open the test PTA over FF-A", (opened.hdr.ret, session != 0), (0, true));
    let r = yielding(
        cpu,
        &sh,
        offset,
        &invoke_msg(session, t::CMD_VALUES, vec![value(Dir::InOut, 41, 5), value(Dir::Out, 0, 0)]),
    );
    let got = r.as_ref().map(|r| (r.hdr.ret, r.params.first().copied()));
    eq(cpu, "invoke over FF-A: values", got, Some((0, Some(Param::Value { dir: Dir::InOut, a: 42, b: 10, c: 0 }))));
    // RPC: the time, and a kernel buffer shared and reclaimed.
    let before = RPC_SHARES.load(Ordering::Relaxed);
    let r = yielding(cpu, &sh, offset, &invoke_msg(session, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]));
    let ok = r
        .as_ref()
        .is_some_and(|r| r.hdr.ret == 0 && matches!(r.params[0], Param::Value { b, .. } if b < 1_000_000_000));
    check(ok, cpu, "RPC over FF-A (time, SHM_ALLOC/FREE)", format_args!("{:x?}", r.map(|r| (r.hdr.ret, r.params))));
    check(
        RPC_SHARES.load(Ordering::Relaxed) > before,
        cpu,
        "SHM_ALLOC answered with shared memory",
        format_args!("no MEM_SHARE for the RPC"),
    );
    // LOAD_TA's size query (a null memref) in the form Linux takes.
    let r = yielding(cpu, &sh, offset, &invoke_msg(session, t::CMD_SUPP_PING, vec![]));
    eq(cpu, "LOAD_TA RPC with a null FMEM memref", r.map(|r| r.hdr.ret), Some(0));
    // A memref in memory shared on its own (FMEM).
    let buf = pages(1)[0];
    let data: Vec<u8> = (0..300u32).map(|i| (i * 3) as u8).collect();
    arch::write_mem(buf + 100, &data);
    let sum: u64 = data.iter().map(|b| *b as u64).sum();
    match share(&[buf], 4096) {
        Ok(h) => {
            let fmem = Param::Rmem { dir: Dir::In, offs: 100, size: 300, shm_ref: h };
            let r = yielding(cpu, &sh, offset, &invoke_msg(session, t::CMD_MEMREF, vec![fmem, value(Dir::Out, 0, 0)]));
            let got = r.as_ref().map(|r| (r.hdr.ret, r.params.get(1).copied()));
            eq(cpu, "FMEM memref", got, Some((0, Some(Param::Value { dir: Dir::Out, a: sum, b: 300, c: 0 }))));
            if unregister_and_reclaim(cpu, h, "a memref buffer") {
                shm::page_free(buf);
                // The handle is gone: OP-TEE retrieves nothing by it.
                let r =
                    yielding(cpu, &sh, offset, &invoke_msg(session, t::CMD_MEMREF, vec![fmem, value(Dir::Out, 0, 0)]));
                let got = r.map(|r| r.hdr.ret);
                eq(cpu, "a memref by a reclaimed handle", got, Some(TeeResult::ERROR_BAD_PARAMETERS.0));
            }
        }
        Err(r) => {
            check(false, cpu, "MEM_SHARE a memref buffer", format_args!("{r:x?}"));
            shm::page_free(buf);
        }
    }
    let mut close = Message::new(m::CMD_CLOSE_SESSION, vec![]);
    close.hdr.session = session;
    let r = yielding(cpu, &sh, offset, &close);
    eq(cpu, "close over FF-A", r.map(|r| r.hdr.ret), Some(0));
    if unregister_and_reclaim(cpu, handle, "the argument buffer") {
        shm::page_free(page);
    }
}

/// Where the secure world's memory is (the OS image): never shareable
/// from the normal world, nor an RX/TX buffer.
const SECURE_PAGE: u64 = 0x0e10_0000;

/// Hostile memory transactions: each malformed, overlapping, misaddressed
/// or secure-memory descriptor gets the FF-A error the spec names and
/// leaves nothing behind (the same pages share cleanly afterwards); memory
/// in another transaction is DENIED; the normal world retrieves nothing;
/// a bogus handle reclaims nothing; and a normal-world endpoint other than
/// 0 (a hypervisor's VM) shares, unregisters and reclaims.
fn hostile_memory(cpu: usize) {
    let ps = pages(2);
    let (p, q) = (ps[0], ps[1]);
    let me = ffa::NS_ENDPOINT_ID;
    let inval = ffa::INVALID_PARAMETERS;
    let refused = |what: &str, d: Vec<u8>, code: i32| match share_desc(&d, 4096) {
        Ok(h) => {
            check(false, cpu, "hostile descriptor refused", format_args!("{what}: shared as {h:#x}"));
            unregister_and_reclaim(cpu, h, what);
        }
        Err(r) => check(is_error(&r, code), cpu, "hostile descriptor refused", format_args!("{what}: {r:x?}")),
    };
    refused("unknown receiver", raw_descriptor(me, 0x8075, &[(p, 1)], 1), inval);
    refused("normal-world receiver", raw_descriptor(me, 1, &[(p, 1)], 1), inval);
    refused("the SPMC as receiver", raw_descriptor(me, ffa::SPMC_ID, &[(p, 1)], 1), inval);
    refused("secure sender", raw_descriptor(0x8001, optee(), &[(p, 1)], 1), inval);
    refused("page total too high", raw_descriptor(me, optee(), &[(p, 1), (q, 1)], 3), inval);
    refused("page total too low", raw_descriptor(me, optee(), &[(p, 1), (q, 1)], 1), inval);
    refused("no constituents", raw_descriptor(me, optee(), &[], 0), inval);
    refused("overlapping constituents", raw_descriptor(me, optee(), &[(q, 1), (p, 1), (q, 1)], 3), inval);
    refused("constituent in secure memory", raw_descriptor(me, optee(), &[(p, 1), (SECURE_PAGE, 1)], 2), inval);
    refused("unaligned constituent", raw_descriptor(me, optee(), &[(p + 8, 1)], 1), inval);
    refused("constituent wrapping around", raw_descriptor(me, optee(), &[(!0xfff, 2)], 2), inval);
    let mut d = raw_descriptor(me, optee(), &[(p, 1)], 1);
    d[fm::TRANSACTION_1_1_SIZE + 4..][..4].copy_from_slice(&4000u32.to_le_bytes());
    refused("composite past the end", d, inval);
    let mut d = raw_descriptor(me, optee(), &[(p, 1)], 1);
    d[4..8].copy_from_slice(&(1u32 << 12).to_le_bytes());
    refused("reserved flags", d, inval);
    let mut d = raw_descriptor(me, optee(), &[(p, 1)], 1);
    d[8] = 5;
    refused("a handle chosen by the sender", d, inval);
    let mut d = raw_descriptor(me, optee(), &[(p, 1)], 1);
    d.truncate(fm::TRANSACTION_1_1_SIZE + 8);
    refused("cut short", d, inval);
    let r = arch::smc8([ffa::MEM_SHARE_64 as u64, 8192, 8192, 0, 0, 0, 0, 0]);
    check(is_error(&r, inval), cpu, "a descriptor larger than the TX buffer", format_args!("{r:x?}"));
    // Memory another transaction holds.
    match share(&[p], 4096) {
        Ok(h) => {
            let r = share_desc(&raw_descriptor(me, optee(), &[(q, 1), (p, 1)], 2), 4096);
            check(
                matches!(r, Err(ref r) if is_error(r, ffa::DENIED)),
                cpu,
                "memory in another transaction is DENIED",
                format_args!("{r:x?}"),
            );
            unregister_and_reclaim(cpu, h, "the first share");
        }
        Err(r) => check(false, cpu, "MEM_SHARE one page", format_args!("{r:x?}")),
    }
    // The normal world retrieves nothing through the SPMC; bogus handles
    // reclaim nothing.
    let r = arch::smc8([ffa::MEM_RETRIEVE_REQ_64 as u64, 0, 0, 0, 0, 0, 0, 0]);
    check(w(r[0]) == ffa::ERROR, cpu, "MEM_RETRIEVE_REQ from the normal world", format_args!("{r:x?}"));
    let r = reclaim(0x0bad_0000_1234);
    check(is_error(&r, inval), cpu, "MEM_RECLAIM of a handle never given", format_args!("{r:x?}"));
    // A VM's endpoint (5) behind a hypervisor: share, OP-TEE's calls from
    // that endpoint, unregister, reclaim.
    match share_desc(&raw_descriptor(5, optee(), &[(p, 1), (q, 1)], 2), 4096) {
        Ok(h) => {
            let mut req = [ffa::MSG_SEND_DIRECT_REQ_32 as u64, ffa::direct_ids(5, optee()), 0, 0, 0, 0, 0, 0];
            req[3] = o::UNREGISTER_SHM as u64;
            req[4] = h & 0xffff_ffff;
            req[5] = h >> 32;
            let r = arch::smc8(req);
            check(
                w(r[0]) == ffa::MSG_SEND_DIRECT_RESP_32
                    && r[1] as u32 as u64 == ffa::direct_ids(optee(), 5)
                    && w(r[3]) == 0,
                cpu,
                "UNREGISTER_SHM from endpoint 5",
                format_args!("{r:x?}"),
            );
            let r = reclaim(h);
            eq(cpu, "MEM_RECLAIM of endpoint 5's share", w(r[0]), ffa::SUCCESS_32);
        }
        Err(r) => check(false, cpu, "MEM_SHARE from endpoint 5", format_args!("{r:x?}")),
    }
    // Nothing the refusals did stayed behind: the same pages share again.
    match share(&[p, q], 4096) {
        Ok(h) => {
            check(true, cpu, "the pages share again after the refusals", format_args!(""));
            if unregister_and_reclaim(cpu, h, "the pages shared again") {
                ps.iter().for_each(|x| shm::page_free(*x));
            }
        }
        Err(r) => check(false, cpu, "the pages share again after the refusals", format_args!("{r:x?}")),
    }
}

/// The notification ids the harness binds to OP-TEE, as Linux's driver
/// picks them: the bottom-half request, and one a waiter would use.
const BOTTOM_HALF_ID: u32 = 3;
const WAITER_ID: u32 = 17;

fn notif_call(fid: u32, w1: u64, w2: u64, bits: u64) -> [u64; 8] {
    arch::smc8([fid as u64, w1, w2, bits & 0xffff_ffff, bits >> 32, 0, 0, 0])
}

/// A notification query until it has something (the schedule receiver
/// interrupt may come a moment after the call that raised it).
fn wait_sri(since: u64) -> bool {
    let until = arch::counter() + arch::counter_freq();
    while irq::sris() == since && arch::counter() < until {
        core::hint::spin_loop();
    }
    irq::sris() > since
}

/// FF-A 1.1 notifications as Linux's FF-A driver uses them for OP-TEE
/// (bitmap for its VM, bind OP-TEE's ids, the schedule receiver interrupt,
/// INFO_GET then GET), the hostile cases (bind before the bitmap, unknown
/// senders, ids bound twice, per-vCPU, unbinding or setting unbound ids),
/// and OP-TEE's asynchronous notifications over them: a secure interrupt's
/// top half, the schedule receiver interrupt, the bottom-half id pending,
/// and a DO_BOTTOM_HALF yielding call that sleeps and makes an RPC.
fn notifications(cpu: usize, cpus: usize, sh: &Shared) {
    let bind = |sender: u16, bits: u64| notif_call(ffa::NOTIFICATION_BIND, ffa::direct_ids(sender, 0), 0, bits);
    let unbind = |sender: u16, bits: u64| notif_call(ffa::NOTIFICATION_UNBIND, ffa::direct_ids(sender, 0), 0, bits);
    let get = || notif_call(ffa::NOTIFICATION_GET, 0, ffa::NOTIF_GET_SP as u64, 0);
    let info = || arch::smc8(regs(ffa::NOTIFICATION_INFO_GET_64));
    let ours = (1u64 << BOTTOM_HALF_ID) | (1 << WAITER_ID);
    let r = bind(optee(), ours);
    check(is_error(&r, ffa::INVALID_PARAMETERS), cpu, "NOTIFICATION_BIND without a bitmap", format_args!("{r:x?}"));
    let r = arch::smc8([ffa::NOTIFICATION_BITMAP_CREATE as u64, 0, cpus as u64, 0, 0, 0, 0, 0]);
    eq(cpu, "NOTIFICATION_BITMAP_CREATE", w(r[0]), ffa::SUCCESS_32);
    let r = arch::smc8([ffa::NOTIFICATION_BITMAP_CREATE as u64, 0, cpus as u64, 0, 0, 0, 0, 0]);
    check(is_error(&r, ffa::DENIED), cpu, "NOTIFICATION_BITMAP_CREATE twice", format_args!("{r:x?}"));
    let r = bind(0x8075, 1);
    check(is_error(&r, ffa::INVALID_PARAMETERS), cpu, "bind to no such sender", format_args!("{r:x?}"));
    let r = bind(2, 1);
    check(is_error(&r, ffa::INVALID_PARAMETERS), cpu, "bind to a normal-world sender", format_args!("{r:x?}"));
    let r = notif_call(ffa::NOTIFICATION_BIND, ffa::direct_ids(optee(), 0), ffa::NOTIF_FLAG_PER_VCPU as u64, 1);
    check(is_error(&r, ffa::INVALID_PARAMETERS), cpu, "per-vCPU bind (not offered)", format_args!("{r:x?}"));
    eq(cpu, "NOTIFICATION_BIND OP-TEE's ids", w(bind(optee(), ours)[0]), ffa::SUCCESS_32);
    let r = bind(optee(), 1 << WAITER_ID);
    check(is_error(&r, ffa::DENIED), cpu, "bind an id bound already", format_args!("{r:x?}"));
    let r = unbind(optee(), 1 << 40);
    check(is_error(&r, ffa::DENIED), cpu, "unbind an id never bound", format_args!("{r:x?}"));
    let r = notif_call(ffa::NOTIFICATION_SET, ffa::direct_ids(0, optee()), 0, 1 << 5);
    check(is_error(&r, ffa::DENIED), cpu, "set a notification OP-TEE did not bind", format_args!("{r:x?}"));
    let r = info();
    check(is_error(&r, ffa::NO_DATA), cpu, "NOTIFICATION_INFO_GET with nothing pending", format_args!("{r:x?}"));
    let r = get();
    eq(cpu, "NOTIFICATION_GET with nothing pending", (w(r[0]), r[2], r[3]), (ffa::SUCCESS_32, 0, 0));
    // OP-TEE's asynchronous notifications, as Linux's driver sets them up.
    let r = direct([o::EXCHANGE_CAPABILITIES as u64, 0, 0, 0, 0]);
    check(
        is_resp(&r) && w(r[5]) & o::SEC_CAP_ASYNC_NOTIF != 0,
        cpu,
        "OP-TEE offers asynchronous notifications over FF-A",
        format_args!("{r:x?}"),
    );
    let r = direct([o::ENABLE_ASYNC_NOTIF as u64, 64, 0, 0, 0]);
    check(
        is_resp(&r) && w(r[3]) == TeeResult::ERROR_BAD_PARAMETERS.0,
        cpu,
        "ENABLE_ASYNC_NOTIF with an id past 63",
        format_args!("{r:x?}"),
    );
    let r = direct([o::ENABLE_ASYNC_NOTIF as u64, BOTTOM_HALF_ID as u64, 0, 0, 0]);
    check(is_resp(&r) && w(r[3]) == 0, cpu, "ENABLE_ASYNC_NOTIF", format_args!("{r:x?}"));
    irq::enable_sgi(ffa::SRI_INTID);
    let Some(opened) = yielding(cpu, sh, 0, &open_msg(an::UUID, m::LOGIN_PUBLIC, &[])) else {
        return;
    };
    eq(cpu, "open the async-notification test PTA over FF-A", opened.hdr.ret, 0);
    let session = opened.hdr.session;
    let status = |what: &str| -> Option<[(u64, u64); 4]> {
        let out = || value(Dir::Out, 0, 0);
        let r = yielding(cpu, sh, 0, &invoke_msg(session, an::CMD_STATUS, vec![out(), out(), out(), out()]))?;
        let mut v = [(0, 0); 4];
        for (i, p) in r.params.iter().enumerate().take(4) {
            if let Param::Value { a, b, .. } = p {
                v[i] = (*a, *b);
            }
        }
        check(r.hdr.ret == 0, cpu, "async-notification PTA status", format_args!("{what}: {:#x}", r.hdr.ret));
        Some(v)
    };
    let before = status("before");
    let sris = irq::sris();
    let raise = invoke_msg(session, an::CMD_RAISE, vec![value(Dir::In, 1, 0), value(Dir::Out, 0, 0)]);
    let r = yielding(cpu, sh, 0, &raise);
    let got = r.map(|r| (r.hdr.ret, r.params.get(1).copied()));
    eq(cpu, "a secure interrupt's top half", got, Some((0, Some(Param::Value { dir: Dir::Out, a: 1, b: 0, c: 0 }))));
    check(wait_sri(sris), cpu, "the top half raises the schedule receiver interrupt", format_args!("none taken"));
    let r = info();
    check(
        w(r[0]) == ffa::SUCCESS_64 && (r[2] >> ffa::NOTIF_INFO_LIST_COUNT_SHIFT) & 0x1f == 1 && r[3] & 0xffff == 0,
        cpu,
        "NOTIFICATION_INFO_GET lists our VM",
        format_args!("{r:x?}"),
    );
    let r = get();
    eq(cpu, "NOTIFICATION_GET: the bottom-half id", (w(r[0]), r[2]), (ffa::SUCCESS_32, 1 << BOTTOM_HALF_ID));
    let r = get();
    eq(cpu, "NOTIFICATION_GET clears", r[2], 0);
    // The bottom half: a yielding call that sleeps and makes an RPC.
    let r = yielding(cpu, sh, 0, &Message::new(m::CMD_DO_BOTTOM_HALF, vec![]));
    eq(cpu, "DO_BOTTOM_HALF over FF-A", r.map(|r| r.hdr.ret), Some(0));
    if let (Some(b), Some(a)) = (before, status("after")) {
        let ok = a[1].0 > b[1].0 && a[1].1 > b[1].1 && a[2].0 > b[2].0;
        check(ok, cpu, "the bottom half ran, slept and made an RPC", format_args!("before {b:?} after {a:?}"));
    }
    // STOP_ASYNC_NOTIF (a driver going away): delivered to the drivers,
    // then no top half may send until the normal world enables them again.
    let r = yielding(cpu, sh, 0, &Message::new(m::CMD_STOP_ASYNC_NOTIF, vec![]));
    eq(cpu, "STOP_ASYNC_NOTIF over FF-A", r.map(|r| r.hdr.ret), Some(0));
    if let (Some(b), Some(a)) = (before, status("after the stop")) {
        check(a[3].1 > b[3].1, cpu, "the stop reached the drivers", format_args!("before {b:?} after {a:?}"));
    }
    let r = yielding(cpu, sh, 0, &raise);
    eq(cpu, "no top half sends once stopped", r.map(|r| r.hdr.ret), Some(TeeResult::ERROR_BAD_STATE.0));
    let r = direct([o::ENABLE_ASYNC_NOTIF as u64, BOTTOM_HALF_ID as u64, 0, 0, 0]);
    check(is_resp(&r) && w(r[3]) == 0, cpu, "ENABLE_ASYNC_NOTIF again", format_args!("{r:x?}"));
    // Unbound, the bottom-half id is not delivered: the top half still
    // runs, nothing becomes pending.
    eq(cpu, "NOTIFICATION_UNBIND OP-TEE's ids", w(unbind(optee(), ours)[0]), ffa::SUCCESS_32);
    let r = yielding(cpu, sh, 0, &raise);
    eq(cpu, "a top half with the id unbound", r.map(|r| r.hdr.ret), Some(0));
    let r = info();
    check(is_error(&r, ffa::NO_DATA), cpu, "nothing pending for an unbound id", format_args!("{r:x?}"));
    let r = arch::smc8(regs(ffa::NOTIFICATION_BITMAP_DESTROY));
    eq(cpu, "NOTIFICATION_BITMAP_DESTROY", w(r[0]), ffa::SUCCESS_32);
    let r = arch::smc8(regs(ffa::NOTIFICATION_BITMAP_DESTROY));
    check(is_error(&r, ffa::INVALID_PARAMETERS), cpu, "destroy the bitmap twice", format_args!("{r:x?}"));
    let r = get();
    check(is_error(&r, ffa::INVALID_PARAMETERS), cpu, "NOTIFICATION_GET without a bitmap", format_args!("{r:x?}"));
    let mut close = Message::new(m::CMD_CLOSE_SESSION, vec![]);
    close.hdr.session = session;
    eq(cpu, "close the async-notification PTA", yielding(cpu, sh, 0, &close).map(|r| r.hdr.ret), Some(0));
}

/// Unregisters and reclaims `handle`; true if the memory is the normal
/// world's again (only then may its pages be reused).
fn unregister_and_reclaim(cpu: usize, handle: u64, what: &str) -> bool {
    let r = direct([o::UNREGISTER_SHM as u64, handle & 0xffff_ffff, handle >> 32, 0, 0]);
    check(is_resp(&r) && w(r[3]) == 0, cpu, "UNREGISTER_SHM", format_args!("{what}: {r:x?}"));
    let r = reclaim(handle);
    let ok = w(r[0]) == ffa::SUCCESS_32;
    check(ok, cpu, "MEM_RECLAIM", format_args!("{what}: {r:x?}"));
    ok
}

/// The default image's device PTA, as the kernel enumerates it: GET_DEVICES
/// into a buffer shared with FFA_MEM_SHARE (an FMEM memref).
fn device_pta(cpu: usize, sh: &Shared, offset: u64) {
    let open = open_msg(oxtee_abi::uuid::PTA_DEVICE_ENUM, m::LOGIN_REE_KERNEL, &[]);
    let Some(r) = yielding(cpu, sh, offset, &open) else {
        return;
    };
    eq(cpu, "open the device PTA over FF-A", r.hdr.ret, 0);
    let session = r.hdr.session;
    let buf = pages(1)[0];
    match share(&[buf], 4096) {
        Ok(h) => {
            let fmem = Param::Rmem { dir: Dir::Out, offs: 0, size: 64, shm_ref: h };
            let r = yielding(cpu, sh, offset, &invoke_msg(session, 0, vec![fmem]));
            let got = r.map(|r| (r.hdr.ret, r.params.first().map(|p| matches!(p, Param::Rmem { size: 16, .. }))));
            eq(cpu, "GET_DEVICES into an FMEM buffer: one device", got, Some((0, Some(true))));
            if unregister_and_reclaim(cpu, h, "the device list") {
                shm::page_free(buf);
            }
        }
        Err(r) => {
            check(false, cpu, "MEM_SHARE a memref buffer", format_args!("{r:x?}"));
            shm::page_free(buf);
        }
    }
    let mut close = Message::new(m::CMD_CLOSE_SESSION, vec![]);
    close.hdr.session = session;
    eq(cpu, "close the device PTA", yielding(cpu, sh, offset, &close).map(|r| r.hdr.ret), Some(0));
}

/// SMCCC 1.2: x0-x7 carry FF-A arguments and results; x8-x28 and the
/// FP/SIMD registers must come back unchanged, whether the SPMD answers
/// or the call goes to the SPMC.
fn preserved(cpu: usize, r: [u64; 8], name: &str) {
    let mut p = arch::Probe { x: [0; 29], q: [0; 8] };
    for (i, x) in p.x.iter_mut().enumerate() {
        *x = 0xffa0_0000_0000_0000 | ((cpu as u64) << 32) | i as u64;
    }
    for (i, q) in p.q.iter_mut().enumerate() {
        *q = 0xffa1_0000_0000_0000_0000_0000_0000_0000 | ((cpu as u128) << 64) | i as u128;
    }
    p.x[..8].copy_from_slice(&r);
    let seed = (p.x, p.q);
    arch::probe(&mut p);
    check(p.x[8..] == seed.0[8..], cpu, name, format_args!("x8-x28 changed: {:x?}", &p.x[8..]));
    check(p.q == seed.1, cpu, name, format_args!("q0-q7 changed"));
}

/// Calls the OS aborts (a stack overflow, a panic, a fault with a spin
/// lock held) answer in FF-A form, and the CPU serves on.
fn aborts(cpu: usize, sh: &Shared, session: u32) {
    let aborted = Some((TeeResult::ERROR_GENERIC.0, Origin::Tee as u32));
    let fault = |point: u32, kind: u32| {
        DELIBERATE_ABORTS.fetch_add(1, Ordering::Relaxed);
        let v = Param::Value { dir: Dir::In, a: point as u64, b: kind as u64, c: 0 };
        yielding(cpu, sh, 0, &invoke_msg(session, t::CMD_FAULT, vec![v])).map(|r| (r.hdr.ret, r.hdr.ret_origin))
    };
    DELIBERATE_ABORTS.fetch_add(1, Ordering::Relaxed);
    let r = yielding(cpu, sh, 0, &invoke_msg(session, t::CMD_STACK_OVERFLOW, vec![]));
    eq(cpu, "stack overflow over FF-A aborts the call", r.map(|r| (r.hdr.ret, r.hdr.ret_origin)), aborted);
    eq(cpu, "panic over FF-A aborts the call", fault(t::FAULT_POINT_NOW, t::FAULT_PANIC), aborted);
    let r = fault(t::FAULT_POINT_SPIN_LOCK, t::FAULT_DATA_ABORT);
    eq(cpu, "data abort under a spin lock over FF-A aborts the call", r, aborted);
    let r = yielding(cpu, sh, 0, &invoke_msg(session, t::CMD_NOOP, vec![]));
    eq(cpu, "serving after aborted calls over FF-A", r.map(|r| r.hdr.ret), Some(0));
}

/// Random FF-A calls from the normal world (function ids across the FF-A
/// range in both conventions, random w1..w7), short of the ones that
/// would take this harness's own buffers and memory away (RX/TX, memory
/// transactions): each gets an answer and the OS serves on.
fn random_calls(cpu: usize, n: u32) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ cpu as u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let spared = |f: u32| {
        matches!(
            f & !0x4000_0000,
            ffa::RXTX_MAP_32
                | ffa::RXTX_UNMAP
                | ffa::RX_RELEASE
                | ffa::MEM_DONATE_32
                | ffa::MEM_LEND_32
                | ffa::MEM_SHARE_32
                | ffa::MEM_RECLAIM
                | ffa::MEM_FRAG_TX
                | ffa::MEM_RETRIEVE_REQ_32
                | ffa::NOTIFICATION_BITMAP_DESTROY
        )
    };
    let mut answered = 0;
    for i in 0..n {
        let num = 0x60 + (next() % 0x2f) as u32;
        let fid = if next() & 1 == 0 { 0x8400_0000 | num } else { 0xC400_0000 | num };
        if spared(fid) {
            continue;
        }
        let mut r = [fid as u64, 0, 0, 0, 0, 0, 0, 0];
        for v in r.iter_mut().skip(1) {
            // Small values now and then, to get past the first checks.
            *v = match next() % 4 {
                0 => next() % 8,
                1 => next() & 0xffff_ffff,
                _ => next(),
            };
        }
        if i % 3 == 0 && (fid & !0x4000_0000) == ffa::MSG_SEND_DIRECT_REQ_32 {
            r[1] = ffa::direct_ids(0, optee());
        }
        let a = w(arch::smc8(r)[0]);
        if matches!(
            a,
            ffa::ERROR
                | ffa::SUCCESS_32
                | ffa::SUCCESS_64
                | ffa::MSG_SEND_DIRECT_RESP_32
                | ffa::MSG_SEND_DIRECT_RESP_64
                | ffa::MEM_FRAG_RX
        ) || (fid == ffa::VERSION)
        {
            answered += 1;
        } else {
            check(false, cpu, "random FF-A call answered", format_args!("{fid:#x} -> {a:#x}"));
        }
    }
    // Whatever version the random calls asked for, settle on 1.1 again.
    arch::smc8([ffa::VERSION as u64, ffa::VERSION_1_1 as u64, 0, 0, 0, 0, 0, 0]);
    let r = direct([o::GET_API_VERSION as u64, 0, 0, 0, 0]);
    check(is_resp(&r), cpu, "serving after random FF-A calls", format_args!("{answered} answered; then {r:x?}"));
    say!("harness: FF-A: {answered} random calls answered");
}

/// The primary's sequence: what Linux's FF-A driver does at probe, then
/// OP-TEE's transport, then the same from every CPU.
pub fn run(cpus: usize) {
    let me = arch::cpu_index();
    say!("harness: FF-A mode (the monitor is an SPMD)");
    // Version and ids.
    let r = arch::smc8([ffa::VERSION as u64, ffa::VERSION_1_1 as u64, 0, 0, 0, 0, 0, 0]);
    eq(me, "FFA_VERSION 1.1", w(r[0]), ffa::VERSION_1_1);
    let r = arch::smc8([ffa::VERSION as u64, ffa::VERSION_1_0 as u64, 0, 0, 0, 0, 0, 0]);
    check(w(r[0]) >> 16 == 1, me, "FFA_VERSION for a v1.0 caller", format_args!("{:#x}", r[0]));
    // Linux settles on 1.1 again (the last version asked is the caller's).
    arch::smc8([ffa::VERSION as u64, ffa::VERSION_1_1 as u64, 0, 0, 0, 0, 0, 0]);
    let r = arch::smc8([ffa::VERSION as u64, 1 << 31, 0, 0, 0, 0, 0, 0]);
    eq(me, "FFA_VERSION with bit 31 set", w(r[0]) as i32, ffa::NOT_SUPPORTED);
    let r = arch::smc8(regs(ffa::ID_GET));
    eq(me, "FFA_ID_GET", (w(r[0]), w(r[2])), (ffa::SUCCESS_32, ffa::NS_ENDPOINT_ID as u32));
    let r = arch::smc8(regs(ffa::SPM_ID_GET));
    eq(me, "FFA_SPM_ID_GET", (w(r[0]), w(r[2])), (ffa::SUCCESS_32, ffa::SPMC_ID as u32));
    // What a secure endpoint alone may call, and OP-TEE's SMC ABI.
    let r = arch::smc8(regs(ffa::MSG_WAIT));
    check(is_error(&r, ffa::NOT_SUPPORTED), me, "FFA_MSG_WAIT from the normal world", format_args!("{r:x?}"));
    let r = arch::smc8(regs(oxtee_abi::optee_smc::CALLS_UID));
    eq(me, "OP-TEE's SMC ABI is off in FF-A mode", r[0], u64::MAX);
    let r = arch::smc8([
        ffa::MSG_SEND_DIRECT_REQ_32 as u64,
        ffa::direct_ids(ffa::SPMC_ID, ffa::OPTEE_ID),
        0,
        0,
        0,
        0,
        0,
        0,
    ]);
    check(
        is_error(&r, ffa::INVALID_PARAMETERS),
        me,
        "a direct request claiming a secure sender",
        format_args!("{r:x?}"),
    );
    // What only a secure endpoint sends, from the normal world.
    for f in [
        ffa::SECONDARY_EP_REGISTER_64,
        ffa::NORMAL_WORLD_RESUME,
        ffa::MSG_SEND_DIRECT_RESP_32,
        ffa::MSG_SEND_DIRECT_RESP_64,
        ffa::INTERRUPT,
        ffa::SUCCESS_32,
    ] {
        let r = arch::smc8([f as u64, 0x4020_0000, 0, 0, 0, 0, 0, 0]);
        // TF-A's SPMD answers a normal world's NORMAL_WORLD_RESUME DENIED.
        let refused = is_error(&r, ffa::NOT_SUPPORTED) || (f == ffa::NORMAL_WORLD_RESUME && is_error(&r, ffa::DENIED));
        check(refused, me, "secure-only FF-A call refused", format_args!("{f:#x}: {r:x?}"));
    }
    let r = arch::smc8([ffa::MSG_SEND_DIRECT_REQ_64 as u64, ffa::direct_ids(0, ffa::SPMD_ID), 0, 0, 0, 0, 0, 0]);
    check(is_error(&r, ffa::INVALID_PARAMETERS), me, "a direct request to the SPMD", format_args!("{r:x?}"));
    preserved(me, regs(ffa::ID_GET), "registers across FFA_ID_GET (SPMD)");
    preserved(
        me,
        [ffa::FEATURES as u64, ffa::RXTX_MAP_64 as u64, 0, 0, 0, 0, 0, 0],
        "registers across FFA_FEATURES (SPMC)",
    );
    // Features.
    for f in [ffa::RXTX_MAP_64, ffa::MEM_SHARE_64, ffa::PARTITION_INFO_GET, ffa::MSG_SEND_DIRECT_REQ_32] {
        let r = arch::smc8([ffa::FEATURES as u64, f as u64, 0, 0, 0, 0, 0, 0]);
        check(w(r[0]) == ffa::SUCCESS_32, me, "FFA_FEATURES", format_args!("{f:#x}: {r:x?}"));
    }
    // The schedule receiver interrupt Linux learns from FFA_FEATURES.
    let r = arch::smc8([ffa::FEATURES as u64, ffa::FEATURE_SRI as u64, 0, 0, 0, 0, 0, 0]);
    eq(me, "FFA_FEATURES(schedule receiver interrupt)", (w(r[0]), w(r[2])), (ffa::SUCCESS_32, ffa::SRI_INTID));
    let r = arch::smc8([ffa::FEATURES as u64, 0x8400_00ff, 0, 0, 0, 0, 0, 0]);
    check(is_error(&r, ffa::NOT_SUPPORTED), me, "FFA_FEATURES of no function", format_args!("{r:x?}"));
    // The RX/TX pair.
    let (tx, rx) = (pages(1)[0], pages(1)[0]);
    for (t, x, what) in [
        (SECURE_PAGE, rx, "TX in secure memory"),
        (tx, SECURE_PAGE, "RX in secure memory"),
        (tx + 8, rx, "TX unaligned"),
        (tx, tx, "TX and RX the same page"),
    ] {
        let r = arch::smc8([ffa::RXTX_MAP_64 as u64, t, x, 1, 0, 0, 0, 0]);
        check(is_error(&r, ffa::INVALID_PARAMETERS), me, "RXTX_MAP refused", format_args!("{what}: {r:x?}"));
    }
    let r = arch::smc8([ffa::RXTX_MAP_64 as u64, tx, rx, 1, 0, 0, 0, 0]);
    eq(me, "FFA_RXTX_MAP_64", w(r[0]), ffa::SUCCESS_32);
    *TX.lock() = tx;
    RX.store(rx, Ordering::Relaxed);
    let r = arch::smc8([ffa::RXTX_MAP_64 as u64, tx, rx, 1, 0, 0, 0, 0]);
    check(is_error(&r, ffa::DENIED), me, "a second RXTX_MAP", format_args!("{r:x?}"));
    // OP-TEE's partition, by its UUID.
    let o8 = OS_UUID.to_octets();
    let mut pi = regs(ffa::PARTITION_INFO_GET);
    for i in 0..4 {
        pi[1 + i] = u32::from_le_bytes(o8[4 * i..4 * i + 4].try_into().unwrap()) as u64;
    }
    let r = arch::smc8(pi);
    let ok = w(r[0]) == ffa::SUCCESS_32 && r[2] == 1 && w(r[3]) as usize == ffa::PART_INFO_SIZE_1_1;
    check(ok, me, "PARTITION_INFO_GET of OP-TEE", format_args!("{r:x?}"));
    if ok {
        let mut d = [0u8; 24];
        arch::read_mem(rx, &mut d);
        let id = u16::from_le_bytes([d[0], d[1]]);
        let props = u32::from_le_bytes(d[4..8].try_into().unwrap());
        check(
            ffa::is_secure_id(id) && props & ffa::PART_PROP_DIRECT_REQ_RECV != 0 && d[8..24] == o8,
            me,
            "OP-TEE's partition descriptor",
            format_args!("{d:x?}"),
        );
        OPTEE.store(id, Ordering::Relaxed);
        let r = arch::smc8(regs(ffa::RX_RELEASE));
        eq(me, "FFA_RX_RELEASE", w(r[0]), ffa::SUCCESS_32);
    }
    // OP-TEE over direct messages.
    preserved(
        me,
        [ffa::MSG_SEND_DIRECT_REQ_32 as u64, ffa::direct_ids(0, optee()), 0, o::GET_API_VERSION as u64, 0, 0, 0, 0],
        "registers across a direct request (SPMC)",
    );
    let r = direct([o::GET_OS_VERSION as u64, 0, 0, 0, 0]);
    check(is_resp(&r), me, "GET_OS_VERSION", format_args!("{r:x?}"));
    let r = direct([o::EXCHANGE_CAPABILITIES as u64, 0, 0, 0, 0]);
    let ok = is_resp(&r) && w(r[3]) == 0 && w(r[5]) & o::SEC_CAP_ARG_OFFSET != 0;
    check(ok, me, "EXCHANGE_CAPABILITIES", format_args!("{r:x?}"));
    if ok && w(r[4]) > 0 {
        RPC_PARAMS.store(w(r[4]).clamp(1, 16) as u64, Ordering::Relaxed);
    }
    let r = arch::smc8([ffa::MSG_SEND_DIRECT_REQ_32 as u64, ffa::direct_ids(0, 0x7123), 0, 0, 0, 0, 0, 0]);
    check(w(r[0]) == ffa::ERROR, me, "a direct request to no endpoint", format_args!("{r:x?}"));
    // A fragmented descriptor: 9 scattered pages, two constituents a fragment.
    let mut ps = pages(9);
    ps.reverse();
    let d = share_descriptor(&ps, optee());
    let frag = fm::TRANSACTION_1_1_SIZE + fm::MEM_ACCESS_SIZE + fm::COMPOSITE_SIZE + 2 * fm::CONSTITUENT_SIZE;
    match share_desc(&d, frag) {
        Ok(h) => {
            check(true, me, "MEM_SHARE in fragments", format_args!(""));
            // OP-TEE holds it until the normal world unregisters it.
            let r = reclaim(h);
            check(is_error(&r, ffa::DENIED), me, "reclaim memory OP-TEE holds", format_args!("{r:x?}"));
            let r = direct([o::UNREGISTER_SHM as u64, h & 0xffff_ffff, h >> 32, 0, 0]);
            check(is_resp(&r) && w(r[3]) == 0, me, "UNREGISTER_SHM the fragmented share", format_args!("{r:x?}"));
            let r = reclaim(h);
            eq(me, "reclaim the fragmented share", w(r[0]), ffa::SUCCESS_32);
            if w(r[0]) == ffa::SUCCESS_32 {
                ps.iter().for_each(|p| shm::page_free(*p));
            }
            let r = reclaim(h);
            check(is_error(&r, ffa::INVALID_PARAMETERS), me, "reclaim it twice", format_args!("{r:x?}"));
        }
        Err(r) => check(false, me, "MEM_SHARE in fragments", format_args!("{r:x?}")),
    }
    hostile_memory(me);
    // Yielding calls on this CPU, with the normal world's tick running so
    // a long one comes back with RETURN_INTERRUPT.
    irq::start_tick(TICK_MS);
    optee_calls(me);
    let page = pages(1)[0];
    if NO_TEST_PTA.load(Ordering::Relaxed) {
        // Nothing below runs without the test PTA.
    } else if let Ok(handle) = share(&[page], 4096) {
        let sh = Shared { handle, page };
        if let Some(opened) = yielding(me, &sh, 0, &open_msg(t::UUID, m::LOGIN_PUBLIC, &[])) {
            let before = INTERRUPT_RETURNS.load(Ordering::Relaxed);
            let spin = invoke_msg(opened.hdr.session, t::CMD_SPIN, vec![value(Dir::In, 300, 0), value(Dir::Out, 0, 0)]);
            let r = yielding(me, &sh, 0, &spin);
            eq(me, "300 ms spin over FF-A", r.map(|r| r.hdr.ret), Some(0));
            let n = INTERRUPT_RETURNS.load(Ordering::Relaxed) - before;
            check(n > 0, me, "RETURN_INTERRUPT while the secure world spins", format_args!("none"));
            // The secure timer fires while the normal world runs (it stays
            // out 80 ms after the first interrupt return): the SPMD enters
            // the SPMC with FFA_INTERRUPT (`cargo xtask test` checks the
            // monitor's count).
            let sleep = invoke_msg(opened.hdr.session, t::CMD_SLEEP, vec![value(Dir::In, 50, 0)]);
            let r = yielding_lingering(me, &sh, 0, &sleep, 80);
            eq(me, "50 ms sleep over FF-A", r.map(|r| r.hdr.ret), Some(0));
            aborts(me, &sh, opened.hdr.session);
            notifications(me, cpus, &sh);
            let mut close = Message::new(m::CMD_CLOSE_SESSION, vec![]);
            close.hdr.session = opened.hdr.session;
            yielding(me, &sh, 0, &close);
        }
        if unregister_and_reclaim(me, handle, "the spin's argument buffer") {
            shm::page_free(page);
        }
    } else {
        shm::page_free(page);
    }
    irq::stop_tick();
    // Every other CPU: on, the same calls, off.
    let mut started = 0;
    for target in 1..cpus {
        let r = arch::smc([
            psci::PSCI_CPU_ON_64 as u64,
            cpu_mpidr(target),
            arch::secondary_entry_addr(),
            ROUND,
            0,
            0,
            0,
            0,
        ]);
        eq(me, "CPU_ON in FF-A mode", r[0], 0);
        if r[0] == 0 {
            started += 1;
        }
    }
    let mut spins = 0u64;
    while FINISHED.load(Ordering::Acquire) < started && spins < 400_000_000 {
        spins += 1;
        core::hint::spin_loop();
    }
    eq(me, "secondaries done in FF-A mode", FINISHED.load(Ordering::Acquire), started);
    for target in 1..cpus {
        let mut tries = 0;
        while arch::smc([psci::PSCI_AFFINITY_INFO_64 as u64, cpu_mpidr(target), 0, 0, 0, 0, 0, 0])[0] != 1
            && tries < 1_000_000
        {
            tries += 1;
        }
        check(tries < 1_000_000, me, "CPU_OFF in FF-A mode", format_args!("CPU {target} still on"));
    }
    // Random calls last, then the OP-TEE calls once more: nothing they did
    // may stay behind.
    random_calls(me, 3000);
    say!("harness: FF-A: the OP-TEE calls after the random ones");
    optee_calls(me);
    let r = arch::smc8(regs(ffa::RXTX_UNMAP));
    eq(me, "FFA_RXTX_UNMAP", w(r[0]), ffa::SUCCESS_32);
    say!(
        "harness: FF-A: {} RPC buffers shared, {} RETURN_INTERRUPTs, {started} secondaries",
        RPC_SHARES.load(Ordering::Relaxed),
        INTERRUPT_RETURNS.load(Ordering::Relaxed)
    );
}

/// A secondary in FF-A mode: the OP-TEE calls, then CPU_OFF.
pub fn secondary() -> ! {
    let me = arch::cpu_index();
    optee_calls(me);
    FINISHED.fetch_add(1, Ordering::AcqRel);
    arch::sev();
    let r = arch::smc([psci::PSCI_CPU_OFF as u64, 0, 0, 0, 0, 0, 0, 0]);
    say!("FAIL cpu{me}: CPU_OFF returned {:#x}", r[0]);
    loop {
        arch::wfe();
    }
}

/// Benchmark mode over FF-A (`cargo xtask bench`, QEMU `-icount shift=0`:
/// one guest instruction per virtual ns): a direct-message round trip
/// (GET_API_VERSION) and a no-op invoke to the test PTA as a yielding call
/// with its argument in shared memory.
pub fn bench() {
    const N: u64 = 2_000;
    let me = arch::cpu_index();
    let insns = |ticks: u64| (ticks as u128 * 1_000_000_000 / arch::counter_freq() as u128) as f64 / N as f64;
    let o8 = OS_UUID.to_octets();
    let mut pi = regs(ffa::PARTITION_INFO_GET);
    for i in 0..4 {
        pi[1 + i] = u32::from_le_bytes(o8[4 * i..4 * i + 4].try_into().unwrap()) as u64;
    }
    let (tx, rx) = (pages(1)[0], pages(1)[0]);
    arch::smc8([ffa::RXTX_MAP_64 as u64, tx, rx, 1, 0, 0, 0, 0]);
    *TX.lock() = tx;
    if w(arch::smc8(pi)[0]) == ffa::SUCCESS_32 {
        let mut d = [0u8; 2];
        arch::read_mem(rx, &mut d);
        OPTEE.store(u16::from_le_bytes(d), Ordering::Relaxed);
        arch::smc8(regs(ffa::RX_RELEASE));
    }
    let t0 = arch::counter();
    for _ in 0..N {
        direct([o::GET_API_VERSION as u64, 0, 0, 0, 0]);
    }
    say!("BENCH ffa_direct_msg_insns={:.1}", insns(arch::counter() - t0));
    let page = pages(1)[0];
    let Ok(handle) = share(&[page], 4096) else {
        say!("harness: FF-A bench: MEM_SHARE failed");
        return;
    };
    let sh = Shared { handle, page };
    let Some(opened) = yielding(me, &sh, 0, &open_msg(t::UUID, m::LOGIN_PUBLIC, &[])) else {
        return;
    };
    let noop = invoke_msg(opened.hdr.session, t::CMD_NOOP, vec![]);
    let t0 = arch::counter();
    for _ in 0..N {
        yielding(me, &sh, 0, &noop);
    }
    say!("BENCH ffa_pta_noop_invoke_insns={:.1}", insns(arch::counter() - t0));
    say!("BENCH ffa_calls={N}");
}
