//! The syscalls a user TA makes (`svc #0`, number in x8, arguments in
//! x0..x7), numbered as upstream's `tee_syscall_numbers.h`. Every pointer
//! is resolved through the TA's own mappings with the access it needs.

use super::space::{Access, PageBuf, UserSpace};
use super::{CallParam, Caller, Flow, Instance, Killed, LOGIN_TRUSTED_APP, MAX_MEMREF_COPY};
use crate::Os;
use crate::env::UserRegs;
use crate::msg::Dir;
use crate::pta::{Ctx, Pta, PtaBuf, PtaParam, TaCaller};
use crate::rpc::Rpc;
use crate::session::{Session, Target};
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use log::{debug, info};
use oxtee_abi::addr::UserVirt;
use oxtee_abi::ta::{self as abi, TeeIdentity, TeeTime, TeeUuid, UteeParams};
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as tp;
use oxtee_abi::uuid::Uuid;
use zerocopy::{FromBytes, IntoBytes};

/// Longest log line or property name a TA may pass.
const MAX_STR: u64 = 4096;
/// Longest property value or name the OS answers with (all are short).
const PROP_MAX: usize = 64;
/// Log text is copied out of the TA this much at a time.
const LOG_CHUNK: usize = 256;

/// A TA's log text without the newline that ends it (libutee's trace and
/// the Rust SDK's `trace_println!` send one; the logger adds its own).
fn without_newline(text: &[u8]) -> &[u8] {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    text.strip_suffix(b"\r").unwrap_or(text)
}

/// Bytes shown as text, invalid UTF-8 replaced (without allocating).
struct Lossy<'a>(&'a [u8]);

impl core::fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

/// A property the OS answers (the rest live in the TA's own table).
enum PropValue {
    Str(&'static str),
    U32(u32),
    Bool(bool),
    Uuid(Uuid),
    Identity(u32, Uuid),
}

const TEE_PROPS: [&str; 13] = [
    "gpd.tee.apiversion",
    "gpd.tee.description",
    "gpd.tee.deviceID",
    "gpd.tee.systemTime.protectionLevel",
    "gpd.tee.TAPersistentTime.protectionLevel",
    "gpd.tee.cryptography.ecc",
    "gpd.tee.trustedStorage.antiRollback.protectionLevel",
    "gpd.tee.trustedos.implementation.version",
    "gpd.tee.trustedos.implementation.binaryversion",
    "gpd.tee.trustedos.manufacturer",
    "gpd.tee.firmware.implementation.version",
    "gpd.tee.firmware.implementation.binaryversion",
    "gpd.tee.firmware.manufacturer",
];

/// Device identity (a fixed per-build UUID: QEMU has no die id).
const DEVICE_ID: Uuid = Uuid::new(0x6f78_7465, 0x6500, 0x5000, [0x80, 0x00, 0x71, 0x65, 0x6d, 0x75, 0x76, 0x74]);

fn prop_names(set: u32) -> Option<&'static [&'static str]> {
    match set {
        abi::TEE_PROPSET_TEE_IMPLEMENTATION => Some(&TEE_PROPS),
        abi::TEE_PROPSET_CURRENT_CLIENT => Some(&["gpd.client.identity"]),
        abi::TEE_PROPSET_CURRENT_TA => Some(&["gpd.ta.appID"]),
        _ => None,
    }
}

fn prop_value(set: u32, index: usize, inst: &Instance, caller: &Caller) -> Option<PropValue> {
    let v = match (set, index) {
        (abi::TEE_PROPSET_CURRENT_CLIENT, 0) => PropValue::Identity(caller.login, caller.client),
        (abi::TEE_PROPSET_CURRENT_TA, 0) => PropValue::Uuid(inst.uuid),
        (abi::TEE_PROPSET_TEE_IMPLEMENTATION, i) => match i {
            0 => PropValue::Str("1.3.1"),
            1 => PropValue::Str("oxtee"),
            2 => PropValue::Uuid(DEVICE_ID),
            // The system time comes from the secure generic timer, which the
            // normal world cannot change.
            3 => PropValue::U32(1000),
            4 => PropValue::U32(100),
            5 => PropValue::Bool(true),
            6 => PropValue::U32(0),
            7 => PropValue::Str(env!("CARGO_PKG_VERSION")),
            8 => PropValue::U32(0),
            9 => PropValue::Str("oxtee"),
            10 => PropValue::Str(env!("CARGO_PKG_VERSION")),
            11 => PropValue::U32(0),
            12 => PropValue::Str("oxtee"),
            _ => return None,
        },
        _ => return None,
    };
    Some(v)
}

