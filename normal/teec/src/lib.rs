//! The GlobalPlatform TEE Client API for Rust, over the Linux TEE subsystem
//! (`/dev/tee0`). Shaped like the Teaclave TrustZone SDK's `optee-teec`
//! (`Context`, `Session`, `Operation`, `ParamValue`, `ParamTmpRef`, `Uuid`)
//! so client code ports with few changes. All kernel access is in [`sys`].
//!
//! A client opens a [`Context`] (the TEE device), a [`Session`] with a TA by
//! its UUID, and invokes commands with an [`Operation`] of up to four
//! parameters ([`ParamValue`], [`ParamTmpRef`], [`ParamNone`], or any
//! [`Param`]); outputs are read back from the operation after the call.
//! Failures are an [`Error`]: the GP code, named by [`Error::kind`], and the
//! layer that returned it, [`Error::origin`].
//!
//! ```no_run
//! use oxtee_teec::{Context, Dir, ErrorKind, Operation, ParamNone, ParamTmpRef, ParamValue, Uuid};
//!
//! fn main() -> Result<(), oxtee_teec::Error> {
//!     // optee_examples' hello_world TA (ta/hello): command 0 adds 1 to value a.
//!     let uuid = Uuid::parse("8aaaf200-2450-11e4-abe2-0002a5d5c51b").expect("a valid UUID");
//!     let ctx = Context::new()?;
//!     let mut session = ctx.open_session(uuid)?;
//!     let mut op = Operation::new(0, ParamValue::new(41, 0, Dir::InOut), ParamNone::new(), ParamNone::new(), ParamNone::new());
//!     session.invoke_command(0, &mut op)?;
//!     assert_eq!(op.params[0].value(), Some((42, 0)));
//!
//!     // A command of some other TA that writes into an output buffer: if the
//!     // buffer is too short, the TA answers ShortBuffer with the size it needs.
//!     const CMD_READ: u32 = 7;
//!     let mut small = [0u8; 4];
//!     let mut op = Operation::new(0, ParamTmpRef::new_output(&mut small), ParamNone::new(), ParamNone::new(), ParamNone::new());
//!     match session.invoke_command(CMD_READ, &mut op) {
//!         Err(e) if e.kind() == ErrorKind::ShortBuffer => println!("needs {:?} bytes", op.params[0].size()),
//!         Err(e) => eprintln!("failed: {e}"), // e.g. "TEE_ERROR_BAD_PARAMETERS (0xffff0006) from the trusted application"
//!         Ok(()) => {}
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Building a client for the oxtee QEMU guest and running it there:
//! `normal/teec/README.md`.

#![deny(missing_docs)]

mod error;
// The kernel's ioctl structures, named as in `linux/tee.h` (documented there).
#[allow(missing_docs)]
pub mod sys;

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use sys::{IoctlParam, Mapping};

pub use oxtee_abi::tee::Origin;
pub use oxtee_abi::uuid::Uuid;

pub use error::{Error, ErrorKind, ErrorOrigin, Result};

