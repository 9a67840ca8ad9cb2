//! Transient objects (keys) and their attributes: GP's "Generic Object"
//! and "Transient Object" functions over the CRYP_OBJ_* syscalls, in the
//! shape of Teaclave's `optee-utee` object API. Where libutee panics on a
//! programming error (a result other than the ones GP lets a call
//! return), these do too.

use crate::sys::cryp;
use crate::{Error, ErrorKind, Result, tee_panic};
use core::marker::PhantomData;
use core::ops::{BitAnd, BitOr, BitOrAssign};
use oxtee_abi::ta::crypto as gp;
use oxtee_abi::ta::crypto::{UteeAttribute, UteeObjectInfo};
use oxtee_abi::tee::TeeResult;

/// Usage the kernel gives a new object (every bit).
const USAGE_DEFAULT: u32 = 0xffff_ffff;

/// One attribute passed to [`TransientObject::populate`],
/// [`TransientObject::generate_key`] or an operation (`TEE_Attribute`):
/// made from an [`AttributeMemref`] (borrowing its buffer for `'a`) or an
/// [`AttributeValue`].
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct Attribute<'a> {
    // Invariant (relied on by `sys::cryp`): for a reference attribute, `a`/`b`
    // are the address and length of a slice borrowed for `'a`.
    raw: UteeAttribute,
    _buf: PhantomData<&'a [u8]>,
}

impl Attribute<'_> {
    /// The attribute identifier.
    pub fn id(&self) -> u32 {
        self.raw.attribute_id
    }

    /// The syscall form (`struct utee_attribute`).
    pub fn raw(&self) -> UteeAttribute {
        self.raw
    }
}

impl<'a> From<AttributeMemref<'a>> for Attribute<'a> {
    fn from(attr: AttributeMemref<'a>) -> Self {
        attr.0
    }
}

impl From<AttributeValue> for Attribute<'_> {
    fn from(attr: AttributeValue) -> Self {
        Attribute { raw: attr.0, _buf: PhantomData }
    }
}

/// A buffer attribute (`TEE_InitRefAttribute`).
#[derive(Clone, Copy, Debug)]
pub struct AttributeMemref<'a>(Attribute<'a>);

impl<'a> AttributeMemref<'a> {
    /// The attribute `id` over `buffer`. Panics (as libutee's
    /// `TEE_InitRefAttribute`) if `id` names a value attribute.
    pub fn from_ref(id: AttributeId, buffer: &'a [u8]) -> Self {
        Self::from_raw_ref(id as u32, buffer)
    }

    /// [`from_ref`](Self::from_ref) for an identifier outside
    /// [`AttributeId`].
    pub fn from_raw_ref(id: u32, buffer: &'a [u8]) -> Self {
        if gp::attr_is_value(id) {
            tee_panic(0);
        }
        // An empty buffer is passed as NULL, as from C.
        let a = if buffer.is_empty() { 0 } else { buffer.as_ptr() as u64 };
        let raw = UteeAttribute { a, b: buffer.len() as u64, attribute_id: id, pad: 0 };
        AttributeMemref(Attribute { raw, _buf: PhantomData })
    }

    pub fn raw(&self) -> UteeAttribute {
        self.0.raw
    }
}

/// A value attribute (`TEE_InitValueAttribute`).
#[derive(Clone, Copy, Debug)]
pub struct AttributeValue(UteeAttribute);

impl AttributeValue {
    /// The attribute `id` with values `a`, `b`. Panics (as libutee's
    /// `TEE_InitValueAttribute`) if `id` names a reference attribute.
    pub fn from_value(id: AttributeId, a: u32, b: u32) -> Self {
        Self::from_raw_value(id as u32, a, b)
    }

    /// [`from_value`](Self::from_value) for an identifier outside
    /// [`AttributeId`].
    pub fn from_raw_value(id: u32, a: u32, b: u32) -> Self {
        if !gp::attr_is_value(id) {
            tee_panic(0);
        }
        AttributeValue(UteeAttribute { a: a as u64, b: b as u64, attribute_id: id, pad: 0 })
    }

    pub fn raw(&self) -> UteeAttribute {
        self.0
    }
}

