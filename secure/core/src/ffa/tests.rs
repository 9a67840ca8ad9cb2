//! The SPMC against a fake normal world: fake RAM holding the RX/TX
//! buffers and the memory it shares, calls made as the SPMD forwards them.

use super::*;
use crate::env::{RpcReturn, ThreadEnv, UserExit, UserRegs, UserTables};
use crate::fastcall::OsConfig;
use crate::msg::{self, Dir, Message, Param};
use crate::nsmem::fake::FakeRam;
use crate::shm::ShmConfig;
use alloc::boxed::Box;
use alloc::vec;
use core::sync::atomic::AtomicUsize;
use oxtee_abi::addr::NsRange;
use oxtee_abi::ffa_mem as fm;
use oxtee_abi::msg as m;
use oxtee_abi::rpc;
use zerocopy::IntoBytes;

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: usize = 0x40_0000;
const TX: u64 = 0x4010_0000;
const RX: u64 = 0x4010_1000;
/// Where the fake normal world's shared pages are.
const SHARE: u64 = 0x4020_0000;
/// Secure memory (outside normal-world RAM).
const SECURE: u64 = 0x0e10_0000;
const BUILD_ID: u64 = 0x1234_5678_9abc_def0;
const SP: u16 = 0x8002;
const SP2: u16 = 0x8003;

struct Plat {
    sri: AtomicUsize,
}

impl FfaPlatform for Plat {
    fn raise_sri(&self) {
        self.sri.fetch_add(1, Ordering::Relaxed);
    }

    fn cpu_count(&self) -> u16 {
        4
    }
}

#[derive(Clone, Copy)]
struct W {
    os: &'static Os,
    ram: &'static FakeRam,
    plat: &'static Plat,
}

fn world_with(limits: crate::Limits) -> W {
    world_built(limits, |os| os)
}

/// Rings of the asynchronous-notification doorbell (the top half's side).
struct Bell(AtomicUsize);

