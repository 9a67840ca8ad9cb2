//! GlobalPlatform cryptography numbering as OP-TEE's TAs and libutee use
//! it: algorithm identifiers, object types, attribute identifiers, modes,
//! usage and handle flags, curves, and the structures the crypto syscalls
//! exchange. Names drop the `TEE_` prefix (`ALG_AES_CBC_NOPAD` is
//! `TEE_ALG_AES_CBC_NOPAD`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// One attribute as a TA passes it to `CRYP_OBJ_POPULATE`, `ASYMM_*`,
/// `DERIVE_KEY` and `GENERATE_KEY` (`struct utee_attribute`): for a
/// reference attribute `a` is the buffer's address and `b` its length; for
/// a value attribute `a` and `b` are the two values.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct UteeAttribute {
    pub a: u64,
    pub b: u64,
    pub attribute_id: u32,
    pub pad: u32,
}

/// What `CRYP_OBJ_GET_INFO` (and the storage calls) answer
/// (`struct utee_object_info`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct UteeObjectInfo {
    pub obj_type: u32,
    pub obj_size: u32,
    pub max_obj_size: u32,
    pub obj_usage: u32,
    pub data_size: u32,
    pub data_pos: u32,
    pub handle_flags: u32,
}

/// An attribute identifier's "value, not reference" bit.
pub const fn attr_is_value(id: u32) -> bool {
    id & ATTR_FLAG_VALUE != 0
}

/// An attribute identifier's "public, may always be read" bit.
pub const fn attr_is_public(id: u32) -> bool {
    id & ATTR_FLAG_PUBLIC != 0
}

/// Main-algorithm numbers (bits 0..7 of most algorithm identifiers).
pub const MAIN_ALGO_MD5: u32 = 0x01;
pub const MAIN_ALGO_SHA1: u32 = 0x02;
pub const MAIN_ALGO_SHA224: u32 = 0x03;
pub const MAIN_ALGO_SHA256: u32 = 0x04;
pub const MAIN_ALGO_SHA384: u32 = 0x05;
pub const MAIN_ALGO_SHA512: u32 = 0x06;
pub const MAIN_ALGO_SM3: u32 = 0x07;
pub const MAIN_ALGO_SHA3_224: u32 = 0x08;
pub const MAIN_ALGO_SHA3_256: u32 = 0x09;
pub const MAIN_ALGO_SHA3_384: u32 = 0x0a;
pub const MAIN_ALGO_SHA3_512: u32 = 0x0b;
pub const MAIN_ALGO_AES: u32 = 0x10;
pub const MAIN_ALGO_DES: u32 = 0x11;
pub const MAIN_ALGO_DES2: u32 = 0x12;
pub const MAIN_ALGO_DES3: u32 = 0x13;
pub const MAIN_ALGO_SM4: u32 = 0x14;
pub const MAIN_ALGO_RSA: u32 = 0x30;
pub const MAIN_ALGO_DSA: u32 = 0x31;
pub const MAIN_ALGO_DH: u32 = 0x32;
pub const MAIN_ALGO_ECDSA: u32 = 0x41;
pub const MAIN_ALGO_ECDH: u32 = 0x42;
pub const MAIN_ALGO_ED25519: u32 = 0x43;
pub const MAIN_ALGO_X25519: u32 = 0x44;
pub const MAIN_ALGO_SM2_DSA_SM3: u32 = 0x45;
pub const MAIN_ALGO_SM2_KEP: u32 = 0x46;
pub const MAIN_ALGO_SM2_PKE: u32 = 0x47;
pub const MAIN_ALGO_X448: u32 = 0x49;
pub const MAIN_ALGO_HKDF: u32 = 0xc0;
pub const MAIN_ALGO_CONCAT_KDF: u32 = 0xc1;
pub const MAIN_ALGO_PBKDF2: u32 = 0xc2;
pub const MAIN_ALGO_SHAKE128: u32 = 0xc3;
pub const MAIN_ALGO_SHAKE256: u32 = 0xc4;

