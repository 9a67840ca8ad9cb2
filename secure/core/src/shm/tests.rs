use super::*;
use crate::nsmem::fake::FakeRam;
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::addr::NsRange;

const RAM: u64 = 0x4000_0000;
const POOL: (u64, u64) = (0x4000_0000, 0x1_0000);

const MAX_BUFFER: u64 = 4 << 20;

fn setup() -> (FakeRam, ShmRegistry) {
    let ram = FakeRam::new(RAM, 0x10_0000);
    let reg = ShmRegistry::new(
        ShmConfig {
            static_pool: Some(NsRange::new(NsPhys::new(POOL.0), POOL.1)),
            ns_ram: NsRange::new(NsPhys::new(RAM), 0x10_0000),
        },
        ShmLimits { buffers: 4, pages: MAX_BUFFER / PAGE },
    );
    (ram, reg)
}

fn stats(reg: &ShmRegistry) -> (usize, usize) {
    let s = reg.stats();
    (s.buffers, s.users)
}

fn n(a: u64) -> NsPhys {
    NsPhys::new(a)
}

fn put_list(ram: &FakeRam, at: u64, pages: &[u64], next: u64) {
    for (i, p) in pages.iter().enumerate() {
        ram.put(at + 8 * i as u64, &p.to_le_bytes()).unwrap();
    }
    ram.put(at + 8 * PAGE_LIST_ENTRIES as u64, &next.to_le_bytes()).unwrap();
}

#[test]
fn register_reads_pages_with_offset_and_data_lands_in_the_right_pages() {
    let (ram, reg) = setup();
    let ledger = oxtee_guard::Ledger::new();
    // A 3-page buffer starting 0x10 into page 0x4008_0000, pages scattered.
    put_list(&ram, 0x4001_0000, &[0x4008_0000, 0x4005_0000, 0x4009_0000], 0);
    reg.register(&ram, &ledger, 7, 0x4001_0010, 2 * 4096).unwrap();
    let b = reg.acquire(7, 4096 - 0x10 - 2, 4).unwrap();
    b.pages().write(&ram, 0, &[1, 2, 3, 4]).unwrap();
    let mut got = [0u8; 2];
    ram.get(0x4008_0ffe, &mut got).unwrap();
    assert_eq!(got, [1, 2]);
    ram.get(0x4005_0000, &mut got).unwrap();
    assert_eq!(got, [3, 4]);
    assert_eq!(reg.unregister(7), Err(ShmError::Busy));
    drop(b);
    assert_eq!(reg.unregister(7), Ok(()));
    assert_eq!(reg.unregister(7), Err(ShmError::NotFound));
    assert_eq!(stats(&reg), (0, 0));
}

#[test]
fn chained_page_lists_are_followed() {
    let (ram, reg) = setup();
    let ledger = oxtee_guard::Ledger::new();
    let n = PAGE_LIST_ENTRIES + 3;
    let pages: Vec<u64> = (0..n as u64).map(|i| RAM + 0x2_0000 + (i % 100) * PAGE).collect();
    put_list(&ram, 0x4001_0000, &pages[..PAGE_LIST_ENTRIES], 0x4001_1000);
    put_list(&ram, 0x4001_1000, &pages[PAGE_LIST_ENTRIES..], 0);
    reg.register(&ram, &ledger, 1, 0x4001_0000, n as u64 * PAGE).unwrap();
    let last = reg.acquire(1, (n as u64 - 1) * PAGE, PAGE).unwrap();
    assert_eq!(last.pages().page_addrs(), vec![NsPhys::new(pages[n - 1])]);
}

