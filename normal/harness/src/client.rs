//! Messages on top of the driver: open / invoke / close sessions and
//! register shared memory, the way the Linux driver builds them.

use crate::driver::{self, ArgRef};
use crate::{arch, shm};
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::uuid::Uuid;
use oxtee_core::msg::{self, Dir, Message, Param};

/// Outcome of a message call: the SMC status and, if OK, the answer.
pub struct Reply {
    pub a0: u64,
    pub msg: Message,
}

impl Reply {
    pub fn ret(&self) -> u32 {
        self.msg.hdr.ret
    }

    pub fn origin(&self) -> u32 {
        self.msg.hdr.ret_origin
    }
}

/// How to pass the argument: CALL_WITH_ARG, or CALL_WITH_RPC_ARG with the
/// RPC argument after it (what Linux does with the RPC_ARG capability).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Arg,
    RpcArg,
}

/// Sends `msg` with a fresh argument buffer in the static pool.
pub fn send_via(msg: &Message, via: Via) -> Reply {
    let n = msg.params.len();
    let size = msg::size_for(n) + msg::size_for(4);
    let pa = shm::pool_alloc(size as u64).expect("static pool exhausted");
    arch::write_mem(pa, &msg.encode());
    let arg = if via == Via::Arg { ArgRef::Pa(pa) } else { ArgRef::PaRpc(pa, n as u32) };
    let a0 = driver::run(arg);
    let mut back = vec![0u8; msg::size_for(n)];
    arch::read_mem(pa, &mut back);
    shm::pool_free(pa);
    let msg = msg::parse(&back, n).unwrap_or_else(|_| Message::new(u32::MAX, vec![]));
    Reply { a0, msg }
}

pub fn send(msg: &Message) -> Reply {
    send_via(msg, Via::RpcArg)
}

pub fn open_msg(uuid: Uuid, login: u32, params: &[Param]) -> Message {
    let (a, b) = uuid.to_msg_value();
    let mut ps =
        vec![Param::Value { dir: Dir::In, a, b, c: 0 }, Param::Value { dir: Dir::In, a: 0, b: 0, c: login as u64 }];
    ps.extend_from_slice(params);
    let mut msg = Message::new(m::CMD_OPEN_SESSION, ps);
    msg.meta[0] = true;
    msg.meta[1] = true;
    msg
}

/// Opens a session; Err carries (a0, ret, origin).
pub fn open(uuid: Uuid) -> Result<u32, (u64, u32, u32)> {
    let r = send(&open_msg(uuid, m::LOGIN_PUBLIC, &[]));
    if r.a0 == smc::RETURN_OK as u64 && r.ret() == 0 { Ok(r.msg.hdr.session) } else { Err((r.a0, r.ret(), r.origin())) }
}

pub fn invoke_msg(session: u32, func: u32, params: Vec<Param>) -> Message {
    let mut msg = Message::new(m::CMD_INVOKE_COMMAND, params);
    msg.hdr.session = session;
    msg.hdr.func = func;
    msg
}

pub fn invoke(session: u32, func: u32, params: Vec<Param>) -> Reply {
    send(&invoke_msg(session, func, params))
}

pub fn close(session: u32) -> Reply {
    let mut msg = Message::new(m::CMD_CLOSE_SESSION, vec![]);
    msg.hdr.session = session;
    send(&msg)
}

pub fn value(dir: Dir, a: u64, b: u64) -> Param {
    Param::Value { dir, a, b, c: 0 }
}

/// A buffer of scattered pages, described by a page list, registered or
/// used as a NONCONTIG temporary memref.
pub struct Scattered {
    pub pages: Vec<u64>,
    pub list: Vec<u64>,
    /// Offset of byte 0 in the first page.
    pub offset: u64,
    pub size: u64,
}

impl Scattered {
    pub fn new(size: u64, offset: u64) -> Scattered {
        let count = (offset + size).div_ceil(4096).max(1) as usize;
        let mut pages: Vec<u64> = (0..count).map(|_| shm::page_alloc().expect("page heap exhausted")).collect();
        for p in &pages {
            arch::write_mem(*p, &[0u8; 4096]);
        }
        // Scatter: hand pages out in reverse order of address.
        pages.reverse();
        let per = m::PAGE_LIST_ENTRIES;
        let lists: Vec<u64> =
            (0..count.div_ceil(per)).map(|_| shm::page_alloc().expect("page heap exhausted")).collect();
        for (li, chunk) in pages.chunks(per).enumerate() {
            let mut page = vec![0u8; 4096];
            for (i, p) in chunk.iter().enumerate() {
                page[8 * i..8 * i + 8].copy_from_slice(&p.to_le_bytes());
            }
            let next = lists.get(li + 1).copied().unwrap_or(0);
            page[4088..].copy_from_slice(&next.to_le_bytes());
            arch::write_mem(lists[li], &page);
        }
        Scattered { pages, list: lists, offset, size }
    }

    /// buf_ptr for a NONCONTIG memref / REGISTER_SHM.
    pub fn list_ptr(&self) -> u64 {
        self.list[0] | self.offset
    }

    pub fn write(&self, offs: u64, data: &[u8]) {
        self.each(offs, data.len(), |pa, range| arch::write_mem(pa, &data[range]));
    }

    pub fn read(&self, offs: u64, out: &mut [u8]) {
        let mut tmp = vec![0u8; out.len()];
        self.each(offs, out.len(), |pa, range| arch::read_mem(pa, &mut tmp[range]));
        out.copy_from_slice(&tmp);
    }

    fn each(&self, offs: u64, len: usize, mut f: impl FnMut(u64, core::ops::Range<usize>)) {
        let mut done = 0usize;
        while done < len {
            let pos = self.offset + offs + done as u64;
            let page = self.pages[(pos / 4096) as usize];
            let n = ((4096 - pos % 4096) as usize).min(len - done);
            f(page + pos % 4096, done..done + n);
            done += n;
        }
    }

    pub fn free(self) {
        for p in self.pages.into_iter().chain(self.list) {
            shm::page_free(p);
        }
    }
}

/// REGISTER_SHM of a scattered buffer under `cookie`.
pub fn register(buf: &Scattered, cookie: u64) -> Reply {
    let p = Param::Tmem { dir: Dir::Out, buf: buf.list_ptr(), size: buf.size, shm_ref: cookie, noncontig: true };
    send_via(&Message::new(m::CMD_REGISTER_SHM, vec![p]), Via::Arg)
}

pub fn unregister(cookie: u64) -> Reply {
    let p = Param::Rmem { dir: Dir::In, offs: 0, size: 0, shm_ref: cookie };
    send_via(&Message::new(m::CMD_UNREGISTER_SHM, vec![p]), Via::Arg)
}
