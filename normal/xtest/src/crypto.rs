//! GP cryptography through the crypto test TA (`ta/crypto-test`, numbers
//! in `oxtee_abi::crypto_test_ta`), which passes each command to the
//! kernel's crypto system call of the same name: known answers for every
//! algorithm (vectors in `normal/xtest/vectors/`, see `gen.py` there for
//! their sources), multi-stage against one-shot results, operation-state
//! copies, the error codes upstream's kernel answers (short buffers with
//! the size needed, bad tags, bad signatures, wrong key types and modes),
//! and nothing left in the kernel by a TA that dies holding crypto
//! objects. Also the `bench-crypto` figures for `cargo xtask bench`.

use crate::{check, eq};
use oxtee_abi::crypto_test_ta::{self as c, Tag};
use oxtee_abi::ta::crypto as g;
use oxtee_abi::tee::TeeResult;
use oxtee_teec::{Context, Dir, Operation, Param, ParamNone, ParamTmpRef, ParamValue, Session};
use std::collections::HashMap;
use std::time::Instant;

const DIGESTS: &str = include_str!("../vectors/digest.txt");
const MACS: &str = include_str!("../vectors/mac.txt");
const CIPHERS: &str = include_str!("../vectors/cipher.txt");
const AES: &str = include_str!("../vectors/ae.txt");
const ASYM: &str = include_str!("../vectors/asym.txt");
const KDFS: &str = include_str!("../vectors/kdf.txt");

const SUCCESS: u32 = TeeResult::SUCCESS.0;
const SHORT_BUFFER: u32 = TeeResult::ERROR_SHORT_BUFFER.0;
const BAD_PARAMETERS: u32 = TeeResult::ERROR_BAD_PARAMETERS.0;
const BAD_STATE: u32 = TeeResult::ERROR_BAD_STATE.0;
const MAC_INVALID: u32 = TeeResult::ERROR_MAC_INVALID.0;
const SIGNATURE_INVALID: u32 = TeeResult::ERROR_SIGNATURE_INVALID.0;
const TARGET_DEAD: u32 = TeeResult::ERROR_TARGET_DEAD.0;
const NOT_SUPPORTED: u32 = TeeResult::ERROR_NOT_SUPPORTED.0;

/// One vector: its kind (first word) and fields.
struct Vector {
    kind: String,
    fields: HashMap<String, String>,
}

impl Vector {
    fn hex(&self, k: &str) -> Vec<u8> {
        self.fields.get(k).map(|v| unhex(v)).unwrap_or_default()
    }

    fn has(&self, k: &str) -> bool {
        self.fields.contains_key(k)
    }

    fn num(&self, k: &str) -> u32 {
        self.fields.get(k).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    fn text(&self, k: &str) -> String {
        String::from_utf8(self.hex(k)).unwrap_or_else(|_| self.fields.get(k).cloned().unwrap_or_default())
    }

    fn str(&self, k: &str) -> &str {
        self.fields.get(k).map_or("", String::as_str)
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect()
}

fn vectors(text: &str) -> Vec<Vector> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace();
            let kind = words.next().unwrap_or_default().to_string();
            let fields = words.filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Vector { kind, fields }
        })
        .collect()
}

/// GP algorithm identifier by the name the vector files use
/// (`TEE_ALG_` dropped).
fn alg(name: &str) -> Option<u32> {
    Some(match name {
        "MD5" => g::ALG_MD5,
        "SHA1" => g::ALG_SHA1,
        "SHA224" => g::ALG_SHA224,
        "SHA256" => g::ALG_SHA256,
        "SHA384" => g::ALG_SHA384,
        "SHA512" => g::ALG_SHA512,
        "SHA3_224" => g::ALG_SHA3_224,
        "SHA3_256" => g::ALG_SHA3_256,
        "SHA3_384" => g::ALG_SHA3_384,
        "SHA3_512" => g::ALG_SHA3_512,
        "SHAKE128" => g::ALG_SHAKE128,
        "SHAKE256" => g::ALG_SHAKE256,
        "SM3" => g::ALG_SM3,
        "HMAC_MD5" => g::ALG_HMAC_MD5,
        "HMAC_SHA1" => g::ALG_HMAC_SHA1,
        "HMAC_SHA224" => g::ALG_HMAC_SHA224,
        "HMAC_SHA256" => g::ALG_HMAC_SHA256,
        "HMAC_SHA384" => g::ALG_HMAC_SHA384,
        "HMAC_SHA512" => g::ALG_HMAC_SHA512,
        "HMAC_SHA3_224" => g::ALG_HMAC_SHA3_224,
        "HMAC_SHA3_256" => g::ALG_HMAC_SHA3_256,
        "HMAC_SHA3_384" => g::ALG_HMAC_SHA3_384,
        "HMAC_SHA3_512" => g::ALG_HMAC_SHA3_512,
        "HMAC_SM3" => g::ALG_HMAC_SM3,
        "AES_CMAC" => g::ALG_AES_CMAC,
        "DES3_CMAC" => g::ALG_DES3_CMAC,
        "AES_CBC_MAC_NOPAD" => g::ALG_AES_CBC_MAC_NOPAD,
        "AES_CBC_MAC_PKCS5" => g::ALG_AES_CBC_MAC_PKCS5,
        "DES_CBC_MAC_NOPAD" => g::ALG_DES_CBC_MAC_NOPAD,
        "DES_CBC_MAC_PKCS5" => g::ALG_DES_CBC_MAC_PKCS5,
        "DES3_CBC_MAC_NOPAD" => g::ALG_DES3_CBC_MAC_NOPAD,
        "DES3_CBC_MAC_PKCS5" => g::ALG_DES3_CBC_MAC_PKCS5,
        "AES_ECB_NOPAD" => g::ALG_AES_ECB_NOPAD,
        "AES_CBC_NOPAD" => g::ALG_AES_CBC_NOPAD,
        "AES_CTR" => g::ALG_AES_CTR,
        "AES_CTS" => g::ALG_AES_CTS,
        "AES_XTS" => g::ALG_AES_XTS,
        "DES_ECB_NOPAD" => g::ALG_DES_ECB_NOPAD,
        "DES_CBC_NOPAD" => g::ALG_DES_CBC_NOPAD,
        "DES3_ECB_NOPAD" => g::ALG_DES3_ECB_NOPAD,
        "DES3_CBC_NOPAD" => g::ALG_DES3_CBC_NOPAD,
        "SM4_ECB_NOPAD" => g::ALG_SM4_ECB_NOPAD,
        "SM4_CBC_NOPAD" => g::ALG_SM4_CBC_NOPAD,
        "SM4_CTR" => g::ALG_SM4_CTR,
        "SM4_XTS" => g::ALG_SM4_XTS,
        "AES_GCM" => g::ALG_AES_GCM,
        "AES_CCM" => g::ALG_AES_CCM,
        "RSASSA_PKCS1_V1_5_SHA1" => g::ALG_RSASSA_PKCS1_V1_5_SHA1,
        "RSASSA_PKCS1_V1_5_SHA224" => g::ALG_RSASSA_PKCS1_V1_5_SHA224,
        "RSASSA_PKCS1_V1_5_SHA256" => g::ALG_RSASSA_PKCS1_V1_5_SHA256,
        "RSASSA_PKCS1_V1_5_SHA384" => g::ALG_RSASSA_PKCS1_V1_5_SHA384,
        "RSASSA_PKCS1_V1_5_SHA512" => g::ALG_RSASSA_PKCS1_V1_5_SHA512,
        "RSASSA_PKCS1_PSS_MGF1_SHA1" => g::ALG_RSASSA_PKCS1_PSS_MGF1_SHA1,
        "RSASSA_PKCS1_PSS_MGF1_SHA224" => g::ALG_RSASSA_PKCS1_PSS_MGF1_SHA224,
        "RSASSA_PKCS1_PSS_MGF1_SHA256" => g::ALG_RSASSA_PKCS1_PSS_MGF1_SHA256,
        "RSASSA_PKCS1_PSS_MGF1_SHA384" => g::ALG_RSASSA_PKCS1_PSS_MGF1_SHA384,
        "RSASSA_PKCS1_PSS_MGF1_SHA512" => g::ALG_RSASSA_PKCS1_PSS_MGF1_SHA512,
        "RSAES_PKCS1_OAEP_MGF1_SHA1" => g::ALG_RSAES_PKCS1_OAEP_MGF1_SHA1,
        "RSAES_PKCS1_OAEP_MGF1_SHA256" => g::ALG_RSAES_PKCS1_OAEP_MGF1_SHA256,
        "RSAES_PKCS1_V1_5" => g::ALG_RSAES_PKCS1_V1_5,
        "RSA_NOPAD" => g::ALG_RSA_NOPAD,
        "DSA_SHA1" => g::ALG_DSA_SHA1,
        "DSA_SHA256" => g::ALG_DSA_SHA256,
        "ECDSA_SHA1" => g::ALG_ECDSA_SHA1,
        "ECDSA_SHA224" => g::ALG_ECDSA_SHA224,
        "ECDSA_SHA256" => g::ALG_ECDSA_SHA256,
        "ECDSA_SHA384" => g::ALG_ECDSA_SHA384,
        "ECDSA_SHA512" => g::ALG_ECDSA_SHA512,
        "HKDF_SHA1_DERIVE_KEY" => g::ALG_HKDF_SHA1_DERIVE_KEY,
        "HKDF_SHA256_DERIVE_KEY" => g::ALG_HKDF_SHA256_DERIVE_KEY,
        "HKDF_SHA512_DERIVE_KEY" => g::ALG_HKDF_SHA512_DERIVE_KEY,
        "PBKDF2_HMAC_SHA1_DERIVE_KEY" => g::ALG_PBKDF2_HMAC_SHA1_DERIVE_KEY,
        "PBKDF2_HMAC_SHA256_DERIVE_KEY" => g::ALG_PBKDF2_HMAC_SHA256_DERIVE_KEY,
        "PBKDF2_HMAC_SHA512_DERIVE_KEY" => g::ALG_PBKDF2_HMAC_SHA512_DERIVE_KEY,
        "CONCAT_KDF_SHA1_DERIVE_KEY" => g::ALG_CONCAT_KDF_SHA1_DERIVE_KEY,
        "CONCAT_KDF_SHA256_DERIVE_KEY" => g::ALG_CONCAT_KDF_SHA256_DERIVE_KEY,
        "CONCAT_KDF_SHA512_DERIVE_KEY" => g::ALG_CONCAT_KDF_SHA512_DERIVE_KEY,
        _ => return None,
    })
}