#[test]
fn hostile_registrations_are_refused_and_leave_nothing_behind() {
    let (ram, reg) = setup();
    let ledger = oxtee_guard::Ledger::new();
    put_list(&ram, 0x4001_0000, &[0x4008_0000], 0);
    assert_eq!(reg.register(&ram, &ledger, 1, 0x4001_0000, 0), Err(ShmError::BadParameters));
    assert_eq!(reg.register(&ram, &ledger, 1, 0x4001_0000, MAX_BUFFER + 1), Err(ShmError::BadParameters));
    // List outside normal-world RAM (e.g. secure memory).
    assert_eq!(reg.register(&ram, &ledger, 1, 0x0e10_0000, 4096), Err(ShmError::BadAddress));
    // A page entry that is unaligned, or outside RAM.
    put_list(&ram, 0x4001_1000, &[0x4008_0010], 0);
    assert_eq!(reg.register(&ram, &ledger, 1, 0x4001_1000, 4096), Err(ShmError::BadAddress));
    put_list(&ram, 0x4001_2000, &[0x0e00_0000], 0);
    assert_eq!(reg.register(&ram, &ledger, 1, 0x4001_2000, 4096), Err(ShmError::BadAddress));
    // A chain that runs off into unaligned memory.
    put_list(&ram, 0x4001_3000, &[0x4008_0000; PAGE_LIST_ENTRIES], 0x4001_3008);
    assert_eq!(
        reg.register(&ram, &ledger, 1, 0x4001_3000, (PAGE_LIST_ENTRIES as u64 + 1) * PAGE),
        Err(ShmError::BadAddress)
    );
    assert_eq!(stats(&reg), (0, 0));
    reg.register(&ram, &ledger, 1, 0x4001_0000, 4096).unwrap();
    assert_eq!(reg.register(&ram, &ledger, 1, 0x4001_0000, 4096), Err(ShmError::Exists));
}

#[test]
fn acquire_checks_bounds_and_contiguous_must_be_in_the_pool() {
    let (ram, reg) = setup();
    let ledger = oxtee_guard::Ledger::new();
    put_list(&ram, 0x4001_0000, &[0x4008_0000], 0);
    reg.register(&ram, &ledger, 1, 0x4001_0000, 100).unwrap();
    let _held = reg.acquire(1, 0, 100).unwrap();
    assert_eq!(reg.acquire(1, 1, 100).err(), Some(ShmError::BadParameters));
    assert_eq!(reg.acquire(1, u64::MAX, 2).err(), Some(ShmError::BadParameters));
    assert_eq!(reg.acquire(2, 0, 1).err(), Some(ShmError::NotFound));
    assert_eq!(stats(&reg), (1, 1));
    assert!(reg.contiguous(n(POOL.0), POOL.1).is_ok());
    assert_eq!(reg.contiguous(n(POOL.0 + 1), POOL.1), Err(ShmError::BadAddress));
    assert_eq!(reg.contiguous(n(0x4008_0000), 16), Err(ShmError::BadAddress));
    let c = reg.contiguous(n(POOL.0 + 4090), 10).unwrap();
    c.write(&ram, 0, &[9; 10]).unwrap();
    let mut b = [0u8; 10];
    ram.get(POOL.0 + 4090, &mut b).unwrap();
    assert_eq!(b, [9; 10]);
    assert_eq!(c.write(&ram, 1, &[9; 10]), Err(ShmError::BadParameters));
}

#[test]
fn registrations_are_bounded_and_unregistering_makes_room() {
    let (ram, reg) = setup();
    let ledger = oxtee_guard::Ledger::new();
    put_list(&ram, 0x4001_0000, &[0x4008_0000; 4], 0);
    for c in 1..=4 {
        reg.register(&ram, &ledger, c, 0x4001_0000, 4096).unwrap();
    }
    // The count limit.
    assert_eq!(reg.register(&ram, &ledger, 5, 0x4001_0000, 4096), Err(ShmError::OutOfMemory));
    reg.unregister(4).unwrap();
    // The page limit: more pages than are left, or than may exist at all.
    assert_eq!(reg.register(&ram, &ledger, 5, 0x4001_0000, MAX_BUFFER), Err(ShmError::OutOfMemory));
    assert_eq!(reg.register(&ram, &ledger, 5, 0x4001_0000, MAX_BUFFER + 1), Err(ShmError::BadParameters));
    reg.register(&ram, &ledger, 5, 0x4001_0000, 4096).unwrap();
    assert_eq!(reg.stats(), ShmStats { buffers: 4, users: 0, pages: 4 });
    for c in [1, 2, 3, 5] {
        reg.unregister(c).unwrap();
    }
    assert_eq!(reg.stats(), ShmStats::default());
    assert_eq!(ledger.armed(), 0, "page lists being read are armed only while read");
}
