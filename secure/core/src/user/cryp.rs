//! The GP cryptography syscalls (numbers 15-40 and 54 of upstream's
//! `tee_syscall_numbers.h`), with upstream's kernel semantics: handle
//! tables of transient objects and operation states per TA instance, key
//! objects bound to a state, the state machine and the error codes of
//! `tee_svc_cryp.c`. The algorithms live in `oxtee-crypto`; this layer
//! marshals TA memory in and out.
//!
//! Everything here is owned by the instance's [`UserSpace`], so it is
//! dropped (and its secrets wiped) with the instance, whether the TA
//! frees it, dies, or the call is aborted. Kernel memory a TA can make us
//! hold is bounded: a fixed number of handles, chunked copies of payloads,
//! and a heap headroom check before anything that allocates inside the
//! algorithm crates.

use super::space::{Access, UserMem, UserSpace};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use oxtee_abi::addr::UserVirt;
use oxtee_abi::ta::crypto::{self as id, UteeAttribute, UteeObjectInfo};
use oxtee_abi::tee::TeeResult;
use oxtee_crypto::object::{AttrOut, Object};
use oxtee_crypto::{AttrRef, Attrs, ae, cipher, hash, kdf, mac, pk};
use zerocopy::{FromBytes, IntoBytes};

/// Objects plus states one instance may hold.
pub const MAX_HANDLES: usize = 4096;
/// Kernel memory one instance's objects and states may take (an estimate:
/// key bytes plus a fixed cost per object and state). Beyond it the TA
/// gets OUT_OF_MEMORY, so one TA cannot take the heap from the others.
pub const MAX_TABLE_BYTES: usize = 2 << 20;
pub(super) const OBJ_COST: usize = 128;
const STATE_COST: usize = 512;
/// Attributes in one populate / operate / derive / generate call.
const MAX_ATTRS: u64 = 64;
/// Bytes of attribute data in one call (an RSA-4096 keypair is ~2.3 KiB).
const MAX_ATTR_BYTES: u64 = 64 * 1024;
/// Payloads are processed this much at a time (kernel copy bounded).
const CHUNK: usize = 16 * 1024;
/// Longest input an asymmetric operation takes (a 4096-bit block, an
/// EdDSA message, an SM2 ciphertext).
const MAX_ASYM_INPUT: u64 = 64 * 1024;
/// Free heap asked for before calls that allocate inside the algorithm
/// crates (whose allocations cannot fail gracefully).
const HEADROOM: usize = 192 * 1024;

type R<T> = Result<T, TeeResult>;

fn v(a: u64) -> UserVirt {
    UserVirt::new(a)
}

/// Whether the heap can take what an algorithm may allocate; OUT_OF_MEMORY
/// instead of a panic deep inside a crate.
fn headroom() -> R<()> {
    if oxtee_guard::heap::room_for(HEADROOM) { Ok(()) } else { Err(TeeResult::ERROR_OUT_OF_MEMORY) }
}

/// A byte buffer allocated fallibly.
fn buffer(len: usize) -> R<Vec<u8>> {
    let mut b = Vec::new();
    b.try_reserve_exact(len).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    b.resize(len, 0);
    Ok(b)
}

fn secret_buffer(len: usize) -> R<oxtee_crypto::Secret> {
    Ok(zeroize::Zeroizing::new(buffer(len)?))
}

enum Ctx {
    None,
    Hash(Box<dyn hash::Hash>),
    Mac(Box<dyn mac::Mac>),
    Cipher(Box<dyn cipher::Cipher>),
    Ae(Box<dyn ae::Ae>, usize),
}

impl Ctx {
    fn try_clone(&self) -> Ctx {
        match self {
            Ctx::None => Ctx::None,
            Ctx::Hash(h) => Ctx::Hash(h.box_clone()),
            Ctx::Mac(m) => Ctx::Mac(m.box_clone()),
            Ctx::Cipher(c) => Ctx::Cipher(c.box_clone()),
            Ctx::Ae(a, t) => Ctx::Ae(a.box_clone(), *t),
        }
    }
}

struct State {
    algo: u32,
    mode: u32,
    /// Key objects bound to the state (0: none); closed with it.
    key1: u32,
    key2: u32,
    initialized: bool,
    ctx: Ctx,
}

pub(super) struct ObjEntry {
    pub(super) obj: Object,
    /// Bound to an operation state: invisible to the object calls.
    pub(super) busy: bool,
    /// A persistent object's handle state (its file, flags, position).
    pub(super) pers: Option<super::storage::Pers>,
}

/// One instance's crypto objects and operation states.
#[derive(Default)]
pub struct Table {
    pub(super) objs: BTreeMap<u32, ObjEntry>,
    states: BTreeMap<u32, State>,
    /// Persistent-object enumerators.
    pub(super) enums: BTreeMap<u32, super::storage::Enumerator>,
    next: u32,
}

impl Table {
    /// Live objects and states (for the leak checks of the test build).
    pub fn count(&self) -> usize {
        self.objs.len() + self.states.len() + self.enums.len()
    }

    /// Kernel memory charged to the instance for its objects and states.
    pub fn used(&self) -> usize {
        let key = |o: &Object| {
            o.attrs()
                .iter()
                .map(|a| match a {
                    oxtee_crypto::Attr::Bytes(_, b) => b.len(),
                    oxtee_crypto::Attr::Value(..) => 8,
                })
                .sum::<usize>()
        };
        self.objs.values().map(|e| OBJ_COST + key(&e.obj)).sum::<usize>() + self.states.len() * STATE_COST
    }

