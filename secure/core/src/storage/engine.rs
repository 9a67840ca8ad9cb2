//! Persistent objects as files, updated atomically (see docs/storage.md).
//!
//! One file per object, named from its identifier ([`TaKeys::object_name`]),
//! in the TA's directory: there is no shared directory file, so nothing one
//! object's damage can reach the others. A file holds two header slots and
//! data blocks. Writes go to blocks the committed header does not use, then
//! the next header (generation + 1, with the new block map and lengths) is
//! written to the other slot: that write is the commit point. On open the
//! valid header with the highest generation wins; a torn header fails its
//! tag and the previous one stands. Creation writes a complete file under a
//! temporary name and renames it into place.
//!
//! Everything read back is authenticated (AES-256-GCM under the file's
//! key): header, block map, and each block against the tag the header
//! holds for it. A file that fails is CORRUPT_OBJECT, and the caller
//! removes it as GP requires.

//!
//! Layout of an object file (S = header slot capacity, a power of two of
//! at least 4 KiB, fixed for the file's life):
//!
//! ```text
//! [0, S)            header slot A
//! [S, 2S)           header slot B
//! 2S + p * 4096     physical data block p (4096 bytes of ciphertext)
//! ```
//!
//! A header slot is a clear prefix (magic `OXTS`, version, log2 S, salt,
//! nonce, generation, body length), the GCM tag, then the encrypted body
//! (object id, alias id, [`ObjMeta`], attributes, data length, and for
//! each logical block its physical slot, nonce and tag; a hole reads as
//! zeros and is not stored). The prefix is the AAD. A block's AAD is the
//! salt and its logical index; its tag lives in the header, so an old
//! version of a block put back does not authenticate.
//!
//! Rename (`Object::rename`): the header first names the new id with the
//! old one as alias (both accepted at the old path), then the file is
//! renamed without overwrite (the commit point), then the alias is
//! dropped. A file is accepted for an id only at that id's path, so a
//! file copied or swapped under another object's name is CORRUPT_OBJECT.

use super::backend::{Backend, Fd};

/// No open file (after a reopen failed).
const NO_FD: Fd = Fd::MAX;
use super::keys::{Key, TaKeys};
use super::{DATA_MAX_POSITION, OBJECT_ID_MAX_LEN, R};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use oxtee_abi::ta::crypto::ALG_AES_GCM;
use oxtee_abi::tee::TeeResult;
use zeroize::Zeroize;

/// Plaintext bytes of one data block.
pub const BLOCK: usize = 4096;
const BLOCK64: u64 = BLOCK as u64;
/// Smallest header slot (log2).
const MIN_SLOT_LOG: u8 = 12;
/// Largest header slot (log2): 128 MiB, more than the largest header
/// (2^20 blocks of 32 bytes plus attributes).
const MAX_SLOT_LOG: u8 = 27;
const MAGIC: &[u8; 4] = b"OXTS";
const VERSION: u16 = 1;
/// Clear prefix (the header's AAD).
const PREFIX: usize = 48;
/// Prefix and tag, before the encrypted body.
const HDR_OVER: usize = PREFIX + 16;
/// Largest serialised attributes.
pub const ATTRS_MAX: usize = 64 * 1024;
/// A logical block that is not stored (reads as zeros).
const HOLE: u32 = u32::MAX;
/// Largest physical block index accepted.
const PHYS_MAX: u32 = 1 << 28;
/// Most blocks one backend write carries (bounds the buffers).
const RUN: usize = 64;
const ENT_LEN: usize = 32;
const NO_ALIAS: u8 = 0xff;

/// What GP keeps of an object besides its data (`TEE_ObjectInfo` and the
/// creation flags); the engine stores it, the caller interprets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjMeta {
    pub obj_type: u32,
    /// Key size in bits (0 for a data object).
    pub key_size: u32,
    pub max_key_size: u32,
    pub usage: u32,
    /// The `TEE_DATA_FLAG_*` the object was created with.
    pub flags: u32,
}

/// What enumeration shows of an object.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: Vec<u8>,
    pub meta: ObjMeta,
    pub data_len: u64,
}

/// A source of random bytes (salts and nonces).
pub type Rand<'a> = &'a mut dyn FnMut(&mut [u8]);

/// One TA's objects in one backend.
pub struct Store {
    pub keys: TaKeys,
}

/// One logical block's place in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ent {
    phys: u32,
    nonce: [u8; 12],
    tag: [u8; 16],
}

const HOLE_ENT: Ent = Ent { phys: HOLE, nonce: [0; 12], tag: [0; 16] };

/// The decrypted header body.
#[derive(Clone, Debug)]
struct Hdr {
    id: Vec<u8>,
    /// The previous id during a rename.
    alias: Option<Vec<u8>>,
    meta: ObjMeta,
    attrs: Vec<u8>,
    data_len: u64,
    map: Vec<Ent>,
}

/// An open object: its file and its committed header (metadata,
/// attributes, block map) cached in memory.
pub struct Object {
    fd: Fd,
    path: String,
    /// The id the object is open under (the one its path names).
    id: Vec<u8>,
    hdr: Hdr,
    salt: [u8; 16],
    key: Key,
    slot_log: u8,
    gen_: u64,
    /// Slot (0 = A, 1 = B) holding the committed header.
    slot: u8,
    /// Physical blocks in use (bitmap), by the committed header or by
    /// a commit that failed and may have reached the file.
    used: Vec<u64>,
    /// The plaintext of one committed logical block.
    cache: Option<(usize, Box<[u8; BLOCK]>)>,
    /// Set when a failure left the file in a state this handle cannot
    /// know (the caller must reopen).
    broken: Option<TeeResult>,
}

fn corrupt() -> TeeResult {
    TeeResult::ERROR_CORRUPT_OBJECT
}

