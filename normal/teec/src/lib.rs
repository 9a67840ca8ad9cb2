//! The GlobalPlatform TEE Client API for Rust, over the Linux TEE subsystem
//! (`/dev/tee0`). Shaped like the Teaclave TrustZone SDK's `optee-teec`
//! (`Context`, `Session`, `Operation`, `ParamValue`, `ParamTmpRef`, `Uuid`)
//! so client code ports with few changes. All kernel access is in `sys`.

mod error;
pub mod sys;

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use sys::{IoctlParam, Mapping};

pub use oxtee_abi::tee::Origin;
pub use oxtee_abi::uuid::Uuid;

pub use error::{Error, ErrorKind, ErrorOrigin, Result};

/// `TEEC_SUCCESS`.
pub const TEEC_SUCCESS: u32 = 0;
pub const TEEC_ERROR_GENERIC: u32 = 0xffff_0000;
pub const TEEC_ERROR_ACCESS_DENIED: u32 = 0xffff_0001;
pub const TEEC_ERROR_CANCEL: u32 = 0xffff_0002;
pub const TEEC_ERROR_ACCESS_CONFLICT: u32 = 0xffff_0003;
pub const TEEC_ERROR_EXCESS_DATA: u32 = 0xffff_0004;
pub const TEEC_ERROR_BAD_FORMAT: u32 = 0xffff_0005;
pub const TEEC_ERROR_BAD_PARAMETERS: u32 = 0xffff_0006;
pub const TEEC_ERROR_BAD_STATE: u32 = 0xffff_0007;
pub const TEEC_ERROR_ITEM_NOT_FOUND: u32 = 0xffff_0008;
pub const TEEC_ERROR_NOT_IMPLEMENTED: u32 = 0xffff_0009;
pub const TEEC_ERROR_NOT_SUPPORTED: u32 = 0xffff_000a;
pub const TEEC_ERROR_NO_DATA: u32 = 0xffff_000b;
pub const TEEC_ERROR_OUT_OF_MEMORY: u32 = 0xffff_000c;
pub const TEEC_ERROR_BUSY: u32 = 0xffff_000d;
pub const TEEC_ERROR_COMMUNICATION: u32 = 0xffff_000e;
pub const TEEC_ERROR_SECURITY: u32 = 0xffff_000f;
pub const TEEC_ERROR_SHORT_BUFFER: u32 = 0xffff_0010;
pub const TEEC_ERROR_EXTERNAL_CANCEL: u32 = 0xffff_0011;
pub const TEEC_ERROR_TARGET_DEAD: u32 = 0xffff_3024;
pub const TEEC_ERROR_STORAGE_NO_SPACE: u32 = 0xffff_3041;
pub const TEEC_ERROR_STORAGE_NOT_AVAILABLE: u32 = 0xf010_0003;

/// Login methods (TEEC_LOGIN_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Login {
    Public = 0,
    User = 1,
    Group = 2,
    Application = 4,
    UserApplication = 5,
    GroupApplication = 6,
}

/// Direction of a memory or value parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
    InOut,
}

impl Dir {
    fn attr_offset(self) -> u64 {
        match self {
            Dir::In => 0,
            Dir::Out => 1,
            Dir::InOut => 2,
        }
    }
    fn is_out(self) -> bool {
        self != Dir::In
    }
    fn is_in(self) -> bool {
        self != Dir::Out
    }
}

/// Shared memory known to the TEE subsystem (allocated or registered).
pub struct SharedMemory {
    file: File,
    id: i32,
    map: Option<Mapping>,
    size: usize,
}

impl SharedMemory {
    pub fn id(&self) -> i32 {
        self.id
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn buffer(&self) -> &[u8] {
        self.map.as_ref().map(|m| &m.as_slice()[..self.size]).unwrap_or(&[])
    }

    pub fn buffer_mut(&mut self) -> &mut [u8] {
        let size = self.size;
        self.map.as_mut().map(|m| &mut m.as_mut_slice()[..size]).unwrap_or(&mut [])
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_ref().map(|m| m.as_ptr()).unwrap_or(std::ptr::null_mut())
    }

    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }
}

/// One operation parameter.
pub enum Param<'a> {
    None,
    Value {
        dir: Dir,
        a: u32,
        b: u32,
    },
    /// A temporary buffer, copied through kernel shared memory.
    TmpRef {
        dir: Dir,
        buf: &'a mut [u8],
        size: usize,
    },
    /// A null temporary memref with a size (size queries).
    Null {
        dir: Dir,
        size: usize,
    },
    /// Part of registered/allocated shared memory.
    Partial {
        dir: Dir,
        shm: &'a SharedMemory,
        offset: usize,
        size: usize,
    },
    /// The whole of a shared memory block.
    Whole {
        dir: Dir,
        shm: &'a SharedMemory,
        size: usize,
    },
}

