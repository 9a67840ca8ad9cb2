//! Signed TA images: the `shdr` wrapper that the normal world hands over for
//! a TA, checked against the OS's TA key before any ELF byte is believed.
//!
//! The format and the error codes follow upstream's REE-FS loader:
//!
//! - `SHDR_TA` (legacy) and `SHDR_BOOTSTRAP_TA` images: the header's
//!   signature (the OS's key), then the digest of header and ELF.
//! - `SHDR_SUBKEY` chains: a subkey image (a public key, a namespace UUID,
//!   a depth budget and a version, signed by the key above it) followed by
//!   a name and the next header, which the subkey signs. The UUID of what
//!   follows is fixed by the subkey: its own UUID (`name_size` 0), else
//!   the version-5 UUID of SHA-512(subkey UUID || name), as upstream.
//!   Each subkey's `max_depth` must be under the one above it.
//! - `SHDR_ENCRYPTED_TA`: a bootstrap header, then the cipher header (the
//!   AE algorithm, key type, IV and tag), then the encrypted ELF. The key is
//!   upstream's default: HMAC-SHA256 over the hardware unique key of the
//!   usage number 4 (little-endian u32) and the OS's TA key modulus
//!   ([`TaEncKey::derive`]). The ELF is decrypted in place, the tag checked
//!   before anything reads the plaintext; the signed digest covers the
//!   plaintext.
//!
//! Every rejection in the header, signature, digest and decryption path is
//! `TEE_ERROR_SECURITY`, whatever the cause (truncation, bad magic, bad
//! size, bad signature, a UUID outside the subkey's namespace), so a
//! caller can't tell a forger which check failed; an AE algorithm nobody
//! implements is `TEE_ERROR_NOT_IMPLEMENTED` and bad AE parameters are the
//! cipher's own answer, as upstream.
//!
//! The caller passes a private secure-world copy, so nothing here re-reads
//! memory the normal world can still change, and nothing is copied: the
//! memory used is the image itself plus fixed-size state. This module
//! doesn't log: a refusal says which check failed ([`Reject`]) and the
//! caller logs that on the secure console, which the normal world can't
//! read.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;
use oxtee_abi::ta::{
    ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, ALG_RSASSA_PKCS1_V1_5_SHA256, ENC_KEY_CLASS_WIDE, ENC_KEY_TYPE_MASK,
    SHDR_BOOTSTRAP_TA, SHDR_ENCRYPTED_TA, SHDR_MAGIC, SHDR_SUBKEY, SHDR_TA, Shdr, ShdrBootstrapTa, ShdrEncryptedTa,
    ShdrSubkey, ShdrSubkeyAttr,
};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_crypto::hash::Hash;
use oxtee_crypto::{Attr, NoAttrs, ids};
use zerocopy::{FromBytes, IntoBytes};
use zeroize::Zeroizing;

/// Smallest TA key upstream still trusts (it refuses shorter RSA moduli as
/// deprecated); a shorter key fails every verification.
const MIN_KEY_BITS: usize = 2048;

/// Length of a SHA-256 digest, the only hash the accepted algorithms use.
const SHA256_LEN: usize = 32;

/// Upstream's `HUK_SUBKEY_TA_ENC`: the usage number the TA encryption key
/// is derived from the hardware unique key with.
pub const HUK_SUBKEY_TA_ENC: u32 = 4;

/// The RSA public key TA images must be signed with, as the attributes
/// of a GP RSA public-key object: the signature is checked by the same
/// code that serves TAs' `TEE_AsymmetricVerifyDigest`.
#[derive(Clone, Debug)]
pub struct TaKey {
    attrs: Vec<Attr>,
    bits: usize,
}

