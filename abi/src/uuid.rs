//! RFC 4122 UUIDs (GP `TEE_UUID`) and the three wire encodings OP-TEE uses:
//! big-endian octets, four SMC register words, and two message value words.

use core::fmt;

/// A UUID in GP `TEE_UUID` field form; fields hold host-order numbers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Uuid {
    /// First 8 hex digits.
    pub time_low: u32,
    /// Next 4 hex digits.
    pub time_mid: u16,
    /// Next 4 hex digits (includes the version nibble).
    pub time_hi_and_version: u16,
    /// Remaining 16 hex digits, in textual order.
    pub clock_seq_and_node: [u8; 8],
}

/// UID of the OP-TEE SMC API (CALLS_UID).
pub const API_UID_UUID: Uuid = Uuid::new(0x384f_b3e0, 0xe7f8, 0x11e3, [0xaf, 0x63, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b]);

/// UUID identifying OP-TEE as the trusted OS (GET_OS_UUID).
pub const OS_UUID: Uuid = Uuid::new(0x4861_78e0, 0xe7f8, 0x11e3, [0xbc, 0x5e, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b]);

/// Device-enumeration pseudo-TA, queried by the Linux driver at probe time.
pub const PTA_DEVICE_ENUM: Uuid =
    Uuid::new(0x7011_a688, 0xddde, 0x4053, [0xa5, 0xa9, 0x7b, 0x3c, 0x4d, 0xdf, 0x13, 0xb8]);

impl Uuid {
    /// The all-zero UUID, e.g. the client identity of a public login.
    pub const NIL: Self = Self::new(0, 0, 0, [0; 8]);

    /// Builds a UUID from its fields.
    pub const fn new(time_low: u32, time_mid: u16, time_hi_and_version: u16, clock_seq_and_node: [u8; 8]) -> Self {
        Self { time_low, time_mid, time_hi_and_version, clock_seq_and_node }
    }

    /// RFC 4122 byte order: every field big-endian, in textual order.
    pub const fn to_octets(&self) -> [u8; 16] {
        let tl = self.time_low.to_be_bytes();
        let tm = self.time_mid.to_be_bytes();
        let th = self.time_hi_and_version.to_be_bytes();
        let n = self.clock_seq_and_node;
        [tl[0], tl[1], tl[2], tl[3], tm[0], tm[1], th[0], th[1], n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
    }

    /// Inverse of [`Uuid::to_octets`].
    pub const fn from_octets(o: [u8; 16]) -> Self {
        Self {
            time_low: u32::from_be_bytes([o[0], o[1], o[2], o[3]]),
            time_mid: u16::from_be_bytes([o[4], o[5]]),
            time_hi_and_version: u16::from_be_bytes([o[6], o[7]]),
            clock_seq_and_node: [o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15]],
        }
    }

    /// The a0..a3 form of CALLS_UID / GET_OS_UUID: the octets read as four
    /// big-endian words, so the text reads left to right across registers.
    pub const fn to_smc_words(&self) -> [u32; 4] {
        let o = self.to_octets();
        [
            u32::from_be_bytes([o[0], o[1], o[2], o[3]]),
            u32::from_be_bytes([o[4], o[5], o[6], o[7]]),
            u32::from_be_bytes([o[8], o[9], o[10], o[11]]),
            u32::from_be_bytes([o[12], o[13], o[14], o[15]]),
        ]
    }