/// Attribute identifiers (`TEE_ATTR_*`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeId {
    SecretValue = gp::ATTR_SECRET_VALUE,
    RsaModulus = gp::ATTR_RSA_MODULUS,
    RsaPublicExponent = gp::ATTR_RSA_PUBLIC_EXPONENT,
    RsaPrivateExponent = gp::ATTR_RSA_PRIVATE_EXPONENT,
    RsaPrime1 = gp::ATTR_RSA_PRIME1,
    RsaPrime2 = gp::ATTR_RSA_PRIME2,
    RsaExponent1 = gp::ATTR_RSA_EXPONENT1,
    RsaExponent2 = gp::ATTR_RSA_EXPONENT2,
    RsaCoefficient = gp::ATTR_RSA_COEFFICIENT,
    DsaPrime = gp::ATTR_DSA_PRIME,
    DsaSubprime = gp::ATTR_DSA_SUBPRIME,
    DsaBase = gp::ATTR_DSA_BASE,
    DsaPublicValue = gp::ATTR_DSA_PUBLIC_VALUE,
    DsaPrivateValue = gp::ATTR_DSA_PRIVATE_VALUE,
    DhPrime = gp::ATTR_DH_PRIME,
    DhSubprime = gp::ATTR_DH_SUBPRIME,
    DhBase = gp::ATTR_DH_BASE,
    DhXBits = gp::ATTR_DH_X_BITS,
    DhPublicValue = gp::ATTR_DH_PUBLIC_VALUE,
    DhPrivateValue = gp::ATTR_DH_PRIVATE_VALUE,
    RsaOaepLabel = gp::ATTR_RSA_OAEP_LABEL,
    RsaOaepMgf1Hash = gp::ATTR_RSA_OAEP_MGF_HASH,
    RsaPssSaltLength = gp::ATTR_RSA_PSS_SALT_LENGTH,
    EccPublicValueX = gp::ATTR_ECC_PUBLIC_VALUE_X,
    EccPublicValueY = gp::ATTR_ECC_PUBLIC_VALUE_Y,
    EccPrivateValue = gp::ATTR_ECC_PRIVATE_VALUE,
    EccEphemeralPublicValueX = gp::ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_X,
    EccEphemeralPublicValueY = gp::ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_Y,
    EccCurve = gp::ATTR_ECC_CURVE,
    Ed25519PublicValue = gp::ATTR_ED25519_PUBLIC_VALUE,
    Ed25519PrivateValue = gp::ATTR_ED25519_PRIVATE_VALUE,
    EdDsaCtx = gp::ATTR_EDDSA_CTX,
    EdDsaPrehash = gp::ATTR_EDDSA_PREHASH,
    X25519PublicValue = gp::ATTR_X25519_PUBLIC_VALUE,
    X25519PrivateValue = gp::ATTR_X25519_PRIVATE_VALUE,
    Sm2IdInitiator = gp::ATTR_SM2_ID_INITIATOR,
    Sm2IdResponder = gp::ATTR_SM2_ID_RESPONDER,
    Sm2KepUser = gp::ATTR_SM2_KEP_USER,
    Sm2KepConfirmationIn = gp::ATTR_SM2_KEP_CONFIRMATION_IN,
    Sm2KepConfirmationOut = gp::ATTR_SM2_KEP_CONFIRMATION_OUT,
    HkdfIkm = gp::ATTR_HKDF_IKM,
    HkdfSalt = gp::ATTR_HKDF_SALT,
    HkdfInfo = gp::ATTR_HKDF_INFO,
    HkdfOkmLength = gp::ATTR_HKDF_OKM_LENGTH,
    ConcatKdfZ = gp::ATTR_CONCAT_KDF_Z,
    ConcatKdfOtherInfo = gp::ATTR_CONCAT_KDF_OTHER_INFO,
    ConcatKdfDkmLength = gp::ATTR_CONCAT_KDF_DKM_LENGTH,
    Pbkdf2Password = gp::ATTR_PBKDF2_PASSWORD,
    Pbkdf2Salt = gp::ATTR_PBKDF2_SALT,
    Pbkdf2IterationCount = gp::ATTR_PBKDF2_ITERATION_COUNT,
    Pbkdf2DkmLength = gp::ATTR_PBKDF2_DKM_LENGTH,
    BitProtected = gp::ATTR_BIT_PROTECTED,
    BitValue = gp::ATTR_BIT_VALUE,
}

