//! Asynchronous notifications: how the secure world tells the normal world
//! that something happened without waiting for a call, independent of the
//! transport that carries them.
//!
//! A driver's top half (secure interrupt context: no allocation, no
//! sleeping, no RPC, no spin lock another context may hold) records a
//! notification value with [`AsyncNotif::send`], which rings the
//! platform's [`Doorbell`] (the SMC transport: a non-secure interrupt named
//! in the normal world's device tree; FF-A: an FF-A notification). The
//! normal world then fetches the pending values (`GET_ASYNC_NOTIF_VALUE`);
//! value 0 asks it for a bottom half, a yielding call (`DO_BOTTOM_HALF`)
//! that runs every registered [`NotifDriver`] on a trusted thread, where
//! it may take sleeping locks, sleep and make RPCs. Other values (1..=
//! [`VALUE_MAX`]) wake a normal-world waiter on that notification key.
//!
//! Values share the key space of the synchronous notifications that
//! sleeping locks use (`sync::NotifKeys`), which start above
//! [`VALUE_MAX`], as OP-TEE's do.

use crate::pta::Ctx;
use crate::sync::{SleepGuard, SleepMutex};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::TeeResult;

/// Largest value `send` accepts (OP-TEE's `NOTIF_ASYNC_VALUE_MAX`).
pub const VALUE_MAX: u32 = 63;
/// The value that asks the normal world for a bottom half.
pub const VALUE_DO_BOTTOM_HALF: u32 = smc::ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF;

/// How the platform tells the normal world that values are pending. Rung
/// from interrupt context: it must not allocate, sleep or block.
pub trait Doorbell: Sync {
    fn ring(&self);
}

/// What a yielding delivery is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The normal world's DO_BOTTOM_HALF call.
    BottomHalf,
    /// STOP_ASYNC_NOTIF: the normal world stops serving notifications (its
    /// driver is going away); no bottom half comes until it enables them
    /// again.
    Stopped,
}

/// A driver with work to do in bottom halves.
pub trait NotifDriver: Sync {
    /// The normal world enabled notifications (fast-call context: atomic).
    fn started(&self) {}
    /// A yielding delivery, on a trusted thread.
    fn yielding(&self, ctx: &mut Ctx, ev: Event);
}

/// Why a value was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The platform has no doorbell.
    Unavailable,
    /// The normal world has not enabled notifications (or stopped them).
    NotStarted,
    /// Above [`VALUE_MAX`].
    BadValue,
}

impl From<SendError> for TeeResult {
    fn from(e: SendError) -> TeeResult {
        match e {
            SendError::Unavailable => TeeResult::ERROR_NOT_SUPPORTED,
            SendError::NotStarted => TeeResult::ERROR_BAD_STATE,
            SendError::BadValue => TeeResult::ERROR_BAD_PARAMETERS,
        }
    }
}

/// Counts since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifStats {
    /// Doorbell rings.
    pub rung: u64,
    /// Values the normal world fetched.
    pub fetched: u64,
    /// DO_BOTTOM_HALF calls that ran the drivers.
    pub bottom_halves: u64,
    /// STOP_ASYNC_NOTIF calls that stopped notifications.
    pub stops: u64,
}

pub struct AsyncNotif {
    doorbell: Option<&'static dyn Doorbell>,
    drivers: Vec<&'static dyn NotifDriver>,
    started: AtomicBool,
    /// Bit n: value n is pending.
    pending: AtomicU64,
    /// Serializes yielding deliveries (a hostile normal world may issue
    /// them on several threads at once).
    serial: SleepMutex,
    rung: AtomicU64,
    fetched: AtomicU64,
    bottom_halves: AtomicU64,
    stops: AtomicU64,
}

impl Default for AsyncNotif {
    fn default() -> Self {
        Self::new(None, Vec::new())
    }
}

impl AsyncNotif {
    /// Notifications through `doorbell` (None: the platform has none and
    /// the OS does not offer them), with bottom-half work for `drivers`.
    pub fn new(doorbell: Option<&'static dyn Doorbell>, drivers: Vec<&'static dyn NotifDriver>) -> Self {
        AsyncNotif {
            doorbell,
            drivers,
            started: AtomicBool::new(false),
            pending: AtomicU64::new(0),
            serial: SleepMutex::new(),
            rung: AtomicU64::new(0),
            fetched: AtomicU64::new(0),
            bottom_halves: AtomicU64::new(0),
            stops: AtomicU64::new(0),
        }
    }

    /// The platform can deliver notifications.
    pub fn available(&self) -> bool {
        self.doorbell.is_some()
    }

    /// The normal world has enabled them (and not stopped them since).
    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    /// ENABLE_ASYNC_NOTIF. False if the platform cannot deliver them.
    pub fn enable(&self) -> bool {
        if !self.available() {
            return false;
        }
        if !self.started.swap(true, Ordering::AcqRel) {
            for d in &self.drivers {
                d.started();
            }
        }
        true
    }

