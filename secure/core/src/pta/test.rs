//! The test PTA: exercises parameters, memrefs, RPC, the secure timer,
//! foreign interrupts, cancellation and the sleeping mutex for the test
//! suites. Command numbers and semantics: `oxtee_abi::test_pta`.

use super::{Ctx, Kind, Pta, PtaParam, expect};
use crate::msg::{Dir, Param};
use crate::sync::{SleepGuard, SleepMutex};
use alloc::vec;
use core::sync::atomic::{AtomicU32, Ordering};
use oxtee_abi::rpc;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_pta as t;
use oxtee_abi::uuid::Uuid;
use zerocopy::IntoBytes;

pub struct TestPta {
    mutex: SleepMutex,
    inside: AtomicU32,
}

impl Default for TestPta {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPta {
    pub const fn new() -> Self {
        TestPta { mutex: SleepMutex::new(), inside: AtomicU32::new(0) }
    }
}

fn pattern(i: u64) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(3)
}

fn set_value(p: &mut PtaParam, v: (u64, u64, u64)) {
    if let PtaParam::Value { a, b, c, .. } = p {
        (*a, *b, *c) = v;
    }
}

fn value_in(p: &PtaParam) -> u64 {
    match p {
        PtaParam::Value { a, .. } => *a,
        _ => 0,
    }
}

const CHUNK: usize = 512;

