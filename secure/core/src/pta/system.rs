//! The system pseudo-TA (upstream's `system.pta`): services user TAs ask
//! of the OS through a TA-to-PTA session. upstream's libutee opens it for
//! TA-to-TA bounce buffers and `tee_map_zi`, `dlopen`/`dlsym` and
//! supplicant plugins; TAs call it for RNG entropy and TA-unique keys.
//!
//! Commands, parameter checks and answers follow upstream's `system.c`
//! (optee_os 4.x). Commands 4-7 (ldelf's TA-binary services) answer
//! NOT_IMPLEMENTED as upstream does since 3.12. SET_PROT and REMAP, which
//! upstream moved from this PTA to ldelf's syscalls in 3.12, are served
//! here with the parameters they had before (no 4.x libutee sends them).

use super::{Ctx, Kind, Pta, PtaParam, TaCaller, expect};
use crate::env::UserPerm;
use crate::msg::{Dir, Param};
use crate::user::space::{MAX_MAPPINGS, MapKind, PAGE_SIZE, PageBuf};
use alloc::vec::Vec;
use oxtee_abi::rpc;
use oxtee_abi::ta::TeeUuid;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use zerocopy::FromBytes;

pub const UUID: Uuid = Uuid::new(0x3a2f_8978, 0x5dc0, 0x11e8, [0x9c, 0x2d, 0xfa, 0x7a, 0xe0, 0x1b, 0xbe, 0xbc]);

pub const CMD_ADD_RNG_ENTROPY: u32 = 0;
pub const CMD_DERIVE_TA_UNIQUE_KEY: u32 = 1;
pub const CMD_MAP_ZI: u32 = 2;
pub const CMD_UNMAP: u32 = 3;
pub const CMD_OPEN_TA_BINARY: u32 = 4;
pub const CMD_CLOSE_TA_BINARY: u32 = 5;
pub const CMD_MAP_TA_BINARY: u32 = 6;
pub const CMD_COPY_FROM_TA_BINARY: u32 = 7;
pub const CMD_SET_PROT: u32 = 8;
pub const CMD_REMAP: u32 = 9;
pub const CMD_DLOPEN: u32 = 10;
pub const CMD_DLSYM: u32 = 11;
pub const CMD_GET_TPM_EVENT_LOG: u32 = 12;
pub const CMD_SUPP_PLUGIN_INVOKE: u32 = 13;

pub const MAP_FLAG_SHAREABLE: u32 = 1 << 0;
pub const MAP_FLAG_WRITEABLE: u32 = 1 << 1;
pub const MAP_FLAG_EXECUTABLE: u32 = 1 << 2;

pub const DERIVED_KEY_MIN_SIZE: u64 = 16;
pub const DERIVED_KEY_MAX_SIZE: u64 = 32;
pub const DERIVED_EXTRA_DATA_MAX_SIZE: u64 = 1024;

/// Largest data buffer passed to a supplicant plugin (a TA's memref is
/// bounded by the OS's memref limit anyway).
const PLUGIN_DATA_MAX: u64 = crate::user::MAX_MEMREF_COPY;

type R<T> = Result<T, TeeResult>;

pub struct System;

fn join(hi: u64, lo: u64) -> u64 {
    ((hi & 0xffff_ffff) << 32) | (lo & 0xffff_ffff)
}

fn value(p: &PtaParam) -> (u64, u64) {
    match p {
        PtaParam::Value { a, b, .. } => (*a & 0xffff_ffff, *b & 0xffff_ffff),
        _ => (0, 0),
    }
}

fn set_value(p: &mut PtaParam, va: u64, vb: u64) {
    if let PtaParam::Value { a, b, .. } = p {
        (*a, *b) = (va & 0xffff_ffff, vb & 0xffff_ffff);
    }
}

