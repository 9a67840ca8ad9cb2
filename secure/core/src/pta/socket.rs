//! The socket pseudo-TA (upstream's UUID and commands, `oxtee_abi::ta::
//! socket`): TCP and UDP sockets for TAs, served by the supplicant through
//! `OPTEE_RPC_CMD_SOCKET`. Each command becomes one RPC carrying the
//! calling TA instance's id, under which the supplicant numbers that
//! instance's sockets; data and addresses travel in the thread's payload
//! buffer (application shared memory). When a session closes, the
//! supplicant is told to close every socket of the instance (CLOSE_ALL),
//! as upstream does, so sockets never outlive the TA that opened them.
//!
//! Only user TAs may open it. What the supplicant answers is checked: a
//! size it reports beyond the buffer is never copied. The PTA also keeps
//! which handles each instance holds and refuses any other with
//! BAD_PARAMETERS before it reaches the normal world (what a supplicant
//! answers for an unknown handle): Debian's tee-supplicant 3.19 aborts on
//! an assertion when an instance names a handle it closed, so a TA could
//! otherwise take the supplicant down for everyone.

use super::{Ctx, Kind, Pta, PtaBuf, PtaParam, expect};
use crate::msg::{Dir, Param};
use crate::rpc::Payload;
use crate::user::LOGIN_TRUSTED_APP;
use oxtee_abi::rpc;
use oxtee_abi::ta::socket as s;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_guard::SpinLock;

/// Most sessions open at once (every TA-to-PTA session counts against the
/// OS's per-TA session limit first; this is the PTA's own table).
pub const MAX_SESSIONS: usize = 256;
/// Most sockets open at once, over all instances.
pub const MAX_SOCKETS: usize = 256;

/// The socket PTA: which TA instance each of its sessions belongs to
/// (needed when the instance is gone and its sessions are closed for it).
pub struct SocketPta {
    /// (session id, instance id); session id 0 marks a free slot.
    sessions: SpinLock<[(u32, u32); MAX_SESSIONS]>,
    /// (in use, instance id, handle) of every socket open.
    sockets: SpinLock<[(bool, u32, u32); MAX_SOCKETS]>,
}

impl Default for SocketPta {
    fn default() -> Self {
        Self::new()
    }
}

type R<T> = Result<T, TeeResult>;

fn value_in(a: u32, b: u64, c: u64) -> Param {
    Param::Value { dir: Dir::In, a: a as u64, b, c }
}

/// A memref over the first `size` bytes of the payload, or a null one
/// (no shared memory) for an empty buffer, as upstream sends it.
fn memref(dir: Dir, p: Option<&Payload>, size: u64) -> Param {
    match p {
        Some(p) => Param::Rmem { dir, offs: 0, size, shm_ref: p.cookie },
        None => Param::Tmem { dir, buf: 0, size: 0, shm_ref: 0, noncontig: false },
    }
}

/// The size the normal world put in a memref answer.
fn answered_size(p: &Param) -> R<u64> {
    match p {
        Param::Rmem { size, .. } | Param::Tmem { size, .. } => Ok(*size),
        _ => Err(TeeResult::ERROR_COMMUNICATION),
    }
}

/// The value parameter `i` (a, b).
fn value(params: &[PtaParam], i: usize) -> (u64, u64) {
    match params.get(i) {
        Some(PtaParam::Value { a, b, .. }) => (*a, *b),
        _ => (0, 0),
    }
}

fn set_value_a(params: &mut [PtaParam], i: usize, v: u64) {
    if let Some(PtaParam::Value { a, .. }) = params.get_mut(i) {
        *a = v;
    }
}