/// The key type a symmetric algorithm takes.
fn secret_key_type(algo: u32) -> u32 {
    match g::alg_main(algo) {
        g::MAIN_ALGO_AES => g::TYPE_AES,
        g::MAIN_ALGO_DES => g::TYPE_DES,
        g::MAIN_ALGO_DES3 => g::TYPE_DES3,
        g::MAIN_ALGO_SM4 => g::TYPE_SM4,
        // HMAC: TYPE_HMAC_x has the hash's main-algorithm number.
        m => 0xa000_0000 | m,
    }
}

/// An attribute list in the TA's format.
#[derive(Clone, Default)]
pub struct Attrs(Vec<u8>);

impl Attrs {
    fn new() -> Attrs {
        Attrs::default()
    }

    fn push(&mut self, id: u32, data: &[u8]) {
        self.0.extend_from_slice(&c::encode_attr_header(id, data.len() as u32));
        self.0.extend_from_slice(data);
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }

    fn r(mut self, id: u32, data: &[u8]) -> Attrs {
        self.push(id, data);
        self
    }

    fn v(mut self, id: u32, a: u32, b: u32) -> Attrs {
        let mut d = a.to_le_bytes().to_vec();
        d.extend_from_slice(&b.to_le_bytes());
        self.push(id, &d);
        self
    }
}

/// A one-shot or benchmark request.
#[derive(Clone, Default)]
pub struct Req(Attrs);

impl Req {
    fn new() -> Req {
        Req::default()
    }

    fn bytes(mut self, t: Tag, data: &[u8]) -> Req {
        self.0.push(t as u32, data);
        self
    }

    fn num(self, t: Tag, v: u32) -> Req {
        self.bytes(t, &v.to_le_bytes())
    }

    fn key(self, obj_type: u32, bits: u32, attrs: &Attrs) -> Req {
        self.num(Tag::KeyType, obj_type).num(Tag::KeySize, bits).bytes(Tag::KeyAttrs, &attrs.0)
    }

    fn key2(self, obj_type: u32, bits: u32, attrs: &Attrs) -> Req {
        self.num(Tag::Key2Type, obj_type).num(Tag::Key2Size, bits).bytes(Tag::Key2Attrs, &attrs.0)
    }

    fn op_attrs(self, attrs: &Attrs) -> Req {
        self.bytes(Tag::OpAttrs, &attrs.0)
    }

    fn derived(self, bits: u32) -> Req {
        self.num(Tag::DerivedType, g::TYPE_GENERIC_SECRET).num(Tag::DerivedSize, bits)
    }
}

fn vin<'a>(a: u32, b: u32) -> Param<'a> {
    ParamValue::new(a, b, Dir::In)
}

fn vout<'a>() -> Param<'a> {
    ParamValue::new(0, 0, Dir::Out)
}

/// An input memref, or none for an empty input.
fn min(buf: &mut [u8]) -> Param<'_> {
    if buf.is_empty() { ParamNone::new() } else { ParamTmpRef::new_input(buf) }
}

/// A failed call: (code, size the output memref reported).
type Fail = (u32, usize);

/// A session to the crypto test TA, one method per command.
pub struct Ta<'c> {
    ctx: &'c Context,
    s: Session<'c>,
}

