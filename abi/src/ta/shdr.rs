//! Signed TA image headers (upstream `signed_hdr.h`): the `shdr` in front of
//! every TA image and the sub-headers that follow it for each image type.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `shdr.magic`: "HSTO" read little-endian.
pub const SHDR_MAGIC: u32 = 0x4f54_5348;

/// Plain signed TA (legacy; no sub-header).
pub const SHDR_TA: u32 = 0;
/// Signed TA followed by [`ShdrBootstrapTa`].
pub const SHDR_BOOTSTRAP_TA: u32 = 1;
/// Like bootstrap, then [`ShdrEncryptedTa`], payload encrypted.
pub const SHDR_ENCRYPTED_TA: u32 = 2;
/// Signed subkey ([`ShdrSubkey`]) that signs the next header.
pub const SHDR_SUBKEY: u32 = 3;

wire_enum! {
    /// Decoded `shdr.img_type`.
    pub enum ImgType: u32 {
        /// See [`SHDR_TA`].
        Ta = SHDR_TA,
        /// See [`SHDR_BOOTSTRAP_TA`].
        BootstrapTa = SHDR_BOOTSTRAP_TA,
        /// See [`SHDR_ENCRYPTED_TA`].
        EncryptedTa = SHDR_ENCRYPTED_TA,
        /// See [`SHDR_SUBKEY`].
        Subkey = SHDR_SUBKEY,
    }
}

/// `shdr.algo` of default-signed TAs: RSASSA PKCS#1 v1.5 with SHA-256.
pub const ALG_RSASSA_PKCS1_V1_5_SHA256: u32 = 0x7000_4830;
/// `shdr.algo` of PSS-signed TAs: RSASSA PSS, MGF1 with SHA-256.
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA256: u32 = 0x7041_4930;

/// Fixed part of the signed header; `hash_size` bytes of hash, then
/// `sig_size` bytes of signature over that hash, follow it.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct Shdr {
    /// Must be [`SHDR_MAGIC`].
    pub magic: u32,
    /// One of `SHDR_*` image types.
    pub img_type: u32,
    /// Bytes of the image after all headers.
    pub img_size: u32,
    /// GP `TEE_ALG_*` of the signature.
    pub algo: u32,
    /// Bytes of the hash that follows.
    pub hash_size: u16,
    /// Bytes of the signature after the hash.
    pub sig_size: u16,
}

impl Shdr {
    /// Total header bytes including the trailing hash and signature. Both
    /// sizes are u16, so this cannot overflow.
    pub const fn total_size(&self) -> usize {
        size_of::<Self>() + self.hash_size as usize + self.sig_size as usize
    }

    /// Decoded image type, if known.
    pub fn img_type(&self) -> Option<ImgType> {
        ImgType::try_from(self.img_type).ok()
    }
}

/// Follows the signed header of bootstrap and encrypted TAs.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct ShdrBootstrapTa {
    /// TA UUID in RFC 4122 octet order (see `Uuid::from_octets`).
    pub uuid: [u8; 16],
    /// Version for rollback protection.
    pub ta_version: u32,
}

/// Follows [`ShdrBootstrapTa`] in encrypted TAs; `iv_size` bytes of IV and
/// `tag_size` bytes of tag follow it.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct ShdrEncryptedTa {
    /// GP `TEE_ALG_*` of the authenticated cipher.
    pub enc_algo: u32,
    /// `ENC_KEY_TYPE_MASK` selects an `ENC_KEY_*` key type.
    pub flags: u32,
    /// IV length.
    pub iv_size: u16,
    /// Authentication tag length.
    pub tag_size: u16,
}

/// Bits of `ShdrEncryptedTa.flags` selecting the key type.
pub const ENC_KEY_TYPE_MASK: u32 = 0x1;
/// Encryption key unique to the device.
pub const ENC_KEY_DEV_SPECIFIC: u32 = 0;
/// Encryption key shared by a class of devices.
pub const ENC_KEY_CLASS_WIDE: u32 = 1;

/// Follows the signed header of a subkey image; `attr_count`
/// [`ShdrSubkeyAttr`]s follow it, then `name_size` bytes of name.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct ShdrSubkey {
    /// Namespace UUID the next TA or subkey must live in, octet order.
    pub uuid: [u8; 16],
    /// Length of the name used to derive the next UUID (0: exact match).
    pub name_size: u32,
    /// Version for rollback protection.
    pub subkey_version: u32,
    /// How many more subkey levels may follow below this one.
    pub max_depth: u32,
    /// GP `TEE_ALG_*` this key verifies with.
    pub algo: u32,
    /// Number of public-key attributes that follow.
    pub attr_count: u32,
}

