//! End-to-end tests of yielding calls against a fake platform: fake
//! normal-world RAM and a fake normal world that answers RPCs the way the
//! Linux driver does.

use crate::env::{RpcReturn, ThreadEnv, UserExit, UserRegs, UserTables};
use crate::fastcall::OsConfig;
use crate::msg::{self, Dir, Message, Param};
use crate::nsmem::fake::FakeRam;
use crate::pta::device_enum::DeviceEnum;
use crate::pta::invoke_tests::InvokeTestsPta;
use crate::pta::test::TestPta;
use crate::session::SessionLimits;
use crate::shm::ShmConfig;
use crate::shm::ShmLimits;
use crate::{Limits, Os};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::addr::{NsPhys, NsRange};
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::rpc;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as t;
use oxtee_abi::uuid::{self, Uuid};

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: usize = 0x40_0000;
const POOL: (u64, u64) = (0x4020_0000, 0x10_0000);
/// Where the fake normal world puts call arguments (in the static pool).
const ARG: u64 = POOL.0;
/// Fake normal-world allocations for RPC buffers (outside the pool).
const RPC_AREA: u64 = 0x4030_0000;

#[derive(Clone, Copy)]
struct World {
    os: &'static Os,
    ram: &'static FakeRam,
}

fn pool() -> NsRange {
    NsRange::new(NsPhys::new(POOL.0), POOL.1)
}

/// Limits small enough to reach in a test.
pub(crate) const LIMITS: Limits = Limits {
    sessions: SessionLimits { total: 32, ta: 8 },
    shm: ShmLimits { buffers: 8, pages: 64 },
    instances: 4,
    param_reserve: 16 << 10,
    param_shared: 64 << 10,
};

fn os_with(ram: &'static FakeRam, limits: Limits, ptas: Vec<&'static dyn crate::pta::Pta>) -> Os {
    crate::fault::set_injector(|_| oxtee_guard::testing::freeze());
    Os::new(
        OsConfig { build_id: 1, thread_count: 4, static_shm: Some(pool()), yielding_calls: true },
        ShmConfig { static_pool: Some(pool()), ns_ram: NsRange::new(NsPhys::new(RAM), RAM_SIZE as u64) },
        limits,
        ram,
        ptas,
    )
}

fn world() -> World {
    let ram: &'static FakeRam = Box::leak(Box::new(FakeRam::new(RAM, RAM_SIZE)));
    let test: &'static TestPta = Box::leak(Box::new(TestPta::new()));
    let dev: &'static DeviceEnum = &DeviceEnum;
    let rng: &'static crate::pta::rng::RngPta = &crate::pta::rng::RngPta;
    let invoke: &'static InvokeTestsPta = Box::leak(Box::new(InvokeTestsPta::new()));
    let os = os_with(ram, LIMITS, vec![dev, rng, test, invoke]);
    World { os: Box::leak(Box::new(os)), ram }
}

fn shm_stats(w: &World) -> (usize, usize) {
    let s = w.os.shm.stats();
    (s.buffers, s.users)
}

/// A single-threaded fake normal world answering RPCs like Linux. Its
/// state is shared by clones, so a call that is aborted on one thread can
/// be finished with another handle.
#[derive(Clone)]
struct FakeEnv {
    ram: &'static FakeRam,
    nw: alloc::sync::Arc<oxtee_guard::SpinLock<FakeNw>>,
}

#[derive(Default)]
struct FakeNw {
    next_alloc: u64,
    allocs: Vec<(u64, u64)>,
    rpcs: Vec<u32>,
    pending_notif: Vec<u64>,
    /// The REE FS (OPTEE_RPC_CMD_FS) as tee-supplicant keeps it.
    files: alloc::collections::BTreeMap<alloc::string::String, Vec<u8>>,
    fds: alloc::collections::BTreeMap<u64, alloc::string::String>,
    dirs: alloc::collections::BTreeMap<u64, Vec<alloc::string::String>>,
    next_fd: u64,
    fs_cmds: Vec<u32>,
    /// Every RPC command served, in order.
    cmds: Vec<u32>,
}

impl FakeEnv {
    fn new(ram: &'static FakeRam) -> Self {
        let nw = FakeNw { next_alloc: RPC_AREA, ..Default::default() };
        FakeEnv { ram, nw: alloc::sync::Arc::new(oxtee_guard::SpinLock::new(nw)) }
    }

    fn rpcs(&self) -> Vec<u32> {
        self.nw.lock().rpcs.clone()
    }

    fn allocs(&self) -> Vec<(u64, u64)> {
        self.nw.lock().allocs.clone()
    }

    fn alloc(&mut self, size: u64) -> u64 {
        let mut nw = self.nw.lock();
        let pa = nw.next_alloc;
        nw.next_alloc += size.div_ceil(4096) * 4096;
        nw.allocs.push((pa, pa));
        pa
    }

    fn serve_cmd(&mut self, pa: u64) {
        let mut b = vec![0u8; msg::size_for(4)];
        self.ram.get(pa, &mut b).unwrap();
        let mut req = msg::parse(&b, 4).unwrap();
        req.hdr.ret = 0;
        self.nw.lock().cmds.push(req.hdr.cmd);
        match req.hdr.cmd {
            rpc::CMD_GET_TIME => req.params[0] = Param::Value { dir: Dir::Out, a: 1234, b: 5678, c: 0 },
            rpc::CMD_SHM_ALLOC => {
                let Param::Value { b: size, .. } = req.params[0] else { panic!() };
                let buf = self.alloc(size);
                req.params[0] = Param::Tmem { dir: Dir::Out, buf, size, shm_ref: buf, noncontig: false };
            }
            rpc::CMD_SHM_FREE => {
                let Param::Value { b: cookie, .. } = req.params[0] else { panic!() };
                let mut nw = self.nw.lock();
                let before = nw.allocs.len();
                nw.allocs.retain(|a| a.1 != cookie);
                assert_eq!(nw.allocs.len() + 1, before, "freed an unknown cookie");
            }
            rpc::CMD_NOTIFICATION => {
                let Param::Value { a, b, .. } = req.params[0] else { panic!() };
                let mut nw = self.nw.lock();
                if a == rpc::NOTIFICATION_SEND as u64 {
                    nw.pending_notif.push(b);
                } else {
                    // Single-threaded: a WAIT must already have its SEND.
                    let i = nw.pending_notif.iter().position(|k| *k == b).expect("WAIT would block forever");
                    nw.pending_notif.remove(i);
                }
            }
            rpc::CMD_FS => req.hdr.ret = self.serve_fs(&mut req.params),
            _ => req.hdr.ret = TeeResult::ERROR_NOT_IMPLEMENTED.0,
        }
        self.ram.put(pa, &req.encode()).unwrap();
    }

