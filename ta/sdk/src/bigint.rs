//! GP's arithmetical API (`TEE_BigInt*`) in the shape of Teaclave's
//! `optee-utee` `BigInt`, `BigIntFMM` and `BigIntFMMContext`: signed
//! integers of a declared size, in safe Rust over `num-bigint-dig`. As in
//! upstream libutee (which computes these in user space too), values
//! behave like mbedtls MPIs: division truncates toward zero, the modular
//! functions answer in `[0, n)`, bit functions look at the magnitude, and
//! a programming error GP leaves undefined (a modulus below 2, a division
//! by zero, inverting a non-invertible value) panics the TA.
//!
//! A `BigInt` made with [`BigInt::new`] holds values up to its declared
//! size: the conversions and [`BigInt::set_bit`]/[`BigInt::assign`]
//! into it answer `Overflow` beyond that, as GP's fixed-size arrays do.
//! Results of the arithmetic functions are sized to fit (Teaclave sizes
//! them the same way). The functions are not constant time.

use crate::{Error, ErrorKind, Result};
use alloc::vec;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use num_bigint_dig::{BigInt as Int, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

/// Teaclave's storage unit names (GP's arrays are of `uint32_t`).
pub type BigIntUnit = u32;
pub type BigIntFMMUnit = u32;
pub type BigIntFMMContextUnit = u32;

/// The panic code upstream libutee raises for arithmetic misuse.
const BIGINT_PANIC: u32 = 0x00B1_6127;

/// Largest size in 32-bit words `TEE_BigIntInit` accepts (upstream:
/// `CFG_TA_BIGNUM_MAX_BITS / 4` words with its default of 2048 bits).
const MAX_WORDS: u32 = 2048 / 4;

/// Stops the TA (`TEE_Panic`) for a misuse of the API; in the host
/// tests, an ordinary panic.
fn misuse(what: &str) -> ! {
    crate::bigint_panic(BIGINT_PANIC, what)
}

/// A signed integer of a declared maximum size (`TEE_BigInt`).
#[derive(Clone, PartialEq, Eq)]
pub struct BigInt {
    value: Int,
    /// Capacity in bits (a multiple of 32).
    cap_bits: u32,
}

// `add`, `sub`, `neg` are GP's (and Teaclave's) names, not operator impls.
#[allow(clippy::should_implement_trait)]
impl BigInt {
    /// `TEE_BigIntSizeInU32`: words of GP's array for `size` bits.
    pub fn size_in_u32(size: u32) -> u32 {
        size.div_ceil(32) + 2
    }

    /// `TEE_BigIntInit`: zero, holding up to `bits` bits. Panics beyond
    /// the implementation's maximum (16320 bits, as upstream's default).
    pub fn new(bits: u32) -> Self {
        if Self::size_in_u32(bits) > MAX_WORDS {
            misuse("BigInt too large");
        }
        BigInt { value: Int::zero(), cap_bits: bits.div_ceil(32) * 32 }
    }

    fn sized(value: Int, bits: u32) -> Self {
        let need = value.bits() as u32;
        BigInt { value, cap_bits: bits.max(need).max(1).div_ceil(32) * 32 }
    }

    /// Stores `value` if it fits the declared size.
    fn store(&mut self, value: Int) -> Result<()> {
        if value.bits() > self.cap_bits as usize {
            return Err(ErrorKind::Overflow.into());
        }
        self.value = value;
        Ok(())
    }

    fn store_or_panic(&mut self, value: Int) {
        if self.store(value).is_err() {
            misuse("result does not fit the destination");
        }
    }

    /// `TEE_BigIntConvertFromOctetString`: the big-endian magnitude in
    /// `buffer`, negative if `sign < 0`. `Overflow` if it does not fit.
    pub fn convert_from_octet_string(&mut self, buffer: &[u8], sign: i32) -> Result<()> {
        let s = if sign < 0 { Sign::Minus } else { Sign::Plus };
        self.store(Int::from_bytes_be(s, buffer))
    }

    /// `TEE_BigIntConvertToOctetString`: the magnitude, big-endian, in as
    /// few bytes as it needs (none for zero).
    pub fn convert_to_octet_string(&self) -> Result<Vec<u8>> {
        if self.value.is_zero() {
            return Ok(Vec::new());
        }
        Ok(mag(&self.value).to_bytes_be())
    }

    /// `TEE_BigIntConvertFromS32`.
    pub fn convert_from_s32(&mut self, short_val: i32) {
        self.store_or_panic(Int::from(short_val));
    }

    /// `TEE_BigIntConvertToS32`: `Overflow` outside `i32`.
    pub fn convert_to_s32(&self) -> Result<i32> {
        let mag = mag(&self.value);
        if mag.bits() > 32 {
            return Err(ErrorKind::Overflow.into());
        }
        let m: i64 = mag.to_bytes_be().iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b));
        let v = if self.value.is_negative() { -m } else { m };
        i32::try_from(v).map_err(|_| Error::new(ErrorKind::Overflow))
    }

    /// `TEE_BigIntCmp`: negative, zero or positive as `self` is less than,
    /// equal to or greater than `target`.
    pub fn compare_big_int(&self, target: &Self) -> i32 {
        ordering(self.value.cmp(&target.value))
    }

    /// `TEE_BigIntCmpS32`.
    pub fn compare_s32(&self, target: i32) -> i32 {
        ordering(self.value.cmp(&Int::from(target)))
    }

    /// `TEE_BigIntShiftRight`: `self = op >> bits`, the magnitude shifted
    /// and the sign kept (so it rounds toward zero).
    pub fn shift_right(&mut self, op: &Self, bits: usize) {
        let mag = mag(&op.value) >> bits;
        self.store_or_panic(Int::from_biguint(op.value.sign(), mag));
    }

    /// `TEE_BigIntGetBit`: bit `bit_index` of the magnitude.
    pub fn get_bit(&self, bit_index: u32) -> bool {
        ((mag(&self.value) >> bit_index as usize) & BigUint::one()) == BigUint::one()
    }

    /// `TEE_BigIntGetBitCount`: bits in the magnitude (0 for zero).
    pub fn get_bit_count(&self) -> u32 {
        self.value.bits() as u32
    }

    /// `TEE_BigIntSetBit`: sets or clears bit `bit_index` of the
    /// magnitude; `Overflow` beyond the declared size.
    pub fn set_bit(&mut self, bit_index: u32, set: bool) -> Result<()> {
        let bit = BigUint::one() << bit_index as usize;
        let mag = mag(&self.value);
        let has = (&mag & &bit) == bit;
        let mag = match (set, has) {
            (true, false) => mag | bit,
            (false, true) => mag ^ bit,
            _ => mag,
        };
        let sign = if self.value.is_negative() { Sign::Minus } else { Sign::Plus };
        self.store(Int::from_biguint(sign, mag))
    }

    /// `TEE_BigIntAbs`.
    pub fn abs(&self) -> Result<Self> {
        Ok(Self::sized(self.value.abs(), self.cap_bits))
    }

    /// `TEE_BigIntAssign`: copies `op2`'s value; `Overflow` if it does not
    /// fit.
    pub fn assign(&mut self, op2: &Self) -> Result<()> {
        self.store(op2.value.clone())
    }

    /// `TEE_BigIntAdd`.
    pub fn add(op1: &Self, op2: &Self) -> Self {
        let bits = op1.get_bit_count().max(op2.get_bit_count()) + 1;
        Self::sized(&op1.value + &op2.value, bits)
    }

    /// `TEE_BigIntSub`.
    pub fn sub(op1: &Self, op2: &Self) -> Self {
        let bits = op1.get_bit_count().max(op2.get_bit_count()) + 1;
        Self::sized(&op1.value - &op2.value, bits)
    }

    /// `TEE_BigIntNeg`.
    pub fn neg(op: &Self) -> Self {
        Self::sized(-&op.value, op.get_bit_count())
    }

    /// `TEE_BigIntMul`.
    pub fn multiply(op1: &Self, op2: &Self) -> Self {
        Self::sized(&op1.value * &op2.value, op1.get_bit_count() + op2.get_bit_count())
    }

    /// `TEE_BigIntSquare`.
    pub fn square(op: &Self) -> Self {
        Self::sized(&op.value * &op.value, 2 * op.get_bit_count())
    }

    /// `TEE_BigIntDiv`: (quotient, remainder), the quotient truncated
    /// toward zero and the remainder with the dividend's sign. Panics on
    /// division by zero.
    pub fn divide(op1: &Self, op2: &Self) -> (Self, Self) {
        if op2.value.is_zero() {
            misuse("division by zero");
        }
        let (q, r) = op1.value.div_rem(&op2.value);
        let q_bits = op1.get_bit_count().saturating_sub(op2.get_bit_count()) + 1;
        (Self::sized(q, q_bits), Self::sized(r, op2.get_bit_count()))
    }

    /// The modulus of the `*_mod` functions, checked as upstream does.
    fn modulus(n: &Self) -> &Int {
        if n.value < Int::from(2) {
            misuse("modulus is too short");
        }
        &n.value
    }

    /// `TEE_BigIntMod`: `op mod n` in `[0, n)`; panics if `n < 2`.
    pub fn module(op: &Self, n: &Self) -> Self {
        let m = Self::modulus(n);
        Self::sized(op.value.mod_floor(m), n.get_bit_count())
    }

    /// `TEE_BigIntAddMod`.
    pub fn add_mod(op1: &Self, op2: &Self, n: &Self) -> Self {
        let m = Self::modulus(n);
        Self::sized((&op1.value + &op2.value).mod_floor(m), n.get_bit_count())
    }

    /// `TEE_BigIntSubMod`.
    pub fn sub_mod(op1: &Self, op2: &Self, n: &Self) -> Self {
        let m = Self::modulus(n);
        Self::sized((&op1.value - &op2.value).mod_floor(m), n.get_bit_count())
    }

    /// `TEE_BigIntMulMod`.
    pub fn mul_mod(op1: &Self, op2: &Self, n: &Self) -> Self {
        let m = Self::modulus(n);
        Self::sized((&op1.value * &op2.value).mod_floor(m), n.get_bit_count())
    }

    /// `TEE_BigIntSquareMod`.
    pub fn square_mod(op: &Self, n: &Self) -> Self {
        Self::mul_mod(op, op, n)
    }

    /// `TEE_BigIntInvMod`: `op⁻¹ mod n`. Panics if `n < 2`, `op` is zero
    /// or has no inverse.
    pub fn inv_mod(op: &Self, n: &Self) -> Self {
        if n.value < Int::from(2) || op.value.is_zero() {
            misuse("too small modulus or inverting zero");
        }
        let a = op.value.mod_floor(&n.value);
        let (g, u, _) = egcd(&a, &n.value);
        if !g.is_one() {
            misuse("no inverse");
        }
        Self::sized(u.mod_floor(&n.value), n.get_bit_count())
    }

    /// `TEE_BigIntExpMod`: `op1^op2 mod n`. `NotSupported` for an even
    /// `n` (as upstream); panics if `n <= 2` or `op2 < 0`.
    pub fn exp_mod(op1: &Self, op2: &Self, n: &Self, context: &BigIntFMMContext) -> Result<Self> {
        let _ = context;
        if n.value <= Int::from(2) {
            misuse("too small modulus");
        }
        if n.value.is_even() {
            return Err(ErrorKind::NotSupported.into());
        }
        if op2.value.is_negative() {
            misuse("negative exponent");
        }
        let base = mag(&op1.value.mod_floor(&n.value));
        let r = base.modpow(&mag(&op2.value), &mag(&n.value));
        Ok(Self::sized(Int::from_biguint(Sign::Plus, r), n.get_bit_count()))
    }

    /// `TEE_BigIntRelativePrime`: whether gcd(op1, op2) is 1.
    pub fn relative_prime(op1: &Self, op2: &Self) -> bool {
        op1.value.gcd(&op2.value).is_one()
    }

    /// `TEE_BigIntComputeExtendedGcd`: (gcd, u, v) with
    /// `u·op1 + v·op2 = gcd`, the gcd non-negative.
    pub fn compute_extended_gcd(op1: &Self, op2: &Self) -> (Self, Self, Self) {
        let bits = op1.get_bit_count().max(op2.get_bit_count()).max(1);
        let (a, b) = (op1.value.abs(), op2.value.abs());
        let (g, mut u, mut v) = match a.cmp(&b) {
            Ordering::Equal => (a, Int::one(), Int::zero()),
            Ordering::Greater => egcd(&a, &b),
            Ordering::Less => {
                let (g, v, u) = egcd(&b, &a);
                (g, u, v)
            }
        };
        if op1.value.is_negative() {
            u = -u;
        }
        if op2.value.is_negative() {
            v = -v;
        }
        (Self::sized(g, bits), Self::sized(u, bits), Self::sized(v, bits))
    }

    /// `TEE_BigIntIsProbablePrime`: 0 if composite, 1 if prime with
    /// probability at least 1 - 2^-`confidence_level` (at least 80
    /// Miller-Rabin rounds with random bases, as upstream).
    pub fn is_probable_prime(&self, confidence_level: u32) -> i32 {
        let rounds = confidence_level.max(80);
        if is_probable_prime(&mag(&self.value), rounds, &mut crate::bigint_random) { 1 } else { 0 }
    }

    /// `TEE_BigIntConvertFromFMM`: the plain value of `src`.
    pub fn convert_to_big_int_from_fmm(&mut self, src: &BigIntFMM, n: &BigInt, context: impl Borrow<BigIntFMMContext>) {
        let _ = (n, context.borrow());
        self.store_or_panic(src.0.value.clone());
    }
}

