//! What the aes TA and its clients agree on: the commands, how a mode
//! and direction travel in a value parameter, and known answers.
#![no_std]
#![forbid(unsafe_code)]

pub const UUID: &str = "7945bec2-066a-47df-a5c8-66f0fb136d81";

/// p0 memref in: the AES key (16, 24 or 32 bytes), kept for the session.
pub const CMD_SET_KEY: u32 = 0;
/// Encrypts or decrypts with the session's key:
/// - p0 value in: `a` = [`Mode`], `b` = [`Direction`];
/// - p1 memref in: the IV (CBC) or initial counter block (CTR), 16 bytes;
/// - p2 memref in: the input (CBC: whole blocks), at most [`MAX_DATA`];
/// - p3 memref out: the output, as long as the input (shorter:
///   `TEE_ERROR_SHORT_BUFFER` with the size needed).
///
/// Without a key: `TEE_ERROR_BAD_STATE`.
pub const CMD_CIPHER: u32 = 1;

pub const BLOCK: usize = 16;
pub const MAX_DATA: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// CBC without padding (`TEE_ALG_AES_CBC_NOPAD`).
    Cbc = 0,
    /// Counter mode, 128-bit big-endian counter (`TEE_ALG_AES_CTR`).
    Ctr = 1,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Encrypt = 0,
    Decrypt = 1,
}

impl Mode {
    pub const fn from_u32(v: u32) -> Option<Mode> {
        match v {
            0 => Some(Mode::Cbc),
            1 => Some(Mode::Ctr),
            _ => None,
        }
    }

    /// Whether the mode takes `len` bytes of input.
    pub const fn takes(self, len: usize) -> bool {
        len <= MAX_DATA && (matches!(self, Mode::Ctr) || len.is_multiple_of(BLOCK))
    }
}

impl Direction {
    pub const fn from_u32(v: u32) -> Option<Direction> {
        match v {
            0 => Some(Direction::Encrypt),
            1 => Some(Direction::Decrypt),
            _ => None,
        }
    }
}

/// Whether `len` bytes make an AES key.
pub const fn is_key_len(len: usize) -> bool {
    matches!(len, 16 | 24 | 32)
}

/// NIST SP 800-38A's AES-128 key (appendix F).
pub const KAT_KEY: [u8; 16] = hex16("2b7e151628aed2a6abf7158809cf4f3c");
/// F.2.1's IV (CBC-AES128).
pub const KAT_CBC_IV: [u8; 16] = hex16("000102030405060708090a0b0c0d0e0f");
/// F.5.1's initial counter block (CTR-AES128).
pub const KAT_CTR_IV: [u8; 16] = hex16("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
/// The four plaintext blocks of F.2.1 and F.5.1.
pub const KAT_PLAIN: [[u8; 16]; 4] = [
    hex16("6bc1bee22e409f96e93d7e117393172a"),
    hex16("ae2d8a571e03ac9c9eb76fac45af8e51"),
    hex16("30c81c46a35ce411e5fbc1191a0a52ef"),
    hex16("f69f2445df4f9b17ad2b417be66c3710"),
];
/// F.2.1's ciphertext.
pub const KAT_CBC_CIPHER: [[u8; 16]; 4] = [
    hex16("7649abac8119b246cee98e9b12e9197d"),
    hex16("5086cb9b507219ee95db113a917678b2"),
    hex16("73bed6b8e3c1743b7116e69e22229516"),
    hex16("3ff1caa1681fac09120eca307586e1a7"),
];
/// F.5.1's ciphertext.
pub const KAT_CTR_CIPHER: [[u8; 16]; 4] = [
    hex16("874d6191b620e3261bef6864990db6ce"),
    hex16("9806f66b7970fdff8617187bb9fffdff"),
    hex16("5ae4df3edbd5d35e5b4f09020db03eab"),
    hex16("1e031dda2fbe03d1792170a0f3009cee"),
];

/// 32 hex digits as 16 bytes, at compile time.
const fn hex16(s: &str) -> [u8; 16] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lower-case hex digit"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 32);
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = digit(b[2 * i]) << 4 | digit(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use aes::cipher::{BlockModeEncrypt, KeyIvInit, StreamCipher, block_padding::NoPadding};
    use std::string::ToString;

    fn flat(blocks: &[[u8; 16]; 4]) -> [u8; 64] {
        let mut out = [0u8; 64];
        for (i, b) in blocks.iter().enumerate() {
            out[16 * i..16 * i + 16].copy_from_slice(b);
        }
        out
    }

    #[test]
    fn known_answers_agree_with_rustcrypto() {
        let plain = flat(&KAT_PLAIN);
        let mut buf = plain;
        let enc = cbc::Encryptor::<aes::Aes128>::new(&KAT_KEY.into(), &KAT_CBC_IV.into());
        let ct = enc.encrypt_padded::<NoPadding>(&mut buf, 64).unwrap();
        assert_eq!(ct, &flat(&KAT_CBC_CIPHER)[..]);
        let mut buf = plain;
        let mut ctr = ctr::Ctr128BE::<aes::Aes128>::new(&KAT_KEY.into(), &KAT_CTR_IV.into());
        ctr.apply_keystream(&mut buf);
        assert_eq!(buf, flat(&KAT_CTR_CIPHER));
    }

    #[test]
    fn modes_and_directions_travel_as_numbers() {
        for m in [Mode::Cbc, Mode::Ctr] {
            assert_eq!(Mode::from_u32(m as u32), Some(m));
        }
        for d in [Direction::Encrypt, Direction::Decrypt] {
            assert_eq!(Direction::from_u32(d as u32), Some(d));
        }
        assert_eq!(Mode::from_u32(2), None);
        assert_eq!(Direction::from_u32(2), None);
    }

    #[test]
    fn lengths() {
        assert!(Mode::Cbc.takes(0) && Mode::Cbc.takes(32) && !Mode::Cbc.takes(17));
        assert!(Mode::Ctr.takes(17) && !Mode::Ctr.takes(MAX_DATA + 1));
        assert!(is_key_len(16) && is_key_len(24) && is_key_len(32) && !is_key_len(20));
    }

    #[test]
    fn uuid_is_well_formed() {
        assert_eq!(oxtee_teec::Uuid::parse(UUID).map(|u| u.to_string()).as_deref(), Some(UUID));
    }
}
