//! oxtee's crypto test TA: the crypto system calls, one command each
//! (numbers, parameters and byte formats in `oxtee_abi::crypto_test_ta`),
//! plus a one-shot command that runs a whole operation, a benchmark
//! command and one that dies holding crypto objects. It calls the kernel
//! through the SDK's raw syscall wrappers (`oxtee_utee::raw_cryp`), not a
//! crypto API, so the normal-world suite sees the kernel's behaviour and
//! error codes as they are: each command's result is the system call's.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::crypto_test_ta::{self as c, Tag};
use oxtee_abi::ta::crypto::{self as g, alg_class};
use oxtee_abi::tee::TeeResult;
use oxtee_utee::raw_cryp::{self as sys, Attr};
use oxtee_utee::{
    Error, ErrorKind, ParamType, Parameter, Parameters, Result, Uuid, ta_close_session, ta_create, ta_destroy,
    ta_invoke_command, ta_open_session,
};
use zerocopy::IntoBytes;

oxtee_utee::ta_config! {
    uuid: Uuid::from_abi(c::UUID),
    flags: 0,
    stack_size: c::STACK_SIZE,
    data_size: c::DATA_SIZE as usize,
    version: "1.0",
    description: "oxtee crypto test TA",
    properties: {},
}

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters) -> Result<()> {
    Ok(())
}

#[ta_close_session]
fn close_session() {}

fn bad() -> Error {
    ErrorKind::BadParameters.into()
}

/// The command's result from a system call's.
fn check(r: TeeResult) -> Result<()> {
    if r == TeeResult::SUCCESS { Ok(()) } else { Err(Error::from_raw_error(r.0)) }
}

/// A value input parameter's (a, b).
fn value(p: &mut Parameter) -> Result<(u32, u32)> {
    if p.param_type() != ParamType::ValueInput {
        return Err(bad());
    }
    let v = p.as_value()?;
    Ok((v.a(), v.b()))
}

/// A copy of an input memref's bytes; a parameter of type none is an
/// empty input.
fn input(p: &mut Parameter) -> Result<Vec<u8>> {
    match p.param_type() {
        ParamType::None => Ok(Vec::new()),
        ParamType::MemrefInput | ParamType::MemrefInout => {
            let mut m = p.as_memref()?;
            let src = m.buffer();
            let mut v = Vec::new();
            v.try_reserve_exact(src.len()).map_err(|_| Error::from(ErrorKind::OutOfMemory))?;
            v.extend_from_slice(src);
            Ok(v)
        }
        _ => Err(bad()),
    }
}

/// Runs `f` on an output memref's buffer; `f` returns the system call's
/// result and the length it reported, which becomes the memref's size
/// (written, or needed on SHORT_BUFFER).
fn output(p: &mut Parameter, f: impl FnOnce(&mut [u8]) -> (TeeResult, usize)) -> Result<()> {
    if !matches!(p.param_type(), ParamType::MemrefOutput | ParamType::MemrefInout) {
        return Err(bad());
    }
    let mut m = p.as_memref()?;
    let (r, len) = f(m.buffer());
    m.set_updated_size(len);
    check(r)
}

fn set_out(p: &mut Parameter, a: u32) -> Result<()> {
    if p.param_type() != ParamType::ValueOutput {
        return Err(bad());
    }
    p.as_value()?.set_a(a);
    Ok(())
}

/// An attribute list (records: id, data; a value attribute's data is a,
/// b), borrowing from `buf`.
fn attrs(buf: &[u8]) -> Result<Vec<Attr<'_>>> {
    let mut out = Vec::new();
    for r in c::records(buf).ok_or_else(bad)? {
        out.push(if sys::is_value(r.tag) {
            let (a, b) = c::value_attr(r.data).ok_or_else(bad)?;
            Attr::Value(r.tag, a, b)
        } else {
            Attr::Ref(r.tag, r.data)
        });
    }
    Ok(out)
}

