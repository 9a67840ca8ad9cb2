//! `optee_msg_param`: a 64-bit attribute word plus a 24-byte union, kept here
//! as three raw words with typed views for each union member.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::attr::{ATTR_META, ATTR_NONCONTIG, ATTR_TYPE_NONE, AttrType, attr_cache};

/// One message parameter as it sits in shared memory (32 bytes).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct MsgParam {
    /// `ATTR_TYPE_*` plus flag and cache bits.
    pub attr: u64,
    /// First union word.
    pub a: u64,
    /// Second union word.
    pub b: u64,
    /// Third union word.
    pub c: u64,
}

/// Temporary memref: a physical buffer passed by address.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Tmem {
    /// Physical address (or page-list address with `ATTR_NONCONTIG`).
    pub buf_ptr: u64,
    /// Buffer length in bytes.
    pub size: u64,
    /// Normal-world cookie for the buffer.
    pub shm_ref: u64,
}

/// Registered memref: a window into previously registered shared memory.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Rmem {
    /// Offset into the registered object.
    pub offs: u64,
    /// Window length in bytes.
    pub size: u64,
    /// Cookie the object was registered under.
    pub shm_ref: u64,
}

/// FF-A memref: a window into memory shared through FF-A.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Fmem {
    /// Offset into the share, bits 31:0.
    pub offs_low: u32,
    /// Offset into the share, bits 47:32.
    pub offs_high: u16,
    /// Offset of the data within the first page of the share.
    pub internal_offs: u16,
    /// Window length in bytes.
    pub size: u64,
    /// FF-A global handle of the share.
    pub global_id: u64,
}

/// `global_id` meaning "no FF-A share", e.g. a NULL memref.
pub const FMEM_INVALID_GLOBAL_ID: u64 = u64::MAX;

impl Fmem {
    /// The full 48-bit offset.
    pub const fn offset(&self) -> u64 {
        (self.offs_high as u64) << 32 | self.offs_low as u64
    }
}

/// Value parameter: three opaque words, passed through unchecked.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Value {
    /// First value.
    pub a: u64,
    /// Second value.
    pub b: u64,
    /// Third value.
    pub c: u64,
}

impl MsgParam {
    /// An unused slot.
    pub const NONE: Self = Self { attr: ATTR_TYPE_NONE, a: 0, b: 0, c: 0 };

    /// Decoded type, `None` for unassigned type numbers.
    pub fn attr_type(&self) -> Option<AttrType> {
        AttrType::from_attr(self.attr)
    }

    /// `ATTR_META` is set.
    pub const fn is_meta(&self) -> bool {
        self.attr & ATTR_META != 0
    }

    /// `ATTR_NONCONTIG` is set.
    pub const fn is_noncontig(&self) -> bool {
        self.attr & ATTR_NONCONTIG != 0
    }

    /// Cache-attribute field.
    pub const fn cache(&self) -> u64 {
        attr_cache(self.attr)
    }

    /// Union read as a temporary memref.
    pub const fn tmem(&self) -> Tmem {
        Tmem { buf_ptr: self.a, size: self.b, shm_ref: self.c }
    }

    /// Union read as a registered memref.
    pub const fn rmem(&self) -> Rmem {
        Rmem { offs: self.a, size: self.b, shm_ref: self.c }
    }

    /// Union read as an FF-A memref. The first word packs offs_low,
    /// offs_high, internal_offs in ascending address order; Arm is
    /// little-endian, so that is ascending significance here.
    pub const fn fmem(&self) -> Fmem {
        Fmem {
            offs_low: self.a as u32,
            offs_high: (self.a >> 32) as u16,
            internal_offs: (self.a >> 48) as u16,
            size: self.b,
            global_id: self.c,
        }
    }

    /// Union read as a value.
    pub const fn value(&self) -> Value {
        Value { a: self.a, b: self.b, c: self.c }
    }

    /// Builds a temporary-memref parameter with the given full `attr`.
    pub const fn from_tmem(attr: u64, m: Tmem) -> Self {
        Self { attr, a: m.buf_ptr, b: m.size, c: m.shm_ref }
    }

