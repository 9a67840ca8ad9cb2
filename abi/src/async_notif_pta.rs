//! oxtee's asynchronous-notification test pseudo-TA (test build only): its
//! UUID and command numbers, shared by the OS and `oxtee-xtest async-notif`.
//! It raises a real secure interrupt on demand; the interrupt's top half
//! asks the normal world for a bottom half, which sleeps and makes an RPC.

use crate::uuid::Uuid;

/// 5c3b1e2a-8d4f-4a6b-b1c9-0e7d2f3a4b5c
pub const UUID: Uuid = Uuid::new(0x5c3b_1e2a, 0x8d4f, 0x4a6b, [0xb1, 0xc9, 0x0e, 0x7d, 0x2f, 0x3a, 0x4b, 0x5c]);

/// p0 value in (a = events to raise, 1..=MAX_RAISE). Each event is one
/// secure interrupt (a secure SGI to the current CPU); its top half counts
/// it and requests a bottom half. p1 value out -> (top halves seen while
/// the command ran, 0). ERROR_BAD_STATE if the normal world has not
/// enabled asynchronous notifications.
pub const CMD_RAISE: u32 = 0;
/// p0 value out -> (events raised, top halves run); p1 value out ->
/// (bottom halves run, bottom-half RPCs done); p2 value out -> (timed
/// sleeps done in bottom halves, times a bottom half slept for the lock);
/// p3 value out -> (last normal-world time seen by a bottom half: seconds,
/// STOP_ASYNC_NOTIF deliveries).
pub const CMD_STATUS: u32 = 1;
/// p0 value in (a = milliseconds): takes the lock the bottom half takes,
/// raises one event and holds the lock for that long, so the bottom half
/// has to sleep for it. p1 value out -> (top halves seen, 0).
pub const CMD_RAISE_LOCKED: u32 = 2;

/// Most events one CMD_RAISE may raise.
pub const MAX_RAISE: u32 = 64;
/// Longest CMD_RAISE_LOCKED hold, in milliseconds.
pub const MAX_HOLD_MS: u32 = 1000;
/// How long each bottom half sleeps on the secure timer, in microseconds.
pub const BOTTOM_HALF_SLEEP_US: u64 = 2000;