#[ta_invoke_command]
fn invoke_command(cmd: u32, p: &mut Parameters) -> Result<()> {
    match cmd {
        c::CMD_OBJ_ALLOC => {
            let (t, size) = value(&mut p.0)?;
            let obj = sys::obj_alloc(t, size).map_err(|e| Error::from_raw_error(e.0))?;
            set_out(&mut p.1, obj)
        }
        c::CMD_OBJ_POPULATE => {
            let (obj, _) = value(&mut p.0)?;
            let raw = input(&mut p.1)?;
            let list = attrs(&raw)?;
            check(sys::obj_populate(obj, &list))
        }
        c::CMD_OBJ_GENERATE => {
            let (obj, size) = value(&mut p.0)?;
            let raw = input(&mut p.1)?;
            let list = attrs(&raw)?;
            check(sys::obj_generate_key(obj, size, &list))
        }
        c::CMD_OBJ_GET_ATTR => {
            let (obj, id) = value(&mut p.0)?;
            output(&mut p.1, |buf| sys::obj_get_attr(obj, id, buf))
        }
        c::CMD_OBJ_GET_INFO => {
            let (obj, _) = value(&mut p.0)?;
            output(&mut p.1, |buf| match sys::obj_get_info(obj) {
                Ok(info) => {
                    let bytes = info.as_bytes();
                    match buf.get_mut(..bytes.len()) {
                        Some(dst) => {
                            dst.copy_from_slice(bytes);
                            (TeeResult::SUCCESS, bytes.len())
                        }
                        None => (TeeResult::ERROR_SHORT_BUFFER, bytes.len()),
                    }
                }
                Err(e) => (e, 0),
            })
        }
        c::CMD_OBJ_RESTRICT => {
            let (obj, usage) = value(&mut p.0)?;
            check(sys::obj_restrict_usage(obj, usage))
        }
        c::CMD_OBJ_COPY => {
            let (dst, src) = value(&mut p.0)?;
            check(sys::obj_copy(dst, src))
        }
        c::CMD_OBJ_RESET => check(sys::obj_reset(value(&mut p.0)?.0)),
        c::CMD_OBJ_CLOSE => check(sys::obj_close(value(&mut p.0)?.0)),
        c::CMD_STATE_ALLOC => {
            let (algo, mode) = value(&mut p.0)?;
            let (k1, k2) = value(&mut p.1)?;
            let state = sys::state_alloc(algo, mode, k1, k2).map_err(|e| Error::from_raw_error(e.0))?;
            set_out(&mut p.2, state)
        }
        c::CMD_STATE_FREE => check(sys::state_free(value(&mut p.0)?.0)),
        c::CMD_STATE_COPY => {
            let (dst, src) = value(&mut p.0)?;
            check(sys::state_copy(dst, src))
        }
        c::CMD_HASH_INIT => {
            let (s, _) = value(&mut p.0)?;
            check(sys::hash_init(s, &input(&mut p.1)?))
        }
        c::CMD_HASH_UPDATE => {
            let (s, _) = value(&mut p.0)?;
            check(sys::hash_update(s, &input(&mut p.1)?))
        }
        c::CMD_HASH_FINAL => {
            let (s, _) = value(&mut p.0)?;
            let src = input(&mut p.1)?;
            output(&mut p.2, |dst| sys::hash_final(s, &src, dst))
        }
        c::CMD_CIPHER_INIT => {
            let (s, _) = value(&mut p.0)?;
            check(sys::cipher_init(s, &input(&mut p.1)?))
        }
        c::CMD_CIPHER_UPDATE | c::CMD_CIPHER_FINAL => {
            let (s, _) = value(&mut p.0)?;
            let src = input(&mut p.1)?;
            let f = if cmd == c::CMD_CIPHER_UPDATE { sys::cipher_update } else { sys::cipher_final };
            output(&mut p.2, |dst| f(s, &src, dst))
        }
        c::CMD_AE_INIT => {
            let (s, tag_len) = value(&mut p.0)?;
            let nonce = input(&mut p.1)?;
            let (aad_len, payload_len) = value(&mut p.2)?;
            check(sys::authenc_init(s, &nonce, tag_len as usize, aad_len as usize, payload_len as usize))
        }
        c::CMD_AE_UPDATE_AAD => {
            let (s, _) = value(&mut p.0)?;
            check(sys::authenc_update_aad(s, &input(&mut p.1)?))
        }
        c::CMD_AE_UPDATE_PAYLOAD => {
            let (s, _) = value(&mut p.0)?;
            let src = input(&mut p.1)?;
            output(&mut p.2, |dst| sys::authenc_update_payload(s, &src, dst))
        }
        c::CMD_AE_ENC_FINAL => {
            let (s, _) = value(&mut p.0)?;
            let src = input(&mut p.1)?;
            if !matches!(p.3.param_type(), ParamType::MemrefOutput | ParamType::MemrefInout) {
                return Err(bad());
            }
            let mut tag = p.3.as_memref()?;
            let mut tag_len = 0;
            let r = output(&mut p.2, |dst| {
                let (r, len, t) = sys::authenc_enc_final(s, &src, dst, tag.buffer());
                tag_len = t;
                (r, len)
            });
            tag.set_updated_size(tag_len);
            r
        }
        c::CMD_AE_DEC_FINAL => {
            let (s, _) = value(&mut p.0)?;
            let src = input(&mut p.1)?;
            let tag = input(&mut p.3)?;
            output(&mut p.2, |dst| sys::authenc_dec_final(s, &src, dst, &tag))
        }
        c::CMD_ASYMM_OPERATE => {
            let (s, _) = value(&mut p.0)?;
            let raw = input(&mut p.1)?;
            let list = attrs(&raw)?;
            let src = input(&mut p.2)?;
            output(&mut p.3, |dst| sys::asymm_operate(s, &list, &src, dst))
        }
        c::CMD_ASYMM_VERIFY => {
            let (s, _) = value(&mut p.0)?;
            let raw = input(&mut p.1)?;
            let list = attrs(&raw)?;
            let data = input(&mut p.2)?;
            let sig = input(&mut p.3)?;
            check(sys::asymm_verify(s, &list, &data, &sig))
        }
        c::CMD_DERIVE_KEY => {
            let (s, derived) = value(&mut p.0)?;
            let raw = input(&mut p.1)?;
            let list = attrs(&raw)?;
            check(sys::derive_key(s, &list, derived))
        }
        c::CMD_RANDOM => output(&mut p.0, |buf| (sys::random(buf), buf.len())),
        c::CMD_ONESHOT => oneshot(p),
        c::CMD_BENCH => bench(p),
        c::CMD_PANIC_AFTER_ALLOC => panic_after_alloc(value(&mut p.0)?.0),
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

/// A key of a request: allocated, then populated or generated.
struct KeySpec<'a> {
    obj_type: u32,
    size: u32,
    attrs: Vec<Attr<'a>>,
    generate: Option<u32>,
}

/// A parsed one-shot or benchmark request.
#[derive(Default)]
struct Request<'a> {
    keys: [Option<KeySpec<'a>>; 2],
    iv: &'a [u8],
    aad: &'a [u8],
    tag_len: usize,
    input: &'a [u8],
    input_len: Option<usize>,
    chunk: usize,
    tail: usize,
    op_attrs: Vec<Attr<'a>>,
    check: &'a [u8],
    derived: Option<(u32, u32)>,
}

fn u32_rec(data: &[u8]) -> Result<u32> {
    c::u32_of(data).ok_or_else(bad)
}

fn parse(buf: &[u8]) -> Result<Request<'_>> {
    let mut r = Request::default();
    let (mut types, mut sizes, mut key_attrs, mut gen_size) = ([None; 2], [0u32; 2], [None, None], None);
    let mut derived = (None, 0);
    for rec in c::records(buf).ok_or_else(bad)? {
        match Tag::from_raw(rec.tag).ok_or_else(bad)? {
            Tag::KeyType => types[0] = Some(u32_rec(rec.data)?),
            Tag::KeySize => sizes[0] = u32_rec(rec.data)?,
            Tag::KeyAttrs => key_attrs[0] = Some(attrs(rec.data)?),
            Tag::Key2Type => types[1] = Some(u32_rec(rec.data)?),
            Tag::Key2Size => sizes[1] = u32_rec(rec.data)?,
            Tag::Key2Attrs => key_attrs[1] = Some(attrs(rec.data)?),
            Tag::KeyGenerate => gen_size = Some(u32_rec(rec.data)?),
            Tag::Iv => r.iv = rec.data,
            Tag::Aad => r.aad = rec.data,
            Tag::TagLen => r.tag_len = u32_rec(rec.data)? as usize,
            Tag::Input => r.input = rec.data,
            Tag::InputLen => r.input_len = Some(u32_rec(rec.data)? as usize),
            Tag::Chunk => r.chunk = u32_rec(rec.data)? as usize,
            Tag::Tail => r.tail = u32_rec(rec.data)? as usize,
            Tag::OpAttrs => r.op_attrs = attrs(rec.data)?,
            Tag::Check => r.check = rec.data,
            Tag::DerivedType => derived.0 = Some(u32_rec(rec.data)?),
            Tag::DerivedSize => derived.1 = u32_rec(rec.data)?,
        }
    }
    for (i, (t, a)) in types.into_iter().zip(key_attrs).enumerate() {
        if let Some(obj_type) = t {
            let generate = if i == 0 { gen_size } else { None };
            r.keys[i] = Some(KeySpec { obj_type, size: sizes[i], attrs: a.unwrap_or_default(), generate });
        }
    }
    r.derived = derived.0.map(|t| (t, derived.1));
    Ok(r)
}

