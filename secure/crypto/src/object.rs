//! Transient objects: the key types upstream 4.10 supports, their
//! attribute rules (which attributes are mandatory, optional, public;
//! sizes), and the object calls' semantics: populate, generate, get
//! attribute, restrict usage, copy, reset, info. Error codes are upstream
//! kernel's (`tee_svc_cryp.c`); the panics GP prescribes are libutee's,
//! in user space, and not made here.
//!
//! Representation (what the operation layer reads through [`Attrs`]):
//! - secret values (`SECRET_VALUE`, `HKDF_IKM`, `CONCAT_KDF_Z`,
//!   `PBKDF2_PASSWORD`): the bytes as given or generated;
//! - big numbers (RSA, DSA, DH, ECC coordinates and scalars): unsigned
//!   big-endian without leading zero bytes (zero is the empty string), as
//!   upstream's bignum keeps and returns them. A scalar or coordinate may
//!   thus be shorter than its field;
//! - X25519 / Ed25519 values: exactly 32 bytes;
//! - value attributes (`ECC_CURVE`, `DH_X_BITS`): the first value, the
//!   second one is always 0 (upstream keeps only the first).

use crate::ids;
use crate::{Attr, AttrRef, Attrs, Result, Rng, Secret, TeeResult};
use alloc::vec::Vec;
use oxtee_abi::ta::crypto::UteeObjectInfo;

/// `TEE_USAGE_DEFAULT`: every usage allowed, what a fresh or reset object
/// gets.
pub const USAGE_DEFAULT: u32 = 0xffff_ffff;

/// Upstream's `CFG_CORE_BIGNUM_MAX_BITS` (default 4096): the largest RSA
/// key, and the bound this module puts on any big-number attribute.
pub const BIGNUM_MAX_BITS: u32 = 4096;

/// The longest reference attribute this module accepts at all (bytes).
/// Upstream's bignum import fails (BAD_PARAMETERS) beyond 10000 limbs of
/// 8 bytes; secrets and curve values have much smaller bounds of their
/// own. The syscall layer may refuse longer buffers before copying them
/// in (BAD_PARAMETERS).
pub const MAX_REF_ATTR_LEN: usize = 10000 * 8;

/// Upstream's `CFG_COMPAT_GP10_DES` (default y): DES and DES3 sizes 56,
/// 112 and 168 (GP 1.0, parity bits not counted) are accepted too.
const COMPAT_GP10_DES: bool = true;

/// X448 has an entry in upstream's type table but no software
/// implementation: without a crypto driver (QEMU) allocation answers
/// NOT_IMPLEMENTED. Same here until an X448 implementation exists.
const X448_AVAILABLE: bool = false;

// Attribute flags, as upstream's type table marks them.
const REQUIRED: u8 = 1 << 1;
const OPTIONAL_GROUP: u8 = 1 << 2;
const SIZE_INDICATOR: u8 = 1 << 3;
const GEN_KEY_OPT: u8 = 1 << 4;
const GEN_KEY_REQ: u8 = 1 << 5;
const BIGNUM_MAXBITS: u8 = 1 << 6;

/// How an attribute is held.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Bytes of varying length, at most the type's allocation.
    Secret,
    /// Unsigned big-endian integer, kept without leading zeros.
    Bignum,
    /// A value attribute (first value kept).
    Value,
    /// A curve value of exactly this many bytes (X25519, Ed25519, X448).
    Fixed(usize),
}

/// One attribute of a type.
#[derive(Clone, Copy, Debug)]
struct AttrDesc {
    id: u32,
    flags: u8,
    kind: Kind,
}

const fn desc(id: u32, flags: u8, kind: Kind) -> AttrDesc {
    AttrDesc { id, flags, kind }
}

/// One object type: size rules and attributes.
#[derive(Debug)]
struct TypeProps {
    obj_type: u32,
    /// Sizes must be multiples of this.
    quanta: u32,
    min_size: u32,
    max_size: u32,
    /// For secret-holding types: how many bytes the key buffer holds
    /// (upstream's allocation, which for HMAC-SM3 is less than the
    /// maximum size).
    secret_cap: usize,
    attrs: &'static [AttrDesc],
}

const SECRET_VALUE_ATTRS: &[AttrDesc] = &[desc(ids::ATTR_SECRET_VALUE, REQUIRED | SIZE_INDICATOR, Kind::Secret)];
const HKDF_IKM_ATTRS: &[AttrDesc] = &[desc(ids::ATTR_HKDF_IKM, REQUIRED | SIZE_INDICATOR, Kind::Secret)];
const CONCAT_KDF_Z_ATTRS: &[AttrDesc] = &[desc(ids::ATTR_CONCAT_KDF_Z, REQUIRED | SIZE_INDICATOR, Kind::Secret)];
const PBKDF2_PASSWORD_ATTRS: &[AttrDesc] = &[desc(ids::ATTR_PBKDF2_PASSWORD, REQUIRED | SIZE_INDICATOR, Kind::Secret)];

const RSA_PUBLIC_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_RSA_MODULUS, REQUIRED | SIZE_INDICATOR, Kind::Bignum),
    desc(ids::ATTR_RSA_PUBLIC_EXPONENT, REQUIRED, Kind::Bignum),
];

