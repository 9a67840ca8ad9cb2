//! The asynchronous-notification test pseudo-TA (test build only): a
//! driver with a top half and a bottom half, fed by a secure interrupt it
//! raises on demand. The top half (interrupt context) counts the event and
//! asks the normal world for a bottom half; the bottom half (the normal
//! world's DO_BOTTOM_HALF call, on a trusted thread) takes a sleeping
//! lock, sleeps on the secure timer and asks the normal world for the time
//! (an RPC), counting each.

use super::{Ctx, Kind, Pta, PtaParam, expect};
use crate::Os;
use crate::async_notif::{Event, NotifDriver};
use crate::sync::{SleepGuard, SleepMutex};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use oxtee_abi::async_notif_pta as a;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

/// The platform's way to raise the test's secure interrupt; its handler
/// must call [`AsyncNotifTestPta::top_half`].
pub trait SecureEvent: Sync {
    /// Raises the interrupt (on the calling CPU).
    fn raise(&self);
}

/// How long a raised interrupt may take to reach its top half.
const TOP_HALF_WAIT_NS: u64 = 50_000_000;

pub struct AsyncNotifTestPta {
    source: &'static dyn SecureEvent,
    /// Serializes bottom halves with CMD_RAISE_LOCKED.
    lock: SleepMutex,
    /// A bottom half is owed (set by the top half).
    owed: AtomicBool,
    events: AtomicU64,
    top_halves: AtomicU64,
    /// Top halves that could not request a bottom half.
    top_refused: AtomicU64,
    bottom_halves: AtomicU64,
    rpcs: AtomicU64,
    sleeps: AtomicU64,
    lock_sleeps: AtomicU64,
    last_time: AtomicU64,
    stops: AtomicU64,
}

impl AsyncNotifTestPta {
    pub const fn new(source: &'static dyn SecureEvent) -> Self {
        AsyncNotifTestPta {
            source,
            lock: SleepMutex::new(),
            owed: AtomicBool::new(false),
            events: AtomicU64::new(0),
            top_halves: AtomicU64::new(0),
            top_refused: AtomicU64::new(0),
            bottom_halves: AtomicU64::new(0),
            rpcs: AtomicU64::new(0),
            sleeps: AtomicU64::new(0),
            lock_sleeps: AtomicU64::new(0),
            last_time: AtomicU64::new(0),
            stops: AtomicU64::new(0),
        }
    }