impl<'c> Ta<'c> {
    pub fn open(ctx: &'c Context) -> Result<Ta<'c>, u32> {
        ctx.open_session(c::UUID).map(|s| Ta { ctx, s }).map_err(|e| e.code)
    }

    /// The command's result. After TARGET_DEAD (the call failed and its
    /// instance is gone) a new session carries on with the next cases.
    fn call(&mut self, cmd: u32, o: &mut Operation) -> u32 {
        match self.s.invoke_command(cmd, o) {
            Ok(()) => SUCCESS,
            Err(e) => {
                if e.code == TARGET_DEAD
                    && cmd != c::CMD_PANIC_AFTER_ALLOC
                    && let Ok(s) = self.ctx.open_session(c::UUID)
                {
                    println!("xtest: crypto test TA died in command {cmd}; carrying on in a new session");
                    self.s = s;
                }
                e.code
            }
        }
    }

    fn done(&mut self, cmd: u32, p0: Param, p1: Param) -> u32 {
        self.call(cmd, &mut Operation::new(0, p0, p1, ParamNone::new(), ParamNone::new()))
    }

    /// A whole operation: (output, tag) or (code, size reported).
    pub fn oneshot(
        &mut self,
        algo: u32,
        mode: u32,
        req: &Req,
        out_len: usize,
        tag_len: usize,
    ) -> Result<(Vec<u8>, Vec<u8>), Fail> {
        let mut r = req.0.0.clone();
        let mut out = vec![0u8; out_len];
        let mut tag = vec![0u8; tag_len];
        let (code, n, t) = {
            let p3 = if tag_len > 0 { ParamTmpRef::new_output(&mut tag) } else { ParamNone::new() };
            let p2 =
                if out_len > 0 { ParamTmpRef::new_output(&mut out) } else { Param::Null { dir: Dir::Out, size: 0 } };
            let mut o = Operation::new(0, vin(algo, mode), ParamTmpRef::new_input(&mut r), p2, p3);
            let code = self.call(c::CMD_ONESHOT, &mut o);
            (code, o.params[2].size().unwrap_or(0), o.params[3].size().unwrap_or(0))
        };
        if code != SUCCESS {
            return Err((code, n));
        }
        out.truncate(n);
        tag.truncate(t);
        Ok((out, tag))
    }

    fn value_out(&mut self, cmd: u32, p0: Param, p1: Param, at: usize) -> Result<u32, u32> {
        let mut o = match at {
            1 => Operation::new(0, p0, vout(), ParamNone::new(), ParamNone::new()),
            _ => Operation::new(0, p0, p1, vout(), ParamNone::new()),
        };
        let code = self.call(cmd, &mut o);
        if code == SUCCESS { Ok(o.params[at].value().map_or(0, |v| v.0)) } else { Err(code) }
    }

    pub fn obj_alloc(&mut self, t: u32, bits: u32) -> Result<u32, u32> {
        self.value_out(c::CMD_OBJ_ALLOC, vin(t, bits), ParamNone::new(), 1)
    }

    pub fn populate(&mut self, obj: u32, attrs: &Attrs) -> u32 {
        let mut a = attrs.0.clone();
        self.done(c::CMD_OBJ_POPULATE, vin(obj, 0), min(&mut a))
    }

    pub fn generate(&mut self, obj: u32, bits: u32, attrs: &Attrs) -> u32 {
        let mut a = attrs.0.clone();
        self.done(c::CMD_OBJ_GENERATE, vin(obj, bits), min(&mut a))
    }

    /// A key object of `t` with `attrs`.
    pub fn key(&mut self, t: u32, bits: u32, attrs: &Attrs) -> Result<u32, u32> {
        let k = self.obj_alloc(t, bits)?;
        match self.populate(k, attrs) {
            SUCCESS => Ok(k),
            e => {
                self.close(k);
                Err(e)
            }
        }
    }

    pub fn get_attr(&mut self, obj: u32, id: u32, len: usize) -> Result<Vec<u8>, Fail> {
        let mut buf = vec![0u8; len];
        let (code, n) = {
            let p1 = if len > 0 { ParamTmpRef::new_output(&mut buf) } else { Param::Null { dir: Dir::Out, size: 0 } };
            let mut o = Operation::new(0, vin(obj, id), p1, ParamNone::new(), ParamNone::new());
            let code = self.call(c::CMD_OBJ_GET_ATTR, &mut o);
            (code, o.params[1].size().unwrap_or(0))
        };
        if code != SUCCESS {
            return Err((code, n));
        }
        buf.truncate(n);
        Ok(buf)
    }

    /// (type, size, max size, usage, handle flags).
    pub fn info(&mut self, obj: u32) -> Result<[u32; 7], u32> {
        let mut buf = [0u8; 28];
        let code = self.done(c::CMD_OBJ_GET_INFO, vin(obj, 0), ParamTmpRef::new_output(&mut buf));
        if code != SUCCESS {
            return Err(code);
        }
        let mut v = [0u32; 7];
        for (i, w) in v.iter_mut().enumerate() {
            *w = u32::from_le_bytes(buf[4 * i..4 * i + 4].try_into().unwrap_or_default());
        }
        Ok(v)
    }

    pub fn restrict(&mut self, obj: u32, usage: u32) -> u32 {
        self.done(c::CMD_OBJ_RESTRICT, vin(obj, usage), ParamNone::new())
    }

    pub fn copy(&mut self, dst: u32, src: u32) -> u32 {
        self.done(c::CMD_OBJ_COPY, vin(dst, src), ParamNone::new())
    }

    pub fn reset(&mut self, obj: u32) -> u32 {
        self.done(c::CMD_OBJ_RESET, vin(obj, 0), ParamNone::new())
    }

    pub fn close(&mut self, obj: u32) -> u32 {
        self.done(c::CMD_OBJ_CLOSE, vin(obj, 0), ParamNone::new())
    }

    pub fn state(&mut self, algo: u32, mode: u32, k1: u32, k2: u32) -> Result<u32, u32> {
        self.value_out(c::CMD_STATE_ALLOC, vin(algo, mode), vin(k1, k2), 2)
    }

    pub fn free(&mut self, st: u32) -> u32 {
        self.done(c::CMD_STATE_FREE, vin(st, 0), ParamNone::new())
    }

    pub fn state_copy(&mut self, dst: u32, src: u32) -> u32 {
        self.done(c::CMD_STATE_COPY, vin(dst, src), ParamNone::new())
    }

    pub fn with_input(&mut self, cmd: u32, st: u32, data: &[u8]) -> u32 {
        let mut d = data.to_vec();
        self.done(cmd, vin(st, 0), min(&mut d))
    }

    /// A command with p0 = state, p1 = input, p2 = output of `len`.
    pub fn in_out(&mut self, cmd: u32, st: u32, data: &[u8], len: usize) -> Result<Vec<u8>, Fail> {
        let mut d = data.to_vec();
        let mut out = vec![0u8; len];
        let (code, n) = {
            let p2 = if len > 0 { ParamTmpRef::new_output(&mut out) } else { Param::Null { dir: Dir::Out, size: 0 } };
            let mut o = Operation::new(0, vin(st, 0), min(&mut d), p2, ParamNone::new());
            let code = self.call(cmd, &mut o);
            (code, o.params[2].size().unwrap_or(0))
        };
        if code != SUCCESS {
            return Err((code, n));
        }
        out.truncate(n);
        Ok(out)
    }

    pub fn asymm_verify(&mut self, st: u32, attrs: &Attrs, data: &[u8], sig: &[u8]) -> u32 {
        let (mut a, mut d, mut s) = (attrs.0.clone(), data.to_vec(), sig.to_vec());
        let mut o = Operation::new(0, vin(st, 0), min(&mut a), min(&mut d), min(&mut s));
        self.call(c::CMD_ASYMM_VERIFY, &mut o)
    }

    pub fn asymm_operate(&mut self, st: u32, attrs: &Attrs, data: &[u8], len: usize) -> Result<Vec<u8>, Fail> {
        let (mut a, mut d) = (attrs.0.clone(), data.to_vec());
        let mut out = vec![0u8; len];
        let (code, n) = {
            let p3 = if len > 0 { ParamTmpRef::new_output(&mut out) } else { Param::Null { dir: Dir::Out, size: 0 } };
            let mut o = Operation::new(0, vin(st, 0), min(&mut a), min(&mut d), p3);
            let code = self.call(c::CMD_ASYMM_OPERATE, &mut o);
            (code, o.params[3].size().unwrap_or(0))
        };
        if code != SUCCESS {
            return Err((code, n));
        }
        out.truncate(n);
        Ok(out)
    }

    pub fn ae_init(&mut self, st: u32, nonce: &[u8], tag_len: u32, aad_len: u32, payload_len: u32) -> u32 {
        let mut n = nonce.to_vec();
        let mut o = Operation::new(0, vin(st, tag_len), min(&mut n), vin(aad_len, payload_len), ParamNone::new());
        self.call(c::CMD_AE_INIT, &mut o)
    }

    pub fn ae_dec_final(&mut self, st: u32, data: &[u8], tag: &[u8], len: usize) -> Result<Vec<u8>, Fail> {
        let (mut d, mut t) = (data.to_vec(), tag.to_vec());
        let mut out = vec![0u8; len];
        let (code, n) = {
            let p2 = if len > 0 { ParamTmpRef::new_output(&mut out) } else { Param::Null { dir: Dir::Out, size: 0 } };
            let mut o = Operation::new(0, vin(st, 0), min(&mut d), p2, min(&mut t));
            let code = self.call(c::CMD_AE_DEC_FINAL, &mut o);
            (code, o.params[2].size().unwrap_or(0))
        };
        if code != SUCCESS {
            return Err((code, n));
        }
        out.truncate(n);
        Ok(out)
    }

    pub fn random(&mut self, len: usize) -> Result<Vec<u8>, u32> {
        let mut out = vec![0u8; len];
        let code = self.call(
            c::CMD_RANDOM,
            &mut Operation::new(
                0,
                ParamTmpRef::new_output(&mut out),
                ParamNone::new(),
                ParamNone::new(),
                ParamNone::new(),
            ),
        );
        if code == SUCCESS { Ok(out) } else { Err(code) }
    }

    /// CMD_BENCH: the code, and how many iterations ran.
    pub fn bench(&mut self, algo: u32, mode: u32, req: &Req, iterations: u32, kind: u32) -> (u32, u32) {
        let mut r = req.0.0.clone();
        let mut o = Operation::new(0, vin(algo, mode), ParamTmpRef::new_input(&mut r), vin(iterations, kind), vout());
        let code = self.call(c::CMD_BENCH, &mut o);
        (code, o.params[3].value().map_or(0, |v| v.0))
    }
}

fn name_of(v: &Vector, extra: &str) -> String {
    let mut n = format!("crypto {} {}", v.kind, extra);
    if let Some(a) = v.fields.get("alg") {
        n = format!("crypto {} {} {}", v.kind, a, extra);
    }
    n
}

/// Checks a one-shot result against `want`.
fn expect(name: &str, got: Result<(Vec<u8>, Vec<u8>), Fail>, want: &[u8]) {
    match got {
        Ok((out, _)) => check(out == want, name, format_args!("got {}, want {}", hex(&out), hex(want))),
        Err((code, n)) => check(false, name, format_args!("error {:#010x} (size {n})", code)),
    }
}

/// A result that was made (or not) against the bytes it should be.
fn same(name: &str, got: Option<Vec<u8>>, want: &[u8]) {
    match got {
        Some(g) => check(g == want, name, format_args!("got {}, want {}", hex(&g), hex(want))),
        None => check(false, name, format_args!("none made (see the failure above)")),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn digests(ta: &mut Ta) {
    for (i, v) in vectors(DIGESTS).iter().enumerate() {
        let Some(a) = alg(&v.kind) else { return check(false, "digest vector", format_args!("{}", v.kind)) };
        let (msg, want) = (v.hex("msg"), v.hex("out"));
        let name = format!("crypto {} #{i} ({} bytes)", v.kind, msg.len());
        let req = Req::new().bytes(Tag::Input, &msg);
        expect(&name, ta.oneshot(a, g::MODE_DIGEST, &req, want.len(), 0), &want);
        if msg.len() > 7 {
            let req = req.num(Tag::Chunk, 7);
            expect(&format!("{name} in 7-byte updates"), ta.oneshot(a, g::MODE_DIGEST, &req, want.len(), 0), &want);
        }
    }
}

fn macs(ta: &mut Ta) {
    for (i, v) in vectors(MACS).iter().enumerate() {
        let Some(a) = alg(&v.kind) else { return check(false, "MAC vector", format_args!("{}", v.kind)) };
        let (key, msg, want) = (v.hex("key"), v.hex("msg"), v.hex("out"));
        let name = format!("crypto {} #{i} (key {} bytes, {} bytes)", v.kind, key.len(), msg.len());
        let req = Req::new()
            .key(secret_key_type(a), key.len() as u32 * 8, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key))
            .bytes(Tag::Iv, &v.hex("iv"))
            .bytes(Tag::Input, &msg);
        expect(&name, ta.oneshot(a, g::MODE_MAC, &req, want.len(), 0), &want);
        if msg.len() > 5 {
            let req = req.num(Tag::Chunk, 5);
            expect(&format!("{name} in 5-byte updates"), ta.oneshot(a, g::MODE_MAC, &req, want.len(), 0), &want);
        }
    }
}

/// A cipher or AE request with the vector's key(s).
fn sym_req(algo: u32, v: &Vector) -> Req {
    let key = v.hex("key");
    let t = secret_key_type(algo);
    let mut req = Req::new().key(t, key.len() as u32 * 8, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key));
    if v.has("key2") {
        let k2 = v.hex("key2");
        req = req.key2(t, k2.len() as u32 * 8, &Attrs::new().r(g::ATTR_SECRET_VALUE, &k2));
    }
    req.bytes(Tag::Iv, &v.hex("iv"))
}

fn ciphers(ta: &mut Ta) {
    for (i, v) in vectors(CIPHERS).iter().enumerate() {
        let Some(a) = alg(&v.kind) else { return check(false, "cipher vector", format_args!("{}", v.kind)) };
        let (msg, ct) = (v.hex("msg"), v.hex("out"));
        let name = format!("crypto {} #{i} ({} bytes)", v.kind, msg.len());
        let base = sym_req(a, v);
        let enc = base.clone().bytes(Tag::Input, &msg);
        expect(&format!("{name} encrypt"), ta.oneshot(a, g::MODE_ENCRYPT, &enc, msg.len() + 32, 0), &ct);
        let dec = base.clone().bytes(Tag::Input, &ct);
        expect(&format!("{name} decrypt"), ta.oneshot(a, g::MODE_DECRYPT, &dec, ct.len() + 32, 0), &msg);
        // CTS steals from the last full block: the final call takes the
        // last two blocks (17 to 32 bytes).
        let tail = if a == g::ALG_AES_CTS { 17 } else { 1 };
        if msg.len() > 16 + tail {
            let enc = enc.num(Tag::Chunk, 16).num(Tag::Tail, tail as u32);
            expect(
                &format!("{name} encrypt in 16-byte updates"),
                ta.oneshot(a, g::MODE_ENCRYPT, &enc, msg.len() + 32, 0),
                &ct,
            );
        }
    }
}

fn aes_ae(ta: &mut Ta) {
    for (i, v) in vectors(AES).iter().enumerate() {
        let Some(a) = alg(&v.kind) else { return check(false, "AE vector", format_args!("{}", v.kind)) };
        let (msg, ct, tag) = (v.hex("msg"), v.hex("out"), v.hex("tag"));
        let name = format!("crypto {} #{i} ({} bytes, tag {})", v.kind, msg.len(), tag.len());
        let base = sym_req(a, v).bytes(Tag::Aad, &v.hex("aad")).num(Tag::TagLen, tag.len() as u32);
        let enc = base.clone().bytes(Tag::Input, &msg);
        match ta.oneshot(a, g::MODE_ENCRYPT, &enc, msg.len() + 16, tag.len()) {
            Ok((out, t)) => {
                check(out == ct, &format!("{name} encrypt"), format_args!("got {}, want {}", hex(&out), hex(&ct)));
                check(t == tag, &format!("{name} tag"), format_args!("got {}, want {}", hex(&t), hex(&tag)));
            }
            Err(e) => check(false, &format!("{name} encrypt"), format_args!("{e:x?}")),
        }
        let dec = base.clone().bytes(Tag::Input, &ct).bytes(Tag::Check, &tag);
        expect(&format!("{name} decrypt"), ta.oneshot(a, g::MODE_DECRYPT, &dec, ct.len() + 16, 0), &msg);
        if msg.len() > 16 {
            let dec = dec.num(Tag::Chunk, 16);
            expect(
                &format!("{name} decrypt in 16-byte updates"),
                ta.oneshot(a, g::MODE_DECRYPT, &dec, ct.len() + 16, 0),
                &msg,
            );
        }
        let mut bad = tag.clone();
        if let Some(b) = bad.first_mut() {
            *b ^= 1;
        }
        let dec = base.bytes(Tag::Input, &ct).bytes(Tag::Check, &bad);
        let r = ta.oneshot(a, g::MODE_DECRYPT, &dec, ct.len() + 16, 0).map(|_| ()).map_err(|e| e.0);
        eq(&format!("{name} bad tag: MAC_INVALID"), r, Err(MAC_INVALID));
    }
}

fn rsa_keys(v: &[Vector]) -> HashMap<String, (Attrs, Attrs, u32)> {
    v.iter()
        .filter(|v| v.kind == "rsa-key")
        .map(|v| {
            let n = v.hex("n");
            let bits = n.len() as u32 * 8;
            let public = Attrs::new().r(g::ATTR_RSA_MODULUS, &n).r(g::ATTR_RSA_PUBLIC_EXPONENT, &v.hex("e"));
            let pair = public
                .clone()
                .r(g::ATTR_RSA_PRIVATE_EXPONENT, &v.hex("d"))
                .r(g::ATTR_RSA_PRIME1, &v.hex("p"))
                .r(g::ATTR_RSA_PRIME2, &v.hex("q"))
                .r(g::ATTR_RSA_EXPONENT1, &v.hex("dp"))
                .r(g::ATTR_RSA_EXPONENT2, &v.hex("dq"))
                .r(g::ATTR_RSA_COEFFICIENT, &v.hex("qi"));
            (v.text("id"), (public, pair, bits))
        })
        .collect()
}

/// Sign with `pair`, then verify with `public`: the signature must pass,
/// a corrupted one must be SIGNATURE_INVALID.
#[allow(clippy::too_many_arguments)]
fn sign_verify(
    ta: &mut Ta,
    name: &str,
    a: u32,
    pair: (u32, &Attrs),
    public: (u32, &Attrs),
    bits: u32,
    digest: &[u8],
    sig_len: usize,
    op: &Attrs,
) -> Option<Vec<u8>> {
    let sign = Req::new().key(pair.0, bits, pair.1).bytes(Tag::Input, digest).op_attrs(op);
    let sig = match ta.oneshot(a, g::MODE_SIGN, &sign, sig_len, 0) {
        Ok((s, _)) => s,
        Err(e) => {
            check(false, &format!("{name} sign"), format_args!("{e:x?}"));
            return None;
        }
    };
    verify(ta, &format!("{name} sign -> verify"), a, public, bits, digest, &sig, op);
    Some(sig)
}

#[allow(clippy::too_many_arguments)]
fn verify(ta: &mut Ta, name: &str, a: u32, public: (u32, &Attrs), bits: u32, digest: &[u8], sig: &[u8], op: &Attrs) {
    let req = Req::new().key(public.0, bits, public.1).bytes(Tag::Input, digest).op_attrs(op);
    let r = ta.oneshot(a, g::MODE_VERIFY, &req.clone().bytes(Tag::Check, sig), 0, 0).map(|_| ()).map_err(|e| e.0);
    eq(name, r, Ok(()));
    let mut bad = sig.to_vec();
    if let Some(b) = bad.last_mut() {
        *b ^= 0x10;
    }
    let r = ta.oneshot(a, g::MODE_VERIFY, &req.bytes(Tag::Check, &bad), 0, 0).map(|_| ()).map_err(|e| e.0);
    eq(&format!("{name}: corrupted signature is SIGNATURE_INVALID"), r, Err(SIGNATURE_INVALID));
}

fn asymmetric(ta: &mut Ta) {
    let all = vectors(ASYM);
    let keys = rsa_keys(&all);
    let none = Attrs::new();
    for v in &all {
        let a = alg(v.str("alg")).unwrap_or(0);
        match v.kind.as_str() {
            "rsa-sign" | "rsa-verify" => {
                let Some((public, pair, bits)) = keys.get(&v.text("key")) else { continue };
                let name = name_of(v, &format!("{bits} bits"));
                let (digest, sig) = (v.hex("digest"), v.hex("sig"));
                verify(
                    ta,
                    &format!("{name} known signature"),
                    a,
                    (g::TYPE_RSA_PUBLIC_KEY, public),
                    *bits,
                    &digest,
                    &sig,
                    &none,
                );
                let mine = sign_verify(
                    ta,
                    &name,
                    a,
                    (g::TYPE_RSA_KEYPAIR, pair),
                    (g::TYPE_RSA_PUBLIC_KEY, public),
                    *bits,
                    &digest,
                    sig.len(),
                    &none,
                );
                if v.kind == "rsa-sign" {
                    same(&format!("{name} deterministic signature is the known one"), mine, &sig);
                }
            }
            "rsa-dec" => {
                let Some((public, pair, bits)) = keys.get(&v.text("key")) else { continue };
                let name = name_of(v, &format!("{bits} bits"));
                let (ct, msg) = (v.hex("ct"), v.hex("msg"));
                let dec = Req::new().key(g::TYPE_RSA_KEYPAIR, *bits, pair).bytes(Tag::Input, &ct);
                expect(&format!("{name} decrypt known"), ta.oneshot(a, g::MODE_DECRYPT, &dec, ct.len(), 0), &msg);
                let enc = Req::new().key(g::TYPE_RSA_PUBLIC_KEY, *bits, public).bytes(Tag::Input, &msg);
                match ta.oneshot(a, g::MODE_ENCRYPT, &enc, ct.len(), 0) {
                    Ok((c2, _)) => {
                        let dec = Req::new().key(g::TYPE_RSA_KEYPAIR, *bits, pair).bytes(Tag::Input, &c2);
                        expect(
                            &format!("{name} encrypt -> decrypt"),
                            ta.oneshot(a, g::MODE_DECRYPT, &dec, ct.len(), 0),
                            &msg,
                        );
                    }
                    Err(e) => check(false, &format!("{name} encrypt"), format_args!("{e:x?}")),
                }
            }
            "dsa" => {
                let (p, q) = (v.hex("p"), v.hex("q"));
                let bits = p.len() as u32 * 8;
                let public = Attrs::new()
                    .r(g::ATTR_DSA_PRIME, &p)
                    .r(g::ATTR_DSA_SUBPRIME, &q)
                    .r(g::ATTR_DSA_BASE, &v.hex("g"))
                    .r(g::ATTR_DSA_PUBLIC_VALUE, &v.hex("y"));
                let pair = public.clone().r(g::ATTR_DSA_PRIVATE_VALUE, &v.hex("x"));
                let name = name_of(v, &format!("{bits} bits"));
                let (digest, sig) = (v.hex("digest"), v.hex("sig"));
                verify(
                    ta,
                    &format!("{name} known signature"),
                    a,
                    (g::TYPE_DSA_PUBLIC_KEY, &public),
                    bits,
                    &digest,
                    &sig,
                    &none,
                );
                sign_verify(
                    ta,
                    &name,
                    a,
                    (g::TYPE_DSA_KEYPAIR, &pair),
                    (g::TYPE_DSA_PUBLIC_KEY, &public),
                    bits,
                    &digest,
                    sig.len(),
                    &none,
                );
            }
            "ecdsa" => {
                let (curve, bits) = curve_bits(v.num("curve"));
                let public = Attrs::new()
                    .v(g::ATTR_ECC_CURVE, curve, 0)
                    .r(g::ATTR_ECC_PUBLIC_VALUE_X, &v.hex("x"))
                    .r(g::ATTR_ECC_PUBLIC_VALUE_Y, &v.hex("y"));
                let pair = public.clone().r(g::ATTR_ECC_PRIVATE_VALUE, &v.hex("d"));
                let name = name_of(v, &format!("P-{bits}"));
                let (digest, sig) = (v.hex("digest"), v.hex("sig"));
                verify(
                    ta,
                    &format!("{name} known signature"),
                    a,
                    (g::TYPE_ECDSA_PUBLIC_KEY, &public),
                    bits,
                    &digest,
                    &sig,
                    &none,
                );
                sign_verify(
                    ta,
                    &name,
                    a,
                    (g::TYPE_ECDSA_KEYPAIR, &pair),
                    (g::TYPE_ECDSA_PUBLIC_KEY, &public),
                    bits,
                    &digest,
                    sig.len(),
                    &none,
                );
            }
            "ecdh" => {
                let (curve, bits) = curve_bits(v.num("curve"));
                let pair = Attrs::new()
                    .v(g::ATTR_ECC_CURVE, curve, 0)
                    .r(g::ATTR_ECC_PRIVATE_VALUE, &v.hex("d"))
                    .r(g::ATTR_ECC_PUBLIC_VALUE_X, &v.hex("x"))
                    .r(g::ATTR_ECC_PUBLIC_VALUE_Y, &v.hex("y"));
                let peer = Attrs::new()
                    .r(g::ATTR_ECC_PUBLIC_VALUE_X, &v.hex("px"))
                    .r(g::ATTR_ECC_PUBLIC_VALUE_Y, &v.hex("py"));
                let z = v.hex("z");
                let req = Req::new().key(g::TYPE_ECDH_KEYPAIR, bits, &pair).op_attrs(&peer).derived(z.len() as u32 * 8);
                expect(
                    &format!("crypto ECDH P-{bits} shared secret"),
                    ta.oneshot(g::ALG_ECDH_DERIVE_SHARED_SECRET, g::MODE_DERIVE, &req, z.len(), 0),
                    &z,
                );
            }
            "dh" => {
                let p = v.hex("p");
                let bits = p.len() as u32 * 8;
                let pair = Attrs::new()
                    .r(g::ATTR_DH_PRIME, &p)
                    .r(g::ATTR_DH_BASE, &v.hex("g"))
                    .r(g::ATTR_DH_PUBLIC_VALUE, &v.hex("y"))
                    .r(g::ATTR_DH_PRIVATE_VALUE, &v.hex("x"));
                let peer = Attrs::new().r(g::ATTR_DH_PUBLIC_VALUE, &v.hex("peer"));
                let z = v.hex("z");
                let req = Req::new().key(g::TYPE_DH_KEYPAIR, bits, &pair).op_attrs(&peer).derived(z.len() as u32 * 8);
                expect(
                    &format!("crypto DH {bits} bits shared secret"),
                    ta.oneshot(g::ALG_DH_DERIVE_SHARED_SECRET, g::MODE_DERIVE, &req, z.len(), 0),
                    &z,
                );
            }
            "x25519" => {
                let pair = Attrs::new()
                    .r(g::ATTR_X25519_PRIVATE_VALUE, &v.hex("d"))
                    .r(g::ATTR_X25519_PUBLIC_VALUE, &v.hex("pub"));
                let peer = Attrs::new().r(g::ATTR_X25519_PUBLIC_VALUE, &v.hex("peer"));
                let z = v.hex("z");
                let req = Req::new().key(g::TYPE_X25519_KEYPAIR, 256, &pair).op_attrs(&peer).derived(256);
                expect("crypto X25519 RFC 7748 6.1", ta.oneshot(g::ALG_X25519, g::MODE_DERIVE, &req, 32, 0), &z);
            }
            "ed25519" => {
                let public = Attrs::new().r(g::ATTR_ED25519_PUBLIC_VALUE, &v.hex("pub"));
                let pair = public.clone().r(g::ATTR_ED25519_PRIVATE_VALUE, &v.hex("d"));
                let (msg, sig) = (v.hex("msg"), v.hex("sig"));
                let (variant, op) = if v.has("ctx") {
                    ("ctx", Attrs::new().r(g::ATTR_EDDSA_CTX, &v.hex("ctx")))
                } else if v.has("ph") {
                    ("ph", Attrs::new().v(g::ATTR_EDDSA_PREHASH, 1, 0))
                } else {
                    ("", Attrs::new())
                };
                let name = format!("crypto Ed25519{variant} RFC 8032 ({} bytes)", msg.len());
                verify(
                    ta,
                    &format!("{name} known signature"),
                    g::ALG_ED25519,
                    (g::TYPE_ED25519_PUBLIC_KEY, &public),
                    256,
                    &msg,
                    &sig,
                    &op,
                );
                let mine = sign_verify(
                    ta,
                    &name,
                    g::ALG_ED25519,
                    (g::TYPE_ED25519_KEYPAIR, &pair),
                    (g::TYPE_ED25519_PUBLIC_KEY, &public),
                    256,
                    &msg,
                    64,
                    &op,
                );
                same(&format!("{name} signature is the RFC's"), mine, &sig);
                if !variant.is_empty() {
                    continue;
                }
                // Ed25519ctx and Ed25519ph (RFC 8032 5.1): each verifies
                // under its own variant and not under plain Ed25519.
                for (what, op) in [
                    ("ctx", Attrs::new().r(g::ATTR_EDDSA_CTX, b"oxtee")),
                    ("ph", Attrs::new().v(g::ATTR_EDDSA_PREHASH, 1, 0)),
                ] {
                    let n = format!("{name} Ed25519{what}");
                    if let Some(s) = sign_verify(
                        ta,
                        &n,
                        g::ALG_ED25519,
                        (g::TYPE_ED25519_KEYPAIR, &pair),
                        (g::TYPE_ED25519_PUBLIC_KEY, &public),
                        256,
                        &msg,
                        64,
                        &op,
                    ) {
                        let req = Req::new()
                            .key(g::TYPE_ED25519_PUBLIC_KEY, 256, &public)
                            .bytes(Tag::Input, &msg)
                            .bytes(Tag::Check, &s);
                        let r = ta.oneshot(g::ALG_ED25519, g::MODE_VERIFY, &req, 0, 0).map(|_| ()).map_err(|e| e.0);
                        eq(&format!("{n}: not a plain Ed25519 signature"), r, Err(SIGNATURE_INVALID));
                    }
                }
            }
            _ => {}
        }
    }
}

/// (GP curve id, key size in bits) of the vector files' curve numbers.
fn curve_bits(n: u32) -> (u32, u32) {
    match n {
        1 => (g::ECC_CURVE_NIST_P192, 192),
        2 => (g::ECC_CURVE_NIST_P224, 224),
        3 => (g::ECC_CURVE_NIST_P256, 256),
        4 => (g::ECC_CURVE_NIST_P384, 384),
        _ => (g::ECC_CURVE_NIST_P521, 521),
    }
}

fn kdfs(ta: &mut Ta) {
    for v in vectors(KDFS) {
        let a = alg(v.str("alg")).unwrap_or(0);
        let (key_type, key_attr, ikm, params, out) = match v.kind.as_str() {
            "hkdf" => {
                let okm = v.hex("okm");
                let mut p = Attrs::new();
                if !v.hex("salt").is_empty() {
                    p = p.r(g::ATTR_HKDF_SALT, &v.hex("salt"));
                }
                if !v.hex("info").is_empty() {
                    p = p.r(g::ATTR_HKDF_INFO, &v.hex("info"));
                }
                p = p.v(g::ATTR_HKDF_OKM_LENGTH, okm.len() as u32, 0);
                (g::TYPE_HKDF_IKM, g::ATTR_HKDF_IKM, v.hex("ikm"), p, okm)
            }
            "pbkdf2" => {
                let out = v.hex("out");
                let p = Attrs::new()
                    .r(g::ATTR_PBKDF2_SALT, &v.hex("salt"))
                    .v(g::ATTR_PBKDF2_ITERATION_COUNT, v.num("iter"), 0)
                    .v(g::ATTR_PBKDF2_DKM_LENGTH, out.len() as u32, 0);
                (g::TYPE_PBKDF2_PASSWORD, g::ATTR_PBKDF2_PASSWORD, v.hex("pw"), p, out)
            }
            "concat" => {
                let out = v.hex("out");
                let mut p = Attrs::new();
                if !v.hex("info").is_empty() {
                    p = p.r(g::ATTR_CONCAT_KDF_OTHER_INFO, &v.hex("info"));
                }
                p = p.v(g::ATTR_CONCAT_KDF_DKM_LENGTH, out.len() as u32, 0);
                (g::TYPE_CONCAT_KDF_Z, g::ATTR_CONCAT_KDF_Z, v.hex("z"), p, out)
            }
            _ => continue,
        };
        let req = Req::new()
            .key(key_type, ikm.len() as u32 * 8, &Attrs::new().r(key_attr, &ikm))
            .op_attrs(&params)
            .derived(out.len() as u32 * 8);
        let name = name_of(&v, &format!("{} bytes", out.len()));
        expect(&name, ta.oneshot(a, g::MODE_DERIVE, &req, out.len(), 0), &out);
    }
}

/// SM2 (GB/T 32918): signatures and public-key encryption with a key the
/// kernel generates, each checked by the other direction.
fn sm2(ta: &mut Ta) {
    let digest: Vec<u8> = (0..32u8).collect();
    for (alg_id, pair_t, pub_t, what) in [
        (g::ALG_SM2_DSA_SM3, g::TYPE_SM2_DSA_KEYPAIR, g::TYPE_SM2_DSA_PUBLIC_KEY, "DSA"),
        (g::ALG_SM2_PKE, g::TYPE_SM2_PKE_KEYPAIR, g::TYPE_SM2_PKE_PUBLIC_KEY, "PKE"),
    ] {
        let name = format!("crypto SM2 {what}");
        let Ok(k) = ta.obj_alloc(pair_t, 256) else { return check(false, &name, format_args!("alloc")) };
        eq(&format!("{name} generate"), ta.generate(k, 256, &Attrs::new()), SUCCESS);
        let (x, y) = (ta.get_attr(k, g::ATTR_ECC_PUBLIC_VALUE_X, 32), ta.get_attr(k, g::ATTR_ECC_PUBLIC_VALUE_Y, 32));
        let (Ok(x), Ok(y)) = (x, y) else {
            return check(false, &format!("{name} public value"), format_args!("absent"));
        };
        // An SM2 public key is X and Y only (upstream's attribute table).
        let public = Attrs::new().r(g::ATTR_ECC_PUBLIC_VALUE_X, &x).r(g::ATTR_ECC_PUBLIC_VALUE_Y, &y);
        let Ok(pk) = ta.key(pub_t, 256, &public) else {
            return check(false, &format!("{name} public key"), format_args!("populate failed"));
        };
        if what == "DSA" {
            let s = ta.state(alg_id, g::MODE_SIGN, k, 0);
            let v = ta.state(alg_id, g::MODE_VERIFY, pk, 0);
            if let (Ok(s), Ok(v)) = (s, v) {
                match ta.asymm_operate(s, &Attrs::new(), &digest, 64) {
                    Ok(sig) => {
                        eq(
                            &format!("{name} sign -> verify"),
                            ta.asymm_verify(v, &Attrs::new(), &digest, &sig),
                            SUCCESS,
                        );
                        let mut bad = sig.clone();
                        bad[10] ^= 1;
                        eq(
                            &format!("{name} corrupted signature"),
                            ta.asymm_verify(v, &Attrs::new(), &digest, &bad),
                            SIGNATURE_INVALID,
                        );
                    }
                    Err(e) => check(false, &format!("{name} sign"), format_args!("{e:x?}")),
                }
                ta.free(s);
                ta.free(v);
            } else {
                check(false, &format!("{name} states"), format_args!("{s:x?} {v:x?}"));
            }
        } else {
            let e = ta.state(alg_id, g::MODE_ENCRYPT, pk, 0);
            let d = ta.state(alg_id, g::MODE_DECRYPT, k, 0);
            if let (Ok(e), Ok(d)) = (e, d) {
                let msg = b"oxtee SM2 public-key encryption";
                match ta.asymm_operate(e, &Attrs::new(), msg, 256) {
                    Ok(ct) => {
                        let back = ta.asymm_operate(d, &Attrs::new(), &ct, 256).map_err(|e| e.0);
                        eq(&format!("{name} encrypt -> decrypt"), back, Ok(msg.to_vec()));
                    }
                    Err(e) => check(false, &format!("{name} encrypt"), format_args!("{e:x?}")),
                }
                ta.free(e);
                ta.free(d);
            } else {
                check(false, &format!("{name} states"), format_args!("{e:x?} {d:x?}"));
            }
        }
        ta.close(pk);
        ta.close(k);
    }
}

/// Objects: info, attributes, usage restriction, copy, reset; random.
fn objects(ta: &mut Ta) {
    let key: Vec<u8> = (0..32u8).collect();
    let Ok(k) = ta.key(g::TYPE_AES, 256, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key)) else {
        return check(false, "crypto objects: AES key", format_args!("failed"));
    };
    match ta.info(k) {
        Ok(i) => {
            eq("crypto object info: type, size, max size", (i[0], i[1], i[2]), (g::TYPE_AES, 256, 256));
            check(
                i[6] & g::HANDLE_FLAG_INITIALIZED != 0,
                "crypto object info: initialized",
                format_args!("{:#x}", i[6]),
            );
        }
        Err(e) => check(false, "crypto object info", format_args!("{e:#x}")),
    }
    eq("crypto get secret (extractable)", ta.get_attr(k, g::ATTR_SECRET_VALUE, 32).map_err(|e| e.0), Ok(key.clone()));
    eq(
        "crypto get secret into a short buffer: SHORT_BUFFER with the size",
        ta.get_attr(k, g::ATTR_SECRET_VALUE, 8),
        Err((SHORT_BUFFER, 32)),
    );
    // Copy into a fresh object, then restrict the copy's usage.
    if let Ok(k2) = ta.obj_alloc(g::TYPE_AES, 256) {
        eq("crypto object copy", ta.copy(k2, k), SUCCESS);
        eq("crypto copied secret", ta.get_attr(k2, g::ATTR_SECRET_VALUE, 32).map_err(|e| e.0), Ok(key.clone()));
        eq("crypto restrict usage", ta.restrict(k2, g::USAGE_ENCRYPT), SUCCESS);
        let r = ta.get_attr(k2, g::ATTR_SECRET_VALUE, 32).map_err(|e| e.0);
        check(r.is_err(), "crypto secret of a non-extractable object is refused", format_args!("{r:x?}"));
        if let Ok(i) = ta.info(k2) {
            eq("crypto restricted usage", i[3], g::USAGE_ENCRYPT);
        }
        eq("crypto object reset", ta.reset(k2), SUCCESS);
        if let Ok(i) = ta.info(k2) {
            check(i[6] & g::HANDLE_FLAG_INITIALIZED == 0, "crypto reset: uninitialized", format_args!("{:#x}", i[6]));
        }
        eq("crypto close copy", ta.close(k2), SUCCESS);
    }
    // Key generation: sizes and public parts.
    if let Ok(r) = ta.obj_alloc(g::TYPE_RSA_KEYPAIR, 2048) {
        eq("crypto RSA-2048 generate", ta.generate(r, 2048, &Attrs::new()), SUCCESS);
        let n = ta.get_attr(r, g::ATTR_RSA_MODULUS, 512).map(|n| (n.len(), n.first().is_some_and(|b| b & 0x80 != 0)));
        eq("crypto generated modulus: 256 bytes, top bit set", n.map_err(|e| e.0), Ok((256, true)));
        ta.close(r);
    }
    // The largest RSA key: generated in the kernel (the deepest stack and
    // longest computation a TA can ask for), then a signature made with
    // its exported attributes verifies with its public half.
    if let Ok(r) = ta.obj_alloc(g::TYPE_RSA_KEYPAIR, 4096) {
        eq("crypto RSA-4096 generate", ta.generate(r, 4096, &Attrs::new()), SUCCESS);
        let ids = [
            g::ATTR_RSA_MODULUS,
            g::ATTR_RSA_PUBLIC_EXPONENT,
            g::ATTR_RSA_PRIVATE_EXPONENT,
            g::ATTR_RSA_PRIME1,
            g::ATTR_RSA_PRIME2,
            g::ATTR_RSA_EXPONENT1,
            g::ATTR_RSA_EXPONENT2,
            g::ATTR_RSA_COEFFICIENT,
        ];
        let parts: Vec<_> = ids.iter().map(|id| ta.get_attr(r, *id, 512)).collect();
        ta.close(r);
        if parts.iter().all(Result::is_ok) {
            let parts: Vec<Vec<u8>> = parts.into_iter().flatten().collect();
            let pair = ids.iter().zip(&parts).fold(Attrs::new(), |a, (id, v)| a.r(*id, v));
            let public = Attrs::new().r(ids[0], &parts[0]).r(ids[1], &parts[1]);
            let digest = [0x3cu8; 32];
            sign_verify(
                ta,
                "crypto RSA-4096 generated key, PSS-SHA256",
                g::ALG_RSASSA_PKCS1_PSS_MGF1_SHA256,
                (g::TYPE_RSA_KEYPAIR, &pair),
                (g::TYPE_RSA_PUBLIC_KEY, &public),
                4096,
                &digest,
                512,
                &Attrs::new(),
            );
        } else {
            check(false, "crypto RSA-4096 generated key: attributes", format_args!("{parts:x?}"));
        }
    }
    if let Ok(e) = ta.obj_alloc(g::TYPE_ECDSA_KEYPAIR, 256) {
        let attrs = Attrs::new().v(g::ATTR_ECC_CURVE, g::ECC_CURVE_NIST_P256, 0);
        eq("crypto P-256 generate", ta.generate(e, 256, &attrs), SUCCESS);
        eq(
            "crypto P-256 public X",
            ta.get_attr(e, g::ATTR_ECC_PUBLIC_VALUE_X, 32).map(|v| v.len()).map_err(|e| e.0),
            Ok(32),
        );
        ta.close(e);
    }
    for (t, bits) in
        [(g::TYPE_X25519_KEYPAIR, 256), (g::TYPE_ED25519_KEYPAIR, 256), (g::TYPE_HMAC_SHA256, 256), (g::TYPE_DES3, 192)]
    {
        if let Ok(o) = ta.obj_alloc(t, bits) {
            eq(&format!("crypto generate type {t:#x}"), ta.generate(o, bits, &Attrs::new()), SUCCESS);
            ta.close(o);
        } else {
            check(false, &format!("crypto alloc type {t:#x}"), format_args!("failed"));
        }
    }
    // Wrong key type for an algorithm; a public key where a private one
    // is needed.
    eq(
        "crypto cipher state without a key",
        ta.state(g::ALG_AES_CBC_NOPAD, g::MODE_ENCRYPT, 0, 0).err(),
        Some(BAD_PARAMETERS),
    );
    if let Ok(d) = ta.key(g::TYPE_DES, 64, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key[..8])) {
        eq(
            "crypto wrong key type (DES key, AES algorithm)",
            ta.state(g::ALG_AES_ECB_NOPAD, g::MODE_ENCRYPT, d, 0).err(),
            Some(BAD_PARAMETERS),
        );
        ta.close(d);
    }
    let rsa = rsa_keys(&vectors(ASYM));
    if let Some((public, _, bits)) = rsa.get("r2048")
        && let Ok(p) = ta.key(g::TYPE_RSA_PUBLIC_KEY, *bits, public)
    {
        eq(
            "crypto wrong mode (public RSA key for signing)",
            ta.state(g::ALG_RSASSA_PKCS1_V1_5_SHA256, g::MODE_SIGN, p, 0).err(),
            Some(BAD_PARAMETERS),
        );
        if let Ok(v) = ta.state(g::ALG_RSASSA_PKCS1_V1_5_SHA256, g::MODE_VERIFY, p, 0) {
            let r = ta.asymm_operate(v, &Attrs::new(), &[0; 32], 256).map_err(|e| e.0);
            check(
                r == Err(BAD_PARAMETERS) || r == Err(BAD_STATE),
                "crypto wrong mode (sign on a verify state)",
                format_args!("{r:x?}"),
            );
            ta.free(v);
        }
        ta.close(p);
    }
    // Hash calls on a cipher state.
    if let Ok(st) = ta.state(g::ALG_AES_ECB_NOPAD, g::MODE_ENCRYPT, k, 0) {
        let r = ta.with_input(c::CMD_HASH_UPDATE, st, b"abc");
        check(r == BAD_PARAMETERS || r == BAD_STATE, "crypto hash update on a cipher state", format_args!("{r:#x}"));
        ta.free(st);
    }
    ta.close(k);
    // Random numbers.
    match (ta.random(64), ta.random(64)) {
        (Ok(a), Ok(b)) => {
            check(a != b && a.iter().any(|x| *x != 0), "crypto random: two draws differ", format_args!("{}", hex(&a)));
        }
        other => check(false, "crypto random", format_args!("{other:x?}")),
    }
}

