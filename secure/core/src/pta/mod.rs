//! Pseudo-TAs: services built into the OS, opened and invoked through the
//! same session protocol as TAs.

#[cfg(any(test, feature = "test-hooks"))]
pub mod async_notif_test;
pub mod device_enum;
#[cfg(any(test, feature = "test-hooks"))]
pub mod invoke_tests;
pub mod rng;
pub mod secstor;
pub mod socket;
pub mod system;
#[cfg(any(test, feature = "test-hooks"))]
pub mod test;

use crate::Os;
use crate::env::ThreadEnv;
use crate::msg::Dir;
use crate::nsmem::NsMemory;
use crate::rpc::Rpc;
use crate::shm::Pages;
use crate::user::Instance;
use crate::user::space::{PageBuf, UserSpace};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

/// A parameter as a (pseudo-)TA sees it.
pub enum PtaParam {
    None,
    Value {
        dir: Dir,
        a: u64,
        b: u64,
        c: u64,
    },
    /// `buf` is None for a null memref. `size` is the declared size on
    /// entry; an output memref sets it to the size it produced or needs.
    Memref {
        dir: Dir,
        buf: Option<PtaBuf>,
        size: u64,
    },
}

/// The memory behind a PTA's memref: a normal-world client's shared pages,
/// or the secure copy of a calling TA's buffer.
pub enum PtaBuf {
    Ns(Pages),
    Secure(PageBuf),
}

impl PtaBuf {
    /// Reads `out.len()` bytes at `offs`.
    pub fn read(&self, mem: &dyn NsMemory, offs: u64, out: &mut [u8]) -> Result<(), TeeResult> {
        match self {
            PtaBuf::Ns(p) => p.read(mem, offs, out).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS),
            PtaBuf::Secure(b) => {
                let o = usize::try_from(offs).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
                let src = o.checked_add(out.len()).and_then(|e| b.bytes().get(o..e));
                out.copy_from_slice(src.ok_or(TeeResult::ERROR_BAD_PARAMETERS)?);
                Ok(())
            }
        }
    }

    /// Writes `data` at `offs`.
    pub fn write(&mut self, mem: &dyn NsMemory, offs: u64, data: &[u8]) -> Result<(), TeeResult> {
        match self {
            PtaBuf::Ns(p) => p.write(mem, offs, data).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS),
            PtaBuf::Secure(b) => {
                let o = usize::try_from(offs).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
                let dst = o.checked_add(data.len()).and_then(|e| b.bytes_mut().get_mut(o..e));
                dst.ok_or(TeeResult::ERROR_BAD_PARAMETERS)?.copy_from_slice(data);
                Ok(())
            }
        }
    }
}

/// GP parameter type nibbles (TEE_PARAM_TYPE_*), for checking a command's
/// expected signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    None,
    ValueIn,
    ValueOut,
    ValueInOut,
    MemrefIn,
    MemrefOut,
    MemrefInOut,
}

impl PtaParam {
    pub fn kind(&self) -> Kind {
        match self {
            PtaParam::None => Kind::None,
            PtaParam::Value { dir: Dir::In, .. } => Kind::ValueIn,
            PtaParam::Value { dir: Dir::Out, .. } => Kind::ValueOut,
            PtaParam::Value { dir: Dir::InOut, .. } => Kind::ValueInOut,
            PtaParam::Memref { dir: Dir::In, .. } => Kind::MemrefIn,
            PtaParam::Memref { dir: Dir::Out, .. } => Kind::MemrefOut,
            PtaParam::Memref { dir: Dir::InOut, .. } => Kind::MemrefInOut,
        }
    }
}

/// Checks that `params` match `want` (missing trailing params count as None).
pub fn expect(params: &[PtaParam], want: &[Kind]) -> Result<(), TeeResult> {
    let n = params.len().max(want.len());
    for i in 0..n {
        let have = params.get(i).map(PtaParam::kind).unwrap_or(Kind::None);
        if have != *want.get(i).unwrap_or(&Kind::None) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
    }
    Ok(())
}

/// The user TA calling a PTA (TA-to-PTA sessions): its instance and its
/// address space (held by the call, so a PTA may map into it).
pub struct TaCaller<'a> {
    pub inst: &'a Arc<Instance>,
    pub space: &'a mut UserSpace,
    /// Memref parameters the TA passed from memory shared with a
    /// normal-world client (oxtee hands the PTA a secure copy either way).
    pub ns_memref: [bool; 4],
}

/// Everything a PTA may use while serving one request.
pub struct Ctx<'a> {
    pub os: &'a Os,
    pub rpc: Rpc<'a>,
    pub cancel: &'a AtomicBool,
    pub session: u32,
    /// Set when a user TA is the client (None: the normal world).
    pub ta: Option<TaCaller<'a>>,
}

impl Ctx<'_> {
    pub fn env(&mut self) -> &mut dyn ThreadEnv {
        self.rpc.env
    }

    pub fn mem(&self) -> &dyn NsMemory {
        self.rpc.mem
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Acquire)
    }
}

/// Whether device enumeration lists a PTA for the normal-world kernel to
/// create a device on its TEE bus (upstream's `TA_FLAG_DEVICE_ENUM*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// Not a device.
    None,
    /// A device that needs no supplicant (`PTA_CMD_GET_DEVICES`).
    NoSupplicant,
    /// A device usable once the supplicant runs (`PTA_CMD_GET_DEVICES_SUPP`).
    Supplicant,
}

pub trait Pta: Sync {
    fn uuid(&self) -> Uuid;
    fn name(&self) -> &'static str;
    /// Whether, and when, device enumeration lists this PTA.
    fn device(&self) -> DeviceKind {
        DeviceKind::None
    }
    /// Whether a client logged in as `login` (`TEE_LOGIN_*`) may open a
    /// session.
    fn accepts_login(&self, _login: u32) -> bool {
        true
    }

    fn open_session(&self, _ctx: &mut Ctx, _params: &mut [PtaParam]) -> Result<(), TeeResult> {
        Ok(())
    }
    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult;
    /// The session `ctx.session` is closed. `ctx.ta` is the calling TA when
    /// it closes the session itself, None when the normal world closes it
    /// or the owning TA instance is gone.
    fn close_session(&self, _ctx: &mut Ctx) {}
}