/// One public-key attribute of a subkey.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct ShdrSubkeyAttr {
    /// GP `TEE_ATTR_*` id.
    pub id: u32,
    /// Offset of the value from the start of [`ShdrSubkey`].
    pub offs: u32,
    /// Value length.
    pub size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of};

    #[test]
    fn shdr_layout() {
        assert_eq!(size_of::<Shdr>(), 20);
        assert_eq!(align_of::<Shdr>(), 4);
        assert_eq!(offset_of!(Shdr, magic), 0);
        assert_eq!(offset_of!(Shdr, img_type), 4);
        assert_eq!(offset_of!(Shdr, img_size), 8);
        assert_eq!(offset_of!(Shdr, algo), 12);
        assert_eq!(offset_of!(Shdr, hash_size), 16);
        assert_eq!(offset_of!(Shdr, sig_size), 18);
    }

    #[test]
    fn sub_header_layouts() {
        assert_eq!(size_of::<ShdrBootstrapTa>(), 20);
        assert_eq!(offset_of!(ShdrBootstrapTa, ta_version), 16);
        assert_eq!(size_of::<ShdrEncryptedTa>(), 12);
        assert_eq!(offset_of!(ShdrEncryptedTa, flags), 4);
        assert_eq!(offset_of!(ShdrEncryptedTa, iv_size), 8);
        assert_eq!(offset_of!(ShdrEncryptedTa, tag_size), 10);
        assert_eq!(size_of::<ShdrSubkey>(), 36);
        assert_eq!(offset_of!(ShdrSubkey, name_size), 16);
        assert_eq!(offset_of!(ShdrSubkey, subkey_version), 20);
        assert_eq!(offset_of!(ShdrSubkey, max_depth), 24);
        assert_eq!(offset_of!(ShdrSubkey, algo), 28);
        assert_eq!(offset_of!(ShdrSubkey, attr_count), 32);
        assert_eq!(size_of::<ShdrSubkeyAttr>(), 12);
        assert_eq!(offset_of!(ShdrSubkeyAttr, offs), 4);
        assert_eq!(offset_of!(ShdrSubkeyAttr, size), 8);
    }

    #[test]
    fn constants() {
        assert_eq!(SHDR_MAGIC, 0x4f545348);
        assert_eq!(&SHDR_MAGIC.to_le_bytes(), b"HSTO");
        assert_eq!((SHDR_TA, SHDR_BOOTSTRAP_TA, SHDR_ENCRYPTED_TA, SHDR_SUBKEY), (0, 1, 2, 3));
        assert_eq!(ImgType::ALL.map(ImgType::raw), [0, 1, 2, 3]);
        assert_eq!(ImgType::try_from(4), Err(4));
        assert_eq!(ALG_RSASSA_PKCS1_V1_5_SHA256, 0x70004830);
        assert_eq!(ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, 0x70414930);
        assert_eq!((ENC_KEY_TYPE_MASK, ENC_KEY_DEV_SPECIFIC, ENC_KEY_CLASS_WIDE), (1, 0, 1));
    }

    #[test]
    fn parse_header_bytes() {
        let mut raw = [0u8; 20];
        raw[0..4].copy_from_slice(&SHDR_MAGIC.to_le_bytes());
        raw[4..8].copy_from_slice(&SHDR_BOOTSTRAP_TA.to_le_bytes());
        raw[8..12].copy_from_slice(&0x1234u32.to_le_bytes());
        raw[12..16].copy_from_slice(&ALG_RSASSA_PKCS1_V1_5_SHA256.to_le_bytes());
        raw[16..18].copy_from_slice(&32u16.to_le_bytes());
        raw[18..20].copy_from_slice(&256u16.to_le_bytes());
        let h = Shdr::read_from_bytes(&raw).unwrap();
        assert_eq!(h.magic, SHDR_MAGIC);
        assert_eq!(h.img_type(), Some(ImgType::BootstrapTa));
        assert_eq!(h.img_size, 0x1234);
        assert_eq!(h.total_size(), 20 + 32 + 256);
        let max = Shdr { hash_size: u16::MAX, sig_size: u16::MAX, ..h };
        assert_eq!(max.total_size(), 20 + 2 * 65535);
        assert_eq!(h.as_bytes(), &raw);
    }
}
