//! Time (GP `TEE_GetSystemTime`, `TEE_GetREETime`, TA persistent time,
//! `TEE_Wait`), in Teaclave's `Time` shape.

use crate::error::{Error, Result};
use core::fmt;
use oxtee_abi::ta::{TeeTime, UTEE_TIME_CAT_REE, UTEE_TIME_CAT_SYSTEM, UTEE_TIME_CAT_TA_PERSISTENT};
use oxtee_abi::tee::TeeResult;

/// A point in time: seconds and milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    pub seconds: u32,
    pub millis: u32,
}

impl Time {
    /// Zero.
    pub fn new() -> Time {
        Time::default()
    }

    fn get(&mut self, cat: u64) -> core::result::Result<(), TeeResult> {
        let t = crate::sys::get_time(cat)?;
        *self = Time { seconds: t.seconds, millis: t.millis };
        Ok(())
    }

    /// System time: monotonic, arbitrary origin (GP: panics if the TEE
    /// cannot tell).
    pub fn system_time(&mut self) {
        if let Err(e) = self.get(UTEE_TIME_CAT_SYSTEM) {
            crate::tee_panic(e.0);
        }
    }

    /// The normal world's wall-clock time (seconds since 1970).
    pub fn ree_time(&mut self) {
        if let Err(e) = self.get(UTEE_TIME_CAT_REE) {
            crate::tee_panic(e.0);
        }
    }

    /// This TA's persistent time (`TimeNotSet` until set).
    pub fn ta_time(&mut self) -> Result<()> {
        self.get(UTEE_TIME_CAT_TA_PERSISTENT).map_err(Error::from)
    }

    /// Sets this TA's persistent time to `self`.
    pub fn set_ta_time(&self) -> Result<()> {
        crate::sys::set_ta_time(&TeeTime { seconds: self.seconds, millis: self.millis }).map_err(Error::from)
    }

    /// Sleeps `timeout` milliseconds; `Err(Cancel)` if the request was
    /// cancelled meanwhile (and cancellation is unmasked).
    pub fn wait(timeout: u32) -> Result<()> {
        match crate::sys::wait(timeout) {
            TeeResult::SUCCESS => Ok(()),
            TeeResult::ERROR_CANCEL => Err(Error::from(TeeResult::ERROR_CANCEL)),
            other => crate::tee_panic(other.0),
        }
    }

    /// Milliseconds since the origin.
    pub fn as_millis(&self) -> u64 {
        self.seconds as u64 * 1000 + self.millis as u64
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03} s", self.seconds, self.millis)
    }
}