impl TaKey {
    /// A key from its big-endian modulus and public exponent. Fails with
    /// `TEE_ERROR_BAD_PARAMETERS` for something that isn't an RSA key
    /// (even modulus, exponent under 3 or even, modulus over 4096 bits).
    pub fn new(modulus_be: &[u8], exponent: u32) -> Result<TaKey, TeeResult> {
        let start = modulus_be.iter().position(|b| *b != 0).unwrap_or(modulus_be.len());
        let n = &modulus_be[start..];
        let bits = match n.first() {
            Some(top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
            None => 0,
        };
        let odd = n.last().is_some_and(|b| b & 1 == 1);
        if !(16..=4096).contains(&bits) || !odd || exponent < 3 || exponent & 1 == 0 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        let e = exponent.to_be_bytes();
        let e = &e[e.iter().position(|b| *b != 0).unwrap_or(3)..];
        let mut modulus = Vec::new();
        modulus.try_reserve_exact(n.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        modulus.extend_from_slice(n);
        let attrs = alloc::vec![
            Attr::Bytes(ids::ATTR_RSA_MODULUS, Zeroizing::new(modulus)),
            Attr::Bytes(ids::ATTR_RSA_PUBLIC_EXPONENT, Zeroizing::new(e.to_vec())),
        ];
        Ok(TaKey { attrs, bits })
    }

    /// A key from a big-endian exponent of any length (a subkey's
    /// attribute): leading zeros ignored, at most 32 bits.
    fn from_be(modulus_be: &[u8], exponent_be: &[u8]) -> Result<TaKey, TeeResult> {
        let start = exponent_be.iter().position(|b| *b != 0).unwrap_or(exponent_be.len());
        let e = &exponent_be[start..];
        if e.len() > 4 {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        TaKey::new(modulus_be, e.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b)))
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The big-endian modulus, without leading zeros (for a key of a whole
    /// number of bytes, what upstream's `ta_pub_key_modulus` holds).
    pub fn modulus(&self) -> &[u8] {
        match self.attrs.first() {
            Some(Attr::Bytes(_, n)) => n,
            _ => &[],
        }
    }
}

/// The key encrypted TA images are decrypted with (256 bits), wiped when
/// dropped.
#[derive(Clone)]
pub struct TaEncKey(Zeroizing<[u8; 32]>);

impl TaEncKey {
    /// Upstream's default device-specific key: HMAC-SHA256 keyed with the
    /// hardware unique key over `HUK_SUBKEY_TA_ENC` (u32, little-endian)
    /// and the OS's TA key modulus. Give it to upstream's
    /// `sign_encrypt.py --enc-key` (hex) and its images decrypt here.
    pub fn derive(huk: &[u8], os_key: &TaKey) -> TaEncKey {
        let mut out = Zeroizing::new([0u8; 32]);
        // HMAC-SHA256 takes any key length and never fails on these calls.
        if let Ok(mut m) = oxtee_crypto::mac::new(ids::ALG_HMAC_SHA256, huk) {
            let _ = m.update(&HUK_SUBKEY_TA_ENC.to_le_bytes());
            let _ = m.update(os_key.modulus());
            let _ = m.finish(&mut out[..]);
        }
        TaEncKey(out)
    }

    /// A key given as its bytes.
    pub fn from_bytes(key: [u8; 32]) -> TaEncKey {
        TaEncKey(Zeroizing::new(key))
    }

    /// The key's bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TaEncKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TaEncKey(..)")
    }
}

/// Why an image was refused. [`Reject::code`] is the answer the caller
/// gives, the same for every check of the header and signature path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// The image ends before the headers, hash or signature it announces.
    Truncated,
    /// Not a signed TA (`shdr` magic).
    BadMagic(u32),
    /// The OS's own key, or a subkey, is shorter than upstream still
    /// trusts.
    WeakKey(usize),
    /// A hash that isn't SHA-256's 32 bytes.
    HashSize(u16),
    /// A signature algorithm other than RSA PKCS#1 v1.5 or PSS with SHA-256.
    Algorithm(u32),
    /// The signature doesn't verify with the OS's TA key (`depth` 0) or
    /// the subkey `depth` levels down.
    Signature { depth: usize },
    /// A bootstrap image signed for another TA.
    OtherUuid(Uuid),
    /// An image type nobody defines.
    UnknownType(u32),
    /// The payload's length isn't the signed `img_size`.
    PayloadSize { signed: u32, actual: usize },
    /// The contents don't hash to the signed digest.
    Digest,
    /// A subkey header that doesn't hold together: too short, attributes
    /// outside it, no RSA key.
    SubkeyHeader,
    /// A subkey allowing as many levels below it as the key above (or
    /// more).
    SubkeyDepth { depth: u32, above: u32 },
    /// A subkey whose UUID isn't the one the key above fixed.
    SubkeyUuid { want: Uuid, got: Uuid },
    /// The TA asked for is outside the namespace of the subkey that signed
    /// it (which allows only `allowed`).
    OutsideNamespace { allowed: Uuid },
    /// An encrypted image with an AE algorithm nobody implements.
    EncAlgorithm(u32),
    /// An encrypted image for a class-wide key, which this platform lacks.
    EncKeyType(u32),
    /// The cipher refused the IV or tag size (its answer).
    EncParams(TeeResult),
    /// The encrypted ELF doesn't authenticate with the device's key.
    Decrypt,
    /// An encrypted image where no decryption key is at hand.
    NoEncKey,
    /// The secure heap ran out.
    OutOfMemory,
}

impl Reject {
    /// `TEE_ERROR_SECURITY` for everything but an unimplemented AE
    /// algorithm, bad AE parameters and exhaustion, as upstream.
    pub fn code(self) -> TeeResult {
        match self {
            Reject::EncAlgorithm(_) => TeeResult::ERROR_NOT_IMPLEMENTED,
            Reject::EncParams(r) => r,
            Reject::OutOfMemory => TeeResult::ERROR_OUT_OF_MEMORY,
            _ => TeeResult::ERROR_SECURITY,
        }
    }
}

impl From<Reject> for TeeResult {
    fn from(r: Reject) -> TeeResult {
        r.code()
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reject::Truncated => f.write_str("truncated signed header"),
            Reject::BadMagic(m) => write!(f, "no signed header (magic {m:#010x}): sign the TA ELF first"),
            Reject::WeakKey(bits) => write!(f, "a TA key of {bits} bits, under {MIN_KEY_BITS}"),
            Reject::HashSize(n) => write!(f, "hash of {n} bytes, not SHA-256"),
            Reject::Algorithm(a) => write!(f, "signature algorithm {a:#010x} not accepted"),
            Reject::Signature { depth: 0 } => f.write_str(
                "signature does not verify with the OS's TA key (signed with another key, or changed since)",
            ),
            Reject::Signature { depth } => write!(f, "signature does not verify with subkey {depth}"),
            Reject::OtherUuid(u) => {
                write!(f, "signed for TA {u}, not the UUID asked for (a .ta file must be named after its signed UUID)")
            }
            Reject::UnknownType(t) => write!(f, "unknown image type {t}"),
            Reject::PayloadSize { signed, actual } => write!(f, "payload of {actual} bytes, {signed} signed"),
            Reject::Digest => f.write_str("contents do not match the signed digest"),
            Reject::SubkeyHeader => f.write_str("malformed subkey header"),
            Reject::SubkeyDepth { depth, above } => {
                write!(f, "subkey allows {depth} levels below it, not under the {above} of the key above")
            }
            Reject::SubkeyUuid { want, got } => write!(f, "subkey {got} where the key above allows only {want}"),
            Reject::OutsideNamespace { allowed } => {
                write!(f, "outside the subkey's namespace, which allows only TA {allowed}")
            }
            Reject::EncAlgorithm(a) => write!(f, "encryption algorithm {a:#010x} not implemented"),
            Reject::EncKeyType(t) => write!(f, "encrypted for key type {t} (class-wide), which this OS lacks"),
            Reject::EncParams(r) => write!(f, "IV or tag size refused by the cipher ({r})"),
            Reject::Decrypt => f.write_str("encrypted TA does not authenticate with this device's key"),
            Reject::NoEncKey => f.write_str("encrypted TA, and no decryption key"),
            Reject::OutOfMemory => f.write_str("out of memory"),
        }
    }
}

/// A subkey of the chain that signed an image: its UUID and version, for
/// rollback protection (upstream's `subkey_ver.db`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubkeyVersion {
    pub uuid: Uuid,
    pub version: u32,
}

/// A TA image whose signature and digest checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified<'a> {
    /// The TA's ELF file, everything after the headers (decrypted).
    pub elf: &'a [u8],
    /// `SHDR_TA`, `SHDR_BOOTSTRAP_TA` or `SHDR_ENCRYPTED_TA` (of the TA
    /// header, after any subkeys). For `SHDR_TA` no UUID was signed: the
    /// caller must match the ELF's `ta_head` UUID against the one asked for.
    pub img_type: u32,
    /// Signed version for rollback protection (0 for `SHDR_TA`).
    pub ta_version: u32,
    /// The subkeys that signed the image, the OS key's first.
    pub subkeys: Vec<SubkeyVersion>,
}

impl Verified<'_> {
    /// Whether a version was signed into the image (bootstrap and
    /// encrypted images).
    pub fn has_version(&self) -> bool {
        self.img_type != SHDR_TA
    }
}

/// What the headers said, all checked but the payload's digest.
struct Checked {
    img_type: u32,
    img_size: u32,
    ta_version: u32,
    /// The signed digest.
    hash: [u8; SHA256_LEN],
    /// Hashing has seen every header byte the digest covers.
    hasher: Box<dyn Hash>,
    payload: Range<usize>,
    enc: Option<Enc>,
    subkeys: Vec<SubkeyVersion>,
}

/// The cipher header of an encrypted image.
struct Enc {
    algo: u32,
    iv: Range<usize>,
    tag: Range<usize>,
}

/// One `shdr` at `offs`: the header, its hash and signature, and where it
/// ends.
/// A header, its hash, its signature and where it ends.
type ShdrParts<'a> = (Shdr, &'a [u8], &'a [u8], usize);

fn read_shdr(image: &[u8], offs: usize) -> Result<ShdrParts<'_>, Reject> {
    let rest = image.get(offs..).ok_or(Reject::Truncated)?;
    let (shdr, _) = Shdr::read_from_prefix(rest).map_err(|_| Reject::Truncated)?;
    // First, so an unsigned ELF is called that rather than "truncated".
    if shdr.magic != SHDR_MAGIC {
        return Err(Reject::BadMagic(shdr.magic));
    }
    let hash_at = offs + size_of::<Shdr>();
    let sig_at = hash_at + shdr.hash_size as usize;
    let end = offs + shdr.total_size();
    let hash = image.get(hash_at..sig_at).ok_or(Reject::Truncated)?;
    let sig = image.get(sig_at..end).ok_or(Reject::Truncated)?;
    Ok((shdr, hash, sig, end))
}

fn sha256() -> Result<Box<dyn Hash>, Reject> {
    // The OS's own SHA-256 (the CPU's SHA instructions where it has them).
    oxtee_crypto::hash::new(ids::ALG_SHA256).map_err(|_| Reject::OutOfMemory)
}