fn oom<E>(_: E) -> TeeResult {
    TeeResult::ERROR_OUT_OF_MEMORY
}

/// A zeroed vector, allocated fallibly.
fn try_zeroed(n: usize) -> R<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(oom)?;
    v.resize(n, 0);
    Ok(v)
}

fn blocks_for(len: u64) -> usize {
    len.div_ceil(BLOCK64) as usize
}

fn gcm(key: &Key, encrypt: bool, nonce: &[u8]) -> R<Box<dyn oxtee_crypto::ae::Ae>> {
    oxtee_crypto::ae::new(ALG_AES_GCM, encrypt, &key.0, nonce, 128, 0, 0).map_err(|_| TeeResult::ERROR_GENERIC)
}

fn block_aad(salt: &[u8; 16], idx: usize) -> [u8; 20] {
    let mut a = [0u8; 20];
    a[..16].copy_from_slice(salt);
    a[16..].copy_from_slice(&(idx as u32).to_le_bytes());
    a
}

/// Encrypts logical block `idx` in place; returns its entry (phys unset).
fn seal_block(key: &Key, salt: &[u8; 16], idx: usize, blk: &mut [u8], rand: &mut dyn FnMut(&mut [u8])) -> R<Ent> {
    let mut e = Ent { phys: HOLE, nonce: [0; 12], tag: [0; 16] };
    rand(&mut e.nonce);
    let mut c = gcm(key, true, &e.nonce)?;
    c.update_aad(&block_aad(salt, idx)).map_err(|_| TeeResult::ERROR_GENERIC)?;
    c.enc_final(blk, &mut e.tag).map_err(|_| TeeResult::ERROR_GENERIC)?;
    Ok(e)
}

/// Decrypts and checks logical block `idx` in place.
fn open_block(key: &Key, salt: &[u8; 16], idx: usize, e: &Ent, blk: &mut [u8]) -> R<()> {
    let mut c = gcm(key, false, &e.nonce)?;
    c.update_aad(&block_aad(salt, idx)).map_err(|_| corrupt())?;
    c.dec_final(blk, &e.tag).map_err(|_| corrupt())
}

fn body_len(h: &Hdr) -> usize {
    1 + h.id.len()
        + 1
        + h.alias.as_ref().map_or(0, |a| a.len())
        + 20
        + 4
        + h.attrs.len()
        + 8
        + 4
        + ENT_LEN * h.map.len()
}

fn encode_body(h: &Hdr) -> R<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(body_len(h)).map_err(oom)?;
    v.push(h.id.len() as u8);
    v.extend_from_slice(&h.id);
    // 0xff: no alias (an empty id is a valid one).
    match &h.alias {
        Some(a) => {
            v.push(a.len() as u8);
            v.extend_from_slice(a);
        }
        None => v.push(NO_ALIAS),
    }
    let m = &h.meta;
    for x in [m.obj_type, m.key_size, m.max_key_size, m.usage, m.flags] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(&(h.attrs.len() as u32).to_le_bytes());
    v.extend_from_slice(&h.attrs);
    v.extend_from_slice(&h.data_len.to_le_bytes());
    v.extend_from_slice(&(h.map.len() as u32).to_le_bytes());
    for e in &h.map {
        v.extend_from_slice(&e.phys.to_le_bytes());
        v.extend_from_slice(&e.nonce);
        v.extend_from_slice(&e.tag);
    }
    Ok(v)
}

/// A cursor over untrusted bytes: every take is bounds-checked.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        let lo = self.u32()? as u64;
        let hi = self.u32()? as u64;
        Some(lo | (hi << 32))
    }
    fn vec(&mut self, n: usize) -> Option<Vec<u8>> {
        let s = self.take(n)?;
        let mut v = Vec::new();
        v.try_reserve_exact(n).ok()?;
        v.extend_from_slice(s);
        Some(v)
    }
}

/// Parses a decrypted body; None if anything is out of bounds.
fn decode_body(b: &[u8]) -> Option<Hdr> {
    let mut r = Rd(b);
    let n = r.u8()? as usize;
    if n > OBJECT_ID_MAX_LEN {
        return None;
    }
    let id = r.vec(n)?;
    let alias = match r.u8()? {
        NO_ALIAS => None,
        n if n as usize <= OBJECT_ID_MAX_LEN => Some(r.vec(n as usize)?),
        _ => return None,
    };
    let meta =
        ObjMeta { obj_type: r.u32()?, key_size: r.u32()?, max_key_size: r.u32()?, usage: r.u32()?, flags: r.u32()? };
    let n = r.u32()? as usize;
    if n > ATTRS_MAX {
        return None;
    }
    let attrs = r.vec(n)?;
    let data_len = r.u64()?;
    if data_len > DATA_MAX_POSITION {
        return None;
    }
    let n = r.u32()? as usize;
    if n != blocks_for(data_len) || r.0.len() != n * ENT_LEN {
        return None;
    }
    let mut map = Vec::new();
    map.try_reserve_exact(n).ok()?;
    for _ in 0..n {
        let phys = r.u32()?;
        if phys != HOLE && phys >= PHYS_MAX {
            return None;
        }
        let mut e = Ent { phys, nonce: [0; 12], tag: [0; 16] };
        e.nonce.copy_from_slice(r.take(12)?);
        e.tag.copy_from_slice(r.take(16)?);
        map.push(e);
    }
    Some(Hdr { id, alias, meta, attrs, data_len, map })
}

/// The clear prefix of a header slot.
#[derive(Clone, Copy)]
struct Prefix {
    slot_log: u8,
    salt: [u8; 16],
    gen_: u64,
    len: usize,
}