/// Keys, state and derived object of one operation; freed on drop.
struct Prepared {
    keys: [u32; 2],
    state: u32,
    derived: u32,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if self.state != 0 {
            sys::state_free(self.state);
        }
        for h in self.keys.into_iter().chain([self.derived]) {
            if h != 0 {
                sys::obj_close(h);
            }
        }
    }
}

type Step<T> = core::result::Result<T, TeeResult>;

fn ok(r: TeeResult) -> Step<()> {
    if r == TeeResult::SUCCESS { Ok(()) } else { Err(r) }
}

/// Allocates the request's keys (populated, generated, or left empty when
/// the request gives neither attributes nor a size to generate), the
/// derived-key object and, with `with_state`, the operation state.
fn prepare(algo: u32, mode: u32, req: &Request, with_state: bool) -> Step<Prepared> {
    let mut p = Prepared { keys: [0; 2], state: 0, derived: 0 };
    for (i, spec) in req.keys.iter().enumerate() {
        let Some(k) = spec else { continue };
        p.keys[i] = sys::obj_alloc(k.obj_type, k.size)?;
        match k.generate {
            Some(bits) => ok(sys::obj_generate_key(p.keys[i], bits, &k.attrs))?,
            None if k.attrs.is_empty() => {}
            None => ok(sys::obj_populate(p.keys[i], &k.attrs))?,
        }
    }
    if let Some((t, size)) = req.derived {
        p.derived = sys::obj_alloc(t, size)?;
    }
    if with_state {
        p.state = sys::state_alloc(algo, mode, p.keys[0], p.keys[1])?;
    }
    Ok(p)
}

