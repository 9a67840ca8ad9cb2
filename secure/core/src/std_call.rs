//! Yielding calls: locate the caller's `optee_msg_arg`, copy it in once,
//! validate it, serve it on this trusted thread, and copy the answer back.

use crate::Os;
use crate::env::ThreadEnv;
use crate::msg::{self, Dir, Message, Param};
use crate::pta::{Ctx, PtaParam};
use crate::rpc::{RPC_MAX_PARAMS, Rpc, RpcArg};
use crate::session::{Session, Target};
use crate::shm::{Pages, ShmError};
use crate::user::CallParam;
use crate::user::space::PageBuf;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::AtomicBool;
use log::debug;
use oxtee_abi::msg::{self as m, MsgArgHeader};
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::uuid::Uuid;
use zerocopy::FromBytes;

/// Where the caller's argument (and RPC argument) live.
struct ArgLocation {
    arg: Pages,
    rpc: Option<Pages>,
    /// Registered buffer held for the call (CALL_WITH_REGD_ARG).
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

impl Os {
    /// Finds the argument named by a0..a3 and returns it with a private copy.
    fn locate(&self, a: &[u64; 8]) -> Result<(ArgLocation, Vec<u8>, usize), u32> {
        let fid = a[0] as u32;
        let with_rpc = fid != smc::CALL_WITH_ARG;
        let hdr_size = core::mem::size_of::<MsgArgHeader>() as u64;
        let rpc_size = msg::size_for(RPC_MAX_PARAMS) as u64;
        // First learn the size from the header, then take one full copy and
        // only ever use that copy.
        let (head, held) = if fid == smc::CALL_WITH_REGD_ARG {
            let cookie = join(a[1], a[2]);
            let offs = a[3];
            let head = self.shm.acquire(cookie, offs, hdr_size).map_err(|_| smc::RETURN_EBADADDR)?;
            self.shm.release(cookie);
            (head, Some((cookie, offs)))
        } else {
            let pa = join(a[1], a[2]);
            if !pa.is_multiple_of(m::ARG_ALIGN as u64) {
                return Err(smc::RETURN_EBADADDR);
            }
            (self.shm.ns_contiguous(pa, hdr_size).map_err(|_| smc::RETURN_EBADADDR)?, None)
        };
        let in_pool = |pa: u64, len: u64| self.shm.contiguous(pa, len).is_ok();
        let mut hb = [0u8; 32];
        head.read(self.mem, 0, &mut hb).map_err(|_| smc::RETURN_EBADADDR)?;
        let (hdr, _) = MsgArgHeader::read_from_prefix(&hb).map_err(|_| smc::RETURN_EBADADDR)?;
        let n = hdr.num_params as usize;
        if n > m::MAX_NUM_PARAMS as usize {
            return Err(smc::RETURN_EBADADDR);
        }
        let size = msg::size_for(n) as u64;
        let total = size + if with_rpc { rpc_size } else { 0 };
        let (whole, held_cookie) = match held {
            Some((cookie, offs)) => {
                (self.shm.acquire(cookie, offs, total).map_err(|_| smc::RETURN_EBADADDR)?, Some(cookie))
            }
            None => {
                // Outside the static pool an argument must be one page-aligned
                // page, as OP-TEE requires (only that page is shared).
                let pa = join(a[1], a[2]);
                if !in_pool(pa, total) && (!pa.is_multiple_of(4096) || total > 4096) {
                    return Err(smc::RETURN_EBADADDR);
                }
                (self.shm.ns_contiguous(pa, total).map_err(|_| smc::RETURN_EBADADDR)?, None)
            }
        };
        let fail = |e| {
            if let Some(c) = held_cookie {
                self.shm.release(c);
            }
            e
        };
        let arg = whole.slice(0, size).map_err(|_| fail(smc::RETURN_EBADADDR))?;
        let rpc =
            if with_rpc { Some(whole.slice(size, rpc_size).map_err(|_| fail(smc::RETURN_EBADADDR))?) } else { None };
        let mut bytes = vec![0u8; size as usize];
        arg.read(self.mem, 0, &mut bytes).map_err(|_| fail(smc::RETURN_EBADADDR))?;
        Ok((ArgLocation { arg, rpc, held: held_cookie }, bytes, n))
    }