    /// The top half's call: records `value` and rings the doorbell. Safe
    /// in interrupt context (atomics only).
    pub fn send(&self, value: u32) -> Result<(), SendError> {
        let Some(bell) = self.doorbell else {
            return Err(SendError::Unavailable);
        };
        if value > VALUE_MAX {
            return Err(SendError::BadValue);
        }
        if !self.is_started() {
            return Err(SendError::NotStarted);
        }
        self.pending.fetch_or(1 << value, Ordering::AcqRel);
        self.rung.fetch_add(1, Ordering::Relaxed);
        bell.ring();
        Ok(())
    }

    /// Asks the normal world for a bottom half.
    pub fn request_bottom_half(&self) -> Result<(), SendError> {
        self.send(VALUE_DO_BOTTOM_HALF)
    }

    /// GET_ASYNC_NOTIF_VALUE: takes the lowest pending value; returns it
    /// (if any) and whether more are pending.
    pub fn take_value(&self) -> (Option<u32>, bool) {
        let mut cur = self.pending.load(Ordering::Acquire);
        loop {
            if cur == 0 {
                return (None, false);
            }
            let v = cur.trailing_zeros();
            let rest = cur & !(1 << v);
            match self.pending.compare_exchange_weak(cur, rest, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.fetched.fetch_add(1, Ordering::Relaxed);
                    return (Some(v), rest != 0);
                }
                Err(now) => cur = now,
            }
        }
    }

    /// Answers GET_ASYNC_NOTIF_VALUE in a0..a2.
    pub fn answer_get_value(&self, a: &mut [u64; 8]) {
        let (value, more) = self.take_value();
        a[0] = smc::RETURN_OK as u64;
        a[1] = value.unwrap_or(0) as u64;
        a[2] = (if value.is_some() { smc::ASYNC_NOTIF_VALID } else { 0 }
            | if more { smc::ASYNC_NOTIF_PENDING } else { 0 }) as u64;
    }

    /// A yielding delivery (DO_BOTTOM_HALF, STOP_ASYNC_NOTIF) on the
    /// calling trusted thread. Nothing runs unless notifications are
    /// started, as in OP-TEE; the call itself succeeds either way.
    pub(crate) fn deliver(&self, ctx: &mut Ctx, ev: Event) -> Result<(), TeeResult> {
        let t = ctx.rpc.t;
        crate::hold!(guard = None, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        *guard.as_mut().get() = Some(SleepGuard::lock(&self.serial, &mut ctx.rpc, &ctx.os.notif)?);
        if self.is_started() {
            match ev {
                Event::Stopped => {
                    self.started.store(false, Ordering::Release);
                    self.stops.fetch_add(1, Ordering::Relaxed);
                }
                Event::BottomHalf => {
                    self.bottom_halves.fetch_add(1, Ordering::Relaxed);
                }
            }
            for d in &self.drivers {
                d.yielding(ctx, ev);
            }
        }
        match guard.as_mut().get().take() {
            Some(mut g) => g.unlock(&mut ctx.rpc),
            None => Ok(()),
        }
    }

    pub fn stats(&self) -> NotifStats {
        NotifStats {
            rung: self.rung.load(Ordering::Relaxed),
            fetched: self.fetched.load(Ordering::Relaxed),
            bottom_halves: self.bottom_halves.load(Ordering::Relaxed),
            stops: self.stops.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::AtomicU32;

    struct Bell(AtomicU32);
    impl Doorbell for Bell {
        fn ring(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn values_are_recorded_rung_and_fetched_lowest_first() {
        let bell: &'static Bell = alloc::boxed::Box::leak(alloc::boxed::Box::new(Bell(AtomicU32::new(0))));
        let n = AsyncNotif::new(Some(bell), Vec::new());
        assert!(n.available() && !n.is_started());
        // Nothing is sent before the normal world enables notifications.
        assert_eq!(n.request_bottom_half(), Err(SendError::NotStarted));
        assert_eq!(bell.0.load(Ordering::Relaxed), 0);
        assert!(n.enable());
        assert_eq!(n.send(VALUE_MAX + 1), Err(SendError::BadValue));
        assert_eq!(n.send(VALUE_MAX), Ok(()));
        assert_eq!(n.send(5), Ok(()));
        assert_eq!(n.request_bottom_half(), Ok(()));
        // Sending a pending value again coalesces.
        assert_eq!(n.send(5), Ok(()));
        assert_eq!(bell.0.load(Ordering::Relaxed), 4);
        let mut a = [smc::GET_ASYNC_NOTIF_VALUE as u64, 0, 0, 0, 0, 0, 0, 0];
        let mut got = Vec::new();
        loop {
            n.answer_get_value(&mut a);
            assert_eq!(a[0], smc::RETURN_OK as u64);
            if a[2] & smc::ASYNC_NOTIF_VALID as u64 == 0 {
                assert_eq!(a[2], 0);
                break;
            }
            got.push((a[1], a[2] & smc::ASYNC_NOTIF_PENDING as u64 != 0));
        }
        assert_eq!(got, [(0, true), (5, true), (VALUE_MAX as u64, false)]);
        assert_eq!(n.stats().fetched, 3);
    }

    #[test]
    fn without_a_doorbell_nothing_is_offered() {
        let n = AsyncNotif::default();
        assert!(!n.available());
        assert!(!n.enable());
        assert_eq!(n.request_bottom_half(), Err(SendError::Unavailable));
        assert_eq!(n.take_value(), (None, false));
    }
}
