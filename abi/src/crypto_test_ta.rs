//! oxtee's crypto test TA (`ta/crypto-test`): a thin driver that exposes
//! the crypto system calls one command each, so that the normal-world
//! suite (`normal/xtest`, `crypto.rs`) can check known answers and error
//! codes from outside. Shared by both: the UUID, the command numbers, and
//! the two byte formats the commands carry (attribute lists and the
//! one-shot request).
//!
//! Every command's result is the `TEE_Result` of the system call it
//! mirrors (origin TA), so a client sees the kernel's error codes as they
//! are. Handles (objects, operation states) travel as value parameters.

use crate::uuid::Uuid;

/// 5e57c001-0000-4000-8000-0000000000c1: multi-instance (an instance per
/// session), so a session's objects and states die with it.
pub const UUID: Uuid = Uuid::new(0x5e57_c001, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 0xc1]);

/// Declared stack and heap of the TA.
pub const STACK_SIZE: u32 = 32 * 1024;
pub const DATA_SIZE: u32 = 3 * 1024 * 1024;

/// p0 value in (a = object type, b = max size in bits), p1 value out
/// (a = handle). `CRYP_OBJ_ALLOC`.
pub const CMD_OBJ_ALLOC: u32 = 1;
/// p0 value in (a = object), p1 memref in (attributes, see
/// [`encode_attr_header`]). `CRYP_OBJ_POPULATE`.
pub const CMD_OBJ_POPULATE: u32 = 2;
/// p0 value in (a = object, b = key size in bits), p1 memref in
/// (attributes) or none. `CRYP_OBJ_GENERATE_KEY`.
pub const CMD_OBJ_GENERATE: u32 = 3;
/// p0 value in (a = object, b = attribute id), p1 memref out (its size is
/// what the kernel reported, also on SHORT_BUFFER). A value attribute
/// comes back as 8 bytes: a, b little-endian. `CRYP_OBJ_GET_ATTR`.
pub const CMD_OBJ_GET_ATTR: u32 = 4;
/// p0 value in (a = object), p1 memref out (`UteeObjectInfo`, 28 bytes).
/// `CRYP_OBJ_GET_INFO`.
pub const CMD_OBJ_GET_INFO: u32 = 5;
/// p0 value in (a = object, b = usage). `CRYP_OBJ_RESTRICT_USAGE`.
pub const CMD_OBJ_RESTRICT: u32 = 6;
/// p0 value in (a = destination, b = source). `CRYP_OBJ_COPY`.
pub const CMD_OBJ_COPY: u32 = 7;
/// p0 value in (a = object). `CRYP_OBJ_RESET`.
pub const CMD_OBJ_RESET: u32 = 8;
/// p0 value in (a = object). `CRYP_OBJ_CLOSE`.
pub const CMD_OBJ_CLOSE: u32 = 9;
/// p0 value in (a = algorithm, b = mode), p1 value in (a = key 1, b = key
/// 2 object handles, 0 for none), p2 value out (a = state).
/// `CRYP_STATE_ALLOC`.
pub const CMD_STATE_ALLOC: u32 = 10;
/// p0 value in (a = state). `CRYP_STATE_FREE`.
pub const CMD_STATE_FREE: u32 = 11;
/// p0 value in (a = destination, b = source). `CRYP_STATE_COPY`.
pub const CMD_STATE_COPY: u32 = 12;
/// p0 value in (a = state), p1 memref in (IV) or none. `HASH_INIT`.
pub const CMD_HASH_INIT: u32 = 13;
/// p0 value in (a = state), p1 memref in. `HASH_UPDATE`.
pub const CMD_HASH_UPDATE: u32 = 14;
/// p0 value in (a = state), p1 memref in (last chunk, may be empty or
/// none), p2 memref out. `HASH_FINAL`.
pub const CMD_HASH_FINAL: u32 = 15;
/// p0 value in (a = state), p1 memref in (IV) or none. `CIPHER_INIT`.
pub const CMD_CIPHER_INIT: u32 = 16;
/// p0 value in (a = state), p1 memref in, p2 memref out. `CIPHER_UPDATE`.
pub const CMD_CIPHER_UPDATE: u32 = 17;
/// As `CMD_CIPHER_UPDATE`. `CIPHER_FINAL`.
pub const CMD_CIPHER_FINAL: u32 = 18;
/// p0 value in (a = state, b = tag length in bytes), p1 memref in
/// (nonce), p2 value in (a = AAD length, b = payload length).
/// `AUTHENC_INIT`.
pub const CMD_AE_INIT: u32 = 19;
/// p0 value in (a = state), p1 memref in. `AUTHENC_UPDATE_AAD`.
pub const CMD_AE_UPDATE_AAD: u32 = 20;
/// p0 value in (a = state), p1 memref in, p2 memref out.
/// `AUTHENC_UPDATE_PAYLOAD`.
pub const CMD_AE_UPDATE_PAYLOAD: u32 = 21;
/// p0 value in (a = state), p1 memref in, p2 memref out, p3 memref out
/// (tag). `AUTHENC_ENC_FINAL`.
pub const CMD_AE_ENC_FINAL: u32 = 22;
/// p0 value in (a = state), p1 memref in, p2 memref out, p3 memref in
/// (tag). `AUTHENC_DEC_FINAL`.
pub const CMD_AE_DEC_FINAL: u32 = 23;
/// p0 value in (a = state), p1 memref in (attributes) or none, p2 memref
/// in, p3 memref out. `ASYMM_OPERATE`.
pub const CMD_ASYMM_OPERATE: u32 = 24;
/// p0 value in (a = state), p1 memref in (attributes) or none, p2 memref
/// in (data or digest), p3 memref in (signature). `ASYMM_VERIFY`.
pub const CMD_ASYMM_VERIFY: u32 = 25;
/// p0 value in (a = state, b = derived-key object), p1 memref in
/// (attributes) or none. `CRYP_DERIVE_KEY`.
pub const CMD_DERIVE_KEY: u32 = 26;
/// p0 memref out. `CRYP_RANDOM_NUMBER_GENERATE`.
pub const CMD_RANDOM: u32 = 27;
/// A whole operation in one call (see [`Tag`]): p0 value in (a =
/// algorithm, b = mode), p1 memref in (request), p2 memref out (main
/// output: digest, MAC, cipher text, plain text, signature, derived
/// secret; unused for a verification), p3 memref out (AE tag) or none.
/// Everything it allocates is freed before it returns; the result is the
/// first failing call's.
pub const CMD_ONESHOT: u32 = 28;
/// p0 value in (a = algorithm, b = mode), p1 memref in (request, as for
/// `CMD_ONESHOT`), p2 value in (a = iterations, b = one of `BENCH_*`),
/// p3 value out (a = iterations done). Sets up key and state once, then
/// repeats the timed part; the client times the call against one with 0
/// iterations.
pub const CMD_BENCH: u32 = 29;
/// p0 value in (a = what to hold before dying, `PANIC_HOLD_*` bits):
/// allocates objects and operation states, starts operations on them,
/// then panics. Its instance dies with everything it held.
pub const CMD_PANIC_AFTER_ALLOC: u32 = 30;