/// The caller's memref `i`: its secure copy and declared size.
fn memref_param(params: &mut [PtaParam], i: usize) -> R<(Option<&mut PtaBuf>, u64)> {
    match params.get_mut(i) {
        Some(PtaParam::Memref { buf, size, .. }) => Ok((buf.as_mut(), *size)),
        _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
}

fn set_memref_size(params: &mut [PtaParam], i: usize, v: u64) {
    if let Some(PtaParam::Memref { size, .. }) = params.get_mut(i) {
        *size = v;
    }
}

impl SocketPta {
    pub const fn new() -> Self {
        SocketPta {
            sessions: SpinLock::new([(0, 0); MAX_SESSIONS]),
            sockets: SpinLock::new([(false, 0, 0); MAX_SOCKETS]),
        }
    }

    fn remember(&self, session: u32, inst: u32) -> R<()> {
        let mut t = self.sessions.lock();
        let slot = t.iter_mut().find(|(s, _)| *s == 0).ok_or(TeeResult::ERROR_OUT_OF_MEMORY)?;
        *slot = (session, inst);
        Ok(())
    }

    fn forget(&self, session: u32) -> Option<u32> {
        let mut t = self.sessions.lock();
        let slot = t.iter_mut().find(|(s, _)| *s == session && session != 0)?;
        let inst = slot.1;
        *slot = (0, 0);
        Some(inst)
    }

    /// Sessions open (for tests).
    pub fn open_sessions(&self) -> usize {
        self.sessions.lock().iter().filter(|(s, _)| *s != 0).count()
    }

    fn add_socket(&self, inst: u32, handle: u32) -> bool {
        let mut t = self.sockets.lock();
        match t.iter_mut().find(|e| !e.0) {
            Some(e) => {
                *e = (true, inst, handle);
                true
            }
            None => false,
        }
    }

    fn has_socket(&self, inst: u32, handle: u64) -> R<u32> {
        let h = u32::try_from(handle).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
        let t = self.sockets.lock();
        if t.contains(&(true, inst, h)) { Ok(h) } else { Err(TeeResult::ERROR_BAD_PARAMETERS) }
    }

    fn remove_socket(&self, inst: u32, handle: u32) {
        let mut t = self.sockets.lock();
        if let Some(e) = t.iter_mut().find(|e| **e == (true, inst, handle)) {
            *e = (false, 0, 0);
        }
    }

    fn remove_instance(&self, inst: u32) {
        for e in self.sockets.lock().iter_mut().filter(|e| e.0 && e.1 == inst) {
            *e = (false, 0, 0);
        }
    }

    /// Sockets open (for tests).
    pub fn open_sockets(&self) -> usize {
        self.sockets.lock().iter().filter(|e| e.0).count()
    }
}

/// Bytes moved at a time between a memref and the RPC payload.
const CHUNK: usize = 512;

/// The payload buffer holding a copy of the caller's memref (`None` for
/// an empty one).
fn stage_in(ctx: &mut Ctx, buf: Option<&mut PtaBuf>, size: u64) -> R<Option<Payload>> {
    if size == 0 {
        return Ok(None);
    }
    let p = ctx.rpc.payload(size)?;
    let Some(b) = buf else { return Err(TeeResult::ERROR_BAD_PARAMETERS) };
    // Through a small bounce buffer: the caller's memref is a secure copy
    // or a client's pages passed on by reference; each byte is read once.
    let mut chunk = [0u8; CHUNK];
    let mut off = 0;
    while off < size {
        let n = (size - off).min(CHUNK as u64) as usize;
        b.read(ctx.mem(), off, &mut chunk[..n])?;
        p.pages.write(ctx.mem(), off, &chunk[..n]).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        off += n as u64;
    }
    Ok(Some(p))
}

/// Copies `len` bytes of the payload back into the caller's memref.
fn stage_out(ctx: &mut Ctx, p: &Payload, buf: Option<&mut PtaBuf>, len: u64) -> R<()> {
    let Some(b) = buf else { return Err(TeeResult::ERROR_BAD_PARAMETERS) };
    let mut chunk = [0u8; CHUNK];
    let mut off = 0;
    while off < len {
        let n = (len - off).min(CHUNK as u64) as usize;
        p.pages.read(ctx.mem(), off, &mut chunk[..n]).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        b.write(ctx.mem(), off, &chunk[..n])?;
        off += n as u64;
    }
    Ok(())
}

fn open(pta: &SocketPta, ctx: &mut Ctx, inst: u32, params: &mut [PtaParam]) -> R<()> {
    expect(params, &[Kind::ValueIn, Kind::MemrefIn, Kind::ValueIn, Kind::ValueOut])?;
    let (ip_version, port) = value(params, 0);
    let (protocol, _) = value(params, 2);
    let (buf, size) = memref_param(params, 1)?;
    let p = stage_in(ctx, buf, size)?;
    let mut q = [
        value_in(rpc::SOCKET_OPEN, inst as u64, 0),
        Param::Value { dir: Dir::In, a: port, b: protocol, c: ip_version },
        memref(Dir::In, p.as_ref(), size),
        Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 },
    ];
    ctx.rpc.cmd(rpc::CMD_SOCKET, &mut q)?;
    let Param::Value { a: handle, .. } = q[3] else { return Err(TeeResult::ERROR_COMMUNICATION) };
    // Handles are 32-bit.
    let handle = handle as u32;
    // A handle the instance already holds cannot be new: a broken answer.
    if pta.has_socket(inst, handle as u64).is_ok() {
        return Err(TeeResult::ERROR_COMMUNICATION);
    }
    if !pta.add_socket(inst, handle) {
        // No room to keep it: closed again.
        let _ = ctx.rpc.cmd(rpc::CMD_SOCKET, &mut [value_in(rpc::SOCKET_CLOSE, inst as u64, handle as u64)]);
        return Err(TeeResult::ERROR_OUT_OF_MEMORY);
    }
    set_value_a(params, 3, handle as u64);
    Ok(())
}

