//! Parameter attribute word of `optee_msg_param`: type field, flag bits and
//! cache-attribute field.

/// Unused parameter slot.
pub const ATTR_TYPE_NONE: u64 = 0x0;
/// Value passed in to the secure side.
pub const ATTR_TYPE_VALUE_INPUT: u64 = 0x1;
/// Value passed back to normal world.
pub const ATTR_TYPE_VALUE_OUTPUT: u64 = 0x2;
/// Value passed both ways.
pub const ATTR_TYPE_VALUE_INOUT: u64 = 0x3;
/// Registered-memory reference, input.
pub const ATTR_TYPE_RMEM_INPUT: u64 = 0x5;
/// Registered-memory reference, output.
pub const ATTR_TYPE_RMEM_OUTPUT: u64 = 0x6;
/// Registered-memory reference, both ways.
pub const ATTR_TYPE_RMEM_INOUT: u64 = 0x7;
/// FF-A memory reference, input (same number as RMEM; the conduit decides).
pub const ATTR_TYPE_FMEM_INPUT: u64 = ATTR_TYPE_RMEM_INPUT;
/// FF-A memory reference, output.
pub const ATTR_TYPE_FMEM_OUTPUT: u64 = ATTR_TYPE_RMEM_OUTPUT;
/// FF-A memory reference, both ways.
pub const ATTR_TYPE_FMEM_INOUT: u64 = ATTR_TYPE_RMEM_INOUT;
/// Temporary (physical address) memory reference, input.
pub const ATTR_TYPE_TMEM_INPUT: u64 = 0x9;
/// Temporary memory reference, output.
pub const ATTR_TYPE_TMEM_OUTPUT: u64 = 0xA;
/// Temporary memory reference, both ways.
pub const ATTR_TYPE_TMEM_INOUT: u64 = 0xB;

/// Bits holding the parameter type.
pub const ATTR_TYPE_MASK: u64 = 0xFF;
/// Parameter is consumed by the OS itself (e.g. OPEN_SESSION's UUIDs), never
/// forwarded to the TA. Meta parameters must come first.
pub const ATTR_META: u64 = 1 << 8;
/// TMEM buf_ptr points at a [`super::PageList`] rather than the buffer itself.
pub const ATTR_NONCONTIG: u64 = 1 << 9;
/// Position of the 3-bit cache-attribute field for TMEM parameters.
pub const ATTR_CACHE_SHIFT: u32 = 16;
/// Width mask of the cache-attribute field (after shifting).
pub const ATTR_CACHE_MASK: u64 = 0x7;
/// Use whatever attributes the memory range already has.
pub const ATTR_CACHE_PREDEFINED: u64 = 0;

/// Cache-attribute field of `attr` (an `optee_smc::SHM_*` value over SMC).
pub const fn attr_cache(attr: u64) -> u64 {
    (attr >> ATTR_CACHE_SHIFT) & ATTR_CACHE_MASK
}

wire_enum! {
    /// Decoded parameter type. Numbers 4, 8 and 0xC..=0xFF are unassigned.
    pub enum AttrType: u64 {
        /// Slot unused.
        None = ATTR_TYPE_NONE,
        /// Value, in.
        ValueInput = ATTR_TYPE_VALUE_INPUT,
        /// Value, out.
        ValueOutput = ATTR_TYPE_VALUE_OUTPUT,
        /// Value, in and out.
        ValueInout = ATTR_TYPE_VALUE_INOUT,
        /// Registered (or FF-A) memref, in.
        RmemInput = ATTR_TYPE_RMEM_INPUT,
        /// Registered (or FF-A) memref, out.
        RmemOutput = ATTR_TYPE_RMEM_OUTPUT,
        /// Registered (or FF-A) memref, in and out.
        RmemInout = ATTR_TYPE_RMEM_INOUT,
        /// Temporary memref, in.
        TmemInput = ATTR_TYPE_TMEM_INPUT,
        /// Temporary memref, out.
        TmemOutput = ATTR_TYPE_TMEM_OUTPUT,
        /// Temporary memref, in and out.
        TmemInout = ATTR_TYPE_TMEM_INOUT,
    }
}

impl AttrType {
    /// Type of a full attribute word; flag and cache bits are ignored.
    pub fn from_attr(attr: u64) -> Option<Self> {
        Self::try_from(attr & ATTR_TYPE_MASK).ok()
    }

    /// Value parameter.
    pub const fn is_value(self) -> bool {
        matches!(self, Self::ValueInput | Self::ValueOutput | Self::ValueInout)
    }

    /// Registered / FF-A memory reference.
    pub const fn is_rmem(self) -> bool {
        matches!(self, Self::RmemInput | Self::RmemOutput | Self::RmemInout)
    }