/// The UUID a subkey fixes for what follows it: its own for an empty
/// name, else upstream's version-5 UUID with SHA-512: the first 16 bytes
/// of SHA-512(namespace octets || name up to its first NUL), with the
/// version and variant bits set.
pub fn subkey_next_uuid(namespace: &Uuid, name: &[u8]) -> Uuid {
    if name.is_empty() {
        return *namespace;
    }
    let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
    let mut digest = [0u8; 64];
    // SHA-512 exists in every build; a failure leaves an all-zero UUID
    // that no subkey names.
    if let Ok(mut h) = oxtee_crypto::hash::new(ids::ALG_SHA512) {
        h.update(&namespace.to_octets());
        h.update(name);
        h.finish(&mut digest);
    }
    let mut o = [0u8; 16];
    o.copy_from_slice(&digest[..16]);
    o[6] = (o[6] & 0x0f) | 0x50;
    o[8] = (o[8] & 0x3f) | 0x80;
    Uuid::from_octets(o)
}

/// The public key a subkey image (`body`, `img_size` bytes from the start
/// of its [`ShdrSubkey`]) carries: RSA, modulus and exponent attributes.
fn subkey_key(sk: &ShdrSubkey, body: &[u8]) -> Result<TaKey, Reject> {
    let attrs_end = (sk.attr_count as usize)
        .checked_mul(size_of::<ShdrSubkeyAttr>())
        .and_then(|n| n.checked_add(size_of::<ShdrSubkey>()))
        .filter(|end| *end <= body.len())
        .ok_or(Reject::SubkeyHeader)?;
    let attrs = &body[size_of::<ShdrSubkey>()..attrs_end];
    let value = |id: u32| -> Result<Option<&[u8]>, Reject> {
        let mut found = None;
        for a in attrs.chunks_exact(size_of::<ShdrSubkeyAttr>()) {
            let a = ShdrSubkeyAttr::read_from_bytes(a).map_err(|_| Reject::SubkeyHeader)?;
            // Every attribute must lie inside the subkey image; the first
            // of an id counts.
            let v = (a.offs as usize)
                .checked_add(a.size as usize)
                .and_then(|end| body.get(a.offs as usize..end))
                .ok_or(Reject::SubkeyHeader)?;
            if a.id == id && found.is_none() {
                found = Some(v);
            }
        }
        Ok(found)
    };
    // Only RSA keys exist as subkeys.
    if sk.algo & 0xff != 0x30 {
        return Err(Reject::SubkeyHeader);
    }
    let e = value(ids::ATTR_RSA_PUBLIC_EXPONENT)?.ok_or(Reject::SubkeyHeader)?;
    let n = value(ids::ATTR_RSA_MODULUS)?.ok_or(Reject::SubkeyHeader)?;
    TaKey::from_be(n, e)
        .map_err(|e| if e == TeeResult::ERROR_OUT_OF_MEMORY { Reject::OutOfMemory } else { Reject::SubkeyHeader })
}

/// Everything up to the payload: the chain of signatures from `root`,
/// the subkeys' namespaces, the sub-headers. `uuid` is the TA asked for.
fn check_headers(image: &[u8], root: &TaKey, uuid: &Uuid) -> Result<Checked, Reject> {
    let (mut shdr, mut hash, sig, mut offs) = read_shdr(image, 0)?;
    check_signature(&shdr, hash, sig, root, 0)?;

    // Only now is the header trusted to say what follows it.
    let mut subkeys = Vec::new();
    let mut max_depth = u32::MAX;
    let mut next_uuid: Option<Uuid> = None;
    while shdr.img_type == SHDR_SUBKEY {
        let body_end = offs.checked_add(shdr.img_size as usize).ok_or(Reject::Truncated)?;
        let body = image.get(offs..body_end).ok_or(Reject::Truncated)?;
        let (sk, _) = ShdrSubkey::read_from_prefix(body).map_err(|_| Reject::SubkeyHeader)?;
        let mut h = sha256()?;
        h.update(shdr.as_bytes());
        h.update(body);
        let mut digest = [0u8; SHA256_LEN];
        h.finish(&mut digest);
        if !same_bytes(&digest, hash) {
            return Err(Reject::Digest);
        }
        let key = subkey_key(&sk, body)?;
        if sk.max_depth >= max_depth {
            return Err(Reject::SubkeyDepth { depth: sk.max_depth, above: max_depth });
        }
        let sk_uuid = Uuid::from_octets(sk.uuid);
        if let Some(want) = next_uuid
            && want != sk_uuid
        {
            return Err(Reject::SubkeyUuid { want, got: sk_uuid });
        }
        let name_end = body_end.checked_add(sk.name_size as usize).ok_or(Reject::Truncated)?;
        let name = image.get(body_end..name_end).ok_or(Reject::Truncated)?;
        next_uuid = Some(subkey_next_uuid(&sk_uuid, name));
        max_depth = sk.max_depth;
        subkeys.try_reserve(1).map_err(|_| Reject::OutOfMemory)?;
        subkeys.push(SubkeyVersion { uuid: sk_uuid, version: sk.subkey_version });

        let sig;
        (shdr, hash, sig, offs) = read_shdr(image, name_end)?;
        check_signature(&shdr, hash, sig, &key, subkeys.len())?;
    }
    if !matches!(shdr.img_type, SHDR_TA | SHDR_BOOTSTRAP_TA | SHDR_ENCRYPTED_TA) {
        return Err(Reject::UnknownType(shdr.img_type));
    }
    // A subkey signs only inside its namespace.
    if let Some(allowed) = next_uuid
        && allowed != *uuid
    {
        return Err(Reject::OutsideNamespace { allowed });
    }

    let mut hasher = sha256()?;
    hasher.update(shdr.as_bytes());
    let mut ta_version = 0;
    if shdr.img_type != SHDR_TA {
        let bs_bytes = image.get(offs..offs + size_of::<ShdrBootstrapTa>()).ok_or(Reject::Truncated)?;
        let bs = ShdrBootstrapTa::read_from_bytes(bs_bytes).map_err(|_| Reject::Truncated)?;
        let signed_for = Uuid::from_octets(bs.uuid);
        if signed_for != *uuid {
            return Err(Reject::OtherUuid(signed_for));
        }
        hasher.update(bs_bytes);
        ta_version = bs.ta_version;
        offs += bs_bytes.len();
    }
    let mut enc = None;
    if shdr.img_type == SHDR_ENCRYPTED_TA {
        let (ehdr, _) =
            image.get(offs..).and_then(|r| ShdrEncryptedTa::read_from_prefix(r).ok()).ok_or(Reject::Truncated)?;
        let iv_at = offs + size_of::<ShdrEncryptedTa>();
        let tag_at = iv_at + ehdr.iv_size as usize;
        let end = tag_at + ehdr.tag_size as usize;
        let all = image.get(offs..end).ok_or(Reject::Truncated)?;
        // Upstream checks the total size before it looks at the cipher.
        if image.len() - end != shdr.img_size as usize {
            return Err(Reject::PayloadSize { signed: shdr.img_size, actual: image.len() - end });
        }
        if ehdr.enc_algo != ids::ALG_AES_GCM && ehdr.enc_algo != ids::ALG_AES_CCM {
            return Err(Reject::EncAlgorithm(ehdr.enc_algo));
        }
        if ehdr.flags & ENC_KEY_TYPE_MASK == ENC_KEY_CLASS_WIDE {
            return Err(Reject::EncKeyType(ehdr.flags & ENC_KEY_TYPE_MASK));
        }
        hasher.update(all);
        enc = Some(Enc { algo: ehdr.enc_algo, iv: iv_at..tag_at, tag: tag_at..end });
        offs = end;
    }

    // The payload must be exactly what the header announced: no trailing
    // bytes the signature doesn't cover.
    let payload_len = image.len().checked_sub(offs).ok_or(Reject::Truncated)?;
    if payload_len != shdr.img_size as usize {
        return Err(Reject::PayloadSize { signed: shdr.img_size, actual: payload_len });
    }
    let mut signed = [0u8; SHA256_LEN];
    signed.copy_from_slice(hash);
    Ok(Checked {
        img_type: shdr.img_type,
        img_size: shdr.img_size,
        ta_version,
        hash: signed,
        hasher,
        payload: offs..image.len(),
        enc,
        subkeys,
    })
}