/// Where an operation's output goes: appended to the client's buffer, or
/// overwritten in a scratch buffer (benchmarks).
enum Out<'a> {
    Append(&'a mut [u8]),
    Scratch(&'a mut [u8]),
}

impl Out<'_> {
    fn at(&mut self, pos: usize) -> &mut [u8] {
        match self {
            Out::Append(b) => b.get_mut(pos..).unwrap_or(&mut []),
            Out::Scratch(b) => b,
        }
    }

    fn advance(&self, pos: usize, n: usize) -> usize {
        match self {
            Out::Append(_) => pos + n,
            Out::Scratch(_) => 0,
        }
    }
}

/// The data fed to an operation: `total` bytes, in update calls of
/// `chunk` bytes (0: none) and the rest in the final call. `data` is the
/// whole input, or one chunk repeated (benchmarks).
struct Feed<'a> {
    data: &'a [u8],
    total: usize,
    chunk: usize,
    /// Bytes kept for the final call, at least (1 when 0).
    tail: usize,
}

impl Feed<'_> {
    fn updates(&self) -> usize {
        self.total.saturating_sub(self.tail.max(1)).checked_div(self.chunk).unwrap_or(0)
    }

    fn piece(&self, off: usize, len: usize) -> &[u8] {
        if self.data.len() == self.total { &self.data[off..off + len] } else { &self.data[..len] }
    }
}