/// `CMD_BENCH` kinds: the timed part.
/// The operation from init to final on an allocated state (digest, MAC,
/// cipher, AE, asymmetric operate or verify, derive).
pub const BENCH_OPERATION: u32 = 0;
/// Key generation: reset then generate the key object (request: key type
/// and size).
pub const BENCH_KEYGEN: u32 = 1;

/// `CMD_PANIC_AFTER_ALLOC` bits.
pub const PANIC_HOLD_SYMMETRIC: u32 = 1 << 0;
pub const PANIC_HOLD_DIGEST: u32 = 1 << 1;
pub const PANIC_HOLD_RSA: u32 = 1 << 2;
pub const PANIC_HOLD_ALL: u32 = PANIC_HOLD_SYMMETRIC | PANIC_HOLD_DIGEST | PANIC_HOLD_RSA;

/// Tags of a one-shot request: a sequence of records `tag: u32, len: u32,
/// len bytes, zero padding to 4 bytes`, all little-endian. Numbers are
/// single u32s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Tag {
    /// Key 1's object type (u32); without it the operation takes no key.
    KeyType = 1,
    /// Key 1's maximum size in bits for the allocation (u32).
    KeySize = 2,
    /// Key 1's attributes (an attribute list).
    KeyAttrs = 3,
    /// Key 2 (XTS, SM2 key exchange), as key 1.
    Key2Type = 4,
    Key2Size = 5,
    Key2Attrs = 6,
    /// IV or nonce.
    Iv = 7,
    /// AE additional data.
    Aad = 8,
    /// AE tag length in bytes (u32).
    TagLen = 9,
    /// The data: message, plain or cipher text, digest to sign.
    Input = 10,
    /// Feed the input in update calls of this many bytes, the rest to the
    /// final call (u32; 0 or absent: everything to the final call).
    Chunk = 11,
    /// Attributes for the operation (asymmetric operate/verify, derive).
    OpAttrs = 12,
    /// The signature to verify, or the AE tag to check on decryption.
    Check = 13,
    /// Derivation: the derived object's type and maximum size in bits
    /// (u32 each); its `ATTR_SECRET_VALUE` is the output.
    DerivedType = 14,
    DerivedSize = 15,
    /// Key 1 is generated with this size in bits (u32) instead of
    /// populated (benchmarks of private-key operations on a fresh key).
    KeyGenerate = 16,
    /// Instead of `Input`, this many bytes (u32) the TA makes up: one
    /// `Chunk` of a pattern fed again and again (benchmarks of large
    /// inputs without large buffers).
    InputLen = 17,
    /// With `Chunk`: at least this many bytes (u32) go to the final call
    /// (default 1; AES-CTS needs the last two blocks there, 17 or more).
    Tail = 18,
}