const RSA_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_RSA_MODULUS, REQUIRED | SIZE_INDICATOR, Kind::Bignum),
    desc(ids::ATTR_RSA_PUBLIC_EXPONENT, REQUIRED | GEN_KEY_OPT, Kind::Bignum),
    desc(ids::ATTR_RSA_PRIVATE_EXPONENT, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_RSA_PRIME1, OPTIONAL_GROUP, Kind::Bignum),
    desc(ids::ATTR_RSA_PRIME2, OPTIONAL_GROUP, Kind::Bignum),
    desc(ids::ATTR_RSA_EXPONENT1, OPTIONAL_GROUP, Kind::Bignum),
    desc(ids::ATTR_RSA_EXPONENT2, OPTIONAL_GROUP, Kind::Bignum),
    desc(ids::ATTR_RSA_COEFFICIENT, OPTIONAL_GROUP, Kind::Bignum),
];

const DSA_PUBLIC_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_DSA_PRIME, REQUIRED | BIGNUM_MAXBITS | SIZE_INDICATOR, Kind::Bignum),
    desc(ids::ATTR_DSA_SUBPRIME, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_DSA_BASE, REQUIRED | BIGNUM_MAXBITS, Kind::Bignum),
    desc(ids::ATTR_DSA_PUBLIC_VALUE, REQUIRED | BIGNUM_MAXBITS, Kind::Bignum),
];

const DSA_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_DSA_PRIME, REQUIRED | GEN_KEY_REQ | BIGNUM_MAXBITS | SIZE_INDICATOR, Kind::Bignum),
    desc(ids::ATTR_DSA_SUBPRIME, REQUIRED | GEN_KEY_REQ, Kind::Bignum),
    desc(ids::ATTR_DSA_BASE, REQUIRED | GEN_KEY_REQ | BIGNUM_MAXBITS, Kind::Bignum),
    desc(ids::ATTR_DSA_PRIVATE_VALUE, REQUIRED | BIGNUM_MAXBITS, Kind::Bignum),
    desc(ids::ATTR_DSA_PUBLIC_VALUE, REQUIRED | BIGNUM_MAXBITS, Kind::Bignum),
];

const DH_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_DH_PRIME, REQUIRED | SIZE_INDICATOR | GEN_KEY_REQ, Kind::Bignum),
    desc(ids::ATTR_DH_BASE, REQUIRED | GEN_KEY_REQ, Kind::Bignum),
    desc(ids::ATTR_DH_PUBLIC_VALUE, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_DH_PRIVATE_VALUE, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_DH_SUBPRIME, OPTIONAL_GROUP | GEN_KEY_OPT, Kind::Bignum),
    desc(ids::ATTR_DH_X_BITS, GEN_KEY_OPT, Kind::Value),
];

const ECC_PUBLIC_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_ECC_PUBLIC_VALUE_X, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_PUBLIC_VALUE_Y, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_CURVE, REQUIRED | SIZE_INDICATOR, Kind::Value),
];

const ECC_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_ECC_PRIVATE_VALUE, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_PUBLIC_VALUE_X, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_PUBLIC_VALUE_Y, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_CURVE, REQUIRED | SIZE_INDICATOR | GEN_KEY_REQ, Kind::Value),
];

const SM2_PUBLIC_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_ECC_PUBLIC_VALUE_X, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_PUBLIC_VALUE_Y, REQUIRED, Kind::Bignum),
];

const SM2_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_ECC_PRIVATE_VALUE, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_PUBLIC_VALUE_X, REQUIRED, Kind::Bignum),
    desc(ids::ATTR_ECC_PUBLIC_VALUE_Y, REQUIRED, Kind::Bignum),
];

const X25519_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_X25519_PRIVATE_VALUE, REQUIRED, Kind::Fixed(32)),
    desc(ids::ATTR_X25519_PUBLIC_VALUE, REQUIRED, Kind::Fixed(32)),
];

const X448_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_X448_PRIVATE_VALUE, REQUIRED, Kind::Fixed(56)),
    desc(ids::ATTR_X448_PUBLIC_VALUE, REQUIRED, Kind::Fixed(56)),
];

const ED25519_PUBLIC_ATTRS: &[AttrDesc] = &[desc(ids::ATTR_ED25519_PUBLIC_VALUE, REQUIRED, Kind::Fixed(32))];

const ED25519_KEYPAIR_ATTRS: &[AttrDesc] = &[
    desc(ids::ATTR_ED25519_PRIVATE_VALUE, REQUIRED, Kind::Fixed(32)),
    desc(ids::ATTR_ED25519_PUBLIC_VALUE, REQUIRED, Kind::Fixed(32)),
];

const fn secret(
    obj_type: u32,
    quanta: u32,
    min_size: u32,
    max_size: u32,
    cap_bits: u32,
    attrs: &'static [AttrDesc],
) -> TypeProps {
    TypeProps { obj_type, quanta, min_size, max_size, secret_cap: (cap_bits / 8) as usize, attrs }
}

const fn asym(obj_type: u32, quanta: u32, min_size: u32, max_size: u32, attrs: &'static [AttrDesc]) -> TypeProps {
    TypeProps { obj_type, quanta, min_size, max_size, secret_cap: 0, attrs }
}

