//! The EL3 translation tables: an identity map of exactly what the monitor
//! touches. The monitor's text is the only executable memory (read-only),
//! its rodata is read-only, everything else is never executable
//! (`SCTLR_EL3.WXN` on top); normal-world RAM is mapped non-secure, so EL3
//! can only ever reach normal-world memory through a non-secure mapping.
//!
//! The MMU is on mostly so that, on CPUs whose branch predictor a lower EL
//! can train (Cortex-A57/A72), every entry to EL3 can invalidate it by
//! turning the MMU off and on again, as TF-A does (see `entry.S`).

use core::arch::asm;
use core::cell::UnsafeCell;
use oxtee_platform::map;

#[repr(C, align(4096))]
struct Table([u64; 512]);

struct Tables {
    /// Level 1: 4 × 1 GiB (TCR_EL3.T0SZ = 32, a 4 GiB address space).
    l1: Table,
    /// Level 2 for the first GiB: flash, devices, secure RAM.
    l2: Table,
    /// Level 3 for the 2 MiB holding the monitor (and the OS's first MiB).
    l3: Table,
}

struct TableCell(UnsafeCell<Tables>);

// SAFETY: the tables are written once, by the primary CPU at cold boot
// before any other CPU runs, and only read (by the table walker) after.
unsafe impl Sync for TableCell {}

static TABLES: TableCell =
    TableCell(UnsafeCell::new(Tables { l1: Table([0; 512]), l2: Table([0; 512]), l3: Table([0; 512]) }));

unsafe extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
}

const VALID: u64 = 1;
const TABLE_OR_PAGE: u64 = 1 << 1;
const ATTR_DEVICE: u64 = 0 << 2;
const ATTR_NORMAL: u64 = 1 << 2;
const NS: u64 = 1 << 5;
/// AP[1] is RES1 in the EL3 regime; AP[2] makes a mapping read-only.
const AP_RW: u64 = 1 << 6;
const AP_RO: u64 = 0b11 << 6;
const INNER_SHAREABLE: u64 = 0b11 << 8;
const AF: u64 = 1 << 10;
const XN: u64 = 1 << 54;

const NORMAL_RW: u64 = ATTR_NORMAL | AP_RW | INNER_SHAREABLE | AF | XN;
const NORMAL_RO: u64 = ATTR_NORMAL | AP_RO | INNER_SHAREABLE | AF | XN;
const CODE: u64 = ATTR_NORMAL | AP_RO | INNER_SHAREABLE | AF;
const DEVICE: u64 = ATTR_DEVICE | AP_RW | AF | XN;

/// MAIR_EL3: index 0 Device-nGnRnE, index 1 Normal write-back.
const MAIR: u64 = 0xff << 8;
/// TCR_EL3: T0SZ = 32, write-back inner-shareable walks, 4 KiB granule,
/// 32-bit physical addresses, RES1 bits 23 and 31.
const TCR: u64 = 32 | (0b01 << 8) | (0b01 << 10) | (0b11 << 12) | (1 << 23) | (1 << 31);
/// SCTLR_EL3: M, C, SA, I, WXN and the RES1 bits.
const SCTLR: u64 = 0x30c5_0830 | 1 | (1 << 2) | (1 << 3) | (1 << 12) | (1 << 19);

const MIB2: u64 = 0x20_0000;
const GIB: u64 = 0x4000_0000;

/// Builds the tables. Primary CPU, cold boot, before any other CPU runs.
pub fn init() {
    let text = (&raw const __image_start as u64, &raw const __text_end as u64);
    let rodata_end = &raw const __rodata_end as u64;
    // SAFETY: the tables are not in use yet (MMU off on every CPU, no other
    // CPU running), so this is the only reference to them.
    let t = unsafe { &mut *TABLES.0.get() };
    let l3_base = map::SECURE_RAM_BASE & !(MIB2 - 1);
    for (i, e) in t.l3.0.iter_mut().enumerate() {
        let pa = l3_base + i as u64 * 0x1000;
        let attrs = if (text.0..text.1).contains(&pa) {
            CODE
        } else if (text.1..rodata_end).contains(&pa) {
            NORMAL_RO
        } else {
            NORMAL_RW
        };
        *e = pa | attrs | TABLE_OR_PAGE | VALID;
    }
    for (i, e) in t.l2.0.iter_mut().enumerate() {
        let pa = i as u64 * MIB2;
        let secure_ram = map::SECURE_RAM_BASE..map::SECURE_RAM_BASE + map::SECURE_RAM_SIZE;
        *e = if pa == l3_base {
            &raw const t.l3 as u64 | TABLE_OR_PAGE | VALID
        } else if secure_ram.contains(&pa) {
            pa | NORMAL_RW | VALID
        } else if pa < map::SECURE_FLASH_BASE + map::SECURE_FLASH_SIZE {
            pa | NORMAL_RO | VALID
        } else if (map::GICD_BASE..map::GICD_BASE + 2 * 0x100_0000).contains(&pa) {
            // GIC, UARTs, secure GPIO (0x0800_0000..0x0a00_0000).
            pa | DEVICE | VALID
        } else {
            0
        };
    }
    t.l1.0[0] = &raw const t.l2 as u64 | TABLE_OR_PAGE | VALID;
    // The first GiB of normal-world RAM (QEMU's device tree, the payload's
    // tree): non-secure, never executable.
    t.l1.0[1] = map::DRAM_BASE | NORMAL_RW | NS | VALID;
}

// The level-1 block above maps normal-world RAM as one GiB.
const _: () = assert!(map::DRAM_BASE == GIB);

/// Turns this CPU's EL3 MMU and caches on with the tables from `init`.
pub fn enable() {
    let ttbr0 = TABLES.0.get() as u64;
    // SAFETY: the tables identity-map all code, data and stacks the monitor
    // uses with the attributes it expects, so execution continues unchanged
    // once translation is on; stale TLB entries are invalidated first.
    unsafe {
        asm!(
            "msr mair_el3, {mair}",
            "msr tcr_el3, {tcr}",
            "msr ttbr0_el3, {ttbr0}",
            "dsb sy",
            "isb",
            "tlbi alle3",
            "dsb sy",
            "isb",
            "msr sctlr_el3, {sctlr}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            ttbr0 = in(reg) ttbr0,
            sctlr = in(reg) SCTLR,
            options(nostack),
        )
    };
}

fn dcache_line() -> u64 {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    4 << ((ctr >> 16) & 0xf)
}

/// Cleans and invalidates `[addr, addr + len)` to the point of coherency,
/// for memory another observer reads or wrote with its MMU off.
pub fn clean_invalidate(addr: u64, len: u64) {
    let line = dcache_line();
    let mut a = addr & !(line - 1);
    while a < addr.saturating_add(len) {
        // SAFETY: cache maintenance by address on mapped memory; it does
        // not change memory contents.
        unsafe { asm!("dc civac, {}", in(reg) a, options(nostack)) };
        a += line;
    }
    // SAFETY: a barrier.
    unsafe { asm!("dsb sy", options(nostack)) };
}
