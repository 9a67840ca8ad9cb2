//! The ta2ta example's contract: the host program calls the caller TA,
//! which calls the callee TA in a TA-to-TA session, handing on the
//! client's buffer. Both UUIDs, both command sets, and the callee's
//! transform (ROT13) live here.
#![no_std]
#![forbid(unsafe_code)]

/// The caller TA's UUID (the one the host program opens).
pub const UUID: &str = "538ab114-f7f1-4fd3-9d85-253e9cc24094";
/// The callee TA's UUID.
pub const CALLEE_UUID: &str = "d0d225e0-801e-47ba-b3ce-54e1267416c1";
/// A UUID no TA has (the caller's `CMD_OPEN_MISSING` tries it).
pub const MISSING_UUID: &str = "d0d225e0-801e-47ba-b3ce-54e1267416c2";

/// Caller, p0 memref inout: data (up to [`MAX_DATA`] bytes), handed on to
/// the callee's [`CALLEE_CMD_ROT13`] in the caller's session to the
/// callee (opened at the first call); p1 value output: the callee's
/// answer (`a` = letters changed, `b` = calls in that callee session).
pub const CMD_ROT13_VIA_CALLEE: u32 = 0;
/// Caller, p0 value output: `a` = the error code and `b` = its origin
/// that opening a session to [`MISSING_UUID`] gave.
pub const CMD_OPEN_MISSING: u32 = 1;

/// Callee, p0 memref inout: [`rot13`] in place; p1 value output: `a` =
/// letters changed, `b` = calls in this session so far. The callee only
/// opens sessions for the caller TA (else `AccessDenied`).
pub const CALLEE_CMD_ROT13: u32 = 0;

/// Largest buffer the caller hands on.
pub const MAX_DATA: usize = 16 * 1024;

/// GP `TEE_LOGIN_TRUSTED_APP`: the login of a TA's client that is a TA.
pub const LOGIN_TRUSTED_APP: u32 = 0xf000_0000;

/// ROT13 of the ASCII letters in `data`, in place; returns how many
/// bytes changed (every letter; nothing else is touched).
pub fn rot13(data: &mut [u8]) -> u32 {
    let mut n = 0;
    for b in data.iter_mut() {
        let base = match *b {
            b'a'..=b'z' => b'a',
            b'A'..=b'Z' => b'A',
            _ => continue,
        };
        *b = base + (*b - base + 13) % 26;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_texts_and_values_agree() {
        extern crate std;
        use std::string::ToString;
        for text in [UUID, CALLEE_UUID, MISSING_UUID] {
            let u = oxtee_teec::Uuid::parse(text).expect("a well-formed UUID");
            assert_eq!(u.to_string(), text);
        }
        assert_ne!(MISSING_UUID, CALLEE_UUID);
        assert_ne!(MISSING_UUID, UUID);
    }

    #[test]
    fn rot13_changes_letters_only() {
        let mut s = *b"Hello, World! az AZ 09";
        assert_eq!(rot13(&mut s), 14);
        assert_eq!(&s, b"Uryyb, Jbeyq! nm NM 09");
        assert_eq!(rot13(&mut s), 14);
        assert_eq!(&s, b"Hello, World! az AZ 09", "ROT13 is its own inverse");
        let mut bin = [0u8, 0x80, 0xff, b'@', b'[', b'`', b'{'];
        assert_eq!(rot13(&mut bin), 0);
        assert_eq!(bin, [0u8, 0x80, 0xff, b'@', b'[', b'`', b'{']);
    }
}
