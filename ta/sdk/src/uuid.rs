//! UUIDs as TAs use them: parsed from text, compared, and laid out as the
//! `TEE_UUID` the kernel reads (native-endian fields).

use crate::error::{Error, ErrorKind, Result};
use core::fmt;
use core::str::FromStr;
use oxtee_abi::ta::TeeUuid;

/// A UUID (GP `TEE_UUID`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Uuid(oxtee_abi::Uuid);

impl Uuid {
    /// From its fields (`time_low-time_mid-time_hi_and_version-clock_seq_and_node`).
    pub const fn new(time_low: u32, time_mid: u16, time_hi_and_version: u16, clock_seq_and_node: [u8; 8]) -> Uuid {
        Uuid(oxtee_abi::Uuid::new(time_low, time_mid, time_hi_and_version, clock_seq_and_node))
    }

    /// From the wire crate's UUID.
    pub const fn from_abi(u: oxtee_abi::Uuid) -> Uuid {
        Uuid(u)
    }

    pub const fn as_abi(&self) -> oxtee_abi::Uuid {
        self.0
    }

    /// Parses `8-4-4-4-12` hex (either case); `BadFormat` otherwise.
    pub fn parse_str(s: &str) -> Result<Uuid> {
        oxtee_abi::Uuid::parse(s).map(Uuid).ok_or(Error::new(ErrorKind::BadFormat))
    }

    /// Parses `8-4-4-4-12` hex (either case) at compile time: for a UUID
    /// kept as text in a crate both sides share,
    /// `const UUID: Uuid = Uuid::parse_const(proto::UUID);` (a malformed
    /// text stops the build). At run time it panics on a malformed text;
    /// use [`Uuid::parse_str`] for text from elsewhere.
    pub const fn parse_const(s: &str) -> Uuid {
        match parse_octets(s.as_bytes()) {
            Some(o) => Uuid::from_octets(o),
            None => panic!("not a UUID (8-4-4-4-12 hex digits)"),
        }
    }

    /// From the 16 RFC 4122 octets (big-endian fields).
    pub const fn from_octets(o: [u8; 16]) -> Uuid {
        Uuid(oxtee_abi::Uuid::from_octets(o))
    }

    pub const fn to_octets(&self) -> [u8; 16] {
        self.0.to_octets()
    }

    /// The `TEE_UUID` in TA memory layout.
    pub const fn to_tee_uuid(&self) -> TeeUuid {
        TeeUuid {
            time_low: self.0.time_low,
            time_mid: self.0.time_mid,
            time_hi_and_version: self.0.time_hi_and_version,
            clock_seq_and_node: self.0.clock_seq_and_node,
        }
    }

    pub const fn from_tee_uuid(u: &TeeUuid) -> Uuid {
        Uuid::new(u.time_low, u.time_mid, u.time_hi_and_version, u.clock_seq_and_node)
    }
}

/// The value of a hex digit.
const fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The 16 octets of a canonical `8-4-4-4-12` text (const: `?` is not).
const fn parse_octets(b: &[u8]) -> Option<[u8; 16]> {
    if b.len() != 36 {
        return None;
    }
    let mut octets = [0u8; 16];
    let (mut i, mut out) = (0, 0);
    while i < b.len() {
        if i == 8 || i == 13 || i == 18 || i == 23 {
            if b[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        match (hex_digit(b[i]), hex_digit(b[i + 1])) {
            (Some(hi), Some(lo)) => octets[out] = hi << 4 | lo,
            _ => return None,
        }
        out += 1;
        i += 2;
    }
    Some(octets)
}

/// What `ta_config!`'s `uuid:` accepts besides a literal: a const
/// [`Uuid`] or a `&'static str` const (parsed at compile time).
#[doc(hidden)]
pub struct UuidSource<T>(pub T);

impl UuidSource<Uuid> {
    pub const fn uuid(self) -> Uuid {
        self.0
    }
}

impl UuidSource<&'static str> {
    pub const fn uuid(self) -> Uuid {
        Uuid::parse_const(self.0)
    }
}

impl From<oxtee_abi::Uuid> for Uuid {
    fn from(u: oxtee_abi::Uuid) -> Uuid {
        Uuid(u)
    }
}

impl From<Uuid> for oxtee_abi::Uuid {
    fn from(u: Uuid) -> oxtee_abi::Uuid {
        u.0
    }
}

impl FromStr for Uuid {
    type Err = Error;

    fn from_str(s: &str) -> Result<Uuid> {
        Uuid::parse_str(s)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
