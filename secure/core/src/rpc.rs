//! RPC from a trusted thread to the normal world: the SMC-level requests
//! (RPC_ALLOC / RPC_FREE / RPC_CMD) and the `optee_msg` commands built on
//! them (time, shared memory, notifications). Each thread keeps one RPC
//! argument buffer, either the caller's (`CALL_WITH_RPC_ARG`) or one it
//! allocated with RPC_ALLOC.

use crate::env::ThreadEnv;
use crate::msg::{self, Dir, Message, Param};
use crate::nsmem::NsMemory;
use crate::shm::{Pages, ShmRegistry};
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::rpc;
use oxtee_abi::tee::TeeResult;

/// Most parameters an RPC message carries (advertised with RPC_ARG).
pub const RPC_MAX_PARAMS: usize = 4;

fn split(v: u64) -> (u64, u64) {
    (v >> 32, v & 0xffff_ffff)
}

fn join(hi: u64, lo: u64) -> u64 {
    (hi << 32) | (lo & 0xffff_ffff)
}

/// A thread's RPC argument buffer in normal-world memory.
#[derive(Clone, Debug)]
pub struct RpcArg {
    pub pages: Pages,
    /// The normal world's cookie for it (what RPC_CMD passes in a1/a2).
    pub cookie: u64,
    /// Allocated by us with RPC_ALLOC (so we free or cache it).
    pub owned: bool,
}

/// One thread's RPC channel for the duration of a call.
pub struct Rpc<'a> {
    pub env: &'a mut dyn ThreadEnv,
    pub mem: &'a dyn NsMemory,
    pub shm: &'a ShmRegistry,
    pub arg: &'a mut Option<RpcArg>,
}

impl Rpc<'_> {
    fn ensure_arg(&mut self) -> Result<(), TeeResult> {
        if self.arg.is_some() {
            return Ok(());
        }
        let size = msg::size_for(RPC_MAX_PARAMS) as u64;
        let r = self.env.rpc([smc::RETURN_RPC_ALLOC as u64, size, 0, 0]);
        let pa = join(r[1], r[2]);
        let cookie = join(r[4], r[5]);
        if pa == 0 {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        match self.shm.ns_contiguous(pa, size) {
            Ok(pages) => {
                *self.arg = Some(RpcArg { pages, cookie, owned: true });
                Ok(())
            }
            Err(_) => {
                // Unusable memory: hand it back and fail this RPC.
                let (hi, lo) = split(cookie);
                self.env.rpc([smc::RETURN_RPC_FREE as u64, hi, lo, 0]);
                Err(TeeResult::ERROR_COMMUNICATION)
            }
        }
    }

    /// Frees an RPC_ALLOC'd argument buffer (unless `keep`).
    pub fn release_arg(&mut self, keep: bool) {
        if let Some(a) = self.arg.take() {
            if a.owned && !keep {
                let (hi, lo) = split(a.cookie);
                self.env.rpc([smc::RETURN_RPC_FREE as u64, hi, lo, 0]);
            } else if keep {
                *self.arg = Some(a);
            }
        }
    }

    /// Sends RPC command `cmd` with `params`; returns the answered params.
    pub fn cmd(&mut self, cmd: u32, params: Vec<Param>) -> Result<Vec<Param>, TeeResult> {
        if params.len() > RPC_MAX_PARAMS {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.ensure_arg()?;
        let arg = self.arg.as_ref().expect("ensured");
        let n = params.len();
        let mut message = Message::new(cmd, params);
        // The normal world must say success explicitly.
        message.hdr.ret = TeeResult::ERROR_GENERIC.0;
        let out = message.encode();
        arg.pages.write(self.mem, 0, &out).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        let (hi, lo) = split(arg.cookie);
        self.env.rpc([smc::RETURN_RPC_CMD as u64, hi, lo, 0]);
        let arg = self.arg.as_ref().expect("still there");
        let mut back = vec![0u8; msg::size_for(n)];
        arg.pages.read(self.mem, 0, &mut back).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        // The answer is normal-world data: parse it like any other input.
        let reply = msg::parse(&back, n).map_err(|_| TeeResult::ERROR_COMMUNICATION)?;
        if reply.hdr.ret != 0 {
            return Err(TeeResult(reply.hdr.ret));
        }
        if reply.params.len() != n {
            return Err(TeeResult::ERROR_COMMUNICATION);
        }
        Ok(reply.params)
    }

    /// Normal-world time (OPTEE_RPC_CMD_GET_TIME): (seconds, nanoseconds).
    pub fn get_time(&mut self) -> Result<(u64, u64), TeeResult> {
        let p = self.cmd(rpc::CMD_GET_TIME, vec![Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }])?;
        match p[0] {
            Param::Value { a, b, .. } if b < 1_000_000_000 => Ok((a, b)),
            _ => Err(TeeResult::ERROR_COMMUNICATION),
        }
    }

    /// Asks the normal world for `size` bytes of shared memory of `kind`
    /// (`rpc::SHM_TYPE_*`). Returns the buffer and its cookie.
    pub fn shm_alloc(&mut self, kind: u32, size: u64) -> Result<(Pages, u64), TeeResult> {
        // One value in; the normal world answers in the same slot with a
        // TMEM output (optionally NONCONTIG) carrying address and cookie.
        let p = self.cmd(rpc::CMD_SHM_ALLOC, vec![Param::Value { dir: Dir::In, a: kind as u64, b: size, c: 8 }])?;
        let Param::Tmem { dir: Dir::Out, buf, size: got, shm_ref, noncontig } = p[0] else {
            return Err(TeeResult::ERROR_COMMUNICATION);
        };
        let pages = if got < size {
            Err(TeeResult::ERROR_COMMUNICATION)
        } else if noncontig {
            self.shm.read_page_list(self.mem, buf, size).map_err(|_| TeeResult::ERROR_COMMUNICATION)
        } else {
            self.shm.ns_contiguous(buf, size).map_err(|_| TeeResult::ERROR_COMMUNICATION)
        };
        match pages {
            Ok(p) => Ok((p, shm_ref)),
            Err(e) => {
                let _ = self.shm_free(kind, shm_ref);
                Err(e)
            }
        }
    }

    pub fn shm_free(&mut self, kind: u32, cookie: u64) -> Result<(), TeeResult> {
        self.cmd(rpc::CMD_SHM_FREE, vec![Param::Value { dir: Dir::In, a: kind as u64, b: cookie, c: 0 }]).map(|_| ())
    }

    /// Blocks this thread in the normal world until `notify(key)`.
    pub fn notif_wait(&mut self, key: u32) -> Result<(), TeeResult> {
        let p = Param::Value { dir: Dir::In, a: rpc::NOTIFICATION_WAIT as u64, b: key as u64, c: 0 };
        self.cmd(rpc::CMD_NOTIFICATION, vec![p]).map(|_| ())
    }

    pub fn notif_send(&mut self, key: u32) -> Result<(), TeeResult> {
        let p = Param::Value { dir: Dir::In, a: rpc::NOTIFICATION_SEND as u64, b: key as u64, c: 0 };
        self.cmd(rpc::CMD_NOTIFICATION, vec![p]).map(|_| ())
    }
}