fn close(pta: &SocketPta, ctx: &mut Ctx, inst: u32, params: &mut [PtaParam]) -> R<()> {
    expect(params, &[Kind::ValueIn])?;
    let (handle, _) = value(params, 0);
    let handle = pta.has_socket(inst, handle)?;
    // Gone whatever the answer (the supplicant forgets it first too).
    pta.remove_socket(inst, handle);
    ctx.rpc.cmd(rpc::CMD_SOCKET, &mut [value_in(rpc::SOCKET_CLOSE, inst as u64, handle as u64)])
}

fn send(pta: &SocketPta, ctx: &mut Ctx, inst: u32, params: &mut [PtaParam]) -> R<()> {
    expect(params, &[Kind::ValueIn, Kind::MemrefIn, Kind::ValueOut])?;
    let (handle, timeout) = value(params, 0);
    // Nothing sent unless the supplicant says otherwise.
    set_value_a(params, 2, 0);
    let handle = pta.has_socket(inst, handle)? as u64;
    let (buf, size) = memref_param(params, 1)?;
    let p = stage_in(ctx, buf, size)?;
    let mut q = [
        value_in(rpc::SOCKET_SEND, inst as u64, handle),
        memref(Dir::In, p.as_ref(), size),
        Param::Value { dir: Dir::InOut, a: timeout, b: 0, c: 0 },
    ];
    ctx.rpc.cmd(rpc::CMD_SOCKET, &mut q)?;
    match q[2] {
        Param::Value { b: sent, .. } if sent <= size => {
            set_value_a(params, 2, sent);
            Ok(())
        }
        _ => Err(TeeResult::ERROR_COMMUNICATION),
    }
}

fn recv(pta: &SocketPta, ctx: &mut Ctx, inst: u32, params: &mut [PtaParam]) -> R<()> {
    expect(params, &[Kind::ValueIn, Kind::MemrefOut])?;
    let (handle, timeout) = value(params, 0);
    let handle = pta.has_socket(inst, handle)? as u64;
    let (_, size) = memref_param(params, 1)?;
    let p = if size == 0 { None } else { Some(ctx.rpc.payload(size)?) };
    let mut q = [
        value_in(rpc::SOCKET_RECV, inst as u64, handle),
        memref(Dir::Out, p.as_ref(), size),
        value_in(timeout as u32, 0, 0),
    ];
    // On an error the size stays what the caller offered, as upstream
    // (its supplicant leaves it so).
    ctx.rpc.cmd(rpc::CMD_SOCKET, &mut q)?;
    let got = answered_size(&q[1])?;
    if let Some(p) = &p {
        let (buf, _) = memref_param(params, 1)?;
        // A truncated datagram reports more than the buffer holds: the
        // buffer is filled and the larger size reported.
        stage_out(ctx, p, buf, got.min(size))?;
    }
    set_memref_size(params, 1, got);
    Ok(())
}

