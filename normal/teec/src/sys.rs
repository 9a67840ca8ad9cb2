//! The Linux TEE subsystem's ioctl interface (`include/uapi/linux/tee.h`):
//! the only place this crate talks to the kernel.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

pub const TEE_IOCTL_PARAM_ATTR_TYPE_NONE: u64 = 0;
pub const TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT: u64 = 1;
pub const TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT: u64 = 5;
pub const TEE_IOCTL_PARAM_ATTR_META: u64 = 0x100;
pub const TEE_GEN_CAP_GP: u32 = 1 << 0;
pub const TEE_GEN_CAP_PRIVILEGED: u32 = 1 << 1;
pub const TEE_GEN_CAP_REG_MEM: u32 = 1 << 2;
pub const TEE_GEN_CAP_MEMREF_NULL: u32 = 1 << 3;
/// shm id meaning "null memref" (with TEE_GEN_CAP_MEMREF_NULL).
pub const TEE_MEMREF_NULL: u64 = u64::MAX;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoctlParam {
    pub attr: u64,
    pub a: u64,
    pub b: u64,
    pub c: u64,
}

#[repr(C)]
#[derive(Default)]
pub struct VersionData {
    pub impl_id: u32,
    pub impl_caps: u32,
    pub gen_caps: u32,
}

#[repr(C)]
#[derive(Default)]
pub struct ShmAllocData {
    pub size: u64,
    pub flags: u32,
    pub id: i32,
}

#[repr(C)]
#[derive(Default)]
pub struct ShmRegisterData {
    pub addr: u64,
    pub length: u64,
    pub flags: u32,
    pub id: i32,
}

#[repr(C)]
pub struct BufData {
    pub buf_ptr: u64,
    pub buf_len: u64,
}

#[repr(C)]
#[derive(Default, Debug)]
pub struct OpenSessionHead {
    pub uuid: [u8; 16],
    pub clnt_uuid: [u8; 16],
    pub clnt_login: u32,
    pub cancel_id: u32,
    pub session: u32,
    pub ret: u32,
    pub ret_origin: u32,
    pub num_params: u32,
}

#[repr(C)]
#[derive(Default, Debug)]
pub struct InvokeHead {
    pub func: u32,
    pub session: u32,
    pub cancel_id: u32,
    pub ret: u32,
    pub ret_origin: u32,
    pub num_params: u32,
}

/// Head of TEE_IOC_SUPPL_RECV / SEND buffers (func or ret, num_params).
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct SuppHead {
    pub func_or_ret: u32,
    pub num_params: u32,
}

const fn ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | (0xa4 << 8) | nr
}
const R: u64 = 2;
const RW: u64 = 3;
pub const TEE_IOC_VERSION: u64 = ioc(R, 0, 12);
pub const TEE_IOC_SHM_ALLOC: u64 = ioc(RW, 1, 16);
pub const TEE_IOC_OPEN_SESSION: u64 = ioc(R, 2, 16);
pub const TEE_IOC_INVOKE: u64 = ioc(R, 3, 16);
pub const TEE_IOC_CANCEL: u64 = ioc(R, 4, 8);
pub const TEE_IOC_CLOSE_SESSION: u64 = ioc(R, 5, 4);
pub const TEE_IOC_SUPPL_RECV: u64 = ioc(R, 6, 16);
pub const TEE_IOC_SUPPL_SEND: u64 = ioc(R, 7, 16);
pub const TEE_IOC_SHM_REGISTER: u64 = ioc(RW, 9, 24);

/// ioctl(fd, req, arg) for an argument struct the kernel reads/writes.
pub fn ioctl<T>(fd: &impl AsRawFd, req: u64, arg: &mut T) -> io::Result<i32> {
    // SAFETY: `arg` is a live, exclusively borrowed struct whose layout is
    // the one the request number encodes; the kernel accesses only it.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg as *mut T) };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

/// An ioctl whose argument is a {pointer, length} to a buffer we own.
pub fn ioctl_buf(fd: &impl AsRawFd, req: u64, buf: &mut [u8]) -> io::Result<i32> {
    let mut data = BufData { buf_ptr: buf.as_mut_ptr() as u64, buf_len: buf.len() as u64 };
    ioctl(fd, req, &mut data)
}

/// A shared mapping of a TEE shared-memory fd.
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value.
unsafe impl Send for Mapping {}

impl Mapping {
    pub fn new(fd: RawFd, len: usize) -> io::Result<Mapping> {
        let len = len.max(1);
        // SAFETY: a fresh shared mapping of the whole fd; the kernel checks
        // the length against the shm object.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr: p.cast(), len })
    }

    /// Fresh anonymous, page-aligned memory (to register with the driver).
    pub fn anonymous(len: usize) -> io::Result<Mapping> {
        let len = len.max(1);
        // SAFETY: a new private anonymous mapping; nothing else refers to it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr: p.cast(), len })
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr/len describe a live mapping owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above, and &mut self makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Takes ownership of a file descriptor the kernel just returned.
pub fn file_from_fd(fd: i32) -> File {
    // SAFETY: callers pass an fd fresh from a TEE ioctl, owned by no one else.
    unsafe { File::from_raw_fd(fd) }
}

/// Marker for the integer-only ioctl argument heads (no padding, any bit
/// pattern valid).
pub trait Pod: Default + Copy {}
impl Pod for OpenSessionHead {}
impl Pod for InvokeHead {}
impl Pod for SuppHead {}

impl Clone for OpenSessionHead {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for OpenSessionHead {}
impl Clone for InvokeHead {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for InvokeHead {}

fn bytes_of<H: Pod>(h: &H) -> &[u8] {
    // SAFETY: H is Pod: a repr(C) struct of integers without padding, so
    // all of its bytes are initialised.
    unsafe { std::slice::from_raw_parts(std::ptr::from_ref(h).cast::<u8>(), std::mem::size_of::<H>()) }
}

/// Head followed by ioctl parameters, as the kernel expects them.
pub fn encode<H: Pod>(head: &H, params: &[IoctlParam]) -> Vec<u8> {
    let mut buf = bytes_of(head).to_vec();
    for p in params {
        for w in [p.attr, p.a, p.b, p.c] {
            buf.extend_from_slice(&w.to_ne_bytes());
        }
    }
    buf
}

/// Splits a buffer written by the kernel back into head and parameters.
pub fn decode<H: Pod, const N: usize>(buf: &[u8]) -> (H, [IoctlParam; N]) {
    let hs = std::mem::size_of::<H>();
    let mut head = H::default();
    // SAFETY: H is Pod (any bit pattern is valid) and buf holds at least
    // size_of::<H>() bytes (it was built by `encode`).
    unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), std::ptr::from_mut(&mut head).cast::<u8>(), hs) };
    let mut params = [IoctlParam::default(); N];
    for (i, p) in params.iter_mut().enumerate() {
        let o = hs + 32 * i;
        let w = |k: usize| u64::from_ne_bytes(buf[o + 8 * k..o + 8 * k + 8].try_into().unwrap());
        *p = IoctlParam { attr: w(0), a: w(1), b: w(2), c: w(3) };
    }
    (head, params)
}