    /// A memref parameter's bytes (RMEM: the cookie is the address here).
    fn mem_of(&self, p: &Param) -> (u64, usize) {
        match *p {
            Param::Rmem { offs, size, shm_ref, .. } => (shm_ref + offs, size as usize),
            Param::Tmem { buf, size, .. } => (buf, size as usize),
            _ => panic!("FS memref expected, got {p:?}"),
        }
    }

    fn name_of(&self, p: &Param) -> alloc::string::String {
        let (pa, len) = self.mem_of(p);
        let mut b = vec![0u8; len];
        self.ram.get(pa, &mut b).unwrap();
        assert_eq!(b.last(), Some(&0), "names are NUL-terminated");
        alloc::string::String::from_utf8(b[..len - 1].to_vec()).unwrap()
    }

    fn serve_fs(&mut self, p: &mut [Param]) -> u32 {
        let Param::Value { a: op, b, c, .. } = p[0] else { panic!() };
        self.nw.lock().fs_cmds.push(op as u32);
        let not_found = TeeResult::ERROR_ITEM_NOT_FOUND.0;
        match op as u32 {
            rpc::FS_OPEN | rpc::FS_CREATE | rpc::FS_OPENDIR => {
                let name = self.name_of(&p[1]);
                let mut nw = self.nw.lock();
                nw.next_fd += 1;
                let fd = nw.next_fd;
                match op as u32 {
                    rpc::FS_OPEN if !nw.files.contains_key(&name) => return not_found,
                    rpc::FS_CREATE => {
                        nw.files.insert(name.clone(), Vec::new());
                    }
                    rpc::FS_OPENDIR => {
                        let prefix = alloc::format!("{name}/");
                        let list: Vec<_> =
                            nw.files.keys().filter_map(|k| k.strip_prefix(&prefix)).map(Into::into).collect();
                        if list.is_empty() {
                            return not_found;
                        }
                        nw.dirs.insert(fd, list);
                    }
                    _ => {}
                }
                nw.fds.insert(fd, name);
                p[2] = Param::Value { dir: Dir::Out, a: fd, b: 0, c: 0 };
                0
            }
            rpc::FS_CLOSE | rpc::FS_CLOSEDIR => {
                let mut nw = self.nw.lock();
                nw.dirs.remove(&b);
                if nw.fds.remove(&b).is_some() { 0 } else { TeeResult::ERROR_BAD_PARAMETERS.0 }
            }
            rpc::FS_READ => {
                let (pa, len) = self.mem_of(&p[1]);
                let nw = self.nw.lock();
                let f = &nw.files[&nw.fds[&b]];
                let start = (c as usize).min(f.len());
                let n = len.min(f.len() - start);
                self.ram.put(pa, &f[start..start + n]).unwrap();
                drop(nw);
                if let Param::Rmem { size, .. } = &mut p[1] {
                    *size = n as u64;
                }
                0
            }
            rpc::FS_WRITE => {
                let (pa, len) = self.mem_of(&p[1]);
                let mut data = vec![0u8; len];
                self.ram.get(pa, &mut data).unwrap();
                let mut nw = self.nw.lock();
                let name = nw.fds[&b].clone();
                let f = nw.files.get_mut(&name).unwrap();
                let end = c as usize + len;
                if f.len() < end {
                    f.resize(end, 0);
                }
                f[c as usize..end].copy_from_slice(&data);
                0
            }
            rpc::FS_TRUNCATE => {
                let mut nw = self.nw.lock();
                let name = nw.fds[&b].clone();
                nw.files.get_mut(&name).unwrap().resize(c as usize, 0);
                0
            }
            rpc::FS_REMOVE => {
                let name = self.name_of(&p[1]);
                if self.nw.lock().files.remove(&name).is_some() { 0 } else { not_found }
            }
            rpc::FS_RENAME => {
                let (old, new) = (self.name_of(&p[1]), self.name_of(&p[2]));
                let mut nw = self.nw.lock();
                if b == 0 && nw.files.contains_key(&new) {
                    return TeeResult::ERROR_ACCESS_CONFLICT.0;
                }
                match nw.files.remove(&old) {
                    Some(f) => {
                        nw.files.insert(new, f);
                        0
                    }
                    None => not_found,
                }
            }
            rpc::FS_READDIR => {
                let (pa, len) = self.mem_of(&p[1]);
                let mut nw = self.nw.lock();
                let Some(list) = nw.dirs.get_mut(&b) else { return TeeResult::ERROR_BAD_PARAMETERS.0 };
                let Some(name) = list.pop() else { return not_found };
                let mut bytes = name.into_bytes();
                bytes.push(0);
                assert!(bytes.len() <= len);
                self.ram.put(pa, &bytes).unwrap();
                drop(nw);
                if let Param::Rmem { size, .. } = &mut p[1] {
                    *size = bytes.len() as u64;
                }
                0
            }
            _ => TeeResult::ERROR_BAD_PARAMETERS.0,
        }
    }
}

impl ThreadEnv for FakeEnv {
    fn thread_id(&self) -> usize {
        0
    }

    fn rpc(&mut self, a: [u64; 4]) -> RpcReturn {
        self.nw.lock().rpcs.push(a[0] as u32);
        match a[0] as u32 {
            smc::RETURN_RPC_ALLOC => {
                let pa = self.alloc(a[1]);
                [0, pa >> 32, pa & 0xffff_ffff, 0, pa >> 32, pa & 0xffff_ffff, 0, 0]
            }
            smc::RETURN_RPC_FREE => {
                let cookie = (a[1] << 32) | a[2];
                self.nw.lock().allocs.retain(|x| x.1 != cookie);
                [0; 8]
            }
            smc::RETURN_RPC_CMD => {
                let cookie = (a[1] << 32) | a[2];
                // Cookie 0: the caller-provided RPC argument after the arg.
                let pa = if cookie == 0 { ARG + msg::size_for(6) as u64 } else { cookie };
                self.serve_cmd(pa);
                [0; 8]
            }
            other => panic!("unexpected RPC {other:#x}"),
        }
    }

    fn now_ns(&self) -> u64 {
        0
    }

    fn wait_until(&mut self, _deadline: u64, _sleep: bool, stop: &dyn Fn() -> bool) -> bool {
        !stop()
    }

    fn cpu(&self) -> usize {
        0
    }

    fn foreign_interrupts(&self) -> u64 {
        0
    }

    fn enter_user(&mut self, _tables: &dyn UserTables, regs: &mut UserRegs) -> UserExit {
        crate::user::tests::fake_cpu(regs)
    }
}

