//! Cryptographic operations over the CRYP_STATE/HASH/CIPHER/AUTHENC/ASYMM
//! syscalls, with the user-space part GP leaves to the library done as
//! upstream libutee does it: the operation's key objects (allocated with
//! the operation and handed to the kernel's state), key checks on
//! `set_key`, block buffering of cipher and CCM input, output-size checks
//! before any input is consumed, and a panic (`TEE_Panic`) wherever
//! libutee raises one for a programming error.

use super::buffer;
use super::ids::{AlgorithmId, ElementId, OPTEE_ALG_ECDH_P, OPTEE_ALG_ECDSA_P, OperationMode, digest_size};
use super::object::{
    Attribute, GenericObject, TransientObject, allocate_raw, copy_attributes, object_info_or_panic, reset_object,
};
use crate::sys::cryp;
use crate::{Error, ErrorKind, Result, tee_panic};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use oxtee_abi::ta::crypto as gp;
use oxtee_abi::tee::TeeResult;

const AES_BLOCK: usize = 16;
const DES_BLOCK: usize = 8;
const MAX_HASH_SIZE: usize = 64;

/// What `TEE_GetOperationInfo` reports (`TEE_OperationInfo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationInfo {
    algorithm: u32,
    operation_class: u32,
    mode: u32,
    digest_length: u32,
    max_key_size: u32,
    key_size: u32,
    required_key_usage: u32,
    handle_state: u32,
}

impl OperationInfo {
    pub fn algorithm(&self) -> u32 {
        self.algorithm
    }
    pub fn operation_class(&self) -> u32 {
        self.operation_class
    }
    pub fn mode(&self) -> u32 {
        self.mode
    }
    /// Digest, MAC or tag length in bytes.
    pub fn digest_length(&self) -> u32 {
        self.digest_length
    }
    pub fn max_key_size(&self) -> u32 {
        self.max_key_size
    }
    /// The programmed key's size in bits (0 without a key, and for
    /// two-key operations).
    pub fn key_size(&self) -> u32 {
        self.key_size
    }
    pub fn required_key_usage(&self) -> u32 {
        self.required_key_usage
    }
    /// `TEE_HANDLE_FLAG_*` bits.
    pub fn handle_state(&self) -> u32 {
        self.handle_state
    }
}

/// One key of [`OperationInfoMultiple`] (`TEE_OperationInfoKey`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationInfoKey {
    pub key_size: u32,
    pub required_key_usage: u32,
}

/// What `TEE_GetOperationInfoMultiple` reports
/// (`TEE_OperationInfoMultiple`). [`info_multiple`](Digest::info_multiple)
/// also writes it into the caller's buffer in GP's C layout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperationInfoMultiple {
    pub algorithm: u32,
    pub operation_class: u32,
    pub mode: u32,
    pub digest_length: u32,
    pub max_key_size: u32,
    pub handle_state: u32,
    pub operation_state: u32,
    pub keys: Vec<OperationInfoKey>,
    size: usize,
}

impl OperationInfoMultiple {
    /// Size of the fixed part in C (`sizeof(TEE_OperationInfoMultiple)`).
    pub const HEADER_SIZE: usize = 32;
    /// Size of one key entry in C (`sizeof(TEE_OperationInfoKey)`).
    pub const KEY_SIZE: usize = 8;

    pub fn number_of_keys(&self) -> u32 {
        self.keys.len() as u32
    }

    /// Bytes of the caller's buffer GP's structure occupies.
    pub fn size(&self) -> usize {
        self.size
    }

    fn write_to(&self, buf: &mut [u8]) {
        buf.fill(0);
        let head = [
            self.algorithm,
            self.operation_class,
            self.mode,
            self.digest_length,
            self.max_key_size,
            self.handle_state,
            self.operation_state,
            self.keys.len() as u32,
        ];
        let keys = self.keys.iter().flat_map(|k| [k.key_size, k.required_key_usage]);
        for (chunk, v) in buf.chunks_exact_mut(4).zip(head.into_iter().chain(keys)) {
            chunk.copy_from_slice(&v.to_ne_bytes());
        }
    }
}

struct OpState {
    info: OperationInfo,
    operation_state: u32,
    key1: u32,
    key2: u32,
    state: u32,
    /// Complete blocks not yet given to the kernel (ciphers, CCM), or the
    /// whole digest while it is being extracted.
    buffer: Vec<u8>,
    buffer_two_blocks: bool,
    block_size: usize,
    buffer_offs: usize,
}

impl OpState {
    fn has(&self, flag: u32) -> bool {
        self.info.handle_state & flag != 0
    }

    fn reset_state(&mut self) {
        self.operation_state = gp::OPERATION_STATE_INITIAL;
        if self.info.operation_class == gp::OPERATION_DIGEST {
            check(cryp::hash_init(self.state, &[]));
            self.info.handle_state |= gp::HANDLE_FLAG_INITIALIZED;
        } else {
            self.info.handle_state &= !gp::HANDLE_FLAG_INITIALIZED;
        }
    }
}

/// Panics with `res` unless it is success.
fn check(res: TeeResult) {
    if res.0 != 0 {
        tee_panic(res.0);
    }
}

/// Ok, or an error GP lets the call return, or a panic.
fn allow(res: TeeResult, allowed: &[ErrorKind]) -> Result<()> {
    if res.0 == 0 {
        Ok(())
    } else if allowed.iter().any(|k| *k as u32 == res.0) {
        Err(Error::from_raw_error(res.0))
    } else {
        tee_panic(res.0)
    }
}

type UpdateFn = fn(u32, &[u8], &mut [u8]) -> (TeeResult, usize);

/// [`buffer::update`] of the operation's buffer into the kernel's
/// `update` call; a kernel error here is fatal (the input can't be given
/// back), as in libutee.
fn buffer_update(op: &mut OpState, update: UpdateFn, src: &[u8], dst: &mut [u8]) -> usize {
    let state = op.state;
    let mut feed = |data: &[u8], out: &mut [u8]| {
        let (res, n) = update(state, data, out);
        check(res);
        n.min(out.len())
    };
    buffer::update(&mut op.buffer, &mut op.buffer_offs, op.block_size, op.buffer_two_blocks, src, dst, &mut feed)
}

/// An allocated operation (`TEE_OperationHandle`), freed on drop. The
/// typed wrappers ([`Digest`], [`Cipher`]...) hold one.
pub struct OperationHandle(Option<RefCell<OpState>>);

/// Access to the handle inside a typed operation (for `copy`).
pub trait OpHandle {
    #[doc(hidden)]
    fn handle(&self) -> &OperationHandle;
}