/// Teaclave-style constructors.
pub struct ParamValue;
// Teaclave's names, building our one parameter type.
#[allow(clippy::new_ret_no_self)]
impl ParamValue {
    pub fn new<'a>(a: u32, b: u32, dir: Dir) -> Param<'a> {
        Param::Value { dir, a, b }
    }
}

pub struct ParamTmpRef;
// Teaclave's names, building our one parameter type.
#[allow(clippy::new_ret_no_self)]
impl ParamTmpRef {
    pub fn new_input(buf: &mut [u8]) -> Param<'_> {
        let size = buf.len();
        Param::TmpRef { dir: Dir::In, buf, size }
    }
    pub fn new_output(buf: &mut [u8]) -> Param<'_> {
        let size = buf.len();
        Param::TmpRef { dir: Dir::Out, buf, size }
    }
    pub fn new_inout(buf: &mut [u8]) -> Param<'_> {
        let size = buf.len();
        Param::TmpRef { dir: Dir::InOut, buf, size }
    }
}

pub struct ParamNone;
// Teaclave's names, building our one parameter type.
#[allow(clippy::new_ret_no_self)]
impl ParamNone {
    pub fn new<'a>() -> Param<'a> {
        Param::None
    }
}

impl Param<'_> {
    /// Value a/b after the call (for value parameters).
    pub fn value(&self) -> Option<(u32, u32)> {
        match self {
            Param::Value { a, b, .. } => Some((*a, *b)),
            _ => None,
        }
    }

    /// Memref size after the call (what the TA produced or needs).
    pub fn size(&self) -> Option<usize> {
        match self {
            Param::TmpRef { size, .. }
            | Param::Null { size, .. }
            | Param::Partial { size, .. }
            | Param::Whole { size, .. } => Some(*size),
            _ => None,
        }
    }
}

/// Up to four parameters for an open or invoke.
pub struct Operation<'a> {
    pub params: [Param<'a>; 4],
    /// Identifies this operation for cancellation.
    pub cancel_id: u32,
}

impl<'a> Operation<'a> {
    pub fn new(cancel_id: u32, p0: Param<'a>, p1: Param<'a>, p2: Param<'a>, p3: Param<'a>) -> Operation<'a> {
        Operation { params: [p0, p1, p2, p3], cancel_id }
    }

    pub fn empty() -> Operation<'static> {
        Operation { params: [Param::None, Param::None, Param::None, Param::None], cancel_id: 0 }
    }

    pub fn parameters(&self) -> &[Param<'a>; 4] {
        &self.params
    }
}

pub struct Context {
    dev: File,
    gen_caps: u32,
}

/// Temporary buffers of one call, alive until its results are copied back.
struct Staging {
    bufs: Vec<Option<SharedMemory>>,
}

impl Context {
    /// Opens the first TEE client device (`/dev/tee0`).
    pub fn new() -> Result<Context> {
        Self::open("/dev/tee0")
    }

    pub fn open(path: &str) -> Result<Context> {
        let dev =
            OpenOptions::new().read(true).write(true).open(path).map_err(|_| Error::api(TEEC_ERROR_ITEM_NOT_FOUND))?;
        let mut v = sys::VersionData::default();
        sys::ioctl(&dev, sys::TEE_IOC_VERSION, &mut v).map_err(|_| Error::comms())?;
        if v.gen_caps & sys::TEE_GEN_CAP_GP == 0 {
            return Err(Error::api(TEEC_ERROR_NOT_SUPPORTED));
        }
        Ok(Context { dev, gen_caps: v.gen_caps })
    }

    pub fn gen_caps(&self) -> u32 {
        self.gen_caps
    }

    pub fn file(&self) -> &File {
        &self.dev
    }

    /// Shared memory mapped into this process. As upstream's libteec: where
    /// the driver can register user memory, fresh anonymous pages are
    /// registered (any size the TEE accepts); otherwise the kernel allocates
    /// it (physically contiguous: a few MiB at most).
    pub fn allocate_shared_memory(&self, size: usize) -> Result<SharedMemory> {
        if self.gen_caps & sys::TEE_GEN_CAP_REG_MEM != 0 {
            let oom = |_| Error::api(TEEC_ERROR_OUT_OF_MEMORY);
            let map = Mapping::anonymous(size).map_err(oom)?;
            let mut d = sys::ShmRegisterData { addr: map.as_ptr() as u64, length: size.max(1) as u64, flags: 0, id: 0 };
            let fd = sys::ioctl(&self.dev, sys::TEE_IOC_SHM_REGISTER, &mut d).map_err(oom)?;
            return Ok(SharedMemory { file: sys::file_from_fd(fd), id: d.id, map: Some(map), size });
        }
        let mut d = sys::ShmAllocData { size: size as u64, flags: 0, id: 0 };
        let fd =
            sys::ioctl(&self.dev, sys::TEE_IOC_SHM_ALLOC, &mut d).map_err(|_| Error::api(TEEC_ERROR_OUT_OF_MEMORY))?;
        let file = sys::file_from_fd(fd);
        let map = Mapping::new(fd, size).map_err(|_| Error::api(TEEC_ERROR_OUT_OF_MEMORY))?;
        Ok(SharedMemory { file, id: d.id, map: Some(map), size })
    }

