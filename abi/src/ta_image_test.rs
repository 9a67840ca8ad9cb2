//! The TA images the suite installs to exercise the image formats: the
//! test TA's ELF signed through a chain of subkeys, and encrypted (see
//! `xtask/src/tas.rs`, which makes them, and `oxtee-xtest`, which loads
//! them).
//!
//! Subkey chain: the OS's key signs the top subkey (namespace
//! [`SUBKEY_TOP`], one level below it allowed), which signs the mid subkey
//! ([`SUBKEY_MID_NAME`] in the top's namespace), which signs TAs under
//! names: each TA's UUID is upstream's SHA-512 version-5 UUID of the mid
//! subkey's UUID and the name.

use crate::uuid::Uuid;

const fn uuid(n: u8) -> Uuid {
    Uuid::new(0x5e57_a000 | n as u32, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, n])
}

/// 0e1a6e5f-0000-4000-8000-00000000e0e0: namespace of the top subkey.
pub const SUBKEY_TOP: Uuid = Uuid::new(0x0e1a_6e5f, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0xe0, 0xe0]);
/// Name of the mid subkey under the top one.
pub const SUBKEY_MID_NAME: &str = "oxtee-mid";
/// d205ff16-ab9c-55c7-b254-e40bdb43b1d5: the mid subkey's UUID.
pub const SUBKEY_MID: Uuid = Uuid::new(0xd205_ff16, 0xab9c, 0x55c7, [0xb2, 0x54, 0xe4, 0x0b, 0xdb, 0x43, 0xb1, 0xd5]);
/// Name of the subkey-signed test TA under the mid subkey.
pub const SUBKEY_TA_NAME: &str = "oxtee-subkey-ta";
/// c1a5862b-7b1a-524a-b6c2-66f5e7ad39d7: the test TA, signed by the mid
/// subkey (loads).
pub const SUBKEY_TA: Uuid = Uuid::new(0xc1a5_862b, 0x7b1a, 0x524a, [0xb6, 0xc2, 0x66, 0xf5, 0xe7, 0xad, 0x39, 0xd7]);
/// Name of the encrypted, subkey-signed test TA.
pub const SUBKEY_ENC_TA_NAME: &str = "oxtee-subkey-enc-ta";
/// 26749fe9-f85f-5f7e-ac23-19846f7dcdc4: the test TA, encrypted and signed
/// by the mid subkey (loads).
pub const SUBKEY_ENC_TA: Uuid =
    Uuid::new(0x2674_9fe9, 0xf85f, 0x5f7e, [0xac, 0x23, 0x19, 0x84, 0x6f, 0x7d, 0xcd, 0xc4]);
/// 5e57a0d1-0000-4000-8000-0000000000d1: the test TA with this UUID,
/// signed by the mid subkey as [`SUBKEY_TA_NAME`]: outside the namespace
/// (refused with SECURITY).
pub const SUBKEY_OUTSIDE: Uuid = uuid(0xd1);
/// 5e57a0d2-0000-4000-8000-0000000000d2: the test TA, encrypted with the
/// device's TA key (loads).
pub const ENC_TA: Uuid = uuid(0xd2);
/// 5e57a0d3-0000-4000-8000-0000000000d3: the same, one byte of its
/// ciphertext flipped (refused with SECURITY).
pub const ENC_TAMPERED: Uuid = uuid(0xd3);