/// Extended Euclid on non-negative `a`, `b`: (g, u, v) with
/// `u·a + v·b = g = gcd(a, b)`.
fn egcd(a: &Int, b: &Int) -> (Int, Int, Int) {
    let (mut r0, mut r1) = (a.clone(), b.clone());
    let (mut s0, mut s1) = (Int::one(), Int::zero());
    let (mut t0, mut t1) = (Int::zero(), Int::one());
    while !r1.is_zero() {
        let (q, r) = r0.div_rem(&r1);
        r0 = core::mem::replace(&mut r1, r);
        let s = &s0 - &q * &s1;
        s0 = core::mem::replace(&mut s1, s);
        let t = &t0 - &q * &t1;
        t0 = core::mem::replace(&mut t1, t);
    }
    (r0, s0, t0)
}

/// |v|.
fn mag(v: &Int) -> BigUint {
    v.abs().to_biguint().unwrap_or_default()
}

fn ordering(o: Ordering) -> i32 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

const SMALL_PRIMES: [u32; 25] =
    [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97];

/// Miller-Rabin with `rounds` random bases drawn with `random`.
pub(crate) fn is_probable_prime(n: &BigUint, rounds: u32, random: &mut dyn FnMut(&mut [u8])) -> bool {
    let two = BigUint::from(2u32);
    if *n < two {
        return false;
    }
    for p in SMALL_PRIMES {
        let p = BigUint::from(p);
        if *n == p {
            return true;
        }
        if (n % &p).is_zero() {
            return false;
        }
    }
    let n1 = n - 1u32;
    let s = trailing_zeros(&n1);
    let d = &n1 >> s;
    let span = n - 3u32; // bases in [2, n - 2]
    let mut bytes = vec![0u8; n.bits().div_ceil(8) + 8];
    'rounds: for _ in 0..rounds {
        random(&mut bytes);
        let a = BigUint::from_bytes_be(&bytes) % &span + &two;
        let mut x = a.modpow(&d, n);
        if x.is_one() || x == n1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n1 {
                continue 'rounds;
            }
        }
        return false;
    }
    true
}