// The GP Client API's result codes (`TEEC_*`), as numbers: the `code`
// of an `Error` (`ErrorKind` names them).
/// `TEEC_SUCCESS`.
pub const TEEC_SUCCESS: u32 = 0;
/// `TEEC_ERROR_GENERIC` (see [`ErrorKind`]).
pub const TEEC_ERROR_GENERIC: u32 = 0xffff_0000;
/// `TEEC_ERROR_ACCESS_DENIED` (see [`ErrorKind`]).
pub const TEEC_ERROR_ACCESS_DENIED: u32 = 0xffff_0001;
/// `TEEC_ERROR_CANCEL` (see [`ErrorKind`]).
pub const TEEC_ERROR_CANCEL: u32 = 0xffff_0002;
/// `TEEC_ERROR_ACCESS_CONFLICT` (see [`ErrorKind`]).
pub const TEEC_ERROR_ACCESS_CONFLICT: u32 = 0xffff_0003;
/// `TEEC_ERROR_EXCESS_DATA` (see [`ErrorKind`]).
pub const TEEC_ERROR_EXCESS_DATA: u32 = 0xffff_0004;
/// `TEEC_ERROR_BAD_FORMAT` (see [`ErrorKind`]).
pub const TEEC_ERROR_BAD_FORMAT: u32 = 0xffff_0005;
/// `TEEC_ERROR_BAD_PARAMETERS` (see [`ErrorKind`]).
pub const TEEC_ERROR_BAD_PARAMETERS: u32 = 0xffff_0006;
/// `TEEC_ERROR_BAD_STATE` (see [`ErrorKind`]).
pub const TEEC_ERROR_BAD_STATE: u32 = 0xffff_0007;
/// `TEEC_ERROR_ITEM_NOT_FOUND` (see [`ErrorKind`]).
pub const TEEC_ERROR_ITEM_NOT_FOUND: u32 = 0xffff_0008;
/// `TEEC_ERROR_NOT_IMPLEMENTED` (see [`ErrorKind`]).
pub const TEEC_ERROR_NOT_IMPLEMENTED: u32 = 0xffff_0009;
/// `TEEC_ERROR_NOT_SUPPORTED` (see [`ErrorKind`]).
pub const TEEC_ERROR_NOT_SUPPORTED: u32 = 0xffff_000a;
/// `TEEC_ERROR_NO_DATA` (see [`ErrorKind`]).
pub const TEEC_ERROR_NO_DATA: u32 = 0xffff_000b;
/// `TEEC_ERROR_OUT_OF_MEMORY` (see [`ErrorKind`]).
pub const TEEC_ERROR_OUT_OF_MEMORY: u32 = 0xffff_000c;
/// `TEEC_ERROR_BUSY` (see [`ErrorKind`]).
pub const TEEC_ERROR_BUSY: u32 = 0xffff_000d;
/// `TEEC_ERROR_COMMUNICATION` (see [`ErrorKind`]).
pub const TEEC_ERROR_COMMUNICATION: u32 = 0xffff_000e;
/// `TEEC_ERROR_SECURITY` (see [`ErrorKind`]).
pub const TEEC_ERROR_SECURITY: u32 = 0xffff_000f;
/// `TEEC_ERROR_SHORT_BUFFER` (see [`ErrorKind`]).
pub const TEEC_ERROR_SHORT_BUFFER: u32 = 0xffff_0010;
/// `TEEC_ERROR_EXTERNAL_CANCEL` (see [`ErrorKind`]).
pub const TEEC_ERROR_EXTERNAL_CANCEL: u32 = 0xffff_0011;
/// `TEEC_ERROR_TARGET_DEAD` (see [`ErrorKind`]).
pub const TEEC_ERROR_TARGET_DEAD: u32 = 0xffff_3024;
/// `TEEC_ERROR_STORAGE_NO_SPACE` (see [`ErrorKind`]).
pub const TEEC_ERROR_STORAGE_NO_SPACE: u32 = 0xffff_3041;
/// `TEEC_ERROR_STORAGE_NOT_AVAILABLE` (see [`ErrorKind`]).
pub const TEEC_ERROR_STORAGE_NOT_AVAILABLE: u32 = 0xf010_0003;

/// Login methods (TEEC_LOGIN_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Login {
    /// `TEEC_LOGIN_PUBLIC`: no identity.
    Public = 0,
    /// `TEEC_LOGIN_USER`: the calling process's user.
    User = 1,
    /// `TEEC_LOGIN_GROUP`: a group of the calling process.
    Group = 2,
    /// `TEEC_LOGIN_APPLICATION`: the calling program.
    Application = 4,
    /// `TEEC_LOGIN_USER_APPLICATION`: user and program.
    UserApplication = 5,
    /// `TEEC_LOGIN_GROUP_APPLICATION`: group and program.
    GroupApplication = 6,
}

/// Direction of a memory or value parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to TA (`TEEC_VALUE_INPUT`, `TEEC_MEMREF_TEMP_INPUT`, ...).
    In,
    /// TA to client (`*_OUTPUT`).
    Out,
    /// Both ways (`*_INOUT`).
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
    /// The TEE subsystem's id for it.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Its size in bytes, as asked for.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Its contents.
    pub fn buffer(&self) -> &[u8] {
        self.map.as_ref().map(|m| &m.as_slice()[..self.size]).unwrap_or(&[])
    }

    /// Its contents, writable.
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        let size = self.size;
        self.map.as_mut().map(|m| &mut m.as_mut_slice()[..size]).unwrap_or(&mut [])
    }

    /// Where it is mapped in this process (null if not mapped).
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_ref().map(|m| m.as_ptr()).unwrap_or(std::ptr::null_mut())
    }

    /// The file descriptor the kernel gave it.
    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }
}

/// One operation parameter.
pub enum Param<'a> {
    /// Unused (`TEEC_NONE`).
    None,
    /// Two 32-bit values (`TEEC_VALUE_*`).
    Value {
        /// Direction.
        dir: Dir,
        /// `value.a`: read back after the call for `Out`/`InOut`.
        a: u32,
        /// `value.b`.
        b: u32,
    },
    /// A temporary buffer, copied through kernel shared memory.
    TmpRef {
        /// Direction.
        dir: Dir,
        /// The client's buffer: output is copied back into it if it fits.
        buf: &'a mut [u8],
        /// Bytes passed; after the call, what the TA produced or, on
        /// `ShortBuffer`, the size it needs.
        size: usize,
    },
    /// A null temporary memref with a size (size queries).
    Null {
        /// Direction.
        dir: Dir,
        /// The size claimed; after the call, the size the TA wants.
        size: usize,
    },
    /// Part of registered/allocated shared memory.
    Partial {
        /// Direction.
        dir: Dir,
        /// The shared memory.
        shm: &'a SharedMemory,
        /// Where in it the parameter starts.
        offset: usize,
        /// Bytes passed; after the call, what the TA produced or needs.
        size: usize,
    },
    /// The whole of a shared memory block.
    Whole {
        /// Direction.
        dir: Dir,
        /// The shared memory.
        shm: &'a SharedMemory,
        /// Bytes passed; after the call, what the TA produced or needs.
        size: usize,
    },
}

