//! The simulated platform under the real core: a `ThreadEnv` whose user
//! mode is a host thread (or a mock TA closure), and a normal world that
//! answers the core's RPCs the way tee-supplicant and the Linux driver do,
//! with an in-memory REE file system.

use crate::mem::{HOST_RAM, HostBuf};
use crate::mmu::SimTables;
use crate::ta::{self, Exit, Resume, Runner, TaThread};
use oxtee_abi::addr::NsPhys;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::rpc;
use oxtee_abi::ta::{self as abi, UteeParams, param_type_get};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_core::env::{RpcReturn, ThreadEnv, UserExit, UserRegs, UserTables};
use oxtee_core::msg::{self, Dir, Param};
use oxtee_core::nsmem::NsMemory;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use zerocopy::{FromZeros, IntoBytes};

/// A memref or value parameter as a mock TA sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum MockParam {
    #[default]
    None,
    Value {
        a: u32,
        b: u32,
    },
    /// The buffer's bytes (an output starts zeroed at the caller's size).
    /// Set its length to the size to report: longer than the caller's
    /// buffer means "too short" (nothing is copied back).
    Memref(Vec<u8>),
}

/// A mock TA's invoke entry point: command and the four parameters.
pub type MockFn = Box<dyn FnMut(u32, &mut [MockParam; 4]) -> Result<(), u32> + Send>;

/// The simulated normal world and the TAs registered with a `Sim`.
pub(crate) struct World {
    pub own: Option<(Uuid, ta::EntryFn)>,
    pub mocks: HashMap<Uuid, Option<MockFn>>,
    /// RPC buffers the core allocated, by cookie (= address).
    allocs: HashMap<u64, HostBuf>,
    /// The REE file system: path -> contents.
    pub files: BTreeMap<String, Vec<u8>>,
    fds: HashMap<u64, String>,
    dirs: HashMap<u64, Vec<String>>,
    next_fd: u64,
    notif: Vec<u64>,
    pub started: Instant,
}

impl World {
    pub fn new() -> World {
        World {
            own: None,
            mocks: HashMap::new(),
            allocs: HashMap::new(),
            files: BTreeMap::new(),
            fds: HashMap::new(),
            dirs: HashMap::new(),
            next_fd: 0,
            notif: Vec::new(),
            started: Instant::now(),
        }
    }
}

pub(crate) struct SimEnv {
    pub world: Arc<Mutex<World>>,
}

impl SimEnv {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn read(addr: u64, out: &mut [u8]) -> bool {
    HOST_RAM.read(NsPhys::new(addr), out).is_ok()
}

fn write(addr: u64, data: &[u8]) -> bool {
    HOST_RAM.write(NsPhys::new(addr), data).is_ok()
}

fn fault() -> UserExit {
    UserExit::Fault { esr: 0, far: 0 }
}

fn is_memref(t: u32) -> bool {
    matches!(t, abi::TEE_PARAM_TYPE_MEMREF_INPUT | abi::TEE_PARAM_TYPE_MEMREF_OUTPUT | abi::TEE_PARAM_TYPE_MEMREF_INOUT)
}

/// Host addresses of the memref buffers of `up` in the space `t`.
fn memref_hosts(t: &SimTables, up: &UteeParams) -> [usize; 4] {
    let mut host = [0usize; 4];
    for (i, h) in host.iter_mut().enumerate() {
        let ty = param_type_get(up.types as u32, i);
        let (addr, len) = (up.vals[2 * i], up.vals[2 * i + 1]);
        if is_memref(ty) && addr != 0 && len != 0 {
            let write = ty != abi::TEE_PARAM_TYPE_MEMREF_INPUT;
            *h = t.host(addr, len, write).unwrap_or(0) as usize;
        }
    }
    host
}

fn syscall_exit(regs: &mut UserRegs, nr: u32, x0: u64) -> UserExit {
    regs.x[0] = x0;
    regs.x[8] = nr as u64;
    UserExit::Syscall
}

impl SimEnv {
    fn run_thread(&mut self, t: &SimTables, th: &mut TaThread, regs: &mut UserRegs) -> UserExit {
        let msg = if th.in_syscall {
            Resume::Syscall(regs.x[0])
        } else {
            let Some(up_host) = t.host(regs.x[2], size_of::<UteeParams>() as u64, true) else { return fault() };
            let mut params = UteeParams::new_zeroed();
            if !read(up_host, params.as_mut_bytes()) {
                return fault();
            }
            th.up_host = up_host;
            let host = memref_hosts(t, &params);
            Resume::Enter { func: regs.x[0], session: regs.x[1] as u32, cmd: regs.x[3] as u32, params, host }
        };
        th.in_syscall = false;
        if th.tx.send(msg).is_err() {
            return fault();
        }
        match th.rx.recv() {
            Ok(Exit::Syscall { nr, args }) => {
                regs.x[..8].copy_from_slice(&args);
                regs.x[8] = nr as u64;
                th.in_syscall = true;
                UserExit::Syscall
            }
            Ok(Exit::Return { res, params }) => {
                if !write(th.up_host, params.as_bytes()) {
                    return fault();
                }
                syscall_exit(regs, abi::SYS_RETURN, res as u64)
            }
            Ok(Exit::Panic(code)) => syscall_exit(regs, abi::SYS_PANIC, code as u64),
            Err(_) => fault(),
        }
    }

