//! The campaign's deterministic random numbers: SplitMix64, so a run is
//! reproduced from its seed, and every case from (seed, CPU, case index)
//! alone, whatever the other CPUs did.

#[derive(Clone)]
pub struct Rng(u64);

/// One SplitMix64 step: a bijective mix of `x`.
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator of case `index` on `cpu` for a campaign seeded `seed`.
    pub fn for_case(seed: u64, cpu: usize, index: u64) -> Rng {
        Rng(mix(seed ^ mix((cpu as u64) << 56 ^ index)))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (n > 0); the tiny modulo bias does not matter here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }

    /// An index chosen by `weights`.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| *w as u64).sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < *w as u64 {
                return i;
            }
            r -= *w as u64;
        }
        weights.len() - 1
    }

    /// A value biased towards the edges parsers get wrong: 0, 1, powers of
    /// two and their neighbours, all-ones, sign bits, then anything.
    pub fn edgy(&mut self) -> u64 {
        match self.below(8) {
            0 => self.pick(&[0, 1, 2, u64::MAX, u64::MAX - 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff]),
            1 => 1u64 << self.below(64),
            2 => (1u64 << self.below(64)).wrapping_sub(1),
            3 => (1u64 << self.below(64)).wrapping_add(1),
            4 => self.below(256),
            5 => self.next() & 0xffff_ffff,
            6 => self.next() | 1 << 63,
            _ => self.next(),
        }
    }
}