    /// The interrupt's top half: atomics only (no allocation, no lock, no
    /// sleep, no RPC).
    pub fn top_half(&self, os: &Os) {
        self.top_halves.fetch_add(1, Ordering::AcqRel);
        self.owed.store(true, Ordering::Release);
        if os.async_notif.request_bottom_half().is_err() {
            self.top_refused.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Raises one event and waits (interrupts open) for its top half.
    fn raise_one(&self, ctx: &mut Ctx) -> bool {
        let before = self.top_halves.load(Ordering::Acquire);
        self.events.fetch_add(1, Ordering::Relaxed);
        self.source.raise();
        let deadline = ctx.env().now_ns() + TOP_HALF_WAIT_NS;
        let top = &self.top_halves;
        ctx.env().wait_until(deadline, false, &|| top.load(Ordering::Acquire) != before);
        top.load(Ordering::Acquire) != before
    }

    fn raise(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if let Err(e) = expect(params, &[Kind::ValueIn, Kind::ValueOut]) {
            return e;
        }
        let n = value_a(&params[0]);
        if n == 0 || n > a::MAX_RAISE as u64 {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        if !ctx.os.async_notif.is_started() {
            return TeeResult::ERROR_BAD_STATE;
        }
        let seen = (0..n).filter(|_| self.raise_one(ctx)).count() as u64;
        set_value(&mut params[1], seen, 0);
        TeeResult::SUCCESS
    }

    fn raise_locked(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if let Err(e) = expect(params, &[Kind::ValueIn, Kind::ValueOut]) {
            return e;
        }
        let ms = value_a(&params[0]);
        if ms > a::MAX_HOLD_MS as u64 {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        if !ctx.os.async_notif.is_started() {
            return TeeResult::ERROR_BAD_STATE;
        }
        let tc = ctx.rpc.t;
        crate::hold!(guard = None, in &tc.ledger, or TeeResult::ERROR_OUT_OF_MEMORY);
        if let Err(e) = self.lock.lock(&mut ctx.rpc, &ctx.os.notif) {
            return e;
        }
        *guard.as_mut().get() = Some(SleepGuard::held(&self.lock, tc));
        let seen = self.raise_one(ctx) as u64;
        // Hold the lock while the normal world runs the bottom half, which
        // must sleep for it.
        let deadline = ctx.env().now_ns() + ms * 1_000_000;
        ctx.env().wait_until(deadline, true, &|| false);
        if let Some(mut g) = guard.as_mut().get().take()
            && let Err(e) = g.unlock(&mut ctx.rpc)
        {
            return e;
        }
        set_value(&mut params[1], seen, 0);
        TeeResult::SUCCESS
    }

    fn status(&self, params: &mut [PtaParam]) -> TeeResult {
        if let Err(e) = expect(params, &[Kind::ValueOut, Kind::ValueOut, Kind::ValueOut, Kind::ValueOut]) {
            return e;
        }
        let l = |c: &AtomicU64| c.load(Ordering::Acquire);
        set_value(&mut params[0], l(&self.events), l(&self.top_halves));
        set_value(&mut params[1], l(&self.bottom_halves), l(&self.rpcs));
        set_value(&mut params[2], l(&self.sleeps), l(&self.lock_sleeps));
        set_value(&mut params[3], l(&self.last_time), l(&self.stops));
        TeeResult::SUCCESS
    }

    /// The bottom half: a sleeping lock, a timed sleep and an RPC.
    fn bottom_half(&self, ctx: &mut Ctx) -> Result<(), TeeResult> {
        self.bottom_halves.fetch_add(1, Ordering::AcqRel);
        let tc = ctx.rpc.t;
        crate::hold!(guard = None, in &tc.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let waits = self.lock.lock(&mut ctx.rpc, &ctx.os.notif)?;
        self.lock_sleeps.fetch_add(waits as u64, Ordering::AcqRel);
        *guard.as_mut().get() = Some(SleepGuard::held(&self.lock, tc));
        // wait_until is true once the deadline has passed.
        let deadline = ctx.env().now_ns() + a::BOTTOM_HALF_SLEEP_US * 1000;
        if ctx.env().wait_until(deadline, true, &|| false) {
            self.sleeps.fetch_add(1, Ordering::AcqRel);
        }
        if let Ok((secs, _)) = ctx.rpc.get_time() {
            self.last_time.store(secs, Ordering::Release);
            self.rpcs.fetch_add(1, Ordering::AcqRel);
        }
        match guard.as_mut().get().take() {
            Some(mut g) => g.unlock(&mut ctx.rpc),
            None => Ok(()),
        }
    }
}

impl NotifDriver for AsyncNotifTestPta {
    fn yielding(&self, ctx: &mut Ctx, ev: Event) {
        match ev {
            Event::BottomHalf => {
                // A failed bottom half (no memory, the normal world refused
                // an RPC) shows in the counts it did not reach.
                if self.owed.swap(false, Ordering::AcqRel) {
                    let _ = self.bottom_half(ctx);
                }
            }
            Event::Stopped => {
                self.stops.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Pta for AsyncNotifTestPta {
    fn uuid(&self) -> Uuid {
        a::UUID
    }

    fn name(&self) -> &'static str {
        "async_notif_test.pta"
    }

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        match cmd {
            a::CMD_RAISE => self.raise(ctx, params),
            a::CMD_STATUS => self.status(params),
            a::CMD_RAISE_LOCKED => self.raise_locked(ctx, params),
            _ => TeeResult::ERROR_NOT_SUPPORTED,
        }
    }
}

fn value_a(p: &PtaParam) -> u64 {
    match p {
        PtaParam::Value { a, .. } => *a,
        _ => 0,
    }
}

fn set_value(p: &mut PtaParam, va: u64, vb: u64) {
    if let PtaParam::Value { a, b, .. } = p {
        (*a, *b) = (va, vb);
    }
}