    /// A mock TA serves the whole entry here, on the calling thread.
    fn run_mock(&mut self, t: &SimTables, uuid: Uuid, regs: &mut UserRegs) -> UserExit {
        let func = regs.x[0];
        if func != abi::UTEE_ENTRY_FUNC_INVOKE_COMMAND {
            return syscall_exit(regs, abi::SYS_RETURN, 0);
        }
        let Some(up_host) = t.host(regs.x[2], size_of::<UteeParams>() as u64, true) else { return fault() };
        let mut up = UteeParams::new_zeroed();
        if !read(up_host, up.as_mut_bytes()) {
            return fault();
        }
        let host = memref_hosts(t, &up);
        let mut args: [MockParam; 4] = Default::default();
        for (i, arg) in args.iter_mut().enumerate() {
            let ty = param_type_get(up.types as u32, i);
            let (a, b) = (up.vals[2 * i], up.vals[2 * i + 1]);
            *arg = match ty {
                abi::TEE_PARAM_TYPE_VALUE_INPUT | abi::TEE_PARAM_TYPE_VALUE_INOUT => {
                    MockParam::Value { a: a as u32, b: b as u32 }
                }
                abi::TEE_PARAM_TYPE_VALUE_OUTPUT => MockParam::Value { a: 0, b: 0 },
                t if is_memref(t) => {
                    let mut data = vec![0u8; b as usize];
                    if t != abi::TEE_PARAM_TYPE_MEMREF_OUTPUT && b != 0 && !read(host[i] as u64, &mut data) {
                        return fault();
                    }
                    MockParam::Memref(data)
                }
                _ => MockParam::None,
            };
        }
        let handler = self.world().mocks.get_mut(&uuid).and_then(Option::take);
        let Some(mut handler) = handler else {
            return syscall_exit(regs, abi::SYS_RETURN, TeeResult::ERROR_BUSY.0 as u64);
        };
        let res = handler(regs.x[3] as u32, &mut args);
        if let Some(slot) = self.world().mocks.get_mut(&uuid) {
            *slot = Some(handler);
        }
        for (i, arg) in args.iter().enumerate() {
            let ty = param_type_get(up.types as u32, i);
            match (ty, arg) {
                (abi::TEE_PARAM_TYPE_VALUE_OUTPUT | abi::TEE_PARAM_TYPE_VALUE_INOUT, MockParam::Value { a, b }) => {
                    up.vals[2 * i] = *a as u64;
                    up.vals[2 * i + 1] = *b as u64;
                }
                (abi::TEE_PARAM_TYPE_MEMREF_OUTPUT | abi::TEE_PARAM_TYPE_MEMREF_INOUT, MockParam::Memref(data)) => {
                    let room = up.vals[2 * i + 1];
                    if data.len() as u64 <= room && !data.is_empty() && !write(host[i] as u64, data) {
                        return fault();
                    }
                    up.vals[2 * i + 1] = data.len() as u64;
                }
                _ => {}
            }
        }
        if !write(up_host, up.as_bytes()) {
            return fault();
        }
        let code = match res {
            Ok(()) => 0,
            Err(e) => e,
        };
        syscall_exit(regs, abi::SYS_RETURN, code as u64)
    }

    fn alloc(&mut self, size: u64) -> u64 {
        let buf = HostBuf::new(size.max(4096) as usize);
        let pa = buf.addr();
        self.world().allocs.insert(pa, buf);
        pa
    }

