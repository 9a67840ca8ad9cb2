//! The firmware package: what `cargo xtask` writes into secure flash after
//! the monitor and what the monitor reads at cold boot to find the trusted
//! OS image and the normal-world entry. Any raw OS binary can be packed, so
//! the monitor can start another OS (e.g. upstream optee_os) unchanged.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Offset of the package header in secure flash; the monitor must fit below.
pub const OFFSET: u64 = 0x0008_0000;
/// "OXFW" little-endian.
pub const MAGIC: u32 = 0x5746_584f;
/// 2: `flags` added.
pub const VERSION: u32 = 2;

/// `Header::flags`: run the monitor as an FF-A SPMD with the OS as the
/// S-EL1 SPMC (otherwise: TF-A's `opteed` protocol).
pub const FLAG_SPMD: u64 = 1 << 0;
/// Flags this version defines; others must be clear.
pub const FLAGS_KNOWN: u64 = FLAG_SPMD;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct Header {
    pub magic: u32,
    pub version: u32,
    /// Offset of the OS image from the start of flash.
    pub os_offset: u64,
    pub os_size: u64,
    /// Secure physical address the OS image is copied to.
    pub os_load_addr: u64,
    /// Where the OS is entered (opteed: cold-boot entry, x0..x3 as TF-A).
    pub os_entry: u64,
    /// Normal-world entry point and the device tree passed to it in x0.
    pub ns_entry: u64,
    pub ns_dtb: u64,
    /// `FLAG_*` bits.
    pub flags: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Truncated,
    BadMagic,
    BadVersion,
    OsOutsideFlash,
    OsTooLarge,
    EntryOutsideImage,
    UnknownFlags,
}

impl Header {
    pub const SIZE: usize = core::mem::size_of::<Header>();

    /// Parses and checks a header read from flash; `flash_size` bounds the image.
    pub fn parse(bytes: &[u8], flash_size: u64, os_region: (u64, u64)) -> Result<Header, Error> {
        let (h, _) = Header::read_from_prefix(bytes).map_err(|_| Error::Truncated)?;
        if h.magic != MAGIC {
            return Err(Error::BadMagic);
        }
        if h.version != VERSION {
            return Err(Error::BadVersion);
        }
        let end = h.os_offset.checked_add(h.os_size).ok_or(Error::OsOutsideFlash)?;
        if h.os_offset < OFFSET + Self::SIZE as u64 || end > flash_size {
            return Err(Error::OsOutsideFlash);
        }
        let (region_base, region_size) = os_region;
        if h.os_load_addr < region_base
            || h.os_size > region_size
            || h.os_load_addr - region_base > region_size - h.os_size
        {
            return Err(Error::OsTooLarge);
        }
        if h.os_entry < h.os_load_addr || h.os_entry >= h.os_load_addr + h.os_size {
            return Err(Error::EntryOutsideImage);
        }
        if h.flags & !FLAGS_KNOWN != 0 {
            return Err(Error::UnknownFlags);
        }
        Ok(h)
    }

    /// Whether the monitor runs as an FF-A SPMD.
    pub fn spmd(&self) -> bool {
        self.flags & FLAG_SPMD != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Header {
        Header {
            magic: MAGIC,
            version: VERSION,
            os_offset: 0x10_0000,
            os_size: 0x2_0000,
            os_load_addr: 0x0e10_0000,
            os_entry: 0x0e10_0000,
            ns_entry: 0x4020_0000,
            ns_dtb: 0x4000_0000,
            flags: 0,
        }
    }
    const REGION: (u64, u64) = (0x0e10_0000, 0x00f0_0000);

    #[test]
    fn header_layout_is_pinned() {
        assert_eq!(Header::SIZE, 64);
        assert_eq!(core::mem::offset_of!(Header, os_entry), 32);
        assert_eq!(core::mem::offset_of!(Header, flags), 56);
    }

    #[test]
    fn parse_accepts_good_and_rejects_bad_headers() {
        let h = good();
        assert_eq!(Header::parse(h.as_bytes(), 0x200_0000, REGION), Ok(h));
        assert_eq!(Header::parse(&h.as_bytes()[..10], 0x200_0000, REGION), Err(Error::Truncated));
        let mut b = h;
        b.magic = 0;
        assert_eq!(Header::parse(b.as_bytes(), 0x200_0000, REGION), Err(Error::BadMagic));
        let mut b = h;
        b.os_size = u64::MAX;
        assert_eq!(Header::parse(b.as_bytes(), 0x200_0000, REGION), Err(Error::OsOutsideFlash));
        let mut b = h;
        b.os_size = 0x100_0000;
        assert_eq!(Header::parse(b.as_bytes(), 0x200_0000, REGION), Err(Error::OsTooLarge));
        let mut b = h;
        b.os_entry = 0x0e00_0000;
        assert_eq!(Header::parse(b.as_bytes(), 0x200_0000, REGION), Err(Error::EntryOutsideImage));
        let mut b = h;
        b.flags = FLAG_SPMD;
        assert!(Header::parse(b.as_bytes(), 0x200_0000, REGION).unwrap().spmd());
        assert!(!h.spmd());
        b.flags = 1 << 5;
        assert_eq!(Header::parse(b.as_bytes(), 0x200_0000, REGION), Err(Error::UnknownFlags));
        let mut b = h;
        b.version = 1;
        assert_eq!(Header::parse(b.as_bytes(), 0x200_0000, REGION), Err(Error::BadVersion));
    }
}