/// The key usage an algorithm needs in `mode` and whether its key object
/// is a keypair (upstream `TEE_AllocateOperation`'s checks), or
/// NOT_SUPPORTED.
fn mode_check(algo: u32, mode: u32) -> Result<(u32, bool, usize, bool)> {
    use gp::*;
    let unsupported = Err(Error::new(ErrorKind::NotSupported));
    // (required usage, with private key, block size, two-block buffering)
    let sym = |block: usize, two: bool| match mode {
        MODE_ENCRYPT => Ok((USAGE_ENCRYPT, false, block, two)),
        MODE_DECRYPT => Ok((USAGE_DECRYPT, false, block, two)),
        _ => Err(Error::new(ErrorKind::NotSupported)),
    };
    let block_of = |a: u32| match alg_main(a) {
        MAIN_ALGO_AES | MAIN_ALGO_SM4 => AES_BLOCK,
        _ => DES_BLOCK,
    };
    match algo {
        ALG_AES_CTS | ALG_AES_XTS | ALG_SM4_XTS => sym(block_of(algo), true),
        ALG_AES_ECB_NOPAD | ALG_AES_CBC_NOPAD | ALG_AES_CCM | ALG_DES_ECB_NOPAD | ALG_DES_CBC_NOPAD
        | ALG_DES3_ECB_NOPAD | ALG_DES3_CBC_NOPAD | ALG_SM4_ECB_NOPAD | ALG_SM4_CBC_NOPAD | ALG_SM4_CTR => {
            sym(block_of(algo), false)
        }
        ALG_AES_CTR | ALG_AES_GCM => sym(1, false),
        ALG_RSASSA_PKCS1_V1_5
        | ALG_RSASSA_PKCS1_V1_5_MD5
        | ALG_RSASSA_PKCS1_V1_5_SHA1
        | ALG_RSASSA_PKCS1_V1_5_SHA224
        | ALG_RSASSA_PKCS1_V1_5_SHA256
        | ALG_RSASSA_PKCS1_V1_5_SHA384
        | ALG_RSASSA_PKCS1_V1_5_SHA512
        | ALG_RSASSA_PKCS1_PSS_MGF1_MD5
        | ALG_RSASSA_PKCS1_PSS_MGF1_SHA1
        | ALG_RSASSA_PKCS1_PSS_MGF1_SHA224
        | ALG_RSASSA_PKCS1_PSS_MGF1_SHA256
        | ALG_RSASSA_PKCS1_PSS_MGF1_SHA384
        | ALG_RSASSA_PKCS1_PSS_MGF1_SHA512
        | ALG_DSA_SHA1
        | ALG_DSA_SHA224
        | ALG_DSA_SHA256
        | ALG_ECDSA_SHA1
        | ALG_ECDSA_SHA224
        | ALG_ECDSA_SHA256
        | ALG_ECDSA_SHA384
        | ALG_ECDSA_SHA512
        | ALG_SM2_DSA_SM3
        | ALG_ED25519 => sign_mode(mode),
        a if OPTEE_ALG_ECDSA_P.contains(&a) => sign_mode(mode),
        ALG_RSAES_PKCS1_V1_5
        | ALG_RSAES_PKCS1_OAEP_MGF1_MD5
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA1
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA224
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA256
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA384
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA512
        | ALG_SM2_PKE => match mode {
            MODE_ENCRYPT => Ok((USAGE_ENCRYPT, false, 1, false)),
            MODE_DECRYPT => Ok((USAGE_DECRYPT, true, 1, false)),
            _ => unsupported,
        },
        ALG_RSA_NOPAD => match mode {
            MODE_ENCRYPT => Ok((USAGE_ENCRYPT | USAGE_VERIFY, false, 1, false)),
            MODE_DECRYPT => Ok((USAGE_DECRYPT | USAGE_SIGN, true, 1, false)),
            _ => unsupported,
        },
        ALG_DH_DERIVE_SHARED_SECRET
        | ALG_ECDH_DERIVE_SHARED_SECRET
        | ALG_HKDF_MD5_DERIVE_KEY
        | ALG_HKDF_SHA1_DERIVE_KEY
        | ALG_HKDF_SHA224_DERIVE_KEY
        | ALG_HKDF_SHA256_DERIVE_KEY
        | ALG_HKDF_SHA384_DERIVE_KEY
        | ALG_HKDF_SHA512_DERIVE_KEY
        | ALG_CONCAT_KDF_SHA1_DERIVE_KEY
        | ALG_CONCAT_KDF_SHA224_DERIVE_KEY
        | ALG_CONCAT_KDF_SHA256_DERIVE_KEY
        | ALG_CONCAT_KDF_SHA384_DERIVE_KEY
        | ALG_CONCAT_KDF_SHA512_DERIVE_KEY
        | ALG_PBKDF2_HMAC_SHA1_DERIVE_KEY
        | ALG_PBKDF2_HMAC_SHA224_DERIVE_KEY
        | ALG_PBKDF2_HMAC_SHA256_DERIVE_KEY
        | ALG_PBKDF2_HMAC_SHA384_DERIVE_KEY
        | ALG_PBKDF2_HMAC_SHA512_DERIVE_KEY
        | ALG_PBKDF2_HMAC_SM3_DERIVE_KEY
        | ALG_SM2_KEP
        | ALG_X25519 => derive_mode(mode),
        a if OPTEE_ALG_ECDH_P.contains(&a) => derive_mode(mode),
        ALG_MD5 | ALG_SHA1 | ALG_SHA224 | ALG_SHA256 | ALG_SHA384 | ALG_SHA512 | ALG_SHA3_224 | ALG_SHA3_256
        | ALG_SHA3_384 | ALG_SHA3_512 | ALG_SHAKE128 | ALG_SHAKE256 | ALG_SM3 => {
            if mode == MODE_DIGEST {
                Ok((0, false, digest_size(algo), false))
            } else {
                unsupported
            }
        }
        ALG_DES_CBC_MAC_NOPAD
        | ALG_AES_CBC_MAC_NOPAD
        | ALG_AES_CBC_MAC_PKCS5
        | ALG_AES_CMAC
        | ALG_DES_CBC_MAC_PKCS5
        | ALG_DES3_CBC_MAC_NOPAD
        | ALG_DES3_CBC_MAC_PKCS5
        | ALG_DES3_CMAC
        | ALG_HMAC_MD5
        | ALG_HMAC_SHA1
        | ALG_HMAC_SHA224
        | ALG_HMAC_SHA256
        | ALG_HMAC_SHA384
        | ALG_HMAC_SHA512
        | ALG_HMAC_SHA3_224
        | ALG_HMAC_SHA3_256
        | ALG_HMAC_SHA3_384
        | ALG_HMAC_SHA3_512
        | ALG_HMAC_SM3 => {
            if mode == MODE_MAC {
                Ok((USAGE_MAC, false, 1, false))
            } else {
                unsupported
            }
        }
        _ => unsupported,
    }
}

