//! `optee_msg_arg` as the OS sees it: parsed from a private copy of the
//! normal world's bytes, validated once, and encoded back. Nothing here
//! holds a reference into non-secure memory.

use alloc::vec::Vec;
use oxtee_abi::msg::{self as m, AttrType, MsgArgHeader, MsgParam};
use zerocopy::{FromBytes, IntoBytes};

/// Direction of a parameter as the normal world declared it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
    InOut,
}

impl Dir {
    fn of(t: AttrType) -> Dir {
        match (t.is_input(), t.is_output()) {
            (true, true) => Dir::InOut,
            (false, true) => Dir::Out,
            _ => Dir::In,
        }
    }

    pub fn is_input(self) -> bool {
        self != Dir::Out
    }

    pub fn is_output(self) -> bool {
        self != Dir::In
    }
}

/// One validated parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    None,
    Value {
        dir: Dir,
        a: u64,
        b: u64,
        c: u64,
    },
    /// Temporary memory: a physical address (or, with `noncontig`, the
    /// address of a page list with the buffer's offset in its low 12 bits).
    Tmem {
        dir: Dir,
        buf: u64,
        size: u64,
        shm_ref: u64,
        noncontig: bool,
    },
    /// Registered memory: an offset into the buffer registered as `shm_ref`.
    Rmem {
        dir: Dir,
        offs: u64,
        size: u64,
        shm_ref: u64,
    },
}

impl Param {
    pub fn dir(&self) -> Option<Dir> {
        match *self {
            Param::None => None,
            Param::Value { dir, .. } | Param::Tmem { dir, .. } | Param::Rmem { dir, .. } => Some(dir),
        }
    }
}

/// Why an argument was refused before any work was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgError {
    /// Shorter than its header or than `num_params` parameters.
    Truncated,
    TooManyParams,
    /// Attribute with an unknown type or reserved bits set.
    BadAttr {
        index: usize,
    },
    /// No memory for the parsed parameters.
    OutOfMemory,
}

/// A parsed message: the header and each parameter with its META flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub hdr: MsgArgHeader,
    pub params: Vec<Param>,
    pub meta: Vec<bool>,
}

const KNOWN_ATTR_BITS: u64 =
    m::ATTR_TYPE_MASK | m::ATTR_META | m::ATTR_NONCONTIG | (m::ATTR_CACHE_MASK << m::ATTR_CACHE_SHIFT);

fn parse_param(p: &MsgParam, index: usize) -> Result<(Param, bool), MsgError> {
    let bad = MsgError::BadAttr { index };
    if p.attr & !KNOWN_ATTR_BITS != 0 || m::attr_cache(p.attr) != m::ATTR_CACHE_PREDEFINED {
        return Err(bad);
    }
    let t = AttrType::from_attr(p.attr).ok_or(bad)?;
    let meta = p.attr & m::ATTR_META != 0;
    let noncontig = p.attr & m::ATTR_NONCONTIG != 0;
    if noncontig && !t.is_tmem() {
        return Err(bad);
    }
    if meta && !t.is_value() {
        return Err(bad);
    }
    let dir = Dir::of(t);
    let param = if t == AttrType::None {
        Param::None
    } else if t.is_value() {
        let v = p.value();
        Param::Value { dir, a: v.a, b: v.b, c: v.c }
    } else if t.is_tmem() {
        let v = p.tmem();
        Param::Tmem { dir, buf: v.buf_ptr, size: v.size, shm_ref: v.shm_ref, noncontig }
    } else {
        let v = p.rmem();
        Param::Rmem { dir, offs: v.offs, size: v.size, shm_ref: v.shm_ref }
    };
    Ok((param, meta))
}

/// Parses a private copy of an argument. `bytes` may be longer than the
/// message; `max_params` bounds what the caller's buffer could hold.
pub fn parse(bytes: &[u8], max_params: usize) -> Result<Message, MsgError> {
    let (hdr, _) = MsgArgHeader::read_from_prefix(bytes).map_err(|_| MsgError::Truncated)?;
    let n = hdr.num_params as usize;
    if n > max_params || n > m::MAX_NUM_PARAMS as usize {
        return Err(MsgError::TooManyParams);
    }
    let mut params = Vec::new();
    let mut meta = Vec::new();
    if params.try_reserve_exact(n).is_err() || meta.try_reserve_exact(n).is_err() {
        return Err(MsgError::OutOfMemory);
    }
    params.resize(n, Param::None);
    meta.resize(n, false);
    let (hdr, _) = parse_into(bytes, max_params, &mut params, &mut meta)?;
    Ok(Message { hdr, params, meta })
}