/// Object types (`TEE_TYPE_*`) a transient object can have.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransientObjectType {
    Aes = gp::TYPE_AES,
    Des = gp::TYPE_DES,
    Des3 = gp::TYPE_DES3,
    Sm4 = gp::TYPE_SM4,
    HmacMd5 = gp::TYPE_HMAC_MD5,
    HmacSha1 = gp::TYPE_HMAC_SHA1,
    HmacSha224 = gp::TYPE_HMAC_SHA224,
    HmacSha256 = gp::TYPE_HMAC_SHA256,
    HmacSha384 = gp::TYPE_HMAC_SHA384,
    HmacSha512 = gp::TYPE_HMAC_SHA512,
    HmacSm3 = gp::TYPE_HMAC_SM3,
    HmacSha3_224 = gp::TYPE_HMAC_SHA3_224,
    HmacSha3_256 = gp::TYPE_HMAC_SHA3_256,
    HmacSha3_384 = gp::TYPE_HMAC_SHA3_384,
    HmacSha3_512 = gp::TYPE_HMAC_SHA3_512,
    RsaPublicKey = gp::TYPE_RSA_PUBLIC_KEY,
    RsaKeypair = gp::TYPE_RSA_KEYPAIR,
    DsaPublicKey = gp::TYPE_DSA_PUBLIC_KEY,
    DsaKeypair = gp::TYPE_DSA_KEYPAIR,
    DhKeypair = gp::TYPE_DH_KEYPAIR,
    EcdsaPublicKey = gp::TYPE_ECDSA_PUBLIC_KEY,
    EcdsaKeypair = gp::TYPE_ECDSA_KEYPAIR,
    EcdhPublicKey = gp::TYPE_ECDH_PUBLIC_KEY,
    EcdhKeypair = gp::TYPE_ECDH_KEYPAIR,
    Ed25519PublicKey = gp::TYPE_ED25519_PUBLIC_KEY,
    Ed25519Keypair = gp::TYPE_ED25519_KEYPAIR,
    X25519PublicKey = gp::TYPE_X25519_PUBLIC_KEY,
    X25519Keypair = gp::TYPE_X25519_KEYPAIR,
    Sm2DsaPublicKey = gp::TYPE_SM2_DSA_PUBLIC_KEY,
    Sm2DsaKeypair = gp::TYPE_SM2_DSA_KEYPAIR,
    Sm2KepPublicKey = gp::TYPE_SM2_KEP_PUBLIC_KEY,
    Sm2KepKeypair = gp::TYPE_SM2_KEP_KEYPAIR,
    Sm2PkePublicKey = gp::TYPE_SM2_PKE_PUBLIC_KEY,
    Sm2PkeKeypair = gp::TYPE_SM2_PKE_KEYPAIR,
    HkdfIkm = gp::TYPE_HKDF_IKM,
    ConcatKdfZ = gp::TYPE_CONCAT_KDF_Z,
    Pbkdf2Password = gp::TYPE_PBKDF2_PASSWORD,
    GenericSecret = gp::TYPE_GENERIC_SECRET,
    CorruptedObject = gp::TYPE_CORRUPTED_OBJECT,
    Data = gp::TYPE_DATA,
}

/// A set of `TEE_USAGE_*` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct UsageFlag(u32);

impl UsageFlag {
    pub const EXTRACTABLE: UsageFlag = UsageFlag(gp::USAGE_EXTRACTABLE);
    pub const ENCRYPT: UsageFlag = UsageFlag(gp::USAGE_ENCRYPT);
    pub const DECRYPT: UsageFlag = UsageFlag(gp::USAGE_DECRYPT);
    pub const MAC: UsageFlag = UsageFlag(gp::USAGE_MAC);
    pub const SIGN: UsageFlag = UsageFlag(gp::USAGE_SIGN);
    pub const VERIFY: UsageFlag = UsageFlag(gp::USAGE_VERIFY);
    pub const DERIVE: UsageFlag = UsageFlag(gp::USAGE_DERIVE);