fn trailing_zeros(v: &BigUint) -> usize {
    let mut n = 0;
    while !(v >> n & BigUint::one()).is_one() {
        n += 1;
    }
    n
}

impl PartialOrd for BigInt {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigInt {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value.cmp(&other.value)
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_negative() {
            f.write_str("-")?;
        }
        f.write_str("0x")?;
        let bytes = mag(&self.value).to_bytes_be();
        if bytes.is_empty() {
            return f.write_str("0");
        }
        for (i, b) in bytes.iter().enumerate() {
            if i == 0 { write!(f, "{b:x}")? } else { write!(f, "{b:02x}")? }
        }
        Ok(())
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The context of fast modular multiplication (`TEE_BigIntFMMContext`).
/// Upstream's FMM representation is the plain residue, so the context
/// holds nothing beyond its size.
#[derive(Clone, Debug)]
pub struct BigIntFMMContext(u32);

impl BigIntFMMContext {
    /// `TEE_BigIntInitFMMContext1` for `modulus` of up to `bits` bits.
    /// `NotSupported` for an even or too small modulus is left to
    /// [`BigInt::exp_mod`], as upstream does.
    pub fn new(bits: u32, modulus: BigInt) -> Result<Self> {
        let _ = modulus;
        Ok(BigIntFMMContext(bits))
    }