/// The bytes of an input memref (None for a null one).
fn memref_bytes(ctx: &Ctx, p: &PtaParam, max: u64) -> R<Option<Vec<u8>>> {
    let PtaParam::Memref { buf, size, .. } = p else { return Err(TeeResult::ERROR_BAD_PARAMETERS) };
    let Some(buf) = buf else { return Ok(None) };
    if *size > max {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(*size as usize).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    v.resize(*size as usize, 0);
    buf.read(ctx.mem(), 0, &mut v)?;
    Ok(Some(v))
}

/// A UUID passed as a 16-byte memref (a `TEE_UUID` in TA memory).
fn uuid_param(ctx: &Ctx, p: &PtaParam) -> R<Uuid> {
    match p {
        PtaParam::Memref { buf: Some(_), size: 16, .. } => {}
        _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
    let b = memref_bytes(ctx, p, 16)?.ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
    Ok(Uuid::from(TeeUuid::read_from_bytes(&b).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?))
}

fn page_aligned(x: u64) -> bool {
    x.is_multiple_of(PAGE_SIZE as u64)
}

fn round_page(x: u64) -> R<u64> {
    x.checked_next_multiple_of(PAGE_SIZE as u64).ok_or(TeeResult::ERROR_BAD_PARAMETERS)
}

impl System {
    fn add_rng_entropy(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::MemrefIn])?;
        let data = memref_bytes(ctx, &params[0], crate::user::MAX_MEMREF_COPY)?;
        match data {
            Some(d) if !d.is_empty() => {
                ctx.os.rng.add_entropy(&d);
                Ok(())
            }
            _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
        }
    }

    fn derive_ta_unique_key(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::MemrefIn, Kind::MemrefOut])?;
        let (PtaParam::Memref { size: extra_size, .. }, PtaParam::Memref { size: key_size, buf: key_buf, .. }) =
            (&params[0], &params[1])
        else {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        };
        let key_size = *key_size;
        if *extra_size > DERIVED_EXTRA_DATA_MAX_SIZE
            || !(DERIVED_KEY_MIN_SIZE..=DERIVED_KEY_MAX_SIZE).contains(&key_size)
        {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let Some((uuid, out_ns)) = ctx.ta.as_ref().map(|ta| (ta.inst.uuid, ta.ns_memref[1])) else {
            return Err(TeeResult::ERROR_ACCESS_DENIED);
        };
        // The key must not land in memory shared with the normal world
        // (upstream: the output must be secure memory, any owner), nor in
        // a null buffer.
        if out_ns || key_buf.is_none() {
            return Err(TeeResult::ERROR_SECURITY);
        }
        let extra = memref_bytes(ctx, &params[0], DERIVED_EXTRA_DATA_MAX_SIZE)?.unwrap_or_default();
        let mut key = [0u8; DERIVED_KEY_MAX_SIZE as usize];
        let key = &mut key[..key_size as usize];
        ctx.os.storage.ta_unique_key(&uuid, &extra, key);
        let PtaParam::Memref { buf: Some(out), .. } = &mut params[1] else {
            return Err(TeeResult::ERROR_SECURITY);
        };
        let r = out.write(ctx.rpc.mem, 0, key);
        key.fill(0);
        r
    }

    fn map_zi(&self, ta: &mut TaCaller, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::ValueIn, Kind::ValueInOut, Kind::ValueIn])?;
        let (num_bytes, flags) = value(&params[0]);
        if flags as u32 & !MAP_FLAG_SHAREABLE != 0 || num_bytes == 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let (hi, lo) = value(&params[1]);
        let va = join(hi, lo);
        let (pad_begin, pad_end) = value(&params[2]);
        let len = round_page(num_bytes)?;
        if !page_aligned(va) || !page_aligned(pad_begin) || !page_aligned(pad_end) {
            return Err(TeeResult::ERROR_ACCESS_CONFLICT);
        }
        let (lo_va, hi_va) = ta.inst.zi_area();
        let at = if va == 0 {
            ta.space.find_free(lo_va, hi_va, len, pad_begin, pad_end)
        } else {
            // A fixed address: in the area, with its padding free.
            let start = va.checked_sub(pad_begin);
            let end = va.checked_add(len).and_then(|e| e.checked_add(pad_end));
            match (start, end) {
                (Some(s), Some(e)) if s >= lo_va && e <= hi_va && ta.space.range_free(s, e - s) => Some(va),
                _ => None,
            }
        };
        let at = at.ok_or(TeeResult::ERROR_ACCESS_CONFLICT)?;
        if ta.space.mapping_count() >= MAX_MAPPINGS {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let buf = PageBuf::new(len)?;
        let kind = MapKind::Zi { shareable: flags as u32 & MAP_FLAG_SHAREABLE != 0 };
        let perm = UserPerm::ReadWrite;
        ta.space.add_kind(buf, &[(0, oxtee_abi::addr::UserVirt::new(at), len, perm)], kind)?;
        set_value(&mut params[1], at >> 32, at);
        Ok(())
    }

    fn unmap(&self, ta: &mut TaCaller, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::ValueIn, Kind::ValueIn])?;
        let (num_bytes, flags) = value(&params[0]);
        if flags != 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let (hi, lo) = value(&params[1]);
        let va = join(hi, lo);
        let len = round_page(num_bytes)?;
        if va.checked_add(len).is_none() || !page_aligned(va) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        ta.space.check_zi(va, len)?;
        ta.space.unmap_range(va, len)
    }

    fn set_prot(&self, ta: &mut TaCaller, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::ValueIn, Kind::ValueIn])?;
        let (num_bytes, flags) = value(&params[0]);
        let flags = flags as u32;
        if flags & !(MAP_FLAG_WRITEABLE | MAP_FLAG_EXECUTABLE) != 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let perm = match (flags & MAP_FLAG_WRITEABLE != 0, flags & MAP_FLAG_EXECUTABLE != 0) {
            (false, false) => UserPerm::ReadOnly,
            (true, false) => UserPerm::ReadWrite,
            (false, true) => UserPerm::ReadExec,
            // oxtee never maps user memory writable and executable.
            (true, true) => return Err(TeeResult::ERROR_ACCESS_DENIED),
        };
        let (hi, lo) = value(&params[1]);
        let va = join(hi, lo);
        let len = round_page(num_bytes)?;
        if va.checked_add(len).is_none() || !page_aligned(va) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        ta.space.check_zi(va, len)?;
        ta.space.protect(va, len, perm)
    }

    fn remap(&self, ta: &mut TaCaller, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::ValueIn, Kind::ValueIn, Kind::ValueInOut, Kind::ValueIn])?;
        let (num_bytes, _) = value(&params[0]);
        let (ohi, olo) = value(&params[1]);
        let (nhi, nlo) = value(&params[2]);
        let (pad_begin, pad_end) = value(&params[3]);
        let (old, new) = (join(ohi, olo), join(nhi, nlo));
        let len = round_page(num_bytes)?;
        if len == 0 || !page_aligned(old) || old.checked_add(len).is_none() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        ta.space.check_zi(old, len)?;
        if !page_aligned(new) || !page_aligned(pad_begin) || !page_aligned(pad_end) {
            return Err(TeeResult::ERROR_ACCESS_CONFLICT);
        }
        let (lo_va, hi_va) = ta.inst.zi_area();
        let at = if new == 0 {
            ta.space.find_free(lo_va, hi_va, len, pad_begin, pad_end)
        } else {
            let start = new.checked_sub(pad_begin);
            let end = new.checked_add(len).and_then(|e| e.checked_add(pad_end));
            match (start, end) {
                (Some(s), Some(e)) if s >= lo_va && e <= hi_va && ta.space.range_free(s, e - s) => Some(new),
                _ => None,
            }
        };
        let at = at.ok_or(TeeResult::ERROR_ACCESS_CONFLICT)?;
        ta.space.move_range(old, len, at)?;
        set_value(&mut params[2], at >> 32, at);
        Ok(())
    }

    fn dlopen(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::MemrefIn, Kind::ValueIn])?;
        let lib = uuid_param(ctx, &params[0])?;
        let (flags, _) = value(&params[1]);
        let Some(ta) = ctx.ta.as_mut() else { return Err(TeeResult::ERROR_ACCESS_DENIED) };
        ctx.os.ta_dlopen(&mut ctx.rpc, ta.inst, ta.space, lib, flags as u32)
    }

    fn dlsym(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::MemrefIn, Kind::MemrefIn, Kind::ValueOut])?;
        let lib = uuid_param(ctx, &params[0])?;
        // A null name is refused; the name ends at its NUL or the size.
        let name =
            memref_bytes(ctx, &params[1], crate::user::MAX_MEMREF_COPY)?.ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
        let name = name.split(|b| *b == 0).next().unwrap_or_default();
        let Some(ta) = ctx.ta.as_mut() else { return Err(TeeResult::ERROR_ACCESS_DENIED) };
        let va = ctx.os.ta_dlsym(&mut ctx.rpc, ta.inst, ta.space, lib, name)?;
        set_value(&mut params[2], va >> 32, va);
        Ok(())
    }

    fn supp_plugin_invoke(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> R<()> {
        expect(params, &[Kind::MemrefIn, Kind::ValueIn, Kind::MemrefInOut, Kind::ValueOut])?;
        let plugin = uuid_param(ctx, &params[0])?;
        let (cmd, sub_cmd) = value(&params[1]);
        let mut data = memref_bytes(ctx, &params[2], PLUGIN_DATA_MAX)?.unwrap_or_default();
        let (r, outlen) = supp_plugin_rpc(ctx, plugin, cmd as u32, sub_cmd as u32, &mut data);
        if let PtaParam::Memref { buf: Some(b), .. } = &mut params[2] {
            let n = (outlen as usize).min(data.len());
            if n > 0 {
                b.write(ctx.rpc.mem, 0, &data[..n])?;
            }
        }
        set_value(&mut params[3], outlen as u64, 0);
        r
    }
}

