//! oxtee's socket test TA (`ta/socket-test`) and its protocol, shared with
//! the normal-world suite (`normal/xtest`, `socket.rs`): sockets through
//! the SDK's iSocket API (`oxtee_utee::socket`), kept in the instance by
//! slot number, and raw calls to the socket PTA for the hostile cases.
//! Errors come back as the command's result (origin TA).

use crate::uuid::Uuid;

/// 5e57c001-0000-4000-8000-00000000050c: multi-instance, one session each.
pub const UUID: Uuid = Uuid::new(0x5e57_c001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0x05, 0x0c]);

pub const STACK_SIZE: u32 = 16 * 1024;
pub const DATA_SIZE: u32 = 256 * 1024;

/// p0 value in (a = protocol id, b = port), p1 memref in (server address,
/// no NUL), p2 value in (a = IP version), p3 value out (a = slot, b = the
/// protocol error of a failed open).
pub const CMD_OPEN: u32 = 1;
/// p0 value in (a = slot, b = timeout ms), p1 memref in (data), p2 value
/// out (a = bytes sent).
pub const CMD_SEND: u32 = 2;
/// p0 value in (a = slot, b = timeout ms), p1 value in (a = buffer length
/// in the TA), p2 memref out (what was received, at most its size), p3
/// value out (a = length the receive reported, which is more than the
/// buffer for a truncated datagram).
pub const CMD_RECV: u32 = 3;
/// p0 value in (a = slot).
pub const CMD_CLOSE: u32 = 4;
/// p0 value in (a = slot), p1 value out (a = `error()`).
pub const CMD_ERROR: u32 = 5;
/// p0 value in (a = slot, b = command), p1 memref inout, p2 value out (a =
/// length reported).
pub const CMD_IOCTL: u32 = 6;
/// p0 value in (a = PTA command), p1 value in (a, b of the PTA's value
/// parameter 0), p2 value in (a = parameter types of the raw call,
/// `TEE_PARAM_TYPES`; memrefs get a 16-byte buffer), p3 value out (a =
/// result of the raw call): a raw invoke of the socket PTA on the
/// instance's own session.
pub const CMD_RAW: u32 = 7;
/// p0 value out (a = result of opening a second session to the socket
/// PTA, then closed).
pub const CMD_SECOND_SESSION: u32 = 8;
