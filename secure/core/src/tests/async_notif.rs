//! Asynchronous notifications end to end against the fake normal world:
//! the SMC ABI's capability, fast calls and yielding commands, and the
//! test PTA's top half (called from its "interrupt") and bottom half
//! (run by DO_BOTTOM_HALF: a sleeping lock, a sleep and a GET_TIME RPC).

use super::*;
use crate::async_notif::Doorbell;
use crate::pta::async_notif_test::{AsyncNotifTestPta, SecureEvent};
use core::sync::atomic::{AtomicU32, Ordering};
use oxtee_abi::async_notif_pta as an;
use oxtee_abi::optee_smc::SecCaps;
use std::sync::OnceLock;

#[derive(Default)]
struct Bell(AtomicU32);

impl Doorbell for Bell {
    fn ring(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The "secure interrupt": its handler runs at once, on this thread.
#[derive(Default)]
struct Irq(OnceLock<(&'static AsyncNotifTestPta, &'static Os)>);

impl SecureEvent for Irq {
    fn raise(&self) {
        if let Some((pta, os)) = self.0.get() {
            pta.top_half(os);
        }
    }
}

struct NotifWorld {
    w: World,
    bell: &'static Bell,
}

fn notif_world() -> NotifWorld {
    let ram: &'static FakeRam = Box::leak(Box::new(FakeRam::new(RAM, RAM_SIZE)));
    let irq: &'static Irq = Box::leak(Box::default());
    let pta: &'static AsyncNotifTestPta = Box::leak(Box::new(AsyncNotifTestPta::new(irq)));
    let bell: &'static Bell = Box::leak(Box::default());
    let os = os_with(ram, LIMITS, vec![pta]).with_async_notif(bell, vec![pta]);
    let os: &'static Os = Box::leak(Box::new(os));
    irq.0.set((pta, os)).ok().unwrap();
    NotifWorld { w: World { os, ram }, bell }
}

fn fast(os: &Os, id: u32, a1: u64) -> [u64; 8] {
    let mut a = [id as u64, a1, 0, 0, 0, 0, 0, 0];
    os.fast_call(&mut a);
    a
}

fn status(w: &World, env: &mut FakeEnv, s: u32) -> [(u64, u64); 4] {
    let out = (0..4).map(|_| value(Dir::Out, 0, 0)).collect();
    let r = w.invoke(env, s, an::CMD_STATUS, out);
    assert_eq!(r.hdr.ret, 0);
    core::array::from_fn(|i| match r.params[i] {
        Param::Value { a, b, .. } => (a, b),
        _ => panic!(),
    })
}

fn yielding(w: &World, env: &mut FakeEnv, cmd: u32) -> (u64, u32) {
    let (a0, out) = w.call_at(env, smc::CALL_WITH_ARG, ARG, &Message::new(cmd, vec![]));
    (a0, out.hdr.ret)
}

#[test]
fn capability_fast_calls_and_a_bottom_half_that_sleeps_and_rpcs() {
    let NotifWorld { w, bell } = notif_world();
    let mut env = FakeEnv::new(w.ram);
    let caps = fast(w.os, smc::EXCHANGE_CAPABILITIES, 0);
    assert!(SecCaps(caps[1]).contains(SecCaps::ASYNC_NOTIF));
    assert_eq!(caps[2], crate::sync::MAX_KEY as u64 + 1);
    let s = w.open(&mut env, an::UUID).hdr.session;
    let raise =
        |env: &mut FakeEnv, n| w.invoke(env, s, an::CMD_RAISE, vec![value(Dir::In, n, 0), value(Dir::Out, 0, 0)]);
    // Not enabled yet: no event can be delivered.
    assert_eq!(raise(&mut env, 1).hdr.ret, TeeResult::ERROR_BAD_STATE.0);
    assert_eq!(yielding(&w, &mut env, m::CMD_DO_BOTTOM_HALF), (smc::RETURN_OK as u64, 0));
    assert_eq!(status(&w, &mut env, s)[1], (0, 0));
    assert_eq!(fast(w.os, smc::ENABLE_ASYNC_NOTIF, 0)[0], smc::RETURN_OK as u64);
    assert_eq!(raise(&mut env, 0).hdr.ret, TeeResult::ERROR_BAD_PARAMETERS.0);
    assert_eq!(raise(&mut env, an::MAX_RAISE as u64 + 1).hdr.ret, TeeResult::ERROR_BAD_PARAMETERS.0);
    let r = raise(&mut env, 3);
    assert_eq!((r.hdr.ret, &r.params[1]), (0, &value(Dir::Out, 3, 0)));
    assert_eq!(bell.0.load(Ordering::Relaxed), 3);
    // One value, coalesced: do a bottom half.
    let g = fast(w.os, smc::GET_ASYNC_NOTIF_VALUE, 0);
    assert_eq!((g[0], g[1], g[2]), (smc::RETURN_OK as u64, 0, smc::ASYNC_NOTIF_VALID as u64));
    let g = fast(w.os, smc::GET_ASYNC_NOTIF_VALUE, 0);
    assert_eq!((g[0], g[2]), (smc::RETURN_OK as u64, 0));
    let before = env.nw.lock().cmds.len();
    assert_eq!(yielding(&w, &mut env, m::CMD_DO_BOTTOM_HALF), (smc::RETURN_OK as u64, 0));
    assert!(env.nw.lock().cmds[before..].contains(&rpc::CMD_GET_TIME), "the bottom half asked for the time");
    let st = status(&w, &mut env, s);
    assert_eq!(st[0], (3, 3), "events, top halves");
    assert_eq!(st[1], (1, 1), "bottom halves, RPCs");
    assert_eq!(st[2], (1, 0), "sleeps, lock sleeps");
    assert_eq!(st[3], (1234, 0), "time seen, stops");
    // A bottom half with nothing owed does nothing.
    yielding(&w, &mut env, m::CMD_DO_BOTTOM_HALF);
    assert_eq!(status(&w, &mut env, s)[1], (1, 1));
    assert_eq!(w.os.async_notif.stats().bottom_halves, 2);
    // STOP: the drivers hear it once; afterwards nothing is raised or run.
    assert_eq!(yielding(&w, &mut env, m::CMD_STOP_ASYNC_NOTIF), (smc::RETURN_OK as u64, 0));
    assert_eq!(yielding(&w, &mut env, m::CMD_STOP_ASYNC_NOTIF), (smc::RETURN_OK as u64, 0));
    assert_eq!(status(&w, &mut env, s)[3].1, 1);
    assert_eq!(raise(&mut env, 1).hdr.ret, TeeResult::ERROR_BAD_STATE.0);
    assert_eq!(bell.0.load(Ordering::Relaxed), 3);
    // Enabled again, it works again.
    assert_eq!(fast(w.os, smc::ENABLE_ASYNC_NOTIF, 0)[0], smc::RETURN_OK as u64);
    assert_eq!(raise(&mut env, 1).hdr.ret, 0);
    yielding(&w, &mut env, m::CMD_DO_BOTTOM_HALF);
    assert_eq!(status(&w, &mut env, s)[1], (2, 2));
    // Sleeping-lock keys stay clear of the notification values.
    assert_eq!(w.os.notif.alloc(), Some(crate::async_notif::VALUE_MAX + 1));
}

#[test]
fn without_a_doorbell_the_calls_are_unknown() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let caps = fast(w.os, smc::EXCHANGE_CAPABILITIES, 0);
    assert!(!SecCaps(caps[1]).contains(SecCaps::ASYNC_NOTIF));
    assert_eq!(caps[2], 0);
    assert_eq!(fast(w.os, smc::ENABLE_ASYNC_NOTIF, 0)[0], smc::RETURN_UNKNOWN_FUNCTION as u64);
    assert_eq!(fast(w.os, smc::GET_ASYNC_NOTIF_VALUE, 0)[0], smc::RETURN_UNKNOWN_FUNCTION as u64);
    assert_eq!(yielding(&w, &mut env, m::CMD_DO_BOTTOM_HALF).0, smc::RETURN_EBADCMD as u64);
    assert_eq!(yielding(&w, &mut env, m::CMD_STOP_ASYNC_NOTIF).0, smc::RETURN_EBADCMD as u64);
}