    fn serve_cmd(&mut self, pa: u64) {
        let mut hdr = vec![0u8; msg::size_for(0)];
        if !read(pa, &mut hdr) {
            return;
        }
        let n = (u32::from_le_bytes([hdr[28], hdr[29], hdr[30], hdr[31]]) as usize).min(6);
        let mut b = vec![0u8; msg::size_for(n)];
        if !read(pa, &mut b) {
            return;
        }
        let Ok(mut req) = msg::parse(&b, n) else { return };
        req.hdr.ret = 0;
        match req.hdr.cmd {
            rpc::CMD_GET_TIME => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                let (a, b) = (now.as_secs(), now.subsec_nanos() as u64);
                if let Some(p) = req.params.first_mut() {
                    *p = Param::Value { dir: Dir::Out, a, b, c: 0 };
                }
            }
            rpc::CMD_SHM_ALLOC => match req.params.first().copied() {
                Some(Param::Value { b: size, .. }) => {
                    let buf = self.alloc(size);
                    req.params[0] = Param::Tmem { dir: Dir::Out, buf, size, shm_ref: buf, noncontig: false };
                }
                _ => req.hdr.ret = TeeResult::ERROR_BAD_PARAMETERS.0,
            },
            rpc::CMD_SHM_FREE => match req.params.first().copied() {
                Some(Param::Value { b: cookie, .. }) => {
                    self.world().allocs.remove(&cookie);
                }
                _ => req.hdr.ret = TeeResult::ERROR_BAD_PARAMETERS.0,
            },
            rpc::CMD_NOTIFICATION => match req.params.first().copied() {
                Some(Param::Value { a, b, .. }) => {
                    let mut w = self.world();
                    if a == rpc::NOTIFICATION_SEND as u64 {
                        w.notif.push(b);
                    } else if let Some(i) = w.notif.iter().position(|k| *k == b) {
                        w.notif.remove(i);
                    } else {
                        // One caller at a time per Sim: nobody could wake it.
                        req.hdr.ret = TeeResult::ERROR_BUSY.0;
                    }
                }
                _ => req.hdr.ret = TeeResult::ERROR_BAD_PARAMETERS.0,
            },
            rpc::CMD_FS => req.hdr.ret = self.serve_fs(&mut req.params).err().unwrap_or(0),
            // LOAD_TA (a TA that is not registered), RPMB, sockets...: not
            // in the simulator.
            _ => req.hdr.ret = TeeResult::ERROR_NOT_IMPLEMENTED.0,
        }
        write(pa, &req.encode());
    }

    fn serve_fs(&mut self, p: &mut [Param]) -> Result<(), u32> {
        let bad = TeeResult::ERROR_BAD_PARAMETERS.0;
        let not_found = TeeResult::ERROR_ITEM_NOT_FOUND.0;
        let Some(Param::Value { a: op, b, c, .. }) = p.first().copied() else { return Err(bad) };
        let mem = |p: Option<&Param>| -> Result<(u64, usize), u32> {
            match p.copied() {
                Some(Param::Rmem { offs, size, shm_ref, .. }) => Ok((shm_ref + offs, size as usize)),
                Some(Param::Tmem { buf, size, .. }) => Ok((buf, size as usize)),
                _ => Err(bad),
            }
        };
        let name = |p: Option<&Param>| -> Result<String, u32> {
            let (pa, len) = mem(p)?;
            let mut b = vec![0u8; len];
            if len == 0 || !read(pa, &mut b) {
                return Err(bad);
            }
            let end = b.iter().position(|&x| x == 0).unwrap_or(len);
            String::from_utf8(b[..end].to_vec()).map_err(|_| bad)
        };
        let set_size = |p: &mut Param, n: u64| match p {
            Param::Rmem { size, .. } | Param::Tmem { size, .. } => *size = n,
            _ => {}
        };
        let mut w = self.world();
        match op as u32 {
            rpc::FS_OPEN | rpc::FS_CREATE | rpc::FS_OPENDIR => {
                let path = name(p.get(1))?;
                match op as u32 {
                    rpc::FS_OPEN if !w.files.contains_key(&path) => return Err(not_found),
                    rpc::FS_CREATE => {
                        w.files.insert(path.clone(), Vec::new());
                    }
                    rpc::FS_OPENDIR => {
                        let prefix = format!("{path}/");
                        let list: Vec<String> =
                            w.files.keys().filter_map(|k| k.strip_prefix(&prefix)).map(Into::into).collect();
                        if list.is_empty() {
                            return Err(not_found);
                        }
                        w.next_fd += 1;
                        let fd = w.next_fd;
                        w.dirs.insert(fd, list);
                    }
                    _ => {}
                }
                if op as u32 != rpc::FS_OPENDIR {
                    w.next_fd += 1;
                }
                let fd = w.next_fd;
                w.fds.insert(fd, path);
                *p.get_mut(2).ok_or(bad)? = Param::Value { dir: Dir::Out, a: fd, b: 0, c: 0 };
            }
            rpc::FS_CLOSE | rpc::FS_CLOSEDIR => {
                w.dirs.remove(&b);
                w.fds.remove(&b).ok_or(bad)?;
            }
            rpc::FS_READ => {
                let (pa, len) = mem(p.get(1))?;
                let path = w.fds.get(&b).ok_or(bad)?;
                let f = w.files.get(path).ok_or(not_found)?;
                let start = (c as usize).min(f.len());
                let n = len.min(f.len() - start);
                if !write(pa, &f[start..start + n]) {
                    return Err(bad);
                }
                set_size(&mut p[1], n as u64);
            }
            rpc::FS_WRITE => {
                let (pa, len) = mem(p.get(1))?;
                let mut data = vec![0u8; len];
                if !read(pa, &mut data) {
                    return Err(bad);
                }
                let path = w.fds.get(&b).ok_or(bad)?.clone();
                let f = w.files.get_mut(&path).ok_or(not_found)?;
                let end = c as usize + len;
                if f.len() < end {
                    f.resize(end, 0);
                }
                f[c as usize..end].copy_from_slice(&data);
            }
            rpc::FS_TRUNCATE => {
                let path = w.fds.get(&b).ok_or(bad)?.clone();
                w.files.get_mut(&path).ok_or(not_found)?.resize(c as usize, 0);
            }
            rpc::FS_REMOVE => {
                let path = name(p.get(1))?;
                w.files.remove(&path).ok_or(not_found)?;
            }
            rpc::FS_RENAME => {
                let (old, new) = (name(p.get(1))?, name(p.get(2))?);
                if b == 0 && w.files.contains_key(&new) {
                    return Err(TeeResult::ERROR_ACCESS_CONFLICT.0);
                }
                let f = w.files.remove(&old).ok_or(not_found)?;
                w.files.insert(new, f);
            }
            rpc::FS_READDIR => {
                let (pa, len) = mem(p.get(1))?;
                let list = w.dirs.get_mut(&b).ok_or(bad)?;
                let entry = list.pop().ok_or(not_found)?;
                let mut bytes = entry.into_bytes();
                bytes.push(0);
                if bytes.len() > len {
                    set_size(&mut p[1], bytes.len() as u64);
                    return Err(TeeResult::ERROR_SHORT_BUFFER.0);
                }
                if !write(pa, &bytes) {
                    return Err(bad);
                }
                set_size(&mut p[1], bytes.len() as u64);
            }
            _ => return Err(bad),
        }
        Ok(())
    }
}

