//! Algorithm, mode and curve identifiers (Teaclave's `AlgorithmId`,
//! `OperationMode`, `ElementId`...), with the GP values of
//! `oxtee_abi::ta::crypto`.

use oxtee_abi::ta::crypto as gp;

/// The mode an operation is allocated for (`TEE_OperationMode`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationMode {
    Encrypt = gp::MODE_ENCRYPT,
    Decrypt = gp::MODE_DECRYPT,
    Sign = gp::MODE_SIGN,
    Verify = gp::MODE_VERIFY,
    Mac = gp::MODE_MAC,
    Digest = gp::MODE_DIGEST,
    Derive = gp::MODE_DERIVE,
    IllegalValue = gp::MODE_ILLEGAL_VALUE,
}

/// `operationState` of an operation (`TEE_OPERATION_STATE_*`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStates {
    Initial = gp::OPERATION_STATE_INITIAL,
    Active = gp::OPERATION_STATE_ACTIVE,
    Extracting = gp::OPERATION_STATE_EXTRACTING,
}

/// Operation classes (`TEE_OPERATION_*`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationConstant {
    Cipher = gp::OPERATION_CIPHER,
    Mac = gp::OPERATION_MAC,
    Ae = gp::OPERATION_AE,
    Digest = gp::OPERATION_DIGEST,
    AsymmetricCipher = gp::OPERATION_ASYMMETRIC_CIPHER,
    AsymmetricSignature = gp::OPERATION_ASYMMETRIC_SIGNATURE,
    KeyDerivation = gp::OPERATION_KEY_DERIVATION,
}

/// Curves and other elements for [`is_algorithm_supported`](super::is_algorithm_supported)
/// (`TEE_ECC_CURVE_*`, `TEE_CRYPTO_ELEMENT_NONE`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementId {
    ElementNone = 0,
    EccCurveNistP192 = gp::ECC_CURVE_NIST_P192,
    EccCurveNistP224 = gp::ECC_CURVE_NIST_P224,
    EccCurveNistP256 = gp::ECC_CURVE_NIST_P256,
    EccCurveNistP384 = gp::ECC_CURVE_NIST_P384,
    EccCurveNistP521 = gp::ECC_CURVE_NIST_P521,
    EccCurve25519 = gp::ECC_CURVE_25519,
    EccCurveSm2 = gp::ECC_CURVE_SM2,
}