/// Runs the operation from init to final: (output length, tag length),
/// or the failing call's result and the output length it reported (the
/// size needed, on SHORT_BUFFER).
fn run(
    algo: u32,
    mode: u32,
    p: &Prepared,
    req: &Request,
    feed: &Feed,
    out: &mut Out,
    tag: &mut [u8],
) -> Step<(usize, usize)> {
    let s = p.state;
    let class = alg_class(algo);
    let mut pos = 0;
    let updates = feed.updates();
    let last = feed.piece(updates * feed.chunk, feed.total - updates * feed.chunk);
    match class {
        g::OPERATION_DIGEST | g::OPERATION_MAC => {
            ok(sys::hash_init(s, req.iv))?;
            for i in 0..updates {
                ok(sys::hash_update(s, feed.piece(i * feed.chunk, feed.chunk)))?;
            }
            let (r, n) = sys::hash_final(s, last, out.at(0));
            ok(r).map_err(|e| short(e, n))?;
            Ok((n, 0))
        }
        g::OPERATION_CIPHER | g::OPERATION_AE => {
            if class == g::OPERATION_CIPHER {
                ok(sys::cipher_init(s, req.iv))?;
            } else {
                ok(sys::authenc_init(s, req.iv, req.tag_len, req.aad.len(), feed.total))?;
                if !req.aad.is_empty() {
                    ok(sys::authenc_update_aad(s, req.aad))?;
                }
            }
            for i in 0..updates {
                let src = feed.piece(i * feed.chunk, feed.chunk);
                let (r, n) = if class == g::OPERATION_CIPHER {
                    sys::cipher_update(s, src, out.at(pos))
                } else {
                    sys::authenc_update_payload(s, src, out.at(pos))
                };
                ok(r).map_err(|e| short(e, pos + n))?;
                pos = out.advance(pos, n);
            }
            let (r, n, t) = if class == g::OPERATION_CIPHER {
                let (r, n) = sys::cipher_final(s, last, out.at(pos));
                (r, n, 0)
            } else if mode == g::MODE_ENCRYPT {
                sys::authenc_enc_final(s, last, out.at(pos), tag)
            } else {
                let (r, n) = sys::authenc_dec_final(s, last, out.at(pos), req.check);
                (r, n, 0)
            };
            ok(r).map_err(|e| short(e, pos + n))?;
            Ok((out.advance(pos, n).max(n), t))
        }
        g::OPERATION_ASYMMETRIC_CIPHER | g::OPERATION_ASYMMETRIC_SIGNATURE if mode != g::MODE_VERIFY => {
            let (r, n) = sys::asymm_operate(s, &req.op_attrs, feed.data, out.at(0));
            ok(r).map_err(|e| short(e, n))?;
            Ok((n, 0))
        }
        g::OPERATION_ASYMMETRIC_SIGNATURE => {
            ok(sys::asymm_verify(s, &req.op_attrs, feed.data, req.check))?;
            Ok((0, 0))
        }
        g::OPERATION_KEY_DERIVATION => {
            if p.derived == 0 {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            ok(sys::obj_reset(p.derived))?;
            ok(sys::derive_key(s, &req.op_attrs, p.derived))?;
            let (r, n) = sys::obj_get_attr(p.derived, g::ATTR_SECRET_VALUE, out.at(0));
            ok(r).map_err(|e| short(e, n))?;
            Ok((n, 0))
        }
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

/// Records the size a SHORT_BUFFER answer asked for.
static NEEDED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

fn short(e: TeeResult, needed: usize) -> TeeResult {
    NEEDED.store(needed, core::sync::atomic::Ordering::Relaxed);
    e
}

fn oneshot(p: &mut Parameters) -> Result<()> {
    let (algo, mode) = value(&mut p.0)?;
    let raw = input(&mut p.1)?;
    let req = parse(&raw)?;
    if !matches!(p.2.param_type(), ParamType::MemrefOutput | ParamType::MemrefInout) {
        return Err(bad());
    }
    let mut tag_buf = vec![0u8; req.tag_len];
    let prepared = prepare(algo, mode, &req, true).map_err(|e| Error::from_raw_error(e.0))?;
    let feed = Feed { data: req.input, total: req.input.len(), chunk: req.chunk, tail: req.tail };
    let mut m = p.2.as_memref()?;
    NEEDED.store(0, core::sync::atomic::Ordering::Relaxed);
    let r = run(algo, mode, &prepared, &req, &feed, &mut Out::Append(m.buffer()), &mut tag_buf);
    drop(prepared);
    match r {
        Ok((n, t)) => {
            m.set_updated_size(n);
            if matches!(p.3.param_type(), ParamType::MemrefOutput | ParamType::MemrefInout) {
                let mut tm = p.3.as_memref()?;
                let dst = tm.buffer();
                if dst.len() < t {
                    tm.set_updated_size(t);
                    return Err(ErrorKind::ShortBuffer.into());
                }
                dst[..t].copy_from_slice(&tag_buf[..t]);
                tm.set_updated_size(t);
            }
            Ok(())
        }
        Err(e) => {
            if e == TeeResult::ERROR_SHORT_BUFFER {
                m.set_updated_size(NEEDED.load(core::sync::atomic::Ordering::Relaxed));
            }
            Err(Error::from_raw_error(e.0))
        }
    }
}

fn bench(p: &mut Parameters) -> Result<()> {
    let (algo, mode) = value(&mut p.0)?;
    let raw = input(&mut p.1)?;
    let req = parse(&raw)?;
    let (iterations, kind) = value(&mut p.2)?;
    let prepared = prepare(algo, mode, &req, kind != c::BENCH_KEYGEN).map_err(|e| Error::from_raw_error(e.0))?;
    // A generated input: one chunk of a pattern, fed until `input_len`.
    let generated: Vec<u8>;
    let feed = match req.input_len {
        Some(total) => {
            let chunk = if req.chunk == 0 { total } else { req.chunk.min(total) };
            generated = (0..chunk).map(|i| i as u8).collect();
            Feed { data: &generated, total, chunk: if req.chunk == 0 { 0 } else { chunk }, tail: req.tail }
        }
        None => Feed { data: req.input, total: req.input.len(), chunk: req.chunk, tail: req.tail },
    };
    let mut scratch = vec![0u8; feed.data.len().max(feed.chunk) + 1024];
    let mut tag = vec![0u8; req.tag_len];
    let mut done = 0;
    for _ in 0..iterations {
        let r = match kind {
            c::BENCH_OPERATION => {
                run(algo, mode, &prepared, &req, &feed, &mut Out::Scratch(&mut scratch), &mut tag).map(|_| ())
            }
            c::BENCH_KEYGEN => {
                let k = req.keys[0].as_ref().ok_or_else(bad)?;
                ok(sys::obj_reset(prepared.keys[0]))
                    .and_then(|_| ok(sys::obj_generate_key(prepared.keys[0], k.generate.unwrap_or(k.size), &k.attrs)))
            }
            _ => return Err(bad()),
        };
        r.map_err(|e| Error::from_raw_error(e.0))?;
        done += 1;
    }
    set_out(&mut p.3, done)
}

/// Allocates and starts operations, then dies holding them.
fn panic_after_alloc(what: u32) -> Result<()> {
    let fail = |e: TeeResult| Error::from_raw_error(e.0);
    if what & c::PANIC_HOLD_SYMMETRIC != 0 {
        let key = sys::obj_alloc(g::TYPE_AES, 256).map_err(fail)?;
        check(sys::obj_populate(key, &[Attr::Ref(g::ATTR_SECRET_VALUE, &[0x42; 32])]))?;
        let st = sys::state_alloc(g::ALG_AES_CBC_NOPAD, g::MODE_ENCRYPT, key, 0).map_err(fail)?;
        check(sys::cipher_init(st, &[0; 16]))?;
        let mut out = [0u8; 32];
        check(sys::cipher_update(st, &[1; 32], &mut out).0)?;
        let gcm_key = sys::obj_alloc(g::TYPE_AES, 128).map_err(fail)?;
        check(sys::obj_populate(gcm_key, &[Attr::Ref(g::ATTR_SECRET_VALUE, &[7; 16])]))?;
        let gcm = sys::state_alloc(g::ALG_AES_GCM, g::MODE_ENCRYPT, gcm_key, 0).map_err(fail)?;
        check(sys::authenc_init(gcm, &[0; 12], 16, 0, 64))?;
    }
    if what & c::PANIC_HOLD_DIGEST != 0 {
        let st = sys::state_alloc(g::ALG_SHA256, g::MODE_DIGEST, 0, 0).map_err(fail)?;
        check(sys::hash_init(st, &[]))?;
        check(sys::hash_update(st, &[0x61; 1000]))?;
        let copy = sys::state_alloc(g::ALG_SHA256, g::MODE_DIGEST, 0, 0).map_err(fail)?;
        check(sys::state_copy(copy, st))?;
    }
    if what & c::PANIC_HOLD_RSA != 0 {
        let key = sys::obj_alloc(g::TYPE_RSA_KEYPAIR, 1024).map_err(fail)?;
        check(sys::obj_generate_key::<Attr>(key, 1024, &[]))?;
        sys::state_alloc(g::ALG_RSASSA_PKCS1_V1_5_SHA256, g::MODE_SIGN, key, 0).map_err(fail)?;
    }
    panic!("crypto test TA: dying with its crypto objects and states held (as asked)");
}
