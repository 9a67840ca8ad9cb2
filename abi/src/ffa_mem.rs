//! FF-A memory-management descriptors (DEN0077 v1.1 chapter 10, v1.0
//! layout accepted): the byte-exact layouts of the memory transaction
//! descriptor (v1.0 and v1.1 headers), the endpoint memory access
//! descriptor, the composite and constituent memory region descriptors and
//! the relinquish descriptor, plus the field encodings. All little-endian,
//! as the spec and AArch64 define them. Parsing here is purely structural
//! (every offset and count bounded by the bytes given); the SPMC decides
//! what is allowed.

use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Granule of FF-A memory regions and RX/TX buffers.
pub const PAGE_SIZE: u64 = 4096;

/// v1.0 memory transaction descriptor header (32 bytes); the endpoint
/// memory access descriptors follow it directly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct MemTransaction1_0 {
    pub sender_id: U16,
    pub mem_reg_attr: u8,
    pub reserved0: u8,
    pub flags: U32,
    pub global_handle: U64,
    pub tag: U64,
    pub reserved1: U32,
    pub mem_access_count: U32,
}

/// v1.1 memory transaction descriptor header (48 bytes); the endpoint
/// memory access descriptors are at `mem_access_offs`, each
/// `mem_access_size` bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct MemTransaction1_1 {
    pub sender_id: U16,
    pub mem_reg_attr: U16,
    pub flags: U32,
    pub global_handle: U64,
    pub tag: U64,
    pub mem_access_size: U32,
    pub mem_access_count: U32,
    pub mem_access_offs: U32,
    pub reserved: [u8; 12],
}

/// Endpoint memory access descriptor (16 bytes, v1.0 and v1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct MemAccess {
    pub endpoint_id: U16,
    /// Memory access permissions (`PERM_*`).
    pub perm: u8,
    /// `ACCESS_FLAG_*`.
    pub flags: u8,
    /// Offset of the composite memory region descriptor in the whole
    /// transaction descriptor (0: none for this receiver).
    pub region_offs: U32,
    pub reserved: U64,
}

/// Composite memory region descriptor (16 bytes); `address_range_count`
/// constituents follow it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct CompositeRegion {
    pub total_page_count: U32,
    pub address_range_count: U32,
    pub reserved: U64,
}

/// Constituent memory region descriptor (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Constituent {
    pub address: U64,
    pub page_count: U32,
    pub reserved: U32,
}

/// Header of the FFA_MEM_RELINQUISH descriptor; `endpoint_count` 16-bit
/// endpoint ids follow it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Relinquish {
    pub handle: U64,
    pub flags: U32,
    pub endpoint_count: U32,
}

pub const TRANSACTION_1_0_SIZE: usize = 32;
pub const TRANSACTION_1_1_SIZE: usize = 48;
pub const MEM_ACCESS_SIZE: usize = 16;
pub const COMPOSITE_SIZE: usize = 16;
pub const CONSTITUENT_SIZE: usize = 16;

/// Memory region attributes (`mem_reg_attr`): type in bits 5:4 (normal
/// memory 0b10), cacheability in 3:2 (write-back 0b11), shareability in
/// 1:0 (inner shareable 0b11).
pub const ATTR_TYPE_MASK: u16 = 0x30;
pub const ATTR_TYPE_NORMAL: u16 = 0x20;
pub const ATTR_CACHE_MASK: u16 = 0x0C;
pub const ATTR_CACHE_WRITE_BACK: u16 = 0x0C;
pub const ATTR_SHARE_MASK: u16 = 0x03;
pub const ATTR_SHARE_INNER: u16 = 0x03;
/// Normal memory, write-back, inner shareable (what Linux shares).
pub const ATTR_NORMAL_WB_IS: u16 = ATTR_TYPE_NORMAL | ATTR_CACHE_WRITE_BACK | ATTR_SHARE_INNER;