impl Tag {
    pub const ALL: [Tag; 18] = [
        Tag::KeyType,
        Tag::KeySize,
        Tag::KeyAttrs,
        Tag::Key2Type,
        Tag::Key2Size,
        Tag::Key2Attrs,
        Tag::Iv,
        Tag::Aad,
        Tag::TagLen,
        Tag::Input,
        Tag::Chunk,
        Tag::OpAttrs,
        Tag::Check,
        Tag::DerivedType,
        Tag::DerivedSize,
        Tag::KeyGenerate,
        Tag::InputLen,
        Tag::Tail,
    ];

    pub fn from_raw(raw: u32) -> Option<Tag> {
        Self::ALL.into_iter().find(|t| *t as u32 == raw)
    }
}

/// One decoded record of a one-shot request or attribute list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub tag: u32,
    pub data: &'a [u8],
}

/// The records of `buf` (`tag, len, data, pad`), or `None` if the buffer
/// is malformed (a record running past the end).
pub fn records(buf: &[u8]) -> Option<RecordIter<'_>> {
    let mut it = RecordIter { rest: buf };
    while it.next_checked()?.is_some() {}
    Some(RecordIter { rest: buf })
}

/// Iterator over well-formed records (see [`records`]).
pub struct RecordIter<'a> {
    rest: &'a [u8],
}

impl<'a> RecordIter<'a> {
    fn next_checked(&mut self) -> Option<Option<Record<'a>>> {
        if self.rest.is_empty() {
            return Some(None);
        }
        let tag = u32::from_le_bytes(self.rest.get(0..4)?.try_into().ok()?);
        let len = u32::from_le_bytes(self.rest.get(4..8)?.try_into().ok()?) as usize;
        let end = 8usize.checked_add(len)?;
        let data = self.rest.get(8..end)?;
        let padded = end.checked_add(3)? & !3;
        self.rest = self.rest.get(padded..).unwrap_or(&[]);
        Some(Some(Record { tag, data }))
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Record<'a>;
    fn next(&mut self) -> Option<Record<'a>> {
        self.next_checked().flatten()
    }
}

/// Attribute lists use the same record format: the record tag is the
/// attribute id; a value attribute's data is 8 bytes (a, b as u32 LE), a
/// reference attribute's data is the buffer. Writes one record header
/// for `id` with `len` bytes of data into `out` (the caller appends the
/// data and the padding).
pub fn encode_attr_header(id: u32, len: u32) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[..4].copy_from_slice(&id.to_le_bytes());
    h[4..].copy_from_slice(&len.to_le_bytes());
    h
}

/// A value attribute's (a, b) from its record data.
pub fn value_attr(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() != 8 {
        return None;
    }
    Some((u32::from_le_bytes(data[..4].try_into().ok()?), u32::from_le_bytes(data[4..].try_into().ok()?)))
}

/// A u32 record's value.
pub fn u32_of(data: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(data.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn rec(out: &mut Vec<u8>, tag: u32, data: &[u8]) {
        out.extend_from_slice(&encode_attr_header(tag, data.len() as u32));
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    #[test]
    fn records_round_trip_with_padding() {
        let mut b = Vec::new();
        rec(&mut b, 7, b"abc");
        rec(&mut b, 9, &5u32.to_le_bytes());
        rec(&mut b, 3, b"");
        let got: Vec<_> = records(&b).unwrap().collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], Record { tag: 7, data: b"abc" });
        assert_eq!(u32_of(got[1].data), Some(5));
        assert_eq!(got[2].data, b"");
    }

    #[test]
    fn malformed_records_are_refused() {
        let mut b = Vec::new();
        rec(&mut b, 7, b"abcdef");
        assert!(records(&b[..10]).is_none());
        assert!(records(&[1, 0, 0]).is_none());
        let mut huge = encode_attr_header(1, u32::MAX).to_vec();
        huge.extend_from_slice(&[0; 8]);
        assert!(records(&huge).is_none());
        assert!(records(&[]).is_some_and(|mut r| r.next().is_none()));
    }

    #[test]
    fn tags_are_distinct() {
        for t in Tag::ALL {
            assert_eq!(Tag::from_raw(t as u32), Some(t));
        }
    }
}
