//! Yielding calls: locate the caller's `optee_msg_arg`, copy it in once,
//! validate it, serve it on this trusted thread, and copy the answer back.
//!
//! Everything a call holds is either in the thread's context (the answer's
//! location, its RPC buffer, jobs it owes) or in a frame armed in the
//! thread's ledger (the message, parameters, registered-buffer uses, its
//! running-call entry, sessions being opened or closed). An aborted call
//! (`finish_aborted`) is therefore answered and leaves nothing behind.

use crate::Os;
use crate::async_notif::Event;
use crate::env::ThreadEnv;
use crate::msg::{self, Dir, Message, Param};
use crate::pta::{Ctx, PtaBuf, PtaParam};
use crate::rpc::{RPC_MAX_PARAMS, Rpc, RpcArg};
use crate::session::{Reservation, Session, Target};
use crate::shm::{Pages, ShmError, ShmUse};
use crate::threads::{Job, Reply, RunningCall};
use crate::user::CallParam;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use log::{debug, warn};
use oxtee_abi::addr::NsPhys;
use oxtee_abi::msg::{self as m, MsgArgHeader};
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as tp;
use oxtee_abi::uuid::Uuid;
use zerocopy::{FromBytes, IntoBytes};

/// Where the caller's argument (and RPC argument) live.
struct ArgLocation {
    arg: Pages,
    rpc: Option<Pages>,
    /// Registered buffer holding the argument (CALL_WITH_REGD_ARG): a use
    /// of it is held until the answer is written.
    held: Option<u64>,
}

/// Parameters a TA call carries (GP: four).
const TA_MAX_PARAMS: usize = 4;

const VALID_LOGINS: [u32; 7] = [
    m::LOGIN_PUBLIC,
    m::LOGIN_USER,
    m::LOGIN_GROUP,
    m::LOGIN_APPLICATION,
    m::LOGIN_APPLICATION_USER,
    m::LOGIN_APPLICATION_GROUP,
    m::LOGIN_REE_KERNEL,
];

fn join(hi: u64, lo: u64) -> u64 {
    (hi << 32) | (lo & 0xffff_ffff)
}

type SmcResult = [u64; 4];

fn smc_err(code: u32) -> SmcResult {
    [code as u64, 0, 0, 0]
}

const OOM: (TeeResult, Origin) = (TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee);

/// Why a call was aborted (what the platform saw).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbortCause {
    /// A kernel exception, a panic or a stack overflow.
    Fault,
    /// An allocation failed.
    OutOfMemory,
}

/// What a PTA call holds: its parameters, a use of every registered buffer
/// they reference, and its running-call entry.
struct PtaFrame<'a> {
    uses: [Option<ShmUse<'a>>; TA_MAX_PARAMS],
    params: [PtaParam; TA_MAX_PARAMS],
    n: usize,
    running: Option<RunningCall<'a>>,
}

impl PtaFrame<'_> {
    fn new() -> Self {
        PtaFrame {
            uses: [None, None, None, None],
            params: [PtaParam::None, PtaParam::None, PtaParam::None, PtaParam::None],
            n: 0,
            running: None,
        }
    }
}

/// A user-TA call from the normal world: the PTA-level view of its
/// parameters (with the buffer uses), and their secure copies.
struct UserFrame<'a> {
    pta: PtaFrame<'a>,
    call: [CallParam; 4],
}

