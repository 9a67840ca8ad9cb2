//! Public-key algorithms: RSA (PKCS#1 v1.5 and PSS signatures, OAEP and
//! v1.5 encryption, raw), DSA, DH, ECDSA and ECDH (P-192..P-521), EdDSA
//! (Ed25519, with context and prehash), X25519, SM2 (DSA, KEP, PKE); and
//! key generation for their key types.
//!
//! The semantics (which attributes are read, what is checked, which GP
//! error answers which failure) are upstream OP-TEE 4.10's kernel and
//! crypto glue; the arithmetic is RustCrypto's and dalek's. Each family
//! lives in a private submodule; this file dispatches on the algorithm or
//! object type and holds the small helpers they share (attribute access,
//! big-endian trimming, random-number adapters, digest selection).

use crate::{Attr, Attrs, Result, Rng, Secret, TeeResult, ids};
use alloc::vec::Vec;

mod dh;
mod dsa;
mod ecc;
mod eddsa;
mod rng;
mod rsa;
mod sm2;

#[cfg(test)]
mod tests;

/// Signs, encrypts or decrypts (by `mode`, `TEE_MODE_*`) with algorithm
/// `algo` and the key object's attributes `key`. `params` are the
/// attributes the TA passed with the operation (PSS salt length, OAEP
/// label, EdDSA context...). For signatures `input` is the digest (or
/// the message, for EdDSA). Returns the output; the caller answers
/// SHORT_BUFFER with its length when the TA's buffer is smaller.
pub fn operate(
    algo: u32,
    mode: u32,
    key: &dyn Attrs,
    params: &dyn Attrs,
    input: &[u8],
    rng: &mut dyn Rng,
) -> Result<Secret> {
    use ids::*;
    match algo {
        ALG_RSA_NOPAD => match mode {
            MODE_ENCRYPT => rsa::nopad_encrypt(key, input),
            MODE_DECRYPT => rsa::nopad_decrypt(key, input, rng),
            // Upstream: "mode not compatible with the function".
            _ => Err(TeeResult::ERROR_GENERIC),
        },
        ALG_SM2_PKE => match mode {
            MODE_ENCRYPT => sm2::pke_encrypt(key, input, rng),
            MODE_DECRYPT => sm2::pke_decrypt(key, input),
            _ => Err(TeeResult::ERROR_GENERIC),
        },
        ALG_RSAES_PKCS1_V1_5
        | ALG_RSAES_PKCS1_OAEP_MGF1_MD5
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA1
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA224
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA256
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA384
        | ALG_RSAES_PKCS1_OAEP_MGF1_SHA512 => match mode {
            MODE_ENCRYPT => rsa::es_encrypt(algo, key, params, input, rng),
            MODE_DECRYPT => rsa::es_decrypt(algo, key, params, input, rng),
            _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
        },
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
        | ALG_RSASSA_PKCS1_PSS_MGF1_SHA512 => {
            if mode != MODE_SIGN {
                return Err(TeeResult::ERROR_BAD_PARAMETERS);
            }
            rsa::sign(algo, key, params, input, rng)
        }
        ALG_DSA_SHA1 | ALG_DSA_SHA224 | ALG_DSA_SHA256 => dsa::sign(algo, key, input, rng),
        ALG_ED25519 => eddsa::sign(key, params, input),
        ALG_ECDSA_SHA1 | ALG_ECDSA_SHA224 | ALG_ECDSA_SHA256 | ALG_ECDSA_SHA384 | ALG_ECDSA_SHA512 => {
            ecc::sign(algo, key, input, rng)
        }
        ALG_SM2_DSA_SM3 => sm2::dsa_sign(key, input, rng),
        _ => Err(TeeResult::ERROR_BAD_PARAMETERS),
    }
}