impl World {
    /// Writes `msg` at ARG and makes a yielding call of `fid` on it.
    fn call_at(&self, env: &mut FakeEnv, fid: u32, at: u64, msg: &Message) -> (u64, Message) {
        self.ram.put(at, &msg.encode()).unwrap();
        let r = self.os.serve(env, [fid as u64, at >> 32, at & 0xffff_ffff, 0, 0, 0, 0, 0]);
        let mut back = vec![0u8; msg::size_for(msg.params.len())];
        self.ram.get(at, &mut back).unwrap();
        (r[0], msg::parse(&back, msg.params.len()).unwrap())
    }

    fn call(&self, env: &mut FakeEnv, msg: &Message) -> Message {
        let (a0, out) = self.call_at(env, smc::CALL_WITH_ARG, ARG, msg);
        assert_eq!(a0, smc::RETURN_OK as u64);
        out
    }

    fn open(&self, env: &mut FakeEnv, ta: Uuid) -> Message {
        self.open_as(env, ta, m::LOGIN_PUBLIC)
    }

    fn open_as(&self, env: &mut FakeEnv, ta: Uuid, login: u32) -> Message {
        let (a, b) = ta.to_msg_value();
        let mut msg = Message::new(
            m::CMD_OPEN_SESSION,
            vec![Param::Value { dir: Dir::In, a, b, c: 0 }, Param::Value { dir: Dir::In, a: 0, b: 0, c: login as u64 }],
        );
        msg.meta = vec![true, true];
        self.call(env, &msg)
    }

    fn invoke(&self, env: &mut FakeEnv, session: u32, func: u32, params: Vec<Param>) -> Message {
        let mut msg = Message::new(m::CMD_INVOKE_COMMAND, params);
        msg.hdr.session = session;
        msg.hdr.func = func;
        self.call(env, &msg)
    }
}

fn value(dir: Dir, a: u64, b: u64) -> Param {
    Param::Value { dir, a, b, c: 0 }
}

#[test]
fn open_invoke_close_the_test_pta() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let open = w.open(&mut env, t::UUID);
    assert_eq!((open.hdr.ret, open.hdr.ret_origin), (0, Origin::TrustedApp as u32));
    let s = open.hdr.session;
    assert_ne!(s, 0);
    let r = w.invoke(&mut env, s, t::CMD_VALUES, vec![value(Dir::InOut, 5, 6), value(Dir::Out, 0, 0)]);
    assert_eq!((r.hdr.ret, r.hdr.ret_origin), (0, Origin::TrustedApp as u32));
    assert_eq!(r.params[0], Param::Value { dir: Dir::InOut, a: 6, b: 12, c: 0 });
    assert_eq!(r.params[1], Param::Value { dir: Dir::Out, a: 5 ^ 6, b: 0xc0ffee, c: 0 });
    let mut close = Message::new(m::CMD_CLOSE_SESSION, vec![]);
    close.hdr.session = s;
    assert_eq!(w.call(&mut env, &close).hdr.ret, 0);
    assert_eq!(w.call(&mut env, &close).hdr.ret, TeeResult::ERROR_ITEM_NOT_FOUND.0);
    let r = w.invoke(&mut env, s, t::CMD_NOOP, vec![]);
    assert_eq!((r.hdr.ret, r.hdr.ret_origin), (TeeResult::ERROR_BAD_PARAMETERS.0, Origin::Tee as u32));
    assert_eq!(w.os.sessions.count(), 0);
}

#[test]
fn unknown_ta_bad_meta_and_bad_params_get_gp_errors() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let r = w.open(&mut env, Uuid::NIL);
    assert_eq!((r.hdr.ret, r.hdr.ret_origin), (TeeResult::ERROR_ITEM_NOT_FOUND.0, Origin::Tee as u32));
    let mut no_meta = Message::new(m::CMD_OPEN_SESSION, vec![value(Dir::In, 0, 0), value(Dir::In, 0, 0)]);
    no_meta.meta = vec![true, false];
    assert_eq!(w.call(&mut env, &no_meta).hdr.ret, TeeResult::ERROR_BAD_PARAMETERS.0);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let r = w.invoke(&mut env, s, t::CMD_VALUES, vec![value(Dir::In, 1, 2)]);
    assert_eq!((r.hdr.ret, r.hdr.ret_origin), (TeeResult::ERROR_BAD_PARAMETERS.0, Origin::TrustedApp as u32));
    let r = w.invoke(&mut env, s, 999, vec![]);
    assert_eq!(r.hdr.ret, TeeResult::ERROR_NOT_SUPPORTED.0);
    let five = vec![value(Dir::In, 0, 0); 5];
    let r = w.invoke(&mut env, s, t::CMD_NOOP, five);
    assert_eq!((r.hdr.ret, r.hdr.ret_origin), (TeeResult::ERROR_BAD_PARAMETERS.0, Origin::Tee as u32));
    // Unknown message command: EBADCMD in a0.
    let (a0, _) = w.call_at(&mut env, smc::CALL_WITH_ARG, ARG, &Message::new(77, vec![]));
    assert_eq!(a0, smc::RETURN_EBADCMD as u64);
}

