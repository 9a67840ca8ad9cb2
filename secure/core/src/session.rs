//! Open sessions and the calls running on them (for CANCEL).

use crate::pta::Pta;
use crate::user::Instance;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use oxtee_abi::uuid::Uuid;

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

struct Running {
    session: u32,
    flag: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Sessions {
    next: AtomicU32,
    map: spin::Mutex<BTreeMap<u32, Session>>,
    /// Ids handed out for sessions still being opened (not visible).
    reserved: spin::Mutex<alloc::collections::BTreeSet<u32>>,
    running: spin::Mutex<Vec<Running>>,
}

impl Sessions {
    pub fn insert(&self, s: Session) -> u32 {
        let id = self.reserve();
        self.commit(id, s);
        id
    }

    /// An id for a session being opened: unique, but not yet a session.
    pub fn reserve(&self) -> u32 {
        let map = self.map.lock();
        let mut reserved = self.reserved.lock();
        loop {
            // Ids are never 0 and not reused while open.
            let id = self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if id != 0 && !map.contains_key(&id) && !reserved.contains(&id) {
                reserved.insert(id);
                return id;
            }
        }
    }

    /// Makes a reserved id the session `s`.
    pub fn commit(&self, id: u32, s: Session) {
        let mut map = self.map.lock();
        self.reserved.lock().remove(&id);
        map.insert(id, s);
    }

    /// Gives a reserved id back (the open failed).
    pub fn unreserve(&self, id: u32) {
        self.reserved.lock().remove(&id);
    }

    pub fn get(&self, id: u32) -> Option<Session> {
        self.map.lock().get(&id).cloned()
    }

    /// Sessions opened by TA instance `owner`.
    pub fn owned_by(&self, owner: u32) -> Vec<u32> {
        self.map.lock().iter().filter(|(_, s)| s.owner == Some(owner)).map(|(id, _)| *id).collect()
    }

    pub fn remove(&self, id: u32) -> Option<Session> {
        self.map.lock().remove(&id)
    }

    pub fn count(&self) -> usize {
        self.map.lock().len()
    }

    /// Registers a call in flight so a CANCEL on its session can reach it.
    /// Returns its cancel flag.
    pub fn start_call(&self, session: u32) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.running.lock().push(Running { session, flag: flag.clone() });
        flag
    }

    pub fn end_call(&self, flag: &Arc<AtomicBool>) {
        self.running.lock().retain(|r| !Arc::ptr_eq(&r.flag, flag));
    }

    /// True if a running call on `session` with this flag was cancelled.
    pub fn is_cancelled(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Acquire)
    }

    /// Flags every running call on `session`.
    pub fn cancel(&self, session: u32) -> usize {
        let running = self.running.lock();
        let mut n = 0;
        for r in running.iter().filter(|r| r.session == session) {
            r.flag.store(true, Ordering::Release);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pta::device_enum::DeviceEnum;

    static DEV: DeviceEnum = DeviceEnum { devices: &[], devices_supp: &[] };

    fn session() -> Session {
        Session::new(Target::Pta(&DEV), Uuid::NIL, 0, None)
    }

    #[test]
    fn a_reserved_id_is_unique_but_invisible_until_committed() {
        let s = Sessions::default();
        let r = s.reserve();
        assert!(s.get(r).is_none(), "a session being opened cannot be invoked or closed");
        assert!(s.remove(r).is_none());
        let other = s.insert(session());
        assert_ne!(other, r);
        s.commit(r, session());
        assert!(s.get(r).is_some());
        assert_eq!(s.count(), 2);
        // A given-back id is not a session either.
        let g = s.reserve();
        s.unreserve(g);
        assert!(s.get(g).is_none());
        assert_eq!(s.count(), 2);
    }

    #[test]
    fn sessions_are_listed_by_owner() {
        let s = Sessions::default();
        let a = s.insert(Session::new(Target::Pta(&DEV), Uuid::NIL, 0, Some(7)));
        let _b = s.insert(session());
        assert_eq!(s.owned_by(7), [a]);
        assert!(s.owned_by(8).is_empty());
    }
}
