//! The hotp example's contract between the TA and its host program: the
//! TA's UUID and commands (those of optee_examples' `hotp`), and RFC 4226's
//! dynamic truncation, which the TA applies to its HMAC-SHA-1.
#![no_std]
#![forbid(unsafe_code)]

/// The TA's UUID.
pub const UUID: &str = "5001b8ec-4fbe-4b94-9d17-552eacc87fe3";

/// p0 memref input: the shared secret K ([`MIN_KEY_SIZE`]..=[`MAX_KEY_SIZE`]
/// bytes, else `BadParameters`).
/// Resets the session's counter to 0.
pub const CMD_REGISTER_SHARED_KEY: u32 = 0;
/// p0 value output: `a` = HOTP(K, C) with [`DIGITS`] digits for the
/// session's counter C, then C is incremented. `BadState` before a key
/// is registered.
pub const CMD_GET_HOTP: u32 = 1;

/// Shortest secret the TA takes (bytes): GP's HMAC-SHA-1 keys are 80 to 512 bits.
pub const MIN_KEY_SIZE: usize = 10;
/// Longest secret the TA takes (bytes).
pub const MAX_KEY_SIZE: usize = 64;
/// Digits of each HOTP value (RFC 4226's minimum, and its test vectors').
pub const DIGITS: u32 = 6;

/// RFC 4226 section 5.3: the 31-bit number at the offset the last
/// nibble of the HMAC-SHA-1 value names, reduced to `digits` decimal
/// digits (1..=9).
pub fn truncate(hmac: &[u8; 20], digits: u32) -> u32 {
    let offset = (hmac[19] & 0xf) as usize;
    let bin = u32::from_be_bytes([hmac[offset], hmac[offset + 1], hmac[offset + 2], hmac[offset + 3]]) & 0x7fff_ffff;
    bin % 10u32.pow(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_well_formed() {
        extern crate std;
        use std::string::ToString;
        let u = oxtee_teec::Uuid::parse(UUID).expect("a well-formed UUID");
        assert_eq!(u.to_string(), UUID);
    }

    /// RFC 4226 section 5.4's worked example.
    #[test]
    fn truncation_of_the_rfc_example() {
        let h = [
            0x1f, 0x86, 0x98, 0x69, 0x0e, 0x02, 0xca, 0x16, 0x61, 0x85, 0x50, 0xef, 0x7f, 0x19, 0xda, 0x8e, 0x94, 0x5b,
            0x55, 0x5a,
        ];
        assert_eq!(truncate(&h, 6), 872921);
        assert_eq!(truncate(&h, 9), 0x50ef7f19 % 1_000_000_000);
    }

    /// The top bit is masked off and the offset may be the last legal one (15).
    #[test]
    fn truncation_masks_the_sign_bit_at_the_last_offset() {
        let mut h = [0u8; 20];
        h[19] = 0x0f;
        h[15..19].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(truncate(&h, 9), 0x7fff_ffff % 1_000_000_000);
        assert_eq!(truncate(&h, 6), 0x7fff_ffff % 1_000_000);
    }
}