    pub const fn empty() -> Self {
        UsageFlag(0)
    }
    pub const fn all() -> Self {
        UsageFlag(USAGE_DEFAULT)
    }
    pub const fn bits(&self) -> u32 {
        self.0
    }
    pub const fn from_bits_retain(bits: u32) -> Self {
        UsageFlag(bits)
    }
    pub const fn contains(&self, other: UsageFlag) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// GP's name for the usage bits; Teaclave calls the set [`UsageFlag`].
pub type Usage = UsageFlag;

/// A set of `TEE_HANDLE_FLAG_*` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct HandleFlag(u32);

impl HandleFlag {
    pub const PERSISTENT: HandleFlag = HandleFlag(gp::HANDLE_FLAG_PERSISTENT);
    pub const INITIALIZED: HandleFlag = HandleFlag(gp::HANDLE_FLAG_INITIALIZED);
    pub const KEY_SET: HandleFlag = HandleFlag(gp::HANDLE_FLAG_KEY_SET);
    pub const EXPECT_TWO_KEYS: HandleFlag = HandleFlag(gp::HANDLE_FLAG_EXPECT_TWO_KEYS);
    pub const EXTRACTING: HandleFlag = HandleFlag(gp::HANDLE_FLAG_EXTRACTING);

    pub const fn empty() -> Self {
        HandleFlag(0)
    }
    pub const fn bits(&self) -> u32 {
        self.0
    }
    pub const fn from_bits_retain(bits: u32) -> Self {
        HandleFlag(bits)
    }
    pub const fn contains(&self, other: HandleFlag) -> bool {
        self.0 & other.0 == other.0
    }
}

macro_rules! flag_ops {
    ($t:ident) => {
        impl BitOr for $t {
            type Output = $t;
            fn bitor(self, rhs: $t) -> $t {
                $t(self.0 | rhs.0)
            }
        }
        impl BitOrAssign for $t {
            fn bitor_assign(&mut self, rhs: $t) {
                self.0 |= rhs.0;
            }
        }
        impl BitAnd for $t {
            type Output = $t;
            fn bitand(self, rhs: $t) -> $t {
                $t(self.0 & rhs.0)
            }
        }
    };
}
flag_ops!(UsageFlag);
flag_ops!(HandleFlag);

/// What GP's `TEE_GetObjectInfo1` reports (`TEE_ObjectInfo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectInfo {
    pub(crate) raw: UteeObjectInfo,
}

impl ObjectInfo {
    pub fn from_raw(raw: UteeObjectInfo) -> Self {
        ObjectInfo { raw }
    }
    /// `objectType`.
    pub fn object_type(&self) -> u32 {
        self.raw.obj_type
    }
    /// `objectSize` (`keySize`): the key size in bits, 0 until populated.
    pub fn object_size(&self) -> usize {
        self.raw.obj_size as usize
    }
    /// `maxObjectSize` (`maxKeySize`).
    pub fn max_object_size(&self) -> usize {
        self.raw.max_obj_size as usize
    }
    /// `objectUsage`.
    pub fn usage(&self) -> UsageFlag {
        UsageFlag(self.raw.obj_usage)
    }
    /// `dataSize` (persistent objects).
    pub fn data_size(&self) -> usize {
        self.raw.data_size as usize
    }
    /// `dataPosition` (persistent objects).
    pub fn data_position(&self) -> usize {
        self.raw.data_pos as usize
    }
    /// `handleFlags`.
    pub fn handle_flags(&self) -> HandleFlag {
        HandleFlag(self.raw.handle_flags)
    }
}

pub(crate) fn ok_or_panic(res: TeeResult, allowed: &[u32]) -> Result<()> {
    if res.0 == 0 {
        Ok(())
    } else if allowed.contains(&res.0) {
        Err(Error::from_raw_error(res.0))
    } else {
        tee_panic(res.0)
    }
}

const CORRUPT: u32 = ErrorKind::CorruptObject as u32;
const NOT_AVAILABLE: u32 = ErrorKind::StorageNotAvailable as u32;

/// CRYP_OBJ_GET_INFO, panicking on anything but success.
pub(crate) fn object_info_or_panic(handle: u32) -> UteeObjectInfo {
    let (res, info) = cryp::obj_get_info_filled(handle);
    if res.0 != 0 {
        tee_panic(res.0);
    }
    info
}

