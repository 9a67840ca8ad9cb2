//! A recording MMU: each address space is the list of its mappings, so
//! the simulator can translate a TA address to the host address behind it
//! (secure pages: the core's `PageBuf`s, whose physical address is their
//! host address; normal-world pages: host memory, identity).

use crate::ta::Runner;
use oxtee_abi::addr::{NsPhys, SecPhys, UserVirt};
use oxtee_abi::tee::TeeResult;
use oxtee_core::env::{UserMapping, UserMmu, UserPerm, UserTables};
use std::cell::RefCell;

#[derive(Default)]
pub struct SimMmu;

#[derive(Clone, Copy, Debug)]
struct Map {
    va: u64,
    pa: u64,
    len: u64,
    perm: UserPerm,
}

/// One simulated address space, and the thread (or mock) that runs in it.
pub struct SimTables {
    maps: Vec<Map>,
    pub(crate) runner: RefCell<Option<Runner>>,
}

impl SimTables {
    /// The host address of user range [va, va+len), if it is mapped
    /// (with write access if `write`) by host-contiguous pieces.
    pub fn host(&self, va: u64, len: u64, write: bool) -> Option<u64> {
        let end = va.checked_add(len)?;
        let mut at = va;
        let mut start = None;
        let mut expect = 0;
        loop {
            let m = self.maps.iter().find(|m| at >= m.va && at - m.va < m.len)?;
            if write && m.perm != UserPerm::ReadWrite {
                return None;
            }
            let host = m.pa + (at - m.va);
            if start.is_some() && host != expect {
                return None;
            }
            let s = *start.get_or_insert(host);
            let piece_end = m.va + m.len;
            if end <= piece_end {
                return Some(s);
            }
            expect = host + (piece_end - at);
            at = piece_end;
        }
    }

    /// The host address of the first page of code of the space (a fake
    /// TA's code page holds its UUID).
    pub fn code(&self) -> Option<u64> {
        self.maps.iter().find(|m| m.perm == UserPerm::ReadExec).map(|m| m.pa)
    }
}

impl UserTables for SimTables {
    fn map(&mut self, m: &UserMapping) -> Result<(), TeeResult> {
        self.maps.push(Map { va: m.va.get(), pa: m.pa.get(), len: m.len, perm: m.perm });
        Ok(())
    }

    fn map_ns(&mut self, va: UserVirt, pa: NsPhys, len: u64, perm: UserPerm) -> Result<(), TeeResult> {
        if perm == UserPerm::ReadExec {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.maps.push(Map { va: va.get(), pa: pa.get(), len, perm });
        Ok(())
    }

    fn unmap(&mut self, va: UserVirt, len: u64) {
        let (start, end) = (va.get(), va.get() + len);
        self.maps.retain(|m| !(m.va >= start && m.va + m.len <= end));
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

impl UserMmu for SimMmu {
    fn create(&self, maps: &[UserMapping]) -> Result<Box<dyn UserTables>, TeeResult> {
        let maps = maps.iter().map(|m| Map { va: m.va.get(), pa: m.pa.get(), len: m.len, perm: m.perm }).collect();
        Ok(Box::new(SimTables { maps, runner: RefCell::new(None) }))
    }

    fn sync_code(&self, _pa: SecPhys, _len: u64) {}
}
