//! Addresses, typed by what they name. A normal-world physical address, a
//! secure physical address, a kernel virtual address and a TA virtual
//! address are different things; passing one where another is expected is a
//! compile error. Raw numbers enter through `new` where they are read from
//! a register or a message, and leave through `get` where they are written
//! to hardware or to the wire.

macro_rules! address {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(u64);

        impl $name {
            pub const fn new(raw: u64) -> Self {
                $name(raw)
            }

            pub const fn get(self) -> u64 {
                self.0
            }

            /// `self + bytes`, or None on overflow.
            pub const fn checked_add(self, bytes: u64) -> Option<Self> {
                match self.0.checked_add(bytes) {
                    Some(v) => Some($name(v)),
                    None => None,
                }
            }

            /// `self + bytes` for offsets already known to stay in range.
            pub const fn add(self, bytes: u64) -> Self {
                $name(self.0 + bytes)
            }

            /// Bytes from `base` up to `self` (None if `self` is below it).
            pub const fn offset_from(self, base: Self) -> Option<u64> {
                self.0.checked_sub(base.0)
            }

            pub const fn page_offset(self, page: u64) -> u64 {
                self.0 % page
            }

            pub const fn align_down(self, page: u64) -> Self {
                $name(self.0 - self.0 % page)
            }

            pub const fn is_aligned(self, align: u64) -> bool {
                self.0 % align == 0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({:#x})"), self.0)
            }
        }

        impl core::fmt::LowerHex for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::LowerHex::fmt(&self.0, f)
            }
        }
    };
}

address!(
    /// Physical address of normal-world memory (shared memory, arguments,
    /// page lists): only ever copied through the OS's `NsMemory`.
    NsPhys
);
address!(
    /// Physical address of secure memory (the OS's heap pages that back a
    /// TA, translation tables).
    SecPhys
);
address!(
    /// Virtual address in the OS's own (TTBR0) map.
    KernVirt
);
address!(
    /// Virtual address in a TA's (TTBR1) address space: only ever resolved
    /// through that TA's own mappings.
    UserVirt
);

/// An `[start, start + size)` range of normal-world physical memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsRange {
    pub start: NsPhys,
    pub size: u64,
}

impl NsRange {
    pub const fn new(start: NsPhys, size: u64) -> Self {
        NsRange { start, size }
    }

    /// True if `[pa, pa + len)` lies inside (overflow-safe).
    pub const fn contains(&self, pa: NsPhys, len: u64) -> bool {
        pa.get() >= self.start.get() && len <= self.size && pa.get() - self.start.get() <= self.size - len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn ranges_check_without_overflow() {
        let r = NsRange::new(NsPhys::new(0x4000_0000), 0x1000);
        assert!(r.contains(NsPhys::new(0x4000_0000), 0x1000));
        assert!(r.contains(NsPhys::new(0x4000_0fff), 1));
        assert!(!r.contains(NsPhys::new(0x4000_0fff), 2));
        assert!(!r.contains(NsPhys::new(0x3fff_ffff), 1));
        assert!(!r.contains(NsPhys::new(u64::MAX), 2));
        assert!(!r.contains(NsPhys::new(0x4000_0000), u64::MAX));
        assert_eq!(NsPhys::new(u64::MAX).checked_add(1), None);
        assert_eq!(NsPhys::new(0x1234).align_down(0x1000), NsPhys::new(0x1000));
        assert_eq!(format!("{:?}", SecPhys::new(0x10)), "SecPhys(0x10)");
    }
}
