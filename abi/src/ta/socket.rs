//! GP TEE Sockets (the iSocket, TCP and UDP interfaces) as upstream OP-TEE
//! provides them to TAs: the socket pseudo-TA's UUID and commands, and the
//! iSocket numbers (protocol ids, error codes, ioctl commands, IP
//! versions). The PTA forwards each command to tee-supplicant as
//! `OPTEE_RPC_CMD_SOCKET` (`crate::rpc::SOCKET_*`).

use crate::uuid::Uuid;

/// 3b996a7d-2c2b-4a49-a896-e1fb5766d2f4: the socket pseudo-TA. Only TAs
/// may open it; each TA instance's sockets are numbered by the supplicant.
pub const PTA_SOCKET: Uuid = Uuid::new(0x3b99_6a7d, 0x2c2b, 0x4a49, [0xa8, 0x96, 0xe1, 0xfb, 0x57, 0x66, 0xd2, 0xf4]);

/// p0 value in (a = IP version, b = port), p1 memref in (server address,
/// NUL-terminated), p2 value in (a = protocol id), p3 value out (a =
/// socket handle).
pub const PTA_SOCKET_OPEN: u32 = 1;
/// p0 value in (a = handle).
pub const PTA_SOCKET_CLOSE: u32 = 2;
/// p0 value in (a = handle, b = timeout), p1 memref in (data), p2 value
/// out (a = bytes sent).
pub const PTA_SOCKET_SEND: u32 = 3;
/// p0 value in (a = handle, b = timeout), p1 memref out (its size becomes
/// the bytes received; a truncated datagram reports more than it holds).
pub const PTA_SOCKET_RECV: u32 = 4;
/// p0 value in (a = handle, b = command), p1 memref inout.
pub const PTA_SOCKET_IOCTL: u32 = 5;

/// Timeout (ms) meaning: do not wait.
pub const TIMEOUT_NONBLOCKING: u32 = 0;
/// Timeout meaning: wait as long as it takes (`TEE_TIMEOUT_INFINITE`).
pub const TIMEOUT_BLOCKING: u32 = 0xFFFF_FFFF;

/// `TEE_ISOCKET_VERSION`.
pub const ISOCKET_VERSION: u32 = 0x0100_0000;
pub const PROTOCOLID_TCP: u32 = 0x65;
pub const PROTOCOLID_UDP: u32 = 0x66;

/// `TEE_IP_VERSION_DC` (either), `_4`, `_6`.
pub const IP_VERSION_DC: u32 = 0;
pub const IP_VERSION_4: u32 = 1;
pub const IP_VERSION_6: u32 = 2;

pub const ERROR_PROTOCOL: u32 = 0xF100_7001;
pub const ERROR_REMOTE_CLOSED: u32 = 0xF100_7002;
pub const ERROR_TIMEOUT: u32 = 0xF100_7003;
pub const ERROR_OUT_OF_RESOURCES: u32 = 0xF100_7004;
pub const ERROR_LARGE_BUFFER: u32 = 0xF100_7005;
pub const WARNING_PROTOCOL: u32 = 0xF100_7006;
pub const ERROR_HOSTNAME: u32 = 0xF100_7007;
pub const TCP_WARNING_UNKNOWN_OUT_OF_BAND: u32 = 0xF101_0002;
pub const UDP_WARNING_UNKNOWN_OUT_OF_BAND: u32 = 0xF102_0002;

/// TCP ioctls: the buffer is the new receive / send buffer size (an int).
pub const TCP_SET_RECVBUF: u32 = 0x65f0_0000;
pub const TCP_SET_SENDBUF: u32 = 0x65f0_0001;
/// UDP ioctls: the buffer is the new server address (NUL-terminated) /
/// port (a u16).
pub const UDP_CHANGEADDR: u32 = 0x6600_0001;
pub const UDP_CHANGEPORT: u32 = 0x6600_0002;

/// The protocol an ioctl command belongs to (its top byte; 0: none, a
/// no-op).
pub const fn ioctl_protocol(cmd: u32) -> u32 {
    cmd >> 24
}