    /// Serves one yielding call (CALL_WITH_ARG / _RPC_ARG / _REGD_ARG) on
    /// the calling trusted thread. Returns a0..a3 for the normal world.
    pub fn serve(&self, env: &mut dyn ThreadEnv, a: [u64; 8]) -> SmcResult {
        let (loc, bytes, n) = match self.locate(&a) {
            Ok(l) => l,
            Err(code) => return smc_err(code),
        };
        let mut rpc_arg: Option<RpcArg> = match &loc.rpc {
            Some(p) => Some(RpcArg { pages: p.clone(), cookie: 0, owned: false }),
            None => self.fast.shm_cache.take(),
        };
        let result = match msg::parse(&bytes, n) {
            Ok(mut message) => {
                let mut rpc = Rpc { env, mem: self.mem, shm: &self.shm, arg: &mut rpc_arg };
                match self.dispatch(&mut rpc, &mut message) {
                    Ok(()) => {
                        let out = message.encode();
                        match loc.arg.write(self.mem, 0, &out) {
                            Ok(()) => smc_err(smc::RETURN_OK),
                            Err(_) => smc_err(smc::RETURN_EBADADDR),
                        }
                    }
                    Err(code) => smc_err(code),
                }
            }
            Err(e) => {
                debug!("malformed message: {e:?}");
                let (mut hdr, _) = MsgArgHeader::read_from_prefix(&bytes).expect("header was read");
                hdr.ret = TeeResult::ERROR_BAD_PARAMETERS.0;
                hdr.ret_origin = Origin::Comms as u32;
                match loc.arg.write(self.mem, 0, zerocopy::IntoBytes::as_bytes(&hdr)) {
                    Ok(()) => smc_err(smc::RETURN_OK),
                    Err(_) => smc_err(smc::RETURN_EBADADDR),
                }
            }
        };
        // Our own RPC buffer is cached (if the normal world allows) or freed.
        if let Some(arg) = rpc_arg.take().filter(|a| a.owned)
            && let Err(arg) = self.fast.shm_cache.keep(arg)
        {
            let mut own = Some(arg);
            let mut rpc = Rpc { env, mem: self.mem, shm: &self.shm, arg: &mut own };
            rpc.release_arg(false);
        }
        if let Some(c) = loc.held {
            self.shm.release(c);
        }
        result
    }

    fn dispatch(&self, rpc: &mut Rpc, message: &mut Message) -> Result<(), u32> {
        let hdr = &mut message.hdr;
        let (ret, origin) = match hdr.cmd {
            m::CMD_OPEN_SESSION => self.open_session(rpc, message),
            m::CMD_INVOKE_COMMAND => self.invoke(rpc, message),
            m::CMD_CLOSE_SESSION if !message.params.is_empty() => (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee),
            m::CMD_CLOSE_SESSION => match self.sessions.get(hdr.session) {
                // Sessions a TA opened are closed by that TA.
                Some(s) if s.owner.is_some() => (TeeResult::ERROR_ITEM_NOT_FOUND, Origin::Tee),
                Some(_) => {
                    let id = hdr.session;
                    match self.sessions.remove(id) {
                        Some(s) => {
                            match &s.target {
                                Target::Pta(p) => p.close_session(id),
                                Target::User(inst) => {
                                    let inst = inst.clone();
                                    self.user_close(rpc, id, &s, &inst);
                                }
                            }
                            (TeeResult::SUCCESS, Origin::Tee)
                        }
                        None => (TeeResult::ERROR_ITEM_NOT_FOUND, Origin::Tee),
                    }
                }
                None => (TeeResult::ERROR_ITEM_NOT_FOUND, Origin::Tee),
            },
            // As OP-TEE: the session's running calls are flagged; the cancel
            // id is not matched (Linux only cancels sessions it holds).
            m::CMD_CANCEL if !message.params.is_empty() || self.sessions.get(hdr.session).is_none() => {
                (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee)
            }
            m::CMD_CANCEL => {
                self.sessions.cancel(hdr.session);
                (TeeResult::SUCCESS, Origin::Tee)
            }
            m::CMD_REGISTER_SHM => self.register_shm(&message.params),
            m::CMD_UNREGISTER_SHM => self.unregister_shm(&message.params)?,
            _ => return Err(smc::RETURN_EBADCMD),
        };
        message.hdr.ret = ret.0;
        message.hdr.ret_origin = origin as u32;
        Ok(())
    }