impl Os {
    /// Finds the argument named by a0..a3.
    fn locate(&self, a: &[u64; 8]) -> Result<(ArgLocation, MsgArgHeader), u32> {
        let fid = a[0] as u32;
        let with_rpc = fid != smc::CALL_WITH_ARG;
        let hdr_size = core::mem::size_of::<MsgArgHeader>() as u64;
        let rpc_size = msg::size_for(RPC_MAX_PARAMS) as u64;
        // First learn the size from the header, then take one full copy and
        // only ever use that copy.
        let (head, regd) = if fid == smc::CALL_WITH_REGD_ARG {
            let cookie = join(a[1], a[2]);
            let offs = a[3];
            let head = self.shm.acquire(cookie, offs, hdr_size).map_err(|_| smc::RETURN_EBADADDR)?;
            (head.pages().clone(), Some((cookie, offs)))
        } else {
            let pa = join(a[1], a[2]);
            if !pa.is_multiple_of(m::ARG_ALIGN as u64) {
                return Err(smc::RETURN_EBADADDR);
            }
            (self.shm.ns_contiguous(NsPhys::new(pa), hdr_size).map_err(|_| smc::RETURN_EBADADDR)?, None)
        };
        let mut hb = [0u8; 32];
        head.read(self.mem, 0, &mut hb).map_err(|_| smc::RETURN_EBADADDR)?;
        let (hdr, _) = MsgArgHeader::read_from_prefix(&hb).map_err(|_| smc::RETURN_EBADADDR)?;
        let n = hdr.num_params as usize;
        if n > m::MAX_NUM_PARAMS as usize {
            return Err(smc::RETURN_EBADADDR);
        }
        let size = msg::size_for(n) as u64;
        let total = size + if with_rpc { rpc_size } else { 0 };
        let (whole, held) = match regd {
            Some((cookie, offs)) => {
                let u = self.shm.acquire(cookie, offs, total).map_err(|_| smc::RETURN_EBADADDR)?;
                let pages = u.pages().clone();
                (pages, Some(u))
            }
            None => {
                // Outside the static pool an argument must be one page-aligned
                // page, as OP-TEE requires (only that page is shared).
                let pa = NsPhys::new(join(a[1], a[2]));
                let in_pool = self.shm.contiguous(pa, total).is_ok();
                if !in_pool && (!pa.is_aligned(4096) || total > 4096) {
                    return Err(smc::RETURN_EBADADDR);
                }
                (self.shm.ns_contiguous(pa, total).map_err(|_| smc::RETURN_EBADADDR)?, None)
            }
        };
        let arg = whole.slice(0, size).map_err(|_| smc::RETURN_EBADADDR)?;
        let rpc = if with_rpc { Some(whole.slice(size, rpc_size).map_err(|_| smc::RETURN_EBADADDR)?) } else { None };
        Ok((ArgLocation { arg, rpc, held: held.map(ShmUse::into_cookie) }, hdr))
    }

    /// Serves one yielding call (CALL_WITH_ARG / _RPC_ARG / _REGD_ARG) on
    /// the calling trusted thread. Returns a0..a3 for the normal world.
    pub fn serve(&self, env: &mut dyn ThreadEnv, a: [u64; 8]) -> SmcResult {
        let t = self.threads.ctx(env.thread_id());
        t.begin();
        let (loc, hdr) = match self.locate(&a) {
            Ok(l) => l,
            Err(code) => return smc_err(code),
        };
        // The location's page lists are on the heap: an aborted call drops
        // them from the ledger (the registered-buffer use is the reply's).
        let held = loc.held;
        let refuse = || {
            if let Some(c) = held {
                self.shm.release(c);
            }
            smc_err(smc::RETURN_ENOMEM)
        };
        crate::hold!(loc = loc, in &t.ledger, or refuse());
        let loc: &ArgLocation = loc.as_mut().get();
        // From here an aborted call is answered through the thread, which
        // also holds the use of a registered buffer the argument is in.
        let n = hdr.num_params as usize;
        let reply = Reply { arg: loc.arg.clone(), hdr, held };
        *t.reply.lock() = Some(reply);
        // The caller's RPC argument, else a cached buffer, is this thread's.
        let own = loc.rpc.as_ref().map(|p| RpcArg { pages: p.clone(), cookie: 0, owned: false });
        let rpc_arg = match own {
            Some(a) => Some(a),
            None => self.fast.shm_cache.take(),
        };
        *t.rpc_arg.lock() = rpc_arg;
        let mut rpc = Rpc { env, mem: self.mem, shm: &self.shm, t };
        let result = self.serve_located(&mut rpc, &loc.arg, n);
        self.end_call(&mut rpc);
        result
    }