fn sign_mode(mode: u32) -> Result<(u32, bool, usize, bool)> {
    match mode {
        gp::MODE_SIGN => Ok((gp::USAGE_SIGN, true, 1, false)),
        gp::MODE_VERIFY => Ok((gp::USAGE_VERIFY, false, 1, false)),
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

fn derive_mode(mode: u32) -> Result<(u32, bool, usize, bool)> {
    if mode == gp::MODE_DERIVE { Ok((gp::USAGE_DERIVE, true, 1, false)) } else { Err(ErrorKind::NotSupported.into()) }
}

/// Upstream's key-size rules for the algorithms with fixed sizes.
fn key_size_check(algo: u32, max_key_size: u32) -> Result<()> {
    use gp::*;
    let ecc = |i: usize| [192, 224, 256, 384, 521][i];
    let ok = match algo {
        ALG_DSA_SHA1 => (512..=1024).contains(&max_key_size) && max_key_size.is_multiple_of(64),
        ALG_DSA_SHA224 => max_key_size == 2048,
        ALG_DSA_SHA256 => max_key_size == 2048 || max_key_size == 3072,
        ALG_ECDSA_SHA1 => max_key_size == 192,
        ALG_ECDSA_SHA224 => max_key_size == 224,
        ALG_ECDSA_SHA256 | ALG_SM2_PKE | ALG_SM2_DSA_SM3 | ALG_ED25519 | ALG_X25519 => max_key_size == 256,
        ALG_ECDSA_SHA384 => max_key_size == 384,
        ALG_ECDSA_SHA512 => max_key_size == 521,
        ALG_SM2_KEP => max_key_size == 512,
        ALG_ECDH_DERIVE_SHARED_SECRET => max_key_size <= 521,
        a => match OPTEE_ALG_ECDSA_P.iter().chain(OPTEE_ALG_ECDH_P.iter()).position(|x| *x == a) {
            Some(i) => max_key_size == ecc(i % 5),
            None => true,
        },
    };
    if ok { Ok(()) } else { Err(ErrorKind::NotSupported.into()) }
}

impl OperationHandle {
    fn null() -> Self {
        OperationHandle(None)
    }

    /// `TEE_AllocateOperation`.
    fn allocate(algo: u32, mode: u32, max_key_size: usize, classes: &[u32]) -> Result<Self> {
        let Ok(max_key_size) = u32::try_from(max_key_size) else {
            return Err(ErrorKind::NotSupported.into());
        };
        let two_keys = matches!(algo, gp::ALG_AES_XTS | gp::ALG_SM2_KEP | gp::ALG_SM4_XTS);
        key_size_check(algo, max_key_size)?;
        let (usage, private, block_size, buffer_two_blocks) = mode_check(algo, mode)?;
        let class = gp::alg_class(algo);
        // The Rust types split GP's one handle type by class.
        if !classes.contains(&class) {
            return Err(ErrorKind::NotSupported.into());
        }
        let mut handle_state = if two_keys { gp::HANDLE_FLAG_EXPECT_TWO_KEYS } else { 0 };
        if class == gp::OPERATION_DIGEST {
            handle_state |= gp::HANDLE_FLAG_KEY_SET;
        }
        let info = OperationInfo {
            algorithm: algo,
            operation_class: class,
            mode,
            digest_length: digest_size(algo) as u32,
            max_key_size,
            key_size: 0,
            required_key_usage: usage,
            handle_state,
        };
        let buffer_len = if block_size > 1 { block_size * if buffer_two_blocks { 2 } else { 1 } } else { 0 };
        let mut op = OpState {
            info,
            operation_state: gp::OPERATION_STATE_INITIAL,
            key1: 0,
            key2: 0,
            state: 0,
            buffer: vec![0; buffer_len],
            buffer_two_blocks,
            block_size,
            buffer_offs: 0,
        };

        let close = |h: u32| {
            if h != 0 {
                check(cryp::obj_close(h));
            }
        };
        if class != gp::OPERATION_DIGEST {
            let key_type = gp::alg_key_type(algo, private);
            let mks = if two_keys { max_key_size / 2 } else { max_key_size };
            op.key1 = allocate_raw(key_type, mks as usize)?;
            if two_keys {
                match allocate_raw(key_type, mks as usize) {
                    Ok(h) => op.key2 = h,
                    Err(e) => {
                        close(op.key1);
                        return Err(e);
                    }
                }
            }
        }
        match cryp::state_alloc(algo, mode, op.key1, op.key2) {
            Ok(state) => op.state = state,
            Err(res) => {
                if res.0 != ErrorKind::OutOfMemory as u32 && res.0 != ErrorKind::NotSupported as u32 {
                    tee_panic(res.0);
                }
                close(op.key1);
                close(op.key2);
                return Err(Error::from_raw_error(res.0));
            }
        }
        let handle = OperationHandle(Some(RefCell::new(op)));
        if class == gp::OPERATION_DIGEST {
            let mut op = handle.op();
            check(cryp::hash_init(op.state, &[]));
            op.info.handle_state |= gp::HANDLE_FLAG_INITIALIZED;
        }
        Ok(handle)
    }

    /// The state; a null handle is a programming error (panic).
    fn op(&self) -> core::cell::RefMut<'_, OpState> {
        match &self.0 {
            Some(cell) => cell.borrow_mut(),
            None => tee_panic(0),
        }
    }

    fn info(&self) -> OperationInfo {
        let mut info = self.op().info;
        if info.handle_state & gp::HANDLE_FLAG_EXPECT_TWO_KEYS != 0 {
            info.key_size = 0;
            info.required_key_usage = 0;
        }
        info
    }

    fn info_multiple(&self, info_buf: &mut [u8]) -> Result<OperationInfoMultiple> {
        let Some(cell) = &self.0 else {
            tee_panic(ErrorKind::BadParameters as u32);
        };
        let op = cell.borrow();
        if info_buf.len() < OperationInfoMultiple::HEADER_SIZE {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        let max_keys = (info_buf.len() - OperationInfoMultiple::HEADER_SIZE) / OperationInfoMultiple::KEY_SIZE;
        let mut keys = Vec::new();
        if op.info.mode != gp::MODE_DIGEST {
            let handles: &[u32] =
                if op.has(gp::HANDLE_FLAG_EXPECT_TWO_KEYS) { &[op.key1, op.key2] } else { &[op.key1] };
            if max_keys < handles.len() {
                return Err(ErrorKind::ShortBuffer.into());
            }
            for h in handles {
                let info = object_info_or_panic(*h);
                keys.push(OperationInfoKey { key_size: info.obj_size, required_key_usage: op.info.required_key_usage });
            }
        }
        let out = OperationInfoMultiple {
            algorithm: op.info.algorithm,
            operation_class: op.info.operation_class,
            mode: op.info.mode,
            digest_length: op.info.digest_length,
            max_key_size: op.info.max_key_size,
            handle_state: op.info.handle_state,
            operation_state: op.operation_state,
            size: OperationInfoMultiple::HEADER_SIZE + keys.len() * OperationInfoMultiple::KEY_SIZE,
            keys,
        };
        out.write_to(info_buf);
        Ok(out)
    }

    /// `TEE_ResetOperation`.
    fn reset(&self) {
        let mut op = self.op();
        if !op.has(gp::HANDLE_FLAG_KEY_SET) {
            tee_panic(0);
        }
        op.reset_state();
    }

    /// `TEE_SetOperationKey` (after its INITIALIZED check).
    fn set_key_inner(op: &mut OpState, key: u32) -> Result<()> {
        const ALLOWED: &[ErrorKind] = &[ErrorKind::CorruptObject, ErrorKind::StorageNotAvailable];
        if key == 0 {
            reset_object(op.key1);
            op.info.handle_state &= !gp::HANDLE_FLAG_KEY_SET;
            if op.operation_state != gp::OPERATION_STATE_INITIAL {
                op.reset_state();
            }
            return Ok(());
        }
        if op.info.operation_class == gp::OPERATION_DIGEST || op.has(gp::HANDLE_FLAG_EXPECT_TWO_KEYS) {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        let (res, info) = cryp::obj_get_info_filled(key);
        allow(res, ALLOWED)?;
        let need = op.info.required_key_usage;
        if info.obj_usage & need != need || op.info.max_key_size < info.obj_size {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        reset_object(op.key1);
        op.info.handle_state &= !gp::HANDLE_FLAG_KEY_SET;
        copy_attributes(op.key1, key)?;
        op.info.handle_state |= gp::HANDLE_FLAG_KEY_SET;
        op.info.key_size = info.obj_size;
        if op.operation_state != gp::OPERATION_STATE_INITIAL {
            op.reset_state();
        }
        Ok(())
    }

    fn set_key(&self, key: u32) -> Result<()> {
        let mut op = self.op();
        if op.has(gp::HANDLE_FLAG_INITIALIZED) {
            tee_panic(0);
        }
        Self::set_key_inner(&mut op, key)
    }

    /// `TEE_SetOperationKey2`.
    fn set_key_2(&self, key1: u32, key2: u32) -> Result<()> {
        if key1 != 0 && key1 == key2 {
            return Err(ErrorKind::Security.into());
        }
        let mut op = self.op();
        if op.operation_state != gp::OPERATION_STATE_INITIAL {
            tee_panic(0);
        }
        Self::set_key2_inner(&mut op, key1, key2)
    }

    fn set_key2_inner(op: &mut OpState, key1: u32, key2: u32) -> Result<()> {
        use ErrorKind::{CorruptObject, StorageNotAvailable};
        if key1 == 0 && key2 == 0 {
            reset_object(op.key1);
            reset_object(op.key2);
            op.info.handle_state &= !gp::HANDLE_FLAG_KEY_SET;
            if op.operation_state != gp::OPERATION_STATE_INITIAL {
                op.reset_state();
            }
            return Ok(());
        }
        if key1 == 0
            || key2 == 0
            || op.info.operation_class == gp::OPERATION_DIGEST
            || !op.has(gp::HANDLE_FLAG_EXPECT_TWO_KEYS)
        {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        // The second key's storage errors are reported as the `_2` codes.
        let second = |e: Error| match e.kind() {
            CorruptObject => Error::from_raw_error(0xF010_0002),
            StorageNotAvailable => Error::from_raw_error(0xF010_0004),
            _ => e,
        };
        let need = op.info.required_key_usage;
        let (res, info1) = cryp::obj_get_info_filled(key1);
        allow(res, &[CorruptObject, StorageNotAvailable])?;
        if info1.obj_usage & need != need {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        let (res, info2) = cryp::obj_get_info_filled(key2);
        allow(res, &[CorruptObject, StorageNotAvailable]).map_err(second)?;
        if info2.obj_usage & need != need || info1.obj_size != info2.obj_size || op.info.max_key_size < info1.obj_size {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        reset_object(op.key1);
        reset_object(op.key2);
        op.info.handle_state &= !gp::HANDLE_FLAG_KEY_SET;
        copy_attributes(op.key1, key1)?;
        copy_attributes(op.key2, key2).map_err(second)?;
        op.info.handle_state |= gp::HANDLE_FLAG_KEY_SET;
        op.info.key_size = info1.obj_size;
        if op.operation_state != gp::OPERATION_STATE_INITIAL {
            op.reset_state();
        }
        Ok(())
    }

    /// `TEE_CopyOperation`: this operation takes `src`'s key and state.
    fn copy_from(&self, src: &OperationHandle) {
        let mut dst = self.op();
        let src = src.op();
        if dst.info.algorithm != src.info.algorithm || dst.info.mode != src.info.mode {
            tee_panic(0);
        }
        if src.info.operation_class != gp::OPERATION_DIGEST {
            let (k1, k2) = if src.has(gp::HANDLE_FLAG_KEY_SET) { (src.key1, src.key2) } else { (0, 0) };
            let res = if src.has(gp::HANDLE_FLAG_EXPECT_TWO_KEYS) {
                if k1 != 0 && k1 == k2 {
                    Err(ErrorKind::Security.into())
                } else {
                    if dst.operation_state != gp::OPERATION_STATE_INITIAL {
                        tee_panic(0);
                    }
                    Self::set_key2_inner(&mut dst, k1, k2)
                }
            } else {
                Self::set_key_inner(&mut dst, k1)
            };
            // libutee ignores the result here; an error left the key unset.
            let _ = res;
        }
        dst.info.handle_state = src.info.handle_state;
        dst.info.key_size = src.info.key_size;
        dst.info.digest_length = src.info.digest_length;
        dst.operation_state = src.operation_state;
        if dst.buffer_two_blocks != src.buffer_two_blocks || dst.block_size != src.block_size {
            tee_panic(0);
        }
        if dst.buffer.len() != src.buffer.len() {
            tee_panic(0);
        }
        let n = src.buffer.len();
        dst.buffer[..n].copy_from_slice(&src.buffer);
        dst.buffer_offs = src.buffer_offs;
        check(cryp::state_copy(dst.state, src.state));
    }
}

impl Drop for OperationHandle {
    fn drop(&mut self) {
        if let Some(cell) = &self.0 {
            // The kernel frees the key objects with the state.
            let mut op = cell.borrow_mut();
            check(cryp::state_free(op.state));
            // The buffer can hold plaintext or key stream input.
            op.buffer.fill(0);
        }
    }
}

/// `TEE_IsAlgorithmSupported` for the algorithms upstream reports with its
/// default configuration (`element` a curve for the ECC ones,
/// [`ElementId::ElementNone`] otherwise).
pub fn is_algorithm_supported(alg_id: u32, element: u32) -> Result<()> {
    use gp::*;
    let none = element == ElementId::ElementNone as u32;
    let curve_algos: [(&[u32], u32); 5] = [
        (
            &[OPTEE_ALG_ECDH_P[0], OPTEE_ALG_ECDSA_P[0], ALG_ECDH_DERIVE_SHARED_SECRET, ALG_ECDSA_SHA1],
            ECC_CURVE_NIST_P192,
        ),
        (
            &[OPTEE_ALG_ECDH_P[1], OPTEE_ALG_ECDSA_P[1], ALG_ECDH_DERIVE_SHARED_SECRET, ALG_ECDSA_SHA224],
            ECC_CURVE_NIST_P224,
        ),
        (
            &[OPTEE_ALG_ECDH_P[2], OPTEE_ALG_ECDSA_P[2], ALG_ECDH_DERIVE_SHARED_SECRET, ALG_ECDSA_SHA256],
            ECC_CURVE_NIST_P256,
        ),
        (
            &[OPTEE_ALG_ECDH_P[3], OPTEE_ALG_ECDSA_P[3], ALG_ECDH_DERIVE_SHARED_SECRET, ALG_ECDSA_SHA384],
            ECC_CURVE_NIST_P384,
        ),
        (
            &[OPTEE_ALG_ECDH_P[4], OPTEE_ALG_ECDSA_P[4], ALG_ECDH_DERIVE_SHARED_SECRET, ALG_ECDSA_SHA512],
            ECC_CURVE_NIST_P521,
        ),
    ];
    let plain = matches!(
        alg_id,
        ALG_AES_ECB_NOPAD
            | ALG_AES_CBC_NOPAD
            | ALG_AES_CTR
            | ALG_AES_CTS
            | ALG_AES_XTS
            | ALG_AES_CBC_MAC_NOPAD
            | ALG_AES_CBC_MAC_PKCS5
            | ALG_AES_CMAC
            | ALG_AES_CCM
            | ALG_AES_GCM
            | ALG_DES_ECB_NOPAD
            | ALG_DES3_ECB_NOPAD
            | ALG_DES_CBC_NOPAD
            | ALG_DES3_CBC_NOPAD
            | ALG_DES_CBC_MAC_NOPAD
            | ALG_DES_CBC_MAC_PKCS5
            | ALG_DES3_CBC_MAC_NOPAD
            | ALG_DES3_CBC_MAC_PKCS5
            | ALG_MD5
            | ALG_SHA1
            | ALG_SHA224
            | ALG_SHA256
            | ALG_SHA384
            | ALG_SHA512
            | ALG_SHA3_224
            | ALG_SHA3_256
            | ALG_SHA3_384
            | ALG_SHA3_512
            | ALG_MD5SHA1
            | ALG_HMAC_MD5
            | ALG_HMAC_SHA1
            | ALG_HMAC_SHA224
            | ALG_HMAC_SHA256
            | ALG_HMAC_SHA384
            | ALG_HMAC_SHA512
            | ALG_HMAC_SHA3_224
            | ALG_HMAC_SHA3_256
            | ALG_HMAC_SHA3_384
            | ALG_HMAC_SHA3_512
            | ALG_HMAC_SM3
            | ALG_SM3
            | ALG_SM4_ECB_NOPAD
            | ALG_SM4_CBC_NOPAD
            | ALG_SM4_CTR
            | ALG_SM4_XTS
            | ALG_RSASSA_PKCS1_V1_5_MD5
            | ALG_RSASSA_PKCS1_PSS_MGF1_MD5
            | ALG_RSAES_PKCS1_OAEP_MGF1_MD5
            | ALG_RSASSA_PKCS1_V1_5_SHA1
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA1
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA1
            | ALG_RSASSA_PKCS1_V1_5_MD5SHA1
            | ALG_RSASSA_PKCS1_V1_5_SHA224
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA224
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA224
            | ALG_RSASSA_PKCS1_V1_5_SHA256
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA256
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA256
            | ALG_RSASSA_PKCS1_V1_5_SHA384
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA384
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA384
            | ALG_RSASSA_PKCS1_V1_5_SHA512
            | ALG_RSASSA_PKCS1_PSS_MGF1_SHA512
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA512
            | ALG_RSASSA_PKCS1_V1_5
            | ALG_RSA_NOPAD
            | ALG_DSA_SHA1
            | ALG_DSA_SHA224
            | ALG_DSA_SHA256
            | ALG_DH_DERIVE_SHARED_SECRET
    );
    let supported = if plain {
        none
    } else {
        curve_algos.iter().any(|(algs, curve)| algs.contains(&alg_id) && element == *curve)
            || (matches!(alg_id, ALG_SM2_DSA_SM3 | ALG_SM2_KEP | ALG_SM2_PKE) && element == ECC_CURVE_SM2)
            || (matches!(alg_id, ALG_X25519 | ALG_ED25519) && element == ECC_CURVE_25519)
    };
    if supported { Ok(()) } else { Err(ErrorKind::NotSupported.into()) }
}

macro_rules! common_methods {
    ($t:ident) => {
        impl $t {
            /// An operation with no algorithm (`TEE_HANDLE_NULL`); using it
            /// panics.
            pub fn null() -> Self {
                $t(OperationHandle::null())
            }

            /// `TEE_GetOperationInfo`.
            pub fn info(&self) -> OperationInfo {
                self.0.info()
            }

            /// `TEE_GetOperationInfoMultiple`: fills `info_buf` (at least
            /// [`OperationInfoMultiple::HEADER_SIZE`] bytes, plus
            /// [`OperationInfoMultiple::KEY_SIZE`] per key) in GP's layout
            /// and returns it parsed. `ShortBuffer` if the keys don't fit.
            pub fn info_multiple(&self, info_buf: &mut [u8]) -> Result<OperationInfoMultiple> {
                self.0.info_multiple(info_buf)
            }

            /// `TEE_ResetOperation`: back to the initial state, key kept.
            /// Panics without a key.
            pub fn reset(&mut self) {
                self.0.reset()
            }

            /// `TEE_CopyOperation`: takes `src`'s key and state (same
            /// algorithm and mode, or a panic).
            pub fn copy<T: OpHandle>(&mut self, src: &T) {
                self.0.copy_from(src.handle())
            }
        }

        impl OpHandle for $t {
            fn handle(&self) -> &OperationHandle {
                &self.0
            }
        }
    };
}

macro_rules! key_methods {
    ($t:ident) => {
        impl $t {
            /// `TEE_SetOperationKey`: copies `object`'s key into the
            /// operation (a null object clears it). The key must have the
            /// usage the operation needs and fit its maximum size, or the
            /// TA panics, as GP specifies.
            pub fn set_key<T: GenericObject>(&self, object: &T) -> Result<()> {
                self.0.set_key(object.handle())
            }
        }
    };
}

macro_rules! key2_methods {
    ($t:ident) => {
        impl $t {
            /// `TEE_SetOperationKey2`: both keys of an XTS or SM2 key
            /// exchange operation. `Security` if they are the same object.
            pub fn set_key_2<T: GenericObject, D: GenericObject>(&self, object1: &T, object2: &D) -> Result<()> {
                self.0.set_key_2(object1.handle(), object2.handle())
            }
        }
    };
}

/// A message digest operation (`TEE_Digest*`).
pub struct Digest(OperationHandle);
common_methods!(Digest);

impl Digest {
    /// `TEE_AllocateOperation` for a hash algorithm (`MODE_DIGEST`).
    pub fn allocate(algo: AlgorithmId) -> Result<Self> {
        OperationHandle::allocate(algo as u32, gp::MODE_DIGEST, 0, &[gp::OPERATION_DIGEST]).map(Digest)
    }

    /// `TEE_DigestUpdate`.
    pub fn update(&self, chunk: &[u8]) {
        let mut op = self.0.op();
        if op.info.operation_class != gp::OPERATION_DIGEST {
            tee_panic(0);
        }
        op.operation_state = gp::OPERATION_STATE_ACTIVE;
        check(cryp::hash_update(op.state, chunk));
    }

    /// `TEE_DigestDoFinal`: hashes `chunk` and writes the digest to `hash`,
    /// returning its length; the operation starts over. `ShortBuffer` (the
    /// operation unchanged) if `hash` is too small.
    pub fn do_final(&self, chunk: &[u8], hash: &mut [u8]) -> Result<usize> {
        let mut op = self.0.op();
        if op.info.operation_class != gp::OPERATION_DIGEST {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        let extracting = op.operation_state == gp::OPERATION_STATE_EXTRACTING;
        if extracting && !chunk.is_empty() {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        let len = if extracting && !op.buffer.is_empty() {
            let n = (op.block_size - op.buffer_offs).min(hash.len());
            hash[..n].copy_from_slice(&op.buffer[op.buffer_offs..op.buffer_offs + n]);
            n
        } else {
            let (res, n) = cryp::hash_final(op.state, chunk, hash);
            allow(res, &[ErrorKind::ShortBuffer])?;
            n.min(hash.len())
        };
        check(cryp::hash_init(op.state, &[]));
        op.buffer_offs = 0;
        op.info.handle_state |= gp::HANDLE_FLAG_INITIALIZED;
        op.operation_state = gp::OPERATION_STATE_INITIAL;
        Ok(len)
    }

    /// `TEE_DigestExtract`: the next `hash.len()` bytes of the digest (any
    /// length for SHAKE); returns how many were written.
    pub fn extract(&self, hash: &mut [u8]) -> usize {
        let mut op = self.0.op();
        if op.info.operation_class != gp::OPERATION_DIGEST {
            tee_panic(0);
        }
        op.info.handle_state |= gp::HANDLE_FLAG_EXTRACTING;
        if op.buffer.is_empty() {
            // Extendable-output function: the kernel squeezes more.
            op.operation_state = gp::OPERATION_STATE_EXTRACTING;
            let (res, n) = cryp::hash_final(op.state, &[], hash);
            if res.0 != 0 {
                tee_panic(0);
            }
            return n.min(hash.len());
        }
        if op.operation_state != gp::OPERATION_STATE_EXTRACTING {
            let state = op.state;
            let (res, n) = cryp::hash_final(state, &[], &mut op.buffer);
            if res.0 != 0 || n != op.block_size {
                tee_panic(0);
            }
            op.operation_state = gp::OPERATION_STATE_EXTRACTING;
        }
        let n = (op.block_size - op.buffer_offs).min(hash.len());
        hash[..n].copy_from_slice(&op.buffer[op.buffer_offs..op.buffer_offs + n]);
        op.buffer_offs += n;
        n
    }
}

/// A symmetric cipher operation (`TEE_Cipher*`): AES, DES, 3DES, SM4.
pub struct Cipher(OperationHandle);
common_methods!(Cipher);
key_methods!(Cipher);
key2_methods!(Cipher);

fn is_nopad(algo: u32) -> bool {
    matches!(
        algo,
        gp::ALG_AES_ECB_NOPAD
            | gp::ALG_AES_CBC_NOPAD
            | gp::ALG_DES_ECB_NOPAD
            | gp::ALG_DES_CBC_NOPAD
            | gp::ALG_DES3_ECB_NOPAD
            | gp::ALG_DES3_CBC_NOPAD
            | gp::ALG_SM4_ECB_NOPAD
            | gp::ALG_SM4_CBC_NOPAD
    )
}

impl Cipher {
    /// `TEE_AllocateOperation` for a cipher in `mode` (`Encrypt` or
    /// `Decrypt`) with keys up to `max_key_size` bits (the sum of both
    /// for XTS).
    pub fn allocate(algo: AlgorithmId, mode: OperationMode, max_key_size: usize) -> Result<Self> {
        OperationHandle::allocate(algo as u32, mode as u32, max_key_size, &[gp::OPERATION_CIPHER]).map(Cipher)
    }

    /// `TEE_CipherInit`: starts (or restarts) with `iv` (IV, initial
    /// counter, XTS tweak; empty for ECB). Panics without a key.
    pub fn init(&self, iv: &[u8]) {
        let mut op = self.0.op();
        if op.info.operation_class != gp::OPERATION_CIPHER || !op.has(gp::HANDLE_FLAG_KEY_SET) || op.key1 == 0 {
            tee_panic(0);
        }
        if op.operation_state != gp::OPERATION_STATE_INITIAL {
            op.reset_state();
        }
        if !iv.is_empty()
            && matches!(
                op.info.algorithm,
                gp::ALG_AES_ECB_NOPAD | gp::ALG_DES_ECB_NOPAD | gp::ALG_DES3_ECB_NOPAD | gp::ALG_SM4_ECB_NOPAD
            )
        {
            tee_panic(0);
        }
        op.operation_state = gp::OPERATION_STATE_ACTIVE;
        check(cryp::cipher_init(op.state, iv));
        op.buffer_offs = 0;
        op.info.handle_state |= gp::HANDLE_FLAG_INITIALIZED;
    }

    fn check_active(op: &OpState) {
        if op.info.operation_class != gp::OPERATION_CIPHER
            || !op.has(gp::HANDLE_FLAG_INITIALIZED)
            || op.operation_state != gp::OPERATION_STATE_ACTIVE
        {
            tee_panic(ErrorKind::BadParameters as u32);
        }
    }

    /// Output size [`update`](Self::update) needs for `src_len` more bytes.
    pub fn update_size(&self, src_len: usize) -> usize {
        let op = self.0.op();
        Self::update_len(&op, src_len)
    }

    fn update_len(op: &OpState, src_len: usize) -> usize {
        buffer::update_len(op.buffer_offs, op.block_size, op.buffer_two_blocks, src_len)
    }

    /// `TEE_CipherUpdate`: processes `src`, writes what is complete to
    /// `dest` and returns its length (input short of a block is kept for
    /// later). `ShortBuffer` (nothing consumed) if `dest` is smaller than
    /// [`update_size`](Self::update_size).
    pub fn update(&self, src: &[u8], dest: &mut [u8]) -> Result<usize> {
        let mut op = self.0.op();
        Self::check_active(&op);
        if src.is_empty() {
            return Ok(0);
        }
        if dest.len() < Self::update_len(&op, src.len()) {
            return Err(ErrorKind::ShortBuffer.into());
        }
        if op.block_size > 1 {
            Ok(buffer_update(&mut op, cryp::cipher_update, src, dest))
        } else {
            let (res, n) = cryp::cipher_update(op.state, src, dest);
            check(res);
            Ok(n.min(dest.len()))
        }
    }

    /// Output size [`do_final`](Self::do_final) needs for `src_len` more
    /// bytes.
    pub fn final_size(&self, src_len: usize) -> usize {
        let op = self.0.op();
        if op.block_size > 1 { op.buffer_offs + src_len } else { src_len }
    }

    /// `TEE_CipherDoFinal`: processes `src` and what is buffered, finishes
    /// the operation and returns the length written to `dest`.
    /// `ShortBuffer` if `dest` is smaller than
    /// [`final_size`](Self::final_size); a NOPAD mode whose total input is
    /// not whole blocks panics (GP: `BAD_PARAMETERS`).
    pub fn do_final(&self, src: &[u8], dest: &mut [u8]) -> Result<usize> {
        let mut op = self.0.op();
        Self::check_active(&op);
        if is_nopad(op.info.algorithm) && !(op.buffer_offs + src.len()).is_multiple_of(op.block_size) {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        let need = if op.block_size > 1 { op.buffer_offs + src.len() } else { src.len() };
        if dest.len() < need {
            return Err(ErrorKind::ShortBuffer.into());
        }
        let mut acc = 0;
        let (res, n) = if op.block_size > 1 {
            if !src.is_empty() {
                acc = buffer_update(&mut op, cryp::cipher_update, src, dest);
            }
            let st = &mut *op;
            cryp::cipher_final(st.state, &st.buffer[..st.buffer_offs], &mut dest[acc..])
        } else {
            cryp::cipher_final(op.state, src, dest)
        };
        check(res);
        acc += n.min(dest.len() - acc);
        op.info.handle_state &= !gp::HANDLE_FLAG_INITIALIZED;
        op.operation_state = gp::OPERATION_STATE_INITIAL;
        Ok(acc)
    }
}

/// A MAC operation (`TEE_MAC*`): HMAC, CMAC, CBC-MAC.
pub struct Mac(OperationHandle);
common_methods!(Mac);
key_methods!(Mac);

impl Mac {
    /// `TEE_AllocateOperation` for a MAC with keys up to `max_key_size` bits.
    pub fn allocate(algo: AlgorithmId, max_key_size: usize) -> Result<Self> {
        OperationHandle::allocate(algo as u32, gp::MODE_MAC, max_key_size, &[gp::OPERATION_MAC]).map(Mac)
    }

    /// `TEE_MACInit` (`iv` is unused by every upstream MAC; pass `&[]`).
    pub fn init(&self, iv: &[u8]) {
        let mut op = self.0.op();
        if op.info.operation_class != gp::OPERATION_MAC || !op.has(gp::HANDLE_FLAG_KEY_SET) || op.key1 == 0 {
            tee_panic(0);
        }
        if op.operation_state != gp::OPERATION_STATE_INITIAL {
            op.reset_state();
        }
        op.operation_state = gp::OPERATION_STATE_ACTIVE;
        check(cryp::hash_init(op.state, iv));
        op.buffer_offs = 0;
        op.info.handle_state |= gp::HANDLE_FLAG_INITIALIZED;
    }

    fn check_active(op: &OpState, code: u32) {
        if op.info.operation_class != gp::OPERATION_MAC
            || !op.has(gp::HANDLE_FLAG_INITIALIZED)
            || op.operation_state != gp::OPERATION_STATE_ACTIVE
        {
            tee_panic(code);
        }
    }

    /// `TEE_MACUpdate`.
    pub fn update(&self, chunk: &[u8]) {
        let op = self.0.op();
        Self::check_active(&op, 0);
        check(cryp::hash_update(op.state, chunk));
    }

    fn compute(op: &mut OpState, message: &[u8], mac: &mut [u8]) -> Result<usize> {
        Self::check_active(op, ErrorKind::BadParameters as u32);
        let (res, n) = cryp::hash_final(op.state, message, mac);
        allow(res, &[ErrorKind::ShortBuffer])?;
        op.info.handle_state &= !gp::HANDLE_FLAG_INITIALIZED;
        op.operation_state = gp::OPERATION_STATE_INITIAL;
        Ok(n.min(mac.len()))
    }

    /// `TEE_MACComputeFinal`: MACs `message`, writes the MAC to `mac` and
    /// returns its length. `ShortBuffer` if `mac` is too small.
    pub fn compute_final(&self, message: &[u8], mac: &mut [u8]) -> Result<usize> {
        Self::compute(&mut self.0.op(), message, mac)
    }

    /// `TEE_MACCompareFinal`: `MacInvalid` unless the MAC of `message`
    /// equals `mac` (compared in constant time).
    pub fn compare_final(&self, message: &[u8], mac: &[u8]) -> Result<()> {
        let mut op = self.0.op();
        let mut computed = [0u8; MAX_HASH_SIZE];
        let n = match Self::compute(&mut op, message, &mut computed) {
            Ok(n) => n,
            Err(e) => tee_panic(e.raw_code()),
        };
        let equal = n == mac.len() && constant_time_eq(&computed[..n], mac);
        computed.fill(0);
        if !equal {
            return Err(ErrorKind::MacInvalid.into());
        }
        op.operation_state = gp::OPERATION_STATE_INITIAL;
        Ok(())
    }
}

/// Equality of equal-length slices without a data-dependent branch.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

/// An authenticated-encryption operation (`TEE_AE*`): AES-GCM, AES-CCM.
#[allow(clippy::upper_case_acronyms)]
pub struct AE(OperationHandle);
common_methods!(AE);
key_methods!(AE);

impl AE {
    /// `TEE_AllocateOperation` for AES-GCM or AES-CCM in `mode`.
    pub fn allocate(algo: AlgorithmId, mode: OperationMode, max_key_size: usize) -> Result<Self> {
        OperationHandle::allocate(algo as u32, mode as u32, max_key_size, &[gp::OPERATION_AE]).map(AE)
    }

    /// `TEE_AEInit`: `tag_len` in bits; `aad_len` and `pay_load_len` are
    /// the totals CCM needs up front (ignored by GCM). `NotSupported` for
    /// a tag length the algorithm lacks.
    pub fn init(&self, nonce: &[u8], tag_len: usize, aad_len: usize, pay_load_len: usize) -> Result<()> {
        let mut op = self.0.op();
        if op.info.operation_class != gp::OPERATION_AE || op.operation_state != gp::OPERATION_STATE_INITIAL {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        // GP allows GCM tags of 96 to 128 bits in bytes; the kernel checks CCM's.
        if op.info.algorithm == gp::ALG_AES_GCM && (!(96..=128).contains(&tag_len) || !tag_len.is_multiple_of(8)) {
            return Err(ErrorKind::NotSupported.into());
        }
        let Ok(tag_bits) = u32::try_from(tag_len) else {
            return Err(ErrorKind::NotSupported.into());
        };
        let res = cryp::authenc_init(op.state, nonce, (tag_bits / 8) as usize, aad_len, pay_load_len);
        allow(res, &[ErrorKind::NotSupported])?;
        op.info.digest_length = tag_bits / 8;
        op.buffer_offs = 0;
        op.info.handle_state |= gp::HANDLE_FLAG_INITIALIZED;
        Ok(())
    }

    /// `TEE_AEUpdateAAD` (before any payload).
    pub fn update_aad(&self, aad_data: &[u8]) {
        let op = self.0.op();
        if op.info.operation_class != gp::OPERATION_AE
            || op.operation_state != gp::OPERATION_STATE_INITIAL
            || !op.has(gp::HANDLE_FLAG_INITIALIZED)
        {
            tee_panic(0);
        }
        check(cryp::authenc_update_aad(op.state, aad_data));
    }

    fn check_initialized(op: &OpState) {
        if op.info.operation_class != gp::OPERATION_AE || !op.has(gp::HANDLE_FLAG_INITIALIZED) {
            tee_panic(ErrorKind::BadParameters as u32);
        }
    }

    /// `TEE_AEUpdate`: processes payload, returns the length written.
    /// `ShortBuffer` (nothing consumed) if `dest` can't hold the complete
    /// blocks.
    pub fn update(&self, src: &[u8], dest: &mut [u8]) -> Result<usize> {
        let mut op = self.0.op();
        Self::check_initialized(&op);
        if src.is_empty() {
            return Ok(0);
        }
        let need =
            if op.block_size > 1 { (op.buffer_offs + src.len()) / op.block_size * op.block_size } else { src.len() };
        if dest.len() < need {
            return Err(ErrorKind::ShortBuffer.into());
        }
        let n = if op.block_size > 1 {
            buffer_update(&mut op, cryp::authenc_update_payload, src, dest)
        } else {
            let (res, n) = cryp::authenc_update_payload(op.state, src, dest);
            check(res);
            n.min(dest.len())
        };
        op.operation_state = gp::OPERATION_STATE_ACTIVE;
        Ok(n)
    }

    /// Feeds `src` through the block buffer and calls the final syscall
    /// with what remains.
    fn finish<R>(
        op: &mut OpState,
        src: &[u8],
        dest: &mut [u8],
        last: impl FnOnce(u32, &[u8], &mut [u8]) -> (TeeResult, usize, R),
    ) -> (TeeResult, usize, R) {
        if op.block_size > 1 {
            let acc = buffer_update(op, cryp::authenc_update_payload, src, dest);
            let (res, n, r) = last(op.state, &op.buffer[..op.buffer_offs], &mut dest[acc..]);
            (res, acc + n.min(dest.len() - acc), r)
        } else {
            let (res, n, r) = last(op.state, src, dest);
            (res, n.min(dest.len()), r)
        }
    }

    /// `TEE_AEEncryptFinal`: the last payload; writes the rest of the
    /// ciphertext to `dest` and the tag to `tag`, returning both lengths.
    /// `ShortBuffer` if either is too small.
    pub fn encrypt_final(&self, src: &[u8], dest: &mut [u8], tag: &mut [u8]) -> Result<(usize, usize)> {
        let mut op = self.0.op();
        Self::check_initialized(&op);
        if dest.len() < op.buffer_offs + src.len() || tag.len() < op.info.digest_length as usize {
            return Err(ErrorKind::ShortBuffer.into());
        }
        let (res, n, tag_len) = Self::finish(&mut op, src, dest, |st, s, d| cryp::authenc_enc_final(st, s, d, tag));
        allow(res, &[ErrorKind::ShortBuffer])?;
        op.info.handle_state &= !gp::HANDLE_FLAG_INITIALIZED;
        op.operation_state = gp::OPERATION_STATE_INITIAL;
        Ok((n, tag_len.min(tag.len())))
    }

    /// `TEE_AEDecryptFinal`: the last payload and the tag to check; writes
    /// the rest of the plaintext and returns its length. `MacInvalid` if
    /// the tag does not match (the plaintext must then be discarded),
    /// `ShortBuffer` if `dest` is too small.
    pub fn decrypt_final(&self, src: &[u8], dest: &mut [u8], tag: &[u8]) -> Result<usize> {
        let mut op = self.0.op();
        Self::check_initialized(&op);
        if dest.len() < op.buffer_offs + src.len() {
            return Err(ErrorKind::ShortBuffer.into());
        }
        let (res, n, ()) = Self::finish(&mut op, src, dest, |st, s, d| {
            let (res, n) = cryp::authenc_dec_final(st, s, d, tag);
            (res, n, ())
        });
        allow(res, &[ErrorKind::ShortBuffer, ErrorKind::MacInvalid])?;
        let res = if tag.len() != op.info.digest_length as usize { Err(ErrorKind::MacInvalid.into()) } else { Ok(n) };
        op.info.handle_state &= !gp::HANDLE_FLAG_INITIALIZED;
        op.operation_state = gp::OPERATION_STATE_INITIAL;
        res
    }
}

/// An asymmetric operation (`TEE_Asymmetric*`): RSA, DSA, ECDSA, EdDSA,
/// SM2 signatures and encryption.
pub struct Asymmetric(OperationHandle);
common_methods!(Asymmetric);
key_methods!(Asymmetric);

/// Largest output the SDK allocates for [`Asymmetric::encrypt`] and
/// [`Asymmetric::decrypt`] (an RSA-4096 block, or SM2 ciphertext of 1 KiB
/// of plaintext with a P-256 point and SM3 tag, and room to spare).
const MAX_ASYMMETRIC_OUTPUT: usize = 8192;

impl Asymmetric {
    /// `TEE_AllocateOperation` for an asymmetric algorithm in `mode`
    /// (`Encrypt`/`Decrypt` or `Sign`/`Verify`).
    pub fn allocate(algo: AlgorithmId, mode: OperationMode, max_key_size: usize) -> Result<Self> {
        let classes = [gp::OPERATION_ASYMMETRIC_CIPHER, gp::OPERATION_ASYMMETRIC_SIGNATURE];
        OperationHandle::allocate(algo as u32, mode as u32, max_key_size, &classes).map(Asymmetric)
    }

    fn check(op: &OpState, class: u32, mode: u32) {
        if op.key1 == 0 || op.info.operation_class != class || op.info.mode != mode {
            tee_panic(0);
        }
    }

    fn operate(&self, mode: u32, params: &[Attribute<'_>], src: &[u8], dest: &mut [u8]) -> Result<usize> {
        let op = self.0.op();
        Self::check(&op, gp::OPERATION_ASYMMETRIC_CIPHER, mode);
        let (res, n) = cryp::asymm_operate(op.state, params, src, dest);
        use ErrorKind::*;
        allow(res, &[ShortBuffer, BadParameters, CiphertextInvalid, NotSupported])?;
        Ok(n.min(dest.len()))
    }

    fn operate_vec(&self, mode: u32, params: &[Attribute<'_>], src: &[u8]) -> Result<Vec<u8>> {
        let key_bytes = (self.0.op().info.key_size as usize).div_ceil(8);
        let mut out = vec![0u8; key_bytes.max(src.len() + 128).min(MAX_ASYMMETRIC_OUTPUT)];
        loop {
            let op = self.0.op();
            Self::check(&op, gp::OPERATION_ASYMMETRIC_CIPHER, mode);
            let (res, n) = cryp::asymm_operate(op.state, params, src, &mut out);
            drop(op);
            use ErrorKind::*;
            match allow(res, &[ShortBuffer, BadParameters, CiphertextInvalid, NotSupported]) {
                Ok(()) => {
                    out.truncate(n.min(out.len()));
                    return Ok(out);
                }
                Err(e) if e.kind() == ShortBuffer && n > out.len() && n <= MAX_ASYMMETRIC_OUTPUT => out.resize(n, 0),
                Err(e) => return Err(e),
            }
        }
    }

    /// `TEE_AsymmetricEncrypt` (mode `Encrypt`): the ciphertext of `src`.
    pub fn encrypt(&self, params: &[Attribute<'_>], src: &[u8]) -> Result<Vec<u8>> {
        self.operate_vec(gp::MODE_ENCRYPT, params, src)
    }

    /// `TEE_AsymmetricDecrypt` (mode `Decrypt`): the plaintext of `src`.
    /// `CiphertextInvalid` or `BadParameters` for a ciphertext that does
    /// not decrypt.
    pub fn decrypt(&self, params: &[Attribute<'_>], src: &[u8]) -> Result<Vec<u8>> {
        self.operate_vec(gp::MODE_DECRYPT, params, src)
    }

    /// [`encrypt`](Self::encrypt) into a caller's buffer: returns the
    /// length written, `ShortBuffer` if `dest` is too small.
    pub fn encrypt_into(&self, params: &[Attribute<'_>], src: &[u8], dest: &mut [u8]) -> Result<usize> {
        self.operate(gp::MODE_ENCRYPT, params, src, dest)
    }

    /// [`decrypt`](Self::decrypt) into a caller's buffer.
    pub fn decrypt_into(&self, params: &[Attribute<'_>], src: &[u8], dest: &mut [u8]) -> Result<usize> {
        self.operate(gp::MODE_DECRYPT, params, src, dest)
    }

    /// `TEE_AsymmetricSignDigest` (mode `Sign`): signs `digest` (the
    /// message itself for Ed25519) into `signature`, returning its length.
    /// `ShortBuffer` if `signature` is too small.
    pub fn sign_digest(&self, params: &[Attribute<'_>], digest: &[u8], signature: &mut [u8]) -> Result<usize> {
        let op = self.0.op();
        Self::check(&op, gp::OPERATION_ASYMMETRIC_SIGNATURE, gp::MODE_SIGN);
        let (res, n) = cryp::asymm_operate(op.state, params, digest, signature);
        allow(res, &[ErrorKind::ShortBuffer])?;
        Ok(n.min(signature.len()))
    }

    /// `TEE_AsymmetricVerifyDigest` (mode `Verify`): `SignatureInvalid`
    /// unless `signature` is valid for `digest`.
    pub fn verify_digest(&self, params: &[Attribute<'_>], digest: &[u8], signature: &[u8]) -> Result<()> {
        let op = self.0.op();
        Self::check(&op, gp::OPERATION_ASYMMETRIC_SIGNATURE, gp::MODE_VERIFY);
        allow(cryp::asymm_verify(op.state, params, digest, signature), &[ErrorKind::SignatureInvalid])
    }
}

/// A key-derivation operation (`TEE_DeriveKey`): DH, ECDH, X25519, HKDF,
/// PBKDF2, concat KDF, SM2 key exchange.
pub struct DeriveKey(OperationHandle);
common_methods!(DeriveKey);
key_methods!(DeriveKey);
key2_methods!(DeriveKey);

impl DeriveKey {
    /// `TEE_AllocateOperation` for a derivation (`MODE_DERIVE`).
    pub fn allocate(algo: AlgorithmId, max_key_size: usize) -> Result<Self> {
        OperationHandle::allocate(algo as u32, gp::MODE_DERIVE, max_key_size, &[gp::OPERATION_KEY_DERIVATION])
            .map(DeriveKey)
    }

    /// `TEE_DeriveKey`: derives into `object`, an uninitialized
    /// `GenericSecret` object (anything else panics, as does a kernel
    /// error: GP gives this call no error return).
    pub fn derive(&self, params: &[Attribute<'_>], object: &mut TransientObject) {
        let op = self.0.op();
        if object.handle() == 0
            || op.info.operation_class != gp::OPERATION_KEY_DERIVATION
            || op.key1 == 0
            || op.info.mode != gp::MODE_DERIVE
            || !op.has(gp::HANDLE_FLAG_KEY_SET)
        {
            tee_panic(0);
        }
        let info = object_info_or_panic(object.handle());
        if info.obj_type != gp::TYPE_GENERIC_SECRET || info.handle_flags & gp::HANDLE_FLAG_INITIALIZED != 0 {
            tee_panic(0);
        }
        check(cryp::derive_key(op.state, params, object.handle()));
    }
}

/// Random numbers from the TEE (`TEE_GenerateRandom`).
pub struct Random();

impl Random {
    /// Fills `res_buffer` with random bytes.
    pub fn generate(res_buffer: &mut [u8]) {
        check(cryp::random(res_buffer));
    }
}