    fn to_ioctl(&self, op: &mut Operation, staging: &mut Staging) -> Result<[IoctlParam; 4]> {
        let mut out = [IoctlParam::default(); 4];
        for (i, p) in op.params.iter_mut().enumerate() {
            let memref = |dir: Dir| sys::TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT + dir.attr_offset();
            out[i] = match p {
                Param::None => IoctlParam::default(),
                Param::Value { dir, a, b } => IoctlParam {
                    attr: sys::TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT + dir.attr_offset(),
                    a: *a as u64,
                    b: *b as u64,
                    c: 0,
                },
                Param::TmpRef { dir, buf, size } => {
                    let mut shm = self.allocate_shared_memory((*size).max(1))?;
                    if dir.is_in() {
                        shm.buffer_mut()[..*size].copy_from_slice(&buf[..*size]);
                    }
                    let q = IoctlParam { attr: memref(*dir), a: 0, b: *size as u64, c: shm.id() as u64 };
                    staging.bufs[i] = Some(shm);
                    q
                }
                Param::Null { dir, size } => {
                    if self.gen_caps & sys::TEE_GEN_CAP_MEMREF_NULL == 0 {
                        return Err(Error::api(TEEC_ERROR_BAD_PARAMETERS));
                    }
                    IoctlParam { attr: memref(*dir), a: 0, b: *size as u64, c: sys::TEE_MEMREF_NULL }
                }
                Param::Partial { dir, shm, offset, size } => {
                    if offset.checked_add(*size).is_none_or(|e| e > shm.size()) {
                        return Err(Error::api(TEEC_ERROR_BAD_PARAMETERS));
                    }
                    IoctlParam { attr: memref(*dir), a: *offset as u64, b: *size as u64, c: shm.id() as u64 }
                }
                Param::Whole { dir, shm, size } => {
                    IoctlParam { attr: memref(*dir), a: 0, b: *size as u64, c: shm.id() as u64 }
                }
            };
        }
        Ok(out)
    }

    fn from_ioctl(op: &mut Operation, back: &[IoctlParam; 4], staging: &Staging) {
        for (i, p) in op.params.iter_mut().enumerate() {
            let q = back[i];
            match p {
                Param::Value { dir, a, b } if dir.is_out() => {
                    *a = q.a as u32;
                    *b = q.b as u32;
                }
                Param::TmpRef { dir, buf, size } if dir.is_out() => {
                    let new = q.b as usize;
                    if let Some(shm) = &staging.bufs[i]
                        && new <= buf.len()
                    {
                        buf[..new].copy_from_slice(&shm.buffer()[..new]);
                    }
                    *size = new;
                }
                Param::Null { dir, size } | Param::Partial { dir, size, .. } | Param::Whole { dir, size, .. }
                    if dir.is_out() =>
                {
                    *size = q.b as usize;
                }
                _ => {}
            }
        }
    }

