//! Open sessions: a fixed table sized from the platform's limits and
//! allocated at boot, so opening a session never allocates under the lock
//! and a client that opens sessions without closing them gets
//! `TEE_ERROR_OUT_OF_MEMORY` at the limit instead of exhausting the heap.
//! Sessions TAs open to other TAs have a limit of their own within it.
//!
//! A session id names a table slot and that slot's generation, so an id is
//! never 0 and a closed session's id does not name the next session that
//! takes the slot.

use crate::pta::Pta;
use crate::user::Instance;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::AtomicBool;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_guard::SpinLock;

/// What a session is open to.
#[derive(Clone)]
pub enum Target {
    Pta(&'static dyn Pta),
    User(Arc<Instance>),
}

#[derive(Clone)]
pub struct Session {
    pub target: Target,
    pub client: Uuid,
    pub login: u32,
    /// Instance id of the TA that opened it (TA-to-TA), None for the
    /// normal world.
    pub owner: Option<u32>,
    /// GP cancellation mask of the session (masked until the TA unmasks).
    pub cancel_masked: Arc<AtomicBool>,
}

impl Session {
    pub fn new(target: Target, client: Uuid, login: u32, owner: Option<u32>) -> Session {
        Session { target, client, login, owner, cancel_masked: Arc::new(AtomicBool::new(true)) }
    }
}

/// How many sessions may exist at once.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    pub total: usize,
    /// Of those, opened by TAs.
    pub ta: usize,
}

enum Slot {
    Free,
    /// Handed out for a session being opened (not visible yet).
    Reserved,
    Open(Session),
}

struct Table {
    slots: Vec<Slot>,
    gens: Vec<u16>,
    /// Where the search for a free slot starts (round robin, so ids spread).
    cursor: usize,
    used: usize,
    ta_owned: usize,
}

/// Most slots an id can name (16 bits of index).
const MAX_SLOTS: usize = 0xffff;

fn id_of(index: usize, generation: u16) -> u32 {
    ((generation as u32) << 16) | (index as u32 + 1)
}

pub struct Sessions {
    limits: SessionLimits,
    table: SpinLock<Table>,
}

/// Session figures for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub open: usize,
    pub reserved: usize,
    /// Open or reserved sessions owned by TAs.
    pub ta_owned: usize,
}

impl Sessions {
    pub fn new(limits: SessionLimits) -> Sessions {
        let total = limits.total.min(MAX_SLOTS);
        let mut slots = Vec::with_capacity(total);
        slots.resize_with(total, || Slot::Free);
        Sessions {
            limits: SessionLimits { total, ta: limits.ta },
            table: SpinLock::new(Table { slots, gens: alloc::vec![0; total], cursor: 0, used: 0, ta_owned: 0 }),
        }
    }

    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    fn index(&self, id: u32) -> Option<(usize, u16)> {
        let i = (id & 0xffff).checked_sub(1)? as usize;
        (i < self.limits.total).then_some((i, (id >> 16) as u16))
    }

    /// An id for a session being opened by `owner` (None: the normal
    /// world): unique, but not yet a session. OUT_OF_MEMORY at the limit.
    pub fn reserve(&self, owner: Option<u32>) -> Result<Reservation<'_>, TeeResult> {
        let mut t = self.table.lock();
        if owner.is_some() && t.ta_owned >= self.limits.ta {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let n = t.slots.len();
        let start = t.cursor;
        let i = (0..n).map(|k| (start + k) % n).find(|&i| matches!(t.slots[i], Slot::Free));
        let Some(i) = i else {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        };
        t.slots[i] = Slot::Reserved;
        t.gens[i] = t.gens[i].wrapping_add(1);
        t.cursor = (i + 1) % n;
        t.used += 1;
        if owner.is_some() {
            t.ta_owned += 1;
        }
        let id = id_of(i, t.gens[i]);
        Ok(Reservation { sessions: self, id, ta: owner.is_some(), done: false })
    }

    /// Opens a session at once (nothing to run before it is visible).
    pub fn insert(&self, s: Session) -> Result<u32, TeeResult> {
        let mut r = self.reserve(s.owner)?;
        Ok(r.commit(s))
    }

    fn free_slot(&self, t: &mut Table, i: usize, ta: bool) {
        t.slots[i] = Slot::Free;
        t.used -= 1;
        if ta {
            t.ta_owned -= 1;
        }
    }

    pub fn get(&self, id: u32) -> Option<Session> {
        let (i, generation) = self.index(id)?;
        let t = self.table.lock();
        match &t.slots[i] {
            Slot::Open(s) if t.gens[i] == generation => Some(s.clone()),
            _ => None,
        }
    }

    /// Closes session `id` and hands it back (to be dropped outside the lock).
    pub fn remove(&self, id: u32) -> Option<Session> {
        let (i, generation) = self.index(id)?;
        let mut t = self.table.lock();
        if t.gens[i] != generation || !matches!(t.slots[i], Slot::Open(_)) {
            return None;
        }
        let Slot::Open(s) = core::mem::replace(&mut t.slots[i], Slot::Reserved) else { return None };
        self.free_slot(&mut t, i, s.owner.is_some());
        Some(s)
    }