/// Access permissions (`MemAccess::perm`): data access in bits 1:0,
/// instruction access in bits 3:2.
pub const PERM_DATA_MASK: u8 = 0x3;
pub const PERM_DATA_NOT_SPECIFIED: u8 = 0x0;
pub const PERM_DATA_RO: u8 = 0x1;
pub const PERM_DATA_RW: u8 = 0x2;
pub const PERM_INSTR_MASK: u8 = 0xC;
pub const PERM_INSTR_NOT_SPECIFIED: u8 = 0x0;
pub const PERM_INSTR_NX: u8 = 0x4;
pub const PERM_INSTR_X: u8 = 0x8;

/// `MemAccess::flags` bit 0: the receiver is a non-retrieval borrower.
pub const ACCESS_FLAG_NON_RETRIEVAL: u8 = 1 << 0;

/// Transaction descriptor flags (`flags`) of share/lend: zero memory
/// before retrieval (lend), operation may be time sliced, zero memory
/// after relinquish, transaction type (4:3, in retrieve descriptors),
/// address range alignment hint (9:5). Bits 31:10 are reserved.
pub const FLAG_ZERO_MEMORY: u32 = 1 << 0;
pub const FLAG_TIME_SLICE: u32 = 1 << 1;
pub const FLAG_ZERO_AFTER_RELINQUISH: u32 = 1 << 2;
pub const FLAG_TYPE_MASK: u32 = 0x3 << 3;
pub const FLAG_TYPE_SHARE: u32 = 1 << 3;
pub const FLAG_TYPE_LEND: u32 = 2 << 3;
pub const FLAG_TYPE_DONATE: u32 = 3 << 3;
pub const FLAG_ALIGN_HINT_MASK: u32 = 0x1F << 5;
pub const FLAGS_RESERVED: u32 = !0x3FF;

/// FFA_MEM_RECLAIM flags (w3): zero memory before returning it, time slicing.
pub const RECLAIM_FLAG_ZERO: u32 = 1 << 0;
pub const RECLAIM_FLAG_TIME_SLICE: u32 = 1 << 1;

/// Memory handles: bit 63 set means the hypervisor allocated it; the SPMC
/// allocates handles with it clear.
pub const HANDLE_HYPERVISOR_BIT: u64 = 1 << 63;

/// A transaction descriptor whatever its version: the header fields in
/// one form, and where the access descriptors are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionHeader {
    pub sender_id: u16,
    pub mem_reg_attr: u16,
    pub flags: u32,
    pub global_handle: u64,
    pub tag: u64,
    pub access_count: u32,
    pub access_offs: usize,
    pub access_size: usize,
    /// Reserved fields were zero.
    pub reserved_zero: bool,
}

/// Structural errors in a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescError {
    /// Shorter than a field or array it declares.
    Truncated,
    /// An offset, size or count that cannot be right.
    Malformed,
}

impl TransactionHeader {
    /// Reads the header in the layout of FF-A version `v1_1` (else v1.0).
    pub fn parse(desc: &[u8], v1_1: bool) -> Result<Self, DescError> {
        if v1_1 {
            let (h, _) = MemTransaction1_1::read_from_prefix(desc).map_err(|_| DescError::Truncated)?;
            Ok(TransactionHeader {
                sender_id: h.sender_id.get(),
                mem_reg_attr: h.mem_reg_attr.get(),
                flags: h.flags.get(),
                global_handle: h.global_handle.get(),
                tag: h.tag.get(),
                access_count: h.mem_access_count.get(),
                access_offs: h.mem_access_offs.get() as usize,
                access_size: h.mem_access_size.get() as usize,
                reserved_zero: h.reserved == [0; 12],
            })
        } else {
            let (h, _) = MemTransaction1_0::read_from_prefix(desc).map_err(|_| DescError::Truncated)?;
            Ok(TransactionHeader {
                sender_id: h.sender_id.get(),
                mem_reg_attr: h.mem_reg_attr as u16,
                flags: h.flags.get(),
                global_handle: h.global_handle.get(),
                tag: h.tag.get(),
                access_count: h.mem_access_count.get(),
                access_offs: TRANSACTION_1_0_SIZE,
                access_size: MEM_ACCESS_SIZE,
                reserved_zero: h.reserved0 == 0 && h.reserved1.get() == 0,
            })
        }
    }