impl PropValue {
    fn kind(&self) -> u32 {
        match self {
            PropValue::Str(_) => abi::USER_TA_PROP_TYPE_STRING,
            PropValue::U32(_) => abi::USER_TA_PROP_TYPE_U32,
            PropValue::Bool(_) => abi::USER_TA_PROP_TYPE_BOOL,
            PropValue::Uuid(_) => abi::USER_TA_PROP_TYPE_UUID,
            PropValue::Identity(..) => abi::USER_TA_PROP_TYPE_IDENTITY,
        }
    }

    /// The value as the TA gets it, in `buf`; its length.
    fn bytes(&self, buf: &mut [u8; PROP_MAX]) -> usize {
        let mut put = |b: &[u8]| {
            let n = b.len().min(PROP_MAX);
            buf[..n].copy_from_slice(&b[..n]);
            n
        };
        match self {
            PropValue::Str(s) => {
                let n = put(s.as_bytes()).min(PROP_MAX - 1);
                buf[n] = 0;
                n + 1
            }
            PropValue::U32(x) => put(&x.to_le_bytes()),
            // One byte, a C `bool`, as upstream: libutee reads it into one.
            PropValue::Bool(b) => put(&[*b as u8]),
            PropValue::Uuid(u) => put(TeeUuid::from(*u).as_bytes()),
            PropValue::Identity(login, u) => put(TeeIdentity { login: *login, uuid: TeeUuid::from(*u) }.as_bytes()),
        }
    }
}

fn res(r: Result<(), TeeResult>) -> Flow {
    Flow::Continue(match r {
        Ok(()) => 0,
        Err(e) => e.0 as u64,
    })
}

