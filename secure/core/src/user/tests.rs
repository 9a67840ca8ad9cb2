//! Test doubles for user mode.

use crate::env::{UserMapping, UserMmu};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use oxtee_abi::tee::TeeResult;

/// Records address spaces as lists of mappings.
#[derive(Default)]
pub struct FakeMmu {
    next: AtomicU64,
    pub spaces: spin::Mutex<BTreeMap<u64, Vec<UserMapping>>>,
}

impl FakeMmu {
    pub fn leak() -> &'static FakeMmu {
        Box::leak(Box::default())
    }
}

impl UserMmu for FakeMmu {
    fn create(&self, maps: &[UserMapping]) -> Result<u64, TeeResult> {
        let h = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.spaces.lock().insert(h, maps.to_vec());
        Ok(h)
    }

    fn map(&self, handle: u64, m: &UserMapping) -> Result<(), TeeResult> {
        self.spaces.lock().get_mut(&handle).ok_or(TeeResult::ERROR_BAD_STATE)?.push(*m);
        Ok(())
    }

    fn unmap(&self, handle: u64, va: u64, len: u64) {
        if let Some(s) = self.spaces.lock().get_mut(&handle) {
            s.retain(|m| !(m.va == va && m.len == len));
        }
    }

    fn destroy(&self, handle: u64) {
        self.spaces.lock().remove(&handle);
    }

    fn sync_code(&self, _pa: u64, _len: u64) {}
}