/// `TEE_CopyObjectAttributes1` between two handles.
pub(crate) fn copy_attributes(dst: u32, src: u32) -> Result<()> {
    let (res, dst_info) = cryp::obj_get_info_filled(dst);
    ok_or_panic(res, &[CORRUPT, NOT_AVAILABLE])?;
    let (res, src_info) = cryp::obj_get_info_filled(src);
    ok_or_panic(res, &[CORRUPT, NOT_AVAILABLE])?;
    if src_info.handle_flags & gp::HANDLE_FLAG_INITIALIZED == 0
        || dst_info.handle_flags & (gp::HANDLE_FLAG_PERSISTENT | gp::HANDLE_FLAG_INITIALIZED) != 0
    {
        tee_panic(0);
    }
    ok_or_panic(cryp::obj_copy(dst, src), &[CORRUPT, NOT_AVAILABLE])
}

/// `TEE_ResetTransientObject` of a handle.
pub(crate) fn reset_object(handle: u32) {
    if handle == 0 {
        return;
    }
    let info = object_info_or_panic(handle);
    if info.handle_flags & gp::HANDLE_FLAG_PERSISTENT != 0 {
        tee_panic(0);
    }
    let res = cryp::obj_reset(handle);
    if res.0 != 0 {
        tee_panic(res.0);
    }
}

/// What every object handle offers (GP's Generic Object functions).
pub trait GenericObject {
    /// The kernel's handle of the object (0 for none).
    fn handle(&self) -> u32;

    /// `TEE_GetObjectInfo1`.
    fn info(&self) -> Result<ObjectInfo> {
        let (res, info) = cryp::obj_get_info_filled(self.handle());
        ok_or_panic(res, &[CORRUPT, NOT_AVAILABLE])?;
        Ok(ObjectInfo { raw: info })
    }

    /// `TEE_RestrictObjectUsage1`: keeps only the usage bits in `obj_usage`.
    fn restrict_usage(&mut self, obj_usage: UsageFlag) -> Result<()> {
        ok_or_panic(cryp::obj_restrict_usage(self.handle(), obj_usage.bits()), &[CORRUPT, NOT_AVAILABLE])
    }

    /// `TEE_GetObjectBufferAttribute`: copies attribute `id` into `buffer`
    /// and returns its length. `ShortBuffer` if it does not fit (see
    /// [`ref_attribute_size`](Self::ref_attribute_size)), `ItemNotFound`
    /// if the object has no such attribute or it may not be read.
    fn ref_attribute(&self, id: AttributeId, buffer: &mut [u8]) -> Result<usize> {
        get_ref_attribute(self.handle(), id as u32, buffer)
    }

    /// The length attribute `id` has (what `ShortBuffer` would report).
    fn ref_attribute_size(&self, id: AttributeId) -> Result<usize> {
        match get_ref_attribute_raw(self.handle(), id as u32, &mut []) {
            (Ok(()), n) => Ok(n),
            (Err(e), n) if e.kind() == ErrorKind::ShortBuffer => Ok(n),
            (Err(e), _) => Err(e),
        }
    }

    /// `TEE_GetObjectValueAttribute`: the (a, b) of value attribute `id`.
    fn value_attribute(&self, id: u32) -> Result<(u32, u32)> {
        let (res, _) = cryp::obj_get_info_filled(self.handle());
        if res.0 != 0 {
            ok_or_panic(res, &[gp_item_not_found(), CORRUPT, NOT_AVAILABLE])?;
        }
        if !gp::attr_is_value(id) {
            tee_panic(ErrorKind::BadParameters as u32);
        }
        let mut buf = [0u8; 8];
        let (res, size) = cryp::obj_get_attr(self.handle(), id, &mut buf);
        ok_or_panic(res, &[gp_item_not_found(), CORRUPT, NOT_AVAILABLE])?;
        if size != buf.len() {
            tee_panic(0);
        }
        let a = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let b = u32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
        Ok((a, b))
    }
}

const fn gp_item_not_found() -> u32 {
    ErrorKind::ItemNotFound as u32
}