impl Os {
    pub(super) fn syscall(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        caller: &Caller,
        regs: &mut UserRegs,
    ) -> Flow {
        let a = regs.x;
        let n = a[8];
        match n as u32 {
            abi::SYS_RETURN => Flow::Return(a[0] as u32),
            abi::SYS_LOG => {
                let len = a[1].min(MAX_STR);
                let mut buf = [0u8; LOG_CHUNK];
                let mut done = 0;
                while done < len {
                    let n = (len - done).min(LOG_CHUNK as u64) as usize;
                    if space.read(UserVirt::new(a[0].wrapping_add(done)), &mut buf[..n]).is_err() {
                        break;
                    }
                    // The line ends here: the logger adds its own newline.
                    let last = done + n as u64 == len;
                    let text = Lossy(if last { without_newline(&buf[..n]) } else { &buf[..n] });
                    if done == 0 {
                        info!("TA {}: {}", inst.uuid, text);
                    } else {
                        info!("TA {} (cont.): {}", inst.uuid, text);
                    }
                    done += n as u64;
                }
                Flow::Continue(0)
            }
            abi::SYS_PANIC => Flow::Kill(Killed::Panic(a[0] as u32)),
            abi::SYS_GET_PROPERTY => res(self.sys_get_property(inst, space, caller, &a)),
            abi::SYS_GET_PROPERTY_NAME_TO_INDEX => res(Self::sys_prop_index(space, &a)),
            abi::SYS_OPEN_TA_SESSION => res(self.sys_open_session(rpc, inst, space, caller, &a)),
            abi::SYS_CLOSE_TA_SESSION => res(self.sys_close_session(rpc, inst, space, a[0])),
            abi::SYS_INVOKE_TA_COMMAND => res(self.sys_invoke(rpc, inst, space, caller, &a)),
            abi::SYS_CHECK_ACCESS_RIGHTS => res(Self::sys_check_access(space, &a)),
            abi::SYS_GET_CANCELLATION_FLAG => {
                let c = caller.cancelled(rpc.env.now_ns());
                res(space.write_u32(UserVirt::new(a[0]), c as u32))
            }
            abi::SYS_UNMASK_CANCELLATION | abi::SYS_MASK_CANCELLATION => {
                let old = caller.masked.swap(n as u32 == abi::SYS_MASK_CANCELLATION, Ordering::AcqRel);
                res(space.write_u32(UserVirt::new(a[0]), old as u32))
            }
            abi::SYS_WAIT => {
                self.fault_point(tp::FAULT_POINT_SYSCALL);
                res(self.sys_wait(rpc, caller, a[0] as u32))
            }
            abi::SYS_GET_TIME => res(self.sys_get_time(rpc, inst, space, a[0], a[1])),
            abi::SYS_SET_TA_TIME => res(self.sys_set_ta_time(rpc, inst, space, a[0])),
            abi::SYS_CRYP_RANDOM_NUMBER_GENERATE => res(self.sys_random(rpc, space, a[0], a[1])),
            n if super::storage::is_storage_syscall(n, &a, space) => {
                let mut cx = super::storage::Ctx { os: self, uuid: inst.uuid, rpc };
                res(super::storage::syscall(&mut cx, n, &a, space))
            }
            n if super::cryp::is_cryp_syscall(n) => {
                let now = rpc.env.now_ns();
                let fill = |out: &mut [u8]| self.rng.fill(out, now);
                res(super::cryp::syscall(n, &a, space, &fill))
            }
            _ => {
                debug!("TA {}: syscall {n} not supported (x0={:#x} x1={:#x} x2={:#x})", inst.uuid, a[0], a[1], a[2]);
                Flow::Continue(TeeResult::ERROR_NOT_SUPPORTED.0 as u64)
            }
        }
    }

    fn sys_get_property(
        &self,
        inst: &Instance,
        space: &mut UserSpace,
        caller: &Caller,
        a: &[u64; 31],
    ) -> Result<(), TeeResult> {
        let (set, index) = (a[0] as u32, a[1]);
        let (name, name_len, buf, blen, kind) = (a[2], a[3], a[4], a[5], a[6]);
        let index = usize::try_from(index).map_err(|_| TeeResult::ERROR_ITEM_NOT_FOUND)?;
        let prop = prop_value(set, index, inst, caller).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        if kind != 0 {
            space.write_u32(v(kind), prop.kind())?;
        }
        if buf != 0 && blen != 0 {
            let room = space.read_u32(v(blen))?;
            let mut value = [0u8; PROP_MAX];
            let n = prop.bytes(&mut value);
            space.write_u32(v(blen), n as u32)?;
            if (room as usize) < n {
                return Err(TeeResult::ERROR_SHORT_BUFFER);
            }
            space.write(v(buf), &value[..n])?;
        }
        if name != 0 && name_len != 0 {
            let room = space.read_u32(v(name_len))?;
            let pname = prop_names(set).and_then(|p| p.get(index)).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
            let mut text = [0u8; PROP_MAX];
            let n = PropValue::Str(pname).bytes(&mut text);
            space.write_u32(v(name_len), n as u32)?;
            if (room as usize) < n {
                return Err(TeeResult::ERROR_SHORT_BUFFER);
            }
            space.write(v(name), &text[..n])?;
        }
        Ok(())
    }