    /// Closes and hands back one session TA instance `owner` opened.
    pub fn take_owned_by(&self, owner: u32) -> Option<(u32, Session)> {
        let mut t = self.table.lock();
        let i = t.slots.iter().position(|s| matches!(s, Slot::Open(s) if s.owner == Some(owner)))?;
        let id = id_of(i, t.gens[i]);
        let Slot::Open(s) = core::mem::replace(&mut t.slots[i], Slot::Reserved) else { return None };
        self.free_slot(&mut t, i, true);
        Some((id, s))
    }

    /// Runs `f` with the table's lock held (fault injection: a fault with
    /// a spin lock held).
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn with_lock_held<R>(&self, f: impl FnOnce() -> R) -> R {
        let _t = self.table.lock();
        f()
    }

    pub fn count(&self) -> usize {
        self.stats().open
    }

    pub fn stats(&self) -> SessionStats {
        let t = self.table.lock();
        let reserved = t.slots.iter().filter(|s| matches!(s, Slot::Reserved)).count();
        SessionStats { open: t.used - reserved, reserved, ta_owned: t.ta_owned }
    }
}

/// A session id handed out for an open in progress. `commit` makes it the
/// session; dropping it uncommitted (a failed open, or an abort) gives the
/// id back.
pub struct Reservation<'a> {
    sessions: &'a Sessions,
    id: u32,
    ta: bool,
    done: bool,
}

impl Reservation<'_> {
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Makes the reserved id the session `s`; returns the id.
    pub fn commit(&mut self, s: Session) -> u32 {
        if let Some((i, _)) = self.sessions.index(self.id) {
            let old = {
                let mut t = self.sessions.table.lock();
                core::mem::replace(&mut t.slots[i], Slot::Open(s))
            };
            drop(old);
        }
        self.done = true;
        self.id
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some((i, generation)) = self.sessions.index(self.id) {
            let mut t = self.sessions.table.lock();
            if t.gens[i] == generation && matches!(t.slots[i], Slot::Reserved) {
                self.sessions.free_slot(&mut t, i, self.ta);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pta::device_enum::DeviceEnum;

    static DEV: DeviceEnum = DeviceEnum;

    fn session() -> Session {
        Session::new(Target::Pta(&DEV), Uuid::NIL, 0, None)
    }

    fn sessions(total: usize, ta: usize) -> Sessions {
        Sessions::new(SessionLimits { total, ta })
    }

    #[test]
    fn a_reserved_id_is_unique_but_invisible_until_committed() {
        let s = sessions(8, 4);
        let mut r = s.reserve(None).unwrap();
        let rid = r.id();
        assert!(s.get(rid).is_none(), "a session being opened cannot be invoked or closed");
        assert!(s.remove(rid).is_none());
        let other = s.insert(session()).unwrap();
        assert_ne!(other, rid);
        r.commit(session());
        drop(r);
        assert!(s.get(rid).is_some());
        assert_eq!(s.count(), 2);
        // A given-back id is not a session either.
        let g = s.reserve(None).unwrap().id();
        assert!(s.get(g).is_none());
        assert_eq!(s.stats(), SessionStats { open: 2, reserved: 0, ta_owned: 0 });
    }

    #[test]
    fn sessions_are_taken_back_by_owner() {
        let s = sessions(8, 4);
        let a = s.insert(Session::new(Target::Pta(&DEV), Uuid::NIL, 0, Some(7))).unwrap();
        let _b = s.insert(session()).unwrap();
        assert_eq!(s.stats().ta_owned, 1);
        assert!(s.take_owned_by(8).is_none());
        assert_eq!(s.take_owned_by(7).map(|x| x.0), Some(a));
        assert!(s.take_owned_by(7).is_none());
        assert_eq!(s.stats(), SessionStats { open: 1, reserved: 0, ta_owned: 0 });
    }

    #[test]
    fn limits_are_errors_and_closing_makes_room() {
        let s = sessions(4, 2);
        let ids: Vec<u32> = (0..4).map(|_| s.insert(session()).unwrap()).collect();
        assert_eq!(s.insert(session()).err(), Some(TeeResult::ERROR_OUT_OF_MEMORY));
        assert_eq!(s.reserve(None).err(), Some(TeeResult::ERROR_OUT_OF_MEMORY));
        assert!(s.remove(ids[2]).is_some());
        let again = s.insert(session()).unwrap();
        assert_ne!(again, ids[2], "a slot's next session gets a new id");
        assert!(s.get(ids[2]).is_none(), "a closed id names nothing");
        for id in ids.iter().filter(|&&i| i != ids[2]).chain([&again]) {
            assert!(s.remove(*id).is_some());
        }
        // TA-owned sessions have their own, smaller limit.
        let owned = |o| Session::new(Target::Pta(&DEV), Uuid::NIL, 0, Some(o));
        let t1 = s.insert(owned(1)).unwrap();
        s.insert(owned(1)).unwrap();
        assert_eq!(s.insert(owned(2)).err(), Some(TeeResult::ERROR_OUT_OF_MEMORY));
        assert!(s.insert(session()).is_ok(), "the normal world still has room");
        s.remove(t1);
        assert!(s.insert(owned(2)).is_ok());
    }

    #[test]
    fn hostile_ids_name_nothing() {
        let s = sessions(4, 2);
        let id = s.insert(session()).unwrap();
        for bad in [0, u32::MAX, 5, id ^ 0x1_0000, id + 1, 0xffff] {
            assert!(s.get(bad).is_none(), "{bad:#x}");
            assert!(s.remove(bad).is_none());
        }
        assert!(s.get(id).is_some());
    }
}