    /// Temporary memory reference.
    pub const fn is_tmem(self) -> bool {
        matches!(self, Self::TmemInput | Self::TmemOutput | Self::TmemInout)
    }

    /// Normal world supplies data through it.
    pub const fn is_input(self) -> bool {
        matches!(
            self,
            Self::ValueInput | Self::ValueInout | Self::RmemInput | Self::RmemInout | Self::TmemInput | Self::TmemInout
        )
    }

    /// Secure world returns data through it.
    pub const fn is_output(self) -> bool {
        matches!(
            self,
            Self::ValueOutput
                | Self::ValueInout
                | Self::RmemOutput
                | Self::RmemInout
                | Self::TmemOutput
                | Self::TmemInout
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_numbers() {
        assert_eq!(
            [
                ATTR_TYPE_NONE,
                ATTR_TYPE_VALUE_INPUT,
                ATTR_TYPE_VALUE_OUTPUT,
                ATTR_TYPE_VALUE_INOUT,
                ATTR_TYPE_RMEM_INPUT,
                ATTR_TYPE_RMEM_OUTPUT,
                ATTR_TYPE_RMEM_INOUT,
                ATTR_TYPE_FMEM_INPUT,
                ATTR_TYPE_FMEM_OUTPUT,
                ATTR_TYPE_FMEM_INOUT,
                ATTR_TYPE_TMEM_INPUT,
                ATTR_TYPE_TMEM_OUTPUT,
                ATTR_TYPE_TMEM_INOUT,
            ],
            [0, 1, 2, 3, 5, 6, 7, 5, 6, 7, 9, 0xA, 0xB]
        );
        assert_eq!(ATTR_TYPE_MASK, 0xFF);
        assert_eq!(ATTR_META, 0x100);
        assert_eq!(ATTR_NONCONTIG, 0x200);
        assert_eq!(ATTR_CACHE_SHIFT, 16);
        assert_eq!(ATTR_CACHE_MASK, 7);
        assert_eq!(ATTR_CACHE_PREDEFINED, 0);
    }

    #[test]
    fn from_attr_every_low_number() {
        use AttrType as T;
        let expected = [
            Some(T::None),
            Some(T::ValueInput),
            Some(T::ValueOutput),
            Some(T::ValueInout),
            None,
            Some(T::RmemInput),
            Some(T::RmemOutput),
            Some(T::RmemInout),
            None,
            Some(T::TmemInput),
            Some(T::TmemOutput),
            Some(T::TmemInout),
            None,
            None,
            None,
            None,
        ];
        for (n, want) in expected.into_iter().enumerate() {
            let n = n as u64;
            assert_eq!(AttrType::from_attr(n), want, "type {n:#x}");
            if let Some(t) = want {
                assert_eq!(t.raw(), n);
            }
        }
        for n in 0x10..=0xFF {
            assert_eq!(AttrType::from_attr(n), None, "type {n:#x}");
        }
        assert_eq!(AttrType::ALL.len(), 10);
    }

    #[test]
    fn flags_and_cache_do_not_change_type() {
        let extra = [
            ATTR_META,
            ATTR_NONCONTIG,
            ATTR_META | ATTR_NONCONTIG,
            ATTR_CACHE_MASK << ATTR_CACHE_SHIFT,
            1 << ATTR_CACHE_SHIFT,
            1 << 40,
        ];
        for t in AttrType::ALL {
            for bits in extra {
                assert_eq!(AttrType::from_attr(t.raw() | bits), Some(t));
            }
        }
        assert_eq!(AttrType::from_attr(ATTR_META | 4), None);
        assert_eq!(AttrType::from_attr(ATTR_NONCONTIG | 8), None);
        assert_eq!(attr_cache(ATTR_TYPE_TMEM_INPUT | 1 << ATTR_CACHE_SHIFT), 1);
        assert_eq!(attr_cache(ATTR_TYPE_TMEM_INPUT | ATTR_META), 0);
        assert_eq!(attr_cache(u64::MAX), 7);
    }

    #[test]
    fn classification() {
        use AttrType as T;
        for t in T::ALL {
            let kinds = [t.is_value(), t.is_rmem(), t.is_tmem()];
            let count = kinds.iter().filter(|&&k| k).count();
            assert_eq!(count, usize::from(t != T::None), "{t:?}");
        }
        assert!(!T::None.is_input() && !T::None.is_output());
        assert!(T::ValueInput.is_input() && !T::ValueInput.is_output());
        assert!(!T::RmemOutput.is_input() && T::RmemOutput.is_output());
        assert!(T::TmemInout.is_input() && T::TmemInout.is_output());
    }
}