    fn serve_located(&self, rpc: &mut Rpc, arg: &Pages, n: usize) -> SmcResult {
        let t = rpc.t;
        let size = msg::size_for(n);
        let fail = |code| {
            self.drop_reply(t);
            smc_err(code)
        };
        crate::hold!(copy = Vec::new(), in &t.ledger, or fail(smc::RETURN_ENOMEM));
        let bytes: &mut Vec<u8> = copy.as_mut().get();
        if bytes.try_reserve_exact(size).is_err() {
            return fail(smc::RETURN_ENOMEM);
        }
        bytes.resize(size, 0);
        if arg.read(self.mem, 0, bytes).is_err() {
            return fail(smc::RETURN_EBADADDR);
        }
        let Ok((hdr, _)) = MsgArgHeader::read_from_prefix(bytes) else {
            return fail(smc::RETURN_EBADADDR);
        };
        // Answers echo the private copy's header.
        if let Some(r) = t.reply.lock().as_mut() {
            r.hdr = hdr;
        }
        match msg::parse(bytes, n) {
            Ok(parsed) => {
                crate::hold!(message = parsed, in &t.ledger, or self.answer_header(t, TeeResult::ERROR_OUT_OF_MEMORY));
                let message = message.as_mut().get();
                match self.dispatch(rpc, message) {
                    Ok(()) => match msg::encode_into(&message.hdr, &message.params, &message.meta, bytes) {
                        Some(len) => self.answer(t, &bytes[..len]),
                        None => self.answer_header(t, TeeResult::ERROR_GENERIC),
                    },
                    Err(code) => {
                        self.drop_reply(t);
                        smc_err(code)
                    }
                }
            }
            Err(msg::MsgError::OutOfMemory) => self.answer_header(t, TeeResult::ERROR_OUT_OF_MEMORY),
            Err(e) => {
                debug!("malformed message: {e:?}");
                let mut hdr = hdr;
                hdr.ret = TeeResult::ERROR_BAD_PARAMETERS.0;
                hdr.ret_origin = Origin::Comms as u32;
                self.answer(t, hdr.as_bytes())
            }
        }
    }

    /// Writes `bytes` at the start of the call's argument and lets go of it.
    fn answer(&self, t: &crate::threads::ThreadCtx, bytes: &[u8]) -> SmcResult {
        let Some(reply) = t.reply.lock().take() else {
            return smc_err(smc::RETURN_ENOTAVAIL);
        };
        let r = reply.arg.write(self.mem, 0, bytes);
        if let Some(c) = reply.held {
            self.shm.release(c);
        }
        match r {
            Ok(()) => {
                t.answered.store(true, Ordering::Release);
                smc_err(smc::RETURN_OK)
            }
            Err(_) => smc_err(smc::RETURN_EBADADDR),
        }
    }

    /// Answers with the caller's header and `ret` (origin TEE).
    fn answer_header(&self, t: &crate::threads::ThreadCtx, ret: TeeResult) -> SmcResult {
        let hdr = match t.reply.lock().as_ref() {
            Some(r) => r.hdr,
            None => return smc_err(smc::RETURN_ENOTAVAIL),
        };
        let hdr = MsgArgHeader { ret: ret.0, ret_origin: Origin::Tee as u32, ..hdr };
        self.answer(t, hdr.as_bytes())
    }

    fn drop_reply(&self, t: &crate::threads::ThreadCtx) {
        let reply = t.reply.lock().take();
        if let Some(c) = reply.and_then(|r| r.held) {
            self.shm.release(c);
        }
    }

