//! oxtee's user-mode test TA (`ta/test`): the UUIDs of its four builds, its
//! command numbers and the constants its answers are checked against,
//! shared by the TA and the normal-world suite that drives it. Also the
//! UUIDs under which deliberately broken images are installed.

use crate::ta::{TA_FLAG_INSTANCE_KEEP_ALIVE, TA_FLAG_MULTI_SESSION, TA_FLAG_SINGLE_INSTANCE};
use crate::uuid::Uuid;

const fn test_uuid(n: u8) -> Uuid {
    Uuid::new(0x5e57_a000 | n as u32, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, n])
}

/// 5e57a001-0000-4000-8000-000000000001: a new instance per session.
pub const TEST_MULTI: Uuid = test_uuid(0x01);
/// 5e57a002-0000-4000-8000-000000000002: one instance, many sessions.
pub const TEST_SINGLE: Uuid = test_uuid(0x02);
/// 5e57a003-0000-4000-8000-000000000003: one instance that outlives its
/// last session.
pub const TEST_KEEP: Uuid = test_uuid(0x03);
/// 5e57a004-0000-4000-8000-000000000004: one instance, one session at a
/// time.
pub const TEST_EXCL: Uuid = test_uuid(0x04);

/// `ta_head.flags` of each build.
pub const FLAGS_MULTI: u32 = 0;
pub const FLAGS_SINGLE: u32 = TA_FLAG_SINGLE_INSTANCE | TA_FLAG_MULTI_SESSION;
pub const FLAGS_KEEP: u32 = TA_FLAG_SINGLE_INSTANCE | TA_FLAG_MULTI_SESSION | TA_FLAG_INSTANCE_KEEP_ALIVE;
pub const FLAGS_EXCL: u32 = TA_FLAG_SINGLE_INSTANCE;

/// Every build with its flags.
pub const VARIANTS: [(Uuid, u32); 4] =
    [(TEST_MULTI, FLAGS_MULTI), (TEST_SINGLE, FLAGS_SINGLE), (TEST_KEEP, FLAGS_KEEP), (TEST_EXCL, FLAGS_EXCL)];

/// Declared stack (`gpd.ta.stackSize`) and heap (`gpd.ta.dataSize`) of
/// every build.
pub const STACK_SIZE: u32 = 16 * 1024;
pub const DATA_SIZE: u32 = 128 * 1024;

/// Name and value of the TA's own custom property.
pub const CUSTOM_PROP: &str = "oxtee.test.custom";
pub const CUSTOM_PROP_VALUE: u32 = 0x1234;
/// A u64 custom property.
pub const U64_PROP: &str = "oxtee.test.u64";
pub const U64_PROP_VALUE: u64 = 0x1_2345_6789;
/// A binary custom property (carried base64-encoded in the TA's table).
pub const BINARY_PROP: &str = "oxtee.test.blob";
pub const BINARY_PROP_VALUE: &[u8] = b"\x00\x01\xfeoxtee";
/// `gpd.ta.version` and `gpd.ta.description` of every build.
pub const VERSION: &str = "1.0";
pub const DESCRIPTION: &str = "oxtee test TA";

/// Unsigned image: the raw ELF of TEST_MULTI.
pub const BAD_UNSIGNED: Uuid = test_uuid(0xf1);
/// Signed image whose signature does not verify.
pub const BAD_SIG: Uuid = test_uuid(0xf2);
/// Signed image cut in half.
pub const BAD_TRUNC: Uuid = test_uuid(0xf3);
/// Correctly signed image whose ELF header names another machine.
pub const BAD_ELF: Uuid = test_uuid(0xf4);

/// Open-session p0 value a that makes the open fail with ACCESS_DENIED.
pub const OPEN_DENY: u32 = 0xdead;
/// Open-session p0 value a that makes the TA panic inside open.
pub const OPEN_PANIC: u32 = 0xbad;