#[test]
fn memrefs_in_the_static_pool_registered_and_noncontig() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    // Contiguous TMEM in the static pool, inout: bytes come back ^ 0x5a.
    let buf = POOL.0 + 0x8000;
    w.ram.put(buf, &[1, 2, 3, 4]).unwrap();
    let tm = Param::Tmem { dir: Dir::InOut, buf, size: 4, shm_ref: 9, noncontig: false };
    let r = w.invoke(&mut env, s, t::CMD_MEMREF, vec![tm, value(Dir::Out, 0, 0)]);
    assert_eq!(r.hdr.ret, 0);
    assert_eq!(r.params[1], Param::Value { dir: Dir::Out, a: 10, b: 4, c: 0 });
    let mut got = [0u8; 4];
    w.ram.get(buf, &mut got).unwrap();
    assert_eq!(got, [1 ^ 0x5a, 2 ^ 0x5a, 3 ^ 0x5a, 4 ^ 0x5a]);
    // TMEM outside the pool is refused.
    let bad = Param::Tmem { dir: Dir::In, buf: RAM, size: 4, shm_ref: 0, noncontig: false };
    let r = w.invoke(&mut env, s, t::CMD_MEMREF, vec![bad, value(Dir::Out, 0, 0)]);
    assert_eq!((r.hdr.ret, r.hdr.ret_origin), (TeeResult::ERROR_BAD_PARAMETERS.0, Origin::Tee as u32));
    // Register two scattered pages and use them as RMEM.
    let list = RAM + 0x1000;
    w.ram.put(list, &(RAM + 0x5000u64).to_le_bytes()).unwrap();
    w.ram.put(list + 8, &(RAM + 0x3000u64).to_le_bytes()).unwrap();
    let reg = Param::Tmem { dir: Dir::Out, buf: list | 0x10, size: 5000, shm_ref: 0xabc, noncontig: true };
    assert_eq!(w.call(&mut env, &Message::new(m::CMD_REGISTER_SHM, vec![reg])).hdr.ret, 0);
    let rm = Param::Rmem { dir: Dir::Out, offs: 4000, size: 200, shm_ref: 0xabc };
    let r = w.invoke(&mut env, s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]);
    assert_eq!(r.hdr.ret, 0);
    let mut tail = [0u8; 2];
    w.ram.get(RAM + 0x5000 + 0x10 + 4000, &mut tail).unwrap();
    assert_eq!(tail, [3, 10]);
    w.ram.get(RAM + 0x3000 + (4000 + 0x10 + 200 - 4096) - 2, &mut tail).unwrap();
    assert_eq!(tail, [(198u8).wrapping_mul(7).wrapping_add(3), (199u8).wrapping_mul(7).wrapping_add(3)]);
    // Past the end: TEE_ERROR_SECURITY; unknown cookie: BAD_PARAMETERS.
    let rm = Param::Rmem { dir: Dir::In, offs: 4990, size: 11, shm_ref: 0xabc };
    let r = w.invoke(&mut env, s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]);
    assert_eq!(r.hdr.ret, TeeResult::ERROR_SECURITY.0);
    let rm = Param::Rmem { dir: Dir::In, offs: 0, size: 1, shm_ref: 0xabd };
    assert_eq!(
        w.invoke(&mut env, s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]).hdr.ret,
        TeeResult::ERROR_BAD_PARAMETERS.0
    );
    // NONCONTIG TMEM with the same page list.
    let nc = Param::Tmem { dir: Dir::In, buf: list | 0x10, size: 5000, shm_ref: 0, noncontig: true };
    assert_eq!(w.invoke(&mut env, s, t::CMD_MEMREF, vec![nc, value(Dir::Out, 0, 0)]).hdr.ret, 0);
    // Null memref: seen with size 0.
    let null = Param::Tmem { dir: Dir::Out, buf: 0, size: 64, shm_ref: 0, noncontig: false };
    let r = w.invoke(&mut env, s, t::CMD_SHORT_BUFFER, vec![null, value(Dir::In, 32, 0)]);
    assert_eq!(r.hdr.ret, TeeResult::ERROR_SHORT_BUFFER.0);
    assert!(matches!(r.params[0], Param::Tmem { size: 32, .. }));
    // Unregister: fine once nothing uses it; then gone.
    assert_eq!(shm_stats(&w), (1, 0));
    let unreg =
        Message::new(m::CMD_UNREGISTER_SHM, vec![Param::Rmem { dir: Dir::In, offs: 0, size: 0, shm_ref: 0xabc }]);
    assert_eq!(w.call(&mut env, &unreg).hdr.ret, 0);
    assert_eq!(w.call(&mut env, &unreg).hdr.ret, TeeResult::ERROR_BAD_PARAMETERS.0);
    assert_eq!(shm_stats(&w), (0, 0));
}

#[test]
fn rpc_round_trip_allocates_and_frees_its_buffers() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let r = w.invoke(&mut env, s, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]);
    assert_eq!(r.hdr.ret, 0);
    assert_eq!(r.params[0], Param::Value { dir: Dir::Out, a: 1234, b: 5678, c: 0 });
    assert_eq!(env.rpcs().first(), Some(&smc::RETURN_RPC_ALLOC));
    assert_eq!(env.rpcs().last(), Some(&smc::RETURN_RPC_FREE));
    assert!(env.allocs().is_empty(), "every normal-world buffer was given back");
    // With the cache on, the RPC buffer stays for the next call, and
    // DISABLE_SHM_CACHE hands its cookie back.
    let mut a = [smc::ENABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0];
    w.os.fast_call(&mut a);
    assert_eq!(a[0], 0);
    w.invoke(&mut env, s, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]);
    assert_eq!(env.allocs().len(), 1);
    let mut a = [smc::DISABLE_SHM_CACHE as u64, 0, 0, 0, 0, 0, 0, 0];
    w.os.fast_call(&mut a);
    assert_eq!((a[0], (a[1] << 32) | a[2]), (0, env.allocs()[0].1));
}

#[test]
fn caller_provided_rpc_arg_and_registered_args() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let mut msg = Message::new(m::CMD_INVOKE_COMMAND, vec![value(Dir::Out, 0, 0); 6]);
    msg.params.truncate(1);
    msg.hdr.session = s;
    msg.hdr.func = t::CMD_RPC;
    // With CALL_WITH_RPC_ARG the RPC message goes after a 6-param arg in
    // the fake world; make the arg itself 6 params long to match.
    msg.params = vec![value(Dir::Out, 0, 0), Param::None, Param::None, Param::None, Param::None, Param::None];
    let (a0, out) = w.call_at(&mut env, smc::CALL_WITH_RPC_ARG, ARG, &msg);
    assert_eq!((a0, out.hdr.ret), (0, TeeResult::ERROR_BAD_PARAMETERS.0), "more than 4 TA params");
    msg.params.truncate(4);
    msg.params.extend([Param::None, Param::None]);
    let mut msg4 = msg.clone();
    msg4.params.truncate(4);
    // Put the RPC arg where the fake world looks: after a 6-param arg.
    let (a0, out) = {
        let at = ARG + msg::size_for(6) as u64 - msg::size_for(4) as u64;
        w.call_at(&mut env, smc::CALL_WITH_RPC_ARG, at, &msg4)
    };
    assert_eq!((a0, out.hdr.ret), (0, 0));
    assert!(!env.rpcs().contains(&smc::RETURN_RPC_ALLOC), "no allocation with a provided RPC arg");
    // CALL_WITH_REGD_ARG: the arg inside a registered buffer, by cookie+offset.
    let list = RAM + 0x1000;
    w.ram.put(list, &(RAM + 0x6000u64).to_le_bytes()).unwrap();
    let reg = Param::Tmem { dir: Dir::Out, buf: list, size: 4096, shm_ref: 0x77, noncontig: true };
    assert_eq!(w.call(&mut env, &Message::new(m::CMD_REGISTER_SHM, vec![reg])).hdr.ret, 0);
    let mut noop = Message::new(m::CMD_INVOKE_COMMAND, vec![]);
    noop.hdr.session = s;
    w.ram.put(RAM + 0x6000 + 384, &noop.encode()).unwrap();
    let r = w.os.serve(&mut env, [smc::CALL_WITH_REGD_ARG as u64, 0, 0x77, 384, 0, 0, 0, 0]);
    assert_eq!(r[0], 0);
    let r = w.os.serve(&mut env, [smc::CALL_WITH_REGD_ARG as u64, 0, 0x78, 384, 0, 0, 0, 0]);
    assert_eq!(r[0], smc::RETURN_EBADADDR as u64);
    let r = w.os.serve(&mut env, [smc::CALL_WITH_REGD_ARG as u64, 0, 0x77, 4090, 0, 0, 0, 0]);
    assert_eq!(r[0], smc::RETURN_EBADADDR as u64);
    assert_eq!(shm_stats(&w), (1, 0), "the registered arg buffer is released after each call");
}