/// Short buffers with the size needed, multi-stage against one-shot, a
/// copied operation state.
fn stages(ta: &mut Ta) {
    let msg: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let want = ta.oneshot(g::ALG_SHA256, g::MODE_DIGEST, &Req::new().bytes(Tag::Input, &msg), 32, 0).map(|r| r.0);
    let Ok(want) = want else { return check(false, "crypto SHA-256 one-shot", format_args!("{want:x?}")) };
    let Ok(st) = ta.state(g::ALG_SHA256, g::MODE_DIGEST, 0, 0) else {
        return check(false, "crypto digest state", format_args!("failed"));
    };
    eq("crypto hash init", ta.with_input(c::CMD_HASH_INIT, st, &[]), SUCCESS);
    eq("crypto hash update 1", ta.with_input(c::CMD_HASH_UPDATE, st, &msg[..300]), SUCCESS);
    let copy = ta.state(g::ALG_SHA256, g::MODE_DIGEST, 0, 0);
    if let Ok(copy) = copy {
        eq("crypto state copy", ta.state_copy(copy, st), SUCCESS);
        eq("crypto copied state update", ta.with_input(c::CMD_HASH_UPDATE, copy, &msg[300..]), SUCCESS);
        eq(
            "crypto copied state final = one-shot",
            ta.in_out(c::CMD_HASH_FINAL, copy, &[], 32).map_err(|e| e.0),
            Ok(want.clone()),
        );
        ta.free(copy);
    }
    eq("crypto hash update 2", ta.with_input(c::CMD_HASH_UPDATE, st, &msg[300..900]), SUCCESS);
    eq(
        "crypto hash final into 16 bytes: SHORT_BUFFER with 32",
        ta.in_out(c::CMD_HASH_FINAL, st, &msg[900..], 16),
        Err((SHORT_BUFFER, 32)),
    );
    eq(
        "crypto multi-stage digest = one-shot",
        ta.in_out(c::CMD_HASH_FINAL, st, &msg[900..], 32).map_err(|e| e.0),
        Ok(want),
    );
    ta.free(st);

    // Cipher: updates into short buffers, and a copy of the state mid-way.
    let key = [0x11u8; 16];
    let iv = [0x22u8; 16];
    let req = Req::new()
        .key(g::TYPE_AES, 128, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key))
        .bytes(Tag::Iv, &iv)
        .bytes(Tag::Input, &msg[..64]);
    let Ok((ct, _)) = ta.oneshot(g::ALG_AES_CBC_NOPAD, g::MODE_ENCRYPT, &req, 64, 0) else {
        return check(false, "crypto AES-CBC one-shot", format_args!("failed"));
    };
    eq(
        "crypto one-shot into a short buffer: SHORT_BUFFER with the size",
        ta.oneshot(g::ALG_AES_CBC_NOPAD, g::MODE_ENCRYPT, &req, 40, 0).map(|_| ()),
        Err((SHORT_BUFFER, 64)),
    );
    // A key object serves one state at a time (upstream: busy).
    let Ok(k) = ta.key(g::TYPE_AES, 128, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key)) else { return };
    let Ok(k2) = ta.key(g::TYPE_AES, 128, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key)) else { return };
    let a = ta.state(g::ALG_AES_CBC_NOPAD, g::MODE_ENCRYPT, k, 0);
    eq(
        "crypto a second state on a busy key is refused",
        ta.state(g::ALG_AES_CBC_NOPAD, g::MODE_ENCRYPT, k, 0).err(),
        Some(BAD_PARAMETERS),
    );
    eq("crypto closing a busy key is refused", ta.close(k), TeeResult::ERROR_ITEM_NOT_FOUND.0);
    if let (Ok(a), Ok(b)) = (a, ta.state(g::ALG_AES_CBC_NOPAD, g::MODE_ENCRYPT, k2, 0)) {
        eq("crypto cipher init", ta.with_input(c::CMD_CIPHER_INIT, a, &iv), SUCCESS);
        eq(
            "crypto cipher update into a short buffer: SHORT_BUFFER with 32",
            ta.in_out(c::CMD_CIPHER_UPDATE, a, &msg[..32], 16),
            Err((SHORT_BUFFER, 32)),
        );
        eq(
            "crypto cipher update",
            ta.in_out(c::CMD_CIPHER_UPDATE, a, &msg[..32], 32).map_err(|e| e.0),
            Ok(ct[..32].to_vec()),
        );
        eq("crypto cipher state copy", ta.state_copy(b, a), SUCCESS);
        eq(
            "crypto cipher final",
            ta.in_out(c::CMD_CIPHER_FINAL, a, &msg[32..64], 32).map_err(|e| e.0),
            Ok(ct[32..].to_vec()),
        );
        eq(
            "crypto copied cipher final",
            ta.in_out(c::CMD_CIPHER_FINAL, b, &msg[32..64], 32).map_err(|e| e.0),
            Ok(ct[32..].to_vec()),
        );
        ta.free(a);
        ta.free(b);
    } else {
        check(false, "crypto two AES states", format_args!("refused"));
    }
    ta.close(k);
    ta.close(k2);

    // AE with a bad tag through the primitive calls, and an RSA signature
    // into a short buffer.
    let gk = ta.key(g::TYPE_AES, 128, &Attrs::new().r(g::ATTR_SECRET_VALUE, &key));
    if let Ok(gk) = gk {
        if let Ok(st) = ta.state(g::ALG_AES_GCM, g::MODE_DECRYPT, gk, 0) {
            eq("crypto GCM init", ta.ae_init(st, &iv[..12], 16, 0, 16), SUCCESS);
            let r = ta.ae_dec_final(st, &[0u8; 16], &[0u8; 16], 16).map_err(|e| e.0);
            eq("crypto GCM decrypt with a wrong tag: MAC_INVALID", r, Err(MAC_INVALID));
            ta.free(st);
        }
        ta.close(gk);
    }
    let rsa = rsa_keys(&vectors(ASYM));
    if let Some((_, pair, bits)) = rsa.get("r2048") {
        let req = Req::new().key(g::TYPE_RSA_KEYPAIR, *bits, pair).bytes(Tag::Input, &[0x5a; 32]);
        eq(
            "crypto RSA-2048 signature into 100 bytes: SHORT_BUFFER with 256",
            ta.oneshot(g::ALG_RSASSA_PKCS1_V1_5_SHA256, g::MODE_SIGN, &req, 100, 0).map(|_| ()),
            Err((SHORT_BUFFER, 256)),
        );
    }
}