/// Chain modes (bits 8..11 of symmetric algorithm identifiers).
pub const CHAIN_MODE_ECB_NOPAD: u32 = 0x0;
pub const CHAIN_MODE_CBC_NOPAD: u32 = 0x1;
pub const CHAIN_MODE_CTR: u32 = 0x2;
pub const CHAIN_MODE_CTS: u32 = 0x3;
pub const CHAIN_MODE_XTS: u32 = 0x4;
pub const CHAIN_MODE_CBC_MAC_PKCS5: u32 = 0x5;
pub const CHAIN_MODE_CMAC: u32 = 0x6;
pub const CHAIN_MODE_CCM: u32 = 0x7;
pub const CHAIN_MODE_GCM: u32 = 0x8;

/// The operation class of an algorithm (`OPERATION_CIPHER`...): bits
/// 28..31, except for the identifiers whose top bits do not say it.
pub const fn alg_class(algo: u32) -> u32 {
    match algo {
        ALG_SM2_PKE | ALG_RSAES_PKCS1_OAEP_MGF1_MD5 => OPERATION_ASYMMETRIC_CIPHER,
        ALG_SM2_KEP => OPERATION_KEY_DERIVATION,
        ALG_RSASSA_PKCS1_V1_5 | ALG_RSASSA_PKCS1_PSS_MGF1_MD5 => OPERATION_ASYMMETRIC_SIGNATURE,
        ALG_DES3_CMAC => OPERATION_MAC,
        ALG_SM4_XTS => OPERATION_CIPHER,
        _ => (algo >> 28) & 0xf,
    }
}

/// The main algorithm (`MAIN_ALGO_AES`...): bits 0..7, except for the
/// identifiers that carry it elsewhere.
pub const fn alg_main(algo: u32) -> u32 {
    match algo {
        ALG_SM2_PKE => MAIN_ALGO_SM2_PKE,
        ALG_SM2_KEP => MAIN_ALGO_SM2_KEP,
        ALG_X25519 => MAIN_ALGO_X25519,
        ALG_ED25519 => MAIN_ALGO_ED25519,
        ALG_ECDSA_SHA1 | ALG_ECDSA_SHA224 | ALG_ECDSA_SHA256 | ALG_ECDSA_SHA384 | ALG_ECDSA_SHA512 => MAIN_ALGO_ECDSA,
        ALG_HKDF => MAIN_ALGO_HKDF,
        ALG_SHAKE128 => MAIN_ALGO_SHAKE128,
        ALG_SHAKE256 => MAIN_ALGO_SHAKE256,
        ALG_X448 => MAIN_ALGO_X448,
        _ => algo & 0xff,
    }
}

/// The chain mode or padding (`CHAIN_MODE_CBC_NOPAD`...), bits 8..11.
pub const fn alg_chain(algo: u32) -> u32 {
    (algo >> 8) & 0xf
}

/// The digest an algorithm uses, as a main-algorithm number
/// (`MAIN_ALGO_SHA256`...; 0 when it names none): bits 12..15.
pub const fn alg_digest_main(algo: u32) -> u32 {
    if algo == ALG_SM2_DSA_SM3 {
        return MAIN_ALGO_SM3;
    }
    match (algo >> 12) & 0xf {
        h @ 1..=0xb => h,
        _ => 0,
    }
}

/// The internal hash of a MAC or KDF algorithm, bits 20..22.
pub const fn alg_internal_hash(algo: u32) -> u32 {
    (algo >> 20) & 0x7
}

/// The key type an asymmetric algorithm wants (public, or keypair when
/// `private`).
pub const fn alg_key_type(algo: u32, private: bool) -> u32 {
    0xa000_0000 | alg_main(algo) | if private { 0x0100_0000 } else { 0 }
}