    /// Opens a session with login method `login`.
    pub fn open_session_with(&self, uuid: Uuid, login: Login, op: Option<&mut Operation>) -> Result<Session<'_>> {
        let mut empty = Operation::empty();
        let op = op.unwrap_or(&mut empty);
        let mut staging = Staging { bufs: vec![None, None, None, None] };
        let params = self.to_ioctl(op, &mut staging)?;
        let head = sys::OpenSessionHead {
            uuid: uuid.to_octets(),
            clnt_login: login as u32,
            cancel_id: op.cancel_id,
            num_params: 4,
            ..Default::default()
        };
        let mut buf = sys::encode(&head, &params);
        sys::ioctl_buf(&self.dev, sys::TEE_IOC_OPEN_SESSION, &mut buf).map_err(|_| Error::comms())?;
        let (head, back): (sys::OpenSessionHead, _) = sys::decode(&buf);
        Self::from_ioctl(op, &back, &staging);
        if head.ret != 0 {
            return Err(Error { code: head.ret, origin: head.ret_origin });
        }
        Ok(Session { ctx: self, id: head.session })
    }

    pub fn open_session(&self, uuid: Uuid) -> Result<Session<'_>> {
        self.open_session_with(uuid, Login::Public, None)
    }

    /// Asks the TEE to cancel the operation tagged `cancel_id` on `session`.
    pub fn request_cancellation(&self, session: u32, cancel_id: u32) -> Result<()> {
        let mut arg = [cancel_id, session];
        sys::ioctl(&self.dev, sys::TEE_IOC_CANCEL, &mut arg).map(|_| ()).map_err(|_| Error::comms())
    }

    pub fn invoke_raw(&self, session: u32, cmd: u32, op: &mut Operation) -> Result<()> {
        let mut staging = Staging { bufs: vec![None, None, None, None] };
        let params = self.to_ioctl(op, &mut staging)?;
        let head = sys::InvokeHead { func: cmd, session, cancel_id: op.cancel_id, num_params: 4, ..Default::default() };
        let mut buf = sys::encode(&head, &params);
        sys::ioctl_buf(&self.dev, sys::TEE_IOC_INVOKE, &mut buf).map_err(|_| Error::comms())?;
        let (head, back): (sys::InvokeHead, _) = sys::decode(&buf);
        Self::from_ioctl(op, &back, &staging);
        if head.ret != 0 { Err(Error { code: head.ret, origin: head.ret_origin }) } else { Ok(()) }
    }

    pub fn close_raw(&self, session: u32) {
        let mut arg = session;
        let _ = sys::ioctl(&self.dev, sys::TEE_IOC_CLOSE_SESSION, &mut arg);
    }
}

pub struct Session<'ctx> {
    ctx: &'ctx Context,
    id: u32,
}

impl Session<'_> {
    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn invoke_command(&mut self, cmd: u32, op: &mut Operation) -> Result<()> {
        self.ctx.invoke_raw(self.id, cmd, op)
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.ctx.close_raw(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_api_constants_match_the_kinds() {
        let pairs = [
            (TEEC_ERROR_GENERIC, ErrorKind::Generic),
            (TEEC_ERROR_ACCESS_DENIED, ErrorKind::AccessDenied),
            (TEEC_ERROR_CANCEL, ErrorKind::Cancel),
            (TEEC_ERROR_ACCESS_CONFLICT, ErrorKind::AccessConflict),
            (TEEC_ERROR_EXCESS_DATA, ErrorKind::ExcessData),
            (TEEC_ERROR_BAD_FORMAT, ErrorKind::BadFormat),
            (TEEC_ERROR_BAD_PARAMETERS, ErrorKind::BadParameters),
            (TEEC_ERROR_BAD_STATE, ErrorKind::BadState),
            (TEEC_ERROR_ITEM_NOT_FOUND, ErrorKind::ItemNotFound),
            (TEEC_ERROR_NOT_IMPLEMENTED, ErrorKind::NotImplemented),
            (TEEC_ERROR_NOT_SUPPORTED, ErrorKind::NotSupported),
            (TEEC_ERROR_NO_DATA, ErrorKind::NoData),
            (TEEC_ERROR_OUT_OF_MEMORY, ErrorKind::OutOfMemory),
            (TEEC_ERROR_BUSY, ErrorKind::Busy),
            (TEEC_ERROR_COMMUNICATION, ErrorKind::Communication),
            (TEEC_ERROR_SECURITY, ErrorKind::Security),
            (TEEC_ERROR_SHORT_BUFFER, ErrorKind::ShortBuffer),
            (TEEC_ERROR_EXTERNAL_CANCEL, ErrorKind::ExternalCancel),
            (TEEC_ERROR_TARGET_DEAD, ErrorKind::TargetDead),
            (TEEC_ERROR_STORAGE_NO_SPACE, ErrorKind::StorageNoSpace),
            (TEEC_ERROR_STORAGE_NOT_AVAILABLE, ErrorKind::StorageNotAvailable),
        ];
        for (c, k) in pairs {
            assert_eq!(ErrorKind::from_raw(c), k);
            assert_eq!(k.raw(), c);
        }
    }

    #[test]
    fn errors_print_names_and_hex() {
        let e = Error { code: TEEC_ERROR_ITEM_NOT_FOUND, origin: Origin::Tee as u32 };
        assert_eq!(format!("{e:?}"), "Error { code: TEE_ERROR_ITEM_NOT_FOUND (0xffff0008), origin: TEEC_ORIGIN_TEE }");
        assert_eq!(e.to_string(), "TEE_ERROR_ITEM_NOT_FOUND (0xffff0008) from the TEE");
        assert_eq!(
            Error::api(TEEC_ERROR_BAD_PARAMETERS).to_string(),
            "TEE_ERROR_BAD_PARAMETERS (0xffff0006) from the client API"
        );
    }
}