    /// Access descriptor `i` (bounded by `access_count` and `desc`).
    pub fn access(&self, desc: &[u8], i: u32) -> Result<MemAccess, DescError> {
        if i >= self.access_count || self.access_size < MEM_ACCESS_SIZE {
            return Err(DescError::Malformed);
        }
        let at = (i as usize).checked_mul(self.access_size).and_then(|o| o.checked_add(self.access_offs));
        let bytes = at.and_then(|a| desc.get(a..)).ok_or(DescError::Truncated)?;
        MemAccess::read_from_prefix(bytes).map(|(a, _)| a).map_err(|_| DescError::Truncated)
    }

    /// Writes this header in the layout of `v1_1` (else v1.0) into `out`
    /// (at least 48 or 32 bytes); returns the bytes written.
    pub fn write(&self, out: &mut [u8], v1_1: bool) -> Option<usize> {
        if v1_1 {
            let h = MemTransaction1_1 {
                sender_id: self.sender_id.into(),
                mem_reg_attr: self.mem_reg_attr.into(),
                flags: self.flags.into(),
                global_handle: self.global_handle.into(),
                tag: self.tag.into(),
                mem_access_size: (self.access_size as u32).into(),
                mem_access_count: self.access_count.into(),
                mem_access_offs: (self.access_offs as u32).into(),
                reserved: [0; 12],
            };
            h.write_to_prefix(out).ok()?;
            Some(TRANSACTION_1_1_SIZE)
        } else {
            let h = MemTransaction1_0 {
                sender_id: self.sender_id.into(),
                mem_reg_attr: self.mem_reg_attr as u8,
                reserved0: 0,
                flags: self.flags.into(),
                global_handle: self.global_handle.into(),
                tag: self.tag.into(),
                reserved1: 0.into(),
                mem_access_count: self.access_count.into(),
            };
            h.write_to_prefix(out).ok()?;
            Some(TRANSACTION_1_0_SIZE)
        }
    }
}

/// The composite region at `offs` of `desc`: its header and the byte range
/// of its constituents (both within `desc`).
pub fn composite(desc: &[u8], offs: usize) -> Result<(CompositeRegion, core::ops::Range<usize>), DescError> {
    if offs == 0 || !offs.is_multiple_of(8) {
        return Err(DescError::Malformed);
    }
    let bytes = desc.get(offs..).ok_or(DescError::Truncated)?;
    let (c, _) = CompositeRegion::read_from_prefix(bytes).map_err(|_| DescError::Truncated)?;
    let start = offs + COMPOSITE_SIZE;
    let len = (c.address_range_count.get() as usize).checked_mul(CONSTITUENT_SIZE).ok_or(DescError::Malformed)?;
    let end = start.checked_add(len).ok_or(DescError::Malformed)?;
    if end > desc.len() {
        return Err(DescError::Truncated);
    }
    Ok((c, start..end))
}

