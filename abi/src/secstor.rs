//! The secure-storage TA-management pseudo-TA (upstream's
//! `pta_secstor_ta_mgmt.h`): installs a signed TA into secure storage,
//! from where the OS loads it before asking tee-supplicant. Also what the
//! normal-world suite installs through it.

use crate::uuid::Uuid;

/// 6e256cba-fc4d-4941-ad09-2ca1860342dd.
pub const PTA_UUID: Uuid = Uuid::new(0x6e25_6cba, 0xfc4d, 0x4941, [0xad, 0x09, 0x2c, 0xa1, 0x86, 0x03, 0x42, 0xdd]);

/// `memref[0]` input: a signed TA image with a bootstrap header
/// (`SHDR_BOOTSTRAP_TA`). SECURITY for an image that is not one, is cut
/// short or does not verify; ACCESS_CONFLICT if a newer version of the TA
/// is installed.
pub const CMD_BOOTSTRAP: u32 = 0;

/// 5e57a0e1-0000-4000-8000-0000000000e1: the test TA (`ta/test`, its
/// multi-instance build) signed under this UUID, which tee-supplicant's TA
/// directory does not hold: it loads only once installed.
pub const TEST_TA: Uuid = Uuid::new(0x5e57_a0e1, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xe1]);

/// Signed `ta_version`s of the images the suite installs: the current one
/// and an older one (refused once the current one is installed).
pub const TEST_VERSION: u32 = 2;
pub const TEST_OLD_VERSION: u32 = 1;

/// Where the images are in the guest (not in tee-supplicant's TA
/// directory): the current version, and the older one.
pub const GUEST_IMAGE: &str = "/usr/lib/oxtee/secstor-v2.ta";
pub const GUEST_OLD_IMAGE: &str = "/usr/lib/oxtee/secstor-v1.ta";
