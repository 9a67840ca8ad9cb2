//! The signature example's contract between the TA and its host program:
//! the TA's UUID, its commands, the algorithms, and how a public key
//! travels to the host (encoders for the TA, decoders for the host).
#![no_std]
#![forbid(unsafe_code)]

/// The TA's UUID.
pub const UUID: &str = "6c9cd0d9-b2a9-4a77-9061-43897aca0421";

/// p0 value input: `a` = [`Alg`]. Generates the session's key pair for
/// that algorithm (replacing an earlier one).
pub const CMD_GENERATE_KEY: u32 = 0;
/// p0 value input: `a` = [`Alg`]; p1 memref output: the public key
/// ([`encode_ec_public`] / [`encode_rsa_public`]). `ShortBuffer` with the
/// size needed if p1 is too small; `BadState` without a key.
pub const CMD_GET_PUBLIC_KEY: u32 = 1;
/// p0 value input: `a` = [`Alg`]; p1 memref input: the message; p2 memref
/// output: the signature over SHA-256(message) (ECDSA: `r || s`, 64
/// bytes; RSA: PKCS #1 v1.5, the modulus' size). `ShortBuffer` with the
/// size needed if p2 is too small; `BadState` without a key.
pub const CMD_SIGN: u32 = 2;
/// p0 value input: `a` = [`Alg`]; p1 memref input: the message; p2 memref
/// input: the signature. Success, or `SignatureInvalid`.
pub const CMD_VERIFY: u32 = 3;

/// p0 memref input: an RSA-2048 key pair from the client, its eight
/// components ([`RsaKeyField`] order) as [`encode_fields`] lays them out.
/// Replaces the session's RSA key. `BadParameters` if it does not parse
/// or is not a 2048-bit key.
pub const CMD_IMPORT_RSA_KEY: u32 = 4;

/// Longest message the TA takes (bytes).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The signature algorithms (p0 value `a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Alg {
    /// ECDSA on NIST P-256 with SHA-256.
    EcdsaP256Sha256 = 0,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit key.
    RsaPkcs1Sha256 = 1,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::EcdsaP256Sha256, Alg::RsaPkcs1Sha256];

    pub fn from_u32(v: u32) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| *a as u32 == v)
    }

    /// Key size in bits.
    pub const fn key_bits(self) -> usize {
        match self {
            Alg::EcdsaP256Sha256 => 256,
            Alg::RsaPkcs1Sha256 => RSA_BITS,
        }
    }

    /// Signature size in bytes.
    pub const fn signature_len(self) -> usize {
        match self {
            Alg::EcdsaP256Sha256 => 64,
            Alg::RsaPkcs1Sha256 => RSA_BITS / 8,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Alg::EcdsaP256Sha256 => "ECDSA P-256 SHA-256",
            Alg::RsaPkcs1Sha256 => "RSA-2048 PKCS#1 v1.5 SHA-256",
        }
    }
}

/// The RSA modulus' size.
pub const RSA_BITS: usize = 2048;
/// Size of an encoded P-256 public key (SEC1 uncompressed point).
pub const EC_PUBLIC_LEN: usize = 65;
/// Largest encoded RSA public key: modulus length (2 bytes), modulus,
/// exponent (up to 8 bytes).
pub const RSA_PUBLIC_MAX: usize = 2 + RSA_BITS / 8 + 8;

/// P-256 public key `(x, y)` as a SEC1 uncompressed point
/// (`04 || X || Y`, coordinates left-padded to 32 bytes), the form
/// RustCrypto's `p256::ecdsa::VerifyingKey::from_sec1_bytes` reads.
/// `None` if a coordinate is longer than 32 bytes or `out` is shorter
/// than [`EC_PUBLIC_LEN`].
pub fn encode_ec_public(x: &[u8], y: &[u8], out: &mut [u8]) -> Option<usize> {
    if x.len() > 32 || y.len() > 32 || out.len() < EC_PUBLIC_LEN {
        return None;
    }
    out[..EC_PUBLIC_LEN].fill(0);
    out[0] = 0x04;
    out[1 + 32 - x.len()..33].copy_from_slice(x);
    out[33 + 32 - y.len()..65].copy_from_slice(y);
    Some(EC_PUBLIC_LEN)
}

/// RSA public key: modulus length (big-endian u16), modulus, public
/// exponent (the rest), all big-endian. `None` if it does not fit `out`.
pub fn encode_rsa_public(n: &[u8], e: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = 2 + n.len() + e.len();
    if n.is_empty() || e.is_empty() || n.len() > u16::MAX as usize || out.len() < len {
        return None;
    }
    out[..2].copy_from_slice(&(n.len() as u16).to_be_bytes());
    out[2..2 + n.len()].copy_from_slice(n);
    out[2 + n.len()..len].copy_from_slice(e);
    Some(len)
}

/// Inverse of [`encode_rsa_public`]: `(modulus, exponent)`.
pub fn decode_rsa_public(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let n_len = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
    let rest = &b[2..];
    if n_len == 0 || rest.len() <= n_len {
        return None;
    }
    Some(rest.split_at(n_len))
}