/// Constituent `i` of a composite whose constituents occupy `range`.
pub fn constituent(desc: &[u8], range: &core::ops::Range<usize>, i: usize) -> Result<Constituent, DescError> {
    let at = i.checked_mul(CONSTITUENT_SIZE).and_then(|o| o.checked_add(range.start)).ok_or(DescError::Malformed)?;
    if at + CONSTITUENT_SIZE > range.end {
        return Err(DescError::Truncated);
    }
    Constituent::read_from_prefix(&desc[at..]).map(|(c, _)| c).map_err(|_| DescError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_byte_exact() {
        assert_eq!(size_of::<MemTransaction1_0>(), TRANSACTION_1_0_SIZE);
        assert_eq!(size_of::<MemTransaction1_1>(), TRANSACTION_1_1_SIZE);
        assert_eq!(size_of::<MemAccess>(), MEM_ACCESS_SIZE);
        assert_eq!(size_of::<CompositeRegion>(), COMPOSITE_SIZE);
        assert_eq!(size_of::<Constituent>(), CONSTITUENT_SIZE);
        assert_eq!(size_of::<Relinquish>(), 16);
        assert_eq!(ATTR_NORMAL_WB_IS, 0x2f);
    }

    /// A v1.1 share as Linux builds it: one receiver, composite at 64.
    fn linux_share_1_1() -> [u8; 112] {
        let mut d = [0u8; 112];
        d[0..2].copy_from_slice(&0u16.to_le_bytes()); // sender
        d[2..4].copy_from_slice(&0x2fu16.to_le_bytes());
        d[24..28].copy_from_slice(&16u32.to_le_bytes()); // access size
        d[28..32].copy_from_slice(&1u32.to_le_bytes()); // count
        d[32..36].copy_from_slice(&48u32.to_le_bytes()); // offs
        d[48..50].copy_from_slice(&0x8001u16.to_le_bytes());
        d[50] = PERM_DATA_RW;
        d[52..56].copy_from_slice(&64u32.to_le_bytes());
        d[64..68].copy_from_slice(&3u32.to_le_bytes());
        d[68..72].copy_from_slice(&2u32.to_le_bytes());
        d[80..88].copy_from_slice(&0x4000_0000u64.to_le_bytes());
        d[88..92].copy_from_slice(&1u32.to_le_bytes());
        d[96..104].copy_from_slice(&0x4010_0000u64.to_le_bytes());
        d[104..108].copy_from_slice(&2u32.to_le_bytes());
        d
    }

    #[test]
    fn a_v1_1_descriptor_parses_field_by_field() {
        let d = linux_share_1_1();
        let h = TransactionHeader::parse(&d, true).unwrap();
        assert_eq!((h.sender_id, h.mem_reg_attr, h.access_count, h.access_offs, h.access_size), (0, 0x2f, 1, 48, 16));
        assert!(h.reserved_zero);
        let a = h.access(&d, 0).unwrap();
        assert_eq!((a.endpoint_id.get(), a.perm, a.region_offs.get()), (0x8001, PERM_DATA_RW, 64));
        assert_eq!(h.access(&d, 1), Err(DescError::Malformed));
        let (c, r) = composite(&d, 64).unwrap();
        assert_eq!((c.total_page_count.get(), r.clone()), (3, 80..112));
        assert_eq!(constituent(&d, &r, 1).unwrap().address.get(), 0x4010_0000);
        assert_eq!(constituent(&d, &r, 2), Err(DescError::Truncated));
        // The same bytes read as v1.0 put the access array at 32.
        let h0 = TransactionHeader::parse(&d, false).unwrap();
        assert_eq!((h0.access_offs, h0.mem_reg_attr), (32, 0x2f));
    }

    #[test]
    fn hostile_offsets_and_counts_are_bounded() {
        let mut d = linux_share_1_1();
        // Composite count beyond the descriptor.
        d[68..72].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(composite(&d, 64).is_err());
        assert_eq!(composite(&d, 0), Err(DescError::Malformed));
        assert_eq!(composite(&d, 4), Err(DescError::Malformed));
        assert_eq!(composite(&d, 4096), Err(DescError::Truncated));
        // Access descriptors past the end, or an overflowing offset.
        let mut h = TransactionHeader::parse(&d, true).unwrap();
        h.access_offs = usize::MAX - 4;
        assert_eq!(h.access(&d, 0), Err(DescError::Truncated));
        h.access_size = 8;
        assert_eq!(h.access(&d, 0), Err(DescError::Malformed));
        assert_eq!(TransactionHeader::parse(&d[..40], true), Err(DescError::Truncated));
    }

    #[test]
    fn headers_write_back_in_either_layout() {
        let d = linux_share_1_1();
        let h = TransactionHeader::parse(&d, true).unwrap();
        let mut out = [0u8; 48];
        assert_eq!(h.write(&mut out, true), Some(48));
        assert_eq!(out, d[..48]);
        let mut h0 = h;
        h0.access_offs = 32;
        let mut out0 = [0u8; 32];
        assert_eq!(h0.write(&mut out0, false), Some(32));
        assert_eq!(TransactionHeader::parse(&out0, false).unwrap(), TransactionHeader { access_offs: 32, ..h });
        assert_eq!(h.write(&mut out0[..20], false), None);
    }
}