/// Nothing is left in the kernel by instances that die holding crypto
/// objects and states, or close their session holding them.
fn no_leaks(ctx: &mut Context, test_build: bool) {
    // Warm up: the TA image and the kernel's lazily made state exist.
    if let Ok(mut ta) = Ta::open(ctx) {
        let _ = ta.random(16);
    }
    let before = if test_build { crate::stats(ctx) } else { (0, 0) };
    let mut outcomes = Vec::new();
    for i in 0..10u32 {
        let Ok(mut ta) = Ta::open(ctx) else {
            outcomes.push(u32::MAX);
            continue;
        };
        let what = if i % 2 == 0 { c::PANIC_HOLD_ALL } else { c::PANIC_HOLD_SYMMETRIC | c::PANIC_HOLD_DIGEST };
        outcomes.push(ta.done(c::CMD_PANIC_AFTER_ALLOC, vin(what, 0), ParamNone::new()));
    }
    let odd: Vec<_> = outcomes.iter().filter(|c| **c != TARGET_DEAD).collect();
    check(odd.is_empty(), "crypto: TAs dying with objects and states held: TARGET_DEAD", format_args!("{odd:x?}"));
    for _ in 0..10 {
        if let Ok(mut ta) = Ta::open(ctx) {
            let k = ta.key(g::TYPE_AES, 128, &Attrs::new().r(g::ATTR_SECRET_VALUE, &[1; 16]));
            if let Ok(k) = k {
                let _ = ta.state(g::ALG_AES_CTR, g::MODE_ENCRYPT, k, 0);
            }
            let _ = ta.state(g::ALG_SHA512, g::MODE_DIGEST, 0, 0);
        }
    }
    if test_build {
        let after = crate::stats(ctx);
        eq("crypto: secure heap back to its exact start after dead and closed holders", after.0, before.0);
        eq("crypto: sessions back to start", after.1, before.1);
    }
}