    fn sys_prop_index(space: &mut UserSpace, a: &[u64; 31]) -> Result<(), TeeResult> {
        let (set, name, len, index) = (a[0] as u32, a[1], a[2], a[3]);
        let names = prop_names(set).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        if name == 0 || len == 0 || len > MAX_STR {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if !space.check(v(name), len, Access::Read) {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        }
        // The name ends at its first NUL (or at len); no name we answer is
        // as long as PROP_MAX, so a longer one matches nothing.
        let mut buf = [0u8; PROP_MAX];
        let n = (len as usize).min(PROP_MAX);
        space.read(v(name), &mut buf[..n])?;
        let end = buf[..n].iter().position(|b| *b == 0).unwrap_or(n);
        if end == PROP_MAX {
            return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
        }
        let want = &buf[..end];
        let i = names.iter().position(|n| n.as_bytes() == want).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        space.write_u32(v(index), i as u32)
    }

    fn sys_check_access(space: &UserSpace, a: &[u64; 31]) -> Result<(), TeeResult> {
        let (flags, buf, len) = (a[0] as u32, a[1], a[2]);
        let known = abi::TEE_MEMORY_ACCESS_READ
            | abi::TEE_MEMORY_ACCESS_WRITE
            | abi::TEE_MEMORY_ACCESS_ANY_OWNER
            | abi::TEE_MEMORY_ACCESS_NONSECURE
            | abi::TEE_MEMORY_ACCESS_SECURE;
        if flags & !known != 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        // As upstream: SECURE and NONSECURE together never hold; memrefs
        // (the client's mapped pages, or copies of a calling TA's buffer)
        // are not the TA's own memory, so only ANY_OWNER admits them.
        let (secure, nonsecure) =
            (flags & abi::TEE_MEMORY_ACCESS_SECURE != 0, flags & abi::TEE_MEMORY_ACCESS_NONSECURE != 0);
        if secure && nonsecure {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        }
        if len == 0 {
            return Ok(());
        }
        let Some(kind) = space.kind(v(buf), len) else { return Err(TeeResult::ERROR_ACCESS_DENIED) };
        let ok = (flags & abi::TEE_MEMORY_ACCESS_ANY_OWNER != 0 || !kind.any_shared)
            && (!nonsecure || kind.all_ns)
            && (!secure || !kind.any_ns)
            && (flags & abi::TEE_MEMORY_ACCESS_WRITE == 0 || space.check(v(buf), len, Access::Write));
        if ok { Ok(()) } else { Err(TeeResult::ERROR_ACCESS_DENIED) }
    }

    /// Random bytes straight into the TA's buffer, a chunk at a time.
    fn sys_random(&self, rpc: &mut Rpc, space: &mut UserSpace, buf: u64, len: u64) -> Result<(), TeeResult> {
        if !space.check(v(buf), len, Access::Write) {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        }
        let mut chunk = [0u8; 1024];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(chunk.len() as u64) as usize;
            self.rng.fill(&mut chunk[..n], rpc.env.now_ns());
            space.write(v(buf + done), &chunk[..n])?;
            done += n as u64;
        }
        chunk.fill(0);
        Ok(())
    }

    fn sys_wait(&self, rpc: &mut Rpc, caller: &Caller, ms: u32) -> Result<(), TeeResult> {
        let now = rpc.env.now_ns();
        if caller.cancelled(now) {
            return Err(TeeResult::ERROR_CANCEL);
        }
        let deadline =
            if ms == oxtee_abi::tee::TIMEOUT_INFINITE { u64::MAX } else { now.saturating_add(ms as u64 * 1_000_000) };
        // A cancellation timeout that comes first ends the wait (unless
        // masked, which `cancelled` tells after the wait).
        let stop_at = deadline.min(caller.cancel_at);
        let flag = || caller.cancel.load(Ordering::Acquire) && !caller.masked.load(Ordering::Acquire);
        if !rpc.env.wait_until(stop_at, true, &flag) {
            return Err(TeeResult::ERROR_CANCEL);
        }
        if stop_at < deadline {
            if caller.cancelled(rpc.env.now_ns().max(stop_at)) {
                return Err(TeeResult::ERROR_CANCEL);
            }
            // Masked: the rest of the wait.
            if !rpc.env.wait_until(deadline, true, &flag) {
                return Err(TeeResult::ERROR_CANCEL);
            }
        }
        Ok(())
    }

    fn system_time(rpc: &mut Rpc) -> TeeTime {
        let ns = rpc.env.now_ns();
        TeeTime { seconds: (ns / 1_000_000_000) as u32, millis: ((ns / 1_000_000) % 1000) as u32 }
    }

