//! `oxtee_utee::bigint` on the host: known answers, mbedtls/libutee
//! conventions (truncating division, non-negative residues, magnitude bit
//! functions), GP's overflow and misuse behaviour, and randomized
//! cross-checks against native 128-bit arithmetic.

use oxtee_utee_host_test::ErrorKind;
use oxtee_utee_host_test::bigint::{BigInt, BigIntFMM, BigIntFMMContext};

fn big(v: i128) -> BigInt {
    let mut b = BigInt::new(160);
    let bytes = v.unsigned_abs().to_be_bytes();
    b.convert_from_octet_string(&bytes, if v < 0 { -1 } else { 1 }).unwrap();
    b
}

fn hex(s: &str) -> BigInt {
    let bytes: Vec<u8> = (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
    let mut b = BigInt::new(bytes.len() as u32 * 8);
    b.convert_from_octet_string(&bytes, 1).unwrap();
    b
}

/// Value of a small BigInt as i128 (via the octet string and sign).
fn val(b: &BigInt) -> i128 {
    let bytes = b.convert_to_octet_string().unwrap();
    assert!(bytes.len() <= 16, "{b} too large for the check");
    let m = bytes.iter().fold(0u128, |acc, x| (acc << 8) | *x as u128) as i128;
    if b.compare_s32(0) < 0 { -m } else { m }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A signed value of up to 60 bits, so products fit in i128.
    fn small(&mut self) -> i128 {
        let bits = self.next() % 61;
        let v = (self.next() >> (64 - bits.max(1))) as i128;
        if self.next() & 1 == 1 { -v } else { v }
    }
}

#[test]
fn octet_string_round_trip_and_sizes() {
    let b = hex("0123456789abcdef00");
    assert_eq!(b.convert_to_octet_string().unwrap(), [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00]);
    assert_eq!(b.get_bit_count(), 65);
    // Zero is no bytes; leading zeros are dropped.
    assert!(BigInt::new(64).convert_to_octet_string().unwrap().is_empty());
    let mut z = BigInt::new(32);
    z.convert_from_octet_string(&[0, 0, 0, 0, 0, 0, 0x12], 1).unwrap();
    assert_eq!(z.convert_to_octet_string().unwrap(), [0x12]);
    // The declared size bounds what fits: 64 bits hold 8 bytes, not 9.
    let mut small = BigInt::new(64);
    small.convert_from_octet_string(&[0xff; 8], 1).unwrap();
    assert_eq!(small.convert_from_octet_string(&[1; 9], 1).unwrap_err().kind(), ErrorKind::Overflow);
    // A failed conversion leaves the value alone.
    assert_eq!(small.convert_to_octet_string().unwrap(), [0xff; 8]);
    // Negative sign: magnitude out, sign kept.
    let mut n = BigInt::new(64);
    n.convert_from_octet_string(&[0x01, 0x00], -1).unwrap();
    assert_eq!(n.compare_s32(-256), 0);
    assert_eq!(n.convert_to_octet_string().unwrap(), [0x01, 0x00]);
    assert_eq!(BigInt::size_in_u32(2048), 66);
}

#[test]
#[should_panic(expected = "too large")]
fn oversized_bigint_panics() {
    let _ = BigInt::new(2048 * 8 + 1);
}

#[test]
fn s32_conversions() {
    for v in [0, 1, -1, 42, -42, i32::MAX, i32::MIN] {
        let mut b = BigInt::new(32);
        b.convert_from_s32(v);
        assert_eq!(b.convert_to_s32().unwrap(), v);
        assert_eq!(b.compare_s32(v), 0);
    }
    assert_eq!(big(1 << 31).convert_to_s32().unwrap_err().kind(), ErrorKind::Overflow);
    assert_eq!(big(-(1 << 31) - 1).convert_to_s32().unwrap_err().kind(), ErrorKind::Overflow);
    assert_eq!(big(1 << 40).convert_to_s32().unwrap_err().kind(), ErrorKind::Overflow);
}

#[test]
fn compare() {
    assert_eq!(big(5).compare_big_int(&big(7)), -1);
    assert_eq!(big(7).compare_big_int(&big(7)), 0);
    assert_eq!(big(-7).compare_big_int(&big(5)), -1);
    assert_eq!(big(-5).compare_big_int(&big(-7)), 1);
    assert_eq!(hex("0100000000000000000000").compare_s32(i32::MAX), 1);
    assert!(big(-3) < big(2));
}

#[test]
fn bits_and_shifts() {
    let b = big(0b1011_0000);
    assert!(b.get_bit(4) && b.get_bit(5) && !b.get_bit(6) && b.get_bit(7) && !b.get_bit(0));
    assert!(!b.get_bit(1000));
    assert_eq!(b.get_bit_count(), 8);
    assert_eq!(BigInt::new(32).get_bit_count(), 0);
    // Bit functions look at the magnitude.
    assert!(big(-1).get_bit(0));
    assert_eq!(big(-255).get_bit_count(), 8);

    let mut d = BigInt::new(64);
    d.shift_right(&big(-5), 1);
    assert_eq!(val(&d), -2, "rounds toward zero like mbedtls");
    d.shift_right(&big(0x1234_5678_9abc), 12);
    assert_eq!(val(&d), 0x1_2345_6789);
    d.shift_right(&big(7), 200);
    assert_eq!(val(&d), 0);

    let mut s = BigInt::new(64);
    s.set_bit(63, true).unwrap();
    s.set_bit(0, true).unwrap();
    assert_eq!(s.convert_to_octet_string().unwrap(), [0x80, 0, 0, 0, 0, 0, 0, 1]);
    s.set_bit(63, false).unwrap();
    assert_eq!(val(&s), 1);
    assert_eq!(s.set_bit(64, true).unwrap_err().kind(), ErrorKind::Overflow);
}

#[test]
fn assign_abs_neg() {
    let mut small = BigInt::new(32);
    assert_eq!(small.assign(&hex("010000000000")).unwrap_err().kind(), ErrorKind::Overflow);
    small.assign(&big(-77)).unwrap();
    assert_eq!(val(&small), -77);
    assert_eq!(val(&small.abs().unwrap()), 77);
    assert_eq!(val(&BigInt::neg(&small)), 77);
    assert_eq!(val(&BigInt::neg(&big(0))), 0);
}

#[test]
fn arithmetic_known_answers() {
    assert_eq!(val(&BigInt::add(&big(i64::MAX as i128), &big(1))), 1i128 << 63);
    assert_eq!(val(&BigInt::sub(&big(5), &big(12))), -7);
    assert_eq!(val(&BigInt::multiply(&big(-12345), &big(6789))), -83810205);
    assert_eq!(val(&BigInt::square(&big(-1 << 40))), 1 << 80);
    // Division truncates; the remainder has the dividend's sign.
    let (q, r) = BigInt::divide(&big(-7), &big(2));
    assert_eq!((val(&q), val(&r)), (-3, -1));
    let (q, r) = BigInt::divide(&big(7), &big(-2));
    assert_eq!((val(&q), val(&r)), (-3, 1));
    let (q, r) = BigInt::divide(&big(3), &big(10));
    assert_eq!((val(&q), val(&r)), (0, 3));
    // Residues are in [0, n).
    assert_eq!(val(&BigInt::module(&big(-7), &big(5))), 3);
    assert_eq!(val(&BigInt::add_mod(&big(4), &big(3), &big(5))), 2);
    assert_eq!(val(&BigInt::sub_mod(&big(1), &big(3), &big(5))), 3);
    assert_eq!(val(&BigInt::mul_mod(&big(4), &big(4), &big(7))), 2);
    assert_eq!(val(&BigInt::square_mod(&big(-3), &big(7))), 2);
    assert_eq!(val(&BigInt::inv_mod(&big(3), &big(11))), 4);
    assert_eq!(val(&BigInt::inv_mod(&big(-3), &big(11))), 7);
}

#[test]
fn randomized_against_i128() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..3000 {
        let (a, b) = (rng.small(), rng.small());
        assert_eq!(val(&BigInt::add(&big(a), &big(b))), a + b);
        assert_eq!(val(&BigInt::sub(&big(a), &big(b))), a - b);
        assert_eq!(val(&BigInt::multiply(&big(a), &big(b))), a * b);
        assert_eq!(big(a).compare_big_int(&big(b)), a.cmp(&b) as i32);
        if b != 0 {
            let (q, r) = BigInt::divide(&big(a), &big(b));
            assert_eq!((val(&q), val(&r)), (a / b, a % b), "{a} / {b}");
        }
        let n = b.abs();
        if n >= 2 {
            let n_big = big(n);
            assert_eq!(val(&BigInt::module(&big(a), &n_big)), a.rem_euclid(n));
            assert_eq!(val(&BigInt::mul_mod(&big(a), &big(a >> 3), &n_big)), (a * (a >> 3)).rem_euclid(n));
            assert_eq!(val(&BigInt::sub_mod(&big(a), &big(b), &n_big)), (a - b).rem_euclid(n));
        }
        let (g, u, v) = BigInt::compute_extended_gcd(&big(a), &big(b));
        let (g, u, v) = (val(&g), val(&u), val(&v));
        assert_eq!(u * a + v * b, g, "egcd({a}, {b})");
        assert_eq!(g, gcd(a.unsigned_abs(), b.unsigned_abs()) as i128);
        assert_eq!(BigInt::relative_prime(&big(a), &big(b)), g == 1);
        let shift = (rng.next() % 70) as usize;
        let mut d = BigInt::new(64);
        d.shift_right(&big(a), shift);
        let expect = if shift >= 127 { 0 } else { a.signum() * (a.abs() >> shift) };
        assert_eq!(val(&d), expect);
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[test]
fn extended_gcd_edge_cases() {
    let (g, u, v) = BigInt::compute_extended_gcd(&big(240), &big(46));
    assert_eq!(val(&g), 2);
    assert_eq!(val(&u) * 240 + val(&v) * 46, 2);
    // Equal operands: gcd = op, u = 1, v = 0 (as upstream).
    let (g, u, v) = BigInt::compute_extended_gcd(&big(9), &big(9));
    assert_eq!((val(&g), val(&u), val(&v)), (9, 1, 0));
    let (g, u, v) = BigInt::compute_extended_gcd(&big(0), &big(-5));
    assert_eq!(val(&g), 5);
    assert_eq!((val(&u), val(&v)), (0, -1));
}

/// 2^127 - 1, a Mersenne prime.
const M127: &str = "7fffffffffffffffffffffffffffffff";

#[test]
fn exp_mod() {
    let ctx = BigIntFMMContext::new(16, big(497)).unwrap();
    assert_eq!(val(&BigInt::exp_mod(&big(4), &big(13), &big(497), &ctx).unwrap()), 445);
    assert_eq!(val(&BigInt::exp_mod(&big(-4), &big(3), &big(497), &ctx).unwrap()), (-64i128).rem_euclid(497));
    assert_eq!(val(&BigInt::exp_mod(&big(5), &big(0), &big(497), &ctx).unwrap()), 1);
    // Fermat: a^(p-1) = 1 mod p.
    let p = hex(M127);
    let pm1 = BigInt::sub(&p, &big(1));
    let ctx = BigIntFMMContext::new(127, p.clone()).unwrap();
    assert_eq!(BigInt::exp_mod(&big(3), &pm1, &p, &ctx).unwrap().compare_s32(1), 0);
    // An even modulus is not supported (upstream uses Montgomery).
    assert_eq!(BigInt::exp_mod(&big(3), &big(5), &big(100), &ctx).unwrap_err().kind(), ErrorKind::NotSupported);
}

#[test]
fn primality() {
    let p = hex(M127);
    assert_eq!(p.is_probable_prime(0), 1);
    for q in [2, 3, 5, 97, 101, 65537, 2147483647] {
        assert_eq!(big(q).is_probable_prime(80), 1, "{q}");
    }
    // 2^127 + 1 (divisible by 3), Carmichael numbers, a semiprime of two
    // Mersenne primes, 0, 1.
    let c = BigInt::add(&p, &big(2));
    assert_eq!(c.is_probable_prime(80), 0);
    for n in [0, 1, 4, 561, 41041, 825265, 321197185, 9] {
        assert_eq!(big(n).is_probable_prime(80), 0, "{n}");
    }
    let semi = BigInt::multiply(&big((1 << 61) - 1), &big((1 << 31) - 1));
    assert_eq!(semi.is_probable_prime(80), 0);
    let strong_pseudoprime_base2 = big(3215031751);
    assert_eq!(strong_pseudoprime_base2.is_probable_prime(80), 0);
}

#[test]
fn fmm_matches_mul_mod() {
    let n = hex(M127);
    let ctx = BigIntFMMContext::new(127, n.clone()).unwrap();
    let (a, b) = (hex("0123456789abcdef0123456789abcdef"), hex("fedcba9876543210fedcba98"));
    let (mut fa, mut fb, mut fr) = (BigIntFMM::new(127), BigIntFMM::new(127), BigIntFMM::new(127));
    fa.convert_from_big_int(&a, &n, &ctx);
    fb.convert_from_big_int(&b, &n, &ctx);
    fr.compute_fmm(&fa, &fb, &n, &ctx);
    let mut r = BigInt::new(127);
    r.convert_to_big_int_from_fmm(&fr, &n, ctx.clone());
    assert_eq!(r, BigInt::mul_mod(&a, &b, &n));
    assert_eq!(ctx.bits(), 127);
}

#[test]
#[should_panic(expected = "modulus is too short")]
fn modulus_one_panics() {
    let _ = BigInt::module(&big(5), &big(1));
}

#[test]
#[should_panic(expected = "division by zero")]
fn division_by_zero_panics() {
    let _ = BigInt::divide(&big(5), &big(0));
}

#[test]
#[should_panic(expected = "no inverse")]
fn non_invertible_panics() {
    let _ = BigInt::inv_mod(&big(6), &big(9));
}

#[test]
#[should_panic(expected = "too small modulus")]
fn exp_mod_small_modulus_panics() {
    let ctx = BigIntFMMContext::new(2, big(2)).unwrap();
    let _ = BigInt::exp_mod(&big(3), &big(5), &big(2), &ctx);
}

#[test]
fn display() {
    assert_eq!(std::format!("{}", big(-0x1f0)), "-0x1f0");
    assert_eq!(std::format!("{}", big(0)), "0x0");
}