    /// The modulus size the context was made for, in bits.
    pub fn bits(&self) -> u32 {
        self.0
    }
}

/// A value in FMM representation (`TEE_BigIntFMM`).
#[derive(Clone, Debug)]
pub struct BigIntFMM(BigInt);

impl BigIntFMM {
    /// `TEE_BigIntInitFMM`: zero, for a modulus of up to `bits` bits.
    pub fn new(bits: u32) -> Self {
        BigIntFMM(BigInt::new(bits))
    }

    /// `TEE_BigIntConvertToFMM`: `src mod n`.
    pub fn convert_from_big_int(&mut self, src: &BigInt, n: &BigInt, context: impl Borrow<BigIntFMMContext>) {
        let _ = context.borrow();
        let r = BigInt::module(src, n);
        self.0.store_or_panic(r.value);
    }

    /// `TEE_BigIntComputeFMM`: `op1 · op2 mod n`.
    pub fn compute_fmm(
        &mut self,
        op1: &BigIntFMM,
        op2: &BigIntFMM,
        n: &BigInt,
        context: impl Borrow<BigIntFMMContext>,
    ) {
        let _ = context.borrow();
        let r = BigInt::mul_mod(&op1.0, &op2.0, n);
        self.0.store_or_panic(r.value);
    }
}