/// Teaclave-style constructor of a value parameter.
pub struct ParamValue;
// Teaclave's names, building our one parameter type.
#[allow(clippy::new_ret_no_self)]
impl ParamValue {
    /// A value parameter `(a, b)`.
    pub fn new<'a>(a: u32, b: u32, dir: Dir) -> Param<'a> {
        Param::Value { dir, a, b }
    }
}

/// Teaclave-style constructors of a temporary memory reference (the
/// buffer is copied through kernel shared memory for the call).
pub struct ParamTmpRef;
// Teaclave's names, building our one parameter type.
#[allow(clippy::new_ret_no_self)]
impl ParamTmpRef {
    /// The whole of `buf`, client to TA.
    pub fn new_input(buf: &mut [u8]) -> Param<'_> {
        let size = buf.len();
        Param::TmpRef { dir: Dir::In, buf, size }
    }
    /// The whole of `buf`, TA to client.
    pub fn new_output(buf: &mut [u8]) -> Param<'_> {
        let size = buf.len();
        Param::TmpRef { dir: Dir::Out, buf, size }
    }
    /// The whole of `buf`, both ways.
    pub fn new_inout(buf: &mut [u8]) -> Param<'_> {
        let size = buf.len();
        Param::TmpRef { dir: Dir::InOut, buf, size }
    }
}

/// Teaclave-style constructor of an unused parameter.
pub struct ParamNone;
// Teaclave's names, building our one parameter type.
#[allow(clippy::new_ret_no_self)]
impl ParamNone {
    /// `TEEC_NONE`.
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
    /// The parameters; outputs are updated in place by the call.
    pub params: [Param<'a>; 4],
    /// Identifies this operation for cancellation.
    pub cancel_id: u32,
}

impl<'a> Operation<'a> {
    /// An operation with these parameters, tagged `cancel_id` (any number;
    /// [`Context::request_cancellation`] names it).
    pub fn new(cancel_id: u32, p0: Param<'a>, p1: Param<'a>, p2: Param<'a>, p3: Param<'a>) -> Operation<'a> {
        Operation { params: [p0, p1, p2, p3], cancel_id }
    }

    /// No parameters.
    pub fn empty() -> Operation<'static> {
        Operation { params: [Param::None, Param::None, Param::None, Param::None], cancel_id: 0 }
    }

    /// The parameters.
    pub fn parameters(&self) -> &[Param<'a>; 4] {
        &self.params
    }
}

/// A connection to the TEE (`TEEC_Context`): an open TEE client device.
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

    /// Opens the TEE client device at `path`. `ItemNotFound` from the API
    /// if it can't be opened (no TEE driver, or no access), `NotSupported`
    /// if it is not a GP TEE.
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

    /// The driver's capabilities (`TEE_GEN_CAP_*` in [`sys`]).
    pub fn gen_caps(&self) -> u32 {
        self.gen_caps
    }

    /// The open device.
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

    /// Opens a session with the TA `uuid`, public login, no parameters.
    /// A TA that is not installed answers `ItemNotFound` from the TEE.
    pub fn open_session(&self, uuid: Uuid) -> Result<Session<'_>> {
        self.open_session_with(uuid, Login::Public, None)
    }

    /// Asks the TEE to cancel the operation tagged `cancel_id` on `session`.
    pub fn request_cancellation(&self, session: u32, cancel_id: u32) -> Result<()> {
        let mut arg = [cancel_id, session];
        sys::ioctl(&self.dev, sys::TEE_IOC_CANCEL, &mut arg).map(|_| ()).map_err(|_| Error::comms())
    }

    /// Invokes command `cmd` on the session with id `session`.
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

    /// Closes the session with id `session` (what dropping a [`Session`]
    /// does).
    pub fn close_raw(&self, session: u32) {
        let mut arg = session;
        let _ = sys::ioctl(&self.dev, sys::TEE_IOC_CLOSE_SESSION, &mut arg);
    }
}

/// An open session with a TA (`TEEC_Session`); closed on drop.
pub struct Session<'ctx> {
    ctx: &'ctx Context,
    id: u32,
}

impl Session<'_> {
    /// The session id the TEE gave it.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Invokes the TA's command `cmd` with `op`'s parameters; output
    /// values and sizes are written back into `op`, also on error (a
    /// `ShortBuffer` answer carries the size needed).
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