impl crate::async_notif::Doorbell for Bell {
    fn ring(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn world_built(limits: crate::Limits, build: impl FnOnce(Os) -> Os) -> W {
    crate::fault::set_injector(|_| oxtee_guard::testing::freeze());
    let ram: &'static FakeRam = Box::leak(Box::new(FakeRam::new(RAM, RAM_SIZE)));
    let test: &'static crate::pta::test::TestPta = Box::leak(Box::new(crate::pta::test::TestPta::new()));
    let os = Os::new(
        OsConfig { build_id: BUILD_ID, thread_count: 2, static_shm: None, yielding_calls: true },
        ShmConfig { static_pool: None, ns_ram: NsRange::new(NsPhys::new(RAM), RAM_SIZE as u64) },
        limits,
        ram,
        vec![test],
    );
    let os: &'static Os = Box::leak(Box::new(build(os)));
    let plat: &'static Plat = Box::leak(Box::new(Plat { sri: AtomicUsize::new(0) }));
    os.set_ffa_platform(plat);
    W { os, ram, plat }
}

fn world() -> W {
    world_with(crate::tests::LIMITS)
}

impl W {
    fn call(&self, regs: [u64; 8]) -> [u64; 8] {
        match self.os.ffa_call(&regs) {
            FfaAction::Reply(r) => r,
            t => panic!("expected a reply, got {t:?}"),
        }
    }

    fn ok(&self, regs: [u64; 8]) -> [u64; 8] {
        let r = self.call(regs);
        assert_eq!(r[0], ffa::SUCCESS_32 as u64, "{regs:x?} -> {r:x?}");
        r
    }

    fn err(&self, regs: [u64; 8]) -> i32 {
        let r = self.call(regs);
        assert_eq!(r[0], ffa::ERROR as u64, "{regs:x?} -> {r:x?}");
        r[2] as u32 as i32
    }

    fn map(&self) {
        self.ok([ffa::RXTX_MAP_64 as u64, TX, RX, 1, 0, 0, 0, 0]);
    }

    fn version(&self, v: u32) -> u64 {
        let r = self.call([
            ffa::MSG_SEND_DIRECT_REQ_32 as u64,
            ffa::direct_ids(ffa::SPMD_ID, ffa::SPMC_ID),
            ffa::FWK_MSG_BIT | ffa::FWK_MSG_VERSION_REQ,
            v as u64,
            0,
            0,
            0,
            0,
        ]);
        assert_eq!(r[0], ffa::MSG_SEND_DIRECT_RESP_32 as u64);
        assert_eq!(r[1], ffa::direct_ids(ffa::SPMC_ID, ffa::SPMD_ID));
        assert_eq!(r[2], ffa::FWK_MSG_BIT | ffa::FWK_MSG_VERSION_RESP);
        r[3]
    }

    /// A direct request to OP-TEE from `src` (32-bit convention).
    fn optee(&self, src: u16, w3_7: [u64; 5]) -> [u64; 8] {
        let [a, b, c, d, e] = w3_7;
        let r = self.call([ffa::MSG_SEND_DIRECT_REQ_32 as u64, ffa::direct_ids(src, ffa::OPTEE_ID), 0, a, b, c, d, e]);
        assert_eq!(r[0], ffa::MSG_SEND_DIRECT_RESP_32 as u64, "{r:x?}");
        assert_eq!(r[1], ffa::direct_ids(ffa::OPTEE_ID, src));
        r
    }

    /// Puts `desc` in TX and shares (or lends) it in one fragment.
    fn send(&self, share: bool, desc: &[u8]) -> [u64; 8] {
        self.ram.put(TX, desc).unwrap();
        let fid = if share { ffa::MEM_SHARE_32 } else { ffa::MEM_LEND_32 };
        let n = desc.len() as u64;
        self.call([fid as u64, n, n, 0, 0, 0, 0, 0])
    }

    fn share(&self, desc: &[u8]) -> u64 {
        let r = self.send(true, desc);
        assert_eq!(r[0], ffa::SUCCESS_32 as u64, "{r:x?}");
        let h = r[2] | (r[3] << 32);
        assert_eq!(h & fm::HANDLE_HYPERVISOR_BIT, 0);
        h
    }

    fn send_err(&self, share: bool, desc: &[u8]) -> i32 {
        let r = self.send(share, desc);
        assert_eq!(r[0], ffa::ERROR as u64, "{r:x?}");
        r[2] as u32 as i32
    }

    fn reclaim(&self, h: u64, flags: u64) -> [u64; 8] {
        self.call([ffa::MEM_RECLAIM as u64, h & 0xffff_ffff, h >> 32, flags, 0, 0, 0, 0])
    }

    fn unregister(&self, src: u16, h: u64) -> u64 {
        self.optee(src, [optee::UNREGISTER_SHM as u64, h & 0xffff_ffff, h >> 32, 0, 0])[3]
    }

    fn counts(&self) -> (usize, usize, usize) {
        let (t, p) = self.os.ffa_mem_counts();
        (t, p, self.os.shm.stats().buffers)
    }
}

/// A memory transaction descriptor, built field by field.
#[derive(Clone)]
struct Desc {
    v1_1: bool,
    sender: u16,
    attr: u16,
    flags: u32,
    handle: u64,
    recv: Vec<(u16, u8, u8)>,
    /// Composite offset per receiver (None: where it is put).
    region_offs: Option<u32>,
    total_pages: Option<u32>,
    ranges: Vec<(u64, u32)>,
    access_size: u32,
    access_offs: Option<u32>,
    reserved: u8,
}

impl Desc {
    fn new(ranges: &[(u64, u32)]) -> Desc {
        Desc {
            v1_1: true,
            sender: 0,
            attr: fm::ATTR_NORMAL_WB_IS,
            flags: 0,
            handle: 0,
            recv: vec![(ffa::OPTEE_ID, fm::PERM_DATA_RW, 0)],
            region_offs: None,
            total_pages: None,
            ranges: ranges.to_vec(),
            access_size: 16,
            access_offs: None,
            reserved: 0,
        }
    }

    fn build(&self) -> Vec<u8> {
        let hdr = if self.v1_1 { fm::TRANSACTION_1_1_SIZE } else { fm::TRANSACTION_1_0_SIZE };
        let acc_offs = self.access_offs.unwrap_or(hdr as u32) as usize;
        let comp = acc_offs + self.recv.len() * self.access_size as usize;
        let comp = comp.next_multiple_of(16);
        let mut d = vec![0u8; comp + 16 + 16 * self.ranges.len()];
        let h = fm::TransactionHeader {
            sender_id: self.sender,
            mem_reg_attr: self.attr,
            flags: self.flags,
            global_handle: self.handle,
            tag: 0,
            access_count: self.recv.len() as u32,
            access_offs: acc_offs,
            access_size: self.access_size as usize,
            reserved_zero: true,
        };
        h.write(&mut d, self.v1_1).unwrap();
        if self.v1_1 {
            d[36] = self.reserved;
        } else {
            d[3] = self.reserved;
        }
        for (i, &(id, perm, flags)) in self.recv.iter().enumerate() {
            let a = fm::MemAccess {
                endpoint_id: id.into(),
                perm,
                flags,
                region_offs: self.region_offs.unwrap_or(comp as u32).into(),
                reserved: 0.into(),
            };
            let at = acc_offs + i * self.access_size as usize;
            d[at..at + 16].copy_from_slice(a.as_bytes());
        }
        let pages: u32 = self.ranges.iter().map(|r| r.1).sum();
        let c = fm::CompositeRegion {
            total_page_count: self.total_pages.unwrap_or(pages).into(),
            address_range_count: (self.ranges.len() as u32).into(),
            reserved: 0.into(),
        };
        d[comp..comp + 16].copy_from_slice(c.as_bytes());
        for (i, &(a, n)) in self.ranges.iter().enumerate() {
            let k = fm::Constituent { address: a.into(), page_count: n.into(), reserved: 0.into() };
            let at = comp + 16 + 16 * i;
            d[at..at + 16].copy_from_slice(k.as_bytes());
        }
        d
    }
}

const PAGE: u64 = 4096;

#[test]
fn version_is_negotiated_through_the_spmd_framework_message() {
    let w = world();
    assert_eq!(w.version(ffa::VERSION_1_1), ffa::VERSION_1_1 as u64);
    assert_eq!(w.version(ffa::version(1, 2)), ffa::VERSION_1_1 as u64);
    assert_eq!(w.version(ffa::VERSION_1_0), ffa::VERSION_1_0 as u64);
    assert_eq!(w.os.ffa.nw_version(), ffa::VERSION_1_0);
    assert_eq!(w.version(ffa::version(2, 0)), ffa::NOT_SUPPORTED as u32 as u64);
    assert_eq!(w.version(0x8001_0001), ffa::NOT_SUPPORTED as u32 as u64);
    assert_eq!(w.os.ffa.nw_version(), ffa::VERSION_1_0, "a refused request changes nothing");
    // Only the SPMD sends framework messages, and only to the SPMC.
    let fwk = ffa::FWK_MSG_BIT | ffa::FWK_MSG_VERSION_REQ;
    let from_nw = [ffa::MSG_SEND_DIRECT_REQ_32 as u64, ffa::direct_ids(0, ffa::SPMC_ID), fwk, 0x10001, 0, 0, 0, 0];
    assert_eq!(w.err(from_nw), ffa::INVALID_PARAMETERS);
    let psci = [
        ffa::MSG_SEND_DIRECT_REQ_32 as u64,
        ffa::direct_ids(ffa::SPMD_ID, ffa::SPMC_ID),
        ffa::FWK_MSG_BIT,
        0,
        0,
        0,
        0,
        0,
    ];
    assert_eq!(w.err(psci), ffa::NOT_SUPPORTED);
    // FFA_VERSION itself, should it be forwarded.
    assert_eq!(w.call([ffa::VERSION as u64, 0x10001, 0, 0, 0, 0, 0, 0])[0], 0x10001);
    assert_eq!(w.os.ffa.nw_version(), ffa::VERSION_1_1);
}

#[test]
fn features_describe_the_whole_instance() {
    let w = world();
    let f = |id: u32| w.call([ffa::FEATURES as u64, id as u64, 0, 0, 0, 0, 0, 0]);
    let sri = f(ffa::FEATURE_SRI);
    assert_eq!((sri[0], sri[2]), (ffa::SUCCESS_32 as u64, ffa::SRI_INTID as u64));
    for id in [ffa::FEATURE_NPI, ffa::FEATURE_MEI, 0x42] {
        assert_eq!(f(id)[2] as u32 as i32, ffa::NOT_SUPPORTED);
    }
    for id in [
        ffa::RXTX_MAP_64,
        ffa::MEM_SHARE_32,
        ffa::MEM_LEND_64,
        ffa::MEM_RETRIEVE_REQ_64,
        ffa::MEM_FRAG_TX,
        ffa::MEM_RECLAIM,
        ffa::PARTITION_INFO_GET,
        ffa::NOTIFICATION_BIND,
        ffa::NOTIFICATION_INFO_GET_64,
        ffa::MSG_SEND_DIRECT_REQ_64,
    ] {
        let r = f(id);
        assert_eq!((r[0], r[2]), (ffa::SUCCESS_32 as u64, 0), "{id:#x}");
    }
    for id in [ffa::MEM_DONATE_32, ffa::MSG_SEND2, ffa::MSG_YIELD, 0x8400_0000, 0x8400_00ff] {
        assert_eq!(f(id)[2] as u32 as i32, ffa::NOT_SUPPORTED, "{id:#x}");
    }
    // A v1.0 normal world has no notifications.
    w.version(ffa::VERSION_1_0);
    assert_eq!(f(ffa::NOTIFICATION_SET)[2] as u32 as i32, ffa::NOT_SUPPORTED);
    assert_eq!(f(ffa::FEATURE_SRI)[2] as u32 as i32, ffa::NOT_SUPPORTED);
    assert_eq!(f(ffa::MEM_SHARE_64)[0], ffa::SUCCESS_32 as u64);
}

#[test]
fn rxtx_buffers_must_be_normal_world_pages_apart() {
    let w = world();
    let map = |tx: u64, rx: u64, n: u64| [ffa::RXTX_MAP_64 as u64, tx, rx, n, 0, 0, 0, 0];
    assert_eq!(w.err(map(TX + 8, RX, 1)), ffa::INVALID_PARAMETERS, "unaligned");
    assert_eq!(w.err(map(TX, RX + 0x800, 1)), ffa::INVALID_PARAMETERS, "unaligned");
    assert_eq!(w.err(map(SECURE, RX, 1)), ffa::INVALID_PARAMETERS, "TX in secure memory");
    assert_eq!(w.err(map(TX, SECURE, 1)), ffa::INVALID_PARAMETERS, "RX in secure memory");
    assert_eq!(w.err(map(TX, RAM + RAM_SIZE as u64 - PAGE, 2)), ffa::INVALID_PARAMETERS, "RX runs out of RAM");
    assert_eq!(w.err(map(TX, TX + PAGE, 2)), ffa::INVALID_PARAMETERS, "overlapping");
    assert_eq!(w.err(map(TX, TX, 1)), ffa::INVALID_PARAMETERS, "the same page");
    assert_eq!(w.err(map(TX, RX, 0)), ffa::INVALID_PARAMETERS, "no pages");
    assert_eq!(w.err(map(TX, RX, 0x41)), ffa::INVALID_PARAMETERS, "bits above 5:0");
    assert_eq!(w.err([ffa::RX_RELEASE as u64, 0, 0, 0, 0, 0, 0, 0]), ffa::DENIED);
    // 32-bit convention: addresses are w-registers.
    w.ok([ffa::RXTX_MAP_32 as u64, (1 << 32) | TX, RX, 1, 0, 0, 0, 0]);
    assert_eq!(w.err(map(TX + 4 * PAGE, RX + 4 * PAGE, 1)), ffa::DENIED, "already mapped");
    assert_eq!(w.err([ffa::RXTX_UNMAP as u64, 0x8001 << 16, 0, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
    w.ok([ffa::RXTX_UNMAP as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(w.err([ffa::RXTX_UNMAP as u64, 0, 0, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
    // A VM's id in 31:16 (a hypervisor unmapping for it).
    w.ok(map(TX, RX + PAGE, 2));
    w.ok([ffa::RXTX_UNMAP as u64, 5 << 16, 0, 0, 0, 0, 0, 0]);
}

fn info(w: &W, uuid: [u32; 4], flags: u64) -> [u64; 8] {
    let u = uuid.map(|x| x as u64);
    w.call([ffa::PARTITION_INFO_GET as u64, u[0], u[1], u[2], u[3], flags, 0, 0])
}

/// OP-TEE's UUID in w1..w4 as Linux's FF-A driver puts it.
fn optee_uuid_regs() -> [u32; 4] {
    let o = OS_UUID.to_octets();
    core::array::from_fn(|i| u32::from_le_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]))
}

#[test]
fn partition_info_in_the_callers_format_and_rx_ownership() {
    let w = world();
    assert_eq!(info(&w, [0; 4], 0)[2] as u32 as i32, ffa::DENIED, "no RX buffer");
    w.map();
    let r = info(&w, [0; 4], 0);
    assert_eq!((r[0], r[2], r[3]), (ffa::SUCCESS_32 as u64, 1, 24));
    let mut d = [0u8; 24];
    w.ram.get(RX, &mut d).unwrap();
    assert_eq!(u16::from_le_bytes([d[0], d[1]]), 0x8001);
    assert_eq!(u16::from_le_bytes([d[2], d[3]]), 4, "an execution context per CPU");
    let props = u32::from_le_bytes(d[4..8].try_into().unwrap());
    assert_eq!(props, ffa::PART_PROP_DIRECT_REQ_RECV | ffa::PART_PROP_NOTIFICATION | ffa::PART_PROP_AARCH64);
    assert_eq!(&d[8..24], &OS_UUID.to_octets());
    assert_eq!(Some(OS_UUID), Uuid::parse("486178e0-e7f8-11e3-bc5e-0002a5d5c51b"));
    // The caller owns RX until it releases it.
    assert_eq!(info(&w, [0; 4], 0)[2] as u32 as i32, ffa::BUSY);
    // Counting needs no buffer.
    let c = info(&w, optee_uuid_regs(), ffa::PARTITION_INFO_COUNT_ONLY as u64);
    assert_eq!((c[0], c[2], c[3]), (ffa::SUCCESS_32 as u64, 1, 24));
    w.ok([ffa::RX_RELEASE as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(w.err([ffa::RX_RELEASE as u64, 0, 0, 0, 0, 0, 0, 0]), ffa::DENIED);
    let r = info(&w, optee_uuid_regs(), 0);
    assert_eq!((r[0], r[2]), (ffa::SUCCESS_32 as u64, 1));
    w.ok([ffa::RX_RELEASE as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(info(&w, [1, 2, 3, 4], 0)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "unknown UUID");
    assert_eq!(info(&w, [0; 4], 2)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "unknown flags");
    // A secure partition is listed too.
    w.os.ffa.add_partition(Partition { id: SP, uuid: Uuid::new(1, 2, 3, [4; 8]), props: 1 }).unwrap();
    assert_eq!(info(&w, [0; 4], 1)[2], 2);
    // A v1.0 caller gets 8-byte descriptors without the UUID or v1.1 bits.
    w.version(ffa::VERSION_1_0);
    w.ram.put(RX, &[0xee; 48]).unwrap();
    let r = info(&w, optee_uuid_regs(), 0);
    assert_eq!((r[0], r[2], r[3]), (ffa::SUCCESS_32 as u64, 1, 0));
    let mut d = [0u8; 16];
    w.ram.get(RX, &mut d).unwrap();
    assert_eq!(&d[..8], &[0x01, 0x80, 4, 0, 1, 0, 0, 0]);
    assert_eq!(&d[8..], &[0xee; 8], "nothing beyond the descriptor");
    w.ok([ffa::RX_RELEASE as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(info(&w, [0; 4], 1)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "v1.0 has no flags");
}

#[test]
fn optee_blocking_services_over_direct_messages() {
    let w = world();
    let r = w.optee(0, [optee::GET_API_VERSION as u64, 0, 0, 0, 0]);
    assert_eq!((r[3], r[4]), (1, 0));
    let r = w.optee(0, [optee::GET_OS_VERSION as u64, 0, 0, 0, 0]);
    assert_eq!((r[3], r[4], r[5]), (smc::OS_REVISION_MAJOR as u64, smc::OS_REVISION_MINOR as u64, BUILD_ID >> 32));
    let r = w.optee(0, [optee::EXCHANGE_CAPABILITIES as u64, 0, 0, 0, 0]);
    assert_eq!((r[3], r[4]), (0, crate::rpc::RPC_MAX_PARAMS as u64));
    // No doorbell in this world: no asynchronous notifications offered.
    assert_eq!(r[5], optee::SEC_CAP_ARG_OFFSET as u64);
    assert_eq!(r[6], 63);
    // The 64-bit convention is answered in kind; any normal-world id works.
    let r = w.call([ffa::MSG_SEND_DIRECT_REQ_64 as u64, ffa::direct_ids(7, ffa::OPTEE_ID), 0, 0, 0, 0, 0, 0]);
    assert_eq!((r[0], r[1], r[3]), (ffa::MSG_SEND_DIRECT_RESP_64 as u64, ffa::direct_ids(ffa::OPTEE_ID, 7), 1));
    // Bad endpoints: a secure source, an unknown or non-OP-TEE destination.
    for ids in [ffa::direct_ids(0x8005, ffa::OPTEE_ID), ffa::direct_ids(0, 0x8005), ffa::direct_ids(0, ffa::SPMC_ID)] {
        assert_eq!(w.err([ffa::MSG_SEND_DIRECT_REQ_32 as u64, ids, 0, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
    }
    // Unknown services, as upstream.
    assert_eq!(w.optee(0, [0x77, 0, 0, 0, 0])[3], TeeResult::ERROR_BAD_PARAMETERS.0 as u64);
    assert_eq!(
        w.optee(0, [optee::YIELDING_CALL_BIT as u64 | 5, 0, 0, 0, 0])[3],
        TeeResult::ERROR_BAD_PARAMETERS.0 as u64
    );
    // Asynchronous notifications: the value must be < 64.
    assert_eq!(w.os.ffa.async_notif_id(), None);
    assert_eq!(
        w.optee(3, [optee::ENABLE_ASYNC_NOTIF as u64, 64, 0, 0, 0])[3],
        TeeResult::ERROR_BAD_PARAMETERS.0 as u64
    );
    assert_eq!(w.os.ffa.async_notif_id(), None);
    assert_eq!(w.optee(3, [optee::ENABLE_ASYNC_NOTIF as u64, 9, 0, 0, 0])[3], 0);
    assert_eq!(w.os.ffa.async_notif_id(), Some((3, 9)));
    // UNREGISTER_SHM of an unknown handle is not an error (upstream).
    assert_eq!(w.unregister(0, 0x1234), 0);
}

#[test]
fn yielding_calls_become_smc_form_thread_calls_and_results_map_back() {
    let w = world();
    let h: u64 = 0x0000_0005_0000_0042;
    let a = w.os.ffa_call(&[
        ffa::MSG_SEND_DIRECT_REQ_32 as u64,
        ffa::direct_ids(4, ffa::OPTEE_ID),
        0,
        optee::YIELDING_CALL_WITH_ARG as u64,
        h & 0xffff_ffff,
        h >> 32,
        0x80,
        0,
    ]);
    let ret = DirectRet { src: 4, dst: ffa::OPTEE_ID, is64: false };
    assert_eq!(a, FfaAction::Thread { call: [smc::CALL_WITH_REGD_ARG as u64, 5, 0x42, 0x80, 0, 0, 0, 0], ret });
    let a = w.os.ffa_call(&[
        ffa::MSG_SEND_DIRECT_REQ_64 as u64,
        ffa::direct_ids(4, ffa::OPTEE_ID),
        0,
        optee::YIELDING_CALL_RESUME as u64,
        0,
        0,
        0,
        3,
    ]);
    let ret64 = DirectRet { is64: true, ..ret };
    assert_eq!(a, FfaAction::Thread { call: [smc::RETURN_FROM_RPC as u64, 0, 0, 3, 0, 0, 0, 0], ret: ret64 });
    let resp = ffa::MSG_SEND_DIRECT_RESP_32 as u64;
    let ids = ffa::direct_ids(ffa::OPTEE_ID, 4);
    let done = |a0: u32, a3: u64| w.os.ffa_thread_done(ret, [a0 as u64, 0, 0, a3]);
    assert_eq!(done(smc::RETURN_OK, 0), [resp, ids, 0, 0, optee::RETURN_DONE as u64, 0, 0, 0]);
    assert_eq!(done(smc::RETURN_RPC_CMD, 2), [resp, ids, 0, 0, optee::RETURN_RPC_CMD as u64, 0, 0, 2]);
    assert_eq!(done(smc::RETURN_RPC_FOREIGN_INTR, 1), [resp, ids, 0, 0, optee::RETURN_INTERRUPT as u64, 0, 0, 1]);
    assert_eq!(done(smc::RETURN_ETHREAD_LIMIT, 0)[3], TeeResult::ERROR_BUSY.0 as u64);
    assert_eq!(done(smc::RETURN_ERESUME, 0)[3], TeeResult::ERROR_BAD_PARAMETERS.0 as u64);
    assert_eq!(done(smc::RETURN_EBADADDR, 0)[3], TeeResult::ERROR_BAD_PARAMETERS.0 as u64);
    assert_eq!(done(smc::RETURN_EBADCMD, 0)[3], TeeResult::ERROR_BAD_PARAMETERS.0 as u64);
    assert_eq!(done(smc::RETURN_ENOMEM, 0)[3], TeeResult::ERROR_OUT_OF_MEMORY.0 as u64);
    assert_eq!(w.os.ffa_thread_done(ret64, [0; 4])[0], ffa::MSG_SEND_DIRECT_RESP_64 as u64);
}

#[test]
fn a_share_is_registered_for_optee_until_unregistered_then_reclaimed() {
    let w = world();
    w.map();
    // Three scattered pages.
    let d = Desc::new(&[(SHARE + 5 * PAGE, 1), (SHARE, 2)]).build();
    let h = w.share(&d);
    assert_eq!(w.counts(), (1, 0, 1));
    // OP-TEE sees the constituents in order, as one buffer.
    let u = w.os.shm.acquire(h, PAGE - 2, 4).unwrap();
    u.pages().write(w.ram, 0, &[1, 2, 3, 4]).unwrap();
    drop(u);
    let mut b = [0u8; 2];
    w.ram.get(SHARE + 6 * PAGE - 2, &mut b).unwrap();
    assert_eq!(b, [1, 2]);
    w.ram.get(SHARE, &mut b).unwrap();
    assert_eq!(b, [3, 4]);
    assert!(w.os.shm.acquire(h, 3 * PAGE - 1, 2).is_err(), "3 pages, no more");
    // Reclaiming memory OP-TEE still holds (registered, or in use) fails.
    assert_eq!(w.reclaim(h, 0)[2] as u32 as i32, ffa::DENIED);
    let busy = w.os.shm.acquire(h, 0, 1).unwrap();
    assert_eq!(w.unregister(0, h), ffa::BUSY as u32 as u64);
    drop(busy);
    assert_eq!(w.reclaim(h, 0)[2] as u32 as i32, ffa::DENIED);
    assert_eq!(w.counts(), (1, 0, 1));
    assert_eq!(w.unregister(0, h), 0);
    assert_eq!(w.reclaim(h, 4)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "reserved flag");
    assert_eq!(w.reclaim(h, 0)[0], ffa::SUCCESS_32 as u64);
    assert_eq!(w.counts(), (0, 0, 0));
    assert_eq!(w.reclaim(h, 0)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "reclaimed already");
    // The same memory can be shared again, under a new handle.
    let h2 = w.share(&d);
    assert_ne!(h2, h);
}

#[test]
fn a_normal_world_endpoint_other_than_zero_shares_and_reclaims() {
    let w = world();
    w.map();
    let mut d = Desc::new(&[(SHARE, 1)]);
    d.sender = 0x0005;
    let h = w.share(&d.build());
    assert_eq!(w.unregister(5, h), 0);
    assert_eq!(w.reclaim(h, 0)[0], ffa::SUCCESS_32 as u64);
    // 64-bit convention, lend.
    let d = Desc::new(&[(SHARE, 1)]).build();
    w.ram.put(TX, &d).unwrap();
    let n = d.len() as u64;
    let r = w.call([ffa::MEM_LEND_64 as u64, n, n, 0, 0, 0, 0, 0]);
    assert_eq!(r[0], ffa::SUCCESS_32 as u64);
}

#[test]
fn fragmented_descriptors_are_collected_then_validated() {
    let w = world();
    w.map();
    // 40 single pages, every other one: a 48+16+16+640-byte descriptor.
    let ranges: Vec<(u64, u32)> = (0..40).map(|i| (SHARE + 2 * i * PAGE, 1)).collect();
    let d = Desc::new(&ranges).build();
    let total = d.len() as u64;
    w.ram.put(TX, &d[..300]).unwrap();
    let r = w.call([ffa::MEM_SHARE_32 as u64, total, 300, 0, 0, 0, 0, 0]);
    assert_eq!((r[0], r[3]), (ffa::MEM_FRAG_RX as u64, 300));
    let h = r[1] | (r[2] << 32);
    assert_eq!(w.counts(), (0, 1, 0));
    let frag = |len: u64| w.call([ffa::MEM_FRAG_TX as u64, h & 0xffff_ffff, h >> 32, len, 0, 0, 0, 0]);
    w.ram.put(TX, &d[300..600]).unwrap();
    let r = frag(300);
    assert_eq!((r[0], r[1], r[3]), (ffa::MEM_FRAG_RX as u64, h & 0xffff_ffff, 600));
    w.ram.put(TX, &d[600..]).unwrap();
    let r = frag(total - 600);
    assert_eq!(r[0], ffa::SUCCESS_32 as u64);
    assert_eq!(r[2] | (r[3] << 32), h, "the handle announced with the first fragment");
    assert_eq!(w.counts(), (1, 0, 1));
    let u = w.os.shm.acquire(h, 39 * PAGE, PAGE).unwrap();
    u.pages().write(w.ram, 0, &[7]).unwrap();
    drop(u);
    let mut b = [0u8];
    w.ram.get(SHARE + 78 * PAGE, &mut b).unwrap();
    assert_eq!(b, [7]);
    // A fragment for a handle that is not being sent.
    assert_eq!(frag(16)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    // A fragment longer than what is left ends the transaction.
    w.os.shm.unregister(h).unwrap();
    w.reclaim(h, 0);
    w.ram.put(TX, &d[..300]).unwrap();
    let r = w.call([ffa::MEM_SHARE_32 as u64, total, 300, 0, 0, 0, 0, 0]);
    let h = r[1] | (r[2] << 32);
    let frag = |len: u64| w.call([ffa::MEM_FRAG_TX as u64, h & 0xffff_ffff, h >> 32, len, 0, 0, 0, 0]);
    assert_eq!(frag(total)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(w.counts(), (0, 0, 0));
    assert_eq!(frag(16)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "gone");
    // A zero-length fragment, likewise; reclaiming abandons one in flight.
    let r = w.call([ffa::MEM_SHARE_32 as u64, total, 300, 0, 0, 0, 0, 0]);
    let h = r[1] | (r[2] << 32);
    assert_eq!(w.call([ffa::MEM_FRAG_TX as u64, h & 0xffff_ffff, h >> 32, 0, 0, 0, 0, 0])[2] as u32 as i32, -2);
    let r = w.call([ffa::MEM_SHARE_32 as u64, total, 300, 0, 0, 0, 0, 0]);
    let h = r[1] | (r[2] << 32);
    assert_eq!(w.reclaim(h, 0)[0], ffa::SUCCESS_32 as u64);
    assert_eq!(w.counts(), (0, 0, 0));
    // A complete but malformed descriptor fails at the last fragment.
    let mut bad = Desc::new(&ranges);
    bad.total_pages = Some(41);
    let bad = bad.build();
    w.ram.put(TX, &bad[..300]).unwrap();
    let r = w.call([ffa::MEM_SHARE_32 as u64, total, 300, 0, 0, 0, 0, 0]);
    let h = r[1] | (r[2] << 32);
    w.ram.put(TX, &bad[300..]).unwrap();
    let r = w.call([ffa::MEM_FRAG_TX as u64, h & 0xffff_ffff, h >> 32, total - 300, 0, 0, 0, 0]);
    assert_eq!(r[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(w.counts(), (0, 0, 0));
    // Fragmented transactions in flight are bounded.
    for _ in 0..mem::MAX_FRAGMENTED {
        assert_eq!(w.call([ffa::MEM_SHARE_32 as u64, total, 300, 0, 0, 0, 0, 0])[0], ffa::MEM_FRAG_RX as u64);
    }
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, total, 300, 0, 0, 0, 0, 0]), ffa::NO_MEMORY);
}

#[test]
fn malformed_descriptors_are_refused_and_change_nothing() {
    let w = world();
    w.map();
    w.os.ffa.add_partition(Partition { id: SP, uuid: Uuid::new(1, 2, 3, [4; 8]), props: 1 }).unwrap();
    let good = Desc::new(&[(SHARE, 2), (SHARE + 4 * PAGE, 1)]);
    type Edit = fn(&mut Desc);
    let cases: &[(&str, Edit, i32)] = &[
        ("secure sender", |d| d.sender = 0x8001, ffa::INVALID_PARAMETERS),
        ("handle set by the sender", |d| d.handle = 5, ffa::INVALID_PARAMETERS),
        ("device memory", |d| d.attr = 0x00, ffa::INVALID_PARAMETERS),
        ("non-cacheable", |d| d.attr = 0x27, ffa::INVALID_PARAMETERS),
        ("reserved flags", |d| d.flags = 1 << 12, ffa::INVALID_PARAMETERS),
        ("zero flag on a share", |d| d.flags = fm::FLAG_ZERO_MEMORY, ffa::INVALID_PARAMETERS),
        ("lend type on a share", |d| d.flags = fm::FLAG_TYPE_LEND, ffa::INVALID_PARAMETERS),
        ("unknown receiver", |d| d.recv[0].0 = 0x8005, ffa::INVALID_PARAMETERS),
        ("normal-world receiver", |d| d.recv[0].0 = 0x0001, ffa::INVALID_PARAMETERS),
        ("the SPMC as receiver", |d| d.recv[0].0 = ffa::SPMC_ID, ffa::INVALID_PARAMETERS),
        ("duplicate receivers", |d| d.recv.push(d.recv[0]), ffa::INVALID_PARAMETERS),
        ("no receivers", |d| d.recv.clear(), ffa::INVALID_PARAMETERS),
        ("too many receivers", |d| d.recv = vec![(0x8001, 2, 0); 5], ffa::INVALID_PARAMETERS),
        ("data access unspecified", |d| d.recv[0].1 = 0, ffa::INVALID_PARAMETERS),
        ("data access reserved", |d| d.recv[0].1 = 3, ffa::INVALID_PARAMETERS),
        ("executable", |d| d.recv[0].1 = fm::PERM_DATA_RO | fm::PERM_INSTR_X, ffa::INVALID_PARAMETERS),
        ("permission high bits", |d| d.recv[0].1 = 0x12, ffa::INVALID_PARAMETERS),
        ("receiver flags", |d| d.recv[0].2 = 1, ffa::INVALID_PARAMETERS),
        ("composite past the end", |d| d.region_offs = Some(4000), ffa::INVALID_PARAMETERS),
        ("composite unaligned", |d| d.region_offs = Some(66), ffa::INVALID_PARAMETERS),
        ("composite at 0", |d| d.region_offs = Some(0), ffa::INVALID_PARAMETERS),
        ("page total too high", |d| d.total_pages = Some(4), ffa::INVALID_PARAMETERS),
        ("page total too low", |d| d.total_pages = Some(2), ffa::INVALID_PARAMETERS),
        ("no constituents", |d| d.ranges.clear(), ffa::INVALID_PARAMETERS),
        ("unaligned constituent", |d| d.ranges[1].0 += 8, ffa::INVALID_PARAMETERS),
        ("empty constituent", |d| d.ranges[1].1 = 0, ffa::INVALID_PARAMETERS),
        ("constituent in secure memory", |d| d.ranges[1].0 = SECURE, ffa::INVALID_PARAMETERS),
        (
            "constituent off the end of RAM",
            |d| d.ranges[1] = (RAM + RAM_SIZE as u64 - PAGE, 2),
            ffa::INVALID_PARAMETERS,
        ),
        ("constituent wrapping around", |d| d.ranges[1] = (!0xfff, 2), ffa::INVALID_PARAMETERS),
        ("overlapping constituents", |d| d.ranges[1].0 = SHARE + PAGE, ffa::INVALID_PARAMETERS),
        ("the same page twice", |d| d.ranges[1] = (SHARE, 1), ffa::INVALID_PARAMETERS),
        ("v1.2 access size", |d| d.access_size = 32, ffa::INVALID_PARAMETERS),
        ("access array over the header", |d| d.access_offs = Some(16), ffa::INVALID_PARAMETERS),
        ("reserved header bytes", |d| d.reserved = 1, ffa::INVALID_PARAMETERS),
        ("a v1.0 layout from a v1.1 caller", |d| d.v1_1 = false, ffa::INVALID_PARAMETERS),
        (
            "receivers with different composites",
            |d| {
                d.recv.push((SP, 2, 0));
                d.region_offs = None;
            },
            0,
        ),
    ];
    for (what, edit, want) in cases {
        let mut d = good.clone();
        edit(&mut d);
        let mut bytes = d.build();
        if *what == "receivers with different composites" {
            // Point the second receiver elsewhere.
            bytes[48 + 16 + 4..48 + 16 + 8].copy_from_slice(&8u32.to_le_bytes());
        }
        let want = if *want == 0 { ffa::INVALID_PARAMETERS } else { *want };
        assert_eq!(w.send_err(true, &bytes), want, "{what}");
        assert_eq!(w.counts(), (0, 0, 0), "{what}: nothing recorded");
    }
    // Length errors in registers.
    let d = good.build();
    w.ram.put(TX, &d).unwrap();
    let n = d.len() as u64;
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, n, n + 1, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, n, 0, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, 0, 0, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, n - 8, n - 8, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS, "short");
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, 1 << 20, 4096, 0, 0, 0, 0, 0]), ffa::NO_MEMORY);
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, 8192, 8192, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS, "> TX");
    assert_eq!(w.err([ffa::MEM_SHARE_64 as u64, n, n, SHARE, 1, 0, 0, 0]), ffa::NOT_SUPPORTED, "other buffer");
    assert_eq!(w.counts(), (0, 0, 0));
    // A lend may leave attributes unspecified; a share may not.
    let mut l = good.clone();
    l.attr = 0;
    assert_eq!(w.send_err(true, &l.build()), ffa::INVALID_PARAMETERS);
    assert_eq!(w.send(false, &l.build())[0], ffa::SUCCESS_32 as u64);
    // Without TX buffer.
    w.ok([ffa::RXTX_UNMAP as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(w.err([ffa::MEM_SHARE_32 as u64, n, n, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
}

#[test]
fn memory_in_another_transaction_is_denied() {
    let w = world();
    w.map();
    let h = w.share(&Desc::new(&[(SHARE, 4)]).build());
    assert_eq!(w.send_err(true, &Desc::new(&[(SHARE + 3 * PAGE, 2)]).build()), ffa::DENIED);
    assert_eq!(w.send_err(false, &Desc::new(&[(SHARE + 8 * PAGE, 1), (SHARE + PAGE, 1)]).build()), ffa::DENIED);
    assert_eq!(w.counts(), (1, 0, 1));
    let h2 = w.share(&Desc::new(&[(SHARE + 4 * PAGE, 1)]).build());
    assert_eq!(w.unregister(0, h), 0);
    w.reclaim(h, 0);
    let h3 = w.share(&Desc::new(&[(SHARE + 3 * PAGE, 1)]).build());
    assert!(h3 != h && h3 != h2);
}

#[test]
fn v1_0_callers_use_the_v1_0_layout() {
    let w = world();
    w.map();
    w.version(ffa::VERSION_1_0);
    let mut d = Desc::new(&[(SHARE, 2)]);
    assert_eq!(w.send_err(true, &d.build()), ffa::INVALID_PARAMETERS, "a v1.1 layout");
    d.v1_1 = false;
    let h = w.share(&d.build());
    assert_eq!(w.os.shm.acquire(h, 0, 2 * PAGE).map(|_| ()), Ok(()));
}

#[test]
fn a_manifest_at_v1_0_starts_the_normal_world_at_v1_0() {
    // TF-A's SPMD with a 1.0 manifest answers the normal world 1.0 itself.
    let w = world();
    w.os.ffa.set_initial_nw_version(ffa::version(1, 2));
    w.os.ffa.set_initial_nw_version(ffa::version(2, 0));
    assert_eq!(w.os.ffa.nw_version(), ffa::VERSION_1_1, "only 1.0 and 1.1 are taken");
    w.os.ffa.set_initial_nw_version(ffa::VERSION_1_0);
    assert_eq!(w.os.ffa.nw_version(), ffa::VERSION_1_0);
    w.map();
    let mut d = Desc::new(&[(SHARE, 2)]);
    assert_eq!(w.send_err(true, &d.build()), ffa::INVALID_PARAMETERS, "a v1.1 layout");
    d.v1_1 = false;
    let h = w.share(&d.build());
    assert_eq!(w.os.shm.acquire(h, 0, 2 * PAGE).map(|_| ()), Ok(()));
    // A later negotiation through the SPMD still decides.
    assert_eq!(w.version(ffa::VERSION_1_1), ffa::VERSION_1_1 as u64);
    assert_eq!(w.os.ffa.nw_version(), ffa::VERSION_1_1);
}

#[test]
fn optee_retrieval_obeys_the_registry_limits() {
    let w = world();
    w.map();
    let limit = crate::tests::LIMITS.shm.pages as u32;
    assert_eq!(w.send_err(true, &Desc::new(&[(SHARE, limit + 1)]).build()), ffa::NO_MEMORY);
    assert_eq!(w.counts(), (0, 0, 0));
    for i in 0..crate::tests::LIMITS.shm.buffers as u64 {
        w.share(&Desc::new(&[(SHARE + i * PAGE, 1)]).build());
    }
    assert_eq!(w.send_err(true, &Desc::new(&[(SHARE + 100 * PAGE, 1)]).build()), ffa::NO_MEMORY);
    assert_eq!(w.counts().0, crate::tests::LIMITS.shm.buffers, "the refused one is not recorded");
}

/// Registers `pages` pages at `pa` through the SMC ABI's REGISTER_SHM
/// path (a page list at `list`) under `cookie`.
fn register(w: &W, cookie: u64, list: u64, pa: u64, pages: u64) {
    for i in 0..pages {
        w.ram.put(list + 8 * i, &(pa + i * PAGE).to_le_bytes()).unwrap();
    }
    let ledger = oxtee_guard::Ledger::new();
    w.os.shm.register(w.ram, &ledger, cookie, list, pages * PAGE).unwrap();
}

#[test]
fn handles_skip_cookies_registered_otherwise() {
    let w = world();
    w.map();
    let h = w.share(&Desc::new(&[(SHARE, 1)]).build());
    register(&w, h + 1, SHARE + 0x1000 * 16, SHARE + 64 * PAGE, 1);
    let h2 = w.share(&Desc::new(&[(SHARE + PAGE, 1)]).build());
    assert_eq!(h2, h + 2, "the registered cookie is skipped");
    assert_eq!(
        w.os.shm.acquire(h + 1, 0, PAGE).unwrap().pages().runs().next(),
        Some((NsPhys::new(SHARE + 64 * PAGE), PAGE))
    );
}

#[test]
fn transactions_with_secure_partitions_are_bounded_and_retrieved_explicitly() {
    let w = world();
    w.map();
    w.os.ffa.add_partition(Partition { id: SP, uuid: Uuid::new(1, 2, 3, [4; 8]), props: 1 }).unwrap();
    w.os.ffa.add_partition(Partition { id: SP2, uuid: Uuid::new(1, 2, 3, [5; 8]), props: 1 }).unwrap();
    assert_eq!(w.os.ffa.add_partition(Partition { id: SP, uuid: Uuid::NIL, props: 0 }), Err(ffa::DENIED));
    assert_eq!(w.os.ffa.add_partition(Partition { id: 3, uuid: Uuid::NIL, props: 0 }), Err(ffa::INVALID_PARAMETERS));
    let mut d = Desc::new(&[(SHARE, 1), (SHARE + 2 * PAGE, 1)]);
    d.recv = vec![(SP, fm::PERM_DATA_RO, 0)];
    let h = w.share(&d.build());
    assert_eq!(w.counts(), (1, 0, 0), "not OP-TEE's: nothing registered");
    // Retrieving what was not shared, or by someone it was not shared with.
    assert_eq!(w.os.ffa.retrieve(h + 1000, SP), Err(ffa::INVALID_PARAMETERS));
    assert_eq!(w.os.ffa.retrieve(h, SP2), Err(ffa::DENIED));
    assert_eq!(w.os.ffa.retrieve(h, ffa::OPTEE_ID), Err(ffa::DENIED));
    let r = w.os.ffa.retrieve(h, SP).unwrap();
    assert_eq!(r.ranges, vec![(NsPhys::new(SHARE), 1), (NsPhys::new(SHARE + 2 * PAGE), 1)]);
    assert_eq!((r.sender, r.share, r.perm), (0, true, fm::PERM_DATA_RO));
    assert_eq!(w.reclaim(h, 0)[2] as u32 as i32, ffa::DENIED, "still retrieved");
    assert_eq!(w.os.ffa.relinquish(h, SP), Ok(()));
    assert_eq!(w.os.ffa.relinquish(h, SP), Err(ffa::DENIED), "not retrieved any more");
    assert_eq!(w.os.ffa.relinquish(h, SP2), Err(ffa::INVALID_PARAMETERS));

    // The descriptor-level calls a secure partition makes.
    let mut req = Desc::new(&[]);
    req.handle = h;
    req.recv = vec![(SP, fm::PERM_DATA_RW, 0)];
    let mut rx = Vec::new();
    let bytes = req.build();
    let call = |caller, tx: &[u8], rx: &mut Vec<u8>| {
        let n = tx.len() as u64;
        w.os.ffa_secure_call(caller, &[ffa::MEM_RETRIEVE_REQ_32 as u64, n, n, 0, 0, 0, 0, 0], tx, rx)
    };
    assert_eq!(call(SP, &bytes, &mut rx)[2] as u32 as i32, ffa::DENIED, "RW asked, RO granted");
    req.recv[0].1 = fm::PERM_DATA_RO;
    let bytes = req.build();
    assert_eq!(call(SP2, &bytes, &mut rx)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "not the caller");
    assert_eq!(call(0x8009, &bytes, &mut rx)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "no such endpoint");
    let mut wrong_sender = req.clone();
    wrong_sender.sender = 9;
    assert_eq!(call(SP, &wrong_sender.build(), &mut rx)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    let r = call(SP, &bytes, &mut rx);
    assert_eq!((r[0], r[1], r[2]), (ffa::MEM_RETRIEVE_RESP as u64, rx.len() as u64, rx.len() as u64));
    let hd = fm::TransactionHeader::parse(&rx, true).unwrap();
    assert_eq!((hd.global_handle, hd.flags & fm::FLAG_TYPE_MASK, hd.access_count), (h, fm::FLAG_TYPE_SHARE, 1));
    let a = hd.access(&rx, 0).unwrap();
    assert_eq!((a.endpoint_id.get(), a.perm), (SP, fm::PERM_DATA_RO));
    let (c, range) = fm::composite(&rx, a.region_offs.get() as usize).unwrap();
    assert_eq!((c.total_page_count.get(), c.address_range_count.get()), (2, 2));
    assert_eq!(fm::constituent(&rx, &range, 1).unwrap().address.get(), SHARE + 2 * PAGE);
    assert_eq!(w.reclaim(h, 0)[2] as u32 as i32, ffa::DENIED);
    let mut rel = fm::Relinquish { handle: h.into(), flags: 0.into(), endpoint_count: 1.into() }.as_bytes().to_vec();
    rel.extend_from_slice(&SP2.to_le_bytes());
    let relq = |caller, tx: &[u8]| {
        w.os.ffa_secure_call(caller, &[ffa::MEM_RELINQUISH as u64, 0, 0, 0, 0, 0, 0, 0], tx, &mut Vec::new())
    };
    assert_eq!(relq(SP, &rel)[2] as u32 as i32, ffa::INVALID_PARAMETERS, "another endpoint's id");
    rel[16..18].copy_from_slice(&SP.to_le_bytes());
    assert_eq!(relq(SP, &rel)[0], ffa::SUCCESS_32 as u64);
    assert_eq!(w.reclaim(h, 0)[0], ffa::SUCCESS_32 as u64);
    assert_eq!(w.os.ffa.retrieve(h, SP), Err(ffa::INVALID_PARAMETERS), "reclaimed");

    // No transaction beyond the registry's page budget, whoever receives it.
    let limit = crate::tests::LIMITS.shm.pages as u32;
    let mut big = Desc::new(&[(SHARE, limit + 1)]);
    big.recv = vec![(SP, fm::PERM_DATA_RW, 0)];
    assert_eq!(w.send_err(true, &big.build()), ffa::NO_MEMORY);
    // At most MAX_TRANSACTIONS live transactions.
    let mut d = Desc::new(&[]);
    d.recv = vec![(SP, fm::PERM_DATA_RW, 0)];
    for i in 0..mem::MAX_TRANSACTIONS as u64 {
        d.ranges = vec![(SHARE + i * PAGE, 1)];
        w.share(&d.build());
    }
    d.ranges = vec![(SHARE + 500 * PAGE, 1)];
    assert_eq!(w.send_err(true, &d.build()), ffa::NO_MEMORY);
}

#[test]
fn lending_with_the_zero_flag_clears_the_memory() {
    let w = world();
    w.map();
    w.ram.put(SHARE, &[0x5a; 4096]).unwrap();
    let mut d = Desc::new(&[(SHARE, 1)]);
    d.flags = fm::FLAG_ZERO_MEMORY;
    let r = w.send(false, &d.build());
    assert_eq!(r[0], ffa::SUCCESS_32 as u64);
    let h = r[2] | (r[3] << 32);
    let mut b = [1u8; 4096];
    w.ram.get(SHARE, &mut b).unwrap();
    assert!(b.iter().all(|x| *x == 0));
    assert_eq!(w.unregister(0, h), 0);
    w.ram.put(SHARE, &[0x5a; 16]).unwrap();
    assert_eq!(w.reclaim(h, fm::RECLAIM_FLAG_ZERO as u64)[0], ffa::SUCCESS_32 as u64);
    w.ram.get(SHARE, &mut b).unwrap();
    assert!(b.iter().all(|x| *x == 0));
    // Clearing shared memory on reclaim is refused.
    let h = w.share(&Desc::new(&[(SHARE, 1)]).build());
    assert_eq!(w.unregister(0, h), 0);
    assert_eq!(w.reclaim(h, fm::RECLAIM_FLAG_ZERO as u64)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(w.reclaim(h, 0)[0], ffa::SUCCESS_32 as u64);
}

fn notif(w: &W, fid: u32, w1: u64, w2: u64, bits: u64) -> [u64; 8] {
    w.call([fid as u64, w1, w2, bits & 0xffff_ffff, bits >> 32, 0, 0, 0])
}

#[test]
fn notifications_bind_set_get_and_info_get() {
    let w = world();
    let bind =
        |vm: u16, sender: u16, bits: u64| notif(&w, ffa::NOTIFICATION_BIND, ffa::direct_ids(sender, vm), 0, bits);
    let get = |vm: u64| notif(&w, ffa::NOTIFICATION_GET, vm, ffa::NOTIF_GET_SP as u64, 0);
    let info = || w.call([ffa::NOTIFICATION_INFO_GET_64 as u64, 0, 0, 0, 0, 0, 0, 0]);
    // No bitmap yet.
    assert_eq!(bind(0, ffa::OPTEE_ID, 1 << 3)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(w.err([ffa::NOTIFICATION_BITMAP_CREATE as u64, 0x8001, 1, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
    w.ok([ffa::NOTIFICATION_BITMAP_CREATE as u64, 0, 4, 0, 0, 0, 0, 0]);
    assert_eq!(w.err([ffa::NOTIFICATION_BITMAP_CREATE as u64, 0, 4, 0, 0, 0, 0, 0]), ffa::DENIED);
    // Binding: to a secure sender that exists, whole bitmaps, no per-vCPU.
    assert_eq!(bind(0, 0x8005, 1 << 3)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(bind(0, 2, 1 << 3)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(bind(0, ffa::OPTEE_ID, 0)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(bind(0x8001, ffa::OPTEE_ID, 1)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    let per_vcpu = notif(&w, ffa::NOTIFICATION_BIND, ffa::direct_ids(ffa::OPTEE_ID, 0), 1, 1);
    assert_eq!(per_vcpu[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(bind(0, ffa::OPTEE_ID, (1 << 3) | (1 << 40))[0], ffa::SUCCESS_32 as u64);
    assert_eq!(bind(0, ffa::OPTEE_ID, 1 << 3)[2] as u32 as i32, ffa::DENIED, "bound already");
    assert_eq!(info()[2] as u32 as i32, ffa::NO_DATA);
    // OP-TEE sets a bound bit: pending, SRI raised.
    assert_eq!(w.os.ffa_notify_nw(0, 4), Err(ffa::DENIED), "unbound");
    assert_eq!(w.os.ffa_notify_nw(1, 3), Err(ffa::INVALID_PARAMETERS), "no bitmap");
    assert_eq!(w.plat.sri.load(Ordering::Relaxed), 0);
    w.os.ffa_notify_nw(0, 40).unwrap();
    assert_eq!(w.plat.sri.load(Ordering::Relaxed), 1);
    let r = info();
    assert_eq!(r[0], ffa::SUCCESS_64 as u64);
    assert_eq!(r[2], 1 << ffa::NOTIF_INFO_LIST_COUNT_SHIFT, "one list, no vCPU ids");
    assert_eq!(r[3] & 0xffff, 0);
    assert_eq!(info()[2] as u32 as i32, ffa::NO_DATA, "reported once");
    assert_eq!(w.err([ffa::NOTIFICATION_BITMAP_DESTROY as u64, 0, 0, 0, 0, 0, 0, 0]), ffa::DENIED, "pending");
    let r = get(0);
    assert_eq!((r[0], r[2], r[3], r[4], r[6]), (ffa::SUCCESS_32 as u64, 0, 1 << 8, 0, 0));
    assert_eq!((get(0)[2], get(0)[3]), (0, 0), "GET clears");
    assert_eq!(get(1)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    assert_eq!(notif(&w, ffa::NOTIFICATION_GET, 0, 0x10, 0)[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    // Delayed SRI.
    w.os.ffa.notify(ffa::OPTEE_ID, 0, 1 << 3, ffa::NOTIF_SET_DELAY_SRI).unwrap();
    assert_eq!(w.plat.sri.load(Ordering::Relaxed), 1);
    assert_eq!(get(0)[2], 1 << 3);
    // The normal world cannot set for OP-TEE (it binds nothing).
    let set = notif(&w, ffa::NOTIFICATION_SET, ffa::direct_ids(0, ffa::OPTEE_ID), 0, 1);
    assert_eq!(set[2] as u32 as i32, ffa::DENIED);
    let set = notif(&w, ffa::NOTIFICATION_SET, ffa::direct_ids(0x8001, ffa::OPTEE_ID), 0, 1);
    assert_eq!(set[2] as u32 as i32, ffa::INVALID_PARAMETERS);
    // Unbinding: only what that sender bound.
    w.os.ffa.add_partition(Partition { id: SP, uuid: Uuid::NIL, props: 0 }).unwrap();
    let unbind = |sender: u16, bits: u64| notif(&w, ffa::NOTIFICATION_UNBIND, ffa::direct_ids(sender, 0), 0, bits);
    assert_eq!(unbind(SP, 1 << 3)[2] as u32 as i32, ffa::DENIED);
    assert_eq!(unbind(ffa::OPTEE_ID, 1 << 5)[2] as u32 as i32, ffa::DENIED);
    assert_eq!(unbind(ffa::OPTEE_ID, 1 << 3)[0], ffa::SUCCESS_32 as u64);
    assert_eq!(w.os.ffa_notify_nw(0, 3), Err(ffa::DENIED));
    // A secure partition binds bit 3 now; its set goes through the
    // secure-call interface, OP-TEE's does not.
    assert_eq!(bind(0, SP, 1 << 3)[0], ffa::SUCCESS_32 as u64);
    assert_eq!(w.os.ffa_notify_nw(0, 3), Err(ffa::DENIED));
    let r = w.os.ffa_secure_call(
        SP,
        &[ffa::NOTIFICATION_SET as u64, ffa::direct_ids(SP, 0), 0, 8, 0, 0, 0, 0],
        &[],
        &mut Vec::new(),
    );
    assert_eq!(r[0], ffa::SUCCESS_32 as u64);
    let r = w.os.ffa_secure_call(
        SP,
        &[ffa::NOTIFICATION_SET as u64, ffa::direct_ids(ffa::OPTEE_ID, 0), 0, 8, 0, 0, 0, 0],
        &[],
        &mut Vec::new(),
    );
    assert_eq!(r[2] as u32 as i32, ffa::INVALID_PARAMETERS, "sets only as itself");
    assert_eq!(get(0)[2], 8);
    w.ok([ffa::NOTIFICATION_BITMAP_DESTROY as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(w.err([ffa::NOTIFICATION_BITMAP_DESTROY as u64, 0, 0, 0, 0, 0, 0, 0]), ffa::INVALID_PARAMETERS);
}

#[test]
fn notifications_for_vms_other_than_zero_and_the_async_notification() {
    let w = world();
    for vm in [5u64, 9] {
        w.ok([ffa::NOTIFICATION_BITMAP_CREATE as u64, vm, 1, 0, 0, 0, 0, 0]);
    }
    assert_eq!(
        notif(&w, ffa::NOTIFICATION_BIND, ffa::direct_ids(ffa::OPTEE_ID, 9), 0, 1 << 7)[0],
        ffa::SUCCESS_32 as u64
    );
    assert_eq!(
        notif(&w, ffa::NOTIFICATION_BIND, ffa::direct_ids(ffa::OPTEE_ID, 5), 0, 1 << 7)[0],
        ffa::SUCCESS_32 as u64
    );
    assert!(!w.os.ffa_async_notify(), "not enabled yet");
    assert_eq!(w.optee(9, [optee::ENABLE_ASYNC_NOTIF as u64, 7, 0, 0, 0])[3], 0);
    assert!(w.os.ffa_async_notify());
    // 32-bit INFO_GET: two ids per register.
    w.os.ffa_notify_nw(5, 7).unwrap();
    let r = w.call([ffa::NOTIFICATION_INFO_GET_32 as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!((r[0], r[2] >> 7), (ffa::SUCCESS_32 as u64, 2));
    let mut ids = [r[3] & 0xffff, r[3] >> 16];
    ids.sort();
    assert_eq!(ids, [5, 9]);
    let g = notif(&w, ffa::NOTIFICATION_GET, 9, ffa::NOTIF_GET_SP as u64, 0);
    assert_eq!(g[2], 1 << 7);
    assert_eq!(notif(&w, ffa::NOTIFICATION_GET, 9, ffa::NOTIF_GET_SP as u64, 0)[2], 0);
    // Bitmaps are bounded.
    for vm in 10..10 + notif::MAX_NW_BITMAPS as u64 - 2 {
        w.ok([ffa::NOTIFICATION_BITMAP_CREATE as u64, vm, 1, 0, 0, 0, 0, 0]);
    }
    assert_eq!(w.err([ffa::NOTIFICATION_BITMAP_CREATE as u64, 99, 1, 0, 0, 0, 0, 0]), ffa::NO_MEMORY);
}

/// A normal world talking to OP-TEE over FF-A, as Linux's driver does:
/// the argument lives in memory it shared, RPCs come back as direct
/// responses and are resumed with RESUME; SHM_ALLOC is answered by
/// sharing memory (FMEM), SHM_FREE by reclaiming it.
struct FfaNw {
    w: W,
    /// Speak the SMC ABI instead (RPCs return straight to the thread).
    smc: bool,
    cmds: Vec<u32>,
    ret: DirectRet,
    rpc_pa: u64,
    next: u64,
    shared: Vec<u64>,
    reclaimed: Vec<u64>,
}

impl FfaNw {
    fn share_pages(&mut self, pages: u32) -> u64 {
        let pa = self.next;
        self.next += pages as u64 * PAGE;
        self.w.share(&Desc::new(&[(pa, pages)]).build())
    }
}

impl ThreadEnv for FfaNw {
    fn thread_id(&self) -> usize {
        0
    }

    fn rpc(&mut self, a: [u64; 4]) -> RpcReturn {
        let resp = if self.smc {
            assert_eq!(a[0], smc::RETURN_RPC_CMD as u64);
            [0; 8]
        } else {
            let resp = self.w.os.ffa_thread_done(self.ret, a);
            assert_eq!((resp[3], resp[4]), (0, optee::RETURN_RPC_CMD as u64), "{resp:x?}");
            resp
        };
        let mut b = vec![0u8; msg::size_for(4)];
        self.w.ram.get(self.rpc_pa, &mut b).unwrap();
        let mut req = msg::parse(&b, 4).unwrap();
        req.hdr.ret = 0;
        self.cmds.push(req.hdr.cmd);
        match req.hdr.cmd {
            rpc::CMD_GET_TIME => req.params[0] = Param::Value { dir: Dir::Out, a: 1, b: 2, c: 0 },
            rpc::CMD_SHM_ALLOC if self.smc => {
                // An RMEM answer naming a registered buffer: not an SMC-ABI
                // answer, refused.
                let Param::Value { b: size, .. } = req.params[0] else { panic!() };
                req.params[0] = Param::Rmem { dir: Dir::Out, offs: 0, size, shm_ref: 0x77 };
            }
            rpc::CMD_SHM_ALLOC => {
                let Param::Value { b: size, .. } = req.params[0] else { panic!() };
                let h = self.share_pages(size.div_ceil(PAGE) as u32);
                self.shared.push(h);
                req.params[0] = Param::Rmem { dir: Dir::Out, offs: 0, size, shm_ref: h };
            }
            rpc::CMD_SHM_FREE => {
                let Param::Value { b: h, .. } = req.params[0] else { panic!() };
                // Linux reclaims at once, without UNREGISTER_SHM.
                let r = self.w.reclaim(h, 0);
                assert_eq!(r[0], ffa::SUCCESS_32 as u64, "OP-TEE let go of {h:#x} before SHM_FREE");
                self.reclaimed.push(h);
            }
            c => panic!("unexpected RPC {c}"),
        }
        self.w.ram.put(self.rpc_pa, &req.encode()).unwrap();
        if self.smc {
            return [0; 8];
        }
        let resume = [
            ffa::MSG_SEND_DIRECT_REQ_32 as u64,
            ffa::direct_ids(self.ret.src, ffa::OPTEE_ID),
            0,
            optee::YIELDING_CALL_RESUME as u64,
            0,
            0,
            0,
            resp[7],
        ];
        match self.w.os.ffa_call(&resume) {
            FfaAction::Thread { call, .. } => call,
            r => panic!("{r:?}"),
        }
    }

    fn now_ns(&self) -> u64 {
        0
    }

    fn wait_until(&mut self, _deadline: u64, _sleep: bool, stop: &dyn Fn() -> bool) -> bool {
        !stop()
    }

    fn cpu(&self) -> usize {
        0
    }

    fn foreign_interrupts(&self) -> u64 {
        0
    }

    fn enter_user(&mut self, _tables: &dyn UserTables, _regs: &mut UserRegs) -> UserExit {
        unreachable!("no user TAs here")
    }
}

impl FfaNw {
    /// A yielding call with `msg` at offset `offs` of shared buffer `h`.
    fn call(&mut self, h: u64, buf: u64, offs: u64, msg: &Message) -> (u64, Message) {
        self.w.ram.put(buf + offs, &msg.encode()).unwrap();
        self.rpc_pa = buf + offs + msg::size_for(msg.params.len()) as u64;
        let req = [
            ffa::MSG_SEND_DIRECT_REQ_32 as u64,
            ffa::direct_ids(self.ret.src, ffa::OPTEE_ID),
            0,
            optee::YIELDING_CALL_WITH_ARG as u64,
            h & 0xffff_ffff,
            h >> 32,
            offs,
            0,
        ];
        let FfaAction::Thread { call, ret } = self.w.os.ffa_call(&req) else { panic!() };
        assert_eq!(ret, self.ret);
        let smc_ret = self.w.os.serve(self, call);
        let resp = self.w.os.ffa_thread_done(ret, smc_ret);
        let mut back = vec![0u8; msg::size_for(msg.params.len())];
        self.w.ram.get(buf + offs, &mut back).unwrap();
        assert_eq!(resp[4], optee::RETURN_DONE as u64);
        (resp[3], msg::parse(&back, msg.params.len()).unwrap())
    }
}

#[test]
fn optee_calls_and_rpcs_over_ffa_with_shared_memory() {
    let w = world();
    w.map();
    let mut nw = FfaNw {
        w,
        smc: false,
        cmds: Vec::new(),
        ret: DirectRet { src: 0, dst: ffa::OPTEE_ID, is64: false },
        rpc_pa: 0,
        next: SHARE + 0x10_0000,
        shared: Vec::new(),
        reclaimed: Vec::new(),
    };
    // The argument buffer: two pages shared with OP-TEE, used at an offset.
    let buf = SHARE;
    let h = w.share(&Desc::new(&[(buf, 2)]).build());
    let (a, b) = oxtee_abi::test_pta::UUID.to_msg_value();
    let mut open = Message::new(
        m::CMD_OPEN_SESSION,
        vec![Param::Value { dir: Dir::In, a, b, c: 0 }, Param::Value { dir: Dir::In, a: 0, b: 0, c: 0 }],
    );
    open.meta = vec![true, true];
    let (w3, out) = nw.call(h, buf, 0x100, &open);
    assert_eq!((w3, out.hdr.ret), (0, 0));
    let session = out.hdr.session;
    // CMD_RPC: GET_TIME, then a kernel SHM_ALLOC answered with FF-A
    // memory, written and read through, freed: OP-TEE drops its
    // registration before SHM_FREE, so the reclaim succeeds.
    let mut inv = Message::new(m::CMD_INVOKE_COMMAND, vec![Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }]);
    inv.hdr.session = session;
    inv.hdr.func = oxtee_abi::test_pta::CMD_RPC;
    let (w3, out) = nw.call(h, buf, 0x100, &inv);
    assert_eq!((w3, out.hdr.ret), (0, 0));
    assert_eq!(out.params[0], Param::Value { dir: Dir::Out, a: 1, b: 2, c: 0 }, "the time");
    assert_eq!(nw.shared.len(), 1);
    // The PTA wrote its pattern through the FF-A memory.
    let mut page = [0u8; 4096];
    w.ram.get(SHARE + 0x10_0000, &mut page).unwrap();
    assert!(page.iter().all(|b| *b == 0xa5));
    assert_eq!(nw.reclaimed, nw.shared);
    assert_eq!(w.counts(), (1, 0, 1), "only the argument buffer is left");
    // A memref in FF-A form: a share named by handle, with an in-page
    // offset (internal_offs) on top of the offset.
    let data = nw.share_pages(1);
    let data_pa = nw.next - PAGE;
    w.ram.put(data_pa + 0x30, b"ffa!").unwrap();
    assert!(w.os.shm.contains(data));
    let fmem = |offs: u64, h: u64| {
        let mut inv = Message::new(
            m::CMD_INVOKE_COMMAND,
            vec![
                Param::Rmem { dir: Dir::In, offs, size: 4, shm_ref: h },
                Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 },
            ],
        );
        inv.hdr.session = session;
        inv.hdr.func = oxtee_abi::test_pta::CMD_MEMREF;
        inv
    };
    let sum: u64 = b"ffa!".iter().map(|b| *b as u64).sum();
    let (_, out) = nw.call(h, buf, 0x100, &fmem(0x30 << 48, data));
    assert_eq!((out.hdr.ret, out.params[1]), (0, Param::Value { dir: Dir::Out, a: sum, b: 4, c: 0 }), "internal_offs");
    let (_, out) = nw.call(h, buf, 0x100, &fmem(0x30, data));
    assert_eq!(out.params[1], Param::Value { dir: Dir::Out, a: sum, b: 4, c: 0 }, "offs_low");
    let (_, out) = nw.call(h, buf, 0x100, &fmem(0, oxtee_abi::msg::FMEM_INVALID_GLOBAL_ID));
    assert_eq!((out.hdr.ret, out.params[1]), (0, Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }), "null memref");
    let (_, out) = nw.call(h, buf, 0x100, &fmem(PAGE - 2, data));
    assert_ne!(out.hdr.ret, 0, "past the end of the share");
    // An unknown argument handle: upstream's answer.
    let req = [
        ffa::MSG_SEND_DIRECT_REQ_32 as u64,
        ffa::direct_ids(0, ffa::OPTEE_ID),
        0,
        optee::YIELDING_CALL_WITH_ARG as u64,
        0xdead,
        0,
        0,
        0,
    ];
    let FfaAction::Thread { call, ret } = w.os.ffa_call(&req) else { panic!() };
    let r = w.os.serve(&mut nw, call);
    assert_eq!(w.os.ffa_thread_done(ret, r)[3], TeeResult::ERROR_BAD_PARAMETERS.0 as u64);
    // The argument buffer cannot be reclaimed while registered.
    assert_eq!(w.reclaim(h, 0)[2] as u32 as i32, ffa::DENIED);
    assert_eq!(w.unregister(0, h), 0);
    assert_eq!(w.reclaim(h, 0)[0], ffa::SUCCESS_32 as u64);
}

#[test]
fn fmem_offsets_and_null_fmem_in_ffa_mode() {
    assert_eq!(crate::rpc::fmem_offset(0x10), 0x10);
    assert_eq!(crate::rpc::fmem_offset((0x30 << 48) | 0x1000), 0x1030);
    assert_eq!(crate::rpc::fmem_offset(0xffff_ffff_ffff), 0xffff_ffff_ffff);
    let w = world();
    assert!(!w.os.shm.ffa_conduit(), "SMC until the first FF-A call");
    w.call([ffa::FEATURES as u64, ffa::FEATURE_SRI as u64, 0, 0, 0, 0, 0, 0]);
    assert!(w.os.shm.ffa_conduit());
}

#[test]
fn the_smc_abi_does_not_take_ffa_answers_to_shm_alloc() {
    let w = world();
    let mut nw = FfaNw {
        w,
        smc: true,
        cmds: Vec::new(),
        ret: DirectRet { src: 0, dst: ffa::OPTEE_ID, is64: false },
        rpc_pa: 0,
        next: 0,
        shared: Vec::new(),
        reclaimed: Vec::new(),
    };
    // The argument and a second buffer registered through REGISTER_SHM.
    register(&w, 0x55, SHARE + 0x1000 * 16, SHARE, 2);
    register(&w, 0x77, SHARE + 0x1000 * 17, SHARE + 8 * PAGE, 1);
    let call = |nw: &mut FfaNw, msg: &Message| {
        w.ram.put(SHARE + 0x100, &msg.encode()).unwrap();
        nw.rpc_pa = SHARE + 0x100 + msg::size_for(msg.params.len()) as u64;
        let r = w.os.serve(nw, [smc::CALL_WITH_REGD_ARG as u64, 0, 0x55, 0x100, 0, 0, 0, 0]);
        assert_eq!(r[0], smc::RETURN_OK as u64);
        let mut back = vec![0u8; msg::size_for(msg.params.len())];
        w.ram.get(SHARE + 0x100, &mut back).unwrap();
        msg::parse(&back, msg.params.len()).unwrap()
    };
    let (a, b) = oxtee_abi::test_pta::UUID.to_msg_value();
    let mut open = Message::new(
        m::CMD_OPEN_SESSION,
        vec![Param::Value { dir: Dir::In, a, b, c: 0 }, Param::Value { dir: Dir::In, a: 0, b: 0, c: 0 }],
    );
    open.meta = vec![true, true];
    let out = call(&mut nw, &open);
    assert_eq!(out.hdr.ret, 0);
    let mut inv = Message::new(m::CMD_INVOKE_COMMAND, vec![Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }]);
    inv.hdr.session = out.hdr.session;
    inv.hdr.func = oxtee_abi::test_pta::CMD_RPC;
    assert_eq!(call(&mut nw, &inv).hdr.ret, 0);
    assert_eq!(nw.cmds, [rpc::CMD_GET_TIME, rpc::CMD_SHM_ALLOC], "refused: nothing to free");
    assert!(w.os.shm.contains(0x77), "the registered buffer is left alone");
    assert!(!w.os.shm.ffa_conduit());
}

#[test]
fn asynchronous_notifications_over_ffa() {
    let bell: &'static Bell = Box::leak(Box::new(Bell(AtomicUsize::new(0))));
    let w = world_built(crate::tests::LIMITS, |os| os.with_async_notif(bell, vec![]));
    // Linux's order: a bitmap for its VM, bind the bottom-half id (5) and
    // a waiter's value (9) to OP-TEE, then ENABLE_ASYNC_NOTIF with the id.
    let r = w.optee(3, [optee::EXCHANGE_CAPABILITIES as u64, 0, 0, 0, 0]);
    assert_eq!(r[5], (optee::SEC_CAP_ARG_OFFSET | optee::SEC_CAP_ASYNC_NOTIF) as u64);
    w.ok([ffa::NOTIFICATION_BITMAP_CREATE as u64, 3, 1, 0, 0, 0, 0, 0]);
    let bits = (1u64 << 5) | (1 << 9);
    assert_eq!(
        notif(&w, ffa::NOTIFICATION_BIND, ffa::direct_ids(ffa::OPTEE_ID, 3), 0, bits)[0],
        ffa::SUCCESS_32 as u64
    );
    // Not enabled yet: a top half cannot send, nothing rings.
    assert_eq!(w.os.async_notif.send(0), Err(crate::async_notif::SendError::NotStarted));
    assert!(!w.os.ffa_async_ring());
    assert_eq!(w.optee(3, [optee::ENABLE_ASYNC_NOTIF as u64, 5, 0, 0, 0])[3], 0);
    assert!(w.os.async_notif.is_started(), "enabling over FF-A starts the transport-independent side");
    // The top half: values recorded, the doorbell rings, the doorbell
    // raises the schedule receiver interrupt without touching the bitmaps.
    let sri = w.plat.sri.load(Ordering::Relaxed);
    w.os.async_notif.request_bottom_half().unwrap();
    w.os.async_notif.send(9).unwrap();
    w.os.async_notif.send(12).unwrap();
    assert_eq!(bell.0.load(Ordering::Relaxed), 3);
    assert!(w.os.ffa_async_ring());
    assert_eq!(w.plat.sri.load(Ordering::Relaxed), sri + 1);
    // The normal world's query collects them: the bottom half as the id it
    // chose, 9 as itself, 12 (not bound) dropped.
    let r = w.call([ffa::NOTIFICATION_INFO_GET_64 as u64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!((r[0], r[3] & 0xffff), (ffa::SUCCESS_64 as u64, 3), "{r:x?}");
    let g = notif(&w, ffa::NOTIFICATION_GET, 3, ffa::NOTIF_GET_SP as u64, 0);
    assert_eq!((g[0], g[2]), (ffa::SUCCESS_32 as u64, bits), "{g:x?}");
    assert_eq!(notif(&w, ffa::NOTIFICATION_GET, 3, ffa::NOTIF_GET_SP as u64, 0)[2], 0);
    assert_eq!(w.os.async_notif.take_value(), (None, false), "every value was collected");
    assert_eq!(w.plat.sri.load(Ordering::Relaxed), sri + 1, "collecting raises no further interrupt");
    // GET alone (no INFO_GET first) collects too.
    w.os.async_notif.request_bottom_half().unwrap();
    let g = notif(&w, ffa::NOTIFICATION_GET, 3, ffa::NOTIF_GET_SP as u64, 0);
    assert_eq!(g[2], 1 << 5);
}

#[test]
fn a_32_mib_buffer_of_scattered_pages_fits_one_transaction() {
    // What Linux's driver sends for a 32 MiB user buffer when no two of
    // its pages are adjacent: one constituent per page, in a descriptor
    // of many TX-buffer fragments.
    let pages = (32usize << 20) / 4096;
    assert!(mem::MAX_CONSTITUENTS >= pages);
    assert!(mem::MAX_ACTIVE_RANGES >= 4 * pages, "a few such buffers live at once");
    let len = fm::TRANSACTION_1_1_SIZE + fm::MEM_ACCESS_SIZE + fm::COMPOSITE_SIZE + pages * fm::CONSTITUENT_SIZE;
    assert!(len <= mem::MAX_DESC_LEN);
}