/// No parameters, no work.
pub const CMD_NOOP: u32 = 0;
/// p0 value in (a, b), p1 value out: a = a + b (wrapping).
pub const CMD_ADD: u32 = 1;
/// p0 memref inout, p1 value in (a = key): every byte ^= key.
pub const CMD_XOR: u32 = 2;
/// p0 value out: a = ++instance counter, b = ++session counter.
pub const CMD_COUNTER: u32 = 3;
/// p0 value in (a = code): TEE_Panic(code).
pub const CMD_PANIC: u32 = 4;
/// p0 value in (a = one of `CRASH_*`), p1 value in (a, b = address low,
/// high; `CRASH_READ_ADDR` only), optional p2 value out (a, b = low, high
/// of the u64 read, if the read did not fault).
pub const CMD_CRASH: u32 = 5;
/// p0 value out: a, b = low, high address of a buffer this instance
/// filled with `SECRET`.
pub const CMD_ADDR: u32 = 6;
/// p0 memref in (16 bytes: target UUID, RFC 4122 octets), p1 memref inout
/// (data), p2 value in (a = key), p3 value out (a = result of the first
/// inner step that failed, opening included, b = its origin; 0, 0 if all
/// succeeded). Opens the target, invokes CMD_XOR on p1's own buffer
/// (forwarded as is), then on a heap buffer, checks both (GENERIC if the
/// bytes are wrong), closes. With p2's b = T (ms) instead: opens the
/// target with a cancellation timeout of T and has it CMD_WAIT 4T; p3
/// reports that call's result (CANCEL from the target when the timeout
/// works).
pub const CMD_TA2TA: u32 = 7;
/// p0 value in (a = milliseconds): unmasks cancellation, waits, returns
/// the wait's result (CANCEL when cancelled).
pub const CMD_WAIT: u32 = 8;
/// p0 value out: a = `PROPS_*` bits of the checks that passed, b = the
/// client's login.
pub const CMD_PROPS: u32 = 9;
/// p0 value out: a = system-time milliseconds across a 20 ms wait, b =
/// REE time seconds.
pub const CMD_TIME: u32 = 10;
/// p0 memref inout, p1 value out: a = `ACCESS_*` bits of the checks that
/// passed.
pub const CMD_ACCESS: u32 = 11;
/// p0 value in (a = bytes): allocate, fill, verify, free; OUT_OF_MEMORY
/// if the allocation fails.
pub const CMD_HEAP: u32 = 12;
/// p0 value in (a = n), p1 value out: a = 1 if an f64 computation carried
/// across a 5 ms wait came out exact, b = n.
pub const CMD_FLOAT: u32 = 13;
/// Writes one trace line.
pub const CMD_LOG: u32 = 14;
/// p0 memref in (16 bytes: target UUID), p1 value in (a = most sessions to
/// open), p2 value out (a = sessions opened, b = the result that stopped
/// the opening, 0 if all `a` opened). Every session is closed before the
/// command returns.
pub const CMD_OPEN_MANY: u32 = 15;
/// Large memrefs (mapped from the client's pages, not copied). Each of p0,
/// p1, p2 may be NONE. p0 memref in: checked against `big_word(seed)`;
/// p1 memref out: filled with `big_word(seed + 1)`; p2 memref inout:
/// checked against `big_word(seed + 2)`, then filled with
/// `big_word(seed + 3)`; p3 value inout: a = seed in, bytes that did not
/// match out; b = memref bytes seen out (saturating at u32::MAX).
/// ACCESS_DENIED if TEE_CheckMemoryAccessRights does not report a memref
/// as non-secure memory shared with the client.
pub const CMD_BIG: u32 = 16;