/// Upstream's type table (`CFG_HMAC_64_1024_RANGE=n`, HKDF, Concat KDF
/// and PBKDF2 enabled, `CFG_CORE_BIGNUM_MAX_BITS=4096`).
static TYPES: &[TypeProps] = &[
    secret(ids::TYPE_AES, 64, 128, 256, 256, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_DES, 64, 64, 64, 64, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_DES3, 64, 128, 192, 192, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_SM4, 128, 128, 128, 128, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_MD5, 8, 64, 512, 512, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA1, 8, 80, 512, 512, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA224, 8, 112, 512, 512, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA256, 8, 192, 1024, 1024, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA384, 8, 256, 1024, 1024, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA512, 8, 256, 1024, 1024, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA3_224, 8, 192, 1024, 1024, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA3_256, 8, 256, 1024, 1024, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA3_384, 8, 256, 1024, 1024, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HMAC_SHA3_512, 8, 256, 1024, 1024, SECRET_VALUE_ATTRS),
    // Upstream holds only 512 bits for HMAC-SM3 keys although it allows
    // sizes up to 1024: longer keys are refused when set (SECURITY) or
    // generated (EXCESS_DATA).
    secret(ids::TYPE_HMAC_SM3, 8, 80, 1024, 512, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_GENERIC_SECRET, 8, 0, 4096, 4096, SECRET_VALUE_ATTRS),
    secret(ids::TYPE_HKDF_IKM, 8, 0, 4096, 4096, HKDF_IKM_ATTRS),
    secret(ids::TYPE_CONCAT_KDF_Z, 8, 0, 4096, 4096, CONCAT_KDF_Z_ATTRS),
    secret(ids::TYPE_PBKDF2_PASSWORD, 8, 0, 4096, 4096, PBKDF2_PASSWORD_ATTRS),
    asym(ids::TYPE_RSA_PUBLIC_KEY, 1, 256, BIGNUM_MAX_BITS, RSA_PUBLIC_ATTRS),
    asym(ids::TYPE_RSA_KEYPAIR, 1, 256, BIGNUM_MAX_BITS, RSA_KEYPAIR_ATTRS),
    asym(ids::TYPE_DSA_PUBLIC_KEY, 64, 512, 3072, DSA_PUBLIC_ATTRS),
    asym(ids::TYPE_DSA_KEYPAIR, 64, 512, 3072, DSA_KEYPAIR_ATTRS),
    asym(ids::TYPE_DH_KEYPAIR, 1, 256, 2048, DH_KEYPAIR_ATTRS),
    asym(ids::TYPE_ECDSA_PUBLIC_KEY, 1, 192, 521, ECC_PUBLIC_ATTRS),
    asym(ids::TYPE_ECDSA_KEYPAIR, 1, 192, 521, ECC_KEYPAIR_ATTRS),
    asym(ids::TYPE_ECDH_PUBLIC_KEY, 1, 192, 521, ECC_PUBLIC_ATTRS),
    asym(ids::TYPE_ECDH_KEYPAIR, 1, 192, 521, ECC_KEYPAIR_ATTRS),
    asym(ids::TYPE_SM2_DSA_PUBLIC_KEY, 1, 256, 256, SM2_PUBLIC_ATTRS),
    asym(ids::TYPE_SM2_DSA_KEYPAIR, 1, 256, 256, SM2_KEYPAIR_ATTRS),
    asym(ids::TYPE_SM2_PKE_PUBLIC_KEY, 1, 256, 256, SM2_PUBLIC_ATTRS),
    asym(ids::TYPE_SM2_PKE_KEYPAIR, 1, 256, 256, SM2_KEYPAIR_ATTRS),
    asym(ids::TYPE_SM2_KEP_PUBLIC_KEY, 1, 256, 256, SM2_PUBLIC_ATTRS),
    asym(ids::TYPE_SM2_KEP_KEYPAIR, 1, 256, 256, SM2_KEYPAIR_ATTRS),
    asym(ids::TYPE_X25519_KEYPAIR, 1, 256, 256, X25519_KEYPAIR_ATTRS),
    asym(ids::TYPE_X448_KEYPAIR, 1, 448, 448, X448_KEYPAIR_ATTRS),
    asym(ids::TYPE_ED25519_PUBLIC_KEY, 1, 256, 256, ED25519_PUBLIC_ATTRS),
    asym(ids::TYPE_ED25519_KEYPAIR, 1, 256, 256, ED25519_KEYPAIR_ATTRS),
];

fn props(obj_type: u32) -> Option<&'static TypeProps> {
    TYPES.iter().find(|p| p.obj_type == obj_type)
}

impl TypeProps {
    fn index_of(&self, id: u32) -> Option<usize> {
        self.attrs.iter().position(|a| a.id == id)
    }
}

/// Whether `size` is one of GP 1.0's DES sizes (parity bits not
/// counted) for `obj_type`.
fn is_legacy_des_size(obj_type: u32, size: u32) -> bool {
    COMPAT_GP10_DES
        && ((obj_type == ids::TYPE_DES && size == 56) || (obj_type == ids::TYPE_DES3 && (size == 112 || size == 168)))
}