    /// Inverse of [`Uuid::to_smc_words`].
    pub const fn from_smc_words(w: [u32; 4]) -> Self {
        let (a, b, c, d) = (w[0].to_be_bytes(), w[1].to_be_bytes(), w[2].to_be_bytes(), w[3].to_be_bytes());
        Self::from_octets([
            a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], c[0], c[1], c[2], c[3], d[0], d[1], d[2], d[3],
        ])
    }

    /// The (value.a, value.b) form of OPEN_SESSION meta params: the octets
    /// laid in memory over two u64s, which on little-endian Arm means two
    /// little-endian reads. Fixed to LE so it is host-independent.
    pub const fn to_msg_value(&self) -> (u64, u64) {
        let o = self.to_octets();
        (
            u64::from_le_bytes([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]]),
            u64::from_le_bytes([o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15]]),
        )
    }

    /// Inverse of [`Uuid::to_msg_value`].
    pub const fn from_msg_value(a: u64, b: u64) -> Self {
        let (x, y) = (a.to_le_bytes(), b.to_le_bytes());
        Self::from_octets([
            x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7],
        ])
    }

    /// Parses the canonical `8-4-4-4-12` hex form (either case); anything
    /// else, including braces or a `urn:uuid:` prefix, is rejected.
    pub fn parse(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.len() != 36 {
            return None;
        }
        let mut octets = [0u8; 16];
        let mut out = 0;
        let mut i = 0;
        while i < bytes.len() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if bytes[i] != b'-' {
                    return None;
                }
                i += 1;
                continue;
            }
            let hi = hex_val(bytes[i])?;
            let lo = hex_val(bytes[i + 1])?;
            octets[out] = hi << 4 | lo;
            out += 1;
            i += 2;
        }
        Some(Self::from_octets(octets))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.clock_seq_and_node;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-",
            self.time_low, self.time_mid, self.time_hi_and_version, n[0], n[1]
        )?;
        n[2..].iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optee_smc;
    use std::string::ToString;

    const SAMPLE: Uuid = Uuid::new(0x0123_4567, 0x89ab, 0xcdef, [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);

    #[test]
    fn well_known_smc_words() {
        assert_eq!(API_UID_UUID.to_smc_words(), optee_smc::API_UID);
        assert_eq!(OS_UUID.to_smc_words(), optee_smc::OS_OPTEE_UUID);
        assert_eq!(Uuid::from_smc_words(optee_smc::API_UID), API_UID_UUID);
        assert_eq!(Uuid::from_smc_words(optee_smc::OS_OPTEE_UUID), OS_UUID);
    }

    #[test]
    fn text_forms() {
        assert_eq!(API_UID_UUID.to_string(), "384fb3e0-e7f8-11e3-af63-0002a5d5c51b");
        assert_eq!(OS_UUID.to_string(), "486178e0-e7f8-11e3-bc5e-0002a5d5c51b");
        assert_eq!(PTA_DEVICE_ENUM.to_string(), "7011a688-ddde-4053-a5a9-7b3c4ddf13b8");
        assert_eq!(Uuid::NIL.to_string(), "00000000-0000-0000-0000-000000000000");
        for u in [API_UID_UUID, OS_UUID, PTA_DEVICE_ENUM, SAMPLE, Uuid::NIL] {
            assert_eq!(Uuid::parse(&u.to_string()), Some(u));
        }
        assert_eq!(Uuid::parse("7011A688-DDDE-4053-A5A9-7B3C4DDF13B8"), Some(PTA_DEVICE_ENUM));
    }

    #[test]
    fn parse_rejects_malformed() {
        let bad = [
            "",
            "7011a688-ddde-4053-a5a9-7b3c4ddf13b",
            "7011a688-ddde-4053-a5a9-7b3c4ddf13b80",
            "7011a688dddde-4053-a5a9-7b3c4ddf13b8",
            "7011a688-ddde-4053-a5a9+7b3c4ddf13b8",
            "7011a688-ddde-4053-a5a9-7b3c4ddf13bg",
            "{011a688-ddde-4053-a5a9-7b3c4ddf13b8",
            "7011a68-8ddde-4053-a5a9-7b3c4ddf13b8",
            "7011a688-ddde-4053-a5a9-7b3c4ddf13\u{e9}",
        ];
        for s in bad {
            assert_eq!(Uuid::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn octets_are_big_endian() {
        assert_eq!(
            SAMPLE.to_octets(),
            [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
        assert_eq!(Uuid::from_octets(SAMPLE.to_octets()), SAMPLE);
    }

    #[test]
    fn msg_value_is_two_le_words() {
        let (a, b) = API_UID_UUID.to_msg_value();
        assert_eq!(a, 0xe311_f8e7_e0b3_4f38);
        assert_eq!(b, 0x1bc5_d5a5_0200_63af);
        assert_eq!(Uuid::from_msg_value(a, b), API_UID_UUID);
        let (a, b) = SAMPLE.to_msg_value();
        assert_eq!((a, b), (0xefcd_ab89_6745_2301, 0xefcd_ab89_6745_2301));
        assert_eq!(Uuid::from_msg_value(a, b), SAMPLE);
    }

    #[test]
    fn round_trips() {
        for u in [API_UID_UUID, OS_UUID, PTA_DEVICE_ENUM, SAMPLE, Uuid::NIL] {
            assert_eq!(Uuid::from_octets(u.to_octets()), u);
            assert_eq!(Uuid::from_smc_words(u.to_smc_words()), u);
            let (a, b) = u.to_msg_value();
            assert_eq!(Uuid::from_msg_value(a, b), u);
        }
    }
}