#[test]
fn hostile_arguments_are_answered_and_leave_no_state() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    // Misaligned, secure, outside RAM, page-crossing outside the pool.
    for pa in [ARG + 4, 0x0e10_0000, 0x1_0000_0000, RAM + 0x0ff8, u64::MAX - 7] {
        let r = w.os.serve(&mut env, [smc::CALL_WITH_ARG as u64, pa >> 32, pa & 0xffff_ffff, 0, 0, 0, 0, 0]);
        assert_eq!(r[0], smc::RETURN_EBADADDR as u64, "{pa:#x}");
    }
    // num_params beyond what fits.
    let mut hdr = Message::new(m::CMD_INVOKE_COMMAND, vec![]).encode();
    hdr[28..32].copy_from_slice(&200u32.to_le_bytes());
    w.ram.put(ARG, &hdr).unwrap();
    let r = w.os.serve(&mut env, [smc::CALL_WITH_ARG as u64, 0, ARG, 0, 0, 0, 0, 0]);
    assert_eq!(r[0], smc::RETURN_EBADADDR as u64);
    // Bad attribute: answered in ret with origin COMMS.
    let mut bad = Message::new(m::CMD_INVOKE_COMMAND, vec![value(Dir::In, 0, 0)]).encode();
    bad[32] = 0x0f;
    w.ram.put(ARG, &bad).unwrap();
    let r = w.os.serve(&mut env, [smc::CALL_WITH_ARG as u64, 0, ARG, 0, 0, 0, 0, 0]);
    assert_eq!(r[0], 0);
    let mut back = [0u8; 32];
    w.ram.get(ARG, &mut back).unwrap();
    assert_eq!(u32::from_le_bytes(back[20..24].try_into().unwrap()), TeeResult::ERROR_BAD_PARAMETERS.0);
    assert_eq!(u32::from_le_bytes(back[24..28].try_into().unwrap()), Origin::Comms as u32);
    assert_eq!(shm_stats(&w), (0, 0));
    assert_eq!(w.os.sessions.count(), 0);
}

#[test]
fn device_enum_lists_the_device_ptas() {
    use oxtee_abi::upstream_pta::{invoke_tests, rng};
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    // Linux 6.1 enumerates with a public login, later kernels as the kernel.
    let r = w.open(&mut env, uuid::PTA_DEVICE_ENUM);
    assert_eq!(r.hdr.ret, 0);
    let s = w.open_as(&mut env, uuid::PTA_DEVICE_ENUM, m::LOGIN_REE_KERNEL).hdr.session;
    // A null buffer asks for the size: two devices need no supplicant.
    let null = Param::Tmem { dir: Dir::Out, buf: 0, size: 0, shm_ref: 0, noncontig: false };
    let r = w.invoke(&mut env, s, 0, vec![null, Param::None, Param::None, Param::None]);
    assert_eq!(r.hdr.ret, TeeResult::ERROR_SHORT_BUFFER.0);
    assert!(matches!(r.params[0], Param::Tmem { size: 32, .. }));
    let buf = POOL.0 + 0x9000;
    let short = Param::Tmem { dir: Dir::Out, buf, size: 31, shm_ref: 1, noncontig: false };
    let r = w.invoke(&mut env, s, 0, vec![short]);
    assert_eq!(r.hdr.ret, TeeResult::ERROR_SHORT_BUFFER.0);
    assert!(matches!(r.params[0], Param::Tmem { size: 32, .. }));
    let out = Param::Tmem { dir: Dir::Out, buf, size: 64, shm_ref: 1, noncontig: false };
    let r = w.invoke(&mut env, s, 0, vec![out]);
    assert_eq!(r.hdr.ret, 0);
    assert!(matches!(r.params[0], Param::Tmem { size: 32, .. }));
    let mut got = [0u8; 32];
    w.ram.get(buf, &mut got).unwrap();
    assert_eq!(got[..16], rng::UUID.to_octets());
    assert_eq!(got[16..], invoke_tests::UUID.to_octets());
    // None needs the supplicant.
    let r = w.invoke(&mut env, s, 1, vec![null]);
    assert_eq!(r.hdr.ret, 0);
    assert!(matches!(r.params[0], Param::Tmem { size: 0, .. }));
    let r = w.invoke(&mut env, s, 0, vec![Param::Tmem { dir: Dir::In, buf, size: 64, shm_ref: 1, noncontig: false }]);
    assert_eq!(r.hdr.ret, TeeResult::ERROR_BAD_PARAMETERS.0);
    assert_eq!(w.invoke(&mut env, s, 7, vec![null]).hdr.ret, TeeResult::ERROR_NOT_IMPLEMENTED.0);
}