    /// Builds a registered-memref parameter with the given full `attr`.
    pub const fn from_rmem(attr: u64, m: Rmem) -> Self {
        Self { attr, a: m.offs, b: m.size, c: m.shm_ref }
    }

    /// Builds an FF-A memref parameter with the given full `attr`.
    pub const fn from_fmem(attr: u64, m: Fmem) -> Self {
        Self {
            attr,
            a: (m.internal_offs as u64) << 48 | (m.offs_high as u64) << 32 | m.offs_low as u64,
            b: m.size,
            c: m.global_id,
        }
    }

    /// Builds a value parameter with the given full `attr`.
    pub const fn from_value(attr: u64, v: Value) -> Self {
        Self { attr, a: v.a, b: v.b, c: v.c }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::attr::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn layout() {
        assert_eq!(size_of::<MsgParam>(), 32);
        assert_eq!(align_of::<MsgParam>(), 8);
        assert_eq!(offset_of!(MsgParam, attr), 0);
        assert_eq!(offset_of!(MsgParam, a), 8);
        assert_eq!(offset_of!(MsgParam, b), 16);
        assert_eq!(offset_of!(MsgParam, c), 24);
        assert_eq!(FMEM_INVALID_GLOBAL_ID, 0xFFFF_FFFF_FFFF_FFFF);
    }

    #[test]
    fn views_share_the_union_words() {
        let p = MsgParam { attr: ATTR_TYPE_TMEM_INOUT, a: 1, b: 2, c: 3 };
        assert_eq!(p.tmem(), Tmem { buf_ptr: 1, size: 2, shm_ref: 3 });
        assert_eq!(p.rmem(), Rmem { offs: 1, size: 2, shm_ref: 3 });
        assert_eq!(p.value(), Value { a: 1, b: 2, c: 3 });
        assert_eq!(MsgParam::from_tmem(p.attr, p.tmem()), p);
        assert_eq!(MsgParam::from_rmem(p.attr, p.rmem()), p);
        assert_eq!(MsgParam::from_value(p.attr, p.value()), p);
        assert_eq!(MsgParam::default(), MsgParam::NONE);
        assert_eq!(MsgParam::NONE.attr_type(), Some(AttrType::None));
    }

    #[test]
    fn fmem_packing_matches_memory_order() {
        let f =
            Fmem { offs_low: 0x1122_3344, offs_high: 0x5566, internal_offs: 0x0ABC, size: 0x1000, global_id: 0xDEAD };
        let p = MsgParam::from_fmem(ATTR_TYPE_FMEM_INPUT, f);
        // Byte image of the first union word must be offs_low, offs_high,
        // internal_offs, each little-endian, as the C struct lays them out.
        let bytes = p.as_bytes();
        assert_eq!(&bytes[8..12], &0x1122_3344u32.to_le_bytes());
        assert_eq!(&bytes[12..14], &0x5566u16.to_le_bytes());
        assert_eq!(&bytes[14..16], &0x0ABCu16.to_le_bytes());
        assert_eq!(p.fmem(), f);
        assert_eq!(f.offset(), 0x5566_1122_3344);
    }

    #[test]
    fn flags() {
        let p = MsgParam { attr: ATTR_TYPE_VALUE_INPUT | ATTR_META, ..MsgParam::NONE };
        assert!(p.is_meta() && !p.is_noncontig());
        assert_eq!(p.attr_type(), Some(AttrType::ValueInput));
        let q = MsgParam { attr: ATTR_TYPE_TMEM_INPUT | ATTR_NONCONTIG | 1 << ATTR_CACHE_SHIFT, ..MsgParam::NONE };
        assert!(!q.is_meta() && q.is_noncontig());
        assert_eq!(q.cache(), 1);
        assert_eq!(MsgParam { attr: 4, ..MsgParam::NONE }.attr_type(), None);
    }

    #[test]
    fn zerocopy_round_trip() {
        let raw: [u8; 32] = core::array::from_fn(|i| i as u8);
        let p = MsgParam::read_from_bytes(&raw).unwrap();
        assert_eq!(p.attr, u64::from_ne_bytes(raw[0..8].try_into().unwrap()));
        assert_eq!(p.as_bytes(), &raw);
    }
}
