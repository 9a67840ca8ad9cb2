//! GlobalPlatform Internal Core API cryptography for the trusted OS:
//! transient objects and their attributes, and every algorithm OP-TEE 4.10
//! offers TAs, over RustCrypto and dalek. Safe Rust, `no_std` + `alloc`,
//! tested on the host; the OS's syscall layer (`oxtee-core`, `user/cryp`)
//! marshals TA memory in and out and owns the handle tables.
//!
//! Layout:
//! - [`object`]: object types, attribute rules, populate / generate /
//!   get / copy / restrict, as upstream's kernel enforces them.
//! - [`hash`], [`mac`], [`cipher`], [`ae`], [`kdf`]: symmetric algorithms
//!   behind small object-safe traits the operation layer drives.
//! - [`pk`]: public-key algorithms (RSA, DSA, DH, ECDSA, ECDH, EdDSA,
//!   X25519, SM2): sign, verify, encrypt, decrypt, derive, generate.
//! - [`accel`]: the hook through which the OS supplies the Armv8
//!   cryptographic extensions (AES, SHA-1, SHA-256, PMULL); without it
//!   (host tests) the portable code runs.
//!
//! Errors are GP codes ([`TeeResult`]), exactly those upstream's kernel
//! returns for the same input. Secrets live in [`Secret`] buffers, wiped on
//! drop.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod accel;
pub mod ae;
pub mod cipher;
pub mod hash;
pub mod kdf;
pub mod mac;
pub mod object;
pub mod pk;

use alloc::vec::Vec;

pub use oxtee_abi::ta::crypto as ids;
pub use oxtee_abi::tee::TeeResult;

/// A GP result.
pub type Result<T> = core::result::Result<T, TeeResult>;

/// Bytes that may be secret: wiped when dropped.
pub type Secret = zeroize::Zeroizing<Vec<u8>>;

/// Random bytes for key generation, blinding, nonces and padding. The OS
/// passes its DRBG; host tests pass a seeded generator.
pub trait Rng {
    /// Fills `out` with cryptographically strong random bytes.
    fn fill(&mut self, out: &mut [u8]);
}

/// Read access to the attributes of a key object or of an operation's
/// parameter list (the attributes a TA passes to `ASYMM_OPERATE`,
/// `DERIVE_KEY` or `GENERATE_KEY`). Big numbers are unsigned big-endian,
/// as GP passes them.
pub trait Attrs {
    /// The bytes of reference attribute `id`, if present.
    fn bytes(&self, id: u32) -> Option<&[u8]>;
    /// The two values of value attribute `id`, if present.
    fn value(&self, id: u32) -> Option<(u32, u32)>;
}

/// An attribute list with no attributes.
pub struct NoAttrs;

impl Attrs for NoAttrs {
    fn bytes(&self, _: u32) -> Option<&[u8]> {
        None
    }
    fn value(&self, _: u32) -> Option<(u32, u32)> {
        None
    }
}

/// One attribute as input (from a TA's `utee_attribute` list, already
/// copied into kernel memory).
#[derive(Clone, Copy, Debug)]
pub enum AttrRef<'a> {
    /// A reference attribute's bytes.
    Bytes(u32, &'a [u8]),
    /// A value attribute's two values.
    Value(u32, u32, u32),
}

impl AttrRef<'_> {
    /// The attribute identifier.
    pub fn id(&self) -> u32 {
        match *self {
            AttrRef::Bytes(id, _) | AttrRef::Value(id, ..) => id,
        }
    }
}

/// A slice of input attributes is an attribute list (first match wins).
impl Attrs for [AttrRef<'_>] {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.iter().find_map(|a| match *a {
            AttrRef::Bytes(i, b) if i == id => Some(b),
            _ => None,
        })
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.iter().find_map(|a| match *a {
            AttrRef::Value(i, x, y) if i == id => Some((x, y)),
            _ => None,
        })
    }
}

/// One attribute held by an object (owned; reference bytes wiped on drop).
#[derive(Clone, Debug)]
pub enum Attr {
    /// A reference attribute: identifier and bytes.
    Bytes(u32, Secret),
    /// A value attribute: identifier and its two values.
    Value(u32, u32, u32),
}

impl Attr {
    /// The attribute identifier.
    pub fn id(&self) -> u32 {
        match *self {
            Attr::Bytes(id, _) | Attr::Value(id, ..) => id,
        }
    }
}

/// An owned attribute list is an attribute list (first match wins).
impl Attrs for [Attr] {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.iter().find_map(|a| match a {
            Attr::Bytes(i, b) if *i == id => Some(&b[..]),
            _ => None,
        })
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.iter().find_map(|a| match *a {
            Attr::Value(i, x, y) if i == id => Some((x, y)),
            _ => None,
        })
    }
}

impl<'a> Attrs for Vec<AttrRef<'a>> {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.as_slice().bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.as_slice().value(id)
    }
}

impl Attrs for Vec<Attr> {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.as_slice().bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.as_slice().value(id)
    }
}