#[test]
fn rng_pta_fills_inout_memrefs_and_checks_its_parameters() {
    use oxtee_abi::upstream_pta::rng;
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    // Any login (Linux's driver logs in as public).
    let open = w.open(&mut env, rng::UUID);
    assert_eq!(open.hdr.ret, 0);
    let s = open.hdr.session;
    let r = w.invoke(&mut env, s, rng::CMD_GET_RNG_INFO, vec![value(Dir::Out, 9, 9)]);
    assert_eq!(r.hdr.ret, 0);
    assert_eq!(r.params[0], value(Dir::Out, rng::RATE as u64, rng::QUALITY as u64));
    let r = w.invoke(&mut env, s, rng::CMD_GET_RNG_INFO, vec![value(Dir::InOut, 9, 9)]);
    assert_eq!((r.hdr.ret, r.hdr.ret_origin), (TeeResult::ERROR_BAD_PARAMETERS.0, Origin::TrustedApp as u32));
    let buf = POOL.0 + 0xa000;
    let mut reads = Vec::new();
    for _ in 0..2 {
        w.ram.put(buf, &[0u8; 700]).unwrap();
        let tm = Param::Tmem { dir: Dir::InOut, buf, size: 600, shm_ref: 2, noncontig: false };
        let r = w.invoke(&mut env, s, rng::CMD_GET_ENTROPY, vec![tm]);
        assert_eq!(r.hdr.ret, 0);
        assert!(matches!(r.params[0], Param::Tmem { size: 600, .. }));
        let mut got = vec![0u8; 700];
        w.ram.get(buf, &mut got).unwrap();
        assert!(got[600..].iter().all(|b| *b == 0), "wrote past the memref");
        assert!(got[..600].iter().filter(|b| **b == 0).count() < 20);
        reads.push(got);
    }
    assert_ne!(reads[0], reads[1]);
    for bad in [
        vec![Param::Tmem { dir: Dir::Out, buf, size: 16, shm_ref: 2, noncontig: false }],
        vec![Param::Tmem { dir: Dir::InOut, buf: 0, size: 0, shm_ref: 0, noncontig: false }],
        vec![Param::Tmem { dir: Dir::InOut, buf, size: 16, shm_ref: 2, noncontig: false }, value(Dir::In, 0, 0)],
        vec![],
    ] {
        assert_eq!(w.invoke(&mut env, s, rng::CMD_GET_ENTROPY, bad).hdr.ret, TeeResult::ERROR_BAD_PARAMETERS.0);
    }
    assert_eq!(w.invoke(&mut env, s, 2, vec![]).hdr.ret, TeeResult::ERROR_NOT_IMPLEMENTED.0);
}

#[test]
fn invoke_tests_pta_answers_as_upstream() {
    use oxtee_abi::upstream_pta::invoke_tests as it;
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, it::UUID).hdr.session;
    let ok = |r: Message| r.hdr.ret;
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_TRACE, vec![])), 0);
    // PARAMS: the parameter types pick the computation.
    let r = w.invoke(&mut env, s, it::CMD_PARAMS, vec![Param::None, value(Dir::InOut, 0xffff_fff0, 0x20)]);
    assert_eq!((r.hdr.ret, &r.params[1]), (0, &value(Dir::InOut, 0x10, 0x20)));
    let ins = vec![value(Dir::In, 1, 10), value(Dir::In, 2, 20), value(Dir::Out, 0, 0), value(Dir::In, 3, 30)];
    let r = w.invoke(&mut env, s, it::CMD_PARAMS, ins);
    assert_eq!((r.hdr.ret, &r.params[2]), (0, &value(Dir::Out, 6, 60)));
    let buf = POOL.0 + 0xb000;
    let data: Vec<u8> = (0..2000u32).map(|i| (i + 1) as u8).collect();
    w.ram.put(buf, &data).unwrap();
    let tm = Param::Tmem { dir: Dir::InOut, buf, size: 2000, shm_ref: 3, noncontig: false };
    let r = w.invoke(&mut env, s, it::CMD_PARAMS, vec![Param::None, Param::None, Param::None, tm]);
    assert_eq!(r.hdr.ret, 0);
    let mut first = [0u8; 2];
    w.ram.get(buf, &mut first).unwrap();
    assert_eq!(first, [data.iter().fold(0u8, |s, b| s.wrapping_add(*b)), 2]);
    for bad in [
        vec![value(Dir::In, 1, 1)],
        vec![value(Dir::InOut, 1, 1), value(Dir::InOut, 1, 1)],
        vec![value(Dir::Out, 0, 0), value(Dir::In, 0, 0)],
        vec![Param::Tmem { dir: Dir::InOut, buf: 0, size: 0, shm_ref: 0, noncontig: false }],
    ] {
        assert_eq!(ok(w.invoke(&mut env, s, it::CMD_PARAMS, bad)), TeeResult::ERROR_BAD_PARAMETERS.0);
    }
    // MEMREF_NULL: a null, empty inout memref and nothing else.
    let null = Param::Tmem { dir: Dir::InOut, buf: 0, size: 0, shm_ref: 0, noncontig: false };
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_MEMREF_NULL, vec![null])), 0);
    let tm = Param::Tmem { dir: Dir::InOut, buf, size: 4, shm_ref: 3, noncontig: false };
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_MEMREF_NULL, vec![tm])), TeeResult::ERROR_BAD_PARAMETERS.0);
    // Secure data path: a short destination is reported, then normal-world
    // memory is refused.
    let src = Param::Tmem { dir: Dir::In, buf, size: 64, shm_ref: 3, noncontig: false };
    let dst = Param::Tmem { dir: Dir::Out, buf: buf + 0x1000, size: 8, shm_ref: 3, noncontig: false };
    let r = w.invoke(&mut env, s, it::CMD_COPY_NSEC_TO_SEC, vec![src, dst]);
    assert_eq!(r.hdr.ret, TeeResult::ERROR_SHORT_BUFFER.0);
    assert!(matches!(r.params[1], Param::Tmem { size: 64, .. }));
    let dst = Param::Tmem { dir: Dir::Out, buf: buf + 0x1000, size: 64, shm_ref: 3, noncontig: false };
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_COPY_SEC_TO_NSEC, vec![src, dst])), TeeResult::ERROR_BAD_PARAMETERS.0);
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_READ_MODIFY_SEC, vec![tm])), TeeResult::ERROR_BAD_PARAMETERS.0);
    // MUTEX: alone, a writer is the only one inside, and a reader then
    // finds the writers' invariant.
    let r = w.invoke(&mut env, s, it::CMD_MUTEX, vec![value(Dir::In, 0, 1000), value(Dir::Out, 9, 9)]);
    assert_eq!((r.hdr.ret, &r.params[1]), (0, &value(Dir::Out, 1, 1)));
    let r = w.invoke(&mut env, s, it::CMD_MUTEX, vec![value(Dir::In, 1, 1000), value(Dir::Out, 9, 9)]);
    assert_eq!((r.hdr.ret, &r.params[1]), (0, &value(Dir::Out, 1, 1)));
    assert_eq!(
        ok(w.invoke(&mut env, s, it::CMD_MUTEX, vec![value(Dir::In, 2, 1), value(Dir::Out, 0, 0)])),
        TeeResult::ERROR_BAD_PARAMETERS.0
    );
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_SELF_TESTS, vec![])), 0);
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_FS_HTREE, vec![])), 0);
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_DT_DRIVER_TESTS, vec![])), 0);
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_LOCKDEP, vec![])), TeeResult::ERROR_NOT_SUPPORTED.0);
    assert_eq!(ok(w.invoke(&mut env, s, it::CMD_TRANSFER_LIST_TESTS, vec![])), TeeResult::ERROR_NOT_SUPPORTED.0);
    assert_eq!(ok(w.invoke(&mut env, s, 99, vec![])), TeeResult::ERROR_BAD_PARAMETERS.0);
}