/// Runs every crypto case (`test_build`: the OS has the test PTA, whose
/// heap figure the leak check reads).
pub fn run(ctx: &mut Context, test_build: bool) {
    let mut ta = match Ta::open(ctx) {
        Ok(ta) => ta,
        Err(e) => return check(false, "crypto: open the crypto test TA", format_args!("{e:#x}")),
    };
    // One probe first: without the kernel's crypto system calls the rest
    // is noise.
    match ta.obj_alloc(g::TYPE_AES, 128) {
        Err(NOT_SUPPORTED) => {
            return check(
                false,
                "crypto: the kernel has no crypto system calls",
                format_args!("CRYP_OBJ_ALLOC: NOT_SUPPORTED"),
            );
        }
        Ok(k) => {
            ta.close(k);
        }
        Err(_) => {}
    }
    digests(&mut ta);
    macs(&mut ta);
    ciphers(&mut ta);
    aes_ae(&mut ta);
    asymmetric(&mut ta);
    kdfs(&mut ta);
    sm2(&mut ta);
    objects(&mut ta);
    stages(&mut ta);
    drop(ta);
    no_leaks(ctx, test_build);
}

/// One benchmark row: what, algorithm, mode, request, iterations, kind.
struct Row {
    key: &'static str,
    algo: u32,
    mode: u32,
    req: Req,
    n: u32,
    kind: u32,
}