    /// After object `h` took key material: OUT_OF_MEMORY, and the object
    /// emptied again, if that took the instance over its budget.
    fn settle(&mut self, h: u64, r: R<()>) -> R<()> {
        r?;
        if self.used() > MAX_TABLE_BYTES {
            self.obj_mut(h)?.obj.reset()?;
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        Ok(())
    }

    pub(super) fn new_handle(&mut self, cost: usize) -> R<u32> {
        if self.count() >= MAX_HANDLES || self.used() + cost > MAX_TABLE_BYTES {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        loop {
            self.next = self.next.wrapping_add(1);
            let h = self.next;
            if h != 0 && !self.objs.contains_key(&h) && !self.states.contains_key(&h) && !self.enums.contains_key(&h) {
                return Ok(h);
            }
        }
    }

    /// An object the TA may name (BAD_STATE otherwise, as upstream's
    /// `tee_obj_get`). Keys bound to a state stay reachable, as upstream:
    /// libutee resets and copies into them; only closing them is refused.
    pub(super) fn obj(&self, h: u64) -> R<&ObjEntry> {
        let h = u32::try_from(h).map_err(|_| TeeResult::ERROR_BAD_STATE)?;
        self.objs.get(&h).ok_or(TeeResult::ERROR_BAD_STATE)
    }

    pub(super) fn obj_mut(&mut self, h: u64) -> R<&mut ObjEntry> {
        let h = u32::try_from(h).map_err(|_| TeeResult::ERROR_BAD_STATE)?;
        self.objs.get_mut(&h).ok_or(TeeResult::ERROR_BAD_STATE)
    }

    fn state(&self, h: u64) -> R<&State> {
        let h = u32::try_from(h).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
        self.states.get(&h).ok_or(TeeResult::ERROR_BAD_PARAMETERS)
    }

    fn state_mut(&mut self, h: u64) -> R<&mut State> {
        let h = u32::try_from(h).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
        self.states.get_mut(&h).ok_or(TeeResult::ERROR_BAD_PARAMETERS)
    }

    fn free_state(&mut self, h: u32) {
        if let Some(s) = self.states.remove(&h) {
            for k in [s.key1, s.key2] {
                if k != 0 {
                    self.objs.remove(&k);
                }
            }
        }
    }
}

/// The key object type an algorithm accepts in `mode` (and a second one,
/// 0 when none), as upstream's `tee_svc_cryp_check_key_type`.
fn key_types(algo: u32, mode: u32) -> Option<(u32, u32)> {
    let verify_or_enc = mode == id::MODE_ENCRYPT || mode == id::MODE_VERIFY;
    let t = match id::alg_main(algo) {
        id::MAIN_ALGO_MD5 => (id::TYPE_HMAC_MD5, 0),
        id::MAIN_ALGO_SHA1 => (id::TYPE_HMAC_SHA1, 0),
        id::MAIN_ALGO_SHA224 => (id::TYPE_HMAC_SHA224, 0),
        id::MAIN_ALGO_SHA256 => (id::TYPE_HMAC_SHA256, 0),
        id::MAIN_ALGO_SHA384 => (id::TYPE_HMAC_SHA384, 0),
        id::MAIN_ALGO_SHA512 => (id::TYPE_HMAC_SHA512, 0),
        id::MAIN_ALGO_SHA3_224 => (id::TYPE_HMAC_SHA3_224, 0),
        id::MAIN_ALGO_SHA3_256 => (id::TYPE_HMAC_SHA3_256, 0),
        id::MAIN_ALGO_SHA3_384 => (id::TYPE_HMAC_SHA3_384, 0),
        id::MAIN_ALGO_SHA3_512 => (id::TYPE_HMAC_SHA3_512, 0),
        id::MAIN_ALGO_SM3 => (id::TYPE_HMAC_SM3, 0),
        id::MAIN_ALGO_AES => (id::TYPE_AES, 0),
        id::MAIN_ALGO_DES => (id::TYPE_DES, 0),
        id::MAIN_ALGO_DES3 => (id::TYPE_DES3, 0),
        id::MAIN_ALGO_SM4 => (id::TYPE_SM4, 0),
        id::MAIN_ALGO_RSA => (id::TYPE_RSA_KEYPAIR, if verify_or_enc { id::TYPE_RSA_PUBLIC_KEY } else { 0 }),
        id::MAIN_ALGO_DSA => (id::TYPE_DSA_KEYPAIR, if verify_or_enc { id::TYPE_DSA_PUBLIC_KEY } else { 0 }),
        id::MAIN_ALGO_DH => (id::TYPE_DH_KEYPAIR, 0),
        id::MAIN_ALGO_ECDSA => {
            (id::TYPE_ECDSA_KEYPAIR, if mode == id::MODE_VERIFY { id::TYPE_ECDSA_PUBLIC_KEY } else { 0 })
        }
        id::MAIN_ALGO_ECDH => (id::TYPE_ECDH_KEYPAIR, 0),
        id::MAIN_ALGO_ED25519 => {
            (id::TYPE_ED25519_KEYPAIR, if mode == id::MODE_VERIFY { id::TYPE_ED25519_PUBLIC_KEY } else { 0 })
        }
        id::MAIN_ALGO_SM2_PKE => {
            (if mode == id::MODE_ENCRYPT { id::TYPE_SM2_PKE_PUBLIC_KEY } else { id::TYPE_SM2_PKE_KEYPAIR }, 0)
        }
        id::MAIN_ALGO_SM2_DSA_SM3 => {
            (if mode == id::MODE_VERIFY { id::TYPE_SM2_DSA_PUBLIC_KEY } else { id::TYPE_SM2_DSA_KEYPAIR }, 0)
        }
        id::MAIN_ALGO_SM2_KEP => (id::TYPE_SM2_KEP_KEYPAIR, id::TYPE_SM2_KEP_PUBLIC_KEY),
        id::MAIN_ALGO_HKDF => (id::TYPE_HKDF_IKM, 0),
        id::MAIN_ALGO_CONCAT_KDF => (id::TYPE_CONCAT_KDF_Z, 0),
        id::MAIN_ALGO_PBKDF2 => (id::TYPE_PBKDF2_PASSWORD, 0),
        id::MAIN_ALGO_X25519 => (id::TYPE_X25519_KEYPAIR, 0),
        id::MAIN_ALGO_X448 => (id::TYPE_X448_KEYPAIR, 0),
        _ => return None,
    };
    Some(t)
}

/// The ECDSA identifiers upstream once used, mapped as its kernel still
/// maps them (the old ECDH ones equal the new one).
fn translate_compat(algo: u32) -> u32 {
    match algo {
        id::ALG_ECDSA_P192 => id::ALG_ECDSA_SHA1,
        id::ALG_ECDSA_P224 => id::ALG_ECDSA_SHA224,
        id::ALG_ECDSA_P256 => id::ALG_ECDSA_SHA256,
        id::ALG_ECDSA_P384 => id::ALG_ECDSA_SHA384,
        id::ALG_ECDSA_P521 => id::ALG_ECDSA_SHA512,
        a => a,
    }
}

/// The digest or MAC length of a hash or MAC algorithm.
fn digest_len(algo: u32) -> R<usize> {
    let main = match id::alg_class(algo) {
        id::OPERATION_DIGEST => id::alg_main(algo),
        id::OPERATION_MAC => match id::alg_chain(algo) {
            // HMAC: the main algorithm is the hash.
            _ if id::alg_main(algo) < id::MAIN_ALGO_AES => id::alg_main(algo),
            _ => {
                return Ok(if id::alg_main(algo) == id::MAIN_ALGO_AES || id::alg_main(algo) == id::MAIN_ALGO_SM4 {
                    16
                } else {
                    8
                });
            }
        },
        _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
    };
    Ok(match main {
        id::MAIN_ALGO_MD5 => 16,
        id::MAIN_ALGO_SHA1 => 20,
        id::MAIN_ALGO_SHA224 | id::MAIN_ALGO_SHA3_224 => 28,
        id::MAIN_ALGO_SHA256 | id::MAIN_ALGO_SHA3_256 | id::MAIN_ALGO_SM3 => 32,
        id::MAIN_ALGO_SHA384 | id::MAIN_ALGO_SHA3_384 => 48,
        id::MAIN_ALGO_SHA512 | id::MAIN_ALGO_SHA3_512 => 64,
        _ => return Err(TeeResult::ERROR_NOT_SUPPORTED),
    })
}

/// The TA's `utee_attribute` list, copied in and checked: reference
/// attributes' bytes are copied too (into `store`), so nothing is read
/// from user memory twice.
struct AttrList {
    heads: Vec<UteeAttribute>,
    store: oxtee_crypto::Secret,
    /// Where each reference attribute's bytes were in the TA (for the
    /// one output attribute, SM2 KEP's confirmation).
    user: Vec<u64>,
}

impl AttrList {
    fn read(mem: &UserMem, ptr: u64, count: u64) -> R<AttrList> {
        if count > MAX_ATTRS {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let n = count as usize;
        let mut raw = buffer(n * size_of::<UteeAttribute>())?;
        if n != 0 {
            mem.read(v(ptr), &mut raw)?;
        }
        let mut heads = Vec::new();
        heads.try_reserve_exact(n).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        let mut total = 0u64;
        for c in raw.chunks_exact(size_of::<UteeAttribute>()) {
            let a = UteeAttribute::read_from_bytes(c).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
            if !id::attr_is_value(a.attribute_id) {
                total = total.checked_add(a.b).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            }
            heads.push(a);
        }
        if total > MAX_ATTR_BYTES {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut store = secret_buffer(total as usize)?;
        let mut user = Vec::new();
        user.try_reserve_exact(n).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        let mut at = 0usize;
        for a in heads.iter_mut() {
            user.push(a.a);
            if id::attr_is_value(a.attribute_id) {
                continue;
            }
            let len = a.b as usize;
            if len != 0 {
                mem.read(v(a.a), &mut store[at..at + len]).map_err(|_| TeeResult::ERROR_ACCESS_DENIED)?;
            }
            // From now on `a` is the offset of the bytes in `store`.
            a.a = at as u64;
            at += len;
        }
        Ok(AttrList { heads, store, user })
    }

    /// The TA's address and length of reference attribute `id`.
    fn user_ref(&self, id: u32) -> Option<(u64, u64)> {
        let i = self.heads.iter().position(|a| a.attribute_id == id && !id::attr_is_value(id))?;
        Some((self.user[i], self.heads[i].b))
    }

    fn refs(&self) -> R<Vec<AttrRef<'_>>> {
        let mut out = Vec::new();
        out.try_reserve_exact(self.heads.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        for a in &self.heads {
            out.push(if id::attr_is_value(a.attribute_id) {
                AttrRef::Value(a.attribute_id, a.a as u32, a.b as u32)
            } else {
                let (at, len) = (a.a as usize, a.b as usize);
                AttrRef::Bytes(a.attribute_id, &self.store[at..at + len])
            });
        }
        Ok(out)
    }
}

/// The OS's random generator as the algorithms want it.
struct OsRng<'a> {
    fill: &'a dyn Fn(&mut [u8]),
}

impl oxtee_crypto::Rng for OsRng<'_> {
    fn fill(&mut self, out: &mut [u8]) {
        (self.fill)(out)
    }
}

/// Reads a user `uint64_t` length (ACCESS_DENIED if unreadable).
fn read_len(mem: &UserMem, ptr: u64) -> R<u64> {
    let mut b = [0u8; 8];
    mem.read(v(ptr), &mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn write_len(mem: &mut UserMem, ptr: u64, len: u64) -> R<()> {
    mem.write(v(ptr), &len.to_le_bytes())
}

fn check_read(mem: &UserMem, ptr: u64, len: u64) -> R<()> {
    if len == 0 || mem.check(v(ptr), len, Access::Read) { Ok(()) } else { Err(TeeResult::ERROR_ACCESS_DENIED) }
}

fn check_write(mem: &UserMem, ptr: u64, len: u64) -> R<()> {
    if len == 0 || mem.check(v(ptr), len, Access::Write) { Ok(()) } else { Err(TeeResult::ERROR_ACCESS_DENIED) }
}

/// Feeds user memory [ptr, ptr+len) to `f` where it lies (hashing and
/// MACs read the TA's pages directly: nothing secret goes back).
fn feed(mem: &UserMem, ptr: u64, len: u64, f: impl FnMut(&[u8]) -> R<()>) -> R<()> {
    if len == 0 {
        return Ok(());
    }
    mem.visit(v(ptr), len, f)
}

/// Copies [src, src+len) through `f` (in place) into dst, a chunk at a
/// time. `f(chunk, last)`.
fn transform(
    mem: &mut UserMem,
    src: u64,
    dst: u64,
    len: u64,
    whole: usize,
    mut f: impl FnMut(&mut [u8], bool) -> R<()>,
) -> R<()> {
    if len == 0 {
        return f(&mut [], true);
    }
    // Chunks stay multiples of the block so block modes see whole blocks
    // until the last one.
    let step = (CHUNK / whole.max(1)) * whole.max(1);
    let mut chunk = buffer((len as usize).min(step))?;
    let mut done = 0u64;
    while done < len {
        let n = ((len - done) as usize).min(step);
        let last = done + n as u64 == len;
        mem.read(v(src + done), &mut chunk[..n])?;
        f(&mut chunk[..n], last)?;
        mem.write(v(dst + done), &chunk[..n])?;
        done += n as u64;
    }
    chunk.fill(0);
    Ok(())
}

/// Algorithms an operation state can be allocated for.
fn supported(algo: u32) -> bool {
    use id::*;
    matches!(
        algo,
        ALG_MD5
            | ALG_SHA1
            | ALG_SHA224
            | ALG_SHA256
            | ALG_SHA384
            | ALG_SHA512
            | ALG_SHA3_224
            | ALG_SHA3_256
            | ALG_SHA3_384
            | ALG_SHA3_512
            | ALG_SHAKE128
            | ALG_SHAKE256
            | ALG_SM3
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
            | ALG_AES_CMAC
            | ALG_DES3_CMAC
            | ALG_AES_CBC_MAC_NOPAD
            | ALG_AES_CBC_MAC_PKCS5
            | ALG_DES_CBC_MAC_NOPAD
            | ALG_DES_CBC_MAC_PKCS5
            | ALG_DES3_CBC_MAC_NOPAD
            | ALG_DES3_CBC_MAC_PKCS5
            | ALG_AES_ECB_NOPAD
            | ALG_AES_CBC_NOPAD
            | ALG_AES_CTR
            | ALG_AES_CTS
            | ALG_AES_XTS
            | ALG_DES_ECB_NOPAD
            | ALG_DES_CBC_NOPAD
            | ALG_DES3_ECB_NOPAD
            | ALG_DES3_CBC_NOPAD
            | ALG_SM4_ECB_NOPAD
            | ALG_SM4_CBC_NOPAD
            | ALG_SM4_CTR
            | ALG_SM4_XTS
            | ALG_AES_GCM
            | ALG_AES_CCM
            | ALG_RSASSA_PKCS1_V1_5
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
            | ALG_RSAES_PKCS1_V1_5
            | ALG_RSAES_PKCS1_OAEP_MGF1_MD5
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA1
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA224
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA256
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA384
            | ALG_RSAES_PKCS1_OAEP_MGF1_SHA512
            | ALG_RSA_NOPAD
            | ALG_DSA_SHA1
            | ALG_DSA_SHA224
            | ALG_DSA_SHA256
            | ALG_DH_DERIVE_SHARED_SECRET
            | ALG_ECDSA_SHA1
            | ALG_ECDSA_SHA224
            | ALG_ECDSA_SHA256
            | ALG_ECDSA_SHA384
            | ALG_ECDSA_SHA512
            | ALG_ECDH_DERIVE_SHARED_SECRET
            | ALG_ED25519
            | ALG_X25519
            | ALG_SM2_DSA_SM3
            | ALG_SM2_PKE
            | ALG_SM2_KEP
            | ALG_HKDF
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
    )
}

/// The crypto syscalls. `rand` fills a buffer from the OS's DRBG.
pub fn syscall(n: u32, a: &[u64; 31], space: &mut UserSpace, rand: &dyn Fn(&mut [u8])) -> R<()> {
    use oxtee_abi::ta as sc;
    let (mem, t) = space.split();
    match n {
        sc::SYS_CRYP_STATE_ALLOC => state_alloc(mem, t, a),
        sc::SYS_CRYP_STATE_COPY => state_copy(t, a[0], a[1]),
        sc::SYS_CRYP_STATE_FREE => {
            let h = t.state(a[0]).map(|_| a[0] as u32)?;
            t.free_state(h);
            Ok(())
        }
        sc::SYS_HASH_INIT => hash_init(t, a[0]),
        sc::SYS_HASH_UPDATE => hash_update(mem, t, a[0], a[1], a[2]),
        sc::SYS_HASH_FINAL => hash_final(mem, t, a),
        sc::SYS_CIPHER_INIT => cipher_init(mem, t, a[0], a[1], a[2]),
        sc::SYS_CIPHER_UPDATE => cipher_update(mem, t, a, false),
        sc::SYS_CIPHER_FINAL => cipher_update(mem, t, a, true),
        sc::SYS_CRYP_OBJ_GET_INFO => {
            let info = t.obj(a[0])?.obj.info();
            mem.write(v(a[1]), info.as_bytes())
        }
        sc::SYS_CRYP_OBJ_RESTRICT_USAGE => {
            t.obj_mut(a[0])?.obj.restrict_usage(a[1] as u32);
            Ok(())
        }
        sc::SYS_CRYP_OBJ_GET_ATTR => obj_get_attr(mem, t, a),
        sc::SYS_CRYP_OBJ_ALLOC => obj_alloc(mem, t, a),
        sc::SYS_CRYP_OBJ_CLOSE => {
            let e = t.obj(a[0])?;
            if e.busy {
                return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
            }
            t.objs.remove(&(a[0] as u32));
            Ok(())
        }
        sc::SYS_CRYP_OBJ_RESET => t.obj_mut(a[0])?.obj.reset(),
        sc::SYS_CRYP_OBJ_POPULATE => obj_populate(mem, t, a),
        sc::SYS_CRYP_OBJ_COPY => obj_copy(t, a[0], a[1]),
        sc::SYS_CRYP_OBJ_GENERATE_KEY => obj_generate(mem, t, a, rand),
        sc::SYS_CRYP_DERIVE_KEY => derive_key(mem, t, a, rand),
        sc::SYS_AUTHENC_INIT => authenc_init(mem, t, a),
        sc::SYS_AUTHENC_UPDATE_AAD => authenc_aad(mem, t, a[0], a[1], a[2]),
        sc::SYS_AUTHENC_UPDATE_PAYLOAD => authenc_payload(mem, t, a),
        sc::SYS_AUTHENC_ENC_FINAL => authenc_enc_final(mem, t, a),
        sc::SYS_AUTHENC_DEC_FINAL => authenc_dec_final(mem, t, a),
        sc::SYS_ASYMM_OPERATE => asymm_operate(mem, t, a, rand),
        sc::SYS_ASYMM_VERIFY => asymm_verify(mem, t, a),
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

/// Whether `n` is one of the calls [`syscall`] serves.
pub fn is_cryp_syscall(n: u32) -> bool {
    use oxtee_abi::ta as sc;
    (sc::SYS_CRYP_STATE_ALLOC..=sc::SYS_ASYMM_VERIFY).contains(&n) && n != sc::SYS_CRYP_RANDOM_NUMBER_GENERATE
        || n == sc::SYS_CRYP_OBJ_GENERATE_KEY
}

fn state_alloc(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let algo = translate_compat(a[0] as u32);
    let mode = a[1] as u32;
    let (key1, key2, out) = (a[2], a[3], a[4]);
    for k in [key1, key2] {
        if k != 0 {
            let e = t.obj(k)?;
            if e.busy {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let (r1, r2) = key_types(algo, mode).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            if e.obj.obj_type != r1 && e.obj.obj_type != r2 {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
        }
    }
    let class = id::alg_class(algo);
    let (has1, has2) = (key1 != 0, key2 != 0);
    let keys_ok = match class {
        id::OPERATION_CIPHER if id::alg_chain(algo) == id::CHAIN_MODE_XTS => has1 && has2,
        id::OPERATION_CIPHER
        | id::OPERATION_AE
        | id::OPERATION_MAC
        | id::OPERATION_ASYMMETRIC_CIPHER
        | id::OPERATION_ASYMMETRIC_SIGNATURE => has1 && !has2,
        id::OPERATION_DIGEST => !has1 && !has2,
        id::OPERATION_KEY_DERIVATION if algo == id::ALG_SM2_KEP => has1 && has2,
        id::OPERATION_KEY_DERIVATION => has1 && !has2,
        _ => return Err(TeeResult::ERROR_NOT_SUPPORTED),
    };
    if !supported(algo) {
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    if !keys_ok {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    headroom()?;
    let ctx = if class == id::OPERATION_DIGEST { Ctx::Hash(hash::new(algo)?) } else { Ctx::None };
    let h = t.new_handle(STATE_COST)?;
    mem.write_u32(v(out), h)?;
    for k in [key1, key2] {
        if k != 0
            && let Ok(e) = t.obj_mut(k)
        {
            e.busy = true;
        }
    }
    t.states.insert(h, State { algo, mode, key1: key1 as u32, key2: key2 as u32, initialized: false, ctx });
    Ok(())
}

fn state_copy(t: &mut Table, dst: u64, src: u64) -> R<()> {
    t.state(dst)?;
    let s = t.state(src)?;
    let (algo, mode, initialized) = (s.algo, s.mode, s.initialized);
    let d = t.state(dst)?;
    if d.algo != algo || d.mode != mode {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    match id::alg_class(algo) {
        id::OPERATION_CIPHER | id::OPERATION_AE | id::OPERATION_DIGEST | id::OPERATION_MAC => {}
        _ => return Err(TeeResult::ERROR_BAD_STATE),
    }
    headroom()?;
    let ctx = t.state(src)?.ctx.try_clone();
    let d = t.state_mut(dst)?;
    d.ctx = ctx;
    d.initialized = initialized;
    Ok(())
}

/// The secret value of the key object bound as `key` (BAD_PARAMETERS
/// when it holds no key yet), copied so the table can be borrowed again.
fn key_secret(t: &Table, key: u32) -> R<oxtee_crypto::Secret> {
    let e = t.objs.get(&key).ok_or(TeeResult::ERROR_BAD_STATE)?;
    if !e.obj.is_initialized() {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let s = e.obj.bytes(id::ATTR_SECRET_VALUE).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
    let mut out = secret_buffer(s.len())?;
    out.copy_from_slice(s);
    Ok(out)
}

fn hash_init(t: &mut Table, st: u64) -> R<()> {
    let s = t.state(st)?;
    match id::alg_class(s.algo) {
        id::OPERATION_DIGEST => {
            let algo = s.algo;
            let h = hash::new(algo)?;
            let s = t.state_mut(st)?;
            s.ctx = Ctx::Hash(h);
        }
        id::OPERATION_MAC => {
            let (algo, key1) = (s.algo, s.key1);
            let key = key_secret(t, key1)?;
            let m = mac::new(algo, &key)?;
            t.state_mut(st)?.ctx = Ctx::Mac(m);
        }
        _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
    t.state_mut(st)?.initialized = true;
    Ok(())
}

/// Runs `f` on state `st` next to the TA's memory. The state stays in
/// the table throughout, so an aborted call leaves it where the
/// instance's teardown finds it.
fn with_state<T>(mem: &mut UserMem, t: &mut Table, st: u64, f: impl FnOnce(&mut State, &mut UserMem) -> R<T>) -> R<T> {
    let h = u32::try_from(st).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
    let s = t.states.get_mut(&h).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
    f(s, mem)
}

fn hash_update(mem: &mut UserMem, t: &mut Table, st: u64, chunk: u64, len: u64) -> R<()> {
    if chunk == 0 && len != 0 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    if len == 0 {
        return Ok(());
    }
    check_read(mem, chunk, len)?;
    with_state(mem, t, st, |s, mem| {
        if !s.initialized {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        match &mut s.ctx {
            Ctx::Hash(h) => feed(mem, chunk, len, |c| {
                h.update(c);
                Ok(())
            }),
            Ctx::Mac(m) => feed(mem, chunk, len, |c| m.update(c)),
            _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
        }
    })
}

fn hash_final(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (st, chunk, len, out, out_len) = (a[0], a[1], a[2], a[3], a[4]);
    if chunk == 0 && len != 0 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    check_read(mem, chunk, len)?;
    let hlen = read_len(mem, out_len)?;
    check_write(mem, out, hlen)?;
    with_state(mem, t, st, |s, mem| {
        if !s.initialized {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        let xof = s.algo == id::ALG_SHAKE128 || s.algo == id::ALG_SHAKE256;
        if xof {
            let Ctx::Hash(h) = &mut s.ctx else { return Err(TeeResult::ERROR_BAD_PARAMETERS) };
            feed(mem, chunk, len, |c| {
                h.update(c);
                Ok(())
            })?;
            let n = usize::try_from(hlen).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
            if n > MAX_ASYM_INPUT as usize {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let mut d = buffer(n)?;
            h.finish(&mut d);
            return mem.write(v(out), &d);
        }
        let size = digest_len(s.algo)?;
        if hlen < size as u64 {
            write_len(mem, out_len, size as u64)?;
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        let mut d = [0u8; 64];
        match &mut s.ctx {
            Ctx::Hash(h) => {
                feed(mem, chunk, len, |c| {
                    h.update(c);
                    Ok(())
                })?;
                h.finish(&mut d[..size]);
            }
            Ctx::Mac(m) => {
                feed(mem, chunk, len, |c| m.update(c))?;
                m.finish(&mut d[..size])?;
            }
            _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
        }
        mem.write(v(out), &d[..size])?;
        d.fill(0);
        write_len(mem, out_len, size as u64)
    })
}

fn cipher_init(mem: &mut UserMem, t: &mut Table, st: u64, iv: u64, iv_len: u64) -> R<()> {
    let s = t.state(st)?;
    if id::alg_class(s.algo) != id::OPERATION_CIPHER {
        return Err(TeeResult::ERROR_BAD_STATE);
    }
    let (algo, mode, k1, k2) = (s.algo, s.mode, s.key1, s.key2);
    let key1 = key_secret(t, k1)?;
    if iv_len > 64 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let mut ivb = [0u8; 64];
    let ivb = &mut ivb[..iv_len as usize];
    if iv_len != 0 {
        mem.read(v(iv), ivb)?;
    }
    let key2 = if k2 != 0 { Some(key_secret(t, k2)?) } else { None };
    headroom()?;
    let c = cipher::new(algo, mode == id::MODE_ENCRYPT, &key1, key2.as_deref().map(|k| &k[..]), ivb)?;
    let s = t.state_mut(st)?;
    s.ctx = Ctx::Cipher(c);
    s.initialized = true;
    Ok(())
}

fn cipher_update(mem: &mut UserMem, t: &mut Table, a: &[u64; 31], last: bool) -> R<()> {
    let (st, src, len, dst, dst_len) = (a[0], a[1], a[2], a[3], a[4]);
    with_state(mem, t, st, |s, mem| {
        if !s.initialized {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        check_read(mem, src, len)?;
        let dlen = if dst_len == 0 { 0 } else { read_len(mem, dst_len)? };
        if dst_len != 0 {
            check_write(mem, dst, dlen)?;
        }
        if dlen < len {
            if dst_len != 0 {
                write_len(mem, dst_len, len)?;
            }
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        let Ctx::Cipher(c) = &mut s.ctx else { return Err(TeeResult::ERROR_BAD_STATE) };
        let block = c.block_len();
        if len > 0 {
            transform(
                mem,
                src,
                dst,
                len,
                block,
                |chunk, end| {
                    if last && end { c.finish(chunk) } else { c.update(chunk) }
                },
            )?;
        }
        if dst_len != 0 {
            write_len(mem, dst_len, len)?;
        }
        Ok(())
    })
}

fn obj_get_attr(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (obj, attr, buf, size) = (a[0], a[1] as u32, a[2], a[3]);
    let e = t.obj(obj).map_err(|_| TeeResult::ERROR_ITEM_NOT_FOUND)?;
    let room = read_len(mem, size)?;
    let mut tmp = [0u8; 8];
    let out: oxtee_crypto::Secret = match e.obj.get_attr(attr)? {
        AttrOut::Bytes(b) => {
            let mut s = secret_buffer(b.len())?;
            s.copy_from_slice(b);
            s
        }
        AttrOut::Value(x, y) => {
            tmp[..4].copy_from_slice(&x.to_le_bytes());
            tmp[4..].copy_from_slice(&y.to_le_bytes());
            if room < 8 || buf == 0 {
                return Err(TeeResult::ERROR_SHORT_BUFFER);
            }
            return mem.write(v(buf), &tmp);
        }
    };
    write_len(mem, size, out.len() as u64)?;
    if out.is_empty() {
        return Ok(());
    }
    if room < out.len() as u64 || buf == 0 {
        return Err(TeeResult::ERROR_SHORT_BUFFER);
    }
    mem.write(v(buf), &out)
}

fn obj_alloc(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (ty, max, out) = (a[0] as u32, a[1], a[2]);
    let max = u32::try_from(max).map_err(|_| TeeResult::ERROR_NOT_SUPPORTED)?;
    let obj = Object::alloc(ty, max)?;
    let h = t.new_handle(OBJ_COST)?;
    mem.write_u32(v(out), h)?;
    t.objs.insert(h, ObjEntry { obj, busy: false, pers: None });
    Ok(())
}

fn obj_populate(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (obj, attrs, count) = (a[0], a[1], a[2]);
    let e = t.obj(obj)?;
    if e.obj.is_initialized() {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let list = AttrList::read(mem, attrs, count)?;
    let refs = list.refs()?;
    headroom()?;
    let r = t.obj_mut(obj)?.obj.populate(&refs);
    t.settle(obj, r)
}

fn obj_copy(t: &mut Table, dst: u64, src: u64) -> R<()> {
    t.obj(dst)?;
    let s = t.obj(src)?;
    if !s.obj.is_initialized() {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    if t.obj(dst)?.obj.is_initialized() {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    headroom()?;
    let (dh, sh) = (dst as u32, src as u32);
    if dh == sh {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let mut d = t.objs.remove(&dh).ok_or(TeeResult::ERROR_BAD_STATE)?;
    let r = match t.objs.get(&sh) {
        Some(s) => d.obj.copy_from(&s.obj),
        None => Err(TeeResult::ERROR_BAD_STATE),
    };
    t.objs.insert(dh, d);
    t.settle(dst, r)
}

fn obj_generate(mem: &mut UserMem, t: &mut Table, a: &[u64; 31], rand: &dyn Fn(&mut [u8])) -> R<()> {
    let (obj, key_size, params, count) = (a[0], a[1], a[2], a[3]);
    let e = t.obj(obj)?;
    if e.obj.is_initialized() {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let key_size = u32::try_from(key_size).map_err(|_| TeeResult::ERROR_NOT_SUPPORTED)?;
    let list = AttrList::read(mem, params, count)?;
    let refs = list.refs()?;
    headroom()?;
    let mut rng = OsRng { fill: rand };
    let r = t.obj_mut(obj)?.obj.generate(key_size, &refs, &mut rng);
    t.settle(obj, r)
}

fn derive_key(mem: &mut UserMem, t: &mut Table, a: &[u64; 31], rand: &dyn Fn(&mut [u8])) -> R<()> {
    let (st, params, count, derived) = (a[0], a[1], a[2], a[3]);
    let s = t.state(st)?;
    let (algo, k1, k2) = (s.algo, s.key1, s.key2);
    let list = AttrList::read(mem, params, count)?;
    let refs = list.refs()?;
    let key = &t.objs.get(&k1).ok_or(TeeResult::ERROR_BAD_STATE)?.obj;
    let out = t.obj(derived)?;
    if !is_secret_type(out.obj.obj_type) {
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    headroom()?;
    let mut rng = OsRng { fill: rand };
    let secret = match id::alg_main(algo) {
        id::MAIN_ALGO_HKDF | id::MAIN_ALGO_CONCAT_KDF | id::MAIN_ALGO_PBKDF2 => {
            // Each KDF key type keeps its secret under its own attribute.
            let attr = match key.obj_type {
                id::TYPE_HKDF_IKM => id::ATTR_HKDF_IKM,
                id::TYPE_CONCAT_KDF_Z => id::ATTR_CONCAT_KDF_Z,
                id::TYPE_PBKDF2_PASSWORD => id::ATTR_PBKDF2_PASSWORD,
                _ => id::ATTR_SECRET_VALUE,
            };
            let ikm = key.bytes(attr).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            kdf::derive(algo, ikm, &refs, MAX_DERIVED)?
        }
        _ if algo == id::ALG_SM2_KEP => {
            // Key 1 is our static keypair, key 2 our ephemeral one; the
            // shared key is as long as the output object can hold.
            let key2 = &t.objs.get(&k2).ok_or(TeeResult::ERROR_BAD_STATE)?.obj;
            // The length is the output object's maximum size read as bytes,
            // as upstream does; at most what the object can take.
            let len = out.obj.max_size as usize;
            if len > MAX_DERIVED {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            let (secret, conf) = pk::sm2_kep_derive(key, key2, &refs, len)?;
            // Our confirmation goes back to the TA's CONFIRMATION_OUT
            // buffer (upstream fills only a kernel copy of it).
            if let (Some(c), Some((ptr, len))) = (conf, list.user_ref(id::ATTR_SM2_KEP_CONFIRMATION_OUT))
                && len >= c.len() as u64
            {
                mem.write(v(ptr), &c)?;
            }
            secret
        }
        _ => {
            // The peer's public value, exactly as upstream wants it listed.
            let ids: &[u32] = match algo {
                id::ALG_DH_DERIVE_SHARED_SECRET => &[id::ATTR_DH_PUBLIC_VALUE],
                id::ALG_ECDH_DERIVE_SHARED_SECRET => &[id::ATTR_ECC_PUBLIC_VALUE_X, id::ATTR_ECC_PUBLIC_VALUE_Y],
                id::ALG_X25519 => &[id::ATTR_X25519_PUBLIC_VALUE],
                _ => &[],
            };
            if !ids.is_empty() && (refs.len() != ids.len() || refs.iter().zip(ids).any(|(r, i)| r.id() != *i)) {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            pk::derive(algo, key, &refs, &mut rng)?
        }
    };
    let r = t.obj_mut(derived)?.obj.set_derived_secret(&secret);
    t.settle(derived, r)
}

/// Longest derived secret (the largest secret-value buffer, a 4096-bit
/// generic secret).
const MAX_DERIVED: usize = 512;

/// Object types holding one `SECRET_VALUE` (what a derivation can fill).
fn is_secret_type(ty: u32) -> bool {
    use id::*;
    matches!(
        ty,
        TYPE_AES
            | TYPE_DES
            | TYPE_DES3
            | TYPE_SM4
            | TYPE_HMAC_MD5
            | TYPE_HMAC_SHA1
            | TYPE_HMAC_SHA224
            | TYPE_HMAC_SHA256
            | TYPE_HMAC_SHA384
            | TYPE_HMAC_SHA512
            | TYPE_HMAC_SHA3_224
            | TYPE_HMAC_SHA3_256
            | TYPE_HMAC_SHA3_384
            | TYPE_HMAC_SHA3_512
            | TYPE_HMAC_SM3
            | TYPE_GENERIC_SECRET
    )
}

fn authenc_init(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (st, nonce, nonce_len, tag_len, aad_len, payload_len) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    let s = t.state(st)?;
    if id::alg_class(s.algo) != id::OPERATION_AE {
        return Err(TeeResult::ERROR_BAD_STATE);
    }
    let (algo, mode, k1) = (s.algo, s.mode, s.key1);
    let key = key_secret(t, k1)?;
    if nonce_len > 1024 || tag_len > 16 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let mut nb = [0u8; 1024];
    let nb = &mut nb[..nonce_len as usize];
    if nonce_len != 0 {
        mem.read(v(nonce), nb)?;
    }
    headroom()?;
    let ae = ae::new(
        algo,
        mode == id::MODE_ENCRYPT,
        &key,
        nb,
        tag_len as usize * 8,
        usize::try_from(aad_len).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?,
        usize::try_from(payload_len).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?,
    )?;
    let s = t.state_mut(st)?;
    s.ctx = Ctx::Ae(ae, tag_len as usize);
    s.initialized = true;
    Ok(())
}

fn ae_state(s: &mut State) -> R<(&mut Box<dyn ae::Ae>, usize)> {
    if !s.initialized {
        return Err(TeeResult::ERROR_BAD_STATE);
    }
    match &mut s.ctx {
        Ctx::Ae(ae, t) => Ok((ae, *t)),
        _ => Err(TeeResult::ERROR_BAD_STATE),
    }
}

fn authenc_aad(mem: &mut UserMem, t: &mut Table, st: u64, aad: u64, len: u64) -> R<()> {
    check_read(mem, aad, len)?;
    with_state(mem, t, st, |s, mem| {
        let (ae, _) = ae_state(s)?;
        feed(mem, aad, len, |c| ae.update_aad(c))
    })
}

fn authenc_payload(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (st, src, len, dst, dst_len) = (a[0], a[1], a[2], a[3], a[4]);
    with_state(mem, t, st, |s, mem| {
        let (ae, _) = ae_state(s)?;
        check_read(mem, src, len)?;
        let dlen = read_len(mem, dst_len)?;
        check_write(mem, dst, dlen)?;
        if dlen < len {
            write_len(mem, dst_len, len)?;
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        transform(mem, src, dst, len, 16, |c, _| ae.update(c))?;
        write_len(mem, dst_len, len)
    })
}

fn authenc_enc_final(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (st, src, len, dst, dst_len, tag, tag_len) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    with_state(mem, t, st, |s, mem| {
        if !s.initialized {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        if s.mode != id::MODE_ENCRYPT {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let (ae, tlen_needed) = ae_state(s)?;
        check_read(mem, src, len)?;
        let dlen = if dst_len == 0 { 0 } else { read_len(mem, dst_len)? };
        if dst_len != 0 {
            check_write(mem, dst, dlen)?;
        }
        if dlen < len {
            if dst_len != 0 {
                write_len(mem, dst_len, len)?;
            }
            write_len(mem, tag_len, tlen_needed as u64)?;
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        let tlen = read_len(mem, tag_len)?;
        check_write(mem, tag, tlen)?;
        if tlen < tlen_needed as u64 {
            if dst_len != 0 {
                write_len(mem, dst_len, len)?;
            }
            write_len(mem, tag_len, tlen_needed as u64)?;
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        // Everything but the last chunk is payload; the tag comes with the
        // last one.
        let mut t = [0u8; 16];
        let mut tag_out = 0usize;
        transform(mem, src, dst, len, 16, |c, last| {
            if last {
                tag_out = ae.enc_final(c, &mut t[..tlen_needed])?;
                Ok(())
            } else {
                ae.update(c)
            }
        })?;
        mem.write(v(tag), &t[..tag_out])?;
        if dst_len != 0 {
            write_len(mem, dst_len, len)?;
        }
        write_len(mem, tag_len, tag_out as u64)
    })
}

fn authenc_dec_final(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (st, src, len, dst, dst_len, tag, tag_len) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    with_state(mem, t, st, |s, mem| {
        if !s.initialized {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        if s.mode != id::MODE_DECRYPT {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let (ae, _) = ae_state(s)?;
        check_read(mem, src, len)?;
        let dlen = if dst_len == 0 { 0 } else { read_len(mem, dst_len)? };
        if dst_len != 0 {
            check_write(mem, dst, dlen)?;
        }
        if dlen < len {
            if dst_len != 0 {
                write_len(mem, dst_len, len)?;
            }
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
        if tag_len > 16 {
            return Err(TeeResult::ERROR_MAC_INVALID);
        }
        let mut t = [0u8; 16];
        mem.read(v(tag), &mut t[..tag_len as usize])?;
        // The plaintext is only released once the tag checks: decrypt into
        // a kernel buffer first (bounded: the last piece of a payload).
        if len > MAX_ASYM_INPUT * 16 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut plain = secret_buffer(len as usize)?;
        if len != 0 {
            mem.read(v(src), &mut plain)?;
        }
        ae.dec_final(&mut plain, &t[..tag_len as usize])?;
        if len != 0 {
            mem.write(v(dst), &plain)?;
        }
        if dst_len != 0 {
            write_len(mem, dst_len, len)?;
        }
        Ok(())
    })
}

fn read_input(mem: &UserMem, ptr: u64, len: u64) -> R<oxtee_crypto::Secret> {
    if len > MAX_ASYM_INPUT {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let mut b = secret_buffer(len as usize)?;
    if len != 0 {
        mem.read(v(ptr), &mut b)?;
    }
    Ok(b)
}

/// EdDSA's parameters as upstream parses them: only a prehash flag
/// (0 or 1; the last one counts) and at most one context of at most 255
/// bytes.
fn eddsa_params<'a>(refs: &[AttrRef<'a>]) -> R<Vec<AttrRef<'a>>> {
    let mut ph = None;
    let mut ctx = None;
    for r in refs {
        match *r {
            AttrRef::Value(id::ATTR_EDDSA_PREHASH, a, b) => {
                if b != 0 || a > 1 {
                    return Err(TeeResult::ERROR_BAD_PARAMETERS);
                }
                ph = Some(*r);
            }
            AttrRef::Bytes(id::ATTR_EDDSA_CTX, c) => {
                if ctx.is_some() || c.len() > 255 {
                    return Err(TeeResult::ERROR_BAD_PARAMETERS);
                }
                if !c.is_empty() {
                    ctx = Some(*r);
                }
            }
            _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
        }
    }
    let mut out = Vec::new();
    out.try_reserve_exact(2).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    out.extend(ph);
    out.extend(ctx);
    Ok(out)
}

fn asymm_operate(mem: &mut UserMem, t: &mut Table, a: &[u64; 31], rand: &dyn Fn(&mut [u8])) -> R<()> {
    let (st, params, count, src, len, dst, dst_len) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    let s = t.state(st)?;
    let (algo, mode, k1) = (s.algo, s.mode, s.key1);
    check_read(mem, src, len)?;
    let dlen = read_len(mem, dst_len)?;
    check_write(mem, dst, dlen)?;
    let list = AttrList::read(mem, params, count)?;
    let refs = list.refs()?;
    let input = read_input(mem, src, len)?;
    let key = &t.objs.get(&k1).ok_or(TeeResult::ERROR_BAD_STATE)?.obj;
    if !key.is_initialized() {
        return Err(TeeResult::ERROR_GENERIC);
    }
    // RSAES encryption answers a too-small output with the modulus size
    // before it looks at the message (upstream; PKCS#11 sizes its buffers
    // that way, xtest pkcs11_1023).
    let rsaes = algo == id::ALG_RSAES_PKCS1_V1_5 || (algo & 0x0000_0fff) == 0x230;
    if rsaes && mode == id::MODE_ENCRYPT {
        let modulus = key.key_size.div_ceil(8) as u64;
        if dlen < modulus {
            write_len(mem, dst_len, modulus)?;
            return Err(TeeResult::ERROR_SHORT_BUFFER);
        }
    }
    headroom()?;
    let mut rng = OsRng { fill: rand };
    let refs = if algo == id::ALG_ED25519 { eddsa_params(&refs)? } else { refs };
    let out = pk::operate(algo, mode, key, &refs, &input, &mut rng)?;
    write_len(mem, dst_len, out.len() as u64)?;
    if (out.len() as u64) > dlen {
        return Err(TeeResult::ERROR_SHORT_BUFFER);
    }
    mem.write(v(dst), &out)
}

fn asymm_verify(mem: &mut UserMem, t: &mut Table, a: &[u64; 31]) -> R<()> {
    let (st, params, count, data, data_len, sig, sig_len) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    let s = t.state(st)?;
    if s.mode != id::MODE_VERIFY {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    let (algo, k1) = (s.algo, s.key1);
    check_read(mem, data, data_len)?;
    check_read(mem, sig, sig_len)?;
    let list = AttrList::read(mem, params, count)?;
    let refs = list.refs()?;
    let input = read_input(mem, data, data_len)?;
    let signature = read_input(mem, sig, sig_len)?;
    let key = &t.objs.get(&k1).ok_or(TeeResult::ERROR_BAD_STATE)?.obj;
    if !key.is_initialized() {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    headroom()?;
    let refs = if algo == id::ALG_ED25519 { eddsa_params(&refs)? } else { refs };
    pk::verify(algo, key, &refs, &input, &signature)
}

/// The object info layout is what the ABI crate says (checked here so a
/// change there cannot go unnoticed).
const _: () = assert!(size_of::<UteeObjectInfo>() == 28);
