//! The OS's address space: an identity map with named kinds of mapping,
//! built once at cold boot and shared by all CPUs.

use aarch64_paging::descriptor::El1Attributes as A;
use aarch64_paging::idmap::IdMap;
use aarch64_paging::paging::{El1And0, MemoryRegion};
use log::info;
use oxtee_abi::addr::{KernVirt, NsRange};
use oxtee_platform::map;
use spin::Once;

/// What a range is, which decides its attributes.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Code,
    ReadOnly,
    ReadWrite,
    Device,
    /// Normal-world RAM (shared memory is copied through it, never executed).
    NonSecureRam,
}

impl Kind {
    fn attributes(self) -> A {
        let normal = A::VALID | A::ACCESSED | A::ATTRIBUTE_INDEX_1 | A::INNER_SHAREABLE;
        match self {
            Kind::Code => normal | A::READ_ONLY | A::UXN,
            Kind::ReadOnly => normal | A::READ_ONLY | A::UXN | A::PXN,
            Kind::ReadWrite => normal | A::UXN | A::PXN,
            Kind::Device => A::VALID | A::ACCESSED | A::ATTRIBUTE_INDEX_0 | A::UXN | A::PXN,
            Kind::NonSecureRam => normal | A::NS | A::UXN | A::PXN,
        }
    }
}

pub struct AddressSpace {
    map: IdMap<El1And0>,
}

// The tables are only modified at cold boot, before other CPUs use them.
static SPACE: Once<spin::Mutex<AddressSpace>> = Once::new();
static ROOT: Once<u64> = Once::new();

impl AddressSpace {
    fn unmap(&mut self, start: usize, end: usize) {
        let region = MemoryRegion::new(start, end);
        if let Err(e) = self.map.map_range(&region, A::empty()) {
            panic!("unmapping {start:#x}..{end:#x}: {e:?}");
        }
    }

    fn map(&mut self, start: usize, end: usize, kind: Kind) {
        let region = MemoryRegion::new(start, end);
        if let Err(e) = self.map.map_range(&region, kind.attributes()) {
            panic!("mapping {start:#x}..{end:#x} as {kind:?}: {e:?}");
        }
    }
}

/// Builds the kernel map and returns the root table address for TTBR0.
/// `guards` are pages of the heap left unmapped (below thread stacks).
pub fn init(layout: &crate::arch::Layout, ns_ram: NsRange, guards: &[KernVirt]) -> u64 {
    let mut space = AddressSpace { map: IdMap::with_asid(0, 1, El1And0) };
    space.map(layout.text.0, layout.text.1, Kind::Code);
    space.map(layout.rodata.0, layout.rodata.1, Kind::ReadOnly);
    space.map(layout.data.0, layout.data.1, Kind::ReadWrite);
    space.map(layout.heap.0, layout.heap.1, Kind::ReadWrite);
    for g in guards {
        let g = g.get() as usize;
        space.unmap(g, g + 4096);
    }
    // An entry stack overflowing (the abort path runs destructors there)
    // faults instead of running into the next CPU's stack.
    for &g in &layout.entry_stack_guards {
        space.unmap(g, g + 4096);
    }
    let uart = map::SECURE_UART_BASE as usize;
    space.map(uart, uart + 0x1000, Kind::Device);
    let gicd = map::GICD_BASE as usize;
    space.map(gicd, gicd + 0x2_0000, Kind::Device);
    let gicr = map::GICR_BASE as usize;
    space.map(gicr, gicr + oxtee_platform::MAX_CPUS * 0x2_0000, Kind::Device);
    let ns = ns_ram.start.get() as usize;
    space.map(ns, ns + ns_ram.size as usize, Kind::NonSecureRam);
    let root = space.map.root_address().0 as u64;
    space.map.mark_active();
    info!(
        "MMU: text {:#x}-{:#x} rodata {:#x}-{:#x} data {:#x}-{:#x} heap {:#x}-{:#x}",
        layout.text.0,
        layout.text.1,
        layout.rodata.0,
        layout.rodata.1,
        layout.data.0,
        layout.data.1,
        layout.heap.0,
        layout.heap.1
    );
    SPACE.call_once(|| spin::Mutex::new(space));
    *ROOT.call_once(|| root)
}

pub fn root() -> u64 {
    *ROOT.get().expect("address space built at cold boot")
}