fn rows() -> Vec<Row> {
    let aes = |bits: u32| Attrs::new().r(g::ATTR_SECRET_VALUE, &vec![0x3c; bits as usize / 8]);
    let sym = |bits: u32, len: u32| Req::new().key(g::TYPE_AES, bits, &aes(bits)).num(Tag::InputLen, len);
    let all = vectors(ASYM);
    let rsa = rsa_keys(&all);
    let (rsa_pub, rsa_pair, _) = rsa.get("r2048").cloned().unwrap_or_default();
    let ec = all.iter().find(|v| v.kind == "ecdsa" && v.num("curve") == 3);
    let ec_pub = ec.map_or_else(Attrs::new, |v| {
        Attrs::new()
            .v(g::ATTR_ECC_CURVE, g::ECC_CURVE_NIST_P256, 0)
            .r(g::ATTR_ECC_PUBLIC_VALUE_X, &v.hex("x"))
            .r(g::ATTR_ECC_PUBLIC_VALUE_Y, &v.hex("y"))
    });
    let ec_pair = ec.map_or_else(Attrs::new, |v| ec_pub.clone().r(g::ATTR_ECC_PRIVATE_VALUE, &v.hex("d")));
    let digest = [0x5au8; 32];
    let rsa_sig_req = Req::new().key(g::TYPE_RSA_KEYPAIR, 2048, &rsa_pair).bytes(Tag::Input, &digest);
    let ec_sig_req = Req::new().key(g::TYPE_ECDSA_KEYPAIR, 256, &ec_pair).bytes(Tag::Input, &digest);
    let op = c::BENCH_OPERATION;
    vec![
        Row {
            key: "sha256_4k",
            algo: g::ALG_SHA256,
            mode: g::MODE_DIGEST,
            req: Req::new().num(Tag::InputLen, 4096),
            n: 200,
            kind: op,
        },
        Row {
            key: "aes128_ecb_1k",
            algo: g::ALG_AES_ECB_NOPAD,
            mode: g::MODE_ENCRYPT,
            req: sym(128, 1024),
            n: 200,
            kind: op,
        },
        Row {
            key: "aes256_cbc_1k",
            algo: g::ALG_AES_CBC_NOPAD,
            mode: g::MODE_ENCRYPT,
            req: sym(256, 1024).bytes(Tag::Iv, &[0; 16]),
            n: 200,
            kind: op,
        },
        Row {
            key: "aes256_gcm_1k",
            algo: g::ALG_AES_GCM,
            mode: g::MODE_ENCRYPT,
            req: sym(256, 1024).bytes(Tag::Iv, &[0; 12]).num(Tag::TagLen, 16),
            n: 200,
            kind: op,
        },
        Row {
            key: "aes256_gcm_1m",
            algo: g::ALG_AES_GCM,
            mode: g::MODE_ENCRYPT,
            req: sym(256, 1 << 20).bytes(Tag::Iv, &[0; 12]).num(Tag::TagLen, 16).num(Tag::Chunk, 64 * 1024),
            n: 3,
            kind: op,
        },
        Row {
            key: "hmac_sha256_4k",
            algo: g::ALG_HMAC_SHA256,
            mode: g::MODE_MAC,
            req: Req::new().key(g::TYPE_HMAC_SHA256, 256, &aes(256)).num(Tag::InputLen, 4096),
            n: 200,
            kind: op,
        },
        Row {
            key: "rsa2048_sign",
            algo: g::ALG_RSASSA_PKCS1_V1_5_SHA256,
            mode: g::MODE_SIGN,
            req: rsa_sig_req,
            n: 5,
            kind: op,
        },
        Row {
            key: "rsa2048_verify",
            algo: g::ALG_RSASSA_PKCS1_V1_5_SHA256,
            mode: g::MODE_VERIFY,
            req: Req::new(),
            n: 50,
            kind: op,
        },
        Row { key: "ecdsa_p256_sign", algo: g::ALG_ECDSA_SHA256, mode: g::MODE_SIGN, req: ec_sig_req, n: 20, kind: op },
        Row {
            key: "ecdsa_p256_verify",
            algo: g::ALG_ECDSA_SHA256,
            mode: g::MODE_VERIFY,
            req: Req::new(),
            n: 20,
            kind: op,
        },
        Row {
            key: "rsa3072_keygen",
            algo: g::ALG_RSASSA_PKCS1_V1_5_SHA256,
            mode: g::MODE_SIGN,
            req: Req::new().num(Tag::KeyType, g::TYPE_RSA_KEYPAIR).num(Tag::KeySize, 3072),
            n: 3,
            kind: c::BENCH_KEYGEN,
        },
    ]
    .into_iter()
    .map(|mut r| {
        // Verification rows: the signature the sign row's key makes.
        if r.key == "rsa2048_verify" {
            r.req = Req::new().key(g::TYPE_RSA_PUBLIC_KEY, 2048, &rsa_pub).bytes(Tag::Input, &digest);
        }
        if r.key == "ecdsa_p256_verify" {
            r.req = Req::new().key(g::TYPE_ECDSA_PUBLIC_KEY, 256, &ec_pub).bytes(Tag::Input, &digest);
        }
        r
    })
    .collect()
}