    fn register_shm(&self, params: &[Param]) -> (TeeResult, Origin) {
        let r = match params {
            [Param::Tmem { dir: Dir::Out, buf, size, shm_ref, noncontig: true }] => {
                self.shm.register(self.mem, *shm_ref, *buf, *size)
            }
            _ => Err(ShmError::BadParameters),
        };
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
    /// registered buffer referenced (given back by `release_params`).
    fn to_pta_params(&self, params: &[Param], held: &mut Vec<u64>) -> Result<Vec<PtaParam>, TeeResult> {
        if params.len() > TA_MAX_PARAMS {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut out = Vec::with_capacity(params.len());
        for p in params {
            let q = match *p {
                Param::None => PtaParam::None,
                Param::Value { dir, a, b, c } => PtaParam::Value { dir, a, b, c },
                // A null memref: OP-TEE shows it to the TA with size 0.
                Param::Tmem { dir, buf: 0, .. } => PtaParam::Memref { dir, buf: None, size: 0 },
                Param::Tmem { dir, buf, size, noncontig, .. } => {
                    let pages = if noncontig {
                        self.shm.read_page_list(self.mem, buf, size)
                    } else {
                        self.shm.contiguous(buf, size)
                    };
                    PtaParam::Memref { dir, buf: Some(pages.map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?), size }
                }
                Param::Rmem { dir, offs, size, shm_ref } => {
                    let pages = self.shm.acquire(shm_ref, offs, size).map_err(|e| match e {
                        ShmError::BadParameters => TeeResult::ERROR_SECURITY,
                        _ => TeeResult::ERROR_BAD_PARAMETERS,
                    })?;
                    held.push(shm_ref);
                    PtaParam::Memref { dir, buf: Some(pages), size }
                }
            };
            out.push(q);
        }
        Ok(out)
    }

    fn release_params(&self, held: Vec<u64>) {
        for c in held {
            self.shm.release(c);
        }
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
        let mut held = Vec::new();
        let mut pta_params = match self.to_pta_params(params, &mut held) {
            Ok(p) => p,
            Err(e) => {
                self.release_params(held);
                return (e, Origin::Tee);
            }
        };
        let flag = self.sessions.start_call(session);
        let ret = {
            let mut ctx = Ctx {
                os: self,
                rpc: Rpc { env: &mut *rpc.env, mem: rpc.mem, shm: rpc.shm, arg: &mut *rpc.arg },
                cancel: &flag,
                session,
            };
            f(&mut ctx, &mut pta_params)
        };
        self.sessions.end_call(&flag);
        Self::write_back(params, &pta_params);
        self.release_params(held);
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
                    match os.user_open(rpc, ta, login, client, None, params, cancel) {
                        Ok(id) => (TeeResult::SUCCESS, Origin::TrustedApp, id),
                        Err((e, o)) => (e, o, 0),
                    }
                })
                .map(|id| message.hdr.session = id);
        };
        let (ret, origin) = self.run_pta(rpc, 0, &mut message.params[2..], |ctx, p| match pta.open_session(ctx, p) {
            Ok(()) => TeeResult::SUCCESS,
            Err(e) => e,
        });
        if ret == TeeResult::SUCCESS {
            message.hdr.session = self.sessions.insert(Session::new(Target::Pta(pta), client, login, None));
        }
        (ret, origin)
    }