#[test]
fn mutex_uncontended_needs_no_rpc_and_cancel_needs_a_session() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let r = w.invoke(&mut env, s, t::CMD_MUTEX, vec![value(Dir::In, 0, 0), value(Dir::Out, 9, 9)]);
    assert_eq!(r.hdr.ret, 0);
    assert_eq!(r.params[1], Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 });
    assert!(!env.rpcs().contains(&smc::RETURN_RPC_CMD));
    let mut cancel = Message::new(m::CMD_CANCEL, vec![]);
    cancel.hdr.session = s;
    assert_eq!(w.call(&mut env, &cancel).hdr.ret, 0);
    cancel.hdr.session = s + 100;
    assert_eq!(w.call(&mut env, &cancel).hdr.ret, TeeResult::ERROR_BAD_PARAMETERS.0);
}

#[test]
fn fuzzed_arguments_never_panic_and_leave_no_state() {
    let w = world();
    let mut env = FakeEnv::new(w.ram);
    let s = w.open(&mut env, t::UUID).hdr.session;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let cmds = [
        m::CMD_INVOKE_COMMAND,
        m::CMD_OPEN_SESSION,
        m::CMD_CLOSE_SESSION,
        m::CMD_CANCEL,
        m::CMD_REGISTER_SHM,
        m::CMD_UNREGISTER_SHM,
        9,
    ];
    let funcs = [t::CMD_NOOP, t::CMD_VALUES, t::CMD_MEMREF, t::CMD_SHORT_BUFFER, t::CMD_STATS, 77];
    for i in 0..5_000 {
        let n = (next() % 5) as usize;
        let mut bytes = vec![0u8; msg::size_for(n)];
        let cmd = cmds[(next() % cmds.len() as u64) as usize];
        bytes[0..4].copy_from_slice(&cmd.to_le_bytes());
        bytes[4..8].copy_from_slice(&funcs[(next() % funcs.len() as u64) as usize].to_le_bytes());
        // Mostly our session, sometimes garbage; never close it.
        let session = if cmd == m::CMD_CLOSE_SESSION || next() % 4 == 0 { next() as u32 | 0x8000_0000 } else { s };
        bytes[8..12].copy_from_slice(&session.to_le_bytes());
        bytes[28..32].copy_from_slice(&(n as u32).to_le_bytes());
        for p in 0..n {
            let o = 32 + 32 * p;
            let attr = match next() % 3 {
                0 => next() % 12,
                1 => (next() % 12) | ((next() % 4) << 8),
                _ => next(),
            };
            bytes[o..o + 8].copy_from_slice(&attr.to_le_bytes());
            for k in 0..3 {
                // Addresses near the pool, RAM, secure memory, or random.
                let v = match next() % 5 {
                    0 => POOL.0 + next() % 0x2000,
                    1 => RAM + next() % (RAM_SIZE as u64 + 0x1000),
                    2 => 0x0e10_0000,
                    3 => next() % 0x3000,
                    _ => next(),
                };
                bytes[o + 8 + 8 * k..o + 16 + 8 * k].copy_from_slice(&v.to_le_bytes());
            }
        }
        w.ram.put(ARG, &bytes).unwrap();
        let fid = [smc::CALL_WITH_ARG, smc::CALL_WITH_RPC_ARG][i % 2];
        let r = w.os.serve(&mut env, [fid as u64, 0, ARG, 0, 0, 0, 0, 0]);
        assert!(
            [smc::RETURN_OK, smc::RETURN_EBADADDR, smc::RETURN_EBADCMD, smc::RETURN_EBUSY].contains(&(r[0] as u32)),
            "{:#x}",
            r[0]
        );
        // Whatever happened, no buffer is left in use by a finished call.
        assert_eq!(shm_stats(&w).1, 0);
    }
    // The session still works.
    let r = w.invoke(&mut env, s, t::CMD_NOOP, vec![]);
    assert_eq!(r.hdr.ret, 0);
}

mod abort;
mod async_notif;
mod secstor;

mod user_tas {
    use super::*;
    use crate::user::tests::{FakeMmu, cmd};
    use oxtee_abi::ta as abi;

