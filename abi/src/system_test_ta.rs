//! oxtee's system-PTA test TA (`ta/system-test`) and its protocol, shared
//! with the normal-world suite (`normal/xtest`, `system.rs`): the UUIDs and
//! the command numbers. The TA calls the system PTA through the SDK's
//! TA-to-TA session API and touches the memory it maps.

use crate::uuid::Uuid;

/// 5e57c001-0000-4000-8000-000000005757: the system test TA (flags 0).
pub const UUID: Uuid = Uuid::new(0x5e57_c001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0x57, 0x57]);
/// The same image signed under a second UUID (`cargo xtask tas` patches
/// its `ta_head`): another TA, so its derived keys must differ.
pub const UUID_OTHER: Uuid = Uuid::new(0x5e57_c001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0x57, 0x58]);

/// upstream's test supplicant plugin (optee_test's `test_supp_plugin`),
/// built into oxtee-supplicant: f07bfc66-958c-4a15-99c0-260e4e7375dd.
pub const TEST_PLUGIN: Uuid = Uuid::new(0xf07b_fc66, 0x958c, 0x4a15, [0x99, 0xc0, 0x26, 0x0e, 0x4e, 0x73, 0x75, 0xdd]);
/// No plugin is registered under this UUID.
pub const ABSENT_PLUGIN: Uuid = Uuid::new(0x5e57_c001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0x57, 0xff]);
/// The test plugin's commands (upstream's numbers).
pub const PLUGIN_CMD_PING: u32 = 0;
pub const PLUGIN_CMD_PASS_VALUES: u32 = 1;
pub const PLUGIN_CMD_WRITE_ARR: u32 = 2;
pub const PLUGIN_CMD_GET_ARR: u32 = 3;

/// The memory scenario: map, zero check, write/read back, set protection,
/// remap, unmap, and the refusals (bad flags, size 0, unmapping what is
/// not zero-initialised memory or not mapped, fixed and padded addresses).
/// p0 value out: a = the number of steps passed; the command fails with
/// the unexpected result of the first failing step (its number in a).
pub const CMD_ZI_SCENARIO: u32 = 1;
/// Maps a page, makes it read-only and writes to it: the TA must die.
pub const CMD_WRITE_READ_ONLY: u32 = 2;
/// Maps a page, unmaps it and reads it: the TA must die.
pub const CMD_READ_UNMAPPED: u32 = 3;
/// p0 memref in (extra data) or none, p1 value in (a = key size), p2
/// memref out (the key): DERIVE_TA_UNIQUE_KEY with the TA's own buffers.
pub const CMD_DERIVE: u32 = 4;
/// p0 memref in, p1 memref out: forwards the client's buffers to
/// DERIVE_TA_UNIQUE_KEY as they are (memory shared with the normal world:
/// SECURITY).
pub const CMD_DERIVE_SHM: u32 = 5;
/// p0 memref in or none: ADD_RNG_ENTROPY with a copy of it (none: an empty
/// buffer).
pub const CMD_ENTROPY: u32 = 6;
/// p0 value in (a = plugin cmd, b = sub_cmd), p1 memref inout (data) or
/// none, p2 value out (a = outlen), p3 value in (a = 1: the absent plugin).
pub const CMD_PLUGIN: u32 = 7;
/// p0 value in (a = system PTA command), p1 value out (a = its result):
/// the command with no parameters, then GET_TPM_EVENT_LOG with an output
/// buffer (b = that result).
pub const CMD_RAW: u32 = 8;
/// p0 memref in (a library UUID as octets), p1 value out (a = dlopen's
/// result, b = dlsym's result with a 15-byte UUID memref).
pub const CMD_DL: u32 = 9;
/// p0 value out (a, b: the address of the zero-initialised mapping it
/// keeps, lo, hi); p1 value in (a = bytes): maps memory and leaves it
/// mapped (freed with the instance).
pub const CMD_MAP_KEEP: u32 = 10;