    /// Runs the jobs the thread owes (see `threads::Job`). A job being run
    /// is armed: if the call is aborted meanwhile, it goes back on the
    /// queue for the abort path to run again.
    pub(crate) fn run_jobs(&self, rpc: &mut Rpc) {
        let t = rpc.t;
        while let Some(job) = t.next_job(false) {
            crate::hold!(pending = PendingJob { t, job: Some(job) }, in &t.ledger);
            let Some(job) = pending.as_mut().get().job.as_ref() else { continue };
            match job {
                Job::Wake(key) => {
                    let _ = rpc.notif_send(*key);
                }
                Job::ShmFree { kind, cookie } => {
                    let _ = rpc.shm_free(*kind, *cookie);
                }
                Job::Release(inst) => self.release_instance(rpc, inst),
                Job::CloseOwned(id) => self.close_owned(rpc, *id),
            }
            pending.as_mut().get().job = None;
        }
    }

    fn give_back_rpc_arg(&self, rpc: &mut Rpc, arg: RpcArg) {
        if arg.owned
            && let Err(arg) = self.fast.shm_cache.keep(arg)
        {
            rpc.free_arg(arg);
        }
    }

    /// The end of every call, ordinary or aborted: what the thread owes is
    /// done and its RPC buffer goes back to the cache (or the normal world).
    fn end_call(&self, rpc: &mut Rpc) {
        self.run_jobs(rpc);
        self.storage.end_of_call(self, rpc);
        rpc.drop_payload();
        let arg = rpc.t.rpc_arg.lock().take();
        if let Some(arg) = arg {
            self.give_back_rpc_arg(rpc, arg);
        }
        self.drop_reply(rpc.t);
    }

    /// Gives up on the call on thread `id` (a second fault while its abort
    /// was being finished): nothing it armed runs, its registered-buffer
    /// use is given back, the thread can serve again.
    pub fn abandon_call(&self, id: usize) -> usize {
        let (held, forgotten) = self.threads.ctx(id).abandon();
        if let Some(c) = held {
            self.shm.release(c);
        }
        forgotten
    }

    /// Finishes a call the platform aborted on this thread, after it has
    /// unwound the thread's ledger (`Ledger::unwind`) and restarted the
    /// thread on a fresh stack: runs what the unwinding queued, answers the
    /// caller (TEE_ERROR_TARGET_DEAD if the call died inside a user TA,
    /// which is killed; else TEE_ERROR_OUT_OF_MEMORY for an allocation
    /// failure, TEE_ERROR_GENERIC otherwise; origin TEE) and ends the call.
    pub fn finish_aborted(&self, env: &mut dyn ThreadEnv, cause: AbortCause) -> SmcResult {
        let t = self.threads.ctx(env.thread_id());
        self.aborted.fetch_add(1, Ordering::Relaxed);
        let mut rpc = Rpc { env, mem: self.mem, shm: &self.shm, t };
        self.run_jobs(&mut rpc);
        self.fault_point(tp::FAULT_POINT_FINISH);
        // A TA the call was inside died with it: that is what its clients
        // see from now on, whatever the cause.
        let ret = match cause {
            _ if t.killed_ta() => TeeResult::ERROR_TARGET_DEAD,
            AbortCause::OutOfMemory => TeeResult::ERROR_OUT_OF_MEMORY,
            AbortCause::Fault => TeeResult::ERROR_GENERIC,
        };
        let r = if t.answered.load(Ordering::Acquire) {
            // Aborted after its answer was written: it stands.
            warn!("thread {}: call aborted ({cause:?}) after it was answered", t.id);
            smc_err(smc::RETURN_OK)
        } else {
            warn!("thread {}: call aborted ({cause:?}); answered {ret:?}", t.id);
            self.answer_header(t, ret)
        };
        self.end_call(&mut rpc);
        r
    }