/// The digest check over the (plain) payload, and the result.
fn finish<'a>(mut c: Checked, elf: &'a [u8]) -> Result<Verified<'a>, Reject> {
    c.hasher.update(elf);
    let mut digest = [0u8; SHA256_LEN];
    c.hasher.finish(&mut digest);
    if !same_bytes(&digest, &c.hash) {
        return Err(Reject::Digest);
    }
    Ok(Verified { elf, img_type: c.img_type, ta_version: c.ta_version, subkeys: c.subkeys })
}

/// Checks a signed TA image (`shdr`, any subkeys, the sub-headers, ELF)
/// against `key`, as the TA `uuid` was asked for. Returns the ELF and the
/// signed metadata; the ELF itself is still hostile input for the ELF
/// parser (signing proves origin, not well-formedness). An encrypted image
/// needs [`verify_in_place`] ([`Reject::NoEncKey`] here).
pub fn verify<'a>(image: &'a [u8], key: &TaKey, uuid: &Uuid) -> Result<Verified<'a>, Reject> {
    let c = check_headers(image, key, uuid)?;
    if c.enc.is_some() {
        return Err(Reject::NoEncKey);
    }
    let elf = &image[c.payload.clone()];
    finish(c, elf)
}

/// [`verify`], decrypting an encrypted image's ELF in place with
/// `enc_key` (the ELF's bytes are zeroed if it doesn't authenticate).
pub fn verify_in_place<'a>(
    image: &'a mut [u8],
    key: &TaKey,
    enc_key: Option<&TaEncKey>,
    uuid: &Uuid,
) -> Result<Verified<'a>, Reject> {
    let c = check_headers(image, key, uuid)?;
    if let Some(enc) = &c.enc {
        let enc_key = enc_key.ok_or(Reject::NoEncKey)?;
        let (head, payload) = image.split_at_mut(c.payload.start);
        let (iv, tag) = (&head[enc.iv.clone()], &head[enc.tag.clone()]);
        let tag_bits = tag.len() * 8;
        let mut ae = oxtee_crypto::ae::new(enc.algo, false, enc_key.bytes(), iv, tag_bits, 0, c.img_size as usize)
            .map_err(|e| match e {
                TeeResult::ERROR_OUT_OF_MEMORY => Reject::OutOfMemory,
                e => Reject::EncParams(e),
            })?;
        ae.dec_final(payload, tag).map_err(|_| Reject::Decrypt)?;
    }
    let range = c.payload.clone();
    let image: &'a [u8] = image;
    finish(c, &image[range])
}

/// The key, hash and signature checks, in upstream's order; `depth` 0 for
/// the OS's key, n for the n-th subkey.
fn check_signature(shdr: &Shdr, hash: &[u8], sig: &[u8], key: &TaKey, depth: usize) -> Result<(), Reject> {
    if key.bits() < MIN_KEY_BITS {
        return Err(Reject::WeakKey(key.bits()));
    }
    if hash.len() != SHA256_LEN {
        return Err(Reject::HashSize(shdr.hash_size));
    }
    match shdr.algo {
        // Upstream's signing tool uses a PSS salt as long as the digest,
        // which is also what verification assumes without a parameter.
        ALG_RSASSA_PKCS1_V1_5_SHA256 | ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 => {
            oxtee_crypto::pk::verify(shdr.algo, &key.attrs, &NoAttrs, hash, sig)
                .map_err(|_| Reject::Signature { depth })
        }
        a => Err(Reject::Algorithm(a)),
    }
}