/// The components of an RSA key pair, in the order
/// [`CMD_IMPORT_RSA_KEY`] carries them (PKCS #1's `RSAPrivateKey` order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaKeyField {
    Modulus,
    PublicExponent,
    PrivateExponent,
    Prime1,
    Prime2,
    Exponent1,
    Exponent2,
    Coefficient,
}

impl RsaKeyField {
    pub const ALL: [RsaKeyField; 8] = [
        RsaKeyField::Modulus,
        RsaKeyField::PublicExponent,
        RsaKeyField::PrivateExponent,
        RsaKeyField::Prime1,
        RsaKeyField::Prime2,
        RsaKeyField::Exponent1,
        RsaKeyField::Exponent2,
        RsaKeyField::Coefficient,
    ];
}

/// Largest encoded RSA key pair [`CMD_IMPORT_RSA_KEY`] takes.
pub const RSA_KEYPAIR_MAX: usize = 8 * 2 + 4 * (RSA_BITS / 8) + 8;

/// Big-endian numbers one after the other, each after its length (a
/// big-endian u16). `None` if they do not fit `out`.
pub fn encode_fields(fields: &[&[u8]], out: &mut [u8]) -> Option<usize> {
    let mut used = 0usize;
    for f in fields {
        let len = u16::try_from(f.len()).ok()?;
        let end = used.checked_add(2 + f.len())?;
        let dst = out.get_mut(used..end)?;
        dst[..2].copy_from_slice(&len.to_be_bytes());
        dst[2..].copy_from_slice(f);
        used = end;
    }
    Some(used)
}

/// Inverse of [`encode_fields`] for exactly `N` fields, each non-empty,
/// and nothing after them.
pub fn decode_fields<const N: usize>(mut b: &[u8]) -> Option<[&[u8]; N]> {
    let mut out: [&[u8]; N] = [&[]; N];
    for f in out.iter_mut() {
        let len = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
        if len == 0 || b.len() < 2 + len {
            return None;
        }
        *f = &b[2..2 + len];
        b = &b[2 + len..];
    }
    b.is_empty().then_some(out)
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

    #[test]
    fn algorithms_round_trip_through_u32() {
        for a in Alg::ALL {
            assert_eq!(Alg::from_u32(a as u32), Some(a));
        }
        assert_eq!(Alg::from_u32(2), None);
    }

    #[test]
    fn ec_point_pads_short_coordinates() {
        let mut out = [0xaau8; 70];
        assert_eq!(encode_ec_public(&[1; 32], &[2; 31], &mut out), Some(65));
        assert_eq!(out[0], 4);
        assert_eq!(&out[1..33], &[1; 32]);
        assert_eq!(out[33], 0);
        assert_eq!(&out[34..65], &[2; 31]);
        assert_eq!(out[65], 0xaa, "nothing written past the point");
        assert_eq!(encode_ec_public(&[1; 33], &[2; 32], &mut out), None);
        assert_eq!(encode_ec_public(&[1; 32], &[2; 32], &mut out[..64]), None);
    }

    #[test]
    fn rsa_key_round_trips() {
        let n = [0xc5u8; 256];
        let e = [0x01, 0x00, 0x01];
        let mut out = [0u8; RSA_PUBLIC_MAX];
        let len = encode_rsa_public(&n, &e, &mut out).unwrap();
        assert_eq!(len, 2 + 256 + 3);
        assert_eq!(&out[..2], &[0x01, 0x00]);
        assert_eq!(decode_rsa_public(&out[..len]), Some((&n[..], &e[..])));
        assert_eq!(encode_rsa_public(&n, &e, &mut out[..len - 1]), None);
    }

    #[test]
    fn key_fields_round_trip() {
        let (a, b, c) = ([1u8; 256], [3u8; 3], [7u8; 128]);
        let mut out = [0u8; 2 * 3 + 256 + 3 + 128];
        let n = encode_fields(&[&a, &b, &c], &mut out).unwrap();
        assert_eq!(n, out.len());
        assert_eq!(decode_fields::<3>(&out), Some([&a[..], &b[..], &c[..]]));
        assert_eq!(decode_fields::<2>(&out), None, "bytes left over");
        assert_eq!(decode_fields::<4>(&out), None, "a field missing");
        assert_eq!(decode_fields::<3>(&out[..n - 1]), None, "truncated");
        assert_eq!(encode_fields(&[&a, &b, &c], &mut out[..n - 1]), None);
        assert_eq!(decode_fields::<1>(&[0, 0]), None, "an empty field");
        assert!(RSA_KEYPAIR_MAX >= 8 * 2 + 2 * 256 + 3 + 4 * 128);
    }

    #[test]
    fn rsa_decoder_refuses_truncated_input() {
        assert_eq!(decode_rsa_public(&[]), None);
        assert_eq!(decode_rsa_public(&[0]), None);
        assert_eq!(decode_rsa_public(&[0, 2, 1, 2]), None, "no exponent");
        assert_eq!(decode_rsa_public(&[0, 0, 1]), None, "empty modulus");
        assert_eq!(decode_rsa_public(&[0, 1, 7, 3]), Some((&[7u8][..], &[3u8][..])));
    }
}