    fn dispatch(&self, rpc: &mut Rpc, message: &mut Message) -> Result<(), u32> {
        let hdr = &mut message.hdr;
        let (ret, origin) = match hdr.cmd {
            m::CMD_OPEN_SESSION => self.open_session(rpc, message),
            m::CMD_INVOKE_COMMAND => self.invoke(rpc, message),
            m::CMD_CLOSE_SESSION if !message.params.is_empty() => (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee),
            m::CMD_CLOSE_SESSION => self.close_session(rpc, hdr.session),
            // As OP-TEE: the session's running calls are flagged; the cancel
            // id is not matched (Linux only cancels sessions it holds).
            m::CMD_CANCEL if !message.params.is_empty() || self.sessions.get(hdr.session).is_none() => {
                (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee)
            }
            m::CMD_CANCEL => {
                self.threads.cancel(hdr.session);
                (TeeResult::SUCCESS, Origin::Tee)
            }
            m::CMD_REGISTER_SHM => self.register_shm(rpc, &message.params),
            m::CMD_UNREGISTER_SHM => self.unregister_shm(&message.params)?,
            // Without a doorbell these are unknown commands, as in OP-TEE
            // built without asynchronous notifications. Parameters are
            // ignored, as there.
            m::CMD_DO_BOTTOM_HALF if self.async_notif.available() => self.async_notif_call(rpc, Event::BottomHalf),
            m::CMD_STOP_ASYNC_NOTIF if self.async_notif.available() => self.async_notif_call(rpc, Event::Stopped),
            _ => return Err(smc::RETURN_EBADCMD),
        };
        message.hdr.ret = ret.0;
        message.hdr.ret_origin = origin as u32;
        Ok(())
    }

    /// DO_BOTTOM_HALF / STOP_ASYNC_NOTIF: the drivers' yielding work, on
    /// this thread.
    fn async_notif_call(&self, rpc: &mut Rpc, ev: Event) -> (TeeResult, Origin) {
        let t = rpc.t;
        let mut ctx = Ctx { os: self, rpc: rpc.reborrow(), cancel: &t.cancel, session: 0, ta: None };
        match self.async_notif.deliver(&mut ctx, ev) {
            Ok(()) => (TeeResult::SUCCESS, Origin::Tee),
            Err(e) => (e, Origin::Tee),
        }
    }

    fn close_session(&self, rpc: &mut Rpc, id: u32) -> (TeeResult, Origin) {
        // Sessions a TA opened are closed by that TA.
        match self.sessions.get(id) {
            Some(s) if s.owner.is_some() => return (TeeResult::ERROR_ITEM_NOT_FOUND, Origin::Tee),
            None => return (TeeResult::ERROR_ITEM_NOT_FOUND, Origin::Tee),
            Some(_) => {}
        }
        let t = rpc.t;
        crate::hold!(closing = self.sessions.remove(id), in &t.ledger, or OOM);
        match closing.as_mut().get().as_ref() {
            Some(s) => {
                match &s.target {
                    Target::Pta(p) => self.pta_close(rpc, *p, id, None),
                    Target::User(inst) => self.user_close(rpc, id, s, inst),
                }
                (TeeResult::SUCCESS, Origin::Tee)
            }
            None => (TeeResult::ERROR_ITEM_NOT_FOUND, Origin::Tee),
        }
    }

    fn register_shm(&self, rpc: &mut Rpc, params: &[Param]) -> (TeeResult, Origin) {
        let [Param::Tmem { dir: Dir::Out, buf, size, shm_ref, noncontig: true }] = params else {
            return (shm_result(Err(ShmError::BadParameters)), Origin::Tee);
        };
        let t = rpc.t;
        let r = self.shm.check_register(*shm_ref, *size).and_then(|()| {
            let pages = self.shm.read_page_list(self.mem, &t.ledger, *buf, *size)?;
            crate::hold!(pages = Some(pages), in &t.ledger, or Err(ShmError::OutOfMemory));
            self.fault_point(tp::FAULT_POINT_REGISTER_SHM);
            match pages.as_mut().get().take() {
                Some(p) => self.shm.insert(*shm_ref, p),
                None => Err(ShmError::BadParameters),
            }
        });
        (shm_result(r), Origin::Tee)
    }

    fn unregister_shm(&self, params: &[Param]) -> Result<(TeeResult, Origin), u32> {
        let r = match params {
            [Param::Rmem { shm_ref, .. }] => self.shm.unregister(*shm_ref),
            _ => Err(ShmError::BadParameters),
        };
        match r {
            // A buffer a running call uses cannot go: the SMC itself fails.
            Err(ShmError::Busy) => Err(smc::RETURN_EBUSY),
            Err(ShmError::NotFound) => Ok((TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee)),
            r => Ok((shm_result(r), Origin::Tee)),
        }
    }