/// OPTEE_RPC_CMD_SUPP_PLUGIN: asks the supplicant's plugin `plugin` to run
/// `cmd`/`sub_cmd` on `data` (updated in place with its answer); the
/// result and the length the plugin reported.
pub fn supp_plugin_rpc(ctx: &mut Ctx, plugin: Uuid, cmd: u32, sub_cmd: u32, data: &mut [u8]) -> (R<()>, u32) {
    let o = plugin.to_octets();
    let w = |i: usize| u32::from_le_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]) as u64;
    let len = data.len() as u64;
    let mut payload = None;
    let memref = if len == 0 {
        Param::Tmem { dir: Dir::InOut, buf: 0, size: 0, shm_ref: 0, noncontig: false }
    } else {
        let p = match ctx.rpc.payload(len) {
            Ok(p) => p,
            Err(e) => return (Err(e), 0),
        };
        if p.pages.write(ctx.rpc.mem, 0, data).is_err() {
            return (Err(TeeResult::ERROR_COMMUNICATION), 0);
        }
        let m = Param::Rmem { dir: Dir::InOut, offs: 0, size: len, shm_ref: p.cookie };
        payload = Some(p);
        m
    };
    let mut q = [
        Param::Value { dir: Dir::In, a: rpc::SUPP_PLUGIN_INVOKE as u64, b: w(0), c: w(4) },
        Param::Value { dir: Dir::In, a: w(8), b: w(12), c: cmd as u64 },
        Param::Value { dir: Dir::InOut, a: sub_cmd as u64, b: 0, c: 0 },
        memref,
    ];
    let r = ctx.rpc.cmd(rpc::CMD_SUPP_PLUGIN, &mut q);
    let outlen = match q[2] {
        Param::Value { b, .. } if r.is_ok() => (b & 0xffff_ffff) as u32,
        _ => 0,
    };
    if r.is_ok() && outlen > 0 && len > 0 {
        let n = (outlen as u64).min(len) as usize;
        let Some(p) = payload else { return (Err(TeeResult::ERROR_GENERIC), 0) };
        if p.pages.read(ctx.rpc.mem, 0, &mut data[..n]).is_err() {
            return (Err(TeeResult::ERROR_COMMUNICATION), outlen);
        }
    }
    (r, outlen)
}