fn get_ref_attribute_raw(handle: u32, id: u32, buffer: &mut [u8]) -> (Result<()>, usize) {
    let allowed = [gp_item_not_found(), ErrorKind::ShortBuffer as u32, CORRUPT, NOT_AVAILABLE];
    let (res, _) = cryp::obj_get_info_filled(handle);
    if res.0 != 0 {
        return (ok_or_panic(res, &allowed), 0);
    }
    if gp::attr_is_value(id) {
        tee_panic(ErrorKind::BadParameters as u32);
    }
    let (res, size) = cryp::obj_get_attr(handle, id, buffer);
    (ok_or_panic(res, &allowed), size)
}

fn get_ref_attribute(handle: u32, id: u32, buffer: &mut [u8]) -> Result<usize> {
    let (res, size) = get_ref_attribute_raw(handle, id, buffer);
    res?;
    Ok(size.min(buffer.len()))
}

/// A transient object: a key or secret the kernel holds, closed (and its
/// material wiped by the kernel) on drop (`TEE_FreeTransientObject`).
#[derive(Debug)]
pub struct TransientObject(u32);

impl TransientObject {
    /// An empty handle (`TEE_HANDLE_NULL`): e.g. to clear an operation's key.
    pub fn null_object() -> Self {
        TransientObject(0)
    }

    pub fn is_null_object(&self) -> bool {
        self.0 == 0
    }

    /// `TEE_AllocateTransientObject`: an uninitialized object of
    /// `object_type` for keys up to `max_object_size` bits. `NotSupported`
    /// for a type or size the implementation lacks, `OutOfMemory`.
    pub fn allocate(object_type: TransientObjectType, max_object_size: usize) -> Result<Self> {
        allocate_raw(object_type as u32, max_object_size).map(TransientObject)
    }

    /// `TEE_ResetTransientObject`: back to uninitialized, usage restored.
    pub fn reset(&mut self) {
        if self.0 != 0 {
            reset_object(self.0);
        }
    }

    /// `TEE_PopulateTransientObject`: sets the key material. Panics if the
    /// object is already initialized; `BadParameters` for attributes the
    /// type does not accept (missing, wrong size).
    pub fn populate(&mut self, attrs: &[Attribute<'_>]) -> Result<()> {
        let info = object_info_or_panic(self.0);
        if info.handle_flags & (gp::HANDLE_FLAG_PERSISTENT | gp::HANDLE_FLAG_INITIALIZED) != 0 {
            tee_panic(0);
        }
        ok_or_panic(cryp::obj_populate(self.0, attrs), &[ErrorKind::BadParameters as u32])
    }

    /// `TEE_CopyObjectAttributes1`: copies `src_object`'s attributes into
    /// this (uninitialized) object.
    pub fn copy_attribute_from<T: GenericObject>(&mut self, src_object: &T) -> Result<()> {
        copy_attributes(self.0, src_object.handle())
    }

    /// `TEE_GenerateKey`: a random key of `key_size` bits (`params`: e.g.
    /// the curve, DH domain).
    pub fn generate_key(&self, key_size: usize, params: &[Attribute<'_>]) -> Result<()> {
        let Ok(size) = u32::try_from(key_size) else {
            tee_panic(ErrorKind::BadParameters as u32);
        };
        ok_or_panic(cryp::obj_generate_key(self.0, size, params), &[ErrorKind::BadParameters as u32])
    }
}

/// CRYP_OBJ_ALLOC with libutee's error policy.
pub(crate) fn allocate_raw(object_type: u32, max_object_size: usize) -> Result<u32> {
    if object_type == gp::TYPE_DATA {
        return Err(ErrorKind::NotSupported.into());
    }
    let Ok(max) = u32::try_from(max_object_size) else {
        return Err(ErrorKind::NotSupported.into());
    };
    cryp::obj_alloc(object_type, max).map_err(|res| {
        if res.0 == ErrorKind::OutOfMemory as u32 || res.0 == ErrorKind::NotSupported as u32 {
            Error::from_raw_error(res.0)
        } else {
            tee_panic(res.0)
        }
    })
}

impl GenericObject for TransientObject {
    fn handle(&self) -> u32 {
        self.0
    }
}

impl Drop for TransientObject {
    fn drop(&mut self) {
        if self.0 != 0 {
            let res = cryp::obj_close(self.0);
            if res.0 != 0 {
                tee_panic(res.0);
            }
        }
    }
}