/// Algorithm identifiers (`TEE_ALG_*`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorithmId {
    AesEcbNopad = gp::ALG_AES_ECB_NOPAD,
    AesCbcNopad = gp::ALG_AES_CBC_NOPAD,
    AesCtr = gp::ALG_AES_CTR,
    AesCts = gp::ALG_AES_CTS,
    AesXts = gp::ALG_AES_XTS,
    AesCbcMacNopad = gp::ALG_AES_CBC_MAC_NOPAD,
    AesCbcMacPkcs5 = gp::ALG_AES_CBC_MAC_PKCS5,
    AesCmac = gp::ALG_AES_CMAC,
    AesCcm = gp::ALG_AES_CCM,
    AesGcm = gp::ALG_AES_GCM,
    DesEcbNopad = gp::ALG_DES_ECB_NOPAD,
    DesCbcNopad = gp::ALG_DES_CBC_NOPAD,
    DesCbcMacNopad = gp::ALG_DES_CBC_MAC_NOPAD,
    DesCbcMacPkcs5 = gp::ALG_DES_CBC_MAC_PKCS5,
    Des3EcbNopad = gp::ALG_DES3_ECB_NOPAD,
    Des3CbcNopad = gp::ALG_DES3_CBC_NOPAD,
    Des3CbcMacNopad = gp::ALG_DES3_CBC_MAC_NOPAD,
    Des3CbcMacPkcs5 = gp::ALG_DES3_CBC_MAC_PKCS5,
    Des3Cmac = gp::ALG_DES3_CMAC,
    Sm4EcbNopad = gp::ALG_SM4_ECB_NOPAD,
    Sm4CbcNopad = gp::ALG_SM4_CBC_NOPAD,
    Sm4Ctr = gp::ALG_SM4_CTR,
    Sm4Xts = gp::ALG_SM4_XTS,
    RsassaPkcs1V15 = gp::ALG_RSASSA_PKCS1_V1_5,
    RsassaPkcs1V15MD5 = gp::ALG_RSASSA_PKCS1_V1_5_MD5,
    RsassaPkcs1V15Sha1 = gp::ALG_RSASSA_PKCS1_V1_5_SHA1,
    RsassaPkcs1V15Sha224 = gp::ALG_RSASSA_PKCS1_V1_5_SHA224,
    RsassaPkcs1V15Sha256 = gp::ALG_RSASSA_PKCS1_V1_5_SHA256,
    RsassaPkcs1V15Sha384 = gp::ALG_RSASSA_PKCS1_V1_5_SHA384,
    RsassaPkcs1V15Sha512 = gp::ALG_RSASSA_PKCS1_V1_5_SHA512,
    RsassaPkcs1V15MD5Sha1 = gp::ALG_RSASSA_PKCS1_V1_5_MD5SHA1,
    RsassaPkcs1PssMgf1MD5 = gp::ALG_RSASSA_PKCS1_PSS_MGF1_MD5,
    RsassaPkcs1PssMgf1Sha1 = gp::ALG_RSASSA_PKCS1_PSS_MGF1_SHA1,
    RsassaPkcs1PssMgf1Sha224 = gp::ALG_RSASSA_PKCS1_PSS_MGF1_SHA224,
    RsassaPkcs1PssMgf1Sha256 = gp::ALG_RSASSA_PKCS1_PSS_MGF1_SHA256,
    RsassaPkcs1PssMgf1Sha384 = gp::ALG_RSASSA_PKCS1_PSS_MGF1_SHA384,
    RsassaPkcs1PssMgf1Sha512 = gp::ALG_RSASSA_PKCS1_PSS_MGF1_SHA512,
    RsaesPkcs1V15 = gp::ALG_RSAES_PKCS1_V1_5,
    RsaesPkcs1OAepMgf1MD5 = gp::ALG_RSAES_PKCS1_OAEP_MGF1_MD5,
    RsaesPkcs1OAepMgf1Sha1 = gp::ALG_RSAES_PKCS1_OAEP_MGF1_SHA1,
    RsaesPkcs1OAepMgf1Sha224 = gp::ALG_RSAES_PKCS1_OAEP_MGF1_SHA224,
    RsaesPkcs1OAepMgf1Sha256 = gp::ALG_RSAES_PKCS1_OAEP_MGF1_SHA256,
    RsaesPkcs1OAepMgf1Sha384 = gp::ALG_RSAES_PKCS1_OAEP_MGF1_SHA384,
    RsaesPkcs1OAepMgf1Sha512 = gp::ALG_RSAES_PKCS1_OAEP_MGF1_SHA512,
    RsaNopad = gp::ALG_RSA_NOPAD,
    DSASha1 = gp::ALG_DSA_SHA1,
    DSASha224 = gp::ALG_DSA_SHA224,
    DSASha256 = gp::ALG_DSA_SHA256,
    DhDeriveSharedSecret = gp::ALG_DH_DERIVE_SHARED_SECRET,
    EcDhDeriveSharedSecret = gp::ALG_ECDH_DERIVE_SHARED_SECRET,
    EcDsaSha1 = gp::ALG_ECDSA_SHA1,
    EcDsaSha224 = gp::ALG_ECDSA_SHA224,
    EcDsaSha256 = gp::ALG_ECDSA_SHA256,
    EcDsaSha384 = gp::ALG_ECDSA_SHA384,
    EcDsaSha512 = gp::ALG_ECDSA_SHA512,
    Ed25519 = gp::ALG_ED25519,
    X25519 = gp::ALG_X25519,
    Sm2DsaSm3 = gp::ALG_SM2_DSA_SM3,
    Sm2Kep = gp::ALG_SM2_KEP,
    Sm2Pke = gp::ALG_SM2_PKE,
    HkdfMd5DeriveKey = gp::ALG_HKDF_MD5_DERIVE_KEY,
    HkdfSha1DeriveKey = gp::ALG_HKDF_SHA1_DERIVE_KEY,
    HkdfSha224DeriveKey = gp::ALG_HKDF_SHA224_DERIVE_KEY,
    HkdfSha256DeriveKey = gp::ALG_HKDF_SHA256_DERIVE_KEY,
    HkdfSha384DeriveKey = gp::ALG_HKDF_SHA384_DERIVE_KEY,
    HkdfSha512DeriveKey = gp::ALG_HKDF_SHA512_DERIVE_KEY,
    ConcatKdfSha1DeriveKey = gp::ALG_CONCAT_KDF_SHA1_DERIVE_KEY,
    ConcatKdfSha224DeriveKey = gp::ALG_CONCAT_KDF_SHA224_DERIVE_KEY,
    ConcatKdfSha256DeriveKey = gp::ALG_CONCAT_KDF_SHA256_DERIVE_KEY,
    ConcatKdfSha384DeriveKey = gp::ALG_CONCAT_KDF_SHA384_DERIVE_KEY,
    ConcatKdfSha512DeriveKey = gp::ALG_CONCAT_KDF_SHA512_DERIVE_KEY,
    Pbkdf2HmacSha1DeriveKey = gp::ALG_PBKDF2_HMAC_SHA1_DERIVE_KEY,
    Pbkdf2HmacSha224DeriveKey = gp::ALG_PBKDF2_HMAC_SHA224_DERIVE_KEY,
    Pbkdf2HmacSha256DeriveKey = gp::ALG_PBKDF2_HMAC_SHA256_DERIVE_KEY,
    Pbkdf2HmacSha384DeriveKey = gp::ALG_PBKDF2_HMAC_SHA384_DERIVE_KEY,
    Pbkdf2HmacSha512DeriveKey = gp::ALG_PBKDF2_HMAC_SHA512_DERIVE_KEY,
    Pbkdf2HmacSm3DeriveKey = gp::ALG_PBKDF2_HMAC_SM3_DERIVE_KEY,
    Md5 = gp::ALG_MD5,
    Sha1 = gp::ALG_SHA1,
    Sha224 = gp::ALG_SHA224,
    Sha256 = gp::ALG_SHA256,
    Sha384 = gp::ALG_SHA384,
    Sha512 = gp::ALG_SHA512,
    Md5Sha1 = gp::ALG_MD5SHA1,
    Sha3_224 = gp::ALG_SHA3_224,
    Sha3_256 = gp::ALG_SHA3_256,
    Sha3_384 = gp::ALG_SHA3_384,
    Sha3_512 = gp::ALG_SHA3_512,
    Shake128 = gp::ALG_SHAKE128,
    Shake256 = gp::ALG_SHAKE256,
    Sm3 = gp::ALG_SM3,
    HmacMd5 = gp::ALG_HMAC_MD5,
    HmacSha1 = gp::ALG_HMAC_SHA1,
    HmacSha224 = gp::ALG_HMAC_SHA224,
    HmacSha256 = gp::ALG_HMAC_SHA256,
    HmacSha384 = gp::ALG_HMAC_SHA384,
    HmacSha512 = gp::ALG_HMAC_SHA512,
    HmacSha3_224 = gp::ALG_HMAC_SHA3_224,
    HmacSha3_256 = gp::ALG_HMAC_SHA3_256,
    HmacSha3_384 = gp::ALG_HMAC_SHA3_384,
    HmacSha3_512 = gp::ALG_HMAC_SHA3_512,
    HmacSm3 = gp::ALG_HMAC_SM3,
    IllegalValue = gp::ALG_ILLEGAL_VALUE,
}

