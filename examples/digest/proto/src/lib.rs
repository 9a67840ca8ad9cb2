//! What the digest TA and its clients agree on.
#![no_std]
#![forbid(unsafe_code)]

pub const UUID: &str = "44059d90-7858-49ad-a667-ba201179437f";

/// SHA-256 of the client's data:
/// - p0 memref in: the data (at most [`MAX_DATA`] bytes);
/// - p1 memref out: the digest, [`DIGEST_LEN`] bytes (a smaller buffer:
///   `TEE_ERROR_SHORT_BUFFER`, with the size needed);
/// - p2 value in: `a` = feed the data in pieces of this many bytes
///   (`TEE_DigestUpdate`), 0 = all at once (`TEE_DigestDoFinal` only).
pub const CMD_SHA256: u32 = 0;

pub const DIGEST_LEN: usize = 32;

/// The largest input the TA takes in one command.
pub const MAX_DATA: usize = 64 * 1024;

/// A known answer: SHA-256("abc") (FIPS 180-2, appendix B.1).
pub const ABC_SHA256: [u8; DIGEST_LEN] = [
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61,
    0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
];

/// The pieces `len` bytes are fed in with piece size `chunk` (0: one).
pub fn pieces(len: usize, chunk: usize) -> usize {
    if chunk == 0 || len == 0 { 1 } else { len.div_ceil(chunk) }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use sha2::Digest;
    use std::string::ToString;

    #[test]
    fn known_answer_is_sha256_of_abc() {
        assert_eq!(sha2::Sha256::digest(b"abc").as_slice(), &ABC_SHA256);
    }

    #[test]
    fn pieces_cover_the_data() {
        assert_eq!(pieces(0, 0), 1);
        assert_eq!(pieces(100, 0), 1);
        assert_eq!(pieces(100, 1), 100);
        assert_eq!(pieces(100, 64), 2);
        assert_eq!(pieces(128, 64), 2);
    }

    #[test]
    fn uuid_is_well_formed() {
        assert_eq!(oxtee_teec::Uuid::parse(UUID).map(|u| u.to_string()).as_deref(), Some(UUID));
    }
}
