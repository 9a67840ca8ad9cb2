//! What the random TA and its clients agree on, and a check a client can
//! make of what it got: not a statistical test suite, a guard against the
//! mistakes that matter in an example (an unfilled buffer, a constant, a
//! counter).
#![no_std]
#![forbid(unsafe_code)]

pub const UUID: &str = "ea61d3cf-9023-4f37-8bd2-835f6d5c4dab";

/// p0 memref out: filled with random bytes from the TEE
/// (`TEE_GenerateRandom`); at most [`MAX_LEN`] bytes, else
/// `TEE_ERROR_BAD_PARAMETERS`.
pub const CMD_GENERATE: u32 = 0;

/// The largest request the TA serves.
pub const MAX_LEN: usize = 4096;

/// Checks `buf` (at least 1024 bytes) looks random: about as many one
/// bits as zero bits (within 4 standard deviations), most byte values
/// present, and no counting pattern. The first test failed, if any.
pub fn looks_random(buf: &[u8]) -> Result<(), &'static str> {
    let n = buf.len();
    if n < 1024 {
        return Err("too short to judge (want at least 1024 bytes)");
    }
    let bits = 8 * n as u64;
    let ones: u64 = buf.iter().map(|b| u64::from(b.count_ones())).sum();
    // |ones - bits/2| <= 4 * sqrt(bits)/2, squared to stay in integers.
    let dev = ones.abs_diff(bits / 2);
    if 4 * dev * dev > 16 * bits {
        return Err("ones and zeros are unbalanced");
    }
    let mut seen = [false; 256];
    for &b in buf {
        seen[b as usize] = true;
    }
    // 1024 random bytes leave about 4 of the 256 values out.
    if seen.iter().filter(|&&s| s).count() < 200 {
        return Err("too few distinct byte values");
    }
    let steps = buf.windows(2).filter(|w| w[1] == w[0].wrapping_add(1) || w[1] == w[0]).count();
    // Expected about 2n/256.
    if steps > n / 32 + 8 {
        return Err("bytes repeat or count up");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    /// xorshift64*, a fine stand-in for random bytes here.
    fn pseudo_random(seed: u64, out: &mut [u8]) {
        let mut x = seed;
        for b in out {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            *b = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
    }

    #[test]
    fn random_bytes_pass() {
        for seed in 1..20 {
            let mut buf = [0u8; MAX_LEN];
            pseudo_random(seed, &mut buf);
            assert_eq!(looks_random(&buf), Ok(()), "seed {seed}");
            assert_eq!(looks_random(&buf[..1024]), Ok(()), "seed {seed}");
        }
    }

    #[test]
    fn the_usual_mistakes_fail() {
        let zeros = [0u8; 2048];
        assert_eq!(looks_random(&zeros), Err("ones and zeros are unbalanced"));
        // Balanced bits, one value.
        assert_eq!(looks_random(&[0x55; 2048]), Err("too few distinct byte values"));
        let mut counter = [0u8; 2048];
        for (i, b) in counter.iter_mut().enumerate() {
            *b = i as u8;
        }
        assert_eq!(looks_random(&counter), Err("bytes repeat or count up"));
        // Half filled.
        let mut half = [0u8; 2048];
        pseudo_random(7, &mut half[..1024]);
        assert!(looks_random(&half).is_err());
        assert!(looks_random(&[1, 2, 3]).is_err());
    }

    #[test]
    fn uuid_is_well_formed() {
        assert_eq!(oxtee_teec::Uuid::parse(UUID).map(|u| u.to_string()).as_deref(), Some(UUID));
    }
}