    /// Turns message parameters into what a PTA sees, taking a use of every
    /// registered buffer referenced (kept in the caller's frame).
    fn to_pta_params<'a>(&'a self, rpc: &Rpc, params: &[Param], frame: &mut PtaFrame<'a>) -> Result<(), TeeResult> {
        if params.len() > TA_MAX_PARAMS {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        for (i, p) in params.iter().enumerate() {
            frame.params[i] = match *p {
                Param::None => PtaParam::None,
                Param::Value { dir, a, b, c } => PtaParam::Value { dir, a, b, c },
                // A null memref: OP-TEE shows it to the TA with size 0.
                Param::Tmem { dir, buf: 0, .. } => PtaParam::Memref { dir, buf: None, size: 0 },
                Param::Tmem { dir, buf, size, noncontig, .. } => {
                    let pages = if noncontig {
                        self.shm.read_page_list(self.mem, &rpc.t.ledger, buf, size)
                    } else {
                        self.shm.contiguous(NsPhys::new(buf), size)
                    };
                    let pages = pages.map_err(|e| match e {
                        ShmError::OutOfMemory => TeeResult::ERROR_OUT_OF_MEMORY,
                        _ => TeeResult::ERROR_BAD_PARAMETERS,
                    })?;
                    PtaParam::Memref { dir, buf: Some(PtaBuf::Ns(pages)), size }
                }
                // Over FF-A these are FMEM: the invalid handle is a null
                // memref, the offset word carries the in-page offset too.
                Param::Rmem { dir, shm_ref: oxtee_abi::msg::FMEM_INVALID_GLOBAL_ID, .. } if self.shm.ffa_conduit() => {
                    PtaParam::Memref { dir, buf: None, size: 0 }
                }
                Param::Rmem { dir, offs, size, shm_ref } => {
                    let offs = if self.shm.ffa_conduit() { crate::rpc::fmem_offset(offs) } else { offs };
                    let u = self.shm.acquire(shm_ref, offs, size).map_err(|e| match e {
                        ShmError::BadParameters => TeeResult::ERROR_SECURITY,
                        _ => TeeResult::ERROR_BAD_PARAMETERS,
                    })?;
                    let pages = u.pages().clone();
                    frame.uses[i] = Some(u);
                    PtaParam::Memref { dir, buf: Some(PtaBuf::Ns(pages)), size }
                }
            };
            frame.n = i + 1;
        }
        Ok(())
    }

    /// Copies what a PTA produced into the message's output parameters.
    fn write_back(params: &mut [Param], pta: &[PtaParam]) {
        for (p, q) in params.iter_mut().zip(pta) {
            match (p, q) {
                // Values carry a and b both ways; c is left as it was (OP-TEE).
                (Param::Value { dir, a, b, .. }, PtaParam::Value { a: qa, b: qb, .. }) if dir.is_output() => {
                    (*a, *b) = (*qa, *qb);
                }
                (Param::Tmem { dir, size, .. } | Param::Rmem { dir, size, .. }, PtaParam::Memref { size: qs, .. })
                    if dir.is_output() =>
                {
                    *size = *qs;
                }
                _ => {}
            }
        }
    }

    fn run_pta<F>(&self, rpc: &mut Rpc, session: u32, params: &mut [Param], f: F) -> (TeeResult, Origin)
    where
        F: FnOnce(&mut Ctx, &mut [PtaParam]) -> TeeResult,
    {
        let t = rpc.t;
        crate::hold!(frame = PtaFrame::new(), in &t.ledger, or OOM);
        let fr = frame.as_mut().get();
        if let Err(e) = self.to_pta_params(rpc, params, fr) {
            return (e, Origin::Tee);
        }
        fr.running = Some(t.start_call(session));
        self.fault_point(tp::FAULT_POINT_PTA_CALL);
        let ret = {
            let mut ctx = Ctx { os: self, rpc: rpc.reborrow(), cancel: &t.cancel, session, ta: None };
            f(&mut ctx, &mut fr.params[..fr.n])
        };
        fr.running = None;
        Self::write_back(params, &fr.params[..fr.n]);
        (ret, Origin::TrustedApp)
    }