fn ioctl(pta: &SocketPta, ctx: &mut Ctx, inst: u32, params: &mut [PtaParam]) -> R<()> {
    expect(params, &[Kind::ValueIn, Kind::MemrefInOut])?;
    let (handle, cmd) = value(params, 0);
    let handle = pta.has_socket(inst, handle)? as u64;
    let (buf, size) = memref_param(params, 1)?;
    let p = stage_in(ctx, buf, size)?;
    let mut q = [
        value_in(rpc::SOCKET_IOCTL, inst as u64, handle),
        memref(Dir::InOut, p.as_ref(), size),
        value_in(cmd as u32, 0, 0),
    ];
    ctx.rpc.cmd(rpc::CMD_SOCKET, &mut q)?;
    let got = answered_size(&q[1])?;
    // Copied back only if it fits, as upstream; the size is reported.
    if let Some(p) = &p
        && got <= size
    {
        let (buf, _) = memref_param(params, 1)?;
        stage_out(ctx, p, buf, got)?;
    }
    set_memref_size(params, 1, got);
    Ok(())
}

impl Pta for SocketPta {
    fn uuid(&self) -> Uuid {
        s::PTA_SOCKET
    }

    fn name(&self) -> &'static str {
        "socket"
    }

    /// TAs only, as upstream.
    fn accepts_login(&self, login: u32) -> bool {
        login == LOGIN_TRUSTED_APP
    }

    fn open_session(&self, ctx: &mut Ctx, _params: &mut [PtaParam]) -> Result<(), TeeResult> {
        let inst = ctx.ta.as_ref().ok_or(TeeResult::ERROR_ACCESS_DENIED)?.inst.id;
        self.remember(ctx.session, inst)
    }

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        let Some(inst) = ctx.ta.as_ref().map(|t| t.inst.id) else { return TeeResult::ERROR_ACCESS_DENIED };
        let r = match cmd {
            s::PTA_SOCKET_OPEN => open(self, ctx, inst, params),
            s::PTA_SOCKET_CLOSE => close(self, ctx, inst, params),
            s::PTA_SOCKET_SEND => send(self, ctx, inst, params),
            s::PTA_SOCKET_RECV => recv(self, ctx, inst, params),
            s::PTA_SOCKET_IOCTL => ioctl(self, ctx, inst, params),
            _ => Err(TeeResult::ERROR_NOT_IMPLEMENTED),
        };
        match r {
            Ok(()) => TeeResult::SUCCESS,
            Err(e) => e,
        }
    }

    /// Every socket of the instance is closed (CLOSE_ALL), as upstream.
    fn close_session(&self, ctx: &mut Ctx) {
        let Some(inst) = self.forget(ctx.session) else { return };
        self.remove_instance(inst);
        let mut q = [value_in(rpc::SOCKET_CLOSE_ALL, inst as u64, 0)];
        if let Err(e) = ctx.rpc.cmd(rpc::CMD_SOCKET, &mut q) {
            log::debug!("socket: CLOSE_ALL for instance {inst} failed: {e:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_handles_are_kept_per_instance() {
        let p = SocketPta::new();
        p.remember(5, 100).unwrap();
        p.remember(6, 101).unwrap();
        assert_eq!(p.open_sessions(), 2);
        assert!(p.add_socket(100, 0) && p.add_socket(100, 1) && p.add_socket(101, 0));
        assert_eq!(p.has_socket(100, 1), Ok(1));
        assert_eq!(p.has_socket(101, 1), Err(TeeResult::ERROR_BAD_PARAMETERS), "another instance's handle");
        assert_eq!(p.has_socket(100, 1 << 32 | 1), Err(TeeResult::ERROR_BAD_PARAMETERS), "beyond 32 bits");
        p.remove_socket(100, 0);
        assert_eq!(p.has_socket(100, 0), Err(TeeResult::ERROR_BAD_PARAMETERS), "closed");
        // A session's close forgets the instance's sockets, only those.
        assert_eq!(p.forget(5), Some(100));
        p.remove_instance(100);
        assert_eq!((p.open_sockets(), p.open_sessions()), (1, 1));
        assert_eq!(p.forget(5), None, "closed twice");
        assert_eq!(p.forget(0), None);
        // Full tables answer OUT_OF_MEMORY / refuse, and recover.
        for i in 0..MAX_SESSIONS as u32 - 1 {
            p.remember(1000 + i, 7).unwrap();
        }
        assert_eq!(p.remember(9999, 7), Err(TeeResult::ERROR_OUT_OF_MEMORY));
        for h in 0..MAX_SOCKETS as u32 - 1 {
            assert!(p.add_socket(7, h));
        }
        assert!(!p.add_socket(7, 9999));
        p.remove_instance(7);
        assert_eq!(p.open_sockets(), 1);
        assert!(p.add_socket(7, 9999));
    }
}