impl TestPta {
    fn memref(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        let dir = match params.first() {
            Some(PtaParam::Memref { dir, .. }) => *dir,
            _ => return TeeResult::ERROR_BAD_PARAMETERS,
        };
        if expect(&params[1..], &[Kind::ValueOut]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let PtaParam::Memref { buf, size, .. } = &mut params[0] else { unreachable!() };
        let (size, mut sum) = (*size, 0u64);
        if let Some(b) = buf {
            let mut chunk = [0u8; CHUNK];
            let mut off = 0;
            while off < size {
                let n = (size - off).min(CHUNK as u64) as usize;
                if dir.is_input() && b.read(ctx.mem(), off, &mut chunk[..n]).is_err() {
                    return TeeResult::ERROR_BAD_PARAMETERS;
                }
                for (i, byte) in chunk[..n].iter_mut().enumerate() {
                    sum += *byte as u64;
                    *byte = match dir {
                        Dir::InOut => *byte ^ 0x5a,
                        _ => pattern(off + i as u64),
                    };
                }
                if dir.is_output() && b.write(ctx.mem(), off, &chunk[..n]).is_err() {
                    return TeeResult::ERROR_BAD_PARAMETERS;
                }
                off += n as u64;
            }
        }
        if !dir.is_input() {
            sum = 0;
        }
        set_value(&mut params[1], (sum, size, 0));
        TeeResult::SUCCESS
    }

    fn short_buffer(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if expect(params, &[Kind::MemrefOut, Kind::ValueIn]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let need = value_in(&params[1]);
        let PtaParam::Memref { buf, size, .. } = &mut params[0] else { unreachable!() };
        let have = *size;
        *size = need;
        let Some(b) = buf.as_mut().filter(|_| have >= need) else {
            return TeeResult::ERROR_SHORT_BUFFER;
        };
        let data: alloc::vec::Vec<u8> = (0..need.min(1 << 20)).map(pattern).collect();
        if b.write(ctx.mem(), 0, &data).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        TeeResult::SUCCESS
    }

    fn rpc(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if expect(params, &[Kind::ValueOut]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let (s, ns) = match ctx.rpc.get_time() {
            Ok(t) => t,
            Err(e) => return e,
        };
        ctx.os.fault_point(t::FAULT_POINT_RPC_ARG);
        // A kernel shared-memory buffer: write through it and read it back.
        let tc = ctx.rpc.t;
        crate::hold!(shm = None, in &tc.ledger, or TeeResult::ERROR_OUT_OF_MEMORY);
        let shm_ok = match ctx.rpc.shm_alloc(rpc::SHM_TYPE_KERNEL, 4096, shm.as_mut()) {
            Ok(()) => match shm.as_mut().get().as_mut() {
                Some(a) => {
                    let data = [0xa5u8; 256];
                    let mut back = [0u8; 256];
                    let ok = a.pages().is_some_and(|p| {
                        (0..16).all(|i| {
                            p.write(ctx.rpc.mem, i * 256, &data).is_ok()
                                && p.read(ctx.rpc.mem, i * 256, &mut back).is_ok()
                                && back == data
                        })
                    });
                    ok && a.free(&mut ctx.rpc).is_ok()
                }
                None => false,
            },
            Err(_) => false,
        };
        set_value(&mut params[0], (s, ns, shm_ok as u64));
        TeeResult::SUCCESS
    }

    fn wait(&self, ctx: &mut Ctx, params: &mut [PtaParam], sleep: bool) -> TeeResult {
        let want: &[Kind] = if sleep { &[Kind::ValueIn] } else { &[Kind::ValueIn, Kind::ValueOut] };
        // An optional memref in p2 is held (unused) for the whole wait.
        let held = matches!(params.get(2), Some(PtaParam::Memref { .. }));
        let n = if held { 2 } else { params.len() };
        if expect(&params[..n.min(params.len())], want).is_err() || (held && params.len() > 3) {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let ms = value_in(&params[0]).min(60_000);
        let cpu0 = ctx.env().cpu();
        let intr0 = ctx.env().foreign_interrupts();
        let deadline = ctx.env().now_ns() + ms * 1_000_000;
        let cancel = ctx.cancel;
        let stop = || cancel.load(Ordering::Acquire);
        let finished = ctx.rpc.env.wait_until(deadline, sleep, &stop);
        if !sleep {
            let intr = ctx.env().foreign_interrupts() - intr0;
            let cpu1 = ctx.env().cpu();
            set_value(&mut params[1], (intr, cpu0 as u64, cpu1 as u64));
        }
        if finished { TeeResult::SUCCESS } else { TeeResult::ERROR_CANCEL }
    }

    fn stats(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if expect(params, &[Kind::ValueOut, Kind::ValueOut]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let heap = oxtee_guard::heap::used() as u64;
        let shm = ctx.os.shm.stats();
        set_value(&mut params[0], (heap, shm.buffers as u64, 0));
        let busy = ctx.os.threads.busy() as u64;
        set_value(&mut params[1], (busy, ctx.os.sessions.count() as u64, 0));
        TeeResult::SUCCESS
    }

    fn mutex(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if expect(params, &[Kind::ValueIn, Kind::ValueOut]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let ms = value_in(&params[0]).min(10_000);
        let tc = ctx.rpc.t;
        crate::hold!(guard = None, in &tc.ledger, or TeeResult::ERROR_OUT_OF_MEMORY);
        let waits = match self.mutex.lock(&mut ctx.rpc, &ctx.os.notif) {
            Ok(w) => w,
            Err(e) => return e,
        };
        *guard.as_mut().get() = Some(SleepGuard::held(&self.mutex, tc));
        let violations = (self.inside.fetch_add(1, Ordering::AcqRel) != 0) as u64;
        let deadline = ctx.env().now_ns() + ms * 1_000_000;
        ctx.rpc.env.wait_until(deadline, false, &|| false);
        self.inside.fetch_sub(1, Ordering::AcqRel);
        ctx.os.fault_point(t::FAULT_POINT_SLEEP_LOCK);
        if let Some(mut g) = guard.as_mut().get().take()
            && let Err(e) = g.unlock(&mut ctx.rpc)
        {
            return e;
        }
        set_value(&mut params[1], (violations, waits as u64, 0));
        TeeResult::SUCCESS
    }

    fn resume_cpu(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if expect(params, &[Kind::ValueOut]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let before = ctx.env().cpu() as u64;
        if let Err(e) = ctx.rpc.get_time() {
            return e;
        }
        let after = ctx.env().cpu() as u64;
        set_value(&mut params[0], (before, after, 0));
        TeeResult::SUCCESS
    }
}

impl TestPta {
    fn supp_fs(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> Result<(), TeeResult> {
        expect(params, &[Kind::ValueIn, Kind::ValueOut])?;
        let len = value_in(&params[0]).clamp(1, 1 << 20);
        // The supplicant removes an emptied file's directory: the store's
        // marker keeps its root from going with this test file.
        crate::user::storage::keep_root(&mut crate::storage::ree::ReeFs::new(&mut ctx.rpc));
        let name = b"oxtee-supplicant-test\0";
        const DATA: u64 = 256;
        let tc = ctx.rpc.t;
        crate::hold!(shm = None, in &tc.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        ctx.rpc.shm_alloc(rpc::SHM_TYPE_APPL, DATA + len, shm.as_mut())?;
        let (buf, cookie) = match shm.as_mut().get().as_ref() {
            Some(a) => (a.pages().cloned().ok_or(TeeResult::ERROR_GENERIC)?, a.cookie()),
            None => return Err(TeeResult::ERROR_GENERIC),
        };
        let result = (|| -> Result<u64, TeeResult> {
            let rm = |dir, offs, size| Param::Rmem { dir, offs, size, shm_ref: cookie };
            let v = |a: u32, b: u64, c: u64| Param::Value { dir: Dir::In, a: a as u64, b, c };
            let out = || Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 };
            let bad = |_| TeeResult::ERROR_COMMUNICATION;
            buf.write(ctx.mem(), 0, name).map_err(bad)?;
            let data: alloc::vec::Vec<u8> = (0..len).map(pattern).collect();
            buf.write(ctx.mem(), DATA, &data).map_err(bad)?;
            let fd_of = |p: &[Param]| match p.get(2) {
                Some(Param::Value { a, .. }) => Ok(*a),
                _ => Err(TeeResult::ERROR_COMMUNICATION),
            };
            let name_ref = rm(Dir::In, 0, name.len() as u64);
            let mut p = [v(rpc::FS_CREATE, 0, 0), name_ref, out()];
            ctx.rpc.cmd(rpc::CMD_FS, &mut p)?;
            let fd = fd_of(&p)?;
            ctx.rpc.cmd(rpc::CMD_FS, &mut [v(rpc::FS_WRITE, fd, 0), rm(Dir::In, DATA, len)])?;
            ctx.rpc.cmd(rpc::CMD_FS, &mut [v(rpc::FS_CLOSE, fd, 0)])?;
            buf.write(ctx.mem(), DATA, &vec![0u8; len as usize]).map_err(bad)?;
            let mut p = [v(rpc::FS_OPEN, 0, 0), name_ref, out()];
            ctx.rpc.cmd(rpc::CMD_FS, &mut p)?;
            let fd = fd_of(&p)?;
            let mut p = [v(rpc::FS_READ, fd, 0), rm(Dir::Out, DATA, len)];
            ctx.rpc.cmd(rpc::CMD_FS, &mut p)?;
            ctx.rpc.cmd(rpc::CMD_FS, &mut [v(rpc::FS_CLOSE, fd, 0)])?;
            ctx.rpc.cmd(rpc::CMD_FS, &mut [v(rpc::FS_REMOVE, 0, 0), name_ref])?;
            let got = match p.get(1) {
                Some(Param::Rmem { size, .. }) => *size,
                _ => 0,
            };
            let mut back = vec![0u8; len as usize];
            buf.read(ctx.mem(), DATA, &mut back).map_err(bad)?;
            let ok = got == len && back == data;
            Ok(if ok { len } else { 0 })
        })();
        if let Some(a) = shm.as_mut().get().as_mut() {
            a.free(&mut ctx.rpc)?;
        }
        let _ = cookie;
        let verified = result?;
        set_value(&mut params[1], (verified, 0, 0));
        if verified == len { Ok(()) } else { Err(TeeResult::ERROR_CORRUPT_OBJECT) }
    }
}

impl TestPta {
    fn fault(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if expect(params, &[Kind::ValueIn]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let PtaParam::Value { a: point, b, .. } = params[0] else {
            return TeeResult::ERROR_BAD_PARAMETERS;
        };
        let (point, kind, skip) = (point as u32, (b & 0xffff) as u32, ((b >> 16) & 0xffff) as u32);
        if point != 0 && !(t::FAULT_PANIC..=t::FAULT_STACK_OVERFLOW).contains(&kind) {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        match point {
            t::FAULT_POINT_NOW => crate::fault::raise(kind),
            t::FAULT_POINT_SPIN_LOCK => ctx.os.sessions.with_lock_held(|| crate::fault::raise(kind)),
            0..=t::FAULT_POINT_FINISH => {
                ctx.os.faults.arm(point, kind, skip);
                TeeResult::SUCCESS
            }
            _ => TeeResult::ERROR_BAD_PARAMETERS,
        }
    }

    fn resources(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if expect(params, &[Kind::MemrefOut]).is_err() {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let r = ctx.os.resources();
        let bytes = r.as_bytes();
        let PtaParam::Memref { buf, size, .. } = &mut params[0] else {
            return TeeResult::ERROR_BAD_PARAMETERS;
        };
        let have = *size;
        *size = bytes.len() as u64;
        match buf {
            Some(b) if have >= bytes.len() as u64 => match b.write(ctx.rpc.mem, 0, bytes) {
                Ok(()) => TeeResult::SUCCESS,
                Err(_) => TeeResult::ERROR_BAD_PARAMETERS,
            },
            _ => TeeResult::ERROR_SHORT_BUFFER,
        }
    }
}

impl Pta for TestPta {
    fn uuid(&self) -> Uuid {
        t::UUID
    }

    fn name(&self) -> &'static str {
        "oxtee-test.pta"
    }

    fn open_session(&self, _ctx: &mut Ctx, params: &mut [PtaParam]) -> Result<(), TeeResult> {
        // An optional value inout proves open-session parameters travel.
        if let Some(PtaParam::Value { dir: Dir::InOut, a, .. }) = params.first_mut() {
            *a += 1;
        }
        Ok(())
    }

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        match cmd {
            t::CMD_NOOP => TeeResult::SUCCESS,
            t::CMD_VALUES => {
                if expect(params, &[Kind::ValueInOut, Kind::ValueOut]).is_err() {
                    return TeeResult::ERROR_BAD_PARAMETERS;
                }
                let (a, b) = match params[0] {
                    PtaParam::Value { a, b, .. } => (a, b),
                    _ => unreachable!(),
                };
                set_value(&mut params[0], (a.wrapping_add(1), b.wrapping_mul(2), 0));
                set_value(&mut params[1], (a ^ b, 0xc0ffee, a.wrapping_add(b)));
                TeeResult::SUCCESS
            }
            t::CMD_MEMREF => self.memref(ctx, params),
            t::CMD_SHORT_BUFFER => self.short_buffer(ctx, params),
            t::CMD_RPC => self.rpc(ctx, params),
            t::CMD_SLEEP => self.wait(ctx, params, true),
            t::CMD_SPIN => self.wait(ctx, params, false),
            t::CMD_STATS => self.stats(ctx, params),
            t::CMD_MUTEX => self.mutex(ctx, params),
            t::CMD_RESUME_CPU => self.resume_cpu(ctx, params),
            t::CMD_SUPP_PING => {
                // A UUID no TA has; a null memref asks only for the size.
                let mut p = [
                    Param::Value { dir: Dir::In, a: u64::MAX, b: u64::MAX, c: 0 },
                    Param::Tmem { dir: Dir::Out, buf: 0, size: 0, shm_ref: 0, noncontig: false },
                ];
                match ctx.rpc.cmd(rpc::CMD_LOAD_TA, &mut p) {
                    Err(TeeResult::ERROR_ITEM_NOT_FOUND) => TeeResult::SUCCESS,
                    Ok(_) => TeeResult::ERROR_GENERIC,
                    Err(e) => e,
                }
            }
            t::CMD_STACK_OVERFLOW => TeeResult(recurse(0) as u32),
            t::CMD_USER_STATS => {
                if expect(params, &[Kind::ValueOut]).is_err() {
                    return TeeResult::ERROR_BAD_PARAMETERS;
                }
                let (live, peak) = (ctx.os.user.live() as u64, ctx.os.user.peak_running() as u64);
                set_value(&mut params[0], (live, peak, 0));
                TeeResult::SUCCESS
            }
            t::CMD_SUPP_FS => match self.supp_fs(ctx, params) {
                Ok(()) => TeeResult::SUCCESS,
                Err(e) => e,
            },
            t::CMD_FAULT => self.fault(ctx, params),
            t::CMD_RESOURCES => self.resources(ctx, params),
            _ => TeeResult::ERROR_NOT_SUPPORTED,
        }
    }
}

/// Deep recursion no optimiser can flatten (for CMD_STACK_OVERFLOW).
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    if core::hint::black_box(depth) == u64::MAX {
        return frame[0];
    }
    recurse(depth + 1).wrapping_add(frame[63])
}