/// Parses into caller-provided slots (no allocation): the header and its
/// `num_params` parameters, which must fit `params` and `meta`.
pub fn parse_into(
    bytes: &[u8],
    max_params: usize,
    params: &mut [Param],
    meta: &mut [bool],
) -> Result<(MsgArgHeader, usize), MsgError> {
    let (hdr, rest) = MsgArgHeader::read_from_prefix(bytes).map_err(|_| MsgError::Truncated)?;
    let n = hdr.num_params as usize;
    if n > max_params || n > m::MAX_NUM_PARAMS as usize || n > params.len() || n > meta.len() {
        return Err(MsgError::TooManyParams);
    }
    let mut rest = rest;
    for i in 0..n {
        let (p, r) = MsgParam::read_from_prefix(rest).map_err(|_| MsgError::Truncated)?;
        rest = r;
        (params[i], meta[i]) = parse_param(&p, i)?;
    }
    Ok((hdr, n))
}

/// Encodes a header and parameters into `out` (no allocation); returns the
/// bytes written, or None if `out` is too small.
pub fn encode_into(hdr: &MsgArgHeader, params: &[Param], meta: &[bool], out: &mut [u8]) -> Option<usize> {
    let size = size_for(params.len());
    let out = out.get_mut(..size)?;
    let mut hdr = *hdr;
    hdr.num_params = params.len() as u32;
    let h = size_of::<MsgArgHeader>();
    out[..h].copy_from_slice(hdr.as_bytes());
    for (i, p) in params.iter().enumerate() {
        let attr = attr_of(p, meta.get(i).copied().unwrap_or(false));
        let (a, b, c) = match *p {
            Param::None => (0, 0, 0),
            Param::Value { a, b, c, .. } => (a, b, c),
            Param::Tmem { buf, size, shm_ref, .. } => (buf, size, shm_ref),
            Param::Rmem { offs, size, shm_ref, .. } => (offs, size, shm_ref),
        };
        let at = h + i * size_of::<MsgParam>();
        out[at..at + size_of::<MsgParam>()].copy_from_slice(MsgParam { attr, a, b, c }.as_bytes());
    }
    Some(size)
}

/// Size in bytes of a message with `num_params` parameters.
pub fn size_for(num_params: usize) -> usize {
    core::mem::size_of::<MsgArgHeader>() + num_params * core::mem::size_of::<MsgParam>()
}

fn attr_of(p: &Param, meta: bool) -> u64 {
    let dir_off = |d: Dir| match d {
        Dir::In => 0,
        Dir::Out => 1,
        Dir::InOut => 2,
    };
    let mut attr = match *p {
        Param::None => m::ATTR_TYPE_NONE,
        Param::Value { dir, .. } => m::ATTR_TYPE_VALUE_INPUT + dir_off(dir),
        Param::Rmem { dir, .. } => m::ATTR_TYPE_RMEM_INPUT + dir_off(dir),
        Param::Tmem { dir, noncontig, .. } => {
            (m::ATTR_TYPE_TMEM_INPUT + dir_off(dir)) | if noncontig { m::ATTR_NONCONTIG } else { 0 }
        }
    };
    if meta {
        attr |= m::ATTR_META;
    }
    attr
}

impl Message {
    pub fn new(cmd: u32, params: Vec<Param>) -> Message {
        let hdr = MsgArgHeader { cmd, num_params: params.len() as u32, ..Default::default() };
        let meta = alloc::vec![false; params.len()];
        Message { hdr, params, meta }
    }

    /// Encodes the message (header and every parameter) into bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = alloc::vec![0u8; size_for(self.params.len())];
        encode_into(&self.hdr, &self.params, &self.meta, &mut out);
        out
    }
}

#[cfg(test)]
mod tests;