impl Pta for System {
    fn uuid(&self) -> Uuid {
        UUID
    }

    fn name(&self) -> &'static str {
        "system.pta"
    }

    /// Only user TAs, as upstream.
    fn accepts_login(&self, login: u32) -> bool {
        login == crate::user::LOGIN_TRUSTED_APP
    }

    fn open_session(&self, ctx: &mut Ctx, _params: &mut [PtaParam]) -> R<()> {
        if ctx.ta.is_none() { Err(TeeResult::ERROR_ACCESS_DENIED) } else { Ok(()) }
    }

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        let r = match cmd {
            CMD_ADD_RNG_ENTROPY => self.add_rng_entropy(ctx, params),
            CMD_DERIVE_TA_UNIQUE_KEY => self.derive_ta_unique_key(ctx, params),
            CMD_MAP_ZI | CMD_UNMAP | CMD_SET_PROT | CMD_REMAP => match ctx.ta.as_mut() {
                None => Err(TeeResult::ERROR_ACCESS_DENIED),
                Some(ta) => match cmd {
                    CMD_MAP_ZI => self.map_zi(ta, params),
                    CMD_UNMAP => self.unmap(ta, params),
                    CMD_SET_PROT => self.set_prot(ta, params),
                    _ => self.remap(ta, params),
                },
            },
            CMD_DLOPEN => self.dlopen(ctx, params),
            CMD_DLSYM => self.dlsym(ctx, params),
            CMD_GET_TPM_EVENT_LOG => {
                // No TPM event log on this platform: upstream's answer
                // without CFG_CORE_TPM_EVENT_LOG, after its parameter check.
                expect(params, &[Kind::MemrefOut]).and(Err(TeeResult::ERROR_NOT_SUPPORTED))
            }
            CMD_SUPP_PLUGIN_INVOKE => self.supp_plugin_invoke(ctx, params),
            _ => Err(TeeResult::ERROR_NOT_IMPLEMENTED),
        };
        match r {
            Ok(()) => TeeResult::SUCCESS,
            Err(e) => e,
        }
    }
}