    /// Serves a call to a user TA: the normal world's buffers are copied
    /// into secure memory for the TA and the outputs copied back.
    /// `f` returns the result, its origin and a session id (open only).
    fn run_user<F>(&self, rpc: &mut Rpc, session: u32, params: &mut [Param], f: F) -> UserOutcome
    where
        F: FnOnce(&Os, &mut Rpc, &mut [CallParam; 4], &Arc<AtomicBool>) -> (TeeResult, Origin, u32),
    {
        let mut held = Vec::new();
        let r = self.run_user_held(rpc, session, params, &mut held, f);
        self.release_params(held);
        r
    }

    fn run_user_held<F>(
        &self,
        rpc: &mut Rpc,
        session: u32,
        params: &mut [Param],
        held: &mut Vec<u64>,
        f: F,
    ) -> UserOutcome
    where
        F: FnOnce(&Os, &mut Rpc, &mut [CallParam; 4], &Arc<AtomicBool>) -> (TeeResult, Origin, u32),
    {
        let mut pta_params = match self.to_pta_params(params, held) {
            Ok(p) => p,
            Err(e) => return UserOutcome::fail(e),
        };
        let mut call = CallParam::none4();
        for (slot, p) in call.iter_mut().zip(&pta_params) {
            *slot = match p {
                PtaParam::None => CallParam::None,
                PtaParam::Value { dir, a, b, .. } => CallParam::Value { dir: *dir, a: *a, b: *b },
                PtaParam::Memref { dir, buf: None, .. } => CallParam::Memref { dir: *dir, data: None, size: 0 },
                PtaParam::Memref { dir, buf: Some(pages), size } => {
                    if *size > crate::user::MAX_MEMREF {
                        return UserOutcome::fail(TeeResult::ERROR_OUT_OF_MEMORY);
                    }
                    let mut data = match PageBuf::for_param(*size) {
                        Ok(d) => d,
                        Err(e) => return UserOutcome::fail(e),
                    };
                    if dir.is_input() && pages.read(self.mem, 0, &mut data.bytes_mut()[..*size as usize]).is_err() {
                        return UserOutcome::fail(TeeResult::ERROR_BAD_PARAMETERS);
                    }
                    CallParam::Memref { dir: *dir, data: Some(data), size: *size }
                }
            };
        }
        // CANCEL finds the call by session (none yet while opening).
        let flag = self.sessions.start_call(session);
        let (ret, origin, id) = f(self, rpc, &mut call, &flag);
        self.sessions.end_call(&flag);
        for (p, c) in pta_params.iter_mut().zip(&call) {
            match (p, c) {
                (PtaParam::Value { dir, a, b, .. }, CallParam::Value { a: ca, b: cb, .. }) if dir.is_output() => {
                    (*a, *b) = (*ca, *cb);
                }
                (PtaParam::Memref { dir, buf, size }, CallParam::Memref { data, size: got, .. }) if dir.is_output() => {
                    if let (Some(pages), Some(d)) = (buf.as_ref(), data.as_ref())
                        && *got <= *size
                        && pages.write(self.mem, 0, &d.bytes()[..*got as usize]).is_err()
                    {
                        return UserOutcome::fail(TeeResult::ERROR_BAD_PARAMETERS);
                    }
                    *size = *got;
                }
                _ => {}
            }
        }
        Self::write_back(params, &pta_params);
        UserOutcome { ret, origin, id }
    }

    fn invoke(&self, rpc: &mut Rpc, message: &mut Message) -> (TeeResult, Origin) {
        let id = message.hdr.session;
        if message.meta.iter().any(|m| *m) {
            return (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee);
        }
        let Some(s) = self.sessions.get(id).filter(|s| s.owner.is_none()) else {
            return (TeeResult::ERROR_BAD_PARAMETERS, Origin::Tee);
        };
        let func = message.hdr.func;
        match &s.target {
            Target::Pta(pta) => self.run_pta(rpc, id, &mut message.params, |ctx, p| pta.invoke(ctx, func, p)),
            Target::User(inst) => {
                let inst = inst.clone();
                let r = self.run_user(rpc, id, &mut message.params, |os, rpc, params, cancel| {
                    let (r, o) = os.user_invoke(rpc, id, &s, &inst, func, params, cancel);
                    (r, o, id)
                });
                (r.ret, r.origin)
            }
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
