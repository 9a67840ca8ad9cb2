//! The backend over OPTEE_RPC_CMD_FS (REE FS), as upstream's kernel sends
//! it, so any tee-supplicant serves it: names and data travel in the
//! thread's payload buffer (application shared memory kept for the call),
//! data in pieces of at most [`CHUNK`] bytes.

use super::R;
use super::backend::{Backend, Fd};
use crate::msg::{Dir, Param};
use crate::rpc::{Payload, Rpc};
use oxtee_abi::rpc;
use oxtee_abi::tee::TeeResult;

/// Size of the payload buffer, and most data one RPC carries.
pub const CHUNK: usize = 64 * 1024;
/// Longest name sent (a store's names are far shorter).
const NAME_MAX: usize = 255;
/// Where a rename's second name goes in the payload.
const SECOND_NAME: u64 = 512;

/// REE FS over one thread's RPC channel.
pub struct ReeFs<'r, 'a> {
    pub rpc: &'r mut Rpc<'a>,
    /// RPC round trips made (for the benchmarks and tests).
    pub calls: u64,
}

fn value(a: u32, b: u64, c: u64) -> Param {
    Param::Value { dir: Dir::In, a: a as u64, b, c }
}

fn rmem(dir: Dir, p: &Payload, offs: u64, size: u64) -> Param {
    Param::Rmem { dir, offs, size, shm_ref: p.cookie }
}

fn out_value() -> Param {
    Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }
}

impl<'r, 'a> ReeFs<'r, 'a> {
    pub fn new(rpc: &'r mut Rpc<'a>) -> Self {
        ReeFs { rpc, calls: 0 }
    }

    fn buf(&mut self) -> R<Payload> {
        self.rpc.payload(CHUNK as u64)
    }

    fn call(&mut self, p: &mut [Param]) -> R<()> {
        self.calls += 1;
        self.rpc.cmd(rpc::CMD_FS, p)
    }

    /// Puts `name` NUL-terminated at `at` in the payload; its length with
    /// the terminator.
    fn put_name(&mut self, p: &Payload, at: u64, name: &str) -> R<u64> {
        let b = name.as_bytes();
        if b.len() > NAME_MAX || b.contains(&0) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut tmp = [0u8; NAME_MAX + 1];
        tmp[..b.len()].copy_from_slice(b);
        p.pages.write(self.rpc.mem, at, &tmp[..b.len() + 1]).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        Ok(b.len() as u64 + 1)
    }

    fn open_like(&mut self, cmd: u32, name: &str) -> R<u64> {
        let p = self.buf()?;
        let n = self.put_name(&p, 0, name)?;
        let mut q = [value(cmd, 0, 0), rmem(Dir::In, &p, 0, n), out_value()];
        self.call(&mut q)?;
        match q[2] {
            Param::Value { a, .. } => Ok(a),
            _ => Err(TeeResult::ERROR_COMMUNICATION),
        }
    }
}

impl Backend for ReeFs<'_, '_> {
    fn open(&mut self, name: &str) -> R<Fd> {
        let fd = self.open_like(rpc::FS_OPEN, name)?;
        u32::try_from(fd).map_err(|_| TeeResult::ERROR_COMMUNICATION)
    }

    fn create(&mut self, name: &str) -> R<Fd> {
        let fd = self.open_like(rpc::FS_CREATE, name)?;
        u32::try_from(fd).map_err(|_| TeeResult::ERROR_COMMUNICATION)
    }

    fn close(&mut self, fd: Fd) -> R<()> {
        self.call(&mut [value(rpc::FS_CLOSE, fd as u64, 0)])
    }

    fn read(&mut self, fd: Fd, off: u64, buf: &mut [u8]) -> R<usize> {
        let p = self.buf()?;
        let mut done = 0;
        while done < buf.len() {
            let want = (buf.len() - done).min(CHUNK);
            let at = off.checked_add(done as u64).ok_or(TeeResult::ERROR_OVERFLOW)?;
            let mut q = [value(rpc::FS_READ, fd as u64, at), rmem(Dir::Out, &p, 0, want as u64)];
            self.call(&mut q)?;
            let got = match q[1] {
                Param::Rmem { size, .. } if size <= want as u64 => size as usize,
                _ => return Err(TeeResult::ERROR_COMMUNICATION),
            };
            p.pages.read(self.rpc.mem, 0, &mut buf[done..done + got]).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
            done += got;
            if got < want {
                break;
            }
        }
        Ok(done)
    }

    fn write(&mut self, fd: Fd, off: u64, data: &[u8]) -> R<()> {
        let p = self.buf()?;
        for (i, piece) in data.chunks(CHUNK).enumerate() {
            let at = off.checked_add((i * CHUNK) as u64).ok_or(TeeResult::ERROR_OVERFLOW)?;
            p.pages.write(self.rpc.mem, 0, piece).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
            self.call(&mut [value(rpc::FS_WRITE, fd as u64, at), rmem(Dir::In, &p, 0, piece.len() as u64)])?;
        }
        Ok(())
    }

    fn truncate(&mut self, fd: Fd, len: u64) -> R<()> {
        self.call(&mut [value(rpc::FS_TRUNCATE, fd as u64, len)])
    }

    fn remove(&mut self, name: &str) -> R<()> {
        let p = self.buf()?;
        let n = self.put_name(&p, 0, name)?;
        self.call(&mut [value(rpc::FS_REMOVE, 0, 0), rmem(Dir::In, &p, 0, n)])
    }

    fn rename(&mut self, old: &str, new: &str, overwrite: bool) -> R<()> {
        let p = self.buf()?;
        let n1 = self.put_name(&p, 0, old)?;
        let n2 = self.put_name(&p, SECOND_NAME, new)?;
        self.call(&mut [
            value(rpc::FS_RENAME, overwrite as u64, 0),
            rmem(Dir::In, &p, 0, n1),
            rmem(Dir::In, &p, SECOND_NAME, n2),
        ])
    }

    fn list(&mut self, dir: &str, f: &mut dyn FnMut(&str)) -> R<()> {
        let h = match self.open_like(rpc::FS_OPENDIR, dir) {
            Ok(h) => h,
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) => return Ok(()),
            Err(e) => return Err(e),
        };
        let p = self.buf()?;
        let r = loop {
            let mut q = [value(rpc::FS_READDIR, h, 0), rmem(Dir::Out, &p, 0, NAME_MAX as u64 + 1)];
            match self.call(&mut q) {
                Ok(()) => {}
                Err(TeeResult::ERROR_ITEM_NOT_FOUND) => break Ok(()),
                Err(e) => break Err(e),
            }
            let len = match q[1] {
                Param::Rmem { size, .. } if size <= NAME_MAX as u64 + 1 => size as usize,
                _ => break Err(TeeResult::ERROR_COMMUNICATION),
            };
            let mut name = [0u8; NAME_MAX + 1];
            if p.pages.read(self.rpc.mem, 0, &mut name[..len]).is_err() {
                break Err(TeeResult::ERROR_COMMUNICATION);
            }
            let name = name[..len].split(|b| *b == 0).next().unwrap_or_default();
            if let Ok(s) = core::str::from_utf8(name)
                && !s.is_empty()
                && s != "."
                && s != ".."
            {
                f(s);
            }
        };
        let _ = self.call(&mut [value(rpc::FS_CLOSEDIR, h, 0)]);
        r
    }
}