    fn sys_get_time(
        &self,
        rpc: &mut Rpc,
        inst: &Instance,
        space: &mut UserSpace,
        cat: u64,
        out: u64,
    ) -> Result<(), TeeResult> {
        let t = match cat {
            abi::UTEE_TIME_CAT_SYSTEM => Self::system_time(rpc),
            abi::UTEE_TIME_CAT_REE => {
                let (s, ns) = rpc.get_time()?;
                TeeTime { seconds: s as u32, millis: (ns / 1_000_000) as u32 }
            }
            abi::UTEE_TIME_CAT_TA_PERSISTENT => {
                let key = inst.uuid.to_octets();
                let off = self.user.ta_time.lock().iter().flatten().find(|(k, _)| *k == key).map(|(_, o)| *o);
                let off = off.ok_or(TeeResult::ERROR_TIME_NOT_SET)?;
                let now = Self::system_time(rpc);
                let secs = now.seconds as i64 + off;
                if !(0..=u32::MAX as i64).contains(&secs) {
                    return Err(TeeResult::ERROR_OVERFLOW);
                }
                TeeTime { seconds: secs as u32, millis: now.millis }
            }
            _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
        };
        space.write(v(out), t.as_bytes())
    }

    fn sys_set_ta_time(&self, rpc: &mut Rpc, inst: &Instance, space: &mut UserSpace, p: u64) -> Result<(), TeeResult> {
        let mut b = [0u8; 8];
        space.read(v(p), &mut b)?;
        let t = TeeTime::read_from_bytes(&b).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
        let now = Self::system_time(rpc);
        let key = inst.uuid.to_octets();
        let off = t.seconds as i64 - now.seconds as i64;
        let mut times = self.user.ta_time.lock();
        // The TA's own entry, else a free one; a full table is out of memory.
        let at = times.iter().position(|e| matches!(e, Some((k, _)) if *k == key));
        let slot = at.or_else(|| times.iter().position(Option::is_none)).ok_or(TeeResult::ERROR_OUT_OF_MEMORY)?;
        times[slot] = Some((key, off));
        Ok(())
    }

    /// Reads a `utee_params` from the calling TA and copies its memrefs
    /// into `out` (a frame of the caller's, armed in its ledger). For a
    /// PTA (`pta`), output buffers are copied in too: upstream's PTAs work
    /// in the calling TA's own mapping, so what they do not write stays.
    fn params_from_ta(
        &self,
        thread: usize,
        space: &UserSpace,
        up_va: u64,
        out: &mut [CallParam; 4],
        pta: bool,
    ) -> Result<UteeParams, TeeResult> {
        if up_va == 0 {
            return Ok(UteeParams::default());
        }
        let mut b = [0u8; size_of::<UteeParams>()];
        space.read(v(up_va), &mut b)?;
        let up = UteeParams::read_from_bytes(&b).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
        for (i, slot) in out.iter_mut().enumerate() {
            let (x, y) = (up.vals[2 * i], up.vals[2 * i + 1]);
            let dir = |t: u32| match t & 3 {
                1 => Dir::In,
                2 => Dir::Out,
                _ => Dir::InOut,
            };
            *slot = match abi::param_type_get(up.types as u32, i) {
                abi::TEE_PARAM_TYPE_NONE => CallParam::None,
                t @ 1..=3 => CallParam::Value { dir: dir(t), a: x & 0xffff_ffff, b: y & 0xffff_ffff },
                t @ 5..=7 => {
                    if x == 0 {
                        if y != 0 {
                            return Err(TeeResult::ERROR_BAD_PARAMETERS);
                        }
                        CallParam::Memref { dir: dir(t), data: None, size: 0 }
                    } else {
                        let access = if t == abi::TEE_PARAM_TYPE_MEMREF_INPUT { Access::Read } else { Access::Write };
                        if !space.check(v(x), y, access) {
                            return Err(TeeResult::ERROR_ACCESS_DENIED);
                        }
                        // A buffer the TA got from its own client (mapped
                        // normal-world memory) goes on by reference, as
                        // upstream; the TA's private memory is copied.
                        if let Some(pages) = space.ns_slice(v(x), y) {
                            CallParam::Memref { dir: dir(t), data: Some(PtaBuf::Ns(pages)), size: y }
                        } else {
                            if y > MAX_MEMREF_COPY {
                                return Err(TeeResult::ERROR_OUT_OF_MEMORY);
                            }
                            let mut data = PageBuf::for_param(&self.user.params, thread, y)?;
                            if t != abi::TEE_PARAM_TYPE_MEMREF_OUTPUT || pta {
                                space.read(v(x), &mut data.bytes_mut()[..y as usize])?;
                            }
                            CallParam::Memref { dir: dir(t), data: Some(PtaBuf::Secure(data)), size: y }
                        }
                    }
                }
                _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
            };
        }
        Ok(up)
    }