fn parse_prefix(p: &[u8]) -> Option<Prefix> {
    if p.len() < PREFIX || &p[..4] != MAGIC || u16::from_le_bytes([p[4], p[5]]) != VERSION || p[7] != 0 {
        return None;
    }
    let slot_log = p[6];
    if !(MIN_SLOT_LOG..=MAX_SLOT_LOG).contains(&slot_log) {
        return None;
    }
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&p[8..24]);
    let mut g = [0u8; 8];
    g.copy_from_slice(&p[36..44]);
    let len = u32::from_le_bytes([p[44], p[45], p[46], p[47]]) as usize;
    if HDR_OVER + len > 1usize << slot_log {
        return None;
    }
    Some(Prefix { slot_log, salt, gen_: u64::from_le_bytes(g), len })
}

/// Encrypts a header body into the bytes of a slot.
fn seal_header(
    key: &Key,
    salt: &[u8; 16],
    slot_log: u8,
    gen_: u64,
    mut body: Vec<u8>,
    rand: &mut dyn FnMut(&mut [u8]),
) -> R<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(HDR_OVER + body.len()).map_err(oom)?;
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.push(slot_log);
    out.push(0);
    out.extend_from_slice(salt);
    let mut nonce = [0u8; 12];
    rand(&mut nonce);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&gen_.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    let mut tag = [0u8; 16];
    let mut c = gcm(key, true, &nonce)?;
    c.update_aad(&out[..PREFIX]).map_err(|_| TeeResult::ERROR_GENERIC)?;
    c.enc_final(&mut body, &mut tag).map_err(|_| TeeResult::ERROR_GENERIC)?;
    out.extend_from_slice(&tag);
    out.extend_from_slice(&body);
    body.zeroize();
    Ok(out)
}

/// Authenticates and decodes the slot at the start of `bytes`.
fn open_header(keys: &TaKeys, bytes: &[u8]) -> Option<(Prefix, Key, Hdr)> {
    let p = parse_prefix(bytes)?;
    let ct = bytes.get(HDR_OVER..HDR_OVER + p.len)?;
    let mut body = Vec::new();
    body.try_reserve_exact(ct.len()).ok()?;
    body.extend_from_slice(ct);
    let key = keys.file_key(&p.salt);
    let ok = (|| {
        let mut c = gcm(&key, false, &bytes[24..36]).ok()?;
        c.update_aad(&bytes[..PREFIX]).ok()?;
        c.dec_final(&mut body, &bytes[PREFIX..HDR_OVER]).ok()
    })();
    let h = ok.and_then(|_| decode_body(&body));
    body.zeroize();
    Some((p, key, h?))
}

/// Reads up to `len` bytes at `off` (fewer at the end of the file). The
/// buffer grows with what the file gives, so a length claimed by a
/// damaged file costs no more memory than the file has.
fn read_at(b: &mut dyn Backend, fd: Fd, off: u64, len: usize) -> R<Vec<u8>> {
    const STEP: usize = 64 * 1024;
    let mut v = try_zeroed(len.min(STEP))?;
    let mut got = 0;
    while got < len {
        if got == v.len() {
            let more = (len - got).min(v.len().max(STEP));
            v.try_reserve_exact(more).map_err(oom)?;
            v.resize(got + more, 0);
        }
        let n = b.read(fd, off + got as u64, &mut v[got..])?;
        if n == 0 {
            break;
        }
        got += n.min(v.len() - got);
    }
    v.truncate(got);
    Ok(v)
}

/// Fills `buf` from `off`; a short file is CORRUPT_OBJECT.
fn read_full(b: &mut dyn Backend, fd: Fd, off: u64, buf: &mut [u8]) -> R<()> {
    let mut got = 0;
    while got < buf.len() {
        let n = b.read(fd, off + got as u64, &mut buf[got..])?;
        if n == 0 {
            return Err(corrupt());
        }
        got += n.min(buf.len() - got);
    }
    Ok(())
}

/// A file's committed state, as found by [`load`].
struct Loaded {
    slot_log: u8,
    salt: [u8; 16],
    key: Key,
    gen_: u64,
    slot: u8,
    hdr: Hdr,
}

/// Reads both header slots of an open file; the valid one with the
/// highest generation wins. CORRUPT_OBJECT when neither is valid.
fn load(keys: &TaKeys, b: &mut dyn Backend, fd: Fd) -> R<Loaded> {
    let first = read_at(b, fd, 0, 2 << MIN_SLOT_LOG)?;
    // Where slot B is: from slot A's prefix, or, if that is damaged (a
    // torn write), by trying every slot size.
    let mut logs: Vec<u8> = Vec::new();
    match parse_prefix(&first) {
        Some(p) => logs.push(p.slot_log),
        None => logs.extend(MIN_SLOT_LOG..=MAX_SLOT_LOG),
    }
    let probing = logs.len() > 1;
    let mut best: Option<(Prefix, Key, Hdr, u8)> = None;
    let slot_bytes = |b: &mut dyn Backend, off: u64| -> R<Option<Vec<u8>>> {
        let o = off as usize;
        let pre = if o + PREFIX <= first.len() { first[o..o + PREFIX].to_vec() } else { read_at(b, fd, off, PREFIX)? };
        let Some(p) = parse_prefix(&pre) else { return Ok(None) };
        let n = HDR_OVER + p.len;
        if o + n <= first.len() {
            return Ok(Some(first[o..o + n].to_vec()));
        }
        Ok(Some(read_at(b, fd, off, n)?))
    };
    if let Some(a) = slot_bytes(b, 0)?
        && let Some((p, k, h)) = open_header(keys, &a)
    {
        best = Some((p, k, h, 0));
    }
    for log in logs {
        let off = 1u64 << log;
        if best.as_ref().is_some_and(|x| x.0.slot_log != log) {
            continue;
        }
        if let Some(bb) = slot_bytes(b, off)?
            && let Some((p, k, h)) = open_header(keys, &bb)
            && p.slot_log == log
            && best.as_ref().is_none_or(|x| p.gen_ > x.0.gen_)
        {
            best = Some((p, k, h, 1));
            break;
        }
        // Probing (slot A damaged): stop at the end of the file.
        if !probing {
            break;
        }
        if read_at(b, fd, off, 1)?.is_empty() {
            break;
        }
    }
    let (p, key, hdr, slot) = best.ok_or_else(corrupt)?;
    Ok(Loaded { slot_log: p.slot_log, salt: p.salt, key, gen_: p.gen_, slot, hdr })
}