pub const ALG_AES_ECB_NOPAD: u32 = 0x10000010;
pub const ALG_AES_CBC_NOPAD: u32 = 0x10000110;
pub const ALG_AES_CTR: u32 = 0x10000210;
pub const ALG_AES_CTS: u32 = 0x10000310;
pub const ALG_AES_XTS: u32 = 0x10000410;
pub const ALG_AES_CBC_MAC_NOPAD: u32 = 0x30000110;
pub const ALG_AES_CBC_MAC_PKCS5: u32 = 0x30000510;
pub const ALG_AES_CMAC: u32 = 0x30000610;
pub const ALG_AES_CCM: u32 = 0x40000710;
pub const ALG_AES_GCM: u32 = 0x40000810;
pub const ALG_DES_ECB_NOPAD: u32 = 0x10000011;
pub const ALG_DES_CBC_NOPAD: u32 = 0x10000111;
pub const ALG_DES_CBC_MAC_NOPAD: u32 = 0x30000111;
pub const ALG_DES_CBC_MAC_PKCS5: u32 = 0x30000511;
pub const ALG_DES3_ECB_NOPAD: u32 = 0x10000013;
pub const ALG_DES3_CBC_NOPAD: u32 = 0x10000113;
pub const ALG_DES3_CBC_MAC_NOPAD: u32 = 0x30000113;
pub const ALG_DES3_CBC_MAC_PKCS5: u32 = 0x30000513;
pub const ALG_SM4_ECB_NOPAD: u32 = 0x10000014;
pub const ALG_SM4_CBC_NOPAD: u32 = 0x10000114;
pub const ALG_SM4_CTR: u32 = 0x10000214;
pub const ALG_RSASSA_PKCS1_V1_5_MD5: u32 = 0x70001830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA1: u32 = 0x70002830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA224: u32 = 0x70003830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA256: u32 = 0x70004830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA384: u32 = 0x70005830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA512: u32 = 0x70006830;
pub const ALG_RSASSA_PKCS1_V1_5_MD5SHA1: u32 = 0x7000f830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA3_224: u32 = 0x70008830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA3_256: u32 = 0x70009830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA3_384: u32 = 0x7000a830;
pub const ALG_RSASSA_PKCS1_V1_5_SHA3_512: u32 = 0x7000b830;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA1: u32 = 0x70212930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA224: u32 = 0x70313930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA256: u32 = 0x70414930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA384: u32 = 0x70515930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA512: u32 = 0x70616930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA3_224: u32 = 0x70818930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA3_256: u32 = 0x70919930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA3_384: u32 = 0x70a1a930;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_SHA3_512: u32 = 0x70b1b930;
pub const ALG_RSAES_PKCS1_V1_5: u32 = 0x60000130;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA1: u32 = 0x60210230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA224: u32 = 0x60310230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA256: u32 = 0x60410230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA384: u32 = 0x60510230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA512: u32 = 0x60610230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA3_224: u32 = 0x60810230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA3_256: u32 = 0x60910230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA3_384: u32 = 0x60a10230;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_SHA3_512: u32 = 0x60b10230;
pub const ALG_RSA_NOPAD: u32 = 0x60000030;
pub const ALG_DSA_SHA1: u32 = 0x70002131;
pub const ALG_DSA_SHA224: u32 = 0x70003131;
pub const ALG_DSA_SHA256: u32 = 0x70004131;
pub const ALG_DSA_SHA3_224: u32 = 0x70008131;
pub const ALG_DSA_SHA3_256: u32 = 0x70009131;
pub const ALG_DSA_SHA3_384: u32 = 0x7000a131;
pub const ALG_DSA_SHA3_512: u32 = 0x7000b131;
pub const ALG_SM2_DSA_SM3: u32 = 0x70006045;
pub const ALG_DH_DERIVE_SHARED_SECRET: u32 = 0x80000032;
pub const ALG_SM2_KEP: u32 = 0x60000045;
pub const ALG_MD5: u32 = 0x50000001;
pub const ALG_SHA1: u32 = 0x50000002;
pub const ALG_SHA224: u32 = 0x50000003;
pub const ALG_SHA256: u32 = 0x50000004;
pub const ALG_SHA384: u32 = 0x50000005;
pub const ALG_SHA512: u32 = 0x50000006;
pub const ALG_SHA3_224: u32 = 0x50000008;
pub const ALG_SHA3_256: u32 = 0x50000009;
pub const ALG_SHA3_384: u32 = 0x5000000a;
pub const ALG_SHA3_512: u32 = 0x5000000b;
pub const ALG_MD5SHA1: u32 = 0x5000000f;
pub const ALG_HMAC_MD5: u32 = 0x30000001;
pub const ALG_HMAC_SHA1: u32 = 0x30000002;
pub const ALG_HMAC_SHA224: u32 = 0x30000003;
pub const ALG_HMAC_SHA256: u32 = 0x30000004;
pub const ALG_HMAC_SHA384: u32 = 0x30000005;
pub const ALG_HMAC_SHA512: u32 = 0x30000006;
pub const ALG_HMAC_SM3: u32 = 0x30000007;
pub const ALG_HMAC_SHA3_224: u32 = 0x30000008;
pub const ALG_HMAC_SHA3_256: u32 = 0x30000009;
pub const ALG_HMAC_SHA3_384: u32 = 0x3000000a;
pub const ALG_HMAC_SHA3_512: u32 = 0x3000000b;
pub const ALG_ECDSA_P192: u32 = 0x70001042;
pub const ALG_ECDSA_P224: u32 = 0x70002042;
pub const ALG_ECDSA_P256: u32 = 0x70003042;
pub const ALG_ECDSA_P384: u32 = 0x70004042;
pub const ALG_ECDSA_P521: u32 = 0x70005042;
pub const ALG_ECDH_P192: u32 = 0x80000042;
pub const ALG_ECDH_P224: u32 = 0x80000042;
pub const ALG_ECDH_P256: u32 = 0x80000042;
pub const ALG_ECDH_P384: u32 = 0x80000042;
pub const ALG_ECDH_P521: u32 = 0x80000042;
pub const ALG_ECDH_DERIVE_SHARED_SECRET: u32 = 0x80000042;
pub const ALG_ECDSA_SHA1: u32 = 0x70001042;
pub const ALG_ECDSA_SHA224: u32 = 0x70002042;
pub const ALG_ECDSA_SHA256: u32 = 0x70003042;
pub const ALG_ECDSA_SHA384: u32 = 0x70004042;
pub const ALG_ECDSA_SHA512: u32 = 0x70005042;
pub const ALG_ECDSA_SHA3_224: u32 = 0x70006042;
pub const ALG_ECDSA_SHA3_256: u32 = 0x70007042;
pub const ALG_ECDSA_SHA3_384: u32 = 0x70008042;
pub const ALG_ECDSA_SHA3_512: u32 = 0x70009042;
pub const ALG_ED25519: u32 = 0x70006043;
pub const ALG_ED448: u32 = 0x70006044;
pub const ALG_SM2_PKE: u32 = 0x80000046;
pub const ALG_HKDF: u32 = 0x80000047;
pub const ALG_SM3: u32 = 0x50000007;
pub const ALG_X25519: u32 = 0x80000044;
pub const ALG_X448: u32 = 0x80000045;
pub const ALG_SM4_ECB_PKCS5: u32 = 0x10000015;
pub const ALG_SM4_CBC_PKCS5: u32 = 0x10000115;
pub const ALG_ILLEGAL_VALUE: u32 = 0xefffffff;
pub const ALG_SHAKE128: u32 = 0x50000101;
pub const ALG_SHAKE256: u32 = 0x50000102;
pub const ALG_RSASSA_PKCS1_PSS_MGF1_MD5: u32 = 0xf0111930;
pub const ALG_RSAES_PKCS1_OAEP_MGF1_MD5: u32 = 0xf0110230;
pub const ALG_HKDF_MD5_DERIVE_KEY: u32 = 0x800010c0;
pub const ALG_HKDF_SHA1_DERIVE_KEY: u32 = 0x800020c0;
pub const ALG_HKDF_SHA224_DERIVE_KEY: u32 = 0x800030c0;
pub const ALG_HKDF_SHA256_DERIVE_KEY: u32 = 0x800040c0;
pub const ALG_HKDF_SHA384_DERIVE_KEY: u32 = 0x800050c0;
pub const ALG_HKDF_SHA512_DERIVE_KEY: u32 = 0x800060c0;
pub const ALG_CONCAT_KDF_SHA1_DERIVE_KEY: u32 = 0x800020c1;
pub const ALG_CONCAT_KDF_SHA224_DERIVE_KEY: u32 = 0x800030c1;
pub const ALG_CONCAT_KDF_SHA256_DERIVE_KEY: u32 = 0x800040c1;
pub const ALG_CONCAT_KDF_SHA384_DERIVE_KEY: u32 = 0x800050c1;
pub const ALG_CONCAT_KDF_SHA512_DERIVE_KEY: u32 = 0x800060c1;
pub const ALG_PBKDF2_HMAC_SHA1_DERIVE_KEY: u32 = 0x800020c2;
pub const ALG_PBKDF2_HMAC_SHA224_DERIVE_KEY: u32 = 0x800030c2;
pub const ALG_PBKDF2_HMAC_SHA256_DERIVE_KEY: u32 = 0x800040c2;
pub const ALG_PBKDF2_HMAC_SHA384_DERIVE_KEY: u32 = 0x800050c2;
pub const ALG_PBKDF2_HMAC_SHA512_DERIVE_KEY: u32 = 0x800060c2;
pub const ALG_PBKDF2_HMAC_SM3_DERIVE_KEY: u32 = 0x800070c2;
pub const ALG_RSASSA_PKCS1_V1_5: u32 = 0xf0000830;
pub const ALG_DES3_CMAC: u32 = 0xf0000613;
pub const ALG_SM4_XTS: u32 = 0xf0000414;
pub const TYPE_AES: u32 = 0xa0000010;
pub const TYPE_DES: u32 = 0xa0000011;
pub const TYPE_DES3: u32 = 0xa0000013;
pub const TYPE_SM4: u32 = 0xa0000014;
pub const TYPE_HMAC_MD5: u32 = 0xa0000001;
pub const TYPE_HMAC_SHA1: u32 = 0xa0000002;
pub const TYPE_HMAC_SHA224: u32 = 0xa0000003;
pub const TYPE_HMAC_SHA256: u32 = 0xa0000004;
pub const TYPE_HMAC_SHA384: u32 = 0xa0000005;
pub const TYPE_HMAC_SHA512: u32 = 0xa0000006;
pub const TYPE_HMAC_SM3: u32 = 0xa0000007;
pub const TYPE_HMAC_SHA3_224: u32 = 0xa0000008;
pub const TYPE_HMAC_SHA3_256: u32 = 0xa0000009;
pub const TYPE_HMAC_SHA3_384: u32 = 0xa000000a;
pub const TYPE_HMAC_SHA3_512: u32 = 0xa000000b;
pub const TYPE_RSA_PUBLIC_KEY: u32 = 0xa0000030;
pub const TYPE_RSA_KEYPAIR: u32 = 0xa1000030;
pub const TYPE_DSA_PUBLIC_KEY: u32 = 0xa0000031;
pub const TYPE_DSA_KEYPAIR: u32 = 0xa1000031;
pub const TYPE_DH_KEYPAIR: u32 = 0xa1000032;
pub const TYPE_ECDSA_PUBLIC_KEY: u32 = 0xa0000041;
pub const TYPE_ECDSA_KEYPAIR: u32 = 0xa1000041;
pub const TYPE_ECDH_PUBLIC_KEY: u32 = 0xa0000042;
pub const TYPE_ECDH_KEYPAIR: u32 = 0xa1000042;
pub const TYPE_ED25519_PUBLIC_KEY: u32 = 0xa0000043;
pub const TYPE_ED25519_KEYPAIR: u32 = 0xa1000043;
pub const TYPE_ED448_PUBLIC_KEY: u32 = 0xa0000048;
pub const TYPE_ED448_KEYPAIR: u32 = 0xa1000048;
pub const TYPE_X448_PUBLIC_KEY: u32 = 0xa0000049;
pub const TYPE_X448_KEYPAIR: u32 = 0xa1000049;
pub const TYPE_SM2_DSA_PUBLIC_KEY: u32 = 0xa0000045;
pub const TYPE_SM2_DSA_KEYPAIR: u32 = 0xa1000045;
pub const TYPE_SM2_KEP_PUBLIC_KEY: u32 = 0xa0000046;
pub const TYPE_SM2_KEP_KEYPAIR: u32 = 0xa1000046;
pub const TYPE_SM2_PKE_PUBLIC_KEY: u32 = 0xa0000047;
pub const TYPE_SM2_PKE_KEYPAIR: u32 = 0xa1000047;
pub const TYPE_HKDF: u32 = 0xa000004a;
pub const TYPE_GENERIC_SECRET: u32 = 0xa0000000;
pub const TYPE_CORRUPTED_OBJECT: u32 = 0xa00000be;
pub const TYPE_DATA: u32 = 0xa00000bf;
pub const TYPE_X25519_PUBLIC_KEY: u32 = 0xa0000044;
pub const TYPE_X25519_KEYPAIR: u32 = 0xa1000044;
pub const TYPE_ILLEGAL_VALUE: u32 = 0xefffffff;
pub const TYPE_HKDF_IKM: u32 = 0xa10000c0;
pub const TYPE_CONCAT_KDF_Z: u32 = 0xa10000c1;
pub const TYPE_PBKDF2_PASSWORD: u32 = 0xa10000c2;
pub const ATTR_SECRET_VALUE: u32 = 0xc0000000;
pub const ATTR_RSA_MODULUS: u32 = 0xd0000130;
pub const ATTR_RSA_PUBLIC_EXPONENT: u32 = 0xd0000230;
pub const ATTR_RSA_PRIVATE_EXPONENT: u32 = 0xc0000330;
pub const ATTR_RSA_PRIME1: u32 = 0xc0000430;
pub const ATTR_RSA_PRIME2: u32 = 0xc0000530;
pub const ATTR_RSA_EXPONENT1: u32 = 0xc0000630;
pub const ATTR_RSA_EXPONENT2: u32 = 0xc0000730;
pub const ATTR_RSA_COEFFICIENT: u32 = 0xc0000830;
pub const ATTR_DSA_PRIME: u32 = 0xd0001031;
pub const ATTR_DSA_SUBPRIME: u32 = 0xd0001131;
pub const ATTR_DSA_BASE: u32 = 0xd0001231;
pub const ATTR_DSA_PUBLIC_VALUE: u32 = 0xd0000131;
pub const ATTR_DSA_PRIVATE_VALUE: u32 = 0xc0000231;
pub const ATTR_DH_PRIME: u32 = 0xd0001032;
pub const ATTR_DH_SUBPRIME: u32 = 0xd0001132;
pub const ATTR_DH_BASE: u32 = 0xd0001232;
pub const ATTR_DH_X_BITS: u32 = 0xf0001332;
pub const ATTR_DH_PUBLIC_VALUE: u32 = 0xd0000132;
pub const ATTR_DH_PRIVATE_VALUE: u32 = 0xc0000232;
pub const ATTR_RSA_OAEP_LABEL: u32 = 0xd0000930;
pub const ATTR_RSA_OAEP_MGF_HASH: u32 = 0xd0000931;
pub const ATTR_RSA_PSS_SALT_LENGTH: u32 = 0xf0000a30;
pub const ATTR_ECC_PUBLIC_VALUE_X: u32 = 0xd0000141;
pub const ATTR_ECC_PUBLIC_VALUE_Y: u32 = 0xd0000241;
pub const ATTR_ECC_PRIVATE_VALUE: u32 = 0xc0000341;
pub const ATTR_ECC_CURVE: u32 = 0xf0000441;
pub const ATTR_SM2_ID_INITIATOR: u32 = 0xd0000446;
pub const ATTR_SM2_ID_RESPONDER: u32 = 0xd0000546;
pub const ATTR_SM2_KEP_USER: u32 = 0xf0000646;
pub const ATTR_SM2_KEP_CONFIRMATION_IN: u32 = 0xd0000746;
pub const ATTR_SM2_KEP_CONFIRMATION_OUT: u32 = 0xd0000846;
pub const ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_X: u32 = 0xd0000146;
pub const ATTR_ECC_EPHEMERAL_PUBLIC_VALUE_Y: u32 = 0xd0000246;
pub const ATTR_EDDSA_CTX: u32 = 0xd0000643;
pub const ATTR_ED25519_PUBLIC_VALUE: u32 = 0xd0000743;
pub const ATTR_ED25519_PRIVATE_VALUE: u32 = 0xc0000843;
pub const ATTR_X25519_PUBLIC_VALUE: u32 = 0xd0000944;
pub const ATTR_X25519_PRIVATE_VALUE: u32 = 0xc0000a44;
pub const ATTR_EDDSA_PREHASH: u32 = 0xf0000004;
pub const ATTR_X448_PUBLIC_VALUE: u32 = 0xd0000a45;
pub const ATTR_X448_PRIVATE_VALUE: u32 = 0xc0000a46;
pub const ATTR_HKDF_SALT: u32 = 0xd0000946;
pub const ATTR_HKDF_INFO: u32 = 0xd0000a46;
pub const ATTR_HKDF_HASH_ALGORITHM: u32 = 0xf0000b46;
pub const ATTR_KDF_KEY_SIZE: u32 = 0xf0000c46;
pub const ATTR_FLAG_PUBLIC: u32 = 0x10000000;
pub const ATTR_FLAG_VALUE: u32 = 0x20000000;
pub const ATTR_BIT_PROTECTED: u32 = 0x10000000;
pub const ATTR_BIT_VALUE: u32 = 0x20000000;
pub const ATTR_HKDF_IKM: u32 = 0xc00001c0;
pub const ATTR_HKDF_OKM_LENGTH: u32 = 0xf00004c0;
pub const ATTR_CONCAT_KDF_Z: u32 = 0xc00001c1;
pub const ATTR_CONCAT_KDF_OTHER_INFO: u32 = 0xd00002c1;
pub const ATTR_CONCAT_KDF_DKM_LENGTH: u32 = 0xf00003c1;
pub const ATTR_PBKDF2_PASSWORD: u32 = 0xc00001c2;
pub const ATTR_PBKDF2_SALT: u32 = 0xd00002c2;
pub const ATTR_PBKDF2_ITERATION_COUNT: u32 = 0xf00003c2;
pub const ATTR_PBKDF2_DKM_LENGTH: u32 = 0xf00004c2;
pub const ECC_CURVE_NIST_P192: u32 = 0x00000001;
pub const ECC_CURVE_NIST_P224: u32 = 0x00000002;
pub const ECC_CURVE_NIST_P256: u32 = 0x00000003;
pub const ECC_CURVE_NIST_P384: u32 = 0x00000004;
pub const ECC_CURVE_NIST_P521: u32 = 0x00000005;
pub const ECC_CURVE_25519: u32 = 0x00000300;
pub const ECC_CURVE_SM2: u32 = 0x00000400;
pub const MODE_ENCRYPT: u32 = 0x00000000;
pub const MODE_DECRYPT: u32 = 0x00000001;
pub const MODE_SIGN: u32 = 0x00000002;
pub const MODE_VERIFY: u32 = 0x00000003;
pub const MODE_MAC: u32 = 0x00000004;
pub const MODE_DIGEST: u32 = 0x00000005;
pub const MODE_DERIVE: u32 = 0x00000006;
pub const MODE_ILLEGAL_VALUE: u32 = 0x7fffffff;
pub const STORAGE_PRIVATE: u32 = 0x00000001;
pub const STORAGE_PRIVATE_REE: u32 = 0x80000000;
pub const STORAGE_PRIVATE_RPMB: u32 = 0x80000100;
pub const STORAGE_PRIVATE_SQL_RESERVED: u32 = 0x80000200;
pub const DATA_FLAG_ACCESS_READ: u32 = 0x00000001;
pub const DATA_FLAG_ACCESS_WRITE: u32 = 0x00000002;
pub const DATA_FLAG_ACCESS_WRITE_META: u32 = 0x00000004;
pub const DATA_FLAG_SHARE_READ: u32 = 0x00000010;
pub const DATA_FLAG_SHARE_WRITE: u32 = 0x00000020;
pub const DATA_FLAG_OVERWRITE: u32 = 0x00000400;
pub const DATA_MAX_POSITION: u32 = 0xffffffff;
pub const OBJECT_ID_MAX_LEN: u32 = 0x00000040;
pub const USAGE_EXTRACTABLE: u32 = 0x00000001;
pub const USAGE_ENCRYPT: u32 = 0x00000002;
pub const USAGE_DECRYPT: u32 = 0x00000004;
pub const USAGE_MAC: u32 = 0x00000008;
pub const USAGE_SIGN: u32 = 0x00000010;
pub const USAGE_VERIFY: u32 = 0x00000020;
pub const USAGE_DERIVE: u32 = 0x00000040;
pub const HANDLE_FLAG_PERSISTENT: u32 = 0x00010000;
pub const HANDLE_FLAG_INITIALIZED: u32 = 0x00020000;
pub const HANDLE_FLAG_KEY_SET: u32 = 0x00040000;
pub const HANDLE_FLAG_EXPECT_TWO_KEYS: u32 = 0x00080000;
pub const HANDLE_FLAG_EXTRACTING: u32 = 0x00100000;
pub const OPERATION_CIPHER: u32 = 0x00000001;
pub const OPERATION_MAC: u32 = 0x00000003;
pub const OPERATION_AE: u32 = 0x00000004;
pub const OPERATION_DIGEST: u32 = 0x00000005;
pub const OPERATION_ASYMMETRIC_CIPHER: u32 = 0x00000006;
pub const OPERATION_ASYMMETRIC_SIGNATURE: u32 = 0x00000007;
pub const OPERATION_KEY_DERIVATION: u32 = 0x00000008;
pub const OPERATION_STATE_INITIAL: u32 = 0x00000000;
pub const OPERATION_STATE_ACTIVE: u32 = 0x00000001;
pub const OPERATION_STATE_EXTRACTING: u32 = 0x00000002;