    /// Writes a callee's outputs back into the calling TA's `utee_params`
    /// and buffers. A PTA (`pta`) may report a size larger than the buffer
    /// it filled (a truncated datagram): the buffer is written all the
    /// same, as upstream's PTAs write into the TA's memory directly.
    fn params_to_ta(space: &mut UserSpace, up_va: u64, mut up: UteeParams, params: &[CallParam; 4], pta: bool) {
        if up_va == 0 {
            return;
        }
        for (i, p) in params.iter().enumerate() {
            match p {
                CallParam::Value { dir, a, b } if dir.is_output() => {
                    (up.vals[2 * i], up.vals[2 * i + 1]) = (*a, *b);
                }
                CallParam::Memref { dir, data, size } if dir.is_output() => {
                    let orig = up.vals[2 * i + 1];
                    // Only copies go back; a buffer passed by reference
                    // already holds what the callee wrote.
                    if let Some(PtaBuf::Secure(d)) = data
                        && (*size <= orig || pta)
                    {
                        let n = (*size).min(orig) as usize;
                        let _ = space.write(v(up.vals[2 * i]), &d.bytes()[..n]);
                    }
                    up.vals[2 * i + 1] = *size;
                }
                _ => {}
            }
        }
        let _ = space.write(v(up_va), up.as_bytes());
    }