/// `oxtee-xtest bench-crypto`: guest instructions per operation (one
/// nanosecond of CLOCK_MONOTONIC is one instruction under `-icount
/// shift=0`), as (time of N iterations - time of 0) / N, from the TA.
pub fn bench() -> ! {
    let Ok(ctx) = Context::new() else {
        println!("bench-crypto: no /dev/tee0");
        std::process::exit(1);
    };
    let Ok(mut ta) = Ta::open(&ctx) else {
        println!("bench-crypto: cannot open the crypto test TA");
        std::process::exit(1);
    };
    let mut failures = 0;
    let mut line = String::from("BENCH");
    for mut row in rows() {
        // Signatures to verify come from the same key's sign row.
        if row.mode == g::MODE_VERIFY {
            let attrs_src = if row.algo == g::ALG_ECDSA_SHA256 { "ecdsa_p256_sign" } else { "rsa2048_sign" };
            let sign = rows().into_iter().find(|r| r.key == attrs_src);
            let sig = sign.and_then(|s| ta.oneshot(s.algo, g::MODE_SIGN, &s.req, 512, 0).ok()).map(|r| r.0);
            match sig {
                Some(s) => row.req = row.req.bytes(Tag::Check, &s),
                None => {
                    println!("bench-crypto: {}: no signature to verify", row.key);
                    failures += 1;
                    continue;
                }
            }
        }
        let mut time = |n: u32| {
            let t0 = Instant::now();
            let (code, done) = ta.bench(row.algo, row.mode, &row.req, n, row.kind);
            (t0.elapsed().as_nanos() as f64, code, done)
        };
        let (base, c0, _) = time(0);
        let (t, c1, done) = time(row.n);
        if c0 != SUCCESS || c1 != SUCCESS || done != row.n {
            println!("bench-crypto: {}: {c0:#x} {c1:#x} ({done} of {} done)", row.key, row.n);
            failures += 1;
            continue;
        }
        let per = (t - base) / row.n as f64;
        line.push_str(&format!(" crypto_{}_insns={per:.0}", row.key));
    }
    println!("{line} crypto_failures={failures}");
    std::process::exit(if failures == 0 { 0 } else { 1 });
}