/// OP-TEE's curve-specific ECDSA/ECDH identifiers (`__OPTEE_ALG_ECDSA_P192`
/// ...): accepted by upstream's `TEE_AllocateOperation`, not named by
/// [`AlgorithmId`].
pub(crate) const OPTEE_ALG_ECDSA_P: [u32; 5] = [0x70001041, 0x70002041, 0x70003041, 0x70004041, 0x70005041];
pub(crate) const OPTEE_ALG_ECDH_P: [u32; 5] = [0x80001042, 0x80002042, 0x80003042, 0x80004042, 0x80005042];

/// Digest, MAC or signature-hash length of `algo` in bytes (upstream's
/// `TEE_ALG_GET_DIGEST_SIZE`; 0 when it has none).
pub(crate) const fn digest_size(algo: u32) -> usize {
    match algo {
        gp::ALG_MD5 | gp::ALG_HMAC_MD5 => 16,
        gp::ALG_SHA1 | gp::ALG_HMAC_SHA1 | gp::ALG_DSA_SHA1 | gp::ALG_ECDSA_SHA1 => 20,
        gp::ALG_SHA224
        | gp::ALG_SHA3_224
        | gp::ALG_HMAC_SHA224
        | gp::ALG_HMAC_SHA3_224
        | gp::ALG_DSA_SHA224
        | gp::ALG_ECDSA_SHA224 => 28,
        gp::ALG_SHA256
        | gp::ALG_SHA3_256
        | gp::ALG_HMAC_SHA256
        | gp::ALG_HMAC_SHA3_256
        | gp::ALG_DSA_SHA256
        | gp::ALG_ECDSA_SHA256 => 32,
        gp::ALG_SHA384 | gp::ALG_SHA3_384 | gp::ALG_HMAC_SHA384 | gp::ALG_HMAC_SHA3_384 | gp::ALG_ECDSA_SHA384 => 48,
        gp::ALG_SHA512 | gp::ALG_SHA3_512 | gp::ALG_HMAC_SHA512 | gp::ALG_HMAC_SHA3_512 | gp::ALG_ECDSA_SHA512 => 64,
        gp::ALG_SM3 | gp::ALG_HMAC_SM3 => 32,
        gp::ALG_AES_CBC_MAC_NOPAD | gp::ALG_AES_CBC_MAC_PKCS5 | gp::ALG_AES_CMAC => 16,
        gp::ALG_DES_CBC_MAC_NOPAD
        | gp::ALG_DES_CBC_MAC_PKCS5
        | gp::ALG_DES3_CBC_MAC_NOPAD
        | gp::ALG_DES3_CBC_MAC_PKCS5
        | gp::ALG_DES3_CMAC => 8,
        _ => 0,
    }
}