fn check_id(id: &[u8]) -> R<()> {
    if id.len() > OBJECT_ID_MAX_LEN { Err(TeeResult::ERROR_BAD_PARAMETERS) } else { Ok(()) }
}

fn hex_rand(rand: &mut dyn FnMut(&mut [u8])) -> String {
    let mut r = [0u8; 8];
    rand(&mut r);
    let mut s = String::with_capacity(16);
    for x in r {
        for d in [x >> 4, x & 15] {
            s.push(char::from_digit(d as u32, 16).unwrap_or('0'));
        }
    }
    s
}

fn is_object_name(n: &str) -> bool {
    n.len() == 64 && n.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Marks physical blocks in a bitmap.
fn bit_set(v: &mut Vec<u64>, p: u32, on: bool) -> R<()> {
    let w = (p / 64) as usize;
    if w >= v.len() {
        if !on {
            return Ok(());
        }
        v.try_reserve(w + 1 - v.len()).map_err(oom)?;
        v.resize(w + 1, 0);
    }
    if on {
        v[w] |= 1 << (p % 64);
    } else {
        v[w] &= !(1 << (p % 64));
    }
    Ok(())
}

fn bit(v: &[u64], p: u32) -> bool {
    v.get((p / 64) as usize).is_some_and(|w| w & (1 << (p % 64)) != 0)
}

/// What a failed update puts back in the header.
struct Undo {
    data_len: u64,
    map_len: usize,
    changed: Vec<(usize, Ent)>,
    tail: Vec<Ent>,
    meta: ObjMeta,
}

impl Undo {
    fn new(h: &Hdr) -> Undo {
        Undo { data_len: h.data_len, map_len: h.map.len(), changed: Vec::new(), tail: Vec::new(), meta: h.meta }
    }
    fn set(&mut self, h: &mut Hdr, i: usize, e: Ent) -> R<()> {
        if i < self.map_len {
            self.changed.try_reserve(1).map_err(oom)?;
            self.changed.push((i, h.map[i]));
        }
        h.map[i] = e;
        Ok(())
    }
    fn restore(self, h: &mut Hdr) {
        h.map.truncate(self.map_len);
        h.map.extend_from_slice(&self.tail);
        for (i, e) in self.changed.into_iter().rev() {
            h.map[i] = e;
        }
        h.data_len = self.data_len;
        h.meta = self.meta;
    }
}

impl Store {
    pub fn new(keys: TaKeys) -> Store {
        Store { keys }
    }

    /// Creates object `id` with its metadata, attributes (opaque bytes, the
    /// serialised key) and initial data, atomically. An existing object is
    /// replaced if `overwrite`, else ACCESS_CONFLICT.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &self,
        b: &mut dyn Backend,
        id: &[u8],
        meta: &ObjMeta,
        attrs: &[u8],
        data: &[u8],
        overwrite: bool,
        rand: Rand,
    ) -> R<Object> {
        check_id(id)?;
        if attrs.len() > ATTRS_MAX {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if data.len() as u64 > DATA_MAX_POSITION {
            return Err(TeeResult::ERROR_OVERFLOW);
        }
        let mut salt = [0u8; 16];
        rand(&mut salt);
        let key = self.keys.file_key(&salt);
        let nent = blocks_for(data.len() as u64);
        let mut map = Vec::new();
        map.try_reserve_exact(nent).map_err(oom)?;
        map.resize(nent, HOLE_ENT);
        let mut a = Vec::new();
        a.try_reserve_exact(attrs.len()).map_err(oom)?;
        a.extend_from_slice(attrs);
        let mut hdr = Hdr { id: id.to_vec(), alias: None, meta: *meta, attrs: a, data_len: data.len() as u64, map };
        // Room for the header to double before the file must be rebuilt.
        let need = (2 * (HDR_OVER + body_len(&hdr))).next_power_of_two();
        let slot_log = (need.trailing_zeros() as u8).max(MIN_SLOT_LOG);
        if slot_log > MAX_SLOT_LOG {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let mut used = Vec::new();
        for i in 0..nent {
            bit_set(&mut used, i as u32, true)?;
        }
        let path = self.keys.object_path(id);
        let mut tmp = path.clone();
        tmp.push('.');
        tmp.push_str(&hex_rand(rand));
        tmp.push_str(".tmp");
        let fd = b.create(&tmp)?;
        let res = (|| -> R<()> {
            let base = 2usize << slot_log;
            // Small objects go in one write (header, gap and blocks);
            // larger ones in runs of blocks, then the header.
            let single = nent <= RUN;
            let mut i = 0;
            let mut buf = Vec::new();
            while i < nent || (single && i == 0) {
                let k = RUN.min(nent - i);
                let lead = if single { base } else { 0 };
                buf.clear();
                buf.try_reserve_exact(lead + k * BLOCK).map_err(oom)?;
                buf.resize(lead + k * BLOCK, 0);
                for j in 0..k {
                    let li = i + j;
                    let blk = &mut buf[lead + j * BLOCK..lead + (j + 1) * BLOCK];
                    let end = data.len().min((li + 1) * BLOCK);
                    blk[..end - li * BLOCK].copy_from_slice(&data[li * BLOCK..end]);
                    let mut e = seal_block(&key, &salt, li, blk, rand)?;
                    e.phys = li as u32;
                    hdr.map[li] = e;
                }
                if single {
                    let h = seal_header(&key, &salt, slot_log, 1, encode_body(&hdr)?, rand)?;
                    buf[..h.len()].copy_from_slice(&h);
                    if nent == 0 {
                        buf.truncate(h.len());
                    }
                    b.write(fd, 0, &buf)?;
                    return Ok(());
                }
                b.write(fd, (base + i * BLOCK) as u64, &buf)?;
                i += k;
            }
            let h = seal_header(&key, &salt, slot_log, 1, encode_body(&hdr)?, rand)?;
            b.write(fd, 0, &h)
        })();
        let closed = b.close(fd);
        let res = res.and(closed).and_then(|_| b.rename(&tmp, &path, overwrite));
        if let Err(e) = res {
            let _ = b.remove(&tmp);
            return Err(e);
        }
        let fd = b.open(&path)?;
        Ok(Object {
            fd,
            path,
            id: id.to_vec(),
            hdr,
            salt,
            key,
            slot_log,
            gen_: 1,
            slot: 0,
            used,
            cache: None,
            broken: None,
        })
    }

    /// Opens object `id`: ITEM_NOT_FOUND if there is none, CORRUPT_OBJECT
    /// if its file fails authentication (the file is left for the caller
    /// to remove with [`Store::remove_corrupt`]).
    pub fn open(&self, b: &mut dyn Backend, id: &[u8]) -> R<Object> {
        check_id(id)?;
        let path = self.keys.object_path(id);
        let fd = b.open(&path)?;
        let l = match load(&self.keys, b, fd) {
            Ok(l) if l.hdr.id == id || l.hdr.alias.as_deref() == Some(id) => l,
            Ok(_) => {
                let _ = b.close(fd);
                return Err(corrupt());
            }
            Err(e) => {
                let _ = b.close(fd);
                return Err(e);
            }
        };
        let mut hdr = l.hdr;
        // A rename the crash interrupted: the name decides which id this
        // is; the next commit writes the header without the alias.
        hdr.id = id.to_vec();
        hdr.alias = None;
        let mut used = Vec::new();
        for e in &hdr.map {
            if e.phys != HOLE {
                if bit(&used, e.phys) {
                    let _ = b.close(fd);
                    return Err(corrupt());
                }
                if let Err(e) = bit_set(&mut used, e.phys, true) {
                    let _ = b.close(fd);
                    return Err(e);
                }
            }
        }
        Ok(Object {
            fd,
            path,
            id: id.to_vec(),
            hdr,
            salt: l.salt,
            key: l.key,
            slot_log: l.slot_log,
            gen_: l.gen_,
            slot: l.slot,
            used,
            cache: None,
            broken: None,
        })
    }

    /// Removes the file of object `id` whatever its state (GP: a corrupt
    /// object is deleted when found). A missing file is not an error.
    pub fn remove_corrupt(&self, b: &mut dyn Backend, id: &[u8]) -> R<()> {
        check_id(id)?;
        match b.remove(&self.keys.object_path(id)) {
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) => Ok(()),
            r => r,
        }
    }

    /// Every object of the TA that authenticates, in no particular order.
    /// Files that do not authenticate are skipped (never an error for the
    /// others).
    pub fn list(&self, b: &mut dyn Backend) -> R<Vec<Entry>> {
        let mut names: Vec<String> = Vec::new();
        let mut failed = false;
        b.list(&self.keys.dir, &mut |n| {
            if is_object_name(n) {
                if names.try_reserve(1).is_err() {
                    failed = true;
                    return;
                }
                names.push(String::from(n));
            }
        })?;
        if failed {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let mut out = Vec::new();
        for n in names {
            let mut path = self.keys.dir.clone();
            path.push('/');
            path.push_str(&n);
            let fd = match b.open(&path) {
                Ok(fd) => fd,
                Err(TeeResult::ERROR_ITEM_NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            let l = load(&self.keys, b, fd);
            let _ = b.close(fd);
            let h = match l {
                Ok(l) => l.hdr,
                // A file that does not authenticate, or whose header does
                // not fit in memory now, is not listed; the others are.
                Err(TeeResult::ERROR_CORRUPT_OBJECT | TeeResult::ERROR_OUT_OF_MEMORY) => continue,
                Err(e) => return Err(e),
            };
            let id = if self.keys.object_name(&h.id) == n {
                h.id
            } else if let Some(a) = h.alias.filter(|a| self.keys.object_name(a) == n) {
                a
            } else {
                continue;
            };
            out.try_reserve(1).map_err(oom)?;
            out.push(Entry { id, meta: h.meta, data_len: h.data_len });
        }
        Ok(out)
    }

    /// Finishes what a crash interrupted: removes the temporary files of
    /// creations and header rebuilds that did not reach their commit
    /// point. (A rename cut between its steps needs nothing: the file's
    /// name decides which id it is, and its next update drops the
    /// alias.) Idempotent; call it before a TA's first use of the store
    /// after boot, while nothing else uses the store.
    pub fn recover(&self, b: &mut dyn Backend) -> R<()> {
        let mut tmps: Vec<String> = Vec::new();
        let mut failed = false;
        b.list(&self.keys.dir, &mut |n| {
            if n.ends_with(".tmp") {
                if tmps.try_reserve(1).is_err() {
                    failed = true;
                    return;
                }
                tmps.push(String::from(n));
            }
        })?;
        if failed {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        for n in tmps {
            let mut path = self.keys.dir.clone();
            path.push('/');
            path.push_str(&n);
            match b.remove(&path) {
                Ok(()) | Err(TeeResult::ERROR_ITEM_NOT_FOUND) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Object {
    pub fn id(&self) -> &[u8] {
        &self.id
    }
    pub fn meta(&self) -> &ObjMeta {
        &self.hdr.meta
    }
    pub fn attrs(&self) -> &[u8] {
        &self.hdr.attrs
    }
    pub fn data_len(&self) -> u64 {
        self.hdr.data_len
    }

    fn ok(&self) -> R<()> {
        match self.broken {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn data_off(&self, phys: u32) -> u64 {
        (2u64 << self.slot_log) + phys as u64 * BLOCK64
    }

    /// The committed plaintext of logical block `li` into `out`.
    fn plain_block(&mut self, b: &mut dyn Backend, li: usize, out: &mut [u8]) -> R<()> {
        if let Some((ci, blk)) = &self.cache
            && *ci == li
        {
            out.copy_from_slice(&blk[..]);
            return Ok(());
        }
        let e = match self.hdr.map.get(li) {
            Some(e) if e.phys != HOLE => *e,
            _ => {
                out.fill(0);
                return Ok(());
            }
        };
        read_full(b, self.fd, self.data_off(e.phys), out)?;
        open_block(&self.key, &self.salt, li, &e, out)
    }

    /// Loads logical block `li` into the cache.
    fn cache_block(&mut self, b: &mut dyn Backend, li: usize) -> R<()> {
        if self.cache.as_ref().is_some_and(|c| c.0 == li) {
            return Ok(());
        }
        let mut blk = match self.cache.take() {
            Some((_, blk)) => blk,
            None => {
                let v = try_zeroed(BLOCK)?;
                let bx: Box<[u8]> = v.into_boxed_slice();
                bx.try_into().map_err(|_| TeeResult::ERROR_GENERIC)?
            }
        };
        self.plain_block(b, li, &mut blk[..])?;
        self.cache = Some((li, blk));
        Ok(())
    }

    /// A run of `k` free physical blocks (marked used).
    fn alloc_run(&mut self, k: usize) -> R<u32> {
        let mut start = 0u32;
        let mut len = 0usize;
        let mut p = 0u32;
        while len < k {
            if p >= PHYS_MAX {
                return Err(TeeResult::ERROR_STORAGE_NO_SPACE);
            }
            if bit(&self.used, p) {
                len = 0;
                start = p + 1;
            } else {
                len += 1;
            }
            p += 1;
        }
        for q in start..start + k as u32 {
            bit_set(&mut self.used, q, true)?;
        }
        Ok(start)
    }

    /// Reads at `pos` into `buf`; returns the bytes read (0 at or past the
    /// end).
    pub fn read(&mut self, b: &mut dyn Backend, pos: u64, buf: &mut [u8]) -> R<usize> {
        self.ok()?;
        if pos >= self.hdr.data_len || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.hdr.data_len - pos) as usize;
        let out = &mut buf[..n];
        let mut done = 0;
        while done < n {
            let p = pos + done as u64;
            let li = (p / BLOCK64) as usize;
            let off = (p % BLOCK64) as usize;
            let take = (BLOCK - off).min(n - done);
            let e = self.hdr.map.get(li).copied().unwrap_or(HOLE_ENT);
            if take == BLOCK && self.cache.as_ref().is_none_or(|c| c.0 != li) {
                if e.phys == HOLE {
                    out[done..done + BLOCK].fill(0);
                    done += BLOCK;
                    continue;
                }
                // Whole blocks straight into the caller's buffer, as many
                // as are contiguous in the file, in one read.
                let mut k = 1;
                while done + (k + 1) * BLOCK <= n
                    && self.hdr.map.get(li + k).is_some_and(|x| x.phys != HOLE && x.phys == e.phys + k as u32)
                {
                    k += 1;
                }
                let dst = &mut out[done..done + k * BLOCK];
                let r = read_full(b, self.fd, self.data_off(e.phys), dst).and_then(|_| {
                    for j in 0..k {
                        let ej = self.hdr.map[li + j];
                        open_block(&self.key, &self.salt, li + j, &ej, &mut dst[j * BLOCK..(j + 1) * BLOCK])?;
                    }
                    Ok(())
                });
                if let Err(err) = r {
                    dst.zeroize();
                    return Err(err);
                }
                done += k * BLOCK;
            } else {
                self.cache_block(b, li)?;
                if let Some((_, blk)) = &self.cache {
                    out[done..done + take].copy_from_slice(&blk[off..off + take]);
                }
                done += take;
            }
        }
        Ok(n)
    }

    /// Writes the header with the next generation to the other slot (the
    /// commit point), or rebuilds the file when it has outgrown its slots.
    fn commit(&mut self, b: &mut dyn Backend, rand: Rand) -> R<()> {
        let body = encode_body(&self.hdr)?;
        if HDR_OVER + body.len() > 1usize << self.slot_log {
            return self.rebuild(b, body.len(), rand);
        }
        let h = seal_header(&self.key, &self.salt, self.slot_log, self.gen_ + 1, body, rand)?;
        let other = 1 - self.slot;
        b.write(self.fd, (other as u64) << self.slot_log, &h)?;
        self.gen_ += 1;
        self.slot = other;
        Ok(())
    }

    /// Writes the whole object (blocks copied as they are, compacted) to a
    /// temporary file with larger header slots and renames it over the
    /// object's file (the commit point).
    fn rebuild(&mut self, b: &mut dyn Backend, body: usize, rand: Rand) -> R<()> {
        let need = (HDR_OVER + body).next_power_of_two().trailing_zeros() as u8;
        let log = need.max(self.slot_log + 2);
        if log > MAX_SLOT_LOG {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let mut map = Vec::new();
        map.try_reserve_exact(self.hdr.map.len()).map_err(oom)?;
        map.extend_from_slice(&self.hdr.map);
        let mut tmp = self.path.clone();
        tmp.push('.');
        tmp.push_str(&hex_rand(rand));
        tmp.push_str(".tmp");
        let fd = b.create(&tmp)?;
        let base = 2u64 << log;
        let res = (|| -> R<()> {
            let mut buf = Vec::new();
            let mut next = 0u32;
            let mut i = 0;
            while i < map.len() {
                if map[i].phys == HOLE {
                    i += 1;
                    continue;
                }
                // A run of blocks contiguous in the old file.
                let mut k = 1;
                while k < RUN && i + k < map.len() && map[i + k].phys == map[i].phys.wrapping_add(k as u32) {
                    k += 1;
                }
                buf.clear();
                buf.try_reserve_exact(k * BLOCK).map_err(oom)?;
                buf.resize(k * BLOCK, 0);
                read_full(b, self.fd, self.data_off(map[i].phys), &mut buf)?;
                b.write(fd, base + next as u64 * BLOCK64, &buf)?;
                for e in &mut map[i..i + k] {
                    e.phys = next;
                    next += 1;
                }
                i += k;
            }
            let hdr = Hdr {
                id: self.hdr.id.clone(),
                alias: self.hdr.alias.clone(),
                meta: self.hdr.meta,
                attrs: self.hdr.attrs.clone(),
                data_len: self.hdr.data_len,
                map: core::mem::take(&mut map),
            };
            let h = seal_header(&self.key, &self.salt, log, self.gen_ + 1, encode_body(&hdr)?, rand)?;
            map = hdr.map;
            b.write(fd, 0, &h)
        })();
        let closed = b.close(fd);
        if let Err(e) = res.and(closed) {
            let _ = b.remove(&tmp);
            return Err(e);
        }
        if let Err(e) = b.rename(&tmp, &self.path, true) {
            // Whether the rename happened is unknown: this handle can no
            // longer tell which file is the object's.
            let _ = b.remove(&tmp);
            self.broken = Some(e);
            return Err(e);
        }
        let _ = b.close(self.fd);
        self.fd = NO_FD;
        match b.open(&self.path) {
            Ok(fd) => self.fd = fd,
            Err(e) => {
                self.broken = Some(e);
                return Err(e);
            }
        }
        let mut used = Vec::new();
        for e in &map {
            if e.phys != HOLE {
                bit_set(&mut used, e.phys, true)?;
            }
        }
        self.hdr.map = map;
        self.used = used;
        self.slot_log = log;
        self.slot = 0;
        self.gen_ += 1;
        Ok(())
    }

    /// Commits the header as changed since `undo`; on failure puts the
    /// header back (the new blocks stay marked used: a failed header
    /// write may still have reached the file). On success frees the
    /// blocks the old header used and this one does not.
    fn finish(&mut self, b: &mut dyn Backend, undo: Undo, rand: Rand) -> R<()> {
        match self.commit(b, rand) {
            Ok(()) => {
                for (_, e) in &undo.changed {
                    if e.phys != HOLE {
                        bit_set(&mut self.used, e.phys, false)?;
                    }
                }
                for e in &undo.tail {
                    if e.phys != HOLE {
                        bit_set(&mut self.used, e.phys, false)?;
                    }
                }
                Ok(())
            }
            Err(e) => {
                undo.restore(&mut self.hdr);
                self.cache = None;
                Err(e)
            }
        }
    }

    /// Writes `data` at `pos` atomically; a gap past the end reads as zeros.
    pub fn write(&mut self, b: &mut dyn Backend, pos: u64, data: &[u8], rand: Rand) -> R<()> {
        self.ok()?;
        if data.is_empty() {
            return Ok(());
        }
        let end =
            pos.checked_add(data.len() as u64).filter(|e| *e <= DATA_MAX_POSITION).ok_or(TeeResult::ERROR_OVERFLOW)?;
        let first = (pos / BLOCK64) as usize;
        let last = ((end - 1) / BLOCK64) as usize;
        let new_len = self.hdr.data_len.max(end);
        let nent = blocks_for(new_len);
        let mut undo = Undo::new(&self.hdr);
        if nent > self.hdr.map.len() {
            self.hdr.map.try_reserve_exact(nent - self.hdr.map.len()).map_err(oom)?;
            self.hdr.map.resize(nent, HOLE_ENT);
        }
        let mut new_cache: Option<(usize, Vec<u8>)> = None;
        let res = (|| -> R<()> {
            let mut buf = Vec::new();
            let mut li = first;
            while li <= last {
                let k = RUN.min(last - li + 1);
                buf.clear();
                buf.try_reserve_exact(k * BLOCK).map_err(oom)?;
                buf.resize(k * BLOCK, 0);
                let start = self.alloc_run(k)?;
                for j in 0..k {
                    let l = li + j;
                    let bstart = l as u64 * BLOCK64;
                    let lo = (pos.max(bstart) - bstart) as usize;
                    let hi = (end.min(bstart + BLOCK64) - bstart) as usize;
                    let blk = &mut buf[j * BLOCK..(j + 1) * BLOCK];
                    // Partly covered: the rest from the committed block
                    // (none past the old end: zeros).
                    if (lo > 0 || hi < BLOCK) && l < undo.map_len {
                        self.plain_block(b, l, blk)?;
                    }
                    let d0 = (bstart + lo as u64 - pos) as usize;
                    blk[lo..hi].copy_from_slice(&data[d0..d0 + hi - lo]);
                    if l == last {
                        let mut c = try_zeroed(BLOCK)?;
                        c.copy_from_slice(blk);
                        new_cache = Some((l, c));
                    }
                    let mut e = seal_block(&self.key, &self.salt, l, blk, rand)?;
                    e.phys = start + j as u32;
                    undo.set(&mut self.hdr, l, e)?;
                }
                b.write(self.fd, self.data_off(start), &buf)?;
                li += k;
            }
            Ok(())
        })();
        if let Err(e) = res {
            undo.restore(&mut self.hdr);
            self.cache = None;
            return Err(e);
        }
        self.hdr.data_len = new_len;
        self.finish(b, undo, rand)?;
        // The block just written stays cached (sequential small writes
        // and reads of it need no backend read).
        self.cache = new_cache.and_then(|(l, c)| {
            let bx: Option<Box<[u8; BLOCK]>> = c.into_boxed_slice().try_into().ok();
            bx.map(|bx| (l, bx))
        });
        Ok(())
    }

    /// Sets the data length atomically (extending with zeros).
    pub fn truncate(&mut self, b: &mut dyn Backend, len: u64, rand: Rand) -> R<()> {
        self.ok()?;
        if len > DATA_MAX_POSITION {
            return Err(TeeResult::ERROR_OVERFLOW);
        }
        if len == self.hdr.data_len {
            return Ok(());
        }
        let nent = blocks_for(len);
        let mut undo = Undo::new(&self.hdr);
        let shrink = len < self.hdr.data_len;
        if shrink {
            undo.tail.try_reserve_exact(self.hdr.map.len() - nent).map_err(oom)?;
            undo.tail.extend_from_slice(&self.hdr.map[nent..]);
            let cut = (len % BLOCK64) as usize;
            if cut != 0 && self.hdr.map[nent - 1].phys != HOLE {
                // The new last block keeps zeros past the end.
                let li = nent - 1;
                let res = (|| -> R<()> {
                    let mut blk = try_zeroed(BLOCK)?;
                    self.plain_block(b, li, &mut blk)?;
                    blk[cut..].fill(0);
                    let start = self.alloc_run(1)?;
                    let mut e = seal_block(&self.key, &self.salt, li, &mut blk, rand)?;
                    e.phys = start;
                    b.write(self.fd, self.data_off(start), &blk)?;
                    undo.set(&mut self.hdr, li, e)
                })();
                if let Err(e) = res {
                    undo.restore(&mut self.hdr);
                    self.cache = None;
                    return Err(e);
                }
            }
            self.hdr.map.truncate(nent);
        } else {
            self.hdr.map.try_reserve_exact(nent - self.hdr.map.len()).map_err(oom)?;
            self.hdr.map.resize(nent, HOLE_ENT);
        }
        self.hdr.data_len = len;
        self.cache = None;
        self.finish(b, undo, rand)?;
        if shrink {
            // Give back the space past the last block in use (best effort:
            // the change is committed already).
            let top = (0..self.used.len() as u32 * 64).rev().find(|p| bit(&self.used, *p));
            let end = self.data_off(top.map_or(0, |p| p + 1));
            let _ = b.truncate(self.fd, end);
        }
        Ok(())
    }

    /// Changes the usage flags kept in the header (TEE_RestrictObjectUsage1).
    pub fn set_usage(&mut self, b: &mut dyn Backend, usage: u32, rand: Rand) -> R<()> {
        self.ok()?;
        let undo = Undo::new(&self.hdr);
        self.hdr.meta.usage = usage;
        self.finish(b, undo, rand)
    }

    /// Renames the object to `new_id` atomically: ACCESS_CONFLICT if an
    /// object `new_id` exists.
    pub fn rename(&mut self, store: &Store, b: &mut dyn Backend, new_id: &[u8], rand: Rand) -> R<()> {
        self.ok()?;
        check_id(new_id)?;
        let new_path = store.keys.object_path(new_id);
        if new_id == self.id.as_slice() {
            return Err(TeeResult::ERROR_ACCESS_CONFLICT);
        }
        match b.open(&new_path) {
            Ok(fd) => {
                let _ = b.close(fd);
                return Err(TeeResult::ERROR_ACCESS_CONFLICT);
            }
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
        // 1: the header names both ids.
        let old_id = core::mem::replace(&mut self.hdr.id, new_id.to_vec());
        self.hdr.alias = Some(old_id.clone());
        let undo = Undo::new(&self.hdr);
        if let Err(e) = self.finish(b, undo, rand) {
            self.hdr.id = old_id;
            self.hdr.alias = None;
            return Err(e);
        }
        // 2: the rename is the commit point (the file is reopened under
        // its new name: backends need not follow open files).
        let _ = b.close(self.fd);
        self.fd = NO_FD;
        let renamed = b.rename(&self.path, &new_path, false);
        let (path, id) = match renamed {
            Ok(()) => (new_path, new_id.to_vec()),
            Err(e) => {
                // Not renamed (or unknown): back to the old id.
                self.hdr.id = old_id;
                self.hdr.alias = None;
                match b.open(&self.path) {
                    Ok(fd) => {
                        self.fd = fd;
                        let undo = Undo::new(&self.hdr);
                        if self.finish(b, undo, rand).is_err() {
                            self.broken = Some(e);
                        }
                    }
                    Err(_) => self.broken = Some(e),
                }
                return Err(e);
            }
        };
        match b.open(&path) {
            Ok(fd) => self.fd = fd,
            Err(e) => {
                self.broken = Some(e);
                return Err(e);
            }
        }
        self.path = path;
        self.id = id;
        self.hdr.id = new_id.to_vec();
        self.hdr.alias = None;
        // 3: drop the alias. The rename has happened; if this fails the
        // alias stays until the next update, which is harmless.
        let undo = Undo::new(&self.hdr);
        let _ = self.finish(b, undo, rand);
        Ok(())
    }

    /// Deletes the object (its file is gone when this returns Ok).
    pub fn remove(self, b: &mut dyn Backend) -> R<()> {
        if self.fd != NO_FD {
            let _ = b.close(self.fd);
        }
        b.remove(&self.path)
    }

    /// Closes the file.
    pub fn close(self, b: &mut dyn Backend) -> R<()> {
        // A handle whose file could not be opened again holds none: never
        // close a descriptor number twice (the supplicant may have given
        // it to another file since).
        if self.fd == NO_FD { Ok(()) } else { b.close(self.fd) }
    }
}