    pub(super) const SINGLE: Uuid = Uuid::new(0x5e57_0001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 1]);
    pub(super) const MULTI: Uuid = Uuid::new(0x5e57_0002, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 2]);
    const EXCL: Uuid = Uuid::new(0x5e57_0003, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 3]);
    const KEEP: Uuid = Uuid::new(0x5e57_0004, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 4]);

    pub(super) fn user_world() -> (World, &'static FakeMmu) {
        let w = world();
        let mmu = FakeMmu::leak();
        let single = abi::TA_FLAG_SINGLE_INSTANCE;
        let multi_session = single | abi::TA_FLAG_MULTI_SESSION;
        let tas = &[
            (SINGLE, multi_session),
            (MULTI, 0),
            (EXCL, single),
            (KEEP, multi_session | abi::TA_FLAG_INSTANCE_KEEP_ALIVE),
        ];
        // The world's OS is leaked; build a fresh one with user TAs.
        let test: &'static TestPta = Box::leak(Box::new(TestPta::new()));
        let mut os = os_with(w.ram, LIMITS, vec![test]);
        os.user.install_fakes(mmu, tas);
        (World { os: Box::leak(Box::new(os)), ram: w.ram }, mmu)
    }

    pub(super) fn close(w: &World, env: &mut FakeEnv, s: u32) -> u32 {
        let mut close = Message::new(m::CMD_CLOSE_SESSION, vec![]);
        close.hdr.session = s;
        w.call(env, &close).hdr.ret
    }

    pub(super) fn ok_open(w: &World, env: &mut FakeEnv, ta: Uuid) -> u32 {
        let r = w.open(env, ta);
        assert_eq!((TeeResult(r.hdr.ret), r.hdr.ret_origin), (TeeResult::SUCCESS, Origin::TrustedApp as u32));
        r.hdr.session
    }

    #[test]
    fn instances_follow_the_ta_flags() {
        let (w, mmu) = user_world();
        let mut env = FakeEnv::new(w.ram);
        let live = || w.os.user.live();
        // Single instance, many sessions: one instance, freed at last close.
        let (a, b) = (ok_open(&w, &mut env, SINGLE), ok_open(&w, &mut env, SINGLE));
        assert_eq!(live(), 1);
        assert_eq!(w.invoke(&mut env, a, cmd::OK as u32, vec![]).hdr.ret, 0);
        assert_eq!((close(&w, &mut env, a), live()), (0, 1));
        assert_eq!((close(&w, &mut env, b), live()), (0, 0));
        // Multi-instance: one instance per session.
        let (a, b) = (ok_open(&w, &mut env, MULTI), ok_open(&w, &mut env, MULTI));
        assert_eq!((live(), mmu.spaces.lock().len()), (2, 2));
        close(&w, &mut env, a);
        close(&w, &mut env, b);
        assert_eq!((live(), mmu.spaces.lock().len()), (0, 0));
        // Single session: a second open is refused while the first is open.
        let a = ok_open(&w, &mut env, EXCL);
        let r = w.open(&mut env, EXCL);
        assert_eq!((TeeResult(r.hdr.ret), r.hdr.ret_origin), (TeeResult::ERROR_BUSY, Origin::Tee as u32));
        close(&w, &mut env, a);
        let x = ok_open(&w, &mut env, EXCL);
        close(&w, &mut env, x);
        // Keep-alive outlives its last session, and is reused.
        let x = ok_open(&w, &mut env, KEEP);
        close(&w, &mut env, x);
        assert_eq!(live(), 1);
        let x = ok_open(&w, &mut env, KEEP);
        close(&w, &mut env, x);
        assert_eq!(live(), 1);
        // Unknown TA: the fake normal world has no LOAD_TA.
        let r = w.open(&mut env, Uuid::new(1, 2, 3, [4; 8]));
        assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_ITEM_NOT_FOUND);
        assert_eq!(w.os.sessions.count(), 0);
    }

    #[test]
    fn a_faulting_or_panicking_ta_dies_alone() {
        for what in [cmd::FAULT, cmd::PANIC] {
            let (w, mmu) = user_world();
            let mut env = FakeEnv::new(w.ram);
            let victim = ok_open(&w, &mut env, SINGLE);
            let other = ok_open(&w, &mut env, MULTI);
            let r = w.invoke(&mut env, victim, what as u32, vec![]);
            assert_eq!((TeeResult(r.hdr.ret), r.hdr.ret_origin), (TeeResult::ERROR_TARGET_DEAD, Origin::Tee as u32));
            // Freed at once: only the other TA's space is left.
            assert_eq!((w.os.user.live(), mmu.spaces.lock().len()), (1, 1));
            let r = w.invoke(&mut env, victim, cmd::OK as u32, vec![]);
            assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_TARGET_DEAD);
            assert_eq!(w.invoke(&mut env, other, cmd::OK as u32, vec![]).hdr.ret, 0);
            assert_eq!(close(&w, &mut env, victim), 0);
            // A new session gets a new instance.
            let again = ok_open(&w, &mut env, SINGLE);
            assert_eq!(w.invoke(&mut env, again, cmd::OK as u32, vec![]).hdr.ret, 0);
            close(&w, &mut env, again);
            close(&w, &mut env, other);
            assert_eq!((w.os.user.live(), mmu.spaces.lock().len()), (0, 0));
        }
    }

    #[test]
    fn syscall_pointers_are_checked_against_the_tas_own_mappings() {
        let (w, _) = user_world();
        let mut env = FakeEnv::new(w.ram);
        let s = ok_open(&w, &mut env, MULTI);
        // Stack read, code read and stack write allowed; the OS's memory and
        // writing code refused.
        let r = w.invoke(&mut env, s, cmd::ACCESS as u32, vec![]);
        assert_eq!((r.hdr.ret, r.hdr.ret_origin), (0b01011, Origin::TrustedApp as u32));
        // A bad pointer is an error for the TA, not a crash.
        let r = w.invoke(&mut env, s, cmd::BAD_POINTER as u32, vec![]);
        assert_eq!(TeeResult(r.hdr.ret), TeeResult::ERROR_ACCESS_DENIED);
        assert_eq!(w.invoke(&mut env, s, cmd::OK as u32, vec![]).hdr.ret, 0);
        close(&w, &mut env, s);
    }
}

/// The REE FS backend speaks OPTEE_RPC_CMD_FS as tee-supplicant expects
/// it (names NUL-terminated in shared memory, data in pieces), and gives
/// its payload buffer back when the call ends.
#[test]
fn ree_fs_backend_speaks_the_fs_rpc() {
    use crate::storage::backend::Backend;
    use crate::storage::ree::{CHUNK, ReeFs};
    let w = world();
    let env0 = FakeEnv::new(w.ram);
    let mut env = env0.clone();
    let t = w.os.threads.ctx(0);
    let mut rpc = crate::rpc::Rpc { env: &mut env, mem: w.os.mem, shm: &w.os.shm, t };
    let nf = Err(TeeResult::ERROR_ITEM_NOT_FOUND);
    {
        let mut fs = ReeFs::new(&mut rpc);
        assert_eq!(fs.open("d/x"), nf);
        let fd = fs.create("d/x").unwrap();
        let big: Vec<u8> = (0..(2 * CHUNK + 1000) as u32).map(|i| (i * 7) as u8).collect();
        let before = fs.calls;
        fs.write(fd, 10, &big).unwrap();
        assert_eq!(fs.calls - before, 3, "one RPC per 64 KiB piece");
        let mut back = vec![0; big.len() + 100];
        assert_eq!(fs.read(fd, 0, &mut back).unwrap(), big.len() + 10, "a short read at the end");
        assert_eq!(&back[10..big.len() + 10], &big[..]);
        assert_eq!(&back[..10], &[0; 10]);
        fs.truncate(fd, 5).unwrap();
        assert_eq!(fs.read(fd, 0, &mut back).unwrap(), 5);
        fs.close(fd).unwrap();
        fs.rename("d/x", "d/y", false).unwrap();
        let fd = fs.create("d/z").unwrap();
        fs.close(fd).unwrap();
        assert_eq!(fs.rename("d/y", "d/z", false), Err(TeeResult::ERROR_ACCESS_CONFLICT));
        fs.rename("d/y", "d/z", true).unwrap();
        let mut names = Vec::new();
        fs.list("d", &mut |n| names.push(alloc::string::String::from(n))).unwrap();
        assert_eq!(names, ["z"]);
        let mut none = 0;
        fs.list("nothing", &mut |_| none += 1).unwrap();
        assert_eq!(none, 0);
        fs.remove("d/z").unwrap();
        assert_eq!(fs.remove("d/z"), Err(TeeResult::ERROR_ITEM_NOT_FOUND));
        assert_eq!(fs.open("bad\0name"), Err(TeeResult::ERROR_BAD_PARAMETERS));
    }
    let payloads = env0.allocs().len();
    rpc.drop_payload();
    assert_eq!(env0.allocs().len(), payloads - 1, "the payload buffer is freed once");
    let cmds = env0.nw.lock().fs_cmds.clone();
    assert!(cmds.contains(&rpc::FS_READDIR) && cmds.contains(&rpc::FS_CLOSEDIR));
}