    fn sys_open_session(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        caller: &Caller,
        a: &[u64; 31],
    ) -> Result<(), TeeResult> {
        let (uuid_va, up_va, sess_va, orig_va) = (a[0], a[2], v(a[3]), v(a[4]));
        let mut ub = [0u8; 16];
        space.read(v(uuid_va), &mut ub)?;
        let uuid = Uuid::from(TeeUuid::read_from_bytes(&ub).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?);
        let t = rpc.t;
        crate::hold!(params = CallParam::none4(), in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let params = params.as_mut().get();
        // The session id and origin are written where the TA can take them
        // and silently not otherwise: upstream's libutee passes a NULL
        // origin pointer when it opens its own PTA sessions.
        let pta = self.ptas.iter().copied().find(|p| p.uuid() == uuid);
        let up = match self.params_from_ta(t.id, space, up_va, params, pta.is_some()) {
            Ok(p) => p,
            Err(e) => {
                let _ = space.write_u32(orig_va, Origin::Tee as u32);
                return Err(e);
            }
        };
        let r = match pta {
            Some(pta) => {
                let ns = ns_memrefs(space, &up);
                self.pta_open_from_ta(rpc, pta, inst, space, caller, params, ns)
            }
            None => {
                let at = cancel_deadline(rpc.env.now_ns(), a[1], caller.cancel_at);
                self.user_open(rpc, uuid, LOGIN_TRUSTED_APP, inst.uuid, Some(inst.id), params, caller.cancel, at)
            }
        };
        Self::params_to_ta(space, up_va, up, params, pta.is_some());
        match r {
            Ok(id) => {
                let _ = space.write_u32(sess_va, id);
                let _ = space.write_u32(orig_va, Origin::TrustedApp as u32);
                Ok(())
            }
            Err((e, origin)) => {
                let _ = space.write_u32(orig_va, origin as u32);
                Err(e)
            }
        }
    }

    /// Runs `f` on a PTA for a calling TA: the TA's memrefs (secure copies
    /// of its private memory, or normal-world pages it was given) become
    /// the PTA's buffers for the call and come back.
    #[allow(clippy::too_many_arguments)]
    fn pta_call_from_ta<F>(
        &self,
        rpc: &mut Rpc,
        session: u32,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        caller: &Caller,
        params: &mut [CallParam; 4],
        ns: [bool; 4],
        f: F,
    ) -> TeeResult
    where
        F: FnOnce(&mut Ctx, &mut [PtaParam]) -> TeeResult,
    {
        let t = rpc.t;
        crate::hold!(
            frame = [PtaParam::None, PtaParam::None, PtaParam::None, PtaParam::None],
            in &t.ledger,
            or TeeResult::ERROR_OUT_OF_MEMORY
        );
        let frame = frame.as_mut().get();
        for (q, p) in frame.iter_mut().zip(params.iter_mut()) {
            *q = match p {
                CallParam::None => PtaParam::None,
                CallParam::Value { dir, a, b } => PtaParam::Value { dir: *dir, a: *a, b: *b, c: 0 },
                CallParam::Memref { dir, data, size } => PtaParam::Memref { dir: *dir, buf: data.take(), size: *size },
            };
        }
        let ret = {
            let ta = Some(TaCaller { inst, space, ns_memref: ns });
            let mut ctx = Ctx { os: self, rpc: rpc.reborrow(), cancel: caller.cancel, session, ta };
            f(&mut ctx, frame)
        };
        for (q, p) in frame.iter_mut().zip(params.iter_mut()) {
            match (q, p) {
                (PtaParam::Value { a, b, .. }, CallParam::Value { dir, a: pa, b: pb }) if dir.is_output() => {
                    // GP values are 32-bit.
                    (*pa, *pb) = (*a & 0xffff_ffff, *b & 0xffff_ffff);
                }
                (PtaParam::Memref { buf, size, .. }, CallParam::Memref { data, size: ps, .. }) => {
                    *data = buf.take();
                    *ps = *size;
                }
                _ => {}
            }
        }
        ret
    }

    /// Opens a session from `inst` to a PTA; the session belongs to `inst`.
    #[allow(clippy::too_many_arguments)]
    fn pta_open_from_ta(
        &self,
        rpc: &mut Rpc,
        pta: &'static dyn Pta,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        caller: &Caller,
        params: &mut [CallParam; 4],
        ns: [bool; 4],
    ) -> Result<u32, (TeeResult, Origin)> {
        if !pta.accepts_login(LOGIN_TRUSTED_APP) {
            debug!("{}: refused a session from TA {}", pta.name(), inst.uuid);
            return Err((TeeResult::ERROR_ACCESS_DENIED, Origin::Tee));
        }
        let t = rpc.t;
        let oom = Err((TeeResult::ERROR_OUT_OF_MEMORY, Origin::Tee));
        crate::hold!(res = self.sessions.reserve(Some(inst.id)).map_err(|e| (e, Origin::Tee))?, in &t.ledger, or oom);
        let id = res.as_mut().get().id();
        let ret =
            self.pta_call_from_ta(rpc, id, inst, space, caller, params, ns, |ctx, p| match pta.open_session(ctx, p) {
                Ok(()) => TeeResult::SUCCESS,
                Err(e) => e,
            });
        if ret != TeeResult::SUCCESS {
            return Err((ret, Origin::TrustedApp));
        }
        Ok(res.as_mut().get().commit(Session::new(Target::Pta(pta), inst.uuid, LOGIN_TRUSTED_APP, Some(inst.id))))
    }

    /// A session the calling instance opened, or None.
    fn own_session(&self, inst: &Instance, id: u64) -> Option<(u32, Session)> {
        let id = u32::try_from(id).ok()?;
        let s = self.sessions.get(id)?;
        if s.owner != Some(inst.id) {
            return None;
        }
        Some((id, s))
    }

    fn sys_close_session(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        id: u64,
    ) -> Result<(), TeeResult> {
        let (id, _) = self.own_session(inst, id).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        let t = rpc.t;
        crate::hold!(closing = self.sessions.remove(id), in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        if let Some(s) = closing.as_mut().get().as_ref() {
            match &s.target {
                Target::User(target) => self.user_close(rpc, id, s, target),
                Target::Pta(p) => self.pta_close(rpc, *p, id, Some(TaCaller { inst, space, ns_memref: [false; 4] })),
            }
        }
        Ok(())
    }

    fn sys_invoke(
        &self,
        rpc: &mut Rpc,
        inst: &Arc<Instance>,
        space: &mut UserSpace,
        caller: &Caller,
        a: &[u64; 31],
    ) -> Result<(), TeeResult> {
        let (sess, cmd, up_va, orig_va) = (a[0], a[2] as u32, a[3], v(a[4]));
        let t = rpc.t;
        crate::hold!(target = self.own_session(inst, sess), in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let Some((id, s)) = target.as_mut().get().as_ref() else {
            let _ = space.write_u32(orig_va, Origin::Tee as u32);
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        };
        crate::hold!(params = CallParam::none4(), in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
        let params = params.as_mut().get();
        let to_pta = matches!(s.target, Target::Pta(_));
        let up = match self.params_from_ta(t.id, space, up_va, params, to_pta) {
            Ok(p) => p,
            Err(e) => {
                let _ = space.write_u32(orig_va, Origin::Tee as u32);
                return Err(e);
            }
        };
        self.fault_point(tp::FAULT_POINT_TA_TO_TA);
        // The inner call is cancelled with the outer one.
        let (r, origin) = match &s.target {
            Target::User(callee) => {
                let at = cancel_deadline(rpc.env.now_ns(), a[1], caller.cancel_at);
                self.user_invoke(rpc, *id, s, callee, cmd, params, caller.cancel, at)
            }
            Target::Pta(pta) => {
                let ns = ns_memrefs(space, &up);
                let r =
                    self.pta_call_from_ta(rpc, *id, inst, space, caller, params, ns, |ctx, p| pta.invoke(ctx, cmd, p));
                (r, Origin::TrustedApp)
            }
        };
        Self::params_to_ta(space, up_va, up, params, to_pta);
        let _ = space.write_u32(orig_va, origin as u32);
        if r == TeeResult::SUCCESS { Ok(()) } else { Err(r) }
    }
}

/// Which memref parameters a TA passes lie (partly) in memory shared with
/// a normal-world client.
fn ns_memrefs(space: &UserSpace, up: &UteeParams) -> [bool; 4] {
    let mut ns = [false; 4];
    for (i, n) in ns.iter_mut().enumerate() {
        if matches!(abi::param_type_get(up.types as u32, i), 5..=7) {
            *n = space.touches_ns(v(up.vals[2 * i]), up.vals[2 * i + 1]);
        }
    }
    ns
}

/// When a TA-to-TA call with `cancellationRequestTimeout` `timeout_ms`
/// (`TEE_TIMEOUT_INFINITE`: none) made at `now` counts as cancelled: no
/// later than the calling call itself.
fn cancel_deadline(now: u64, timeout_ms: u64, outer: u64) -> u64 {
    let own = match u32::try_from(timeout_ms) {
        Ok(oxtee_abi::tee::TIMEOUT_INFINITE) | Err(_) => u64::MAX,
        Ok(ms) => now.saturating_add(ms as u64 * 1_000_000),
    };
    own.min(outer)
}

fn v(a: u64) -> UserVirt {
    UserVirt::new(a)
}

#[cfg(test)]
mod log_tests {
    use super::without_newline;

    #[test]
    fn a_log_line_loses_only_its_final_newline() {
        assert_eq!(without_newline(b"hello\n"), b"hello");
        assert_eq!(without_newline(b"hello\r\n"), b"hello");
        assert_eq!(without_newline(b"hello"), b"hello");
        assert_eq!(without_newline(b"a\nb\n\n"), b"a\nb\n");
        assert_eq!(without_newline(b"\n"), b"");
        assert_eq!(without_newline(b""), b"");
    }
}