/// Word `w` (little-endian u64 at byte 8 * w) of CMD_BIG's pattern for
/// `seed`: differs in every word and page, so a misplaced page shows.
pub const fn big_word(seed: u32, w: u64) -> u64 {
    (w ^ (seed as u64) << 40).wrapping_add(seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (w >> 9)
}

/// Byte `i` of CMD_BIG's pattern.
pub const fn big_byte(seed: u32, i: u64) -> u8 {
    (big_word(seed, i / 8) >> (8 * (i % 8))) as u8
}

/// Fills `buf` with CMD_BIG's pattern for `seed`.
pub fn big_fill(seed: u32, buf: &mut [u8]) {
    let mut words = buf.chunks_exact_mut(8);
    for (w, c) in (&mut words).enumerate() {
        c.copy_from_slice(&big_word(seed, w as u64).to_le_bytes());
    }
    let base = (buf.len() / 8 * 8) as u64;
    for (i, b) in buf[base as usize..].iter_mut().enumerate() {
        *b = big_byte(seed, base + i as u64);
    }
}

/// Bytes of `buf` that differ from CMD_BIG's pattern for `seed`.
pub fn big_mismatches(seed: u32, buf: &[u8]) -> u64 {
    let mut bad = 0;
    let mut words = buf.chunks_exact(8);
    for (w, c) in (&mut words).enumerate() {
        let want = big_word(seed, w as u64).to_le_bytes();
        if c != want {
            bad += c.iter().zip(want).filter(|(a, b)| **a != *b).count() as u64;
        }
    }
    let base = (buf.len() / 8 * 8) as u64;
    for (i, b) in buf[base as usize..].iter().enumerate() {
        bad += (*b != big_byte(seed, base + i as u64)) as u64;
    }
    bad
}

/// Kinds of CMD_CRASH. Each must fault and get the TA killed, except a
/// read of mapped memory.
pub const CRASH_READ_NULL: u32 = 0;
pub const CRASH_WRITE_KERNEL: u32 = 1;
pub const CRASH_EXEC_DATA: u32 = 2;
pub const CRASH_UNDEFINED: u32 = 3;
pub const CRASH_STACK_OVERFLOW: u32 = 4;
pub const CRASH_WRITE_CODE: u32 = 5;
pub const CRASH_READ_ADDR: u32 = 6;
pub const CRASH_WRITE_RODATA: u32 = 7;
/// Kinds that fault whatever the address space looks like.
pub const CRASH_ALWAYS: [u32; 7] = [
    CRASH_READ_NULL,
    CRASH_WRITE_KERNEL,
    CRASH_EXEC_DATA,
    CRASH_UNDEFINED,
    CRASH_STACK_OVERFLOW,
    CRASH_WRITE_CODE,
    CRASH_WRITE_RODATA,
];
/// The OS's load address, written by `CRASH_WRITE_KERNEL`.
pub const KERNEL_ADDR: u64 = 0x0e10_0000;

/// What CMD_ADDR fills its buffer with (every u64 of it).
pub const SECRET: u64 = 0x5ec2_e75e_c2e7_5ec2;

/// CMD_PROPS checks, one bit each.
pub const PROPS_APP_ID: u32 = 1 << 0;
pub const PROPS_SINGLE_INSTANCE: u32 = 1 << 1;
pub const PROPS_MULTI_SESSION: u32 = 1 << 2;
pub const PROPS_KEEP_ALIVE: u32 = 1 << 3;
pub const PROPS_DATA_SIZE: u32 = 1 << 4;
pub const PROPS_STACK_SIZE: u32 = 1 << 5;
pub const PROPS_CUSTOM: u32 = 1 << 6;
pub const PROPS_API_VERSION: u32 = 1 << 7;
pub const PROPS_CLIENT_IDENTITY: u32 = 1 << 8;
pub const PROPS_VERSION_DESCRIPTION: u32 = 1 << 9;
/// An unknown name gives ITEM_NOT_FOUND.
pub const PROPS_NOT_FOUND: u32 = 1 << 10;
/// Reading the custom u32 as a bool gives BAD_FORMAT.
pub const PROPS_BAD_FORMAT: u32 = 1 << 11;
/// The custom u32 read as a string is its decimal form.
pub const PROPS_AS_STRING: u32 = 1 << 12;
/// The u64 property reads back.
pub const PROPS_U64: u32 = 1 << 13;
/// The binary property reads back decoded.
pub const PROPS_BINARY: u32 = 1 << 14;
/// Every CMD_PROPS check.
pub const PROPS_ALL: u32 = (1 << 15) - 1;

/// CMD_ACCESS checks, one bit each.
pub const ACCESS_PARAM_RW: u32 = 1 << 0;
pub const ACCESS_RODATA_WRITE_DENIED: u32 = 1 << 1;
pub const ACCESS_UNMAPPED_DENIED: u32 = 1 << 2;
pub const ACCESS_KERNEL_DENIED: u32 = 1 << 3;
pub const ACCESS_RODATA_READ: u32 = 1 << 4;
pub const ACCESS_HEAP_RW: u32 = 1 << 5;
/// Every CMD_ACCESS check.
pub const ACCESS_ALL: u32 = (1 << 6) - 1;

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn uuids_read_as_documented() {
        assert_eq!(TEST_MULTI.to_string(), "5e57a001-0000-4000-8000-000000000001");
        assert_eq!(TEST_SINGLE.to_string(), "5e57a002-0000-4000-8000-000000000002");
        assert_eq!(TEST_KEEP.to_string(), "5e57a003-0000-4000-8000-000000000003");
        assert_eq!(TEST_EXCL.to_string(), "5e57a004-0000-4000-8000-000000000004");
        assert_eq!(BAD_UNSIGNED.to_string(), "5e57a0f1-0000-4000-8000-0000000000f1");
        assert_eq!(BAD_SIG.to_string(), "5e57a0f2-0000-4000-8000-0000000000f2");
        assert_eq!(BAD_TRUNC.to_string(), "5e57a0f3-0000-4000-8000-0000000000f3");
        assert_eq!(BAD_ELF.to_string(), "5e57a0f4-0000-4000-8000-0000000000f4");
    }

    #[test]
    fn big_pattern_fills_and_checks() {
        let mut b = std::vec![0u8; 8195];
        big_fill(7, &mut b);
        assert_eq!(big_mismatches(7, &b), 0);
        assert_eq!(b[8194], big_byte(7, 8194));
        assert!(big_mismatches(8, &b) > 8000);
        // Two pages swapped are caught.
        let (x, y) = b.split_at_mut(4096);
        x.swap_with_slice(&mut y[..4096]);
        assert!(big_mismatches(7, &b[..8192]) > 8000);
    }

    #[test]
    fn flags_and_masks() {
        assert_eq!((FLAGS_MULTI, FLAGS_SINGLE, FLAGS_KEEP, FLAGS_EXCL), (0, 0xc, 0x1c, 0x4));
        assert_eq!(PROPS_ALL, 0x7fff);
        assert_eq!(ACCESS_ALL, 0x3f);
        assert!(!CRASH_ALWAYS.contains(&CRASH_READ_ADDR));
    }
}