/// Verifies signature `sig` over `input` (digest, or message for EdDSA):
/// SIGNATURE_INVALID when it does not verify.
pub fn verify(algo: u32, key: &dyn Attrs, params: &dyn Attrs, input: &[u8], sig: &[u8]) -> Result<()> {
    use ids::*;
    // Upstream dispatches on the main algorithm (the low byte).
    match algo & 0xff {
        0x30 => rsa::verify(algo, key, params, input, sig),
        0x31 => dsa::verify(algo, key, input, sig),
        0x43 if algo == ALG_ED25519 => eddsa::verify(key, params, input, sig),
        0x42 => ecc::verify(algo, key, input, sig),
        0x45 if algo == ALG_SM2_DSA_SM3 => sm2::dsa_verify(key, input, sig),
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

/// Derives a shared secret (ECDH, DH, X25519, SM2 KEP) from our key
/// `key` and the peer's public value in `params`.
///
/// Upstream also insists on the exact count and order of the TA's
/// parameters (one `DH_PUBLIC_VALUE`; `ECC_PUBLIC_VALUE_X` then `_Y`);
/// that check belongs to the caller, which sees the list. SM2 KEP needs a
/// second key and gives a confirmation back: [`sm2_kep_derive`].
pub fn derive(algo: u32, key: &dyn Attrs, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Secret> {
    let _ = rng;
    match algo {
        ids::ALG_DH_DERIVE_SHARED_SECRET => dh::derive(key, params),
        ids::ALG_ECDH_DERIVE_SHARED_SECRET => ecc::derive(key, params),
        ids::ALG_X25519 => eddsa::x25519_derive(key, params),
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

pub use sm2::kep_derive as sm2_kep_derive;

/// Generates a key pair of object type `obj_type` and size `key_bits`
/// (`params`: DH prime/base, DSA domain, EC curve...): the attributes of
/// the new key (public and private parts, and value attributes such as
/// the curve).
///
/// The answer is the whole key: the domain parameters the TA passed (DH
/// prime, base, subprime; DSA prime, subprime, base; the curve) come back
/// with the generated values, so the caller can store the list as is.
pub fn generate(obj_type: u32, key_bits: u32, params: &dyn Attrs, rng: &mut dyn Rng) -> Result<Vec<Attr>> {
    use ids::*;
    match obj_type {
        TYPE_RSA_KEYPAIR => rsa::generate(key_bits, params, rng),
        TYPE_DSA_KEYPAIR => dsa::generate(key_bits, params, rng),
        TYPE_DH_KEYPAIR => dh::generate(key_bits, params, rng),
        TYPE_ECDSA_KEYPAIR | TYPE_ECDH_KEYPAIR => ecc::generate(key_bits, params, rng),
        TYPE_SM2_DSA_KEYPAIR | TYPE_SM2_PKE_KEYPAIR | TYPE_SM2_KEP_KEYPAIR => sm2::generate(key_bits, rng),
        TYPE_ED25519_KEYPAIR => eddsa::ed25519_generate(key_bits, rng),
        TYPE_X25519_KEYPAIR => eddsa::x25519_generate(key_bits, rng),
        _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
    }
}

// ---- shared helpers -------------------------------------------------------

/// A mandatory reference attribute; BAD_PARAMETERS when absent.
fn need(attrs: &dyn Attrs, id: u32) -> Result<&[u8]> {
    attrs.bytes(id).ok_or(TeeResult::ERROR_BAD_PARAMETERS)
}

/// `b` without its leading zero bytes (a big number's minimal encoding).
fn trim(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&x| x == 0).count();
    &b[n..]
}

/// A reference attribute holding big number `b`, in the minimal
/// big-endian form upstream's `bn2bin` gives (no leading zeros).
fn bn_attr(id: u32, b: &[u8]) -> Attr {
    Attr::Bytes(id, Secret::new(trim(b).to_vec()))
}

/// `b` left-padded with zeros (or, if longer, cut on the left) to `len`
/// bytes; callers only cut leading zeros.
fn pad_left(b: &[u8], len: usize) -> Vec<u8> {
    let b = trim(b);
    let mut v = alloc::vec![0u8; len.saturating_sub(b.len())];
    v.extend_from_slice(&b[b.len().saturating_sub(len)..]);
    v
}

/// The digests public-key algorithms name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HashAlg {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// The digest a signature / OAEP algorithm id names (GP's digest
    /// nibble, bits 12..15).
    fn of_algo(algo: u32) -> Option<HashAlg> {
        match (algo >> 12) & 0xf {
            1 => Some(HashAlg::Md5),
            2 => Some(HashAlg::Sha1),
            3 => Some(HashAlg::Sha224),
            4 => Some(HashAlg::Sha256),
            5 => Some(HashAlg::Sha384),
            6 => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// A `TEE_ALG_*` digest id (as the OAEP MGF hash attribute holds).
    fn of_digest_id(id: u32) -> Option<HashAlg> {
        match id {
            ids::ALG_MD5 => Some(HashAlg::Md5),
            ids::ALG_SHA1 => Some(HashAlg::Sha1),
            ids::ALG_SHA224 => Some(HashAlg::Sha224),
            ids::ALG_SHA256 => Some(HashAlg::Sha256),
            ids::ALG_SHA384 => Some(HashAlg::Sha384),
            ids::ALG_SHA512 => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    fn len(self) -> usize {
        match self {
            HashAlg::Md5 => 16,
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}