    fn open_session(&self, rpc: &mut Rpc, message: &mut Message) -> (TeeResult, Origin) {
        let meta_ok = message.meta.len() >= 2 && message.meta[0] && message.meta[1];
        let (ta, client, login) = match (&message.params.first(), &message.params.get(1)) {
            (
                Some(Param::Value { dir: Dir::In, a, b, .. }),
                Some(Param::Value { dir: Dir::In, a: ca, b: cb, c: cc, .. }),
            ) if meta_ok => (Uuid::from_msg_value(*a, *b), Uuid::from_msg_value(*ca, *cb), *cc),
            _ => return (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee),
        };
        let Some(login) = u32::try_from(login).ok().filter(|l| VALID_LOGINS.contains(l)) else {
            return (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee);
        };
        let client = if login == m::LOGIN_PUBLIC || login == m::LOGIN_REE_KERNEL { Uuid::NIL } else { client };
        if message.meta[2..].iter().any(|m| *m) {
            return (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee);
        }
        let Some(pta) = self.ptas.iter().copied().find(|p| p.uuid() == ta) else {
            return self
                .run_user(rpc, 0, &mut message.params[2..], |os, rpc, params, cancel| {
                    match os.user_open(rpc, ta, login, client, None, params, cancel, u64::MAX) {
                        Ok(id) => (TeeResult::SUCCESS, Origin::TrustedApp, id),
                        Err((e, o)) => (e, o, 0),
                    }
                })
                .map(|id| message.hdr.session = id);
        };
        if !pta.accepts_login(login) {
            debug!("{}: login {login:#x} refused", pta.name());
            return (TeeResult::ERROR_ACCESS_DENIED, Origin::Tee);
        }
        let t = rpc.t;
        let reserved: Result<Reservation, TeeResult> = self.sessions.reserve(None);
        crate::hold!(res = reserved, in &t.ledger, or OOM);
        if let Err(e) = res.as_mut().get() {
            return (*e, Origin::Tee);
        }
        let (ret, origin) = self.run_pta(rpc, 0, &mut message.params[2..], |ctx, p| match pta.open_session(ctx, p) {
            Ok(()) => TeeResult::SUCCESS,
            Err(e) => e,
        });
        if ret == TeeResult::SUCCESS
            && let Ok(r) = res.as_mut().get()
        {
            message.hdr.session = r.commit(Session::new(Target::Pta(pta), client, login, None));
        }
        (ret, origin)
    }

