//! oxtee's dynamic-linking test TA (`ta/dltest`) and its shared library
//! (`ta/dltest/lib`, C), shared with the normal-world suite
//! (`oxtee-xtest dynlink`).
//!
//! The TA names the library in `DT_NEEDED` (by its UUID, as upstream's
//! shared TA libraries are named); the OS fetches, verifies, maps and
//! links it when the TA is opened. Two more builds of the same TA name
//! other libraries: one whose image does not exist and one that lacks a
//! symbol the TA calls; both must fail to open.

use crate::uuid::Uuid;

/// 0d1c0000-0000-4000-8000-0000000000d1: the test TA (multi-instance).
pub const UUID: Uuid = Uuid::new(0x0d1c_0000, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xd1]);
/// 0d1c0001-...: the shared library it needs.
pub const LIB: Uuid = Uuid::new(0x0d1c_0001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xd1]);
/// 0d1c0002-...: a library without `dltest_call_back`.
pub const LIB_THIN: Uuid = Uuid::new(0x0d1c_0002, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xd1]);
/// 0d1c0003-...: a library UUID no image exists for.
pub const LIB_MISSING: Uuid = Uuid::new(0x0d1c_0003, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xd1]);
/// 0d1c0010-...: the TA built to need `LIB_MISSING` (opening it fails
/// with ITEM_NOT_FOUND, as upstream's loader answers).
pub const UUID_MISSING: Uuid = Uuid::new(0x0d1c_0010, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xd1]);
/// 0d1c0011-...: the TA built to need `LIB_THIN` (an unresolved symbol:
/// ITEM_NOT_FOUND).
pub const UUID_UNRESOLVED: Uuid = Uuid::new(0x0d1c_0011, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xd1]);

pub const STACK_SIZE: u32 = 8 * 1024;
pub const DATA_SIZE: u32 = 32 * 1024;

/// What the TA's `dltest_ta_tag` returns (the library calls it back).
pub const TAG: u32 = 0x5eed_0000;

/// p0 value in (a, b), p1 value out, p2 value out. Calls into the library
/// and reports: p1.a = `dltest_add(a, b)`, p1.b = `dltest_call_back(a)`
/// (= `TAG` + a, through the TA's own export); p2.a = the library's
/// counter read through the TA's GOT (40 + calls of `dltest_add` in this
/// instance), p2.b = 1 if the library's counter pointer (an `ABS64`
/// relocation) points at that same counter and its undefined weak
/// reference is null, else 0.
pub const CMD_RUN: u32 = 0;