impl ThreadEnv for SimEnv {
    fn thread_id(&self) -> usize {
        0
    }

    fn rpc(&mut self, a: [u64; 4]) -> RpcReturn {
        match a[0] as u32 {
            smc::RETURN_RPC_ALLOC => {
                let pa = self.alloc(a[1]);
                [0, pa >> 32, pa & 0xffff_ffff, 0, pa >> 32, pa & 0xffff_ffff, 0, 0]
            }
            smc::RETURN_RPC_FREE => {
                let cookie = (a[1] << 32) | a[2];
                self.world().allocs.remove(&cookie);
                [0; 8]
            }
            smc::RETURN_RPC_CMD => {
                self.serve_cmd((a[1] << 32) | a[2]);
                [0; 8]
            }
            _ => [0; 8],
        }
    }

    fn now_ns(&self) -> u64 {
        self.world().started.elapsed().as_nanos() as u64
    }

    fn wait_until(&mut self, deadline_ns: u64, _sleep: bool, stop: &dyn Fn() -> bool) -> bool {
        loop {
            if stop() {
                return false;
            }
            let now = self.now_ns();
            if now >= deadline_ns {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_nanos((deadline_ns - now).min(1_000_000)));
        }
    }

    fn cpu(&self) -> usize {
        0
    }

    fn foreign_interrupts(&self) -> u64 {
        0
    }

    fn enter_user(&mut self, tables: &dyn UserTables, regs: &mut UserRegs) -> UserExit {
        let Some(t) = tables.as_any().downcast_ref::<SimTables>() else { return fault() };
        let mut runner = t.runner.borrow_mut();
        if runner.is_none() {
            let mut octets = [0u8; 16];
            let Some(code) = t.code() else { return fault() };
            if !read(code, &mut octets) {
                return fault();
            }
            let uuid = Uuid::from_octets(octets);
            let w = self.world();
            *runner = match w.own {
                Some((own, entry)) if own == uuid => Some(Runner::Thread(ta::spawn(format!("ta-{uuid}"), entry))),
                _ if w.mocks.contains_key(&uuid) => Some(Runner::Mock(uuid)),
                _ => return fault(),
            };
        }
        match runner.as_mut() {
            Some(Runner::Thread(th)) => self.run_thread(t, th, regs),
            Some(Runner::Mock(uuid)) => {
                let uuid = *uuid;
                self.run_mock(t, uuid, regs)
            }
            None => fault(),
        }
    }
}