/// Compares without an early exit, so timing says nothing about where two
/// digests first differ.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use rsa::RsaPrivateKey;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::rand_core::{CryptoRng, RngCore};
    use rsa::traits::PublicKeyParts;
    use rsa::{Pkcs1v15Sign, Pss};
    use sha2::{Digest, Sha256};
    use std::string::ToString;
    use std::sync::OnceLock;

    const UUID: Uuid = Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0, 2, 0xa5, 0xd5, 0xc5, 0x1b]);
    const OTHER_UUID: Uuid = Uuid::new(0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0, 2, 0xa5, 0xd5, 0xc5, 0x1c]);
    const SECURITY: Result<Verified<'static>, TeeResult> = Err(TeeResult::ERROR_SECURITY);
    const HDR: usize = size_of::<Shdr>();

    fn test_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::from_pkcs1_pem(include_str!("testdata/test_key.pem")).unwrap())
    }

    fn other_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::from_pkcs8_pem(include_str!("testdata/other_key.pem")).unwrap())
    }

    fn weak_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::from_pkcs1_pem(include_str!("testdata/weak_key_1024.pem")).unwrap())
    }

    fn public(key: &RsaPrivateKey) -> TaKey {
        let e = key.e().to_bytes_be().iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
        TaKey::new(&key.n().to_bytes_be(), e).unwrap()
    }

    /// Deterministic stand-in for a CSPRNG, for PSS salts in tests only.
    struct TestRng(u64);
    impl RngCore for TestRng {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.iter_mut().for_each(|b| *b = self.next_u64() as u8);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl CryptoRng for TestRng {}

    /// What goes into a test image; `Default` is a good bootstrap TA.
    struct Spec<'a> {
        key: &'a RsaPrivateKey,
        magic: u32,
        img_type: u32,
        algo: u32,
        /// `None`: the real ELF length.
        img_size: Option<u32>,
        uuid: Uuid,
        ta_version: u32,
        elf: &'a [u8],
    }

    impl Default for Spec<'_> {
        fn default() -> Self {
            Spec {
                key: test_key(),
                magic: SHDR_MAGIC,
                img_type: SHDR_BOOTSTRAP_TA,
                algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
                img_size: None,
                uuid: UUID,
                ta_version: 7,
                elf: b"\x7fELF pretend this is a TA, long enough to flip bytes in",
            }
        }
    }

    /// Builds and signs an image the way upstream's signing tool does.
    fn build(spec: Spec<'_>) -> Vec<u8> {
        let sig_size = spec.key.size() as u16;
        let shdr = Shdr {
            magic: spec.magic,
            img_type: spec.img_type,
            img_size: spec.img_size.unwrap_or(spec.elf.len() as u32),
            algo: spec.algo,
            hash_size: SHA256_LEN as u16,
            sig_size,
        };
        let sub = if spec.img_type == SHDR_TA {
            Vec::new()
        } else {
            ShdrBootstrapTa { uuid: spec.uuid.to_octets(), ta_version: spec.ta_version }.as_bytes().to_vec()
        };
        let mut h = Sha256::new();
        h.update(shdr.as_bytes());
        h.update(&sub);
        h.update(spec.elf);
        let hash = h.finalize();
        let sig = if spec.algo == ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 {
            spec.key.sign_with_rng(&mut TestRng(0x1234_5678_9abc_def1), Pss::new::<Sha256>(), &hash).unwrap()
        } else {
            spec.key.sign(Pkcs1v15Sign::new::<Sha256>(), &hash).unwrap()
        };
        assert_eq!(sig.len(), sig_size as usize);
        [shdr.as_bytes(), hash.as_slice(), &sig, &sub, spec.elf].concat()
    }

    fn good() -> Vec<u8> {
        build(Spec::default())
    }

    fn key() -> TaKey {
        public(test_key())
    }

    /// The answer a caller gives, which most tests pin.
    fn verify<'a>(image: &'a [u8], key: &TaKey, uuid: &Uuid) -> Result<Verified<'a>, TeeResult> {
        super::verify(image, key, uuid).map_err(Reject::code)
    }

    #[test]
    fn each_refusal_says_which_check_failed() {
        let why = |img: &[u8], key: &TaKey, uuid: &Uuid| super::verify(img, key, uuid).unwrap_err();
        let img = good();
        assert_eq!(why(&img[..10], &key(), &UUID), Reject::Truncated);
        assert_eq!(
            why(b"\x7fELF and then some more bytes of an unsigned TA", &key(), &UUID),
            Reject::BadMagic(0x464c_457f)
        );
        assert_eq!(why(&img, &public(weak_key()), &UUID), Reject::WeakKey(1024));
        assert_eq!(why(&img, &public(other_key()), &UUID), Reject::Signature { depth: 0 });
        assert_eq!(why(&img, &key(), &OTHER_UUID), Reject::OtherUuid(UUID));
        let algo = build(Spec { algo: 0x7000_2830, ..Spec::default() });
        assert_eq!(why(&algo, &key(), &UUID), Reject::Algorithm(0x7000_2830));
        let mut hash = img.clone();
        hash[16..18].copy_from_slice(&20u16.to_le_bytes());
        assert_eq!(why(&hash, &key(), &UUID), Reject::HashSize(20));
        // An "encrypted" image whose cipher header is the ELF's first bytes.
        let enc = build(Spec { img_type: SHDR_ENCRYPTED_TA, ..Spec::default() });
        assert!(matches!(why(&enc, &key(), &UUID), Reject::Truncated | Reject::PayloadSize { .. }));
        assert_eq!(why(&build(Spec { img_type: 9, ..Spec::default() }), &key(), &UUID), Reject::UnknownType(9));
        let len = Spec::default().elf.len();
        let short = build(Spec { img_size: Some(len as u32 - 1), ..Spec::default() });
        assert_eq!(why(&short, &key(), &UUID), Reject::PayloadSize { signed: len as u32 - 1, actual: len });
        let mut body = img.clone();
        *body.last_mut().unwrap() ^= 1;
        assert_eq!(why(&body, &key(), &UUID), Reject::Digest);
        // Every refusal but an unsupported type answers SECURITY, and the
        // log line reads as a reason.
        assert_eq!(Reject::Digest.code(), TeeResult::ERROR_SECURITY);
        assert_eq!(TeeResult::from(Reject::EncAlgorithm(2)), TeeResult::ERROR_NOT_IMPLEMENTED);
        assert_eq!(
            Reject::Signature { depth: 0 }.to_string(),
            "signature does not verify with the OS's TA key (signed with another key, or changed since)"
        );
        assert_eq!(
            Reject::OtherUuid(UUID).to_string(),
            "signed for TA 8aaaf200-2450-11e4-abe2-0002a5d5c51b, not the UUID asked for (a .ta file must be named \
             after its signed UUID)"
        );
    }

    #[test]
    fn good_bootstrap_image_is_accepted() {
        let img = good();
        let v = verify(&img, &key(), &UUID).unwrap();
        assert_eq!(v.elf, Spec::default().elf);
        assert_eq!(v.img_type, SHDR_BOOTSTRAP_TA);
        assert_eq!(v.ta_version, 7);
        assert_eq!(key().bits(), 2048);
    }

    #[test]
    fn pss_image_is_accepted() {
        let img = build(Spec { algo: ALG_RSASSA_PKCS1_PSS_MGF1_SHA256, ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID).unwrap().elf, Spec::default().elf);
    }

    #[test]
    fn legacy_ta_image_is_accepted_without_signed_uuid() {
        let img = build(Spec { img_type: SHDR_TA, ..Spec::default() });
        // No UUID is signed into a legacy image; the ELF's ta_head decides.
        let v = verify(&img, &key(), &OTHER_UUID).unwrap();
        assert_eq!((v.img_type, v.ta_version), (SHDR_TA, 0));
        assert_eq!(v.elf, Spec::default().elf);
    }

    #[test]
    fn empty_payload_verifies_as_empty_elf() {
        let img = build(Spec { elf: b"", ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID).unwrap().elf, b"");
    }

    #[test]
    fn any_flipped_byte_is_rejected() {
        let img = good();
        let sig_end = HDR + SHA256_LEN + 256;
        // Every byte of the fixed header, a spread over hash and
        // signature, all of the bootstrap header and the ELF.
        let positions = (0..HDR).chain((HDR..sig_end).step_by(7)).chain(sig_end..img.len());
        for i in positions {
            for bit in [0x01, 0x80] {
                let mut bad = img.clone();
                bad[i] ^= bit;
                // img_type flips to 0 (TA: payload then has the wrong
                // size) or 0x81 (unknown): the signature still holds, the
                // later checks catch it.
                assert_eq!(verify(&bad, &key(), &UUID), SECURITY, "byte {i} bit {bit:#x}");
            }
        }
    }

    #[test]
    fn wrong_key_is_rejected() {
        let img = good();
        assert_eq!(verify(&img, &public(other_key()), &UUID), SECURITY);
        let other = build(Spec { key: other_key(), ..Spec::default() });
        assert_eq!(verify(&other, &key(), &UUID), SECURITY);
        assert!(verify(&other, &public(other_key()), &UUID).is_ok());
    }

    #[test]
    fn wrong_uuid_is_rejected() {
        assert_eq!(verify(&good(), &key(), &OTHER_UUID), SECURITY);
        let img = build(Spec { uuid: OTHER_UUID, ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID), SECURITY);
    }

    #[test]
    fn every_truncation_is_rejected() {
        let img = good();
        for len in 0..img.len() {
            assert_eq!(verify(&img[..len], &key(), &UUID), SECURITY, "len {len}");
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut img = good();
        img.push(0);
        assert_eq!(verify(&img, &key(), &UUID), SECURITY);
    }

    #[test]
    fn bad_magic_is_rejected_even_if_signed() {
        let img = build(Spec { magic: SHDR_MAGIC ^ 1, ..Spec::default() });
        assert_eq!(verify(&img, &key(), &UUID), SECURITY);
    }

    #[test]
    fn img_size_mismatch_is_rejected_even_if_signed() {
        let len = Spec::default().elf.len() as u32;
        for size in [0, len - 1, len + 1, u32::MAX] {
            let img = build(Spec { img_size: Some(size), ..Spec::default() });
            assert_eq!(verify(&img, &key(), &UUID), SECURITY, "img_size {size}");
        }
    }

    #[test]
    fn unknown_algorithms_are_rejected() {
        // RSA with SHA-1 (weak), ECDSA P-256, and a made-up id.
        for algo in [0x7000_2830, 0x7000_3041, 0x7041_4a30, 0] {
            let img = build(Spec { algo, ..Spec::default() });
            assert_eq!(verify(&img, &key(), &UUID), SECURITY, "algo {algo:#x}");
        }
    }

    #[test]
    fn wrong_hash_size_is_rejected() {
        let img = good();
        // Claim a 20-byte hash: the signature then starts 12 bytes early.
        let mut bad = img.clone();
        bad[16..18].copy_from_slice(&20u16.to_le_bytes());
        assert_eq!(verify(&bad, &key(), &UUID), SECURITY);
        bad[16..18].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(verify(&bad, &key(), &UUID), SECURITY);
        let mut huge = img;
        huge[16..20].copy_from_slice(&[0xff; 4]);
        assert_eq!(verify(&huge, &key(), &UUID), SECURITY);
    }

    #[test]
    fn unknown_type_is_rejected() {
        for img_type in [4, 0x100, u32::MAX] {
            let img = build(Spec { img_type, ..Spec::default() });
            assert_eq!(verify(&img, &key(), &UUID), SECURITY, "type {img_type}");
        }
    }

    #[test]
    fn short_key_is_refused_like_upstream() {
        let img = build(Spec { key: weak_key(), ..Spec::default() });
        let weak = public(weak_key());
        assert_eq!(weak.bits(), 1024);
        assert_eq!(verify(&img, &weak, &UUID), SECURITY);
    }

    #[test]
    fn malformed_keys_are_refused() {
        let n = test_key().n().to_bytes_be();
        assert_eq!(TaKey::new(&n, 65537).map(|_| ()), Ok(()));
        let mut even = n.clone();
        *even.last_mut().unwrap() &= !1;
        assert_eq!(TaKey::new(&even, 65537).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&n, 1).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&n, 65536).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&[], 65537).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(TaKey::new(&[0xff; 513], 65537).map(|_| ()), Err(TeeResult::ERROR_BAD_PARAMETERS));
    }

    // ---- Subkeys and encrypted images ----

    fn uuid_str(s: &str) -> Uuid {
        let h: Vec<u8> = s
            .replace('-', "")
            .as_bytes()
            .chunks(2)
            .map(|c| u8::from_str_radix(core::str::from_utf8(c).unwrap(), 16).unwrap())
            .collect();
        Uuid::from_octets(h.try_into().unwrap())
    }

    #[test]
    fn namespace_uuids_match_upstream() {
        // The hierarchy of upstream's subkey test TAs (its subkey notes):
        // these are what its sign_encrypt.py computes.
        let top = uuid_str("f04fa996-148a-453c-b037-1dcfbad120a6");
        let mid = subkey_next_uuid(&top, b"mid_level_subkey");
        assert_eq!(mid, uuid_str("1a5948c5-1aa0-518c-86f4-be6f6a057b16"));
        // The name is NUL-padded to the subkey's name_size in the image.
        let mut padded = [0u8; 64];
        padded[..10].copy_from_slice(b"subkey1_ta");
        assert_eq!(subkey_next_uuid(&mid, &padded), uuid_str("5c206987-16a3-59cc-ab0f-64b9cfc9e758"));
        // An empty name is the identity.
        assert_eq!(subkey_next_uuid(&mid, b""), mid);
    }

    /// A subkey image: `signer` signs (`sk` header, public key of `subkey`),
    /// followed by `name` padded to `name_size`.
    struct Sk<'a> {
        signer: &'a RsaPrivateKey,
        subkey: &'a RsaPrivateKey,
        uuid: Uuid,
        name_size: u32,
        version: u32,
        max_depth: u32,
        name: &'a [u8],
    }

    fn subkey_img(sk: Sk<'_>) -> Vec<u8> {
        let n = sk.subkey.n().to_bytes_be();
        let e = sk.subkey.e().to_bytes_be();
        let attrs_end = (size_of::<ShdrSubkey>() + 2 * size_of::<ShdrSubkeyAttr>()) as u32;
        let hdr = ShdrSubkey {
            uuid: sk.uuid.to_octets(),
            name_size: sk.name_size,
            subkey_version: sk.version,
            max_depth: sk.max_depth,
            algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
            attr_count: 2,
        };
        let attrs = [
            ShdrSubkeyAttr { id: ids::ATTR_RSA_MODULUS, offs: attrs_end, size: n.len() as u32 },
            ShdrSubkeyAttr {
                id: ids::ATTR_RSA_PUBLIC_EXPONENT,
                offs: attrs_end + n.len() as u32,
                size: e.len() as u32,
            },
        ];
        let body = [hdr.as_bytes(), attrs.as_bytes(), &n, &e].concat();
        let mut name = sk.name.to_vec();
        name.resize(sk.name_size as usize, 0);
        [signed_part(sk.signer, SHDR_SUBKEY, &body, &[]), name].concat()
    }

    /// `shdr`, hash, signature (PKCS#1 v1.5) and `body`; the hash covers
    /// `shdr`, `sub` and `body` and `img_size` is `body`'s length. `sub`
    /// isn't included in the output.
    fn signed_part(key: &RsaPrivateKey, img_type: u32, body: &[u8], sub: &[u8]) -> Vec<u8> {
        let shdr = Shdr {
            magic: SHDR_MAGIC,
            img_type,
            img_size: body.len() as u32,
            algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
            hash_size: 32,
            sig_size: key.size() as u16,
        };
        let hash = Sha256::new().chain_update(shdr.as_bytes()).chain_update(sub).chain_update(body).finalize();
        let sig = key.sign(Pkcs1v15Sign::new::<Sha256>(), &hash).unwrap();
        [shdr.as_bytes(), hash.as_slice(), &sig, body].concat()
    }

    /// A bootstrap TA image signed by `key` (after a subkey chain).
    fn ta_img(key: &RsaPrivateKey, uuid: Uuid, elf: &[u8]) -> Vec<u8> {
        let bs = ShdrBootstrapTa { uuid: uuid.to_octets(), ta_version: 1 };
        let part = signed_part(key, SHDR_BOOTSTRAP_TA, elf, bs.as_bytes());
        let hdr = part.len() - elf.len();
        [&part[..hdr], bs.as_bytes(), elf].concat()
    }

    const TOP: Uuid = Uuid::new(0x1111_2222, 0x3333, 0x4444, [0x85, 5, 6, 7, 8, 9, 10, 11]);
    const ELF: &[u8] = b"\x7fELF pretend this is a TA, signed through subkeys";

    /// root (test key) -> top (other key, namespace TOP, depth 1) -> mid
    /// (test key, namespace v5(TOP, "mid"), depth 0) -> TA "ta".
    fn two_level() -> (Vec<u8>, Uuid) {
        let mid_uuid = subkey_next_uuid(&TOP, b"mid");
        let top = subkey_img(Sk {
            signer: test_key(),
            subkey: other_key(),
            uuid: TOP,
            name_size: 16,
            version: 3,
            max_depth: 1,
            name: b"mid",
        });
        let mid = subkey_img(Sk {
            signer: other_key(),
            subkey: test_key(),
            uuid: mid_uuid,
            name_size: 8,
            version: 5,
            max_depth: 0,
            name: b"ta",
        });
        let ta_uuid = subkey_next_uuid(&mid_uuid, b"ta");
        ([top, mid, ta_img(test_key(), ta_uuid, ELF)].concat(), ta_uuid)
    }

    #[test]
    fn two_level_subkey_chain_is_accepted() {
        let (img, ta_uuid) = two_level();
        let v = super::verify(&img, &key(), &ta_uuid).unwrap();
        assert_eq!(v.elf, ELF);
        assert_eq!((v.img_type, v.ta_version), (SHDR_BOOTSTRAP_TA, 1));
        let mid = subkey_next_uuid(&TOP, b"mid");
        assert_eq!(v.subkeys, [SubkeyVersion { uuid: TOP, version: 3 }, SubkeyVersion { uuid: mid, version: 5 }]);
    }

    #[test]
    fn identity_subkey_signs_its_own_uuid_only() {
        let id = subkey_img(Sk {
            signer: test_key(),
            subkey: other_key(),
            uuid: UUID,
            name_size: 0,
            version: 1,
            max_depth: 0,
            name: b"",
        });
        let img = [id.clone(), ta_img(other_key(), UUID, ELF)].concat();
        assert_eq!(super::verify(&img, &key(), &UUID).unwrap().elf, ELF);
        // The same subkey signing another UUID: outside its namespace, even
        // though every signature holds.
        let img = [id, ta_img(other_key(), OTHER_UUID, ELF)].concat();
        assert_eq!(super::verify(&img, &key(), &OTHER_UUID), Err(Reject::OutsideNamespace { allowed: UUID }));
        assert_eq!(verify(&img, &key(), &OTHER_UUID), SECURITY);
    }

    #[test]
    fn subkey_refusals_say_which_check_failed() {
        let why = |img: &[u8], uuid: &Uuid| super::verify(img, &key(), uuid).unwrap_err();
        let (good, ta_uuid) = two_level();
        let top_len = subkey_img(Sk {
            signer: test_key(),
            subkey: other_key(),
            uuid: TOP,
            name_size: 16,
            version: 3,
            max_depth: 1,
            name: b"mid",
        })
        .len();
        // The TA asked for under another UUID: its bootstrap header and the
        // namespace both say otherwise; the namespace is checked first.
        assert_eq!(why(&good, &UUID), Reject::OutsideNamespace { allowed: ta_uuid });
        // A TA signed by the mid subkey under a UUID outside its namespace.
        let outside =
            [&good[..good.len() - ta_img(test_key(), ta_uuid, ELF).len()], &ta_img(test_key(), UUID, ELF)].concat();
        assert_eq!(why(&outside, &UUID), Reject::OutsideNamespace { allowed: ta_uuid });
        // The TA signed by the top subkey instead of the mid one.
        let tail = ta_img(other_key(), ta_uuid, ELF);
        let wrong_signer = [&good[..good.len() - tail.len()], &tail].concat();
        assert_eq!(why(&wrong_signer, &ta_uuid), Reject::Signature { depth: 2 });
        // A different name in the clear part after the top subkey moves
        // the namespace: the mid subkey no longer belongs there.
        let mut renamed = good.clone();
        renamed[top_len - 16] = b'M';
        let mid_uuid = subkey_next_uuid(&TOP, b"mid");
        assert_eq!(why(&renamed, &ta_uuid), Reject::SubkeyUuid { want: subkey_next_uuid(&TOP, b"Mid"), got: mid_uuid });
        // A mid subkey allowing as many levels as the top one.
        let deep = subkey_img(Sk {
            signer: other_key(),
            subkey: test_key(),
            uuid: mid_uuid,
            name_size: 8,
            version: 5,
            max_depth: 1,
            name: b"ta",
        });
        let img = [&good[..top_len], &deep, &ta_img(test_key(), ta_uuid, ELF)].concat();
        assert_eq!(why(&img, &ta_uuid), Reject::SubkeyDepth { depth: 1, above: 1 });
        // A top subkey at u32::MAX (the root's own budget).
        let top_max = subkey_img(Sk {
            signer: test_key(),
            subkey: other_key(),
            uuid: TOP,
            name_size: 0,
            version: 0,
            max_depth: u32::MAX,
            name: b"",
        });
        assert_eq!(why(&top_max, &TOP), Reject::SubkeyDepth { depth: u32::MAX, above: u32::MAX });
        // A subkey signed by a key that isn't the OS's.
        let forged = subkey_img(Sk {
            signer: other_key(),
            subkey: other_key(),
            uuid: TOP,
            name_size: 16,
            version: 3,
            max_depth: 1,
            name: b"mid",
        });
        let img = [&forged, &good[top_len..]].concat();
        assert_eq!(why(&img, &ta_uuid), Reject::Signature { depth: 0 });
        // A subkey with only the chain and no TA after it.
        assert_eq!(why(&good[..top_len], &ta_uuid), Reject::Truncated);
    }

    #[test]
    fn any_flipped_byte_of_a_subkey_chain_is_rejected() {
        let (img, ta_uuid) = two_level();
        // The name padding after a subkey is the only unsigned part (its
        // bytes after the first NUL don't count, as upstream).
        let (top_len, mid_len) = (20 + 32 + 256 + 36 + 24 + 256 + 3 + 16, 20 + 32 + 256 + 36 + 24 + 256 + 3 + 8);
        let top_pad = top_len - 16 + 3..top_len;
        let mid_pad = top_len + mid_len - 8 + 2..top_len + mid_len;
        for i in (0..img.len()).filter(|i| !top_pad.contains(i) && !mid_pad.contains(i)) {
            let mut bad = img.clone();
            bad[i] ^= 0x01;
            assert_eq!(verify(&bad, &key(), &ta_uuid), SECURITY, "byte {i}");
        }
        for len in (0..img.len()).step_by(13) {
            assert_eq!(verify(&img[..len], &key(), &ta_uuid), SECURITY, "len {len}");
        }
    }

    #[test]
    fn hostile_subkey_headers_are_refused() {
        // Attribute tables and offsets pointing anywhere, all correctly
        // signed (the signer is the OS key): never a panic, always SECURITY.
        let n = other_key().n().to_bytes_be();
        let mk = |attr_count: u32, attrs: &[ShdrSubkeyAttr], extra: &[u8]| {
            let hdr = ShdrSubkey {
                uuid: TOP.to_octets(),
                name_size: 0,
                subkey_version: 0,
                max_depth: 0,
                algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
                attr_count,
            };
            let body = [hdr.as_bytes(), attrs.as_bytes(), extra].concat();
            [signed_part(test_key(), SHDR_SUBKEY, &body, &[]), ta_img(other_key(), TOP, ELF)].concat()
        };
        let a = |id, offs, size| ShdrSubkeyAttr { id, offs, size };
        let (m, e) = (ids::ATTR_RSA_MODULUS, ids::ATTR_RSA_PUBLIC_EXPONENT);
        let base = 36 + 24;
        let extra = [&n[..], &[1, 0, 1]].concat();
        let good = [a(m, base, 256), a(e, base + 256, 3)];
        assert!(super::verify(&mk(2, &good, &extra), &key(), &TOP).is_ok());
        for (count, attrs) in [
            (u32::MAX, &good[..]),
            (3, &good[..]),
            (0x1555_5556, &good[..]),
            (1, &good[..1]),
            (2, &[a(m, base, 256), a(e, u32::MAX, 2)][..]),
            (2, &[a(m, u32::MAX - 10, 256), a(e, base + 256, 3)][..]),
            (2, &[a(m, base, 257), a(e, base + 256, 3)][..]),
            (2, &[a(m, base, 0), a(e, base + 256, 3)][..]),
            (2, &[a(m, base, 256), a(e, base, 256)][..]),
            (2, &[a(m, base, 256), a(m, base + 256, 3)][..]),
        ] {
            let img = mk(count, attrs, &extra);
            let r = super::verify(&img, &key(), &TOP);
            // (A modulus one byte too long is another, odd, key: its
            // signature check fails instead.)
            assert_eq!(r.map_err(Reject::code), Err(TeeResult::ERROR_SECURITY), "{count} {attrs:?}");
        }
        // A subkey header shorter than its fixed part.
        let short = [signed_part(test_key(), SHDR_SUBKEY, &[0; 20], &[]), ta_img(other_key(), TOP, ELF)].concat();
        assert_eq!(super::verify(&short, &key(), &TOP), Err(Reject::SubkeyHeader));
        // A 1024-bit subkey: weak, as the root would be.
        let weak = subkey_img(Sk {
            signer: test_key(),
            subkey: weak_key(),
            uuid: TOP,
            name_size: 0,
            version: 0,
            max_depth: 0,
            name: b"",
        });
        let img = [weak, ta_img(weak_key(), TOP, ELF)].concat();
        assert_eq!(super::verify(&img, &key(), &TOP), Err(Reject::WeakKey(1024)));
    }

    /// An encrypted image of `elf` for `uuid` under `enc` (AES-GCM unless
    /// `algo` says otherwise), signed by the test key.
    fn enc_img(enc: &TaEncKey, uuid: Uuid, elf: &[u8], algo: u32, flags: u32) -> Vec<u8> {
        let iv = [7u8; 12];
        let mut ct = elf.to_vec();
        let mut tag = [0u8; 16];
        let mut ae = oxtee_crypto::ae::new(ids::ALG_AES_GCM, true, enc.bytes(), &iv, 128, 0, elf.len()).unwrap();
        ae.enc_final(&mut ct, &mut tag).unwrap();
        let ehdr = ShdrEncryptedTa { enc_algo: algo, flags, iv_size: 12, tag_size: 16 };
        let bs = ShdrBootstrapTa { uuid: uuid.to_octets(), ta_version: 9 };
        let sub = [bs.as_bytes(), ehdr.as_bytes(), &iv, &tag].concat();
        let shdr = Shdr {
            magic: SHDR_MAGIC,
            img_type: SHDR_ENCRYPTED_TA,
            img_size: elf.len() as u32,
            algo: ALG_RSASSA_PKCS1_V1_5_SHA256,
            hash_size: 32,
            sig_size: 256,
        };
        let hash = Sha256::new().chain_update(shdr.as_bytes()).chain_update(&sub).chain_update(elf).finalize();
        let sig = test_key().sign(Pkcs1v15Sign::new::<Sha256>(), &hash).unwrap();
        [shdr.as_bytes(), hash.as_slice(), &sig, &sub, &ct].concat()
    }

    fn enc_key() -> TaEncKey {
        TaEncKey::derive(b"some hardware unique key 32 byte", &key())
    }

    #[test]
    fn encrypted_image_decrypts_in_place() {
        let mut img = enc_img(&enc_key(), UUID, ELF, ids::ALG_AES_GCM, 0);
        // The ELF isn't there in the clear.
        assert!(!img.windows(ELF.len()).any(|w| w == ELF));
        assert_eq!(super::verify(&img, &key(), &UUID), Err(Reject::NoEncKey));
        let v = verify_in_place(&mut img, &key(), Some(&enc_key()), &UUID).unwrap();
        assert_eq!((v.elf, v.img_type, v.ta_version), (ELF, SHDR_ENCRYPTED_TA, 9));
        assert!(v.has_version());
    }

    #[test]
    fn ta_encryption_key_is_upstreams_derivation() {
        // HMAC-SHA256(HUK, u32 LE 4 || modulus), computed independently.
        use hmac::{Hmac, Mac};
        let huk = b"some hardware unique key 32 byte";
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(huk).unwrap();
        m.update(&[4, 0, 0, 0]);
        m.update(&test_key().n().to_bytes_be());
        assert_eq!(enc_key().bytes()[..], m.finalize().into_bytes()[..]);
        assert_eq!(key().modulus().len(), 256);
        assert_eq!(alloc::format!("{:?}", enc_key()), "TaEncKey(..)");
    }

    #[test]
    fn encrypted_refusals() {
        let good = enc_img(&enc_key(), UUID, ELF, ids::ALG_AES_GCM, 0);
        let run = |img: &[u8], k: Option<&TaEncKey>, uuid: &Uuid| {
            let mut img = img.to_vec();
            verify_in_place(&mut img, &key(), k, uuid).map(|v| v.elf.to_vec())
        };
        assert_eq!(run(&good, Some(&enc_key()), &UUID), Ok(ELF.to_vec()));
        // Another device's key.
        let other = TaEncKey::from_bytes([3; 32]);
        assert_eq!(run(&good, Some(&other), &UUID), Err(Reject::Decrypt));
        assert_eq!(run(&good, None, &UUID), Err(Reject::NoEncKey));
        // Every byte of the ciphertext, IV and tag (the signature holds:
        // the cipher or the digest catches it).
        let hdr = 20 + 32 + 256;
        for i in hdr..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            let r = run(&bad, Some(&enc_key()), &UUID);
            assert!(r.is_err() && r.unwrap_err().code() != TeeResult::SUCCESS, "byte {i}");
        }
        let mut ct = good.clone();
        *ct.last_mut().unwrap() ^= 1;
        assert_eq!(run(&ct, Some(&enc_key()), &UUID), Err(Reject::Decrypt));
        // The plaintext of a refused image is not left behind.
        let mut buf = ct.clone();
        let _ = verify_in_place(&mut buf, &key(), Some(&enc_key()), &UUID);
        assert!(buf[buf.len() - ELF.len()..].iter().all(|b| *b == 0));
        // Wrong UUID, unknown algorithm, class-wide key.
        assert_eq!(run(&good, Some(&enc_key()), &OTHER_UUID), Err(Reject::OtherUuid(UUID)));
        let ccm_tag = enc_img(&enc_key(), UUID, ELF, 0x4000_0910, 0);
        assert_eq!(run(&ccm_tag, Some(&enc_key()), &UUID), Err(Reject::EncAlgorithm(0x4000_0910)));
        assert_eq!(Reject::EncAlgorithm(1).code(), TeeResult::ERROR_NOT_IMPLEMENTED);
        let class = enc_img(&enc_key(), UUID, ELF, ids::ALG_AES_GCM, 1);
        assert_eq!(run(&class, Some(&enc_key()), &UUID), Err(Reject::EncKeyType(1)));
        // AES-CCM is a cipher upstream takes too: here it fails the tag
        // (the image was made with GCM), not the algorithm check.
        let ccm = enc_img(&enc_key(), UUID, ELF, ids::ALG_AES_CCM, 0);
        assert_eq!(run(&ccm, Some(&enc_key()), &UUID), Err(Reject::Decrypt));
        // Truncations anywhere.
        for len in 0..good.len() {
            assert_eq!(
                run(&good[..len], Some(&enc_key()), &UUID).map_err(Reject::code),
                Err(TeeResult::ERROR_SECURITY),
                "len {len}"
            );
        }
    }

    #[test]
    fn hostile_cipher_headers_give_the_ciphers_answer() {
        // iv_size and tag_size are signed only through the final digest:
        // before that they are hostile. A huge tag size runs past the end;
        // a 17-byte tag is refused by GCM; a zero-length IV fails the tag.
        let good = enc_img(&enc_key(), UUID, ELF, ids::ALG_AES_GCM, 0);
        let at = 20 + 32 + 256 + 20 + 8;
        for (iv, tag) in [(12u16, 0xffffu16), (0xffff, 16), (12, 17), (0, 16), (12, 0), (28, 0)] {
            let mut bad = good.clone();
            bad[at..at + 2].copy_from_slice(&iv.to_le_bytes());
            bad[at + 2..at + 4].copy_from_slice(&tag.to_le_bytes());
            let r = verify_in_place(&mut bad, &key(), Some(&enc_key()), &UUID);
            assert!(r.is_err(), "iv {iv} tag {tag}");
        }
    }

    #[test]
    fn encrypted_ta_under_a_subkey() {
        let (chain, ta_uuid) = two_level();
        let tail_len = ta_img(test_key(), ta_uuid, ELF).len();
        let enc = enc_img(&enc_key(), ta_uuid, ELF, ids::ALG_AES_GCM, 0);
        // The mid subkey is the test key, which also signed `enc`.
        let mut img = [&chain[..chain.len() - tail_len], &enc].concat();
        let v = verify_in_place(&mut img, &key(), Some(&enc_key()), &ta_uuid).unwrap();
        assert_eq!((v.elf, v.img_type, v.subkeys.len()), (ELF, SHDR_ENCRYPTED_TA, 2));
    }
}