    /// Serves a call to a user TA: the normal world's buffers are mapped
    /// into the TA for the call (see docs/memrefs.md), nothing is copied.
    /// `f` returns the result, its origin and a session id (open only).
    fn run_user<F>(&self, rpc: &mut Rpc, session: u32, params: &mut [Param], f: F) -> UserOutcome
    where
        F: FnOnce(&Os, &mut Rpc, &mut [CallParam; 4], &AtomicBool) -> (TeeResult, Origin, u32),
    {
        let t = rpc.t;
        crate::hold!(
            frame = UserFrame { pta: PtaFrame::new(), call: CallParam::none4() },
            in &t.ledger,
            or UserOutcome::fail(TeeResult::ERROR_OUT_OF_MEMORY)
        );
        let fr = frame.as_mut().get();
        if let Err(e) = self.to_pta_params(rpc, params, &mut fr.pta) {
            return UserOutcome::fail(e);
        }
        for (slot, p) in fr.call.iter_mut().zip(&fr.pta.params[..fr.pta.n]) {
            *slot = match p {
                PtaParam::None => CallParam::None,
                PtaParam::Value { dir, a, b, .. } => CallParam::Value { dir: *dir, a: *a, b: *b },
                PtaParam::Memref { dir, buf: None, .. } => CallParam::Memref { dir: *dir, data: None, size: 0 },
                // The client's pages themselves: the TA maps them for the
                // call (the frame holds the use of a registered buffer).
                PtaParam::Memref { dir, buf: Some(PtaBuf::Ns(pages)), size } => {
                    CallParam::Memref { dir: *dir, data: Some(PtaBuf::Ns(pages.clone())), size: *size }
                }
                PtaParam::Memref { .. } => return UserOutcome::fail(TeeResult::ERROR_BAD_PARAMETERS),
            };
        }
        // CANCEL finds the call by session (none yet while opening).
        fr.pta.running = Some(t.start_call(session));
        self.fault_point(tp::FAULT_POINT_PARAM_COPY);
        let (ret, origin, id) = f(self, rpc, &mut fr.call, &t.cancel);
        fr.pta.running = None;
        for (p, c) in fr.pta.params[..fr.pta.n].iter_mut().zip(&fr.call) {
            match (p, c) {
                (PtaParam::Value { dir, a, b, .. }, CallParam::Value { a: ca, b: cb, .. }) if dir.is_output() => {
                    (*a, *b) = (*ca, *cb);
                }
                // The TA wrote the client's pages directly: only the size
                // goes back.
                (PtaParam::Memref { dir, size, .. }, CallParam::Memref { size: got, .. }) if dir.is_output() => {
                    *size = *got;
                }
                _ => {}
            }
        }
        Self::write_back(params, &fr.pta.params[..fr.pta.n]);
        UserOutcome { ret, origin, id }
    }

    fn invoke(&self, rpc: &mut Rpc, message: &mut Message) -> (TeeResult, Origin) {
        let id = message.hdr.session;
        if message.meta.iter().any(|m| *m) {
            return (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee);
        }
        let t = rpc.t;
        crate::hold!(session = self.sessions.get(id).filter(|s| s.owner.is_none()), in &t.ledger, or OOM);
        let Some(s) = session.as_mut().get().as_ref() else {
            return (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee);
        };
        let func = message.hdr.func;
        match &s.target {
            Target::Pta(pta) => self.run_pta(rpc, id, &mut message.params, |ctx, p| pta.invoke(ctx, func, p)),
            Target::User(inst) => {
                let r = self.run_user(rpc, id, &mut message.params, |os, rpc, params, cancel| {
                    let (r, o) = os.user_invoke(rpc, id, s, inst, func, params, cancel, u64::MAX);
                    (r, o, id)
                });
                (r.ret, r.origin)
            }
        }
    }
}

/// A job taken off the queue and being run (see `run_jobs`).
struct PendingJob<'a> {
    t: &'a crate::threads::ThreadCtx,
    job: Option<Job>,
}

impl Drop for PendingJob<'_> {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            self.t.defer(job);
        }
    }
}

/// What a user-TA call produced.
struct UserOutcome {
    ret: TeeResult,
    origin: Origin,
    id: u32,
}

impl UserOutcome {
    fn fail(e: TeeResult) -> UserOutcome {
        UserOutcome { ret: e, origin: Origin::Tee, id: 0 }
    }

    /// (result, origin) for the message; on success hands the id to `set`.
    fn map(self, set: impl FnOnce(u32)) -> (TeeResult, Origin) {
        if self.ret == TeeResult::SUCCESS {
            set(self.id);
        }
        (self.ret, self.origin)
    }
}

fn shm_result(r: Result<(), ShmError>) -> TeeResult {
    match r {
        Ok(()) => TeeResult::SUCCESS,
        Err(ShmError::Busy) => TeeResult::ERROR_BUSY,
        Err(ShmError::NotFound) => TeeResult::ERROR_ITEM_NOT_FOUND,
        Err(ShmError::OutOfMemory) => TeeResult::ERROR_OUT_OF_MEMORY,
        Err(_) => TeeResult::ERROR_BAD_PARAMETERS,
    }
}