fn check_size(p: &TypeProps, key_size: u32) -> Result<()> {
    let mut sz = key_size;
    if is_legacy_des_size(p.obj_type, sz) {
        sz += sz / 7;
    }
    if !sz.is_multiple_of(p.quanta) || sz < p.min_size || sz > p.max_size {
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    Ok(())
}

/// Whether `key_size` bits is a size upstream allows for objects of
/// `obj_type` (NOT_SUPPORTED for an unknown type or a refused size). The
/// GP 1.0 DES sizes 56, 112 and 168 are accepted.
pub fn check_key_size(obj_type: u32, key_size: u32) -> Result<()> {
    check_size(props(obj_type).ok_or(TeeResult::ERROR_NOT_SUPPORTED)?, key_size)
}

/// The largest key size (bits) an object of `obj_type` may have; `None`
/// for a type upstream does not know.
pub fn max_key_size_bits(obj_type: u32) -> Option<u32> {
    props(obj_type).map(|p| p.max_size)
}

/// The key size (bits) an ECC curve gives (NOT_SUPPORTED for others).
pub fn ecc_curve_bits(curve: u32) -> Result<u32> {
    match curve {
        ids::ECC_CURVE_NIST_P192 => Ok(192),
        ids::ECC_CURVE_NIST_P224 => Ok(224),
        ids::ECC_CURVE_NIST_P256 => Ok(256),
        ids::ECC_CURVE_NIST_P384 => Ok(384),
        ids::ECC_CURVE_NIST_P521 => Ok(521),
        ids::ECC_CURVE_SM2 | ids::ECC_CURVE_25519 => Ok(256),
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

/// Bytes without their leading zeros.
fn strip_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[start..]
}

/// Bits of an unsigned big-endian integer given without leading zeros.
fn bignum_bits(b: &[u8]) -> u32 {
    match b.first() {
        None => 0,
        // b.len() is bounded by MAX_REF_ATTR_LEN, so this fits.
        Some(&top) => (b.len() as u32 - 1) * 8 + (8 - top.leading_zeros()),
    }
}

fn secret_bytes(b: &[u8]) -> Secret {
    Secret::new(b.to_vec())
}

/// A transient (or, later, persistent) object's key part.
pub struct Object {
    /// `TEE_TYPE_*`.
    pub obj_type: u32,
    /// Maximum key size in bits, fixed at allocation.
    pub max_size: u32,
    /// Current key size in bits (0 until populated or generated).
    pub key_size: u32,
    /// `TEE_USAGE_*` bits.
    pub usage: u32,
    /// `TEE_HANDLE_FLAG_*` bits (INITIALIZED once it holds a key).
    pub handle_flags: u32,
    /// The attributes the object has, in the order of its type's table.
    attrs: Vec<Attr>,
}

/// What [`Object::get_attr`] answers. The syscall layer turns it into
/// upstream's `to_user` behaviour: for bytes, the size is written back
/// first, an empty attribute (a zero big number) succeeds with size 0
/// whatever the buffer, and a buffer smaller than the bytes gets
/// SHORT_BUFFER; for a value, 8 bytes (`a`, `b` as native `u32`s) are
/// written, SHORT_BUFFER (size not written back) when the buffer is
/// smaller.
#[derive(Debug, PartialEq, Eq)]
pub enum AttrOut<'a> {
    /// A reference attribute's bytes.
    Bytes(&'a [u8]),
    /// A value attribute's values.
    Value(u32, u32),
}

/// Attributes checked against a type's table: which of them are there.
struct Checked<'p> {
    props: &'p TypeProps,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Usage {
    Populate,
    Generate,
}

impl Checked<'_> {
    /// Upstream's `tee_svc_cryp_check_attr`: each attribute known to the
    /// type and allowed for this use, none repeated, every required one
    /// present, and for populate the optional group all or nothing
    /// (ITEM_NOT_FOUND otherwise).
    fn check(&self, usage: Usage, attrs: &[AttrRef<'_>]) -> Result<()> {
        let (req_flag, opt_flag) = match usage {
            Usage::Populate => (REQUIRED, OPTIONAL_GROUP),
            Usage::Generate => (GEN_KEY_REQ, GEN_KEY_OPT),
        };
        let mut req = 0u32;
        let mut opt = 0u32;
        for (n, a) in self.props.attrs.iter().enumerate() {
            if a.flags & req_flag != 0 {
                req |= 1 << n;
            } else if a.flags & opt_flag != 0 {
                opt |= 1 << n;
            }
        }
        let mut found = 0u32;
        for a in attrs {
            let idx = self.props.index_of(a.id()).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
            let bit = 1u32 << idx;
            if found & bit != 0 || (req | opt) & bit == 0 {
                return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
            }
            found |= bit;
        }
        if found & req != req {
            return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
        }
        if usage == Usage::Populate && found & opt != 0 && found & opt != opt {
            return Err(TeeResult::ERROR_ITEM_NOT_FOUND);
        }
        Ok(())
    }
}

impl Object {
    /// `CRYP_OBJ_ALLOC`: an empty object of `obj_type` able to hold a key
    /// of `max_size` bits. NOT_SUPPORTED for a type or size upstream
    /// refuses (`TYPE_DATA` only with size 0); NOT_IMPLEMENTED for X448
    /// (no implementation, as upstream without a crypto driver).
    pub fn alloc(obj_type: u32, max_size: u32) -> Result<Object> {
        if obj_type == ids::TYPE_DATA {
            if max_size != 0 {
                return Err(TeeResult::ERROR_NOT_SUPPORTED);
            }
        } else {
            let p = props(obj_type).ok_or(TeeResult::ERROR_NOT_SUPPORTED)?;
            check_size(p, max_size)?;
            if obj_type == ids::TYPE_X448_KEYPAIR && !X448_AVAILABLE {
                return Err(TeeResult::ERROR_NOT_IMPLEMENTED);
            }
        }
        Ok(Object { obj_type, max_size, key_size: 0, usage: USAGE_DEFAULT, handle_flags: 0, attrs: Vec::new() })
    }

    fn is_persistent(&self) -> bool {
        self.handle_flags & ids::HANDLE_FLAG_PERSISTENT != 0
    }

    /// Upstream's `tee_svc_cryp_obj_populate_type`: converts `attrs`
    /// (already checked against the table) into the object's form,
    /// applying the size rules. Returns the attributes, in table order,
    /// and the key size they indicate.
    fn convert(&self, p: &TypeProps, attrs: &[AttrRef<'_>]) -> Result<(Vec<Attr>, u32)> {
        let mut slots: Vec<Option<Attr>> = p.attrs.iter().map(|_| None).collect();
        let mut obj_size: u32 = 0;
        let mut have_size = false;
        for a in attrs {
            let idx = p.index_of(a.id()).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
            let d = p.attrs[idx];
            let mut bits = 0;
            let stored = match (d.kind, *a) {
                (Kind::Secret, AttrRef::Bytes(id, b)) => {
                    if b.len() > p.secret_cap {
                        return Err(TeeResult::ERROR_SECURITY);
                    }
                    Attr::Bytes(id, secret_bytes(b))
                }
                (Kind::Bignum, AttrRef::Bytes(id, b)) => {
                    if b.len() > MAX_REF_ATTR_LEN {
                        return Err(TeeResult::ERROR_BAD_PARAMETERS);
                    }
                    let v = strip_zeros(b);
                    bits = bignum_bits(v);
                    // Refused below, after upstream's own checks (which
                    // answer BAD_STATE for some), without copying it.
                    if bits > BIGNUM_MAX_BITS {
                        Attr::Bytes(id, Secret::new(Vec::new()))
                    } else {
                        Attr::Bytes(id, secret_bytes(v))
                    }
                }
                (Kind::Fixed(n), AttrRef::Bytes(id, b)) => {
                    if b.len() != n {
                        return Err(TeeResult::ERROR_SECURITY);
                    }
                    Attr::Bytes(id, secret_bytes(b))
                }
                (Kind::Value, AttrRef::Value(id, x, _)) => Attr::Value(id, x, 0),
                // A reference where the identifier says value, or the
                // reverse: the syscall layer builds them from the
                // identifier's bit, so this is a caller's error.
                _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
            };

            if d.flags & SIZE_INDICATOR != 0 {
                if have_size {
                    return Err(TeeResult::ERROR_BAD_STATE);
                }
                have_size = true;
                obj_size = match *a {
                    AttrRef::Value(ids::ATTR_ECC_CURVE, curve, _) => ecc_curve_bits(curve)?,
                    AttrRef::Bytes(_, b) => {
                        // Bounded above (secret capacity or
                        // MAX_REF_ATTR_LEN), so this fits.
                        let mut s = b.len() as u32 * 8;
                        if is_legacy_des_size(self.obj_type, self.max_size) {
                            s -= s / 8;
                        }
                        s
                    }
                    AttrRef::Value(..) => 0,
                };
                if obj_size > self.max_size {
                    return Err(TeeResult::ERROR_BAD_STATE);
                }
                if check_size(p, obj_size).is_err() {
                    return Err(TeeResult::ERROR_BAD_PARAMETERS);
                }
            }

            if d.flags & BIGNUM_MAXBITS != 0 && bits > self.max_size {
                return Err(TeeResult::ERROR_BAD_STATE);
            }
            // Our bound on big numbers (upstream takes any up to its
            // import limit): none of the types has a use for more bits
            // than its largest key.
            if bits > BIGNUM_MAX_BITS {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            slots[idx] = Some(stored);
        }
        // Upstream removes the parity bits a second time for objects
        // allocated with a GP 1.0 DES size (a 56-bit DES object populated
        // with 8 bytes reports 49 bits); kept for compatibility.
        if is_legacy_des_size(self.obj_type, self.max_size) {
            obj_size -= obj_size / 8;
        }
        Ok((slots.into_iter().flatten().collect(), obj_size))
    }

    /// `CRYP_OBJ_POPULATE`: fills an uninitialised transient object from
    /// `attrs`. Errors as upstream's kernel: BAD_PARAMETERS when the
    /// object is persistent or already initialised; ITEM_NOT_FOUND for an
    /// attribute foreign to the type, repeated, a required one missing or
    /// an incomplete optional group (RSA CRT values); SECURITY for a
    /// secret longer than the type holds or a curve value of the wrong
    /// length; BAD_STATE when the size-giving attribute exceeds the
    /// object's maximum size (or a DSA value exceeds it); BAD_PARAMETERS
    /// for a size the type does not allow or an oversized big number;
    /// NOT_SUPPORTED for an unknown curve; NOT_IMPLEMENTED for a type
    /// without attributes (`TYPE_DATA`).
    pub fn populate(&mut self, attrs: &[AttrRef<'_>]) -> Result<()> {
        if self.is_persistent() || self.is_initialized() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let p = props(self.obj_type).ok_or(TeeResult::ERROR_NOT_IMPLEMENTED)?;
        Checked { props: p }.check(Usage::Populate, attrs)?;
        let (new, size) = self.convert(p, attrs)?;
        self.attrs = new;
        self.key_size = size;
        self.handle_flags |= ids::HANDLE_FLAG_INITIALIZED;
        Ok(())
    }

    /// `CRYP_OBJ_GENERATE_KEY`: generates a `key_size`-bit key (`params`
    /// as GP allows them per type). Errors as upstream's kernel:
    /// BAD_STATE when the object is persistent or initialised;
    /// NOT_SUPPORTED for a type without attributes or a size outside the
    /// type's range (checked against the type, not the object's maximum,
    /// as upstream); ITEM_NOT_FOUND for a parameter the type does not
    /// take (or a missing required one: DSA domain, DH prime and base, EC
    /// curve); EXCESS_DATA for an HMAC-SM3 key longer than upstream holds;
    /// BAD_FORMAT for a type that cannot be generated (public keys, KDF
    /// inputs). Parameters are checked as for populate; an RSA public
    /// exponent must be odd, at least 65537 and below 2^256
    /// (BAD_PARAMETERS); the size must match the DSA or DH prime and the
    /// EC curve (BAD_PARAMETERS). Symmetric keys are random bytes (DES
    /// parity bits are not set, as upstream); key pairs come from
    /// [`crate::pk::generate`].
    pub fn generate(&mut self, key_size: u32, params: &[AttrRef<'_>], rng: &mut dyn Rng) -> Result<()> {
        if self.is_persistent() || self.is_initialized() {
            return Err(TeeResult::ERROR_BAD_STATE);
        }
        let p = props(self.obj_type).ok_or(TeeResult::ERROR_NOT_SUPPORTED)?;
        check_size(p, key_size)?;
        Checked { props: p }.check(Usage::Generate, params)?;

        let new = match self.obj_type {
            ids::TYPE_AES
            | ids::TYPE_DES
            | ids::TYPE_DES3
            | ids::TYPE_SM4
            | ids::TYPE_HMAC_MD5
            | ids::TYPE_HMAC_SHA1
            | ids::TYPE_HMAC_SHA224
            | ids::TYPE_HMAC_SHA256
            | ids::TYPE_HMAC_SHA384
            | ids::TYPE_HMAC_SHA512
            | ids::TYPE_HMAC_SHA3_224
            | ids::TYPE_HMAC_SHA3_256
            | ids::TYPE_HMAC_SHA3_384
            | ids::TYPE_HMAC_SHA3_512
            | ids::TYPE_HMAC_SM3
            | ids::TYPE_GENERIC_SECRET => {
                let bytes = if is_legacy_des_size(self.obj_type, key_size) {
                    (key_size + key_size / 7) / 8
                } else {
                    key_size / 8
                };
                let bytes = bytes as usize;
                if bytes > p.secret_cap {
                    return Err(TeeResult::ERROR_EXCESS_DATA);
                }
                let mut key = Secret::new(alloc::vec![0u8; bytes]);
                rng.fill(&mut key);
                alloc::vec![Attr::Bytes(ids::ATTR_SECRET_VALUE, key)]
            }
            ids::TYPE_RSA_KEYPAIR
            | ids::TYPE_DSA_KEYPAIR
            | ids::TYPE_DH_KEYPAIR
            | ids::TYPE_ECDSA_KEYPAIR
            | ids::TYPE_ECDH_KEYPAIR
            | ids::TYPE_SM2_DSA_KEYPAIR
            | ids::TYPE_SM2_KEP_KEYPAIR
            | ids::TYPE_SM2_PKE_KEYPAIR
            | ids::TYPE_X25519_KEYPAIR
            | ids::TYPE_X448_KEYPAIR
            | ids::TYPE_ED25519_KEYPAIR => self.generate_pair(p, key_size, params, rng)?,
            _ => return Err(TeeResult::ERROR_BAD_FORMAT),
        };
        self.attrs = new;
        self.key_size = key_size;
        self.handle_flags |= ids::HANDLE_FLAG_INITIALIZED;
        Ok(())
    }

    /// The key-pair half of [`Object::generate`]: parameters converted as
    /// for populate, checked against the size, then the pair from
    /// [`crate::pk::generate`] merged over them.
    fn generate_pair(
        &mut self,
        p: &TypeProps,
        key_size: u32,
        params: &[AttrRef<'_>],
        rng: &mut dyn Rng,
    ) -> Result<Vec<Attr>> {
        let (mut base, size) = self.convert(p, params)?;
        // Upstream records the size the parameters indicate even when
        // the generation fails afterwards (the object stays
        // uninitialised).
        self.key_size = size;

        match self.obj_type {
            ids::TYPE_RSA_KEYPAIR => {
                match base.as_slice().bytes(ids::ATTR_RSA_PUBLIC_EXPONENT) {
                    Some(e) => check_rsa_public_exponent(e)?,
                    None => base.push(Attr::Bytes(ids::ATTR_RSA_PUBLIC_EXPONENT, secret_bytes(&[0x01, 0x00, 0x01]))),
                }
                // The generated modulus has a whole number of bytes: other
                // sizes cannot be met (upstream finds it out after
                // generating).
                if !key_size.is_multiple_of(8) {
                    return Err(TeeResult::ERROR_BAD_PARAMETERS);
                }
            }
            ids::TYPE_DSA_KEYPAIR | ids::TYPE_DH_KEYPAIR => {
                let prime =
                    if self.obj_type == ids::TYPE_DSA_KEYPAIR { ids::ATTR_DSA_PRIME } else { ids::ATTR_DH_PRIME };
                let plen = base.as_slice().bytes(prime).map_or(0, <[u8]>::len);
                if u64::from(key_size) != 8 * plen as u64 {
                    return Err(TeeResult::ERROR_BAD_PARAMETERS);
                }
            }
            ids::TYPE_ECDSA_KEYPAIR | ids::TYPE_ECDH_KEYPAIR => {
                let (curve, _) = base.as_slice().value(ids::ATTR_ECC_CURVE).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
                if curve == ids::ECC_CURVE_25519 {
                    return Err(TeeResult::ERROR_NOT_SUPPORTED);
                }
                if ecc_curve_bits(curve)? != key_size {
                    return Err(TeeResult::ERROR_BAD_PARAMETERS);
                }
            }
            _ => {}
        }

        let generated = crate::pk::generate(self.obj_type, key_size, &List(&base), rng)?;
        for g in generated {
            let Some(idx) = p.index_of(g.id()) else { continue };
            let g = match (p.attrs[idx].kind, g) {
                (Kind::Bignum, Attr::Bytes(id, b)) => Attr::Bytes(id, secret_bytes(strip_zeros(&b))),
                (Kind::Value, Attr::Value(id, x, _)) => Attr::Value(id, x, 0),
                (Kind::Fixed(n), Attr::Bytes(id, b)) if b.len() == n => Attr::Bytes(id, b),
                _ => return Err(TeeResult::ERROR_GENERIC),
            };
            match base.iter_mut().find(|a| a.id() == g.id()) {
                Some(slot) => *slot = g,
                None => base.push(g),
            }
        }
        if self.obj_type == ids::TYPE_DH_KEYPAIR && base.as_slice().value(ids::ATTR_DH_X_BITS).is_none() {
            base.push(Attr::Value(ids::ATTR_DH_X_BITS, 0, 0));
        }
        // Every attribute a populated key of this type must have, or the
        // generator did not deliver.
        if p.attrs.iter().filter(|d| d.flags & REQUIRED != 0).any(|d| !base.iter().any(|a| a.id() == d.id)) {
            return Err(TeeResult::ERROR_GENERIC);
        }
        base.sort_by_key(|a| p.index_of(a.id()));
        Ok(base)
    }

    /// `CRYP_OBJ_GET_ATTR`: BAD_PARAMETERS when the object is not
    /// initialised, or for a secret attribute (identifier without the
    /// public bit) when the usage lacks EXTRACTABLE (upstream's kernel
    /// answers BAD_PARAMETERS there, on which libutee panics);
    /// BAD_STATE for an object without attributes (`TYPE_DATA`);
    /// ITEM_NOT_FOUND when the type has no such attribute or the object
    /// does not hold it. Big numbers come without leading zeros.
    pub fn get_attr(&self, id: u32) -> Result<AttrOut<'_>> {
        if !self.is_initialized() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        if id & ids::ATTR_FLAG_PUBLIC == 0 && self.usage & ids::USAGE_EXTRACTABLE == 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let p = props(self.obj_type).ok_or(TeeResult::ERROR_BAD_STATE)?;
        p.index_of(id).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
        match self.attrs.iter().find(|a| a.id() == id) {
            Some(Attr::Bytes(_, b)) => Ok(AttrOut::Bytes(b)),
            Some(Attr::Value(_, x, _)) => Ok(AttrOut::Value(*x, 0)),
            None => Err(TeeResult::ERROR_ITEM_NOT_FOUND),
        }
    }

    /// `CRYP_OBJ_RESTRICT_USAGE` (transient objects: the usage bits are
    /// ANDed with `usage`).
    pub fn restrict_usage(&mut self, usage: u32) {
        self.usage &= usage;
    }

    /// `CRYP_OBJ_COPY`: copies `src`'s attributes into this uninitialised
    /// transient object, which then takes `src`'s key size and usage.
    /// BAD_PARAMETERS when `src` is not initialised, this object is
    /// persistent or initialised, or the types differ other than a key
    /// pair into its public type (RSA, DSA, ECDSA, ECDH, SM2, Ed25519),
    /// which takes the public part. As upstream, a data object accepts
    /// any source (and gets no attributes), and the key size is not
    /// checked against this object's maximum.
    pub fn copy_from(&mut self, src: &Object) -> Result<()> {
        if !src.is_initialized() || self.is_persistent() || self.is_initialized() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let new = if self.obj_type == ids::TYPE_DATA {
            Vec::new()
        } else {
            let p = props(self.obj_type).ok_or(TeeResult::ERROR_BAD_STATE)?;
            if self.obj_type == src.obj_type {
                src.attrs.clone()
            } else {
                let pair = match self.obj_type {
                    ids::TYPE_RSA_PUBLIC_KEY => ids::TYPE_RSA_KEYPAIR,
                    ids::TYPE_DSA_PUBLIC_KEY => ids::TYPE_DSA_KEYPAIR,
                    ids::TYPE_ECDSA_PUBLIC_KEY => ids::TYPE_ECDSA_KEYPAIR,
                    ids::TYPE_ECDH_PUBLIC_KEY => ids::TYPE_ECDH_KEYPAIR,
                    ids::TYPE_SM2_DSA_PUBLIC_KEY => ids::TYPE_SM2_DSA_KEYPAIR,
                    ids::TYPE_SM2_PKE_PUBLIC_KEY => ids::TYPE_SM2_PKE_KEYPAIR,
                    ids::TYPE_SM2_KEP_PUBLIC_KEY => ids::TYPE_SM2_KEP_KEYPAIR,
                    ids::TYPE_ED25519_PUBLIC_KEY => ids::TYPE_ED25519_KEYPAIR,
                    ids::TYPE_X25519_PUBLIC_KEY => ids::TYPE_X25519_KEYPAIR,
                    ids::TYPE_X448_PUBLIC_KEY => ids::TYPE_X448_KEYPAIR,
                    _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
                };
                if src.obj_type != pair {
                    return Err(TeeResult::ERROR_BAD_PARAMETERS);
                }
                // The public type's attributes all come from the pair,
                // which holds them all once initialised.
                let mut out = Vec::with_capacity(p.attrs.len());
                for d in p.attrs {
                    let a = src.attrs.iter().find(|a| a.id() == d.id).ok_or(TeeResult::ERROR_BAD_STATE)?;
                    out.push(a.clone());
                }
                out
            }
        };
        self.attrs = new;
        self.handle_flags |= ids::HANDLE_FLAG_INITIALIZED;
        self.key_size = src.key_size;
        self.usage = src.usage;
        Ok(())
    }

    /// `CRYP_OBJ_RESET`: back to uninitialised, key size 0, usage back to
    /// all; BAD_PARAMETERS for a persistent object.
    pub fn reset(&mut self) -> Result<()> {
        if self.is_persistent() {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        self.attrs.clear();
        self.key_size = 0;
        self.usage = USAGE_DEFAULT;
        self.handle_flags &= !ids::HANDLE_FLAG_INITIALIZED;
        Ok(())
    }

    /// `CRYP_OBJ_GET_INFO` (data size and position 0: transient).
    pub fn info(&self) -> UteeObjectInfo {
        UteeObjectInfo {
            obj_type: self.obj_type,
            obj_size: self.key_size,
            max_obj_size: self.max_size,
            obj_usage: self.usage,
            data_size: 0,
            data_pos: 0,
            handle_flags: self.handle_flags,
        }
    }

    /// The attributes in the form a persistent object keeps them: for each,
    /// its identifier (u32 LE), then a value's two u32s or a reference's
    /// length (u32) and bytes.
    pub fn attrs_to_binary(&self) -> Result<Secret> {
        let size: usize = self
            .attrs
            .iter()
            .map(|a| match a {
                Attr::Bytes(_, b) => 8 + b.len(),
                Attr::Value(..) => 12,
            })
            .sum();
        let mut out = Vec::new();
        out.try_reserve_exact(size).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        for a in &self.attrs {
            match a {
                Attr::Bytes(id, b) => {
                    out.extend_from_slice(&id.to_le_bytes());
                    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                    out.extend_from_slice(b);
                }
                Attr::Value(id, x, y) => {
                    out.extend_from_slice(&id.to_le_bytes());
                    out.extend_from_slice(&x.to_le_bytes());
                    out.extend_from_slice(&y.to_le_bytes());
                }
            }
        }
        Ok(Secret::new(out))
    }

    /// A persistent object read back from storage: its type, sizes and
    /// usage from the object's header, its attributes from
    /// [`Object::attrs_to_binary`]. The bytes were authenticated by the
    /// storage layer, but are still parsed defensively: anything that does
    /// not fit the type's table is CORRUPT_OBJECT.
    pub fn restore(obj_type: u32, max_size: u32, key_size: u32, usage: u32, bin: &[u8]) -> Result<Object> {
        let corrupt = TeeResult::ERROR_CORRUPT_OBJECT;
        let mut o = Object::alloc(obj_type, max_size).map_err(|_| corrupt)?;
        let allowed = props(obj_type).map(|p| p.attrs).unwrap_or(&[]);
        fn take<'b>(rest: &mut &'b [u8], n: usize) -> Result<&'b [u8]> {
            if rest.len() < n {
                return Err(TeeResult::ERROR_CORRUPT_OBJECT);
            }
            let (a, b) = rest.split_at(n);
            *rest = b;
            Ok(a)
        }
        fn word(rest: &mut &[u8]) -> Result<u32> {
            let b = take(rest, 4)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        let mut rest = bin;
        let mut attrs = Vec::new();
        while !rest.is_empty() {
            let id = word(&mut rest)?;
            if !allowed.iter().any(|d| d.id == id) || attrs.iter().any(|a: &Attr| a.id() == id) {
                return Err(corrupt);
            }
            attrs.try_reserve(1).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
            if ids::attr_is_value(id) {
                let x = word(&mut rest)?;
                let y = word(&mut rest)?;
                attrs.push(Attr::Value(id, x, y));
            } else {
                let len = word(&mut rest)? as usize;
                let b = take(&mut rest, len)?;
                let mut v = Vec::new();
                v.try_reserve_exact(len).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
                v.extend_from_slice(b);
                attrs.push(Attr::Bytes(id, Secret::new(v)));
            }
        }
        o.attrs = attrs;
        o.key_size = key_size;
        o.usage = usage;
        o.handle_flags = ids::HANDLE_FLAG_PERSISTENT | ids::HANDLE_FLAG_INITIALIZED;
        Ok(o)
    }

    /// Whether the object holds a key.
    pub fn is_initialized(&self) -> bool {
        self.handle_flags & ids::HANDLE_FLAG_INITIALIZED != 0
    }

    /// The attributes, for the operation layer.
    pub fn attrs(&self) -> &[Attr] {
        &self.attrs
    }

    /// The key bytes of a symmetric key (`SECRET_VALUE`: AES, DES, DES3,
    /// SM4, HMAC, generic secret), if the object holds one.
    pub fn secret_value(&self) -> Option<&[u8]> {
        self.attrs.as_slice().bytes(ids::ATTR_SECRET_VALUE)
    }

    /// `CRYP_DERIVE_KEY`'s output: the object (a secret-value type) takes
    /// `secret` as its key. As upstream, the bound is the type's buffer
    /// (BAD_PARAMETERS beyond it), not the object's maximum size, which
    /// TAs commonly give in bytes; usage is kept.
    pub fn set_derived_secret(&mut self, secret: &[u8]) -> Result<()> {
        let p = props(self.obj_type).ok_or(TeeResult::ERROR_NOT_SUPPORTED)?;
        if secret.len() as u64 * 8 > u64::from(p.max_size) {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let mut v = Vec::new();
        v.try_reserve_exact(secret.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        v.extend_from_slice(secret);
        self.attrs.clear();
        self.attrs.push(Attr::Bytes(ids::ATTR_SECRET_VALUE, zeroize::Zeroizing::new(v)));
        self.key_size = secret.len() as u32 * 8;
        self.handle_flags |= ids::HANDLE_FLAG_INITIALIZED;
        Ok(())
    }
}

/// Upstream's check of a caller-chosen RSA public exponent `e` (given
/// without leading zeros): odd, at least 65537, below 2^256.
fn check_rsa_public_exponent(e: &[u8]) -> Result<()> {
    if e.is_empty() || e.len() > 32 || e[e.len() - 1] & 1 == 0 {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    }
    if e.len() <= 3 {
        let v = e.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b));
        if v < 65537 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
    }
    Ok(())
}

/// An attribute slice as a `dyn Attrs` (slices are unsized).
struct List<'a>(&'a [Attr]);

impl Attrs for List<'_> {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.0.bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.0.value(id)
    }
}

impl Attrs for Object {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.attrs.as_slice().bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.attrs.as_slice().value(id)
    }
}

#[cfg(test)]
mod tests;
